//! `selection`: a method's own choice of the tokens layer 0 keeps, priced before the LLM as its
//! released code runs it (DivPrune's greedy max-min loop), on the command line and in rows.

mod common;

use std::io::Write;

/// DivPrune's LLaVA-NeXT-Video run: 8 frames of 144 tokens, 56 text tokens, 115 kept.
fn divprune_args(extra: &[&str]) -> Vec<String> {
    let layers = vec!["171"; 32].join(",");
    let mut args: Vec<String> = [
        "--model",
        "llava-next-7b",
        "--frames",
        "8",
        "--tokens-per-frame",
        "144",
        "--text-tokens",
        "56",
        "--layer-tokens",
        &layers,
        "--gpu",
        "l40s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.extend(extra.iter().map(|s| s.to_string()));
    args
}

fn stage_time_s(v: &serde_json::Value, name: &str) -> f64 {
    v["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no stage {name}"))["time_s"]
        .as_f64()
        .unwrap()
}

/// Under HF's eager dispatch the greedy loop costs its ops: 114 later steps of six PyTorch ops
/// at the profile's per-op cost (the L40S has no values of its own: the pooled ones), beside
/// kilobytes of data; the run's merging time holds it and the baseline selects nothing.
#[test]
fn divprune_is_priced_before_the_llm_and_the_baseline_has_none() {
    let v = common::json(&divprune_args(&[
        "--selection",
        "divprune",
        "--framework",
        "hf",
    ]));
    // The L40S has no values of its own: the pooled ones.
    let per_op_s = common::hf_per_op_s("l40s");
    let greedy = stage_time_s(&v, "divprune_greedy_steps");
    let ops_s = 114.0 * 6.0 * per_op_s;
    assert!(
        greedy >= ops_s && greedy < ops_s + 1e-3,
        "{greedy} against {ops_s}"
    );
    let merge = v["pipeline"]["merge_time_s"].as_f64().unwrap();
    assert!(merge >= greedy, "{merge}");
    assert_eq!(v["baseline"]["pipeline"]["merge_time_s"], 0.0);
    assert!(v["notes"].as_array().unwrap().iter().any(|n| n
        .as_str()
        .unwrap()
        .starts_with("selection: divprune keeping 115 of 1152")));
    // Without the option the same run prices no selection: the difference is the selection.
    let plain = common::json(&divprune_args(&["--framework", "hf"]));
    let ttft = |v: &serde_json::Value| v["pipeline"]["ttft_s"].as_f64().unwrap();
    assert!((ttft(&v) - ttft(&plain) - merge).abs() < 1e-12);
    // The ideal roofline prices its kernels at the roofs, with no launch cost: microseconds.
    let ideal = common::json(&divprune_args(&["--selection", "divprune"]));
    assert!(stage_time_s(&ideal, "divprune_greedy_steps") < 1e-4);
}

/// Bad input is refused in one line naming the fix: no layer tokens to say the kept count, a
/// first layer that keeps every visual token (or none), the llm-viewer cost model.
#[test]
fn a_selection_without_a_kept_count_is_refused() {
    // DivPrune's run without its --layer-tokens.
    let args = divprune_args(&["--selection", "divprune"]);
    let at = args.iter().position(|a| a == "--layer-tokens").unwrap();
    let without: Vec<&String> = args
        .iter()
        .enumerate()
        .filter(|(i, _)| *i != at && *i != at + 1)
        .map(|(_, a)| a)
        .collect();
    let err = common::fails(&without);
    assert!(
        err.contains("layer-tokens") || err.contains("layer_tokens"),
        "{err}"
    );
    for first in ["1208", "56"] {
        let layers = vec![first; 32].join(",");
        let args: Vec<String> = divprune_args(&["--selection", "divprune"])
            .into_iter()
            .map(|a| {
                if a.starts_with("171,") {
                    layers.clone()
                } else {
                    a
                }
            })
            .collect();
        let err = common::fails(&args);
        assert!(
            err.contains("nothing to select") && err.trim().lines().count() == 1,
            "{err}"
        );
    }
    let err = common::fails(&divprune_args(&[
        "--selection",
        "divprune",
        "--cost-model",
        "llm-viewer",
    ]));
    assert!(err.contains("refined"), "{err}");
}

