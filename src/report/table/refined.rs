//! Table sections only the refined model fills: settings, stages before the LLM, pipeline
//! times, dense FLOPs, KV cache, expert use, decode, peak memory, calibration, notes and warnings.
//! Each prints nothing when its part of the report is absent, so `llm-viewer` tables are unchanged.

use crate::cost::{RunCost, TimedOp};
use crate::sim::Report;
use std::fmt::Write;

const GB: f64 = 1e9;

/// Refined-only settings under the header line.
pub fn settings(out: &mut String, r: &Report) {
    let parts = settings_parts(&r.scenario);
    if !parts.is_empty() {
        let _ = writeln!(out, "options:  {}", parts.join(" · "));
    }
}

/// The run's settings that change what its figures count (per GPU under tensor parallelism,
/// the encoder included, ...): simulate's `options:` line, and compare's.
pub fn settings_parts(s: &crate::scenario::Scenario) -> Vec<String> {
    let o = &s.options;
    let mut parts = Vec::new();
    if o.include_vision {
        parts.push("vision encoder included".to_string());
    }
    if o.tp > 1 {
        parts.push(format!("tensor parallel {} (figures per GPU)", o.tp));
    }
    if o.gen_tokens > 0 {
        parts.push(format!("{} decode steps", o.gen_tokens));
    }
    if o.all_logits {
        parts.push("logits for every position".into());
    }
    parts
}

fn op_line(out: &mut String, o: &TimedOp) {
    let _ = writeln!(
        out,
        "  {:<26} {:>12.4} {:>10.3} {:>10.3}",
        o.op.name,
        o.op.flops / 1e9,
        o.bytes / GB,
        o.time_s * 1e3
    );
}

/// The operators before the first decoder layer.
pub fn stages(out: &mut String, run: &RunCost, visual_tokens: u64) {
    if run.stages.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "before the LLM ({visual_tokens} visual tokens)\n  {:<26} {:>12} {:>10} {:>10}",
        "operator", "GFLOPs", "GB moved", "time ms"
    );
    run.stages.iter().for_each(|o| op_line(out, o));
    out.push('\n');
}

/// The reduction line's continuation: the LLM's and the end-to-end speed-ups.
pub fn reduction_detail(out: &mut String, r: &Report) {
    if let (Some(llm), Some(e2e)) = (r.reduction.llm_time, r.reduction.end_to_end_time) {
        let _ = writeln!(
            out,
            "           {llm:>9.2}× LLM time (layers + head) {e2e:>8.2}× end to end"
        );
    }
}

/// Pipeline, memory, decode and notes after the totals.
pub fn summary(out: &mut String, r: &Report) {
    let run = &r.run;
    if let Some(dense) = run.totals.dense_flops {
        let _ = writeln!(
            out,
            "dense count (n² attention, as papers quote): {:.4} TFLOPs",
            dense / 1e12
        );
    }
    if let (Some(p), Some(b)) = (&run.pipeline, &r.baseline.pipeline) {
        let _ = writeln!(
            out,
            "\npipeline (ms)      {:>10} {:>10}",
            "schedule", "baseline"
        );
        for (label, x, y) in [
            ("vision encoder", p.vision_time_s, b.vision_time_s),
            ("token merging", p.merge_time_s, b.merge_time_s),
            ("LLM prefill", p.llm_time_s, b.llm_time_s),
            (
                "  of which importance",
                p.importance_time_s,
                b.importance_time_s,
            ),
            (
                "  of which all-reduce",
                p.communication_time_s,
                b.communication_time_s,
            ),
            ("time to first token", p.ttft_s, b.ttft_s),
            ("decode", p.decode_time_s, b.decode_time_s),
            ("end to end", p.end_to_end_time_s, b.end_to_end_time_s),
        ] {
            let always = !label.starts_with(' ') && label != "vision encoder" && label != "decode";
            if always || x > 0.0 || y > 0.0 {
                let _ = writeln!(out, "{label:<22} {:>10.3} {:>10.3}", x * 1e3, y * 1e3);
            }
        }
        let _ = writeln!(
            out,
            "overhead: merging {:.3} GFLOPs, importance {:.3} GFLOPs",
            p.merge_flops / 1e9,
            p.importance_flops / 1e9
        );
    }
    if let Some(kv) = &run.kv_cache {
        let per_layer: Vec<String> = kv
            .bytes_per_layer
            .iter()
            .map(|b| format!("{:.1}", b / 1e6))
            .collect();
        let _ = writeln!(
            out,
            "KV cache: {:.3} GB after prefill; MB per layer: {}",
            kv.total_bytes / GB,
            per_layer.join(" ")
        );
    }
    if let Some(e) = &run.experts {
        let routed: Vec<f64> = e
            .touched_per_layer
            .iter()
            .copied()
            .filter(|&t| t > 0.0)
            .collect();
        let (lo, hi) = routed
            .iter()
            .fold((f64::INFINITY, 0.0f64), |(l, h), &t| (l.min(t), h.max(t)));
        let _ = writeln!(
            out,
            "experts: {} of {} per token; each MoE layer touches {:.1}–{:.1} of {} (expected); {:.3} GB of expert weights read, {:.3} GB held",
            e.experts_per_token,
            e.num_experts,
            if routed.is_empty() { 0.0 } else { lo },
            hi,
            e.num_experts,
            e.expert_weight_bytes_read / GB,
            e.expert_weight_bytes_held / GB
        );
    }
    if let Some(d) = &run.decode {
        let _ = writeln!(
            out,
            "decode: {} tokens in {:.3} ms ({:.3} ms first step, {:.3} ms last), {:.4} TFLOPs, KV cache {:.3} GB at the end",
            d.gen_tokens,
            d.time_s * 1e3,
            d.first_step_time_s * 1e3,
            d.last_step_time_s * 1e3,
            d.flops / 1e12,
            d.final_kv_cache_bytes / GB
        );
    }
    if let Some(m) = &run.peak_memory {
        let _ = writeln!(
            out,
            "peak memory: {:.2} GB = weights {:.2} + KV {:.2} + activations {:.2} ({}{}) of {:.1} GB",
            m.peak_bytes / GB,
            m.weights_bytes / GB,
            m.kv_cache_bytes / GB,
            m.activations_bytes / GB,
            m.activations_at,
            if m.attention_map_bytes > 0.0 {
                format!(", n² map {:.2} GB", m.attention_map_bytes / GB)
            } else {
                String::new()
            },
            m.device_bytes / GB
        );
    }
    if let Some(c) = &run.calibration {
        let _ = writeln!(out, "timing: {c}");
    }
    for n in &run.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for w in &run.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
}
