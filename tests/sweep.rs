//! `aim-sim sweep` through the real binary: list/range parsing, row counts, agreement with
//! single runs, and one-line errors.

mod common;

#[test]
fn row_count_is_the_product_of_the_list_lengths() {
    // 4 frame values × 3 schedules × 2 GPUs × 2 text-token values.
    let v = common::json(&[
        "sweep",
        "--frames",
        "8:32:8",
        "--schedule",
        "none,linear,fastv",
        "--gpu",
        "a100,h100",
        "--text-tokens",
        "50,100",
    ]);
    let rows = v.as_array().expect("a JSON array");
    assert_eq!(rows.len(), 4 * 3 * 2 * 2);
    let frames: std::collections::BTreeSet<u64> =
        rows.iter().map(|r| r["frames"].as_u64().unwrap()).collect();
    assert_eq!(frames.into_iter().collect::<Vec<_>>(), [8, 16, 24, 32]);
    for r in rows {
        for key in [
            "model",
            "gpu",
            "schedule",
            "cost_model",
            "tokens_per_frame",
            "visual_tokens",
            "text_tokens",
            "batch",
            "memory_consumption_bytes",
            "baseline_time_s",
        ] {
            assert!(!r[key].is_null(), "{key} missing in {r}");
        }
        if r["schedule"] == "none" {
            assert_eq!(r["reduction_flops"].as_f64(), Some(1.0));
            assert_eq!(r["flops"], r["baseline_flops"]);
        }
    }
}

#[test]
fn a_sweep_row_equals_the_single_run() {
    let single = common::json(&[
        "--schedule",
        "linear",
        "--frames",
        "32",
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
    ]);
    let csv = common::ok(&[
        "sweep",
        "--schedule",
        "none,linear",
        "--frames",
        "16,32",
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
        "--format",
        "csv",
    ]);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 4);
    assert!(rows.iter().all(|r| r.len() == header.len()));
    let col = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let row = rows
        .iter()
        .find(|r| r[col("schedule")] == "linear" && r[col("frames")] == "32")
        .expect("linear at 32 frames");
    let flops: f64 = row[col("flops")].parse().unwrap();
    let time_s: f64 = row[col("time_s")].parse().unwrap();
    // Same computation; the JSON reader may be one ulp off (serde_json without float_roundtrip).
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
    assert!(close(flops, single["totals"]["flops"].as_f64().unwrap()));
    assert!(close(time_s, single["totals"]["time_s"].as_f64().unwrap()));
    // The paper headline (llm-viewer-cost-model.md): 99.6270 / 14.7566.
    let reduction: f64 = row[col("reduction_flops")].parse().unwrap();
    assert!((reduction - 99.6270 / 14.7566).abs() < 1e-4, "{reduction}");
}

#[test]
fn every_axis_takes_a_list() {
    let v = common::json(&[
        "sweep",
        "--model",
        "llava-ov-7b,llava-ov-0.5b",
        "--tokens",
        "1568,3136",
        "--batch",
        "1:2",
        "--cost-model",
        "llm-viewer",
        "--schedule",
        "merge-only",
    ]);
    let rows = v.as_array().unwrap();
    assert_eq!(rows.len(), 2 * 2 * 2);
    assert!(rows
        .iter()
        .any(|r| r["model"] == "llava-ov-0.5b" && r["batch"] == 2 && r["frames"] == 16));
    // Merging 25 % of 196 per frame: 8 frames → 392 visual tokens into layer 0.
    assert!(rows
        .iter()
        .all(|r| r["merged_visual_tokens"].as_u64().unwrap() * 4
            == r["visual_tokens"].as_u64().unwrap()));
}

#[test]
fn bad_lists_are_one_line_errors() {
    for (args, needle) in [
        (
            vec!["sweep", "--frames", "8:4"],
            "range end 4 is before its start 8",
        ),
        (vec!["sweep", "--frames", "8:16:0"], "--frames '8:16:0'"),
        (vec!["sweep", "--frames", "1,,2"], "empty list item"),
        (vec!["sweep", "--frames", "a:9"], "not a number"),
        (vec!["sweep", "--frames", "1:2:3:4"], "START:END[:STEP]"),
        (
            vec!["sweep", "--schedule", "none,nope"],
            "unknown schedule 'nope'",
        ),
        (vec!["sweep", "--cost-model", "exact"], "unknown cost model"),
        (
            vec!["sweep", "--frames", "8", "--tokens", "9"],
            "cannot be used",
        ),
        (
            vec!["sweep", "--frames", "1:100000", "--text-tokens", "1:1000"],
            "more than 10000000 configurations",
        ),
        (
            vec![
                "sweep",
                "--schedule",
                "visionzip-64",
                "--tokens-per-frame",
                "32,196",
            ],
            "tokens-per-frame=",
        ),
    ] {
        let err = common::fails(&args);
        assert!(err.contains(needle), "{args:?}: {err}");
    }
}

