//! The LLM-Viewer prefill model exactly as the AIM paper used it, quirks included
//! (docs/specs/llm-viewer-cost-model.md). Every formula below cites that file's section.
//! Do not "fix" anything here: the `refined` model is where physics is corrected.

use super::{
    Context, CostModel, Each, LayerCost, LayerMemo, OpKind, Operator, RunCost, Sink, TimedOp,
    Totals,
};
use crate::model::Moe;

/// Marker type for the `llm-viewer` cost model.
pub struct LlmViewer;

/// Shapes and byte widths as f64, computed once per run.
struct Dims {
    h: f64,
    heads: f64,
    kv_heads: f64,
    d: f64,
    /// k/v projection width `h * Hkv // H` (integer arithmetic, as the original); `Hkv · d`
    /// for a model with an explicit `head_dim`.
    kv_width: f64,
    /// q projection width: `h`, or `H · d` for a model with an explicit `head_dim` (where the
    /// original's `h × h` would misstate Qwen3-30B-A3B's 2048 → 4096 projection).
    q_width: f64,
    inter: f64,
    vocab: f64,
    b: f64,
    w: f64,
    a: f64,
    kv: f64,
    onchip: f64,
}

impl Dims {
    fn new(ctx: &Context) -> Dims {
        let m = ctx.model;
        let p = ctx.options.precision;
        // "head size d = h / H (integer division)", unless the model states it.
        let (d, kv_width, q_width) = match m.head_dim {
            None => (
                m.hidden_size / m.num_heads,
                m.hidden_size * m.kv_heads() / m.num_heads,
                m.hidden_size,
            ),
            Some(d) => (d, m.kv_heads() * d, m.num_heads * d),
        };
        Dims {
            h: m.hidden_size as f64,
            heads: m.num_heads as f64,
            kv_heads: m.kv_heads() as f64,
            d: d as f64,
            kv_width: kv_width as f64,
            q_width: q_width as f64,
            inter: m.intermediate_size as f64,
            vocab: m.vocab_size as f64,
            b: ctx.options.batch as f64,
            w: p.w_bytes(),
            a: p.a_bytes(),
            kv: p.kv_bytes(),
            onchip: ctx.gpu.onchip_buffer,
        }
    }
}

fn op(name: &'static str, kind: OpKind, flops: f64) -> Operator {
    Operator::new(name, kind, flops)
}

/// "Linear layers": ops `2·in·out·b·n`; k/v write the KV cache instead of activations.
fn linear(name: &'static str, d: &Dims, n: f64, input: f64, output: f64, is_kv: bool) -> Operator {
    Operator {
        load_weight_bytes: input * output * d.w,
        load_act_bytes: input * d.b * n * d.a,
        store_act_bytes: if is_kv { 0.0 } else { output * d.b * n * d.a },
        store_kv_bytes: if is_kv { output * d.b * n * d.kv } else { 0.0 },
        ..op(name, OpKind::Linear, 2.0 * input * output * d.b * n)
    }
}

/// "Element-wise operators": ops `k·b·h·n`, one activation read (times `reads`) and one write.
fn elementwise(
    name: &'static str,
    kind: OpKind,
    d: &Dims,
    n: f64,
    ops_per: f64,
    reads: f64,
) -> Operator {
    let act = d.b * d.h * n * d.a;
    Operator {
        load_act_bytes: reads * act,
        store_act_bytes: act,
        ..op(name, kind, ops_per * d.b * d.h * n)
    }
}

