//! The tests that need CUDA at run time: every kernel compiled by NVRTC, and every kernel run on
//! a GPU against its CPU reference — the same cases the emulator runs in `tests/emu.rs`.
//!
//! This target has its own harness (libtest-mimic, `harness = false`) so that a test whose
//! library or device is missing is reported as *ignored, with the reason*, never as passed:
//!
//! ```text
//! test gpu_merge_matches_cpu ... ignored (no GPU: the CUDA driver library (libcuda.so.1) is not installed)
//! ```
//!
//! `AIM_SIM_REQUIRE_NVRTC=1` turns a missing NVRTC into a failure (`.ci/run` sets it),
//! `AIM_SIM_REQUIRE_GPU=1` a missing GPU (`.ci/gpu-run.sh` sets both). The usual test flags work
//! (a name filter, `--exact`, `--test-threads`, `--list`).

mod kernel_cases;

use aim_sim::kernels::emu::ops::{EagerRun, EmuElement, MergeRun, PageRankRun, PruneRun};
use aim_sim::kernels::gpu::{self, Device};
use aim_sim::kernels::nvrtc::{self, Compiled, Target};
use aim_sim::kernels::{
    cpu, AttnShape, Dtype, Element, KernelError, KernelSource, PAGERANK_ITERATIONS,
    PAGERANK_TEMPERATURE,
};
use cudarc::driver::CudaSlice;
use kernel_cases::*;
use libtest_mimic::{Arguments, Completion, Failed, Trial};
use std::ops::Range;
use std::process::ExitCode;
use std::sync::OnceLock;

fn main() -> ExitCode {
    let args = Arguments::from_args();
    let trials = vec![
        Trial::test(
            "cuda_status_never_panics_and_explains_itself",
            status_explains_itself,
        ),
        nvrtc_trial(
            "nvrtc_compiles_every_kernel_for_sm80_and_sm90",
            every_kernel_compiles,
        ),
        nvrtc_trial("nvrtc_reports_the_compiler_log", broken_kernel_log),
        nvrtc_trial("nvrtc_cache_reuses_compiled_kernels", cache_reuses_kernels),
        gpu_trial("gpu_libraries_are_cuda_13", libraries_are_cuda_13),
        gpu_trial("gpu_merge_matches_cpu", |dev| merge_suite(&Gpu(dev))),
        gpu_trial("gpu_attention_matches_cpu", |dev| {
            attention_suite(&Gpu(dev))
        }),
        gpu_trial("gpu_pagerank_matches_cpu", |dev| pagerank_suite(&Gpu(dev))),
        gpu_trial("gpu_prune_matches_cpu", |dev| prune_suite(&Gpu(dev))),
        gpu_trial("gpu_layer_passes_match_cpu", |dev| layers_suite(&Gpu(dev))),
        gpu_trial(
            "gpu_launchers_refuse_what_they_cannot_run",
            launchers_refuse,
        ),
        gpu_trial("gpu_short_run_of_every_kernel", short_run),
    ];
    libtest_mimic::run(&args, trials).exit_code()
}

fn required(var: &str) -> bool {
    std::env::var(var).as_deref() == Ok("1")
}

/// Why a test cannot run here: a missing library or device is a skip (unless required), a
/// present but broken one a failure.
enum Missing {
    Skip(String),
    Broken(String),
}

fn outcome(result: Result<CaseResult, Missing>, require_var: &str) -> Result<Completion, Failed> {
    match result {
        Ok(Ok(())) => Ok(Completion::Completed),
        Ok(Err(e)) => Err(e.into()),
        Err(Missing::Broken(e)) => Err(e.into()),
        Err(Missing::Skip(reason)) if required(require_var) => {
            Err(format!("{require_var}=1 but {reason}").into())
        }
        Err(Missing::Skip(reason)) => Ok(Completion::ignored_with(reason)),
    }
}

fn nvrtc_trial(name: &'static str, test: fn() -> CaseResult) -> Trial {
    Trial::ignorable_test(name, move || {
        let ready = nvrtc::nvrtc_status().map_err(Missing::Skip).map(|_| test());
        outcome(ready, "AIM_SIM_REQUIRE_NVRTC")
    })
}

