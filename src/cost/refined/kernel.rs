//! One GPU kernel (or a batch of identical launches) and how the refined model times it:
//! the roofline of [`crate::cost::Roofline`], scaled by the achieved fractions of the run's
//! [`Efficiency`] (a framework profile's, or the GPU file's `[efficiency]` table) when present,
//! plus a fixed launch overhead per kernel; interconnect traffic and latency for collectives;
//! host overhead per forward. [`Timer::time`] is the one place where a kernel gets its time.

use crate::cost::{Bound, OpKind, Operator, Roofline, TimedOp};
use crate::hardware::Efficiency;
use crate::schedule::Importance;
use serde::Serialize;

/// Which efficiency factor of the GPU file applies to a kernel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// GEMMs: `efficiency.matmul` of peak compute.
    Matmul,
    /// Fused or eager attention kernels: `efficiency.attention` of both roofs.
    Attention,
    /// Memory-bound passes (norms, adds, softmax, top-k, gather): `efficiency.elementwise`
    /// of bandwidth.
    Elementwise,
    /// Collectives: bytes over `interconnect_bandwidth` (times `efficiency.link`), plus
    /// `efficiency.collective_latency_s` each.
    Communication,
    /// Dequantising packed weights to 16 bits before a GEMM (bitsandbytes): memory-bound at
    /// `efficiency.dequant` of bandwidth.
    Dequant,
    /// Host work of one forward beyond its kernels: `efficiency.fixed_overhead_s` each.
    Host,
}

impl Class {
    /// The class as reports write it (lowercase, as it serialises).
    pub fn name(self) -> &'static str {
        match self {
            Class::Matmul => "matmul",
            Class::Attention => "attention",
            Class::Elementwise => "elementwise",
            Class::Communication => "communication",
            Class::Dequant => "dequant",
            Class::Host => "host",
        }
    }
}

/// What a GPU must launch to run a [`Kernel`]: the shapes and element types a timing source
/// needs (`aim-sim measure`, `calibrate`). Shapes are per launch as the refined model priced
/// them (per GPU under tensor parallelism); `count` is how many identical launches the kernel
/// stands for (layers of an encoder, sequences of a batch). Sizes are `f64` as the model
/// computes them; a timing source rounds them to whole elements.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "call", rename_all = "snake_case")]
pub enum Call {
    /// `C[m×n] = A[m×k] · W[k×n]` (+ a bias row), activations of `act_bits` and weights of
    /// `weight_bits` bits.
    Gemm {
        m: f64,
        n: f64,
        k: f64,
        bias: bool,
        act_bits: u8,
        weight_bits: u8,
        count: f64,
    },
    /// A mixture-of-experts grouped GEMM: `experts` experts (the expected number the layer's
    /// tokens touch), each `[tokens_per_expert × k] · [k × n]` at the expected tokens per
    /// expert.
    ExpertGemm {
        experts: f64,
        tokens_per_expert: f64,
        n: f64,
        k: f64,
        act_bits: u8,
        weight_bits: u8,
    },
    /// Attention of `sequences` sequences of `tokens` queries (`tokens` keys; decode: one query
    /// over `tokens` cached keys).
    Attention {
        variant: Attention,
        tokens: f64,
        sequences: f64,
        heads: f64,
        kv_heads: f64,
        head_dim: f64,
    },
    /// An element-wise pass over `elements` values in rows of `width` (the kernel's name says
    /// which pass: RMSNorm, RoPE, SwiGLU, residual add, ...).
    Elementwise {
        elements: f64,
        width: f64,
        count: f64,
    },
    /// One step of a pruning layer's importance rule over `tokens` tokens (`iterations` power
    /// iterations for PageRank).
    Importance {
        rule: Importance,
        step: ImportanceStep,
        tokens: f64,
        heads: f64,
        kv_heads: f64,
        head_dim: f64,
        iterations: u32,
    },
    /// Top-k over the `candidates` visual scores of `tokens` scored tokens, keeping `kept` of
    /// them.
    TopK {
        tokens: f64,
        candidates: f64,
        kept: f64,
    },
    /// Gather of `rows` kept hidden states of `width`.
    Gather { rows: f64, width: f64 },
    /// One step of a bipartite-soft-matching pass over `frames` frames of `tokens_per_frame`
    /// tokens of width `hidden`, merging `merged` per frame.
    Merge {
        step: MergeStep,
        frames: f64,
        tokens_per_frame: f64,
        merged: f64,
        hidden: f64,
    },
    /// A collective (ring all-reduce, all-gather) of a `bytes` message.
    Collective { bytes: f64 },
    /// Dequantising `params` packed weights to 16 bits.
    Dequant { params: f64 },
    /// Host work of a forward (no launch).
    Host,
}

