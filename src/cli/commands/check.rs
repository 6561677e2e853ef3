//! `aim-sim check FILE` (predicted against published measurements) and `aim-sim fit FILE`
//! (framework profiles fitted to them); the logic is `crate::check`.

use crate::check::{self, fit, CheckOptions, Measurements};
use crate::cli::format::{self, Output, Sink, View};
use crate::cli::{html, OutputArgs};
use crate::error::{Error, Result};
use crate::report::TextFormat;
use std::fmt::Write;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Flags of `aim-sim check`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct CheckArgs {
    /// A measurement file (reference/measurements.toml is the published data set).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Cross-validate by source or by row (a bare --cv: source).
    ///
    /// Refit each framework without the rows it predicts. `source` (the default of a bare --cv,
    /// and the headline of docs/accuracy.md) leaves a row's whole source group out — same
    /// paper, same harness —: the error on a stack that was never fitted. `row` leaves the row
    /// alone out, keeping the rest of its source: interpolation inside a source.
    #[arg(
        long,
        value_name = "source|row",
        value_delimiter = ',',
        num_args = 0..,
        default_missing_value = "source",
        hide_possible_values = true
    )]
    pub cv: Vec<CvArg>,
    /// Leave-one-ROW-out errors too: the same as --cv row (takes longer).
    ///
    /// Also refit each framework once per row without that row and predict the row, keeping
    /// the rest of its source in the fit (takes longer).
    #[arg(long)]
    pub loo: bool,
    /// Price every row under this framework profile instead of each row's own.
    ///
    /// Price every row under this framework profile (a preset or a profile file) instead of the
    /// one each row names: how another stack's profile fares on these measurements.
    #[arg(long, value_name = "NAME")]
    pub framework: Option<String>,
    /// --cv/--loo refit on these rows too (e.g. reference/measurements.toml).
    ///
    /// With --cv/--loo, each refit trains on FILE's rows and this file's (a row of this file
    /// whose id FILE also has is taken from FILE); only FILE's rows are checked. Without it the
    /// refits see FILE's rows alone. The profile column is always the shipped profile, fitted
    /// on reference/measurements.toml.
    #[arg(long, value_name = "FILE")]
    pub refit_also: Option<PathBuf>,
}

/// A cross-validation named on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum CvArg {
    Source,
    Row,
}

impl CheckArgs {
    /// The cross-validations asked for, in a fixed order, and the profile override.
    pub(crate) fn options(&self) -> Result<CheckOptions> {
        Ok(CheckOptions {
            framework: self.framework.clone(),
            refit_also: self
                .refit_also
                .as_deref()
                .map(Measurements::load)
                .transpose()?,
            ..options(&self.cv, self.loo)
        })
    }
}

/// The check options of `--cv` and `--loo`.
pub fn options(cv: &[CvArg], loo: bool) -> CheckOptions {
    let mut out = Vec::new();
    if cv.contains(&CvArg::Source) {
        out.push(check::Cv::Source);
    }
    if loo || cv.contains(&CvArg::Row) {
        out.push(check::Cv::Row);
    }
    CheckOptions {
        cv: out,
        ..CheckOptions::default()
    }
}

pub fn check(args: &CheckArgs, output: &OutputArgs) -> Result<()> {
    let format = output.resolve("check", CHECK_VIEWS)?;
    let m = Measurements::load(&args.file)?;
    let options = args.options()?;
    let progress = Refits::new();
    let report = check::check_with_progress(&m, &options, &|done, all| progress.update(done, all));
    progress.finish();
    let report = report?;
    format::write(format, output.output.as_deref(), &report)
}

/// The units of check's and fit's figures: times in ms as the measurement files give them
/// (`measured_ms`); the help said seconds, the base unit of every other command.
pub const UNITS: &str = "times in ms as the measurement files give them, as each field's name says";

/// What a check can be written as; its chart is `plot check`.
pub const CHECK_VIEWS: &[View] = &[View::Table, View::Json, View::Csv, View::Html, View::Chart];

