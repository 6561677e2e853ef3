//! Inputs that real data has and random data lacks (issue 23): exact ties and duplicated frames
//! for merging, ±inf/NaN and all-equal scores for ranking and selection, all-negative logits for
//! the max reductions, zero and near-zero rows for the norms, exact bf16 rounding ties, sizes at
//! and one past every tile, block and warp boundary, and the GQA ratios and odd head dims of the
//! presets (models/*.toml: 14/2 and 28/4 heads = 7:1, 32/8 = 4:1, 64/8 = 8:1; vision head dims 72
//! (1152/16) and 80 (1280/16), which only RoPE takes). Each case compares with the CPU references
//! through the same case functions as the random suites.

use super::*;
use half::bf16;

/// Rows of `dim` values drawn from `rng`, `count` of them.
fn rows(rng: &mut SplitMix64, count: usize, dim: usize) -> Vec<Vec<f32>> {
    (0..count)
        .map(|_| (0..dim).map(|_| rng.normal()).collect())
        .collect()
}

/// Tokens `[frames, tokens, dim]` with exact ties for merging: B tokens in equal pairs (every A
/// token's best match is tied between two B tokens), A tokens in equal pairs (equal best scores
/// tie in the ranking), two all-zero tokens (the norm's eps floor), and every frame after the
/// first a copy of the first (duplicated video frames).
pub fn merge_tie_tokens(frames: usize, tokens: usize, dim: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    let distinct = rows(&mut rng, tokens, dim);
    let mut frame: Vec<Vec<f32>> = (0..tokens)
        .map(|t| {
            // Token t: A tokens (even) pair up as 4k, 4k+2; B tokens (odd) as 4k+1, 4k+3.
            let partner = if t % 4 >= 2 { t - 2 } else { t };
            distinct[partner].clone()
        })
        .collect();
    if tokens > 6 {
        frame[4] = vec![0.0; dim];
        frame[tokens - 1] = vec![0.0; dim];
    }
    let one: Vec<f32> = frame.concat();
    (0..frames).flat_map(|_| one.iter().copied()).collect()
}

pub fn merge_edge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    // Ties, zero tokens and duplicated frames, r from none to all of nA, odd and even counts.
    for &(frames, tokens, dim, r) in &[
        (3, 40, 24, 7),
        (2, 41, 33, 20),
        (1, 40, 24, 20),
        (2, 66, 32, 0),
    ] {
        let x = merge_tie_tokens(frames, tokens, dim, 600 + tokens as u64);
        let what = format!("merge ties {frames}x{tokens}x{dim} r={r}");
        results.push(merge_case_on::<f32>(b, &x, frames, tokens, dim, r, &what));
        let xb: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
        results.push(merge_case_on::<bf16>(b, &xb, frames, tokens, dim, r, &what));
    }
    // Every token equal: every score ties (1), every match is B token 0, ranks by position.
    let dim = 16;
    let one: Vec<f32> = (0..dim).map(|c| c as f32 - 7.5).collect();
    let x: Vec<f32> = (0..2 * 30).flat_map(|_| one.iter().copied()).collect();
    results.push(merge_case_on::<f32>(
        b,
        &x,
        2,
        30,
        dim,
        9,
        "merge all-equal tokens",
    ));
    // Sizes at and one past the 32-token score tiles (nA, nB = 32, 33), the 32-wide feature
    // slices (dim 31, 32, 33) and the 128 threads of merge_match (nA = 128, 129).
    for (seed, &(tokens, dim, r)) in [
        (64, 32, 10),
        (65, 33, 32),
        (66, 31, 33),
        (67, 64, 5),
        (256, 8, 100),
        (258, 8, 129),
    ]
    .iter()
    .enumerate()
    {
        results.push(merge_case::<f32>(b, 1, tokens, dim, r, 650 + seed as u64));
    }
    all(results)
}