/// A measurement row names its method's selection as the main command does: a TTFT holds it,
/// a prefill (the LLM forward) does not, as it runs before the LLM; without `layer_tokens` it
/// is refused with the row's id.
#[test]
fn a_row_prices_its_selection() {
    let dir = tempfile::tempdir().unwrap();
    let row_timed = |timed: &str, selection: &str, layers: &str| {
        format!(
            "[[measurement]]\nid = \"r\"\nsource = \"test\"\nmodel = \"llava-next-7b\"\ngpu = \"l40s\"\nframework = \"hf\"\ntimed = \"{timed}\"\nattention = \"flash\"\nw_bits = 16\ntext_tokens = 56\nframes = 8\ntokens_per_frame = 144\nschedule = \"none\"\n{selection}{layers}measured_ms = 100\n"
        )
    };
    let row = |selection: &str, layers: &str| row_timed("ttft", selection, layers);
    let layers = format!("layer_tokens = [{}]\n", vec!["171"; 32].join(", "));
    let write = |text: &str| {
        let path = dir.path().join("rows.toml");
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path.to_string_lossy().into_owned()
    };
    let predicted = |text: &str| {
        common::json(&["check", &write(text)])["rows"][0]["predicted_ms"]
            .as_f64()
            .unwrap()
    };
    let with = predicted(&row("selection = \"divprune\"\n", &layers));
    let without = predicted(&row("", &layers));
    assert!(with > without + 5.0, "{with} against {without}");
    let prefill = |selection: &str| predicted(&row_timed("prefill", selection, &layers));
    let (with, without) = (prefill("selection = \"divprune\"\n"), prefill(""));
    assert!((with - without).abs() < 1e-9, "{with} against {without}");
    let err = common::fails(&["check", &write(&row("selection = \"divprune\"\n", ""))]);
    assert!(err.contains("'r'") && err.contains("layer_tokens"), "{err}");
}

/// CDPruner's selection (CLIP's text tower, then 16 ops per kept token) costs more under HF's
/// dispatch than DivPrune's (6 per kept token) on the same run, and both are in the merging time.
#[test]
fn cdpruner_costs_more_than_divprune_under_eager_dispatch() {
    let merge_s = |method: &str| {
        common::json(&divprune_args(&[
            "--selection",
            method,
            "--framework",
            "hf",
        ]))["pipeline"]["merge_time_s"]
            .as_f64()
            .unwrap()
    };
    let (div, cd) = (merge_s("divprune"), merge_s("cdpruner"));
    assert!(cd > 2.0 * div, "cdpruner {cd} s against divprune {div} s");
}

/// SparseVLM's 64-token LLaVA-1.5 run (score.py's [66, 30, 17], with the recycled tokens:
/// 82, 32 and 18 visual tokens after layers 2, 6 and 15; 60 text tokens).
fn sparsevlm_layers() -> String {
    let mut layers = vec![636; 3];
    layers.extend([142; 4]);
    layers.extend([92; 9]);
    layers.extend([78; 16]);
    layers
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(",")
}

/// A run of `base` under `hf` on `gpu` with and without `--selection method`, and the GPU's
/// fitted per-op cost: what an inside-the-LLM selection adds is pruning time.
fn with_and_without(
    base: &[&str],
    gpu: &str,
    method: &str,
) -> (serde_json::Value, serde_json::Value, f64) {
    let run = |extra: &[&str]| {
        let mut args = base.to_vec();
        args.extend(["--framework", "hf", "--gpu", gpu]);
        args.extend(extra);
        common::json(&args)
    };
    let per_op_s = common::hf_per_op_s(gpu);
    (run(&["--selection", method]), run(&[]), per_op_s)
}

fn importance_s(v: &serde_json::Value) -> f64 {
    v["pipeline"]["importance_time_s"].as_f64().unwrap()
}

