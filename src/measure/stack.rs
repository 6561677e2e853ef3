//! The layer stack a real prefill launches, derived from the refined cost model's kernel list
//! ([`crate::cost::refined::kernel_list`]): every priced kernel, grouped into the launches a GPU
//! makes ([`Unit`]). This is what `aim-sim measure` runs (bf16 weights, cuBLAS GEMMs, the
//! kernels in `kernels/`) and what `aim-sim calibrate` times; the FLOPs, bytes, class and time
//! of each unit are those of the kernels the model priced, so a measurement and a prediction
//! describe the same work.
//!
//! A unit is one kernel, except where one implementation in `kernels/` runs several priced
//! kernels at once: the five steps of a merging pass (`MergePass`), the steps of PageRank
//! importance (`PageRankMaterialised`, `PageRankFused`), and top-k with the gather (`Prune`).
//! Priced kernels with no implementation of their own (router top-k, expert alignment and
//! combine, QK-norm, eager softmax, the attention rows FastV reads) are timed on a GPU as a
//! bf16 copy moving the same bytes ([`KernelCall::Copy`]), a bandwidth stand-in.

use crate::cost::refined::kernel::{Attention, Call, Class, ImportanceStep, Kernel, MergeStep};
use crate::cost::refined::{self, KernelList, PricedKernel};
use crate::error::keys::{BATCH, INCLUDE_VISION, TP};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::schedule::{Importance, PruneTiming};
use serde::Serialize;

/// Bytes per bf16 element.
const BF16_BYTES: f64 = 2.0;

