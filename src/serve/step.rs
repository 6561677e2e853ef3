//! The time of one engine step — a batch of prefill chunks and decode tokens — from the refined
//! cost model's own kernels, timed by its own [`Timer`] under the scenario's framework.
//!
//! A step runs every decoder layer once over all its tokens: the linear layers, norms and
//! activations see the batch's `T_l` tokens together (the weights are read once per step),
//! attention is per request (a prefill chunk attends causally over its context, a decode over
//! its cache). So a layer costs `rest(T_l) + attention`, where `rest` is the layer's
//! kernels without attention (memoised by `T_l`: the same few values recur every step), and
//! the step adds the head over the last layer's tokens (logits for one position per request),
//! the host overhead of a forward, and the vision encoder, merging and importance scoring of
//! the prompts it prefills. One prefill alone is then exactly the refined model's prefill.

use crate::cost::refined::decoder::Arch;
use crate::cost::refined::kernel::{kernel, no_work, Call, Class, Kernel, Timer};
use crate::cost::refined::layer::{self, Dims};
use crate::cost::{CostModel, OpKind};
use crate::error::keys::{BATCH, COST_MODEL};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use std::collections::HashMap;

/// One prompt shape, priced once: what each layer keeps, and the work outside the decoder
/// layers that its prefill brings.
#[derive(Debug, Clone)]
pub struct Prompt {
    pub frames: u64,
    pub text_tokens: u64,
    /// Tokens each decoder layer processes and caches (the schedule's plan).
    pub layer_tokens: Vec<u64>,
    /// Whether the layers differ (pruning inside the LLM): then the prefill runs whole, in
    /// one step — a pruning layer scores the whole prompt (its importance needs every token).
    pub prunes: bool,
    /// Vision encoder (with `--include-vision`) and merging, once per prefill.
    pub stages_s: f64,
    /// Importance scoring, top-k and gather at the pruning layers.
    pub importance_s: f64,
    /// The prefill alone, as `simulate` prices it (time to first token).
    pub prefill_alone_s: f64,
    pub weights_bytes: f64,
    pub activations_bytes: f64,
}

impl Prompt {
    /// Tokens the scheduler counts for this prompt (layer 0's sequence).
    pub fn tokens(&self) -> u64 {
        self.layer_tokens.first().copied().unwrap_or(0)
    }
}

/// Prices the prompt of `frames` frames and `text_tokens` text tokens on `base`'s model, GPU,
/// framework and schedule.
pub(crate) fn price_prompt(base: &Scenario, frames: u64, text_tokens: u64) -> Result<Prompt> {
    let mut s = base.clone();
    s.input.frames = frames;
    s.input.text_tokens = text_tokens;
    s.options.gen_tokens = 0;
    let plan = s.plan()?;
    let w = s.workload(&plan);
    let run = crate::cost::refined::Refined.run_workload(&s.context(), &w);
    let p = run.pipeline.unwrap_or_default();
    let peak = run.peak_memory.unwrap_or_default();
    let t = &plan.layer_tokens;
    Ok(Prompt {
        frames,
        text_tokens,
        prunes: t.windows(2).any(|x| x[0] != x[1]),
        layer_tokens: plan.layer_tokens.clone(),
        stages_s: p.vision_time_s + p.merge_time_s,
        importance_s: p.importance_time_s,
        prefill_alone_s: p.ttft_s,
        weights_bytes: peak.weights_bytes,
        activations_bytes: peak.activations_bytes,
    })
}

/// What one request does in a step, layer by layer.
#[derive(Debug, Clone, Copy)]
pub enum Work<'p> {
    /// Prefill of positions `start..end` in every layer (a chunk; no pruning).
    Chunk { start: u64, end: u64 },
    /// The whole prefill of a pruned prompt: layer `l` processes `layer_tokens[l] + extra`
    /// tokens (`extra`: tokens generated before a preemption, recomputed).
    Whole { layer_tokens: &'p [u64], extra: u64 },
    /// One decode token; layer `l` attends over `layer_tokens[l] + generated` tokens.
    Decode {
        layer_tokens: &'p [u64],
        generated: u64,
    },
}

impl Work<'_> {
    /// `(start, end)` of the new tokens in layer `l`.
    #[inline]
    fn span(&self, l: usize) -> (u64, u64) {
        match *self {
            Work::Chunk { start, end } => (start, end),
            Work::Whole {
                layer_tokens,
                extra,
            } => (0, layer_tokens[l] + extra),
            Work::Decode {
                layer_tokens,
                generated,
            } => {
                let c = layer_tokens[l] + generated;
                (c - 1, c)
            }
        }
    }
}

/// Prices steps on one scenario: the refined model's dimensions, architecture and timer.
pub struct Pricer {
    d: Dims,
    arch: Arch,
    timer: Timer,
    layers: usize,
    flash: bool,
    /// One attention launch's overhead (merged attention kernels launch once; under an
    /// eager-dispatch framework, the ops of one attention call).
    launch_s: f64,
    /// Host work of one forward.
    host_s: f64,
    /// `rest(T)` by (routes through experts, T).
    rest: HashMap<(bool, u64), f64>,
    /// Scratch: per layer, tokens, decode count and summed decode context.
    tokens: Vec<u64>,
    decode_context: Vec<f64>,
    /// Every step's time × this: 1, or an end of the profile's 80 % interval of a run's time
    /// (a stack's harness makes every kernel faster or slower alike; `ServeInterval`).
    scale: f64,
}

