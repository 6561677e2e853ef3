//! Built without the `html` feature: the same functions as `crate::html`, each an error that
//! says so, so the commands need no `cfg` of their own.

use crate::check::CheckReport;
use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::pareto::Pareto;
use crate::sim::Report;
use crate::sweep::SweepRow;

fn unavailable() -> Result<String> {
    Err(Error::invalid(
        "--format html: this aim-sim was built without the `html` feature; rebuild with default features or use --format table, json or csv",
    ))
}

pub fn run(_: &Report) -> Result<String> {
    unavailable()
}

pub fn sweep(_: &[SweepRow], _: bool, _: &str, _: &[String]) -> Result<String> {
    unavailable()
}

pub fn budget(_: &crate::budget::Answer) -> Result<String> {
    unavailable()
}

pub fn pareto(_: &Pareto) -> Result<String> {
    unavailable()
}

pub fn check(_: &CheckReport) -> Result<String> {
    unavailable()
}

pub fn compare(_: &Comparison) -> Result<String> {
    unavailable()
}

pub fn serve(_: &crate::serve::query::Answer) -> Result<String> {
    unavailable()
}

pub fn serve_compare(_: &crate::serve::query::Comparison) -> Result<String> {
    unavailable()
}
