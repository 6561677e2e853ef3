//! The work each kernel must do: its minimal FLOPs and the minimal bytes it must move through
//! device memory, and the time the refined model's [`Timer`] gives it on a GPU profile (the
//! efficiency factor of its class). `aim-sim validate` prints measured times against these
//! predictions.
//!
//! "Minimal" means: every input read once, every output written once, intermediate tensors that
//! the algorithm materialises (logits, probabilities) written and re-read as often as the
//! algorithm needs them, nothing counted for caches. FLOPs count multiply-adds as 2; exp, max,
//! division and comparisons as 1 where listed, since they are small next to the products.

use super::AttnShape;
use crate::cost::refined::kernel::{Class, Timer};
use crate::cost::Roofline;
use crate::hardware::Gpu;
use serde::Serialize;

/// FLOPs and bytes of one kernel (or kernel sequence) call.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Work {
    pub flops: f64,
    pub bytes: f64,
    /// Kernel launches the implementation makes (for the launch-overhead term).
    pub launches: u32,
    /// The efficiency class the refined model prices this work under (cost/refined: the merging
    /// pass is element-wise but for its similarity GEMM, timed here as element-wise; the
    /// importance logits are a GEMM; fused importance is attention).
    pub class: Class,
}

/// Roofline time: `max(flops / fp16_peak, bytes / bandwidth)`, seconds. This is the same
/// roofline as [`crate::cost::Roofline::time`] (`ai < P/BW` ⇒ memory-bound), written as a max.
/// The peak is the profile's dense FP16/BF16 tensor-core figure, the roof a production kernel
/// is held to; the kernels here accumulate in f32 on CUDA cores (see docs/kernels.md).
pub fn predicted_time_s(flops: f64, bytes: f64, gpu: &Gpu) -> f64 {
    (flops / gpu.fp16_peak).max(bytes / gpu.bandwidth)
}

/// The refined model's prediction of `work`: its [`Timer`] on the profile's bf16 roofline at
/// the profile's `[efficiency]` (`"roofline+efficiency"`), or the ideal roofline without one
/// (`"roofline"`, [`predicted_time_s`]). Returns (which, seconds).
pub fn model_time_s(work: &Work, gpu: &Gpu) -> (&'static str, f64) {
    let timer = Timer::new(
        Roofline {
            peak_flops_per_s: gpu.fp16_peak,
            bandwidth_bytes_per_s: gpu.bandwidth,
        },
        gpu.efficiency.as_ref(),
        gpu.interconnect_bandwidth,
        false,
    );
    let (_, time_s) = timer.time_work(
        work.class,
        work.flops,
        work.bytes,
        work.launches as f64,
        0.0,
    );
    let which = if gpu.efficiency.is_some() {
        "roofline+efficiency"
    } else {
        "roofline"
    };
    (which, time_s)
}

/// One merging pass over `frames` frames of `tokens` × `dim` elements of `elem_bytes` bytes,
/// merging `r` per frame.
/// FLOPs: the `nA × nB` cosine matrix (`2 D` each), the token norms (`2 D` each), the sums into
/// B tokens (`D` per merged A token) and the divisions (`D` per B token).
/// Bytes: read the frames once, write the `tokens - r` output tokens (the `nA × nB` f32 score
/// matrix and the index arrays are small and counted too).
pub fn merge_pass(frames: usize, tokens: usize, dim: usize, r: usize, elem_bytes: usize) -> Work {
    let (f, p, d, r) = (frames as f64, tokens as f64, dim as f64, r as f64);
    let (n_a, n_b) = ((tokens.div_ceil(2)) as f64, (tokens / 2) as f64);
    let e = elem_bytes as f64;
    Work {
        flops: f * (2.0 * n_a * n_b * d + 2.0 * p * d + r * d + n_b * d),
        bytes: f * ((p + (p - r)) * d * e + 2.0 * n_a * n_b * 4.0 + 2.0 * n_a * 4.0),
        launches: 3,
        class: Class::Elementwise,
    }
}

/// Causal FlashAttention: `Q Kᵀ` and `P V` over the `n (n + 1) / 2` visible pairs per head
/// (`4 d` FLOPs per pair, plus about 5 for the online softmax). Bytes: Q, K, V read once, O
/// written once; the `n × n` matrix never leaves the chip.
pub fn attention_flash(shape: &AttnShape, elem_bytes: usize) -> Work {
    let (h, hkv, n, d) = dims(shape);
    let pairs = shape.causal_pairs();
    Work {
        flops: h * pairs * (4.0 * d + 5.0),
        bytes: (2.0 * h + 2.0 * hkv) * n * d * elem_bytes as f64,
        launches: 1,
        class: Class::Attention,
    }
}

