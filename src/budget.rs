//! `aim-sim budget`: two questions a schedule's cost answers.
//!
//! * Frame budget: the largest number of frames whose FLOPs (or prefill time, `--by time`) stay
//!   within a reference run's, e.g. "192 frames with AIM at the cost of 32 without" (AIM paper).
//! * Inverse (`--target-reduction X`): the least aggressive setting that still reaches a
//!   reduction factor `X` (baseline / schedule) at the given input, varying one knob (`--solve`):
//!   - `window`: the linear pruning window `l1..l2` slides, its span `l2 - l1` fixed;
//!   - `start`: `l1` moves, `l2` fixed;
//!   - `end`: `l2` moves, `l1` fixed;
//!   - `merge`: tokens kept per frame by merging, the schedule's pruning unchanged.
//!
//!   "Least aggressive" is the latest pruning (largest layer) or the most tokens kept per frame.
//!
//! Every candidate is an ordinary run (`Scenario::from_spec` + `sim::simulate`); cost grows
//! monotonically with frames, pruning layers and tokens kept, so each answer is a binary search.

use crate::choice::Choice;
use crate::cost::Totals;
use crate::error::keys::{
    FRAMES, GEN_TOKENS, LAYER_TOKENS, PRUNE_END, PRUNE_START, REFERENCE_FRAMES, SCHEDULE, SOLVE,
    TARGET_REDUCTION, TOKENS, TOKENS_PER_FRAME, TP,
};
use crate::error::{Error, Result};
use crate::report::TextFormat;
use crate::scenario::Scenario;
use crate::schedule::MAX_TOKENS;
use crate::sim::{self, Report};
use crate::spec::{Definition, Spec};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// What is held within the reference / reduced by the target.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum By {
    /// Total prefill FLOPs.
    #[default]
    Flops,
    /// Prefill time on the GPU (roofline).
    Time,
}

impl By {
    /// The quantity in words, for titles and sentences.
    pub(crate) fn noun(self) -> &'static str {
        match self {
            By::Flops => "FLOPs",
            By::Time => "prefill time",
        }
    }
}

impl Choice for By {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (By::Flops, "flops", "Total prefill FLOPs"),
        (By::Time, "time", "Prefill time on the GPU"),
    ];
}

/// The knob `--target-reduction` varies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Solve {
    /// Slide the linear pruning window l1..l2, span fixed.
    Window,
    /// Move the pruning start l1, end l2 fixed.
    Start,
    /// Move the pruning end l2, start l1 fixed.
    End,
    /// Tokens kept per frame by merging; pruning unchanged.
    Merge,
}

impl Choice for Solve {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            Solve::Window,
            "window",
            "Slide the linear pruning window l1..l2, span fixed",
        ),
        (
            Solve::Start,
            "start",
            "Move the pruning start l1, end l2 fixed",
        ),
        (Solve::End, "end", "Move the pruning end l2, start l1 fixed"),
        (
            Solve::Merge,
            "merge",
            "Tokens kept per frame by merging; pruning unchanged",
        ),
    ];
}

/// The budget question besides the run it is asked about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BudgetQuery {
    /// Schedule of the reference run.
    pub reference_schedule: String,
    /// Frames of the reference run [default: the spec's frames, else the model's].
    pub reference_frames: Option<u64>,
    /// Quantity compared: FLOPs or prefill time.
    pub by: By,
    /// Largest frame count considered.
    pub max_frames: u64,
    /// Inverse question: the least aggressive `solve` setting whose reduction factor
    /// (baseline / schedule, `by`) reaches this at the given input.
    pub target_reduction: Option<f64>,
    /// What `target_reduction` varies [default: window].
    pub solve: Option<Solve>,
}

/// Default largest frame count a frame budget considers.
pub(crate) const DEFAULT_MAX_FRAMES: u64 = 100_000;

impl Default for BudgetQuery {
    fn default() -> Self {
        BudgetQuery {
            reference_schedule: "none".into(),
            reference_frames: None,
            by: By::Flops,
            max_frames: DEFAULT_MAX_FRAMES,
            target_reduction: None,
            solve: None,
        }
    }
}

/// Either answer of `budget`.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Frames(FrameBudget),
    Target(TargetSolution),
}

