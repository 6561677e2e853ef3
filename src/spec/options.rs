//! The options of a run, declared once: [`RUN`] (every option of one simulated prefill) and
//! [`AXES`] (the ones a sweep takes as lists). Plain data, no command-line types: the command
//! line builds its flags from these tables (`cli::args`), the Python binding its keywords, their
//! conflicts and checks (`python/src/options.rs`), and `tests/options.rs` walks them against
//! clap's arguments, `Spec`'s keys and the `.pyi` stub. How to add one: docs/architecture.md,
//! "How to add an option or a sweep axis".

use crate::choice::Choice;
use crate::cost::{CostModelKind, ImportanceKernel};
use crate::presets::{Preset, FRAMEWORKS, GPUS, MODELS, SCHEDULES};
use crate::schedule::PruneTiming;
use crate::spec::AttentionImpl;

/// What an option's value is, and so how it is parsed and checked (the same on the command line
/// and in Python).
#[derive(Debug, Clone, Copy)]
pub enum Kind {
    /// A run file to load as the base (`--spec`); no spec key of its own.
    RunFile,
    /// A preset name of this list, or a file path (the core resolves it).
    Preset(&'static [Preset]),
    /// A positive count (`crate::spec::parse_count`).
    Count,
    /// A count that may be 0 (`crate::spec::parse_count_or_zero`).
    CountOrZero,
    /// Any whole number (a layer index).
    Whole,
    /// A bit width.
    Bits,
    /// A real number.
    Real,
    /// A size `WxH` in pixels (`crate::model::Resolution`).
    Size,
    /// Positive counts, comma-separated.
    Counts,
    /// One of an enum's words ([`Choice`]): `(word, help)`.
    Choice(fn() -> Vec<(&'static str, &'static str)>),
    /// A switch: present or not.
    Switch,
}

/// The `(word, help)` pairs of an enum, for [`Kind::Choice`].
pub fn words<T: Choice>() -> Vec<(&'static str, &'static str)> {
    T::CHOICES.iter().map(|(_, w, h)| (*w, *h)).collect()
}

/// One option of a run.
#[derive(Debug, Clone, Copy)]
pub struct RunOption {
    /// The Python keyword; the long flag is this with `-` for `_`.
    pub name: &'static str,
    /// The spec key it sets (`None`: the `spec` option itself, which is the base).
    pub key: Option<&'static str>,
    pub kind: Kind,
    /// The value's placeholder in the command line's help (`""` for a switch).
    pub value_name: &'static str,
    /// The section of the command line's help.
    pub heading: &'static str,
    /// One line of help (`-h`).
    pub help: &'static str,
    /// The whole help (`--help`), when it says more than `help`.
    pub long_help: Option<&'static str>,
    /// Shown by `-h` too (else only by `--help`).
    pub short: bool,
    /// Options that cannot be given with this one.
    pub conflicts: &'static [&'static str],
    /// An option this one needs, and why.
    pub requires: Option<(&'static str, &'static str)>,
    /// Its entry in the Python docstrings (the `Args:` of `simulate` in the `.pyi` stub,
    /// generated from this; `tests/options.rs`), in reStructuredText, one paragraph.
    pub doc: &'static str,
}

impl RunOption {
    /// An option that sets the spec key `name`, shown by `--help` only.
    const fn new(
        name: &'static str,
        kind: Kind,
        value_name: &'static str,
        heading: &'static str,
        help: &'static str,
    ) -> RunOption {
        RunOption {
            name,
            key: Some(name),
            kind,
            value_name,
            heading,
            help,
            long_help: None,
            short: false,
            conflicts: &[],
            requires: None,
            doc: "",
        }
    }

    /// Shown by `-h` too.
    const fn short(mut self) -> RunOption {
        self.short = true;
        self
    }

    const fn long_help(mut self, text: &'static str) -> RunOption {
        self.long_help = Some(text);
        self
    }

    const fn conflicts(mut self, names: &'static [&'static str]) -> RunOption {
        self.conflicts = names;
        self
    }

    const fn requires(mut self, name: &'static str, why: &'static str) -> RunOption {
        self.requires = Some((name, why));
        self
    }

    const fn doc(mut self, text: &'static str) -> RunOption {
        self.doc = text;
        self
    }

    const fn sets(mut self, key: Option<&'static str>) -> RunOption {
        self.key = key;
        self
    }

    /// The long flag, without `--`.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}

