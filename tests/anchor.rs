//! `--anchor FILE` through the real binary: several measured rows in the measurement schema
//! refit the framework profile's harness parameters; one row gives `--anchor-ms`'s result, and a
//! bad file is a one-line error (exit 2) naming the file, the row and its key.

mod common;

use std::path::Path;

/// One measured row of the user's stack ([`common::anchor_row`]).
fn row(id: &str, framework: &str, frames: u64, measured_ms: f64) -> String {
    common::anchor_row(id, framework, frames, measured_ms)
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

const RUN: [&str; 8] = [
    "--framework",
    "hf",
    "--gpu",
    "a100-80g",
    "--frames",
    "32",
    "--schedule",
    "fastv",
];

/// The table of a run anchored at 480 ms: its baseline is the measurement, its interval line
/// the anchored one.
fn assert_anchored_table(table: &str) {
    assert!(
        table.contains("480.000 ms (measured: the anchor)"),
        "{table}"
    );
    assert!(
        table.contains("interval: 80 % of runs on the anchored stack"),
        "{table}"
    );
}

/// The report's figures, without the notes (which name the anchor) and the resolved inputs.
fn figures(mut v: serde_json::Value) -> serde_json::Value {
    let o = v.as_object_mut().unwrap();
    for key in ["notes", "spec", "scenario", "warnings"] {
        o.remove(key);
    }
    v
}

#[test]
fn one_row_is_the_anchor_ms_result() {
    let dir = tempfile::tempdir().unwrap();
    // Faster and slower than the profile prices this input (449 ms), and far slower.
    for ms in [400.0, 520.0, 900.0] {
        let file = write(dir.path(), "one.toml", &row("mine", "hf", 32, ms));
        let mut by_ms = RUN.to_vec();
        let ms_text = ms.to_string();
        by_ms.extend(["--anchor-ms", &ms_text]);
        let mut by_file = RUN.to_vec();
        by_file.extend(["--anchor", &file]);
        let (a, b) = (common::json(&by_ms), common::json(&by_file));
        // One row timing this input's baseline is that measurement, as --anchor-ms's is: no
        // interval on the baseline, and the speed-up's interval the baseline over the run's
        // (the file's baseline carried "500.000 ms (80 %: 392–638 ms)").
        let (a_figures, b_figures) = (figures(a.clone()), figures(b.clone()));
        assert!(b["baseline"]["totals"].get("time_interval_s").is_none());
        assert_eq!(a_figures, b_figures, "{ms} ms");
        assert!(
            (b["baseline"]["totals"]["time_s"].as_f64().unwrap() - ms / 1e3).abs() < 1e-9,
            "{ms} ms: {}",
            b["baseline"]["totals"]["time_s"]
        );
        assert!(b["reduction"]["time_interval"].is_array());
        let notes = b["notes"].to_string();
        assert!(notes.contains("one.toml"), "{notes}");
        // And the other estimate from the measured baseline, as --anchor-ms gives it (the
        // file's run said nothing of it).
        let scaled = |v: &serde_json::Value| -> Vec<String> {
            v["notes"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|n| n.as_str())
                .filter(|n| n.starts_with("the measured baseline ÷ the predicted speed-up"))
                .map(String::from)
                .collect()
        };
        assert_eq!(scaled(&a).len(), 1, "{}", a["notes"]);
        assert_eq!(scaled(&a), scaled(&b), "{ms} ms");
    }
}

/// A one-row file that times another input than the run's (not its baseline) refits the
/// profile but is no measured baseline of this run: no "baseline ÷ speed-up" estimate.
#[test]
fn one_row_of_another_input_gives_no_baseline_estimate() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "other.toml", &row("mine", "hf", 8, 150.0));
    let mut args = RUN.to_vec();
    args.extend(["--anchor", &file]);
    let v = common::json(&args);
    let notes = v["notes"].to_string();
    assert!(notes.contains("other.toml"), "{notes}");
    assert!(!notes.contains("predicted speed-up"), "{notes}");
    assert!(v["baseline"]["totals"]["time_interval_s"].is_array());
}

