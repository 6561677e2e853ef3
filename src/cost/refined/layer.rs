//! The decoder layer as a GPU runs it: RMSNorm, q/k/v/o with GQA widths and the model's biases,
//! RoPE, causal attention (FlashAttention-2 or eager), residual adds, SwiGLU, and the
//! tensor-parallel all-reduces; the final norm and LM head. Per GPU when `tp > 1`.

use super::kernel::{kernel, Attention, Call, Class, Kernel};
use crate::cost::{Context, OpKind, Sink};
use crate::hardware::Gpu;

/// FlashAttention-2 forward tile: query rows per thread block (`kBlockM`).
/// flash-attention `flash_fwd_launch_template.h`, head dims 64–128 on sm80/sm90: 128.
pub const FLASH_BLOCK_ROWS: u64 = 128;
/// FlashAttention-2 forward tile: key columns per iteration (`kBlockN`); 64 for head dim 128
/// with causal masking on sm80 (same file).
pub const FLASH_BLOCK_COLS: u64 = 64;
/// FlashAttention-2 forward thread blocks resident on one SM at head dims up to 128: the
/// 128×64 tile keeps Q, K and V in 64 KiB of shared memory and runs 4 warps, whose registers
/// (up to 255 a thread) take half of an SM's 64 K, so two blocks fit on sm80 and sm90
/// (flash-attention `kernel_traits.h`, `flash_fwd_launch_template.h`).
pub const FLASH_BLOCKS_PER_SM: f64 = 2.0;
/// Bytes of an fp32 value (softmax statistics, importance maps, upcast logits).
pub const FP32_BYTES: f64 = 4.0;

/// Element-wise FLOPs per element. RMSNorm (HF `Qwen2RMSNorm`): square, mean, scale by
/// `rsqrt`, multiply by the weight.
pub(super) const RMSNORM_FLOPS: f64 = 4.0;
/// RoPE: `x·cos + rotate_half(x)·sin`, two multiplies and an add.
pub(super) const ROPE_FLOPS: f64 = 3.0;
/// SiLU(gate)·up: `x / (1 + exp(-x))` (exp, add, divide, negate) then the product.
pub(super) const SWIGLU_FLOPS: f64 = 5.0;
/// Softmax per score: max, subtract, exp, sum, divide (the count llm-viewer uses).
pub const SOFTMAX_FLOPS: f64 = 5.0;

/// Shapes and byte widths of one run, per GPU.
#[derive(Debug, Clone, Copy)]
pub struct Dims {
    pub h: f64,
    /// Query heads on this GPU (`H / tp`).
    pub heads: f64,
    /// Key/value heads on this GPU (`Hkv / tp`).
    pub kv_heads: f64,
    pub d: f64,
    /// SwiGLU width on this GPU (`I / tp`).
    pub inter: f64,
    pub vocab: f64,
    pub b: f64,
    pub w: f64,
    pub a: f64,
    pub kv: f64,
    pub tp: f64,
    pub qkv_bias: bool,
    /// Weight-only quantisation dequantised before every GEMM (the efficiency's `dequant`).
    pub dequant: bool,
    /// The cache that serves FlashAttention's K/V re-reads; `None`: all priced from memory.
    pub l2: Option<L2>,
}

/// The GPU's last-level cache as FlashAttention's K/V re-reads meet it: its size and how many
/// attention thread blocks run at once (so how many heads' K/V it must hold together).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct L2 {
    pub bytes: f64,
    pub resident_blocks: f64,
}

impl L2 {
    /// From the profile's `l2_bytes` and `sms`; `None` when either is absent.
    pub fn of(gpu: &Gpu) -> Option<L2> {
        Some(L2 {
            bytes: gpu.l2_bytes?,
            resident_blocks: gpu.sms? * FLASH_BLOCKS_PER_SM,
        })
    }

