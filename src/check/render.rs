//! A check report as a table, JSON or CSV.

use super::{CheckReport, Stats, Summary};
use crate::error::Result;
use crate::report::TextFormat;
use std::fmt::Write;

fn pct(e: Option<f64>) -> String {
    e.map_or("-".into(), |e| format!("{:+.1}%", e * 100.0))
}

fn ms(v: Option<f64>) -> String {
    v.map_or("-".into(), |v| format!("{v:.2}"))
}

fn stats(s: &Option<Stats>) -> String {
    s.as_ref().map_or("-".into(), |s| {
        format!(
            "{:>6.1}% {:>6.1}%  {:<3} ({})",
            s.median_abs_error * 100.0,
            s.worst_abs_error * 100.0,
            s.rows,
            s.worst_id
        )
    })
}

/// How many measurements lie inside the profile column's 80 % interval, and which do not: what
/// a user checking their own rows wants from the interval (the table has no room for it per
/// row; the JSON report has `predicted_interval_ms`).
fn intervals_held(out: &mut String, r: &CheckReport) {
    let with: Vec<(&str, bool)> = r
        .rows
        .iter()
        .filter_map(|x| {
            let [lo, hi] = x.predicted_interval_ms?;
            Some((x.id.as_str(), (lo..=hi).contains(&x.measured_ms)))
        })
        .collect();
    if with.is_empty() {
        return;
    }
    let outside: Vec<&str> = with.iter().filter(|w| !w.1).map(|w| w.0).collect();
    const NAMED: usize = 6;
    let _ = writeln!(
        out,
        "\nthe profile column's 80 % interval (for a stack it was not fitted to; in-sample for rows it was) holds {} of {} rows{}",
        with.len() - outside.len(),
        with.len(),
        match outside.len() {
            0 => String::new(),
            n if n <= NAMED => format!("; outside: {}", outside.join(", ")),
            n => format!(
                "; outside: {} and {} more (each row's predicted_interval_ms in the JSON report)",
                outside[..NAMED].join(", "),
                n - NAMED
            ),
        }
    );
}

fn summary_table(out: &mut String, title: &str, rows: &[Summary], loso: bool, loo: bool) {
    let name = |s: &Summary| match &s.gpu {
        Some(g) => format!("{} {g}", s.group),
        None => s.group.clone(),
    };
    // As wide as the longest name: a profile's path (`--framework my/prof/hf.toml`) with its
    // GPU pushed every later column off its header.
    let w = rows
        .iter()
        .map(|s| name(s).chars().count())
        .max()
        .unwrap_or(0)
        .max(18);
    let _ = writeln!(out, "\n{title}");
    let _ = writeln!(
        out,
        "  {:<w$} {:<7} {:<44} {:<44}{}{}",
        "framework",
        "sources",
        "roofline: median  worst  rows (worst row)",
        "profile: median  worst  rows (worst row)",
        if loso {
            "  leave-one-source-out: median  worst  rows (worst row)"
        } else {
            ""
        },
        if loo {
            "  leave-one-row-out: median  worst  rows (worst row)"
        } else {
            ""
        }
    );
    for s in rows {
        let _ = writeln!(
            out,
            "  {:<w$} {:<7} {:<44} {:<44}{}{}",
            name(s),
            s.source_groups,
            stats(&s.roofline),
            stats(&s.calibrated),
            if loso {
                format!("  {:<54}", stats(&s.loso))
            } else {
                String::new()
            },
            if loo {
                format!("  {}", stats(&s.loo))
            } else {
                String::new()
            }
        );
    }
}

/// The leave-one-source-out medians with each source group weighted equally, one line.
fn source_weighted(out: &mut String, rows: &[Summary]) {
    let parts: Vec<String> = rows
        .iter()
        .filter_map(|s| {
            s.loso_source_weighted
                .map(|m| format!("{} {:.1}%", s.group, m * 100.0))
        })
        .collect();
    summary_line(
        out,
        "leave-one-source-out median with each source group weighted equally (a new stack is one new source)",
        &parts,
    );
    let holds: Vec<String> = rows
        .iter()
        .filter_map(|s| {
            let c = s.loso_interval_coverage?;
            Some(format!(
                "{} {:.0}% ({}){}",
                s.group,
                c * 100.0,
                s.loso_interval_coverage_held_out
                    .map_or("-".to_string(), |h| format!("{:.0}%", h * 100.0)),
                s.interval_half_width
                    .map_or(String::new(), |w| format!(" ±{:.0}%", w * 100.0))
            ))
        })
        .collect();
    summary_line(
        out,
        "80 % intervals around those predictions hold (with σ, too, from the other sources alone) ±median half-width",
        &holds,
    );
}

/// `  label: a, b, c` under a table, when there is anything to list.
fn summary_line(out: &mut String, label: &str, parts: &[String]) {
    if !parts.is_empty() {
        let _ = writeln!(out, "  {label}: {}", parts.join(", "));
    }
}

