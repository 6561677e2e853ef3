//! Real kernels for AIM's token reduction: token merging, PageRank importance (materialising and
//! fused), pruning (select + gather) and causal attention (flash and eager), written in CUDA C
//! (`kernels/*.cu`), compiled at run time by NVRTC and launched through cudarc; each with a CPU
//! reference of identical semantics in [`cpu`].
//!
//! Nothing here needs CUDA to build. At run time the libraries are opened on demand:
//! [`gpu_status`] and [`nvrtc::nvrtc_status`] say in one line why a GPU path cannot run, and
//! every GPU entry point returns [`KernelError::Unavailable`] instead of panicking.
//!
//! [`launch`] computes every kernel's grid and block, checked against CUDA's limits, for the GPU
//! launchers and for `emu` (feature `emu`, on in tests), which executes the same `.cu` sources on
//! the CPU; [`tolerance`] compares outputs with the references using relative tolerances.

pub mod cpu;
#[cfg(feature = "emu")]
pub mod emu;
pub mod error;
#[cfg(feature = "cuda")]
pub mod gpu;
pub mod launch;
#[cfg(feature = "cuda")]
pub mod nvrtc;
pub mod rng;
pub mod tolerance;
pub mod work;

pub use error::KernelError;
#[cfg(feature = "cuda")]
pub use gpu::gpu_status;

use serde::Serialize;

/// The header every kernel source includes as `#include "common.cuh"`.
pub const COMMON_HEADER: &str = include_str!("../../kernels/common.cuh");

/// The CUDA sources, one per op family.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelSource {
    /// `kernels/merge.cu`: per-frame bipartite soft matching.
    Merge,
    /// `kernels/pagerank.cu`: PageRank importance, top-k selection and gather.
    PageRank,
    /// `kernels/attention.cu`: causal attention, flash and eager.
    Attention,
    /// `kernels/layers.cu`: a decoder layer's element-wise passes (RMSNorm, RoPE, SwiGLU,
    /// residual add) and a copy.
    Layers,
}

impl KernelSource {
    pub const ALL: [KernelSource; 4] = [
        KernelSource::Merge,
        KernelSource::PageRank,
        KernelSource::Attention,
        KernelSource::Layers,
    ];

    /// Path of the source relative to the repository root.
    pub fn file_name(self) -> &'static str {
        match self {
            KernelSource::Merge => "kernels/merge.cu",
            KernelSource::PageRank => "kernels/pagerank.cu",
            KernelSource::Attention => "kernels/attention.cu",
            KernelSource::Layers => "kernels/layers.cu",
        }
    }

    /// The CUDA C text, embedded at build time.
    pub fn source(self) -> &'static str {
        match self {
            KernelSource::Merge => include_str!("../../kernels/merge.cu"),
            KernelSource::PageRank => include_str!("../../kernels/pagerank.cu"),
            KernelSource::Attention => include_str!("../../kernels/attention.cu"),
            KernelSource::Layers => include_str!("../../kernels/layers.cu"),
        }
    }

    /// Every `extern "C" __global__` entry point the launchers use. The NVRTC test checks that
    /// each one is present in the compiled PTX, so a renamed kernel fails CI, not a GPU run.
    pub fn entry_points(self) -> &'static [&'static str] {
        match self {
            KernelSource::Merge => &[
                "merge_scores_f32",
                "merge_scores_bf16",
                "merge_match",
                "merge_apply_f32",
                "merge_apply_bf16",
            ],
            KernelSource::PageRank => &[
                "pagerank_fill",
                "pagerank_softmax",
                "pagerank_step",
                "pagerank_rms",
                "pagerank_row_stats_d64_f32",
                "pagerank_row_stats_d64_bf16",
                "pagerank_row_stats_d128_f32",
                "pagerank_row_stats_d128_bf16",
                "pagerank_fused_step_d64_f32",
                "pagerank_fused_step_d64_bf16",
                "pagerank_fused_step_d128_f32",
                "pagerank_fused_step_d128_bf16",
                "select_flags",
                "select_compact",
                "gather_rows_f32",
                "gather_rows_bf16",
            ],
            KernelSource::Attention => &[
                "attn_flash_d64_f32",
                "attn_flash_d64_bf16",
                "attn_flash_d128_f32",
                "attn_flash_d128_bf16",
                "attn_logits_d64_f32",
                "attn_logits_d64_bf16",
                "attn_logits_d128_f32",
                "attn_logits_d128_bf16",
                "attn_softmax",
                "attn_pv_d64_f32",
                "attn_pv_d64_bf16",
                "attn_pv_d128_f32",
                "attn_pv_d128_bf16",
            ],
            KernelSource::Layers => &[
                "layer_rmsnorm_f32",
                "layer_rmsnorm_bf16",
                "layer_rope_f32",
                "layer_rope_bf16",
                "layer_swiglu_f32",
                "layer_swiglu_bf16",
                "layer_add_f32",
                "layer_add_bf16",
                "layer_copy_f32",
                "layer_copy_bf16",
            ],
        }
    }
}

/// Head dimensions the attention and fused-importance kernels are instantiated for.
pub const SUPPORTED_HEAD_DIMS: [usize; 2] = [64, 128];

/// Element type of kernel inputs and outputs (accumulation is always f32).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Dtype {
    F32,
    Bf16,
}

