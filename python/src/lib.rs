//! `aim_sim._core`: the compiled half of the `aim_sim` Python package (python/aim_sim/ is the
//! other half, and the public API). It speaks the core's data: keyword options become a
//! [`Spec`] (options.rs mirrors the command line's flags), results come back as Python objects
//! built straight from the core's serde data, the structure of the CLI's JSON (objects.rs), or,
//! for sweeps, as packed columns (columns.rs). Rust works with the GIL released, bad input
//! raises `AimSimError` with the core's one-line message, and a panic never crosses.
//!
//! Each Python function is one `#[pyfunction]` here, exported in the `_core` module at the
//! end; a new one (a command of the CLI) follows the same shape: options in, `core(...)` for
//! the work, `objects::to_python` for the answer.

mod batch;
mod columns;
mod detail;
mod objects;
mod options;

use aim_sim::report::TextFormat;
use aim_sim::sweep::{self, Grid};
use aim_sim::{presets, Scenario, Spec};
use columns::Column;
use detail::Detail;
use options::Options;
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyByteArray, PyDict, PyFloat, PyInt, PyList, PyString};
use serde_json::{Map, Value};
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};

pyo3::create_exception!(
    aim_sim,
    AimSimError,
    PyValueError,
    "Bad input: the one-line message the aim-sim command line prints after `aim-sim: error:`."
);

/// The core's error as the Python exception, serde's type names in Python's words (`serve
/// option requests: invalid value: integer `-3`, expected u64` said nothing a user types).
fn error(e: aim_sim::Error) -> PyErr {
    AimSimError::new_err(plain_types(&aim_sim::error::one_line(&e.to_string())))
}

/// `message` with serde's Rust type names (`expected u64`) as what to give in Python: the
/// core's words for numbers and lists, and a dict where a file would hold a table or object.
fn plain_types(message: &str) -> String {
    aim_sim::error::plain_types(message, "a dict")
        .replace("invalid type: an object", "invalid type: a dict")
        .replace("invalid type: a table", "invalid type: a dict")
}

fn invalid(message: String) -> PyErr {
    AimSimError::new_err(message)
}

/// `text` with each option it names as the spec's key (`layer_tokens`, what Python's keyword
/// arguments are): the core marks them in warnings and notes, and each reader writes its own
/// names (the command line its flags).
fn named(text: String) -> String {
    match aim_sim::error::with_key_names(&text) {
        std::borrow::Cow::Borrowed(_) => text,
        std::borrow::Cow::Owned(named) => named,
    }
}

/// Runs core work with the GIL released; an error becomes `AimSimError`, a panic (a bug, never
/// bad input) a `RuntimeError` instead of unwinding into Python.
fn core<T: Send>(py: Python<'_>, work: impl FnOnce() -> aim_sim::Result<T> + Send) -> PyResult<T> {
    match py.detach(|| std::panic::catch_unwind(AssertUnwindSafe(work))) {
        Ok(result) => result.map_err(error),
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "a panic".into());
            Err(PyRuntimeError::new_err(format!(
                "aim-sim internal error: {what} (a bug, not your input: please report it with the options that caused it)"
            )))
        }
    }
}

/// Runs a core function that reads a file (`str` or `os.PathLike`) and returns data.
/// `Spec.load` uses it; so will `check` (the published-measurement check, issue 9).
fn from_file<T: Send>(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    read: impl FnOnce(&Path) -> aim_sim::Result<T> + Send,
) -> PyResult<T> {
    let path = path_of(path)?;
    core(py, move || read(&path))
}

fn path_of(path: &Bound<'_, PyAny>) -> PyResult<PathBuf> {
    let os = path.py().import("os")?;
    let text = os
        .call_method1("fspath", (path,))
        .and_then(|p| p.extract::<String>())
        .map_err(|_| {
            invalid(format!(
                "{} is not a file path: give a str or a pathlib.Path",
                describe(path)
            ))
        })?;
    Ok(PathBuf::from(text))
}

