//! Fitting a framework profile to published measurements, and leave-one-out error.
//!
//! Each priced row is recorded once: every kernel the refined model prices for it (its kernel
//! list, [`crate::measure::stack::kernel_list`]), with how many identical copies it has. A candidate profile then
//! re-times those kernels through the same [`Timer`] the model uses, so the fit and the model
//! can never disagree about a formula.
//!
//! What is fitted (few, physically meaningful parameters):
//! - per framework, over all its GPUs: `memory` (fraction of HBM bandwidth), `fixed_overhead_s`
//!   (host work per forward), `collective_latency_s` (when rows use tensor parallelism),
//!   `dequant` (when the profile dequantises and rows quantise weights only);
//! - per (framework, GPU): `matmul` and/or `matmul_8bit` (the precisions its rows use),
//!   `launch_overhead_s`, and `link` (when its rows use tensor parallelism);
//! - pooled per framework: `matmul`, `matmul_8bit`, `launch_overhead_s`, the values a GPU
//!   without rows gets. Each GPU's value is tied to the pooled one by a weak prior (log-normal,
//!   σ = 0.25 for GEMM efficiency, 0.7 for launch overhead; `link` around 0.5 with σ = 0.7), so
//!   a GPU with few rows borrows strength from the others instead of over-fitting them.
//! - per framework where mixture-of-experts rows exist: `expert_half_tokens`, the tokens per
//!   expert at which a grouped expert GEMM reaches half the dense GEMM efficiency (issue 21);
//! - per source group (harness) on a GPU that more than one timed: a factor on its GPU's
//!   GEMM efficiency and one on its per-kernel cost, log-normal around 1 (σ = 0.25 and 0.5),
//!   never shipped (issue 21): harnesses on one GPU differ in both, so the GPU's value is
//!   what a new harness is expected to get, not pulled to the harness timed most often;
//! - not fitted: `attention`, the fused attention kernel's fraction of peak, taken from kernel
//!   benchmarks in the profile itself (FlashAttention-2: 50–73 % on A100).
//!
//! The objective is `Σ (ln(predicted / measured) / 0.1)²` (10 % measurement scatter) plus the
//! priors; bounds keep every value
//! physical (fractions in (0, 1], memory ≤ 0.95, overheads ≥ 0).
//!
//! Speed (issue 25 item 4), with every number unchanged: a row's kernels are reduced to their
//! numbers once (`Work`); an evaluation rebuilds one efficiency per (GPU, GEMM precision)
//! by index (`Layout`) and re-times a group's rows only when its efficiency changed
//! (`Memo`); the full fit and every fold run side by side (`folds::map`), each from the
//! same cold starts as alone, so no held-out row reaches its own prediction.

use super::folds::{self, Progress};
use super::lm::{Bound, Solver};
use super::{Measurements, Stats};
use crate::cost::refined::kernel::{Call, Class, Kernel, Reads, Timer};
use crate::cost::Roofline;
use crate::error::keys::FRAMEWORK;
use crate::error::{Error, Result};
use crate::framework::{Framework, Params, Spread};
use crate::hardware::{Efficiency, Host};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

/// Relative scatter assumed for a published measurement (σ of `ln(measured)`): the same cell of
/// TensorRT-LLM's table moves by up to 10 % between releases. Data residuals are divided by it,
/// so the priors below weigh as priors against data with this noise.
const DATA_SIGMA: f64 = 0.1;
/// σ of a source group's factor on its GPU's GEMM efficiency (log-normal around 1).
const SOURCE_MATMUL_SIGMA: f64 = 0.25;
/// σ of a source group's factor on its GPU's per-kernel cost (log-normal around 1).
const SOURCE_LAUNCH_SIGMA: f64 = 0.5;
/// σ of the log-normal prior tying a GPU's GEMM efficiency to the framework's pooled value.
pub(crate) const MATMUL_PRIOR_SIGMA: f64 = 0.25;
/// σ of the prior on a GPU's launch overhead around the pooled value.
pub(crate) const LAUNCH_PRIOR_SIGMA: f64 = 0.7;
/// Centre and σ of the prior on collectives' fraction of the link bandwidth.
const LINK_PRIOR: (f64, f64) = (0.5, 0.7);
/// Highest fraction of HBM bandwidth a kernel reaches (streaming benchmarks on HBM2e/HBM3
/// reach about 90–93 % of the datasheet figure).
const MEMORY_MAX: f64 = 0.95;

/// A priced row ready to be re-timed under any efficiency.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: String,
    /// The GPU preset (or file) the row ran on: the key of its per-GPU parameters.
    pub gpu: String,
    /// The row's source group (harness): leave-one-source-out leaves these out together.
    pub group: String,
    /// The host its GPU is taken to sit in: a desktop one without values of its own gets the
    /// desktop pool of per-kernel cost.
    host: Host,
    /// The row's baseline id, for speed-ups.
    pub baseline: Option<String>,
    pub measured_s: f64,
    roofline: Roofline,
    interconnect_bytes_per_s: Option<f64>,
    eight_bit: bool,
    uses_tp: bool,
    dequantizes: bool,
    /// Mixture-of-experts rows: their grouped expert GEMMs determine `expert_half_tokens`
    /// (without that parameter, one such row bent its GPU's dense GEMM efficiency; issue 21).
    moe: bool,
    /// Distinct kernels, priced once, and how many times each runs.
    kernels: Vec<(Work, f64)>,
}

/// A kernel as the row's pricing gave it, reduced to the numbers its time depends on: only
/// these are re-timed per parameter set ([`Timer::time_work`], the model's own formula), so a
/// fit never prices a row twice (issue 25 item 4).
#[derive(Debug, Clone, Copy)]
struct Work {
    class: Class,
    /// How it is launched (a grouped expert GEMM's tokens per expert scale its FLOPs).
    call: Call,
    flops: f64,
    bytes: f64,
    launches: f64,
    /// The PyTorch ops it stands for under an eager-dispatch framework.
    ops: f64,
    link_bytes: f64,
}

impl Work {
    fn of(k: &Kernel) -> Work {
        Work {
            class: k.class,
            call: k.call,
            flops: k.op.flops,
            bytes: k.op.bytes(),
            launches: k.launches,
            ops: crate::cost::refined::dispatch::ops(k),
            link_bytes: k.link_bytes,
        }
    }

    /// Its time under `timer`: [`Timer::time`] of the kernel, without rebuilding its report.
    fn time_s(&self, timer: &Timer) -> f64 {
        let flops = timer.priced_flops(&self.call, self.flops);
        let launches = timer.launches_of(self.launches, self.ops);
        timer
            .time_work(self.class, flops, self.bytes, launches, self.link_bytes)
            .1
    }
}

impl Recorded {
    /// Predicted time under `e`, seconds.
    pub fn time_s(&self, e: &Efficiency) -> f64 {
        self.time_under(Some(e))
    }

    /// Its time at the GPU's peaks with no overhead (the ideal roofline), seconds: no profile
    /// prices it faster.
    fn ideal_s(&self) -> f64 {
        self.time_under(None)
    }

    fn time_under(&self, e: Option<&Efficiency>) -> f64 {
        let timer = Timer::new(
            self.roofline,
            e,
            self.interconnect_bytes_per_s,
            self.eight_bit,
        );
        self.kernels.iter().map(|(k, n)| n * k.time_s(&timer)).sum()
    }
}

/// A profile with every kernel the fit may need present: host overhead on, dequantisation
/// when the base profile dequantises.
fn probe(base: &Framework) -> Framework {
    Framework {
        params: Params {
            fixed_overhead_s: Some(1e-3),
            dequant: base.params.dequant.map(|_| 0.5),
            attention: base.params.attention,
            ..Params::default()
        },
        gpu: BTreeMap::new(),
        ..base.clone()
    }
}

/// Records every priced row of `m` whose framework is `name`, with `base` as the profile
/// structure.
pub fn record(m: &Measurements, name: &str, base: &Framework) -> Result<Vec<Recorded>> {
    record_where(m, |r| r.framework == name, base)
}

/// Records every priced row of `m` that `keep` selects, with `base` as the profile structure.
fn record_where(
    m: &Measurements,
    keep: impl Fn(&super::Measurement) -> bool,
    base: &Framework,
) -> Result<Vec<Recorded>> {
    let probe = probe(base);
    let mut out = Vec::new();
    for r in m.rows.iter().filter(|r| keep(r) && fitted(r)) {
        let scenario = m.scenario(r, Some(&probe))?;
        let kernels = row_kernels(&scenario, r.timed).map_err(|e| m.row_error(r, e))?;
        let distinct = distinct(kernels)
            .into_iter()
            .map(|(k, n)| (Work::of(&k), n))
            .collect();
        let ctx_roofline = scenario.context().roofline();
        let p = scenario.options.precision;
        let recorded = Recorded {
            id: r.id.clone(),
            // The preset the row's GPU is (a copy of its file, a device name among its
            // aliases), as a run on it takes the profile's values: a profile's [gpu.NAME]
            // tables are keyed by preset, else by the `name` a GPU file gives its device (a
            // run on the file finds it there; keyed by the row's path, it was never used).
            gpu: scenario
                .gpu_preset
                .map_or_else(|| scenario.gpu.name.clone(), str::to_string),
            group: r.group().to_string(),
            host: scenario.gpu.host(),
            baseline: r.baseline.clone(),
            measured_s: r.measured_ms / 1e3,
            roofline: ctx_roofline,
            interconnect_bytes_per_s: scenario.gpu.interconnect_bandwidth,
            eight_bit: p.uses_int8_peak(),
            uses_tp: scenario.options.tp > 1,
            dequantizes: base.params.dequant.is_some() && p.w_bits < p.a_bits,
            moe: scenario.model.moe.is_some(),
            kernels: distinct,
        };
        // A time below the ideal roofline is no stack's: fitted, it pulled every parameter to
        // its bound (a per-kernel cost of 0.06 µs, an interval of ×0.03–×31.5) in silence.
        let ideal_s = recorded.ideal_s();
        if recorded.measured_s < ideal_s {
            return Err(m.row_error(r,
                Error::invalid(format!(
                    "measured_ms = {} is below its ideal roofline, {:.2} ms (every kernel at the GPU's peaks, no overhead), so no profile can fit it: check its setting (model, gpu, frames, tokens, timed), or write fit = false to keep it checked and out of fits",
                    r.measured_ms,
                    ideal_s * 1e3
                )),
            ));
        }
        out.push(recorded);
    }
    Ok(out)
}

/// Identical kernels (the layers of a text-only prompt) once each, in order of first
/// appearance, with how many times each runs: they are timed once and counted n times.
/// Identical means every field equal (sizes are never NaN or −0, so equal numbers are equal
/// bits); candidates are found by name, FLOPs and bytes, not by formatting every kernel.
fn distinct(kernels: Vec<Kernel>) -> Vec<(Kernel, f64)> {
    let mut out: Vec<(Kernel, f64)> = Vec::new();
    let mut index: HashMap<(&'static str, u64, u64), Vec<usize>> = HashMap::new();
    for k in kernels {
        let key = (k.op.name, k.op.flops.to_bits(), k.op.bytes().to_bits());
        let candidates = index.entry(key).or_default();
        match candidates.iter().find(|&&i| out[i].0 == k) {
            Some(&i) => out[i].1 += 1.0,
            None => {
                candidates.push(out.len());
                out.push((k, 1.0));
            }
        }
    }
    out
}

/// Every kernel the refined model prices for what a row timed, in order: a prefill row's
/// LLM forward leaves out the work before the LLM ([`super::row_time_s`]).
fn row_kernels(scenario: &crate::scenario::Scenario, timed: super::Timed) -> Result<Vec<Kernel>> {
    let list = crate::measure::stack::kernel_list(scenario)?;
    let skip = if timed == super::Timed::Prefill {
        list.stages.len()
    } else {
        0
    };
    Ok(list.all().skip(skip).map(|k| k.kernel.clone()).collect())
}

/// What one fitted parameter is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
enum Slot {
    Memory,
    Fixed,
    Latency,
    Dequant,
    ExpertHalf,
    Pooled16,
    Pooled8,
    PooledLaunch,
    /// The pooled per-kernel cost of desktop-host GPUs, tied to `PooledLaunch`.
    PooledLaunchDesktop,
    Matmul16(String),
    Matmul8(String),
    /// A GPU's per-kernel cost, tied to its host's pool.
    Launch(String, Host),
    Link(String),
    /// A source group's (harness's) factor on its GPU's GEMM efficiency, around 1
    /// (σ = [`SOURCE_MATMUL_SIGMA`]): never shipped, so a profile holds the GPU's value for a
    /// new harness, not the mix of the harnesses that happened to be timed on it.
    SourceMatmul(String),
    /// A source group's factor on its GPU's per-kernel cost (σ = [`SOURCE_LAUNCH_SIGMA`]).
    SourceLaunch(String),
}

impl Slot {
    fn bound(&self) -> Bound {
        match self {
            Slot::Memory => Bound {
                lo: 0.05,
                hi: MEMORY_MAX,
            },
            Slot::Fixed => Bound { lo: 0.0, hi: 0.5 },
            Slot::Latency => Bound {
                lo: 0.0,
                hi: 300e-6,
            },
            Slot::Launch(..) | Slot::PooledLaunch | Slot::PooledLaunchDesktop => Bound {
                lo: 1e-8,
                hi: 300e-6,
            },
            // Tokens per expert: 0 is a grouped GEMM as efficient as a dense one; beyond a few
            // thousand rows any GEMM is saturated (crate::hardware::MAX_EXPERT_HALF_TOKENS).
            Slot::ExpertHalf => Bound {
                lo: 0.0,
                hi: crate::hardware::MAX_EXPERT_HALF_TOKENS,
            },
            Slot::SourceMatmul(_) | Slot::SourceLaunch(_) => Bound { lo: 0.2, hi: 5.0 },
            _ => Bound { lo: 0.02, hi: 1.0 },
        }
    }

    fn is_time(&self) -> bool {
        matches!(
            self,
            Slot::Fixed
                | Slot::Latency
                | Slot::Launch(..)
                | Slot::PooledLaunch
                | Slot::PooledLaunchDesktop
        )
    }

    fn start(&self) -> f64 {
        match self {
            Slot::Memory => 0.8,
            Slot::Fixed => 1e-3,
            Slot::Latency => 1e-5,
            Slot::Dequant => 0.3,
            Slot::Launch(..) | Slot::PooledLaunch | Slot::PooledLaunchDesktop => 1e-5,
            Slot::Link(_) => 0.5,
            Slot::ExpertHalf => 64.0,
            Slot::SourceMatmul(_) | Slot::SourceLaunch(_) => 1.0,
            _ => 0.6,
        }
    }
}

/// The parameters a set of rows can determine.
fn slots(rows: &[&Recorded]) -> Vec<Slot> {
    let mut s = vec![Slot::Memory, Slot::Fixed, Slot::PooledLaunch];
    let mut add = |slot: Slot| {
        if !s.contains(&slot) {
            s.push(slot);
        }
    };
    for r in rows {
        if r.eight_bit {
            add(Slot::Pooled8);
            add(Slot::Matmul8(r.gpu.clone()));
        } else {
            add(Slot::Pooled16);
            add(Slot::Matmul16(r.gpu.clone()));
        }
        add(Slot::Launch(r.gpu.clone(), r.host));
        if r.host == Host::Desktop {
            add(Slot::PooledLaunchDesktop);
        }
        if r.uses_tp {
            add(Slot::Latency);
            add(Slot::Link(r.gpu.clone()));
        }
        if r.dequantizes {
            add(Slot::Dequant);
        }
        if r.moe {
            add(Slot::ExpertHalf);
        }
    }
    // Harness effects on a GPU timed by more than one harness: there they can be told from the
    // GPU's value (a GPU with one source ships the pooled values anyway).
    let mut pairs: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.gpu.as_str(), r.group.as_str()))
        .collect();
    pairs.sort_unstable();
    pairs.dedup();
    for &(gpu, group) in &pairs {
        if pairs.iter().filter(|(g, _)| *g == gpu).count() > 1 {
            add(Slot::SourceMatmul(group.to_string()));
            add(Slot::SourceLaunch(group.to_string()));
        }
    }
    s
}

