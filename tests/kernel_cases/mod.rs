//! Kernel test cases shared by the emulated run (`tests/emu.rs`, every `cargo test`) and the GPU
//! run (`tests/cuda.rs`): each case runs one operation on a [`Backend`] — the CPU emulator of
//! `kernels/*.cu` or a CUDA device — and compares every output, intermediate buffers included
//! where the backend exposes them, with the CPU references of `aim_sim::kernels::cpu`.
//!
//! Tolerances are relative (`aim_sim::kernels::tolerance`): an f32 result may differ from its
//! reference by `rtol · (|want| + rms(want))`, a bf16 result by half a bf16 ulp more. Each `rtol`
//! below is at least ten times the largest deviation the emulator shows (6e-6 at most: the fused
//! importance's row sums; 2e-6 for attention, 0 for merging, RoPE and SwiGLU), which leaves room
//! for a GPU's own rounding (FMA contraction, `exp2f` within 2 ulp), and at least a hundred times
//! smaller than a 1 % error. Discrete results (matches, rank orders, kept positions, gathered
//! rows, copies) must be exact.
#![allow(dead_code)]

use aim_sim::kernels::cpu;
use aim_sim::kernels::emu::ops::{self, EagerRun, EmuElement, MergeRun, PageRankRun, PruneRun};
use aim_sim::kernels::emu::Emu;
use aim_sim::kernels::rng::SplitMix64;
use aim_sim::kernels::tolerance::{bf16_close, equal, f32_close};
use aim_sim::kernels::{
    merge_passes, AttnShape, Dtype, KernelError, PAGERANK_ITERATIONS, PAGERANK_TEMPERATURE,
};
use std::ops::Range;

pub mod edge;

pub type CaseResult = Result<(), String>;

/// Merging does the reference's arithmetic in the reference's order: only the cosines differ.
pub const MERGE_RTOL: f64 = 1e-6;
pub const SCORES_RTOL: f64 = 1e-5;
pub const ATTN_RTOL: f64 = 5e-5;
pub const IMPORTANCE_RTOL: f64 = 1e-4;
pub const LAYER_RTOL: f64 = 1e-5;
/// RoPE angles reach 50 rad; a GPU's `exp2f`/`sincosf` may differ from libm's by 2 ulp there.
pub const ROPE_RTOL: f64 = 1e-4;

/// An implementation of the kernels' operations: the emulator ([`Emu`]) or a GPU. Intermediate
/// buffers a backend cannot expose are returned empty and not compared.
pub trait Backend {
    fn merge_pass<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        r: usize,
    ) -> Result<MergeRun<T>, KernelError>;
    fn merge_frames<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        target: usize,
    ) -> Result<Vec<T>, KernelError>;
    fn flash<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<Vec<T>, KernelError>;
    fn eager<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<EagerRun<T>, KernelError>;
    fn pagerank_materialised(
        &self,
        logits: &[f32],
        heads: usize,
        tokens: usize,
    ) -> Result<PageRankRun, KernelError>;
    fn pagerank_fused<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
    ) -> Result<PageRankRun, KernelError>;
    fn prune<T: EmuElement>(
        &self,
        hidden: &[T],
        width: usize,
        score: &[f32],
        visual: Range<usize>,
        keep_visual: usize,
    ) -> Result<PruneRun<T>, KernelError>;
    fn rmsnorm<T: EmuElement>(&self, x: &[T], w: &[T], width: usize)
        -> Result<Vec<T>, KernelError>;
    fn rope<T: EmuElement>(
        &self,
        x: &[T],
        width: usize,
        head_dim: usize,
    ) -> Result<Vec<T>, KernelError>;
    fn swiglu<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError>;
    fn add<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError>;
    fn copy<T: EmuElement>(&self, x: &[T]) -> Result<Vec<T>, KernelError>;
}

