//! Cost models: per-operator FLOPs and bytes for one prefill, and the roofline time of each.
//!
//! The pipeline is model + schedule + hardware → [`CostModel::run`] (operators with FLOPs and
//! bytes, timed by [`roofline`]) → [`crate::sim`] (schedule vs baseline) → [`crate::report`].

pub mod llm_viewer;
pub mod refined;
mod sink;
mod summary;
mod workload;

pub use refined::LayerCache;
pub use sink::{Each, LayerMemo, Sink};
pub use summary::{Decode, ExpertUse, KvCache, PeakMemory, Pipeline};
pub use workload::{PruneDecision, PruneStep, Workload};

use crate::choice::Choice;
use crate::hardware::Gpu;
use crate::model::Model;
use serde::{Deserialize, Serialize};

/// Which cost model to use (`--cost-model`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum CostModelKind {
    /// What the prefill really costs on a GPU: causal FlashAttention, per-frame merging,
    /// importance at pruning layers, optional vision encoder, decode, memory, TP (docs/cost-models.md).
    #[default]
    Refined,
    /// The LLM-Viewer roofline exactly as the AIM paper used it, quirks included.
    LlmViewer,
}

impl Choice for CostModelKind {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            CostModelKind::Refined,
            "refined",
            "What the prefill really costs on a GPU: causal FlashAttention, per-frame merging, importance at pruning layers, optional vision encoder, decode, memory, TP (docs/cost-models.md)",
        ),
        (
            CostModelKind::LlmViewer,
            "llm-viewer",
            "The LLM-Viewer roofline exactly as the AIM paper used it, quirks included",
        ),
    ];
}

impl CostModelKind {
    /// The implementation behind the name.
    pub fn implementation(self) -> &'static dyn CostModel {
        match self {
            CostModelKind::LlmViewer => &llm_viewer::LlmViewer,
            CostModelKind::Refined => &refined::Refined,
        }
    }
}

/// What an operator is, for grouping in reports and plots.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OpKind {
    /// A weight GEMM (projections, MLP).
    Linear,
    /// Attention score/value products, softmax, or a fused attention kernel.
    Attention,
    /// RMSNorm / LayerNorm.
    Norm,
    /// Activations, residual adds, RoPE and other element-wise passes.
    Elementwise,
    /// The output projection to the vocabulary.
    LmHead,
    /// Token merging before the LLM.
    Merge,
    /// Importance scoring, top-k and gather at a pruning layer.
    Prune,
    /// Vision encoder and projector.
    Vision,
    /// Collective communication between GPUs.
    Communication,
    /// Host work of a forward beyond its kernels (a framework profile's fixed overhead).
    Host,
}

/// One operator's work: operations and the bytes it moves, split as LLM-Viewer splits them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Operator {
    pub name: &'static str,
    pub kind: OpKind,
    /// Operations (FLOPs; INT8 ops when quantised).
    pub flops: f64,
    pub load_weight_bytes: f64,
    pub load_act_bytes: f64,
    pub store_act_bytes: f64,
    pub load_kv_bytes: f64,
    pub store_kv_bytes: f64,
}

impl Operator {
    /// An operator with `flops` and no memory traffic yet.
    pub fn new(name: &'static str, kind: OpKind, flops: f64) -> Operator {
        Operator {
            name,
            kind,
            flops,
            load_weight_bytes: 0.0,
            load_act_bytes: 0.0,
            store_act_bytes: 0.0,
            load_kv_bytes: 0.0,
            store_kv_bytes: 0.0,
        }
    }

    /// The same work done `k` times (identical layers, passes or steps as one entry).
    pub fn scaled(mut self, k: f64) -> Operator {
        self.flops *= k;
        self.load_weight_bytes *= k;
        self.load_act_bytes *= k;
        self.store_act_bytes *= k;
        self.load_kv_bytes *= k;
        self.store_kv_bytes *= k;
        self
    }

    /// Total bytes moved through device memory.
    pub fn bytes(&self) -> f64 {
        self.load_weight_bytes
            + self.load_act_bytes
            + self.store_act_bytes
            + self.load_kv_bytes
            + self.store_kv_bytes
    }
}

/// Whether an operator (or layer) is limited by arithmetic or by memory traffic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Bound {
    Compute,
    Memory,
}

impl Bound {
    /// Its name, as in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Bound::Compute => "compute",
            Bound::Memory => "memory",
        }
    }
}

/// An operator with its roofline timing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimedOp {
    #[serde(flatten)]
    pub op: Operator,
    pub bytes: f64,
    /// FLOPs per byte.
    pub arithmetic_intensity: f64,
    pub bound: Bound,
    pub time_s: f64,
    /// FLOPs a dense (non-causal, full `n²`) count gives, where it differs from `flops`
    /// (causal attention in the refined model); papers quote this one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_flops: Option<f64>,
}

