//! Sweeps: many prefills at once. Any of models, GPUs, schedules, cost models, frames, tokens,
//! tokens per frame, text tokens and batch may be a comma list or an inclusive range
//! (`8:256:8`); every combination becomes one [`SweepRow`].
//!
//! Each configuration is an ordinary [`Spec`] and goes through [`Scenario::from_loaded`] and
//! [`sim::summarize`] (a single run's totals, bit for bit, without its per-operator detail), so
//! validation and costing are exactly those of a single run. Presets are loaded once per
//! distinct name, not once per row, and the grid's extreme configurations are checked before
//! any row is priced.
//!
//! Rows are priced on every core ([`default_jobs`]) in small chunks taken from a shared
//! counter, and handed over in order as they complete: [`Sweep::write`] streams them to any
//! [`std::io::Write`] in flat memory, [`run`] collects them.
//!
//! A worker keeps its scenario and re-targets it along the count axes (`Scenario::retarget`,
//! the same checks and values as a fresh build), and keeps the sums of the decoder layers it
//! priced ([`LayerCache`], the same totals bit for bit), from one chunk to the next (issue 25).

mod lines;
mod output;
#[cfg(test)]
mod retarget_tests;
mod stream;

pub use lines::{lines, Line};
pub use output::{render, RowWriter};

use crate::cost::{CostModelKind, LayerCache};
use crate::error::{
    keys::{
        BATCH, COST_MODEL, FRAMES, GEN_TOKENS, GPU, LAYER_TOKENS, MODEL, SCHEDULE, TEXT_TOKENS,
        TOKENS, TOKENS_PER_FRAME,
    },
    Key,
};
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::hardware::Gpu;
use crate::model::Model;
use crate::report::TextFormat;
use crate::scenario::Scenario;
use crate::schedule::{Schedule, TokenPlan};
use crate::sim;
use crate::spec::{parse_count, Definition, Spec};
use serde::{Deserialize, Serialize};
use std::path::Path;
use std::sync::Arc;

/// Largest number of configurations one sweep may have.
pub const MAX_CONFIGS: usize = 10_000_000;

/// Most rows a chart or an HTML page of a sweep draws (`plot curves`, `sweep --format html`):
/// beyond it the picture is unreadable and the rows would be held in memory; use CSV.
pub const MAX_DRAWN_ROWS: usize = 5000;

/// The values each axis of a sweep takes, as typed: comma lists of names, or of counts and
/// inclusive ranges `START:END[:STEP]`. `None`: the base spec's single value. One field per
/// axis of [`crate::spec::options::AXES`], of the same name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Axes {
    pub model: Option<String>,
    pub gpu: Option<String>,
    pub schedule: Option<String>,
    pub cost_model: Option<String>,
    pub frames: Option<String>,
    pub tokens: Option<String>,
    pub tokens_per_frame: Option<String>,
    pub text_tokens: Option<String>,
    pub batch: Option<String>,
}

impl Axes {
    /// The axes that were given, as `(flag, value)` pairs (e.g. `("frames", "8:64:8")`), in
    /// the order of [`crate::spec::options::AXES`].
    pub fn given(&self) -> Vec<(String, String)> {
        crate::spec::options::AXES
            .iter()
            .filter_map(|a| self.get(a.name).map(|v| (a.flag(), v)))
            .collect()
    }

    /// The list given for the axis `name` (a field, named as in `spec::options::AXES`).
    pub fn get(&self, name: &str) -> Option<String> {
        self.fields().get(name)?.as_str().map(String::from)
    }

    /// Gives the axis `name` (as in `spec::options::AXES`) this list; an error when `Axes`
    /// has no such field.
    pub fn set(&mut self, name: &str, list: String) -> Result<()> {
        let mut fields = self.fields();
        fields.insert(name.to_string(), list.into());
        *self = serde_json::from_value(serde_json::Value::Object(fields))
            .map_err(|e| Error::invalid(format!("sweep axis '{name}': {e}")))?;
        Ok(())
    }

    /// The fields by name (serde's, so there is no second list of them).
    fn fields(&self) -> serde_json::Map<String, serde_json::Value> {
        match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(fields)) => fields,
            _ => unreachable!("Axes serialises to an object"),
        }
    }
}

/// A sweep: every setting of `base`, with the axes that are given replaced by their lists.
///
/// ```
/// use aim_sim::sweep::{self, Axes, Grid, GridSpec};
/// let spec = GridSpec {
///     axes: Axes {
///         frames: Some("8:64:8".into()),
///         schedule: Some("none,linear".into()),
///         ..Axes::default()
///     },
///     ..GridSpec::default()
/// };
/// let grid = Grid::new(&spec)?;
/// let rows = sweep::run(&grid, |_done| {})?;
/// assert_eq!(rows.len(), 16);
/// assert!(rows.iter().all(|r| r.reduction_time >= 1.0));
/// # Ok::<(), aim_sim::Error>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GridSpec {
    pub base: Spec,
    pub axes: Axes,
}

/// Positive counts from `8,16,32`, `8:256:8` (end inclusive), `1:4` (step 1) or a mix
/// `1,2,4:64:4`. `key` names the option in error messages. `frames` may be 0 (a text-only
/// prompt, as in a single run).
pub fn parse_counts(key: Key, spec: &str) -> Result<Vec<u64>> {
    let bad = |what: String| Error::invalid(format!("{key} '{spec}': {what}"));
    let mut out = Vec::new();
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(bad(
                "empty list item: write values like 8,16,32 or ranges like 8:256:8".into(),
            ));
        }
        let parts: Vec<&str> = item.split(':').collect();
        if parts.len() > 1 && parts.iter().any(|p| p.trim().is_empty()) {
            return Err(bad(format!(
                "range '{item}' lacks its start, end or step: write START:END[:STEP], e.g. 8:256:8"
            )));
        }
        // The value once: a message that quotes it already is not prefixed with it again.
        let named = |s: &str, m: String| {
            if m.starts_with(&format!("'{}'", s.trim())) {
                bad(m)
            } else {
                bad(format!("'{s}' {m}"))
            }
        };
        let count = |s: &str| parse_count(s).map_err(|m| named(s, m));
        let value = |s: &str| {
            if key == FRAMES {
                crate::spec::parse_count_or_zero(s).map_err(|m| named(s, m))
            } else {
                count(s)
            }
        };
        match parts.as_slice() {
            [one] => out.push(value(one)?),
            [start, end] | [start, end, _] => {
                let (start, end) = (value(start)?, value(end)?);
                let step = if let [_, _, step] = parts.as_slice() {
                    count(step)?
                } else {
                    1
                };
                if end < start {
                    return Err(bad(format!(
                        "range end {end} is before its start {start}: write START:END[:STEP] with END >= START"
                    )));
                }
                let len = (end - start) / step + 1;
                if len as usize > MAX_CONFIGS || out.len() + len as usize > MAX_CONFIGS {
                    return Err(bad(format!(
                        "{len} values is more than the {MAX_CONFIGS} a sweep allows: use a larger step"
                    )));
                }
                out.extend((0..len).map(|i| start + i * step));
            }
            _ => {
                return Err(bad(format!(
                    "'{item}' is not a value or a range START:END[:STEP]"
                )))
            }
        }
    }
    Ok(out)
}

