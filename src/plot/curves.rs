//! Efficiency curves: prefill FLOPs and time against frames (or tokens), one line per schedule
//! (and per model/GPU/... when those are lists too).

use super::marker::{dash_pattern, legend_glyph, rgb, MarkerAt};
use super::{theme, tick, titled, Scale};
use crate::error::{Error, Result};
use crate::hardware::Gpu;
use crate::model::Model;
use crate::palette::Style;
use crate::sweep::SweepRow;
use plotters::coord::ranged1d::{Ranged, ValueFormatter};
use plotters::coord::Shift;
use plotters::prelude::*;
use std::ops::Range;

/// One line: its label, its style (the schedule's, from the shared palette) and
/// `(x, TFLOPs, ms)` points in x order, with `(x, low ms, high ms)` of its times' 80 %
/// intervals under a fitted framework profile (empty under the roofline, a bound).
pub struct Series {
    pub label: String,
    pub style: Style,
    pub points: Vec<(f64, f64, f64)>,
    pub band: Vec<(f64, f64, f64)>,
    /// Whether each point's prefill fits the GPU's memory (its peak, per device): a point
    /// that does not is drawn hollow (the chart drew runs that cannot happen like any other).
    pub fits: Vec<bool>,
}

/// Everything the chart shows.
pub struct Data {
    pub series: Vec<Series>,
    pub x_desc: &'static str,
    pub title: String,
    pub subtitle: String,
}

/// Most lines one chart holds.
pub(crate) const MAX_LINES: usize = 10;

use crate::palette::line_styles;

fn unique<T: PartialEq + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for i in items {
        if !out.contains(&i) {
            out.push(i);
        }
    }
    out
}

impl Data {
    /// Groups a sweep's rows into lines; `tokens`: x is visual tokens, else frames;
    /// `framework`: the profile that priced the times (named in the subtitle unless it is the
    /// roofline, the default, whose chart is as it was).
    /// `tp`: the tensor parallelism every row shares (above 1 the figures are one GPU's share,
    /// which the title says).
    pub fn from_rows(rows: &[SweepRow], tokens: bool, framework: &str, tp: u64) -> Result<Data> {
        if rows.is_empty() {
            return Err(Error::invalid(
                "plot curves needs at least one configuration",
            ));
        }
        let lines = crate::sweep::lines(rows, tokens);
        if lines.len() > MAX_LINES {
            return Err(Error::invalid(format!(
                "plot curves draws at most {MAX_LINES} lines, but the lists give {}: shorten the lists of schedules, models, GPUs, ...",
                lines.len()
            )));
        }
        let schedules: Vec<&str> = lines.iter().map(|l| l.schedule.as_str()).collect();
        let styles = line_styles(&schedules);
        let x_of = |r: &SweepRow| (if tokens { r.visual_tokens } else { r.frames }) as f64;
        let fit_of = crate::sweep::fits(rows);
        let unfit = fit_of.iter().filter(|f| !**f).count();
        let series = lines
            .into_iter()
            .zip(styles)
            .map(|(l, style)| Series {
                points: l
                    .rows
                    .iter()
                    .map(|&i| {
                        let r = &rows[i];
                        (x_of(r), r.flops / 1e12, r.time_s * 1e3)
                    })
                    .collect(),
                band: l
                    .rows
                    .iter()
                    .filter_map(|&i| {
                        let r = &rows[i];
                        r.interval
                            .map(|v| (x_of(r), v.time_low_s * 1e3, v.time_high_s * 1e3))
                    })
                    .collect(),
                fits: l.rows.iter().map(|&i| fit_of[i]).collect(),
                label: l.label,
                style,
            })
            .collect();
        let models = unique(rows.iter().map(|r| r.model.clone()))
            .iter()
            // The long name when the row names a preset or file; the label as is otherwise.
            .map(|m| Model::load(m).map_or(m.clone(), |m| m.label().to_string()))
            .collect::<Vec<_>>();
        let gpus = unique(rows.iter().map(|r| r.gpu.clone()))
            .iter()
            .map(|g| Gpu::load(g).map_or(g.clone(), |g| g.name))
            .collect::<Vec<_>>();
        let cost_models = unique(rows.iter().map(|r| r.cost_model.clone()));
        let first = &rows[0];
        let same = |f: fn(&SweepRow) -> u64| rows.iter().all(|r| f(r) == f(first));
        let mut input = Vec::new();
        if !tokens && same(|r| r.tokens_per_frame) {
            input.push(format!(
                "{} visual tokens per frame",
                first.tokens_per_frame
            ));
        }
        if same(|r| r.text_tokens) {
            input.push(format!("{} text tokens", first.text_tokens));
        }
        if same(|r| r.batch) {
            input.push(format!("batch {}", first.batch));
        }
        Ok(Data {
            series,
            x_desc: if tokens {
                "visual tokens before merging"
            } else {
                "frames"
            },
            title: format!(
                "Prefill cost vs. {} · {} on {}{}",
                if tokens { "visual tokens" } else { "frames" },
                models.join(", "),
                gpus.join(", "),
                crate::report::per_gpu(tp)
            ),
            subtitle: format!(
                "cost model {}{} · {}{}",
                cost_models.join(", "),
                framework_words(framework, rows.iter().any(|r| r.interval.is_some())),
                input.join(" · "),
                if unfit > 0 {
                    format!(
                        " · hollow: {unfit} of {} configurations exceed the GPU's memory",
                        rows.len()
                    )
                } else {
                    String::new()
                }
            ),
        })
    }
}

