//! Kernels: CPU references against hand-checked cases, and every `.cu` file registered.
//!
//! The kernels themselves run in `tests/emu.rs` (on the CPU emulator, every `cargo test`) and in
//! `tests/cuda.rs` (NVRTC compilation, and on a GPU when one is present; reported as ignored, with
//! the reason, when not).

use aim_sim::kernels::rng::SplitMix64;
use aim_sim::kernels::{cpu, tolerance};
use aim_sim::kernels::{
    merge_passes, AttnShape, KernelSource, PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE,
};

/// Relative to each value and to the tensor's scale (`tolerance::f32_close`).
fn assert_close(got: &[f32], want: &[f32], rtol: f64, what: &str) {
    if let Err(e) = tolerance::f32_close(got, want, rtol, what) {
        panic!("{e}");
    }
}

// ---- Merge ----------------------------------------------------------------------------------

#[test]
fn two_parallel_tokens_merge_into_their_mean() {
    // One frame, 4 tokens of dim 2: A = {t0, t2}, B = {t1, t3}. t0 is 2·t1 (cosine 1), t2 and t3
    // are orthogonal to everything else. With r = 1, t0 merges into t1: (t1 + t0) / 2 = 1.5 t1.
    let x = [
        2.0, 4.0, // t0 = 2 t1
        1.0, 2.0, // t1
        -2.0, 1.0, // t2 ⟂ t1
        3.0, -1.5, // t3 ⟂ t0? (3·2 - 1.5·4 = 0) yes
    ];
    let out = cpu::merge_pass(&x, 1, 4, 2, 1).unwrap();
    // Unmerged A (t2), then B tokens: merged t1, untouched t3.
    assert_eq!(out, vec![-2.0, 1.0, 1.5, 3.0, 3.0, -1.5]);
    let m = cpu::merge_match(&x, 4, 2, 1);
    assert_eq!(m.dst, vec![Some(0), None]);
    assert_eq!(m.unmerged, vec![1]);
}

#[test]
fn identical_tokens_merge_to_themselves() {
    let t = [0.3f32, -1.0, 2.0];
    let u = [1.0f32, 1.0, 0.0];
    let x: Vec<f32> = [t, t, u, [0.0, 0.5, 1.0]].concat();
    let out = cpu::merge_pass(&x, 1, 4, 3, 1).unwrap();
    // t0 == t1 has cosine 1, the best; the merged B token is exactly t.
    assert_eq!(&out[3..6], &t);
    assert_eq!(&out[..3], &u);
}

#[test]
fn several_sources_average_into_one_destination() {
    // 6 tokens, dim 2. A = {t0, t2, t4}, B = {t1, t3, t5}. t0 and t2 both point along t1;
    // t4 is closest to t5. With r = 2 the two best (t0, t2: cosine 1) merge into t1:
    // (t1 + t0 + t2) / 3.
    let x = [
        3.0, 0.0, // t0
        1.0, 0.0, // t1
        2.0, 0.0, // t2
        0.0, 1.0, // t3
        1.0, 1.2, // t4 (nearest t5, cosine < 1)
        1.0, 1.0, // t5
    ];
    let out = cpu::merge_pass(&x, 1, 6, 2, 2).unwrap();
    assert_eq!(out.len(), 4 * 2);
    assert_eq!(&out[0..2], &[1.0, 1.2], "the unmerged A token comes first");
    assert_eq!(&out[2..4], &[2.0, 0.0], "(1 + 3 + 2) / 3");
    assert_eq!(&out[4..6], &[0.0, 1.0]);
    assert_eq!(&out[6..8], &[1.0, 1.0]);
}

