//! The core's errors name the spec's keys (`prune_start`, as a run file and Python say it);
//! the command line shows each as its flag (`--prune-start`) through one mapping
//! (`aim_sim::cli::keys`), so its messages are what they were.

use aim_sim::budget::{self, BudgetQuery};
use aim_sim::cli::keys::message;
use aim_sim::error::Key;
use aim_sim::{simulate, Error, Spec};
use std::path::Path;

/// A spec from the command line's flags (the test's shorthand; the core never sees flags).
fn spec(flags: &[&str]) -> Spec {
    Spec::from_flags(flags).expect("flags of a spec")
}

fn refused(flags: &[&str]) -> Error {
    simulate(&spec(flags)).expect_err("refused")
}

/// Errors the Python binding reaches (simulate, budget, sweep), each with the command line's
/// text from before keys were typed: the library says keys, the command line says the same
/// text with flags.
#[test]
fn errors_say_keys_and_the_command_line_says_its_flags() {
    let cases: Vec<(Error, &str)> = vec![
        (
            refused(&["--prune-step", "0.5"]),
            "--prune-step overrides the step of --prune-start/--prune-end: give those too",
        ),
        (
            refused(&["--prune-start", "3"]),
            "--prune-start and --prune-end go together: give both (l1 and l2)",
        ),
        (
            refused(&["--merge-tokens-per-frame", "4", "--merge-keep-ratio", "0.5"]),
            "give either --merge-tokens-per-frame or --merge-keep-ratio, not both",
        ),
        (
            refused(&["--text-tokens", "0"]),
            "--text-tokens must be at least 1",
        ),
        (
            refused(&["--cost-model", "llm-viewer", "--importance-kernel", "fused"]),
            "--importance-kernel fused is priced only by the refined cost model: drop it or use --cost-model refined",
        ),
        (
            refused(&["--cost-model", "llm-viewer", "--tp", "2"]),
            "--tp is priced only by the refined cost model: drop it or use --cost-model refined",
        ),
        (
            refused(&["--skip-mlp-add"]),
            "--skip-mlp-add reproduces a quirk of the paper's accounting: use it with --cost-model llm-viewer (refined always counts both residual adds)",
        ),
        (
            refused(&["--w-bits", "7"]),
            "--w-bits 7 is not supported: use one of [1, 2, 3, 4, 5, 6, 8, 16, 32]",
        ),
        (
            simulate(&Spec {
                layer_tokens: Some(vec![100, 50]),
                ..Spec::default()
            })
            .expect_err("refused"),
            "--layer-tokens has 2 values but the model has 28 layers: give one per layer",
        ),
        (
            refused(&["--video-seconds", "4"]),
            "--video-seconds: model 'llava-ov-7b' has no resolution-aware vision tower (every frame yields 196 tokens): drop it, or give --tokens-per-frame",
        ),
        (
            budget::frame_budget(&spec(&["--tokens", "6272"]), &BudgetQuery::default())
                .expect_err("refused"),
            "budget varies the number of frames: give --frames and --tokens-per-frame instead of --tokens",
        ),
        (
            aim_sim::sweep::parse_counts(Key::Frames, "8:4").expect_err("refused"),
            "--frames '8:4': range end 4 is before its start 8: write START:END[:STEP] with END >= START",
        ),
    ];
    for (e, cli) in cases {
        let text = e.to_string();
        assert!(!text.contains("--"), "the library says a flag: {text}");
        assert_eq!(message(&e), cli, "the command line's text changed");
        // The library's text is the command line's with each flag as its key.
        let mut keyed = cli.to_string();
        let mut keys = Key::ALL.to_vec();
        keys.sort_by_key(|k| std::cmp::Reverse(aim_sim::cli::keys::flag(*k).len()));
        for k in keys {
            keyed = keyed.replace(&aim_sim::cli::keys::flag(k), k.name());
        }
        assert_eq!(text, keyed);
    }
}

