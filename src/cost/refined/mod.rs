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

mod decode;
mod decoder;
mod importance;
pub mod kernel;
pub mod layer;
mod moe;
mod stages;
mod vision;

use super::{
    Context, CostModel, KvCache, LayerCost, OpKind, PeakMemory, Pipeline, RunCost, TimedOp, Totals,
    Workload,
};
use kernel::{aggregate, Kernel, Timer};
use layer::{Dims, FLASH_BLOCK_COLS, FLASH_BLOCK_ROWS, FP32_BYTES};

pub use importance::{PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE};

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
        let d = Dims::new(ctx);
        let arch = decoder::Arch::new(ctx);
        let timer = Timer::for_context(ctx);
        let opts = ctx.options;
        let flash = opts.flash_attention;
        let time_all =
            |ks: Vec<Kernel>| -> Vec<TimedOp> { ks.into_iter().map(|k| timer.time(k)).collect() };
        let mut notes = Vec::new();
        let mut warnings = Vec::new();
        let mut memory = MemoryTracker::default();

        // Stages before the LLM: vision encoder (optional), then per-frame merging.
        let mut stage_kernels = Vec::new();
        let mut vision_params = 0.0;
        // A text-only prompt (0 frames) has nothing to encode.
        if let (true, Some(v), true, Some(input)) = (
            opts.include_vision,
            &ctx.model.vision,
            w.input.frames > 0,
            opts.vision_input.filter(|_| {
                ctx.model
                    .vision
                    .as_ref()
                    .is_some_and(|v| v.resize.is_some())
            }),
        ) {
            // A resolution-aware tower: the patches follow from the input's resolution.
            let frames = w.input.frames * opts.batch;
            if w.input.tokens_per_frame != input.tokens_per_frame {
                warnings.push(format!(
                    "--include-vision: the LLM gets {} tokens per frame but {} yields {} at {}x{}: priced the encoder at that resolution",
                    w.input.tokens_per_frame, v.name, input.tokens_per_frame, input.width, input.height
                ));
            }
            stage_kernels.extend(vision::tower(v, &input, frames, d.h, d.a, d.w, flash));
            vision_params = vision::tower_params(v, d.h);
            memory.vision_activation_bytes =
                vision::activation_bytes(v, &input, frames, d.a, flash);
            notes.push(format!(
                "vision: {} × {} pass(es) of {}x{} patches, not split across GPUs",
                v.name,
                frames * input.passes_per_frame,
                input.grid_w,
                input.grid_h
            ));
        } else if let (true, Some(v), true) =
            (opts.include_vision, &ctx.model.vision, w.input.frames > 0)
        {
            let per_image = ctx.model.tokens_per_frame;
            let images = w.input.frames * w.input.tokens_per_frame.div_ceil(per_image);
            if !w.input.tokens_per_frame.is_multiple_of(per_image) {
                warnings.push(format!(
                    "--include-vision: {} tokens per frame is not a multiple of the {per_image} one {} pass yields; priced {images} encoder passes",
                    w.input.tokens_per_frame, v.name
                ));
            }
            stage_kernels.extend(stages::vision(
                v,
                images * opts.batch,
                per_image,
                d.h,
                d.a,
                d.w,
                flash,
            ));
            vision_params = stages::vision_params(v, d.h);
            memory.vision_activation_bytes =
                stages::vision_activation_bytes(v, images * opts.batch, d.a, flash);
            notes.push(format!(
                "vision: {} × {images} image(s) of {} patches, not split across GPUs",
                v.name, v.patches_per_frame
            ));
        }
        if w.merges() {
            stage_kernels.extend(stages::merge(
                w.input.frames * opts.batch,
                w.input.tokens_per_frame,
                w.merged_tokens_per_frame,
                d.h,
                d.a,
            ));
        }
        let stage_ops = aggregate(&time_all(stage_kernels));

        // Decoder layers, with the importance work at each pruning layer.
        let steps = w.prune_steps();
        let text = w.input.text_tokens;
        let layers: Vec<LayerCost> = w
            .layer_tokens
            .iter()
            .enumerate()
            .map(|(i, &n)| {
                let attention = if flash {
                    vec![layer::flash_attention(&d, n)]
                } else {
                    layer::eager_attention(&d, n)
                };
                let mut ks = arch.layer_ops(&d, i, n as f64, attention);
                let mut map_bytes = 0.0;
                if let Some(step) = steps.iter().find(|s| s.layer == i) {
                    let work = importance::importance(
                        &d,
                        *step,
                        text,
                        w.importance,
                        flash,
                        opts.importance_kernel,
                    );
                    map_bytes = work.map_bytes;
                    ks.extend(work.kernels);
                }
                let mlp_bytes = arch.mlp_activation_bytes(&d, i, n as f64);
                memory.layer(i, n, &d, flash, map_bytes, mlp_bytes);
                LayerCost::new(i, n, time_all(ks))
            })
            .collect();

        // Head: final norm and logits for the last position (or all of them).
        let last = w.layer_tokens.last().copied().unwrap_or(0) as f64;
        let rows = if opts.all_logits { last } else { 1.0 };
        let mut head_kernels = layer::head_ops(&d, last, rows);
        if ctx
            .gpu
            .efficiency
            .as_ref()
            .is_some_and(|e| e.fixed_overhead_s > 0.0)
        {
            // Host work of the forward (framework set-up, sampling), once per run.
            head_kernels.push(kernel::kernel(
                "host_overhead",
                OpKind::Host,
                kernel::Class::Host,
                0.0,
            ));
        }
        let head = time_all(head_kernels);
        memory.head(last, rows, &d);

        let mut totals = Totals::default();
        stage_ops
            .iter()
            .chain(layers.iter().flat_map(|l| &l.operators))
            .chain(&head)
            .for_each(|o| totals.add(o));
        let dense_extra: f64 = stage_ops
            .iter()
            .chain(layers.iter().flat_map(|l| &l.operators))
            .filter_map(|o| o.dense_flops.map(|f| f - o.op.flops))
            .sum();
        totals.dense_flops = Some(totals.flops + dense_extra);

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
        let decode = (opts.gen_tokens > 0)
            .then(|| decode::decode(&d, &arch, &timer, w.layer_tokens, opts.gen_tokens));
        let weights_bytes = (arch.layers_params(&d, w.layer_tokens.len())
            + 2.0 * d.h * d.vocab / d.tp // embedding and LM head, vocabulary-parallel
            + d.h)
            * d.w
            + vision_params * d.w;
        let peak = memory.peak(weights_bytes, &kv_cache, ctx.gpu.memory);
        if peak.peak_bytes > peak.device_bytes {
            warnings.push(format!(
                "peak memory {:.1} GB exceeds the GPU's {:.1} GB ({}): use --tp, fewer frames or FlashAttention",
                peak.peak_bytes / 1e9,
                peak.device_bytes / 1e9,
                peak.activations_at
            ));
        }
        totals.memory_consumption_bytes = peak.peak_bytes;

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