/// The attention operators: three without FlashAttention, one fused with it.
fn attention(d: &Dims, n: f64, flash: bool, out: &mut impl Sink<Operator>) {
    let (b, hq, hkv, hd) = (d.b, d.heads, d.kv_heads, d.d);
    let qk_flops = 2.0 * n * n * hd * hq * b;
    let sv_flops = 2.0 * n * hd * n * hq * b;
    let softmax_flops = 5.0 * b * hq * n * n;
    if flash {
        // "Attention with FlashAttention": Br = min(ceil(S / (kv·d)), d), nb = ceil(n / Br).
        let block_rows = (d.onchip / (d.kv * hd)).ceil().min(hd);
        let blocks = (n / block_rows).ceil();
        out.push(Operator {
            load_act_bytes: n * hd * b * hq * d.a,
            // quirk: the original sizes the output as n×n.
            store_act_bytes: 2.0 * n * n * b * hq * d.a,
            load_kv_bytes: blocks * n * hd * b * hkv * d.kv * 2.0,
            ..op(
                "fused_attention",
                OpKind::Attention,
                qk_flops + sv_flops + softmax_flops,
            )
        });
        return;
    }
    // "Attention without FlashAttention, three operators".
    out.push(Operator {
        // quirk: load_act uses Hkv, not H.
        load_act_bytes: n * hd * b * hkv * d.a,
        store_act_bytes: n * n * b * hq * d.a,
        load_kv_bytes: n * hd * b * hkv * d.kv,
        ..op("qk_matmul", OpKind::Attention, qk_flops)
    });
    out.push(Operator {
        load_act_bytes: b * hq * n * n * d.a,
        store_act_bytes: b * hq * n * n * d.a,
        ..op("softmax", OpKind::Attention, softmax_flops)
    });
    out.push(Operator {
        load_act_bytes: n * n * b * hq * d.a,
        store_act_bytes: n * hd * b * hq * d.a,
        load_kv_bytes: n * hd * b * hkv * d.kv,
        ..op("sv_matmul", OpKind::Attention, sv_flops)
    });
}

/// "Linear layers" over the `n·k` (token, expert) rows of a mixture-of-experts layer: ops
/// `2·in·out·b·n·k`, activations per row, the weights of the `touched` experts only (not in
/// LLM-Viewer; its formula applied per routed row).
fn expert_linear(
    name: &'static str,
    d: &Dims,
    n: f64,
    k: f64,
    input: f64,
    output: f64,
    touched: f64,
) -> Operator {
    Operator {
        load_weight_bytes: touched * input * output * d.w,
        ..linear(name, d, n * k, input, output, false)
    }
}

/// All operators of one decoder layer processing `n` tokens, in execution order; `moe`: the
/// layer routes its MLP through experts.
fn layer_ops(
    d: &Dims,
    n: f64,
    flash: bool,
    skip_mlp_add: bool,
    moe: Option<&Moe>,
    ops: &mut impl Sink<Operator>,
) {
    ops.push(elementwise("attn_norm", OpKind::Norm, d, n, 7.0, 1.0));
    ops.push(linear("q_proj", d, n, d.h, d.q_width, false));
    ops.push(linear("k_proj", d, n, d.h, d.kv_width, true));
    ops.push(linear("v_proj", d, n, d.h, d.kv_width, true));
    attention(d, n, flash, ops);
    ops.push(linear("out_proj", d, n, d.q_width, d.h, false));
    ops.push(elementwise("attn_add", OpKind::Elementwise, d, n, 1.0, 1.0));
    ops.push(elementwise("mlp_norm", OpKind::Norm, d, n, 7.0, 1.0));
    if let Some(m) = moe {
        let (e, k) = (m.num_experts as f64, m.experts_per_token as f64);
        let i = m.expert_intermediate_size as f64;
        let touched = m.expected_distinct_experts(n * d.b);
        ops.push(linear("router", d, n, d.h, e, false));
        ops.push(expert_linear("expert_gate_proj", d, n, k, d.h, i, touched));
        ops.push(expert_linear("expert_up_proj", d, n, k, d.h, i, touched));
        ops.push(elementwise("mlp_act", OpKind::Elementwise, d, n, 2.0, 2.0));
        ops.push(expert_linear("expert_down_proj", d, n, k, i, d.h, touched));
        let s = m.shared_intermediate_size as f64;
        if s > 0.0 {
            ops.push(linear("shared_gate_proj", d, n, d.h, s, false));
            ops.push(linear("shared_up_proj", d, n, d.h, s, false));
            ops.push(linear("shared_down_proj", d, n, s, d.h, false));
        }
        if !skip_mlp_add {
            ops.push(elementwise("mlp_add", OpKind::Elementwise, d, n, 1.0, 1.0));
        }
        return;
    }
    ops.push(linear("gate_proj", d, n, d.h, d.inter, false));
    ops.push(linear("up_proj", d, n, d.h, d.inter, false));
    // quirk: mlp_act is sized with h, not I; two reads (gate and up), one write.
    ops.push(elementwise("mlp_act", OpKind::Elementwise, d, n, 2.0, 2.0));
    ops.push(linear("down_proj", d, n, d.inter, d.h, false));
    if !skip_mlp_add {
        ops.push(elementwise("mlp_add", OpKind::Elementwise, d, n, 1.0, 1.0));
    }
}

