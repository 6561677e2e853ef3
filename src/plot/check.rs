//! Predicted against measured time for every priced row of a measurement check: log-log, one
//! point per row coloured by framework, the y = x line and a ±20 % band. Filled points are the
//! framework profile's prediction (leave-one-out when the check has it), hollow ones the ideal
//! roofline's, so the distance the profiles close is visible. A bar through each filled point
//! is the profile's 80 % prediction interval (its `[spread]`, issue 21): the row is inside it
//! where the bar crosses the y = x line. Beside leave-one-out points, rows no fit uses
//! (`timed = "vision"`, `fit = false`) are crosses at the shipped profile's prediction.

use super::marker::{rgb, MarkerAt};
use super::pareto::log_axis;
use super::{theme, tick, titled};
use crate::check::CheckReport;
use crate::palette;
use plotters::coord::Shift;
use plotters::prelude::*;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Half-width of the shaded band: ±20 %.
const BAND: f64 = 0.2;

/// Draws the chart of `r`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &CheckReport) -> DrawResult<DB> {
    // Leave-one-source-out first (the headline), else leave-one-row-out, else in-sample.
    let loso = r.rows.iter().any(|x| x.loso_predicted_ms.is_some());
    let loo = !loso && r.rows.iter().any(|x| x.loo_predicted_ms.is_some());
    // (framework, measured, predicted, roofline) per priced row.
    let pts: Vec<(&str, f64, f64, f64)> = r
        .rows
        .iter()
        .filter_map(|x| {
            let p = if loso {
                x.loso_predicted_ms
            } else if loo {
                x.loo_predicted_ms
            } else {
                x.predicted_ms
            }?;
            Some((x.framework.as_str(), x.measured_ms, p, x.roofline_ms?))
        })
        .collect();
    // The 80 % interval's factor `exp(z·σ)` per row, from its in-sample interval (the interval
    // is `predicted · exp(±z·σ)`, framework.rs), applied to the plotted prediction; 1 where the
    // profile states no spread. In `pts` order.
    let factors: Vec<f64> = r
        .rows
        .iter()
        .filter(|x| {
            let p = if loso {
                x.loso_predicted_ms
            } else if loo {
                x.loo_predicted_ms
            } else {
                x.predicted_ms
            };
            p.is_some() && x.roofline_ms.is_some()
        })
        .map(|x| match (x.predicted_interval_ms, x.predicted_ms) {
            (Some([_, hi]), Some(p)) if p > 0.0 => hi / p,
            _ => 1.0,
        })
        .collect();
    // Rows priced but in no fit (`timed = "vision"`, `fit = false`) have no leave-one-out
    // prediction: beside leave-one-out points they show the shipped profile's, as crosses —
    // the checks no fit has seen. (framework, measured, predicted, interval factor).
    let unfitted: Vec<(&str, f64, f64, Option<[f64; 2]>)> = r
        .rows
        .iter()
        .filter(|x| (loso || loo) && x.loso_predicted_ms.is_none() && x.loo_predicted_ms.is_none())
        .filter_map(|x| {
            let p = x.predicted_ms?;
            let iv = x.predicted_interval_ms.filter(|[lo, hi]| hi > lo);
            Some((x.framework.as_str(), x.measured_ms, p, iv))
        })
        .collect();
    let intervals = factors.iter().any(|f| *f > 1.0);
    let all = r.summary.iter().find(|s| s.group == "all");
    let stat = all.and_then(|s| {
        if loso {
            s.loso.as_ref()
        } else if loo {
            s.loo.as_ref()
        } else {
            s.calibrated.as_ref()
        }
    });
    let ideal = all.and_then(|s| s.roofline.as_ref());
    let title = format!(
        // Rows time a prefill, a time to first token or the vision encoder alone.
        "Predicted vs. measured time, as each row was timed: {} measurements",
        pts.len() + unfitted.len()
    );
    // Rows whose left-out fit fell back (the table's `*`): with no rows left to fit, the
    // filled point is the roofline's and hides the hollow one, unexplained.
    let fell_back = r
        .rows
        .iter()
        .filter(|x| loso && x.loso_predicted_ms.is_some() && x.loso_fallback.is_some())
        .count();
    let sub = format!(
        "filled: framework profile{} (median |error| {:.1} %, worst {:.1} %){} · hollow: ideal roofline (median {:.1} %, worst {:.1} %) · band ±20 %",
        if loso && fell_back > 0 {
            format!(
                ", leave-one-source-out; {fell_back} fell back, check's *"
            )
        } else if loso {
            ", leave-one-source-out".to_string()
        } else if loo {
            ", leave-one-row-out".to_string()
        } else {
            String::new()
        },
        stat.map_or(0.0, |s| s.median_abs_error * 100.0),
        stat.map_or(0.0, |s| s.worst_abs_error * 100.0),
        match all.and_then(|s| s.loso_interval_coverage) {
            Some(c) if intervals && loso => format!(
                ", bars: 80 % interval, holds {:.0} %{}",
                c * 100.0,
                all.and_then(|s| s.loso_interval_coverage_held_out)
                    .map_or(String::new(), |h| format!(
                        " ({:.0} % with σ, too, from the other sources)",
                        h * 100.0
                    ))
            ),
            _ if intervals => ", bars: 80 % interval".to_string(),
            _ => String::new(),
        },
        ideal.map_or(0.0, |s| s.median_abs_error * 100.0),
        ideal.map_or(0.0, |s| s.worst_abs_error * 100.0),
    );
    let area = titled(root, &title, &sub)?;
    let values = pts
        .iter()
        .zip(&factors)
        .flat_map(|((_, m, p, q), f)| [*m, *p / f, *p * f, *q])
        .chain(unfitted.iter().flat_map(|(_, m, p, iv)| {
            let [lo, hi] = iv.unwrap_or([*p, *p]);
            [*m, lo, hi]
        }));
    let (lo, hi) = values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
        (lo.min(v), hi.max(v))
    });
    let (lo, hi) = if hi > 0.0 {
        (lo / 1.4, hi * 1.4)
    } else {
        (1.0, 1000.0)
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(80)
        .build_cartesian_2d(log_axis(lo, hi), log_axis(lo, hi))?;
    chart
        .configure_mesh()
        .x_desc("measured (ms), log scale")
        .y_desc("predicted (ms), log scale")
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(205, 205, 205))
        .draw()?;
    // The ±20 % band and y = x, cut at the axes: a corner outside them was clamped onto the
    // edge, which bent the band into a wedge crossing y = x.
    chart.draw_series(std::iter::once(Polygon::new(
        band_polygon(lo, hi),
        RGBColor(0, 0, 0).mix(0.07).filled(),
    )))?;
    chart.draw_series(LineSeries::new(
        [(lo, lo), (hi, hi)],
        RGBColor(0, 0, 0).mix(0.6).stroke_width(2),
    ))?;
    // Each row's 80 % interval: a broad translucent bar with end ticks, under the points.
    for ((fw, m, p, roof), f) in pts.iter().zip(&factors).filter(|(_, f)| **f > 1.0) {
        let color = rgb(palette::framework(fw).color);
        // Never below the row's roofline, as the interval stated beside it (sim::floored).
        let [lo, hi] = crate::sim::floored([p / f, p * f], *p, *roof);
        chart.draw_series(LineSeries::new(
            [(*m, lo), (*m, hi)],
            color.mix(0.22).stroke_width(7),
        ))?;
        for y in [lo, hi] {
            chart.draw_series(LineSeries::new(
                [(*m / 1.04, y), (*m * 1.04, y)],
                color.mix(0.6).stroke_width(2),
            ))?;
        }
    }
    // The unfitted rows: their interval, then a cross in the framework's colour.
    for (fw, m, p, iv) in &unfitted {
        let color = rgb(palette::framework(fw).color);
        if let Some([lo, hi]) = iv {
            chart.draw_series(LineSeries::new(
                [(*m, *lo), (*m, *hi)],
                color.mix(0.15).stroke_width(5),
            ))?;
        }
        let cross = palette::Style {
            marker: palette::Marker::Cross,
            ..palette::framework(fw)
        };
        chart.draw_series(std::iter::once(MarkerAt::new((*m, *p), &cross, 6, true)))?;
    }
    // Each row: a thin line from its roofline prediction to the profile's.
    for (fw, m, p, q) in &pts {
        let color = rgb(palette::framework(fw).color).mix(0.35);
        chart.draw_series(LineSeries::new([(*m, *q), (*m, *p)], color.stroke_width(1)))?;
    }
    for (fw, m, p, q) in &pts {
        let style = palette::framework(fw);
        chart.draw_series(std::iter::once(MarkerAt::new((*m, *q), &style, 5, false)))?;
        chart.draw_series(std::iter::once(MarkerAt::new((*m, *p), &style, 6, true)))?;
    }
    // Legend: one entry per framework, with its row count.
    let mut frameworks: Vec<&str> = Vec::new();
    for (fw, ..) in &pts {
        if !frameworks.contains(fw) {
            frameworks.push(fw);
        }
    }
    let (x0, y0) = (110, 70);
    if !unfitted.is_empty() {
        let y = y0 + frameworks.len() as i32 * 26;
        // A black cross (the roofline's style), for every framework's unfitted rows.
        let cross = palette::framework(crate::framework::ROOFLINE);
        area.draw(&MarkerAt::new((x0, y), &cross, 6, true))?;
        area.draw(&Text::new(
            format!(
                "checked, never fitted ({} rows): the profile as shipped",
                unfitted.len()
            ),
            (x0 + 16, y - 9),
            ("sans-serif", theme::LEGEND_PX).into_font(),
        ))?;
    }
    for (i, fw) in frameworks.iter().enumerate() {
        let style = palette::framework(fw);
        let y = y0 + i as i32 * 26;
        let n = pts.iter().filter(|p| p.0 == *fw).count();
        area.draw(&MarkerAt::new((x0, y), &style, 6, true))?;
        area.draw(&Text::new(
            format!("{fw} ({n} rows)"),
            (x0 + 16, y - 9),
            ("sans-serif", theme::LEGEND_PX).into_font(),
        ))?;
    }
    Ok(())
}

