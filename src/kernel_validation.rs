//! `aim-sim validate`: run every kernel at the sizes a model/schedule/input implies, check it
//! against its CPU reference on fresh random inputs, time it with CUDA events, and set the time
//! beside the roofline prediction of the GPU profile.
//!
//! Pipeline: [`ValidateSizes::from_plan`] (model + token plan → kernel sizes) →
//! [`run_validate`] (per kernel: inputs → GPU run → compare → time) → [`ValidateReport`] →
//! [`render_table`] or JSON (`serde_json::to_string_pretty(&report)`).
//!
//! Without a GPU, [`run_validate`] returns [`KernelError::Unavailable`] with a one-line reason
//! (also available up front from [`gpu_status`]); it never panics.

pub use crate::kernels::gpu::gpu_status;
pub use crate::kernels::work::{model_time_s, predicted_time_s, Work};

use crate::hardware::Gpu;
use crate::kernels::gpu::{
    Device, EagerAttention, FlashAttention, MergeFrames, MergePass, PageRankFused,
    PageRankMaterialised, Prune,
};
use crate::kernels::rng::SplitMix64;
use crate::kernels::{
    cpu, work, AttnShape, Dtype, Element, KernelError, PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE,
};
use crate::model::Model;
use crate::schedule::{TokenPlan, VisualInput};
use serde::Serialize;
use std::cell::RefCell;
use std::ops::Range;

/// The kernel sizes one configuration implies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ValidateSizes {
    pub frames: usize,
    pub tokens_per_frame: usize,
    /// Visual tokens per frame after merging (49 of 196 for AIM's default).
    pub merged_tokens_per_frame: usize,
    /// Hidden size: the width of merged tokens and of the rows a pruning layer gathers.
    pub hidden_size: usize,
    pub text_tokens: usize,
    /// Sequence length of the first decoder layer (attention is validated at this size).
    pub layer0_tokens: usize,
    /// The first layer whose importance shrinks the next one; `None` when the schedule does not
    /// prune (the importance kernels then run at `layer0_tokens`, keeping half the visual tokens).
    pub pruning_layer: Option<usize>,
    /// Sequence length at the pruning layer (visual + text).
    pub prune_tokens: usize,
    /// Visual tokens the next layer keeps.
    pub keep_visual: usize,
    pub heads: usize,
    pub kv_heads: usize,
    pub head_dim: usize,
}

impl ValidateSizes {
    /// Sizes for `model` processing `input` under a schedule's token `plan`.
    pub fn from_plan(
        model: &Model,
        input: &VisualInput,
        plan: &TokenPlan,
    ) -> Result<ValidateSizes, KernelError> {
        let bad = |message: String| KernelError::shape("validate", message);
        let usize_of = |x: u64| usize::try_from(x).map_err(|_| bad(format!("{x} is too large")));
        let layers = &plan.layer_tokens;
        let Some(&layer0) = layers.first() else {
            return Err(bad("the token plan has no layers".into()));
        };
        let text = usize_of(input.text_tokens)?;
        let pruning_layer = layers.windows(2).position(|w| w[1] < w[0]);
        let (prune_tokens, keep_visual) = match pruning_layer {
            Some(i) => (
                usize_of(layers[i])?,
                usize_of(layers[i + 1].saturating_sub(input.text_tokens))?,
            ),
            None => {
                let n = usize_of(layer0)?;
                (n, n.saturating_sub(text) / 2)
            }
        };
        Ok(ValidateSizes {
            frames: usize_of(input.frames)?,
            tokens_per_frame: usize_of(input.tokens_per_frame)?,
            merged_tokens_per_frame: usize_of(plan.merged_tokens_per_frame)?,
            hidden_size: usize_of(model.hidden_size)?,
            text_tokens: text,
            layer0_tokens: usize_of(layer0)?,
            pruning_layer,
            prune_tokens,
            keep_visual,
            heads: usize_of(model.num_heads)?,
            kv_heads: usize_of(model.kv_heads())?,
            head_dim: usize_of(model.head_dim())?,
        })
    }

    /// Where the visual tokens sit in a sequence of `n`: after half of the text (a system prompt
    /// before the video, the question after it).
    pub fn visual_range(&self, n: usize) -> Range<usize> {
        let before = (self.text_tokens / 2).min(n);
        before
            ..n.saturating_sub(self.text_tokens - self.text_tokens / 2)
                .max(before)
    }

