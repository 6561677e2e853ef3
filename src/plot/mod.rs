//! `aim-sim plot`: charts of simulated prefills, PNG or SVG (plotters, pure Rust).
//!
//! * `curves`: FLOPs and prefill time against frames, one line per schedule (a sweep);
//! * `layers`: one run per layer, tokens and time stacked by operator kind, baseline beside it;
//! * `roofline`: the GPU's roofline with every operator of one run as a point;
//! * `accuracy`: a saved `aim-sim measure --format json` result, measured against predicted
//!   time per layer, schedule and baseline, with the relative errors and the speed-ups.
//!
//! Fonts are DejaVu Sans embedded in the binary (the `dejavu` crate), registered with plotters'
//! `ab_glyph` backend, so no fontconfig or system font is needed.

mod accuracy;
mod curves;
mod layers;
mod roofline;

use crate::cost::OpKind;
use crate::error::{Error, Result};
use crate::sweep::{Grid, GridArgs};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::{Path, PathBuf};

/// Which chart `aim-sim plot` draws.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PlotKind {
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
}

impl PlotKind {
    fn name(self) -> &'static str {
        match self {
            PlotKind::Curves => "curves",
            PlotKind::Layers => "layers",
            PlotKind::Roofline => "roofline",
            PlotKind::Accuracy => "accuracy",
        }
    }
}

/// Y-axis scale of `curves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Scale {
    /// Logarithmic when the lines span more than 20×, else linear.
    Auto,
    Log,
    Linear,
}

/// Flags of `aim-sim plot`.
#[derive(Debug, Clone, clap::Args)]
pub struct PlotArgs {
    /// What to draw.
    #[arg(value_enum)]
    pub kind: PlotKind,
    /// Image to write; the extension picks the format: .png or .svg.
    #[arg(long, short = 'o', value_name = "FILE.png|FILE.svg")]
    pub output: PathBuf,
    /// Image size in pixels [default: 1400x800; 1400x1000 for accuracy].
    #[arg(long, value_name = "WIDTHxHEIGHT", value_parser = parse_size)]
    pub size: Option<(u32, u32)>,
    /// Y-axis scale of `curves`.
    #[arg(long, value_enum, default_value = "auto")]
    pub y_scale: Scale,
    /// `accuracy` only: the measurement to draw, as written by `aim-sim measure --format json`.
    #[arg(long, value_name = "MEASURE.json")]
    pub input: Option<PathBuf>,
    /// The run(s) to draw: every flag of a single run; lists and ranges for `curves`
    /// (`accuracy` takes its run from --input instead).
    #[command(flatten)]
    pub grid: GridArgs,
}

fn parse_size(s: &str) -> std::result::Result<(u32, u32), String> {
    let bad = || format!("'{s}' is not WIDTHxHEIGHT, e.g. 1400x800 (each 200 to 8000)");
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(bad)?;
    let (w, h): (u32, u32) = (
        w.trim().parse().map_err(|_| bad())?,
        h.trim().parse().map_err(|_| bad())?,
    );
    if !(200..=8000).contains(&w) || !(200..=8000).contains(&h) {
        return Err(bad());
    }
    Ok((w, h))
}

/// Image format, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ImageFormat {
    Png,
    Svg,
}

fn image_format(path: &Path) -> Result<ImageFormat> {
    match path
        .extension()
        .and_then(|e| e.to_str())
        .map(|e| e.to_ascii_lowercase())
        .as_deref()
    {
        Some("png") => Ok(ImageFormat::Png),
        Some("svg") => Ok(ImageFormat::Svg),
        _ => Err(Error::invalid(format!(
            "--output {}: the file name must end in .png or .svg",
            path.display()
        ))),
    }
}

/// Registers the embedded DejaVu Sans as plotters' "sans-serif" (once per process).
fn register_fonts() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        for (style, bytes) in [
            (FontStyle::Normal, dejavu::sans::regular()),
            (FontStyle::Bold, dejavu::sans::bold()),
            (FontStyle::Oblique, dejavu::sans::oblique()),
            (FontStyle::Italic, dejavu::sans::oblique()),
        ] {
            plotters::style::register_font("sans-serif", style, bytes)
                .unwrap_or_else(|_| panic!("embedded DejaVu font is valid"));
        }
    });
}

/// Font sizes and colours shared by every chart.
pub(crate) mod theme {
    use plotters::style::RGBColor;

