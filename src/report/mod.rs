//! Writing a [`Report`]: a human table, JSON (the `Report` struct as is, base units) or CSV
//! (one row per operator per layer).

mod csv;
mod number;
mod table;

pub use number::push_f64;
#[cfg(feature = "html")]
pub(crate) use table::interval_ms;
pub(crate) use table::interval_range_ms;
pub(crate) use table::settings_parts;

use crate::error::Result;
use crate::sim::Report;

/// The text formats the core writes a result in: the one format type of the crate's renderers
/// (the command line's table, JSON, CSV and JSON Lines views map to it in one place,
/// `cli::format::text`; its other formats are made from these, or drawn). A result that has
/// no such shape refuses the format ([`TextFormat::lacks`]), never falls back to another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TextFormat {
    /// Aligned columns in human units (TFLOPs, GB, ms).
    Table,
    /// The result as pretty JSON, base units ([`json_text`]).
    Json,
    /// Rows with a header, base units.
    Csv,
    /// One compact JSON object per line (results that are rows).
    Jsonl,
}

impl TextFormat {
    /// The word of `--format`.
    pub fn name(self) -> &'static str {
        match self {
            TextFormat::Table => "table",
            TextFormat::Json => "json",
            TextFormat::Csv => "csv",
            TextFormat::Jsonl => "jsonl",
        }
    }

    /// The error of `what` asked in a format it has no shape for.
    pub fn lacks(self, what: &str) -> crate::error::Error {
        crate::error::Error::invalid(format!("{what} has no {} output", self.name()))
    }
}

/// ` × 4 (tensor parallel: figures per GPU)` after a GPU's name above one GPU, else nothing: a
/// chart of a 72B model on 4 GPUs read as the whole model's figures.
pub fn per_gpu(tp: u64) -> String {
    if tp > 1 {
        format!(" × {tp} (tensor parallel: figures per GPU)")
    } else {
        String::new()
    }
}

/// A CSV field, quoted when it holds a comma, quote or line break (RFC 4180).
pub fn csv_field(s: &str) -> std::borrow::Cow<'_, str> {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\"")).into()
    } else {
        s.into()
    }
}

/// Pretty JSON and a final newline: what every command's `--format json` prints.
pub fn json_text<T: serde::Serialize>(value: &T) -> String {
    let mut s = serde_json::to_string_pretty(value).expect("output serialises");
    s.push('\n');
    s
}

/// Renders a report in the chosen format.
pub fn render(report: &Report, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => table::render(report),
        TextFormat::Json => json_text(report),
        TextFormat::Csv => csv::render(report),
        TextFormat::Jsonl => return Err(format.lacks("a run report")),
    })
}
