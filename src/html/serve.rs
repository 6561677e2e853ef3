//! The page of a serving run (`aim-sim serve --format html`): summary cards, a timeline of
//! queue length, batch size and KV-cache use, latency CDFs (TTFT, TPOT, end to end), the
//! `--find-max-rate` search, and every figure again as tables. With `--schedules a,b` the
//! schedules share each chart (one line per schedule in its palette colour, as in `compare`)
//! and each table (a `schedule` column). Under a fitted profile a table of 80 % intervals
//! follows the summary (the text report's interval lines, [`crate::serve::ServeInterval`]).

use super::{cards, chart, fixed, num, section, settings_table, style_json, txt, Page, Table};
use crate::error::Result;
use crate::palette;
use crate::serve::query::{Answer, Comparison};
use crate::serve::{Latency, ServeReport};
use serde_json::{json, Value};

const SERVE_JS: &str = include_str!("assets/serve.js");

/// One schedule's result on the page: its name, its run (at the highest rate when searched),
/// and the search's tried rates.
struct Shown<'a> {
    name: &'a str,
    run: &'a ServeReport,
    max_rate: Option<(f64, &'a [(f64, f64)])>,
    /// The highest rate's 80 % interval (a search under a fitted profile).
    rate_interval: Option<[f64; 2]>,
}

fn shown<'a>(name: &'a str, a: &'a Answer) -> Shown<'a> {
    match a {
        Answer::Run(r) => Shown {
            name,
            run: r,
            max_rate: None,
            rate_interval: None,
        },
        Answer::MaxRate(m) => Shown {
            name,
            run: &m.at_max,
            max_rate: Some((m.rate_per_s, &m.tried)),
            rate_interval: m.rate_interval_per_s,
        },
    }
}

/// The page of one run or rate search.
pub fn serve(a: &Answer) -> Result<String> {
    let name = match a {
        Answer::Run(r) => r.schedule.as_str(),
        Answer::MaxRate(m) => m.at_max.schedule.as_str(),
    };
    page(&[shown(name, a)])
}

/// The page of several schedules on the same requests (`--schedules`).
pub fn serve_compare(c: &Comparison) -> Result<String> {
    let runs: Vec<Shown> = c
        .schedules
        .iter()
        .zip(&c.answers)
        .map(|(n, a)| shown(n, a))
        .collect();
    page(&runs)
}

fn ms(v: f64) -> String {
    format!("{} ms", fixed(v * 1e3, 1))
}

fn slo_text(r: &ServeReport) -> String {
    let mut parts = Vec::new();
    if let Some(t) = r.slo.ttft_s {
        parts.push(format!("TTFT ≤ {t} s"));
    }
    if let Some(t) = r.slo.tpot_s {
        parts.push(format!("TPOT ≤ {} ms", t * 1e3));
    }
    parts.join(", ")
}