    /// Fraction of FlashAttention-2's K/V re-reads (every read of a KV head's K and V after
    /// the first) that miss the cache and reach device memory.
    ///
    /// The kernel's grid runs query blocks fastest, then sequences, then heads (FA2
    /// `flash_fwd_launch_template.h`: `dim3 grid(num_m_block, b, h)`), so the blocks in flight
    /// cover `⌈resident / query_blocks⌉ + 1` (sequence, head) pairs. Each re-reads its own
    /// `kv_set_bytes` of K and V, except that one sequence's query heads of a GQA group share
    /// theirs. Those sets must stay in the cache together: when they fit every re-read hits,
    /// else a cache of `bytes` keeps about `bytes / working set` of a cyclic stream.
    pub fn reread_miss(
        &self,
        query_blocks: f64,
        kv_set_bytes: f64,
        sequences: f64,
        heads: f64,
        kv_heads: f64,
    ) -> f64 {
        if query_blocks <= 1.0 || kv_set_bytes <= 0.0 {
            return 0.0;
        }
        let pairs = ((self.resident_blocks / query_blocks).ceil() + 1.0).min(sequences * heads);
        let sets = if sequences <= 1.0 {
            let group = (heads / kv_heads.max(1.0)).max(1.0);
            ((pairs / group).ceil() + 1.0).min(kv_heads)
        } else {
            pairs.min(sequences * kv_heads)
        };
        let working_set = sets * kv_set_bytes;
        if working_set <= self.bytes {
            0.0
        } else {
            1.0 - self.bytes / working_set
        }
    }
}

/// How attention runs: PyTorch's eager chain, or fused FlashAttention-2 with the cache that
/// serves its K/V re-reads.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum AttentionRun {
    Eager,
    Flash(Option<L2>),
}

impl Dims {
    pub fn new(ctx: &Context) -> Dims {
        let m = ctx.model;
        let p = ctx.options.precision;
        let tp = ctx.options.tp.max(1);
        Dims {
            h: m.hidden_size as f64,
            heads: (m.num_heads / tp) as f64,
            kv_heads: (m.kv_heads() / tp) as f64,
            d: m.head_dim() as f64,
            inter: (m.intermediate_size / tp) as f64,
            vocab: m.vocab_size as f64,
            b: ctx.options.batch as f64,
            w: p.w_bytes(),
            a: p.a_bytes(),
            kv: p.kv_bytes(),
            tp: tp as f64,
            qkv_bias: m.qkv_bias,
            dequant: p.w_bits < p.a_bits
                && ctx
                    .gpu
                    .efficiency
                    .as_ref()
                    .is_some_and(|e| e.dequant.is_some()),
            l2: L2::of(ctx.gpu),
        }
    }

    /// Width of the q projection on this GPU.
    pub fn q_width(&self) -> f64 {
        self.heads * self.d
    }
    /// Width of each of k and v on this GPU (GQA: `Hkv · d`).
    pub fn kv_width(&self) -> f64 {
        self.kv_heads * self.d
    }

    /// Weights of one decoder layer on this GPU, with biases (parameters, not bytes).
    pub fn layer_params(&self) -> f64 {
        let bias = if self.qkv_bias {
            self.q_width() + 2.0 * self.kv_width()
        } else {
            0.0
        };
        self.h * (self.q_width() + 2.0 * self.kv_width()) // q, k, v
            + bias
            + self.q_width() * self.h // o
            + 3.0 * self.h * self.inter // gate, up, down
            + 2.0 * self.h // two RMSNorm weights (replicated)
    }

    /// KV-cache bytes of `tokens` tokens in one layer on this GPU: `2 · n · Hkv · d · kv · b`.
    pub fn kv_bytes(&self, tokens: f64) -> f64 {
        2.0 * tokens * self.kv_width() * self.kv * self.b
    }
}

/// Where a linear layer's output goes.
#[derive(Clone, Copy, PartialEq)]
pub(super) enum Dst {
    Act,
    Kv,
}

