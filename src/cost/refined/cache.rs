//! Decoder-layer sums kept across prefills (issue 25): a sweep prices thousands of
//! configurations on one model and GPU, and their layers often have a token count some earlier
//! configuration's layer had (every text-only tail of a schedule, the baseline's layers at
//! four times the frames of a 25 % merge). A layer's kernels depend only on its token count,
//! whether its MLP routes through experts, and the run's model, GPU and options (the key of
//! [`super::LayerMemo`] within one prefill), so such a layer adds the sums it was priced to
//! before: the same values in the same order, the totals bit for bit those of pricing it again.
//!
//! A pruning layer's entry is its layer kernels' sums alone: its importance work (which depends
//! on the pruning step) is priced every time, added to a copy of them in the same order.

use super::Sums;
use crate::cost::{Context, RunOptions};
use crate::hardware::Gpu;
use crate::model::Model;
use std::sync::Arc;

/// Slots of the table: a few MB per worker at most, whatever the sweep's size (memory stays
/// flat); a slot holds the last layer whose token count maps to it.
const SLOTS: usize = 1 << 14;

/// Layer sums of earlier prefills on one model, GPU and run options, by `(tokens, routed)`.
/// Bound with [`LayerCache::bind`]; a prefill on anything else does not use it.
pub struct LayerCache {
    /// What the entries were priced for. The `Arc`s are held so that their addresses, which
    /// [`LayerCache::serves`] compares, cannot be reused by another model or GPU.
    bound: Option<(Arc<Model>, Arc<Gpu>, RunOptions)>,
    slots: Vec<Option<Entry>>,
}

#[derive(Clone)]
struct Entry {
    tokens: u64,
    routed: bool,
    sums: Sums,
}

impl Default for LayerCache {
    fn default() -> Self {
        LayerCache::new()
    }
}

impl LayerCache {
    /// An empty cache (allocates its table on first use).
    pub fn new() -> LayerCache {
        LayerCache {
            bound: None,
            slots: Vec::new(),
        }
    }

    /// Makes the cache serve prefills on `model`, `gpu` and `options`: entries priced for the
    /// same ones (the same `Arc`s, equal options) are kept, others dropped.
    pub fn bind(&mut self, model: &Arc<Model>, gpu: &Arc<Gpu>, options: &RunOptions) {
        let same = self
            .bound
            .as_ref()
            .is_some_and(|(m, g, o)| Arc::ptr_eq(m, model) && Arc::ptr_eq(g, gpu) && o == options);
        if !same {
            self.slots.clear();
            self.slots.resize(SLOTS, None);
            self.bound = Some((model.clone(), gpu.clone(), options.clone()));
        }
    }

    /// Whether the entries were priced for `ctx` (its model and GPU are the bound ones, its
    /// options equal).
    pub(super) fn serves(&self, ctx: &Context) -> bool {
        self.bound.as_ref().is_some_and(|(m, g, o)| {
            std::ptr::eq(&**m, ctx.model) && std::ptr::eq(&**g, ctx.gpu) && o == ctx.options
        })
    }