impl Backend for Emu {
    fn merge_pass<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        r: usize,
    ) -> Result<MergeRun<T>, KernelError> {
        ops::merge_pass(self, x, frames, tokens, dim, r)
    }
    fn merge_frames<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        target: usize,
    ) -> Result<Vec<T>, KernelError> {
        ops::merge_frames(self, x, frames, tokens, dim, target)
    }
    fn flash<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<Vec<T>, KernelError> {
        ops::flash_attention(self, s, q, k, v)
    }
    fn eager<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<EagerRun<T>, KernelError> {
        ops::eager_attention(self, s, q, k, v)
    }
    fn pagerank_materialised(
        &self,
        logits: &[f32],
        heads: usize,
        tokens: usize,
    ) -> Result<PageRankRun, KernelError> {
        ops::pagerank_materialised(
            self,
            logits,
            heads,
            tokens,
            PAGERANK_TEMPERATURE,
            PAGERANK_ITERATIONS,
        )
    }
    fn pagerank_fused<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
    ) -> Result<PageRankRun, KernelError> {
        ops::pagerank_fused(self, s, q, k, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)
    }
    fn prune<T: EmuElement>(
        &self,
        hidden: &[T],
        width: usize,
        score: &[f32],
        visual: Range<usize>,
        keep_visual: usize,
    ) -> Result<PruneRun<T>, KernelError> {
        ops::prune(self, hidden, width, score, visual, keep_visual)
    }
    fn rmsnorm<T: EmuElement>(
        &self,
        x: &[T],
        w: &[T],
        width: usize,
    ) -> Result<Vec<T>, KernelError> {
        ops::rmsnorm(self, x, w, width, cpu::RMSNORM_EPS)
    }
    fn rope<T: EmuElement>(
        &self,
        x: &[T],
        width: usize,
        head_dim: usize,
    ) -> Result<Vec<T>, KernelError> {
        ops::rope(self, x, width, head_dim, cpu::ROPE_THETA)
    }
    fn swiglu<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError> {
        ops::swiglu(self, a, b)
    }
    fn add<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError> {
        ops::add(self, a, b)
    }
    fn copy<T: EmuElement>(&self, x: &[T]) -> Result<Vec<T>, KernelError> {
        ops::copy(self, x)
    }
}

// ---- Helpers --------------------------------------------------------------------------------

fn ke(what: &str) -> impl Fn(KernelError) -> String + '_ {
    move |e| format!("{what}: {e}")
}

/// Standard-normal data as `T` and its exact f32 image (what the CPU reference sees).
pub fn random<T: EmuElement>(rng: &mut SplitMix64, len: usize) -> (Vec<T>, Vec<f32>) {
    let data: Vec<T> = (0..len).map(|_| T::from_f32(rng.normal())).collect();
    let image = image(&data);
    (data, image)
}

pub fn image<T: EmuElement>(x: &[T]) -> Vec<f32> {
    x.iter().map(|v| v.to_f32()).collect()
}

/// `x` as a kernel storing `T` would hold it.
pub fn stored_as<T: EmuElement>(x: &[f32]) -> Vec<f32> {
    x.iter().map(|&v| T::from_f32(v).to_f32()).collect()
}

/// A `T` output against its f32 reference (rounded once when `T` is bf16).
pub fn close<T: EmuElement>(got: &[T], want: &[f32], rtol: f64, what: &str) -> CaseResult {
    let got = image(got);
    match T::DTYPE {
        Dtype::F32 => f32_close(&got, want, rtol, what).map(|_| ()),
        Dtype::Bf16 => bf16_close(&got, want, rtol, what).map(|_| ()),
    }
}

/// The lower triangles (`j <= i`) of `[heads, n, n]`, concatenated.
fn lower(m: &[f32], heads: usize, n: usize) -> Vec<f32> {
    let mut out = Vec::with_capacity(heads * n * (n + 1) / 2);
    for h in 0..heads {
        for i in 0..n {
            out.extend_from_slice(&m[(h * n + i) * n..(h * n + i) * n + i + 1]);
        }
    }
    out
}

/// Runs every case and reports all failures together.
pub fn all(results: impl IntoIterator<Item = CaseResult>) -> CaseResult {
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{} case(s) failed:\n  {}",
            failures.len(),
            failures.join("\n  ")
        ))
    }
}

