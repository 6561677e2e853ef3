//! Student's t quantile, for prediction intervals whose σ was estimated from few source groups.
//!
//! With σ estimated from ν degrees of freedom, a two-sided 80 % predictive interval is
//! `± t(0.9, ν) · σ`, not `± z(0.9) · σ`: with four sources t = 1.533 against z = 1.282
//! (any statistics text, e.g. NIST/SEMATECH e-Handbook §1.3.6.7.2, the t table). The normal
//! z is the limit as ν grows.

/// z of a two-sided 80 % interval of a normal distribution (the 90th percentile).
pub const Z80: f64 = 1.281_551_565_545;

/// The 90th percentile of Student's t with `dof` degrees of freedom (real, > 0): the half-width
/// in σ of a two-sided 80 % interval. `None` (not stated) or a non-finite `dof` gives the
/// normal limit [`Z80`]; `dof` below 1 is taken as 1 (fewer than one group says nothing more).
pub fn t80(dof: Option<f64>) -> f64 {
    match dof {
        Some(v) if v.is_finite() => cached(v.max(1.0)),
        _ => Z80,
    }
}

/// [`t_quantile`] at 0.9, remembered per thread: a profile has two or three degrees of freedom,
/// and a sweep asks for their t on every row (the bisection costs microseconds, a row's pricing
/// a few).
fn cached(dof: f64) -> f64 {
    use std::cell::RefCell;
    thread_local! {
        static KNOWN: RefCell<Vec<(u64, f64)>> = const { RefCell::new(Vec::new()) };
    }
    KNOWN.with(|known| {
        let key = dof.to_bits();
        if let Some(&(_, t)) = known.borrow().iter().find(|(k, _)| *k == key) {
            return t;
        }
        let t = t_quantile(0.9, dof);
        let mut known = known.borrow_mut();
        if known.len() >= 16 {
            known.remove(0);
        }
        known.push((key, t));
        t
    })
}

/// The `p` quantile (0.5 ≤ p < 1) of Student's t with `dof` > 0 degrees of freedom, by bisection
/// on [`t_cdf`] (monotone); above 1e6 degrees of freedom the normal limit for p = 0.9.
fn t_quantile(p: f64, dof: f64) -> f64 {
    if dof > 1e6 && (p - 0.9).abs() < 1e-15 {
        return Z80;
    }
    let (mut lo, mut hi) = (0.0_f64, 1.0_f64);
    while t_cdf(hi, dof) < p {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if t_cdf(mid, dof) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    0.5 * (lo + hi)
}

/// P(T ≤ t) for t ≥ 0: `1 − ½ · I_x(ν/2, ½)` with `x = ν / (ν + t²)` (the regularised
/// incomplete beta function; Abramowitz & Stegun 26.7.1).
fn t_cdf(t: f64, dof: f64) -> f64 {
    let x = dof / (dof + t * t);
    1.0 - 0.5 * inc_beta(x, 0.5 * dof, 0.5)
}

/// The regularised incomplete beta function `I_x(a, b)`, by its continued fraction (A&S 26.5.8),
/// evaluated with the modified Lentz method; the symmetry `I_x(a,b) = 1 − I_{1−x}(b,a)` keeps
/// the fraction where it converges fast.
fn inc_beta(x: f64, a: f64, b: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    if x < (a + 1.0) / (a + b + 2.0) {
        ln_front.exp() * beta_fraction(x, a, b) / a
    } else {
        1.0 - ln_front.exp() * beta_fraction(1.0 - x, b, a) / b
    }
}

/// The continued fraction of `I_x(a, b)`: `1 / (1 + d1 / (1 + d2 / (1 + …)))`, with
/// `d(2m+1) = −(a+m)(a+b+m)x / ((a+2m)(a+2m+1))` and `d(2m) = m(b−m)x / ((a+2m−1)(a+2m))`.
fn beta_fraction(x: f64, a: f64, b: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |v: f64| if v.abs() < TINY { TINY } else { v };
    // Lentz: f = C·D products over the terms 1 + d_k / (…).
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut f = d;
    for m in 1..1000 {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        f *= c * d;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = c * d;
        f *= step;
        if (step - 1.0).abs() < 1e-15 {
            break;
        }
    }
    f
}

/// ln Γ(x) for x > 0: Lanczos' approximation (g = 7, nine coefficients, the values published
/// by Godfrey; relative error about 1e-15), with the reflection-free shift for x < 0.5.
fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEF: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let x = x - 1.0;
    let mut sum = COEF[0];
    for (i, c) in COEF.iter().enumerate().skip(1) {
        sum += c / (x + i as f64);
    }
    let t = x + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + sum.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t80_matches_the_printed_t_table() {
        // t(0.90, ν) as printed in the NIST/SEMATECH e-Handbook's t table (three decimals).
        for (dof, t) in [
            (1.0, 3.078),
            (2.0, 1.886),
            (3.0, 1.638),
            (4.0, 1.533),
            (5.0, 1.476),
            (9.0, 1.383),
            (10.0, 1.372),
            (20.0, 1.325),
            (30.0, 1.310),
            (100.0, 1.290),
        ] {
            let got = t80(Some(dof));
            assert!((got - t).abs() < 6e-4, "ν = {dof}: {got} against {t}");
        }
    }

    /// The per-thread memory gives the bisection's value, also once more than it keeps.
    #[test]
    fn remembered_values_are_the_computed_ones() {
        for round in 0..2 {
            for k in 1..40 {
                let dof = k as f64 * 0.75;
                assert_eq!(
                    t80(Some(dof)),
                    t_quantile(0.9, dof.max(1.0)),
                    "{round} {dof}"
                );
            }
        }
    }

    #[test]
    fn t80_falls_to_the_normal_limit() {
        assert_eq!(t80(None), Z80);
        assert_eq!(t80(Some(f64::INFINITY)), Z80);
        assert!((t80(Some(1e5)) - Z80).abs() < 1e-4);
        // Fewer than one degree of freedom is one.
        assert_eq!(t80(Some(0.2)), t80(Some(1.0)));
    }

    #[test]
    fn t80_decreases_with_the_degrees_of_freedom() {
        let mut last = f64::INFINITY;
        for k in 1..200 {
            let t = t80(Some(k as f64 * 0.5 + 0.5));
            assert!(t < last && t > Z80, "ν = {}: {t}", k as f64 * 0.5 + 0.5);
            last = t;
        }
    }

    #[test]
    fn ln_gamma_of_integers_and_a_half() {
        // Γ(n) = (n − 1)!, Γ(½) = √π.
        assert!((ln_gamma(1.0)).abs() < 1e-13);
        assert!((ln_gamma(5.0) - 24f64.ln()).abs() < 1e-12);
        assert!((ln_gamma(0.5) - std::f64::consts::PI.sqrt().ln()).abs() < 1e-12);
    }
}
