//! The GPU [`TimingSource`]: the [`KernelCall`] of every [`Unit`] of a
//! [`StackPlan`](super::StackPlan) launched for real on one CUDA device and timed with CUDA
//! events.
//!
//! | call | what runs |
//! |---|---|
//! | `Gemm` | cuBLAS `gemm_ex` (strided-batched when `count > 1`: experts, eager heads), bf16 in and out, fp32 accumulation ([`linear_gemm_args`]) |
//! | `Elementwise` | `kernels/layers.cu`, chosen by name ([`LayerPass::for_name`]) |
//! | `Copy` | `kernels/layers.cu` copy: the bandwidth stand-in of a kernel without its own |
//! | `Attention` | `FlashAttention` (bf16, head dim 64 or 128, GQA) |
//! | `PageRank` | `PageRankFused` (importance recomputed from Q and K) |
//! | `PageRankMaterialised` | `AttentionLogits` (when `logits`) then `PageRankMaterialised` |
//! | `SelectGather` | `Prune` (top-k flags, compaction, row gather) |
//! | `MergePass` | `MergePass` (one bipartite-matching pass over every frame) |
//!
//! Inputs are random bf16 (never zeros: zeros hide unwritten outputs and can run faster than
//! real data), drawn once per shape from [`SplitMix64`]. A call's buffers are kept, keyed by the
//! call, so timing the same shape again allocates nothing; the cache is bounded
//! ([`CudaTiming::cache_limit_bytes`]) and evicts the least recently used shapes first.
//!
//! Timing ([`Device::time_runs`]): the first run of a shape is synchronised after every launch
//! (so a fault names its kernel), then warm-up runs, then the median of the timed runs, each
//! preceded outside the timed span by a write of twice the L2 size, so no input is served from
//! L2: every figure is a cold-cache time, as a roofline with device-memory bandwidth assumes.
//!
//! What is not timed: a GEMM's bias (PyTorch fuses it into the cuBLASLt epilogue; its `m·n`
//! adds are `1 / 2k` of the product's FLOPs), and batching of the importance kernels (a
//! `PageRank` call is one sequence, as [`stack::plan`](super::stack::plan) emits it).

use super::stack::{KernelCall, LayerPass, Unit};
use super::TimingSource;
use crate::hardware::Gpu;
use crate::kernels::gpu::{
    self, AttentionLogits, Device, FlashAttention, MergePass, PageRankFused, PageRankMaterialised,
    Prune,
};
use crate::kernels::rng::SplitMix64;
use crate::kernels::{cpu, AttnShape, KernelError};
use cudarc::cublas::{sys as cublas_sys, CudaBlas, Gemm, GemmConfig, StridedBatchedConfig};
use cudarc::driver::sys::CUdevice_attribute;
use cudarc::driver::CudaSlice;
use half::bf16;
use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Bytes per bf16 element.
const BF16: u64 = 2;
/// Bytes per f32 / i32 element.
const WORD: u64 = 4;

/// How many times each shape runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Runs {
    /// Untimed runs after the first (checked) run.
    pub warmup: usize,
    /// Timed runs; the median is reported.
    pub timed: usize,
}

impl Default for Runs {
    fn default() -> Self {
        Runs {
            warmup: 10,
            timed: 50,
        }
    }
}

/// A CUDA device with cuBLAS, timing kernel calls (see the module documentation).
pub struct CudaTiming {
    // Field order is drop order: buffers and the cuBLAS handle go before the device.
    cache: ShapeCache<Prepared>,
    blas: CudaBlas,
    dev: Device,
    description: String,
    runs: Runs,
    cache_limit_bytes: u64,
    seed: u64,
}

impl std::fmt::Debug for CudaTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaTiming")
            .field("device", &self.description)
            .field("runs", &self.runs)
            .field("cached_shapes", &self.cache.entries.len())
            .field("cached_bytes", &self.cache.bytes)
            .finish()
    }
}

/// The advice printed when cuBLAS cannot be opened.
pub const CUBLAS_HINT: &str = "cuBLAS (libcublas.so.13 and libcublasLt.so.13) not found: put the CUDA toolkit's lib64 (or the pip nvidia/cu13/lib folder) on LD_LIBRARY_PATH";

impl CudaTiming {
    /// Opens device `ordinal` with cuBLAS on its default stream and compiles every kernel.
    /// `gpu_profile` is the profile the timings will be set against; its name is recorded in
    /// [`TimingSource::describe`]. Fails with [`KernelError::Unavailable`] (a one-line reason)
    /// when the driver, a device, NVRTC or cuBLAS is missing; never panics.
    pub fn open(ordinal: usize, gpu_profile: &Gpu) -> Result<CudaTiming, KernelError> {
        match catch_unwind(|| Self::open_unguarded(ordinal, gpu_profile)) {
            Ok(result) => result,
            Err(_) => Err(KernelError::Unavailable(format!(
                "a CUDA library panicked while opening device {ordinal}"
            ))),
        }
    }