/// Which attention kernel a [`Call::Attention`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Attention {
    /// Fused causal FlashAttention-2.
    FlashCausal,
    /// Eager `Q·Kᵀ` written out (a batched GEMM).
    EagerScores,
    /// Eager mask + softmax over the written scores.
    EagerSoftmax,
    /// Eager `P·V` (a batched GEMM).
    EagerValues,
    /// Bidirectional attention within segments (vision encoders), fused or eager.
    Bidirectional,
    /// One query per sequence over the KV cache.
    Decode,
}

/// Which step of an importance rule a [`Call::Importance`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImportanceStep {
    /// PageRank fused: Q·Kᵀ recomputed in a normaliser pass and every power iteration.
    Fused,
    /// `Q·Kᵀ` recomputed and written out as `[heads, n, n]` logits.
    Logits,
    /// The tempered softmax written as the matrix `M`.
    Softmax,
    /// The power iterations over `M`.
    PowerIterations,
    /// Root-mean-square of the per-head vectors.
    RmsOverHeads,
    /// The attention rows a rule needs (last query, text queries), recomputed or read back.
    Rows,
}

/// Which step of a merging pass a [`Call::Merge`] is (kernels/merge.cu runs the five as one
/// pass).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MergeStep {
    Normalize,
    Similarity,
    BestMatch,
    Sort,
    ScatterMean,
}

impl Call {
    /// `k` identical launches as one (the layers of an encoder, the steps of a decode).
    pub fn times(self, k: f64) -> Call {
        match self {
            Call::Gemm {
                m,
                n,
                k: inner,
                bias,
                act_bits,
                weight_bits,
                count,
            } => Call::Gemm {
                m,
                n,
                k: inner,
                bias,
                act_bits,
                weight_bits,
                count: count * k,
            },
            Call::Attention {
                variant,
                tokens,
                sequences,
                heads,
                kv_heads,
                head_dim,
            } => Call::Attention {
                variant,
                tokens,
                sequences: sequences * k,
                heads,
                kv_heads,
                head_dim,
            },
            Call::Elementwise {
                elements,
                width,
                count,
            } => Call::Elementwise {
                elements,
                width,
                count: count * k,
            },
            // Already sized for every frame, step or GPU it covers.
            other => other,
        }
    }

    /// Bits of an element `bytes` wide (4-bit weights are half a byte).
    pub fn bits(bytes: f64) -> u8 {
        (bytes * 8.0).round() as u8
    }
}

/// The ideal efficiency, for timers without a table.
static IDEAL: Efficiency = Efficiency::ideal();

/// An operator before timing, with what the timing needs besides FLOPs and bytes, and what a
/// GPU must launch to run it ([`Call`]).
#[derive(Debug, Clone, PartialEq)]
pub struct Kernel {
    pub op: Operator,
    pub class: Class,
    /// What a GPU launches for it: `aim-sim measure` and `calibrate` run this.
    pub call: Call,
    /// Kernel launches this operator stands for (identical layers or passes batched into one).
    pub launches: f64,
    /// Dense-count FLOPs where the executed count differs (causal attention).
    pub dense_flops: Option<f64>,
    /// Bytes each GPU sends over the interconnect (collectives only).
    pub link_bytes: f64,
}