/// The roofline of one device at one precision: peak ops/s and bandwidth.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Roofline {
    pub peak_flops_per_s: f64,
    pub bandwidth_bytes_per_s: f64,
}

impl Roofline {
    /// llm-viewer-cost-model.md "Roofline for one operator": `ai = ops / bytes`,
    /// `tp = P / BW`; memory-bound (`ai < tp`) runs at `ai · BW`, else at `P`.
    #[inline]
    pub fn time(&self, op: Operator) -> TimedOp {
        let bytes = op.bytes();
        let ai = if bytes > 0.0 {
            op.flops / bytes
        } else {
            f64::INFINITY
        };
        let turning_point = self.peak_flops_per_s / self.bandwidth_bytes_per_s;
        let (bound, perf) = if ai < turning_point {
            (Bound::Memory, ai * self.bandwidth_bytes_per_s)
        } else {
            (Bound::Compute, self.peak_flops_per_s)
        };
        let time_s = if op.flops > 0.0 {
            op.flops / perf
        } else {
            bytes / self.bandwidth_bytes_per_s
        };
        TimedOp {
            op,
            bytes,
            // No traffic (host work): no intensity to report (0, never an infinity that JSON
            // would turn into null); the bound above still treats it as compute.
            arithmetic_intensity: if bytes > 0.0 { ai } else { 0.0 },
            bound,
            time_s,
            dense_flops: None,
        }
    }
}

/// Bit widths of weights, activations and the KV cache (`--w-bits`, `--a-bits`, `--kv-bits`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Precision {
    pub w_bits: u32,
    pub a_bits: u32,
    pub kv_bits: u32,
}

impl Precision {
    /// Widths the tool accepts: the quantisation widths used in practice.
    pub const SUPPORTED_BITS: &'static [u32] = &[1, 2, 3, 4, 5, 6, 8, 16, 32];

    pub(crate) fn w_bytes(&self) -> f64 {
        self.w_bits as f64 / 8.0
    }
    pub(crate) fn a_bytes(&self) -> f64 {
        self.a_bits as f64 / 8.0
    }
    pub(crate) fn kv_bytes(&self) -> f64 {
        self.kv_bits as f64 / 8.0
    }
    /// llm-viewer-cost-model.md: INT8 peak when every width is <= 8 bits, else FP16. (Also
    /// true on the 4-bit path: its GEMMs are low-precision ones, `efficiency.matmul_8bit`.)
    pub fn uses_int8_peak(&self) -> bool {
        self.w_bits <= 8 && self.a_bits <= 8 && self.kv_bits <= 8
    }

    /// Whether every width is <= 4 bits, so a GPU with a 4-bit tensor path (`fp4_peak`) runs
    /// the GEMMs on it (the 8-bit rule above, one step down).
    pub(crate) fn is_four_bit(&self) -> bool {
        self.w_bits <= 4 && self.a_bits <= 4 && self.kv_bits <= 4
    }

    /// The tensor-core path this precision takes on `gpu`: 4-bit where every width is <= 4
    /// and the GPU has `fp4_peak`, else the llm-viewer rule (8-bit, else 16-bit). A GPU without
    /// `fp4_peak` prices 4-bit GEMMs on its 8-bit path, as LLM-Viewer (and so the paper) does.
    pub fn tensor_path(&self, gpu: &Gpu) -> TensorPath {
        if self.is_four_bit() && gpu.fp4_peak.is_some() {
            TensorPath::Fp4
        } else if self.uses_int8_peak() {
            TensorPath::Int8
        } else {
            TensorPath::Fp16
        }
    }
}

/// The tensor-core path a run's GEMMs take, and so the peak its roofline uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TensorPath {
    /// `fp16_peak`.
    Fp16,
    /// `int8_peak` (FP8 or INT8; the datasheets of the presets give them the same dense peak).
    Int8,
    /// `fp4_peak` (NVFP4/MXFP4).
    Fp4,
}

impl TensorPath {
    /// The peak of this path on `gpu`, op/s (`fp4_peak` falls back to `int8_peak` when absent,
    /// which [`Precision::tensor_path`] never picks).
    pub fn peak(self, gpu: &Gpu) -> f64 {
        match self {
            TensorPath::Fp16 => gpu.fp16_peak,
            TensorPath::Int8 => gpu.int8_peak,
            TensorPath::Fp4 => gpu.fp4_peak.unwrap_or(gpu.int8_peak),
        }
    }
}

impl Default for Precision {
    fn default() -> Self {
        Precision {
            w_bits: 16,
            a_bits: 16,
            kv_bits: 16,
        }
    }
}

