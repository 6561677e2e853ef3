//! One-anchor calibration ("time your baseline once", issue 21): the user's measured time of
//! the input *without* reduction on their own stack refits the two harness-level figures of a
//! fitted profile — the GEMM efficiency and the per-kernel overhead, the figures that differ
//! between harnesses (2.5× for the same model, GPU and setting, docs/accuracy.md) — so that
//! the profile reproduces the anchor; the schedule's time is then predicted from there. One
//! measurement fixes one number: how it splits between the two is what is most likely under
//! the spread the fit allows each of them ([`solve`]).
//!
//! With the harness's offset pinned by the anchor, what is left of a prediction's error is the
//! error of a ratio of two runs of one harness: the profile's speed-up σ (`[spread].speedup`),
//! which becomes the anchored interval's σ (its time σ where that is the narrower).
//!
//! `--anchor FILE` generalises it to several measured rows in the measurement schema
//! (reference/measurements.toml's): the same two figures fitted by least squares on the rows'
//! log errors with the same priors, each row priced as `check` prices it (host work per forward
//! only once the overhead is at its bound). One row is fitted exactly, as `--anchor-ms` fits
//! its baseline.

pub mod solve;

use super::{Measurement, Measurements};
use crate::error::keys::{ANCHOR, ANCHOR_MS, FRAMEWORK, GPU, INCLUDE_VISION};
use crate::error::{Error, Result};
use crate::framework::{AnchorNotes, Framework, RunNote};
use crate::scenario::{Anchor, Scenario};
use crate::spec::{Definition, Spec};
use solve::{solve_harness, Harness, Knobs, LAUNCH_MIN_S, MATMUL_MIN};
pub use solve::{FIXED_MAX_S, LAUNCH_MAX_S};
use std::path::Path;

/// `framework` with the anchor's harness figures: every GEMM efficiency (pooled and per GPU,
/// 16- and 8-bit) times `h.matmul_scale`, at most 1; every table's per-kernel overhead
/// `h.launch_s`; `h.extra_host_s` more host work per forward in every table that states it.
fn with_harness(framework: &Framework, h: Harness) -> Framework {
    let mut f = framework.clone();
    let scale = |m: &mut Option<f64>| {
        if let Some(m) = m.as_mut() {
            *m = h.matmul(*m);
        }
    };
    scale(&mut f.params.matmul);
    scale(&mut f.params.matmul_8bit);
    f.params.launch_overhead_s = Some(h.launch_s);
    // The anchor's stack is one host: its per-kernel cost, whichever pool it was drawn from.
    if f.params.desktop_launch_overhead_s.is_some() {
        f.params.desktop_launch_overhead_s = Some(h.launch_s);
    }
    if h.extra_host_s > 0.0 {
        f.params.fixed_overhead_s =
            Some(framework.params.fixed_overhead_s.unwrap_or(0.0) + h.extra_host_s);
    }
    for p in f.gpu.values_mut() {
        scale(&mut p.matmul);
        scale(&mut p.matmul_8bit);
        if p.launch_overhead_s.is_some() {
            p.launch_overhead_s = Some(h.launch_s);
        }
        if let Some(x) = p.fixed_overhead_s.as_mut() {
            *x += h.extra_host_s;
        }
    }
    f
}

/// The spec's framework profile, refused when it is the roofline (nothing to refit).
/// `spec` with an anchored profile (a replayed anchored run, anchored again) replaced by the
/// profile the first anchor refitted: a refit starts from it, its values the priors' centres,
/// not from the earlier refit (a replay at 500 ms of a run anchored at 400 gave 98.9 ms where a
/// fresh anchor gives 99.1). The shipped profile it came from is found by name and provenance;
/// another's values are gone, so it is asked for again.
fn unanchored(spec: &Spec, flag: impl std::fmt::Display) -> Result<Spec> {
    let Definition::Inline(f) = &spec.framework else {
        return Ok(spec.clone());
    };
    let Some(gpu) = &f.anchored_gpu else {
        return Ok(spec.clone());
    };
    match Framework::load(&f.name)
        .ok()
        .filter(|p| p.provenance == f.provenance)
    {
        Some(_) => Ok(Spec {
            framework: Definition::Name(f.name.clone()),
            ..spec.clone()
        }),
        None => Err(Error::invalid(format!(
            "{flag}: the run's framework {} is already anchored (refitted to a measurement on the {gpu}), and the profile it was refitted from is not a shipped one: give that profile again ({FRAMEWORK} FILE) to anchor it anew",
            f.name
        ))),
    }
}

fn fitted_profile(spec: &Spec, flag: impl std::fmt::Display) -> Result<Framework> {
    let framework = match &spec.framework {
        Definition::Inline(f) => (**f).clone(),
        Definition::Name(n) => Framework::load(n)?,
    };
    if framework.is_roofline() {
        return Err(Error::invalid(format!(
            "{flag} refits a fitted framework profile: add {FRAMEWORK} trtllm|hf|hf-eager (or a profile file); the roofline is a bound with nothing to refit"
        )));
    }
    Ok(framework)
}

