//! The page of a comparison (`aim-sim compare --schedule a,b,c --format html`): one bar chart
//! per metric (time, FLOPs, speed-up, reduction, peak memory against the device's, importance
//! cost), tokens and time per layer as one line per schedule, and the rows as a table. Each
//! schedule has its palette colour, as in the PNG charts.

use super::{chart, fixed, messages, num, num_as, opt, section, style_json, txt, Page, Table};
use crate::compare::Comparison;
use crate::error::Result;
use crate::palette;
use serde_json::json;

const COMPARE_JS: &str = include_str!("assets/compare.js");

/// The metric charts: element id, title, the row field the bar shows, caption.
const METRICS: &[(&str, &str, &str, &str)] = &[
    (
        "chart-time",
        "Prefill time (ms)",
        "time_s",
        "Time to first token of the prefill (refined) or the LLM-Viewer roofline time.",
    ),
    (
        "chart-flops",
        "Prefill FLOPs (TFLOPs)",
        "flops",
        "Operations of the whole prefill, importance scoring included.",
    ),
    (
        "chart-speedup",
        "Speed-up against the first schedule",
        "speedup",
        "The first schedule's time over each schedule's (dashed: 1×).",
    ),
    (
        "chart-reduction",
        "Time reduction against no reduction",
        "reduction_time",
        "The same input with no reduction: its time over each schedule's.",
    ),
    (
        "chart-memory",
        "Peak memory (GB) against the device's",
        "peak_memory_bytes",
        "Peak device memory (faded: does not fit); dashed: the device's memory.",
    ),
    (
        "chart-importance",
        "Importance scoring time (ms)",
        "importance_time_s",
        "What the pruning's importance scores cost (PageRank, attention statistics).",
    ),
];