/// The pool a GPU's per-kernel cost is tied to: its host's. The desktop pool is itself tied
/// to the servers' (σ = [`LAUNCH_PRIOR_SIGMA`]), so it moves from it only as far as desktop
/// rows say.
fn launch_pool(host: Host) -> Slot {
    match host {
        Host::Server => Slot::PooledLaunch,
        Host::Desktop => Slot::PooledLaunchDesktop,
    }
}

/// Fitted values by slot.
struct Values<'a> {
    slots: &'a [Slot],
    x: &'a [f64],
}

impl Values<'_> {
    fn get(&self, s: &Slot) -> Option<f64> {
        self.slots.iter().position(|t| t == s).map(|i| self.x[i])
    }

    /// The profile these values give, on top of `base` (its fixed `attention`, its text).
    fn framework(&self, base: &Framework) -> Framework {
        let mut params = Params {
            attention: base.params.attention,
            memory: self.get(&Slot::Memory),
            fixed_overhead_s: self.get(&Slot::Fixed),
            collective_latency_s: self.get(&Slot::Latency),
            dequant: self.get(&Slot::Dequant).or(base.params.dequant),
            matmul: self.get(&Slot::Pooled16),
            matmul_8bit: self.get(&Slot::Pooled8),
            launch_overhead_s: self.get(&Slot::PooledLaunch),
            desktop_launch_overhead_s: self.get(&Slot::PooledLaunchDesktop),
            link: None,
            // Fitted where MoE rows exist; never the base profile's value, which was fitted
            // on rows a leave-one-source-out refit must not see (absent: dense efficiency).
            expert_half_tokens: self.get(&Slot::ExpertHalf),
        };
        // The base profile's per-GPU values that are not fitted (attention) stay; its fitted
        // ones must not, or a refit without a GPU's rows would still carry their fit.
        let mut gpu: BTreeMap<String, Params> = base
            .gpu
            .iter()
            .filter(|(_, p)| p.attention.is_some())
            .map(|(g, p)| {
                (
                    g.clone(),
                    Params {
                        attention: p.attention,
                        ..Params::default()
                    },
                )
            })
            .collect();
        let mut links = Vec::new();
        for (s, x) in self.slots.iter().zip(self.x) {
            match s {
                Slot::Matmul16(g) => gpu.entry(g.clone()).or_default().matmul = Some(*x),
                Slot::Matmul8(g) => gpu.entry(g.clone()).or_default().matmul_8bit = Some(*x),
                Slot::Launch(g, _) => {
                    gpu.entry(g.clone()).or_default().launch_overhead_s = Some(*x)
                }
                Slot::Link(g) => {
                    gpu.entry(g.clone()).or_default().link = Some(*x);
                    links.push(*x);
                }
                _ => {}
            }
        }
        if !links.is_empty() {
            // GPUs without tensor-parallel rows get the geometric mean of the fitted links.
            params.link =
                Some((links.iter().map(|l| l.ln()).sum::<f64>() / links.len() as f64).exp());
        }
        Framework {
            params,
            gpu,
            ..base.clone()
        }
    }

    /// Prior residuals tying per-GPU values to the pooled ones ([`Layout::priors`] computes
    /// them in the fit; a test holds the two equal).
    #[cfg(test)]
    fn priors(&self) -> Vec<f64> {
        let mut out = Vec::new();
        for (s, x) in self.slots.iter().zip(self.x) {
            let tie = |pooled: Slot, sigma: f64| -> Option<f64> {
                self.get(&pooled).map(|p| (x / p).ln() / sigma)
            };
            let r = match s {
                Slot::Matmul16(_) => tie(Slot::Pooled16, MATMUL_PRIOR_SIGMA),
                Slot::Matmul8(_) => tie(Slot::Pooled8, MATMUL_PRIOR_SIGMA),
                Slot::Launch(_, host) => tie(launch_pool(*host), LAUNCH_PRIOR_SIGMA),
                Slot::PooledLaunchDesktop => tie(Slot::PooledLaunch, LAUNCH_PRIOR_SIGMA),
                Slot::Link(_) => Some((x / LINK_PRIOR.0).ln() / LINK_PRIOR.1),
                _ => None,
            };
            out.extend(r);
        }
        out
    }
}

/// Where each fitted value sits in the solver's vector, found once per fit: an evaluation
/// then builds its (GPU, precision) groups' efficiencies and the priors by index, with no
/// profile built and no name looked up — the values [`Values::framework`] and
/// [`Framework::efficiency_for`] give, through the same [`Params::or`] and
/// [`Params::efficiency`] (a test holds them equal).
struct Layout<'a> {
    base: &'a Framework,
    memory: Option<usize>,
    fixed: Option<usize>,
    latency: Option<usize>,
    dequant: Option<usize>,
    expert_half: Option<usize>,
    pooled16: Option<usize>,
    pooled8: Option<usize>,
    pooled_launch: Option<usize>,
    pooled_launch_desktop: Option<usize>,
    /// Per group: the host of its GPU.
    hosts: Vec<Host>,
    /// Every GPU's `link`, in slot order (the pooled value is their geometric mean).
    links: Vec<usize>,
    /// Per group: its GPU's table (absent: the pooled values alone).
    tables: Vec<Option<Table>>,
    /// Per prior, in slot order: the value and what it is tied to.
    priors: Vec<(usize, Prior)>,
}

/// A GPU's table in the fitted profile: the base profile's fixed attention figure and where
/// its fitted values sit.
struct Table {
    attention: Option<f64>,
    matmul: Option<usize>,
    matmul_8bit: Option<usize>,
    launch: Option<usize>,
    link: Option<usize>,
}

/// What a per-GPU value is tied to ([`Values::priors`]).
enum Prior {
    /// The pooled value at this index, with this σ.
    Pooled(usize, f64),
    /// [`LINK_PRIOR`].
    Link,
}

impl<'a> Layout<'a> {
    fn new(slots: &[Slot], base: &'a Framework, rows: &[&Recorded], groups: &[Vec<usize>]) -> Self {
        let at = |s: &Slot| slots.iter().position(|t| t == s);
        let tables = groups
            .iter()
            .map(|g| {
                let gpu = &rows[g[0]].gpu;
                let t = Table {
                    attention: base.gpu.get(gpu).and_then(|p| p.attention),
                    matmul: at(&Slot::Matmul16(gpu.clone())),
                    matmul_8bit: at(&Slot::Matmul8(gpu.clone())),
                    launch: at(&Slot::Launch(gpu.clone(), rows[g[0]].host)),
                    link: at(&Slot::Link(gpu.clone())),
                };
                let any = t.attention.is_some()
                    || t.matmul.is_some()
                    || t.matmul_8bit.is_some()
                    || t.launch.is_some()
                    || t.link.is_some();
                any.then_some(t)
            })
            .collect();
        let priors = slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let tie = |pooled: Slot, sigma: f64| at(&pooled).map(|p| Prior::Pooled(p, sigma));
                let prior = match s {
                    Slot::Matmul16(_) => tie(Slot::Pooled16, MATMUL_PRIOR_SIGMA),
                    Slot::Matmul8(_) => tie(Slot::Pooled8, MATMUL_PRIOR_SIGMA),
                    Slot::Launch(_, host) => tie(launch_pool(*host), LAUNCH_PRIOR_SIGMA),
                    Slot::PooledLaunchDesktop => tie(Slot::PooledLaunch, LAUNCH_PRIOR_SIGMA),
                    Slot::Link(_) => Some(Prior::Link),
                    _ => None,
                };
                prior.map(|p| (i, p))
            })
            .collect();
        Layout {
            base,
            memory: at(&Slot::Memory),
            fixed: at(&Slot::Fixed),
            latency: at(&Slot::Latency),
            dequant: at(&Slot::Dequant),
            expert_half: at(&Slot::ExpertHalf),
            pooled16: at(&Slot::Pooled16),
            pooled8: at(&Slot::Pooled8),
            pooled_launch: at(&Slot::PooledLaunch),
            pooled_launch_desktop: at(&Slot::PooledLaunchDesktop),
            hosts: groups.iter().map(|g| rows[g[0]].host).collect(),
            links: (0..slots.len())
                .filter(|&i| matches!(slots[i], Slot::Link(_)))
                .collect(),
            tables,
            priors,
        }
    }

    /// Every index of `x` that [`Layout::efficiency`] of group `g` may read: the pooled values
    /// (all of them, whether or not its table overrides one) and its table's. A move of `x`
    /// elsewhere leaves its efficiency as it was.
    fn inputs(&self, g: usize) -> Vec<usize> {
        let pooled = [
            self.memory,
            self.fixed,
            self.latency,
            self.dequant,
            self.expert_half,
            self.pooled16,
            self.pooled8,
            self.pooled_launch,
            self.pooled_launch_desktop,
        ];
        let table = self.tables[g]
            .as_ref()
            .map_or([None; 4], |t| [t.matmul, t.matmul_8bit, t.launch, t.link]);
        pooled
            .into_iter()
            .chain(table)
            .flatten()
            .chain(self.links.iter().copied())
            .collect()
    }

    /// The pooled `[params]` of the profile `x` gives ([`Values::framework`]).
    fn pooled(&self, x: &[f64]) -> Params {
        let at = |i: Option<usize>| i.map(|i| x[i]);
        Params {
            attention: self.base.params.attention,
            memory: at(self.memory),
            fixed_overhead_s: at(self.fixed),
            collective_latency_s: at(self.latency),
            dequant: at(self.dequant).or(self.base.params.dequant),
            matmul: at(self.pooled16),
            matmul_8bit: at(self.pooled8),
            launch_overhead_s: at(self.pooled_launch),
            desktop_launch_overhead_s: at(self.pooled_launch_desktop),
            // GPUs without tensor-parallel rows get the geometric mean of the fitted links.
            link: (!self.links.is_empty()).then(|| {
                (self.links.iter().map(|&i| x[i].ln()).sum::<f64>() / self.links.len() as f64).exp()
            }),
            expert_half_tokens: at(self.expert_half),
        }
    }

    /// The efficiency group `g`'s rows get from the profile `x` gives (no `source`).
    fn efficiency(&self, g: usize, x: &[f64], pooled: &Params) -> Efficiency {
        if self.base.is_roofline() {
            return Efficiency::ideal();
        }
        let at = |i: Option<usize>| i.map(|i| x[i]);
        let host = pooled.for_host(self.hosts[g]);
        let pooled = &host;
        let params = match &self.tables[g] {
            Some(t) => Params {
                attention: t.attention,
                matmul: at(t.matmul),
                matmul_8bit: at(t.matmul_8bit),
                launch_overhead_s: at(t.launch),
                link: at(t.link),
                ..Params::default()
            }
            .or(pooled),
            None => pooled.clone(),
        };
        let mut e = params.efficiency(String::new());
        e.source = None;
        e.eager_dispatch = self.base.eager_dispatch;
        e
    }

    /// Appends the prior residuals of `x` to `out` ([`Values::priors`]). `memo` keeps each
    /// prior's last inputs (bits) and value: a Jacobian step moves one value, so most priors
    /// are what they were.
    fn priors(&self, x: &[f64], memo: &mut Vec<(u64, u64, f64)>, out: &mut Vec<f64>) {
        memo.resize(self.priors.len(), (u64::MAX, u64::MAX, 0.0));
        out.extend(self.priors.iter().zip(memo).map(|((i, p), m)| {
            let (value, tied) = match p {
                Prior::Pooled(pooled, _) => (x[*i], x[*pooled]),
                Prior::Link => (x[*i], LINK_PRIOR.0),
            };
            let key = (value.to_bits(), tied.to_bits());
            if (m.0, m.1) != key {
                let sigma = match p {
                    Prior::Pooled(_, sigma) => *sigma,
                    Prior::Link => LINK_PRIOR.1,
                };
                *m = (key.0, key.1, (value / tied).ln() / sigma);
            }
            m.2
        }));
    }
}

/// The efficiency a recorded row gets from a profile.
fn efficiency(f: &Framework, r: &Recorded) -> Efficiency {
    f.efficiency_for(Some(&r.gpu), r.host, r.eight_bit)
        .map(|(e, _)| e)
        .unwrap_or_else(Efficiency::ideal)
}

/// Number of starting points of a full fit (the objective has kinks where a kernel switches
/// between compute- and memory-bound, so several starts guard against a poor local minimum).
const STARTS: usize = 12;

/// Iterations every start runs before the starts are ranked by their cost. On the published
/// set (2026-12-06, 200 rows) every profile, leave-one-row-out and leave-one-source-out
/// prediction agreed with running all twelve starts to the end to 2e-6, in 70 % of the time;
/// on that set doubled (each row copied into a copy of its source: 400 rows) all but one to
/// 1e-5, that one leave-one-row-out prediction 0.15 % apart, in half the time. Most starts
/// have stopped by then (median 17 iterations); the rest crawl along a flat valley.
const SCREEN_ITERATIONS: usize = 20;

/// Starts that go on after the screen.
const KEPT_STARTS: usize = 2;

/// Iterations of a start that goes on, in all.
const MAX_ITERATIONS: usize = 300;

/// Fits `base`'s parameters to `rows` (all of one framework). `Err` when there are none.
/// Starts from several deterministic points.
pub fn fit_rows(rows: &[Recorded], base: &Framework) -> Result<Framework> {
    fit_refs(&rows.iter().collect::<Vec<_>>(), base).map(|f| f.framework)
}

/// A source group's (harness's) fitted factors on its GPU's values: how far that harness ran
/// from the GPU's value, which is what a new harness gets (issue 21 item 2: harness effects
/// between sources). Fitted where a GPU was timed by more than one harness; never shipped.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HarnessFactor {
    pub source_group: String,
    /// The GPUs its rows ran on.
    pub gpus: Vec<String>,
    /// Factor on the GPU's GEMM efficiency (> 1: its GEMMs ran faster than the GPU's value).
    pub matmul_factor: f64,
    /// Factor on the GPU's per-kernel cost (> 1: a slower host or dispatch).
    pub launch_factor: f64,
}