/// Where the run's profile puts the two knobs: the GEMM efficiency on the run's tensor path and
/// the per-kernel overhead its GPU gets.
fn knobs(scenario: &Scenario) -> Knobs {
    let e = scenario
        .gpu
        .efficiency
        .as_ref()
        .expect("a fitted framework gives the run an efficiency");
    Knobs::of(e, scenario.options.precision.uses_int8_peak())
}

/// The spec's profile refitted to the measured baseline time `anchor_s`: its GEMM efficiency
/// and per-kernel overhead solved ([`solve::solve_harness`]) so that the baseline (the same
/// input, no reduction) takes `anchor_s`, and its spread reduced to what an anchor leaves.
/// `Err` (one line, with the fix) for the roofline, a non-positive anchor, or an anchor no
/// values within bounds reach.
pub fn anchor(spec: &Spec, anchor_s: f64) -> Result<(Framework, Anchored)> {
    if !(anchor_s.is_finite() && anchor_s > 0.0) {
        return Err(Error::invalid(format!(
            "{ANCHOR_MS} {} must be a positive number of milliseconds",
            anchor_s * 1e3
        )));
    }
    let framework = fitted_profile(spec, ANCHOR_MS)?;
    let scenario = Scenario::from_spec(spec)?;
    let knobs = knobs(&scenario);
    let baseline_s = |h: Harness| -> Result<f64> {
        let mut s = spec.clone();
        s.framework = Definition::Inline(Box::new(with_harness(&framework, h)));
        Ok(crate::sim::summarize(&Scenario::from_spec(&s)?)?
            .baseline
            .time_s)
    };
    let at = |matmul_scale: f64, launch_s: f64| Harness::new(matmul_scale, launch_s, 0.0);
    // The reach of the two knobs, priced here first so that a pricing error is reported as
    // itself.
    let fastest = baseline_s(at(1.0 / knobs.matmul, LAUNCH_MIN_S))?;
    let slowest = baseline_s(at(MATMUL_MIN / knobs.matmul, LAUNCH_MAX_S))?;
    let own_fixed_s = framework.params.fixed_overhead_s.unwrap_or(0.0);
    match solve_harness(
        |m, l| baseline_s(at(m, l)).unwrap_or(f64::INFINITY),
        anchor_s,
        knobs,
        own_fixed_s,
    ) {
        Some(h) => {
            let out = with_harness(&framework, h);
            Ok(finish(&framework, out, h, knobs, 1))
        }
        // Out of reach: the bound counts the profile's own host work.
        None => Err(Error::invalid(format!(
            "{ANCHOR_MS} {}: framework {} cannot reach it for this input without reduction on {} ({:.3}–{:.3} ms for GEMMs at {:.0}–100 % of peak, a per-kernel overhead of 0–{:.0} µs and host work per forward up to {:.0} ms): check that the anchor times the same model, input ({INCLUDE_VISION} for a time to first token), GPU and precision, without token reduction",
            // 0.0001 read "0.000", 1e300 three hundred digits.
            match anchor_s * 1e3 {
                ms if (1e-3..1e6).contains(&ms) => format!("{ms:.3}"),
                ms => crate::error::bounded(ms),
            },
            framework.name,
            scenario.gpu.name,
            fastest * 1e3,
            (slowest + (FIXED_MAX_S - own_fixed_s).max(0.0)) * 1e3,
            MATMUL_MIN * 100.0,
            LAUNCH_MAX_S * 1e6,
            FIXED_MAX_S * 1e3
        ))),
    }
}

/// The anchored profile: its spread reduced to what an anchor leaves.
fn finish(
    framework: &Framework,
    mut out: Framework,
    h: Harness,
    knobs: Knobs,
    rows: usize,
) -> (Framework, Anchored) {
    out.spread = framework.spread.map(|s| s.anchored());
    (
        out,
        Anchored {
            harness: h,
            knobs,
            rows,
        },
    )
}

/// The scenario of `spec` anchored on a measured baseline of `anchor_ms` milliseconds (the
/// CLI's `--anchor-ms`, Python's `anchor_ms`): the framework refitted by [`anchor`], and notes
/// saying what was refitted and what the measurement gives without the refit, kept in the
/// refitted profile so that the run's JSON replayed says them again.
pub fn anchored_scenario(spec: &Spec, anchor_ms: f64) -> Result<Scenario> {
    // The other estimate is the unanchored profile's, also on a replayed anchored run.
    let spec = &unanchored(spec, ANCHOR_MS)?;
    let (mut anchored, refitted, kind) =
        anchored_spec(spec, Some(anchor_ms), None)?.expect("an anchor is given");
    let scaled = scaled_note(spec, &anchored, anchor_ms)?;
    with_notes(&mut anchored, refitted, scaled);
    scenario_of(&anchored, kind)
}

