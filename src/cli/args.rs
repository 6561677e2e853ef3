//! Raw command-line flags (clap) and how they become a [`Spec`]. Defaults and validation live
//! with the spec (`crate::spec`, `crate::scenario`), so this file says only what a user can
//! type: every setting flag is optional and, when given, overrides the run file (`--spec`) or
//! the spec's default.

use super::choice;
use crate::cost::{CostModelKind, ImportanceKernel};
use crate::error::Result;
use crate::model::Resolution;
use crate::schedule::PruneTiming;
use crate::spec::{parse_count, parse_count_or_zero, AttentionImpl, Definition, Spec};
use clap::Args;
use std::path::PathBuf;

/// Options of the commands that run on a GPU.
#[derive(Debug, Clone, Args)]
pub struct GpuArgs {
    /// Exit with code 2 (instead of 0) when no usable GPU is found.
    #[arg(long)]
    pub require_gpu: bool,
    /// CUDA device ordinal.
    #[arg(long, default_value = "0", value_name = "N")]
    pub device: usize,
    /// measure/calibrate: time kernels on a synthetic device (a GPU TOML).
    ///
    /// measure/calibrate: time kernels on a synthetic device instead of a GPU — a GPU TOML
    /// whose [efficiency] table says how fast it runs. For testing the pipeline without a GPU;
    /// every result says "synthetic".
    #[arg(long, value_name = "PATH")]
    pub synthetic_device: Option<String>,
}

/// Element type of the validated kernels' inputs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum KernelDtype {
    Bf16,
    F32,
}

/// Which preset list `aim-sim list` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PresetKind {
    Gpus,
    Models,
    Schedules,
    Frameworks,
}

