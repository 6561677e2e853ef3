//! One-anchor calibration ("time your baseline once", issue 21): the user's measured time of
//! the input *without* reduction on their own stack refits the harness-level parameter of a
//! fitted profile — the per-kernel overhead `launch_overhead_s`, the figure that differs most
//! between harnesses (2.5× for the same model, GPU and setting, docs/accuracy.md) — so that the
//! profile reproduces the anchor; the schedule's time is then predicted from there.
//!
//! With the harness's offset pinned by the anchor, what is left of a prediction's error is the
//! error of a ratio of two runs of one harness: the profile's speed-up σ (`[spread].speedup`),
//! which becomes the anchored interval's σ.

use crate::error::keys::{ANCHOR_MS, FRAMEWORK, INCLUDE_VISION};
use crate::error::{Error, Result};
use crate::framework::{Framework, Spread};
use crate::scenario::Scenario;
use crate::spec::{Definition, Spec};

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
    let (lo, hi) = (baseline_s(0.0)?, baseline_s(LAUNCH_MAX_S)?);
    if anchor_s > hi {
        // Beyond what per-kernel overhead explains: the rest is host work per forward (added
        // once to the forward, as `fixed_overhead_s`), within the fit's bound.
        let mut out = with_launch(&framework, LAUNCH_MAX_S);
        let extra_s = anchor_s - hi;
        let fixed_s = framework.params.fixed_overhead_s.unwrap_or(0.0) + extra_s;
        if fixed_s <= FIXED_MAX_S {
            out.params.fixed_overhead_s = Some(fixed_s);
            for p in out.gpu.values_mut() {
                if let Some(f) = p.fixed_overhead_s.as_mut() {
                    *f += extra_s;
                }
            }
            return Ok(finish(
                &framework,
                out,
                anchor_s,
                LAUNCH_MAX_S,
                Some(extra_s),
            ));
        }
    }
    if anchor_s < lo || anchor_s > hi + FIXED_MAX_S {
        return Err(Error::invalid(format!(
            "{ANCHOR_MS} {:.3}: framework {} cannot reach it for this input without reduction on {} ({:.3}–{:.3} ms for a per-kernel overhead of 0–{:.0} µs and up to {:.0} ms more host work): check that the anchor times the same model, input ({INCLUDE_VISION} for a time to first token), GPU and precision, without token reduction",
            anchor_s * 1e3,
            framework.name,
            scenario.gpu.name,
            lo * 1e3,
            (hi + FIXED_MAX_S) * 1e3,
            LAUNCH_MAX_S * 1e6,
            FIXED_MAX_S * 1e3
        )));
    }
    // Bisection on the summarised baseline (monotone in the overhead: every kernel adds it).
    let launch_s = solve_increasing(
        |l| baseline_s(l).unwrap_or(f64::INFINITY),
        anchor_s,
        0.0,
        LAUNCH_MAX_S,
    );
    let out = with_launch(&framework, launch_s);
    Ok(finish(&framework, out, anchor_s, launch_s, None))
}

/// The anchored profile: its spread reduced to what an anchor leaves, a note saying so.
fn finish(
    framework: &Framework,
    mut out: Framework,
    anchor_s: f64,
    launch_s: f64,
    extra_host_s: Option<f64>,
) -> (Framework, Anchored) {
    out.spread = framework.spread.map(|s| Spread {
        // The anchor pins the harness: a new run's error is that of a ratio of two runs of it
        // (the speed-up σ). Where sources barely differ that is wider than the unanchored σ,
        // and an anchor adds nothing: never wider than without it.
        between_sources: 0.0,
        within_source: s.speedup_sigma().min(s.time_sigma()),
        ..s
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
    let note = format!(
        "anchored on the measured baseline {anchor_ms} ms: framework {}'s per-kernel overhead refitted to {:.2} µs{}; the interval is what an anchor leaves (the profile's speed-up σ)",
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
        }
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