    fn open_unguarded(ordinal: usize, gpu_profile: &Gpu) -> Result<CudaTiming, KernelError> {
        crate::kernels::gpu_status().map_err(KernelError::Unavailable)?;
        // SAFETY: only tries to dlopen libcublas by its candidate names; never panics.
        if !unsafe { cublas_sys::is_culib_present() } {
            return Err(KernelError::Unavailable(CUBLAS_HINT.to_string()));
        }
        let dev = Device::open(ordinal)?;
        let blas = CudaBlas::new(dev.stream().clone()).map_err(|source| KernelError::Cublas {
            context: "creating the handle".into(),
            source,
        })?;
        dev.load_all()?;
        let ctx = dev.context();
        let attr = |a: CUdevice_attribute| ctx.attribute(a).ok();
        let sm_count = attr(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
        let (free_bytes, total_bytes) =
            ctx.mem_get_info().map_err(|source| KernelError::Driver {
                context: "reading free device memory".into(),
                source,
            })?;
        let description = describe_device(&DeviceFacts {
            name: dev.name().to_string(),
            sm: dev.sm(),
            sm_count,
            l2_bytes: dev.l2_bytes(),
            memory_bytes: total_bytes,
            driver_version: driver_version(),
            cublas_version: cublas_version(&blas),
            profile: gpu_profile.name.clone(),
        });
        Ok(CudaTiming {
            cache: ShapeCache::default(),
            blas,
            dev,
            description,
            runs: Runs::default(),
            cache_limit_bytes: default_cache_limit(free_bytes as u64),
            seed: 0x5EED_0A1B,
        })
    }

    /// Sets how many warm-up and timed runs each call gets (default 10 and 50).
    pub fn set_runs(&mut self, runs: Runs) -> Result<(), KernelError> {
        if runs.timed == 0 {
            return Err(KernelError::shape("timing", "at least one timed run"));
        }
        self.runs = runs;
        Ok(())
    }

    /// The most bytes of cached buffers kept at once (default: half the device memory free at
    /// open). A call whose buffers alone exceed it fails with [`KernelError::Shape`].
    pub fn cache_limit_bytes(&self) -> u64 {
        self.cache_limit_bytes
    }

    pub fn set_cache_limit_bytes(&mut self, bytes: u64) {
        self.cache_limit_bytes = bytes;
        self.cache.evict_until(bytes);
    }

    /// Bytes of buffers currently cached.
    pub fn cached_bytes(&self) -> u64 {
        self.cache.bytes
    }

    /// Shapes currently cached.
    pub fn cached_shapes(&self) -> usize {
        self.cache.entries.len()
    }

    /// The device (for launching kernels directly).
    pub fn device(&self) -> &Device {
        &self.dev
    }

    /// Median time of `call`, seconds, with the kernel-side error.
    pub fn time_call(&mut self, call: &KernelCall) -> Result<f64, KernelError> {
        let outcome = catch_unwind(AssertUnwindSafe(|| self.time_unguarded(call)));
        match outcome {
            Ok(result) => result,
            Err(_) => {
                // Buffers of a half-built entry may be in any state: start afresh.
                self.cache = ShapeCache::default();
                self.dev.set_sync_after_launch(false);
                Err(KernelError::Unavailable(format!(
                    "a CUDA library panicked while timing {}",
                    call.label()
                )))
            }
        }
    }

    fn time_unguarded(&mut self, call: &KernelCall) -> Result<f64, KernelError> {
        let need = buffer_bytes(call)?;
        let CudaTiming {
            cache,
            blas,
            dev,
            runs,
            cache_limit_bytes,
            seed,
            ..
        } = self;
        let dev = &*dev;
        if !cache.entries.contains_key(call) {
            if need > *cache_limit_bytes {
                return Err(KernelError::shape(
                    "timing",
                    format!(
                        "{} needs {:.2} GiB of buffers, more than the cache limit of {:.2} GiB",
                        call.label(),
                        gib(need),
                        gib(*cache_limit_bytes)
                    ),
                ));
            }
            cache.evict_until(*cache_limit_bytes - need);
            *seed = seed.wrapping_add(1);
            let mut prepared = Prepared::new(dev, call, *seed)?;
            // One checked run: a fault names its kernel, and compilation is out of the way.
            dev.set_sync_after_launch(true);
            let checked = prepared.run(dev, blas);
            dev.set_sync_after_launch(false);
            checked?;
            dev.synchronize(&format!("the first run of {}", call.label()))?;
            cache.insert(call.clone(), prepared, need);
        }
        let entry = cache.get(call).ok_or_else(|| {
            KernelError::shape(
                "timing",
                format!("{} vanished from the cache", call.label()),
            )
        })?;
        let samples = dev.time_runs(|| entry.run(dev, blas), runs.warmup, runs.timed)?;
        median_s(&samples).ok_or_else(|| {
            KernelError::shape("timing", format!("no valid timing of {}", call.label()))
        })
    }
}

impl TimingSource for CudaTiming {
    fn describe(&self) -> String {
        format!(
            "{}; median of {} runs after {} warm-up, L2 flushed before each",
            self.description, self.runs.timed, self.runs.warmup
        )
    }

    fn time_unit(&mut self, unit: &Unit) -> crate::error::Result<f64> {
        self.time_call(&unit.call)
            .map_err(crate::error::Error::from)
    }
}

fn gib(bytes: u64) -> f64 {
    bytes as f64 / (1u64 << 30) as f64
}

/// Half the free memory: the rest is for the L2 flush buffer, cuBLAS's workspace and whatever
/// else runs on the device.
pub fn default_cache_limit(free_bytes: u64) -> u64 {
    free_bytes / 2
}

/// The median of `samples` (mean of the middle two for an even count); `None` when empty or
/// any sample is not finite.
pub fn median_s(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() || samples.iter().any(|x| !x.is_finite()) {
        return None;
    }
    let mut v = samples.to_vec();
    v.sort_by(f64::total_cmp);
    let mid = v.len() / 2;
    Some(if v.len() % 2 == 1 {
        v[mid]
    } else {
        (v[mid - 1] + v[mid]) / 2.0
    })
}

// ---- Device description ---------------------------------------------------------------------

/// What [`TimingSource::describe`] reports.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceFacts {
    pub name: String,
    /// Compute capability, `10 major + minor`.
    pub sm: u32,
    pub sm_count: Option<i32>,
    pub l2_bytes: usize,
    pub memory_bytes: usize,
    /// `cuDriverGetVersion`: 1000 major + 10 minor (13000 = 13.0).
    pub driver_version: Option<i32>,
    /// `cublasGetVersion`: 10000 major + 100 minor + patch.
    pub cublas_version: Option<i32>,
    /// The GPU profile the timings are set against.
    pub profile: String,
}

/// `NVIDIA H100 80GB HBM3, 132 SMs, sm_90, 50 MiB L2, 80 GiB; driver CUDA 13.0, cuBLAS
/// 13.0.2; profile 'NVIDIA H100 SXM'`.
pub fn describe_device(f: &DeviceFacts) -> String {
    let sms = f
        .sm_count
        .map_or_else(|| "? SMs".to_string(), |n| format!("{n} SMs"));
    let driver = f.driver_version.map_or_else(
        || "unknown".to_string(),
        |v| format!("{}.{}", v / 1000, (v % 1000) / 10),
    );
    let cublas = f.cublas_version.map_or_else(
        || "unknown".to_string(),
        |v| format!("{}.{}.{}", v / 10000, (v % 10000) / 100, v % 100),
    );
    format!(
        "{}, {sms}, sm_{}, {} MiB L2, {:.0} GiB; driver CUDA {driver}, cuBLAS {cublas}; profile '{}'",
        f.name,
        f.sm,
        f.l2_bytes >> 20,
        f.memory_bytes as f64 / (1u64 << 30) as f64,
        f.profile
    )
}

fn driver_version() -> Option<i32> {
    let status = catch_unwind(|| {
        let mut v = 0;
        // SAFETY: the driver library is loaded (the device is open); `v` is valid for writes.
        let r = unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut v) };
        (r, v)
    });
    match status {
        Ok((cudarc::driver::sys::CUresult::CUDA_SUCCESS, v)) => Some(v),
        _ => None,
    }
}

