//! `aim-sim calibrate`: time the launches of a prefill's kernels and turn the timings into the
//! `[efficiency]` table of a GPU profile (the refined model's calibration hook).
//!
//! The refined model times a kernel with its [`Timer`] (cost/refined/kernel.rs):
//! `max(flops / (peak · c), bytes / (bandwidth · b)) + launches · launch_overhead_s`, with
//! `(c, b)` = `(matmul, elementwise)` for GEMMs, `(attention, attention)` for attention,
//! `(1, elementwise)` for element-wise passes. Calibration inverts exactly that, one factor at a
//! time, on the launches whose priced kernels are all of one class:
//! - `launch_overhead_s`: a tiny copy, less its own memory time;
//! - `elementwise`: `Σ bytes / bandwidth ÷ Σ busy` over element-wise launches that are
//!   memory-bound even at full bandwidth (busy = measured − launches · overhead);
//! - `attention`: `Σ roofline time ÷ Σ busy` over attention launches (one factor on both roofs);
//! - `matmul`: `Σ flops / peak ÷ Σ busy` over GEMMs slower than their weights and activations
//!   stream at the fitted bandwidth (compute-bound; a memory-bound GEMM runs at `elementwise`).
//!
//! Each is the time-weighted fit that makes its group's total come out right; on a device that
//! runs exactly as the model says (the synthetic device), it recovers the factors exactly.

use super::stack::{KernelCall, StackPlan, Unit};
use super::TimingSource;
use crate::cost::refined::kernel::{kernel, Call, Class, Timer};
use crate::cost::refined::PricedKernel;
use crate::cost::{OpKind, Roofline};
use crate::error::keys::{ATTENTION, GPU};
use crate::error::{Error, Result};
use crate::hardware::{Efficiency, Gpu};
use serde::Serialize;

/// One timed launch.
#[derive(Debug, Clone, Serialize)]
pub struct Sample {
    pub kernel: String,
    /// The class of its priced kernels; `None` when they mix classes (not fitted), written
    /// `"mixed"` in the JSON as in the table ([`class_label`]).
    #[serde(serialize_with = "serialize_class")]
    pub class: Option<Class>,
    pub flops: f64,
    pub bytes: f64,
    pub launches: f64,
    /// The ideal roofline time of its kernels (no efficiency, no launch overhead).
    pub roofline_time_s: f64,
    pub measured_time_s: f64,
    /// `roofline_time / (measured − launches · launch overhead)`.
    pub fraction_of_roofline: f64,
}

/// What the table and the JSON call a launch's class: its kernels' class, or `mixed` when
/// they mix classes (a merging pass, materialised PageRank). The JSON once wrote `null`.
pub fn class_label(class: Option<Class>) -> &'static str {
    class.map_or("mixed", Class::name)
}

fn serialize_class<S: serde::Serializer>(
    class: &Option<Class>,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.serialize_str(class_label(*class))
}

/// What calibration found.
#[derive(Debug, Clone, Serialize)]
pub struct Calibration {
    pub device: String,
    pub efficiency: Efficiency,
    pub samples: Vec<Sample>,
}

/// Elements of the launch probe: 4 KiB in, 4 KiB out, so its time is almost all overhead.
const PROBE_ELEMENTS: f64 = 1024.0;

/// The bf16 roofline of `gpu` (what `measure` runs: bf16 weights and activations).
fn roofline(gpu: &Gpu) -> Roofline {
    Roofline {
        peak_flops_per_s: gpu.fp16_peak,
        bandwidth_bytes_per_s: gpu.bandwidth,
    }
}

/// The ideal timer of `gpu`: roofline time, no efficiency, no launch overhead.
fn ideal(gpu: &Gpu) -> Timer {
    Timer::new(roofline(gpu), None, gpu.interconnect_bandwidth, false)
}

