//! `aim-sim sweep`: the flags of a single run, with the sweepable ones taking comma lists and
//! ranges; the rows come from `crate::sweep` and stream to the output as they are priced.

use super::run::AnchorArgs;
use crate::cli::format::{self, Format, Output, Sink, View};
use crate::cli::{html, SimArgs};
use crate::error::{Error, Result};
use crate::spec::options::{self, Kind, SweepAxis, AXES};
use crate::sweep::{Axes, Grid, GridSpec, Sweep};
use clap::{Arg, ArgMatches, Args, FromArgMatches};
use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The clap id of an axis's list flag (its single-value flag of [`SimArgs`] keeps the option's
/// name as id, renamed `--single-NAME` out of the way and hidden). Leaked: clap without its
/// `string` feature takes `&'static str`, and the command is built once per process.
fn list_id(axis: &SweepAxis) -> &'static str {
    format!("list_{}", axis.name).leak()
}

/// The flags of a single run, with the sweepable ones taking lists. Every other flag of
/// `aim-sim simulate` (pruning overrides, precision, --skip-mlp-add, ...) applies to all rows.
#[derive(Debug, Clone)]
pub(crate) struct GridArgs {
    /// The single-run flags; the sweepable ones are never set here.
    pub sim: SimArgs,
    /// The list flags as typed.
    pub axes: Axes,
}

impl GridArgs {
    /// The sweep these flags describe (the `--spec` file, if any, is the base of every row).
    pub(crate) fn to_grid_spec(&self) -> Result<GridSpec> {
        Ok(GridSpec {
            base: self
                .sim
                .to_spec_beside(|option| self.axes.get(option).is_some())?,
            axes: self.axes.clone(),
        })
    }
}

impl Args for GridArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        // The axes come first, so `sweep --help` shows them first: they are the point of the
        // command. The single-value flags they replace are renamed and hidden below.
        let mut cmd = cmd;
        for axis in AXES {
            let mut list = Arg::new(list_id(axis))
                .long(axis.flag().leak() as &str)
                .value_name(axis.value_name)
                .help(axis.help)
                .help_heading("Sweep axes (comma lists and START:END[:STEP] ranges)");
            // Shell completions offer the presets (a list is still typed freely).
            if let Some(Kind::Preset(presets)) = options::find(axis.name).map(|o| o.kind) {
                list = list
                    .value_parser(crate::cli::preset_or_path(presets))
                    .hide_possible_values(true);
            }
            cmd = cmd.arg(list);
        }
        let mut cmd = SimArgs::augment_args(cmd);
        for axis in AXES {
            cmd = cmd.mut_arg(axis.name, |a| {
                a.long(format!("single-{}", axis.flag()).leak() as &str)
                    .hide(true)
            });
        }
        // Two axes that are two ways of giving one thing (--frames, --tokens) exclude each other.
        for axis in AXES {
            for other in AXES {
                let conflicts = options::find(axis.name).map_or(&[][..], |o| o.conflicts);
                if conflicts.contains(&other.name) {
                    cmd = cmd.mut_arg(list_id(axis), |a| a.conflicts_with(list_id(other)));
                }
            }
        }
        cmd
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for GridArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        let mut axes = Axes::default();
        for axis in AXES {
            if let Some(list) = m.get_one::<String>(list_id(axis)) {
                axes.set(axis.name, list.clone()).map_err(|e| {
                    clap::Error::raw(clap::error::ErrorKind::InvalidValue, e.to_string())
                })?;
            }
        }
        Ok(GridArgs {
            sim: SimArgs::from_arg_matches(m)?,
            axes,
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
}

/// Where and how a sweep's rows are written, and on how many threads they are priced.
#[derive(Debug, Clone, Args)]
pub(crate) struct SweepOutputArgs {
    /// Output format [default: table, or the -o file's extension].
    #[arg(long, help_heading = "Output", value_name = "FORMAT", value_parser = format::parser(format::EVERY_VIEW))]
    pub format: Option<Format>,
    /// Write to this file instead of standard output.
    #[arg(long, short = 'o', help_heading = "Output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Worker threads pricing the rows [default: one per core].
    #[arg(long, help_heading = "Output", value_name = "N", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub jobs: Option<u64>,
}

/// What a sweep can be written as: its rows streamed as they are priced (table, JSON, CSV,
/// JSON Lines), or, held in memory, one HTML page or the chart of the curves (`plot curves`).
pub const VIEWS: &[View] = &[
    View::Table,
    View::Json,
    View::Csv,
    View::Jsonl,
    View::Html,
    View::Chart,
];

/// A progress bar on standard error that appears only when the sweep has run for a while and
/// standard error is a terminal; piped or redirected output never gets one.
pub(crate) struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    started: Instant,
    enabled: bool,
}

