//! Hostile and mistaken input (issue 14's fuzz findings, each a regression test): no hang, no
//! overflow, no inf/NaN/null in an output, one-line errors that keep clap's detail, exit 2 for
//! every user error, warnings for schedules that do not do what a schedule should.

mod common;

use std::time::{Duration, Instant};

fn gpu_toml(dir: &tempfile::TempDir, key: &str, value: &str) -> String {
    let mut text = String::from(
        "name = \"x\"\nbandwidth = 1555e9\nfp16_peak = 312e12\nint8_peak = 624e12\nonchip_buffer = 27648e3\nmemory = 42949672960\ninterconnect_bandwidth = 300e9\n",
    );
    text = text
        .lines()
        .map(|l| {
            if l.starts_with(&format!("{key} =")) {
                format!("{key} = {value}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    if !text.contains(&format!("{key} =")) {
        text += &format!("{key} = {value}\n");
    }
    let path = dir.path().join(format!("gpu-{key}.toml"));
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn absurd_gpu_figures_are_errors_that_name_the_key_and_the_unit() {
    let dir = tempfile::tempdir().unwrap();
    for (key, value, expect) in [
        ("bandwidth", "1555", "bytes/s"),
        ("bandwidth", "1e-300", "bytes/s"),
        ("fp16_peak", "1e-300", "FLOP/s"),
        ("int8_peak", "inf", "op/s"),
        ("memory", "0", "bytes"),
        ("interconnect_bandwidth", "1e-320", "bytes/s"),
    ] {
        let err = common::fails(&["--gpu", &gpu_toml(&dir, key, value)]);
        assert!(
            err.contains(key) && err.contains(expect),
            "{key}={value}: {err}"
        );
    }
    for (line, key) in [
        ("matmul = 1e-320", "matmul"),
        ("matmul = 0.0", "matmul"),
        ("launch_overhead_s = 1e308", "launch_overhead_s"),
        ("attention = 2", "attention"),
    ] {
        let path = dir.path().join("eff.toml");
        let mut text = std::fs::read_to_string(gpu_toml(&dir, "name", "\"x\"")).unwrap();
        text += "[efficiency]\nmatmul = 0.7\nattention = 0.5\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n";
        let k = line.split(' ').next().unwrap();
        text = text
            .lines()
            .map(|l| {
                if l.starts_with(&format!("{k} =")) {
                    format!("{line}\n")
                } else {
                    format!("{l}\n")
                }
            })
            .collect();
        std::fs::write(&path, text).unwrap();
        let err = common::fails(&["--gpu", path.to_str().unwrap()]);
        assert!(err.contains(key), "{line}: {err}");
    }
}

#[test]
fn models_too_deep_or_wide_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let base = "name = \"m\"\nhidden_size = 64\nnum_heads = 4\nnum_layers = 2\nintermediate_size = 128\nvocab_size = 100\n";
    for (from, to, expect) in [
        ("num_layers = 2", "num_layers = 16777216", "num_layers"),
        ("hidden_size = 64", "hidden_size = 4000000", "hidden_size"),
    ] {
        let path = dir.path().join("m.toml");
        std::fs::write(&path, base.replace(from, to)).unwrap();
        let start = Instant::now();
        let err = common::fails(&["--model", path.to_str().unwrap()]);
        assert!(err.contains(expect), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
    }
}

#[test]
fn file_inputs_must_be_small_regular_files() {
    let dir = tempfile::tempdir().unwrap();
    // A directory, a device, an oversized file: refused at once, never read.
    for path in [
        dir.path().to_str().unwrap().to_string(),
        "/dev/zero".to_string(),
    ] {
        for flag in [
            ["--spec"].as_slice(),
            &["check"],
            &["plot", "accuracy", "-o", "/tmp/x.png", "--input"],
        ] {
            let mut args: Vec<&str> = flag.to_vec();
            args.push(&path);
            let start = Instant::now();
            let err = common::fails(&args);
            assert!(err.contains("regular file"), "{args:?}: {err}");
            assert!(start.elapsed() < Duration::from_secs(5));
        }
    }
    let big = dir.path().join("big.toml");
    std::fs::write(&big, format!("x = [{}]\n", "1,".repeat(6_000_000))).unwrap();
    let err = common::fails(&["--spec", big.to_str().unwrap()]);
    assert!(err.contains("MB"), "{err}");
}

#[test]
fn no_output_holds_inf_nan_or_null() {
    // The largest figures the ranges allow still price to finite numbers, or to an error.
    let dir = tempfile::tempdir().unwrap();
    let slow = gpu_toml(&dir, "bandwidth", "1e9");
    let out = common::run(&["--gpu", &slow, "--frames", "1000", "--format", "json"]);
    let text = String::from_utf8_lossy(&out.stdout);
    if out.status.success() {
        assert!(
            !text.contains("null") && !text.contains("inf"),
            "{}",
            &text[..200]
        );
    } else {
        assert_eq!(out.status.code(), Some(2));
    }
    let table = common::ok(&["--gpu", &slow]);
    assert!(!table.contains("inf") && !table.contains("NaN"), "{table}");
}

#[test]
fn budget_never_wraps_or_prices_frames_nobody_typed() {
    let err = common::fails(&[
        "budget",
        "--prune-start",
        "1",
        "--prune-end",
        "18446744073709551615",
        "--target-reduction",
        "2",
    ]);
    assert!(
        err.contains("prune end") && err.contains("1000000"),
        "{err}"
    );
    // A huge --max-frames stops at the token limit, in seconds.
    let start = Instant::now();
    let a = common::json(&[
        "budget",
        "--schedule",
        "linear",
        "--max-frames",
        "18446744073709551615",
    ]);
    assert!(start.elapsed() < Duration::from_secs(30));
    assert!(
        a["search_limit_frames"].as_u64().unwrap() < 10_000_000,
        "{a}"
    );
    // Tokens per frame so large that the default search would cross the token limit.
    let a = common::json(&[
        "budget",
        "--tokens-per-frame",
        "20000",
        "--schedule",
        "none",
    ]);
    assert!(a["frames"].as_u64().unwrap() >= 32, "{a}");
}

/// A pruning window that starts at the last layer removes nothing under code timing (a
/// layer's decision shrinks the next): the run printed "prune linear l1=27 l2=29", priced
/// every layer at the merged count, and said nothing. The paper's bookkeeping prunes layer 27.
#[test]
fn a_pruning_that_removes_nothing_is_warned_about() {
    let out = common::run(&["--prune-start", "27", "--prune-end", "29"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stderr.contains("prunes no visual token on this 28-layer model (prune linear l1=27 l2=29)")
            && stderr.contains("--prune-start")
            && stderr.contains("--prune-timing paper"),
        "{stderr}"
    );
    let out = common::run(&[
        "--prune-start",
        "27",
        "--prune-end",
        "29",
        "--prune-timing",
        "paper",
    ]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("prunes no visual token"));
    // A schedule that prunes, on an input with visual tokens to prune: no such warning.
    let out = common::run(&["--schedule", "linear"]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("prunes no visual token"));
}

#[test]
fn schedules_that_do_not_reduce_are_warned_about() {
    // Counts that rise again (published schedules have such lists: a warning). More tokens
    // than the input has is refused since 2026-12-07 (cli.rs,
    // layer_tokens_beyond_the_input_are_refused).
    let mut list = vec!["600"; 32];
    list[5] = "676";
    let out = common::run(&["--model", "llava-1.5-7b", "--layer-tokens", &list.join(",")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stderr.contains("warning") && stderr.contains("cannot come back"),
        "{stderr}"
    );
    // Fewer tokens than the text: the text is pruned too, which no schedule here does (once
    // priced without a word).
    let mut list = vec!["676"; 32];
    list[30] = "40";
    let out = common::run(&["--model", "llava-1.5-7b", "--layer-tokens", &list.join(",")]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success());
    assert!(
        stderr.contains("value 40 at layer 30 is below the 100 text tokens"),
        "{stderr}"
    );
    // aim-prune-only on LLaVA-1.5 W4A8 with 8 images: the n² importance costs more than
    // pruning saves.
    let r = common::json(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "aim-prune-only",
        "--w-bits",
        "4",
        "--a-bits",
        "8",
        "--frames",
        "8",
    ]);
    let warnings = r["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w.as_str().unwrap().contains("time of no reduction")),
        "{warnings:?}"
    );
    // The warnings array is always there, empty when all is well.
    let r = common::json::<&str>(&[]);
    assert_eq!(r["warnings"], serde_json::json!([]));
    assert_eq!(r["baseline"]["warnings"], serde_json::json!([]));
}

#[test]
fn ignored_flags_are_errors_or_warnings() {
    let err = common::fails(&[
        "--layer-tokens",
        &vec!["100"; 28].join(","),
        "--prune-start",
        "3",
        "--prune-end",
        "9",
    ]);
    assert!(err.contains("--layer-tokens replaces"), "{err}");
    let out = common::run(&["--tokens", "1000", "--tokens-per-frame", "300"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("not a multiple of --tokens-per-frame 300"),
        "{stderr}"
    );
}

#[test]
fn errors_keep_clap_detail_on_one_line() {
    let err = common::fails(&["--prune-start", "3"]);
    assert!(err.contains("--prune-end"), "{err}");
    let err = common::fails(&["--frmes", "3"]);
    assert!(err.contains("--frames"), "{err}");
    let err = common::fails(&["--cost-model", "llmviewer"]);
    assert!(
        err.contains("refined") && err.contains("llm-viewer"),
        "{err}"
    );
    let err = common::fails(&["--model", "a\nb"]);
    assert!(err.contains("a\\nb"), "{err}");
    assert_eq!(err.matches("error:").count(), 1, "{err}");
    let err = common::fails(&["validate", "--require-gpu"]);
    if !err.contains("GPU run failed") {
        assert_eq!(err.matches("aim-sim").count(), 1, "the prefix once: {err}");
    }
}

#[test]
fn unwritable_outputs_are_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    for target in [
        "/missing/dir/x.csv".to_string(),
        dir.path().to_str().unwrap().to_string(),
        "/dev/full".to_string(),
    ] {
        let err = common::fails(&["-o", &target]);
        assert!(err.contains("cannot write"), "{err}");
    }
    let png_dir = dir.path().join("d.png");
    std::fs::create_dir(&png_dir).unwrap();
    let err = common::fails(&["plot", "layers", "-o", png_dir.to_str().unwrap()]);
    assert!(
        err.contains("cannot write") && !err.contains("Os {"),
        "{err}"
    );
}

#[test]
fn gpu_commands_speak_json_when_asked() {
    if aim_sim::kernel_validation::gpu_status().is_ok() {
        return; // a GPU is present: the no-GPU answer cannot be observed here
    }
    for cmd in ["validate", "measure", "calibrate"] {
        let v: serde_json::Value =
            serde_json::from_str(&common::ok(&[cmd, "--format", "json"])).unwrap();
        assert_eq!(v["ran"], false, "{cmd}: {v}");
    }
}

#[test]
fn help_is_grouped_and_has_examples_completions_and_a_man_page() {
    let help = common::ok(&["--help"]);
    for heading in [
        "Input:",
        "Model and GPU:",
        "Schedule:",
        "Cost model:",
        "Output:",
        "Examples:",
    ] {
        assert!(help.contains(heading), "{heading}");
    }
    for cmd in [
        "sweep", "budget", "plot", "pareto", "check", "fit", "simulate",
    ] {
        assert!(common::ok(&[cmd, "--help"]).contains("Examples:"), "{cmd}");
    }
    let budget = common::ok(&["budget", "--help"]);
    assert!(!budget.contains("csv"), "budget offers no CSV");
    assert!(common::ok(&["completions", "bash"]).contains("aim-sim"));
    assert!(common::ok(&["man"]).contains(".TH"));
}

/// A schedule cannot shrink layer 0 with a score from inside the LLM: the first layer that can
/// hold a scored decision is 1. A steps rule at layer 0 once ran layer 0 on half the tokens
/// with no importance priced anywhere; with `importance = "none"` (no scoring) it may. Under
/// the paper's bookkeeping (linear, paper timing) layer 0 scores its own tokens, as layer 1
/// does when the window starts there (its importance was once left out). And a step past the
/// model's last layer once did nothing without a word.
#[test]
fn schedules_prune_where_a_score_can_be_taken() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, body: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_str().unwrap().to_string()
    };
    let at0 = file(
        "at0.toml",
        "name = \"at0\"\n[prune]\nkind = \"steps\"\nat = [0]\nkeep = [0.5]\n",
    );
    let err = common::fails(&["--schedule", &at0]);
    assert!(err.contains("schedule 'at0' shrinks layer 0"), "{err}");
    let unscored = file(
        "unscored.toml",
        "name = \"drop\"\n[prune]\nkind = \"steps\"\nat = [0]\nkeep = [0.5]\nimportance = \"none\"\n",
    );
    let r = common::json(&["--schedule", &unscored]);
    assert!(
        r["layers"][0]["tokens"].as_u64().unwrap() < 6372,
        "{}",
        r["layers"][0]
    );
    let explicit = file(
        "explicit.toml",
        &format!(
            "name = \"e\"\n[prune]\nkind = \"explicit\"\nkeep = [{}]\n",
            vec!["0.0"; 28].join(", ")
        ),
    );
    assert!(common::fails(&["--schedule", &explicit]).contains("shrinks layer 0"));

    let importance = |start: u64| {
        let s = file(
            &format!("lin{start}.toml"),
            &format!(
                "name = \"l\"\n[prune]\nkind = \"linear\"\nstart = {start}\nend = {}\n",
                start + 1
            ),
        );
        let r = common::json(&["--schedule", &s, "--prune-timing", "paper"]);
        r["pipeline"]["importance_flops"].as_f64().unwrap()
    };
    let (at0, at1) = (importance(0), importance(1));
    assert!(at0 > 0.0 && (at0 / at1 - 1.0).abs() < 1e-12, "{at0} {at1}");

    let deep = file(
        "deep.toml",
        "name = \"deep\"\n[prune]\nkind = \"steps\"\nat = [40]\nkeep = [0.0]\n",
    );
    let err = common::fails(&["--schedule", &deep]);
    assert!(
        err.contains("schedule 'deep' prunes at layer 40 but the model has 28 layers (0..27)"),
        "{err}"
    );
}

/// A binary file is said to be one, whichever option took it: it was told "give a TOML or
/// JSON file", where check takes TOML only and serve's trace CSV too.
#[test]
fn a_binary_file_is_not_told_which_format_to_be() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("b.toml");
    std::fs::write(&path, [0xff_u8, 0xfe, 0x00, 0x81, 0x10]).unwrap();
    let p = path.to_str().unwrap();
    for args in [
        vec!["check", p],
        vec!["serve", "--trace", p],
        vec!["--gpu", p],
    ] {
        let e = common::fails(&args);
        assert!(
            e.contains("is not UTF-8 text (a binary file?)") && !e.contains("JSON"),
            "{args:?}: {e}"
        );
    }
}

/// The other inputs say what a file given to them looks like too: a measurement file, a run
/// file, a request trace, and a run's JSON or a CSV trace given to a TOML flag (each said only
/// what it could not parse: "unknown top-level key 'aliases'", "unknown column 'name = …'",
/// "invalid key-value pair").
#[test]
fn every_input_names_the_flag_a_file_belongs_to() {
    let dir = tempfile::tempdir().unwrap();
    let run = dir.path().join("run.json");
    common::ok(&["--format", "json", "-o", run.to_str().unwrap()]);
    let trace = dir.path().join("t.csv");
    std::fs::write(
        &trace,
        "arrival_s,frames,text_tokens,output_tokens\n0,1,2,3\n",
    )
    .unwrap();
    let (run, trace) = (run.to_str().unwrap(), trace.to_str().unwrap());
    let gpu_hint = "it looks like a GPU file: give it to --gpu";
    let run_hint =
        "it looks like a run file (a spec, or the JSON output of one run): replay it with --spec";
    let trace_hint = "it looks like a request trace: give it to serve's --trace";
    for (args, want) in [
        (
            &["--framework", "hf", "--anchor", "hardware/h100.toml"][..],
            gpu_hint,
        ),
        (&["check", "hardware/h100.toml"][..], gpu_hint),
        (&["check", run][..], run_hint),
        (&["--spec", "hardware/h100.toml"][..], gpu_hint),
        (
            &["--spec", "reference/measurements.toml"][..],
            "it looks like a measurement file: give it to check, or to --anchor",
        ),
        (&["serve", "--trace", "hardware/h100.toml"][..], gpu_hint),
        (&["serve", "--trace", run][..], run_hint),
        (&["--model", run][..], run_hint),
        (&["--gpu", run][..], run_hint),
        (&["--schedule", run][..], run_hint),
        (&["--gpu", trace][..], trace_hint),
        (&["check", trace][..], trace_hint),
        (&["--spec", trace][..], trace_hint),
    ] {
        let e = common::fails(args);
        assert!(e.contains(want), "{args:?}: {e}");
        assert_eq!(e.matches("it looks like").count(), 1, "{args:?}: {e}");
    }
    // A file of the right kind with a mistake in it gets no such hint.
    let bad_trace = dir.path().join("bad.csv");
    std::fs::write(
        &bad_trace,
        "arrival_s,frames,text_tokens,output_tokens\n0,x,2,3\n",
    )
    .unwrap();
    let e = common::fails(&["serve", "--trace", bad_trace.to_str().unwrap()]);
    assert!(e.contains("frames 'x'") && !e.contains("looks like"), "{e}");
}

/// A file given to the wrong flag says which flag it looks like it belongs to: `--model
/// hardware/h100.toml` listed a model's keys and no more. A file of the right kind with an
/// unknown key gets no such hint.
#[test]
fn a_file_given_to_the_wrong_flag_names_the_right_one() {
    for (flag, file, want) in [
        (
            "--model",
            "hardware/h100.toml",
            "it looks like a GPU file: give it to --gpu",
        ),
        (
            "--gpu",
            "models/llava-ov-7b.toml",
            "it looks like a model file: give it to --model",
        ),
        (
            "--gpu",
            "frameworks/hf.toml",
            "it looks like a framework profile file: give it to --framework",
        ),
        (
            "--model",
            "schedules/linear.toml",
            "it looks like a schedule file: give it to --schedule",
        ),
    ] {
        let e = common::fails(&[flag, file]);
        assert!(e.contains(want), "{flag} {file}: {e}");
    }
    let dir = tempfile::tempdir().unwrap();
    let gpu = dir.path().join("g.toml");
    let text = std::fs::read_to_string("hardware/h100.toml").unwrap() + "\nfoo = 1\n";
    std::fs::write(&gpu, text).unwrap();
    let e = common::fails(&["--gpu", gpu.to_str().unwrap()]);
    assert!(
        e.contains("unknown field `foo`")
            && !e.contains("looks like")
            && !e.contains("did you mean"),
        "{e}"
    );
    // A typo inside the GPU file's [efficiency] table: it said "it looks like a GPU file:
    // give it to --gpu" (the table's keys were taken for the file's), and neither the table
    // nor the key meant.
    let text = "name = \"mine\"\nbandwidth = 716.8e9\nfp16_peak = 97.5e12\nint8_peak = 389.9e12\nonchip_buffer = 19456e3\nmemory = 17179869184\n[efficiency]\nmatmull = 0.7\n";
    std::fs::write(&gpu, text).unwrap();
    let e = common::fails(&["--gpu", gpu.to_str().unwrap()]);
    assert!(
        e.contains("key 'matmull' in [efficiency]")
            && e.contains("(did you mean 'matmul'?)")
            && !e.contains("looks like"),
        "{e}"
    );
    // A typo at the top level is named too (`foo` above, far from every key, is not guessed at).
    let text = std::fs::read_to_string("hardware/h100.toml")
        .unwrap()
        .replace("fp16_peak", "fp16_peek");
    std::fs::write(&gpu, text).unwrap();
    let e = common::fails(&["--gpu", gpu.to_str().unwrap()]);
    assert!(e.contains("(did you mean 'fp16_peak'?)"), "{e}");
}
