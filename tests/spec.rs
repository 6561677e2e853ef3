//! `--spec`: a run file (TOML or JSON) describes a run; every JSON output carries the resolved
//! spec, and `--spec out.json` replays it exactly.

mod common;

use serde_json::Value;

fn without_spec(mut v: Value) -> Value {
    v.as_object_mut().expect("an object").remove("spec");
    v
}

#[test]
fn json_output_carries_the_resolved_spec() {
    let out = common::json(&["--tokens", "6272", "--gpu", "h100", "--schedule", "fastv"]);
    let spec = &out["spec"];
    assert_eq!(spec["model"], "llava-ov-7b");
    assert_eq!(spec["gpu"], "h100");
    assert_eq!(spec["schedule"], "fastv");
    // --tokens 6272 resolved into frames × tokens per frame; defaults filled in.
    assert_eq!(spec["frames"], 32);
    assert_eq!(spec["tokens_per_frame"], 196);
    assert!(spec.get("tokens").is_none());
    assert_eq!(spec["prune_timing"], "code");
    assert_eq!(spec["attention"], "flash");
    assert_eq!(spec["kv_bits"], 16);
    assert_eq!(spec["cost_model"], "refined");
}

#[test]
fn a_json_output_replays_exactly() {
    let dir = tempfile::tempdir().unwrap();
    for flags in [
        vec!["--tokens", "6272", "--gpu", "h100", "--schedule", "fastv"],
        vec![
            "--cost-model",
            "llm-viewer",
            "--skip-mlp-add",
            "--prune-start",
            "7",
            "--prune-end",
            "15",
        ],
        vec![
            "--model",
            "llava-1.5-7b",
            "--schedule",
            "aim-image",
            "--include-vision",
            "--gen-tokens",
            "8",
        ],
        vec![
            "--tokens",
            "1000",
            "--merge-keep-ratio",
            "0.5",
            "--w-bits",
            "4",
            "--a-bits",
            "8",
        ],
    ] {
        let first = common::ok(&[flags.clone(), vec!["--format", "json"]].concat());
        let path = dir.path().join("out.json");
        std::fs::write(&path, &first).unwrap();
        let again = common::ok(&["--spec", path.to_str().unwrap(), "--format", "json"]);
        let (mut a, b): (Value, Value) = (
            serde_json::from_str(&first).unwrap(),
            serde_json::from_str(&again).unwrap(),
        );
        // The warning that --tokens is not whole frames (issue 24) is about the input as typed;
        // the replayed spec states the one frame it was resolved to, so it has none.
        if let Some(w) = a["warnings"].as_array_mut() {
            // (JSON names it by its key, as a run file does.)
            w.retain(|w| !w.as_str().unwrap_or("").starts_with("tokens "));
        }
        assert_eq!(a, b, "replay of {flags:?} differs");
    }
}

#[test]
fn a_toml_run_file_is_the_same_as_its_flags() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.toml");
    std::fs::write(
        &path,
        "# a run file: only what differs from the defaults\ngpu = \"h100\"\nframes = 16\nschedule = \"pdrop\"\nimportance_kernel = \"fused\"\n",
    )
    .unwrap();
    let from_file = common::json(&["--spec", path.to_str().unwrap()]);
    let from_flags = common::json(&[
        "--gpu",
        "h100",
        "--frames",
        "16",
        "--schedule",
        "pdrop",
        "--importance-kernel",
        "fused",
    ]);
    assert_eq!(from_file, from_flags);
    // Flags beside the file override it.
    let overridden = common::json(&["--spec", path.to_str().unwrap(), "--frames", "8"]);
    assert_eq!(overridden["spec"]["frames"], 8);
    assert_eq!(overridden["spec"]["gpu"], "h100");
    // --tokens replaces the file's frames instead of conflicting with them.
    let tokens = common::json(&["--spec", path.to_str().unwrap(), "--tokens", "392"]);
    assert_eq!(tokens["spec"]["frames"], 2);
}

