//! `--format`: the core's text formats (table, JSON, CSV: `crate::report::Format`) and `html`,
//! which the HTML layer writes. The core never hears of HTML; a command that has no page
//! turns `html` into a one-line error.

use crate::choice::Choice;
use crate::error::{Error, Result};
use crate::report::Format;
use clap::builder::{PossibleValue, PossibleValuesParser, TypedValueParser};

/// What `--format` asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputFormat {
    /// A text format the core renders.
    Text(Format),
    /// One self-contained interactive HTML page (`crate::html`).
    Html,
}

/// The commands that write an HTML page, for the error of those that do not.
const HTML_COMMANDS: &str = "the main command, sweep, budget, pareto, check, compare and serve";

impl OutputFormat {
    /// The text format, or an error saying `command` writes no HTML page.
    pub fn text(self, command: &str) -> Result<Format> {
        match self {
            OutputFormat::Text(f) => Ok(f),
            OutputFormat::Html => Err(Error::invalid(format!(
                "{command} has no HTML page: use --format table, json or csv (HTML pages: {HTML_COMMANDS})"
            ))),
        }
    }
}

/// The clap parser: the core's words with their help, and `html`.
pub fn parser() -> impl TypedValueParser<Value = OutputFormat> {
    PossibleValuesParser::new(
        Format::CHOICES
            .iter()
            .map(|(_, name, help)| PossibleValue::new(*name).help(*help))
            .chain(std::iter::once(PossibleValue::new("html").help(
                "One self-contained interactive page (charts, sortable tables; no network): write it with -o FILE.html",
            ))),
    )
    .map(|word| match Format::from_name(&word) {
        Some(f) => OutputFormat::Text(f),
        None => OutputFormat::Html,
    })
}
