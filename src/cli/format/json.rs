//! `--format json`: the result as pretty JSON, base units.

use super::{Exporter, View};

pub(crate) struct Json;

impl Exporter for Json {
    fn name(&self) -> &'static str {
        "json"
    }

    fn help(&self) -> &'static str {
        "Base units (FLOPs, bytes, seconds), pretty-printed"
    }

    fn help_in(&self, units: &str) -> Option<String> {
        Some(format!("{}, pretty-printed", capitalised(units)))
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn view(&self) -> View {
        View::Json
    }
}

/// `units` with its first letter upper-case (it opens the help line).
fn capitalised(units: &str) -> String {
    let mut c = units.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}
