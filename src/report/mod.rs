//! Writing a [`Report`]: a human table, JSON (the `Report` struct as is, base units) or CSV
//! (one row per operator per layer).

mod csv;
mod table;

use crate::sim::Report;
use serde::Serialize;

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Table,
    Json,
    Csv,
}

/// Renders a report in the chosen format.
pub fn render(report: &Report, format: Format) -> String {
    match format {
        Format::Table => table::render(report),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).expect("report serialises");
            s.push('\n');
            s
        }
        Format::Csv => csv::render(report),
    }
}