/// Two rows of one setup with one measurement: least squares on both (each with a user's
/// timing scatter, 2 %, against the priors) lands within a fraction of that scatter of the
/// exact fit of one.
#[test]
fn duplicated_rows_fit_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let one = write(dir.path(), "one.toml", &row("a", "hf", 32, 700.0));
    let two = write(
        dir.path(),
        "two.toml",
        &format!(
            "{}\n{}",
            row("a", "hf", 32, 700.0),
            row("b", "hf", 32, 700.0)
        ),
    );
    let time = |file: &str| {
        let mut args = RUN.to_vec();
        args.extend(["--anchor", file]);
        common::json(&args)["totals"]["time_s"].as_f64().unwrap()
    };
    let (t1, t2) = (time(&one), time(&two));
    assert!((t2 / t1 - 1.0).abs() < 0.005, "{t1} vs {t2}");
}

#[test]
fn bad_files_are_one_line_errors() {
    let dir = tempfile::tempdir().unwrap();
    let run = |file: &str, extra: &[&str]| {
        let mut args = RUN.to_vec();
        args.extend(["--anchor", file]);
        args.extend_from_slice(extra);
        common::fails(&args)
    };
    let file = write(dir.path(), "other.toml", &row("mine", "trtllm", 32, 700.0));
    let e = run(&file, &[]);
    assert!(
        e.contains("other.toml") && e.contains("'mine'") && e.contains("framework = \"trtllm\""),
        "{e}"
    );
    let file = write(dir.path(), "fast.toml", &row("quick", "hf", 32, 1.0));
    let e = run(&file, &[]);
    assert!(
        e.contains("'quick'") && e.contains("measured_ms = 1"),
        "{e}"
    );
    let missing = row("nokey", "hf", 32, 700.0).replace("attention = \"flash\"\n", "");
    let file = write(dir.path(), "missing.toml", &missing);
    let e = run(&file, &[]);
    assert!(e.contains("'nokey'") && e.contains("attention"), "{e}");
    let unknown = row("where", "hf", 32, 700.0).replace("a100-80g", "unknown");
    let file = write(dir.path(), "unknown.toml", &unknown);
    let e = run(&file, &[]);
    assert!(e.contains("'where'") && e.contains("GPU"), "{e}");
    let e = run(&dir.path().join("absent.toml").display().to_string(), &[]);
    assert!(e.contains("absent.toml"), "{e}");
    let e = run(&file, &["--anchor-ms", "500"]);
    assert!(e.contains("--anchor-ms"), "{e}");
    let file = write(dir.path(), "ok.toml", &row("mine", "hf", 32, 700.0));
    let e = common::fails(&["--anchor", file.as_str()]);
    assert!(e.contains("--framework"), "{e}");
}

/// An anchored run also states the other estimate from the same measurement, the baseline
/// times the unanchored predicted speed-up, with that speed-up's interval.
#[test]
fn an_anchor_also_states_the_baseline_times_the_predicted_speedup() {
    let plain = common::json(&RUN);
    let speedup = plain["reduction"]["time"].as_f64().unwrap();
    let [lo, hi] = [0, 1].map(|i| plain["reduction"]["time_interval"][i].as_f64().unwrap());
    let mut args = RUN.to_vec();
    args.extend(["--anchor-ms", "480"]);
    let notes = common::json(&args)["notes"].to_string();
    let want = format!(
        "the measured baseline ÷ the predicted speed-up ({speedup:.2}×) instead: {:.1} ms (80 %: {:.1}–{:.1} ms)",
        480.0 / speedup,
        480.0 / hi,
        480.0 / lo
    );
    assert!(notes.contains(&want), "{notes}\nshould contain: {want}");
}

/// Anchored on a measured baseline, the baseline is that measurement: it carries no interval
/// (JSON, table), nor does a run that is the baseline; the schedule's run does, and the
/// table's interval line says it is what an anchor leaves. Unanchored, the line points to the
/// anchor.
#[test]
fn a_measured_baseline_carries_no_interval() {
    let mut args = RUN.to_vec();
    args.extend(["--anchor-ms", "480"]);
    let r = common::json(&args);
    assert!(
        r["baseline"]["totals"].get("time_interval_s").is_none(),
        "{}",
        r["baseline"]["totals"]
    );
    assert!(r["totals"]["time_interval_s"].is_array(), "{}", r["totals"]);
    assert!(
        r["reduction"]["time_interval"].is_array(),
        "{}",
        r["reduction"]
    );
    let table = common::ok(&args);
    assert_anchored_table(&table);
    let mut none: Vec<&str> = RUN.iter().copied().filter(|a| *a != "fastv").collect();
    none.extend(["none", "--anchor-ms", "480"]);
    let n = common::json(&none);
    assert!(
        n["totals"].get("time_interval_s").is_none(),
        "{}",
        n["totals"]
    );
    let plain = common::ok(&RUN);
    assert!(
        plain.contains("one measured baseline of your own stack (--anchor-ms) narrows it"),
        "{plain}"
    );
    assert!(plain.contains(" ms (80 %: "), "{plain}");
}