#[test]
fn unmerged_tokens_come_in_descending_score_order_then_b() {
    // r = 0: nothing merges, the output is A sorted by best-match score (descending), then B.
    let x = [
        1.0, 0.0, // t0: best cos with t1 = 1
        1.0, 0.0, // t1
        0.0, 1.0, // t2: best cos with t3 = 0.6
        0.8, 0.6, // t3
        -1.0, 0.1, // t4: best cos small
        1.0, 0.0, // t5
    ];
    let out = cpu::merge_pass(&x, 1, 6, 2, 0).unwrap();
    let m = cpu::merge_match(&x, 6, 2, 0);
    assert_eq!(m.unmerged, vec![0, 1, 2]);
    assert_eq!(
        out,
        vec![1.0, 0.0, 0.0, 1.0, -1.0, 0.1, 1.0, 0.0, 0.8, 0.6, 1.0, 0.0]
    );
    // With r = 1 the top A token (t0) leaves the unmerged list, the others keep their order.
    let m = cpu::merge_match(&x, 6, 2, 1);
    assert_eq!(m.unmerged, vec![1, 2]);
    assert_eq!(m.dst, vec![Some(0), None, None]);
}

#[test]
fn frames_merge_196_to_98_to_49() {
    let (frames, tokens, dim) = (3, 196, 16);
    let x = SplitMix64::new(1).normal_vec(frames * tokens * dim);
    assert_eq!(merge_passes(tokens, 49).unwrap(), vec![98, 49]);
    let once = cpu::merge_pass(&x, frames, tokens, dim, 98).unwrap();
    assert_eq!(once.len(), frames * 98 * dim);
    let twice = cpu::merge_pass(&once, frames, 98, dim, 49).unwrap();
    assert_eq!(twice.len(), frames * 49 * dim);
    assert_eq!(
        cpu::merge_frames(&x, frames, tokens, dim, 49).unwrap(),
        twice
    );
    // Frames are independent: merging frame 1 alone gives the same rows.
    let alone = cpu::merge_frames(&x[tokens * dim..2 * tokens * dim], 1, tokens, dim, 49).unwrap();
    assert_eq!(alone, twice[49 * dim..2 * 49 * dim]);
    assert!(cpu::merge_pass(&x, frames, tokens, dim, 99).is_err());
}

// ---- Attention ------------------------------------------------------------------------------

/// Written independently of the crate: full n × n scores, explicit mask, softmax, product.
fn naive_attention(q: &[f32], k: &[f32], v: &[f32], s: &AttnShape) -> Vec<f32> {
    let (n, d) = (s.tokens, s.head_dim);
    let group = s.heads / s.kv_heads;
    let mut out = vec![0.0f32; s.q_len()];
    for h in 0..s.heads {
        let kv = h / group;
        for i in 0..n {
            let mut scores = vec![f64::NEG_INFINITY; n];
            for (j, sc) in scores.iter_mut().enumerate().take(i + 1) {
                let mut acc = 0.0f64;
                for c in 0..d {
                    acc += q[(h * n + i) * d + c] as f64 * k[(kv * n + j) * d + c] as f64;
                }
                *sc = acc / (d as f64).sqrt();
            }
            let m = scores.iter().cloned().fold(f64::NEG_INFINITY, f64::max);
            let e: Vec<f64> = scores.iter().map(|x| (x - m).exp()).collect();
            let z: f64 = e.iter().sum();
            for c in 0..d {
                let mut acc = 0.0f64;
                for j in 0..n {
                    acc += e[j] / z * v[(kv * n + j) * d + c] as f64;
                }
                out[(h * n + i) * d + c] = acc as f32;
            }
        }
    }
    out
}

fn random_qkv(shape: &AttnShape, seed: u64) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(seed);
    (
        rng.normal_vec(shape.q_len()),
        rng.normal_vec(shape.kv_len()),
        rng.normal_vec(shape.kv_len()),
    )
}

#[test]
fn attention_matches_a_naive_loop_with_gqa() {
    let shape = AttnShape {
        heads: 4,
        kv_heads: 2,
        tokens: 37,
        head_dim: 16,
    };
    let (q, k, v) = random_qkv(&shape, 2);
    let got = cpu::attention_causal(&q, &k, &v, &shape).unwrap();
    assert_close(
        &got,
        &naive_attention(&q, &k, &v, &shape),
        1e-5,
        "attention",
    );
}

