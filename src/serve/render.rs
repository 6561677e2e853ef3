//! A serving run as a table, JSON (everything) or CSV (one row per request).

use super::{Latency, MaxRate, ServeReport};
use crate::error::Result;
use crate::report::{json_text, TextFormat};
use std::fmt::Write;

/// Renders one run.
pub fn render(r: &ServeReport, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => table(r),
        TextFormat::Json => json_text(r),
        TextFormat::Csv => csv(r),
        TextFormat::Jsonl => return Err(format.lacks("a serving run")),
    })
}

/// Renders a `--find-max-rate` answer: the rate, then the run at that rate.
pub(crate) fn render_max_rate(m: &MaxRate, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Table => {
            let interval = m
                .rate_interval_per_s
                .map_or(String::new(), |r| format!(" (80 %: {})", rate_range(r)));
            let mut s = format!(
                "max rate: {:.3} requests/s{interval} with {:.0} % of requests within{} (searched {} rates)\n\n",
                m.rate_per_s,
                100.0 * m.at_max.slo.attainment,
                slo_text(&m.at_max),
                m.tried.len()
            );
            s.push_str(&table(&m.at_max));
            s
        }
        TextFormat::Json => json_text(m),
        TextFormat::Csv => csv(&m.at_max),
        TextFormat::Jsonl => return Err(format.lacks("a max-rate answer")),
    })
}

/// A max-rate interval as text: its high end at the search's limit is said as such (the
/// targets hold beyond the rates searched), not printed as a rate of 1000000.
pub(crate) fn rate_range([lo, hi]: [f64; 2]) -> String {
    if hi >= super::workload::MAX_RATE_PER_S {
        format!(
            "{lo:.3} to beyond {:e}, the highest rate searched",
            super::workload::MAX_RATE_PER_S
        )
    } else {
        format!("{lo:.3}–{hi:.3}")
    }
}

fn slo_text(r: &ServeReport) -> String {
    let mut s = String::new();
    if let Some(t) = r.slo.ttft_s {
        let _ = write!(s, " TTFT ≤ {t} s");
    }
    if let Some(t) = r.slo.tpot_s {
        let _ = write!(s, " TPOT ≤ {} ms", t * 1e3);
    }
    s
}

fn ms(l: &Latency) -> String {
    format!(
        "{:>10.1} {:>10.1} {:>10.1} {:>10.1}",
        l.mean_s * 1e3,
        l.p50_s * 1e3,
        l.p90_s * 1e3,
        l.p99_s * 1e3
    )
}