/// `repr(value)`, shortened, for messages.
fn describe(value: &Bound<'_, PyAny>) -> String {
    let text = value
        .repr()
        .map(|r| r.to_string())
        .unwrap_or_else(|_| "the value".into());
    if text.chars().count() > 60 {
        format!("{}…", text.chars().take(60).collect::<String>())
    } else {
        text
    }
}

/// A Python value as JSON: None, bool, int, float, str, dict, `Spec`, `os.PathLike`, and any
/// other iterable (list, tuple, range, numpy array) as a list. `key` names it in errors.
fn to_json(key: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if value.is_none() {
        return Ok(Value::Null);
    }
    if let Ok(b) = value.cast::<PyBool>() {
        return Ok(Value::Bool(b.is_true()));
    }
    if value.is_instance_of::<PyInt>() {
        return integer(key, value);
    }
    if let Ok(f) = value.cast::<PyFloat>() {
        return float(key, f.value());
    }
    if let Ok(s) = value.cast::<PyString>() {
        return Ok(Value::String(s.extract()?));
    }
    if let Ok(dict) = value.cast::<PyDict>() {
        let mut map = Map::new();
        for (k, v) in dict.iter() {
            let k: String = k.extract().map_err(|_| {
                invalid(format!(
                    "'{key}': the keys of a table are strings, not {}",
                    describe(&k)
                ))
            })?;
            let v = to_json(&k, &v)?;
            if !v.is_null() {
                map.insert(k, v);
            }
        }
        return Ok(Value::Object(map));
    }
    if let Ok(spec) = value.cast::<PySpec>() {
        return Ok(serde_json::to_value(&spec.get().inner).expect("a spec serialises"));
    }
    if value.hasattr("__fspath__")? {
        return Ok(Value::String(path_of(value)?.display().to_string()));
    }
    if let Ok(items) = value.try_iter() {
        return items
            .map(|item| to_json(key, &item?))
            .collect::<PyResult<Vec<_>>>()
            .map(Value::Array);
    }
    // numpy's bool (`np.bool_`, named `bool` in numpy 2) is no Python bool and reads as a
    // float: `include_vision=np.bool_(True)` was told "floating point `1.0`, expected a
    // boolean".
    let type_name: String = value.get_type().name()?.extract()?;
    if matches!(type_name.as_str(), "bool_" | "bool") {
        return Ok(Value::Bool(value.is_truthy()?));
    }
    // numpy scalars and other numbers that are not int or float subclasses.
    if value.hasattr("__index__")? {
        return integer(key, value);
    }
    if let Ok(f) = value.extract::<f64>() {
        return float(key, f);
    }
    Err(invalid(format!(
        "invalid value {} for '{key}': give a number, a string, a list or a dict",
        describe(value)
    )))
}

fn integer(key: &str, value: &Bound<'_, PyAny>) -> PyResult<Value> {
    if let Ok(i) = value.extract::<i64>() {
        return Ok(i.into());
    }
    if let Ok(u) = value.extract::<u64>() {
        return Ok(u.into());
    }
    Err(invalid(format!(
        "invalid value {} for '{key}': too large for a 64-bit integer",
        describe(value)
    )))
}

fn float(key: &str, f: f64) -> PyResult<Value> {
    serde_json::Number::from_f64(f)
        .map(Value::Number)
        .ok_or_else(|| {
            invalid(format!(
                "invalid value {f} for '{key}': give a finite number"
            ))
        })
}

/// The `spec` option: a `Spec`, a run-file path, or a dict in the run file's keys.
fn spec_of(py: Python<'_>, value: &Bound<'_, PyAny>) -> PyResult<Spec> {
    if let Ok(spec) = value.cast::<PySpec>() {
        return Ok(spec.get().inner.clone());
    }
    if value.is_instance_of::<PyString>() || value.hasattr("__fspath__")? {
        return from_file(py, value, Spec::load);
    }
    if value.is_instance_of::<PyDict>() {
        let text = to_json("spec", value)?.to_string();
        return Spec::parse(&text, "the spec option").map_err(error);
    }
    Err(invalid(format!(
        "invalid value {} for 'spec': give an aim_sim.Spec, a run-file path or a dict",
        describe(value)
    )))
}

