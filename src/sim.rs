//! Runs a scenario through its cost model twice — with the schedule and without any
//! reduction — and states the reduction factors.

use crate::cost::{LayerCache, RunCost, Totals, Workload};
use crate::error::{Error, Result};
use crate::framework::Spread;
use crate::scenario::Scenario;
use crate::schedule::{PruneTiming, TokenPlan};
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
    /// 80 % prediction interval of `time` `[low, high]` under a fitted framework profile.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub time_interval: Option<[f64; 2]>,
}

/// A scenario's totals beside its baseline's, without per-layer detail: what a sweep row needs.
/// The same figures as [`simulate`]'s `run.totals`, `baseline.totals` and reduction, bit for bit.
#[derive(Debug, Clone, PartialEq)]
pub struct Summary {
    /// Visual tokens entering the first decoder layer (after merging).
    pub merged_visual_tokens: u64,
    pub run: Totals,
    pub baseline: Totals,
    /// `baseline.flops / run.flops`.
    pub reduction_flops: f64,
    /// `baseline.time_s / run.time_s`.
    pub reduction_time: f64,
}

/// Baseline over schedule; infinite when the schedule costs nothing.
fn ratio(baseline: f64, run: f64) -> f64 {
    if run > 0.0 {
        baseline / run
    } else {
        f64::INFINITY
    }
}

/// Prices the scenario and its baseline, totals only ([`crate::cost::CostModel::run_totals`]).
pub fn summarize(scenario: &Scenario) -> Result<Summary> {
    summarize_planned(scenario, &scenario.plan()?)
}

/// [`summarize`] with the scenario's token plan already at hand (a sweep has it from
/// [`Scenario::from_loaded_planned`]); `plan` must be `scenario.plan()`.
pub(crate) fn summarize_planned(scenario: &Scenario, plan: &TokenPlan) -> Result<Summary> {
    summarize_with(scenario, plan, None)
}

/// [`summarize_planned`], reusing the layer sums `cache` kept from earlier scenarios on the
/// same model, GPU and options ([`crate::cost::CostModel::run_totals_cached`]; the same
/// figures bit for bit): one cache per sweep worker.
pub(crate) fn summarize_cached(
    scenario: &Scenario,
    plan: &TokenPlan,
    cache: &mut LayerCache,
) -> Result<Summary> {
    cache.bind(&scenario.model, &scenario.gpu, &scenario.options);
    summarize_with(scenario, plan, Some(cache))
}

fn summarize_with(
    scenario: &Scenario,
    plan: &TokenPlan,
    mut cache: Option<&mut LayerCache>,
) -> Result<Summary> {
    let cost_model = scenario.cost_model.implementation();
    let ctx = scenario.context();
    let mut totals = |w: &Workload| match cache.as_deref_mut() {
        Some(cache) => cost_model.run_totals_cached(&ctx, w, cache),
        None => cost_model.run_totals(&ctx, w),
    };
    let run = totals(&scenario.workload(plan));
    let baseline_tokens = scenario.baseline_tokens();
    let baseline = totals(&scenario.baseline_workload(&baseline_tokens));
    finite_totals(&run, "the schedule's run")?;
    finite_totals(&baseline, "the baseline")?;
    Ok(Summary {
        merged_visual_tokens: plan.merged_visual_tokens,
        reduction_flops: ratio(baseline.flops, run.flops),
        reduction_time: ratio(baseline.time_s, run.time_s),
        run,
        baseline,
    })
}

