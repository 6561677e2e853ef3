//! `aim-sim compare`: several schedules (or methods) on one input, side by side — time, FLOPs,
//! speed-up against the first, reduction against no reduction, peak memory and whether it fits,
//! and what the pruning's importance scoring costs.
//!
//! Every row is an ordinary run ([`Scenario::from_spec`] + [`sim::simulate`]) of the caller's
//! base spec with only its schedule replaced, so any option of a single run applies to all.

use crate::error::keys::{GEN_TOKENS, LAYER_TOKENS, SCHEDULE, SELECTION};
use crate::error::{Error, Result};
use crate::report::TextFormat;
use crate::scenario::{Scenario, OVERRIDDEN};
use crate::sim::{self, Report};
use crate::spec::{Definition, Spec};
use serde::Serialize;
use std::fmt::Write;

/// Most schedules one comparison holds (beyond this a chart's colours repeat).
pub(crate) const MAX_SCHEDULES: usize = 12;

/// The question: the base run, and the schedules to price it with (presets or files).
#[derive(Debug, Clone)]
pub struct Query {
    pub base: Spec,
    pub schedules: Vec<String>,
    /// Notes to carry into the comparison (what an anchor refitted the base's profile to).
    pub notes: Vec<String>,
    /// What the base's profile was refitted on, if anything: on a measured baseline, the
    /// `none` row is that measurement and carries no interval (as `aim-sim --anchor-ms`).
    pub anchor: Option<crate::scenario::Anchor>,
}

impl Query {
    /// `base` priced with every one of `schedules`, under its framework profile refitted to
    /// an anchor of the user's stack (`anchor_ms`: the input's measured time without
    /// reduction; `file`: measured rows), as `aim-sim compare --anchor-ms/--anchor` and Python's
    /// `compare` ask it; as given without either.
    pub fn anchored(
        base: Spec,
        schedules: Vec<String>,
        anchor_ms: Option<f64>,
        file: Option<&std::path::Path>,
    ) -> Result<Query> {
        let (base, notes, anchor) =
            match crate::check::anchor::anchored_spec(&base, anchor_ms, file)? {
                Some((spec, note, kind)) => (spec, vec![note], Some(kind)),
                // A replayed anchored run says what its anchor refitted, as its replay does.
                None => {
                    let notes = match &base.framework {
                        crate::spec::Definition::Inline(f) => f
                            .anchor_notes
                            .as_ref()
                            .map(|n| vec![n.refitted.clone()])
                            .unwrap_or_default(),
                        crate::spec::Definition::Name(_) => Vec::new(),
                    };
                    (base, notes, None)
                }
            };
        Ok(Query {
            base,
            schedules,
            notes,
            anchor,
        })
    }
}

/// One schedule's run. Base units: FLOPs, bytes, seconds.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    /// The schedule as given (preset name or path); `NAME (overridden)` where the base's merge
    /// or pruning options replaced part of it, as a single run labels it.
    pub schedule: String,
    /// What the schedule does to this model (merge, pruning window).
    pub summary: String,
    pub flops: f64,
    pub bytes: f64,
    /// Prefill time (refined: time to first token).
    pub time_s: f64,
    /// First row's time / this row's: how much faster than the first schedule given.
    pub speedup: f64,
    /// First row's FLOPs / this row's.
    pub flops_ratio: f64,
    /// No-reduction baseline's time / this row's (as `aim-sim` prints it).
    pub reduction_time: f64,
    /// 80 % prediction intervals of `time_s` and `reduction_time` under a fitted framework
    /// profile (its `[spread]`); absent for the roofline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_interval_s: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reduction_time_interval: Option<[f64; 2]>,
    /// No-reduction baseline's FLOPs / this row's.
    pub reduction_flops: f64,
    /// Peak device memory of the prefill (refined: weights + KV + the largest activation;
    /// llm-viewer: its memory consumption).
    pub peak_memory_bytes: f64,
    /// Memory of one device.
    pub device_memory_bytes: f64,
    /// `peak_memory_bytes <= device_memory_bytes`.
    pub fits: bool,
    /// Time of the pruning's importance scoring (refined only: llm-viewer does not price it).
    pub importance_time_s: Option<f64>,
    pub importance_flops: Option<f64>,
    /// Visual tokens entering the first decoder layer (after merging).
    pub merged_visual_tokens: u64,
    /// Sequence length of every decoder layer.
    pub layer_tokens: Vec<u64>,
    /// Time of every decoder layer.
    pub layer_time_s: Vec<f64>,
    /// The resolved spec of this row: `aim-sim --spec` on it replays the run.
    pub spec: Spec,
}

