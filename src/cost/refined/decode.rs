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

/// Decode attention over every context `c` in `first..=last`, summed in closed form: one timed
/// entry per stretch of steps that share a roofline bound, with that bound.
///
/// The kernel's FLOPs and bytes are affine in `c` ([`decode_attention`]), so `Σ_c K(c)` is
/// `K(mid)` repeated `count` times, `mid = (first + last) / 2`. Within one bound a kernel's time
/// (`Timer::time`: `flops / peak` or `bytes / bandwidth`, scaled by a fixed efficiency, plus
/// `launches × overhead`) is linear in the kernel, so the stretch's time is the time of that
/// sum. Arithmetic intensity `α·c / (β₀ + β₁·c)` rises with `c`, so the bound switches at most
/// once along the series: found by bisection on `Timer::time`'s own bound, O(log G) timings.
fn attention_series(d: &Dims, timer: &Timer, first: u64, last: u64) -> Vec<(TimedOp, Bound)> {
    let bound = |c: u64| timer.time(decode_attention(d, c as f64)).bound;
    let sum = |from: u64, to: u64| {
        let mid = (from + to) as f64 / 2.0;
        let count = (to - from + 1) as f64;
        timer.time(decode_attention(d, mid).times(count))
    };
    if first > last {
        return Vec::new();
    }
    let (b_first, b_last) = (bound(first), bound(last));
    if b_first == b_last {
        return vec![(sum(first, last), b_first)];
    }
    // Invariant: bound(lo) = b_first, bound(hi) = b_last.
    let (mut lo, mut hi) = (first, last);
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if bound(mid) == b_first {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    vec![(sum(first, lo), b_first), (sum(hi, last), b_last)]
}

/// Prices `gen_tokens` decode steps, in O(layers · log G).
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

    // Attention grows with the cache: layer l's steps attend over c = n_l + 1 ..= n_l + G
    // tokens. Summed in closed form, O(log G) per layer (see `attention_series`).
    let mut attention: Option<TimedOp> = None;
    let mut compute_s = 0.0;
    for &n in layer_tokens {
        for (t, bound) in attention_series(d, timer, n + 1, n + gen_tokens) {
            if bound == Bound::Compute {
                compute_s += t.time_s;
            }
            match &mut attention {
                None => attention = Some(t),
                Some(acc) => accumulate(acc, &t),
            }
        }
    }
    // The first and last steps, each over every layer as the loop over steps adds them.
    let step_s = |s: u64| {
        let mut step_s = layers_fixed_s + head_s;
        for &n in layer_tokens {
            step_s += timer.time(decode_attention(d, (n + s + 1) as f64)).time_s;
        }
        step_s
    };
    let (first_step_s, last_step_s) = if gen_tokens > 0 {
        (step_s(0), step_s(gen_tokens - 1))
    } else {
        (0.0, 0.0)
    };
    finish(
        d,
        layer_tokens,
        gen_tokens,
        operators,
        attention,
        compute_s,
        (first_step_s, last_step_s),
    )
}

