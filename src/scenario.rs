//! A validated, fully resolved simulation input: the border between a [`Spec`] (what the user
//! asked for) and the cost models (what they price).

use crate::cost::{
    Context, CostModelKind, Precision, PruneDecision, RunOptions, TensorPath, Workload,
};
use crate::error::keys::{
    ALL_LOGITS, A_BITS, BATCH, COST_MODEL, EXPERTS, FPS, FRAMES, FRAMEWORK, GEN_TOKENS, GPU,
    IMAGE_SIZE, IMPORTANCE_KERNEL, INCLUDE_VISION, KV_BITS, LAYER_TOKENS, MERGE_KEEP_RATIO,
    MERGE_TOKENS_PER_FRAME, PRUNE_END, PRUNE_START, PRUNE_STEP, SELECTION, SKIP_MLP_ADD,
    TEXT_TOKENS, TOKENS, TOKENS_PER_FRAME, TP, VIDEO_SECONDS, VIDEO_SIZE, W_BITS,
};
use crate::error::{Error, Result};
use crate::framework::Framework;
use crate::hardware::{Efficiency, Gpu};
use crate::model::{Media, Model, Resolution, VisionInput};
use crate::schedule::{
    Importance, Merge, Prune, PruneTiming, Schedule, TokenPlan, VisualInput, MAX_TOKENS,
};
use crate::spec::{AttentionImpl, Definition, Spec};
use serde::Serialize;
use std::sync::Arc;

/// Largest batch accepted.
const MAX_BATCH: u64 = 1_000_000;

/// What a schedule's name gains when the run's merge/prune options replaced part of it.
pub(crate) const OVERRIDDEN: &str = " (overridden)";

/// One prefill to price: model, device, input, schedule and settings, all checked.
#[derive(Debug, Clone, Serialize)]
pub struct Scenario {
    /// Shared, not copied: a sweep's rows all point at the presets it loaded once.
    pub model: Arc<Model>,
    pub gpu: Arc<Gpu>,
    pub schedule: Arc<Schedule>,
    pub input: VisualInput,
    /// `--layer-tokens`: overrides the schedule when present.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub layer_tokens_override: Option<Vec<u64>>,
    pub options: RunOptions,
    pub cost_model: CostModelKind,
    pub prune_timing: PruneTiming,
    /// The framework profile whose efficiency `gpu.efficiency` holds (`roofline`: the GPU
    /// file's own table, if any).
    pub framework: String,
    /// The GPU preset this device is (named as one, or a file whose `name` or `aliases` are a
    /// preset's): the `[gpu.NAME]` table of a framework profile that applies to it, and what
    /// `fit` keys the device's fitted values by.
    #[serde(skip)]
    pub gpu_preset: Option<&'static str>,
    /// Notes added to every run: what the framework profile could not fit (pooled values used
    /// instead), the tensor path 4-bit GEMMs take, the OS's share of a shared memory.
    #[serde(skip)]
    pub framework_notes: Vec<String>,
    /// The profile's spread of predictions on a new source (its 80 % interval); `None` for the
    /// roofline, a bound with no interval.
    #[serde(skip)]
    pub spread: Option<crate::framework::Spread>,
    /// What the profile was refitted on, when it was (`--anchor-ms`, `--anchor FILE`): the
    /// interval is then what an anchor leaves, and a measured baseline has none.
    #[serde(skip)]
    pub anchor: Option<Anchor>,
    /// The note an anchored run says of itself alone (the measured baseline ÷ the unanchored
    /// predicted speed-up), from the profile an anchor refitted: a run says it when it is that
    /// run ([`crate::framework::RunNote::belongs_to`]; the anchored run or its JSON replayed).
    #[serde(skip)]
    pub anchor_run_note: Option<crate::framework::RunNote>,
    /// Settings that were given but do not apply as a user may expect (reported as warnings).
    #[serde(skip)]
    pub warnings: Vec<String>,
    /// How many of `warnings`, at their end, are the framework profile's on this GPU (they do
    /// not depend on the counts a sweep retargets).
    #[serde(skip)]
    profile_warnings: usize,
    /// The spec this scenario was resolved from, every default filled in (see
    /// [`Scenario::resolved_spec`]).
    #[serde(skip)]
    resolved: Spec,
}

/// What a run's profile was refitted on (issue 21 item 4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Anchor {
    /// A measured time of this input without reduction (`--anchor-ms`): the baseline is that
    /// measurement, reproduced exactly.
    Baseline,
    /// Measured rows of a file (`--anchor FILE`): the baseline is predicted.
    Rows,
}

impl CostModelKind {
    /// The prune timing a cost model uses unless told otherwise: `llm-viewer` counts as the
    /// paper did, so it stays exact.
    pub(crate) fn default_prune_timing(self) -> PruneTiming {
        match self {
            CostModelKind::LlmViewer => PruneTiming::Paper,
            CostModelKind::Refined => PruneTiming::Code,
        }
    }

    /// Whether attention is fused unless told otherwise: the paper ran eager attention.
    pub(crate) fn default_flash_attention(self) -> bool {
        match self {
            CostModelKind::LlmViewer => false,
            CostModelKind::Refined => true,
        }
    }
}

impl Scenario {
    /// Loads presets/files and checks every setting once.
    pub fn from_spec(spec: &Spec) -> Result<Scenario> {
        let model = spec.model.load()?;
        let gpu = spec.gpu.load()?;
        let schedule = spec.schedule.load()?;
        let framework = spec.framework.load()?;
        Scenario::from_loaded(
            spec,
            Arc::new(model),
            Arc::new(gpu),
            Arc::new(schedule),
            &framework,
        )
    }

    /// [`Scenario::from_spec`] with the model, GPU, schedule and framework already loaded from
    /// `spec.model`, `spec.gpu`, `spec.schedule` and `spec.framework` (a sweep loads each
    /// preset once, not once per row).
    pub fn from_loaded(
        spec: &Spec,
        model: Arc<Model>,
        gpu: Arc<Gpu>,
        schedule: Arc<Schedule>,
        framework: &Framework,
    ) -> Result<Scenario> {
        Scenario::from_loaded_planned(spec, model, gpu, schedule, framework).map(|(s, _)| s)
    }