/// `compare --anchor-ms` prices every schedule under the profile the anchor refits, as one
/// anchored run per schedule does: the `none` row takes the anchor, every row the time of
/// `aim-sim --schedule X --anchor-ms` with the same flags; its notes say what was refitted; a
/// file of one row anchors it the same way.
#[test]
fn compare_prices_every_schedule_under_the_anchored_profile() {
    let run = ["--framework", "hf", "--gpu", "a100-80g", "--frames", "32"];
    let mut args = vec![
        "compare",
        "--schedule",
        "none,linear,fastv",
        "--anchor-ms",
        "480",
    ];
    args.extend(run);
    let c = common::json(&args);
    let rows = c["rows"].as_array().unwrap();
    let time = |r: &serde_json::Value| r["time_s"].as_f64().unwrap();
    assert!(
        (time(&rows[0]) - 0.48).abs() < 1e-9,
        "{}",
        rows[0]["time_s"]
    );
    // The `none` row is the measurement: no interval; the others carry the anchored one.
    assert!(rows[0].get("time_interval_s").is_none(), "{}", rows[0]);
    assert!(rows[1]["time_interval_s"].is_array(), "{}", rows[1]);
    for r in rows {
        let schedule = r["schedule"].as_str().unwrap();
        let mut one = vec!["--schedule", schedule, "--anchor-ms", "480"];
        one.extend(run);
        let alone = common::json(&one)["totals"]["time_s"].as_f64().unwrap();
        assert!(
            (time(r) / alone - 1.0).abs() < 1e-12,
            "{schedule}: {} vs {alone}",
            time(r)
        );
    }
    let notes = c["notes"].to_string();
    assert!(
        notes.contains("anchored on the measured baseline 480 ms"),
        "{notes}"
    );
    // The refitted profile is named as the profile it came from, marked (it read "inline
    // framework" until 2026-12-07); unanchored, the name given.
    assert_eq!(c["framework"], "hf (anchored)", "{}", c["framework"]);
    let mut html = args.clone();
    html.extend(["--format", "html"]);
    assert!(common::ok(&html).contains("anchored on the measured baseline 480 ms"));
    // The table's interval heading says whose intervals these are: the anchored stack's, not
    // a new stack's (it said the latter until 2026-12-06); unanchored, a new stack's.
    let table = common::ok(&args);
    assert!(
        table.contains("80 % intervals on the anchored stack") && !table.contains("not fitted to"),
        "{table}"
    );
    let mut plain = vec!["compare", "--schedule", "none,linear,fastv"];
    plain.extend(run);
    assert!(common::ok(&plain)
        .contains("80 % intervals on a stack the framework profile was not fitted to"));
    assert_eq!(common::json(&plain)["framework"], "hf");
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "one.toml", &row("mine", "hf", 32, 480.0));
    let mut by_file = vec![
        "compare",
        "--schedule",
        "none,linear,fastv",
        "--anchor",
        &file,
    ];
    by_file.extend(run);
    let f = common::json(&by_file);
    for (a, b) in rows.iter().zip(f["rows"].as_array().unwrap()) {
        assert!((time(a) / time(b) - 1.0).abs() < 1e-9, "{a} vs {b}");
    }
    // Without a fitted profile there is nothing to refit: one line, exit 2.
    let e = common::fails(&["compare", "--schedule", "none,linear", "--anchor-ms", "480"]);
    assert!(
        e.contains("--anchor-ms") && e.contains("--framework"),
        "{e}"
    );
}