/// One launch sequence a GPU runs (shapes in elements; tensors bf16, accumulation fp32).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kernel", rename_all = "snake_case")]
pub enum KernelCall {
    /// `count` products `C[m×n] = A[m×k] · W[k×n]` (+ bias when `bias`), cuBLAS.
    Gemm {
        name: &'static str,
        m: u64,
        n: u64,
        k: u64,
        bias: bool,
        count: u64,
    },
    /// An element-wise pass of `kernels/layers.cu`, chosen by name, over `elements` values in
    /// rows of `width` (RMSNorm, RoPE, SwiGLU, residual add).
    Elementwise {
        name: &'static str,
        elements: u64,
        width: u64,
    },
    /// A bf16 copy of `elements` values: the bandwidth stand-in of a priced kernel without an
    /// implementation of its own.
    Copy { name: &'static str, elements: u64 },
    /// Fused causal attention (online softmax), GQA.
    Attention {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
    },
    /// AIM importance, fused: causal softmax(QKᵀ/0.1) recomputed per power iteration, RMS over
    /// heads.
    PageRank {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        iterations: u32,
    },
    /// AIM importance from materialised probabilities: `Q Kᵀ` written out as `[heads, n, n]`
    /// logits (when `logits`; eager attention already wrote them), the tempered softmax writes
    /// `M`, each power iteration reads `M`, RMS over heads.
    PageRankMaterialised {
        tokens: u64,
        heads: u64,
        kv_heads: u64,
        head_dim: u64,
        iterations: u32,
        logits: bool,
    },
    /// Top-k over `tokens` scores and the gather of `kept` hidden states.
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
    /// Short label for tables.
    pub fn label(&self) -> String {
        match self {
            KernelCall::Gemm {
                name,
                m,
                n,
                k,
                count,
                ..
            } => {
                if *count == 1 {
                    format!("{name} gemm {m}x{n}x{k}")
                } else {
                    format!("{name} {count}x gemm {m}x{n}x{k}")
                }
            }
            KernelCall::Elementwise { name, elements, .. } => format!("{name} ({elements} elts)"),
            KernelCall::Copy { name, elements } => format!("{name} (copy, {elements} elts)"),
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
}

/// The pass of `kernels/layers.cu` an element-wise kernel runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LayerPass {
    RmsNorm,
    Rope,
    SwiGlu,
    Add,
    Copy,
}

impl LayerPass {
    /// The pass for a priced kernel's name (the refined model's names, cost/refined/layer.rs
    /// and moe.rs); `None` when `kernels/layers.cu` has none.
    pub fn for_name(name: &str) -> Option<LayerPass> {
        Some(match name {
            "attn_norm" | "mlp_norm" | "final_norm" => LayerPass::RmsNorm,
            "rope" => LayerPass::Rope,
            "silu_mul" | "expert_silu_mul" | "shared_silu_mul" => LayerPass::SwiGlu,
            "attn_residual" | "mlp_residual" => LayerPass::Add,
            "launch_probe" => LayerPass::Copy,
            _ => return None,
        })
    }

    /// Tensors of the call's size the kernel reads and writes (the weight of RMSNorm, one row,
    /// is not counted).
    pub fn tensors(self) -> (u32, u32) {
        match self {
            LayerPass::RmsNorm | LayerPass::Rope | LayerPass::Copy => (1, 1),
            LayerPass::SwiGlu | LayerPass::Add => (2, 1),
        }
    }
}

/// One launch sequence and the priced kernels it runs.
#[derive(Debug, Clone, PartialEq)]
pub struct Unit {
    pub call: KernelCall,
    pub kernels: Vec<PricedKernel>,
}

impl Unit {
    /// FLOPs of its kernels, as priced.
    pub fn flops(&self) -> f64 {
        self.kernels.iter().map(|k| k.kernel.op.flops).sum()
    }

    /// Bytes of its kernels, as priced.
    pub fn bytes(&self) -> f64 {
        self.kernels.iter().map(|k| k.kernel.op.bytes()).sum()
    }

    /// Launches of its kernels, as priced (each pays the launch overhead).
    pub fn launches(&self) -> f64 {
        self.kernels.iter().map(|k| k.kernel.launches).sum()
    }

    /// The efficiency class of its kernels; `None` when they mix classes (a merging pass).
    pub fn class(&self) -> Option<Class> {
        let first = self.kernels.first()?.kernel.class;
        self.kernels
            .iter()
            .all(|k| k.kernel.class == first)
            .then_some(first)
    }

    /// The model's time of its kernels.
    pub fn predicted_time_s(&self) -> f64 {
        self.kernels.iter().map(|k| k.time_s).sum()
    }
}

/// The units of one decoder layer.
#[derive(Debug, Clone, PartialEq)]
pub struct StackLayer {
    pub layer: usize,
    pub tokens: u64,
    pub units: Vec<Unit>,
}

/// The whole measured prefill: the stages before layer 0 (merging), then every layer.
#[derive(Debug, Clone, PartialEq)]
pub struct StackPlan {
    pub merge: Vec<Unit>,
    pub layers: Vec<StackLayer>,
}

impl StackPlan {
    /// Every unit, stages first.
    pub fn units(&self) -> impl Iterator<Item = &Unit> {
        self.merge
            .iter()
            .chain(self.layers.iter().flat_map(|l| &l.units))
    }
}

/// The refined model's kernels of `scenario` as it stands (its own prune timing), each with
/// its time under the scenario's GPU profile.
pub fn kernel_list(scenario: &Scenario) -> Result<KernelList> {
    let plan = scenario.plan()?;
    Ok(refined::kernel_list(
        &scenario.context(),
        &scenario.workload(&plan),
    ))
}

/// Builds the stack of a scenario from the refined model's kernel list. A real run prunes as
/// the reference code does (importance inside layer i shrinks layer i+1), so the plan uses
/// `code` timing; the importance rule and kernel are the scenario's (`--importance-kernel`).
pub fn plan(scenario: &Scenario) -> Result<StackPlan> {
    if scenario.options.tp > 1 {
        return Err(Error::invalid(format!(
            "the measured layer stack runs on one GPU: drop {TP} {} (tensor parallelism is priced, not measured)",
            scenario.options.tp
        )));
    }
    let mut s = scenario.clone();
    s.prune_timing = PruneTiming::Code;
    let list = kernel_list(&s)?;
    Ok(StackPlan {
        merge: units(&list.stages)?,
        layers: list
            .layers
            .iter()
            .map(|l| {
                Ok(StackLayer {
                    layer: l.layer,
                    tokens: l.tokens,
                    units: units(&l.kernels)?,
                })
            })
            .collect::<Result<_>>()?,
    })
}

/// Which implementation runs a priced kernel together with its neighbours.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Group {
    /// The steps of one merging pass (the shape of the pass).
    Merge([u64; 4]),
    /// The steps of PageRank importance at one layer.
    PageRank(u64),
    /// Top-k and the gather of one pruning layer.
    Prune,
}

fn group_of(k: &Kernel) -> Option<Group> {
    match k.call {
        Call::Merge {
            frames,
            tokens_per_frame,
            merged,
            hidden,
            ..
        } => Some(Group::Merge([
            whole(frames),
            whole(tokens_per_frame),
            whole(merged),
            whole(hidden),
        ])),
        Call::Importance {
            rule: Importance::Pagerank,
            tokens,
            ..
        } => Some(Group::PageRank(whole(tokens))),
        Call::TopK { .. } | Call::Gather { .. } => Some(Group::Prune),
        _ => None,
    }
}

/// A size as whole elements.
fn whole(x: f64) -> u64 {
    x.round().max(0.0) as u64
}

/// Groups `kernels` into the launches a GPU makes, in order.
pub fn units(kernels: &[PricedKernel]) -> Result<Vec<Unit>> {
    let mut out: Vec<Unit> = Vec::new();
    let mut i = 0;
    while i < kernels.len() {
        let mut j = i + 1;
        if let Some(g) = group_of(&kernels[i].kernel) {
            while j < kernels.len() && group_of(&kernels[j].kernel) == Some(g) {
                j += 1;
            }
        }
        let group = &kernels[i..j];
        out.push(Unit {
            call: launch(group)?,
            kernels: group.to_vec(),
        });
        i = j;
    }
    Ok(out)
}

/// What a GPU launches to run `group` (one kernel, or the kernels one implementation runs).
fn launch(group: &[PricedKernel]) -> Result<KernelCall> {
    let first = &group[0].kernel;
    let name = first.op.name;
    // The bandwidth stand-in: a copy moving the kernel's bytes (read once, written once).
    let copy = || KernelCall::Copy {
        name,
        elements: whole(group.iter().map(|k| k.kernel.op.bytes()).sum::<f64>() / 2.0 / BF16_BYTES)
            .max(1),
    };
    let importance = |tokens: f64, heads: f64, kv_heads: f64, head_dim: f64| {
        (
            whole(tokens),
            whole(heads),
            whole(kv_heads),
            whole(head_dim),
        )
    };
    Ok(match first.call {
        Call::Gemm { m, n, k, bias, count, .. } => KernelCall::Gemm {
            name,
            m: whole(m),
            n: whole(n),
            k: whole(k),
            bias,
            count: whole(count).max(1),
        },
        // Each touched expert's rows at the expected tokens per expert (rounded up: a GEMM
        // runs whole rows).
        Call::ExpertGemm {
            experts,
            tokens_per_expert,
            n,
            k,
            ..
        } => KernelCall::Gemm {
            name,
            m: tokens_per_expert.ceil().max(1.0) as u64,
            n: whole(n),
            k: whole(k),
            bias: false,
            count: experts.ceil().max(1.0) as u64,
        },
        Call::Elementwise {
            elements, width, ..
        } => match LayerPass::for_name(name) {
            Some(_) => KernelCall::Elementwise {
                name,
                elements: whole(elements),
                width: whole(width),
            },
            None => copy(),
        },
        Call::Attention {
            variant: Attention::FlashCausal,
            tokens,
            sequences: 1.0,
            heads,
            kv_heads,
            head_dim,
        } => KernelCall::Attention {
            tokens: whole(tokens),
            heads: whole(heads),
            kv_heads: whole(kv_heads),
            head_dim: whole(head_dim),
        },
        Call::Attention {
            variant: variant @ (Attention::EagerScores | Attention::EagerValues),
            tokens,
            sequences,
            heads,
            head_dim,
            ..
        } => {
            // Batched per head: scores `[n × d]·[d × n]`, values `[n × n]·[n × d]`.
            let (n, d) = (whole(tokens), whole(head_dim));
            let (out, inner) = if variant == Attention::EagerScores {
                (n, d)
            } else {
                (d, n)
            };
            KernelCall::Gemm {
                name,
                m: n,
                n: out,
                k: inner,
                bias: false,
                count: whole(heads * sequences).max(1),
            }
        }
        Call::Attention {
            variant: Attention::FlashCausal,
            ..
        } => {
            return Err(Error::invalid(format!(
                "{name}: the measured stack runs causal FlashAttention on one sequence; drop {BATCH} (batches are priced, not measured)"
            )))
        }
        // Mask and softmax over the written scores: memory-bound, the bandwidth stand-in.
        Call::Attention {
            variant: Attention::EagerSoftmax,
            ..
        } => copy(),
        Call::Attention { variant, .. } => {
            return Err(Error::invalid(format!(
                "{name}: the measured stack has no kernel for {variant:?} attention; measure the prefill alone (no {INCLUDE_VISION})"
            )))
        }
        Call::Importance {
            rule: Importance::Pagerank,
            tokens,
            heads,
            kv_heads,
            head_dim,
            iterations,
            ..
        } => {
            let (tokens, heads, kv_heads, head_dim) = importance(tokens, heads, kv_heads, head_dim);
            let step = |s: ImportanceStep| {
                group
                    .iter()
                    .any(|k| matches!(k.kernel.call, Call::Importance { step, .. } if step == s))
            };
            if step(ImportanceStep::Fused) {
                KernelCall::PageRank {
                    tokens,
                    heads,
                    kv_heads,
                    head_dim,
                    iterations,
                }
            } else {
                KernelCall::PageRankMaterialised {
                    tokens,
                    heads,
                    kv_heads,
                    head_dim,
                    iterations,
                    logits: step(ImportanceStep::Logits),
                }
            }
        }
        Call::TopK { tokens, .. } => {
            let gathered = group.iter().find_map(|k| match k.kernel.call {
                Call::Gather { rows, width } => Some((rows, width)),
                _ => None,
            });
            match gathered {
                Some((rows, width)) => KernelCall::SelectGather {
                    tokens: whole(tokens.max(rows)),
                    kept: whole(rows),
                    hidden: whole(width),
                },
                None => copy(),
            }
        }
        Call::Merge {
            frames,
            tokens_per_frame,
            merged,
            hidden,
            step,
        } if step == MergeStep::Normalize && group.len() == 5 => KernelCall::MergePass {
            frames: whole(frames),
            tokens_per_frame: whole(tokens_per_frame),
            merged: whole(merged),
            hidden: whole(hidden),
        },
        Call::Collective { .. } | Call::Host => {
            return Err(Error::invalid(format!(
                "{name}: the measured stack launches kernels on one GPU; collectives and host work are priced, not measured"
            )))
        }
        // The attention rows of FastV/SparseVLM, a gather without top-k (VTW), dequantisation,
        // a merging step on its own: the bandwidth stand-in.
        Call::Importance { .. }
        | Call::Gather { .. }
        | Call::Dequant { .. }
        | Call::Merge { .. } => copy(),
    })
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
            .units
            .iter()
            .filter(|u| matches!(u.call, KernelCall::Gemm { .. }))
            .map(Unit::flops)
            .sum();
        // A bias is one more multiply-accumulate per output (cost/refined/layer.rs `linear`).
        let biases = 2.0 * 6372.0 * (m.hidden_size + 2 * m.kv_heads() * m.head_dim()) as f64;
        assert_eq!(gemm_flops, 2.0 * weights as f64 * 6372.0 + biases);
        assert!(p.merge.is_empty());
    }

