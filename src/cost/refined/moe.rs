//! A mixture-of-experts MLP as a fused-MoE kernel sequence runs it (vLLM `fused_moe`): the
//! router GEMM, softmax + top-k, the tokens sorted by expert, one grouped GEMM for gate and up
//! over every (token, expert) pair, SiLU·mul, the down GEMM, and the weighted sum over each
//! token's `k` experts; plus the shared experts every token runs (and Qwen2-MoE's sigmoid gate
//! on them). FLOPs follow the routed pairs (`n·k` rows); weight bytes follow the experts the
//! layer's tokens touch, `E·(1 − (1 − k/E)^n)` of them for uniform routing
//! ([`crate::model::Moe::expected_distinct_experts`]): untouched experts are not read.
//! Expert and shared widths are split across GPUs under tensor parallelism (each GPU holds a
//! slice of every expert); the router is replicated.

use super::kernel::{kernel, Call, Class, Kernel};
use super::layer::{linear, push_linear, silu_mul, Dims, Dst, SOFTMAX_FLOPS};
use crate::cost::OpKind;
use crate::model::Moe;

/// Bytes of an expert index (int32, vLLM `topk_ids`).
const INDEX_BYTES: f64 = 4.0;
/// Routing weights are kept in fp32 (vLLM `topk_weights`).
const WEIGHT_BYTES: f64 = 4.0;
/// Sigmoid per element: negate, exp, add, divide.
const SIGMOID_FLOPS: f64 = 4.0;

/// The MoE shapes of one run, per GPU.
#[derive(Debug, Clone)]
pub struct MoeDims {
    pub moe: Moe,
    pub experts: f64,
    pub k: f64,
    /// One expert's SwiGLU width on this GPU (`I_e / tp`).
    pub inter: f64,
    /// The shared experts' width on this GPU (`I_s / tp`); 0 without.
    pub shared: f64,
}

impl MoeDims {
    pub fn new(moe: &Moe, tp: u64) -> MoeDims {
        let tp = tp.max(1);
        MoeDims {
            moe: moe.clone(),
            experts: moe.num_experts as f64,
            k: moe.experts_per_token as f64,
            inter: (moe.expert_intermediate_size / tp) as f64,
            shared: (moe.shared_intermediate_size / tp) as f64,
        }
    }

    /// Parameters of one routed expert on this GPU (gate, up, down; no biases).
    pub fn expert_params(&self, d: &Dims) -> f64 {
        3.0 * d.h * self.inter
    }

    /// Expected distinct experts `tokens` tokens (the whole batch) touch in one layer.
    pub fn touched(&self, tokens: f64) -> f64 {
        self.moe.expected_distinct_experts(tokens)
    }

    /// MLP parameters of one MoE layer on this GPU: router, every expert, shared experts and
    /// their gate.
    pub fn mlp_params(&self, d: &Dims) -> f64 {
        d.h * self.experts
            + self.experts * self.expert_params(d)
            + 3.0 * d.h * self.shared
            + if self.moe.shared_expert_gate {
                d.h
            } else {
                0.0
            }
    }

    /// Largest live MLP activation of `n` tokens (bytes): vLLM's three intermediate caches
    /// (`n·k × 2I`, `n·k × I`, `n·k × h`) and the shared expert's hidden.
    pub fn activation_bytes(&self, d: &Dims, n: f64) -> f64 {
        let t = n * d.b;
        (t * self.k * (3.0 * self.inter + d.h) + 3.0 * t * self.shared) * d.a
    }
}

/// A grouped GEMM over `rows` (token, expert) rows of `input → output` per expert, reading the
/// weights of `touched` experts: `2 · rows · input · output` FLOPs.
fn grouped_gemm(
    name: &'static str,
    d: &Dims,
    rows: f64,
    input: f64,
    output: f64,
    touched: f64,
) -> Kernel {
    kernel(
        name,
        OpKind::Linear,
        Class::Matmul,
        2.0 * rows * input * output,
        Call::ExpertGemm {
            experts: touched,
            // Uniform routing: the (token, expert) rows spread evenly over the touched experts.
            tokens_per_expert: if touched > 0.0 { rows / touched } else { 0.0 },
            n: output,
            k: input,
            act_bits: Call::bits(d.a),
            weight_bits: Call::bits(d.w),
        },
    )
    .weights(touched * input * output * d.w)
    .reads(rows * input * d.a)
    .writes(rows * output * d.a)
}