/// One device for every GPU test of the process: the kernels are compiled once.
fn device() -> Result<&'static Device, Missing> {
    static DEVICE: OnceLock<Result<Device, (bool, String)>> = OnceLock::new();
    let opened = DEVICE.get_or_init(|| match Device::open(0) {
        Ok(dev) => {
            dev.set_sync_after_launch(true);
            Ok(dev)
        }
        Err(e) if e.is_unavailable() => Err((true, e.to_string())),
        Err(e) => Err((false, format!("a GPU is present but unusable: {e}"))),
    });
    match opened {
        Ok(dev) => Ok(dev),
        Err((true, reason)) => Err(Missing::Skip(reason.clone())),
        Err((false, e)) => Err(Missing::Broken(e.clone())),
    }
}

fn gpu_trial(name: &'static str, test: fn(&Device) -> CaseResult) -> Trial {
    Trial::ignorable_test(name, move || {
        outcome(device().map(test), "AIM_SIM_REQUIRE_GPU")
    })
}

// ---- Without a GPU --------------------------------------------------------------------------

fn status_explains_itself() -> Result<(), Failed> {
    match gpu::gpu_status() {
        Ok(()) => Ok(()),
        Err(reason) => {
            if reason.is_empty() || reason.contains('\n') {
                return Err(format!("not a one-line reason: {reason:?}").into());
            }
            match Device::open(0) {
                Err(e) if e.is_unavailable() => Ok(()),
                other => {
                    Err(format!("gpu_status says {reason:?}, Device::open gives {other:?}").into())
                }
            }
        }
    }
}

// ---- NVRTC ----------------------------------------------------------------------------------

fn every_kernel_compiles() -> CaseResult {
    for source in KernelSource::ALL {
        for sm in [80, 90] {
            let out = nvrtc::compile(source, Target::Ptx { sm }).map_err(|e| e.to_string())?;
            if out.log.to_lowercase().contains("warning") {
                return Err(format!(
                    "{} sm_{sm} compiles with warnings:\n{}",
                    source.file_name(),
                    out.log
                ));
            }
            let Compiled::Ptx(ptx) = out.code else {
                return Err("asked for PTX".into());
            };
            if !ptx.contains(&format!(".target sm_{sm}")) {
                return Err(format!("{}: no .target sm_{sm}", source.file_name()));
            }
            for name in source.entry_points() {
                if !ptx.contains(&format!(".entry {name}(")) {
                    return Err(format!(
                        "{}: entry point {name} missing from the PTX for sm_{sm}",
                        source.file_name()
                    ));
                }
            }
            match nvrtc::compile(source, Target::Cubin { sm })
                .map_err(|e| e.to_string())?
                .code
            {
                Compiled::Cubin(bytes) if bytes.starts_with(b"\x7fELF") => {}
                _ => return Err(format!("{} sm_{sm}: not a CUBIN", source.file_name())),
            }
        }
    }
    Ok(())
}

fn broken_kernel_log() -> CaseResult {
    let broken = "#include \"common.cuh\"\nextern \"C\" __global__ void k(float* x) { x[0] = to_f32(undefined_name); }";
    let text = match nvrtc::compile_source("kernels/broken.cu", broken, Target::Ptx { sm: 90 }) {
        Ok(_) => return Err("a broken kernel compiled".into()),
        Err(e) => e.to_string(),
    };
    if !(text.contains("kernels/broken.cu")
        && text.contains("compute_90")
        && text.contains("undefined_name"))
    {
        return Err(format!(
            "the log does not name the file, the target and the culprit: {text}"
        ));
    }
    // The shared header resolves: a correct source using it compiles.
    let fine = "#include \"common.cuh\"\nextern \"C\" __global__ void k(float* x, const bf16_t* y) { x[0] = warp_sum(to_f32(y[0])); }";
    nvrtc::compile_source("kernels/fine.cu", fine, Target::Ptx { sm: 80 })
        .map_err(|e| e.to_string())?;
    Ok(())
}

