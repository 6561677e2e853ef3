"""aim-sim from Python: what a visual-token reduction schedule (AIM: merge + PageRank pruning,
FastV, PDrop, ...) costs in a multi-modal LLM's prefill, per operator and per layer, on a GPU.

The functions mirror the ``aim-sim`` command line: every option is a long flag with ``_`` for
``-`` and has the same default (``None`` means "not given": the default, or the ``spec``
base's value). Results are the CLI's JSON (``simulate``, ``budget``) or its sweep CSV as a
``pandas.DataFrame`` (``sweep``). Bad input raises ``AimSimError`` with the CLI's message.
"""

import os
from typing import Any, Dict, Iterable, List, Literal, Mapping, Optional, Sequence, Union

import pandas

__version__: str

PathLike = Union[str, "os.PathLike[str]"]
#: A preset name, a file path (model/GPU/schedule TOML, Hugging Face config.json), or the
#: definition inline as a dict in the file's keys.
Definition = Union[str, "os.PathLike[str]", Mapping[str, Any]]
#: A sweep axis: one value, a list of values, or a string of comma lists and inclusive ranges
#: ``"START:END[:STEP]"`` (``"8:256:8"``, ``"1,2,4:64:4"``), as ``aim-sim sweep`` takes it.
Axis = Union[int, str, Sequence[Union[int, str]]]
CostModel = Literal["refined", "llm-viewer"]
PruneTiming = Literal["paper", "code"]
Attention = Literal["flash", "eager"]
VisionAttention = Literal["flash", "eager"]
Experts = Literal["fused", "loop", "all"]
Selection = Literal["divprune", "cdpruner", "sparsevlm", "visionzip", "s2prune", "flowcut", "trevs", "fastvid"]
ImportanceKernel = Literal["materialized", "fused"]
#: How much of a report ``simulate`` returns: the whole report, or its totals.
Detail = Literal["full", "totals"]

class AimSimError(ValueError):
    """Bad input: the one-line message the command line prints after ``aim-sim: error:``."""

class Spec:
    """One simulated prefill, completely described: the options of ``simulate`` as data.

    Field names are the long flags with ``_`` for ``-``. A spec round-trips with the JSON and
    TOML run files ``aim-sim --spec FILE`` reads, and with the ``"spec"`` every JSON output
    carries (``Spec.from_dict(report["spec"])`` replays a run). Pass one as
    ``simulate(spec=...)``, ``sweep(spec=...)`` or ``budget(spec=...)``; options given beside
    it override its values. Specs compare equal when every field is equal, and pickle.
    """

    def __init__(
        self,
        *,
        spec: Union["Spec", PathLike, Mapping[str, Any], None] = None,
        # <options:begin>
        model: Optional[Definition] = "llava-ov-7b",
        gpu: Optional[Definition] = "a100",
        framework: Optional[Definition] = "roofline",
        tokens: Optional[int] = None,
        frames: Optional[int] = None,
        tokens_per_frame: Optional[int] = None,
        image_size: Optional[str] = None,
        video_size: Optional[str] = None,
        video_seconds: Optional[float] = None,
        fps: Optional[float] = None,
        text_tokens: Optional[int] = 100,
        schedule: Optional[Definition] = "linear",
        merge_tokens_per_frame: Optional[int] = None,
        merge_keep_ratio: Optional[float] = None,
        prune_start: Optional[int] = None,
        prune_end: Optional[int] = None,
        prune_step: Optional[float] = None,
        layer_tokens: Union[Sequence[int], str, None] = None,
        selection: Optional[Selection] = None,
        cost_model: Optional[CostModel] = "refined",
        prune_timing: Optional[PruneTiming] = None,
        flash_attention: Optional[bool] = False,
        attention: Optional[Attention] = None,
        vision_attention: Optional[VisionAttention] = None,
        experts: Optional[Experts] = None,
        include_vision: Optional[bool] = False,
        gen_tokens: Optional[int] = 0,
        tp: Optional[int] = 1,
        all_logits: Optional[bool] = False,
        importance_kernel: Optional[ImportanceKernel] = "materialized",
        batch: Optional[int] = 1,
        w_bits: Optional[int] = 16,
        a_bits: Optional[int] = 16,
        kv_bits: Optional[int] = None,
        skip_mlp_add: Optional[bool] = False,
        # <options:end>
    ) -> None:
        """The defaults (or ``spec``) with the given options laid over them; the options are
        those of ``simulate``."""
    def replace(self, **options: Any) -> "Spec":
        """A copy with the given options (those of ``simulate``) laid over this spec."""
    @staticmethod
    def load(path: PathLike) -> "Spec":
        """Reads a run file: a spec in TOML or JSON, or the JSON output of an earlier run."""
    @staticmethod
    def from_json(text: str) -> "Spec":
        """Parses a JSON spec, or a whole JSON output (its ``"spec"``)."""
    @staticmethod
    def from_toml(text: str) -> "Spec":
        """Parses a TOML spec (a run file's text)."""
    @staticmethod
    def from_dict(table: Mapping[str, Any]) -> "Spec":
        """A spec from a dict in the run file's keys, e.g. ``simulate(...)["spec"]``."""
    def to_json(self) -> str:
        """The spec as JSON text, as ``aim-sim --spec FILE`` reads it."""
    def to_toml(self) -> str:
        """The spec as TOML text (a run file)."""
    def to_dict(self) -> Dict[str, Any]:
        """The spec as a dict in the run file's keys (unset optional fields left out)."""
    def resolved(self) -> "Spec":
        """This spec with every default made explicit (the model's frames, the attention and
        prune timing of the cost model, ...): the ``"spec"`` of the run's JSON output."""
    def __eq__(self, other: object) -> bool: ...