/// The answer: one row per schedule, in the order given, and the shared baseline.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// Model description (its long name).
    pub model: String,
    pub gpu: String,
    pub cost_model: String,
    pub framework: String,
    pub frames: u64,
    pub tokens_per_frame: u64,
    pub text_tokens: u64,
    pub batch: u64,
    /// The input with no reduction (every row's baseline: the input is the same).
    pub baseline_flops: f64,
    pub baseline_time_s: f64,
    pub baseline_peak_memory_bytes: f64,
    pub rows: Vec<Row>,
    /// Warnings of any row, prefixed with its schedule.
    pub warnings: Vec<String>,
    /// Settings that change what the figures count (`tensor parallel 2 (figures per GPU)`,
    /// `W4A16KV16`), as simulate's `options:` line says them; empty for the defaults.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub options: Vec<String>,
    /// What the caller says of the base run (an anchored profile).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Whether the profile was refitted to the user's measured baseline (`--anchor-ms`,
    /// `--anchor`): the intervals are then those of the anchored stack, not of a new one.
    #[serde(skip)]
    pub anchored: bool,
}

/// Peak and device memory of a run: the refined model's peak, else llm-viewer's consumption.
fn memory(r: &Report) -> (f64, f64) {
    match &r.run.peak_memory {
        Some(p) => (p.peak_bytes, p.device_bytes),
        None => (r.run.totals.memory_consumption_bytes, r.scenario.gpu.memory),
    }
}