/// A fit's profile and the harness factors it fitted beside it.
struct Fitted {
    framework: Framework,
    harness: Vec<HarnessFactor>,
}

/// Residuals of one group of rows sharing an efficiency (one GPU and GEMM precision), kept
/// for the last two efficiencies the solver asked about — the point the Jacobian is taken at,
/// and the last one moved: a forward-difference Jacobian moves one parameter at a time, and a
/// per-GPU parameter leaves every other GPU's rows where they were. A hit needs an equal
/// efficiency, so it returns the very numbers a recomputation would (the re-timing is a pure
/// function of the efficiency). Entries are overwritten in place, never moved (an efficiency
/// is some 140 bytes, and a fit asks millions of times).
struct Memo {
    /// Two efficiencies and their residuals (`None`: not yet asked for).
    entries: [Option<(Efficiency, Vec<f64>)>; 2],
    /// The entry asked for last.
    latest: usize,
}

impl Memo {
    /// A memo that remembers nothing yet.
    fn new() -> Memo {
        Memo {
            entries: [None, None],
            latest: 0,
        }
    }

    /// The residuals of the efficiency asked for last.
    fn latest(&self) -> &[f64] {
        self.entries[self.latest]
            .as_ref()
            .map_or(&[], |(_, r)| r.as_slice())
    }

    /// The residuals under `e`, written by `compute` (into an emptied buffer) unless remembered.
    fn get(&mut self, e: &Efficiency, compute: impl FnOnce(&Efficiency, &mut Vec<f64>)) -> &[f64] {
        if !matches!(&self.entries[self.latest], Some((m, _)) if m == e) {
            // The other entry: a hit, or else the least recent one, overwritten.
            self.latest = 1 - self.latest;
            match &mut self.entries[self.latest] {
                Some((m, _)) if m == e => {}
                Some((m, r)) => {
                    m.clone_from(e);
                    r.clear();
                    compute(e, r);
                }
                entry @ None => {
                    let mut r = Vec::new();
                    compute(e, &mut r);
                    *entry = Some((e.clone(), r));
                }
            }
        }
        self.latest()
    }
}

/// [`fit_rows`] of borrowed rows (a fold's training set borrows the rows it keeps).
fn fit_refs(rows: &[&Recorded], base: &Framework) -> Result<Fitted> {
    if rows.is_empty() {
        return Err(Error::invalid(format!(
            "framework {}: no priced measurement to fit (cross-validation refits on the file's own rows: one row of a framework, and none of another, leaves nothing once it is left out; add rows, refit on the published set too with --refit-also reference/measurements.toml, or check without --cv/--loo)",
            base.name
        )));
    }
    let slots = slots(rows);
    let bounds: Vec<Bound> = slots.iter().map(Slot::bound).collect();
    // Rows by (GPU, GEMM precision): one efficiency each, not one per row (the profile lookup
    // formats notes and a source string, which the re-timing does not need; issue 24 item 7).
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, r) in rows.iter().enumerate() {
        match groups.iter_mut().find(|g| {
            rows[g[0]].gpu == r.gpu
                && rows[g[0]].eight_bit == r.eight_bit
                && rows[g[0]].group == r.group
        }) {
            Some(g) => g.push(i),
            None => groups.push(vec![i]),
        }
    }
    let layout = Layout::new(&slots, base, rows, &groups);
    // Per efficiency group: where its source's factors sit (none with one source).
    let at = |s: Slot| slots.iter().position(|t| *t == s);
    let source_factors: Vec<(Option<usize>, Option<usize>)> = groups
        .iter()
        .map(|g| {
            let source = &rows[g[0]].group;
            (
                at(Slot::SourceMatmul(source.clone())),
                at(Slot::SourceLaunch(source.clone())),
            )
        })
        .collect();
    let source_priors: Vec<(usize, f64)> = slots
        .iter()
        .enumerate()
        .filter_map(|(i, s)| match s {
            Slot::SourceMatmul(_) => Some((i, SOURCE_MATMUL_SIGMA)),
            Slot::SourceLaunch(_) => Some((i, SOURCE_LAUNCH_SIGMA)),
            _ => None,
        })
        .collect();
    // Per efficiency group: what timing its rows reads, so that a value none of them reads (a
    // GPU's `link` in rows without a collective, `expert_half_tokens` in dense ones) moves no
    // group whose rows it cannot move.
    let reads: Vec<Reads> = groups
        .iter()
        .map(|g| {
            let mut reads = Reads::default();
            for &i in g {
                for (w, _) in &rows[i].kernels {
                    reads.add(w.class, &w.call, rows[i].eight_bit);
                }
            }
            reads
        })
        .collect();
    let mut memos: Vec<Memo> = groups.iter().map(|_| Memo::new()).collect();
    // Per row, its last two times (bits) and residuals: the residual of a time seen before is
    // not computed again (a logarithm). A GEMM efficiency that moves leaves the time of a row
    // whose GEMMs are all memory-bound as it was, a GPU's link that of a row whose collectives
    // are not link-bound.
    let mut residual_memos: Vec<[Option<(u64, f64)>; 2]> = vec![[None; 2]; rows.len()];
    let mut prior_memo = Vec::new();
    // Per index of x, the efficiency groups whose efficiency it may move (their
    // [`Layout::inputs`] and source factors). Most evaluations move one or two values (a
    // Jacobian column, and the previous one moved back), so most groups are where they were at
    // the previous evaluation: their residuals are those its memo gave last, and neither their
    // efficiency is rebuilt nor their memo searched.
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); slots.len()];
    for (k, (matmul, launch)) in source_factors.iter().enumerate() {
        let mut inputs = layout.inputs(k);
        inputs.extend(matmul.iter().chain(launch));
        inputs.sort_unstable();
        inputs.dedup();
        for i in inputs {
            dependents[i].push(k);
        }
    }
    let mut last_x: Option<Vec<f64>> = None;
    let mut moved = vec![false; groups.len()];
    // Per source prior, its last input (bits) and value, as `prior_memo`.
    let mut source_prior_memo = vec![(u64::MAX, 0.0); source_priors.len()];
    let mut residuals = |x: &[f64], out: &mut Vec<f64>| {
        match &mut last_x {
            Some(last) => {
                moved.fill(false);
                for (i, (a, b)) in x.iter().zip(last.iter_mut()).enumerate() {
                    if a.to_bits() != b.to_bits() {
                        *b = *a;
                        for &k in &dependents[i] {
                            moved[k] = true;
                        }
                    }
                }
            }
            None => {
                last_x = Some(x.to_vec());
                moved.fill(true);
            }
        }
        // Built once some group needs it (the pooled link is a geometric mean: logarithms).
        let mut pooled: Option<Params> = None;
        out.clear();
        out.resize(rows.len(), 0.0);
        for (k, (g, memo)) in groups.iter().zip(memos.iter_mut()).enumerate() {
            if !moved[k] {
                for (&i, r) in g.iter().zip(memo.latest()) {
                    out[i] = *r;
                }
                continue;
            }
            let pooled = pooled.get_or_insert_with(|| layout.pooled(x));
            let mut e = layout.efficiency(k, x, pooled);
            let (matmul, launch) = source_factors[k];
            if let Some(i) = matmul {
                e.matmul = (e.matmul * x[i]).min(1.0);
                e.matmul_8bit = e.matmul_8bit.map(|m| (m * x[i]).min(1.0));
            }
            if let Some(i) = launch {
                e.launch_overhead_s *= x[i];
            }
            reads[k].clear_unread(&mut e);
            let r = memo.get(&e, |e, r| {
                r.extend(g.iter().map(|&i| {
                    let time_s = rows[i].time_s(e);
                    let bits = time_s.to_bits();
                    let m = &mut residual_memos[i];
                    match m.iter().flatten().find(|(t, _)| *t == bits) {
                        Some(&(_, residual)) => residual,
                        None => {
                            let residual = (time_s / rows[i].measured_s).ln() / DATA_SIGMA;
                            m[1] = m[0];
                            m[0] = Some((bits, residual));
                            residual
                        }
                    }
                }))
            });
            for (&i, r) in g.iter().zip(r) {
                out[i] = *r;
            }
        }
        layout.priors(x, &mut prior_memo, out);
        out.extend(source_priors.iter().zip(source_prior_memo.iter_mut()).map(
            |(&(i, sigma), m)| {
                if m.0 != x[i].to_bits() {
                    *m = (x[i].to_bits(), x[i].ln() / sigma);
                }
                m.1
            },
        ));
    };
    let mut starts: Vec<Vec<f64>> = vec![slots.iter().map(Slot::start).collect()];
    // Deterministic spread over each range: fractions uniform, times log-uniform.
    let mut rng = crate::kernels::rng::SplitMix64::new(0x05ee_df17);
    // The MoE parameter draws from its own stream, so adding MoE rows leaves the dense
    // parameters' starting points (and their fit) as they were without them.
    let mut moe_rng = crate::kernels::rng::SplitMix64::new(0x0e4e_12f5);
    for _ in 1..STARTS {
        starts.push(
            slots
                .iter()
                .map(|s| {
                    // A harness's factors start at 1 and draw nothing, so the other
                    // parameters' starting points are those of a fit without them.
                    if matches!(s, Slot::SourceMatmul(_) | Slot::SourceLaunch(_)) {
                        return 1.0;
                    }
                    let b = s.bound();
                    let t = f64::from(if *s == Slot::ExpertHalf {
                        moe_rng.uniform()
                    } else {
                        rng.uniform()
                    });
                    if s.is_time() {
                        (1e-7f64.ln() + t * ((b.hi).ln() - 1e-7f64.ln())).exp()
                    } else {
                        b.lo + t * (b.hi - b.lo)
                    }
                })
                .collect(),
        );
    }

    // Every start descends SCREEN_ITERATIONS iterations (most have stopped by then); only the
    // KEPT_STARTS lowest go on to the end.
    let mut solvers: Vec<(usize, Solver)> = starts
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let mut solver = Solver::new(&mut residuals, &bounds, s);
            solver.run(&mut residuals, SCREEN_ITERATIONS);
            (i, solver)
        })
        .collect();
    solvers.sort_by(|a, b| a.1.cost().total_cmp(&b.1.cost()).then(a.0.cmp(&b.0)));
    solvers.truncate(KEPT_STARTS);
    solvers.sort_by_key(|s| s.0);
    let mut best: Option<(Vec<f64>, f64)> = None;
    for (_, mut solver) in solvers {
        solver.run(&mut residuals, MAX_ITERATIONS);
        let (x, cost) = solver.into_best();
        if best.as_ref().is_none_or(|(_, c)| cost < *c) {
            best = Some((x, cost));
        }
    }
    let (x, _) = best.expect("at least one start");
    let fitted = Values {
        slots: &slots,
        x: &x,
    }
    .framework(base);
    fitted.validate().map_err(|m| {
        Error::invalid(format!(
            "framework {}: the fit gave impossible parameters ({m}); not written",
            base.name
        ))
    })?;
    let value = |s: Slot| slots.iter().position(|t| *t == s).map(|i| x[i]);
    let harness = groups_of(rows.iter().copied())
        .into_iter()
        .filter_map(|group| {
            let matmul_factor = value(Slot::SourceMatmul(group.to_string()))?;
            let launch_factor = value(Slot::SourceLaunch(group.to_string()))?;
            let mut gpus: Vec<String> = rows
                .iter()
                .filter(|r| r.group == group)
                .map(|r| r.gpu.clone())
                .collect();
            gpus.sort_unstable();
            gpus.dedup();
            Some(HarnessFactor {
                source_group: group,
                gpus,
                matmul_factor,
                launch_factor,
            })
        })
        .collect();
    Ok(Fitted {
        framework: fitted,
        harness,
    })
}

/// One framework's fit: the profile and its in-sample and cross-validated errors.
#[derive(Debug, Clone, Serialize)]
pub struct FitReport {
    pub framework: String,
    /// Rows used (priced rows of this framework).
    pub rows: Vec<String>,
    /// Source groups behind the rows.
    pub source_groups: Vec<String>,
    /// The profile as TOML, ready to save in `frameworks/`.
    pub profile_toml: String,
    pub in_sample: Option<Stats>,
    /// Leave-one-source-out: the headline (a new user's stack is a new source).
    pub loso: Option<Stats>,
    /// Rows whose leave-one-source-out prediction fell back on pooled values or other frameworks.
    pub loso_fallback_rows: usize,
    /// Leave-one-row-out (the rest of the row's source stays in the fit).
    pub loo: Option<Stats>,
    /// The profile's `[spread]`: leave-one-source-out residuals, the prediction interval.
    pub spread: Spread,
    /// Where `spread` is not this fit's residuals, and why (one source, no other framework).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub spread_note: Option<String>,
    /// Per row: measured, in-sample and cross-validated predictions, ms.
    pub predictions: Vec<FitRow>,
    /// The full fit's harness factors, per source group on a GPU more than one timed (not in
    /// the profile: a new harness gets the GPU's value).
    pub harness_factors: Vec<HarnessFactor>,
}

/// A row's predictions in a fit.
#[derive(Debug, Clone, Serialize)]
pub struct FitRow {
    pub id: String,
    pub gpu: String,
    pub source_group: String,
    pub measured_ms: f64,
    pub fitted_ms: f64,
    pub loso_ms: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_fallback: Option<String>,
    pub loo_ms: f64,
}

