//! `aim-sim sweep`: many prefills at once. Any of models, GPUs, schedules, cost models, frames,
//! tokens, tokens per frame, text tokens and batch may be a comma list or an inclusive range
//! (`--frames 8:256:8`); every combination becomes one [`SweepRow`].
//!
//! Each configuration is an ordinary [`SimArgs`] and goes through
//! [`Scenario::from_loaded`] and [`sim::simulate`], so validation and costing are exactly
//! those of a single run. Presets are loaded once per distinct name, not once per row.

mod output;

pub use output::render;

use crate::cli::{parse_count, SimArgs};
use crate::cost::CostModelKind;
use crate::error::{Error, Result};
use crate::hardware::Gpu;
use crate::model::Model;
use crate::scenario::Scenario;
use crate::schedule::Schedule;
use crate::sim;
use clap::{Arg, ArgMatches, Args, FromArgMatches};
use serde::Serialize;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// Largest number of configurations one sweep may have.
pub const MAX_CONFIGS: usize = 10_000_000;

/// A flag of [`SimArgs`] that a sweep accepts as a list: clap id, flag name, value name, help.
struct Axis {
    id: &'static str,
    long: &'static str,
    /// The single-value flag of `SimArgs`, renamed out of the way and hidden.
    hidden_long: &'static str,
    list_id: &'static str,
    value_name: &'static str,
    help: &'static str,
}

const AXES: &[Axis] = &[
    Axis {
        id: "model",
        long: "model",
        hidden_long: "single-model",
        list_id: "list_model",
        value_name: "NAMES",
        help: "Model presets or files, comma-separated [default: llava-ov-7b]",
    },
    Axis {
        id: "gpu",
        long: "gpu",
        hidden_long: "single-gpu",
        list_id: "list_gpu",
        value_name: "NAMES",
        help: "GPU presets or files, comma-separated [default: a100]",
    },
    Axis {
        id: "schedule",
        long: "schedule",
        hidden_long: "single-schedule",
        list_id: "list_schedule",
        value_name: "NAMES",
        help: "Schedule presets or files, comma-separated [default: linear]",
    },
    Axis {
        id: "cost_model",
        long: "cost-model",
        hidden_long: "single-cost-model",
        list_id: "list_cost_model",
        value_name: "NAMES",
        help: "Cost models, comma-separated [default: as for a single run]",
    },
    Axis {
        id: "frames",
        long: "frames",
        hidden_long: "single-frames",
        list_id: "list_frames",
        value_name: "LIST",
        help: "Frames: a list and/or ranges START:END[:STEP], end inclusive, e.g. 8:256:8 [default: the model's]",
    },
    Axis {
        id: "tokens",
        long: "tokens",
        hidden_long: "single-tokens",
        list_id: "list_tokens",
        value_name: "LIST",
        help: "Visual tokens before merging (instead of --frames): list and/or ranges",
    },
    Axis {
        id: "tokens_per_frame",
        long: "tokens-per-frame",
        hidden_long: "single-tokens-per-frame",
        list_id: "list_tokens_per_frame",
        value_name: "LIST",
        help: "Visual tokens per frame before merging: list and/or ranges [default: the model's]",
    },
    Axis {
        id: "text_tokens",
        long: "text-tokens",
        hidden_long: "single-text-tokens",
        list_id: "list_text_tokens",
        value_name: "LIST",
        help: "Text tokens: list and/or ranges [default: 100]",
    },
    Axis {
        id: "batch",
        long: "batch",
        hidden_long: "single-batch",
        list_id: "list_batch",
        value_name: "LIST",
        help: "Batch sizes: list and/or ranges [default: 1]",
    },
];

/// The flags of a single run, with the sweepable ones taking lists. Every other flag of
/// `aim-sim simulate` (pruning overrides, precision, --skip-mlp-add, ...) applies to all rows.
#[derive(Debug, Clone)]
pub struct GridArgs {
    /// The single-run flags; the sweepable ones hold their defaults.
    pub sim: SimArgs,
    /// The list flags as typed, `None` where not given.
    pub lists: Vec<(&'static str, Option<String>)>,
}

impl GridArgs {
    /// The raw list given for the `SimArgs` field `id`, if any.
    fn list(&self, id: &str) -> Option<&str> {
        self.lists
            .iter()
            .find(|(i, _)| *i == id)
            .and_then(|(_, v)| v.as_deref())
    }

