//! Keyword options → the core's inputs, the way `cli::args::SimArgs::overlay` turns flags into a
//! [`Spec`]: the options of a run, their kinds, exclusions and needs are the core's one table
//! (`aim_sim::spec::options::RUN`, from which the command line builds its flags too), names are
//! the long flags with `_` for `-`, every option is optional and overrides the `spec` base (a
//! run file, a `Spec`, or the defaults). No Python here: values arrive as JSON, so the rules can
//! be read alone.

use aim_sim::budget::{BudgetQuery, By, Solve};
use aim_sim::choice::Choice;
use aim_sim::spec::options::{self, Kind, RUN};
use aim_sim::spec::{parse_count, parse_count_or_zero};
use aim_sim::sweep::{Axes, GridSpec};
use aim_sim::{Error, Result, Spec};
use serde_json::{Map, Value};

/// The options of one simulated prefill: `aim-sim simulate`'s long flags, from the core's table.
pub fn sim() -> Vec<&'static str> {
    RUN.iter().map(|o| o.name).collect()
}

/// `aim-sim budget`'s own flags.
pub const BUDGET: &[&str] = &[
    "reference_schedule",
    "reference_frames",
    "by",
    "max_frames",
    "target_reduction",
    "solve",
];

/// `aim-sim serve`'s own flags (`aim_sim::serve::query::Query`'s fields).
pub const SERVE: &[&str] = &[
    "rate",
    "requests",
    "duration",
    "seed",
    "output_tokens",
    "frames_dist",
    "text_dist",
    "max_num_seqs",
    "max_num_batched_tokens",
    "chunked_prefill",
    "block_size",
    "gpu_memory_utilization",
    "kv_cache_gb",
    "slo_ttft",
    "slo_tpot",
    "slo_attainment",
    "find_max_rate",
];

/// `aim-sim sweep`'s own flags (besides the axes, which are options of a run: [`sim`]).
pub const SWEEP: &[&str] = &["jobs"];

/// `aim-sim budget`'s options that are positive counts on the command line (`parse_count`).
const BUDGET_COUNTS: &[&str] = &["reference_frames", "max_frames"];

/// Pairs `aim-sim budget` refuses together (clap `conflicts_with`).
const BUDGET_CONFLICTS: &[(&str, &str)] = &[
    ("target_reduction", "reference_frames"),
    ("target_reduction", "max_frames"),
];

/// The options of a run that are positive counts on the command line (`parse_count`), but
/// `gen_tokens`, whose 0 may be said here (the command line's default).
fn sim_counts() -> Vec<&'static str> {
    RUN.iter()
        .filter(|o| matches!(o.kind, Kind::Count) && o.name != "gen_tokens")
        .map(|o| o.name)
        .collect()
}

/// The pairs of options of a run that the command line refuses together.
fn sim_conflicts() -> Vec<(&'static str, &'static str)> {
    RUN.iter()
        .flat_map(|o| o.conflicts.iter().map(move |c| (o.name, *c)))
        .collect()
}

/// Options given by keyword, `None`s already dropped, plus the base they override.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The `spec` option, already loaded: every other option overrides it.
    pub base: Option<Spec>,
    /// Every other option, by name, as JSON.
    pub given: Map<String, Value>,
}

impl Options {
    /// Checks the names against the options of a run and `allowed` (the `spec` option is
    /// handled by the caller).
    pub fn check_names(&self, allowed: &[&[&str]]) -> Result<()> {
        let sim = sim();
        let known = || {
            std::iter::once(&sim[..])
                .chain(allowed.iter().copied())
                .flat_map(|list| list.iter().copied())
        };
        for key in self.given.keys() {
            // An anchor refits the profile for one run: a keyword of simulate(), sweep(),
            // budget() and serve(), never a spec's (a Spec, simulate_many's items).
            if matches!(key.as_str(), "anchor_ms" | "anchor") && !known().any(|k| k == key) {
                return Err(Error::invalid(format!(
                    "{key} is not a spec's option: an anchor refits the profile for one run; give it to simulate(), compare(), sweep(), budget() or serve() (simulate(..., {key}=...)), or pass the spec of an anchored run's report (report[\"spec\"]), which holds the refitted profile"
                )));
            }
            if !known().any(|k| k == key) {
                let hint = known()
                    .filter(|k| edit_distance(k, key) <= 2)
                    .min_by_key(|k| edit_distance(k, key))
                    .map(|k| format!(": did you mean '{k}'?"))
                    .unwrap_or_default();
                return Err(Error::invalid(format!(
                    "unknown option '{key}'{hint} (the options are aim-sim's long flags with _ for -: {})",
                    known().collect::<Vec<_>>().join(", ")
                )));
            }
        }
        Ok(())
    }