/// Non-empty names from a comma list.
pub fn parse_names(key: Key, spec: &str) -> Result<Vec<String>> {
    spec.split(',')
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                Err(Error::invalid(format!(
                    "{key} '{spec}': empty list item: write names like none,linear,fastv"
                )))
            } else {
                Ok(s.to_string())
            }
        })
        .collect()
}

/// How the visual input is given on this axis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visual {
    Frames(Option<u64>),
    Tokens(u64),
}

impl Visual {
    /// The spec's `(frames, tokens)` of this input.
    fn frames_tokens(self) -> (Option<u64>, Option<u64>) {
        match self {
            Visual::Frames(f) => (f, None),
            Visual::Tokens(n) => (None, Some(n)),
        }
    }
}

/// Every axis expanded: the sweep is their Cartesian product.
#[derive(Debug, Clone)]
pub struct Grid {
    base: Spec,
    models: Vec<Definition<Model>>,
    gpus: Vec<Definition<Gpu>>,
    schedules: Vec<Definition<Schedule>>,
    cost_models: Vec<CostModelKind>,
    visual: Vec<Visual>,
    tokens_per_frame: Vec<Option<u64>>,
    text_tokens: Vec<u64>,
    batch: Vec<u64>,
}

impl Grid {
    /// Expands the axes; checks the lists, not the configurations.
    pub fn new(spec: &GridSpec) -> Result<Grid> {
        fn names<T>(
            axis: &Option<String>,
            key: Key,
            single: &Definition<T>,
        ) -> Result<Vec<Definition<T>>>
        where
            Definition<T>: Clone,
        {
            match axis {
                Some(list) => Ok(parse_names(key, list)?
                    .into_iter()
                    .map(Definition::Name)
                    .collect()),
                None => Ok(vec![single.clone()]),
            }
        }
        let counts = |axis: &Option<String>, key: Key| -> Result<Option<Vec<u64>>> {
            axis.as_deref().map(|s| parse_counts(key, s)).transpose()
        };
        let (base, axes) = (&spec.base, &spec.axes);
        let cost_models = match &axes.cost_model {
            None => vec![base.cost_model],
            Some(spec) => parse_names(COST_MODEL, spec)?
                .iter()
                .map(|n| parse_cost_model(n))
                .collect::<Result<_>>()?,
        };
        if axes.frames.is_some() && axes.tokens.is_some() {
            return Err(Error::invalid(format!(
                "give either {FRAMES} or {TOKENS} as the sweep's visual input, not both"
            )));
        }
        let visual = match (counts(&axes.frames, FRAMES)?, counts(&axes.tokens, TOKENS)?) {
            (Some(f), _) => f.into_iter().map(|f| Visual::Frames(Some(f))).collect(),
            (None, Some(t)) => t.into_iter().map(Visual::Tokens).collect(),
            (None, None) => vec![match (base.tokens, base.frames) {
                (Some(t), _) => Visual::Tokens(t),
                (None, f) => Visual::Frames(f),
            }],
        };
        let grid = Grid {
            models: names(&axes.model, MODEL, &base.model)?,
            gpus: names(&axes.gpu, GPU, &base.gpu)?,
            schedules: names(&axes.schedule, SCHEDULE, &base.schedule)?,
            cost_models,
            visual,
            tokens_per_frame: counts(&axes.tokens_per_frame, TOKENS_PER_FRAME)?
                .map(|v| v.into_iter().map(Some).collect())
                .unwrap_or_else(|| vec![base.tokens_per_frame]),
            text_tokens: counts(&axes.text_tokens, TEXT_TOKENS)?
                .unwrap_or_else(|| vec![base.text_tokens]),
            batch: counts(&axes.batch, BATCH)?.unwrap_or_else(|| vec![base.batch]),
            base: base.clone(),
        };
        // An explicit list replaces the schedule (scenario: `layer_tokens`), so a schedule
        // axis gave one identical row per schedule, `none` among them priced as reduced.
        if base.layer_tokens.is_some() && grid.schedules.len() > 1 {
            return Err(Error::invalid(format!(
                "{LAYER_TOKENS} replaces every schedule, so each schedule's rows would be the \
                 same run: give one {SCHEDULE}, or drop {LAYER_TOKENS} (a schedule file whose \
                 [prune] has kind = \"explicit\" gives one keep fraction per layer as one of \
                 the schedules)"
            )));
        }
        // A sweep's rows are prefills: a decode length was accepted and changed no row.
        if base.gen_tokens > 0 {
            return Err(Error::invalid(format!(
                "sweep prices each configuration's prefill (time to first token), not a decode: drop {GEN_TOKENS}, or price one configuration's decode with simulate ({GEN_TOKENS})"
            )));
        }
        let n = grid.dims().iter().try_fold(1usize, |acc, &d| {
            acc.checked_mul(d).filter(|&p| p <= MAX_CONFIGS)
        });
        if n.is_none() {
            return Err(Error::invalid(format!(
                "the sweep has more than {MAX_CONFIGS} configurations: shorten a list or use a larger range step"
            )));
        }
        Ok(grid)
    }

