//! `--format jsonl`: JSON Lines, one compact object per row.

use super::{Exporter, View};

pub(crate) struct Jsonl;

impl Exporter for Jsonl {
    fn name(&self) -> &'static str {
        "jsonl"
    }

    fn help(&self) -> &'static str {
        "JSON Lines: one compact row object per line, base units"
    }

    fn help_in(&self, units: &str) -> Option<String> {
        Some(format!("JSON Lines: one compact row object per line, {units}"))
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["jsonl"]
    }

    fn view(&self) -> View {
        View::Jsonl
    }
}