def simulate(
    *,
    detail: Optional[Detail] = "full",
    spec: Union[Spec, PathLike, Mapping[str, Any], None] = None,
    # <options:begin>
    model: Optional[Definition] = "llava-ov-7b",
    gpu: Optional[Definition] = "a100",
    framework: Optional[Definition] = "roofline",
    tokens: Optional[int] = None,
    frames: Optional[int] = None,
    tokens_per_frame: Optional[int] = None,
    image_size: Optional[str] = None,
    video_size: Optional[str] = None,
    video_seconds: Optional[float] = None,
    fps: Optional[float] = None,
    text_tokens: Optional[int] = 100,
    schedule: Optional[Definition] = "linear",
    merge_tokens_per_frame: Optional[int] = None,
    merge_keep_ratio: Optional[float] = None,
    prune_start: Optional[int] = None,
    prune_end: Optional[int] = None,
    prune_step: Optional[float] = None,
    layer_tokens: Union[Sequence[int], str, None] = None,
    selection: Optional[Selection] = None,
    cost_model: Optional[CostModel] = "refined",
    prune_timing: Optional[PruneTiming] = None,
    flash_attention: Optional[bool] = False,
    attention: Optional[Attention] = None,
    vision_attention: Optional[VisionAttention] = None,
    experts: Optional[Experts] = None,
    include_vision: Optional[bool] = False,
    gen_tokens: Optional[int] = 0,
    tp: Optional[int] = 1,
    all_logits: Optional[bool] = False,
    importance_kernel: Optional[ImportanceKernel] = "materialized",
    batch: Optional[int] = 1,
    w_bits: Optional[int] = 16,
    a_bits: Optional[int] = 16,
    kv_bits: Optional[int] = None,
    skip_mlp_add: Optional[bool] = False,
    # <options:end>
    anchor_ms: Optional[float] = None,
    anchor: Optional[Union[str, os.PathLike]] = None,
) -> Dict[str, Any]:
    """Simulates one prefill, schedule against baseline: ``aim-sim [options] --format json``.

    Returns the CLI's JSON as a dict, the same keys and numbers: ``"totals"`` and
    ``"baseline"`` (FLOPs, bytes, ``time_s``, memory), ``"reduction"`` (baseline / schedule),
    ``"layers"`` (every operator of every decoder layer), ``"spec"`` (the resolved spec:
    ``Spec.from_dict`` replays the run), and the rest of the report. Base units: FLOPs, bytes,
    seconds. The dict is built in Rust from the report itself, with no JSON text in between.

    Args:
        detail: ``"full"``: the whole report. ``"totals"``: only ``"spec"``, ``"totals"``,
            ``"warnings"``, ``"baseline"`` (``{"totals": ...}``) and ``"reduction"``, each the
            whole report's value at the same key: no per-operator objects to build, for loops
            and searches (python/README.md, "Speed"; ``simulate_many`` runs many at once).
        spec: A run file (TOML or JSON, or an earlier run's JSON output), a ``Spec`` or a dict:
            the base that every other option given overrides (``--spec``).
        model: Model preset name (or a preset's Hugging Face hub id, e.g.
            ``lmms-lab/llava-onevision-qwen2-7b-ov``), model TOML or Hugging Face
            ``config.json`` path, or an inline model dict (``aim_sim.list_presets("models")``).
        gpu: GPU preset name (or the device name ``nvidia-smi`` prints, e.g. ``NVIDIA
            A100-SXM4-80GB``), GPU TOML path, or an inline GPU dict.
        framework: Framework profile: how the software stack runs the kernels. ``"roofline"``
            (ideal, what the paper computes), ``"trtllm"``, ``"hf"``, ``"hf-eager"`` (fitted to
            published measurements, docs/accuracy.md), a profile TOML path, or an inline dict.
        tokens: Visual tokens before merging (``tokens / tokens_per_frame`` frames when it
            divides, else one frame of ``tokens``). Excludes ``frames``.
        frames: Frames (video) or images; 0 for a text-only prompt [default: the model's, 32
            for video models, 1 for image models]. Excludes ``tokens``.
        tokens_per_frame: Visual tokens per frame before merging [default: the model's, e.g.
            196 for LLaVA-OV].
        image_size: Image size ``"WxH"`` in pixels for resolution-aware vision towers (Qwen-VL,
            InternVL): the tokens per image follow from it [default: the model's, e.g.
            ``"448x448"``]. Excludes ``video_size``.
        video_size: The input is a video of ``"WxH"`` frames; ``frames`` counts sampled frames
            (Qwen-VL groups them in pairs: F frames give F/2 groups of (H/28)·(W/28) tokens
            after resizing). Excludes ``image_size``.
        video_seconds: Video length in seconds, sampled at ``fps``, instead of ``frames``.
        fps: Frames sampled per second of ``video_seconds`` [default: the model's processor, 2
            for Qwen-VL].
        text_tokens: Text tokens, always kept.
        schedule: Schedule preset name or schedule TOML path, or an inline schedule dict.
        merge_tokens_per_frame: Override of the schedule's merge: visual tokens kept per frame.
            Excludes ``merge_keep_ratio``.
        merge_keep_ratio: Override of the schedule's merge: fraction of each frame kept,
            ``floor(P·x)``.
        prune_start: Override of the schedule's pruning: linear pruning start layer l1 (needs
            ``prune_end``).
        prune_end: Override of the schedule's pruning: linear pruning end layer l2 (needs
            ``prune_start``).
        prune_step: Override of the linear pruning step [default: 1/(l2-l1)] (needs
            ``prune_start``).
        layer_tokens: Exact sequence length of every layer (a list, or ``"A,B,C"``); replaces
            the whole schedule.
        selection: Refined: price this method's own selection of its visual tokens, as its
            released code runs it: ``"divprune"``, ``"cdpruner"`` or ``"visionzip"`` of the
            tokens layer 0 keeps (``layer_tokens``' first entry less the text tokens),
            ``"flowcut"`` inside CLIP (LLaVA's CLIP ViT-L/14 only), ``"fastvid"`` before the
            first decoder layer (video, 8 frames or more), ``"trevs"`` before the LLM and at
            the one layer where ``layer_tokens`` drops, or ``"sparsevlm"`` / ``"s2prune"`` at
            each layer where ``layer_tokens`` drops (needs ``layer_tokens``).
        cost_model: ``"refined"`` (what a GPU runs) or ``"llm-viewer"`` (the AIM paper's
            roofline, exactly).
        prune_timing: When a pruning decision takes effect: ``"code"`` (the reference code:
            importance computed in layer i shrinks layer i + 1) or ``"paper"`` [default: code
            for refined, paper for llm-viewer].
        flash_attention: Attention as one fused FlashAttention operator (same as
            ``attention="flash"``).
        attention: ``"flash"`` or ``"eager"`` (materialised softmax) [default: flash for
            refined, eager for llm-viewer].
        vision_attention: Refined: the vision encoder's attention, ``"flash"`` or ``"eager"``
            [default: the framework profile's ``vision_attention``, else ``attention``].
        experts: Refined: how a mixture-of-experts layer runs its experts, ``"fused"``,
            ``"loop"`` or ``"all"`` [default: ``"fused"``; under an eager-dispatch framework
            (``hf``) the model's ``moe.eager_experts``].
        include_vision: Refined: price the vision encoder, pooling and projector too (time to
            first token).
        gen_tokens: Refined: decode this many tokens after the prefill, with the pruned KV
            cache (0: prefill only).
        tp: Refined: tensor-parallel degree (weights and heads split over N GPUs).
        all_logits: Refined: logits for every position instead of only the last one.
        importance_kernel: Refined: how PageRank importance gets its attention probabilities:
            ``"materialized"`` (an H×n×n fp32 matrix streamed by each power iteration, the AIM
            reference code) or ``"fused"`` (Q·Kᵀ tiles recomputed, no n² traffic).
        batch: Batch size.
        w_bits: Weight bits.
        a_bits: Activation bits.
        kv_bits: KV-cache bits [default: ``a_bits``].
        skip_mlp_add: Drop the second residual add from the totals (as the paper's video runs
            did).
        anchor_ms: Your measured time, ms, of this input without token reduction on your own
            stack (``--anchor-ms``): refits the ``framework`` profile's per-kernel overhead so
            the baseline takes that time, then predicts the schedule from there, with the
            narrower interval an anchor leaves (docs/accuracy.md, "One anchor").
        anchor: A file of your own measured rows in the schema of reference/measurements.toml
            (``--anchor FILE``): refits the ``framework`` profile's per-kernel overhead (then
            host work per forward) by least squares on their log errors; one row gives
            ``anchor_ms``'s fit.

    Raises:
        AimSimError: Bad input (an unknown preset, a count of 0, ``tokens`` with ``frames``,
            an unknown option, ...), with the command line's one-line message.
    """

