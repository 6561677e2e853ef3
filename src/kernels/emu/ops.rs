//! The operations of [`crate::kernels::gpu`] on the emulator: the same kernels, in the same order,
//! with the same launch configurations ([`crate::kernels::launch`]) and buffer sizes, on host
//! slices. Outputs start as NaN (index buffers as zero, as `Device::zeros` leaves them), so an
//! element a kernel fails to write cannot pass for a result.

pub use super::EmuElement;
use super::{Arg, Buffer, Emu};
use crate::kernels::cpu::{self, check_len};
use crate::kernels::launch::{self, int};
use crate::kernels::{AttnShape, Dtype, KernelError, SUPPORTED_HEAD_DIMS};
use std::ops::Range;

fn nan<T: EmuElement>(len: usize) -> Buffer {
    Buffer::filled(len, T::from_f32(f32::NAN))
}

fn by_dtype<T: EmuElement>(f32_name: &'static str, bf16_name: &'static str) -> &'static str {
    match T::DTYPE {
        Dtype::F32 => f32_name,
        Dtype::Bf16 => bf16_name,
    }
}

/// The entry point of an attention-tile kernel for `head_dim` (64 or 128) and `T`.
fn head_dim_entry<T: EmuElement>(
    kernel: &'static str,
    head_dim: usize,
    names: [[&'static str; 2]; 2],
) -> Result<&'static str, KernelError> {
    let d = match head_dim {
        64 => 0,
        128 => 1,
        other => {
            return Err(KernelError::shape(
                kernel,
                format!(
                    "head dim {other} is not instantiated (supported: {SUPPORTED_HEAD_DIMS:?})"
                ),
            ))
        }
    };
    Ok(names[d][match T::DTYPE {
        Dtype::F32 => 0,
        Dtype::Bf16 => 1,
    }])
}

// ---- Merge ----------------------------------------------------------------------------------

/// One merging pass and its intermediate buffers.
#[derive(Debug, Clone)]
pub struct MergeRun<T> {
    /// Cosine similarities `[frames, nA, nB]`.
    pub scores: Vec<f32>,
    /// Per A token the B token it merges into, or -1, `[frames, nA]`.
    pub dst: Vec<i32>,
    /// The unmerged A tokens in output order, `[frames, nA - r]`.
    pub unmerged: Vec<i32>,
    /// `[frames, tokens - r, dim]`.
    pub out: Vec<T>,
}

/// `gpu::MergePass`: `merge_scores`, `merge_match`, `merge_apply`.
pub fn merge_pass<T: EmuElement>(
    emu: &Emu,
    x: &[T],
    frames: usize,
    tokens: usize,
    dim: usize,
    r: usize,
) -> Result<MergeRun<T>, KernelError> {
    let launches = launch::merge(frames, tokens, dim, r)?;
    check_len("merge", "input", x.len(), frames * tokens * dim)?;
    let (n_a, n_b) = (tokens.div_ceil(2), tokens / 2);
    let (p, d, r_i) = (tokens as i32, dim as i32, r as i32);
    let mut x = Buffer::from_slice(x);
    let mut scores = Buffer::filled(frames * n_a * n_b, f32::NAN);
    let mut dst = Buffer::filled(frames * n_a, 0i32);
    let mut unmerged = Buffer::filled(frames * (n_a - r), 0i32);
    let mut out = nan::<T>(frames * (tokens - r) * dim);
    emu.launch(
        by_dtype::<T>("merge_scores_f32", "merge_scores_bf16"),
        launches.scores,
        &mut [
            Arg::Buf(&mut x),
            Arg::Buf(&mut scores),
            Arg::I32(p),
            Arg::I32(d),
        ],
    )?;
    emu.launch(
        "merge_match",
        launches.matching,
        &mut [
            Arg::Buf(&mut scores),
            Arg::Buf(&mut dst),
            Arg::Buf(&mut unmerged),
            Arg::I32(p),
            Arg::I32(r_i),
        ],
    )?;
    emu.launch(
        by_dtype::<T>("merge_apply_f32", "merge_apply_bf16"),
        launches.apply,
        &mut [
            Arg::Buf(&mut x),
            Arg::Buf(&mut dst),
            Arg::Buf(&mut unmerged),
            Arg::Buf(&mut out),
            Arg::I32(p),
            Arg::I32(d),
            Arg::I32(r_i),
        ],
    )?;
    Ok(MergeRun {
        scores: scores.to_vec(),
        dst: dst.to_vec(),
        unmerged: unmerged.to_vec(),
        out: out.to_vec(),
    })
}

/// `gpu::MergeFrames`: every pass of [`crate::kernels::merge_passes`] from `tokens` to `target`
/// per frame, each pass's output (in `T`) the next one's input. Returns `[frames, target, dim]`.
pub fn merge_frames<T: EmuElement>(
    emu: &Emu,
    x: &[T],
    frames: usize,
    tokens: usize,
    dim: usize,
    target: usize,
) -> Result<Vec<T>, KernelError> {
    let mut current = tokens;
    let mut data = x.to_vec();
    for r in crate::kernels::merge_passes(tokens, target)? {
        data = merge_pass(emu, &data, frames, current, dim, r)?.out;
        current -= r;
    }
    Ok(data)
}

// ---- Attention ------------------------------------------------------------------------------

fn check_qk<T>(kernel: &'static str, s: &AttnShape, q: &[T], k: &[T]) -> Result<(), KernelError> {
    s.check(kernel)?;
    check_len(kernel, "Q", q.len(), s.q_len())?;
    check_len(kernel, "K", k.len(), s.kv_len())
}

fn attn_ints(s: &AttnShape) -> [Arg<'static>; 3] {
    [
        Arg::I32(s.heads as i32),
        Arg::I32(s.kv_heads as i32),
        Arg::I32(s.tokens as i32),
    ]
}

/// `gpu::FlashAttention`: `attn_flash_*`, O `[heads, n, d]`.
pub fn flash_attention<T: EmuElement>(
    emu: &Emu,
    s: &AttnShape,
    q: &[T],
    k: &[T],
    v: &[T],
) -> Result<Vec<T>, KernelError> {
    check_qk("attention", s, q, k)?;
    check_len("attention", "V", v.len(), s.kv_len())?;
    let name = head_dim_entry::<T>(
        "attention",
        s.head_dim,
        [
            ["attn_flash_d64_f32", "attn_flash_d64_bf16"],
            ["attn_flash_d128_f32", "attn_flash_d128_bf16"],
        ],
    )?;
    let (mut q, mut k, mut v) = (
        Buffer::from_slice(q),
        Buffer::from_slice(k),
        Buffer::from_slice(v),
    );
    let mut o = nan::<T>(s.q_len());
    let [h, hkv, n] = attn_ints(s);
    emu.launch(
        name,
        launch::attn_flash(s)?,
        &mut [
            Arg::Buf(&mut q),
            Arg::Buf(&mut k),
            Arg::Buf(&mut v),
            Arg::Buf(&mut o),
            h,
            hkv,
            n,
            Arg::F32(s.scale()),
        ],
    )?;
    Ok(o.to_vec())
}

/// `attn_logits_*`: the masked logits `[heads, n, n]` f32 (`gpu::AttentionLogits`).
pub fn attention_logits<T: EmuElement>(
    emu: &Emu,
    s: &AttnShape,
    q: &[T],
    k: &[T],
) -> Result<Vec<f32>, KernelError> {
    check_qk("attention logits", s, q, k)?;
    let name = head_dim_entry::<T>(
        "attention logits",
        s.head_dim,
        [
            ["attn_logits_d64_f32", "attn_logits_d64_bf16"],
            ["attn_logits_d128_f32", "attn_logits_d128_bf16"],
        ],
    )?;
    let (mut q, mut k) = (Buffer::from_slice(q), Buffer::from_slice(k));
    let mut logits = Buffer::filled(s.heads * s.tokens * s.tokens, f32::NAN);
    let [h, hkv, n] = attn_ints(s);
    emu.launch(
        name,
        launch::attn_logits(s)?,
        &mut [
            Arg::Buf(&mut q),
            Arg::Buf(&mut k),
            Arg::Buf(&mut logits),
            h,
            hkv,
            n,
            Arg::F32(s.scale()),
        ],
    )?;
    Ok(logits.to_vec())
}

/// Eager attention and its intermediates.
#[derive(Debug, Clone)]
pub struct EagerRun<T> {
    /// `[heads, n, n]` f32, `-inf` above the diagonal.
    pub logits: Vec<f32>,
    /// `[heads, n, n]` f32, lower triangle written (NaN above it: the kernel leaves it alone).
    pub probs: Vec<f32>,
    pub out: Vec<T>,
}

/// `gpu::EagerAttention`: `attn_logits_*`, `attn_softmax`, `attn_pv_*`.
pub fn eager_attention<T: EmuElement>(
    emu: &Emu,
    s: &AttnShape,
    q: &[T],
    k: &[T],
    v: &[T],
) -> Result<EagerRun<T>, KernelError> {
    let logits = attention_logits(emu, s, q, k)?;
    check_len("eager attention", "V", v.len(), s.kv_len())?;
    let mut logits_buf = Buffer::from_slice(&logits);
    let mut probs = Buffer::filled(logits.len(), f32::NAN);
    let [h, hkv, n] = attn_ints(s);
    emu.launch(
        "attn_softmax",
        launch::row_softmax(s.heads, s.tokens)?,
        &mut [
            Arg::Buf(&mut logits_buf),
            Arg::Buf(&mut probs),
            Arg::I32(s.heads as i32),
            Arg::I32(s.tokens as i32),
        ],
    )?;
    let name = head_dim_entry::<T>(
        "eager attention",
        s.head_dim,
        [
            ["attn_pv_d64_f32", "attn_pv_d64_bf16"],
            ["attn_pv_d128_f32", "attn_pv_d128_bf16"],
        ],
    )?;
    let mut v = Buffer::from_slice(v);
    let mut o = nan::<T>(s.q_len());
    emu.launch(
        name,
        launch::attn_pv(s)?,
        &mut [
            Arg::Buf(&mut probs),
            Arg::Buf(&mut v),
            Arg::Buf(&mut o),
            h,
            hkv,
            n,
        ],
    )?;
    Ok(EagerRun {
        logits,
        probs: probs.to_vec(),
        out: o.to_vec(),
    })
}

// ---- PageRank -------------------------------------------------------------------------------

/// Importance and the state behind it.
#[derive(Debug, Clone)]
pub struct PageRankRun {
    /// Materialising path: `M` `[heads, n, n]` (lower triangle). Empty for the fused path.
    pub probs: Vec<f32>,
    /// Fused path: the row normalisers `[heads, n]`. Empty for the materialising path.
    pub row_max: Vec<f32>,
    pub row_sum: Vec<f32>,
    /// The distribution after the last iteration, `[heads, n]`.
    pub dist: Vec<f32>,
    /// The importance `[n]`.
    pub score: Vec<f32>,
}

fn check_pagerank(heads: usize, tokens: usize, temperature: f32) -> Result<(), KernelError> {
    if heads == 0 || tokens == 0 || !(temperature.is_finite() && temperature > 0.0) {
        return Err(KernelError::shape(
            "pagerank",
            format!("heads {heads}, tokens {tokens}, temperature {temperature}"),
        ));
    }
    int("pagerank", "tokens", tokens)?;
    int("pagerank", "heads", heads)?;
    Ok(())
}

/// `PowerState::fill_uniform`: `pagerank_fill` of `1/n` into `dist[0]`.
fn fill_uniform(emu: &Emu, dist: &mut Buffer, heads: usize, n: usize) -> Result<(), KernelError> {
    let count = int("pagerank", "heads * n", heads * n)?;
    emu.launch(
        "pagerank_fill",
        launch::pagerank_fill(heads * n)?,
        &mut [Arg::Buf(dist), Arg::I32(count), Arg::F32(1.0 / n as f32)],
    )
}

/// `PowerState::rms`: `pagerank_rms` of `dist` into a score `[n]`.
fn rms(emu: &Emu, dist: &mut Buffer, heads: usize, n: usize) -> Result<Vec<f32>, KernelError> {
    let mut score = Buffer::filled(n, f32::NAN);
    emu.launch(
        "pagerank_rms",
        launch::pagerank_rms(n)?,
        &mut [
            Arg::Buf(dist),
            Arg::Buf(&mut score),
            Arg::I32(heads as i32),
            Arg::I32(n as i32),
        ],
    )?;
    Ok(score.to_vec())
}

/// `gpu::PageRankMaterialised`: `pagerank_softmax` into `M`, `pagerank_fill`, `iterations` ×
/// `pagerank_step` (ping-pong), `pagerank_rms`.
pub fn pagerank_materialised(
    emu: &Emu,
    logits: &[f32],
    heads: usize,
    tokens: usize,
    temperature: f32,
    iterations: usize,
) -> Result<PageRankRun, KernelError> {
    check_pagerank(heads, tokens, temperature)?;
    check_len("pagerank", "logits", logits.len(), heads * tokens * tokens)?;
    let (h, n) = (heads as i32, tokens as i32);
    let mut logits = Buffer::from_slice(logits);
    let mut probs = Buffer::filled(heads * tokens * tokens, f32::NAN);
    emu.launch(
        "pagerank_softmax",
        launch::row_softmax(heads, tokens)?,
        &mut [
            Arg::Buf(&mut logits),
            Arg::Buf(&mut probs),
            Arg::I32(h),
            Arg::I32(n),
            Arg::F32(1.0 / temperature),
        ],
    )?;
    let mut dist = [
        Buffer::filled(heads * tokens, 0.0f32),
        Buffer::filled(heads * tokens, 0.0f32),
    ];
    fill_uniform(emu, &mut dist[0], heads, tokens)?;
    let step = launch::pagerank_step(heads, tokens)?;
    for it in 0..iterations {
        let [d0, d1] = &mut dist;
        let (src, dst) = if it % 2 == 0 { (d0, d1) } else { (d1, d0) };
        emu.launch(
            "pagerank_step",
            step,
            &mut [
                Arg::Buf(&mut probs),
                Arg::Buf(src),
                Arg::Buf(dst),
                Arg::I32(h),
                Arg::I32(n),
            ],
        )?;
    }
    let last = &mut dist[iterations % 2];
    let score = rms(emu, last, heads, tokens)?;
    Ok(PageRankRun {
        probs: probs.to_vec(),
        row_max: Vec::new(),
        row_sum: Vec::new(),
        dist: last.to_vec(),
        score,
    })
}

/// `gpu::PageRankFused`: `pagerank_row_stats_*`, `pagerank_fill`, `iterations` ×
/// `pagerank_fused_step_*` (ping-pong), `pagerank_rms`.
pub fn pagerank_fused<T: EmuElement>(
    emu: &Emu,
    s: &AttnShape,
    q: &[T],
    k: &[T],
    temperature: f32,
    iterations: usize,
) -> Result<PageRankRun, KernelError> {
    check_qk("pagerank fused", s, q, k)?;
    if !(temperature.is_finite() && temperature > 0.0) {
        return Err(KernelError::shape(
            "pagerank fused",
            format!("temperature {temperature} must be finite and positive"),
        ));
    }
    let c_log2 = s.scale() * std::f32::consts::LOG2_E / temperature;
    let grid = launch::pagerank_fused(s)?;
    let hn = s.heads * s.tokens;
    let (mut q, mut k) = (Buffer::from_slice(q), Buffer::from_slice(k));
    let mut row_max = Buffer::filled(hn, f32::NAN);
    let mut row_sum = Buffer::filled(hn, f32::NAN);
    let name = head_dim_entry::<T>(
        "pagerank fused",
        s.head_dim,
        [
            ["pagerank_row_stats_d64_f32", "pagerank_row_stats_d64_bf16"],
            [
                "pagerank_row_stats_d128_f32",
                "pagerank_row_stats_d128_bf16",
            ],
        ],
    )?;
    {
        let [h, hkv, n] = attn_ints(s);
        emu.launch(
            name,
            grid,
            &mut [
                Arg::Buf(&mut q),
                Arg::Buf(&mut k),
                Arg::Buf(&mut row_max),
                Arg::Buf(&mut row_sum),
                h,
                hkv,
                n,
                Arg::F32(c_log2),
            ],
        )?;
    }
    let mut dist = [Buffer::filled(hn, 0.0f32), Buffer::filled(hn, 0.0f32)];
    fill_uniform(emu, &mut dist[0], s.heads, s.tokens)?;
    let name = head_dim_entry::<T>(
        "pagerank fused",
        s.head_dim,
        [
            [
                "pagerank_fused_step_d64_f32",
                "pagerank_fused_step_d64_bf16",
            ],
            [
                "pagerank_fused_step_d128_f32",
                "pagerank_fused_step_d128_bf16",
            ],
        ],
    )?;
    for it in 0..iterations {
        let [d0, d1] = &mut dist;
        let (src, dst) = if it % 2 == 0 { (d0, d1) } else { (d1, d0) };
        let [h, hkv, n] = attn_ints(s);
        emu.launch(
            name,
            grid,
            &mut [
                Arg::Buf(&mut q),
                Arg::Buf(&mut k),
                Arg::Buf(&mut row_max),
                Arg::Buf(&mut row_sum),
                Arg::Buf(src),
                Arg::Buf(dst),
                h,
                hkv,
                n,
                Arg::F32(c_log2),
            ],
        )?;
    }
    let last = &mut dist[iterations % 2];
    let score = rms(emu, last, s.heads, s.tokens)?;
    Ok(PageRankRun {
        probs: Vec::new(),
        row_max: row_max.to_vec(),
        row_sum: row_sum.to_vec(),
        dist: last.to_vec(),
        score,
    })
}

// ---- Pruning --------------------------------------------------------------------------------

/// A pruning layer's result.
#[derive(Debug, Clone)]
pub struct PruneRun<T> {
    /// `select_flags`: 1 for a kept token, `[n]`.
    pub flags: Vec<i32>,
    /// `select_compact`: kept positions in sequence order, `[kept]`.
    pub index: Vec<i32>,
    /// `select_compact`'s count of kept tokens.
    pub count: i32,
    /// `gather_rows`: `[kept, width]`.
    pub out: Vec<T>,
}

/// `gpu::Prune`: `select_flags`, `select_compact` (into `kept` slots), `gather_rows_*`.
pub fn prune<T: EmuElement>(
    emu: &Emu,
    hidden: &[T],
    width: usize,
    score: &[f32],
    visual: Range<usize>,
    keep_visual: usize,
) -> Result<PruneRun<T>, KernelError> {
    let tokens = score.len();
    if visual.start > visual.end || visual.end > tokens || keep_visual > visual.len() || width == 0
    {
        return Err(KernelError::shape(
            "prune",
            format!("visual {visual:?}, keep {keep_visual}, tokens {tokens}, width {width}"),
        ));
    }
    int("prune", "tokens * width", tokens * width)?;
    check_len("prune", "hidden", hidden.len(), tokens * width)?;
    let kept = tokens - (visual.len() - keep_visual);
    let mut score = Buffer::from_slice(score);
    let mut flags = Buffer::filled(tokens, 0i32);
    emu.launch(
        "select_flags",
        launch::select_flags(tokens)?,
        &mut [
            Arg::Buf(&mut score),
            Arg::Buf(&mut flags),
            Arg::I32(tokens as i32),
            Arg::I32(visual.start as i32),
            Arg::I32(visual.end as i32),
            Arg::I32(keep_visual as i32),
        ],
    )?;
    let flags_host = flags.to_vec::<i32>();
    let (index, count) = select_compact(emu, &flags_host, kept)?;
    let mut hidden = Buffer::from_slice(hidden);
    let mut index_buf = Buffer::from_slice(&index);
    let mut out = nan::<T>(kept * width);
    emu.launch(
        by_dtype::<T>("gather_rows_f32", "gather_rows_bf16"),
        launch::gather_rows(kept)?,
        &mut [
            Arg::Buf(&mut hidden),
            Arg::Buf(&mut index_buf),
            Arg::Buf(&mut out),
            Arg::I32(kept as i32),
            Arg::I32(width as i32),
        ],
    )?;
    Ok(PruneRun {
        flags: flags_host,
        index,
        count,
        out: out.to_vec(),
    })
}

/// `select_compact` alone over `flags` into an index buffer of `capacity` slots: the kept
/// positions (slots beyond the kept count stay 0) and the kernel's count.
pub fn select_compact(
    emu: &Emu,
    flags: &[i32],
    capacity: usize,
) -> Result<(Vec<i32>, i32), KernelError> {
    let n = int("select", "tokens", flags.len())?;
    let cap = int("select", "capacity", capacity)?;
    let mut flags = Buffer::from_slice(flags);
    let mut index = Buffer::filled(capacity, 0i32);
    let mut count = Buffer::filled(1, -1i32);
    emu.launch(
        "select_compact",
        launch::select_compact()?,
        &mut [
            Arg::Buf(&mut flags),
            Arg::Buf(&mut index),
            Arg::Buf(&mut count),
            Arg::I32(n),
            Arg::I32(cap),
        ],
    )?;
    Ok((index.to_vec(), count.to_vec::<i32>()[0]))
}

// ---- Layer passes ---------------------------------------------------------------------------

/// `gpu::rmsnorm`: `layer_rmsnorm_*`, one block per row.
pub fn rmsnorm<T: EmuElement>(
    emu: &Emu,
    x: &[T],
    weight: &[T],
    width: usize,
    eps: f32,
) -> Result<Vec<T>, KernelError> {
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(KernelError::shape(
            "rmsnorm",
            format!("{} elements are not rows of width {width}", x.len()),
        ));
    }
    check_len("rmsnorm", "weight", weight.len(), width)?;
    let rows = x.len() / width;
    let (rows_i, width_i) = (
        int("rmsnorm", "rows", rows)?,
        int("rmsnorm", "width", width)?,
    );
    let (mut xb, mut wb) = (Buffer::from_slice(x), Buffer::from_slice(weight));
    let mut out = nan::<T>(x.len());
    emu.launch(
        by_dtype::<T>("layer_rmsnorm_f32", "layer_rmsnorm_bf16"),
        launch::rmsnorm(rows)?,
        &mut [
            Arg::Buf(&mut xb),
            Arg::Buf(&mut wb),
            Arg::Buf(&mut out),
            Arg::I32(rows_i),
            Arg::I32(width_i),
            Arg::F32(eps),
        ],
    )?;
    Ok(out.to_vec())
}