/// Prices every schedule of `q` on its base spec.
pub fn compare(q: &Query) -> Result<Comparison> {
    if q.schedules.is_empty() {
        return Err(Error::invalid(format!(
            "compare needs at least one schedule: give {SCHEDULE} a,b,c"
        )));
    }
    if q.schedules.len() > MAX_SCHEDULES {
        return Err(Error::invalid(format!(
            "compare takes at most {MAX_SCHEDULES} schedules, got {}: shorten {SCHEDULE}",
            q.schedules.len()
        )));
    }
    for (i, s) in q.schedules.iter().enumerate() {
        if s.trim().is_empty() {
            return Err(Error::invalid(format!(
                "{SCHEDULE}'s list has an empty item (item {} of {}): give names between \
                 single commas, e.g. none,linear",
                i + 1,
                q.schedules.len()
            )));
        }
        if q.schedules[..i].contains(s) {
            return Err(Error::invalid(format!(
                "{SCHEDULE} lists '{s}' twice: give each schedule once"
            )));
        }
    }
    // Options that would make every row the same run, or that no row shows, are refused
    // (both were taken in silence: every schedule priced as one list of counts, a decode
    // priced and not reported).
    if q.base.selection.is_some() {
        return Err(Error::invalid(format!(
            "{SELECTION} prices one method's choice of the tokens layer 0 keeps, which it takes \
             from {LAYER_TOKENS}, and that list replaces every schedule: compare cannot price a \
             selection beside its schedules; price the method with simulate ({LAYER_TOKENS} \
             and {SELECTION}) and drop {SELECTION} here"
        )));
    }
    if q.base.layer_tokens.is_some() {
        return Err(Error::invalid(format!(
            "{LAYER_TOKENS} replaces every schedule, so each row would be the same run: drop it \
             (a schedule file whose [prune] has kind = \"explicit\" gives one keep fraction \
             per layer as one of the schedules)"
        )));
    }
    if q.base.gen_tokens > 0 {
        return Err(Error::invalid(format!(
            "compare prices each schedule's prefill (time to first token), not a decode: drop \
             {GEN_TOKENS}, or price one schedule's decode with simulate (a single run, \
             {SCHEDULE} and {GEN_TOKENS})"
        )));
    }
    // The base run's own errors (a GPU file that cannot be read, a bad option) are said as a
    // single run says them, not as the first schedule's: it is priced once with no reduction.
    Scenario::from_spec(&Spec {
        schedule: Definition::Name("none".into()),
        ..q.base.clone()
    })?;
    let mut reports = Vec::with_capacity(q.schedules.len());
    for name in &q.schedules {
        let spec = Spec {
            schedule: Definition::Name(name.clone()),
            ..q.base.clone()
        };
        let report = Scenario::from_spec(&spec)
            .and_then(|mut s| {
                // A replayed anchored run (`--spec run.json`, no new anchor) keeps the
                // scenario's own: its label and its measured baseline (compare once named it
                // plain `hf` and gave the measured `none` row an interval).
                if q.anchor.is_some() {
                    s.anchor = q.anchor;
                }
                sim::simulate(&s)
            })
            .map_err(|e| Error::invalid(format!("schedule {name}: {}", e.marked())))?;
        // The base's merge/prune options apply to every row, `none` included: say so per row,
        // as `aim-sim --schedule none --prune-start 3 …` says "none (overridden)".
        let label = if report.scenario.schedule.name.ends_with(OVERRIDDEN) {
            format!("{name}{OVERRIDDEN}")
        } else {
            name.clone()
        };
        reports.push((label, report));
    }
    let first = &reports[0].1.run.totals;
    let (first_time_s, first_flops) = (first.time_s, first.flops);
    let ratio = |a: f64, b: f64| if b > 0.0 { a / b } else { f64::INFINITY };
    let mut warnings = Vec::new();
    let rows = reports
        .iter()
        .map(|(name, r)| {
            let t = &r.run.totals;
            let (peak, device) = memory(r);
            warnings.extend(r.run.warnings.iter().map(|w| format!("{name}: {w}")));
            Row {
                schedule: name.to_string(),
                summary: r.schedule_summary.clone(),
                flops: t.flops,
                bytes: t.bytes,
                time_s: t.time_s,
                speedup: ratio(first_time_s, t.time_s),
                flops_ratio: ratio(first_flops, t.flops),
                reduction_time: r.reduction.time,
                time_interval_s: t.time_interval_s,
                reduction_time_interval: r.reduction.time_interval,
                reduction_flops: r.reduction.flops,
                peak_memory_bytes: peak,
                device_memory_bytes: device,
                fits: peak <= device,
                importance_time_s: r.run.pipeline.as_ref().map(|p| p.importance_time_s),
                importance_flops: r.run.pipeline.as_ref().map(|p| p.importance_flops),
                merged_visual_tokens: r.plan.merged_visual_tokens,
                layer_tokens: r.run.layers.iter().map(|l| l.tokens).collect(),
                layer_time_s: r.run.layers.iter().map(|l| l.time_s).collect(),
                spec: r.spec.clone(),
            }
        })
        .collect();
    let r0 = &reports[0].1;
    let s = &r0.scenario;
    let model = s.model.label().to_string();
    let base = &r0.baseline;
    Ok(Comparison {
        model,
        gpu: s.gpu.name.clone(),
        cost_model: r0.cost_model.to_string(),
        framework: s.framework_label(),
        frames: s.input.frames,
        tokens_per_frame: s.input.tokens_per_frame,
        text_tokens: s.input.text_tokens,
        batch: s.options.batch,
        baseline_flops: base.totals.flops,
        baseline_time_s: base.totals.time_s,
        baseline_peak_memory_bytes: base
            .peak_memory
            .as_ref()
            .map_or(base.totals.memory_consumption_bytes, |p| p.peak_bytes),
        rows,
        warnings,
        // compare's header named neither a split over GPUs nor the precision: its figures
        // read as one GPU's at 16 bits.
        options: {
            let p = s.options.precision;
            let mut o = crate::report::settings_parts(s);
            if (p.w_bits, p.a_bits, p.kv_bits) != (16, 16, 16) {
                o.push(format!("W{}A{}KV{}", p.w_bits, p.a_bits, p.kv_bits));
            }
            o
        },
        notes: q.notes.clone(),
        anchored: s.spread.is_some_and(|sp| sp.anchored),
    })
}

