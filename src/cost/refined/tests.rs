//! Physics checks of the refined model: each test states a law the counts must obey.

use super::*;
use crate::cost::{Context, CostModel, OpKind, PruneDecision, RunOptions, Workload};
use crate::hardware::{Efficiency, Gpu};
use crate::model::Model;
use crate::presets;
use crate::schedule::{Importance, VisualInput};

fn flash() -> RunOptions {
    RunOptions {
        flash_attention: true,
        ..RunOptions::default()
    }
}

fn eager() -> RunOptions {
    RunOptions::default()
}

fn run_with(model: &Model, gpu: &Gpu, options: &RunOptions, w: &Workload) -> RunCost {
    let ctx = Context {
        model,
        gpu,
        options,
    };
    Refined.run_workload(&ctx, w)
}

fn run(model: &str, tokens: &[u64], options: RunOptions) -> RunCost {
    let model = Model::load(model).unwrap();
    let gpu = Gpu::load("a100").unwrap();
    run_with(&model, &gpu, &options, &Workload::from_layer_tokens(tokens))
}

fn sum(ops: &[TimedOp], kind: OpKind) -> f64 {
    ops.iter()
        .filter(|o| o.op.kind == kind)
        .map(|o| o.op.flops)
        .sum()
}

fn find<'a>(ops: &'a [TimedOp], name: &str) -> &'a TimedOp {
    ops.iter()
        .find(|o| o.op.name == name)
        .unwrap_or_else(|| panic!("no operator {name}"))
}

fn close(a: f64, b: f64, rel: f64) -> bool {
    (a - b).abs() <= rel * b.abs().max(1e-300)
}

/// Parameters of one decoder layer's linear layers that one token runs through, from the
/// model file alone: q/k/v/o, then the dense SwiGLU, or in a routing layer the router, `k`
/// experts, the shared experts and their gate.
fn linear_params(m: &Model, layer: u64) -> f64 {
    let (h, q, kv, i) = (
        m.hidden_size as f64,
        (m.num_heads * m.head_dim()) as f64,
        (m.kv_heads() * m.head_dim()) as f64,
        m.intermediate_size as f64,
    );
    let bias = if m.qkv_bias { q + 2.0 * kv } else { 0.0 };
    let mlp = match &m.moe {
        Some(e) if e.is_sparse(layer) => {
            let gate = if e.shared_expert_gate { h } else { 0.0 };
            h * e.num_experts as f64
                + e.experts_per_token as f64 * 3.0 * h * e.expert_intermediate_size as f64
                + 3.0 * h * e.shared_intermediate_size as f64
                + gate
        }
        _ => 3.0 * h * i,
    };
    h * (q + 2.0 * kv) + bias + q * h + mlp
}

#[test]
fn linear_flops_are_two_per_parameter_per_token_for_every_preset() {
    for name in presets::names(presets::MODELS) {
        let m = Model::load(name).unwrap();
        let n = 1234u64;
        let r = run(name, &[n], flash());
        let linear = sum(&r.layers[0].operators, OpKind::Linear);
        let want = 2.0 * linear_params(&m, 0) * n as f64;
        assert!(close(linear, want, 1e-12), "{name}: {linear} vs {want}");
    }
}