def simulate_many(
    specs: Iterable[Union[Spec, Mapping[str, Any]]],
    *,
    detail: Optional[Detail] = "totals",
    jobs: Optional[int] = None,
) -> List[Dict[str, Any]]:
    """Simulates many prefills at once: ``[simulate(detail=detail, **options) for options in
    specs]``, the same dicts, in the same order.

    Each item is a ``Spec`` or a dict of ``simulate``'s options (``{"frames": 64,
    "schedule": "fastv"}``). The prefills run in Rust with the GIL released on ``jobs`` worker
    threads (one per core by default), with each preset parsed once, and only the asked
    ``detail`` is kept: ``"totals"`` by default, since a loop reads totals (``"full"`` keeps
    every operator of every report).

    Args:
        specs: The runs: ``Spec`` objects or dicts of ``simulate``'s options.
        detail: ``"totals"`` or ``"full"``, as for ``simulate``.
        jobs: Worker threads, 1 to 1024 [default: one per core].

    Raises:
        AimSimError: Bad input in an item (the message starts with ``specs[i]:``), or an item
            that is neither a ``Spec`` nor a dict.
    """

def sweep(
    *,
    spec: Union[Spec, PathLike, Mapping[str, Any], None] = None,
    # <options:begin>
    model: Union[Axis, Mapping[str, Any], None] = "llava-ov-7b",
    gpu: Union[Axis, Mapping[str, Any], None] = "a100",
    framework: Optional[Definition] = "roofline",
    tokens: Optional[Axis] = None,
    frames: Optional[Axis] = None,
    tokens_per_frame: Optional[Axis] = None,
    image_size: Optional[str] = None,
    video_size: Optional[str] = None,
    video_seconds: Optional[float] = None,
    fps: Optional[float] = None,
    text_tokens: Optional[Axis] = 100,
    schedule: Union[Axis, Mapping[str, Any], None] = "linear",
    merge_tokens_per_frame: Optional[int] = None,
    merge_keep_ratio: Optional[float] = None,
    prune_start: Optional[int] = None,
    prune_end: Optional[int] = None,
    prune_step: Optional[float] = None,
    layer_tokens: Union[Sequence[int], str, None] = None,
    selection: Optional[Selection] = None,
    cost_model: Optional[Axis] = "refined",
    prune_timing: Optional[PruneTiming] = None,
    flash_attention: Optional[bool] = False,
    attention: Optional[Attention] = None,
    vision_attention: Optional[VisionAttention] = None,
    experts: Optional[Experts] = None,
    include_vision: Optional[bool] = False,
    gen_tokens: Optional[int] = 0,
    tp: Optional[int] = 1,
    all_logits: Optional[bool] = False,
    importance_kernel: Optional[ImportanceKernel] = "materialized",
    batch: Optional[Axis] = 1,
    w_bits: Optional[int] = 16,
    a_bits: Optional[int] = 16,
    kv_bits: Optional[int] = None,
    skip_mlp_add: Optional[bool] = False,
    # <options:end>
    anchor_ms: Optional[float] = None,
    anchor: Optional[Union[str, os.PathLike]] = None,
    jobs: Optional[int] = None,
) -> Union["pandas.DataFrame", List[Dict[str, Any]]]:
    """Prices every combination of the axes: ``aim-sim sweep [grid] --format csv``.

    The axes (``model``, ``gpu``, ``schedule``, ``cost_model``, ``frames`` or ``tokens``,
    ``tokens_per_frame``, ``text_tokens``, ``batch``) each take one value, a list, or a string
    of comma lists and inclusive ranges ``"START:END[:STEP]"`` (``frames="8:256:8"``,
    ``schedule=["none", "linear", "fastv"]``, ``frames=range(8, 257, 8)``). Every other option
    of ``simulate`` applies to all rows. Rows come in the CLI's order (schedule varies
    fastest, then frames/tokens, ... model slowest).

    Returns a ``pandas.DataFrame`` when pandas is installed (else a list of dicts) with the
    CLI's CSV columns and rows: ``model``, ``gpu``, ``schedule``, ``cost_model`` (category);
    ``frames``, ``tokens_per_frame``, ``visual_tokens``, ``merged_visual_tokens``,
    ``text_tokens``, ``batch`` (int64); ``flops``, ``bytes``, ``time_s``,
    ``memory_consumption_bytes``, the same four with ``baseline_``, ``reduction_flops``,
    ``reduction_time`` (float64; FLOPs, bytes, seconds); under a ``framework`` other than
    ``"roofline"`` also ``framework`` (category, after ``cost_model``: the profile that priced
    the times), and under a fitted one the 80 % intervals ``time_low_s``, ``time_high_s``, ``baseline_time_low_s``,
    ``baseline_time_high_s``, ``reduction_time_low``, ``reduction_time_high`` (float64; the
    profile's ``[spread]``, as ``simulate`` states them). ``anchor_ms`` (``--anchor-ms``: your
    measured time of the one input swept, without reduction) or ``anchor`` (``--anchor FILE``:
    your measured rows, one GPU) prices every row under the profile refitted to them, as
    ``simulate`` does one run; a measured baseline's interval is zero-width, and the frame's
    ``attrs["notes"]`` (the list's ``notes`` without pandas) says what was refitted. The
    frame's ``attrs["warnings"]`` (the list's ``warnings``) are what ``aim-sim sweep`` warns of
    the input on standard error, as ``simulate`` gives a run's ``"warnings"`` (``tokens`` that
    are not whole frames of ``tokens_per_frame``, ...; a few, then how many more); absent (empty)
    when none. The sweep runs with the GIL released
    on ``jobs`` worker threads (``--jobs``; default one per core); the frame is built from whole
    columns.

    Raises:
        AimSimError: Bad input, or a configuration that does not run (the message names it).
    """

