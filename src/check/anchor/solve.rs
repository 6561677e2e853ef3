//! The numbers behind an anchor: which GEMM efficiency and per-kernel overhead a measured time
//! of the user's stack implies (issue 21 item 4, "two knobs, one measurement").
//!
//! One measurement cannot tell a harness's per-op overhead from its GPU's GEMM speed; what
//! can is how much each of them varies between harnesses. The fit ties each GPU's values to
//! the pooled ones by log-normal priors (σ 0.25 on GEMM efficiency, 0.7 on the per-kernel
//! overhead, [`super::super::fit`]): the same priors say how far a new stack is likely to sit
//! from the profile. An anchor is reproduced exactly with the most likely pair under them —
//! the pair nearest the profile in prior σ's — so each run's own sensitivities decide the
//! split: a long-prompt baseline, mostly GEMMs, moves the GEMM efficiency; a short one, mostly
//! dispatch, moves the overhead. Moving the overhead alone put a long prompt's compute miss into
//! the overhead and over-charged the short reduced runs (docs/accuracy.md, one anchor).

use super::super::fit::{LAUNCH_PRIOR_SIGMA, MATMUL_PRIOR_SIGMA};
use super::super::lm::{minimize_into, Bound};
use crate::hardware::Efficiency;

/// Largest per-kernel overhead an anchor may imply, s (the fit's bound, fit.rs).
pub const LAUNCH_MAX_S: f64 = 300e-6;
/// Largest host work per forward an anchor may imply, s (the fit's bound, fit.rs).
pub const FIXED_MAX_S: f64 = 0.5;
/// Lowest GEMM efficiency an anchor may imply (the fit's bound on a fraction, fit.rs).
pub const MATMUL_MIN: f64 = 0.02;
/// Smallest per-kernel overhead the solve tries, s: the prior is log-normal, so zero is
/// approached, not reached (1 ns per op is nothing beside any kernel).
pub const LAUNCH_MIN_S: f64 = 1e-9;
/// Relative scatter (σ of ln) of a user's own timings of one stack, which several anchor rows
/// are fitted to: repeated runs of one harness move by a few per cent.
const DATA_SIGMA: f64 = 0.02;

/// Where the profile puts the run's two harness knobs; an anchor moves them from here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knobs {
    /// The run's GEMM efficiency (fraction of peak on its tensor path), in (0, 1].
    pub matmul: f64,
    /// The run's per-kernel overhead, s.
    pub launch_s: f64,
}

/// The harness quantities an anchor implies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Harness {
    /// Factor on every GEMM efficiency of the profile (each kept at most 1).
    pub matmul_scale: f64,
    /// Per-kernel overhead, s, within `0..=LAUNCH_MAX_S`.
    pub launch_s: f64,
    /// Host work per forward added to the profile's own, s (0 unless both knobs are at the
    /// bounds that make a run slowest).
    pub extra_host_s: f64,
}

impl Harness {
    pub fn new(matmul_scale: f64, launch_s: f64, extra_host_s: f64) -> Harness {
        Harness {
            matmul_scale,
            launch_s,
            extra_host_s,
        }
    }

    /// A GEMM efficiency `m` of the profile as this harness has it: scaled, within
    /// `MATMUL_MIN..=1`.
    pub fn matmul(&self, m: f64) -> f64 {
        (m * self.matmul_scale).clamp(MATMUL_MIN, 1.0)
    }
}

impl Knobs {
    /// Where an efficiency puts the knobs for a run on the 8-bit tensor path (`eight_bit`) or
    /// the 16-bit one.
    pub fn of(e: &Efficiency, eight_bit: bool) -> Knobs {
        Knobs {
            matmul: if eight_bit {
                e.matmul_8bit.unwrap_or(e.matmul)
            } else {
                e.matmul
            },
            launch_s: e.launch_overhead_s,
        }
    }

    /// The prior's centre for the overhead, s (a profile without overhead: 1 ns).
    fn launch_centre_s(&self) -> f64 {
        self.launch_s.max(LAUNCH_MIN_S)
    }

    /// Bounds of `x = ln(matmul_scale)`: GEMM efficiency within `MATMUL_MIN..=1`.
    fn x_bounds(&self) -> (f64, f64) {
        (
            (MATMUL_MIN / self.matmul).ln().min(0.0),
            (1.0 / self.matmul).ln().max(0.0),
        )
    }