    /// Lengths of the axes, outermost first (the schedule varies fastest).
    fn dims(&self) -> [usize; 8] {
        [
            self.models.len(),
            self.gpus.len(),
            self.cost_models.len(),
            self.batch.len(),
            self.text_tokens.len(),
            self.tokens_per_frame.len(),
            self.visual.len(),
            self.schedules.len(),
        ]
    }

    /// The framework profile every row is priced under (one per sweep), by name: what a chart
    /// or page of the rows says priced its times. A profile an anchor refitted says so ("hf,
    /// anchored"): its times are the user's stack's.
    pub fn framework_name(&self) -> Result<String> {
        let f = self.base.framework.load()?;
        Ok(if f.spread.is_some_and(|s| s.anchored) {
            format!("{}, anchored", f.name)
        } else {
            f.name
        })
    }

    /// The tensor parallelism every configuration shares (figures per GPU above 1).
    pub fn tp(&self) -> u64 {
        self.base.tp
    }

    /// Whether the visual input is given as token counts (`--tokens`) rather than frames.
    pub fn visual_is_tokens(&self) -> bool {
        self.visual.iter().any(|v| matches!(v, Visual::Tokens(_)))
    }

    /// Number of configurations (the product of the list lengths).
    pub fn len(&self) -> usize {
        self.dims().iter().product()
    }

    /// Whether the grid is empty (never: every axis has at least one value).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Axis positions of configuration `index` (row-major, schedule fastest).
    fn position(&self, mut index: usize) -> [usize; 8] {
        let dims = self.dims();
        let mut pos = [0; 8];
        for k in (0..8).rev() {
            pos[k] = index % dims[k];
            index /= dims[k];
        }
        pos
    }

    /// The spec of configuration `index`.
    pub fn spec(&self, index: usize) -> Spec {
        let mut scratch = Scratch::new(self);
        self.fill(index, &mut scratch);
        scratch.spec
    }

    /// The spec an anchor of this sweep's stack refits the framework profile on: the first
    /// configuration's. An anchor pins one stack on one GPU (its refitted figures are that
    /// GPU's), so the sweep may list one GPU only; a measured baseline (`measured_baseline`,
    /// `--anchor-ms`) is the time of one input without reduction, so then every axis but the
    /// schedule takes one value. `Err` (one line, the fix) otherwise.
    pub fn anchor_spec(&self, measured_baseline: bool) -> Result<Spec> {
        use crate::error::keys::{ANCHOR, ANCHOR_MS};
        let flag = if measured_baseline { ANCHOR_MS } else { ANCHOR };
        if self.gpus.len() > 1 {
            return Err(Error::invalid(format!(
                "{flag} refits the framework profile to one stack on one GPU, but the sweep lists {} GPUs: sweep one {GPU} per anchor",
                self.gpus.len()
            )));
        }
        let dims = self.dims();
        let visual = if self.visual_is_tokens() {
            TOKENS
        } else {
            FRAMES
        };
        let keys: [Key; 7] = [
            MODEL,
            GPU,
            COST_MODEL,
            BATCH,
            TEXT_TOKENS,
            TOKENS_PER_FRAME,
            visual,
        ];
        let several: Vec<String> = keys
            .iter()
            .zip(dims)
            .filter(|(_, n)| *n > 1)
            .map(|(k, n)| format!("{k} ({n} values)"))
            .collect();
        if measured_baseline && !several.is_empty() {
            return Err(Error::invalid(format!(
                "{ANCHOR_MS} is the measured time of one input without reduction, but the sweep varies {}: sweep only {SCHEDULE} on the input you timed, or give your measured rows with {ANCHOR} (a measurement file: each row names its input)",
                several.join(", ")
            )));
        }
        Ok(self.spec(0))
    }

    /// Makes `scratch.spec` configuration `index`'s spec in place: the counts set, a name
    /// cloned only when it differs from the scratch's last configuration (no allocation per
    /// row). Returns the configuration's axis positions.
    fn fill(&self, index: usize, scratch: &mut Scratch) -> [usize; 8] {
        let pos = self.position(index);
        let [m, g, c, b, t, p, v, s] = pos;
        let last = scratch.at.replace(pos);
        let changed = |k: usize| last.is_none_or(|l| l[k] != pos[k]);
        let a = &mut scratch.spec;
        if changed(0) {
            a.model.clone_from(&self.models[m]);
        }
        if changed(1) {
            a.gpu.clone_from(&self.gpus[g]);
        }
        if changed(7) {
            a.schedule.clone_from(&self.schedules[s]);
        }
        a.cost_model = self.cost_models[c];
        a.batch = self.batch[b];
        a.text_tokens = self.text_tokens[t];
        a.tokens_per_frame = self.tokens_per_frame[p];
        (a.frames, a.tokens) = self.visual[v].frames_tokens();
        pos
    }
}

/// One worker's reusable spec: the grid's base with the axes of the last configuration it
/// priced ([`Grid::fill`]).
struct Scratch {
    spec: Spec,
    /// Axis positions `spec` holds; `None`: the base's, before any configuration.
    at: Option<[usize; 8]>,
    /// The last scenario built, with the model, GPU, cost model and schedule positions it was
    /// built for: a configuration that differs from it only in its counts re-targets it
    /// ([`Scenario::retarget`]) instead of building one.
    built: Option<([usize; 4], Scenario)>,
    /// Layer sums of the rows this worker priced ([`sim::summarize_cached`]).
    layers: LayerCache,
    /// Under a fitted profile: the GPU the last scenario ran on and it without the profile's
    /// efficiency, with the layer sums of its ideal roofline (an interval's floor,
    /// [`sim::ideal_floors_cached`]).
    ideal: Option<(Arc<Gpu>, Arc<Gpu>)>,
    ideal_layers: LayerCache,
}

impl Scratch {
    fn new(grid: &Grid) -> Scratch {
        Scratch {
            spec: grid.base.clone(),
            at: None,
            built: None,
            layers: LayerCache::new(),
            ideal: None,
            ideal_layers: LayerCache::new(),
        }
    }
}

