//! The layer stack a real prefill launches: every kernel, with its shape, in order. This is
//! what `aim-sim measure` runs on a GPU (bf16 weights, cuBLAS GEMMs, the kernels in
//! `kernels/`) and what `aim-sim calibrate` times; on a machine without a GPU it is still
//! built and checked, so the plan and its arithmetic are tested in CI.

use crate::cost::ImportanceKernel;
use crate::error::Result;
use crate::scenario::Scenario;
use crate::schedule::PruneTiming;
use serde::Serialize;

/// Bytes per bf16 element.
const BF16_BYTES: f64 = 2.0;
/// Bytes per fp32 element.
const FP32_BYTES: f64 = 4.0;

/// One kernel launch of the measured stack. Shapes are in elements; all tensors bf16 unless
/// noted, accumulation fp32.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kernel", rename_all = "snake_case")]
pub enum KernelCall {
    /// `C[m×n] = A[m×k] · W[k×n]` (+ bias when `bias`), cuBLAS.
    Gemm {
        name: &'static str,
        m: u64,
        n: u64,
        k: u64,
        bias: bool,
    },
    /// An element-wise pass over `elements` values reading `reads` and writing `writes` tensors
    /// of that size (RMSNorm, RoPE, SwiGLU, residual add). `elements` is rows × `width`: the
    /// row width RMSNorm normalises over (the hidden size), or the `q` and `k` width RoPE
    /// rotates (`(heads + kv_heads) · head_dim`).
    Elementwise {
        name: &'static str,
        elements: u64,
        width: u64,
        reads: u32,
        writes: u32,
        flops_per_element: u32,
    },
    /// Fused causal attention (online softmax), GQA.
    Attention {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
    },
    /// AIM importance at a pruning layer: causal softmax(QKᵀ/0.1) recomputed per power
    /// iteration (the fused, FlashAttention-compatible variant), RMS over heads.
    PageRank {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        iterations: u32,
    },
    /// AIM importance from materialised probabilities, as the refined cost model prices it
    /// (with FlashAttention in the layer): `Q Kᵀ` recomputed and written out as `[heads, n, n]`
    /// f32 logits, the tempered softmax writes `M`, each power iteration reads `M`, RMS over
    /// heads. Work as `kernels::work::{attention_logits, pagerank_materialised}` count it.
    PageRankMaterialised {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        iterations: u32,
    },
    /// Top-k over the visual scores and the gather of the kept hidden states.
    SelectGather { tokens: u64, kept: u64, hidden: u64 },
    /// Bipartite soft matching of every frame, one pass (`tokens_per_frame` → `-= merged`).
    MergePass {
        frames: u64,
        tokens_per_frame: u64,
        merged: u64,
        hidden: u64,
    },
}

impl KernelCall {
    /// Operations the kernel must execute (2 per multiply-accumulate; causal attention counts
    /// the lower triangle only).
    pub fn flops(&self) -> f64 {
        match *self {
            KernelCall::Gemm { m, n, k, bias, .. } => {
                2.0 * m as f64 * n as f64 * k as f64 + if bias { (m * n) as f64 } else { 0.0 }
            }
            KernelCall::Elementwise {
                elements,
                flops_per_element,
                ..
            } => elements as f64 * flops_per_element as f64,
            KernelCall::Attention {
                tokens,
                heads,
                head_dim,
                ..
            } => {
                // QKᵀ and PV over the causal triangle n(n+1)/2, 2 FLOPs per MAC each.
                let pairs = tokens as f64 * (tokens as f64 + 1.0) / 2.0;
                4.0 * pairs * heads as f64 * head_dim as f64
            }
            KernelCall::PageRank {
                tokens,
                heads,
                head_dim,
                iterations,
                ..
            } => {
                // A normaliser pass (QKᵀ) plus, per iteration, QKᵀ recomputed and a
                // vector-matrix product over the causal triangle.
                let pairs = tokens as f64 * (tokens as f64 + 1.0) / 2.0;
                let qk = 2.0 * pairs * head_dim as f64;
                heads as f64 * (qk + iterations as f64 * (qk + 2.0 * pairs))
            }
            KernelCall::PageRankMaterialised { .. } => self.materialised_work().flops,
            KernelCall::SelectGather { tokens, .. } => tokens as f64 * (tokens as f64).log2(),
            KernelCall::MergePass {
                frames,
                tokens_per_frame,
                hidden,
                ..
            } => {
                // Normalise (3 FLOPs/elt) + (P/2)×(P/2) similarity (2 FLOPs per MAC).
                let half = (tokens_per_frame / 2) as f64;
                frames as f64
                    * (3.0 * (tokens_per_frame * hidden) as f64 + 2.0 * half * half * hidden as f64)
            }
        }
    }

