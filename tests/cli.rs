//! The binary as a user meets it: output formats, presets, user files, and bad input.

mod common;

use common::{fails, json, ok, run};
use std::io::Write;

const HEADLINE: &[&str] = &["--tokens", "6272", "--schedule", "linear", "--gpu", "a100"];

#[test]
fn design_card_command_prints_a_per_layer_table() {
    let out = ok(HEADLINE);
    assert!(out.contains("NVIDIA A100 40GB SXM"), "{out}");
    // 28 layer rows + head, then schedule/baseline/reduction lines.
    let rows = out
        .lines()
        .filter(|l| {
            l.split_whitespace()
                .next()
                .is_some_and(|w| w.parse::<u32>().is_ok())
        })
        .count();
    assert_eq!(rows, 28, "{out}");
    for needle in ["baseline", "reduction", "TFLOPs", "time ms", "bound"] {
        assert!(out.contains(needle), "missing {needle}: {out}");
    }
}

#[test]
fn json_has_the_documented_keys() {
    let v = json(HEADLINE);
    for key in ["flops", "bytes", "time_s", "memory_consumption_bytes"] {
        assert!(v["totals"][key].as_f64().unwrap() > 0.0, "totals.{key}");
        assert!(
            v["baseline"]["totals"][key].as_f64().unwrap() > 0.0,
            "baseline.totals.{key}"
        );
    }
    let layers = v["layers"].as_array().unwrap();
    assert_eq!(layers.len(), 28);
    for l in layers {
        for key in ["tokens", "flops", "bytes", "time_s"] {
            assert!(l[key].as_f64().unwrap() > 0.0, "layers[].{key}");
        }
        assert!(matches!(l["bound"].as_str(), Some("compute" | "memory")));
        assert!(!l["operators"].as_array().unwrap().is_empty());
    }
    // The per-layer sums are the totals (llm-viewer: layers + lm_head).
    let sum: f64 = layers
        .iter()
        .map(|l| l["flops"].as_f64().unwrap())
        .sum::<f64>()
        + v["head"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["flops"].as_f64().unwrap())
            .sum::<f64>()
        + v["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["flops"].as_f64().unwrap())
            .sum::<f64>();
    let total = v["totals"]["flops"].as_f64().unwrap();
    assert!((sum - total).abs() / total < 1e-12);
    let r = v["reduction"]["flops"].as_f64().unwrap();
    let want = v["baseline"]["totals"]["flops"].as_f64().unwrap() / total;
    assert!((r - want).abs() < 1e-12 && r > 1.0);
    assert!(v["reduction"]["time"].as_f64().unwrap() > 1.0);
}

#[test]
fn csv_has_one_row_per_operator_per_layer() {
    let out = ok(&[
        "--tokens",
        "6272",
        "--cost-model",
        "llm-viewer",
        "--format",
        "csv",
    ]);
    let mut lines = out.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    for col in [
        "run", "layer", "tokens", "operator", "flops", "bytes", "time_s",
    ] {
        assert!(header.contains(&col), "missing column {col}");
    }
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let layer_rows =
        |run: &str, layer: &str| rows.iter().filter(|r| r[0] == run && r[1] == layer).count();
    // Eager attention: norm, q, k, v, qk, softmax, sv, o, add, norm, gate, up, act, down, add.
    assert_eq!(layer_rows("schedule", "0"), 15);
    assert_eq!(layer_rows("baseline", "27"), 15);
    for r in &rows {
        let flops: f64 = r[5].parse().expect("numeric flops");
        assert!(flops >= 0.0 && flops.is_finite());
    }
}

#[test]
fn output_file_is_written() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    let out = ok(&["--format", "json", "--output", path.to_str().unwrap()]);
    assert!(out.is_empty());
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    assert!(v["totals"]["flops"].as_f64().unwrap() > 0.0);
}

#[test]
fn list_prints_every_preset() {
    let out = ok(&["list"]);
    for name in aim_sim::presets::names(aim_sim::presets::GPUS)
        .into_iter()
        .chain(aim_sim::presets::names(aim_sim::presets::MODELS))
        .chain(aim_sim::presets::names(aim_sim::presets::SCHEDULES))
    {
        assert!(out.contains(name), "list lacks {name}");
    }
}

#[test]
fn frames_and_tokens_are_equivalent() {
    let a = json(&["--tokens", "6272"]);
    let b = json(&["--frames", "32"]);
    let c = json(&[] as &[&str]);
    assert_eq!(a["totals"], b["totals"]);
    assert_eq!(a["totals"], c["totals"]);
    // 6000 does not divide by 196: one frame of 6000 tokens, merged to 25 % = 1500.
    let d = json(&["--tokens", "6000"]);
    assert_eq!(d["plan"]["merged_visual_tokens"], 1500);
}

