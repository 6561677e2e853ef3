//! Measuring a prefill on a real GPU and calibrating the cost model (issue 6).
//!
//! [`stack`] is the kernel-by-kernel plan of a prefill; [`calibrate`] turns timings of those
//! kernels into an `[efficiency]` table; [`compare`] sets measured layers against predictions.
//! Timings come from a [`TimingSource`]: the GPU, or [`FakeDevice`] in tests.

pub mod calibrate;
pub mod compare;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod stack;

use crate::error::Result;
pub use stack::{KernelCall, KernelClass, StackPlan};

/// Anything that can time a kernel launch: a GPU, or a synthetic device in tests.
pub trait TimingSource {
    /// A short description of the device (name, driver), recorded with results.
    fn describe(&self) -> String;
    /// Median time of the launch, seconds.
    fn time_kernel(&mut self, call: &KernelCall) -> Result<f64>;
}

/// A synthetic device whose kernels run at fixed fractions of a GPU profile's roofline,
/// plus a launch overhead: lets calibration and comparison be tested without a GPU.
#[derive(Debug, Clone)]
pub struct FakeDevice {
    pub gpu: crate::hardware::Gpu,
    pub efficiency: crate::hardware::Efficiency,
}

impl TimingSource for FakeDevice {
    fn describe(&self) -> String {
        format!("synthetic device modelled on {}", self.gpu.name)
    }

    fn time_kernel(&mut self, call: &KernelCall) -> Result<f64> {
        let e = &self.efficiency;
        // The refined model's reading of [efficiency] (cost/refined/kernel.rs): GEMMs compute
        // at `matmul` and stream at `elementwise`; attention at `attention` on both roofs.
        let (compute_fraction, bandwidth_fraction) = match call.class() {
            KernelClass::Matmul => (e.matmul, e.elementwise),
            KernelClass::Attention => (e.attention, e.attention),
            KernelClass::Elementwise => (1.0, e.elementwise),
        };
        let compute_s = call.flops() / (self.gpu.fp16_peak * compute_fraction);
        let memory_s = call.min_bytes() / (self.gpu.bandwidth * bandwidth_fraction);
        Ok(compute_s.max(memory_s) + e.launch_overhead_s)
    }
}
