//! The method presets of `schedules/`: each loads, and its per-layer token counts are what its
//! paper describes (docs/specs/models-and-methods.md).

mod common;

/// `plan.layer_tokens` of one run.
fn layer_tokens(args: &[&str]) -> Vec<u64> {
    let v = common::json(args);
    v["plan"]["layer_tokens"]
        .as_array()
        .expect("plan.layer_tokens")
        .iter()
        .map(|x| x.as_u64().unwrap())
        .collect()
}

/// `n` copies of `value` followed by `rest`.
fn runs(parts: &[(usize, u64)]) -> Vec<u64> {
    parts
        .iter()
        .flat_map(|&(n, v)| std::iter::repeat_n(v, n))
        .collect()
}

#[test]
fn every_schedule_preset_loads_and_is_listed() {
    let listing = common::ok(&["list", "schedules"]);
    for name in aim_sim::presets::names(aim_sim::presets::SCHEDULES) {
        assert!(listing.contains(name), "{name} missing from `list`");
        let v = common::json(&["--schedule", name]);
        assert_eq!(v["plan"]["layer_tokens"].as_array().unwrap().len(), 28);
        assert!(v["reduction"]["flops"].as_f64().unwrap() >= 1.0, "{name}");
    }
}

#[test]
fn fastv_halves_visual_tokens_from_layer_2() {
    // LLaVA-OV-7B, 32 frames × 196 = 6272 visual + 100 text; K = 2 is absolute on 28 layers too.
    let t = layer_tokens(&["--model", "llava-ov-7b", "--schedule", "fastv"]);
    assert_eq!(t, runs(&[(2, 6372), (26, 3136 + 100)]));
    // Steps state which layers hold which count, whatever the prune timing.
    let code = layer_tokens(&["--schedule", "fastv", "--prune-timing", "code"]);
    assert_eq!(code, t);
    // LLaVA-1.5-7B (32 layers): 576 + 40 → 288 + 40 from layer 2.
    let t = layer_tokens(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "fastv",
        "--text-tokens",
        "40",
    ]);
    assert_eq!(t, runs(&[(2, 616), (30, 328)]));
}

#[test]
fn pdrop_stages_scale_with_depth() {
    // 32 layers: after layers 7/15/23 → 1/2, 1/4, 1/8 of 576.
    let t = layer_tokens(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "pdrop",
        "--text-tokens",
        "40",
    ]);
    assert_eq!(t, runs(&[(8, 616), (8, 328), (8, 184), (8, 112)]));
    // 28 layers: round(8·28/32) = 7, 14, 21.
    let t = layer_tokens(&["--model", "llava-ov-7b", "--schedule", "pdrop"]);
    assert_eq!(t, runs(&[(7, 6372), (7, 3236), (7, 1668), (7, 884)]));
}

#[test]
fn vtw_withdraws_all_visual_tokens_at_layer_15() {
    let t = layer_tokens(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "vtw",
        "--text-tokens",
        "40",
    ]);
    assert_eq!(t, runs(&[(15, 616), (17, 40)]));
    let t = layer_tokens(&["--model", "llava-ov-7b", "--schedule", "vtw"]);
    assert_eq!(t, runs(&[(15, 6372), (13, 100)]));
}

#[test]
fn sparsevlm_192_keeps_300_200_110_of_576() {
    let t = layer_tokens(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "sparsevlm-192",
        "--text-tokens",
        "40",
    ]);
    assert_eq!(t, runs(&[(3, 616), (4, 340), (9, 240), (16, 150)]));
}

#[test]
fn aim_variants_match_the_paper_ablation_rows() {
    // paper-cases.md: ov-prune-7-15 = 9.3592 TFLOPs, ov-prune-21-29 = 20.1540 TFLOPs (exact).
    for (schedule, tflops) in [("aim-aggressive", 9.3592), ("aim-late", 20.1540)] {
        let v = common::json(&[
            "--schedule",
            schedule,
            "--cost-model",
            "llm-viewer",
            "--skip-mlp-add",
        ]);
        let got = v["totals"]["flops"].as_f64().unwrap() / 1e12;
        assert!((got - tflops).abs() < 5e-5, "{schedule}: {got}");
    }
    let t = layer_tokens(&["--schedule", "aim-prune-only", "--prune-timing", "paper"]);
    assert_eq!(&t[..14], &[6372; 14]);
    assert_eq!(t[14], 5588); // 1 - 1/8 of 6272 + 100
    assert_eq!(&t[21..], &[100; 7]);
}

#[test]
fn merge_before_the_llm_presets() {
    // FastVID keeps floor(196 · 0.10) = 19 per frame; VisionZip keeps 64 per image.
    let t = layer_tokens(&["--schedule", "fastvid"]);
    assert_eq!(t, vec![19 * 32 + 100; 28]);
    let t = layer_tokens(&[
        "--model",
        "llava-1.5-7b",
        "--schedule",
        "visionzip-64",
        "--text-tokens",
        "40",
    ]);
    assert_eq!(t, vec![104; 32]);
}
