//! A serving question as plain data — the workload, the engine's limits, the targets — shared
//! by the command line (`aim-sim serve`) and the Python package (`aim_sim.serve`).

use super::render;
use super::{find_max_rate, Arrivals, Dist, Limits, MaxRate, Request, ServeReport, Server, Slo};
use crate::error::{
    keys::{
        ALL_LOGITS, ANCHOR, ANCHOR_MS, FIND_MAX_RATE, FRAMES_DIST, GEN_TOKENS, KV_CACHE_GB,
        OUTPUT_TOKENS, SCHEDULES, SLO_ATTAINMENT, SLO_TPOT, SLO_TTFT, TEXT_DIST, TRACE,
    },
    Key,
};
use crate::error::{Error, Result};
use crate::report::TextFormat;
use crate::scenario::Scenario;
use crate::spec::Spec;
use serde::{Deserialize, Serialize};

/// Everything `serve` asks besides the single run's spec; vLLM's defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Query {
    /// Poisson rate, requests/s (with `find_max_rate`: where the search starts).
    pub rate: f64,
    /// Requests [default: 1000 unless `duration` is given].
    pub requests: Option<u64>,
    pub duration: Option<f64>,
    pub seed: u64,
    /// `N`, `uniform:MIN:MAX` or `exp:MEAN`.
    pub output_tokens: String,
    /// Frames drawn from a distribution [default: the spec's frames].
    pub frames_dist: Option<String>,
    /// Text tokens drawn from a distribution [default: the spec's text tokens].
    pub text_dist: Option<String>,
    pub max_num_seqs: u64,
    pub max_num_batched_tokens: u64,
    pub chunked_prefill: bool,
    pub block_size: u64,
    pub gpu_memory_utilization: f64,
    /// KV-cache size per GPU in GB instead of what the memory leaves.
    pub kv_cache_gb: Option<f64>,
    pub slo_ttft: Option<f64>,
    pub slo_tpot: Option<f64>,
    pub slo_attainment: f64,
    pub find_max_rate: bool,
}

impl Default for Query {
    fn default() -> Query {
        let l = Limits::default();
        Query {
            rate: 1.0,
            requests: None,
            duration: None,
            seed: 0,
            output_tokens: "64".into(),
            frames_dist: None,
            text_dist: None,
            max_num_seqs: l.max_num_seqs,
            max_num_batched_tokens: l.max_num_batched_tokens,
            chunked_prefill: l.chunked_prefill,
            block_size: l.block_size,
            gpu_memory_utilization: l.gpu_memory_utilization,
            kv_cache_gb: None,
            slo_ttft: None,
            slo_tpot: None,
            slo_attainment: 0.9,
            find_max_rate: false,
        }
    }
}

/// A run, or the highest rate meeting the targets.
#[derive(Debug, Clone, Serialize)]
#[serde(untagged)]
pub enum Answer {
    Run(Box<ServeReport>),
    MaxRate(Box<MaxRate>),
}

impl Answer {
    pub fn render(&self, format: TextFormat) -> Result<String> {
        match self {
            Answer::Run(r) => render::render(r, format),
            Answer::MaxRate(m) => render::render_max_rate(m, format),
        }
    }
}

impl Query {
    pub fn limits(&self) -> Result<Limits> {
        if let Some(gb) = self.kv_cache_gb {
            if !(gb.is_finite() && gb > 0.0) {
                return Err(Error::invalid(format!(
                    "{KV_CACHE_GB} {gb}: give a positive size"
                )));
            }
            // Past f64 in bytes: the message said "--kv-cache-gb inf".
            if !(gb * 1e9).is_finite() {
                return Err(Error::invalid(format!(
                    "{KV_CACHE_GB} {}: larger than any GPU's memory; give the GB the engine may use for its KV cache",
                    crate::error::bounded(gb)
                )));
            }
        }
        Ok(Limits {
            max_num_seqs: self.max_num_seqs,
            max_num_batched_tokens: self.max_num_batched_tokens,
            chunked_prefill: self.chunked_prefill,
            block_size: self.block_size,
            gpu_memory_utilization: self.gpu_memory_utilization,
            kv_cache_bytes: self.kv_cache_gb.map(|g| g * 1e9),
        })
    }

