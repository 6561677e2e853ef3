//! Framework profiles: how fast a software stack runs the kernels the refined model prices.
//!
//! The same prefill takes 57.8 ms in one published HF measurement and 138 ms in another on the
//! same GPU: what runs it (fused engine or eager Python, FlashAttention or not, CUDA graphs or
//! launches) matters as much as the device. A profile holds the physically meaningful
//! parameters of one stack — achieved fractions of peak compute and bandwidth, launch and host
//! overhead, collective latency, weight dequantisation — for every GPU it was fitted on
//! (`[gpu.NAME]`) and pooled over them (`[params]`, used for other GPUs). They become the
//! [`Efficiency`] the refined model's timer applies (cost/refined/kernel.rs).
//!
//! `roofline` is the ideal: no table, every kernel at its roof (or the GPU file's own
//! `[efficiency]` table when it has one). The others are fitted to published measurements
//! (`aim-sim fit reference/measurements.toml`, docs/accuracy.md) and say so in `provenance`.

use crate::error::{Error, Result};
use crate::hardware::{Efficiency, Host};
use crate::presets::{self, Source};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The name of the ideal profile.
pub(crate) const ROOFLINE: &str = "roofline";

/// ` · framework NAME` for output priced under a fitted profile, beside its cost model;
/// nothing under the roofline (the default), whose output stays as it was.
pub(crate) fn named(framework: &str) -> String {
    if framework == ROOFLINE {
        String::new()
    } else {
        format!(" · framework {framework}")
    }
}

/// Parameters of a framework on one GPU (or pooled); absent keys fall back to `[params]`, then
/// to the ideal.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Params {
    /// Achieved fraction of `fp16_peak` by 16-bit GEMMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matmul: Option<f64>,
    /// Achieved fraction of `int8_peak` by 8-bit (FP8/INT8) GEMMs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matmul_8bit: Option<f64>,
    /// Achieved fraction of peak by the fused attention kernel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention: Option<f64>,
    /// Achieved fraction of HBM bandwidth by memory-bound kernels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub memory: Option<f64>,
    /// Cost per kernel launch beyond its roofline time (dispatch, small-kernel inefficiency), s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub launch_overhead_s: Option<f64>,
    /// Host cost per forward beyond its kernels, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed_overhead_s: Option<f64>,
    /// Latency per collective, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub collective_latency_s: Option<f64>,
    /// Achieved fraction of the interconnect bandwidth by collectives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<f64>,
    /// Weight-only quantised weights are dequantised before each GEMM at this fraction of
    /// bandwidth (bitsandbytes); absent: packed weights are read directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dequant: Option<f64>,
    /// Tokens per expert at which a mixture-of-experts grouped GEMM reaches half the dense GEMM
    /// efficiency (`m / (m + m_half)`); absent: dense efficiency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_half_tokens: Option<f64>,
    /// Pooled cost per kernel (per op under `eager_dispatch`) on a desktop host, s: what a GPU
    /// whose preset says `host = "desktop"` gets when it has no `launch_overhead_s` of its own.
    /// PyTorch's dispatch is single-thread host work, faster on desktop CPUs (issue 21).
    /// Absent: `launch_overhead_s`, whatever the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub desktop_launch_overhead_s: Option<f64>,
}

impl Params {
    /// `self` with its absent keys taken from `fallback`.
    pub fn or(&self, fallback: &Params) -> Params {
        Params {
            matmul: self.matmul.or(fallback.matmul),
            matmul_8bit: self.matmul_8bit.or(fallback.matmul_8bit),
            attention: self.attention.or(fallback.attention),
            memory: self.memory.or(fallback.memory),
            launch_overhead_s: self.launch_overhead_s.or(fallback.launch_overhead_s),
            fixed_overhead_s: self.fixed_overhead_s.or(fallback.fixed_overhead_s),
            collective_latency_s: self.collective_latency_s.or(fallback.collective_latency_s),
            link: self.link.or(fallback.link),
            dequant: self.dequant.or(fallback.dequant),
            expert_half_tokens: self.expert_half_tokens.or(fallback.expert_half_tokens),
            desktop_launch_overhead_s: self
                .desktop_launch_overhead_s
                .or(fallback.desktop_launch_overhead_s),
        }
    }

    /// The pooled values a GPU on `host` gets: on a desktop, the desktop pool's per-kernel
    /// cost where the profile has one.
    pub fn for_host(&self, host: Host) -> Params {
        let mut p = self.clone();
        if host == Host::Desktop {
            p.launch_overhead_s = self.desktop_launch_overhead_s.or(self.launch_overhead_s);
        }
        p
    }

