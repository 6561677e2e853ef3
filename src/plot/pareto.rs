//! Accuracy against cost (`aim-sim plot pareto`): every priced row of a benchmark as a point,
//! x = aim-sim's prefill time or TFLOPs (log scale), y = the published accuracy; one
//! marker/colour per method from the shared palette, ablation series joined by lines, the
//! Pareto frontier as a staircase, labels placed without overlap. With `compare_paper`, each
//! point also appears hollow at the paper's printed cost, an arrow leading to aim-sim's.

use super::labels::{self, Label, Rect};
use super::marker::{dash_pattern, rgb, MarkerAt};
use super::{theme, tick, titled};
use crate::budget::By;
use crate::palette::{self, Dash, Style};
use crate::pareto::{published, CostSource, Pareto, Row};
use plotters::coord::combinators::{BindKeyPoints, LogCoord, WithKeyPoints};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters_backend::BackendCoord;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Marker radius of a point, pixels.
const R: i32 = 6;
const LABEL_PX: u32 = 14;

/// x of a cost: TFLOPs or ms.
fn x_of(by: By, flops: f64, time_s: f64) -> f64 {
    match by {
        By::Flops => flops / 1e12,
        By::Time => time_s * 1e3,
    }
}

/// One drawn point.
struct Point<'a> {
    row: &'a Row,
    /// aim-sim's cost (or the printed one, for rows priced at it), `None` when unpriced.
    at: Option<(f64, f64)>,
    /// The paper's printed cost.
    paper: (f64, f64),
}

/// The rows drawn: one per distinct setting (a `same_as` row sits on its original's point).
fn points<'a>(p: &'a Pareto, compare: bool) -> Vec<Point<'a>> {
    let present = |id: &str| p.rows.iter().any(|r| r.id == id);
    p.rows
        .iter()
        .filter(|r| r.same_as.as_deref().is_none_or(|id| !present(id)))
        .map(|r| Point {
            row: r,
            at: r
                .flops
                .zip(r.time_s)
                .map(|(f, t)| (x_of(p.by, f, t), r.accuracy)),
            paper: (x_of(p.by, r.printed_flops, r.printed_time_s), r.accuracy),
        })
        .filter(|pt| pt.at.is_some() || compare)
        .collect()
}

/// An ablation's line: its group's title, its style, its points.
type Series = (String, Style, Vec<(f64, f64)>);

/// Ablation series: `(group title, style of its line, points in cost order)`. A series keeps
/// its `same_as` rows, so a line passes through the points it shares with other tables.
fn series(p: &Pareto) -> Vec<Series> {
    const DASHES: [Dash; 3] = [Dash::Dashed, Dash::Solid, Dash::Dotted];
    let data = published();
    data.group
        .iter()
        .filter(|g| g.line)
        .enumerate()
        .filter_map(|(i, g)| {
            let rows: Vec<&Row> = p.rows.iter().filter(|r| r.group == g.key).collect();
            let mut pts: Vec<(f64, f64)> = rows
                .iter()
                .filter_map(|r| {
                    r.flops
                        .zip(r.time_s)
                        .map(|(f, t)| (x_of(p.by, f, t), r.accuracy))
                })
                .collect();
            if pts.len() < 2 {
                return None;
            }
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            // The line takes the colour of the method most of its rows belong to.
            let mut counts: Vec<(&str, usize)> = Vec::new();
            for r in rows.iter().filter(|r| !r.baseline) {
                match counts.iter_mut().find(|(m, _)| *m == r.method) {
                    Some(c) => c.1 += 1,
                    None => counts.push((&r.method, 1)),
                }
            }
            let method = counts.iter().max_by_key(|c| c.1).map_or("none", |c| c.0);
            let mut style = palette::style(method);
            style.dash = DASHES[i % DASHES.len()];
            Some((g.title.clone(), style, pts))
        })
        .collect()
}