/// The other estimate from the same measured baseline: the baseline times the unanchored
/// predicted speed-up (its error is the speed-up's, docs/accuracy.md "One anchor"); a note
/// of this run alone, which its schedule's time under the refitted profile (`anchored`)
/// names. `None` where the schedule reduces nothing. `spec` is the unanchored run.
fn scaled_note(spec: &Spec, anchored: &Spec, anchor_ms: f64) -> Result<Option<RunNote>> {
    let unanchored = Scenario::from_spec(spec)?;
    let scaled = crate::sim::simulate(&unanchored)?.reduction;
    if !(scaled.time > 0.0 && scaled.time != 1.0) {
        return Ok(None);
    }
    // Its low end no lower than the run's ideal roofline, as every interval's (it read
    // 51.9 ms where the roofline is 56.8).
    let floor_ms = crate::sim::ideal_floors(&unanchored, &unanchored.plan()?)[0] * 1e3;
    let interval = scaled.time_interval.map_or(String::new(), |[lo, hi]| {
        let [lo_ms, hi_ms] = crate::sim::floored(
            [anchor_ms / hi, anchor_ms / lo],
            anchor_ms / scaled.time,
            floor_ms,
        );
        format!(" (80 %: {lo_ms:.1}–{hi_ms:.1} ms)")
    });
    Ok(Some(RunNote {
        note: format!(
            "the measured baseline ÷ the predicted speed-up ({:.2}×) instead: {:.1} ms{interval} (docs/accuracy.md, one anchor)",
            scaled.time,
            anchor_ms / scaled.time
        ),
        run_time_s: crate::sim::summarize(&Scenario::from_spec(anchored)?)?
            .run
            .time_s,
    }))
}

/// `spec`'s (refitted) profile with the anchor's notes in it ([`Framework::anchor_notes`]).
fn with_notes(spec: &mut Spec, refitted: String, scaled: Option<RunNote>) {
    if let Definition::Inline(f) = &mut spec.framework {
        f.anchor_notes = Some(AnchorNotes { refitted, scaled });
    }
}

/// The scenario of an anchored spec, its anchor of `kind`.
fn scenario_of(spec: &Spec, kind: Anchor) -> Result<Scenario> {
    let mut scenario = Scenario::from_spec(spec)?;
    scenario.anchor = Some(kind);
    Ok(scenario)
}

/// What an anchor refitted, in one line, for a run's notes.
/// What an anchor refitted, from what: a note of every command that prices under the anchored
/// profile (budget's too, which states no interval: the interval is said where one is shown).
fn refitted_note(framework: &Framework, a: Anchored, on: &str) -> String {
    let (h, k) = (a.harness, a.knobs);
    format!(
        "anchored on {on}: framework {}'s GEMM efficiency refitted to {:.1} % of peak (from {:.1} %) and per-kernel overhead to {:.2} µs (from {:.2} µs){}, the split most likely under the spread between harnesses",
        framework.name,
        a.matmul() * 100.0,
        k.matmul * 100.0,
        h.launch_s * 1e6,
        k.launch_s * 1e6,
        if h.extra_host_s > 0.0 {
            format!(", with {:.3} ms more host work per forward", h.extra_host_s * 1e3)
        } else {
            String::new()
        }
    )
}

/// `spec` with its profile refitted to a measured baseline (`anchor_ms`, as `--anchor-ms`) or
/// to measured rows (`file`, as `--anchor FILE`), the note saying so and which it was; `None`
/// without either. What `compare` prices every schedule under: the anchor is the input without
/// reduction, the same for every schedule.
pub fn anchored_spec(
    spec: &Spec,
    anchor_ms: Option<f64>,
    file: Option<&Path>,
) -> Result<Option<(Spec, String, Anchor)>> {
    let spec = &unanchored(
        spec,
        if anchor_ms.is_some() {
            ANCHOR_MS
        } else {
            ANCHOR
        },
    )?;
    let (framework, a, on, kind) = match (anchor_ms, file) {
        (Some(ms), _) => {
            let (mut f, a) = anchor(spec, ms / 1e3)?;
            if let Some(s) = f.spread.as_mut() {
                s.anchor_ms = Some(ms);
            }
            let on = format!("the measured baseline {ms} ms");
            (f, a, on, Anchor::Baseline)
        }
        (None, Some(path)) => {
            let (mut f, a) = anchor_file(spec, path)?;
            // One row is `--anchor-ms`'s fit: a baseline priced at its time is that
            // measurement, with no interval, as `--anchor-ms` says (it got one: "500.000 ms
            // (80 %: 392–638 ms)" for a baseline the user measured).
            if a.rows == 1 {
                let ms = anchor_rows(path)?.rows[0].measured_ms;
                if let Some(s) = f.spread.as_mut() {
                    s.anchor_ms = Some(ms);
                }
            }
            let on = match unfitted_rows(path)? {
                0 => format!("{} measured row(s) of {}", a.rows, path.display()),
                n => format!(
                    "{} measured row(s) of {} (its {n} row(s) with fit = false left out)",
                    a.rows,
                    path.display()
                ),
            };
            (f, a, on, Anchor::Rows)
        }
        (None, None) => return Ok(None),
    };
    let note = refitted_note(&framework, a, &on);
    let mut spec = spec.clone();
    // The notes of an earlier anchor (a replayed anchored run anchored again) are not this
    // one's: the caller says this one's.
    let framework = Framework {
        anchor_notes: None,
        anchored_gpu: Some(Scenario::from_spec(&spec)?.gpu.name.clone()),
        ..framework
    };
    spec.framework = Definition::Inline(Box::new(framework));
    Ok(Some((spec, note, kind)))
}