const INPUT: &str = "Input";
const MODEL_GPU: &str = "Model and GPU";
const SCHEDULE: &str = "Schedule";
/// Why `selection` needs `layer_tokens`.
const SELECTION_KEEPS: &str =
    "its first entry less the text tokens is how many tokens the selection keeps (sparsevlm: its drops are the pruning layers)";
const COST: &str = "Cost model";
const WINDOW: &str = "the linear pruning window is prune_start=l1, prune_end=l2";

/// Every option of one simulated prefill, in the order of the command line's help.
pub static RUN: &[RunOption] = &[
    RunOption::new("spec", Kind::RunFile, "FILE", INPUT,
        "A run file (TOML/JSON spec, or an earlier run's JSON output); flags override it")
        .long_help("A run file (TOML/JSON spec, or an earlier run's JSON output); flags override it.\n\nA run file: a spec in TOML or JSON, or the JSON output of an earlier single run (replays it; the outputs of serve, budget, reproduce, check and a sweep's rows carry no spec; each of compare's and pareto's rows carries its own (rows[i].spec)). A file it names (a GPU, model, schedule or framework file) is read from the current folder, else beside it. Flags given beside it override its values.")
        .sets(None).short()
        .doc(r#"A run file (TOML or JSON, or an earlier run's JSON output), a ``Spec`` or a dict: the base that every other option given overrides (``--spec``)."#),
    RunOption::new("model", Kind::Preset(MODELS), "NAME|PATH", MODEL_GPU,
        "Preset or hub id, model TOML or HF config.json [default: llava-ov-7b]").short()
        .doc(r#"Model preset name (or a preset's Hugging Face hub id, e.g. ``lmms-lab/llava-onevision-qwen2-7b-ov``), model TOML or Hugging Face ``config.json`` path, or an inline model dict (``aim_sim.list_presets("models")``)."#),
    RunOption::new("gpu", Kind::Preset(GPUS), "NAME|PATH", MODEL_GPU,
        "GPU preset or nvidia-smi name, or a GPU TOML [default: a100]").short()
        .doc(r#"GPU preset name (or the device name ``nvidia-smi`` prints, e.g. ``NVIDIA A100-SXM4-80GB``), GPU TOML path, or an inline GPU dict."#),
    RunOption::new("framework", Kind::Preset(FRAMEWORKS), "NAME|PATH", MODEL_GPU,
        "Software stack profile: roofline, trtllm, hf, hf-eager, or a TOML")
        .long_help("Software stack profile: roofline, trtllm, hf, hf-eager, or a TOML.\n\nFramework profile: how the software stack runs the kernels. `roofline` (ideal, what the paper computes), `trtllm`, `hf`, `hf-eager` (fitted to published measurements, docs/accuracy.md), or a profile TOML [default: roofline].")
        .short()
        .doc(r#"Framework profile: how the software stack runs the kernels. ``"roofline"`` (ideal, what the paper computes), ``"trtllm"``, ``"hf"``, ``"hf-eager"`` (fitted to published measurements, docs/accuracy.md), a profile TOML path, or an inline dict."#),
    RunOption::new("tokens", Kind::Count, "N", INPUT,
        "Visual tokens before merging (N / tokens-per-frame frames)")
        .long_help("Visual tokens before merging (N / tokens-per-frame frames).\n\nVisual tokens before merging: N / tokens-per-frame frames. When it does not divide, the input is one frame of N tokens (merging works within it) and a warning says so.")
        .conflicts(&["frames"]).short()
        .doc(r#"Visual tokens before merging (``tokens / tokens_per_frame`` frames when it divides, else one frame of ``tokens``). Excludes ``frames``."#),
    RunOption::new("frames", Kind::CountOrZero, "F", INPUT,
        "Frames (video) or images; 0 for a text-only prompt [default: the model's]")
        .long_help("Frames (video) or images; 0 for a text-only prompt [default: the model's].\n\nFrames (video) or images; 0 for a text-only prompt [default: the model's, 32 for video models, 1 for image models].")
        .short()
        .doc(r#"Frames (video) or images; 0 for a text-only prompt [default: the model's, 32 for video models, 1 for image models]. Excludes ``tokens``."#),
    RunOption::new("tokens_per_frame", Kind::Count, "P", INPUT,
        "Visual tokens per frame before merging [default: the model's, e.g. 196 for LLaVA-OV]")
        .doc(r#"Visual tokens per frame before merging [default: the model's, e.g. 196 for LLaVA-OV]."#),
    RunOption::new("image_size", Kind::Size, "WxH", INPUT,
        "Image size WxH in pixels, for resolution-aware vision towers (Qwen-VL, InternVL): the tokens per image follow from it [default: the model's, e.g. 448x448]")
        .conflicts(&["video_size", "video_seconds"])
        .doc(r#"Image size ``"WxH"`` in pixels for resolution-aware vision towers (Qwen-VL, InternVL): the tokens per image follow from it [default: the model's, e.g. ``"448x448"``]. Excludes ``video_size``."#),
    RunOption::new("video_size", Kind::Size, "WxH", INPUT,
        "The input is a video of WxH frames; --frames counts sampled frames (Qwen-VL groups them in pairs: F frames give F/2 groups of (H/28)·(W/28) tokens after resizing)")
        .doc(r#"The input is a video of ``"WxH"`` frames; ``frames`` counts sampled frames (Qwen-VL groups them in pairs: F frames give F/2 groups of (H/28)·(W/28) tokens after resizing). Excludes ``image_size``."#),
    RunOption::new("video_seconds", Kind::Real, "S", INPUT,
        "Video length in seconds, sampled at --fps, instead of --frames")
        .conflicts(&["frames", "tokens"])
        .doc(r#"Video length in seconds, sampled at ``fps``, instead of ``frames``."#),
    RunOption::new("fps", Kind::Real, "R", INPUT,
        "Frames sampled per second of --video-seconds [default: the model's processor, 2 for Qwen-VL]")
        // No parser-level `requires`: a run file may hold the video length (`--spec run.json
        // --fps 1` was refused); the scenario checks the pair after the file is laid under.
        .doc(r#"Frames sampled per second of ``video_seconds`` [default: the model's processor, 2 for Qwen-VL]."#),
    RunOption::new("text_tokens", Kind::Count, "T", INPUT, "Text tokens (always kept) [default: 100]")
        .doc(r#"Text tokens, always kept."#),
    RunOption::new("schedule", Kind::Preset(SCHEDULES), "NAME|PATH", SCHEDULE,
        "Schedule preset name or a schedule TOML [default: linear]").short()
        .doc(r#"Schedule preset name or schedule TOML path, or an inline schedule dict."#),
    RunOption::new("merge_tokens_per_frame", Kind::Count, "K", SCHEDULE,
        "Override the schedule's merge: visual tokens kept per frame")
        .conflicts(&["merge_keep_ratio"])
        .doc(r#"Override of the schedule's merge: visual tokens kept per frame. Excludes ``merge_keep_ratio``."#),
    RunOption::new("merge_keep_ratio", Kind::Real, "X", SCHEDULE,
        "Override the schedule's merge: fraction of each frame kept, floor(P·x)")
        .doc(r#"Override of the schedule's merge: fraction of each frame kept, ``floor(P·x)``."#),
    RunOption::new("prune_start", Kind::Whole, "L1", SCHEDULE,
        "Override the schedule's pruning: linear pruning start layer l1")
        .requires("prune_end", WINDOW)
        .doc(r#"Override of the schedule's pruning: linear pruning start layer l1 (needs ``prune_end``)."#),
    RunOption::new("prune_end", Kind::Whole, "L2", SCHEDULE,
        "Override the schedule's pruning: linear pruning end layer l2")
        .requires("prune_start", WINDOW)
        .doc(r#"Override of the schedule's pruning: linear pruning end layer l2 (needs ``prune_start``)."#),
    RunOption::new("prune_step", Kind::Real, "S", SCHEDULE,
        "Override the linear pruning step [default: 1/(l2-l1)]")
        .requires("prune_start", WINDOW)
        .doc(r#"Override of the linear pruning step [default: 1/(l2-l1)] (needs ``prune_start``)."#),
    RunOption::new("layer_tokens", Kind::Counts, "A,B,C,...", SCHEDULE,
        "Exact sequence length of every layer, comma-separated (overrides the schedule)")
        .doc(r#"Exact sequence length of every layer (a list, or ``"A,B,C"``); replaces the whole schedule."#),
    RunOption::new("selection", Kind::Choice(words::<crate::selection::Selection>), "METHOD", SCHEDULE,
        "Refined: price this method's own selection of the tokens it keeps (needs --layer-tokens)")
        .requires("layer_tokens", SELECTION_KEEPS)
        .long_help("Refined: price this method's own selection of the tokens it keeps (needs --layer-tokens).\n\nThe work a token-reduction method does to choose its tokens, as its released code runs it. Between the projector and the LLM (the kept visual tokens are --layer-tokens' first entry less the text tokens): divprune: a cosine-distance matrix over the input's visual tokens, then one greedy step (six PyTorch ops) per kept token; cdpruner: CLIP's text tower on the prompt, a similarity kernel, then 16 PyTorch ops per kept token; visionzip: every CLIP layer's keys averaged over heads, then 34 PyTorch ops. Inside CLIP (LLaVA's CLIP ViT-L/14 only): flowcut: 547 PyTorch ops a tower call, ten of them host reads, and with --include-vision the tower's later layers on fewer tokens (on LLaVA-NeXT also its crops restored and a second cut at the LLM's layer 1). At the start of the LLM's forward (video, 8 frames or more): fastvid: the frames cut into segments by their global features, each frame's salient tokens by the SigLIP head's attention, the rest's fp32 distance matrix and density peaks, and each segment merged into its anchors (97 PyTorch ops and 35 per segment, the code's minimum of eight segments taken). Before the LLM and once inside it (--layer-tokens dropping exactly once): trevs: each visual token's CLIP CLS saliency and cosine relevance to the prompt, a top-k of three quarters of the kept tokens and farthest-point sampling of the rest (105 PyTorch ops and nine per sampled point), then where the counts drop the next layer's Q and K run once more for the text's attention (63 ops), and two ops in every layer reading the positions back. Inside the LLM, at each layer where --layer-tokens drops (its counts holding the recycled tokens): sparsevlm: the text raters' attention averaged over heads, a top-k, and the pruned tokens' top 30 % clustered into recycled tokens (80 PyTorch ops and an m × m × hidden distance tensor per pruning layer); s2prune: the visual tokens' residual-update norms after the first layer, then five PyTorch ops and two host reads per kept token.")
        .doc(r#"Refined: price this method's own selection of its visual tokens, as its released code runs it: ``"divprune"``, ``"cdpruner"`` or ``"visionzip"`` of the tokens layer 0 keeps (``layer_tokens``' first entry less the text tokens), ``"flowcut"`` inside CLIP (LLaVA's CLIP ViT-L/14 only), ``"fastvid"`` before the first decoder layer (video, 8 frames or more), ``"trevs"`` before the LLM and at the one layer where ``layer_tokens`` drops, or ``"sparsevlm"`` / ``"s2prune"`` at each layer where ``layer_tokens`` drops (needs ``layer_tokens``)."#),
    RunOption::new("cost_model", Kind::Choice(words::<CostModelKind>), "MODEL", COST,
        "Cost model [default: refined]")
        .long_help("Cost model [default: refined].\n\nCost model: `refined` (what a GPU runs) or `llm-viewer` (the paper's, exactly) [default: refined].")
        .short()
        .doc(r#"``"refined"`` (what a GPU runs) or ``"llm-viewer"`` (the AIM paper's roofline, exactly)."#),
    RunOption::new("prune_timing", Kind::Choice(words::<PruneTiming>), "WHEN", SCHEDULE,
        "When a pruning decision takes effect [default: code for refined, paper for llm-viewer]")
        .doc(r#"When a pruning decision takes effect: ``"code"`` (the reference code: importance computed in layer i shrinks layer i + 1) or ``"paper"`` [default: code for refined, paper for llm-viewer]."#),
    RunOption::new("flash_attention", Kind::Switch, "", COST,
        "Model attention as one fused FlashAttention operator (same as --attention flash)")
        .conflicts(&["attention"]).sets(Some("attention"))
        .doc(r#"Attention as one fused FlashAttention operator (same as ``attention="flash"``)."#),
    RunOption::new("attention", Kind::Choice(words::<AttentionImpl>), "IMPL", COST,
        "Attention implementation [default: flash for refined, eager for llm-viewer]")
        .doc(r#"``"flash"`` or ``"eager"`` (materialised softmax) [default: flash for refined, eager for llm-viewer]."#),
    RunOption::new("vision_attention", Kind::Choice(words::<AttentionImpl>), "IMPL", COST,
        "Refined: the vision encoder's attention [default: the framework's, else --attention]")
        .long_help("Refined: the vision encoder's attention [default: the framework's, else --attention].\n\nHow the stack runs the vision tower's attention, apart from the LLM's: the LLaVA code bases run SigLIP/CLIP eagerly (n² scores, fp32 softmax) whatever the LLM uses, and the hf and hf-eager profiles say so; the roofline and trtllm price it as --attention [default: the framework profile's vision_attention, else --attention].")
        .doc(r#"Refined: the vision encoder's attention, ``"flash"`` or ``"eager"`` [default: the framework profile's ``vision_attention``, else ``attention``]."#),
    RunOption::new("experts", Kind::Choice(words::<crate::experts::ExpertsImpl>), "IMPL", COST,
        "Refined: how a MoE layer runs its experts [default: fused; hf: as the model's code]")
        .long_help("Refined: how a MoE layer runs its experts [default: fused; hf: as the model's code].\n\nfused: grouped GEMMs over the routed (token, expert) pairs (vLLM, TensorRT-LLM, transformers' grouped_mm); loop: a Python loop over the hit experts, each expert's layers launched on their own; all: every token through every expert (transformers 4.57 Qwen3-VL-MoE). Under an eager-dispatch framework (hf, hf-eager) the default is what the model's transformers code runs (the model's moe.eager_experts); elsewhere fused. A dense model ignores it.")
        .doc(r#"Refined: how a mixture-of-experts layer runs its experts, ``"fused"``, ``"loop"`` or ``"all"`` [default: ``"fused"``; under an eager-dispatch framework (``hf``) the model's ``moe.eager_experts``]."#),
    RunOption::new("include_vision", Kind::Switch, "", COST,
        "Also price the vision encoder and projector (time to first token)").short()
        .doc(r#"Refined: price the vision encoder, pooling and projector too (time to first token)."#),
    RunOption::new("gen_tokens", Kind::CountOrZero, "G", COST,
        "Refined: decode this many tokens after the prefill, with the pruned KV cache [default: 0]")
        .doc(r#"Refined: decode this many tokens after the prefill, with the pruned KV cache (0: prefill only)."#),
    RunOption::new("tp", Kind::Count, "N", MODEL_GPU,
        "Refined: tensor-parallel degree (weights and heads split over N GPUs) [default: 1]")
        .doc(r#"Refined: tensor-parallel degree (weights and heads split over N GPUs)."#),
    RunOption::new("all_logits", Kind::Switch, "", COST,
        "Refined: compute logits for every position instead of only the last one")
        .doc(r#"Refined: logits for every position instead of only the last one."#),
    RunOption::new("importance_kernel", Kind::Choice(words::<ImportanceKernel>), "KERNEL", SCHEDULE,
        "How PageRank importance gets attention probabilities [default: materialized]")
        .long_help("How PageRank importance gets attention probabilities [default: materialized].\n\nRefined: how PageRank importance gets its attention probabilities. `materialized`: the H×n×n fp32 matrix is written and streamed by each power iteration (the AIM reference code); `fused`: Q·Kᵀ tiles recomputed in every iteration, no n² traffic (kernels/pagerank.cu) [default: materialized].")
        .doc(r#"Refined: how PageRank importance gets its attention probabilities: ``"materialized"`` (an H×n×n fp32 matrix streamed by each power iteration, the AIM reference code) or ``"fused"`` (Q·Kᵀ tiles recomputed, no n² traffic)."#),
    RunOption::new("batch", Kind::Count, "B", INPUT, "Batch size [default: 1]")
        .doc(r#"Batch size."#),
    RunOption::new("w_bits", Kind::Bits, "BITS", MODEL_GPU, "Weight bits [default: 16]")
        .doc(r#"Weight bits."#),
    RunOption::new("a_bits", Kind::Bits, "BITS", MODEL_GPU, "Activation bits [default: 16]")
        .doc(r#"Activation bits."#),
    RunOption::new("kv_bits", Kind::Bits, "BITS", MODEL_GPU, "KV-cache bits [default: --a-bits]")
        .doc(r#"KV-cache bits [default: ``a_bits``]."#),
    RunOption::new("skip_mlp_add", Kind::Switch, "", COST,
        "Drop the second residual add from the totals (as the paper's video runs did)")
        .doc(r#"Drop the second residual add from the totals (as the paper's video runs did)."#),
];

/// An option of [`RUN`] that a sweep takes as a list (`Axes` holds the lists as typed).
#[derive(Debug, Clone, Copy)]
pub struct SweepAxis {
    /// The [`RUN`] option (and the `crate::sweep::Axes` field).
    pub name: &'static str,
    /// `NAMES` (comma lists of names) or `LIST` (counts and ranges).
    pub value_name: &'static str,
    /// One line of help for the list flag.
    pub help: &'static str,
}

impl SweepAxis {
    const fn new(name: &'static str, value_name: &'static str, help: &'static str) -> SweepAxis {
        SweepAxis {
            name,
            value_name,
            help,
        }
    }

    /// The long flag, without `--`.
    pub fn flag(&self) -> String {
        self.name.replace('_', "-")
    }
}

/// The sweep's axes, in the order of `sweep --help`.
pub static AXES: &[SweepAxis] = &[
    SweepAxis::new(
        "model",
        "NAMES",
        "Model presets or files, comma-separated [default: llava-ov-7b]",
    ),
    SweepAxis::new(
        "gpu",
        "NAMES",
        "GPU presets or files, comma-separated [default: a100]",
    ),
    SweepAxis::new(
        "schedule",
        "NAMES",
        "Schedule presets or files, comma-separated [default: linear]",
    ),
    SweepAxis::new(
        "cost_model",
        "NAMES",
        "Cost models, comma-separated [default: as for a single run]",
    ),
    SweepAxis::new(
        "frames",
        "LIST",
        "Frames, e.g. 8,16 or 8:256:8 (end inclusive) [default: the model's]",
    ),
    SweepAxis::new(
        "tokens",
        "LIST",
        "Visual tokens before merging (instead of --frames)",
    ),
    SweepAxis::new(
        "tokens_per_frame",
        "LIST",
        "Visual tokens per frame before merging [default: the model's]",
    ),
    SweepAxis::new("text_tokens", "LIST", "Text tokens [default: 100]"),
    SweepAxis::new("batch", "LIST", "Batch sizes [default: 1]"),
];

/// The option of [`RUN`] named `name`.
pub fn find(name: &str) -> Option<&'static RunOption> {
    RUN.iter().find(|o| o.name == name)
}

/// A value of an option, typed by its [`Kind`] (what the command line parsed).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A preset name or path, or an enum's word.
    Text(String),
    /// A count or whole number.
    Whole(u64),
    Bits(u32),
    Real(f64),
    Size(crate::model::Resolution),
    Counts(Vec<u64>),
    /// A switch that was given.
    On,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_references_resolve() {
        for (i, o) in RUN.iter().enumerate() {
            assert!(
                RUN[..i].iter().all(|p| p.name != o.name),
                "{} twice",
                o.name
            );
            for other in o.conflicts.iter().chain(o.requires.iter().map(|(r, _)| r)) {
                assert!(
                    find(other).is_some(),
                    "{} names unknown option {other}",
                    o.name
                );
            }
            assert!(
                !o.help.ends_with('.'),
                "{}: the short help has no period",
                o.name
            );
            if let Some(long) = o.long_help {
                assert!(
                    long.starts_with(o.help),
                    "{}: the long help starts with the short",
                    o.name
                );
            }
            assert!(!o.doc.is_empty(), "{}: the Python doc", o.name);
            assert_eq!(
                o.value_name.is_empty(),
                matches!(o.kind, Kind::Switch),
                "{}",
                o.name
            );
        }
        for (i, a) in AXES.iter().enumerate() {
            assert!(
                AXES[..i].iter().all(|b| b.name != a.name),
                "{} twice",
                a.name
            );
            assert!(find(a.name).is_some(), "axis {} is no option", a.name);
        }
    }
}