#[test]
fn layer_tokens_override_the_schedule() {
    let list = vec!["500"; 28].join(",");
    let v = json(&["--layer-tokens", &list]);
    assert!(v["layers"]
        .as_array()
        .unwrap()
        .iter()
        .all(|l| l["tokens"] == 500));
}

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let path = dir.path().join(name);
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    path.to_string_lossy().into_owned()
}

#[test]
fn user_files_are_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let gpu = write(
        &dir,
        "my-gpu.toml",
        // The A100's cache, so that only the roofs differ.
        "name='half A100'\nbandwidth=777.5e9\nfp16_peak=156e12\nint8_peak=312e12\nonchip_buffer=27648e3\nl2_bytes=41943040\nsms=108\nmemory=4e10\n",
    );
    let full = json(&["--gpu", "a100"]);
    let half = json(&["--gpu", &gpu]);
    let t = |v: &serde_json::Value| v["totals"]["time_s"].as_f64().unwrap();
    assert!(
        (t(&half) / t(&full) - 2.0).abs() < 1e-9,
        "every roofline time doubles"
    );
    let hf = write(
        &dir,
        "config.json",
        r#"{"text_config":{"model_type":"qwen2","hidden_size":3584,"num_attention_heads":28,"num_key_value_heads":4,"num_hidden_layers":28,"intermediate_size":18944,"vocab_size":152064}}"#,
    );
    assert_eq!(json(&["--model", &hf])["totals"], full["totals"]);
    let sched = write(
        &dir,
        "sched.toml",
        "[merge]\ntokens_per_frame = 49\n[prune]\nkind = 'linear'\nstart = 14\nend = 22\n",
    );
    assert_eq!(json(&["--schedule", &sched])["totals"], full["totals"]);
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_toml = write(&dir, "bad.toml", "name = 'x'\nbandwidth = \n");
    let nan_gpu = write(
        &dir,
        "nan.toml",
        "name='x'\nbandwidth=nan\nfp16_peak=1e14\nint8_peak=1e14\nonchip_buffer=1e7\nmemory=1e10\n",
    );
    let missing = write(&dir, "missing.toml", "name='x'\nbandwidth=1e12\n");
    let bad_json = write(&dir, "config.json", "{\"hidden_size\": 4096,");
    let bad_shape = write(
        &dir,
        "shape.json",
        r#"{"hidden_size":4096,"num_attention_heads":30,"num_hidden_layers":2,"intermediate_size":8,"vocab_size":8}"#,
    );
    let inverted = write(
        &dir,
        "inv.toml",
        "[prune]\nkind='linear'\nstart=22\nend=14\n",
    );
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec!["--tokens".into(), "0".into()],
            "--frames 0 --text-tokens N",
        ),
        (vec!["--tokens".into(), "-5".into()], "positive"),
        (vec!["--tokens".into(), "lots".into()], "not a number"),
        (vec!["--tokens".into(), "2000000000".into()], "exceeds"),
        (vec!["--frames".into(), "99999999999999".into()], "exceeds"),
        (vec!["--text-tokens".into(), "0".into()], "at least 1"),
        (vec!["--gpu".into(), "b200x".into()], "a100"),
        (vec!["--model".into(), "gpt-5".into()], "llava-ov-7b"),
        (vec!["--schedule".into(), "fastest".into()], "linear"),
        (vec!["--gpu".into(), bad_toml.clone()], "bad.toml"),
        (vec!["--gpu".into(), nan_gpu], "bandwidth"),
        (
            vec!["--gpu".into(), missing],
            "the required key 'fp16_peak' is missing",
        ),
        (
            vec!["--gpu".into(), "/no/such/file.toml".into()],
            "cannot read",
        ),
        (vec!["--model".into(), bad_json], "invalid JSON"),
        (vec!["--model".into(), bad_shape], "does not divide"),
        (vec!["--schedule".into(), inverted], "greater than start"),
        (vec!["--layer-tokens".into(), "100,200".into()], "28 layers"),
        (
            vec!["--layer-tokens".into(), vec!["0"; 28].join(",")],
            "at least 1",
        ),
        (
            vec!["--merge-tokens-per-frame".into(), "300".into()],
            "only 196",
        ),
        (
            vec![
                "--prune-start".into(),
                "22".into(),
                "--prune-end".into(),
                "14".into(),
            ],
            "greater than --prune-start 22",
        ),
        (
            vec![
                "--prune-start".into(),
                "40".into(),
                "--prune-end".into(),
                "50".into(),
            ],
            "28 layers",
        ),
        (vec!["--w-bits".into(), "7".into()], "not supported"),
        (vec!["--kv-bits".into(), "0".into()], "not supported"),
        (
            vec!["--merge-keep-ratio".into(), "1.5".into()],
            "--merge-keep-ratio 1.5 must be in (0, 1]",
        ),
        (
            vec![
                "--prune-start".into(),
                "14".into(),
                "--prune-end".into(),
                "22".into(),
                "--prune-step".into(),
                "nan".into(),
            ],
            "step",
        ),
        (vec!["--batch".into(), "0".into()], "at least 1"),
        (vec!["--no-such-flag".into()], "unexpected argument"),
    ];
    for (args, needle) in cases {
        let err = fails(&args);
        assert!(
            err.contains(needle),
            "{args:?}: expected '{needle}' in: {err}"
        );
    }
}

