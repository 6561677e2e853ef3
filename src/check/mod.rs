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

pub mod anchor;
pub mod fit;
mod folds;
mod lm;
pub(crate) mod render;

pub use render::render;

use crate::error::{
    keys::{CV, FRAMEWORK, LOO, REFIT_ALSO},
    Key,
};
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
    /// The LLM forward over the prompt (work before the LLM, such as a method's own selection
    /// of its tokens, is outside it).
    Prefill,
    /// Vision encoder + projector + prefill + the first output token.
    Ttft,
    /// The vision encoder (and projector) alone, over `frames` images in one batch: what the
    /// encoder's own benchmarks time. Priced as the vision stage of the run, nothing else.
    Vision,
}

impl Timed {
    /// Every variant, for error messages.
    pub const ALL: [Timed; 3] = [Timed::Prefill, Timed::Ttft, Timed::Vision];

    /// Its name in a measurement file (`timed = "..."`).
    pub fn name(self) -> &'static str {
        match self {
            Timed::Prefill => "prefill",
            Timed::Ttft => "ttft",
            Timed::Vision => "vision",
        }
    }
}

/// One published measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Measurement {
    pub id: String,
    /// The line of the row's `[[measurement]]` header in its file, for errors (a row's
    /// setting errors named its id alone, where its schema errors name the line).
    #[serde(skip)]
    pub line: Option<usize>,
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
    /// The vision encoder's attention where the source's code says [default: the framework
    /// profile's `vision_attention`, else `attention`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision_attention: Option<AttentionImpl>,
    /// How a mixture-of-experts layer ran its experts where the source says (transformers'
    /// `experts_implementation`) [default: the framework's, as for a run].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<crate::experts::ExpertsImpl>,
    /// Weight bits [default: 16, as the main command's `--w-bits`].
    #[serde(default = "sixteen")]
    pub w_bits: u32,
    /// Activation bits [default: 16, as the main command's `--a-bits`].
    #[serde(default = "sixteen")]
    pub a_bits: u32,
    /// KV-cache bits [default: `a_bits`, as the main command's `--kv-bits`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_bits: Option<u32>,
    #[serde(default = "one")]
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
    /// The method's own selection of the tokens it keeps, where its code was read (priced as the
    /// main command's `selection`; needs `layer_tokens`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection: Option<crate::selection::Selection>,
    /// `false`: the source gives only a token budget, not the per-layer setting; not priced.
    #[serde(default = "yes")]
    pub setting_known: bool,
    /// `false`: priced and checked, never fitted — a test of a mechanism the model derives from
    /// code (HF's expert loop), which fitted parameters must not absorb.
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    pub fit: bool,
    /// `true`: the harness computes the logits of every prompt position in the prefill, as the
    /// LLaVA code bases' model wrappers do (they pass transformers no `logits_to_keep`;
    /// `all_logits_note` cites the code); priced as the main command's `all_logits`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub all_logits: bool,
    pub measured_ms: f64,
    /// The row of the same setup without reduction, for speed-ups: the same source group,
    /// model, GPU, framework, `timed`, batch and tp (checked when the file is read).
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
    pub all_logits_note: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub avg_visual_tokens: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub confidence: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
}

impl Measurement {
    /// "measurement 'ID' (line N)": how an error names the row.
    pub fn named(&self) -> String {
        match self.line {
            Some(l) => format!("measurement '{}' (line {l})", self.id),
            None => format!("measurement '{}'", self.id),
        }
    }

    /// The row's source group: `source_group` when given, else the whole `source`.
    pub fn group(&self) -> &str {
        self.source_group.as_deref().unwrap_or(&self.source)
    }

    /// Why the row cannot be priced (it is listed, not compared), or `None` when it can.
    pub fn unpriced_reason(&self) -> Option<&'static str> {
        if self.gpu == UNKNOWN_GPU {
            Some("the source does not name its GPU")
        } else if !self.setting_known {
            Some("the source gives only the token budget, not the per-layer setting")
        } else {
            None
        }
    }

    /// Why `layer_tokens` cannot be: a layer longer than the prompt's `prompt` tokens.
    fn layer_beyond_prompt(&self, prompt: u64) -> Option<String> {
        let list = self.layer_tokens.as_ref()?;
        let (i, n) = list.iter().enumerate().find(|(_, &n)| n > prompt)?;
        Some(format!(
            "layer_tokens[{i}] = {n} is more than the prompt's {prompt} tokens (text_tokens + frames × tokens_per_frame): a layer cannot hold tokens the input does not have"
        ))
    }

    /// Visual plus text tokens of the prompt before any reduction.
    fn prompt_tokens(&self) -> u64 {
        self.frames
            .saturating_mul(self.tokens_per_frame.unwrap_or(0))
            .saturating_add(self.text_tokens)
    }
}

/// The first key of the setup in which `row` and its `baseline` differ, with the two values
/// as written in a file: the keys that make a speed-up compare one setup with and without
/// reduction. The reduction itself (schedule, layer_tokens, selection) may differ, and so may
/// attention, precision and the prompt, where a source measured its baseline so (a method that
/// needs eager attention, beside its flash baseline: docs/accuracy.md); and a GPU the source
/// does not name (`gpu = "unknown"`).
fn setup_difference(
    row: &Measurement,
    baseline: &Measurement,
) -> Option<(&'static str, String, String)> {
    let quoted = |s: &str| format!("\"{s}\"");
    let keys = [
        (
            // The key the file wrote: `source` stands for the group where neither row names one.
            if row.source_group.is_none() && baseline.source_group.is_none() {
                "source"
            } else {
                "source_group"
            },
            quoted(row.group()),
            quoted(baseline.group()),
        ),
        ("model", quoted(&row.model), quoted(&baseline.model)),
        ("gpu", quoted(&row.gpu), quoted(&baseline.gpu)),
        (
            "framework",
            quoted(&row.framework),
            quoted(&baseline.framework),
        ),
        (
            "timed",
            quoted(row.timed.name()),
            quoted(baseline.timed.name()),
        ),
        ("batch", row.batch.to_string(), baseline.batch.to_string()),
        ("tp", row.tp.to_string(), baseline.tp.to_string()),
    ];
    // A GPU the source does not name may be its baseline's (the row is not priced anyway).
    let unnamed = [&row.gpu, &baseline.gpu].contains(&&UNKNOWN_GPU.to_string());
    keys.into_iter()
        .find(|(key, a, b)| a != b && !(*key == "gpu" && unnamed))
}