    fn attn_shape(&self, tokens: usize) -> AttnShape {
        AttnShape {
            heads: self.heads,
            kv_heads: self.kv_heads,
            tokens,
            head_dim: self.head_dim,
        }
    }
}

/// Everything `aim-sim validate` needs.
#[derive(Debug, Clone)]
pub struct ValidateOptions {
    pub model: Model,
    /// The profile predictions are computed from (should describe the device present).
    pub gpu: Gpu,
    pub sizes: ValidateSizes,
    /// Element type of the kernels' inputs (bf16 is what the models run).
    pub dtype: Dtype,
    /// Untimed runs before timing each kernel.
    pub warmup_runs: usize,
    /// Timed runs per kernel; the median is reported.
    pub timed_runs: usize,
    /// Seed of the random inputs.
    pub seed: u64,
    /// CUDA device ordinal.
    pub device: usize,
}

impl ValidateOptions {
    /// Defaults: bf16, 5 warm-up runs, 50 timed runs, device 0.
    pub fn new(model: Model, gpu: Gpu, sizes: ValidateSizes) -> ValidateOptions {
        ValidateOptions {
            model,
            gpu,
            sizes,
            dtype: Dtype::Bf16,
            warmup_runs: 5,
            timed_runs: 50,
            seed: 0x5EED_A1B2,
            device: 0,
        }
    }
}

/// One kernel (or kernel sequence) checked and timed.
#[derive(Debug, Clone, Serialize)]
pub struct KernelRow {
    pub kernel: String,
    pub shape: String,
    /// Minimal FLOPs and bytes ([`crate::kernels::work`]).
    pub flops: f64,
    pub bytes: f64,
    pub launches: u32,
    /// `roofline`, or `roofline+efficiency` when the GPU profile is calibrated.
    pub prediction_model: &'static str,
    pub predicted_time_s: f64,
    /// Median over the timed runs.
    pub measured_time_s: f64,
    pub min_time_s: f64,
    /// `measured_time_s / predicted_time_s` (1 = at the roofline).
    pub ratio: f64,
    pub achieved_bytes_per_s: f64,
    /// `achieved_bytes_per_s` / the profile's bandwidth.
    pub bandwidth_fraction: f64,
    pub achieved_flops_per_s: f64,
    /// `achieved_flops_per_s` / the profile's dense FP16/BF16 peak.
    pub peak_flops_fraction: f64,
    /// The CPU reference compared against.
    pub reference: &'static str,
    /// `‖gpu − cpu‖₂ / ‖cpu‖₂` over finite entries.
    pub rel_error: f64,
    pub max_abs_error: f64,
    /// Entries finite on one side and not the other (masks must agree exactly).
    pub nonfinite_mismatches: usize,
    pub tolerance: f64,
    pub passed: bool,
}

/// The result of `aim-sim validate`.
#[derive(Debug, Clone, Serialize)]
pub struct ValidateReport {
    /// The device as its driver names it.
    pub device: String,
    /// Compute capability, `10 major + minor`.
    pub device_sm: u32,
    /// The GPU profile the predictions come from.
    pub gpu_profile: String,
    pub model: String,
    pub dtype: Dtype,
    pub sizes: ValidateSizes,
    pub warmup_runs: usize,
    pub timed_runs: usize,
    pub seed: u64,
    pub rows: Vec<KernelRow>,
    pub all_passed: bool,
}

/// How a GPU result differs from its CPU reference.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Comparison {
    pub rel_error: f64,
    pub max_abs_error: f64,
    pub nonfinite_mismatches: usize,
}

/// Compares element-wise; equal non-finite pairs (e.g. `-inf` masked logits) are skipped.
pub fn compare(got: &[f32], want: &[f32]) -> Comparison {
    let mut diff2 = 0.0f64;
    let mut ref2 = 0.0f64;
    let mut max_abs = 0.0f64;
    let mut nonfinite = got.len().abs_diff(want.len());
    for (&g, &w) in got.iter().zip(want) {
        if g.is_finite() && w.is_finite() {
            let d = (g as f64 - w as f64).abs();
            diff2 += d * d;
            ref2 += (w as f64) * (w as f64);
            max_abs = max_abs.max(d);
        } else if !(g == w) {
            nonfinite += 1;
        }
    }
    let rel_error = if ref2 > 0.0 {
        (diff2 / ref2).sqrt()
    } else {
        diff2.sqrt()
    };
    Comparison {
        rel_error,
        max_abs_error: max_abs,
        nonfinite_mismatches: nonfinite,
    }
}

