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
            eprintln!(
                "aim-sim: error: {}",
                aim_sim::error::one_line(&aim_sim::cli::keys::message(&e))
            );
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
    eprintln!(
        "aim-sim: error: {} (see aim-sim --help)",
        clap_message(&e.render().to_string())
    );
    ExitCode::from(2)
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