/// One `[[measurement]]` table on its own, to place a schema error on its line and key.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OneRow {
    #[allow(dead_code)]
    measurement: Vec<Measurement>,
}

/// The line, column and key of row `i`'s schema error: the row's text is parsed again on its
/// own, behind as many empty lines as precede it, so the line numbers are the file's.
fn row_error_line(text: &str, headers: &[usize], i: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().collect();
    let start = *headers.get(i)? - 1;
    let end = headers.get(i + 1).map_or(lines.len(), |h| h - 1);
    let slice = format!("{}{}", "\n".repeat(start), lines[start..end].join("\n"));
    toml::from_str::<OneRow>(&slice)
        .err()
        .map(|e| crate::error::toml_error_line(&slice, &e))
}

/// What to write for a required key the row lacks (`missing field `attention``), so a user's
/// first row needs no trip to the docs: the key's words, or what its number means.
fn missing_key_hint(message: &str) -> Option<String> {
    let key = message.split("missing field `").nth(1)?.split('`').next()?;
    let words = |names: String| format!("write {key} = one of {names}");
    Some(match key {
        "id" => "write id = \"...\", a name unique in the file".into(),
        "source" => "write source = \"...\": the paper and table, or your lab and date".into(),
        "model" | "gpu" | "framework" => format!(
            "write {key} = a preset (`aim-sim list {key}s` lists them) or a {key} file's path"
        ),
        "timed" => words(
            Timed::ALL
                .iter()
                .map(|t| t.name())
                .collect::<Vec<_>>()
                .join(", "),
        ),
        "attention" => words(<AttentionImpl as crate::choice::Choice>::names()),
        "text_tokens" => "write text_tokens = the prompt's text tokens".into(),
        "frames" => "write frames = the images or video frames (0 for a text-only prompt)".into(),
        "schedule" => {
            "write schedule = \"none\" for a run without reduction, or a schedule preset or file"
                .into()
        }
        "measured_ms" => "write measured_ms = the time measured, in milliseconds".into(),
        _ => return None,
    })
}

/// `gpu = "unknown"`: the source does not say which GPU it ran on; the row is listed, not priced.
pub const UNKNOWN_GPU: &str = "unknown";

/// Bounds of `measured_ms`: a prefill shorter than a microsecond or longer than a day is a
/// typo or a unit mistake (seconds, microseconds), and would print as 0 or infinity.
pub const MEASURED_MS_RANGE: (f64, f64) = (1e-3, 86_400_000.0);

fn one() -> u64 {
    1
}
fn sixteen() -> u32 {
    16
}
fn is_true(b: &bool) -> bool {
    *b
}

