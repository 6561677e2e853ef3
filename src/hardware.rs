//! GPU profiles: the handful of datasheet figures a roofline needs, in base SI units.
//! File format: `hardware/*.toml` (see README "File formats").

use crate::error::{number, Error, Result};
use crate::presets::{self, Source};
use serde::{Deserialize, Serialize};

/// A GPU as the cost models see it. All figures in base SI units (bytes, bytes/s, op/s).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Gpu {
    /// Human-readable name, shown in reports.
    pub name: String,
    /// Other names the preset answers to on `--gpu` and in measurement rows: the device name
    /// `nvidia-smi` prints ([`crate::presets::aliases`]).
    #[serde(default, skip_serializing)]
    pub aliases: Vec<String>,
    /// Device-memory bandwidth, bytes/s.
    pub bandwidth: f64,
    /// Dense FP16/BF16 tensor-core peak, FLOP/s.
    pub fp16_peak: f64,
    /// Dense INT8 tensor-core peak, op/s.
    pub int8_peak: f64,
    /// Dense 4-bit floating-point tensor-core peak (NVFP4/MXFP4 on Blackwell), FLOP/s. Absent:
    /// the GPU has no 4-bit tensor path, so 4-bit GEMMs run on the 8-bit one
    /// ([`crate::cost::TensorPath`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_peak: Option<f64>,
    /// On-chip buffer LLM-Viewer uses to size FlashAttention blocks, bytes
    /// (LLM-Viewer convention: SMs × 256 KiB register file).
    pub onchip_buffer: f64,
    /// Last-level on-chip cache that every SM shares, bytes (NVIDIA: L2; AMD CDNA 3: the
    /// Infinity Cache, which sits before HBM as NVIDIA's L2 does). With `sms` it decides whether
    /// FlashAttention's K/V re-reads come from the cache or from device memory
    /// ([`crate::cost::refined::layer::L2`]). Absent: every re-read is priced from memory.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub l2_bytes: Option<f64>,
    /// Streaming multiprocessors (AMD: compute units): how many attention thread blocks run at
    /// once, so how many heads' K/V must sit in `l2_bytes` together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sms: Option<f64>,
    /// Device memory, bytes.
    pub memory: f64,
    /// Unified memory shared with the CPU (Jetson): the bytes of `memory` the operating system
    /// and its processes are assumed to hold, which the model cannot use. Absent: a discrete
    /// GPU, all of `memory` is the model's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub os_memory_bytes: Option<f64>,
    /// GPU-to-GPU bandwidth per direction, bytes/s (tensor parallelism). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interconnect_bandwidth: Option<f64>,
    /// The host such a GPU usually sits in. PyTorch dispatches its ops one by one on one CPU
    /// thread, and desktop CPUs run one thread faster than server CPUs, so a fitted framework
    /// gives a desktop-host GPU without values of its own the desktop pool of per-op cost
    /// (`desktop_launch_overhead_s`, docs/accuracy.md). Absent: a server.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<Host>,
    /// Measured efficiency factors (calibration hook of the refined model). Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub efficiency: Option<Efficiency>,
}

/// What kind of computer a GPU sits in, as far as the host's single-thread speed goes.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
)]
#[serde(rename_all = "lowercase")]
pub enum Host {
    /// A data-centre server (Xeon, EPYC): the default.
    #[default]
    Server,
    /// A desktop or gaming PC (Core, Ryzen), where GeForce cards usually sit.
    Desktop,
}