#[test]
fn files_are_inlined_so_the_replay_outlives_them() {
    let dir = tempfile::tempdir().unwrap();
    let model_dir = dir.path().join("my-llm");
    std::fs::create_dir(&model_dir).unwrap();
    let config = model_dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"model_type":"llama","hidden_size":2048,"num_attention_heads":16,"num_key_value_heads":4,
            "num_hidden_layers":16,"intermediate_size":5632,"vocab_size":32000}"#,
    )
    .unwrap();
    let first = common::ok(&[
        "--model",
        config.to_str().unwrap(),
        "--schedule",
        "fastv",
        "--format",
        "json",
    ]);
    let v: Value = serde_json::from_str(&first).unwrap();
    assert_eq!(v["spec"]["model"]["hidden_size"], 2048, "{}", v["spec"]);
    std::fs::remove_dir_all(&model_dir).unwrap();
    let out = dir.path().join("out.json");
    std::fs::write(&out, &first).unwrap();
    let again: Value = serde_json::from_str(&common::ok(&[
        "--spec",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]))
    .unwrap();
    assert_eq!(without_spec(v), without_spec(again));
}

#[test]
fn a_spec_file_works_for_budget_and_sweep_too() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.toml");
    std::fs::write(&path, "cost_model = \"llm-viewer\"\nskip_mlp_add = true\n").unwrap();
    let budget = common::ok(&[
        "budget",
        "--spec",
        path.to_str().unwrap(),
        "--reference-frames",
        "32",
    ]);
    assert!(budget.contains("fits 192 frames"), "{budget}");
    let sweep = common::ok(&[
        "sweep",
        "--spec",
        path.to_str().unwrap(),
        "--frames",
        "32",
        "--format",
        "csv",
    ]);
    assert!(sweep.contains("llm-viewer"), "{sweep}");
}

#[test]
fn bad_run_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (text, expect) in [
        ("frmes = 3\n", "frmes"),
        ("frames = \"many\"\n", "frames"),
        ("batch = 0\n", "at least 1"),
        ("tokens = 100\nframes = 2\n", "not both"),
        ("prune_start = 3\n", "go together"),
        ("{ \"frames\": -1 }", "frames"),
        ("{ not json", "invalid JSON"),
        ("[gpu]\nname = \"x\"\n", "gpu"),
    ] {
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let err = common::fails(&["--spec", path.to_str().unwrap()]);
        assert!(err.contains(expect), "{text:?}: {err}");
    }
    let err = common::fails(&["--spec", "/no/such/run.toml"]);
    assert!(err.contains("/no/such/run.toml"), "{err}");
}

/// A flag replaces the run file's other ways of giving the same input (`spec::REPLACES`):
/// `--frames` over a file's video length and rate was refused before (its `fps` survived),
/// and `--video-seconds` drops the file's sampling rate unless `--fps` is given (as `--frames`
/// and `--tokens` do: a rate samples a video length only).
#[test]
fn a_flag_replaces_the_files_other_way_of_giving_the_input() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("video.toml");
    std::fs::write(
        &path,
        "model = \"qwen2.5-vl-7b\"\nvideo_size = \"640x360\"\nvideo_seconds = 10.0\nfps = 1.0\n",
    )
    .unwrap();
    let file = path.to_str().unwrap();
    let frames = common::json(&["--spec", file, "--frames", "8"]);
    assert_eq!(frames["spec"]["frames"], 8);
    assert!(
        frames["spec"].get("video_seconds").is_none() && frames["spec"].get("fps").is_none(),
        "{}",
        frames["spec"]
    );
    let from_file = common::json(&["--spec", file]);
    let longer = common::json(&["--spec", file, "--video-seconds", "20"]);
    let longer_default_fps = longer["spec"]["frames"].as_u64().unwrap();
    let same_fps = common::json(&["--spec", file, "--video-seconds", "20", "--fps", "1"]);
    assert_eq!(
        same_fps["spec"]["frames"].as_u64().unwrap(),
        2 * from_file["spec"]["frames"].as_u64().unwrap(),
        "20 s at the file's 1 fps: twice its frames"
    );
    assert_ne!(
        longer_default_fps,
        same_fps["spec"]["frames"].as_u64().unwrap(),
        "without --fps the model's rate (2 for Qwen-VL), not the file's"
    );
    // An image size and a video length contradict each other: refused, not one dropped.
    let err = common::fails(&["--image-size", "448x448", "--video-seconds", "4"]);
    assert!(err.contains("--video-seconds"), "{err}");
}

