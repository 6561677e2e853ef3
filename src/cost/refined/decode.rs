//! `--gen-tokens G` decode steps after the prefill, with the KV cache as pruned: layer `l`
//! keeps only its own `n_l` prefill tokens, so step `s` attends over `n_l + s + 1` of them.

use super::decoder::Arch;
use super::kernel::{accumulate, aggregate, Timer};
use super::layer::{decode_attention, head_ops, Dims};
use crate::cost::{Bound, Decode, TimedOp};

/// `t` repeated `k` times.
fn scaled(t: &TimedOp, k: f64) -> TimedOp {
    let mut s = t.clone();
    s.op = s.op.scaled(k);
    s.bytes *= k;
    s.time_s *= k;
    s
}

/// Prices `gen_tokens` decode steps.
pub fn decode(
    d: &Dims,
    arch: &Arch,
    timer: &Timer,
    layer_tokens: &[u64],
    gen_tokens: u64,
) -> Decode {
    let g = gen_tokens as f64;
    // Everything but attention is the same for every step and every layer of one kind (dense,
    // or routing through experts): one token through the weights (memory-bound: each step
    // streams the weights once, in a MoE layer those of the experts its tokens touch).
    let mut operators: Vec<TimedOp> = Vec::new();
    let mut layers_fixed_s = 0.0;
    for (count, layer) in arch.layer_kinds(layer_tokens.len()) {
        let fixed: Vec<TimedOp> = arch
            .layer_ops(d, layer, 1.0, Vec::new())
            .into_iter()
            .map(|k| timer.time(k))
            .collect();
        let per_layer_fixed_s: f64 = fixed.iter().map(|t| t.time_s).sum();
        layers_fixed_s += count as f64 * per_layer_fixed_s;
        operators.extend(fixed.iter().map(|t| scaled(t, g * count as f64)));
    }
    let head: Vec<TimedOp> = head_ops(d, 1.0, 1.0)
        .into_iter()
        .map(|k| timer.time(k))
        .collect();
    let head_s: f64 = head.iter().map(|t| t.time_s).sum();
    operators.extend(head.iter().map(|t| scaled(t, g)));

    // Attention grows with the cache: summed step by step.
    let mut attention: Option<TimedOp> = None;
    let mut compute_s = 0.0;
    let (mut first_step_s, mut last_step_s) = (0.0, 0.0);
    for s in 0..gen_tokens {
        let mut step_s = layers_fixed_s + head_s;
        for &n in layer_tokens {
            let t = timer.time(decode_attention(d, (n + s + 1) as f64));
            step_s += t.time_s;
            if t.bound == Bound::Compute {
                compute_s += t.time_s;
            }
            match &mut attention {
                None => attention = Some(t),
                Some(acc) => accumulate(acc, &t),
            }
        }
        if s == 0 {
            first_step_s = step_s;
        }
        last_step_s = step_s;
    }
    if let Some(mut a) = attention {
        a.arithmetic_intensity = a.op.flops / a.bytes;
        a.bound = if compute_s >= a.time_s - compute_s {
            Bound::Compute
        } else {
            Bound::Memory
        };
        operators.insert(5, a);
    }
    let operators = aggregate(&operators);
    let final_kv: f64 = layer_tokens
        .iter()
        .map(|&n| d.kv_bytes((n + gen_tokens) as f64))
        .sum();
    Decode {
        gen_tokens,
        flops: operators.iter().map(|o| o.op.flops).sum(),
        bytes: operators.iter().map(|o| o.bytes).sum(),
        time_s: operators.iter().map(|o| o.time_s).sum(),
        first_step_time_s: first_step_s,
        last_step_time_s: last_step_s,
        final_kv_cache_bytes: final_kv,
        operators,
    }
}
