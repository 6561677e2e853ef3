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

/// Pruning: read the `[n]` scores, read and write the `kept` rows of `width` elements. The
/// ranking is comparisons only (no FLOPs counted).
pub fn prune(tokens: usize, width: usize, kept: usize, elem_bytes: usize) -> Work {
    Work {
        flops: 0.0,
        bytes: tokens as f64 * 4.0 * 2.0 + 2.0 * kept as f64 * width as f64 * elem_bytes as f64,
        launches: 3,
        class: Class::Elementwise,
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
        let p = prune(6372, 3584, 1472, 2);
        let (_, t) = model_time_s(&p, &gpu);
        assert!(
            (t - (2.0 * p.bytes / gpu.bandwidth + 3.0 * 5e-6)).abs() < 1e-12,
            "{t}"
        );
    }
}