/// The ±[`BAND`] band about y = x inside the square `[lo, hi]²`: a hexagon whose lower edge
/// y = (1 − BAND)·x starts where it enters the square and whose upper edge y = (1 + BAND)·x
/// ends where it leaves it.
fn band_polygon(lo: f64, hi: f64) -> Vec<(f64, f64)> {
    vec![
        (lo, lo),
        (lo / (1.0 - BAND), lo),
        (hi, hi * (1.0 - BAND)),
        (hi, hi),
        (hi / (1.0 + BAND), hi),
        (lo, lo * (1.0 + BAND)),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The band's corners lay outside the axes and were clamped onto them, so `plot check`
    /// drew a wedge lying above y = x at one end and below it at the other.
    #[test]
    fn the_band_stays_inside_the_axes_and_about_y_equals_x() {
        for (lo, hi) in [(1.0, 1000.0), (3.7, 41.0), (0.02, 9000.0)] {
            let band = band_polygon(lo, hi);
            for &(x, y) in &band {
                assert!((lo..=hi).contains(&x) && (lo..=hi).contains(&y), "{x} {y}");
                let r = y / x;
                assert!(
                    (1.0 - BAND - 1e-12..=1.0 + BAND + 1e-12).contains(&r),
                    "{r}"
                );
            }
            // Both ends of y = x inside it, and both edges reached.
            assert!(band.contains(&(lo, lo)) && band.contains(&(hi, hi)));
            assert!(band
                .iter()
                .any(|&(x, y)| (y / x - (1.0 - BAND)).abs() < 1e-12));
            assert!(band
                .iter()
                .any(|&(x, y)| (y / x - (1.0 + BAND)).abs() < 1e-12));
        }
    }
}