/// `y = x·W (+ b)` over `n` tokens: 2 FLOPs per multiply-accumulate; a bias is one more MAC per
/// output (`[x, 1]·[W; b]`), so FLOPs = `2 · params · n` exactly.
pub(super) fn linear(
    name: &'static str,
    d: &Dims,
    n: f64,
    input: f64,
    output: f64,
    bias: bool,
    dst: Dst,
) -> Kernel {
    let params = input * output + if bias { output } else { 0.0 };
    let call = Call::Gemm {
        m: n * d.b,
        n: output,
        k: input,
        bias,
        act_bits: Call::bits(d.a),
        weight_bits: Call::bits(d.w),
        count: 1.0,
    };
    let k = kernel(
        name,
        OpKind::Linear,
        Class::Matmul,
        2.0 * params * n * d.b,
        call,
    )
    .weights(params * d.w)
    .reads(input * n * d.b * d.a);
    match dst {
        Dst::Act => k.writes(output * n * d.b * d.a),
        Dst::Kv => k.writes_kv(output * n * d.b * d.kv),
    }
}

/// Pushes a linear layer, preceded by the dequantisation of its packed weights when the run
/// dequantises (bitsandbytes `Linear4bit` with more than one token: the packed weights are
/// expanded into a 16-bit copy, which the GEMM then reads). Inlined so the kernel stays in
/// registers on its way to the sink (see `LayerSink`).
#[inline(always)]
pub(super) fn push_linear<S: Sink<Kernel>>(ops: &mut S, d: &Dims, mut k: Kernel) {
    if d.dequant {
        let packed = k.op.load_weight_bytes;
        let params = packed / d.w;
        let expanded = params * d.a;
        ops.push(
            kernel(
                dequant_name(k.op.name),
                OpKind::Linear,
                Class::Dequant,
                params,
                Call::Dequant { params },
            )
            .weights(packed)
            .writes(expanded),
        );
        k.op.load_weight_bytes = expanded;
    }
    ops.push(k);
}

/// The dequantisation kernel's name for a linear layer.
fn dequant_name(linear: &str) -> &'static str {
    match linear {
        "q_proj" => "q_proj_dequant",
        "k_proj" => "k_proj_dequant",
        "v_proj" => "v_proj_dequant",
        "o_proj" => "o_proj_dequant",
        "gate_proj" => "gate_proj_dequant",
        "up_proj" => "up_proj_dequant",
        "down_proj" => "down_proj_dequant",
        _ => "weight_dequant",
    }
}

/// SwiGLU's `silu(gate) · up` over `elements` values in rows of `width`: reads both, writes
/// one.
pub(super) fn silu_mul(name: &'static str, d: &Dims, elements: f64, width: f64) -> Kernel {
    kernel(
        name,
        OpKind::Elementwise,
        Class::Elementwise,
        SWIGLU_FLOPS * elements,
        Call::Elementwise {
            elements,
            width,
            count: 1.0,
        },
    )
    .reads(2.0 * elements * d.a)
    .writes(elements * d.a)
}

/// RMSNorm over `n` tokens of width `h`: one read, one write, the weight vector.
fn rmsnorm(name: &'static str, d: &Dims, n: f64) -> Kernel {
    let act = n * d.h * d.b * d.a;
    kernel(
        name,
        OpKind::Norm,
        Class::Elementwise,
        RMSNORM_FLOPS * n * d.h * d.b,
        Call::Elementwise {
            elements: n * d.h * d.b,
            width: d.h,
            count: 1.0,
        },
    )
    .weights(d.h * d.w)
    .reads(act)
    .writes(act)
}

/// Residual add: reads both operands, writes the sum.
fn residual(name: &'static str, d: &Dims, n: f64) -> Kernel {
    let act = n * d.h * d.b * d.a;
    kernel(
        name,
        OpKind::Elementwise,
        Class::Elementwise,
        n * d.h * d.b,
        Call::Elementwise {
            elements: n * d.h * d.b,
            width: d.h,
            count: 1.0,
        },
    )
    .reads(2.0 * act)
    .writes(act)
}

