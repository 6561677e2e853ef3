//! Writing sweep rows: an aligned table in human units, or CSV / JSON in base units (one row or
//! object per configuration, fields as in [`SweepRow`]).

use super::SweepRow;
use crate::report::Format;
use std::fmt::Write;

/// CSV columns, in [`SweepRow`] field order.
const CSV_HEADER: &str = "model,gpu,schedule,cost_model,frames,tokens_per_frame,visual_tokens,merged_visual_tokens,text_tokens,batch,flops,bytes,time_s,memory_consumption_bytes,baseline_flops,baseline_bytes,baseline_time_s,baseline_memory_consumption_bytes,reduction_flops,reduction_time";

/// Renders the rows in the chosen format.
pub fn render(rows: &[SweepRow], format: Format) -> String {
    match format {
        Format::Table => table(rows),
        Format::Csv => csv(rows),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(rows).expect("rows serialise");
            s.push('\n');
            s
        }
    }
}

/// A CSV field, quoted when it holds a comma, quote or newline (RFC 4180).
fn field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_string()
    }
}

fn csv(rows: &[SweepRow]) -> String {
    let mut out = String::with_capacity(64 + rows.len() * 320);
    out.push_str(CSV_HEADER);
    out.push('\n');
    for r in rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            field(&r.model),
            field(&r.gpu),
            field(&r.schedule),
            r.cost_model,
            r.frames,
            r.tokens_per_frame,
            r.visual_tokens,
            r.merged_visual_tokens,
            r.text_tokens,
            r.batch,
            r.flops,
            r.bytes,
            r.time_s,
            r.memory_consumption_bytes,
            r.baseline_flops,
            r.baseline_bytes,
            r.baseline_time_s,
            r.baseline_memory_consumption_bytes,
            r.reduction_flops,
            r.reduction_time
        );
    }
    out
}

/// Human units: TFLOPs = 1e12 FLOPs, ms.
fn table(rows: &[SweepRow]) -> String {
    let width = |f: fn(&SweepRow) -> &str, title: &str| {
        rows.iter()
            .map(|r| f(r).chars().count())
            .chain([title.len()])
            .max()
            .unwrap_or(0)
    };
    let (wm, wg, ws) = (
        width(|r| &r.model, "model"),
        width(|r| &r.gpu, "gpu"),
        width(|r| &r.schedule, "schedule"),
    );
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<wm$} {:<wg$} {:<ws$} {:>11} {:>7} {:>8} {:>7} {:>6} {:>6} {:>10} {:>10} {:>10} {:>10} {:>8} {:>8}",
        "model", "gpu", "schedule", "cost model", "frames", "visual", "into L0", "text", "batch",
        "TFLOPs", "time ms", "base TFLOP", "base ms", "×FLOPs", "×time"
    );
    for r in rows {
        let _ = writeln!(
            out,
            "{:<wm$} {:<wg$} {:<ws$} {:>11} {:>7} {:>8} {:>7} {:>6} {:>6} {:>10.4} {:>10.3} {:>10.4} {:>10.3} {:>8.2} {:>8.2}",
            r.model,
            r.gpu,
            r.schedule,
            r.cost_model,
            r.frames,
            r.visual_tokens,
            r.merged_visual_tokens,
            r.text_tokens,
            r.batch,
            r.flops / 1e12,
            r.time_s * 1e3,
            r.baseline_flops / 1e12,
            r.baseline_time_s * 1e3,
            r.reduction_flops,
            r.reduction_time
        );
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn header_names_every_field_in_order() {
        let row = super::SweepRow {
            model: "m,1".into(),
            gpu: "g".into(),
            schedule: "s".into(),
            cost_model: "llm-viewer".into(),
            frames: 1,
            tokens_per_frame: 2,
            visual_tokens: 2,
            merged_visual_tokens: 2,
            text_tokens: 3,
            batch: 1,
            flops: 1.0,
            bytes: 2.0,
            time_s: 3.0,
            memory_consumption_bytes: 4.0,
            baseline_flops: 5.0,
            baseline_bytes: 6.0,
            baseline_time_s: 7.0,
            baseline_memory_consumption_bytes: 8.0,
            reduction_flops: 5.0,
            reduction_time: 7.0 / 3.0,
        };
        let json = serde_json::to_value(&row).unwrap();
        let mut keys: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(|k| k.as_str())
            .collect();
        let mut header: Vec<&str> = super::CSV_HEADER.split(',').collect();
        keys.sort_unstable();
        header.sort_unstable();
        assert_eq!(keys, header);
        let csv = super::csv(std::slice::from_ref(&row));
        assert!(
            csv.lines().nth(1).unwrap().starts_with("\"m,1\",g,s,"),
            "{csv}"
        );
        assert_eq!(csv.lines().nth(1).unwrap().split(',').count(), 21);
    }
}
