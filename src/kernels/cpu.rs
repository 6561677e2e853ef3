//! CPU references with the kernels' exact semantics (f32 data, same masks, same tie-breaking,
//! same summation order where it matters for discrete decisions). They are the ground truth of
//! `aim-sim validate` and are tested on their own against hand-checked cases (`tests/kernels.rs`).
//!
//! Layouts are row-major: frames `[frames, tokens, dim]`; attention head-major (see
//! [`AttnShape`]); logits and probabilities `[heads, n, n]`; importance `[n]`.

use super::{AttnShape, KernelError};
use std::ops::Range;

/// F.normalize's epsilon: norms below it are clamped, so a zero token has similarity 0.
pub(crate) const NORM_EPS: f32 = 1e-12;

/// `sum(a[k] * b[k])` with eight independent partial sums (vectorises; order is fixed).
pub fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let (ca, cb) = (a.chunks_exact(8), b.chunks_exact(8));
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for u in 0..8 {
            acc[u] += x[u] * y[u];
        }
    }
    let mut tail = 0.0f32;
    for (x, y) in ra.iter().zip(rb) {
        tail += x * y;
    }
    acc.iter().sum::<f32>() + tail
}

/// Runs `f(chunk_index, chunk)` over `out.chunks_mut(chunk_len)` on all cores.
fn par_chunks<F>(out: &mut [f32], chunk_len: usize, f: F)
where
    F: Fn(usize, &mut [f32]) + Sync,
{
    if chunk_len == 0 || out.is_empty() {
        return;
    }
    let chunks = out.len().div_ceil(chunk_len);
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(chunks);
    if threads <= 1 {
        for (i, c) in out.chunks_mut(chunk_len).enumerate() {
            f(i, c);
        }
        return;
    }
    let per_thread = chunks.div_ceil(threads);
    std::thread::scope(|scope| {
        for (t, group) in out.chunks_mut(per_thread * chunk_len).enumerate() {
            let f = &f;
            scope.spawn(move || {
                for (i, c) in group.chunks_mut(chunk_len).enumerate() {
                    f(t * per_thread + i, c);
                }
            });
        }
    });
}

/// `got == want` elements, else a shape error naming `what` (shared by the CPU, emulated and
/// GPU launchers, so a wrong size reads the same everywhere).
pub(crate) fn check_len(
    kernel: &'static str,
    what: &str,
    got: usize,
    want: usize,
) -> Result<(), KernelError> {
    if got == want {
        Ok(())
    } else {
        Err(KernelError::shape(
            kernel,
            format!("{what} has {got} elements, the sizes imply {want}"),
        ))
    }
}

// ---- Token merging --------------------------------------------------------------------------

/// The matching decided for one frame by one merging pass.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameMatch {
    /// For each A token (even position `2 i`): the B token (odd position `2 j + 1`) it merges
    /// into, or `None` when it stays.
    pub dst: Vec<Option<usize>>,
    /// The A tokens that stay, in output order (best-match score descending, ties: lower index).
    pub unmerged: Vec<usize>,
}

/// Decides one pass for one frame `[tokens, dim]`: cosine similarity of every A token with every
/// B token; each A token's best match (ties: lowest j); the `r` A tokens with the highest best
/// score merge (ties: lower i first).
pub fn merge_match(frame: &[f32], tokens: usize, dim: usize, r: usize) -> FrameMatch {
    let (n_a, n_b) = (tokens.div_ceil(2), tokens / 2);
    let row = |t: usize| &frame[t * dim..(t + 1) * dim];
    let norms: Vec<f32> = (0..tokens)
        .map(|t| dot(row(t), row(t)).sqrt().max(NORM_EPS))
        .collect();
    let best: Vec<(usize, f32)> = (0..n_a)
        .map(|i| {
            let a = 2 * i;
            let mut best = (0usize, f32::NEG_INFINITY);
            for j in 0..n_b {
                let b = 2 * j + 1;
                let s = dot(row(a), row(b)) / (norms[a] * norms[b]);
                if s > best.1 || j == 0 {
                    best = (j, s);
                }
            }
            best
        })
        .collect();
    let mut order: Vec<usize> = (0..n_a).collect();
    order.sort_by(|&x, &y| best[y].1.total_cmp(&best[x].1).then(x.cmp(&y)));
    let mut dst = vec![None; n_a];
    for &i in &order[..r.min(n_a)] {
        dst[i] = Some(best[i].0);
    }
    FrameMatch {
        dst,
        unmerged: order[r.min(n_a)..].to_vec(),
    }
}