// ---- Merge ----------------------------------------------------------------------------------

/// Cosine similarity `[frames, nA, nB]` of every A (even) with every B (odd) token, in f64.
fn cosines(x: &[f32], frames: usize, tokens: usize, dim: usize) -> Vec<f32> {
    let (n_a, n_b) = (tokens.div_ceil(2), tokens / 2);
    let row = |f: usize, t: usize| &x[(f * tokens + t) * dim..(f * tokens + t + 1) * dim];
    let norm = |r: &[f32]| {
        r.iter()
            .map(|&v| v as f64 * v as f64)
            .sum::<f64>()
            .sqrt()
            .max(1e-12)
    };
    let mut out = Vec::with_capacity(frames * n_a * n_b);
    for f in 0..frames {
        for i in 0..n_a {
            for j in 0..n_b {
                let (a, b) = (row(f, 2 * i), row(f, 2 * j + 1));
                let dot: f64 = a.iter().zip(b).map(|(&p, &q)| p as f64 * q as f64).sum();
                out.push((dot / (norm(a) * norm(b))) as f32);
            }
        }
    }
    out
}

/// One merging pass against `cpu::merge_pass`: the cosines, each frame's matches and unmerged
/// order (the ranking) and every output row (the copy path and the averages).
pub fn merge_case<T: EmuElement>(
    b: &impl Backend,
    frames: usize,
    tokens: usize,
    dim: usize,
    r: usize,
    seed: u64,
) -> CaseResult {
    let what = format!("merge {frames}x{tokens}x{dim} r={r} {}", T::DTYPE);
    let mut rng = SplitMix64::new(seed);
    let (x, _) = random::<T>(&mut rng, frames * tokens * dim);
    merge_case_on(b, &x, frames, tokens, dim, r, &what)
}

/// [`merge_case`] on given tokens `x` `[frames, tokens, dim]`.
pub fn merge_case_on<T: EmuElement>(
    b: &impl Backend,
    x: &[T],
    frames: usize,
    tokens: usize,
    dim: usize,
    r: usize,
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let x32 = image(x);
    let x = x.to_vec();
    let run = b
        .merge_pass(&x, frames, tokens, dim, r)
        .map_err(ke(&what))?;
    let (n_a, n_u) = (tokens.div_ceil(2), tokens.div_ceil(2) - r);
    if !run.scores.is_empty() {
        f32_close(
            &run.scores,
            &cosines(&x32, frames, tokens, dim),
            SCORES_RTOL,
            &format!("{what}: cosines"),
        )?;
    }
    for f in 0..frames {
        let m = cpu::merge_match(
            &x32[f * tokens * dim..(f + 1) * tokens * dim],
            tokens,
            dim,
            r,
        );
        if !run.dst.is_empty() {
            let want: Vec<i32> = m.dst.iter().map(|d| d.map_or(-1, |j| j as i32)).collect();
            equal(
                &run.dst[f * n_a..(f + 1) * n_a],
                &want,
                &format!("{what}: frame {f} matches"),
            )?;
        }
        if !run.unmerged.is_empty() {
            let want: Vec<i32> = m.unmerged.iter().map(|&i| i as i32).collect();
            equal(
                &run.unmerged[f * n_u..(f + 1) * n_u],
                &want,
                &format!("{what}: frame {f} unmerged tokens in rank order"),
            )?;
        }
    }
    let want = cpu::merge_pass(&x32, frames, tokens, dim, r).map_err(ke(&what))?;
    close(&run.out, &want, MERGE_RTOL, &what)
}