def serve(
    *,
    spec: Union[Spec, PathLike, Mapping[str, Any], None] = None,
    rate: Optional[float] = 1.0,
    requests: Optional[int] = None,
    duration: Optional[float] = None,
    seed: Optional[int] = 0,
    output_tokens: Union[int, str, None] = 64,
    frames_dist: Optional[str] = None,
    text_dist: Optional[str] = None,
    max_num_seqs: Optional[int] = 256,
    max_num_batched_tokens: Optional[int] = 8192,
    chunked_prefill: Optional[bool] = True,
    block_size: Optional[int] = 16,
    gpu_memory_utilization: Optional[float] = 0.9,
    kv_cache_gb: Optional[float] = None,
    slo_ttft: Optional[float] = None,
    slo_tpot: Optional[float] = None,
    slo_attainment: Optional[float] = 0.9,
    find_max_rate: Optional[bool] = False,
    schedules: Optional[Sequence[str]] = None,
    trace: Optional[Union[str, os.PathLike]] = None,
    # <options:begin>
    model: Optional[Definition] = "llava-ov-7b",
    gpu: Optional[Definition] = "a100",
    framework: Optional[Definition] = "roofline",
    tokens: Optional[int] = None,
    frames: Optional[int] = None,
    tokens_per_frame: Optional[int] = None,
    image_size: Optional[str] = None,
    video_size: Optional[str] = None,
    video_seconds: Optional[float] = None,
    fps: Optional[float] = None,
    text_tokens: Optional[int] = 100,
    schedule: Optional[Definition] = "linear",
    merge_tokens_per_frame: Optional[int] = None,
    merge_keep_ratio: Optional[float] = None,
    prune_start: Optional[int] = None,
    prune_end: Optional[int] = None,
    prune_step: Optional[float] = None,
    layer_tokens: Union[Sequence[int], str, None] = None,
    selection: Optional[Selection] = None,
    cost_model: Optional[CostModel] = "refined",
    prune_timing: Optional[PruneTiming] = None,
    flash_attention: Optional[bool] = False,
    attention: Optional[Attention] = None,
    vision_attention: Optional[VisionAttention] = None,
    experts: Optional[Experts] = None,
    include_vision: Optional[bool] = False,
    gen_tokens: Optional[int] = 0,
    tp: Optional[int] = 1,
    all_logits: Optional[bool] = False,
    importance_kernel: Optional[ImportanceKernel] = "materialized",
    batch: Optional[int] = 1,
    w_bits: Optional[int] = 16,
    a_bits: Optional[int] = 16,
    kv_bits: Optional[int] = None,
    skip_mlp_add: Optional[bool] = False,
    # <options:end>
    anchor_ms: Optional[float] = None,
    anchor: Optional[Union[str, os.PathLike]] = None,
) -> Dict[str, Any]:
    """One model replica under a stream of requests: ``aim-sim serve [options] --format json``.

    Poisson arrivals; vLLM V1's scheduler (continuous batching, chunked prefill, paged KV
    cache with per-layer blocks, preemption by recomputation); every engine step priced by the
    refined model under ``framework`` (docs/serving.md). Returns the settings, a summary
    (TTFT, TPOT and end-to-end percentiles, throughput, goodput, KV use, preemptions), the KV
    capacity, a timeline and one record per request; with ``find_max_rate``, the highest rate
    meeting the targets (``rate_per_s``), the run at that rate (``at_max``) and the rates
    tried. Under a fitted ``framework``, ``"interval"`` holds each latency's, rate's and
    attainment's 80 % interval (``[low, high]``: the same requests with every step at the ends
    of the profile's interval of a run's time, ``time_factors``) and a search its
    ``rate_interval_per_s``; the roofline states none. The options of the run are those of
    ``simulate`` (each request is its input).

    Args:
        rate: Poisson arrival rate, requests per second (``find_max_rate``: where the search
            starts).
        requests: Requests to simulate [default: 1000 unless ``duration`` is given].
        duration: Arrivals for this many seconds.
        seed: Seed of the arrivals and lengths (the same seed gives the same result).
        output_tokens: Output tokens per request: a count, ``"uniform:MIN:MAX"`` or
            ``"exp:MEAN"``.
        frames_dist: Frames per request drawn from a distribution [default: ``frames``].
        text_dist: Text tokens per request drawn from a distribution [default: ``text_tokens``].
        max_num_seqs: Requests in one step at most (vLLM's ``max_num_seqs``).
        max_num_batched_tokens: Tokens in one step at most (vLLM's ``max_num_batched_tokens``).
        chunked_prefill: Split long prompts across steps (vLLM V1 always does).
        block_size: Tokens per KV block.
        gpu_memory_utilization: Share of GPU memory for weights, activations and KV cache.
        kv_cache_gb: KV-cache size per GPU in GB, instead of what the memory leaves (at most
            what the GPU has left after weights and activations).
        slo_ttft: Time-to-first-token target, seconds.
        slo_tpot: Time-per-output-token target, seconds.
        slo_attainment: Share of requests that must meet the targets.
        find_max_rate: Search the highest rate at which ``slo_attainment`` of the requests meet
            the targets.
        schedules: Several schedules side by side on the same requests (``--schedules``;
            replaces ``schedule``, which may not be given beside it): the answer is the
            comparison.
        trace: Requests from a trace file instead of Poisson arrivals (``--trace``): CSV with a
            header (``arrival_s``, ``frames`` or ``visual_tokens``, ``text_tokens``,
            ``output_tokens``) or JSON Lines with those keys; the rows set each request's
            arrival and lengths, so ``frames``, ``tokens``, ``text_tokens``, ``rate``,
            ``requests``, ``duration``, ``seed``, ``output_tokens``, the distributions and
            ``find_max_rate`` may not be given beside it.
        anchor_ms: Your measured time, ms, of one request's input without token reduction,
            alone on your own stack (``--anchor-ms``): every step is priced under the
            ``framework`` profile refitted to it, as ``simulate`` refits it; the refit's note
            is in the run's ``notes``.
        anchor: A file of your own measured rows (``--anchor FILE``), as for ``simulate``.

    Raises:
        AimSimError: Bad input, or a configuration that does not run (the message names it).
    """

