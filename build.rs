//! With the `emu` feature (which `cargo test` turns on, see Cargo.toml): compiles every
//! `kernels/*.cu` for the CPU, unmodified, as C++20 with the shim `kernels/emu/cuda_emu.h` and
//! the fiber runtime `kernels/emu/runtime.cpp` (docs/kernels.md, "Emulated execution"), plus
//! mutants from `kernels/emu/mutants.rs` — copies of the sources with one bug each, under their
//! own names: the planted ones always (`tests/emu.rs` `emu_mutants_are_caught` must see them
//! fail), all of them when `AIM_EMU_MUTANTS=all` (`.ci/mutants.sh`, the mutation score). A mutant
//! whose text no longer occurs exactly once is not built and is reported as stale by the score,
//! never counted as caught. Needs a C++20 compiler (g++ ≥ 10 or clang++ ≥ 10) that accepts
//! -fsanitize=thread, nothing from CUDA. Without the feature it does nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

// The mutation list (`MUTANT_SPECS`), shared with tests/emu.rs.
include!("kernels/emu/mutants.rs");

/// The kernel sources and the table each one's emulator translation unit defines.
const SOURCES: &[&str] = &["merge", "pagerank", "attention", "layers"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=kernels");
    println!("cargo:rerun-if-env-changed=AIM_EMU_MUTANTS");
    if std::env::var_os("CARGO_FEATURE_EMU").is_none() {
        return;
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let kernels = root.join("kernels");
    let emu = kernels.join("emu");

    // Two libraries: the runtime (plain) and the kernel sources, instrumented with
    // -fsanitize=thread so that the compiler calls the runtime's __tsan_* hooks before every
    // memory access (the race, initialisation and bounds checks; no ThreadSanitizer runtime is
    // linked), with line tables (-g1) for the reports.
    let new_build = || {
        let mut b = cc::Build::new();
        b.cpp(true)
            .warnings(false)
            .opt_level(2)
            .debug(false)
            .include(&emu)
            .include(&kernels);
        b
    };
    let mut runtime = new_build();
    let mut build = new_build();
    if !build.is_flag_supported("-std=c++20").unwrap_or(false) {
        panic!(
            "the CUDA emulator (feature `emu`, on for `cargo test`) needs a C++20 compiler: {:?} does not accept -std=c++20. \
             Install g++ >= 10 (or clang++ >= 10) or point CXX at one.",
            build.get_compiler().path()
        );
    }
    if !build
        .is_flag_supported("-fsanitize=thread")
        .unwrap_or(false)
    {
        panic!(
            "the CUDA emulator's checks need -fsanitize=thread instrumentation: {:?} does not accept it. \
             Install g++ >= 10 (or clang++ >= 10) or point CXX at one.",
            build.get_compiler().path()
        );
    }
    for flag in [
        "-std=c++20",
        "-pthread",
        // The kernels' own arithmetic, evaluated in the written order (no FMA contraction, which
        // a host compiler may otherwise apply differently from NVRTC).
        "-ffp-contract=off",
        // layers.cu reads float/bf16 arrays as uint4, as CUDA allows.
        "-fno-strict-aliasing",
        "-Wno-unknown-pragmas",
    ] {
        build.flag(flag);
        runtime.flag(flag);
    }
    build.flag("-fsanitize=thread").flag("-g1");
    runtime.file(emu.join("runtime.cpp"));
    build.file(emu.join("selftest.cpp"));
    let mut tables: Vec<String> = vec!["aim_emu_table_selftest".to_string()];
    for source in SOURCES {
        build.file(emu.join(format!("{source}.cpp")));
        tables.push(format!("aim_emu_table_{source}"));
    }

    // Mutants: a copy of every source in the mutant's own directory with one file mutated, and
    // `extern "C"` dropped so that its entry points live in the mutant's namespaces instead of
    // clashing with the originals. A mutant of common.cuh compiles every source; one of a .cu file
    // compiles that source only (the others fall back to the originals at launch).
    let all = std::env::var("AIM_EMU_MUTANTS").is_ok_and(|v| v == "all");
    let mutant_dir = out.join("mutants");
    std::fs::create_dir_all(&mutant_dir).expect("OUT_DIR is writable");
    let mut listing = String::from(
        "/// The mutants of kernels/emu/mutants.rs as build.rs left them, for `tests/emu.rs`.\npub const MUTANTS: &[Mutant] = &[\n",
    );
    let read = |file: &str| {
        let path = kernels.join(file);
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    };
    for m in MUTANT_SPECS {
        let text = read(m.file);
        let applies = text.matches(m.find).count() == 1;
        let compiled = applies && (m.planted || all);
        if compiled {
            let dir = mutant_dir.join(m.name);
            std::fs::create_dir_all(&dir).expect("OUT_DIR is writable");
            let mut files: Vec<&str> = SOURCES
                .iter()
                .map(|s| match *s {
                    "merge" => "merge.cu",
                    "pagerank" => "pagerank.cu",
                    "attention" => "attention.cu",
                    _ => "layers.cu",
                })
                .collect();
            files.push("common.cuh");
            for file in files {
                let original = if file == m.file {
                    text.replacen(m.find, m.replace, 1)
                } else {
                    read(file)
                };
                write_if_changed(&dir.join(file), &original.replace("extern \"C\" ", ""));
            }
            for source in SOURCES {
                if m.file != "common.cuh" && m.file != format!("{source}.cu") {
                    continue;
                }
                let unit = dir.join(format!("{source}.cpp"));
                let table = format!("aim_emu_table_mutant_{}_{source}", m.name);
                write_if_changed(
                    &unit,
                    &format!(
                        "// Generated by build.rs: kernels/{source}.cu for mutant {name} of kernels/{file}.\n\
                         #define AIM_EMU_SOURCE {cu:?}\n#define AIM_EMU_LABEL \"kernels/{source}.cu (mutant {name})\"\n\
                         #define AIM_EMU_VARIANT {name:?}\n\
                         #define AIM_EMU_NS aim_emu_mutant_{name}_{source}\n#define AIM_EMU_TABLE {table}\n\
                         #include {wrapper:?}\n",
                        name = m.name,
                        file = m.file,
                        cu = dir.join(format!("{source}.cu")).display().to_string(),
                        wrapper = emu.join(format!("{source}.cpp")).display().to_string(),
                    ),
                );
                build.file(&unit);
                tables.push(table);
            }
        } else if !applies {
            println!(
                "cargo:warning=emulator mutant {} not built: its text is no longer in kernels/{} exactly once (update kernels/emu/mutants.rs)",
                m.name, m.file
            );
        }
        let _ = writeln!(
            listing,
            "    Mutant {{ name: {:?}, file: {:?}, class: {:?}, what: {:?}, find: {:?}, replace: {:?}, planted: {}, equivalent: {:?}, applies: {applies}, compiled: {compiled} }},",
            m.name,
            format!("kernels/{}", m.file),
            m.class,
            m.what,
            m.find,
            m.replace,
            m.planted,
            m.equivalent,
        );
    }
    listing.push_str("];\n");
    write_if_changed(&out.join("emu_mutants.rs"), &listing);

    let mut registry = String::from(
        "// Generated by build.rs: every emulated translation unit.\n#include \"cuda_emu.h\"\n",
    );
    for t in &tables {
        let _ = writeln!(registry, "extern \"C\" const aim_emu::Table {t};");
    }
    registry.push_str("namespace aim_emu {\nextern const Table* const tables[];\nextern const std::size_t table_count;\nconst Table* const tables[] = {\n");
    for t in &tables {
        let _ = writeln!(registry, "    &{t},");
    }
    registry.push_str("};\nconst std::size_t table_count = sizeof tables / sizeof tables[0];\n}  // namespace aim_emu\n");
    let registry_path = out.join("emu_registry.cpp");
    write_if_changed(&registry_path, &registry);
    runtime.file(&registry_path);

    build.compile("aim_emu_kernels");
    runtime.compile("aim_emu");
}

/// Writes `text` unless the file already holds it (keeps the C++ objects' inputs' timestamps).
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
