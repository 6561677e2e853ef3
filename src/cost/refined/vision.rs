//! Resolution-aware vision towers before the LLM (`--include-vision` with a `[vision.resize]`
//! rule): Qwen2.5-VL (RMSNorm, SwiGLU, window attention in most layers), Qwen3-VL (LayerNorm,
//! GELU, interpolated learned positions, DeepStack mergers), InternViT (CLS, layer scale, pixel
//! shuffle) and RICE (CLS). Every encoder pass is one attention segment — a temporal group of
//! a video, an image, or a tile — as the reference code splits them with `cu_seqlens`; window
//! layers attend within `window_size`-pixel squares of the merged grid, partial at the edges
//! (transformers `Qwen2_5_VisionTransformerPretrainedModel.get_window_index`). Then the merger
//! (`m × m` patches concatenated, normalised before or after) and the MLP projector.
//! Each operator is one entry for all layers of its kind.

use super::kernel::{kernel, Attention, Call, Class, Kernel};
use super::layer::{
    AttentionRun, EagerChain, FLASH_BLOCK_ROWS, FP32_BYTES, RMSNORM_FLOPS, ROPE_FLOPS,
    SOFTMAX_FLOPS, SWIGLU_FLOPS,
};
use super::stages::{GELU_FLOPS, LAYERNORM_FLOPS};
use crate::cost::OpKind;
use crate::model::{ProjectorNorm, VisionEncoder, VisionInput, VisionMlp, VisionNorm};

/// Bilinear resampling of the position table per output element (four taps) plus the add.
const BILINEAR_ADD_FLOPS: f64 = 9.0;

/// Attention segments of one pass: `(count, tokens)` pairs.
type Segments = Vec<(f64, f64)>;

/// The windows of one pass: the merged grid cut into `w × w` squares from the top-left corner,
/// the last row and column partial; each window holds `m²` patches per merged token.
fn windows(input: &VisionInput, v: &VisionEncoder, window_px: u64) -> Segments {
    let (patch, m) = (v.patch_size.unwrap_or(1), v.merge());
    let w = (window_px / (patch * m)).max(1);
    let chunks = |merged: u64| -> Vec<(f64, f64)> {
        let mut c = vec![((merged / w) as f64, w as f64)];
        if !merged.is_multiple_of(w) {
            c.push((1.0, (merged % w) as f64));
        }
        c.retain(|&(n, _)| n > 0.0);
        c
    };
    let rows = chunks(input.grid_h / m);
    let cols = chunks(input.grid_w / m);
    let mut segs = Vec::new();
    for &(nr, r) in &rows {
        for &(nc, c) in &cols {
            segs.push((nr * nc, r * c * (m * m) as f64));
        }
    }
    segs
}