fn cache_reuses_kernels() -> CaseResult {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let target = Target::Cubin { sm: 90 };
    let first = nvrtc::compile_cached_in(Some(dir.path()), KernelSource::Layers, target)
        .map_err(|e| e.to_string())?;
    let files: Vec<_> = std::fs::read_dir(dir.path())
        .map_err(|e| e.to_string())?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    let [file] = files.as_slice() else {
        return Err(format!("one cached file expected, found {files:?}"));
    };
    let (Compiled::Cubin(a), Compiled::Cubin(b)) = (
        first.code,
        nvrtc::compile_cached_in(Some(dir.path()), KernelSource::Layers, target)
            .map_err(|e| e.to_string())?
            .code,
    ) else {
        return Err("asked for CUBINs".into());
    };
    if a != b {
        return Err("the cached CUBIN differs from the compiled one".into());
    }
    // A damaged entry is compiled again and replaced.
    std::fs::write(file, b"garbage").map_err(|e| e.to_string())?;
    let again = nvrtc::compile_cached_in(Some(dir.path()), KernelSource::Layers, target)
        .map_err(|e| e.to_string())?;
    match again.code {
        Compiled::Cubin(c) if c == a && std::fs::read(file).map_err(|e| e.to_string())? == a => {
            Ok(())
        }
        _ => Err("a damaged cache entry was not replaced".into()),
    }
}

// ---- The GPU --------------------------------------------------------------------------------

/// The loaded libcuda, libnvrtc and libcublas are CUDA 13 and no stubs (cudarc opens them by bare
/// name, so whatever `LD_LIBRARY_PATH` offers first is what runs).
fn libraries_are_cuda_13(dev: &Device) -> CaseResult {
    let blas =
        cudarc::cublas::CudaBlas::new(dev.stream().clone()).map_err(|e| format!("cuBLAS: {e}"))?;
    let mut driver = 0;
    // SAFETY: the driver library is loaded (the device is open); `driver` is valid for writes.
    unsafe { cudarc::driver::sys::cuDriverGetVersion(&mut driver) };
    let mut cublas = 0;
    // SAFETY: `blas` holds a live handle; `cublas` is valid for writes.
    unsafe { cudarc::cublas::sys::cublasGetVersion_v2(*blas.handle(), &mut cublas) };
    let (nvrtc_major, nvrtc_minor) = nvrtc::nvrtc_status()?;
    let maps = std::fs::read_to_string("/proc/self/maps").unwrap_or_default();
    let mut loaded: Vec<&str> = maps
        .lines()
        .filter_map(|l| l.split_whitespace().nth(5))
        .filter(|p| {
            ["libcuda.so", "libnvrtc", "libcublas"]
                .iter()
                .any(|n| p.contains(n))
        })
        .collect();
    loaded.sort();
    loaded.dedup();
    println!(
        "{}: driver CUDA {}.{}, NVRTC {nvrtc_major}.{nvrtc_minor}, cuBLAS {cublas}; loaded {loaded:?}",
        dev.name(),
        driver / 1000,
        driver % 1000 / 10
    );
    if let Some(stub) = loaded.iter().find(|p| p.contains("/stubs/")) {
        return Err(format!("a stub library is loaded: {stub}"));
    }
    if driver < 13000 || nvrtc_major != 13 || cublas / 10000 != 13 {
        return Err(format!(
            "want CUDA 13 libraries: driver {driver}, NVRTC {nvrtc_major}.{nvrtc_minor}, cuBLAS {cublas} ({loaded:?})"
        ));
    }
    Ok(())
}

/// The kernels on a device, as the plans of `aim_sim::kernels::gpu` run them. Outputs are cut to
/// their logical length (an empty buffer is allocated with one element).
struct Gpu<'a>(&'a Device);

fn cut<T>(mut v: Vec<T>, len: usize) -> Vec<T> {
    v.truncate(len);
    v
}

/// The cases' element type `T` as the launchers' type `U` (the same type, f32 or bf16: exact).
fn to_device<U: Element, T: EmuElement>(x: &[T]) -> Vec<U> {
    x.iter().map(|v| U::from_f32(v.to_f32())).collect()
}