/// A run's JSON holds the frames and tokens per frame its size, rate and model resolved to:
/// replayed with a new `--image-size`, `--video-size`, `--fps` or `--model`, they are resolved
/// again, as the same flags give without the file. The replay once kept the old values
/// (1 × 391 tokens at `--image-size 1280x960`, where a fresh run has 1 × 1564).
#[test]
fn a_replay_resolves_what_a_new_size_rate_or_model_changes() {
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| -> Value {
        let mut v = common::json(args);
        v["spec"].take()
    };
    let write = |name: &str, args: &[&str]| -> String {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            common::ok(&[args, &["--format", "json"][..]].concat()),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let image = write(
        "image.json",
        &["--model", "qwen2.5-vl-7b", "--image-size", "640x480"],
    );
    let replayed = run(&["--spec", &image, "--image-size", "1280x960"]);
    let fresh = run(&["--model", "qwen2.5-vl-7b", "--image-size", "1280x960"]);
    assert_eq!(replayed["tokens_per_frame"], fresh["tokens_per_frame"]);
    assert_eq!(replayed["tokens_per_frame"], 1564);

    let video = write(
        "video.json",
        &[
            "--model",
            "qwen2.5-vl-7b",
            "--video-size",
            "640x360",
            "--video-seconds",
            "10",
        ],
    );
    let replayed = run(&["--spec", &video, "--video-size", "1280x720"]);
    let fresh = run(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "1280x720",
        "--video-seconds",
        "10",
    ]);
    for key in ["frames", "tokens_per_frame"] {
        assert_eq!(replayed[key], fresh[key], "{key}");
    }
    // A run file that holds the video's length: `--fps` samples it again (the parser once
    // refused `--fps` without `--video-seconds` on the command line, whatever the file held).
    let length = dir.path().join("length.toml");
    std::fs::write(
        &length,
        "model = \"qwen2.5-vl-7b\"\nvideo_size = \"640x360\"\nvideo_seconds = 10.0\n",
    )
    .unwrap();
    let replayed = run(&["--spec", length.to_str().unwrap(), "--fps", "1"]);
    let fresh = run(&[
        "--model",
        "qwen2.5-vl-7b",
        "--video-size",
        "640x360",
        "--video-seconds",
        "10",
        "--fps",
        "1",
    ]);
    assert_eq!(replayed["frames"], fresh["frames"]);
    // The resolved JSON holds the sampled frames, not the length: nothing to sample there.
    let err = common::fails(&["--spec", &video, "--fps", "1"]);
    assert!(err.contains("--fps samples --video-seconds"), "{err}");

    // A new model resolves its own tokens per frame; the frames the run gave stay.
    let frames = write("frames.json", &["--frames", "16"]);
    let replayed = run(&["--spec", &frames, "--model", "llava-1.5-7b"]);
    assert_eq!(replayed["frames"], 16);
    assert_eq!(replayed["tokens_per_frame"], 576);
}

/// A run's JSON records what its options derived; a new value of the option derives them again.
/// `--spec run.json --cost-model llm-viewer` kept the refined model's fused attention and code
/// timing (6.74× where the direct run says 7.98×), `--a-bits 16` over an A8 run kept KV8,
/// `--framework trtllm` over an hf run kept hf's eager vision attention, `--model llava-1.5-7b`
/// kept LLaVA-OneVision's 32 default frames. A value the run chose stays.
#[test]
fn a_replay_derives_again_what_a_changed_option_derived() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, args: &[&str]| -> String {
        let path = dir.path().join(name);
        std::fs::write(
            &path,
            common::ok(&[args, &["--format", "json"][..]].concat()),
        )
        .unwrap();
        path.to_str().unwrap().to_string()
    };
    let json = |args: &[&str]| common::ok(&[args, &["--format", "json"][..]].concat());
    let cases: [(&[&str], &[&str]); 6] = [
        (&[], &["--cost-model", "llm-viewer"]),
        (
            &["--cost-model", "llm-viewer"],
            &["--cost-model", "refined"],
        ),
        (&["--a-bits", "8"], &["--a-bits", "16"]),
        (
            &["--framework", "hf", "--include-vision", "--gpu", "a100-80g"],
            &[
                "--framework",
                "trtllm",
                "--include-vision",
                "--gpu",
                "a100-80g",
            ],
        ),
        (&[], &["--model", "llava-1.5-7b"]),
        (&["--kv-bits", "4"], &["--a-bits", "8"]),
    ];
    for (i, (first, then)) in cases.iter().enumerate() {
        let base = write(&format!("run{i}.json"), first);
        let replayed = json(&[&["--spec", base.as_str()][..], then].concat());
        // A chosen value stays: the last case's KV4 was given, so it is the run's with it.
        let direct: Vec<&str> = if i == 5 {
            assert_ne!(replayed, json(then), "KV4 was chosen, not derived");
            [*then, &["--kv-bits", "4"][..]].concat()
        } else {
            then.to_vec()
        };
        assert_eq!(replayed, json(&direct), "--spec {first:?} then {then:?}");
    }
    // An attention the run chose (eager under the refined model) outlives a new cost model.
    let eager = write("eager.json", &["--attention", "eager"]);
    let replayed = json(&["--spec", &eager, "--cost-model", "refined"]);
    assert_eq!(replayed, json(&["--attention", "eager"]));
}