    /// Takes `keys` out of the options, in that order (those given).
    fn take(&mut self, keys: &[&str]) -> Map<String, Value> {
        keys.iter()
            .filter_map(|k| self.given.remove(*k).map(|v| (k.to_string(), v)))
            .collect()
    }
}

/// The spec of `aim_sim.simulate(**options)`.
pub fn simulate(options: Options) -> Result<Spec> {
    options.check_names(&[])?;
    spec(options)
}

/// What `aim_sim.simulate` (`sweep`, `budget`) refits the framework profile to.
pub enum Anchor {
    /// `anchor_ms` (`--anchor-ms`): the measured baseline, ms.
    Ms(f64),
    /// `anchor` (`--anchor FILE`): measured rows in the measurement schema.
    File(std::path::PathBuf),
}

impl Anchor {
    /// As the core takes it: the measured baseline in ms, or the file of measured rows.
    pub fn parts(anchor: Option<Anchor>) -> (Option<f64>, Option<std::path::PathBuf>) {
        match anchor {
            None => (None, None),
            Some(Anchor::Ms(ms)) => (Some(ms), None),
            Some(Anchor::File(path)) => (None, Some(path)),
        }
    }
}

/// The spec of `aim_sim.simulate(**options)` and its `anchor_ms` (`--anchor-ms`: a measured
/// baseline the framework profile is refitted to) or `anchor` (`--anchor FILE`: measured rows),
/// which are no part of a spec.
pub fn simulate_anchored(mut options: Options) -> Result<(Spec, Option<Anchor>)> {
    options.check_names(&[ANCHOR])?;
    let anchor = take_anchor(&mut options)?;
    Ok((spec(options)?, anchor))
}

/// The anchor options `simulate`, `sweep`, `budget` and `serve` take beside a spec.
const ANCHOR: &[&str] = &["anchor_ms", "anchor"];

/// `anchor_ms` or `anchor`, taken out of `options` (they are no part of a spec).
fn take_anchor(options: &mut Options) -> Result<Option<Anchor>> {
    let mut given = options.take(ANCHOR);
    let anchor = match (given.remove("anchor_ms"), given.remove("anchor")) {
        (Some(_), Some(_)) => {
            return Err(Error::invalid(
                "anchor_ms and anchor both refit the profile: give one (anchor_ms for one measured baseline, anchor for a file of measured rows)",
            ))
        }
        (None, None) => None,
        (Some(v), None) => Some(Anchor::Ms(v.as_f64().ok_or_else(|| {
            Error::invalid("anchor_ms: give the measured baseline time in milliseconds, e.g. 170.5")
        })?)),
        (None, Some(v)) => Some(Anchor::File(v.as_str().map(Into::into).ok_or_else(|| {
            Error::invalid(
                "anchor: give the path of a measurement file (reference/measurements.toml's schema), as a str or pathlib.Path",
            )
        })?)),
    };
    Ok(anchor)
}

