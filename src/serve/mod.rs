//! Serving: a discrete-event simulation of one model replica (tensor parallelism allowed)
//! under a stream of requests, to ask what a token-reduction schedule buys a deployment —
//! requests per second at a latency target, and how many prompts its KV cache holds.
//!
//! [`workload`] makes the requests, [`engine`] schedules them as vLLM's V1 scheduler does
//! (continuous batching, chunked prefill, paged KV cache, preemption by recomputation),
//! [`step`] prices each engine step with the refined cost model under the scenario's
//! framework, and this module turns the outcome into latencies, throughput and goodput.
//! docs/serving.md says what is modelled, what is not, and how it compares with published
//! serving benchmarks.

pub mod engine;
pub mod published;
pub mod query;
pub mod render;
pub mod step;
pub mod workload;

use crate::error::keys::{
    BLOCK_SIZE, DURATION, FIND_MAX_RATE, FRAMES, FRAMES_DIST, GPU_MEMORY_UTILIZATION, KV_CACHE_GB,
    LAYER_TOKENS, MAX_NUM_BATCHED_TOKENS, MAX_NUM_SEQS, RATE, SLO_ATTAINMENT, SLO_TPOT, SLO_TTFT,
    TEXT_DIST, TEXT_TOKENS, TP, W_BITS,
};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use step::{price_prompt, Pricer, Prompt};
pub use workload::{Arrivals, Dist, Request};
use workload::{MAX_RATE_PER_S, MIN_RATE_PER_S};

/// The engine's limits, with vLLM's names and defaults: `gpu_memory_utilization` 0.9 and
/// `block_size` 16 (vLLM's documented cache defaults), chunked prefill (always on in V1);
/// `max_num_seqs` 256 and `max_num_batched_tokens` 8192 are its usual limits, which vary
/// with the version, entry point and GPU (docs/serving.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Requests in one step at most.
    pub max_num_seqs: u64,
    /// Tokens (prefill chunks + decodes) in one step at most.
    pub max_num_batched_tokens: u64,
    /// Split long prompts across steps (always on in V1).
    pub chunked_prefill: bool,
    /// Tokens per KV block.
    pub block_size: u64,
    /// Share of the GPU's memory the engine takes (weights, activations, KV cache).
    pub gpu_memory_utilization: f64,
    /// Replaces the KV-cache capacity the memory budget gives (per GPU), bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache_bytes: Option<f64>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_num_seqs: 256,
            max_num_batched_tokens: 8192,
            chunked_prefill: true,
            block_size: 16,
            gpu_memory_utilization: 0.9,
            kv_cache_bytes: None,
        }
    }
}

/// Latency targets; a request meets them when its TTFT and its time per output token are
/// each within the given bound (an absent bound holds always).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Slo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot_s: Option<f64>,
    /// Share of requests that must meet them for a rate to count (`--find-max-rate`).
    pub attainment: f64,
}

impl Slo {
    fn met_by(&self, r: &RequestResult) -> bool {
        self.ttft_s.is_none_or(|t| r.ttft_s <= t) && self.tpot_s.is_none_or(|t| r.tpot_s <= t)
    }
}

/// One request's fate.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RequestResult {
    pub id: usize,
    pub arrival_s: f64,
    pub frames: u64,
    pub text_tokens: u64,
    /// Tokens of layer 0 (after merging).
    pub prompt_tokens: u64,
    pub output_tokens: u64,
    pub first_token_s: f64,
    pub finish_s: f64,
    /// Time to first token.
    pub ttft_s: f64,
    /// Time per output token after the first (0 with one output token).
    pub tpot_s: f64,
    /// Arrival to last token.
    pub e2e_s: f64,
    pub preemptions: u32,
}

/// One engine step (the raw timeline; reports carry [`Bucket`]s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sample {
    pub start_s: f64,
    pub time_s: f64,
    pub batch: u32,
    pub prefill_tokens: u32,
    pub queued: u32,
    pub kv_used: f32,
}