/// The kernel names of one kind of vision attention: fused, and eager's three.
pub(super) struct AttentionNames {
    fused: &'static str,
    eager: [&'static str; 3],
}

/// Attention over the whole pass (every layer of a ViT; the full layers of a windowed tower).
pub(super) const FULL: AttentionNames = AttentionNames {
    fused: "vision_attention",
    eager: ["vision_qk_matmul", "vision_softmax", "vision_sv_matmul"],
};

/// Attention within windows (Qwen2.5-VL's window layers).
const WINDOW: AttentionNames = AttentionNames {
    fused: "vision_window_attention",
    eager: [
        "vision_window_qk_matmul",
        "vision_window_softmax",
        "vision_window_sv_matmul",
    ],
};

/// Bidirectional attention over `segments` in each of `passes` passes, width `hv`, `heads` heads.
/// Fused (FlashAttention varlen: every tile computed, K and V re-read once per 128-row query
/// block, from memory only where the cache cannot hold them, [`super::layer::L2::reread_miss`]): one kernel. Eager (LLaVA-NeXT's `SigLipAttention`, transformers' CLIP/SigLIP eager
/// path): `Q·Kᵀ` written as `heads × s²` scores by a batched GEMM, the scale, fp32 softmax
/// and cast passes of [`EagerChain`] (no mask), `P·V` reading them back: three kernels, timed
/// as GEMMs and memory-bound passes.
pub(super) fn attention(
    names: &AttentionNames,
    segments: &Segments,
    passes: f64,
    hv: f64,
    heads: f64,
    a: f64,
    run: AttentionRun,
) -> Vec<Kernel> {
    let dv = hv / heads;
    let per_score = 4.0 * dv + SOFTMAX_FLOPS;
    let pairs: f64 = segments.iter().map(|&(n, s)| n * s * s).sum::<f64>() * passes;
    let tok: f64 = segments.iter().map(|&(n, s)| n * s).sum::<f64>() * passes;
    let sequences: f64 = segments.iter().map(|&(n, _)| n).sum::<f64>() * passes;
    let call = |variant: Attention| Call::Attention {
        variant,
        // Segments differ in length (windows at the edges): their mean.
        tokens: if sequences > 0.0 {
            tok / sequences
        } else {
            0.0
        },
        sequences,
        heads,
        kv_heads: heads,
        head_dim: dv,
    };
    let q_o = tok * hv * a;
    if let AttentionRun::Flash(l2) = run {
        let kv_rows: f64 = segments
            .iter()
            .map(|&(n, s)| {
                let blocks = (s / FLASH_BLOCK_ROWS as f64).ceil();
                let miss = l2.map_or(1.0, |l2| {
                    l2.reread_miss(blocks, 2.0 * s * dv * a, n * passes, heads, heads)
                });
                n * s * (1.0 + miss * (blocks - 1.0).max(0.0))
            })
            .sum::<f64>()
            * passes;
        return vec![kernel(
            names.fused,
            OpKind::Vision,
            Class::Attention,
            per_score * pairs * heads,
            call(Attention::Bidirectional),
        )
        .reads(q_o + 2.0 * kv_rows * hv * a)
        .writes(q_o + tok * heads * FP32_BYTES)];
    }
    let scores = heads * pairs;
    let gemm = 2.0 * dv * scores;
    let chain = EagerChain::new(a, false);
    let [qk, softmax, sv] = names.eager;
    vec![
        kernel(
            qk,
            OpKind::Vision,
            Class::Matmul,
            gemm,
            call(Attention::EagerScores),
        )
        .reads(2.0 * q_o)
        .writes(scores * a),
        kernel(
            softmax,
            OpKind::Vision,
            Class::Elementwise,
            chain.flops_per_score * scores,
            call(Attention::EagerSoftmax),
        )
        .reads(chain.reads_per_score * scores)
        .writes(chain.writes_per_score * scores)
        .launches(chain.launches),
        kernel(
            sv,
            OpKind::Vision,
            Class::Matmul,
            gemm,
            call(Attention::EagerValues),
        )
        .reads(scores * a + q_o)
        .writes(q_o),
    ]
}

/// `y = x·W + b` over `rows` rows (vision encoder and projector).
pub(super) fn lin(
    name: &'static str,
    rows: f64,
    input: f64,
    output: f64,
    a: f64,
    w: f64,
) -> Kernel {
    let params = input * output + output;
    let call = Call::Gemm {
        m: rows,
        n: output,
        k: input,
        bias: true,
        act_bits: Call::bits(a),
        weight_bits: Call::bits(w),
        count: 1.0,
    };
    kernel(
        name,
        OpKind::Vision,
        Class::Matmul,
        2.0 * params * rows,
        call,
    )
    .weights(params * w)
    .reads(rows * input * a)
    .writes(rows * output * a)
}

/// One pass over `elems` elements: `flops` each, `reads` inputs of that size, one output
/// (launched as one flat row).
fn elementwise(name: &'static str, elems: f64, flops: f64, reads: f64, a: f64) -> Kernel {
    let call = Call::Elementwise {
        elements: elems,
        width: elems,
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
}

/// A norm over `rows × width`: LayerNorm (weight and bias) or RMSNorm (weight).
fn norm(name: &'static str, kind: VisionNorm, rows: f64, width: f64, a: f64, w: f64) -> Kernel {
    let (flops, params) = match kind {
        VisionNorm::Layernorm => (LAYERNORM_FLOPS, 2.0),
        VisionNorm::Rmsnorm => (RMSNORM_FLOPS, 1.0),
    };
    let mut k = elementwise(name, rows * width, flops, 1.0, a).weights(params * width * w);
    k.call = Call::Elementwise {
        elements: rows * width,
        width,
        count: 1.0,
    };
    k
}

/// Shapes every builder below uses.
struct Tower<'a> {
    v: &'a VisionEncoder,
    /// Encoder passes (frames × tiles × batch).
    passes: f64,
    /// Patch tokens of one pass, and with the CLS token.
    patches: f64,
    seq: f64,
    hv: f64,
    iv: f64,
    heads: f64,
    m2: f64,
}

impl<'a> Tower<'a> {
    fn new(v: &'a VisionEncoder, input: &VisionInput, frames: u64) -> Tower<'a> {
        let patches = input.patches_per_pass() as f64;
        Tower {
            v,
            passes: (frames * input.passes_per_frame) as f64,
            patches,
            seq: patches + if v.cls_token { 1.0 } else { 0.0 },
            hv: v.hidden_size as f64,
            iv: v.intermediate_size as f64,
            heads: v.num_heads as f64,
            m2: (v.merge() * v.merge()) as f64,
        }
    }

    /// Tokens through the encoder layers.
    fn tokens(&self) -> f64 {
        self.passes * self.seq
    }

    /// Merged tokens out of the merger (per all passes).
    fn merged(&self) -> f64 {
        self.passes * self.patches / self.m2
    }
}

/// A merger + MLP projector (`prefix` names the main one or a DeepStack one) from the patch
/// tokens to `llm_h`.
fn projector(
    t: &Tower,
    names: [&'static str; 4],
    norm_at: ProjectorNorm,
    llm_h: f64,
    a: f64,
    w: f64,
) -> Vec<Kernel> {
    let v = t.v;
    let rows = t.merged();
    let wide = t.m2 * t.hv;
    let ph = v.projector_hidden as f64;
    let mut ops = Vec::new();
    match norm_at {
        ProjectorNorm::Pre => ops.push(norm(names[0], v.norm, t.passes * t.patches, t.hv, a, w)),
        ProjectorNorm::Post => ops.push(norm(names[0], VisionNorm::Layernorm, rows, wide, a, w)),
        ProjectorNorm::None => {}
    }
    ops.push(lin(names[1], rows, wide, ph, a, w));
    ops.push(elementwise(names[2], rows * ph, GELU_FLOPS, 1.0, a));
    ops.push(lin(names[3], rows, ph, llm_h, a, w));
    ops
}

/// The tower over `frames` LLM frames (times the batch) of `input`, then the merger and
/// projector to the LLM width `llm_h`. `run`: fused attention (and its cache) or eager.
pub fn tower(
    v: &VisionEncoder,
    input: &VisionInput,
    frames: u64,
    llm_h: f64,
    a: f64,
    w: f64,
    run: AttentionRun,
) -> Vec<Kernel> {
    let t = Tower::new(v, input, frames);
    let (hv, iv, tok) = (t.hv, t.iv, t.tokens());
    let layers = v.num_layers as f64;
    let patch = v.patch_size.unwrap_or(1) as f64;
    let pixels = 3.0 * v.temporal() as f64 * patch * patch;
    // Conv over (temporal ×) patch pixels as a GEMM (Conv3d in Qwen: an image is repeated to
    // fill the temporal patch, so its FLOPs are those of a video patch).
    let mut ops = vec![lin(
        "vision_patch_embed",
        t.passes * t.patches,
        pixels,
        hv,
        a,
        w,
    )];
    if let Some(table) = v.position_embeddings {
        ops.push(
            elementwise(
                "vision_pos_embed",
                t.passes * t.patches * hv,
                BILINEAR_ADD_FLOPS,
                1.0,
                a,
            )
            .weights(table as f64 * hv * w),
        );
    }
    // The layer's kernels other than attention, identical in every layer.
    let mut layer = vec![
        norm("vision_norm", v.norm, tok, hv, a, w).times(2.0),
        lin("vision_qkv_proj", tok, hv, 3.0 * hv, a, w),
    ];
    if v.rope_2d {
        layer.push(elementwise(
            "vision_rope",
            2.0 * tok * hv,
            ROPE_FLOPS,
            1.0,
            a,
        ));
    }
    layer.push(lin("vision_out_proj", tok, hv, hv, a, w));
    if v.layer_scale {
        layer.push(
            elementwise("vision_layer_scale", tok * hv, 1.0, 1.0, a)
                .weights(hv * w)
                .times(2.0),
        );
    }
    layer.push(elementwise("vision_residual", tok * hv, 1.0, 2.0, a).times(2.0));
    match v.mlp {
        VisionMlp::Gelu => {
            layer.push(lin("vision_fc1", tok, hv, iv, a, w));
            layer.push(elementwise("vision_gelu", tok * iv, GELU_FLOPS, 1.0, a));
            layer.push(lin("vision_fc2", tok, iv, hv, a, w));
        }
        VisionMlp::Swiglu => {
            layer.push(lin("vision_gate_proj", tok, hv, iv, a, w));
            layer.push(lin("vision_up_proj", tok, hv, iv, a, w));
            layer.push(elementwise(
                "vision_silu_mul",
                tok * iv,
                SWIGLU_FLOPS,
                2.0,
                a,
            ));
            layer.push(lin("vision_down_proj", tok, iv, hv, a, w));
        }
    }
    ops.extend(layer.into_iter().map(|k| k.times(layers)));
    // Attention: full layers over the whole pass, window layers within their windows.
    let full_layers = match v.window_size {
        Some(_) => v.full_attention_layers.len() as f64,
        None => layers,
    };
    let whole: Segments = vec![(1.0, t.seq)];
    if full_layers > 0.0 {
        ops.extend(
            attention(&FULL, &whole, t.passes, hv, t.heads, a, run)
                .into_iter()
                .map(|k| k.times(full_layers)),
        );
    }
    if let (Some(px), true) = (v.window_size, layers > full_layers) {
        let segs = windows(input, v, px);
        ops.extend(
            attention(&WINDOW, &segs, t.passes, hv, t.heads, a, run)
                .into_iter()
                .map(|k| k.times(layers - full_layers)),
        );
    }
    if v.pixel_shuffle {
        // InternVL `pixel_shuffle`: views and a permute made contiguous, one copy.
        ops.push(elementwise(
            "vision_pixel_shuffle",
            t.passes * t.patches * hv,
            0.0,
            1.0,
            a,
        ));
    }
    ops.extend(projector(
        &t,
        [
            "merger_norm",
            "projector_fc1",
            "projector_gelu",
            "projector_fc2",
        ],
        v.projector_norm,
        llm_h,
        a,
        w,
    ));
    // Qwen3-VL DeepStack: each listed layer's output through its own merger (normalised after
    // the 2×2 concatenation) and added to the LLM's hidden states at the visual positions
    // after decoder layers 0, 1, 2 — priced here, before the LLM.
    let deep = v.deepstack_layers.len() as f64;
    if deep > 0.0 {
        let rows = t.merged();
        ops.extend(
            projector(
                &t,
                [
                    "deepstack_norm",
                    "deepstack_fc1",
                    "deepstack_gelu",
                    "deepstack_fc2",
                ],
                ProjectorNorm::Post,
                llm_h,
                a,
                w,
            )
            .into_iter()
            .map(|k| k.times(deep)),
        );
        ops.push(elementwise("deepstack_add", rows * llm_h, 1.0, 2.0, a).times(deep));
    }
    ops
}

/// Parameters of the tower, merger(s) and projector.
pub fn tower_params(v: &VisionEncoder, llm_h: f64) -> f64 {
    let (hv, iv) = (v.hidden_size as f64, v.intermediate_size as f64);
    let patch = v.patch_size.unwrap_or(1) as f64;
    let norm_params = match v.norm {
        VisionNorm::Layernorm => 2.0 * hv,
        VisionNorm::Rmsnorm => hv,
    };
    let mlp = match v.mlp {
        VisionMlp::Gelu => 2.0 * hv * iv + iv + hv,
        VisionMlp::Swiglu => 3.0 * hv * iv + 2.0 * iv + hv,
    };
    let layer =
        2.0 * norm_params + 4.0 * (hv * hv + hv) + mlp + if v.layer_scale { 2.0 * hv } else { 0.0 };
    let m2 = (v.merge() * v.merge()) as f64;
    let ph = v.projector_hidden as f64;
    let head = (m2 * hv * ph + ph) + (ph * llm_h + llm_h);
    let main_norm = match v.projector_norm {
        ProjectorNorm::None => 0.0,
        ProjectorNorm::Pre => norm_params,
        ProjectorNorm::Post => 2.0 * m2 * hv,
    };
    (3.0 * v.temporal() as f64 * patch * patch * hv + hv)
        + v.position_embeddings.unwrap_or(0) as f64 * hv
        + if v.cls_token { hv } else { 0.0 }
        + v.num_layers as f64 * layer
        + main_norm
        + head
        + v.deepstack_layers.len() as f64 * (2.0 * m2 * hv + head)
}

/// Largest live activation of the tower (bytes): the residual stream twice plus the larger of
/// the attention working set (q, k, v; or eager logits + fp32 softmax of a full layer) and the
/// MLP hidden.
pub fn activation_bytes(
    v: &VisionEncoder,
    input: &VisionInput,
    frames: u64,
    a: f64,
    flash: bool,
) -> f64 {
    let t = Tower::new(v, input, frames);
    let tok = t.tokens();
    let stream = 2.0 * tok * t.hv * a;
    let attn = if flash {
        3.0 * tok * t.hv * a
    } else {
        t.passes * t.heads * t.seq * t.seq * (a + FP32_BYTES)
    };
    let mlp = match v.mlp {
        VisionMlp::Gelu => tok * t.iv * a,
        VisionMlp::Swiglu => 3.0 * tok * t.iv * a,
    };
    stream + attn.max(mlp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Media, Model};

    fn input(model: &Model, video: bool, size: &str, frames: u64) -> VisionInput {
        model
            .vision
            .as_ref()
            .unwrap()
            .input(Media {
                video,
                size: size.parse().unwrap(),
                frames,
            })
            .unwrap()
            .unwrap()
    }

    #[test]
    fn qwen25_windows_cover_the_grid_in_8x8_patch_squares() {
        let m = Model::load("qwen2.5-vl-7b").unwrap();
        let v = m.vision.as_ref().unwrap();
        // 1280x720 → 1288x728 → 92x52 patches → 46x26 merged → windows of 4x4 merged tokens:
        // rows 6 of 4 + 1 of 2, cols 11 of 4 + 1 of 2.
        let i = input(&m, false, "1280x720", 1);
        assert_eq!((i.grid_w, i.grid_h), (92, 52));
        let segs = windows(&i, v, 112);
        let tokens: f64 = segs.iter().map(|&(n, s)| n * s).sum();
        assert_eq!(tokens, (92 * 52) as f64);
        assert!(segs.contains(&(66.0, 64.0)));
        assert!(segs.contains(&(1.0, 16.0)));
        // Window layers compute far fewer scores than full ones.
        let ops = tower(v, &i, 1, 3584.0, 2.0, 2.0, AttentionRun::Flash(None));
        let f = |name: &str| ops.iter().find(|k| k.op.name == name).unwrap().op.flops;
        let per_full = f("vision_attention") / 4.0;
        let per_window = f("vision_window_attention") / 28.0;
        assert!(per_window < per_full / 50.0, "{per_window} vs {per_full}");
        // The projector turns 4784 patches into 1196 tokens of width 3584.
        let out = ops.iter().find(|k| k.op.name == "projector_fc2").unwrap();
        assert_eq!(out.op.store_act_bytes, 1196.0 * 3584.0 * 2.0);
    }

    /// The towers' parameters against the independent recount of
    /// /work/scratch/models/param_check.py (from the same config values), up to what is
    /// documented as not modelled: the patch embedding's bias is counted for every tower
    /// (Qwen2.5-VL and RICE have none: +1280, +1024), RICE's pre-LayerNorm (2·1024) and its
    /// CLS position (32) are not.
    #[test]
    fn tower_parameters_match_the_recount() {
        for (name, recount, delta) in [
            ("qwen2.5-vl-7b", 676_550_144.0, 1280.0),
            ("qwen3-vl-8b", 576_388_336.0, 0.0),
            ("qwen3-vl-30b-a3b", 538_631_408.0, 0.0),
            ("internvl3-8b", 331_552_768.0, 0.0),
            ("llava-ov-1.5-8b", 336_479_264.0, 1024.0 - 2048.0 - 32.0),
        ] {
            let m = Model::load(name).unwrap();
            let got = tower_params(m.vision.as_ref().unwrap(), m.hidden_size as f64);
            assert_eq!(got, recount + delta, "{name}");
        }
    }

    /// One pass reads every weight of the tower once per layer that uses it: the kernels'
    /// weight bytes and the parameter count (peak memory) agree.
    #[test]
    fn weights_read_match_the_parameters() {
        for name in [
            "qwen2.5-vl-7b",
            "qwen3-vl-8b",
            "internvl3-8b",
            "llava-ov-1.5-8b",
        ] {
            let m = Model::load(name).unwrap();
            let v = m.vision.as_ref().unwrap();
            let i = input(&m, false, "448x448", 1);
            let h = m.hidden_size as f64;
            let ops = tower(v, &i, 1, h, 2.0, 2.0, AttentionRun::Flash(None));
            let weights: f64 = ops.iter().map(|k| k.op.load_weight_bytes).sum::<f64>() / 2.0;
            let cls = if v.cls_token {
                v.hidden_size as f64
            } else {
                0.0
            };
            assert!(
                (weights + cls - tower_params(v, h)).abs() < 1.0,
                "{name}: {weights} vs {}",
                tower_params(v, h)
            );
        }
    }
}
