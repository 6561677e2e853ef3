//! What a pruning layer computes to choose the kept visual tokens, by importance rule
//! (`importance` key of a schedule's `[prune]`). paper-cases.md, "PageRank importance in the
//! code"; models-and-methods.md, "attention it needs".

use super::kernel::{kernel, Call, Class, ImportanceStep, Kernel};
use super::layer::{Dims, FP32_BYTES, SOFTMAX_FLOPS};
use crate::cost::{ImportanceKernel, OpKind, PruneStep, Sink};
use crate::schedule::Importance;

/// AIM's power iterations: `dist = dist @ M`, 5 times from the uniform vector (paper-cases.md).
/// The one definition: the kernels (`crate::kernels`) and the priced work both use it.
pub const PAGERANK_ITERATIONS: usize = 5;
/// AIM's temperature on the attention logits before the importance softmax (paper-cases.md).
pub const PAGERANK_TEMPERATURE: f32 = 0.1;
/// Bytes of an int64 index (top-k output, argmax indices).
const INDEX_BYTES: f64 = 8.0;

/// Root-mean-square of the per-head PageRank vectors: one fp32 score per token.
fn rms_over_heads(heads: f64, n: f64, b: f64, call: Call) -> Kernel {
    kernel(
        "importance_rms_over_heads",
        OpKind::Prune,
        Class::Elementwise,
        3.0 * heads * n * b,
        call,
    )
    .reads(heads * n * b * FP32_BYTES)
    .writes(n * b * FP32_BYTES)
}

/// Query–key pairs of one head under the causal mask: `n(n+1)/2`.
fn nf_pairs(n: f64) -> f64 {
    n * (n + 1.0) / 2.0
}