    #[test]
    fn aim_default_merges_in_two_passes_and_prunes_where_tokens_drop() {
        let p = plan(&scenario(&["--tokens", "6272", "--schedule", "linear"])).unwrap();
        assert_eq!(p.merge.len(), 2, "196 -> 98 -> 49");
        assert!(matches!(
            p.merge[1].call,
            KernelCall::MergePass {
                tokens_per_frame: 98,
                merged: 49,
                ..
            }
        ));
        assert_eq!(p.merge[1].kernels.len(), 5, "the five steps of one pass");
        // Code timing: layers 14..=21 compute importance (layers 15..22 shrink).
        let pruning: Vec<usize> = p
            .layers
            .iter()
            .filter(|l| {
                l.units.iter().any(|u| {
                    matches!(
                        u.call,
                        KernelCall::PageRankMaterialised { logits: true, .. }
                    )
                })
            })
            .map(|l| l.layer)
            .collect();
        assert_eq!(pruning, (14..=21).collect::<Vec<_>>());
        assert_eq!(p.layers[15].tokens, 1472);
    }

    #[test]
    fn units_partition_the_models_kernel_list() {
        for args in [
            &["--frames", "8", "--schedule", "linear"][..],
            &["--frames", "8", "--schedule", "fastv"],
            &["--frames", "8", "--schedule", "vtw"],
            &[
                "--frames",
                "8",
                "--schedule",
                "linear",
                "--attention",
                "eager",
            ],
            &[
                "--frames",
                "8",
                "--schedule",
                "linear",
                "--importance-kernel",
                "fused",
            ],
            &[
                "--model",
                "qwen3-vl-30b-a3b",
                "--frames",
                "4",
                "--schedule",
                "fastv",
            ],
        ] {
            let s = scenario(args);
            let mut code = s.clone();
            code.prune_timing = PruneTiming::Code;
            let list = kernel_list(&code).unwrap();
            let p = plan(&s).unwrap();
            let from_units: Vec<&PricedKernel> = p.units().flat_map(|u| &u.kernels).collect();
            let listed: Vec<&PricedKernel> = list
                .stages
                .iter()
                .chain(list.layers.iter().flat_map(|l| &l.kernels))
                .collect();
            assert_eq!(from_units, listed, "{args:?}");
            for (l, pl) in list.layers.iter().zip(&p.layers) {
                assert_eq!((l.layer, l.tokens), (pl.layer, pl.tokens));
            }
        }
    }