/// Runs every kernel at the configured sizes on the GPU: see the module documentation.
pub fn run_validate(opts: &ValidateOptions) -> Result<ValidateReport, KernelError> {
    gpu_status().map_err(KernelError::Unavailable)?;
    let dev = Device::open(opts.device)?;
    dev.load_all()?;
    let rows = match opts.dtype {
        Dtype::F32 => Validator::<f32>::new(&dev, opts).run_all()?,
        Dtype::Bf16 => Validator::<half::bf16>::new(&dev, opts).run_all()?,
    };
    Ok(ValidateReport {
        device: dev.name().to_string(),
        device_sm: dev.sm(),
        gpu_profile: opts.gpu.name.clone(),
        model: opts.model.name.clone(),
        dtype: opts.dtype,
        sizes: opts.sizes.clone(),
        warmup_runs: opts.warmup_runs,
        timed_runs: opts.timed_runs,
        seed: opts.seed,
        all_passed: rows.iter().all(|r| r.passed),
        rows,
    })
}

/// Per-type validation state: the device, the options and the input generator.
struct Validator<'a, T: Element> {
    dev: &'a Device,
    opts: &'a ValidateOptions,
    rng: SplitMix64,
    rows: Vec<KernelRow>,
    _element: std::marker::PhantomData<T>,
}

/// Tolerances on `rel_error`: f32 results differ from the CPU by summation order only; results
/// stored in bf16 carry its 2⁻⁹ rounding; the importance amplifies logit rounding by 1/τ = 10.
const TOL_F32: f64 = 1e-4;
const TOL_BF16_OUTPUT: f64 = 1e-2;
const TOL_IMPORTANCE: f64 = 1e-3;

impl<'a, T: Element> Validator<'a, T> {
    fn new(dev: &'a Device, opts: &'a ValidateOptions) -> Self {
        Validator {
            dev,
            opts,
            rng: SplitMix64::new(opts.seed),
            rows: Vec::new(),
            _element: std::marker::PhantomData,
        }
    }

    /// Fresh standard-normal data as `T` and its exact f32 image for the CPU reference.
    fn random(&mut self, len: usize) -> (Vec<T>, Vec<f32>) {
        let data: Vec<T> = (0..len).map(|_| T::from_f32(self.rng.normal())).collect();
        let image = data.iter().map(|x| x.to_f32()).collect();
        (data, image)
    }

    fn output_tolerance(&self) -> f64 {
        match T::DTYPE {
            Dtype::F32 => TOL_F32,
            Dtype::Bf16 => TOL_BF16_OUTPUT,
        }
    }

    fn run_all(mut self) -> Result<Vec<KernelRow>, KernelError> {
        self.merge()?;
        self.attention()?;
        self.importance()?;
        self.prune()?;
        Ok(self.rows)
    }