/// Host work per forward an anchor may still add to the profile's own, s.
fn host_headroom_s(framework: &Framework) -> f64 {
    (FIXED_MAX_S - framework.params.fixed_overhead_s.unwrap_or(0.0)).max(0.0)
}

/// The spec's profile refitted to the measured rows of the file at `path` (`--anchor FILE`):
/// every row priced as `check` prices it, under the run's profile with a GEMM efficiency and
/// per-kernel overhead (and, beyond the overhead's bound, more host work per forward) chosen by
/// least squares on the log errors `ln(predicted / measured)` with the priors of
/// [`solve::fit_rows`]; its spread reduced as [`anchor`] reduces it. One row gives
/// [`anchor`]'s exact fit. Errors name the file, its keys and the row ids.
pub fn anchor_file(spec: &Spec, path: &Path) -> Result<(Framework, Anchored)> {
    let file = anchor_rows(path)?;
    let origin = file.origin.clone();
    let framework = fitted_profile(spec, ANCHOR)?;
    let in_file = |message: String| Error::Parse {
        origin: origin.clone(),
        message,
    };
    for r in &file.rows {
        if let Some(why) = r.unpriced_reason() {
            return Err(in_file(format!(
                "measurement '{}': {why}, so it cannot anchor: give the row's gpu and its per-layer setting, or drop the row",
                r.id
            )));
        }
        // The encoder alone says nothing of the LLM's GEMMs and dispatch the refit sets: it
        // moved the per-kernel cost 8.99 → 42.2 µs and the baseline 62 → 109 ms in silence.
        if r.timed == super::Timed::Vision {
            return Err(in_file(format!(
                "measurement '{}': timed = \"vision\" times the vision encoder alone, which an anchor's refit of the run's GEMM efficiency and per-kernel cost does not describe (fits check such rows, never fit them): anchor with rows timed = \"prefill\" or \"ttft\", or drop the row",
                r.id
            )));
        }
        let named = Framework::load(&file.reference(&r.framework, crate::presets::FRAMEWORKS))
            .map_err(|e| in_file(format!("measurement '{}': {e}", r.id)))?;
        if named.name != framework.name {
            return Err(in_file(format!(
                "measurement '{}': framework = \"{}\" but the run's profile is {}: anchor rows time the stack whose profile is refitted, so write framework = \"{}\" or run with {FRAMEWORK} {}",
                r.id, r.framework, framework.name, framework.name, r.framework
            )));
        }
    }
    let run = Scenario::from_spec(spec)?;
    // An anchor pins one stack on one GPU (its refitted figures are that GPU's, as `sweep`
    // refuses two GPUs with an anchor): rows of another GPU would refit the run's profile to
    // a card it does not run on.
    let mut elsewhere: Vec<&str> = Vec::new();
    let mut ids: Vec<&str> = Vec::new();
    for r in &file.rows {
        let gpu = crate::hardware::Gpu::load(&file.reference(&r.gpu, crate::presets::GPUS))
            .map_err(|e| in_file(format!("measurement '{}': {e}", r.id)))?;
        if gpu.name != run.gpu.name {
            ids.push(&r.id);
            if !elsewhere.contains(&r.gpu.as_str()) {
                elsewhere.push(&r.gpu);
            }
        }
    }
    if !elsewhere.is_empty() {
        let run_gpu = match &spec.gpu {
            Definition::Name(n) => n.clone(),
            Definition::Inline(g) => g.name.clone(),
        };
        let gpus = elsewhere.join(", ");
        // Run on the other GPU only where every row is on it (a mixed file is refused there
        // too): otherwise the rows of the other GPUs go.
        let fix = if elsewhere.len() == 1 && ids.len() == file.rows.len() {
            format!(
                "anchor with rows measured on {run_gpu}, or run with {GPU} {}",
                elsewhere[0]
            )
        } else {
            format!(
                "keep the rows of one GPU in the file (drop {} to anchor this run on {run_gpu})",
                ids.join(", ")
            )
        };
        return Err(in_file(format!(
            "rows measured on {gpus}, but the run is on {run_gpu}: an anchor refits the profile to one stack on one GPU; {fix}"
        )));
    }
    let knobs = knobs(&run);
    // Each row's time under a candidate profile (the row's own setup, the run's profile).
    let price = |r: &Measurement, f: &Framework| -> Result<f64> {
        let scenario = file.scenario(r, Some(f))?;
        super::row_time_s(&scenario, r.timed).map_err(|e| file.row_error(r, e))
    };
    let measured_s: Vec<f64> = file.rows.iter().map(|r| r.measured_ms / 1e3).collect();
    let times = |h: Harness| -> Result<Vec<f64>> {
        let f = with_harness(&framework, h);
        file.rows.iter().map(|r| price(r, &f)).collect()
    };
    let (fastest, slowest) = (
        Harness::new(1.0 / knobs.matmul, LAUNCH_MIN_S, 0.0),
        Harness::new(
            MATMUL_MIN / knobs.matmul,
            LAUNCH_MAX_S,
            host_headroom_s(&framework),
        ),
    );
    let (lo, top) = (times(fastest)?, times(slowest)?);
    let reach = |i: usize| {
        format!(
            "measurement '{}': measured_ms = {} but {} prices it at {:.3}–{:.3} ms (GEMMs at {:.0}–100 % of peak, per-kernel overhead 0–{:.0} µs, host work per forward up to {:.0} ms)",
            file.rows[i].id,
            file.rows[i].measured_ms,
            framework.name,
            lo[i] * 1e3,
            top[i] * 1e3,
            MATMUL_MIN * 100.0,
            LAUNCH_MAX_S * 1e6,
            FIXED_MAX_S * 1e3
        )
    };
    let fix = format!("check that the rows time the model, input (timed = \"ttft\" for a time to first token), GPU and precision they name, on the stack of the run's {FRAMEWORK}");
    // Any row beyond what the knobs reach, not only all of them: a row faster than its fastest
    // price (a GPU file copied for another card, a timer that missed work) otherwise pulled the
    // least squares to a bound in silence ("GEMM efficiency refitted to 100.0 % of peak").
    if let Some(i) = (0..lo.len()).find(|&i| measured_s[i] < lo[i] || measured_s[i] > top[i]) {
        let (n, all) = (
            lo.len(),
            (0..lo.len()).all(|j| measured_s[j] < lo[j] || measured_s[j] > top[j]),
        );
        return Err(in_file(format!(
            "{}: {}: {fix}{}",
            reach(i),
            if all {
                "no row can be reached"
            } else {
                "no values within bounds reach it"
            },
            if n > 1 && !all {
                ", or drop the row"
            } else {
                ""
            }
        )));
    }
    let own_fixed_s = framework.params.fixed_overhead_s.unwrap_or(0.0);
    let h = if let [only] = file.rows.as_slice() {
        // One row: the exact fit, as `--anchor-ms` makes it (within reach: checked above).
        let one = |m: f64, l: f64| {
            price(only, &with_harness(&framework, Harness::new(m, l, 0.0))).unwrap_or(f64::INFINITY)
        };
        solve_harness(one, measured_s[0], knobs, own_fixed_s)
            .ok_or_else(|| in_file(format!("{}: {fix}", reach(0))))?
    } else {
        solve::fit_rows(
            |m, l, extra| {
                times(Harness::new(m, l, extra))
                    .unwrap_or_else(|_| vec![f64::INFINITY; measured_s.len()])
            },
            &measured_s,
            knobs,
            host_headroom_s(&framework),
        )
    };
    Ok(finish(
        &framework,
        with_harness(&framework, h),
        h,
        knobs,
        file.rows.len(),
    ))
}

