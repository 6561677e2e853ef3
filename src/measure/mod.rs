//! Measuring a prefill on a real GPU and calibrating the cost model (issues 6 and 22).
//!
//! [`stack`] groups the refined model's kernel list of a prefill into the launches a GPU
//! makes; [`calibrate`] turns timings of those launches into an `[efficiency]` table;
//! [`prediction`] sets measured layers against predictions. Timings come from a
//! [`TimingSource`]: the GPU, or [`FakeDevice`] in tests.

pub mod calibrate;
#[cfg(feature = "cuda")]
pub mod cuda;
pub mod prediction;
pub mod stack;

use crate::cost::refined::kernel::Timer;
use crate::cost::Roofline;
use crate::error::Result;
pub use stack::{KernelCall, StackPlan, Unit};

/// Anything that can time a launch: a GPU, or a synthetic device in tests.
pub trait TimingSource {
    /// A short description of the device (name, driver), recorded with results.
    fn describe(&self) -> String;
    /// Median time of the unit's launches, seconds.
    fn time_unit(&mut self, unit: &Unit) -> Result<f64>;
}

/// A synthetic device whose kernels run exactly as the refined model's [`Timer`] says under
/// `efficiency` on `gpu`'s bf16 roofline: lets calibration and comparison be tested without a
/// GPU (a calibration of it must recover `efficiency`, and its calibrated prediction must
/// equal its measurement).
#[derive(Debug, Clone)]
pub struct FakeDevice {
    pub gpu: crate::hardware::Gpu,
    pub efficiency: crate::hardware::Efficiency,
}

impl FakeDevice {
    /// The timer this device runs at.
    pub fn timer(&self) -> Timer {
        Timer::new(
            Roofline {
                peak_flops_per_s: self.gpu.fp16_peak,
                bandwidth_bytes_per_s: self.gpu.bandwidth,
            },
            Some(&self.efficiency),
            self.gpu.interconnect_bandwidth,
            false,
        )
    }
}

impl TimingSource for FakeDevice {
    fn describe(&self) -> String {
        format!("synthetic device modelled on {}", self.gpu.name)
    }

    fn time_unit(&mut self, unit: &Unit) -> Result<f64> {
        let timer = self.timer();
        Ok(unit
            .kernels
            .iter()
            .map(|k| timer.time(k.kernel.clone()).time_s)
            .sum())
    }
}
