//! `aim-sim [flags]` / `aim-sim simulate`: one prefill, schedule against baseline.

use crate::cli::{emit, html, OutputArgs, OutputFormat, SimArgs};
use crate::error::Result;
use crate::report;
use crate::scenario::Scenario;
use crate::sim;

/// One-anchor calibration of a single run (docs/accuracy.md, "One anchor").
#[derive(Debug, Clone, Default, clap::Args)]
pub struct AnchorArgs {
    /// Measured ms of this input without reduction: calibrates --framework.
    ///
    /// Your measured time, ms, of this input WITHOUT token reduction on your own stack (prefill,
    /// or time to first token with --include-vision): refits the --framework profile's
    /// per-kernel overhead so the baseline takes exactly that, then predicts the schedule from
    /// there, with the narrower interval an anchor leaves.
    #[arg(help_heading = "Model and GPU", long, value_name = "MS")]
    pub anchor_ms: Option<f64>,
}

/// Simulates the run the flags (and `--spec`) describe and writes it.
pub fn simulate(args: &SimArgs, anchor: &AnchorArgs, output: &OutputArgs) -> Result<()> {
    let spec = args.to_spec()?;
    let scenario = match anchor.anchor_ms {
        Some(ms) => crate::check::anchor::anchored_scenario(&spec, ms)?,
        None => Scenario::from_spec(&spec)?,
    };
    let report = sim::simulate(&scenario)?;
    warn(&report.run.warnings);
    match output.format {
        OutputFormat::Text(format) => emit(output, &report::render(&report, format)),
        OutputFormat::Html => emit(output, &html::run(&report)?),
    }
}

/// Warnings go to standard error too, whatever the format (a CSV or a JSON file has no room
/// for them that a reader would see).
pub fn warn(warnings: &[String]) {
    for w in warnings {
        eprintln!("aim-sim: warning: {w}");
    }
}
