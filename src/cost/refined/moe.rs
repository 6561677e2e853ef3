//! A mixture-of-experts MLP as a fused-MoE kernel sequence runs it (vLLM `fused_moe`): the
//! router GEMM, softmax + top-k, the tokens sorted by expert, one grouped GEMM for gate and up
//! over every (token, expert) pair, SiLU·mul, the down GEMM, and the weighted sum over each
//! token's `k` experts; plus the shared experts every token runs (and Qwen2-MoE's sigmoid gate
//! on them). FLOPs follow the routed pairs (`n·k` rows); weight bytes follow the experts the
//! layer's tokens touch, `E·(1 − (1 − k/E)^n)` of them for uniform routing
//! ([`crate::model::Moe::expected_distinct_experts`]): untouched experts are not read.
//! Expert and shared widths are split across GPUs under tensor parallelism (each GPU holds a
//! slice of every expert); the router is replicated.
//!
//! A stack that runs the model's transformers code op by op (an `eager_dispatch` profile) runs
//! the experts as that code does ([`ExpertsImpl`]): a loop over the hit experts
//! (the same FLOPs and weights, one GEMM launch per expert and projection, plus the loop's
//! gather, weighting and `index_add_` per expert), or every token through every expert (`E/k`
//! times the routed FLOPs, every expert's weights read).

use super::kernel::{kernel, Call, Class, Kernel};
use super::layer::{linear, push_linear, silu_mul, Dims, Dst, SOFTMAX_FLOPS};
use crate::cost::OpKind;
use crate::experts::ExpertsImpl;
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
    /// How the run's stack executes the routed experts.
    pub run: ExpertsImpl,
}

impl MoeDims {
    pub fn new(moe: &Moe, tp: u64, run: ExpertsImpl) -> MoeDims {
        let tp = tp.max(1);
        MoeDims {
            moe: moe.clone(),
            experts: moe.num_experts as f64,
            k: moe.experts_per_token as f64,
            inter: (moe.expert_intermediate_size / tp) as f64,
            shared: (moe.shared_intermediate_size / tp) as f64,
            run,
        }
    }

    /// Whether every token runs through every expert.
    fn all_experts(&self) -> bool {
        self.run == ExpertsImpl::All
    }

    /// Parameters of one routed expert on this GPU (gate, up, down; no biases).
    pub fn expert_params(&self, d: &Dims) -> f64 {
        3.0 * d.h * self.inter
    }

    /// Expected distinct experts `tokens` tokens (the whole batch) touch in one layer: every
    /// expert when every token runs through all of them.
    pub fn touched(&self, tokens: f64) -> f64 {
        if self.all_experts() && tokens > 0.0 {
            return self.experts;
        }
        self.moe.expected_distinct_experts(tokens)
    }

    /// (token, expert) rows the expert GEMMs compute for `t` tokens: the routed `t·k`, or
    /// `t·E` when every token runs through every expert.
    pub fn rows(&self, t: f64) -> f64 {
        t * if self.all_experts() {
            self.experts
        } else {
            self.k
        }
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
        // Every expert at once: the repeated input beside the three caches, `t·E` rows each.
        let repeat = if self.all_experts() { d.h } else { 0.0 };
        (self.rows(t) * (3.0 * self.inter + d.h + repeat) + 3.0 * t * self.shared) * d.a
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
    // The (token, expert) rows the expert GEMMs compute: routed pairs, or every token × expert.
    let pairs = m.rows(t);
    let touched = m.touched(t);
    // A Python loop launches each hit expert's kernels on their own.
    let per_expert = match m.run {
        ExpertsImpl::Loop => touched.max(1.0),
        _ => 1.0,
    };
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
        .writes(t * k * (INDEX_BYTES + WEIGHT_BYTES)),
    );
    if m.all_experts() {
        // `zeros_like(router_logits).scatter_(…)`: the dense t × E routing weights, then
        // `hidden_states.repeat(E, 1)`, the input of the batched GEMMs.
        ops.push(
            kernel(
                "router_scatter",
                OpKind::Elementwise,
                Class::Elementwise,
                0.0,
                Call::Elementwise {
                    elements: t * e,
                    width: e,
                    count: 1.0,
                },
            )
            .reads(t * k * (INDEX_BYTES + d.a))
            .writes(t * e * d.a),
        );
        ops.push(
            kernel(
                "expert_repeat",
                OpKind::Elementwise,
                Class::Elementwise,
                0.0,
                Call::Elementwise {
                    elements: pairs * h,
                    width: h,
                    count: 1.0,
                },
            )
            .reads(t * h * d.a)
            .writes(pairs * h * d.a),
        );
    } else {
        // Sort the (token, expert) pairs by expert into GEMM blocks (`moe_align_block_size`; the
        // loop's one-hot expert mask and the list of hit experts).
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
    }
    // The loop runs gate and up as two linear layers per expert (Mixtral w1/w3, Qwen
    // gate_proj/up_proj).
    let gate_up_launches = if per_expert > 1.0 { 2.0 } else { 1.0 };
    push_linear(
        &mut ops,
        d,
        grouped_gemm("expert_gate_up_proj", d, pairs, h, 2.0 * m.inter, touched)
            .reads(pairs * INDEX_BYTES)
            .launches(gate_up_launches * per_expert),
    );
    ops.push(silu_mul("expert_silu_mul", d, pairs * m.inter, m.inter).launches(per_expert));
    push_linear(
        &mut ops,
        d,
        grouped_gemm("expert_down_proj", d, pairs, m.inter, h, touched).launches(per_expert),
    );
    if per_expert > 1.0 {
        // Per hit expert: `torch.where` on its mask, the gather of its tokens, its routing
        // weights indexed, `*` and `index_add_` into the output (transformers MixtralSparseMoeBlock).
        ops.push(
            kernel(
                "expert_loop_index",
                OpKind::Elementwise,
                Class::Elementwise,
                2.0 * pairs * h,
                Call::Elementwise {
                    elements: pairs * h,
                    width: h,
                    count: per_expert,
                },
            )
            .reads((4.0 * pairs * h) * d.a + pairs * WEIGHT_BYTES)
            .writes((3.0 * pairs * h) * d.a)
            .launches(per_expert),
        );
    }
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
    // Σ over each token's k expert outputs times their routing weights (+ the shared output);
    // all experts: `* routing_weights` over t·E rows, then `.sum(0)`; the loop summed with
    // `index_add_` and adds only the shared output.
    let shared_in = if m.shared > 0.0 { t * h } else { 0.0 };
    if m.all_experts() {
        ops.push(
            kernel(
                "moe_weighted_sum",
                OpKind::Elementwise,
                Class::Elementwise,
                2.0 * pairs * h + shared_in,
                Call::Elementwise {
                    elements: pairs * h,
                    width: h,
                    count: 1.0,
                },
            )
            .reads((2.0 * pairs * h + shared_in) * d.a + pairs * d.a)
            .writes((pairs * h + t * h) * d.a),
        );
        return ops;
    }
    if per_expert > 1.0 {
        if shared_in > 0.0 {
            ops.push(
                kernel(
                    "moe_combine_shared",
                    OpKind::Elementwise,
                    Class::Elementwise,
                    shared_in,
                    Call::Elementwise {
                        elements: t * h,
                        width: h,
                        count: 1.0,
                    },
                )
                .reads(2.0 * t * h * d.a)
                .writes(t * h * d.a),
            );
        }
        return ops;
    }
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
        let m = MoeDims::new(model.moe.as_ref().unwrap(), 1, ExpertsImpl::Fused);
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
        let m = MoeDims::new(model.moe.as_ref().unwrap(), 1, ExpertsImpl::Fused);
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