/// The spec, question and `schedules` (`--schedules`: several side by side) of
/// `aim_sim.serve(**options)`; lengths may be given as numbers or as the distributions the
/// command line takes (`"uniform:8:64"`).
pub fn serve(mut options: Options) -> Result<Serve> {
    options.check_names(&[SERVE, &["schedules", "trace"], ANCHOR])?;
    let anchor = take_anchor(&mut options)?;
    // As the command line refuses them: `schedule` beside `schedules` was ignored, and a
    // trace's rows set what these would.
    if options.given.contains_key("schedules") && options.given.contains_key("schedule") {
        return Err(Error::invalid(
            "schedules replaces schedule: give one (schedules=[\"none\", \"linear\"] runs each on the same requests)",
        ));
    }
    let trace = match options.take(&["trace"]).remove("trace") {
        None | Some(Value::Null) => None,
        Some(Value::String(path)) => {
            let clash = [
                "frames",
                "tokens",
                "text_tokens",
                "rate",
                "requests",
                "duration",
                "find_max_rate",
                "seed",
                "output_tokens",
                "frames_dist",
                "text_dist",
            ]
            .into_iter()
            .find(|k| options.given.contains_key(*k));
            if let Some(k) = clash {
                return Err(Error::invalid(format!(
                    "trace gives each request's arrival and lengths in its rows: drop {k} (the trace's columns arrival_s, frames or visual_tokens, text_tokens, output_tokens set them)"
                )));
            }
            Some(std::path::PathBuf::from(path))
        }
        Some(_) => {
            return Err(Error::invalid(
                "trace: give the path of a CSV or JSON Lines file, e.g. \"requests.csv\"",
            ))
        }
    };
    let schedules = match options.take(&["schedules"]).remove("schedules") {
        None => Vec::new(),
        // The command line's comma list, as `compare` takes it.
        Some(Value::String(list)) => {
            let list: Vec<String> = list.split(',').map(|s| s.trim().to_string()).collect();
            if list.iter().any(|s| s.is_empty()) {
                return Err(Error::invalid(
                    "schedules: give at least one schedule name and no empty one, e.g. [\"none\", \"linear\"], or leave schedules out",
                ));
            }
            list
        }
        Some(v) => {
            let list = serde_json::from_value::<Vec<String>>(v).map_err(|_| {
                Error::invalid(
                    "schedules: give a list of schedule names, e.g. [\"none\", \"linear\"]",
                )
            })?;
            // Refused as the command line's `--schedules ""` is (an empty list ran the default).
            if list.is_empty() || list.iter().any(|s| s.trim().is_empty()) {
                return Err(Error::invalid(
                    "schedules: give at least one schedule name and no empty one, e.g. [\"none\", \"linear\"], or leave schedules out",
                ));
            }
            list
        }
    };
    let mut query = options.take(SERVE);
    for key in ["output_tokens", "frames_dist", "text_dist"] {
        if let Some(v) = query.get_mut(key) {
            if v.is_number() {
                *v = Value::String(v.to_string());
            }
        }
    }
    // The keyword at fault is named (`seed: invalid value: integer -1, expected u64`).
    let query = serde_path_to_error::deserialize(Value::Object(query))
        .map_err(|e| Error::invalid(format!("serve option {}: {}", e.path(), e.inner())))?;
    Ok(Serve {
        spec: spec(options)?,
        query,
        schedules,
        trace,
        anchor,
    })
}

/// What `aim_sim.serve(**options)` asks: the run's spec, the serving question, the schedules
/// side by side (none: the spec's), a trace file's path and an anchor.
pub struct Serve {
    pub spec: Spec,
    pub query: aim_sim::serve::query::Query,
    pub schedules: Vec<String>,
    pub trace: Option<std::path::PathBuf>,
    pub anchor: Option<Anchor>,
}

/// The base spec, the schedules and the anchor of `aim_sim.compare(schedule, **options)`:
/// `schedule` is a list (or the command line's comma list `"none,linear"`), the rest a run's
/// options, as `aim-sim compare --schedule A,B,...` takes them.
pub fn compare(mut options: Options) -> Result<(Spec, Vec<String>, Option<Anchor>)> {
    options.check_names(&[ANCHOR])?;
    let anchor = take_anchor(&mut options)?;
    const HOW: &str = "give a list of schedule names, e.g. [\"none\", \"linear\"]";
    let schedules = match options.take(&["schedule"]).remove("schedule") {
        None => Vec::new(),
        Some(Value::String(list)) => list.split(',').map(|s| s.trim().to_string()).collect(),
        Some(v) => serde_json::from_value::<Vec<String>>(v)
            .map_err(|_| Error::invalid(format!("schedule: {HOW}")))?,
    };
    if schedules.is_empty() || schedules.iter().any(|s| s.trim().is_empty()) {
        return Err(Error::invalid(format!(
            "schedule: {HOW}, at least one and no empty name"
        )));
    }
    Ok((spec(options)?, schedules, anchor))
}