#[test]
fn help_and_version_exit_0() {
    assert!(run(&["--help"]).status.success());
    assert!(run(&["--version"]).status.success());
}

#[test]
fn layer_tokens_replace_the_whole_schedule() {
    // Refined prices merging as a stage before the LLM; an explicit list has none.
    let list = vec!["1668"; 28].join(",");
    let v = json(&["--layer-tokens", &list]);
    assert!(
        v["stages"].as_array().unwrap().is_empty(),
        "{}",
        v["stages"]
    );
    assert_eq!(v["plan"]["merged_visual_tokens"], 6272);
    let with_merge = json(&[] as &[&str]);
    assert!(!with_merge["stages"].as_array().unwrap().is_empty());
}

/// Regression (2026-12-07): a layer holding more tokens than the input has was priced with a
/// warning ("the schedule keeps tokens it was not given"); it is refused, as a measurement
/// row's was, naming the layer, the input's count and the fix. The input's own count passes.
#[test]
fn layer_tokens_beyond_the_input_are_refused() {
    // llava-1.5-7b: one image of 576 tokens + 100 text tokens = 676, 32 layers.
    let mut list = vec!["676"; 32];
    list[5] = "677";
    let err = fails(&["--model", "llava-1.5-7b", "--layer-tokens", &list.join(",")]);
    assert!(
        err.contains("--layer-tokens value 677 at layer 5 is more than the input's 676 tokens (576 visual + --text-tokens 100)")
            && err.contains("give at most 676"),
        "{err}"
    );
    list[5] = "676";
    let v = json(&["--model", "llava-1.5-7b", "--layer-tokens", &list.join(",")]);
    assert_eq!(v["plan"]["layer_tokens"][5], 676);
}

/// Regression (2026-12-06): a per-layer list's drops price only the gather of the kept tokens.
/// They priced AIM's PageRank (the default rule) when the schedule had no `[prune]` (`none`,
/// or the default `linear` under `--layer-tokens`), an n² importance map included.
#[test]
fn layer_tokens_price_no_importance_rule() {
    let mut list = vec!["6372"; 3];
    list.extend(vec!["1668"; 25]);
    let list = list.join(",");
    for schedule in [None, Some("none")] {
        let mut args = vec!["--layer-tokens", list.as_str()];
        if let Some(s) = schedule {
            args.extend(["--schedule", s]);
        }
        let v = json(&args);
        let notes = v["notes"].as_array().unwrap();
        assert!(
            notes
                .iter()
                .any(|n| n.as_str().unwrap().starts_with("importance: none")),
            "{schedule:?}: {notes:?}"
        );
        assert_eq!(v["pipeline"]["importance_flops"], 0.0, "{schedule:?}");
    }
    // AIM's own schedule still scores its pruning layers with PageRank.
    let aim = json(&[] as &[&str]);
    assert!(aim["pipeline"]["importance_flops"].as_f64().unwrap() > 0.0);
}

