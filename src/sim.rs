//! Runs a scenario through its cost model twice — with the schedule and without any
//! reduction — and states the reduction factors.

use crate::cost::{Context, RunCost};
use crate::error::Result;
use crate::scenario::Scenario;
use crate::schedule::TokenPlan;
use serde::Serialize;

/// The result of one simulation; the JSON output is this struct.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub cost_model: &'static str,
    /// The resolved input: `aim-sim --spec` on this JSON replays the run exactly.
    pub spec: crate::spec::Spec,
    pub scenario: Scenario,
    /// One-line description of the schedule as applied to this model.
    pub schedule_summary: String,
    pub plan: TokenPlan,
    /// The schedule's prefill: `totals`, `stages`, `layers`, `head` at the top level.
    #[serde(flatten)]
    pub run: RunCost,
    /// The same input with every layer at full length.
    pub baseline: RunCost,
    pub reduction: Reduction,
}

/// Baseline over schedule: how many times less each quantity is.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Reduction {
    pub flops: f64,
    /// Of the whole prefill (`totals.time_s`: time to first token in `refined`).
    pub time: f64,
    pub bytes: f64,
    /// Decoder layers + head only: the LLM speed-up (refined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_time: Option<f64>,
    /// Time to first token + decode (refined).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub end_to_end_time: Option<f64>,
}

/// Prices the scenario and its baseline.
pub fn simulate(scenario: &Scenario) -> Result<Report> {
    let plan = scenario.plan()?;
    let cost_model = scenario.cost_model.implementation();
    let ctx = Context {
        model: &scenario.model,
        gpu: &scenario.gpu,
        options: &scenario.options,
    };
    let mut run: RunCost = cost_model.run_workload(&ctx, &scenario.workload(&plan));
    run.notes.extend(scenario.framework_notes.iter().cloned());
    let baseline_tokens = scenario.baseline_tokens();
    let base: RunCost =
        cost_model.run_workload(&ctx, &scenario.baseline_workload(&baseline_tokens));
    let ratio = |b: f64, r: f64| if r > 0.0 { b / r } else { f64::INFINITY };
    Ok(Report {
        cost_model: cost_model.name(),
        schedule_summary: if scenario.layer_tokens_override.is_some() {
            "explicit --layer-tokens".into()
        } else {
            let i = &scenario.input;
            let merge = if plan.merged_tokens_per_frame == i.tokens_per_frame {
                "no merging".to_string()
            } else {
                format!(
                    "merge {}→{} per frame",
                    i.tokens_per_frame, plan.merged_tokens_per_frame
                )
            };
            format!(
                "{merge}, {}",
                scenario.schedule.prune_summary(scenario.model.num_layers)
            )
        },
        reduction: Reduction {
            flops: ratio(base.totals.flops, run.totals.flops),
            time: ratio(base.totals.time_s, run.totals.time_s),
            bytes: ratio(base.totals.bytes, run.totals.bytes),
            llm_time: run
                .pipeline
                .as_ref()
                .zip(base.pipeline.as_ref())
                .map(|(r, b)| ratio(b.llm_time_s, r.llm_time_s)),
            end_to_end_time: run
                .pipeline
                .as_ref()
                .zip(base.pipeline.as_ref())
                .map(|(r, b)| ratio(b.end_to_end_time_s, r.end_to_end_time_s)),
        },
        spec: scenario.resolved_spec().clone(),
        scenario: scenario.clone(),
        plan,
        run,
        baseline: base,
    })
}
