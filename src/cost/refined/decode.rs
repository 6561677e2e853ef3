//! `--gen-tokens G` decode steps after the prefill, with the KV cache as pruned: layer `l`
//! keeps only its own `n_l` prefill tokens, so step `s` attends over `n_l + s + 1` of them.

use super::kernel::{accumulate, aggregate, Timer};
use super::layer::{decode_attention, head_ops, layer_ops, Dims};
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
pub fn decode(d: &Dims, timer: &Timer, layer_tokens: &[u64], gen_tokens: u64) -> Decode {
    let g = gen_tokens as f64;
    let layers = layer_tokens.len() as f64;
    // Everything but attention is the same for every layer and step: one token through the
    // weights (memory-bound: each step streams all weights once).
    let fixed: Vec<TimedOp> = layer_ops(d, 1.0, Vec::new())
        .into_iter()
        .chain(head_ops(d, 1.0, 1.0))
        .map(|k| timer.time(k))
        .collect();
    let head_names = ["final_norm", "lm_head", "logits_all_gather"];
    let per_layer_fixed_s: f64 = fixed
        .iter()
        .filter(|t| !head_names.contains(&t.op.name))
        .map(|t| t.time_s)
        .sum();
    let head_s: f64 = fixed
        .iter()
        .filter(|t| head_names.contains(&t.op.name))
        .map(|t| t.time_s)
        .sum();
    let mut operators: Vec<TimedOp> = fixed
        .iter()
        .map(|t| {
            let reps = if head_names.contains(&t.op.name) {
                g
            } else {
                g * layers
            };
            scaled(t, reps)
        })
        .collect();

    // Attention grows with the cache: summed step by step.
    let mut attention: Option<TimedOp> = None;
    let mut compute_s = 0.0;
    let (mut first_step_s, mut last_step_s) = (0.0, 0.0);
    for s in 0..gen_tokens {
        let mut step_s = layers * per_layer_fixed_s + head_s;
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