/// Texts in the core that still spell a flag, and why each may: none is an error Python or a
/// run file reaches. Outputs (notes, warnings, labels) stay as they were, byte for byte.
const FLAG_TEXTS: &[(&str, &str, &str)] = &[
    (
        "src/report/table.rs",
        "(--anchor-ms) narrows it",
        "the table's interval line points to the anchor (output of the command line)",
    ),
    (
        "src/paper.rs",
        "\"--",
        "the paper's rows as command lines (reproduce prints them)",
    ),
    (
        "src/spec.rs",
        "is not a --flag",
        "Spec::from_flags speaks flags by design",
    ),
    (
        "src/serve/render.rs",
        "(--include-vision prices it, in TTFT and memory)",
        "serve's table (output of the command line; JSON carries include_vision)",
    ),
    (
        "src/budget.rs",
        "more would exceed --max-frames",
        "the table's answer line (output)",
    ),
    (
        "src/budget.rs",
        "--format table",
        "the command line's format; Python has no CSV budget",
    ),
    (
        "src/error.rs",
        "--require-gpu",
        "GPU commands exist only on the command line",
    ),
    (
        "src/scenario.rs",
        "4-bit: --kv-bits",
        "a note of the report (output)",
    ),
    (
        "src/model/hf.rs",
        "for --include-vision",
        "a model's description (output)",
    ),
    (
        "src/serve/query.rs",
        "with --find-max-rate",
        "the table's legend (output)",
    ),
    (
        "src/kernels/nvrtc.rs",
        "\"--",
        "NVRTC's own compiler options",
    ),
    (
        "src/measure/prediction.rs",
        "aim-sim measure --format json",
        "names the command that wrote a file",
    ),
    (
        "src/check/render.rs",
        "(--framework)",
        "the table's caption (output)",
    ),
    (
        "src/check/render.rs",
        "(--format json: loso_fallback says which)",
        "the table's footnote (output)",
    ),
    (
        "src/check/render.rs",
        "--refit-also reference/measurements.toml",
        "the table's hint under its caption (output)",
    ),
    (
        "src/cost/refined/mod.rs",
        "\"--include-vision: ",
        "notes of the report (output)",
    ),
    (
        "src/cost/refined/mod.rs",
        "--framework trtllm",
        "the roofline's note (output)",
    ),
];

/// Layers above the core: they speak flags. `src/spec/options.rs` is the option table: plain
/// data in the core, but its `help` texts are the command line's `--help` (it holds no errors).
const ABOVE_CORE: &[&str] = &[
    "src/spec/options.rs",
    "src/cli",
    "src/plot",
    "src/html",
    "src/kernel_validation.rs",
    "src/main.rs",
];

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("readable") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// String literals of `line` (a simple scanner: `"` to the next unescaped `"`).
fn literals(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '"' {
            let mut escaped = false;
            for (j, d) in chars.by_ref() {
                if escaped {
                    escaped = false;
                } else if d == '\\' {
                    escaped = true;
                } else if d == '"' {
                    out.push(line[i..=j].to_string());
                    break;
                }
            }
        }
    }
    out
}

