//! A small bounded least-squares solver (Levenberg–Marquardt) for the framework fit: a few
//! dozen parameters, a few hundred residuals, no dependency.
//!
//! Bounds are kept by solving in unbounded coordinates `u`, with `x = lo + (hi − lo)·σ(u)`
//! (σ the logistic function), so every iterate — and every fitted value — lies inside its
//! physical range. The Jacobian is taken by forward differences in `u`.

/// A box-bounded parameter.
#[derive(Debug, Clone, Copy)]
pub struct Bound {
    pub lo: f64,
    pub hi: f64,
}

impl Bound {
    fn to_x(self, u: f64) -> f64 {
        self.lo + (self.hi - self.lo) / (1.0 + (-u).exp())
    }

    fn to_u(self, x: f64) -> f64 {
        // Strictly inside, so the logit is finite.
        let t = ((x - self.lo) / (self.hi - self.lo)).clamp(1e-9, 1.0 - 1e-9);
        (t / (1.0 - t)).ln()
    }
}

fn sum_sq(r: &[f64]) -> f64 {
    r.iter().map(|v| v * v).sum()
}

/// Solves `a · x = b` (`a` square, `n × n` row-major in one slice) by Gaussian elimination
/// with partial pivoting, in place; `x` receives the solution. `false` when `a` is singular or
/// the solution is not finite.
fn solve(a: &mut [f64], b: &mut [f64], x: &mut Vec<f64>) -> bool {
    let n = b.len();
    for col in 0..n {
        let Some(pivot) =
            (col..n).max_by(|&i, &j| a[i * n + col].abs().total_cmp(&a[j * n + col].abs()))
        else {
            return false;
        };
        if a[pivot * n + col].abs() < 1e-300 {
            return false;
        }
        if pivot != col {
            for k in 0..n {
                a.swap(col * n + k, pivot * n + k);
            }
            b.swap(col, pivot);
        }
        let (top, rest) = a.split_at_mut((col + 1) * n);
        let pivot_row = &top[col * n..];
        for (offset, row) in rest.chunks_exact_mut(n).enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    x.clear();
    x.resize(n, 0.0);
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[i * n + k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i * n + i];
    }
    x.iter().all(|v| v.is_finite())
}

/// Minimises `Σ residuals(x)²` over `x` within `bounds`, from `start`. Returns the best `x`
/// and its cost.
#[cfg(test)]
pub fn minimize(
    residuals: &dyn Fn(&[f64]) -> Vec<f64>,
    bounds: &[Bound],
    start: &[f64],
    max_iterations: usize,
) -> (Vec<f64>, f64) {
    minimize_into(
        &mut |x: &[f64], out: &mut Vec<f64>| *out = residuals(x),
        bounds,
        start,
        max_iterations,
    )
}