    /// As the timer reads it; absent keys are ideal (1 for fractions, 0 for overheads).
    pub fn efficiency(&self, source: String) -> Efficiency {
        Efficiency {
            matmul: self.matmul.unwrap_or(1.0),
            attention: self.attention.unwrap_or(1.0),
            elementwise: self.memory.unwrap_or(1.0),
            launch_overhead_s: self.launch_overhead_s.unwrap_or(0.0),
            matmul_8bit: self.matmul_8bit,
            fixed_overhead_s: self.fixed_overhead_s.unwrap_or(0.0),
            collective_latency_s: self.collective_latency_s.unwrap_or(0.0),
            link: self.link,
            dequant: self.dequant,
            expert_half_tokens: self.expert_half_tokens,
            source: Some(source),
            eager_dispatch: false,
        }
    }

    /// Fractions in (0, 1], times finite and ≥ 0; `Err` names the key.
    pub fn validate(&self, table: &str) -> Result<(), String> {
        self.efficiency(String::new()).validate().map_err(|m| {
            let m = m
                .replace("efficiency.", "")
                .replace("'elementwise'", "'memory'");
            format!("[{table}]: {m}")
        })?;
        // The desktop pool is checked as the per-kernel cost it replaces.
        match self.desktop_launch_overhead_s {
            Some(d) => Params {
                launch_overhead_s: Some(d),
                ..Params::default()
            }
            .validate(table)
            .map_err(|m| m.replace("'launch_overhead_s'", "'desktop_launch_overhead_s'")),
            None => Ok(()),
        }
    }
}

/// A framework profile file (`frameworks/*.toml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Framework {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// How the parameters were obtained: data, command, date, errors.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub provenance: String,
    /// Where the values that are not fitted come from (kept by `aim-sim fit`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// How the stack runs the vision encoder's attention when a run does not say
    /// (`vision_attention`): the LLaVA code bases run it eagerly whatever the LLM's attention
    /// (LLaVA-NeXT `siglip_encoder.py`); absent: as the LLM's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision_attention: Option<crate::attention::AttentionImpl>,
    /// The stack dispatches PyTorch's ops one by one (HF transformers): its per-kernel overhead
    /// is per op, and each modelled kernel costs the ops the stack runs for it
    /// ([`crate::hardware::Efficiency::eager_dispatch`]).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub eager_dispatch: bool,
    /// Parameters for every GPU (fitted pooled values, and those fixed from kernel benchmarks).
    #[serde(default)]
    pub params: Params,
    /// Parameters fitted for one GPU, by GPU preset name; they override `params`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub gpu: BTreeMap<String, Params>,
    /// How far predictions land from measurements of sources the fit never saw; absent: no
    /// interval is stated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spread: Option<Spread>,
    /// What an anchor refitted this profile on, as the anchored run's notes said it: written
    /// by the anchored run (`--anchor-ms`, `--anchor FILE`) into its JSON's profile, so that the
    /// run replayed (`--spec run.json`) says it again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_notes: Option<AnchorNotes>,
    /// The GPU (its name) an anchor refitted this profile on: the refitted figures and the
    /// narrow interval an anchor leaves are that GPU's, so a run on another GPU is refused
    /// (a live anchor is; a replayed anchored run on another `gpu` priced the other GPU with
    /// the refit and the anchored interval). Absent: not anchored, or written before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchored_gpu: Option<String>,
}

/// The notes an anchored run printed of its anchor ([`Framework::anchor_notes`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AnchorNotes {
    /// What was refitted, from what: true of every run under the profile.
    pub refitted: String,
    /// The other estimate from the same measurement (the measured baseline ÷ the unanchored
    /// predicted speed-up): true of the anchored run alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scaled: Option<RunNote>,
}

/// A note true of one run only: the run whose schedule prices at `run_time_s` on the measured
/// baseline the profile was anchored on (the anchored run, or its JSON replayed; a replay on
/// another input or schedule prices otherwise and does not say it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunNote {
    pub note: String,
    /// The schedule's time of the run the note belongs to, s.
    pub run_time_s: f64,
}

impl RunNote {
    /// Whether a run whose schedule prices at `run_time_s` is the one the note belongs to.
    pub fn belongs_to(&self, run_time_s: f64) -> bool {
        (run_time_s / self.run_time_s - 1.0).abs() < 1e-9
    }
}

