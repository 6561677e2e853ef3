//! The page of one run (`aim-sim ... --format html`): header and resolved spec, the per-layer
//! chart (tokens, time by operator kind, baseline beside schedule), the roofline with every
//! operator, a sortable per-operator table that a click on a layer filters, totals,
//! reductions, pipeline, memory, warnings and notes.

use super::{
    cards, chart, esc, fixed, grey, messages, num, num_as, section, settings_table, style_json,
    txt, Page, Table,
};
use crate::cost::{OpKind, RunCost, TimedOp};
use crate::error::Result;
use crate::palette;
use crate::sim::Report;
use serde_json::{json, Value};
use std::fmt::Write;

const RUN_JS: &str = include_str!("assets/run.js");

/// Where an operator runs: before the LLM, in a decoder layer, or in the head.
fn op_row(place: &str, layer: Option<usize>, o: &TimedOp) -> Value {
    json!([
        place,
        layer,
        o.op.name,
        o.op.kind,
        o.op.flops,
        o.bytes,
        if o.arithmetic_intensity.is_finite() {
            Some(o.arithmetic_intensity)
        } else {
            None
        },
        o.time_s,
        o.bound
    ])
}

/// Every operator of a run as `[place, layer, name, kind, flops, bytes, ai, time_s, bound]`.
fn ops(run: &RunCost) -> Vec<Value> {
    let mut out: Vec<Value> = run
        .stages
        .iter()
        .map(|o| op_row("before LLM", None, o))
        .collect();
    for l in &run.layers {
        out.extend(
            l.operators
                .iter()
                .map(|o| op_row("layer", Some(l.layer), o)),
        );
    }
    out.extend(run.head.iter().map(|o| op_row("head", None, o)));
    out
}

/// Seconds per operator kind of one layer.
fn kind_times(ops: &[TimedOp]) -> Value {
    let mut map = serde_json::Map::new();
    for k in palette::OP_KINDS {
        let t: f64 = ops
            .iter()
            .filter(|o| o.op.kind == k)
            .map(|o| o.time_s)
            .sum();
        if t > 0.0 {
            map.insert(kind_name(k), json!(t));
        }
    }
    Value::Object(map)
}

/// The kind as serialised (`lm_head`).
fn kind_name(k: OpKind) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(String::from))
        .unwrap_or_default()
}

fn data(r: &Report) -> Value {
    let s = &r.scenario;
    let roof = s.context().roofline();
    let all_ops = || {
        r.run
            .stages
            .iter()
            .chain(r.run.layers.iter().flat_map(|l| &l.operators))
            .chain(&r.run.head)
            .chain(&r.baseline.stages)
            .chain(r.baseline.layers.iter().flat_map(|l| &l.operators))
            .chain(&r.baseline.head)
    };
    let kinds: Vec<Value> = palette::OP_KINDS
        .iter()
        .filter(|k| all_ops().any(|o| o.op.kind == **k))
        .map(|&k| {
            json!({
                "kind": kind_name(k),
                "label": palette::op_kind_label(k),
                "color": palette::op_kind(k).hex(),
            })
        })
        .collect();
    let layers: Vec<Value> = r
        .run
        .layers
        .iter()
        .zip(&r.baseline.layers)
        .map(|(l, b)| {
            json!({
                "layer": l.layer,
                "tokens": l.tokens,
                "base_tokens": b.tokens,
                "time_s": l.time_s,
                "base_time_s": b.time_s,
                "flops": l.flops,
                "kinds": kind_times(&l.operators),
                "base_kinds": kind_times(&b.operators),
            })
        })
        .collect();
    json!({
        "page": "run",
        "schedule": s.schedule.name,
        "style": style_json(palette::style(&s.schedule.name)),
        "baseline_color": grey(),
        "kinds": kinds,
        "roof": {
            "peak_flops_per_s": roof.peak_flops_per_s,
            "bandwidth_bytes_per_s": roof.bandwidth_bytes_per_s,
            "gpu": s.gpu.name,
        },
        "layers": layers,
        "ops": ops(&r.run),
        "base_ops": ops(&r.baseline),
        "total_time_s": r.run.totals.time_s,
    })
}

