//! One-anchor calibration ("time your baseline once", issue 21): the user's measured time of
//! the input *without* reduction on their own stack refits the harness-level parameter of a
//! fitted profile — the per-kernel overhead `launch_overhead_s`, the figure that differs most
//! between harnesses (2.5× for the same model, GPU and setting, docs/accuracy.md) — so that the
//! profile reproduces the anchor; the schedule's time is then predicted from there.
//!
//! With the harness's offset pinned by the anchor, what is left of a prediction's error is the
//! error of a ratio of two runs of one harness: the profile's speed-up σ (`[spread].speedup`),
//! which becomes the anchored interval's σ.
//!
//! `--anchor FILE` generalises it to several measured rows in the measurement schema
//! (reference/measurements.toml's): the same two harness-level quantities (per-kernel overhead,
//! then host work per forward once the overhead is at its bound) fitted by least squares on
//! the rows' log errors, each row priced as `check` prices it. One row is fitted exactly, as
//! `--anchor-ms` fits its baseline.

use super::{row_error, Measurement, Measurements};
use crate::error::keys::{ANCHOR, ANCHOR_MS, FRAMEWORK, INCLUDE_VISION};
use crate::error::{Error, Result};
use crate::framework::{Framework, Spread};
use crate::scenario::Scenario;
use crate::spec::{Definition, Spec};
use std::path::Path;

/// Largest per-kernel overhead an anchor may imply, s (the fit's bound, fit.rs).
pub const LAUNCH_MAX_S: f64 = 300e-6;
/// Largest host work per forward an anchor may imply, s (the fit's bound, fit.rs).
pub const FIXED_MAX_S: f64 = 0.5;

/// Bisection on a monotone increasing `f` over `[lo, hi]` for `f(x) = target`.
pub fn solve_increasing(f: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        if f(m) < target {
            a = m;
        } else {
            b = m;
        }
    }
    0.5 * (a + b)
}

/// `framework` with every table's per-kernel overhead set to `launch_s`.
fn with_launch(framework: &Framework, launch_s: f64) -> Framework {
    let mut f = framework.clone();
    f.params.launch_overhead_s = Some(launch_s);
    for p in f.gpu.values_mut() {
        if p.launch_overhead_s.is_some() {
            p.launch_overhead_s = Some(launch_s);
        }
    }
    f
}

/// The spec's profile refitted to the measured baseline time `anchor_s`: its per-kernel
/// overhead solved so that the baseline (the same input, no reduction) takes `anchor_s`, and its
/// spread reduced to what an anchor leaves. `Err` (one line, with the fix) for the roofline, a
/// non-positive anchor, or an anchor no overhead within bounds reaches.
pub fn anchor(spec: &Spec, anchor_s: f64) -> Result<(Framework, Anchored)> {
    if !(anchor_s.is_finite() && anchor_s > 0.0) {
        return Err(Error::invalid(format!(
            "{ANCHOR_MS} {} must be a positive number of milliseconds",
            anchor_s * 1e3
        )));
    }
    let scenario = Scenario::from_spec(spec)?;
    let framework = match &spec.framework {
        Definition::Inline(f) => (**f).clone(),
        Definition::Name(n) => Framework::load(n)?,
    };
    if framework.is_roofline() {
        return Err(Error::invalid(
            format!("{ANCHOR_MS} refits a fitted framework profile: add {FRAMEWORK} trtllm|hf|hf-eager (or a profile file); the roofline is a bound with nothing to refit"),
        ));
    }
    let baseline_s = |launch_s: f64| -> Result<f64> {
        let mut s = spec.clone();
        s.framework = Definition::Inline(Box::new(with_launch(&framework, launch_s)));
        Ok(crate::sim::summarize(&Scenario::from_spec(&s)?)?
            .baseline
            .time_s)
    };
    // Priced here first so that a pricing error is reported as itself.
    let (lo, hi) = (baseline_s(0.0)?, baseline_s(LAUNCH_MAX_S)?);
    let solved = solve_harness(
        |l| baseline_s(l).unwrap_or(f64::INFINITY),
        anchor_s,
        framework.params.fixed_overhead_s.unwrap_or(0.0),
    );
    match solved {
        Some(Harness {
            launch_s,
            extra_host_s,
        }) => {
            let out = with_harness(&framework, launch_s, extra_host_s);
            Ok(finish(
                &framework,
                out,
                anchor_s,
                launch_s,
                (extra_host_s > 0.0).then_some(extra_host_s),
            ))
        }
        // Out of reach: the bound counts the profile's own host work (issue 21: an anchor just
        // under `hi + FIXED_MAX_S` under a profile with host work used to fall through to the
        // bisection and silently miss the anchor).
        None => Err(Error::invalid(format!(
            "{ANCHOR_MS} {:.3}: framework {} cannot reach it for this input without reduction on {} ({:.3}–{:.3} ms for a per-kernel overhead of 0–{:.0} µs and host work per forward up to {:.0} ms): check that the anchor times the same model, input ({INCLUDE_VISION} for a time to first token), GPU and precision, without token reduction",
            anchor_s * 1e3,
            framework.name,
            scenario.gpu.name,
            lo * 1e3,
            (hi + host_headroom_s(&framework)) * 1e3,
            LAUNCH_MAX_S * 1e6,
            FIXED_MAX_S * 1e3
        ))),
    }
}