/// The frameworks named by a file's priced rows, in order of appearance.
/// The frameworks `fit` fits: `names` (all of the file's when empty), each a framework whose
/// rows the file has to fit. Errors say why nothing can be fitted: no row enters a fit, a
/// name that is no preset (with a guess, as `check`'s), a framework none of whose rows the
/// file fits, or a single row, which the cross-validations leave nothing of.
fn fit_names(m: &Measurements, names: &[String]) -> Result<Vec<String>> {
    let in_file = |message: String| Error::Parse {
        origin: m.origin.clone(),
        message,
    };
    let all = frameworks(m);
    if all.is_empty() {
        return Err(in_file(format!(
            "no row to fit: {}; fit needs priced rows that time prefill or ttft under a framework profile; `aim-sim check` prices the rows as they are",
            unfitted_reasons(m.rows.iter())
        )));
    }
    let mut out = Vec::new();
    for name in names {
        if let Some(message) = super::unknown_name(
            "framework",
            Some(FRAMEWORK),
            name,
            crate::presets::FRAMEWORKS,
            "framework",
        ) {
            return Err(Error::invalid(message));
        }
        let name = crate::presets::canonical_at(name, crate::presets::FRAMEWORKS, &m.dir)
            .map_or_else(|| name.clone(), String::from);
        if name == crate::framework::ROOFLINE {
            return Err(Error::invalid(format!(
                "{FRAMEWORK} {name}: the ideal roofline is a bound with nothing to fit: give {}",
                all.join(", ")
            )));
        }
        if !all.contains(&name) {
            let own: Vec<&super::Measurement> =
                m.rows.iter().filter(|r| r.framework == name).collect();
            let why = if own.is_empty() {
                format!("the file has no row of framework {name}")
            } else {
                format!(
                    "none of the file's {} rows of framework {name} is fitted ({})",
                    own.len(),
                    unfitted_reasons(own.into_iter())
                )
            };
            return Err(in_file(format!(
                "{FRAMEWORK} {name}: {why}; the rows it can fit are of {}: give one of those, or add rows of {name}",
                all.join(", ")
            )));
        }
        if !out.contains(&name) {
            out.push(name);
        }
    }
    let out = if out.is_empty() { all } else { out };
    // The refits leave a row (and its source) out; with one row in the file nothing is left.
    let fitted_rows: Vec<&str> = m
        .rows
        .iter()
        .filter(|r| fitted(r))
        .map(|r| r.id.as_str())
        .collect();
    if let [only] = fitted_rows.as_slice() {
        return Err(in_file(format!(
            "framework {}: one row to fit ('{only}'), and fit cross-validates every fit (it refits without each row, and without each source), which leaves nothing of one row: add measured rows (other inputs, a run with reduction), or price the row against the shipped profile with `aim-sim check`",
            out[0]
        )));
    }
    Ok(out)
}

/// Why rows enter no fit, counted: `2 rows with setting_known = false (...), 1 row timed = "vision" (...)`.
fn unfitted_reasons<'a>(rows: impl Iterator<Item = &'a super::Measurement>) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for r in rows {
        let roofline = (r.framework == crate::framework::ROOFLINE)
            .then_some("under framework = \"roofline\" (a bound with nothing to fit)");
        let Some(why) = unfitted_reason(r).or(roofline) else {
            continue;
        };
        match counts.iter_mut().find(|(w, _)| *w == why) {
            Some((_, n)) => *n += 1,
            None => counts.push((why, 1)),
        }
    }
    counts
        .iter()
        .map(|(why, n)| format!("{n} row{} {why}", if *n == 1 { "" } else { "s" }))
        .collect::<Vec<_>>()
        .join(", ")
}

pub fn frameworks(m: &Measurements) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for r in m.rows.iter().filter(|r| fitted(r)) {
        if !out.contains(&r.framework) && r.framework != crate::framework::ROOFLINE {
            out.push(r.framework.clone());
        }
    }
    out
}

/// Whether a row enters the fit: priced, timing the whole run (encoder-only rows,
/// `timed = "vision"`, are checked but not fitted yet: the fit records every kernel of a run),
/// and not kept out of it (`fit = false`).
fn fitted(r: &crate::check::Measurement) -> bool {
    unfitted_reason(r).is_none()
}

/// Why a row enters no fit ([`fitted`]), in the file's keys: not priced (a GPU the source
/// does not name, a setting it does not give), the encoder alone, or kept out.
fn unfitted_reason(r: &crate::check::Measurement) -> Option<&'static str> {
    if r.gpu == super::UNKNOWN_GPU {
        Some("with gpu = \"unknown\" (the source does not name its GPU)")
    } else if !r.setting_known {
        Some("with setting_known = false (the source gives only the token budget)")
    } else if r.timed == crate::check::Timed::Vision {
        Some("timed = \"vision\" (the encoder alone is checked, not fitted)")
    } else if !r.fit {
        Some("with fit = false")
    } else {
        None
    }
}

/// The profile a framework name refers to in `m` (its structure is the fit's starting point).
fn base(m: &Measurements, name: &str) -> Result<Framework> {
    Framework::load(&m.reference(name, crate::presets::FRAMEWORKS))
}

/// One framework's recorded rows and what its cross-validations need.
struct Framed {
    base: Framework,
    rows: Vec<Recorded>,
    /// Every other framework's rows with this structure (the fallback of an only source).
    others: Vec<Recorded>,
}

/// Which fits of each framework to run.
#[derive(Debug, Clone, Copy)]
struct Asked {
    /// On every row (the profile).
    full: bool,
    /// Once per row without it.
    loo: bool,
    /// Once per source group without it.
    loso: bool,
    /// Once per GPU with fitted values (rows from two or more sources) without its rows: how
    /// far a GPU the fit never saw lands ([`Spread::new_gpu`]).
    logo: bool,
}

/// What a framework's fits gave.
struct Fits {
    full: Option<Framework>,
    /// The full fit's harness factors (empty without a full fit).
    harness: Vec<HarnessFactor>,
    loo: Option<Vec<f64>>,
    loso: Option<Vec<CvPrediction>>,
    /// Per row, its time predicted with its GPU left out ([`Asked::logo`]); `None` for a row
    /// whose GPU was not left out, or whose GEMM precision no row of the fold ran.
    logo: Option<Vec<Option<f64>>>,
}

/// One refit: the rows it trains on.
struct Job<'a> {
    base: &'a Framework,
    train: Vec<&'a Recorded>,
}

/// A leave-one-source-out fold: the group left out, whether it is its framework's only source
/// (its training rows are then the other frameworks'), and its refit (none when no row is left).
struct SourceFold {
    group: String,
    only_source: bool,
    job: Option<usize>,
}

/// Runs every refit `asked` needs for each of `frameworks`, all side by side on every core
/// ([`folds::map`]; each refit cold-starts from the same deterministic points as a lone
/// [`fit_rows`], so no held-out row enters its own prediction and the numbers are those of a
/// one-by-one run), then assembles the predictions.
fn run(frameworks: &[Framed], asked: Asked, progress: Progress) -> Result<Vec<Fits>> {
    let mut jobs: Vec<Job> = Vec::new();
    // Per framework: the full fit's job, the first leave-one-row-out job, the source folds,
    // the GPU folds (the GPU left out, its job).
    type Plan = (
        Option<usize>,
        Option<usize>,
        Option<Vec<SourceFold>>,
        Option<Vec<(String, usize)>>,
    );
    let mut plans: Vec<Plan> = Vec::new();
    for f in frameworks {
        let base = &f.base;
        let full = asked.full.then(|| {
            jobs.push(Job {
                base,
                train: f.rows.iter().collect(),
            });
            jobs.len() - 1
        });
        // Leave one row out: the row's measurement enters nowhere in its refit. The only row
        // of its framework is predicted from the other frameworks' rows, as leave-one-source-out
        // does for an only source.
        let loo = asked.loo.then(|| {
            let first = jobs.len();
            for i in 0..f.rows.len() {
                let own: Vec<&Recorded> = f
                    .rows
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .map(|(_, r)| r)
                    .collect();
                jobs.push(Job {
                    base,
                    train: if own.is_empty() {
                        f.others.iter().collect()
                    } else {
                        own
                    },
                });
            }
            first
        });
        let loso = asked.loso.then(|| {
            groups_of(&f.rows)
                .into_iter()
                .map(|g| {
                    let own: Vec<&Recorded> = f.rows.iter().filter(|r| r.group != g).collect();
                    let only_source = own.is_empty();
                    let train: Vec<&Recorded> = if only_source {
                        f.others.iter().filter(|r| r.group != g).collect()
                    } else {
                        own
                    };
                    let job = (!train.is_empty()).then(|| {
                        jobs.push(Job { base, train });
                        jobs.len() - 1
                    });
                    SourceFold {
                        group: g,
                        only_source,
                        job,
                    }
                })
                .collect()
        });
        // Leave one GPU out: each GPU that ships fitted values (rows from two or more sources,
        // [`ship_population_values`]) predicted by a fit without any of its rows, so it gets
        // the pooled values, as a GPU the fit never saw does.
        let logo = asked.logo.then(|| {
            gpus_of(&f.rows)
                .into_iter()
                .filter(|g| {
                    let of_gpu: Vec<&Recorded> = f.rows.iter().filter(|r| &r.gpu == g).collect();
                    // A fold none of whose rows' GEMM precision the others ran predicts nothing
                    // (below), so it is not run.
                    let precision_kept = of_gpu.iter().any(|r| {
                        f.rows
                            .iter()
                            .any(|t| &t.gpu != g && t.eight_bit == r.eight_bit)
                    });
                    groups_of(of_gpu.iter().copied()).len() >= 2 && precision_kept
                })
                .map(|g| {
                    let train: Vec<&Recorded> = f.rows.iter().filter(|r| r.gpu != g).collect();
                    jobs.push(Job { base, train });
                    (g, jobs.len() - 1)
                })
                .collect()
        });
        plans.push((full, loo, loso, logo));
    }
    // A refit is a pure function of its profile and training rows, so jobs that train on the
    // very same rows (a source group of one row is also that row's leave-one-row-out fold) are
    // fitted once: `distinct` holds the first job of each training set, `fit_of` each job's.
    let mut distinct: Vec<usize> = Vec::new();
    let mut fit_of: Vec<usize> = Vec::with_capacity(jobs.len());
    let mut seen: HashMap<(*const Framework, Vec<*const Recorded>), usize> = HashMap::new();
    for (j, job) in jobs.iter().enumerate() {
        let key = (
            std::ptr::from_ref(job.base),
            job.train.iter().map(|r| std::ptr::from_ref(*r)).collect(),
        );
        fit_of.push(*seen.entry(key).or_insert_with(|| {
            distinct.push(j);
            distinct.len() - 1
        }));
    }
    // The largest training sets first, so no core waits on a long fit at the end.
    let mut order: Vec<usize> = (0..distinct.len()).collect();
    order.sort_by_key(|&d| std::cmp::Reverse(jobs[distinct[d]].train.len()));
    let fits: Vec<Fitted> = folds::map(
        distinct.len(),
        &order,
        |d| fit_refs(&jobs[distinct[d]].train, jobs[distinct[d]].base),
        progress,
    )
    .into_iter()
    .collect::<Result<_>>()?;
    let (fitted, harness): (Vec<Framework>, Vec<Vec<HarnessFactor>>) = fit_of
        .iter()
        .map(|&d| (fits[d].framework.clone(), fits[d].harness.clone()))
        .unzip();
    Ok(frameworks
        .iter()
        .zip(plans)
        .map(|(f, (full, loo, loso, logo))| Fits {
            full: full.map(|j| fitted[j].clone()),
            harness: full.map_or_else(Vec::new, |j| harness[j].clone()),
            loo: loo.map(|first| {
                f.rows
                    .iter()
                    .enumerate()
                    .map(|(i, r)| r.time_s(&efficiency(&fitted[first + i], r)))
                    .collect()
            }),
            loso: loso.map(|folds| loso_assemble(f, &folds, &jobs, &fitted)),
            logo: logo.map(|folds| {
                f.rows
                    .iter()
                    .map(|r| {
                        let &(_, j) = folds.iter().find(|(g, _)| *g == r.gpu)?;
                        // A GEMM precision the fold never ran says nothing of a new GPU.
                        jobs[j]
                            .train
                            .iter()
                            .any(|t| t.eight_bit == r.eight_bit)
                            .then(|| r.time_s(&efficiency(&fitted[j], r)))
                    })
                    .collect()
            }),
        })
        .collect())
}

/// Predictions of every row of `rows` by a fit without it: each refit starts afresh from the
/// same deterministic starting points, so the left-out row's measurement enters nowhere.
#[cfg(test)]
fn loo_predictions(rows: &[Recorded], base: &Framework) -> Result<Vec<f64>> {
    let asked = Asked {
        full: false,
        loo: true,
        loso: false,
        logo: false,
    };
    Ok(run_one(rows, &[], base, asked)?.loo.unwrap_or_default())
}

/// [`run`] on one framework's `rows` (and `others`, for its stand-in fit), quietly.
#[cfg(test)]
fn run_one(rows: &[Recorded], others: &[Recorded], base: &Framework, asked: Asked) -> Result<Fits> {
    let framed = Framed {
        base: base.clone(),
        rows: rows.to_vec(),
        others: others.to_vec(),
    };
    let fits = run(std::slice::from_ref(&framed), asked, &folds::quiet)?;
    Ok(fits.into_iter().next().expect("one framework, one fit"))
}

/// A cross-validated prediction: the time, and what the fit fell back on when the left-out
/// source was the only one of its framework, of its GPU, or of its GEMM precision there.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CvPrediction {
    pub time_s: f64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// For a row with a baseline: the same fit anchored on the baseline's measured time
    /// ([`super::anchor`]: per-kernel overhead, then host work, refitted to it).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchored_s: Option<f64>,
    /// No row of the fit ran the row's GPU at its GEMM precision: it was priced with the pooled
    /// values, as a GPU without fitted values is ([`Spread::for_gpu`] applies to its interval).
    #[serde(skip)]
    pub new_gpu: bool,
    /// No fit priced the row (its source was the only one and no other framework had rows): the
    /// ideal roofline stands in, which says nothing of how a fitted profile errs on a new source.
    #[serde(skip)]
    pub unfitted: bool,
}

/// `r`'s time under `e` refitted to `anchor`'s measurement by the solve `--anchor-ms` uses
/// ([`super::anchor::solve::solve_harness`]: GEMM efficiency and per-kernel overhead, the
/// split most likely under the fit's priors; host work per forward beyond both knobs' reach,
/// the profile's own host work counted against its bound). `None` when no values within the
/// bounds reach the anchor.
fn anchored_time_s(r: &Recorded, anchor: &Recorded, e: &Efficiency) -> Option<f64> {
    use super::anchor::solve::{solve_harness, Harness, Knobs};
    let with = |h: Harness| Efficiency {
        matmul: h.matmul(e.matmul),
        matmul_8bit: e.matmul_8bit.map(|m| h.matmul(m)),
        launch_overhead_s: h.launch_s,
        fixed_overhead_s: e.fixed_overhead_s + h.extra_host_s,
        ..e.clone()
    };
    let h = solve_harness(
        |scale, launch| anchor.time_s(&with(Harness::new(scale, launch, 0.0))),
        anchor.measured_s,
        Knobs::of(e, anchor.eight_bit),
        e.fixed_overhead_s,
    )?;
    Some(r.time_s(&with(h)))
}

/// Source groups of `rows`, in order of appearance.
fn groups_of<'a>(rows: impl IntoIterator<Item = &'a Recorded>) -> Vec<String> {
    let mut g: Vec<String> = Vec::new();
    for r in rows {
        if !g.contains(&r.group) {
            g.push(r.group.clone());
        }
    }
    g
}

/// Leave-one-source-out: every row predicted by a fit of its framework on the *other* source
/// groups only (cold starts, as [`fit_rows`]), so nothing of its harness — same paper, same
/// table, same document version — enters. When the group is the framework's only source, the
/// profile's structure is fitted to `others` (every other framework's rows, recorded with this
/// profile's structure) instead, and the row says so; when no row is left at all, the ideal
/// roofline predicts it. A GPU (or GEMM precision on it) that only the left-out source ran gets
/// the pooled values, also said.
#[cfg(test)]
fn loso_predictions(
    rows: &[Recorded],
    others: &[Recorded],
    base: &Framework,
) -> Result<Vec<CvPrediction>> {
    let asked = Asked {
        full: false,
        loo: false,
        loso: true,
        logo: false,
    };
    Ok(run_one(rows, others, base, asked)?.loso.unwrap_or_default())
}