def budget(
    *,
    spec: Union[Spec, PathLike, Mapping[str, Any], None] = None,
    reference_schedule: Optional[Definition] = "none",
    reference_frames: Optional[int] = None,
    by: Optional[Literal["flops", "time"]] = "flops",
    max_frames: Optional[int] = 100000,
    target_reduction: Optional[float] = None,
    solve: Optional[Literal["window", "start", "end", "merge"]] = None,
    # <options:begin>
    model: Optional[Definition] = "llava-ov-7b",
    gpu: Optional[Definition] = "a100",
    framework: Optional[Definition] = "roofline",
    tokens: Optional[int] = None,
    frames: Optional[int] = None,
    tokens_per_frame: Optional[int] = None,
    image_size: Optional[str] = None,
    video_size: Optional[str] = None,
    video_seconds: Optional[float] = None,
    fps: Optional[float] = None,
    text_tokens: Optional[int] = 100,
    schedule: Optional[Definition] = "linear",
    merge_tokens_per_frame: Optional[int] = None,
    merge_keep_ratio: Optional[float] = None,
    prune_start: Optional[int] = None,
    prune_end: Optional[int] = None,
    prune_step: Optional[float] = None,
    layer_tokens: Union[Sequence[int], str, None] = None,
    selection: Optional[Selection] = None,
    cost_model: Optional[CostModel] = "refined",
    prune_timing: Optional[PruneTiming] = None,
    flash_attention: Optional[bool] = False,
    attention: Optional[Attention] = None,
    vision_attention: Optional[VisionAttention] = None,
    experts: Optional[Experts] = None,
    include_vision: Optional[bool] = False,
    gen_tokens: Optional[int] = 0,
    tp: Optional[int] = 1,
    all_logits: Optional[bool] = False,
    importance_kernel: Optional[ImportanceKernel] = "materialized",
    batch: Optional[int] = 1,
    w_bits: Optional[int] = 16,
    a_bits: Optional[int] = 16,
    kv_bits: Optional[int] = None,
    skip_mlp_add: Optional[bool] = False,
    # <options:end>
    anchor_ms: Optional[float] = None,
    anchor: Optional[Union[str, os.PathLike]] = None,
) -> Dict[str, Any]:
    """Frames a schedule fits in a reference's FLOPs or time, or the setting that reaches a
    reduction: ``aim-sim budget [options] --format json``.

    Without ``target_reduction``: the largest number of frames whose FLOPs (``by="time"``:
    prefill time) stay within the reference run's (``reference_schedule`` at
    ``reference_frames``). With it: the least aggressive ``solve`` setting (pruning
    ``"window"``, ``"start"``, ``"end"`` or ``"merge"``) whose reduction factor reaches the
    target at the given input. The options of the run are those of ``simulate``.

    Args:
        reference_schedule: Schedule of the reference run.
        reference_frames: Frames of the reference run [default: ``frames``, else the model's].
        by: Quantity compared: ``"flops"`` or ``"time"`` (prefill time).
        max_frames: Largest frame count considered.
        target_reduction: Inverse question: the least aggressive ``solve`` setting whose
            reduction factor (baseline / schedule, ``by``) reaches this. Excludes
            ``reference_frames`` and ``max_frames``.
        solve: What ``target_reduction`` varies [default: window].
        anchor_ms: Your measured time, ms, of the reference input (``reference_frames``; for
            ``target_reduction`` the run's input) without token reduction on your own stack
            (``--anchor-ms``): the ``framework`` profile refitted to it prices every time
            (``by="time"`` only).
        anchor: A file of your own measured rows (``--anchor FILE``), as for ``simulate``.

    Raises:
        AimSimError: Bad input, with the command line's one-line message.
    """