/// "Whole prefill": lm_head once, ops `b·h·V` (quirk: no factor 2, one token).
fn lm_head(d: &Dims) -> Operator {
    Operator {
        load_weight_bytes: d.h * d.vocab * d.w,
        load_act_bytes: d.h * d.a,
        store_act_bytes: d.vocab * d.a,
        ..op("lm_head", OpKind::LmHead, d.b * d.h * d.vocab)
    }
}

impl CostModel for LlmViewer {
    fn name(&self) -> &'static str {
        "llm-viewer"
    }

    fn run(&self, ctx: &Context, layer_tokens: &[u64]) -> RunCost {
        let mut layers = Vec::with_capacity(layer_tokens.len());
        let (totals, head) = price(ctx, layer_tokens, Some(&mut layers));
        RunCost {
            stages: Vec::new(),
            layers,
            head: vec![head],
            totals,
            ..RunCost::default()
        }
    }

    fn run_totals(&self, ctx: &Context, w: &super::Workload) -> Totals {
        price(ctx, w.layer_tokens, None).0
    }
}

/// Running sums of one prefill, in the order the operators are priced. Memory consumption:
/// layer weights + layer KV stores + the LAST layer's stored activations; lm_head excluded
/// (llm-viewer-cost-model.md, "Whole prefill"). Sums start at −0.0 as `f64: Sum` does.
#[derive(Clone)]
struct Sums {
    totals: Totals,
    weight_bytes: f64,
    store_kv_bytes: f64,
    /// Of the current layer.
    store_act_bytes: f64,
}

impl Sums {
    #[inline(always)]
    fn add(&mut self, t: &TimedOp) {
        self.totals.add(t);
        self.weight_bytes += t.op.load_weight_bytes;
        self.store_kv_bytes += t.op.store_kv_bytes;
        self.store_act_bytes += t.op.store_act_bytes;
    }
}

