//! A token-reduction method's own choice of the visual tokens it keeps, priced as its released
//! code runs it: the work, before the LLM or at its pruning layers, that the kept-token counts
//! alone do not carry. A word the spec (`selection`) and measurement rows name, so it sits
//! below them.

use crate::choice::Choice;
use serde::{Deserialize, Serialize};

/// A method whose selection is priced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Selection {
    /// DivPrune (CVPR 2025; vbdi/divprune, `DivPrune` in `llava_arch.py`): a cosine-distance
    /// matrix over the candidate tokens, then a greedy max-min loop of one PyTorch step per
    /// kept token.
    #[serde(rename = "divprune")]
    DivPrune,
    /// CDPruner (Theia-4869/CDPruner, `encode_images` in `llava_arch.py` and
    /// `clip_encoder.py`): CLIP's text tower on the prompt for relevance scores, a
    /// relevance-weighted similarity kernel, then a greedy DPP loop of one step per kept token.
    #[serde(rename = "cdpruner")]
    CdPruner,
    /// SparseVLM v1.0 (Gumpest/SparseVLMs, `LlamaDynamicvitModel.forward` in
    /// `modelling_sparse_llama.py`, with `score.py` and `utils.py`): inside the LLM, at each
    /// layer where `layer_tokens` drops, the text raters' attention over the visual tokens,
    /// a top-k, and the pruned tokens' most relevant 30 % clustered into recycled tokens
    /// (`cluster_and_merge`).
    #[serde(rename = "sparsevlm")]
    SparseVlm,
    /// VisionZip (dvlab-research/VisionZip, `visionzip/clip_encoder.py` and `utils.py`): CLIP
    /// run with its attention maps returned and every layer's keys averaged over heads, then
    /// dominant tokens by the CLS row's attention and contextual ones merged by key
    /// similarity.
    #[serde(rename = "visionzip")]
    VisionZip,
    /// S²Prune (yuanyuanjia71-spec/S2Prune, `s2prune_prefill` in `s2prune/qwen.py` and
    /// `select_s2prune_tokens` in `allocation.py`): after the first decoder layer, each visual
    /// token's residual-update norm, then one `argmax` per kept token over its cell of a
    /// Laplacian-weighted grid, each read back to the host.
    #[serde(rename = "s2prune")]
    S2Prune,
    /// FlowCut (TungChintao/FlowCut, `flowcut/modeling_clip_flowcut.py` and
    /// `utils_flowcut.py`): inside CLIP, every layer's CLS-value attention and a score after
    /// each of the first 22 layers, an entropy-sized cut at every second one (each read back
    /// to the host), the budget forced after layer 21; on LLaVA-NeXT its crops are restored
    /// around the projector and a second cut runs at the LLM's layer 1.
    #[serde(rename = "flowcut")]
    FlowCut,
    /// TReVS (Physics-Coding/TReVS, `trevs_router.py` with `llava_arch.py` and
    /// `modelling_sparse_llama.py`): after the projector, each visual token's CLIP CLS
    /// saliency and its cosine relevance to the prompt's embedded text, a top-k of three
    /// quarters of the kept tokens and farthest-point sampling of the rest (one PyTorch step per
    /// point); before the layer where the counts drop, that layer's norm, Q and K run once more
    /// over the sequence so the text's attention can rank the visual tokens; and with TReVS on,
    /// every layer reads the largest position back to the host.
    #[serde(rename = "trevs")]
    TReVS,
    /// FastVID (LunarShen/FastVID, `Qwen2Model.forward` in LLaVA-NeXT's `modeling_qwen2.py`):
    /// at the start of the LLM's forward, the video cut into segments by its frames' global
    /// features, each frame's salient tokens by the SigLIP head's attention, and the rest
    /// merged into density-peak anchors per segment (a Python loop over the segments).
    #[serde(rename = "fastvid")]
    FastVid,
}

impl Selection {
    /// Whether the method selects inside the LLM (at the layers where `layer_tokens` drops),
    /// not between the projector and the LLM.
    pub fn inside_llm(self) -> bool {
        matches!(self, Selection::SparseVlm | Selection::S2Prune)
    }
}

impl Choice for Selection {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Selection::DivPrune,
            "divprune",
            "DivPrune's greedy max-min diversity selection (a cosine matrix, then six PyTorch ops per kept token)",
        ),
        (
            Selection::CdPruner,
            "cdpruner",
            "CDPruner's conditional DPP (CLIP's text tower, a similarity kernel, then 16 PyTorch ops per kept token)",
        ),
        (
            Selection::SparseVlm,
            "sparsevlm",
            "SparseVLM's scoring and token recycling at each layer where the per-layer token counts drop (80 PyTorch ops and a pairwise-distance tensor per pruning layer)",
        ),
        (
            Selection::VisionZip,
            "visionzip",
            "VisionZip's dominant and contextual tokens (every CLIP layer's keys averaged, then 34 PyTorch ops with five host syncs)",
        ),
        (
            Selection::S2Prune,
            "s2prune",
            "S²Prune's selection where the per-layer token counts drop (residual-update norms, then five PyTorch ops and two host reads per kept token)",
        ),
        (
            Selection::FlowCut,
            "flowcut",
            "FlowCut's information-flow scoring inside CLIP (547 PyTorch ops a tower call, ten of them host reads; on LLaVA-NeXT the crops restored and a second cut at the LLM's layer 1)",
        ),
        (
            Selection::TReVS,
            "trevs",
            "TReVS's saliency-and-relevance top-k with farthest-point sampling before the LLM (105 PyTorch ops and nine per sampled token), its look-ahead Q·K where the counts drop (63 ops), and a host read of the positions in every layer",
        ),
        (
            Selection::FastVid,
            "fastvid",
            "FastVID's segmentation, salient tokens and density-peak merging before the first decoder layer (97 PyTorch ops and 35 per segment, eight segments taken; an fp32 distance matrix per frame)",
        ),
    ];
}
