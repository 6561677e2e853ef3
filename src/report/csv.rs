//! CSV: one row per operator per layer, schedule run then baseline, raw base units.

use crate::cost::TimedOp;
use crate::sim::Report;
use std::fmt::Write;

const HEADER: &str = "run,layer,tokens,operator,kind,flops,bytes,load_weight_bytes,load_act_bytes,store_act_bytes,load_kv_bytes,store_kv_bytes,arithmetic_intensity,bound,time_s";

fn row(out: &mut String, run: &str, layer: &str, tokens: u64, o: &TimedOp) {
    let kind = serde_json::to_value(o.op.kind).expect("kind serialises");
    let bound = serde_json::to_value(o.bound).expect("bound serialises");
    let _ = writeln!(
        out,
        "{run},{layer},{tokens},{},{},{},{},{},{},{},{},{},{},{},{}",
        o.op.name,
        kind.as_str().unwrap_or_default(),
        o.op.flops,
        o.bytes,
        o.op.load_weight_bytes,
        o.op.load_act_bytes,
        o.op.store_act_bytes,
        o.op.load_kv_bytes,
        o.op.store_kv_bytes,
        o.arithmetic_intensity,
        bound.as_str().unwrap_or_default(),
        o.time_s
    );
}

/// Renders the operator table of the schedule run and the baseline.
pub fn render(report: &Report) -> String {
    let mut out = String::from(HEADER);
    out.push('\n');
    for (name, run) in [("schedule", &report.run), ("baseline", &report.baseline)] {
        for o in &run.stages {
            row(
                &mut out,
                name,
                "pre",
                report.scenario.input.visual_tokens(),
                o,
            );
        }
        for l in &run.layers {
            for o in &l.operators {
                row(&mut out, name, &l.layer.to_string(), l.tokens, o);
            }
        }
        for o in &run.head {
            row(&mut out, name, "head", 1, o);
        }
    }
    out
}