/// Ring all-reduce of an `n × h` activation: each GPU sends `2 (tp − 1) / tp` of the message
/// (Patarasuk & Yuan 2009; NCCL's "bus bandwidth" factor) and reads/writes it once in memory.
fn all_reduce(name: &'static str, d: &Dims, n: f64) -> Kernel {
    let message = n * d.h * d.b * d.a;
    kernel(
        name,
        OpKind::Communication,
        Class::Communication,
        0.0,
        Call::Collective { bytes: message },
    )
    .reads(message)
    .writes(message)
    .link(2.0 * (d.tp - 1.0) / d.tp * message)
}

/// Query rows × key columns a causal FlashAttention-2 forward computes for `n` tokens: each
/// `Br`-row query block visits every `Bc`-column key block up to its last row, the diagonal
/// tiles in full (masked inside the tile). Returns (score pairs, key rows read per head).
///
/// In closed form, O(1): when `Br` is a multiple of `Bc` (every FlashAttention-2 tile shape),
/// block `k` of a full block ends at row `(k+1)·Br`, a multiple of `Bc`, so it visits exactly
/// `(k+1)·Br` keys; a partial last block of `r = n mod Br` rows visits all `n`. With
/// `m = ⌊n / Br⌋` full blocks: pairs `= Br²·m(m+1)/2 + r·n`, keys `= Br·m(m+1)/2 + n·[r > 0]`.
/// Computed in integers, so exact up to the one rounding to `f64`. Other tile shapes take the
/// block loop ([`flash_causal_work_loop`]).
pub fn flash_causal_work(n: u64, block_rows: u64, block_cols: u64) -> (f64, f64) {
    if block_cols == 0 || !block_rows.is_multiple_of(block_cols) {
        return flash_causal_work_loop(n, block_rows, block_cols);
    }
    let (br, n128) = (block_rows as u128, n as u128);
    let (m, r) = (n128 / br, n128 % br);
    let triangle = m * (m + 1) / 2;
    let pairs = br * br * triangle + r * n128;
    let keys = br * triangle + if r > 0 { n128 } else { 0 };
    (pairs as f64, keys as f64)
}

/// [`flash_causal_work`] block by block, as the kernel walks its grid: the reference the closed
/// form is tested against, and the fallback for tiles where `Br` is not a multiple of `Bc`.
pub fn flash_causal_work_loop(n: u64, block_rows: u64, block_cols: u64) -> (f64, f64) {
    let (mut pairs, mut keys_read) = (0.0, 0.0);
    let mut start = 0u64;
    while start < n {
        let end = (start + block_rows).min(n);
        let cols = end.div_ceil(block_cols) * block_cols;
        let cols = cols.min(n) as f64;
        pairs += (end - start) as f64 * cols;
        keys_read += cols;
        start = end;
    }
    (pairs, keys_read)
}

/// Attention of `n` tokens as one fused causal FlashAttention-2 kernel: Q read once, K and V
/// read once per query block up to the diagonal, O written once with its fp32 log-sum-exp;
/// no `n²` traffic. K/V reads are counted per KV head: the query heads of one GQA group read
/// the same tiles, which L2 serves after the first (counting them per query head would
/// multiply this traffic by `H / Hkv`). Of the re-reads by later query blocks, memory serves
/// only those the cache cannot hold ([`L2::reread_miss`]); the first read always comes from
/// memory. FLOPs as executed (`4·d + 5` per computed score); the dense `n²` count goes in
/// `dense_flops`.
pub fn flash_attention(d: &Dims, n: u64) -> Kernel {
    let nf = n as f64;
    let (pairs, keys_read) = flash_causal_work(n, FLASH_BLOCK_ROWS, FLASH_BLOCK_COLS);
    let once = nf.min(keys_read);
    let miss = d.l2.map_or(1.0, |l2| {
        l2.reread_miss(
            (nf / FLASH_BLOCK_ROWS as f64).ceil(),
            2.0 * nf * d.d * d.kv,
            d.b,
            d.heads,
            d.kv_heads,
        )
    });
    let keys_read = once + miss * (keys_read - once);
    let per_score = 4.0 * d.d + SOFTMAX_FLOPS;
    kernel(
        "flash_attention",
        OpKind::Attention,
        Class::Attention,
        per_score * pairs * d.heads * d.b,
        attention_call(Attention::FlashCausal, d, nf),
    )
    .dense(per_score * nf * nf * d.heads * d.b)
    .reads(nf * d.q_width() * d.b * d.a)
    .reads_kv(2.0 * keys_read * d.kv_width() * d.b * d.kv)
    .writes(nf * d.q_width() * d.b * d.a + nf * d.heads * d.b * FP32_BYTES)
}

