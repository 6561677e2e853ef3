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

/// Solves `a · x = b` (a square, row-major) by Gaussian elimination with partial pivoting.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-300 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        let (top, rest) = a.split_at_mut(col + 1);
        let pivot_row = &top[col];
        for (offset, row) in rest.iter_mut().enumerate() {
            let f = row[col] / pivot_row[col];
            for (x, p) in row[col..].iter_mut().zip(&pivot_row[col..]) {
                *x -= f * p;
            }
            b[col + 1 + offset] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for i in (0..n).rev() {
        let s: f64 = (i + 1..n).map(|k| a[i][k] * x[k]).sum();
        x[i] = (b[i] - s) / a[i][i];
    }
    x.iter().all(|v| v.is_finite()).then_some(x)
}

/// Minimises `Σ residuals(x)²` over `x` within `bounds`, from `start`. Returns the best `x`
/// and its cost.
pub fn minimize(
    residuals: &dyn Fn(&[f64]) -> Vec<f64>,
    bounds: &[Bound],
    start: &[f64],
    max_iterations: usize,
) -> (Vec<f64>, f64) {
    let n = bounds.len();
    let to_x = |u: &[f64]| -> Vec<f64> { u.iter().zip(bounds).map(|(u, b)| b.to_x(*u)).collect() };
    let mut u: Vec<f64> = start.iter().zip(bounds).map(|(x, b)| b.to_u(*x)).collect();
    let mut r = residuals(&to_x(&u));
    let mut cost = sum_sq(&r);
    let mut lambda = 1e-3;
    for _ in 0..max_iterations {
        // Jacobian by forward differences.
        let h = 1e-6;
        let mut jac = vec![vec![0.0; n]; r.len()];
        for k in 0..n {
            let mut up = u.clone();
            up[k] += h;
            let rk = residuals(&to_x(&up));
            for (i, (a, b)) in rk.iter().zip(&r).enumerate() {
                jac[i][k] = (a - b) / h;
            }
        }
        // Normal equations JᵀJ and Jᵀr.
        let mut jtj = vec![vec![0.0; n]; n];
        let mut jtr = vec![0.0; n];
        for (row, ri) in jac.iter().zip(&r) {
            for a in 0..n {
                jtr[a] += row[a] * ri;
                for b in a..n {
                    jtj[a][b] += row[a] * row[b];
                }
            }
        }
        // Mirror the upper triangle.
        for (a, b) in (0..n).flat_map(|a| (0..a).map(move |b| (a, b))) {
            jtj[a][b] = jtj[b][a];
        }
        let mut improved = false;
        for _ in 0..12 {
            let mut m = jtj.clone();
            for (k, row) in m.iter_mut().enumerate() {
                row[k] += lambda * (jtj[k][k] + 1e-9);
            }
            let Some(step) = solve(m, jtr.iter().map(|v| -v).collect()) else {
                lambda *= 10.0;
                continue;
            };
            let trial: Vec<f64> = u.iter().zip(&step).map(|(a, d)| a + d).collect();
            let rt = residuals(&to_x(&trial));
            let ct = sum_sq(&rt);
            if ct.is_finite() && ct < cost {
                let gain = cost - ct;
                u = trial;
                r = rt;
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
    (to_x(&u), cost)
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
