//! The PyTorch ops an eager-dispatch framework (HF transformers) runs for each modelled kernel.
//! Such a framework pays its per-kernel overhead per op — Python module calls and one CUDA
//! launch each, the GPU idle between small ones — so a kernel the model fuses into one launch
//! costs what HF actually launches for it. Counted from transformers 4.37 (the version LLaVA
//! pins), per modelled launch:
//!
//! - `LlamaRMSNorm.forward`: `to(float32)`, `pow(2)`, `mean(-1)`, `+ eps`, `rsqrt`, `*`,
//!   `to(dtype)`, `weight *` — 8 ops;
//! - rotary embedding: the cached `cos`/`sin` cast to the activation type (2) and indexed by
//!   position (2); `apply_rotary_pos_emb` on q and on k: `* cos`, `rotate_half` (`neg`, `cat`),
//!   `* sin`, `+` (5 each) — 14 ops for one modelled `rope`;
//! - `LlamaSdpaAttention`: `contiguous()` on q, k and v (the memory-efficient backend needs
//!   them with a mask), the SDPA call, the output's `transpose(1, 2).contiguous()` — 5 ops;
//!   eager attention's output copy — 1 more op beside its `P·V` GEMM;
//! - the MLP's `act_fn(gate) * up`: `silu` and `*` — 2 ops;
//! - AIM's merging as its code writes it (dragonlzm/AIM `llava/model/token_merge.py`, per pass):
//!   `norm` and `/` (normalise, 2), `a @ bᵀ` (1), `max` (1), `argsort` and the index `gather`
//!   (2), two `gather`s, `scatter_reduce` and `cat` (4);
//! - DivPrune's selection (vbdi/divprune `DivPrune`): normalise (2), the first pick (`topk`, a
//!   row view, `argmax`, the store: 4), each later greedy step (`arange`, two `index_select`s,
//!   `min`, `argmax`, the store: 6), the kept indices sorted and gathered (2); CDPruner's
//!   (Theia-4869/CDPruner): each DPP step 16 ops, its other kernels one launch an op (counted
//!   in their launches: [`super::selection`]);
//! - PageRank importance in PyTorch: mask add, `/ τ`, `softmax` (3); per power iteration a
//!   `matmul` and its normalisation (2); `pow`, `mean`, `sqrt` over heads (3); `topk` and the
//!   sort of its indices (2); the kept rows' index `gather`, the `cat` with the text tokens and
//!   the positions' gather (3);
//! - a mixture-of-experts block as transformers runs it ([`crate::experts::ExpertsImpl`]):
//!   the router's `softmax`, `topk`, `sum`, `/` and cast (5); the loop's expert mask
//!   (`one_hot`, the output's `zeros`, `sum`, `greater`, `nonzero`: 5) and per hit expert its
//!   `where`, token gather, routing-weight index, `*` and `index_add_` (5) beside its linear
//!   layers and `act_fn(gate) * up` (2); all experts at once: `zeros_like` + `scatter_` of the
//!   routing weights (2), `repeat` (1), and `* routing_weights`, `sum` (2);
//! - everything else (linear layers, residual adds, LayerNorm, the vision tower's GELU, the
//!   eager score passes already counted one launch per op): 1 op each.
//!
//! The vision towers (CLIP, SigLIP) are mostly one op per modelled kernel, the Llama-style LLM
//! about three: fitted on whole LLaVA runs, one per-kernel overhead over-priced a bare
//! encoder's forward by 2–2.5× (transformers' CLIP benchmark rows in
//! reference/measurements.toml).

use super::kernel::Kernel;

/// Ops HF runs per modelled launch of the kernel named `name`.
pub fn ops_per_launch(name: &str) -> f64 {
    match name {
        "attn_norm" | "mlp_norm" | "final_norm" => 8.0,
        "rope" => 14.0,
        "flash_attention" => 5.0,
        "sv_matmul" => 2.0,
        "silu_mul" | "expert_silu_mul" | "shared_silu_mul" => 2.0,
        "router_topk" | "moe_align" | "expert_loop_index" => 5.0,
        "router_scatter" | "moe_weighted_sum" => 2.0,
        "merge_normalize" | "merge_sort" => 2.0,
        "merge_scatter_mean" => 4.0,
        "divprune_normalize" | "divprune_gather_kept" => 2.0,
        "divprune_first_pick" => 4.0,
        "divprune_greedy_steps" => 6.0,
        "cdpruner_dpp_steps" => 16.0,
        "importance_softmax_t0.1" | "importance_rms_over_heads" | "gather_kept" => 3.0,
        "pagerank_power_iterations" | "topk_visual" => 2.0,
        _ => 1.0,
    }
}

/// The ops an eager-dispatch framework runs for `k`: its launches times the ops of one.
pub fn ops(k: &Kernel) -> f64 {
    k.launches * ops_per_launch(k.op.name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::refined::kernel::{no_work, Timer};
    use crate::cost::Roofline;
    use crate::hardware::Efficiency;

    /// Under an eager-dispatch profile a kernel pays the overhead of every op HF runs for it
    /// (an RMSNorm eight, a linear layer one); otherwise once per modelled launch.
    #[test]
    fn an_eager_dispatch_framework_pays_per_op() {
        let e = |dispatch: bool| Efficiency {
            launch_overhead_s: 1e-5,
            eager_dispatch: dispatch,
            ..Efficiency::ideal()
        };
        let roofline = Roofline {
            peak_flops_per_s: 1e15,
            bandwidth_bytes_per_s: 1e12,
        };
        let time = |dispatch: bool, name: &'static str| {
            Timer::new(roofline, Some(&e(dispatch)), None, false)
                .time(no_work(name))
                .time_s
        };
        assert!((time(true, "attn_norm") - 8e-5).abs() < 1e-15);
        assert!((time(true, "q_proj") - 1e-5).abs() < 1e-15);
        assert!((time(false, "attn_norm") - 1e-5).abs() < 1e-15);
        // A kernel of several modelled launches pays each launch's ops.
        assert_eq!(ops(&no_work("rope").launches(2.0)), 28.0);
        // transformers' expert loop: 5 bookkeeping ops per hit expert.
        assert_eq!(ops(&no_work("expert_loop_index").launches(3.0)), 15.0);
    }
}
