//! A token-reduction method's own selection of the visual tokens it keeps, before the LLM, as
//! its released code runs it ([`crate::selection::Selection`]). Priced as merging is: stage
//! kernels of kind `Merge`, so the pipeline's "token merging" holds them.

use super::kernel::{kernel, Call, Class, Kernel};
use super::layer::FP32_BYTES;
use crate::cost::OpKind;
use crate::selection::Selection;

/// The kernels of `method` keeping `keep` of `candidates` tokens of width `width` (`a`-byte
/// activations), once for each of `sequences` prompts.
pub fn kernels(
    method: Selection,
    candidates: f64,
    keep: f64,
    width: f64,
    a: f64,
    sequences: f64,
) -> Vec<Kernel> {
    let list = match method {
        Selection::DivPrune => divprune(candidates, keep, width, a),
        Selection::CdPruner => cdpruner(candidates, keep, width, a),
    };
    list.into_iter().map(|k| k.times(sequences)).collect()
}

/// An element-wise pass over `elements` values in rows of `width`, `count` launches' worth.
fn pass(elements: f64, width: f64, count: f64) -> Call {
    Call::Elementwise {
        elements,
        width,
        count,
    }
}

/// An activation × activation product `[m × inner] · [inner × cols]` at `bytes` per value.
fn gemm(m: f64, cols: f64, inner: f64, bytes: f64) -> Call {
    Call::Gemm {
        m,
        n: cols,
        k: inner,
        bias: false,
        act_bits: Call::bits(bytes),
        weight_bits: Call::bits(bytes),
        count: 1.0,
    }
}

/// DivPrune's `DivPrune` (vbdi/divprune, `llava_arch.py`; CVPR 2025) over `n` tokens keeping
/// `k`: `matrix / matrix.norm(dim=1)` (2 ops), `torch.mm` of that with its transpose (an
/// `n × n × d` GEMM), `1.0 -` it (1 op); step 0: `topk(2, dim=0)`, its `[1, :]` row, `argmax`
/// and the store into `s` (4 ops); every later step `i`: `arange`, two `index_select`s (the `i`
/// chosen rows of the matrix copied), `min(dim=0)`, `argmax` and the store (6 ops); then the
/// kept indices sorted and the kept tokens gathered (2 ops). Step `i` moves `i` rows of `n`, so
/// the later steps together copy and reduce `k(k−1)/2` rows: kilobytes a step, whose time is
/// its launches.
fn divprune(n: f64, k: f64, d: f64, a: f64) -> Vec<Kernel> {
    let x = n * d * a;
    let matrix = n * n * a;
    let rows = k * (k - 1.0) / 2.0;
    vec![
        kernel(
            "divprune_normalize",
            OpKind::Merge,
            Class::Elementwise,
            3.0 * n * d,
            pass(n * d, d, 1.0),
        )
        .reads(2.0 * x)
        .writes(x),
        kernel(
            "divprune_cosine",
            OpKind::Merge,
            Class::Matmul,
            2.0 * n * n * d,
            gemm(n, n, d, a),
        )
        .reads(2.0 * x)
        .writes(matrix),
        kernel(
            "divprune_distance",
            OpKind::Merge,
            Class::Elementwise,
            n * n,
            pass(n * n, n, 1.0),
        )
        .reads(matrix)
        .writes(matrix),
        kernel(
            "divprune_first_pick",
            OpKind::Merge,
            Class::Elementwise,
            2.0 * n * n,
            pass(n * n, n, 1.0),
        )
        .reads(matrix)
        .writes(2.0 * n * a),
        kernel(
            "divprune_greedy_steps",
            OpKind::Merge,
            Class::Elementwise,
            rows * n,
            pass(rows * n, n, (k - 1.0).max(0.0)),
        )
        .reads(2.0 * rows * n * a)
        .writes(rows * n * a)
        .launches((k - 1.0).max(0.0)),
        kernel(
            "divprune_gather_kept",
            OpKind::Merge,
            Class::Elementwise,
            k * k.max(2.0).log2(),
            pass(k * d, d, 1.0),
        )
        .reads(k * d * a)
        .writes(k * d * a),
    ]
}