/// The timeline averaged over an interval (time-weighted).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bucket {
    pub start_s: f64,
    pub end_s: f64,
    /// Requests in a step.
    pub batch: f64,
    /// Requests waiting.
    pub queued: f64,
    /// Share of the KV blocks in use.
    pub kv_utilization: f64,
}

/// Mean and percentiles of a latency, seconds.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    pub mean_s: f64,
    pub p50_s: f64,
    pub p90_s: f64,
    pub p99_s: f64,
}

impl Latency {
    /// Nearest-rank percentiles.
    fn of(mut v: Vec<f64>) -> Latency {
        if v.is_empty() {
            return Latency::default();
        }
        v.sort_by(f64::total_cmp);
        let at = |p: f64| v[(((p / 100.0) * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1];
        Latency {
            mean_s: v.iter().sum::<f64>() / v.len() as f64,
            p50_s: at(50.0),
            p90_s: at(90.0),
            p99_s: at(99.0),
        }
    }
}

/// What the KV cache holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KvCapacity {
    /// `memory × gpu_memory_utilization − weights − activations` (per GPU), or the given size.
    pub capacity_bytes: f64,
    pub weights_bytes: f64,
    /// The reserve for one step's activations (the refined model's peak for the largest of:
    /// the first request's prompt, a text prefill of `max_num_batched_tokens`).
    pub activation_reserve_bytes: f64,
    /// Blocks of `block_size` tokens of one layer.
    pub layer_blocks: u64,
    /// KV bytes of one token in every layer, without reduction.
    pub bytes_per_token_all_layers: f64,
    /// Requests of the first request's shape, at their full length (prompt + output), that fit
    /// together: the concurrency memory allows.
    pub requests_that_fit: u64,
    /// Layer-blocks one such request holds at its full length.
    pub blocks_per_request: u64,
}

/// Latencies, throughput and memory of one run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Summary {
    pub requests: usize,
    /// Last token of the last request.
    pub makespan_s: f64,
    pub throughput_requests_per_s: f64,
    pub output_tokens_per_s: f64,
    pub ttft: Latency,
    pub tpot: Latency,
    pub e2e: Latency,
    /// Requests meeting the SLOs, per second of makespan.
    pub goodput_requests_per_s: f64,
    /// Share of requests meeting the SLOs.
    pub slo_attainment: f64,
    pub preemptions: u64,
    pub steps: u64,
    /// Time-weighted over the makespan.
    pub mean_batch: f64,
    pub max_batch: u32,
    pub mean_kv_utilization: f64,
    pub peak_kv_utilization: f64,
    /// The prefill of the first request's prompt alone (`simulate`'s TTFT).
    pub prefill_alone_s: f64,
}

/// A serving run: its settings, summary, memory, timeline and per-request rows.
#[derive(Debug, Clone, Serialize)]
pub struct ServeReport {
    pub schedule: String,
    pub framework: String,
    pub model: String,
    pub gpu: String,
    pub tp: u64,
    /// Whether a prefill prices the vision encoder (`--include-vision`): without it TTFT is
    /// the LLM's alone, which a saved result did not say.
    pub include_vision: bool,
    /// Poisson rate (`None` for a trace).
    pub rate_per_s: Option<f64>,
    pub limits: Limits,
    pub slo: Slo,
    pub summary: Summary,
    pub kv: KvCapacity,
    pub timeline: Vec<Bucket>,
    pub requests: Vec<RequestResult>,
    /// What the run was priced under that its figures alone do not say (an anchor's refit).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// What `simulate` warns of this input (a setting that does not apply as a user may
    /// expect); serve priced the same input and said nothing of them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// Under a fitted framework profile: the same requests with every step at the ends of the
    /// profile's 80 % interval of a run's time. Absent for the roofline (a bound).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<ServeInterval>,
}