/// compare applies the run's merge/prune options to every row, `none` included; such a row is
/// labelled `NAME (overridden)` as a single run labels it. `compare --schedule none,linear
/// --prune-start 3 --prune-end 8` used to show a plain "none" row 2.63× faster than no reduction.
#[test]
fn compare_labels_overridden_rows_as_simulate_does() {
    let args = [
        "compare",
        "--schedule",
        "none,linear",
        "--prune-start",
        "3",
        "--prune-end",
        "8",
    ];
    let out = json(&args);
    let single = json(&[
        "--schedule",
        "none",
        "--prune-start",
        "3",
        "--prune-end",
        "8",
    ]);
    assert_eq!(single["scenario"]["schedule"]["name"], "none (overridden)");
    assert_eq!(out["rows"][0]["schedule"], "none (overridden)");
    assert_eq!(out["rows"][1]["schedule"], "linear (overridden)");
    assert_eq!(
        out["rows"][0]["time_s"], single["totals"]["time_s"],
        "the row is the single run"
    );
    let table = ok(&args);
    assert!(table.contains("  none (overridden) "), "{table}");
    // Without overrides the rows keep their names.
    let plain = json(&["compare", "--schedule", "none,linear"]);
    assert_eq!(plain["rows"][0]["schedule"], "none");
    assert_eq!(plain["rows"][1]["schedule"], "linear");
}

/// An empty item in compare's `--schedule` list is named as one: `--schedule ,` used to say
/// "--schedule lists '' twice", and `none,,linear` the same.
#[test]
fn compare_names_an_empty_schedule_item() {
    for list in [",", "none,,linear", "none,"] {
        let err = fails(&["compare", "--schedule", list]);
        assert!(
            err.contains("--schedule's list has an empty item") && !err.contains("twice"),
            "{list}: {err}"
        );
    }
}

/// A framework profile's `[gpu.NAME]` table one or two typos from a GPU preset (or in other
/// case, or by an alias) is warned about on a run on that preset: `[gpu.h10]` in trtllm.toml
/// used to be ignored silently, the H100 run taking the pooled values. It is not refused: a
/// table may be for a GPU from a file named close to a preset (`rtx4080`, one edit from
/// `rtx4090`), which check and fit price by name.
#[test]
fn a_mistyped_gpu_table_in_a_profile_is_warned_about() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string("frameworks/trtllm.toml").unwrap();
    assert!(shipped.contains("[gpu.h100]"));
    for table in ["h10", "H100"] {
        let path = dir.path().join(format!("{table}.toml"));
        std::fs::write(
            &path,
            shipped.replace("[gpu.h100]", &format!("[gpu.{table}]")),
        )
        .unwrap();
        let out = run(&["--gpu", "h100", "--framework", path.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains(&format!("no [gpu.h100] table, but a [gpu.{table}] one")),
            "{table}: {stderr}"
        );
    }
    // A card of the user's own, named one edit from a preset: loads, and a run on the preset
    // it resembles, which has its own table, hears nothing.
    let own = dir.path().join("own.toml");
    std::fs::write(&own, format!("{shipped}\n[gpu.rtx4080]\nmatmul = 0.5\n")).unwrap();
    let out = run(&["--gpu", "h100", "--framework", own.to_str().unwrap()]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("a typo?"));
}