fn cublas_version(blas: &CudaBlas) -> Option<i32> {
    let handle = *blas.handle();
    let status = catch_unwind(move || {
        let mut v = 0;
        // SAFETY: `handle` is a live cuBLAS handle; `v` is valid for writes.
        let r = unsafe { cublas_sys::cublasGetVersion_v2(handle, &mut v) };
        (r, v)
    });
    match status {
        Ok((cublas_sys::cublasStatus_t::CUBLAS_STATUS_SUCCESS, v)) => Some(v),
        _ => None,
    }
}

// ---- GEMM -----------------------------------------------------------------------------------

/// cuBLAS (column-major) arguments of one GEMM: `C = op(A) · op(B)` with `op(A)` `m × k`,
/// `op(B)` `k × n`, `C` `m × n`, leading dimensions `lda`, `ldb`, `ldc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GemmArgs {
    /// `op(A) = Aᵀ`.
    pub transa: bool,
    /// `op(B) = Bᵀ`.
    pub transb: bool,
    pub m: i32,
    pub n: i32,
    pub k: i32,
    pub lda: i32,
    pub ldb: i32,
    pub ldc: i32,
}

/// The arguments that compute a linear layer in row-major storage: `Y[rows × out] = X[rows ×
/// in] · Wᵀ` with the weight `W` stored `[out × in]` as `nn.Linear` keeps it (the math's
/// `W[k×n]` of [`KernelCall::Gemm`] is this `Wᵀ`).
///
/// cuBLAS sees a row-major `[r × c]` matrix as its column-major transpose `[c × r]` with leading
/// dimension `c`. So `Y` is column-major `Yᵀ [out × rows]`, and `Yᵀ = W · Xᵀ`: cuBLAS's A is
/// the weight (column-major `Wᵀ [in × out]`, transposed back: `transa`), its B the activations
/// (column-major `Xᵀ [in × rows]`, as is), `m = out`, `n = rows`, `k = in`: PyTorch's "TN" GEMM.
pub fn linear_gemm_args(rows: u64, out: u64, inner: u64) -> Result<GemmArgs, KernelError> {
    let int = |what: &str, v: u64| {
        i32::try_from(v)
            .ok()
            .filter(|&v| v > 0)
            .ok_or_else(|| KernelError::shape("gemm", format!("{what} = {v} must be in 1..2^31")))
    };
    let (rows, out, inner) = (int("m", rows)?, int("n", out)?, int("k", inner)?);
    Ok(GemmArgs {
        transa: true,
        transb: false,
        m: out,
        n: rows,
        k: inner,
        lda: inner,
        ldb: inner,
        ldc: out,
    })
}

/// cuBLAS's GEMM semantics on the CPU (`C = op(A) · op(B)`, column-major, `alpha = 1`, `beta =
/// 0`), for checking [`GemmArgs`] without a GPU.
pub fn column_major_gemm(args: &GemmArgs, a: &[f32], b: &[f32]) -> Vec<f32> {
    let (m, n, k) = (args.m as usize, args.n as usize, args.k as usize);
    let (lda, ldb, ldc) = (args.lda as usize, args.ldb as usize, args.ldc as usize);
    let op_a = |i: usize, l: usize| {
        if args.transa {
            a[l + i * lda]
        } else {
            a[i + l * lda]
        }
    };
    let op_b = |l: usize, j: usize| {
        if args.transb {
            b[j + l * ldb]
        } else {
            b[l + j * ldb]
        }
    };
    let mut c = vec![0.0f32; ldc * n];
    for j in 0..n {
        for i in 0..m {
            c[i + j * ldc] = (0..k).map(|l| op_a(i, l) * op_b(l, j)).sum();
        }
    }
    c
}

fn cublas_op(transpose: bool) -> cublas_sys::cublasOperation_t {
    if transpose {
        cublas_sys::cublasOperation_t::CUBLAS_OP_T
    } else {
        cublas_sys::cublasOperation_t::CUBLAS_OP_N
    }
}

/// `y = x · Wᵀ` through cuBLAS (`x` `[rows × in]`, `weight` `[out × in]`, `y` `[rows × out]`,
/// all row-major bf16; fp32 accumulation).
pub fn linear_bf16(
    blas: &CudaBlas,
    args: &GemmArgs,
    x: &CudaSlice<bf16>,
    weight: &CudaSlice<bf16>,
    y: &mut CudaSlice<bf16>,
) -> Result<(), KernelError> {
    let (rows, out, inner) = (args.n as usize, args.m as usize, args.k as usize);
    for (what, len, want) in [
        ("activations", x.len(), rows * inner),
        ("weight", weight.len(), out * inner),
        ("output", y.len(), rows * out),
    ] {
        if len != want {
            return Err(KernelError::shape(
                "gemm",
                format!("{what} has {len} elements, the sizes imply {want}"),
            ));
        }
    }
    let cfg = GemmConfig {
        transa: cublas_op(args.transa),
        transb: cublas_op(args.transb),
        m: args.m,
        n: args.n,
        k: args.k,
        alpha: bf16::ONE,
        lda: args.lda,
        ldb: args.ldb,
        beta: bf16::ZERO,
        ldc: args.ldc,
    };
    // SAFETY: the buffers hold exactly the elements the sizes and leading dimensions address
    // (checked above); cuBLAS runs on the device's default stream.
    unsafe { blas.gemm(cfg, weight, x, y) }.map_err(|source| KernelError::Cublas {
        context: format!("gemm {rows}x{out}x{inner}"),
        source,
    })
}