/// Achieved fractions of peak and fixed costs: measured on a device (`aim-sim calibrate`) or
/// fitted to published prefill times for a framework (`aim-sim fit`, `frameworks/*.toml`).
/// The refined model times each kernel as
/// `max(flops / (peak · c), bytes / (bandwidth · m)) + launches · launch_overhead_s`
/// (cost/refined/kernel.rs says which `c` and `m` each kind of kernel gets).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Efficiency {
    /// Achieved fraction of `fp16_peak` (or `int8_peak`) for compute-bound GEMMs, in (0, 1].
    pub matmul: f64,
    /// Achieved fraction of both roofs for attention and importance kernels, in (0, 1].
    pub attention: f64,
    /// Achieved fraction of `bandwidth` for memory-bound passes (and memory-bound GEMMs), in (0, 1].
    pub elementwise: f64,
    /// Fixed cost added to every kernel launch, seconds.
    pub launch_overhead_s: f64,
    /// Achieved fraction of `int8_peak` for 8-bit GEMMs (FP8/INT8) [default: `matmul`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub matmul_8bit: Option<f64>,
    /// Host cost of one forward beyond its kernels (framework set-up, sampling), seconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub fixed_overhead_s: f64,
    /// Latency of one collective (all-reduce, all-gather) beyond its bytes, seconds.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub collective_latency_s: f64,
    /// Achieved fraction of `interconnect_bandwidth` by collectives, in (0, 1] [default: 1].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<f64>,
    /// Weight-only quantisation (w_bits < a_bits) dequantises every weight matrix to 16 bits
    /// before its GEMM (bitsandbytes), at this fraction of `bandwidth`. Absent: the GEMM reads
    /// the packed weights directly (fused dequantisation, as in AWQ/Marlin kernels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dequant: Option<f64>,
    /// Mixture-of-experts grouped GEMMs with `m` tokens per expert reach `m / (m + m_half)` of
    /// the dense GEMM efficiency (half-saturation in tokens per expert: small per-expert tiles,
    /// expert scheduling, token permutation; TensorRT-LLM's "MoE as dense GEMM" blog). Absent:
    /// expert GEMMs run at the dense efficiency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expert_half_tokens: Option<f64>,
    /// Where these figures come from, for reports (e.g. "framework trtllm, fitted for h100").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
    /// The framework dispatches PyTorch's ops one by one (HF transformers): `launch_overhead_s`
    /// is paid per op it runs, and a modelled kernel stands for the ops of
    /// [`crate::cost::refined::dispatch`] (an RMSNorm is eight). Off: per modelled launch.
    #[serde(default, skip_serializing_if = "is_false")]
    pub eager_dispatch: bool,
}