/// Keyword options; `None` means "not given", as an absent flag does.
fn options_of(
    py: Python<'_>,
    kwargs: Option<&Bound<'_, PyDict>>,
    base: Option<Spec>,
) -> PyResult<Options> {
    let mut options = Options {
        base,
        given: Map::new(),
    };
    for (key, value) in kwargs.into_iter().flat_map(|d| d.iter()) {
        let key: String = key.extract()?;
        if value.is_none() {
            continue;
        }
        if key == "spec" {
            options.base = Some(spec_of(py, &value)?);
        } else {
            let json = to_json(&key, &value)?;
            options.given.insert(key, json);
        }
    }
    Ok(options)
}

/// `aim-sim [options] --format json`: the report as JSON text, the CLI's renderer (the tests
/// hold `simulate`'s objects to it).
#[pyfunction]
#[pyo3(signature = (**options))]
fn simulate_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let options = options_of(py, options, None)?;
    core(py, move || {
        let report = simulate_report(options)?;
        aim_sim::report::render(&report, TextFormat::Json).map(named)
    })
}

/// The report of `aim_sim.simulate(**options)`, anchored when `anchor_ms` or `anchor` is given.
fn simulate_report(options: options::Options) -> aim_sim::Result<aim_sim::Report> {
    match options::simulate_anchored(options)? {
        (spec, None) => batch::simulate_one(&spec),
        (spec, Some(options::Anchor::Ms(ms))) => {
            aim_sim::sim::simulate(&aim_sim::check::anchor::anchored_scenario(&spec, ms)?)
        }
        (spec, Some(options::Anchor::File(path))) => aim_sim::sim::simulate(
            &aim_sim::check::anchor::anchored_scenario_file(&spec, &path)?,
        ),
    }
}

/// `aim-sim [options] --format json` as Python objects: the report (`detail="full"`) or its
/// totals (`detail="totals"`).
#[pyfunction]
#[pyo3(signature = (detail = None, **options))]
fn simulate<'py>(
    py: Python<'py>,
    detail: Option<&str>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    let detail = Detail::parse(detail.unwrap_or("full")).map_err(error)?;
    let options = options_of(py, options, None)?;
    let kept = core(py, move || Ok(detail.keep(simulate_report(options)?)))?;
    objects::to_python(py, &kept)
}

/// Many prefills at once: each item of `specs` a `Spec` or a dict of `simulate`'s options,
/// priced on `jobs` threads with the GIL released; a list of reports in the same order.
#[pyfunction]
#[pyo3(signature = (specs, detail = None, jobs = None))]
fn simulate_many<'py>(
    py: Python<'py>,
    specs: &Bound<'py, PyAny>,
    detail: Option<&str>,
    jobs: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyList>> {
    let detail = Detail::parse(detail.unwrap_or("totals")).map_err(error)?;
    let jobs = match jobs {
        Some(value) if !value.is_none() => Some(to_json("jobs", value)?),
        _ => None,
    };
    let jobs = options::jobs(jobs).map_err(error)?;
    if specs.is_instance_of::<PyDict>() || specs.cast::<PySpec>().is_ok() {
        return Err(invalid(format!(
            "simulate_many takes a list of specs, not one ({}): wrap it in a list",
            describe(specs)
        )));
    }
    let items = specs.try_iter().map_err(|_| {
        invalid(format!(
            "simulate_many takes a list of aim_sim.Spec or dicts of simulate's options, not {}",
            describe(specs)
        ))
    })?;
    let mut list = Vec::new();
    for (i, item) in items.enumerate() {
        list.push(batch_item(py, i, &item?)?);
    }
    let kept = core(py, move || {
        batch::simulate_many(&list, jobs, |report| detail.keep(report))
    })?;
    let out = kept
        .iter()
        .map(|k| objects::to_python(py, k))
        .collect::<PyResult<Vec<_>>>()?;
    PyList::new(py, out)
}

