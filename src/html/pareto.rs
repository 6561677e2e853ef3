//! The page of `aim-sim pareto --format html`: a benchmark's published accuracy against the
//! cost aim-sim computes for each row, one point per row in its method's palette style, the
//! Pareto frontier as a staircase, and every row in a sortable table.

use super::{chart, messages, num, opt, section, style_json, txt, Cell, Page, Table};
use crate::error::Result;
use crate::pareto::Pareto;
use serde_json::json;

const PARETO_JS: &str = include_str!("assets/pareto.js");

/// The page of a Pareto table.
pub fn pareto(p: &Pareto) -> Result<String> {
    let by = if p.to_first_token {
        p.cost_name()
    } else {
        p.by.noun()
    };
    let title = format!("{}: accuracy against {by}", p.benchmark.name);
    let settings: String = p.settings().iter().map(|s| format!(" · {s}")).collect();
    let subtitle = format!(
        "{} · cost model {}{settings}{}{} · Pareto-optimal: no other row at least as accurate for at most the cost",
        p.gpu,
        p.cost_model,
        if p.paper_accounting {
            " · the paper's accounting"
        } else {
            ""
        },
        p.model_override
            .as_ref()
            .map_or(String::new(), |m| format!(" · every row priced on {m}"))
    );
    let mut t = Table::new(
        "rows",
        "Every published row (click a header to sort)",
        &[
            ("method", false),
            ("row", false),
            ("setting", false),
            ("status", false),
            // Beside the row's name, not last: at 1280 px the last column sat off-screen, and
            // no row visibly said it was on the frontier.
            ("Pareto", false),
            (&format!("accuracy {}", p.benchmark.unit), true),
            ("TFLOPs", true),
            ("time ms", true),
            ("× FLOPs", true),
            ("× time", true),
            ("printed TFLOPs", true),
            ("printed ms", true),
        ],
    )
    .wrapping(2)
    .wrapping_headers();
    for r in &p.rows {
        let status = serde_json::to_value(r.status)
            .ok()
            .and_then(|v| v.as_str().map(String::from))
            .unwrap_or_default();
        let setting = Cell {
            text: r.setting.clone(),
            sort: None,
        };
        t.row(vec![
            txt(r.method.clone()),
            txt(r.label.clone()),
            setting,
            txt(status),
            txt(if r.pareto { "yes" } else { "" }),
            num(r.accuracy, 1),
            opt(r.flops.map(|f| f / 1e12), 2),
            opt(r.time_s.map(|s| s * 1e3), 2),
            opt(r.flops_reduction, 2),
            opt(r.time_reduction, 2),
            num(r.printed_flops / 1e12, 2),
            num(r.printed_time_s * 1e3, 2),
        ]);
    }
    let rows: Vec<serde_json::Value> = p
        .rows
        .iter()
        .map(|r| {
            json!({
                "id": r.id,
                "method": r.method,
                "label": r.label,
                "setting": r.setting,
                "accuracy": r.accuracy,
                "flops": r.flops,
                "time_s": r.time_s,
                "pareto": r.pareto,
                "baseline": r.baseline,
                "status": r.status,
                "style": style_json(r.style()),
            })
        })
        .collect();
    let mut body = messages(&p.warnings, &p.notes);
    body.push_str(&section(
        "chart",
        "Accuracy against cost",
        &chart(
            "chart-pareto",
            "Published accuracy against computed cost, one point per row",
            "Each row of the benchmark at its computed cost; ringed points and the staircase: the Pareto frontier. Hover a point for its row; click a legend entry to hide a method.",
        ),
    ));
    body.push_str(&section("table", "Rows", &t.render()));
    Ok(Page {
        kind: "pareto",
        title,
        subtitle,
        body,
        data: json!({
            "page": "pareto",
            // Costs span decades (10 ms to 1 s): the page opens on a log x axis, as the PNG.
            "x_log": true,
            "by": p.by,
            "unit": p.benchmark.unit,
            "benchmark": p.benchmark.name,
            "rows": rows,
        }),
        script: PARETO_JS,
    }
    .render())
}
