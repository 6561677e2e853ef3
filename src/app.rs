//! Dispatch of the subcommands: flags → scenario → simulation → output.

use crate::cli::{Cli, Command, OutputArgs, PresetKind, SimArgs};
use crate::error::{Error, Result};
use crate::presets;
use crate::report;
use crate::scenario::Scenario;
use crate::sim;
use std::io::Write;

/// Runs the parsed command line.
pub fn run(cli: Cli) -> Result<()> {
    match cli.command {
        None => simulate(&cli.sim, &cli.output),
        Some(Command::Simulate { sim, output }) => simulate(&sim, &output),
        Some(Command::Sweep { grid, output }) => crate::sweep::command(&grid, &output),
        Some(Command::Budget {
            sim,
            budget,
            output,
        }) => crate::budget::command(&sim, &budget, &output),
        Some(Command::Plot { plot }) => crate::plot::command(&plot),
        Some(Command::Reproduce { output }) => crate::reproduce::command(&output),
        Some(Command::Validate {
            sim,
            gpu,
            dtype,
            output,
        }) => crate::gpu_commands::validate(&sim, &gpu, dtype, &output),
        Some(Command::Measure {
            sim,
            gpu,
            calibrated_gpu,
            output,
        }) => crate::gpu_commands::measure(&sim, &gpu, calibrated_gpu.as_deref(), &output),
        Some(Command::Calibrate {
            sim,
            gpu,
            profile,
            output,
        }) => crate::gpu_commands::calibrate(&sim, &gpu, profile.as_deref(), &output),
        Some(Command::List { kind }) => emit(&OutputArgs::stdout(), &list(kind)),
    }
}

fn simulate(args: &SimArgs, output: &OutputArgs) -> Result<()> {
    let scenario = Scenario::from_args(args)?;
    let report = sim::simulate(&scenario)?;
    emit(output, &report::render(&report, output.format))
}

/// `aim-sim list`: preset names with a one-line description each.
fn list(kind: Option<PresetKind>) -> String {
    let mut out = String::new();
    let groups: [(PresetKind, &str, &[presets::Preset]); 3] = [
        (PresetKind::Gpus, "GPUs (--gpu)", presets::GPUS),
        (PresetKind::Models, "models (--model)", presets::MODELS),
        (
            PresetKind::Schedules,
            "schedules (--schedule)",
            presets::SCHEDULES,
        ),
    ];
    for (k, title, list) in groups {
        if kind.is_some_and(|want| want != k) {
            continue;
        }
        out.push_str(title);
        out.push('\n');
        for (name, text) in list {
            out.push_str(&format!("  {name:<16} {}\n", describe(text)));
        }
    }
    out
}

/// The `description` (or `name`) value of a preset file, for listings.
fn describe(text: &str) -> String {
    let table: toml::Table = toml::from_str(text).unwrap_or_default();
    ["description", "name"]
        .iter()
        .find_map(|k| {
            table
                .get(*k)
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
        })
        .unwrap_or("")
        .to_string()
}

impl OutputArgs {
    /// Table format on standard output.
    pub fn stdout() -> OutputArgs {
        OutputArgs {
            format: report::Format::Table,
            output: None,
        }
    }
}

/// Writes `text` to `--output` or standard output. A closed pipe (`| head`) is not an error.
pub fn emit(output: &OutputArgs, text: &str) -> Result<()> {
    match &output.output {
        Some(path) => std::fs::write(path, text).map_err(|source| Error::Output {
            path: path.clone(),
            source,
        }),
        None => match std::io::stdout().lock().write_all(text.as_bytes()) {
            Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Output {
                path: "standard output".into(),
                source: e,
            }),
            _ => Ok(()),
        },
    }
}