/// A serving run's 80 % intervals under a fitted framework profile (issue 21 item 3). A
/// stack the profile was not fitted to runs every kernel faster or slower alike (its
/// harness: the profile's `[spread]`, docs/accuracy.md), so the same requests are run again
/// with every step's time × the low and the high end of the interval of one run's time
/// (`Spread::time_interval`), and each figure's interval is its range over the three runs:
/// queueing turns a factor on the steps into far more on the tail latencies near saturation.
#[derive(Debug, Clone, Serialize)]
pub struct ServeInterval {
    /// The factors on every step's time: the profile's 80 % interval of a run's time over its
    /// prediction.
    pub time_factors: [f64; 2],
    pub ttft_p50_s: [f64; 2],
    pub ttft_p90_s: [f64; 2],
    pub ttft_p99_s: [f64; 2],
    pub tpot_p50_s: [f64; 2],
    pub tpot_p90_s: [f64; 2],
    pub e2e_p50_s: [f64; 2],
    pub throughput_requests_per_s: [f64; 2],
    pub output_tokens_per_s: [f64; 2],
    pub goodput_requests_per_s: [f64; 2],
    pub slo_attainment: [f64; 2],
    pub prefill_alone_s: [f64; 2],
}

impl ServeInterval {
    /// Each figure's `[min, max]` over `runs` (the run itself and its two ends), bounded by
    /// `ideal`, the same requests with every kernel at the GPU's peaks (the roofline): no
    /// stack serves them faster, so a latency's low end is at least the ideal run's and a
    /// rate's or attainment's high end at most its (a wide profile, trtllm's MoE runs at
    /// ×0.13, once put TTFT lows 4.7× below the roofline's).
    fn of(time_factors: [f64; 2], runs: &[&Summary], ideal: &Summary) -> ServeInterval {
        let range = |f: &dyn Fn(&Summary) -> f64| {
            runs.iter()
                .map(|s| f(s))
                .fold([f64::INFINITY, f64::NEG_INFINITY], |[lo, hi], v| {
                    [lo.min(v), hi.max(v)]
                })
        };
        // A latency: its low end raised to the ideal run's (never above the run's own).
        let latency = |f: &dyn Fn(&Summary) -> f64| {
            let [lo, hi] = range(f);
            [lo.max(f(ideal).min(f(runs[0]))), hi]
        };
        // A rate or share: its high end lowered to the ideal run's (never below the run's).
        let rate = |f: &dyn Fn(&Summary) -> f64| {
            let [lo, hi] = range(f);
            [lo, hi.min(f(ideal).max(f(runs[0])))]
        };
        ServeInterval {
            time_factors,
            ttft_p50_s: latency(&|s| s.ttft.p50_s),
            ttft_p90_s: latency(&|s| s.ttft.p90_s),
            ttft_p99_s: latency(&|s| s.ttft.p99_s),
            tpot_p50_s: latency(&|s| s.tpot.p50_s),
            tpot_p90_s: latency(&|s| s.tpot.p90_s),
            e2e_p50_s: latency(&|s| s.e2e.p50_s),
            throughput_requests_per_s: rate(&|s| s.throughput_requests_per_s),
            output_tokens_per_s: rate(&|s| s.output_tokens_per_s),
            goodput_requests_per_s: rate(&|s| s.goodput_requests_per_s),
            slo_attainment: rate(&|s| s.slo_attainment),
            prefill_alone_s: latency(&|s| s.prefill_alone_s),
        }
    }
}

/// A prepared replica: the scenario's pricer, prompts priced once, the KV capacity.
pub struct Server {
    pricer: Pricer,
    prompts: Vec<Prompt>,
    by_shape: HashMap<(u64, u64), usize>,
    base: Scenario,
    limits: Limits,
    capacity_blocks: Option<u64>,
    kv: Option<KvCapacity>,
}

