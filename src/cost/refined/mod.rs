//! The `refined` cost model: what an AIM prefill really costs on a GPU, end to end.
//!
//! Where it departs from `llm-viewer` (docs/cost-models.md lists every operator):
//! - linear layers with their biases (`2 · params · n` FLOPs), RoPE, two-operand residuals,
//!   SwiGLU over the intermediate width, logits for the last position only (`2·h·V`);
//! - causal FlashAttention-2 by default ([`layer::flash_attention`]), eager on request;
//! - importance work at each pruning layer ([`importance`]), per-frame merging and the vision
//!   encoder as stages before the LLM ([`stages`]);
//! - KV cache, decode ([`decode`]), peak memory, tensor parallelism, calibration.
//!
//! Pipeline: stages (vision → merge) → decoder layers (+ importance) → head; then decode.

mod cache;
mod decode;
pub mod decoder;
pub(crate) mod dispatch;
pub(crate) mod importance;
pub mod kernel;
pub mod layer;
mod moe;
mod selection;
pub(crate) mod stages;
mod vision;

use super::{
    Context, CostModel, Each, KvCache, LayerCost, LayerMemo, OpKind, PeakMemory, Pipeline, RunCost,
    Sink, TimedOp, Totals, Workload,
};
use kernel::{ByName, Kernel, Timer};
use layer::{Dims, FLASH_BLOCK_COLS, FLASH_BLOCK_ROWS, FP32_BYTES};

pub use cache::LayerCache;
pub use importance::{PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE};
pub use selection::flowcut_fits_tower;

/// Marker type for the `refined` cost model.
pub struct Refined;

impl CostModel for Refined {
    fn name(&self) -> &'static str {
        "refined"
    }

    fn run(&self, ctx: &Context, layer_tokens: &[u64]) -> RunCost {
        self.run_workload(ctx, &Workload::from_layer_tokens(layer_tokens))
    }

    fn run_workload(&self, ctx: &Context, w: &Workload) -> RunCost {
        let arch = decoder::Arch::new(ctx);
        let mut detail = Detail::default();
        let priced = price(ctx, w, &mut detail);
        let Priced {
            d,
            timer,
            totals,
            peak,
        } = priced;
        let Detail {
            stages: stage_ops,
            layers,
            head,
            mut notes,
            mut warnings,
            ..
        } = detail;

        // KV cache, decode, memory.
        let kv_per_layer: Vec<f64> = w
            .layer_tokens
            .iter()
            .map(|&n| d.kv_bytes(n as f64))
            .collect();
        let kv_cache = KvCache {
            total_bytes: kv_per_layer.iter().sum(),
            bytes_per_layer: kv_per_layer,
        };
        let decode = (ctx.options.gen_tokens > 0)
            .then(|| decode::decode(&d, &arch, &timer, w.layer_tokens, ctx.options.gen_tokens));
        let peak = peak.report();
        if peak.peak_bytes > peak.device_bytes {
            // Decimals enough to tell the two apart: "25.8 GB exceeds the GPU's 25.8 GB".
            let digits = (1..=4)
                .find(|&d| {
                    format!("{:.d$}", peak.peak_bytes / 1e9)
                        != format!("{:.d$}", peak.device_bytes / 1e9)
                })
                .unwrap_or(4);
            let device = match ctx.gpu.os_memory_bytes {
                Some(os) => format!(
                    "the {:.digits$} GB of shared memory left after the {:.1} GB assumed for the OS (os_memory_bytes)",
                    peak.device_bytes / 1e9,
                    os / 1e9
                ),
                None => format!("the GPU's {:.digits$} GB", peak.device_bytes / 1e9),
            };
            warnings.push(format!(
                "peak memory {:.digits$} GB exceeds {device} ({}): {}",
                peak.peak_bytes / 1e9,
                peak.activations_at,
                memory_advice(ctx, &peak)
            ));
        }
        // The prefill's peak does not see the KV cache that decode grows (issue 24): the
        // weights and the last step's cache must fit as well.
        if let Some(dec) = &decode {
            let end_bytes = peak.weights_bytes + dec.final_kv_cache_bytes;
            if end_bytes > peak.device_bytes && peak.peak_bytes <= peak.device_bytes {
                warnings.push(format!(
                    "after {} decode steps the KV cache is {:.1} GB: with the weights {:.1} GB, more than the GPU's {:.1} GB; use fewer {}, {} 8 or {}",
                    dec.gen_tokens,
                    dec.final_kv_cache_bytes / 1e9,
                    end_bytes / 1e9,
                    peak.device_bytes / 1e9,
                    crate::error::keys::GEN_TOKENS,
                    crate::error::keys::KV_BITS,
                    crate::error::keys::TP
                ));
            }
        }

        let pipeline = pipeline(&stage_ops, &layers, &head, &totals, decode.as_ref());
        notes.extend(model_notes(ctx, w));
        RunCost {
            stages: stage_ops,
            layers,
            head,
            totals,
            pipeline: Some(pipeline),
            kv_cache: Some(kv_cache),
            decode,
            peak_memory: Some(peak),
            experts: arch.expert_use(&d, w.layer_tokens),
            calibration: Some(calibration(ctx)),
            notes,
            warnings,
        }
    }

    fn run_totals(&self, ctx: &Context, w: &Workload) -> Totals {
        price(ctx, w, &mut TotalsOnly).totals
    }

    fn run_totals_cached(&self, ctx: &Context, w: &Workload, cache: &mut LayerCache) -> Totals {
        if cache.serves(ctx) {
            price(ctx, w, &mut Cached(cache)).totals
        } else {
            price(ctx, w, &mut TotalsOnly).totals
        }
    }
}

