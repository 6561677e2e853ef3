//! Roofline chart: the GPU's attainable performance against arithmetic intensity, with every
//! operator of the run (solid, by kind) and of its baseline (hollow grey) as a point.

use super::{kind_style, theme, tick, titled, KINDS};
use crate::cost::{OpKind, RunCost, TimedOp};
use crate::sim::Report;
use plotters::coord::Shift;
use plotters::prelude::*;

type DrawResult<DB> =
    std::result::Result<(), DrawingAreaErrorKind<<DB as DrawingBackend>::ErrorType>>;

/// Every operator of a run: before the LLM, in each layer, the head.
fn operators(run: &RunCost) -> impl Iterator<Item = &TimedOp> {
    run.stages
        .iter()
        .chain(run.layers.iter().flat_map(|l| &l.operators))
        .chain(&run.head)
}

/// `(arithmetic intensity FLOP/byte, achieved TFLOP/s, kind)` of every operator that computes.
fn points(run: &RunCost) -> Vec<(f64, f64, OpKind)> {
    operators(run)
        .filter(|o: &&TimedOp| {
            o.op.flops > 0.0 && o.time_s > 0.0 && o.arithmetic_intensity.is_finite()
        })
        .map(|o| {
            (
                o.arithmetic_intensity,
                o.op.flops / o.time_s / 1e12,
                o.op.kind,
            )
        })
        .collect()
}

/// Draws the roofline of `r`'s GPU at its precision.
pub fn draw<DB: DrawingBackend>(root: &DrawingArea<DB, Shift>, r: &Report) -> DrawResult<DB> {
    let s = &r.scenario;
    let roof = s.context().roofline();
    let peak_t = roof.peak_flops_per_s / 1e12;
    let bw = roof.bandwidth_bytes_per_s;
    let ridge = roof.peak_flops_per_s / bw;
    let run = points(&r.run);
    let base = points(&r.baseline);
    let all = run.iter().chain(&base);
    let (ai_lo, ai_hi) = all
        .clone()
        .fold((ridge, ridge), |(lo, hi), p| (lo.min(p.0), hi.max(p.0)));
    let perf_lo = all.fold(peak_t, |lo, p| lo.min(p.1));
    let x_range = (ai_lo / 3.0).max(1e-3)..ai_hi * 3.0;
    let y_range = (perf_lo / 3.0).max(1e-6)..peak_t * 3.0;

    let title = format!(
        "Roofline · {} on {}{} · cost model {}{}",
        s.model.label(),
        s.gpu.name,
        crate::report::per_gpu(s.options.tp),
        r.cost_model,
        crate::framework::named(&s.framework)
    );
    let p = &s.options.precision;
    let subtitle = format!(
        "every operator of one prefill · schedule {} ({}) · {} frames × {} + {} text tokens · W{}A{}KV{}",
        s.schedule.name,
        r.schedule_summary,
        s.input.frames,
        s.input.tokens_per_frame,
        s.input.text_tokens,
        p.w_bits,
        p.a_bits,
        p.kv_bits,
    ) + &match s.gpu.efficiency.as_ref().filter(|_| !s.framework_priced()) {
        // A GPU file's own table puts the points under the roof: say whose figures they are
        // (the title names a framework's; this table's went unnamed).
        Some(e) => format!(
            " · GPU [efficiency] table: matmul {:.0} %, attention {:.0} %, element-wise {:.0} %",
            e.matmul * 100.0,
            e.attention * 100.0,
            e.elementwise * 100.0
        ),
        None => String::new(),
    } + &{
        // Operators without FLOPs (tensor parallelism's all-reduces) have no place on the
        // roofline's axes: they were dropped without a word.
        let (count, time_s) = operators(&r.run)
            .filter(|o| o.op.flops <= 0.0 && o.time_s > 0.0)
            .fold((0usize, 0.0), |(n, t), o| (n + 1, t + o.time_s));
        // Gathers of a pruned run are a fraction of a per cent; an all-reduce is not.
        if count > 0 && time_s >= 0.01 * r.run.totals.time_s {
            format!(
                " · not drawn (no FLOPs): {count} ops, {:.1} ms",
                time_s * 1e3
            )
        } else {
            String::new()
        }
    };
    let area = titled(root, &title, &subtitle)?;
    let mut chart = ChartBuilder::on(&area)
        .margin(20)
        .x_label_area_size(60)
        .y_label_area_size(90)
        .build_cartesian_2d(x_range.clone().log_scale(), y_range.clone().log_scale())?;
    chart
        .configure_mesh()
        .x_desc("arithmetic intensity (FLOP/byte, log scale)")
        .y_desc("attained performance (TFLOP/s, log scale)")
        .axis_desc_style(("sans-serif", theme::AXIS_DESC_PX))
        .label_style(("sans-serif", theme::LABEL_PX))
        .x_label_formatter(&|v| tick(*v))
        .y_label_formatter(&|v| tick(*v))
        .light_line_style(RGBColor(235, 235, 235))
        .bold_line_style(RGBColor(205, 205, 205))
        .draw()?;

    // The roof: bandwidth slope up to the ridge point, then the compute peak.
    let roof_line = vec![
        (x_range.start, x_range.start * bw / 1e12),
        (ridge, peak_t),
        (x_range.end, peak_t),
    ];
    chart
        .draw_series(LineSeries::new(roof_line, BLACK.stroke_width(3)))?
        .label(format!(
            "roofline: min({} TFLOP/s, {} GB/s × intensity)",
            tick(peak_t),
            tick(bw / 1e9)
        ))
        .legend(|(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], BLACK.stroke_width(3)));
    chart.draw_series(std::iter::once(Text::new(
        format!("ridge {} FLOP/byte", tick(ridge)),
        // Above the flat roof, where no operator can be (below it, GEMM points overdrew it).
        (ridge * 1.15, peak_t * 1.9),
        ("sans-serif", theme::LABEL_PX).into_font(),
    )))?;

    let grey = RGBColor(120, 120, 120);
    chart
        .draw_series(
            base.iter()
                .map(|&(x, y, _)| Circle::new((x, y), 7, grey.stroke_width(1))),
        )?
        .label("baseline operators (no reduction)")
        .legend(move |(x, y)| Circle::new((x + 12, y), 6, grey.stroke_width(1)));
    for k in KINDS {
        let mine: Vec<(f64, f64)> = run
            .iter()
            .filter(|p| p.2 == k)
            .map(|p| (p.0, p.1))
            .collect();
        if mine.is_empty() {
            continue;
        }
        let (color, label) = kind_style(k);
        chart
            .draw_series(
                mine.into_iter()
                    .map(move |p| Circle::new(p, 4, color.mix(0.85).filled())),
            )?
            .label(format!("{label} (schedule)"))
            .legend(move |(x, y)| Circle::new((x + 12, y), 5, color.filled()));
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::LowerRight)
        .label_font(("sans-serif", theme::LEGEND_PX))
        .background_style(WHITE.mix(0.9))
        .border_style(RGBColor(160, 160, 160))
        .draw()?;
    Ok(())
}