def compare(
    schedule: Union[Sequence[str], str],
    *,
    spec: Union[Spec, PathLike, Mapping[str, Any], None] = None,
    # <options:begin>
    model: Optional[Definition] = "llava-ov-7b",
    gpu: Optional[Definition] = "a100",
    framework: Optional[Definition] = "roofline",
    tokens: Optional[int] = None,
    frames: Optional[int] = None,
    tokens_per_frame: Optional[int] = None,
    image_size: Optional[str] = None,
    video_size: Optional[str] = None,
    video_seconds: Optional[float] = None,
    fps: Optional[float] = None,
    text_tokens: Optional[int] = 100,
    merge_tokens_per_frame: Optional[int] = None,
    merge_keep_ratio: Optional[float] = None,
    prune_start: Optional[int] = None,
    prune_end: Optional[int] = None,
    prune_step: Optional[float] = None,
    layer_tokens: Union[Sequence[int], str, None] = None,
    selection: Optional[Selection] = None,
    cost_model: Optional[CostModel] = "refined",
    prune_timing: Optional[PruneTiming] = None,
    flash_attention: Optional[bool] = False,
    attention: Optional[Attention] = None,
    vision_attention: Optional[VisionAttention] = None,
    experts: Optional[Experts] = None,
    include_vision: Optional[bool] = False,
    gen_tokens: Optional[int] = 0,
    tp: Optional[int] = 1,
    all_logits: Optional[bool] = False,
    importance_kernel: Optional[ImportanceKernel] = "materialized",
    batch: Optional[int] = 1,
    w_bits: Optional[int] = 16,
    a_bits: Optional[int] = 16,
    kv_bits: Optional[int] = None,
    skip_mlp_add: Optional[bool] = False,
    # <options:end>
    anchor_ms: Optional[float] = None,
    anchor: Optional[Union[str, os.PathLike]] = None,
) -> Dict[str, Any]:
    """Several schedules on one input, side by side: ``aim-sim compare --schedule A,B,...
    [options] --format json``.

    Every schedule prices the same run (the other options, those of ``simulate``), so the rows
    differ only in their schedule. Returns the CLI's JSON as a dict: the model, GPU, cost
    model, framework and input; the shared no-reduction baseline (``baseline_flops``,
    ``baseline_time_s``, ``baseline_peak_memory_bytes``); ``"rows"``, one per schedule in the
    order given, with FLOPs, bytes, ``time_s``, ``speedup`` (the first schedule's time over
    this one's), ``flops_ratio``, ``reduction_time`` and ``reduction_flops`` (the baseline's
    over this one's), peak memory and whether it fits, the pruning's importance cost, the
    tokens and time of every decoder layer, and the row's resolved ``spec``
    (``Spec.from_dict`` replays it); under a fitted ``framework`` each row's 80 %
    intervals ``time_interval_s`` and ``reduction_time_interval`` (the profile's
    ``[spread]``); ``"warnings"`` of any row, prefixed with its schedule. Base units: FLOPs,
    bytes, seconds.

    Args:
        schedule: The schedules, in order: preset names or schedule TOML paths (a list, or the
            command line's comma list ``"none,linear"``); speed-ups are against the first.
        anchor_ms: Your measured time, ms, of this input without token reduction on your own
            stack (``--anchor-ms``): every schedule is priced under the ``framework`` profile
            refitted to it, as ``simulate`` refits it; the refit's note is in ``"notes"``.
        anchor: A file of your own measured rows (``--anchor FILE``), as for ``simulate``.

    Raises:
        AimSimError: Bad input (no schedule, an unknown one, ...), with the command line's
            one-line message.
    """

