//! Charts of simulated prefills, PNG or SVG (plotters, pure Rust). Each chart takes data —
//! a report, a sweep's rows, a measurement — and never runs a simulation itself.
//!
//! * `curves`: FLOPs and prefill time against frames, one line per schedule (a sweep);
//! * `layers`: one run per layer, tokens and time stacked by operator kind, baseline beside it;
//! * `roofline`: the GPU's roofline with every operator of one run as a point;
//! * `pareto`: published accuracy against computed cost, the Pareto frontier drawn;
//! * `accuracy`: a saved `aim-sim measure --format json` result, measured against predicted
//!   time per layer, schedule and baseline, with the relative errors and the speed-ups.
//!
//! Fonts are DejaVu Sans embedded in the binary (the `dejavu` crate), registered with plotters'
//! `ab_glyph` backend, so no fontconfig or system font is needed; PNG text is rasterised by
//! `text.rs` (plotters' own glyph placement drops side bearings: "lin ear").

mod accuracy;
mod check;
mod curves;
mod labels;
mod layers;
mod marker;
mod pareto;
mod roofline;
mod text;

pub use curves::Data as CurvesData;

use crate::cost::OpKind;
use crate::error::{Error, Result};
use crate::measure::prediction::MeasureReport;
use crate::sim::Report;
use plotters::coord::Shift;
use plotters::prelude::*;
use std::path::Path;

/// Y-axis scale of `curves`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// Logarithmic when the lines span more than 20×, else linear.
    Auto,
    Log,
    Linear,
}

/// Image format, from the output file's extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImageFormat {
    Png,
    Svg,
}