impl Output for check::CheckReport {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Html => html::check(self)?,
            view => check::render(self, format::text("check", view)?)?,
        })
    }

    fn draw(&self, path: &Path) -> Result<()> {
        #[cfg(feature = "plot")]
        return crate::plot::check(path, (1100, 1000), self);
        #[cfg(not(feature = "plot"))]
        Err(super::plot::unavailable(path))
    }
}

/// A bar on standard error counting the refits of `fit` and cross-validation (issue 24 item 7:
/// a long run showed nothing): drawn only when standard error is a terminal and the run has
/// lasted a moment, so captured output and tests never see it.
struct Refits {
    bar: Mutex<Option<indicatif::ProgressBar>>,
    started: Instant,
    terminal: bool,
}

impl Refits {
    /// Delay before a bar appears.
    const AFTER: Duration = Duration::from_millis(300);

    fn new() -> Refits {
        Refits {
            bar: Mutex::new(None),
            started: Instant::now(),
            terminal: std::io::stderr().is_terminal(),
        }
    }

    /// `done` of `all` refits have finished (called from the threads that run them).
    fn update(&self, done: usize, all: usize) {
        if !self.terminal {
            return;
        }
        let mut bar = self.bar.lock().unwrap_or_else(|e| e.into_inner());
        if bar.is_none() && done < all && self.started.elapsed() >= Self::AFTER {
            let b = indicatif::ProgressBar::new(all as u64);
            b.set_style(
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} refits, eta {eta}")
                    .expect("valid template"),
            );
            *bar = Some(b);
        }
        if let Some(b) = bar.as_ref() {
            b.set_position(done as u64);
        }
    }

    /// Removes the bar.
    fn finish(self) {
        if let Some(b) = self.bar.into_inner().unwrap_or_else(|e| e.into_inner()) {
            b.finish_and_clear();
        }
    }
}

/// Flags of `aim-sim fit`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct FitArgs {
    /// A measurement file.
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
    /// Frameworks to fit, comma-separated [default: every one the rows name].
    #[arg(long, value_name = "NAMES", value_delimiter = ',')]
    pub framework: Vec<String>,
    /// Write each profile here as NAME.toml [default: print them].
    #[arg(long, value_name = "DIR")]
    pub write: Option<PathBuf>,
}

pub fn fit(args: &FitArgs, output: &OutputArgs) -> Result<()> {
    // `-o NAME.toml` wrote the table report into a file that reads as a profile, and fails to.
    if let Some(path) = output.output.as_deref().filter(|p| {
        p.extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"))
    }) {
        return Err(Error::invalid(format!(
            "fit -o {}: -o writes the fit's report (table, JSON or CSV), not a profile: write the profiles with --write DIR (each as DIR/NAME.toml)",
            path.display()
        )));
    }
    // Checked before the refits, which take a while.
    if let Some(dir) = args.write.as_deref().filter(|d| !d.is_dir()) {
        // A file of that name: mkdir -p would fail on it too.
        let toml = dir
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        return Err(Error::invalid(if dir.exists() {
            format!(
                "fit --write {}: a file, not a folder: --write takes the folder the profiles go in (each as FOLDER/NAME.toml); give another path",
                dir.display()
            )
        } else if toml {
            let folder = dir
                .parent()
                .filter(|p| !p.as_os_str().is_empty())
                .map_or_else(|| "profiles".into(), |p| p.join("profiles"));
            let folder = folder.display();
            // `--write hf.toml` means a file: `mkdir -p hf.toml` was the advice.
            format!(
                "fit --write {}: --write takes the folder the profiles go in (each as FOLDER/NAME.toml, hf.toml for hf), not a file: give a folder (mkdir -p {folder}, then --write {folder})",
                dir.display(),
            )
        } else {
            format!(
                "fit --write {}: no such folder: create it (mkdir -p {}) or give an existing folder",
                dir.display(),
                dir.display()
            )
        }));
    }
    let m = Measurements::load(&args.file)?;
    let provenance = format!("aim-sim fit {}", args.file.display());
    let format = output.resolve("fit", FIT_VIEWS)?;
    let progress = Refits::new();
    let reports = fit::fit_with_progress(&m, &args.framework, &provenance, &|done, all| {
        progress.update(done, all)
    });
    progress.finish();
    let reports = reports?;
    if let Some(dir) = &args.write {
        for r in &reports {
            let path = profile_path(dir, &r.framework)?;
            crate::cli::outfile::write_with(&path, |out| {
                std::io::Write::write_all(out, r.profile_toml.as_bytes()).map_err(|source| {
                    Error::Output {
                        path: path.clone(),
                        source,
                    }
                })
            })?;
        }
    }
    format::write(
        format,
        output.output.as_deref(),
        &Fitted(&reports, args.write.as_deref()),
    )
}