    /// Grid flags from a plain `SimArgs` (no lists): a sweep of one configuration.
    pub fn single(sim: SimArgs) -> GridArgs {
        GridArgs {
            sim,
            lists: AXES.iter().map(|a| (a.id, None)).collect(),
        }
    }

    /// Whether the list flag `--<long>` (e.g. `"frames"`) was given.
    pub fn has_list(&self, long: &str) -> bool {
        AXES.iter()
            .find(|a| a.long == long)
            .is_some_and(|a| self.list(a.id).is_some())
    }

    /// The list flags that were given, as `--<long>` names (e.g. `["frames", "schedule"]`).
    pub fn given_lists(&self) -> Vec<&'static str> {
        AXES.iter()
            .filter(|a| self.list(a.id).is_some())
            .map(|a| a.long)
            .collect()
    }

    /// Sets the list flag `--<long>` (e.g. `("frames", "8:64:8")`), as if typed.
    pub fn with_list(mut self, long: &str, value: &str) -> GridArgs {
        if let Some(axis) = AXES.iter().find(|a| a.long == long) {
            if let Some(slot) = self.lists.iter_mut().find(|(i, _)| *i == axis.id) {
                slot.1 = Some(value.to_string());
            }
        }
        self
    }
}

impl Args for GridArgs {
    fn augment_args(cmd: clap::Command) -> clap::Command {
        let mut cmd = SimArgs::augment_args(cmd);
        for axis in AXES {
            cmd = cmd
                .mut_arg(axis.id, |a| a.long(axis.hidden_long).hide(true))
                .arg(
                    Arg::new(axis.list_id)
                        .long(axis.long)
                        .value_name(axis.value_name)
                        .help(axis.help)
                        .help_heading("Sweep axes (comma lists and START:END[:STEP] ranges)"),
                );
        }
        cmd.mut_arg("list_tokens", |a| a.conflicts_with("list_frames"))
    }

    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        Self::augment_args(cmd)
    }
}

impl FromArgMatches for GridArgs {
    fn from_arg_matches(m: &ArgMatches) -> std::result::Result<Self, clap::Error> {
        Ok(GridArgs {
            sim: SimArgs::from_arg_matches(m)?,
            lists: AXES
                .iter()
                .map(|a| (a.id, m.get_one::<String>(a.list_id).cloned()))
                .collect(),
        })
    }

    fn update_from_arg_matches(&mut self, m: &ArgMatches) -> std::result::Result<(), clap::Error> {
        *self = Self::from_arg_matches(m)?;
        Ok(())
    }
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
    base: SimArgs,
    models: Vec<String>,
    gpus: Vec<String>,
    schedules: Vec<String>,
    cost_models: Vec<CostModelKind>,
    visual: Vec<Visual>,
    tokens_per_frame: Vec<Option<u64>>,
    text_tokens: Vec<u64>,
    batch: Vec<u64>,
}