/// A kernel with `flops`, launched as `call`, and no traffic yet; add bytes with the builder
/// methods.
pub fn kernel(name: &'static str, kind: OpKind, class: Class, flops: f64, call: Call) -> Kernel {
    Kernel {
        op: Operator::new(name, kind, flops),
        class,
        call,
        launches: 1.0,
        dense_flops: None,
        link_bytes: 0.0,
    }
}

/// A launch that does no work: what one kernel launch costs alone (its overhead).
pub fn no_work(name: &'static str) -> Kernel {
    kernel(
        name,
        OpKind::Elementwise,
        Class::Elementwise,
        0.0,
        Call::Elementwise {
            elements: 0.0,
            width: 1.0,
            count: 1.0,
        },
    )
}

impl Kernel {
    pub fn weights(mut self, bytes: f64) -> Kernel {
        self.op.load_weight_bytes += bytes;
        self
    }
    pub fn reads(mut self, bytes: f64) -> Kernel {
        self.op.load_act_bytes += bytes;
        self
    }
    pub fn writes(mut self, bytes: f64) -> Kernel {
        self.op.store_act_bytes += bytes;
        self
    }
    pub fn reads_kv(mut self, bytes: f64) -> Kernel {
        self.op.load_kv_bytes += bytes;
        self
    }
    pub fn writes_kv(mut self, bytes: f64) -> Kernel {
        self.op.store_kv_bytes += bytes;
        self
    }
    pub fn launches(mut self, n: f64) -> Kernel {
        self.launches = n;
        self
    }
    pub fn dense(mut self, flops: f64) -> Kernel {
        self.dense_flops = Some(flops);
        self
    }
    pub fn link(mut self, bytes: f64) -> Kernel {
        self.link_bytes = bytes;
        self
    }
    /// `k` identical copies as one entry (identical layers of an encoder, frames of a batch).
    pub fn times(mut self, k: f64) -> Kernel {
        self.op = self.op.scaled(k);
        self.launches *= k;
        self.dense_flops = self.dense_flops.map(|f| f * k);
        self.link_bytes *= k;
        self.call = self.call.times(k);
        self
    }
}

/// Times kernels on one GPU.
#[derive(Debug, Clone)]
pub struct Timer {
    efficiency: Efficiency,
    interconnect_bytes_per_s: Option<f64>,
    /// The roofs each [`Class`] runs under, `(peak FLOP/s, bandwidth bytes/s)`, scaled by its
    /// achieved fractions once here rather than per kernel.
    roofs: [(f64, f64); CLASSES],
}

/// Which kinds of kernel a set of kernels holds, as far as the [`Efficiency`] values that timing
/// them reads go ([`Reads::clear_unread`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Reads {
    /// Per [`Class::index`]: a kernel of that class.
    classes: [bool; CLASSES],
    /// A grouped expert GEMM ([`Call::ExpertGemm`]: its priced FLOPs read
    /// `expert_half_tokens`).
    expert_gemm: bool,
    /// A GEMM on the 8-bit tensor path (it reads `matmul_8bit`).
    eight_bit_gemm: bool,
}

impl Reads {
    /// Counts a kernel of `class` launched as `call`, timed on the 8-bit GEMM path or not (the
    /// `eight_bit` of [`Timer::new`]).
    pub fn add(&mut self, class: Class, call: &Call, eight_bit: bool) {
        self.classes[class.index()] = true;
        self.expert_gemm |= matches!(call, Call::ExpertGemm { .. });
        self.eight_bit_gemm |= eight_bit && class == Class::Matmul;
    }

