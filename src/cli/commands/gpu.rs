//! `aim-sim validate`, `measure` and `calibrate`: the commands that need a GPU. Each checks
//! for one first and, without it, prints one line and exits 0 (2 with `--require-gpu`).

use crate::cli::args::KernelDtype;
use crate::cli::format::{self, Format, Output, Sink, View};
use crate::cli::{emit, GpuArgs, OutputArgs, SimArgs, TimingArgs};
use crate::error::keys::{FRAMEWORK, GPU};
use crate::error::{Error, Result};
use crate::hardware::Gpu;
use crate::measure::{calibrate, prediction, stack, FakeDevice, TimingSource};
use crate::scenario::Scenario;

/// Why no GPU can be used here, or `Ok` when one can.
fn gpu_status() -> std::result::Result<(), String> {
    #[cfg(feature = "cuda")]
    return crate::kernel_validation::gpu_status();
    #[cfg(not(feature = "cuda"))]
    Err("this aim-sim was built without the `cuda` feature (rebuild with default features)".into())
}

/// `Ok(true)` when a GPU is usable; `Ok(false)` after telling the user there is none, in the
/// format asked for (JSON stays JSON).
fn gpu_present(command: &str, gpu: &GpuArgs, output: &OutputArgs, format: Format) -> Result<bool> {
    match gpu_status() {
        Ok(()) => Ok(true),
        Err(reason) if gpu.require_gpu => {
            Err(Error::GpuUnavailable(format!("{command}: {reason}")))
        }
        Err(reason) => {
            let text = match format {
                Format::Json => crate::report::json_text(&serde_json::json!({
                    "command": command,
                    "ran": false,
                    "reason": reason,
                    "note": "nothing to run without a GPU (exit 0; --require-gpu makes this an error)",
                })),
                _ => format!(
                    "aim-sim {command}: {reason}; nothing to run (exit 0; --require-gpu makes this an error)\n"
                ),
            };
            // An image format gets no text in its file: the line goes to standard output.
            let to = if format.exporter().draws_file() {
                OutputArgs::stdout()
            } else {
                output.clone()
            };
            emit(&to, &text)?;
            Ok(false)
        }
    }
}

/// What `validate` can be written as.
pub const VALIDATE_VIEWS: &[View] = &[View::Table, View::Json];
/// What `measure` can be written as; its chart is `plot accuracy`.
pub const MEASURE_VIEWS: &[View] = &[View::Table, View::Json, View::Chart];
/// What `calibrate` can be written as.
pub const CALIBRATE_VIEWS: &[View] = &[View::Table, View::Json];

/// `aim-sim validate`.
pub fn validate(
    args: &SimArgs,
    gpu: &GpuArgs,
    dtype: KernelDtype,
    synthetic_device: Option<&str>,
    output: &OutputArgs,
) -> Result<()> {
    if synthetic_device.is_some() {
        return Err(Error::invalid(
            "validate checks the kernels' results against the CPU references, which only a real GPU computes: --synthetic-device is for measure and calibrate (drop it)",
        ));
    }
    let format = output.resolve("validate", VALIDATE_VIEWS)?;
    let scenario = Scenario::from_spec(&args.to_spec()?)?;
    if !gpu_present("validate", gpu, output, format)? {
        return Ok(());
    }
    run_validate(&scenario, gpu, dtype, output, format)
}

#[cfg(not(feature = "cuda"))]
fn run_validate(
    _: &Scenario,
    _: &GpuArgs,
    _: KernelDtype,
    _: &OutputArgs,
    _: Format,
) -> Result<()> {
    unreachable!("gpu_present is false without the cuda feature")
}

