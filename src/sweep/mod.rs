//! Sweeps: many prefills at once. Any of models, GPUs, schedules, cost models, frames, tokens,
//! tokens per frame, text tokens and batch may be a comma list or an inclusive range
//! (`8:256:8`); every combination becomes one [`SweepRow`].
//!
//! Each configuration is an ordinary [`Spec`] and goes through [`Scenario::from_loaded`] and
//! [`sim::simulate`], so validation and costing are exactly those of a single run. Presets are
//! loaded once per distinct name, not once per row.

mod output;

pub use output::render;

use crate::cost::CostModelKind;
use crate::error::{Error, Result};
use crate::hardware::Gpu;
use crate::model::Model;
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::sim;
use crate::spec::{parse_count, Definition, Spec};
use serde::{Deserialize, Serialize};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

/// Largest number of configurations one sweep may have.
pub const MAX_CONFIGS: usize = 10_000_000;

/// The values each axis of a sweep takes, as typed: comma lists of names, or of counts and
/// inclusive ranges `START:END[:STEP]`. `None`: the base spec's single value.
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
    /// The axes that were given, as `(flag, value)` pairs (e.g. `("frames", "8:64:8")`).
    pub fn given(&self) -> Vec<(&'static str, &str)> {
        [
            ("model", &self.model),
            ("gpu", &self.gpu),
            ("schedule", &self.schedule),
            ("cost-model", &self.cost_model),
            ("frames", &self.frames),
            ("tokens", &self.tokens),
            ("tokens-per-frame", &self.tokens_per_frame),
            ("text-tokens", &self.text_tokens),
            ("batch", &self.batch),
        ]
        .into_iter()
        .filter_map(|(k, v)| v.as_deref().map(|v| (k, v)))
        .collect()
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
/// `1,2,4:64:4`. `flag` names the option in error messages.
pub fn parse_counts(flag: &str, spec: &str) -> Result<Vec<u64>> {
    let bad = |what: String| Error::invalid(format!("{flag} '{spec}': {what}"));
    let mut out = Vec::new();
    for item in spec.split(',') {
        let item = item.trim();
        if item.is_empty() {
            return Err(bad(
                "empty list item: write values like 8,16,32 or ranges like 8:256:8".into(),
            ));
        }
        let parts: Vec<&str> = item.split(':').collect();
        let count = |s: &str| parse_count(s).map_err(|m| bad(format!("'{s}' {m}")));
        match parts.as_slice() {
            [one] => out.push(count(one)?),
            [start, end] | [start, end, _] => {
                let (start, end) = (count(start)?, count(end)?);
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
pub fn parse_names(flag: &str, spec: &str) -> Result<Vec<String>> {
    spec.split(',')
        .map(|s| {
            let s = s.trim();
            if s.is_empty() {
                Err(Error::invalid(format!(
                    "{flag} '{spec}': empty list item: write names like none,linear,fastv"
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
            flag: &str,
            single: &Definition<T>,
        ) -> Result<Vec<Definition<T>>>
        where
            Definition<T>: Clone,
        {
            match axis {
                Some(list) => Ok(parse_names(flag, list)?
                    .into_iter()
                    .map(Definition::Name)
                    .collect()),
                None => Ok(vec![single.clone()]),
            }
        }
        let counts = |axis: &Option<String>, flag: &str| -> Result<Option<Vec<u64>>> {
            axis.as_deref().map(|s| parse_counts(flag, s)).transpose()
        };
        let (base, axes) = (&spec.base, &spec.axes);
        let cost_models = match &axes.cost_model {
            None => vec![base.cost_model],
            Some(spec) => parse_names("--cost-model", spec)?
                .iter()
                .map(|n| parse_cost_model(n))
                .collect::<Result<_>>()?,
        };
        if axes.frames.is_some() && axes.tokens.is_some() {
            return Err(Error::invalid(
                "give either --frames or --tokens as the sweep's visual input, not both",
            ));
        }
        let visual = match (
            counts(&axes.frames, "--frames")?,
            counts(&axes.tokens, "--tokens")?,
        ) {
            (Some(f), _) => f.into_iter().map(|f| Visual::Frames(Some(f))).collect(),
            (None, Some(t)) => t.into_iter().map(Visual::Tokens).collect(),
            (None, None) => vec![match (base.tokens, base.frames) {
                (Some(t), _) => Visual::Tokens(t),
                (None, f) => Visual::Frames(f),
            }],
        };
        let grid = Grid {
            models: names(&axes.model, "--model", &base.model)?,
            gpus: names(&axes.gpu, "--gpu", &base.gpu)?,
            schedules: names(&axes.schedule, "--schedule", &base.schedule)?,
            cost_models,
            visual,
            tokens_per_frame: counts(&axes.tokens_per_frame, "--tokens-per-frame")?
                .map(|v| v.into_iter().map(Some).collect())
                .unwrap_or_else(|| vec![base.tokens_per_frame]),
            text_tokens: counts(&axes.text_tokens, "--text-tokens")?
                .unwrap_or_else(|| vec![base.text_tokens]),
            batch: counts(&axes.batch, "--batch")?.unwrap_or_else(|| vec![base.batch]),
            base: base.clone(),
        };
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
        let [m, g, c, b, t, p, v, s] = self.position(index);
        let mut a = self.base.clone();
        a.model.clone_from(&self.models[m]);
        a.gpu.clone_from(&self.gpus[g]);
        a.schedule.clone_from(&self.schedules[s]);
        a.cost_model = self.cost_models[c];
        a.batch = self.batch[b];
        a.text_tokens = self.text_tokens[t];
        a.tokens_per_frame = self.tokens_per_frame[p];
        (a.frames, a.tokens) = match self.visual[v] {
            Visual::Frames(f) => (f, None),
            Visual::Tokens(n) => (None, Some(n)),
        };
        a
    }
}

fn parse_cost_model(name: &str) -> Result<CostModelKind> {
    use crate::choice::Choice;
    CostModelKind::from_name(name).ok_or_else(|| {
        Error::invalid(format!(
            "--cost-model: unknown cost model '{name}': use one of {}",
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
}

/// Each distinct preset loaded once.
struct Loaded {
    models: Vec<Model>,
    gpus: Vec<Gpu>,
    schedules: Vec<Schedule>,
}

impl Loaded {
    fn new(grid: &Grid) -> Result<Loaded> {
        Ok(Loaded {
            models: grid
                .models
                .iter()
                .map(|m| m.load())
                .collect::<Result<_>>()?,
            gpus: grid.gpus.iter().map(|g| g.load()).collect::<Result<_>>()?,
            schedules: grid
                .schedules
                .iter()
                .map(|s| s.load())
                .collect::<Result<_>>()?,
        })
    }
}

/// Prices configuration `index`: totals only ([`sim::summarize`]), no per-operator detail.
fn row(grid: &Grid, loaded: &Loaded, index: usize) -> Result<SweepRow> {
    let [m, g, _, _, _, _, _, s] = grid.position(index);
    let args = grid.spec(index);
    let scenario = Scenario::from_loaded(
        &args,
        loaded.models[m].clone(),
        loaded.gpus[g].clone(),
        loaded.schedules[s].clone(),
    )
    .and_then(|scenario| sim::summarize(&scenario).map(|summary| (scenario, summary)))
    .map_err(|e| Error::invalid(format!("{}: {e}", describe(&args))));
    let (scenario, summary) = scenario?;
    let (run, base) = (&summary.run, &summary.baseline);
    let input = &scenario.input;
    Ok(SweepRow {
        model: args.model.label("inline model").to_string(),
        gpu: args.gpu.label("inline GPU").to_string(),
        schedule: args.schedule.label("inline schedule").to_string(),
        cost_model: scenario.cost_model.implementation().name().to_string(),
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
    })
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

/// Prices every configuration of `grid`, in order, on all cores. `progress` is called now and
/// then from the calling thread with the number of rows done so far.
pub fn run(grid: &Grid, mut progress: impl FnMut(usize)) -> Result<Vec<SweepRow>> {
    let loaded = Loaded::new(grid)?;
    let n = grid.len();
    let threads = std::thread::available_parallelism()
        .map(|t| t.get())
        .unwrap_or(1)
        .clamp(1, 64)
        .min(n.div_ceil(256).max(1));
    let chunk = n.div_ceil(threads);
    let done = AtomicUsize::new(0);
    let finished = AtomicUsize::new(0);
    let caller = std::thread::current();
    let parts: Vec<Result<Vec<SweepRow>>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|t| {
                let (loaded, done, finished) = (&loaded, &done, &finished);
                let caller = caller.clone();
                scope.spawn(move || {
                    // Counts this worker as finished and wakes the caller, however it returns.
                    struct Wake<'a>(std::thread::Thread, &'a AtomicUsize);
                    impl Drop for Wake<'_> {
                        fn drop(&mut self) {
                            self.1.fetch_add(1, Ordering::Release);
                            self.0.unpark();
                        }
                    }
                    let _wake = Wake(caller, finished);
                    let range = (t * chunk)..((t + 1) * chunk).min(n);
                    let mut rows = Vec::with_capacity(range.len());
                    for (k, i) in range.enumerate() {
                        rows.push(row(grid, loaded, i)?);
                        if k % 64 == 63 {
                            done.fetch_add(64, Ordering::Relaxed);
                        }
                    }
                    Ok(rows)
                })
            })
            .collect();
        while finished.load(Ordering::Acquire) < threads {
            progress(done.load(Ordering::Relaxed).min(n));
            std::thread::park_timeout(Duration::from_millis(50));
        }
        workers
            .into_iter()
            .map(|w| w.join().expect("sweep worker panicked"))
            .collect()
    });
    progress(n);
    let mut rows = Vec::with_capacity(n);
    for part in parts {
        rows.extend(part?);
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_inclusive_and_lists_mix() {
        assert_eq!(parse_counts("--frames", "8:32:8").unwrap(), [8, 16, 24, 32]);
        assert_eq!(parse_counts("--frames", "8:30:8").unwrap(), [8, 16, 24]);
        assert_eq!(parse_counts("--frames", "1:3").unwrap(), [1, 2, 3]);
        assert_eq!(parse_counts("--frames", "4").unwrap(), [4]);
        assert_eq!(
            parse_counts("--frames", "1, 2,4:8:4").unwrap(),
            [1, 2, 4, 8]
        );
        assert_eq!(parse_counts("--frames", "5:5").unwrap(), [5]);
    }

    #[test]
    fn bad_ranges_say_what_to_type() {
        for bad in [
            "", "8:4", "0:8", "8:16:0", "a:b", "1:2:3:4", "1,,2", "-1", "2.5",
        ] {
            let e = parse_counts("--frames", bad).unwrap_err().to_string();
            assert!(e.starts_with("--frames '"), "{bad}: {e}");
            assert!(!e.contains('\n'), "{e}");
        }
        assert!(parse_counts("--frames", "1:100000000000").is_err());
    }
}