    #[test]
    fn elementwise_width_divides_elements_and_names_the_row() {
        let s = scenario(&["--tokens", "6272", "--schedule", "linear"]);
        let p = plan(&s).unwrap();
        let m = &s.model;
        let mut seen = Vec::new();
        for layer in &p.layers {
            for u in &layer.units {
                if let KernelCall::Elementwise {
                    name,
                    elements,
                    width,
                } = u.call
                {
                    assert_eq!(elements, layer.tokens * width, "{name}");
                    let want = match name {
                        "rope" => m.hidden_size + m.kv_heads() * m.head_dim(),
                        "silu_mul" => m.intermediate_size,
                        _ => m.hidden_size,
                    };
                    assert_eq!(width, want, "{name}");
                    seen.push(name);
                }
            }
        }
        seen.sort();
        seen.dedup();
        assert_eq!(
            seen,
            [
                "attn_norm",
                "attn_residual",
                "mlp_norm",
                "mlp_residual",
                "rope",
                "silu_mul"
            ]
        );
    }

    #[test]
    fn the_importance_kernel_and_rule_are_the_scenarios() {
        let pruning_calls = |args: &[&str]| -> Vec<KernelCall> {
            let p = plan(&scenario(args)).unwrap();
            p.layers[14]
                .units
                .iter()
                .skip_while(|u| u.kernels[0].kernel.op.name != "mlp_residual")
                .skip(1)
                .map(|u| u.call.clone())
                .collect()
        };
        let base = ["--tokens", "6272", "--schedule", "linear"];
        let fused = pruning_calls(&[&base[..], &["--importance-kernel", "fused"]].concat());
        assert!(matches!(
            fused[0],
            KernelCall::PageRank { iterations, .. } if iterations as usize == refined::PAGERANK_ITERATIONS
        ));
        assert!(matches!(fused[1], KernelCall::SelectGather { .. }));
        // FastV scores the last query's row, not PageRank: no PageRank kernel in any layer.
        let p = plan(&scenario(&["--frames", "8", "--schedule", "fastv"])).unwrap();
        assert!(!p.units().any(|u| matches!(
            u.call,
            KernelCall::PageRank { .. } | KernelCall::PageRankMaterialised { .. }
        )));
        assert!(p.units().any(|u| matches!(
            u.call,
            KernelCall::Copy {
                name: "importance_last_query_attention",
                ..
            }
        )));
    }