/// The comparison as a table, JSON or CSV.
pub fn render(c: &Comparison, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Json => crate::report::json_text(c),
        TextFormat::Csv => csv(c),
        TextFormat::Table => table(c),
        TextFormat::Jsonl => return Err(format.lacks("a comparison")),
    })
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// The rows as CSV. Under a fitted framework profile, as `sweep`'s CSV does, a `framework`
/// column and each time's and reduction's 80 % interval (`*_low`, `*_high`; empty where the
/// figure has none, as a measured baseline): without them a profile's CSV read as the
/// roofline's. The roofline's columns are unchanged.
fn csv(c: &Comparison) -> String {
    let fitted = c.framework != crate::framework::ROOFLINE;
    let mut out = String::from(if fitted {
        "schedule,framework,flops,bytes,time_s,time_low_s,time_high_s,speedup,flops_ratio,reduction_time,reduction_time_low,reduction_time_high,reduction_flops,peak_memory_bytes,device_memory_bytes,fits,importance_time_s,importance_flops,merged_visual_tokens\n"
    } else {
        "schedule,flops,bytes,time_s,speedup,flops_ratio,reduction_time,reduction_flops,peak_memory_bytes,device_memory_bytes,fits,importance_time_s,importance_flops,merged_visual_tokens\n"
    });
    let bounds = |i: Option<[f64; 2]>| i.map_or(",".to_string(), |[lo, hi]| format!("{lo},{hi}"));
    for r in &c.rows {
        let schedule = crate::report::csv_field(&r.schedule);
        let (framework, time_s, reduction_time) = if fitted {
            (
                format!("{},", crate::report::csv_field(&c.framework)),
                format!("{},{}", r.time_s, bounds(r.time_interval_s)),
                format!("{},{}", r.reduction_time, bounds(r.reduction_time_interval)),
            )
        } else {
            (
                String::new(),
                r.time_s.to_string(),
                r.reduction_time.to_string(),
            )
        };
        let _ = writeln!(
            out,
            "{schedule},{framework}{},{},{time_s},{},{},{reduction_time},{},{},{},{},{},{},{}",
            r.flops,
            r.bytes,
            r.speedup,
            r.flops_ratio,
            r.reduction_flops,
            r.peak_memory_bytes,
            r.device_memory_bytes,
            r.fits,
            opt(r.importance_time_s),
            opt(r.importance_flops),
            r.merged_visual_tokens
        );
    }
    out
}