impl Grid {
    /// The labels rows carry for each model, GPU and schedule (a table's column widths).
    fn labels(&self) -> [Vec<&str>; 3] {
        [
            self.models
                .iter()
                .map(|m| m.label("inline model"))
                .collect(),
            self.gpus.iter().map(|g| g.label("inline GPU")).collect(),
            self.schedules
                .iter()
                .map(|s| s.label("inline schedule"))
                .collect(),
        ]
    }

    /// The grid's extreme configurations, in row order: every model, GPU, cost model and
    /// schedule, each with the smallest and the largest value of every count axis (batch,
    /// text tokens, tokens per frame, frames or tokens). Every limit on the input (total tokens,
    /// merging within a frame, decode length) is monotone in each count, so an invalid
    /// configuration anywhere in the grid usually shows at one of these.
    fn extremes(&self) -> Vec<usize> {
        fn min_max<T: Copy, K: Ord>(values: &[T], key: impl Fn(T) -> K) -> Vec<usize> {
            let by_key = |a: &usize, b: &usize| key(values[*a]).cmp(&key(values[*b]));
            let idx = 0..values.len();
            let mut v = vec![
                idx.clone().min_by(by_key).unwrap_or(0),
                idx.max_by(by_key).unwrap_or(0),
            ];
            v.dedup();
            v
        }
        let all = |len: usize| (0..len).collect::<Vec<_>>();
        let visual = |v: Visual| match v {
            Visual::Frames(f) => f.unwrap_or(0),
            Visual::Tokens(t) => t,
        };
        let axes: [Vec<usize>; 8] = [
            all(self.models.len()),
            all(self.gpus.len()),
            all(self.cost_models.len()),
            min_max(&self.batch, |b| b),
            min_max(&self.text_tokens, |t| t),
            min_max(&self.tokens_per_frame, |p| p),
            min_max(&self.visual, visual),
            all(self.schedules.len()),
        ];
        let dims = self.dims();
        let mut out = vec![0usize];
        for (axis, picks) in axes.iter().enumerate() {
            out = out
                .iter()
                .flat_map(|&base| picks.iter().map(move |&p| base * dims[axis] + p))
                .collect();
        }
        out
    }
}

fn parse_cost_model(name: &str) -> Result<CostModelKind> {
    use crate::choice::Choice;
    CostModelKind::from_name(name).ok_or_else(|| {
        Error::invalid(format!(
            "{COST_MODEL}: unknown cost model '{name}': use one of {}",
            CostModelKind::names()
        ))
    })
}

/// One configuration's totals beside its baseline. Base units: FLOPs, bytes, seconds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SweepRow {
    /// `--model` as given (preset name or path).
    pub model: String,
    pub gpu: String,
    pub schedule: String,
    pub cost_model: String,
    /// The framework profile that priced the times (one per sweep), when it is not the ideal
    /// roofline: a CSV of `--framework hf` rows otherwise read like the roofline's. Absent
    /// under the roofline, whose rows are as they were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub framework: Option<String>,
    pub frames: u64,
    /// Visual tokens per frame before merging.
    pub tokens_per_frame: u64,
    /// Visual tokens before merging (`frames · tokens_per_frame`).
    pub visual_tokens: u64,
    /// Visual tokens entering the first decoder layer (after merging).
    pub merged_visual_tokens: u64,
    pub text_tokens: u64,
    pub batch: u64,
    pub flops: f64,
    pub bytes: f64,
    pub time_s: f64,
    pub memory_consumption_bytes: f64,
    pub baseline_flops: f64,
    pub baseline_bytes: f64,
    pub baseline_time_s: f64,
    pub baseline_memory_consumption_bytes: f64,
    /// `baseline_flops / flops`.
    pub reduction_flops: f64,
    /// `baseline_time_s / time_s`.
    pub reduction_time: f64,
    /// 80 % prediction intervals under a fitted framework profile (its `[spread]`); `None`
    /// under the roofline, a bound with none (its columns are then absent).
    #[serde(flatten)]
    pub interval: Option<RowInterval>,
}

/// A sweep row's 80 % prediction intervals (`sim::intervals80`, as `simulate` states them).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct RowInterval {
    pub time_low_s: f64,
    pub time_high_s: f64,
    pub baseline_time_low_s: f64,
    pub baseline_time_high_s: f64,
    /// Of the speed-up `reduction_time`.
    pub reduction_time_low: f64,
    pub reduction_time_high: f64,
}

impl RowInterval {
    fn new(
        spread: &crate::framework::Spread,
        run: &crate::cost::Totals,
        base: &crate::cost::Totals,
        floors_s: [f64; 2],
    ) -> RowInterval {
        let [[time_low_s, time_high_s], [baseline_time_low_s, baseline_time_high_s], [reduction_time_low, reduction_time_high]] =
            sim::intervals80(spread, run.time_s, base.time_s, floors_s);
        RowInterval {
            time_low_s,
            time_high_s,
            baseline_time_low_s,
            baseline_time_high_s,
            reduction_time_low,
            reduction_time_high,
        }
    }
}

/// `spec` with its base profile refitted to an anchor of the sweep's stack (`anchor_ms`, as
/// `--anchor-ms`, or the measured rows of `file`, as `--anchor FILE`; on the spec of
/// [`Grid::anchor_spec`]), and the note saying what was refitted; `None` without either. Every
/// row is then priced under the refitted profile, as `compare` prices every schedule.
pub fn anchored(
    spec: &GridSpec,
    anchor_ms: Option<f64>,
    file: Option<&Path>,
) -> Result<Option<(GridSpec, String)>> {
    if anchor_ms.is_none() && file.is_none() {
        return Ok(None);
    }
    let on = Grid::new(spec)?.anchor_spec(anchor_ms.is_some())?;
    Ok(
        crate::check::anchor::anchored_spec(&on, anchor_ms, file)?.map(|(refitted, note, _)| {
            let mut spec = spec.clone();
            spec.base.framework = refitted.framework;
            (spec, note)
        }),
    )
}

/// Each distinct preset loaded once, shared by every row's scenario.
struct Loaded {
    models: Vec<Arc<Model>>,
    gpus: Vec<Arc<Gpu>>,
    schedules: Vec<Arc<Schedule>>,
    /// Not an axis: the base's.
    framework: Framework,
    /// The rows' `framework` column: the profile's name, `hf (anchored)` where an anchor
    /// refitted it, as `compare` and a single run name it (it said plain `hf`).
    framework_label: String,
}