/// `count` independent linear layers `y_i = x_i · W_iᵀ` through one strided-batched cuBLAS call
/// (the experts of a MoE layer, the heads of eager attention); `count = 1` is [`linear_bf16`].
pub fn linear_bf16_batched(
    blas: &CudaBlas,
    args: &GemmArgs,
    count: usize,
    x: &CudaSlice<bf16>,
    weight: &CudaSlice<bf16>,
    y: &mut CudaSlice<bf16>,
) -> Result<(), KernelError> {
    if count <= 1 {
        return linear_bf16(blas, args, x, weight, y);
    }
    let (rows, out, inner) = (args.n as usize, args.m as usize, args.k as usize);
    for (what, len, want) in [
        ("activations", x.len(), count * rows * inner),
        ("weight", weight.len(), count * out * inner),
        ("output", y.len(), count * rows * out),
    ] {
        if len != want {
            return Err(KernelError::shape(
                "gemm",
                format!("{what} has {len} elements, the sizes imply {want}"),
            ));
        }
    }
    let batch = i32::try_from(count)
        .map_err(|_| KernelError::shape("gemm", format!("batch of {count} GEMMs")))?;
    let cfg = StridedBatchedConfig {
        gemm: GemmConfig {
            transa: cublas_op(args.transa),
            transb: cublas_op(args.transb),
            m: args.m,
            n: args.n,
            k: args.k,
            alpha: bf16::ONE,
            lda: args.lda,
            ldb: args.ldb,
            beta: bf16::ZERO,
            ldc: args.ldc,
        },
        batch_size: batch,
        stride_a: (out * inner) as i64,
        stride_b: (rows * inner) as i64,
        stride_c: (rows * out) as i64,
    };
    // SAFETY: each buffer holds `count` matrices of exactly the elements the sizes, leading
    // dimensions and strides address (checked above); cuBLAS runs on the default stream.
    unsafe { blas.gemm_strided_batched(cfg, weight, x, y) }.map_err(|source| KernelError::Cublas {
        context: format!("{count} x gemm {rows}x{out}x{inner}"),
        source,
    })
}

// ---- Element-wise passes --------------------------------------------------------------------

/// The head dimension RoPE pairs elements within when timing a call of `width`: 128 when it
/// divides the width, else 64. The choice only decides which elements pair up: bytes, FLOPs and
/// the vector path are the same for both.
pub fn rope_head_dim(width: u64) -> Result<usize, KernelError> {
    match width {
        w if w > 0 && w % 128 == 0 => Ok(128),
        w if w > 0 && w % 64 == 0 => Ok(64),
        w => Err(KernelError::shape(
            "rope",
            format!("width {w} is not a multiple of a head dimension of 64 or 128"),
        )),
    }
}

/// The element-wise pass of `call` with its rows: checks the name is known and `elements` is
/// whole rows of `width`.
pub fn elementwise_pass(call: &KernelCall) -> Result<(LayerPass, u64), KernelError> {
    let (name, elements, width) = match *call {
        KernelCall::Elementwise {
            name,
            elements,
            width,
        } => (name, elements, width),
        KernelCall::Copy { elements, .. } => return Ok((LayerPass::Copy, elements)),
        _ => {
            return Err(KernelError::shape(
                "elementwise",
                format!("{} is not element-wise", call.label()),
            ))
        }
    };
    let pass = LayerPass::for_name(name).ok_or_else(|| {
        KernelError::shape(
            "elementwise",
            format!("no kernel for the element-wise pass '{name}'"),
        )
    })?;
    if width == 0 || elements == 0 || elements % width != 0 {
        return Err(KernelError::shape(
            "elementwise",
            format!("{name}: {elements} elements are not whole rows of width {width}"),
        ));
    }
    Ok((pass, elements / width))
}

// ---- Buffers per shape ----------------------------------------------------------------------

fn usize_of(what: &'static str, v: u64) -> Result<usize, KernelError> {
    usize::try_from(v).map_err(|_| KernelError::shape("timing", format!("{what} = {v}")))
}

fn attn_shape(
    tokens: u64,
    heads: u64,
    kv_heads: u64,
    head_dim: u64,
) -> Result<AttnShape, KernelError> {
    Ok(AttnShape {
        heads: usize_of("heads", heads)?,
        kv_heads: usize_of("kv_heads", kv_heads)?,
        tokens: usize_of("tokens", tokens)?,
        head_dim: usize_of("head_dim", head_dim)?,
    })
}

/// Device bytes [`CudaTiming`] allocates to time `call` (inputs, outputs and scratch), checked
/// against the cache limit before anything is allocated.
pub fn buffer_bytes(call: &KernelCall) -> Result<u64, KernelError> {
    let overflow = || KernelError::shape("timing", format!("{}: sizes overflow", call.label()));
    let sum = |terms: &[(u64, u64)]| -> Result<u64, KernelError> {
        terms.iter().try_fold(0u64, |acc, &(count, bytes)| {
            count
                .checked_mul(bytes)
                .and_then(|b| acc.checked_add(b))
                .ok_or_else(overflow)
        })
    };
    let mul = |a: u64, b: u64| a.checked_mul(b).ok_or_else(overflow);
    match *call {
        KernelCall::Gemm { m, n, k, count, .. } => sum(&[
            (mul(mul(m, k)?, count)?, BF16),
            (mul(mul(n, k)?, count)?, BF16),
            (mul(mul(m, n)?, count)?, BF16),
        ]),
        KernelCall::Copy { elements, .. } => sum(&[(elements, 2 * BF16)]),
        KernelCall::Elementwise {
            elements, width, ..
        } => {
            let (pass, _) = elementwise_pass(call)?;
            match pass {
                LayerPass::RmsNorm => sum(&[(elements, 2 * BF16), (width, BF16)]),
                LayerPass::Rope => sum(&[(elements, BF16)]),
                LayerPass::SwiGlu | LayerPass::Add => sum(&[(elements, 3 * BF16)]),
                LayerPass::Copy => sum(&[(elements, 2 * BF16)]),
            }
        }
        KernelCall::Attention {
            tokens,
            heads,
            kv_heads,
            head_dim,
        } => {
            let (q, kv) = (
                mul(mul(heads, tokens)?, head_dim)?,
                mul(mul(kv_heads, tokens)?, head_dim)?,
            );
            sum(&[(q, 2 * BF16), (kv, 2 * BF16)])
        }
        KernelCall::PageRank {
            tokens,
            heads,
            kv_heads,
            head_dim,
            ..
        } => {
            let (q, kv) = (
                mul(mul(heads, tokens)?, head_dim)?,
                mul(mul(kv_heads, tokens)?, head_dim)?,
            );
            // Row max and sum, two distributions, the score.
            sum(&[
                (q, BF16),
                (kv, BF16),
                (mul(heads, tokens)?, 4 * WORD),
                (tokens, WORD),
            ])
        }
        KernelCall::PageRankMaterialised {
            tokens,
            heads,
            kv_heads,
            head_dim,
            ..
        } => {
            // The logits are allocated (and written once) even when eager attention would have
            // left them in memory: the plan reads them.
            let (q, kv) = (
                mul(mul(heads, tokens)?, head_dim)?,
                mul(mul(kv_heads, tokens)?, head_dim)?,
            );
            let map = mul(mul(heads, tokens)?, tokens)?;
            // Logits and M [heads, n, n] f32, two distributions, the score.
            sum(&[
                (q, BF16),
                (kv, BF16),
                (map, 2 * WORD),
                (mul(heads, tokens)?, 2 * WORD),
                (tokens, WORD),
            ])
        }
        KernelCall::SelectGather {
            tokens,
            kept,
            hidden,
        } => sum(&[
            (mul(tokens, hidden)?, BF16),
            (tokens, 2 * WORD),
            (kept, WORD),
            (1, WORD),
            (mul(kept, hidden)?, BF16),
        ]),
        KernelCall::MergePass {
            frames,
            tokens_per_frame: p,
            merged: r,
            hidden: d,
        } => {
            let (n_a, n_b) = (p.div_ceil(2), p / 2);
            sum(&[
                (mul(mul(frames, p)?, d)?, BF16),
                (mul(mul(frames, n_a)?, n_b)?, WORD),
                (mul(frames, n_a)?, WORD),
                (mul(frames, n_a.saturating_sub(r))?, WORD),
                (mul(mul(frames, p.saturating_sub(r))?, d)?, BF16),
            ])
        }
    }
}

