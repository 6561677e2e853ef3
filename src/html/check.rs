//! The page of `aim-sim check FILE --format html`: predicted against measured time for every
//! published measurement (log-log, y = x, ±20 % band), one colour per framework profile
//! (the palette's, as in `plot check`), filled for the profile's prediction and hollow for
//! the ideal roofline; the error summaries and every row in sortable tables.

use super::{chart, esc, num, opt, section, style_json, txt, Page, Table};
use crate::check::{CheckReport, Stats, Summary};
use crate::error::Result;
use crate::palette;
use serde_json::json;

const CHECK_JS: &str = include_str!("assets/check.js");

fn pct(e: Option<f64>) -> super::Cell {
    opt(e.map(|e| e * 100.0), 1)
}

fn summary_table(id: &str, caption: &str, rows: &[Summary]) -> String {
    // With --cv source, the headline figures (a stack the fit never saw) come first.
    let loso = rows.iter().any(|s| s.loso.is_some());
    let loo = rows.iter().any(|s| s.loo.is_some());
    let mut columns = vec![("framework", false), ("rows", true)];
    if loso {
        columns.extend([
            ("source left out: median |error| %", true),
            ("worst %", true),
            ("sources weighted equally: median %", true),
            ("80 % interval holds (σ held out) %", true),
            ("interval ± %", true),
        ]);
    }
    if loo {
        columns.extend([
            ("row left out: median |error| %", true),
            ("row left out: worst %", true),
        ]);
    }
    columns.extend([
        ("profile median |error| %", true),
        ("profile worst %", true),
        ("worst row", false),
        ("roofline median |error| %", true),
        ("roofline worst %", true),
    ]);
    let mut t = Table::new(id, caption, &columns);
    let m = |s: &Option<Stats>| pct(s.as_ref().map(|s| s.median_abs_error));
    let w = |s: &Option<Stats>| pct(s.as_ref().map(|s| s.worst_abs_error));
    for s in rows {
        let mut cells = vec![
            txt(s.group.clone()),
            opt(s.calibrated.as_ref().map(|c| c.rows as f64), 0),
        ];
        if loso {
            cells.extend([
                m(&s.loso),
                w(&s.loso),
                pct(s.loso_source_weighted),
                pct(s.loso_interval_coverage_held_out),
                pct(s.interval_half_width),
            ]);
        }
        if loo {
            cells.extend([m(&s.loo), w(&s.loo)]);
        }
        cells.extend([
            m(&s.calibrated),
            w(&s.calibrated),
            txt(s
                .calibrated
                .as_ref()
                .map_or("-".to_string(), |c| c.worst_id.clone())),
            m(&s.roofline),
            w(&s.roofline),
        ]);
        t.row(cells);
    }
    t.render()
}