/// The 80 % prediction intervals of the run's time, the baseline's time (s) and the speed-up
/// `base_time_s / run_time_s` under a profile's `[spread]`: a new source's error is log-normal
/// with the profile's leave-one-source-out σ (framework.rs, docs/accuracy.md). A time's low end
/// is raised to `floors_s` (the run's, the baseline's [`ideal_floors`]) where the log-normal
/// reaches below it: no run of the priced work is faster than its ideal roofline (a wide MoE
/// interval was). One place for `simulate` and `sweep`, so their intervals agree bit for bit.
pub fn intervals80(
    sp: &Spread,
    run_time_s: f64,
    base_time_s: f64,
    floors_s: [f64; 2],
) -> [[f64; 2]; 3] {
    let speedup = ratio(base_time_s, run_time_s);
    let run_iv = floored(sp.time_interval(run_time_s), run_time_s, floors_s[0]);
    [
        run_iv,
        floored(sp.time_interval(base_time_s), base_time_s, floors_s[1]),
        if speedup == 1.0 {
            // The run is its own baseline: no ratio of two runs, nothing uncertain.
            [1.0, 1.0]
        } else if sp.measured_baseline(base_time_s) {
            // The baseline is a measurement (an anchor), so the run's time is it over the
            // speed-up: one interval is the other's, and the roofline that bounds the run's
            // bounds the speed-up (its own σ once claimed 6.77× where 5.90× is the most).
            [base_time_s / run_iv[1], base_time_s / run_iv[0]]
        } else {
            sp.speedup_interval(speedup)
        },
    ]
}

/// The ideal roofline times `[run, baseline]` of `plan`'s work on `scenario`: every kernel
/// the stack runs at the GPU's peaks, without the profile's fractions or overheads (what
/// `check`'s roofline column prices). No run of that work is faster, so an interval's low end
/// never lies below it. It was the work's FLOPs at the peak or its bytes at the bandwidth,
/// whichever is longer (the work's totals alone), which lies below the sum over kernels: an
/// `hf-eager` baseline's interval reached 419 ms where the ideal roofline is 663 ms. Priced only
/// where an interval is stated (a fitted profile).
pub fn ideal_floors(scenario: &Scenario, plan: &TokenPlan) -> [f64; 2] {
    let mut ideal = scenario.clone();
    ideal.gpu = ideal_gpu(&scenario.gpu);
    // Priced as `simulate` prices the run (the sweep's cached totals agree bit for bit).
    let ctx = ideal.context();
    let cost_model = ideal.cost_model.implementation();
    let run = cost_model.run_workload(&ctx, &ideal.workload(plan));
    let baseline_tokens = ideal.baseline_tokens();
    let base = cost_model.run_workload(&ctx, &ideal.baseline_workload(&baseline_tokens));
    [run.totals.time_s, base.totals.time_s]
}

/// `gpu` without a profile's efficiency: its peaks alone ([`ideal_floors`]).
pub(crate) fn ideal_gpu(
    gpu: &std::sync::Arc<crate::hardware::Gpu>,
) -> std::sync::Arc<crate::hardware::Gpu> {
    let mut ideal = gpu.clone();
    std::sync::Arc::make_mut(&mut ideal).efficiency = None;
    ideal
}

/// [`ideal_floors`] with `ideal_gpu` (the scenario's GPU through [`ideal_gpu`], made once) and
/// a sweep worker's layer cache for it: the same figures bit for bit, at a cached price.
pub(crate) fn ideal_floors_cached(
    scenario: &Scenario,
    plan: &TokenPlan,
    ideal_gpu: &std::sync::Arc<crate::hardware::Gpu>,
    cache: &mut LayerCache,
) -> Result<[f64; 2]> {
    let mut ideal = scenario.clone();
    ideal.gpu = ideal_gpu.clone();
    let s = summarize_cached(&ideal, plan, cache)?;
    Ok([s.run.time_s, s.baseline.time_s])
}

/// A time's interval `[low, high]` around `time` with its low end raised to `floor`, a time no
/// run of the work can beat (its roofline; never above `time` itself, should a profile's
/// fractions exceed the peaks). Any unit, the same for all three.
pub fn floored([low, high]: [f64; 2], time: f64, floor: f64) -> [f64; 2] {
    [low.max(floor.min(time)), high]
}