/// What a fit can be written as.
pub const FIT_VIEWS: &[View] = &[View::Table, View::Json, View::Csv];

/// The fitted profiles of `aim-sim fit`.
struct Fitted<'a>(&'a [fit::FitReport], Option<&'a Path>);

impl Output for Fitted<'_> {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&fit_text(self.0, self.1, format::text("fit", view)?)?)
    }
}

/// The fit's table, JSON or CSV; `write`: where the profiles were written.
fn fit_text(
    reports: &[fit::FitReport],
    write: Option<&Path>,
    format: TextFormat,
) -> Result<String> {
    Ok(match format {
        TextFormat::Json => crate::report::json_text(&reports),
        TextFormat::Csv => {
            let mut s = String::from(
                "framework,id,gpu,source_group,measured_ms,fitted_ms,loso_ms,loo_ms,loso_fallback\n",
            );
            // `loso_fallback`: what a leave-one-source-out fit fell back on (the table's `*`,
            // JSON's key; empty when the row's source was not the only one of its kind).
            let csv = crate::report::csv_field;
            for r in reports {
                for p in &r.predictions {
                    let _ = writeln!(
                        s,
                        "{},{},{},{},{},{},{},{},{}",
                        r.framework,
                        csv(&p.id),
                        csv(&p.gpu),
                        csv(&p.source_group),
                        p.measured_ms,
                        p.fitted_ms,
                        p.loso_ms,
                        p.loo_ms,
                        csv(p.loso_fallback.as_deref().unwrap_or(""))
                    );
                }
            }
            s
        }
        TextFormat::Table => {
            let mut s = String::new();
            for r in reports {
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
                    "framework {}: {} rows from {} source group(s); leave-one-source-out |error| {} ({} rows on fallbacks); leave-one-row-out {}; in-sample {}",
                    r.framework,
                    r.rows.len(),
                    r.source_groups.len(),
                    stat(&r.loso),
                    r.loso_fallback_rows,
                    stat(&r.loo),
                    stat(&r.in_sample),
                );
                let _ = writeln!(
                    s,
                    "  {:<44} {:<9} {:>9} {:>9} {:>8} {:>9} {:>8} {:>9} {:>8}",
                    "id", "gpu", "measured", "fitted", "error", "loso", "error", "loo", "error"
                );
                let e = |v: f64, m: f64| (v / m - 1.0) * 100.0;
                for p in &r.predictions {
                    let _ = writeln!(
                        s,
                        "  {:<44} {:<9} {:>9.2} {:>9.2} {:>+7.1}% {:>9.2} {:>+7.1}% {:>9.2} {:>+7.1}%{}",
                        p.id,
                        p.gpu,
                        p.measured_ms,
                        p.fitted_ms,
                        e(p.fitted_ms, p.measured_ms),
                        p.loso_ms,
                        e(p.loso_ms, p.measured_ms),
                        p.loo_ms,
                        e(p.loo_ms, p.measured_ms),
                        if p.loso_fallback.is_some() { "  *" } else { "" }
                    );
                }
                let [time_lo, time_hi] = r.spread.time_interval(1.0);
                let [speedup_lo, speedup_hi] = r.spread.speedup_interval(1.0);
                let _ = writeln!(
                    s,
                    "  80 % interval on a new source: ×{time_lo:.2}–×{time_hi:.2} of the prediction (σ between sources {:.3}, within {:.3}{}){}; speed-ups ×{speedup_lo:.2}–×{speedup_hi:.2}{}{}",
                    r.spread.between_sources,
                    r.spread.within_source,
                    r.spread.time_dof.map_or(String::new(), |d| format!(
                        "; Student's t {:.2} on {d:.1} degrees of freedom",
                        crate::stats::t80(Some(d))
                    )),
                    match r.spread.new_gpu {
                        Some(g) => {
                            let [lo, hi] = r.spread.for_gpu(false).time_interval(1.0);
                            format!(
                                ", on a GPU without fitted values ×{lo:.2}–×{hi:.2} (σ {g:.3} of {} GPUs priced with the pooled values, left out)",
                                r.spread.new_gpus
                            )
                        }
                        None => String::new(),
                    },
                    match r.spread.moe_between_sources {
                        Some(b) => {
                            let [lo, hi] = r.spread.for_model(true).time_interval(1.0);
                            format!(
                                "\n  mixture-of-experts runs: ×{lo:.2}–×{hi:.2} (σ between {} MoE source(s) {b:.3})",
                                r.spread.moe_source_groups
                            )
                        }
                        None => String::new(),
                    },
                    if r.loso_fallback_rows > 0 {
                        "\n  * leave-one-source-out fell back on pooled values, other frameworks or, with no rows left to fit, the ideal roofline (the source was the only one of its framework or GPU)"
                    } else {
                        ""
                    }
                );
                if let Some(n) = &r.spread_note {
                    let _ = writeln!(s, "  note: {n}");
                }
                if !r.harness_factors.is_empty() {
                    let _ = writeln!(
                        s,
                        "  harness factors on the GPU's values (fitted beside them, not in the profile: a new harness gets the GPU's value):\n  {:<36} {:<20} {:>14} {:>16}",
                        "source group", "gpu", "GEMM efficiency", "per-kernel cost"
                    );
                    for h in &r.harness_factors {
                        let _ = writeln!(
                            s,
                            "  {:<36} {:<20} {:>13.2}× {:>15.2}×",
                            h.source_group,
                            h.gpus.join(", "),
                            h.matmul_factor,
                            h.launch_factor
                        );
                    }
                }
                match write {
                    Some(dir) => {
                        // `--framework NAME` is the shipped profile, whatever a folder holds: a
                        // user who wrote `frameworks/hf.toml` ran `--framework hf` and got the
                        // shipped one, both named "hf".
                        let path = profile_path(dir, &r.framework)?;
                        // A profile file the rows name is the user's own, not shipped.
                        let shipped =
                            if crate::presets::canonical(&r.framework, crate::presets::FRAMEWORKS)
                                .is_some()
                            {
                                format!(" (--framework {} is the shipped profile)", r.framework)
                            } else {
                                String::new()
                            };
                        let _ = writeln!(
                            s,
                            "  profile written to {0}: run with --framework {0}{shipped}\n",
                            path.display(),
                        );
                    }
                    None => {
                        let _ = writeln!(s, "\n{}", r.profile_toml);
                    }
                }
            }
            s
        }
        TextFormat::Jsonl => return Err(format.lacks("fit")),
    })
}