/// The 80 % intervals of a run under a fitted profile, one row per schedule (the text report's
/// interval lines): `None` under the roofline, which states none.
fn intervals(runs: &[Shown], searched: bool, has_slo: bool) -> Option<String> {
    if runs.iter().all(|sh| sh.run.interval.is_none()) {
        return None;
    }
    let ms = |[lo, hi]: [f64; 2]| {
        let (lo_ms, hi_ms) = (
            crate::report::interval_ms(lo),
            crate::report::interval_ms(hi),
        );
        super::num_as(lo * 1e3, format!("{lo_ms}–{hi_ms}"))
    };
    let rate = |[lo, hi]: [f64; 2], decimals: usize| {
        super::num_as(
            lo,
            format!("{}–{}", fixed(lo, decimals), fixed(hi, decimals)),
        )
    };
    let mut columns = vec![("schedule", false), ("every step ×", true)];
    if searched {
        columns.push(("max rate /s", true));
    }
    columns.extend([
        ("TTFT p50 ms", true),
        ("TTFT p90 ms", true),
        ("TTFT p99 ms", true),
        ("TPOT p50 ms", true),
        ("TPOT p90 ms", true),
        ("e2e p50 ms", true),
        ("req/s", true),
        ("out tok/s", true),
    ]);
    if has_slo {
        columns.push(("SLO met %", true));
    }
    let mut t = Table::new(
        "intervals",
        "The same requests run again with every step's time × the ends of the profile's 80 % interval of a run's time (a stack it was not fitted to speeds or slows every kernel alike); each figure is its range over the three runs, bounded by the requests served at the GPU's peaks (the roofline run). Queueing widens the tail near saturation.",
        &columns,
    )
    .wrapping_headers();
    for sh in runs {
        let Some(i) = &sh.run.interval else {
            let mut row = vec![txt(sh.name)];
            row.extend((1..columns.len()).map(|_| txt("-")));
            t.row(row);
            continue;
        };
        let [f_lo, f_hi] = i.time_factors;
        let mut row = vec![
            txt(sh.name),
            super::num_as(f_lo, format!("×{}–×{}", fixed(f_lo, 2), fixed(f_hi, 2))),
        ];
        if searched {
            row.push(sh.rate_interval.map_or_else(
                || txt("-"),
                |r| super::num_as(r[0], crate::serve::render::rate_range(r)),
            ));
        }
        row.extend([
            ms(i.ttft_p50_s),
            ms(i.ttft_p90_s),
            ms(i.ttft_p99_s),
            ms(i.tpot_p50_s),
            ms(i.tpot_p90_s),
            ms(i.e2e_p50_s),
            rate(i.throughput_requests_per_s, 3),
            rate(i.output_tokens_per_s, 1),
        ]);
        if has_slo {
            let [a_lo, a_hi] = i.slo_attainment;
            row.push(rate([100.0 * a_lo, 100.0 * a_hi], 1));
        }
        t.row(row);
    }
    Some(t.render())
}