    /// [`Scenario::from_loaded`] and the token plan it checked ([`Scenario::plan`]): a sweep
    /// prices with that plan instead of computing it again.
    pub(crate) fn from_loaded_planned(
        spec: &Spec,
        model: Arc<Model>,
        mut gpu: Arc<Gpu>,
        schedule: Arc<Schedule>,
        framework: &Framework,
    ) -> Result<(Scenario, TokenPlan)> {
        let args = spec;
        if args.tokens.is_some() && args.frames.is_some() {
            return Err(Error::invalid(
                format!("give either tokens or frames, not both ({TOKENS} N means N / tokens-per-frame frames)"),
            ));
        }
        if args.prune_start.is_some() != args.prune_end.is_some() {
            return Err(Error::invalid(format!(
                "{PRUNE_START} and {PRUNE_END} go together: give both (l1 and l2)"
            )));
        }
        if args.prune_step.is_some() && args.prune_start.is_none() {
            return Err(Error::invalid(format!(
                "{PRUNE_STEP} overrides the step of {PRUNE_START}/{PRUNE_END}: give those too"
            )));
        }
        if args.layer_tokens.is_some() {
            let replaced = [
                (PRUNE_START, args.prune_start.is_some()),
                (
                    MERGE_TOKENS_PER_FRAME,
                    args.merge_tokens_per_frame.is_some(),
                ),
                (MERGE_KEEP_RATIO, args.merge_keep_ratio.is_some()),
            ];
            if let Some((flag, _)) = replaced.iter().find(|(_, given)| *given) {
                return Err(Error::invalid(format!(
                    "{LAYER_TOKENS} replaces the whole schedule, so {flag} would be ignored: give one or the other"
                )));
            }
        }
        if args.merge_tokens_per_frame.is_some() && args.merge_keep_ratio.is_some() {
            return Err(Error::invalid(format!(
                "give either {MERGE_TOKENS_PER_FRAME} or {MERGE_KEEP_RATIO}, not both"
            )));
        }
        for (flag, value) in [
            (TEXT_TOKENS, Some(args.text_tokens)),
            (BATCH, Some(args.batch)),
            (TP, Some(args.tp)),
            (TOKENS, args.tokens),
            (TOKENS_PER_FRAME, args.tokens_per_frame),
            (MERGE_TOKENS_PER_FRAME, args.merge_tokens_per_frame),
        ] {
            if value == Some(0) {
                return Err(Error::invalid(format!("{flag} must be at least 1")));
            }
        }
        let resolved_schedule =
            preset_or_inline(&spec.schedule, crate::presets::SCHEDULES, &schedule);
        let mut schedule = schedule;
        apply_overrides(&mut schedule, args)?;

        let (input, vision_input) = resolve_input(&model, args)?;
        let precision = resolve_precision(args)?;
        if args.batch > MAX_BATCH {
            return Err(Error::invalid(format!(
                "{BATCH} {} is too large (at most {MAX_BATCH})",
                args.batch
            )));
        }
        if let Some(list) = &args.layer_tokens {
            check_layer_tokens(list, model.num_layers)?;
            check_layer_tokens_fit(list, &input)?;
        }
        check_refined_flags(args, &model, &gpu, &input)?;
        let flash_attention = match args.attention {
            Some(AttentionImpl::Flash) => true,
            Some(AttentionImpl::Eager) => false,
            None => args.cost_model.default_flash_attention(),
        };
        // The vision tower's attention: the run's, else the stack's (profile), else the LLM's.
        let vision_attention = args.vision_attention.or(framework.vision_attention);
        // A MoE layer's experts: the run's, else, under a stack that runs the model's
        // transformers code op by op, what that code does (`[moe] eager_experts`), else fused.
        let experts = model.moe.as_ref().and_then(|m| {
            args.experts
                .or(framework.eager_dispatch.then_some(m.eager_experts))
        });
        let prune_timing = args
            .prune_timing
            .unwrap_or_else(|| args.cost_model.default_prune_timing());
        // The preset this GPU is: named as one, or a file (inline definition) whose `name` or
        // `aliases` are a preset's (a copy of its file, a calibrated profile of it): the same
        // device, so a framework profile's values fitted for it apply.
        let gpu_preset = match &spec.gpu {
            Definition::Name(n) => crate::presets::canonical(n, crate::presets::GPUS),
            _ => None,
        }
        .or_else(|| {
            crate::presets::gpu_preset_of(
                std::iter::once(gpu.name.as_str()).chain(gpu.aliases.iter().map(String::as_str)),
            )
        });
        // As loaded, before a framework profile replaces its `[efficiency]` table: what the
        // resolved spec records, so a replay applies the profile to the file's own GPU again.
        let resolved_gpu = preset_or_inline(&spec.gpu, crate::presets::GPUS, &gpu);
        if let Some(on) = framework
            .anchored_gpu
            .as_deref()
            .filter(|on| *on != gpu.name)
        {
            return Err(Error::invalid(format!(
                "framework {} was refitted to a measurement on the {on} (an anchored run's profile): its figures and interval are that GPU's, not the {}'s; keep the anchored run's {GPU}, or give {FRAMEWORK} {} to price this GPU without the anchor",
                framework.name, gpu.name, framework.name
            )));
        }
        let mut framework_notes = Vec::new();
        let mut profile_warnings = Vec::new();
        if let Some((g, table)) = gpu_preset.and_then(|g| Some((g, framework.near_miss_table(g)?)))
        {
            profile_warnings.push(format!(
                "framework {}: no [gpu.{g}] table, but a [gpu.{table}] one, which no GPU preset is named: a typo? This run takes the pooled values, not that table's; rename the table to [gpu.{g}]",
                framework.name
            ));
        }
        // The profile's table for this GPU: a preset's, else one named as a GPU file names its
        // device (`fit` keys the tables of a file's GPU so; they were written and never used).
        let own_table = match gpu_preset {
            None if framework.gpu.contains_key(&gpu.name) => Some(gpu.name.clone()),
            _ => None,
        };
        let table_gpu = gpu_preset.or(own_table.as_deref());
        let mut spread = None;
        if let Some((efficiency, notes)) =
            framework.efficiency_for(table_gpu, gpu.host(), precision.uses_int8_peak())
        {
            if args.cost_model == CostModelKind::LlmViewer {
                return Err(Error::invalid(format!(
                    "{FRAMEWORK} {} times real runs, which only the refined cost model prices: drop {FRAMEWORK} or use {COST_MODEL} refined",
                    framework.name
                )));
            }
            if let Some(own) = gpu.efficiency.as_ref().filter(|e| !from_a_profile(e)) {
                profile_warnings.push(replaced_table_warning(&gpu.name, own, &efficiency));
            }
            Arc::make_mut(&mut gpu).efficiency = Some(efficiency);
            framework_notes = notes;
            if precision.tensor_path(&gpu) == TensorPath::Fp4 {
                let used = match gpu.efficiency.as_ref().and_then(|e| e.matmul_8bit) {
                    Some(_) => "the 8-bit one (matmul_8bit)",
                    None => "the 16-bit one (matmul; no 8-bit one was fitted either)",
                };
                framework_notes.push(format!(
                    "framework {}: no 4-bit GEMM efficiency fitted (no measured 4-bit rows); {used} is used",
                    framework.name
                ));
            }
            let moe = model.moe.is_some();
            // Its own values on this GPU, GEMMs at this precision included: else a new GPU's σ.
            let fitted = framework.fitted_for(table_gpu)
                && framework.gemm_fitted_for(table_gpu, precision.uses_int8_peak());
            spread = framework.spread.map(|s| s.for_model(moe).for_gpu(fitted));
            if moe {
                framework_notes.extend(framework.spread.and_then(|s| s.moe_note(&framework.name)));
            }
            framework_notes.extend(
                framework
                    .spread
                    .and_then(|s| s.coverage_note(&framework.name)),
            );
        }
        framework_notes.extend(gpu_notes(&gpu, &precision));
        // What an anchor refitted the profile on (the anchored run's note, and its replay's).
        framework_notes.extend(framework.anchor_notes.as_ref().map(|a| a.refitted.clone()));
        let resolved = Spec {
            model: preset_or_inline(&spec.model, crate::presets::MODELS, &model),
            gpu: resolved_gpu,
            schedule: resolved_schedule,
            framework: preset_or_inline(&spec.framework, crate::presets::FRAMEWORKS, framework),
            tokens: None,
            // A video's frames are the sampled frames (the LLM sees their temporal groups).
            frames: Some(
                vision_input
                    .filter(|g| g.video)
                    .map_or(input.frames, |g| g.sampled_frames),
            ),
            video_seconds: None,
            fps: None,
            video_size: vision_input
                .filter(|g| g.video)
                .map(|g| Resolution {
                    width: g.width,
                    height: g.height,
                })
                .or(spec.video_size),
            tokens_per_frame: Some(input.tokens_per_frame),
            prune_timing: Some(prune_timing),
            attention: Some(if flash_attention {
                AttentionImpl::Flash
            } else {
                AttentionImpl::Eager
            }),
            kv_bits: Some(precision.kv_bits),
            vision_attention,
            ..spec.clone()
        };
        let scenario = Scenario {
            input,
            layer_tokens_override: args.layer_tokens.clone(),
            options: RunOptions {
                batch: args.batch,
                precision,
                flash_attention,
                vision_flash_attention: vision_attention.map(|a| a == AttentionImpl::Flash),
                experts,
                selection: args.selection,
                skip_mlp_add: args.skip_mlp_add,
                include_vision: args.include_vision,
                gen_tokens: args.gen_tokens,
                tp: args.tp,
                all_logits: args.all_logits,
                importance_kernel: args.importance_kernel,
                vision_input,
            },
            cost_model: args.cost_model,
            prune_timing,
            framework: framework.name.clone(),
            gpu_preset,
            framework_notes,
            spread,
            // A profile an anchor refitted, replayed from a run's JSON: still anchored (the
            // anchored run itself sets the kind it was refitted on).
            anchor: spread.filter(|s| s.anchored).map(|_| Anchor::Rows),
            anchor_run_note: framework
                .anchor_notes
                .as_ref()
                .and_then(|a| a.scaled.clone()),
            profile_warnings: profile_warnings.len(),
            warnings: input_warnings(args, &model)
                .into_iter()
                .chain(profile_warnings)
                .collect(),
            model,
            gpu,
            schedule,
            resolved,
        };
        // Surface schedule/model mismatches (merge larger than a frame, l1 beyond the last
        // layer, explicit lists of the wrong length) now, as input errors.
        let plan = scenario.plan()?;
        Ok((scenario, plan))
    }