    pub fn slo(&self) -> Result<Slo> {
        for (name, v) in [(SLO_TTFT, self.slo_ttft), (SLO_TPOT, self.slo_tpot)] {
            if let Some(v) = v {
                if !(v.is_finite() && v > 0.0) {
                    return Err(Error::invalid(format!(
                        "{name} {v}: give a positive number of seconds"
                    )));
                }
            }
        }
        // Checked on every run, not only the rate search's: a plain run reports the share
        // met against it, and 1.5 or 0 there was a target no run can have.
        if !(self.slo_attainment > 0.0 && self.slo_attainment <= 1.0) {
            return Err(Error::invalid(format!(
                "{SLO_ATTAINMENT} {}: give a share in (0, 1] (0.9 is nine requests in ten)",
                crate::error::bounded(self.slo_attainment)
            )));
        }
        Ok(Slo {
            ttft_s: self.slo_ttft,
            tpot_s: self.slo_tpot,
            attainment: self.slo_attainment,
        })
    }

    /// The Poisson workload, lengths from the scenario unless drawn.
    pub fn arrivals(&self, s: &Scenario) -> Result<Arrivals> {
        let dist = |flag: &Option<String>, name: Key, default: u64| match flag {
            Some(t) => Dist::parse(t, name),
            None => Ok(Dist::Fixed { value: default }),
        };
        let text_tokens = dist(&self.text_dist, TEXT_DIST, s.input.text_tokens)?;
        let output_tokens = Dist::parse(&self.output_tokens, OUTPUT_TOKENS)?;
        // A stated 0 would be run as 1 (below, an exponential's rare 0 is): refused instead.
        for (d, name, why) in [
            (
                &text_tokens,
                TEXT_DIST,
                "a prompt holds at least one text token",
            ),
            (
                &output_tokens,
                OUTPUT_TOKENS,
                "every request generates at least one token, the prefill's",
            ),
        ] {
            if d.min() == Some(0) {
                // "--output-tokens can give 0" read oddly of a plain 0.
                return Err(Error::invalid(match d {
                    Dist::Fixed { .. } => format!("{name} 0: {why}; give at least 1"),
                    _ => format!(
                        "{name} can draw 0: {why}; give a distribution whose values are at least 1"
                    ),
                }));
            }
        }
        Ok(Arrivals {
            rate_per_s: self.rate,
            requests: self.requests.or(self.duration.is_none().then_some(1000)),
            duration_s: self.duration,
            frames: dist(&self.frames_dist, FRAMES_DIST, s.input.frames)?,
            text_tokens,
            output_tokens,
            seed: self.seed,
        })
    }
}

