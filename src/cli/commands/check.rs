//! `aim-sim check FILE` (predicted against published measurements) and `aim-sim fit FILE`
//! (framework profiles fitted to them); the logic is `crate::check`.

use crate::check::{self, fit, CheckOptions, Measurements};
use crate::cli::{emit, html, OutputArgs, OutputFormat};
use crate::error::{Error, Result};
use crate::report::Format;
use std::fmt::Write;
use std::path::PathBuf;

/// Flags of `aim-sim check`.
#[derive(Debug, Clone, clap::Args)]
pub struct CheckArgs {
    /// A measurement file (reference/measurements.toml is the published data set).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Also refit each framework once per row without that row and predict the row: the error
    /// to expect on a setting that was not fitted (takes longer).
    #[arg(long)]
    pub loo: bool,
    /// Price every row under this framework profile (a preset or a profile file) instead of the
    /// one each row names: how another stack's profile fares on these measurements.
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
}

pub fn check(args: &CheckArgs, output: &OutputArgs) -> Result<()> {
    let m = Measurements::load(&args.file)?;
    let report = check::check(
        &m,
        &CheckOptions {
            loo: args.loo,
            framework: args.framework.clone(),
        },
    )?;
    match output.format {
        OutputFormat::Text(format) => emit(output, &check::render(&report, format)),
        OutputFormat::Html => emit(output, &html::check(&report)?),
    }
}

/// Flags of `aim-sim fit`.
#[derive(Debug, Clone, clap::Args)]
pub struct FitArgs {
    /// A measurement file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Frameworks to fit, comma-separated [default: every framework the file's rows name].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub framework: Vec<String>,
    /// Write each fitted profile here as NAME.toml (e.g. frameworks/) [default: print them].
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

pub fn fit(args: &FitArgs, output: &OutputArgs) -> Result<()> {
    let m = Measurements::load(&args.file)?;
    let provenance = format!("aim-sim fit {}", args.file.display());
    let format = output.format.text("fit")?;
    let reports = fit::fit(&m, &args.framework, &provenance)?;
    if let Some(dir) = &args.write {
        for r in &reports {
            let path = dir.join(format!("{}.toml", r.framework));
            std::fs::write(&path, &r.profile_toml).map_err(|source| Error::Output {
                path: path.clone(),
                source,
            })?;
        }
    }
    let text = match format {
        Format::Json => crate::report::json_text(&reports),
        Format::Csv => {
            let mut s = String::from("framework,id,gpu,measured_ms,fitted_ms,loo_ms\n");
            for r in &reports {
                for p in &r.predictions {
                    let _ = writeln!(
                        s,
                        "{},{},{},{},{},{}",
                        r.framework, p.id, p.gpu, p.measured_ms, p.fitted_ms, p.loo_ms
                    );
                }
            }
            s
        }
        Format::Table => {
            let mut s = String::new();
            for r in &reports {
                let stat = |st: &Option<check::Stats>| {
                    st.as_ref().map_or("-".to_string(), |st| {
                        format!(
                            "median {:.1} %, worst {:.1} % ({})",
                            st.median_abs_error * 100.0,
                            st.worst_abs_error * 100.0,
                            st.worst_id
                        )
                    })
                };
                let _ = writeln!(
                    s,
                    "framework {}: {} rows; in-sample |error| {}; leave-one-out {}",
                    r.framework,
                    r.rows.len(),
                    stat(&r.in_sample),
                    stat(&r.loo)
                );
                let _ = writeln!(
                    s,
                    "  {:<44} {:<9} {:>9} {:>9} {:>8} {:>9} {:>8}",
                    "id", "gpu", "measured", "fitted", "error", "loo", "error"
                );
                for p in &r.predictions {
                    let _ = writeln!(
                        s,
                        "  {:<44} {:<9} {:>9.2} {:>9.2} {:>+7.1}% {:>9.2} {:>+7.1}%",
                        p.id,
                        p.gpu,
                        p.measured_ms,
                        p.fitted_ms,
                        (p.fitted_ms / p.measured_ms - 1.0) * 100.0,
                        p.loo_ms,
                        (p.loo_ms / p.measured_ms - 1.0) * 100.0
                    );
                }
                match &args.write {
                    Some(dir) => {
                        let _ = writeln!(
                            s,
                            "  profile written to {}\n",
                            dir.join(format!("{}.toml", r.framework)).display()
                        );
                    }
                    None => {
                        let _ = writeln!(s, "\n{}", r.profile_toml);
                    }
                }
            }
            s
        }
    };
    emit(output, &text)
}