/// One priced point: settings and totals.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Point {
    pub schedule: String,
    pub frames: u64,
    pub flops: f64,
    pub time_s: f64,
    /// Baseline / schedule, FLOPs.
    pub reduction_flops: f64,
    /// Baseline / schedule, time.
    pub reduction_time: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_start: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prune_end: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_tokens_per_frame: Option<u64>,
    /// `merge_tokens_per_frame / tokens_per_frame`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub merge_keep_ratio: Option<f64>,
}

/// The answer to the frame-budget question. JSON: the answer is `frames`.
#[derive(Debug, Clone, Serialize)]
pub struct FrameBudget {
    pub model: String,
    pub gpu: String,
    pub cost_model: String,
    /// The framework profile that priced the times, when it is not the roofline (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    pub by: By,
    /// Largest frame count within the reference (0: not even one frame fits).
    pub frames: u64,
    /// Whether the answer is `--max-frames` itself (the search stopped there).
    pub at_max_frames: bool,
    /// The largest frame count searched: `--max-frames`, or fewer when more frames would exceed
    /// the token limit of one prompt.
    pub search_limit_frames: u64,
    pub reference: Point,
    /// The schedule at `frames` frames (absent when `frames` is 0).
    pub schedule: Option<Point>,
    /// The schedule at `frames + 1`, the first that exceeds the reference.
    pub next: Option<Point>,
    /// When the answer's peak memory exceeds the GPU: the most frames (≤ `frames`) whose peak
    /// fits. The budget is of FLOPs or time, and a frame count within it once read as
    /// "fits" on a GPU it needed 17× of.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory_frames: Option<MemoryLimit>,
    /// The answer's run warnings, as a single run of it prints them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

impl FrameBudget {
    /// The answer past the GPU's memory, in words (table and page).
    pub fn memory_sentence(&self) -> Option<String> {
        let (m, s) = (self.memory_frames.as_ref()?, self.schedule.as_ref()?);
        Some(format!(
            "{} frames take {:.1} GB at their peak, more than the GPU's {:.1} GB: {}",
            s.frames,
            m.peak_bytes / 1e9,
            m.device_bytes / 1e9,
            match m.frames {
                0 => "not even 1 frame fits in memory".to_string(),
                f => format!("{f} frames fit in memory"),
            }
        ))
    }
}

/// The most frames the GPU's memory holds, below a budget's answer.
#[derive(Debug, Clone, Serialize)]
pub struct MemoryLimit {
    /// The answer's peak memory.
    pub peak_bytes: f64,
    /// What the GPU holds for a run (its memory less any share the OS keeps).
    pub device_bytes: f64,
    /// The most frames whose peak fits (0: not even one frame).
    pub frames: u64,
}

/// The answer to `--target-reduction`.
#[derive(Debug, Clone, Serialize)]
pub struct TargetSolution {
    pub model: String,
    pub gpu: String,
    pub cost_model: String,
    /// The framework profile that priced the times, when it is not the roofline (the default).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    pub by: By,
    pub target_reduction: f64,
    pub solve: Solve,
    /// The least aggressive setting reaching the target; its knob is `prune_start`/`prune_end`
    /// or `merge_tokens_per_frame`.
    pub solution: Point,
    /// The next less aggressive setting, which misses the target (absent at the search's end).
    pub next: Option<Point>,
    /// At the search's end of a pruning knob (no `next`): the reduction with the schedule's
    /// pruning removed, merging alone. The least aggressive window searched still prunes a
    /// little, and merging alone may reach the target already (3× FLOPs by `end` answered
    /// l2 = 56 on a 28-layer model, 4.375×, where merging alone gives 4.09×).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub without_pruning: Option<f64>,
    /// The solution's run warnings (peak memory past the GPU, ...), as a single run prints them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn metric(by: By, t: &Totals) -> f64 {
    match by {
        By::Flops => t.flops,
        By::Time => t.time_s,
    }
}

fn price(args: &Spec) -> Result<Report> {
    sim::simulate(&Scenario::from_spec(args)?)
}

/// Totals and reductions only, bit for bit those of [`price`] (`sim::summarize`): what the
/// searches compare, many times per question; the points they answer with are [`price`]d.
fn summary(args: &Spec) -> Result<sim::Summary> {
    sim::summarize(&Scenario::from_spec(args)?)
}

fn point(args: &Spec, r: &Report) -> Point {
    let merge = args.merge_tokens_per_frame;
    Point {
        schedule: args.schedule.label("inline schedule").to_string(),
        // The frames as given: a video's sampled frames, not its temporal groups.
        frames: r.spec.frames.unwrap_or(r.scenario.input.frames),
        flops: r.run.totals.flops,
        time_s: r.run.totals.time_s,
        reduction_flops: r.reduction.flops,
        reduction_time: r.reduction.time,
        prune_start: args.prune_start,
        prune_end: args.prune_end,
        merge_tokens_per_frame: merge,
        merge_keep_ratio: merge.map(|k| k as f64 / r.scenario.input.tokens_per_frame as f64),
    }
}

/// The largest `x` in `lo..=hi` with `fits(x)`, for a `fits` that holds on a prefix of the range.
fn last_fitting(
    lo: u64,
    hi: u64,
    mut fits: impl FnMut(u64) -> Result<bool>,
) -> Result<Option<u64>> {
    if lo > hi || !fits(lo)? {
        return Ok(None);
    }
    let (mut good, mut bad) = (lo, hi + 1);
    while bad - good > 1 {
        let mid = good + (bad - good) / 2;
        if fits(mid)? {
            good = mid;
        } else {
            bad = mid;
        }
    }
    Ok(Some(good))
}

/// The largest `x` in `lo..=hi` with `meets(x)`, trying every one (for a `meets` that need
/// not hold on a prefix; the ranges are a model's layers, a few dozen).
fn last_meeting(
    lo: u64,
    hi: u64,
    mut meets: impl FnMut(u64) -> Result<bool>,
) -> Result<Option<u64>> {
    for x in (lo..=hi).rev() {
        if meets(x)? {
            return Ok(Some(x));
        }
    }
    Ok(None)
}

/// The frame-budget question.
pub fn frame_budget(sim: &Spec, b: &BudgetQuery) -> Result<FrameBudget> {
    if sim.tokens.is_some() {
        return Err(Error::invalid(
            format!("budget varies the number of frames: give {FRAMES} and {TOKENS_PER_FRAME} instead of {TOKENS}"),
        ));
    }
    if sim.layer_tokens.is_some() {
        return Err(Error::invalid(format!(
            "budget varies the number of frames, which {LAYER_TOKENS} fixes: drop {LAYER_TOKENS}"
        )));
    }
    // The search varies the frames: a run's frames are the reference's where no reference
    // frames are given (both given, the run's were dropped without a word).
    if let (Some(r), Some(f)) = (b.reference_frames, sim.frames) {
        return Err(Error::invalid(format!(
            "budget varies the number of frames: {FRAMES} {f} would be the reference's, which {REFERENCE_FRAMES} {r} gives already; drop {FRAMES}"
        )));
    }
    let mut reference = sim.clone();
    reference.schedule = Definition::Name(b.reference_schedule.clone());
    reference.frames = b.reference_frames.or(sim.frames);
    // A text-only reference leaves no frames to budget (it answered "not even 1 frame fits
    // (0 frames)", where reference frames 0 is refused).
    if reference.frames == Some(0) {
        return Err(Error::invalid(format!(
            "{FRAMES} 0 is the reference's frame count, and a reference without frames leaves no frames to budget: give at least 1"
        )));
    }
    // The --merge-*/--prune-* overrides shape the schedule under test, not the reference.
    reference.merge_tokens_per_frame = None;
    reference.merge_keep_ratio = None;
    reference.prune_start = None;
    reference.prune_end = None;
    reference.prune_step = None;
    let ref_report = price(&reference)?;
    let limit = metric(b.by, &ref_report.run.totals);

    let with_frames = |frames: u64| {
        let mut a = sim.clone();
        a.frames = Some(frames);
        a
    };
    let at = |frames: u64| -> Result<(Spec, Report)> {
        let a = with_frames(frames);
        let r = price(&a)?;
        Ok((a, r))
    };
    // The search stops at --max-frames, or earlier at the most frames a prompt may hold
    // (MAX_TOKENS), so it never prices a frame count that is an input error.
    let input = ref_report.scenario.input;
    let tokens_per_frame = sim
        .tokens_per_frame
        .unwrap_or(ref_report.scenario.input.tokens_per_frame)
        .max(1);
    let pricable = (MAX_TOKENS.saturating_sub(input.text_tokens) / tokens_per_frame).max(1);
    let search_limit_frames = b.max_frames.min(pricable);
    let frames = last_fitting(1, search_limit_frames, |f| {
        Ok(metric(b.by, &summary(&with_frames(f))?.run) <= limit)
    })?
    .unwrap_or(0);
    let answer = (frames > 0).then(|| at(frames)).transpose()?;
    let schedule = answer.as_ref().map(|(a, r)| point(a, r));
    let mut warnings = answer
        .as_ref()
        .map_or(Vec::new(), |(_, r)| r.run.warnings.clone());
    // A reference that does not fit the GPU: the budget is the cost of a run that cannot
    // happen on it (it was said of the answer alone, or of nothing).
    if let Some(p) = ref_report
        .run
        .peak_memory
        .as_ref()
        .filter(|p| p.peak_bytes > p.device_bytes)
    {
        warnings.insert(
            0,
            format!(
                "the reference ({} at {} frames) needs {:.1} GB at its peak ({}), more than the GPU's {:.1} GB: the budget is the cost of a run that does not fit this GPU without {TP}, fewer bits or offloading",
                b.reference_schedule,
                ref_report.scenario.input.frames,
                p.peak_bytes / 1e9,
                p.activations_at,
                p.device_bytes / 1e9
            ),
        );
    }
    let peak_of = |r: &Report| {
        r.run
            .peak_memory
            .as_ref()
            .map(|p| (p.peak_bytes, p.device_bytes))
    };
    let memory_frames = match answer.as_ref().and_then(|(_, r)| peak_of(r)) {
        Some((peak_bytes, device_bytes)) if peak_bytes > device_bytes => {
            // The peak grows with the frames, so the frames that fit are a prefix.
            let fits = last_fitting(1, frames, |f| {
                Ok(peak_of(&price(&with_frames(f))?).is_none_or(|(p, d)| p <= d))
            })?;
            Some(MemoryLimit {
                peak_bytes,
                device_bytes,
                frames: fits.unwrap_or(0),
            })
        }
        _ => None,
    };
    let next = (frames < search_limit_frames)
        .then(|| at(frames + 1).map(|(a, r)| point(&a, &r)))
        .transpose()?;
    Ok(FrameBudget {
        model: ref_report.scenario.model.name.clone(),
        gpu: ref_report.scenario.gpu.name.clone(),
        cost_model: ref_report.cost_model.to_string(),
        framework: fitted_framework(&ref_report),
        by: b.by,
        frames,
        at_max_frames: frames == search_limit_frames,
        search_limit_frames,
        reference: point(&reference, &ref_report),
        schedule,
        next,
        memory_frames,
        warnings,
    })
}

/// Writes one value of the solved knob into the flags.
type SetKnob = Box<dyn Fn(&mut Spec, u64)>;

/// The inverse question: the least aggressive setting reaching `target` × reduction.
pub(crate) fn solve_target(sim: &Spec, b: &BudgetQuery, target: f64) -> Result<TargetSolution> {
    if !(target.is_finite() && target >= 1.0) {
        return Err(Error::invalid(format!(
            "{TARGET_REDUCTION} {} must be a factor of at least 1 (baseline / schedule)",
            crate::error::bounded(target)
        )));
    }
    if sim.layer_tokens.is_some() {
        return Err(Error::invalid(
            format!("{TARGET_REDUCTION} varies the schedule, which {LAYER_TOKENS} replaces: drop {LAYER_TOKENS}"),
        ));
    }
    let base = Scenario::from_spec(sim)?;
    let layers = base.model.num_layers;
    // A text-only input: no setting reduces anything ("out of reach: the best setting gives
    // 1.000×" named no cause).
    if base.input.visual_tokens() == 0 {
        return Err(Error::invalid(format!(
            "the input has no visual tokens ({FRAMES} 0), so no setting of a visual-token schedule reduces it: give frames"
        )));
    }
    let reduction = |s: &sim::Summary| match b.by {
        By::Flops => s.reduction_flops,
        By::Time => s.reduction_time,
    };
    let mut args = sim.clone();
    // (knob range, how a knob value sets the flags); larger values are less aggressive.
    let solve = b.solve.unwrap_or(Solve::Window);
    let (lo, hi, set): (u64, u64, SetKnob) = match solve {
        Solve::Merge => {
            args.merge_keep_ratio = None;
            (
                1,
                base.input.tokens_per_frame,
                Box::new(|a: &mut Spec, k| a.merge_tokens_per_frame = Some(k)),
            )
        }
        knob => {
            let (l1, l2) = match (sim.prune_start, sim.prune_end) {
                (Some(s), Some(e)) => (s, e),
                _ => base.schedule.linear_layers(layers).ok_or_else(|| {
                    Error::invalid(format!(
                        "{SOLVE} {} moves a linear pruning window, but schedule '{}' has none: use e.g. {SCHEDULE} linear, or give {PRUNE_START} and {PRUNE_END}",
                        knob.name(),
                        base.schedule.name
                    ))
                })?,
            };
            // The default step 1/(l2 - l1) follows the window; a fixed step would not.
            args.prune_step = None;
            let span = l2 - l1;
            match knob {
                // A window may run past the last layer: its later layers are not reached, and
                // the last one keeps `1 - (L - l1) / (l2 - l1)` of the tokens (a partial
                // pruning, the least aggressive settings there are).
                Solve::Window => (
                    0,
                    layers - 1,
                    Box::new(move |a: &mut Spec, s| {
                        (a.prune_start, a.prune_end) = (Some(s), Some(s + span))
                    }),
                ),
                Solve::Start => (
                    0,
                    (l2 - 1).min(layers - 1),
                    Box::new(move |a: &mut Spec, s| {
                        (a.prune_start, a.prune_end) = (Some(s), Some(l2))
                    }),
                ),
                _ => (
                    l1 + 1,
                    // An end past the depth is a shallower slope (the last layer keeps some
                    // tokens); past 2L the window barely prunes, and the search stops there.
                    (2 * layers).max(l1 + 1),
                    Box::new(move |a: &mut Spec, e| {
                        (a.prune_start, a.prune_end) = (Some(l1), Some(e))
                    }),
                ),
            }
        }
    };
    let with = |v: u64| {
        let mut a = args.clone();
        set(&mut a, v);
        a
    };
    let at = |v: u64| -> Result<(Spec, Report)> {
        let a = with(v);
        let r = price(&a)?;
        Ok((a, r))
    };
    let meets = |v: u64| Ok(reduction(&summary(&with(v))?) >= target);
    let best = match solve {
        // Fewer kept tokens per frame never cost more: a bisection finds the largest.
        Solve::Merge => last_fitting(lo, hi, meets)?,
        // A pruning window's reduction need not fall steadily as it moves later (by time,
        // 4.062× at l1 = 22, 3.998× at 23, 4.033× at 27): every layer is tried.
        _ => last_meeting(lo, hi, meets)?,
    };
    let Some(best) = best else {
        // The most any setting gives: the most aggressive one's where the bisection holds.
        let (most, what) = match solve {
            Solve::Merge => (
                reduction(&summary(&with(lo))?),
                "the most aggressive setting",
            ),
            _ => {
                let mut most = 0.0_f64;
                for v in lo..=hi {
                    most = most.max(reduction(&summary(&with(v))?));
                }
                (most, "the best setting")
            }
        };
        // The other knobs, to try ("a 8×" named no way on).
        let others: Vec<&str> = Solve::CHOICES
            .iter()
            .filter(|(s, _, _)| *s != solve)
            .map(|(_, n, _)| *n)
            .collect();
        return Err(Error::invalid(format!(
            "a reduction of {}× in {} is out of reach by {SOLVE} {}: {what} gives {most:.3}×; lower {TARGET_REDUCTION}, or try {SOLVE} {}",
            crate::error::bounded(target),
            match b.by {
                By::Flops => "FLOPs",
                By::Time => "time",
            },
            solve.name(),
            others.join(", ")
        )));
    };
    let (a, r) = at(best)?;
    let next = (best < hi)
        .then(|| at(best + 1).map(|(a, r)| point(&a, &r)))
        .transpose()?;
    let without_pruning = match (&next, solve) {
        (None, Solve::Window | Solve::Start | Solve::End) => {
            let mut s = Scenario::from_spec(&a)?;
            std::sync::Arc::make_mut(&mut s.schedule).prune = None;
            Some(reduction(&sim::summarize(&s)?))
        }
        _ => None,
    };
    Ok(TargetSolution {
        model: r.scenario.model.name.clone(),
        gpu: r.scenario.gpu.name.clone(),
        cost_model: r.cost_model.to_string(),
        framework: fitted_framework(&r),
        by: b.by,
        target_reduction: target,
        solve,
        solution: point(&a, &r),
        next,
        without_pruning,
        // The answer says itself that merging alone reaches the target.
        warnings: r
            .run
            .warnings
            .iter()
            .filter(|w| without_pruning.is_none() || !sim::is_idle_pruning(w))
            .cloned()
            .collect(),
    })
}

/// The run's framework profile unless it is the roofline: what an answer names beside the cost
/// model, so a time priced under `hf` does not read like the roofline's.
fn fitted_framework(r: &crate::sim::Report) -> Option<String> {
    // "(anchored)" as compare and serve say it: the times are the refitted profile's.
    (r.scenario.framework != crate::framework::ROOFLINE).then(|| r.scenario.profile_name())
}

/// ` · framework NAME` of an answer's `framework` ([`crate::framework::named`]), or nothing
/// under the roofline.
pub fn framework_words(framework: &Option<String>) -> String {
    framework
        .as_deref()
        .map_or(String::new(), crate::framework::named)
}

fn cost_line(p: &Point) -> String {
    format!("{:.4} TFLOPs, {:.3} ms", p.flops / 1e12, p.time_s * 1e3)
}

fn render_budget(a: &FrameBudget) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "budget: {} on {} · cost model {}{} · by {}",
        a.model,
        a.gpu,
        a.cost_model,
        framework_words(&a.framework),
        a.by.noun()
    );
    let _ = writeln!(
        out,
        "reference: {} at {} frames: {}",
        a.reference.schedule,
        a.reference.frames,
        cost_line(&a.reference)
    );
    match &a.schedule {
        Some(s) => {
            let share = match a.by {
                By::Flops => s.flops / a.reference.flops,
                By::Time => s.time_s / a.reference.time_s,
            };
            let _ = writeln!(
                out,
                "answer:    {} fits {} frames{}: {} ({:.2} % of the reference)",
                s.schedule,
                a.frames,
                if a.at_max_frames {
                    " (the end of the search: more would exceed --max-frames or the token limit)"
                } else {
                    ""
                },
                cost_line(s),
                share * 100.0
            );
        }
        None => {
            let _ = writeln!(out, "answer:    not even 1 frame fits (0 frames)");
        }
    }
    if let Some(n) = &a.next {
        let _ = writeln!(
            out,
            "           {} frames would cost {}",
            n.frames,
            cost_line(n)
        );
    }
    if let Some(m) = a.memory_sentence() {
        let _ = writeln!(out, "memory:    but {m}");
    }
    for w in &a.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