/// A GPU file that is a preset's device (a copy of its file, as docs/gpus.md says to make for
/// `host = "server"`; a calibrated profile of it; a file naming the preset's device name among
/// its aliases) gets the values a framework profile fitted for that preset: such a copy of
/// `rtx4090.toml` under `--framework hf` priced 178.686 ms with the pooled values where the
/// preset priced 149.263 ms. A profile that replaces the file's own `[efficiency]` table says
/// so in a warning (it did so silently); without a profile the file's own table prices.
#[test]
fn a_copy_of_a_preset_gets_the_profiles_values_fitted_for_it() {
    let dir = tempfile::tempdir().unwrap();
    let rtx4090 = std::fs::read_to_string("hardware/rtx4090.toml").unwrap();
    let copy = write(&dir, "rtx_copy.toml", &rtx4090);
    let server = write(
        &dir,
        "rtx_server.toml",
        &rtx4090.replace("host = \"desktop\"", "host = \"server\""),
    );
    let h100 = std::fs::read_to_string("hardware/h100.toml").unwrap();
    // Named otherwise, but nvidia-smi's device name (in another case) among its aliases.
    let lab_text = h100
        .replace("name = \"NVIDIA H100 80GB SXM\"", "name = \"lab box\"")
        .replace("\"NVIDIA H100 80GB HBM3\"", "\"nvidia h100 80gb hbm3\"");
    assert!(!lab_text.contains("\"NVIDIA H100 80GB"), "{lab_text}");
    let lab = write(&dir, "lab.toml", &lab_text);
    let time = |gpu: &str, framework: &str| {
        let v = json(&["--gpu", gpu, "--framework", framework]);
        (
            v["totals"]["time_s"].as_f64().unwrap(),
            v["baseline"]["totals"]["time_s"].as_f64().unwrap(),
        )
    };
    for framework in ["hf", "trtllm", "hf-eager", "roofline"] {
        let preset = time("rtx4090", framework);
        assert_eq!(time(&copy, framework), preset, "{framework}: the copy");
        assert_eq!(
            time("h100", framework),
            time(&lab, framework),
            "{framework}: aliases"
        );
    }
    // hf has values fitted for the RTX 4090, its per-op cost among them: the host changes
    // nothing, and the run says whose values it took.
    assert_eq!(time(&server, "hf"), time("rtx4090", "hf"));
    let out = ok(&["--gpu", &copy, "--framework", "hf"]);
    assert!(out.contains("framework hf (fitted for rtx4090)"), "{out}");
    assert!(!out.contains("a GPU from a file"), "{out}");

    // A file of its own measured table: a profile replaces it, and says so.
    let measured = write(
        &dir,
        "measured.toml",
        &format!("{rtx4090}\n[efficiency]\nmatmul = 0.7\nattention = 0.45\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n"),
    );
    let out = run(&["--gpu", &measured, "--framework", "hf"]);
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "warning: framework hf (fitted for rtx4090) is used, not the [efficiency] table"
        ) && stderr.contains("matmul 0.700")
            && stderr.contains("run without a framework profile"),
        "{stderr}"
    );
    assert_eq!(time(&measured, "hf"), time("rtx4090", "hf"));
    // Without a profile the file's own table prices, and nothing is said.
    let out = run(&["--gpu", &measured]);
    assert!(out.status.success());
    assert!(!String::from_utf8_lossy(&out.stderr).contains("warning"));
    assert!(String::from_utf8_lossy(&out.stdout).contains("matmul 70 % of peak"));
    // The run's JSON replays to the same run, the warning included: its spec keeps the file's
    // own table, not the profile's values that replaced it.
    let replay = dir.path().join("run.json");
    std::fs::write(
        &replay,
        ok(&["--gpu", &measured, "--framework", "hf", "--format", "json"]),
    )
    .unwrap();
    let out = run(&["--spec", replay.to_str().unwrap(), "--format", "json"]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("is used, not the [efficiency] table"));
    let again: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        again["totals"]["time_s"].as_f64().unwrap(),
        time("rtx4090", "hf").0
    );
}

/// A GPU file's checks (issue: GPU TOML checks): an empty `name` is refused (the header read
/// "… on  · cost model refined"); a missing required key names the file and the key, not
/// "line 1, column 1, key 'name'" (the span of a key the whole file lacks is its start); a
/// value out of range is quoted readably (`memory = 1e300` printed a 301-digit integer).
#[test]
fn gpu_file_checks_name_the_problem_readably() {
    let dir = tempfile::tempdir().unwrap();
    let h100 = std::fs::read_to_string("hardware/h100.toml").unwrap();
    let edited = |file: &str, from: &str, to: &str| {
        assert!(h100.contains(from), "{from}");
        write(&dir, file, &h100.replacen(from, to, 1))
    };
    let cases = [
        (
            edited("noname.toml", "name = \"NVIDIA H100 80GB SXM\"", "name = \"\""),
            "noname.toml: key 'name' is empty: give the GPU a name",
        ),
        (
            edited("blank.toml", "name = \"NVIDIA H100 80GB SXM\"", "name = \"  \""),
            "blank.toml: key 'name' is empty",
        ),
        (
            edited("nobw.toml", "bandwidth = 3.35e12", ""),
            "nobw.toml: the required key 'bandwidth' is missing: add it",
        ),
        (
            write(&dir, "first.toml", "name = 'x'\nfp16_peak = 1e14\n"),
            "first.toml: the required key 'bandwidth' is missing: add it",
        ),
        (
            edited("big.toml", "memory = 85899345920", "memory = 1e300"),
            "big.toml: key 'memory' = 1e300 is outside 1e8 to 1e14 bytes",
        ),
        (
            edited("tiny.toml", "memory = 85899345920", "memory = 5e-324"),
            "key 'memory' = 5e-324 is outside",
        ),
        (
            write(
                &dir,
                "slow.toml",
                &format!("{h100}\n[efficiency]\nmatmul = 0.7\nattention = 0.5\nelementwise = 0.8\nlaunch_overhead_s = 1e200\n"),
            ),
            "key 'efficiency.launch_overhead_s' = 1e200 must be between 0 and 1 seconds",
        ),
    ];
    for (file, want) in cases {
        let err = fails(&["--gpu", &file]);
        assert!(err.contains(want), "{file}: {err}");
        assert!(!err.contains("line 1, column 1"), "{err}");
        assert!(err.len() < 300, "{err}");
    }
    // A key missing inside a table still says where the table is.
    let model = std::fs::read_to_string("models/llava-ov-7b.toml").unwrap();
    let no_layers = write(
        &dir,
        "model.toml",
        &model.replacen("num_layers = 26\n", "", 1),
    );
    let err = fails(&["--model", &no_layers]);
    assert!(
        err.contains("table 'vision': missing field `num_layers`"),
        "{err}"
    );
}

