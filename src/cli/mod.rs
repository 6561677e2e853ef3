//! The command line: flags → [`Spec`](crate::spec::Spec) → the library → text on stdout and an
//! exit code. Nothing below this module imports it; each command in [`commands`] parses its
//! flags, calls the core (or the plot / GPU layers) for data, and hands the text to [`emit`].

pub mod args;
pub mod commands;
pub mod format;
#[cfg(not(feature = "html"))]
pub mod html;

#[cfg(feature = "html")]
pub use crate::html;
pub use args::{GpuArgs, OutputArgs, SimArgs};
pub use format::OutputFormat;

use crate::choice::Choice;
use crate::error::{Error, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use std::io::Write;
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
    allow_negative_numbers = true,
    after_help = "Examples:\n  aim-sim --tokens 6272 --schedule linear --gpu a100        AIM on a 32-frame video, A100\n  aim-sim --cost-model llm-viewer --skip-mlp-add            the paper's accounting, exactly\n  aim-sim --framework hf --gpu a100-80g --format json       as HF transformers would run it\n  aim-sim --spec run.toml --frames 64                       a run file, one flag changed\n  aim-sim list                                              presets (models, GPUs, schedules, frameworks)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub anchor: commands::run::AnchorArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Subcommands besides the default single simulation.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Simulate one prefill (the default when no subcommand is given).
    #[command(
        after_help = "Examples:\n  aim-sim simulate --model llava-1.5-7b --schedule aim-image --include-vision\n  aim-sim simulate --frames 192 --importance-kernel fused --gpu h100"
    )]
    Simulate {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        anchor: commands::run::AnchorArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Price many configurations: lists and ranges in, one row per combination out.
    ///
    /// Models, GPUs, schedules, cost models, frames, tokens, tokens per frame, text tokens and
    /// batch take comma lists and inclusive ranges (`--frames 8:256:8`); every other flag of a
    /// single run applies to all rows.
    #[command(
        after_help = "Examples:\n  aim-sim sweep --frames 8:256:8 --schedule none,linear,fastv --format csv\n  aim-sim sweep --gpu a100,h100 --cost-model refined,llm-viewer --frames 32,64"
    )]
    Sweep {
        #[command(flatten)]
        grid: Box<commands::sweep::GridArgs>,
        #[command(flatten)]
        output: commands::sweep::SweepOutputArgs,
    },
    /// Frames a schedule fits in a reference's FLOPs/time, or the setting that hits a reduction.
    ///
    /// Without --target-reduction: the largest number of frames whose FLOPs (--by time: prefill
    /// time) stay within the reference run's. With it: the least aggressive pruning window,
    /// start, end or merge (--solve) whose reduction factor reaches the target.
    #[command(
        after_help = "Examples:\n  aim-sim budget --schedule linear --reference-schedule none --reference-frames 32\n  aim-sim budget --schedule linear --target-reduction 8 --solve window --by time"
    )]
    Budget {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        budget: commands::budget::BudgetArgs,
        #[command(flatten)]
        output: args::AnswerOutputArgs,
    },
    /// Charts (PNG or SVG): efficiency curves, a per-layer view, a roofline, a measurement, or
    /// published accuracy against cost.
    ///
    /// `curves`: FLOPs and prefill time against frames, one line per schedule; `layers`: tokens
    /// and time per layer of one run, stacked by operator kind, beside the baseline; `roofline`:
    /// the GPU's roofline with every operator of one run as a point; `accuracy`: measured against
    /// predicted time per layer from `aim-sim measure --format json` (--input); `pareto`: a
    /// benchmark's published accuracy against the cost of each row (--benchmark, --by,
    /// --compare-paper).
    #[command(
        after_help = "Examples:\n  aim-sim plot curves -o curves.png --frames 8:128:8\n  aim-sim plot layers -o layers.svg --schedule fastv\n  aim-sim plot pareto --benchmark videomme -o pareto.png\n  aim-sim plot check --input reference/measurements.toml --cv -o check.png"
    )]
    Plot {
        #[command(flatten)]
        plot: Box<commands::plot::PlotArgs>,
    },
    /// Published accuracy beside computed cost: every row of a benchmark, Pareto-optimal marked.
    ///
    /// Each published row (reference/accuracy.toml: AIM and the methods it compares with) is
    /// priced at its own token setting with the cost flags given here (--gpu, --cost-model,
    /// --attention, ...; --model prices every row on that model instead of its own). A row is
    /// Pareto-optimal when no other row is at least as accurate and at most as costly (--by),
    /// one strictly. --skip-mlp-add counts each row as the paper's run did; with
    /// --cost-model llm-viewer it reproduces the paper's printed FLOPs and times.
    #[command(
        after_help = "Examples:\n  aim-sim pareto --benchmark videomme\n  aim-sim pareto --benchmark videomme --cost-model llm-viewer --skip-mlp-add --format json"
    )]
    Pareto {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        pareto: commands::pareto::ParetoArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Several schedules on one input, side by side: time, FLOPs, speed-up against the first,
    /// reduction against no reduction, peak memory and whether it fits, importance cost.
    ///
    /// `--schedule` takes a comma list (presets or files); every other flag of a single run
    /// applies to all of them. `--format html -o FILE.html` writes one chart per metric.
    Compare {
        #[command(flatten)]
        compare: Box<commands::compare::CompareArgs>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// The AIM paper's efficiency rows beside aim-sim's numbers for the same settings.
    #[command(after_help = "Examples:\n  aim-sim reproduce\n  aim-sim reproduce --format csv")]
    Reproduce {
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run the CUDA kernels (merge, PageRank, attention) at the sizes a configuration implies,
    /// check them against the CPU references and time them against the prediction.
    ///
    /// Without a GPU it says so in one line and exits 0 (2 with --require-gpu).
    #[command(
        after_help = "Examples:\n  aim-sim validate --require-gpu --dtype f32\n  aim-sim validate --frames 8 --format json"
    )]
    Validate {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        gpu: GpuArgs,
        /// Element type of the kernel inputs.
        #[arg(long, value_enum, default_value = "bf16")]
        dtype: args::KernelDtype,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Run the prefill's layer stack on the GPU with tokens really removed, and set every
    /// layer's measured time against the cost model's prediction (uncalibrated and calibrated).
    ///
    /// Without a GPU it says so in one line and exits 0 (2 with --require-gpu).
    #[command(
        after_help = "Examples:\n  aim-sim measure --gpu h100 --calibrated-gpu h100-calibrated.toml --format json > m.json"
    )]
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
    #[command(
        after_help = "Examples:\n  aim-sim calibrate --gpu h100 --profile h100-calibrated.toml"
    )]
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
    /// Predicted against published measurements: per row, per framework, speed-ups.
    ///
    /// Prices every row of a measurement file (reference/measurements.toml is the published
    /// data set) with its framework profile and with the ideal roofline; prints the relative
    /// errors, their median and worst per framework and overall, and measured against predicted
    /// speed-ups for rows measured beside a baseline. --cv source predicts every row with its whole
    /// source group left out of the fit (the error on a stack never fitted; the headline of
    /// docs/accuracy.md), --cv row (or --loo) with the row alone left out.
    #[command(
        after_help = "Examples:\n  aim-sim check reference/measurements.toml\n  aim-sim check reference/measurements.toml --cv source,row --format json"
    )]
    Check {
        #[command(flatten)]
        check: commands::check::CheckArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Fit framework profiles (launch overhead, GEMM and memory efficiency, ...) to a
    /// measurement file; print in-sample and leave-one-out errors and the profiles.
    #[command(
        after_help = "Examples:\n  aim-sim fit reference/measurements.toml\n  aim-sim fit reference/measurements.toml --framework hf --write frameworks"
    )]
    Fit {
        #[command(flatten)]
        fit: commands::check::FitArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Shell completions on standard output (`aim-sim completions bash > /etc/bash_completion.d/aim-sim`).
    #[command(
        after_help = "Examples:\n  aim-sim completions bash > ~/.local/share/bash-completion/completions/aim-sim\n  aim-sim completions zsh > ~/.zfunc/_aim-sim"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on standard output (`aim-sim man > aim-sim.1; man ./aim-sim.1`).
    Man,
    /// List the embedded presets (GPUs, models, schedules, frameworks).
    #[command(after_help = "Examples:\n  aim-sim list\n  aim-sim list frameworks")]
    List {
        /// Only this kind.
        #[arg(value_enum)]
        kind: Option<args::PresetKind>,
    },
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => commands::run::simulate(&cli.sim, &cli.anchor, &cli.output),
        Some(Command::Simulate {
            sim,
            anchor,
            output,
        }) => commands::run::simulate(&sim, &anchor, &output),
        Some(Command::Sweep { grid, output }) => commands::sweep::command(&grid, &output),
        Some(Command::Budget {
            sim,
            budget,
            output,
        }) => commands::budget::command(&sim, &budget, &output.general()),
        Some(Command::Plot { plot }) => commands::plot::command(&plot),
        Some(Command::Pareto {
            sim,
            pareto,
            output,
        }) => commands::pareto::command(&sim, &pareto, &output),
        Some(Command::Compare { compare, output }) => commands::compare::command(&compare, &output),
        Some(Command::Reproduce { output }) => commands::reproduce::command(&output),
        Some(Command::Validate {
            sim,
            gpu,
            dtype,
            output,
        }) => commands::gpu::validate(&sim, &gpu, dtype, &output),
        Some(Command::Measure {
            sim,
            gpu,
            calibrated_gpu,
            output,
        }) => commands::gpu::measure(&sim, &gpu, calibrated_gpu.as_deref(), &output),
        Some(Command::Calibrate {
            sim,
            gpu,
            profile,
            output,
        }) => commands::gpu::calibrate(&sim, &gpu, profile.as_deref(), &output),
        Some(Command::List { kind }) => commands::list::command(kind),
        Some(Command::Check { check, output }) => commands::check::check(&check, &output),
        Some(Command::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(
                shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "aim-sim",
                &mut out,
            );
            emit(&OutputArgs::stdout(), &String::from_utf8_lossy(&out))
        }
        Some(Command::Man) => {
            let mut out = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut out)
                .map_err(|source| Error::Output {
                    path: "standard output".into(),
                    source,
                })?;
            emit(&OutputArgs::stdout(), &String::from_utf8_lossy(&out))
        }
        Some(Command::Fit { fit, output }) => commands::check::fit(&fit, &output),
    }
}

/// A clap value parser for a core [`Choice`] enum: lists the words in `--help` and in errors,
/// suggests the nearest on a typo.
pub fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::CHOICES
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help)),
    )
    .map(|word| T::from_name(&word).expect("clap accepted only listed words"))
}

/// Writes `text` to `--output` or standard output. A closed pipe (`| head`) is not an error.
pub fn emit(output: &OutputArgs, text: &str) -> Result<()> {
    match &output.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        }),
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
                path: "standard output".into(),
                source: e,
            }),
            _ => Ok(()),
        },
    }
}

impl OutputArgs {
    /// Table format on standard output.
    pub fn stdout() -> OutputArgs {
        OutputArgs {
            format: OutputFormat::Text(crate::report::Format::Table),
            output: None,
        }
    }
}
