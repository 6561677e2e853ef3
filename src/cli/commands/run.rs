//! `aim-sim [flags]` / `aim-sim simulate`: one prefill, schedule against baseline.

use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{html, OutputArgs, SimArgs};
use crate::error::Result;
use crate::report;
use crate::scenario::Scenario;
use crate::sim;
use std::path::Path;

/// One-anchor calibration of a single run (docs/accuracy.md, "One anchor").
#[derive(Debug, Clone, Default, clap::Args)]
pub(crate) struct AnchorArgs {
    /// Measured ms of this input without reduction: calibrates --framework.
    ///
    /// Your measured time, ms, of this input WITHOUT token reduction on your own stack (prefill,
    /// or time to first token with --include-vision): refits the --framework profile's GEMM
    /// efficiency and per-kernel overhead so the baseline takes exactly that (split between the
    /// two as the spread between harnesses makes most likely), then predicts the schedule from
    /// there, with the narrower interval an anchor leaves.
    #[arg(help_heading = "Model and GPU", long, value_name = "MS")]
    pub anchor_ms: Option<f64>,

    /// Measured rows (reference/measurements.toml's schema) that calibrate --framework.
    ///
    /// Your own measured times, several rows in the schema of reference/measurements.toml, on
    /// your own stack: refits the --framework profile's GEMM efficiency and per-kernel overhead
    /// (then host work per forward) by least squares on their log errors, with the fit's priors,
    /// then predicts this run from there with the interval an anchor leaves. One row gives
    /// --anchor-ms's fit.
    #[arg(
        help_heading = "Model and GPU",
        long,
        value_name = "FILE",
        conflicts_with = "anchor_ms",
        hide_short_help = true
    )]
    pub anchor: Option<std::path::PathBuf>,
}

impl AnchorArgs {
    /// The scenario of one run, anchored when an anchor is given (its note among the run's).
    pub(crate) fn scenario(&self, spec: &crate::spec::Spec) -> Result<Scenario> {
        match (self.anchor_ms, &self.anchor) {
            (Some(ms), _) => crate::check::anchor::anchored_scenario(spec, ms),
            (None, Some(file)) => crate::check::anchor::anchored_scenario_file(spec, file),
            (None, None) => Scenario::from_spec(spec),
        }
    }

    /// A sweep's spec under the profile refitted to the anchor, if one is given; the refit's
    /// note goes to standard error, where it stays out of the rows.
    pub(crate) fn grid(&self, spec: crate::sweep::GridSpec) -> Result<crate::sweep::GridSpec> {
        match crate::sweep::anchored(&spec, self.anchor_ms, self.anchor.as_deref())? {
            Some((anchored, note)) => {
                crate::cli::to_stderr(format_args!("note: {}", crate::cli::keys::flags_in(&note)));
                Ok(anchored)
            }
            None => Ok(spec),
        }
    }
}

/// Simulates the run the flags (and `--spec`) describe and writes it.
pub fn simulate(args: &SimArgs, anchor: &AnchorArgs, output: &OutputArgs) -> Result<()> {
    let format = output.resolve("simulate", VIEWS)?;
    let report = sim::simulate(&anchor.scenario(&args.to_spec()?)?)?;
    warn(&report.run.warnings);
    format::write(format, output.output.as_deref(), &report)
}

/// What a run can be written as; its chart is `plot layers`.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Csv, View::Html, View::Chart];

impl Output for sim::Report {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::run(self)?,
            view => report::render(self, format::text("simulate", view)?)?,
        })
    }

    fn draw(&self, path: &Path) -> Result<()> {
        #[cfg(feature = "plot")]
        return crate::plot::layers(path, crate::plot::DEFAULT_SIZE, self);
        #[cfg(not(feature = "plot"))]
        Err(super::plot::unavailable(path))
    }
}

/// Warnings go to standard error too, whatever the format (a CSV or a JSON file has no room
/// for them that a reader would see).
pub fn warn(warnings: &[String]) {
    for w in warnings {
        crate::cli::to_stderr(format_args!(
            "aim-sim: warning: {}",
            crate::cli::keys::flags_in(w)
        ));
    }
}