/// A single anchored run's HTML page names its profile as the one refitted, marked (it read
/// "framework inline framework" until 2026-12-07).
#[test]
fn an_anchored_runs_page_names_the_refitted_profile() {
    let mut args = RUN.to_vec();
    args.extend(["--anchor-ms", "480", "--format", "html"]);
    let page = common::ok(&args);
    assert!(page.contains("framework hf (anchored)"), "{page}");
    assert!(!page.contains("inline framework"));
}

/// An anchor pins the GPU as well as the harness: on a GPU without fitted values (`a100`, the
/// 40 GB card) the anchored time's interval is still the ratio of two runs of one harness, as
/// wide in log terms as the anchored speed-up's, not the wider interval of an unanchored run
/// on a new GPU (which the anchored run used to take again).
#[test]
fn an_anchor_on_a_gpu_without_fitted_values_is_not_widened_again() {
    let args = [
        "--framework",
        "hf",
        "--gpu",
        "a100",
        "--tokens",
        "6272",
        "--schedule",
        "linear",
        "--anchor-ms",
        "400",
    ];
    let v = common::json(&args);
    let log_half = |pair: &serde_json::Value, value: f64| {
        let [lo, hi] = [0, 1].map(|i| pair[i].as_f64().unwrap());
        assert!(lo < value && value < hi, "{lo} {value} {hi}");
        ((hi / value).ln(), (value / lo).ln())
    };
    let time = log_half(
        &v["totals"]["time_interval_s"],
        v["totals"]["time_s"].as_f64().unwrap(),
    );
    let speedup = log_half(
        &v["reduction"]["time_interval"],
        v["reduction"]["time"].as_f64().unwrap(),
    );
    assert!((time.0 - speedup.0).abs() < 1e-9, "{time:?} {speedup:?}");
    assert!((time.1 - speedup.1).abs() < 1e-9, "{time:?} {speedup:?}");
    let plain = common::json(&args[..8]);
    let unanchored = log_half(
        &plain["totals"]["time_interval_s"],
        plain["totals"]["time_s"].as_f64().unwrap(),
    );
    assert!(time.0 < unanchored.0, "{time:?} against {unanchored:?}");
}

/// An anchored run's JSON replays as the anchored run (`--spec run.json`): the same figures,
/// the baseline still the measurement (no interval; "measured: the anchor"), the interval line
/// the anchored one. It used to replay the times with the baseline given an interval and the
/// line of an unanchored run. Replayed on another input, the baseline is predicted again.
#[test]
fn an_anchored_runs_json_replays_as_anchored() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    let mut args = RUN.to_vec();
    args.extend(["--anchor-ms", "480", "-o", json.to_str().unwrap()]);
    common::ok(&args);
    let first: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let spec = ["--spec", json.to_str().unwrap()];
    let replay = common::json(&spec);
    for key in ["totals", "reduction"] {
        assert_eq!(replay[key], first[key], "{key}");
    }
    assert_eq!(replay["baseline"]["totals"], first["baseline"]["totals"]);
    assert!(first["baseline"]["totals"]["time_interval_s"].is_null());
    let table = common::ok(&spec);
    assert_anchored_table(&table);
    let mut other = spec.to_vec();
    other.extend(["--frames", "16"]);
    let moved = common::json(&other);
    assert!(!moved["baseline"]["totals"]["time_interval_s"].is_null());
    let table = common::ok(&other);
    assert!(!table.contains("measured: the anchor"), "{table}");
    assert!(
        table.contains("interval: 80 % of runs on the anchored stack"),
        "{table}"
    );
}

/// The lines of `text` that are notes.
fn note_lines(text: &str) -> Vec<&str> {
    text.lines().filter(|l| l.starts_with("note: ")).collect()
}