/// Every pass from `tokens` to `target` per frame, by value: the reference runs the same passes,
/// each output stored in `T` as the kernels store it.
pub fn merge_chain_case<T: EmuElement>(
    b: &impl Backend,
    frames: usize,
    tokens: usize,
    dim: usize,
    target: usize,
    seed: u64,
) -> CaseResult {
    let what = format!(
        "merge chain {tokens} -> {target}, {frames}x{dim} {}",
        T::DTYPE
    );
    let mut rng = SplitMix64::new(seed);
    let (x, x32) = random::<T>(&mut rng, frames * tokens * dim);
    let got = b
        .merge_frames(&x, frames, tokens, dim, target)
        .map_err(ke(&what))?;
    let (mut want, mut current) = (x32, tokens);
    for r in merge_passes(tokens, target).map_err(ke(&what))? {
        want = stored_as::<T>(&cpu::merge_pass(&want, frames, current, dim, r).map_err(ke(&what))?);
        current -= r;
    }
    if got.len() != frames * target * dim {
        return Err(format!(
            "{what}: {} elements, want {}",
            got.len(),
            frames * target * dim
        ));
    }
    close(&got, &want, MERGE_RTOL, &what)
}

/// `(frames, tokens, dim, r)`: r = nA (every A token merges), r < nA, r = 0 (copies only), odd
/// token counts (nA = nB + 1), feature counts that are not multiples of the 32-wide slices, more
/// A tokens than two tiles, the smallest frames.
pub const MERGE_CASES: &[(usize, usize, usize, usize)] = &[
    (2, 196, 40, 98),
    (2, 196, 40, 37),
    (2, 61, 33, 0),
    (1, 61, 33, 30),
    (1, 130, 64, 50),
    (3, 2, 5, 1),
    (1, 3, 7, 1),
];

pub fn merge_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    for (seed, &(f, p, d, r)) in MERGE_CASES.iter().enumerate() {
        results.push(merge_case::<f32>(b, f, p, d, r, 100 + seed as u64));
    }
    for &(f, p, d, r) in &[(2, 196, 40, 37), (1, 61, 33, 0)] {
        results.push(merge_case::<half::bf16>(b, f, p, d, r, 120));
    }
    results.push(merge_chain_case::<f32>(b, 2, 196, 48, 24, 130));
    results.push(merge_chain_case::<half::bf16>(b, 2, 196, 48, 24, 131));
    all(results)
}

// ---- Attention ------------------------------------------------------------------------------

pub fn shape(heads: usize, kv_heads: usize, tokens: usize, head_dim: usize) -> AttnShape {
    AttnShape {
        heads,
        kv_heads,
        tokens,
        head_dim,
    }
}

fn random_qkv<T: EmuElement>(s: &AttnShape, seed: u64) -> ([Vec<T>; 3], [Vec<f32>; 3]) {
    let mut rng = SplitMix64::new(seed);
    let (q, q32) = random::<T>(&mut rng, s.q_len());
    let (k, k32) = random::<T>(&mut rng, s.kv_len());
    let (v, v32) = random::<T>(&mut rng, s.kv_len());
    ([q, k, v], [q32, k32, v32])
}

/// Flash attention against `cpu::attention_causal`.
pub fn flash_case<T: EmuElement>(b: &impl Backend, s: &AttnShape, seed: u64) -> CaseResult {
    let what = format!("flash attention {s:?} {}", T::DTYPE);
    let (qkv, _) = random_qkv::<T>(s, seed);
    flash_case_on(b, s, qkv, &what)
}

/// [`flash_case`] on given Q, K, V.
pub fn flash_case_on<T: EmuElement>(
    b: &impl Backend,
    s: &AttnShape,
    [q, k, v]: [Vec<T>; 3],
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let [q32, k32, v32] = [image(&q), image(&k), image(&v)];
    let got = b.flash(s, &q, &k, &v).map_err(ke(&what))?;
    let want = cpu::attention_causal(&q32, &k32, &v32, s).map_err(ke(&what))?;
    close(&got, &want, ATTN_RTOL, &what)
}

/// Eager attention: the masked logits (`-inf` exactly above the diagonal), the probabilities'
/// lower triangle and the output.
pub fn eager_case<T: EmuElement>(b: &impl Backend, s: &AttnShape, seed: u64) -> CaseResult {
    let what = format!("eager attention {s:?} {}", T::DTYPE);
    let (qkv, _) = random_qkv::<T>(s, seed);
    eager_case_on(b, s, qkv, &what)
}