/// How far a prediction under a profile lands from a measurement on a source (paper, harness)
/// the fit never saw: leave-one-source-out residuals `ln(predicted / measured)` of `aim-sim
/// fit` (docs/accuracy.md). A new user's stack is a new source, so its 80 % interval is
/// `predicted · exp(±t · √(between² + within²))` (log-normal), t the 90th percentile of
/// Student's t with the degrees of freedom σ was estimated from (`time_dof`; few sources give
/// a wide t: 1.53 with four, against the normal 1.28).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Spread {
    /// σ between sources: root mean square over source groups of each group's mean log
    /// residual (a harness's offset, bias included), over the dense models' rows.
    pub between_sources: f64,
    /// σ between sources of mixture-of-experts rows, alone: their grouped expert GEMMs rest on
    /// a parameter of their own (`expert_half_tokens`) fitted on few sources, so a MoE run's
    /// error on a new source is not a dense run's (one MoE blog once widened every dense
    /// TensorRT-LLM interval from ×0.9–×1.1 to ×0.64–×1.57). Absent: no MoE row was fitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe_between_sources: Option<f64>,
    /// Source groups with mixture-of-experts rows behind `moe_between_sources`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub moe_source_groups: usize,
    /// σ within a source: pooled standard deviation of log residuals around their group's mean.
    pub within_source: f64,
    /// σ of `ln(predicted / measured speed-up)` over leave-one-source-out pairs; absent when no
    /// row has a baseline, and then `√2 · within_source` is used (two runs of one harness).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup: Option<f64>,
    /// Source groups and rows behind the figures.
    pub source_groups: usize,
    pub rows: usize,
    pub speedup_pairs: usize,
    /// Degrees of freedom of the time σ √(between² + within²): Welch–Satterthwaite over the
    /// source groups behind `between_sources` and the rows' spread within them. Absent: not
    /// stated, the interval takes the normal z.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_dof: Option<f64>,
    /// The same for a mixture-of-experts run's σ (with `moe_between_sources`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe_time_dof: Option<f64>,
    /// Degrees of freedom of the speed-up σ: the source groups with pairs (pairs of one
    /// harness move together, so a group counts once).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speedup_dof: Option<f64>,
    /// Share of the fitted rows inside their 80 % interval when σ, too, is estimated without
    /// their source (`check`'s held-out coverage): how the interval fared on stacks that neither
    /// the fit nor this spread saw. Absent with one source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_coverage: Option<f64>,
    /// The same for speed-ups over a baseline of the same source.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_speedup_coverage: Option<f64>,
    /// σ of a time's log error on a GPU without fitted values: the rows of each GPU that has
    /// them (rows from two or more sources) predicted by a fit without that GPU's rows, and
    /// the rows whose source, their GPU's only one, was left out (both priced with the pooled
    /// values, as a new GPU is); `√(between² + within²)` of those residuals grouped by GPU. A
    /// run on such a GPU takes it where it is wider than the time σ ([`Spread::for_gpu`]).
    /// Absent: no GPU was left out (written before, or one GPU only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_gpu: Option<f64>,
    /// Degrees of freedom of `new_gpu` (Welch–Satterthwaite over the GPUs and their rows).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub new_gpu_dof: Option<f64>,
    /// GPUs behind `new_gpu`.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub new_gpus: usize,
    /// Set by an anchor ([`Spread::anchored`]): the profile was refitted to the user's own
    /// measurements, so a run's JSON replayed (`--spec run.json`) still says its interval is
    /// an anchored one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anchored: bool,
    /// The measured baseline an `--anchor-ms` run was refitted to, ms: a replay whose baseline
    /// prices to it is that measurement again (no interval), as the anchored run said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub anchor_ms: Option<f64>,
    /// Copied from the shipped profile by `fit` (the fitted rows are of one source, which gives
    /// no spread between sources): a run says whose interval it prints (a user's own profile
    /// called it "a stack this profile was not fitted to").
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub shipped: bool,
}

fn is_zero(n: &usize) -> bool {
    *n == 0
}

impl Spread {
    /// The spread a run of a dense (`moe = false`) or mixture-of-experts model gets: a MoE
    /// run takes the MoE sources' σ between sources where there is one (the dense one, and a
    /// note from [`Spread::moe_note`], where not).
    pub fn for_model(&self, moe: bool) -> Spread {
        match (moe, self.moe_between_sources) {
            (true, Some(b)) => Spread {
                between_sources: b,
                time_dof: self.moe_time_dof,
                ..*self
            },
            _ => *self,
        }
    }

    /// Whether a baseline priced at `base_time_s` is the measured baseline this spread was
    /// anchored on (`--anchor-ms`, or `--anchor FILE` of one row): then it is that
    /// measurement, with no interval. A file's row goes through decimal text and a least-squares
    /// fit, which reproduce it to about 1e-6 (`one_row_in_a_file_is_anchor_ms`).
    pub fn measured_baseline(&self, base_time_s: f64) -> bool {
        self.anchored
            && self
                .anchor_ms
                .is_some_and(|ms| (base_time_s * 1e3 / ms - 1.0).abs() < 1e-6)
    }

