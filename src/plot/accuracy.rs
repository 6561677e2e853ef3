//! A saved measurement (`aim-sim measure --format json`) per layer: predicted, calibrated and
//! measured time of the schedule's run and of the baseline's, each in a panel, and the relative
//! error of every layer's prediction below them. One legend row under the title serves all three.

use super::layers::layer_tick;
use super::marker::rgb;
use super::{theme, tick, titled};
use crate::measure::prediction::{LayerComparison, MeasureReport, RunComparison};
use crate::palette;
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// The series of a bar panel, in bar order: label and colour; `calibrated` only when present.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Series {
    Predicted,
    Calibrated,
    Measured,
}

impl Series {
    fn color(self) -> RGBColor {
        match self {
            Series::Predicted => rgb(palette::PREDICTED),
            Series::Calibrated => rgb(palette::CALIBRATED),
            Series::Measured => rgb(palette::MEASURED),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Series::Predicted => "predicted (uncalibrated)",
            Series::Calibrated => "predicted, calibrated",
            Series::Measured => "measured",
        }
    }

    /// This series' time of a layer, seconds.
    fn time_s(self, l: &LayerComparison) -> Option<f64> {
        match self {
            Series::Predicted => Some(l.predicted_time_s),
            Series::Calibrated => l.predicted_calibrated_time_s,
            Series::Measured => Some(l.measured_time_s),
        }
    }
}

/// Share of a layer's slot taken by its group of bars.
const GROUP_W: f64 = 0.8;

fn ms(s: f64) -> String {
    format!("{} ms", tick(s * 1e3))
}

/// A relative error in percent, signed; no "-0.0%".
fn pct(e: f64) -> String {
    let p = e * 100.0;
    if p.abs() < 0.05 {
        "0.0%".to_string()
    } else {
        format!("{p:+.1}%")
    }
}

/// The totals of a run: measured, predicted (error), calibrated (error).
fn totals(run: &RunComparison) -> String {
    let m = run.measured_time_s;
    let mut s = format!(
        "measured {} · predicted {} ({})",
        ms(m),
        ms(run.predicted_time_s),
        pct(run.predicted_time_s / m - 1.0)
    );
    if let Some(c) = run.predicted_calibrated_time_s {
        s += &format!(" · calibrated {} ({})", ms(c), pct(c / m - 1.0));
    }
    s
}

/// One legend entry: a bar swatch, or a line with a marker (circle, or triangle).
enum Swatch {
    Bar(RGBColor),
    Line { color: RGBColor, triangle: bool },
}

const LEGEND_ROW_PX: u32 = 28;
const SWATCH_W: i32 = 26;
const SWATCH_PAD: i32 = 6;
const LEGEND_SPACING: i32 = 28;

fn legend_font<'a>() -> TextStyle<'a> {
    ("sans-serif", theme::LEGEND_PX)
        .into_font()
        .color(&BLACK)
        .pos(Pos::new(HPos::Left, VPos::Center))
}

/// Width in pixels of each legend entry, swatch and label.
fn legend_widths<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
) -> Vec<i32> {
    items
        .iter()
        .map(|(_, label)| {
            let text_w = area
                .estimate_text_size(label, &legend_font())
                .map(|(tw, _)| tw as i32)
                .unwrap_or(9 * label.len() as i32);
            SWATCH_W + SWATCH_PAD + text_w
        })
        .collect()
}

/// Splits the entries into rows no wider than `width` pixels (each row at least one entry).
fn legend_rows(widths: &[i32], width: i32) -> Vec<std::ops::Range<usize>> {
    let mut rows = Vec::new();
    let (mut start, mut used) = (0, 0);
    for (i, w) in widths.iter().enumerate() {
        let need = if i == start {
            *w
        } else {
            used + LEGEND_SPACING + w
        };
        if i > start && need > width {
            rows.push(start..i);
            start = i;
            used = *w;
        } else {
            used = need;
        }
    }
    if start < widths.len() {
        rows.push(start..widths.len());
    }
    rows
}

