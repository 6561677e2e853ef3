//! Token-reduction schedules: how many tokens each decoder layer processes.
//!
//! A schedule has an optional `[merge]` (before the LLM, per frame) and an optional `[prune]`
//! (inside the LLM). Rules follow docs/specs/paper-cases.md (AIM's piecewise-linear
//! scheduler) and docs/specs/models-and-methods.md (FastV, PDrop, VTW ... as `steps`).

use crate::error::keys::{MERGE_KEEP_RATIO, MERGE_TOKENS_PER_FRAME, PRUNE_END, PRUNE_START};
use crate::error::{Error, Result};
use crate::presets::{self, Source};
use serde::{Deserialize, Serialize};

/// A schedule file (`schedules/*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Schedule {
    /// Shown in reports; defaults to the preset name or file stem.
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Layer indices in `[prune]` are written for a model of this depth and scaled
    /// (`round(x · L / scale_to_layers)`) to other depths. Absent: used as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scale_to_layers: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub merge: Option<Merge>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prune: Option<Prune>,
}

/// Per-frame token merging before the LLM. Exactly one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Merge {
    /// Tokens kept per frame (AIM default for LLaVA-OV: 49 of 196).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokens_per_frame: Option<u64>,
    /// Fraction kept per frame: `floor(P · keep_ratio)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keep_ratio: Option<f64>,
}

/// Pruning inside the LLM. `N` = visual tokens after merging, `T` = text tokens (always kept).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Prune {
    /// AIM's scheduler: layer `i` keeps `floor(r_i · N) + T`, `r_i = 1` for `i < start`, else
    /// `max(0, 1 - (i - start + 1) · step)`, `step = 1 / (end - start)` by default.
    Linear {
        start: u64,
        end: u64,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        step: Option<f64>,
        /// How the kept tokens are chosen [default: pagerank].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        importance: Option<Importance>,
    },
    /// Staged drops: layer `at[j]` and later keep `floor(keep[j] · N)` visual tokens.
    Steps {
        at: Vec<u64>,
        keep: Vec<f64>,
        /// How the kept tokens are chosen [default: pagerank].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        importance: Option<Importance>,
    },
    /// One keep fraction per layer: layer `i` keeps `floor(keep[i] · N)`.
    Explicit {
        keep: Vec<f64>,
        /// How the kept tokens are chosen [default: pagerank].
        #[serde(default, skip_serializing_if = "Option::is_none")]
        importance: Option<Importance>,
    },
}

/// What a pruning layer computes to decide which visual tokens survive (`importance` key of
/// `[prune]`). The refined cost model prices exactly this work at each pruning layer
/// (models-and-methods.md, "attention it needs").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Importance {
    /// AIM: attention probabilities at temperature 0.1 over all `n × n` pairs per head,
    /// 5 power iterations, root-mean-square over heads, top-k, gather.
    #[default]
    #[serde(alias = "aim")]
    Pagerank,
    /// FastV / PyramidDrop: the last query's attention row over all tokens, averaged over heads.
    #[serde(alias = "fastv", alias = "pdrop")]
    LastToken,
    /// SparseVLM: text queries' attention logits over the visual keys, averaged.
    #[serde(alias = "sparsevlm")]
    TextToVisual,
    /// No scoring (VTW, fixed positions): only the gather of the kept hidden states.
    None,
}

impl Prune {
    /// The importance the schedule names, or the default (pagerank).
    pub fn importance(&self) -> Importance {
        match self {
            Prune::Linear { importance, .. }
            | Prune::Steps { importance, .. }
            | Prune::Explicit { importance, .. } => importance.unwrap_or_default(),
        }
    }

    /// The `importance` key exactly as written (None when absent).
    pub(crate) fn importance_key(&self) -> Option<Importance> {
        match self {
            Prune::Linear { importance, .. }
            | Prune::Steps { importance, .. }
            | Prune::Explicit { importance, .. } => *importance,
        }
    }
}