    /// The fewest bytes the kernel must move through device memory: each input read once,
    /// each output written once.
    pub fn min_bytes(&self) -> f64 {
        match *self {
            KernelCall::Gemm { m, n, k, bias, .. } => {
                BF16_BYTES * (m * k + k * n + m * n + if bias { n } else { 0 }) as f64
            }
            KernelCall::Elementwise {
                elements,
                reads,
                writes,
                ..
            } => BF16_BYTES * elements as f64 * (reads + writes) as f64,
            KernelCall::Attention {
                tokens,
                heads,
                kv_heads,
                head_dim,
            } => BF16_BYTES * (tokens * head_dim) as f64 * (2 * heads + 2 * kv_heads) as f64,
            KernelCall::PageRank {
                tokens,
                heads,
                kv_heads,
                head_dim,
                ..
            } => {
                BF16_BYTES * (tokens * head_dim) as f64 * (heads + kv_heads) as f64
                    + FP32_BYTES * tokens as f64
            }
            KernelCall::PageRankMaterialised { .. } => self.materialised_work().bytes,
            KernelCall::SelectGather {
                tokens,
                kept,
                hidden,
            } => FP32_BYTES * tokens as f64 + BF16_BYTES * 2.0 * (kept * hidden) as f64,
            KernelCall::MergePass {
                frames,
                tokens_per_frame,
                merged,
                hidden,
            } => {
                BF16_BYTES
                    * frames as f64
                    * hidden as f64
                    * (tokens_per_frame + tokens_per_frame - merged) as f64
            }
        }
    }

    /// Short label for tables.
    pub fn label(&self) -> String {
        match self {
            KernelCall::Gemm { name, m, n, k, .. } => format!("{name} gemm {m}x{n}x{k}"),
            KernelCall::Elementwise { name, elements, .. } => format!("{name} ({elements} elts)"),
            KernelCall::Attention {
                tokens,
                heads,
                kv_heads,
                head_dim,
            } => {
                format!("attention n={tokens} H={heads}/{kv_heads} d={head_dim}")
            }
            KernelCall::PageRank { tokens, heads, .. } => format!("pagerank n={tokens} H={heads}"),
            KernelCall::PageRankMaterialised { tokens, heads, .. } => {
                format!("pagerank materialised n={tokens} H={heads}")
            }
            KernelCall::SelectGather { tokens, kept, .. } => {
                format!("select+gather {tokens}->{kept}")
            }
            KernelCall::MergePass {
                frames,
                tokens_per_frame,
                merged,
                ..
            } => {
                format!("merge pass {frames}x{tokens_per_frame} -{merged}")
            }
        }
    }

    /// Which calibration factor governs this kernel.
    pub fn class(&self) -> KernelClass {
        match self {
            KernelCall::Gemm { .. } => KernelClass::Matmul,
            KernelCall::Attention { .. }
            | KernelCall::PageRank { .. }
            | KernelCall::PageRankMaterialised { .. } => KernelClass::Attention,
            _ => KernelClass::Elementwise,
        }
    }