/// One merging pass over `frames` frames `[frames, tokens, dim]`: output `[frames, tokens - r,
/// dim]` = the unmerged A tokens, then each B token as the mean of itself and the A tokens merged
/// into it (summed in increasing A index, then divided by the count).
pub fn merge_pass(
    x: &[f32],
    frames: usize,
    tokens: usize,
    dim: usize,
    r: usize,
) -> Result<Vec<f32>, KernelError> {
    check_len("merge", "input", x.len(), frames * tokens * dim)?;
    if r > tokens / 2 {
        return Err(KernelError::shape(
            "merge",
            format!("r = {r} exceeds half of {tokens} tokens (the B set)"),
        ));
    }
    let out_tokens = tokens - r;
    let mut out = vec![0.0f32; frames * out_tokens * dim];
    par_chunks(&mut out, out_tokens * dim, |f, out_frame| {
        let frame = &x[f * tokens * dim..(f + 1) * tokens * dim];
        let m = merge_match(frame, tokens, dim, r);
        let row = |t: usize| &frame[t * dim..(t + 1) * dim];
        let mut o = 0;
        for &i in &m.unmerged {
            out_frame[o * dim..(o + 1) * dim].copy_from_slice(row(2 * i));
            o += 1;
        }
        for j in 0..tokens / 2 {
            let acc = &mut out_frame[o * dim..(o + 1) * dim];
            acc.copy_from_slice(row(2 * j + 1));
            let mut count = 1usize;
            for (i, d) in m.dst.iter().enumerate() {
                if *d == Some(j) {
                    for (a, v) in acc.iter_mut().zip(row(2 * i)) {
                        *a += v;
                    }
                    count += 1;
                }
            }
            let count_f = count as f32;
            for a in acc.iter_mut() {
                *a /= count_f;
            }
            o += 1;
        }
    });
    Ok(out)
}

/// Merges every frame of `tokens` tokens down to `target` by the passes of
/// [`super::merge_passes`] (196 → 98 → 49). Returns the merged frames `[frames, target, dim]`.
pub fn merge_frames(
    x: &[f32],
    frames: usize,
    tokens: usize,
    dim: usize,
    target: usize,
) -> Result<Vec<f32>, KernelError> {
    let mut current = tokens;
    let mut data = x.to_vec();
    check_len("merge", "input", x.len(), frames * tokens * dim)?;
    for r in super::merge_passes(tokens, target)? {
        data = merge_pass(&data, frames, current, dim, r)?;
        current -= r;
    }
    Ok(data)
}

// ---- Attention -------------------------------------------------------------------------------

fn check_attn(
    kernel: &'static str,
    shape: &AttnShape,
    q: &[f32],
    k: &[f32],
) -> Result<(), KernelError> {
    shape.check(kernel)?;
    check_len(kernel, "Q", q.len(), shape.q_len())?;
    check_len(kernel, "K", k.len(), shape.kv_len())
}

/// Eager attention's logits `[heads, n, n]`: `q_i . k_j / sqrt(d)` for `j <= i`, `-inf` above
/// the diagonal (the causal mask applied).
pub fn causal_logits(q: &[f32], k: &[f32], shape: &AttnShape) -> Result<Vec<f32>, KernelError> {
    check_attn("attention logits", shape, q, k)?;
    let (n, d) = (shape.tokens, shape.head_dim);
    let scale = shape.scale();
    let mut out = vec![0.0f32; shape.heads * n * n];
    par_chunks(&mut out, n * n, |h, logits| {
        let kv = shape.kv_head(h);
        for i in 0..n {
            let qi = &q[(h * n + i) * d..(h * n + i + 1) * d];
            for j in 0..n {
                logits[i * n + j] = if j <= i {
                    dot(qi, &k[(kv * n + j) * d..(kv * n + j + 1) * d]) * scale
                } else {
                    f32::NEG_INFINITY
                };
            }
        }
    });
    Ok(out)
}