/// Random bf16, uniform in `[lo, hi)`: never all zeros, drawn once per shape.
fn random_bf16(rng: &mut SplitMix64, len: usize, lo: f32, hi: f32) -> Vec<bf16> {
    (0..len)
        .map(|_| bf16::from_f32(lo + (hi - lo) * rng.uniform()))
        .collect()
}

/// The buffers and launch plans of one shape.
enum Prepared {
    Gemm {
        args: GemmArgs,
        count: usize,
        x: CudaSlice<bf16>,
        weight: CudaSlice<bf16>,
        y: CudaSlice<bf16>,
    },
    RmsNorm {
        x: CudaSlice<bf16>,
        weight: CudaSlice<bf16>,
        out: CudaSlice<bf16>,
        width: usize,
    },
    Rope {
        x: CudaSlice<bf16>,
        width: usize,
        head_dim: usize,
    },
    Binary {
        pass: LayerPass,
        a: CudaSlice<bf16>,
        b: CudaSlice<bf16>,
        out: CudaSlice<bf16>,
    },
    Copy {
        x: CudaSlice<bf16>,
        out: CudaSlice<bf16>,
    },
    Attention {
        q: CudaSlice<bf16>,
        k: CudaSlice<bf16>,
        v: CudaSlice<bf16>,
        plan: FlashAttention<bf16>,
    },
    PageRankFused {
        q: CudaSlice<bf16>,
        k: CudaSlice<bf16>,
        plan: PageRankFused<bf16>,
    },
    PageRankMaterialised {
        q: CudaSlice<bf16>,
        k: CudaSlice<bf16>,
        logits: AttentionLogits<bf16>,
        /// Whether the logits are computed in the timed run (not when eager attention left them).
        compute_logits: bool,
        plan: PageRankMaterialised,
    },
    SelectGather {
        hidden: CudaSlice<bf16>,
        score: CudaSlice<f32>,
        plan: Prune<bf16>,
    },
    Merge {
        x: CudaSlice<bf16>,
        plan: MergePass<bf16>,
    },
}

impl Prepared {
    fn new(dev: &Device, call: &KernelCall, seed: u64) -> Result<Prepared, KernelError> {
        let mut rng = SplitMix64::new(seed);
        let mut upload = |len: usize| dev.upload(&random_bf16(&mut rng, len, -1.0, 1.0));
        Ok(match *call {
            KernelCall::Gemm { m, n, k, count, .. } => {
                let args = linear_gemm_args(m, n, k)?;
                let (rows, out, inner) = (args.n as usize, args.m as usize, args.k as usize);
                let count = usize_of("count", count)?.max(1);
                Prepared::Gemm {
                    args,
                    count,
                    x: upload(count * rows * inner)?,
                    weight: upload(count * out * inner)?,
                    y: upload(count * rows * out)?,
                }
            }
            KernelCall::Copy { elements, .. } => {
                let len = usize_of("elements", elements)?;
                Prepared::Copy {
                    x: upload(len)?,
                    out: upload(len)?,
                }
            }
            KernelCall::Elementwise {
                elements, width, ..
            } => {
                let (pass, _) = elementwise_pass(call)?;
                let (len, width) = (usize_of("elements", elements)?, usize_of("width", width)?);
                match pass {
                    LayerPass::RmsNorm => {
                        let x = upload(len)?;
                        let out = upload(len)?;
                        let mut rng = SplitMix64::new(seed ^ 0xA5A5);
                        let weight = dev.upload(&random_bf16(&mut rng, width, 0.5, 1.5))?;
                        Prepared::RmsNorm {
                            x,
                            weight,
                            out,
                            width,
                        }
                    }
                    LayerPass::Rope => Prepared::Rope {
                        x: upload(len)?,
                        width,
                        head_dim: rope_head_dim(width as u64)?,
                    },
                    LayerPass::SwiGlu | LayerPass::Add => Prepared::Binary {
                        pass,
                        a: upload(len)?,
                        b: upload(len)?,
                        out: upload(len)?,
                    },
                    LayerPass::Copy => Prepared::Copy {
                        x: upload(len)?,
                        out: upload(len)?,
                    },
                }
            }
            KernelCall::Attention {
                tokens,
                heads,
                kv_heads,
                head_dim,
            } => {
                let shape = attn_shape(tokens, heads, kv_heads, head_dim)?;
                let plan = FlashAttention::new(dev, shape)?;
                Prepared::Attention {
                    q: upload(shape.q_len())?,
                    k: upload(shape.kv_len())?,
                    v: upload(shape.kv_len())?,
                    plan,
                }
            }
            KernelCall::PageRank {
                tokens,
                heads,
                kv_heads,
                head_dim,
                iterations,
            } => {
                let shape = attn_shape(tokens, heads, kv_heads, head_dim)?;
                let plan = PageRankFused::new(
                    dev,
                    shape,
                    crate::kernels::PAGERANK_TEMPERATURE,
                    iterations as usize,
                )?;
                Prepared::PageRankFused {
                    q: upload(shape.q_len())?,
                    k: upload(shape.kv_len())?,
                    plan,
                }
            }
            KernelCall::PageRankMaterialised {
                tokens,
                heads,
                kv_heads,
                head_dim,
                iterations,
                logits: compute_logits,
            } => {
                let shape = attn_shape(tokens, heads, kv_heads, head_dim)?;
                let mut logits = AttentionLogits::new(dev, shape)?;
                let plan = PageRankMaterialised::new(
                    dev,
                    shape.heads,
                    shape.tokens,
                    crate::kernels::PAGERANK_TEMPERATURE,
                    iterations as usize,
                )?;
                let (q, k) = (upload(shape.q_len())?, upload(shape.kv_len())?);
                if !compute_logits {
                    // Eager attention left them in memory: written once here, read by each run.
                    logits.run(dev, &q, &k)?;
                }
                Prepared::PageRankMaterialised {
                    q,
                    k,
                    logits,
                    compute_logits,
                    plan,
                }
            }
            KernelCall::SelectGather {
                tokens,
                kept,
                hidden,
            } => {
                let (n, kept, width) = (
                    usize_of("tokens", tokens)?,
                    usize_of("kept", kept)?,
                    usize_of("hidden", hidden)?,
                );
                // Every position is a candidate: the ranking covers all n scores.
                let plan = Prune::new(dev, n, width, 0..n, kept)?;
                let mut rng = SplitMix64::new(seed ^ 0x5C0E);
                let score = dev.upload(&rng.normal_vec(n))?;
                Prepared::SelectGather {
                    hidden: upload(n * width)?,
                    score,
                    plan,
                }
            }
            KernelCall::MergePass {
                frames,
                tokens_per_frame,
                merged,
                hidden,
            } => {
                let (f, p, d) = (
                    usize_of("frames", frames)?,
                    usize_of("tokens_per_frame", tokens_per_frame)?,
                    usize_of("hidden", hidden)?,
                );
                let plan = MergePass::new(dev, f, p, d, usize_of("merged", merged)?)?;
                Prepared::Merge {
                    x: upload(f * p * d)?,
                    plan,
                }
            }
        })
    }

