//! Writing a [`Report`]: a human table, JSON (the `Report` struct as is, base units) or CSV
//! (one row per operator per layer).

mod csv;
mod table;

use crate::sim::Report;
use serde::{Deserialize, Serialize};

/// Output format (`--format`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    #[default]
    Table,
    Json,
    Csv,
}

impl crate::choice::Choice for Format {
    const CHOICES: &'static [(Self, &'static str, &'static str)] = &[
        (Format::Table, "table", "Human units: TFLOPs, GB, ms"),
        (
            Format::Json,
            "json",
            "Base units (FLOPs, bytes, seconds); the resolved spec included",
        ),
        (
            Format::Csv,
            "csv",
            "One row per operator per layer, schedule and baseline",
        ),
    ];
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
