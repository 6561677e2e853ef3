//! `aim-sim serve`: one replica under a stream of requests (the logic is `crate::serve`).

use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{html, OutputArgs, SimArgs};
use crate::error::{Error, Result};
use crate::serve::{self, query::Query};
use clap::Args;
use std::path::PathBuf;

/// The workload, the engine's limits and the latency targets.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Poisson arrival rate, requests per second.
    ///
    /// With --find-max-rate: where the search starts.
    #[arg(
        long,
        help_heading = "Workload",
        default_value_t = 1.0,
        value_name = "PER_S"
    )]
    pub rate: f64,
    /// Requests to simulate [default: 1000 unless --duration is given].
    #[arg(long, help_heading = "Workload", value_name = "N")]
    pub requests: Option<u64>,
    /// Arrivals for this many seconds.
    #[arg(long, help_heading = "Workload", value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Requests from a trace file (CSV or JSON Lines) instead.
    ///
    /// CSV with a header (arrival_s, frames or visual_tokens, text_tokens, output_tokens) or
    /// JSON Lines with those keys.
    #[arg(long, help_heading = "Workload", value_name = "FILE", conflicts_with_all = ["rate", "requests", "duration", "find_max_rate", "seed", "output_tokens", "frames_dist", "text_dist"])]
    pub trace: Option<PathBuf>,
    /// Seed of the arrivals and lengths (the same seed gives the same output).
    #[arg(
        long,
        help_heading = "Workload",
        default_value_t = 0,
        hide_short_help = true
    )]
    pub seed: u64,
    /// Output tokens per request (N, uniform:MIN:MAX, exp:MEAN; at least 1).
    #[arg(
        long,
        help_heading = "Workload",
        default_value = "64",
        value_name = "DIST"
    )]
    pub output_tokens: String,
    /// Frames per request drawn from a distribution (uniform:MIN:MAX, exp:MEAN).
    ///
    /// Default: every request has --frames.
    #[arg(
        long,
        help_heading = "Workload",
        value_name = "DIST",
        hide_short_help = true
    )]
    pub frames_dist: Option<String>,
    /// Text tokens per request drawn from a distribution (at least 1).
    ///
    /// Default: every request has --text-tokens.
    #[arg(
        long,
        help_heading = "Workload",
        value_name = "DIST",
        hide_short_help = true
    )]
    pub text_dist: Option<String>,
    /// Requests in one step at most (vLLM max_num_seqs).
    #[arg(long, help_heading = "Engine", default_value_t = 256, value_name = "N")]
    pub max_num_seqs: u64,
    /// Tokens per step at most (max_num_batched_tokens).
    #[arg(
        long,
        help_heading = "Engine",
        default_value_t = 8192,
        value_name = "N"
    )]
    pub max_num_batched_tokens: u64,
    /// Prefill whole prompts only (vLLM V1 always chunks).
    #[arg(long, help_heading = "Engine", hide_short_help = true)]
    pub no_chunked_prefill: bool,
    /// Tokens per KV block.
    #[arg(
        long,
        help_heading = "Engine",
        default_value_t = 16,
        hide_short_help = true
    )]
    pub block_size: u64,
    /// Share of GPU memory for weights, activations and KV cache.
    #[arg(
        long,
        help_heading = "Engine",
        default_value_t = 0.9,
        hide_short_help = true
    )]
    pub gpu_memory_utilization: f64,
    /// KV-cache size per GPU in GB, instead of what the memory leaves.
    #[arg(
        long,
        help_heading = "Engine",
        value_name = "GB",
        hide_short_help = true
    )]
    pub kv_cache_gb: Option<f64>,
    /// Time-to-first-token target, seconds.
    #[arg(long, help_heading = "Targets", value_name = "SECONDS")]
    pub slo_ttft: Option<f64>,
    /// Time-per-output-token target, seconds.
    #[arg(long, help_heading = "Targets", value_name = "SECONDS")]
    pub slo_tpot: Option<f64>,
    /// Share of requests that must meet the targets [default: 0.9].
    // No clap default: given without --slo-ttft or --slo-tpot, it is refused (it was accepted
    // and changed nothing).
    #[arg(
        long,
        help_heading = "Targets",
        value_name = "SLO_ATTAINMENT",
        hide_short_help = true
    )]
    pub slo_attainment: Option<f64>,
    /// Search the highest rate at which the requests meet the targets.
    ///
    /// The highest Poisson rate at which --slo-attainment of the requests meet them.
    #[arg(long, help_heading = "Targets")]
    pub find_max_rate: bool,
    /// Several schedules side by side on the same requests, e.g. none,linear.
    ///
    /// Replaces --schedule.
    #[arg(
        long,
        help_heading = "Workload",
        value_delimiter = ',',
        value_name = "A,B,...",
        conflicts_with_all = ["schedule"]
    )]
    pub schedules: Vec<String>,
    /// Price the published serving measurements of this file (reference/serving.toml).
    #[arg(long, help_heading = "Validation", value_name = "FILE", conflicts_with_all = ["trace", "find_max_rate", "anchor_ms", "anchor"], hide_short_help = true)]
    pub reference: Option<PathBuf>,
    /// Framework profiles the --reference rows are priced under.
    #[arg(
        long,
        help_heading = "Validation",
        value_delimiter = ',',
        default_value = "roofline,trtllm,hf",
        value_name = "A,B,...",
        hide_short_help = true
    )]
    pub reference_frameworks: Vec<String>,
}