/// A kernel as the refined model priced it: what it computes and moves, what a GPU launches
/// for it ([`Kernel::call`]), and its time under the run's [`Timer`].
#[derive(Debug, Clone, PartialEq)]
pub struct PricedKernel {
    pub kernel: Kernel,
    pub time_s: f64,
}

/// The kernels of one decoder layer, in execution order (the pruning layer's importance work
/// last).
#[derive(Debug, Clone, PartialEq)]
pub struct LayerKernels {
    pub layer: usize,
    pub tokens: u64,
    pub kernels: Vec<PricedKernel>,
}

/// Every kernel of one prefill as the refined model prices it: the one description of a prefill
/// that `aim-sim measure`, `calibrate` and `fit` time (issue 22). Decode is not included.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelList {
    /// Work before the LLM (vision encoder, merging), each kernel as built (the report sums
    /// these by name).
    pub stages: Vec<PricedKernel>,
    pub layers: Vec<LayerKernels>,
    /// Final norm, LM head (and host overhead when the profile has one).
    pub head: Vec<PricedKernel>,
    /// The same totals the report of this run has.
    pub totals: Totals,
}

impl KernelList {
    /// Every kernel, in the order priced.
    pub fn all(&self) -> impl Iterator<Item = &PricedKernel> {
        self.stages
            .iter()
            .chain(self.layers.iter().flat_map(|l| &l.kernels))
            .chain(&self.head)
    }
}

/// The kernels `ctx` and `w` price into, each with its time: the same builders, timer and order
/// as [`Refined::run_workload`] (every layer priced afresh, none reused).
pub fn kernel_list(ctx: &Context, w: &Workload) -> KernelList {
    let mut keep = Kernels {
        stages: Vec::new(),
        current: Vec::new(),
        layers: Vec::new(),
        head: Vec::new(),
    };
    let totals = price(ctx, w, &mut keep).totals;
    KernelList {
        stages: keep.stages,
        layers: keep.layers,
        head: keep.head,
        totals,
    }
}

/// What a pricing pass keeps besides the totals: everything for a report ([`Detail`]), or
/// nothing ([`TotalsOnly`], a sweep row). Text is passed as closures, built only when kept.
trait Keep {
    /// Whether anything is kept (else the operators need not even be copied).
    const DETAIL: bool;
    /// Whether every kernel is kept as built ([`kernel_list`]): then no layer reuses another's
    /// sums.
    const KERNELS: bool = false;
    /// A kernel as built, with its time (only when [`Keep::KERNELS`]).
    fn kernel(&mut self, _part: Part, _k: PricedKernel) {}
    /// A stage operator (work before the LLM), summed over passes by name.
    fn stage(&mut self, op: TimedOp);
    /// An operator of the current decoder layer.
    fn layer_op(&mut self, op: TimedOp);
    /// The current layer is complete.
    fn end_layer(&mut self, layer: usize, tokens: u64);
    fn head_op(&mut self, op: TimedOp);
    fn note(&mut self, text: impl FnOnce() -> String);
    fn warning(&mut self, text: impl FnOnce() -> String);
    /// The sums of the kernels of an earlier layer of `(tokens, routed)`, importance work
    /// left out, if kept ([`Cached`] only; the memo within one prefill is apart from this).
    fn cached(&self, _tokens: u64, _routed: bool) -> Option<Sums> {
        None
    }
    /// The kernels of a layer of `(tokens, routed)` summed to `sums` (before any importance
    /// work).
    fn priced(&mut self, _tokens: u64, _routed: bool, _sums: &Sums) {}
}

/// Where a kept kernel belongs.
#[derive(Clone, Copy)]
enum Part {
    Stage,
    Layer,
    Head,
}

/// Every kernel as built ([`kernel_list`]).
struct Kernels {
    stages: Vec<PricedKernel>,
    current: Vec<PricedKernel>,
    layers: Vec<LayerKernels>,
    head: Vec<PricedKernel>,
}

impl Keep for Kernels {
    const DETAIL: bool = false;
    const KERNELS: bool = true;
    fn kernel(&mut self, part: Part, k: PricedKernel) {
        match part {
            Part::Stage => self.stages.push(k),
            Part::Layer => self.current.push(k),
            Part::Head => self.head.push(k),
        }
    }
    fn stage(&mut self, _: TimedOp) {}
    fn layer_op(&mut self, _: TimedOp) {}
    fn end_layer(&mut self, layer: usize, tokens: u64) {
        self.layers.push(LayerKernels {
            layer,
            tokens,
            kernels: std::mem::take(&mut self.current),
        });
    }
    fn head_op(&mut self, _: TimedOp) {}
    fn note(&mut self, _: impl FnOnce() -> String) {}
    fn warning(&mut self, _: impl FnOnce() -> String) {}
}

/// Every operator, layer, note and warning: the parts of a [`RunCost`].
#[derive(Default)]
struct Detail {
    stages: Vec<TimedOp>,
    layer_ops: Vec<TimedOp>,
    layers: Vec<LayerCost>,
    head: Vec<TimedOp>,
    notes: Vec<String>,
    warnings: Vec<String>,
}