impl Server {
    pub fn new(base: &Scenario, limits: Limits) -> Result<Server> {
        if base.layer_tokens_override.is_some() {
            return Err(Error::invalid(format!(
                "serve prices each request's own plan: drop {LAYER_TOKENS} (use a schedule)"
            )));
        }
        if limits.max_num_seqs == 0 || limits.max_num_batched_tokens == 0 || limits.block_size == 0
        {
            return Err(Error::invalid(format!(
                "{MAX_NUM_SEQS}, {MAX_NUM_BATCHED_TOKENS} and {BLOCK_SIZE} must be at least 1"
            )));
        }
        let u = limits.gpu_memory_utilization;
        if !(u > 0.0 && u <= 1.0) {
            return Err(Error::invalid(format!(
                "{GPU_MEMORY_UTILIZATION} {u}: give a share in (0, 1]"
            )));
        }
        Ok(Server {
            pricer: Pricer::new(base)?,
            prompts: Vec::new(),
            by_shape: HashMap::new(),
            base: base.clone(),
            limits,
            capacity_blocks: None,
            kv: None,
        })
    }

    fn prompt(&mut self, frames: u64, text: u64) -> Result<usize> {
        if let Some(&i) = self.by_shape.get(&(frames, text)) {
            return Ok(i);
        }
        let p = price_prompt(&self.base, frames, text)?;
        self.prompts.push(p);
        self.by_shape.insert((frames, text), self.prompts.len() - 1);
        Ok(self.prompts.len() - 1)
    }

