//! A token-reduction method's own selection of the visual tokens it keeps, as its released
//! code runs it ([`crate::selection::Selection`]). Between the projector and the LLM it is
//! priced as merging is: stage kernels of kind `Merge`, so the pipeline's "token merging" holds
//! them ([`kernels`]). Inside the LLM it is pruning work at the layers where the counts drop
//! ([`at_pruning_layer`]).

use super::kernel::{kernel, Call, Class, Kernel};
use super::layer::{Dims, FP32_BYTES};
use crate::cost::{OpKind, PruneStep};
use crate::selection::Selection;

/// The kernels of `method`, when it selects before the LLM, keeping `keep` of `candidates`
/// tokens (over `frames` frames) of width `width` (`a`-byte activations) for a prompt of `text`
/// text tokens, once for each of `sequences` prompts.
#[allow(clippy::too_many_arguments)]
pub fn kernels(
    method: Selection,
    candidates: f64,
    keep: f64,
    frames: f64,
    width: f64,
    a: f64,
    text: u64,
    sequences: f64,
) -> Vec<Kernel> {
    let list = match method {
        Selection::DivPrune => divprune(candidates, keep, width, a),
        Selection::CdPruner => cdpruner(candidates, keep, width, a),
        Selection::VisionZip => visionzip(candidates, keep, a),
        Selection::FlowCut => flowcut(candidates, keep, a),
        Selection::TReVS => trevs_select(candidates, keep, width, a, text as f64),
        Selection::FastVid => fastvid(frames, candidates / frames, keep, width, a),
        // Inside the LLM: priced at its pruning layers by `at_pruning_layer`.
        Selection::SparseVlm | Selection::S2Prune => Vec::new(),
    };
    list.into_iter().map(|k| k.times(sequences)).collect()
}

/// The kernels of `method`, when it selects inside the LLM, at pruning layer `step` (`text`
/// text tokens): its visual tokens go from the scored layer's to the next layer's. SparseVLM's
/// next layer holds the kept tokens and its recycled clusters ([`sparsevlm_step`]); its raters
/// are the text tokens whose attention to the visual ones is above their mean
/// (`torch.where(m_v_t > m_v_t.mean())`): half the text, as a mean splits them. S²Prune keeps
/// exactly the next layer's ([`s2prune_step`]). TReVS ranks by a look-ahead of the next
/// layer's attention, and with it on each of the model's `layers` layers reads the positions
/// back ([`trevs_step`]).
pub fn at_pruning_layer(
    method: Selection,
    d: &Dims,
    step: PruneStep,
    text: u64,
    layers: usize,
) -> Vec<Kernel> {
    let before = step.scored_tokens.saturating_sub(text);
    let after = step.kept_tokens.saturating_sub(text);
    let n = step.scored_tokens as f64;
    let list = match method {
        Selection::SparseVlm => {
            // A drop the code's arithmetic cannot produce is priced as if its clusters were
            // absent.
            let pruned = sparsevlm_pruned(before, after).unwrap_or(before.saturating_sub(after));
            let raters = (text as f64 / 2.0).max(1.0);
            sparsevlm_step(n, d.heads, raters, before as f64, pruned, d.h, d.a)
        }
        Selection::S2Prune => s2prune_step(n, before as f64, after as f64, d.h, d.a),
        // FlowCut selects inside CLIP (priced by `kernels`); where the counts still drop in
        // the LLM (LLaVA-NeXT, after layer 1) its code scores and cuts again.
        Selection::FlowCut => flowcut_llm_step(n, step.kept_tokens as f64, d.h, d.a),
        Selection::TReVS => trevs_step(d, n, step.kept_tokens as f64, text as f64, layers as f64),
        // Before the LLM: priced with the merging by `kernels`.
        Selection::DivPrune | Selection::CdPruner | Selection::VisionZip | Selection::FastVid => {
            Vec::new()
        }
    };
    list.into_iter().map(|k| k.times(d.b)).collect()
}

/// An element-wise pass over `elements` values in rows of `width`, `count` launches' worth.
fn pass(elements: f64, width: f64, count: f64) -> Call {
    Call::Elementwise {
        elements,
        width,
        count,
    }
}

