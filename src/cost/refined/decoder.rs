//! This model's decoder layers: the dense layer of [`super::layer`] with the model's variants
//! put in place — Qwen3's per-head q/k RMSNorm before RoPE, and a mixture-of-experts MLP
//! ([`super::moe`]) instead of the dense SwiGLU in the layers that route. A model with neither
//! gets exactly [`layer::layer_ops`].

use super::kernel::{kernel, Call, Class, Kernel};
use super::layer::{self, Dims, RMSNORM_FLOPS};
use super::moe::{self, MoeDims};
use crate::cost::{Context, ExpertUse, OpKind};
use crate::experts::ExpertsImpl;

/// The dense MLP kernels a routed layer replaces (with their dequantisation kernels).
const DENSE_MLP: &[&str] = &[
    "gate_proj_dequant",
    "gate_proj",
    "up_proj_dequant",
    "up_proj",
    "silu_mul",
    "down_proj_dequant",
    "down_proj",
];

/// What distinguishes this model's layers from the plain dense layer.
#[derive(Debug, Clone)]
pub struct Arch {
    pub qk_norm: bool,
    pub moe: Option<MoeDims>,
    /// Per decoder layer: whether its MLP routes through the experts.
    sparse: Vec<bool>,
}

impl Arch {
    pub fn new(ctx: &Context) -> Arch {
        let m = ctx.model;
        Arch {
            qk_norm: m.qk_norm,
            // As the run says (scenario.rs resolves the stack's default), else fused.
            moe: m.moe.as_ref().map(|x| {
                MoeDims::new(
                    x,
                    ctx.options.tp,
                    ctx.options.experts.unwrap_or(ExpertsImpl::Fused),
                )
            }),
            // Read only with `moe` (no allocation for a dense model, once per prefill).
            sparse: match m.moe {
                Some(_) => (0..m.num_layers).map(|l| m.is_moe_layer(l)).collect(),
                None => Vec::new(),
            },
        }
    }

    /// Neither variant: the layer of `layer.rs` as it is.
    pub fn is_plain(&self) -> bool {
        !self.qk_norm && self.moe.is_none()
    }

    /// Whether layer `i` routes its MLP through experts.
    pub fn routes(&self, i: usize) -> bool {
        self.routed(i).is_some()
    }

    /// The MoE shapes when layer `i` routes.
    fn routed(&self, i: usize) -> Option<&MoeDims> {
        self.moe
            .as_ref()
            .filter(|_| self.sparse.get(i).copied().unwrap_or(false))
    }

    /// The operators of decoder layer `i` for `n` new tokens, `attention` in the middle.
    pub fn layer_ops(&self, d: &Dims, i: usize, n: f64, attention: Vec<Kernel>) -> Vec<Kernel> {
        let mut ops = layer::layer_ops(d, n, attention);
        if self.qk_norm {
            let at = ops
                .iter()
                .position(|k| k.op.name == "rope")
                .unwrap_or(ops.len());
            ops.insert(at, qk_norm(d, n));
        }
        if let Some(m) = self.routed(i) {
            let first = ops.iter().position(|k| DENSE_MLP.contains(&k.op.name));
            let last = ops.iter().rposition(|k| DENSE_MLP.contains(&k.op.name));
            if let (Some(first), Some(last)) = (first, last) {
                ops.splice(first..=last, moe::mlp(d, m, n));
            }
        }
        ops
    }

    /// Weights of decoder layer `i` on this GPU (parameters).
    fn layer_params(&self, d: &Dims, i: usize) -> f64 {
        let mut p = d.layer_params();
        if self.qk_norm {
            p += 2.0 * d.d; // q_norm and k_norm weights
        }
        if let Some(m) = self.routed(i) {
            p += m.mlp_params(d) - 3.0 * d.h * d.inter;
        }
        p
    }

    /// Weights of all `layers` decoder layers on this GPU (parameters), every expert included.
    pub fn layers_params(&self, d: &Dims, layers: usize) -> f64 {
        if self.is_plain() {
            return layers as f64 * d.layer_params();
        }
        (0..layers).map(|i| self.layer_params(d, i)).sum()
    }

    /// The MLP's largest live activation in layer `i` with `n` tokens (bytes).
    pub fn mlp_activation_bytes(&self, d: &Dims, i: usize, n: f64) -> f64 {
        match self.routed(i) {
            Some(m) => m.activation_bytes(d, n),
            None => 3.0 * n * d.inter * d.b * d.a,
        }
    }

    /// Runs of identical layers for one decode token: (count, layer index of the run's kind).
    pub fn layer_kinds(&self, layers: usize) -> Vec<(usize, usize)> {
        let dense = (0..layers).find(|&i| self.routed(i).is_none());
        let sparse = (0..layers).find(|&i| self.routed(i).is_some());
        let n_sparse = (0..layers).filter(|&i| self.routed(i).is_some()).count();
        [(layers - n_sparse, dense), (n_sparse, sparse)]
            .into_iter()
            .filter_map(|(count, first)| first.map(|i| (count, i)))
            .collect()
    }

    /// How the prefill's MoE layers use their experts; `None` for a dense model.
    pub fn expert_use(&self, d: &Dims, layer_tokens: &[u64]) -> Option<ExpertUse> {
        let m = self.moe.as_ref()?;
        let expert_bytes = m.expert_params(d) * d.w;
        let touched: Vec<f64> = layer_tokens
            .iter()
            .enumerate()
            .map(|(i, &n)| match self.routed(i) {
                Some(m) => m.touched(n as f64 * d.b),
                None => 0.0,
            })
            .collect();
        let routed = (0..layer_tokens.len())
            .filter(|&i| self.routed(i).is_some())
            .count();
        Some(ExpertUse {
            num_experts: m.moe.num_experts,
            experts_per_token: m.moe.experts_per_token,
            routing_skew: m.moe.routing_skew,
            expert_weight_bytes_read: touched.iter().sum::<f64>() * expert_bytes,
            expert_weight_bytes_held: routed as f64 * m.experts * expert_bytes,
            touched_per_layer: touched,
        })
    }
}

/// Qwen3 QK-norm: RMSNorm over each head's `d` channels of q and k (before RoPE; k then goes
/// to the cache).
fn qk_norm(d: &Dims, n: f64) -> Kernel {
    let q = n * d.q_width() * d.b;
    let k = n * d.kv_width() * d.b;
    kernel(
        "qk_norm",
        OpKind::Norm,
        Class::Elementwise,
        RMSNORM_FLOPS * (q + k),
        Call::Elementwise {
            elements: q + k,
            width: d.d,
            count: 1.0,
        },
    )
    .weights(2.0 * d.d * d.w)
    .reads(q * d.a)
    .reads_kv(k * d.kv)
    .writes(q * d.a)
    .writes_kv(k * d.kv)
}