fn op_table(r: &Report) -> String {
    let mut t = Table::new(
        "ops",
        "Every operator of the schedule's prefill (click a header to sort)",
        &[
            ("where", false),
            ("layer", true),
            ("operator", false),
            ("kind", false),
            ("GFLOPs", true),
            ("MB moved", true),
            ("FLOP/byte", true),
            ("bound", false),
            ("time ms", true),
            ("share %", true),
        ],
    );
    let total = r.run.totals.time_s;
    let mut add = |place: &str, layer: Option<usize>, o: &TimedOp| {
        let attrs = match layer {
            Some(l) => format!("data-layer=\"{l}\""),
            None => format!("data-layer=\"{}\"", esc(place)),
        };
        t.row_with(
            attrs,
            vec![
                txt(place),
                layer.map_or_else(|| txt("-"), |l| num(l as f64, 0)),
                txt(o.op.name),
                txt(palette::op_kind_label(o.op.kind)),
                num(o.op.flops / 1e9, 3),
                num(o.bytes / 1e6, 2),
                if o.arithmetic_intensity.is_finite() {
                    num(o.arithmetic_intensity, 1)
                } else {
                    txt("-")
                },
                txt(o.bound.name()),
                num(o.time_s * 1e3, 4),
                num(100.0 * o.time_s / total, 2),
            ],
        );
    };
    for o in &r.run.stages {
        add("before LLM", None, o);
    }
    for l in &r.run.layers {
        for o in &l.operators {
            add("layer", Some(l.layer), o);
        }
    }
    for o in &r.run.head {
        add("head", None, o);
    }
    t.render()
}

fn layer_table(r: &Report) -> String {
    let mut t = Table::new(
        "layers",
        "Per decoder layer: the schedule beside the baseline (no reduction)",
        &[
            ("layer", true),
            ("tokens", true),
            ("baseline tokens", true),
            ("TFLOPs", true),
            ("GB moved", true),
            ("FLOP/byte", true),
            ("bound", false),
            ("time ms", true),
            ("baseline ms", true),
        ],
    );
    for (l, b) in r.run.layers.iter().zip(&r.baseline.layers) {
        t.row_with(
            format!("data-layer=\"{}\"", l.layer),
            vec![
                num(l.layer as f64, 0),
                num(l.tokens as f64, 0),
                num(b.tokens as f64, 0),
                num(l.flops / 1e12, 4),
                num(l.bytes / 1e9, 3),
                num(l.arithmetic_intensity, 1),
                txt(l.bound.name()),
                num(l.time_s * 1e3, 3),
                num(b.time_s * 1e3, 3),
            ],
        );
    }
    t.render()
}