/// When a pruning decision takes effect.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PruneTiming {
    /// As the AIM paper's FLOPs script counts: layer `i` already runs on its reduced count.
    Paper,
    /// As the reference code runs: the importance computed in layer `i` shrinks layer `i + 1`.
    Code,
}

impl crate::choice::Choice for PruneTiming {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            PruneTiming::Paper,
            "paper",
            "As the AIM paper's FLOPs script counts: layer i already runs on its reduced count",
        ),
        (
            PruneTiming::Code,
            "code",
            "As the reference code runs: the importance computed in layer i shrinks layer i + 1",
        ),
    ];
}

/// Largest layer index a schedule or override may name (far beyond any model; keeps layer
/// arithmetic such as `start + span` from overflowing).
pub(crate) const MAX_LAYER_INDEX: u64 = 1_000_000;

/// Smallest linear pruning step (fraction of the visual tokens per layer) a schedule may give.
pub(crate) const MIN_PRUNE_STEP: f64 = 1e-6;

/// Largest sequence a layer may hold; beyond this the input is a typo.
pub(crate) const MAX_TOKENS: u64 = 1_000_000_000;

/// "28 layers (0..27)", for errors that name a layer past the model's last.
fn layer_range(layers: u64) -> String {
    match layers {
        1 => "1 layer (layer 0)".to_string(),
        n => format!("{n} layers (0..{})", n - 1),
    }
}

/// The visual input to the LLM: `frames` frames of `tokens_per_frame` tokens each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VisualInput {
    pub frames: u64,
    pub tokens_per_frame: u64,
    pub text_tokens: u64,
}

impl VisualInput {
    /// Visual tokens before merging.
    pub fn visual_tokens(&self) -> u64 {
        self.frames * self.tokens_per_frame
    }
}

/// What a schedule does to one input on one model.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenPlan {
    /// Visual tokens per frame after merging.
    pub merged_tokens_per_frame: u64,
    /// Visual tokens entering layer 0 (`N`).
    pub merged_visual_tokens: u64,
    /// Sequence length of every layer (visual + text).
    pub layer_tokens: Vec<u64>,
}

impl Schedule {
    /// Loads a preset name or a TOML path, then checks what can be checked without a model.
    pub fn load(name_or_path: &str) -> Result<Schedule> {
        let source = presets::resolve("schedule", name_or_path, presets::SCHEDULES)?;
        Schedule::from_source(&source, name_or_path)
    }

    /// Parses and validates a schedule; `fallback_name` names it when the file does not.
    pub fn from_source(source: &Source, fallback_name: &str) -> Result<Schedule> {
        let mut s: Schedule = presets::parse_toml(source)?;
        if s.name.is_empty() {
            s.name = source
                .path
                .as_ref()
                .and_then(|p| p.file_stem())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_else(|| fallback_name.to_string());
        }
        s.validate().map_err(|message| Error::Parse {
            origin: source.origin.clone(),
            message,
        })?;
        Ok(s)
    }