/// The page of a comparison.
pub fn compare(c: &Comparison) -> Result<String> {
    let names: Vec<&str> = c.rows.iter().map(|r| r.schedule.as_str()).collect();
    let styles = palette::line_styles(&names);
    let first = &c.rows[0].schedule;
    let title = format!(
        "Compare {} schedules: {} on {}",
        c.rows.len(),
        c.model,
        c.gpu
    );
    let subtitle = format!(
        "{} frame(s) × {} + {} text tokens · batch {} · cost model {} · framework {} · no reduction: {} ms, {} TFLOPs",
        c.frames,
        c.tokens_per_frame,
        c.text_tokens,
        c.batch,
        c.cost_model,
        c.framework,
        fixed(c.baseline_time_s * 1e3, 2),
        fixed(c.baseline_flops / 1e12, 2)
    ) + &c
        .options
        .iter()
        .map(|o| format!(" · {o}"))
        .collect::<String>();
    let mut t = Table::new(
        "rows",
        format!("One row per schedule; speed-up: {first}'s time / the row's; × none: the input's time with no reduction / the row's"),
        &[
            ("schedule", false),
            ("what it does", false),
            ("TFLOPs", true),
            ("time ms", true),
            ("speed-up", true),
            ("× none", true),
            ("× FLOPs vs none", true),
            (
                // LLM-Viewer's figure is its memory consumption, not a peak.
                if c.cost_model == "llm-viewer" {
                    "memory GB"
                } else {
                    "peak GB"
                },
                true,
            ),
            ("device GB", true),
            ("fits", false),
            ("importance ms", true),
            ("importance TFLOPs", true),
            ("tokens into layer 0", true),
        ],
    )
    .wrapping(1);
    let intervals = c.rows.iter().any(|r| r.time_interval_s.is_some());
    if intervals {
        // A fitted framework profile: 80 % intervals beside the time and the reduction.
        t.columns.insert(4, ("time 80 % ms".into(), true));
        t.columns.insert(7, ("× none 80 %".into(), true));
    }
    for r in &c.rows {
        t.row(vec![
            txt(r.schedule.clone()),
            txt(r.summary.clone()),
            num(r.flops / 1e12, 4),
            num(r.time_s * 1e3, 3),
            num_as(r.speedup, format!("{}×", fixed(r.speedup, 2))),
            num_as(r.reduction_time, format!("{}×", fixed(r.reduction_time, 2))),
            num_as(
                r.reduction_flops,
                format!("{}×", fixed(r.reduction_flops, 2)),
            ),
            num(r.peak_memory_bytes / 1e9, 2),
            num(r.device_memory_bytes / 1e9, 1),
            txt(if r.fits { "yes" } else { "NO" }),
            opt(r.importance_time_s.map(|t| t * 1e3), 3),
            opt(r.importance_flops.map(|f| f / 1e12), 4),
            num(r.layer_tokens.first().copied().unwrap_or(0) as f64, 0),
        ]);
        if intervals {
            let row = &mut t.rows.last_mut().expect("the row just added").1;
            row.insert(4, super::interval_ms(r.time_interval_s));
            row.insert(7, super::interval_x(r.reduction_time_interval));
        }
    }
    let mut body = messages(&c.warnings, &c.notes);
    let mut grid = String::from("<div class=\"row2\" id=\"metrics-grid\">");
    for (id, label, field, caption) in METRICS {
        if intervals && matches!(*field, "time_s" | "reduction_time") {
            let caption =
                format!("{caption} Whisker: the 80 % interval (the framework profile's [spread]).");
            grid.push_str(&chart(id, label, &caption));
        } else {
            grid.push_str(&chart(id, label, caption));
        }
    }
    grid.push_str("</div>\n");
    body.push_str(&section("metrics", "Side by side", &grid));
    body.push_str(&section(
        "per-layer",
        "Per layer",
        &format!(
            "<div class=\"row2\">{}{}</div>",
            chart(
                "chart-layer-tokens",
                "Tokens per decoder layer, one line per schedule",
                "Sequence length entering each decoder layer."
            ),
            chart(
                "chart-layer-time",
                "Time per decoder layer, one line per schedule",
                "Time of each decoder layer (ms)."
            )
        ),
    ));
    body.push_str(&section("table", "Table", &t.render()));
    // The per-layer charts' figures as a table: without JavaScript they were nowhere on the
    // page, which says every chart's figures are in its tables.
    let mut layers = Table::new(
        "layer-table",
        "Per decoder layer: tokens entering it and its time (ms), one pair of columns per schedule",
        &[("layer", true)],
    )
    .wrapping_headers();
    for r in &c.rows {
        layers
            .columns
            .push((format!("{} tokens", r.schedule), true));
        layers.columns.push((format!("{} ms", r.schedule), true));
    }
    let depth = c
        .rows
        .iter()
        .map(|r| r.layer_tokens.len())
        .max()
        .unwrap_or(0);
    for i in 0..depth {
        let mut row = vec![num(i as f64, 0)];
        for r in &c.rows {
            row.push(
                r.layer_tokens
                    .get(i)
                    .map_or(txt("—"), |&n| num(n as f64, 0)),
            );
            row.push(r.layer_time_s.get(i).map_or(txt("—"), |&t| num(t * 1e3, 3)));
        }
        layers.row(row);
    }
    body.push_str(&section(
        "layer-table-section",
        "Per layer, as a table",
        &layers.render(),
    ));
    let rows: Vec<serde_json::Value> = c
        .rows
        .iter()
        .zip(&styles)
        .map(|(r, st)| {
            let mut v = serde_json::to_value(r).expect("row serialises");
            v["style"] = style_json(*st);
            // The resolved spec is in the JSON output; the page does not need it twice.
            v.as_object_mut().map(|o| o.remove("spec"));
            v
        })
        .collect();
    Ok(Page {
        kind: "compare",
        title,
        subtitle,
        body,
        data: json!({
            "page": "compare",
            "first": first,
            "metrics": METRICS.iter().map(|(id, label, field, _)| json!({"id": id, "label": label, "field": field})).collect::<Vec<_>>(),
            "rows": rows,
            "baseline_time_s": c.baseline_time_s,
            "baseline_flops": c.baseline_flops,
        }),
        script: COMPARE_JS,
    }
    .render())
}