/// A model from Hugging Face `config.json` text.
fn hf(name: &str, text: &str) -> Model {
    Model::from_source(&presets::Source {
        origin: format!("{name} config.json"),
        text: text.into(),
        path: None,
    })
    .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Mixture-of-experts LLMs from their published `config.json` files (the keys that shape the
/// compute, copied from the files cited), with their non-embedding active parameters recounted
/// from those shapes by /work/scratch/models/param_check.py (decoder weights and norms, no
/// embedding, no LM head; rounded to 1e6). Qwen and Mistral publish "active" counts with the
/// embeddings (3.3 B, 2.7 B, 14 B, 13 B), which is why the non-embedding recount is used.
const MOE_CONFIGS: &[(&str, &str, f64)] = &[
    // Qwen/Qwen3-30B-A3B config.json (Qwen3 technical report Table 2; InternLM/xtuner
    // Qwen3MoE30BA3Config; identical in the config of Qwen/Qwen3-VL-30B-A3B-Instruct's text part).
    (
        "Qwen3-30B-A3B",
        r#"{"model_type":"qwen3_moe","hidden_size":2048,"intermediate_size":6144,"moe_intermediate_size":768,
            "num_attention_heads":32,"num_key_value_heads":4,"head_dim":128,"num_hidden_layers":48,
            "num_experts":128,"num_experts_per_tok":8,"decoder_sparse_step":1,"mlp_only_layers":[],
            "norm_topk_prob":true,"attention_bias":false,"vocab_size":151936}"#,
        2.731e9,
    ),
    // huggingface.co/mistralai/Mixtral-8x7B-Instruct-v0.1/blob/eba92302/config.json.
    (
        "Mixtral-8x7B",
        r#"{"model_type":"mixtral","hidden_size":4096,"intermediate_size":14336,"num_attention_heads":32,
            "num_key_value_heads":8,"num_hidden_layers":32,"num_local_experts":8,"num_experts_per_tok":2,
            "vocab_size":32000}"#,
        12.617e9,
    ),
    // Qwen/Qwen1.5-MoE-A2.7B config.json (as in its fine-tunes with that _name_or_path, and
    // transformers Qwen2MoeConfig defaults documented as this checkpoint).
    (
        "Qwen1.5-MoE-A2.7B",
        r#"{"model_type":"qwen2_moe","hidden_size":2048,"intermediate_size":5632,"moe_intermediate_size":1408,
            "shared_expert_intermediate_size":5632,"num_attention_heads":16,"num_key_value_heads":16,
            "num_hidden_layers":24,"num_experts":60,"num_experts_per_tok":4,"decoder_sparse_step":1,
            "mlp_only_layers":[],"norm_topk_prob":false,"vocab_size":151936}"#,
        2.067e9,
    ),
    // Qwen/Qwen2-57B-A14B config.json (three uploads with that _name_or_path agree).
    (
        "Qwen2-57B-A14B",
        r#"{"model_type":"qwen2_moe","hidden_size":3584,"intermediate_size":18944,"moe_intermediate_size":2560,
            "shared_expert_intermediate_size":20480,"num_attention_heads":28,"num_key_value_heads":4,
            "num_hidden_layers":28,"num_experts":64,"num_experts_per_tok":8,"decoder_sparse_step":1,
            "mlp_only_layers":[],"norm_topk_prob":false,"vocab_size":151936}"#,
        13.160e9,
    ),
];