    /// The spread a run gets on a GPU with fitted values (`fitted`) or without: then the time
    /// σ is at least [`Spread::new_gpu`], how far the fitted GPUs each landed when left out
    /// (the speed-up σ stays: two runs on one GPU). Apply after [`Spread::for_model`].
    pub fn for_gpu(&self, fitted: bool) -> Spread {
        match self.new_gpu {
            Some(g) if !fitted && g > self.time_sigma() => Spread {
                // σ = √(between² + within²) = g, the within-source scatter kept.
                between_sources: (g * g - self.within_source * self.within_source).sqrt(),
                time_dof: self.new_gpu_dof,
                speedup: Some(self.speedup_sigma()),
                speedup_dof: self.speedup_sigma_dof(),
                ..*self
            },
            _ => *self,
        }
    }

    /// What a MoE run's interval rests on, when no MoE source is behind it.
    pub(crate) fn moe_note(&self, framework: &str) -> Option<String> {
        self.moe_between_sources.is_none().then(|| {
            format!(
                "framework {framework}: no mixture-of-experts row was fitted; the grouped expert GEMMs run at the dense efficiency and the 80 % interval is the dense models' (a MoE run may land outside it)"
            )
        })
    }

    /// What a run's interval is worth where it held less than its 80 % on the published sources
    /// left out of both the fit and the spread (below 75 %, issue 21's bar).
    pub(crate) fn coverage_note(&self, framework: &str) -> Option<String> {
        let low = |c: Option<f64>| c.filter(|c| *c < 0.75);
        let pct = |c: f64| format!("{:.0} %", c * 100.0);
        let what = match (
            low(self.held_out_coverage),
            low(self.held_out_speedup_coverage),
        ) {
            (None, None) => return None,
            (Some(t), None) => format!("{} of times", pct(t)),
            (None, Some(s)) => format!("{} of speed-ups", pct(s)),
            (Some(t), Some(s)) => format!("{} of times and {} of speed-ups", pct(t), pct(s)),
        };
        Some(format!(
            "framework {framework}: on the published sources, each left out of both the fit and its [spread], the 80 % interval held {what}: read it as narrower than 80 % for a harness unlike those (docs/accuracy.md, prediction intervals)"
        ))
    }

    /// σ of a time prediction's log error on a new source.
    /// What an anchor leaves (issue 21 item 4): the harness pinned, a new run's error is that of
    /// a ratio of two runs of it, the speed-up σ with its degrees of freedom — never wider than
    /// without the anchor (where sources barely differ, the time σ is the narrower).
    pub(crate) fn anchored(&self) -> Spread {
        let (sigma, dof) = if self.speedup_sigma() < self.time_sigma() {
            (self.speedup_sigma(), self.speedup_sigma_dof())
        } else {
            (self.time_sigma(), self.time_dof)
        };
        Spread {
            between_sources: 0.0,
            moe_between_sources: self.moe_between_sources.map(|_| 0.0),
            within_source: sigma,
            time_dof: dof,
            moe_time_dof: self.moe_time_dof.and(dof),
            // The anchor was timed on the user's GPU too: a GPU without fitted values no
            // longer widens the interval ([`Spread::for_gpu`] leaves it).
            new_gpu: None,
            new_gpu_dof: None,
            anchored: true,
            ..*self
        }
    }

    pub(crate) fn time_sigma(&self) -> f64 {
        self.between_sources.hypot(self.within_source)
    }

    /// σ of a speed-up prediction's log error.
    pub(crate) fn speedup_sigma(&self) -> f64 {
        self.speedup
            .unwrap_or(std::f64::consts::SQRT_2 * self.within_source)
    }

    /// The 80 % interval `[low, high]` of a time predicted as `value` on a new source.
    pub fn time_interval(&self, value: f64) -> [f64; 2] {
        Self::interval80(value, self.time_sigma(), self.time_dof)
    }

    /// The 80 % interval `[low, high]` of a speed-up predicted as `value`.
    pub fn speedup_interval(&self, value: f64) -> [f64; 2] {
        Self::interval80(value, self.speedup_sigma(), self.speedup_sigma_dof())
    }

    /// Degrees of freedom of [`Spread::speedup_sigma`]: the pairs' source groups, or without
    /// pairs (σ = √2 · within) the rows' spread within their groups.
    pub(crate) fn speedup_sigma_dof(&self) -> Option<f64> {
        if self.speedup.is_some() {
            self.speedup_dof
        } else {
            Some(self.rows.saturating_sub(self.source_groups) as f64)
        }
    }

    /// The 80 % interval `[low, high]` around `value` for log-σ `sigma` estimated with `dof`
    /// degrees of freedom (`None`: the normal limit).
    fn interval80(value: f64, sigma: f64, dof: Option<f64>) -> [f64; 2] {
        let t = crate::stats::t80(dof);
        [value * (-t * sigma).exp(), value * (t * sigma).exp()]
    }