    /// Checks independent of the model and input.
    pub fn validate(&self) -> Result<(), String> {
        crate::presets::check_name(&self.name)?;
        if let Some(m) = &self.merge {
            match (m.tokens_per_frame, m.keep_ratio) {
                (Some(0), _) => return Err("merge.tokens_per_frame must be at least 1".into()),
                (Some(_), None) => {}
                (None, Some(x)) if x.is_finite() && x > 0.0 && x <= 1.0 => {}
                (None, Some(x)) => {
                    return Err(format!("merge.keep_ratio = {x} must be in (0, 1]"));
                }
                _ => {
                    return Err(
                        "[merge] needs exactly one of tokens_per_frame or keep_ratio".into(),
                    );
                }
            }
        }
        let max_layers = crate::model::MAX_LAYERS;
        if let Some(s) = self.scale_to_layers {
            if s == 0 || s > max_layers {
                return Err(format!(
                    "scale_to_layers = {s} must be between 1 and {max_layers}"
                ));
            }
        }
        // Layer indices beyond any model are typos (and would overflow `start + span`).
        let layer = |key: &str, l: u64| -> Result<(), String> {
            if l > MAX_LAYER_INDEX {
                Err(format!(
                    "{key} = {l} is beyond any model's layers: give a layer index up to {MAX_LAYER_INDEX}"
                ))
            } else {
                Ok(())
            }
        };
        let fraction = |key: &str, x: f64| -> Result<(), String> {
            if x.is_finite() && (0.0..=1.0).contains(&x) {
                Ok(())
            } else {
                Err(format!("{key} = {x} must be a fraction in [0, 1]"))
            }
        };
        match &self.prune {
            None => {}
            Some(Prune::Linear {
                start, end, step, ..
            }) => {
                layer("prune start", *start)?;
                layer("prune end", *end)?;
                if end <= start {
                    return Err(format!(
                        "prune end = {end} must be greater than start = {start} (l2 > l1)"
                    ));
                }
                if let Some(s) = step {
                    // Below MIN_PRUNE_STEP a step prunes under one token in a million per
                    // layer: a typo (1e-310), not a schedule.
                    if !(s.is_finite() && *s >= MIN_PRUNE_STEP && *s <= 1.0) {
                        return Err(format!(
                            "prune step = {} must be between {MIN_PRUNE_STEP:e} and 1",
                            crate::error::bounded(*s)
                        ));
                    }
                }
            }
            Some(Prune::Steps { at, keep, .. }) => {
                if at.is_empty() && keep.is_empty() {
                    // It said "needs as many 'at' layers as 'keep' fractions (got 0 and 0)".
                    return Err(
                        "prune 'steps' has no stage: give at = [layer, ...] and keep = [fraction, ...], a keep fraction for each 'at' layer"
                            .into(),
                    );
                }
                if at.len() != keep.len() {
                    return Err(format!(
                        "prune 'steps' needs as many 'at' layers as 'keep' fractions (got {} and {})",
                        at.len(),
                        keep.len()
                    ));
                }
                if at.len() as u64 > max_layers {
                    return Err(format!(
                        "prune 'steps' has {} stages: at most {max_layers}",
                        at.len()
                    ));
                }
                if at.windows(2).any(|w| w[1] <= w[0]) {
                    return Err("prune 'at' layers must be strictly increasing".into());
                }
                for a in at {
                    layer("prune at", *a)?;
                }
                for k in keep {
                    fraction("prune keep", *k)?;
                }
            }
            Some(Prune::Explicit { keep, .. }) => {
                if keep.is_empty() || keep.len() as u64 > max_layers {
                    return Err(format!(
                        "prune 'explicit' needs one keep fraction per layer (1 to {max_layers}), got {}",
                        keep.len()
                    ));
                }
                for k in keep {
                    fraction("prune keep", *k)?;
                }
            }
        }
        Ok(())
    }

    /// Visual tokens per frame after merging a frame of `frame_tokens`.
    pub(crate) fn merged_per_frame(&self, frame_tokens: u64) -> Result<u64> {
        let Some(m) = &self.merge else {
            return Ok(frame_tokens);
        };
        let kept = match (m.tokens_per_frame, m.keep_ratio) {
            (Some(k), _) => k,
            // floor(P · x): paper-cases.md, "Merging keeps floor(196 * ratio) tokens per frame".
            (None, Some(x)) => (frame_tokens as f64 * x).floor() as u64,
            (None, None) => frame_tokens,
        };
        if kept > frame_tokens {
            return Err(Error::invalid(format!(
                "schedule '{}' merges to {kept} tokens per frame but a frame has only {frame_tokens}: lower its tokens per frame ({MERGE_TOKENS_PER_FRAME}, or merge.tokens_per_frame in a schedule file)",
                self.name
            )));
        }
        if kept == 0 {
            return Err(Error::invalid(format!(
                "schedule '{}' merges a frame of {frame_tokens} tokens to 0: raise its keep ratio ({MERGE_KEEP_RATIO}, or merge.keep_ratio in a schedule file)",
                self.name
            )));
        }
        Ok(kept)
    }