fn yes() -> bool {
    true
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

    /// Parses measurement-file text whose relative paths start at `dir`. A row that does not
    /// fit the schema (a missing or misspelt key) is named by its `id` and the line of its
    /// `[[measurement]]`, not by the file's first line.
    pub fn parse(text: &str, origin: &str, dir: PathBuf) -> Result<Measurements> {
        // Another kind of file says which (a GPU file was "unknown top-level key 'aliases'").
        let parse_error = |message: String| {
            crate::presets::with_kind_hint(
                Error::Parse {
                    origin: origin.to_string(),
                    message,
                },
                text,
                crate::presets::FileKind::Measurements,
            )
        };
        let table: toml::Table = toml::from_str(text).map_err(|e| {
            // JSON reads as TOML that fails on its first line: say what the file must be.
            if serde_json::from_str::<serde_json::Value>(text).is_ok() {
                parse_error(
                    "is JSON; a measurement file is TOML: one [[measurement]] table per row, \
                     in reference/measurements.toml's keys"
                        .into(),
                )
            } else if e.message().contains("duplicate key")
                && text.lines().any(|l| l.trim() == "[measurement]")
            {
                // Rows written `[measurement]`: the second is the same table again.
                parse_error(format!(
                    "{}: each row is a table of its own, written [[measurement]] (with two brackets)",
                    crate::error::toml_error_line(text, &e)
                ))
            } else {
                parse_error(crate::error::toml_error_line(text, &e))
            }
        })?;
        if let Some(key) = table.keys().find(|k| k.as_str() != "measurement") {
            return Err(parse_error(format!(
                "unknown top-level key '{key}': a measurement file holds only [[measurement]] tables"
            )));
        }
        let rows = match table.get("measurement") {
            None => Vec::new(),
            Some(toml::Value::Array(items)) => {
                // Line of each `[[measurement]]` header, in order, to place a row's error.
                let headers: Vec<usize> = text
                    .lines()
                    .enumerate()
                    .filter(|(_, l)| l.trim_start().starts_with("[[measurement]]"))
                    .map(|(i, _)| i + 1)
                    .collect();
                let mut rows = Vec::with_capacity(items.len());
                for (i, item) in items.iter().enumerate() {
                    let mut row = Measurement::deserialize(item.clone()).map_err(|e| {
                        let id = match item.get("id") {
                            Some(toml::Value::String(id)) => format!("'{id}'"),
                            Some(_) => format!("#{} (its id is not a string)", i + 1),
                            None => format!("#{} (no id)", i + 1),
                        };
                        let message = row_error_line(text, &headers, i).unwrap_or_else(|| {
                            let line = headers
                                .get(i)
                                .map_or(String::new(), |l| format!("line {l}: "));
                            format!("{line}{}", e.message().replace('\n', " ").trim())
                        });
                        // Counts that start at 1 (a negative batch was told "0 or more",
                        // then 0 "must be at least 1").
                        let message = if ["batch", "tp", "text_tokens", "tokens_per_frame"]
                            .iter()
                            .any(|k| message.contains(&format!("key '{k}'")))
                        {
                            message
                                .replace("a whole number, 0 or more", "a whole number, at least 1")
                        } else {
                            message
                        };
                        let hint =
                            missing_key_hint(&message).map_or(String::new(), |h| format!(": {h}"));
                        parse_error(format!("measurement {id}: {message}{hint}"))
                    })?;
                    // Counted from `[[measurement]]` headers: a header inside a string
                    // would miscount, so they are used only when there is one per row.
                    if headers.len() == items.len() {
                        row.line = headers.get(i).copied();
                    }
                    rows.push(row);
                }
                rows
            }
            Some(_) => {
                return Err(parse_error(
                    "'measurement' must be an array of tables: write each row as [[measurement]]"
                        .into(),
                ))
            }
        };
        // A preset named another way (`H100`, a hub id, nvidia-smi's device name) is recorded
        // by its own name: the fit groups rows by GPU, and reports name the preset.
        let mut rows = rows;
        for r in &mut rows {
            for (value, list) in [
                (&mut r.model, presets::MODELS),
                (&mut r.gpu, presets::GPUS),
                (&mut r.framework, presets::FRAMEWORKS),
                (&mut r.schedule, presets::SCHEDULES),
            ] {
                if let Some(name) = presets::canonical_at(value, list, &dir) {
                    *value = name.to_string();
                }
            }
        }
        let m = Measurements {
            rows,
            dir,
            origin: origin.to_string(),
        };
        m.validate()?;
        Ok(m)
    }

    fn validate(&self) -> Result<()> {
        let bad = |r: &Measurement, message: String| {
            Err(Error::Parse {
                origin: self.origin.clone(),
                message: format!("{}: {message}", r.named()),
            })
        };
        if self.rows.is_empty() {
            return Err(Error::Parse {
                origin: self.origin.clone(),
                message: "no [[measurement]] tables".into(),
            });
        }
        // Counts first, every row: a baseline row's batch = 0 was told as a setup mismatch of
        // the reduced row that names it ("batch = 1 but its baseline has batch = 0").
        for r in &self.rows {
            if let Some(key) = [("batch", r.batch), ("tp", r.tp)]
                .into_iter()
                .find_map(|(k, v)| (v == 0).then_some(k))
            {
                return bad(r, format!("{key} must be at least 1"));
            }
        }
        for (i, r) in self.rows.iter().enumerate() {
            if r.id.trim().is_empty() {
                return Err(Error::Parse {
                    origin: self.origin.clone(),
                    message: format!(
                        "measurement #{} has an empty id: give id = \"...\", a name unique in the file (errors and reports name rows by it)",
                        i + 1
                    ),
                });
            }
            if self.rows[..i].iter().any(|o| o.id == r.id) {
                return bad(r, "the id is used twice: ids must be unique".into());
            }
            // A blank group made unrelated sources one (left out together, one harness).
            if r.source.trim().is_empty() {
                return bad(r,
                    "source is empty: say where the measurement is printed (paper and table, or document); rows of one source are left out together".into(),
                );
            }
            if r.source_group
                .as_deref()
                .is_some_and(|g| g.trim().is_empty())
            {
                return bad(r,
                    "source_group is empty: give the group's name (rows of one paper's table or one document version share it), or drop the key to group by source".into(),
                );
            }
            let (lo, hi) = MEASURED_MS_RANGE;
            if !(r.measured_ms >= lo && r.measured_ms <= hi) {
                return bad(r,
                    format!(
                        "measured_ms = {:?} is outside {lo} ms (1 µs) to {hi} ms (1 day): give the measured time in milliseconds",
                        r.measured_ms
                    ),
                );
            }
            if let Some(b) = &r.baseline {
                let Some(base) = self.rows.iter().find(|o| &o.id == b).filter(|_| b != &r.id)
                else {
                    return bad(r,
                        format!("baseline '{b}' is not another row's id in this file: add the row measured without reduction under that id, or drop baseline"),
                    );
                };
                // A speed-up is over the same input without reduction: a reduced or paired
                // baseline (two rows naming each other) printed 1.00× speed-ups.
                let reduced = if base.baseline.is_some() {
                    Some("names a baseline itself")
                } else if base.schedule != "none" {
                    Some("has a schedule other than \"none\"")
                } else if base.selection.is_some() {
                    Some("prices a selection")
                } else if base
                    .layer_tokens
                    .as_ref()
                    .is_some_and(|l| l.windows(2).any(|w| w[1] < w[0]))
                {
                    Some("has layer_tokens that drop")
                } else {
                    None
                };
                if let Some(why) = reduced {
                    return bad(r,
                        format!("its baseline '{b}' {why}, so it is not the setup without reduction: name the row measured without reduction (schedule = \"none\"), or drop baseline"),
                    );
                }
                if let Some((key, row, theirs)) = setup_difference(r, base) {
                    return bad(r,
                        format!(
                            "{key} = {row} but its baseline '{b}' has {key} = {theirs}: a baseline is the same setup without reduction (same source group, model, gpu, framework, timed, batch and tp), so a speed-up across them measures the setups, not the reduction; name a baseline of the same setup, or drop baseline"
                        ),
                    );
                }
            }
            if r.timed == Timed::Vision && r.frames == 0 {
                return bad(r,
                    "timed = \"vision\" times the vision encoder over `frames` images: give frames > 0".into(),
                );
            }
            if r.timed == Timed::Ttft && r.frames == 0 {
                return bad(r,
                    "timed = \"ttft\" on a text-only row (frames = 0): there is no vision encoder to add, so aim-sim would price its prefill; write timed = \"prefill\" (and say in timed_note what the source timed)".into(),
                );
            }
            if r.layer_tokens.is_some() {
                if r.schedule != "none" {
                    return bad(r,
                        format!(
                            "layer_tokens and schedule = \"{}\" both set every layer's tokens: layer_tokens replaces the schedule (no merging or importance is priced), so write schedule = \"none\" beside it, or drop layer_tokens",
                            r.schedule
                        ),
                    );
                }
                // Without tokens_per_frame the model's default applies, known once the row's
                // scenario is built (Measurements::scenario checks it there).
                if r.frames == 0 || r.tokens_per_frame.is_some() {
                    if let Some(message) = r.layer_beyond_prompt(r.prompt_tokens()) {
                        return bad(r, message);
                    }
                }
            }
            for (key, value, list, kind) in [
                ("model", &r.model, presets::MODELS, "model"),
                ("gpu", &r.gpu, presets::GPUS, "GPU"),
                ("framework", &r.framework, presets::FRAMEWORKS, "framework"),
                ("schedule", &r.schedule, presets::SCHEDULES, "schedule"),
            ] {
                if key == "gpu" && value == UNKNOWN_GPU {
                    continue;
                }
                if let Some(message) = unknown_name(key, None, value, list, kind) {
                    return bad(r, message);
                }
            }
        }
        Ok(())
    }

    /// These rows and `other`'s, for refits on both (`--refit-also`): `other`'s file paths are
    /// made absolute so that they still resolve from this file's folder, and a row of `other`
    /// whose id this file also has is left out (this file's row is the one checked). Returns
    /// the pool and how many of `other`'s rows were left out so.
    pub fn with_rows_of(&self, other: &Measurements) -> Result<(Measurements, usize)> {
        let mut rows = self.rows.clone();
        let mut shadowed = 0;
        for r in &other.rows {
            if self.rows.iter().any(|o| o.id == r.id) {
                shadowed += 1;
                continue;
            }
            let mut r = r.clone();
            for (value, list) in [
                (&mut r.model, presets::MODELS),
                (&mut r.gpu, presets::GPUS),
                (&mut r.framework, presets::FRAMEWORKS),
                (&mut r.schedule, presets::SCHEDULES),
            ] {
                if value != UNKNOWN_GPU && !list.iter().any(|(n, _)| n == value) {
                    let path = other.dir.join(&*value);
                    *value = std::path::absolute(&path)
                        .map_err(|source| Error::Io {
                            path: path.clone(),
                            source,
                        })?
                        .display()
                        .to_string();
                }
            }
            rows.push(r);
        }
        let pool = Measurements {
            rows,
            dir: self.dir.clone(),
            origin: format!("{} + {}", self.origin, other.origin),
        };
        pool.validate()?;
        Ok((pool, shadowed))
    }

    /// A preset name as is (parsing recorded every preset by its own name), else a path
    /// relative to the file.
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
            vision_attention: r.vision_attention,
            experts: r.experts,
            include_vision: matches!(r.timed, Timed::Ttft | Timed::Vision) && r.frames > 0,
            w_bits: r.w_bits,
            a_bits: r.a_bits,
            kv_bits: r.kv_bits,
            batch: r.batch,
            tp: r.tp,
            all_logits: r.all_logits,
            selection: r.selection,
            ..Spec::default()
        }
    }

    /// The row's scenario, with `framework` instead of the row's own when given. Errors name the
    /// row and its keys (not the main command's flags).
    pub fn scenario(&self, r: &Measurement, framework: Option<&Framework>) -> Result<Scenario> {
        if r.gpu == UNKNOWN_GPU {
            return Err(self.row_error(r,
                Error::invalid(
                    "gpu = \"unknown\": the source does not name its GPU, so the row cannot be priced",
                ),
            ));
        }
        let mut spec = self.spec(r);
        if let Some(f) = framework {
            spec.framework = Definition::Inline(Box::new(f.clone()));
        }
        let scenario = Scenario::from_spec(&spec).map_err(|e| {
            // `timed` asks for the encoder (the spec's include_vision, no key of this file):
            // on a model without one, name the row's key.
            let without = Spec {
                include_vision: false,
                ..spec.clone()
            };
            match Scenario::from_spec(&without) {
                Ok(s) if spec.include_vision && s.model.vision.is_none() => Error::invalid(format!(
                    "timed = \"{}\" prices the vision encoder, and model '{}' has no vision tower (a text-only model): write timed = \"prefill\" with frames = 0 for a text-only prompt, or name a vision-language model",
                    r.timed.name(),
                    s.model.name
                )),
                _ => e,
            }
        });
        // Named by the file too, as the file's other errors are: a row's setup that does not
        // price (layer_tokens of the wrong length) once named the row alone.
        let in_file = |e: Error| self.row_error(r, e);
        let scenario = scenario.map_err(in_file)?;
        // tokens_per_frame absent: the model's, now known.
        let prompt = scenario.input.visual_tokens() + scenario.input.text_tokens;
        match r.layer_beyond_prompt(prompt) {
            Some(message) => Err(in_file(Error::invalid(message))),
            None => Ok(scenario),
        }
    }
}

