//! aim-sim: what a visual-token reduction schedule (AIM: merge + PageRank pruning, FastV, ...)
//! costs in a multi-modal LLM's prefill, per operator and per layer, on a given GPU.
//!
//! The pipeline: a [`Spec`] (what to simulate) → [`Scenario`] (validated, presets loaded) →
//! a cost model (per-operator FLOPs, bytes and time) → [`Report`] (schedule against baseline).
//!
//! ```
//! use aim_sim::{simulate, Spec};
//!
//! // LLaVA-OneVision-7B, 32 frames, AIM's default schedule, the paper's A100, as the paper
//! // counted it (LLM-Viewer roofline).
//! let spec = Spec {
//!     cost_model: aim_sim::cost::CostModelKind::LlmViewer,
//!     skip_mlp_add: true,
//!     ..Spec::default()
//! };
//! let report = simulate(&spec)?;
//! assert!((report.run.totals.flops / 1e12 - 14.7566).abs() < 1e-4);
//! assert!((report.reduction.time - 7.99).abs() < 0.01);
//! # Ok::<(), aim_sim::Error>(())
//! ```
//!
//! # The public API
//!
//! What the `aim-sim` binary, the Python package (`python/`), the benches and `tests/` use;
//! everything else is `pub(crate)` or an implementation detail of the modules below.
//!
//! - One run: [`Spec`] (what to simulate; [`Spec::parse`], [`Spec::load`] for run files),
//!   [`simulate`] → [`Report`]; [`Scenario::from_spec`] and [`sim::simulate`] to validate once
//!   and price many times; [`report::render`] for the table, JSON or CSV.
//! - The data a run reads: [`model::Model`], [`hardware::Gpu`], [`schedule::Schedule`],
//!   [`framework::Framework`] (each `load`s a preset name or a file), [`presets`] (the names).
//! - Questions of many runs: [`sweep`] (`GridSpec` → `Grid` → `Sweep`), [`budget::answer`],
//!   [`compare`], [`pareto`], [`serve`] (`serve::query::answer`), [`check::check`],
//!   [`reproduce`].
//! - Errors: [`Error`] (one line each, `exit_code`), which names options by [`Key`] — the
//!   spec's key in `Display`, a flag where the command line renders it (`cli::keys`).
//! - Kernels and measurement: [`kernels`] (CPU references, launch shapes, [`kernels::tolerance`]
//!   for comparing an output with its reference; GPU with `cuda`), [`measure`],
//!   [`kernel_validation`] (`aim-sim validate`; `gpu_status` says whether a GPU is usable).
//! - The binary (`src/main.rs`): `cli::parse`, `cli::run` and `cli::keys` (a [`Key`]'s flag);
//!   `cli::Cli` and `cli::SimArgs` for the tests of the flags. Everything else in `cli` (the
//!   commands, formats, output files) is `pub(crate)`.
//!
//! Layers (docs/architecture.md): everything here builds with `--no-default-features` and then
//! depends on none of clap, indicatif, plotters or cudarc. The `cli` feature adds [`cli`]
//! (the `aim-sim` binary's flags and commands), `plot` adds [`plot`], `html` adds [`html`],
//! `cuda` adds the GPU kernels' launchers ([`kernels`]`::gpu`), [`kernel_validation`] and the
//! CUDA timing source of [`measure`].

// Core: the input, the data it reads, the cost models and what they produce.
pub mod attention;
pub mod choice;
pub mod cost;
pub mod error;
pub mod experts;
pub mod framework;
pub mod hardware;
pub mod model;
pub mod palette;
#[doc(hidden)]
pub mod presets;
pub mod report;
pub mod scenario;
pub mod schedule;
pub mod selection;
pub mod serve;
pub mod sim;
pub mod spec;
pub mod stats;

// Questions asked of the core: many runs, budgets, the paper's rows. They return data.
pub mod budget;
pub mod check;
pub mod compare;
#[doc(hidden)]
pub mod paper;
pub mod pareto;
pub mod reproduce;
pub mod sweep;

// Kernels: CPU references always; GPU launchers with `cuda`. Measurement: the plan of a
// prefill's kernels and the calibration fit always; the CUDA timing source with `cuda`.
#[cfg(feature = "cuda")]
pub mod kernel_validation;
pub mod kernels;
pub mod measure;

// Above the core.
#[cfg(feature = "cli")]
#[doc(hidden)]
pub mod cli;
#[cfg(feature = "html")]
pub mod html;
#[cfg(feature = "plot")]
pub mod plot;

pub use error::{Error, Key, Result};
pub use scenario::Scenario;
pub use sim::Report;
pub use spec::Spec;

/// Validates `spec`, prices it and its no-reduction baseline.
pub fn simulate(spec: &Spec) -> Result<Report> {
    sim::simulate(&Scenario::from_spec(spec)?)
}