    /// Under a stack that runs transformers' code, a loop over the hit experts keeps the
    /// routed FLOPs and weights but launches each expert's linear layers on their own (gate and
    /// up apart) with its gather/index_add; all experts at once computes `E/k` times the routed
    /// FLOPs and reads every expert. The fused sequence is what every other stack prices.
    #[test]
    fn transformers_runs_experts_in_a_loop_or_all_at_once() {
        let mut model = Model::load("qwen3-vl-30b-a3b").unwrap();
        let d = dims(&model, &RunOptions::default());
        let n = 100.0;
        let expert = |ops: &[Kernel], f: fn(&Kernel) -> f64| -> f64 {
            ops.iter()
                .filter(|k| k.op.name.starts_with("expert_") && k.class == Class::Matmul)
                .map(f)
                .sum()
        };
        let flops = |k: &Kernel| k.op.flops;
        let weights = |k: &Kernel| k.op.load_weight_bytes;
        let launches =
            |ops: &[Kernel], name: &str| ops.iter().find(|k| k.op.name == name).map(|k| k.launches);
        let moe = model.moe.clone().unwrap();
        let fused = mlp(&d, &MoeDims::new(&moe, 1, ExpertsImpl::Fused), n);
        assert_eq!(moe.eager_experts, ExpertsImpl::All, "the preset says all");
        let all_dims = MoeDims::new(&moe, 1, ExpertsImpl::All);
        let all = mlp(&d, &all_dims, n);
        model.moe.as_mut().unwrap().eager_experts = ExpertsImpl::Loop;
        let loop_dims = MoeDims::new(model.moe.as_ref().unwrap(), 1, ExpertsImpl::Loop);
        let looped = mlp(&d, &loop_dims, n);
        // The loop: FLOPs and weights as fused, launches per hit expert.
        assert_eq!(expert(&looped, flops), expert(&fused, flops));
        assert_eq!(expert(&looped, weights), expert(&fused, weights));
        let hit = loop_dims.touched(n);
        assert!(hit > 8.0 && hit < 128.0, "{hit}");
        assert_eq!(launches(&looped, "expert_gate_up_proj"), Some(2.0 * hit));
        assert_eq!(launches(&looped, "expert_down_proj"), Some(hit));
        assert_eq!(launches(&looped, "expert_loop_index"), Some(hit));
        assert_eq!(launches(&fused, "expert_loop_index"), None);
        assert_eq!(launches(&fused, "expert_gate_up_proj"), Some(1.0));
        // All at once: E/k = 16 times the routed FLOPs, all 128 experts read, one batched GEMM.
        assert!((expert(&all, flops) / expert(&fused, flops) - 16.0).abs() < 1e-12);
        let one_expert = all_dims.expert_params(&d) * d.w;
        assert!((expert(&all, weights) / one_expert - 128.0).abs() < 1e-9);
        assert_eq!(launches(&all, "expert_gate_up_proj"), Some(1.0));
        assert!(launches(&all, "moe_weighted_sum").is_some());
        assert!(launches(&all, "moe_combine").is_none());
        // Its live activations hold t·E rows.
        assert!(all_dims.activation_bytes(&d, n) > 10.0 * loop_dims.activation_bytes(&d, n));
    }
}