fn from_device<T: EmuElement, U: Element>(x: Vec<U>) -> Vec<T> {
    x.into_iter().map(|v| T::from_f32(v.to_f32())).collect()
}

/// Runs `$self.$method::<U, T>(args)` with `U` the launchers' type of `T`.
macro_rules! by_type {
    ($t:ty, $self:ident . $method:ident ( $($arg:expr),* )) => {
        match <$t as EmuElement>::DTYPE {
            Dtype::F32 => $self.$method::<f32, $t>($($arg),*),
            Dtype::Bf16 => $self.$method::<half::bf16, $t>($($arg),*),
        }
    };
}

impl Gpu<'_> {
    fn merge_pass_as<U: Element, T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        r: usize,
    ) -> Result<MergeRun<T>, KernelError> {
        let dev = self.0;
        let mut plan = gpu::MergePass::<U>::new(dev, frames, tokens, dim, r)?;
        plan.run(dev, &dev.upload(&to_device::<U, T>(x))?)?;
        let n_a = tokens.div_ceil(2);
        Ok(MergeRun {
            scores: dev.download(&plan.scores)?,
            dst: dev.download(&plan.dst)?,
            unmerged: cut(dev.download(&plan.unmerged)?, frames * (n_a - r)),
            out: from_device(dev.download(&plan.out)?),
        })
    }

    fn merge_frames_as<U: Element, T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        target: usize,
    ) -> Result<Vec<T>, KernelError> {
        let dev = self.0;
        let mut plan = gpu::MergeFrames::<U>::new(dev, frames, tokens, dim, target)?;
        if plan.is_identity() {
            return Ok(x.to_vec());
        }
        plan.run(dev, &dev.upload(&to_device::<U, T>(x))?)?;
        Ok(from_device(
            dev.download(plan.out().expect("at least one pass"))?,
        ))
    }

    fn flash_as<U: Element, T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<Vec<T>, KernelError> {
        let dev = self.0;
        let mut plan = gpu::FlashAttention::<U>::new(dev, *s)?;
        let up = |x: &[T]| dev.upload(&to_device::<U, T>(x));
        plan.run(dev, &up(q)?, &up(k)?, &up(v)?)?;
        Ok(from_device(dev.download(&plan.out)?))
    }

    fn eager_as<U: Element, T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<EagerRun<T>, KernelError> {
        let dev = self.0;
        let mut plan = gpu::EagerAttention::<U>::new(dev, *s)?;
        let up = |x: &[T]| dev.upload(&to_device::<U, T>(x));
        plan.run(dev, &up(q)?, &up(k)?, &up(v)?)?;
        Ok(EagerRun {
            logits: dev.download(&plan.logits)?,
            probs: dev.download(&plan.probs)?,
            out: from_device(dev.download(&plan.out)?),
        })
    }

    fn pagerank_fused_as<U: Element, T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
    ) -> Result<PageRankRun, KernelError> {
        let dev = self.0;
        let mut plan =
            gpu::PageRankFused::<U>::new(dev, *s, PAGERANK_TEMPERATURE, PAGERANK_ITERATIONS)?;
        let up = |x: &[T]| dev.upload(&to_device::<U, T>(x));
        plan.run(dev, &up(q)?, &up(k)?)?;
        Ok(PageRankRun {
            probs: Vec::new(),
            row_max: Vec::new(),
            row_sum: Vec::new(),
            dist: Vec::new(),
            score: dev.download(plan.score())?,
        })
    }

    fn prune_as<U: Element, T: EmuElement>(
        &self,
        hidden: &[T],
        width: usize,
        score: &[f32],
        visual: Range<usize>,
        keep_visual: usize,
    ) -> Result<PruneRun<T>, KernelError> {
        let dev = self.0;
        let mut plan = gpu::Prune::<U>::new(dev, score.len(), width, visual, keep_visual)?;
        plan.run(
            dev,
            &dev.upload(&to_device::<U, T>(hidden))?,
            &dev.upload(score)?,
        )?;
        let kept = plan.kept();
        Ok(PruneRun {
            flags: Vec::new(),
            index: cut(dev.download(&plan.index)?, kept),
            count: plan.device_count(dev)? as i32,
            out: cut(from_device(dev.download(&plan.out)?), kept * width),
        })
    }

    /// An output buffer of NaNs: an element a kernel does not write fails the comparison.
    fn nans<U: Element>(&self, len: usize) -> Result<CudaSlice<U>, KernelError> {
        self.0.upload(&vec![U::from_f32(f32::NAN); len])
    }

    fn rmsnorm_as<U: Element, T: EmuElement>(
        &self,
        x: &[T],
        w: &[T],
        width: usize,
    ) -> Result<Vec<T>, KernelError> {
        let dev = self.0;
        let mut out = self.nans::<U>(x.len())?;
        let (dx, dw) = (
            dev.upload(&to_device::<U, T>(x))?,
            dev.upload(&to_device::<U, T>(w))?,
        );
        gpu::rmsnorm(dev, &dx, &dw, &mut out, width, cpu::RMSNORM_EPS)?;
        Ok(from_device(dev.download(&out)?))
    }

    fn rope_as<U: Element, T: EmuElement>(
        &self,
        x: &[T],
        width: usize,
        head_dim: usize,
    ) -> Result<Vec<T>, KernelError> {
        let dev = self.0;
        let mut dx = dev.upload(&to_device::<U, T>(x))?;
        gpu::rope(dev, &mut dx, width, head_dim, cpu::ROPE_THETA)?;
        Ok(from_device(dev.download(&dx)?))
    }

    /// `op` 0: SwiGLU, 1: add, 2: copy of `a`.
    fn flat_as<U: Element, T: EmuElement>(
        &self,
        op: u8,
        a: &[T],
        b: &[T],
    ) -> Result<Vec<T>, KernelError> {
        let dev = self.0;
        let mut out = self.nans::<U>(a.len())?;
        let (da, db) = (
            dev.upload(&to_device::<U, T>(a))?,
            dev.upload(&to_device::<U, T>(b))?,
        );
        match op {
            0 => gpu::swiglu(dev, &da, &db, &mut out)?,
            1 => gpu::add(dev, &da, &db, &mut out)?,
            _ => gpu::copy(dev, &da, &mut out)?,
        }
        Ok(from_device(dev.download(&out)?))
    }
}

