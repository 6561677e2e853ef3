//! Work before the first decoder layer: the vision encoder, pooling and projector
//! (`--include-vision`), then AIM's per-frame token merging.

use super::kernel::{kernel, Call, Class, Kernel, MergeStep};
use super::layer::FP32_BYTES;
use crate::cost::{Each, OpKind, Sink};
use crate::model::VisionEncoder;

/// Bytes of an int64 index.
const INDEX_BYTES: f64 = 8.0;
/// LayerNorm FLOPs per element: mean, subtract, square, mean, scale, weight, bias
/// (the 7 llm-viewer charges for a norm).
pub(super) const LAYERNORM_FLOPS: f64 = 7.0;
/// GELU (tanh form, SigLIP's `gelu_pytorch_tanh`; CLIP's quick-GELU is cheaper) per element:
/// cube, two multiplies, add, tanh, add, two multiplies.
pub(super) const GELU_FLOPS: f64 = 8.0;
/// Pixels of one patch: 3 channels × 14 × 14 (both presets' encoders use 14-pixel patches).
const PATCH_PIXELS: f64 = 3.0 * 14.0 * 14.0;
/// Bilinear interpolation per output element: four weighted taps.
const BILINEAR_FLOPS: f64 = 8.0;

/// One bipartite-soft-matching pass on frames of `tokens` tokens removing `r` of them.
/// paper-cases.md, "Merging in the code": L2-normalise; A = even, B = odd positions; cosine
/// similarity A·Bᵀ; each A token's best B; sort A by that score; the top `r` are
/// scatter-averaged into their B match; output = unmerged A then B.
fn merge_pass(frames: f64, tokens: u64, r: u64, h: f64, a: f64, ops: &mut impl Sink<Kernel>) {
    let t = tokens as f64;
    let set_a = tokens.div_ceil(2) as f64;
    let set_b = (tokens / 2) as f64;
    let r = r as f64;
    let x = t * h * a;
    let sim = set_a * set_b;
    // One call of kernels/merge.cu's pass per step (the GPU runs the five as one pass).
    let call = |step: MergeStep| Call::Merge {
        step,
        frames,
        tokens_per_frame: t,
        merged: r,
        hidden: h,
    };
    let pass = [
        kernel(
            "merge_normalize",
            OpKind::Merge,
            Class::Elementwise,
            3.0 * t * h,
            call(MergeStep::Normalize),
        )
        .reads(x)
        .writes(x),
        kernel(
            "merge_similarity",
            OpKind::Merge,
            Class::Matmul,
            2.0 * sim * h,
            call(MergeStep::Similarity),
        )
        .reads(x)
        .writes(sim * a),
        kernel(
            "merge_best_match",
            OpKind::Merge,
            Class::Elementwise,
            sim,
            call(MergeStep::BestMatch),
        )
        .reads(sim * a)
        .writes(set_a * (a + INDEX_BYTES)),
        kernel(
            "merge_sort",
            OpKind::Merge,
            Class::Elementwise,
            set_a * set_a.log2().max(1.0),
            call(MergeStep::Sort),
        )
        .reads(set_a * a)
        .writes(set_a * INDEX_BYTES),
        // Sum r A tokens into their B matches, divide the B tokens by their counts, copy
        // the unmerged A tokens.
        kernel(
            "merge_scatter_mean",
            OpKind::Merge,
            Class::Elementwise,
            (r + set_b) * h,
            call(MergeStep::ScatterMean),
        )
        .reads(x + set_a * INDEX_BYTES)
        .writes((t - r) * h * a),
    ];
    // Every frame's work in one launch per operator: the kernels batch over frames
    // (kernels/merge.cu), so launch overhead is paid once per pass, not once per frame.
    ops.push_all(pass.into_iter().map(|k| k.times(frames).launches(1.0)));
}

/// Per-frame merging of `frames` frames from `from` to `to` tokens of width `h`: passes of
/// `r = min(t − to, ⌊t/2⌋)` (at most half the tokens per pass, so 196 → 98 → 49).
pub fn merge(frames: u64, from: u64, to: u64, h: f64, a: f64, ops: &mut impl Sink<Kernel>) {
    let mut t = from;
    while t > to && t >= 2 {
        let r = (t - to).min(t / 2);
        merge_pass(frames as f64, t, r, h, a, ops);
        t -= r;
    }
}