impl Pricer {
    pub fn new(base: &Scenario) -> Result<Pricer> {
        if base.cost_model != crate::cost::CostModelKind::Refined {
            return Err(Error::invalid(format!(
                "serve prices steps with the refined model: drop {COST_MODEL} llm-viewer"
            )));
        }
        let ctx = base.context();
        if ctx.options.batch != 1 {
            return Err(Error::invalid(format!(
                "serve batches requests itself: drop {BATCH} (each request is one sequence)"
            )));
        }
        let timer = Timer::for_context(&ctx);
        // The launch a merged (varlen) attention saves per extra prefill: under an
        // eager-dispatch framework, every op of a fused attention call (refined/dispatch.rs).
        let launch_name = if ctx.options.flash_attention {
            "flash_attention"
        } else {
            "launch"
        };
        let launch_s = timer.time(no_work(launch_name)).time_s;
        let fixed = ctx
            .gpu
            .efficiency
            .as_ref()
            .is_some_and(|e| e.fixed_overhead_s > 0.0);
        let host_s = if fixed {
            timer
                .time(kernel(
                    "host_overhead",
                    OpKind::Host,
                    Class::Host,
                    0.0,
                    Call::Host,
                ))
                .time_s
        } else {
            0.0
        };
        let layers = base.model.num_layers as usize;
        Ok(Pricer {
            d: Dims::new(&ctx),
            arch: Arch::new(&ctx),
            timer,
            layers,
            flash: ctx.options.flash_attention,
            launch_s,
            host_s,
            rest: HashMap::new(),
            tokens: vec![0; layers],
            decode_context: vec![0.0; layers],
            scale: 1.0,
        })
    }

    pub fn layers(&self) -> usize {
        self.layers
    }

    /// KV-cache bytes of one token in one layer on this GPU.
    pub(crate) fn kv_bytes_per_token(&self) -> f64 {
        self.d.kv_bytes(1.0)
    }

    /// A layer's kernels but attention, for `n` tokens together.
    fn rest(&mut self, i: usize, n: u64) -> f64 {
        let routed = self.arch.routes(i);
        if let Some(&t) = self.rest.get(&(routed, n)) {
            return t;
        }
        let t = self
            .arch
            .layer_ops(&self.d, i, n as f64, Vec::new())
            .into_iter()
            .map(|k| self.timer.time(k).time_s)
            .sum();
        self.rest.insert((routed, n), t);
        t
    }

    /// Causal attention of positions `start..end` over `0..end`: the whole prefill's kernels
    /// when `start = 0` (as the refined model prices it), else those of `0..end` scaled by
    /// the chunk's share of the causal work, `(end² − start²) / end²`, launched once.
    fn prefill_attention(&self, start: u64, end: u64) -> f64 {
        let kernels: Vec<Kernel> = if self.flash {
            vec![layer::flash_attention(&self.d, end)]
        } else {
            layer::eager_attention(&self.d, end).to_vec()
        };
        let share = if start == 0 {
            1.0
        } else {
            let (a, b) = (start as f64, end as f64);
            (b * b - a * a) / (b * b)
        };
        kernels
            .into_iter()
            .map(|k| {
                let launches = k.launches;
                let mut k = k.times(share);
                k.launches = launches;
                self.timer.time(k).time_s
            })
            .sum()
    }

    /// The time of one step running `work` (one entry per scheduled request), plus `extra_s`
    /// (encoders, merging, importance of the prompts it prefills).
    pub(crate) fn step_time(&mut self, work: &[Work], extra_s: f64) -> f64 {
        self.scale * self.step_time_unscaled(work, extra_s)
    }

    /// The factor every step's time is multiplied by (1 unless an interval's end is run).
    pub(crate) fn scale(&self) -> f64 {
        self.scale
    }

    pub(crate) fn set_scale(&mut self, scale: f64) {
        self.scale = scale;
    }

    fn step_time_unscaled(&mut self, work: &[Work], extra_s: f64) -> f64 {
        if work.is_empty() {
            return 0.0;
        }
        self.tokens.iter_mut().for_each(|t| *t = 0);
        self.decode_context.iter_mut().for_each(|c| *c = 0.0);
        let mut decodes = 0u64;
        let mut attention_s = 0.0;
        let mut prefills = 0u64;
        for w in work {
            match *w {
                Work::Decode { .. } => {
                    decodes += 1;
                    for l in 0..self.layers {
                        let (_, c) = w.span(l);
                        self.decode_context[l] += c as f64;
                        self.tokens[l] += 1;
                    }
                }
                _ => {
                    prefills += 1;
                    for l in 0..self.layers {
                        let (a, b) = w.span(l);
                        self.tokens[l] += b - a;
                        if b > a {
                            attention_s += self.prefill_attention(a, b);
                        }
                    }
                }
            }
        }
        // Several prefills' attention runs as one kernel per layer (varlen): one launch each.
        if prefills > 1 {
            attention_s -= (prefills - 1) as f64 * self.layers as f64 * self.launch_s;
        }
        let mut time_s = extra_s + attention_s + self.host_s;
        for l in 0..self.layers {
            time_s += self.rest(l, self.tokens[l]);
            if decodes > 0 {
                // Decode attention is affine in the context (layer::decode_attention), so the
                // batch's is that of the mean context, `decodes` times, launched once.
                let k = layer::decode_attention(&self.d, self.decode_context[l] / decodes as f64);
                let launches = k.launches;
                let mut k = k.times(decodes as f64);
                k.launches = launches;
                time_s += self.timer.time(k).time_s;
            }
        }
        let last = self.tokens[self.layers - 1] as f64;
        time_s += layer::head_ops(&self.d, last, work.len() as f64)
            .into_iter()
            .map(|k| self.timer.time(k).time_s)
            .sum::<f64>();
        time_s
    }
}