/// compare's CSV and Markdown under a fitted profile dropped the framework and the 80 %
/// intervals its table, JSON and page carry (a profile's CSV read as the roofline's); they now
/// have sweep's `framework` and `*_low`/`*_high` columns, the same figures as the JSON, and
/// the roofline's CSV keeps its columns.
#[test]
fn compare_csv_carries_the_framework_and_intervals() {
    let args = [
        "compare",
        "--tokens",
        "6272",
        "--schedule",
        "none,linear",
        "--gpu",
        "a100",
        "--framework",
        "hf",
    ];
    let csv = ok(&[&args[..], &["--format", "csv"]].concat());
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let linear: Vec<&str> = lines.nth(1).unwrap().split(',').collect();
    let col = |name: &str| {
        let i = header
            .iter()
            .position(|h| *h == name)
            .unwrap_or_else(|| panic!("{name}"));
        linear[i]
    };
    assert_eq!(col("framework"), "hf");
    let v = json(&args);
    let row = &v["rows"][1];
    let [lo, hi] = [0, 1].map(|i| row["time_interval_s"][i].as_f64().unwrap());
    assert_eq!(col("time_low_s").parse::<f64>().unwrap(), lo);
    assert_eq!(col("time_high_s").parse::<f64>().unwrap(), hi);
    assert_eq!(
        col("reduction_time_high").parse::<f64>().unwrap(),
        row["reduction_time_interval"][1].as_f64().unwrap()
    );
    let md = ok(&[&args[..], &["--format", "markdown"]].concat());
    assert!(
        md.contains("| time_low_s |") && md.contains("| hf |"),
        "{md}"
    );
    let roofline = ok(&[
        "compare",
        "--tokens",
        "6272",
        "--schedule",
        "none,linear",
        "--format",
        "csv",
    ]);
    assert!(
        roofline.starts_with("schedule,flops,bytes,time_s,speedup,"),
        "{roofline}"
    );
}

/// A clip's seconds × fps outside the processor's frame range was clamped in silence (3600 s
/// at 2 fps priced 768 frames, 1 s at 0.5 fps 4): a run now warns, naming both counts; a clip
/// within the range says nothing.
#[test]
fn a_clamped_video_frame_count_is_warned_about() {
    let stderr = |args: &[&str]| {
        let out = run(args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let long = stderr(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-seconds",
        "3600",
        "--importance-kernel",
        "fused",
    ]);
    assert!(
        long.contains("--video-seconds 3600 at 2 fps asks for 7200 frames")
            && long.contains("priced at 768 frames"),
        "{long}"
    );
    let short = stderr(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-seconds",
        "1",
        "--fps",
        "0.5",
    ]);
    assert!(
        short.contains("asks for 0.5 frames") && short.contains("priced at 4 frames"),
        "{short}"
    );
    assert!(!stderr(&["--model", "qwen2.5-vl-7b", "--video-seconds", "10"]).contains("warning"));
}

/// Regression (2026-12-07, a new user's report): `compare --layer-tokens` priced every schedule
/// as the same list of counts (a row named `none` 4.79× faster than no reduction),
/// `compare --gen-tokens` priced a decode no row showed, and an error of the base run (a GPU
/// file that cannot be read) was blamed on the first schedule ("schedule none: cannot read").
#[test]
fn compare_refuses_what_every_row_would_share_and_names_base_errors_plainly() {
    let list = vec!["1000"; 28].join(",");
    let err = fails(&[
        "compare",
        "--schedule",
        "none,linear",
        "--layer-tokens",
        &list,
    ]);
    assert!(
        err.contains("--layer-tokens replaces every schedule"),
        "{err}"
    );
    let err = fails(&["compare", "--schedule", "none,linear", "--gen-tokens", "10"]);
    assert!(err.contains("drop --gen-tokens"), "{err}");
    // A selection needs the list, which compare refuses: clap's "required --layer-tokens" was
    // a dead end; the refusal now says why and where to price it.
    for extra in [&[][..], &["--layer-tokens", &list][..]] {
        let mut args = vec![
            "compare",
            "--schedule",
            "none,linear",
            "--selection",
            "divprune",
        ];
        args.extend_from_slice(extra);
        let err = fails(&args);
        assert!(
            err.contains("compare cannot price a selection") && err.contains("with simulate"),
            "{args:?}: {err}"
        );
    }
    let err = fails(&[
        "compare",
        "--schedule",
        "none,linear",
        "--gpu",
        "/no/such/gpu.toml",
    ]);
    assert!(
        err.contains("cannot read /no/such/gpu.toml") && !err.contains("schedule none"),
        "{err}"
    );
    // A schedule's own error still names the schedule.
    let err = fails(&["compare", "--schedule", "none,no-such-schedule"]);
    assert!(err.contains("no-such-schedule"), "{err}");
}