/// Q, K, V with a structure: `kind` 0 = all-zero queries (every logit equal: uniform rows),
/// 1 = large queries (logits in the hundreds: the online max must carry the row), 2 = every key
/// equal (ties in every row).
fn structured_qkv<T: EmuElement>(s: &AttnShape, kind: u8, seed: u64) -> [Vec<T>; 3] {
    let mut rng = SplitMix64::new(seed);
    let mut q: Vec<f32> = (0..s.q_len()).map(|_| rng.normal()).collect();
    let mut k: Vec<f32> = (0..s.kv_len()).map(|_| rng.normal()).collect();
    let v: Vec<f32> = (0..s.kv_len()).map(|_| rng.normal()).collect();
    match kind {
        0 => q.iter_mut().for_each(|x| *x = 0.0),
        1 => q.iter_mut().for_each(|x| *x *= 40.0),
        _ => {
            let d = s.head_dim;
            let first: Vec<f32> = k[..d].to_vec();
            for row in k.chunks_mut(d) {
                row.copy_from_slice(&first);
            }
        }
    }
    let to = |x: Vec<f32>| x.into_iter().map(T::from_f32).collect::<Vec<T>>();
    [to(q), to(k), to(v)]
}

pub fn attention_edge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    // Tokens at and one past the 32-row tiles, with the presets' GQA ratios.
    for (seed, &(h, hkv, n, d)) in [
        (14, 2, 32, 64),
        (7, 1, 33, 64),
        (4, 1, 64, 128),
        (8, 1, 65, 64),
        (28, 4, 31, 128),
    ]
    .iter()
    .enumerate()
    {
        let s = shape(h, hkv, n, d);
        results.push(flash_case::<f32>(b, &s, 700 + seed as u64));
        results.push(eager_case::<f32>(b, &s, 710 + seed as u64));
    }
    // Uniform rows, huge logits, tied keys.
    for kind in 0..3u8 {
        let s = shape(4, 2, 45, 64);
        let what = format!("attention structured kind {kind}");
        results.push(flash_case_on::<f32>(
            b,
            &s,
            structured_qkv(&s, kind, 720),
            &what,
        ));
        results.push(eager_case_on::<f32>(
            b,
            &s,
            structured_qkv(&s, kind, 721),
            &what,
        ));
        results.push(flash_case_on::<bf16>(
            b,
            &s,
            structured_qkv(&s, kind, 722),
            &what,
        ));
    }
    // Head dims the presets' vision towers use but the tiles do not: refused, not run wrong.
    let s = shape(2, 2, 8, 80);
    let zeros = vec![0.0f32; s.q_len()];
    results.push(match b.flash(&s, &zeros, &zeros, &zeros) {
        Err(_) => Ok(()),
        Ok(_) => {
            Err("flash attention accepted head dim 80, which has no tile instantiation".into())
        }
    });
    all(results)
}

/// Logits `[heads, n, n]` of a kind: 0 = every logit very negative (-300 .. -200: a max
/// reduction padded with 0 instead of -inf loses the row), 1 = every logit equal, 2 = some
/// entries of each row -inf (masked keys) among numbers.
pub fn structured_logits(heads: usize, n: usize, kind: u8, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..heads * n * n)
        .map(|e| match kind {
            0 => -200.0 - 100.0 * rng.uniform(),
            1 => 0.25,
            _ if e % 3 == 1 && !(e / n).is_multiple_of(n) => f32::NEG_INFINITY,
            _ => rng.normal(),
        })
        .collect()
}

pub fn pagerank_edge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    // All-negative, all-equal and partly -inf logits; n at and past the 32-column step tiles
    // and the 256-thread softmax rows.
    for &(heads, n, kind) in &[(2, 33, 0u8), (1, 257, 0), (2, 32, 1), (2, 40, 2)] {
        let logits = structured_logits(heads, n, kind, 800 + n as u64);
        let what = format!("materialised importance H={heads} n={n} logits kind {kind}");
        results.push(pagerank_materialised_on(b, &logits, heads, n, &what));
    }
    for (seed, &(h, hkv, n, d)) in [(14, 2, 33, 64), (4, 1, 64, 128), (8, 1, 65, 64)]
        .iter()
        .enumerate()
    {
        let s = shape(h, hkv, n, d);
        results.push(pagerank_fused_case::<f32>(b, &s, 820 + seed as u64));
    }
    all(results)
}

