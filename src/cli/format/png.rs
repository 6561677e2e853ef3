//! `--format png` (or `-o FILE.png`): the chart `aim-sim plot` draws of the result, as PNG.

use super::{Exporter, View};

pub(crate) struct Png;

impl Exporter for Png {
    fn name(&self) -> &'static str {
        "png"
    }

    fn help(&self) -> &'static str {
        "The result's chart (as `aim-sim plot` draws it), a PNG image: -o FILE.png"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["png"]
    }

    fn view(&self) -> View {
        View::Chart
    }

    fn draws_file(&self) -> bool {
        true
    }
}