    /// Sets in `e` the values that timing these kernels never reads ([`Timer::new`], then
    /// [`Timer::time`]) to their defaults: the kernels get the very same times under either,
    /// and two efficiencies that differ only there become equal. The framework fit re-times a
    /// group of rows only when its efficiency changed; without this, a GPU's `link` would
    /// re-time every row without a collective (issue 25 item 4).
    pub fn clear_unread(&self, e: &mut Efficiency) {
        let has = |c: Class| self.classes[c.index()];
        if !has(Class::Communication) {
            e.link = None;
            e.collective_latency_s = 0.0;
        }
        if !has(Class::Dequant) {
            e.dequant = None;
        }
        if !has(Class::Host) {
            e.fixed_overhead_s = 0.0;
        }
        if !self.expert_gemm {
            e.expert_half_tokens = None;
        }
        if !self.eight_bit_gemm {
            e.matmul_8bit = None;
        }
    }
}

/// How many [`Class`]es there are (the rows of [`Timer::roofs`]).
const CLASSES: usize = 6;

impl Class {
    /// Every class, in [`Class::index`] order.
    const ALL: [Class; CLASSES] = [
        Class::Matmul,
        Class::Attention,
        Class::Elementwise,
        Class::Communication,
        Class::Dequant,
        Class::Host,
    ];

    /// Its row in [`Timer::roofs`] (a class added to the enum must be given one here).
    fn index(self) -> usize {
        match self {
            Class::Matmul => 0,
            Class::Attention => 1,
            Class::Elementwise => 2,
            Class::Communication => 3,
            Class::Dequant => 4,
            Class::Host => 5,
        }
    }
}

impl Timer {
    /// A timer for `roofline` (the device's peaks at the run's precision) at the achieved
    /// fractions of `efficiency` (ideal when `None`); `eight_bit`: GEMMs run on the 8-bit
    /// tensor path (`int8_peak`), so `efficiency.matmul_8bit` applies.
    pub fn new(
        roofline: Roofline,
        efficiency: Option<&Efficiency>,
        interconnect_bytes_per_s: Option<f64>,
        eight_bit: bool,
    ) -> Timer {
        let e = efficiency.unwrap_or(&IDEAL).clone();
        let mut roofs = [(0.0, 0.0); CLASSES];
        for class in Class::ALL {
            let (compute_frac, bandwidth_frac) = match class {
                // A GEMM that is memory-bound streams its weights like any other pass.
                Class::Matmul if eight_bit => (e.matmul_8bit.unwrap_or(e.matmul), e.elementwise),
                Class::Matmul => (e.matmul, e.elementwise),
                Class::Attention => (e.attention, e.attention),
                Class::Elementwise | Class::Communication | Class::Host => (1.0, e.elementwise),
                Class::Dequant => (1.0, e.dequant.unwrap_or(e.elementwise)),
            };
            roofs[class.index()] = (
                roofline.peak_flops_per_s * compute_frac,
                roofline.bandwidth_bytes_per_s * bandwidth_frac,
            );
        }
        Timer {
            efficiency: e,
            interconnect_bytes_per_s,
            roofs,
        }
    }

    /// The timer of a run: its roofline, its GPU's efficiency, its precision's GEMM path.
    pub fn for_context(ctx: &crate::cost::Context) -> Timer {
        Timer::new(
            ctx.roofline(),
            ctx.gpu.efficiency.as_ref(),
            ctx.gpu.interconnect_bandwidth,
            ctx.options.precision.uses_int8_peak(),
        )
    }

    /// `max(flops / (peak·e_c), bytes / (BW·e_b))` (the roofline of llm-viewer-cost-model.md
    /// with achieved fractions; the two times are computed side by side, which equals its
    /// `flops / (ai·BW)` up to rounding and keeps one division off the critical path), plus
    /// `launches × launch_overhead_s`; collectives take
    /// `link_bytes / (interconnect_bandwidth · link) + collective_latency_s` when that is longer
    /// than their memory traffic; host work takes `fixed_overhead_s`.
    #[inline(always)]
    pub fn time(&self, k: Kernel) -> TimedOp {
        let launches = self.launches(&k);
        let op = k.op;
        let bytes = op.bytes();
        // No traffic (host work): no intensity to report (0, never an infinity).
        let arithmetic_intensity = if bytes > 0.0 { op.flops / bytes } else { 0.0 };
        let flops = self.priced_flops(&k.call, op.flops);
        let (bound, time_s) = self.time_work(k.class, flops, bytes, launches, k.link_bytes);
        TimedOp {
            op,
            bytes,
            arithmetic_intensity,
            bound,
            time_s,
            dense_flops: k.dense_flops,
        }
    }

