//! With the `emu` feature (which `cargo test` turns on, see Cargo.toml): compiles every
//! `kernels/*.cu` for the CPU, unmodified, as C++20 with the shim `kernels/emu/cuda_emu.h` and
//! the fiber runtime `kernels/emu/runtime.cpp` (docs/kernels.md, "Emulated execution"), plus the
//! mutants below — copies of a source with one planted bug each, under their own names — which
//! `tests/emu.rs` (`emu_mutants_are_caught`) must see fail. Needs a C++20 compiler (g++ ≥ 10 or
//! clang++ ≥ 10), nothing from CUDA. Without the feature it does nothing.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A planted bug: `find` (which must occur exactly once in `file`) replaced by `replace`.
struct Mutant {
    name: &'static str,
    file: &'static str,
    what: &'static str,
    find: &'static str,
    replace: &'static str,
}

const MUTANTS: &[Mutant] = &[
    Mutant {
        name: "merge_rank_inverted",
        file: "merge",
        what: "merge_match ranks A tokens by ascending instead of descending best score",
        find: "rank += (other > mine || (other == mine && k < i)) ? 1 : 0;",
        replace: "rank += (other < mine || (other == mine && k < i)) ? 1 : 0;",
    },
    Mutant {
        name: "merge_copy_wrong_row",
        file: "merge",
        what: "merge_apply's copy path copies the B token next to the unmerged A token",
        find: "const T* src = frame + (long long)(2 * unm_src[(long long)f * n_unm + o]) * D;",
        replace:
            "const T* src = frame + (long long)(2 * unm_src[(long long)f * n_unm + o] + 1) * D;",
    },
    Mutant {
        name: "attn_causal_future_key",
        file: "attention",
        what: "attn_flash's causal mask admits one future key (j <= i + 1)",
        find: "s[mm] = (j <= i && i < n) ? s[mm] * scale_log2 : -AIM_INF;",
        replace: "s[mm] = (j <= i + 1 && i < n) ? s[mm] * scale_log2 : -AIM_INF;",
    },
    Mutant {
        name: "silu_sign",
        file: "layers",
        what: "SwiGLU's SiLU computes a / (1 + e^a) instead of a / (1 + e^-a)",
        find: "return a / (1.0f + expf(-a)) * b;",
        replace: "return a / (1.0f + expf(a)) * b;",
    },
    Mutant {
        name: "rmsnorm_one_percent",
        file: "layers",
        what: "RMSNorm's output is 1 % too large",
        find: "const float inv = 1.0f / sqrtf(ss / (float)width + eps);",
        replace: "const float inv = 1.01f / sqrtf(ss / (float)width + eps);",
    },
    Mutant {
        name: "importance_one_percent",
        file: "pagerank",
        what: "pagerank_rms's importance scores are 1 % too large",
        find: "score[j] = sqrtf(sum / (float)H);",
        replace: "score[j] = sqrtf(sum / (float)H) * 1.01f;",
    },
    Mutant {
        name: "compact_unbounded",
        file: "pagerank",
        what: "select_compact writes index[before] without the capacity bound",
        find: "if (flag && before < capacity) index[before] = j;",
        replace: "if (flag) index[before] = j;",
    },
];

/// The kernel sources and the table each one's emulator translation unit defines.
const SOURCES: &[&str] = &["merge", "pagerank", "attention", "layers"];

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=kernels");
    if std::env::var_os("CARGO_FEATURE_EMU").is_none() {
        return;
    }
    let root = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo"));
    let out = PathBuf::from(std::env::var("OUT_DIR").expect("set by cargo"));
    let kernels = root.join("kernels");
    let emu = kernels.join("emu");

    let mut build = cc::Build::new();
    build
        .cpp(true)
        .warnings(false)
        .opt_level(2)
        .debug(false)
        .include(&emu)
        .include(&kernels);
    if !build.is_flag_supported("-std=c++20").unwrap_or(false) {
        panic!(
            "the CUDA emulator (feature `emu`, on for `cargo test`) needs a C++20 compiler: {:?} does not accept -std=c++20. \
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
    }
    build.file(emu.join("runtime.cpp"));
    build.file(emu.join("selftest.cpp"));
    let mut tables: Vec<String> = vec!["aim_emu_table_selftest".to_string()];
    for source in SOURCES {
        build.file(emu.join(format!("{source}.cpp")));
        tables.push(format!("aim_emu_table_{source}"));
    }

    // Mutants: a mutated copy of the source, with `extern "C"` dropped so that its entry points
    // live in the mutant's namespace instead of clashing with the originals.
    let mutant_dir = out.join("mutants");
    std::fs::create_dir_all(&mutant_dir).expect("OUT_DIR is writable");
    let mut listing = String::from(
        "/// The planted bugs build.rs compiled (or could not apply), for `tests/emu.rs`.\npub const MUTANTS: &[Mutant] = &[\n",
    );
    for m in MUTANTS {
        let path = kernels.join(format!("{}.cu", m.file));
        let text =
            std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let applied = text.matches(m.find).count() == 1;
        if applied {
            let mutated = text
                .replacen(m.find, m.replace, 1)
                .replace("extern \"C\" ", "");
            let cu = mutant_dir.join(format!("{}.cu", m.name));
            write_if_changed(&cu, &mutated);
            let unit = mutant_dir.join(format!("{}.cpp", m.name));
            let table = format!("aim_emu_table_mutant_{}", m.name);
            write_if_changed(
                &unit,
                &format!(
                    "// Generated by build.rs: mutant {name} of kernels/{file}.cu.\n\
                     #define AIM_EMU_SOURCE {cu:?}\n#define AIM_EMU_LABEL \"kernels/{file}.cu (mutant {name})\"\n\
                     #define AIM_EMU_VARIANT {name:?}\n\
                     #define AIM_EMU_NS aim_emu_mutant_{name}\n#define AIM_EMU_TABLE {table}\n\
                     #include {wrapper:?}\n",
                    name = m.name,
                    file = m.file,
                    cu = cu.display().to_string(),
                    wrapper = emu.join(format!("{}.cpp", m.file)).display().to_string(),
                ),
            );
            build.file(&unit);
            tables.push(table);
        } else {
            println!(
                "cargo:warning=emulator mutant {} not built: its line is no longer in kernels/{}.cu exactly once (update build.rs)",
                m.name, m.file
            );
        }
        let _ = writeln!(
            listing,
            "    Mutant {{ name: {:?}, file: {:?}, what: {:?}, find: {:?}, replace: {:?}, compiled: {applied} }},",
            m.name,
            format!("kernels/{}.cu", m.file),
            m.what,
            m.find,
            m.replace
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
    build.file(&registry_path);

    build.compile("aim_emu");
}

/// Writes `text` unless the file already holds it (keeps the C++ objects' inputs' timestamps).
fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    }
}