/// An error of one row, naming it and its line; the core's message names the row's keys
/// (`frames`, not the command line's `--frames`).
pub fn row_error(r: &Measurement, e: Error) -> Error {
    Error::invalid(format!("{}: {e}", r.named()))
}

impl Measurements {
    /// [`row_error`] in this file: named by the file too, as its other errors are (a row below
    /// its ideal roofline named the row alone).
    pub fn row_error(&self, r: &Measurement, e: Error) -> Error {
        Error::Parse {
            origin: self.origin.clone(),
            message: row_error(r, e).marked(),
        }
    }
}

use crate::presets::edit_distance;

/// The presets nearest to a misspelt name, closest first (at most three): those with at most a
/// third of their letters different, and those the name extends or shortens (`a800-80g`, `a800`).
pub fn suggestions<'a>(name: &str, names: &[&'a str]) -> Vec<&'a str> {
    let lower = name.to_ascii_lowercase();
    let mut near: Vec<(usize, &str)> = names
        .iter()
        .map(|n| (edit_distance(&lower, n), *n))
        .filter(|(d, n)| {
            *d <= (n.len().max(3) / 3).max(1)
                || (n.len() >= 2 && (lower.starts_with(n) || n.starts_with(lower.as_str())))
        })
        .collect();
    near.sort_by_key(|(d, _)| *d);
    near.into_iter().take(3).map(|(_, n)| n).collect()
}

/// Whether a value names a file rather than a preset: a folder in it, or a file extension
/// (letters only, so `llava-1.5-7b` stays a name).
fn looks_like_path(value: &str) -> bool {
    value.contains('/')
        || value.contains(std::path::MAIN_SEPARATOR)
        || Path::new(value)
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| !e.is_empty() && e.chars().all(|c| c.is_ascii_alphabetic()))
}

/// A message for a `key = "value"` that is neither a preset nor a file path, or `None`; `option`
/// names the option instead of a file's key when the value came from one.
pub(crate) fn unknown_name(
    key: &str,
    option: Option<Key>,
    value: &str,
    list: &[presets::Preset],
    kind: &str,
) -> Option<String> {
    let names = presets::names(list);
    if presets::canonical(value, list).is_some() || looks_like_path(value) {
        return None;
    }
    let near = suggestions(value, &names);
    let hint = if near.is_empty() {
        String::new()
    } else {
        format!(
            "did you mean {}? ",
            near.iter()
                .map(|n| format!("'{n}'"))
                .collect::<Vec<_>>()
                .join(" or ")
        )
    };
    let unknown = if key == "gpu" {
        format!(", or \"{UNKNOWN_GPU}\" when the source does not name its GPU")
    } else {
        String::new()
    };
    let (given, relative) = if let Some(option) = option {
        (format!("{option} {value}"), "")
    } else {
        (
            format!("{key} = \"{value}\""),
            ", relative to the measurement file",
        )
    };
    Some(format!(
        "{given} is not a {kind} preset: {hint}valid names are {}{unknown} (or a path to your own file{relative})",
        names.join(", ")
    ))
}

/// Predicted time of a scenario's own run (no baseline), seconds.
pub fn predicted_time_s(scenario: &Scenario) -> Result<f64> {
    Ok(run_of(scenario)?.totals.time_s)
}

/// The scenario's own run (no baseline), priced.
fn run_of(scenario: &Scenario) -> Result<crate::cost::RunCost> {
    let plan = scenario.plan()?;
    Ok(scenario
        .cost_model
        .implementation()
        .run_workload(&scenario.context(), &scenario.workload(&plan)))
}

