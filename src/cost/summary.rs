//! Parts of a [`super::RunCost`] beyond the per-operator lists, filled by the refined model:
//! pipeline times, KV cache, decode and peak memory. Base units throughout.

use super::TimedOp;
use serde::Serialize;

/// Where the time to first token goes, stage by stage (per GPU under tensor parallelism).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Pipeline {
    /// Vision encoder + pooling + projector (`--include-vision`), else 0.
    pub vision_time_s: f64,
    pub vision_flops: f64,
    /// Per-frame token merging before the LLM.
    pub merge_time_s: f64,
    pub merge_flops: f64,
    /// Decoder layers and head, including importance and communication.
    pub llm_time_s: f64,
    pub llm_flops: f64,
    /// Of `llm_time_s`: importance scoring, top-k and gather at the pruning layers.
    pub importance_time_s: f64,
    pub importance_flops: f64,
    /// Of `llm_time_s`: tensor-parallel all-reduces.
    pub communication_time_s: f64,
    /// Time to first token: vision + merge + LLM prefill.
    pub ttft_s: f64,
    /// `--gen-tokens` decode steps, else 0.
    pub decode_time_s: f64,
    /// TTFT + decode.
    pub end_to_end_time_s: f64,
}

/// KV-cache bytes after the prefill: `2 · n_l · Hkv · d · kv_bytes · batch` per layer (per GPU).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct KvCache {
    pub bytes_per_layer: Vec<f64>,
    pub total_bytes: f64,
}

/// `G` decode steps: step `s` of layer `l` attends over that layer's `n_l + s + 1` cached tokens.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Decode {
    pub gen_tokens: u64,
    pub flops: f64,
    pub bytes: f64,
    pub time_s: f64,
    pub first_step_time_s: f64,
    pub last_step_time_s: f64,
    /// KV cache once every generated token is cached.
    pub final_kv_cache_bytes: f64,
    /// Each operator summed over layers and steps.
    pub operators: Vec<TimedOp>,
}

/// Peak device memory of the prefill: weights + KV cache + the largest live activations.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct PeakMemory {
    pub weights_bytes: f64,
    pub kv_cache_bytes: f64,
    /// Largest set of activations alive at one moment.
    pub activations_bytes: f64,
    /// Where that moment is, e.g. "layer 14 importance (H×n×n fp32)".
    pub activations_at: String,
    /// Of `activations_bytes`: an `n × n` attention or importance map, when one is live.
    pub attention_map_bytes: f64,
    pub peak_bytes: f64,
    /// The GPU's `memory`.
    pub device_bytes: f64,
}

/// How a mixture-of-experts prefill uses its experts (MoE models only; per GPU under tensor
/// parallelism). With uniform routing a layer of `n` tokens (times the batch) touches
/// `E·(1 − (1 − k/E)^n)` distinct experts on average; only their weights are read.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ExpertUse {
    pub num_experts: u64,
    pub experts_per_token: u64,
    /// Zipf exponent of expert popularity assumed (0: uniform).
    pub routing_skew: f64,
    /// Expected distinct experts each decoder layer's tokens touch (0 in dense layers).
    pub touched_per_layer: Vec<f64>,
    /// Routed-expert weights read by the prefill (touched experts only), bytes.
    pub expert_weight_bytes_read: f64,
    /// Routed-expert weights held in memory (every expert of every MoE layer), bytes.
    pub expert_weight_bytes_held: f64,
}