impl Keep for Detail {
    const DETAIL: bool = true;
    fn stage(&mut self, op: TimedOp) {
        self.stages.push(op);
    }
    fn layer_op(&mut self, op: TimedOp) {
        self.layer_ops.push(op);
    }
    fn end_layer(&mut self, layer: usize, tokens: u64) {
        let ops = std::mem::take(&mut self.layer_ops);
        self.layers.push(LayerCost::new(layer, tokens, ops));
    }
    fn head_op(&mut self, op: TimedOp) {
        self.head.push(op);
    }
    fn note(&mut self, text: impl FnOnce() -> String) {
        self.notes.push(text());
    }
    fn warning(&mut self, text: impl FnOnce() -> String) {
        self.warnings.push(text());
    }
}

/// Keeps nothing: the totals alone.
struct TotalsOnly;

impl Keep for TotalsOnly {
    const DETAIL: bool = false;
    fn stage(&mut self, _: TimedOp) {}
    fn layer_op(&mut self, _: TimedOp) {}
    fn end_layer(&mut self, _: usize, _: u64) {}
    fn head_op(&mut self, _: TimedOp) {}
    fn note(&mut self, _: impl FnOnce() -> String) {}
    fn warning(&mut self, _: impl FnOnce() -> String) {}
}

/// Keeps nothing but the layer sums, across prefills ([`LayerCache`], bound to this run's
/// context by the caller).
struct Cached<'a>(&'a mut LayerCache);

impl Keep for Cached<'_> {
    const DETAIL: bool = false;
    fn stage(&mut self, _: TimedOp) {}
    fn layer_op(&mut self, _: TimedOp) {}
    fn end_layer(&mut self, _: usize, _: u64) {}
    fn head_op(&mut self, _: TimedOp) {}
    fn note(&mut self, _: impl FnOnce() -> String) {}
    fn warning(&mut self, _: impl FnOnce() -> String) {}
    #[inline]
    fn cached(&self, tokens: u64, routed: bool) -> Option<Sums> {
        self.0.get(tokens, routed).cloned()
    }
    #[inline]
    fn priced(&mut self, tokens: u64, routed: bool, sums: &Sums) {
        self.0.put(tokens, routed, sums);
    }
}

/// What every pricing pass returns, whatever it keeps.
struct Priced {
    d: Dims,
    timer: Timer,
    /// With `dense_flops` and `memory_consumption_bytes` (the peak) filled in.
    totals: Totals,
    peak: Peak,
}

/// Running sums of the timed operators, in the order they are priced: stages, layers (each
/// summed apart first, so an identical layer adds its sums once), head.
#[derive(Clone)]
struct Sums {
    totals: Totals,
    /// `dense_flops − flops` of stages and layers; starts at −0.0 as `f64: Sum` does, so the
    /// sum is that of the iterator it replaced, bit for bit.
    dense_extra_flops: f64,
}

impl Sums {
    fn new() -> Sums {
        Sums {
            totals: Totals::default(),
            dense_extra_flops: -0.0,
        }
    }

    #[inline(always)]
    fn add(&mut self, o: &TimedOp, dense: bool) {
        self.totals.add(o);
        if dense {
            if let Some(f) = o.dense_flops {
                self.dense_extra_flops += f - o.op.flops;
            }
        }
    }

    /// Adds a layer's sums.
    #[inline(always)]
    fn add_sums(&mut self, o: &Sums) {
        self.totals.add_totals(&o.totals);
        self.dense_extra_flops += o.dense_extra_flops;
    }
}

/// Where a decoder layer's kernels go: timed, added to the layer's sums, recorded for reuse
/// and kept as `K` keeps them. A sink type rather than a closure so that `push` is inlined
/// where each kernel is built: through a call, the kernel made a round trip through memory
/// that stalled on store forwarding (a third of a sweep's time).
struct LayerSink<'a, K> {
    timer: &'a Timer,
    sums: &'a mut Sums,
    memo: &'a mut LayerMemo<TimedOp>,
    keep: &'a mut K,
}

impl<K: Keep> Sink<Kernel> for LayerSink<'_, K> {
    #[inline(always)]
    fn push(&mut self, k: Kernel) {
        let kept = K::KERNELS.then(|| k.clone());
        let t = self.timer.time(k);
        if let Some(kernel) = kept {
            let time_s = t.time_s;
            self.keep
                .kernel(Part::Layer, PricedKernel { kernel, time_s });
        }
        self.sums.add(&t, true);
        if K::DETAIL {
            self.memo.record(&t);
        }
        self.keep.layer_op(t);
    }
}