    /// Bounds of `y = ln(launch / centre)`.
    fn y_bounds(&self) -> (f64, f64) {
        let c = self.launch_centre_s();
        (
            (LAUNCH_MIN_S / c).ln().min(0.0),
            (LAUNCH_MAX_S / c).ln().max(0.0),
        )
    }

    fn launch_s_at(&self, y: f64) -> f64 {
        // The bounds exactly (`exp(ln(a / c)) · c` is `a` only to rounding).
        let (lo, hi) = self.y_bounds();
        if y <= lo {
            LAUNCH_MIN_S
        } else if y >= hi {
            LAUNCH_MAX_S
        } else {
            (self.launch_centre_s() * y.exp()).clamp(LAUNCH_MIN_S, LAUNCH_MAX_S)
        }
    }

    /// The priors' cost of moving to `(x, y)`, in σ².
    fn prior(&self, x: f64, y: f64) -> f64 {
        (x / MATMUL_PRIOR_SIGMA).powi(2) + (y / LAUNCH_PRIOR_SIGMA).powi(2)
    }

    fn harness(&self, x: f64, y: f64, extra_host_s: f64) -> Harness {
        Harness::new(x.exp(), self.launch_s_at(y), extra_host_s)
    }
}

/// The one solve behind `--anchor-ms` and the fit's anchored figures: the most likely
/// (GEMM efficiency, per-kernel overhead) under the priors that makes the baseline take
/// exactly `anchor_s` (`time_s(matmul_scale, launch_s)`: its time so priced, decreasing in the
/// first, increasing in the second). An anchor slower than both knobs at their bounds reach
/// adds host work per forward, within `FIXED_MAX_S` with the profile's own (`own_fixed_s`)
/// counted; `None` when out of reach either way.
pub fn solve_harness(
    time_s: impl Fn(f64, f64) -> f64,
    anchor_s: f64,
    knobs: Knobs,
    own_fixed_s: f64,
) -> Option<Harness> {
    let (x_lo, x_hi) = knobs.x_bounds();
    let (y_lo, y_hi) = knobs.y_bounds();
    let t = |x: f64, y: f64| time_s(x.exp(), knobs.launch_s_at(y));
    if anchor_s < t(x_hi, y_lo) {
        return None;
    }
    let slowest = t(x_lo, y_hi);
    if anchor_s > slowest {
        let extra_host_s = anchor_s - slowest;
        return (own_fixed_s + extra_host_s <= FIXED_MAX_S).then_some(knobs.harness(
            x_lo,
            y_hi,
            extra_host_s,
        ));
    }
    // The overheads for which some GEMM efficiency reaches the anchor.
    let y_top = if t(x_hi, y_hi) <= anchor_s {
        y_hi
    } else {
        root(|y| t(x_hi, y), anchor_s, y_lo, y_hi)
    };
    let y_bottom = if t(x_lo, y_lo) >= anchor_s {
        y_lo
    } else {
        root(|y| t(x_lo, y), anchor_s, y_lo, y_hi)
    };
    // On the curve where the baseline takes the anchor: the GEMM efficiency for an overhead.
    let x_at = |y: f64| {
        if t(x_hi, y) >= anchor_s {
            x_hi
        } else if t(x_lo, y) <= anchor_s {
            x_lo
        } else {
            root(|x| t(x, y), anchor_s, x_lo, x_hi)
        }
    };
    let y = minimise(|y| knobs.prior(x_at(y), y), y_bottom, y_top);
    Some(knobs.harness(x_at(y), y, 0.0))
}

