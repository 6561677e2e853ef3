//! `aim-sim check` and `aim-sim fit` through the real binary: figures against hand-computed
//! ones on a small file, speed-ups, one-line errors naming the row.

mod common;

use std::path::Path;

/// One `[[measurement]]` table.
fn row(id: &str, model: &str, framework: &str, frames: u64, extra: &str, ms: f64) -> String {
    format!(
        "[[measurement]]\nid = \"{id}\"\nsource = \"fixture\"\nmodel = \"{model}\"\ngpu = \"a100-80g\"\nframework = \"{framework}\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\na_bits = 16\nkv_bits = 16\nbatch = 1\ntext_tokens = 100\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = {ms}\n{extra}\n"
    )
}

fn write(dir: &Path, text: &str) -> String {
    let path = dir.join("m.toml");
    std::fs::write(&path, text).unwrap();
    path.to_str().unwrap().to_string()
}

/// The time the main command predicts for the same run, ms.
fn predicted_ms(args: &[&str]) -> f64 {
    let mut all = vec![
        "--model",
        "llava-ov-7b",
        "--gpu",
        "a100-80g",
        "--text-tokens",
        "100",
    ];
    all.extend_from_slice(args);
    common::json(&all)["totals"]["time_s"].as_f64().unwrap() * 1e3
}

#[test]
fn figures_are_the_hand_computed_ones() {
    let dir = tempfile::tempdir().unwrap();
    // Three roofline rows with measured times chosen off the prediction by known factors.
    let p8 = predicted_ms(&["--frames", "8", "--schedule", "none"]);
    let p16 = predicted_ms(&["--frames", "16", "--schedule", "none"]);
    let p16_fastv = predicted_ms(&["--frames", "16", "--schedule", "fastv"]);
    let text = [
        row("a", "llava-ov-7b", "roofline", 8, "", p8 / 0.9), // error -10 %
        row("b", "llava-ov-7b", "roofline", 16, "", p16 / 1.3), // error +30 %
        row(
            "c",
            "llava-ov-7b",
            "roofline",
            16,
            "baseline = \"b\"",
            p16_fastv / 1.05, // error +5 %
        )
        .replace("schedule = \"none\"", "schedule = \"fastv\""),
    ]
    .concat();
    let file = write(dir.path(), &text);
    let r = common::json(&["check", &file]);
    let rows = r["rows"].as_array().unwrap();
    let err = |i: usize| rows[i]["error"].as_f64().unwrap();
    assert!((err(0) + 0.10).abs() < 1e-9, "{}", err(0));
    assert!((err(1) - 0.30).abs() < 1e-9, "{}", err(1));
    assert!((err(2) - 0.05).abs() < 1e-9, "{}", err(2));
    // Roofline rows: the profile is the roofline itself.
    assert_eq!(rows[0]["predicted_ms"], rows[0]["roofline_ms"]);
    let all = r["summary"].as_array().unwrap().last().unwrap();
    assert_eq!(all["group"], "all");
    // |errors| 0.10, 0.30, 0.05: median 0.10, worst 0.30 (row b).
    let s = &all["calibrated"];
    assert!((s["median_abs_error"].as_f64().unwrap() - 0.10).abs() < 1e-9);
    assert!((s["worst_abs_error"].as_f64().unwrap() - 0.30).abs() < 1e-9);
    assert_eq!(s["worst_id"], "b");
    // Speed-up of c over b: measured (p16/1.3) / (p16_fastv/1.05), predicted p16 / p16_fastv.
    let sp = &r["speedups"][0];
    assert_eq!(
        (sp["id"].as_str(), sp["baseline"].as_str()),
        (Some("c"), Some("b"))
    );
    let measured = (p16 / 1.3) / (p16_fastv / 1.05);
    assert!((sp["measured_speedup"].as_f64().unwrap() / measured - 1.0).abs() < 1e-9);
    let predicted = p16 / p16_fastv;
    assert!((sp["predicted_speedup"].as_f64().unwrap() / predicted - 1.0).abs() < 1e-9);
    assert!((sp["error"].as_f64().unwrap() - (predicted / measured - 1.0)).abs() < 1e-9);
    // Table and CSV carry the same rows.
    let table = common::ok(&["check", &file]);
    assert!(
        table.contains("+30.0%") && table.contains("-10.0%"),
        "{table}"
    );
    let csv = common::ok(&["check", &file, "--format", "csv"]);
    assert_eq!(csv.lines().count(), 4, "{csv}");
}