/// Answers `query` on `spec`: the Poisson run (or `trace`'s requests), or the rate search.
pub fn answer(spec: &Spec, query: &Query, trace: Option<Vec<Request>>) -> Result<Answer> {
    if spec.gen_tokens > 0 {
        return Err(Error::invalid(format!(
            "serve generates {OUTPUT_TOKENS} per request: drop {GEN_TOKENS}"
        )));
    }
    // The engine's steps compute the last position's logits, as vLLM does; the flag priced
    // only the "prefill alone" line, which then disagreed with a lone request's TTFT.
    if spec.all_logits {
        return Err(Error::invalid(format!(
            "serve prices an engine that computes each request's last logits only: drop {ALL_LOGITS}"
        )));
    }
    let scenario = Scenario::from_spec(spec)?;
    let mut server = Server::new(&scenario, query.limits()?)?;
    let slo = query.slo()?;
    // Under a fitted profile, the factors of its 80 % interval on a run's time: every step
    // is priced at each end too (`ServeInterval`).
    let factors = scenario.spread.map(|sp| sp.time_interval(1.0));
    if query.find_max_rate {
        if trace.is_some() {
            return Err(Error::invalid(format!(
                "{FIND_MAX_RATE} varies a Poisson rate: drop {TRACE}"
            )));
        }
        let arrivals = query.arrivals(&scenario)?;
        let mut m = find_max_rate(&mut server, &arrivals, slo)?;
        if let Some(f) = factors {
            // Searched again at each end. The slow end may meet the targets at no rate at
            // all (its highest rate is 0); the fast end may meet them past the search's limit
            // (its highest rate is that limit, at least).
            // The fast end is bounded by the replica at the GPU's peaks (the roofline).
            let ends = server.at_scales(f, |server| Ok(find_max_rate(server, &arrivals, slo)))?;
            let mut ideal = server.ideal()?;
            let ideal_rate = find_max_rate(&mut ideal, &arrivals, slo)
                .map_or(super::workload::MAX_RATE_PER_S, |m| m.rate_per_s);
            let [fast, slow] = ends.map(|e| e.map(|m| m.rate_per_s));
            let (fast, slow) = (
                fast.unwrap_or(super::workload::MAX_RATE_PER_S)
                    .min(ideal_rate.max(m.rate_per_s)),
                slow.unwrap_or(0.0),
            );
            m.rate_interval_per_s = Some([slow.min(fast), slow.max(fast)]);
            let requests = super::Arrivals {
                rate_per_s: m.rate_per_s,
                ..arrivals
            }
            .generate()?;
            m.at_max = server.with_interval(m.at_max, &requests, f, &mut ideal)?;
        }
        return Ok(Answer::MaxRate(Box::new(m)));
    }
    let (requests, rate) = match trace {
        Some(t) => (t, None),
        None => (query.arrivals(&scenario)?.generate()?, Some(query.rate)),
    };
    let report = server.run(&requests, slo, rate)?;
    Ok(Answer::Run(Box::new(match factors {
        Some(f) => {
            let mut ideal = server.ideal()?;
            server.with_interval(report, &requests, f, &mut ideal)?
        }
        None => report,
    })))
}

/// Several schedules on the same requests, side by side.
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    pub schedules: Vec<String>,
    pub answers: Vec<Answer>,
}

/// `spec` with its framework profile refitted to the user's measurements (`anchor_ms`: the
/// measured time of the run's input without reduction, alone on the engine; `file`: measured
/// rows), as `simulate` refits it (`check::anchor`), and the note saying so; `spec` unchanged
/// and no note without either. Every request and schedule is then priced under the refit.
pub fn anchored(
    spec: &Spec,
    query: &Query,
    anchor_ms: Option<f64>,
    file: Option<&std::path::Path>,
) -> Result<(Spec, Option<String>)> {
    // A measured baseline is one input's time; requests drawn from a distribution are not that
    // input (sweep refuses an anchor on varying frames alike; serve took it in silence).
    if anchor_ms.is_some() {
        if let Some(key) = [
            (FRAMES_DIST, &query.frames_dist),
            (TEXT_DIST, &query.text_dist),
        ]
        .into_iter()
        .find_map(|(key, d)| d.is_some().then_some(key))
        {
            return Err(Error::invalid(format!(
                "{ANCHOR_MS} is the measured time of one input without reduction, but {key} draws each request's: anchor on the measured rows of a file with {ANCHOR} (each row names its input), or drop {key}"
            )));
        }
    }
    Ok(
        match crate::check::anchor::anchored_spec(spec, anchor_ms, file)? {
            Some((refitted, note, _)) => (refitted, Some(note)),
            None => (spec.clone(), None),
        },
    )
}

impl Answer {
    /// The run's warnings (the run's at the highest rate, for a search).
    pub fn warnings(&self) -> &[String] {
        match self {
            Answer::Run(r) => &r.warnings,
            Answer::MaxRate(m) => &m.at_max.warnings,
        }
    }

    /// Adds a note to the run (to the run at the highest rate, for a search).
    pub fn note(&mut self, note: &str) {
        match self {
            Answer::Run(r) => r.notes.push(note.to_string()),
            Answer::MaxRate(m) => m.at_max.notes.push(note.to_string()),
        }
    }
}