#[test]
fn moe_active_flops_are_two_per_active_parameter_for_published_configs() {
    let gpu = Gpu::load("a100").unwrap();
    for &(name, text, published) in MOE_CONFIGS {
        let m = hf(name, text);
        assert!(m.moe.is_some(), "{name}");
        let layers = m.num_layers as usize;
        let n = 1000u64;
        let r = run_with(
            &m,
            &gpu,
            &flash(),
            &Workload::from_layer_tokens(&vec![n; layers]),
        );
        let linear: f64 = r
            .layers
            .iter()
            .map(|l| sum(&l.operators, OpKind::Linear))
            .sum();
        let per_token = linear / (2.0 * n as f64);
        let want: f64 = (0..m.num_layers).map(|l| linear_params(&m, l)).sum();
        assert!(
            close(per_token, want, 1e-12),
            "{name}: {per_token} vs {want}"
        );
        // Against the independent recount: add the norm weights (2h per layer, the final one,
        // Qwen3's q/k norms), which move no GEMM FLOPs.
        let h = m.hidden_size as f64;
        let qk = if m.qk_norm {
            2.0 * m.head_dim() as f64
        } else {
            0.0
        };
        let norms = m.num_layers as f64 * (2.0 * h + qk) + h;
        assert!(
            close(per_token + norms, published, 2e-4),
            "{name}: {} vs {published}",
            per_token + norms
        );
        // The LM head, once for the last position.
        let head = find(&r.head, "lm_head");
        assert_eq!(head.op.flops, 2.0 * h * m.vocab_size as f64);
    }
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]

    /// Any MoE shape: linear FLOPs per token are twice the parameters one token runs through,
    /// whatever the experts, shared width, dense layers, batch and tensor parallelism.
    #[test]
    fn moe_flops_are_two_per_active_parameter_for_any_shape(
        experts in 1u64..64,
        k_frac in 0.0f64..1.0,
        expert_width in 1u64..64,
        shared in 0u64..64,
        gate in proptest::bool::ANY,
        first_dense in 0u64..3,
        step in 1u64..3,
        n in 1u64..300,
        batch in 1u64..4,
        tp in proptest::sample::select(vec![1u64, 2]),
        qk_norm in proptest::bool::ANY,
    ) {
        let k = ((k_frac * experts as f64) as u64).clamp(1, experts);
        let moe = crate::model::Moe {
            num_experts: experts,
            experts_per_token: k,
            expert_intermediate_size: 2 * expert_width,
            shared_intermediate_size: 2 * shared,
            shared_expert_gate: gate && shared > 0,
            first_dense_layers: first_dense,
            sparse_step: step,
            dense_layers: vec![],
            norm_topk_prob: gate,
            routing_skew: 0.0,
            eager_experts: Default::default(),
        };
        let model = Model {
            name: "moe".into(),
            description: String::new(),
            source: String::new(),
            aliases: Vec::new(),
            hidden_size: 64,
            num_heads: 4,
            num_kv_heads: Some(2),
            num_layers: 4,
            intermediate_size: 96,
            vocab_size: 100,
            qkv_bias: gate,
            head_dim: Some(32),
            qk_norm,
            moe: Some(moe),
            tokens_per_frame: 1,
            default_frames: 1,
            vision: None,
        };
        if model.validate().is_err() {
            return Ok(()); // no layer routes: not a MoE model
        }
        let gpu = Gpu::load("h100").unwrap();
        let options = RunOptions { batch, tp, ..flash() };
        let r = run_with(&model, &gpu, &options, &Workload::from_layer_tokens(&[n; 4]));
        // Layers alike in tokens but not in routing are not reused for each other: priced as a
        // kernel list (every layer priced afresh), the totals and every layer's time are the
        // same.
        let ctx = Context {
            model: &model,
            gpu: &gpu,
            options: &options,
        };
        let list = super::kernel_list(&ctx, &Workload::from_layer_tokens(&[n; 4]));
        proptest::prop_assert_eq!(&list.totals, &r.totals);
        for (fresh, layer) in list.layers.iter().zip(&r.layers) {
            let time_s: f64 = fresh.kernels.iter().map(|k| k.time_s).sum();
            proptest::prop_assert!(close(time_s, layer.time_s, 1e-12), "{time_s} vs {}", layer.time_s);
        }
        for (l, layer) in r.layers.iter().enumerate() {
            let linear = sum(&layer.operators, OpKind::Linear);
            // Per GPU: heads and widths split by tp, the router replicated.
            let m = model.moe.as_ref().unwrap();
            let want = if m.is_sparse(l as u64) {
                let h = 64.0;
                let t = tp as f64;
                let (q, kv) = (4.0 * 32.0 / t, 2.0 * 32.0 / t);
                let bias = if model.qkv_bias { q + 2.0 * kv } else { 0.0 };
                let g = if m.shared_expert_gate { h } else { 0.0 };
                h * (q + 2.0 * kv) + bias + q * h + h * experts as f64
                    + k as f64 * 3.0 * h * (m.expert_intermediate_size / tp) as f64
                    + 3.0 * h * (m.shared_intermediate_size / tp) as f64 + g
            } else if tp == 1 {
                linear_params(&model, l as u64)
            } else {
                continue;
            };
            let got = linear / (2.0 * (n * batch) as f64);
            proptest::prop_assert!(close(got, want, 1e-12), "layer {l}: {got} vs {want}");
        }
    }
}

/// Peak memory holds every weight: for the new presets, LLM + vision tower parameters equal
/// the independent recount of /work/scratch/models/param_check.py (embedding and LM head
/// untied, norms, QK-norm, every expert; vision as `tower_parameters_match_the_recount`).
/// Qwen2.5-VL-7B's 8.292 B equals the checkpoint's tensor count; Qwen3-VL-30B-A3B's LLM is the
/// 30.5 B of its card.
#[test]
fn preset_weights_match_the_parameter_recount() {
    let gpu = Gpu::load("h100").unwrap();
    for (name, llm, vision) in [
        ("qwen2.5-vl-7b", 7_615_616_512.0, 676_550_144.0 + 1280.0),
        ("qwen3-vl-8b", 8_190_735_360.0, 576_388_336.0),
        ("qwen3-vl-30b-a3b", 30_532_122_624.0, 538_631_408.0),
        ("internvl3-8b", 7_612_820_992.0, 331_552_768.0),
        (
            "llava-ov-1.5-8b",
            8_190_735_360.0,
            336_479_264.0 + 1024.0 - 2048.0 - 32.0,
        ),
    ] {
        let m = Model::load(name).unwrap();
        let options = RunOptions {
            include_vision: true,
            vision_input: m.vision.as_ref().unwrap().default_input().unwrap(),
            ..flash()
        };
        let layers = vec![10; m.num_layers as usize];
        let w = Workload {
            input: VisualInput {
                frames: 1,
                tokens_per_frame: m.tokens_per_frame,
                text_tokens: 10,
            },
            merged_tokens_per_frame: m.tokens_per_frame,
            ..Workload::from_layer_tokens(&layers)
        };
        let r = run_with(&m, &gpu, &options, &w);
        let params = r.peak_memory.unwrap().weights_bytes / 2.0;
        assert!(
            close(params, llm + vision, 1e-12),
            "{name}: {params} vs {}",
            llm + vision
        );
    }
}