    /// What the cost models price against: this scenario's model, GPU and run options.
    pub fn context(&self) -> Context<'_> {
        Context {
            model: &self.model,
            gpu: &self.gpu,
            options: &self.options,
        }
    }

    /// The spec with every default resolved: frames and tokens per frame explicit, prune timing,
    /// attention and KV bits filled in; presets by name, files inline (so the replay does not
    /// depend on the file still being there). `Scenario::from_spec(&s.resolved_spec())`
    /// reproduces `s`.
    pub fn resolved_spec(&self) -> &Spec {
        &self.resolved
    }

    /// Whether the GPU's `[efficiency]` table holds a framework profile's values (fitted to
    /// published times of a software stack), not the GPU file's own measured table.
    pub fn framework_priced(&self) -> bool {
        self.gpu.efficiency.as_ref().is_some_and(from_a_profile)
    }

    /// The framework as a reader names it: the name or path the spec gave, else an inline
    /// profile's own name (an anchor's refit is inline), marked when an anchor refitted it.
    pub fn framework_label(&self) -> String {
        match (&self.resolved.framework, self.anchor) {
            (crate::spec::Definition::Name(n), None) => n.clone(),
            _ => self.profile_name(),
        }
    }

    /// The profile's own name, marked when an anchor refitted it (`hf (anchored)`): what
    /// budget and serve answers name beside their figures.
    pub fn profile_name(&self) -> String {
        match self.anchor {
            Some(_) => format!("{} (anchored)", self.framework),
            None => self.framework.clone(),
        }
    }

    /// The LLM's frames as a reader counts them: `4 frames in 2 temporal groups` for a video
    /// whose tower groups frames (Qwen-VL: 2 sampled frames a group), else `N frame(s)`. The
    /// groups alone read as frames against the `--frames` given.
    pub fn frames_phrase(&self) -> String {
        match self
            .options
            .vision_input
            .filter(|v| v.video && v.sampled_frames != v.frames)
        {
            Some(v) => format!(
                "{} frames in {} temporal group(s)",
                v.sampled_frames, v.frames
            ),
            None => format!("{} frame(s)", self.input.frames),
        }
    }

    /// The sequence length of every layer under the schedule, or the explicit
    /// `--layer-tokens` list, which replaces the whole schedule (no merging is priced; a
    /// schedule TOML with `kind = "explicit"` combines merging with per-layer counts).
    pub fn plan(&self) -> Result<TokenPlan> {
        let plan = self
            .schedule
            .plan(self.model.num_layers, &self.input, self.prune_timing)?;
        Ok(match &self.layer_tokens_override {
            Some(list) => TokenPlan {
                merged_tokens_per_frame: self.input.tokens_per_frame,
                merged_visual_tokens: self.input.visual_tokens(),
                layer_tokens: list.clone(),
            },
            None => plan,
        })
    }

    /// What the cost model prices for `plan`: the input before merging and how pruning is decided.
    pub fn workload<'a>(&self, plan: &'a TokenPlan) -> Workload<'a> {
        let linear = matches!(self.schedule.prune, Some(Prune::Linear { .. }));
        Workload {
            layer_tokens: &plan.layer_tokens,
            input: self.input,
            merged_tokens_per_frame: plan.merged_tokens_per_frame,
            // `--layer-tokens` replaces the schedule: its drops keep the counts given and price
            // only the gather of the kept tokens (a method's own scoring is its `selection`).
            // Until 2026-12-06 the default importance, AIM's PageRank, was priced at them.
            importance: match (&self.layer_tokens_override, &self.schedule.prune) {
                (Some(_), _) | (None, None) => Importance::None,
                (None, Some(prune)) => prune.importance(),
            },
            // Only the linear rule is shifted by the timing (schedule.rs, `plan`).
            decision: if self.prune_timing == PruneTiming::Paper && linear {
                PruneDecision::AtDrop
            } else {
                PruneDecision::BeforeDrop
            },
            selection: self.options.selection,
        }
    }

    /// The baseline's workload: the same input, no merging, no pruning.
    pub(crate) fn baseline_workload<'a>(&self, layer_tokens: &'a [u64]) -> Workload<'a> {
        Workload {
            layer_tokens,
            input: self.input,
            merged_tokens_per_frame: self.input.tokens_per_frame,
            importance: Importance::None,
            decision: PruneDecision::BeforeDrop,
            selection: None,
        }
    }

    /// Every layer at full length: the same input with no reduction.
    pub(crate) fn baseline_tokens(&self) -> Vec<u64> {
        vec![self.input.visual_tokens() + self.input.text_tokens; self.model.num_layers as usize]
    }
}