/// Puts the kernels of `rule` at one pruning layer into `kernels` and returns the largest
/// `n × n`-sized map it keeps live (bytes), for the memory estimate. `flash`: whether the
/// layer's attention ran as FlashAttention (then any probabilities the rule needs must be
/// recomputed from Q and K); with eager attention the logits already sit in memory and are
/// read back.
pub fn importance(
    d: &Dims,
    step: PruneStep,
    text_tokens: u64,
    rule: Importance,
    flash: bool,
    implementation: ImportanceKernel,
    kernels: &mut impl Sink<Kernel>,
) -> f64 {
    let n = step.scored_tokens as f64;
    let text = (text_tokens.min(step.scored_tokens)) as f64;
    let visual = n - text;
    let kept = step.kept_tokens as f64;
    let (b, heads, a) = (d.b, d.heads, d.a);
    let iterations = PAGERANK_ITERATIONS as f64;
    // What a GPU launches for each step of the rule.
    let call = |step: ImportanceStep| Call::Importance {
        rule,
        step,
        tokens: n,
        heads,
        kv_heads: d.kv_heads,
        head_dim: d.d,
        iterations: PAGERANK_ITERATIONS as u32,
    };
    let mut map_bytes = 0.0;
    match rule {
        Importance::Pagerank if implementation == ImportanceKernel::Fused => {
            // kernels/pagerank.cu (fused): one pass for each row's max and normaliser, then per
            // power iteration Q·Kᵀ tiles are recomputed, tempered, exponentiated and multiplied
            // into the vector, over the causal triangle only. Q and K are re-read by each of
            // the 1 + 5 passes; no n × n value ever reaches memory (docs/kernels.md).
            let pairs = nf_pairs(n) * heads * b;
            let passes = 1.0 + iterations;
            let qk = 2.0 * d.d * pairs;
            let vectors = heads * n * b * FP32_BYTES;
            kernels.push(
                kernel(
                    "pagerank_fused",
                    OpKind::Prune,
                    Class::Attention,
                    passes * (qk + (SOFTMAX_FLOPS + 1.0) * pairs) + iterations * 2.0 * pairs,
                    call(ImportanceStep::Fused),
                )
                .reads(passes * n * d.q_width() * b * a)
                .reads_kv(passes * n * d.kv_width() * b * d.kv)
                // normalisers (max, sum) once; the vector read and written per iteration.
                .writes(2.0 * vectors + iterations * vectors)
                .reads(iterations * vectors)
                .launches(passes),
            );
            kernels.push(rms_over_heads(
                heads,
                n,
                b,
                call(ImportanceStep::RmsOverHeads),
            ));
        }
        Importance::Pagerank => {
            let scores = heads * n * n * b;
            if flash {
                // Probabilities are not kept by FlashAttention: Q·Kᵀ again, written out.
                kernels.push(
                    kernel(
                        "importance_qk_recompute",
                        OpKind::Prune,
                        Class::Matmul,
                        2.0 * scores * d.d,
                        call(ImportanceStep::Logits),
                    )
                    .reads(n * d.q_width() * b * a)
                    .reads_kv(n * d.q_width() * b * d.kv)
                    .writes(scores * a),
                );
            }
            // softmax((logits + causal mask) / 0.1) per row, kept in fp32 as the matrix M.
            kernels.push(
                kernel(
                    "importance_softmax_t0.1",
                    OpKind::Prune,
                    Class::Elementwise,
                    (SOFTMAX_FLOPS + 2.0) * scores,
                    call(ImportanceStep::Softmax),
                )
                .reads(scores * a)
                .writes(scores * FP32_BYTES),
            );
            // 5 × (vector · matrix) per head: M is far larger than L2, so re-read each time.
            kernels.push(
                kernel(
                    "pagerank_power_iterations",
                    OpKind::Prune,
                    Class::Elementwise,
                    iterations * 2.0 * scores,
                    call(ImportanceStep::PowerIterations),
                )
                .reads(iterations * (scores + heads * n * b) * FP32_BYTES)
                .writes(iterations * heads * n * b * FP32_BYTES)
                .launches(iterations),
            );
            kernels.push(rms_over_heads(
                heads,
                n,
                b,
                call(ImportanceStep::RmsOverHeads),
            ));
            map_bytes = scores * (a + FP32_BYTES);
        }
        Importance::LastToken | Importance::TextToVisual => {
            // FastV/PDrop: the last query's row over all n keys; SparseVLM: text queries over
            // the visual keys. Recomputed under FlashAttention, read back under eager.
            let (name, rows, keys) = if rule == Importance::LastToken {
                ("importance_last_query_attention", 1.0, n)
            } else {
                ("importance_text_to_visual_attention", text.max(1.0), visual)
            };
            let scores = heads * rows * keys * b;
            let k = if flash {
                kernel(
                    name,
                    OpKind::Prune,
                    Class::Attention,
                    (2.0 * d.d + SOFTMAX_FLOPS + 1.0) * scores,
                    call(ImportanceStep::Rows),
                )
                .reads(rows * d.q_width() * b * a)
                .reads_kv(keys * d.q_width() * b * d.kv)
            } else {
                kernel(
                    name,
                    OpKind::Prune,
                    Class::Elementwise,
                    scores,
                    call(ImportanceStep::Rows),
                )
                .reads(scores * a)
            };
            kernels.push(k.writes(keys * b * FP32_BYTES));
            map_bytes = scores * FP32_BYTES;
        }
        Importance::None => {}
    }
    if rule != Importance::None {
        kernels.push(topk_visual(n, visual, (kept - text).max(0.0), b));
    }
    kernels.push(gather_kept(kept, d.h, b, a));
    map_bytes
}

/// Top-k over the `visual` candidates of `n` scored tokens (text is always kept), keeping
/// `kept_visual`, for `b` sequences: ~ m·log2(m) comparisons. `aim-sim validate` prices
/// its `select_flags`/`select_compact` kernels with it too.
pub(crate) fn topk_visual(n: f64, visual: f64, kept_visual: f64, b: f64) -> Kernel {
    let m = visual.max(1.0);
    kernel(
        "topk_visual",
        OpKind::Prune,
        Class::Elementwise,
        m * m.log2().max(1.0) * b,
        Call::TopK {
            tokens: n * b,
            candidates: m * b,
            kept: kept_visual * b,
        },
    )
    .reads(m * b * FP32_BYTES)
    .writes(kept_visual * b * INDEX_BYTES)
}

/// Gather of the `kept` hidden states of width `h` (`a` bytes each; full width: replicated
/// across TP ranks) for `b` sequences.
pub(crate) fn gather_kept(kept: f64, h: f64, b: f64, a: f64) -> Kernel {
    let kept_act = kept * h * b * a;
    kernel(
        "gather_kept",
        OpKind::Prune,
        Class::Elementwise,
        0.0,
        Call::Gather {
            rows: kept * b,
            width: h,
        },
    )
    .reads(kept_act + kept * b * INDEX_BYTES)
    .writes(kept_act)
}