    /// The launches whose overhead `k` pays: its modelled launches, or under an eager-dispatch
    /// framework the PyTorch ops it stands for ([`super::dispatch`]).
    #[inline(always)]
    pub fn launches(&self, k: &Kernel) -> f64 {
        self.launches_of(k.launches, super::dispatch::ops(k))
    }

    /// [`Timer::launches`] of a kernel given as numbers: its modelled `launches` and the
    /// PyTorch `ops` it stands for (the fit re-times recorded kernels with it).
    #[inline(always)]
    pub fn launches_of(&self, launches: f64, ops: f64) -> f64 {
        // Per PyTorch op under an eager-dispatch framework (Efficiency::eager_dispatch).
        if self.efficiency.eager_dispatch {
            ops
        } else {
            launches
        }
    }

    /// The FLOPs a kernel launched as `call` is timed for, given its `flops`: a grouped expert
    /// GEMM with `m` tokens per expert runs at `m / (m + m_half)` of the dense efficiency, so
    /// its compute time is that of `(1 + m_half / m)` times its FLOPs. [`Timer::time`] and the
    /// framework fit (which re-times recorded kernels) both use it.
    #[inline(always)]
    pub fn priced_flops(&self, call: &Call, flops: f64) -> f64 {
        match (call, self.efficiency.expert_half_tokens) {
            (
                Call::ExpertGemm {
                    tokens_per_expert, ..
                },
                Some(half),
            ) if *tokens_per_expert > 0.0 => flops * (1.0 + half / tokens_per_expert),
            _ => flops,
        }
    }

    /// [`Timer::time`] of work of `class` given as numbers: `flops` and `bytes` over
    /// `launches` launches (`link_bytes` over the interconnect for a collective). What
    /// `aim-sim validate` prices its kernels with.
    #[inline(always)]
    pub fn time_work(
        &self,
        class: Class,
        flops: f64,
        bytes: f64,
        launches: f64,
        link_bytes: f64,
    ) -> (Bound, f64) {
        let e = &self.efficiency;
        let (peak_flops_per_s, bandwidth_bytes_per_s) = self.roofs[class.index()];
        let compute_s = flops / peak_flops_per_s;
        let memory_s = bytes / bandwidth_bytes_per_s;
        let (mut bound, mut time_s) = if memory_s > compute_s {
            (Bound::Memory, memory_s)
        } else {
            (Bound::Compute, compute_s)
        };
        match class {
            Class::Communication => {
                let link_s = match self.interconnect_bytes_per_s {
                    Some(bw) => link_bytes / (bw * e.link.unwrap_or(1.0)),
                    None => 0.0,
                } + launches * e.collective_latency_s;
                if link_s > time_s {
                    time_s = link_s;
                    bound = Bound::Memory;
                }
            }
            Class::Host => time_s = launches * e.fixed_overhead_s,
            _ => {}
        }
        if class != Class::Host {
            time_s += launches * e.launch_overhead_s;
        }
        (bound, time_s)
    }
}

/// Adds `o`'s work and time to `acc` (same operator, another pass, layer or step).
/// `arithmetic_intensity` and `bound` are left for the caller to settle.
pub fn accumulate(acc: &mut TimedOp, o: &TimedOp) {
    acc.dense_flops = match (acc.dense_flops, o.dense_flops) {
        (None, None) => None,
        (x, y) => Some(x.unwrap_or(acc.op.flops) + y.unwrap_or(o.op.flops)),
    };
    let a = &mut acc.op;
    a.flops += o.op.flops;
    a.load_weight_bytes += o.op.load_weight_bytes;
    a.load_act_bytes += o.op.load_act_bytes;
    a.store_act_bytes += o.op.store_act_bytes;
    a.load_kv_bytes += o.op.load_kv_bytes;
    a.store_kv_bytes += o.op.store_kv_bytes;
    acc.bytes += o.bytes;
    acc.time_s += o.time_s;
}