#[test]
fn piped_output_has_no_progress_bar() {
    let out = common::run(&["sweep", "--frames", "1:2000", "--format", "csv"]);
    assert!(out.status.success());
    // Only the warnings a sweep says (its largest rows do not fit the A100's memory), no bar.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !stderr.contains('\r') && stderr.lines().all(|l| l.starts_with("aim-sim: warning: ")),
        "{stderr}"
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 2001);
}

/// The same sweep in every format and on any number of threads says the same thing: CSV equal
/// byte for byte across `--jobs`, JSON Lines one object per line equal to the JSON array's.
#[test]
fn formats_and_thread_counts_agree() {
    let args = [
        "sweep",
        "--frames",
        "1:40:3",
        "--schedule",
        "none,linear,pdrop",
        "--cost-model",
        "refined,llm-viewer",
    ];
    let with = |extra: &[&str]| {
        let mut a = args.to_vec();
        a.extend_from_slice(extra);
        common::ok(&a)
    };
    let csv1 = with(&["--format", "csv", "--jobs", "1"]);
    assert_eq!(csv1.lines().count(), 1 + 14 * 3 * 2);
    for jobs in ["2", "3", "7"] {
        assert_eq!(
            with(&["--format", "csv", "--jobs", jobs]),
            csv1,
            "--jobs {jobs}"
        );
    }
    let array: Vec<serde_json::Value> =
        serde_json::from_str(&with(&["--format", "json", "--jobs", "3"])).unwrap();
    let lines = with(&["--format", "jsonl"]);
    let objects: Vec<serde_json::Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).expect("one JSON object per line"))
        .collect();
    assert_eq!(objects, array);
    // To a file as well.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("rows.jsonl");
    with(&["--format", "jsonl", "-o", path.to_str().unwrap()]);
    assert_eq!(std::fs::read_to_string(&path).unwrap(), lines);
}

#[test]
fn jobs_must_be_at_least_one() {
    let err = common::fails(&["sweep", "--frames", "1:4", "--jobs", "0"]);
    assert!(err.contains("--jobs"), "{err}");
}