    /// Every figure finite and ≥ 0.
    fn validate(&self) -> Result<(), String> {
        for (k, v) in [
            ("between_sources", Some(self.between_sources)),
            ("moe_between_sources", self.moe_between_sources),
            ("within_source", Some(self.within_source)),
            ("speedup", self.speedup),
            ("new_gpu", self.new_gpu),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && (0.0..10.0).contains(&v)) {
                    return Err(format!(
                        "[spread]: '{k}' = {v} must be a log-σ between 0 and 10"
                    ));
                }
            }
        }
        for (k, v) in [
            ("time_dof", self.time_dof),
            ("moe_time_dof", self.moe_time_dof),
            ("speedup_dof", self.speedup_dof),
            ("new_gpu_dof", self.new_gpu_dof),
        ] {
            if let Some(v) = v {
                if !(v.is_finite() && v >= 1.0) {
                    return Err(format!(
                        "[spread]: '{k}' = {v} must be degrees of freedom, at least 1"
                    ));
                }
            }
        }
        for (k, v) in [
            ("held_out_coverage", self.held_out_coverage),
            ("held_out_speedup_coverage", self.held_out_speedup_coverage),
        ] {
            if let Some(v) = v {
                if !(0.0..=1.0).contains(&v) {
                    return Err(format!(
                        "[spread]: '{k}' = {v} must be a share between 0 and 1"
                    ));
                }
            }
        }
        if let Some(ms) = self.anchor_ms {
            if !(ms.is_finite() && ms > 0.0) {
                return Err(format!(
                    "[spread]: 'anchor_ms' = {ms} must be a measured time in ms, above 0"
                ));
            }
        }
        Ok(())
    }
}

impl Framework {
    /// The ideal profile.
    pub fn roofline() -> Framework {
        Framework {
            name: ROOFLINE.into(),
            description: String::new(),
            provenance: String::new(),
            notes: Vec::new(),
            vision_attention: None,
            eager_dispatch: false,
            params: Params::default(),
            gpu: BTreeMap::new(),
            spread: None,
            anchor_notes: None,
            anchored_gpu: None,
        }
    }

    /// Loads a preset name or a TOML file path, then validates it.
    pub fn load(name_or_path: &str) -> Result<Framework> {
        let source = presets::resolve("framework", name_or_path, presets::FRAMEWORKS)?;
        Framework::from_source(&source)
    }

    /// Parses and validates an already-read profile.
    pub fn from_source(source: &Source) -> Result<Framework> {
        let f: Framework = presets::parse_toml(source)?;
        f.validate().map_err(|message| Error::Parse {
            origin: source.origin.clone(),
            message,
        })?;
        Ok(f)
    }

    /// Every table's values within their physical ranges.
    pub fn validate(&self) -> Result<(), String> {
        self.params.validate("params")?;
        for (gpu, p) in &self.gpu {
            p.validate(&format!("gpu.{gpu}"))?;
        }
        if let Some(s) = &self.spread {
            s.validate()?;
        }
        Ok(())
    }

    /// Whether this is the ideal profile (no parameters at all).
    pub(crate) fn is_roofline(&self) -> bool {
        self.params == Params::default() && self.gpu.is_empty()
    }

    /// Whether `gpu` (a preset name; `None`: a GPU from a file) has values fitted on its own
    /// rows. A table that holds only fixed figures (attention from kernel benchmarks) was not
    /// fitted: the run gets the pooled values and must not be called fitted for the GPU.
    pub(crate) fn fitted_for(&self, gpu: Option<&str>) -> bool {
        gpu.and_then(|g| self.gpu.get(g)).is_some_and(|t| {
            t.matmul.is_some()
                || t.matmul_8bit.is_some()
                || t.launch_overhead_s.is_some()
                || t.link.is_some()
        })
    }

    /// Whether `gpu`'s table has its own GEMM efficiency at the run's GEMM precision (`eight_bit`:
    /// the 8-bit tensor path). Without it the GEMMs, most of a prefill, take the pooled value, as
    /// on a GPU without fitted values, and so does the interval ([`Spread::for_gpu`]).
    pub(crate) fn gemm_fitted_for(&self, gpu: Option<&str>, eight_bit: bool) -> bool {
        gpu.and_then(|g| self.gpu.get(g)).is_some_and(|t| {
            if eight_bit {
                t.matmul_8bit.is_some()
            } else {
                t.matmul.is_some()
            }
        })
    }

    /// A `[gpu.NAME]` table that looks meant for the preset `gpu` but does not name it (a typo,
    /// an alias, another case: `[gpu.h10]` for `h100`), when `gpu` has no table of its own. A
    /// run on `gpu` takes the pooled values, not that table's: it once did so silently. Such a
    /// name is not refused when the profile is read: a table may be for a GPU from a file
    /// (a user's `rtx4080.toml`, one edit from a preset), which `check` and `fit` price by name.
    pub(crate) fn near_miss_table(&self, gpu: &str) -> Option<&str> {
        use crate::presets::GPUS;
        if self.gpu.contains_key(gpu) {
            return None;
        }
        self.gpu.keys().map(String::as_str).find(|name| {
            !GPUS.iter().any(|(n, _)| n == name)
                && presets::canonical(name, GPUS)
                    .or_else(|| presets::nearest(name, GPUS))
                    .is_some_and(|meant| meant == gpu)
        })
    }

