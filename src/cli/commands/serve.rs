//! `aim-sim serve`: one replica under a stream of requests (the logic is `crate::serve`).

use crate::cli::{emit, OutputArgs, OutputFormat, SimArgs};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::serve::{self, render, Arrivals, Dist, Limits, Server, Slo};
use clap::Args;
use std::path::PathBuf;

/// The workload, the engine's limits and the latency targets.
#[derive(Debug, Clone, Args)]
pub struct ServeArgs {
    /// Poisson arrival rate, requests per second (with --find-max-rate: where the search starts).
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
    /// Requests from a trace instead: CSV with a header (arrival_s, frames or visual_tokens,
    /// text_tokens, output_tokens) or JSON Lines with those keys.
    #[arg(long, help_heading = "Workload", value_name = "FILE", conflicts_with_all = ["requests", "duration", "find_max_rate"])]
    pub trace: Option<PathBuf>,
    /// Seed of the arrivals and lengths (the same seed gives the same output).
    #[arg(long, help_heading = "Workload", default_value_t = 0)]
    pub seed: u64,
    /// Output tokens per request: N, uniform:MIN:MAX or exp:MEAN.
    #[arg(
        long,
        help_heading = "Workload",
        default_value = "64",
        value_name = "DIST"
    )]
    pub output_tokens: String,
    /// Frames per request drawn from a distribution (uniform:MIN:MAX, exp:MEAN) [default: --frames].
    #[arg(long, help_heading = "Workload", value_name = "DIST")]
    pub frames_dist: Option<String>,
    /// Text tokens per request drawn from a distribution [default: --text-tokens].
    #[arg(long, help_heading = "Workload", value_name = "DIST")]
    pub text_dist: Option<String>,
    /// Requests in one step at most (vLLM's max_num_seqs).
    #[arg(long, help_heading = "Engine", default_value_t = 256)]
    pub max_num_seqs: u64,
    /// Tokens in one step at most (vLLM's max_num_batched_tokens).
    #[arg(long, help_heading = "Engine", default_value_t = 8192)]
    pub max_num_batched_tokens: u64,
    /// Prefill whole prompts only (vLLM V1 always chunks).
    #[arg(long, help_heading = "Engine")]
    pub no_chunked_prefill: bool,
    /// Tokens per KV block.
    #[arg(long, help_heading = "Engine", default_value_t = 16)]
    pub block_size: u64,
    /// Share of GPU memory for weights, activations and KV cache.
    #[arg(long, help_heading = "Engine", default_value_t = 0.9)]
    pub gpu_memory_utilization: f64,
    /// KV-cache size per GPU in GB, instead of what the memory leaves.
    #[arg(long, help_heading = "Engine", value_name = "GB")]
    pub kv_cache_gb: Option<f64>,
    /// Time-to-first-token target, seconds.
    #[arg(long, help_heading = "Targets", value_name = "SECONDS")]
    pub slo_ttft: Option<f64>,
    /// Time-per-output-token target, seconds.
    #[arg(long, help_heading = "Targets", value_name = "SECONDS")]
    pub slo_tpot: Option<f64>,
    /// Share of requests that must meet the targets.
    #[arg(long, help_heading = "Targets", default_value_t = 0.9)]
    pub slo_attainment: f64,
    /// Search the highest Poisson rate at which --slo-attainment of the requests meet the targets.
    #[arg(long, help_heading = "Targets")]
    pub find_max_rate: bool,
    /// Price the published serving measurements of this file instead (reference/serving.toml).
    #[arg(long, help_heading = "Validation", value_name = "FILE", conflicts_with_all = ["trace", "find_max_rate"])]
    pub reference: Option<PathBuf>,
    /// Framework profiles the --reference rows are priced under.
    #[arg(
        long,
        help_heading = "Validation",
        value_delimiter = ',',
        default_value = "roofline,trtllm,hf",
        value_name = "A,B,..."
    )]
    pub reference_frameworks: Vec<String>,
}

impl ServeArgs {
    fn limits(&self) -> Result<Limits> {
        if let Some(gb) = self.kv_cache_gb {
            if !(gb.is_finite() && gb > 0.0) {
                return Err(Error::invalid(format!(
                    "--kv-cache-gb {gb}: give a positive size"
                )));
            }
        }
        Ok(Limits {
            max_num_seqs: self.max_num_seqs,
            max_num_batched_tokens: self.max_num_batched_tokens,
            chunked_prefill: !self.no_chunked_prefill,
            block_size: self.block_size,
            gpu_memory_utilization: self.gpu_memory_utilization,
            kv_cache_bytes: self.kv_cache_gb.map(|g| g * 1e9),
        })
    }

    fn slo(&self) -> Result<Slo> {
        for (name, v) in [("--slo-ttft", self.slo_ttft), ("--slo-tpot", self.slo_tpot)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::invalid(format!(
                        "{name} {v}: give a positive number of seconds"
                    )));
                }
            }
        }
        Ok(Slo {
            ttft_s: self.slo_ttft,
            tpot_s: self.slo_tpot,
            attainment: self.slo_attainment,
        })
    }

    fn arrivals(&self, s: &Scenario) -> Result<Arrivals> {
        let dist = |flag: &Option<String>, name: &str, default: u64| match flag {
            Some(t) => Dist::parse(t, name),
            None => Ok(Dist::Fixed { value: default }),
        };
        Ok(Arrivals {
            rate_per_s: self.rate,
            requests: self.requests.or(self.duration.is_none().then_some(1000)),
            duration_s: self.duration,
            frames: dist(&self.frames_dist, "--frames-dist", s.input.frames)?,
            text_tokens: dist(&self.text_dist, "--text-dist", s.input.text_tokens)?,
            output_tokens: Dist::parse(&self.output_tokens, "--output-tokens")?,
            seed: self.seed,
        })
    }
}

/// Runs the replica the flags describe and writes the result.
pub fn command(sim: &SimArgs, args: &ServeArgs, output: &OutputArgs) -> Result<()> {
    if let Some(path) = &args.reference {
        let format = match output.format {
            OutputFormat::Text(f) => f,
            OutputFormat::Html => {
                return Err(Error::invalid(
                    "--reference has no HTML page: use --format table, json or csv",
                ))
            }
        };
        let reference = serve::check::Reference::load(path)?;
        let report = serve::check::check(&reference, &args.reference_frameworks)?;
        return emit(output, &serve::check::render(&report, format));
    }
    let spec = sim.to_spec()?;
    if spec.gen_tokens > 0 {
        return Err(Error::invalid(
            "serve generates --output-tokens per request: drop --gen-tokens",
        ));
    }
    let scenario = Scenario::from_spec(&spec)?;
    let format = match output.format {
        OutputFormat::Text(f) => f,
        OutputFormat::Html => {
            return Err(Error::invalid(
                "serve has no HTML page yet: use --format table, json or csv",
            ))
        }
    };
    let mut server = Server::new(&scenario, args.limits()?)?;
    let slo = args.slo()?;
    if args.find_max_rate {
        let m = serve::find_max_rate(&mut server, &args.arrivals(&scenario)?, slo)?;
        return emit(output, &render::render_max_rate(&m, format));
    }
    let (requests, rate) = match &args.trace {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
                path: path.clone(),
                source,
            })?;
            let per_frame = scenario.input.tokens_per_frame;
            (
                serve::workload::parse_trace(&text, &path.display().to_string(), per_frame)?,
                None,
            )
        }
        None => (args.arrivals(&scenario)?.generate()?, Some(args.rate)),
    };
    let report = server.run(&requests, slo, rate)?;
    emit(output, &render::render(&report, format))
}