/// The Pareto frontier as a staircase through the optimal points, in cost order.
fn frontier(p: &Pareto) -> Vec<(f64, f64)> {
    let mut opt: Vec<(f64, f64)> = p
        .rows
        .iter()
        .filter(|r| r.pareto)
        .filter_map(|r| {
            r.flops
                .zip(r.time_s)
                .map(|(f, t)| (x_of(p.by, f, t), r.accuracy))
        })
        .collect();
    opt.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.total_cmp(&b.1)));
    opt.dedup();
    let mut out = Vec::new();
    for (i, &(x, y)) in opt.iter().enumerate() {
        if i > 0 {
            out.push((x, opt[i - 1].1));
        }
        out.push((x, y));
    }
    out
}

/// A log axis over `lo..hi` labelled at 1, 2 and 5 × 10^k (every integer × 10^k when that
/// gives fewer than three labels), with light lines at the other integers × 10^k.
pub(crate) fn log_axis(lo: f64, hi: f64) -> WithKeyPoints<LogCoord<f64>> {
    // A range that is not a positive, finite span (it cannot come from a priced run) becomes
    // 1..10 rather than a loop over decades that never ends.
    let (lo, hi) = if lo > 0.0 && hi > lo && hi.is_finite() && hi / lo < 1e30 {
        (lo, hi)
    } else {
        (1.0, 10.0)
    };
    let (mut bold, mut light) = (Vec::new(), Vec::new());
    let mut decade = 10f64.powf(lo.log10().floor());
    while decade <= hi {
        for m in 1..10 {
            let v = decade * f64::from(m);
            if (lo..=hi).contains(&v) {
                if [1, 2, 5].contains(&m) {
                    bold.push(v);
                } else {
                    light.push(v);
                }
            }
        }
        decade *= 10.0;
    }
    // A narrow range (less than a decade or so): label every integer multiple.
    if bold.len() < 3 {
        bold.append(&mut light);
        bold.sort_by(f64::total_cmp);
    }
    let axis: LogCoord<f64> = (lo..hi).log_scale().into();
    axis.with_key_points(bold).with_light_points(light)
}

fn axis_name(p: &Pareto) -> &'static str {
    match (p.by, p.to_first_token) {
        (By::Flops, false) => "prefill TFLOPs",
        (By::Time, false) => "prefill time (ms)",
        (By::Flops, true) => "TFLOPs to the first token",
        (By::Time, true) => "time to first token (ms)",
    }
}