    /// Layer index `x` written for `scale_to_layers` layers, on a model of `layers` layers.
    fn scale(&self, x: u64, layers: u64) -> u64 {
        match self.scale_to_layers {
            Some(r) if r != layers => ((x as f64) * layers as f64 / r as f64).round() as u64,
            _ => x,
        }
    }

    /// The keep fraction `r_i` of every layer, before the timing shift.
    fn keep_fractions(&self, layers: u64) -> Result<Vec<f64>> {
        let n = layers as usize;
        match &self.prune {
            None => Ok(vec![1.0; n]),
            Some(Prune::Linear {
                start, end, step, ..
            }) => {
                let (l1, l2) = (self.scale(*start, layers), self.scale(*end, layers));
                if l1 >= layers {
                    return Err(Error::invalid(format!(
                        "schedule '{}' starts pruning at layer {l1} but the model has {}: lower prune start",
                        self.name,
                        layer_range(layers)
                    )));
                }
                if l2 <= l1 {
                    let why = if self.scale_to_layers.is_some_and(|r| r != layers) {
                        format!(
                            ": its window, written for {} layers, closes when scaled to this depth",
                            self.scale_to_layers.unwrap_or(layers)
                        )
                    } else {
                        String::new()
                    };
                    return Err(Error::invalid(format!(
                        "schedule '{}': prune end {l2} <= start {l1} on a {layers}-layer model{why}; give the window for this model ({PRUNE_START}, {PRUNE_END}) or a schedule without pruning",
                        self.name
                    )));
                }
                let s = step.unwrap_or(1.0 / (l2 - l1) as f64);
                // paper-cases.md: r_i = 1 for i < l1, else max(0, 1 - (i - l1 + 1) * s).
                Ok((0..layers)
                    .map(|i| {
                        if i < l1 {
                            1.0
                        } else {
                            (1.0 - (i - l1 + 1) as f64 * s).max(0.0)
                        }
                    })
                    .collect())
            }
            Some(Prune::Steps { at, keep, .. }) => {
                let mut r = vec![1.0; n];
                let mut last: Option<(u64, u64)> = None;
                for (written, k) in at.iter().zip(keep) {
                    let a = self.scale(*written, layers);
                    // Two stages scaled onto one layer: the later replaced the earlier without
                    // a word (pdrop on a 3-layer model said "keep 0.25 from layer 2, keep
                    // 0.125 from layer 2"), where the same list written unscaled is refused.
                    if let Some((before, at_before)) = last.filter(|(_, b)| *b == a) {
                        return Err(Error::invalid(format!(
                            "schedule '{}' prunes at layers {before} and {written} (written for {} layers), which both land on layer {at_before} of this {layers}-layer model, so the first stage would be lost: give prune.at for this model's depth without scale_to_layers, or a schedule with fewer stages",
                            self.name,
                            self.scale_to_layers.unwrap_or(layers)
                        )));
                    }
                    last = Some((*written, a));
                    // A step past the last layer once did nothing without a word (a 12-layer
                    // model ran `vtw`, at layer 15, as no reduction).
                    if a >= layers {
                        // A schedule that scales already: "give scale_to_layers" was no fix.
                        let fix = match self.scale_to_layers {
                            Some(r) => format!(
                                "its layers, written for {r} layers, scale past this model's last: give prune.at for this model's depth without scale_to_layers"
                            ),
                            None => "lower prune.at, or give scale_to_layers (the depth its layers are written for) so they scale".to_string(),
                        };
                        return Err(Error::invalid(format!(
                            "schedule '{}' prunes at layer {a} but the model has {}: {fix}",
                            self.name,
                            layer_range(layers)
                        )));
                    }
                    let a = a as usize;
                    for x in r.iter_mut().skip(a) {
                        *x = *k;
                    }
                }
                Ok(r)
            }
            Some(Prune::Explicit { keep, .. }) => {
                if keep.len() != n {
                    // scale_to_layers moves layer indices; a list of one fraction per layer has
                    // none to move (a user's scale_to_layers was ignored without a word).
                    let scale = if self.scale_to_layers.is_some() {
                        " (scale_to_layers moves the layers of steps and linear schedules; an explicit list is one model's and never scales)"
                    } else {
                        ""
                    };
                    return Err(Error::invalid(format!(
                        "schedule '{}' lists {} keep fractions but the model has {layers} layers: give one per layer{scale}",
                        self.name,
                        keep.len()
                    )));
                }
                Ok(keep.clone())
            }
        }
    }