    pub const TITLE_PX: u32 = 26;
    pub const SUBTITLE_PX: u32 = 18;
    pub const PANEL_TITLE_PX: u32 = 20;
    pub const AXIS_DESC_PX: u32 = 18;
    pub const LABEL_PX: u32 = 16;
    pub const LEGEND_PX: u32 = 16;

    /// Line colours (Tableau 10), for series.
    pub const SERIES: [RGBColor; 10] = [
        RGBColor(31, 119, 180),
        RGBColor(255, 127, 14),
        RGBColor(44, 160, 44),
        RGBColor(214, 39, 40),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
        RGBColor(227, 119, 194),
        RGBColor(127, 127, 127),
        RGBColor(188, 189, 34),
        RGBColor(23, 190, 207),
    ];
}

/// Colour and legend label of an operator kind.
fn kind_style(kind: OpKind) -> (RGBColor, &'static str) {
    match kind {
        OpKind::Linear => (RGBColor(31, 119, 180), "linear (GEMM)"),
        OpKind::Attention => (RGBColor(255, 127, 14), "attention"),
        OpKind::Norm => (RGBColor(44, 160, 44), "norm"),
        OpKind::Elementwise => (RGBColor(148, 103, 189), "element-wise"),
        OpKind::LmHead => (RGBColor(127, 127, 127), "LM head"),
        OpKind::Merge => (RGBColor(23, 190, 207), "merge"),
        OpKind::Prune => (RGBColor(214, 39, 40), "prune"),
        OpKind::Vision => (RGBColor(188, 189, 34), "vision"),
        OpKind::Communication => (RGBColor(140, 86, 75), "communication"),
    }
}

/// All kinds, in legend order.
const KINDS: [OpKind; 9] = [
    OpKind::Linear,
    OpKind::Attention,
    OpKind::Norm,
    OpKind::Elementwise,
    OpKind::LmHead,
    OpKind::Merge,
    OpKind::Prune,
    OpKind::Vision,
    OpKind::Communication,
];