    /// One run: only launches (and the cuBLAS call), nothing allocated.
    fn run(&mut self, dev: &Device, blas: &CudaBlas) -> Result<(), KernelError> {
        match self {
            Prepared::Gemm {
                args,
                count,
                x,
                weight,
                y,
            } => linear_bf16_batched(blas, args, *count, x, weight, y),
            Prepared::RmsNorm {
                x,
                weight,
                out,
                width,
            } => gpu::rmsnorm(dev, x, weight, out, *width, cpu::RMSNORM_EPS),
            Prepared::Rope { x, width, head_dim } => {
                gpu::rope(dev, x, *width, *head_dim, cpu::ROPE_THETA)
            }
            Prepared::Binary { pass, a, b, out } => match pass {
                LayerPass::SwiGlu => gpu::swiglu(dev, a, b, out),
                _ => gpu::add(dev, a, b, out),
            },
            Prepared::Copy { x, out } => gpu::copy(dev, x, out),
            Prepared::Attention { q, k, v, plan } => plan.run(dev, q, k, v),
            Prepared::PageRankFused { q, k, plan } => plan.run(dev, q, k),
            Prepared::PageRankMaterialised {
                q,
                k,
                logits,
                compute_logits,
                plan,
            } => {
                if *compute_logits {
                    logits.run(dev, q, k)?;
                }
                plan.run(dev, &logits.logits)
            }
            Prepared::SelectGather {
                hidden,
                score,
                plan,
            } => plan.run(dev, hidden, score),
            Prepared::Merge { x, plan } => plan.run(dev, x),
        }
    }
}

/// Prepared shapes keyed by their call, least recently used evicted first.
struct ShapeCache<V> {
    entries: HashMap<KernelCall, CacheEntry<V>>,
    bytes: u64,
    clock: u64,
}

struct CacheEntry<V> {
    value: V,
    bytes: u64,
    last_used: u64,
}

impl<V> Default for ShapeCache<V> {
    fn default() -> Self {
        ShapeCache {
            entries: HashMap::new(),
            bytes: 0,
            clock: 0,
        }
    }
}

impl<V> ShapeCache<V> {
    fn insert(&mut self, call: KernelCall, value: V, bytes: u64) {
        self.clock += 1;
        self.bytes += bytes;
        let entry = CacheEntry {
            value,
            bytes,
            last_used: self.clock,
        };
        if let Some(old) = self.entries.insert(call, entry) {
            self.bytes -= old.bytes;
        }
    }

    fn get(&mut self, call: &KernelCall) -> Option<&mut V> {
        self.clock += 1;
        let clock = self.clock;
        self.entries.get_mut(call).map(|e| {
            e.last_used = clock;
            &mut e.value
        })
    }