/// Item `i` of `simulate_many`'s list as a spec; errors say which item.
fn batch_item(py: Python<'_>, i: usize, item: &Bound<'_, PyAny>) -> PyResult<Spec> {
    let named = |e: PyErr| {
        if e.is_instance_of::<AimSimError>(py) {
            invalid(format!("specs[{i}]: {}", e.value(py)))
        } else {
            e
        }
    };
    if let Ok(spec) = item.cast::<PySpec>() {
        return Ok(spec.get().inner.clone());
    }
    if let Ok(dict) = item.cast::<PyDict>() {
        let options = options_of(py, Some(dict), None).map_err(named)?;
        return options::simulate(options).map_err(error).map_err(named);
    }
    Err(invalid(format!(
        "specs[{i}] is {}: give an aim_sim.Spec or a dict of simulate's options",
        describe(item)
    )))
}

/// `aim-sim budget [options] --format json`: the answer as JSON text (the tests' reference).
#[pyfunction]
#[pyo3(signature = (**options))]
fn budget_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let options = options_of(py, options, None)?;
    core(py, move || {
        let (spec, query, anchor) = options::budget(options)?;
        let (ms, file) = options::Anchor::parts(anchor);
        let (answer, _note) = aim_sim::budget::answer_anchored(&spec, &query, ms, file.as_deref())?;
        aim_sim::budget::render(&answer, TextFormat::Json).map(named)
    })
}

/// `aim-sim budget [options] --format json` as Python objects.
#[pyfunction]
#[pyo3(signature = (**options))]
fn budget<'py>(
    py: Python<'py>,
    options: Option<&Bound<'py, PyDict>>,
) -> PyResult<Bound<'py, PyAny>> {
    use aim_sim::budget::Answer;
    let options = options_of(py, options, None)?;
    let answer = core(py, move || {
        let (spec, query, anchor) = options::budget(options)?;
        let (ms, file) = options::Anchor::parts(anchor);
        aim_sim::budget::answer_anchored(&spec, &query, ms, file.as_deref()).map(|(a, _)| a)
    })?;
    match &answer {
        Answer::Frames(a) => objects::to_python(py, a),
        Answer::Target(t) => objects::to_python(py, t),
    }
}

/// `aim-sim compare --schedule A,B,... [options] --format json`: every schedule on one input,
/// as JSON text (the command line's renderer, so the two cannot differ).
#[pyfunction]
#[pyo3(signature = (**options))]
fn compare_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let options = options_of(py, options, None)?;
    core(py, move || {
        let (base, schedules, anchor) = options::compare(options)?;
        let (ms, file) = options::Anchor::parts(anchor);
        let query = aim_sim::compare::Query::anchored(base, schedules, ms, file.as_deref())?;
        let c = aim_sim::compare::compare(&query)?;
        aim_sim::compare::render(&c, TextFormat::Json).map(named)
    })
}