    fn merge(&mut self) -> Result<(), KernelError> {
        let s = self.opts.sizes.clone();
        let (dev, e) = (self.dev, T::DTYPE.bytes());
        let (frames, dim) = (s.frames, s.hidden_size);
        let passes = crate::kernels::merge_passes(s.tokens_per_frame, s.merged_tokens_per_frame)?;
        // Each pass on its own fresh input.
        let mut tokens = s.tokens_per_frame;
        for &r in &passes {
            let (x, x32) = self.random(frames * tokens * dim);
            let dx = dev.upload(&x)?;
            let mut plan = MergePass::<T>::new(dev, frames, tokens, dim, r)?;
            let want = cpu::merge_pass(&x32, frames, tokens, dim, r)?;
            let shape = format!("{frames}x{tokens}x{dim} r={r}");
            let name = format!("merge pass {tokens}→{}", tokens - r);
            let cell = RefCell::new(&mut plan);
            self.rows.push(measure(
                self.dev,
                self.opts,
                &name,
                shape,
                work::merge_pass(frames, tokens, dim, r, e),
                "cpu::merge_pass",
                self.output_tolerance(),
                || cell.borrow_mut().run(dev, &dx),
                || {
                    let got = download_f32(dev, &cell.borrow().out)?;
                    Ok(compare(&got, &want))
                },
            )?);
            tokens -= r;
        }
        if passes.len() > 1 {
            // The whole chain; the CPU rounds between passes exactly as the device stores them.
            let (x, x32) = self.random(frames * s.tokens_per_frame * dim);
            let dx = dev.upload(&x)?;
            let mut want = x32;
            let mut tokens = s.tokens_per_frame;
            let mut total = Work {
                flops: 0.0,
                bytes: 0.0,
                launches: 0,
                class: crate::cost::refined::kernel::Class::Elementwise,
            };
            for &r in &passes {
                want = cpu::merge_pass(&want, frames, tokens, dim, r)?
                    .into_iter()
                    .map(|v| T::from_f32(v).to_f32())
                    .collect();
                let w = work::merge_pass(frames, tokens, dim, r, e);
                total.flops += w.flops;
                total.bytes += w.bytes;
                total.launches += w.launches;
                tokens -= r;
            }
            let mut chain = MergeFrames::<T>::new(dev, frames, s.tokens_per_frame, dim, tokens)?;
            let cell = RefCell::new(&mut chain);
            self.rows.push(measure(
                self.dev,
                self.opts,
                &format!(
                    "merge {}→{tokens} ({} passes)",
                    s.tokens_per_frame,
                    passes.len()
                ),
                format!("{frames}x{}x{dim}", s.tokens_per_frame),
                total,
                "cpu::merge_pass (chained)",
                self.output_tolerance(),
                || cell.borrow_mut().run(dev, &dx),
                || {
                    let chain = cell.borrow();
                    let out = chain
                        .out()
                        .ok_or_else(|| KernelError::shape("merge", "no pass"))?;
                    Ok(compare(&download_f32(dev, out)?, &want))
                },
            )?);
        }
        Ok(())
    }

    fn attention(&mut self) -> Result<(), KernelError> {
        let sizes = self.opts.sizes.clone();
        let shape = sizes.attn_shape(sizes.layer0_tokens);
        let (dev, e) = (self.dev, T::DTYPE.bytes());
        let (q, q32) = self.random(shape.q_len());
        let (k, k32) = self.random(shape.kv_len());
        let (v, v32) = self.random(shape.kv_len());
        let (dq, dk, dv) = (dev.upload(&q)?, dev.upload(&k)?, dev.upload(&v)?);
        let want = cpu::attention_causal(&q32, &k32, &v32, &shape)?;
        let label = attn_label(&shape);

        let mut flash = FlashAttention::<T>::new(dev, shape)?;
        let cell = RefCell::new(&mut flash);
        self.rows.push(measure(
            self.dev,
            self.opts,
            "attention flash (causal)",
            label.clone(),
            work::attention_flash(&shape, e),
            "cpu::attention_causal",
            self.output_tolerance(),
            || cell.borrow_mut().run(dev, &dq, &dk, &dv),
            || Ok(compare(&download_f32(dev, &cell.borrow().out)?, &want)),
        )?);
        drop(flash);

        let mut eager = EagerAttention::<T>::new(dev, shape)?;
        let cell = RefCell::new(&mut eager);
        self.rows.push(measure(
            self.dev,
            self.opts,
            "attention eager (logits+softmax+PV)",
            label.clone(),
            work::attention_eager(&shape, e),
            "cpu::attention_causal",
            self.output_tolerance(),
            || cell.borrow_mut().run(dev, &dq, &dk, &dv),
            || Ok(compare(&download_f32(dev, &cell.borrow().out)?, &want)),
        )?);
        let logits = cpu::causal_logits(&q32, &k32, &shape)?;
        self.rows.push(measure(
            self.dev,
            self.opts,
            "attention logits (eager step 1)",
            label,
            work::attention_logits(&shape, e),
            "cpu::causal_logits",
            TOL_F32,
            || cell.borrow_mut().run_logits(dev, &dq, &dk),
            || Ok(compare(&dev.download(&cell.borrow().logits)?, &logits)),
        )?);
        Ok(())
    }