impl Grid {
    /// Expands the list flags; checks the lists, not the configurations.
    pub fn new(args: &GridArgs) -> Result<Grid> {
        let names = |id: &str, flag: &str, single: &str| -> Result<Vec<String>> {
            match args.list(id) {
                Some(spec) => parse_names(flag, spec),
                None => Ok(vec![single.to_string()]),
            }
        };
        let counts = |id: &str, flag: &str| -> Result<Option<Vec<u64>>> {
            args.list(id).map(|s| parse_counts(flag, s)).transpose()
        };
        let base = &args.sim;
        let cost_models = match args.list("cost_model") {
            None => vec![base.cost_model],
            Some(spec) => parse_names("--cost-model", spec)?
                .iter()
                .map(|n| parse_cost_model(n))
                .collect::<Result<_>>()?,
        };
        let visual = match (counts("frames", "--frames")?, counts("tokens", "--tokens")?) {
            (Some(f), _) => f.into_iter().map(|f| Visual::Frames(Some(f))).collect(),
            (None, Some(t)) => t.into_iter().map(Visual::Tokens).collect(),
            (None, None) => vec![match (base.tokens, base.frames) {
                (Some(t), _) => Visual::Tokens(t),
                (None, f) => Visual::Frames(f),
            }],
        };
        let grid = Grid {
            models: names("model", "--model", &base.model)?,
            gpus: names("gpu", "--gpu", &base.gpu)?,
            schedules: names("schedule", "--schedule", &base.schedule)?,
            cost_models,
            visual,
            tokens_per_frame: counts("tokens_per_frame", "--tokens-per-frame")?
                .map(|v| v.into_iter().map(Some).collect())
                .unwrap_or_else(|| vec![base.tokens_per_frame]),
            text_tokens: counts("text_tokens", "--text-tokens")?
                .unwrap_or_else(|| vec![base.text_tokens]),
            batch: counts("batch", "--batch")?.unwrap_or_else(|| vec![base.batch]),
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

    /// The single-run flags of configuration `index`.
    pub fn sim_args(&self, index: usize) -> SimArgs {
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
    use clap::ValueEnum;
    CostModelKind::from_str(name, true).map_err(|_| {
        let valid: Vec<String> = CostModelKind::value_variants()
            .iter()
            .filter_map(|v| v.to_possible_value().map(|p| p.get_name().to_string()))
            .collect();
        Error::invalid(format!(
            "--cost-model: unknown cost model '{name}': use one of {}",
            valid.join(", ")
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
                .map(|m| Model::load(m))
                .collect::<Result<_>>()?,
            gpus: grid
                .gpus
                .iter()
                .map(|g| Gpu::load(g))
                .collect::<Result<_>>()?,
            schedules: grid
                .schedules
                .iter()
                .map(|s| Schedule::load(s))
                .collect::<Result<_>>()?,
        })
    }
}

/// Prices configuration `index`.
fn row(grid: &Grid, loaded: &Loaded, index: usize) -> Result<SweepRow> {
    let [m, g, _, _, _, _, _, s] = grid.position(index);
    let args = grid.sim_args(index);
    let scenario = Scenario::from_loaded(
        &args,
        loaded.models[m].clone(),
        loaded.gpus[g].clone(),
        loaded.schedules[s].clone(),
    )
    .and_then(|scenario| sim::simulate(&scenario))
    .map_err(|e| Error::invalid(format!("{}: {e}", describe(&args))));
    let report = scenario?;
    let (run, base) = (&report.run.totals, &report.baseline.totals);
    let input = &report.scenario.input;
    Ok(SweepRow {
        model: args.model,
        gpu: args.gpu,
        schedule: args.schedule,
        cost_model: report.cost_model.to_string(),
        frames: input.frames,
        tokens_per_frame: input.tokens_per_frame,
        visual_tokens: input.visual_tokens(),
        merged_visual_tokens: report.plan.merged_visual_tokens,
        text_tokens: input.text_tokens,
        batch: report.scenario.options.batch,
        flops: run.flops,
        bytes: run.bytes,
        time_s: run.time_s,
        memory_consumption_bytes: run.memory_consumption_bytes,
        baseline_flops: base.flops,
        baseline_bytes: base.bytes,
        baseline_time_s: base.time_s,
        baseline_memory_consumption_bytes: base.memory_consumption_bytes,
        reduction_flops: report.reduction.flops,
        reduction_time: report.reduction.time,
    })
}

/// The configuration in words, for error messages.
fn describe(a: &SimArgs) -> String {
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
        a.model, a.gpu, a.schedule, a.text_tokens, a.batch
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

/// A progress bar on standard error that appears only when the sweep has run for a while and
/// standard error is a terminal; piped or redirected output never gets one.
pub struct Progress {
    bar: Option<indicatif::ProgressBar>,
    total: usize,
    started: Instant,
}

impl Progress {
    /// Delay before a bar appears.
    const AFTER: Duration = Duration::from_millis(300);

    pub fn new(total: usize) -> Progress {
        Progress {
            bar: None,
            total,
            started: Instant::now(),
        }
    }

    /// Reports `done` configurations.
    pub fn update(&mut self, done: usize) {
        use std::io::IsTerminal;
        if self.bar.is_none()
            && done < self.total
            && self.started.elapsed() >= Self::AFTER
            && std::io::stderr().is_terminal()
        {
            let bar = indicatif::ProgressBar::new(self.total as u64);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{bar:40} {pos}/{len} configurations, {per_sec}, eta {eta}",
                )
                .expect("valid template"),
            );
            self.bar = Some(bar);
        }
        if let Some(bar) = &self.bar {
            bar.set_position(done as u64);
        }
    }

    /// Removes the bar.
    pub fn finish(self) {
        if let Some(bar) = self.bar {
            bar.finish_and_clear();
        }
    }
}

/// `aim-sim sweep`: expand, price, write.
pub fn command(args: &GridArgs, output: &crate::cli::OutputArgs) -> Result<()> {
    let grid = Grid::new(args)?;
    let mut progress = Progress::new(grid.len());
    let rows = run(&grid, |done| progress.update(done));
    progress.finish();
    crate::app::emit(output, &render(&rows?, output.format))
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