fn totals_table(r: &Report) -> String {
    let mut t = Table::new(
        "totals",
        "Totals and reductions (baseline: the same input, every layer at full length)",
        &[
            ("run", false),
            ("TFLOPs", true),
            ("GB moved", true),
            ("time ms", true),
            ("memory GB", true),
        ],
    );
    for (label, run) in [("schedule", &r.run), ("baseline", &r.baseline)] {
        let x = &run.totals;
        t.row(vec![
            txt(label),
            num(x.flops / 1e12, 4),
            num(x.bytes / 1e9, 3),
            num(x.time_s * 1e3, 3),
            num(x.memory_consumption_bytes / 1e9, 2),
        ]);
    }
    let red = &r.reduction;
    t.row(vec![
        txt("reduction (baseline / schedule)"),
        num_as(red.flops, format!("{}×", fixed(red.flops, 2))),
        num_as(red.bytes, format!("{}×", fixed(red.bytes, 2))),
        num_as(red.time, format!("{}×", fixed(red.time, 2))),
        txt("-"),
    ]);
    if red.time_interval.is_some() {
        // A fitted framework profile: the 80 % interval of each time and of the speed-up.
        t.columns.push(("80 % interval".into(), true));
        let cells = [
            super::interval_ms(r.run.totals.time_interval_s),
            super::interval_ms(r.baseline.totals.time_interval_s),
            super::interval_x(red.time_interval),
        ];
        for ((_, row), cell) in t.rows.iter_mut().zip(cells) {
            row.push(cell);
        }
    }
    let mut out = t.render();
    if let (Some(p), Some(b)) = (&r.run.pipeline, &r.baseline.pipeline) {
        let mut pt = Table::new(
            "pipeline",
            "Pipeline: where the time goes (ms)",
            &[
                ("stage", false),
                ("schedule ms", true),
                ("baseline ms", true),
            ],
        );
        for (label, a, bb) in [
            ("vision encoder", p.vision_time_s, b.vision_time_s),
            ("merging", p.merge_time_s, b.merge_time_s),
            ("LLM (layers + head)", p.llm_time_s, b.llm_time_s),
            (
                "of which importance (pruning)",
                p.importance_time_s,
                b.importance_time_s,
            ),
            (
                "communication",
                p.communication_time_s,
                b.communication_time_s,
            ),
            ("time to first token", p.ttft_s, b.ttft_s),
            ("decode", p.decode_time_s, b.decode_time_s),
            ("end to end", p.end_to_end_time_s, b.end_to_end_time_s),
        ] {
            pt.row(vec![txt(label), num(a * 1e3, 3), num(bb * 1e3, 3)]);
        }
        out.push_str(&pt.render());
    }
    if let Some(m) = &r.run.peak_memory {
        let _ = writeln!(
            out,
            "<p>Peak memory: <strong>{} GB</strong> = weights {} + KV cache {} + activations {} ({}) of {} GB on the device.</p>",
            fixed(m.peak_bytes / 1e9, 2),
            fixed(m.weights_bytes / 1e9, 2),
            fixed(m.kv_cache_bytes / 1e9, 2),
            fixed(m.activations_bytes / 1e9, 2),
            esc(&m.activations_at),
            fixed(m.device_bytes / 1e9, 1)
        );
    }
    out
}

