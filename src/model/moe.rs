//! Mixture-of-experts MLPs: which decoder layers route, how wide the experts are, and how many
//! distinct experts a batch of tokens touches — the weights a layer must read.
//!
//! With `n` tokens each routed to `k` of `E` experts, expert `e` chosen by a token with
//! probability `π_e`, tokens independent, the expected number of distinct experts is
//! `Σ_e 1 − (1 − π_e)^n`; for uniform routing (`π_e = k/E`) that is `E·(1 − (1 − k/E)^n)`
//! (the occupancy expectation: each expert is missed by one token with probability 1 − k/E).
//! Few tokens touch few experts (one token: exactly `k`), many touch all `E`.
//!
//! Measured routing is not uniform. `routing_skew = s` gives expert of popularity rank `r` a
//! weight `r^-s` (Zipf); its inclusion probability is `π = k·p` capped at 1 with the excess
//! spread over the rest, so every token still picks exactly `k` distinct experts.

use serde::{Deserialize, Serialize};

/// A decoder's mixture-of-experts MLP (`[moe]` in a model TOML).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Moe {
    /// Routed experts per MoE layer (HF `num_experts`, `num_local_experts`, `n_routed_experts`).
    pub num_experts: u64,
    /// Experts each token is routed to (`num_experts_per_tok`).
    pub experts_per_token: u64,
    /// SwiGLU width of one routed expert (`moe_intermediate_size`).
    pub expert_intermediate_size: u64,
    /// SwiGLU width of the shared experts every token also runs, all together
    /// (`shared_expert_intermediate_size`, or `n_shared_experts · moe_intermediate_size`); 0: none.
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub shared_intermediate_size: u64,
    /// A sigmoid gate `Linear(h, 1)` scales the shared experts' output (Qwen2-MoE).
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub shared_expert_gate: bool,
    /// The first layers keep a dense MLP of `intermediate_size` (DeepSeek `first_k_dense_replace`).
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub first_dense_layers: u64,
    /// Layer `i` routes when `(i + 1) % sparse_step == 0` (Qwen `decoder_sparse_step`).
    #[serde(default = "super::one", skip_serializing_if = "is_one")]
    pub sparse_step: u64,
    /// Layers that keep a dense MLP regardless (Qwen `mlp_only_layers`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub dense_layers: Vec<u64>,
    /// The top-k routing weights are renormalised to sum to 1 (`norm_topk_prob`).
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub norm_topk_prob: bool,
    /// Zipf exponent of expert popularity (0: uniform routing).
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub routing_skew: f64,
    /// How the model's transformers code runs the experts at inference, which a stack that
    /// runs that code op by op (an `eager_dispatch` framework profile: `hf`) pays for; fused
    /// engines (vLLM, TensorRT-LLM) run grouped GEMMs over the routed pairs whatever it says.
    #[serde(default, skip_serializing_if = "super::is_default")]
    pub eager_experts: crate::experts::ExpertsImpl,
}

fn is_one(v: &u64) -> bool {
    *v == 1
}

/// Largest exponent accepted for `routing_skew` (beyond it one expert takes everything).
const MAX_SKEW: f64 = 10.0;

impl Moe {
    /// Whether decoder layer `i` (0-based) routes its MLP through the experts.
    pub(crate) fn is_sparse(&self, layer: u64) -> bool {
        layer >= self.first_dense_layers
            && (layer + 1).is_multiple_of(self.sparse_step)
            && !self.dense_layers.contains(&layer)
    }

    /// Checks the keys against each other and the model's depth.
    pub fn validate(&self, num_layers: u64) -> Result<(), String> {
        for (key, value) in [
            ("moe.num_experts", self.num_experts),
            ("moe.experts_per_token", self.experts_per_token),
            (
                "moe.expert_intermediate_size",
                self.expert_intermediate_size,
            ),
            ("moe.sparse_step", self.sparse_step),
        ] {
            super::check_dim(key, value)?;
        }
        if self.experts_per_token > self.num_experts {
            return Err(format!(
                "moe.experts_per_token = {} exceeds moe.num_experts = {}: a token picks k of E experts",
                self.experts_per_token, self.num_experts
            ));
        }
        if self.shared_intermediate_size > super::MAX_DIM {
            return Err(format!(
                "key 'moe.shared_intermediate_size' = {} must be at most {}",
                self.shared_intermediate_size,
                super::MAX_DIM
            ));
        }
        if let Some(l) = self.dense_layers.iter().find(|&&l| l >= num_layers) {
            return Err(format!(
                "moe.dense_layers lists layer {l}, but the model has {num_layers} layers (0-based)"
            ));
        }
        if !(0.0..=MAX_SKEW).contains(&self.routing_skew) {
            return Err(format!(
                "moe.routing_skew = {} must be between 0 (uniform) and {MAX_SKEW}",
                self.routing_skew
            ));
        }
        if !(0..num_layers).any(|l| self.is_sparse(l)) {
            return Err(
                "the [moe] table routes no layer (first_dense_layers, sparse_step and dense_layers exclude all): remove it or fix them".into(),
            );
        }
        Ok(())
    }