    /// The efficiency a run on `gpu` (a preset name, also of a GPU file that names a preset's
    /// device, [`presets::gpu_preset_of`]; `None` for another GPU from a file) gets, and a
    /// note when a needed figure was not fitted for that GPU. `None` for the ideal profile.
    pub(crate) fn efficiency_for(
        &self,
        gpu: Option<&str>,
        host: Host,
        eight_bit: bool,
    ) -> Option<(Efficiency, Vec<String>)> {
        if self.is_roofline() {
            return None;
        }
        let mut notes = Vec::new();
        let table = gpu.and_then(|g| self.gpu.get(g));
        let fitted = self.fitted_for(gpu);
        let pooled = self.params.for_host(host);
        let params = match table {
            Some(t) => t.or(&pooled),
            None => pooled,
        };
        if !fitted {
            // Say where the pooled values come from: they carry other GPUs' efficiency to this
            // one unchecked (no measured row of it was fitted).
            let fitted_on = match self.provenance.split(';').next().map(str::trim) {
                Some(p) if !p.is_empty() => format!(" (from {p})"),
                _ => String::new(),
            };
            notes.push(format!(
                "framework {}: no parameters fitted for {} (no measured rows on it from two or more sources); its pooled [params]{fitted_on} are used{}; {}",
                self.name,
                gpu.map_or("a GPU from a file".to_string(), |g| format!("GPU '{g}'")),
                if table.is_some() {
                    " (with this GPU's fixed attention figure)"
                } else {
                    ""
                },
                match self.spread.and_then(|s| Some((s.new_gpu?, s.new_gpus))) {
                    // An anchor was timed on this GPU: its interval is what the anchor leaves,
                    // which neither statement below describes.
                    _ if self.spread.is_some_and(|s| s.anchored) => "the anchor was timed on this GPU, so the 80 % interval is what the anchor leaves, as its note says".to_string(),
                    Some((g, n)) => format!("the 80 % interval is at least as wide as the errors of {n} GPUs priced with the pooled values, each left out of the fit (σ {g:.2}, [spread] new_gpu); a GPU unlike them can land further out (docs/accuracy.md, \"AccelMark on three new GPUs\")"),
                    None => "the 80 % interval is the scatter between harnesses on fitted GPUs, not how far this GPU departs from the pooled fractions, which can be far larger (docs/accuracy.md, \"AccelMark on three new GPUs\")".to_string(),
                }
            ));
        }
        let own_launch = table.is_some_and(|t| t.launch_overhead_s.is_some());
        if host == Host::Desktop && !own_launch {
            if let Some(d) = self.params.desktop_launch_overhead_s {
                notes.push(format!(
                    "framework {}: a desktop host (the GPU's host key): the pooled per-{} cost of desktop-host GPUs, {:.1} µs (desktop_launch_overhead_s), not the servers' {:.1} µs",
                    self.name,
                    if self.eager_dispatch { "op" } else { "kernel" },
                    d * 1e6,
                    self.params.launch_overhead_s.unwrap_or(0.0) * 1e6
                ));
            }
        }
        if fitted && !self.gemm_fitted_for(gpu, eight_bit) {
            notes.push(format!(
                "framework {}: no {}-bit GEMM efficiency fitted for {}; the pooled value is used{}",
                self.name,
                if eight_bit { 8 } else { 16 },
                gpu.unwrap_or("this GPU"),
                match self.spread.and_then(|s| s.new_gpu) {
                    Some(g) => format!(
                        ", and the 80 % interval is that of a GPU without fitted values (σ {g:.2}, [spread] new_gpu)"
                    ),
                    None => String::new(),
                }
            ));
        }
        let source = match gpu {
            Some(g) if fitted => format!("framework {} (fitted for {g})", self.name),
            _ => format!("framework {} (pooled parameters)", self.name),
        };
        let mut e = params.efficiency(source);
        e.eager_dispatch = self.eager_dispatch;
        Some((e, notes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A profile from TOML text (origin `f.toml`).
    fn parse(text: &str) -> Result<Framework> {
        Framework::from_source(&Source {
            origin: "f.toml".into(),
            text: text.into(),
            path: None,
        })
    }

    #[test]
    fn every_preset_loads_and_roofline_is_ideal() {
        for name in presets::names(presets::FRAMEWORKS) {
            let f = Framework::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(f.name, name);
            assert_eq!(f.is_roofline(), name == ROOFLINE, "{name}");
        }
        assert!(Framework::load(ROOFLINE)
            .unwrap()
            .efficiency_for(Some("a100"), Host::Server, false)
            .is_none());
    }

    #[test]
    fn a_gpu_table_overrides_the_pooled_params() {
        let text = "name = \"x\"\n[params]\nmatmul = 0.6\nmemory = 0.8\n[gpu.h100]\nmatmul = 0.5\n";
        let f = Framework::from_source(&Source {
            origin: "t".into(),
            text: text.into(),
            path: None,
        })
        .unwrap();
        let (e, notes) = f.efficiency_for(Some("h100"), Host::Server, false).unwrap();
        assert_eq!((e.matmul, e.elementwise), (0.5, 0.8));
        assert!(notes.is_empty(), "{notes:?}");
        let (e, notes) = f.efficiency_for(Some("a100"), Host::Server, false).unwrap();
        assert_eq!(e.matmul, 0.6);
        assert!(notes[0].contains("no parameters fitted"), "{notes:?}");
        let (_, notes) = f.efficiency_for(Some("h100"), Host::Server, true).unwrap();
        assert!(notes[0].contains("8-bit"), "{notes:?}");
    }

    /// Issue 21: a desktop-host GPU without a per-kernel cost of its own gets the desktop
    /// pool, a server GPU the servers' pool, and a GPU with its own value keeps it; a profile
    /// without a desktop pool prices every host alike.
    #[test]
    fn a_desktop_host_gets_the_desktop_pool_unless_its_gpu_has_its_own() {
        let text = "name = \"x\"\n[params]\nmatmul = 0.6\nlaunch_overhead_s = 2e-5\ndesktop_launch_overhead_s = 1e-5\n[gpu.rtx4090]\nlaunch_overhead_s = 1.2e-5\n";
        let f = parse(text).unwrap();
        let launch = |gpu: &str, host: Host| {
            let (e, notes) = f.efficiency_for(Some(gpu), host, false).unwrap();
            (e.launch_overhead_s, notes.join(" | "))
        };
        let (desktop, notes) = launch("rtx5090", Host::Desktop);
        assert_eq!(desktop, 1e-5);
        assert!(notes.contains("desktop_launch_overhead_s"), "{notes}");
        assert_eq!(launch("rtx5090", Host::Server).0, 2e-5);
        assert_eq!(launch("h100", Host::Server).0, 2e-5);
        let (own, notes) = launch("rtx4090", Host::Desktop);
        assert_eq!(own, 1.2e-5);
        assert!(!notes.contains("desktop_launch_overhead_s"), "{notes}");
        let plain = parse("name = \"x\"\n[params]\nlaunch_overhead_s = 2e-5\n").unwrap();
        let (e, _) = plain
            .efficiency_for(Some("rtx5090"), Host::Desktop, false)
            .unwrap();
        assert_eq!(e.launch_overhead_s, 2e-5);
    }

    /// Issue 24 item 9: a GPU table holding only the fixed attention figure (hf's h100) is not
    /// a fit for that GPU; the run says pooled, not "fitted for h100".
    #[test]
    fn a_gpu_with_only_fixed_figures_is_pooled_not_fitted() {
        let text = "name = \"x\"\n[params]\nmatmul = 0.6\n[gpu.h100]\nattention = 0.35\n";
        let f = Framework::from_source(&Source {
            origin: "t".into(),
            text: text.into(),
            path: None,
        })
        .unwrap();
        let (e, notes) = f.efficiency_for(Some("h100"), Host::Server, false).unwrap();
        assert_eq!((e.matmul, e.attention), (0.6, 0.35));
        let source = e.source.unwrap();
        assert!(
            source.contains("pooled") && !source.contains("fitted for"),
            "{source}"
        );
        assert!(
            notes[0].contains("no parameters fitted for GPU 'h100'"),
            "{notes:?}"
        );
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

    #[test]
    fn impossible_parameters_are_rejected() {
        for bad in [
            "matmul = 1.2",
            "memory = 0",
            "launch_overhead_s = -1e-6",
            "link = nan",
            "expert_half_tokens = -5",
            "expert_half_tokens = 1e6",
            "desktop_launch_overhead_s = -1e-6",
            "desktop_launch_overhead_s = nan",
        ] {
            let text = format!("name = \"x\"\n[gpu.a100]\n{bad}\n");
            let err = parse(&text).unwrap_err().to_string();
            assert!(
                err.contains("gpu.a100") && err.contains(bad.split(' ').next().unwrap()),
                "{err}"
            );
        }
    }

    #[test]
    fn a_spread_outside_its_ranges_is_rejected() {
        let spread = "[spread]\nbetween_sources = 0.2\nwithin_source = 0.1\nsource_groups = 2\nrows = 4\nspeedup_pairs = 0\n";
        for (bad, key) in [
            ("held_out_coverage = 1.5", "held_out_coverage"),
            (
                "held_out_speedup_coverage = -0.1",
                "held_out_speedup_coverage",
            ),
            ("within_source = nan", "within_source"),
            ("time_dof = 0.5", "time_dof"),
            ("speedup_dof = inf", "speedup_dof"),
        ] {
            let text = format!(
                "name = \"x\"\n{}{bad}\n",
                spread.replace(&format!("{key} = 0.1\n"), "")
            );
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(key), "{err}");
        }
        let ok = format!("name = \"x\"\n{spread}held_out_coverage = 0.64\n");
        let f = parse(&ok).unwrap();
        assert_eq!(f.spread.unwrap().held_out_coverage, Some(0.64));
    }

    /// A run on a GPU without fitted values takes the σ of GPUs left out where that is wider
    /// (the within-source scatter kept, the speed-up σ unchanged); a fitted GPU, a narrower
    /// `new_gpu` or a profile without one leave the spread as it is. The note says which.
    #[test]
    fn a_gpu_without_fitted_values_gets_the_left_out_gpus_sigma() {
        let base = "name = \"x\"\n[params]\nmatmul = 0.7\n[gpu.a100-80g]\nmatmul = 0.6\n[spread]\nbetween_sources = 0.03\nwithin_source = 0.07\nsource_groups = 4\nrows = 40\nspeedup_pairs = 0\ntime_dof = 40\n";
        let f = parse(&format!(
            "{base}new_gpu = 0.2\nnew_gpu_dof = 9\nnew_gpus = 3\n"
        ))
        .unwrap();
        let s = f.spread.unwrap();
        assert!(f.fitted_for(Some("a100-80g")) && !f.fitted_for(Some("h100")));
        assert_eq!(s.for_gpu(true), s);
        let new = s.for_gpu(false);
        assert!((new.time_sigma() - 0.2).abs() < 1e-12, "{new:?}");
        assert_eq!(new.within_source, 0.07);
        assert_eq!(new.time_dof, Some(9.0));
        assert_eq!(new.speedup_sigma(), s.speedup_sigma());
        assert_eq!(new.speedup_sigma_dof(), s.speedup_sigma_dof());
        let narrow = parse(&format!("{base}new_gpu = 0.05\nnew_gpus = 3\n")).unwrap();
        assert_eq!(
            narrow.spread.unwrap().for_gpu(false),
            narrow.spread.unwrap()
        );
        let old = parse(base).unwrap().spread.unwrap();
        assert_eq!(old.for_gpu(false), old);
        let (_, notes) = f.efficiency_for(Some("h100"), Host::Server, false).unwrap();
        assert!(notes[0].contains("errors of 3 GPUs"), "{notes:?}");
        let (_, notes) = parse(base)
            .unwrap()
            .efficiency_for(Some("h100"), Host::Server, false)
            .unwrap();
        assert!(notes[0].contains("scatter between harnesses"), "{notes:?}");
        // An anchor timed on the GPU pins it: no new-GPU widening after it (it used to
        // re-widen an anchored run on an unfitted GPU to σ = new_gpu).
        let anchored = s.anchored();
        assert_eq!(anchored.for_gpu(false), anchored);
        assert_eq!(anchored.time_sigma(), s.speedup_sigma().min(s.time_sigma()));
    }

    /// A σ estimated from few sources widens its interval (Student's t); without degrees of
    /// freedom the interval is the normal one, as profiles written before them had.
    #[test]
    fn few_degrees_of_freedom_widen_the_interval() {
        let base = "name = \"x\"\n[spread]\nbetween_sources = 0.2\nwithin_source = 0.1\nsource_groups = 4\nrows = 12\nspeedup_pairs = 3\nspeedup = 0.2\n";
        let normal = parse(base).unwrap().spread.unwrap();
        let few = parse(&format!("{base}time_dof = 4\nspeedup_dof = 2\n"))
            .unwrap()
            .spread
            .unwrap();
        let [lo, hi] = normal.time_interval(100.0);
        let z = (hi / 100.0).ln() / normal.time_sigma();
        assert!((z - crate::stats::Z80).abs() < 1e-12 && (lo * hi - 1e4).abs() < 1e-6);
        let [_, hi4] = few.time_interval(100.0);
        assert!(((hi4 / 100.0).ln() / few.time_sigma() - 1.533).abs() < 1e-3);
        let [_, s2] = few.speedup_interval(2.0);
        assert!(((s2 / 2.0).ln() / 0.2 - 1.886).abs() < 1e-3);
        // A MoE run takes the MoE σ's degrees of freedom.
        let moe = parse(&format!(
            "{base}time_dof = 9\nmoe_between_sources = 0.5\nmoe_source_groups = 1\nmoe_time_dof = 1.2\n"
        ))
        .unwrap()
        .spread
        .unwrap()
        .for_model(true);
        assert_eq!(moe.time_dof, Some(1.2));
    }
}