    #[test]
    fn moe_layers_run_expert_gemms_at_the_expected_tokens_per_expert() {
        let s = scenario(&[
            "--model",
            "qwen3-vl-30b-a3b",
            "--frames",
            "4",
            "--schedule",
            "none",
        ]);
        let p = plan(&s).unwrap();
        let moe = s.model.moe.as_ref().unwrap();
        let layer = &p.layers[0];
        let n = layer.tokens as f64;
        let touched = moe.expected_distinct_experts(n);
        let gate_up = layer
            .units
            .iter()
            .find(|u| u.kernels[0].kernel.op.name == "expert_gate_up_proj")
            .unwrap();
        let pairs = n * moe.experts_per_token as f64;
        assert_eq!(
            gate_up.call,
            KernelCall::Gemm {
                name: "expert_gate_up_proj",
                m: (pairs / touched).ceil() as u64,
                n: 2 * moe.expert_intermediate_size,
                k: s.model.hidden_size,
                bias: false,
                count: touched.ceil() as u64,
            }
        );
    }

    #[test]
    fn what_one_gpu_cannot_run_is_a_one_line_error() {
        let err = plan(&scenario(&["--frames", "8", "--tp", "2"])).unwrap_err();
        assert!(err.to_string().contains("drop tp 2"), "{err}");
        let err = plan(&scenario(&["--frames", "8", "--batch", "2"])).unwrap_err();
        assert!(err.to_string().contains("drop batch"), "{err}");
    }
}
