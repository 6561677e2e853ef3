//! `aim-sim plot`: runs what the flags describe (a sweep, one run) or reads a saved measurement,
//! and hands the data to `crate::plot`. Without the `plot` feature it says so.

use super::run::AnchorArgs;
use super::sweep::GridArgs;
use crate::budget::By;
use crate::error::{Error, Result};
use crate::sim;
use crate::sweep::{Grid, GridSpec};
use std::path::PathBuf;

/// Y-axis scale of `curves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum YScale {
    /// Logarithmic when the lines span more than 20×, else linear.
    Auto,
    Log,
    Linear,
}

/// Which chart `aim-sim plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum PlotKind {
    /// FLOPs and prefill time against frames, one line per schedule; lists and ranges allowed
    /// [default: --frames 8:256:8 --schedule none,merge-only,fastv,pdrop,linear].
    Curves,
    /// One run per layer: tokens, and time stacked by operator kind, baseline beside schedule.
    Layers,
    /// The GPU's roofline with every operator of one run as a point.
    Roofline,
    /// Measured against predicted (and calibrated) time per layer, schedule and baseline, from
    /// the JSON of `aim-sim measure --format json` given with --input.
    Accuracy,
    /// Published accuracy of a --benchmark against aim-sim's cost of each row's setting
    /// (--by time or flops, log scale), Pareto frontier drawn; --compare-paper adds the
    /// paper's printed cost of each point, an arrow to aim-sim's.
    Pareto,
    /// Predicted against measured time for every priced row of a measurement file (--input,
    /// e.g. reference/measurements.toml), log-log, coloured by framework, ±20 % band; --loo
    /// draws the leave-one-out predictions, --framework prices every row under one profile.
    Check,
}

impl PlotKind {
    fn name(self) -> &'static str {
        match self {
            PlotKind::Curves => "curves",
            PlotKind::Layers => "layers",
            PlotKind::Roofline => "roofline",
            PlotKind::Accuracy => "accuracy",
            PlotKind::Pareto => "pareto",
            PlotKind::Check => "check",
        }
    }
}

/// Flags of `aim-sim plot`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: PlotKind,
    /// Image to write; the extension picks the format: .png or .svg.
    #[arg(long, short = 'o', value_name = "FILE.png|FILE.svg")]
    pub output: PathBuf,
    /// Pixels [default: 1400x800; accuracy 1400x1000, check 1100x1000].
    ///
    /// Image size in pixels, each 200 to 8000 [default: 1400x800; accuracy 1400x1000, check
    /// 1100x1000]. Below three quarters of the default in either dimension, the chart is laid
    /// out at that size (as wide or tall as the image's aspect asks) and scaled down, its text
    /// with it: a thumbnail, never a layout squeezed until its labels overlap.
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// `curves`: y scale auto, log or linear [default: auto].
    ///
    /// `curves` only: the y scale, auto (logarithmic when the lines span more than 20×, else
    /// linear), log or linear [default: auto]. The other charts' scales are fixed.
    #[arg(long, value_enum, value_name = "SCALE", hide_possible_values = true)]
    pub y_scale: Option<YScale>,
    /// The measurement of `accuracy` or `check`.
    ///
    /// `accuracy`: the measurement to draw, as written by `aim-sim measure --format json`;
    /// `check`: a measurement file (reference/measurements.toml).
    #[arg(long, value_name = "FILE")]
    pub input: Option<PathBuf>,
    /// `check`: draw leave-one-row-out predictions (= --cv row).
    ///
    /// `check` only: draw leave-one-ROW-out predictions (each framework refitted without the
    /// row); the same as --cv row.
    #[arg(long)]
    pub loo: bool,
    /// `check`: draw cross-validated predictions (source|row).
    ///
    /// `check` only: draw cross-validated predictions; `source` (a bare --cv) leaves the row's
    /// whole source group out of the fit, `row` the row alone (see `aim-sim check --help`).
    #[arg(
        long,
        value_name = "source|row",
        value_delimiter = ',',
        num_args = 0..,
        default_missing_value = "source",
        hide_possible_values = true
    )]
    pub cv: Vec<super::check::CvArg>,
    /// `check`: --cv/--loo refit on these rows too.
    ///
    /// `check` only: with --cv/--loo, each refit trains on this file's rows and the input's, as
    /// `check --refit-also` does (a file of one source drew every left-out point at the ideal
    /// roofline: no other source of its framework to refit on).
    #[arg(long, value_name = "FILE")]
    pub refit_also: Option<PathBuf>,
    /// `pareto`: the accuracy column (videomme, mvbench, mme, ...).
    ///
    /// `pareto` only: the accuracy column (videomme, mvbench, mme, ...; see `aim-sim pareto`).
    #[arg(long, value_name = "NAME")]
    pub benchmark: Option<String>,
    /// `pareto`: the cost on the x axis: time or flops.
    ///
    /// `pareto` only: the cost on the x axis and the frontier's: prefill time or FLOPs.
    #[arg(long, value_name = "QUANTITY", value_parser = crate::cli::choice::<By>(), hide_possible_values = true)]
    pub by: Option<By>,
    /// `pareto`: also draw each point at the paper's printed cost.
    ///
    /// `pareto` only: draw each point at the paper's printed cost too (hollow), an arrow
    /// leading to aim-sim's cost of the same setting.
    #[arg(long)]
    pub compare_paper: bool,
    /// The run(s) to draw: every flag of a single run; lists and ranges for `curves`
    /// (`accuracy` takes its run from --input instead).
    #[command(flatten)]
    pub grid: GridArgs,
    /// `curves`, `layers`, `roofline`: your measured baseline or rows, to draw your stack's
    /// times (as `aim-sim sweep` and `aim-sim` take them).
    #[command(flatten)]
    pub anchor: AnchorArgs,
}