/// One prefill priced: every kernel built by the same functions, timed by the same [`Timer`]
/// and added to the totals in the same order (stages summed by name, layers, head), whatever
/// `keep` keeps, so the totals-only pass equals the report's totals bit for bit.
fn price<K: Keep>(ctx: &Context, w: &Workload, keep: &mut K) -> Priced {
    let d = Dims::new(ctx);
    let arch = decoder::Arch::new(ctx);
    let timer = Timer::for_context(ctx);
    let opts = ctx.options;
    let flash = opts.flash_attention;
    let vision_flash = opts.vision_flash();
    let vision_run = match vision_flash {
        true => layer::AttentionRun::Flash(d.l2),
        false => layer::AttentionRun::Eager,
    };
    let mut memory = MemoryTracker::default();
    let mut sums = Sums::new();

    // Stages before the LLM: vision encoder (optional), then per-frame merging.
    let mut stages = ByName::new();
    // Kept as built for a kernel list (the report sums them by name).
    let mut stage_list: Vec<PricedKernel> = Vec::new();
    let mut stage_kernels = Each(|k: Kernel| {
        let kept = K::KERNELS.then(|| k.clone());
        let t = timer.time(k);
        if let Some(kernel) = kept {
            let time_s = t.time_s;
            stage_list.push(PricedKernel { kernel, time_s });
        }
        stages.add(t)
    });
    let mut vision_params = 0.0;
    // The visual tokens a selection keeps: layer 0's, less the text (the scenario checked
    // there are fewer than the input's).
    let selected = w
        .layer_tokens
        .first()
        .map_or(0, |&n| n.saturating_sub(w.input.text_tokens));
    // A text-only prompt (0 frames) has nothing to encode.
    if let (true, Some(v), true, Some(input)) = (
        opts.include_vision,
        &ctx.model.vision,
        w.input.frames > 0,
        opts.vision_input.filter(|_| {
            ctx.model.vision.as_ref().is_some_and(|v| {
                matches!(
                    v.resize,
                    Some(crate::model::Resize::Smart(_) | crate::model::Resize::Tiles(_))
                )
            })
        }),
    ) {
        // A resolution-aware tower: the patches follow from the input's resolution.
        let frames = w.input.frames * opts.batch;
        if w.input.tokens_per_frame != input.tokens_per_frame {
            keep.warning(|| format!(
                "--include-vision: the LLM gets {} tokens per frame but {} yields {} at {}x{}: priced the encoder at that resolution",
                w.input.tokens_per_frame, v.name, input.tokens_per_frame, input.width, input.height
            ));
        }
        stage_kernels.push_all(vision::tower(v, &input, frames, d.h, d.a, d.w, vision_run));
        vision_params = vision::tower_params(v, d.h);
        memory.vision_activation_bytes =
            vision::activation_bytes(v, &input, frames, d.a, vision_flash);
        keep.note(|| {
            format!(
                "vision: {} × {} pass(es) of {}x{} patches, not split across GPUs",
                v.name,
                frames * input.passes_per_frame,
                input.grid_w,
                input.grid_h
            )
        });
    } else if let (true, Some(v), true) =
        (opts.include_vision, &ctx.model.vision, w.input.frames > 0)
    {
        // The classic tower (CLIP, SigLIP) over whole images; LLaVA-NeXT's anyres runs it over
        // the base image and each crop, and the LLM's tokens are those patches unpadded (a
        // slice, no pooling) plus newlines.
        let (images, per_image, what) = match opts.vision_input {
            Some(input) => {
                if let (Some(crate::model::Resize::Anyres(any)), Some(side)) =
                    (&v.resize, v.image_size)
                {
                    let most = any.most_passes(side);
                    if input.passes_per_frame > most {
                        keep.warning(|| format!(
                            "--include-vision: {} tokens per image are more than the largest anyres grid yields (the base image and {} crops); priced {} encoder passes",
                            input.tokens_per_frame, most - 1, input.passes_per_frame
                        ));
                    }
                }
                (
                    w.input.frames * input.passes_per_frame,
                    // Fewer tokens than a pass's patches: the pass pooled to them.
                    input.patches_per_pass().min(input.tokens_per_frame),
                    match input.passes_per_frame {
                        1 => format!("pass(es) of {} patches", v.patches_per_frame),
                        passes => format!(
                            "pass(es) of {} patches (base image + {} crop(s) each)",
                            v.patches_per_frame,
                            passes - 1
                        ),
                    },
                )
            }
            None => {
                let per_image = ctx.model.tokens_per_frame;
                // The tower pools its patches down to the LLM's tokens: more tokens than
                // patches is a model file whose two keys disagree (it ran without a word).
                if per_image > v.patches_per_frame {
                    keep.warning(|| format!(
                        "--include-vision: model '{}' takes {per_image} tokens per frame into the LLM (tokens_per_frame), more than the {} patches its {} tower yields per frame (vision.patches_per_frame): the tower is priced on {} patches a frame, unpooled, and the LLM on {per_image}; tokens per frame are the patches after pooling (SigLIP-384's 729 pooled to 196), so check both keys",
                        ctx.model.name, v.patches_per_frame, v.name, v.patches_per_frame
                    ));
                }
                let images = w.input.frames * w.input.tokens_per_frame.div_ceil(per_image);
                if !w.input.tokens_per_frame.is_multiple_of(per_image) {
                    keep.warning(|| format!(
                        "--include-vision: {} tokens per frame is not a multiple of the {per_image} one {} pass yields; priced {images} encoder passes",
                        w.input.tokens_per_frame, v.name
                    ));
                }
                let what = format!("image(s) of {} patches", v.patches_per_frame);
                (images, per_image, what)
            }
        };
        // FlowCut prunes inside the tower: its layers run on fewer tokens as they go.
        let layer_seq = (w.selection == Some(crate::selection::Selection::FlowCut)).then(|| {
            selection::flowcut_tower_tokens(
                v.num_layers,
                v.patches_per_frame as f64,
                (selected as f64 / images.max(1) as f64).floor(),
            )
        });
        stages::vision(
            v,
            images * opts.batch,
            per_image,
            d.h,
            d.a,
            d.w,
            vision_run,
            layer_seq.as_deref(),
            &mut stage_kernels,
        );
        vision_params = stages::vision_params(v, d.h);
        memory.vision_activation_bytes =
            stages::vision_activation_bytes(v, images * opts.batch, d.a, vision_flash);
        keep.note(|| {
            format!(
                "vision: {} × {images} {what}, not split across GPUs",
                v.name
            )
        });
    }
    if opts.include_vision && vision_flash != flash {
        keep.note(|| {
            if vision_flash {
                "vision encoder: fused attention (vision_attention); the LLM's attention is eager"
                    .to_string()
            } else {
                "vision encoder: eager attention, n² scores written, as the LLaVA code runs SigLIP/CLIP (vision_attention); the LLM's attention is fused".to_string()
            }
        });
    }
    if w.merges() {
        stages::merge(
            w.input.frames * opts.batch,
            w.input.tokens_per_frame,
            w.merged_tokens_per_frame,
            d.h,
            d.a,
            &mut stage_kernels,
        );
    }
    if let Some(method) = w.selection.filter(|m| !m.inside_llm()) {
        let candidates = w.input.visual_tokens();
        stage_kernels.push_all(selection::kernels(
            method,
            candidates as f64,
            selected as f64,
            w.input.frames.max(1) as f64,
            d.h,
            d.a,
            w.input.text_tokens,
            opts.batch as f64,
        ));
        keep.note(|| {
            format!(
                "selection: {} keeping {selected} of {candidates} visual tokens, priced before the LLM with the merging (as its released code runs it)",
                crate::choice::Choice::name(method)
            )
        });
    }
    for k in stage_list {
        keep.kernel(Part::Stage, k);
    }
    for o in stages.finish() {
        sums.add(&o, true);
        keep.stage(o);
    }

    // Decoder layers, with the importance work at each pruning layer. A layer like the one
    // before it (same tokens, neither a pruning layer) reuses its sums (and its timed
    // operators, when they are kept).
    let text = w.input.text_tokens;
    let mut memo = LayerMemo::<TimedOp>::default();
    let mut memo_sums = Sums::new();
    // A kernel list must see every layer's kernels.
    let reuse = !K::KERNELS;
    for (i, &n) in w.layer_tokens.iter().enumerate() {
        let step = w.prune_step(i);
        let routed = arch.routes(i);
        let memo_reuse = reuse && step.is_none() && memo.holds(n, routed);
        // An earlier prefill's layer of these tokens: the sums of its kernels (before any
        // importance work), as pricing them again adds them.
        let earlier = match memo_reuse {
            false if !K::DETAIL && !K::KERNELS => keep.cached(n, routed),
            _ => None,
        };
        let map_bytes = if memo_reuse {
            sums.add_sums(&memo_sums);
            if K::DETAIL {
                for t in memo.ops() {
                    keep.layer_op(t.clone());
                }
            }
            0.0
        } else {
            memo.start(step.is_none().then_some((n, routed)));
            let layer_sums = match earlier {
                Some(earlier) => earlier,
                None => {
                    let mut layer_sums = Sums::new();
                    let mut ops = LayerSink {
                        timer: &timer,
                        sums: &mut layer_sums,
                        memo: &mut memo,
                        keep,
                    };
                    let attention = |ops: &mut LayerSink<K>| {
                        if flash {
                            ops.push(layer::flash_attention(&d, n));
                        } else {
                            ops.push_all(layer::eager_attention(&d, n));
                        }
                    };
                    if arch.is_plain() {
                        layer::emit_layer_ops(&d, n as f64, attention, &mut ops);
                    } else {
                        let attention = if flash {
                            vec![layer::flash_attention(&d, n)]
                        } else {
                            layer::eager_attention(&d, n).to_vec()
                        };
                        ops.push_all(arch.layer_ops(&d, i, n as f64, attention));
                    }
                    keep.priced(n, routed, &layer_sums);
                    layer_sums
                }
            };
            let mut layer_sums = layer_sums;
            let map_bytes = match step {
                Some(step) => {
                    // A pruning layer: the schedule's importance rule, then a method's own
                    // selection when it selects inside the LLM.
                    let mut sink = LayerSink {
                        timer: &timer,
                        sums: &mut layer_sums,
                        memo: &mut memo,
                        keep,
                    };
                    let map_bytes = importance::importance(
                        &d,
                        step,
                        text,
                        w.importance,
                        flash,
                        opts.importance_kernel,
                        &mut sink,
                    );
                    // A method that selects before the LLM may cut again inside it
                    // (FlowCut on LLaVA-NeXT): `at_pruning_layer` prices what its code runs.
                    if let Some(method) = w.selection {
                        sink.push_all(selection::at_pruning_layer(
                            method,
                            &d,
                            step,
                            text,
                            w.layer_tokens.len(),
                        ));
                    }
                    map_bytes
                }
                None => 0.0,
            };
            sums.add_sums(&layer_sums);
            memo_sums = layer_sums;
            map_bytes
        };
        let mlp_bytes = arch.mlp_activation_bytes(&d, i, n as f64);
        memory.layer(i, n, &d, flash, map_bytes, mlp_bytes);
        keep.end_layer(i, n);
    }

    // Head: final norm and logits for the last position (or all of them).
    let last = w.layer_tokens.last().copied().unwrap_or(0) as f64;
    let rows = if opts.all_logits { last } else { 1.0 };
    let mut head = Each(|k: Kernel| {
        let kept = K::KERNELS.then(|| k.clone());
        let t = timer.time(k);
        if let Some(kernel) = kept {
            let time_s = t.time_s;
            keep.kernel(Part::Head, PricedKernel { kernel, time_s });
        }
        sums.add(&t, false);
        keep.head_op(t);
    });
    layer::emit_head_ops(&d, last, rows, &mut head);
    if ctx
        .gpu
        .efficiency
        .as_ref()
        .is_some_and(|e| e.fixed_overhead_s > 0.0)
    {
        // Host work of the forward (framework set-up, sampling), once per run.
        head.push(kernel::kernel(
            "host_overhead",
            OpKind::Host,
            kernel::Class::Host,
            0.0,
            kernel::Call::Host,
        ));
    }
    memory.head(last, rows, &d);

    let mut totals = sums.totals;
    totals.dense_flops = Some(totals.flops + sums.dense_extra_flops);
    let kv_total_bytes: f64 = w.layer_tokens.iter().map(|&n| d.kv_bytes(n as f64)).sum();
    let weights_bytes = (arch.layers_params(&d, w.layer_tokens.len())
        + 2.0 * d.h * d.vocab / d.tp // embedding and LM head, vocabulary-parallel
        + d.h)
        * d.w
        + vision_params * d.w;
    // A GPU sharing its memory with the CPU (Jetson) leaves the OS its share.
    let peak = memory.peak(weights_bytes, kv_total_bytes, ctx.gpu.model_memory_bytes());
    totals.memory_consumption_bytes = peak.peak_bytes;
    Priced {
        d,
        timer,
        totals,
        peak,
    }
}