/// A tiny element-wise copy: its time is almost all launch overhead.
pub(crate) fn launch_probe(gpu: &Gpu) -> Unit {
    let bytes = PROBE_ELEMENTS * 2.0;
    let k = kernel(
        "launch_probe",
        OpKind::Elementwise,
        Class::Elementwise,
        PROBE_ELEMENTS,
        Call::Elementwise {
            elements: PROBE_ELEMENTS,
            width: PROBE_ELEMENTS,
            count: 1.0,
        },
    )
    .reads(bytes)
    .writes(bytes);
    let time_s = ideal(gpu).time(k.clone()).time_s;
    Unit {
        call: KernelCall::Elementwise {
            name: "launch_probe",
            elements: PROBE_ELEMENTS as u64,
            width: PROBE_ELEMENTS as u64,
        },
        kernels: vec![PricedKernel { kernel: k, time_s }],
    }
}

/// The distinct launches of one or more stack plans (each shape timed once).
pub fn distinct_units<'a>(plans: impl IntoIterator<Item = &'a StackPlan>) -> Vec<Unit> {
    let mut out: Vec<Unit> = Vec::new();
    for plan in plans {
        for u in plan.units() {
            if !out
                .iter()
                .any(|o| o.call == u.call && o.kernels == u.kernels)
            {
                out.push(u.clone());
            }
        }
    }
    out
}

/// Per unit: its ideal compute and memory seconds, kernel by kernel.
struct Split {
    /// `flops / peak` of each kernel.
    compute_s: Vec<f64>,
    /// `bytes / bandwidth` of each kernel.
    memory_s: Vec<f64>,
}

impl Split {
    fn of(unit: &Unit, gpu: &Gpu) -> Split {
        let r = roofline(gpu);
        Split {
            compute_s: unit
                .kernels
                .iter()
                .map(|k| k.kernel.op.flops / r.peak_flops_per_s)
                .collect(),
            memory_s: unit
                .kernels
                .iter()
                .map(|k| k.kernel.op.bytes() / r.bandwidth_bytes_per_s)
                .collect(),
        }
    }
}

/// `Σ ideal ÷ Σ busy`, or an error naming the class when nothing was usable.
fn ratio(class: &str, ideal_s: f64, busy_s: f64, gpu: &Gpu) -> Result<f64> {
    if ideal_s <= 0.0 || busy_s <= 0.0 {
        let hint = match class {
            "Attention" => {
                format!("calibrate with fused attention ({ATTENTION} flash, the default)")
            }
            _ => "include a schedule whose layers run such kernels".to_string(),
        };
        return Err(Error::invalid(format!(
            "calibration has no usable {class} kernel timings: {hint}"
        )));
    }
    // Within 5 % above 1 is timing noise (or a cache helping): 1. Far above means the device is
    // faster than the --gpu profile allows: the profile is not this device's, and a clamped 1.0
    // would hide it.
    let fraction = ideal_s / busy_s;
    if fraction > 1.05 {
        return Err(Error::invalid(format!(
            "the {class} kernels ran {fraction:.2}× faster than the roofline of '{}' allows: that profile is not this device's; pass the matching {GPU}",
            gpu.name
        )));
    }
    Ok(fraction.min(1.0))
}