/// Draws the chart of `p`.
pub fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    p: &Pareto,
    compare: bool,
) -> DrawResult<DB> {
    let pts = points(p, compare);
    let unpriced = p
        .rows
        .iter()
        .filter(|r| r.same_as.is_none() && r.cost_source == CostSource::None)
        .count();
    let what = p.cost_name();
    let title = format!(
        "Published accuracy vs. aim-sim's {what} · {}",
        p.benchmark.name
    );
    let mut sub = vec![format!("cost model {}", p.cost_model), p.gpu.clone()];
    sub.extend(p.settings());
    if p.paper_accounting {
        sub.push("each row counted as the paper's run".into());
    }
    if let Some(m) = &p.model_override {
        sub.push(format!("every row on {m}"));
    }
    sub.push("accuracy: AIM paper (arXiv 2412.03248)".into());
    if compare {
        sub.push("hollow: the paper's printed cost (LLM-Viewer, A100) → filled: aim-sim's".into());
    } else if unpriced > 0 {
        sub.push(format!(
            "{unpriced} row(s) without a known setting not shown"
        ));
    }
    let area = titled(root, &title, &sub.join(" · "))?;

    // Ranges: every drawn position, with room around it.
    let xs = pts
        .iter()
        .flat_map(|pt| pt.at.into_iter().chain(compare.then_some(pt.paper)))
        .map(|(x, _)| x);
    let (x_lo, x_hi) = xs.fold((f64::INFINITY, 0.0_f64), |(lo, hi), x| {
        (lo.min(x), hi.max(x))
    });
    let (x_lo, x_hi) = if x_hi > 0.0 {
        (x_lo / 1.35, x_hi * 1.35)
    } else {
        (1.0, 10.0)
    };
    let (y_lo, y_hi) = pts
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), pt| {
            (lo.min(pt.paper.1), hi.max(pt.paper.1))
        });
    let pad = ((y_hi - y_lo) * 0.08).max(if p.benchmark.unit == "%" { 1.0 } else { 10.0 });
    let (y_lo, y_hi) = if y_hi >= y_lo {
        (y_lo - pad, y_hi + pad)
    } else {
        (0.0, 100.0)
    };
    let y_desc = if p.benchmark.unit == "%" {
        format!("{} accuracy (%)", p.benchmark.name)
    } else {
        p.benchmark.name.clone()
    };
    let mut chart = ChartBuilder::on(&area)
        .margin(16)
        .x_label_area_size(56)
        .y_label_area_size(80)
        .build_cartesian_2d(log_axis(x_lo, x_hi), y_lo..y_hi)?;
    chart
        .configure_mesh()
        .x_desc(format!("{}, log scale", axis_name(p)))
        .y_desc(y_desc)
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(238, 238, 238))
        .bold_line_style(RGBColor(205, 205, 205))
        .draw()?;

    // The frontier, under everything.
    let front = frontier(p);
    let front_color = RGBColor(0, 0, 0).mix(0.22);
    chart.draw_series(LineSeries::new(
        front.iter().copied(),
        front_color.stroke_width(7),
    ))?;
    // Ablation series.
    let lines = series(p);
    for (_, style, line) in &lines {
        let color = rgb(style.color).mix(0.75).stroke_width(2);
        match dash_pattern(style.dash) {
            None => chart.draw_series(LineSeries::new(line.iter().copied(), color))?,
            Some((d, g)) => {
                chart.draw_series(DashedLineSeries::new(line.iter().copied(), d, g, color))?
            }
        };
    }

    // Pixel positions of everything drawn, for arrows and labels.
    let plot = chart.plotting_area();
    let px = |v: (f64, f64)| -> (f64, f64) {
        let (x, y) = plot.map_coordinate(&v);
        (x as f64, y as f64)
    };
    let (plot_x, plot_y) = plot.get_pixel_range();
    let bounds = Rect::new(
        plot_x.start as f64 + 2.0,
        plot_y.start as f64 + 2.0,
        plot_x.end as f64 - 2.0,
        plot_y.end as f64 - 2.0,
    );

    // The paper's positions and arrows to aim-sim's.
    if compare {
        for pt in &pts {
            let style = pt.row.style();
            plot.draw(&MarkerAt::new(pt.paper, &style, R, false))?;
            if let Some(at) = pt.at {
                arrow(root, px(pt.paper), px(at), rgb(style.color))?;
            }
        }
    }
    // The points: filled when computed, hollow when at the printed cost.
    for pt in &pts {
        if let Some(at) = pt.at {
            let style = pt.row.style();
            let filled = pt.row.cost_source == CostSource::Computed;
            plot.draw(&MarkerAt::new(at, &style, R, filled))?;
            if pt.row.pareto {
                plot.draw(&Circle::new(at, R + 4, BLACK.stroke_width(1)))?;
            }
        }
    }

    // The legend, in the corner with the fewest points, then the labels around it.
    let legend = legend_entries(p, &pts, &lines, compare);
    let font = ("sans-serif", LABEL_PX).into_font();
    let measure = font.color(&BLACK);
    let text_w = |s: &str| {
        root.estimate_text_size(s, &measure)
            .map(|(w, _)| w as f64)
            .unwrap_or(s.len() as f64 * 8.0)
    };
    let line_h = 20.0;
    let legend_w = 48.0 + legend.iter().map(|e| text_w(&e.text)).fold(0.0, f64::max);
    let legend_h = line_h * legend.len() as f64 + 10.0;
    let all_px: Vec<(f64, f64)> = pts
        .iter()
        .flat_map(|pt| pt.at.into_iter().chain(compare.then_some(pt.paper)))
        .map(px)
        .collect();
    let corners = [
        Rect::new(
            bounds.x0 + 8.0,
            bounds.y0 + 8.0,
            bounds.x0 + 8.0 + legend_w,
            bounds.y0 + 8.0 + legend_h,
        ),
        Rect::new(
            bounds.x1 - 8.0 - legend_w,
            bounds.y1 - 8.0 - legend_h,
            bounds.x1 - 8.0,
            bounds.y1 - 8.0,
        ),
        Rect::new(
            bounds.x1 - 8.0 - legend_w,
            bounds.y0 + 8.0,
            bounds.x1 - 8.0,
            bounds.y0 + 8.0 + legend_h,
        ),
        Rect::new(
            bounds.x0 + 8.0,
            bounds.y1 - 8.0 - legend_h,
            bounds.x0 + 8.0 + legend_w,
            bounds.y1 - 8.0,
        ),
    ];
    let crowd = |r: &Rect| all_px.iter().filter(|q| r.grow(24.0).contains(**q)).count();
    let legend_box = corners
        .iter()
        .min_by_key(|r| crowd(r))
        .copied()
        .expect("four corners");
    draw_legend(root, &legend, legend_box, line_h)?;

    // Labels: frontier points first, then the baseline, then the rest by cost.
    let mut order: Vec<&Point> = pts.iter().collect();
    order.sort_by_key(|pt| (!pt.row.pareto, !pt.row.baseline));
    let anchor = |pt: &Point| pt.at.unwrap_or(pt.paper);
    let mut obstacles: Vec<Label> = order
        .iter()
        .map(|pt| Label {
            at: px(anchor(pt)),
            size: (text_w(&pt.row.label), f64::from(LABEL_PX)),
        })
        .collect();
    // The paper's positions and the arrows (sampled every few pixels) are kept clear too.
    let mut extra: Vec<(f64, f64)> = Vec::new();
    if compare {
        for pt in &pts {
            let Some(at) = pt.at else { continue };
            let (a, b) = (px(pt.paper), px(at));
            let n = ((b.0 - a.0).hypot(b.1 - a.1) / 6.0).ceil() as usize;
            extra.extend((0..=n).map(|i| {
                let t = i as f64 / n.max(1) as f64;
                (a.0 + (b.0 - a.0) * t, a.1 + (b.1 - a.1) * t)
            }));
        }
    }
    let placed = labels::place_with(
        &obstacles,
        &extra,
        &[legend_box],
        bounds,
        labels::Options {
            marker: f64::from(R) + 4.0,
            ..labels::Options::default()
        },
    );
    let mut omitted = 0;
    let style = font.color(&RGBColor(30, 30, 30));
    for (l, (pt, place)) in obstacles.drain(..).zip(order.iter().zip(&placed)) {
        let Some(place) = place else {
            omitted += 1;
            continue;
        };
        if place.leader {
            let (nx, ny) = place.rect.nearest(l.at);
            root.draw(&PathElement::new(
                vec![(l.at.0 as i32, l.at.1 as i32), (nx as i32, ny as i32)],
                RGBColor(140, 140, 140).stroke_width(1),
            ))?;
        }
        root.draw_text(
            &pt.row.label,
            &style,
            (place.rect.x0 as i32, place.rect.y0 as i32),
        )?;
    }
    if omitted > 0 {
        root.draw_text(
            &format!("{omitted} label(s) left out for lack of room"),
            &("sans-serif", 13).into_font().color(&RGBColor(90, 90, 90)),
            (bounds.x0 as i32 + 4, bounds.y1 as i32 - 18),
        )?;
    }
    Ok(())
}