/// CLIP ViT-L/14-336, as CDPruner's `clip_encoder.py` loads it beside LLaVA's tower
/// (openai/clip-vit-large-patch14-336 config.json): the vision width its projection reads, the
/// joint embedding width, and the text tower's layers, width, MLP and positions (the prompt is
/// padded to all 77).
const CLIP_VISION_WIDTH: f64 = 1024.0;
const CLIP_EMBED: f64 = 768.0;
const CLIP_TEXT_LAYERS: f64 = 12.0;
const CLIP_TEXT_WIDTH: f64 = 768.0;
const CLIP_TEXT_MLP: f64 = 3072.0;
const CLIP_TEXT_TOKENS: f64 = 77.0;
/// PyTorch ops of one transformers (4.37) `CLIPEncoderLayer` forward besides its six linear
/// layers: two LayerNorms, `* scale`, three `contiguous` head reshapes, two `bmm`s, the causal
/// and padding mask adds, `softmax`, the output reshape, two residual adds and `quick_gelu`'s
/// three (`* 1.702`, `sigmoid`, `*`).
const CLIP_TEXT_LAYER_OPS: f64 = 17.0;
/// The text tower's ops outside its layers: token and position embeddings and their sum (3),
/// the causal mask (4) and the padding mask expanded (3), the final LayerNorm (1), the pooled
/// row (`argmax`, `arange`, index: 3).
const CLIP_TEXT_OTHER_OPS: f64 = 14.0;