/// Predicted time of what a row timed, seconds: for `timed = "prefill"` the LLM forward, so
/// not the work a method does before the LLM (its selection or merging; what `simulate`'s
/// totals hold beside it); for `"ttft"` the whole run; for `"vision"` the vision stage alone
/// (encoder and projector; the LLM's host overhead per forward is not in it).
pub fn row_time_s(scenario: &Scenario, timed: Timed) -> Result<f64> {
    let run = run_of(scenario)?;
    let before_llm_s = run
        .pipeline
        .as_ref()
        .map_or(0.0, |p| p.vision_time_s + p.merge_time_s);
    match timed {
        Timed::Ttft => Ok(run.totals.time_s),
        Timed::Prefill => Ok(run.totals.time_s - before_llm_s),
        Timed::Vision => match run.pipeline.map(|p| p.vision_time_s) {
            Some(t) if t > 0.0 => Ok(t),
            _ => Err(Error::invalid(
                "timed = \"vision\": the model prices no vision encoder (a text-only model, or a cost model without stages)",
            )),
        },
    }
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
    /// The leave-one-source-out fit ran no row on this GPU (its interval is a new GPU's).
    #[serde(skip)]
    pub loso_new_gpu: bool,
    /// The leave-one-source-out fit anchored on the baseline's measured time (rows with a
    /// baseline): what `--anchor-ms` would predict for a user who timed that baseline.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_anchored_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_anchored_error: Option<f64>,
    /// Its 80 % interval: the profile's spread as an anchor leaves it ([`Spread::anchored`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_anchored_interval_ms: Option<[f64; 2]>,
    /// The other estimate from the same baseline measurement (rows with a baseline): its
    /// measured time over the leave-one-source-out predicted speed-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_scaled_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_scaled_error: Option<f64>,
    /// With the framework refitted without this row alone (`--cv row`, `--loo`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_predicted_ms: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loo_error: Option<f64>,
    /// Why the row is not priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub not_priced: Option<String>,
    /// What `simulate` warns of for the same run (weights that do not fit, a schedule whose
    /// tokens come back, ...), keys named as the file names them; absent when none, and for
    /// `timed = "vision"` rows (the warnings are the LLM's, which they do not time).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    pub source: String,
    /// A mixture-of-experts model: its interval takes the MoE sources' spread.
    #[serde(skip)]
    pub moe: bool,
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
        let sorted: Vec<f64> = v.iter().map(|(_, e)| *e).collect();
        let median = median_of_sorted(&sorted).expect("at least one row");
        let (worst_id, worst) = v[n - 1];
        Some(Stats {
            rows: n,
            median_abs_error: median,
            worst_abs_error: worst,
            worst_id: worst_id.to_string(),
        })
    }
}

/// The median of |error| with each source group weighted equally: a row of a group of `n`
/// rows weighs `1 / n`. Where the cumulated weight reaches exactly half at a row, the median is
/// the mean of that row and the next (so equal groups of one row each give the plain median).
/// `None` for no rows.
pub fn source_weighted_median<'a>(errors: impl IntoIterator<Item = (&'a str, f64)>) -> Option<f64> {
    let rows: Vec<(&str, f64)> = errors.into_iter().collect();
    if rows.is_empty() {
        return None;
    }
    let mut sizes: std::collections::BTreeMap<&str, usize> = Default::default();
    for (g, _) in &rows {
        *sizes.entry(g).or_default() += 1;
    }
    let mut weighted: Vec<(f64, f64)> = rows
        .iter()
        .map(|(g, e)| (e.abs(), 1.0 / sizes[g] as f64))
        .collect();
    weighted.sort_by(|a, b| a.0.total_cmp(&b.0));
    let half = sizes.len() as f64 / 2.0;
    let mut cumulated = 0.0;
    for (i, (e, w)) in weighted.iter().enumerate() {
        cumulated += w;
        if (cumulated - half).abs() < 1e-9 {
            return Some(weighted.get(i + 1).map_or(*e, |next| (e + next.0) / 2.0));
        }
        if cumulated > half {
            return Some(*e);
        }
    }
    weighted.last().map(|l| l.0)
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
    /// Median |leave-one-source-out error| with each source group weighted equally (its rows
    /// share one unit of weight): a user's stack is one new source, and a source with many
    /// rows (three releases of one benchmark table) would otherwise set the row median alone.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_source_weighted: Option<f64>,
    /// Rows of `loso` whose fit fell back on pooled values or other frameworks.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_fallback_rows: Option<usize>,
    /// Share of rows whose measurement lies inside the 80 % interval around the
    /// leave-one-source-out prediction (σ from the profile's `[spread]`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_interval_coverage: Option<f64>,
    /// The same with σ, too, estimated without the row's source (from the other sources'
    /// leave-one-source-out residuals): how often the interval holds on a stack neither the fit
    /// nor its spread saw. Rows whose framework has no other source are not counted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_interval_coverage_held_out: Option<f64>,
    /// Median half-width of the rows' 80 % intervals, `(high − low) / 2` over the prediction
    /// (issue 21's bar: ≤ 40 %).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_half_width: Option<f64>,
    /// Rows with a baseline: leave-one-source-out without an anchor, and anchored on the
    /// baseline's measured time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_unanchored: Option<Stats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_anchored: Option<Stats>,
    /// Share of the anchored predictions whose 80 % interval holds the measurement.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_anchored_coverage: Option<f64>,
    /// The same rows as the baseline's measured time over the predicted speed-up.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub loso_scaled: Option<Stats>,
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
    /// Rows with a baseline whose speed-up is not compared, and why.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unpaired: Vec<Unpaired>,
    /// Rows measured faster than the ideal roofline of the work priced for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub below_roofline: Vec<BelowRoofline>,
    /// Rows of one source priced as the same work but measured apart.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub same_work_apart: Vec<SameWorkApart>,
    /// Pairs of one source where the run priced as more work was measured faster.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub order_inverted: Vec<OrderInverted>,
    /// The profile every row was priced under (`--framework`), when not the rows' own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    /// The rows the cross-validations refitted on (absent without `--cv`/`--loo`). The
    /// profile column is each row's profile as shipped: the presets are fitted on
    /// `reference/measurements.toml`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refit_on: Option<String>,
}