#[test]
fn gqa_heads_share_their_kv_head() {
    // Two query heads with identical Q over one KV head give identical outputs; a head over a
    // different KV head does not.
    let shape = AttnShape {
        heads: 4,
        kv_heads: 2,
        tokens: 9,
        head_dim: 8,
    };
    let (mut q, k, v) = random_qkv(&shape, 3);
    let per_head = shape.tokens * shape.head_dim;
    let head0 = q[..per_head].to_vec();
    q[per_head..2 * per_head].copy_from_slice(&head0); // head 1 = head 0, same KV head 0
    q[2 * per_head..3 * per_head].copy_from_slice(&head0); // head 2 = head 0, KV head 1
    let o = cpu::attention_causal(&q, &k, &v, &shape).unwrap();
    assert_eq!(o[..per_head], o[per_head..2 * per_head]);
    assert_ne!(o[..per_head], o[2 * per_head..3 * per_head]);
    // The first query sees only the first key: its output is exactly v_0 of its KV head.
    assert_eq!(o[..shape.head_dim], v[..shape.head_dim]);
}

#[test]
fn eager_logits_softmax_and_pv_equal_flash_semantics() {
    let shape = AttnShape {
        heads: 2,
        kv_heads: 1,
        tokens: 20,
        head_dim: 8,
    };
    let (q, k, v) = random_qkv(&shape, 4);
    let logits = cpu::causal_logits(&q, &k, &shape).unwrap();
    let n = shape.tokens;
    // The mask: -inf strictly above the diagonal, finite elsewhere.
    for h in 0..shape.heads {
        for i in 0..n {
            for j in 0..n {
                let x = logits[(h * n + i) * n + j];
                assert_eq!(x == f32::NEG_INFINITY, j > i, "logit ({h},{i},{j}) = {x}");
            }
        }
    }
    let p = cpu::causal_softmax(&logits, shape.heads, n, 1.0).unwrap();
    let d = shape.head_dim;
    let mut o = vec![0.0f32; shape.q_len()];
    for h in 0..shape.heads {
        for i in 0..n {
            for j in 0..=i {
                for c in 0..d {
                    o[(h * n + i) * d + c] += p[(h * n + i) * n + j] * v[j * d + c];
                }
            }
        }
    }
    let flash = cpu::attention_causal(&q, &k, &v, &shape).unwrap();
    assert_close(&o, &flash, 1e-5, "eager vs flash");
}

// ---- PageRank -------------------------------------------------------------------------------

/// `[heads, n, n]` logits with `value(i, j)` below the diagonal and -inf above.
fn causal(heads: usize, n: usize, value: impl Fn(usize, usize) -> f32) -> Vec<f32> {
    let mut l = vec![f32::NEG_INFINITY; heads * n * n];
    for h in 0..heads {
        for i in 0..n {
            for j in 0..=i {
                l[(h * n + i) * n + j] = value(i, j);
            }
        }
    }
    l
}

#[test]
fn star_graph_centre_gets_the_highest_importance() {
    // Every token that can see token 2 attends to it (logit 1 vs 0, temperature 0.1: e^10).
    let (n, centre) = (8, 2);
    let logits = causal(1, n, |_, j| if j == centre { 1.0 } else { 0.0 });
    let score = cpu::pagerank_from_logits(&logits, 1, n, PAGERANK_TEMPERATURE, 5).unwrap();
    let best = (0..n)
        .max_by(|&a, &b| score[a].total_cmp(&score[b]))
        .unwrap();
    assert_eq!(best, centre, "{score:?}");
    for (j, s) in score.iter().enumerate() {
        if j != centre {
            assert!(score[centre] > 2.0 * s, "{score:?}");
        }
    }
}