/// What would bring the peak down, given what holds it (options named by key: the command
/// line says flags, Python keywords).
fn memory_advice(ctx: &Context, peak: &PeakMemory) -> String {
    use crate::error::keys::{ATTENTION, IMPORTANCE_KERNEL, KV_BITS, TP, W_BITS};
    let o = ctx.options;
    if peak.weights_bytes > peak.device_bytes {
        // No activation saving helps when the weights alone do not fit.
        if ctx.gpu.interconnect_bandwidth.is_none() {
            // No GPU-to-GPU link (a Jetson): tensor parallelism is refused there, so it is not
            // advised.
            format!("the weights alone do not fit: use fewer {W_BITS} or a GPU with more memory")
        } else {
            format!(
                "the weights alone do not fit: use {TP} (split them over GPUs) or fewer {W_BITS}"
            )
        }
    } else if ctx.gpu.interconnect_bandwidth.is_none() {
        // No GPU-to-GPU link (a Jetson): tensor parallelism is refused there, so it is not
        // advised.
        format!("use fewer frames or fewer bits ({W_BITS}/{KV_BITS}), or {ATTENTION} flash and {IMPORTANCE_KERNEL} fused")
    } else if peak.activations_at.contains("importance")
        && o.importance_kernel == super::ImportanceKernel::Materialized
    {
        format!("use {IMPORTANCE_KERNEL} fused (no n² importance map), {TP} or fewer frames")
    } else if peak.attention_map_bytes > 0.0 && !o.flash_attention {
        format!("use {ATTENTION} flash (no n² attention map), {TP} or fewer frames")
    } else {
        format!("use {TP}, fewer frames or fewer bits ({W_BITS}/{KV_BITS})")
    }
}