    /// The KV capacity, fixed by the first request shape seen (the activation reserve).
    fn capacity(&mut self, first: &Request, first_prompt: usize) -> Result<(u64, KvCapacity)> {
        if let (Some(c), Some(kv)) = (self.capacity_blocks, &self.kv) {
            return Ok((c, kv.clone()));
        }
        let p = &self.prompts[first_prompt];
        let layers = self.pricer.layers() as u64;
        let per_token = self.pricer.kv_bytes_per_token();
        let block_bytes = per_token * self.limits.block_size as f64;
        let profile = price_prompt(&self.base, 0, self.limits.max_num_batched_tokens)?;
        let reserve = p.activations_bytes.max(profile.activations_bytes);
        let capacity_bytes = match self.limits.kv_cache_bytes {
            Some(b) => b,
            None => {
                self.base.gpu.memory * self.limits.gpu_memory_utilization
                    - p.weights_bytes
                    - reserve
            }
        };
        // A stated cache is what the engine is told to allocate (as vLLM's
        // `kv_cache_memory_bytes`, which sets gpu_memory_utilization aside), but it cannot be
        // memory the GPU does not have: a cache past the room the weights and activations
        // leave is refused, not priced, since every rate and latency after it would be of a
        // GPU that does not exist (1e9 GB once "fit" thousands of requests at once).
        if let Some(b) = self.limits.kv_cache_bytes {
            let left_bytes = self.base.gpu.memory - p.weights_bytes - reserve;
            if b > left_bytes {
                // Rounded down, so that the size the message offers is accepted.
                let left_gb = (left_bytes.max(0.0) / 1e7).floor() / 100.0;
                return Err(Error::invalid(format!(
                    "{KV_CACHE_GB} {}: the {:.1} GB GPU has {left_gb:.2} GB left after {:.1} GB of weights and {:.2} GB of activations; give at most {left_gb:.2} (or use {TP} to spread the weights)",
                    crate::error::bounded(b / 1e9),
                    self.base.gpu.memory / 1e9,
                    p.weights_bytes / 1e9,
                    reserve / 1e9,
                )));
            }
        }
        // One block per layer at least (NaN counts as too small).
        let room = capacity_bytes > block_bytes * layers as f64;
        // The cache would hold a request at the default block size but not at the one given:
        // the block is the cause, and no memory setting is the fix.
        let largest_block = (capacity_bytes / (per_token * layers as f64)).floor();
        let default_block = Limits::default().block_size;
        if !room && largest_block >= default_block as f64 {
            return Err(Error::invalid(format!(
                "{BLOCK_SIZE} {}: one request's blocks do not fit: a block in each of the {layers} layers takes {:.2} GB, the KV cache has {:.2} GB; give a smaller block size (at most {largest_block}; vLLM's default is {default_block})",
                self.limits.block_size,
                block_bytes * layers as f64 / 1e9,
                capacity_bytes / 1e9,
            )));
        }
        if let (Some(_), false) = (self.limits.kv_cache_bytes, room) {
            return Err(Error::invalid(format!(
                "{KV_CACHE_GB} {}: less than one {}-token block per layer; give more",
                crate::error::bounded(capacity_bytes / 1e9),
                self.limits.block_size
            )));
        }
        // One prompt's activations past the device: no memory setting or split helps it.
        let without_prompt = self.base.gpu.memory * self.limits.gpu_memory_utilization
            - p.weights_bytes
            - profile.activations_bytes;
        if !room && without_prompt > block_bytes * layers as f64 {
            return Err(Error::invalid(format!(
                "a prompt of {} frame(s) and {} text tokens does not fit: its activations take {:.1} GB of the {:.1} GB GPU; lower its {FRAMES} or {TEXT_TOKENS} (or {FRAMES_DIST}/{TEXT_DIST}, or the trace's row)",
                p.frames,
                p.text_tokens,
                p.activations_bytes / 1e9,
                self.base.gpu.memory / 1e9,
            )));
        }
        // The weights alone past the device: no memory share helps (it advised raising a share
        // already at 1, and printed a negative room).
        if !room && p.weights_bytes >= self.base.gpu.memory {
            return Err(Error::invalid(format!(
                "the weights alone take {:.1} GB, more than the GPU's {:.1} GB: split them with {TP}, store them in fewer {W_BITS}, or give a larger GPU",
                p.weights_bytes / 1e9,
                self.base.gpu.memory / 1e9,
            )));
        }
        // The engine's profile run (a text prefill of max_num_batched_tokens) reserves the
        // activations: when it alone leaves no room, the batch limit is the cause (a huge one
        // advised raising the memory share).
        let with_prompt_only = self.base.gpu.memory * self.limits.gpu_memory_utilization
            - p.weights_bytes
            - p.activations_bytes;
        if !room
            && profile.activations_bytes > p.activations_bytes
            && with_prompt_only > block_bytes * layers as f64
        {
            return Err(Error::invalid(format!(
                "{MAX_NUM_BATCHED_TOKENS} {}: a batch that large takes {:.1} GB of activations, past the {:.1} GB GPU's room after {:.1} GB of weights; give fewer (vLLM's default is {})",
                self.limits.max_num_batched_tokens,
                profile.activations_bytes / 1e9,
                self.base.gpu.memory / 1e9,
                p.weights_bytes / 1e9,
                Limits::default().max_num_batched_tokens,
            )));
        }
        if !room {
            let fix = if self.limits.gpu_memory_utilization < 1.0 {
                format!("raise {GPU_MEMORY_UTILIZATION} or use {TP}")
            } else {
                format!("use {TP} or fewer {W_BITS}")
            };
            return Err(Error::invalid(format!(
                "no room for a KV cache: {:.1} GB × {} leaves {:.2} GB after {:.1} GB of weights and {:.2} GB of activations; {fix}",
                self.base.gpu.memory / 1e9,
                self.limits.gpu_memory_utilization,
                capacity_bytes.max(0.0) / 1e9,
                p.weights_bytes / 1e9,
                reserve / 1e9
            )));
        }
        let layer_blocks = (capacity_blocks_f(capacity_bytes, block_bytes)) as u64;
        let bs = self.limits.block_size;
        let cached = first.output_tokens.saturating_sub(1);
        let blocks_per_request: u64 = p
            .layer_tokens
            .iter()
            .map(|&n| (n + cached).div_ceil(bs))
            .sum();
        let kv = KvCapacity {
            capacity_bytes,
            weights_bytes: p.weights_bytes,
            activation_reserve_bytes: reserve,
            layer_blocks,
            bytes_per_token_all_layers: per_token * layers as f64,
            requests_that_fit: layer_blocks / blocks_per_request.max(1),
            blocks_per_request,
        };
        self.capacity_blocks = Some(layer_blocks);
        self.kv = Some(kv.clone());
        Ok((layer_blocks, kv))
    }