#[test]
fn uniform_causal_attention_gives_harmonic_importance() {
    // Equal logits: row i spreads 1/(i+1) over j <= i. One iteration from 1/n gives
    // dist_j = (1/n) Σ_{i>=j} 1/(i+1), strictly decreasing in j; the mass stays 1.
    let n = 6;
    let logits = causal(2, n, |_, _| 0.25);
    let probs = cpu::causal_softmax(&logits, 2, n, PAGERANK_TEMPERATURE).unwrap();
    let dist = cpu::power_iterations(&probs, 2, n, 1).unwrap();
    for j in 0..n {
        let want: f32 = (j..n).map(|i| 1.0 / (i as f32 + 1.0)).sum::<f32>() / n as f32;
        assert!((dist[j] - want).abs() < 1e-6, "{j}: {} vs {want}", dist[j]);
        assert_eq!(dist[j], dist[n + j], "identical heads");
    }
    let five = cpu::power_iterations(&probs, 2, n, 5).unwrap();
    assert!((five[..n].iter().sum::<f32>() - 1.0).abs() < 1e-5);
    // RMS over identical heads is the head's own distribution.
    let score = cpu::rms_over_heads(&five, 2, n);
    assert_close(&score, &five[..n], 1e-6, "rms");
    assert!(score.windows(2).all(|w| w[0] > w[1]), "{score:?}");
}

#[test]
fn fused_importance_equals_materialised() {
    for (shape, seed) in [
        (
            AttnShape {
                heads: 4,
                kv_heads: 2,
                tokens: 45,
                head_dim: 16,
            },
            5,
        ),
        (
            AttnShape {
                heads: 3,
                kv_heads: 1,
                tokens: 33,
                head_dim: 64,
            },
            6,
        ),
    ] {
        let (q, k, _) = random_qkv(&shape, seed);
        let logits = cpu::causal_logits(&q, &k, &shape).unwrap();
        let materialised = cpu::pagerank_from_logits(
            &logits,
            shape.heads,
            shape.tokens,
            PAGERANK_TEMPERATURE,
            PAGERANK_ITERATIONS,
        )
        .unwrap();
        let fused =
            cpu::pagerank_from_qk(&q, &k, &shape, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)
                .unwrap();
        assert_close(&fused, &materialised, 1e-5, "fused vs materialised");
    }
}

#[test]
fn row_stats_normalise_each_row() {
    let shape = AttnShape {
        heads: 2,
        kv_heads: 2,
        tokens: 12,
        head_dim: 8,
    };
    let (q, k, _) = random_qkv(&shape, 7);
    let (m, l) = cpu::pagerank_row_stats(&q, &k, &shape, PAGERANK_TEMPERATURE).unwrap();
    // Row 0 sees only itself: l = exp2(0) = 1. Every row sum is in [1, i + 1].
    for h in 0..2 {
        assert_eq!(l[h * 12], 1.0);
        for i in 0..12 {
            assert!(l[h * 12 + i] >= 1.0 && l[h * 12 + i] <= (i + 1) as f32 + 1e-4);
            assert!(m[h * 12 + i].is_finite());
        }
    }
}

// ---- Pruning --------------------------------------------------------------------------------

#[test]
fn text_tokens_are_always_kept() {
    // Positions 0..2 and 8..10 are text with the lowest scores; visual 2..8.
    let scores = [-9.0, -9.0, 0.1, 0.7, 0.3, 0.7, 0.2, 0.5, -9.0, -9.0];
    let kept = cpu::select_tokens(&scores, 2..8, 3).unwrap();
    // Top 3 visual: 3 (0.7), 5 (0.7, tie broken by position), 7 (0.5); in sequence order.
    assert_eq!(kept, vec![0, 1, 3, 5, 7, 8, 9]);
    assert_eq!(
        cpu::select_tokens(&scores, 2..8, 0).unwrap(),
        vec![0, 1, 8, 9]
    );
    assert_eq!(cpu::select_tokens(&scores, 2..8, 6).unwrap().len(), 10);
    assert!(cpu::select_tokens(&scores, 2..11, 1).is_err());
}