/// [`eager_case`] on given Q, K, V.
pub fn eager_case_on<T: EmuElement>(
    b: &impl Backend,
    s: &AttnShape,
    [q, k, v]: [Vec<T>; 3],
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let [q32, k32, v32] = [image(&q), image(&k), image(&v)];
    let run = b.eager(s, &q, &k, &v).map_err(ke(&what))?;
    let logits = cpu::causal_logits(&q32, &k32, s).map_err(ke(&what))?;
    f32_close(&run.logits, &logits, ATTN_RTOL, &format!("{what}: logits"))?;
    if !run.probs.is_empty() {
        let probs = cpu::causal_softmax(&logits, s.heads, s.tokens, 1.0).map_err(ke(&what))?;
        f32_close(
            &lower(&run.probs, s.heads, s.tokens),
            &lower(&probs, s.heads, s.tokens),
            ATTN_RTOL,
            &format!("{what}: probabilities"),
        )?;
    }
    let want = cpu::attention_causal(&q32, &k32, &v32, s).map_err(ke(&what))?;
    close(&run.out, &want, ATTN_RTOL, &what)
}

/// `(heads, kv_heads, tokens, head_dim)`: GQA 2:1, 3:1 and 8:1 and none; token counts below, at
/// and across the 32-row tile; one token; head dims 64 and 128.
pub const ATTN_CASES: &[(usize, usize, usize, usize)] = &[
    (4, 2, 77, 64),
    (6, 2, 130, 128),
    (2, 2, 31, 128),
    (1, 1, 1, 64),
    (8, 1, 33, 64),
    (3, 3, 32, 128),
    (2, 1, 64, 64),
];

pub fn attention_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    for (seed, &(h, hkv, n, d)) in ATTN_CASES.iter().enumerate() {
        let s = shape(h, hkv, n, d);
        results.push(flash_case::<f32>(b, &s, 200 + seed as u64));
        results.push(eager_case::<f32>(b, &s, 220 + seed as u64));
    }
    for &(h, hkv, n, d) in &[(4, 2, 77, 64), (2, 2, 31, 128), (1, 1, 1, 128)] {
        let s = shape(h, hkv, n, d);
        results.push(flash_case::<half::bf16>(b, &s, 240));
        results.push(eager_case::<half::bf16>(b, &s, 241));
    }
    all(results)
}

// ---- PageRank -------------------------------------------------------------------------------

/// Materialising importance from CPU logits: `M`'s lower triangle, the last distribution and the
/// scores, each relative to its own scale (scores are about `1/n`).
pub fn pagerank_materialised_case(
    b: &impl Backend,
    heads: usize,
    tokens: usize,
    seed: u64,
) -> CaseResult {
    let what = format!("materialised importance H={heads} n={tokens}");
    let s = shape(heads, heads, tokens, 64);
    let ([q, k, _], _) = random_qkv::<f32>(&s, seed);
    let logits = cpu::causal_logits(&q, &k, &s).map_err(ke(&what))?;
    pagerank_materialised_on(b, &logits, heads, tokens, &what)
}

/// [`pagerank_materialised_case`] on given logits `[heads, n, n]`.
pub fn pagerank_materialised_on(
    b: &impl Backend,
    logits: &[f32],
    heads: usize,
    tokens: usize,
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let logits = logits.to_vec();
    let run = b
        .pagerank_materialised(&logits, heads, tokens)
        .map_err(ke(&what))?;
    let probs =
        cpu::causal_softmax(&logits, heads, tokens, PAGERANK_TEMPERATURE).map_err(ke(&what))?;
    if !run.probs.is_empty() {
        f32_close(
            &lower(&run.probs, heads, tokens),
            &lower(&probs, heads, tokens),
            IMPORTANCE_RTOL,
            &format!("{what}: M"),
        )?;
    }
    let dist =
        cpu::power_iterations(&probs, heads, tokens, PAGERANK_ITERATIONS).map_err(ke(&what))?;
    if !run.dist.is_empty() {
        f32_close(
            &run.dist,
            &dist,
            IMPORTANCE_RTOL,
            &format!("{what}: distribution"),
        )?;
    }
    let score = cpu::rms_over_heads(&dist, heads, tokens);
    f32_close(
        &run.score,
        &score,
        IMPORTANCE_RTOL,
        &format!("{what}: scores"),
    )
    .map(|_| ())
}