/// Prices the layers and the head, summing as it goes (the same additions in the same order
/// whether or not `layers` keeps the per-layer operators), and returns the totals and the head.
fn price(
    ctx: &Context,
    layer_tokens: &[u64],
    mut layers: Option<&mut Vec<LayerCost>>,
) -> (Totals, TimedOp) {
    let d = Dims::new(ctx);
    let roofline = ctx.roofline();
    let mut sums = Sums {
        totals: Totals::default(),
        weight_bytes: -0.0,
        store_kv_bytes: -0.0,
        store_act_bytes: -0.0,
    };
    let mut last_store_act_bytes = 0.0;
    // A layer with as many tokens as the one before it, routing alike, reuses its timed
    // operators.
    let mut memo = LayerMemo::default();
    let moe = ctx.model.moe.as_ref();
    for (i, &n) in layer_tokens.iter().enumerate() {
        let mut ops = Vec::new();
        sums.store_act_bytes = -0.0;
        let routed = moe.filter(|m| m.is_sparse(i as u64));
        if memo.holds(n, routed.is_some()) {
            // On a local copy, so the sums stay in registers: the same additions in order.
            let mut local = sums.clone();
            for t in memo.ops() {
                local.add(t);
                if layers.is_some() {
                    ops.push(t.clone());
                }
            }
            sums = local;
        } else {
            memo.start(Some((n, routed.is_some())));
            layer_ops(
                &d,
                n as f64,
                ctx.options.flash_attention,
                ctx.options.skip_mlp_add,
                routed,
                &mut Each(|o: Operator| {
                    let t = roofline.time(o);
                    sums.add(&t);
                    memo.record(&t);
                    if layers.is_some() {
                        ops.push(t);
                    }
                }),
            );
        }
        last_store_act_bytes = sums.store_act_bytes;
        if let Some(layers) = layers.as_deref_mut() {
            layers.push(LayerCost::new(i, n, ops));
        }
    }
    let head = roofline.time(lm_head(&d));
    let mut totals = sums.totals;
    totals.add(&head);
    totals.memory_consumption_bytes =
        sums.weight_bytes + sums.store_kv_bytes + last_store_act_bytes;
    // A MoE layer reads the experts its tokens touch but holds all of them.
    if let Some(m) = moe {
        let expert = 3.0 * d.h * m.expert_intermediate_size as f64 * d.w;
        totals.memory_consumption_bytes += layer_tokens
            .iter()
            .enumerate()
            .filter(|(i, _)| m.is_sparse(*i as u64))
            .map(|(_, &n)| {
                (m.num_experts as f64 - m.expected_distinct_experts(n as f64 * d.b)) * expert
            })
            .sum::<f64>();
    }
    (totals, head)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{Precision, RunOptions};
    use crate::hardware::Gpu;
    use crate::model::Model;

    fn ctx_run(model: &str, tokens: &[u64], options: RunOptions) -> RunCost {
        let model = Model::load(model).unwrap();
        let gpu = Gpu::load("a100").unwrap();
        let ctx = Context {
            model: &model,
            gpu: &gpu,
            options: &options,
        };
        LlmViewer.run(&ctx, tokens)
    }

    fn paper_options() -> RunOptions {
        RunOptions {
            skip_mlp_add: true,
            ..RunOptions::default()
        }
    }

    #[test]
    fn headline_baseline_and_aim() {
        // llm-viewer-cost-model.md: baseline 99.6270 TFLOPs / 439.578 ms; AIM 14.7566 / 55.028.
        let base = ctx_run("llava-ov-7b", &[6372; 28], paper_options());
        assert!(
            (base.totals.flops / 1e12 - 99.6270).abs() < 5e-5,
            "{}",
            base.totals.flops
        );
        assert!(
            (base.totals.time_s * 1e3 - 439.578).abs() < 5e-4,
            "{}",
            base.totals.time_s
        );
        let mut aim = vec![1668; 14];
        aim.extend([1472, 1276, 1080, 884, 688, 492, 296]);
        aim.extend([100; 7]);
        let aim = ctx_run("llava-ov-7b", &aim, paper_options());
        assert!((aim.totals.flops / 1e12 - 14.7566).abs() < 5e-5);
        assert!((aim.totals.time_s * 1e3 - 55.028).abs() < 5e-4);
    }

    #[test]
    fn linear_flops_follow_the_formula() {
        // One layer of n tokens on a GQA model: 2·n·(h·h·2 + 2·h·kv_width + 3·h·I) + attention.
        let n = 1000u64;
        let run = ctx_run("llava-ov-7b", &[n], RunOptions::default());
        let (h, kvw, i) = (3584.0, 512.0, 18944.0);
        let linear: f64 = run.layers[0]
            .operators
            .iter()
            .filter(|o| o.op.kind == OpKind::Linear)
            .map(|o| o.op.flops)
            .sum();
        assert_eq!(
            linear,
            2.0 * n as f64 * (2.0 * h * h + 2.0 * h * kvw + 3.0 * h * i)
        );
    }

    /// Qwen3-30B-A3B (the LLM of the qwen3-vl-30b-a3b preset): q is 32 × 128 = 4096 wide
    /// from h = 2048, and each token runs the router and 8 of 128 experts of width 768.
    #[test]
    fn moe_layers_count_routed_rows_and_touched_experts() {
        let model = Model::load("qwen3-vl-30b-a3b").unwrap();
        let gpu = Gpu::load("a100").unwrap();
        let options = RunOptions::default();
        let ctx = Context {
            model: &model,
            gpu: &gpu,
            options: &options,
        };
        let n = 10.0;
        let run = LlmViewer.run(&ctx, &[10; 48]);
        let ops = &run.layers[0].operators;
        let linear: f64 = ops
            .iter()
            .filter(|o| o.op.kind == OpKind::Linear)
            .map(|o| o.op.flops)
            .sum();
        let (h, q, kv, e, k, i) = (2048.0, 4096.0, 512.0, 128.0, 8.0, 768.0);
        let params = h * q + 2.0 * h * kv + q * h + h * e + k * 3.0 * h * i;
        assert_eq!(linear, 2.0 * n * params);
        let touched = 128.0 * (1.0 - (1.0f64 - 8.0 / 128.0).powf(10.0));
        let up = ops.iter().find(|o| o.op.name == "expert_up_proj").unwrap();
        assert!((up.op.load_weight_bytes - touched * h * i * 2.0).abs() < 1e-3);
        // Memory holds every expert of every layer, not only those read.
        let expert_weights = 48.0 * 128.0 * 3.0 * h * i * 2.0;
        assert!(run.totals.memory_consumption_bytes > expert_weights);
        let read: f64 = run
            .layers
            .iter()
            .flat_map(|l| &l.operators)
            .map(|o| o.op.load_weight_bytes)
            .sum();
        assert!(read < run.totals.memory_consumption_bytes - 0.5 * expert_weights);
    }

    #[test]
    fn flash_attention_has_one_fused_operator_with_the_same_ops() {
        let eager = ctx_run("llava-ov-7b", &[2048], RunOptions::default());
        let flash = ctx_run(
            "llava-ov-7b",
            &[2048],
            RunOptions {
                flash_attention: true,
                ..RunOptions::default()
            },
        );
        let attn = |r: &RunCost| -> (usize, f64) {
            let ops: Vec<_> = r.layers[0]
                .operators
                .iter()
                .filter(|o| o.op.kind == OpKind::Attention)
                .collect();
            (ops.len(), ops.iter().map(|o| o.op.flops).sum())
        };
        assert_eq!(attn(&eager).0, 3);
        assert_eq!(attn(&flash).0, 1);
        assert_eq!(attn(&eager).1, attn(&flash).1);
    }

    #[test]
    fn int8_peak_applies_only_when_all_widths_are_8_bit_or_less() {
        let run = |w, a, kv| {
            ctx_run(
                "llava-ov-7b",
                &[4096],
                RunOptions {
                    precision: Precision {
                        w_bits: w,
                        a_bits: a,
                        kv_bits: kv,
                    },
                    ..RunOptions::default()
                },
            )
        };
        let q_proj = |r: &RunCost| r.layers[0].operators[1].clone();
        let fp16 = q_proj(&run(16, 16, 16));
        let int8 = q_proj(&run(8, 8, 8));
        let mixed = q_proj(&run(8, 8, 16));
        assert_eq!(fp16.op.flops, int8.op.flops);
        assert!(
            (fp16.time_s / int8.time_s - 2.0).abs() < 1e-9,
            "compute-bound GEMM at 2× peak"
        );
        assert!(mixed.time_s > int8.time_s);
    }

    /// Every operator of one layer of an odd-shaped GQA model, with batch, bit widths and
    /// both attention paths, against the formulas of llm-viewer-cost-model.md written out
    /// independently here: the model holds for any input, not only the paper's rows.
    #[test]
    fn every_operator_follows_the_spec_for_any_shape() {
        let model = Model {
            name: "odd".into(),
            description: String::new(),
            source: String::new(),
            aliases: Vec::new(),
            hidden_size: 1200,
            num_heads: 10,
            num_kv_heads: Some(2),
            num_layers: 2,
            intermediate_size: 3000,
            vocab_size: 5000,
            qkv_bias: false,
            head_dim: None,
            qk_norm: false,
            moe: None,
            tokens_per_frame: 10,
            default_frames: 1,
            vision: None,
        };
        let gpu = Gpu {
            onchip_buffer: 50_000.0,
            l2_bytes: None,
            sms: None,
            ..Gpu::load("a100").unwrap()
        };
        let (h, hq, hkv, i_, v) = (1200.0, 10.0, 2.0, 3000.0, 5000.0);
        let d = h / hq; // 120
        let kvw = h * hkv / hq; // 240
        let (n, b) = (777.0, 3.0);
        let (w, a, kv) = (0.5, 1.0, 1.0); // 4-bit weights, 8-bit activations and KV
        for flash in [false, true] {
            let options = RunOptions {
                batch: 3,
                precision: Precision {
                    w_bits: 4,
                    a_bits: 8,
                    kv_bits: 8,
                },
                flash_attention: flash,
                ..RunOptions::default()
            };
            let ctx = Context {
                model: &model,
                gpu: &gpu,
                options: &options,
            };
            let run = LlmViewer.run(&ctx, &[777, 5]);
            let ops = &run.layers[0].operators;
            let get = |name: &str| {
                ops.iter()
                    .find(|o| o.op.name == name)
                    .unwrap_or_else(|| panic!("no {name}"))
                    .op
                    .clone()
            };
            // (ops, load_weight, load_act, store_act, load_kv, store_kv)
            let lin = |inp: f64, out: f64, is_kv: bool| {
                (
                    2.0 * inp * out * b * n,
                    inp * out * w,
                    inp * b * n * a,
                    if is_kv { 0.0 } else { out * b * n * a },
                    0.0,
                    if is_kv { out * b * n * kv } else { 0.0 },
                )
            };
            let ew = |k: f64, reads: f64| {
                (
                    k * b * h * n,
                    0.0,
                    reads * b * h * n * a,
                    b * h * n * a,
                    0.0,
                    0.0,
                )
            };
            let mut want = vec![
                ("q_proj", lin(h, h, false)),
                ("k_proj", lin(h, kvw, true)),
                ("v_proj", lin(h, kvw, true)),
                ("out_proj", lin(h, h, false)),
                ("gate_proj", lin(h, i_, false)),
                ("up_proj", lin(h, i_, false)),
                ("down_proj", lin(i_, h, false)),
                ("attn_norm", ew(7.0, 1.0)),
                ("mlp_norm", ew(7.0, 1.0)),
                ("attn_add", ew(1.0, 1.0)),
                ("mlp_add", ew(1.0, 1.0)),
                ("mlp_act", ew(2.0, 2.0)),
            ];
            let qk = 2.0 * n * n * d * hq * b;
            let sv = 2.0 * n * d * n * hq * b;
            let sm = 5.0 * b * hq * n * n;
            if flash {
                // Br = min(ceil(S / (kv·d)), d) = min(ceil(50000 / 120), 120) = 120.
                let blocks = (n / 120.0_f64).ceil();
                want.push((
                    "fused_attention",
                    (
                        qk + sv + sm,
                        0.0,
                        n * d * b * hq * a,
                        2.0 * n * n * b * hq * a,
                        blocks * n * d * b * hkv * kv * 2.0,
                        0.0,
                    ),
                ));
            } else {
                want.push((
                    "qk_matmul",
                    (
                        qk,
                        0.0,
                        n * d * b * hkv * a,
                        n * n * b * hq * a,
                        n * d * b * hkv * kv,
                        0.0,
                    ),
                ));
                want.push((
                    "sv_matmul",
                    (
                        sv,
                        0.0,
                        n * n * b * hq * a,
                        n * d * b * hq * a,
                        n * d * b * hkv * kv,
                        0.0,
                    ),
                ));
                want.push((
                    "softmax",
                    (sm, 0.0, b * hq * n * n * a, b * hq * n * n * a, 0.0, 0.0),
                ));
            }
            assert_eq!(ops.len(), want.len(), "flash={flash}");
            for (name, expected) in want {
                let o = get(name);
                let got = (
                    o.flops,
                    o.load_weight_bytes,
                    o.load_act_bytes,
                    o.store_act_bytes,
                    o.load_kv_bytes,
                    o.store_kv_bytes,
                );
                assert_eq!(got, expected, "{name}, flash={flash}");
            }
            // lm_head once: b·h·V ops, h·V·w weights, h·a in, V·a out.
            let head = &run.head[0];
            assert_eq!(
                (
                    head.op.flops,
                    head.op.load_weight_bytes,
                    head.op.load_act_bytes,
                    head.op.store_act_bytes
                ),
                (b * h * v, h * v * w, h * a, v * a)
            );
            // Every width <= 8 bits: the INT8 roofline times every operator.
            let ridge = gpu.int8_peak / gpu.bandwidth;
            for o in ops.iter().chain(&run.head) {
                let ai = o.op.flops / o.bytes;
                let want_s = if ai < ridge {
                    o.op.flops / (ai * gpu.bandwidth)
                } else {
                    o.op.flops / gpu.int8_peak
                };
                assert!((o.time_s / want_s - 1.0).abs() < 1e-12, "{}", o.op.name);
            }
            // Memory consumption: layer weights + KV stores + the last layer's stored activations.
            let layer_sum = |f: fn(&Operator) -> f64| -> f64 {
                run.layers
                    .iter()
                    .flat_map(|l| &l.operators)
                    .map(|o| f(&o.op))
                    .sum()
            };
            let last: f64 = run.layers[1]
                .operators
                .iter()
                .map(|o| o.op.store_act_bytes)
                .sum();
            let want_mem =
                layer_sum(|o| o.load_weight_bytes) + layer_sum(|o| o.store_kv_bytes) + last;
            assert!((run.totals.memory_consumption_bytes / want_mem - 1.0).abs() < 1e-12);
        }
    }
}