/// What the subtitle says of the framework profile ([`crate::framework::named`]), and that
/// the shading is its 80 % interval where the rows carry one.
fn framework_words(framework: &str, band: bool) -> String {
    let mut words = crate::framework::named(framework);
    if band && !words.is_empty() {
        words.push_str(" (shaded: 80 % interval of the time)");
    }
    words
}

/// One panel's line: label, style, `(x, y)` points, and `(x, low, high)` of a shaded band.
struct Line {
    label: String,
    style: Style,
    points: Vec<(f64, f64)>,
    band: Vec<(f64, f64, f64)>,
    fits: Vec<bool>,
}

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Draws the two panels: FLOPs on the left, time on the right.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    data: &Data,
    scale: Scale,
) -> DrawResult<DB> {
    let area = titled(root, &data.title, &data.subtitle)?;
    let (left, right) = area.split_horizontally(area.dim_in_pixel().0 / 2);
    let x_values = data
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.0));
    let (x_min, x_max) = x_values.fold((f64::INFINITY, 0.0_f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let x_range = if x_max > x_min {
        x_min..x_max
    } else {
        (x_min - 1.0).max(0.0)..x_max + 1.0
    };
    for (panel, pick, caption, unit, banded) in [
        (
            &left,
            (|p: &(f64, f64, f64)| p.1) as fn(&(f64, f64, f64)) -> f64,
            "Prefill FLOPs",
            "TFLOPs",
            false,
        ),
        (
            &right,
            |p: &(f64, f64, f64)| p.2,
            "Prefill time",
            "time (ms)",
            true,
        ),
    ] {
        let lines: Vec<Line> = data
            .series
            .iter()
            .map(|s| Line {
                label: s.label.clone(),
                style: s.style,
                points: s.points.iter().map(|p| (p.0, pick(p))).collect(),
                band: if banded { s.band.clone() } else { Vec::new() },
                fits: s.fits.clone(),
            })
            .collect();
        // The axis holds the bands too.
        let (lo, hi) = lines
            .iter()
            .flat_map(|l| {
                l.points
                    .iter()
                    .map(|p| p.1)
                    .chain(l.band.iter().flat_map(|b| [b.1, b.2]))
            })
            .filter(|v| *v > 0.0)
            .fold((f64::INFINITY, 0.0_f64), |(lo, hi), v| {
                (lo.min(v), hi.max(v))
            });
        let (lo, hi) = if hi > 0.0 { (lo, hi) } else { (1.0, 10.0) };
        let log = match scale {
            Scale::Log => true,
            Scale::Linear => false,
            Scale::Auto => hi / lo > 20.0,
        };
        let y_desc = if log {
            format!("{unit}, log scale")
        } else {
            unit.to_string()
        };
        let first = std::ptr::eq(panel, &left);
        if log {
            // Labels at 1, 2 and 5 × 10^k, light lines at the other integers (a bare log scale
            // packed a band of light lines and labels into less than two decades).
            let y = super::pareto::log_axis(lo / 1.3, hi * 1.3);
            panel_chart(
                panel,
                caption,
                data.x_desc,
                &y_desc,
                x_range.clone(),
                y,
                &lines,
                first,
            )?;
        } else {
            let y: plotters::coord::types::RangedCoordf64 = (0.0..hi * 1.08).into();
            panel_chart(
                panel,
                caption,
                data.x_desc,
                &y_desc,
                x_range.clone(),
                y,
                &lines,
                first,
            )?;
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn panel_chart<DB: DrawingBackend, Y>(
    area: &DrawingArea<DB, Shift>,
    caption: &str,
    x_desc: &str,
    y_desc: &str,
    x: Range<f64>,
    y: Y,
    lines: &[Line],
    legend: bool,
) -> DrawResult<DB>
where
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let mut chart = ChartBuilder::on(area)
        .caption(caption, ("sans-serif", theme::PANEL_TITLE_PX))
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(78)
        .build_cartesian_2d(x, y)?;
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        // Frames and tokens are whole counts: a short range's ticks at 0.5, 1.5, … stay
        // unlabelled (their grid lines stay).
        .x_label_formatter(&|v| whole_tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .y_labels(12)
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(200, 200, 200))
        .draw()?;
    // Bands first, under every line: a translucent polygon from the low ends out and the high
    // ends back.
    for line in lines.iter().filter(|l| l.band.len() >= 2) {
        let outline: Vec<(f64, f64)> = line
            .band
            .iter()
            .map(|b| (b.0, b.1))
            .chain(line.band.iter().rev().map(|b| (b.0, b.2)))
            .collect();
        chart.draw_series(std::iter::once(Polygon::new(
            outline,
            rgb(line.style.color).mix(0.12).filled(),
        )))?;
    }
    for line in lines {
        let color = rgb(line.style.color);
        let stroke = color.stroke_width(3);
        let points = line.points.iter().copied();
        let anno = match dash_pattern(line.style.dash) {
            None => chart.draw_series(LineSeries::new(points, stroke))?,
            Some((dash, gap)) => {
                chart.draw_series(DashedLineSeries::new(points, dash, gap, stroke))?
            }
        };
        let style = line.style;
        anno.label(&line.label)
            .legend(move |(x, y)| legend_glyph((x, y), &style));
        // Every point with a marker up to 64 a line; beyond, only those that do not fit the
        // GPU (hollow), which a chart must not hide.
        let all = line.points.len() <= 64;
        chart.draw_series(
            line.points
                .iter()
                .zip(&line.fits)
                .filter(|(_, &fits)| all || !fits)
                .map(|(&p, &fits)| MarkerAt::new(p, &line.style, if fits { 3 } else { 4 }, fits)),
        )?;
    }
    if legend {
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font(("sans-serif", theme::LEGEND_PX))
            .background_style(WHITE.mix(0.9))
            .border_style(RGBColor(160, 160, 160))
            .draw()?;
    }
    Ok(())
}

/// A count's tick: its label where it is a whole number, else none.
fn whole_tick(v: f64) -> String {
    if (v - v.round()).abs() < 1e-9 {
        tick(v.round())
    } else {
        String::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `plot curves --frames 0:4:1` labelled its frames axis 0.5, 1.5, …: counts are whole.
    #[test]
    fn a_count_axis_labels_whole_numbers_only() {
        assert_eq!(whole_tick(2.0), "2");
        assert_eq!(whole_tick(32.000_000_000_01), "32");
        assert_eq!(whole_tick(1.5), "");
        assert_eq!(whole_tick(31.2), "");
        assert_eq!(whole_tick(4096.0), "4096");
    }
}
