//! Typed launchers for `kernels/*.cu` on one CUDA device, via cudarc.
//!
//! A [`Device`] owns the context, works on the default stream (a created stream would switch on
//! cudarc's per-argument event tracking, adding host work to every launch: rust-cuda-stack.md),
//! compiles each source once with NVRTC for the device's own `sm_XY` (a CUBIN, so a newer NVRTC
//! than the driver cannot produce PTX the driver refuses) and caches modules and functions (and
//! the CUBINs across processes in `$AIM_SIM_KERNEL_CACHE`, see `nvrtc::compile_cached`).
//!
//! Each operation is a plan struct that owns its output and scratch buffers, so that a timed run
//! is only kernel launches: [`MergePass`], [`FlashAttention`], [`EagerAttention`],
//! [`PageRankMaterialised`], [`PageRankFused`], [`Prune`]. Every launch's status is checked; with
//! [`Device::set_sync_after_launch`] each launch is also synchronised so that an asynchronous
//! fault is reported with the kernel that caused it.

use super::error::DriverContext;
use super::launch::{self, int, Launch};
use super::nvrtc::{self, Target};
use super::{AttnShape, Dtype, Element, KernelError, KernelSource, SUPPORTED_HEAD_DIMS};
use cudarc::driver::sys::{CUdevice_attribute, CUevent_flags};
use cudarc::driver::{
    CudaContext, CudaEvent, CudaFunction, CudaModule, CudaSlice, CudaStream, DeviceRepr,
    LaunchConfig, PushKernelArg, ValidAsZeroBits,
};
use std::collections::HashMap;
use std::ops::Range;
use std::panic::catch_unwind;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// `Ok` when a CUDA driver and at least one device are present, else a one-line reason. Never
/// panics: the library is probed before cudarc touches it, and the probe runs under
/// `catch_unwind`.
pub fn gpu_status() -> Result<(), String> {
    // SAFETY: only tries to dlopen libcuda by its candidate names.
    if !unsafe { cudarc::driver::sys::is_culib_present() } {
        return Err("no GPU: the CUDA driver library (libcuda.so.1) is not installed".into());
    }
    let count = catch_unwind(|| {
        cudarc::driver::result::init()?;
        cudarc::driver::result::device::get_count()
    });
    match count {
        Ok(Ok(0)) => Err("no GPU: the CUDA driver reports no device".into()),
        Ok(Ok(_)) => Ok(()),
        Ok(Err(e)) => Err(format!(
            "no usable GPU: CUDA driver initialisation failed ({e})"
        )),
        Err(_) => Err("no usable GPU: the CUDA driver library could not be loaded".into()),
    }
}

/// One CUDA device with its compiled kernels.
pub struct Device {
    ctx: Arc<CudaContext>,
    stream: Arc<CudaStream>,
    name: String,
    sm: u32,
    l2_bytes: usize,
    modules: Mutex<HashMap<KernelSource, Arc<CudaModule>>>,
    functions: Mutex<HashMap<&'static str, CudaFunction>>,
    sync_after_launch: AtomicBool,
}

impl std::fmt::Debug for Device {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Device")
            .field("name", &self.name)
            .field("sm", &self.sm)
            .finish()
    }
}