/// The spec and question of `aim_sim.budget(**options)`.
pub fn budget(mut options: Options) -> Result<(Spec, BudgetQuery, Option<Anchor>)> {
    options.check_names(&[BUDGET, ANCHOR])?;
    let anchor = take_anchor(&mut options)?;
    let mut query = options.take(BUDGET);
    conflicts(&query, BUDGET_CONFLICTS)?;
    counts(&mut query, BUDGET_COUNTS)?;
    choice::<By>(&mut query, "by")?;
    choice::<Solve>(&mut query, "solve")?;
    let query = serde_json::from_value(Value::Object(query))
        .map_err(|e| Error::invalid(format!("budget options: {e}")))?;
    Ok((spec(options)?, query, anchor))
}

/// The grid of `aim_sim.sweep(**grid)`: the axes (`aim_sim::spec::options::AXES`) as
/// `aim-sim sweep` takes them (comma lists and
/// `START:END:STEP` ranges), every other option the base of all rows; and the worker threads
/// (`jobs`, as `--jobs`: 1..=1024, default one per core).
pub fn sweep(mut options: Options) -> Result<(GridSpec, usize, Option<Anchor>)> {
    options.check_names(&[SWEEP, ANCHOR])?;
    let jobs = jobs(options.given.remove("jobs"))?;
    let anchor = take_anchor(&mut options)?;
    let mut axis = |key: &str| -> Result<Option<String>> {
        match options.given.get(key) {
            // An inline model, GPU or schedule table is not a list: it is the base's.
            None | Some(Value::Object(_)) => Ok(None),
            Some(_) => {
                let value = options.given.remove(key).expect("present");
                axis_text(key, &value).map(Some)
            }
        }
    };
    let mut axes = Axes::default();
    for a in options::AXES {
        if let Some(list) = axis(a.name)? {
            axes.set(a.name, list)?;
        }
    }
    // The axes replace the base's other ways of giving them, as `aim-sim sweep --spec` does (a
    // run file's tokens per frame once held for every model of a model axis).
    if let Some(base) = options.base.as_mut() {
        base.clear_replaced(|option| axes.get(option).is_some());
    }
    let grid = GridSpec {
        base: spec(options)?,
        axes,
    };
    Ok((grid, jobs, anchor))
}

/// The `jobs` option, as `--jobs`: worker threads, 1..=1024, default one per core.
pub fn jobs(value: Option<Value>) -> Result<usize> {
    match value {
        None => Ok(aim_sim::sweep::default_jobs()),
        Some(value) => match value.as_u64() {
            Some(n @ 1..=1024) => Ok(n as usize),
            _ => Err(Error::invalid(format!(
                "invalid value {value} for 'jobs': give a whole number of worker threads \
                 from 1 to 1024 (or None for one per core)"
            ))),
        },
    }
}

/// One axis as `aim-sim sweep` takes it: a string as is, a number, or a list of either.
fn axis_text(key: &str, value: &Value) -> Result<String> {
    fn item(key: &str, v: &Value) -> Result<String> {
        match v {
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            other => Err(Error::invalid(format!(
                "invalid value {other} in '{key}': a sweep axis takes a value, a list of values \
                 or a range string like \"8:256:8\""
            ))),
        }
    }
    match value {
        Value::Array(items) if items.is_empty() => Err(Error::invalid(format!(
            "'{key}' is an empty list: give at least one value"
        ))),
        Value::Array(items) => Ok(items
            .iter()
            .map(|v| item(key, v))
            .collect::<Result<Vec<_>>>()?
            .join(",")),
        other => item(key, other),
    }
}