/// The predictions of [`loso_predictions`] from its folds' refits (`fitted`, by job).
fn loso_assemble(
    f: &Framed,
    source_folds: &[SourceFold],
    jobs: &[Job],
    fitted: &[Framework],
) -> Vec<CvPrediction> {
    let (rows, base) = (&f.rows, &f.base);
    let mut out: Vec<Option<CvPrediction>> = vec![None; rows.len()];
    for fold in source_folds {
        let g = &fold.group;
        let only_source = fold.only_source;
        let train: &[&Recorded] = fold.job.map_or(&[], |j| &jobs[j].train);
        let fitted = fold.job.map(|j| &fitted[j]);
        for (i, r) in rows.iter().enumerate().filter(|(_, r)| &r.group == g) {
            let Some(f) = fitted else {
                out[i] = Some(CvPrediction {
                    time_s: r.time_s(&Efficiency::ideal()),
                    fallback: Some(format!(
                        "'{g}' is the only source and no other framework has rows: the ideal roofline"
                    )),
                    anchored_s: None,
                    new_gpu: false,
                    unfitted: true,
                });
                continue;
            };
            // Whether the fold ran the row's GPU, and its GEMM precision there.
            let gpu_seen = train.iter().any(|t| t.gpu == r.gpu);
            let gemm_seen = train
                .iter()
                .any(|t| t.gpu == r.gpu && t.eight_bit == r.eight_bit);
            let fallback = if only_source {
                Some(format!(
                    "'{g}' is framework {}'s only source: its structure fitted to the other frameworks' rows",
                    base.name
                ))
            } else if !gpu_seen {
                Some(format!(
                    "'{g}' is the only source on {}: the framework's pooled values",
                    r.gpu
                ))
            } else if !gemm_seen {
                Some(format!(
                    "'{g}' is the only source of {}-bit GEMMs on {}: the pooled GEMM efficiency",
                    if r.eight_bit { 8 } else { 16 },
                    r.gpu
                ))
            } else {
                None
            };
            let anchored_s = r
                .baseline
                .as_ref()
                .and_then(|b| rows.iter().find(|o| &o.id == b))
                .and_then(|b| anchored_time_s(r, b, &efficiency(f, b)));
            out[i] = Some(CvPrediction {
                time_s: r.time_s(&efficiency(f, r)),
                fallback,
                anchored_s,
                new_gpu: !gemm_seen,
                unfitted: false,
            });
        }
    }
    out.into_iter()
        .map(|p| p.expect("every row is in a group"))
        .collect()
}

/// The spread of cross-validated predictions `predicted_s` (parallel to `rows`) around the
/// measurements: between source groups, within them, and of speed-ups (rows whose baseline is
/// among `rows`).
pub fn spread(rows: &[Recorded], predicted_s: &[f64]) -> Spread {
    spread_of(&residuals(rows, predicted_s))
}

/// The rows' residuals `ln(predicted / measured)` with their groups and baselines.
fn residuals<'a>(rows: &'a [Recorded], predicted_s: &[f64]) -> Vec<Residual<'a>> {
    rows.iter()
        .zip(predicted_s)
        .map(|(r, p)| Residual {
            group: &r.group,
            moe: r.moe,
            new_gpu: false,
            ln_error: (p / r.measured_s).ln(),
            baseline: r
                .baseline
                .as_ref()
                .and_then(|b| rows.iter().position(|o| &o.id == b)),
        })
        .collect()
}

/// [`residuals`] of leave-one-source-out predictions, each marked where its fold had no row
/// on its GPU ([`CvPrediction::new_gpu`]).
fn loso_residuals<'a>(rows: &'a [Recorded], loso: &[CvPrediction]) -> Vec<Residual<'a>> {
    let predicted_s: Vec<f64> = loso.iter().map(|c| c.time_s).collect();
    let mut out = residuals(rows, &predicted_s);
    for (r, c) in out.iter_mut().zip(loso) {
        r.new_gpu = c.new_gpu;
    }
    out
}

/// One cross-validated row for [`spread_of`]: its source group, whether its model is a
/// mixture of experts, `ln(predicted / measured)`, and its baseline's index among the rows.
#[derive(Debug, Clone, Copy)]
pub struct Residual<'a> {
    pub group: &'a str,
    pub moe: bool,
    /// Predicted by a fit that ran no row on its GPU (pooled values).
    pub new_gpu: bool,
    pub ln_error: f64,
    pub baseline: Option<usize>,
}

/// [`spread`] of residuals: σ between source groups (root mean square of each group's mean,
/// dense and MoE rows apart), σ within them (pooled), and σ of speed-ups (pairs whose baseline
/// is among `rows`).
pub fn spread_of(rows: &[Residual]) -> Spread {
    let mut groups: Vec<&str> = Vec::new();
    for r in rows {
        if !groups.contains(&r.group) {
            groups.push(r.group);
        }
    }
    // Root mean square over source groups of each group's mean residual, over the rows of one
    // kind (dense or MoE): (σ, groups behind it).
    let between = |moe: bool| {
        let means: Vec<f64> = groups
            .iter()
            .filter_map(|g| {
                let v: Vec<f64> = rows
                    .iter()
                    .filter(|r| r.group == *g && r.moe == moe)
                    .map(|r| r.ln_error)
                    .collect();
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            })
            .collect();
        let sigma = (!means.is_empty())
            .then(|| (means.iter().map(|m| m * m).sum::<f64>() / means.len() as f64).sqrt());
        (sigma, means.len())
    };
    let mut within_sq = 0.0;
    for g in &groups {
        let v: Vec<f64> = rows
            .iter()
            .filter(|r| r.group == *g)
            .map(|r| r.ln_error)
            .collect();
        let mean = v.iter().sum::<f64>() / v.len() as f64;
        within_sq += v.iter().map(|x| (x - mean).powi(2)).sum::<f64>();
    }
    let free = rows.len().saturating_sub(groups.len());
    // ln(predicted speed-up / measured speed-up) = e_row − e_baseline, with the row's group.
    let pairs: Vec<(f64, &str)> = rows
        .iter()
        .filter_map(|r| Some((r.ln_error - rows.get(r.baseline?)?.ln_error, r.group)))
        .collect();
    let mut pair_groups: Vec<&str> = pairs.iter().map(|p| p.1).collect();
    pair_groups.sort_unstable();
    pair_groups.dedup();
    let (dense, dense_groups) = between(false);
    let (moe, moe_groups) = between(true);
    let within = if free == 0 {
        0.0
    } else {
        (within_sq / free as f64).sqrt()
    };
    // A file of MoE rows alone: their σ is the only one there is.
    let (between_sources, between_groups) = match dense {
        Some(b) => (b, dense_groups),
        None => (moe.unwrap_or(0.0), moe_groups),
    };
    Spread {
        between_sources,
        moe_between_sources: moe,
        moe_source_groups: moe_groups,
        within_source: within,
        speedup: (!pairs.is_empty())
            .then(|| (pairs.iter().map(|(x, _)| x * x).sum::<f64>() / pairs.len() as f64).sqrt()),
        source_groups: groups.len(),
        rows: rows.len(),
        speedup_pairs: pairs.len(),
        time_dof: welch_dof(between_sources, between_groups, within, free),
        moe_time_dof: moe.and_then(|b| welch_dof(b, moe_groups, within, free)),
        speedup_dof: (!pair_groups.is_empty()).then_some(pair_groups.len() as f64),
        held_out_coverage: None,
        held_out_speedup_coverage: None,
        new_gpu: None,
        new_gpu_dof: None,
        new_gpus: 0,
        anchored: false,
        anchor_ms: None,
        shipped: false,
    }
}

/// [`Spread::new_gpu`] from the leave-one-GPU-out predictions `logo` (parallel to `rows`;
/// `None` for rows no GPU fold predicted): the dense rows' residuals grouped by GPU, σ between
/// GPUs and within them, as [`spread_of`] does for sources. Sets nothing without a fold.
fn set_new_gpu(
    spread: &mut Spread,
    rows: &[Recorded],
    logo: &[Option<f64>],
    loso: &[CvPrediction],
) {
    let residuals: Vec<Residual> = rows
        .iter()
        .zip(logo.iter().zip(loso))
        .filter(|(r, _)| !r.moe)
        .filter_map(|(r, (gpu_out, source_out))| {
            // Left out with its GPU, or with its source where that was the GPU's only one.
            let p = gpu_out.or(source_out.new_gpu.then_some(source_out.time_s));
            Some(Residual {
                group: &r.gpu,
                moe: false,
                new_gpu: true,
                ln_error: (p? / r.measured_s).ln(),
                baseline: None,
            })
        })
        .collect();
    if residuals.is_empty() {
        return;
    }
    let by_gpu = spread_of(&residuals);
    spread.new_gpu = Some(by_gpu.time_sigma());
    spread.new_gpu_dof = by_gpu.time_dof;
    spread.new_gpus = by_gpu.source_groups;
}

/// Degrees of freedom of `√(between² + within²)` when `between` was estimated from `groups`
/// group means (root mean square about zero: one each) and `within` from `free` (Welch–
/// Satterthwaite: `(b² + w²)² / (b⁴/groups + w⁴/free)`). `None` where both σ are zero.
fn welch_dof(between: f64, groups: usize, within: f64, free: usize) -> Option<f64> {
    let (b2, w2) = (between * between, within * within);
    let term = |s2: f64, n: usize| {
        if s2 == 0.0 {
            0.0
        } else {
            s2 * s2 / n.max(1) as f64
        }
    };
    let denominator = term(b2, groups) + term(w2, free);
    (denominator > 0.0).then(|| (b2 + w2).powi(2) / denominator)
}

/// Whether each row's measurement lies inside the 80 % interval around its cross-validated
/// prediction when σ, too, is estimated without the row's source ([`spread_of`] of the other
/// sources' residuals): the interval a stack gets that neither the fit nor its `[spread]` saw.
/// Per row, for its time and for its speed-up over its baseline (`None`: no other source, or
/// for the speed-up no baseline among `rows`).
pub fn held_out_hits(rows: &[Residual]) -> Vec<HeldOut> {
    rows.iter()
        .map(|r| {
            // The other sources' rows, their baselines re-indexed among them.
            let kept: Vec<usize> = (0..rows.len())
                .filter(|&j| rows[j].group != r.group)
                .collect();
            if kept.is_empty() {
                return HeldOut::default();
            }
            let others: Vec<Residual> = kept
                .iter()
                .map(|&j| Residual {
                    baseline: rows[j]
                        .baseline
                        .and_then(|b| kept.iter().position(|&k| k == b)),
                    ..rows[j]
                })
                .collect();
            let mut s = spread_of(&others);
            // A row priced with the pooled values gets a new GPU's interval, its σ from the
            // other sources' rows priced so (each its GPU's only source, so a source is a GPU).
            if r.new_gpu {
                let priced_pooled: Vec<Residual> =
                    others.iter().filter(|o| o.new_gpu).copied().collect();
                if !priced_pooled.is_empty() {
                    let g = spread_of(&priced_pooled);
                    (s.new_gpu, s.new_gpu_dof, s.new_gpus) =
                        (Some(g.time_sigma()), g.time_dof, g.source_groups);
                }
            }
            let inside = |e: f64, [lo, hi]: [f64; 2]| (lo.ln()..=hi.ln()).contains(&e);
            let time = inside(
                r.ln_error,
                s.for_model(r.moe).for_gpu(!r.new_gpu).time_interval(1.0),
            );
            let speedup = r
                .baseline
                .and_then(|b| rows.get(b))
                .map(|b| inside(r.ln_error - b.ln_error, s.speedup_interval(1.0)));
            HeldOut {
                time: Some(time),
                speedup,
            }
        })
        .collect()
}

/// Whether a row's time and its speed-up lie inside the held-out interval ([`held_out_hits`]);
/// `None` where there is nothing to say.
#[derive(Debug, Clone, Copy, Default)]
pub struct HeldOut {
    pub time: Option<bool>,
    pub speedup: Option<bool>,
}

/// The share of `Some(true)` among the `Some`s (`None` for none).
pub fn share_of(hits: impl IntoIterator<Item = Option<bool>>) -> Option<f64> {
    let known: Vec<bool> = hits.into_iter().flatten().collect();
    (!known.is_empty()).then(|| known.iter().filter(|h| **h).count() as f64 / known.len() as f64)
}

/// Rows of every framework but `name`, recorded with `base`'s structure (the fallback of a
/// framework's only source).
fn other_frameworks(m: &Measurements, name: &str, base: &Framework) -> Result<Vec<Recorded>> {
    // Without its mixture-of-experts rows: what they teach (`expert_half_tokens`, how one
    // engine's grouped GEMMs run) is that engine's own, and fitted into the stand-in profile
    // of another framework they only move its dense parameters (hf-eager's fallback went
    // from 46.7 % to 54.4 % median error with the Mixtral row in).
    Ok(record_where(
        m,
        |r| r.framework != name && r.framework != crate::framework::ROOFLINE,
        base,
    )?
    .into_iter()
    .filter(|r| !r.moe)
    .collect())
}

/// Fits every framework `names` (all of the file's when empty) and cross-validates: leave one
/// source out (the profile's `[spread]` and the headline of its `provenance`) and leave one row
/// out.
pub fn fit(m: &Measurements, names: &[String], provenance: &str) -> Result<Vec<FitReport>> {
    fit_with_progress(m, names, provenance, &folds::quiet)
}