/// Where `fit --write DIR` puts a framework's profile: `DIR/NAME.toml`, NAME being the
/// framework's name, or the file stem when a row names a profile by its path (issue 24: a path
/// wrote `/that/path.toml.toml`, outside DIR; `../` escaped too).
fn profile_path(dir: &Path, framework: &str) -> Result<PathBuf> {
    let stem = Path::new(framework)
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && *s != "." && *s != "..")
        .ok_or_else(|| {
            Error::invalid(format!(
                "fit --write: framework '{}' gives no file name: name the rows' framework",
                crate::error::shorten(framework, 60)
            ))
        })?;
    Ok(dir.join(format!("{stem}.toml")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_profiles_stay_in_the_directory_with_one_extension() {
        let dir = Path::new("out");
        for (framework, want) in [
            ("hf", "out/hf.toml"),
            ("/that/path.toml", "out/path.toml"),
            ("../../etc/x.toml", "out/x.toml"),
            ("../hf", "out/hf.toml"),
            ("my.profile.toml", "out/my.profile.toml"),
        ] {
            assert_eq!(
                profile_path(dir, framework).unwrap(),
                Path::new(want),
                "{framework}"
            );
        }
        assert!(profile_path(dir, "..").is_err());
        assert!(profile_path(dir, "/").is_err());
    }
}