/// How a resolved run records a definition: a preset by its own name (however it was typed:
/// `H100`, a hub id, a device name), anything else inline, so the run replays without the file.
fn preset_or_inline<T: Clone>(
    given: &Definition<T>,
    presets: &[crate::presets::Preset],
    loaded: &T,
) -> Definition<T> {
    match given {
        Definition::Name(n) => match crate::presets::canonical(n, presets) {
            Some(name) => Definition::Name(name.to_string()),
            None => Definition::Inline(Box::new(loaded.clone())),
        },
        Definition::Inline(_) => Definition::Inline(Box::new(loaded.clone())),
    }
}

/// Whether an `[efficiency]` table is a framework profile's (a run's JSON written before the
/// resolved spec kept the GPU as loaded carries the profile's values inline), not measured.
fn from_a_profile(e: &Efficiency) -> bool {
    e.source
        .as_deref()
        .is_some_and(|s| s.starts_with("framework "))
}

/// The warning of a run whose framework profile replaced the GPU file's own `[efficiency]`
/// table (measured by `calibrate`, or written by hand): which values the run used, and how to
/// price with the file's own. It once did so silently, the `timing:` line its only trace.
fn replaced_table_warning(gpu: &str, own: &Efficiency, used: &Efficiency) -> String {
    format!(
        "{} is used, not the [efficiency] table of the GPU file of '{gpu}' (matmul {:.3}, attention {:.3}, element-wise {:.3}, {:.2} µs launch overhead): a framework profile replaces a GPU file's own table; to price with that table, run without a framework profile (roofline, the default)",
        used.source.as_deref().unwrap_or("the framework profile"),
        own.matmul,
        own.attention,
        own.elementwise,
        own.launch_overhead_s * 1e6
    )
}

/// The overrides' own checks, naming the options given: the schedule's validation names its
/// file's keys (`merge.keep_ratio = 0 must be in (0, 1]`, `prune end = 10 must be greater than
/// start = 20`), which the user did not write.
fn check_overrides(args: &Spec) -> Result<()> {
    if let Some(x) = args.merge_keep_ratio {
        if !(x.is_finite() && x > 0.0 && x <= 1.0) {
            return Err(Error::invalid(format!(
                "{MERGE_KEEP_RATIO} {} must be in (0, 1]: the share of each frame's tokens merging keeps",
                crate::error::bounded(x)
            )));
        }
    }
    if args.merge_tokens_per_frame == Some(0) {
        return Err(Error::invalid(format!(
            "{MERGE_TOKENS_PER_FRAME} must be at least 1: the tokens merging keeps per frame"
        )));
    }
    if let (Some(start), Some(end)) = (args.prune_start, args.prune_end) {
        if end <= start {
            return Err(Error::invalid(format!(
                "{PRUNE_END} {end} must be greater than {PRUNE_START} {start}: pruning runs from the start layer to a later end layer (l1 < l2)"
            )));
        }
    }
    // The schedule's check said "prune step = 2", a key the user did not write.
    if let Some(s) = args.prune_step {
        if !(s.is_finite() && (crate::schedule::MIN_PRUNE_STEP..=1.0).contains(&s)) {
            return Err(Error::invalid(format!(
                "{PRUNE_STEP} {} must be between {:e} and 1: the share of the visual tokens each layer from {PRUNE_START} to {PRUNE_END} removes",
                crate::error::bounded(s),
                crate::schedule::MIN_PRUNE_STEP
            )));
        }
    }
    Ok(())
}