/// `launches` PyTorch ops over `elements` values in rows of `width`, memory-bound: how a
/// method's scoring and bookkeeping between the big kernels runs.
fn torch_ops(
    name: &'static str,
    kind: OpKind,
    flops: f64,
    elements: f64,
    width: f64,
    launches: f64,
) -> Kernel {
    kernel(
        name,
        kind,
        Class::Elementwise,
        flops,
        pass(elements, width, launches),
    )
    .launches(launches)
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
        torch_ops(
            "divprune_normalize",
            OpKind::Merge,
            3.0 * n * d,
            n * d,
            d,
            1.0,
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
        torch_ops("divprune_distance", OpKind::Merge, n * n, n * n, n, 1.0)
            .reads(matrix)
            .writes(matrix),
        torch_ops(
            "divprune_first_pick",
            OpKind::Merge,
            2.0 * n * n,
            n * n,
            n,
            1.0,
        )
        .reads(matrix)
        .writes(2.0 * n * a),
        torch_ops(
            "divprune_greedy_steps",
            OpKind::Merge,
            rows * n,
            rows * n,
            n,
            (k - 1.0).max(0.0),
        )
        .reads(2.0 * rows * n * a)
        .writes(rows * n * a),
        torch_ops(
            "divprune_gather_kept",
            OpKind::Merge,
            k * k.max(2.0).log2(),
            k * d,
            d,
            1.0,
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
        torch_ops(
            "cdpruner_dpp_steps",
            OpKind::Merge,
            2.0 * steps_rows * n + 6.0 * k * n,
            steps_rows * n,
            n,
            k,
        )
        .reads((steps_rows + 4.0 * k) * n * FP32_BYTES)
        .writes(3.0 * k * n * FP32_BYTES),
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

/// CLIP ViT-L/14-336's encoder as VisionZip patches it: layers, heads and head width
/// (openai/clip-vit-large-patch14-336 config.json).
const CLIP_VISION_LAYERS: f64 = 24.0;
const CLIP_VISION_HEADS: f64 = 16.0;
const CLIP_HEAD_DIM: f64 = 64.0;

/// VisionZip's contextual tokens per kept token: its README's LLaVA-1.5 settings keep 54 + 10,
/// 108 + 20 and 162 + 30 (dominant + contextual) for 64, 128 and 192 tokens.
const VISIONZIP_CONTEXTUAL_SHARE: f64 = 10.0 / 64.0;

/// PyTorch ops of VisionZip's selection after CLIP (`CLIPVisionTower_VisionZip.forward`,
/// dvlab-research/VisionZip at 3151f6d): the CLS row summed over heads, `topk`, `+ 1`, `zeros`,
/// `cat`, `ones_like`, `scatter_` (7); the dominant tokens by `masked_select` (`~`, the select:
/// 2); the other tokens' keys and states by boolean index and `masked_select` (2); `norm`, `/`
/// (2); the contextual targets (`arange`, an index: 2); the rest (`arange`, `isin`, `~`, a
/// boolean index: 4); the similarity `bmm`, `zeros`, `argmax`, `scatter_`, `sum`, `clamp` (6);
/// the states again (`arange`, `isin`, `~`, a boolean index: 4); the merge `bmm`, `/`, an index,
/// `+` (4); the final `cat` (1). Five of them (the boolean selections) synchronise with the host.
const VISIONZIP_SELECT_OPS: f64 = 34.0;

/// VisionZip over `n` visual tokens keeping `k`, `a`-byte activations: every one of CLIP's 24
/// layers runs its patched attention, which clones the keys and averages them over heads (2
/// ops a layer, `CLIPAttention_forward` in `visionzip/utils.py`; CLIP returns every layer's
/// attention map, which the eager attention writes anyway), then [`VISIONZIP_SELECT_OPS`] over
/// CLIP's width. Its projector then runs on the `k` kept tokens, where aim-sim's vision stage
/// prices it on all `n`: a few GFLOPs over-priced.
fn visionzip(n: f64, k: f64, a: f64) -> Vec<Kernel> {
    let keys = CLIP_VISION_HEADS * n * CLIP_HEAD_DIM;
    let w = CLIP_VISION_WIDTH;
    let contextual = (k * VISIONZIP_CONTEXTUAL_SHARE).round().max(1.0);
    let rest = n - k + contextual;
    vec![
        torch_ops(
            "visionzip_key_metric",
            OpKind::Merge,
            CLIP_VISION_LAYERS * keys,
            CLIP_VISION_LAYERS * keys,
            CLIP_HEAD_DIM,
            2.0 * CLIP_VISION_LAYERS,
        )
        .reads(2.0 * CLIP_VISION_LAYERS * keys * a)
        .writes(CLIP_VISION_LAYERS * (keys + n * CLIP_HEAD_DIM) * a),
        torch_ops(
            "visionzip_select",
            OpKind::Merge,
            2.0 * rest * contextual * (CLIP_HEAD_DIM + w) + 4.0 * n * w,
            3.0 * n * w,
            w,
            VISIONZIP_SELECT_OPS,
        )
        .reads(CLIP_VISION_HEADS * n * a + 3.0 * n * w * a + 2.0 * rest * CLIP_HEAD_DIM * a)
        .writes(2.0 * n * w * a + k * w * a),
    ]
}

/// CLIP ViT-L/14-336's patches per image (a 24 × 24 grid), and so per LLaVA-NeXT crop.
const CLIP_PATCHES: f64 = 576.0;

/// PyTorch ops FlowCut adds to one CLIP tower call (TungChintao/FlowCut at a2ecd24, read
/// 2026-12-06), whatever the image:
/// - in each of the 24 layers' attention (`CLIPAttention_forward`): the values cloned, the CLS
///   value's `bmm` against them, `softmax`, two head means (5);
/// - after each of layers 0–21 while the tower holds more than the target
///   (`CLIPEncoderLayer_forward`, `utils_flowcut.py`): the CLS row's head mean, two
///   normalisations (4), `+`, an L1 `norm`, `*`, and the running score (`clone` at layer 0, three
///   ops after): 9 + 21 · 11 = 240;
/// - the entropy-sized count at layers 1, 3, …, 19 (`adaptive_prune_ratio`): 11 ops and the
///   count read back (`int(r.round())`, a host sync) — 12 × 10, and one `max` more a step when
///   the crops are batched;
/// - the cut at layers 1, 3, …, 21: `topk`, `sort`, three `gather`s, `cat` (6 × 11), and one
///   `arange` a call.
///
/// The 20 CPU-only tensor ops of the count (no launch) are left out.
const FLOWCUT_ATTENTION_OPS: f64 = 5.0 * 24.0;
const FLOWCUT_SCORE_OPS: f64 = 9.0 + 21.0 * 11.0;
const FLOWCUT_COUNT_STEPS: f64 = 10.0;
const FLOWCUT_COUNT_OPS: f64 = 12.0;
const FLOWCUT_CUT_OPS: f64 = 6.0 * 11.0 + 1.0;
/// LLaVA-NeXT after CLIP (`restore_image_features_sorted` and `unpad_mask` in
/// `flowcut/llava_arch.py`): zeroed features and mask, the mask scattered, the kept crops'
/// features put back by boolean index (a host sync), the permute copies, the unpadded slices
/// and their boolean selection (another sync): 14 ops, and the crops' `4 × 576` features
/// written, read and written again.
const FLOWCUT_RESTORE_OPS: f64 = 14.0;
/// LLaVA-NeXT at the LLM's layer 1 (`modeling_llama_flowcut.py`, `prune_kwargs` at
/// `layer_idx == 1`): the text queries' attention to the visual keys and values (slices, two
/// `bmm`, scale, fp32 `softmax`, cast, means: 10), the values' mean, `compute_score` (7), `topk`,
/// `sort`, `cat` (22 in all), then the shorter sequence's states, labels, positions and mask
/// rebuilt (15).
const FLOWCUT_LLM_OPS: f64 = 37.0;

/// FlowCut inside CLIP over `n` visual tokens (`n / 576` images or crops in one tower call)
/// keeping `k` for the LLM, `a`-byte activations: its own ops. What they read is priced on the
/// stock tower's 577 tokens a layer (kilobytes to megabytes: their time is their launches).
/// The tower's layers on fewer tokens are priced with the vision stage
/// ([`flowcut_tower_tokens`], CLIP towers run whole, as LLaVA-1.5 and LLaVA-NeXT run them);
/// its projector on the kept tokens only is not (a few GFLOPs over-priced).
fn flowcut(n: f64, k: f64, a: f64) -> Vec<Kernel> {
    let crops = (n / CLIP_PATCHES).round().max(1.0);
    let tokens = crops * (CLIP_PATCHES + 1.0);
    let values = tokens * CLIP_VISION_WIDTH;
    let batched = crops > 1.0;
    let count_ops = FLOWCUT_COUNT_STEPS * (FLOWCUT_COUNT_OPS + if batched { 1.0 } else { 0.0 });
    let mut list = vec![
        torch_ops(
            "flowcut_attention_metrics",
            OpKind::Merge,
            CLIP_VISION_LAYERS * 4.0 * values,
            CLIP_VISION_LAYERS * values,
            CLIP_HEAD_DIM,
            FLOWCUT_ATTENTION_OPS,
        )
        .reads(CLIP_VISION_LAYERS * 3.0 * values * a)
        .writes(CLIP_VISION_LAYERS * (values + tokens * CLIP_HEAD_DIM) * a),
        torch_ops(
            "flowcut_scores",
            OpKind::Merge,
            22.0 * 11.0 * tokens * CLIP_HEAD_DIM,
            22.0 * tokens * CLIP_HEAD_DIM,
            CLIP_HEAD_DIM,
            FLOWCUT_SCORE_OPS + count_ops + FLOWCUT_CUT_OPS,
        )
        .reads(22.0 * (CLIP_VISION_HEADS + CLIP_HEAD_DIM) * tokens * a)
        .writes(11.0 * (k / crops + 1.0) * crops * CLIP_VISION_WIDTH * a),
    ];
    if batched {
        let features = (crops - 1.0) * CLIP_PATCHES * LLAVA_WIDTH * a;
        list.push(
            torch_ops(
                "flowcut_restore_crops",
                OpKind::Merge,
                0.0,
                (crops - 1.0) * CLIP_PATCHES * LLAVA_WIDTH,
                LLAVA_WIDTH,
                FLOWCUT_RESTORE_OPS,
            )
            .reads(2.0 * features)
            .writes(3.0 * features),
        );
    }
    list
}

/// The entropy ratio of CLIP's CLS attention FlowCut's cuts are sized by, taken as one figure
/// for every image and layer. FlowCut's Table 5 prints 1.95 TFLOPs for FlowCut and 2.03 for
/// VisionZip at 64 tokens: both feed 64 tokens to the LLM and VisionZip runs the whole tower,
/// so, read as counting the tower, FlowCut's tower does 80 GFLOPs less than the stock one;
/// 0.94 gives 78 (0.93 gives 85). Each image's own ratio sets its schedule: from 93 % of the
/// stock tower's token-layers (1.0) to 39 % (0.0).
pub const FLOWCUT_ENTROPY_RATIO: f64 = 0.94;

/// The tokens each of a CLIP tower's `layers` runs on per image under FlowCut, `patches`
/// patches plus CLS, keeping `keep` patches ([`flowcut_tower_tokens_at`] at
/// [`FLOWCUT_ENTROPY_RATIO`]).
pub fn flowcut_tower_tokens(layers: u64, patches: f64, keep: f64) -> Vec<f64> {
    flowcut_tower_tokens_at(layers, patches, keep, FLOWCUT_ENTROPY_RATIO)
}

/// FlowCut's schedule through the tower at entropy ratio `e` (`CLIPEncoder_forward` and
/// `adaptive_prune_ratio`, TungChintao/FlowCut at a2ecd24): after layer `i`, while the tower
/// holds more than `keep + 1`, with `r = layers − 3 − i` layers left to prune in, an even
/// `r > 0` cuts `round((N − keep) / √r · (1 − e²))` of the `N` patches and `r = 0` cuts to
/// `keep + 1` (Python's `round`: half to even).
fn flowcut_tower_tokens_at(layers: u64, patches: f64, keep: f64, e: f64) -> Vec<f64> {
    let target = keep + 1.0;
    let mut l = patches + 1.0;
    let mut out = Vec::with_capacity(layers as usize);
    for i in 0..layers as i64 {
        out.push(l);
        let left = layers as i64 - 3 - i;
        if l > target && left >= 0 && left % 2 == 0 {
            l = if left > 0 {
                let n = l - 1.0;
                let cut = ((n - keep) / (left as f64).sqrt() * (1.0 - e * e)).round_ties_even();
                (l - cut).max(target)
            } else {
                target
            };
        }
    }
    out
}

/// Whether `v` is the tower FlowCut's code prunes inside (LLaVA's CLIP ViT-L/14: a CLS token,
/// the layers and width its ops and schedule are counted for).
pub fn flowcut_fits_tower(v: &crate::model::VisionEncoder) -> bool {
    v.cls_token
        && v.num_layers as f64 == CLIP_VISION_LAYERS
        && v.hidden_size as f64 == CLIP_VISION_WIDTH
}

/// The width of the LLM FlowCut's LLaVA-NeXT crops are projected into (Vicuna-7B's hidden
/// size, liuhaotian/llava-v1.6-vicuna-7b config.json).
const LLAVA_WIDTH: f64 = 4096.0;

/// FlowCut's cut inside the LLM over `n` tokens (LLaVA-NeXT's layer 1) to `kept` (text and
/// visual), width `c`: [`FLOWCUT_LLM_OPS`] PyTorch ops; the kept states written once.
fn flowcut_llm_step(n: f64, kept: f64, c: f64, a: f64) -> Vec<Kernel> {
    vec![torch_ops(
        "flowcut_llm_cut",
        OpKind::Prune,
        4.0 * n * c,
        n * c,
        c,
        FLOWCUT_LLM_OPS,
    )
    .reads(2.0 * n * c * a)
    .writes(kept * c * a)]
}

/// TReVS's ops before the LLM (Physics-Coding/TReVS at 049f9c4, `trevs_router.py` called from
/// `prepare_sparse_inputs_labels_for_multimodal` in `llava_arch.py`; counted by a helper who
/// ran the code on CPU with the pinned PyTorch 2.1.2 and transformers 4.37.2, B = 1, views
/// left out): the prompt's text embedded for routing (12, three host reads), a discarded fp32
/// copy of the visual tokens (1), the text-mask check (4, a read), the CLS saliency's head mean
/// (1), both sides normalised (8), their `bmm` and clamp (2), the RMS over the text (8), two
/// median/MAD evidences (27), their fusion (7), the top-k (5) and the rest's mask (5, a read):
/// 82; then farthest-point sampling's setup (13), the loop's 9 a sampled point, the kept
/// indices merged and sorted (6, a read) and the kept tokens gathered (4).
const TREVS_SCORE_OPS: f64 = 82.0;
const TREVS_FPS_OPS: f64 = 13.0 + 6.0 + 4.0;
const TREVS_OPS_PER_POINT: f64 = 9.0;
/// The share of TReVS's kept tokens its top-k takes; farthest-point sampling picks the rest
/// (`configs/presets.json`, llava15: 96 + 32 for 128 kept, 48 + 16 for 64, 192 + 64 for 256).
const TREVS_TOP_SHARE: f64 = 0.75;

/// TReVS before the LLM over `n` projected visual tokens of width `d` keeping `k`, a prompt of
/// `t` text tokens (its relevance reads the text after the image: the whole prompt is taken,
/// a `t × n × d` product of a tenth of a GFLOP). The CLS saliency comes from the attention map
/// CLIP's eager attention writes anyway (`output_attentions`). Each sampled point compares one
/// token with the `n − top` candidates in fp32 (a product, a sum, a minimum).
fn trevs_select(n: f64, k: f64, d: f64, a: f64, t: f64) -> Vec<Kernel> {
    let top = (k * TREVS_TOP_SHARE).round();
    let points = k - top;
    let rest = n - top;
    let f = FP32_BYTES;
    vec![
        torch_ops(
            "trevs_scores",
            OpKind::Merge,
            2.0 * t * n * d + 8.0 * n * d,
            n * d,
            d,
            TREVS_SCORE_OPS,
        )
        .reads(2.0 * n * d * a + 2.0 * n * d * f + t * d * a)
        .writes(3.0 * n * d * f + t * n * f),
        torch_ops(
            "trevs_farthest_points",
            OpKind::Merge,
            2.0 * rest * top * d + 2.0 * points * rest * d,
            points * rest * d,
            d,
            TREVS_FPS_OPS + TREVS_OPS_PER_POINT * points,
        )
        .reads(n * d * (a + 2.0 * f) + 8.0 * points * rest * d + 2.0 * k * d * a)
        .writes(n * d * f + rest * top * f + 4.0 * points * rest * d + k * d * a),
    ]
}

/// PyTorch ops of TReVS's cut inside the LLM besides the look-ahead's two projections
/// (`modelling_sparse_llama.py` at 049f9c4, before the decoder layer where the counts drop,
/// the sink token off as its presets run): the layer's RMSNorm (8), RoPE and its positions'
/// maximum read back (about 13), the causal mask (6), the text queries' `bmm`, scale, fp32
/// softmax and cast (4): 33 with the projections' reshapes; the score over the highest-variance
/// half of the heads (14, a read); the cut (14, a read).
const TREVS_STEP_OPS: f64 = 61.0;
/// Ops a layer adds with TReVS on (`position_ids.max().item()` in each attention forward): 2,
/// one of them a read back to the host.
const TREVS_LAYER_OPS: f64 = 2.0;

/// TReVS's cut over `n` tokens to `kept` (`t` text tokens, `layers` decoder layers): the next
/// layer's Q and K projections run once more over all `n` (the layer then runs them again on the
/// kept tokens), the text's attention over them, the ranking and the gather; and the positions'
/// maximum read back in every layer of the forward.
fn trevs_step(d: &Dims, n: f64, kept: f64, t: f64, layers: f64) -> Vec<Kernel> {
    let c = d.h;
    let kv = d.kv_heads * d.d;
    let probs = d.heads * t * n;
    vec![
        kernel(
            "trevs_lookahead_qk",
            OpKind::Prune,
            Class::Matmul,
            2.0 * n * c * (c + kv),
            gemm(n, c + kv, c, d.a),
        )
        .weights(c * (c + kv) * d.w)
        .reads(n * c * d.a)
        .writes(n * (c + kv) * d.a)
        .launches(2.0),
        torch_ops(
            "trevs_lookahead_score",
            OpKind::Prune,
            2.0 * t * n * c + 10.0 * n * c + 5.0 * probs,
            n * c,
            c,
            TREVS_STEP_OPS,
        )
        .reads(4.0 * n * c * d.a + 2.0 * probs * FP32_BYTES + n * c * d.a)
        .writes(3.0 * n * c * d.a + probs * FP32_BYTES + kept * c * d.a),
        torch_ops(
            "trevs_position_reads",
            OpKind::Prune,
            0.0,
            n,
            n,
            TREVS_LAYER_OPS * layers,
        )
        .reads(layers * n * 8.0)
        .writes(layers * 16.0),
    ]
}

/// FastVID's defaults (LunarShen/FastVID at a40a109, `lmms_eval/models/llava_onevision.py`):
/// the minimum number of segments `c`, the share of each frame's kept tokens that are merged
/// anchors rather than salient ones `d`, and the frames an anchor frame stands for `p`.
const FASTVID_SEGMENTS: f64 = 8.0;
const FASTVID_ANCHOR_SHARE: f64 = 0.4;
const FASTVID_ANCHOR_EVERY: f64 = 4.0;
/// PyTorch ops of FastVID's compression (`Qwen2Model.forward`, `modeling_qwen2.py` lines
/// 900-1075 at a40a109, as a helper counted them, views left out) outside its loops over
/// segments, 97 in all, by the kernel that prices them: set-up and the segmentation (21, three
/// host reads: `nonzero`, `unique`, `.tolist()`), the anchor counts' buffers (3), the salient
/// tokens (3) and the rest filtered (7, a read); the distance matrix (`.float()` twice, `cdist`,
/// a scale: 9); the density peaks (18); the single-frame merge (21), its selection (8, two
/// reads) and the final gather and reorder (7).
const FASTVID_SEGMENT_OPS: f64 = 21.0 + 3.0 + 3.0 + 7.0;
const FASTVID_DISTANCE_OPS: f64 = 9.0;
const FASTVID_PEAK_OPS: f64 = 18.0;
const FASTVID_MERGE_OPS: f64 = 21.0 + 8.0 + 7.0;
/// Per segment: its anchor frames' counts (4 ops); per segment of more than one frame, its
/// merge (31 ops, nine of them host reads: boolean selections and 0-d tensors used as sizes).
const FASTVID_OPS_PER_SEGMENT: f64 = 4.0;
const FASTVID_OPS_PER_MERGED_SEGMENT: f64 = 31.0;

/// FastVID over `frames` frames of `p` tokens keeping `k` (width `d`, `a`-byte activations):
/// each frame keeps `r = k / frames` tokens, `r − ⌊0.4 r⌋` salient and the rest anchors; the
/// other `m = p − salient` tokens of each frame get an fp32 distance matrix (`m × m`, a GEMM of
/// `2 m² d` FLOPs) and density peaks; each segment's tokens are merged into its anchors through
/// a normalised copy expanded over its anchor frames. The segments depend on the video: the
/// code's minimum, eight, is taken, all of more than one frame. The fp32 GEMM is priced at the
/// 16-bit peak (the presets carry no fp32 one): under-priced by about 0.4 ms on an A100 at 32
/// frames.
fn fastvid(frames: f64, p: f64, k: f64, d: f64, a: f64) -> Vec<Kernel> {
    let f = FP32_BYTES;
    let retain = (k / frames).round();
    let salient = retain - (retain * FASTVID_ANCHOR_SHARE).floor();
    let anchors = retain - salient;
    let m = p - salient;
    let segments = FASTVID_SEGMENTS.min(frames);
    let seg_frames = frames / segments;
    let anchor_frames = (seg_frames / FASTVID_ANCHOR_EVERY).ceil();
    // The expanded copy each segment normalises: its anchor frames × its tokens × width.
    let expanded = segments * anchor_frames * seg_frames * m * d;
    let per_anchor_frame = (anchors * seg_frames / anchor_frames).floor();
    let rest = frames * m * d;
    vec![
        torch_ops(
            "fastvid_segments",
            OpKind::Merge,
            3.0 * frames * d,
            frames * d,
            d,
            FASTVID_SEGMENT_OPS + FASTVID_OPS_PER_SEGMENT * segments,
        )
        .reads(2.0 * frames * d * a + frames * p * a + frames * salient * d * a + rest * a)
        .writes(frames * salient * d * a + rest * a),
        kernel(
            "fastvid_distances",
            OpKind::Merge,
            Class::Matmul,
            2.0 * frames * m * m * d,
            gemm(m, m, d, f),
        )
        .reads(2.0 * rest * a + 2.0 * rest * f)
        .writes(2.0 * rest * f + frames * m * m * f)
        .launches(FASTVID_DISTANCE_OPS),
        torch_ops(
            "fastvid_density_peaks",
            OpKind::Merge,
            12.0 * frames * m * m,
            frames * m * m,
            m,
            FASTVID_PEAK_OPS,
        )
        .reads(8.0 * frames * m * m * f)
        .writes(4.0 * frames * m * m * f),
        torch_ops(
            "fastvid_merge",
            OpKind::Merge,
            4.0 * rest * anchors + 4.0 * expanded * per_anchor_frame + 3.0 * (rest + expanded),
            rest + expanded,
            d,
            FASTVID_MERGE_OPS + FASTVID_OPS_PER_MERGED_SEGMENT * segments,
        )
        .reads(3.0 * (rest + expanded) * a + 2.0 * k * d * a)
        .writes((rest + expanded) * a + 2.0 * k * d * a),
    ]
}

/// PyTorch ops of S²Prune's `s2prune_prefill` (yuanyuanjia71-spec/S2Prune at 9955d8a,
/// `s2prune/qwen.py`) besides its per-token loop: the visual positions (`==`, `nonzero`) and
/// their states cloned before the first layer (index, `clone`: 4); after it, their update's
/// norm (index, `-`, `.float()`, `vector_norm`: 4); the grid shape read back (`.cpu()`: 1); the
/// kept indices checked (`torch.tensor` to the GPU, `unique`, `sort`, `equal`: 4); the kept
/// positions (`index_select`, `!=` and `nonzero`, `cat`, `sort`, the ids' `index_select`, two
/// boolean selections of two ops, two `equal`s: 12); the states, mask, positions and the first
/// layer's K and V gathered (5); the shorter sequence's causal mask, rotary tables and cache
/// positions built again (13).
const S2PRUNE_OTHER_OPS: f64 = 43.0;
/// Per kept token (`select_s2prune_tokens` in `allocation.py`): its cell's candidate indices
/// copied to the GPU (`torch.tensor`), `index_select`, `argmax`, `.item()`, and the winner's
/// `.item()` — 5 ops, two of them reads back to the host.
const S2PRUNE_OPS_PER_KEPT: f64 = 5.0;

/// S²Prune after the first decoder layer over `n` tokens, `visual` of them visual, keeping
/// `kept` (width `c`, `a`-byte activations). The Laplacian allocation runs in NumPy on the
/// source image, host time aimed at no kernel: not priced.
fn s2prune_step(n: f64, visual: f64, kept: f64, c: f64, a: f64) -> Vec<Kernel> {
    vec![
        torch_ops(
            "s2prune_update_norms",
            OpKind::Prune,
            3.0 * visual * c,
            visual * c,
            c,
            S2PRUNE_OTHER_OPS,
        )
        .reads(3.0 * visual * c * a + 2.0 * n * c * a)
        .writes(2.0 * visual * c * a + visual * FP32_BYTES),
        torch_ops(
            "s2prune_cell_argmax",
            OpKind::Prune,
            visual,
            visual,
            visual,
            S2PRUNE_OPS_PER_KEPT * kept,
        )
        .reads(visual * FP32_BYTES + kept * 8.0)
        .writes(3.0 * kept * 8.0),
    ]
}

/// SparseVLM v1.0's share of the pruned visual tokens it recycles (`merge_token_num_stage1 =
/// int(pruned * 0.3) + 1`, "Top 30%") and its tokens per recycled cluster (`cluster_num =
/// int(merged / 10) + 1`): Gumpest/SparseVLMs, `modelling_sparse_llama.py`.
const SPARSEVLM_RECYCLED_SHARE: f64 = 0.3;
const SPARSEVLM_TOKENS_PER_CLUSTER: u64 = 10;

/// SparseVLM's recycling of `pruned` tokens: how many it merges and into how many clusters,
/// in the code's own integer arithmetic.
fn sparsevlm_recycled(pruned: u64) -> (u64, u64) {
    let merged = (pruned as f64 * SPARSEVLM_RECYCLED_SHARE) as u64 + 1;
    (merged, merged / SPARSEVLM_TOKENS_PER_CLUSTER + 1)
}

/// The tokens SparseVLM pruned at a layer whose visual tokens go from `before` to `after`,
/// where `after` holds the kept tokens *and* the recycled clusters: the `pruned` whose
/// clusters make up the difference (`before − after + clusters(pruned)`). `None` when no
/// count fits (a drop SparseVLM's arithmetic cannot produce).
fn sparsevlm_pruned(before: u64, after: u64) -> Option<u64> {
    (1..=after).find_map(|clusters| {
        let pruned = (before + clusters).checked_sub(after)?;
        (pruned > 0 && sparsevlm_recycled(pruned).1 == clusters).then_some(pruned)
    })
}

/// PyTorch ops of SparseVLM's `cluster_and_merge` besides the pairwise differences and their
/// norm: `/ √C`, `topk`, the density (`** 2`, `mean`, `neg`, `exp`: 4) and its noise (`rand`,
/// `* 1e-6`, `+`: 3), the mask (`>`, `type`: 2), `max`, the parent distance (`*`, `1 −`, `*`,
/// `+`, `min`: 5), the score (`*`, `topk`: 2), `index_points` (`arange`, its copy to the GPU,
/// `repeat`, the index: 4), `argmin`, the centres merging to themselves (two `arange` +
/// `expand`, two `reshape` copies of them, the store: 5), the token indices (`arange` copied to
/// the GPU), two `new_ones`, the cluster index (`arange`, `*`, `+`: 3), the weights
/// (`new_zeros`, `index_add_`, `+ 1e-6`, an index, `/`: 5) and the merge (`new_zeros`, `*`,
/// `index_add_`: 3).
const SPARSEVLM_CLUSTER_OPS: f64 = 43.0;

/// SparseVLM v1.0 at one pruning layer (Gumpest/SparseVLMs at 26a5f48:
/// `LlamaDynamicvitModel.forward`, `attn_postprocess_topk` in `score.py`, `cluster_and_merge`
/// and `batch_index_select` in `utils.py`) over `n` tokens, `heads` heads, `raters` text
/// raters, `visual` visual tokens of which `pruned` are dropped, width `c`, `a`-byte
/// activations. Its layers run attention in Python (`utils.scaled_dot_product_attention`:
/// the probabilities written out in every layer, priced by the row's `attention = "eager"`);
/// here is what the pruning layer adds to them:
/// - the head mean of those probabilities (1 op over `heads · n²`);
/// - the raters' rows over the visual columns, their mean, `zeros_like`, `topk`, the mask's
///   store and the raters' offset (6);
/// - the policy: `ones`, the scores cast and stored, the prompt and question rows set (5), and
///   `torch.where(policy == 0)` (2, a host sync);
/// - the recycled tokens picked: `torch.where` again (2), `batch_index_select` (`arange`, `*`,
///   `+`, the index: 4), `torch.where(pred == 0)` (2), their relevance indexed, `topk`, and the
///   tokens gathered (3);
/// - `cluster_and_merge` over the `m` picked: `x1 − x2` (an `m × m × C` tensor) and its `norm`
///   (2), then [`SPARSEVLM_CLUSTER_OPS`] over `m²` distances;
/// - the kept tokens: `torch.where(policy == 1)` (2), `batch_index_select`'s index arithmetic
///   (3), `pred.sum()` and the new visual count (2); the index, `cat` and positions are the
///   prune step's own gather.
fn sparsevlm_step(
    n: f64,
    heads: f64,
    raters: f64,
    visual: f64,
    pruned: u64,
    c: f64,
    a: f64,
) -> Vec<Kernel> {
    let (merged, clusters) = sparsevlm_recycled(pruned);
    let (m, p) = (merged as f64, pruned as f64);
    let scores = heads * n * n;
    let pairs = m * m;
    vec![
        torch_ops("sparsevlm_head_mean", OpKind::Prune, scores, scores, n, 1.0)
            .reads(scores * a)
            .writes(n * n * a),
        torch_ops(
            "sparsevlm_rater_topk",
            OpKind::Prune,
            2.0 * raters * visual,
            raters * visual,
            visual,
            6.0,
        )
        .reads(2.0 * raters * visual * a)
        .writes(raters * visual * a + 3.0 * visual * a),
        torch_ops("sparsevlm_policy", OpKind::Prune, 2.0 * n, n, n, 7.0)
            .reads(3.0 * n * a)
            .writes(4.0 * n * a),
        torch_ops(
            "sparsevlm_recycle_pick",
            OpKind::Prune,
            p + m,
            (p + m) * c,
            c,
            11.0,
        )
        .reads((p + m) * c * a + 4.0 * n * a)
        .writes((p + m) * c * a),
        torch_ops(
            "sparsevlm_cluster_distances",
            OpKind::Prune,
            3.0 * pairs * c,
            pairs * c,
            c,
            2.0,
        )
        .reads(2.0 * m * c * a + pairs * c * a)
        .writes(pairs * c * a + pairs * a),
        torch_ops(
            "sparsevlm_cluster_merge",
            OpKind::Prune,
            SPARSEVLM_CLUSTER_OPS * pairs + 2.0 * m * c,
            pairs,
            m,
            SPARSEVLM_CLUSTER_OPS,
        )
        .reads(SPARSEVLM_CLUSTER_OPS * pairs * a + 2.0 * m * c * a)
        .writes(SPARSEVLM_CLUSTER_OPS * pairs * a + clusters as f64 * c * a),
        torch_ops("sparsevlm_keep", OpKind::Prune, 2.0 * n, n, n, 7.0)
            .reads(2.0 * n * a)
            .writes(n * 8.0),
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
        let list = kernels(
            Selection::DivPrune,
            1152.0,
            115.0,
            1.0,
            4096.0,
            2.0,
            60,
            1.0,
        );
        let by = |name: &str| list.iter().find(|k| k.op.name == name).unwrap();
        assert_eq!(
            by("divprune_cosine").op.flops,
            2.0 * 1152.0 * 1152.0 * 4096.0
        );
        assert_eq!(by("divprune_greedy_steps").launches, 114.0);
        let total: f64 = list.iter().map(ops).sum();
        assert_eq!(total, 2.0 + 1.0 + 1.0 + 4.0 + 6.0 * 114.0 + 2.0);
        // Two prompts: twice the work and the launches.
        let two = kernels(
            Selection::DivPrune,
            1152.0,
            115.0,
            1.0,
            4096.0,
            2.0,
            60,
            2.0,
        );
        assert_eq!(two.iter().map(ops).sum::<f64>(), 2.0 * total);
    }

    /// CDPruner at Cen-Prune's 64 of 576 tokens: the text tower's 12 × (6 + 17) + 14 + 1 ops,
    /// then 3 + 4 + 14 + 4 + 16 · 64 + 3 for the selection itself.
    #[test]
    fn cdpruner_is_the_text_tower_and_sixteen_ops_per_kept_token() {
        let list = kernels(Selection::CdPruner, 576.0, 64.0, 1.0, 4096.0, 2.0, 60, 1.0);
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

    /// SparseVLM v1.0's recycling, in its own integer arithmetic, for its three LLaVA-1.5
    /// budgets (score.py: 64 → [66, 30, 17], 128 → [303, 110, 36], 192 → [300, 200, 110]): the
    /// recycled clusters stay in the visual segment and are candidates at the next stage.
    #[test]
    fn sparsevlm_recycles_as_its_code_counts() {
        for (budgets, visual) in [
            ([66u64, 30, 17], [82u64, 32, 18]),
            ([303, 110, 36], [312, 117, 39]),
            ([300, 200, 110], [309, 204, 113]),
        ] {
            let mut before = 576;
            for (keep, after) in budgets.into_iter().zip(visual) {
                let kept = keep.min(before - 1);
                let pruned = before - kept;
                assert_eq!(kept + sparsevlm_recycled(pruned).1, after, "{budgets:?}");
                // From the per-layer counts alone, the pruned tokens are recovered.
                assert_eq!(
                    sparsevlm_pruned(before, after),
                    Some(pruned),
                    "{before} → {after}"
                );
                before = after;
            }
        }
        // 510 pruned: int(153.0) + 1 = 154 merged into 16 clusters.
        assert_eq!(sparsevlm_recycled(510), (154, 16));
        // A drop no recycling produces (every count above is too few clusters).
        assert_eq!(sparsevlm_pruned(576, 1), None);
    }

    /// One pruning layer: 77 PyTorch ops of its own (the prune step's gather adds 3), and the
    /// pairwise-difference tensor of the recycled tokens, `m × m × C` values written and read.
    #[test]
    fn sparsevlm_step_is_eighty_ops_and_the_difference_tensor() {
        let list = sparsevlm_step(636.0, 32.0, 30.0, 576.0, 510, 4096.0, 2.0);
        assert_eq!(list.iter().map(ops).sum::<f64>(), 77.0);
        let by = |name: &str| list.iter().find(|k| k.op.name == name).unwrap();
        let m = 154.0;
        let d = by("sparsevlm_cluster_distances");
        assert!(d.op.store_act_bytes >= m * m * 4096.0 * 2.0);
        assert!(d.op.load_act_bytes >= m * m * 4096.0 * 2.0);
        assert_eq!(
            by("sparsevlm_head_mean").op.load_act_bytes,
            32.0 * 636.0 * 636.0 * 2.0
        );
        assert!(list.iter().all(|k| k.op.kind == OpKind::Prune));
    }

    /// VisionZip at 64 of 576: two ops in each of CLIP's 24 layers (the keys cloned and
    /// averaged over heads) and 34 for the selection, 82 in all; two prompts twice that.
    #[test]
    fn visionzip_is_two_ops_a_clip_layer_and_its_selection() {
        let list = kernels(Selection::VisionZip, 576.0, 64.0, 1.0, 4096.0, 2.0, 60, 1.0);
        assert_eq!(list.iter().map(ops).sum::<f64>(), 2.0 * 24.0 + 34.0);
        let two = kernels(Selection::VisionZip, 576.0, 64.0, 1.0, 4096.0, 2.0, 60, 2.0);
        assert_eq!(two.iter().map(ops).sum::<f64>(), 2.0 * 82.0);
        assert!(list.iter().all(|k| k.op.kind == OpKind::Merge));
    }

    /// FlowCut on one image: 120 + 240 + 10 × 12 + 67 = 547 PyTorch ops a tower call; on
    /// LLaVA-NeXT's five crops in one call one `max` more per count and 14 ops restoring the
    /// crops, and 37 at the LLM's layer 1.
    #[test]
    fn flowcut_is_547_ops_a_tower_call_and_more_for_batched_crops() {
        let one = kernels(Selection::FlowCut, 576.0, 64.0, 1.0, 4096.0, 2.0, 60, 1.0);
        assert_eq!(one.iter().map(ops).sum::<f64>(), 547.0);
        assert!(one.iter().all(|k| k.op.kind == OpKind::Merge));
        let next = kernels(Selection::FlowCut, 2880.0, 400.0, 1.0, 4096.0, 2.0, 60, 1.0);
        assert_eq!(next.iter().map(ops).sum::<f64>(), 547.0 + 10.0 + 14.0);
        let two = kernels(Selection::FlowCut, 576.0, 64.0, 1.0, 4096.0, 2.0, 60, 2.0);
        assert_eq!(two.iter().map(ops).sum::<f64>(), 2.0 * 547.0);
        let cut = flowcut_llm_step(460.0, 220.0, 4096.0, 2.0);
        assert_eq!(cut.iter().map(ops).sum::<f64>(), 37.0);
        assert!(cut.iter().all(|k| k.op.kind == OpKind::Prune));
    }

    /// FastVID at 32 frames of 196 keeping 19 a frame (608): 97 ops, 4 a segment and 31 a
    /// merged segment at the code's minimum of eight segments, 377 in all; its distance matrix
    /// is 184 × 184 a frame (196 less 12 salient tokens), `2 m² d` FLOPs each.
    #[test]
    fn fastvid_is_97_ops_and_35_a_segment() {
        let list = kernels(
            Selection::FastVid,
            6272.0,
            608.0,
            32.0,
            3584.0,
            2.0,
            120,
            1.0,
        );
        assert_eq!(list.iter().map(ops).sum::<f64>(), 97.0 + 35.0 * 8.0);
        let cdist = list
            .iter()
            .find(|k| k.op.name == "fastvid_distances")
            .unwrap();
        assert_eq!(cdist.op.flops, 2.0 * 32.0 * 184.0 * 184.0 * 3584.0);
        assert!(list.iter().all(|k| k.op.kind == OpKind::Merge));
    }

    /// TReVS at its code's 64-token preset (128 of 576 kept before the LLM: 96 by top-k, 32
    /// farthest points): 82 + 23 + 9 · 32 = 393 ops, the count a helper took by running the
    /// code (views left out); at its cut 61 ops and the two look-ahead projections, which read
    /// Q's and K's weights (64 MiB for Llama-2-7B), and two ops in each of the 32 layers.
    #[test]
    fn trevs_is_393_ops_before_the_llm_and_63_at_its_cut() {
        let before = kernels(Selection::TReVS, 576.0, 128.0, 1.0, 4096.0, 2.0, 66, 1.0);
        assert_eq!(before.iter().map(ops).sum::<f64>(), 393.0);
        assert!(before.iter().all(|k| k.op.kind == OpKind::Merge));
        let d = crate::cost::refined::layer::llama2(None);
        let step = PruneStep {
            layer: 7,
            scored_tokens: 194,
            kept_tokens: 108,
        };
        let cut = at_pruning_layer(Selection::TReVS, &d, step, 66, 32);
        assert_eq!(cut.iter().map(ops).sum::<f64>(), 63.0 + 64.0);
        let qk = cut
            .iter()
            .find(|k| k.op.name == "trevs_lookahead_qk")
            .unwrap();
        assert_eq!(qk.op.load_weight_bytes, 2.0 * 4096.0 * 4096.0 * 2.0);
        assert_eq!(qk.op.flops, 2.0 * 194.0 * 4096.0 * 8192.0);
        assert!(cut.iter().all(|k| k.op.kind == OpKind::Prune));
    }

    /// FlowCut's schedule through CLIP-L/336 at 64 tokens, as its code's integer arithmetic
    /// gives it (reproduced apart in Python from `adaptive_prune_ratio`, 2026-12-06): layers
    /// in pairs, the first pair on all 577, the last on 65; and the entropy ratio shipped
    /// puts the tower 78 GFLOPs below the stock one, the 80 of FlowCut's Table 5 to its
    /// rounding.
    #[test]
    fn flowcut_prunes_clip_in_pairs_of_layers_down_to_the_budget() {
        let at = |e| flowcut_tower_tokens_at(24, 576.0, 64.0, e);
        let pairs = |v: &[f64]| v.iter().flat_map(|&n| [n, n]).collect::<Vec<f64>>();
        assert_eq!(
            at(0.9),
            pairs(&[
                577.0, 555.0, 533.0, 511.0, 488.0, 465.0, 441.0, 416.0, 389.0, 358.0, 319.0, 65.0
            ])
        );
        assert_eq!(
            at(0.0),
            pairs(&[
                577.0, 463.0, 369.0, 293.0, 232.0, 184.0, 146.0, 117.0, 96.0, 80.0, 69.0, 65.0
            ])
        );
        // No adaptive cut at all: every layer but the last pair on 577.
        assert_eq!(at(1.0)[..22], [577.0; 22]);
        let flops = |l: f64| {
            2.0 * l * (4.0 * 1024.0f64.powi(2) + 2.0 * 1024.0 * 4096.0) + 4.0 * l * l * 1024.0
        };
        let stock = 24.0 * flops(577.0);
        let saved = stock
            - flowcut_tower_tokens(24, 576.0, 64.0)
                .into_iter()
                .map(flops)
                .sum::<f64>();
        assert!((saved / 1e9 - 78.1).abs() < 0.1, "{saved}");
    }

    /// S²Prune at 64 of 576: 43 ops around its loop and five per kept token, 363 in all.
    #[test]
    fn s2prune_is_five_ops_per_kept_token_and_its_bookkeeping() {
        let list = s2prune_step(616.0, 576.0, 64.0, 3584.0, 2.0);
        assert_eq!(list.iter().map(ops).sum::<f64>(), 43.0 + 5.0 * 64.0);
        assert!(list.iter().all(|k| k.op.kind == OpKind::Prune));
    }
}
