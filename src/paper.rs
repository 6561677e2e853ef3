//! The AIM paper's printed efficiency rows (`reference/paper-cases.toml`), as data: the
//! settings of each row and the figures it printed. `aim-sim reproduce` runs each row as a
//! [`Spec`] ([`Case::spec`]); the tests also run it through the real command line
//! ([`Case::cli_args`]).

use crate::cost::CostModelKind;
use crate::schedule::PruneTiming;
use crate::spec::Spec;
use serde::Deserialize;

/// The embedded table of cases.
pub(crate) const CASES_TOML: &str = include_str!("../reference/paper-cases.toml");

/// One printed row and the settings that produce it.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Case {
    pub id: String,
    pub setting: String,
    pub model: String,
    pub frames: u64,
    pub text_tokens: u64,
    #[serde(default)]
    pub merge_tokens_per_frame: Option<u64>,
    #[serde(default)]
    pub prune_start: Option<u64>,
    #[serde(default)]
    pub prune_end: Option<u64>,
    #[serde(default)]
    pub prune_step: Option<f64>,
    pub skip_mlp_add: bool,
    /// As printed in the paper (rounded).
    pub paper_tflops: f64,
    pub paper_ms: f64,
    /// What the LLM-Viewer formulas give, to 4 (TFLOPs) and 3 (ms) decimals.
    pub exact_tflops: f64,
    pub exact_ms: f64,
}

#[derive(Deserialize)]
struct File {
    case: Vec<Case>,
}

/// All cases, in the paper's order.
pub fn cases() -> Vec<Case> {
    toml::from_str::<File>(CASES_TOML)
        .expect("reference/paper-cases.toml is valid (checked by tests)")
        .case
}

impl Case {
    /// The spec that reproduces this row (paper's A100, llm-viewer, paper timing).
    pub fn spec(&self) -> Spec {
        Spec {
            model: self.model.as_str().into(),
            gpu: "a100".into(),
            cost_model: CostModelKind::LlmViewer,
            prune_timing: Some(PruneTiming::Paper),
            schedule: "none".into(),
            frames: Some(self.frames),
            text_tokens: self.text_tokens,
            merge_tokens_per_frame: self.merge_tokens_per_frame,
            prune_start: self.prune_start,
            prune_end: self.prune_end,
            prune_step: self.prune_step,
            skip_mlp_add: self.skip_mlp_add,
            ..Spec::default()
        }
    }

    /// The `aim-sim` flags that reproduce this row (paper's A100, llm-viewer, paper timing).
    pub fn cli_args(&self) -> Vec<String> {
        let mut a: Vec<String> = [
            "--model",
            &self.model,
            "--gpu",
            "a100",
            "--cost-model",
            "llm-viewer",
            "--prune-timing",
            "paper",
            "--schedule",
            "none",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let mut push = |flag: &str, value: String| {
            a.push(flag.to_string());
            a.push(value);
        };
        push("--frames", self.frames.to_string());
        push("--text-tokens", self.text_tokens.to_string());
        if let Some(k) = self.merge_tokens_per_frame {
            push("--merge-tokens-per-frame", k.to_string());
        }
        if let (Some(s), Some(e)) = (self.prune_start, self.prune_end) {
            push("--prune-start", s.to_string());
            push("--prune-end", e.to_string());
        }
        if let Some(step) = self.prune_step {
            push("--prune-step", step.to_string());
        }
        if self.skip_mlp_add {
            a.push("--skip-mlp-add".into());
        }
        a
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn twenty_cases_parse() {
        let cases = super::cases();
        assert_eq!(cases.len(), 20);
        assert!(cases
            .iter()
            .all(|c| c.exact_tflops > 0.0 && c.exact_ms > 0.0));
    }
}
