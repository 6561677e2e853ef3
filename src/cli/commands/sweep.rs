//! `aim-sim sweep`: the flags of a single run, with the sweepable ones taking comma lists and
//! ranges; the rows come from `crate::sweep` and stream to the output.

use crate::cli::{emit, html, OutputArgs, OutputFormat, SimArgs};
use crate::error::Result;
use crate::sweep::{self, Axes, Grid, GridSpec};
use clap::{Arg, ArgMatches, Args, FromArgMatches};
use std::time::{Duration, Instant};

/// A flag of [`SimArgs`] that a sweep accepts as a list.
struct Axis {
    /// The `SimArgs` field (clap id).
    id: &'static str,
    long: &'static str,
    /// The single-value flag of `SimArgs`, renamed out of the way and hidden.
    hidden_long: &'static str,
    list_id: &'static str,
    value_name: &'static str,
    help: &'static str,
}

const AXES: &[Axis] = &[
    Axis {
        id: "model",
        long: "model",
        hidden_long: "single-model",
        list_id: "list_model",
        value_name: "NAMES",
        help: "Model presets or files, comma-separated [default: llava-ov-7b]",
    },
    Axis {
        id: "gpu",
        long: "gpu",
        hidden_long: "single-gpu",
        list_id: "list_gpu",
        value_name: "NAMES",
        help: "GPU presets or files, comma-separated [default: a100]",
    },
    Axis {
        id: "schedule",
        long: "schedule",
        hidden_long: "single-schedule",
        list_id: "list_schedule",
        value_name: "NAMES",
        help: "Schedule presets or files, comma-separated [default: linear]",
    },
    Axis {
        id: "cost_model",
        long: "cost-model",
        hidden_long: "single-cost-model",
        list_id: "list_cost_model",
        value_name: "NAMES",
        help: "Cost models, comma-separated [default: as for a single run]",
    },
    Axis {
        id: "frames",
        long: "frames",
        hidden_long: "single-frames",
        list_id: "list_frames",
        value_name: "LIST",
        help: "Frames: a list and/or ranges START:END[:STEP], end inclusive, e.g. 8:256:8 [default: the model's]",
    },
    Axis {
        id: "tokens",
        long: "tokens",
        hidden_long: "single-tokens",
        list_id: "list_tokens",
        value_name: "LIST",
        help: "Visual tokens before merging (instead of --frames): list and/or ranges",
    },
    Axis {
        id: "tokens_per_frame",
        long: "tokens-per-frame",
        hidden_long: "single-tokens-per-frame",
        list_id: "list_tokens_per_frame",
        value_name: "LIST",
        help: "Visual tokens per frame before merging: list and/or ranges [default: the model's]",
    },
    Axis {
        id: "text_tokens",
        long: "text-tokens",
        hidden_long: "single-text-tokens",
        list_id: "list_text_tokens",
        value_name: "LIST",
        help: "Text tokens: list and/or ranges [default: 100]",
    },
    Axis {
        id: "batch",
        long: "batch",
        hidden_long: "single-batch",
        list_id: "list_batch",
        value_name: "LIST",
        help: "Batch sizes: list and/or ranges [default: 1]",
    },
];

/// The flags of a single run, with the sweepable ones taking lists. Every other flag of
/// `aim-sim simulate` (pruning overrides, precision, --skip-mlp-add, ...) applies to all rows.
#[derive(Debug, Clone)]
pub struct GridArgs {
    /// The single-run flags; the sweepable ones are never set here.
    pub sim: SimArgs,
    /// The list flags as typed.
    pub axes: Axes,
}

impl GridArgs {
    /// The sweep these flags describe (the `--spec` file, if any, is the base of every row).
    pub fn to_grid_spec(&self) -> Result<GridSpec> {
        Ok(GridSpec {
            base: self.sim.to_spec()?,
            axes: self.axes.clone(),
        })
    }
}

impl Args for GridArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = SimArgs::augment_args(cmd);
        for axis in AXES {
            cmd = cmd
                .mut_arg(axis.id, |a| a.long(axis.hidden_long).hide(true))
                .arg(
                    Arg::new(axis.list_id)
                        .long(axis.long)
                        .value_name(axis.value_name)
                        .help(axis.help)
                        .help_heading("Sweep axes (comma lists and START:END[:STEP] ranges)"),
                );
        }
        cmd.mut_arg("list_tokens", |a| a.conflicts_with("list_frames"))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for GridArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let list = |id: &str| m.get_one::<String>(id).cloned();
        Ok(GridArgs {
            sim: SimArgs::from_arg_matches(m)?,
            axes: Axes {
                model: list("list_model"),
                gpu: list("list_gpu"),
                schedule: list("list_schedule"),
                cost_model: list("list_cost_model"),
                frames: list("list_frames"),
                tokens: list("list_tokens"),
                tokens_per_frame: list("list_tokens_per_frame"),
                text_tokens: list("list_text_tokens"),
                batch: list("list_batch"),
            },
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// A progress bar on standard error that appears only when the sweep has run for a while and
/// standard error is a terminal; piped or redirected output never gets one.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    started: Instant,
}

impl Progress {
    /// Delay before a bar appears.
    const AFTER: Duration = Duration::from_millis(300);

    pub fn new(total: usize) -> Progress {
        Progress {
            bar: None,
            total,
            started: Instant::now(),
        }
    }

    /// Reports `done` configurations.
    pub fn update(&mut self, done: usize) {
        use std::io::IsTerminal;
        if self.bar.is_none()
            && done < self.total
            && self.started.elapsed() >= Self::AFTER
            && std::io::stderr().is_terminal()
        {
            let bar = indicatif::ProgressBar::new(self.total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} configurations, {per_sec}, eta {eta}",
                )
                .expect("valid template"),
            );
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `aim-sim sweep`: expand, price, write.
pub fn command(args: &GridArgs, output: &OutputArgs) -> Result<()> {
    let grid = Grid::new(&args.to_grid_spec()?)?;
    let mut progress = Progress::new(grid.len());
    let rows = sweep::run(&grid, |done| progress.update(done));
    progress.finish();
    let rows = rows?;
    match output.format {
        OutputFormat::Text(format) => emit(output, &sweep::render(&rows, format)),
        OutputFormat::Html => emit(output, &html::sweep(&rows, grid.visual_is_tokens())?),
    }
}
