//! `aim-sim list`: preset names with a one-line description each.

use crate::cli::args::PresetKind;
use crate::cli::{emit, OutputArgs};
use crate::error::Result;
use crate::presets;

pub fn command(kind: Option<PresetKind>) -> Result<()> {
    emit(&OutputArgs::stdout(), &list(kind))
}

fn list(kind: Option<PresetKind>) -> String {
    let mut out = String::new();
    let groups: [(PresetKind, &str, &[presets::Preset]); 4] = [
        (PresetKind::Gpus, "GPUs (--gpu)", presets::GPUS),
        (PresetKind::Models, "models (--model)", presets::MODELS),
        (
            PresetKind::Schedules,
            "schedules (--schedule)",
            presets::SCHEDULES,
        ),
        (
            PresetKind::Frameworks,
            "frameworks (--framework)",
            presets::FRAMEWORKS,
        ),
    ];
    for (k, title, list) in groups {
        if kind.is_some_and(|want| want != k) {
            continue;
        }
        out.push_str(title);
        out.push('\n');
        for (name, text) in list {
            out.push_str(&format!("  {name:<16} {}\n", presets::describe(text)));
        }
    }
    out
}