impl Backend for Gpu<'_> {
    fn merge_pass<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        r: usize,
    ) -> Result<MergeRun<T>, KernelError> {
        by_type!(T, self.merge_pass_as(x, frames, tokens, dim, r))
    }
    fn merge_frames<T: EmuElement>(
        &self,
        x: &[T],
        frames: usize,
        tokens: usize,
        dim: usize,
        target: usize,
    ) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.merge_frames_as(x, frames, tokens, dim, target))
    }
    fn flash<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.flash_as(s, q, k, v))
    }
    fn eager<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
        v: &[T],
    ) -> Result<EagerRun<T>, KernelError> {
        by_type!(T, self.eager_as(s, q, k, v))
    }
    fn pagerank_materialised(
        &self,
        logits: &[f32],
        heads: usize,
        tokens: usize,
    ) -> Result<PageRankRun, KernelError> {
        let dev = self.0;
        let mut plan = gpu::PageRankMaterialised::new(
            dev,
            heads,
            tokens,
            PAGERANK_TEMPERATURE,
            PAGERANK_ITERATIONS,
        )?;
        plan.run(dev, &dev.upload(logits)?)?;
        Ok(PageRankRun {
            probs: Vec::new(),
            row_max: Vec::new(),
            row_sum: Vec::new(),
            dist: Vec::new(),
            score: dev.download(plan.score())?,
        })
    }
    fn pagerank_fused<T: EmuElement>(
        &self,
        s: &AttnShape,
        q: &[T],
        k: &[T],
    ) -> Result<PageRankRun, KernelError> {
        by_type!(T, self.pagerank_fused_as(s, q, k))
    }
    fn prune<T: EmuElement>(
        &self,
        hidden: &[T],
        width: usize,
        score: &[f32],
        visual: Range<usize>,
        keep_visual: usize,
    ) -> Result<PruneRun<T>, KernelError> {
        by_type!(T, self.prune_as(hidden, width, score, visual, keep_visual))
    }
    fn rmsnorm<T: EmuElement>(
        &self,
        x: &[T],
        w: &[T],
        width: usize,
    ) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.rmsnorm_as(x, w, width))
    }
    fn rope<T: EmuElement>(
        &self,
        x: &[T],
        width: usize,
        head_dim: usize,
    ) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.rope_as(x, width, head_dim))
    }
    fn swiglu<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.flat_as(0, a, b))
    }
    fn add<T: EmuElement>(&self, a: &[T], b: &[T]) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.flat_as(1, a, b))
    }
    fn copy<T: EmuElement>(&self, x: &[T]) -> Result<Vec<T>, KernelError> {
        by_type!(T, self.flat_as(2, x, x))
    }
}

