//! Published serving measurements (`reference/serving.toml`) against the simulation: each row
//! is a closed-loop benchmark (a fixed number of concurrent clients), run here with that number
//! as `max_num_seqs` and every request arriving at once, priced under each framework profile
//! asked for. The errors are `predicted / measured − 1`.

use super::{Limits, Request, Server, Slo};
use crate::error::{Error, Result};
use crate::report::TextFormat;
use crate::scenario::Scenario;
use crate::spec::{Definition, Spec};
use serde::{Deserialize, Serialize};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// One published measurement.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Row {
    pub id: String,
    pub source: String,
    /// The source's words or table row the figures are read from.
    pub quote: String,
    /// The serving engine measured (`vllm`, `sglang`).
    pub engine: String,
    /// A preset or a model file (relative to the reference file).
    pub model: String,
    pub gpu: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Concurrent clients (a closed loop), run as `max_num_seqs` with every request at once.
    #[serde(default)]
    pub concurrency: Option<u64>,
    /// Poisson arrivals at this rate instead (seed 0); neither: every request at once.
    #[serde(default)]
    pub rate_per_s: Option<f64>,
    pub requests: u64,
    #[serde(default)]
    pub tp: Option<u64>,
    /// The engine's, when the source sets it.
    #[serde(default)]
    pub gpu_memory_utilization: Option<f64>,
    #[serde(default)]
    pub measured_requests_per_s: Option<f64>,
    #[serde(default)]
    pub measured_output_tokens_per_s: Option<f64>,
    #[serde(default)]
    pub measured_mean_ttft_s: Option<f64>,
    #[serde(default)]
    pub measured_mean_tpot_s: Option<f64>,
    #[serde(default)]
    pub notes: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    row: Vec<Row>,
}

/// A reference file, read and checked.
#[derive(Debug, Clone)]
pub struct Reference {
    pub rows: Vec<Row>,
    pub dir: PathBuf,
    pub origin: String,
}

impl Reference {
    pub fn load(path: &Path) -> Result<Reference> {
        let text = crate::presets::read_input(path)?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Reference::parse(&text, &path.display().to_string(), dir)
    }

    /// Parses reference text whose relative paths start at `dir`.
    pub fn parse(text: &str, origin: &str, dir: PathBuf) -> Result<Reference> {
        let file: File = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_string(),
            message: crate::error::toml_error_line(text, &e),
        })?;
        let bad = |id: &str, m: &str| Error::Parse {
            origin: origin.to_string(),
            message: format!("row '{id}': {m}"),
        };
        let mut seen = std::collections::HashSet::new();
        for r in &file.row {
            if !seen.insert(r.id.clone()) {
                return Err(bad(&r.id, "the id is used twice; give each row its own"));
            }
            if r.concurrency == Some(0) || r.requests == 0 || r.output_tokens == 0 {
                return Err(bad(
                    &r.id,
                    "concurrency, requests and output_tokens must be at least 1",
                ));
            }
            if r.concurrency.is_some() && r.rate_per_s.is_some() {
                return Err(bad(&r.id, "give concurrency or rate_per_s, not both"));
            }
            let positive = |v: f64| v.is_finite() && v > 0.0;
            let measured = [
                r.measured_requests_per_s,
                r.measured_output_tokens_per_s,
                r.measured_mean_ttft_s,
                r.measured_mean_tpot_s,
            ];
            if measured.iter().all(Option::is_none) {
                return Err(bad(&r.id, "no measured value: give measured_output_tokens_per_s, measured_requests_per_s, measured_mean_ttft_s or measured_mean_tpot_s"));
            }
            if measured.iter().flatten().any(|&v| !positive(v))
                || r.rate_per_s.is_some_and(|v| !positive(v))
                || r.gpu_memory_utilization
                    .is_some_and(|v| !(v > 0.0 && v <= 1.0))
            {
                return Err(bad(&r.id, "measured values and rates must be positive numbers, gpu_memory_utilization in (0, 1]"));
            }
            if r.source.trim().is_empty() || r.quote.trim().is_empty() {
                return Err(bad(
                    &r.id,
                    "give the source and the quote the figures come from",
                ));
            }
        }
        if file.row.is_empty() {
            return Err(Error::Parse {
                origin: origin.into(),
                message: "no [[row]] in the file".into(),
            });
        }
        Ok(Reference {
            rows: file.row,
            dir,
            origin: origin.to_string(),
        })
    }

    fn spec(&self, r: &Row, framework: &str) -> Spec {
        let local = self.dir.join(&r.model);
        let model = if local.exists() {
            local.display().to_string()
        } else {
            r.model.clone()
        };
        Spec {
            model: Definition::Name(model),
            gpu: Definition::Name(r.gpu.clone()),
            framework: Definition::Name(framework.into()),
            schedule: Definition::Name("none".into()),
            frames: Some(0),
            text_tokens: r.input_tokens,
            tp: r.tp.unwrap_or(1),
            ..Spec::default()
        }
    }
}