/// `--merge-*` and `--prune-*` flags replace the schedule's own tables.
fn apply_overrides(schedule: &mut Arc<Schedule>, args: &Spec) -> Result<()> {
    let merge = args.merge_tokens_per_frame.is_some() || args.merge_keep_ratio.is_some();
    let prune = args.prune_start.is_some() && args.prune_end.is_some();
    if !merge && !prune {
        return Ok(());
    }
    check_overrides(args)?;
    let schedule = Arc::make_mut(schedule);
    let mut changed = false;
    if merge {
        schedule.merge = Some(Merge {
            tokens_per_frame: args.merge_tokens_per_frame,
            keep_ratio: args.merge_keep_ratio,
        });
        changed = true;
    }
    if let (Some(start), Some(end)) = (args.prune_start, args.prune_end) {
        schedule.prune = Some(Prune::Linear {
            start,
            end,
            step: args.prune_step,
            // Keep the schedule's own importance rule when only the layers change.
            importance: schedule.prune.as_ref().and_then(Prune::importance_key),
        });
        // Layers given on the command line are absolute, never scaled.
        schedule.scale_to_layers = None;
        changed = true;
    }
    if changed {
        schedule.name = format!("{}{OVERRIDDEN}", schedule.name);
        schedule
            .validate()
            .map_err(|m| Error::invalid(format!("schedule overrides: {m}")))?;
    }
    Ok(())
}

/// Patches and tokens of the input in a resolution-aware vision tower: `--image-size` (or the
/// model's default image), or `--video-size` with `--frames` sampled frames or
/// `--video-seconds` at `--fps`. `None` for other models, where those flags are errors.
fn vision_geometry(model: &Model, args: &Spec) -> Result<Option<VisionInput>> {
    // First, whatever the model: a rate alone once passed unread on a model without a
    // resolution-aware tower (the parser's check is gone: a run file may hold the length).
    if args.fps.is_some() && args.video_seconds.is_none() {
        return Err(Error::invalid(format!(
            "{FPS} samples {VIDEO_SECONDS}: give {VIDEO_SECONDS} too (or {FRAMES} alone)"
        )));
    }
    let rule = model
        .vision
        .as_ref()
        .and_then(|v| Some((v, v.resize.as_ref()?, v.patch_shape()?)));
    let Some((v, resize, shape)) = rule else {
        let given = [
            (IMAGE_SIZE, args.image_size.is_some()),
            (VIDEO_SIZE, args.video_size.is_some()),
            (VIDEO_SECONDS, args.video_seconds.is_some()),
        ];
        if let Some((flag, _)) = given.iter().find(|(_, on)| *on) {
            return Err(Error::invalid(format!(
                "{flag}: model '{}' has no resolution-aware vision tower (every frame yields {} tokens): drop it, or give {TOKENS_PER_FRAME}",
                model.name, model.tokens_per_frame
            )));
        }
        return Ok(None);
    };
    if args.image_size.is_some() && args.video_size.is_some() {
        return Err(Error::invalid(format!(
            "give either {IMAGE_SIZE} or {VIDEO_SIZE}, not both (one input is an image or a video)"
        )));
    }
    if args.video_seconds.is_some() && (args.frames.is_some() || args.tokens.is_some()) {
        return Err(Error::invalid(
            format!("{VIDEO_SECONDS} sets the frame count: drop {FRAMES} / {TOKENS}, or drop {VIDEO_SECONDS}"),
        ));
    }
    let video = args.video_size.is_some() || args.video_seconds.is_some();
    if video && args.tokens.is_some() {
        return Err(Error::invalid(
            format!("{TOKENS} with {VIDEO_SIZE}: the tokens per frame depend on the frame count, so give {FRAMES} (sampled frames) instead"),
        ));
    }
    let size = args
        .video_size
        .or(args.image_size)
        .unwrap_or_else(|| resize.default_size());
    let frames = match (args.video_seconds, args.frames) {
        (Some(secs), _) => {
            if !(secs.is_finite() && secs > 0.0)
                || args.fps.is_some_and(|f| !(f.is_finite() && f > 0.0))
            {
                return Err(Error::invalid(format!(
                    "{VIDEO_SECONDS} and {FPS} must be positive numbers"
                )));
            }
            crate::model::vision::sampled_frames(resize, shape, secs, args.fps)
                .map_err(Error::invalid)?
        }
        (None, Some(f)) => f,
        (None, None) => model.default_frames,
    };
    let what = if video { VIDEO_SIZE } else { IMAGE_SIZE };
    v.input(Media {
        video,
        size,
        frames,
    })
    .map_err(|m| Error::invalid(format!("{what} {size}: {m}")))
}

/// Frames and tokens per frame from `--tokens` / `--frames` / `--tokens-per-frame`, and the
/// resolution of a resolution-aware tower (an explicit `--tokens-per-frame` wins over it for the
/// LLM; without an image size the encoder then sees the patches of those tokens).
fn resolve_input(model: &Model, args: &Spec) -> Result<(VisualInput, Option<VisionInput>)> {
    let mut geometry = vision_geometry(model, args)?;
    let per_frame = args
        .tokens_per_frame
        .or(geometry.map(|g| g.tokens_per_frame))
        .unwrap_or(model.tokens_per_frame);
    let (frames, tokens_per_frame) = match (args.tokens, args.frames) {
        // "--tokens alone means N / P frames when it divides, else one frame of N tokens".
        (Some(n), _) if n % per_frame == 0 => (n / per_frame, per_frame),
        (Some(n), _) => (1, n),
        (None, _) if geometry.is_some_and(|g| g.video) => {
            (geometry.map_or(0, |g| g.frames), per_frame)
        }
        (None, Some(f)) => (f, per_frame),
        (None, None) => (model.default_frames, per_frame),
    };
    if let Some(g) = &mut geometry {
        let given_size = g.video || args.image_size.is_some();
        if g.tokens_per_frame != tokens_per_frame && !given_size {
            // Tokens given per image, and no image: the encoder sees the patches of those
            // tokens, not the model's default image's. (Beside a given image or video size the
            // tokens are what enters the LLM and the encoder sees the given size.)
            let shaped = match &model.vision {
                Some(v) => v.input_for_tokens(tokens_per_frame, frames).map_err(|m| {
                    Error::invalid(format!("{TOKENS_PER_FRAME} {tokens_per_frame}: {m}"))
                })?,
                None => None,
            };
            if let Some(shaped) = shaped {
                *g = shaped;
            }
        } else if !g.video {
            (g.frames, g.sampled_frames) = (frames, frames);
        }
    }
    let visual = frames.saturating_mul(tokens_per_frame);
    let total = visual.saturating_add(args.text_tokens);
    if total > MAX_TOKENS {
        return Err(Error::invalid(format!(
            "{frames} frames × {tokens_per_frame} tokens + {} text tokens = {} tokens exceeds the limit of {MAX_TOKENS}: use fewer frames or tokens",
            args.text_tokens,
            if visual == u64::MAX { "more than 2^64".to_string() } else { total.to_string() }
        )));
    }
    Ok((
        VisualInput {
            frames,
            tokens_per_frame,
            text_tokens: args.text_tokens,
        },
        geometry,
    ))
}