/// `gpu::rope`: `layer_rope_*` in place; returns the rotated copy of `x`.
pub fn rope<T: EmuElement>(
    emu: &Emu,
    x: &[T],
    width: usize,
    head_dim: usize,
    theta: f32,
) -> Result<Vec<T>, KernelError> {
    cpu::check_rope(x.len(), width, head_dim)?;
    if !(theta.is_finite() && theta > 1.0) {
        return Err(KernelError::shape(
            "rope",
            format!("theta {theta} must be finite and above 1"),
        ));
    }
    let rows = x.len() / width;
    let (rows_i, width_i, d_i) = (
        int("rope", "rows", rows)?,
        int("rope", "width", width)?,
        int("rope", "head dim", head_dim)?,
    );
    let mut xb = Buffer::from_slice(x);
    emu.launch(
        by_dtype::<T>("layer_rope_f32", "layer_rope_bf16"),
        launch::rope(rows, width, head_dim, T::DTYPE),
        &mut [
            Arg::Buf(&mut xb),
            Arg::I32(rows_i),
            Arg::I32(width_i),
            Arg::I32(d_i),
            Arg::F32(theta.log2()),
        ],
    )?;
    Ok(xb.to_vec())
}

fn binary<T: EmuElement>(
    emu: &Emu,
    kernel: &'static str,
    name: &'static str,
    a: &[T],
    b: &[T],
) -> Result<Vec<T>, KernelError> {
    check_len(kernel, "second input", b.len(), a.len())?;
    let (mut ab, mut bb) = (Buffer::from_slice(a), Buffer::from_slice(b));
    let mut out = nan::<T>(a.len());
    emu.launch(
        name,
        launch::flat(a.len(), T::DTYPE),
        &mut [
            Arg::Buf(&mut ab),
            Arg::Buf(&mut bb),
            Arg::Buf(&mut out),
            Arg::I64(a.len() as i64),
        ],
    )?;
    Ok(out.to_vec())
}

/// `gpu::swiglu`: `silu(gate) · up`.
pub fn swiglu<T: EmuElement>(emu: &Emu, gate: &[T], up: &[T]) -> Result<Vec<T>, KernelError> {
    binary(
        emu,
        "swiglu",
        by_dtype::<T>("layer_swiglu_f32", "layer_swiglu_bf16"),
        gate,
        up,
    )
}

/// `gpu::add`: `a + b`.
pub fn add<T: EmuElement>(emu: &Emu, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError> {
    binary(
        emu,
        "add",
        by_dtype::<T>("layer_add_f32", "layer_add_bf16"),
        a,
        b,
    )
}

/// `gpu::copy`: `out = x`.
pub fn copy<T: EmuElement>(emu: &Emu, x: &[T]) -> Result<Vec<T>, KernelError> {
    let mut xb = Buffer::from_slice(x);
    let mut out = nan::<T>(x.len());
    emu.launch(
        by_dtype::<T>("layer_copy_f32", "layer_copy_bf16"),
        launch::flat(x.len(), T::DTYPE),
        &mut [
            Arg::Buf(&mut xb),
            Arg::Buf(&mut out),
            Arg::I64(x.len() as i64),
        ],
    )?;
    Ok(out.to_vec())
}
