//! `aim-sim [flags]` / `aim-sim simulate`: one prefill, schedule against baseline.

use crate::cli::{emit, html, OutputArgs, OutputFormat, SimArgs};
use crate::error::Result;
use crate::report;
use crate::scenario::Scenario;
use crate::sim;

/// Simulates the run the flags (and `--spec`) describe and writes it.
pub fn simulate(args: &SimArgs, output: &OutputArgs) -> Result<()> {
    let scenario = Scenario::from_spec(&args.to_spec()?)?;
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