/// Causal softmax attention `O = softmax(mask(Q K^T / sqrt(d))) V`, `[heads, n, d]`; GQA heads
/// read K/V head `h / (heads / kv_heads)`.
pub fn attention_causal(
    q: &[f32],
    k: &[f32],
    v: &[f32],
    shape: &AttnShape,
) -> Result<Vec<f32>, KernelError> {
    check_attn("attention", shape, q, k)?;
    check_len("attention", "V", v.len(), shape.kv_len())?;
    let (n, d) = (shape.tokens, shape.head_dim);
    let scale = shape.scale();
    let mut out = vec![0.0f32; shape.q_len()];
    par_chunks(&mut out, n * d, |h, o| {
        let kv = shape.kv_head(h);
        let mut s = vec![0.0f32; n];
        for i in 0..n {
            let qi = &q[(h * n + i) * d..(h * n + i + 1) * d];
            let mut m = f32::NEG_INFINITY;
            for j in 0..=i {
                s[j] = dot(qi, &k[(kv * n + j) * d..(kv * n + j + 1) * d]) * scale;
                m = m.max(s[j]);
            }
            let mut l = 0.0f32;
            let oi = &mut o[i * d..(i + 1) * d];
            oi.fill(0.0);
            for j in 0..=i {
                let p = (s[j] - m).exp();
                l += p;
                for (acc, x) in oi
                    .iter_mut()
                    .zip(&v[(kv * n + j) * d..(kv * n + j + 1) * d])
                {
                    *acc += p * x;
                }
            }
            for acc in oi.iter_mut() {
                *acc /= l;
            }
        }
    });
    Ok(out)
}

// ---- PageRank importance --------------------------------------------------------------------

/// Row softmax of causal logits with a temperature: `P[h, i, j] = exp((L_ij - max_i) / t) /
/// sum` over `j <= i`, 0 above the diagonal. `[heads, n, n]`.
pub fn causal_softmax(
    logits: &[f32],
    heads: usize,
    n: usize,
    temperature: f32,
) -> Result<Vec<f32>, KernelError> {
    check_len("softmax", "logits", logits.len(), heads * n * n)?;
    check_temperature(temperature)?;
    let mut out = vec![0.0f32; heads * n * n];
    par_chunks(&mut out, n, |row_index, p| {
        let i = row_index % n;
        let row = &logits[row_index * n..row_index * n + i + 1];
        let m = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let mut l = 0.0f32;
        for (pj, x) in p.iter_mut().zip(row) {
            *pj = ((x - m) / temperature).exp();
            l += *pj;
        }
        for pj in p[..=i].iter_mut() {
            *pj /= l;
        }
    });
    Ok(out)
}

fn check_temperature(temperature: f32) -> Result<(), KernelError> {
    if temperature.is_finite() && temperature > 0.0 {
        Ok(())
    } else {
        Err(KernelError::shape(
            "pagerank",
            format!("temperature {temperature} must be finite and positive"),
        ))
    }
}

/// Power iterations on row-stochastic `probs` `[heads, n, n]`: `dist` starts at `1/n`, then
/// `dist <- dist M` `iterations` times (no damping). Returns `dist` per head, `[heads, n]`.
pub fn power_iterations(
    probs: &[f32],
    heads: usize,
    n: usize,
    iterations: usize,
) -> Result<Vec<f32>, KernelError> {
    check_len("pagerank", "probabilities", probs.len(), heads * n * n)?;
    let mut dist = vec![1.0 / n as f32; heads * n];
    par_chunks(&mut dist, n, |h, d| {
        let p = &probs[h * n * n..(h + 1) * n * n];
        let mut next = vec![0.0f32; n];
        for _ in 0..iterations {
            next.fill(0.0);
            for i in 0..n {
                let w = d[i];
                for (acc, pij) in next[..=i].iter_mut().zip(&p[i * n..i * n + i + 1]) {
                    *acc += w * pij;
                }
            }
            d.copy_from_slice(&next);
        }
    });
    Ok(dist)
}

/// Root mean square over heads: `score_j = sqrt(sum_h dist[h, j]^2 / heads)`.
pub fn rms_over_heads(dist: &[f32], heads: usize, n: usize) -> Vec<f32> {
    (0..n)
        .map(|j| {
            let sum: f32 = (0..heads).map(|h| dist[h * n + j] * dist[h * n + j]).sum();
            (sum / heads as f32).sqrt()
        })
        .collect()
}