/// Time and FLOPs by pipeline stage.
fn pipeline(
    stages: &[TimedOp],
    layers: &[LayerCost],
    head: &[TimedOp],
    totals: &Totals,
    decode: Option<&super::Decode>,
) -> Pipeline {
    let sum = |ops: &mut dyn Iterator<Item = &TimedOp>, kind: Option<OpKind>| -> (f64, f64) {
        ops.filter(|o| kind.is_none_or(|k| o.op.kind == k))
            .fold((0.0, 0.0), |(t, f), o| (t + o.time_s, f + o.op.flops))
    };
    let llm = || layers.iter().flat_map(|l| &l.operators).chain(head);
    let (vision_time_s, vision_flops) = sum(&mut stages.iter(), Some(OpKind::Vision));
    let (merge_time_s, merge_flops) = sum(&mut stages.iter(), Some(OpKind::Merge));
    let (llm_time_s, llm_flops) = sum(&mut llm(), None);
    let (importance_time_s, importance_flops) = sum(&mut llm(), Some(OpKind::Prune));
    let (communication_time_s, _) = sum(&mut llm(), Some(OpKind::Communication));
    let decode_time_s = decode.map_or(0.0, |d| d.time_s);
    Pipeline {
        vision_time_s,
        vision_flops,
        merge_time_s,
        merge_flops,
        llm_time_s,
        llm_flops,
        importance_time_s,
        importance_flops,
        communication_time_s,
        ttft_s: totals.time_s,
        decode_time_s,
        end_to_end_time_s: totals.time_s + decode_time_s,
    }
}

/// A share of a peak in percent: whole numbers, but a share under 1 % keeps two significant
/// digits (an efficiency of 0.001 read "0 % of peak").
fn share(x: f64) -> String {
    let p = x * 100.0;
    if p >= 1.0 || p <= 0.0 {
        format!("{p:.0}")
    } else {
        let digits = (1.0 - p.log10().floor()).max(1.0) as usize;
        format!("{p:.digits$}")
    }
}

