//! Predicted time against published measurements (`aim-sim check FILE`), and the fit of
//! framework profiles to them (`aim-sim fit FILE`, [`fit`]).
//!
//! A measurement file (`reference/measurements.toml`) holds one `[[measurement]]` per published
//! number: the run (model, GPU, framework, precision, input, schedule) and the measured
//! milliseconds. `check` prices every row whose setting is known, with the framework profile
//! the row names and with the ideal roofline, and reports the relative errors — per row, per
//! framework and overall (median and worst |error|) — and, for rows measured against a
//! baseline of the same source, the measured and predicted speed-ups. With `loo`, every
//! framework is refitted once per row without that row ([`fit::leave_one_out`]): the error a
//! user should expect on a setting that was not fitted.

pub mod fit;
mod lm;
mod render;

pub use render::render;

use crate::error::{Error, Result};
use crate::framework::{Framework, Spread};
use crate::presets;
use crate::scenario::Scenario;
use crate::spec::{AttentionImpl, Definition, Spec};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// What a measurement timed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Timed {
    /// The LLM forward over the prompt.
    Prefill,
    /// Vision encoder + projector + prefill + the first output token.
    Ttft,
}

/// One published measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    pub id: String,
    /// Paper and table, or repository, file and version.
    pub source: String,
    /// The harness the row shares with others (same paper, or same document version):
    /// validation by source leaves a whole group out at a time. Defaults to `source`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_group: Option<String>,
    /// Model preset, or a model file path relative to the measurement file.
    pub model: String,
    /// GPU preset, or a GPU file path relative to the measurement file.
    pub gpu: String,
    /// Framework profile preset, or a profile path relative to the measurement file.
    pub framework: String,
    pub timed: Timed,
    pub attention: AttentionImpl,
    pub w_bits: u32,
    pub a_bits: u32,
    pub kv_bits: u32,
    pub batch: u64,
    #[serde(default = "one")]
    pub tp: u64,
    pub text_tokens: u64,
    /// 0: a text-only prompt.
    pub frames: u64,
    #[serde(default)]
    pub tokens_per_frame: Option<u64>,
    /// Schedule preset, or a schedule file path relative to the measurement file.
    pub schedule: String,
    /// Explicit sequence length of every decoder layer (replaces the schedule's pruning).
    #[serde(default)]
    pub layer_tokens: Option<Vec<u64>>,
    /// `false`: the source gives only a token budget, not the per-layer setting; not priced.
    #[serde(default = "yes")]
    pub setting_known: bool,
    pub measured_ms: f64,
    /// The row of the same setup without reduction, for speed-ups.
    #[serde(default)]
    pub baseline: Option<String>,
    // Provenance, carried through untouched.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quote: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub read_via: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timed_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_tokens_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schedule_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_visual_tokens: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Measurement {
    /// The row's source group: `source_group` when given, else the whole `source`.
    pub fn group(&self) -> &str {
        self.source_group.as_deref().unwrap_or(&self.source)
    }
}

fn one() -> u64 {
    1
}
fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    measurement: Vec<Measurement>,
}

/// A measurement file, its rows and the folder its relative paths start from.
#[derive(Debug, Clone)]
pub struct Measurements {
    pub rows: Vec<Measurement>,
    pub dir: PathBuf,
    pub origin: String,
}

/// The embedded data set (`reference/measurements.toml`) and the model files it names.
pub const MEASUREMENTS_TOML: &str = include_str!("../../reference/measurements.toml");