/// Draws the legend entries in one centred row across `area`.
fn legend_row<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    items: &[(Swatch, String)],
    widths: &[i32],
) -> DrawResult<DB> {
    let (w, h) = area.dim_in_pixel();
    let font = legend_font();
    let (swatch_w, pad, spacing) = (SWATCH_W, SWATCH_PAD, LEGEND_SPACING);
    let total: i32 = widths.iter().sum::<i32>() + spacing * (items.len() as i32 - 1).max(0);
    let mut x = ((w as i32 - total) / 2).max(4);
    let y = h as i32 / 2;
    for ((swatch, label), entry_w) in items.iter().zip(widths) {
        match *swatch {
            Swatch::Bar(color) => {
                area.draw(&Rectangle::new(
                    [(x + 4, y - 7), (x + swatch_w - 4, y + 7)],
                    color.filled(),
                ))?;
            }
            Swatch::Line { color, triangle } => {
                let style = color.stroke_width(2);
                area.draw(&PathElement::new(vec![(x, y), (x + swatch_w, y)], style))?;
                let c = (x + swatch_w / 2, y);
                if triangle {
                    area.draw(&TriangleMarker::new(c, 6, color.filled()))?;
                } else {
                    area.draw(&Circle::new(c, 4, color.filled()))?;
                }
            }
        }
        area.draw_text(label, &font, (x + swatch_w + pad, y))?;
        x += entry_w + spacing;
    }
    Ok(())
}

/// The largest font size up to the panel-title size at which `caption` fits the panel's width.
fn caption_px<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, caption: &str) -> u32 {
    let w = area.dim_in_pixel().0 as i32 - 48;
    let mut px = theme::PANEL_TITLE_PX;
    while px > 11
        && area
            .estimate_text_size(caption, &TextStyle::from(("sans-serif", px).into_font()))
            .is_ok_and(|(tw, _)| tw as i32 > w)
    {
        px -= 1;
    }
    px
}

/// Bars of predicted, calibrated (when present) and measured time per layer of one run.
fn run_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    run: &RunComparison,
    series: &[Series],
    x_range: std::ops::Range<f64>,
) -> DrawResult<DB> {
    let max_ms = run
        .layers
        .iter()
        .flat_map(|l| series.iter().filter_map(|s| s.time_s(l)))
        .fold(0.0_f64, f64::max)
        * 1e3;
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", caption_px(area, caption)))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(86)
        .build_cartesian_2d(x_range, 0.0..(max_ms * 1.08).max(1e-9))?;
    chart
        .configure_mesh()
        .x_desc("decoder layer")
        .y_desc("time per layer (ms)")
        .y_labels(6)
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_labels(run.layers.len().clamp(2, 40))
        .x_label_formatter(&|v| layer_tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    let bar_w = GROUP_W / series.len() as f64;
    for (k, &s) in series.iter().enumerate() {
        chart.draw_series(run.layers.iter().filter_map(|l| {
            let t = s.time_s(l)?;
            let x0 = l.layer as f64 - GROUP_W / 2.0 + k as f64 * bar_w;
            Some(Rectangle::new(
                [(x0 + 0.01, 0.0), (x0 + bar_w - 0.01, t * 1e3)],
                s.color().filled(),
            ))
        }))?;
    }
    Ok(())
}

/// Relative error of every layer's prediction, `predicted / measured − 1`, both runs.
fn error_panel<DB: DrawingBackend>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    r: &MeasureReport,
    x_range: std::ops::Range<f64>,
) -> DrawResult<DB> {
    // (run, baseline?, calibrated?) → points in percent.
    let mut lines = Vec::new();
    // The baseline first, so that the schedule's lines lie on top.
    for (run, baseline) in [(&r.baseline_run, true), (&r.schedule_run, false)] {
        for calibrated in [false, true] {
            let points: Vec<(f64, f64)> = run
                .layers
                .iter()
                .filter_map(|l| {
                    let e = if calibrated {
                        l.error_calibrated?
                    } else {
                        l.error
                    };
                    Some((l.layer as f64, e * 100.0))
                })
                .filter(|(_, e)| e.is_finite())
                .collect();
            if !points.is_empty() {
                lines.push((baseline, calibrated, points));
            }
        }
    }
    let all = lines.iter().flat_map(|(_, _, p)| p.iter().map(|(_, e)| *e));
    let (lo, hi) = all.fold((0.0_f64, 0.0_f64), |(lo, hi), e| (lo.min(e), hi.max(e)));
    let pad = ((hi - lo) * 0.1).max(1.0);
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", caption_px(area, caption)))
        .margin(10)
        .x_label_area_size(44)
        .y_label_area_size(86)
        .build_cartesian_2d(x_range.clone(), (lo - pad)..(hi + pad))?;
    chart
        .configure_mesh()
        .x_desc("decoder layer")
        .y_desc("error (%)")
        .y_labels(5)
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_labels(r.schedule_run.layers.len().clamp(2, 40))
        .x_label_formatter(&|v| layer_tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    chart.draw_series(LineSeries::new(
        [(x_range.start, 0.0), (x_range.end, 0.0)],
        BLACK.stroke_width(1),
    ))?;
    for (baseline, calibrated, points) in lines {
        let color = error_color(calibrated, baseline);
        chart.draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?;
        if baseline {
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| TriangleMarker::new(p, 6, color.filled())),
            )?;
        } else {
            chart.draw_series(
                points
                    .into_iter()
                    .map(|p| Circle::new(p, 4, color.filled())),
            )?;
        }
    }
    Ok(())
}