/// The rows of the measurement file at `path` an anchor fits: those without `fit = false`
/// ("never fitted", as `fit` leaves them out; the anchor fitted them in silence). A file of
/// such rows alone is refused.
fn anchor_rows(path: &Path) -> Result<Measurements> {
    let mut file = Measurements::load(path)?;
    if !file.rows.is_empty() && file.rows.iter().all(|r| !r.fit) {
        return Err(Error::Parse {
            origin: file.origin.clone(),
            message: "every row says fit = false (never fitted), and an anchor is a fit of its rows: drop fit = false from the rows that time your stack".into(),
        });
    }
    file.rows.retain(|r| r.fit);
    Ok(file)
}

/// How many rows of the file at `path` say `fit = false`, which an anchor leaves out.
fn unfitted_rows(path: &Path) -> Result<usize> {
    Ok(Measurements::load(path)?
        .rows
        .iter()
        .filter(|r| !r.fit)
        .count())
}

/// The scenario of `spec` anchored on the measured rows of `path` (the CLI's `--anchor FILE`,
/// Python's `anchor`): [`anchor_file`]'s profile, and a note saying what was refitted.
pub fn anchored_scenario_file(spec: &Spec, path: &Path) -> Result<Scenario> {
    let spec = &unanchored(spec, ANCHOR)?;
    let (mut anchored, refitted, kind) =
        anchored_spec(spec, None, Some(path))?.expect("an anchor is given");
    // One row that is this run's baseline is a measured baseline, as `--anchor-ms`'s: the
    // same other estimate from it.
    let spread = match &anchored.framework {
        Definition::Inline(f) => f.spread,
        Definition::Name(_) => None,
    };
    let scaled = match spread.and_then(|s| s.anchor_ms) {
        Some(ms) => {
            let base_s = crate::sim::summarize(&Scenario::from_spec(&anchored)?)?
                .baseline
                .time_s;
            match spread.is_some_and(|s| s.measured_baseline(base_s)) {
                true => scaled_note(spec, &anchored, ms)?,
                false => None,
            }
        }
        None => None,
    };
    with_notes(&mut anchored, refitted, scaled);
    scenario_of(&anchored, kind)
}

