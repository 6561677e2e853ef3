//! Runs a scenario through its cost model twice — with the schedule and without any
//! reduction — and states the reduction factors.

use crate::cost::{Context, RunCost};
use crate::error::{Error, Result};
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
    finite(&run, "the schedule's run")?;
    finite(&base, "the baseline")?;
    run.warnings
        .extend(scenario.warnings.iter().cloned().chain(schedule_warnings(
            &plan.layer_tokens,
            &baseline_tokens,
            &run,
            &base,
        )));
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

/// Every figure of a run must be a finite number: an inf or NaN here means an input beyond what
/// the model can price (a GPU figure many orders too small), which must be an error, never a
/// `null` in JSON or `inf ms` in a table.
fn finite(run: &RunCost, what: &str) -> Result<()> {
    let t = &run.totals;
    let ops = run
        .stages
        .iter()
        .chain(run.layers.iter().flat_map(|l| &l.operators))
        .chain(&run.head);
    let bad = [t.flops, t.bytes, t.time_s, t.memory_consumption_bytes]
        .into_iter()
        .any(|v| !v.is_finite())
        || ops
            .clone()
            .any(|o| !(o.time_s.is_finite() && o.op.flops.is_finite()));
    if bad || t.time_s > MAX_TIME_S {
        return Err(Error::invalid(format!(
            "{what} prices to {} s, beyond what aim-sim can report: check the GPU and model figures (a bandwidth or peak many orders of magnitude too small?)",
            t.time_s
        )));
    }
    Ok(())
}

/// Longest prefill time reported, seconds (3 × 10⁷ years): a billion-token prompt on a slow GPU
/// stays below; beyond, the inputs are not a real device and charts could not draw it.
const MAX_TIME_S: f64 = 1e15;

/// What a user should hear about a schedule that does not do what a schedule should.
fn schedule_warnings(
    layer_tokens: &[u64],
    baseline_tokens: &[u64],
    run: &RunCost,
    base: &RunCost,
) -> Vec<String> {
    let mut out = Vec::new();
    if let Some((i, (n, b))) = layer_tokens
        .iter()
        .zip(baseline_tokens)
        .enumerate()
        .find(|(_, (n, b))| n > b)
    {
        out.push(format!(
            "layer {i} holds {n} tokens, more than the {b} the input has: the schedule keeps tokens it was not given"
        ));
    }
    if let Some(i) = (1..layer_tokens.len()).find(|&i| layer_tokens[i] > layer_tokens[i - 1]) {
        out.push(format!(
            "layer {i} holds more tokens ({}) than layer {} ({}): pruned tokens cannot come back",
            layer_tokens[i],
            i - 1,
            layer_tokens[i - 1]
        ));
    }
    if run.totals.time_s > base.totals.time_s {
        out.push(format!(
            "the schedule takes {:.2}× the time of no reduction: its merging/importance work costs more than the tokens it removes save",
            run.totals.time_s / base.totals.time_s
        ));
    } else if run.totals.flops > base.totals.flops {
        out.push(format!(
            "the schedule needs {:.2}× the FLOPs of no reduction",
            run.totals.flops / base.totals.flops
        ));
    }
    out
}