fn is_zero(x: &f64) -> bool {
    *x == 0.0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl Efficiency {
    /// The ideal device: every roof reached, no overhead.
    pub const fn ideal() -> Efficiency {
        Efficiency {
            matmul: 1.0,
            attention: 1.0,
            elementwise: 1.0,
            launch_overhead_s: 0.0,
            matmul_8bit: None,
            fixed_overhead_s: 0.0,
            collective_latency_s: 0.0,
            link: None,
            dequant: None,
            expert_half_tokens: None,
            source: None,
            eager_dispatch: false,
        }
    }

    /// Every fraction in (0, 1], every time finite and ≥ 0; `Err` names the key.
    pub fn validate(&self) -> Result<(), String> {
        let fractions = [
            ("efficiency.matmul", Some(self.matmul)),
            ("efficiency.attention", Some(self.attention)),
            ("efficiency.elementwise", Some(self.elementwise)),
            ("efficiency.matmul_8bit", self.matmul_8bit),
            ("efficiency.link", self.link),
            ("efficiency.dequant", self.dequant),
        ];
        for (key, value) in fractions {
            if let Some(value) = value {
                if !(value.is_finite() && (MIN_FRACTION..=1.0).contains(&value)) {
                    return Err(format!(
                        "key '{key}' = {} is a fraction of peak: it must be in [{MIN_FRACTION}, 1] (0.7 for 70 %)",
                        number(value)
                    ));
                }
            }
        }
        for (key, value) in [
            ("efficiency.launch_overhead_s", self.launch_overhead_s),
            ("efficiency.fixed_overhead_s", self.fixed_overhead_s),
            ("efficiency.collective_latency_s", self.collective_latency_s),
        ] {
            if !(value.is_finite() && (0.0..=MAX_OVERHEAD_S).contains(&value)) {
                return Err(format!(
                    "key '{key}' = {} must be between 0 and {MAX_OVERHEAD_S} seconds (5 µs is 5e-6)",
                    number(value)
                ));
            }
        }
        if let Some(m) = self.expert_half_tokens {
            if !(m.is_finite() && (0.0..=MAX_EXPERT_HALF_TOKENS).contains(&m)) {
                return Err(format!(
                    "key 'efficiency.expert_half_tokens' = {} is a number of tokens per expert: it must be between 0 and {MAX_EXPERT_HALF_TOKENS}",
                    number(m)
                ));
            }
        }
        Ok(())
    }
}

/// Largest half-saturation size of a grouped expert GEMM, tokens per expert: beyond a few
/// thousand rows per expert any GEMM kernel is saturated, so a larger value is a typo.
pub(crate) const MAX_EXPERT_HALF_TOKENS: f64 = 4096.0;

impl Gpu {
    /// Loads a preset name or a TOML file path, then validates it.
    pub fn load(name_or_path: &str) -> Result<Gpu> {
        let source = presets::resolve("GPU", name_or_path, presets::GPUS)?;
        Gpu::from_source(&source)
    }

    /// Parses and validates an already-read definition.
    pub fn from_source(source: &Source) -> Result<Gpu> {
        let gpu: Gpu = presets::parse_toml(source)?;
        gpu.validate().map_err(|message| Error::Parse {
            origin: source.origin.clone(),
            message,
        })?;
        Ok(gpu)
    }

    /// Every figure must be finite and positive; a zero bandwidth would give infinite times.
    pub fn validate(&self) -> Result<(), String> {
        crate::presets::check_name(&self.name)?;
        // An empty name left the run's header "... on  · cost model refined".
        if self.name.trim().is_empty() {
            return Err(
                "key 'name' is empty: give the GPU a name, e.g. name = \"NVIDIA H100 80GB SXM\""
                    .into(),
            );
        }
        // Physically sensible ranges, so that a unit slip (GB/s written as bytes/s) is an
        // error, not a prediction off by 1e9.
        let mut figures = vec![
            (
                "bandwidth",
                self.bandwidth,
                1e9,
                1e14,
                "bytes/s",
                "1555e9 for 1555 GB/s",
            ),
            (
                "fp16_peak",
                self.fp16_peak,
                1e11,
                1e17,
                "FLOP/s",
                "312e12 for 312 TFLOP/s",
            ),
            (
                "int8_peak",
                self.int8_peak,
                1e11,
                1e17,
                "op/s",
                "624e12 for 624 TOP/s",
            ),
            (
                "onchip_buffer",
                self.onchip_buffer,
                1e4,
                1e10,
                "bytes",
                "27648e3 for 27 MB",
            ),
            (
                "memory",
                self.memory,
                1e8,
                1e14,
                "bytes",
                "85899345920 for 80 GiB",
            ),
        ];
        if let Some(peak) = self.fp4_peak {
            figures.push(("fp4_peak", peak, 1e11, 1e17, "FLOP/s", "9e15 for 9 PFLOP/s"));
        }
        if let Some(os) = self.os_memory_bytes {
            if !(os.is_finite() && os >= 0.0 && os < self.memory) {
                return Err(format!(
                    "key 'os_memory_bytes' = {} must be at least 0 and less than 'memory' ({}): it is the share of the unified memory the OS holds, e.g. 4294967296 for 4 GiB",
                    number(os),
                    number(self.memory)
                ));
            }
        }
        if let Some(l2) = self.l2_bytes {
            figures.push(("l2_bytes", l2, 1e5, 1e10, "bytes", "41943040 for 40 MiB"));
        }
        if let Some(sms) = self.sms {
            if !(sms.is_finite() && sms.fract() == 0.0 && (1.0..=4096.0).contains(&sms)) {
                return Err(format!(
                    "key 'sms' = {} must be a whole number of streaming multiprocessors between 1 and 4096, e.g. 108 for the A100",
                    number(sms)
                ));
            }
        }
        if let Some(bw) = self.interconnect_bandwidth {
            figures.push((
                "interconnect_bandwidth",
                bw,
                1e8,
                1e14,
                "bytes/s",
                "300e9 for 300 GB/s",
            ));
        }
        for (key, value, lo, hi, unit, example) in figures {
            if !(value.is_finite() && (lo..=hi).contains(&value)) {
                return Err(format!(
                    "key '{key}' = {} is outside {lo:e} to {hi:e} {unit}: give it in base units, e.g. {example}",
                    number(value)
                ));
            }
        }
        if let Some(eff) = &self.efficiency {
            eff.validate()?;
        }
        Ok(())
    }
}

impl Gpu {
    /// The host it is taken to sit in (`host`, else a server).
    pub fn host(&self) -> Host {
        self.host.unwrap_or_default()
    }

    /// Memory the model can use: `memory` less the operating system's share on a GPU that
    /// shares its memory with the CPU (`os_memory_bytes`), bytes.
    pub(crate) fn model_memory_bytes(&self) -> f64 {
        self.memory - self.os_memory_bytes.unwrap_or(0.0)
    }
}

/// Smallest achieved fraction of peak accepted: a kernel below 0.1 % of its roof is a typo.
pub(crate) const MIN_FRACTION: f64 = 1e-3;
/// Largest per-kernel or per-forward overhead accepted, seconds.
pub(crate) const MAX_OVERHEAD_S: f64 = 1.0;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_preset_loads_and_validates() {
        for name in presets::names(presets::GPUS) {
            let gpu = Gpu::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert!(
                gpu.fp16_peak / gpu.bandwidth > 10.0,
                "{name}: implausible ridge point"
            );
        }
    }

    /// Issue 21: GeForce presets sit in desktops (their per-op dispatch gets the desktop
    /// pool), every other preset in a server; a GPU file can say either, and nothing else.
    #[test]
    fn geforce_presets_are_desktop_hosts_and_a_file_can_say_so() {
        for name in presets::names(presets::GPUS) {
            let gpu = Gpu::load(name).unwrap();
            let geforce = gpu.name.contains("GeForce");
            let want = if geforce { Host::Desktop } else { Host::Server };
            assert_eq!(gpu.host(), want, "{name}");
        }
        let file = |host: &str| {
            Gpu::from_source(&Source {
                origin: "g.toml".into(),
                text: format!("name='x'\nbandwidth=1e12\nfp16_peak=1e14\nint8_peak=2e14\nonchip_buffer=1e7\nmemory=1e10\nhost='{host}'\n"),
                path: None,
            })
        };
        assert_eq!(file("server").unwrap().host(), Host::Server);
        assert_eq!(file("desktop").unwrap().host(), Host::Desktop);
        let err = file("laptop").unwrap_err().to_string();
        assert!(err.contains("host") && err.contains("desktop"), "{err}");
    }

    #[test]
    fn a100_is_the_papers_profile() {
        let gpu = Gpu::load("a100").unwrap();
        assert_eq!(gpu.bandwidth, 1555e9);
        assert_eq!(gpu.fp16_peak, 312e12);
        assert_eq!(gpu.int8_peak, 624e12);
        assert_eq!(gpu.onchip_buffer, 27648e3);
    }

    #[test]
    fn zero_nan_and_negative_figures_are_rejected() {
        for bad in ["0", "nan", "-1e9", "inf"] {
            let text = format!(
                "name='x'\nbandwidth={bad}\nfp16_peak=1e14\nint8_peak=2e14\nonchip_buffer=1e7\nmemory=1e10\n"
            );
            let source = Source {
                origin: "test".into(),
                text,
                path: None,
            };
            let err = Gpu::from_source(&source).unwrap_err().to_string();
            assert!(err.contains("bandwidth"), "{bad}: {err}");
        }
    }
}