/// `options.base` (or the default spec) with every given option laid over it.
pub fn spec(options: Options) -> Result<Spec> {
    let Options { base, mut given } = options;
    conflicts(&given, &sim_conflicts())?;
    for o in RUN {
        if let Some((what, why)) = o.requires {
            if given.contains_key(o.name) && !given.contains_key(what) {
                return Err(Error::invalid(format!(
                    "'{}' needs '{what}' too: {why}",
                    o.name
                )));
            }
        }
    }
    counts(&mut given, &sim_counts())?;
    for o in RUN {
        match o.kind {
            Kind::CountOrZero => {
                if let Some(v) = given.get_mut(o.name) {
                    // 0 is said as on the command line (`--frames 0`: a text-only prompt).
                    let text = match &*v {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    *v = Value::from(parse_count_or_zero(&text).map_err(|why| {
                        Error::invalid(format!("invalid value '{text}' for '{}': {why}", o.name))
                    })?);
                }
            }
            Kind::Choice(words) => choice_of(&mut given, o.name, &words())?,
            Kind::Counts => {
                if let Some(v) = given.get_mut(o.name) {
                    let items = match &*v {
                        Value::String(s) => s.split(',').map(|t| Value::from(t.trim())).collect(),
                        Value::Array(items) => items.clone(),
                        other => vec![other.clone()],
                    };
                    *v = items
                        .iter()
                        .map(|t| count(o.name, t).map(Value::from))
                        .collect::<Result<Vec<_>>>()?
                        .into();
                }
            }
            _ => {}
        }
    }
    if let Some(v) = given.get_mut("gen_tokens") {
        // A count on the command line, where 0 is only the default; here 0 may be said.
        if v.as_u64() != Some(0) {
            *v = Value::from(count("gen_tokens", v)?);
        }
    }
    match given.remove("flash_attention") {
        None | Some(Value::Bool(false)) => {}
        Some(Value::Bool(true)) => {
            given.insert("attention".into(), "flash".into());
        }
        Some(other) => {
            return Err(Error::invalid(format!(
                "invalid value {other} for 'flash_attention': give True or False"
            )))
        }
    }

    let mut base = base.unwrap_or_default();
    // An option given replaces the base's other ways of giving the same thing (as the flags).
    base.clear_replaced(|option| given.contains_key(option));
    let Value::Object(mut spec) = serde_json::to_value(&base).expect("a spec serialises") else {
        unreachable!("a spec serialises to an object")
    };
    spec.extend(given);
    Spec::parse(&Value::Object(spec).to_string(), "keyword options")
}

/// The command line's exclusions `pairs`, among the options given.
fn conflicts(given: &Map<String, Value>, pairs: &[(&str, &str)]) -> Result<()> {
    let set = |k: &str| given.get(k).is_some_and(|v| v != &Value::Bool(false));
    for (a, b) in pairs {
        if set(a) && set(b) {
            return Err(Error::invalid(format!(
                "the option '{b}' cannot be used with '{a}'"
            )));
        }
    }
    Ok(())
}

/// Every count option of `keys` given, checked as the command line checks it and made a number.
fn counts(given: &mut Map<String, Value>, keys: &[&str]) -> Result<()> {
    for key in keys {
        if let Some(v) = given.get_mut(*key) {
            *v = Value::from(count(key, v)?);
        }
    }
    Ok(())
}

/// A word for an enum, as the command line takes it (any case), or a message listing the words.
fn choice<T: Choice>(given: &mut Map<String, Value>, key: &str) -> Result<()> {
    choice_of(given, key, &options::words::<T>())
}

/// A word of `words` (`(word, help)`, any case), or a message listing the words.
fn choice_of(
    given: &mut Map<String, Value>,
    key: &str,
    words: &[(&'static str, &'static str)],
) -> Result<()> {
    if let Some(Value::String(word)) = given.get_mut(key) {
        match words
            .iter()
            .find(|(w, _)| w.eq_ignore_ascii_case(word.trim()))
        {
            Some((w, _)) => *word = w.to_string(),
            None => {
                let names: Vec<&str> = words.iter().map(|(w, _)| *w).collect();
                return Err(Error::invalid(format!(
                    "invalid value '{word}' for '{key}': use one of {}",
                    names.join(", ")
                )));
            }
        }
    }
    Ok(())
}

/// A positive count (`parse_count`: `32`, `"32"`, `1e3`), or the command line's message.
fn count(key: &str, value: &Value) -> Result<u64> {
    let text = match value {
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        other => other.to_string(),
    };
    parse_count(&text)
        .map_err(|why| Error::invalid(format!("invalid value '{text}' for '{key}': {why}")))
}

/// Levenshtein distance, for "did you mean".
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut diagonal = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let above = row[j + 1];
            row[j + 1] = (diagonal + usize::from(ca != *cb))
                .min(row[j] + 1)
                .min(above + 1);
            diagonal = above;
        }
    }
    row[b.len()]
}