/// Sums timed operators of the same name (across passes, layers or steps) into one entry,
/// in first-seen order. The entry is compute-bound when compute-bound instances take most of
/// its time.
pub fn aggregate(ops: &[TimedOp]) -> Vec<TimedOp> {
    let mut by_name = ByName::new();
    for o in ops {
        by_name.add(o.clone());
    }
    by_name.finish().collect()
}

/// Distinct names [`ByName`] holds without allocating (the stages have 18).
const BY_NAME_INLINE: usize = 24;

/// [`aggregate`] one operator at a time, without a heap allocation for up to 24 names: the
/// totals-only pass sums its stages through this, the same additions in the same order.
pub struct ByName {
    /// (entry, its compute-bound seconds), first seen first.
    inline: [Option<(TimedOp, f64)>; BY_NAME_INLINE],
    len: usize,
    spill: Vec<(TimedOp, f64)>,
}

impl Default for ByName {
    fn default() -> Self {
        ByName::new()
    }
}

impl ByName {
    pub fn new() -> ByName {
        ByName {
            inline: std::array::from_fn(|_| None),
            len: 0,
            spill: Vec::new(),
        }
    }

    /// Adds `o` to the entry of its name, or opens one.
    pub fn add(&mut self, o: TimedOp) {
        let c = if o.bound == Bound::Compute {
            o.time_s
        } else {
            0.0
        };
        let existing = self.inline[..self.len]
            .iter_mut()
            .flatten()
            .chain(self.spill.iter_mut())
            .find(|(x, _)| x.op.name == o.op.name);
        match existing {
            Some((acc, compute_s)) => {
                accumulate(acc, &o);
                *compute_s += c;
            }
            None if self.len < BY_NAME_INLINE => {
                self.inline[self.len] = Some((o, c));
                self.len += 1;
            }
            None => self.spill.push((o, c)),
        }
    }