/// Prices the scenario and its baseline.
pub fn simulate(scenario: &Scenario) -> Result<Report> {
    let plan = scenario.plan()?;
    let cost_model = scenario.cost_model.implementation();
    let ctx = scenario.context();
    let mut run: RunCost = cost_model.run_workload(&ctx, &scenario.workload(&plan));
    run.notes.extend(scenario.framework_notes.iter().cloned());
    let baseline_tokens = scenario.baseline_tokens();
    let base: RunCost =
        cost_model.run_workload(&ctx, &scenario.baseline_workload(&baseline_tokens));
    finite(&run, "the schedule's run")?;
    finite(&base, "the baseline")?;
    let mut base = base;
    // A replayed anchored run (`--spec run.json`): its baseline is the measurement again when
    // it prices to it, as the anchored run itself said.
    let replayed_measurement = scenario.anchor == Some(crate::scenario::Anchor::Rows)
        && scenario
            .spread
            .is_some_and(|s| s.measured_baseline(base.totals.time_s));
    let anchor = if replayed_measurement {
        Some(crate::scenario::Anchor::Baseline)
    } else {
        scenario.anchor
    };
    let time_interval = scenario.spread.map(|sp| {
        let [run_iv, base_iv, speedup_iv] = intervals80(
            &sp,
            run.totals.time_s,
            base.totals.time_s,
            ideal_floors(scenario, &plan),
        );
        // Anchored on a measured baseline, the baseline is that measurement (reproduced
        // exactly): no interval, nor for a run that is the baseline (`--schedule none`).
        let measured = anchor == Some(crate::scenario::Anchor::Baseline);
        if !(measured && speedup_iv == [1.0, 1.0]) {
            run.totals.time_interval_s = Some(run_iv);
        }
        if !measured {
            base.totals.time_interval_s = Some(base_iv);
        }
        speedup_iv
    });
    // A baseline that does not fit while the run does: the speed-up is over a run that cannot
    // happen on this GPU (`--batch 100 --gpu h100`: 133 GB against 85.9, 5.3× in silence).
    if let (Some(b), Some(r)) = (&base.peak_memory, &run.peak_memory) {
        if b.peak_bytes > b.device_bytes && r.peak_bytes <= r.device_bytes {
            run.warnings.push(format!(
                "the baseline (no reduction) needs {:.1} GB at its peak ({}), more than the {:.1} GB this run fits in: its time and the speed-up over it are of a run that does not fit this GPU without {} or offloading",
                b.peak_bytes / 1e9,
                b.activations_at,
                b.device_bytes / 1e9,
                crate::error::keys::TP
            ));
        }
    }
    // The anchored run's note of itself, said by that run (or its replay) alone.
    if let Some(n) = &scenario.anchor_run_note {
        if anchor == Some(crate::scenario::Anchor::Baseline) && n.belongs_to(run.totals.time_s) {
            run.notes.push(n.note.clone());
        }
    }
    run.warnings
        .extend(scenario.warnings.iter().cloned().chain(schedule_warnings(
            &plan.layer_tokens,
            &baseline_tokens,
            &run,
            &base,
        )));
    run.warnings.extend(idle_pruning(scenario, &plan));
    Ok(Report {
        cost_model: cost_model.name(),
        schedule_summary: if scenario.layer_tokens_override.is_some() {
            format!(
                "explicit {}, which replaces the schedule (no merging priced)",
                crate::error::keys::LAYER_TOKENS
            )
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
            time_interval,
        },
        spec: scenario.resolved_spec().clone(),
        scenario: {
            let mut s = scenario.clone();
            s.anchor = anchor;
            s
        },
        plan,
        run,
        baseline: base,
    })
}

/// Every figure of a run must be a finite number: an inf or NaN here means an input beyond what
/// the model can price (a GPU figure many orders too small), which must be an error, never a
/// `null` in JSON or `inf ms` in a table.
fn finite(run: &RunCost, what: &str) -> Result<()> {
    finite_totals(&run.totals, what)?;
    let mut ops = run
        .stages
        .iter()
        .chain(run.layers.iter().flat_map(|l| &l.operators))
        .chain(&run.head);
    if ops.any(|o| !(o.time_s.is_finite() && o.op.flops.is_finite())) {
        return Err(beyond(&run.totals, what));
    }
    Ok(())
}