/// Everything that defines one simulated prefill. Each flag overrides the `--spec` run file
/// (or the default); the defaults shown are [`Spec::default`]'s.
#[derive(Debug, Clone, Default, Args)]
pub struct SimArgs {
    /// A run file (TOML/JSON spec, or an earlier run's JSON output); flags override it.
    ///
    /// A run file: a spec in TOML or JSON, or the JSON output of an earlier run (replays it).
    /// Flags given beside it override its values.
    #[arg(help_heading = "Input", long, value_name = "FILE")]
    pub spec: Option<PathBuf>,
    /// Model preset, model TOML or HF config.json [default: llava-ov-7b].
    #[arg(help_heading = "Model and GPU", long, value_name = "NAME|PATH", value_parser = super::preset_or_path(crate::presets::MODELS), hide_possible_values = true)]
    pub model: Option<String>,
    /// GPU preset name or a GPU TOML [default: a100].
    #[arg(help_heading = "Model and GPU", long, value_name = "NAME|PATH", value_parser = super::preset_or_path(crate::presets::GPUS), hide_possible_values = true)]
    pub gpu: Option<String>,
    /// Software stack profile: roofline, trtllm, hf, hf-eager, or a TOML.
    ///
    /// Framework profile: how the software stack runs the kernels. `roofline` (ideal, what the
    /// paper computes), `trtllm`, `hf`, `hf-eager` (fitted to published measurements,
    /// docs/accuracy.md), or a profile TOML [default: roofline].
    #[arg(help_heading = "Model and GPU", long, value_name = "NAME|PATH", value_parser = super::preset_or_path(crate::presets::FRAMEWORKS), hide_possible_values = true)]
    pub framework: Option<String>,
    /// Visual tokens before merging (N / tokens-per-frame frames).
    ///
    /// Visual tokens before merging: N / tokens-per-frame frames. When it does not divide, the
    /// input is one frame of N tokens (merging works within it) and a warning says so.
    #[arg(help_heading = "Input", long, value_name = "N", value_parser = parse_count, conflicts_with = "frames")]
    pub tokens: Option<u64>,
    /// Frames (video) or images; 0 for a text-only prompt [default: the model's].
    ///
    /// Frames (video) or images; 0 for a text-only prompt [default: the model's, 32 for video
    /// models, 1 for image models].
    #[arg(help_heading = "Input", long, value_name = "F", value_parser = parse_count_or_zero)]
    pub frames: Option<u64>,
    /// Visual tokens per frame before merging [default: the model's, e.g. 196 for LLaVA-OV].
    #[arg(help_heading = "Input", long, value_name = "P", value_parser = parse_count, hide_short_help = true)]
    pub tokens_per_frame: Option<u64>,
    /// Image size WxH in pixels, for resolution-aware vision towers (Qwen-VL, InternVL): the
    /// tokens per image follow from it [default: the model's, e.g. 448x448].
    #[arg(help_heading = "Input", long, value_name = "WxH", conflicts_with_all = ["video_size", "video_seconds"], hide_short_help = true)]
    pub image_size: Option<Resolution>,
    /// The input is a video of WxH frames; --frames counts sampled frames (Qwen-VL groups them
    /// in pairs: F frames give F/2 groups of (H/28)·(W/28) tokens after resizing).
    #[arg(
        help_heading = "Input",
        long,
        value_name = "WxH",
        hide_short_help = true
    )]
    pub video_size: Option<Resolution>,
    /// Video length in seconds, sampled at --fps, instead of --frames.
    #[arg(help_heading = "Input", long, value_name = "S", conflicts_with_all = ["frames", "tokens"], hide_short_help = true)]
    pub video_seconds: Option<f64>,
    /// Frames sampled per second of --video-seconds [default: the model's processor, 2 for Qwen-VL].
    #[arg(
        help_heading = "Input",
        long,
        value_name = "R",
        requires = "video_seconds",
        hide_short_help = true
    )]
    pub fps: Option<f64>,
    /// Text tokens (always kept) [default: 100].
    #[arg(help_heading = "Input", long, value_name = "T", value_parser = parse_count, hide_short_help = true)]
    pub text_tokens: Option<u64>,
    /// Schedule preset name or a schedule TOML [default: linear].
    #[arg(help_heading = "Schedule", long, value_name = "NAME|PATH", value_parser = super::preset_or_path(crate::presets::SCHEDULES), hide_possible_values = true)]
    pub schedule: Option<String>,
    /// Override the schedule's merge: visual tokens kept per frame.
    #[arg(help_heading = "Schedule", long, value_name = "K", value_parser = parse_count, conflicts_with = "merge_keep_ratio", hide_short_help = true)]
    pub merge_tokens_per_frame: Option<u64>,
    /// Override the schedule's merge: fraction of each frame kept, floor(P·x).
    #[arg(
        help_heading = "Schedule",
        long,
        value_name = "X",
        hide_short_help = true
    )]
    pub merge_keep_ratio: Option<f64>,
    /// Override the schedule's pruning: linear pruning start layer l1.
    #[arg(
        help_heading = "Schedule",
        long,
        value_name = "L1",
        hide_short_help = true,
        requires = "prune_end"
    )]
    pub prune_start: Option<u64>,
    /// Override the schedule's pruning: linear pruning end layer l2.
    #[arg(
        help_heading = "Schedule",
        long,
        value_name = "L2",
        hide_short_help = true,
        requires = "prune_start"
    )]
    pub prune_end: Option<u64>,
    /// Override the linear pruning step [default: 1/(l2-l1)].
    #[arg(
        help_heading = "Schedule",
        long,
        value_name = "S",
        hide_short_help = true,
        requires = "prune_start"
    )]
    pub prune_step: Option<f64>,
    /// Exact sequence length of every layer, comma-separated (overrides the schedule).
    #[arg(help_heading = "Schedule", long, value_name = "A,B,C,...", value_delimiter = ',', value_parser = parse_count, hide_short_help = true)]
    pub layer_tokens: Option<Vec<u64>>,
    /// Cost model [default: refined].
    ///
    /// Cost model: `refined` (what a GPU runs) or `llm-viewer` (the paper's, exactly)
    /// [default: refined].
    #[arg(help_heading = "Cost model", long, value_name = "MODEL", value_parser = choice::<CostModelKind>())]
    pub cost_model: Option<CostModelKind>,
    /// When a pruning decision takes effect [default: code for refined, paper for llm-viewer].
    #[arg(help_heading = "Schedule", long, value_name = "WHEN", value_parser = choice::<PruneTiming>(), hide_short_help = true)]
    pub prune_timing: Option<PruneTiming>,
    /// Model attention as one fused FlashAttention operator (same as --attention flash).
    #[arg(
        help_heading = "Cost model",
        long,
        conflicts_with = "attention",
        hide_short_help = true
    )]
    pub flash_attention: bool,
    /// Attention implementation [default: flash for refined, eager for llm-viewer].
    #[arg(help_heading = "Cost model", long, value_name = "IMPL", value_parser = choice::<AttentionImpl>(), hide_short_help = true)]
    pub attention: Option<AttentionImpl>,
    /// Also price the vision encoder and projector (time to first token).
    #[arg(help_heading = "Cost model", long)]
    pub include_vision: bool,
    /// Refined: decode this many tokens after the prefill, with the pruned KV cache.
    #[arg(help_heading = "Cost model", long, value_name = "G", value_parser = parse_count, hide_short_help = true)]
    pub gen_tokens: Option<u64>,
    /// Refined: tensor-parallel degree (weights and heads split over N GPUs) [default: 1].
    #[arg(help_heading = "Model and GPU", long, value_name = "N", value_parser = parse_count, hide_short_help = true)]
    pub tp: Option<u64>,
    /// Refined: compute logits for every position instead of only the last one.
    #[arg(help_heading = "Cost model", long, hide_short_help = true)]
    pub all_logits: bool,
    /// How PageRank importance gets attention probabilities [default: materialized].
    ///
    /// Refined: how PageRank importance gets its attention probabilities. `materialized`: the
    /// H×n×n fp32 matrix is written and streamed by each power iteration (the AIM reference
    /// code); `fused`: Q·Kᵀ tiles recomputed in every iteration, no n² traffic
    /// (kernels/pagerank.cu) [default: materialized].
    #[arg(help_heading = "Schedule", long, value_name = "KERNEL", value_parser = choice::<ImportanceKernel>(), hide_short_help = true)]
    pub importance_kernel: Option<ImportanceKernel>,
    /// Batch size [default: 1].
    #[arg(help_heading = "Input", long, value_name = "B", value_parser = parse_count, hide_short_help = true)]
    pub batch: Option<u64>,
    /// Weight bits [default: 16].
    #[arg(
        help_heading = "Model and GPU",
        long,
        value_name = "BITS",
        hide_short_help = true
    )]
    pub w_bits: Option<u32>,
    /// Activation bits [default: 16].
    #[arg(
        help_heading = "Model and GPU",
        long,
        value_name = "BITS",
        hide_short_help = true
    )]
    pub a_bits: Option<u32>,
    /// KV-cache bits [default: --a-bits].
    #[arg(
        help_heading = "Model and GPU",
        long,
        value_name = "BITS",
        hide_short_help = true
    )]
    pub kv_bits: Option<u32>,
    /// Drop the second residual add from the totals (as the paper's video runs did).
    #[arg(help_heading = "Cost model", long, hide_short_help = true)]
    pub skip_mlp_add: bool,
}

