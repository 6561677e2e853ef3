//! `--format table`: the human table (human units), the default.

use super::{Exporter, View};

pub(crate) struct Table;

impl Exporter for Table {
    fn name(&self) -> &'static str {
        "table"
    }

    fn help(&self) -> &'static str {
        "Human units (TFLOPs, GB, ms), aligned columns"
    }

    fn view(&self) -> View {
        View::Table
    }
}