fn parse_size(s: &str) -> std::result::Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not WIDTHxHEIGHT, e.g. 1400x800 (each 200 to 8000)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    // The format is right: say which side is out of range (it said "is not WIDTHxHEIGHT").
    for (side, v) in [("width", w), ("height", h)] {
        if !(200..=8000).contains(&v) {
            return Err(format!(
                "'{s}': a {side} of {v} pixels is outside 200 to 8000; e.g. 1400x800"
            ));
        }
    }
    Ok((w, h))
}

/// The sweep of `curves`, with its defaults for the axes the user did not give; with an
/// anchor, its profile refitted to it (the note on standard error, as `sweep` puts it).
fn curves_grid(args: &GridArgs, anchor: &AnchorArgs) -> Result<GridSpec> {
    let mut spec = prefill_spec(args, "curves")?;
    let no_input = spec.base.frames.is_none() && spec.base.tokens.is_none();
    if no_input && spec.axes.frames.is_none() && spec.axes.tokens.is_none() {
        // A measured baseline is one input's: the default axis was blamed as the user's
        // "--frames (32 values)", a flag not given.
        if anchor.anchor_ms.is_some() {
            return Err(Error::invalid(
                "plot curves draws over frames (8:256:8 unless given), and --anchor-ms is the measured time of one input without reduction: give your measured rows with --anchor FILE (each row names its input), or for the input you timed alone `aim-sim compare --schedule none,linear --frames N --framework NAME --anchor-ms T`",
            ));
        }
        spec.axes.frames = Some("8:256:8".into());
    }
    if spec.axes.schedule.is_none() {
        spec.axes.schedule = Some("none,merge-only,fastv,pdrop,linear".into());
    }
    anchor.grid(spec)
}

/// The flags' grid; a decode length is refused in the plot's own words (the sweep's refusal
/// named `sweep`, a command the user had not run).
fn prefill_spec(args: &GridArgs, kind: &str) -> Result<GridSpec> {
    let spec = args.to_grid_spec()?;
    if spec.base.gen_tokens > 0 {
        return Err(Error::invalid(format!(
            "plot {kind} draws the prefill: --gen-tokens changes nothing in it; drop it (aim-sim --gen-tokens N prices one run's decode)"
        )));
    }
    Ok(spec)
}

/// The one configuration of `layers`/`roofline`, anchored as `aim-sim` anchors it.
fn single(args: &GridArgs, anchor: &AnchorArgs, kind: &str) -> Result<sim::Report> {
    let spec = prefill_spec(args, kind)?;
    let grid = Grid::new(&spec)?;
    if grid.len() != 1 {
        return Err(Error::invalid(format!(
            "plot {kind} draws one run, but the flags give {} configurations: pass single values, not lists",
            grid.len()
        )));
    }
    let report = sim::simulate(&anchor.scenario(&grid.spec(0))?)?;
    // As the run itself warns (a model that does not fit the GPU, ...).
    super::run::warn(&report.run.warnings);
    Ok(report)
}