/// One row priced under one framework.
#[derive(Debug, Clone, Serialize)]
pub struct Checked {
    pub id: String,
    pub framework: String,
    pub measured_output_tokens_per_s: Option<f64>,
    pub predicted_output_tokens_per_s: f64,
    /// `predicted / measured − 1` of the throughput: output tokens/s where measured, else
    /// requests/s (not for Poisson rows, whose throughput is their rate).
    pub error: Option<f64>,
    pub measured_requests_per_s: Option<f64>,
    pub predicted_requests_per_s: f64,
    pub measured_mean_ttft_s: Option<f64>,
    pub predicted_mean_ttft_s: f64,
    pub ttft_error: Option<f64>,
    pub measured_mean_tpot_s: Option<f64>,
    pub predicted_mean_tpot_s: f64,
    pub tpot_error: Option<f64>,
    /// Requests of this shape the KV cache holds at full length.
    pub kv_requests_that_fit: u64,
    pub preemptions: u64,
}

/// Errors of one framework over the rows.
#[derive(Debug, Clone, Serialize)]
pub struct Errors {
    pub framework: String,
    /// Rows with a throughput error (the statistics below are over them).
    pub rows: usize,
    pub median_abs_error: f64,
    pub worst_abs_error: f64,
    /// Mean of the signed errors (positive: the simulation is too fast).
    pub mean_error: f64,
    /// Median |error| of the mean TPOT and TTFT over the rows that measured them.
    pub tpot_median_abs_error: Option<f64>,
    pub ttft_median_abs_error: Option<f64>,
}

fn median(mut v: Vec<f64>) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    })
}

#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub origin: String,
    pub summary: Vec<Errors>,
    pub rows: Vec<Checked>,
}

/// Prices every row under every framework in `frameworks`.
pub fn check(reference: &Reference, frameworks: &[String]) -> Result<CheckReport> {
    let mut rows = Vec::new();
    let mut summary = Vec::new();
    for fw in frameworks {
        let (mut errs, mut tpots, mut ttfts) = (Vec::new(), Vec::new(), Vec::new());
        for r in &reference.rows {
            let spec = reference.spec(r, fw);
            let scenario = Scenario::from_spec(&spec).map_err(|e| Error::Parse {
                origin: reference.origin.clone(),
                message: format!("row '{}': {e}", r.id),
            })?;
            let defaults = Limits::default();
            let limits = Limits {
                max_num_seqs: r.concurrency.unwrap_or(defaults.max_num_seqs),
                gpu_memory_utilization: r
                    .gpu_memory_utilization
                    .unwrap_or(defaults.gpu_memory_utilization),
                ..defaults
            };
            let reqs = match r.rate_per_s {
                Some(rate) => super::Arrivals {
                    rate_per_s: rate,
                    requests: Some(r.requests),
                    duration_s: None,
                    frames: super::Dist::Fixed { value: 0 },
                    text_tokens: super::Dist::Fixed {
                        value: r.input_tokens,
                    },
                    output_tokens: super::Dist::Fixed {
                        value: r.output_tokens,
                    },
                    seed: 0,
                }
                .generate()?,
                None => vec![
                    Request {
                        arrival_s: 0.0,
                        frames: 0,
                        text_tokens: r.input_tokens,
                        output_tokens: r.output_tokens,
                    };
                    r.requests as usize
                ],
            };
            let run = Server::new(&scenario, limits)?.run(&reqs, Slo::default(), r.rate_per_s)?;
            let s = &run.summary;
            let rel = |p: f64, m: Option<f64>| m.map(|m| p / m - 1.0);
            let error = if r.rate_per_s.is_some() {
                None
            } else {
                rel(s.output_tokens_per_s, r.measured_output_tokens_per_s)
                    .or(rel(s.throughput_requests_per_s, r.measured_requests_per_s))
            };
            // A closed loop's TTFT leaves out the wait for a free client slot: not compared.
            let ttft_error = if r.concurrency.is_some() {
                None
            } else {
                rel(s.ttft.mean_s, r.measured_mean_ttft_s)
            };
            let tpot_error = rel(s.tpot.mean_s, r.measured_mean_tpot_s);
            errs.extend(error);
            tpots.extend(tpot_error.map(f64::abs));
            ttfts.extend(ttft_error.map(f64::abs));
            rows.push(Checked {
                id: r.id.clone(),
                framework: fw.clone(),
                measured_output_tokens_per_s: r.measured_output_tokens_per_s,
                predicted_output_tokens_per_s: s.output_tokens_per_s,
                error,
                measured_requests_per_s: r.measured_requests_per_s,
                predicted_requests_per_s: s.throughput_requests_per_s,
                measured_mean_ttft_s: r.measured_mean_ttft_s,
                predicted_mean_ttft_s: s.ttft.mean_s,
                ttft_error,
                measured_mean_tpot_s: r.measured_mean_tpot_s,
                predicted_mean_tpot_s: s.tpot.mean_s,
                tpot_error,
                kv_requests_that_fit: run.kv.requests_that_fit,
                preemptions: s.preemptions,
            });
        }
        let abs: Vec<f64> = errs.iter().map(|e| e.abs()).collect();
        summary.push(Errors {
            framework: fw.clone(),
            rows: errs.len(),
            median_abs_error: median(abs.clone()).unwrap_or(f64::NAN),
            worst_abs_error: abs.iter().copied().fold(0.0, f64::max),
            mean_error: errs.iter().sum::<f64>() / errs.len().max(1) as f64,
            tpot_median_abs_error: median(tpots),
            ttft_median_abs_error: median(ttfts),
        });
    }
    Ok(CheckReport {
        origin: reference.origin.clone(),
        summary,
        rows,
    })
}

