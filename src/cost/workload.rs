//! What one prefill processes beyond its per-layer token counts: the visual input before
//! merging and how the pruning decisions are taken. The `llm-viewer` model reads only
//! `layer_tokens`; the refined model prices merging, vision and importance from the rest.

use crate::schedule::{Importance, VisualInput};
use serde::Serialize;

/// Which layer computes the importance behind a drop in the token count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PruneDecision {
    /// As the reference code runs (`--prune-timing code`, and every `steps`/`explicit` rule):
    /// layer `i` is a pruning layer when layer `i + 1` holds fewer tokens. It scores its own
    /// `n_i` tokens and keeps `n_{i+1}`.
    BeforeDrop,
    /// The paper's accounting (`--prune-timing paper` with the `linear` rule): layer `i` is a
    /// pruning layer when it already holds fewer tokens than layer `i - 1`; it scores and keeps
    /// its own `n_i` tokens. Not a runnable order — it prices the paper's bookkeeping.
    AtDrop,
}

/// One pruning layer: where the importance is computed and over how many tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PruneStep {
    pub layer: usize,
    /// Tokens whose importance is computed (the layer's own sequence).
    pub scored_tokens: u64,
    /// Tokens gathered for the layers after the decision.
    pub kept_tokens: u64,
}

/// One prefill's workload.
#[derive(Debug, Clone, Copy)]
pub struct Workload<'a> {
    /// Sequence length of every decoder layer.
    pub layer_tokens: &'a [u64],
    /// Frames, visual tokens per frame before merging, and text tokens.
    pub input: VisualInput,
    /// Visual tokens per frame after merging (= `input.tokens_per_frame` without merging).
    pub merged_tokens_per_frame: u64,
    /// What each pruning layer computes to choose the kept tokens.
    pub importance: Importance,
    pub decision: PruneDecision,
    /// A method's own selection of the visual tokens it keeps, priced before the LLM or at its
    /// pruning layers (the baseline, which selects nothing, has none).
    pub selection: Option<crate::selection::Selection>,
}

impl<'a> Workload<'a> {
    /// Only per-layer counts are known: one "frame" of `layer_tokens[0]` tokens, no merging,
    /// pagerank importance at every drop, decisions as the code runs.
    pub(crate) fn from_layer_tokens(layer_tokens: &'a [u64]) -> Workload<'a> {
        let first = layer_tokens.first().copied().unwrap_or(0);
        Workload {
            layer_tokens,
            input: VisualInput {
                frames: 1,
                tokens_per_frame: first,
                text_tokens: 0,
            },
            merged_tokens_per_frame: first,
            importance: Importance::default(),
            decision: PruneDecision::BeforeDrop,
            selection: None,
        }
    }

    /// The pruning layers implied by the token counts and the decision convention.
    pub fn prune_steps(&self) -> Vec<PruneStep> {
        (0..self.layer_tokens.len())
            .filter_map(|i| self.prune_step(i))
            .collect()
    }

    /// Layer `i`'s pruning step, if it is a pruning layer ([`Workload::prune_steps`] without
    /// the list).
    pub fn prune_step(&self, i: usize) -> Option<PruneStep> {
        let t = self.layer_tokens;
        match self.decision {
            PruneDecision::BeforeDrop => (i + 1 < t.len() && t[i + 1] < t[i]).then(|| PruneStep {
                layer: i,
                scored_tokens: t[i],
                kept_tokens: t[i + 1],
            }),
            PruneDecision::AtDrop => {
                // Layer 0 drops from the input itself (a pruning that starts at layer 0): it
                // scores its own tokens as any other pruning layer does (its importance was
                // once left out).
                let before = match i {
                    0 => self.merged_tokens_per_frame * self.input.frames + self.input.text_tokens,
                    _ => *t.get(i - 1)?,
                };
                (i < t.len() && t[i] < before).then(|| PruneStep {
                    layer: i,
                    scored_tokens: t[i],
                    kept_tokens: t[i],
                })
            }
        }
    }

    /// Whether merging runs before the LLM: a schedule that merges, on an input with frames
    /// to merge (a text-only prompt launches no merge kernel, so pays no launch cost for one).
    pub fn merges(&self) -> bool {
        self.input.frames > 0 && self.merged_tokens_per_frame < self.input.tokens_per_frame
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pruning_layers_under_both_conventions() {
        // AIM default, code timing: 1668 up to layer 14, then 1472 from layer 15.
        let code = [1668, 1668, 1472, 1276, 100, 100];
        let w = Workload::from_layer_tokens(&code);
        let steps = w.prune_steps();
        assert_eq!(
            steps.iter().map(|s| s.layer).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!((steps[0].scored_tokens, steps[0].kept_tokens), (1668, 1472));
        let paper = [1668, 1472, 1276, 100, 100, 100];
        let w = Workload {
            decision: PruneDecision::AtDrop,
            ..Workload::from_layer_tokens(&paper)
        };
        let steps = w.prune_steps();
        assert_eq!(
            steps.iter().map(|s| s.layer).collect::<Vec<_>>(),
            vec![1, 2, 3]
        );
        assert_eq!((steps[0].scored_tokens, steps[0].kept_tokens), (1472, 1472));
    }
}