impl Dtype {
    /// Bytes per element.
    pub fn bytes(self) -> usize {
        match self {
            Dtype::F32 => 4,
            Dtype::Bf16 => 2,
        }
    }

    /// The suffix of the kernel entry points for this type.
    pub fn suffix(self) -> &'static str {
        match self {
            Dtype::F32 => "f32",
            Dtype::Bf16 => "bf16",
        }
    }
}

impl std::fmt::Display for Dtype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.suffix())
    }
}

/// A host/device element type the kernels accept.
#[cfg(feature = "cuda")]
pub trait Element:
    cudarc::driver::DeviceRepr
    + cudarc::driver::ValidAsZeroBits
    + Copy
    + Default
    + Send
    + Sync
    + 'static
{
    const DTYPE: Dtype;
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
}

#[cfg(feature = "cuda")]
impl Element for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
}

#[cfg(feature = "cuda")]
impl Element for half::bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    fn from_f32(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        half::bf16::to_f32(self)
    }
}

/// Shapes of one attention call: `heads` query heads over `kv_heads` key/value heads (GQA),
/// `tokens` positions, `head_dim` features per head. Layout is head-major: Q `[heads, tokens,
/// head_dim]`, K and V `[kv_heads, tokens, head_dim]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct AttnShape {
    pub heads: usize,
    pub kv_heads: usize,
    pub tokens: usize,
    pub head_dim: usize,
}

impl AttnShape {
    /// Checks the sizes every implementation (CPU or GPU) needs.
    pub fn check(&self, kernel: &'static str) -> Result<(), KernelError> {
        if self.heads == 0 || self.kv_heads == 0 || self.tokens == 0 || self.head_dim == 0 {
            return Err(KernelError::shape(
                kernel,
                format!("every size must be positive, got {self:?}"),
            ));
        }
        if !self.heads.is_multiple_of(self.kv_heads) {
            return Err(KernelError::shape(
                kernel,
                format!(
                    "kv_heads = {} does not divide heads = {}",
                    self.kv_heads, self.heads
                ),
            ));
        }
        if self.tokens > i32::MAX as usize / 2 {
            return Err(KernelError::shape(
                kernel,
                format!("{} tokens is beyond the kernels' i32 sizes", self.tokens),
            ));
        }
        Ok(())
    }

    /// The KV head query head `h` reads.
    pub fn kv_head(&self, h: usize) -> usize {
        h / (self.heads / self.kv_heads)
    }

    pub fn q_len(&self) -> usize {
        self.heads * self.tokens * self.head_dim
    }

    pub fn kv_len(&self) -> usize {
        self.kv_heads * self.tokens * self.head_dim
    }

    /// `1 / sqrt(head_dim)`, the logit scale.
    pub fn scale(&self) -> f32 {
        1.0 / (self.head_dim as f32).sqrt()
    }

    /// Visible (query, key) pairs per head under the causal mask: `n (n + 1) / 2`.
    pub(crate) fn causal_pairs(&self) -> f64 {
        let n = self.tokens as f64;
        n * (n + 1.0) / 2.0
    }
}

/// AIM's importance softmax temperature and power iterations: the refined cost model's, one
/// definition for the kernels and the priced work (paper-cases.md, "PageRank importance in
/// the code").
pub use crate::cost::refined::{PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE};

/// Token counts of each merging pass that takes a frame of `tokens` down to `target`: every pass
/// merges `r = min(current - target, current / 2)` tokens (ToMe's bound: at most half), so
/// 196 → 49 is `[98, 49]` (196 → 98 → 49).
pub fn merge_passes(tokens: usize, target: usize) -> Result<Vec<usize>, KernelError> {
    if target == 0 || target > tokens {
        return Err(KernelError::shape(
            "merge",
            format!("cannot merge {tokens} tokens per frame down to {target}"),
        ));
    }
    let mut current = tokens;
    let mut passes = Vec::new();
    while current > target {
        let r = (current - target).min(current / 2);
        if r == 0 {
            return Err(KernelError::shape(
                "merge",
                format!("cannot merge a frame of {current} tokens any further (target {target})"),
            ));
        }
        passes.push(r);
        current -= r;
    }
    Ok(passes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_passes_follow_the_half_bound() {
        assert_eq!(merge_passes(196, 49).unwrap(), vec![98, 49]);
        assert_eq!(merge_passes(196, 98).unwrap(), vec![98]);
        assert_eq!(merge_passes(196, 196).unwrap(), Vec::<usize>::new());
        // 196 → 98 → 49 → 25 → 24
        assert_eq!(merge_passes(196, 24).unwrap(), vec![98, 49, 24, 1]);
        assert_eq!(merge_passes(576, 252).unwrap(), vec![288, 36]);
        assert!(merge_passes(196, 0).is_err());
        assert!(merge_passes(196, 197).is_err());
    }

    #[test]
    fn every_entry_point_is_defined_in_its_source() {
        for source in KernelSource::ALL {
            for name in source.entry_points() {
                assert!(
                    source.source().contains(name) || source.source().contains(&macro_stem(name)),
                    "{name} not found in {}",
                    source.file_name()
                );
            }
        }
    }

    /// `attn_flash_d64_f32` is generated by a macro from `attn_flash_d##D##_##SUFFIX`.
    fn macro_stem(name: &str) -> String {
        let stem = name.split("_d").next().unwrap_or(name);
        format!("{stem}_d##D##_##SUFFIX")
    }
}