/// What an anchor refitted, and from where.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchored {
    /// The refitted figures.
    pub harness: Harness,
    /// The profile's own, for the run.
    pub knobs: Knobs,
    /// How many measured rows it was refitted to (1 for `--anchor-ms`).
    pub rows: usize,
}

impl Anchored {
    /// The run's refitted GEMM efficiency.
    pub fn matmul(&self) -> f64 {
        self.harness.matmul(self.knobs.matmul)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(framework: &str) -> Spec {
        Spec {
            framework: Definition::Name(framework.into()),
            gpu: Definition::Name("a100-80g".into()),
            ..Spec::default()
        }
    }

    fn baseline_s(s: &Spec, f: Framework) -> f64 {
        let mut t = s.clone();
        t.framework = Definition::Inline(Box::new(f));
        crate::sim::summarize(&Scenario::from_spec(&t).unwrap())
            .unwrap()
            .baseline
            .time_s
    }

    fn harness(matmul_scale: f64, launch_s: f64) -> Harness {
        Harness::new(matmul_scale, launch_s, 0.0)
    }

    /// The anchored profile reproduces the anchor for the baseline, moves the schedule's time
    /// the same way, and its interval is never wider than without the anchor.
    #[test]
    fn an_anchor_is_reproduced_and_narrows_the_interval() {
        let s = spec("hf");
        let before = crate::sim::summarize(&Scenario::from_spec(&s).unwrap()).unwrap();
        for factor in [0.8, 1.02, 1.1, 1.3] {
            let anchor_s = before.baseline.time_s * factor;
            let (f, a) = anchor(&s, anchor_s).unwrap();
            let mut t = s.clone();
            t.framework = Definition::Inline(Box::new(f.clone()));
            let after = crate::sim::summarize(&Scenario::from_spec(&t).unwrap()).unwrap();
            assert!(
                (after.baseline.time_s / anchor_s - 1.0).abs() < 1e-9,
                "{factor}: {} vs {anchor_s}",
                after.baseline.time_s
            );
            // Slower: GEMMs slower and more overhead; faster: the other way.
            let h = a.harness;
            assert_eq!(after.run.time_s > before.run.time_s, factor > 1.0);
            assert_eq!(h.matmul_scale < 1.0, factor > 1.0, "{h:?}");
            assert_eq!(h.launch_s > a.knobs.launch_s, factor > 1.0, "{h:?}");
            assert!(h.launch_s > 0.0 && h.launch_s <= LAUNCH_MAX_S);
            let (old, new) = (
                Framework::load("hf").unwrap().spread.unwrap(),
                f.spread.unwrap(),
            );
            assert!(new.time_sigma() <= old.time_sigma() + 1e-12);
            assert_eq!(new.between_sources, 0.0);
            // hf's speed-up σ is the narrower: the anchored interval takes its degrees of
            // freedom (its pairs' sources), not the unanchored time σ's.
            assert!(old.speedup_sigma() < old.time_sigma());
            assert_eq!(new.time_dof, old.speedup_dof);
        }
    }

    /// One measurement, two knobs: the run's own make-up decides which moves. The same 20 %
    /// miss on a long prompt (mostly GEMMs) moves the GEMM efficiency further, and the
    /// overhead less, than on a one-frame prompt (mostly per-op dispatch).
    #[test]
    fn the_split_follows_what_the_baseline_is_made_of() {
        let split = |frames: u64| {
            let mut s = spec("hf");
            s.frames = Some(frames);
            let t = crate::sim::summarize(&Scenario::from_spec(&s).unwrap())
                .unwrap()
                .baseline
                .time_s;
            let a = anchor(&s, 1.2 * t).unwrap().1;
            (
                a.harness.matmul_scale.ln().abs(),
                (a.harness.launch_s / a.knobs.launch_s).ln().abs(),
            )
        };
        let (short, long) = (split(1), split(48));
        assert!(long.0 > short.0, "GEMM: {short:?} vs {long:?}");
        assert!(long.1 < short.1, "overhead: {short:?} vs {long:?}");
        // In prior σ's, the long prompt's miss is mostly GEMMs, the short one's mostly overhead.
        let (gemm, launch) = (MATMUL_PRIOR_SIGMA_FOR_TESTS, LAUNCH_PRIOR_SIGMA_FOR_TESTS);
        assert!(long.0 / gemm > long.1 / launch, "{long:?}");
        assert!(short.0 / gemm < short.1 / launch, "{short:?}");
    }

    use crate::check::fit::{
        LAUNCH_PRIOR_SIGMA as LAUNCH_PRIOR_SIGMA_FOR_TESTS,
        MATMUL_PRIOR_SIGMA as MATMUL_PRIOR_SIGMA_FOR_TESTS,
    };

    /// Rows measured as a profile with known GEMM efficiency and per-kernel overhead would time
    /// them, at prompts from short to long: the least-squares fit over them finds both again
    /// (to the little the priors pull towards the profile).
    #[test]
    fn several_rows_recover_the_harness_they_were_timed_with() {
        let (scale, truth_s) = (0.8, 41e-6);
        let framework = with_harness(&Framework::load("hf").unwrap(), harness(scale, truth_s));
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for (i, frames) in [1u64, 4, 16, 48].into_iter().enumerate() {
            let mut s = spec("hf");
            s.frames = Some(frames);
            s.schedule = Definition::Name("none".into());
            let ms = baseline_s(&s, framework.clone()) * 1e3;
            text += &format!(
                "[[measurement]]\nid = \"r{i}\"\nsource = \"mine\"\nmodel = \"llava-ov-7b\"\ngpu = \"a100-80g\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\ntext_tokens = 100\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = {ms}\n\n"
            );
        }
        let path = dir.path().join("rows.toml");
        std::fs::write(&path, text).unwrap();
        let (_, a) = anchor_file(&spec("hf"), &path).unwrap();
        let h = a.harness;
        assert!((h.matmul_scale / scale - 1.0).abs() < 0.02, "{h:?}");
        assert!((h.launch_s / truth_s - 1.0).abs() < 0.05, "{h:?}");
        assert_eq!(h.extra_host_s, 0.0);
    }

    proptest::proptest! {
        /// The one solve (`--anchor-ms` and the fit's anchored figures), on a baseline of GEMM
        /// time over the efficiency plus a per-kernel overhead: it reproduces any anchor within
        /// the knobs' reach (host work beyond it, within its bound with the profile's own
        /// counted), refuses exactly the others, and no other pair on the anchor's curve is
        /// more likely under the priors.
        #[test]
        fn harness_solve_reaches_what_the_bounds_allow_most_likely(
            gemm_ms in 1.0..500.0f64,
            rest_ms in 0.0..50.0f64,
            kernels in 10.0..5000.0f64,
            own_ms in 0.0..400.0f64,
            matmul in 0.3..1.0f64,
            launch_us in 1.0..60.0f64,
            frac in -0.05..1.2f64,
        ) {
            let (gemm_s, rest_s, own_s) = (gemm_ms / 1e3, rest_ms / 1e3, own_ms / 1e3);
            let knobs = Knobs { matmul, launch_s: launch_us * 1e-6 };
            let baseline_s = |m: f64, l: f64| gemm_s / (m.min(1.0 / matmul)) + rest_s + own_s + kernels * l;
            let lo = baseline_s(1.0 / matmul, LAUNCH_MIN_S);
            let hi = baseline_s(MATMUL_MIN / matmul, LAUNCH_MAX_S);
            let top = hi + (FIXED_MAX_S - own_s);
            // Mostly near the profile's own time, where anchors fall; some out to the bounds.
            let here = baseline_s(1.0, knobs.launch_s);
            let anchor_s = if frac < 1.0 { lo + frac * 2.0 * (here - lo) } else { lo + (frac - 1.0) * 6.0 * (top - lo) };
            match solve_harness(baseline_s, anchor_s, knobs, own_s) {
                Some(h) => {
                    proptest::prop_assert!(anchor_s >= lo * (1.0 - 1e-12) && anchor_s <= top * (1.0 + 1e-12));
                    let got = baseline_s(h.matmul_scale, h.launch_s) + h.extra_host_s;
                    proptest::prop_assert!((got / anchor_s - 1.0).abs() < 1e-9, "{got} vs {anchor_s}");
                    proptest::prop_assert!(h.extra_host_s == 0.0 || h.launch_s == LAUNCH_MAX_S);
                    if h.extra_host_s == 0.0 {
                        let cost = |m: f64, l: f64| (m.ln() / MATMUL_PRIOR_SIGMA_FOR_TESTS).powi(2)
                            + ((l / knobs.launch_s).ln() / LAUNCH_PRIOR_SIGMA_FOR_TESTS).powi(2);
                        let best = cost(h.matmul_scale, h.launch_s);
                        // Other points of the curve: each overhead, with the GEMM efficiency
                        // that makes up the rest.
                        for i in 1..40 {
                            let l = LAUNCH_MAX_S * (i as f64 / 40.0).powi(3);
                            let gemm_left = anchor_s - rest_s - own_s - kernels * l;
                            if gemm_left <= 0.0 { continue; }
                            let m = gemm_s / gemm_left;
                            if m * matmul > 1.0 || m * matmul < MATMUL_MIN { continue; }
                            // Up to near-ties between two basins far from the profile (GEMMs at
                            // a few per cent of peak), which a grid may pick either of.
                            proptest::prop_assert!(best <= cost(m, l) * (1.0 + 1e-3) + 1e-6, "{h:?} {best} vs m {m} l {l}: {}", cost(m, l));
                        }
                    }
                }
                None => proptest::prop_assert!(anchor_s < lo || anchor_s > top * (1.0 - 1e-12)),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
        /// A file of one row timing the run's own input without reduction refits the profile
        /// exactly as `--anchor-ms` does (the same figures and spread), wherever the anchor lies
        /// within reach.
        #[test]
        fn one_row_in_a_file_is_anchor_ms(frames in 1u64..48, factor in 0.8f64..3.0) {
            let mut s = spec("hf");
            s.frames = Some(frames);
            let anchor_s = baseline_s(&s, Framework::load("hf").unwrap()) * factor;
            let (want, a) = anchor(&s, anchor_s).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("one.toml");
            std::fs::write(&path, format!(
                "[[measurement]]\nid = \"mine\"\nsource = \"mine\"\nmodel = \"llava-ov-7b\"\ngpu = \"a100-80g\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\ntext_tokens = 100\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = {}\n",
                anchor_s * 1e3
            )).unwrap();
            let (got, b) = anchor_file(&s, &path).unwrap();
            // `measured_ms` goes through decimal text, and a minimum's place is found to about
            // the square root of the rounding (golden sections on a flat bottom): compare the
            // refitted figures to 1e-6 (the anchor itself is reproduced to 1e-9:
            // an_anchor_is_reproduced_and_narrows_the_interval).
            let (x, y) = (a.harness, b.harness);
            proptest::prop_assert!((x.matmul_scale / y.matmul_scale - 1.0).abs() <= 1e-6, "{a:?} vs {b:?}");
            proptest::prop_assert!((x.launch_s / y.launch_s - 1.0).abs() <= 1e-6, "{a:?} vs {b:?}");
            proptest::prop_assert!((x.extra_host_s - y.extra_host_s).abs() <= 1e-9 * anchor_s, "{a:?} vs {b:?}");
            proptest::prop_assert_eq!(want.spread, got.spread);
        }
    }

    /// Regression: under a profile with its own host work (hf-eager), an anchor just inside
    /// the knobs' reach plus `FIXED_MAX_S` but beyond the headroom left by that host work used
    /// to fall through and silently miss the anchor.
    #[test]
    fn an_anchor_beyond_the_host_work_headroom_is_refused() {
        let s = spec("hf-eager");
        let f = Framework::load("hf-eager").unwrap();
        let k = knobs(&Scenario::from_spec(&s).unwrap());
        let hi = baseline_s(
            &s,
            with_harness(&f, harness(MATMUL_MIN / k.matmul, LAUNCH_MAX_S)),
        );
        let own = f.params.fixed_overhead_s.unwrap();
        assert!(own > 0.0);
        let e = anchor(&s, hi + FIXED_MAX_S - own / 2.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot reach"), "{e}");
        // Within the headroom: reproduced.
        let want = hi + FIXED_MAX_S - 2.0 * own;
        let (g, a) = anchor(&s, want).unwrap();
        assert!(a.harness.extra_host_s > 0.0);
        assert!((baseline_s(&s, g) / want - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_roofline_and_impossible_anchors_are_refused() {
        let e = anchor(&spec("roofline"), 0.5).unwrap_err().to_string();
        assert!(e.contains("framework trtllm"), "{e}");
        for bad in [0.0, -1.0, f64::NAN, 1e-6, 1e4] {
            let e = anchor(&spec("hf"), bad).unwrap_err().to_string();
            assert!(e.contains("anchor_ms"), "{bad}: {e}");
        }
    }
}