/// Times `units` and fits the efficiency factors.
pub fn calibrate(source: &mut dyn TimingSource, gpu: &Gpu, units: &[Unit]) -> Result<Calibration> {
    let probe = launch_probe(gpu);
    let probe_s = source.time_unit(&probe)?.max(0.0);
    let measured: Vec<f64> = units
        .iter()
        .map(|u| source.time_unit(u))
        .collect::<Result<_>>()?;
    let splits: Vec<Split> = units.iter().map(|u| Split::of(u, gpu)).collect();
    let probe_memory_s: f64 = Split::of(&probe, gpu).memory_s.iter().sum();
    let of_class = |class: Class| {
        units
            .iter()
            .zip(&measured)
            .zip(&splits)
            .filter(move |((u, _), _)| u.class() == Some(class))
    };
    // Element-wise launches memory-bound at any bandwidth fraction: their busy time is
    // `bytes / (bandwidth · elementwise)`.
    let elementwise_fit = |overhead_s: f64| {
        let (ideal_s, busy_s) = of_class(Class::Elementwise)
            .filter(|(_, s)| s.memory_s.iter().zip(&s.compute_s).all(|(m, c)| m >= c))
            .fold((0.0, 0.0), |(i, b), ((u, &t), s)| {
                (
                    i + s.memory_s.iter().sum::<f64>(),
                    b + (t - u.launches() * overhead_s).max(0.0),
                )
            });
        ratio("Elementwise", ideal_s, busy_s, gpu)
    };
    // The probe's own memory time is part of its measurement: take it off at the fitted
    // bandwidth, then refit (twice is exact to rounding; the probe moves 4 KiB).
    let mut launch_overhead_s = probe_s;
    let mut elementwise = elementwise_fit(launch_overhead_s)?;
    for _ in 0..2 {
        launch_overhead_s = (probe_s - probe_memory_s / elementwise).max(0.0);
        elementwise = elementwise_fit(launch_overhead_s)?;
    }
    let busy = |u: &Unit, t: f64| (t - u.launches() * launch_overhead_s).max(0.0);
    let (ideal_s, busy_s) = of_class(Class::Attention).fold((0.0, 0.0), |(i, b), ((u, &t), s)| {
        let roof: f64 = s
            .compute_s
            .iter()
            .zip(&s.memory_s)
            .map(|(c, m)| c.max(*m))
            .sum();
        (i + roof, b + busy(u, t))
    });
    let attention = ratio("Attention", ideal_s, busy_s, gpu)?;
    // GEMMs slower than their bytes stream at the fitted bandwidth: compute-bound (0.01 % of
    // margin, so a GEMM at the crossover, where either roof gives its time, is left out).
    let (ideal_s, busy_s) = of_class(Class::Matmul)
        .filter(|((u, &t), s)| {
            u.kernels.len() == 1 && busy(u, t) > s.memory_s[0] / elementwise * 1.0001
        })
        .fold((0.0, 0.0), |(i, b), ((u, &t), s)| {
            (i + s.compute_s[0], b + busy(u, t))
        });
    let matmul = ratio("Matmul", ideal_s, busy_s, gpu)?;

    let ideal_timer = ideal(gpu);
    let samples = units
        .iter()
        .zip(&measured)
        .map(|(u, &t)| {
            let roof: f64 = u
                .kernels
                .iter()
                .map(|k| ideal_timer.time(k.kernel.clone()).time_s)
                .sum();
            Sample {
                kernel: u.call.label(),
                class: u.class(),
                flops: u.flops(),
                bytes: u.bytes(),
                launches: u.launches(),
                roofline_time_s: roof,
                measured_time_s: t,
                fraction_of_roofline: roof / busy(u, t).max(f64::MIN_POSITIVE),
            }
        })
        .collect();
    Ok(Calibration {
        device: source.describe(),
        efficiency: Efficiency {
            matmul,
            attention,
            elementwise,
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
    let mut body = toml::to_string(&calibrated)
        .map_err(|e| Error::invalid(format!("cannot write the calibrated profile: {e}")))?;
    // A GPU serialises without its aliases (a run's JSON leaves them out), but the profile is a
    // GPU file: it keeps them, after `name`, so the device names `nvidia-smi` prints still
    // find it (they were lost).
    if !gpu.aliases.is_empty() {
        let aliases = toml::Value::Array(
            gpu.aliases
                .iter()
                .map(|a| toml::Value::String(a.clone()))
                .collect(),
        );
        let after_name = body.find('\n').map_or(body.len(), |i| i + 1);
        body.insert_str(after_name, &format!("aliases = {aliases}\n"));
    }
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
            class_label(s.class),
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

    fn kernels() -> Vec<Unit> {
        let spec = crate::spec::Spec::from_flags(&["--gpu", "h100", "--tokens", "6272"]);
        let s = Scenario::from_spec(&spec.unwrap()).unwrap();
        distinct_units([&stack::plan(&s).unwrap()])
    }

    #[test]
    fn recovers_the_fake_devices_efficiency() {
        let mut dev = fake();
        let want = dev.efficiency.clone();
        let cal = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &kernels()).unwrap();
        let e = &cal.efficiency;
        // The device runs exactly as the model's timer says: every factor comes back (to
        // rounding), the launch overhead with the probe's own memory time taken off.
        for (got, want) in [
            (e.launch_overhead_s, want.launch_overhead_s),
            (e.matmul, want.matmul),
            (e.attention, want.attention),
            (e.elementwise, want.elementwise),
        ] {
            assert!((got / want - 1.0).abs() < 1e-9, "got {got}, want {want}");
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
        // The device names the preset answers to stay with it (they were dropped).
        assert_eq!(back.aliases, ["NVIDIA H100 80GB HBM3"]);
        assert_eq!(back.aliases, gpu.aliases);
        assert_eq!(back, calibrated_gpu(&gpu, &cal));
        assert!(text.starts_with("# NVIDIA H100"), "{text}");
    }

    /// `gpu` with `cal`'s table: what the written profile must read back as.
    fn calibrated_gpu(gpu: &Gpu, cal: &Calibration) -> Gpu {
        Gpu {
            efficiency: Some(cal.efficiency.clone()),
            ..gpu.clone()
        }
    }

    /// Several aliases, and quotes in them, are written as TOML that reads back.
    #[test]
    fn every_alias_is_written() {
        let mut gpu = Gpu::load("b200").unwrap();
        gpu.aliases = vec!["NVIDIA B200".into(), "a \"quoted\" name".into()];
        let cal = calibrate(&mut fake(), &Gpu::load("h100").unwrap(), &kernels()).unwrap();
        let text = calibrated_profile(&gpu, &cal, "2026-11-22").unwrap();
        let back = Gpu::from_source(&Source {
            origin: "calibrated".into(),
            text: text.clone(),
            path: None,
        })
        .unwrap();
        assert_eq!(back, calibrated_gpu(&gpu, &cal), "{text}");
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

    /// The JSON names each launch's class as the table does: `mixed` for a launch of several
    /// classes (it wrote `null` where the table said `mixed`).
    #[test]
    fn json_and_table_name_the_same_classes() {
        let mut dev = fake();
        let cal = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &kernels()).unwrap();
        let table = render_table(&cal);
        let json = serde_json::to_value(&cal).unwrap();
        let samples = json["samples"].as_array().unwrap();
        assert!(
            cal.samples.iter().any(|s| s.class.is_none()),
            "no mixed launch"
        );
        // The table's rows follow its four header lines, one per sample, the class fourth
        // from the right.
        let rows: Vec<&str> = table.lines().skip(4).collect();
        assert_eq!(rows.len(), samples.len());
        for ((s, j), row) in cal.samples.iter().zip(samples).zip(rows) {
            let class = j["class"].as_str().unwrap_or_else(|| panic!("{j}"));
            assert_eq!(class, class_label(s.class));
            let cells: Vec<&str> = row.split_whitespace().collect();
            assert_eq!(cells[cells.len() - 4], class, "{row}");
        }
        for class in [
            Class::Matmul,
            Class::Attention,
            Class::Elementwise,
            Class::Communication,
            Class::Dequant,
            Class::Host,
        ] {
            assert_eq!(serde_json::to_value(class).unwrap(), class.name());
        }
    }

    #[test]
    fn eager_attention_alone_cannot_calibrate_attention() {
        let spec = crate::spec::Spec::from_flags(&["--gpu", "h100", "--attention", "eager"]);
        let s = Scenario::from_spec(&spec.unwrap()).unwrap();
        let units = distinct_units([&stack::plan(&s).unwrap()]);
        let err = calibrate(&mut fake(), &s.gpu, &units).unwrap_err();
        assert!(err.to_string().contains("attention flash"), "{err}");
    }

    #[test]
    fn a_class_without_kernels_is_an_error() {
        let mut dev = fake();
        let only_gemm: Vec<Unit> = kernels()
            .into_iter()
            .filter(|u| matches!(u.call, KernelCall::Gemm { .. }))
            .collect();
        let err = calibrate(&mut dev, &Gpu::load("h100").unwrap(), &only_gemm).unwrap_err();
        assert!(
            err.to_string()
                .contains("no usable Elementwise kernel timings"),
            "{err}"
        );
    }
}