/// Checks the flags that belong to some kinds only.
fn check_kind_flags(args: &PlotArgs) -> Result<()> {
    let pareto_only = [
        ("benchmark", args.benchmark.is_some()),
        ("by", args.by.is_some()),
        ("compare-paper", args.compare_paper),
    ];
    match (args.kind, pareto_only.iter().find(|(_, given)| *given)) {
        (PlotKind::Pareto, _) if args.benchmark.is_none() => {
            return Err(Error::invalid(
                "plot pareto needs --benchmark NAME (videomme, mvbench, mme, ...; `aim-sim pareto --help` lists them)",
            ))
        }
        (PlotKind::Pareto, _) | (_, None) => {}
        (kind, Some((flag, _))) => {
            return Err(Error::invalid(format!(
                "--{flag} is only for `plot pareto`, not `plot {}`",
                kind.name()
            )))
        }
    }
    if args.y_scale.is_some() && args.kind != PlotKind::Curves {
        return Err(Error::invalid(format!(
            "--y-scale is only for `plot curves`, not `plot {}` (its scale is fixed): drop it",
            args.kind.name()
        )));
    }
    let anchored = args.anchor.anchor_ms.is_some() || args.anchor.anchor.is_some();
    if anchored
        && !matches!(
            args.kind,
            PlotKind::Curves | PlotKind::Layers | PlotKind::Roofline
        )
    {
        return Err(Error::invalid(format!(
            "--anchor-ms and --anchor are only for `plot curves`, `plot layers` and `plot roofline` (times of your stack), not `plot {}`",
            args.kind.name()
        )));
    }
    if args.refit_also.is_some() && args.kind != PlotKind::Check {
        return Err(Error::invalid(format!(
            "--refit-also is only for `plot check`, not `plot {}`",
            args.kind.name()
        )));
    }
    if (args.loo || !args.cv.is_empty()) && args.kind != PlotKind::Check {
        return Err(Error::invalid(format!(
            "--loo and --cv are only for `plot check`, not `plot {}`",
            args.kind.name()
        )));
    }
    match (args.kind, &args.input) {
        (PlotKind::Check, None) => Err(Error::invalid(
            "plot check needs --input FILE: a measurement file such as reference/measurements.toml",
        )),
        (PlotKind::Check, Some(_)) => {
            // Each row names its own setup; only --framework applies, as in `check`.
            let cost_flag = args
                .grid
                .sim
                .given
                .iter()
                .map(|(name, _)| *name)
                .find(|name| *name != "framework")
                .map(|name| name.replace('_', "-"));
            let spec = args.grid.sim.spec.as_ref().map(|_| "spec".to_string());
            match args
                .grid
                .axes
                .given()
                .into_iter()
                .map(|(flag, _)| flag)
                .chain(cost_flag)
                .chain(spec)
                .next()
            {
                Some(flag) => Err(Error::invalid(format!(
                    "plot check prices the rows of --input as they are: --{flag} does not apply (--framework prices every row under one profile, as `check --framework` does)"
                ))),
                None => Ok(()),
            }
        }
        (PlotKind::Accuracy, None) => Err(Error::invalid(
            "plot accuracy needs --input MEASURE.json: the output of `aim-sim measure --format json`",
        )),
        (PlotKind::Accuracy, Some(_)) => match args.grid.axes.given().first() {
            Some((flag, _)) => Err(Error::invalid(format!(
                "plot accuracy draws the run saved in --input: --{flag} does not apply (give it to `aim-sim measure` instead)"
            ))),
            None => Ok(()),
        },
        (kind, Some(_)) => Err(Error::invalid(format!(
            "--input is only for `plot accuracy` and `plot check`; `plot {}` simulates the run its flags describe",
            kind.name()
        ))),
        (_, None) => Ok(()),
    }
}

/// The error of a chart (`plot`, or another command's `-o FILE.png|svg`) in a build without
/// the `plot` feature.
#[cfg(not(feature = "plot"))]
pub fn unavailable(path: &std::path::Path) -> Error {
    Error::invalid(format!(
        "{}: this aim-sim was built without the `plot` feature: rebuild with default features",
        path.display()
    ))
}

/// `aim-sim plot` in a build without the `plot` feature.
#[cfg(not(feature = "plot"))]
pub fn command(args: &PlotArgs) -> Result<()> {
    check_kind_flags(args)?;
    let _ = (curves_grid, single, By::Time, super::pareto::sim_from_grid);
    Err(Error::invalid(
        "this aim-sim was built without the `plot` feature: rebuild with default features",
    ))
}