/// The MoE MLP of `n` tokens (per sequence; `d.b` sequences), in place of the dense
/// gate/up/SiLU/down.
pub fn mlp(d: &Dims, m: &MoeDims, n: f64) -> Vec<Kernel> {
    let t = n * d.b;
    let (e, k, h) = (m.experts, m.k, d.h);
    let pairs = t * k;
    let touched = m.touched(t);
    let mut ops = Vec::with_capacity(12);
    // Router logits: Linear(h, E) without bias, replicated on every GPU.
    push_linear(&mut ops, d, linear("router", d, n, h, e, false, Dst::Act));
    // Softmax over E, k passes of arg-max, the optional renormalisation of the k weights.
    let renorm = if m.moe.norm_topk_prob { 2.0 * k } else { 0.0 };
    ops.push(
        kernel(
            "router_topk",
            OpKind::Elementwise,
            Class::Elementwise,
            t * (SOFTMAX_FLOPS * e + k * e + renorm),
            Call::Elementwise {
                elements: t * e,
                width: e,
                count: 1.0,
            },
        )
        .reads(t * e * d.a)
        .writes(pairs * (INDEX_BYTES + WEIGHT_BYTES)),
    );
    // Sort the (token, expert) pairs by expert into GEMM blocks (`moe_align_block_size`).
    ops.push(
        kernel(
            "moe_align",
            OpKind::Elementwise,
            Class::Elementwise,
            pairs,
            Call::Elementwise {
                elements: pairs,
                width: k,
                count: 1.0,
            },
        )
        .reads(pairs * INDEX_BYTES)
        .writes(2.0 * pairs * INDEX_BYTES),
    );
    push_linear(
        &mut ops,
        d,
        grouped_gemm("expert_gate_up_proj", d, pairs, h, 2.0 * m.inter, touched)
            .reads(pairs * INDEX_BYTES),
    );
    ops.push(silu_mul("expert_silu_mul", d, pairs * m.inter, m.inter));
    push_linear(
        &mut ops,
        d,
        grouped_gemm("expert_down_proj", d, pairs, m.inter, h, touched),
    );
    if m.shared > 0.0 {
        push_linear(
            &mut ops,
            d,
            linear("shared_gate_proj", d, n, h, m.shared, false, Dst::Act),
        );
        push_linear(
            &mut ops,
            d,
            linear("shared_up_proj", d, n, h, m.shared, false, Dst::Act),
        );
        ops.push(silu_mul("shared_silu_mul", d, t * m.shared, m.shared));
        push_linear(
            &mut ops,
            d,
            linear("shared_down_proj", d, n, m.shared, h, false, Dst::Act),
        );
        if m.moe.shared_expert_gate {
            // sigmoid(x·w_g) scales the shared output (Qwen2-MoE `shared_expert_gate`).
            push_linear(
                &mut ops,
                d,
                linear("shared_expert_gate", d, n, h, 1.0, false, Dst::Act),
            );
            ops.push(
                kernel(
                    "shared_expert_scale",
                    OpKind::Elementwise,
                    Class::Elementwise,
                    t * (SIGMOID_FLOPS + h),
                    Call::Elementwise {
                        elements: t * h,
                        width: h,
                        count: 1.0,
                    },
                )
                .reads(t * (h + 1.0) * d.a)
                .writes(t * h * d.a),
            );
        }
    }
    // Σ over each token's k expert outputs times their routing weights (+ the shared output).
    let shared_in = if m.shared > 0.0 { t * h } else { 0.0 };
    ops.push(
        kernel(
            "moe_combine",
            OpKind::Elementwise,
            Class::Elementwise,
            2.0 * pairs * h + shared_in,
            Call::Elementwise {
                elements: t * h,
                width: h,
                count: 1.0,
            },
        )
        .reads((pairs * h + shared_in) * d.a + pairs * WEIGHT_BYTES)
        .writes(t * h * d.a),
    );
    ops
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::{Context, Precision, RunOptions};
    use crate::hardware::Gpu;
    use crate::model::Model;

    fn dims(model: &Model, options: &RunOptions) -> Dims {
        let gpu = Gpu::load("a100").unwrap();
        Dims::new(&Context {
            model,
            gpu: &gpu,
            options,
        })
    }

    #[test]
    fn one_token_reads_k_experts_and_many_read_all() {
        let model = Model::load("qwen3-vl-30b-a3b").unwrap();
        let m = MoeDims::new(model.moe.as_ref().unwrap(), 1);
        let d = dims(&model, &RunOptions::default());
        let weight_bytes = |n: f64| -> f64 {
            mlp(&d, &m, n)
                .iter()
                .filter(|k| k.op.name.starts_with("expert_"))
                .map(|k| k.op.load_weight_bytes)
                .sum()
        };
        let expert_bytes = m.expert_params(&d) * 2.0;
        assert!((weight_bytes(1.0) / expert_bytes - 8.0).abs() < 1e-9);
        assert!((weight_bytes(5000.0) / expert_bytes - 128.0).abs() < 1e-6);
        // FLOPs follow the routed pairs: 2 · n · k · 3·h·I.
        let flops: f64 = mlp(&d, &m, 100.0)
            .iter()
            .filter(|k| k.op.name.starts_with("expert_") && k.class == Class::Matmul)
            .map(|k| k.op.flops)
            .sum();
        assert_eq!(flops, 2.0 * 100.0 * 8.0 * 3.0 * 2048.0 * 768.0);
    }

    #[test]
    fn batch_multiplies_tokens_and_dequant_covers_touched_experts_only() {
        let model = Model::load("qwen3-vl-30b-a3b").unwrap();
        let m = MoeDims::new(model.moe.as_ref().unwrap(), 1);
        let b4 = RunOptions {
            batch: 4,
            ..RunOptions::default()
        };
        let d = dims(&model, &b4);
        let gate_up = |ops: &[Kernel]| {
            ops.iter()
                .find(|k| k.op.name == "expert_gate_up_proj")
                .unwrap()
                .op
                .load_weight_bytes
        };
        // Batch 4 of one token each: the expected experts of 4 tokens.
        let want = m.touched(4.0) * 2048.0 * 2.0 * 768.0 * 2.0;
        assert!((gate_up(&mlp(&d, &m, 1.0)) - want).abs() < 1e-3);
        // bitsandbytes-style dequantisation: the packed bytes of the touched experts only.
        let mut gpu = Gpu::load("a100").unwrap();
        gpu.efficiency = Some(crate::hardware::Efficiency {
            dequant: Some(0.5),
            ..crate::hardware::Efficiency::ideal()
        });
        let w4 = RunOptions {
            precision: Precision {
                w_bits: 4,
                ..Precision::default()
            },
            ..RunOptions::default()
        };
        let d = Dims::new(&Context {
            model: &model,
            gpu: &gpu,
            options: &w4,
        });
        assert!(d.dequant);
        let ops = mlp(&d, &m, 1.0);
        let i = ops
            .iter()
            .position(|x| x.op.name == "expert_gate_up_proj")
            .unwrap();
        let dq = i - 1;
        assert_eq!(ops[dq].class, Class::Dequant);
        let packed = ops[dq].op.load_weight_bytes;
        assert!(
            (packed - 8.0 * 2048.0 * 2.0 * 768.0 * 0.5).abs() < 1e-6,
            "{packed}"
        );
        assert_eq!(gate_up(&ops), packed / 0.5 * 2.0);
    }
}