/// Walks the core's code (tests excluded): a string that spells `--flag` must be a known
/// output text; an error names a [`Key`] instead.
#[test]
fn the_core_spells_no_flag_in_its_errors() {
    let table = std::fs::read_to_string("src/spec/options.rs").expect("readable");
    assert!(
        !table.contains("Error"),
        "src/spec/options.rs makes errors now: walk it (remove it from ABOVE_CORE)"
    );
    let mut files = Vec::new();
    rust_files(Path::new("src"), &mut files);
    let mut bad = Vec::new();
    for f in files {
        let path = f.to_string_lossy().replace('\\', "/");
        // Test modules in files of their own (`#[cfg(test)] mod x_tests;`) are tests too.
        if ABOVE_CORE.iter().any(|a| path.starts_with(a)) || path.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("readable");
        let code = text.split("#[cfg(test)]").next().unwrap_or("");
        for (n, line) in code.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue;
            }
            for lit in literals(line) {
                let spells = lit
                    .match_indices("--")
                    .any(|(i, _)| lit[i + 2..].starts_with(|c: char| c.is_ascii_lowercase()));
                let known = FLAG_TEXTS
                    .iter()
                    .any(|(file, part, _)| *file == path && lit.contains(part));
                if spells && !known {
                    bad.push(format!("{path}:{}: {lit}", n + 1));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "core strings that spell a flag (name a aim_sim::error::Key instead, or list an output \
         text in FLAG_TEXTS with its reason): {bad:#?}"
    );
}

#[test]
fn every_known_flag_text_is_still_there() {
    for (file, part, why) in FLAG_TEXTS {
        let text = std::fs::read_to_string(file).unwrap_or_default();
        assert!(
            text.contains(part),
            "{file} no longer has {part:?} ({why}): drop the entry"
        );
    }
}

#[test]
fn every_key_is_a_spec_key_or_an_option_of_a_question() {
    let spec = serde_json::to_value(Spec {
        tokens: Some(1),
        frames: Some(1),
        tokens_per_frame: Some(1),
        image_size: Some("448x448".parse().unwrap()),
        video_size: Some("448x448".parse().unwrap()),
        video_seconds: Some(1.0),
        fps: Some(1.0),
        merge_tokens_per_frame: Some(1),
        merge_keep_ratio: Some(1.0),
        prune_start: Some(1),
        prune_end: Some(2),
        prune_step: Some(1.0),
        layer_tokens: Some(vec![1]),
        prune_timing: Some(aim_sim::schedule::PruneTiming::Paper),
        attention: Some(aim_sim::spec::AttentionImpl::Flash),
        kv_bits: Some(16),
        ..Spec::default()
    })
    .unwrap();
    let spec_keys: Vec<&String> = spec.as_object().unwrap().keys().collect();
    // The questions' options, as Python names them (python/aim_sim/__init__.pyi).
    let stub = std::fs::read_to_string("python/aim_sim/__init__.pyi").expect("the stub");
    for key in Key::ALL {
        let name = key.name().split('=').next().unwrap();
        assert!(
            spec_keys.iter().any(|k| *k == name)
                || stub.contains(&format!("{name}:"))
                // The command line's alone: check's folds, serve's trace file.
                || ["cv", "loo", "trace"].contains(&name),
            "{key:?}: '{name}' is neither a spec key nor a Python keyword"
        );
    }
}

/// The keys errors can name and the option table are two lists of the same names: every
/// option of a run that sets a spec key has its [`Key`], so a new option's errors can name it
/// (the table is the first list; this keeps the second from falling behind).
#[test]
fn every_option_of_the_table_has_its_key() {
    for option in aim_sim::spec::options::RUN {
        if let Some(name) = option.key {
            assert!(
                Key::ALL.iter().any(|k| k.name() == name),
                "option '{}' sets spec key '{name}' but src/error.rs's keys! has no Key for it: add one",
                option.name
            );
        }
    }
}

/// A warning naming an option by its key (`experts` on a dense model, a `layer_tokens` value
/// below the text) reached every output with the key's private-use marks around it
/// (`\u{e000}experts\u{e001}: …`): the command line now writes the flag wherever its text goes
/// for a reader (standard error, the table, CSV, Markdown, HTML), and the key in JSON, as the
/// library and Python do.
#[test]
fn warnings_name_flags_on_the_command_line_and_keys_in_the_library() {
    let marks = |s: &str| s.contains('\u{e000}') || s.contains('\u{e001}');
    let layers = [vec!["6372"; 27], vec!["50"]].concat().join(",");
    let listed = Spec {
        tokens: Some(6272),
        layer_tokens: Some([vec![6372; 27], vec![50]].concat()),
        ..Spec::default()
    };
    for (flags, library, flag, key) in [
        (
            vec!["--tokens", "6272", "--experts", "loop"],
            spec(&["--tokens", "6272", "--experts", "loop"]),
            "--experts: model 'llava-ov-7b' has no mixture-of-experts layers",
            "experts: model 'llava-ov-7b' has no mixture-of-experts layers",
        ),
        (
            vec!["--tokens", "6272", "--layer-tokens", layers.as_str()],
            listed.clone(),
            "--layer-tokens value 50 at layer 27 is below the 100 text tokens",
            "layer_tokens value 50 at layer 27 is below the 100 text tokens",
        ),
    ] {
        let report = simulate(&library).expect("priced");
        let lib = report.run.warnings.join("\n");
        assert!(
            aim_sim::error::with_key_names(&lib).contains(key),
            "{lib:?}"
        );
        for format in ["table", "json", "csv", "markdown", "html"] {
            let out = std::process::Command::new(env!("CARGO_BIN_EXE_aim-sim"))
                .args(&flags)
                .args(["--format", format])
                .output()
                .expect("aim-sim runs");
            assert!(out.status.success(), "{flags:?} --format {format}");
            let stdout = String::from_utf8(out.stdout).unwrap();
            let stderr = String::from_utf8(out.stderr).unwrap();
            assert!(!marks(&stdout), "{format}: marks in {stdout:.300}");
            assert!(!marks(&stderr), "{format}: marks in {stderr}");
            assert!(stderr.contains(flag), "{format}: {stderr}");
            // The table says flags; JSON, data in a run file's and Python's words, keys.
            match format {
                "table" => assert!(stdout.contains(flag), "table: {stdout:.300}"),
                "json" => assert!(stdout.contains(key), "json: the warning's keys"),
                _ => {}
            }
        }
    }
}
