//! The `aim-sim` binary: parse flags, run, map errors to exit codes (2 = fix your input).

use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match aim_sim::cli::parse() {
        Ok(cli) => cli,
        Err(e) => return clap_error(e),
    };
    match aim_sim::cli::run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            aim_sim::cli::to_stderr(format_args!(
                "aim-sim: error: {}",
                aim_sim::error::one_line(&aim_sim::cli::keys::message(&e))
            ));
            ExitCode::from(e.exit_code())
        }
    }
}

/// Help and version go to stdout with exit 0; usage errors become one line on stderr, exit 2,
/// keeping what clap says (the missing arguments, the valid values, "a similar argument exists").
fn clap_error(e: clap::Error) -> ExitCode {
    use clap::error::ErrorKind;
    if matches!(
        e.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        let _ = e.print();
        return ExitCode::SUCCESS;
    }
    let mut message = clap_message(&e.render().to_string());
    if let Some(tip) = negative_tip(&e) {
        // In place of clap's own tip ("use '-- -3'"), which no flag's value takes.
        let mut parts: Vec<&str> = message
            .split("; ")
            .filter(|p| !p.starts_with("tip:"))
            .collect();
        parts.push(tip);
        message = parts.join("; ");
    }
    if let Some(tip) = swallowed_file_tip(&e) {
        message = format!("{message}; {tip}");
    }
    aim_sim::cli::to_stderr(format_args!(
        "aim-sim: error: {message} (see aim-sim --help)"
    ));
    ExitCode::from(2)
}

/// `check --cv FILE`: --cv's value is optional, so it took the file that followed it.
fn swallowed_file_tip(e: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let (Some(ContextValue::String(arg)), Some(ContextValue::String(value))) = (
        e.get(ContextKind::InvalidArg),
        e.get(ContextKind::InvalidValue),
    ) else {
        return None;
    };
    let file = std::path::Path::new(value).is_file() || value.ends_with(".toml");
    (e.kind() == ErrorKind::InvalidValue && arg.starts_with("--cv") && file).then_some(
        "--cv takes an optional source|row and took the file that followed it: give the file first (check FILE --cv) or write --cv source",
    )
}

/// What to type instead when clap took a negative value for a flag: a negative number reaches
/// the flag's own check, but a list or range that starts with one (`sweep --frames -3:5`) is
/// read as a short flag, `-3`.
fn negative_tip(e: &clap::Error) -> Option<&'static str> {
    use clap::error::{ContextKind, ContextValue, ErrorKind};
    let Some(ContextValue::String(arg)) = e.get(ContextKind::InvalidArg) else {
        return None;
    };
    let negative = arg
        .strip_prefix('-')
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()));
    (e.kind() == ErrorKind::UnknownArgument && negative).then_some(
        "counts, lists and ranges take positive integers: start them at 1 or more (e.g. --frames 3:5)",
    )
}

/// clap's multi-line error as one line: its text up to the usage, lines joined, tips after `;`.
fn clap_message(rendered: &str) -> String {
    let mut parts: Vec<String> = Vec::new();
    for line in rendered.lines() {
        let line = line.trim();
        if line.starts_with("Usage:") || line.starts_with("For more information") {
            break;
        }
        if line.is_empty() {
            continue;
        }
        let line = line.trim_start_matches("error: ");
        match parts.last_mut() {
            Some(last) if !line.starts_with("tip:") => {
                last.push(' ');
                last.push_str(line);
            }
            _ => parts.push(line.to_string()),
        }
    }
    let joined = parts.join("; ");
    aim_sim::error::one_line(if joined.is_empty() {
        "invalid arguments"
    } else {
        &joined
    })
}