/// Regression (2026-12-07): `--gen-tokens 0`, the default and what every run's JSON spec says,
/// was refused on the command line ("must be at least 1") while run files and Python took it.
#[test]
fn gen_tokens_zero_is_the_default_and_accepted() {
    let zero = json(&["--gen-tokens", "0"]);
    let plain = json(&[] as &[&str]);
    assert_eq!(zero["totals"], plain["totals"]);
    assert_eq!(zero["spec"]["gen_tokens"], 0);
}

/// Regression (2026-12-07): under `--layer-tokens` the header named the replaced schedule
/// and the input's visual tokens "into layer 0" (`linear: explicit --layer-tokens · 6272
/// visual tokens into layer 0` where layer 0 held 1000); it now says what the list holds, and
/// JSON's summary names the key.
#[test]
fn the_header_of_an_explicit_list_says_what_it_holds() {
    let mut list = vec!["1000"; 27];
    list.push("500");
    let list = list.join(",");
    let out = ok(&["--layer-tokens", &list]);
    let line = out.lines().find(|l| l.starts_with("schedule:")).unwrap();
    assert!(
        line.starts_with("schedule: explicit --layer-tokens, which replaces the schedule")
            && line.contains("layer 0 holds 1000 tokens, the last 500")
            && !line.contains("6272")
            && !line.contains("linear"),
        "{line}"
    );
    let v = json(&["--layer-tokens", &list]);
    assert!(
        v["schedule_summary"]
            .as_str()
            .unwrap()
            .starts_with("explicit layer_tokens,"),
        "{}",
        v["schedule_summary"]
    );
}

/// The schedule overrides' errors named the schedule file's keys (`merge.keep_ratio = 0 must
/// be in (0, 1]`, `prune end = 10 must be greater than start = 20`), which the user never
/// wrote: they name the flags (Python: the keywords).
#[test]
fn schedule_overrides_name_the_options_given() {
    for (args, want) in [
        (
            &["--merge-keep-ratio", "0.0"][..],
            "--merge-keep-ratio 0 must be in (0, 1]",
        ),
        (
            &["--prune-start", "20", "--prune-end", "10"][..],
            "--prune-end 10 must be greater than --prune-start 20",
        ),
        (
            &["--frames", "1", "--tokens-per-frame", "1"][..],
            "raise its keep ratio (--merge-keep-ratio, or merge.keep_ratio in a schedule file)",
        ),
    ] {
        let err = fails(args);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("schedule overrides"), "{err}");
    }
}

/// A baseline that does not fit the GPU while the reduced run does (`--batch 100 --gpu h100`:
/// 133 GB against 85.9) gave a 5.3× speed-up over it with no warning; it now says so. A run
/// whose baseline fits says nothing of it.
#[test]
fn a_baseline_that_does_not_fit_is_said() {
    let r = common::json(&["--batch", "100", "--gpu", "h100"]);
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("the baseline (no reduction) needs 133.3 GB"),
        "{warnings}"
    );
    let r = common::json(&["--gpu", "h100"]);
    assert!(!r["warnings"].to_string().contains("baseline"), "{r}");
}

/// `--a-bits 32` priced its GEMMs at the 16-bit tensor peak (only the bytes at 32 bits) without
/// a word: W32A32 came out 8 % slower than W16A16. The assumption is now stated.
#[test]
fn thirty_two_bit_activations_say_their_gemms_are_priced_at_the_16_bit_peak() {
    let r = common::json(&["--w-bits", "32", "--a-bits", "32"]);
    let warnings = r["warnings"].to_string();
    assert!(
        warnings.contains("a_bits 32: GEMMs are priced at the GPU's 16-bit tensor peak"),
        "{warnings}"
    );
    assert!(!common::json(&[] as &[&str])["warnings"]
        .to_string()
        .contains("16-bit tensor peak"));
}