impl SimArgs {
    /// The spec these flags describe: the `--spec` file (or the defaults), with every flag
    /// that was given laid over it.
    pub fn to_spec(&self) -> Result<Spec> {
        let base = match &self.spec {
            Some(path) => Spec::load(path)?,
            None => Spec::default(),
        };
        Ok(self.overlay(base))
    }

    /// `base` with every flag that was given laid over it.
    pub fn overlay(&self, base: Spec) -> Spec {
        let mut s = base;
        if let Some(m) = &self.model {
            s.model = Definition::Name(m.clone());
        }
        if let Some(g) = &self.gpu {
            s.gpu = Definition::Name(g.clone());
        }
        if let Some(f) = &self.framework {
            s.framework = Definition::Name(f.clone());
        }
        if let Some(x) = &self.schedule {
            s.schedule = Definition::Name(x.clone());
        }
        // A flag wins over the file, also over the file's other way of giving the same thing.
        s.clear_replaced(|option| match option {
            "tokens" => self.tokens.is_some(),
            "frames" => self.frames.is_some(),
            "video_seconds" => self.video_seconds.is_some(),
            "image_size" => self.image_size.is_some(),
            "video_size" => self.video_size.is_some(),
            "merge_tokens_per_frame" => self.merge_tokens_per_frame.is_some(),
            "merge_keep_ratio" => self.merge_keep_ratio.is_some(),
            "prune_start" => self.prune_start.is_some(),
            _ => false,
        });
        macro_rules! take {
            ($($field:ident),*) => {$(
                if let Some(v) = self.$field.clone() {
                    s.$field = v.into();
                }
            )*};
        }
        take!(
            tokens,
            frames,
            video_seconds,
            fps,
            image_size,
            video_size,
            merge_tokens_per_frame,
            merge_keep_ratio,
            prune_start,
            prune_end,
            prune_step
        );
        take!(
            tokens_per_frame,
            layer_tokens,
            prune_timing,
            attention,
            kv_bits
        );
        take!(
            text_tokens,
            cost_model,
            gen_tokens,
            tp,
            importance_kernel,
            batch,
            w_bits,
            a_bits
        );
        if self.flash_attention {
            s.attention = Some(AttentionImpl::Flash);
        }
        s.include_vision |= self.include_vision;
        s.all_logits |= self.all_logits;
        s.skip_mlp_add |= self.skip_mlp_add;
        s
    }
}

/// Where and how results are written (`crate::cli::format`: each command offers its own
/// formats; `-o FILE` alone takes the format from the extension).
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format [default: table, or the -o file's extension].
    #[arg(long, help_heading = "Output", value_name = "FORMAT", value_parser = super::format::parser(super::format::EVERY_VIEW))]
    pub format: Option<super::format::Format>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', help_heading = "Output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

impl OutputArgs {
    /// The format of a command whose result has `views` (an error for a format it lacks).
    pub fn resolve(
        &self,
        command: &str,
        views: &[super::format::View],
    ) -> Result<super::format::Format> {
        super::format::resolve(command, views, self.format, self.output.as_deref())
    }
}