/// An anchored run's JSON replayed (`--spec run.json`) says the anchor's notes again, as the
/// anchored run printed them: what was refitted (`--anchor-ms` and `--anchor FILE`) and the
/// measured baseline ÷ the predicted speed-up (both: the file's one row is this baseline); the replay's JSON is the run's,
/// byte for byte. The replay used to keep the refitted profile and figures but drop both notes.
/// The second note is the anchored run's alone: a replay with another schedule keeps the first
/// only; a replay anchored again says the new anchor's notes, not the old ones as well.
#[test]
fn an_anchored_runs_replay_says_the_anchors_notes() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "rows.toml", &row("mine", "hf", 32, 480.0));
    for anchor in [["--anchor-ms", "480"], ["--anchor", file.as_str()]] {
        let json = dir.path().join("run.json");
        let mut args = RUN.to_vec();
        args.extend(anchor);
        let table = common::ok(&args);
        let notes = note_lines(&table);
        assert!(
            notes.iter().any(|n| n.starts_with("note: anchored on ")),
            "{table}"
        );
        // A one-row file timing this input's baseline is a measured baseline too (the file's
        // run used to leave this note out).
        assert!(
            notes.iter().any(|n| n.contains("÷ the predicted speed-up")),
            "{table}"
        );
        args.extend(["--format", "json", "-o", json.to_str().unwrap()]);
        common::ok(&args);
        let first = std::fs::read_to_string(&json).unwrap();
        let spec = ["--spec", json.to_str().unwrap()];
        let replayed = common::ok(&spec);
        assert_eq!(note_lines(&replayed), notes, "{anchor:?}");
        let mut as_json = spec.to_vec();
        as_json.extend(["--format", "json"]);
        assert_eq!(common::ok(&as_json), first, "{anchor:?}");
        // Another schedule: the profile's refit still holds, the run's own note does not.
        let mut other = spec.to_vec();
        other.extend(["--schedule", "linear"]);
        let moved = common::ok(&other);
        assert_eq!(
            note_lines(&moved).last(),
            notes.iter().find(|n| n.starts_with("note: anchored on ")),
            "{moved}"
        );
        assert!(!moved.contains("÷ the predicted speed-up"), "{moved}");
        // Anchored again: the new anchor's notes alone.
        let mut again = spec.to_vec();
        again.extend(["--anchor-ms", "500"]);
        let again = common::ok(&again);
        let anchored: Vec<_> = note_lines(&again)
            .into_iter()
            .filter(|n| n.starts_with("note: anchored on "))
            .collect();
        assert_eq!(anchored.len(), 1, "{again}");
        assert!(
            anchored[0].contains("the measured baseline 500 ms"),
            "{again}"
        );
        assert_eq!(
            again.matches("÷ the predicted speed-up").count(),
            1,
            "{again}"
        );
    }
}

/// `sweep --anchor-ms` prices every schedule under the profile the anchor refits, as one
/// anchored run per schedule does (`aim-sim --schedule X --anchor-ms`): the same times and
/// intervals; the baseline is the measurement (a zero-width interval, "measured" in the table)
/// and the note goes to standard error. `--anchor FILE` anchors a sweep over frames (each row
/// names its input); a measured baseline of one input cannot anchor several, nor an anchor of
/// one GPU several GPUs: one-line errors (exit 2). (`sweep` took no anchor until 2026-12-06.)
#[test]
fn a_sweep_prices_every_row_under_the_anchored_profile() {
    let run = ["--framework", "hf", "--gpu", "a100-80g", "--frames", "32"];
    let mut args = vec![
        "sweep",
        "--schedule",
        "none,linear,fastv",
        "--anchor-ms",
        "480",
    ];
    args.extend(run);
    let rows = common::json(&args);
    let rows = rows.as_array().unwrap();
    assert_eq!(rows.len(), 3);
    let f = |v: &serde_json::Value| v.as_f64().unwrap();
    for r in rows {
        let schedule = r["schedule"].as_str().unwrap();
        let mut one = vec!["--schedule", schedule, "--anchor-ms", "480"];
        one.extend(run);
        let alone = common::json(&one);
        let t = &alone["totals"];
        assert!(
            (f(&r["time_s"]) / f(&t["time_s"]) - 1.0).abs() < 1e-12,
            "{schedule}"
        );
        assert!((f(&r["baseline_time_s"]) - 0.48).abs() < 1e-12, "{r}");
        assert_eq!(r["baseline_time_low_s"], r["baseline_time_high_s"], "{r}");
        assert_eq!(r["framework"], "hf (anchored)", "as compare names it");
        match t.get("time_interval_s") {
            Some(iv) => {
                assert!((f(&r["time_low_s"]) / f(&iv[0]) - 1.0).abs() < 1e-12, "{r}");
                assert!(
                    (f(&r["time_high_s"]) / f(&iv[1]) - 1.0).abs() < 1e-12,
                    "{r}"
                );
                let s = &alone["reduction"]["time_interval"];
                assert!((f(&r["reduction_time_low"]) / f(&s[0]) - 1.0).abs() < 1e-12);
            }
            // The `none` row is the measurement itself.
            None => {
                assert_eq!(schedule, "none");
                assert_eq!(r["time_low_s"], r["time_high_s"], "{r}");
            }
        }
    }
    let out = common::run(&args);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("note: anchored on the measured baseline 480 ms"),
        "{stderr}"
    );
    let table = common::ok(&args);
    assert!(
        table.lines().nth(1).unwrap().contains("measured"),
        "{table}"
    );

    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mine.toml",
        &format!(
            "{}\n{}",
            row("a", "hf", 8, 140.0),
            row("b", "hf", 32, 480.0)
        ),
    );
    let by_file = common::json(&[
        "sweep",
        "--frames",
        "8,32",
        "--schedule",
        "linear",
        "--framework",
        "hf",
        "--gpu",
        "a100-80g",
        "--anchor",
        &file,
    ]);
    for r in by_file.as_array().unwrap() {
        let frames = r["frames"].to_string();
        let alone = common::json(&[
            "--frames",
            &frames,
            "--schedule",
            "linear",
            "--framework",
            "hf",
            "--gpu",
            "a100-80g",
            "--anchor",
            &file,
        ]);
        let t = &alone["totals"];
        assert!(
            (f(&r["time_s"]) / f(&t["time_s"]) - 1.0).abs() < 1e-12,
            "{r}"
        );
        assert!((f(&r["time_low_s"]) / f(&t["time_interval_s"][0]) - 1.0).abs() < 1e-12);
    }
    let e = common::fails(&[
        "sweep",
        "--frames",
        "8,32",
        "--framework",
        "hf",
        "--anchor-ms",
        "480",
    ]);
    assert!(
        e.contains("--anchor-ms")
            && e.contains("--frames (2 values)")
            && e.contains("--anchor (a measurement file"),
        "{e}"
    );
    let e = common::fails(&[
        "sweep",
        "--gpu",
        "a100-80g,h100",
        "--framework",
        "hf",
        "--anchor",
        &file,
    ]);
    assert!(e.contains("2 GPUs"), "{e}");
}

