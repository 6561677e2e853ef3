//! Every printed row of the AIM paper, run through the real binary with the row's settings.

mod common;

use aim_sim::paper;

/// `value` rounded to `decimals` equals `expected` (the spec prints exact values rounded).
fn matches_rounded(value: f64, expected: f64, decimals: i32) -> bool {
    let half_ulp = 0.5 * 10f64.powi(-decimals);
    (value - expected).abs() <= half_ulp * (1.0 + 1e-9)
}

#[test]
fn every_paper_row_matches_its_exact_figures() {
    let cases = paper::cases();
    assert_eq!(cases.len(), 20);
    for case in cases {
        let v = common::json(&case.cli_args());
        let tflops = v["totals"]["flops"].as_f64().unwrap() / 1e12;
        let ms = v["totals"]["time_s"].as_f64().unwrap() * 1e3;
        assert!(
            matches_rounded(tflops, case.exact_tflops, 4),
            "{}: {tflops} TFLOPs, expected {}",
            case.id,
            case.exact_tflops
        );
        assert!(
            matches_rounded(ms, case.exact_ms, 3),
            "{}: {ms} ms, expected {}",
            case.id,
            case.exact_ms
        );
        // The paper's printed figures are these, rounded to 2 decimals (or 1–2 significant).
        assert!(
            (tflops - case.paper_tflops).abs() / case.paper_tflops < 5e-3,
            "{}",
            case.id
        );
        assert!(
            (ms - case.paper_ms).abs() / case.paper_ms < 5e-3,
            "{}",
            case.id
        );
    }
}

#[test]
fn headline_reduction_factors() {
    let v = common::json(&[
        "--tokens",
        "6272",
        "--schedule",
        "linear",
        "--gpu",
        "a100",
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
    ]);
    let flops = v["reduction"]["flops"].as_f64().unwrap();
    let time = v["reduction"]["time"].as_f64().unwrap();
    // 99.6270 / 14.7566 and 439.578 / 55.028 (llm-viewer-cost-model.md).
    assert!((flops - 99.6270 / 14.7566).abs() < 1e-4, "{flops}");
    assert!((time - 439.578 / 55.028).abs() < 1e-3, "{time}");
    assert_eq!(format!("{flops:.1}"), "6.8");
    assert_eq!(format!("{time:.1}"), "8.0");
}

#[test]
fn counted_as_the_code_runs() {
    // paper-cases.md: "Counting as the code runs gives about 15.53 TFLOPs / 57.68 ms".
    let v = common::json(&[
        "--tokens",
        "6272",
        "--cost-model",
        "llm-viewer",
        "--prune-timing",
        "code",
        "--skip-mlp-add",
    ]);
    let tflops = v["totals"]["flops"].as_f64().unwrap() / 1e12;
    let ms = v["totals"]["time_s"].as_f64().unwrap() * 1e3;
    assert!((tflops - 15.53).abs() < 0.005, "{tflops}");
    assert!((ms - 57.68).abs() < 0.005, "{ms}");
}