/// The page of a measurement check.
pub fn check(r: &CheckReport) -> Result<String> {
    let priced = r.rows.iter().filter(|x| x.predicted_ms.is_some()).count();
    let title = format!(
        "Check: predicted against measured time · {} rows",
        r.rows.len()
    );
    let subtitle = format!(
        "{} · {priced} priced · filled: the framework profile's prediction, hollow: the ideal roofline{}",
        r.file,
        r.refit_on
            .as_ref()
            .map_or(String::new(), |on| format!(" · cross-validation refits on {on}"))
    );
    let mut frameworks: Vec<&str> = Vec::new();
    for x in &r.rows {
        if !frameworks.contains(&x.framework.as_str()) {
            frameworks.push(&x.framework);
        }
    }
    let mut t = Table::new(
        "rows",
        "Every measurement (click a header to sort); error = predicted / measured − 1",
        &[
            ("row", false),
            ("framework", false),
            ("GPU", false),
            ("model", false),
            ("measured ms", true),
            ("predicted ms", true),
            ("error %", true),
            ("roofline ms", true),
            ("roofline error %", true),
        ],
    );
    let intervals = r.rows.iter().any(|x| x.predicted_interval_ms.is_some());
    if intervals {
        // Fitted framework profiles: the 80 % interval of each prediction (its [spread]).
        t.columns.insert(6, ("80 % interval ms".into(), true));
    }
    // The cross-validations' predictions, as the table, JSON and CSV give them.
    let row_loso = r.rows.iter().any(|x| x.loso_predicted_ms.is_some());
    let row_loo = r.rows.iter().any(|x| x.loo_predicted_ms.is_some());
    if row_loso {
        t.columns
            .push(("source left out: predicted ms".into(), true));
        t.columns.push(("source left out: error %".into(), true));
        t.columns.push(("fell back on".into(), false));
    }
    if row_loo {
        t.columns.push(("row left out: predicted ms".into(), true));
        t.columns.push(("row left out: error %".into(), true));
    }
    for x in &r.rows {
        let mut cross = Vec::new();
        if row_loso {
            cross.extend([
                opt(x.loso_predicted_ms, 2),
                pct(x.loso_error),
                txt(x.loso_fallback.clone().unwrap_or_default()),
            ]);
        }
        if row_loo {
            cross.extend([opt(x.loo_predicted_ms, 2), pct(x.loo_error)]);
        }
        t.row(vec![
            txt(x.id.clone()),
            txt(x.framework.clone()),
            txt(x.gpu.clone()),
            txt(x.model.clone()),
            num(x.measured_ms, 2),
            opt(x.predicted_ms, 2),
            pct(x.error),
            opt(x.roofline_ms, 2),
            pct(x.roofline_error),
        ]);
        if intervals {
            let row = &mut t.rows.last_mut().expect("the row just added").1;
            // `interval_ms` takes seconds; the check's figures are in ms.
            let seconds = x.predicted_interval_ms.map(|[lo, hi]| [lo / 1e3, hi / 1e3]);
            row.insert(6, super::interval_ms(seconds));
        }
        t.rows
            .last_mut()
            .expect("the row just added")
            .1
            .extend(cross);
    }
    let mut st = Table::new(
        "speedups",
        "Speed-ups measured beside a baseline: measured against predicted",
        &[
            ("row", false),
            ("baseline", false),
            ("framework", false),
            ("measured ×", true),
            ("predicted ×", true),
            ("error %", true),
            ("roofline ×", true),
            ("roofline error %", true),
        ],
    );
    let speedup_intervals = r.speedups.iter().any(|s| s.predicted_interval.is_some());
    if speedup_intervals {
        st.columns.insert(5, ("predicted 80 %".into(), true));
    }
    let speedup_loso = r.speedups.iter().any(|s| s.loso_speedup.is_some());
    let speedup_loo = r.speedups.iter().any(|s| s.loo_speedup.is_some());
    if speedup_loso {
        st.columns.push(("source left out ×".into(), true));
        st.columns.push(("source left out: error %".into(), true));
    }
    if speedup_loo {
        st.columns.push(("row left out ×".into(), true));
        st.columns.push(("row left out: error %".into(), true));
    }
    for s in &r.speedups {
        let mut cross = Vec::new();
        if speedup_loso {
            cross.extend([opt(s.loso_speedup, 2), pct(s.loso_error)]);
        }
        if speedup_loo {
            cross.extend([opt(s.loo_speedup, 2), pct(s.loo_error)]);
        }
        st.row(vec![
            txt(s.id.clone()),
            txt(s.baseline.clone()),
            txt(s.framework.clone()),
            num(s.measured_speedup, 2),
            num(s.predicted_speedup, 2),
            pct(Some(s.error)),
            num(s.roofline_speedup, 2),
            pct(Some(s.roofline_error)),
        ]);
        if speedup_intervals {
            let row = &mut st.rows.last_mut().expect("the row just added").1;
            row.insert(5, super::interval_x(s.predicted_interval));
        }
        st.rows
            .last_mut()
            .expect("the row just added")
            .1
            .extend(cross);
    }
    // What the main command warns of for the rows' runs, as the table lists them.
    let warnings: Vec<String> = r
        .rows
        .iter()
        .flat_map(|x| x.warnings.iter().map(move |w| format!("{}: {w}", x.id)))
        .collect();
    let mut body = super::messages(&warnings, &[]);
    body += &section(
        "chart",
        "Predicted against measured",
        &chart(
            "chart-check",
            "Predicted against measured time, one point per row",
            if intervals {
                "Each measurement: the profile's prediction (filled, with a bar for its 80 % interval) and the ideal roofline (hollow) against what was measured; the grey band is ±20 %. Hover a point for its row."
            } else {
                "Each measurement: the profile's prediction (filled) and the ideal roofline (hollow) against what was measured; the grey band is ±20 %. Hover a point for its row."
            },
        ),
    );
    body.push_str(&section(
        "summary",
        "Errors",
        &(summary_table(
            "summary-table",
            "Relative error of the time, per framework",
            &r.summary,
        ) + &summary_table(
            "speedup-summary-table",
            "Relative error of the speed-ups, per framework",
            &r.speedup_summary,
        )),
    ));
    body.push_str(&section("table", "Rows", &t.render()));
    body.push_str(&section("speedup-rows", "Speed-ups", &st.render()));
    // What the table lists under the errors (runs measured apart, rows faster than their
    // roofline, speed-ups not compared): the page left them out.
    let mut found = String::new();
    for (title, items) in crate::check::render::findings(r) {
        if items.is_empty() {
            continue;
        }
        found.push_str(&format!("<h3>{}</h3><ul class=\"notes\">", esc(&title)));
        for item in items {
            found.push_str(&format!("<li>{}</li>", esc(&item)));
        }
        found.push_str("</ul>");
    }
    if !found.is_empty() {
        body.push_str(&section("findings", "Also found", &found));
    }
    let rows: Vec<serde_json::Value> = r
        .rows
        .iter()
        .filter(|x| x.predicted_ms.is_some() && x.roofline_ms.is_some())
        .map(|x| {
            let mut v = json!({
                "id": x.id, "framework": x.framework, "gpu": x.gpu, "model": x.model,
                "measured_ms": x.measured_ms, "predicted_ms": x.predicted_ms,
                "roofline_ms": x.roofline_ms, "error": x.error, "roofline_error": x.roofline_error,
            });
            // Only under a fitted profile (the chart's bar; roofline pages stay as they were).
            if let Some(iv) = x.predicted_interval_ms {
                v["predicted_interval_ms"] = json!(iv);
            }
            v
        })
        .collect();
    Ok(Page {
        kind: "check",
        title,
        subtitle,
        body,
        data: json!({
            "page": "check",
            "rows": rows,
            "frameworks": frameworks.iter().map(|f| json!({"name": f, "style": style_json(palette::framework(f))})).collect::<Vec<_>>(),
        }),
        script: CHECK_JS,
    }
    .render())
}
