//! A token-reduction method's own choice of the visual tokens it keeps, priced as its released
//! code runs it: the work between the projector and the LLM that the kept-token counts alone do
//! not carry. A word the spec (`selection`) and measurement rows name, so it sits below them.

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
    ];
}