    fn importance(&mut self) -> Result<(), KernelError> {
        let sizes = self.opts.sizes.clone();
        let shape = sizes.attn_shape(sizes.prune_tokens);
        let (dev, e) = (self.dev, T::DTYPE.bytes());
        let (q, q32) = self.random(shape.q_len());
        let (k, k32) = self.random(shape.kv_len());
        let logits = cpu::causal_logits(&q32, &k32, &shape)?;
        let want = cpu::pagerank_from_logits(
            &logits,
            shape.heads,
            shape.tokens,
            PAGERANK_TEMPERATURE,
            PAGERANK_ITERATIONS,
        )?;
        let label = format!(
            "{} τ={PAGERANK_TEMPERATURE} it={PAGERANK_ITERATIONS}",
            attn_label(&shape)
        );

        let dlogits = dev.upload(&logits)?;
        drop(logits);
        let mut mat = PageRankMaterialised::new(
            dev,
            shape.heads,
            shape.tokens,
            PAGERANK_TEMPERATURE,
            PAGERANK_ITERATIONS,
        )?;
        let cell = RefCell::new(&mut mat);
        self.rows.push(measure(
            self.dev,
            self.opts,
            "importance materialised (from logits)",
            label.clone(),
            work::pagerank_materialised(shape.heads, shape.tokens, PAGERANK_ITERATIONS),
            "cpu::pagerank_from_logits",
            TOL_IMPORTANCE,
            || cell.borrow_mut().run(dev, &dlogits),
            || Ok(compare(&dev.download(cell.borrow().score())?, &want)),
        )?);
        drop(mat);
        drop(dlogits);

        let (dq, dk) = (dev.upload(&q)?, dev.upload(&k)?);
        let mut fused =
            PageRankFused::<T>::new(dev, shape, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)?;
        let cell = RefCell::new(&mut fused);
        self.rows.push(measure(
            self.dev,
            self.opts,
            "importance fused (from Q,K)",
            label,
            work::pagerank_fused(&shape, PAGERANK_ITERATIONS, e),
            "cpu::pagerank_from_logits",
            TOL_IMPORTANCE,
            || cell.borrow_mut().run(dev, &dq, &dk),
            || Ok(compare(&dev.download(cell.borrow().score())?, &want)),
        )?);
        Ok(())
    }

    fn prune(&mut self) -> Result<(), KernelError> {
        let s = self.opts.sizes.clone();
        let (dev, e) = (self.dev, T::DTYPE.bytes());
        let (n, width) = (s.prune_tokens, s.hidden_size);
        let visual = s.visual_range(n);
        let keep = s.keep_visual.min(visual.len());
        let (hidden, hidden32) = self.random(n * width);
        let scores = self.rng.normal_vec(n);
        let (index, want) =
            cpu::select_and_gather(&hidden32, width, &scores, visual.clone(), keep)?;
        let (dh, ds) = (dev.upload(&hidden)?, dev.upload(&scores)?);
        let mut plan = Prune::<T>::new(dev, n, width, visual.clone(), keep)?;
        let cell = RefCell::new(&mut plan);
        self.rows.push(measure(
            self.dev,
            self.opts,
            "prune select+gather",
            format!(
                "n={n} visual={}..{} keep={keep} width={width}",
                visual.start, visual.end
            ),
            work::prune(n, visual.len(), width, index.len(), keep, e),
            "cpu::select_and_gather",
            0.0,
            || cell.borrow_mut().run(dev, &dh, &ds),
            || {
                let plan = cell.borrow();
                let got_index = dev.download(&plan.index)?;
                let mut cmp = compare(&download_f32(dev, &plan.out)?, &want);
                let wrong = got_index
                    .iter()
                    .zip(&index)
                    .filter(|(g, w)| **g as usize != **w)
                    .count();
                // A wrong kept position is a mismatch however close the rows happen to be.
                cmp.nonfinite_mismatches += wrong + got_index.len().abs_diff(index.len());
                Ok(cmp)
            },
        )?);
        Ok(())
    }
}