/// compare's header named neither a split over GPUs nor the precision, so `--tp 2 --w-bits 4`
/// read as one GPU's figures at 16 bits; it says both, as simulate's `options:` line does.
#[test]
fn compare_says_what_its_figures_count() {
    let args = [
        "compare",
        "--schedule",
        "none,linear",
        "--tp",
        "2",
        "--gpu",
        "h100",
        "--w-bits",
        "4",
    ];
    let table = common::ok(&args);
    assert!(
        table.contains("options: tensor parallel 2 (figures per GPU) · W4A16KV16"),
        "{table}"
    );
    let json = common::json(&args);
    assert_eq!(json["options"][0], "tensor parallel 2 (figures per GPU)");
    // The defaults say nothing more.
    let plain = common::json(&["compare", "--schedule", "none,linear"]);
    assert!(plain.get("options").is_none(), "{plain}");
}

/// `serve --schedule none,linear` (a list where one run takes one name) was answered "unknown
/// schedule" with the preset list: it says where lists go.
#[test]
fn a_list_given_to_one_run_says_where_lists_go() {
    let e = common::fails(&["serve", "--schedule", "none,linear"]);
    assert!(
        e.contains("one schedule per run: compare and sweep take a list in --schedule, serve in --schedules"),
        "{e}"
    );
    let e = common::fails(&["--gpu", "a100,h100"]);
    assert!(e.contains("one GPU per run: sweep takes a list"), "{e}");
    // No command takes several frameworks: the hint sent sweep users to a list it refuses.
    for cmd in [&[][..], &["sweep", "--schedule", "none,linear"]] {
        let e = common::fails(&[cmd, &["--framework", "hf,trtllm"]].concat());
        assert!(
            e.contains("one framework per run, sweep and compare too: run once per framework"),
            "{e}"
        );
    }
    let e = common::fails(&["--schedule", "nonee"]);
    assert!(e.contains("did you mean 'none'"), "{e}");
}

/// `--prune-step 2` was told "schedule overrides: prune step = 2 must be between 1e-6 and 1",
/// a schedule file's key the user did not write: it names the flag.
#[test]
fn a_bad_prune_step_names_the_flag() {
    let e = common::fails(&[
        "--prune-start",
        "5",
        "--prune-end",
        "10",
        "--prune-step",
        "2",
    ]);
    assert!(
        e.contains("--prune-step 2 must be between 1e-6 and 1"),
        "{e}"
    );
    assert!(!e.contains("prune step ="), "{e}");
}

/// Under llm-viewer, compare headed LLM-Viewer's memory consumption (weights + KV + the last
/// activations) "peak GB", which simulate calls memory consumption: it says what it is.
#[test]
fn compare_names_llm_viewers_memory_as_it_is() {
    let viewer = common::ok(&[
        "compare",
        "--cost-model",
        "llm-viewer",
        "--schedule",
        "none,linear",
    ]);
    assert!(!viewer.contains("peak"), "{viewer}");
    assert!(viewer.contains("mem GB") && viewer.contains("LLM-Viewer's memory consumption"));
    let page = common::ok(&[
        "compare",
        "--cost-model",
        "llm-viewer",
        "--schedule",
        "none,linear",
        "--format",
        "html",
    ]);
    assert!(page.contains("memory GB") && !page.contains("peak GB"));
    let refined = common::ok(&["compare", "--schedule", "none,linear"]);
    assert!(refined.contains("peak GB"), "{refined}");
}

/// A peak just past the GPU's memory read "peak memory 25.8 GB exceeds the GPU's 25.8 GB":
/// the warning keeps the decimals that tell the two apart.
#[test]
fn a_peak_just_past_the_memory_is_told_apart_from_it() {
    let out = common::run(&["--schedule", "linear", "--frames", "157", "--gpu", "l4"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let w = stderr
        .lines()
        .find(|l| l.contains("peak memory"))
        .expect("a memory warning");
    let gb: Vec<&str> = w
        .split_whitespace()
        .zip(w.split_whitespace().skip(1))
        .filter(|(_, unit)| *unit == "GB")
        .map(|(v, _)| v)
        .collect();
    assert!(gb.len() >= 2 && gb[0] != gb[1], "{w}");
}

/// The reduction line's continuation (LLM time, end to end) follows it; the interval's line
/// comes after both (it stood between the reduction and its continuation).
#[test]
fn the_interval_line_follows_the_reduction_and_its_continuation() {
    let table = common::ok(&["--framework", "hf"]);
    let lines: Vec<&str> = table.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("reduction "))
        .unwrap();
    assert!(
        lines[at + 1].contains("× LLM time (layers + head)"),
        "{table}"
    );
    assert!(lines[at + 2].starts_with("interval: "), "{table}");
}