    /// Probability that one token routes to each expert, most popular first; they sum to `k`.
    pub(crate) fn inclusion_probabilities(&self) -> Vec<f64> {
        inclusion_probabilities(self.num_experts, self.experts_per_token, self.routing_skew)
    }

    /// Expected distinct experts `n` tokens touch in one layer (see the module docs).
    pub(crate) fn expected_distinct_experts(&self, tokens: f64) -> f64 {
        if tokens <= 0.0 {
            return 0.0;
        }
        let (e, k) = (self.num_experts as f64, self.experts_per_token as f64);
        if self.routing_skew == 0.0 {
            // E·(1 − (1 − k/E)^n): uniform routing.
            return e * (1.0 - (1.0 - k / e).powf(tokens));
        }
        self.inclusion_probabilities()
            .iter()
            .map(|p| 1.0 - (1.0 - p).powf(tokens))
            .sum()
    }
}

/// `π_e = min(1, c·w_e)` with `w_e ∝ rank^-skew` and `c` chosen so that `Σ π = k`: the experts
/// a token certainly picks are fixed at 1 and the rest of the `k` picks shared in proportion.
pub(crate) fn inclusion_probabilities(experts: u64, k: u64, skew: f64) -> Vec<f64> {
    let w: Vec<f64> = (1..=experts).map(|r| (r as f64).powf(-skew)).collect();
    let mut pi = vec![0.0; w.len()];
    let mut certain = 0usize; // the most popular `certain` experts have π = 1
    loop {
        let rest: f64 = w[certain..].iter().sum();
        let budget = (k as usize - certain) as f64;
        for (p, wi) in pi.iter_mut().zip(&w).skip(certain) {
            *p = budget * wi / rest;
        }
        // Weights fall with rank, so any capped expert is at the front.
        match pi[certain..].iter().position(|&p| p <= 1.0) {
            Some(0) | None => break,
            Some(over) => {
                for p in &mut pi[certain..certain + over] {
                    *p = 1.0;
                }
                certain += over;
            }
        }
    }
    for p in &mut pi[..certain] {
        *p = 1.0;
    }
    pi
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::rng::SplitMix64;

    fn moe(e: u64, k: u64, skew: f64) -> Moe {
        Moe {
            num_experts: e,
            experts_per_token: k,
            expert_intermediate_size: 8,
            shared_intermediate_size: 0,
            shared_expert_gate: false,
            first_dense_layers: 0,
            sparse_step: 1,
            dense_layers: vec![],
            norm_topk_prob: false,
            routing_skew: skew,
            eager_experts: crate::experts::ExpertsImpl::Loop,
        }
    }

    /// Uniform in `[0, 1)` with 53 random bits.
    fn unit(rng: &mut SplitMix64) -> f64 {
        (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `k` distinct experts drawn so that expert `e` is in the set with probability `pi[e]`
    /// exactly: systematic (Madow) sampling over the cumulated probabilities, which sum to `k`
    /// and are each at most 1, so one start `u` and the points `u, u+1, ..., u+k−1` fall in
    /// `k` different experts. Only these marginals enter the expectation (tokens are
    /// independent), so the joint law of the `k` picks does not matter.
    fn route(pi: &[f64], k: usize, rng: &mut SplitMix64, out: &mut Vec<usize>) {
        out.clear();
        let u = unit(rng);
        let (mut cum, mut next) = (0.0, u);
        for (e, p) in pi.iter().enumerate() {
            cum += p;
            while out.len() < k && next < cum {
                out.push(e);
                next += 1.0;
            }
        }
        // Rounding in the last cumulated value: the last point belongs to the last expert.
        while out.len() < k {
            out.push(pi.len() - 1);
        }
    }

    /// `k` distinct experts uniformly at random (partial Fisher–Yates).
    fn route_uniform(experts: usize, k: usize, rng: &mut SplitMix64, pool: &mut [usize]) {
        for i in 0..k {
            let j = i + (rng.next_u64() % (experts - i) as u64) as usize;
            pool.swap(i, j);
        }
    }

    /// Distinct experts touched by `n` tokens, averaged over `trials` layers.
    fn simulate(m: &Moe, n: usize, trials: usize, seed: u64) -> (f64, f64) {
        let (e, k) = (m.num_experts as usize, m.experts_per_token as usize);
        let pi = m.inclusion_probabilities();
        let mut rng = SplitMix64::new(seed);
        let mut pool: Vec<usize> = (0..e).collect();
        let mut picked = Vec::with_capacity(k);
        let (mut sum, mut sum_sq) = (0.0, 0.0);
        for _ in 0..trials {
            let mut touched = vec![false; e];
            for _ in 0..n {
                if m.routing_skew == 0.0 {
                    route_uniform(e, k, &mut rng, &mut pool);
                    for &x in &pool[..k] {
                        touched[x] = true;
                    }
                } else {
                    route(&pi, k, &mut rng, &mut picked);
                    assert_eq!(
                        picked.windows(2).filter(|w| w[0] == w[1]).count(),
                        0,
                        "experts of one token are distinct"
                    );
                    for &x in &picked {
                        touched[x] = true;
                    }
                }
            }
            let d = touched.iter().filter(|&&t| t).count() as f64;
            sum += d;
            sum_sq += d * d;
        }
        let mean = sum / trials as f64;
        let var = (sum_sq / trials as f64 - mean * mean).max(0.0);
        (mean, (var / trials as f64).sqrt())
    }

    #[test]
    fn distinct_experts_formula_matches_monte_carlo() {
        // (E, k, n): Mixtral 8/2, Qwen1.5-MoE 60/4, DeepSeek-V2-Lite 64/6, Qwen3-30B-A3B 128/8;
        // from one token (exactly k) through partial coverage to saturation.
        let cases = [
            (8, 2, 1),
            (8, 2, 3),
            (60, 4, 5),
            (64, 6, 10),
            (128, 8, 1),
            (128, 8, 4),
            (128, 8, 16),
            (128, 8, 64),
            (128, 8, 200),
        ];
        for skew in [0.0, 0.8, 1.5] {
            for (i, &(e, k, n)) in cases.iter().enumerate() {
                let m = moe(e, k, skew);
                let want = m.expected_distinct_experts(n as f64);
                let (got, se) = simulate(&m, n, 1000, 17 + i as u64);
                // Five standard errors, and never tighter than 0.5 % of E.
                let tol = (5.0 * se).max(0.005 * e as f64);
                assert!(
                    (got - want).abs() <= tol,
                    "E={e} k={k} n={n} skew={skew}: formula {want:.3}, simulation {got:.3} ± {se:.3}"
                );
                if n == 1 {
                    assert!(
                        (want - k as f64).abs() < 1e-9,
                        "one token touches exactly k"
                    );
                }
            }
        }
    }

    #[test]
    fn skew_touches_fewer_experts_and_probabilities_sum_to_k() {
        for skew in [0.0, 0.5, 1.0, 2.0, 6.0] {
            let pi = inclusion_probabilities(128, 8, skew);
            assert!((pi.iter().sum::<f64>() - 8.0).abs() < 1e-9, "skew {skew}");
            assert!(pi.iter().all(|&p| (0.0..=1.0 + 1e-12).contains(&p)));
            assert!(pi.windows(2).all(|w| w[0] >= w[1] - 1e-15));
        }
        let uniform = moe(128, 8, 0.0).expected_distinct_experts(32.0);
        let skewed = moe(128, 8, 1.0).expected_distinct_experts(32.0);
        assert!(skewed < uniform, "{skewed} vs {uniform}");
        // Uniform closed form at a few points.
        assert!((uniform - 128.0 * (1.0 - (1.0 - 8.0 / 128.0f64).powi(32))).abs() < 1e-9);
        assert_eq!(moe(128, 8, 0.0).expected_distinct_experts(0.0), 0.0);
        assert!((moe(8, 2, 0.0).expected_distinct_experts(1e6) - 8.0).abs() < 1e-9);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// n tokens touch at least k experts (n ≥ 1), at most min(E, n·k), more with more
        /// tokens, and fewer under skew than uniformly.
        #[test]
        fn distinct_experts_are_bounded_and_grow(e in 1u64..300, k_frac in 0.0f64..1.0, n in 1u64..5000, skew in 0.0f64..3.0) {
            let k = ((k_frac * e as f64).floor() as u64).clamp(1, e);
            let uniform = moe(e, k, 0.0);
            let skewed = moe(e, k, skew);
            for m in [&uniform, &skewed] {
                let d = m.expected_distinct_experts(n as f64);
                let more = m.expected_distinct_experts(n as f64 + 1.0);
                proptest::prop_assert!(d >= k as f64 - 1e-9, "{d} < {k}");
                proptest::prop_assert!(d <= (e as f64).min((n * k) as f64) + 1e-9, "{d}");
                proptest::prop_assert!(more >= d - 1e-9);
            }
            proptest::prop_assert!(
                skewed.expected_distinct_experts(n as f64)
                    <= uniform.expected_distinct_experts(n as f64) + 1e-9
            );
        }
    }

    #[test]
    fn sparse_layers_follow_the_hf_keys() {
        let mut m = moe(8, 2, 0.0);
        assert!((0..4).all(|l| m.is_sparse(l)));
        m.first_dense_layers = 1; // DeepSeek: layer 0 dense
        assert!(!m.is_sparse(0) && m.is_sparse(1));
        m.first_dense_layers = 0;
        m.sparse_step = 2; // Qwen2-MoE: (i + 1) % step == 0
        assert_eq!(
            (0..4).map(|l| m.is_sparse(l)).collect::<Vec<_>>(),
            [false, true, false, true]
        );
        m.sparse_step = 1;
        m.dense_layers = vec![2];
        assert!(!m.is_sparse(2) && m.is_sparse(3));
        assert!(m.validate(4).is_ok());
        assert!(m.validate(2).unwrap_err().contains("layer 2"));
        m.experts_per_token = 9;
        assert!(m.validate(4).unwrap_err().contains("exceeds"));
    }
}