/// A run file's own files (`gpu = "mygpu.toml"` beside `runs/a.toml`) were read from the
/// current folder only: run from elsewhere, "cannot read mygpu.toml". They are found beside
/// the run file too, as a measurement file's are.
#[test]
fn a_run_files_files_are_found_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let gpu = std::fs::read_to_string("hardware/h100.toml").unwrap();
    std::fs::write(dir.path().join("mygpu.toml"), gpu).unwrap();
    let run = dir.path().join("run.toml");
    std::fs::write(&run, "gpu = \"mygpu.toml\"\nframes = 8\n").unwrap();
    let beside = common::json(&["--spec", run.to_str().unwrap()]);
    let direct = common::json(&["--gpu", "h100", "--frames", "8"]);
    assert_eq!(beside["totals"], direct["totals"]);
    // A file of that name in the current folder still wins; a preset name is never a path.
    std::fs::write(&run, "gpu = \"a100\"\nframes = 8\n").unwrap();
    std::fs::write(dir.path().join("a100"), "not a gpu").unwrap();
    let preset = common::json(&["--spec", run.to_str().unwrap()]);
    assert_eq!(
        preset["totals"],
        common::json(&["--gpu", "a100", "--frames", "8"])["totals"]
    );
}

/// A `layer_tokens` list in a run file is checked as the flag is: a 0 was once priced as a
/// layer of no tokens from a file while `--layer-tokens` refused it.
#[test]
fn a_run_files_layer_tokens_hold_at_least_one_token() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("zero.toml");
    let mut list = vec!["676"; 32];
    list[2] = "0";
    std::fs::write(
        &path,
        format!(
            "model = \"llava-1.5-7b\"\nlayer_tokens = [{}]\n",
            list.join(", ")
        ),
    )
    .unwrap();
    let err = common::fails(&["--spec", path.to_str().unwrap()]);
    assert!(
        err.contains("value 0 at layer 2: a layer holds at least one token"),
        "{err}"
    );
}

/// An error about a value the run file set names the file and the file's key, not a flag
/// nobody typed (`--layer-tokens has 2 values` was said of a file's `layer_tokens`); a flag
/// given over the file is named as the flag.
#[test]
fn a_run_files_errors_name_its_keys() {
    let dir = tempfile::tempdir().unwrap();
    let file = |name: &str, text: &str| {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_str().unwrap().to_string()
    };
    let toml = file("tp.toml", "tp = 3\n");
    let err = common::fails(&["--spec", &toml]);
    assert!(
        err.contains(&format!("{toml}: tp 3 does not divide")),
        "{err}"
    );
    assert!(!err.contains("--tp"), "{err}");
    // The same key given as a flag: the flag is what the user typed.
    let err = common::fails(&["--spec", &toml, "--tp", "6"]);
    assert!(err.contains("error: --tp 6 does not divide"), "{err}");
    // JSON, a sweep, and a list of the wrong length.
    let json = file("short.json", "{\"layer_tokens\": [100, 10]}");
    let err = common::fails(&["sweep", "--spec", &json, "--frames", "1,2"]);
    assert!(
        err.contains(&format!("error: {json}: sweep configuration"))
            && err.contains("layer_tokens has 2 values"),
        "{err}"
    );
    // A file key beside a flag that does not replace it.
    let text = file("text.toml", "frames = 4\ntext_tokens = 0\n");
    let err = common::fails(&["--spec", &text, "--tokens", "392"]);
    assert!(
        err.contains(&format!("{text}: text_tokens must be at least 1")),
        "{err}"
    );
}

