//! The command line: flags → [`Spec`](crate::spec::Spec) → the library → text on stdout and an
//! exit code. Nothing below this module imports it; each command in `commands` parses its
//! flags, calls the core (or the plot / GPU layers) for data, and hands the text to `emit`.

pub(crate) mod args;
pub(crate) mod commands;
pub(crate) mod format;
#[cfg(not(feature = "html"))]
pub(crate) mod html;
pub mod keys;
pub(crate) mod outfile;

#[cfg(feature = "html")]
pub(crate) use crate::html;
pub use args::SimArgs;
pub(crate) use args::{GpuArgs, OutputArgs, TimingArgs};

use crate::choice::Choice;
use crate::error::{Error, Result};
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};
use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// What a visual-token reduction schedule costs in a multi-modal LLM's prefill.
///
/// Without a subcommand, simulates one prefill, e.g.
/// `aim-sim --tokens 6272 --schedule linear --gpu a100`.
#[derive(Debug, Parser)]
#[command(
    name = "aim-sim",
    version,
    about = "Prefill cost of visual-token reduction (AIM: merge + PageRank pruning) in multi-modal LLMs",
    disable_version_flag = true,
    args_conflicts_with_subcommands = true,
    allow_negative_numbers = true,
    after_help = "Example: aim-sim --tokens 6272 --schedule linear --gpu a100 (more, every flag: --help)",
    after_long_help = "Examples:\n  aim-sim --tokens 6272 --schedule linear --gpu a100        AIM on a 32-frame video, A100\n  aim-sim --cost-model llm-viewer --skip-mlp-add            the paper's accounting, exactly\n  aim-sim --framework hf --gpu a100-80g --format json       as HF transformers would run it\n  aim-sim --spec run.toml --frames 64                       a run file, one flag changed\n  aim-sim list                                              presets (models, GPUs, schedules, frameworks)"
)]
pub struct Cli {
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
    #[command(flatten)]
    pub sim: SimArgs,
    #[command(flatten)]
    pub(crate) anchor: commands::run::AnchorArgs,
    #[command(flatten)]
    pub(crate) output: OutputArgs,
    /// Print version.
    #[arg(short = 'V', long, action = clap::ArgAction::Version, hide_short_help = true)]
    pub version: (),
}