/// Several measured rows (`--anchor FILE`): the pair that minimises the rows' squared log
/// errors (each with a user's timing scatter, `DATA_SIGMA`) plus the priors' cost
/// (`times_s(matmul_scale, launch_s, extra_host_s)`: the rows' times so priced); host work per
/// forward is added only when the overhead sits at its bound and the rows still want more.
/// `measured_s` is parallel to what `times_s` returns.
pub fn fit_rows(
    times_s: impl Fn(f64, f64, f64) -> Vec<f64>,
    measured_s: &[f64],
    knobs: Knobs,
    host_headroom_s: f64,
) -> Harness {
    let (x_lo, x_hi) = knobs.x_bounds();
    let (y_lo, y_hi) = knobs.y_bounds();
    // Least squares in (x, y): the rows' residuals and the priors' two (lm.rs keeps the
    // bounds), from the profile's values and from either corner's half-way point.
    let bounds = [Bound { lo: x_lo, hi: x_hi }, Bound { lo: y_lo, hi: y_hi }];
    let mut residuals = |v: &[f64], out: &mut Vec<f64>| {
        out.clear();
        let times = times_s(v[0].exp(), knobs.launch_s_at(v[1]), 0.0);
        out.extend(
            times
                .iter()
                .zip(measured_s)
                .map(|(p, m)| (p / m).ln() / DATA_SIGMA),
        );
        out.push(v[0] / MATMUL_PRIOR_SIGMA);
        out.push(v[1] / LAUNCH_PRIOR_SIGMA);
    };
    let (best, _) = [
        [0.0, 0.0],
        [0.5 * x_hi, 0.5 * y_lo],
        [0.5 * x_lo, 0.5 * y_hi],
    ]
    .iter()
    .map(|start| minimize_into(&mut residuals, &bounds, start, 200))
    .fold((vec![0.0, 0.0], f64::INFINITY), |b, (v, c)| {
        if c < b.1 {
            (v, c)
        } else {
            b
        }
    });
    let (x, y) = (best[0], best[1]);
    let short = times_s(x.exp(), knobs.launch_s_at(y), 0.0)
        .iter()
        .zip(measured_s)
        .map(|(p, m)| (p / m).ln())
        .sum::<f64>()
        < 0.0;
    if y >= y_hi - 1e-6 && short && host_headroom_s > 0.0 {
        let misfit = |extra: f64| -> f64 {
            times_s(x.exp(), LAUNCH_MAX_S, extra)
                .iter()
                .zip(measured_s)
                .map(|(p, m)| (p / m).ln().powi(2))
                .sum::<f64>()
        };
        let extra = minimise(misfit, 0.0, host_headroom_s);
        return knobs.harness(x, y_hi, extra);
    }
    knobs.harness(x, y, 0.0)
}

/// `x` in `[lo, hi]` with `f(x) = target`, for `f` monotone either way with the target between
/// `f(lo)` and `f(hi)`: the Illinois variant of false position (superlinear on the smooth
/// pieces of a priced time, never leaving the bracket), to the last bits of `x`.
fn root(f: impl Fn(f64) -> f64, target: f64, lo: f64, hi: f64) -> f64 {
    let (mut a, mut b) = (lo, hi);
    let (mut fa, mut fb) = (f(a) - target, f(b) - target);
    if fa == 0.0 {
        return a;
    }
    if fb == 0.0 || fa.signum() == fb.signum() {
        return b;
    }
    let mut side = 0;
    for _ in 0..200 {
        let c = (a * fb - b * fa) / (fb - fa);
        let c = if c > a.min(b) && c < a.max(b) {
            c
        } else {
            0.5 * (a + b)
        };
        let fc = f(c) - target;
        if fc == 0.0 || (b - a).abs() <= 1e-14 * (1.0 + c.abs()) {
            return c;
        }
        if fc.signum() == fb.signum() {
            (b, fb) = (c, fc);
            if side == -1 {
                fa *= 0.5;
            }
            side = -1;
        } else {
            (a, fa) = (c, fc);
            if side == 1 {
                fb *= 0.5;
            }
            side = 1;
        }
    }
    if fa.abs() < fb.abs() {
        a
    } else {
        b
    }
}

/// The minimum of `f` over `[lo, hi]`: a grid of 32 steps finds its basin (the priors' cost
/// along the anchor's curve is smooth but not everywhere convex: far from the profile, with
/// GEMMs at a few per cent of peak, it can have two), golden sections refine it.
fn minimise(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    if hi - lo <= 0.0 {
        return lo;
    }
    const STEPS: usize = 32;
    let at = |i: usize| lo + (hi - lo) * i as f64 / STEPS as f64;
    let best = (0..=STEPS)
        .map(|i| (f(at(i)), i))
        .fold(
            (f64::INFINITY, 0),
            |b, (v, i)| if v < b.0 { (v, i) } else { b },
        )
        .1;
    golden_min(&f, at(best.saturating_sub(1)), at((best + 1).min(STEPS)))
}

/// Golden-section search for the minimum of `f` over `[lo, hi]` (unimodal there).
pub fn golden_min(f: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let (mut c, mut d) = (b - r * (b - a), a + r * (b - a));
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..60 {
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