/// A sweep's axes replace the run file's values as a flag does: `sweep --spec run.json
/// --model a,b` once priced LLaVA-1.5 at the replayed run's 196 tokens per frame.
#[test]
fn a_sweeps_axes_replace_what_the_run_file_resolved() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("run.json");
    std::fs::write(&path, common::ok(&["--format", "json"])).unwrap();
    let csv = common::ok(&[
        "sweep",
        "--spec",
        path.to_str().unwrap(),
        "--model",
        "llava-ov-7b,llava-1.5-7b",
        "--schedule",
        "none",
        "--format",
        "csv",
    ]);
    let per_frame: Vec<&str> = csv
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(5).unwrap())
        .collect();
    assert_eq!(per_frame, ["196", "576"], "{csv}");
    // A flag beside the axis still holds for every row.
    let csv = common::ok(&[
        "sweep",
        "--model",
        "llava-ov-7b,llava-1.5-7b",
        "--tokens-per-frame",
        "144",
        "--schedule",
        "none",
        "--format",
        "csv",
    ]);
    assert!(
        csv.lines()
            .skip(1)
            .all(|l| l.split(',').nth(5) == Some("144")),
        "{csv}"
    );
}

/// serve's and budget's JSON outputs carry no spec, compare's one per row: given to `--spec` (whose help
/// offers "an earlier run's JSON output") each is named as what it is, with what to give
/// instead. serve's used to fail with "key 'kv': unknown field 'kv', expected one of 'model', …".
#[test]
fn outputs_without_a_spec_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    for (command, args) in [
        ("serve", vec!["serve", "--requests", "5"]),
        (
            "serve",
            vec!["serve", "--requests", "5", "--schedules", "none,linear"],
        ),
        ("compare", vec!["compare", "--schedule", "none,linear"]),
        ("budget", vec!["budget", "--target-reduction", "2"]),
    ] {
        let out = common::json(&args);
        let path = dir.path().join(format!("{command}.json"));
        std::fs::write(&path, out.to_string()).unwrap();
        for replay in [
            vec!["--spec", path.to_str().unwrap()],
            vec!["serve", "--spec", path.to_str().unwrap()],
        ] {
            let err = common::fails(&replay);
            // compare's rows each carry their run's spec (2026-12-07: it said it had none).
            let instead = if command == "compare" {
                "each row carries its run's spec (rows[i].spec)"
            } else {
                "give a run file"
            };
            assert!(
                err.contains(&format!("this is {command}'s JSON output")) && err.contains(instead),
                "{args:?}: {err}"
            );
        }
    }
    // And a row's spec, saved alone, replays that schedule's run.
    let out = common::json(&["compare", "--schedule", "none,linear"]);
    let path = dir.path().join("row.json");
    std::fs::write(&path, out["rows"][1]["spec"].to_string()).unwrap();
    let run = common::json(&["--spec", path.to_str().unwrap()]);
    assert_eq!(run["totals"]["time_s"], out["rows"][1]["time_s"]);
}

/// The JSON outputs of budget (the frame question), pareto, reproduce and check, and a row of
/// sweep's, carry no spec either and are named as such. Each failed on its first key that is
/// not a spec's: "key 'at_max_frames': unknown field …, expected one of model, gpu, …".
#[test]
fn more_outputs_without_a_spec_are_named_as_such() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = common::json(&["sweep", "--frames", "8,16"]);
    for (command, what, out) in [
        ("budget", "budget's JSON output", common::json(&["budget"])),
        (
            "reproduce",
            "reproduce's JSON output",
            common::json(&["reproduce"]),
        ),
        (
            "check",
            "check's JSON output",
            common::json(&["check", "reference/measurements.toml"]),
        ),
        ("sweep", "a row of sweep's JSON output", sweep[0].clone()),
    ] {
        let path = dir.path().join(format!("{command}.json"));
        std::fs::write(&path, out.to_string()).unwrap();
        let err = common::fails(&["--spec", path.to_str().unwrap()]);
        assert!(
            err.contains(&format!("this is {what}, which carries no spec to replay"))
                && err.contains(&format!("and {command}'s options again")),
            "{command}: {err}"
        );
    }
    // pareto's rows carry their runs' specs, as compare's do: it said it carried none.
    let pareto = common::json(&["pareto", "--benchmark", "mvbench"]);
    let path = dir.path().join("pareto.json");
    std::fs::write(&path, pareto.to_string()).unwrap();
    let err = common::fails(&["--spec", path.to_str().unwrap()]);
    assert!(
        err.contains("each row carries its run's spec (rows[i].spec)"),
        "{err}"
    );
    let row = dir.path().join("row.json");
    let priced = pareto["rows"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["spec"].is_object() && r["time_s"].is_number())
        .expect("a priced row");
    std::fs::write(&row, priced["spec"].to_string()).unwrap();
    let run = common::json(&["--spec", row.to_str().unwrap()]);
    assert_eq!(run["totals"]["time_s"], priced["time_s"]);
}