    /// FLOPs and bytes of [`KernelCall::PageRankMaterialised`]: the logits, then the
    /// materialised power iterations (zero for any other call).
    fn materialised_work(&self) -> crate::kernels::work::Work {
        use crate::kernels::{work, AttnShape};
        match *self {
            KernelCall::PageRankMaterialised {
                tokens,
                heads,
                kv_heads,
                head_dim,
                iterations,
            } => {
                let shape = AttnShape {
                    heads: heads as usize,
                    kv_heads: kv_heads as usize,
                    tokens: tokens as usize,
                    head_dim: head_dim as usize,
                };
                let logits = work::attention_logits(&shape, BF16_BYTES as usize);
                let power = work::pagerank_materialised(
                    heads as usize,
                    tokens as usize,
                    iterations as usize,
                );
                work::Work {
                    flops: logits.flops + power.flops,
                    bytes: logits.bytes + power.bytes,
                    launches: logits.launches + power.launches,
                }
            }
            _ => work::Work {
                flops: 0.0,
                bytes: 0.0,
                launches: 0,
            },
        }
    }
}

/// The calibration class of a kernel (the `[efficiency]` key that applies to it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KernelClass {
    Matmul,
    Attention,
    Elementwise,
}

/// The kernels of one decoder layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackLayer {
    pub layer: usize,
    pub tokens: u64,
    pub kernels: Vec<KernelCall>,
}

/// The whole measured prefill: merging before layer 0, then every layer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StackPlan {
    pub merge: Vec<KernelCall>,
    pub layers: Vec<StackLayer>,
}

/// Builds the stack for a scenario, with the importance kernel its options name
/// (`--importance-kernel`, the same one the refined model prices). A real run always prunes as
/// the reference code does (importance inside layer i shrinks layer i+1), so the plan uses
/// `code` timing.
pub fn plan(scenario: &Scenario) -> Result<StackPlan> {
    plan_with(scenario, scenario.options.importance_kernel)
}

/// [`plan`] with the importance kernels of pruning layers chosen by `importance`.
pub fn plan_with(scenario: &Scenario, importance: ImportanceKernel) -> Result<StackPlan> {
    let m = &scenario.model;
    if m.moe.is_some() {
        return Err(crate::error::Error::invalid(format!(
            "the measured layer stack runs dense MLP GEMMs: model '{}' routes through experts, which it does not run; measure a dense model",
            m.name
        )));
    }
    let tokens = match &scenario.layer_tokens_override {
        Some(list) => list.clone(),
        None => {
            scenario
                .schedule
                .plan(m.num_layers, &scenario.input, PruneTiming::Code)?
                .layer_tokens
        }
    };
    let b = scenario.options.batch;
    let (h, heads, kv_heads, d, inter) = (
        m.hidden_size,
        m.num_heads,
        m.kv_heads(),
        m.head_dim(),
        m.intermediate_size,
    );
    let (q_width, kv_width) = (heads * d, kv_heads * d);
    let layers = tokens
        .iter()
        .enumerate()
        .map(|(i, &n)| {
            let rows = b * n;
            let ew = |name, width: u64, reads, writes, flops| KernelCall::Elementwise {
                name,
                elements: rows * width,
                width,
                reads,
                writes,
                flops_per_element: flops,
            };
            let gemm = |name, out: u64, k: u64, bias| KernelCall::Gemm {
                name,
                m: rows,
                n: out,
                k,
                bias,
            };
            let mut kernels = vec![
                ew("attn_norm", h, 1, 1, 4),
                gemm("q_proj", q_width, h, m.qkv_bias),
                gemm("k_proj", kv_width, h, m.qkv_bias),
                gemm("v_proj", kv_width, h, m.qkv_bias),
                // RoPE rotates q and k in place: read and write both.
                ew("rope", q_width + kv_width, 1, 1, 3),
                KernelCall::Attention {
                    tokens: n,
                    heads,
                    kv_heads,
                    head_dim: d,
                },
                gemm("o_proj", h, q_width, false),
                ew("attn_add", h, 2, 1, 1),
                ew("mlp_norm", h, 1, 1, 4),
                gemm("gate_proj", inter, h, false),
                gemm("up_proj", inter, h, false),
                // SiLU(gate) * up over the intermediate width.
                ew("swiglu", inter, 2, 1, 5),
                gemm("down_proj", h, inter, false),
                ew("mlp_add", h, 2, 1, 1),
            ];
            if let Some(&next) = tokens.get(i + 1) {
                if next < n {
                    kernels.push(match importance {
                        ImportanceKernel::Fused => KernelCall::PageRank {
                            tokens: n,
                            heads,
                            kv_heads,
                            head_dim: d,
                            iterations: 5,
                        },
                        ImportanceKernel::Materialized => KernelCall::PageRankMaterialised {
                            tokens: n,
                            heads,
                            kv_heads,
                            head_dim: d,
                            iterations: 5,
                        },
                    });
                    kernels.push(KernelCall::SelectGather {
                        tokens: n,
                        kept: next,
                        hidden: h,
                    });
                }
            }
            StackLayer {
                layer: i,
                tokens: n,
                kernels,
            }
        })
        .collect();
    Ok(StackPlan {
        merge: merge_passes(scenario)?,
        layers,
    })
}

