//! `--format html`: one self-contained interactive page (`crate::html`).

use super::{Exporter, View};

pub(crate) struct Html;

impl Exporter for Html {
    fn name(&self) -> &'static str {
        "html"
    }

    fn help(&self) -> &'static str {
        "One self-contained interactive page (charts, sortable tables; no network)"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["html", "htm"]
    }

    fn view(&self) -> View {
        View::Html
    }
}
