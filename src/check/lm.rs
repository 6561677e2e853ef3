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
        // The row of the largest magnitude in the column, the last of equal ones (what
        // `max_by` with `f64::total_cmp` gives): a magnitude has no sign bit, so its total
        // order is that of its bits as an integer, one comparison without the float's
        // sign handling.
        let mut pivot = col;
        let mut largest = a[col * n + col].abs().to_bits();
        for i in col + 1..n {
            let m = a[i * n + col].abs().to_bits();
            if m >= largest {
                (pivot, largest) = (i, m);
            }
        }
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
    let mut s = Solver::new(residuals, bounds, start);
    s.run(residuals, max_iterations);
    s.into_best()
}

/// Writes into `x` the bounded point of the unbounded coordinates `u`.
fn to_x_into(bounds: &[Bound], u: &[f64], x: &mut Vec<f64>) {
    x.clear();
    x.extend(u.iter().zip(bounds).map(|(u, b)| b.to_x(*u)));
}

/// A Levenberg–Marquardt descent that can be paused between iterations and resumed: a
/// multi-start fit advances every start a few iterations, then only the most promising ones
/// to the end ([`Solver::run`] in steps gives the very iterates one long run gives).
pub struct Solver<'b> {
    bounds: &'b [Bound],
    /// The current point in unbounded coordinates, its residuals and cost.
    u: Vec<f64>,
    r: Vec<f64>,
    cost: f64,
    lambda: f64,
    iterations: usize,
    done: bool,
    // Buffers kept across iterations: the Jacobian (row-major, one row per residual), the
    // normal equations, a moved point and its residuals.
    x: Vec<f64>,
    jac: Vec<f64>,
    jtj: Vec<f64>,
    jtr: Vec<f64>,
    m: Vec<f64>,
    rhs: Vec<f64>,
    step: Vec<f64>,
    moved: Vec<f64>,
    rk: Vec<f64>,
    nonzero: Vec<usize>,
}

impl<'b> Solver<'b> {
    /// A descent from `start` (clamped strictly inside `bounds`), its residuals evaluated once.
    pub fn new(
        residuals: &mut dyn FnMut(&[f64], &mut Vec<f64>),
        bounds: &'b [Bound],
        start: &[f64],
    ) -> Self {
        let n = bounds.len();
        let u: Vec<f64> = start.iter().zip(bounds).map(|(x, b)| b.to_u(*x)).collect();
        let mut s = Solver {
            bounds,
            moved: u.clone(),
            u,
            r: Vec::new(),
            cost: 0.0,
            lambda: 1e-3,
            iterations: 0,
            done: false,
            x: Vec::with_capacity(n),
            jac: Vec::new(),
            jtj: vec![0.0; n * n],
            jtr: vec![0.0; n],
            m: vec![0.0; n * n],
            rhs: vec![0.0; n],
            step: Vec::with_capacity(n),
            rk: Vec::new(),
            nonzero: Vec::with_capacity(n),
        };
        s.map_x();
        residuals(&s.x, &mut s.r);
        s.cost = sum_sq(&s.r);
        s
    }

    /// The current cost, `Σ residuals²`.
    pub fn cost(&self) -> f64 {
        self.cost
    }

    /// The current point and its cost.
    pub fn into_best(mut self) -> (Vec<f64>, f64) {
        self.map_x();
        (self.x, self.cost)
    }

    /// `x` of the current `u`.
    fn map_x(&mut self) {
        to_x_into(self.bounds, &self.u, &mut self.x);
    }

    /// Runs until `max_iterations` in all have run or the descent has stopped.
    pub fn run(&mut self, residuals: &mut dyn FnMut(&[f64], &mut Vec<f64>), max_iterations: usize) {
        while !self.done && self.iterations < max_iterations {
            self.iterations += 1;
            self.done = !self.iterate(residuals);
        }
    }

    /// One iteration; `false` when no step improved the cost (the descent has stopped).
    fn iterate(&mut self, residuals: &mut dyn FnMut(&[f64], &mut Vec<f64>)) -> bool {
        let n = self.bounds.len();
        let bounds = self.bounds;
        // Jacobian by forward differences.
        let h = 1e-6;
        self.jac.clear();
        self.jac.resize(self.r.len() * n, 0.0);
        // One coordinate moves at a time: only its value is mapped again.
        self.map_x();
        for (k, bound) in bounds.iter().enumerate() {
            let kept = self.x[k];
            self.x[k] = bound.to_x(self.u[k] + h);
            residuals(&self.x, &mut self.rk);
            for (i, (a, b)) in self.rk.iter().zip(&self.r).enumerate() {
                // A finite residual the move left as it was (most: a GPU's value moves only
                // its rows) has derivative (a − a) / h = +0, which the zeroed Jacobian holds.
                if a.to_bits() != b.to_bits() || !a.is_finite() {
                    self.jac[i * n + k] = (a - b) / h;
                }
            }
            self.x[k] = kept;
        }
        // Normal equations JᵀJ and Jᵀr.
        let (jtj, jtr, nonzero) = (&mut self.jtj, &mut self.jtr, &mut self.nonzero);
        jtj.fill(0.0);
        jtr.fill(0.0);
        for (row, ri) in self.jac.chunks_exact(n).zip(&self.r) {
            // A residual depends on few parameters (a GPU's rows on its own values): terms
            // with a zero derivative are skipped. That is exact: the sums start at +0 and
            // never become −0 (x + (−x) is +0), so adding a ±0 product changes nothing, as
            // long as the other factors are finite (0 · ∞ is NaN: such a row is summed whole).
            nonzero.clear();
            let mut finite = ri.is_finite();
            for (a, v) in row.iter().enumerate() {
                if *v != 0.0 {
                    nonzero.push(a);
                }
                finite &= v.is_finite();
            }
            if !finite {
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
        for _ in 0..12 {
            self.m.copy_from_slice(&self.jtj);
            for k in 0..n {
                self.m[k * n + k] += self.lambda * (self.jtj[k * n + k] + 1e-9);
            }
            for (d, v) in self.rhs.iter_mut().zip(&self.jtr) {
                *d = -v;
            }
            if !solve(&mut self.m, &mut self.rhs, &mut self.step) {
                self.lambda *= 10.0;
                continue;
            }
            for ((t, a), d) in self.moved.iter_mut().zip(&self.u).zip(&self.step) {
                *t = a + d;
            }
            to_x_into(bounds, &self.moved, &mut self.x);
            residuals(&self.x, &mut self.rk);
            let ct = sum_sq(&self.rk);
            if ct.is_finite() && ct < self.cost {
                let gain = self.cost - ct;
                self.u.copy_from_slice(&self.moved);
                std::mem::swap(&mut self.r, &mut self.rk);
                self.cost = ct;
                self.lambda = (self.lambda / 3.0).max(1e-12);
                return gain > 1e-14 * (1.0 + self.cost);
            }
            self.lambda *= 4.0;
        }
        false
    }
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
