//! The refined cost model through the real binary: defaults, flags, errors and the physics a
//! user can read off the JSON.

mod common;

use serde_json::Value;
use std::io::Write;

const HEADLINE: [&str; 6] = ["--tokens", "6272", "--schedule", "linear", "--gpu", "a100"];

fn args(extra: &[&str]) -> Vec<String> {
    HEADLINE
        .iter()
        .chain(extra)
        .map(|s| s.to_string())
        .collect()
}

fn f(v: &Value, path: &[&str]) -> f64 {
    path.iter()
        .fold(v, |v, k| &v[*k])
        .as_f64()
        .unwrap_or_else(|| panic!("{path:?} is not a number"))
}

fn ops_of(layer: &Value) -> Vec<String> {
    layer["operators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect()
}

/// A temporary file with `text`, kept alive by the returned handle.
fn temp_toml(text: &str) -> tempfile::NamedTempFile {
    let mut file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    file.write_all(text.as_bytes()).unwrap();
    file
}

#[test]
fn refined_is_the_default_with_flash_attention_and_code_timing() {
    let v = common::json(&args(&[]));
    assert_eq!(v["cost_model"], "refined");
    assert_eq!(v["scenario"]["prune_timing"], "code");
    assert_eq!(v["scenario"]["options"]["flash_attention"], true);
    // Code timing: layer 14 still holds 1668 tokens and computes the importance.
    assert_eq!(v["plan"]["layer_tokens"][14], 1668);
    assert!(ops_of(&v["layers"][14]).contains(&"pagerank_power_iterations".to_string()));
    assert!(!ops_of(&v["layers"][13]).contains(&"pagerank_power_iterations".to_string()));
    // Dense count above the executed one; merging is a stage; TTFT = totals.
    assert!(f(&v, &["totals", "dense_flops"]) > f(&v, &["totals", "flops"]));
    assert_eq!(v["stages"][1]["name"], "merge_similarity");
    assert_eq!(f(&v, &["pipeline", "ttft_s"]), f(&v, &["totals", "time_s"]));
    assert_eq!(
        f(&v, &["totals", "memory_consumption_bytes"]),
        f(&v, &["peak_memory", "peak_bytes"])
    );
}

#[test]
fn prune_timing_works_in_both_models() {
    // paper-cases.md: counted as the code runs, the llm-viewer model gives ~15.53 / 57.68.
    let code = common::json(&args(&[
        "--cost-model",
        "llm-viewer",
        "--skip-mlp-add",
        "--prune-timing",
        "code",
    ]));
    assert!((f(&code, &["totals", "flops"]) / 1e12 - 15.5277).abs() < 5e-4);
    assert!((f(&code, &["totals", "time_s"]) * 1e3 - 57.684).abs() < 5e-3);
    let paper = common::json(&args(&["--prune-timing", "paper"]));
    let run = common::json(&args(&[]));
    assert!(f(&paper, &["totals", "flops"]) < f(&run, &["totals", "flops"]));
    // Paper accounting: the importance sits in the layer whose count already dropped.
    assert_eq!(paper["plan"]["layer_tokens"][14], 1472);
    assert!(ops_of(&paper["layers"][14]).contains(&"gather_kept".to_string()));
}

#[test]
fn attention_flag_and_its_alias() {
    let eager = common::json(&args(&["--attention", "eager"]));
    assert_eq!(eager["scenario"]["options"]["flash_attention"], false);
    assert!(ops_of(&eager["layers"][0]).contains(&"qk_matmul".to_string()));
    let flash = common::json(&args(&["--flash-attention"]));
    assert!(ops_of(&flash["layers"][0]).contains(&"flash_attention".to_string()));
    assert!(f(&eager, &["totals", "time_s"]) > f(&flash, &["totals", "time_s"]));
    let err = common::fails(&args(&["--flash-attention", "--attention", "eager"]));
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn vision_decode_and_tp_sections() {
    let v = common::json(&args(&[
        "--include-vision",
        "--gen-tokens",
        "16",
        "--tp",
        "2",
    ]));
    let p = &v["pipeline"];
    assert!(f(p, &["vision_time_s"]) > 0.0);
    assert!(f(p, &["communication_time_s"]) > 0.0);
    assert_eq!(v["decode"]["gen_tokens"], 16);
    assert!(f(&v, &["reduction", "end_to_end_time"]) < f(&v, &["reduction", "llm_time"]));
    let table = common::ok(&args(&["--include-vision", "--gen-tokens", "16"]));
    for section in [
        "before the LLM",
        "vision_attention",
        "time to first token",
        "KV cache:",
        "decode: 16 tokens",
        "peak memory:",
        "timing: ideal roofline",
        "end to end",
    ] {
        assert!(table.contains(section), "missing {section}:\n{table}");
    }
}

/// The vision tower's attention: the run's `--vision-attention`, else the framework profile's
/// (`hf` runs SigLIP eagerly, as the LLaVA code bases do), else the LLM's `--attention`; the
/// LLM's own attention is untouched by it. Eager costs more than fused at 32 × 729 patches.
#[test]
fn vision_attention_follows_run_then_profile_then_llm() {
    let stage = |extra: &[&str]| -> (Vec<String>, f64, Vec<String>) {
        let v = common::json(&args(&[&["--include-vision"], extra].concat()));
        let names: Vec<String> = v["stages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["name"].as_str().unwrap().to_string())
            .collect();
        (
            names,
            f(&v, &["pipeline", "vision_time_s"]),
            ops_of(&v["layers"][0]),
        )
    };
    let fused = |n: &[String]| n.iter().any(|s| s == "vision_attention");
    let eager = |n: &[String]| {
        ["vision_qk_matmul", "vision_softmax", "vision_sv_matmul"]
            .iter()
            .all(|k| n.iter().any(|s| s == k))
    };
    let (roofline, roofline_s, llm) = stage(&[]);
    assert!(fused(&roofline) && !eager(&roofline), "{roofline:?}");
    assert!(llm.iter().any(|s| s == "flash_attention"));
    let (forced, forced_s, llm) = stage(&["--vision-attention", "eager"]);
    assert!(eager(&forced) && !fused(&forced), "{forced:?}");
    assert!(llm.iter().any(|s| s == "flash_attention"), "{llm:?}");
    assert!(forced_s > roofline_s, "{forced_s} vs {roofline_s}");
    let (llm_eager, _, _) = stage(&["--attention", "eager"]);
    assert!(eager(&llm_eager), "{llm_eager:?}");
    let hf = ["--framework", "hf"];
    let (profile, _, llm) = stage(&hf);
    assert!(eager(&profile), "{profile:?}");
    assert!(llm.iter().any(|s| s == "flash_attention"), "{llm:?}");
    let (run, _, _) = stage(&[&hf[..], &["--vision-attention", "flash"]].concat());
    assert!(fused(&run) && !eager(&run), "{run:?}");
    // The run says so when the tower's attention differs from the LLM's, and only then.
    let says = |extra: &[&str]| {
        common::json(&args(&[&["--include-vision"], extra].concat()))["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().starts_with("vision encoder: "))
    };
    assert!(says(&hf));
    assert!(!says(&[]));
    assert!(!says(&[&hf[..], &["--vision-attention", "flash"]].concat()));
}

#[test]
fn importance_key_of_a_schedule_file() {
    let file = temp_toml(
        "name = \"fastv-like\"\n[prune]\nkind = \"steps\"\nat = [2]\nkeep = [0.5]\nimportance = \"fastv\"\n",
    );
    let path = file.path().to_str().unwrap();
    let v = common::json(&["--schedule", path, "--tokens", "6272"]);
    // Steps say "layer 2 and later hold fewer": layer 1 computes the last query's attention.
    assert!(ops_of(&v["layers"][1]).contains(&"importance_last_query_attention".to_string()));
    assert_eq!(
        v["scenario"]["schedule"]["prune"]["importance"],
        "last-token"
    );
    let bad = temp_toml("[prune]\nkind = \"linear\"\nstart = 2\nend = 4\nimportance = \"magic\"\n");
    let err = common::fails(&["--schedule", bad.path().to_str().unwrap()]);
    assert!(err.contains("importance") || err.contains("magic"), "{err}");
}

#[test]
fn calibration_table_of_a_gpu_file_is_applied_and_reported() {
    let a100 = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/hardware/a100.toml"))
        .unwrap();
    let file = temp_toml(&format!(
        "{a100}\n[efficiency]\nmatmul = 0.7\nattention = 0.5\nelementwise = 0.8\nlaunch_overhead_s = 5e-6\n"
    ));
    let path = file.path().to_str().unwrap();
    let table = common::ok(&["--gpu", path]);
    assert!(
        table.contains("calibrated with the [efficiency] table"),
        "{table}"
    );
    let ideal = common::json(&["--gpu", "a100"]);
    let real = common::json(&["--gpu", path]);
    assert!(f(&real, &["totals", "time_s"]) > f(&ideal, &["totals", "time_s"]));
}

#[test]
fn bad_refined_flags_are_one_line_errors() {
    for (extra, needle) in [
        (vec!["--tp", "3"], "does not divide"),
        (vec!["--gen-tokens", "5000000"], "too many"),
        (
            vec!["--cost-model", "llm-viewer", "--include-vision"],
            "refined",
        ),
        (vec!["--cost-model", "llm-viewer", "--tp", "2"], "refined"),
        (
            vec!["--model", "qwen2-vl-7b", "--include-vision"],
            "[vision]",
        ),
    ] {
        let err = common::fails(&extra);
        assert!(err.contains(needle), "{extra:?}: {err}");
    }
    let no_link = temp_toml(
        "name = \"solo\"\nbandwidth = 1e12\nfp16_peak = 1e14\nint8_peak = 2e14\nonchip_buffer = 1e7\nmemory = 1e10\n",
    );
    let err = common::fails(&["--gpu", no_link.path().to_str().unwrap(), "--tp", "2"]);
    assert!(err.contains("interconnect_bandwidth"), "{err}");
}

/// Sum of `key` over the operators of kind `prune` in layer 14 (the first pruning layer).
fn prune_sum(v: &Value, key: &str) -> f64 {
    v["layers"][14]["operators"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|o| o["kind"] == "prune")
        .map(|o| o[key].as_f64().unwrap())
        .sum()
}

#[test]
fn fused_importance_trades_flops_for_the_n_squared_traffic() {
    let mat = common::json(&args(&["--importance-kernel", "materialized"]));
    let fused = common::json(&args(&["--importance-kernel", "fused"]));
    // The materialised path writes 28 × n × n fp32 at n = 1668 (312 MB) and streams it 5 times;
    // the fused one re-reads Q and K (6 × 7 MB per head group) and gathers, never n².
    let n2_bytes = 28.0 * 1668.0 * 1668.0 * 4.0;
    assert!(prune_sum(&mat, "bytes") > 6.0 * n2_bytes);
    assert!(prune_sum(&fused, "bytes") < 0.5 * n2_bytes);
    // Recomputing Q·Kᵀ in 6 passes costs more arithmetic than one recompute + 5 mat-vecs.
    assert!(prune_sum(&fused, "flops") > 2.0 * prune_sum(&mat, "flops"));
    // Layers without pruning are identical.
    assert_eq!(mat["layers"][0], fused["layers"][0]);
    assert!(fused["layers"][14]["operators"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["name"] == "pagerank_fused"));
    assert!(
        f(&fused, &["totals", "memory_consumption_bytes"])
            < f(&mat, &["totals", "memory_consumption_bytes"])
    );
}

#[test]
fn fused_importance_is_refined_only() {
    let err = common::fails(&args(&[
        "--cost-model",
        "llm-viewer",
        "--importance-kernel",
        "fused",
    ]));
    assert!(err.contains("refined"), "{err}");
}

/// The kernel list (issue 22) is the model's own pricing: its totals are the report's bit for
/// bit, and every launch description agrees with the FLOPs priced for it (a GEMM's `m·n·k`, an
/// expert GEMM's touched experts × tokens per expert), over models, schedules and options.
#[test]
fn the_kernel_list_is_the_priced_prefill() {
    use aim_sim::cost::refined::kernel::{Call, Class};
    use aim_sim::cost::refined::{kernel_list, Refined};
    use aim_sim::cost::CostModel;
    let close = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    let cases: &[&[&str]] = &[
        &["--frames", "8", "--schedule", "linear"],
        &[
            "--frames",
            "8",
            "--schedule",
            "fastv",
            "--attention",
            "eager",
        ],
        &["--frames", "8", "--schedule", "vtw", "--batch", "2"],
        &["--frames", "8", "--schedule", "sparsevlm-192", "--tp", "2"],
        &[
            "--frames",
            "4",
            "--include-vision",
            "--importance-kernel",
            "fused",
        ],
        &[
            "--model",
            "qwen3-vl-30b-a3b",
            "--frames",
            "8",
            "--schedule",
            "linear",
        ],
        &[
            "--model",
            "qwen3-vl-8b",
            "--frames",
            "2",
            "--w-bits",
            "4",
            "--framework",
            "hf",
        ],
    ];
    for args in cases {
        let spec = aim_sim::Spec::from_flags(args).unwrap();
        let s = aim_sim::Scenario::from_spec(&spec).unwrap();
        let plan = s.plan().unwrap();
        let (ctx, w) = (s.context(), s.workload(&plan));
        let list = kernel_list(&ctx, &w);
        let run = Refined.run_workload(&ctx, &w);
        assert_eq!(list.totals, run.totals, "{args:?}");
        assert_eq!(list.layers.len(), run.layers.len(), "{args:?}");
        for (l, r) in list.layers.iter().zip(&run.layers) {
            let t: f64 = l.kernels.iter().map(|k| k.time_s).sum();
            assert!(
                close(t, r.time_s),
                "{args:?} layer {}: {t} vs {}",
                l.layer,
                r.time_s
            );
        }
        let mut gemms = 0;
        for k in list.all() {
            let flops = k.kernel.op.flops;
            match k.kernel.call {
                Call::Gemm {
                    m,
                    n,
                    k: inner,
                    bias,
                    count,
                    ..
                } => {
                    gemms += 1;
                    let want = 2.0 * count * m * n * (inner + if bias { 1.0 } else { 0.0 });
                    assert!(
                        close(flops, want),
                        "{args:?} {}: {flops} vs {want}",
                        k.kernel.op.name
                    );
                }
                Call::ExpertGemm {
                    experts,
                    tokens_per_expert,
                    n,
                    k: inner,
                    ..
                } => {
                    let want = 2.0 * experts * tokens_per_expert * n * inner;
                    assert!(
                        close(flops, want),
                        "{args:?} {}: {flops} vs {want}",
                        k.kernel.op.name
                    );
                }
                _ => {}
            }
            if matches!(k.kernel.call, Call::Gemm { .. } | Call::ExpertGemm { .. }) {
                assert_eq!(k.kernel.class, Class::Matmul, "{}", k.kernel.op.name);
            }
        }
        assert!(gemms > 0, "{args:?}");
    }
}

/// Under `hf` (a stack that runs the model's transformers code) Qwen3-VL-MoE sends every token
/// through all 128 experts, as transformers 4.57 does at inference, and says so; TensorRT-LLM
/// and the roofline price the routed pairs (unchanged).
#[test]
fn hf_runs_qwen3_vl_moe_experts_as_transformers_does() {
    // Qwen3-VL-30B-A3B on an H100, 8 frames, no reduction, under `framework` (and `--experts`).
    let with = |framework: &str, experts: Option<&str>| {
        let mut args = vec![
            "--model",
            "qwen3-vl-30b-a3b",
            "--gpu",
            "h100",
            "--frames",
            "8",
            "--schedule",
            "none",
            "--framework",
            framework,
        ];
        if let Some(e) = experts {
            args.extend(["--experts", e]);
        }
        common::json(&args)
    };
    let run = |framework: &str| with(framework, None);
    let flops = |v: &serde_json::Value| v["totals"]["flops"].as_f64().unwrap();
    let (hf, trt, roof) = (run("hf"), run("trtllm"), run("roofline"));
    assert_eq!(flops(&trt), flops(&roof));
    // The expert GEMMs are most of the routed FLOPs; at 16× they dominate.
    assert!(
        flops(&hf) > 5.0 * flops(&trt),
        "{} vs {}",
        flops(&hf),
        flops(&trt)
    );
    let notes = hf["notes"].to_string();
    assert!(notes.contains("all 128 experts"), "{notes}");
    assert!(!trt["notes"].to_string().contains("all 128 experts"));
    // `--experts` overrides the stack's default: fused under hf prices the routed pairs,
    // all under trtllm every expert; a dense model warns that it changes nothing.
    assert_eq!(flops(&with("hf", Some("fused"))), flops(&trt));
    assert_eq!(flops(&with("trtllm", Some("all"))), flops(&hf));
    assert_eq!(flops(&with("hf", Some("all"))), flops(&hf));
    let dense = common::json(&["--experts", "loop"]);
    assert!(
        dense["warnings"]
            .to_string()
            .contains("no mixture-of-experts"),
        "{}",
        dense["warnings"]
    );
    let e = common::fails(&["--experts", "loop", "--cost-model", "llm-viewer"]);
    assert!(e.contains("refined"), "{e}");
}