impl Loaded {
    /// Makes configuration `index`'s validated scenario `scratch.scenario()` and returns its
    /// token plan, its spec left in `scratch.spec`; errors name the configuration. The scenario is the scratch's last one
    /// re-targeted when only the counts changed ([`Scenario::retarget`]: the same checks and
    /// values), else built afresh; a configuration the re-targeting refuses is built afresh
    /// too, so its error is the single run's.
    fn scenario(&self, grid: &Grid, index: usize, scratch: &mut Scratch) -> Result<TokenPlan> {
        let [m, g, c, _, _, _, _, s] = grid.fill(index, scratch);
        let key = [m, g, c, s];
        let args = &scratch.spec;
        let retargeted = match &mut scratch.built {
            Some((k, scenario)) if *k == key => scenario.retarget(args),
            _ => None,
        };
        let plan = match retargeted {
            Some(plan) => plan,
            None => {
                scratch.built = None;
                let (scenario, plan) = Scenario::from_loaded_planned(
                    args,
                    self.models[m].clone(),
                    self.gpus[g].clone(),
                    self.schedules[s].clone(),
                    &self.framework,
                )
                .map_err(|e| Error::invalid(format!("{}: {}", describe(args), e.marked())))?;
                scratch.built = Some((key, scenario));
                plan
            }
        };
        Ok(plan)
    }

    fn new(grid: &Grid) -> Result<Loaded> {
        let framework = grid.base.framework.load()?;
        Ok(Loaded {
            models: grid
                .models
                .iter()
                .map(|m| m.load().map(Arc::new))
                .collect::<Result<_>>()?,
            gpus: grid
                .gpus
                .iter()
                .map(|g| g.load().map(Arc::new))
                .collect::<Result<_>>()?,
            schedules: grid
                .schedules
                .iter()
                .map(|s| s.load().map(Arc::new))
                .collect::<Result<_>>()?,
            framework_label: if framework.spread.is_some_and(|s| s.anchored) {
                format!("{} (anchored)", framework.name)
            } else {
                framework.name.clone()
            },
            framework,
        })
    }
}

/// Prices configuration `index`: totals only ([`sim::summarize`]), no per-operator detail.
fn row(grid: &Grid, loaded: &Loaded, index: usize, scratch: &mut Scratch) -> Result<SweepRow> {
    let mut out = SweepRow::empty();
    row_into(grid, loaded, index, scratch, &mut out)?;
    Ok(out)
}

/// [`row`] into `out`, reusing its label strings' memory.
fn row_into(
    grid: &Grid,
    loaded: &Loaded,
    index: usize,
    scratch: &mut Scratch,
    out: &mut SweepRow,
) -> Result<()> {
    let plan = loaded.scenario(grid, index, scratch)?;
    let Scratch {
        spec: args,
        built: Some((_, scenario)),
        layers,
        ideal,
        ideal_layers,
        ..
    } = scratch
    else {
        unreachable!("a scenario is made before it is priced")
    };
    let summary = sim::summarize_cached(scenario, &plan, layers)
        .map_err(|e| Error::invalid(format!("{}: {}", describe(args), e.marked())))?;
    let (run, base) = (&summary.run, &summary.baseline);
    // An interval's floor: the same work's ideal roofline (only under a fitted profile).
    let floors_s = match scenario.spread {
        Some(_) => {
            if !ideal
                .as_ref()
                .is_some_and(|(of, _)| Arc::ptr_eq(of, &scenario.gpu))
            {
                *ideal = Some((scenario.gpu.clone(), sim::ideal_gpu(&scenario.gpu)));
            }
            let ideal_gpu = &ideal.as_ref().expect("set above").1;
            Some(
                sim::ideal_floors_cached(scenario, &plan, ideal_gpu, ideal_layers)
                    .map_err(|e| Error::invalid(format!("{}: {}", describe(args), e.marked())))?,
            )
        }
        None => None,
    };
    let input = &scenario.input;
    let set = |field: &mut String, text: &str| {
        field.clear();
        field.push_str(text);
    };
    set(&mut out.model, args.model.label("inline model"));
    set(&mut out.gpu, args.gpu.label("inline GPU"));
    set(&mut out.schedule, args.schedule.label("inline schedule"));
    set(
        &mut out.cost_model,
        scenario.cost_model.implementation().name(),
    );
    let mut framework = out.framework.take();
    if loaded.framework.is_roofline() {
        framework = None;
    } else {
        set(
            framework.get_or_insert_with(String::new),
            &loaded.framework_label,
        );
    }
    *out = SweepRow {
        model: std::mem::take(&mut out.model),
        gpu: std::mem::take(&mut out.gpu),
        schedule: std::mem::take(&mut out.schedule),
        cost_model: std::mem::take(&mut out.cost_model),
        framework,
        frames: input.frames,
        tokens_per_frame: input.tokens_per_frame,
        visual_tokens: input.visual_tokens(),
        merged_visual_tokens: summary.merged_visual_tokens,
        text_tokens: input.text_tokens,
        batch: scenario.options.batch,
        flops: run.flops,
        bytes: run.bytes,
        time_s: run.time_s,
        memory_consumption_bytes: run.memory_consumption_bytes,
        baseline_flops: base.flops,
        baseline_bytes: base.bytes,
        baseline_time_s: base.time_s,
        baseline_memory_consumption_bytes: base.memory_consumption_bytes,
        reduction_flops: summary.reduction_flops,
        reduction_time: summary.reduction_time,
        interval: scenario.spread.map(|sp| {
            let floors_s = floors_s.expect("priced with the spread");
            let mut i = RowInterval::new(&sp, run, base, floors_s);
            // Anchored on a measured baseline (`--anchor-ms`): the baseline is that measurement,
            // and so is a run without reduction: a zero-width interval, where `simulate` prints
            // "measured" and none.
            if sp.measured_baseline(base.time_s) {
                [i.baseline_time_low_s, i.baseline_time_high_s] = [base.time_s; 2];
                if i.reduction_time_low == 1.0 && i.reduction_time_high == 1.0 {
                    [i.time_low_s, i.time_high_s] = [run.time_s; 2];
                }
            }
            i
        }),
    };
    Ok(())
}