/// Runs `run` once with a synchronisation after every launch and checks the result with `check`,
/// then times `run` (warm-up, then the median of the timed runs) and prices it.
#[allow(clippy::too_many_arguments)]
fn measure(
    dev: &Device,
    opts: &ValidateOptions,
    kernel: &str,
    shape: String,
    work: Work,
    reference: &'static str,
    tolerance: f64,
    mut run: impl FnMut() -> Result<(), KernelError>,
    check: impl FnOnce() -> Result<Comparison, KernelError>,
) -> Result<KernelRow, KernelError> {
    dev.set_sync_after_launch(true);
    run()?;
    dev.synchronize(kernel)?;
    let cmp = check()?;
    dev.set_sync_after_launch(false);
    let mut times_s = dev.time_runs(&mut run, opts.warmup_runs, opts.timed_runs.max(1))?;
    times_s.sort_by(f64::total_cmp);
    let median_s = times_s[times_s.len() / 2];
    let gpu = &opts.gpu;
    let (prediction_model, predicted_time_s) = model_time_s(&work, gpu);
    Ok(KernelRow {
        kernel: kernel.to_string(),
        shape,
        flops: work.flops,
        bytes: work.bytes,
        launches: work.launches,
        prediction_model,
        predicted_time_s,
        measured_time_s: median_s,
        min_time_s: times_s[0],
        ratio: median_s / predicted_time_s,
        achieved_bytes_per_s: work.bytes / median_s,
        bandwidth_fraction: work.bytes / median_s / gpu.bandwidth,
        achieved_flops_per_s: work.flops / median_s,
        peak_flops_fraction: work.flops / median_s / gpu.fp16_peak,
        reference,
        rel_error: cmp.rel_error,
        max_abs_error: cmp.max_abs_error,
        nonfinite_mismatches: cmp.nonfinite_mismatches,
        tolerance,
        passed: cmp.rel_error <= tolerance && cmp.nonfinite_mismatches == 0,
    })
}

fn download_f32<T: Element>(
    dev: &Device,
    x: &cudarc::driver::CudaSlice<T>,
) -> Result<Vec<f32>, KernelError> {
    Ok(dev.download(x)?.iter().map(|v| v.to_f32()).collect())
}

fn attn_label(shape: &AttnShape) -> String {
    format!(
        "H={} Hkv={} n={} d={}",
        shape.heads, shape.kv_heads, shape.tokens, shape.head_dim
    )
}

/// A time in the most readable unit.
fn time(t_s: f64) -> String {
    if !t_s.is_finite() {
        "-".into()
    } else if t_s >= 1.0 {
        format!("{t_s:.3} s")
    } else if t_s >= 1e-3 {
        format!("{:.3} ms", t_s * 1e3)
    } else {
        format!("{:.1} µs", t_s * 1e6)
    }
}

