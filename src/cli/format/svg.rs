//! `--format svg` (or `-o FILE.svg`): the chart `aim-sim plot` draws of the result, as SVG.

use super::{Exporter, View};

pub(crate) struct Svg;

impl Exporter for Svg {
    fn name(&self) -> &'static str {
        "svg"
    }

    fn help(&self) -> &'static str {
        "The result's chart (as `aim-sim plot` draws it), an SVG image: -o FILE.svg"
    }

    fn extensions(&self) -> &'static [&'static str] {
        &["svg"]
    }

    fn view(&self) -> View {
        View::Chart
    }

    fn draws_file(&self) -> bool {
        true
    }
}
