//! Raw command-line flags (clap). Validation and defaults live in [`crate::scenario`], so this
//! file says only what a user can type.

use crate::cost::CostModelKind;
use crate::report::Format;
use crate::schedule::PruneTiming;
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

/// What a visual-token reduction schedule costs in a multi-modal LLM's prefill.
///
/// Without a subcommand, simulates one prefill, e.g.
/// `aim-sim --tokens 6272 --schedule linear --gpu a100`.
#[derive(Debug, Parser)]
#[command(
    name = "aim-sim",
    version,
    about,
    args_conflicts_with_subcommands = true,
    allow_negative_numbers = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Subcommands besides the default single simulation.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one prefill (the default when no subcommand is given).
    Simulate {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Price many configurations: lists and ranges in, one row per combination out.
    ///
    /// Models, GPUs, schedules, cost models, frames, tokens, tokens per frame, text tokens and
    /// batch take comma lists and inclusive ranges (`--frames 8:256:8`); every other flag of a
    /// single run applies to all rows.
    Sweep {
        #[command(flatten)]
        grid: Box<crate::sweep::GridArgs>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Frames a schedule fits in a reference's FLOPs/time, or the setting that hits a reduction.
    ///
    /// Without --target-reduction: the largest number of frames whose FLOPs (--by time: prefill
    /// time) stay within the reference run's. With it: the least aggressive pruning window,
    /// start, end or merge (--solve) whose reduction factor reaches the target.
    Budget {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        budget: crate::budget::BudgetArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Charts (PNG or SVG): efficiency curves, a per-layer view, a roofline, or a measurement.
    ///
    /// `curves`: FLOPs and prefill time against frames, one line per schedule; `layers`: tokens
    /// and time per layer of one run, stacked by operator kind, beside the baseline; `roofline`:
    /// the GPU's roofline with every operator of one run as a point; `accuracy`: measured against
    /// predicted time per layer from `aim-sim measure --format json` (--input).
    Plot {
        #[command(flatten)]
        plot: Box<crate::plot::PlotArgs>,
    },
    /// The AIM paper's efficiency rows beside aim-sim's numbers for the same settings.
    Reproduce {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run the CUDA kernels (merge, PageRank, attention) at the sizes a configuration implies,
    /// check them against the CPU references and time them against the prediction.
    ///
    /// Without a GPU it says so in one line and exits 0 (2 with --require-gpu).
    Validate {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        gpu: GpuArgs,
        /// Element type of the kernel inputs.
        #[arg(long, value_enum, default_value = "bf16")]
        dtype: KernelDtype,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run the prefill's layer stack on the GPU with tokens really removed, and set every
    /// layer's measured time against the cost model's prediction (uncalibrated and calibrated).
    ///
    /// Without a GPU it says so in one line and exits 0 (2 with --require-gpu).
    Measure {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        gpu: GpuArgs,
        /// A GPU profile whose [efficiency] table gives the calibrated prediction
        /// [default: the --gpu profile's own table, if it has one].
        #[arg(long, value_name = "PATH")]
        calibrated_gpu: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Time the kernels of a prefill (schedule and baseline) on the GPU and write the --gpu
    /// profile with a fitted [efficiency] table (the refined model's calibration hook).
    ///
    /// Without a GPU it says so in one line and exits 0 (2 with --require-gpu).
    Calibrate {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        gpu: GpuArgs,
        /// Write the calibrated GPU profile (TOML) here [default: standard output].
        #[arg(long, value_name = "FILE")]
        profile: Option<PathBuf>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// List the embedded presets (GPUs, models, schedules).
    List {
        /// Only this kind.
        #[arg(value_enum)]
        kind: Option<PresetKind>,
    },
}

/// Options of the commands that run on a GPU.
#[derive(Debug, Clone, Args)]
pub struct GpuArgs {
    /// Exit with code 2 (instead of 0) when no usable GPU is found.
    #[arg(long)]
    pub require_gpu: bool,
    /// CUDA device ordinal.
    #[arg(long, default_value = "0", value_name = "N")]
    pub device: usize,
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
}

/// Everything that defines one simulated prefill.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Model preset name, a model TOML, or a Hugging Face config.json.
    #[arg(long, default_value = "llava-ov-7b", value_name = "NAME|PATH")]
    pub model: String,
    /// GPU preset name or a GPU TOML.
    #[arg(long, default_value = "a100", value_name = "NAME|PATH")]
    pub gpu: String,
    /// Visual tokens before merging (N / tokens-per-frame frames when it divides, else one frame).
    #[arg(long, value_name = "N", value_parser = parse_count, conflicts_with = "frames")]
    pub tokens: Option<u64>,
    /// Frames (video) or images [default: the model's, 32 for video models, 1 for image models].
    #[arg(long, value_name = "F", value_parser = parse_count)]
    pub frames: Option<u64>,
    /// Visual tokens per frame before merging [default: the model's, e.g. 196 for LLaVA-OV].
    #[arg(long, value_name = "P", value_parser = parse_count)]
    pub tokens_per_frame: Option<u64>,
    /// Text tokens (always kept).
    #[arg(long, default_value = "100", value_name = "T", value_parser = parse_count)]
    pub text_tokens: u64,
    /// Schedule preset name or a schedule TOML.
    #[arg(long, default_value = "linear", value_name = "NAME|PATH")]
    pub schedule: String,
    /// Override the schedule's merge: visual tokens kept per frame.
    #[arg(long, value_name = "K", value_parser = parse_count, conflicts_with = "merge_keep_ratio")]
    pub merge_tokens_per_frame: Option<u64>,
    /// Override the schedule's merge: fraction of each frame kept, floor(P·x).
    #[arg(long, value_name = "X")]
    pub merge_keep_ratio: Option<f64>,
    /// Override the schedule's pruning: linear pruning start layer l1.
    #[arg(long, value_name = "L1", requires = "prune_end")]
    pub prune_start: Option<u64>,
    /// Override the schedule's pruning: linear pruning end layer l2.
    #[arg(long, value_name = "L2", requires = "prune_start")]
    pub prune_end: Option<u64>,
    /// Override the linear pruning step [default: 1/(l2-l1)].
    #[arg(long, value_name = "S", requires = "prune_start")]
    pub prune_step: Option<f64>,
    /// Exact sequence length of every layer, comma-separated (overrides the schedule).
    #[arg(long, value_name = "A,B,C,...", value_delimiter = ',', value_parser = parse_count)]
    pub layer_tokens: Option<Vec<u64>>,
    /// Cost model: `refined` (what a GPU runs) or `llm-viewer` (the paper's, exactly).
    #[arg(long, value_enum, default_value = "refined")]
    pub cost_model: CostModelKind,
    /// When a pruning decision takes effect [default: code for refined, paper for llm-viewer].
    #[arg(long, value_enum)]
    pub prune_timing: Option<PruneTiming>,
    /// Model attention as one fused FlashAttention operator (same as --attention flash).
    #[arg(long, conflicts_with = "attention")]
    pub flash_attention: bool,
    /// Attention implementation [default: flash for refined, eager for llm-viewer].
    #[arg(long, value_enum)]
    pub attention: Option<AttentionImpl>,
    /// Refined: price the vision encoder, pooling and projector too (time to first token).
    #[arg(long)]
    pub include_vision: bool,
    /// Refined: decode this many tokens after the prefill, with the pruned KV cache.
    #[arg(long, value_name = "G", value_parser = parse_count)]
    pub gen_tokens: Option<u64>,
    /// Refined: tensor-parallel degree (weights and heads split over N GPUs).
    #[arg(long, default_value = "1", value_name = "N", value_parser = parse_count)]
    pub tp: u64,
    /// Refined: compute logits for every position instead of only the last one.
    #[arg(long)]
    pub all_logits: bool,
    /// Refined: how PageRank importance gets its attention probabilities. `materialized`: the
    /// H×n×n fp32 matrix is written and streamed by each power iteration (the AIM reference
    /// code); `fused`: Q·Kᵀ tiles recomputed in every iteration, no n² traffic (kernels/pagerank.cu).
    #[arg(long, value_enum, default_value = "materialized")]
    pub importance_kernel: crate::cost::ImportanceKernel,
    /// Batch size.
    #[arg(long, default_value = "1", value_name = "B", value_parser = parse_count)]
    pub batch: u64,
    /// Weight bits.
    #[arg(long, default_value = "16", value_name = "BITS")]
    pub w_bits: u32,
    /// Activation bits.
    #[arg(long, default_value = "16", value_name = "BITS")]
    pub a_bits: u32,
    /// KV-cache bits [default: --a-bits].
    #[arg(long, value_name = "BITS")]
    pub kv_bits: Option<u32>,
    /// Drop the second residual add from the totals (as the paper's video runs did).
    #[arg(long)]
    pub skip_mlp_add: bool,
}

/// How attention runs (`--attention`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum AttentionImpl {
    /// One fused kernel (FlashAttention-2 in `refined`, LLM-Viewer's fused operator in `llm-viewer`).
    Flash,
    /// Materialised softmax: `n²` logits written and read back.
    Eager,
}

/// Where and how results are written.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A positive integer count, with a message that says what to type instead.
pub fn parse_count(s: &str) -> Result<u64, String> {
    let t = s.trim();
    if let Ok(v) = t.parse::<u64>() {
        return if v == 0 {
            Err("must be at least 1".into())
        } else {
            Ok(v)
        };
    }
    if t.parse::<i128>().is_ok() {
        return Err("must be a positive integer".into());
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 && f.fract() == 0.0 && f <= u64::MAX as f64 => {
            Ok(f as u64)
        }
        Ok(_) => Err("must be a positive whole number".into()),
        Err(_) => Err(format!("'{t}' is not a number; give a positive integer")),
    }
}