    fn slot(tokens: u64, routed: bool) -> usize {
        // Fibonacci hashing: consecutive counts spread over the table.
        let h = (tokens.wrapping_mul(2) | routed as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        (h >> (64 - SLOTS.trailing_zeros())) as usize
    }

    /// The sums of a layer of `tokens` tokens that routes as given, if kept.
    #[inline]
    pub(super) fn get(&self, tokens: u64, routed: bool) -> Option<&Sums> {
        match self.slots.get(Self::slot(tokens, routed)) {
            Some(Some(e)) if e.tokens == tokens && e.routed == routed => Some(&e.sums),
            _ => None,
        }
    }

    /// Keeps a layer's sums (replacing whatever its slot held).
    #[inline]
    pub(super) fn put(&mut self, tokens: u64, routed: bool, sums: &Sums) {
        if let Some(slot) = self.slots.get_mut(Self::slot(tokens, routed)) {
            *slot = Some(Entry {
                tokens,
                routed,
                sums: sums.clone(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Scenario;
    use crate::sim;
    use crate::spec::Spec;
    use proptest::prelude::*;

    /// The presets a sequence of prefills draws from, each loaded once (a sweep's rows share
    /// them the same way): a dense model, a model with q/k norms, and a mixture of experts
    /// made to alternate dense and routed layers (a layer's routing is part of the key).
    struct Presets {
        models: Vec<Arc<Model>>,
        gpus: Vec<Arc<Gpu>>,
        schedules: Vec<(Arc<crate::schedule::Schedule>, &'static str)>,
        roofline: crate::framework::Framework,
        trtllm: crate::framework::Framework,
    }

    fn presets() -> Presets {
        let mut mixed = Model::load("qwen3-vl-30b-a3b").unwrap();
        if let Some(m) = mixed.moe.as_mut() {
            (m.first_dense_layers, m.sparse_step) = (1, 2);
        }
        Presets {
            models: vec![
                Arc::new(Model::load("llava-ov-7b").unwrap()),
                Arc::new(Model::load("qwen3-vl-8b").unwrap()),
                Arc::new(mixed),
            ],
            gpus: ["a100", "h100"]
                .map(|g| Arc::new(Gpu::load(g).unwrap()))
                .to_vec(),
            schedules: ["none", "linear", "fastv", "pdrop", "aim-aggressive"]
                .map(|s| (Arc::new(crate::schedule::Schedule::load(s).unwrap()), s))
                .to_vec(),
            roofline: crate::framework::Framework::load("roofline").unwrap(),
            trtllm: crate::framework::Framework::load("trtllm").unwrap(),
        }
    }

    /// One prefill of the sequence: (model, GPU, schedule, frames, text tokens, batch, eager
    /// attention, trtllm profile). Small counts, so that token counts recur across prefills.
    type Config = (usize, usize, usize, u64, u64, u64, bool, bool);

    fn config() -> impl Strategy<Value = Config> {
        (
            0..3usize,
            0..2usize,
            0..5usize,
            0..6u64,
            1..40u64,
            1..3u64,
            prop::bool::weighted(0.2),
            prop::bool::weighted(0.15),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]

        /// Issue 25: layers priced once and reused across prefills (one cache for a whole
        /// sequence of scenarios, as a sweep worker keeps it) give the totals of pricing every
        /// prefill afresh, bit for bit — across changes of model, GPU (a framework profile makes
        /// a new one per scenario), options (batch, attention) and layer routing.
        #[test]
        fn cached_layer_sums_are_fresh_pricing_bit_for_bit(
            configs in prop::collection::vec(config(), 1..24)
        ) {
            let p = presets();
            let mut cache = LayerCache::new();
            for (m, g, s, frames, text, batch, eager, trtllm) in configs {
                let (schedule, name) = &p.schedules[s];
                let mut flags = vec![
                    "--schedule".to_string(),
                    name.to_string(),
                    "--frames".into(),
                    frames.to_string(),
                    "--text-tokens".into(),
                    text.to_string(),
                    "--batch".into(),
                    batch.to_string(),
                ];
                if eager {
                    flags.extend(["--attention".into(), "eager".into()]);
                }
                if trtllm {
                    flags.extend(["--framework".into(), "trtllm".into()]);
                }
                let flags: Vec<&str> = flags.iter().map(String::as_str).collect();
                let spec = Spec::from_flags(&flags).unwrap();
                let framework = if trtllm { &p.trtllm } else { &p.roofline };
                let (scenario, plan) = Scenario::from_loaded_planned(
                    &spec,
                    p.models[m].clone(),
                    p.gpus[g].clone(),
                    schedule.clone(),
                    framework,
                )
                .unwrap();
                let fresh = sim::summarize_planned(&scenario, &plan).unwrap();
                let cached = sim::summarize_cached(&scenario, &plan, &mut cache).unwrap();
                // Debug prints every f64 with its shortest round-trip digits: equal text is equal
                // bits.
                prop_assert_eq!(format!("{fresh:?}"), format!("{cached:?}"), "{:?}", flags);
            }
        }
    }

    /// A cache bound to one context is not used for another (a prefill priced on a different
    /// GPU or batch through it would add sums of the wrong layers).
    #[test]
    fn a_cache_serves_only_the_context_it_is_bound_to() {
        let p = presets();
        let options = crate::cost::RunOptions::default();
        let mut cache = LayerCache::new();
        cache.bind(&p.models[0], &p.gpus[0], &options);
        let ctx = |m: usize, g: usize, o| Context {
            model: &p.models[m],
            gpu: &p.gpus[g],
            options: o,
        };
        assert!(cache.serves(&ctx(0, 0, &options)));
        assert!(!cache.serves(&ctx(0, 1, &options)));
        assert!(!cache.serves(&ctx(1, 0, &options)));
        let batch2 = crate::cost::RunOptions {
            batch: 2,
            ..options.clone()
        };
        assert!(!cache.serves(&ctx(0, 0, &batch2)));
        // An equal model that is another allocation: not the bound one.
        let copy = Arc::new((*p.models[0]).clone());
        assert!(!cache.serves(&Context {
            model: &copy,
            gpu: &p.gpus[0],
            options: &options
        }));
        // Binding again to another context drops the entries.
        cache.put(100, false, &Sums::new());
        assert!(cache.get(100, false).is_some());
        cache.bind(&p.models[0], &p.gpus[0], &options);
        assert!(cache.get(100, false).is_some(), "same context: kept");
        cache.bind(&p.models[0], &p.gpus[0], &batch2);
        assert!(cache.get(100, false).is_none(), "new options: dropped");
        assert!(cache.get(101, false).is_none() && cache.get(100, true).is_none());
    }
}