/// Settings that shape one prefill, independent of the token counts.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunOptions {
    pub batch: u64,
    pub precision: Precision,
    pub flash_attention: bool,
    /// The vision encoder's attention when the run or its framework profile names one (fused:
    /// `true`); `None`: as the LLM's ([`RunOptions::vision_flash`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision_flash_attention: Option<bool>,
    /// How a mixture-of-experts layer runs its experts, when the run or its stack says (an
    /// eager-dispatch profile runs the model's transformers code, `[moe] eager_experts`);
    /// `None`: fused grouped GEMMs over the routed pairs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<crate::experts::ExpertsImpl>,
    /// Refined only: a method's own selection of the visual tokens it keeps, priced before the
    /// LLM or at its pruning layers; `None`: the kept-token counts only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::selection::Selection>,
    /// Drop the second residual add (`mlp_add`) from the totals, as the paper's video runs did.
    pub skip_mlp_add: bool,
    /// Refined only: price the vision encoder, pooling and projector before the LLM.
    pub include_vision: bool,
    /// Refined only: decode steps after the prefill (0 = prefill only).
    pub gen_tokens: u64,
    /// Refined only: tensor-parallel degree (1 = one GPU).
    pub tp: u64,
    /// Refined only: compute logits for every position, not just the last one.
    pub all_logits: bool,
    /// Refined only: how PageRank importance obtains its probabilities.
    pub importance_kernel: ImportanceKernel,
    /// The input's patches and tokens in a resolution-aware vision tower (`--image-size`,
    /// `--video-size`); `None` for fixed-resolution towers and models without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision_input: Option<crate::model::VisionInput>,
}

/// How a PageRank importance kernel obtains the tempered attention probabilities.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ImportanceKernel {
    /// Written once as an H×n×n fp32 matrix and streamed by every power iteration (AIM's code).
    #[default]
    Materialized,
    /// Recomputed from Q and K tile by tile in every iteration; never stored (kernels/pagerank.cu).
    Fused,
}

impl Choice for ImportanceKernel {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (
            ImportanceKernel::Materialized,
            "materialized",
            "Written once as an H×n×n fp32 matrix and streamed by every power iteration (AIM's code)",
        ),
        (
            ImportanceKernel::Fused,
            "fused",
            "Recomputed from Q and K tile by tile in every iteration; never stored (kernels/pagerank.cu)",
        ),
    ];
}

impl RunOptions {
    /// Whether the vision encoder's attention is fused: as the run or profile says, else as
    /// the LLM's.
    pub fn vision_flash(&self) -> bool {
        self.vision_flash_attention.unwrap_or(self.flash_attention)
    }
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            batch: 1,
            precision: Precision::default(),
            flash_attention: false,
            vision_flash_attention: None,
            experts: None,
            selection: None,
            skip_mlp_add: false,
            include_vision: false,
            gen_tokens: 0,
            tp: 1,
            all_logits: false,
            importance_kernel: ImportanceKernel::Materialized,
            vision_input: None,
        }
    }
}

/// Everything a cost model reads besides the token counts.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    pub model: &'a Model,
    pub gpu: &'a Gpu,
    pub options: &'a RunOptions,
}

impl Context<'_> {
    /// The roofline at this run's precision.
    pub fn roofline(&self) -> Roofline {
        let peak = self.options.precision.tensor_path(self.gpu).peak(self.gpu);
        Roofline {
            peak_flops_per_s: peak,
            bandwidth_bytes_per_s: self.gpu.bandwidth,
        }
    }
}

/// One decoder layer's operators and their sums.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LayerCost {
    pub layer: usize,
    pub tokens: u64,
    pub flops: f64,
    pub bytes: f64,
    pub arithmetic_intensity: f64,
    /// `compute` when compute-bound operators take most of the layer's time.
    pub bound: Bound,
    pub time_s: f64,
    pub operators: Vec<TimedOp>,
}

impl LayerCost {
    /// Sums timed operators into a layer.
    pub fn new(layer: usize, tokens: u64, operators: Vec<TimedOp>) -> LayerCost {
        let flops = operators.iter().map(|o| o.op.flops).sum::<f64>();
        let bytes = operators.iter().map(|o| o.bytes).sum::<f64>();
        let time_s = operators.iter().map(|o| o.time_s).sum::<f64>();
        let compute_s: f64 = operators
            .iter()
            .filter(|o| o.bound == Bound::Compute)
            .map(|o| o.time_s)
            .sum();
        LayerCost {
            layer,
            tokens,
            flops,
            bytes,
            arithmetic_intensity: if bytes > 0.0 { flops / bytes } else { 0.0 },
            bound: if compute_s >= time_s - compute_s {
                Bound::Compute
            } else {
                Bound::Memory
            },
            time_s,
            operators,
        }
    }
}