/// AIM's importance from materialised causal logits `[heads, n, n]`: softmax with
/// `temperature`, `iterations` power iterations from uniform, RMS over heads. `[n]`.
pub fn pagerank_from_logits(
    logits: &[f32],
    heads: usize,
    n: usize,
    temperature: f32,
    iterations: usize,
) -> Result<Vec<f32>, KernelError> {
    let probs = causal_softmax(logits, heads, n, temperature)?;
    let dist = power_iterations(&probs, heads, n, iterations)?;
    Ok(rms_over_heads(&dist, heads, n))
}

/// Per-row normalisers of the fused path, in the log2 domain the kernels use:
/// `z_ij = (q_i . k_j) scale log2(e) / t`, `row_max_i = max_{j<=i} z_ij`,
/// `row_sum_i = sum_{j<=i} exp2(z_ij - row_max_i)`. Each `[heads, n]`.
pub fn pagerank_row_stats(
    q: &[f32],
    k: &[f32],
    shape: &AttnShape,
    temperature: f32,
) -> Result<(Vec<f32>, Vec<f32>), KernelError> {
    check_attn("pagerank fused", shape, q, k)?;
    check_temperature(temperature)?;
    let (n, d) = (shape.tokens, shape.head_dim);
    let c = z_scale(shape, temperature);
    let mut stats = vec![0.0f32; shape.heads * n * 2];
    par_chunks(&mut stats, 2 * n, |h, st| {
        let kv = shape.kv_head(h);
        let mut z = vec![0.0f32; n];
        for i in 0..n {
            let qi = &q[(h * n + i) * d..(h * n + i + 1) * d];
            for j in 0..=i {
                z[j] = dot(qi, &k[(kv * n + j) * d..(kv * n + j + 1) * d]) * c;
            }
            let m = z[..=i].iter().copied().fold(f32::NEG_INFINITY, f32::max);
            st[i] = m;
            st[n + i] = z[..=i].iter().map(|zj| (zj - m).exp2()).sum();
        }
    });
    let mut row_max = Vec::with_capacity(shape.heads * n);
    let mut row_sum = Vec::with_capacity(shape.heads * n);
    for st in stats.chunks(2 * n) {
        row_max.extend_from_slice(&st[..n]);
        row_sum.extend_from_slice(&st[n..]);
    }
    Ok((row_max, row_sum))
}

fn z_scale(shape: &AttnShape, temperature: f32) -> f32 {
    shape.scale() * std::f32::consts::LOG2_E / temperature
}

/// The fused (FlashAttention-compatible) importance: the same result as
/// [`pagerank_from_logits`] on [`causal_logits`], computed as the GPU's fused kernels do it:
/// row normalisers first, then every power iteration recomputes `q_i . k_j` and uses
/// `p_ij = exp2(z_ij - row_max_i) / row_sum_i`, never storing the `n x n` matrix.
pub fn pagerank_from_qk(
    q: &[f32],
    k: &[f32],
    shape: &AttnShape,
    temperature: f32,
    iterations: usize,
) -> Result<Vec<f32>, KernelError> {
    let (row_max, row_sum) = pagerank_row_stats(q, k, shape, temperature)?;
    let (n, d) = (shape.tokens, shape.head_dim);
    let c = z_scale(shape, temperature);
    let mut dist = vec![1.0 / n as f32; shape.heads * n];
    par_chunks(&mut dist, n, |h, dh| {
        let kv = shape.kv_head(h);
        let mut next = vec![0.0f32; n];
        for _ in 0..iterations {
            next.fill(0.0);
            for i in 0..n {
                let qi = &q[(h * n + i) * d..(h * n + i + 1) * d];
                let w = dh[i] / row_sum[h * n + i];
                let m = row_max[h * n + i];
                for (j, acc) in next[..=i].iter_mut().enumerate() {
                    let z = dot(qi, &k[(kv * n + j) * d..(kv * n + j + 1) * d]) * c;
                    *acc += w * (z - m).exp2();
                }
            }
            dh.copy_from_slice(&next);
        }
    });
    Ok(rms_over_heads(&dist, shape.heads, n))
}