/// The harness quantities one anchor implies (issue 21 item 4).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Harness {
    /// Per-kernel overhead, s, within `0..=LAUNCH_MAX_S`.
    pub launch_s: f64,
    /// Host work per forward added to the profile's own, s (0 unless the overhead is at its bound).
    pub extra_host_s: f64,
}

/// The one solve behind `--anchor-ms` and the fit's anchored figures: the per-kernel overhead
/// that makes the baseline take `anchor_s` (`baseline_s(launch)`: its time with that overhead
/// and the profile's own host work `own_fixed_s`, increasing in `launch`), and beyond the
/// overhead's bound the rest as host work per forward, within `FIXED_MAX_S` in all (the
/// profile's own counted). `None` when no value within the bounds reaches the anchor.
pub(crate) fn solve_harness(
    baseline_s: impl Fn(f64) -> f64,
    anchor_s: f64,
    own_fixed_s: f64,
) -> Option<Harness> {
    let (lo, hi) = (baseline_s(0.0), baseline_s(LAUNCH_MAX_S));
    if anchor_s > hi {
        let extra_host_s = anchor_s - hi;
        return (own_fixed_s + extra_host_s <= FIXED_MAX_S).then_some(Harness {
            launch_s: LAUNCH_MAX_S,
            extra_host_s,
        });
    }
    if anchor_s < lo {
        return None;
    }
    // Bisection on the baseline (monotone in the overhead: every kernel adds it).
    Some(Harness {
        launch_s: solve_increasing(baseline_s, anchor_s, 0.0, LAUNCH_MAX_S),
        extra_host_s: 0.0,
    })
}

/// The anchored profile: its spread reduced to what an anchor leaves, a note saying so.
fn finish(
    framework: &Framework,
    mut out: Framework,
    anchor_s: f64,
    launch_s: f64,
    extra_host_s: Option<f64>,
) -> (Framework, Anchored) {
    out.spread = framework.spread.map(|s| {
        // The anchor pins the harness: a new run's error is that of a ratio of two runs of it
        // (the speed-up σ). Where sources barely differ that is wider than the unanchored σ,
        // and an anchor adds nothing: never wider than without it. The σ kept brings its
        // degrees of freedom.
        let (sigma, dof) = if s.speedup_sigma() < s.time_sigma() {
            (s.speedup_sigma(), s.speedup_sigma_dof())
        } else {
            (s.time_sigma(), s.time_dof)
        };
        Spread {
            between_sources: 0.0,
            moe_between_sources: s.moe_between_sources.map(|_| 0.0),
            within_source: sigma,
            time_dof: dof,
            moe_time_dof: s.moe_time_dof.and(dof),
            ..s
        }
    });
    out.notes.push(format!(
        "anchored on the measured baseline {:.3} ms: per-kernel overhead {:.2} µs{}",
        anchor_s * 1e3,
        launch_s * 1e6,
        extra_host_s.map_or(String::new(), |e| format!(
            " (its bound) and {:.3} ms more host work per forward",
            e * 1e3
        ))
    ));
    (
        out,
        Anchored {
            launch_overhead_s: launch_s,
            extra_host_s: extra_host_s.unwrap_or(0.0),
        },
    )
}