/// The error of a run whose figures are not finite or beyond [`MAX_TIME_S`].
fn beyond(t: &Totals, what: &str) -> Error {
    Error::invalid(format!(
        "{what} prices to {} s, beyond what aim-sim can report: check the GPU and model figures (a bandwidth or peak many orders of magnitude too small?)",
        t.time_s
    ))
}

/// [`finite`] for totals alone (a sweep row).
fn finite_totals(t: &Totals, what: &str) -> Result<()> {
    let bad = [t.flops, t.bytes, t.time_s, t.memory_consumption_bytes]
        .into_iter()
        .any(|v| !v.is_finite());
    if bad || t.time_s > MAX_TIME_S {
        return Err(beyond(t, what));
    }
    Ok(())
}

/// Longest prefill time reported, seconds (3 × 10⁷ years): a billion-token prompt on a slow GPU
/// stays below; beyond, the inputs are not a real device and charts could not draw it.
const MAX_TIME_S: f64 = 1e15;

/// What [`idle_pruning`]'s warning says, for a caller that says it otherwise ([`is_idle_pruning`]).
const IDLE_PRUNING: &str = "prunes no visual token";

/// Whether warning `w` is [`idle_pruning`]'s: `budget` says it in its own words where its
/// least aggressive window is already past the model's layers (merging alone reaches the
/// target).
pub(crate) fn is_idle_pruning(w: &str) -> bool {
    w.starts_with("schedule '") && w.contains(IDLE_PRUNING)
}