// ---- Pruning ---------------------------------------------------------------------------------

/// The pruning rank order, as `select_flags` in kernels/pagerank.cu: whether score `a` at
/// position `pa` ranks before score `b` at position `pb`. Higher scores first; NaN after every
/// number (a NaN score is kept only when fewer than `k` visual tokens have a number); equal
/// scores (`-0` and `+0` included) and two NaNs by lower position. A strict total order on
/// distinct positions.
pub fn ranks_before(a: f32, pa: usize, b: f32, pb: usize) -> bool {
    match (a.is_nan(), b.is_nan()) {
        (false, true) => true,
        (true, false) => false,
        (false, false) if a != b => a > b,
        _ => pa < pb,
    }
}

/// Which tokens survive a pruning layer: every token outside `visual` (text) and the
/// `keep_visual` visual tokens first in [`ranks_before`] order (highest score, NaN last, ties:
/// lower position first), returned in sequence order.
pub fn select_tokens(
    scores: &[f32],
    visual: Range<usize>,
    keep_visual: usize,
) -> Result<Vec<usize>, KernelError> {
    if visual.start > visual.end || visual.end > scores.len() {
        return Err(KernelError::shape(
            "select",
            format!(
                "visual range {visual:?} does not fit {} tokens",
                scores.len()
            ),
        ));
    }
    let mut ranked: Vec<usize> = visual.clone().collect();
    ranked.sort_by(|&a, &b| {
        if a == b {
            std::cmp::Ordering::Equal
        } else if ranks_before(scores[a], a, scores[b], b) {
            std::cmp::Ordering::Less
        } else {
            std::cmp::Ordering::Greater
        }
    });
    let mut keep = vec![true; scores.len()];
    for &j in ranked.iter().skip(keep_visual) {
        keep[j] = false;
    }
    Ok((0..scores.len()).filter(|&j| keep[j]).collect())
}

/// Rows `index` of `hidden` `[tokens, width]`, in that order: the compaction that makes the next
/// layer cheaper.
pub fn gather_rows<T: Copy>(
    hidden: &[T],
    width: usize,
    index: &[usize],
) -> Result<Vec<T>, KernelError> {
    let tokens = hidden.len().checked_div(width).unwrap_or(0);
    if let Some(&bad) = index.iter().find(|&&i| i >= tokens) {
        return Err(KernelError::shape(
            "gather",
            format!("row {bad} out of {tokens}"),
        ));
    }
    let mut out = Vec::with_capacity(index.len() * width);
    for &i in index {
        out.extend_from_slice(&hidden[i * width..(i + 1) * width]);
    }
    Ok(out)
}

/// [`select_tokens`] then [`gather_rows`]: the kept positions and the compacted hidden states.
pub fn select_and_gather<T: Copy>(
    hidden: &[T],
    width: usize,
    scores: &[f32],
    visual: Range<usize>,
    keep_visual: usize,
) -> Result<(Vec<usize>, Vec<T>), KernelError> {
    check_len("select", "hidden", hidden.len(), scores.len() * width)?;
    let index = select_tokens(scores, visual, keep_visual)?;
    let gathered = gather_rows(hidden, width, &index)?;
    Ok((index, gathered))
}

// ---- Layer passes (kernels/layers.cu) -------------------------------------------------------

/// RMSNorm's epsilon in the Qwen2 / LLaVA-OneVision language models.
pub const RMSNORM_EPS: f32 = 1e-6;
/// RoPE base `theta` of the Qwen2 language models (`rope_theta`).
pub const ROPE_THETA: f32 = 1_000_000.0;

/// `out[r, c] = x[r, c] / sqrt(mean(x[r, :]²) + eps) · weight[c]` over rows of `width` (the
/// mean of squares accumulated in f64).
pub fn rmsnorm(x: &[f32], weight: &[f32], width: usize, eps: f32) -> Result<Vec<f32>, KernelError> {
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(KernelError::shape(
            "rmsnorm",
            format!("{} elements are not rows of width {width}", x.len()),
        ));
    }
    check_len("rmsnorm", "weight", weight.len(), width)?;
    let mut out = Vec::with_capacity(x.len());
    for row in x.chunks_exact(width) {
        let mean_sq = row.iter().map(|&v| v as f64 * v as f64).sum::<f64>() / width as f64;
        let inv = (1.0 / (mean_sq + eps as f64).sqrt()) as f32;
        out.extend(row.iter().zip(weight).map(|(&v, &w)| v * inv * w));
    }
    Ok(out)
}

