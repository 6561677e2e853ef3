//! Published serving measurements (`reference/serving.toml`) against the simulation: each row
//! is a closed-loop benchmark (a fixed number of concurrent clients), run here with that number
//! as `max_num_seqs` and every request arriving at once, priced under each framework profile
//! asked for. The errors are `predicted / measured − 1`.

use super::{Limits, Request, Server, Slo};
use crate::error::{Error, Result};
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
    /// Concurrent clients.
    pub concurrency: u64,
    pub requests: u64,
    #[serde(default)]
    pub tp: Option<u64>,
    #[serde(default)]
    pub measured_requests_per_s: Option<f64>,
    pub measured_output_tokens_per_s: f64,
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
            if r.concurrency == 0 || r.requests == 0 || r.output_tokens == 0 {
                return Err(bad(
                    &r.id,
                    "concurrency, requests and output_tokens must be at least 1",
                ));
            }
            let positive = |v: f64| v.is_finite() && v > 0.0;
            if !positive(r.measured_output_tokens_per_s)
                || r.measured_requests_per_s.is_some_and(|v| !positive(v))
                || r.measured_mean_tpot_s.is_some_and(|v| !positive(v))
            {
                return Err(bad(&r.id, "measured values must be positive numbers"));
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
    pub measured_output_tokens_per_s: f64,
    pub predicted_output_tokens_per_s: f64,
    /// `predicted / measured − 1` of the output token throughput.
    pub error: f64,
    pub measured_requests_per_s: Option<f64>,
    pub predicted_requests_per_s: f64,
    pub measured_mean_tpot_s: Option<f64>,
    pub predicted_mean_tpot_s: f64,
    /// Requests of this shape the KV cache holds at full length.
    pub kv_requests_that_fit: u64,
    pub preemptions: u64,
}

/// Errors of one framework over the rows.
#[derive(Debug, Clone, Serialize)]
pub struct Errors {
    pub framework: String,
    pub rows: usize,
    pub median_abs_error: f64,
    pub worst_abs_error: f64,
    /// Mean of the signed errors (positive: the simulation is too fast).
    pub mean_error: f64,
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
        let mut errs = Vec::new();
        for r in &reference.rows {
            let spec = reference.spec(r, fw);
            let scenario = Scenario::from_spec(&spec).map_err(|e| Error::Parse {
                origin: reference.origin.clone(),
                message: format!("row '{}': {e}", r.id),
            })?;
            let limits = Limits {
                max_num_seqs: r.concurrency,
                ..Limits::default()
            };
            let reqs = vec![
                Request {
                    arrival_s: 0.0,
                    frames: 0,
                    text_tokens: r.input_tokens,
                    output_tokens: r.output_tokens,
                };
                r.requests as usize
            ];
            let run = Server::new(&scenario, limits)?.run(&reqs, Slo::default(), None)?;
            let s = &run.summary;
            let error = s.output_tokens_per_s / r.measured_output_tokens_per_s - 1.0;
            errs.push(error);
            rows.push(Checked {
                id: r.id.clone(),
                framework: fw.clone(),
                measured_output_tokens_per_s: r.measured_output_tokens_per_s,
                predicted_output_tokens_per_s: s.output_tokens_per_s,
                error,
                measured_requests_per_s: r.measured_requests_per_s,
                predicted_requests_per_s: s.throughput_requests_per_s,
                measured_mean_tpot_s: r.measured_mean_tpot_s,
                predicted_mean_tpot_s: s.tpot.mean_s,
                kv_requests_that_fit: run.kv.requests_that_fit,
                preemptions: s.preemptions,
            });
        }
        let mut abs: Vec<f64> = errs.iter().map(|e| e.abs()).collect();
        abs.sort_by(f64::total_cmp);
        let n = abs.len();
        summary.push(Errors {
            framework: fw.clone(),
            rows: n,
            median_abs_error: if n % 2 == 1 {
                abs[n / 2]
            } else {
                0.5 * (abs[n / 2 - 1] + abs[n / 2])
            },
            worst_abs_error: abs[n - 1],
            mean_error: errs.iter().sum::<f64>() / n as f64,
        });
    }
    Ok(CheckReport {
        origin: reference.origin.clone(),
        summary,
        rows,
    })
}

/// The check as a table, JSON or CSV.
pub fn render(c: &CheckReport, format: crate::report::Format) -> String {
    use crate::report::Format;
    match format {
        Format::Json => crate::report::json_text(c),
        Format::Csv => {
            let mut o = String::from("id,framework,measured_output_tokens_per_s,predicted_output_tokens_per_s,error,measured_requests_per_s,predicted_requests_per_s,predicted_mean_tpot_s,kv_requests_that_fit,preemptions\n");
            for r in &c.rows {
                let _ = writeln!(
                    o,
                    "{},{},{},{},{},{},{},{},{},{}",
                    r.id,
                    r.framework,
                    r.measured_output_tokens_per_s,
                    r.predicted_output_tokens_per_s,
                    r.error,
                    r.measured_requests_per_s
                        .map_or(String::new(), |v| v.to_string()),
                    r.predicted_requests_per_s,
                    r.predicted_mean_tpot_s,
                    r.kv_requests_that_fit,
                    r.preemptions
                );
            }
            o
        }
        Format::Table => {
            let mut o = format!("serving measurements: {}\n\n", c.origin);
            let _ = writeln!(
                o,
                "  {:<28} {:<10} {:>12} {:>12} {:>8} {:>10}",
                "row", "framework", "measured", "predicted", "error", "TPOT ms"
            );
            let _ = writeln!(
                o,
                "  {:<28} {:<10} {:>12} {:>12}",
                "", "", "output tok/s", "output tok/s"
            );
            for r in &c.rows {
                let _ = writeln!(
                    o,
                    "  {:<28} {:<10} {:>12.0} {:>12.0} {:>7.1}% {:>10.1}",
                    r.id,
                    r.framework,
                    r.measured_output_tokens_per_s,
                    r.predicted_output_tokens_per_s,
                    100.0 * r.error,
                    1e3 * r.predicted_mean_tpot_s
                );
            }
            let _ = writeln!(o);
            for s in &c.summary {
                let _ = writeln!(
                    o,
                    "  {:<10} {} rows · median |error| {:.1} % · worst {:.1} % · mean signed {:+.1} %",
                    s.framework,
                    s.rows,
                    100.0 * s.median_abs_error,
                    100.0 * s.worst_abs_error,
                    100.0 * s.mean_error
                );
            }
            o
        }
    }
}