fn opt(v: Option<f64>) -> String {
    v.map_or(String::new(), |v| v.to_string())
}

/// `v` as a percentage with one decimal, or a dash.
fn pct(v: Option<f64>) -> String {
    v.map_or("–".into(), |v| format!("{:+.1}%", 100.0 * v))
}

/// The check as a table, JSON or CSV.
pub fn render(c: &CheckReport, format: TextFormat) -> Result<String> {
    Ok(match format {
        TextFormat::Json => crate::report::json_text(c),
        TextFormat::Csv => {
            let mut o = String::from("id,framework,measured_output_tokens_per_s,predicted_output_tokens_per_s,measured_requests_per_s,predicted_requests_per_s,error,measured_mean_ttft_s,predicted_mean_ttft_s,ttft_error,measured_mean_tpot_s,predicted_mean_tpot_s,tpot_error,kv_requests_that_fit,preemptions\n");
            for r in &c.rows {
                let _ = writeln!(
                    o,
                    "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
                    r.id,
                    r.framework,
                    opt(r.measured_output_tokens_per_s),
                    r.predicted_output_tokens_per_s,
                    opt(r.measured_requests_per_s),
                    r.predicted_requests_per_s,
                    opt(r.error),
                    opt(r.measured_mean_ttft_s),
                    r.predicted_mean_ttft_s,
                    opt(r.ttft_error),
                    opt(r.measured_mean_tpot_s),
                    r.predicted_mean_tpot_s,
                    opt(r.tpot_error),
                    r.kv_requests_that_fit,
                    r.preemptions
                );
            }
            o
        }
        TextFormat::Table => {
            let mut o = format!("serving measurements: {}\n\n", c.origin);
            let _ = writeln!(
                o,
                "  {:<28} {:<9} {:>10} {:>10} {:>8} {:>9} {:>9} {:>8} {:>8}",
                "row",
                "framework",
                "measured",
                "predicted",
                "error",
                "TTFT ms",
                "TTFT err",
                "TPOT ms",
                "TPOT err"
            );
            let _ = writeln!(
                o,
                "  {:<28} {:<9} {:>10} {:>10}",
                "", "", "throughput", "throughput"
            );
            for r in &c.rows {
                let (measured, predicted) =
                    match (r.measured_output_tokens_per_s, r.measured_requests_per_s) {
                        (Some(m), _) => (
                            format!("{m:.0} tok/s"),
                            format!("{:.0} tok/s", r.predicted_output_tokens_per_s),
                        ),
                        (None, Some(m)) => (
                            format!("{m:.2} req/s"),
                            format!("{:.2} req/s", r.predicted_requests_per_s),
                        ),
                        (None, None) => (
                            "–".into(),
                            format!("{:.2} req/s", r.predicted_requests_per_s),
                        ),
                    };
                let _ = writeln!(
                    o,
                    "  {:<28} {:<9} {:>10} {:>10} {:>8} {:>9.1} {:>9} {:>8.2} {:>8}",
                    r.id,
                    r.framework,
                    measured,
                    predicted,
                    pct(r.error),
                    1e3 * r.predicted_mean_ttft_s,
                    pct(r.ttft_error),
                    1e3 * r.predicted_mean_tpot_s,
                    pct(r.tpot_error)
                );
            }
            let _ = writeln!(o);
            for s in &c.summary {
                let _ = writeln!(
                    o,
                    "  {:<9} throughput: {} rows · median |error| {:.1} % · worst {:.1} % · mean signed {:+.1} % · TPOT median |error| {} · TTFT median |error| {}",
                    s.framework,
                    s.rows,
                    100.0 * s.median_abs_error,
                    100.0 * s.worst_abs_error,
                    100.0 * s.mean_error,
                    s.tpot_median_abs_error.map_or("–".into(), |v| format!("{:.1} %", 100.0 * v)),
                    s.ttft_median_abs_error.map_or("–".into(), |v| format!("{:.1} %", 100.0 * v)),
                );
            }
            o
        }
        TextFormat::Jsonl => return Err(format.lacks("a check of serving measurements")),
    })
}