    /// Sequence length of every layer for this input.
    pub fn plan(&self, layers: u64, input: &VisualInput, timing: PruneTiming) -> Result<TokenPlan> {
        let merged_per_frame = self.merged_per_frame(input.tokens_per_frame)?;
        let n = merged_per_frame * input.frames;
        let mut keep = self.keep_fractions(layers)?;
        // Only the linear rule has a decision-inside-layer-i reading; steps/explicit state
        // directly which layers hold which count (models-and-methods.md, "after layer k").
        let linear = matches!(self.prune, Some(Prune::Linear { .. }));
        if timing == PruneTiming::Code && linear {
            keep.rotate_right(1);
            keep[0] = 1.0;
        }
        // A scored pruning is decided inside the LLM, by the layer before the first it shrinks:
        // layer 0 cannot run on fewer tokens than the input (it once did, with no importance
        // priced anywhere). The paper's bookkeeping (linear, paper timing) scores in the layer
        // it shrinks, so layer 0 may hold its own decision there.
        let scored = self
            .prune
            .as_ref()
            .is_some_and(|p| p.importance() != Importance::None);
        if scored
            && keep.first().is_some_and(|&r| r < 1.0)
            && !(linear && timing == PruneTiming::Paper)
        {
            return Err(Error::invalid(format!(
                "schedule '{}' shrinks layer 0: its importance is computed from a layer's attention, so the first layer it can shrink is 1; prune from layer 1, set importance = \"none\" for a drop without scoring, or reduce before the LLM with [merge]",
                self.name
            )));
        }
        // floor(r · N): `as u64` truncates, which is the floor for every f64 (negatives and NaN
        // go to 0 either way) without a libm call per layer (issue 25: a sweep's plans).
        let layer_tokens = keep
            .iter()
            .map(|r| (r * n as f64) as u64 + input.text_tokens)
            .collect();
        Ok(TokenPlan {
            merged_tokens_per_frame: merged_per_frame,
            merged_visual_tokens: n,
            layer_tokens,
        })
    }

    /// `(l1, l2)` of a linear pruning as applied to a model of `layers` layers (scaled when the
    /// file says `scale_to_layers`); `None` for other kinds.
    pub(crate) fn linear_layers(&self, layers: u64) -> Option<(u64, u64)> {
        match &self.prune {
            Some(Prune::Linear { start, end, .. }) => {
                Some((self.scale(*start, layers), self.scale(*end, layers)))
            }
            _ => None,
        }
    }