/// The image format the file name asks for (`.png` or `.svg`), or an error saying so.
pub(crate) fn image_format(path: &Path) -> Result<ImageFormat> {
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

/// The default size of `curves`, `layers`, `roofline` and `pareto`, px (`plot --help`).
pub const DEFAULT_SIZE: (u32, u32) = (1400, 800);
/// The default size of `accuracy` (three panels and two legend rows), px.
pub const ACCURACY_SIZE: (u32, u32) = (1400, 1000);
/// The default size of `check` (a square log-log chart), px.
pub const CHECK_SIZE: (u32, u32) = (1100, 1000);

/// The canvas a chart of default size `default` is laid out on for an image of `size`, and the
/// factor the image is of it (≤ 1). The layouts (fonts, margins, legends, tick labels) fit down
/// to three quarters of the default in each dimension; an image smaller than that (`--size`
/// goes down to 200x200) is that chart scaled down, drawn on a canvas as much larger as its
/// aspect asks, not a layout squeezed until its labels overlap. At or above it: the image
/// itself, drawn as before.
fn layout_canvas(size: (u32, u32), default: (u32, u32)) -> ((u32, u32), f64) {
    let min = |d: u32| f64::from(d) * 0.75;
    let k = (f64::from(size.0) / min(default.0))
        .min(f64::from(size.1) / min(default.1))
        .min(1.0);
    if k == 1.0 {
        return (size, 1.0);
    }
    let up = |d: u32| (f64::from(d) / k).round() as u32;
    ((up(size.0), up(size.1)), k)
}

/// For each of `to` samples shrunk from `from` (`to ≤ from`), the source samples it covers and
/// the share of it each one is (an area average).
fn shrink_weights(from: u32, to: u32) -> Vec<Vec<(usize, f32)>> {
    let scale = f64::from(from) / f64::from(to);
    (0..to)
        .map(|d| {
            let (a, b) = (f64::from(d) * scale, f64::from(d + 1) * scale);
            let first = a.floor() as usize;
            (first..(b.ceil() as usize).min(from as usize))
                .filter_map(|s| {
                    let covered = b.min(s as f64 + 1.0) - a.max(s as f64);
                    (covered > 0.0).then_some((s, (covered / scale) as f32))
                })
                .collect()
        })
        .collect()
}

/// An RGB image of `from` pixels shrunk to `to` (each no larger), each pixel the average of the
/// area it covers.
fn shrink_rgb(src: &[u8], from: (u32, u32), to: (u32, u32)) -> Vec<u8> {
    let (wx, wy) = (shrink_weights(from.0, to.0), shrink_weights(from.1, to.1));
    let (sw, dw) = (from.0 as usize, to.0 as usize);
    // Rows first: every source row shrunk to the new width.
    let mut rows = vec![0.0_f32; from.1 as usize * dw * 3];
    for y in 0..from.1 as usize {
        for (x, ws) in wx.iter().enumerate() {
            for &(s, w) in ws {
                for c in 0..3 {
                    rows[(y * dw + x) * 3 + c] += w * f32::from(src[(y * sw + s) * 3 + c]);
                }
            }
        }
    }
    let mut out = vec![0_u8; dw * to.1 as usize * 3];
    for (y, ws) in wy.iter().enumerate() {
        for x in 0..dw {
            for c in 0..3 {
                let v: f32 = ws
                    .iter()
                    .map(|&(s, w)| w * rows[(s * dw + x) * 3 + c])
                    .sum();
                out[(y * dw + x) * 3 + c] = v.round().clamp(0.0, 255.0) as u8;
            }
        }
    }
    out
}

/// Font sizes and colours shared by every chart.
pub(crate) mod theme {
    pub(crate) const TITLE_PX: u32 = 26;
    pub(crate) const SUBTITLE_PX: u32 = 18;
    pub(crate) const PANEL_TITLE_PX: u32 = 20;
    pub(crate) const AXIS_DESC_PX: u32 = 18;
    pub(crate) const LABEL_PX: u32 = 16;
    pub(crate) const LEGEND_PX: u32 = 16;
}

/// Colour and legend label of an operator kind (the shared palette's).
fn kind_style(kind: OpKind) -> (RGBColor, &'static str) {
    (
        marker::rgb(crate::palette::op_kind(kind)),
        crate::palette::op_kind_label(kind),
    )
}

/// All kinds, in legend order.
const KINDS: [OpKind; 10] = crate::palette::OP_KINDS;

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
    let w = root.dim_in_pixel().0 as i32;
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
    let fits = |text: &str, px: u32, bold: bool| {
        root.estimate_text_size(text, &centered(px, bold))
            .map(|(tw, _)| (tw as i32) < w - 24)
            .unwrap_or(true)
    };
    // The largest size up to `px` at which `text` fits the width (long titles shrink).
    let fitting = |text: &str, px: u32, bold: bool| -> u32 {
        let mut px = px;
        while px > 11 && !fits(text, px, bold) {
            px -= 1;
        }
        px
    };
    // A subtitle that would shrink by more than 2 px is broken in two at the " · " nearest
    // its middle (check --cv's, which carries the headline figures, was 9 px in an SVG).
    let lines: Vec<String> = match subtitle
        .match_indices(" · ")
        .map(|(i, _)| i)
        .min_by_key(|&i| (i as i64 - subtitle.len() as i64 / 2).abs())
    {
        Some(cut) if !fits(subtitle, theme::SUBTITLE_PX - 2, false) => vec![
            subtitle[..cut].to_string(),
            subtitle[cut + " · ".len()..].to_string(),
        ],
        _ => vec![subtitle.to_string()],
    };
    let line_px = lines
        .iter()
        .map(|l| fitting(l, theme::SUBTITLE_PX, false))
        .min()
        .unwrap_or(theme::SUBTITLE_PX);
    let h = theme::TITLE_PX as i32
        + theme::SUBTITLE_PX as i32
        + 24
        + (lines.len() as i32 - 1) * (line_px as i32 + 4);
    let (top, rest) = root.split_vertically(h);
    let title_px = fitting(title, theme::TITLE_PX, true);
    top.draw_text(title, &centered(title_px, true), (w / 2, 8))?;
    for (i, line) in lines.iter().enumerate() {
        top.draw_text(
            line,
            &centered(line_px, false),
            (
                w / 2,
                14 + theme::TITLE_PX as i32 + i as i32 * (line_px as i32 + 4),
            ),
        )?;
    }
    Ok(rest)
}