#[test]
fn moe_weight_traffic_follows_the_experts_touched() {
    let m = hf("Qwen3-30B-A3B", MOE_CONFIGS[0].1);
    let gpu = Gpu::load("h100").unwrap();
    let expert_bytes = 3.0 * 2048.0 * 768.0 * 2.0;
    let read = |n: u64, batch: u64| -> (f64, f64) {
        let options = RunOptions { batch, ..flash() };
        let r = run_with(&m, &gpu, &options, &Workload::from_layer_tokens(&[n; 48]));
        let e = r.experts.unwrap();
        let bytes: f64 = r.layers[0]
            .operators
            .iter()
            .filter(|o| o.op.name.starts_with("expert_"))
            .map(|o| o.op.load_weight_bytes)
            .sum();
        assert!(close(e.expert_weight_bytes_read, 48.0 * bytes, 1e-12));
        assert!(close(
            e.expert_weight_bytes_held,
            48.0 * 128.0 * expert_bytes,
            1e-12
        ));
        (bytes / expert_bytes, e.touched_per_layer[0])
    };
    // One token: its 8 experts. Four tokens: 128·(1 − (15/16)^4) ≈ 29.1. Thousands: all 128.
    assert_eq!(read(1, 1), (8.0, 8.0));
    let four = 128.0 * (1.0 - (1.0f64 - 8.0 / 128.0).powi(4));
    assert!(close(read(4, 1).0, four, 1e-12));
    // Batch multiplies the tokens: 4 sequences of one token touch as many as 4 tokens.
    assert!(close(read(1, 4).0, four, 1e-12));
    assert!(close(read(5000, 1).0, 128.0, 1e-9));
    // Memory holds every expert: peak weights exceed what a one-token layer reads.
    let r = run_with(&m, &gpu, &flash(), &Workload::from_layer_tokens(&[1; 48]));
    let weights = r.peak_memory.unwrap().weights_bytes;
    assert!(weights > 48.0 * 128.0 * expert_bytes, "{weights}");
    // Decode of batch 1 reads 8 experts per layer per step.
    let options = RunOptions {
        gen_tokens: 4,
        ..flash()
    };
    let r = run_with(&m, &gpu, &options, &Workload::from_layer_tokens(&[100; 48]));
    let d = r.decode.unwrap();
    let up = d
        .operators
        .iter()
        .find(|o| o.op.name == "expert_gate_up_proj")
        .unwrap();
    assert!(close(
        up.op.load_weight_bytes,
        4.0 * 48.0 * 8.0 * 2048.0 * 1536.0 * 2.0,
        1e-12
    ));
}

#[test]
fn dense_first_layers_and_shared_experts_are_priced() {
    // DeepSeek-style first_k_dense_replace on a Qwen2-MoE shape: layer 0 dense.
    let text = MOE_CONFIGS[2]
        .1
        .replace("\"decoder_sparse_step\":1", "\"first_k_dense_replace\":1");
    let m = hf("Qwen1.5-MoE first dense", &text);
    let r = run("llava-ov-0.5b", &[1], flash()); // a dense model: no expert report
    assert!(r.experts.is_none());
    let gpu = Gpu::load("a100").unwrap();
    let r = run_with(&m, &gpu, &flash(), &Workload::from_layer_tokens(&[10; 24]));
    let names =
        |i: usize| -> Vec<&str> { r.layers[i].operators.iter().map(|o| o.op.name).collect() };
    assert!(names(0).contains(&"gate_proj") && !names(0).contains(&"router"));
    for op in [
        "router",
        "expert_gate_up_proj",
        "shared_down_proj",
        "shared_expert_gate",
        "moe_combine",
    ] {
        assert!(names(1).contains(&op), "{op}");
    }
    assert_eq!(r.experts.as_ref().unwrap().touched_per_layer[0], 0.0);
}

#[test]
fn qwen2_has_qkv_biases_and_llama_has_none() {
    let ops = |model| run(model, &[10], flash()).layers[0].operators.clone();
    let qwen = ops("llava-ov-7b");
    let q = find(&qwen, "q_proj");
    assert_eq!(q.op.flops, 2.0 * 10.0 * (3584.0 * 3584.0 + 3584.0));
    let k = find(&qwen, "k_proj");
    assert_eq!(k.op.flops, 2.0 * 10.0 * (3584.0 * 512.0 + 512.0));
    let vicuna = ops("llava-1.5-7b");
    assert_eq!(
        find(&vicuna, "q_proj").op.flops,
        2.0 * 10.0 * 4096.0 * 4096.0
    );
}