/// `aim-sim plot`.
#[cfg(feature = "plot")]
pub fn command(args: &PlotArgs) -> Result<()> {
    use crate::measure::prediction::MeasureReport;
    use crate::plot::{self, Scale};
    use crate::sweep;
    plot::image_format(&args.output)?;
    check_kind_flags(args)?;
    let size = args.size.unwrap_or(match args.kind {
        PlotKind::Accuracy => plot::ACCURACY_SIZE,
        PlotKind::Check => plot::CHECK_SIZE,
        _ => plot::DEFAULT_SIZE,
    });
    match args.kind {
        PlotKind::Curves => {
            let grid = Grid::new(&curves_grid(&args.grid, &args.anchor)?)?;
            // The rows are held in memory: refuse a grid too large before pricing it.
            if grid.len() > sweep::MAX_DRAWN_ROWS {
                return Err(Error::invalid(format!(
                    "plot curves draws at most {} points, but the lists give {} configurations: use a larger range step, or `aim-sim sweep --format csv`",
                    sweep::MAX_DRAWN_ROWS,
                    grid.len()
                )));
            }
            let prepared = sweep::Sweep::prepare(&grid)?;
            let rows = prepared.run(sweep::default_jobs(), |_| {})?;
            let data = plot::CurvesData::from_rows(
                &rows,
                grid.visual_is_tokens(),
                &grid.framework_name()?,
                grid.tp(),
            )?;
            let scale = match args.y_scale.unwrap_or(YScale::Auto) {
                YScale::Auto => Scale::Auto,
                YScale::Log => Scale::Log,
                YScale::Linear => Scale::Linear,
            };
            plot::curves(&args.output, size, &data, scale)?;
            // What `sweep` warns of the same rows (a model that does not fit the GPU, ...): a
            // chart drawn in silence looked like a run that holds.
            super::run::warn(&prepared.input_warning_lines());
            Ok(())
        }
        PlotKind::Layers => plot::layers(
            &args.output,
            size,
            &single(&args.grid, &args.anchor, "layers")?,
        ),
        PlotKind::Roofline => plot::roofline(
            &args.output,
            size,
            &single(&args.grid, &args.anchor, "roofline")?,
        ),
        PlotKind::Accuracy => {
            let input = args.input.as_deref().expect("checked by check_kind_flags");
            plot::accuracy(&args.output, size, &MeasureReport::load(input)?)
        }
        PlotKind::Check => {
            let input = args.input.as_deref().expect("checked by check_kind_flags");
            let m = crate::check::Measurements::load(input)?;
            // `--framework` prices every row under that profile, as `check --framework` does.
            let framework = match args.grid.sim.get("framework") {
                Some(crate::spec::options::Value::Text(name)) => Some(name.clone()),
                _ => None,
            };
            let options = crate::check::CheckOptions {
                framework,
                refit_also: args
                    .refit_also
                    .as_deref()
                    .map(crate::check::Measurements::load)
                    .transpose()?,
                ..super::check::options(&args.cv, args.loo)
            };
            // One chart draws one cross-validation: `--cv source,row` drew the first alone.
            if options.cv.len() > 1 {
                return Err(Error::invalid(
                    "plot check draws one cross-validation: give --cv source or --cv row (`check --cv source,row` prints both)",
                ));
            }
            let report = crate::check::check(&m, &options)?;
            plot::check(&args.output, size, &report)
        }
        PlotKind::Pareto => {
            let sim = super::pareto::sim_from_grid(&args.grid)?;
            let benchmark = args
                .benchmark
                .as_deref()
                .expect("checked by check_kind_flags");
            let by = args.by.unwrap_or(By::Time);
            let q = super::pareto::query(&sim, benchmark, by, "plot pareto")?;
            let p = crate::pareto::pareto(&q)?;
            super::pareto::warn(&p);
            plot::pareto(&args.output, size, &p, args.compare_paper)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1400x800"), Ok((1400, 800)));
        assert!(parse_size("10x10").is_err());
        // The format right, a side out of range: named, not "is not WIDTHxHEIGHT".
        assert_eq!(
            parse_size("9000x800").unwrap_err(),
            "'9000x800': a width of 9000 pixels is outside 200 to 8000; e.g. 1400x800"
        );
        assert!(parse_size("1400x100")
            .unwrap_err()
            .contains("a height of 100 pixels"));
        assert!(parse_size("14x00x8")
            .unwrap_err()
            .contains("is not WIDTHxHEIGHT"));
        assert!(parse_size("big").is_err());
    }
}