/// Fused importance from Q and K: the row normalisers and the scores.
pub fn pagerank_fused_case<T: EmuElement>(
    b: &impl Backend,
    s: &AttnShape,
    seed: u64,
) -> CaseResult {
    let what = format!("fused importance {s:?} {}", T::DTYPE);
    let ([q, k, _], [q32, k32, _]) = random_qkv::<T>(s, seed);
    let run = b.pagerank_fused(s, &q, &k).map_err(ke(&what))?;
    let (row_max, row_sum) =
        cpu::pagerank_row_stats(&q32, &k32, s, PAGERANK_TEMPERATURE).map_err(ke(&what))?;
    if !run.row_max.is_empty() {
        f32_close(
            &run.row_max,
            &row_max,
            IMPORTANCE_RTOL,
            &format!("{what}: row max"),
        )?;
        f32_close(
            &run.row_sum,
            &row_sum,
            IMPORTANCE_RTOL,
            &format!("{what}: row sum"),
        )?;
    }
    let want = cpu::pagerank_from_qk(&q32, &k32, s, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)
        .map_err(ke(&what))?;
    f32_close(
        &run.score,
        &want,
        IMPORTANCE_RTOL,
        &format!("{what}: scores"),
    )
    .map(|_| ())
}

/// `(heads, tokens)` of the materialising path.
pub const PAGERANK_MATERIALISED_CASES: &[(usize, usize)] = &[(4, 150), (2, 1), (3, 33), (1, 64)];
/// Shapes of the fused path: GQA, tokens across tiles, head dims 64 and 128, one token.
pub const PAGERANK_FUSED_CASES: &[(usize, usize, usize, usize)] = &[
    (4, 2, 150, 64),
    (3, 1, 45, 128),
    (2, 2, 32, 64),
    (2, 1, 1, 128),
];

pub fn pagerank_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    for (seed, &(h, n)) in PAGERANK_MATERIALISED_CASES.iter().enumerate() {
        results.push(pagerank_materialised_case(b, h, n, 300 + seed as u64));
    }
    for (seed, &(h, hkv, n, d)) in PAGERANK_FUSED_CASES.iter().enumerate() {
        let s = shape(h, hkv, n, d);
        results.push(pagerank_fused_case::<f32>(b, &s, 320 + seed as u64));
        results.push(pagerank_fused_case::<half::bf16>(b, &s, 340 + seed as u64));
    }
    all(results)
}

// ---- Pruning --------------------------------------------------------------------------------

/// Kinds of importance scores for pruning cases.
#[derive(Debug, Clone, Copy)]
pub enum Scores {
    /// Standard normal.
    Normal,
    /// Four distinct values: most comparisons are ties, broken by position.
    Ties,
    /// Every third token's score NaN (text and visual alike).
    NaNs,
    /// Only -0, +0 and 1: signed zeros are equal scores.
    SignedZeros,
}

pub fn scores(kind: Scores, n: usize, rng: &mut SplitMix64) -> Vec<f32> {
    (0..n)
        .map(|j| match kind {
            Scores::Normal => rng.normal(),
            Scores::Ties => (rng.uniform() * 4.0).floor(),
            Scores::NaNs if j % 3 == 1 => f32::NAN,
            Scores::NaNs => rng.normal(),
            Scores::SignedZeros => [0.0, -0.0, 1.0][(rng.uniform() * 3.0) as usize % 3],
        })
        .collect()
}

