//! Simulations for `simulate` and `simulate_many`: [`aim_sim::simulate`], with the embedded
//! presets parsed once per process instead of once per call (a notebook loop names the same
//! model, GPU and schedule thousands of times), and a batch spread over worker threads.

use aim_sim::framework::Framework;
use aim_sim::hardware::Gpu;
use aim_sim::model::Model;
use aim_sim::schedule::Schedule;
use aim_sim::spec::Definition;
use aim_sim::{presets, Error, Report, Result, Scenario, Spec};
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Loaded embedded presets by name. Only embedded presets: they cannot change while the
/// process runs, where a file path could be edited between two calls.
struct Cache<T> {
    loaded: OnceLock<Mutex<HashMap<String, Arc<T>>>>,
}

impl<T> Cache<T> {
    const fn new() -> Self {
        Cache {
            loaded: OnceLock::new(),
        }
    }

    /// `definition` loaded: from the cache when it names an embedded preset in `list`.
    fn get(
        &self,
        definition: &Definition<T>,
        list: &[presets::Preset],
        load: impl FnOnce() -> Result<T>,
    ) -> Result<Arc<T>> {
        let name = match definition {
            Definition::Name(n) if list.iter().any(|(p, _)| p == n) => n,
            _ => return load().map(Arc::new),
        };
        let map = self.loaded.get_or_init(|| Mutex::new(HashMap::new()));
        if let Some(found) = map.lock().expect("cache lock").get(name) {
            return Ok(found.clone());
        }
        let value = Arc::new(load()?);
        map.lock()
            .expect("cache lock")
            .insert(name.clone(), value.clone());
        Ok(value)
    }
}

static MODELS: Cache<Model> = Cache::new();
static GPUS: Cache<Gpu> = Cache::new();
static SCHEDULES: Cache<Schedule> = Cache::new();
static FRAMEWORKS: Cache<Framework> = Cache::new();

/// [`Scenario::from_spec`], presets from the cache (loaded in the same order, so the same
/// error comes first).
fn scenario(spec: &Spec) -> Result<Scenario> {
    let model = MODELS.get(&spec.model, presets::MODELS, || spec.model.load())?;
    let gpu = GPUS.get(&spec.gpu, presets::GPUS, || spec.gpu.load())?;
    let schedule = SCHEDULES.get(&spec.schedule, presets::SCHEDULES, || spec.schedule.load())?;
    let framework = FRAMEWORKS.get(&spec.framework, presets::FRAMEWORKS, || {
        spec.framework.load()
    })?;
    Scenario::from_loaded(spec, model, gpu, schedule, &framework)
}

/// [`aim_sim::simulate`]: the same report.
pub fn simulate_one(spec: &Spec) -> Result<Report> {
    aim_sim::sim::simulate(&scenario(spec)?)
}

/// What `keep` takes of every spec's report, in order, on `jobs` threads (a report is dropped
/// as soon as it is kept); the first failed run in list order names its item (`specs[3]: ...`).
pub fn simulate_many<T: Send>(
    specs: &[Spec],
    jobs: usize,
    keep: impl Fn(Report) -> T + Sync,
) -> Result<Vec<T>> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(spec) = specs.get(i) else {
                return done;
            };
            done.push((i, simulate_one(spec).map(&keep)));
        }
    };
    let threads = jobs.clamp(1, specs.len().max(1));
    let mut results: Vec<Option<Result<T>>> = (0..specs.len()).map(|_| None).collect();
    let finished: Vec<Vec<(usize, Result<T>)>> = if threads == 1 {
        vec![work()]
    } else {
        std::thread::scope(|s| {
            let handles: Vec<_> = (0..threads).map(|_| s.spawn(work)).collect();
            handles
                .into_iter()
                .map(|h| {
                    h.join()
                        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
                })
                .collect()
        })
    };
    for (i, result) in finished.into_iter().flatten() {
        results[i] = Some(result);
    }
    results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            r.expect("every item priced").map_err(|e| {
                Error::invalid(format!(
                    "specs[{i}]: {}",
                    aim_sim::error::one_line(&e.to_string())
                ))
            })
        })
        .collect()
}
