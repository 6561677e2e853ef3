//! An accuracy-against-cost answer as a table, CSV or JSON.

use super::{published, CostSource, Pareto, Row};
use crate::error::Result;
use crate::report::{csv_field, TextFormat};
use std::fmt::Write;

/// Writes the answer as a table, CSV or JSON (`{"rows": [...], ...}`).
pub fn render(p: &Pareto, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => table(p),
        TextFormat::Csv => csv(p),
        TextFormat::Json => crate::report::json_text(p),
        TextFormat::Jsonl => return Err(format.lacks("an accuracy-against-cost answer")),
    })
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or_else(|| "—".to_string(), f)
}

fn table(p: &Pareto) -> String {
    let mut out = String::new();
    let unit = if p.benchmark.unit == "%" {
        " (accuracy in %)"
    } else {
        ""
    };
    let baseline = p
        .rows
        .iter()
        .find(|r| r.baseline)
        .map_or("—".to_string(), |r| format!("{} ({})", r.method, r.id));
    let _ = writeln!(
        out,
        "{}{unit}: published accuracy (AIM, arXiv 2412.03248) beside aim-sim's {} cost",
        p.benchmark.name,
        if p.to_first_token {
            "time-to-first-token (vision encoder included)"
        } else {
            "prefill"
        }
    );
    let settings: String = p.settings().iter().map(|s| format!(" · {s}")).collect();
    let _ = writeln!(
        out,
        "cost model {} · {}{settings}{}{} · ★ Pareto-optimal by {} · × = reduction against {}",
        p.cost_model,
        p.gpu,
        if p.paper_accounting {
            " · each row counted as the paper's run"
        } else {
            ""
        },
        p.model_override
            .as_ref()
            .map_or(String::new(), |m| format!(" · every row on model {m}")),
        p.cost_name(),
        baseline
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<22} {:<15} {:>7} {:>9} {:>9} {:>7} {:>7}  {:>7} {:>8}  {:1}  setting",
        "id", "method", "acc.", "TFLOPs", "ms", "×FLOPs", "×time", "paper", "paper", "★"
    );
    let _ = writeln!(
        out,
        "{:<22} {:<15} {:>7} {:>9} {:>9} {:>7} {:>7}  {:>7} {:>8}",
        "", "", "", "", "", "", "", "TFLOPs", "ms"
    );
    let data = published();
    let mut group = "";
    for r in &p.rows {
        if r.group != group {
            group = &r.group;
            let title = data.group(group).map_or(group, |g| g.title.as_str());
            let _ = writeln!(out, "── {title} ──");
        }
        let printed = r.cost_source == CostSource::Printed;
        let mark = if printed { "*" } else { "" };
        let setting = match &r.same_as {
            Some(id) => format!("(= {id}) {}", r.setting),
            None => r.setting.clone(),
        };
        let _ = writeln!(
            out,
            "{:<22} {:<15} {:>7} {:>9} {:>9} {:>7} {:>7}  {:>7.2} {:>8.2}  {:1}  {}",
            r.id,
            r.method,
            format!("{:.1}", r.accuracy),
            opt(r.flops, |f| format!("{:.2}{mark}", f / 1e12)),
            opt(r.time_s, |t| format!("{:.2}{mark}", t * 1e3)),
            opt(r.flops_reduction, |x| format!("{x:.2}×")),
            opt(r.time_reduction, |x| format!("{x:.2}×")),
            r.printed_flops / 1e12,
            r.printed_time_s * 1e3,
            if r.pareto { "★" } else { "" },
            setting
        );
    }
    let frontier: Vec<&Row> = {
        let mut f: Vec<&Row> = p
            .rows
            .iter()
            .filter(|r| r.pareto && r.same_as.is_none())
            .collect();
        f.sort_by(|a, b| a.cost(p.by).partial_cmp(&b.cost(p.by)).expect("finite"));
        f
    };
    // Out of the rows that take part: distinct settings with a cost (an unpriced row is on no
    // frontier; it was counted as if it could be).
    let priced = p
        .rows
        .iter()
        .filter(|r| r.same_as.is_none() && r.cost(p.by).is_some())
        .count();
    let _ = writeln!(
        out,
        "\nPareto frontier by {} ({} of {priced} priced rows): {}",
        p.cost_name(),
        frontier.len(),
        frontier
            .iter()
            .map(|r| format!("{} {:.1}", r.label, r.accuracy))
            .collect::<Vec<_>>()
            .join(" → ")
    );
    if p.rows.iter().any(|r| r.cost_source == CostSource::Printed) {
        let _ = writeln!(
            out,
            "* printed cost: the row has no known token setting (the paper's accounting only)"
        );
    }
    for n in &p.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for r in &p.rows {
        if let Some(why) = r.note.as_deref().filter(|n| n.starts_with("not priced:")) {
            let _ = writeln!(out, "note: {} {why}", r.id);
        }
    }
    for w in &p.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

fn csv(p: &Pareto) -> String {
    let mut out = String::from(
        "benchmark,id,group,method,model,label,baseline,status,accuracy,priced_model,flops,time_s,cost_source,flops_reduction,time_reduction,printed_flops,printed_time_s,pareto,same_as,setting,source\n",
    );
    let num = |v: Option<f64>| v.map_or(String::new(), |x| x.to_string());
    for r in &p.rows {
        let cost_source = match r.cost_source {
            CostSource::Computed => "computed",
            CostSource::Printed => "printed",
            CostSource::None => "none",
        };
        let status = match r.status {
            super::Status::Exact => "exact",
            super::Status::Inferred => "inferred",
            super::Status::Unknown => "unknown",
        };
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            p.benchmark.key,
            r.id,
            r.group,
            csv_field(&r.method),
            csv_field(&r.model),
            csv_field(&r.label),
            r.baseline,
            status,
            r.accuracy,
            csv_field(r.priced_model.as_deref().unwrap_or("")),
            num(r.flops),
            num(r.time_s),
            cost_source,
            num(r.flops_reduction),
            num(r.time_reduction),
            r.printed_flops,
            r.printed_time_s,
            r.pareto,
            r.same_as.as_deref().unwrap_or(""),
            csv_field(&r.setting),
            csv_field(&r.source)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn csv_fields_are_quoted_when_needed() {
        assert_eq!(super::csv_field("a,b"), "\"a,b\"");
        assert_eq!(super::csv_field("say \"x\""), "\"say \"\"x\"\"\"");
        assert_eq!(super::csv_field("plain"), "plain");
    }
}