/// The element-wise passes PyTorch's eager attention runs over the `n²` scores between its two
/// batched GEMMs, as transformers' `eager_attention_forward` (and LLaVA-1.5's Llama,
/// transformers 4.31) and LLaVA-NeXT's `SigLipAttention` write them: `scores * scale` (read,
/// write), `+ mask` where there is one (read, write; the mask's own read is counted once per
/// sequence by the caller, L2 serving the other heads where it fits), `softmax(dim=-1,
/// dtype=float32)` (read 16-bit, write fp32: one CUDA kernel for fp16 input; bf16 input adds
/// a cast pass, not counted) and `.to(dtype)` (read fp32, write 16-bit). Bytes per score with
/// `a`-byte activations.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EagerChain {
    pub reads_per_score: f64,
    pub writes_per_score: f64,
    pub flops_per_score: f64,
    pub launches: f64,
}

impl EagerChain {
    pub fn new(a: f64, masked: bool) -> EagerChain {
        let mask = if masked { 1.0 } else { 0.0 };
        EagerChain {
            // scale + mask add + softmax read the scores; the cast reads fp32.
            reads_per_score: (2.0 + mask) * a + FP32_BYTES,
            // scale + mask add + cast write 16-bit; softmax writes fp32.
            writes_per_score: (2.0 + mask) * a + FP32_BYTES,
            flops_per_score: SOFTMAX_FLOPS + 1.0 + mask,
            launches: 3.0 + mask,
        }
    }
}

/// Eager attention as HF `eager_attention_forward` (what the AIM reference code runs):
/// `Q·Kᵀ` over all `n²` pairs written out, the scale, mask, fp32 softmax and cast passes of
/// [`EagerChain`], `P·V` read back.
pub fn eager_attention(d: &Dims, n: u64) -> [Kernel; 3] {
    let nf = n as f64;
    let scores = d.heads * nf * nf * d.b;
    let map = scores * d.a;
    let q = nf * d.q_width() * d.b * d.a;
    // K and V as each query head reads them (`repeat_kv` expands the GQA heads).
    let kv = nf * d.q_width() * d.b * d.kv;
    let gemm = 2.0 * nf * nf * d.d * d.heads * d.b;
    let chain = EagerChain::new(d.a, true);
    let mask = nf * nf * d.b * d.a;
    [
        // Batched GEMMs (cuBLAS) and memory-bound passes: timed as such.
        kernel(
            "qk_matmul",
            OpKind::Attention,
            Class::Matmul,
            gemm,
            attention_call(Attention::EagerScores, d, nf),
        )
        .reads(q)
        .reads_kv(kv)
        .writes(map),
        kernel(
            "mask_softmax",
            OpKind::Attention,
            Class::Elementwise,
            chain.flops_per_score * scores,
            attention_call(Attention::EagerSoftmax, d, nf),
        )
        .reads(chain.reads_per_score * scores + mask)
        .writes(chain.writes_per_score * scores)
        .launches(chain.launches),
        kernel(
            "sv_matmul",
            OpKind::Attention,
            Class::Matmul,
            gemm,
            attention_call(Attention::EagerValues, d, nf),
        )
        .reads(map)
        .reads_kv(kv)
        .writes(q),
    ]
}

/// The attention call of this run's layer for `tokens` tokens (per sequence, `b` sequences).
fn attention_call(variant: Attention, d: &Dims, tokens: f64) -> Call {
    Call::Attention {
        variant,
        tokens,
        sequences: d.b,
        heads: d.heads,
        kv_heads: d.kv_heads,
        head_dim: d.d,
    }
}