impl Device {
    /// Opens device `ordinal`. Fails with [`KernelError::Unavailable`] when the driver, a device
    /// or NVRTC is missing.
    pub fn open(ordinal: usize) -> Result<Device, KernelError> {
        gpu_status().map_err(KernelError::Unavailable)?;
        nvrtc::nvrtc_status().map_err(KernelError::Unavailable)?;
        let ctx = catch_unwind(|| CudaContext::new(ordinal))
            .map_err(|_| KernelError::Unavailable("the CUDA driver panicked on open".into()))?
            .ctx(format_args!("opening device {ordinal}"))?;
        let name = ctx.name().ctx("device name")?;
        let (major, minor) = ctx.compute_capability().ctx("compute capability")?;
        let l2_bytes = ctx
            .attribute(CUdevice_attribute::CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE)
            .ctx("L2 cache size")?;
        let stream = ctx.default_stream();
        Ok(Device {
            ctx,
            stream,
            name,
            sm: (major * 10 + minor) as u32,
            l2_bytes: l2_bytes.max(0) as usize,
            modules: Mutex::new(HashMap::new()),
            functions: Mutex::new(HashMap::new()),
            sync_after_launch: AtomicBool::new(false),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Compute capability as `10 major + minor` (90 for H100).
    pub fn sm(&self) -> u32 {
        self.sm
    }

    /// L2 cache size, bytes.
    pub fn l2_bytes(&self) -> usize {
        self.l2_bytes
    }

    pub fn stream(&self) -> &Arc<CudaStream> {
        &self.stream
    }

    /// The CUDA context (device attributes, memory information).
    pub fn context(&self) -> &Arc<CudaContext> {
        &self.ctx
    }

    /// Synchronise after every launch (correctness runs), so a fault names its kernel.
    pub fn set_sync_after_launch(&self, on: bool) {
        self.sync_after_launch.store(on, Ordering::Relaxed);
    }

    /// Compiles (once) and loads (once) `source`, then returns entry point `name`.
    pub fn function(
        &self,
        source: KernelSource,
        name: &'static str,
    ) -> Result<CudaFunction, KernelError> {
        if let Some(f) = lock(&self.functions).get(name) {
            return Ok(f.clone());
        }
        let module = {
            let mut modules = lock(&self.modules);
            match modules.get(&source) {
                Some(m) => m.clone(),
                None => {
                    let output = nvrtc::compile_cached(source, Target::Cubin { sm: self.sm })?;
                    let m = self
                        .ctx
                        .load_module(output.code.into_cudarc())
                        .ctx(format_args!("loading {}", source.file_name()))?;
                    modules.insert(source, m.clone());
                    m
                }
            }
        };
        let f = module
            .load_function(name)
            .ctx(format_args!("finding {name} in {}", source.file_name()))?;
        lock(&self.functions).insert(name, f.clone());
        Ok(f)
    }

    /// Compiles and loads every source now (so that timing never includes NVRTC).
    pub fn load_all(&self) -> Result<(), KernelError> {
        for source in KernelSource::ALL {
            for name in source.entry_points() {
                self.function(source, name)?;
            }
        }
        Ok(())
    }

    pub fn upload<T: Element>(&self, host: &[T]) -> Result<CudaSlice<T>, KernelError> {
        self.stream.clone_htod(host).ctx(format_args!(
            "copying {} elements to the device",
            host.len()
        ))
    }

    pub fn download<T: DeviceRepr>(&self, device: &CudaSlice<T>) -> Result<Vec<T>, KernelError> {
        self.stream.clone_dtoh(device).ctx(format_args!(
            "copying {} elements to the host",
            device.len()
        ))
    }

    /// A zeroed buffer of at least one element (zero-byte allocations are errors in CUDA).
    pub fn zeros<T: DeviceRepr + ValidAsZeroBits>(
        &self,
        len: usize,
    ) -> Result<CudaSlice<T>, KernelError> {
        self.stream
            .alloc_zeros::<T>(len.max(1))
            .ctx(format_args!("allocating {len} elements"))
    }

    pub fn synchronize(&self, context: &str) -> Result<(), KernelError> {
        self.stream.synchronize().ctx(context)
    }

    /// Checks a launch's status and, in sync mode, waits for it.
    fn launched<T>(
        &self,
        kernel: &str,
        result: Result<T, cudarc::driver::DriverError>,
    ) -> Result<(), KernelError> {
        result.ctx(format_args!("launching {kernel}"))?;
        if self.sync_after_launch.load(Ordering::Relaxed) {
            self.stream
                .synchronize()
                .ctx(format_args!("running {kernel}"))?;
        }
        Ok(())
    }

    /// Times `run` with CUDA events on the default stream: `warmup` untimed runs, then `iters`
    /// timed runs, each preceded (outside the timed span) by a write of twice the L2 size so no
    /// input is served from L2. Returns each run's time in seconds.
    pub fn time_runs(
        &self,
        mut run: impl FnMut() -> Result<(), KernelError>,
        warmup: usize,
        iters: usize,
    ) -> Result<Vec<f64>, KernelError> {
        let mut flush = self.zeros::<u8>((2 * self.l2_bytes).max(1 << 20))?;
        for _ in 0..warmup {
            run()?;
        }
        self.synchronize("warm-up")?;
        let mut events: Vec<(CudaEvent, CudaEvent)> = Vec::with_capacity(iters);
        for _ in 0..iters {
            let new = || {
                self.ctx
                    .new_event(Some(CUevent_flags::CU_EVENT_DEFAULT))
                    .ctx("creating a timing event")
            };
            events.push((new()?, new()?));
        }
        for (start, stop) in &events {
            self.stream.memset_zeros(&mut flush).ctx("flushing L2")?;
            start.record(&self.stream).ctx("recording an event")?;
            run()?;
            stop.record(&self.stream).ctx("recording an event")?;
        }
        self.synchronize("timed runs")?;
        events
            .iter()
            .map(|(start, stop)| {
                start
                    .elapsed_ms(stop)
                    .map(|ms| ms as f64 * 1e-3)
                    .ctx("reading an event")
            })
            .collect()
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// Every launch configuration comes from [`launch`] (shared with the CPU emulator), already
/// checked against CUDA's limits.
impl From<Launch> for LaunchConfig {
    fn from(l: Launch) -> LaunchConfig {
        LaunchConfig {
            grid_dim: (l.grid[0], l.grid[1], l.grid[2]),
            block_dim: (l.block[0], l.block[1], l.block[2]),
            shared_mem_bytes: l.shared_bytes,
        }
    }
}

fn head_dim_entry(
    kernel: &'static str,
    shape: &AttnShape,
    dtype: Dtype,
    names: [[&'static str; 2]; 2],
) -> Result<&'static str, KernelError> {
    let d = match shape.head_dim {
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
    Ok(names[d][match dtype {
        Dtype::F32 => 0,
        Dtype::Bf16 => 1,
    }])
}

fn check_len<T>(
    kernel: &'static str,
    what: &str,
    s: &CudaSlice<T>,
    want: usize,
) -> Result<(), KernelError> {
    super::cpu::check_len(kernel, what, s.len(), want)
}

// ---- Merge ----------------------------------------------------------------------------------

/// One merging pass over `[frames, tokens, dim]` (see `cpu::merge_pass`).
pub struct MergePass<T: Element> {
    pub frames: usize,
    pub tokens: usize,
    pub dim: usize,
    pub r: usize,
    /// Cosine similarities `[frames, nA, nB]` after [`MergePass::run`].
    pub scores: CudaSlice<f32>,
    /// Per A token the B token it merges into, or -1, `[frames, nA]`.
    pub dst: CudaSlice<i32>,
    /// The unmerged A tokens in output order, `[frames, nA - r]`.
    pub unmerged: CudaSlice<i32>,
    launches: launch::MergeLaunches,
    /// `[frames, tokens - r, dim]` after [`MergePass::run`].
    pub out: CudaSlice<T>,
}

impl<T: Element> MergePass<T> {
    pub fn new(
        dev: &Device,
        frames: usize,
        tokens: usize,
        dim: usize,
        r: usize,
    ) -> Result<Self, KernelError> {
        let launches = launch::merge(frames, tokens, dim, r)?;
        let (n_a, n_b) = (tokens.div_ceil(2), tokens / 2);
        Ok(MergePass {
            frames,
            tokens,
            dim,
            r,
            scores: dev.zeros(frames * n_a * n_b)?,
            dst: dev.zeros(frames * n_a)?,
            unmerged: dev.zeros(frames * (n_a - r))?,
            launches,
            out: dev.zeros(frames * (tokens - r) * dim)?,
        })
    }

    pub fn run(&mut self, dev: &Device, x: &CudaSlice<T>) -> Result<(), KernelError> {
        check_len("merge", "input", x, self.frames * self.tokens * self.dim)?;
        let (p, d, r) = (self.tokens as i32, self.dim as i32, self.r as i32);
        let suffix = T::DTYPE.suffix();

        let name = if suffix == "f32" {
            "merge_scores_f32"
        } else {
            "merge_scores_bf16"
        };
        let f = dev.function(KernelSource::Merge, name)?;
        let mut launch = dev.stream.launch_builder(&f);
        launch.arg(x).arg(&mut self.scores).arg(&p).arg(&d);
        // SAFETY: argument list matches merge_scores_*(const T*, float*, int, int); buffers hold
        // frames*P*D and frames*nA*nB elements; the kernel bounds-checks every index.
        dev.launched(name, unsafe { launch.launch(self.launches.scores.into()) })?;

        let f = dev.function(KernelSource::Merge, "merge_match")?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(&self.scores)
            .arg(&mut self.dst)
            .arg(&mut self.unmerged)
            .arg(&p)
            .arg(&r);
        // SAFETY: matches merge_match(const float*, int*, int*, int, int); dst holds frames*nA,
        // unmerged frames*(nA - r) ints; nA <= MERGE_MAX_A was checked in `new`.
        dev.launched("merge_match", unsafe {
            launch.launch(self.launches.matching.into())
        })?;

        let name = if suffix == "f32" {
            "merge_apply_f32"
        } else {
            "merge_apply_bf16"
        };
        let f = dev.function(KernelSource::Merge, name)?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(x)
            .arg(&self.dst)
            .arg(&self.unmerged)
            .arg(&mut self.out)
            .arg(&p)
            .arg(&d)
            .arg(&r);
        // SAFETY: matches merge_apply_*(const T*, const int*, const int*, T*, int, int, int); out
        // holds frames*(P - r)*D elements; grid is exactly (P - r, frames).
        dev.launched(name, unsafe { launch.launch(self.launches.apply.into()) })
    }
}

/// All passes from `tokens` to `target` per frame (196 → 98 → 49), chained on the device.
pub struct MergeFrames<T: Element> {
    pub passes: Vec<MergePass<T>>,
}

impl<T: Element> MergeFrames<T> {
    pub fn new(
        dev: &Device,
        frames: usize,
        tokens: usize,
        dim: usize,
        target: usize,
    ) -> Result<Self, KernelError> {
        let mut current = tokens;
        let mut passes = Vec::new();
        for r in super::merge_passes(tokens, target)? {
            passes.push(MergePass::new(dev, frames, current, dim, r)?);
            current -= r;
        }
        Ok(MergeFrames { passes })
    }

    pub fn run(&mut self, dev: &Device, x: &CudaSlice<T>) -> Result<(), KernelError> {
        for k in 0..self.passes.len() {
            let (done, rest) = self.passes.split_at_mut(k);
            let input = done.last().map_or(x, |p| &p.out);
            rest[0].run(dev, input)?;
        }
        Ok(())
    }

    /// The merged frames (the input itself when no pass is needed: use [`MergeFrames::is_identity`]).
    pub fn out(&self) -> Option<&CudaSlice<T>> {
        self.passes.last().map(|p| &p.out)
    }

    pub fn is_identity(&self) -> bool {
        self.passes.is_empty()
    }
}

// ---- Attention ------------------------------------------------------------------------------

/// FlashAttention-style causal attention (`attn_flash_*`): O `[heads, n, d]`.
pub struct FlashAttention<T: Element> {
    pub shape: AttnShape,
    pub out: CudaSlice<T>,
}

impl<T: Element> FlashAttention<T> {
    pub fn new(dev: &Device, shape: AttnShape) -> Result<Self, KernelError> {
        shape.check("attention")?;
        Ok(FlashAttention {
            shape,
            out: dev.zeros(shape.q_len())?,
        })
    }

    pub fn run(
        &mut self,
        dev: &Device,
        q: &CudaSlice<T>,
        k: &CudaSlice<T>,
        v: &CudaSlice<T>,
    ) -> Result<(), KernelError> {
        let s = self.shape;
        check_len("attention", "Q", q, s.q_len())?;
        check_len("attention", "K", k, s.kv_len())?;
        check_len("attention", "V", v, s.kv_len())?;
        let name = head_dim_entry(
            "attention",
            &s,
            T::DTYPE,
            [
                ["attn_flash_d64_f32", "attn_flash_d64_bf16"],
                ["attn_flash_d128_f32", "attn_flash_d128_bf16"],
            ],
        )?;
        let f = dev.function(KernelSource::Attention, name)?;
        let (h, hkv, n, scale) = (
            s.heads as i32,
            s.kv_heads as i32,
            s.tokens as i32,
            s.scale(),
        );
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(q)
            .arg(k)
            .arg(v)
            .arg(&mut self.out)
            .arg(&h)
            .arg(&hkv)
            .arg(&n)
            .arg(&scale);
        let config = launch::attn_flash(&s)?;
        // SAFETY: matches attn_flash_d*_*(const T*, const T*, const T*, T*, int, int, int,
        // float); lengths checked above; 128 threads as TILE_THREADS requires.
        dev.launched(name, unsafe { launch.launch(config.into()) })
    }
}

/// Eager causal attention: logits (the tensor a pruning layer reads), softmax, then P V.
pub struct EagerAttention<T: Element> {
    pub shape: AttnShape,
    /// `[heads, n, n]` f32, `-inf` above the diagonal.
    pub logits: CudaSlice<f32>,
    /// `[heads, n, n]` f32, lower triangle valid.
    pub probs: CudaSlice<f32>,
    pub out: CudaSlice<T>,
}

impl<T: Element> EagerAttention<T> {
    pub fn new(dev: &Device, shape: AttnShape) -> Result<Self, KernelError> {
        shape.check("eager attention")?;
        let nn = shape.heads * shape.tokens * shape.tokens;
        Ok(EagerAttention {
            shape,
            logits: dev.zeros(nn)?,
            probs: dev.zeros(nn)?,
            out: dev.zeros(shape.q_len())?,
        })
    }

    /// Only the logits (`attn_logits_*`).
    pub fn run_logits(
        &mut self,
        dev: &Device,
        q: &CudaSlice<T>,
        k: &CudaSlice<T>,
    ) -> Result<(), KernelError> {
        launch_logits(dev, "eager attention", &self.shape, q, k, &mut self.logits)
    }

    /// Logits, softmax and P V: the whole eager attention.
    pub fn run(
        &mut self,
        dev: &Device,
        q: &CudaSlice<T>,
        k: &CudaSlice<T>,
        v: &CudaSlice<T>,
    ) -> Result<(), KernelError> {
        self.run_logits(dev, q, k)?;
        let s = self.shape;
        check_len("eager attention", "V", v, s.kv_len())?;
        let (h, hkv, n) = (s.heads as i32, s.kv_heads as i32, s.tokens as i32);

        let f = dev.function(KernelSource::Attention, "attn_softmax")?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(&self.logits)
            .arg(&mut self.probs)
            .arg(&h)
            .arg(&n);
        let config = launch::row_softmax(s.heads, s.tokens)?;
        // SAFETY: matches attn_softmax(const float*, float*, int, int); grid (n, H).
        dev.launched("attn_softmax", unsafe { launch.launch(config.into()) })?;

        let name = head_dim_entry(
            "eager attention",
            &s,
            T::DTYPE,
            [
                ["attn_pv_d64_f32", "attn_pv_d64_bf16"],
                ["attn_pv_d128_f32", "attn_pv_d128_bf16"],
            ],
        )?;
        let f = dev.function(KernelSource::Attention, name)?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(&self.probs)
            .arg(v)
            .arg(&mut self.out)
            .arg(&h)
            .arg(&hkv)
            .arg(&n);
        let config = launch::attn_pv(&s)?;
        // SAFETY: matches attn_pv_d*_*(const float*, const T*, T*, int, int, int).
        dev.launched(name, unsafe { launch.launch(config.into()) })
    }
}

/// `attn_logits_*`: masked, scaled `q · k` for every (query, key) pair into `logits` `[heads, n,
/// n]` f32 (`-inf` above the diagonal).
fn launch_logits<T: Element>(
    dev: &Device,
    kernel: &'static str,
    s: &AttnShape,
    q: &CudaSlice<T>,
    k: &CudaSlice<T>,
    logits: &mut CudaSlice<f32>,
) -> Result<(), KernelError> {
    check_len(kernel, "Q", q, s.q_len())?;
    check_len(kernel, "K", k, s.kv_len())?;
    check_len(kernel, "logits", logits, s.heads * s.tokens * s.tokens)?;
    let name = head_dim_entry(
        kernel,
        s,
        T::DTYPE,
        [
            ["attn_logits_d64_f32", "attn_logits_d64_bf16"],
            ["attn_logits_d128_f32", "attn_logits_d128_bf16"],
        ],
    )?;
    let f = dev.function(KernelSource::Attention, name)?;
    let (h, hkv, n, scale) = (
        s.heads as i32,
        s.kv_heads as i32,
        s.tokens as i32,
        s.scale(),
    );
    let mut launch = dev.stream.launch_builder(&f);
    launch
        .arg(q)
        .arg(k)
        .arg(logits)
        .arg(&h)
        .arg(&hkv)
        .arg(&n)
        .arg(&scale);
    let config = launch::attn_logits(s)?;
    // SAFETY: matches attn_logits_d*_*(const T*, const T*, float*, int, int, int, float);
    // logits holds heads*n*n floats (checked above); every store is bounds-checked.
    dev.launched(name, unsafe { launch.launch(config.into()) })
}

/// Only the causal logits `[heads, n, n]` f32, without the softmax and `P V` buffers of
/// [`EagerAttention`]: the input of [`PageRankMaterialised`] when attention itself ran fused
/// (the importance must recompute `Q Kᵀ` and write it out).
pub struct AttentionLogits<T: Element> {
    pub shape: AttnShape,
    /// `[heads, n, n]` f32, `-inf` above the diagonal, after [`AttentionLogits::run`].
    pub logits: CudaSlice<f32>,
    _element: std::marker::PhantomData<T>,
}

impl<T: Element> AttentionLogits<T> {
    pub fn new(dev: &Device, shape: AttnShape) -> Result<Self, KernelError> {
        shape.check("attention logits")?;
        Ok(AttentionLogits {
            shape,
            logits: dev.zeros(shape.heads * shape.tokens * shape.tokens)?,
            _element: std::marker::PhantomData,
        })
    }

    pub fn run(
        &mut self,
        dev: &Device,
        q: &CudaSlice<T>,
        k: &CudaSlice<T>,
    ) -> Result<(), KernelError> {
        launch_logits(dev, "attention logits", &self.shape, q, k, &mut self.logits)
    }
}

// ---- PageRank -------------------------------------------------------------------------------

/// Ping-pong distribution buffers and the final score, shared by both importance paths.
struct PowerState {
    dist: [CudaSlice<f32>; 2],
    score: CudaSlice<f32>,
}

impl PowerState {
    fn new(dev: &Device, heads: usize, n: usize) -> Result<Self, KernelError> {
        Ok(PowerState {
            dist: [dev.zeros(heads * n)?, dev.zeros(heads * n)?],
            score: dev.zeros(n)?,
        })
    }

    fn fill_uniform(&mut self, dev: &Device, heads: usize, n: usize) -> Result<(), KernelError> {
        let f = dev.function(KernelSource::PageRank, "pagerank_fill")?;
        let count = int("pagerank", "heads * n", heads * n)?;
        let value = 1.0f32 / n as f32;
        let config = launch::pagerank_fill(heads * n)?;
        let mut launch = dev.stream.launch_builder(&f);
        launch.arg(&mut self.dist[0]).arg(&count).arg(&value);
        // SAFETY: matches pagerank_fill(float*, int, float); dist[0] holds heads*n floats.
        dev.launched("pagerank_fill", unsafe { launch.launch(config.into()) })
    }

    /// RMS over heads of `dist[which]` into `score`.
    fn rms(
        &mut self,
        dev: &Device,
        which: usize,
        heads: usize,
        n: usize,
    ) -> Result<(), KernelError> {
        let f = dev.function(KernelSource::PageRank, "pagerank_rms")?;
        let (h, n_i) = (heads as i32, n as i32);
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(&self.dist[which])
            .arg(&mut self.score)
            .arg(&h)
            .arg(&n_i);
        let config = launch::pagerank_rms(n)?;
        // SAFETY: matches pagerank_rms(const float*, float*, int, int).
        dev.launched("pagerank_rms", unsafe { launch.launch(config.into()) })
    }
}

/// Importance from materialised logits: softmax writes M `[heads, n, n]`, five steps read it.
pub struct PageRankMaterialised {
    pub heads: usize,
    pub tokens: usize,
    pub temperature: f32,
    pub iterations: usize,
    probs: CudaSlice<f32>,
    state: PowerState,
}

impl PageRankMaterialised {
    pub fn new(
        dev: &Device,
        heads: usize,
        tokens: usize,
        temperature: f32,
        iterations: usize,
    ) -> Result<Self, KernelError> {
        if heads == 0 || tokens == 0 || !(temperature.is_finite() && temperature > 0.0) {
            return Err(KernelError::shape(
                "pagerank",
                format!("heads {heads}, tokens {tokens}, temperature {temperature}"),
            ));
        }
        int("pagerank", "tokens", tokens)?;
        int("pagerank", "heads", heads)?;
        Ok(PageRankMaterialised {
            heads,
            tokens,
            temperature,
            iterations,
            probs: dev.zeros(heads * tokens * tokens)?,
            state: PowerState::new(dev, heads, tokens)?,
        })
    }

    /// The importance `[n]` after [`PageRankMaterialised::run`].
    pub fn score(&self) -> &CudaSlice<f32> {
        &self.state.score
    }

    pub fn run(&mut self, dev: &Device, logits: &CudaSlice<f32>) -> Result<(), KernelError> {
        let (heads, n) = (self.heads, self.tokens);
        check_len("pagerank", "logits", logits, heads * n * n)?;
        let (h, n_i, inv_t) = (heads as i32, n as i32, 1.0f32 / self.temperature);

        let f = dev.function(KernelSource::PageRank, "pagerank_softmax")?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(logits)
            .arg(&mut self.probs)
            .arg(&h)
            .arg(&n_i)
            .arg(&inv_t);
        let config = launch::row_softmax(heads, n)?;
        // SAFETY: matches pagerank_softmax(const float*, float*, int, int, float); grid (n, H).
        dev.launched("pagerank_softmax", unsafe { launch.launch(config.into()) })?;

        self.state.fill_uniform(dev, heads, n)?;
        let f = dev.function(KernelSource::PageRank, "pagerank_step")?;
        let step = launch::pagerank_step(heads, n)?;
        for it in 0..self.iterations {
            let [d0, d1] = &mut self.state.dist;
            let (src, dst) = if it % 2 == 0 { (&*d0, d1) } else { (&*d1, d0) };
            let mut launch = dev.stream.launch_builder(&f);
            launch.arg(&self.probs).arg(src).arg(dst).arg(&h).arg(&n_i);
            // SAFETY: matches pagerank_step(const float*, const float*, float*, int, int); block
            // (32, 8) as the kernel requires.
            dev.launched("pagerank_step", unsafe { launch.launch(step.into()) })?;
        }
        self.state.rms(dev, self.iterations % 2, heads, n)
    }
}

/// The fused, FlashAttention-compatible importance: never stores `[heads, n, n]`.
pub struct PageRankFused<T: Element> {
    pub shape: AttnShape,
    pub temperature: f32,
    pub iterations: usize,
    row_max: CudaSlice<f32>,
    row_sum: CudaSlice<f32>,
    state: PowerState,
    _element: std::marker::PhantomData<T>,
}

impl<T: Element> PageRankFused<T> {
    pub fn new(
        dev: &Device,
        shape: AttnShape,
        temperature: f32,
        iterations: usize,
    ) -> Result<Self, KernelError> {
        shape.check("pagerank fused")?;
        if !(temperature.is_finite() && temperature > 0.0) {
            return Err(KernelError::shape(
                "pagerank fused",
                format!("temperature {temperature} must be finite and positive"),
            ));
        }
        let hn = shape.heads * shape.tokens;
        Ok(PageRankFused {
            shape,
            temperature,
            iterations,
            row_max: dev.zeros(hn)?,
            row_sum: dev.zeros(hn)?,
            state: PowerState::new(dev, shape.heads, shape.tokens)?,
            _element: std::marker::PhantomData,
        })
    }

    pub fn score(&self) -> &CudaSlice<f32> {
        &self.state.score
    }

    pub fn run(
        &mut self,
        dev: &Device,
        q: &CudaSlice<T>,
        k: &CudaSlice<T>,
    ) -> Result<(), KernelError> {
        let s = self.shape;
        check_len("pagerank fused", "Q", q, s.q_len())?;
        check_len("pagerank fused", "K", k, s.kv_len())?;
        let (h, hkv, n) = (s.heads as i32, s.kv_heads as i32, s.tokens as i32);
        let c_log2 = s.scale() * std::f32::consts::LOG2_E / self.temperature;
        let grid: LaunchConfig = launch::pagerank_fused(&s)?.into();

        let name = head_dim_entry(
            "pagerank fused",
            &s,
            T::DTYPE,
            [
                ["pagerank_row_stats_d64_f32", "pagerank_row_stats_d64_bf16"],
                [
                    "pagerank_row_stats_d128_f32",
                    "pagerank_row_stats_d128_bf16",
                ],
            ],
        )?;
        let f = dev.function(KernelSource::PageRank, name)?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(q)
            .arg(k)
            .arg(&mut self.row_max)
            .arg(&mut self.row_sum)
            .arg(&h)
            .arg(&hkv)
            .arg(&n)
            .arg(&c_log2);
        // SAFETY: matches pagerank_row_stats_d*_*(const T*, const T*, float*, float*, int, int,
        // int, float); row buffers hold heads*n floats.
        dev.launched(name, unsafe { launch.launch(grid) })?;

        self.state.fill_uniform(dev, s.heads, s.tokens)?;
        let name = head_dim_entry(
            "pagerank fused",
            &s,
            T::DTYPE,
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
        let f = dev.function(KernelSource::PageRank, name)?;
        for it in 0..self.iterations {
            let [d0, d1] = &mut self.state.dist;
            let (src, dst) = if it % 2 == 0 { (&*d0, d1) } else { (&*d1, d0) };
            let mut launch = dev.stream.launch_builder(&f);
            launch
                .arg(q)
                .arg(k)
                .arg(&self.row_max)
                .arg(&self.row_sum)
                .arg(src)
                .arg(dst)
                .arg(&h)
                .arg(&hkv)
                .arg(&n)
                .arg(&c_log2);
            // SAFETY: matches pagerank_fused_step_d*_*(const T*, const T*, const float*, const
            // float*, const float*, float*, int, int, int, float).
            dev.launched(name, unsafe { launch.launch(grid) })?;
        }
        self.state.rms(dev, self.iterations % 2, s.heads, s.tokens)
    }
}

// ---- Pruning --------------------------------------------------------------------------------

/// Keep text + top-k visual tokens and gather their hidden states `[kept, width]`.
pub struct Prune<T: Element> {
    pub tokens: usize,
    pub width: usize,
    pub visual: Range<usize>,
    pub keep_visual: usize,
    flags: CudaSlice<i32>,
    /// Kept positions in sequence order, `[tokens - (visual.len() - keep_visual)]`.
    pub index: CudaSlice<i32>,
    count: CudaSlice<i32>,
    /// `[kept, width]` after [`Prune::run`].
    pub out: CudaSlice<T>,
}

impl<T: Element> Prune<T> {
    pub fn new(
        dev: &Device,
        tokens: usize,
        width: usize,
        visual: Range<usize>,
        keep_visual: usize,
    ) -> Result<Self, KernelError> {
        if visual.start > visual.end
            || visual.end > tokens
            || keep_visual > visual.len()
            || width == 0
        {
            return Err(KernelError::shape(
                "prune",
                format!("visual {visual:?}, keep {keep_visual}, tokens {tokens}, width {width}"),
            ));
        }
        int("prune", "tokens * width", tokens * width)?;
        let kept = tokens - (visual.len() - keep_visual);
        Ok(Prune {
            tokens,
            width,
            visual,
            keep_visual,
            flags: dev.zeros(tokens)?,
            index: dev.zeros(kept)?,
            count: dev.zeros(1)?,
            out: dev.zeros(kept * width)?,
        })
    }

    /// Kept tokens.
    pub fn kept(&self) -> usize {
        self.tokens - (self.visual.len() - self.keep_visual)
    }

    pub fn run(
        &mut self,
        dev: &Device,
        hidden: &CudaSlice<T>,
        score: &CudaSlice<f32>,
    ) -> Result<(), KernelError> {
        check_len("prune", "hidden", hidden, self.tokens * self.width)?;
        check_len("prune", "score", score, self.tokens)?;
        let (n, vb, ve, k) = (
            self.tokens as i32,
            self.visual.start as i32,
            self.visual.end as i32,
            self.keep_visual as i32,
        );
        let f = dev.function(KernelSource::PageRank, "select_flags")?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(score)
            .arg(&mut self.flags)
            .arg(&n)
            .arg(&vb)
            .arg(&ve)
            .arg(&k);
        let config = launch::select_flags(self.tokens)?;
        // SAFETY: matches select_flags(const float*, int*, int, int, int, int); 256 threads as
        // the kernel's shared chunk requires.
        dev.launched("select_flags", unsafe { launch.launch(config.into()) })?;

        let f = dev.function(KernelSource::PageRank, "select_compact")?;
        let capacity = self.kept() as i32;
        let config = launch::select_compact()?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(&self.flags)
            .arg(&mut self.index)
            .arg(&mut self.count)
            .arg(&n)
            .arg(&capacity);
        // SAFETY: matches select_compact(const int*, int*, int*, int, int); index holds
        // `capacity` = kept ints and the kernel writes only below it.
        dev.launched("select_compact", unsafe { launch.launch(config.into()) })?;

        let name = if T::DTYPE == Dtype::F32 {
            "gather_rows_f32"
        } else {
            "gather_rows_bf16"
        };
        let f = dev.function(KernelSource::PageRank, name)?;
        let (kept, width) = (self.kept() as i32, self.width as i32);
        let config = launch::gather_rows(self.kept())?;
        let mut launch = dev.stream.launch_builder(&f);
        launch
            .arg(hidden)
            .arg(&self.index)
            .arg(&mut self.out)
            .arg(&kept)
            .arg(&width);
        // SAFETY: matches gather_rows_*(const T*, const int*, T*, int, int); grid = kept rows.
        dev.launched(name, unsafe { launch.launch(config.into()) })
    }

    /// Kept tokens as counted on the device (must equal [`Prune::kept`]).
    pub fn device_count(&self, dev: &Device) -> Result<usize, KernelError> {
        Ok(dev.download(&self.count)?[0].max(0) as usize)
    }
}

// ---- Layer passes ---------------------------------------------------------------------------

fn layer_entry<T: Element>(f32_name: &'static str, bf16_name: &'static str) -> &'static str {
    match T::DTYPE {
        Dtype::F32 => f32_name,
        Dtype::Bf16 => bf16_name,
    }
}

/// RMSNorm of `x` `[rows, width]` with `weight` `[width]` into `out` (see `cpu::rmsnorm`).
pub fn rmsnorm<T: Element>(
    dev: &Device,
    x: &CudaSlice<T>,
    weight: &CudaSlice<T>,
    out: &mut CudaSlice<T>,
    width: usize,
    eps: f32,
) -> Result<(), KernelError> {
    if width == 0 || !x.len().is_multiple_of(width) {
        return Err(KernelError::shape(
            "rmsnorm",
            format!("{} elements are not rows of width {width}", x.len()),
        ));
    }
    check_len("rmsnorm", "weight", weight, width)?;
    check_len("rmsnorm", "out", out, x.len())?;
    let rows = x.len() / width;
    let (rows_i, width_i) = (
        int("rmsnorm", "rows", rows)?,
        int("rmsnorm", "width", width)?,
    );
    let name = layer_entry::<T>("layer_rmsnorm_f32", "layer_rmsnorm_bf16");
    let f = dev.function(KernelSource::Layers, name)?;
    let mut launch = dev.stream.launch_builder(&f);
    launch
        .arg(x)
        .arg(weight)
        .arg(out)
        .arg(&rows_i)
        .arg(&width_i)
        .arg(&eps);
    let config: LaunchConfig = launch::rmsnorm(rows)?.into();
    // SAFETY: matches layer_rmsnorm_*(const T*, const T*, T*, int, int, float); x and out hold
    // rows*width elements, weight width (checked above); one block per row, 256 threads.
    dev.launched(name, unsafe { launch.launch(config) })
}

/// RoPE in place on `x` `[rows, width]`, row `r` at position `r` (see `cpu::rope`).
pub fn rope<T: Element>(
    dev: &Device,
    x: &mut CudaSlice<T>,
    width: usize,
    head_dim: usize,
    theta: f32,
) -> Result<(), KernelError> {
    super::cpu::check_rope(x.len(), width, head_dim)?;
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
    let log2_theta = theta.log2();
    let name = layer_entry::<T>("layer_rope_f32", "layer_rope_bf16");
    let f = dev.function(KernelSource::Layers, name)?;
    let config: LaunchConfig = launch::rope(rows, width, head_dim, T::DTYPE).into();
    let mut launch = dev.stream.launch_builder(&f);
    launch
        .arg(x)
        .arg(&rows_i)
        .arg(&width_i)
        .arg(&d_i)
        .arg(&log2_theta);
    // SAFETY: matches layer_rope_*(T*, int, int, int, float); x holds rows*width elements,
    // head_dim is even and divides width (checked above); grid-stride, any grid is safe.
    dev.launched(name, unsafe { launch.launch(config) })
}

/// The flat two-input passes: `layer_swiglu_*` and `layer_add_*`.
fn binary_pass<T: Element>(
    dev: &Device,
    kernel: &'static str,
    name: &'static str,
    a: &CudaSlice<T>,
    b: &CudaSlice<T>,
    out: &mut CudaSlice<T>,
) -> Result<(), KernelError> {
    check_len(kernel, "second input", b, a.len())?;
    check_len(kernel, "out", out, a.len())?;
    let count = a.len() as i64;
    let f = dev.function(KernelSource::Layers, name)?;
    let mut launch = dev.stream.launch_builder(&f);
    launch.arg(a).arg(b).arg(out).arg(&count);
    // SAFETY: matches layer_{swiglu,add}_*(const T*, const T*, T*, long long); all three buffers
    // hold `count` elements (checked above); grid-stride, any grid is safe.
    dev.launched(name, unsafe {
        launch.launch(launch::flat(a.len(), T::DTYPE).into())
    })
}

/// `out = silu(gate) · up` (see `cpu::swiglu`).
pub fn swiglu<T: Element>(
    dev: &Device,
    gate: &CudaSlice<T>,
    up: &CudaSlice<T>,
    out: &mut CudaSlice<T>,
) -> Result<(), KernelError> {
    let name = layer_entry::<T>("layer_swiglu_f32", "layer_swiglu_bf16");
    binary_pass(dev, "swiglu", name, gate, up, out)
}

/// `out = a + b` (see `cpu::add`).
pub fn add<T: Element>(
    dev: &Device,
    a: &CudaSlice<T>,
    b: &CudaSlice<T>,
    out: &mut CudaSlice<T>,
) -> Result<(), KernelError> {
    let name = layer_entry::<T>("layer_add_f32", "layer_add_bf16");
    binary_pass(dev, "add", name, a, b, out)
}

/// `out = x` through `layer_copy_*` (a launch that does next to nothing: the launch probe).
pub fn copy<T: Element>(
    dev: &Device,
    x: &CudaSlice<T>,
    out: &mut CudaSlice<T>,
) -> Result<(), KernelError> {
    check_len("copy", "out", out, x.len())?;
    let count = x.len() as i64;
    let name = layer_entry::<T>("layer_copy_f32", "layer_copy_bf16");
    let f = dev.function(KernelSource::Layers, name)?;
    let mut launch = dev.stream.launch_builder(&f);
    launch.arg(x).arg(out).arg(&count);
    // SAFETY: matches layer_copy_*(const T*, T*, long long); both hold `count` elements.
    dev.launched(name, unsafe {
        launch.launch(launch::flat(x.len(), T::DTYPE).into())
    })
}