fn render_target(t: &TargetSolution) -> String {
    let knob = |p: &Point| match (p.merge_tokens_per_frame, p.prune_start, p.prune_end) {
        (Some(k), _, _) => format!(
            "merge to {k} tokens per frame (keep ratio {:.4})",
            p.merge_keep_ratio.unwrap_or_default()
        ),
        (None, Some(s), Some(e)) => format!("prune l1={s} l2={e}"),
        _ => "unchanged".into(),
    };
    let red = |p: &Point| match t.by {
        By::Flops => p.reduction_flops,
        By::Time => p.reduction_time,
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "target: {}× less {} · {} on {} · cost model {}{} · varying the {}",
        t.target_reduction,
        t.by.noun(),
        t.model,
        t.gpu,
        t.cost_model,
        framework_words(&t.framework),
        match t.solve {
            Solve::Window => "pruning window (span fixed)",
            Solve::Start => "pruning start l1 (l2 fixed)",
            Solve::End => "pruning end l2 (l1 fixed)",
            Solve::Merge => "merge tokens per frame",
        }
    );
    let s = &t.solution;
    let _ = writeln!(
        out,
        "answer: {} with {}: {:.3}× ({})",
        s.schedule,
        knob(s),
        red(s),
        cost_line(s)
    );
    if let Some(n) = &t.next {
        let _ = writeln!(out, "        {} would give {:.3}×", knob(n), red(n));
    }
    if let Some(m) = t.without_pruning {
        let _ = writeln!(
            out,
            "        the least aggressive setting searched; with no pruning at all (merging alone) the reduction is {m:.3}×{}",
            if m >= t.target_reduction {
                ", which reaches the target already"
            } else {
                ""
            }
        );
    }
    for w in &t.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

/// [`answer`] under the run's profile refitted to the user's measurements (`anchor_ms`, as
/// `--anchor-ms`: the measured time without reduction of the frame budget's reference input,
/// `reference_frames`, or of the run's input for a target reduction; `file`, as `--anchor
/// FILE`: measured rows), and the note saying what was refitted; without either, [`answer`]
/// alone. An anchor refits times, so it needs `by = time`.
pub fn answer_anchored(
    sim: &Spec,
    b: &BudgetQuery,
    anchor_ms: Option<f64>,
    file: Option<&std::path::Path>,
) -> Result<(Answer, Option<String>)> {
    use crate::error::keys::{ANCHOR, ANCHOR_MS, BY};
    if anchor_ms.is_none() && file.is_none() {
        return Ok((answer(sim, b)?, None));
    }
    if b.by != By::Time {
        return Err(Error::invalid(format!(
            "{} refits the times a framework profile predicts, but the budget compares {}: add {BY} time",
            if anchor_ms.is_some() { ANCHOR_MS } else { ANCHOR },
            b.by.name()
        )));
    }
    // "My 32-frame run without reduction takes 480 ms": the frame budget's reference input.
    let mut on = sim.clone();
    if b.target_reduction.is_none() {
        on.frames = b.reference_frames.or(sim.frames);
    }
    let (refitted, note, _) =
        crate::check::anchor::anchored_spec(&on, anchor_ms, file)?.expect("an anchor is given");
    let spec = Spec {
        framework: refitted.framework,
        ..sim.clone()
    };
    Ok((answer(&spec, b)?, Some(note)))
}

/// Answers the budget question `b` asks about the run `sim`.
pub fn answer(sim: &Spec, b: &BudgetQuery) -> Result<Answer> {
    // Budgets are of the prefill: a decode length was accepted and changed nothing.
    if sim.gen_tokens > 0 {
        return Err(Error::invalid(format!(
            "budget weighs the prefill (time to first token), not a decode: drop {GEN_TOKENS}, or price one run's decode with simulate ({FRAMES} and {GEN_TOKENS})"
        )));
    }
    match b.target_reduction {
        Some(target) => Ok(Answer::Target(solve_target(sim, b, target)?)),
        None if b.solve.is_some() => Err(Error::invalid(format!(
            "{SOLVE} says what {TARGET_REDUCTION} varies: give {TARGET_REDUCTION} X too"
        ))),
        None => Ok(Answer::Frames(frame_budget(sim, b)?)),
    }
}

impl Answer {
    /// The answer's run warnings, for standard error.
    pub fn warnings(&self) -> &[String] {
        match self {
            Answer::Frames(a) => &a.warnings,
            Answer::Target(t) => &t.warnings,
        }
    }
}

/// Writes an answer as a table or JSON: a budget answers one question, so it has no rows.
pub fn render(answer: &Answer, format: TextFormat) -> Result<String> {
    match (format, answer) {
        (TextFormat::Json, Answer::Target(t)) => Ok(crate::report::json_text(t)),
        (TextFormat::Json, Answer::Frames(a)) => Ok(crate::report::json_text(a)),
        (TextFormat::Table, Answer::Target(t)) => Ok(render_target(t)),
        (TextFormat::Table, Answer::Frames(a)) => Ok(render_budget(a)),
        (TextFormat::Csv | TextFormat::Jsonl, _) => Err(Error::invalid(
            "budget answers one question: use --format table or --format json",
        )),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn last_fitting_finds_the_prefix_end() {
        let f = |limit: u64| move |x: u64| Ok(x <= limit);
        assert_eq!(super::last_fitting(1, 100, f(37)).unwrap(), Some(37));
        assert_eq!(super::last_fitting(1, 100, f(0)).unwrap(), None);
        assert_eq!(super::last_fitting(1, 100, f(500)).unwrap(), Some(100));
        assert_eq!(super::last_fitting(5, 5, f(5)).unwrap(), Some(5));
    }
}