/// Totals of one prefill.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Totals {
    pub flops: f64,
    pub bytes: f64,
    pub time_s: f64,
    /// LLM-Viewer's "memory consumption": layer weights + KV cache stored + the last layer's
    /// stored activations (llm-viewer-cost-model.md, "Whole prefill").
    pub memory_consumption_bytes: f64,
    pub load_weight_bytes: f64,
    pub load_act_bytes: f64,
    pub store_act_bytes: f64,
    pub load_kv_bytes: f64,
    pub store_kv_bytes: f64,
    /// `flops` with attention counted dense (`n²`), as papers quote it; refined model only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dense_flops: Option<f64>,
    /// 80 % prediction interval of `time_s` `[low, high]` under a fitted framework profile
    /// (its `[spread]`, docs/accuracy.md); absent for the roofline, which is a bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_interval_s: Option<[f64; 2]>,
}

impl Totals {
    /// Adds one operator's work and time.
    #[inline]
    pub fn add(&mut self, op: &TimedOp) {
        self.flops += op.op.flops;
        self.bytes += op.bytes;
        self.time_s += op.time_s;
        self.load_weight_bytes += op.op.load_weight_bytes;
        self.load_act_bytes += op.op.load_act_bytes;
        self.store_act_bytes += op.op.store_act_bytes;
        self.load_kv_bytes += op.op.load_kv_bytes;
        self.store_kv_bytes += op.op.store_kv_bytes;
    }

    /// Adds the work and time of other totals (a layer's, summed apart).
    #[inline]
    pub(crate) fn add_totals(&mut self, o: &Totals) {
        self.flops += o.flops;
        self.bytes += o.bytes;
        self.time_s += o.time_s;
        self.load_weight_bytes += o.load_weight_bytes;
        self.load_act_bytes += o.load_act_bytes;
        self.store_act_bytes += o.store_act_bytes;
        self.load_kv_bytes += o.load_kv_bytes;
        self.store_kv_bytes += o.store_kv_bytes;
    }
}

/// The cost of one prefill: per-layer operators, the head, and the totals.
/// The optional parts are filled by the refined model only.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RunCost {
    /// Work before the first decoder layer (merging, vision encoder); empty in `llm-viewer`.
    pub stages: Vec<TimedOp>,
    pub layers: Vec<LayerCost>,
    /// Work after the last layer (the LM head).
    pub head: Vec<TimedOp>,
    pub totals: Totals,
    /// Time split by pipeline stage: vision, merge, LLM, importance, TTFT, decode.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pipeline: Option<Pipeline>,
    /// KV-cache bytes each layer holds after the prefill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_cache: Option<KvCache>,
    /// `--gen-tokens` decode steps after the prefill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode: Option<Decode>,
    /// Peak device memory during the prefill.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_memory: Option<PeakMemory>,
    /// Expert use of a mixture-of-experts prefill (refined, MoE models only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<ExpertUse>,
    /// How timings were derived: ideal roofline or the GPU file's `[efficiency]` table.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub calibration: Option<String>,
    /// Modelling choices that shape these figures (e.g. importance recomputed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Results the user should act on (e.g. peak memory above the GPU's); always present.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// A way of turning a model, a device and per-layer token counts into operator costs.
pub trait CostModel: Sync {
    /// The `--cost-model` name.
    fn name(&self) -> &'static str;
    /// Prices a prefill whose layer `i` processes `layer_tokens[i]` tokens.
    fn run(&self, ctx: &Context, layer_tokens: &[u64]) -> RunCost;
    /// Prices a prefill knowing the whole workload (input before merging, how pruning is
    /// decided). Models that only need the per-layer counts keep this default.
    fn run_workload(&self, ctx: &Context, workload: &Workload) -> RunCost {
        self.run(ctx, workload.layer_tokens)
    }
    /// The totals of [`CostModel::run_workload`] alone, the same figures bit for bit, without
    /// the per-layer and per-operator lists, notes or labels (what a sweep row needs).
    fn run_totals(&self, ctx: &Context, workload: &Workload) -> Totals {
        self.run_workload(ctx, workload).totals
    }
    /// [`CostModel::run_totals`], the same figures bit for bit, reusing the layer sums of
    /// earlier prefills kept in `cache` where this model keeps any (the refined one; a sweep's
    /// rows share one per worker).
    fn run_totals_cached(
        &self,
        ctx: &Context,
        workload: &Workload,
        cache: &mut LayerCache,
    ) -> Totals {
        let _ = cache;
        self.run_totals(ctx, workload)
    }
}