#[cfg(feature = "cuda")]
fn run_validate(
    scenario: &Scenario,
    gpu: &GpuArgs,
    dtype: KernelDtype,
    output: &OutputArgs,
    format: Format,
) -> Result<()> {
    use crate::kernel_validation::{self, ValidateOptions, ValidateSizes};
    use crate::kernels::Dtype;
    use crate::schedule::PruneTiming;
    // Kernels run as the reference code does: importance in layer i shrinks layer i+1.
    let plan = scenario.schedule.plan(
        scenario.model.num_layers,
        &scenario.input,
        PruneTiming::Code,
    )?;
    let sizes =
        ValidateSizes::from_plan(&scenario.model, &scenario.input, &plan).map_err(Error::from)?;
    let mut opts = ValidateOptions::new((*scenario.model).clone(), (*scenario.gpu).clone(), sizes);
    opts.device = gpu.device;
    opts.dtype = match dtype {
        KernelDtype::Bf16 => Dtype::Bf16,
        KernelDtype::F32 => Dtype::F32,
    };
    let report = kernel_validation::run_validate(&opts).map_err(Error::from)?;
    let text = match format {
        Format::Json => crate::report::json_text(&report),
        Format::Table => kernel_validation::render_table(&report),
        other => return Err(format::lacks("validate", other.exporter().view())),
    };
    emit(output, &text)?;
    if report.all_passed {
        Ok(())
    } else {
        Err(Error::Gpu(
            "a kernel's result differs from its CPU reference beyond tolerance (see the table)"
                .into(),
        ))
    }
}

/// The timing source of `measure`/`calibrate`: the synthetic device when asked for, else the
/// GPU; `None` (after one line on stdout) when there is no GPU and none is required.
fn timing_source(
    command: &str,
    timing: &TimingArgs,
    profile: &Gpu,
    output: &OutputArgs,
    format: Format,
) -> Result<Option<Box<dyn TimingSource>>> {
    let gpu = &timing.gpu;
    if let Some(path) = &timing.synthetic_device {
        let model = Gpu::load(path)?;
        let efficiency = model.efficiency.clone().ok_or_else(|| {
            Error::invalid(format!(
                "--synthetic-device {path} has no [efficiency] table: add one (it sets how fast the synthetic device runs)"
            ))
        })?;
        return Ok(Some(Box::new(FakeDevice {
            gpu: model,
            efficiency,
        })));
    }
    if !gpu_present(command, gpu, output, format)? {
        return Ok(None);
    }
    #[cfg(feature = "cuda")]
    return Ok(Some(Box::new(crate::measure::cuda::CudaTiming::open(
        gpu.device, profile,
    )?)));
    #[cfg(not(feature = "cuda"))]
    unreachable!(
        "gpu_present is false without the cuda feature for {}",
        profile.name
    )
}

/// `aim-sim measure`.
pub fn measure(
    args: &SimArgs,
    gpu: &TimingArgs,
    calibrated_gpu: Option<&str>,
    output: &OutputArgs,
) -> Result<()> {
    let format = output.resolve("measure", MEASURE_VIEWS)?;
    let scenario = Scenario::from_spec(&args.to_spec()?)?;
    // A profile's values are a software stack's (HF, TensorRT-LLM), fitted to published
    // times: no calibration of the kernels measure times. They once filled the "calibrated"
    // column and JSON field (`--framework hf` printed "calibrated 109.242 ms").
    if scenario.framework_priced() {
        let source = scenario
            .gpu
            .efficiency
            .as_ref()
            .and_then(|e| e.source.clone());
        return Err(Error::invalid(format!(
            "measure times aim-sim's own kernels, not a software stack, so the values of {} are no calibration of them: drop {FRAMEWORK} (a calibrated prediction comes from --calibrated-gpu FILE, written by `aim-sim calibrate`, or the {GPU} file's own [efficiency] table)",
            source.unwrap_or_else(|| format!("framework {}", scenario.framework_label()))
        )));
    }
    let efficiency = match calibrated_gpu {
        Some(path) => Some(Gpu::load(path)?.efficiency.ok_or_else(|| {
            Error::invalid(format!(
                "--calibrated-gpu {path} has no [efficiency] table: run aim-sim calibrate first"
            ))
        })?),
        None => scenario.gpu.efficiency.clone(),
    };
    let Some(mut source) = timing_source("measure", gpu, &scenario.gpu, output, format)? else {
        return Ok(());
    };
    // The uncalibrated prediction uses the profile without its table.
    let mut uncalibrated = scenario.clone();
    std::sync::Arc::make_mut(&mut uncalibrated.gpu).efficiency = None;
    let report = prediction::measure(source.as_mut(), &uncalibrated, efficiency.as_ref())?;
    format::write(format, output.output.as_deref(), &report)?;
    // As calibrate refuses it: runs faster than the profile's roofline (its peaks, no
    // overhead) mean the --gpu profile is not this device's, and every error beside it is the
    // profiles' difference (an H100 measured against the default A100: +103 % on every layer,
    // unremarked).
    let fastest = [&report.schedule_run, &report.baseline_run]
        .iter()
        .map(|r| r.predicted_time_s / r.measured_time_s)
        .fold(0.0, f64::max);
    if fastest > 1.05 {
        super::run::warn(&[format!(
            "{} ran {fastest:.2}× faster than the roofline of '{}' allows: that profile is not this device's, so the errors compare two GPUs; pass the matching --gpu",
            report.device, report.gpu_profile
        )]);
    }
    Ok(())
}