/// Subcommands besides the default single simulation.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
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
    // Prices prefills only: --gen-tokens is refused, so the help does not offer it.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
    Sweep {
        #[command(flatten)]
        grid: Box<commands::sweep::GridArgs>,
        #[command(flatten)]
        anchor: commands::run::AnchorArgs,
        #[command(flatten)]
        output: commands::sweep::SweepOutputArgs,
    },
    /// Frames that fit a reference's cost, or the setting that hits a reduction.
    ///
    /// Without --target-reduction: the largest number of frames whose FLOPs (--by time: prefill
    /// time) stay within the reference run's. With it: the least aggressive pruning window,
    /// start, end or merge (--solve) whose reduction factor reaches the target.
    #[command(
        after_help = "Examples:\n  aim-sim budget --schedule linear --reference-schedule none --reference-frames 32\n  aim-sim budget --schedule linear --target-reduction 8 --solve window --by time"
    )]
    // Prices prefills only: --gen-tokens is refused, so the help does not offer it.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
    Budget {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        budget: commands::budget::BudgetArgs,
        #[command(flatten)]
        anchor: commands::run::AnchorArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Charts (PNG or SVG): curves, layers, roofline, accuracy, pareto, check.
    ///
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
    // Prices prefills only: --gen-tokens is refused, so the help does not offer it.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
    Plot {
        #[command(flatten)]
        plot: Box<commands::plot::PlotArgs>,
    },
    /// Published accuracy beside computed cost, Pareto-optimal rows marked.
    ///
    /// Each published row (reference/accuracy.toml: AIM and the methods it compares with) is
    /// priced at its own token setting with the cost flags given here (--gpu, --cost-model,
    /// --attention, ...; --model prices every row on that model instead of its own). A row is
    /// Pareto-optimal when no other row is at least as accurate and at most as costly (--by),
    /// one strictly. --cost-model llm-viewer --skip-mlp-add counts each row as the paper's run
    /// did and reproduces its printed FLOPs and times (VTW's time within 0.2 %).
    #[command(
        after_help = "Examples:\n  aim-sim pareto --benchmark videomme\n  aim-sim pareto --benchmark videomme --cost-model llm-viewer --skip-mlp-add --format json"
    )]
    // Prices prefills only: --gen-tokens is refused, so the help does not offer it.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
    Pareto {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        pareto: commands::pareto::ParetoArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Several schedules on one input, side by side.
    ///
    /// Several schedules on one input, side by side: time, FLOPs, speed-up against the first,
    /// reduction against no reduction, peak memory and whether it fits, importance cost.
    ///
    /// `--schedule` takes a comma list (presets or files); every other flag of a single run
    /// applies to all of them. `--format html -o FILE.html` writes one chart per metric.
    // Prices prefills only: --gen-tokens is refused, so the help does not offer it.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
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
    /// Run and check the CUDA kernels at a configuration's sizes (GPU).
    ///
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
        /// Kernel input type.
        #[arg(long, value_enum, default_value = "bf16", value_name = "TYPE")]
        dtype: args::KernelDtype,
        /// measure's and calibrate's: refused here with the reason (results need a real GPU).
        #[arg(long, value_name = "PATH", hide = true)]
        synthetic_device: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Time the prefill's layers on the GPU against the prediction (GPU).
    ///
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
        gpu: TimingArgs,
        /// A GPU TOML whose [efficiency] table calibrates [default: --gpu's].
        ///
        /// A GPU profile whose [efficiency] table gives the calibrated prediction
        /// [default: the --gpu profile's own table, if it has one].
        #[arg(long, value_name = "PATH")]
        calibrated_gpu: Option<String>,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Fit the --gpu profile's [efficiency] table to timed kernels (GPU).
    ///
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
        gpu: TimingArgs,
        /// Write the calibrated GPU TOML here [default: standard output].
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
    /// Fit framework profiles to a measurement file.
    ///
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
    /// Serving: TTFT, time per output token and throughput of one replica under load.
    ///
    /// One replica under a stream of requests (vLLM-style continuous batching, chunked
    /// prefill, paged KV cache): TTFT, time per output token, throughput, goodput.
    ///
    /// Every request is the single run's input (--frames, --text-tokens, --schedule, --gpu,
    /// --framework, --tp ...) unless drawn from a distribution or a trace; each engine step
    /// is priced by the refined model. docs/serving.md says what is modelled.
    #[command(
        after_long_help = "Examples:\n  aim-sim serve --gpu h100 --framework hf --frames 32 --schedule linear --rate 2\n  aim-sim serve --gpu h100 --framework hf --schedule linear --find-max-rate --slo-ttft 2\n  aim-sim serve --trace requests.csv --format csv"
    )]
    // Generates --output-tokens and prices the engine's last-position logits: --gen-tokens
    // and --all-logits are refused, so the help does not offer them.
    #[command(mut_arg("gen_tokens", |a| a.hide(true)))]
    #[command(mut_arg("all_logits", |a| a.hide(true)))]
    Serve {
        #[command(flatten)]
        sim: Box<SimArgs>,
        #[command(flatten)]
        serve: Box<commands::serve::ServeArgs>,
        #[command(flatten)]
        anchor: commands::run::AnchorArgs,
        #[command(flatten)]
        output: OutputArgs,
    },
    /// Shell completions on standard output (presets complete --gpu, --model, ...).
    #[command(
        after_help = "Examples:\n  aim-sim completions bash > ~/.local/share/bash-completion/completions/aim-sim\n  aim-sim completions zsh > ~/.zfunc/_aim-sim"
    )]
    Completions {
        /// The shell.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// The manual page (roff) on standard output (`aim-sim man > aim-sim.1`).
    #[command(
        after_help = "Examples:\n  aim-sim man > aim-sim.1\n  aim-sim man sweep > aim-sim-sweep.1"
    )]
    Man {
        /// A subcommand's page instead (the pages `aim-sim man` lists as aim-sim-NAME(1)).
        #[arg(value_name = "COMMAND")]
        command: Option<String>,
    },
    /// List the embedded presets (GPUs, models, schedules, frameworks).
    #[command(after_help = "Examples:\n  aim-sim list\n  aim-sim list frameworks")]
    List {
        /// Only this kind.
        #[arg(value_enum)]
        kind: Option<args::PresetKind>,
    },
}