fn table(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "compare: {} on {} · cost model {} · framework {}",
        c.model, c.gpu, c.cost_model, c.framework
    );
    // LLM-Viewer's memory is its "memory consumption" (weights + KV + the last activations),
    // not a peak: the table said "peak GB" of it.
    let viewer = c.cost_model == "llm-viewer";
    let (memory, memory_head, memory_foot) = if viewer {
        ("memory", "mem GB", "mem: LLM-Viewer's memory consumption (weights + KV cache + the last layer's activations)")
    } else {
        ("peak", "peak GB", "peak memory")
    };
    let _ = writeln!(
        out,
        "input:   {} frame(s) × {} + {} text tokens · batch {} · no reduction: {:.4} TFLOPs, {:.3} ms, {:.2} GB {memory}\n",
        c.frames,
        c.tokens_per_frame,
        c.text_tokens,
        c.batch,
        c.baseline_flops / 1e12,
        c.baseline_time_s * 1e3,
        c.baseline_peak_memory_bytes / 1e9
    );
    if !c.options.is_empty() {
        // Before the blank line the input line ends with.
        out.pop();
        let _ = writeln!(out, "options: {}\n", c.options.join(" · "));
    }
    let width = c
        .rows
        .iter()
        .map(|r| r.schedule.chars().count())
        .max()
        .unwrap_or(0)
        .max(8);
    let first = &c.rows[0].schedule;
    let _ = writeln!(
        out,
        "  {:<width$} {:>10} {:>10} {:>9} {:>9} {:>9} {:>5} {:>13}",
        "schedule",
        "TFLOPs",
        "time ms",
        "speed-up",
        "vs none",
        memory_head,
        "fits",
        "importance ms"
    );
    for r in &c.rows {
        let _ = writeln!(
            out,
            "  {:<width$} {:>10.4} {:>10.3} {:>8.2}× {:>8.2}× {:>9.2} {:>5} {:>13}",
            r.schedule,
            r.flops / 1e12,
            r.time_s * 1e3,
            r.speedup,
            r.reduction_time,
            r.peak_memory_bytes / 1e9,
            if r.fits { "yes" } else { "NO" },
            r.importance_time_s
                .map_or("-".to_string(), |t| format!("{:.3}", t * 1e3)),
        );
    }
    let _ = writeln!(
        out,
        "\nspeed-up: {first}'s time / the row's; vs none: the input's time with no reduction / the row's; {memory_foot} of {} per device",
        c.gpu
    );
    for r in &c.rows {
        let _ = writeln!(out, "  {:<width$}  {}", r.schedule, r.summary);
    }
    if c.rows.iter().any(|r| r.time_interval_s.is_some()) {
        let _ = writeln!(
            out,
            "\n{}",
            if c.anchored {
                "80 % intervals on the anchored stack (the narrower of the profile's speed-up and time σ: two runs of one harness; docs/accuracy.md, one anchor):"
            } else {
                "80 % intervals on a stack the framework profile was not fitted to (its [spread], docs/accuracy.md):"
            }
        );
        for r in &c.rows {
            if let (Some([lo, hi]), Some([slo, shi])) =
                (r.time_interval_s, r.reduction_time_interval)
            {
                let _ = writeln!(
                    out,
                    "  {:<width$}  time {:.1}–{:.1} ms · vs none {slo:.2}–{shi:.2}×",
                    r.schedule,
                    lo * 1e3,
                    hi * 1e3
                );
            }
        }
    }
    for n in &c.notes {
        let _ = writeln!(out, "note: {n}");
    }
    for w in &c.warnings {
        let _ = writeln!(out, "warning: {w}");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(schedules: &[&str]) -> Query {
        Query {
            notes: Vec::new(),
            anchor: None,
            base: Spec::default(),
            schedules: schedules.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn rows_are_single_runs_and_speedups_are_against_the_first() {
        let c = compare(&query(&["none", "linear", "fastv"])).unwrap();
        assert_eq!(c.rows.len(), 3);
        for r in &c.rows {
            let spec = Spec {
                schedule: Definition::Name(r.schedule.clone()),
                ..Spec::default()
            };
            let single = crate::simulate(&spec).unwrap();
            assert_eq!(r.time_s, single.run.totals.time_s, "{}", r.schedule);
            assert_eq!(r.flops, single.run.totals.flops);
            assert_eq!(r.reduction_time, single.reduction.time);
            assert_eq!(r.layer_tokens, single.plan.layer_tokens);
        }
        // The first is `none`: its speed-up is 1 and equals the reduction against no reduction.
        assert_eq!(c.rows[0].speedup, 1.0);
        assert!((c.rows[1].speedup - c.rows[1].reduction_time).abs() < 1e-9);
        assert_eq!(c.baseline_time_s, c.rows[0].time_s);
        // AIM's importance is priced in the refined model; `none` prunes nothing.
        assert_eq!(c.rows[0].importance_time_s, Some(0.0));
        assert!(c.rows[1].importance_time_s.unwrap() > 0.0);
        assert!(c.rows.iter().all(|r| r.fits));
    }

    #[test]
    fn bad_lists_are_errors() {
        for (schedules, want) in [
            (&[][..], "at least one"),
            (&["linear", "linear"][..], "twice"),
            (
                &["linear", "no-such-schedule"][..],
                "schedule no-such-schedule",
            ),
        ] {
            let e = compare(&query(schedules)).unwrap_err().to_string();
            assert!(e.contains(want), "{e}");
        }
    }

    #[test]
    fn table_and_csv_have_one_line_per_schedule() {
        let c = compare(&query(&["linear", "merge-only"])).unwrap();
        let csv = render(&c, TextFormat::Csv).unwrap();
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.lines().nth(2).unwrap().starts_with("merge-only,"));
        let table = render(&c, TextFormat::Table).unwrap();
        assert!(table.contains("merge-only"), "{table}");
        let json: serde_json::Value =
            serde_json::from_str(&render(&c, TextFormat::Json).unwrap()).unwrap();
        assert_eq!(json["rows"][1]["schedule"], "merge-only");
        // A comparison is not rows of JSON objects: JSON Lines is refused, not written as
        // another format.
        let e = render(&c, TextFormat::Jsonl).unwrap_err().to_string();
        assert!(e.contains("no jsonl output"), "{e}");
    }
}