#[test]
fn swiglu_activation_runs_over_the_intermediate_width() {
    let r = run("llava-ov-7b", &[100], flash());
    let act = find(&r.layers[0].operators, "silu_mul");
    // gate and up read, product written, all n × I (not n × h as llm-viewer sizes it).
    assert_eq!(act.op.load_act_bytes, 2.0 * 100.0 * 18944.0 * 2.0);
    assert_eq!(act.op.store_act_bytes, 100.0 * 18944.0 * 2.0);
}

#[test]
fn causal_flash_attention_is_half_of_dense_for_long_sequences() {
    let n = 65536;
    let r = run("llava-ov-7b", &[n], flash());
    let a = find(&r.layers[0].operators, "flash_attention");
    let dense = a.dense_flops.unwrap();
    // dense = (4d + 5) · H · n² (the n² count papers quote)
    assert_eq!(dense, (4.0 * 128.0 + 5.0) * 28.0 * (n as f64).powi(2));
    let ratio = a.op.flops / dense;
    assert!(ratio > 0.5 && ratio < 0.505, "{ratio}");
    // totals.flops holds the executed count; totals.dense_flops the quoted one.
    let gap = r.totals.dense_flops.unwrap() - r.totals.flops;
    assert!(close(gap, dense - a.op.flops, 1e-9));
}

#[test]
fn doubling_tokens_doubles_linear_and_quadruples_attention_flops() {
    let (n1, n2) = (8192, 16384);
    for options in [flash(), eager()] {
        let a = run("llava-ov-7b", &[n1], options.clone());
        let b = run("llava-ov-7b", &[n2], options);
        let (la, lb) = (a.layers[0].operators.clone(), b.layers[0].operators.clone());
        assert!(close(
            sum(&lb, OpKind::Linear),
            2.0 * sum(&la, OpKind::Linear),
            1e-12
        ));
        let ratio = sum(&lb, OpKind::Attention) / sum(&la, OpKind::Attention);
        assert!((3.95..=4.0).contains(&ratio), "{ratio}");
    }
}

#[test]
fn flash_attention_moves_no_n_squared_bytes_and_eager_does() {
    let n = 4096u64;
    let map_bytes = 28.0 * (n as f64).powi(2) * 2.0;
    let f = run("llava-ov-7b", &[n], flash());
    let fa = find(&f.layers[0].operators, "flash_attention");
    assert!(fa.bytes < map_bytes / 4.0, "{} vs {map_bytes}", fa.bytes);
    // Q read once, O written once (+ fp32 log-sum-exp).
    let q_bytes = n as f64 * 3584.0 * 2.0;
    assert_eq!(fa.op.load_act_bytes, q_bytes);
    assert_eq!(fa.op.store_act_bytes, q_bytes + n as f64 * 28.0 * 4.0);
    let e = run("llava-ov-7b", &[n], eager());
    let qk = find(&e.layers[0].operators, "qk_matmul");
    assert_eq!(qk.op.store_act_bytes, map_bytes);
    assert_eq!(
        find(&e.layers[0].operators, "sv_matmul").op.load_act_bytes,
        map_bytes
    );
    // Eager executes the dense product: no separate dense count.
    assert!(qk.dense_flops.is_none());
}

/// Between its two GEMMs PyTorch's eager attention makes one pass per op over the `H × n²`
/// scores (transformers `eager_attention_forward`, fp16): `* scale`, `+ mask` (the mask read
/// once), `softmax(dtype=float32)` (16-bit in, fp32 out), `.to(fp16)`. The model's element-wise
/// kernel is those passes, launch for launch (it used to count one softmax read and write).
#[test]
fn eager_attention_is_pytorchs_passes_over_the_scores() {
    let n = 2048u64;
    let scores = 28.0 * (n as f64).powi(2);
    // (reads, writes) per score, bytes, of each pass.
    let passes = [(2.0, 2.0), (2.0, 2.0), (2.0, 4.0), (4.0, 2.0)];
    let e = run("llava-ov-7b", &[n], eager());
    let chain = e.layers[0]
        .operators
        .iter()
        .find(|o| o.op.name == "mask_softmax")
        .expect("the element-wise passes");
    let mask_bytes = (n as f64).powi(2) * 2.0;
    let reads: f64 = passes.iter().map(|p| p.0).sum::<f64>() * scores + mask_bytes;
    let writes: f64 = passes.iter().map(|p| p.1).sum::<f64>() * scores;
    assert_eq!(chain.op.load_act_bytes, reads);
    assert_eq!(chain.op.store_act_bytes, writes);
    let chain = layer::EagerChain::new(2.0, true);
    assert_eq!(chain.launches, passes.len() as f64);
    // A vision tower has no mask: three passes.
    let v = layer::EagerChain::new(2.0, false);
    assert_eq!(
        (v.reads_per_score, v.writes_per_score, v.launches),
        (8.0, 8.0, 3.0)
    );
}