    /// A one-line human summary of the pruning, e.g. "prune linear l1=14 l2=22".
    pub(crate) fn prune_summary(&self, layers: u64) -> String {
        match &self.prune {
            None => "no pruning".into(),
            Some(Prune::Linear {
                start, end, step, ..
            }) => {
                let (l1, l2) = (self.scale(*start, layers), self.scale(*end, layers));
                let s = step
                    .map(|s| format!(", step {}", crate::error::bounded(s)))
                    .unwrap_or_default();
                format!("prune linear l1={l1} l2={l2}{s}")
            }
            Some(Prune::Steps { at, keep, .. }) => {
                let st: Vec<String> = at
                    .iter()
                    .zip(keep)
                    .map(|(a, k)| format!("keep {k} from layer {}", self.scale(*a, layers)))
                    .collect();
                format!("prune steps: {}", st.join(", "))
            }
            Some(Prune::Explicit { .. }) => "prune explicit per layer".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linear(start: u64, end: u64, step: Option<f64>) -> Schedule {
        Schedule {
            name: "t".into(),
            description: String::new(),
            scale_to_layers: None,
            merge: Some(Merge {
                tokens_per_frame: Some(49),
                keep_ratio: None,
            }),
            prune: Some(Prune::Linear {
                start,
                end,
                step,
                importance: None,
            }),
        }
    }

    const OV: VisualInput = VisualInput {
        frames: 32,
        tokens_per_frame: 196,
        text_tokens: 100,
    };

    #[test]
    fn aim_default_matches_the_spec_sequence() {
        // llm-viewer-cost-model.md: 1668 × 14, then 1472, 1276, 1080, 884, 688, 492, 296, then 100 × 7.
        let plan = linear(14, 22, None)
            .plan(28, &OV, PruneTiming::Paper)
            .unwrap();
        let mut want = vec![1668; 14];
        want.extend([1472, 1276, 1080, 884, 688, 492, 296]);
        want.extend([100; 7]);
        assert_eq!(plan.layer_tokens, want);
        assert_eq!(plan.merged_visual_tokens, 1568);
    }

    #[test]
    fn code_timing_shifts_by_one_layer() {
        let s = linear(14, 22, None);
        let paper = s.plan(28, &OV, PruneTiming::Paper).unwrap().layer_tokens;
        let code = s.plan(28, &OV, PruneTiming::Code).unwrap().layer_tokens;
        assert_eq!(code[0], 1668);
        assert_eq!(&code[1..], &paper[..27]);
        assert_eq!(code[14], 1668);
        assert_eq!(code[15], 1472);
    }

    #[test]
    fn steps_and_explicit() {
        let s = Schedule {
            prune: Some(Prune::Steps {
                at: vec![2],
                keep: vec![0.5],
                importance: Some(Importance::LastToken),
            }),
            merge: None,
            ..linear(0, 1, None)
        };
        let t = s.plan(4, &OV, PruneTiming::Code).unwrap().layer_tokens;
        assert_eq!(t, vec![6372, 6372, 3136 + 100, 3136 + 100]);
        let e = Schedule {
            prune: Some(Prune::Explicit {
                keep: vec![1.0, 0.0],
                importance: None,
            }),
            ..s.clone()
        };
        assert_eq!(
            e.plan(2, &OV, PruneTiming::Paper).unwrap().layer_tokens,
            vec![6372, 100]
        );
        assert!(e.plan(3, &OV, PruneTiming::Paper).is_err());
    }

    #[test]
    fn scaled_layers() {
        let mut s = linear(14, 22, None);
        s.scale_to_layers = Some(28);
        let t = s.plan(32, &OV, PruneTiming::Paper).unwrap().layer_tokens;
        // 14·32/28 = 16, 22·32/28 = 25.14 → 25: layers 0..15 full, layer 16 first reduced.
        assert_eq!(t[15], 1668);
        assert!(t[16] < 1668);
        assert_eq!(t[24], 100);
        assert!(t[23] > 100);
    }

    /// Two stages that scale onto one layer are refused, as the same list written unscaled
    /// is: the later stage replaced the earlier in silence ("keep 0.5 from layer 7, keep 0.25
    /// from layer 7"). Stages that stay apart still scale.
    #[test]
    fn stages_scaled_onto_one_layer_are_refused() {
        let steps = |at: Vec<u64>, scale: u64| Schedule {
            prune: Some(Prune::Steps {
                at,
                keep: vec![0.5, 0.25],
                importance: Some(Importance::LastToken),
            }),
            merge: None,
            scale_to_layers: Some(scale),
            ..linear(0, 1, None)
        };
        let e = steps(vec![20, 21], 80)
            .plan(28, &OV, PruneTiming::Code)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("layers 20 and 21 (written for 80 layers)")
                && e.contains("both land on layer 7 of this 28-layer model"),
            "{e}"
        );
        let apart = steps(vec![20, 40], 80)
            .plan(28, &OV, PruneTiming::Code)
            .unwrap()
            .layer_tokens;
        assert_eq!((apart[6], apart[7], apart[14]), (6372, 3236, 1668));
        // A stage scaled past the last layer of a schedule that scales: "give scale_to_layers"
        // was no fix for it.
        let e = steps(vec![3, 4], 4)
            .plan(1, &OV, PruneTiming::Code)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("written for 4 layers, scale past")
                && !e.contains("or give scale_to_layers"),
            "{e}"
        );
    }