/// A JSON array given as a run file (a sweep's output, or `[1,2]`) is named as one. It used to
/// get TOML's reading of it: "line 2, column 3: invalid key-value pair" or "table '1,2':
/// unclosed table".
#[test]
fn a_json_array_is_not_a_run_file() {
    let dir = tempfile::tempdir().unwrap();
    let sweep = common::ok(&["sweep", "--frames", "8,16", "--format", "json"]);
    for (name, text) in [("sweep.json", sweep.as_str()), ("pair.json", "[1,2]")] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        for args in [
            vec!["--spec", path.to_str().unwrap()],
            vec!["sweep", "--spec", path.to_str().unwrap()],
        ] {
            let err = common::fails(&args);
            assert!(
                err.contains("is a JSON array (a sweep's output?), not a run file")
                    && err.contains("one JSON object or a TOML table"),
                "{name}: {err}"
            );
        }
    }
}

/// A TOML spec's `nan` or `inf` (TOML spells both) reached the scenario's checks on the command
/// line, and in Python, whose options travel as JSON (NaN is null), became the default value:
/// `merge_keep_ratio = nan` priced the default run. The spec refuses it where it is read,
/// naming the key, whoever reads it.
#[test]
fn non_finite_numbers_in_a_toml_spec_are_refused_with_their_key() {
    for (text, key) in [
        ("merge_keep_ratio = nan", "merge_keep_ratio"),
        (
            "prune_start = 2\nprune_end = 20\nprune_step = inf",
            "prune_step",
        ),
        ("video_seconds = -inf", "video_seconds"),
    ] {
        let e = aim_sim::Spec::parse(text, "run.toml").expect_err(text);
        let m = e.to_string();
        assert!(
            m.starts_with("run.toml: key '")
                && m.contains(key)
                && m.contains("give a finite number"),
            "{m}"
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("nan.toml");
    std::fs::write(&path, "merge_keep_ratio = nan\n").unwrap();
    let err = common::fails(&["--spec", path.to_str().unwrap()]);
    assert!(
        err.contains("key 'merge_keep_ratio' = NaN: give a finite number"),
        "{err}"
    );
}

/// A run file's wrong type is said in a reader's words: `tokens = -5` said "expected u64" and
/// `frames = [1]` "invalid type: sequence", which name Rust's types, not what to write.
#[test]
fn a_run_files_type_errors_name_what_to_write() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, want) in [
        (
            "a.json",
            "{\"tokens\": -5}",
            "key 'tokens': invalid value: integer `-5`, expected a whole number, 0 or more",
        ),
        (
            "b.json",
            "{\"merge_keep_ratio\": \"half\"}",
            "key 'merge_keep_ratio': invalid type: string \"half\", expected a number",
        ),
        (
            "c.toml",
            "tokens = -5\n",
            "key 'tokens': invalid value: integer `-5`, expected a whole number, 0 or more",
        ),
        ("d.toml", "frames = [1]\n", "invalid type: a list"),
        (
            "e.json",
            "{\"frames\": {\"n\": 1}}",
            "invalid type: an object",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = common::fails(&["--spec", path.to_str().unwrap()]);
        assert!(err.contains(want), "{text}: {err}");
        for rust in ["u64", "f64", "sequence", "map"] {
            assert!(!err.contains(rust), "{text}: {err}");
        }
    }
}