/// The scenario of `spec` anchored on a measured baseline of `anchor_ms` milliseconds (the
/// CLI's `--anchor-ms`, Python's `anchor_ms`): the framework refitted by [`anchor`], and a note
/// saying what was refitted.
pub fn anchored_scenario(spec: &Spec, anchor_ms: f64) -> Result<Scenario> {
    let (framework, a) = anchor(spec, anchor_ms / 1e3)?;
    // The other estimate from the same measurement: the baseline times the unanchored
    // predicted speed-up (its error is the speed-up's; on the published desktop sources it
    // held better than the refitted overhead, docs/accuracy.md "One anchor").
    let scaled = crate::sim::simulate(&Scenario::from_spec(spec)?)?.reduction;
    let mut scenario = with_refitted(
        spec,
        framework,
        a,
        &format!("the measured baseline {anchor_ms} ms"),
    )?;
    if scaled.time > 0.0 && scaled.time != 1.0 {
        let interval = scaled.time_interval.map_or(String::new(), |[lo, hi]| {
            format!(" (80 %: {:.1}–{:.1} ms)", anchor_ms / hi, anchor_ms / lo)
        });
        scenario.framework_notes.push(format!(
            "the measured baseline × the predicted speed-up ({:.2}×) instead: {:.1} ms{interval}; on the published desktop sources this held better than the refitted overhead (docs/accuracy.md, one anchor)",
            scaled.time,
            anchor_ms / scaled.time
        ));
    }
    Ok(scenario)
}

/// The scenario of `spec` under the refitted `framework`, with a note saying what was refitted
/// to what (`on`), for [`anchored_scenario`] and [`anchored_scenario_file`].
fn with_refitted(spec: &Spec, framework: Framework, a: Anchored, on: &str) -> Result<Scenario> {
    let note = format!(
        "anchored on {on}: framework {}'s per-kernel overhead refitted to {:.2} µs{}; the interval is what an anchor leaves (the profile's speed-up σ)",
        framework.name,
        a.launch_overhead_s * 1e6,
        if a.extra_host_s > 0.0 {
            format!(" and {:.3} ms more host work per forward", a.extra_host_s * 1e3)
        } else {
            String::new()
        }
    );
    let mut spec = spec.clone();
    spec.framework = Definition::Inline(Box::new(framework));
    let mut scenario = Scenario::from_spec(&spec)?;
    scenario.framework_notes.push(note);
    Ok(scenario)
}

/// Host work per forward an anchor may still add to the profile's own, s.
fn host_headroom_s(framework: &Framework) -> f64 {
    (FIXED_MAX_S - framework.params.fixed_overhead_s.unwrap_or(0.0)).max(0.0)
}