/// `aim-sim serve [options] --format json`: the run (or `find_max_rate`'s answer) as JSON text.
#[pyfunction]
#[pyo3(signature = (**options))]
fn serve_json(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<String> {
    let options = options_of(py, options, None)?;
    core(py, move || {
        let options::Serve {
            spec,
            query,
            schedules,
            trace,
            anchor,
        } = options::serve(options)?;
        let (ms, file) = options::Anchor::parts(anchor);
        let (spec, note) = aim_sim::serve::query::anchored(&spec, &query, ms, file.as_deref())?;
        let trace = match &trace {
            Some(path) => Some(aim_sim::serve::query::load_trace(&spec, path)?),
            None => None,
        };
        if schedules.is_empty() {
            let mut answer = aim_sim::serve::query::answer(&spec, &query, trace)?;
            if let Some(n) = &note {
                answer.note(n);
            }
            answer.render(TextFormat::Json).map(named)
        } else {
            let mut comparison = aim_sim::serve::query::compare(&spec, &query, &schedules, trace)?;
            if let Some(n) = &note {
                comparison.note(n);
            }
            comparison.render(TextFormat::Json).map(named)
        }
    })
}

/// `aim-sim sweep [grid]` as columns, notes and warnings: `([(name, kind, data, categories)],
/// notes, warnings)` with kind `"category"` (data: int32 codes into categories), `"int64"` or
/// `"float64"` (data: packed values), data a `bytearray` that numpy arrays can share (one copy
/// out of Rust, none after); `notes` and `warnings` what the CLI prints on standard error after
/// `note:` (an anchor's refit) and `warning:` (the input's, as a single run warns of it:
/// `tokens` not whole frames ...).
#[pyfunction]
#[pyo3(signature = (**grid))]
fn sweep_columns<'py>(
    py: Python<'py>,
    grid: Option<&Bound<'py, PyDict>>,
) -> PyResult<(Bound<'py, PyList>, Vec<String>, Vec<String>)> {
    let options = options_of(py, grid, None)?;
    let (columns, notes, warnings) = core(py, move || {
        let (grid, jobs, anchor) = options::sweep(options)?;
        let (ms, file) = options::Anchor::parts(anchor);
        let (grid, notes) = match sweep::anchored(&grid, ms, file.as_deref())? {
            Some((anchored, note)) => (anchored, vec![note]),
            None => (grid, Vec::new()),
        };
        let grid = Grid::new(&grid)?;
        let sweep = sweep::Sweep::prepare(&grid)?;
        let rows = sweep.run(jobs, |_done| {})?;
        Ok((
            columns::from_rows(&rows)?,
            notes.into_iter().map(named).collect(),
            sweep.input_warning_lines().into_iter().map(named).collect(),
        ))
    })?;
    let out = PyList::empty(py);
    for (name, column) in columns {
        let (kind, data, categories) = match column {
            Column::Categorical { codes, categories } => {
                ("category", codes, PyList::new(py, categories)?.into_any())
            }
            Column::Int64(data) => ("int64", data, py.None().into_bound(py)),
            Column::Float64(data) => ("float64", data, py.None().into_bound(py)),
        };
        out.append((name, kind, PyByteArray::new(py, &data), categories))?;
    }
    Ok((out, notes, warnings))
}