/// A number for an axis label: 3 significant digits, no trailing zeros.
fn tick(v: f64) -> String {
    let a = v.abs();
    let s = if a == 0.0 {
        "0".to_string()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') && !s.contains('e') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Draws a title (and an optional subtitle) across the top; returns the area below it.
fn titled<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    subtitle: &str,
) -> std::result::Result<DrawingArea<DB, Shift>, DrawingAreaErrorKind<DB::ErrorType>> {
    let h = theme::TITLE_PX as i32 + theme::SUBTITLE_PX as i32 + 24;
    let (top, rest) = root.split_vertically(h);
    let w = top.dim_in_pixel().0 as i32;
    let centered = |px: u32, bold: bool| {
        let font = ("sans-serif", px).into_font();
        let font = if bold {
            font.style(FontStyle::Bold)
        } else {
            font
        };
        font.color(&BLACK)
            .pos(plotters::style::text_anchor::Pos::new(
                plotters::style::text_anchor::HPos::Center,
                plotters::style::text_anchor::VPos::Top,
            ))
    };
    // The largest size up to `px` at which `text` fits the width (long titles shrink).
    let fitting = |text: &str, px: u32, bold: bool| -> u32 {
        let mut px = px;
        while px > 11 {
            let fits = top
                .estimate_text_size(text, &centered(px, bold))
                .map(|(tw, _)| (tw as i32) < w - 24)
                .unwrap_or(true);
            if fits {
                break;
            }
            px -= 1;
        }
        px
    };
    let title_px = fitting(title, theme::TITLE_PX, true);
    top.draw_text(title, &centered(title_px, true), (w / 2, 8))?;
    top.draw_text(
        subtitle,
        &centered(fitting(subtitle, theme::SUBTITLE_PX, false), false),
        (w / 2, 14 + theme::TITLE_PX as i32),
    )?;
    Ok(rest)
}

/// The model's long name (its description, else its name).
fn model_label(m: &crate::model::Model) -> &str {
    if m.description.is_empty() {
        &m.name
    } else {
        &m.description
    }
}

/// Draws on a PNG or SVG backend, whichever the path asks for.
fn render(
    path: &Path,
    size: (u32, u32),
    draw_png: impl FnOnce(&DrawingArea<BitMapBackend, Shift>) -> std::result::Result<(), String>,
    draw_svg: impl FnOnce(&DrawingArea<SVGBackend, Shift>) -> std::result::Result<(), String>,
) -> Result<()> {
    register_fonts();
    let fail = |message: String| Error::Output {
        path: path.to_path_buf(),
        source: std::io::Error::other(message),
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        if !dir.is_dir() {
            return Err(Error::Output {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("directory {} does not exist", dir.display()),
                ),
            });
        }
    }
    match image_format(path)? {
        ImageFormat::Png => {
            let root = BitMapBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            draw_png(&root).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        ImageFormat::Svg => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            draw_svg(&root).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
    }
}

/// Expands the grid, filling in the `curves` defaults for axes the user did not give.
fn curves_grid(args: &GridArgs) -> Result<Grid> {
    let mut args = args.clone();
    let no_input = args.sim.frames.is_none() && args.sim.tokens.is_none();
    if no_input && !args.has_list("frames") && !args.has_list("tokens") {
        args = args.with_list("frames", "8:256:8");
    }
    if !args.has_list("schedule") {
        args = args.with_list("schedule", "none,merge-only,fastv,pdrop,linear");
    }
    Grid::new(&args)
}

/// The one configuration of `layers`/`roofline`.
fn single(args: &GridArgs, kind: &str) -> Result<crate::sim::Report> {
    let grid = Grid::new(args)?;
    if grid.len() != 1 {
        return Err(Error::invalid(format!(
            "plot {kind} draws one run, but the flags give {} configurations: pass single values, not lists",
            grid.len()
        )));
    }
    let scenario = crate::scenario::Scenario::from_args(&grid.sim_args(0))?;
    crate::sim::simulate(&scenario)
}

/// Checks the flags that belong to some kinds only.
fn check_kind_flags(args: &PlotArgs) -> Result<()> {
    match (args.kind, &args.input) {
        (PlotKind::Accuracy, None) => Err(Error::invalid(
            "plot accuracy needs --input MEASURE.json: the output of `aim-sim measure --format json`",
        )),
        (PlotKind::Accuracy, Some(_)) => match args.grid.given_lists().first() {
            Some(flag) => Err(Error::invalid(format!(
                "plot accuracy draws the run saved in --input: --{flag} does not apply (give it to `aim-sim measure` instead)"
            ))),
            None => Ok(()),
        },
        (kind, Some(_)) => Err(Error::invalid(format!(
            "--input is only for `plot accuracy`; `plot {}` simulates the run its flags describe",
            kind.name()
        ))),
        (_, None) => Ok(()),
    }
}

/// `aim-sim plot`.
pub fn command(args: &PlotArgs) -> Result<()> {
    image_format(&args.output)?;
    check_kind_flags(args)?;
    let size = args.size.unwrap_or(match args.kind {
        PlotKind::Accuracy => (1400, 1000),
        _ => (1400, 800),
    });
    match args.kind {
        PlotKind::Curves => {
            let grid = curves_grid(&args.grid)?;
            let data = curves::Data::collect(&grid)?;
            render(
                &args.output,
                size,
                |root| curves::draw(root, &data, args.y_scale).map_err(|e| e.to_string()),
                |root| curves::draw(root, &data, args.y_scale).map_err(|e| e.to_string()),
            )
        }
        PlotKind::Layers => {
            let report = single(&args.grid, "layers")?;
            render(
                &args.output,
                size,
                |root| layers::draw(root, &report).map_err(|e| e.to_string()),
                |root| layers::draw(root, &report).map_err(|e| e.to_string()),
            )
        }
        PlotKind::Roofline => {
            let report = single(&args.grid, "roofline")?;
            render(
                &args.output,
                size,
                |root| roofline::draw(root, &report).map_err(|e| e.to_string()),
                |root| roofline::draw(root, &report).map_err(|e| e.to_string()),
            )
        }
        PlotKind::Accuracy => {
            let input = args.input.as_deref().expect("checked by check_kind_flags");
            let report = crate::measure::compare::MeasureReport::load(input)?;
            render(
                &args.output,
                size,
                |root| accuracy::draw(root, &report).map_err(|e| e.to_string()),
                |root| accuracy::draw(root, &report).map_err(|e| e.to_string()),
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(100.0), "100");
        assert_eq!(tick(12.5), "12.5");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(1e6), "1e6");
    }

    #[test]
    fn sizes_and_extensions() {
        assert_eq!(parse_size("1400x800"), Ok((1400, 800)));
        assert!(parse_size("10x10").is_err());
        assert!(parse_size("big").is_err());
        assert_eq!(image_format(Path::new("a.PNG")).unwrap(), ImageFormat::Png);
        assert!(image_format(Path::new("a.jpg")).is_err());
    }
}