impl ServeArgs {
    fn query(&self) -> Query {
        Query {
            rate: self.rate,
            requests: self.requests,
            duration: self.duration,
            seed: self.seed,
            output_tokens: self.output_tokens.clone(),
            frames_dist: self.frames_dist.clone(),
            text_dist: self.text_dist.clone(),
            max_num_seqs: self.max_num_seqs,
            max_num_batched_tokens: self.max_num_batched_tokens,
            chunked_prefill: !self.no_chunked_prefill,
            block_size: self.block_size,
            gpu_memory_utilization: self.gpu_memory_utilization,
            kv_cache_gb: self.kv_cache_gb,
            slo_ttft: self.slo_ttft,
            slo_tpot: self.slo_tpot,
            slo_attainment: self.slo_attainment.unwrap_or(0.9),
            find_max_rate: self.find_max_rate,
        }
    }
}

/// Runs the replica the flags describe and writes the result; with an anchor, every request
/// priced under the profile refitted to it, its note in the result.
pub fn command(
    sim: &SimArgs,
    args: &ServeArgs,
    anchor: &super::run::AnchorArgs,
    output: &OutputArgs,
) -> Result<()> {
    let to = output.output.as_deref();
    if let Some(path) = &args.reference {
        let format = output.resolve("serve --reference", REFERENCE_VIEWS)?;
        let reference = serve::published::Reference::load(path)?;
        let report = serve::published::check(&reference, &args.reference_frameworks)?;
        return format::write(format, to, &report);
    }
    let format = output.resolve("serve", VIEWS)?;
    if args.slo_attainment.is_some() && args.slo_ttft.is_none() && args.slo_tpot.is_none() {
        return Err(Error::invalid(
            "--slo-attainment is the share of requests that must meet --slo-ttft or --slo-tpot, and neither is given: give a target, or drop --slo-attainment",
        ));
    }
    let (spec, note) = serve::query::anchored(
        &sim.to_spec()?,
        &args.query(),
        anchor.anchor_ms,
        anchor.anchor.as_deref(),
    )?;
    // A drawn length replaces the fixed one: `--frames 5` beside `--frames-dist` was ignored.
    for (dist, given, fixed) in [
        (
            &args.frames_dist,
            "--frames-dist",
            &["frames", "tokens"][..],
        ),
        (&args.text_dist, "--text-dist", &["text_tokens"][..]),
    ] {
        if let (Some(_), Some(flag)) = (dist, fixed.iter().find(|o| sim.is_given(o))) {
            return Err(Error::invalid(format!(
                "{given} draws each request's length: drop --{}",
                flag.replace('_', "-")
            )));
        }
    }
    let trace = match &args.trace {
        Some(path) => {
            // A trace's rows give each request's lengths: these were accepted and ignored.
            if let Some(flag) = ["frames", "tokens", "text_tokens"]
                .into_iter()
                .find(|o| sim.is_given(o))
            {
                return Err(Error::invalid(format!(
                    "--trace gives each request's frames and text tokens in its rows: drop --{} (the trace's columns arrival_s, frames or visual_tokens, text_tokens, output_tokens set them)",
                    flag.replace('_', "-")
                )));
            }
            Some(serve::query::load_trace(&spec, path)?)
        }
        None => None,
    };
    if !args.schedules.is_empty() {
        let mut c = serve::query::compare(&spec, &args.query(), &args.schedules, trace)?;
        if let Some(n) = &note {
            c.note(n);
        }
        super::run::warn(&c.warnings());
        return format::write(format, to, &c);
    }
    let mut answer = serve::query::answer(&spec, &args.query(), trace)?;
    if let Some(n) = &note {
        answer.note(n);
    }
    super::run::warn(answer.warnings());
    format::write(format, to, &answer)
}

/// What a serving run (or a comparison of schedules) can be written as.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Csv, View::Html];
/// What `serve --reference` can be written as.
const REFERENCE_VIEWS: &[View] = &[View::Table, View::Json, View::Csv];

impl Output for serve::query::Answer {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::serve(self)?,
            view => self.render(format::text("serve", view)?)?,
        })
    }
}

impl Output for serve::query::Comparison {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::serve_compare(self)?,
            view => self.render(format::text("serve", view)?)?,
        })
    }
}

impl Output for serve::published::CheckReport {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&serve::published::render(
            self,
            format::text("serve --reference", view)?,
        )?)
    }
}