/// The requests of the trace file at `path` (CSV or JSON Lines, `workload::parse_trace`),
/// frames turned into tokens at `spec`'s model's tokens per frame.
pub fn load_trace(spec: &Spec, path: &std::path::Path) -> Result<Vec<Request>> {
    // No size limit (a trace of ten million requests is hundreds of MB); not text is said so.
    let bytes = std::fs::read(path).map_err(|source| Error::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let text = crate::presets::utf8_text(path, bytes)?;
    let per_frame = Scenario::from_spec(spec)?.input.tokens_per_frame;
    super::workload::parse_trace(&text, &path.display().to_string(), per_frame)
}

/// Answers `query` once per schedule (each replaces the spec's), on the same seed and lengths
/// (or the same `trace`).
pub fn compare(
    spec: &Spec,
    query: &Query,
    schedules: &[String],
    trace: Option<Vec<Request>>,
) -> Result<Comparison> {
    if schedules.is_empty() {
        return Err(Error::invalid(format!(
            "{SCHEDULES}: give at least one schedule, e.g. none,linear"
        )));
    }
    let answers = schedules
        .iter()
        .map(|s| {
            let spec = Spec {
                schedule: crate::spec::Definition::Name(s.clone()),
                ..spec.clone()
            };
            answer(&spec, query, trace.clone())
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Comparison {
        schedules: schedules.to_vec(),
        answers,
    })
}

impl Comparison {
    /// Every schedule's warnings, each once, in order (most are the input's, the same for
    /// every schedule).
    pub fn warnings(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for w in self.answers.iter().flat_map(|a| a.warnings()) {
            if !out.contains(w) {
                out.push(w.clone());
            }
        }
        out
    }

    /// Adds a note to every schedule's run; the table prints it once.
    pub fn note(&mut self, note: &str) {
        for a in &mut self.answers {
            a.note(note);
        }
    }

    /// A table with one row per schedule (the max rate first when searched), JSON, or CSV.
    pub fn render(&self, format: TextFormat) -> Result<String> {
        use std::fmt::Write;
        Ok(match format {
            TextFormat::Json => crate::report::json_text(self),
            TextFormat::Table | TextFormat::Csv => {
                let csv = format == TextFormat::Csv;
                let mut o = String::new();
                let head = [
                    "schedule",
                    "rate_per_s",
                    "requests_per_s",
                    "output_tokens_per_s",
                    "ttft_p50_ms",
                    "ttft_p90_ms",
                    "ttft_p99_ms",
                    "tpot_p50_ms",
                    "tpot_p90_ms",
                    "slo_attainment",
                    "mean_batch",
                    "peak_kv_utilization",
                    "requests_that_fit",
                    "preemptions",
                    "prefill_alone_ms",
                ];
                // Under a fitted profile, each run's 80 % intervals (`ServeInterval`): four more
                // CSV columns, and a line per schedule under the table.
                fn report(a: &Answer) -> &super::ServeReport {
                    match a {
                        Answer::Run(r) => r.as_ref(),
                        Answer::MaxRate(m) => &m.at_max,
                    }
                }
                let intervals = self.answers.iter().any(|a| report(a).interval.is_some());
                if csv {
                    let mut head = head.join(",");
                    if intervals {
                        head.push_str(
                            ",ttft_p90_low_ms,ttft_p90_high_ms,tpot_p50_low_ms,tpot_p50_high_ms,rate_low_per_s,rate_high_per_s",
                        );
                    }
                    let _ = writeln!(o, "{head}");
                } else {
                    let _ = writeln!(
                        o,
                        "{:<16} {:>9} {:>8} {:>9} {:>9} {:>9} {:>9} {:>9} {:>7} {:>7} {:>6} {:>6} {:>6} {:>9}",
                        "schedule", "rate/s", "req/s", "out tok/s", "TTFT p50", "TTFT p90", "TTFT p99", "TPOT p50", "SLO met", "batch", "KV pk", "fit", "preem", "prefill"
                    );
                }
                for (name, a) in self.schedules.iter().zip(&self.answers) {
                    let r = match a {
                        Answer::Run(r) => r.as_ref(),
                        Answer::MaxRate(m) => &m.at_max,
                    };
                    let s = &r.summary;
                    // A trace has no Poisson rate (it printed NaN); no target has nothing to
                    // meet (the CSV said 1 where the table says "—").
                    let rate = r.rate_per_s.map_or(String::new(), |v| v.to_string());
                    let targets = r.slo.ttft_s.is_some() || r.slo.tpot_s.is_some();
                    if csv {
                        let _ = write!(
                            o,
                            "{name},{rate},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                            s.throughput_requests_per_s,
                            s.output_tokens_per_s,
                            s.ttft.p50_s * 1e3,
                            s.ttft.p90_s * 1e3,
                            s.ttft.p99_s * 1e3,
                            s.tpot.p50_s * 1e3,
                            s.tpot.p90_s * 1e3,
                            if targets {
                                s.slo_attainment.to_string()
                            } else {
                                String::new()
                            },
                            s.mean_batch,
                            s.peak_kv_utilization,
                            r.kv.requests_that_fit,
                            s.preemptions,
                            s.prefill_alone_s * 1e3
                        );
                        if intervals {
                            let i = r.interval.as_ref();
                            let ms = |v: Option<[f64; 2]>, k: usize| {
                                v.map_or(String::new(), |v| (v[k] * 1e3).to_string())
                            };
                            let rates = match a {
                                Answer::MaxRate(m) => m.rate_interval_per_s,
                                Answer::Run(_) => None,
                            };
                            let rate = |k: usize| rates.map_or(String::new(), |v| v[k].to_string());
                            let _ = write!(
                                o,
                                ",{},{},{},{},{},{}",
                                ms(i.map(|i| i.ttft_p90_s), 0),
                                ms(i.map(|i| i.ttft_p90_s), 1),
                                ms(i.map(|i| i.tpot_p50_s), 0),
                                ms(i.map(|i| i.tpot_p50_s), 1),
                                rate(0),
                                rate(1)
                            );
                        }
                        let _ = writeln!(o);
                    } else {
                        let _ = writeln!(
                            o,
                            "{:<16} {:>9} {:>8.3} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>7} {:>7.1} {:>5.1}% {:>6} {:>6} {:>9.1}",
                            name,
                            r.rate_per_s.map_or("trace".to_string(), |v| format!("{v:.3}")),
                            s.throughput_requests_per_s,
                            s.output_tokens_per_s,
                            s.ttft.p50_s * 1e3,
                            s.ttft.p90_s * 1e3,
                            s.ttft.p99_s * 1e3,
                            s.tpot.p50_s * 1e3,
                            // No target, nothing met: "100.0%" read as a result.
                            if targets {
                                format!("{:.1}%", 100.0 * s.slo_attainment)
                            } else {
                                "—".to_string()
                            },
                            s.mean_batch,
                            100.0 * s.peak_kv_utilization,
                            r.kv.requests_that_fit,
                            s.preemptions,
                            s.prefill_alone_s * 1e3
                        );
                    }
                }
                if !csv {
                    let _ = writeln!(
                        o,
                        "\nlatencies in ms; rate/s: the Poisson rate run (with --find-max-rate: the highest meeting the targets); fit: requests of the first shape the KV cache holds at full length; prefill: one request alone"
                    );
                    for (name, a) in self.schedules.iter().zip(&self.answers) {
                        let Some(i) = &report(a).interval else {
                            continue;
                        };
                        let [f_lo, f_hi] = i.time_factors;
                        let ms = |[lo, hi]: [f64; 2]| format!("{:.1}–{:.1}", lo * 1e3, hi * 1e3);
                        let _ = write!(
                            o,
                            "80 %, every step ×{f_lo:.2}–×{f_hi:.2}: {name}: TTFT p90 {} ms · TPOT p50 {} ms",
                            ms(i.ttft_p90_s),
                            ms(i.tpot_p50_s)
                        );
                        if let Answer::MaxRate(m) = a {
                            if let Some(r) = m.rate_interval_per_s {
                                let _ =
                                    write!(o, " · max rate {} requests/s", render::rate_range(r));
                            }
                        }
                        let _ = writeln!(o);
                    }
                    let first = self.answers.first().map(|a| match a {
                        Answer::Run(r) => &r.notes,
                        Answer::MaxRate(m) => &m.at_max.notes,
                    });
                    for n in first.into_iter().flatten() {
                        let _ = writeln!(o, "note: {n}");
                    }
                    for w in self.warnings() {
                        let _ = writeln!(o, "warning: {w}");
                    }
                }
                o
            }
            TextFormat::Jsonl => return Err(format.lacks("a comparison of serving runs")),
        })
    }
}