/// Single-query attention over `context` cached tokens (decode): K and V read once per KV
/// head (FlashDecoding packs the GQA query heads of one KV head together).
pub fn decode_attention(d: &Dims, context: f64) -> Kernel {
    kernel(
        "decode_attention",
        OpKind::Attention,
        Class::Attention,
        (4.0 * d.d + SOFTMAX_FLOPS) * context * d.heads * d.b,
        attention_call(Attention::Decode, d, context),
    )
    .reads(2.0 * d.q_width() * d.b * d.a)
    .reads_kv(2.0 * context * d.kv_width() * d.b * d.kv)
    .writes(d.q_width() * d.b * d.a)
}

/// The operators of one decoder layer for `n` new tokens, with `attention` in the middle.
pub fn layer_ops(d: &Dims, n: f64, attention: Vec<Kernel>) -> Vec<Kernel> {
    let mut ops = Vec::with_capacity(20);
    emit_layer_ops(d, n, |ops| ops.push_all(attention), &mut ops);
    ops
}

/// [`layer_ops`] into any sink, in execution order; `attention` puts the attention kernels.
pub fn emit_layer_ops<S: Sink<Kernel>>(
    d: &Dims,
    n: f64,
    attention: impl FnOnce(&mut S),
    ops: &mut S,
) {
    ops.push(rmsnorm("attn_norm", d, n));
    push_linear(
        ops,
        d,
        linear("q_proj", d, n, d.h, d.q_width(), d.qkv_bias, Dst::Act),
    );
    push_linear(
        ops,
        d,
        linear("k_proj", d, n, d.h, d.kv_width(), d.qkv_bias, Dst::Kv),
    );
    push_linear(
        ops,
        d,
        linear("v_proj", d, n, d.h, d.kv_width(), d.qkv_bias, Dst::Kv),
    );
    // RoPE rotates q in place and k before it is cached.
    let q = n * d.q_width() * d.b;
    let k = n * d.kv_width() * d.b;
    ops.push(
        kernel(
            "rope",
            OpKind::Elementwise,
            Class::Elementwise,
            ROPE_FLOPS * (q + k),
            Call::Elementwise {
                elements: q + k,
                width: d.q_width() + d.kv_width(),
                count: 1.0,
            },
        )
        .reads(q * d.a + 2.0 * n * d.d * d.b * d.a) // q and the cos/sin tables
        .reads_kv(k * d.kv)
        .writes(q * d.a)
        .writes_kv(k * d.kv),
    );
    attention(ops);
    push_linear(
        ops,
        d,
        linear("o_proj", d, n, d.q_width(), d.h, false, Dst::Act),
    );
    if d.tp > 1.0 {
        ops.push(all_reduce("attn_all_reduce", d, n));
    }
    ops.push(residual("attn_residual", d, n));
    ops.push(rmsnorm("mlp_norm", d, n));
    push_linear(
        ops,
        d,
        linear("gate_proj", d, n, d.h, d.inter, false, Dst::Act),
    );
    push_linear(
        ops,
        d,
        linear("up_proj", d, n, d.h, d.inter, false, Dst::Act),
    );
    ops.push(silu_mul("silu_mul", d, n * d.inter * d.b, d.inter));
    push_linear(
        ops,
        d,
        linear("down_proj", d, n, d.inter, d.h, false, Dst::Act),
    );
    if d.tp > 1.0 {
        ops.push(all_reduce("mlp_all_reduce", d, n));
    }
    ops.push(residual("mlp_residual", d, n));
}

/// Final norm over the last layer's `n` tokens (HF normalises every position) and the LM head
/// over `rows` positions: `2·h·V` FLOPs per row. Vocabulary-parallel under TP, then the
/// logits are gathered.
pub fn head_ops(d: &Dims, n: f64, rows: f64) -> Vec<Kernel> {
    let mut ops = Vec::with_capacity(3);
    emit_head_ops(d, n, rows, &mut ops);
    ops
}