/// The [`Decode`] of the fixed operators and the summed attention (placed after `rope`, as in
/// a layer; compute-bound when compute-bound steps take most of its time), with the steps'
/// first and last times. Shared by the closed form and the step-by-step reference of its tests.
fn finish(
    d: &Dims,
    layer_tokens: &[u64],
    gen_tokens: u64,
    mut operators: Vec<TimedOp>,
    attention: Option<TimedOp>,
    compute_s: f64,
    (first_step_s, last_step_s): (f64, f64),
) -> Decode {
    if let Some(mut a) = attention {
        a.arithmetic_intensity = a.op.flops / a.bytes;
        a.bound = if compute_s >= a.time_s - compute_s {
            Bound::Compute
        } else {
            Bound::Memory
        };
        // After the first `rope` (not at a fixed index: Qwen3's q/k norm comes before it).
        let at = operators
            .iter()
            .position(|o| o.op.name == "rope")
            .map_or(operators.len(), |i| i + 1);
        operators.insert(at, a);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cost::refined::layer::layer_ops;
    use crate::cost::{Context, Precision, RunOptions};
    use crate::hardware::{Efficiency, Gpu};
    use crate::model::Model;
    use proptest::prelude::*;

    /// The straightforward sum: every step, every layer, one timed kernel each (the code the
    /// closed form replaced).
    fn decode_by_steps(d: &Dims, timer: &Timer, layer_tokens: &[u64], gen_tokens: u64) -> Decode {
        let g = gen_tokens as f64;
        let layers = layer_tokens.len() as f64;
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
        let operators: Vec<TimedOp> = fixed
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
        finish(
            d,
            layer_tokens,
            gen_tokens,
            operators,
            attention,
            compute_s,
            (first_step_s, last_step_s),
        )
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-12 * a.abs().max(b.abs())
    }

    fn assert_same(fast: &Decode, slow: &Decode, what: &str) {
        for (name, a, b) in [
            ("flops", fast.flops, slow.flops),
            ("bytes", fast.bytes, slow.bytes),
            ("time_s", fast.time_s, slow.time_s),
            ("first_step", fast.first_step_time_s, slow.first_step_time_s),
            ("last_step", fast.last_step_time_s, slow.last_step_time_s),
            (
                "final_kv",
                fast.final_kv_cache_bytes,
                slow.final_kv_cache_bytes,
            ),
        ] {
            assert!(close(a, b), "{what}: {name} {a} vs {b}");
        }
        assert_eq!(fast.gen_tokens, slow.gen_tokens);
        assert_eq!(fast.operators.len(), slow.operators.len(), "{what}");
        for (f, s) in fast.operators.iter().zip(&slow.operators) {
            assert_eq!(
                (f.op.name, f.op.kind, f.bound),
                (s.op.name, s.op.kind, s.bound)
            );
            for (name, a, b) in [
                ("flops", f.op.flops, s.op.flops),
                ("bytes", f.bytes, s.bytes),
                ("time_s", f.time_s, s.time_s),
                ("load_act", f.op.load_act_bytes, s.op.load_act_bytes),
                ("load_kv", f.op.load_kv_bytes, s.op.load_kv_bytes),
                ("store_act", f.op.store_act_bytes, s.op.store_act_bytes),
                ("ai", f.arithmetic_intensity, s.arithmetic_intensity),
            ] {
                assert!(close(a, b), "{what}: {} {name} {a} vs {b}", f.op.name);
            }
        }
    }

    /// A GPU whose roofline turning point is low (10 FLOP/byte), so 4-bit-KV decode attention
    /// turns compute-bound after a few dozen cached tokens: the series crosses over.
    fn low_peak_gpu(efficiency: bool) -> Gpu {
        Gpu {
            aliases: Vec::new(),
            name: "low peak".into(),
            bandwidth: 1e12,
            fp16_peak: 10e12,
            int8_peak: 20e12,
            fp4_peak: None,
            onchip_buffer: 1e7,
            l2_bytes: None,
            sms: None,
            memory: 8e10,
            os_memory_bytes: None,
            interconnect_bandwidth: Some(1e11),
            host: None,
            efficiency: efficiency.then_some(Efficiency {
                matmul: 0.7,
                attention: 0.45,
                elementwise: 0.8,
                launch_overhead_s: 5e-6,
                ..Efficiency::ideal()
            }),
        }
    }

    fn check(gpu: &Gpu, kv_bits: u32, tp: u64, layer_tokens: &[u64], gen_tokens: u64) {
        let model = Model::load("llava-ov-7b").unwrap();
        let options = RunOptions {
            precision: Precision {
                kv_bits,
                ..Precision::default()
            },
            tp,
            ..RunOptions::default()
        };
        let ctx = Context {
            model: &model,
            gpu,
            options: &options,
        };
        let (d, timer) = (Dims::new(&ctx), Timer::for_context(&ctx));
        let what = format!(
            "{} kv{kv_bits} tp{tp} {layer_tokens:?} G={gen_tokens}",
            gpu.name
        );
        assert_same(
            &decode(&d, &Arch::new(&ctx), &timer, layer_tokens, gen_tokens),
            &decode_by_steps(&d, &timer, layer_tokens, gen_tokens),
            &what,
        );
    }

    #[test]
    fn closed_form_equals_the_step_loop_across_the_crossover() {
        let synthetic: Gpu =
            toml::from_str(include_str!("../../../tests/golden/synthetic-h100.toml")).unwrap();
        let gpus = [
            Gpu::load("a100").unwrap(),
            synthetic,
            low_peak_gpu(false),
            low_peak_gpu(true),
        ];
        // Prefill lengths from 0 (a fully pruned layer) up; steps across the crossover near a
        // context of 23 on the low-peak GPU, and far past it.
        let layer_lists: [&[u64]; 4] = [&[0], &[1, 5, 22, 23, 24], &[100; 4], &[6372, 1668, 100]];
        for gpu in &gpus {
            for kv_bits in [4, 16] {
                for layers in layer_lists {
                    for g in [1, 2, 3, 20, 21, 22, 23, 24, 25, 64, 129, 1000] {
                        check(gpu, kv_bits, 1, layers, g);
                    }
                }
            }
        }
        check(&low_peak_gpu(true), 4, 2, &[1, 30], 50);
        // The crossover really happens there: two stretches, memory- then compute-bound.
        let model = Model::load("llava-ov-7b").unwrap();
        let gpu = low_peak_gpu(true);
        let options = RunOptions {
            precision: Precision {
                kv_bits: 4,
                ..Precision::default()
            },
            ..RunOptions::default()
        };
        let ctx = Context {
            model: &model,
            gpu: &gpu,
            options: &options,
        };
        let (d, timer) = (Dims::new(&ctx), Timer::for_context(&ctx));
        let bounds: Vec<Bound> = attention_series(&d, &timer, 2, 1001)
            .into_iter()
            .map(|(_, b)| b)
            .collect();
        assert_eq!(bounds, [Bound::Memory, Bound::Compute]);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn closed_form_equals_the_step_loop(
            layers in proptest::collection::vec(0u64..5000, 1..6),
            gen_tokens in 1u64..600,
            kv_bits in prop_oneof![Just(4u32), Just(8), Just(16)],
            low_peak in any::<bool>(),
            efficiency in any::<bool>(),
        ) {
            let gpu = if low_peak {
                low_peak_gpu(efficiency)
            } else {
                Gpu::load("h100").unwrap()
            };
            check(&gpu, kv_bits, 1, &layers, gen_tokens);
        }
    }
}