#[test]
fn a_framework_profile_changes_the_prediction_not_the_roofline() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), &row("x", "llava-1.5-7b", "hf", 1, "", 60.0));
    let r = common::json(&["check", &file]);
    let x = &r["rows"][0];
    let (p, q) = (
        x["predicted_ms"].as_f64().unwrap(),
        x["roofline_ms"].as_f64().unwrap(),
    );
    assert!(p > 1.5 * q, "hf {p} vs roofline {q}");
    // The same as the main command with --framework hf.
    let main = common::json(&[
        "--model",
        "llava-1.5-7b",
        "--gpu",
        "a100-80g",
        "--framework",
        "hf",
        "--frames",
        "1",
        "--tokens-per-frame",
        "196",
        "--text-tokens",
        "100",
        "--schedule",
        "none",
        "--attention",
        "flash",
    ]);
    let t = main["totals"]["time_s"].as_f64().unwrap() * 1e3;
    assert!((t / p - 1.0).abs() < 1e-12, "{t} vs {p}");
}

#[test]
fn rows_without_a_known_setting_are_listed_not_priced() {
    let dir = tempfile::tempdir().unwrap();
    let text = [
        row("base", "llava-1.5-7b", "hf", 1, "", 60.0),
        row(
            "r",
            "llava-1.5-7b",
            "hf",
            1,
            "setting_known = false\nbaseline = \"base\"",
            40.0,
        ),
    ]
    .concat();
    let r = common::json(&["check", &write(dir.path(), &text)]);
    assert!(r["rows"][1]["predicted_ms"].is_null());
    assert!(r["rows"][1]["not_priced"]
        .as_str()
        .unwrap()
        .contains("token budget"));
    assert!(r["speedups"].as_array().unwrap().is_empty());
}

#[test]
fn bad_rows_are_one_line_errors_naming_the_row() {
    let dir = tempfile::tempdir().unwrap();
    for (bad, expect) in [
        (row("m1", "no-such-model", "hf", 1, "", 10.0), "m1"),
        (
            row("g1", "llava-1.5-7b", "hf", 1, "", 10.0).replace("a100-80g", "tpu9"),
            "g1",
        ),
        (row("f1", "llava-1.5-7b", "vllm-nope", 1, "", 10.0), "f1"),
        (
            row("s1", "llava-1.5-7b", "hf", 1, "", 10.0).replace("\"none\"", "\"nonexistent\""),
            "s1",
        ),
        (row("n1", "llava-1.5-7b", "hf", 1, "", -3.0), "measured_ms"),
        (
            row("b1", "llava-1.5-7b", "hf", 1, "baseline = \"zz\"", 3.0),
            "baseline 'zz'",
        ),
        (
            [
                row("d", "llava-1.5-7b", "hf", 1, "", 3.0),
                row("d", "llava-1.5-7b", "hf", 1, "", 3.0),
            ]
            .concat(),
            "used twice",
        ),
        (
            row("k1", "llava-1.5-7b", "hf", 1, "colour = 3", 3.0),
            "colour",
        ),
        ("".into(), "measurement"),
    ] {
        let file = write(dir.path(), &bad);
        let err = common::fails(&["check", &file]);
        assert!(err.contains(expect), "{expect}: {err}");
    }
    let err = common::fails(&["check", "/no/such/file.toml"]);
    assert!(err.contains("/no/such/file.toml"), "{err}");
}