/// A row measured faster than its ideal roofline (every kernel at the GPU's datasheet peaks, no
/// overhead), which no run of the priced work can be: the source timed less than the row says
/// (no GPU synchronisation, part of the model, fewer tokens), or the priced work is more than
/// the source ran (a projector its harness leaves out). Listed so that a user's file, or a
/// paper's table, is read again before it is trusted (SpecFlow's 64-token A6000 row was faster
/// than the A6000 streams the model's weights once; docs/accuracy.md).
#[derive(Debug, Clone, Serialize)]
pub struct BelowRoofline {
    pub id: String,
    pub timed: Timed,
    pub measured_ms: f64,
    pub roofline_ms: f64,
}

/// Rows of one source group priced as the same work (the same roofline and prediction) whose
/// measured times lie more than [`SAME_WORK_SPREAD`] apart: the timer holds work these rows do
/// not price — for a `prefill` row the vision encoder, or a method's own selection before the
/// LLM (how FlowCut's, STD's and Cen-Prune's timers were read as holding the encoder, issue 21).
#[derive(Debug, Clone, Serialize)]
pub struct SameWorkApart {
    pub source_group: String,
    pub timed: Timed,
    /// Fastest first.
    pub ids: Vec<String>,
    pub measured_ms: Vec<f64>,
    pub predicted_ms: f64,
}

/// How far apart (slowest / fastest − 1) measurements of the same priced work of one source
/// may lie before `check` lists them: run-to-run scatter of one harness is a few per cent (the
/// same TensorRT-LLM cell moves by up to 10 % only between releases, docs/accuracy.md).
pub const SAME_WORK_SPREAD: f64 = 0.05;

/// The clusters of `rows` (one source group each, the same roofline and prediction) whose
/// measured times spread more than [`SAME_WORK_SPREAD`].
fn same_work_apart(rows: &[RowCheck]) -> Vec<SameWorkApart> {
    let same = |a: f64, b: f64| (a - b).abs() <= 1e-9 * a.abs().max(b.abs());
    // (prediction, roofline, rows) of each cluster.
    let mut clusters: Vec<(f64, f64, Vec<&RowCheck>)> = Vec::new();
    for r in rows {
        let (Some(p), Some(roof)) = (r.predicted_ms, r.roofline_ms) else {
            continue;
        };
        let home = clusters.iter_mut().find(|(q, qr, c)| {
            c[0].source_group == r.source_group
                && c[0].timed == r.timed
                && same(p, *q)
                && same(roof, *qr)
        });
        match home {
            Some((_, _, c)) => c.push(r),
            None => clusters.push((p, roof, vec![r])),
        }
    }
    clusters
        .into_iter()
        .filter_map(|(predicted_ms, _, mut c)| {
            c.sort_by(|a, b| a.measured_ms.total_cmp(&b.measured_ms));
            let (fast, slow) = (c[0].measured_ms, c[c.len() - 1].measured_ms);
            (slow > fast * (1.0 + SAME_WORK_SPREAD)).then(|| SameWorkApart {
                source_group: c[0].source_group.clone(),
                timed: c[0].timed,
                ids: c.iter().map(|r| r.id.clone()).collect(),
                measured_ms: c.iter().map(|r| r.measured_ms).collect(),
                predicted_ms,
            })
        })
        .collect()
}

/// Two rows of one source group (and what they timed) where the run priced as more work was
/// measured more than [`SAME_WORK_SPREAD`] faster than the other: what separates them in the
/// harness is work the rows do not price (FlowCut's LLaVA-NeXT run, priced with its layer-1
/// prune, is measured faster than VisionZip's, whose selection before the LLM is not priced).
#[derive(Debug, Clone, Serialize)]
pub struct OrderInverted {
    pub source_group: String,
    pub timed: Timed,
    /// The run priced as more work, measured faster.
    pub faster: String,
    pub slower: String,
    /// `[faster, slower]`.
    pub measured_ms: [f64; 2],
    pub predicted_ms: [f64; 2],
}

/// The pairs of `rows` (one source group, one `timed`) whose measured order contradicts their
/// priced order by more than [`SAME_WORK_SPREAD`]: priced as at least 1 % more work, measured
/// that much faster.
fn order_inverted(rows: &[RowCheck]) -> Vec<OrderInverted> {
    let priced: Vec<(&RowCheck, f64)> = rows
        .iter()
        .filter_map(|r| Some((r, r.predicted_ms?)))
        .collect();
    let mut out = Vec::new();
    for &(a, pa) in &priced {
        for &(b, pb) in &priced {
            if a.source_group == b.source_group
                && a.timed == b.timed
                && pa > pb * 1.01
                && a.measured_ms * (1.0 + SAME_WORK_SPREAD) < b.measured_ms
            {
                out.push(OrderInverted {
                    source_group: a.source_group.clone(),
                    timed: a.timed,
                    faster: a.id.clone(),
                    slower: b.id.clone(),
                    measured_ms: [a.measured_ms, b.measured_ms],
                    predicted_ms: [pa, pb],
                });
            }
        }
    }
    out
}

/// A row measured against a baseline whose speed-up cannot be compared.
#[derive(Debug, Clone, Serialize)]
pub struct Unpaired {
    pub id: String,
    pub baseline: String,
    pub reason: String,
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
    /// Price every row under this framework profile (a preset or a file) instead of its own.
    pub framework: Option<String>,
    /// More rows the cross-validations refit on besides the checked file's (`--refit-also`,
    /// e.g. the published set beside a user's own rows); only the file's rows are reported.
    pub refit_also: Option<Measurements>,
}

/// Prices every row of `m` and compares.
pub fn check(m: &Measurements, options: &CheckOptions) -> Result<CheckReport> {
    check_with_progress(m, options, &|_, _| {})
}