impl Output for prediction::MeasureReport {
    fn write(&self, view: View, out: &mut Sink<'_>) -> Result<()> {
        out.put(&match view {
            View::Table => prediction::render_table(self),
            View::Json => crate::report::json_text(self),
            other => return Err(format::lacks("measure", other)),
        })
    }

    fn draw(&self, path: &std::path::Path) -> Result<()> {
        #[cfg(feature = "plot")]
        return crate::plot::accuracy(path, crate::plot::ACCURACY_SIZE, self);
        #[cfg(not(feature = "plot"))]
        Err(super::plot::unavailable(path))
    }
}

/// Refuses a `--profile` path that cannot be written before any kernel is timed: the write
/// came after the whole calibration, whose fitted table was then lost (and the dry run without
/// a GPU never said so).
fn writable(path: &std::path::Path) -> Result<()> {
    if path.is_dir() {
        return Err(Error::invalid(format!(
            "--profile {}: is a folder: give a file path (e.g. {}/my-gpu.toml)",
            path.display(),
            path.display()
        )));
    }
    let folder = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    if !folder.is_dir() {
        return Err(Error::invalid(format!(
            "--profile {}: the folder {} does not exist: create it, or give a path in an existing folder",
            path.display(),
            folder.display()
        )));
    }
    Ok(())
}

/// `aim-sim calibrate`.
pub fn calibrate(
    args: &SimArgs,
    gpu: &TimingArgs,
    profile: Option<&std::path::Path>,
    output: &OutputArgs,
) -> Result<()> {
    let format = output.resolve("calibrate", CALIBRATE_VIEWS)?;
    let scenario = Scenario::from_spec(&args.to_spec()?)?;
    if let Some(path) = profile {
        writable(path)?;
    }
    let Some(mut source) = timing_source("calibrate", gpu, &scenario.gpu, output, format)? else {
        return Ok(());
    };
    // The shapes of both the schedule's run and the baseline: every size a comparison meets.
    let mut baseline = scenario.clone();
    let schedule = std::sync::Arc::make_mut(&mut baseline.schedule);
    schedule.merge = None;
    schedule.prune = None;
    baseline.layer_tokens_override = None;
    let plans = [stack::plan(&scenario)?, stack::plan(&baseline)?];
    let units = calibrate::distinct_units(plans.iter());
    let cal = calibrate::calibrate(source.as_mut(), &scenario.gpu, &units)?;
    let date = today();
    let toml = calibrate::calibrated_profile(&scenario.gpu, &cal, &date)?;
    if let Some(path) = profile {
        std::fs::write(path, &toml).map_err(|source| Error::Output {
            path: path.to_path_buf(),
            source,
        })?;
    }
    let text = match (format, profile) {
        (Format::Json, _) => crate::report::json_text(&cal),
        (Format::Table, Some(path)) => format!(
            "{}\ncalibrated profile written to {}\n",
            calibrate::render_table(&cal),
            path.display()
        ),
        (Format::Table, None) => format!(
            "{}\n# the calibrated profile (save it with --profile FILE):\n{toml}",
            calibrate::render_table(&cal)
        ),
        (other, _) => return Err(format::lacks("calibrate", other.exporter().view())),
    };
    emit(output, &text)
}

/// Today's date (UTC, YYYY-MM-DD) from the system clock, for the calibrated profile's header.
fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0) as i64;
    // Civil-from-days (H. Hinnant's algorithm), proleptic Gregorian calendar.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn today_is_a_plausible_date() {
        let d = super::today();
        assert_eq!(d.len(), 10);
        let year: i32 = d[..4].parse().unwrap();
        assert!((2024..2100).contains(&year), "{d}");
    }
}