/// Pruning against `cpu::select_and_gather`: flags, kept positions, the count, gathered rows.
pub fn prune_case<T: EmuElement>(
    b: &impl Backend,
    tokens: usize,
    width: usize,
    visual: Range<usize>,
    keep: usize,
    kind: Scores,
    seed: u64,
) -> CaseResult {
    let what = format!(
        "prune n={tokens} visual {visual:?} keep {keep} {kind:?} {}",
        T::DTYPE
    );
    let mut rng = SplitMix64::new(seed);
    let (hidden, _) = random::<T>(&mut rng, tokens * width);
    let score = scores(kind, tokens, &mut rng);
    prune_case_on(b, &hidden, width, &score, visual, keep, &what)
}

/// [`prune_case`] on given hidden rows and scores.
pub fn prune_case_on<T: EmuElement>(
    b: &impl Backend,
    hidden: &[T],
    width: usize,
    score: &[f32],
    visual: Range<usize>,
    keep: usize,
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let tokens = score.len();
    let run = b
        .prune(hidden, width, score, visual.clone(), keep)
        .map_err(ke(&what))?;
    let (index, rows) =
        cpu::select_and_gather(hidden, width, score, visual, keep).map_err(ke(&what))?;
    if !run.flags.is_empty() {
        let mut flags = vec![0i32; tokens];
        for &j in &index {
            flags[j] = 1;
        }
        equal(&run.flags, &flags, &format!("{what}: flags"))?;
    }
    if run.count as usize != index.len() {
        return Err(format!(
            "{what}: the kernel counts {} kept tokens, the reference {}",
            run.count,
            index.len()
        ));
    }
    let got: Vec<usize> = run.index.iter().map(|&i| i as usize).collect();
    equal(&got, &index, &format!("{what}: kept positions"))?;
    let (got_bits, want_bits) = (image(&run.out), image(&rows));
    if got_bits
        .iter()
        .zip(&want_bits)
        .any(|(g, w)| g.to_bits() != w.to_bits())
        || got_bits.len() != want_bits.len()
    {
        return Err(format!("{what}: gathered rows differ"));
    }
    Ok(())
}

/// `(tokens, width, visual, keep, scores)`: text on both sides, more tokens than a 256-score
/// chunk and than the 1024-thread compaction, nothing or everything kept, no visual tokens, one
/// token, ties, NaN scores (NaN ranks last: not kept while numbers remain), signed zeros.
pub fn prune_cases() -> Vec<(usize, usize, Range<usize>, usize, Scores)> {
    vec![
        (150, 96, 10..140, 40, Scores::Normal),
        (600, 24, 5..590, 100, Scores::Normal),
        (1300, 8, 0..1300, 1000, Scores::Normal),
        (300, 16, 20..280, 0, Scores::Normal),
        (300, 16, 20..280, 260, Scores::Normal),
        (64, 16, 30..30, 0, Scores::Normal),
        (1, 8, 0..1, 1, Scores::Normal),
        (500, 8, 50..450, 120, Scores::Ties),
        (300, 8, 10..290, 100, Scores::NaNs),
        (300, 8, 10..290, 250, Scores::NaNs),
        (200, 8, 0..200, 70, Scores::SignedZeros),
    ]
}

pub fn prune_suite(b: &impl Backend) -> CaseResult {
    let mut results = Vec::new();
    for (seed, (n, w, visual, keep, kind)) in prune_cases().into_iter().enumerate() {
        results.push(prune_case::<f32>(
            b,
            n,
            w,
            visual.clone(),
            keep,
            kind,
            400 + seed as u64,
        ));
        results.push(prune_case::<half::bf16>(
            b,
            n,
            w,
            visual,
            keep,
            kind,
            450 + seed as u64,
        ));
    }
    all(results)
}

// ---- Layer passes ---------------------------------------------------------------------------

pub fn rmsnorm_case<T: EmuElement>(
    b: &impl Backend,
    rows: usize,
    width: usize,
    seed: u64,
) -> CaseResult {
    let what = format!("rmsnorm {rows}x{width} {}", T::DTYPE);
    let mut rng = SplitMix64::new(seed);
    let (x, _) = random::<T>(&mut rng, rows * width);
    let (w, _) = random::<T>(&mut rng, width);
    rmsnorm_case_on(b, &x, &w, width, &what)
}