fn resolve_precision(args: &Spec) -> Result<Precision> {
    let p = Precision {
        w_bits: args.w_bits,
        a_bits: args.a_bits,
        kv_bits: args.kv_bits.unwrap_or(args.a_bits),
    };
    for (flag, bits) in [(W_BITS, p.w_bits), (A_BITS, p.a_bits), (KV_BITS, p.kv_bits)] {
        if !Precision::SUPPORTED_BITS.contains(&bits) {
            return Err(Error::invalid(format!(
                "{flag} {bits} is not supported: use one of {:?}",
                Precision::SUPPORTED_BITS
            )));
        }
    }
    Ok(p)
}

/// A per-layer list: one count per layer, at least one token each (a run file or measurement
/// row once ran a layer of 0 tokens, where the command line refused 0).
fn check_layer_tokens(list: &[u64], layers: u64) -> Result<()> {
    if list.len() as u64 != layers {
        return Err(Error::invalid(format!(
            "{LAYER_TOKENS} has {} values but the model has {layers} layers: give one per layer",
            list.len()
        )));
    }
    if let Some((i, v)) = list.iter().enumerate().find(|(_, &v)| v == 0) {
        return Err(Error::invalid(format!(
            "{LAYER_TOKENS} value {v} at layer {i}: a layer holds at least one token"
        )));
    }
    if let Some(v) = list.iter().find(|&&v| v > MAX_TOKENS) {
        return Err(Error::invalid(format!(
            "{LAYER_TOKENS} value {v} exceeds the limit of {MAX_TOKENS} tokens"
        )));
    }
    Ok(())
}

/// An explicit list cannot hold more tokens in a layer than the input has (it was a warning:
/// "the schedule keeps tokens it was not given", beside a priced, impossible run); a
/// measurement row's `layer_tokens` was already refused (check's `layer_beyond_prompt`).
fn check_layer_tokens_fit(list: &[u64], input: &VisualInput) -> Result<()> {
    let prompt = input.visual_tokens().saturating_add(input.text_tokens);
    match list.iter().enumerate().find(|(_, &n)| n > prompt) {
        Some((i, n)) => Err(Error::invalid(format!(
            "{LAYER_TOKENS} value {n} at layer {i} is more than the input's {prompt} tokens \
             ({} visual + {TEXT_TOKENS} {}): a layer cannot hold tokens the input does not \
             have; give at most {prompt}, or a larger input",
            input.visual_tokens(),
            input.text_tokens
        ))),
        None => Ok(()),
    }
}

/// Largest `--gen-tokens` accepted.
const MAX_GEN_TOKENS: u64 = 1_000_000;