/// An arrow from `from` to `to` (pixels), stopping short of both markers.
fn arrow<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    from: (f64, f64),
    to: (f64, f64),
    color: RGBColor,
) -> DrawResult<DB> {
    let (dx, dy) = (to.0 - from.0, to.1 - from.1);
    let len = (dx * dx + dy * dy).sqrt();
    let gap = f64::from(R) + 3.0;
    if len < 2.0 * gap + 6.0 {
        return Ok(());
    }
    let (ux, uy) = (dx / len, dy / len);
    let a = (from.0 + ux * gap, from.1 + uy * gap);
    let b = (to.0 - ux * gap, to.1 - uy * gap);
    let c = color.mix(0.7);
    let pt = |x: f64, y: f64| -> BackendCoord { (x.round() as i32, y.round() as i32) };
    root.draw(&PathElement::new(
        vec![pt(a.0, a.1), pt(b.0, b.1)],
        c.stroke_width(2),
    ))?;
    let (hx, hy) = (b.0 - ux * 9.0, b.1 - uy * 9.0);
    root.draw(&Polygon::new(
        vec![
            pt(b.0, b.1),
            pt(hx - uy * 4.5, hy + ux * 4.5),
            pt(hx + uy * 4.5, hy - ux * 4.5),
        ],
        c.filled(),
    ))
}