def check(
    path: PathLike,
    loo: bool = False,
    loso: bool = False,
    refit_also: Optional[PathLike] = None,
    framework: Optional[Union[str, PathLike]] = None,
) -> Dict[str, Any]:
    """The published-measurement check: ``aim-sim check FILE [--cv source,row] --format json`` — every
    published measurement in the file set against aim-sim's prediction.

    Returns ``{"file", "rows": [{"id", "framework", "gpu", "measured_ms", "predicted_ms",
    "error", "roofline_ms", "roofline_error", ...}], "summary": [...], "speedups": [...],
    "speedup_summary": [...]}``; errors are ``predicted / measured - 1``; rows under a fitted
    profile carry ``predicted_interval_ms`` (80 %). ``loso=True`` adds leave-one-source-out
    predictions (each framework refitted without the row's whole source group: the error on a
    stack never fitted), ``loo=True`` leave-one-row-out (the row alone; slower).
    ``refit_also`` (``--refit-also FILE``, e.g. ``reference/measurements.toml``): those refits
    train on this file's rows and that file's too (only this file's rows are checked); the
    result's ``refit_on`` says what they trained on. With ``loso``, each summary also has
    ``loso_source_weighted`` (the median with each source group weighted equally),
    ``loso_interval_coverage_held_out`` (the 80 % interval's coverage with σ, too, estimated
    without the row's source) and ``interval_half_width`` (the intervals' median half-width).
    ``framework`` (``--framework NAME``: a preset or a profile file) prices every row under that
    profile instead of each row's own (not with ``loso`` or ``loo``, which refit each row's).

    Raises:
        AimSimError: An unreadable file, or a row naming an unknown model, GPU, framework or
            schedule (the message names the row's id).
    """

def list_presets(
    kind: Optional[Literal["gpus", "models", "schedules", "frameworks"]] = None,
) -> Dict[str, Any]:
    """The embedded presets, as ``aim-sim list`` prints them.

    Without ``kind``: ``{"gpus": {name: description}, "models": {...}, "schedules": {...},
    "frameworks": {...}}``;
    with it, that kind's ``{name: description}``, in file order.
    """