/// Rows measured on another GPU used to anchor the run anyway (rows on the A100 80GB, the run
/// on an H100: an anchored, narrower interval and no word of it). An anchor pins one GPU, so
/// it is refused, naming both GPUs and the fix; rows on the run's GPU (a preset's alias too)
/// still anchor, and `--anchor-ms` is unaffected.
#[test]
fn an_anchor_measured_on_another_gpu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "mine.toml", &row("mine", "hf", 32, 700.0));
    let mut args = RUN.to_vec();
    args[3] = "h100";
    args.extend(["--anchor", &file]);
    let e = common::fails(&args);
    assert!(
        e.contains("mine.toml")
            && e.contains("measured on a100-80g")
            && e.contains("the run is on h100")
            && e.contains("--gpu a100-80g"),
        "{e}"
    );
    let mixed = write(
        dir.path(),
        "mixed.toml",
        &format!(
            "{}\n{}",
            row("a", "hf", 32, 700.0),
            row("b", "hf", 16, 400.0).replace("a100-80g", "h100")
        ),
    );
    let mut on_a100 = RUN.to_vec();
    on_a100.extend(["--anchor", &mixed]);
    let e = common::fails(&on_a100);
    assert!(
        e.contains("measured on h100") && e.contains("run is on a100-80g"),
        "{e}"
    );
    let mut by_ms = RUN.to_vec();
    by_ms[3] = "h100";
    by_ms.extend(["--anchor-ms", "400"]);
    common::ok(&by_ms);
}

