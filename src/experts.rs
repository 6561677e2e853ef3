//! How a mixture-of-experts layer runs its experts: a word the spec (`experts`), measurement
//! rows and model files (`[moe] eager_experts`, what the model's transformers code does) all
//! name, so it sits below them.

use crate::choice::Choice;
use serde::{Deserialize, Serialize};

/// How a MoE layer's routed experts are executed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExpertsImpl {
    /// Grouped GEMMs over the routed (token, expert) pairs, a few launches per layer (vLLM
    /// `fused_moe`, TensorRT-LLM, transformers v5 `grouped_mm`).
    Fused,
    /// A Python loop over the experts the layer's tokens hit: per expert a `torch.where`, a
    /// gather of its tokens, its own linear layers, the routing weight and an `index_add_`
    /// (Mixtral, Qwen2-MoE, Qwen3-MoE `SparseMoeBlock.forward`; transformers v5's `eager`
    /// experts). The first releases (Mixtral's, 4.36) looped over every expert, hit or not:
    /// at a few tokens per layer they dispatch more than this prices.
    #[default]
    Loop,
    /// Every token through every expert, two batched GEMMs over all `E` of them, the
    /// unrouted ones weighted by 0 (transformers 4.57 `Qwen3VLMoeTextExperts.forward` when not
    /// training: `hidden_states.repeat(num_experts, 1)` then `torch.bmm`; Llama 4 likewise).
    All,
}

impl Choice for ExpertsImpl {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            ExpertsImpl::Fused,
            "fused",
            "Grouped GEMMs over the routed pairs (vLLM, TensorRT-LLM, transformers grouped_mm)",
        ),
        (
            ExpertsImpl::Loop,
            "loop",
            "A Python loop over the hit experts, each expert's layers launched on their own",
        ),
        (
            ExpertsImpl::All,
            "all",
            "Every token through every expert, batched GEMMs (transformers 4.57 Qwen3-VL-MoE)",
        ),
    ];
}