/// Colour of an error line: the prediction's colour, lighter for the baseline.
fn error_color(calibrated: bool, baseline: bool) -> RGBColor {
    let RGBColor(r, g, b) = if calibrated {
        Series::Calibrated.color()
    } else {
        Series::Predicted.color()
    };
    if baseline {
        let light = |c: u8| c + (255 - c) / 2;
        RGBColor(light(r), light(g), light(b))
    } else {
        RGBColor(r, g, b)
    }
}

/// Draws the accuracy chart of the measurement `r`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    r: &MeasureReport,
) -> DrawResult<DB> {
    let calibrated = r
        .schedule_run
        .layers
        .iter()
        .chain(&r.baseline_run.layers)
        .any(|l| l.predicted_calibrated_time_s.is_some());
    let series: &[Series] = if calibrated {
        &[Series::Predicted, Series::Calibrated, Series::Measured]
    } else {
        &[Series::Predicted, Series::Measured]
    };
    let title = format!(
        "Measured vs predicted prefill per layer · {} · {} frames · schedule {} · cost model {}",
        r.model, r.frames, r.schedule, r.cost_model
    );
    let subtitle = format!(
        "device: {} · GPU profile: {} · speed-up over baseline: measured {:.2}×, predicted {:.2}×{}",
        r.device,
        r.gpu_profile,
        r.measured_speedup,
        r.predicted_speedup,
        r.predicted_calibrated_speedup
            .map(|s| format!(", calibrated {s:.2}×"))
            .unwrap_or_default()
    );
    let area = titled(root, &title, &subtitle)?;
    // The legend: the bars' series on one row, the error lines on the next (wrapped as needed).
    let bars: Vec<(Swatch, String)> = series
        .iter()
        .map(|s| (Swatch::Bar(s.color()), s.label().to_string()))
        .collect();
    let mut lines = Vec::new();
    for (baseline, name) in [(false, "schedule"), (true, "baseline")] {
        for cal in [false, true].into_iter().filter(|&c| !c || calibrated) {
            let what = if cal { "calibrated" } else { "uncalibrated" };
            lines.push((
                Swatch::Line {
                    color: error_color(cal, baseline),
                    triangle: baseline,
                },
                format!("error of {name}, {what}"),
            ));
        }
    }
    let width = area.dim_in_pixel().0 as i32 - 8;
    let mut area = area;
    for items in [bars, lines] {
        let widths = legend_widths(&area, &items);
        for row in legend_rows(&widths, width) {
            let (strip, rest) = area.split_vertically(LEGEND_ROW_PX);
            legend_row(&strip, &items[row.clone()], &widths[row])?;
            area = rest;
        }
    }

    let h = area.dim_in_pixel().1;
    let (schedule_area, rest) = area.split_vertically(h * 35 / 100);
    let (baseline_area, error_area) = rest.split_vertically(h * 35 / 100);
    let n = r.schedule_run.layers.len().max(r.baseline_run.layers.len());
    let x_range = -0.6..(n as f64 - 0.4);

    let run = &r.schedule_run;
    let mut caption = format!("Schedule {}: {}", r.schedule, totals(run));
    if run.merge_measured_time_s > 0.0 || run.merge_predicted_time_s > 0.0 {
        caption += &format!(
            " · merge stage: measured {}, predicted {}",
            ms(run.merge_measured_time_s),
            ms(run.merge_predicted_time_s)
        );
    }
    run_panel(&schedule_area, &caption, run, series, x_range.clone())?;
    let caption = format!("Baseline (no reduction): {}", totals(&r.baseline_run));
    run_panel(
        &baseline_area,
        &caption,
        &r.baseline_run,
        series,
        x_range.clone(),
    )?;
    error_panel(
        &error_area,
        "Relative error per layer: predicted / measured − 1",
        r,
        x_range,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legend_wraps_only_when_too_wide() {
        assert_eq!(legend_rows(&[100, 100, 100], 1000), vec![0..3]);
        // 100 + 28 + 100 = 228 fits 250; a third entry does not.
        assert_eq!(legend_rows(&[100, 100, 100], 250), vec![0..2, 2..3]);
        // An entry wider than the row still gets a row of its own.
        assert_eq!(legend_rows(&[400, 100], 250), vec![0..1, 1..2]);
        assert!(legend_rows(&[], 250).is_empty());
    }

    #[test]
    fn percentages_are_signed_without_negative_zero() {
        assert_eq!(pct(-0.3338), "-33.4%");
        assert_eq!(pct(0.001), "+0.1%");
        assert_eq!(pct(-0.0001), "0.0%");
    }
}
