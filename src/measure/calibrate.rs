//! `aim-sim calibrate`: time the kernels a prefill launches and turn the timings into the
//! `[efficiency]` table of a GPU profile (the refined model's calibration hook).
//!
//! The refined model reads `[efficiency]` as (cost/refined/kernel.rs): a kernel takes
//! `max(flops / (peak · c), bytes / (bandwidth · b)) + launch_overhead_s`, with `(c, b)` =
//! `(matmul, elementwise)` for GEMMs, `(attention, attention)` for attention and importance,
//! `(1, elementwise)` for element-wise passes. Calibration fits each factor as
//! `Σ roofline_time / Σ (measured − launch_overhead)` over the kernels that factor governs —
//! compute-bound GEMMs for `matmul`, memory-bound passes for `elementwise`, attention kernels
//! for `attention`: the time-weighted fit that makes each group's total come out right.

use super::stack::{KernelCall, KernelClass, StackPlan};
use super::TimingSource;
use crate::error::{Error, Result};
use crate::hardware::{Efficiency, Gpu};
use serde::Serialize;

/// One timed kernel.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub kernel: String,
    pub class: KernelClass,
    pub flops: f64,
    pub bytes: f64,
    pub roofline_time_s: f64,
    pub measured_time_s: f64,
    /// `roofline_time / (measured − launch overhead)`.
    pub fraction_of_roofline: f64,
}

/// What calibration found.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub device: String,
    pub efficiency: Efficiency,
    pub samples: Vec<Sample>,
}

/// A tiny element-wise launch: its time is almost all launch overhead.
pub const LAUNCH_PROBE: KernelCall = KernelCall::Elementwise {
    name: "launch_probe",
    elements: 1024,
    width: 1024,
    reads: 1,
    writes: 1,
    flops_per_element: 1,
};

/// `max(flops / peak, bytes / bandwidth)`: the roofline floor of a kernel.
pub fn roofline_time_s(call: &KernelCall, gpu: &Gpu) -> f64 {
    (call.flops() / gpu.fp16_peak).max(call.min_bytes() / gpu.bandwidth)
}

/// The distinct kernel shapes of one or more stack plans (each shape timed once).
pub fn distinct_kernels<'a>(plans: impl IntoIterator<Item = &'a StackPlan>) -> Vec<KernelCall> {
    let mut out: Vec<KernelCall> = Vec::new();
    for plan in plans {
        for k in plan
            .merge
            .iter()
            .chain(plan.layers.iter().flat_map(|l| &l.kernels))
        {
            if !out.contains(k) {
                out.push(k.clone());
            }
        }
    }
    out
}

/// Times `kernels` and fits the efficiency factors.
pub fn calibrate(
    source: &mut dyn TimingSource,
    gpu: &Gpu,
    kernels: &[KernelCall],
) -> Result<Calibration> {
    let launch_overhead_s = source.time_kernel(&LAUNCH_PROBE)?.max(0.0);
    let mut samples = Vec::with_capacity(kernels.len());
    for k in kernels {
        let measured = source.time_kernel(k)?;
        let roof = roofline_time_s(k, gpu);
        let busy = (measured - launch_overhead_s).max(f64::MIN_POSITIVE);
        samples.push(Sample {
            kernel: k.label(),
            class: k.class(),
            flops: k.flops(),
            bytes: k.min_bytes(),
            roofline_time_s: roof,
            measured_time_s: measured,
            fraction_of_roofline: roof / busy,
        });
    }
    let fit = |class: KernelClass| -> Result<f64> {
        let (roof, busy) =
            samples
                .iter()
                .filter(|s| s.class == class)
                .fold((0.0, 0.0), |(r, b), s| {
                    (
                        r + s.roofline_time_s,
                        b + (s.measured_time_s - launch_overhead_s).max(0.0),
                    )
                });
        if roof <= 0.0 || busy <= 0.0 {
            return Err(Error::invalid(format!(
                "calibration has no usable {class:?} kernel timings: include a schedule whose layers run such kernels"
            )));
        }
        // Within 5 % above 1 is timing noise (or a cache helping): 1. Far above means the
        // device is faster than the --gpu profile allows: the profile is not this device's, and
        // a clamped 1.0 would hide it.
        let fraction = roof / busy;
        if fraction > 1.05 {
            return Err(Error::invalid(format!(
                "the {class:?} kernels ran {fraction:.2}× faster than the roofline of '{}' allows: that profile is not this device's; pass the matching --gpu",
                gpu.name
            )));
        }
        Ok(fraction.min(1.0))
    };
    Ok(Calibration {
        device: source.describe(),
        efficiency: Efficiency {
            matmul: fit(KernelClass::Matmul)?,
            attention: fit(KernelClass::Attention)?,
            elementwise: fit(KernelClass::Elementwise)?,
            launch_overhead_s,
            ..crate::hardware::Efficiency::ideal()
        },
        samples,
    })
}

