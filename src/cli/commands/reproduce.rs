//! `aim-sim reproduce`: the AIM paper's efficiency rows beside aim-sim's figures.

use crate::cli::format::{self, Output, Sink, View};
use crate::cli::OutputArgs;
use crate::error::Result;
use crate::reproduce;

pub fn command(output: &OutputArgs) -> Result<()> {
    let format = output.resolve("reproduce", VIEWS)?;
    let r = reproduce::reproduce()?;
    format::write(format, output.output.as_deref(), &r)
}

/// What the reproduction can be written as.
pub const VIEWS: &[View] = &[View::Table, View::Json, View::Csv];

/// The units of its figures in every format: the paper's, not base units.
pub const UNITS: &str = "TFLOPs and ms, as each field's name says";

impl Output for reproduce::Reproduction {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&reproduce::render(self, format::text("reproduce", view)?)?)
    }
}