    /// Runs `requests` (sorted by arrival) through the replica.
    pub fn run(
        &mut self,
        requests: &[Request],
        slo: Slo,
        rate_per_s: Option<f64>,
    ) -> Result<ServeReport> {
        if requests.is_empty() {
            return Err(Error::invalid(format!(
                "no requests arrive: raise {RATE} or {DURATION}"
            )));
        }
        let prompt_of: Vec<usize> = requests
            .iter()
            .map(|r| self.prompt(r.frames, r.text_tokens))
            .collect::<Result<_>>()?;
        let (capacity, kv) = self.capacity(&requests[0], prompt_of[0])?;
        let out = engine::run(
            &mut self.pricer,
            &self.prompts,
            requests,
            &prompt_of,
            &self.limits,
            capacity,
        )?;
        let prefill_alone_s = self.prompts[prompt_of[0]].prefill_alone_s * self.pricer.scale();
        let summary = summarize(&out, slo, prefill_alone_s);
        let s = &self.base;
        Ok(ServeReport {
            schedule: s.schedule.name.clone(),
            framework: s.profile_name(),
            model: s.model.name.clone(),
            gpu: s.gpu.name.clone(),
            tp: s.options.tp,
            include_vision: s.options.include_vision,
            rate_per_s,
            limits: self.limits.clone(),
            slo,
            summary,
            kv,
            timeline: buckets(&out.timeline, 200),
            requests: out.requests,
            notes: Vec::new(),
            warnings: s.warnings.clone(),
            interval: None,
        })
    }

    /// `report` (a run of `requests` at scale 1) with its 80 % intervals: the same requests
    /// run again with every step × each of `time_factors`, bounded by their run on `ideal`
    /// (this replica at the GPU's peaks, [`Server::ideal`]; [`ServeInterval`]).
    pub fn with_interval(
        &mut self,
        mut report: ServeReport,
        requests: &[Request],
        time_factors: [f64; 2],
        ideal: &mut Server,
    ) -> Result<ServeReport> {
        let ends = self.at_scales(time_factors, |server| {
            server.run(requests, report.slo, report.rate_per_s)
        })?;
        let bound = ideal.run(requests, report.slo, report.rate_per_s)?;
        report.interval = Some(ServeInterval::of(
            time_factors,
            &[&report.summary, &ends[0].summary, &ends[1].summary],
            &bound.summary,
        ));
        Ok(report)
    }

    /// This replica with every kernel at the GPU's peaks, no profile's fractions or overheads
    /// (the roofline): what bounds an interval's fast end.
    pub fn ideal(&self) -> Result<Server> {
        let mut ideal = self.base.clone();
        ideal.gpu = crate::sim::ideal_gpu(&self.base.gpu);
        ideal.spread = None;
        Server::new(&ideal, self.limits.clone())
    }

    /// `work` run with every step × each of `factors` in turn, the scale restored after.
    pub(crate) fn at_scales<T>(
        &mut self,
        factors: [f64; 2],
        mut work: impl FnMut(&mut Server) -> Result<T>,
    ) -> Result<[T; 2]> {
        let mut run = |server: &mut Server, f: f64| {
            server.pricer.set_scale(f);
            let out = work(server);
            server.pricer.set_scale(1.0);
            out
        };
        let low = run(self, factors[0])?;
        let high = run(self, factors[1])?;
        Ok([low, high])
    }
}

fn capacity_blocks_f(capacity_bytes: f64, block_bytes: f64) -> f64 {
    (capacity_bytes / block_bytes).floor()
}