impl SweepRow {
    /// A row to fill ([`row_into`]).
    fn empty() -> SweepRow {
        SweepRow {
            model: String::new(),
            gpu: String::new(),
            schedule: String::new(),
            cost_model: String::new(),
            framework: None,
            frames: 0,
            tokens_per_frame: 0,
            visual_tokens: 0,
            merged_visual_tokens: 0,
            text_tokens: 0,
            batch: 0,
            flops: 0.0,
            bytes: 0.0,
            time_s: 0.0,
            memory_consumption_bytes: 0.0,
            baseline_flops: 0.0,
            baseline_bytes: 0.0,
            baseline_time_s: 0.0,
            baseline_memory_consumption_bytes: 0.0,
            reduction_flops: 0.0,
            reduction_time: 0.0,
            interval: None,
        }
    }
}

/// The configuration in words, for error messages.
fn describe(a: &Spec) -> String {
    let input = match (a.frames, a.tokens) {
        (_, Some(t)) => format!("tokens={t}"),
        (Some(f), None) => format!("frames={f}"),
        (None, None) => "frames=default".into(),
    };
    let per_frame = a
        .tokens_per_frame
        .map(|p| format!(" tokens-per-frame={p}"))
        .unwrap_or_default();
    format!(
        "sweep configuration model={} gpu={} schedule={} {input}{per_frame} text-tokens={} batch={}",
        a.model.label("inline"),
        a.gpu.label("inline"),
        a.schedule.label("inline"),
        a.text_tokens,
        a.batch
    )
}

/// Worker threads a sweep uses unless told otherwise: one per core.
pub fn default_jobs() -> usize {
    std::thread::available_parallelism().map_or(1, |t| t.get())
}

/// Prices every configuration of `grid`, in order, on all cores. `progress` is called now and
/// then from the calling thread with the number of rows done so far.
pub fn run(grid: &Grid, progress: impl FnMut(usize)) -> Result<Vec<SweepRow>> {
    Sweep::prepare(grid)?.run(default_jobs(), progress)
}

/// A grid ready to price: its presets loaded once, its extreme configurations checked
/// ([`Grid::extremes`]), so that a sweep with an invalid late row fails before it starts (and
/// before any output file is created).
pub struct Sweep<'a> {
    grid: &'a Grid,
    loaded: Loaded,
}

