//! `--format csv`: rows with a header, base units (RFC 4180).

use super::{Exporter, View};

pub(crate) struct Csv;

impl Exporter for Csv {
    fn name(&self) -> &'static str {
        "csv"
    }

    fn help(&self) -> &'static str {
        "Rows with a header, base units"
    }

    fn help_in(&self, units: &str) -> Option<String> {
        Some(format!("Rows with a header, {units}"))
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["csv"]
    }

    fn view(&self) -> View {
        View::Csv
    }
}