impl Measurements {
    /// Reads and checks a measurement file.
    pub fn load(path: &Path) -> Result<Measurements> {
        let text = crate::presets::read_input(path)?;
        let dir = path
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("."));
        Measurements::parse(&text, &path.display().to_string(), dir)
    }

    /// Parses measurement-file text whose relative paths start at `dir`.
    pub fn parse(text: &str, origin: &str, dir: PathBuf) -> Result<Measurements> {
        let file: File = toml::from_str(text).map_err(|e| Error::Parse {
            origin: origin.to_string(),
            message: crate::error::toml_error_line(text, &e),
        })?;
        let m = Measurements {
            rows: file.measurement,
            dir,
            origin: origin.to_string(),
        };
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        let bad = |id: &str, message: String| {
            Err(Error::Parse {
                origin: self.origin.clone(),
                message: format!("measurement '{id}': {message}"),
            })
        };
        if self.rows.is_empty() {
            return Err(Error::Parse {
                origin: self.origin.clone(),
                message: "no [[measurement]] tables".into(),
            });
        }
        for (i, r) in self.rows.iter().enumerate() {
            if self.rows[..i].iter().any(|o| o.id == r.id) {
                return bad(&r.id, "the id is used twice: ids must be unique".into());
            }
            if !(r.measured_ms.is_finite() && r.measured_ms > 0.0 && r.measured_ms < 1e7) {
                return bad(
                    &r.id,
                    format!(
                        "measured_ms = {} must be a positive number of milliseconds",
                        r.measured_ms
                    ),
                );
            }
            if let Some(b) = &r.baseline {
                if !self.rows.iter().any(|o| &o.id == b) || b == &r.id {
                    return bad(
                        &r.id,
                        format!("baseline '{b}' is not another row's id in this file"),
                    );
                }
            }
            if r.frames > 0 && r.tokens_per_frame.is_none() {
                return bad(
                    &r.id,
                    "a row with frames > 0 needs tokens_per_frame (visual tokens per frame before reduction)".into(),
                );
            }
        }
        Ok(())
    }

    /// A preset name as is, else a path relative to the file.
    fn reference(&self, value: &str, presets: &[presets::Preset]) -> String {
        if presets.iter().any(|(n, _)| *n == value) {
            value.to_string()
        } else {
            self.dir.join(value).display().to_string()
        }
    }

    /// The run a row measured, as a spec (refined cost model; `ttft` prices the vision encoder).
    pub fn spec(&self, r: &Measurement) -> Spec {
        Spec {
            model: Definition::Name(self.reference(&r.model, presets::MODELS)),
            gpu: Definition::Name(self.reference(&r.gpu, presets::GPUS)),
            framework: Definition::Name(self.reference(&r.framework, presets::FRAMEWORKS)),
            schedule: Definition::Name(self.reference(&r.schedule, presets::SCHEDULES)),
            frames: Some(r.frames),
            tokens_per_frame: r.tokens_per_frame,
            text_tokens: r.text_tokens,
            layer_tokens: r.layer_tokens.clone(),
            attention: Some(r.attention),
            include_vision: r.timed == Timed::Ttft && r.frames > 0,
            w_bits: r.w_bits,
            a_bits: r.a_bits,
            kv_bits: Some(r.kv_bits),
            batch: r.batch,
            tp: r.tp,
            ..Spec::default()
        }
    }

    /// The row's scenario, with `framework` instead of the row's own when given. Errors name the
    /// row.
    pub fn scenario(&self, r: &Measurement, framework: Option<&Framework>) -> Result<Scenario> {
        let mut spec = self.spec(r);
        if let Some(f) = framework {
            spec.framework = Definition::Inline(Box::new(f.clone()));
        }
        Scenario::from_spec(&spec).map_err(|e| row_error(&r.id, e))
    }
}

/// An error of one row, naming it.
pub fn row_error(id: &str, e: Error) -> Error {
    Error::invalid(format!("measurement '{id}': {e}"))
}

/// Predicted time of a scenario's own run (no baseline), seconds.
pub fn predicted_time_s(scenario: &Scenario) -> Result<f64> {
    let plan = scenario.plan()?;
    let ctx = scenario.context();
    let run = scenario
        .cost_model
        .implementation()
        .run_workload(&ctx, &scenario.workload(&plan));
    Ok(run.totals.time_s)
}