/// Flags only the refined model prices, and their consistency with the model and GPU.
fn check_refined_flags(args: &Spec, model: &Model, gpu: &Gpu, input: &VisualInput) -> Result<()> {
    if args.cost_model == CostModelKind::LlmViewer {
        let used = [
            (INCLUDE_VISION, args.include_vision),
            (GEN_TOKENS, args.gen_tokens > 0),
            (TP, args.tp > 1),
            (ALL_LOGITS, args.all_logits),
            (EXPERTS, args.experts.is_some()),
            (SELECTION, args.selection.is_some()),
            (
                IMPORTANCE_KERNEL,
                args.importance_kernel == crate::cost::ImportanceKernel::Fused,
            ),
        ];
        if let Some((key, _)) = used.iter().find(|(_, on)| *on) {
            let flag = match *key {
                IMPORTANCE_KERNEL => format!("{key} fused"),
                key => key.to_string(),
            };
            return Err(Error::invalid(format!(
                "{flag} is priced only by the refined cost model: drop it or use {COST_MODEL} refined"
            )));
        }
    }
    if let (Some(method), Some(layers)) = (args.selection, &args.layer_tokens) {
        if method.inside_llm() && !layers.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::invalid(format!(
                "{SELECTION} {}: prices the method's work at each layer where {LAYER_TOKENS} drops, and it never drops: give the per-layer counts its schedule keeps",
                crate::choice::Choice::name(method)
            )));
        }
    }
    if args.selection.is_some_and(|m| !m.inside_llm()) {
        // The selection keeps layer 0's visual tokens out of the input's.
        let visual = input.visual_tokens();
        let kept = args
            .layer_tokens
            .as_ref()
            .and_then(|layers| layers.first())
            .map(|&n| n.saturating_sub(input.text_tokens));
        match kept {
            None => {
                return Err(Error::invalid(format!(
                    "{SELECTION} prices a method's choice of the tokens layer 0 keeps: give {LAYER_TOKENS} (its first entry less the text tokens is the kept count)"
                )))
            }
            Some(_) if visual < 2 => {
                return Err(Error::invalid(format!(
                    "{SELECTION} chooses which of the input's visual tokens layer 0 keeps, and the input has {visual}: a selection needs visual tokens to select from; give {FRAMES} (or {TOKENS}), or drop {SELECTION}"
                )))
            }
            Some(k) if k == 0 || k >= visual => {
                return Err(Error::invalid(format!(
                    "{SELECTION}: {LAYER_TOKENS}' first entry keeps {k} of the input's {visual} visual tokens, nothing to select: give a first entry between {} and {}",
                    input.text_tokens + 1,
                    input.text_tokens + visual - 1
                )))
            }
            Some(_) => {}
        }
    }
    // TReVS's code cuts once inside the LLM (its second stage, before one layer).
    if args.selection == Some(crate::selection::Selection::TReVS) {
        let drops = args.layer_tokens.as_ref().map_or(0, |layers| {
            layers.windows(2).filter(|w| w[1] < w[0]).count()
        });
        if drops != 1 {
            return Err(Error::invalid(format!(
                "{SELECTION} trevs prices TReVS's code, which selects before the LLM and cuts once inside it, and {LAYER_TOKENS} drops {drops} times: give counts that drop once (e.g. K1 + text for layers 0-7, K1/3 + text after)"
            )));
        }
    }
    // FastVID's segmentation takes the 7 least similar of its frames' neighbours as cuts.
    if args.selection == Some(crate::selection::Selection::FastVid) && input.frames < 8 {
        return Err(Error::invalid(format!(
            "{SELECTION} fastvid prices FastVID's code, which cuts a video into at least 8 segments, and the input has {} frame(s): give 8 frames or more",
            input.frames
        )));
    }
    // FlowCut's released code prunes inside LLaVA's CLIP ViT-L/14: its ops and schedule are
    // that tower's.
    if args.selection == Some(crate::selection::Selection::FlowCut)
        && !model
            .vision
            .as_ref()
            .is_some_and(crate::cost::refined::flowcut_fits_tower)
    {
        return Err(Error::invalid(format!(
            "{SELECTION} flowcut prices FlowCut's LLaVA code, which prunes inside CLIP ViT-L/14 (24 layers, a CLS token), and model '{}' has {}: use a LLaVA-1.5 or LLaVA-NeXT model, or another method",
            model.name,
            model
                .vision
                .as_ref()
                .map_or("no vision tower".to_string(), |v| v.name.clone())
        )));
    }
    if args.cost_model == CostModelKind::Refined && args.skip_mlp_add {
        return Err(Error::invalid(
            format!("{SKIP_MLP_ADD} reproduces a quirk of the paper's accounting: use it with {COST_MODEL} llm-viewer (refined always counts both residual adds)"),
        ));
    }
    if args.include_vision && model.vision.is_none() {
        return Err(Error::invalid(format!(
            "{INCLUDE_VISION}: model '{}' has no vision tower aim-sim can price (a text-only model, or a Hugging Face vision_config of a family it does not read; a TOML model file takes a [vision] table): drop {INCLUDE_VISION}, or give a vision-language model",
            model.name
        )));
    }
    if args.gen_tokens > 0 {
        let g = args.gen_tokens;
        let context = input.visual_tokens() + input.text_tokens;
        if g > MAX_GEN_TOKENS || context.saturating_add(g) > MAX_TOKENS {
            return Err(Error::invalid(format!(
                "{GEN_TOKENS} {g} is too many (at most {MAX_GEN_TOKENS}, and prompt + generated at most {MAX_TOKENS})"
            )));
        }
    }
    let tp = args.tp;
    if tp > 1 {
        for (what, value) in [
            ("attention heads", model.num_heads),
            ("KV heads", model.kv_heads()),
            ("intermediate size", model.intermediate_size),
        ] {
            if value % tp != 0 {
                return Err(Error::invalid(format!(
                    "{TP} {tp} does not divide the model's {value} {what}: use a common divisor of {} heads, {} KV heads and {} (intermediate size)",
                    model.num_heads,
                    model.kv_heads(),
                    model.intermediate_size
                )));
            }
        }
        if let Some(m) = &model.moe {
            for (what, value) in [
                ("expert intermediate size", m.expert_intermediate_size),
                (
                    "shared-expert intermediate size",
                    m.shared_intermediate_size,
                ),
            ] {
                if value % tp != 0 {
                    return Err(Error::invalid(format!(
                        "{TP} {tp} does not divide the model's {value} {what}: every GPU holds a slice of each expert, so use a divisor of {value}"
                    )));
                }
            }
        }
        if gpu.os_memory_bytes.is_some() && gpu.interconnect_bandwidth.is_none() {
            return Err(Error::invalid(format!(
                "{TP} {tp}: {} is a single system-on-chip with no GPU-to-GPU link: use {TP} 1",
                gpu.name
            )));
        }
        if gpu.interconnect_bandwidth.is_none() {
            return Err(Error::invalid(format!(
                "{TP} {tp} needs 'interconnect_bandwidth' (bytes/s per direction) in the GPU file of {}",
                gpu.name
            )));
        }
    }
    Ok(())
}

/// What the GPU makes of this run, one note each: which tensor path 4-bit GEMMs take, and the
/// operating system's share of a memory shared with the CPU.
fn gpu_notes(gpu: &Gpu, precision: &Precision) -> Vec<String> {
    let mut notes = Vec::new();
    if precision.w_bits <= 4 && precision.a_bits <= 4 {
        let path = precision.tensor_path(gpu);
        let on = match path {
            TensorPath::Fp16 => {
                format!("16-bit path, fp16_peak {:.0} TFLOP/s", gpu.fp16_peak / 1e12)
            }
            TensorPath::Int8 => format!("8-bit path, int8_peak {:.0} TOP/s", gpu.int8_peak / 1e12),
            TensorPath::Fp4 => format!(
                "FP4 tensor path (NVFP4/MXFP4), fp4_peak {:.0} TFLOP/s",
                path.peak(gpu) / 1e12
            ),
        };
        notes.push(if path == TensorPath::Fp4 {
            format!(
                "4-bit: {} runs the GEMMs of weights and activations at <= 4 bits on its {on}",
                gpu.name
            )
        } else if gpu.fp4_peak.is_some() {
            format!(
                "4-bit: --kv-bits {} is above 4, so the GEMMs run on the {on} (the FP4 path needs every width <= 4, as the 8-bit one needs every width <= 8)",
                precision.kv_bits
            )
        } else {
            format!(
                "4-bit: {} has no 4-bit tensor path (no fp4_peak), so the 4-bit GEMMs are priced on its {on} (the LLM-Viewer convention the paper used)",
                gpu.name
            )
        });
    }
    if let Some(os) = gpu.os_memory_bytes {
        notes.push(format!(
            "shared memory: {} shares its {:.1} GB with the CPU; {:.1} GB is assumed held by the OS (os_memory_bytes in the GPU file), leaving {:.1} GB for weights, KV cache and activations",
            gpu.name,
            gpu.memory / 1e9,
            os / 1e9,
            gpu.model_memory_bytes() / 1e9
        ));
    }
    notes
}