impl Progress {
    /// Delay before a bar appears.
    const AFTER: Duration = Duration::from_millis(300);

    pub(crate) fn new(total: usize) -> Progress {
        Progress {
            bar: None,
            total,
            started: Instant::now(),
            enabled: true,
        }
    }

    /// Never show a bar (the rows themselves go to the terminal).
    pub(crate) fn disable(&mut self) {
        self.enabled = false;
    }

    /// Reports `done` configurations.
    pub(crate) fn update(&mut self, done: usize) {
        if self.enabled
            && self.bar.is_none()
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
    pub(crate) fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `aim-sim sweep`: expand, check the extremes, then price and write the rows as they come.
/// With an anchor, every row is priced under the profile refitted to it (its note on standard
/// error, where it stays out of the rows).
pub fn command(args: &GridArgs, anchor: &AnchorArgs, output: &SweepOutputArgs) -> Result<()> {
    let format = format::resolve("sweep", VIEWS, output.format, output.output.as_deref())?;
    let grid = Grid::new(&anchor.grid(args.to_grid_spec()?)?)?;
    let sweep = Sweep::prepare(&grid)?;
    let jobs = output
        .jobs
        .map_or_else(crate::sweep::default_jobs, |j| j as usize);
    let mut progress = Progress::new(grid.len());
    // Rows streaming to the terminal show progress themselves: no bar over them.
    if output.output.is_none() && std::io::stdout().is_terminal() {
        progress.disable();
    }
    let rows = Rows {
        grid: &grid,
        sweep: &sweep,
        jobs,
        progress: RefCell::new(progress),
    };
    let result = format::write(format, output.output.as_deref(), &rows);
    rows.progress.into_inner().finish();
    if result.is_ok() {
        // As a single run warns of its input (each warning once, a few at most); after the
        // rows, so that an invalid grid's error stays the one line on standard error.
        super::run::warn(&sweep.input_warning_lines());
    }
    result
}

/// A sweep about to be priced, as the formats see it.
struct Rows<'a> {
    grid: &'a Grid,
    sweep: &'a Sweep<'a>,
    jobs: usize,
    progress: RefCell<Progress>,
}

impl Rows<'_> {
    /// Every row in memory, for a page or a chart: refuses a grid too large before pricing it.
    fn drawn(&self, what: &str) -> Result<Vec<crate::sweep::SweepRow>> {
        if self.grid.len() > crate::sweep::MAX_DRAWN_ROWS {
            return Err(Error::invalid(format!(
                "{what} draws at most {} rows, but the sweep has {}: narrow the ranges, or use --format csv",
                crate::sweep::MAX_DRAWN_ROWS,
                self.grid.len()
            )));
        }
        self.sweep.run(self.jobs, |_| {})
    }
}

impl Output for Rows<'_> {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        let rows = match view {
            View::Html => {
                let rows = self.drawn("--format html")?;
                return out.put(&html::sweep(
                    &rows,
                    self.grid.visual_is_tokens(),
                    &self.grid.framework_name()?,
                    &self.sweep.input_warning_lines(),
                )?);
            }
            view => format::text("sweep", view)?,
        };
        let mut progress = self.progress.borrow_mut();
        self.sweep
            .write(rows, self.jobs, &mut out.out, out.name, |done| {
                progress.update(done)
            })
    }

    fn draw(&self, path: &Path) -> Result<()> {
        #[cfg(feature = "plot")]
        {
            let rows = self.drawn("a chart")?;
            let data = crate::plot::CurvesData::from_rows(
                &rows,
                self.grid.visual_is_tokens(),
                &self.grid.framework_name()?,
                self.grid.tp(),
            )?;
            crate::plot::curves(
                path,
                crate::plot::DEFAULT_SIZE,
                &data,
                crate::plot::Scale::Auto,
            )
        }
        #[cfg(not(feature = "plot"))]
        Err(super::plot::unavailable(path))
    }
}