/// Vision encoder over `images` frames/crops, then pooling to `tokens_per_image` and the
/// two-layer GELU projector to the LLM width `llm_h` (LLaVA-NeXT `encode_images` projects
/// before `get_2dPool` pools). Layers are identical, so each operator is one entry for all
/// layers. `run`: fused non-causal attention (and its cache), else eager with `p²` maps.
/// `layer_seq`: the tokens each layer runs on per image when a method prunes inside the
/// tower (FlowCut), one entry per layer; `None`, every layer on all of them.
#[allow(clippy::too_many_arguments)] // the shapes, then where the kernels go
pub fn vision(
    v: &VisionEncoder,
    images: u64,
    tokens_per_image: u64,
    llm_h: f64,
    a: f64,
    w: f64,
    run: super::layer::AttentionRun,
    layer_seq: Option<&[f64]>,
    ops: &mut impl Sink<Kernel>,
) {
    let u = images as f64;
    let patches = v.patches_per_frame as f64;
    let p = patches + if v.cls_token { 1.0 } else { 0.0 };
    let (hv, iv, heads) = (
        v.hidden_size as f64,
        v.intermediate_size as f64,
        v.num_heads as f64,
    );
    // Runs of layers on one sequence length: (tokens per image, layers).
    let mut runs: Vec<(f64, f64)> = Vec::new();
    match layer_seq {
        Some(seq) => {
            for &n in seq {
                match runs.last_mut() {
                    Some((m, count)) if *m == n => *count += 1.0,
                    _ => runs.push((n, 1.0)),
                }
            }
        }
        None => runs.push((p, v.num_layers as f64)),
    }
    let lin = |name: &'static str, rows: f64, input: f64, output: f64| {
        super::vision::lin(name, rows, input, output, a, w)
    };
    let elementwise = |name: &'static str, elems: f64, width: f64, flops: f64, reads: f64| {
        let call = Call::Elementwise {
            elements: elems,
            width,
            count: 1.0,
        };
        kernel(
            name,
            OpKind::Vision,
            Class::Elementwise,
            flops * elems,
            call,
        )
        .reads(reads * elems * a)
        .writes(elems * a)
    };
    ops.push(lin("vision_patch_embed", u * patches, PATCH_PIXELS, hv));
    // Per layer: LN, q/k/v (with biases), attention, o, residual, LN, fc1, GELU, fc2, residual.
    for (p, layers) in runs {
        let tok = u * p;
        let mut layer = Each(|k: Kernel| ops.push(k.times(layers)));
        layer.push(
            elementwise("vision_layernorm", tok * hv, hv, LAYERNORM_FLOPS, 1.0)
                .weights(2.0 * hv * w)
                .times(2.0),
        );
        layer.push(lin("vision_qkv_proj", tok, hv, hv).times(3.0));
        for k in
            super::vision::attention(&super::vision::FULL, &vec![(u, p)], 1.0, hv, heads, a, run)
        {
            layer.push(k);
        }
        layer.push(lin("vision_out_proj", tok, hv, hv));
        layer.push(elementwise("vision_residual", tok * hv, hv, 1.0, 2.0).times(2.0));
        layer.push(lin("vision_fc1", tok, hv, iv));
        layer.push(elementwise("vision_gelu", tok * iv, iv, GELU_FLOPS, 1.0));
        layer.push(lin("vision_fc2", tok, iv, hv));
    }
    // Projector on the patch tokens (CLS dropped), then pooling in the LLM width.
    let rows = u * patches;
    let ph = v.projector_hidden as f64;
    ops.push(lin("projector_fc1", rows, hv, ph));
    ops.push(elementwise(
        "projector_gelu",
        rows * ph,
        ph,
        GELU_FLOPS,
        1.0,
    ));
    ops.push(lin("projector_fc2", rows, ph, llm_h));
    let pooled = (u * tokens_per_image as f64).min(rows);
    if pooled < rows {
        ops.push(
            kernel(
                "pool_2x2_bilinear",
                OpKind::Vision,
                Class::Elementwise,
                BILINEAR_FLOPS * pooled * llm_h,
                Call::Elementwise {
                    elements: pooled * llm_h,
                    width: llm_h,
                    count: 1.0,
                },
            )
            .reads(rows * llm_h * a)
            .writes(pooled * llm_h * a),
        );
    }
}

/// Parameters of the encoder and projector (weights + biases + position embeddings).
pub fn vision_params(v: &VisionEncoder, llm_h: f64) -> f64 {
    let (hv, iv) = (v.hidden_size as f64, v.intermediate_size as f64);
    let p = (v.patches_per_frame + u64::from(v.cls_token)) as f64;
    let layer = 4.0 * (hv * hv + hv) + (hv * iv + iv) + (iv * hv + hv) + 4.0 * hv;
    let ph = v.projector_hidden as f64;
    v.num_layers as f64 * layer
        + (PATCH_PIXELS * hv + hv)
        + p * hv
        + (hv * ph + ph)
        + (ph * llm_h + llm_h)
}

/// Largest live activation of the encoder (bytes): the residual stream twice plus either the
/// eager attention maps (logits + fp32 softmax) or the MLP hidden.
pub fn vision_activation_bytes(v: &VisionEncoder, images: u64, a: f64, flash: bool) -> f64 {
    let u = images as f64;
    let p = (v.patches_per_frame + u64::from(v.cls_token)) as f64;
    let (hv, iv, heads) = (
        v.hidden_size as f64,
        v.intermediate_size as f64,
        v.num_heads as f64,
    );
    let stream = 2.0 * u * p * hv * a;
    let attn = if flash {
        3.0 * u * p * hv * a
    } else {
        u * heads * p * p * (a + FP32_BYTES)
    };
    stream + attn.max(u * p * iv * a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aim_merge_is_two_passes_per_frame() {
        // 196 → 98 → 49: similarity 98×98 then 49×49 per frame, width h.
        let merged = |frames, from, to, h| {
            let mut ops = Vec::new();
            merge(frames, from, to, h, 2.0, &mut ops);
            ops
        };
        let ops = merged(32, 196, 49, 3584.0);
        let sims: Vec<f64> = ops
            .iter()
            .filter(|k| k.op.name == "merge_similarity")
            .map(|k| k.op.flops)
            .collect();
        assert_eq!(
            sims,
            vec![
                32.0 * 2.0 * 98.0 * 98.0 * 3584.0,
                32.0 * 2.0 * 49.0 * 49.0 * 3584.0
            ]
        );
        assert!(merged(32, 196, 196, 3584.0).is_empty());
        // 196 → 24: passes of 98, 49, 24, then 1.
        let passes = merged(1, 196, 24, 8.0)
            .iter()
            .filter(|k| k.op.name == "merge_sort")
            .count();
        assert_eq!(passes, 4);
    }
}