/// Says how times were derived (the calibration hook of the GPU file).
fn calibration(ctx: &Context) -> String {
    match &ctx.gpu.efficiency {
        None => format!(
            "ideal roofline: {} has no [efficiency] table, so every kernel runs at peak compute or peak bandwidth with no launch overhead; real frameworks are slower: --framework trtllm, hf or hf-eager gives times fitted to published measurements (docs/accuracy.md)",
            ctx.gpu.name
        ),
        Some(e) => {
            let source = e
                .source
                .clone()
                .unwrap_or_else(|| format!("the [efficiency] table of {}", ctx.gpu.name));
            let matmul = if ctx.options.precision.uses_int8_peak() {
                e.matmul_8bit.unwrap_or(e.matmul)
            } else {
                e.matmul
            };
            let mut text = format!(
                "calibrated with {source}: matmul {} % of peak, attention {} %, element-wise {} % of bandwidth, {:.1} µs launch overhead per kernel",
                share(matmul),
                share(e.attention),
                share(e.elementwise),
                e.launch_overhead_s * 1e6
            );
            if e.fixed_overhead_s > 0.0 {
                text += &format!(", {:.2} ms host overhead per forward", e.fixed_overhead_s * 1e3);
            }
            if ctx.options.tp > 1 {
                text += &format!(
                    ", collectives at {:.0} % of the link plus {:.1} µs each",
                    e.link.unwrap_or(1.0) * 100.0,
                    e.collective_latency_s * 1e6
                );
            }
            if let (Some(dq), true) = (e.dequant, ctx.options.precision.w_bits < ctx.options.precision.a_bits) {
                text += &format!(
                    ", weights dequantised to 16 bits before each GEMM at {:.0} % of bandwidth",
                    dq * 100.0
                );
            }
            text
        }
    }
}

/// The modelling choices behind this run's figures, one line each.
fn model_notes(ctx: &Context, w: &Workload) -> Vec<String> {
    let o = ctx.options;
    let mut notes = vec![if o.flash_attention {
        let rereads = match layer::L2::of(ctx.gpu) {
            Some(l2) => format!(
                "K/V re-reads from the {:.0} MiB L2 as far as the blocks in flight fit it",
                l2.bytes / (1u64 << 20) as f64
            ),
            None => "K/V re-reads from memory (the GPU profile lacks l2_bytes or sms)".into(),
        };
        format!(
            "attention: causal FlashAttention-2, {FLASH_BLOCK_ROWS}×{FLASH_BLOCK_COLS} tiles, FLOPs as executed (totals.dense_flops has the n² count), {rereads}"
        )
    } else {
        "attention: eager (HF), n² logits written and read back; FLOPs dense as executed".into()
    }];
    if !w.prune_steps().is_empty() {
        let how = match (w.importance, o.flash_attention) {
            (crate::schedule::Importance::Pagerank, _)
                if o.importance_kernel == crate::cost::ImportanceKernel::Fused =>
            {
                "fused kernel: Q·Kᵀ recomputed tile by tile in a normaliser pass and each power iteration, no n² map"
            }
            (crate::schedule::Importance::Pagerank, true) => {
                "attention probabilities recomputed (Q·Kᵀ again) and materialised as H×n×n fp32"
            }
            (crate::schedule::Importance::Pagerank, false) => {
                "eager logits reused, tempered probabilities materialised as H×n×n fp32"
            }
            (crate::schedule::Importance::None, _) => "no scoring, only the gather",
            (_, true) => "the needed attention rows recomputed from Q and K",
            (_, false) => "the needed attention rows read from the eager map",
        };
        notes.push(format!(
            "importance: {} at {} pruning layer(s), {how}",
            serde_json::to_value(w.importance)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            w.prune_steps().len()
        ));
    }
    if let Some(m) = &ctx.model.moe {
        use crate::experts::ExpertsImpl;
        // Where a loop or all-experts run comes from: the run's option, or (unset) the model's
        // moe.eager_experts under an eager-dispatch profile; it was credited to the model even
        // where the user chose it ("as transformers runs this model" for a model whose code
        // runs all experts).
        let chosen_by = if o.experts == Some(m.eager_experts) {
            format!(
                "set by {} or, under an eager-dispatch profile, by the model's moe.eager_experts",
                crate::error::keys::EXPERTS
            )
        } else {
            format!("set by {}", crate::error::keys::EXPERTS)
        };
        notes.push(match o.experts.unwrap_or(ExpertsImpl::Fused) {
            ExpertsImpl::All => format!(
                "experts: every token through all {} experts (batched GEMMs, unrouted ones weighted by 0; experts = all, {}): {:.0}× the routed FLOPs, every expert's weights read",
                m.num_experts,
                chosen_by,
                m.num_experts as f64 / m.experts_per_token as f64
            ),
            ExpertsImpl::Loop => format!(
                "experts: a Python loop over the hit experts, each expert's linear layers launched on their own, with its gather and index_add (experts = loop, {}); {} routed, top-{}",
                chosen_by, m.num_experts, m.experts_per_token
            ),
            ExpertsImpl::Fused => format!(
                "experts: {} routed, top-{}{}; a layer's tokens (× batch) read only the experts they touch, E·(1 − (1 − k/E)^n) for uniform routing{} (experts.touched_per_layer)",
                m.num_experts,
                m.experts_per_token,
                if m.shared_intermediate_size > 0 {
                    format!(", shared experts of width {}", m.shared_intermediate_size)
                } else {
                    String::new()
                },
                if m.routing_skew > 0.0 {
                    format!(", here Zipf-skewed with exponent {}", m.routing_skew)
                } else {
                    String::new()
                }
            ),
        });
    }
    if let (Some(i), Some(v)) = (&o.vision_input, &ctx.model.vision) {
        notes.push(format!(
            "visual input: {}",
            i.describe(v.merge(), v.temporal())
        ));
    }
    if o.tp > 1 {
        notes.push(format!(
            "tensor parallel over {} GPUs: figures are per GPU; two ring all-reduces per layer",
            o.tp
        ));
    }
    notes
}

