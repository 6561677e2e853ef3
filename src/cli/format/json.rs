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

    fn extensions(&self) -> &'static [&'static str] {
        &["json"]
    }

    fn view(&self) -> View {
        View::Json
    }
}