fn summarize(out: &engine::Outcome, slo: Slo, prefill_alone_s: f64) -> Summary {
    let r = &out.requests;
    let makespan_s = r.iter().map(|q| q.finish_s).fold(0.0, f64::max);
    let met = r.iter().filter(|q| slo.met_by(q)).count();
    let out_tokens: u64 = r.iter().map(|q| q.output_tokens).sum();
    let span: f64 = out
        .timeline
        .iter()
        .map(|s| s.time_s)
        .sum::<f64>()
        .max(f64::MIN_POSITIVE);
    let weighted = |f: &dyn Fn(&Sample) -> f64| {
        out.timeline.iter().map(|s| f(s) * s.time_s).sum::<f64>() / span
    };
    Summary {
        requests: r.len(),
        makespan_s,
        throughput_requests_per_s: r.len() as f64 / makespan_s,
        output_tokens_per_s: out_tokens as f64 / makespan_s,
        ttft: Latency::of(r.iter().map(|q| q.ttft_s).collect()),
        tpot: Latency::of(
            r.iter()
                .filter(|q| q.output_tokens > 1)
                .map(|q| q.tpot_s)
                .collect(),
        ),
        e2e: Latency::of(r.iter().map(|q| q.e2e_s).collect()),
        goodput_requests_per_s: met as f64 / makespan_s,
        slo_attainment: met as f64 / r.len() as f64,
        preemptions: out.preemptions,
        steps: out.steps,
        mean_batch: weighted(&|s| s.batch as f64),
        max_batch: out.timeline.iter().map(|s| s.batch).max().unwrap_or(0),
        mean_kv_utilization: weighted(&|s| s.kv_used as f64),
        peak_kv_utilization: out
            .timeline
            .iter()
            .map(|s| s.kv_used as f64)
            .fold(0.0, f64::max),
        prefill_alone_s,
    }
}

/// The timeline in `n` equal intervals of the busy span, time-weighted (idle time between
/// steps counts as an empty batch).
fn buckets(samples: &[Sample], n: usize) -> Vec<Bucket> {
    let Some(last) = samples.last() else {
        return Vec::new();
    };
    let end = last.start_s + last.time_s;
    let width = end / n as f64;
    let mut out: Vec<Bucket> = (0..n)
        .map(|i| Bucket {
            start_s: i as f64 * width,
            end_s: (i + 1) as f64 * width,
            batch: 0.0,
            queued: 0.0,
            kv_utilization: 0.0,
        })
        .collect();
    for s in samples {
        let (a, b) = (s.start_s, s.start_s + s.time_s);
        let first = ((a / width) as usize).min(n - 1);
        let last = ((b / width) as usize).min(n - 1);
        for (i, bucket) in out.iter_mut().enumerate().take(last + 1).skip(first) {
            let lo = a.max(i as f64 * width);
            let hi = b.min((i + 1) as f64 * width);
            let w = (hi - lo).max(0.0) / width;
            bucket.batch += w * s.batch as f64;
            bucket.queued += w * s.queued as f64;
            bucket.kv_utilization += w * s.kv_used as f64;
        }
    }
    out
}

/// The highest Poisson rate at which at least `slo.attainment` of the requests meet the SLOs.
#[derive(Debug, Clone, Serialize)]
pub struct MaxRate {
    pub rate_per_s: f64,
    /// Under a fitted framework profile: the highest rate again with every step × the ends of
    /// the profile's 80 % interval of a run's time ([`ServeInterval`]); 0 where even the
    /// lowest rate fails at the slow end; at most the roofline's highest rate, and the
    /// search's limit where the targets hold beyond it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_interval_per_s: Option<[f64; 2]>,
    /// The run at that rate.
    pub at_max: ServeReport,
    /// Every rate tried, with its attainment.
    pub tried: Vec<(f64, f64)>,
}