#[test]
fn fit_writes_profiles_the_main_command_reads() {
    let dir = tempfile::tempdir().unwrap();
    // Four hf rows on one GPU, measured 1.5x the roofline's time: the fit must find a profile
    // that reproduces them.
    let mut text = String::new();
    for (i, frames) in [1u64, 2, 4, 8].iter().enumerate() {
        let ideal = predicted_ms(&["--frames", &frames.to_string(), "--schedule", "none"]);
        text += &row(
            &format!("r{i}"),
            "llava-ov-7b",
            "hf",
            *frames,
            "",
            ideal * 1.5,
        );
    }
    let file = write(dir.path(), &text);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let printed = common::ok(&["fit", &file, "--write", out.to_str().unwrap()]);
    assert!(printed.contains("framework hf: 4 rows"), "{printed}");
    let profile = out.join("hf.toml");
    let text = std::fs::read_to_string(&profile).unwrap();
    assert!(
        text.contains("[gpu.a100-80g]") && text.contains("provenance"),
        "{text}"
    );
    let run = common::json(&[
        "--framework",
        profile.to_str().unwrap(),
        "--gpu",
        "a100-80g",
        "--model",
        "llava-ov-7b",
        "--frames",
        "4",
        "--text-tokens",
        "100",
        "--schedule",
        "none",
    ]);
    let ideal = predicted_ms(&["--frames", "4", "--schedule", "none"]);
    let t = run["totals"]["time_s"].as_f64().unwrap() * 1e3;
    assert!(
        (t / (ideal * 1.5) - 1.0).abs() < 0.03,
        "{t} vs {}",
        ideal * 1.5
    );
    let err = common::fails(&["fit", &file, "--framework", "nope"]);
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn framework_flags_are_checked() {
    let err = common::fails(&["--framework", "nope"]);
    assert!(
        err.contains("unknown framework 'nope'") && err.contains("trtllm"),
        "{err}"
    );
    let err = common::fails(&["--framework", "hf", "--cost-model", "llm-viewer"]);
    assert!(err.contains("refined"), "{err}");
    // A GPU without fitted parameters: the pooled ones, and a note says so.
    let r = common::json(&["--framework", "trtllm", "--gpu", "rtx4090"]);
    let notes = r["notes"].as_array().unwrap();
    assert!(
        notes
            .iter()
            .any(|n| n.as_str().unwrap().contains("no parameters fitted")),
        "{notes:?}"
    );
}

/// Issue 21: a time predicted under a fitted profile carries its 80 % interval (the profile's
/// leave-one-source-out spread), in `simulate`'s JSON and table and in `check`'s rows; the
/// roofline, a bound, carries none.
#[test]
fn fitted_predictions_carry_an_interval_and_the_roofline_none() {
    let d = common::json(&["--framework", "hf", "--gpu", "a100-80g"]);
    let t = d["totals"]["time_s"].as_f64().unwrap();
    let i = &d["totals"]["time_interval_s"];
    let (lo, hi) = (i[0].as_f64().unwrap(), i[1].as_f64().unwrap());
    assert!(lo < t && t < hi, "{lo} {t} {hi}");
    // Log-symmetric: the prediction is the geometric centre.
    assert!(((lo * hi).sqrt() / t - 1.0).abs() < 1e-9);
    let s = d["reduction"]["time"].as_f64().unwrap();
    let si = &d["reduction"]["time_interval"];
    assert!(si[0].as_f64().unwrap() < s && s < si[1].as_f64().unwrap());
    let table = common::ok(&["--framework", "hf", "--gpu", "a100-80g"]);
    assert!(table.contains("(80 %: "), "{table}");

    let roof = common::json(&["--gpu", "a100-80g"]);
    assert!(roof["totals"].get("time_interval_s").is_none());
    assert!(roof["reduction"].get("time_interval").is_none());
    assert!(!common::ok(&["--gpu", "a100-80g"]).contains("80 %"));

    let dir = tempfile::tempdir().unwrap();
    let text = [
        row("a", "llava-ov-7b", "hf", 8, "", 100.0),
        row("b", "llava-ov-7b", "roofline", 8, "", 100.0),
    ]
    .concat();
    let r = common::json(&["check", &write(dir.path(), &text)]);
    let rows = r["rows"].as_array().unwrap();
    let p = rows[0]["predicted_ms"].as_f64().unwrap();
    let iv = &rows[0]["predicted_interval_ms"];
    assert!(iv[0].as_f64().unwrap() < p && p < iv[1].as_f64().unwrap());
    assert!(rows[1].get("predicted_interval_ms").is_none());
}

/// Issue 24 item 9: hf has no H100 rows (its [gpu.h100] only fixes attention), so a run there
/// is pooled, and says so — not "fitted for h100".
#[test]
fn a_gpu_the_profile_was_not_fitted_on_says_pooled() {
    let out = common::ok(&["--framework", "hf", "--gpu", "h100"]);
    assert!(!out.contains("fitted for h100"), "{out}");
    assert!(out.contains("framework hf (pooled parameters)"), "{out}");
    assert!(out.contains("no parameters fitted for GPU 'h100'"), "{out}");
}

/// `--cv source` leaves a row's whole source group out: with two sources, each is predicted
/// from the other alone; `--loo` is `--cv row`.
#[test]
fn cross_validation_by_source_and_by_row() {
    let dir = tempfile::tempdir().unwrap();
    let group = |g: &str| format!("source_group = \"{g}\"");
    let text = [
        row("a", "llava-ov-7b", "hf", 8, &group("p"), 120.0),
        row("b", "llava-ov-7b", "hf", 16, &group("p"), 200.0),
        row("c", "llava-ov-7b", "hf", 8, &group("q"), 90.0),
        row("d", "llava-ov-7b", "hf", 16, &group("q"), 160.0),
    ]
    .concat();
    let file = write(dir.path(), &text);
    let r = common::json(&["check", &file, "--cv"]);
    let rows = r["rows"].as_array().unwrap();
    for x in rows {
        assert!(x["loso_predicted_ms"].as_f64().is_some(), "{x}");
        assert!(x.get("loo_predicted_ms").is_none(), "{x}");
    }
    let hf = &r["summary"][0];
    assert_eq!(hf["source_groups"], 2);
    assert_eq!(hf["loso"]["rows"], 4);
    let loo = common::json(&["check", &file, "--loo"]);
    let row_cv = common::json(&["check", &file, "--cv", "row"]);
    assert_eq!(loo["rows"], row_cv["rows"]);
    assert!(loo["rows"][0]["loo_predicted_ms"].as_f64().is_some());
}