/// A grey circle, for legend entries about every method.
fn neutral() -> Style {
    Style {
        color: palette::GREY,
        marker: palette::Marker::Circle,
        dash: Dash::Solid,
    }
}

/// One legend line.
struct Entry {
    text: String,
    glyph: Glyph,
}

enum Glyph {
    Marker(Style, bool),
    Line(Style),
    Frontier,
    Optimal,
}

fn legend_entries(p: &Pareto, pts: &[Point], lines: &[Series], compare: bool) -> Vec<Entry> {
    let mut out: Vec<Entry> = Vec::new();
    let mut seen: Vec<Style> = Vec::new();
    for pt in pts {
        let s = pt.row.style();
        if seen.contains(&s) {
            continue;
        }
        seen.push(s);
        let text = if pt.row.baseline {
            format!("{} (no reduction)", pt.row.method)
        } else {
            pt.row.method.clone()
        };
        out.push(Entry {
            text,
            glyph: Glyph::Marker(s, true),
        });
    }
    if pts
        .iter()
        .any(|pt| pt.at.is_some() && pt.row.cost_source == CostSource::Printed)
    {
        out.push(Entry {
            text: "hollow: printed cost (no known setting)".into(),
            glyph: Glyph::Marker(neutral(), false),
        });
    }
    if compare {
        out.push(Entry {
            text: "hollow: the paper's cost → aim-sim's".into(),
            glyph: Glyph::Marker(neutral(), false),
        });
    }
    for (title, style, _) in lines {
        out.push(Entry {
            text: title.clone(),
            glyph: Glyph::Line(*style),
        });
    }
    out.push(Entry {
        text: format!(
            "Pareto frontier (by {})",
            match p.by {
                By::Flops => "FLOPs",
                By::Time => "time",
            }
        ),
        glyph: Glyph::Frontier,
    });
    out.push(Entry {
        text: "on the frontier".into(),
        glyph: Glyph::Optimal,
    });
    out
}

fn draw_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    entries: &[Entry],
    at: Rect,
    line_h: f64,
) -> DrawResult<DB> {
    let (x0, y0) = (at.x0 as i32, at.y0 as i32);
    root.draw(&Rectangle::new(
        [(x0, y0), (at.x1 as i32, at.y1 as i32)],
        WHITE.mix(0.92).filled(),
    ))?;
    root.draw(&Rectangle::new(
        [(x0, y0), (at.x1 as i32, at.y1 as i32)],
        RGBColor(160, 160, 160).stroke_width(1),
    ))?;
    let font = ("sans-serif", LABEL_PX).into_font().color(&BLACK);
    for (i, e) in entries.iter().enumerate() {
        let cy = y0 + 5 + (line_h * (i as f64 + 0.5)) as i32;
        let gx = x0 + 10;
        match &e.glyph {
            Glyph::Marker(s, filled) => {
                root.draw(&MarkerAt::new((gx + 12, cy), s, R - 1, *filled))?;
            }
            Glyph::Line(s) => {
                let color = rgb(s.color).mix(0.75).stroke_width(2);
                let segs: &[(i32, i32)] = match s.dash {
                    Dash::Solid => &[(0, 24)],
                    Dash::Dashed => &[(0, 7), (10, 17), (20, 24)],
                    Dash::Dotted => &[(0, 2), (6, 8), (12, 14), (18, 20), (23, 24)],
                };
                for (a, b) in segs {
                    root.draw(&PathElement::new(vec![(gx + a, cy), (gx + b, cy)], color))?;
                }
            }
            Glyph::Frontier => {
                root.draw(&PathElement::new(
                    vec![
                        (gx, cy + 4),
                        (gx + 12, cy + 4),
                        (gx + 12, cy - 4),
                        (gx + 24, cy - 4),
                    ],
                    RGBColor(0, 0, 0).mix(0.22).stroke_width(7),
                ))?;
            }
            Glyph::Optimal => {
                root.draw(&Circle::new((gx + 12, cy), R + 4, BLACK.stroke_width(1)))?;
            }
        }
        root.draw_text(&e.text, &font, (gx + 34, cy - (LABEL_PX as i32) / 2))?;
    }
    Ok(())
}