/// Scores with every special value: +inf, -inf, NaN, ±0 and numbers, shuffled by position.
pub fn special_scores(n: usize, seed: u64) -> Vec<f32> {
    let mut rng = SplitMix64::new(seed);
    (0..n)
        .map(|j| match j % 7 {
            0 => f32::INFINITY,
            1 => f32::NEG_INFINITY,
            2 => f32::NAN,
            3 => 0.0,
            4 => -0.0,
            _ => rng.normal(),
        })
        .collect()
}

pub fn prune_edge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    let mut rng = SplitMix64::new(900);
    // (tokens, visual, keep, scores): ±inf/NaN mixes with keep below, at and above the +inf
    // count; every score equal; all NaN; visual counts at and one past the 256-score chunk and
    // tokens at and one past the 1024-thread compaction and a 32-lane warp.
    let cases: Vec<(usize, Range<usize>, usize, Vec<f32>)> = vec![
        (140, 0..140, 10, special_scores(140, 901)),
        (140, 5..135, 19, special_scores(140, 902)),
        (140, 5..135, 70, special_scores(140, 903)),
        (300, 10..266, 100, vec![1.5; 300]),
        (300, 10..267, 256, vec![-2.0; 300]),
        (64, 0..64, 20, vec![f32::NAN; 64]),
        (1024, 0..1024, 500, scores(Scores::Normal, 1024, &mut rng)),
        (1025, 1..1025, 1000, scores(Scores::Ties, 1025, &mut rng)),
        (32, 0..32, 16, special_scores(32, 904)),
        (33, 0..33, 17, special_scores(33, 905)),
    ];
    for (tokens, visual, keep, score) in cases {
        let hidden: Vec<f32> = (0..tokens * 4).map(|e| e as f32).collect();
        let what = format!(
            "prune n={tokens} visual {visual:?} keep {keep} scores {:?}..",
            &score[..3]
        );
        results.push(prune_case_on::<f32>(
            b, &hidden, 4, &score, visual, keep, &what,
        ));
    }
    all(results)
}

/// Bits-exact bf16 results of add: sums that fall exactly halfway between two bf16 values
/// (1 + 2^-8 and (1 + 2^-7) + 2^-8, and their negatives), which round to even.
pub fn bf16_tie_case(b: &impl Backend) -> CaseResult {
    let base = [1.0f32, 1.0078125, -1.0, -1.0078125, 3.0, 0.5];
    let half_ulp = [
        0.00390625f32,
        0.00390625,
        -0.00390625,
        -0.00390625,
        0.0078125,
        0.0009765625,
    ];
    let n = 64;
    let a: Vec<bf16> = (0..n).map(|e| bf16::from_f32(base[e % 6])).collect();
    let c: Vec<bf16> = (0..n).map(|e| bf16::from_f32(half_ulp[e % 6])).collect();
    let got = b.add(&a, &c).map_err(|e| format!("bf16 ties: {e}"))?;
    let want: Vec<u16> = (0..n)
        .map(|e| bf16::from_f32(a[e].to_f32() + c[e].to_f32()).to_bits())
        .collect();
    let got: Vec<u16> = got.iter().map(|v| v.to_bits()).collect();
    equal(&got, &want, "bf16 add of exact rounding ties (bits)")
}