/// Minimises `Σ residuals(x)²` over `x` within `bounds`, from `start`; returns the best `x`
/// and its cost. The residuals are written into a buffer the solver keeps, so nothing is
/// allocated per evaluation (a fit evaluates its residuals thousands of
/// times; issue 25 item 4).
pub fn minimize_into(
    residuals: &mut dyn FnMut(&[f64], &mut Vec<f64>),
    bounds: &[Bound],
    start: &[f64],
    max_iterations: usize,
) -> (Vec<f64>, f64) {
    let n = bounds.len();
    let to_x = |u: &[f64], x: &mut Vec<f64>| {
        x.clear();
        x.extend(u.iter().zip(bounds).map(|(u, b)| b.to_x(*u)));
    };
    let mut u: Vec<f64> = start.iter().zip(bounds).map(|(x, b)| b.to_u(*x)).collect();
    let mut x = Vec::with_capacity(n);
    let mut r = Vec::new();
    to_x(&u, &mut x);
    residuals(&x, &mut r);
    let mut cost = sum_sq(&r);
    let mut lambda = 1e-3;
    // Buffers kept across iterations: the Jacobian (row-major, one row per residual), the
    // normal equations, a moved point and its residuals.
    let mut jac: Vec<f64> = Vec::new();
    let mut jtj = vec![0.0; n * n];
    let mut jtr = vec![0.0; n];
    let mut m = vec![0.0; n * n];
    let mut rhs = vec![0.0; n];
    let mut step = Vec::with_capacity(n);
    let mut moved = u.clone();
    let mut rk = Vec::new();
    let mut nonzero: Vec<usize> = Vec::with_capacity(n);
    for _ in 0..max_iterations {
        // Jacobian by forward differences.
        let h = 1e-6;
        jac.clear();
        jac.resize(r.len() * n, 0.0);
        // One coordinate moves at a time: only its value is mapped again.
        to_x(&u, &mut x);
        for k in 0..n {
            let kept = x[k];
            x[k] = bounds[k].to_x(u[k] + h);
            residuals(&x, &mut rk);
            for (i, (a, b)) in rk.iter().zip(&r).enumerate() {
                jac[i * n + k] = (a - b) / h;
            }
            x[k] = kept;
        }
        // Normal equations JᵀJ and Jᵀr.
        jtj.fill(0.0);
        jtr.fill(0.0);
        for (row, ri) in jac.chunks_exact(n).zip(&r) {
            // A residual depends on few parameters (a GPU's rows on its own values): terms
            // with a zero derivative are skipped. That is exact: the sums start at +0 and
            // never become −0 (x + (−x) is +0), so adding a ±0 product changes nothing, as
            // long as the other factors are finite (0 · ∞ is NaN: such a row is summed whole).
            nonzero.clear();
            nonzero.extend((0..n).filter(|&a| row[a] != 0.0));
            if !(ri.is_finite() && row.iter().all(|v| v.is_finite())) {
                nonzero.clear();
                nonzero.extend(0..n);
            }
            for (k, &a) in nonzero.iter().enumerate() {
                jtr[a] += row[a] * ri;
                for &b in &nonzero[k..] {
                    jtj[a * n + b] += row[a] * row[b];
                }
            }
        }
        // Mirror the upper triangle.
        for (a, b) in (0..n).flat_map(|a| (0..a).map(move |b| (a, b))) {
            jtj[a * n + b] = jtj[b * n + a];
        }
        let mut improved = false;
        for _ in 0..12 {
            m.copy_from_slice(&jtj);
            for k in 0..n {
                m[k * n + k] += lambda * (jtj[k * n + k] + 1e-9);
            }
            for (d, v) in rhs.iter_mut().zip(&jtr) {
                *d = -v;
            }
            if !solve(&mut m, &mut rhs, &mut step) {
                lambda *= 10.0;
                continue;
            }
            for ((t, a), d) in moved.iter_mut().zip(&u).zip(&step) {
                *t = a + d;
            }
            to_x(&moved, &mut x);
            residuals(&x, &mut rk);
            let ct = sum_sq(&rk);
            if ct.is_finite() && ct < cost {
                let gain = cost - ct;
                u.copy_from_slice(&moved);
                std::mem::swap(&mut r, &mut rk);
                cost = ct;
                lambda = (lambda / 3.0).max(1e-12);
                improved = gain > 1e-14 * (1.0 + cost);
                break;
            }
            lambda *= 4.0;
        }
        if !improved {
            break;
        }
    }
    to_x(&u, &mut x);
    (x, cost)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_a_known_curve_within_bounds() {
        // y = a·x / (x + b) sampled exactly; a in (0, 1], b in [0, 100].
        let xs: Vec<f64> = (1..20).map(|i| i as f64 * 5.0).collect();
        let (a, b) = (0.73, 17.0);
        let ys: Vec<f64> = xs.iter().map(|x| a * x / (x + b)).collect();
        let res = |p: &[f64]| -> Vec<f64> {
            xs.iter()
                .zip(&ys)
                .map(|(x, y)| p[0] * x / (x + p[1]) - y)
                .collect()
        };
        let bounds = [Bound { lo: 0.01, hi: 1.0 }, Bound { lo: 0.0, hi: 100.0 }];
        let (p, cost) = minimize(&res, &bounds, &[0.5, 50.0], 200);
        assert!(cost < 1e-16, "{cost}");
        assert!((p[0] - a).abs() < 1e-6 && (p[1] - b).abs() < 1e-4, "{p:?}");
    }

    #[test]
    fn a_bound_holds_when_the_data_want_more() {
        // The best value would be 2, beyond the bound 1: the fit stops at the bound.
        let res = |p: &[f64]| vec![p[0] - 2.0];
        let (p, _) = minimize(&res, &[Bound { lo: 0.0, hi: 1.0 }], &[0.5], 200);
        assert!(p[0] <= 1.0 && p[0] > 0.99, "{p:?}");
    }
}