    /// An empty list of stages says so (it said "as many 'at' layers as 'keep' fractions (got
    /// 0 and 0)"); a window a shallow model closes says how to give one.
    #[test]
    fn empty_stages_and_closed_windows_name_the_fix() {
        let s: Schedule =
            toml::from_str("name = \"x\"\n[prune]\nkind = \"steps\"\nat = []\nkeep = []\n")
                .unwrap();
        let e = s.validate().unwrap_err();
        assert!(e.contains("has no stage"), "{e}");
        let mut l = linear(14, 22, None);
        l.scale_to_layers = Some(28);
        let e = l.plan(3, &OV, PruneTiming::Code).unwrap_err().to_string();
        assert!(
            e.contains("written for 28 layers, closes") && e.contains("prune_start"),
            "{e}"
        );
    }

    #[test]
    fn importance_key_defaults_to_pagerank_and_takes_method_aliases() {
        let parse = |text: &str| -> Schedule { toml::from_str(text).unwrap() };
        let base = "[prune]\nkind = \"linear\"\nstart = 2\nend = 4\n";
        assert_eq!(
            parse(base).prune.unwrap().importance(),
            Importance::Pagerank
        );
        for (value, want) in [
            ("pagerank", Importance::Pagerank),
            ("fastv", Importance::LastToken),
            ("pdrop", Importance::LastToken),
            ("sparsevlm", Importance::TextToVisual),
            ("none", Importance::None),
        ] {
            let s = parse(&format!("{base}importance = \"{value}\"\n"));
            assert_eq!(s.prune.unwrap().importance(), want, "{value}");
        }
        assert!(toml::from_str::<Schedule>(&format!("{base}importance = \"x\"\n")).is_err());
    }

    #[test]
    fn invalid_schedules() {
        assert!(linear(22, 14, None).validate().is_err());
        assert!(linear(14, 14, None).validate().is_err());
        assert!(linear(14, 22, Some(f64::NAN)).validate().is_err());
        assert!(linear(30, 40, None)
            .plan(28, &OV, PruneTiming::Paper)
            .is_err());
        let mut big = linear(14, 22, None);
        big.merge = Some(Merge {
            tokens_per_frame: Some(300),
            keep_ratio: None,
        });
        assert!(big.plan(28, &OV, PruneTiming::Paper).is_err());
    }

    proptest::proptest! {
        /// `plan` floors `r · N` with an `as u64` cast (issue 25): the same count as
        /// `floor` for every f64, negatives, NaN and the infinities included.
        #[test]
        fn truncating_is_flooring_for_a_count(x in proptest::num::f64::ANY) {
            proptest::prop_assert_eq!(x as u64, x.floor() as u64);
        }
    }
}