#[test]
fn logits_only_for_the_last_position_unless_asked() {
    let r = run("llava-ov-7b", &[500], flash());
    let head = find(&r.head, "lm_head");
    assert_eq!(head.op.flops, 2.0 * 3584.0 * 152064.0);
    let all = run(
        "llava-ov-7b",
        &[500],
        RunOptions {
            all_logits: true,
            ..flash()
        },
    );
    assert_eq!(find(&all.head, "lm_head").op.flops, 500.0 * head.op.flops);
}

#[test]
fn kv_cache_bytes_per_layer_are_two_tokens_kv_heads_head_dim_bytes() {
    let tokens = [1668, 1472, 100];
    let r = run("llava-ov-7b", &tokens, flash());
    let kv = r.kv_cache.unwrap();
    for (bytes, n) in kv.bytes_per_layer.iter().zip(tokens) {
        assert_eq!(*bytes, 2.0 * n as f64 * 4.0 * 128.0 * 2.0);
    }
    assert_eq!(kv.total_bytes, kv.bytes_per_layer.iter().sum::<f64>());
}

fn aim_workload(tokens: &[u64], decision: PruneDecision) -> Workload<'_> {
    Workload {
        layer_tokens: tokens,
        input: VisualInput {
            frames: 32,
            tokens_per_frame: 196,
            text_tokens: 100,
        },
        merged_tokens_per_frame: 49,
        importance: Importance::Pagerank,
        decision,
        selection: None,
    }
}

/// The AIM default under code timing: 1668 × 15, then 1472 … 296, then 100 × 6.
fn aim_code_tokens() -> Vec<u64> {
    let mut t = vec![1668; 15];
    t.extend([1472, 1276, 1080, 884, 688, 492, 296]);
    t.extend([100; 6]);
    t
}

#[test]
fn pagerank_is_priced_in_the_layer_that_computes_it() {
    let model = Model::load("llava-ov-7b").unwrap();
    let gpu = Gpu::load("a100").unwrap();
    let tokens = aim_code_tokens();
    let r = run_with(
        &model,
        &gpu,
        &flash(),
        &aim_workload(&tokens, PruneDecision::BeforeDrop),
    );
    let pruning: Vec<usize> = r
        .layers
        .iter()
        .filter(|l| l.operators.iter().any(|o| o.op.kind == OpKind::Prune))
        .map(|l| l.layer)
        .collect();
    assert_eq!(pruning, (14..22).collect::<Vec<_>>());
    // Layer 14 scores its 1668 tokens: 5 vector–matrix products per head over n × n.
    let ops = &r.layers[14].operators;
    let n = 1668.0f64;
    assert_eq!(
        find(ops, "pagerank_power_iterations").op.flops,
        5.0 * 2.0 * 28.0 * n * n
    );
    // The tempered probabilities exist as H × n × n fp32.
    assert_eq!(
        find(ops, "importance_softmax_t0.1").op.store_act_bytes,
        28.0 * n * n * 4.0
    );
    // FlashAttention kept no probabilities: Q·Kᵀ is recomputed; eager reuses its logits.
    assert!(ops.iter().any(|o| o.op.name == "importance_qk_recompute"));
    let e = run_with(
        &model,
        &gpu,
        &eager(),
        &aim_workload(&tokens, PruneDecision::BeforeDrop),
    );
    assert!(!e.layers[14]
        .operators
        .iter()
        .any(|o| o.op.name == "importance_qk_recompute"));
    // Kept hidden states gathered for layer 15.
    assert_eq!(
        find(ops, "gather_kept").op.store_act_bytes,
        1472.0 * 3584.0 * 2.0
    );
}