/// A titled list after a blank line, one indented line per item; nothing when it is empty.
fn list(out: &mut String, title: &str, items: impl Iterator<Item = String>) {
    let mut items = items.peekable();
    if items.peek().is_none() {
        return;
    }
    let _ = writeln!(out, "\n{title}");
    for item in items {
        let _ = writeln!(out, "  {item}");
    }
}

fn table(r: &CheckReport) -> String {
    let loo = r.rows.iter().any(|x| x.loo_predicted_ms.is_some());
    let loso = r.rows.iter().any(|x| x.loso_predicted_ms.is_some());
    let mut out = String::new();
    let _ = writeln!(
        out,
        "aim-sim check: {} — predicted vs measured prefill/TTFT, error = predicted / measured − 1",
        r.file
    );
    if let Some(f) = &r.framework {
        let _ = writeln!(
            out,
            "every row priced under the '{f}' profile (--framework), not the one it names"
        );
    }
    if let Some(on) = &r.refit_on {
        let _ = writeln!(
            out,
            "cross-validation refits on: {on}; the profile column is each row's profile as it names it (a shipped one as fitted on reference/measurements.toml)"
        );
        if on.ends_with(" rows only") {
            let _ = writeln!(
                out,
                "  to refit on the published rows too: --refit-also reference/measurements.toml"
            );
        }
    }
    // Columns as wide as their longest entry (a profile file's path, a long id), at least the
    // widths of the published set's.
    let width = |min: usize, f: &dyn Fn(&super::RowCheck) -> usize| {
        r.rows.iter().map(f).max().unwrap_or(0).max(min)
    };
    let (wi, wf, wg) = (
        width(44, &|x| x.id.chars().count()),
        width(9, &|x| x.framework.chars().count()),
        width(9, &|x| x.gpu.chars().count()),
    );
    let _ = writeln!(
        out,
        "{:<wi$} {:<wf$} {:<wg$} {:>9} {:>9} {:>8} {:>9} {:>8}{}{}",
        "id",
        "framework",
        "gpu",
        "measured",
        "roofline",
        "error",
        "profile",
        "error",
        if loso { "      loso    error" } else { "" },
        if loo { "       loo    error" } else { "" }
    );
    for x in &r.rows {
        if let Some(why) = &x.not_priced {
            let _ = writeln!(
                out,
                "{:<wi$} {:<wf$} {:<wg$} {:>9.2}  not priced: {why}",
                x.id, x.framework, x.gpu, x.measured_ms
            );
            continue;
        }
        let _ = writeln!(
            out,
            "{:<wi$} {:<wf$} {:<wg$} {:>9.2} {:>9} {:>8} {:>9} {:>8}{}{}",
            x.id,
            x.framework,
            x.gpu,
            x.measured_ms,
            ms(x.roofline_ms),
            pct(x.roofline_error),
            ms(x.predicted_ms),
            pct(x.error),
            if loso {
                format!(
                    " {:>9} {:>8}{}",
                    ms(x.loso_predicted_ms),
                    pct(x.loso_error),
                    if x.loso_fallback.is_some() { "*" } else { " " }
                )
            } else {
                String::new()
            },
            if loo {
                format!(" {:>9} {:>8}", ms(x.loo_predicted_ms), pct(x.loo_error))
            } else {
                String::new()
            }
        );
    }
    intervals_held(&mut out, r);
    summary_table(
        &mut out,
        "|error| of predicted time (ms above):",
        &r.summary,
        loso,
        loo,
    );
    if loso {
        source_weighted(&mut out, &r.summary);
    }
    summary_table(&mut out, "per framework and GPU:", &r.by_gpu, loso, loo);
    if loso {
        // The footnote of the star, where a row carries one.
        let star = r.rows.iter().any(|x| x.loso_fallback.is_some());
        if star {
            let _ = writeln!(
                out,
                "\n* leave-one-source-out: the row's source was the only one of its framework or GPU; the fit fell back on pooled values, other frameworks or, with no rows left to fit, the ideal roofline (--format json: loso_fallback says which)"
            );
        }
        if r.rows
            .iter()
            .any(|x| x.predicted_ms.is_some() && x.loso_predicted_ms.is_none())
        {
            if !star {
                out.push('\n');
            }
            let _ = writeln!(
                out,
                "  a priced row without a leave-one-out figure is not fitted (timed = \"vision\", or fit = false): checked with the profile as shipped, which never saw it"
            );
        }
    }
    if !r.speedups.is_empty() {
        let _ = writeln!(
            out,
            "\nspeed-ups against the same source's baseline (baseline time / row time):"
        );
        let _ = writeln!(
            out,
            "{:<44} {:>9} {:>9} {:>8} {:>9} {:>8}{}{}",
            "id",
            "measured",
            "roofline",
            "error",
            "profile",
            "error",
            if loso { "      loso    error" } else { "" },
            if loo { "       loo    error" } else { "" }
        );
        for s in &r.speedups {
            let _ = writeln!(
                out,
                "{:<44} {:>8.2}× {:>8.2}× {:>8} {:>8.2}× {:>8}{}{}",
                s.id,
                s.measured_speedup,
                s.roofline_speedup,
                pct(Some(s.roofline_error)),
                s.predicted_speedup,
                pct(Some(s.error)),
                match (s.loso_speedup, s.loso_error) {
                    (Some(l), e) => format!(" {:>8.2}× {:>8}", l, pct(e)),
                    _ => String::new(),
                },
                match (s.loo_speedup, s.loo_error) {
                    (Some(l), e) => format!(" {:>8.2}× {:>8}", l, pct(e)),
                    _ => String::new(),
                }
            );
        }
        summary_table(
            &mut out,
            "|error| of predicted speed-ups:",
            &r.speedup_summary,
            loso,
            loo,
        );
        if loso {
            source_weighted(&mut out, &r.speedup_summary);
        }
    }
    list(
        &mut out,
        "warnings (what aim-sim prints for the same run):",
        r.rows
            .iter()
            .flat_map(|x| x.warnings.iter().map(move |w| format!("{}: {w}", x.id))),
    );
    for (title, items) in findings(r) {
        list(&mut out, &title, items.into_iter());
    }
    out
}