/// [`head_ops`] into any sink.
pub fn emit_head_ops(d: &Dims, n: f64, rows: f64, ops: &mut impl Sink<Kernel>) {
    let vocab = d.vocab / d.tp;
    ops.push(rmsnorm("final_norm", d, n));
    ops.push(
        kernel(
            "lm_head",
            OpKind::LmHead,
            Class::Matmul,
            2.0 * rows * d.h * vocab * d.b,
            Call::Gemm {
                m: rows * d.b,
                n: vocab,
                k: d.h,
                bias: false,
                act_bits: Call::bits(d.a),
                weight_bits: Call::bits(d.w),
                count: 1.0,
            },
        )
        .weights(d.h * vocab * d.w)
        .reads(rows * d.h * d.b * d.a)
        .writes(rows * vocab * d.b * d.a),
    );
    if d.tp > 1.0 {
        let message = rows * d.vocab * d.b * d.a;
        ops.push(
            kernel(
                "logits_all_gather",
                OpKind::Communication,
                Class::Communication,
                0.0,
                Call::Collective { bytes: message },
            )
            .reads(message / d.tp)
            .writes(message)
            .link((d.tp - 1.0) / d.tp * message),
        );
    }
}

/// Llama-2-7B's decoder (MHA: 32 query and 32 KV heads of 128) in 16 bits, with `l2`: the
/// dimensions the model's unit tests price against.
#[cfg(test)]
pub(crate) fn llama2(l2: Option<L2>) -> Dims {
    Dims {
        h: 4096.0,
        heads: 32.0,
        kv_heads: 32.0,
        d: 128.0,
        inter: 11008.0,
        vocab: 32000.0,
        b: 1.0,
        w: 2.0,
        a: 2.0,
        kv: 2.0,
        tp: 1.0,
        qkv_bias: false,
        dequant: false,
        l2,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causal_tiles_cover_half_the_square_plus_the_diagonal() {
        // n = 256 with 128×64 tiles: block 0 computes 128×128, block 1 computes 128×256.
        let (pairs, keys) = flash_causal_work(256, 128, 64);
        assert_eq!(pairs, 128.0 * 128.0 + 128.0 * 256.0);
        assert_eq!(keys, 128.0 + 256.0);
        // Partial last block: 130 tokens → 128×128 + 2×130.
        assert_eq!(
            flash_causal_work(130, 128, 64).0,
            128.0 * 128.0 + 2.0 * 130.0
        );
        // Long sequences: within 1 % of n²/2.
        let n = 32768u64;
        let (pairs, _) = flash_causal_work(n, 128, 64);
        let half = (n * n) as f64 / 2.0;
        assert!((pairs / half - 1.0).abs() < 0.01, "{}", pairs / half);
        assert!(pairs > half);
    }

    #[test]
    fn closed_form_tile_count_equals_the_block_loop() {
        // Every n below 2000 (n < 128, n = 128·k, n = 128·k + 1, ...), then large n around block
        // boundaries; tile shapes of FA2 (128×64, 128×128, 64×64) and a non-multiple (fallback).
        let mut sizes: Vec<u64> = (0..2000).collect();
        for k in [15, 16, 17, 50, 100, 781, 1024, 10_000, 65_536] {
            for delta in [-1i64, 0, 1, 63, 64, 65, 127] {
                sizes.push((128 * k + delta) as u64);
            }
        }
        sizes.extend([1_000_003, 9_999_999, 12_345_678]);
        for (br, bc) in [(128, 64), (128, 128), (64, 64), (128, 32), (96, 64), (1, 1)] {
            for &n in sizes.iter().filter(|&&n| br > 1 || n < 5000) {
                assert_eq!(
                    flash_causal_work(n, br, bc),
                    flash_causal_work_loop(n, br, bc),
                    "n = {n}, tile {br}×{bc}"
                );
            }
        }
    }

    const MIB: f64 = 1048576.0;

    #[test]
    fn kv_rereads_come_from_l2_when_the_blocks_in_flight_fit_it() {
        // 2048 tokens: 16 query blocks, K/V read by block k up to row 128·(k+1).
        let (_, keys_read) = flash_causal_work(2048, 128, 64);
        assert_eq!(keys_read, 128.0 * 16.0 * 17.0 / 2.0);
        let kv_row = 2.0 * 4096.0 * 2.0; // K and V of one token, all heads
        let from_memory = flash_attention(&llama2(None), 2048);
        assert_eq!(from_memory.op.load_kv_bytes, keys_read * kv_row);
        // L40S: 96 MiB, 142 SMs; the 284 blocks in flight span 19 heads of 1 MiB K/V each.
        let l40s = L2 {
            bytes: 96.0 * MIB,
            resident_blocks: 142.0 * FLASH_BLOCKS_PER_SM,
        };
        let cached = flash_attention(&llama2(Some(l40s)), 2048);
        assert_eq!(cached.op.load_kv_bytes, 2048.0 * kv_row);
        // Only K/V traffic changes: the FLOPs and the other bytes are the same.
        assert_eq!(cached.op.flops, from_memory.op.flops);
        assert_eq!(cached.op.load_act_bytes, from_memory.op.load_act_bytes);
    }

    #[test]
    fn a_small_l2_serves_the_share_of_the_rereads_it_holds() {
        // V100: 6 MiB, 80 SMs, 160 blocks in flight over 16 query blocks each: 11 heads, and
        // (no GQA sharing) 12 KV sets of 2 · 2048 · 128 · 2 bytes = 1 MiB: 12 MiB, half held.
        let v100 = L2 {
            bytes: 6.0 * MIB,
            resident_blocks: 80.0 * FLASH_BLOCKS_PER_SM,
        };
        assert_eq!(v100.reread_miss(16.0, MIB, 1.0, 32.0, 32.0), 0.5);
        let (_, keys_read) = flash_causal_work(2048, 128, 64);
        let kv_row = 2.0 * 4096.0 * 2.0;
        let k = flash_attention(&llama2(Some(v100)), 2048);
        assert_eq!(
            k.op.load_kv_bytes,
            (2048.0 + 0.5 * (keys_read - 2048.0)) * kv_row
        );
        // One query block reads K/V once: nothing to re-read.
        assert_eq!(v100.reread_miss(1.0, 64.0 * MIB, 1.0, 32.0, 32.0), 0.0);
        // GQA: Qwen2-7B's 28 query heads share 4 KV heads. Two query blocks a head put 81
        // heads in flight, but they hold only the 4 KV heads' sets: 8 MiB, 6 of them held.
        let miss = v100.reread_miss(2.0, 2.0 * MIB, 1.0, 28.0, 4.0);
        assert_eq!(miss, 1.0 - 6.0 / (4.0 * 2.0));
        // Two sequences: each (sequence, head) pair has its own K/V.
        let miss = v100.reread_miss(2.0, 2.0 * MIB, 2.0, 28.0, 4.0);
        assert_eq!(miss, 1.0 - 6.0 / (8.0 * 2.0));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]
        /// The share of re-reads that misses is a fraction, grows with the K/V each head
        /// holds and shrinks as the cache grows.
        #[test]
        fn reread_misses_are_a_fraction_monotone_in_sizes(
            l2_mib in 1.0f64..256.0,
            sms in 1.0f64..200.0,
            blocks in 1.0f64..2000.0,
            set_mib in 0.01f64..64.0,
            sequences in 1.0f64..64.0,
            kv_heads in 1.0f64..64.0,
            group in 1.0f64..8.0,
        ) {
            let (blocks, sequences, kv_heads, group) =
                (blocks.floor(), sequences.floor(), kv_heads.floor(), group.floor());
            let heads = kv_heads * group;
            let l2 = L2 { bytes: l2_mib * MIB, resident_blocks: sms.floor() * 2.0 };
            let miss = |l2: L2, set: f64| l2.reread_miss(blocks, set * MIB, sequences, heads, kv_heads);
            let m = miss(l2, set_mib);
            proptest::prop_assert!((0.0..1.0).contains(&m), "{m}");
            proptest::prop_assert!(miss(l2, 2.0 * set_mib) >= m);
            let bigger = L2 { bytes: 2.0 * l2.bytes, ..l2 };
            proptest::prop_assert!(miss(bigger, set_mib) <= m);
        }
    }
}