#[test]
fn other_importance_rules_pay_less() {
    let model = Model::load("llava-ov-7b").unwrap();
    let gpu = Gpu::load("a100").unwrap();
    let tokens = aim_code_tokens();
    let cost = |importance| {
        let w = Workload {
            importance,
            ..aim_workload(&tokens, PruneDecision::BeforeDrop)
        };
        run_with(&model, &gpu, &flash(), &w)
            .pipeline
            .unwrap()
            .importance_flops
    };
    let (pr, last, text, none) = (
        cost(Importance::Pagerank),
        cost(Importance::LastToken),
        cost(Importance::TextToVisual),
        cost(Importance::None),
    );
    assert!(pr > 100.0 * last && last > 0.0, "{pr} {last}");
    assert!(text > last && text < pr);
    assert_eq!(none, 0.0);
}

#[test]
fn merging_is_a_stage_before_the_llm_counted_per_frame() {
    let model = Model::load("llava-ov-7b").unwrap();
    let gpu = Gpu::load("a100").unwrap();
    let tokens = aim_code_tokens();
    let r = run_with(
        &model,
        &gpu,
        &flash(),
        &aim_workload(&tokens, PruneDecision::BeforeDrop),
    );
    let sim = find(&r.stages, "merge_similarity");
    // 32 frames × (98 × 98 + 49 × 49) × h × 2, not 3136² × h × 2 over the whole video.
    assert_eq!(
        sim.op.flops,
        32.0 * 2.0 * 3584.0 * (98.0 * 98.0 + 49.0 * 49.0)
    );
    let p = r.pipeline.unwrap();
    assert!(p.merge_flops > sim.op.flops && p.merge_time_s > 0.0);
    // paper-cases.md: whole-video merging was ~30× the per-frame cost (88.25 GFLOPs).
    assert!((20.0..40.0).contains(&(88.25e9 / p.merge_flops)));
}

#[test]
fn vision_encoder_matches_its_parameter_count() {
    let model = Model::load("llava-ov-7b").unwrap();
    let gpu = Gpu::load("a100").unwrap();
    let tokens = aim_code_tokens();
    let options = RunOptions {
        include_vision: true,
        ..flash()
    };
    let r = run_with(
        &model,
        &gpu,
        &options,
        &aim_workload(&tokens, PruneDecision::BeforeDrop),
    );
    let v = model.vision.as_ref().unwrap();
    // SigLIP linear FLOPs = 2 · (linear params) · tokens: 26 layers, 32 frames × 729 patches.
    let (hv, iv) = (1152.0, 4304.0);
    let per_layer = 4.0 * (hv * hv + hv) + (hv * iv + iv) + (iv * hv + hv);
    let linear: f64 = [
        "vision_qkv_proj",
        "vision_out_proj",
        "vision_fc1",
        "vision_fc2",
    ]
    .iter()
    .map(|n| find(&r.stages, n).op.flops)
    .sum();
    assert!(close(
        linear,
        2.0 * 26.0 * per_layer * 32.0 * v.patches_per_frame as f64,
        1e-12
    ));
    let p = r.pipeline.unwrap();
    assert!(p.vision_time_s > 0.0);
    assert!(close(
        p.ttft_s,
        p.vision_time_s + p.merge_time_s + p.llm_time_s,
        1e-12
    ));
    // SigLIP-so400m is ~0.4 B parameters.
    let params = stages::vision_params(v, 3584.0);
    assert!((0.39e9..0.47e9).contains(&params), "{params}");
}

#[test]
fn tensor_parallel_splits_weights_and_adds_two_all_reduces_per_layer() {
    let one = run("llava-ov-7b", &[2000], flash());
    let two = run("llava-ov-7b", &[2000], RunOptions { tp: 2, ..flash() });
    let (l1, l2) = (&one.layers[0].operators, &two.layers[0].operators);
    assert!(close(
        sum(l2, OpKind::Linear),
        sum(l1, OpKind::Linear) / 2.0,
        1e-12
    ));
    let comm: Vec<_> = l2
        .iter()
        .filter(|o| o.op.kind == OpKind::Communication)
        .collect();
    assert_eq!(comm.len(), 2);
    // Ring all-reduce over 300 GB/s: 2 (tp−1)/tp × n·h·2 bytes.
    let message = 2000.0 * 3584.0 * 2.0;
    assert!(close(comm[0].time_s, message / 300e9, 1e-9));
    assert!(two.kv_cache.unwrap().total_bytes * 2.0 == one.kv_cache.unwrap().total_bytes);
}