fn page(runs: &[Shown]) -> Result<String> {
    let names: Vec<&str> = runs.iter().map(|s| s.name).collect();
    let styles = palette::line_styles(&names);
    let first = runs[0].run;
    let searched = runs.iter().any(|s| s.max_rate.is_some());
    let has_slo = first.slo.ttft_s.is_some() || first.slo.tpot_s.is_some();
    let title = if runs.len() == 1 {
        format!(
            "Serve {}: {} on {}{}",
            first.schedule,
            first.model,
            first.gpu,
            if searched { " (highest rate)" } else { "" }
        )
    } else {
        format!(
            "Serve {} schedules: {} on {}{}",
            runs.len(),
            first.model,
            first.gpu,
            if searched { " (highest rates)" } else { "" }
        )
    };
    let l = &first.limits;
    let subtitle = format!(
        "tp {} · framework {} · {} · max_num_seqs {} · max_num_batched_tokens {} · chunked prefill {} · block {} tokens{}",
        first.tp,
        first.framework,
        match first.rate_per_s {
            Some(r) if !searched => format!("{r:.3} requests/s (Poisson)"),
            Some(_) => "Poisson arrivals".to_string(),
            None => "trace".to_string(),
        },
        l.max_num_seqs,
        l.max_num_batched_tokens,
        if l.chunked_prefill { "on" } else { "off" },
        l.block_size,
        if has_slo {
            format!(
                " · targets {} for {:.0} % of requests",
                slo_text(first),
                100.0 * first.slo.attainment
            )
        } else {
            String::new()
        }
    );

    // The input's warnings, each once, first as on every page (the same for most schedules).
    let mut warnings: Vec<String> = Vec::new();
    for w in runs.iter().flat_map(|s| &s.run.warnings) {
        if !warnings.contains(w) {
            warnings.push(w.clone());
        }
    }
    let mut body = super::messages(&warnings, &[]);
    if runs.len() == 1 {
        let s = &first.summary;
        let mut items = Vec::new();
        if let Some((rate, tried)) = runs[0].max_rate {
            items.push((
                "max rate".to_string(),
                format!("{} req/s", fixed(rate, 3)),
                format!(
                    "{}{:.0} % within {} ({} rates tried)",
                    runs[0].rate_interval.map_or(String::new(), |r| format!(
                        "80 %: {} req/s · ",
                        crate::serve::render::rate_range(r)
                    )),
                    100.0 * s.slo_attainment,
                    slo_text(first),
                    tried.len()
                ),
            ));
        }
        items.extend([
            (
                "TTFT p50".to_string(),
                ms(s.ttft.p50_s),
                format!("p90 {} · p99 {}", ms(s.ttft.p90_s), ms(s.ttft.p99_s)),
            ),
            (
                "TPOT p50".to_string(),
                ms(s.tpot.p50_s),
                format!("p90 {} · p99 {}", ms(s.tpot.p90_s), ms(s.tpot.p99_s)),
            ),
            (
                "throughput".to_string(),
                format!("{} req/s", fixed(s.throughput_requests_per_s, 3)),
                format!(
                    "{} output tokens/s · {} requests in {} s",
                    fixed(s.output_tokens_per_s, 1),
                    s.requests,
                    fixed(s.makespan_s, 2)
                ),
            ),
            (
                "KV cache".to_string(),
                format!("{} fit", first.kv.requests_that_fit),
                format!(
                    "{} GB · peak use {} % · {} preemptions",
                    fixed(first.kv.capacity_bytes / 1e9, 2),
                    fixed(100.0 * s.peak_kv_utilization, 1),
                    s.preemptions
                ),
            ),
        ]);
        if has_slo && runs[0].max_rate.is_none() {
            items.push((
                "goodput".to_string(),
                format!("{} req/s", fixed(s.goodput_requests_per_s, 3)),
                format!(
                    "{} % within {}",
                    fixed(100.0 * s.slo_attainment, 1),
                    slo_text(first)
                ),
            ));
        }
        body.push_str(&cards(&items));
    }

    // The summary: one row per schedule.
    let mut t = Table::new(
        "summary",
        "One row per schedule; latencies in ms (means and p90: Latencies below); rate: the Poisson rate run (--find-max-rate: the highest meeting the targets); fit: requests the KV cache holds at full length",
        &[
            ("schedule", false),
            ("rate /s", true),
            ("req/s", true),
            ("out tok/s", true),
            ("TTFT p50", true),
            ("TTFT p99", true),
            ("TPOT p50", true),
            ("TPOT p99", true),
            ("e2e p50", true),
            ("e2e p99", true),
            ("SLO met %", true),
            ("goodput req/s", true),
            ("batch mean", true),
            ("batch max", true),
            ("KV mean %", true),
            ("KV peak %", true),
            ("fit", true),
            ("preempt", true),
            ("prefill alone ms", true),
        ],
    )
    .wrapping_headers();
    for sh in runs {
        let r = sh.run;
        let s = &r.summary;
        t.row(vec![
            txt(sh.name),
            r.rate_per_s.map_or_else(|| txt("trace"), |v| num(v, 3)),
            num(s.throughput_requests_per_s, 3),
            num(s.output_tokens_per_s, 1),
            num(s.ttft.p50_s * 1e3, 1),
            num(s.ttft.p99_s * 1e3, 1),
            num(s.tpot.p50_s * 1e3, 1),
            num(s.tpot.p99_s * 1e3, 1),
            num(s.e2e.p50_s * 1e3, 1),
            num(s.e2e.p99_s * 1e3, 1),
            // No target, nothing met: "100.0" read as a result.
            if has_slo {
                num(100.0 * s.slo_attainment, 1)
            } else {
                txt("—")
            },
            if has_slo {
                num(s.goodput_requests_per_s, 3)
            } else {
                txt("—")
            },
            num(s.mean_batch, 1),
            num(s.max_batch as f64, 0),
            num(100.0 * s.mean_kv_utilization, 1),
            num(100.0 * s.peak_kv_utilization, 1),
            num(r.kv.requests_that_fit as f64, 0),
            num(s.preemptions as f64, 0),
            num(s.prefill_alone_s * 1e3, 1),
        ]);
    }
    body.push_str(&section("summary-section", "Summary", &t.render()));
    if let Some(table) = intervals(runs, searched, has_slo) {
        body.push_str(&section("intervals-section", "80 % intervals", &table));
    }
    if !first.notes.is_empty() {
        // What the runs were priced under (an anchor's refit), the same for every schedule.
        body.push_str(&section(
            "notes",
            "Notes",
            &super::messages(&[], &first.notes),
        ));
    }

    if searched {
        let mut st = Table::new(
            "search",
            "Every rate the search ran, with the share of requests meeting the targets",
            &[
                ("schedule", false),
                ("rate /s", true),
                ("SLO met %", true),
                ("meets", false),
            ],
        );
        for sh in runs {
            if let Some((_, tried)) = sh.max_rate {
                for &(rate, att) in tried {
                    st.row(vec![
                        txt(sh.name),
                        num(rate, 4),
                        num(100.0 * att, 1),
                        txt(if att >= sh.run.slo.attainment {
                            "yes"
                        } else {
                            "no"
                        }),
                    ]);
                }
            }
        }
        let content = format!(
            "{}{}",
            chart(
                "chart-search",
                "Share of requests meeting the targets at each rate tried",
                "Each rate the search ran (doubling, then bisection); dashed: the required share; the highest rate meeting it is marked."
            ),
            st.render()
        );
        body.push_str(&section("search-section", "Rate search", &content));
    }

    // The timeline.
    let mut tl = Table::new(
        "timeline",
        "The timeline in intervals (time-weighted means over each)",
        &[
            ("schedule", false),
            ("start s", true),
            ("end s", true),
            ("queued", true),
            ("batch", true),
            ("KV use %", true),
        ],
    );
    for sh in runs {
        for b in &sh.run.timeline {
            tl.row(vec![
                txt(sh.name),
                num(b.start_s, 3),
                num(b.end_s, 3),
                num(b.queued, 2),
                num(b.batch, 2),
                num(100.0 * b.kv_utilization, 2),
            ]);
        }
    }
    let grid = format!(
        "<div class=\"row3\" id=\"timeline-grid\">{}{}{}</div>\n{}",
        chart(
            "chart-queue",
            "Requests waiting over time",
            "Requests waiting to be scheduled, averaged over each interval."
        ),
        chart(
            "chart-batch",
            "Requests per step over time",
            "Requests in a step (prefills and decodes), averaged over each interval."
        ),
        chart(
            "chart-kv",
            "KV-cache use over time",
            "Share of the KV blocks in use, averaged over each interval."
        ),
        tl.render()
    );
    body.push_str(&section("timeline-section", "Timeline", &grid));

    // The latencies.
    let mut lt = Table::new(
        "latencies",
        "Latencies, ms (nearest-rank percentiles)",
        &[
            ("schedule", false),
            ("latency", false),
            ("mean", true),
            ("p50", true),
            ("p90", true),
            ("p99", true),
            ("max", true),
        ],
    );
    for sh in runs {
        let s = &sh.run.summary;
        let reqs = &sh.run.requests;
        let max = |f: fn(&crate::serve::RequestResult) -> f64| {
            reqs.iter().map(f).fold(f64::NAN, f64::max)
        };
        let rows: [(&str, &Latency, f64); 3] = [
            ("TTFT", &s.ttft, max(|q| q.ttft_s)),
            ("TPOT", &s.tpot, max(|q| q.tpot_s)),
            ("end to end", &s.e2e, max(|q| q.e2e_s)),
        ];
        for (label, lat, mx) in rows {
            lt.row(vec![
                txt(sh.name),
                txt(label),
                num(lat.mean_s * 1e3, 2),
                num(lat.p50_s * 1e3, 2),
                num(lat.p90_s * 1e3, 2),
                num(lat.p99_s * 1e3, 2),
                num(mx * 1e3, 2),
            ]);
        }
    }
    let mut rt = Table::new(
        "requests",
        "Every request (the CDFs above are these columns); times in s, latencies in ms",
        &[
            ("schedule", false),
            ("id", true),
            ("arrival s", true),
            ("frames", true),
            ("text", true),
            ("prompt tokens", true),
            ("output", true),
            ("TTFT ms", true),
            ("TPOT ms", true),
            ("e2e ms", true),
            ("preempt", true),
        ],
    );
    for sh in runs {
        for q in &sh.run.requests {
            rt.row(vec![
                txt(sh.name),
                num(q.id as f64, 0),
                num(q.arrival_s, 3),
                num(q.frames as f64, 0),
                num(q.text_tokens as f64, 0),
                num(q.prompt_tokens as f64, 0),
                num(q.output_tokens as f64, 0),
                num(q.ttft_s * 1e3, 2),
                num(q.tpot_s * 1e3, 2),
                num(q.e2e_s * 1e3, 2),
                num(q.preemptions as f64, 0),
            ]);
        }
    }
    let cdfs = format!(
        "<div class=\"row3\" id=\"cdf-grid\">{}{}{}</div>\n{}{}",
        chart(
            "chart-ttft",
            "CDF of time to first token",
            "Share of requests whose TTFT is at most x; marks: p50, p90, p99; dashed: the target."
        ),
        chart(
            "chart-tpot",
            "CDF of time per output token",
            "Share of requests whose TPOT is at most x; marks: p50, p90, p99; dashed: the target."
        ),
        chart(
            "chart-e2e",
            "CDF of end-to-end latency",
            "Share of requests finished within x of arriving; marks: p50, p90, p99."
        ),
        lt.render(),
        rt.render()
    );
    body.push_str(&section("latency-section", "Latencies", &cdfs));

    // Memory and engine settings, per schedule.
    let mut kv = Table::new(
        "kv",
        "KV cache per GPU: what the memory leaves after weights and the activation reserve",
        &[
            ("schedule", false),
            ("capacity GB", true),
            ("weights GB", true),
            ("activations GB", true),
            ("layer-blocks", true),
            ("blocks per request", true),
            ("requests that fit", true),
        ],
    );
    for sh in runs {
        let k = &sh.run.kv;
        kv.row(vec![
            txt(sh.name),
            num(k.capacity_bytes / 1e9, 2),
            num(k.weights_bytes / 1e9, 2),
            num(k.activation_reserve_bytes / 1e9, 2),
            num(k.layer_blocks as f64, 0),
            num(k.blocks_per_request as f64, 0),
            num(k.requests_that_fit as f64, 0),
        ]);
    }
    let limits = serde_json::to_value(&first.limits).expect("limits serialise");
    body.push_str(&section(
        "memory-section",
        "Memory and engine",
        &format!(
            "{}{}",
            kv.render(),
            settings_table("limits", "Engine limits (vLLM's names)", &limits)
        ),
    ));

    let data_runs: Vec<Value> = runs
        .iter()
        .zip(&styles)
        .map(|(sh, st)| {
            let r = sh.run;
            let pick = |f: fn(&crate::serve::RequestResult) -> f64| -> Vec<f64> {
                r.requests.iter().map(f).collect()
            };
            json!({
                "name": sh.name,
                "style": style_json(*st),
                "rate_per_s": r.rate_per_s,
                "max_rate_per_s": sh.max_rate.map(|m| m.0),
                "tried": sh.max_rate.map(|m| m.1),
                "summary": r.summary,
                "slo": r.slo,
                "timeline": r.timeline,
                "ttft_s": pick(|q| q.ttft_s),
                "tpot_s": pick(|q| q.tpot_s),
                "e2e_s": pick(|q| q.e2e_s),
            })
        })
        .collect();
    Ok(Page {
        kind: "serve",
        title,
        subtitle,
        body,
        data: json!({ "page": "serve", "runs": data_runs }),
        script: SERVE_JS,
    }
    .render())
}
