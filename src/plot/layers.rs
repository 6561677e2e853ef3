//! Per-layer view of one run: tokens per layer, and time per layer stacked by operator kind,
//! the baseline's bar (faded, left) beside the schedule's (solid, right).

use super::marker::rgb;
use super::{kind_style, theme, tick, titled, KINDS};
use crate::cost::{OpKind, RunCost};
use crate::palette;
use crate::sim::Report;
use plotters::coord::Shift;
use plotters::prelude::*;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Bar extents around layer `i`: baseline on the left, schedule on the right.
const BAR_W: f64 = 0.4;
const GAP: f64 = 0.03;

fn bar_x(i: usize, baseline: bool) -> (f64, f64) {
    let i = i as f64;
    if baseline {
        (i - GAP - BAR_W, i - GAP)
    } else {
        (i + GAP, i + GAP + BAR_W)
    }
}

/// Milliseconds per operator kind of every layer.
fn kind_ms(run: &RunCost) -> Vec<Vec<(OpKind, f64)>> {
    run.layers
        .iter()
        .map(|l| {
            KINDS
                .iter()
                .map(|&k| {
                    let s: f64 = l
                        .operators
                        .iter()
                        .filter(|o| o.op.kind == k)
                        .map(|o| o.time_s * 1e3)
                        .sum();
                    (k, s)
                })
                .filter(|(_, s)| *s > 0.0)
                .collect()
        })
        .collect()
}

/// An x-axis label for a layer index (integers only).
pub(super) fn layer_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-6 && v >= 0.0 {
        format!("{}", v.round() as i64)
    } else {
        String::new()
    }
}

/// How far above the tallest bar a panel's y axis reaches so that its legend (`rows` entries,
/// upper right, over the last layers' bars) clears the bars: 1.8 at the default size, more
/// where the panel is short (at 1060 × 610 the legends hid layers 22–27).
fn headroom(panel_px: u32, x_label_px: u32, rows: usize) -> f64 {
    // Margins, caption and x labels take this much of the panel; the legend its rows, its
    // padding and its offset from the plot's top.
    let plot_px =
        panel_px as f64 - 24.0 - (theme::PANEL_TITLE_PX as f64 + 10.0) - x_label_px as f64;
    let legend_px = rows as f64 * (theme::LEGEND_PX as f64 + 6.0) + 30.0;
    if plot_px <= legend_px {
        return 1.8;
    }
    (1.0 / (1.0 - legend_px / plot_px)).max(1.8)
}

/// Draws the per-layer chart of `r`.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> DrawResult<DB> {
    let s = &r.scenario;
    let n = r.run.layers.len();
    let title = format!(
        "Per-layer prefill · {} on {}{} · cost model {}{}",
        s.model.label(),
        s.gpu.name,
        crate::report::per_gpu(s.options.tp),
        r.cost_model,
        crate::framework::named(&s.framework)
    );
    let subtitle = format!(
        "schedule {} ({}): {:.2} TFLOPs, {:.1} ms · baseline: {:.2} TFLOPs, {:.1} ms · {:.2}× FLOPs, {:.2}× time",
        s.schedule.name,
        r.schedule_summary,
        r.run.totals.flops / 1e12,
        r.run.totals.time_s * 1e3,
        r.baseline.totals.flops / 1e12,
        r.baseline.totals.time_s * 1e3,
        r.reduction.flops,
        r.reduction.time
    );
    let area = titled(root, &title, &subtitle)?;
    let h = area.dim_in_pixel().1;
    let (top, bottom) = area.split_vertically(h * 36 / 100);
    let x_range = -0.7..(n as f64 - 0.3);
    let x_labels = n.clamp(2, 40);

    // Tokens per layer.
    let max_tokens = r
        .baseline
        .layers
        .iter()
        .map(|l| l.tokens)
        .max()
        .unwrap_or(1)
        .max(1) as f64;
    let mut chart = ChartBuilder::on(&top)
        .caption(
            format!(
                "Sequence length per layer ({} frames × {} visual + {} text tokens)",
                s.input.frames, s.input.tokens_per_frame, s.input.text_tokens
            ),
            ("sans-serif", theme::PANEL_TITLE_PX),
        )
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(86)
        .build_cartesian_2d(
            x_range.clone(),
            0.0..max_tokens * headroom(top.dim_in_pixel().1, 44, 2),
        )?;
    chart
        .configure_mesh()
        .x_desc("decoder layer")
        .y_desc("tokens")
        .y_labels(6)
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_labels(x_labels)
        .x_label_formatter(&|v| layer_tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    // The schedule in its palette colour (the same as in every other chart), the baseline grey.
    let base_color = rgb(palette::GREY);
    let run_color = rgb(palette::style(&s.schedule.name).color);
    for (run, baseline, color) in [(&r.baseline, true, base_color), (&r.run, false, run_color)] {
        chart
            .draw_series(run.layers.iter().map(|l| {
                let (x0, x1) = bar_x(l.layer, baseline);
                Rectangle::new([(x0, 0.0), (x1, l.tokens as f64)], color.filled())
            }))?
            .label(if baseline {
                "baseline (no reduction)".to_string()
            } else {
                format!("schedule {}", s.schedule.name)
            })
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", theme::LEGEND_PX))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;

    // Time per layer, stacked by operator kind.
    let base_ms = kind_ms(&r.baseline);
    let run_ms = kind_ms(&r.run);
    let max_ms = base_ms
        .iter()
        .chain(&run_ms)
        .map(|l| l.iter().map(|(_, v)| v).sum::<f64>())
        .fold(0.0_f64, f64::max)
        .max(1e-9);
    let present: Vec<OpKind> = KINDS
        .iter()
        .copied()
        .filter(|k| run_ms.iter().chain(&base_ms).flatten().any(|(x, _)| x == k))
        .collect();
    let mut chart = ChartBuilder::on(&bottom)
        .caption(
            "Prefill time per layer by operator kind (left bar: baseline, faded; right bar: schedule)",
            ("sans-serif", theme::PANEL_TITLE_PX),
        )
        .margin(12)
        .x_label_area_size(50)
        .y_label_area_size(86)
        // Headroom for the legend's rows above the tallest bars (at 1.45 it hid the last
        // layers' baseline bars).
        .build_cartesian_2d(
            x_range,
            0.0..max_ms * headroom(bottom.dim_in_pixel().1, 50, present.len()),
        )?;
    chart
        .configure_mesh()
        .x_desc("decoder layer")
        .y_desc("time per layer (ms)")
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_labels(x_labels)
        .x_label_formatter(&|v| layer_tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .disable_x_mesh()
        .light_line_style(RGBColor(235, 235, 235))
        .draw()?;
    for (layers, baseline) in [(&base_ms, true), (&run_ms, false)] {
        let mut rects = Vec::new();
        for (i, kinds) in layers.iter().enumerate() {
            let (x0, x1) = bar_x(i, baseline);
            let mut y = 0.0;
            for &(k, ms) in kinds {
                let color = kind_style(k).0;
                let style = if baseline {
                    color.mix(0.4).filled()
                } else {
                    color.filled()
                };
                rects.push(Rectangle::new([(x0, y), (x1, y + ms)], style));
                y += ms;
            }
        }
        chart.draw_series(rects)?;
    }
    for k in present {
        let (color, label) = kind_style(k);
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 6), (x + 16, y + 6)], color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperRight)
        .label_font(("sans-serif", theme::LEGEND_PX))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    Ok(())
}