/// A replayed anchored run on another GPU priced that GPU with the refit made on the anchor's
/// (`--spec run.json --gpu h100` of a run anchored on the RTX 4090: 20.9 ms, 80 %: 16.3–26.6,
/// matmul 79 % and 8.7 µs per op, against 33.0 ms, 80 %: 22.0–49.7 unanchored), as a live
/// anchor on another GPU is refused. The anchored profile now names its GPU, and a run on
/// another is refused the same way: one line, exit 2, with the way out.
#[test]
fn a_replayed_anchored_run_on_another_gpu_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("run.json");
    common::ok(&[
        "--gpu",
        "rtx4090",
        "--model",
        "llava-1.5-7b",
        "--framework",
        "hf",
        "--schedule",
        "fastv",
        "--anchor-ms",
        "72.7",
        "-o",
        json.to_str().unwrap(),
    ]);
    let spec = json.to_str().unwrap();
    let err = common::fails(&["--spec", spec, "--gpu", "h100"]);
    assert!(
        err.contains("refitted to a measurement on the NVIDIA GeForce RTX 4090")
            && err.contains(&format!("error: {spec}: framework hf was refitted"))
            && err.contains("give framework hf"),
        "{err}"
    );
    // The same GPU replays, and the way out the error names prices the other GPU unanchored.
    common::ok(&["--spec", spec]);
    let unanchored = common::json(&["--spec", spec, "--gpu", "h100", "--framework", "hf"]);
    assert!(!unanchored["totals"]["time_interval_s"].is_null());
}

/// `--anchor FILE` refused a file only when no row could be reached: one row measured faster
/// than its fastest price beside rows that can (a GPU file copied for another card, a timer
/// that missed work) pulled the least squares to a bound in silence ("GEMM efficiency
/// refitted to 100.0 % of peak"). Any row beyond reach is now the error, naming it.
#[test]
fn one_row_beyond_reach_is_refused_with_its_id() {
    let dir = tempfile::tempdir().unwrap();
    let text = row("ok", "hf", 32, 700.0) + "\n" + &row("quick", "hf", 16, 1.0);
    let file = write(dir.path(), "mixed.toml", &text);
    let mut args = RUN.to_vec();
    args.extend(["--anchor", file.as_str()]);
    let e = common::fails(&args);
    assert!(
        e.contains("mixed.toml")
            && e.contains("'quick'")
            && e.contains("no values within bounds reach it")
            && e.contains("or drop the row"),
        "{e}"
    );
    // The reachable row alone anchors.
    let file = write(dir.path(), "ok.toml", &row("ok", "hf", 32, 700.0));
    let mut args = RUN.to_vec();
    args.extend(["--anchor", file.as_str()]);
    common::ok(&args);
}

/// An anchored run on a GPU without fitted values said, beside the anchor's note (the interval
/// is what an anchor leaves), that its interval was "the scatter between harnesses on fitted
/// GPUs": the note on pooled values now says the anchored interval is the anchor's.
#[test]
fn an_anchored_run_on_pooled_values_describes_one_interval() {
    let out = common::run(&[
        "--tokens",
        "6272",
        "--schedule",
        "linear",
        "--gpu",
        "a100",
        "--framework",
        "hf",
        "--anchor-ms",
        "480",
    ]);
    assert!(out.status.success());
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        text.contains("no parameters fitted for GPU 'a100'"),
        "{text}"
    );
    assert!(
        text.contains(
            "the anchor was timed on this GPU, so the 80 % interval is what the anchor leaves"
        ),
        "{text}"
    );
    assert!(!text.contains("scatter between harnesses"), "{text}");
    assert!(!text.contains("at least as wide as the errors"), "{text}");
}

/// Anchored on a measured baseline, the run's time is the baseline over the speed-up, so their
/// intervals are one interval: with the run's low end held at its roofline, the speed-up's own
/// σ once claimed 6.77× where 335 ms ÷ the 56.8 ms roofline (5.90×) is the most (hf), and
/// trtllm's two intervals disagreed at both ends. The note's other estimate (the baseline ÷ the
/// predicted speed-up, once written "×") is held at the roofline too.
#[test]
fn an_anchored_speedup_is_the_baseline_over_the_runs_interval() {
    for framework in ["hf", "trtllm"] {
        let args = [
            "--framework",
            framework,
            "--gpu",
            "a100-80g",
            "--anchor-ms",
            "335",
        ];
        let r = common::json(&args);
        let pair = |v: &serde_json::Value| [v[0].as_f64().unwrap(), v[1].as_f64().unwrap()];
        let [t_lo, t_hi] = pair(&r["totals"]["time_interval_s"]);
        let [s_lo, s_hi] = pair(&r["reduction"]["time_interval"]);
        let base_s = r["baseline"]["totals"]["time_s"].as_f64().unwrap();
        assert!((base_s - 0.335).abs() < 1e-12, "{base_s}");
        assert!((s_hi - base_s / t_lo).abs() < 1e-9 * s_hi, "{framework}");
        assert!((s_lo - base_s / t_hi).abs() < 1e-9 * s_lo, "{framework}");
        let roofline = common::json(&["--gpu", "a100-80g"])["totals"]["time_s"]
            .as_f64()
            .unwrap();
        assert!(
            s_hi <= base_s / roofline * (1.0 + 1e-9),
            "{framework}: {s_hi}"
        );
        let notes = r["notes"].to_string();
        let at = notes
            .find("the measured baseline ÷ the predicted speed-up")
            .unwrap();
        let low_ms: f64 = notes[at..]
            .split("80 %: ")
            .nth(1)
            .and_then(|t| t.split('–').next())
            .unwrap()
            .parse()
            .unwrap();
        assert!(low_ms >= (roofline * 1e3 * 10.0).floor() / 10.0, "{notes}");
    }
}