/// Searches the highest rate meeting `slo` (doubling, then bisection to 0.5 %), with the same
/// seed and lengths at every rate.
pub fn find_max_rate(server: &mut Server, arrivals: &Arrivals, slo: Slo) -> Result<MaxRate> {
    if slo.ttft_s.is_none() && slo.tpot_s.is_none() {
        return Err(Error::invalid(format!(
            "{FIND_MAX_RATE} needs a target: give {SLO_TTFT} and/or {SLO_TPOT}"
        )));
    }
    if !(slo.attainment > 0.0 && slo.attainment <= 1.0) {
        return Err(Error::invalid(format!(
            "{SLO_ATTAINMENT} {}: give a share in (0, 1]",
            slo.attainment
        )));
    }
    let mut tried = Vec::new();
    let mut at = |rate: f64, tried: &mut Vec<(f64, f64)>| -> Result<(bool, ServeReport)> {
        let requests = Arrivals {
            rate_per_s: rate,
            ..arrivals.clone()
        }
        .generate()?;
        let report = server.run(&requests, slo, Some(rate))?;
        let a = report.summary.slo_attainment;
        tried.push((rate, a));
        Ok((a >= slo.attainment, report))
    };
    let start = arrivals.rate_per_s;
    let (ok, mut best) = at(start, &mut tried)?;
    let (mut lo, mut hi);
    if ok {
        lo = start;
        hi = start * 2.0;
        loop {
            let (ok, r) = at(hi, &mut tried)?;
            if !ok {
                break;
            }
            (lo, best) = (hi, r);
            hi *= 2.0;
            if hi > MAX_RATE_PER_S {
                return Err(Error::invalid(format!(
                    "the SLOs hold beyond {MAX_RATE_PER_S:e} requests/s: check {SLO_TTFT}/{SLO_TPOT}"
                )));
            }
        }
    } else {
        // Halve down from the start until a rate meets the SLOs, however high the start: the
        // floor is absolute (a start of 10⁶ requests/s once gave up near 100 without trying it).
        hi = start;
        let mut failing = best.clone();
        loop {
            lo = hi / 2.0;
            if lo < MIN_RATE_PER_S {
                return Err(Error::invalid(format!(
                    "the SLOs fail even at {hi:.3e} requests/s, the lowest rate tried: {}",
                    unmet_targets(&failing, slo)
                )));
            }
            let (ok, r) = at(lo, &mut tried)?;
            if ok {
                best = r;
                break;
            }
            (hi, failing) = (lo, r);
        }
    }
    while (hi - lo) / lo > 0.005 {
        let mid = 0.5 * (lo + hi);
        let (ok, r) = at(mid, &mut tried)?;
        if ok {
            (lo, best) = (mid, r);
        } else {
            hi = mid;
        }
    }
    Ok(MaxRate {
        rate_per_s: lo,
        rate_interval_per_s: None,
        at_max: best,
        tried,
    })
}

/// What keeps `report` (a run at the lowest rate, where requests run alone) below the
/// attainment: each target that too few requests meet on its own, with what they take, so that
/// a TPOT beyond reach is not blamed on the TTFT. Both are named where only together they fail.
fn unmet_targets(report: &ServeReport, slo: Slo) -> String {
    let share = |met: &dyn Fn(&RequestResult) -> bool| {
        report.requests.iter().filter(|q| met(q)).count() as f64 / report.requests.len() as f64
    };
    let ttft = slo.ttft_s.map(|t| {
        let s = share(&|q| q.ttft_s <= t);
        (
            s,
            format!(
                "a request alone takes {:.3} s to its first token, over {SLO_TTFT} {}",
                report.summary.prefill_alone_s,
                crate::error::bounded(t)
            ),
        )
    });
    let tpot = slo.tpot_s.map(|t| {
        let s = share(&|q| q.tpot_s <= t);
        (
            s,
            format!(
                "a request takes {:.3e} s per output token (median), over {SLO_TPOT} {}",
                report.summary.tpot.p50_s,
                crate::error::bounded(t)
            ),
        )
    });
    let failing: Vec<String> = [ttft.clone(), tpot.clone()]
        .into_iter()
        .flatten()
        .filter(|(s, _)| *s < slo.attainment)
        .map(|(_, why)| why)
        .collect();
    let named = if failing.is_empty() {
        [ttft, tpot]
            .into_iter()
            .flatten()
            .map(|(_, why)| why)
            .collect()
    } else {
        failing
    };
    let them = if named.len() > 1 { "them" } else { "it" };
    format!("{}; loosen {them}", named.join(" and "))
}