/// A schedule that prunes but removes no visual token from any layer on this model: the run
/// said "prune linear l1=27 l2=29" over 28 layers and priced every layer at the merged count
/// without a word (under code timing a layer's decision shrinks the next one, and there is no
/// next one after the last).
fn idle_pruning(scenario: &Scenario, plan: &TokenPlan) -> Option<String> {
    let schedule = &scenario.schedule;
    let first = *plan.layer_tokens.first()?;
    if scenario.layer_tokens_override.is_some()
        || schedule.prune.is_none()
        || plan.merged_visual_tokens == 0
        || first < plan.merged_visual_tokens + scenario.input.text_tokens
        || plan.layer_tokens.iter().any(|&n| n != first)
    {
        return None;
    }
    let layers = scenario.model.num_layers;
    let fix = match schedule.linear_layers(layers) {
        Some((l1, _)) if l1 + 1 >= layers && scenario.prune_timing == PruneTiming::Code => format!(
            ": its window starts at the last layer, whose decision (code timing) shrinks no layer after it; start it earlier ({}) or price the paper's bookkeeping ({} paper)",
            crate::error::keys::PRUNE_START,
            crate::error::keys::PRUNE_TIMING
        ),
        _ => String::new(),
    };
    Some(format!(
        "schedule '{}' {IDLE_PRUNING} on this {layers}-layer model ({}){fix}",
        schedule.name,
        schedule.prune_summary(layers)
    ))
}

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
            "layer {i} holds more tokens ({}) than layer {} ({}): pruned tokens cannot come back, yet the layers are priced at the counts listed (a run that prunes keeps at most the earlier count: check the list)",
            layer_tokens[i],
            i - 1,
            layer_tokens[i - 1]
        ));
    }
    // Beyond rounding: a schedule equal to no reduction prices the same, give or take an ulp.
    if run.totals.time_s > base.totals.time_s * (1.0 + 1e-9) {
        out.push(format!(
            "the schedule takes {:.2}× the time of no reduction: its merging/importance work costs more than the tokens it removes save",
            run.totals.time_s / base.totals.time_s
        ));
    } else if run.totals.flops > base.totals.flops * (1.0 + 1e-9) {
        out.push(format!(
            "the schedule needs {:.2}× the FLOPs of no reduction",
            run.totals.flops / base.totals.flops
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spec::Spec;
    use proptest::prelude::*;

    const MODELS: &[&str] = &[
        "llava-ov-7b",
        "llava-ov-0.5b",
        "llava-1.5-7b",
        "qwen2-vl-7b",
        "internvl2.5-8b",
        "qwen3-vl-30b-a3b",
        "qwen3-vl-8b",
    ];
    const GPUS: &[&str] = &["a100", "h100", "l40s", "tests/golden/synthetic-h100.toml"];
    const SCHEDULES: &[&str] = &[
        "none",
        "linear",
        "fastv",
        "pdrop",
        "vtw",
        "sparsevlm-192",
        "aim-late",
        "aim-image",
        "fastvid",
        "visionzip-64",
        "merge-only",
    ];

    /// Debug text of every field: equal text means equal bits (`-0.0` and `0.0` differ).
    fn bits(t: &Totals) -> String {
        format!("{t:?}")
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        /// The totals-only pass and the detailed report agree bit for bit, in both cost models,
        /// over random models, GPUs (with and without [efficiency]), schedules, inputs and options.
        #[test]
        fn summary_equals_the_report_totals_bit_for_bit(
            refined in any::<bool>(),
            model in 0..MODELS.len(),
            gpu in 0..GPUS.len(),
            schedule in 0..SCHEDULES.len(),
            frames in 1u64..80,
            tokens_per_frame in prop_oneof![Just(None), (1u64..800).prop_map(Some)],
            text_tokens in 1u64..400,
            batch in 1u64..4,
            eager in any::<bool>(),
            paper_timing in any::<bool>(),
            widths in prop_oneof![Just(("16", "16")), Just(("8", "8")), Just(("4", "16")), Just(("4", "8"))],
            fused in any::<bool>(),
            vision in any::<bool>(),
            gen_tokens in prop_oneof![Just(0u64), 1u64..300],
            tp in prop_oneof![Just(1u64), Just(2), Just(4)],
            all_logits in any::<bool>(),
            skip_mlp_add in any::<bool>(),
        ) {
            let (frames, text, batch, gen, tp_s) = (
                frames.to_string(),
                text_tokens.to_string(),
                batch.to_string(),
                gen_tokens.to_string(),
                tp.to_string(),
            );
            let tpf = tokens_per_frame.map(|t| t.to_string());
            let mut flags = vec![
                "--cost-model", if refined { "refined" } else { "llm-viewer" },
                "--model", MODELS[model],
                "--gpu", GPUS[gpu],
                "--schedule", SCHEDULES[schedule],
                "--frames", &frames,
                "--text-tokens", &text,
                "--batch", &batch,
                "--attention", if eager { "eager" } else { "flash" },
                "--prune-timing", if paper_timing { "paper" } else { "code" },
                "--w-bits", widths.0,
                "--a-bits", widths.1,
            ];
            if let Some(tpf) = &tpf {
                flags.extend(["--tokens-per-frame", tpf]);
            }
            if refined {
                flags.extend(["--gen-tokens", &gen, "--tp", &tp_s]);
                if fused {
                    flags.extend(["--importance-kernel", "fused"]);
                }
                if vision {
                    flags.push("--include-vision");
                }
                if all_logits {
                    flags.push("--all-logits");
                }
            } else if skip_mlp_add {
                flags.push("--skip-mlp-add");
            }
            let spec = Spec::from_flags(&flags).expect("flags parse");
            // Some combinations are invalid input (a model without a vision encoder, a TP
            // degree that does not divide the heads, merging beyond a frame): skipped.
            let Ok(scenario) = Scenario::from_spec(&spec) else {
                return Ok(());
            };
            let report = simulate(&scenario).expect("simulates");
            let summary = summarize(&scenario).expect("summarizes");
            prop_assert_eq!(bits(&summary.run), bits(&report.run.totals), "{:?}", flags);
            prop_assert_eq!(bits(&summary.baseline), bits(&report.baseline.totals), "{:?}", flags);
            prop_assert_eq!(
                summary.reduction_flops.to_bits(),
                report.reduction.flops.to_bits()
            );
            prop_assert_eq!(summary.reduction_time.to_bits(), report.reduction.time.to_bits());
            prop_assert_eq!(summary.merged_visual_tokens, report.plan.merged_visual_tokens);
        }
    }
}