#[test]
fn gather_compacts_the_kept_rows() {
    let hidden: Vec<u16> = (0..12).collect(); // 6 tokens × width 2
    let scores = [0.0, 5.0, 1.0, 4.0, 2.0, 0.0];
    let (index, rows) = cpu::select_and_gather(&hidden, 2, &scores, 1..5, 2).unwrap();
    assert_eq!(index, vec![0, 1, 3, 5]);
    assert_eq!(rows, vec![0, 1, 2, 3, 6, 7, 10, 11]);
}

// ---- Sources --------------------------------------------------------------------------------

#[test]
fn every_cu_file_is_registered() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
    let mut on_disk: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".cu"))
        .map(|name| format!("kernels/{name}"))
        .collect();
    on_disk.sort();
    let mut registered: Vec<String> = KernelSource::ALL
        .iter()
        .map(|s| s.file_name().to_string())
        .collect();
    registered.sort();
    assert_eq!(on_disk, registered, "add new .cu files to KernelSource");
}

// ---- GPU timing of the causal attention kernel (.ci/gpu-run.sh, step `attention-vs-sdpa`) ----

/// Times `attn_flash_*_bf16` on the GPU at the shapes of `AIM_SIM_ATTN_SHAPES` (comma-separated
/// `HEADSxKV_HEADSxTOKENSxHEAD_DIM`, default the presets' 28x4x4096x128 and 14x2x4096x64), with
/// `Device::time_runs` (CUDA events, L2 flushed before each run, 3 warm-up and 20 timed runs), and
/// prints one line per shape, `ATTN heads kv_heads tokens head_dim median_s`, which the GPU run
/// compares with torch's scaled_dot_product_attention at the same shapes. Needs a GPU (run with
/// --ignored; the bundle's `kernels-test` runs it where no Rust toolchain is).
#[cfg(feature = "cuda")]
#[test]
#[ignore = "needs a GPU; .ci/gpu-run.sh runs it"]
fn gpu_flash_attention_times() {
    use aim_sim::kernels::gpu::{Device, FlashAttention};
    let spec = std::env::var("AIM_SIM_ATTN_SHAPES")
        .unwrap_or_else(|_| "28x4x4096x128,14x2x4096x64".to_string());
    let dev = Device::open(0).unwrap_or_else(|e| panic!("no usable GPU: {e}"));
    for item in spec.split(',') {
        let dims: Vec<usize> = item
            .split('x')
            .map(|v| {
                v.trim()
                    .parse()
                    .unwrap_or_else(|_| panic!("AIM_SIM_ATTN_SHAPES: `{item}` is not HxKVxNxD"))
            })
            .collect();
        let [heads, kv_heads, tokens, head_dim] = dims[..] else {
            panic!("AIM_SIM_ATTN_SHAPES: `{item}` is not HxKVxNxD (e.g. 28x4x4096x128)");
        };
        let s = AttnShape {
            heads,
            kv_heads,
            tokens,
            head_dim,
        };
        let mut rng = SplitMix64::new(7);
        let mut data = |len: usize| -> Vec<half::bf16> {
            (0..len)
                .map(|_| half::bf16::from_f32(rng.normal()))
                .collect()
        };
        let (q, k, v) = (data(s.q_len()), data(s.kv_len()), data(s.kv_len()));
        let upload = |x: &[half::bf16]| dev.upload(x).unwrap_or_else(|e| panic!("{e}"));
        let (q, k, v) = (upload(&q), upload(&k), upload(&v));
        let mut plan = FlashAttention::<half::bf16>::new(&dev, s).unwrap_or_else(|e| panic!("{e}"));
        let mut times_s = dev
            .time_runs(|| plan.run(&dev, &q, &k, &v), 3, 20)
            .unwrap_or_else(|e| panic!("{e}"));
        times_s.sort_by(f64::total_cmp);
        let median_s = times_s[times_s.len() / 2];
        assert!(median_s > 0.0, "a zero kernel time for {item}");
        println!("ATTN {heads} {kv_heads} {tokens} {head_dim} {median_s:.9e}");
    }
}
