//! `aim-sim reproduce`: every paper row beside aim-sim's figures, differences tiny.

mod common;

#[test]
fn twenty_rows_within_rounding_of_the_paper() {
    let v = common::json(&["reproduce"]);
    let rows = v["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 20);
    for row in rows {
        let id = row["id"].as_str().unwrap();
        for key in ["tflops_rel_diff_vs_paper", "ms_rel_diff_vs_paper"] {
            // Printed to 2 decimals (1.0 for one row): at most 0.3 % off.
            let d = row[key].as_f64().unwrap();
            assert!(d.abs() < 3.1e-3, "{id} {key} = {d}");
        }
        for key in ["tflops_rel_diff_vs_exact", "ms_rel_diff_vs_exact"] {
            // Exact values are given to 4 (TFLOPs) and 3 (ms) decimals.
            let d = row[key].as_f64().unwrap();
            assert!(d.abs() < 5e-5, "{id} {key} = {d}");
        }
        let args = row["args"].as_str().unwrap();
        assert!(args.contains("--cost-model llm-viewer"), "{args}");
    }
    assert!(v["max_abs_rel_diff_vs_exact"].as_f64().unwrap() < 5e-5);
}

#[test]
fn table_and_csv_list_every_row() {
    let table = common::ok(&["reproduce"]);
    for case in aim_sim::paper::cases() {
        assert!(table.contains(&case.id), "{} missing", case.id);
    }
    assert!(table.contains("6.75× fewer FLOPs"), "{table}");
    assert!(table.contains("7.99× less prefill time"), "{table}");
    let csv = common::ok(&["reproduce", "--format", "csv"]);
    assert_eq!(csv.lines().count(), 21);
}

/// Every format carries what the JSON does: CSV and Markdown once dropped `setting` and `args`,
/// and the headline ("6.75× … 7.99×") was in the table alone; the help says the units the
/// fields are in (it said "base units (FLOPs, bytes, seconds)" of `paper_tflops`, `aim_sim_ms`).
#[test]
fn every_format_carries_the_rows_settings_and_the_headline() {
    let v = common::json(&["reproduce"]);
    let h = &v["headline"];
    assert_eq!(
        (h["baseline_id"].as_str(), h["aim_id"].as_str()),
        (Some("ov-base"), Some("ov-aim"))
    );
    let (fr, tr) = (
        h["flops_reduction"].as_f64().unwrap(),
        h["time_reduction"].as_f64().unwrap(),
    );
    assert_eq!(format!("{fr:.2} {tr:.2}"), "6.75 7.99");
    assert_eq!(
        (
            h["paper_flops_reduction"].as_f64(),
            h["paper_time_reduction"].as_f64()
        ),
        (Some(6.8), Some(8.0))
    );
    let rows = v["rows"].as_array().unwrap();
    let json_keys: Vec<&str> = rows[0]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    let csv = common::ok(&["reproduce", "--format", "csv"]);
    let header: Vec<&str> = csv.lines().next().unwrap().split(',').collect();
    let mut sorted = header.clone();
    sorted.sort_unstable();
    let mut want = json_keys.clone();
    want.sort_unstable();
    assert_eq!(sorted, want, "the CSV's columns are the JSON's");
    assert_eq!(&header[..3], ["id", "setting", "args"]);
    // A setting with a comma is one quoted field; each row's args are the JSON's.
    for row in rows {
        let (setting, args) = (
            row["setting"].as_str().unwrap(),
            row["args"].as_str().unwrap(),
        );
        let quoted = if setting.contains(',') {
            format!("\"{setting}\"")
        } else {
            setting.to_string()
        };
        let line = format!("{},{quoted},{args},", row["id"].as_str().unwrap());
        assert!(csv.lines().any(|l| l.starts_with(&line)), "{line}");
    }
    let md = common::ok(&["reproduce", "--format", "markdown"]);
    assert!(
        md.starts_with("| id | setting | args | paper_tflops |"),
        "{md}"
    );
    assert!(
        md.contains("| --model llava-ov-7b --gpu a100 --cost-model llm-viewer"),
        "{md}"
    );
    let help = common::ok(&["reproduce", "--help"]);
    for line in [
        "- json      TFLOPs and ms, as each field's name says, pretty-printed",
        "- csv       Rows with a header, TFLOPs and ms, as each field's name says",
        "- markdown  The CSV's rows as a Markdown pipe table, TFLOPs and ms, as each field's name says",
    ] {
        assert!(help.contains(line), "{line}\n{help}");
    }
    assert!(!help.contains("Base units"), "{help}");
    // Other commands' figures are in base units, and their help still says so.
    let help = common::ok(&["sweep", "--help"]);
    assert!(
        help.contains("- json      Base units (FLOPs, bytes, seconds), pretty-printed"),
        "{help}"
    );
}