/// Where the largest live activations were seen; formatted only for a report.
#[derive(Debug, Clone, Copy)]
enum At {
    Layer(usize, &'static str),
    Head,
    Vision,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            At::Layer(i, what) => write!(f, "layer {i} {what}"),
            At::Head => f.write_str("LM head logits"),
            At::Vision => f.write_str("vision encoder"),
        }
    }
}

/// The largest live activations seen while pricing, with the KV cache held at that moment.
#[derive(Debug, Default)]
struct MemoryTracker {
    kv_so_far_bytes: f64,
    /// (activations, attention map, KV at that moment, where).
    largest: Option<(f64, f64, f64, At)>,
    vision_activation_bytes: f64,
}

/// Peak memory as priced, its place not yet in words ([`Peak::report`]).
#[derive(Debug, Clone, Copy)]
struct Peak {
    weights_bytes: f64,
    kv_cache_bytes: f64,
    activations_bytes: f64,
    at: Option<At>,
    attention_map_bytes: f64,
    peak_bytes: f64,
    device_bytes: f64,
}

impl Peak {
    fn report(self) -> PeakMemory {
        PeakMemory {
            weights_bytes: self.weights_bytes,
            kv_cache_bytes: self.kv_cache_bytes,
            activations_bytes: self.activations_bytes,
            activations_at: self.at.map(|a| a.to_string()).unwrap_or_default(),
            attention_map_bytes: self.attention_map_bytes,
            peak_bytes: self.peak_bytes,
            device_bytes: self.device_bytes,
        }
    }
}

impl MemoryTracker {
    fn consider(&mut self, act: f64, map: f64, at: At) {
        let total = act + self.kv_so_far_bytes;
        if self
            .largest
            .as_ref()
            .is_none_or(|(a, _, kv, _)| total > a + kv)
        {
            self.largest = Some((act, map, self.kv_so_far_bytes, at));
        }
    }

    /// Layer `i` with `n` tokens: the residual stream (input + normed copy) plus the larger of
    /// the attention working set, the MLP hidden (`mlp` bytes: gate, up, product; the expert
    /// caches in a MoE layer) and the importance map.
    fn layer(
        &mut self,
        i: usize,
        n: u64,
        d: &Dims,
        flash: bool,
        importance_map_bytes: f64,
        mlp: f64,
    ) {
        let nf = n as f64;
        self.kv_so_far_bytes += d.kv_bytes(nf);
        let stream = 2.0 * nf * d.h * d.b * d.a;
        let attn_map = if flash {
            0.0
        } else {
            // logits + fp32 softmax (HF eager upcasts)
            d.heads * nf * nf * d.b * (d.a + FP32_BYTES)
        };
        let attn = attn_map + 2.0 * nf * d.q_width() * d.b * d.a;
        let (transient, map, what) = [
            (attn, attn_map, "attention"),
            (mlp, 0.0, "MLP"),
            (importance_map_bytes, importance_map_bytes, "importance map"),
        ]
        .into_iter()
        .fold(
            (0.0, 0.0, ""),
            |best, c| if c.0 > best.0 { c } else { best },
        );
        self.consider(stream + transient, map, At::Layer(i, what));
    }

    /// Head: the last hidden states and the logits upcast to fp32.
    fn head(&mut self, n: f64, rows: f64, d: &Dims) {
        let logits = rows * d.vocab / d.tp * d.b * FP32_BYTES;
        self.consider(n * d.h * d.b * d.a + logits, 0.0, At::Head);
    }

    fn peak(&self, weights_bytes: f64, kv_total_bytes: f64, device_bytes: f64) -> Peak {
        let (act, map, kv_now, at) = match self.largest {
            Some((act, map, kv, at)) => (act, map, kv, Some(at)),
            None => (0.0, 0.0, kv_total_bytes, None),
        };
        let llm = Peak {
            weights_bytes,
            kv_cache_bytes: kv_now,
            activations_bytes: act,
            at,
            attention_map_bytes: map,
            peak_bytes: weights_bytes + kv_now + act,
            device_bytes,
        };
        if self.vision_activation_bytes > act + kv_now {
            Peak {
                kv_cache_bytes: 0.0,
                activations_bytes: self.vision_activation_bytes,
                at: Some(At::Vision),
                attention_map_bytes: 0.0,
                peak_bytes: weights_bytes + self.vision_activation_bytes,
                ..llm
            }
        } else {
            llm
        }
    }
}

#[cfg(test)]
mod tests;