impl<'a> Sweep<'a> {
    pub fn prepare(grid: &'a Grid) -> Result<Sweep<'a>> {
        let loaded = Loaded::new(grid)?;
        let mut scratch = Scratch::new(grid);
        for index in grid.extremes() {
            loaded.scenario(grid, index, &mut scratch)?;
        }
        Ok(Sweep { grid, loaded })
    }

    /// What a single run of the grid's rows warns of its input (`--tokens` not a multiple of
    /// the tokens per frame, ...), each warning once: at most `limit` of them, and how many
    /// more the other rows would add. A single run prints these; a sweep used to say nothing.
    pub fn input_warnings(&self, limit: usize) -> (Vec<String>, usize) {
        let grid = self.grid;
        let (mut shown, mut more) = (Vec::new(), 0);
        let mut spec = grid.base.clone();
        for model in &self.loaded.models {
            for &per_frame in &grid.tokens_per_frame {
                for &visual in &grid.visual {
                    spec.tokens_per_frame = per_frame;
                    (spec.frames, spec.tokens) = visual.frames_tokens();
                    for w in crate::scenario::input_warnings(&spec, model) {
                        if shown.contains(&w) {
                            continue;
                        }
                        if shown.len() < limit {
                            shown.push(w);
                        } else {
                            more += 1;
                        }
                    }
                }
            }
        }
        (shown, more)
    }

    /// What single runs of the grid would warn that its input warnings do not: the framework
    /// profile's on each GPU (a GPU file's own `[efficiency]` table replaced, a mistyped
    /// `[gpu.NAME]` table), each once, and the priced run's own (peak memory beyond the GPU,
    /// a schedule that grows) at the grid's largest configuration per model, GPU, cost model
    /// and schedule: the most frames or tokens, tokens per frame, text tokens and batch, so
    /// a sweep whose largest rows cannot run on the GPU says so (it priced them in silence)
    /// and one whose largest rows fit needs no word about memory. The latter at most `limit`,
    /// with how many more. A configuration that is refused says nothing here; pricing it is
    /// the error.
    fn run_warnings(&self, limit: usize) -> (Vec<String>, Vec<String>, usize) {
        let grid = self.grid;
        let largest = |v: &Visual| match v {
            Visual::Frames(f) => (0, f.unwrap_or(0)),
            Visual::Tokens(n) => (1, *n),
        };
        let mut spec = grid.base.clone();
        spec.tokens_per_frame = grid.tokens_per_frame.iter().max().copied().flatten();
        spec.text_tokens = grid
            .text_tokens
            .iter()
            .max()
            .copied()
            .unwrap_or(spec.text_tokens);
        spec.batch = grid.batch.iter().max().copied().unwrap_or(spec.batch);
        if let Some(v) = grid.visual.iter().max_by_key(|v| largest(v)) {
            (spec.frames, spec.tokens) = v.frames_tokens();
        }
        let (mut profile, mut runs, mut more): (Vec<String>, Vec<String>, usize) =
            (Vec::new(), Vec::new(), 0);
        for (m, model) in self.loaded.models.iter().enumerate() {
            spec.model.clone_from(&grid.models[m]);
            let input = crate::scenario::input_warnings(&spec, model);
            for (g, gpu) in self.loaded.gpus.iter().enumerate() {
                spec.gpu.clone_from(&grid.gpus[g]);
                for &cost_model in &grid.cost_models {
                    spec.cost_model = cost_model;
                    for (s, schedule) in self.loaded.schedules.iter().enumerate() {
                        spec.schedule.clone_from(&grid.schedules[s]);
                        let Ok((scenario, _)) = Scenario::from_loaded_planned(
                            &spec,
                            model.clone(),
                            gpu.clone(),
                            schedule.clone(),
                            &self.loaded.framework,
                        ) else {
                            continue;
                        };
                        let own = scenario.profile_warnings().to_vec();
                        let Ok(report) = sim::simulate(&scenario) else {
                            continue;
                        };
                        for w in report.run.warnings {
                            if own.contains(&w) {
                                if !profile.contains(&w) {
                                    profile.push(w);
                                }
                            } else if !input.contains(&w) {
                                let w = format!("{}: {w}", describe(&spec));
                                if runs.len() < limit {
                                    runs.push(w);
                                } else {
                                    more += 1;
                                }
                            }
                        }
                    }
                }
            }
        }
        (profile, runs, more)
    }

    /// The lines a sweep warns of its input with, as `aim-sim sweep` prints them and Python's
    /// `sweep` keeps them: [`Sweep::input_warnings`], a few at most, then how many more there
    /// are, if any; then the framework profile's on each GPU and the largest configurations'
    /// own ([`Sweep::run_warnings`]).
    pub fn input_warning_lines(&self) -> Vec<String> {
        let (mut lines, more) = self.input_warnings(3);
        if more > 0 {
            lines.push(format!("and {more} more like these in other rows"));
        }
        let (profile, runs, more) = self.run_warnings(3);
        for w in profile {
            if !lines.contains(&w) {
                lines.push(w);
            }
        }
        lines.extend(runs);
        if more > 0 {
            lines.push(format!(
                "and {more} more warnings of the largest configurations of other models, GPUs or schedules"
            ));
        }
        lines
    }

    /// Checks every configuration of the grid (not only its extremes) on `jobs` threads: the
    /// first invalid one in row order is the error.
    pub fn validate(&self, jobs: usize) -> Result<()> {
        struct Nothing;
        impl stream::Consumer<()> for Nothing {
            fn chunk(&mut self, (): ()) -> Result<()> {
                Ok(())
            }
            fn tick(&mut self, _: usize) -> Result<()> {
                Ok(())
            }
        }
        let (grid, loaded) = (self.grid, &self.loaded);
        stream::ordered_with(
            grid.len(),
            jobs,
            || Scratch::new(grid),
            |scratch, range| {
                for i in range {
                    loaded.scenario(grid, i, scratch)?;
                }
                Ok(())
            },
            &mut Nothing,
        )
    }

    /// Every row, in order, priced on `jobs` worker threads.
    pub fn run(&self, jobs: usize, progress: impl FnMut(usize)) -> Result<Vec<SweepRow>> {
        struct Rows<P> {
            rows: Vec<SweepRow>,
            progress: P,
        }
        impl<P: FnMut(usize)> stream::Consumer<Vec<SweepRow>> for Rows<P> {
            fn chunk(&mut self, rows: Vec<SweepRow>) -> Result<()> {
                self.rows.extend(rows);
                Ok(())
            }
            fn tick(&mut self, done: usize) -> Result<()> {
                (self.progress)(done);
                Ok(())
            }
        }
        let (grid, loaded) = (self.grid, &self.loaded);
        let mut rows = Rows {
            rows: Vec::with_capacity(grid.len()),
            progress,
        };
        stream::ordered_with(
            grid.len(),
            jobs,
            || Scratch::new(grid),
            |scratch, range| range.map(|i| row(grid, loaded, i, scratch)).collect(),
            &mut rows,
        )?;
        (rows.progress)(grid.len());
        Ok(rows.rows)
    }

    /// Prices every row on `jobs` threads and writes each to `out` in `format` as soon as it
    /// and every row before it are done: memory stays flat whatever the number of rows, and the
    /// first rows appear at once. Rows are formatted on the workers; `out` is flushed at least
    /// every 50 ms while rows arrive. `destination` names `out` in errors: a failed write (a
    /// closed pipe too) stops the sweep with [`Error::Output`]. The text equals [`render`] of
    /// [`Sweep::run`]'s rows.
    pub fn write(
        &self,
        format: TextFormat,
        jobs: usize,
        out: &mut impl std::io::Write,
        destination: &Path,
        progress: impl FnMut(usize),
    ) -> Result<()> {
        struct Text<'a, W, P> {
            out: &'a mut W,
            destination: &'a Path,
            progress: P,
            unflushed: bool,
        }
        impl<W: std::io::Write, P> Text<'_, W, P> {
            fn io(&self, source: std::io::Error) -> Error {
                Error::Output {
                    path: self.destination.to_path_buf(),
                    source,
                }
            }
            fn put(&mut self, text: &str) -> Result<()> {
                self.unflushed = true;
                self.out.write_all(text.as_bytes()).map_err(|e| self.io(e))
            }
        }
        impl<W: std::io::Write, P: FnMut(usize)> stream::Consumer<String> for Text<'_, W, P> {
            fn chunk(&mut self, text: String) -> Result<()> {
                self.put(&text)
            }
            fn tick(&mut self, done: usize) -> Result<()> {
                (self.progress)(done);
                if self.unflushed {
                    self.unflushed = false;
                    self.out.flush().map_err(|e| self.io(e))?;
                }
                Ok(())
            }
        }
        let (grid, loaded) = (self.grid, &self.loaded);
        let [models, gpus, schedules] = grid.labels();
        let writer = RowWriter::new(format, models, gpus, schedules)
            .with_intervals(!loaded.framework.is_roofline() && loaded.framework.spread.is_some())
            // The column's width is the label's the rows carry (`hf (anchored)`).
            .with_framework(
                (!loaded.framework.is_roofline()).then_some(loaded.framework_label.as_str()),
            );
        let mut text = Text {
            out,
            destination,
            progress,
            unflushed: false,
        };
        // Every configuration is checked before the first byte is written, so an invalid row
        // inside the grid never leaves rows that look complete (validation is cheap beside
        // pricing).
        self.validate(jobs)?;
        let mut head = String::new();
        writer.begin(&mut head);
        text.put(&head)?;
        stream::ordered_with(
            grid.len(),
            jobs,
            || (Scratch::new(grid), SweepRow::empty()),
            |(scratch, r), range| {
                let mut s = String::with_capacity(range.len() * 360);
                for i in range {
                    row_into(grid, loaded, i, scratch, r)?;
                    writer.row(r, i == 0, &mut s);
                }
                Ok(s)
            },
            &mut text,
        )?;
        let mut tail = String::new();
        writer.end(grid.len(), &mut tail);
        text.put(&tail)?;
        text.out.flush().map_err(|e| text.io(e))?;
        (text.progress)(grid.len());
        Ok(())
    }
}