/// SparseVLM selects inside the LLM: its work is priced at the three layers where the counts
/// drop (pruning work, not merging), each about 80 ops at the profile's per-op cost; a list
/// that never drops is refused in one line.
#[test]
fn sparsevlm_is_priced_at_its_pruning_layers() {
    let layers = sparsevlm_layers();
    let base = [
        "--model",
        "llava-1.5-7b",
        "--frames",
        "1",
        "--text-tokens",
        "60",
        "--layer-tokens",
        &layers,
    ];
    let (with, plain, per_op_s) = with_and_without(&base, "a100-80g", "sparsevlm");
    let added = importance_s(&with) - importance_s(&plain);
    // Three layers of 77 ops each, plus the data they move (the 154 × 154 × 4096 difference
    // tensor at the first): more than the ops alone, under a millisecond more.
    assert!(
        added > 3.0 * 77.0 * per_op_s && added < 3.0 * 77.0 * per_op_s + 1e-3,
        "{added} s"
    );
    assert_eq!(
        with["pipeline"]["merge_time_s"],
        plain["pipeline"]["merge_time_s"]
    );
    let flat = vec!["636"; 32].join(",");
    let mut args = base.to_vec();
    args[7] = &flat;
    args.extend(["--selection", "sparsevlm"]);
    let err = common::fails(&args);
    assert!(
        err.contains("never drops") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// S²Prune selects after the first decoder layer: its work is priced where the counts drop
/// (43 ops and five per kept token), as pruning work.
#[test]
fn s2prune_is_priced_after_the_first_layer() {
    let mut layers = vec!["616".to_string()];
    layers.extend(std::iter::repeat_n("104".to_string(), 27));
    let layers = layers.join(",");
    let base = [
        "--model",
        "qwen2.5-vl-7b",
        "--tokens",
        "576",
        "--tokens-per-frame",
        "576",
        "--text-tokens",
        "40",
        "--layer-tokens",
        &layers,
    ];
    let (with, plain, per_op_s) = with_and_without(&base, "rtx4090", "s2prune");
    let added = importance_s(&with) - importance_s(&plain);
    let ops_s = (43.0 + 5.0 * 64.0) * per_op_s;
    assert!(
        added >= ops_s && added < ops_s + 1e-4,
        "{added} s against {ops_s} s"
    );
}

/// FlowCut on LLaVA-1.5 (576 → 64 inside CLIP): its 547 ops beside the merging, the tower's
/// later layers on fewer tokens with the encoder included (so its run's vision stage costs
/// less than the baseline's), and a tower it was not written for refused in one line.
#[test]
fn flowcut_prices_its_ops_and_a_shorter_tower_on_clip_only() {
    let layers = vec!["124"; 32].join(",");
    let run = |extra: &[&str]| {
        common::json(&llava15_args(
            "60",
            "a800",
            &[&["--include-vision"], extra].concat(),
        ))
    };
    let with = run(&["--layer-tokens", &layers, "--selection", "flowcut"]);
    let without = run(&["--layer-tokens", &layers]);
    let metrics = stage_time_s(&with, "flowcut_attention_metrics");
    let scores = stage_time_s(&with, "flowcut_scores");
    assert!(metrics > 0.0 && scores > metrics, "{metrics} {scores}");
    let fc1 = |v: &serde_json::Value| stage_time_s(v, "vision_fc1");
    assert!(
        fc1(&with) < 0.9 * fc1(&without),
        "{} {}",
        fc1(&with),
        fc1(&without)
    );
    let err = common::fails(&[
        "--model",
        "qwen2.5-vl-7b",
        "--text-tokens",
        "60",
        "--layer-tokens",
        &vec!["124"; 28].join(","),
        "--selection",
        "flowcut",
    ]);
    assert!(
        err.contains("CLIP ViT-L/14") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A LLaVA-1.5-7B run on one image (576 visual tokens) under `hf`, with `text` text tokens on
/// `gpu`, and `extra`.
fn llava15_args(text: &str, gpu: &str, extra: &[&str]) -> Vec<String> {
    [
        "--model",
        "llava-1.5-7b",
        "--frames",
        "1",
        "--tokens-per-frame",
        "576",
        "--text-tokens",
        text,
        "--gpu",
        gpu,
        "--framework",
        "hf",
    ]
    .iter()
    .chain(extra)
    .map(|s| s.to_string())
    .collect()
}

/// TReVS's 64-token LLaVA-1.5 run (its code's preset: 96 top-k + 32 farthest points, 128 kept
/// for layers 0-7, 42 from layer 8 on; 66 text tokens).
fn trevs_args(layers: &str) -> Vec<String> {
    llava15_args("66", "rtx4090", &["--layer-tokens", layers])
}

/// TReVS: its selection before the LLM in the merging time (82 + 23 ops and nine per sampled
/// point: 393 at the per-op cost at least), and in the LLM the look-ahead cut and a position
/// read in every layer (63 + 2 · 32 ops and two projections at least); counts that do not drop
/// exactly once are refused in one line.
#[test]
fn trevs_is_priced_before_the_llm_and_at_its_cut() {
    let layers = [vec!["194"; 8], vec!["108"; 24]].concat().join(",");
    let mut with = trevs_args(&layers);
    with.extend(["--selection".to_string(), "trevs".to_string()]);
    let (with, without) = (common::json(&with), common::json(&trevs_args(&layers)));
    let per_op_s = common::hf_per_op_s("rtx4090");
    let merge = with["pipeline"]["merge_time_s"].as_f64().unwrap();
    assert!(
        merge >= 393.0 * per_op_s && merge < 393.0 * per_op_s + 3e-3,
        "{merge} s against {per_op_s} s an op"
    );
    assert_eq!(without["pipeline"]["merge_time_s"].as_f64().unwrap(), 0.0);
    let llm = |v: &serde_json::Value| v["pipeline"]["llm_time_s"].as_f64().unwrap();
    let cut = llm(&with) - llm(&without);
    assert!(
        cut >= (63.0 + 64.0) * per_op_s && cut < (63.0 + 64.0) * per_op_s + 2e-3,
        "{cut} s"
    );
    for layers in [
        vec!["194"; 32],
        [vec!["194"; 8], vec!["150"; 8], vec!["108"; 16]].concat(),
    ] {
        let mut args = trevs_args(&layers.join(","));
        args.extend(["--selection".to_string(), "trevs".to_string()]);
        let err = common::fails(&args);
        assert!(
            err.contains("cuts once") && err.trim().lines().count() == 1,
            "{err}"
        );
    }
}

/// FastVID on FastVID's own 32-frame LLaVA-OneVision run (608 of 6272 kept, 120 text tokens):
/// its work in the merging time, 377 ops at the per-op cost at least; fewer than 8 frames are
/// refused in one line (its code cuts the video into at least 8 segments).
#[test]
fn fastvid_is_priced_before_the_llm_and_needs_eight_frames() {
    let run = common::fastvid_args;
    let v = common::json(&run("32", &vec!["728"; 28].join(",")));
    let per_op_s = common::hf_per_op_s("a100-80g");
    let merge = v["pipeline"]["merge_time_s"].as_f64().unwrap();
    assert!(
        merge >= 377.0 * per_op_s && merge < 377.0 * per_op_s + 2e-3,
        "{merge} s against {per_op_s} s an op"
    );
    let err = common::fails(&run("4", &vec!["196"; 28].join(",")));
    assert!(
        err.contains("at least 8 segments") && err.trim().lines().count() == 1,
        "{err}"
    );
}

/// A selection on a text-only input (`--frames 0`) used to say "give a first entry between 101
/// and 99", a range with nothing in it: it says a selection needs visual tokens now.
#[test]
fn a_selection_without_visual_tokens_says_so() {
    let layers = vec!["50"; 32].join(",");
    let e = common::fails(&[
        "--model",
        "llava-1.5-7b",
        "--frames",
        "0",
        "--text-tokens",
        "100",
        "--layer-tokens",
        &layers,
        "--selection",
        "divprune",
    ]);
    assert!(e.contains("needs visual tokens to select from"), "{e}");
    assert!(!e.contains("between"), "{e}");
}