/// `aim-sim check FILE --format json` (`loo`: `--cv row`, leave-one-row-out refits; `loso`:
/// `--cv source`, leave-one-source-out refits; `refit_also`: `--refit-also FILE`;
/// `framework`: `--framework NAME`, every row under that profile).
#[pyfunction]
#[pyo3(signature = (path, loo = None, loso = None, refit_also = None, framework = None))]
fn check_json(
    py: Python<'_>,
    path: &Bound<'_, PyAny>,
    loo: Option<&Bound<'_, PyAny>>,
    loso: Option<&Bound<'_, PyAny>>,
    refit_also: Option<&Bound<'_, PyAny>>,
    framework: Option<&Bound<'_, PyAny>>,
) -> PyResult<String> {
    // A bool by keyword, named when it is not one (`loo="yes"` raised a bare TypeError).
    let yes = |name: &str, v: Option<&Bound<'_, PyAny>>| -> PyResult<bool> {
        match v {
            None => Ok(false),
            Some(v) if v.is_instance_of::<PyBool>() => v.extract::<bool>(),
            Some(v) => Err(invalid(format!(
                "{name}: give True or False, not {}",
                describe(v)
            ))),
        }
    };
    let (loo, loso) = (yes("loo", loo)?, yes("loso", loso)?);
    let refit_also = refit_also.map(path_of).transpose()?;
    let framework = match framework {
        None => None,
        Some(f) => Some(match f.extract::<String>() {
            Ok(name) => name,
            Err(_) => path_of(f)?.to_string_lossy().into_owned(),
        }),
    };
    // Said in Python's keywords (the core names the command line's --cv, which Python has not).
    if refit_also.is_some() && !(loo || loso) {
        return Err(invalid(
            "refit_also adds rows to the refits of loso and loo, and neither was asked for: give \
             loso=True (or loo=True) beside it, or drop it"
                .into(),
        ));
    }
    if framework.is_some() && (loo || loso) {
        return Err(invalid(
            "framework prices every row under one fixed profile while loso/loo refit each row's \
             own: give one of them"
                .into(),
        ));
    }
    from_file(py, path, move |p| {
        let m = aim_sim::check::Measurements::load(p)?;
        let refit_also = refit_also
            .as_deref()
            .map(aim_sim::check::Measurements::load)
            .transpose()?;
        let mut cv = Vec::new();
        if loso {
            cv.push(aim_sim::check::Cv::Source);
        }
        if loo {
            cv.push(aim_sim::check::Cv::Row);
        }
        let options = aim_sim::check::CheckOptions {
            cv,
            refit_also,
            framework,
        };
        let report = aim_sim::check::check(&m, &options)?;
        aim_sim::check::render(&report, TextFormat::Json).map(named)
    })
}

/// The preset names and descriptions: all kinds, or one (`gpus`, `models`, `schedules`,
/// `frameworks`).
#[pyfunction]
#[pyo3(signature = (kind = None))]
fn list_presets<'py>(
    py: Python<'py>,
    kind: Option<Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyDict>> {
    // `list_presets(5)` raised pyo3's bare TypeError ("'int' object is not an instance of 'str'").
    let kind: Option<String> = match kind {
        None => None,
        Some(k) if k.is_none() => None,
        Some(k) => Some(k.extract().map_err(|_| {
            invalid(format!(
                "list_presets: kind {} is not a string: use gpus, models, schedules or frameworks",
                describe(&k)
            ))
        })?),
    };
    let kind = kind.as_deref();
    let kinds: [(&str, &[presets::Preset]); 4] = [
        ("gpus", presets::GPUS),
        ("models", presets::MODELS),
        ("schedules", presets::SCHEDULES),
        ("frameworks", presets::FRAMEWORKS),
    ];
    let table = |list: &[presets::Preset]| -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        for (name, text) in list {
            d.set_item(*name, presets::describe(text))?;
        }
        Ok(d)
    };
    match kind {
        None => {
            let all = PyDict::new(py);
            for (k, list) in kinds {
                all.set_item(k, table(list)?)?;
            }
            Ok(all)
        }
        Some(k) => match kinds.iter().find(|(name, _)| *name == k) {
            Some((_, list)) => table(list),
            None => Err(invalid(format!(
                "unknown preset kind '{k}': use gpus, models, schedules or frameworks"
            ))),
        },
    }
}

/// One simulated prefill, completely described: the command line's options as data. Field
/// names are the long flags with `_` for `-`; it round-trips with the JSON (and TOML) spec that
/// `aim-sim --spec FILE` reads and every JSON output carries under `"spec"`.
#[pyclass(name = "Spec", module = "aim_sim", frozen, eq)]
#[derive(Debug, Clone, PartialEq)]
pub struct PySpec {
    inner: Spec,
}

#[pymethods]
impl PySpec {
    /// The defaults with the given options laid over them (`spec=` gives another base).
    #[new]
    #[pyo3(signature = (**options))]
    fn new(py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options = options_of(py, options, None)?;
        Ok(PySpec {
            inner: options::simulate(options).map_err(error)?,
        })
    }