/// Whether each row's prefill fits its GPU's memory for the model (its peak, or LLM-Viewer's
/// memory consumption, per device, against the GPU less what its file reserves for the OS), as
/// a single run's `fits` says; a GPU that does not load counts as fitting (nothing to say).
pub fn fits(rows: &[SweepRow]) -> Vec<bool> {
    let mut device_bytes: Vec<(&str, Option<f64>)> = Vec::new();
    rows.iter()
        .map(|r| {
            let at = match device_bytes.iter().position(|(g, _)| *g == r.gpu) {
                Some(i) => i,
                None => {
                    let bytes = crate::hardware::Gpu::load(&r.gpu)
                        .ok()
                        .map(|g| g.model_memory_bytes());
                    device_bytes.push((&r.gpu, bytes));
                    device_bytes.len() - 1
                }
            };
            device_bytes[at]
                .1
                .is_none_or(|d| r.memory_consumption_bytes <= d)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_lists_mix() {
        assert_eq!(parse_counts(FRAMES, "8:32:8").unwrap(), [8, 16, 24, 32]);
        assert_eq!(parse_counts(FRAMES, "8:30:8").unwrap(), [8, 16, 24]);
        assert_eq!(parse_counts(FRAMES, "1:3").unwrap(), [1, 2, 3]);
        assert_eq!(parse_counts(FRAMES, "4").unwrap(), [4]);
        assert_eq!(parse_counts(FRAMES, "1, 2,4:8:4").unwrap(), [1, 2, 4, 8]);
        assert_eq!(parse_counts(FRAMES, "5:5").unwrap(), [5]);
        // Issue 24: 0 frames is a text-only prompt in a sweep as in a run; other axes start at 1.
        assert_eq!(parse_counts(FRAMES, "0:2").unwrap(), [0, 1, 2]);
        assert!(parse_counts(FRAMES, "0:8:0").is_err());
        assert!(parse_counts(TOKENS, "0:2").is_err());
    }

    #[test]
    fn extremes_are_every_name_with_the_smallest_and_largest_counts() {
        let grid = Grid::new(&GridSpec {
            axes: Axes {
                frames: Some("5,1,9,3".into()),
                text_tokens: Some("3:4".into()),
                schedule: Some("none,linear".into()),
                batch: Some("2".into()),
                ..Axes::default()
            },
            ..GridSpec::default()
        })
        .unwrap();
        let picked: Vec<(u64, u64, String)> = grid
            .extremes()
            .into_iter()
            .map(|i| {
                let s = grid.spec(i);
                (
                    s.frames.unwrap(),
                    s.text_tokens,
                    s.schedule.label("").to_string(),
                )
            })
            .collect();
        let mut want = Vec::new();
        for text in [3, 4] {
            for frames in [1, 9] {
                for schedule in ["none", "linear"] {
                    want.push((frames, text, schedule.to_string()));
                }
            }
        }
        assert_eq!(picked, want, "in row order");
    }

    /// A worker's scratch spec, filled in place in any order of configurations, is each
    /// configuration's own spec (every name updated when it changes, kept when it does not).
    #[test]
    fn a_reused_scratch_spec_is_each_configurations_spec() {
        let grid = Grid::new(&GridSpec {
            axes: Axes {
                model: Some("llava-ov-7b,qwen3-vl-30b-a3b".into()),
                gpu: Some("a100,h100".into()),
                schedule: Some("none,linear,fastv".into()),
                frames: Some("0,8,16".into()),
                text_tokens: Some("5,100".into()),
                ..Axes::default()
            },
            ..GridSpec::default()
        })
        .unwrap();
        let fresh = |i: usize| {
            let [m, g, c, b, t, p, v, s] = grid.position(i);
            let mut a = grid.base.clone();
            a.model = grid.models[m].clone();
            a.gpu = grid.gpus[g].clone();
            a.schedule = grid.schedules[s].clone();
            a.cost_model = grid.cost_models[c];
            a.batch = grid.batch[b];
            a.text_tokens = grid.text_tokens[t];
            a.tokens_per_frame = grid.tokens_per_frame[p];
            (a.frames, a.tokens) = grid.visual[v].frames_tokens();
            a
        };
        let n = grid.len();
        let mut scratch = Scratch::new(&grid);
        // In order, backwards, and jumping about (a worker's chunks are not contiguous).
        let order = (0..n).chain((0..n).rev()).chain((0..n).map(|i| i * 7 % n));
        for i in order {
            grid.fill(i, &mut scratch);
            assert_eq!(scratch.spec, fresh(i), "configuration {i}");
        }
    }

    /// Rows collected ([`Sweep::run`]) and rows streamed ([`Sweep::write`], each worker
    /// reusing one row) render the same text, on one thread and on several.
    #[test]
    fn collected_and_streamed_rows_agree() {
        let grid = Grid::new(&GridSpec {
            axes: Axes {
                model: Some("llava-ov-7b,qwen3-vl-30b-a3b".into()),
                schedule: Some("none,linear,pdrop".into()),
                frames: Some("0:24:4".into()),
                ..Axes::default()
            },
            ..GridSpec::default()
        })
        .unwrap();
        let sweep = Sweep::prepare(&grid).unwrap();
        let rows = sweep.run(1, |_| {}).unwrap();
        let want = render(&rows, TextFormat::Csv);
        for jobs in [1, 3] {
            let mut out = Vec::new();
            sweep
                .write(TextFormat::Csv, jobs, &mut out, Path::new("mem"), |_| {})
                .unwrap();
            assert_eq!(String::from_utf8(out).unwrap(), want, "--jobs {jobs}");
        }
        assert_eq!(sweep.run(3, |_| {}).unwrap(), rows);
    }

    #[test]
    fn bad_ranges_say_what_to_type() {
        for bad in ["", "8:4", "8:16:0", "a:b", "1:2:3:4", "1,,2", "-1", "2.5"] {
            let e = parse_counts(FRAMES, bad).unwrap_err().to_string();
            assert!(e.starts_with("frames '"), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(parse_counts(FRAMES, "1:100000000000").is_err());
    }
}