#[test]
fn efficiency_table_slows_kernels_and_is_reported() {
    let model = Model::load("llava-ov-7b").unwrap();
    let mut gpu = Gpu::load("a100").unwrap();
    let tokens = [1000u64; 4];
    let w = Workload::from_layer_tokens(&tokens);
    let ideal = run_with(&model, &gpu, &flash(), &w);
    assert!(ideal.calibration.as_ref().unwrap().starts_with("ideal"));
    gpu.efficiency = Some(Efficiency {
        matmul: 0.7,
        attention: 0.5,
        elementwise: 0.8,
        launch_overhead_s: 4e-6,
        ..crate::hardware::Efficiency::ideal()
    });
    let real = run_with(&model, &gpu, &flash(), &w);
    assert!(real.calibration.as_ref().unwrap().contains("matmul 70 %"));
    assert!(real.totals.time_s > ideal.totals.time_s * 1.2);
    assert_eq!(real.totals.flops, ideal.totals.flops);
}

#[test]
fn peak_memory_counts_the_attention_map_and_warns_beyond_the_device() {
    // 192 frames × 196 tokens, no reduction, eager: 28 × 37732² maps cannot fit in 40 GB.
    let tokens = [192 * 196 + 100; 2];
    let e = run("llava-ov-7b", &tokens, eager());
    let m = e.peak_memory.as_ref().unwrap();
    let n = tokens[0] as f64;
    assert_eq!(m.attention_map_bytes, 28.0 * n * n * (2.0 + 4.0));
    assert!(m.peak_bytes > m.device_bytes);
    assert!(e.warnings.iter().any(|w| w.contains("exceeds")));
    let f = run("llava-ov-7b", &tokens, flash());
    let m = f.peak_memory.unwrap();
    assert_eq!(m.attention_map_bytes, 0.0);
    assert!(close(
        m.peak_bytes,
        m.weights_bytes + m.kv_cache_bytes + m.activations_bytes,
        1e-12
    ));
    assert!(f.warnings.is_empty());
}

/// Regression: decode's summed attention was put at index 5 of the operator list, which with
/// Qwen3's q/k norm put it before `rope` (`qk_norm`, `decode_attention`, `rope`). It sits
/// right after `rope`, as in a prefill layer.
#[test]
fn decode_attention_follows_rope_whatever_the_layer_has() {
    for model in ["llava-ov-7b", "qwen3-vl-8b", "qwen3-vl-30b-a3b"] {
        let layers = Model::load(model).unwrap().num_layers as usize;
        let r = run(
            model,
            &vec![300; layers],
            RunOptions {
                gen_tokens: 8,
                ..flash()
            },
        );
        let names: Vec<&str> = r
            .decode
            .unwrap()
            .operators
            .iter()
            .map(|o| o.op.name)
            .collect();
        let rope = names.iter().position(|&n| n == "rope").unwrap();
        assert_eq!(names[rope + 1], "decode_attention", "{model}: {names:?}");
        assert_eq!(
            names.iter().filter(|&&n| n == "decode_attention").count(),
            1
        );
    }
}

#[test]
fn decode_reads_the_pruned_cache_and_grows_with_it() {
    let tokens = aim_code_tokens();
    let r = run(
        "llava-ov-7b",
        &tokens,
        RunOptions {
            gen_tokens: 64,
            ..flash()
        },
    );
    let d = r.decode.unwrap();
    assert_eq!(d.gen_tokens, 64);
    assert!(d.last_step_time_s > d.first_step_time_s);
    let kv_per_token = 2.0 * 4.0 * 128.0 * 2.0;
    let want: f64 = tokens.iter().map(|&n| (n + 64) as f64 * kv_per_token).sum();
    assert_eq!(d.final_kv_cache_bytes, want);
    // Each step streams every layer's weights once: decode is memory-bound.
    let weights: f64 = d.operators.iter().map(|o| o.op.load_weight_bytes).sum();
    assert!(d.time_s >= weights / 1555e9);
    // The linear FLOPs per step are 2 · params (one token).
    let model = Model::load("llava-ov-7b").unwrap();
    let linear = sum(&d.operators, OpKind::Linear);
    assert!(close(
        linear,
        2.0 * linear_params(&model, 0) * 28.0 * 64.0,
        1e-12
    ));
    let p = r.pipeline.unwrap();
    assert!(close(p.end_to_end_time_s, p.ttft_s + d.time_s, 1e-12));
}

/// An efficiency of 0.001 read "matmul 0 % of peak": a share under 1 % keeps two significant
/// digits; whole percents stay whole.
#[test]
fn a_share_under_one_percent_is_not_zero() {
    assert_eq!(super::share(0.001), "0.10");
    assert_eq!(super::share(0.0042), "0.42");
    assert_eq!(super::share(0.6184), "62");
    assert_eq!(super::share(1.0), "100");
    assert_eq!(super::share(0.0), "0");
}
