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