/// [`fit`], calling `progress` with (refits done, refits in all) as they finish.
pub fn fit_with_progress(
    m: &Measurements,
    names: &[String],
    provenance: &str,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<Vec<FitReport>> {
    let names = fit_names(m, names)?;
    let framed = frame(m, &names, true)?;
    let asked = Asked {
        full: true,
        loo: true,
        loso: true,
        logo: true,
    };
    let fits = run(&framed, asked, progress)?;
    let mut out = Vec::new();
    for ((name, f), fits) in names.into_iter().zip(&framed).zip(fits) {
        let rows = &f.rows;
        let mut profile = fits.full.expect("the full fit was asked for");
        let harness_only = ship_population_values(&mut profile, rows);
        let loo = fits.loo.expect("leave-one-row-out was asked for");
        let loso = fits.loso.expect("leave-one-source-out was asked for");
        let predictions: Vec<FitRow> = rows
            .iter()
            .zip(&loo)
            .zip(&loso)
            .map(|((r, l), c)| FitRow {
                id: r.id.clone(),
                gpu: r.gpu.clone(),
                source_group: r.group.clone(),
                measured_ms: r.measured_s * 1e3,
                fitted_ms: r.time_s(&efficiency(&profile, r)) * 1e3,
                loso_ms: c.time_s * 1e3,
                loso_fallback: c.fallback.clone(),
                loo_ms: l * 1e3,
            })
            .collect();
        let stats = |f: fn(&FitRow) -> f64| {
            Stats::of(
                predictions
                    .iter()
                    .map(|p| (p.id.as_str(), f(p) / p.measured_ms - 1.0)),
            )
        };
        let in_sample = stats(|p| p.fitted_ms);
        let loo_stats = stats(|p| p.loo_ms);
        let loso_stats = stats(|p| p.loso_ms);
        let fallbacks = predictions
            .iter()
            .filter(|p| p.loso_fallback.is_some())
            .count();
        let loso_s: Vec<f64> = loso.iter().map(|c| c.time_s).collect();
        let mut spread = spread(rows, &loso_s);
        set_new_gpu(
            &mut spread,
            rows,
            &fits.logo.expect("leave-one-GPU-out was asked for"),
            &loso,
        );
        let hits = held_out_hits(&loso_residuals(rows, &loso));
        spread.held_out_coverage = share_of(hits.iter().map(|h| h.time));
        spread.held_out_speedup_coverage = share_of(hits.iter().map(|h| h.speedup));
        // One source and no other framework's rows: every leave-one-source-out "prediction" is
        // the ideal roofline, whose errors are no spread of a fitted profile (a user's own two
        // rows wrote ×0.14–×7.34). The shipped profile's [spread] states how such a profile
        // errs on a new source; without one, the roofline's errors are kept and said to be.
        let spread_note = loso.iter().all(|c| c.unfitted).then(|| {
            let of = format!(
                "one source group ({}) and no other framework's rows: no spread between sources can be estimated",
                groups_of(rows).join(", ")
            );
            match f.base.spread.filter(|b| !b.anchored) {
                Some(b) => {
                    spread = Spread { shipped: true, ..b };
                    // A row's own profile file is no shipped one (it said "the shipped
                    // prof/hf.toml profile's").
                    let shipped = if crate::presets::canonical(&name, crate::presets::FRAMEWORKS).is_some() {
                        "shipped "
                    } else {
                        ""
                    };
                    format!("{of}, so [spread] is the {shipped}{name} profile's (σ between sources {:.3}); add rows of other sources to estimate this stack's", b.between_sources)
                }
                None => format!("{of}, and framework {name} ships none: [spread] is the ideal roofline's errors on these rows, as wide as a prediction without a fit"),
            }
        });
        // No pairs and one row per source: √2 · within (two runs of one harness) rests on
        // nothing, and a user's two rows of two sources wrote a speed-up interval of ×1.00–×1.00.
        let mut spread_note = spread_note;
        if spread.speedup.is_none() && spread.rows <= spread.source_groups {
            let (sigma, dof, whose) = match f.base.spread.filter(|b| !b.anchored) {
                Some(b) => (
                    b.speedup_sigma(),
                    b.speedup_sigma_dof(),
                    format!("the shipped {name} profile's"),
                ),
                None => (
                    std::f64::consts::SQRT_2 * spread.time_sigma(),
                    spread.time_dof,
                    "√2 × this fit's σ of a time".to_string(),
                ),
            };
            spread.speedup = Some(sigma);
            spread.speedup_dof = dof;
            let note = format!(
                "no speed-up pairs and one row per source group: no spread of a speed-up can be estimated, so its σ ({sigma:.3}) is {whose}; add each reduced run's baseline (the same setup without reduction, named by baseline) to estimate it"
            );
            spread_note = Some(match spread_note {
                Some(n) => format!("{n}; {note}"),
                None => note,
            });
        }
        profile.spread = Some(round_spread(spread));
        profile.notes.extend(spread_note.clone());
        let groups = groups_of(rows);
        let pc = |s: &Option<Stats>, worst: bool| {
            s.as_ref().map_or(0.0, |s| {
                100.0
                    * if worst {
                        s.worst_abs_error
                    } else {
                        s.median_abs_error
                    }
            })
        };
        profile.provenance = format!(
            "{provenance}: {} rows from {} source group(s) ({}); leave-one-source-out median |error| {:.1} %, worst {:.1} %{}; leave-one-row-out median {:.1} %, worst {:.1} %; in-sample median {:.1} %, worst {:.1} %",
            rows.len(),
            groups.len(),
            gpus_of(rows).join(", "),
            pc(&loso_stats, false),
            pc(&loso_stats, true),
            if fallbacks > 0 {
                format!(" ({fallbacks} rows on pooled values or other frameworks: their source was the only one of its framework or GPU)")
            } else {
                String::new()
            },
            pc(&loo_stats, false),
            pc(&loo_stats, true),
            pc(&in_sample, false),
            pc(&in_sample, true),
        ) + &harness_only
            .iter()
            .map(|(gpu, group)| {
                format!("; {gpu} ships the pooled values: its only source ({group}) is one harness, whose fit is its own")
            })
            .collect::<String>();
        out.push(FitReport {
            framework: name,
            rows: rows.iter().map(|r| r.id.clone()).collect(),
            source_groups: groups,
            profile_toml: profile_toml(&profile),
            in_sample,
            loso: loso_stats,
            loso_fallback_rows: fallbacks,
            loo: loo_stats,
            spread,
            spread_note,
            predictions,
            harness_factors: fits.harness.clone(),
        });
    }
    Ok(out)
}

/// Drops from `profile` the fitted values of every GPU whose rows come from one source group,
/// where the framework has others, and returns those GPUs with their source. One source's fit
/// of a GPU is that harness as much as the GPU (issue 21: FlowCut's HF harness on the A800, the
/// A100's chip, costs 3× the A100 papers' per kernel, and other A800 papers ran near the
/// latter): a new user's stack on it is better served by the pooled values, and the profile's
/// `[spread]`, from leave-one-source-out (where such a GPU's rows already get the pooled
/// values), states that error. Fixed figures (`attention`) stay.
fn ship_population_values(profile: &mut Framework, rows: &[Recorded]) -> Vec<(String, String)> {
    if groups_of(rows).len() < 2 {
        return Vec::new();
    }
    let mut out = Vec::new();
    for gpu in gpus_of(rows) {
        let mut sources: Vec<&String> = Vec::new();
        for r in rows.iter().filter(|r| r.gpu == gpu) {
            if !sources.contains(&&r.group) {
                sources.push(&r.group);
            }
        }
        if sources.len() != 1 {
            continue;
        }
        if let Some(t) = profile.gpu.get_mut(&gpu) {
            t.matmul = None;
            t.matmul_8bit = None;
            t.launch_overhead_s = None;
            t.link = None;
            if *t == crate::framework::Params::default() {
                profile.gpu.remove(&gpu);
            }
            out.push((gpu, sources[0].clone()));
        }
    }
    out
}

/// Four decimals, as the profile stores it.
fn round_spread(s: Spread) -> Spread {
    let r = |v: f64| {
        format!("{v:.4}")
            .parse::<f64>()
            .expect("a formatted float parses")
    };
    Spread {
        between_sources: r(s.between_sources),
        moe_between_sources: s.moe_between_sources.map(r),
        within_source: r(s.within_source),
        speedup: s.speedup.map(r),
        time_dof: s.time_dof.map(r),
        moe_time_dof: s.moe_time_dof.map(r),
        speedup_dof: s.speedup_dof.map(r),
        held_out_coverage: s.held_out_coverage.map(r),
        held_out_speedup_coverage: s.held_out_speedup_coverage.map(r),
        new_gpu: s.new_gpu.map(r),
        new_gpu_dof: s.new_gpu_dof.map(r),
        ..s
    }
}

fn gpus_of(rows: &[Recorded]) -> Vec<String> {
    let mut g: Vec<String> = Vec::new();
    for r in rows {
        if !g.contains(&r.gpu) {
            g.push(r.gpu.clone());
        }
    }
    g
}

/// A profile as TOML with a header saying what it is.
pub fn profile_toml(f: &Framework) -> String {
    let mut rounded = f.clone();
    let round = |p: &mut Params| {
        for v in [
            &mut p.matmul,
            &mut p.matmul_8bit,
            &mut p.attention,
            &mut p.memory,
            &mut p.link,
            &mut p.dequant,
        ]
        .into_iter()
        .flatten()
        {
            *v = format!("{v:.4}").parse().expect("a formatted float parses");
        }
        // Tokens per expert: whole tokens.
        for v in [&mut p.expert_half_tokens].into_iter().flatten() {
            *v = v.round();
        }
        for v in [
            &mut p.launch_overhead_s,
            &mut p.desktop_launch_overhead_s,
            &mut p.fixed_overhead_s,
            &mut p.collective_latency_s,
        ]
        .into_iter()
        .flatten()
        {
            // Three significant digits; below a nanosecond is zero (the bound the fit approaches).
            *v = if *v < 1e-9 {
                0.0
            } else {
                format!("{v:.2e}")
                    .parse()
                    .expect("a formatted float parses")
            };
        }
    };
    round(&mut rounded.params);
    rounded.gpu.values_mut().for_each(round);
    format!(
        "# Framework profile written by `aim-sim fit` (docs/accuracy.md). Fractions of peak and\n# overheads, fitted to published measurements; [gpu.NAME] tables are per GPU, [params] pooled.\n{}",
        toml::to_string(&rounded).expect("a profile serialises")
    )
}

/// Each framework of `names` with its rows recorded (and, for the stand-in fit of an only
/// source or row, every other framework's rows with its structure), in order.
fn frame(m: &Measurements, names: &[String], with_others: bool) -> Result<Vec<Framed>> {
    names
        .iter()
        .map(|name| {
            let base = base(m, name)?;
            let rows = record(m, name, &base)?;
            let others = if with_others {
                other_frameworks(m, name, &base)?
            } else {
                Vec::new()
            };
            Ok(Framed { base, rows, others })
        })
        .collect()
}

/// Leave-one-row-out predictions (seconds) and leave-one-source-out predictions (with what
/// each fell back on) of every priced row of every framework in `m`, each when asked for; all
/// refits run side by side, `progress` told (refits done, refits in all) as they finish.
pub fn cross_validate(
    m: &Measurements,
    by_row: bool,
    by_source: bool,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CrossValidated> {
    if !by_row && !by_source {
        return Ok(CrossValidated::default());
    }
    let names = frameworks(m);
    let mut framed = frame(m, &names, by_source)?;
    // A framework's only row, left out, is refitted on the other frameworks' rows.
    if by_row && !by_source && framed.iter().any(|f| f.rows.len() == 1) {
        framed = frame(m, &names, true)?;
    }
    let asked = Asked {
        full: false,
        loo: by_row,
        loso: by_source,
        logo: false,
    };
    let fits = run(&framed, asked, progress)?;
    let mut out = CrossValidated {
        loo: by_row.then(BTreeMap::new),
        loso: by_source.then(BTreeMap::new),
        held_out: by_source.then(BTreeMap::new),
    };
    for (f, fits) in framed.iter().zip(fits) {
        if let (Some(map), Some(p)) = (&mut out.loo, fits.loo) {
            map.extend(f.rows.iter().map(|r| r.id.clone()).zip(p));
        }
        if let (Some(map), Some(held), Some(p)) = (&mut out.loso, &mut out.held_out, fits.loso) {
            let hits = held_out_hits(&loso_residuals(&f.rows, &p));
            held.extend(f.rows.iter().map(|r| r.id.clone()).zip(hits));
            map.extend(f.rows.iter().map(|r| r.id.clone()).zip(p));
        }
    }
    Ok(out)
}

/// Cross-validated predictions by row id ([`cross_validate`]).
#[derive(Debug, Clone, Default)]
pub struct CrossValidated {
    /// Leave one row out: seconds.
    pub loo: Option<BTreeMap<String, f64>>,
    /// Leave one source group out.
    pub loso: Option<BTreeMap<String, CvPrediction>>,
    /// With leave-one-source-out: whether each row's time and speed-up lie inside the interval
    /// whose σ, too, was estimated without its source ([`held_out_hits`]).
    pub held_out: Option<BTreeMap<String, HeldOut>>,
}

/// Leave-one-source-out predictions of every priced row of every framework in `m`
/// ([`cross_validate`]).
pub fn leave_one_source_out(m: &Measurements) -> Result<BTreeMap<String, CvPrediction>> {
    Ok(cross_validate(m, false, true, &folds::quiet)?
        .loso
        .unwrap_or_default())
}

/// Leave-one-row-out predictions (seconds) of every priced row of every framework in `m`.
pub fn leave_one_out(m: &Measurements) -> Result<BTreeMap<String, f64>> {
    Ok(cross_validate(m, true, false, &folds::quiet)?
        .loo
        .unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::predicted_time_s;

    /// Synthetic measurements: the rows of `gpus` priced under the profile `truth`.
    fn synthetic(truth: &Framework, gpus: &[&str]) -> Measurements {
        // Shapes that separate the parameters: short and long prompts, images, a video.
        let mut text = String::new();
        let mut i = 0;
        for gpu in gpus {
            for (model, frames, text_tokens) in [
                ("llava-1.5-7b", 0, 128),
                ("llava-1.5-7b", 0, 2048),
                ("llava-1.5-7b", 1, 60),
                ("llava-1.5-13b", 0, 512),
                ("llava-ov-7b", 8, 100),
            ] {
                i += 1;
                text += &format!(
                    "[[measurement]]\nid = \"r{i}\"\nsource = \"synthetic\"\nmodel = \"{model}\"\ngpu = \"{gpu}\"\nframework = \"hf\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 16\na_bits = 16\nkv_bits = 16\nbatch = 1\ntext_tokens = {text_tokens}\nframes = {frames}\ntokens_per_frame = 196\nschedule = \"none\"\nmeasured_ms = 1.0\n\n"
                );
            }
        }
        let mut m = Measurements::parse(&text, "synthetic", ".".into()).unwrap();
        for k in 0..m.rows.len() {
            let s = m.scenario(&m.rows[k], Some(truth)).unwrap();
            m.rows[k].measured_ms = predicted_time_s(&s).unwrap() * 1e3;
        }
        m
    }

    fn profile(text: &str) -> Framework {
        Framework::from_source(&crate::presets::Source {
            origin: "truth".into(),
            text: text.into(),
            path: None,
        })
        .unwrap()
    }

    /// `hf` fitted to the synthetic rows of `gpus` under `truth`, each row predicted within
    /// `tol` (relative) by the fitted profile.
    fn fit_within(truth: &Framework, gpus: &[&str], tol: f64) -> (Vec<Recorded>, Framework) {
        let m = synthetic(truth, gpus);
        let base = Framework::load("hf").unwrap();
        let rows = record(&m, "hf", &base).unwrap();
        let fitted = fit_rows(&rows, &base).unwrap();
        for r in &rows {
            let p = r.time_s(&efficiency(&fitted, r));
            assert!(
                (p / r.measured_s - 1.0).abs() < tol,
                "{}: {p} vs {}",
                r.id,
                r.measured_s
            );
        }
        (rows, fitted)
    }

    fn close(a: Option<f64>, b: f64, tol: f64) {
        let a = a.unwrap();
        assert!((a / b - 1.0).abs() < tol, "{a} vs {b}");
    }

    /// One GPU: the model's own predictions under a known profile give that profile back.
    #[test]
    fn the_fit_recovers_known_parameters_from_synthetic_measurements() {
        let truth = profile("name = \"hf\"\neager_dispatch = true\n[params]\nattention = 0.6\nmemory = 0.85\nfixed_overhead_s = 0.004\nmatmul = 0.72\nlaunch_overhead_s = 2.2e-5\n");
        let (_, fitted) = fit_within(&truth, &["a100-80g"], 1e-3);
        close(fitted.gpu["a100-80g"].matmul, 0.72, 0.01);
        close(fitted.params.memory, 0.85, 0.01);
        close(fitted.params.fixed_overhead_s, 0.004, 0.02);
        close(fitted.gpu["a100-80g"].launch_overhead_s, 2.2e-5, 0.02);
    }

    /// Mixture-of-experts rows at two sizes of tokens per expert, beside dense rows, priced
    /// under a known half-saturation size: the fit finds it, and a refit without the MoE rows
    /// drops it (no fitted value outlives its rows).
    #[test]
    fn the_fit_recovers_the_expert_gemm_half_saturation_size() {
        let truth = profile("name = \"trtllm\"\n[params]\nattention = 0.6\nmemory = 0.85\nmatmul = 0.75\nlaunch_overhead_s = 1.2e-5\nexpert_half_tokens = 150.0\n");
        let mut text = String::new();
        for (i, (model, tokens)) in [
            ("llava-1.5-7b", 128),
            ("llava-1.5-7b", 2048),
            ("llava-1.5-13b", 512),
            ("models/mixtral-8x7b-v0.1.json", 256),
            ("models/mixtral-8x7b-v0.1.json", 4096),
        ]
        .into_iter()
        .enumerate()
        {
            text += &format!(
                "[[measurement]]\nid = \"m{i}\"\nsource = \"synthetic\"\nsource_group = \"g{i}\"\nmodel = \"{model}\"\ngpu = \"a100-80g\"\nframework = \"trtllm\"\ntimed = \"prefill\"\nattention = \"flash\"\nw_bits = 8\na_bits = 16\nkv_bits = 16\nbatch = 1\ntext_tokens = {tokens}\nframes = 0\nschedule = \"none\"\nmeasured_ms = 1.0\n\n"
            );
        }
        // Model files are named relative to the file's folder, as in reference/.
        let mut m = Measurements::parse(&text, "synthetic", "reference".into()).unwrap();
        for k in 0..m.rows.len() {
            let s = m.scenario(&m.rows[k], Some(&truth)).unwrap();
            m.rows[k].measured_ms = predicted_time_s(&s).unwrap() * 1e3;
        }
        let base = Framework::load("trtllm").unwrap();
        let rows = record(&m, "trtllm", &base).unwrap();
        assert_eq!(rows.iter().filter(|r| r.moe).count(), 2);
        let fitted = fit_rows(&rows, &base).unwrap();
        close(fitted.params.expert_half_tokens, 150.0, 0.05);
        for r in &rows {
            let p = r.time_s(&efficiency(&fitted, r));
            assert!(
                (p / r.measured_s - 1.0).abs() < 0.01,
                "{}: {p} vs {}",
                r.id,
                r.measured_s
            );
        }
        // The MoE rows are really slower than dense efficiency would make them.
        let dense = Framework {
            params: Params {
                expert_half_tokens: None,
                ..fitted.params.clone()
            },
            ..fitted.clone()
        };
        for r in rows.iter().filter(|r| r.moe) {
            assert!(
                r.time_s(&efficiency(&dense, r)) < 0.95 * r.measured_s,
                "{}",
                r.id
            );
        }
        let without: Vec<Recorded> = rows.into_iter().filter(|r| !r.moe).collect();
        assert_eq!(
            fit_rows(&without, &fitted)
                .unwrap()
                .params
                .expert_half_tokens,
            None
        );
    }

    /// Two GPUs with different GEMM efficiency: each GPU's value is found, pulled a few per
    /// cent towards the other by the pooling prior, and predictions stay within 3 %.
    #[test]
    fn per_gpu_parameters_are_recovered_up_to_partial_pooling() {
        let truth = profile("name = \"hf\"\neager_dispatch = true\n[params]\nattention = 0.6\nmemory = 0.85\nfixed_overhead_s = 0.004\nmatmul = 0.63\nlaunch_overhead_s = 2e-5\n[gpu.a100-80g]\nmatmul = 0.72\n[gpu.h100]\nattention = 0.35\nmatmul = 0.55\n");
        let (_, fitted) = fit_within(&truth, &["a100-80g", "h100"], 0.03);
        close(fitted.gpu["a100-80g"].matmul, 0.72, 0.05);
        close(fitted.gpu["h100"].matmul, 0.55, 0.05);
        let (a, h) = (
            fitted.gpu["a100-80g"].matmul.unwrap(),
            fitted.gpu["h100"].matmul.unwrap(),
        );
        assert!(a > h, "the faster GPU stays faster: {a} vs {h}");
    }

    /// Issue 21: rows on a server GPU and on a desktop-host one, priced with a desktop per-op
    /// cost half the servers', give a desktop GPU's value (and the desktop pool) below the
    /// server's; priced with one cost for both, they do not (the split is the data's, not the
    /// structure's). A refit without desktop rows has no desktop pool.
    #[test]
    fn the_desktop_pool_is_fitted_from_desktop_host_rows_only() {
        let base = Framework::load("hf").unwrap();
        let fit = |desktop_s: f64| {
            let truth = profile(&format!("name = \"hf\"\neager_dispatch = true\n[params]\nattention = 0.6\nmemory = 0.85\nfixed_overhead_s = 0.004\nmatmul = 0.63\nlaunch_overhead_s = 2.4e-5\ndesktop_launch_overhead_s = {desktop_s:e}\n"));
            fit_within(&truth, &["a100-80g", "rtx4090"], 0.01)
        };
        let (rows, split) = fit(1.2e-5);
        assert_eq!(
            rows.iter().filter(|r| r.host == Host::Desktop).count(),
            rows.len() / 2
        );
        let launch = |f: &Framework, gpu: &str| f.gpu[gpu].launch_overhead_s.unwrap();
        let ratio = launch(&split, "rtx4090") / launch(&split, "a100-80g");
        assert!(ratio < 0.7, "{ratio}");
        let (pooled_desktop, pooled_server) = (
            split.params.desktop_launch_overhead_s.unwrap(),
            split.params.launch_overhead_s.unwrap(),
        );
        assert!(
            pooled_desktop < pooled_server,
            "{pooled_desktop} vs {pooled_server}"
        );
        let (_, same) = fit(2.4e-5);
        let ratio = launch(&same, "rtx4090") / launch(&same, "a100-80g");
        assert!((ratio - 1.0).abs() < 0.1, "{ratio}");
        let servers: Vec<Recorded> = rows
            .iter()
            .filter(|r| r.host == Host::Server)
            .cloned()
            .collect();
        let refit = fit_rows(&servers, &base).unwrap();
        assert_eq!(refit.params.desktop_launch_overhead_s, None);
    }

    /// Issue 21: two harnesses on one GPU whose GEMMs run at 0.8 and 0.5 of peak, the first
    /// timed twice as often. Each gets its own factor (a random effect), so the GPU's shipped
    /// value is near their geometric mean (0.63), not pulled to the harness with more rows
    /// (0.68 when rows count alike), and no harness's factor is shipped.
    #[test]
    fn a_harness_with_more_rows_does_not_set_its_gpus_value() {
        let base = Framework::load("hf").unwrap();
        let priced = |matmul: f64, copies: usize, source: &str| {
            let truth = profile(&format!("name = \"hf\"\neager_dispatch = true\n[params]\nattention = 0.6\nmemory = 0.85\nfixed_overhead_s = 0.0\nmatmul = {matmul}\nlaunch_overhead_s = 1e-5\n"));
            let mut m = synthetic(&truth, &vec!["a100-80g"; copies]);
            for r in &mut m.rows {
                r.source = source.into();
                r.id = format!("{source}-{}", r.id);
            }
            record(&m, "hf", &base).unwrap()
        };
        let mut rows = priced(0.8, 2, "fast");
        rows.extend(priced(0.5, 1, "slow"));
        let fitted = fit_rows(&rows, &base).unwrap();
        let matmul = fitted.gpu["a100-80g"].matmul.unwrap();
        assert!((0.57..0.66).contains(&matmul), "{matmul}");
        let toml = profile_toml(&fitted);
        assert!(!toml.contains("fast") && !toml.contains("slow"), "{toml}");
        // The factors `fit` reports are each harness's own: their product with the GPU's value
        // is the harness's efficiency, within the fit's tolerance (0.8 and 0.5).
        let harness = fit_refs(&rows.iter().collect::<Vec<_>>(), &base)
            .unwrap()
            .harness;
        assert_eq!(harness.len(), 2, "{harness:?}");
        for h in &harness {
            let want = if h.source_group == "fast" { 0.8 } else { 0.5 };
            let got = h.matmul_factor * matmul;
            assert!(
                (got / want - 1.0).abs() < 0.05,
                "{h:?}: {got} against {want}"
            );
            assert_eq!(h.gpus, vec!["a100-80g".to_string()]);
        }
        // One harness: nothing to tell its effect from the GPU's value, so no factor.
        let one = slots(
            &rows
                .iter()
                .filter(|r| r.group == "fast")
                .collect::<Vec<_>>(),
        );
        assert!(!one.iter().any(|s| matches!(s, Slot::SourceMatmul(_))));
    }

    /// The fit's by-index efficiencies and priors ([`Layout`]) are those of the profile the
    /// values give ([`Values::framework`], [`Framework::efficiency_for`]), bit for bit, at
    /// random points of every reference framework's parameter box, for its own rows and for the
    /// other frameworks' (its only-source fallback).
    #[test]
    fn the_fits_efficiencies_are_the_profiles() {
        let m = Measurements::parse(
            crate::check::MEASUREMENTS_TOML,
            "reference",
            "reference".into(),
        )
        .unwrap();
        let mut rng = crate::kernels::rng::SplitMix64::new(7);
        let mut checked = 0;
        for name in frameworks(&m) {
            let base = base(&m, &name).unwrap();
            let owned = record(&m, &name, &base).unwrap();
            let others = other_frameworks(&m, &name, &base).unwrap();
            for rows in [&owned, &others] {
                let rows: Vec<&Recorded> = rows.iter().collect();
                let slots = slots(&rows);
                let mut groups: Vec<Vec<usize>> = Vec::new();
                for (i, r) in rows.iter().enumerate() {
                    match groups
                        .iter_mut()
                        .find(|g| rows[g[0]].gpu == r.gpu && rows[g[0]].eight_bit == r.eight_bit)
                    {
                        Some(g) => g.push(i),
                        None => groups.push(vec![i]),
                    }
                }
                let layout = Layout::new(&slots, &base, &rows, &groups);
                for _ in 0..20 {
                    let x: Vec<f64> = slots
                        .iter()
                        .map(|s| {
                            let b = s.bound();
                            b.lo + f64::from(rng.uniform()) * (b.hi - b.lo)
                        })
                        .collect();
                    let v = Values {
                        slots: &slots,
                        x: &x,
                    };
                    let f = v.framework(&base);
                    let pooled = layout.pooled(&x);
                    for (k, g) in groups.iter().enumerate() {
                        let mut slow = efficiency(&f, rows[g[0]]);
                        slow.source = None;
                        let fast = layout.efficiency(k, &x, &pooled);
                        assert_eq!(format!("{fast:?}"), format!("{slow:?}"), "{name}");
                        checked += 1;
                    }
                    let mut priors = Vec::new();
                    layout.priors(&x, &mut Vec::new(), &mut priors);
                    let bits = |v: &[f64]| v.iter().map(|p| p.to_bits()).collect::<Vec<_>>();
                    assert_eq!(bits(&priors), bits(&v.priors()), "{name}");
                }
            }
        }
        assert!(checked > 200, "{checked}");
    }

    /// A row's time is bit for bit the same with the values its kernels never read cleared
    /// ([`Reads::clear_unread`], which lets the fit skip re-timing it), on every reference row
    /// under random efficiencies.
    #[test]
    fn clearing_unread_values_changes_no_time() {
        let m = Measurements::parse(
            crate::check::MEASUREMENTS_TOML,
            "reference",
            "reference".into(),
        )
        .unwrap();
        let mut rng = crate::kernels::rng::SplitMix64::new(13);
        let mut u = move || f64::from(rng.uniform());
        let mut cleared = 0;
        for name in frameworks(&m) {
            let base = base(&m, &name).unwrap();
            let mut rows = record(&m, &name, &base).unwrap();
            rows.extend(other_frameworks(&m, &name, &base).unwrap());
            for r in &rows {
                let mut reads = Reads::default();
                for (w, _) in &r.kernels {
                    reads.add(w.class, &w.call, r.eight_bit);
                }
                for _ in 0..20 {
                    let e = Efficiency {
                        matmul: 0.1 + 0.9 * u(),
                        attention: 0.3 + 0.7 * u(),
                        elementwise: 0.1 + 0.85 * u(),
                        launch_overhead_s: 1e-4 * u(),
                        matmul_8bit: Some(0.1 + 0.9 * u()),
                        fixed_overhead_s: 1e-2 * u(),
                        collective_latency_s: 1e-4 * u(),
                        link: Some(0.1 + 0.9 * u()),
                        dequant: Some(0.1 + 0.9 * u()),
                        expert_half_tokens: Some(500.0 * u()),
                        source: None,
                        eager_dispatch: base.eager_dispatch,
                    };
                    let mut c = e.clone();
                    reads.clear_unread(&mut c);
                    cleared += usize::from(c != e);
                    assert_eq!(r.time_s(&c).to_bits(), r.time_s(&e).to_bits(), "{}", r.id);
                }
            }
        }
        assert!(cleared > 1000, "{cleared}");
    }

    /// Kernels counted as copies of one are exactly those whose every field prints the same
    /// (the key the fit used before, formatting each kernel), on every reference row.
    #[test]
    fn identical_kernels_are_those_that_print_the_same() {
        let m = Measurements::parse(
            crate::check::MEASUREMENTS_TOML,
            "reference",
            "reference".into(),
        )
        .unwrap();
        let mut checked = 0;
        for name in frameworks(&m) {
            let base = base(&m, &name).unwrap();
            let probe = probe(&base);
            for r in m.rows.iter().filter(|r| r.framework == name && fitted(r)) {
                let kernels = row_kernels(&m.scenario(r, Some(&probe)).unwrap(), r.timed).unwrap();
                let mut by_text: Vec<(String, f64)> = Vec::new();
                for k in &kernels {
                    let text = format!("{k:?}");
                    match by_text.iter_mut().find(|(t, _)| *t == text) {
                        Some((_, n)) => *n += 1.0,
                        None => by_text.push((text, 1.0)),
                    }
                }
                let fast: Vec<(String, f64)> = distinct(kernels)
                    .into_iter()
                    .map(|(k, n)| (format!("{k:?}"), n))
                    .collect();
                assert_eq!(fast, by_text, "{}", r.id);
                checked += 1;
            }
        }
        assert!(checked > 50, "{checked}");
    }

    #[test]
    fn leave_one_out_never_sees_the_row_it_predicts() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("hf").unwrap();
        let rows: Vec<Recorded> = record(&m, "hf", &base).unwrap();
        let rows = &rows[..rows.len().min(6)];
        let loo = loo_predictions(rows, &base).unwrap();
        // Changing row 0's measurement changes nothing in its own leave-one-out prediction,
        // but does change the others' (they were fitted with it).
        let mut changed = rows.to_vec();
        changed[0].measured_s *= 3.0;
        let loo2 = loo_predictions(&changed, &base).unwrap();
        assert_eq!(loo[0], loo2[0]);
        assert!(loo[1..].iter().zip(&loo2[1..]).any(|(a, b)| a != b));
    }

    /// Leave-one-source-out: a group's predictions do not move when its own measurements do
    /// (nothing of the source enters its fit), but the other groups' do; a group that is the
    /// only one on its GPU is predicted from pooled values and says so.
    #[test]
    fn leave_one_source_out_never_sees_the_source_it_predicts() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("hf").unwrap();
        let rows: Vec<Recorded> = record(&m, "hf", &base).unwrap();
        let groups = groups_of(&rows);
        assert!(groups.len() >= 2, "{groups:?}");
        let loso = loso_predictions(&rows, &[], &base).unwrap();
        let target = &groups[0];
        let mut changed = rows.clone();
        for r in changed.iter_mut().filter(|r| &r.group == target) {
            r.measured_s *= 3.0;
        }
        let loso2 = loso_predictions(&changed, &[], &base).unwrap();
        for ((r, a), b) in rows.iter().zip(&loso).zip(&loso2) {
            if &r.group == target {
                // The anchored figure uses the baseline's measurement by design (the user's
                // anchor); the held-out prediction itself must not move.
                assert_eq!((a.time_s, &a.fallback), (b.time_s, &b.fallback), "{}", r.id);
            }
        }
        assert!(rows
            .iter()
            .zip(loso.iter().zip(&loso2))
            .any(|(r, (a, b))| &r.group != target && a.time_s != b.time_s));
        // FlowCut is the only A800 source: pooled values, reported.
        for (r, p) in rows.iter().zip(&loso) {
            assert_eq!(
                p.fallback.is_some(),
                !rows.iter().any(|o| o.gpu == r.gpu && o.group != r.group),
                "{}: {:?}",
                r.id,
                p.fallback
            );
        }
    }

    /// A framework with one source is predicted from the other frameworks' rows, and says so;
    /// with none at all, from the ideal roofline.
    #[test]
    fn a_frameworks_only_source_falls_back_and_says_so() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("hf-eager").unwrap();
        let rows: Vec<Recorded> = record(&m, "hf-eager", &base).unwrap();
        let rows = &rows[..3];
        assert_eq!(groups_of(rows).len(), 1);
        let alone = loso_predictions(rows, &[], &base).unwrap();
        for (r, p) in rows.iter().zip(&alone) {
            assert!(p.fallback.as_ref().unwrap().contains("ideal roofline"));
            assert_eq!(p.time_s, r.time_s(&Efficiency::ideal()));
        }
        let others: Vec<Recorded> = record(&m, "hf", &base).unwrap();
        let pooled = loso_predictions(rows, &others[..4], &base).unwrap();
        for p in &pooled {
            assert!(
                p.fallback.as_ref().unwrap().contains("only source"),
                "{p:?}"
            );
        }
    }

    /// `new_gpu` is σ between GPUs and within them of the rows predicted without their GPU:
    /// those a GPU fold priced, and those whose source fold ran no row on their GPU; other rows
    /// and MoE rows are not counted. The fit writes it for every framework it left a GPU out of.
    #[test]
    fn new_gpu_is_the_spread_of_rows_priced_without_their_gpu() {
        let m = Measurements::parse(
            crate::check::MEASUREMENTS_TOML,
            "reference",
            "reference".into(),
        )
        .unwrap();
        let rows = record(&m, "trtllm", &Framework::load("trtllm").unwrap()).unwrap();
        let gpus = gpus_of(&rows);
        // GPU k's rows are exp(0.1·k) too slow; the H200's come from source folds instead.
        let offset = |r: &Recorded| 0.1 * gpus.iter().position(|g| *g == r.gpu).unwrap() as f64;
        let logo: Vec<Option<f64>> = rows
            .iter()
            .map(|r| (r.gpu != "h200").then(|| r.measured_s * offset(r).exp()))
            .collect();
        let loso: Vec<CvPrediction> = rows
            .iter()
            .map(|r| CvPrediction {
                // Far off, so a row counted from here that should not be would show.
                time_s: r.measured_s
                    * if r.gpu == "h200" {
                        offset(r).exp()
                    } else {
                        9.0
                    },
                fallback: None,
                anchored_s: None,
                new_gpu: r.gpu == "h200",
                unfitted: false,
            })
            .collect();
        let mut s = spread(&rows, &vec![1.0; rows.len()]);
        set_new_gpu(&mut s, &rows, &logo, &loso);
        // One offset per GPU of a dense row, each GPU once (no scatter within a GPU).
        let dense: Vec<Recorded> = rows.iter().filter(|r| !r.moe).cloned().collect();
        let counted: Vec<f64> = gpus_of(&dense)
            .iter()
            .map(|g| 0.1 * gpus.iter().position(|x| x == g).unwrap() as f64)
            .collect();
        let rms = (counted.iter().map(|o| o * o).sum::<f64>() / counted.len() as f64).sqrt();
        assert_eq!(s.new_gpus, counted.len());
        assert!(
            (s.new_gpu.unwrap() - rms).abs() < 1e-12,
            "{s:?} against {rms}"
        );
        let shipped = Framework::load("trtllm").unwrap().spread.unwrap();
        assert!(shipped.new_gpus >= 2 && shipped.new_gpu.unwrap() > shipped.time_sigma());
    }

    /// The spread splits log residuals into a between-source and a within-source part.
    #[test]
    fn spread_separates_between_and_within_sources() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("hf").unwrap();
        let mut rows: Vec<Recorded> = record(&m, "hf", &base).unwrap();
        for r in &mut rows {
            r.baseline = None;
        }
        // Group k's predictions are exp(0.1·k) too high, with ±0.05 alternating inside it.
        let groups = groups_of(&rows);
        let mut count: HashMap<String, usize> = HashMap::new();
        let predicted: Vec<f64> = rows
            .iter()
            .map(|r| {
                let k = groups.iter().position(|g| g == &r.group).unwrap() as f64;
                let n = count.entry(r.group.clone()).or_default();
                *n += 1;
                let wiggle = if n.is_multiple_of(2) { 0.05 } else { -0.05 };
                r.measured_s * (0.1 * (k + 1.0) + wiggle).exp()
            })
            .collect();
        let s = spread(&rows, &predicted);
        assert_eq!(s.source_groups, groups.len());
        assert_eq!((s.speedup, s.speedup_pairs), (None, 0));
        // Root mean square of the groups' offsets 0.1·(k + 1), give or take the wiggle's share.
        let rms = ((1..=groups.len())
            .map(|k| (0.1 * k as f64).powi(2))
            .sum::<f64>()
            / groups.len() as f64)
            .sqrt();
        assert!(
            (s.between_sources - rms).abs() < 0.05,
            "{s:?} against {rms}"
        );
        assert!(s.within_source > 0.03 && s.within_source < 0.07, "{s:?}");
        // Welch–Satterthwaite: between dominates, so close to the number of groups, never below
        // one group's worth nor above all the rows.
        let dof = s.time_dof.unwrap();
        let (b2, w2) = (s.between_sources.powi(2), s.within_source.powi(2));
        let free = (rows.len() - groups.len()) as f64;
        let want = (b2 + w2).powi(2) / (b2 * b2 / groups.len() as f64 + w2 * w2 / free);
        assert!((dof - want).abs() < 1e-9, "{dof} against {want}");
        assert!(
            dof >= groups.len() as f64 && dof <= rows.len() as f64,
            "{dof}"
        );
    }

    /// A row marked `fit = false` is checked but never fitted: the reference set's expert-loop
    /// rows, SimpleCluster's TTFT rows and AccelMark's vLLM rows are in the file and out of the
    /// fits.
    #[test]
    fn rows_kept_out_of_the_fit_are_not_recorded() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let kept_out: Vec<&str> = m
            .rows
            .iter()
            .filter(|r| !r.fit)
            .map(|r| r.id.as_str())
            .collect();
        assert_eq!(kept_out.len(), 20, "{kept_out:?}");
        let rows = record(&m, "hf", &Framework::load("hf").unwrap()).unwrap();
        assert!(!rows.is_empty());
        assert!(rows.iter().all(|r| !kept_out.contains(&r.id.as_str())));
    }

    /// Mixture-of-experts rows have a σ between sources of their own: one MoE source far off
    /// widens MoE runs' intervals, not the dense models' (regression: one MoE blog row once
    /// took trtllm's dense interval from ×0.91–×1.10 to ×0.64–×1.57).
    #[test]
    fn a_spread_below_its_coverage_says_so_in_a_note() {
        let mut s = spread(&[], &[]);
        assert!(s.coverage_note("hf").is_none(), "no coverage, no note");
        s.held_out_coverage = Some(0.643);
        s.held_out_speedup_coverage = Some(0.556);
        let note = s.coverage_note("hf").unwrap();
        assert!(
            note.contains("64 % of times and 56 % of speed-ups"),
            "{note}"
        );
        s.held_out_coverage = Some(0.86);
        s.held_out_speedup_coverage = None;
        assert!(s.coverage_note("trtllm").is_none(), "86 % needs no note");
        s.held_out_speedup_coverage = Some(0.5);
        assert!(s
            .coverage_note("x")
            .unwrap()
            .contains("held 50 % of speed-ups"));
    }

    #[test]
    fn moe_sources_have_their_own_spread() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("trtllm").unwrap();
        let mut rows: Vec<Recorded> = record(&m, "trtllm", &base).unwrap();
        for r in &mut rows {
            r.baseline = None;
        }
        assert!(rows.iter().any(|r| r.moe) && rows.iter().any(|r| !r.moe));
        // Dense rows 5 % high, MoE rows 2× low.
        let predicted: Vec<f64> = rows
            .iter()
            .map(|r| r.measured_s * if r.moe { 0.5 } else { 1.05 })
            .collect();
        let s = spread(&rows, &predicted);
        assert!((s.between_sources - 1.05f64.ln()).abs() < 1e-9, "{s:?}");
        let moe = s.moe_between_sources.expect("MoE rows were given");
        assert!((moe - 2f64.ln()).abs() < 1e-9, "{s:?}");
        assert_eq!(s.moe_source_groups, 1);
        assert!(s.within_source < 1e-9, "{s:?}");
        // A run takes its kind's σ; without MoE rows a MoE run takes the dense one, with a note.
        assert_eq!(s.for_model(false).time_sigma(), s.time_sigma());
        assert!((s.for_model(true).between_sources - moe).abs() < 1e-12);
        assert!(s.moe_note("trtllm").is_none());
        let dense: Vec<Recorded> = rows.iter().filter(|r| !r.moe).cloned().collect();
        let d = spread(&dense, &vec![1.0; dense.len()]);
        assert_eq!((d.moe_between_sources, d.moe_source_groups), (None, 0));
        assert_eq!(d.for_model(true), d);
        assert!(d.moe_note("hf").unwrap().contains("dense"));
    }
    /// A GPU whose rows come from one source ships the pooled values (its fit is that
    /// harness's) when the framework has other sources; a GPU backed by two keeps its own, and
    /// fixed figures stay. A framework with one source keeps its fit.
    #[test]
    fn a_gpu_of_one_source_ships_the_pooled_values() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let base = Framework::load("hf").unwrap();
        let rows: Vec<Recorded> = record(&m, "hf", &base).unwrap();
        let mut f = fit_rows(&rows, &base).unwrap();
        assert!(f.gpu["a800"].launch_overhead_s.is_some());
        let stripped = ship_population_values(&mut f, &rows);
        // Exactly the GPUs whose rows come from one source (FlowCut's A800, DIPrune's H800).
        for gpu in gpus_of(&rows) {
            let mut sources: Vec<&str> = rows
                .iter()
                .filter(|r| r.gpu == gpu)
                .map(|r| r.group.as_str())
                .collect();
            sources.sort();
            sources.dedup();
            let shipped_pooled = stripped.iter().any(|(g, _)| *g == gpu);
            assert_eq!(shipped_pooled, sources.len() == 1, "{gpu}: {sources:?}");
        }
        assert!(stripped.iter().any(|(g, _)| g == "a800"), "{stripped:?}");
        assert!(!f.gpu.contains_key("a800"), "{:?}", f.gpu.get("a800"));
        assert!(f.gpu["a100-80g"].launch_overhead_s.is_some());
        // A stripped GPU keeps its fixed figure (h100's attention) and nothing fitted.
        assert_eq!(f.gpu["h100"].attention, Some(0.35));
        assert_eq!(f.gpu["h100"].launch_overhead_s, None);
        // FlowCut alone: one source in all, nothing to pool over.
        let one: Vec<Recorded> = rows.into_iter().filter(|r| r.gpu == "a800").collect();
        let mut g = fit_rows(&one, &base).unwrap();
        let before = g.clone();
        assert!(ship_population_values(&mut g, &one).is_empty());
        assert_eq!(g, before);
    }

    /// Regression: a refit without a GPU's rows carried the shipped profile's fitted values for
    /// that GPU (hf's a800), so leaving FlowCut out still predicted it with FlowCut's fit.
    #[test]
    fn a_refit_keeps_no_fitted_value_of_a_gpu_without_rows() {
        let text = crate::check::MEASUREMENTS_TOML;
        let m = Measurements::parse(text, "reference", "reference".into()).unwrap();
        let mut base = Framework::load("hf").unwrap();
        // A profile with a fitted a800 table (the shipped one has none since issue 21).
        base.gpu.insert(
            "a800".into(),
            crate::framework::Params {
                matmul: Some(0.87),
                launch_overhead_s: Some(127e-6),
                ..Default::default()
            },
        );
        let rows: Vec<Recorded> = record(&m, "hf", &base)
            .unwrap()
            .into_iter()
            .filter(|r| r.gpu != "a800")
            .collect();
        let f = fit_rows(&rows, &base).unwrap();
        assert!(!f.gpu.contains_key("a800"), "{:?}", f.gpu.get("a800"));
        // The fixed attention figures stay.
        assert_eq!(f.gpu["h100"].attention, Some(0.35));
    }
}