/// One line on standard error. A closed standard error (`aim-sim … 2>&1 | head -1`) is no
/// error of the run: `eprintln!` panicked there (exit 101), where a closed standard output
/// ends the run quietly.
pub fn to_stderr(line: std::fmt::Arguments) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr().lock(), "{line}");
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    keys::forget_file();
    match cli.command {
        None => commands::run::simulate(&cli.sim, &cli.anchor, &cli.output),
        Some(Command::Simulate {
            sim,
            anchor,
            output,
        }) => commands::run::simulate(&sim, &anchor, &output),
        Some(Command::Sweep {
            grid,
            anchor,
            output,
        }) => commands::sweep::command(&grid, &anchor, &output),
        Some(Command::Budget {
            sim,
            budget,
            anchor,
            output,
        }) => commands::budget::command(&sim, &budget, &anchor, &output),
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
            synthetic_device,
            output,
        }) => commands::gpu::validate(&sim, &gpu, dtype, synthetic_device.as_deref(), &output),
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
        Some(Command::Serve {
            sim,
            serve,
            anchor,
            output,
        }) => commands::serve::command(&sim, &serve, &anchor, &output),
        Some(Command::List { kind }) => commands::list::command(kind),
        Some(Command::Check { check, output }) => commands::check::check(&check, &output),
        Some(Command::Completions { shell }) => {
            let mut out = Vec::new();
            clap_complete::generate(shell, &mut command(), BIN, &mut out);
            let mut script = String::from_utf8_lossy(&out).into_owned();
            if shell == clap_complete::Shell::Bash {
                script = bash_case_names_agree(&script);
            }
            emit(&OutputArgs::stdout(), &script)
        }
        Some(Command::Man { command }) => {
            let mut out = Vec::new();
            man_page(command.as_deref())?
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

/// The binary's name, as completions register it.
const BIN: &str = "aim-sim";

/// Works around clap_complete 4.6's bash script for a hyphenated binary (clap-rs/clap#6421):
/// its loop sets `cmd="aim__sim__subcmd__serve"` while the case arms read
/// `aim__subcmd__sim__subcmd__serve)`, so nothing completed after a subcommand. The arms are
/// renamed to the loop's spelling (a no-op once clap_complete agrees with itself).
fn bash_case_names_agree(script: &str) -> String {
    let loop_name = format!("{}__subcmd__", BIN.replace('-', "__"));
    let arm_name = format!("{}__subcmd__", BIN.replace('-', "__subcmd__"));
    script.replace(&arm_name, &loop_name)
}

/// The manual page of `aim-sim` or of one of its subcommands (`aim-sim-NAME(1)`, as the main
/// page's SUBCOMMANDS section names them).
fn man_page(name: Option<&str>) -> Result<clap_mangen::Man> {
    let mut cli = command();
    cli.build();
    let Some(name) = name else {
        return Ok(clap_mangen::Man::new(cli));
    };
    let name = name.strip_prefix("aim-sim-").unwrap_or(name);
    let sub = cli
        .get_subcommands()
        .find(|c| c.get_name() == name)
        .cloned()
        .ok_or_else(|| {
            let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
            Error::invalid(format!(
                "aim-sim man: no page for '{}': give one of {}",
                crate::error::shorten(name, 40),
                names.join(", ")
            ))
        })?;
    // clap names are 'static; one page per process, so leaking the title is harmless.
    let title: &'static str = Box::leak(format!("aim-sim-{}", sub.get_name()).into_boxed_str());
    // A subcommand has no version of its own; the page's header shows the program's.
    Ok(clap_mangen::Man::new(
        sub.name(title)
            .bin_name(title)
            .version(env!("CARGO_PKG_VERSION")),
    ))
}

/// A clap value parser for a core [`Choice`] enum: lists the words in `--help` and in errors,
/// suggests the nearest on a typo.
pub(crate) fn choice<T: Choice + Clone>() -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(
        T::CHOICES
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help)),
    )
    .map(|word| T::from_name(&word).expect("clap accepted only listed words"))
}

/// A value parser for `--gpu/--model/--schedule/--framework`: any preset name or path is taken
/// as typed (the core resolves it), while the preset names are the possible values that shell
/// completions offer (hidden from `--help`, which names the presets in words).
pub(crate) fn preset_or_path(presets: &'static [crate::presets::Preset]) -> PresetOrPath {
    PresetOrPath(presets)
}