/// Says how times were derived (the calibration hook of the GPU file).
fn calibration(ctx: &Context) -> String {
    match &ctx.gpu.efficiency {
        None => format!(
            "ideal roofline: {} has no [efficiency] table, so every kernel runs at peak compute or peak bandwidth with no launch overhead",
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
                "calibrated with {source}: matmul {:.0} % of peak, attention {:.0} %, element-wise {:.0} % of bandwidth, {:.1} µs launch overhead per kernel",
                matmul * 100.0,
                e.attention * 100.0,
                e.elementwise * 100.0,
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
        format!(
            "attention: causal FlashAttention-2, {FLASH_BLOCK_ROWS}×{FLASH_BLOCK_COLS} tiles, FLOPs as executed (totals.dense_flops has the n² count)"
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
        notes.push(format!(
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
        ));
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

/// The largest live activations seen while pricing, with the KV cache held at that moment.
#[derive(Debug, Default)]
struct MemoryTracker {
    kv_so_far_bytes: f64,
    /// (activations, attention map, KV at that moment, where).
    largest: Option<(f64, f64, f64, String)>,
    vision_activation_bytes: f64,
}

impl MemoryTracker {
    fn consider(&mut self, act: f64, map: f64, at: String) {
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
        self.consider(stream + transient, map, format!("layer {i} {what}"));
    }

    /// Head: the last hidden states and the logits upcast to fp32.
    fn head(&mut self, n: f64, rows: f64, d: &Dims) {
        let logits = rows * d.vocab / d.tp * d.b * FP32_BYTES;
        self.consider(n * d.h * d.b * d.a + logits, 0.0, "LM head logits".into());
    }

    fn peak(&self, weights_bytes: f64, kv: &KvCache, device_bytes: f64) -> PeakMemory {
        let (act, map, kv_now, at) =
            self.largest
                .clone()
                .unwrap_or((0.0, 0.0, kv.total_bytes, String::new()));
        let llm = PeakMemory {
            weights_bytes,
            kv_cache_bytes: kv_now,
            activations_bytes: act,
            activations_at: at,
            attention_map_bytes: map,
            peak_bytes: weights_bytes + kv_now + act,
            device_bytes,
        };
        if self.vision_activation_bytes > act + kv_now {
            PeakMemory {
                kv_cache_bytes: 0.0,
                activations_bytes: self.vision_activation_bytes,
                activations_at: "vision encoder".into(),
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
