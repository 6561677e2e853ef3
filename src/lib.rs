//! aim-sim: what a visual-token reduction schedule (AIM: merge + PageRank pruning, FastV, ...)
//! costs in a multi-modal LLM's prefill, per operator and per layer, on a given GPU.
//!
//! Pipeline: [`model`] + [`schedule`] + [`hardware`] → [`cost`] (FLOPs, bytes, roofline time)
//! → [`sim`] (schedule vs. baseline) → [`report`] (table / JSON / CSV).

pub mod cost;
pub mod error;
pub mod hardware;
pub mod kernels;
pub mod model;
pub mod presets;
pub mod schedule;
pub mod validate;

pub use error::{Error, Result};
pub mod app;
pub mod budget;
pub mod cli;
pub mod gpu_commands;
pub mod measure;
pub mod paper;
pub mod plot;
pub mod report;
pub mod reproduce;
pub mod scenario;
pub mod sim;
pub mod sweep;