/// Golden-section search for the minimum of `f` over `[lo, hi]` (unimodal there: a sum of
/// squared log errors of times increasing in the parameter).
fn golden_min(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..80 {
        if fc <= fd {
            (b, d, fd) = (d, c, fc);
            c = b - r * (b - a);
            fc = f(c);
        } else {
            (a, c, fc) = (c, d, fd);
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    // The bounds themselves when they are better (an optimum at a bound).
    let m = 0.5 * (a + b);
    [lo, m, hi]
        .into_iter()
        .map(|x| (f(x), x))
        .fold(
            (f64::INFINITY, m),
            |best, (fx, x)| if fx < best.0 { (fx, x) } else { best },
        )
        .1
}

/// `framework` with the per-kernel overhead `launch_s` and `extra_s` more host work per forward
/// in every table that states one (as [`anchor`] sets them).
fn with_harness(framework: &Framework, launch_s: f64, extra_s: f64) -> Framework {
    let mut out = with_launch(framework, launch_s);
    if extra_s > 0.0 {
        out.params.fixed_overhead_s =
            Some(framework.params.fixed_overhead_s.unwrap_or(0.0) + extra_s);
        for p in out.gpu.values_mut() {
            if let Some(f) = p.fixed_overhead_s.as_mut() {
                *f += extra_s;
            }
        }
    }
    out
}

/// The spec's profile refitted to the measured rows of the file at `path` (`--anchor FILE`):
/// every row priced as `check` prices it, under the run's profile with a per-kernel overhead
/// (and, beyond its bound, more host work per forward) chosen to minimise the sum of squared
/// log errors `ln(predicted / measured)`; its spread reduced as [`anchor`] reduces it. One row
/// gives [`anchor`]'s exact fit. Errors name the file, its keys and the row ids.
pub fn anchor_file(spec: &Spec, path: &Path) -> Result<(Framework, Anchored)> {
    let file = Measurements::load(path)?;
    let origin = file.origin.clone();
    let framework = match &spec.framework {
        Definition::Inline(f) => (**f).clone(),
        Definition::Name(n) => Framework::load(n)?,
    };
    let in_file = |message: String| Error::Parse {
        origin: origin.clone(),
        message,
    };
    if framework.is_roofline() {
        return Err(Error::invalid(format!(
            "{ANCHOR} refits a fitted framework profile: add {FRAMEWORK} trtllm|hf|hf-eager (or a profile file); the roofline is a bound with nothing to refit",
        )));
    }
    for r in &file.rows {
        if let Some(why) = r.unpriced_reason() {
            return Err(in_file(format!(
                "measurement '{}': {why}, so it cannot anchor: give the row's gpu and its per-layer setting, or drop the row",
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
    // Each row's time under a candidate profile (the row's own setup, the run's profile).
    let price = |r: &Measurement, f: &Framework| -> Result<f64> {
        let scenario = file.scenario(r, Some(f))?;
        super::row_time_s(&scenario, r.timed).map_err(|e| row_error(&r.id, e))
    };
    let measured_s: Vec<f64> = file.rows.iter().map(|r| r.measured_ms / 1e3).collect();
    let times = |launch_s: f64, extra_s: f64| -> Result<Vec<f64>> {
        let f = with_harness(&framework, launch_s, extra_s);
        file.rows.iter().map(|r| price(r, &f)).collect()
    };
    let (lo, hi, top) = (
        times(0.0, 0.0).map_err(|e| in_file(e.to_string()))?,
        times(LAUNCH_MAX_S, 0.0)?,
        times(LAUNCH_MAX_S, host_headroom_s(&framework))?,
    );
    let reach = |i: usize| {
        format!(
            "measurement '{}': measured_ms = {} but {} prices it at {:.3}–{:.3} ms (per-kernel overhead 0–{:.0} µs, host work per forward up to {:.0} ms)",
            file.rows[i].id,
            file.rows[i].measured_ms,
            framework.name,
            lo[i] * 1e3,
            top[i] * 1e3,
            LAUNCH_MAX_S * 1e6,
            FIXED_MAX_S * 1e3
        )
    };
    let fix = format!("check that the rows time the model, input (timed = \"ttft\" for a time to first token), GPU and precision they name, on the stack of the run's {FRAMEWORK}");
    if let Some(i) = (0..lo.len()).find(|&i| measured_s[i] < lo[i]) {
        if (0..lo.len()).all(|j| measured_s[j] < lo[j]) {
            return Err(in_file(format!(
                "{}: no row can be reached: {fix}",
                reach(i)
            )));
        }
    }
    if let Some(i) = (0..lo.len()).find(|&i| measured_s[i] > top[i]) {
        if (0..lo.len()).all(|j| measured_s[j] > top[j]) {
            return Err(in_file(format!(
                "{}: no row can be reached: {fix}",
                reach(i)
            )));
        }
    }
    let (launch_s, extra_s) = if let [only] = file.rows.as_slice() {
        // One row: the exact fit, as `--anchor-ms` makes it.
        let (target, base_hi) = (measured_s[0], hi[0]);
        if target > base_hi {
            // Within the headroom: `top` bounds it (checked above).
            (LAUNCH_MAX_S, target - base_hi)
        } else {
            let launch = solve_increasing(
                |l| price(only, &with_launch(&framework, l)).unwrap_or(f64::INFINITY),
                target,
                0.0,
                LAUNCH_MAX_S,
            );
            (launch, 0.0)
        }
    } else {
        // Least squares on the log errors: first the per-kernel overhead, then host work once
        // the overhead is at its bound and the rows still want more.
        let sse = |t: &[f64]| -> f64 {
            t.iter()
                .zip(&measured_s)
                .map(|(p, m)| (p / m).ln().powi(2))
                .sum()
        };
        let cost = |l: f64, x: f64| times(l, x).map_or(f64::INFINITY, |t| sse(&t));
        let launch = golden_min(|l| cost(l, 0.0), 0.0, LAUNCH_MAX_S);
        let short = hi
            .iter()
            .zip(&measured_s)
            .map(|(p, m)| (p / m).ln())
            .sum::<f64>()
            < 0.0;
        if launch > LAUNCH_MAX_S * (1.0 - 1e-6) && short {
            (
                LAUNCH_MAX_S,
                golden_min(|x| cost(LAUNCH_MAX_S, x), 0.0, host_headroom_s(&framework)),
            )
        } else {
            (launch, 0.0)
        }
    };
    let out = with_harness(&framework, launch_s, extra_s);
    let (mut out, a) = finish(
        &framework,
        out,
        measured_s[0],
        launch_s,
        (extra_s > 0.0).then_some(extra_s),
    );
    // `finish` names one anchor; name the file instead.
    out.notes.pop();
    out.notes.push(format!(
        "anchored on {} measured row(s) of {}: per-kernel overhead {:.2} µs{}",
        file.rows.len(),
        origin,
        launch_s * 1e6,
        if extra_s > 0.0 {
            format!(
                " (its bound) and {:.3} ms more host work per forward",
                extra_s * 1e3
            )
        } else {
            String::new()
        }
    ));
    Ok((out, a))
}

/// The scenario of `spec` anchored on the measured rows of `path` (the CLI's `--anchor FILE`,
/// Python's `anchor`): [`anchor_file`]'s profile, and a note saying what was refitted.
pub fn anchored_scenario_file(spec: &Spec, path: &Path) -> Result<Scenario> {
    let (framework, a) = anchor_file(spec, path)?;
    with_refitted(
        spec,
        framework,
        a,
        &format!("the rows of {}", path.display()),
    )
}

/// What an anchor refitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Anchored {
    /// The per-kernel overhead that reproduces the anchor, s.
    pub launch_overhead_s: f64,
    /// Host work per forward added beyond the profile's, s (0 unless the overhead hit its bound).
    pub extra_host_s: f64,
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

    /// The anchored profile reproduces the anchor for the baseline, moves the schedule's time
    /// the same way, and its interval is never wider than without the anchor.
    #[test]
    fn an_anchor_is_reproduced_and_narrows_the_interval() {
        let s = spec("hf");
        let before = crate::sim::summarize(&Scenario::from_spec(&s).unwrap()).unwrap();
        for factor in [1.02, 1.1, 1.3] {
            let anchor_s = before.baseline.time_s * factor;
            let (f, a) = anchor(&s, anchor_s).unwrap();
            let mut t = s.clone();
            t.framework = Definition::Inline(Box::new(f.clone()));
            let after = crate::sim::summarize(&Scenario::from_spec(&t).unwrap()).unwrap();
            assert!(
                (after.baseline.time_s / anchor_s - 1.0).abs() < 1e-6,
                "{factor}: {} vs {anchor_s}",
                after.baseline.time_s
            );
            assert!(after.run.time_s > before.run.time_s);
            assert!(a.launch_overhead_s > 0.0 && a.launch_overhead_s <= LAUNCH_MAX_S);
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

    /// Rows measured as a profile with a known per-kernel overhead would time them: the least
    /// squares fit over several setups finds that overhead again.
    #[test]
    fn several_rows_recover_the_overhead_they_were_timed_with() {
        let truth_s = 41e-6;
        let framework = with_launch(&Framework::load("hf").unwrap(), truth_s);
        let dir = tempfile::tempdir().unwrap();
        let mut text = String::new();
        for (i, frames) in [4u64, 16, 48].into_iter().enumerate() {
            let mut s = spec("hf");
            s.frames = Some(frames);
            s.schedule = Definition::Name("none".into());
            s.framework = Definition::Inline(Box::new(framework.clone()));
            let ms = crate::sim::summarize(&Scenario::from_spec(&s).unwrap())
                .unwrap()
                .baseline
                .time_s
                * 1e3;
            text += &format!(
                "[[measurement]]\nid = \"r{i}\"\nsource = \"mine\"\nmodel = \"llava-ov-7b\"\ngpu = \"a100-80g\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\ntext_tokens = 100\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = {ms}\n\n"
            );
        }
        let path = dir.path().join("rows.toml");
        std::fs::write(&path, text).unwrap();
        let (_, a) = anchor_file(&spec("hf"), &path).unwrap();
        assert!(
            (a.launch_overhead_s / truth_s - 1.0).abs() < 1e-4,
            "{} vs {truth_s}",
            a.launch_overhead_s
        );
        assert_eq!(a.extra_host_s, 0.0);
    }

    proptest::proptest! {
        /// The one solve (`--anchor-ms` and the fit's anchored figures): on a baseline linear in
        /// the overhead it reproduces any reachable anchor, and refuses exactly the anchors
        /// beyond the host-work bound with the profile's own host work counted (the fit's copy
        /// of this solve ignored that host work).
        #[test]
        fn harness_solve_reaches_what_the_bounds_allow(
            base_ms in 1.0..500.0f64,
            kernels in 10.0..5000.0f64,
            own_ms in 0.0..400.0f64,
            frac in -0.2..1.5f64,
        ) {
            let (base_s, own_s) = (base_ms / 1e3, own_ms / 1e3);
            let baseline_s = |l: f64| base_s + own_s + kernels * l;
            let (lo, hi) = (baseline_s(0.0), baseline_s(LAUNCH_MAX_S));
            let top = hi + (FIXED_MAX_S - own_s);
            let anchor_s = lo + frac * (top - lo) * 1.1;
            match solve_harness(baseline_s, anchor_s, own_s) {
                Some(h) => {
                    proptest::prop_assert!(anchor_s >= lo && anchor_s <= top + 1e-12);
                    let got = baseline_s(h.launch_s) + h.extra_host_s;
                    proptest::prop_assert!((got / anchor_s - 1.0).abs() < 1e-9, "{got} vs {anchor_s}");
                    proptest::prop_assert!(h.extra_host_s == 0.0 || h.launch_s == LAUNCH_MAX_S);
                }
                None => proptest::prop_assert!(anchor_s < lo || anchor_s > top - 1e-12),
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(12))]
        /// A file of one row timing the run's own input without reduction refits the profile
        /// exactly as `--anchor-ms` does (the same overhead, host work and spread), wherever the
        /// anchor lies within reach, per-kernel overhead or host work.
        #[test]
        fn one_row_in_a_file_is_anchor_ms(frames in 1u64..48, factor in 1.0f64..1.9) {
            let mut s = spec("hf");
            s.frames = Some(frames);
            let (lo, hi) = {
                let at = |l: f64| {
                    let mut t = s.clone();
                    t.framework = Definition::Inline(Box::new(with_launch(&Framework::load("hf").unwrap(), l)));
                    crate::sim::summarize(&Scenario::from_spec(&t).unwrap()).unwrap().baseline.time_s
                };
                (at(0.0), at(LAUNCH_MAX_S))
            };
            // From no overhead to past the overhead's bound (host work), within reach.
            let anchor_s = (lo * factor).min(hi + 0.9 * FIXED_MAX_S);
            let (want, a) = anchor(&s, anchor_s).unwrap();
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("one.toml");
            std::fs::write(&path, format!(
                "[[measurement]]\nid = \"mine\"\nsource = \"mine\"\nmodel = \"llava-ov-7b\"\ngpu = \"a100-80g\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\ntext_tokens = 100\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = {}\n",
                anchor_s * 1e3
            )).unwrap();
            let (got, b) = anchor_file(&s, &path).unwrap();
            // `measured_ms` goes through decimal text: equal to the last bit of the time it
            // holds, so compare the refitted figures to 1e-9 (the bisection's own resolution
            // is 300 µs / 2⁶⁰).
            proptest::prop_assert!((a.launch_overhead_s - b.launch_overhead_s).abs() <= 1e-9 * LAUNCH_MAX_S, "{a:?} vs {b:?}");
            proptest::prop_assert!((a.extra_host_s - b.extra_host_s).abs() <= 1e-9 * anchor_s, "{a:?} vs {b:?}");
            proptest::prop_assert_eq!(want.spread, got.spread);
        }
    }

    /// Regression: under a profile with its own host work (hf-eager), an anchor just inside
    /// `hi + FIXED_MAX_S` but beyond the headroom left by that host work used to fall through to
    /// the bisection, which saturated and silently missed the anchor.
    #[test]
    fn an_anchor_beyond_the_host_work_headroom_is_refused() {
        let s = spec("hf-eager");
        let f = Framework::load("hf-eager").unwrap();
        let mut t = s.clone();
        t.framework = Definition::Inline(Box::new(with_launch(&f, LAUNCH_MAX_S)));
        let hi = crate::sim::summarize(&Scenario::from_spec(&t).unwrap())
            .unwrap()
            .baseline
            .time_s;
        let own = f.params.fixed_overhead_s.unwrap();
        assert!(own > 0.0);
        let e = anchor(&s, hi + FIXED_MAX_S - own / 2.0)
            .unwrap_err()
            .to_string();
        assert!(e.contains("cannot reach"), "{e}");
        // Within the headroom: reproduced.
        let (g, _) = anchor(&s, hi + FIXED_MAX_S - 2.0 * own).unwrap();
        t.framework = Definition::Inline(Box::new(g));
        let got = crate::sim::summarize(&Scenario::from_spec(&t).unwrap())
            .unwrap()
            .baseline
            .time_s;
        assert!((got / (hi + FIXED_MAX_S - 2.0 * own) - 1.0).abs() < 1e-9);
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