fn launchers_refuse(dev: &Device) -> CaseResult {
    let ten = dev.upload(&[1.0f32; 10]).map_err(|e| e.to_string())?;
    let mut nine = dev.upload(&[0.0f32; 9]).map_err(|e| e.to_string())?;
    if gpu::add(dev, &ten, &ten, &mut nine).is_ok() {
        return Err("add accepted an output of the wrong length".into());
    }
    let shape = AttnShape {
        heads: 2,
        kv_heads: 1,
        tokens: 8,
        head_dim: 96,
    };
    if gpu::FlashAttention::<f32>::new(dev, shape)
        .and_then(|mut p| {
            let q = dev.upload(&vec![0.0f32; shape.q_len()])?;
            let k = dev.upload(&vec![0.0f32; shape.kv_len()])?;
            p.run(dev, &q, &k, &k)
        })
        .is_ok()
    {
        return Err("flash attention ran with head dim 96".into());
    }
    match gpu::MergePass::<f32>::new(dev, 70_000, 4, 1, 2) {
        Err(KernelError::LaunchLimit { .. }) => Ok(()),
        other => Err(format!("70 000 frames: {:?}", other.map(|_| ()))),
    }
}

/// One small case of every operation in both element types and head dims: the run
/// compute-sanitizer checks (`.ci/gpu-run.sh`).
fn short_run(dev: &Device) -> CaseResult {
    use half::bf16;
    let b = Gpu(dev);
    let mut results = vec![
        merge_case::<f32>(&b, 2, 20, 40, 5, 1),
        merge_case::<bf16>(&b, 1, 21, 8, 10, 1),
        pagerank_materialised_case(&b, 2, 40, 1),
        prune_case::<f32>(&b, 300, 4, 3..290, 9, Scores::NaNs, 1),
        prune_case::<bf16>(&b, 1100, 4, 3..1027, 900, Scores::Ties, 1),
    ];
    for d in [64, 128] {
        let s = shape(4, 2, 40, d);
        results.push(flash_case::<f32>(&b, &s, 1));
        results.push(flash_case::<bf16>(&b, &s, 1));
        results.push(eager_case::<f32>(&b, &s, 1));
        results.push(eager_case::<bf16>(&b, &s, 1));
        results.push(pagerank_fused_case::<f32>(&b, &s, 1));
        results.push(pagerank_fused_case::<bf16>(&b, &s, 1));
    }
    results.push(rmsnorm_case::<f32>(&b, 3, 203, 1));
    results.push(rmsnorm_case::<bf16>(&b, 3, 256, 1));
    results.push(rope_case::<f32>(&b, 5, 2, 64, 1));
    results.push(rope_case::<bf16>(&b, 5, 2, 12, 1));
    results.push(swiglu_case::<f32>(&b, 1003, 1));
    results.push(swiglu_case::<bf16>(&b, 1003, 1));
    results.push(add_and_copy_case::<f32>(&b, 1003, 1));
    results.push(add_and_copy_case::<bf16>(&b, 1003, 1));
    all(results)
}