/// CDPruner's `encode_images` (Theia-4869/CDPruner, `llava_arch.py`, with `clip_encoder.py`)
/// over `n` projected tokens of width `d` keeping `k`:
/// - CLIP's text tower on the prompt padded to 77 tokens (its own CUDA stream, but dispatched by
///   the same Python thread) and the image side's `post_layernorm`, fp32 cast and
///   `visual_projection` (3 ops);
/// - the similarity: `norm`, `/`, `.float()`, an `n × n × d` fp32 `matmul` (4 ops);
/// - the relevance: both embeddings normalised (4), their `matmul`, `neg`, `mean`, and the
///   min-max rescaling (`min`, `-`, `+`, `max`, `min`, `-`, `/`): 14 ops;
/// - the kernel `r · S · r` (2 ops over `n²`), `cis` zeroed and the diagonal cloned (2);
/// - per kept token a DPP step: `argmax`, three `arange`s and three indexings, an `einsum` over
///   the `i` rows of `cis` so far, `-`, `sqrt`, `/`, `square`, `-=` and three stores (16 ops);
/// - the kept indices sorted and scattered into a mask (3 ops).
fn cdpruner(n: f64, k: f64, d: f64, a: f64) -> Vec<Kernel> {
    // The text tower: its linear layers (q, k, v, out, fc1, fc2 a layer; the projection).
    let (t, w) = (CLIP_TEXT_TOKENS, CLIP_TEXT_WIDTH);
    let layer_params = 4.0 * w * w + 2.0 * w * CLIP_TEXT_MLP;
    let text_params = CLIP_TEXT_LAYERS * layer_params + w * CLIP_EMBED;
    let text_acts = t * w * a;
    let steps_rows = k * (k - 1.0) / 2.0;
    vec![
        kernel(
            "cdpruner_text_linears",
            OpKind::Merge,
            Class::Matmul,
            2.0 * t * text_params,
            gemm(t, w, w, a),
        )
        .weights(text_params * a)
        .reads(CLIP_TEXT_LAYERS * 6.0 * text_acts)
        .writes(CLIP_TEXT_LAYERS * 6.0 * text_acts)
        .launches(CLIP_TEXT_LAYERS * 6.0 + 1.0),
        kernel(
            "cdpruner_text_other",
            OpKind::Merge,
            Class::Elementwise,
            CLIP_TEXT_LAYERS * (CLIP_TEXT_LAYER_OPS * t * w + 4.0 * t * t * w),
            pass(CLIP_TEXT_LAYERS * CLIP_TEXT_LAYER_OPS * t * w, w, 1.0),
        )
        .reads(CLIP_TEXT_LAYERS * CLIP_TEXT_LAYER_OPS * text_acts)
        .writes(CLIP_TEXT_LAYERS * CLIP_TEXT_LAYER_OPS * text_acts)
        .launches(CLIP_TEXT_LAYERS * CLIP_TEXT_LAYER_OPS + CLIP_TEXT_OTHER_OPS),
        kernel(
            "cdpruner_image_embeds",
            OpKind::Merge,
            Class::Matmul,
            2.0 * n * CLIP_VISION_WIDTH * CLIP_EMBED,
            gemm(n, CLIP_EMBED, CLIP_VISION_WIDTH, FP32_BYTES),
        )
        .weights(CLIP_VISION_WIDTH * CLIP_EMBED * a)
        .reads(n * CLIP_VISION_WIDTH * (a + FP32_BYTES))
        .writes(n * (CLIP_VISION_WIDTH + CLIP_EMBED) * FP32_BYTES)
        .launches(3.0),
        kernel(
            "cdpruner_similarity",
            OpKind::Merge,
            Class::Matmul,
            2.0 * n * n * d,
            gemm(n, n, d, FP32_BYTES),
        )
        .reads(2.0 * n * d * a + 2.0 * n * d * FP32_BYTES)
        .writes(n * d * FP32_BYTES + n * n * FP32_BYTES)
        .launches(4.0),
        kernel(
            "cdpruner_relevance",
            OpKind::Merge,
            Class::Elementwise,
            n * CLIP_EMBED * 4.0,
            pass(n * CLIP_EMBED, CLIP_EMBED, 1.0),
        )
        .reads(2.0 * n * CLIP_EMBED * FP32_BYTES)
        .writes(n * CLIP_EMBED * FP32_BYTES + 10.0 * n * FP32_BYTES)
        .launches(14.0),
        kernel(
            "cdpruner_kernel",
            OpKind::Merge,
            Class::Elementwise,
            2.0 * n * n,
            pass(n * n, n, 1.0),
        )
        .reads(2.0 * n * n * FP32_BYTES)
        .writes(2.0 * n * n * FP32_BYTES + k * n * FP32_BYTES)
        .launches(4.0),
        kernel(
            "cdpruner_dpp_steps",
            OpKind::Merge,
            Class::Elementwise,
            2.0 * steps_rows * n + 6.0 * k * n,
            pass(steps_rows * n, n, k),
        )
        .reads((steps_rows + 4.0 * k) * n * FP32_BYTES)
        .writes(3.0 * k * n * FP32_BYTES)
        .launches(k),
        kernel(
            "cdpruner_select_sort",
            OpKind::Merge,
            Class::Elementwise,
            k * k.max(2.0).log2(),
            pass(n, n, 1.0),
        )
        .reads(k * 8.0)
        .writes(n)
        .launches(3.0),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::refined::dispatch::ops;

    /// DivPrune's 115-token run over 1152 candidates (its LLaVA-NeXT-Video rows): an
    /// `n × n × d` GEMM, and 5 + 4 + 6 · 114 + 2 PyTorch ops in all, the greedy loop's 684 of
    /// them in 114 launches.
    #[test]
    fn divprune_is_a_cosine_matrix_and_six_ops_per_later_step() {
        let list = kernels(Selection::DivPrune, 1152.0, 115.0, 4096.0, 2.0, 1.0);
        let by = |name: &str| list.iter().find(|k| k.op.name == name).unwrap();
        assert_eq!(
            by("divprune_cosine").op.flops,
            2.0 * 1152.0 * 1152.0 * 4096.0
        );
        assert_eq!(by("divprune_greedy_steps").launches, 114.0);
        let total: f64 = list.iter().map(ops).sum();
        assert_eq!(total, 2.0 + 1.0 + 1.0 + 4.0 + 6.0 * 114.0 + 2.0);
        // Two prompts: twice the work and the launches.
        let two = kernels(Selection::DivPrune, 1152.0, 115.0, 4096.0, 2.0, 2.0);
        assert_eq!(two.iter().map(ops).sum::<f64>(), 2.0 * total);
    }

    /// CDPruner at Cen-Prune's 64 of 576 tokens: the text tower's 12 × (6 + 17) + 14 + 1 ops,
    /// then 3 + 4 + 14 + 4 + 16 · 64 + 3 for the selection itself.
    #[test]
    fn cdpruner_is_the_text_tower_and_sixteen_ops_per_kept_token() {
        let list = kernels(Selection::CdPruner, 576.0, 64.0, 4096.0, 2.0, 1.0);
        let ops_of = |prefix: &str| -> f64 {
            list.iter()
                .filter(|k| k.op.name.starts_with(prefix))
                .map(ops)
                .sum()
        };
        assert_eq!(ops_of("cdpruner_text"), 12.0 * 23.0 + 14.0 + 1.0);
        let by = |name: &str| list.iter().find(|k| k.op.name == name).unwrap();
        assert_eq!(by("cdpruner_dpp_steps").launches, 64.0);
        assert_eq!(
            list.iter().map(ops).sum::<f64>(),
            12.0 * 23.0 + 15.0 + 3.0 + 4.0 + 14.0 + 4.0 + 16.0 * 64.0 + 3.0
        );
        assert_eq!(
            by("cdpruner_similarity").op.flops,
            2.0 * 576.0 * 576.0 * 4096.0
        );
    }
}
