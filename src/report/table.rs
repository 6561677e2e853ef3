//! The human table: per layer, then totals, baseline and reduction. Human units
//! (TFLOPs = 1e12 FLOPs, GB = 1e9 bytes, ms).

mod refined;

pub(crate) use refined::settings_parts;

use crate::cost::{Bound, LayerCost, RunCost, TimedOp};
use crate::scenario::Anchor;
use crate::sim::Report;
use std::fmt::Write;

fn line(out: &mut String, label: &str, tokens: u64, flops: f64, bytes: f64, b: Bound, time_s: f64) {
    let ai = if bytes > 0.0 { flops / bytes } else { 0.0 };
    let _ = writeln!(
        out,
        "{label:>7} {tokens:>9} {:>10.4} {:>10.3} {ai:>10.1} {:>8} {:>10.3}",
        flops / 1e12,
        bytes / 1e9,
        b.name(),
        time_s * 1e3
    );
}

/// The head's operators as one line (`llm-viewer` has one, `refined` a norm and the logits).
fn head_line(out: &mut String, head: &[TimedOp]) {
    let Some(slowest) = head.iter().max_by(|a, b| a.time_s.total_cmp(&b.time_s)) else {
        return;
    };
    line(
        out,
        "head",
        1,
        head.iter().map(|o| o.op.flops).sum(),
        head.iter().map(|o| o.bytes).sum(),
        slowest.bound,
        head.iter().map(|o| o.time_s).sum(),
    );
}

fn layer_line(out: &mut String, l: &LayerCost) {
    line(
        out,
        &l.layer.to_string(),
        l.tokens,
        l.flops,
        l.bytes,
        l.bound,
        l.time_s,
    );
}

fn totals_line(out: &mut String, label: &str, run: &RunCost, tag: &str) {
    let t = &run.totals;
    // The refined model reports the peak; llm-viewer its "memory consumption" (weights + KV +
    // the last layer's activations, llm-viewer-cost-model.md).
    let memory = if run.peak_memory.is_some() {
        "peak memory"
    } else {
        "memory consumption"
    };
    let _ = writeln!(
        out,
        "{label:<10} {:>10.4} TFLOPs {:>9.3} GB moved {:>10.3} ms{tag}{} · {memory} {:>7.2} GB",
        t.flops / 1e12,
        t.bytes / 1e9,
        t.time_s * 1e3,
        t.time_interval_s.map_or(String::new(), |[lo, hi]| format!(
            " (80 %: {}–{} ms)",
            interval_ms(lo),
            interval_ms(hi)
        )),
        t.memory_consumption_bytes / 1e9,
    );
}

/// An interval `LO–HI` in ms ([`interval_ms`]), or "measured" for a zero-width one (a baseline
/// an anchor measured: the sweep's table and page).
pub(crate) fn interval_range_ms(lo: f64, hi: f64) -> String {
    if lo == hi {
        "measured".to_string()
    } else {
        format!("{}–{}", interval_ms(lo), interval_ms(hi))
    }
}

/// An interval bound in ms, to three significant figures (the interval is no finer).
pub(crate) fn interval_ms(s: f64) -> String {
    let ms = s * 1e3;
    let digits = (2 - ms.abs().log10().floor() as i32).max(0) as usize;
    format!("{ms:.digits$}")
}

/// Renders the report as an aligned text table.
pub fn render(r: &Report) -> String {
    let s = &r.scenario;
    let m = &s.model;
    let p = &s.options.precision;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "aim-sim: {} on {} · cost model {}",
        m.label(),
        s.gpu.name,
        r.cost_model
    );
    let _ = writeln!(
        out,
        "input:    {} × {} = {} visual tokens + {} text tokens · batch {} · W{}A{}KV{} · attention {}",
        s.frames_phrase(),
        s.input.tokens_per_frame,
        s.input.visual_tokens(),
        s.input.text_tokens,
        s.options.batch,
        p.w_bits,
        p.a_bits,
        p.kv_bits,
        if s.options.flash_attention { "fused (FlashAttention)" } else { "eager (n² logits)" }
    );
    refined::settings(&mut out, r);
    // An explicit list replaces the schedule: its name and the visual tokens "into layer 0"
    // (the input's, no merging) said nothing true of it; its own first and last counts do.
    let (name, into) = match &s.layer_tokens_override {
        Some(list) => (
            String::new(),
            format!(
                "layer 0 holds {} tokens, the last {}",
                list.first().copied().unwrap_or(0),
                list.last().copied().unwrap_or(0)
            ),
        ),
        None => (
            format!("{}: ", s.schedule.name),
            format!("{} visual tokens into layer 0", r.plan.merged_visual_tokens),
        ),
    };
    let _ = writeln!(
        out,
        "schedule: {name}{} · {into} · prune timing {}{}",
        r.schedule_summary,
        match s.prune_timing {
            crate::schedule::PruneTiming::Paper => "paper",
            crate::schedule::PruneTiming::Code => "code",
        },
        if s.options.skip_mlp_add {
            " · mlp_add dropped"
        } else {
            ""
        }
    );
    out.push('\n');
    let _ = writeln!(
        out,
        "{:>7} {:>9} {:>10} {:>10} {:>10} {:>8} {:>10}",
        "layer", "tokens", "TFLOPs", "GB moved", "FLOP/byte", "bound", "time ms"
    );
    for l in &r.run.layers {
        layer_line(&mut out, l);
    }
    head_line(&mut out, &r.run.head);
    out.push('\n');
    refined::stages(&mut out, &r.run, s.input.visual_tokens());
    totals_line(&mut out, "schedule", &r.run, "");
    let measured = r.scenario.anchor == Some(Anchor::Baseline);
    totals_line(
        &mut out,
        "baseline",
        &r.baseline,
        if measured {
            " (measured: the anchor)"
        } else {
            ""
        },
    );
    let _ = writeln!(
        out,
        "reduction  {:>9.2}× FLOPs {:>9.2}× bytes    {:>9.2}× time{}",
        r.reduction.flops,
        r.reduction.bytes,
        r.reduction.time,
        r.reduction
            .time_interval
            .map_or(String::new(), |[lo, hi]| format!(
                " (80 %: {lo:.2}–{hi:.2}×)"
            ))
    );
    // The reduction's own continuation before the interval's line (which stood between them).
    refined::reduction_detail(&mut out, r);
    if r.run.totals.time_interval_s.is_some() {
        let _ = writeln!(
            out,
            "{}",
            match (r.scenario.anchor, r.scenario.spread.is_some_and(|s| s.shipped)) {
                (None, false) => "interval: 80 % of runs on a stack this profile was not fitted to land inside (the profile's [spread]: leave-one-source-out residuals, docs/accuracy.md); one measured baseline of your own stack (--anchor-ms) narrows it",
                (None, true) => "interval: the shipped profile's [spread], which `fit` copied: this profile's rows are of one source, which gives no spread between sources; 80 % of runs on a stack the shipped profile was not fitted to land inside; one measured baseline (--anchor-ms) narrows it",
                (Some(_), _) => "interval: 80 % of runs on the anchored stack land inside: the error of a ratio of two runs of one harness (the narrower of the profile's speed-up and time σ, from leave-one-source-out residuals; docs/accuracy.md, one anchor)",
            }
        );
    }
    refined::summary(&mut out, r);
    out
}