/// An invalid last row fails before any row is priced or written: the extremes of the grid
/// are checked first (5,102,041 frames × 196 tokens exceed the 10⁹-token limit).
#[test]
fn an_invalid_late_row_fails_at_once() {
    let out = common::run(&["sweep", "--frames", "1:5102041", "--format", "csv"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(out.stdout.is_empty(), "no row before the error");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("frames=5102041") && err.contains("exceeds the limit"),
        "{err}"
    );
    // The same grid one frame shorter is valid (and not run here).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("never.csv");
    let out = common::run(&[
        "sweep",
        "--frames",
        "1:5102041",
        "-o",
        path.to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        !path.exists(),
        "no output file is created for a sweep that cannot run"
    );
}

/// Rows stream: the first lines of a ten-million-configuration sweep can be read while it
/// runs, and when the reader closes the pipe the sweep stops and exits 0.
#[test]
fn rows_stream_and_a_closed_pipe_stops_the_sweep() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_aim-sim"))
        .args([
            "sweep",
            "--frames",
            "1:10000",
            "--text-tokens",
            "1:1000",
            "--cost-model",
            "llm-viewer",
            "--format",
            "csv",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("aim-sim starts");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let header = lines.next().unwrap().unwrap();
    assert!(header.starts_with("model,gpu,schedule"), "{header}");
    let first = lines.next().unwrap().unwrap();
    assert!(
        first.starts_with("llava-ov-7b,a100,linear,llm-viewer,1,196,"),
        "{first}"
    );
    drop(lines);
    // Ten million rows would take minutes; a stopped sweep ends at once. The deadline only
    // keeps a broken build from hanging the test suite.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            child.kill().unwrap();
            panic!("the sweep did not stop after its reader went away");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    assert!(status.success(), "{status}");
}

/// Under a fitted framework every row carries the 80 % intervals `simulate` states for the same
/// configuration (its JSON `totals.time_interval_s`, `baseline.totals.time_interval_s`,
/// `reduction.time_interval`), in CSV, JSON Lines and the table; the roofline has none.
#[test]
fn a_fitted_framework_adds_the_single_runs_intervals() {
    let sweep = |format: &str| {
        common::ok(&[
            "sweep",
            "--frames",
            "8,32",
            "--schedule",
            "none,fastv",
            "--framework",
            "hf",
            "--format",
            format,
        ])
    };
    let csv = sweep("csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let tail = [
        "time_low_s",
        "time_high_s",
        "baseline_time_low_s",
        "baseline_time_high_s",
        "reduction_time_low",
        "reduction_time_high",
    ];
    assert_eq!(header[header.len() - 6..], tail);
    let objects: Vec<serde_json::Value> = sweep("jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(objects.len(), 4);
    for (o, line) in objects.iter().zip(csv.lines().skip(1)) {
        let cells: Vec<&str> = line.split(',').collect();
        let single = common::json(&[
            "--frames",
            &o["frames"].to_string(),
            "--schedule",
            o["schedule"].as_str().unwrap(),
            "--framework",
            "hf",
        ]);
        let want = [
            &single["totals"]["time_interval_s"][0],
            &single["totals"]["time_interval_s"][1],
            &single["baseline"]["totals"]["time_interval_s"][0],
            &single["baseline"]["totals"]["time_interval_s"][1],
            &single["reduction"]["time_interval"][0],
            &single["reduction"]["time_interval"][1],
        ];
        for (i, (key, w)) in tail.iter().zip(want).enumerate() {
            assert_eq!(&o[key], w, "{key} of {o}");
            let cell: f64 = cells[header.len() - 6 + i].parse().unwrap();
            assert_eq!(Some(cell), w.as_f64(), "CSV {key}");
        }
        assert!(o["time_low_s"].as_f64() < o["time_s"].as_f64());
        assert!(o["time_s"].as_f64() < o["time_high_s"].as_f64());
        if o["schedule"] == "none" {
            assert_eq!(o["reduction_time_low"].as_f64(), Some(1.0));
        }
    }
    let table = sweep("table");
    assert!(
        table.lines().next().unwrap().ends_with("×time 80 %"),
        "{table}"
    );
    assert_eq!(table.lines().count(), 5);
    let roofline = common::ok(&["sweep", "--frames", "8", "--format", "csv"]);
    assert!(!roofline.contains("time_low_s"), "{roofline}");
}

/// A time's 80 % interval never reaches below the ideal roofline of the run's work (every
/// kernel at the GPU's peaks, no overhead: the roofline's own price of the run): a wide one
/// (trtllm's MoE runs, one MoE source, t = 3) did until 2026-12-06, and until 2026-12-07 the
/// floor was the work's FLOPs at the peak or its bytes at the bandwidth, which lies below the
/// sum over kernels (an hf-eager baseline's low end was 419 ms, its roofline 663 ms). `sweep`
/// states the same interval as `simulate`.
#[test]
fn a_time_interval_never_reaches_below_the_runs_ideal_roofline() {
    let args = [
        "--model",
        "qwen3-vl-30b-a3b",
        "--frames",
        "0",
        "--text-tokens",
        "128",
        "--gpu",
        "h100",
        "--framework",
        "trtllm",
        "--w-bits",
        "8",
        "--a-bits",
        "8",
        "--schedule",
        "none",
    ];
    let r = common::json(&args);
    let t = &r["totals"];
    let [lo, time, hi] = [
        t["time_interval_s"][0].as_f64().unwrap(),
        t["time_s"].as_f64().unwrap(),
        t["time_interval_s"][1].as_f64().unwrap(),
    ];
    let ideal_args: Vec<&str> = args
        .iter()
        .map(|&a| if a == "trtllm" { "roofline" } else { a })
        .collect();
    let ideal_s = common::json(&ideal_args)["totals"]["time_s"]
        .as_f64()
        .unwrap();
    assert!((lo / ideal_s - 1.0).abs() < 1e-12, "{lo} vs {ideal_s}");
    // The old floor, the work's bytes at the bandwidth, is at most it: here every kernel
    // streams its weights once (memory-bound), so the two agree to rounding.
    let bandwidth_s = t["bytes"].as_f64().unwrap() / 3.35e12; // hardware/h100.toml
    assert!(bandwidth_s <= lo * (1.0 + 1e-12), "{bandwidth_s} vs {lo}");
    // The log-normal alone reaches as far below the prediction as it reaches above: the floor
    // binds here, and the high end is left as it is.
    assert!(time * time / hi < 0.5 * lo, "{lo} {time} {hi}");
    let mut sweep = vec!["sweep"];
    sweep.extend(args);
    sweep.extend(["--format", "jsonl"]);
    let row: serde_json::Value = serde_json::from_str(common::ok(&sweep).trim()).unwrap();
    assert_eq!(row["time_low_s"], t["time_interval_s"][0], "{row}");
    assert_eq!(row["time_high_s"], t["time_interval_s"][1], "{row}");
}

/// Rows priced under a framework profile other than the roofline name it, in every format
/// (a CSV of `--framework hf` rows read like the roofline's until 2026-12-06): the CSV and the
/// table gain a `framework` column after the cost model, JSON and JSON Lines a `framework` key;
/// the roofline's rows have neither.
#[test]
fn a_sweep_under_a_framework_names_it_in_every_format() {
    let sweep = |framework: &str, format: &str| {
        common::ok(&[
            "sweep",
            "--frames",
            "8,32",
            "--schedule",
            "none,fastv",
            "--framework",
            framework,
            "--format",
            format,
        ])
    };
    let csv = sweep("trtllm", "csv");
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    assert_eq!(header[3..5], ["cost_model", "framework"], "{csv}");
    for line in csv.lines().skip(1) {
        let cells: Vec<&str> = line.split(',').collect();
        assert_eq!(cells.len(), header.len(), "{line}");
        assert_eq!(cells[4], "trtllm", "{line}");
    }
    for format in ["json", "jsonl"] {
        let text = sweep("hf", format);
        let objects: Vec<serde_json::Value> = if format == "json" {
            serde_json::from_str::<Vec<_>>(&text).unwrap()
        } else {
            text.lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect()
        };
        assert_eq!(objects.len(), 4, "{text}");
        for o in &objects {
            assert_eq!(o["framework"], "hf", "{format}: {o}");
        }
    }
    let table = sweep("hf", "table");
    let mut lines = table.lines();
    let head = lines.next().unwrap();
    let at = head.find("framework").expect("a framework column");
    assert!(head[..at].trim_end().ends_with("cost model"), "{head}");
    for line in lines {
        assert_eq!(line[at..].split_whitespace().next(), Some("hf"), "{table}");
    }
    for format in ["csv", "jsonl", "table"] {
        let roofline = sweep("roofline", format);
        assert!(!roofline.contains("framework"), "{format}: {roofline}");
    }
}

/// A sweep warns of its input as a single run does: `sweep --tokens 6273` printed no "not a
/// multiple of 196" warning (simulate and compare do); many such rows give a few warnings and
/// a count, not one line per row. A clean grid warns of nothing.
#[test]
fn a_sweep_warns_of_tokens_that_are_not_whole_frames() {
    let out = common::run(&["sweep", "--tokens", "6273"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains("--tokens 6273 is not a multiple of --tokens-per-frame 196"),
        "{err}"
    );
    let out = common::run(&["sweep", "--tokens", "6000:6300", "--format", "csv"]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.lines().count(), 4, "{err}");
    assert!(
        err.contains("and 296 more like these in other rows"),
        "{err}"
    );
    let out = common::run(&["sweep", "--tokens", "6272,6468"]);
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A negative number as a flag's value reaches the flag's own check in every subcommand, as at
/// the top level (`aim-sim --tokens -5`): `sweep --frames -3` used to say clap's "unexpected
/// argument '-3' found" (only the top level allowed negative numbers). A list or range that
/// starts negative (`-3:5`) is still read as a flag by clap; the error then says what to type.
#[test]
fn negative_values_reach_the_flags_own_check_in_every_subcommand() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("x.png");
    let png = png.to_str().unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["sweep", "--frames", "-3"],
            "--frames '-3': '-3' must be a whole number, 0 or more",
        ),
        (
            vec!["sweep", "--tokens", "-5"],
            "--tokens '-5': '-5' must be a positive integer",
        ),
        (
            vec!["sweep", "--tokens-per-frame", "-5"],
            "'-5' must be a positive integer",
        ),
        (
            vec!["sweep", "--text-tokens", "-5"],
            "'-5' must be a positive integer",
        ),
        (
            vec!["sweep", "--batch", "-2"],
            "'-2' must be a positive integer",
        ),
        (
            vec!["sweep", "--frames", "8,-3"],
            "'-3' must be a whole number, 0 or more",
        ),
        (
            vec!["sweep", "--anchor-ms", "-3"],
            "must be a positive number of milliseconds",
        ),
        (
            vec!["simulate", "--frames", "-3"],
            "must be a whole number, 0 or more",
        ),
        (
            vec!["compare", "--frames", "-3"],
            "must be a whole number, 0 or more",
        ),
        (
            vec!["budget", "--frames", "-3"],
            "must be a whole number, 0 or more",
        ),
        (
            vec!["pareto", "--frames", "-3"],
            "must be a whole number, 0 or more",
        ),
        (
            vec!["serve", "--rate", "-3"],
            "give a positive number of requests per second",
        ),
        (
            vec!["plot", "curves", "--frames", "-3", "-o", png],
            "'-3' must be a whole number, 0 or more",
        ),
        (
            vec!["plot", "layers", "--frames", "-3", "-o", png],
            "'-3' must be a whole number, 0 or more",
        ),
        (
            vec!["--gen-tokens", "-1"],
            "must be a whole number, 0 or more",
        ),
        (vec!["--tokens", "-5"], "must be a positive integer"),
        (
            vec!["sweep", "--frames", "-3:5"],
            "counts, lists and ranges take positive integers",
        ),
        (
            vec!["plot", "curves", "--frames", "-3:5", "-o", png],
            "start them at 1 or more",
        ),
    ];
    for (args, want) in cases {
        let err = common::fails(&args);
        assert!(err.contains(want), "{args:?}: {err}");
        assert!(!err.contains("use '-- -3'"), "{args:?}: {err}");
    }
    // A flag where the value belongs is still a missing value.
    let err = common::fails(&["sweep", "--frames", "--schedule", "linear"]);
    assert!(
        err.contains("a value is required for '--frames <LIST>'"),
        "{err}"
    );
}

/// Counts and lists that are out of range say why: `--frames 99999999999999999999` used to
/// say "must be a positive integer", `--frames :` "'' '' is not a number", `budget
/// --target-reduction -1` "unexpected argument '-1' found".
#[test]
fn bad_counts_and_negative_targets_say_what_is_wrong() {
    for (args, want) in [
        (
            &["sweep", "--frames", "99999999999999999999"][..],
            "is too large: the most is 18446744073709551615",
        ),
        (
            &["--frames", "99999999999999999999"][..],
            "is too large: the most is 18446744073709551615",
        ),
        (&["sweep", "--frames", "1e30"][..], "is too large"),
        (
            &["sweep", "--frames", ":"][..],
            "range ':' lacks its start, end or step",
        ),
        (&["sweep", "--frames", "5:"][..], "range '5:' lacks"),
        (
            &["sweep", "--frames", "5:x"][..],
            "--frames '5:x': 'x' is not a number; give a whole number, 0 or more",
        ),
        (
            &["budget", "--target-reduction", "-1"][..],
            "--target-reduction -1 must be a factor of at least 1",
        ),
    ] {
        let err = common::fails(args);
        assert!(err.contains(want), "{args:?}: {err}");
    }
}

/// A sweep said the input's warnings a single run says (tokens not whole frames) but not the
/// framework profile's on a GPU: a GPU file of its own measured `[efficiency]` table, swept
/// under `--framework hf`, was priced with hf's values in silence where a single run warns
/// that the file's table is not used. The sweep now says each GPU's once.
#[test]
fn a_sweep_says_the_profiles_warnings_a_single_run_says() {
    let dir = tempfile::tempdir().unwrap();
    let rtx4090 = std::fs::read_to_string("hardware/rtx4090.toml").unwrap();
    let measured = dir.path().join("measured.toml");
    std::fs::write(
        &measured,
        format!("{rtx4090}\n[efficiency]\nmatmul = 0.7\nattention = 0.45\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n"),
    )
    .unwrap();
    let gpu = measured.to_str().unwrap();
    let stderr = |args: &[&str]| {
        let out = common::run(args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let single = stderr(&["--gpu", gpu, "--framework", "hf", "--frames", "8"]);
    let warning = single
        .lines()
        .find(|l| l.contains("is used, not the [efficiency] table"))
        .expect("the single run warns")
        .to_string();
    let swept = stderr(&[
        "sweep",
        "--gpu",
        &format!("a100,{gpu}"),
        "--framework",
        "hf",
        "--frames",
        "8,16",
        "--format",
        "csv",
    ]);
    assert_eq!(
        swept.matches(warning.as_str()).count(),
        1,
        "the sweep says the single run's warning once: {swept}"
    );
    // Without a profile the file's table prices, in both: nothing to say.
    let plain = stderr(&["sweep", "--gpu", gpu, "--frames", "8,16", "--format", "csv"]);
    assert!(!plain.contains("warning"), "{plain}");
}

/// A sweep priced configurations that cannot run on its GPU in silence: Qwen3-VL-30B-A3B on
/// an RTX 4090 at batch 3, where a single run warns that the weights alone do not fit. The
/// sweep now says the warnings of its largest configuration per model, GPU and schedule, and
/// nothing where those fit.
#[test]
fn a_sweep_says_when_its_largest_configurations_do_not_fit() {
    let stderr = |args: &[&str]| {
        let out = common::run(args);
        assert!(out.status.success(), "{args:?}");
        String::from_utf8(out.stderr).unwrap()
    };
    let big = stderr(&[
        "sweep",
        "--model",
        "qwen3-vl-30b-a3b",
        "--gpu",
        "rtx4090",
        "--frames",
        "8,32",
        "--batch",
        "1,3",
        "--format",
        "csv",
    ]);
    assert!(
        big.contains("frames=32")
            && big.contains("batch=3")
            && big.contains("the weights alone do not fit"),
        "{big}"
    );
    let fits = stderr(&[
        "sweep",
        "--frames",
        "8:32:8",
        "--gpu",
        "a100,h100",
        "--format",
        "csv",
    ]);
    assert!(!fits.contains("warning"), "{fits}");
}

/// `--layer-tokens` replaces the schedule, so a sweep over several schedules gave one
/// identical row per schedule (the `none` row 13.4× faster than no reduction); `plot curves`
/// drew the same line under each name. Both are refused as `compare` is; one schedule stays.
#[test]
fn layer_tokens_with_several_schedules_is_refused() {
    let list = vec!["500"; 28].join(",");
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("c.png");
    for args in [
        vec![
            "sweep",
            "--layer-tokens",
            &list,
            "--schedule",
            "none,linear",
        ],
        vec![
            "plot",
            "curves",
            "--layer-tokens",
            &list,
            "--schedule",
            "none,linear",
            "--frames",
            "32,64",
            "-o",
            png.to_str().unwrap(),
        ],
    ] {
        let err = common::fails(&args);
        assert!(
            err.contains("--layer-tokens replaces every schedule")
                && err.contains("give one --schedule"),
            "{args:?}: {err}"
        );
    }
    let one = common::ok(&["sweep", "--layer-tokens", &list, "--format", "csv"]);
    assert_eq!(one.lines().count(), 2, "{one}");
}

/// sweep and budget price prefills: `--gen-tokens` was accepted and changed nothing (the CSV
/// was byte for byte the run without it), where compare, pareto and serve refuse it.
#[test]
fn sweep_and_budget_refuse_a_decode_length() {
    for args in [
        &["sweep", "--gpu", "h100", "--gen-tokens", "10"][..],
        &["budget", "--by", "time", "--gen-tokens", "1000"][..],
    ] {
        let e = common::fails(args);
        assert!(
            e.contains("not a decode") && e.contains("drop --gen-tokens"),
            "{e}"
        );
    }
}

/// An anchored sweep's framework cell, `hf (anchored)`, was wider than its column (sized for
/// `hf`), which pushed every later cell off its header; and `base TFLOP` lacked its s.
#[test]
fn an_anchored_sweeps_columns_stay_under_their_headers() {
    let out = common::ok(&[
        "sweep",
        "--schedule",
        "none,linear",
        "--framework",
        "hf",
        "--gpu",
        "a100-80g",
        "--anchor-ms",
        "400",
        "--frames",
        "32",
    ]);
    let mut lines = out.lines();
    let header = lines.next().unwrap();
    assert!(header.contains("base TFLOPs"), "{header}");
    // Right-aligned numbers end where their header ends.
    let end = |line: &str, of: &str| line.find(of).unwrap() + of.len();
    for row in lines.filter(|l| l.starts_with("llava")) {
        assert!(row.contains("hf (anchored)"), "{row}");
        assert_eq!(
            end(header, "frames"),
            end(row, " 32 ") - 1,
            "{header}\n{row}"
        );
        let flops = if row.contains("15.2846") {
            "15.2846"
        } else {
            "91.5800"
        };
        assert_eq!(end(header, "TFLOPs"), end(row, flops), "{header}\n{row}");
    }
}