/// The rotation angle of pair `i` at position `pos`: `pos · theta^(-2 i / head_dim)`, computed
/// in the kernel's order (f32, `2^(-e · log2 theta)`).
pub(crate) fn rope_angle(pos: usize, i: usize, head_dim: usize, log2_theta: f32) -> f32 {
    let e = (2 * i) as f32 / head_dim as f32;
    pos as f32 * (-e * log2_theta).exp2()
}

/// RoPE in the "rotate half" layout, in place on `x` `[rows, width]` with `width = heads ·
/// head_dim` and row `r` at position `r`: per head, the pair `(a, b) = (x[i], x[i + head_dim/2])`
/// becomes `(a cos θ − b sin θ, b cos θ + a sin θ)` with `θ = rope_angle(r, i, ..)`.
pub fn rope(x: &mut [f32], width: usize, head_dim: usize, theta: f32) -> Result<(), KernelError> {
    check_rope(x.len(), width, head_dim)?;
    let (half, log2_theta) = (head_dim / 2, theta.log2());
    for (pos, row) in x.chunks_exact_mut(width).enumerate() {
        for head in row.chunks_exact_mut(head_dim) {
            let (first, second) = head.split_at_mut(half);
            for (i, (a, b)) in first.iter_mut().zip(second.iter_mut()).enumerate() {
                let (s, c) = rope_angle(pos, i, head_dim, log2_theta).sin_cos();
                let (ra, rb) = (*a * c - *b * s, *b * c + *a * s);
                *a = ra;
                *b = rb;
            }
        }
    }
    Ok(())
}

/// The sizes [`rope`] and its kernel accept: an even head dimension that divides the width.
pub(crate) fn check_rope(len: usize, width: usize, head_dim: usize) -> Result<(), KernelError> {
    if head_dim < 2
        || !head_dim.is_multiple_of(2)
        || width == 0
        || !width.is_multiple_of(head_dim)
        || !len.is_multiple_of(width)
    {
        return Err(KernelError::shape(
            "rope",
            format!(
                "{len} elements, width {width}, head dim {head_dim}: need an even head dim dividing the width, and whole rows"
            ),
        ));
    }
    Ok(())
}

/// `silu(gate) · up = gate / (1 + e^−gate) · up`, element-wise.
pub fn swiglu(gate: &[f32], up: &[f32]) -> Result<Vec<f32>, KernelError> {
    check_len("swiglu", "up", up.len(), gate.len())?;
    Ok(gate
        .iter()
        .zip(up)
        .map(|(&g, &u)| g / (1.0 + (-g).exp()) * u)
        .collect())
}