/// Flags that are accepted but do not do what they might seem to.
pub(crate) fn input_warnings(args: &Spec, model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    // GPU files give 16- and 8-bit tensor peaks only: 32-bit GEMMs at the 16-bit peak were a
    // W32A32 run 8 % slower than W16A16 (its bytes alone), without a word.
    if args.a_bits == 32 {
        out.push(format!(
            "{A_BITS} 32: GEMMs are priced at the GPU's 16-bit tensor peak (GPU files give no FP32 or TF32 rate), only their bytes at 32 bits, so the time is a lower bound; FP32 matrix units run several times slower"
        ));
    }
    let per_frame = args.tokens_per_frame.unwrap_or(model.tokens_per_frame);
    if let Some(n) = args.tokens {
        // Issue 24: `--tokens 6272` on a model of 182 tokens per frame silently priced one
        // frame of 6272 tokens (merging within it); say so whatever set the tokens per frame.
        if per_frame > 0 && n % per_frame != 0 {
            // One text whether the model or the flag set it: a replayed run (whose spec names
            // the tokens per frame) warns the same.
            out.push(format!(
                "{TOKENS} {n} is not a multiple of {TOKENS_PER_FRAME} {per_frame}: priced as one frame of {n} tokens, merged within it; give {FRAMES}, or {TOKENS} a multiple of {per_frame}"
            ));
        }
    }
    // Visual-token reduction keeps the text: a layer below it prunes the prompt's text too,
    // which a list may mean (text-token pruning) but a typo makes silently (it once did).
    if let Some((i, v)) = args
        .layer_tokens
        .as_ref()
        .and_then(|list| list.iter().enumerate().find(|(_, &v)| v < args.text_tokens))
    {
        out.push(format!(
            "{LAYER_TOKENS} value {v} at layer {i} is below the {} text tokens: that layer prunes text too, which the schedules here never do; give at least {} there if the list counts visual + text tokens",
            args.text_tokens, args.text_tokens
        ));
    }
    // qwen-vl-utils clamps a clip's seconds × fps to the processor's frame range: a long clip
    // was priced at the maximum (3600 s at 2 fps, 7200 frames asked: 768) without a word.
    if let (Some(secs), Some((resize, shape))) = (
        args.video_seconds,
        model
            .vision
            .as_ref()
            .and_then(|v| Some((v.resize.as_ref()?, v.patch_shape()?))),
    ) {
        let fps = args.fps.or(resize.fps());
        let sampled = crate::model::vision::sampled_frames(resize, shape, secs, args.fps).ok();
        if let (Some(fps), Some(n)) = (fps, sampled) {
            let asked = secs * fps;
            // More than a temporal patch away: the clamp, not the rounding to whole patches.
            if (asked - n as f64).abs() >= shape.temporal as f64 {
                out.push(format!(
                    "{VIDEO_SECONDS} {secs} at {fps} fps asks for {} frames, but the processor of model '{}' samples {n} (its frame range clamps them, as qwen-vl-utils does): priced at {n} frames",
                    crate::error::number(asked),
                    model.name
                ));
            }
        }
    }
    if args.experts.is_some() && model.moe.is_none() {
        out.push(format!(
            "{EXPERTS}: model '{}' has no mixture-of-experts layers, so it changes nothing",
            model.name
        ));
    }
    out
}

impl Scenario {
    /// The framework profile's warnings on this GPU (a mistyped `[gpu.NAME]` table, a GPU
    /// file's own `[efficiency]` table replaced): the end of [`Scenario::warnings`], which no
    /// count a sweep varies changes.
    pub(crate) fn profile_warnings(&self) -> &[String] {
        &self.warnings[self.warnings.len() - self.profile_warnings..]
    }

    /// Makes this scenario `spec`'s, where `spec` differs from the spec it was built from
    /// ([`Scenario::from_loaded_planned`]) only in its counts: frames or tokens, tokens per
    /// frame, text tokens, batch (a sweep's rows along those axes). Recomputes what depends on
    /// them, with the same functions and checks, and returns the token plan; nothing else is
    /// rebuilt (no spec, notes or names copied, no allocation beyond the plan's).
    ///
    /// `None` when a check fails, with `self` left unusable: build the scenario afresh for the
    /// error (its text and the order of the checks are [`Scenario::from_loaded_planned`]'s).
    pub(crate) fn retarget(&mut self, spec: &Spec) -> Option<TokenPlan> {
        // The count checks of `from_loaded_planned`; what does not depend on the counts passed
        // when this scenario was built.
        let zero = [
            Some(spec.text_tokens),
            Some(spec.batch),
            spec.tokens,
            spec.tokens_per_frame,
        ]
        .contains(&Some(0));
        if zero || spec.batch > MAX_BATCH || (spec.tokens.is_some() && spec.frames.is_some()) {
            return None;
        }
        let (input, vision_input) = resolve_input(&self.model, spec).ok()?;
        // `self.gpu` may carry a framework's efficiency; the checks read only its name, memory
        // and link, which that leaves as loaded.
        check_refined_flags(spec, &self.model, &self.gpu, &input).ok()?;
        self.input = input;
        self.options.batch = spec.batch;
        self.options.vision_input = vision_input;
        let profile = self
            .warnings
            .split_off(self.warnings.len() - self.profile_warnings);
        self.warnings = input_warnings(spec, &self.model);
        self.warnings.extend(profile);
        let video = vision_input.filter(|g| g.video);
        let r = &mut self.resolved;
        r.frames = Some(video.map_or(input.frames, |g| g.sampled_frames));
        r.video_size = video
            .map(|g| Resolution {
                width: g.width,
                height: g.height,
            })
            .or(spec.video_size);
        r.tokens_per_frame = Some(input.tokens_per_frame);
        r.text_tokens = spec.text_tokens;
        r.batch = spec.batch;
        self.plan().ok()
    }
}