/// A GPU profile TOML with the calibration written into its `[efficiency]` table; the
/// header comment records device, date and what was timed.
pub fn calibrated_profile(gpu: &Gpu, calibration: &Calibration, date: &str) -> Result<String> {
    let mut calibrated = gpu.clone();
    calibrated.efficiency = Some(calibration.efficiency.clone());
    // Never write a profile aim-sim would refuse to read.
    calibrated.validate().map_err(|m| {
        Error::invalid(format!(
            "the calibration gave an impossible profile ({m}); not written"
        ))
    })?;
    let body = toml::to_string(&calibrated)
        .map_err(|e| Error::invalid(format!("cannot write the calibrated profile: {e}")))?;
    Ok(format!(
        "# {} calibrated by `aim-sim calibrate` on {date}\n# device: {}\n# {} kernel shapes timed; [efficiency] as the refined model reads it: kernel time =\n# max(flops / (peak · compute factor), bytes / (bandwidth · memory factor)) + launch_overhead_s\n{body}",
        gpu.name,
        calibration.device,
        calibration.samples.len()
    ))
}

/// The human summary: fitted factors, then every timed kernel.
pub fn render_table(c: &Calibration) -> String {
    use std::fmt::Write;
    let e = &c.efficiency;
    let mut out = format!(
        "aim-sim calibrate: {}\n[efficiency] matmul {:.3} · attention {:.3} · elementwise {:.3} · launch overhead {:.2} µs\n\n",
        c.device,
        e.matmul,
        e.attention,
        e.elementwise,
        e.launch_overhead_s * 1e6
    );
    let _ = writeln!(
        out,
        "{:<44} {:>12} {:>12} {:>14} {:>10}",
        "kernel", "class", "roofline µs", "measured µs", "fraction"
    );
    for s in &c.samples {
        let _ = writeln!(
            out,
            "{:<44} {:>12} {:>12.1} {:>14.1} {:>10.3}",
            s.kernel,
            format!("{:?}", s.class).to_lowercase(),
            s.roofline_time_s * 1e6,
            s.measured_time_s * 1e6,
            s.fraction_of_roofline
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::{stack, FakeDevice};
    use crate::presets::Source;
    use crate::scenario::Scenario;

    fn fake() -> FakeDevice {
        FakeDevice {
            gpu: Gpu::load("h100").unwrap(),
            efficiency: Efficiency {
                matmul: 0.72,
                attention: 0.45,
                elementwise: 0.83,
                launch_overhead_s: 4e-6,
                ..crate::hardware::Efficiency::ideal()
            },
        }
    }

    fn kernels() -> Vec<KernelCall> {
        let spec = crate::spec::Spec::from_flags(&["--gpu", "h100", "--tokens", "6272"]);
        let s = Scenario::from_spec(&spec.unwrap()).unwrap();
        distinct_kernels([&stack::plan(&s).unwrap()])
    }

    #[test]
    fn recovers_the_fake_devices_efficiency() {
        let mut dev = fake();
        let want = dev.efficiency.clone();
        let cal = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &kernels()).unwrap();
        let e = &cal.efficiency;
        // The probe's own roofline time is part of its measurement: overhead within 1 %.
        assert!((e.launch_overhead_s / want.launch_overhead_s - 1.0).abs() < 0.01);
        for (got, want) in [
            (e.matmul, want.matmul),
            (e.attention, want.attention),
            (e.elementwise, want.elementwise),
        ] {
            assert!((got / want - 1.0).abs() < 0.01, "got {got}, want {want}");
        }
    }

    #[test]
    fn profile_round_trips_through_the_gpu_loader() {
        let mut dev = fake();
        let gpu = Gpu::load("h100").unwrap();
        let cal = calibrate(&mut dev, &gpu, &kernels()).unwrap();
        let text = calibrated_profile(&gpu, &cal, "2026-11-22").unwrap();
        let back = Gpu::from_source(&Source {
            origin: "calibrated".into(),
            text: text.clone(),
            path: None,
        })
        .unwrap();
        assert_eq!(back.efficiency, Some(cal.efficiency.clone()));
        assert_eq!(back.bandwidth, gpu.bandwidth);
        assert!(text.starts_with("# NVIDIA H100"), "{text}");
    }

    #[test]
    fn table_lists_every_sample() {
        let mut dev = fake();
        let ks = kernels();
        let cal = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &ks).unwrap();
        let table = render_table(&cal);
        assert_eq!(table.lines().count(), 4 + ks.len());
        assert!(table.contains("matmul 0.72"), "{table}");
    }

    #[test]
    fn a_class_without_kernels_is_an_error() {
        let mut dev = fake();
        let only_gemm = vec![KernelCall::Gemm {
            name: "q",
            m: 1024,
            n: 1024,
            k: 1024,
            bias: false,
        }];
        let err = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &only_gemm).unwrap_err();
        assert!(err.to_string().contains("Attention"), "{err}");
    }
}