fn table(r: &ServeReport) -> String {
    let s = &r.summary;
    let k = &r.kv;
    let mut o = String::new();
    let rate = r.rate_per_s.map_or("trace".to_string(), |x| {
        format!("{x:.3} requests/s (Poisson)")
    });
    let _ = writeln!(
        o,
        "serve: {} on {} (tp {}) · framework {} · schedule {} · {}",
        r.model, r.gpu, r.tp, r.framework, r.schedule, rate
    );
    let l = &r.limits;
    let _ = writeln!(
        o,
        "engine: max_num_seqs {} · max_num_batched_tokens {} · chunked prefill {} · block {} tokens · gpu_memory_utilization {}",
        l.max_num_seqs,
        l.max_num_batched_tokens,
        if l.chunked_prefill { "on" } else { "off" },
        l.block_size,
        l.gpu_memory_utilization
    );
    let _ = writeln!(
        o,
        "KV cache: {:.2} GB ({} layer-blocks) after {:.2} GB weights and {:.2} GB activations · a request holds {} layer-blocks at full length → {} fit at once",
        k.capacity_bytes / 1e9,
        k.layer_blocks,
        k.weights_bytes / 1e9,
        k.activation_reserve_bytes / 1e9,
        k.blocks_per_request,
        k.requests_that_fit
    );
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  latency ms        {:>10} {:>10} {:>10} {:>10}",
        "mean", "p50", "p90", "p99"
    );
    let _ = writeln!(o, "  TTFT              {}", ms(&s.ttft));
    let _ = writeln!(o, "  TPOT              {}", ms(&s.tpot));
    let _ = writeln!(o, "  end to end        {}", ms(&s.e2e));
    let _ = writeln!(o);
    let _ = writeln!(
        o,
        "  requests {} in {:.2} s · {:.3} requests/s · {:.1} output tokens/s",
        s.requests, s.makespan_s, s.throughput_requests_per_s, s.output_tokens_per_s
    );
    if r.slo.ttft_s.is_some() || r.slo.tpot_s.is_some() {
        let _ = writeln!(
            o,
            "  SLO{}: {:.1} % met · goodput {:.3} requests/s",
            slo_text(r),
            100.0 * s.slo_attainment,
            s.goodput_requests_per_s
        );
    }
    let _ = writeln!(
        o,
        "  batch mean {:.1}, max {} · KV use mean {:.1} %, peak {:.1} % · preemptions {} · steps {}",
        s.mean_batch,
        s.max_batch,
        100.0 * s.mean_kv_utilization,
        100.0 * s.peak_kv_utilization,
        s.preemptions,
        s.steps
    );
    let _ = writeln!(
        o,
        "  prefill alone (simulate's TTFT): {:.1} ms{}",
        s.prefill_alone_s * 1e3,
        if r.include_vision {
            ", vision encoder included"
        } else {
            // TTFT without the encoder reads as a whole request's: say it is the LLM's.
            ", the LLM's alone: no vision encoder (--include-vision prices it, in TTFT and memory)"
        }
    );
    if let Some(i) = &r.interval {
        let ms = |[lo, hi]: [f64; 2]| format!("{:.1}–{:.1}", lo * 1e3, hi * 1e3);
        let [f_lo, f_hi] = i.time_factors;
        // An anchored profile's interval is what the anchor leaves, on the stack it timed.
        let whose = if r.framework.ends_with("(anchored)") {
            "the anchored profile's interval of a run's time, on the stack the anchor timed"
        } else {
            "the profile's interval of a run's time, on a stack it was not fitted to"
        };
        let _ = writeln!(o, "  80 %, every step ×{f_lo:.2}–×{f_hi:.2} ({whose}):");
        let _ = writeln!(
            o,
            "    TTFT p50 {} · p90 {} · p99 {} ms · TPOT p50 {} · p90 {} ms · end to end p50 {} ms",
            ms(i.ttft_p50_s),
            ms(i.ttft_p90_s),
            ms(i.ttft_p99_s),
            ms(i.tpot_p50_s),
            ms(i.tpot_p90_s),
            ms(i.e2e_p50_s)
        );
        let [t_lo, t_hi] = i.throughput_requests_per_s;
        let [o_lo, o_hi] = i.output_tokens_per_s;
        let mut line =
            format!("    {t_lo:.3}–{t_hi:.3} requests/s · {o_lo:.1}–{o_hi:.1} output tokens/s");
        if r.slo.ttft_s.is_some() || r.slo.tpot_s.is_some() {
            let [a_lo, a_hi] = i.slo_attainment;
            let _ = write!(line, " · SLO {:.1}–{:.1} % met", 100.0 * a_lo, 100.0 * a_hi);
        }
        let _ = writeln!(o, "{line}");
    }
    for n in &r.notes {
        let _ = writeln!(o, "note: {n}");
    }
    for w in &r.warnings {
        let _ = writeln!(o, "warning: {w}");
    }
    o
}

fn csv(r: &ServeReport) -> String {
    let mut o = String::from(
        "id,arrival_s,frames,text_tokens,prompt_tokens,output_tokens,first_token_s,finish_s,ttft_s,tpot_s,e2e_s,preemptions\n",
    );
    for q in &r.requests {
        let _ = writeln!(
            o,
            "{},{},{},{},{},{},{},{},{},{},{},{}",
            q.id,
            q.arrival_s,
            q.frames,
            q.text_tokens,
            q.prompt_tokens,
            q.output_tokens,
            q.first_token_s,
            q.finish_s,
            q.ttft_s,
            q.tpot_s,
            q.e2e_s,
            q.preemptions
        );
    }
    o
}

#[cfg(test)]
mod tests {
    use super::rate_range;

    /// A max rate whose fast end holds past the search's limit says so, rather than printing
    /// the limit as a rate ("80 %: 0.000–1000000.000").
    #[test]
    fn a_rate_range_at_the_search_limit_is_said_as_such() {
        assert_eq!(rate_range([2.5, 7.25]), "2.500–7.250");
        assert_eq!(
            rate_range([0.0, 1e6]),
            "0.000 to beyond 1e6, the highest rate searched"
        );
    }
}