    /// A copy with the given options laid over this spec.
    #[pyo3(signature = (**options))]
    fn replace(&self, py: Python<'_>, options: Option<&Bound<'_, PyDict>>) -> PyResult<Self> {
        let options = options_of(py, options, Some(self.inner.clone()))?;
        Ok(PySpec {
            inner: options::simulate(options).map_err(error)?,
        })
    }

    /// Reads a run file: TOML, JSON, or the JSON output of an earlier run.
    #[staticmethod]
    fn load(py: Python<'_>, path: &Bound<'_, PyAny>) -> PyResult<Self> {
        Ok(PySpec {
            inner: from_file(py, path, Spec::load)?,
        })
    }

    /// Parses a JSON spec (or a whole JSON output, whose `"spec"` it takes).
    #[staticmethod]
    fn from_json(text: &str) -> PyResult<Self> {
        if !text.trim_start().starts_with('{') {
            return Err(invalid(
                "a JSON spec is an object: it starts with '{' (use Spec.from_toml for TOML)".into(),
            ));
        }
        Ok(PySpec {
            inner: Spec::parse(text, "JSON spec").map_err(error)?,
        })
    }

    /// Parses a TOML spec (a run file's text).
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        Ok(PySpec {
            inner: Spec::parse(text, "TOML spec").map_err(error)?,
        })
    }

    /// A spec from a dict in the run file's keys (e.g. `report["spec"]`).
    #[staticmethod]
    fn from_dict(py: Python<'_>, table: &Bound<'_, PyAny>) -> PyResult<Self> {
        if !table.is_instance_of::<PyDict>() {
            return Err(invalid(format!(
                "Spec.from_dict takes a dict, not {}",
                describe(table)
            )));
        }
        Ok(PySpec {
            inner: spec_of(py, table)?,
        })
    }

    /// The spec as JSON text (what `aim-sim --spec FILE` reads).
    fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.inner).expect("a spec serialises")
    }

    /// The spec as TOML text (a run file).
    fn to_toml(&self) -> String {
        self.inner.to_toml()
    }

    /// The spec as a dict in the run file's keys.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        objects::to_python(py, &self.inner)
    }

    /// This spec with every default made explicit (model's frames, attention, prune timing,
    /// ...): the `"spec"` of the run's JSON output.
    fn resolved(&self, py: Python<'_>) -> PyResult<Self> {
        let spec = self.inner.clone();
        Ok(PySpec {
            inner: core(py, move || {
                Ok(Scenario::from_spec(&spec)?.resolved_spec().clone())
            })?,
        })
    }

    /// `Spec(frames=64, gpu='h100')`: the options that differ from the defaults.
    fn __repr__(&self, py: Python<'_>) -> PyResult<String> {
        let (Value::Object(this), Value::Object(default)) = (
            serde_json::to_value(&self.inner).expect("a spec serialises"),
            serde_json::to_value(Spec::default()).expect("a spec serialises"),
        ) else {
            unreachable!("specs serialise to objects")
        };
        let mut parts = Vec::new();
        for (k, v) in &this {
            if default.get(k) != Some(v) {
                parts.push(format!("{k}={}", objects::to_python(py, v)?.repr()?));
            }
        }
        Ok(format!("Spec({})", parts.join(", ")))
    }

    /// Pickling (multiprocessing): rebuilt from its JSON.
    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        Ok((
            py.get_type::<PySpec>().getattr("from_json")?,
            (self.to_json(),),
        ))
    }
}

/// The compiled half of aim_sim; use the `aim_sim` package, not this module.
#[pymodule]
mod _core {
    #[pymodule_export]
    use super::{
        budget, budget_json, check_json, compare_json, list_presets, serve_json, simulate,
        simulate_json, simulate_many, sweep_columns, AimSimError, PySpec,
    };

    #[pymodule_init]
    fn init(m: &pyo3::Bound<'_, pyo3::types::PyModule>) -> pyo3::PyResult<()> {
        use pyo3::types::PyModuleMethods;
        m.add("__version__", env!("CARGO_PKG_VERSION"))
    }
}