/// Bipartite soft matching merges at most half a frame per pass (paper-cases.md: "r is at most
/// half the tokens, so 196 → 98 → 49 takes two passes").
fn merge_passes(scenario: &Scenario) -> Result<Vec<KernelCall>> {
    let input = &scenario.input;
    let target = scenario.schedule.merged_per_frame(input.tokens_per_frame)?;
    let mut p = input.tokens_per_frame;
    let mut passes = Vec::new();
    while p > target {
        let r = (p - target).min(p / 2);
        if r == 0 {
            break;
        }
        passes.push(KernelCall::MergePass {
            frames: input.frames * scenario.options.batch,
            tokens_per_frame: p,
            merged: r,
            hidden: scenario.model.hidden_size,
        });
        p -= r;
    }
    Ok(passes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;

    fn scenario(args: &[&str]) -> Scenario {
        Scenario::from_spec(&Spec::from_flags(args).unwrap()).unwrap()
    }

    #[test]
    fn gemm_flops_are_two_per_weight_per_token() {
        let s = scenario(&["--tokens", "6272", "--schedule", "none"]);
        let p = plan(&s).unwrap();
        let m = &s.model;
        let weights = m.hidden_size * (m.hidden_size * 2 + 2 * m.kv_heads() * m.head_dim())
            + 3 * m.hidden_size * m.intermediate_size;
        let gemm_flops: f64 = p.layers[0]
            .kernels
            .iter()
            .filter(|k| matches!(k, KernelCall::Gemm { .. }))
            .map(|k| k.flops())
            .sum();
        let biases = 6372.0 * (m.hidden_size + 2 * m.kv_heads() * m.head_dim()) as f64;
        assert_eq!(gemm_flops, 2.0 * weights as f64 * 6372.0 + biases);
        assert!(p.merge.is_empty());
    }

    #[test]
    fn aim_default_merges_in_two_passes_and_prunes_where_tokens_drop() {
        let p = plan(&scenario(&["--tokens", "6272", "--schedule", "linear"])).unwrap();
        assert_eq!(p.merge.len(), 2, "196 -> 98 -> 49");
        assert!(matches!(
            p.merge[1],
            KernelCall::MergePass {
                tokens_per_frame: 98,
                merged: 49,
                ..
            }
        ));
        // Code timing: layers 14..=20 compute importance (layer 15..21 shrink), not layer 21+.
        let pruning: Vec<usize> = p
            .layers
            .iter()
            .filter(|l| {
                l.kernels
                    .iter()
                    .any(|k| matches!(k, KernelCall::PageRankMaterialised { .. }))
            })
            .map(|l| l.layer)
            .collect();
        assert_eq!(pruning, (14..=21).collect::<Vec<_>>());
        assert_eq!(p.layers[15].tokens, 1472);
    }

    #[test]
    fn causal_attention_is_half_of_dense_for_long_sequences() {
        let k = KernelCall::Attention {
            tokens: 8192,
            heads: 28,
            kv_heads: 4,
            head_dim: 128,
        };
        let dense = 4.0 * 8192f64 * 8192.0 * 28.0 * 128.0;
        assert!((k.flops() / dense - 0.5).abs() < 0.01);
    }

    #[test]
    fn elementwise_width_divides_elements_and_names_the_row() {
        let s = scenario(&["--tokens", "6272", "--schedule", "linear"]);
        let p = plan(&s).unwrap();
        let m = &s.model;
        for layer in &p.layers {
            for k in &layer.kernels {
                if let KernelCall::Elementwise {
                    name,
                    elements,
                    width,
                    ..
                } = *k
                {
                    assert_eq!(elements, layer.tokens * width, "{name}");
                    let want = match name {
                        "rope" => m.hidden_size + m.kv_heads() * m.head_dim(),
                        "swiglu" => m.intermediate_size,
                        _ => m.hidden_size,
                    };
                    assert_eq!(width, want, "{name}");
                }
            }
        }
    }

    #[test]
    fn materialised_importance_replaces_only_the_fused_kernel() {
        let s = scenario(&["--tokens", "6272", "--schedule", "linear"]);
        let fused = plan_with(&s, ImportanceKernel::Fused).unwrap();
        let mat = plan(&s).unwrap();
        assert_eq!(
            s.options.importance_kernel,
            ImportanceKernel::Materialized,
            "the default"
        );
        assert_eq!(fused.merge, mat.merge);
        let mut replaced = 0;
        for (a, b) in fused.layers.iter().zip(&mat.layers) {
            assert_eq!(a.kernels.len(), b.kernels.len());
            for (x, y) in a.kernels.iter().zip(&b.kernels) {
                match (x, y) {
                    (
                        KernelCall::PageRank {
                            tokens,
                            heads,
                            kv_heads,
                            head_dim,
                            iterations,
                        },
                        KernelCall::PageRankMaterialised {
                            tokens: t2,
                            heads: h2,
                            kv_heads: k2,
                            head_dim: d2,
                            iterations: i2,
                        },
                    ) => {
                        assert_eq!(
                            (tokens, heads, kv_heads, head_dim, iterations),
                            (t2, h2, k2, d2, i2)
                        );
                        replaced += 1;
                        // Materialising moves more bytes (n × n maps) and does fewer FLOPs
                        // (Q Kᵀ once, not once per iteration).
                        assert!(y.min_bytes() > x.min_bytes());
                        assert!(y.flops() < x.flops());
                        assert_eq!(y.class(), KernelClass::Attention);
                    }
                    _ => assert_eq!(x, y),
                }
            }
        }
        assert_eq!(replaced, 8, "one per pruning layer, 14..=21");
    }

    #[test]
    fn materialised_work_is_the_logits_plus_the_power_iterations() {
        let k = KernelCall::PageRankMaterialised {
            tokens: 100,
            heads: 2,
            kv_heads: 1,
            head_dim: 64,
            iterations: 5,
        };
        let (n, h, pairs) = (100.0, 2.0, 100.0 * 101.0 / 2.0);
        // Q K: 2 d per visible pair; softmax 4 and 2 per iteration per pair; RMS 3 per (h, n).
        let flops = h * pairs * 128.0 + h * pairs * 4.0 + 5.0 * h * pairs * 2.0 + 3.0 * h * n;
        assert!((k.flops() - flops).abs() < 1e-6 * flops);
        // Q and K in bf16, the full logits written; softmax read + write and 5 reads of the
        // lower triangle; the distribution vectors and the score.
        let bytes = (2.0 + 1.0) * n * 64.0 * 2.0
            + h * n * n * 4.0
            + 7.0 * h * pairs * 4.0
            + 11.0 * h * n * 4.0
            + n * 4.0;
        assert!((k.min_bytes() - bytes).abs() < 1e-6 * bytes);
    }
}