/// The report as an aligned text table, one kernel per line, preceded by a header line.
pub fn render_table(report: &ValidateReport) -> String {
    let header = [
        "kernel",
        "shape",
        "predicted",
        "measured",
        "ratio",
        "GB/s",
        "%BW",
        "TFLOP/s",
        "%peak",
        "rel err",
        "ok",
    ];
    let mut lines: Vec<Vec<String>> = vec![header.iter().map(|s| s.to_string()).collect()];
    for r in &report.rows {
        lines.push(vec![
            r.kernel.clone(),
            r.shape.clone(),
            time(r.predicted_time_s),
            time(r.measured_time_s),
            format!("{:.2}", r.ratio),
            format!("{:.0}", r.achieved_bytes_per_s / 1e9),
            format!("{:.1}", 100.0 * r.bandwidth_fraction),
            format!("{:.2}", r.achieved_flops_per_s / 1e12),
            format!("{:.1}", 100.0 * r.peak_flops_fraction),
            format!("{:.1e}", r.rel_error),
            if r.passed { "yes" } else { "NO" }.to_string(),
        ]);
    }
    let widths: Vec<usize> = (0..header.len())
        .map(|c| {
            lines
                .iter()
                .map(|l| l[c].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = format!(
        "{} (sm_{}) vs profile '{}', model {}, {} inputs, median of {} runs after {} warm-up; prediction: {}\n",
        report.device,
        report.device_sm,
        report.gpu_profile,
        report.model,
        report.dtype,
        report.timed_runs,
        report.warmup_runs,
        report
            .rows
            .first()
            .map_or("roofline", |r| r.prediction_model),
    );
    for line in &lines {
        let cells: Vec<String> = line
            .iter()
            .enumerate()
            .map(|(c, cell)| {
                let pad = widths[c] - cell.chars().count();
                if c < 2 {
                    format!("{cell}{}", " ".repeat(pad))
                } else {
                    format!("{}{cell}", " ".repeat(pad))
                }
            })
            .collect();
        out.push_str(cells.join("  ").trim_end());
        out.push('\n');
    }
    out.push_str(if report.all_passed {
        "all kernels match their CPU references\n"
    } else {
        "SOME KERNELS DIFFER FROM THEIR CPU REFERENCES (see rel err vs tolerance in --format json)\n"
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schedule::{PruneTiming, Schedule};

    fn aim_default_sizes() -> ValidateSizes {
        let model = Model::load("llava-ov-7b").unwrap();
        let schedule = Schedule::load("linear").unwrap();
        let input = VisualInput {
            frames: 32,
            tokens_per_frame: 196,
            text_tokens: 100,
        };
        let plan = schedule
            .plan(model.num_layers, &input, PruneTiming::Code)
            .unwrap();
        ValidateSizes::from_plan(&model, &input, &plan).unwrap()
    }

    #[test]
    fn aim_default_sizes_are_the_papers() {
        let s = aim_default_sizes();
        assert_eq!(
            (
                s.frames,
                s.tokens_per_frame,
                s.merged_tokens_per_frame,
                s.hidden_size
            ),
            (32, 196, 49, 3584)
        );
        assert_eq!((s.layer0_tokens, s.prune_tokens), (1668, 1668));
        // Code timing: the importance of layer 14 shrinks layer 15 to 1472 = 1372 visual + 100.
        assert_eq!((s.pruning_layer, s.keep_visual), (Some(14), 1372));
        assert_eq!((s.heads, s.kv_heads, s.head_dim), (28, 4, 128));
        let v = s.visual_range(1668);
        assert_eq!((v.start, v.end, v.len()), (50, 1618, 1568));
    }

    #[test]
    fn compare_skips_equal_masks_and_counts_differing_ones() {
        let inf = f32::NEG_INFINITY;
        let c = compare(&[1.0, inf, 2.0], &[1.0, inf, 2.0]);
        assert_eq!(
            (c.rel_error, c.max_abs_error, c.nonfinite_mismatches),
            (0.0, 0.0, 0)
        );
        let c = compare(&[1.0, 0.0, 2.2], &[1.0, inf, 2.0]);
        assert_eq!(c.nonfinite_mismatches, 1);
        assert!((c.max_abs_error - 0.2).abs() < 1e-6);
        assert!((c.rel_error - 0.2 / 5f64.sqrt()).abs() < 1e-6);
    }

    #[test]
    fn without_a_gpu_validate_says_why_in_one_line() {
        let Err(reason) = gpu_status() else {
            println!("a GPU is present: nothing to check here");
            return;
        };
        let opts = ValidateOptions::new(
            Model::load("llava-ov-7b").unwrap(),
            Gpu::load("h100").unwrap(),
            aim_default_sizes(),
        );
        let err = run_validate(&opts).unwrap_err();
        assert!(err.is_unavailable());
        assert_eq!(err.to_string(), reason);
        assert!(!reason.contains('\n'));
    }

    #[test]
    fn table_and_json_show_every_row() {
        let row = KernelRow {
            kernel: "attention flash (causal)".into(),
            shape: "H=28 Hkv=4 n=1668 d=128".into(),
            flops: 2e10,
            bytes: 2e7,
            launches: 1,
            prediction_model: "roofline",
            predicted_time_s: 2e-5,
            measured_time_s: 1e-3,
            min_time_s: 9e-4,
            ratio: 50.0,
            achieved_bytes_per_s: 2e10,
            bandwidth_fraction: 0.006,
            achieved_flops_per_s: 2e13,
            peak_flops_fraction: 0.02,
            reference: "cpu::attention_causal",
            rel_error: 2e-3,
            max_abs_error: 1e-2,
            nonfinite_mismatches: 0,
            tolerance: 1e-2,
            passed: true,
        };
        let report = ValidateReport {
            device: "NVIDIA H100 80GB HBM3".into(),
            device_sm: 90,
            gpu_profile: "NVIDIA H100 80GB SXM".into(),
            model: "llava-ov-7b".into(),
            dtype: Dtype::Bf16,
            sizes: aim_default_sizes(),
            warmup_runs: 5,
            timed_runs: 50,
            seed: 1,
            rows: vec![
                row.clone(),
                KernelRow {
                    passed: false,
                    ..row
                },
            ],
            all_passed: false,
        };
        let table = render_table(&report);
        assert_eq!(table.lines().count(), 1 + 1 + 2 + 1, "{table}");
        assert!(
            table.contains("1.000 ms") && table.contains("20.0 µs"),
            "{table}"
        );
        assert!(
            table.contains(" NO") && table.contains("SOME KERNELS DIFFER"),
            "{table}"
        );
        let json: serde_json::Value = serde_json::to_value(&report).unwrap();
        assert_eq!(json["rows"][0]["measured_time_s"], 1e-3);
        assert_eq!(json["dtype"], "bf16");
        assert_eq!(json["sizes"]["keep_visual"], 1372);
    }
}