/// [`check`], calling `progress` with (refits done, refits in all) as the cross-validations'
/// refits finish.
pub fn check_with_progress(
    m: &Measurements,
    options: &CheckOptions,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<CheckReport> {
    let roofline = Framework::roofline();
    let profile = match &options.framework {
        Some(name) => {
            if !options.cv.is_empty() {
                return Err(Error::invalid(
                    format!("{FRAMEWORK} prices every row under one fixed profile while {CV}/{LOO} refits each row's own: give one of them"),
                ));
            }
            if let Some(message) = unknown_name(
                "framework",
                Some(FRAMEWORK),
                name,
                presets::FRAMEWORKS,
                "framework",
            ) {
                return Err(Error::invalid(message));
            }
            Some(Framework::load(name)?)
        }
        None => None,
    };
    // What the cross-validations refit on: the file's rows, and `--refit-also`'s if given.
    let (pool, refit_on) = match (&options.refit_also, options.cv.is_empty()) {
        (Some(_), true) => {
            return Err(Error::invalid(format!(
                "{REFIT_ALSO} adds rows to the refits of {CV} and {LOO}, and none was asked for: give {CV} (or {LOO}) beside it, or drop it"
            )))
        }
        (Some(extra), false) => {
            let (pool, shadowed) = m.with_rows_of(extra)?;
            let also = match shadowed {
                0 => format!("{} ({} rows)", extra.origin, extra.rows.len()),
                n => format!(
                    "{} ({} of its {} rows; {n} share an id with the checked file's rows, which are taken instead)",
                    extra.origin,
                    extra.rows.len() - n,
                    extra.rows.len()
                ),
            };
            let on = format!("{} ({} rows) and {also}", m.origin, m.rows.len());
            (std::borrow::Cow::Owned(pool), Some(on))
        }
        (None, false) => (
            std::borrow::Cow::Borrowed(m),
            Some(format!(
                "{}'s own {} rows only",
                m.origin,
                m.rows.len()
            )),
        ),
        (None, true) => (std::borrow::Cow::Borrowed(m), None),
    };
    // Both cross-validations' refits run side by side (fit::cross_validate).
    let fit::CrossValidated {
        loo,
        loso,
        held_out,
    } = fit::cross_validate(
        &pool,
        options.cv.contains(&Cv::Row),
        options.cv.contains(&Cv::Source),
        progress,
    )?;
    // The σ of each framework's prediction interval, from its profile's [spread].
    let mut spreads: std::collections::BTreeMap<String, Option<Spread>> = Default::default();
    let mut rows = Vec::with_capacity(m.rows.len());
    for r in &m.rows {
        let mut row = RowCheck {
            id: r.id.clone(),
            framework: options
                .framework
                .clone()
                .unwrap_or_else(|| r.framework.clone()),
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
            loso_new_gpu: false,
            loso_anchored_ms: None,
            loso_anchored_error: None,
            loso_anchored_interval_ms: None,
            loso_scaled_ms: None,
            loso_scaled_error: None,
            loo_predicted_ms: None,
            loo_error: None,
            not_priced: None,
            warnings: Vec::new(),
            source: r.source.clone(),
            moe: false,
        };
        // Names are checked for every row, priced or not (a row without a GPU has none to check).
        let scenario = match r.gpu.as_str() {
            UNKNOWN_GPU => None,
            _ => Some(m.scenario(r, profile.as_ref())?),
        };
        let (Some(scenario), None) = (scenario, r.unpriced_reason()) else {
            row.not_priced = r.unpriced_reason().map(String::from);
            rows.push(row);
            continue;
        };
        let err = |ms: f64| ms / r.measured_ms - 1.0;
        let ms = row_time_s(&scenario, r.timed).map_err(|e| m.row_error(r, e))? * 1e3;
        let ideal = row_time_s(&m.scenario(r, Some(&roofline))?, r.timed)
            .map_err(|e| m.row_error(r, e))?
            * 1e3;
        // The warnings the main command prints for the same run (its pricing succeeded above).
        // A `vision` row times the encoder alone: the LLM the run's warnings are about (its
        // memory over every image's tokens, its layers' tokens) never ran.
        row.warnings = (r.timed != Timed::Vision)
            .then(|| crate::sim::simulate(&scenario).ok())
            .flatten()
            .map(|report| {
                report
                    .run
                    .warnings
                    .iter()
                    .map(|w| crate::error::render_keys(w, |k| k.name().to_string()))
                    .collect()
            })
            .unwrap_or_default();
        row.predicted_ms = Some(ms);
        row.error = Some(err(ms));
        row.moe = scenario.model.moe.is_some();
        row.roofline_ms = Some(ideal);
        row.roofline_error = Some(err(ideal));
        if !spreads.contains_key(&row.framework) {
            let spread = match &profile {
                Some(p) if p.is_roofline() => None,
                Some(p) => p.spread,
                None => spread_of(m, &row.framework)?,
            };
            spreads.insert(row.framework.clone(), spread);
        }
        // The run's own spread (its profile's, for its model and its GPU: fitted values or
        // pooled; none under the roofline), never below the roofline: no run of the priced
        // work is faster.
        if let Some(s) = scenario.spread {
            row.predicted_interval_ms = Some(crate::sim::floored(s.time_interval(ms), ms, ideal));
        }
        if let Some(p) = loso.as_ref().and_then(|l| l.get(&r.id)) {
            row.loso_predicted_ms = Some(p.time_s * 1e3);
            row.loso_error = Some(err(p.time_s * 1e3));
            row.loso_fallback = p.fallback.clone();
            row.loso_new_gpu = p.new_gpu;
            row.loso_anchored_ms = p.anchored_s.map(|a| a * 1e3);
            row.loso_anchored_error = p.anchored_s.map(|a| err(a * 1e3));
            row.loso_anchored_interval_ms = p.anchored_s.and_then(|a| {
                let s = spreads[&row.framework]
                    .as_ref()?
                    .for_model(row.moe)
                    .anchored();
                Some(crate::sim::floored(
                    s.time_interval(a * 1e3),
                    a * 1e3,
                    ideal,
                ))
            });
        }
        if let Some(loo) = &loo {
            if let Some(p) = loo.get(&r.id) {
                row.loo_predicted_ms = Some(p * 1e3);
                row.loo_error = Some(err(p * 1e3));
            }
        }
        rows.push(row);
    }
    // The baseline ÷ the predicted speed-up, where the anchored figure exists (the same pairs).
    let scaled: Vec<Option<f64>> = rows
        .iter()
        .map(|r| {
            r.loso_anchored_ms?;
            let id = m.rows.iter().find(|x| x.id == r.id)?.baseline.as_ref()?;
            let b = rows.iter().find(|b| &b.id == id)?;
            Some(b.measured_ms * r.loso_predicted_ms? / b.loso_predicted_ms?)
        })
        .collect();
    for (r, ms) in rows.iter_mut().zip(scaled) {
        r.loso_scaled_ms = ms;
        r.loso_scaled_error = ms.map(|ms| ms / r.measured_ms - 1.0);
    }
    let (speedups, unpaired) = speedups(m, &rows, &spreads);
    let below_roofline = rows
        .iter()
        .filter_map(|r| {
            let roofline_ms = r.roofline_ms?;
            (r.measured_ms < roofline_ms).then(|| BelowRoofline {
                id: r.id.clone(),
                timed: r.timed,
                measured_ms: r.measured_ms,
                roofline_ms,
            })
        })
        .collect();
    let same_work_apart = same_work_apart(&rows);
    let order_inverted = order_inverted(&rows);
    let mut groups: Vec<String> = Vec::new();
    for r in &rows {
        if !groups.contains(&r.framework) {
            groups.push(r.framework.clone());
        }
    }
    // Held-out coverage (fit::held_out_hits), over every row the refits saw.
    let held = held_out.unwrap_or_default();
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
                let predicted_ms = r.loso_predicted_ms?;
                let [lo, hi] = crate::sim::floored(
                    s.for_model(r.moe)
                        .for_gpu(!r.loso_new_gpu)
                        .time_interval(predicted_ms),
                    predicted_ms,
                    r.roofline_ms?,
                );
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
            loso_source_weighted: source_weighted_median(
                rs.iter()
                    .filter_map(|r| r.loso_error.map(|e| (r.source_group.as_str(), e))),
            ),
            loso_fallback_rows: (!with_loso.is_empty()).then(|| {
                with_loso
                    .iter()
                    .filter(|r| r.loso_fallback.is_some())
                    .count()
            }),
            loso_interval_coverage: fit::share_of(covered.iter().map(|c| Some(*c))),
            loso_interval_coverage_held_out: fit::share_of(
                with_loso
                    .iter()
                    .map(|r| held.get(r.id.as_str()).and_then(|h| h.time)),
            ),
            interval_half_width: half_width(
                rs.iter()
                    .filter_map(|r| r.predicted_interval_ms.zip(r.predicted_ms)),
            ),
            loso_unanchored: Stats::of(rs.iter().filter_map(|r| {
                r.loso_anchored_error
                    .and(r.loso_error)
                    .map(|e| (r.id.as_str(), e))
            })),
            loso_anchored: Stats::of(
                rs.iter()
                    .filter_map(|r| r.loso_anchored_error.map(|e| (r.id.as_str(), e))),
            ),
            loso_anchored_coverage: fit::share_of(rs.iter().map(|r| {
                r.loso_anchored_interval_ms
                    .map(|[lo, hi]| lo <= r.measured_ms && r.measured_ms <= hi)
            })),
            loso_scaled: Stats::of(
                rs.iter()
                    .filter_map(|r| r.loso_scaled_error.map(|e| (r.id.as_str(), e))),
            ),
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
                let [lo, hi] = sp.speedup_interval(s.loso_speedup?);
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
            loso_source_weighted: source_weighted_median(ss.iter().filter_map(|s| {
                let group = rows.iter().find(|r| r.id == s.id)?.source_group.as_str();
                s.loso_error.map(|e| (group, e))
            })),
            loso_fallback_rows: None,
            loso_interval_coverage: fit::share_of(covered.iter().map(|c| Some(*c))),
            loso_interval_coverage_held_out: fit::share_of(
                ss.iter()
                    .map(|s| held.get(s.id.as_str()).and_then(|h| h.speedup)),
            ),
            interval_half_width: half_width(
                ss.iter()
                    .filter_map(|s| s.predicted_interval.map(|i| (i, s.predicted_speedup))),
            ),
            loso_unanchored: None,
            loso_anchored: None,
            loso_anchored_coverage: None,
            loso_scaled: None,
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
        unpaired,
        below_roofline,
        same_work_apart,
        order_inverted,
        framework: options.framework.clone(),
        refit_on,
    })
}