/// The page of one run.
pub fn run(r: &Report) -> Result<String> {
    let s = &r.scenario;
    let i = &s.input;
    let p = &s.options.precision;
    // Above one GPU every figure is one GPU's share: the header said nothing of it.
    let title = format!(
        "{} on {}{}",
        r.scenario.model.label(),
        s.gpu.name,
        crate::report::per_gpu(s.options.tp)
    );
    let subtitle = format!(
        "schedule {} ({}) · cost model {} · framework {} · {} × {} + {} text tokens · batch {} · W{}A{}KV{}",
        s.schedule.name,
        r.schedule_summary,
        r.cost_model,
        s.framework_label(),
        s.frames_phrase(),
        i.tokens_per_frame,
        i.text_tokens,
        s.options.batch,
        p.w_bits,
        p.a_bits,
        p.kv_bits
    );
    let (run, base) = (&r.run.totals, &r.baseline.totals);
    let mut items = vec![
        (
            "prefill time".to_string(),
            format!("{} ms", fixed(run.time_s * 1e3, 2)),
            format!(
                "{}× less than {} ms with no reduction",
                fixed(r.reduction.time, 2),
                fixed(base.time_s * 1e3, 2)
            ),
        ),
        (
            "FLOPs".to_string(),
            format!("{} T", fixed(run.flops / 1e12, 2)),
            format!(
                "{}× less than {} T",
                fixed(r.reduction.flops, 2),
                fixed(base.flops / 1e12, 2)
            ),
        ),
        (
            "memory traffic".to_string(),
            format!("{} GB", fixed(run.bytes / 1e9, 2)),
            format!(
                "{}× less than {} GB",
                fixed(r.reduction.bytes, 2),
                fixed(base.bytes / 1e9, 2)
            ),
        ),
    ];
    if let (Some([lo, hi]), Some([slo, shi])) = (run.time_interval_s, r.reduction.time_interval) {
        items.push((
            "80 % interval".to_string(),
            format!("{} ms", crate::report::interval_range_ms(lo, hi)),
            format!(
                "speed-up {}–{}× (the profile's [spread])",
                fixed(slo, 2),
                fixed(shi, 2)
            ),
        ));
    }
    if let Some(m) = &r.run.peak_memory {
        items.push((
            "peak memory".to_string(),
            format!("{} GB", fixed(m.peak_bytes / 1e9, 2)),
            format!(
                "of {} GB: {}",
                fixed(m.device_bytes / 1e9, 1),
                if m.peak_bytes <= m.device_bytes {
                    "fits"
                } else {
                    "does NOT fit"
                }
            ),
        ));
    }
    if let Some(pl) = &r.run.pipeline {
        items.push((
            "importance (pruning)".to_string(),
            format!("{} ms", fixed(pl.importance_time_s * 1e3, 2)),
            format!(
                "{} % of the prefill",
                fixed(
                    100.0 * pl.importance_time_s / run.time_s.max(f64::MIN_POSITIVE),
                    1
                )
            ),
        ));
    }
    let mut body = cards(&items);
    body.push_str(&messages(&r.run.warnings, &[]));
    body.push_str(
        "<nav class=\"toc\"><a href=\"#per-layer\">Per layer</a> <a href=\"#roofline\">Roofline</a> \
         <a href=\"#operators\">Operators</a> <a href=\"#totals\">Totals</a> <a href=\"#layer-table\">Layer table</a> \
         <a href=\"#spec\">Resolved spec</a> <a href=\"#notes\">Notes</a></nav>\n",
    );
    body.push_str(&section(
        "per-layer",
        "Per layer",
        &(chart(
            "chart-tokens",
            "Tokens per decoder layer, baseline beside schedule",
            "Sequence length entering each decoder layer: baseline (grey, left) and schedule (right).",
        ) + &chart(
            "chart-layers",
            "Time per decoder layer by operator kind, baseline beside schedule",
            "Time per layer stacked by operator kind: baseline (faded, left) beside the schedule (solid, right). Click a layer to show its operators in the table below.",
        )),
    ));
    body.push_str(&section(
        "roofline",
        "Roofline",
        &chart(
            "chart-roofline",
            "Roofline with every operator of the run",
            "Attainable performance against arithmetic intensity: each operator of the schedule (filled, by kind) and of the baseline (hollow grey). Hover a point for its layer, FLOPs, bytes, intensity and time; click it to show its layer's operators.",
        ),
    ));
    body.push_str(&section(
        "operators",
        "Operators",
        &format!(
            "<p class=\"filter\" id=\"ops-filter\" aria-live=\"polite\">All operators.</p>\n{}",
            op_table(r)
        ),
    ));
    body.push_str(&section(
        "totals",
        "Totals and reductions",
        &totals_table(r),
    ));
    body.push_str(&section("layer-table", "Layer table", &layer_table(r)));
    let spec = serde_json::to_value(&r.spec).expect("spec serialises");
    body.push_str(&section(
        "spec",
        "Resolved spec",
        &(settings_table(
            "spec-table",
            "Every setting of this run (aim-sim --spec on the JSON output replays it)",
            &spec,
        ) + &format!(
            "<p>Model: {} · {} layers, hidden {}, {} heads ({} KV). GPU: {} · {} TFLOP/s fp16, {} GB/s.</p>\n",
            esc(r.scenario.model.label()),
            s.model.num_layers,
            s.model.hidden_size,
            s.model.num_heads,
            s.model.kv_heads(),
            esc(&s.gpu.name),
            fixed(s.gpu.fp16_peak / 1e12, 0),
            fixed(s.gpu.bandwidth / 1e9, 0)
        )),
    ));
    let mut notes = r.run.notes.clone();
    if let Some(c) = &r.run.calibration {
        notes.push(format!("calibration: {c}"));
    }
    body.push_str(&section(
        "notes",
        "Warnings and notes",
        &if r.run.warnings.is_empty() && notes.is_empty() {
            "<p>None.</p>\n".to_string()
        } else {
            messages(&r.run.warnings, &notes)
        },
    ));
    Ok(Page {
        kind: "run",
        title,
        subtitle,
        body,
        data: data(r),
        script: RUN_JS,
    }
    .render())
}