/// Eager step 1 only: the masked logits. FLOPs `2 d` per visible pair; bytes: Q and K read, the
/// full `H × n × n` f32 logits written (masked entries included, as eager attention does).
pub fn attention_logits(shape: &AttnShape, elem_bytes: usize) -> Work {
    let (h, hkv, n, d) = dims(shape);
    Work {
        flops: h * shape.causal_pairs() * 2.0 * d,
        bytes: (h + hkv) * n * d * elem_bytes as f64 + h * n * n * 4.0,
        launches: 1,
        class: Class::Matmul,
    }
}

/// Eager attention: logits, softmax (lower triangle read twice and written once), then `P V`
/// (lower triangle read once, V read, O written).
pub fn attention_eager(shape: &AttnShape, elem_bytes: usize) -> Work {
    let (h, hkv, n, d) = dims(shape);
    let lower = h * shape.causal_pairs() * 4.0;
    let logits = attention_logits(shape, elem_bytes);
    Work {
        flops: logits.flops + h * shape.causal_pairs() * (4.0 + 2.0 * d),
        bytes: logits.bytes + 3.0 * lower + (hkv + h) * n * d * elem_bytes as f64,
        launches: 3,
        class: Class::Attention,
    }
}

/// Materialising importance from `[heads, n, n]` f32 logits: the softmax reads the lower
/// triangle and writes `M` (4 FLOPs per pair: subtract, exp, sum, divide), then each power
/// iteration reads `M`'s lower triangle once (2 FLOPs per pair); RMS over heads at the end.
pub fn pagerank_materialised(heads: usize, tokens: usize, iterations: usize) -> Work {
    let (h, n) = (heads as f64, tokens as f64);
    let pairs = n * (n + 1.0) / 2.0;
    let it = iterations as f64;
    Work {
        flops: h * pairs * 4.0 + it * h * pairs * 2.0 + 3.0 * h * n,
        bytes: (2.0 + it) * h * pairs * 4.0 + (2.0 * it + 1.0) * h * n * 4.0 + n * 4.0,
        launches: 3 + iterations as u32,
        class: Class::Elementwise,
    }
}

/// Fused importance from Q and K: one pass for the row normalisers and one per power iteration,
/// each recomputing `q_i · k_j` for every visible pair (`2 d` FLOPs) plus about 4 more for the
/// exponential and the weighted sum. Bytes: Q and K read once per pass, the small `[heads, n]`
/// vectors (normalisers, distributions) read and written.
pub fn pagerank_fused(shape: &AttnShape, iterations: usize, elem_bytes: usize) -> Work {
    let (h, hkv, n, d) = dims(shape);
    let passes = 1.0 + iterations as f64;
    Work {
        flops: passes * h * shape.causal_pairs() * (2.0 * d + 4.0) + 3.0 * h * n,
        bytes: passes * (h + hkv) * n * d * elem_bytes as f64
            + (2.0 + 4.0 * iterations as f64) * h * n * 4.0
            + n * 4.0,
        launches: 3 + iterations as u32,
        class: Class::Attention,
    }
}

/// Pruning `tokens` scored tokens whose `visual` positions are candidates: keep
/// `kept_visual` of them by score, then gather the `kept` rows (text and kept visual) of
/// `width` elements. The refined model's own kernels for this step (issue 22: one
/// description): its top-k (`m log2 m` comparisons over the candidates) and its gather, both
/// element-wise, one launch each.
pub fn prune(
    tokens: usize,
    visual: usize,
    width: usize,
    kept: usize,
    kept_visual: usize,
    elem_bytes: usize,
) -> Work {
    use crate::cost::refined::importance::{gather_kept, topk_visual};
    let (n, m) = (tokens as f64, visual as f64);
    from_model(&[
        topk_visual(n, m, kept_visual as f64, 1.0),
        gather_kept(kept as f64, width as f64, 1.0, elem_bytes as f64),
    ])
}

/// The summed work of the refined model's `kernels`, which must share one class (a [`Work`]
/// is timed under one efficiency factor).
fn from_model(kernels: &[crate::cost::refined::kernel::Kernel]) -> Work {
    let class = kernels[0].class;
    debug_assert!(kernels.iter().all(|k| k.class == class));
    Work {
        flops: kernels.iter().map(|k| k.op.flops).sum(),
        bytes: kernels.iter().map(|k| k.op.bytes()).sum(),
        launches: kernels.iter().map(|k| k.launches).sum::<f64>().round() as u32,
        class,
    }
}

