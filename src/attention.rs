//! How attention runs: a word the spec (`attention`, `vision_attention`), measurement rows and
//! framework profiles (the stack's vision tower) all name, so it sits below them.

use crate::choice::Choice;
use serde::{Deserialize, Serialize};

/// How attention runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttentionImpl {
    /// One fused kernel (FlashAttention-2 in `refined`, LLM-Viewer's fused operator in `llm-viewer`).
    Flash,
    /// Materialised softmax: `n²` logits written and read back.
    Eager,
}

impl Choice for AttentionImpl {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            AttentionImpl::Flash,
            "flash",
            "One fused kernel (FlashAttention-2 in refined, LLM-Viewer's fused operator in llm-viewer)",
        ),
        (
            AttentionImpl::Eager,
            "eager",
            "Materialised softmax: n² logits written and read back",
        ),
    ];
}