/// [`rmsnorm_case`] on given rows and weight.
pub fn rmsnorm_case_on<T: EmuElement>(
    b: &impl Backend,
    x: &[T],
    w: &[T],
    width: usize,
    what: &str,
) -> CaseResult {
    let what = what.to_string();
    let (x32, w32) = (image(x), image(w));
    let (x, w) = (x.to_vec(), w.to_vec());
    let got = b.rmsnorm(&x, &w, width).map_err(ke(&what))?;
    let want = cpu::rmsnorm(&x32, &w32, width, cpu::RMSNORM_EPS).map_err(ke(&what))?;
    close(&got, &want, LAYER_RTOL, &what)
}

pub fn rope_case<T: EmuElement>(
    b: &impl Backend,
    rows: usize,
    heads: usize,
    head_dim: usize,
    seed: u64,
) -> CaseResult {
    let what = format!("rope {rows}x{heads}x{head_dim} {}", T::DTYPE);
    let width = heads * head_dim;
    let mut rng = SplitMix64::new(seed);
    let (x, mut want) = random::<T>(&mut rng, rows * width);
    let got = b.rope(&x, width, head_dim).map_err(ke(&what))?;
    cpu::rope(&mut want, width, head_dim, cpu::ROPE_THETA).map_err(ke(&what))?;
    close(&got, &want, ROPE_RTOL, &what)
}

pub fn swiglu_case<T: EmuElement>(b: &impl Backend, count: usize, seed: u64) -> CaseResult {
    let what = format!("swiglu {count} {}", T::DTYPE);
    let mut rng = SplitMix64::new(seed);
    let (a, a32) = random::<T>(&mut rng, count);
    let (c, c32) = random::<T>(&mut rng, count);
    let got = b.swiglu(&a, &c).map_err(ke(&what))?;
    close(
        &got,
        &cpu::swiglu(&a32, &c32).map_err(ke(&what))?,
        LAYER_RTOL,
        &what,
    )
}

pub fn add_and_copy_case<T: EmuElement>(b: &impl Backend, count: usize, seed: u64) -> CaseResult {
    let what = format!("add/copy {count} {}", T::DTYPE);
    let mut rng = SplitMix64::new(seed);
    let (a, a32) = random::<T>(&mut rng, count);
    let (c, c32) = random::<T>(&mut rng, count);
    let got = b.add(&a, &c).map_err(ke(&what))?;
    close(
        &got,
        &cpu::add(&a32, &c32).map_err(ke(&what))?,
        MERGE_RTOL,
        &what,
    )?;
    let got = b.copy(&a).map_err(ke(&what))?;
    equal(&image(&got), &a32, &format!("{what}: copy"))
}

/// RMSNorm widths of whole 16-byte vectors and not; RoPE head dims that vectorise (64, 128) and
/// do not (12, 2); flat lengths of whole vectors, with a tail, shorter than one vector.
pub const RMSNORM_CASES: &[(usize, usize)] = &[(37, 200), (5, 203), (3, 3584), (1, 1), (2, 8)];
pub const ROPE_CASES: &[(usize, usize, usize)] =
    &[(50, 6, 64), (9, 3, 128), (20, 5, 12), (3, 1, 2)];
pub const FLAT_CASES: &[usize] = &[4096, 100_003, 7, 1];

fn layers_for<T: EmuElement>(b: &impl Backend, seed: u64) -> Vec<CaseResult> {
    let mut results = Vec::new();
    for &(rows, width) in RMSNORM_CASES {
        results.push(rmsnorm_case::<T>(b, rows, width, seed));
    }
    for &(rows, heads, d) in ROPE_CASES {
        results.push(rope_case::<T>(b, rows, heads, d, seed + 1));
    }
    for &count in FLAT_CASES {
        results.push(swiglu_case::<T>(b, count, seed + 2));
        results.push(add_and_copy_case::<T>(b, count, seed + 3));
    }
    results
}

pub fn layers_suite(b: &impl Backend) -> CaseResult {
    let mut results = layers_for::<f32>(b, 500);
    results.extend(layers_for::<half::bf16>(b, 510));
    all(results)
}