/// `a + b`, element-wise (the residual connection).
pub fn add(a: &[f32], b: &[f32]) -> Result<Vec<f32>, KernelError> {
    check_len("add", "b", b.len(), a.len())?;
    Ok(a.iter().zip(b).map(|(x, y)| x + y).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_a_plain_loop() {
        let a: Vec<f32> = (0..21).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..21).map(|i| 1.0 - i as f32 * 0.25).collect();
        let plain: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - plain).abs() < 1e-4);
    }

    #[test]
    fn par_chunks_visits_every_chunk_once() {
        let mut out = vec![0.0f32; 103];
        par_chunks(&mut out, 10, |i, c| c.fill(i as f32));
        for (e, x) in out.iter().enumerate() {
            assert_eq!(*x, (e / 10) as f32);
        }
    }

    #[test]
    fn rmsnorm_scales_each_row_to_unit_rms() {
        // Row [3, 4]: mean of squares 12.5, so x / sqrt(12.5); weight [1, 2].
        let out = rmsnorm(&[3.0, 4.0, -1.0, 1.0], &[1.0, 2.0], 2, 0.0).unwrap();
        let r = 12.5f32.sqrt();
        assert!((out[0] - 3.0 / r).abs() < 1e-6 && (out[1] - 8.0 / r).abs() < 1e-6);
        // Row [-1, 1] has RMS 1: unchanged but for the weight.
        assert_eq!(&out[2..], &[-1.0, 2.0]);
        // eps keeps a zero row finite.
        assert_eq!(
            rmsnorm(&[0.0, 0.0], &[1.0, 1.0], 2, 1e-6).unwrap(),
            vec![0.0, 0.0]
        );
        assert!(rmsnorm(&[1.0, 2.0, 3.0], &[1.0, 1.0], 2, 0.0).is_err());
        assert!(rmsnorm(&[1.0, 2.0], &[1.0], 2, 0.0).is_err());
    }

    #[test]
    fn rope_leaves_position_zero_and_rotates_pairs() {
        // Two rows (positions 0 and 1), one head of dim 4: pairs (x0, x2) and (x1, x3).
        let mut x = vec![1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0];
        rope(&mut x, 4, 4, 10_000.0).unwrap();
        assert_eq!(&x[..4], &[1.0, 2.0, 3.0, 4.0], "angle 0 at position 0");
        // Pair 0 at position 1 rotates by 1 rad; pair 1 by 10000^(-1/2) = 0.01 rad.
        let (s, c) = 1.0f32.sin_cos();
        assert!((x[4] - (c - 3.0 * s)).abs() < 1e-6, "{}", x[4]);
        assert!((x[6] - (3.0 * c + s)).abs() < 1e-6, "{}", x[6]);
        let (s, c) = 0.01f32.sin_cos();
        assert!((x[5] - (2.0 * c - 4.0 * s)).abs() < 1e-5, "{}", x[5]);
        assert!((x[7] - (4.0 * c + 2.0 * s)).abs() < 1e-5, "{}", x[7]);
        // A rotation keeps each pair's length.
        assert!(((x[4] * x[4] + x[6] * x[6]) - 10.0).abs() < 1e-5);
        assert!(rope(&mut x, 4, 3, 10_000.0).is_err());
        assert!(rope(&mut x, 6, 4, 10_000.0).is_err());
    }

    #[test]
    fn selection_ranks_nan_last_and_signed_zeros_as_ties() {
        let nan = f32::NAN;
        // Visual 1..7: numbers 0.5 (3), 2.0 (5), -1.0 (6); NaN at 1, 2, 4.
        let scores = [9.0, nan, nan, 0.5, nan, 2.0, -1.0, nan];
        assert_eq!(select_tokens(&scores, 1..7, 2).unwrap(), vec![0, 3, 5, 7]);
        assert_eq!(
            select_tokens(&scores, 1..7, 4).unwrap(),
            vec![0, 1, 3, 5, 6, 7]
        );
        // More kept than numbers: NaNs fill up, lower positions first; never more than k.
        assert_eq!(
            select_tokens(&scores, 1..7, 5).unwrap(),
            vec![0, 1, 2, 3, 5, 6, 7]
        );
        assert_eq!(select_tokens(&scores, 1..7, 6).unwrap().len(), 8);
        // -0 and +0 are equal scores: the earlier position wins.
        let zeros = [0.0, -0.0, 0.0, -0.0];
        assert_eq!(select_tokens(&zeros, 0..4, 2).unwrap(), vec![0, 1]);
        assert!(ranks_before(-0.0, 1, 0.0, 2) && !ranks_before(0.0, 2, -0.0, 1));
        assert!(ranks_before(f32::NEG_INFINITY, 9, nan, 0));
    }

    #[test]
    fn swiglu_and_add_are_elementwise() {
        let out = swiglu(&[0.0, 2.0, -30.0], &[5.0, 3.0, 1.0]).unwrap();
        assert_eq!(out[0], 0.0, "silu(0) = 0");
        assert!((out[1] - 2.0 / (1.0 + (-2.0f32).exp()) * 3.0).abs() < 1e-6);
        assert!(out[2].abs() < 1e-11, "silu(-30) is about -3e-12");
        assert_eq!(add(&[1.0, -2.0], &[0.5, 2.0]).unwrap(), vec![1.5, 0.0]);
        assert!(add(&[1.0], &[1.0, 2.0]).is_err());
        assert!(swiglu(&[1.0], &[]).is_err());
    }
}