/// A replayed anchored run (`--spec run.json`) anchored again started its refit from the first
/// refit (500 ms over a run anchored at 400 gave 98.9 ms where a fresh anchor gives 99.1), and
/// `compare` on the replay named the profile plain `hf`, dropped the anchor's note and gave the
/// measured `none` row an interval. Both are now the fresh anchored run's, output for output.
#[test]
fn an_anchored_replay_is_the_fresh_anchored_run() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("a400.json");
    let json = json.to_str().unwrap();
    let base = ["--framework", "hf", "--gpu", "a100-80g"];
    common::ok(&[&base[..], &["--anchor-ms", "400", "-o", json]].concat());
    assert_eq!(
        common::ok(&["--spec", json, "--anchor-ms", "500"]),
        common::ok(&[&base[..], &["--anchor-ms", "500"]].concat())
    );
    for format in ["table", "csv"] {
        let schedules = ["compare", "--schedule", "none,linear", "--format", format];
        let replay = common::ok(&[&schedules[..], &["--spec", json]].concat());
        let fresh = common::ok(&[&schedules[..], &base[..], &["--anchor-ms", "400"]].concat());
        assert_eq!(replay, fresh, "{format}");
    }
}

/// An anchor out of reach is echoed as typed: 0.0001 read "0.000", 1e300 three hundred digits.
#[test]
fn an_unreachable_anchor_is_echoed_as_typed() {
    for (typed, echoed) in [("0.0001", "0.0001"), ("1e300", "1e300"), ("5", "5.000")] {
        let mut args = RUN.to_vec();
        args.extend(["--anchor-ms", typed]);
        let e = common::fails(&args);
        assert!(
            e.contains(&format!("--anchor-ms {echoed}: framework")) && e.len() < 700,
            "{e}"
        );
    }
}

/// A row with `fit = false` is never fitted (`fit` leaves it out), and an anchor is a fit: it
/// was fitted in silence (a 30 ms row marked fit = false moved the run from 45.4 to 32.9 ms).
/// The anchor is the file without it, and says so; a file of such rows alone is refused.
#[test]
fn rows_with_fit_false_do_not_anchor() {
    let dir = tempfile::tempdir().unwrap();
    let kept = row("a", "hf", 32, 520.0) + "\n" + &row("b", "hf", 8, 150.0);
    let plain = write(dir.path(), "plain.toml", &kept);
    let marked = write(
        dir.path(),
        "marked.toml",
        &format!("{kept}\n{}fit = false\n", row("c", "hf", 16, 40.0)),
    );
    let time = |file: &str| {
        let mut args = RUN.to_vec();
        args.extend(["--anchor", file]);
        let v = common::json(&args);
        (
            v["totals"]["time_s"].as_f64().unwrap(),
            v["notes"].to_string(),
        )
    };
    let ((t_plain, _), (t_marked, notes)) = (time(&plain), time(&marked));
    assert_eq!(t_plain, t_marked);
    assert!(
        notes.contains("2 measured row(s)")
            && notes.contains("its 1 row(s) with fit = false left out"),
        "{notes}"
    );
    let only = write(
        dir.path(),
        "only.toml",
        &format!("{}fit = false\n", row("c", "hf", 16, 40.0)),
    );
    let mut args = RUN.to_vec();
    args.extend(["--anchor", &only]);
    let e = common::fails(&args);
    assert!(e.contains("every row says fit = false"), "{e}");
}