pub fn layers_edge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    // RMSNorm: all-zero rows, rows of 1e-20 (sum of squares underflows to 0: eps carries the
    // row), a row of one huge value, widths at and one past 256 threads x 4 lanes and a width
    // that is even but not a whole vector.
    for &(rows, width) in &[(3, 1024), (2, 1025), (3, 202), (2, 32), (2, 33)] {
        let mut rng = SplitMix64::new(1000 + width as u64);
        let w: Vec<f32> = (0..width).map(|_| rng.normal()).collect();
        let mut x: Vec<f32> = (0..rows * width).map(|_| rng.normal()).collect();
        x[..width].iter_mut().for_each(|v| *v = 0.0);
        x[width..2 * width].iter_mut().for_each(|v| *v *= 1e-20);
        let what = format!("rmsnorm zero and tiny rows {rows}x{width}");
        results.push(rmsnorm_case_on::<f32>(b, &x, &w, width, &what));
        let xb: Vec<bf16> = x.iter().map(|&v| bf16::from_f32(v)).collect();
        let wb: Vec<bf16> = w.iter().map(|&v| bf16::from_f32(v)).collect();
        results.push(rmsnorm_case_on::<bf16>(b, &xb, &wb, width, &what));
    }
    // RoPE: the vision towers' head dims 72 and 80 (half 36, 40: vector or not by dtype), and
    // 6 (half 3, scalar).
    for &(rows, heads, d) in &[(5, 2, 72), (4, 3, 80), (7, 2, 6)] {
        results.push(rope_case::<f32>(b, rows, heads, d, 1100));
        results.push(rope_case::<bf16>(b, rows, heads, d, 1101));
    }
    // Flat passes at and one past the vector width and 256 threads x 4 lanes.
    for &count in &[4, 5, 8, 9, 1024, 1025] {
        results.push(swiglu_case::<f32>(b, count, 1200));
        results.push(add_and_copy_case::<bf16>(b, count, 1201));
    }
    // SwiGLU at ±inf, huge negative gates (silu -> -0) and NaN.
    let gate = [
        f32::INFINITY,
        f32::NEG_INFINITY,
        -200.0,
        200.0,
        f32::NAN,
        0.0,
        -0.0,
        3.0,
        -3.0,
    ];
    let up = [2.0f32, 2.0, 1.0, 1.0, 1.0, 5.0, 5.0, f32::INFINITY, -1.0];
    results.push(match b.swiglu(&gate, &up) {
        Ok(got) => cpu::swiglu(&gate, &up)
            .map_err(|e| e.to_string())
            .and_then(|want| f32_close(&got, &want, LAYER_RTOL, "swiglu specials").map(|_| ())),
        Err(e) => Err(format!("swiglu specials: {e}")),
    });
    results.push(bf16_tie_case(b));
    all(results)
}

/// Ordered compaction at and one past a warp and the 1024-thread block, with the capacity
/// exact, and more flags set than the capacity (the launcher's over-count check): `(flags,
/// capacity)`.
pub fn compact_edge_cases() -> Vec<(Vec<i32>, usize)> {
    let mut cases: Vec<(Vec<i32>, usize)> = [31usize, 32, 33, 1023, 1024, 1025, 2049]
        .iter()
        .map(|&n| {
            let flags: Vec<i32> = (0..n).map(|j| ((j * 7) % 3 != 0) as i32).collect();
            let kept = flags.iter().filter(|&&f| f == 1).count();
            (flags, kept)
        })
        .collect();
    cases.push((vec![1; 700], 100));
    cases.push((vec![1; 1025], 1024));
    cases
}

/// [`compact_edge_cases`] against the expected positions and count: the first `capacity` kept
/// positions, and the true count.
pub fn compact_edge_suite(e: &Emu) -> CaseResult {
    for (flags, capacity) in compact_edge_cases() {
        let kept: Vec<i32> = (0..flags.len() as i32)
            .filter(|&j| flags[j as usize] == 1)
            .collect();
        let what = format!("compaction of {} flags into {capacity}", flags.len());
        let (index, count) = ops::select_compact(e, &flags, capacity).map_err(ke(&what))?;
        if count as usize != kept.len() {
            return Err(format!("{what}: count {count}, want {}", kept.len()));
        }
        equal(&index, &kept[..capacity.min(kept.len())], &what)?;
    }
    Ok(())
}

/// A suite: the source whose mutants it can catch, its name, and the suite on the emulator.
pub type Suite = (&'static str, &'static str, fn(&Emu) -> CaseResult);

/// Every edge suite.
pub fn edge_suites() -> Vec<Suite> {
    vec![
        ("merge.cu", "merge edges", |e| merge_edge_suite(e)),
        ("attention.cu", "attention edges", |e| {
            attention_edge_suite(e)
        }),
        ("pagerank.cu", "importance edges", |e| {
            pagerank_edge_suite(e)
        }),
        ("pagerank.cu", "pruning edges", |e| prune_edge_suite(e)),
        ("pagerank.cu", "compaction edges", compact_edge_suite),
        ("layers.cu", "layer edges", |e| layers_edge_suite(e)),
    ]
}