    /// The entries in first-seen order, arithmetic intensity and bound settled; taken out in
    /// place (moving the inline array would copy all of its slots, a sweep row's largest copy).
    pub fn finish(&mut self) -> impl Iterator<Item = TimedOp> + '_ {
        let len = std::mem::take(&mut self.len);
        self.inline[..len]
            .iter_mut()
            .filter_map(Option::take)
            .chain(self.spill.drain(..))
            .map(|(mut a, c)| {
                a.arithmetic_intensity = if a.bytes > 0.0 {
                    a.op.flops / a.bytes
                } else {
                    0.0
                };
                a.bound = if c >= a.time_s - c {
                    Bound::Compute
                } else {
                    Bound::Memory
                };
                a
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timer(eff: Option<Efficiency>) -> Timer {
        let roofline = Roofline {
            peak_flops_per_s: 100e12,
            bandwidth_bytes_per_s: 1e12,
        };
        Timer::new(roofline, eff.as_ref(), Some(100e9), false)
    }

    #[test]
    fn every_class_has_its_own_row_of_roofs() {
        for (i, class) in Class::ALL.into_iter().enumerate() {
            assert_eq!(class.index(), i);
        }
        let t = timer(None);
        assert!(t.roofs.iter().all(|&(p, b)| p > 0.0 && b > 0.0));
    }

    #[test]
    fn efficiency_scales_the_roofs_and_adds_launch_overhead() {
        let gemm = kernel("g", OpKind::Linear, Class::Matmul, 1e12, Call::Host).reads(1e6);
        let ideal = timer(None).time(gemm.clone());
        assert!((ideal.time_s - 0.01).abs() < 1e-12);
        let eff = Efficiency {
            matmul: 0.5,
            attention: 0.8,
            elementwise: 0.9,
            launch_overhead_s: 5e-6,
            ..crate::hardware::Efficiency::ideal()
        };
        let real = timer(Some(eff)).time(gemm.launches(2.0));
        assert!((real.time_s - (0.02 + 10e-6)).abs() < 1e-12);
    }

    /// A grouped expert GEMM with `m` tokens per expert computes at `m / (m + m_half)` of the
    /// dense efficiency; its memory time, a dense GEMM and a profile without `m_half` are
    /// untouched (the default roofline stays byte-identical).
    #[test]
    fn expert_gemms_run_below_dense_efficiency_with_few_tokens_per_expert() {
        let expert = |m: f64| {
            kernel(
                "e",
                OpKind::Linear,
                Class::Matmul,
                1e12,
                Call::ExpertGemm {
                    experts: 8.0,
                    tokens_per_expert: m,
                    n: 1.0,
                    k: 1.0,
                    act_bits: 16,
                    weight_bits: 16,
                },
            )
            .reads(1e6)
        };
        let eff = Efficiency {
            matmul: 0.5,
            expert_half_tokens: Some(100.0),
            ..crate::hardware::Efficiency::ideal()
        };
        let dense_s = timer(Some(Efficiency {
            expert_half_tokens: None,
            ..eff.clone()
        }))
        .time(expert(50.0))
        .time_s;
        assert!((dense_s - 0.02).abs() < 1e-12, "{dense_s}");
        for m in [25.0, 100.0, 400.0] {
            let t = timer(Some(eff.clone())).time(expert(m)).time_s;
            let want = 0.02 * (m + 100.0) / m;
            assert!((t - want).abs() < 1e-12, "m = {m}: {t} vs {want}");
        }
        // A dense GEMM of the same work ignores m_half.
        let gemm = kernel("g", OpKind::Linear, Class::Matmul, 1e12, Call::Host).reads(1e6);
        assert!((timer(Some(eff.clone())).time(gemm).time_s - 0.02).abs() < 1e-12);
        // Memory-bound (weights dominate): the slower compute stays under the memory time.
        let streamed = timer(Some(eff)).time(expert(400.0).weights(1e11)).time_s;
        assert!((streamed - (1e11 + 1e6) / 1e12).abs() < 1e-12, "{streamed}");
        // The ideal timer (the default roofline) has no m_half at all.
        assert!((timer(None).time(expert(1.0)).time_s - 0.01).abs() < 1e-12);
    }

    #[test]
    fn by_name_sums_like_aggregate_past_its_inline_capacity() {
        // 30 names (more than fit inline), each seen three times, interleaved.
        const NAMES: [&str; 30] = [
            "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b0", "b1", "b2", "b3",
            "b4", "b5", "b6", "b7", "b8", "b9", "c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7",
            "c8", "c9",
        ];
        let t = timer(None);
        let ops: Vec<TimedOp> = (0..90)
            .map(|i| {
                let flops = 1e9 * (1 + i % 7) as f64;
                t.time(
                    kernel(
                        NAMES[i % 30],
                        OpKind::Linear,
                        Class::Matmul,
                        flops,
                        Call::Host,
                    )
                    .reads(1e7),
                )
            })
            .collect();
        let agg = aggregate(&ops);
        assert_eq!(agg.len(), 30);
        for (k, a) in agg.iter().enumerate() {
            let mine: Vec<&TimedOp> = ops.iter().filter(|o| o.op.name == NAMES[k]).collect();
            assert_eq!(a.op.name, NAMES[k]);
            assert_eq!(
                a.op.flops,
                mine[0].op.flops + mine[1].op.flops + mine[2].op.flops
            );
            assert_eq!(a.time_s, mine[0].time_s + mine[1].time_s + mine[2].time_s);
        }
    }

    #[test]
    fn collectives_take_the_link_time() {
        let ar = kernel(
            "ar",
            OpKind::Communication,
            Class::Communication,
            0.0,
            Call::Collective { bytes: 1e6 },
        )
        .reads(1e6)
        .link(1e9);
        assert!((timer(None).time(ar).time_s - 0.01).abs() < 1e-12);
    }
}