    /// Drops least recently used entries until at most `limit` bytes remain.
    fn evict_until(&mut self, limit: u64) {
        while self.bytes > limit {
            let Some(oldest) = self
                .entries
                .iter()
                .min_by_key(|(_, e)| e.last_used)
                .map(|(k, _)| k.clone())
            else {
                break;
            };
            if let Some(e) = self.entries.remove(&oldest) {
                self.bytes -= e.bytes;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::calibrate::launch_probe;
    use crate::measure::stack;
    use crate::scenario::Scenario;

    /// The launches of a scenario's stack, with `--importance-kernel fused`.
    fn plan_calls(args: &[&str]) -> Vec<KernelCall> {
        let args = [args, &["--importance-kernel", "fused"]].concat();
        let s = Scenario::from_spec(&crate::spec::Spec::from_flags(&args).unwrap()).unwrap();
        let p = stack::plan(&s).unwrap();
        p.units().map(|u| u.call.clone()).collect()
    }

    fn probe() -> KernelCall {
        launch_probe(&gpu_profile()).call
    }

    /// Row-major `y[rows × out] = x[rows × in] · wᵀ`, `w` `[out × in]`.
    fn linear_reference(x: &[f32], w: &[f32], rows: usize, out: usize, inner: usize) -> Vec<f32> {
        let mut y = vec![0.0; rows * out];
        for i in 0..rows {
            for j in 0..out {
                y[i * out + j] = (0..inner)
                    .map(|l| x[i * inner + l] * w[j * inner + l])
                    .sum();
            }
        }
        y
    }

    #[test]
    fn gemm_arguments_compute_a_row_major_linear_layer() {
        let (rows, out, inner) = (3, 5, 4);
        let mut rng = SplitMix64::new(3);
        let x = rng.normal_vec(rows * inner);
        let w = rng.normal_vec(out * inner);
        let want = linear_reference(&x, &w, rows, out, inner);
        let args = linear_gemm_args(rows as u64, out as u64, inner as u64).unwrap();
        assert_eq!(
            args,
            GemmArgs {
                transa: true,
                transb: false,
                m: 5,
                n: 3,
                k: 4,
                lda: 4,
                ldb: 4,
                ldc: 5,
            }
        );
        // cuBLAS's A is the weight, its B the activations; column-major Yᵀ is row-major Y.
        let got = column_major_gemm(&args, &w, &x);
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-5, "got {g}, want {w}");
        }
        // The test discriminates: without the transpose (a weight read as [in × out]) the
        // product differs.
        let wrong = column_major_gemm(
            &GemmArgs {
                transa: false,
                lda: out as i32,
                ..args
            },
            &w,
            &x,
        );
        assert!(wrong.iter().zip(&want).any(|(g, w)| (g - w).abs() > 1e-3));
        assert!(linear_gemm_args(0, 5, 4).is_err());
        assert!(linear_gemm_args(1 << 31, 5, 4).is_err());
    }

    #[test]
    fn every_elementwise_call_of_the_plan_has_a_kernel() {
        let mut names = Vec::new();
        for model in ["llava-ov-7b", "llava-ov-0.5b"] {
            let calls = plan_calls(&["--model", model, "--tokens", "6272", "--schedule", "linear"]);
            for call in calls.iter().chain([&probe()]) {
                if let KernelCall::Elementwise { name, width, .. } = *call {
                    let (pass, rows) = elementwise_pass(call).unwrap();
                    assert!(rows > 0);
                    if pass == LayerPass::Rope {
                        rope_head_dim(width).unwrap();
                    }
                    names.push(name);
                }
                buffer_bytes(call).unwrap();
            }
        }
        names.sort();
        names.dedup();
        assert_eq!(
            names,
            [
                "attn_norm",
                "attn_residual",
                "launch_probe",
                "mlp_norm",
                "mlp_residual",
                "rope",
                "silu_mul"
            ]
        );
    }

    #[test]
    fn elementwise_names_map_to_their_kernels() {
        assert_eq!(LayerPass::for_name("attn_norm"), Some(LayerPass::RmsNorm));
        assert_eq!(LayerPass::for_name("mlp_norm"), Some(LayerPass::RmsNorm));
        assert_eq!(LayerPass::for_name("rope"), Some(LayerPass::Rope));
        assert_eq!(LayerPass::for_name("silu_mul"), Some(LayerPass::SwiGlu));
        assert_eq!(LayerPass::for_name("mlp_residual"), Some(LayerPass::Add));
        assert_eq!(LayerPass::for_name("launch_probe"), Some(LayerPass::Copy));
        assert_eq!(LayerPass::for_name("gelu"), None);
        let call = |name, width| KernelCall::Elementwise {
            name,
            elements: 12 * 3584,
            width,
        };
        assert_eq!(
            elementwise_pass(&call("attn_residual", 3584)).unwrap(),
            (LayerPass::Add, 12)
        );
        assert!(
            elementwise_pass(&call("attn_norm", 5000)).is_err(),
            "partial rows"
        );
        assert!(elementwise_pass(&call("gelu", 3584)).is_err());
        let copy = KernelCall::Copy {
            name: "moe_combine",
            elements: 77,
        };
        assert_eq!(elementwise_pass(&copy).unwrap(), (LayerPass::Copy, 77));
        assert_eq!(rope_head_dim(4096).unwrap(), 128);
        assert_eq!(rope_head_dim(896 + 128).unwrap(), 128);
        assert_eq!(rope_head_dim(64 * 3).unwrap(), 64);
        assert!(rope_head_dim(100).is_err());
    }

    #[test]
    fn buffer_bytes_count_inputs_outputs_and_scratch() {
        let gemm = KernelCall::Gemm {
            name: "q_proj",
            m: 10,
            n: 20,
            k: 30,
            bias: true,
            count: 1,
        };
        assert_eq!(
            buffer_bytes(&gemm).unwrap(),
            2 * (10 * 30 + 20 * 30 + 10 * 20)
        );
        let experts = KernelCall::Gemm {
            name: "expert_down_proj",
            m: 10,
            n: 20,
            k: 30,
            bias: false,
            count: 8,
        };
        assert_eq!(
            buffer_bytes(&experts).unwrap(),
            8 * 2 * (10 * 30 + 20 * 30 + 10 * 20)
        );
        let norm = KernelCall::Elementwise {
            name: "attn_norm",
            elements: 40,
            width: 8,
        };
        assert_eq!(buffer_bytes(&norm).unwrap(), 2 * 2 * 40 + 2 * 8);
        // Materialised importance at the paper's 7B size: two [28, 6372, 6372] f32 maps.
        let mat = KernelCall::PageRankMaterialised {
            tokens: 6372,
            heads: 28,
            kv_heads: 4,
            head_dim: 128,
            iterations: 5,
            logits: true,
        };
        let maps = 2 * 4 * 28 * 6372u64 * 6372;
        let bytes = buffer_bytes(&mat).unwrap();
        assert!(bytes > maps && bytes < maps + (1 << 30), "{bytes}");
        let fused = KernelCall::PageRank {
            tokens: 6372,
            heads: 28,
            kv_heads: 4,
            head_dim: 128,
            iterations: 5,
        };
        assert!(buffer_bytes(&fused).unwrap() < 100 << 20);
        let huge = KernelCall::Gemm {
            name: "x",
            m: u64::MAX / 2,
            n: 4,
            k: 4,
            bias: false,
            count: 1,
        };
        assert!(buffer_bytes(&huge).is_err());
    }

    #[test]
    fn median_is_the_middle_sample() {
        assert_eq!(median_s(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median_s(&[4.0, 1.0, 2.0, 3.0]), Some(2.5));
        assert_eq!(median_s(&[]), None);
        assert_eq!(median_s(&[1.0, f64::NAN]), None);
    }

    #[test]
    fn the_cache_evicts_least_recently_used_shapes() {
        let call = |m| KernelCall::Gemm {
            name: "g",
            m,
            n: 1,
            k: 1,
            bias: false,
            count: 1,
        };
        let mut cache = ShapeCache::<u64>::default();
        cache.insert(call(1), 1, 100);
        cache.insert(call(2), 2, 100);
        cache.insert(call(3), 3, 100);
        assert_eq!(
            cache.get(&call(1)),
            Some(&mut 1),
            "1 is now the most recent"
        );
        cache.evict_until(200);
        assert_eq!(cache.bytes, 200);
        assert!(
            cache.get(&call(2)).is_none(),
            "2 was the least recently used"
        );
        cache.insert(call(3), 30, 50);
        assert_eq!(cache.bytes, 150, "replacing an entry replaces its bytes");
        cache.evict_until(0);
        assert!(cache.entries.is_empty());
        assert_eq!(cache.bytes, 0);
    }

    #[test]
    fn device_description_names_sms_driver_and_profile() {
        let text = describe_device(&DeviceFacts {
            name: "NVIDIA H100 80GB HBM3".into(),
            sm: 90,
            sm_count: Some(132),
            l2_bytes: 50 << 20,
            memory_bytes: 80 << 30,
            driver_version: Some(13000),
            cublas_version: Some(130002),
            profile: "NVIDIA H100 SXM".into(),
        });
        assert_eq!(
            text,
            "NVIDIA H100 80GB HBM3, 132 SMs, sm_90, 50 MiB L2, 80 GiB; driver CUDA 13.0, cuBLAS 13.0.2; profile 'NVIDIA H100 SXM'"
        );
        let unknown = describe_device(&DeviceFacts {
            sm_count: None,
            driver_version: None,
            cublas_version: None,
            ..DeviceFacts {
                name: "x".into(),
                sm: 80,
                sm_count: None,
                l2_bytes: 0,
                memory_bytes: 0,
                driver_version: None,
                cublas_version: None,
                profile: "p".into(),
            }
        });
        assert!(unknown.contains("? SMs") && unknown.contains("driver CUDA unknown"));
    }

    #[test]
    fn kernel_errors_become_one_line_crate_errors() {
        let e = crate::error::Error::from(KernelError::Compile {
            file: "kernels/layers.cu",
            arch: "sm_90".into(),
            log: "line 1: error\nline 2: note".into(),
        });
        let text = e.to_string();
        assert!(!text.contains('\n'), "{text}");
        assert!(text.contains("line 1: error; line 2: note"), "{text}");
    }

    fn gpu_profile() -> Gpu {
        Gpu::load("h100").unwrap()
    }

    // The GPU tests below are `#[ignore]`d: the standard harness cannot decide at run time that a
    // test did not run, so they run only when asked for (`--ignored`, as `.ci/gpu-run.sh` does).

    /// The timing source, or `None` after printing why the GPU tests skip; a missing GPU is a
    /// failure under AIM_SIM_REQUIRE_GPU=1.
    fn timing() -> Option<CudaTiming> {
        match CudaTiming::open(0, &gpu_profile()) {
            Ok(t) => Some(t),
            Err(e) if e.is_unavailable() => {
                if std::env::var("AIM_SIM_REQUIRE_GPU").as_deref() == Ok("1") {
                    panic!("AIM_SIM_REQUIRE_GPU=1 but {e}");
                }
                println!("skipping: {e}");
                None
            }
            Err(e) => panic!("a GPU is present but unusable: {e}"),
        }
    }

    #[test]
    fn open_without_cuda_is_unavailable_not_a_panic() {
        match crate::kernels::gpu_status() {
            Err(reason) => {
                let err = CudaTiming::open(0, &gpu_profile()).unwrap_err();
                assert!(err.is_unavailable(), "{err}");
                let text = err.to_string();
                assert!(!text.contains('\n') && !text.is_empty(), "{text:?}");
                assert_eq!(text, reason, "the same one-line reason as gpu_status");
            }
            Ok(()) => match CudaTiming::open(0, &gpu_profile()) {
                Ok(t) => println!("GPU present: {}", t.describe()),
                Err(e) => assert!(e.is_unavailable(), "{e}"),
            },
        }
    }

    #[test]
    #[ignore = "needs a GPU: run with --ignored (AIM_SIM_REQUIRE_GPU=1 makes a missing GPU fail)"]
    fn gpu_gemm_matches_a_cpu_linear_layer() {
        let Some(t) = timing() else { return };
        let (rows, out, inner) = (37, 50, 64);
        let mut rng = SplitMix64::new(21);
        let x = random_bf16(&mut rng, rows * inner, -1.0, 1.0);
        let w = random_bf16(&mut rng, out * inner, -1.0, 1.0);
        let f32s = |v: &[bf16]| v.iter().map(|b| b.to_f32()).collect::<Vec<f32>>();
        let want = linear_reference(&f32s(&x), &f32s(&w), rows, out, inner);
        let dev = t.device();
        let args = linear_gemm_args(rows as u64, out as u64, inner as u64).unwrap();
        let mut y = dev.upload(&vec![bf16::NAN; rows * out]).unwrap();
        linear_bf16(
            &t.blas,
            &args,
            &dev.upload(&x).unwrap(),
            &dev.upload(&w).unwrap(),
            &mut y,
        )
        .unwrap();
        let got = f32s(&dev.download(&y).unwrap());
        let err: f64 = got
            .iter()
            .zip(&want)
            .map(|(g, w)| ((g - w) as f64).powi(2))
            .sum::<f64>()
            .sqrt();
        let norm: f64 = want.iter().map(|w| (*w as f64).powi(2)).sum::<f64>().sqrt();
        assert!(err / norm < 1e-2, "relative L2 error {}", err / norm);
    }

    #[test]
    #[ignore = "needs a GPU: run with --ignored (AIM_SIM_REQUIRE_GPU=1 makes a missing GPU fail)"]
    fn gpu_times_every_kind_of_call_and_reuses_buffers() {
        let mut calls = plan_calls(&[
            "--model",
            "llava-ov-0.5b",
            "--frames",
            "4",
            "--schedule",
            "linear",
        ]);
        calls.push(probe());
        calls.push(KernelCall::PageRankMaterialised {
            tokens: 300,
            heads: 14,
            kv_heads: 2,
            head_dim: 64,
            iterations: 5,
            logits: true,
        });
        // Built first, so that without a GPU the plan and its buffers are still checked.
        assert!(calls.iter().all(|c| buffer_bytes(c).is_ok()));
        let Some(mut t) = timing() else { return };
        t.set_runs(Runs {
            warmup: 2,
            timed: 5,
        })
        .unwrap();
        for call in &calls {
            let time_s = t
                .time_call(call)
                .unwrap_or_else(|e| panic!("{}: {e}", call.label()));
            assert!(
                time_s.is_finite() && time_s > 0.0,
                "{}: {time_s}",
                call.label()
            );
        }
        let (bytes, shapes) = (t.cached_bytes(), t.cached_shapes());
        t.time_call(&calls[0]).unwrap();
        assert_eq!((t.cached_bytes(), t.cached_shapes()), (bytes, shapes));
        t.set_cache_limit_bytes(bytes / 2);
        assert!(t.cached_bytes() <= bytes / 2);
        t.set_cache_limit_bytes(1);
        assert!(t.time_call(&calls[0]).is_err(), "beyond the cache limit");
    }
}
