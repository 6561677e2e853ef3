//! The page of a sweep (`aim-sim sweep ... --format html`): the efficiency curves of
//! `plot curves` — FLOPs and prefill time against frames (or visual tokens), one line per
//! schedule (and per model, GPU, ... when those vary) — with a tooltip per row, a legend that
//! hides and shows lines, a log/linear switch, and every row in a sortable table.

use super::{chart, esc, num, section, style_json, txt, Page, Table};
use crate::error::{Error, Result};
use crate::palette;
use crate::sweep::SweepRow;
use serde_json::{json, Value};

const SWEEP_JS: &str = include_str!("assets/sweep.js");

/// Most rows one page holds (the page stays small and quick; use CSV beyond).
pub const MAX_ROWS: usize = crate::sweep::MAX_DRAWN_ROWS;

/// The page of a sweep; `tokens`: x is visual tokens (`--tokens`), else frames; `framework`:
/// the profile that priced the times (named unless it is the roofline, the default).
/// `warnings`: what `sweep` warns of the grid on standard error (the page said nothing of
/// configurations beyond the GPU's memory).
pub fn sweep(
    rows: &[SweepRow],
    tokens: bool,
    framework: &str,
    warnings: &[String],
) -> Result<String> {
    if rows.len() > MAX_ROWS {
        return Err(Error::invalid(format!(
            "--format html draws at most {MAX_ROWS} rows, but the sweep has {}: narrow the ranges, or use --format csv",
            rows.len()
        )));
    }
    let lines = crate::sweep::lines(rows, tokens);
    // The line of each row.
    let mut member = vec![0; rows.len()];
    for (i, l) in lines.iter().enumerate() {
        for &r in &l.rows {
            member[r] = i;
        }
    }
    let schedules: Vec<&str> = lines.iter().map(|l| l.schedule.as_str()).collect();
    let styles = palette::line_styles(&schedules);
    let series: Vec<Value> = lines
        .iter()
        .zip(&styles)
        .map(|(l, st)| json!({ "label": l.label, "style": style_json(*st), "rows": l.rows }))
        .collect();
    let first = &rows[0];
    let same = |f: fn(&SweepRow) -> String| rows.iter().all(|r| f(r) == f(first));
    let mut fixed = Vec::new();
    for (what, f) in [
        (
            "model",
            (|r: &SweepRow| r.model.clone()) as fn(&SweepRow) -> String,
        ),
        ("GPU", |r| r.gpu.clone()),
        ("cost model", |r| r.cost_model.clone()),
        ("text tokens", |r| r.text_tokens.to_string()),
        ("batch", |r| r.batch.to_string()),
    ] {
        if same(f) {
            fixed.push(format!("{what} {}", f(first)));
        }
    }
    if framework != crate::framework::ROOFLINE {
        fixed.push(format!("framework {framework}"));
    }
    if !tokens && same(|r| r.tokens_per_frame.to_string()) {
        fixed.push(format!(
            "{} visual tokens per frame",
            first.tokens_per_frame
        ));
    }
    let x_name = if tokens {
        "visual tokens before merging"
    } else {
        "frames"
    };
    let title = format!(
        "Sweep: prefill cost against {} · {} configuration(s), {} line(s)",
        if tokens { "visual tokens" } else { "frames" },
        rows.len(),
        lines.len()
    );
    let subtitle = fixed.join(" · ");

    let mut t = Table::new(
        "rows",
        "Every configuration (click a header to sort)",
        &[
            ("line", false),
            ("model", false),
            ("GPU", false),
            ("schedule", false),
            ("cost model", false),
            ("frames", true),
            ("visual tokens", true),
            ("after merging", true),
            ("text", true),
            ("batch", true),
            ("TFLOPs", true),
            ("time ms", true),
            ("memory GB", true),
            ("baseline TFLOPs", true),
            ("baseline ms", true),
            ("× FLOPs", true),
            ("× time", true),
        ],
    )
    .wrapping_headers();
    let fits = crate::sweep::fits(rows);
    let intervals = rows.iter().any(|r| r.interval.is_some());
    if intervals {
        // A fitted framework profile: 80 % intervals of the times and the speed-up.
        for (at, name) in [
            (12, "time 80 % ms"),
            (16, "baseline 80 % ms"),
            (19, "× time 80 %"),
        ] {
            t.columns.insert(at, (name.into(), true));
        }
    }
    // Whether the prefill fits the GPU's memory, as a single run says it: the last column.
    t.columns.push(("fits".into(), false));
    for ((r, &s), &fit) in rows.iter().zip(&member).zip(&fits) {
        t.row_with(
            format!("data-series=\"{s}\""),
            vec![
                num(s as f64 + 1.0, 0),
                txt(r.model.clone()),
                txt(r.gpu.clone()),
                txt(r.schedule.clone()),
                txt(r.cost_model.clone()),
                num(r.frames as f64, 0),
                num(r.visual_tokens as f64, 0),
                num(r.merged_visual_tokens as f64, 0),
                num(r.text_tokens as f64, 0),
                num(r.batch as f64, 0),
                num(r.flops / 1e12, 4),
                num(r.time_s * 1e3, 3),
                num(r.memory_consumption_bytes / 1e9, 2),
                num(r.baseline_flops / 1e12, 4),
                num(r.baseline_time_s * 1e3, 3),
                num(r.reduction_flops, 2),
                num(r.reduction_time, 2),
            ],
        );
        if let Some(i) = r.interval.filter(|_| intervals) {
            let row = &mut t.rows.last_mut().expect("the row just added").1;
            row.insert(12, super::interval_ms(Some([i.time_low_s, i.time_high_s])));
            row.insert(
                16,
                super::interval_ms(Some([i.baseline_time_low_s, i.baseline_time_high_s])),
            );
            row.push(super::interval_x(Some([
                i.reduction_time_low,
                i.reduction_time_high,
            ])));
        }
        let row = &mut t.rows.last_mut().expect("the row just added").1;
        row.push(txt(if fit { "yes" } else { "NO" }));
    }
    let mut body = super::messages(warnings, &[]);
    body.push_str(&section(
        "curves",
        "Efficiency curves",
        &format!(
            "<div class=\"row2\" id=\"curves-grid\">{}{}</div>",
            chart(
                "chart-flops",
                &format!("Prefill FLOPs against {x_name}"),
                "Prefill TFLOPs. Hover a point for its row."
            ),
            chart(
                "chart-time",
                &format!("Prefill time against {x_name}"),
                "Prefill time (ms). Click a legend entry to hide or show a line."
            )
        ),
    ));
    let mut lines = String::from("<ol class=\"notes\">");
    for s in &series {
        lines.push_str(&format!(
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            esc(s["style"]["color"].as_str().unwrap_or("#000")),
            esc(s["label"].as_str().unwrap_or(""))
        ));
    }
    lines.push_str("</ol>\n");
    body.push_str(&section("rows-section", "Rows", &(lines + &t.render())));
    Ok(Page {
        kind: "sweep",
        title,
        subtitle,
        body,
        data: json!({
            "page": "sweep",
            "x": if tokens { "visual_tokens" } else { "frames" },
            "x_label": x_name,
            "series": series,
            "rows": rows,
        }),
        script: SWEEP_JS,
    }
    .render())
}