/// Draws on a PNG or SVG backend, whichever the path asks for: an image of `size` of a chart
/// whose default size is `default` ([`layout_canvas`]: below three quarters of it, the chart
/// laid out larger and scaled down).
fn render(
    path: &Path,
    size: (u32, u32),
    default: (u32, u32),
    draw_png: impl FnOnce(&DrawingArea<text::Png, Shift>) -> std::result::Result<(), String>,
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
    // Open the file before drawing, so an unwritable path is a plain I/O error (a directory,
    // a missing folder, no permission), not the backend's debug text.
    std::fs::File::create(path).map_err(|source| Error::Output {
        path: path.to_path_buf(),
        source,
    })?;
    let (canvas, _) = layout_canvas(size, default);
    match image_format(path)? {
        ImageFormat::Png if canvas == size => {
            let root = text::Png(BitMapBackend::new(path, size)).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            draw_png(&root).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        ImageFormat::Png => {
            // Drawn on the larger canvas in memory, then shrunk into the image.
            let mut big = vec![0_u8; canvas.0 as usize * canvas.1 as usize * 3];
            {
                let root =
                    text::Png(BitMapBackend::with_buffer(&mut big, canvas)).into_drawing_area();
                root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
                draw_png(&root).map_err(fail)?;
                root.present().map_err(|e| fail(e.to_string()))?;
            }
            let small = shrink_rgb(&big, canvas, size);
            let mut out = BitMapBackend::new(path, size);
            out.blit_bitmap((0, 0), size, &small)
                .map_err(|e| fail(e.to_string()))?;
            out.present().map_err(|e| fail(e.to_string()))
        }
        ImageFormat::Svg if canvas == size => {
            let root = SVGBackend::new(path, size).into_drawing_area();
            root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
            draw_svg(&root).map_err(fail)?;
            root.present().map_err(|e| fail(e.to_string()))
        }
        ImageFormat::Svg => {
            // Laid out on the larger canvas (its viewBox), shown at the image's size.
            let mut text = String::new();
            {
                let root = SVGBackend::with_string(&mut text, canvas).into_drawing_area();
                root.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
                draw_svg(&root).map_err(fail)?;
                root.present().map_err(|e| fail(e.to_string()))?;
            }
            let header = format!("<svg width=\"{}\" height=\"{}\"", canvas.0, canvas.1);
            let text = text.replacen(
                &header,
                &format!("<svg width=\"{}\" height=\"{}\"", size.0, size.1),
                1,
            );
            std::fs::write(path, text).map_err(|source| Error::Output {
                path: path.to_path_buf(),
                source,
            })
        }
    }
}

/// Efficiency curves (FLOPs and time against frames) of a sweep's rows.
pub fn curves(path: &Path, size: (u32, u32), data: &CurvesData, scale: Scale) -> Result<()> {
    render(
        path,
        size,
        DEFAULT_SIZE,
        |root| curves::draw(root, data, scale).map_err(|e| e.to_string()),
        |root| curves::draw(root, data, scale).map_err(|e| e.to_string()),
    )
}

/// One run per layer: tokens, and time stacked by operator kind, beside the baseline.
pub fn layers(path: &Path, size: (u32, u32), report: &Report) -> Result<()> {
    render(
        path,
        size,
        DEFAULT_SIZE,
        |root| layers::draw(root, report).map_err(|e| e.to_string()),
        |root| layers::draw(root, report).map_err(|e| e.to_string()),
    )
}

/// Every operator of one run on the GPU's roofline.
pub fn roofline(path: &Path, size: (u32, u32), report: &Report) -> Result<()> {
    render(
        path,
        size,
        DEFAULT_SIZE,
        |root| roofline::draw(root, report).map_err(|e| e.to_string()),
        |root| roofline::draw(root, report).map_err(|e| e.to_string()),
    )
}

/// Published accuracy against computed cost, Pareto frontier drawn; `compare_paper`: the
/// paper's printed cost beside each point, an arrow to aim-sim's.
/// Predicted against measured time for a measurement check's rows.
pub fn check(path: &Path, size: (u32, u32), report: &crate::check::CheckReport) -> Result<()> {
    // No point to draw: an empty chart would read "median |error| 0.0 %".
    if report.rows.iter().all(|r| r.predicted_ms.is_none()) {
        let why: Vec<&str> = report
            .rows
            .iter()
            .filter_map(|r| r.not_priced.as_deref())
            .fold(Vec::new(), |mut all, w| {
                if !all.contains(&w) {
                    all.push(w);
                }
                all
            });
        return Err(Error::invalid(format!(
            "{}: no row is priced, so the chart has no point to draw ({}): give rows with their gpu and per-layer setting; `aim-sim check {}` lists the rows and why",
            report.file,
            why.join("; "),
            report.file
        )));
    }
    render(
        path,
        size,
        CHECK_SIZE,
        |root| check::draw(root, report).map_err(|e| e.to_string()),
        |root| check::draw(root, report).map_err(|e| e.to_string()),
    )
}

pub fn pareto(
    path: &Path,
    size: (u32, u32),
    data: &crate::pareto::Pareto,
    compare_paper: bool,
) -> Result<()> {
    render(
        path,
        size,
        DEFAULT_SIZE,
        |root| pareto::draw(root, data, compare_paper).map_err(|e| e.to_string()),
        |root| pareto::draw(root, data, compare_paper).map_err(|e| e.to_string()),
    )
}

/// A saved measurement: measured against predicted time per layer.
pub fn accuracy(path: &Path, size: (u32, u32), report: &MeasureReport) -> Result<()> {
    render(
        path,
        size,
        ACCURACY_SIZE,
        |root| accuracy::draw(root, report).map_err(|e| e.to_string()),
        |root| accuracy::draw(root, report).map_err(|e| e.to_string()),
    )
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
    fn small_images_are_a_larger_layout_scaled_down() {
        // At or above three quarters of the default: drawn as it is.
        for size in [DEFAULT_SIZE, (1050, 600), (8000, 8000)] {
            assert_eq!(layout_canvas(size, DEFAULT_SIZE), (size, 1.0));
        }
        assert_eq!(layout_canvas(ACCURACY_SIZE, ACCURACY_SIZE).1, 1.0);
        assert_eq!(layout_canvas(CHECK_SIZE, CHECK_SIZE).1, 1.0);
        // Below: the canvas keeps the image's aspect and is at least 1050x600.
        let (canvas, k) = layout_canvas((200, 200), DEFAULT_SIZE);
        assert_eq!(canvas, (1050, 1050));
        assert!((k - 200.0 / 1050.0).abs() < 1e-12);
        assert_eq!(layout_canvas((8000, 200), DEFAULT_SIZE).0, (24000, 600));
        assert_eq!(layout_canvas((200, 200), CHECK_SIZE).0, (825, 825));
    }

    #[test]
    fn shrinking_averages_the_area_each_pixel_covers() {
        // 4x2 → 2x1: each output pixel the mean of a 2x2 block.
        let src: Vec<u8> = [0, 100, 200, 255, 50, 150, 250, 255]
            .iter()
            .flat_map(|&v| [v, v, v])
            .collect();
        assert_eq!(
            shrink_rgb(&src, (4, 2), (2, 1)),
            vec![75, 75, 75, 240, 240, 240]
        );
        // 3 → 2: the middle pixel split between both.
        let src: Vec<u8> = [0, 90, 180].iter().flat_map(|&v| [v, 0, 255]).collect();
        assert_eq!(
            shrink_rgb(&src, (3, 1), (2, 1)),
            vec![30, 0, 255, 150, 0, 255]
        );
        // Same size: unchanged.
        assert_eq!(shrink_rgb(&src, (3, 1), (3, 1)), src);
    }

    #[test]
    fn extensions() {
        assert_eq!(image_format(Path::new("a.PNG")).unwrap(), ImageFormat::Png);
        assert!(image_format(Path::new("a.jpg")).is_err());
    }
}