/// One row of a check.
#[derive(Debug, Clone, Serialize)]
pub struct RowCheck {
    pub id: String,
    pub framework: String,
    pub gpu: String,
    pub model: String,
    pub timed: Timed,
    pub measured_ms: f64,
    /// With the row's framework profile; absent when the row is not priced.
    pub predicted_ms: Option<f64>,
    /// `predicted / measured − 1`.
    pub error: Option<f64>,
    /// The ideal roofline (no profile).
    pub roofline_ms: Option<f64>,
    pub roofline_error: Option<f64>,
    /// The 80 % interval of `predicted_ms` from the profile's `[spread]` (leave-one-source-out
    /// residuals); absent without a spread.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_interval_ms: Option<[f64; 2]>,
    /// The row's source group (harness).
    pub source_group: String,
    /// With the framework refitted without the row's whole source group (`--cv source`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_predicted_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_error: Option<f64>,
    /// What the leave-one-source-out fit fell back on (the source was the only one of its
    /// framework or GPU).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_fallback: Option<String>,
    /// With the framework refitted without this row alone (`--cv row`, `--loo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_predicted_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_error: Option<f64>,
    /// Why the row is not priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_priced: Option<String>,
    pub source: String,
}

/// Median and worst |error| of a set of rows.
#[derive(Debug, Clone, Serialize)]
pub struct Stats {
    pub rows: usize,
    pub median_abs_error: f64,
    pub worst_abs_error: f64,
    pub worst_id: String,
}

impl Stats {
    /// `None` for no rows.
    pub fn of<'a>(errors: impl IntoIterator<Item = (&'a str, f64)>) -> Option<Stats> {
        let mut v: Vec<(&str, f64)> = errors.into_iter().map(|(i, e)| (i, e.abs())).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2].1
        } else {
            (v[n / 2 - 1].1 + v[n / 2].1) / 2.0
        };
        let (worst_id, worst) = v[n - 1];
        Some(Stats {
            rows: n,
            median_abs_error: median,
            worst_abs_error: worst,
            worst_id: worst_id.to_string(),
        })
    }
}

/// A group's errors: with the profiles, uncalibrated (roofline), leave-one-source-out and
/// leave-one-row-out.
#[derive(Debug, Clone, Serialize)]
pub struct Summary {
    /// A framework name, or "all".
    pub group: String,
    /// With `by_gpu`: the GPU.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu: Option<String>,
    /// Source groups behind the rows.
    pub source_groups: usize,
    pub calibrated: Option<Stats>,
    pub roofline: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso: Option<Stats>,
    /// Rows of `loso` whose fit fell back on pooled values or other frameworks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_fallback_rows: Option<usize>,
    /// Share of rows whose measurement lies inside the 80 % interval around the
    /// leave-one-source-out prediction (σ from the profile's `[spread]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_interval_coverage: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo: Option<Stats>,
}

/// A row measured against its baseline: speed-ups measured and predicted.
#[derive(Debug, Clone, Serialize)]
pub struct SpeedupCheck {
    pub id: String,
    pub baseline: String,
    pub framework: String,
    /// `baseline measured / row measured`.
    pub measured_speedup: f64,
    pub predicted_speedup: f64,
    /// `predicted / measured − 1`.
    pub error: f64,
    pub roofline_speedup: f64,
    pub roofline_error: f64,
    /// The 80 % interval of `predicted_speedup` from the profile's `[spread]`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub predicted_interval: Option<[f64; 2]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_speedup: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_error: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_speedup: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_error: Option<f64>,
}

/// Everything `check` reports.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    pub file: String,
    pub rows: Vec<RowCheck>,
    /// Per framework, then "all".
    pub summary: Vec<Summary>,
    /// Per framework and GPU.
    pub by_gpu: Vec<Summary>,
    pub speedups: Vec<SpeedupCheck>,
    /// Per framework, then "all": median and worst |speed-up error|.
    pub speedup_summary: Vec<Summary>,
}

/// Cross-validation of a check: which rows a refit leaves out to predict a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Cv {
    /// The row's whole source group (same paper, same harness): the error on a new stack.
    Source,
    /// The row alone; the rest of its source stays in the fit (interpolation inside a source).
    Row,
}