fn dims(shape: &AttnShape) -> (f64, f64, f64, f64) {
    (
        shape.heads as f64,
        shape.kv_heads as f64,
        shape.tokens as f64,
        shape.head_dim as f64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const OV: AttnShape = AttnShape {
        heads: 28,
        kv_heads: 4,
        tokens: 1668,
        head_dim: 128,
    };

    /// The refined model's kernels for one standalone kernel call, summed: (flops, bytes,
    /// launches, classes).
    fn model_sum(ks: &[crate::cost::refined::kernel::Kernel]) -> (f64, f64, f64, Vec<Class>) {
        let mut out = (0.0, 0.0, 0.0, Vec::new());
        for k in ks {
            out.0 += k.op.flops;
            out.1 += k.op.bytes();
            out.2 += k.launches;
            if !out.3.contains(&k.class) {
                out.3.push(k.class);
            }
        }
        out
    }

    fn dims(shape: &AttnShape, e: f64) -> crate::cost::refined::layer::Dims {
        crate::cost::refined::layer::Dims {
            h: 3584.0,
            heads: shape.heads as f64,
            kv_heads: shape.kv_heads as f64,
            d: shape.head_dim as f64,
            inter: 0.0,
            vocab: 0.0,
            b: 1.0,
            w: e,
            a: e,
            kv: e,
            tp: 1.0,
            qkv_bias: false,
            dequant: false,
            // The emulated kernel counts every load it issues: no cache in between.
            l2: None,
        }
    }

    /// One `validate` kernel beside the refined model's kernels for the same call, with the
    /// bands the ratios `work / model` must stay in and why they differ.
    struct Pair {
        name: String,
        work: Work,
        model: (f64, f64, f64, Vec<Class>),
        flops_ratio: (f64, f64),
        bytes_ratio: (f64, f64),
        /// The model's launches minus the kernel's.
        extra_launches: f64,
        model_classes: &'static [Class],
    }

    fn check(p: &Pair) {
        let (m_flops, m_bytes, m_launches, m_classes) = &p.model;
        let flops_ratio = if *m_flops > 0.0 {
            p.work.flops / m_flops
        } else {
            1.0
        };
        let bytes_ratio = p.work.bytes / m_bytes;
        println!(
            "{:<28} flops {:.3e} / {:.3e} = {flops_ratio:.3}  bytes {:.3e} / {:.3e} = \
             {bytes_ratio:.3}  launches {} / {m_launches}  class {:?} / {m_classes:?}",
            p.name, p.work.flops, m_flops, p.work.bytes, m_bytes, p.work.launches, p.work.class
        );
        let within = |x: f64, (lo, hi): (f64, f64)| (lo..=hi).contains(&x);
        assert!(
            within(flops_ratio, p.flops_ratio),
            "{}: flops ratio {flops_ratio}",
            p.name
        );
        assert!(
            within(bytes_ratio, p.bytes_ratio),
            "{}: bytes ratio {bytes_ratio}",
            p.name
        );
        assert_eq!(
            m_launches - p.work.launches as f64,
            p.extra_launches,
            "{}",
            p.name
        );
        assert_eq!(m_classes.as_slice(), p.model_classes, "{}", p.name);
        // Eager attention is priced by `validate` as one attention-class sequence, by the model
        // as two GEMMs and an element-wise softmax.
        let eager = p.name.starts_with("eager");
        assert_eq!(
            m_classes.contains(&p.work.class),
            !eager,
            "{}: class",
            p.name
        );
    }

    /// Issue 22: `validate` prices each kernel from this file, the refined model from its own
    /// kernel builders. Only `prune` is one description so far; this pins how far apart they are and
    /// why, so a change to either side shows up here.
    ///
    /// - merge: the model prices five kernels (normalise, similarity GEMM, best match, sort,
    ///   scatter-mean) that each go through memory (normalised tokens, the `nA × nB` matrix);
    ///   kernels/merge.cu keeps them on chip: ~1/3 of the model's bytes, 2 fewer launches.
    /// - flash: the model prices FlashAttention-2's 128×64 tiles (masked halves of diagonal
    ///   tiles computed, K/V re-read per query block, fp32 log-sum-exp written);
    ///   kernels/attention.cu uses 32×32 tiles and is priced on the exact causal triangle.
    /// - eager and logits: the model prices HF `eager_attention_forward` (all `n²` products,
    ///   `repeat_kv`-expanded K/V, bf16 scores); the kernel computes the causal triangle only and
    ///   writes f32 logits, so its FLOPs are `(n + 1) / 2n` of the model's. Between the two
    ///   GEMMs the model prices PyTorch's four passes over the `n²` scores (scale, mask add,
    ///   fp32 softmax, cast back; `layer::EagerChain`), the kernel one softmax over the lower
    ///   triangle: ~0.4–0.5 of the model's bytes, 3 fewer launches.
    /// - materialised importance: the model prices a dense `n²` softmax over bf16 logits; the
    ///   kernel reads f32 logits and touches the lower triangle only.
    /// - fused importance: the same algorithm; small constant differences (6 vs 4 FLOPs per
    ///   pair for the exponential; the RMS over heads a separate element-wise kernel in the
    ///   model; the kernels launch 3 + iterations, the model prices 1 + iterations + 1).
    /// - prune: built from the model's top-k and gather kernels, so it agrees exactly
    ///   (kernels/pagerank.cu launches three kernels; the model prices two).
    #[test]
    fn work_beside_the_refined_model() {
        use crate::cost::refined::{importance::importance, layer, stages};
        use crate::cost::{ImportanceKernel, PruneStep};
        use crate::schedule::Importance;
        use Class::{Attention, Elementwise, Matmul};
        let e = 2usize;
        let ef = e as f64;
        let mut pairs = Vec::new();
        for (frames, tokens, dim, r) in [(16, 196, 3584, 98), (16, 98, 3584, 49), (4, 64, 1024, 20)]
        {
            let mut ks = Vec::new();
            let (f, t, to) = (frames as u64, tokens as u64, (tokens - r) as u64);
            stages::merge(f, t, to, dim as f64, ef, &mut ks);
            pairs.push(Pair {
                name: format!("merge {frames}x{tokens}x{dim} r={r}"),
                work: merge_pass(frames, tokens, dim, r, e),
                model: model_sum(&ks),
                flops_ratio: (0.97, 1.0),
                bytes_ratio: (0.33, 0.38),
                extra_launches: 2.0,
                model_classes: &[Elementwise, Matmul],
            });
        }
        for n in [1668usize, 500, 129] {
            let shape = AttnShape { tokens: n, ..OV };
            let d = dims(&shape, ef);
            let nf = n as f64;
            let causal = (nf + 1.0) / (2.0 * nf);
            pairs.push(Pair {
                name: format!("flash n={n}"),
                work: attention_flash(&shape, e),
                model: model_sum(&[layer::flash_attention(&d, n as u64)]),
                flops_ratio: (0.50, 0.94),
                bytes_ratio: (0.53, 0.89),
                extra_launches: 0.0,
                model_classes: &[Attention],
            });
            let eager = layer::eager_attention(&d, n as u64);
            pairs.push(Pair {
                name: format!("eager n={n}"),
                work: attention_eager(&shape, e),
                model: model_sum(&eager),
                flops_ratio: (0.49, 0.51),
                bytes_ratio: (0.40, 0.47),
                extra_launches: 3.0,
                model_classes: &[Matmul, Elementwise],
            });
            pairs.push(Pair {
                name: format!("logits n={n}"),
                work: attention_logits(&shape, e),
                model: model_sum(&eager[..1]),
                flops_ratio: (causal * (1.0 - 1e-12), causal * (1.0 + 1e-12)),
                bytes_ratio: (1.0, 1.82),
                extra_launches: 0.0,
                model_classes: &[Matmul],
            });
            for fused in [false, true] {
                let implementation = if fused {
                    ImportanceKernel::Fused
                } else {
                    ImportanceKernel::Materialized
                };
                let step = PruneStep {
                    layer: 0,
                    scored_tokens: n as u64,
                    kept_tokens: (n / 2) as u64,
                };
                let mut ks = Vec::new();
                importance(
                    &d,
                    step,
                    0,
                    Importance::Pagerank,
                    false,
                    implementation,
                    &mut ks,
                );
                let (select, rank): (Vec<_>, Vec<_>) = ks.into_iter().partition(|k| {
                    matches!(
                        k.call,
                        crate::cost::refined::kernel::Call::TopK { .. }
                            | crate::cost::refined::kernel::Call::Gather { .. }
                    )
                });
                pairs.push(if fused {
                    Pair {
                        name: format!("importance fused n={n}"),
                        work: pagerank_fused(&shape, 5, e),
                        model: model_sum(&rank),
                        flops_ratio: (0.98, 0.99),
                        bytes_ratio: (1.01, 1.03),
                        extra_launches: -1.0,
                        model_classes: &[Attention, Elementwise],
                    }
                } else {
                    Pair {
                        name: format!("importance materialised n={n}"),
                        work: pagerank_materialised(shape.heads, n, 5),
                        model: model_sum(&rank),
                        flops_ratio: (0.41, 0.42),
                        bytes_ratio: (0.53, 0.55),
                        extra_launches: -1.0,
                        model_classes: &[Elementwise],
                    }
                });
                if fused {
                    // One description: `prune` is built from the model's own kernels.
                    pairs.push(Pair {
                        name: format!("prune n={n}"),
                        work: prune(n, n, 3584, n / 2, n / 2, e),
                        model: model_sum(&select),
                        flops_ratio: (1.0, 1.0),
                        bytes_ratio: (1.0, 1.0),
                        extra_launches: 0.0,
                        model_classes: &[Elementwise],
                    });
                }
            }
        }
        for p in &pairs {
            check(p);
        }
    }

    #[test]
    fn predicted_time_is_the_cost_model_roofline() {
        let gpu = Gpu::load("h100").unwrap();
        let roof = crate::cost::Roofline {
            peak_flops_per_s: gpu.fp16_peak,
            bandwidth_bytes_per_s: gpu.bandwidth,
        };
        for (flops, bytes) in [(1e12, 1e6), (1e6, 1e9), (3e11, 1e9)] {
            let op = crate::cost::Operator {
                name: "x",
                kind: crate::cost::OpKind::Attention,
                flops,
                load_weight_bytes: 0.0,
                load_act_bytes: bytes,
                store_act_bytes: 0.0,
                load_kv_bytes: 0.0,
                store_kv_bytes: 0.0,
            };
            let want = roof.time(op).time_s;
            let got = predicted_time_s(flops, bytes, &gpu);
            assert!((got - want).abs() <= 1e-12 * want, "{got} vs {want}");
        }
    }

    /// The numbers quoted in docs/kernels.md ("what the fused kernel costs").
    #[test]
    fn fused_importance_trades_flops_for_bytes_as_documented() {
        let fused = pagerank_fused(&OV, 5, 2);
        let logits = attention_logits(&OV, 2);
        let materialised = pagerank_materialised(28, 1668, 5);
        // 6 passes × 28 heads × 1,391,946 pairs × 260 FLOPs ≈ 60.8 GFLOP.
        assert!((fused.flops / 1e9 - 60.8).abs() < 0.1, "{}", fused.flops);
        // Q and K (bf16) six times: 6 × 32 × 1668 × 128 × 2 B = 82.0 MB, plus 4.1 MB of
        // normalisers and distributions.
        assert!((fused.bytes / 1e6 - 86.1).abs() < 0.1, "{}", fused.bytes);
        // The materialising path writes the logits (311.6 MB, plus 13.7 MB of Q and K read) and
        // moves M's lower triangle 7 times (7 × 155.9 MB).
        let mat_bytes = logits.bytes + materialised.bytes;
        assert!((mat_bytes / 1e9 - 1.418).abs() < 0.01, "{mat_bytes}");
        assert!(
            (materialised.flops / 1e9 - 0.545).abs() < 0.01,
            "{}",
            materialised.flops
        );
    }

    #[test]
    fn the_model_times_work_by_its_class() {
        let mut gpu = Gpu::load("h100").unwrap();
        let work = attention_flash(&OV, 2);
        let plain = predicted_time_s(work.flops, work.bytes, &gpu);
        assert_eq!(model_time_s(&work, &gpu), ("roofline", plain));
        gpu.efficiency = Some(crate::hardware::Efficiency {
            matmul: 0.5,
            attention: 0.25,
            elementwise: 0.5,
            launch_overhead_s: 5e-6,
            ..crate::hardware::Efficiency::ideal()
        });
        // Attention at the attention factor on both roofs (the GEMM factor was used before).
        let (which, refined) = model_time_s(&work, &gpu);
        assert_eq!(which, "roofline+efficiency");
        assert!((refined - (4.0 * plain + 5e-6)).abs() < 1e-12, "{refined}");
        // Memory-bound element-wise work at the element-wise factor, one overhead per launch.
        let p = prune(6372, 5760, 3584, 1472, 860, 2);
        assert_eq!(p.launches, 2);
        let (_, t) = model_time_s(&p, &gpu);
        assert!(
            (t - (2.0 * p.bytes / gpu.bandwidth + 2.0 * 5e-6)).abs() < 1e-12,
            "{t}"
        );
    }
}