/// What the check found beside the errors, each a heading and its lines (empty lists
/// included): speed-ups not compared, runs of the same priced work measured apart, priced order
/// inverted, rows faster than their roofline. The table and the page list the same.
pub(crate) fn findings(r: &CheckReport) -> Vec<(String, Vec<String>)> {
    vec![
    (
        "speed-ups not compared:".to_string(),
        r.unpaired
            .iter()
            .map(|u| format!("{} (baseline {}): {}", u.id, u.baseline, u.reason))
            .collect(),
    ),
    (
        format!(
            "priced as the same work but measured more than {:.0} % apart (one source: the runs differ in what these rows do not price — work inside the timer, such as a method's own selection or, for prefill rows, the vision encoder (then say timed = \"ttft\"), or a variant of the harness):",
            super::SAME_WORK_SPREAD * 100.0
        ),
        r.same_work_apart.iter().map(|c| {
            let runs: Vec<String> = c
                .ids
                .iter()
                .zip(&c.measured_ms)
                .map(|(id, ms)| format!("{id} {ms:.2} ms"))
                .collect();
            format!(
                "{} ({}, priced {:.2} ms): {}",
                c.source_group,
                c.timed.name(),
                c.predicted_ms,
                runs.join(", ")
            )
        })
        .collect(),
    ),
    (
        format!(
            "priced as more work but measured more than {:.0} % faster (one source: what separates the runs is work the rows do not price, inside the timer):",
            super::SAME_WORK_SPREAD * 100.0
        ),
        r.order_inverted.iter().map(|p| {
            format!(
                "{} ({}): {} {:.2} ms (priced {:.2}) < {} {:.2} ms (priced {:.2})",
                p.source_group,
                p.timed.name(),
                p.faster,
                p.measured_ms[0],
                p.predicted_ms[0],
                p.slower,
                p.measured_ms[1],
                p.predicted_ms[1]
            )
        })
        .collect(),
    ),
    (
        "measured faster than the ideal roofline (the priced work at the GPU's peaks, no overhead: no run of it is faster; the source timed less than the row says, or it ran less than is priced — read the row again):".to_string(),
        r.below_roofline.iter().map(|b| {
            format!(
                "{} ({}): {:.2} ms measured, {:.2} ms at the roofline",
                b.id,
                b.timed.name(),
                b.measured_ms,
                b.roofline_ms
            )
        })
        .collect(),
    ),
    ]
}

fn csv(r: &CheckReport) -> String {
    let mut out = String::from(
        "id,framework,gpu,model,timed,source_group,measured_ms,roofline_ms,roofline_error,predicted_ms,error,predicted_low_ms,predicted_high_ms,loso_predicted_ms,loso_error,loso_fallback,loo_predicted_ms,loo_error,not_priced\n",
    );
    let f = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    for x in &r.rows {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            x.id,
            x.framework,
            x.gpu,
            x.model,
            x.timed.name(),
            crate::report::csv_field(&x.source_group),
            x.measured_ms,
            f(x.roofline_ms),
            f(x.roofline_error),
            f(x.predicted_ms),
            f(x.error),
            f(x.predicted_interval_ms.map(|i| i[0])),
            f(x.predicted_interval_ms.map(|i| i[1])),
            f(x.loso_predicted_ms),
            f(x.loso_error),
            crate::report::csv_field(x.loso_fallback.as_deref().unwrap_or("")),
            f(x.loo_predicted_ms),
            f(x.loo_error),
            crate::report::csv_field(x.not_priced.as_deref().unwrap_or(""))
        );
    }
    out
}

/// Writes a check report in the chosen format.
pub fn render(r: &CheckReport, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => table(r),
        TextFormat::Csv => csv(r),
        TextFormat::Json => crate::report::json_text(r),
        TextFormat::Jsonl => return Err(format.lacks("a check report")),
    })
}