/// Options of a check.
#[derive(Debug, Clone, Default)]
pub struct CheckOptions {
    /// Cross-validations to run (each refits every framework; slower).
    pub cv: Vec<Cv>,
}

/// Prices every row of `m` and compares.
pub fn check(m: &Measurements, options: &CheckOptions) -> Result<CheckReport> {
    let roofline = Framework::roofline();
    let loo = if options.cv.contains(&Cv::Row) {
        Some(fit::leave_one_out(m)?)
    } else {
        None
    };
    let loso = if options.cv.contains(&Cv::Source) {
        Some(fit::leave_one_source_out(m)?)
    } else {
        None
    };
    // The σ of each framework's prediction interval, from its profile's [spread].
    let mut spreads: std::collections::BTreeMap<String, Option<Spread>> = Default::default();
    let mut rows = Vec::with_capacity(m.rows.len());
    for r in &m.rows {
        let mut row = RowCheck {
            id: r.id.clone(),
            framework: r.framework.clone(),
            gpu: r.gpu.clone(),
            model: r.model.clone(),
            timed: r.timed,
            measured_ms: r.measured_ms,
            predicted_ms: None,
            error: None,
            roofline_ms: None,
            roofline_error: None,
            predicted_interval_ms: None,
            source_group: r.group().to_string(),
            loso_predicted_ms: None,
            loso_error: None,
            loso_fallback: None,
            loo_predicted_ms: None,
            loo_error: None,
            not_priced: None,
            source: r.source.clone(),
        };
        // Names are checked for every row, priced or not.
        let scenario = m.scenario(r, None)?;
        if !r.setting_known {
            row.not_priced =
                Some("the source gives only the token budget, not the per-layer setting".into());
            rows.push(row);
            continue;
        }
        let err = |ms: f64| ms / r.measured_ms - 1.0;
        let ms = predicted_time_s(&scenario).map_err(|e| row_error(&r.id, e))? * 1e3;
        let ideal = predicted_time_s(&m.scenario(r, Some(&roofline))?)
            .map_err(|e| row_error(&r.id, e))?
            * 1e3;
        row.predicted_ms = Some(ms);
        row.error = Some(err(ms));
        row.roofline_ms = Some(ideal);
        row.roofline_error = Some(err(ideal));
        if !spreads.contains_key(&r.framework) {
            spreads.insert(r.framework.clone(), spread_of(m, &r.framework)?);
        }
        if let Some(s) = &spreads[&r.framework] {
            row.predicted_interval_ms = Some(Spread::interval80(ms, s.time_sigma()));
        }
        if let Some(p) = loso.as_ref().and_then(|l| l.get(&r.id)) {
            row.loso_predicted_ms = Some(p.time_s * 1e3);
            row.loso_error = Some(err(p.time_s * 1e3));
            row.loso_fallback = p.fallback.clone();
        }
        if let Some(loo) = &loo {
            if let Some(p) = loo.get(&r.id) {
                row.loo_predicted_ms = Some(p * 1e3);
                row.loo_error = Some(err(p * 1e3));
            }
        }
        rows.push(row);
    }
    let speedups = speedups(m, &rows, &spreads);
    let mut groups: Vec<String> = Vec::new();
    for r in &rows {
        if !groups.contains(&r.framework) {
            groups.push(r.framework.clone());
        }
    }
    let summary_of = |group: &str, gpu: Option<&str>, rs: &[&RowCheck]| {
        let priced: Vec<&&RowCheck> = rs.iter().filter(|r| r.predicted_ms.is_some()).collect();
        let mut sources: Vec<&str> = priced.iter().map(|r| r.source_group.as_str()).collect();
        sources.sort_unstable();
        sources.dedup();
        let with_loso: Vec<&&&RowCheck> = priced
            .iter()
            .filter(|r| r.loso_predicted_ms.is_some())
            .collect();
        let covered: Vec<bool> = with_loso
            .iter()
            .filter_map(|r| {
                let s = spreads.get(&r.framework)?.as_ref()?;
                let [lo, hi] = Spread::interval80(r.loso_predicted_ms?, s.time_sigma());
                Some((lo..=hi).contains(&r.measured_ms))
            })
            .collect();
        Summary {
            group: group.to_string(),
            gpu: gpu.map(String::from),
            source_groups: sources.len(),
            calibrated: Stats::of(
                rs.iter()
                    .filter_map(|r| r.error.map(|e| (r.id.as_str(), e))),
            ),
            roofline: Stats::of(
                rs.iter()
                    .filter_map(|r| r.roofline_error.map(|e| (r.id.as_str(), e))),
            ),
            loso: Stats::of(
                rs.iter()
                    .filter_map(|r| r.loso_error.map(|e| (r.id.as_str(), e))),
            ),
            loso_fallback_rows: (!with_loso.is_empty()).then(|| {
                with_loso
                    .iter()
                    .filter(|r| r.loso_fallback.is_some())
                    .count()
            }),
            loso_interval_coverage: (!covered.is_empty())
                .then(|| covered.iter().filter(|c| **c).count() as f64 / covered.len() as f64),
            loo: Stats::of(
                rs.iter()
                    .filter_map(|r| r.loo_error.map(|e| (r.id.as_str(), e))),
            ),
        }
    };
    let mut summary: Vec<Summary> = groups
        .iter()
        .map(|g| {
            let rs: Vec<&RowCheck> = rows.iter().filter(|r| &r.framework == g).collect();
            summary_of(g, None, &rs)
        })
        .collect();
    summary.push(summary_of("all", None, &rows.iter().collect::<Vec<_>>()));
    let mut by_gpu = Vec::new();
    for g in &groups {
        let mut gpus: Vec<&str> = Vec::new();
        for r in rows.iter().filter(|r| &r.framework == g) {
            if !gpus.contains(&r.gpu.as_str()) {
                gpus.push(&r.gpu);
            }
        }
        for gpu in gpus {
            let rs: Vec<&RowCheck> = rows
                .iter()
                .filter(|r| &r.framework == g && r.gpu == gpu && r.predicted_ms.is_some())
                .collect();
            if !rs.is_empty() {
                by_gpu.push(summary_of(g, Some(gpu), &rs));
            }
        }
    }
    let speedup_summary_of = |group: &str, ss: &[&SpeedupCheck]| {
        let mut sources: Vec<&str> = ss
            .iter()
            .filter_map(|s| {
                rows.iter()
                    .find(|r| r.id == s.id)
                    .map(|r| r.source_group.as_str())
            })
            .collect();
        sources.sort_unstable();
        sources.dedup();
        let covered: Vec<bool> = ss
            .iter()
            .filter_map(|s| {
                let sp = spreads.get(&s.framework)?.as_ref()?;
                let [lo, hi] = Spread::interval80(s.loso_speedup?, sp.speedup_sigma());
                Some((lo..=hi).contains(&s.measured_speedup))
            })
            .collect();
        Summary {
            group: group.to_string(),
            gpu: None,
            source_groups: sources.len(),
            calibrated: Stats::of(ss.iter().map(|s| (s.id.as_str(), s.error))),
            roofline: Stats::of(ss.iter().map(|s| (s.id.as_str(), s.roofline_error))),
            loso: Stats::of(
                ss.iter()
                    .filter_map(|s| s.loso_error.map(|e| (s.id.as_str(), e))),
            ),
            loso_fallback_rows: None,
            loso_interval_coverage: (!covered.is_empty())
                .then(|| covered.iter().filter(|c| **c).count() as f64 / covered.len() as f64),
            loo: Stats::of(
                ss.iter()
                    .filter_map(|s| s.loo_error.map(|e| (s.id.as_str(), e))),
            ),
        }
    };
    let mut speedup_summary: Vec<Summary> = groups
        .iter()
        .filter_map(|g| {
            let ss: Vec<&SpeedupCheck> = speedups.iter().filter(|s| &s.framework == g).collect();
            (!ss.is_empty()).then(|| speedup_summary_of(g, &ss))
        })
        .collect();
    speedup_summary.push(speedup_summary_of(
        "all",
        &speedups.iter().collect::<Vec<_>>(),
    ));
    Ok(CheckReport {
        file: m.origin.clone(),
        rows,
        summary,
        by_gpu,
        speedups,
        speedup_summary,
    })
}