/// See [`preset_or_path`].
#[derive(Clone)]
pub(crate) struct PresetOrPath(&'static [crate::presets::Preset]);

impl TypedValueParser for PresetOrPath {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        let typed = clap::builder::StringValueParser::new().parse_ref(cmd, arg, value)?;
        // `H100` (or a hub id, a device name) is the preset `h100` (unless a file has that
        // name): the run records the preset's own name, as if it had been typed so. Sweep axes
        // are comma lists: each item is matched on its own (an item that matches nothing is
        // kept exactly as typed).
        Ok(typed
            .split(',')
            .map(|item| crate::presets::canonical(item.trim(), self.0).unwrap_or(item))
            .collect::<Vec<_>>()
            .join(","))
    }

    fn possible_values(&self) -> Option<Box<dyn Iterator<Item = PossibleValue> + '_>> {
        Some(Box::new(
            self.0.iter().map(|(name, _)| PossibleValue::new(*name)),
        ))
    }
}

/// Writes `text` to `--output` or standard output. A closed pipe (`| head`) is not an error.
pub(crate) fn emit(output: &OutputArgs, text: &str) -> Result<()> {
    format::write(format::Format::Table, output.output.as_deref(), &Text(text))
}

/// Text already rendered, written as is (whatever the format was).
struct Text<'a>(&'a str);

impl format::Output for Text<'_> {
    fn write(&self, _: format::View, out: &mut format::Sink<'_>) -> Result<()> {
        out.put(self.0)
    }
}

impl OutputArgs {
    /// Standard output, no format given.
    pub(crate) fn stdout() -> OutputArgs {
        OutputArgs {
            format: None,
            output: None,
        }
    }
}

/// The views of a command's result, and the units of its figures where they are not base
/// units (FLOPs, bytes, seconds).
type Offered = (&'static [format::View], Option<&'static str>);

/// The formats each command offers (the views of its result), for `--format`'s values and help.
fn formats() -> [(&'static str, Offered); 13] {
    use commands::*;
    [
        ("simulate", (run::VIEWS, None)),
        ("sweep", (sweep::VIEWS, None)),
        ("budget", (budget::VIEWS, None)),
        ("pareto", (pareto::VIEWS, None)),
        ("compare", (compare::VIEWS, None)),
        ("reproduce", (reproduce::VIEWS, Some(reproduce::UNITS))),
        ("validate", (gpu::VALIDATE_VIEWS, None)),
        ("measure", (gpu::MEASURE_VIEWS, None)),
        ("calibrate", (gpu::CALIBRATE_VIEWS, None)),
        ("check", (check::CHECK_VIEWS, Some(check::UNITS))),
        ("fit", (check::FIT_VIEWS, Some(check::UNITS))),
        ("serve", (serve::VIEWS, None)),
        ("", (run::VIEWS, None)),
    ]
}

/// The command line's definition: the derived one, with each command's `--format` offering its
/// own formats, and negative numbers taken as values in every subcommand.
pub fn command() -> clap::Command {
    let mut cli = negative_numbers(<Cli as clap::CommandFactory>::command());
    for (name, (views, units)) in formats() {
        cli = if name.is_empty() {
            format::offer(cli, views, units)
        } else {
            cli.mut_subcommand(name, |c| format::offer(c, views, units))
        };
    }
    cli
}

/// `cmd` and its subcommands, nested ones too, taking a negative number as a flag's value, as
/// the top level does: `sweep --frames -3` reaches the flag's own check ("must be a positive
/// integer") instead of clap's "unexpected argument '-3'" (which `allow_negative_numbers` on
/// the top level alone left every subcommand saying).
fn negative_numbers(cmd: clap::Command) -> clap::Command {
    let names: Vec<String> = cmd
        .get_subcommands()
        .map(|c| c.get_name().to_owned())
        .collect();
    names
        .iter()
        .fold(cmd.allow_negative_numbers(true), |c, name| {
            c.mut_subcommand(name, negative_numbers)
        })
}

/// Parses the command line (see [`command`]).
pub fn parse() -> std::result::Result<Cli, clap::Error> {
    let matches = command().try_get_matches()?;
    <Cli as clap::FromArgMatches>::from_arg_matches(&matches)
}