/// The median of `(high − low) / 2 / value` over `([low, high], value)` pairs (`None` for none).
fn half_width(intervals: impl IntoIterator<Item = ([f64; 2], f64)>) -> Option<f64> {
    let mut w: Vec<f64> = intervals
        .into_iter()
        .map(|([lo, hi], v)| (hi - lo) / 2.0 / v)
        .collect();
    w.sort_by(f64::total_cmp);
    median_of_sorted(&w)
}

/// The median of ascending values, the mean of the middle two for an even count.
fn median_of_sorted(v: &[f64]) -> Option<f64> {
    let n = v.len();
    match n {
        0 => None,
        _ if n % 2 == 1 => Some(v[n / 2]),
        _ => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}

/// The `[spread]` of the profile a framework name refers to in `m` (`None`: the roofline, or a
/// profile without one).
fn spread_of(m: &Measurements, name: &str) -> Result<Option<Spread>> {
    let f = Framework::load(&m.reference(name, presets::FRAMEWORKS))?;
    Ok(if f.is_roofline() { None } else { f.spread })
}

/// Speed-ups of every priced row against its priced baseline; the rows with a baseline that
/// cannot be compared, with the reason.
fn speedups(
    m: &Measurements,
    rows: &[RowCheck],
    spreads: &std::collections::BTreeMap<String, Option<Spread>>,
) -> (Vec<SpeedupCheck>, Vec<Unpaired>) {
    let by_id = |id: &str| rows.iter().find(|r| r.id == id);
    let mut out = Vec::new();
    let mut unpaired = Vec::new();
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
            let reason = match (&row.not_priced, &b.not_priced) {
                (Some(why), _) => format!("the row is not priced: {why}"),
                (None, Some(why)) => format!("its baseline is not priced: {why}"),
                (None, None) => "not priced".to_string(),
            };
            unpaired.push(Unpaired {
                id: row.id.clone(),
                baseline: b.id.clone(),
                reason,
            });
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
            .map(|s| s.speedup_interval(predicted));
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
    (out, unpaired)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `Timed::name` is the word a measurement file writes (serde's name), for every variant.
    #[test]
    fn timed_names_are_the_file_words() {
        for t in [Timed::Prefill, Timed::Ttft, Timed::Vision] {
            assert_eq!(serde_json::to_value(t).unwrap(), t.name());
        }
    }

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
    fn a_source_weighted_median_gives_each_source_one_vote() {
        // One row per source: the plain median, even counts averaged.
        let plain = [("a", 0.1), ("b", -0.3), ("c", 0.2)];
        assert_eq!(source_weighted_median(plain), Some(0.2));
        let even = [("a", 0.1), ("b", -0.3), ("c", 0.2), ("d", 0.0)];
        assert!((source_weighted_median(even).unwrap() - 0.15).abs() < 1e-15);
        // Nine rows of one source at 1 % and two sources at 30 % and 50 %: the row median
        // is 1 %, the sources' is 30 %.
        let mut crowded: Vec<(&str, f64)> = vec![("big", 0.01); 9];
        crowded.extend([("p", 0.3), ("q", -0.5)]);
        assert_eq!(
            Stats::of(crowded.iter().map(|(g, e)| (*g, *e)))
                .unwrap()
                .median_abs_error,
            0.01
        );
        assert_eq!(source_weighted_median(crowded), Some(0.3));
        assert_eq!(source_weighted_median([]), None);
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