/// The `[spread]` of the profile a framework name refers to in `m` (`None`: the roofline, or a
/// profile without one).
fn spread_of(m: &Measurements, name: &str) -> Result<Option<Spread>> {
    let f = Framework::load(&m.reference(name, presets::FRAMEWORKS))?;
    Ok(if f.is_roofline() { None } else { f.spread })
}

/// Speed-ups of every priced row against its priced baseline.
fn speedups(
    m: &Measurements,
    rows: &[RowCheck],
    spreads: &std::collections::BTreeMap<String, Option<Spread>>,
) -> Vec<SpeedupCheck> {
    let by_id = |id: &str| rows.iter().find(|r| r.id == id);
    let mut out = Vec::new();
    for (r, row) in m.rows.iter().zip(rows) {
        let Some(b) = r.baseline.as_deref().and_then(by_id) else {
            continue;
        };
        let (Some(p), Some(bp), Some(q), Some(bq)) = (
            row.predicted_ms,
            b.predicted_ms,
            row.roofline_ms,
            b.roofline_ms,
        ) else {
            continue;
        };
        let measured = b.measured_ms / row.measured_ms;
        let predicted = bp / p;
        let ideal = bq / q;
        let loo = row
            .loo_predicted_ms
            .zip(b.loo_predicted_ms)
            .map(|(l, bl)| bl / l);
        let loso = row
            .loso_predicted_ms
            .zip(b.loso_predicted_ms)
            .map(|(l, bl)| bl / l);
        let interval = spreads
            .get(&row.framework)
            .and_then(|s| s.as_ref())
            .map(|s| Spread::interval80(predicted, s.speedup_sigma()));
        out.push(SpeedupCheck {
            id: row.id.clone(),
            baseline: b.id.clone(),
            framework: row.framework.clone(),
            measured_speedup: measured,
            predicted_speedup: predicted,
            error: predicted / measured - 1.0,
            roofline_speedup: ideal,
            roofline_error: ideal / measured - 1.0,
            predicted_interval: interval,
            loso_speedup: loso,
            loso_error: loso.map(|l| l / measured - 1.0),
            loo_speedup: loo,
            loo_error: loo.map(|l| l / measured - 1.0),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stats_are_median_and_worst_of_absolute_errors() {
        let s = Stats::of([("a", 0.1), ("b", -0.3), ("c", 0.2)]).unwrap();
        assert_eq!(s.rows, 3);
        assert!((s.median_abs_error - 0.2).abs() < 1e-15);
        assert!((s.worst_abs_error - 0.3).abs() < 1e-15);
        assert_eq!(s.worst_id, "b");
        let even = Stats::of([("a", 0.1), ("b", -0.3), ("c", 0.2), ("d", 0.0)]).unwrap();
        assert!((even.median_abs_error - 0.15).abs() < 1e-15);
        assert!(Stats::of([]).is_none());
    }

    #[test]
    fn the_embedded_data_set_parses_and_names_what_exists() {
        let m = Measurements::parse(
            MEASUREMENTS_TOML,
            "reference/measurements.toml",
            "reference".into(),
        )
        .unwrap();
        assert!(m.rows.len() >= 25, "{} rows", m.rows.len());
        let gpus: std::collections::BTreeSet<&str> =
            m.rows.iter().map(|r| r.gpu.as_str()).collect();
        assert!(gpus.len() >= 3, "{gpus:?}");
        for r in &m.rows {
            m.scenario(r, None).unwrap_or_else(|e| panic!("{e}"));
        }
    }
}
