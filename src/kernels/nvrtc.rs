//! Run-time compilation of `kernels/*.cu` with NVRTC. `common.cuh` is registered as an NVRTC
//! in-memory header, so sources include it exactly as a file compiler would.
//!
//! libnvrtc is opened on first use. Without it, [`compile`] returns
//! [`KernelError::Unavailable`]: cudarc would panic, so presence is checked first and the call
//! is wrapped in `catch_unwind` as a second guard.

use super::{KernelError, KernelSource, COMMON_HEADER};
use cudarc::nvrtc::{result, sys};
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What to ask NVRTC for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// PTX for the virtual architecture `compute_XY` (`sm` = 10 X + Y, e.g. 90).
    Ptx { sm: u32 },
    /// A CUBIN for the real architecture `sm_XY`: what a device loads without JIT, immune to
    /// "PTX newer than the driver" (rust-cuda-stack.md).
    Cubin { sm: u32 },
}

impl Target {
    /// The `--gpu-architecture` value.
    pub fn arch(&self) -> String {
        match self {
            Target::Ptx { sm } => format!("compute_{sm}"),
            Target::Cubin { sm } => format!("sm_{sm}"),
        }
    }
}

/// A successful compilation: the code and NVRTC's log (warnings; empty when clean).
#[derive(Debug, Clone)]
pub struct Output {
    pub code: Compiled,
    pub log: String,
}

/// NVRTC's code output.
#[derive(Debug, Clone)]
pub enum Compiled {
    Ptx(String),
    Cubin(Vec<u8>),
}

impl Compiled {
    /// Into the form cudarc loads.
    pub fn into_cudarc(self) -> cudarc::nvrtc::Ptx {
        match self {
            Compiled::Ptx(text) => cudarc::nvrtc::Ptx::from_src(text),
            Compiled::Cubin(bytes) => cudarc::nvrtc::Ptx::from_binary(bytes),
        }
    }
}

/// The advice printed whenever libnvrtc cannot be opened.
pub const NVRTC_HINT: &str = "libnvrtc.so.13 not found (run .ci/install-nvrtc.sh and set LD_LIBRARY_PATH to the folder it prints)";

/// NVRTC's version `(major, minor)`, or a one-line reason it cannot be used.
pub fn nvrtc_status() -> Result<(i32, i32), String> {
    // SAFETY: only tries to dlopen the library by its candidate names; never panics.
    if !unsafe { sys::is_culib_present() } {
        return Err(NVRTC_HINT.to_string());
    }
    catch_unwind(|| {
        let (mut major, mut minor) = (0, 0);
        // SAFETY: both pointers are valid for writes.
        unsafe { sys::nvrtcVersion(&mut major, &mut minor) }
            .result()
            .map(|()| (major, minor))
            .map_err(|e| format!("nvrtcVersion failed: {e}"))
    })
    .unwrap_or_else(|_| Err(format!("NVRTC could not be loaded: {NVRTC_HINT}")))
}

/// Compiles one kernel source for `target`. Options: C++17, IEEE division and square root (the
/// CPU references are compared at 1e-5), FMA contraction on.
pub fn compile(source: KernelSource, target: Target) -> Result<Output, KernelError> {
    compile_source(source.file_name(), source.source(), target)
}

/// Compiles CUDA C `text` (which may `#include "common.cuh"`), named `file` in messages.
pub fn compile_source(
    file: &'static str,
    text: &str,
    target: Target,
) -> Result<Output, KernelError> {
    nvrtc_status().map_err(KernelError::Unavailable)?;
    match catch_unwind(AssertUnwindSafe(|| compile_unguarded(file, text, target))) {
        Ok(result) => result,
        Err(_) => Err(KernelError::Unavailable(format!(
            "NVRTC panicked while compiling {file}: {NVRTC_HINT}"
        ))),
    }
}

/// An NVRTC program that is destroyed when dropped.
struct Program(sys::nvrtcProgram);

impl Drop for Program {
    fn drop(&mut self) {
        // SAFETY: the handle came from nvrtcCreateProgram and is destroyed exactly once.
        let _ = unsafe { result::destroy_program(self.0) };
    }
}

fn compile_unguarded(
    file: &'static str,
    text: &str,
    target: Target,
) -> Result<Output, KernelError> {
    let nvrtc_err = |step: &'static str| {
        move |e: result::NvrtcError| KernelError::Nvrtc {
            step,
            file,
            source: e,
        }
    };
    let no_nul = |what: &str| KernelError::Unavailable(format!("{what} contains a NUL byte"));
    let src = CString::new(text).map_err(|_| no_nul(file))?;
    let name = CString::new(file).map_err(|_| no_nul(file))?;
    let header = CString::new(COMMON_HEADER).map_err(|_| no_nul("common.cuh"))?;
    let header_name = c"common.cuh";
    let headers = [header.as_ptr()];
    let include_names = [header_name.as_ptr()];
    let mut prog: sys::nvrtcProgram = std::ptr::null_mut();
    // SAFETY: every pointer is a NUL-terminated string alive for the duration of the call and
    // of the program (they outlive `program` below); the arrays hold exactly one header.
    unsafe {
        sys::nvrtcCreateProgram(
            &mut prog,
            src.as_ptr(),
            name.as_ptr(),
            1,
            headers.as_ptr(),
            include_names.as_ptr(),
        )
    }
    .result()
    .map_err(nvrtc_err("create program"))?;
    let program = Program(prog);

    let arch = target.arch();
    let mut options = vec![
        format!("--gpu-architecture={arch}"),
        "--std=c++17".to_string(),
        "--fmad=true".to_string(),
        "--prec-div=true".to_string(),
        "--prec-sqrt=true".to_string(),
    ];
    if std::env::var_os("AIM_SIM_PTXAS_VERBOSE").is_some() && matches!(target, Target::Cubin { .. })
    {
        options.push("--ptxas-options=-v".to_string());
    }
    // SAFETY: `program.0` is a live program.
    if let Err(e) = unsafe { result::compile_program(program.0, &options) } {
        // SAFETY: as above; the log is NUL-terminated by NVRTC.
        let log = unsafe { result::get_program_log(program.0) }
            .map(|raw| c_chars_to_string(&raw))
            .unwrap_or_else(|log_err| format!("({e}; the log could not be read: {log_err})"));
        return Err(KernelError::Compile {
            file,
            arch,
            log: log.trim_end().to_string(),
        });
    }
    // SAFETY: compiled program; a warning-free build has an empty log.
    let log = unsafe { result::get_program_log(program.0) }
        .map(|raw| c_chars_to_string(&raw))
        .unwrap_or_default();
    let log = log.trim_end().to_string();
    let code = match target {
        Target::Ptx { .. } => {
            // SAFETY: compiled program.
            let raw = unsafe { result::get_ptx(program.0) }.map_err(nvrtc_err("get PTX"))?;
            Compiled::Ptx(c_chars_to_string(&raw))
        }
        Target::Cubin { .. } => {
            let mut size = 0usize;
            // SAFETY: compiled program; `size` is valid for writes.
            unsafe { sys::nvrtcGetCUBINSize(program.0, &mut size) }
                .result()
                .map_err(nvrtc_err("get CUBIN size"))?;
            let mut bytes = vec![0u8; size];
            // SAFETY: `bytes` holds the `size` bytes NVRTC writes.
            unsafe { sys::nvrtcGetCUBIN(program.0, bytes.as_mut_ptr() as *mut c_char) }
                .result()
                .map_err(nvrtc_err("get CUBIN"))?;
            Compiled::Cubin(bytes)
        }
    };
    Ok(Output { code, log })
}

/// A NUL-terminated buffer from NVRTC as a Rust string.
fn c_chars_to_string(raw: &[c_char]) -> String {
    // SAFETY: c_char and u8 have the same size and alignment.
    let bytes = unsafe { std::slice::from_raw_parts(raw.as_ptr() as *const u8, raw.len()) };
    match CStr::from_bytes_until_nul(bytes) {
        Ok(s) => s.to_string_lossy().into_owned(),
        Err(_) => String::from_utf8_lossy(bytes).into_owned(),
    }
}

/// The environment variable naming a directory where [`compile_cached`] keeps compiled kernels
/// between processes (`.ci/gpu-run.sh` sets it, so that its steps compile each source once).
pub const CACHE_ENV: &str = "AIM_SIM_KERNEL_CACHE";

/// [`compile`], through the on-disk cache in `$AIM_SIM_KERNEL_CACHE` when that is set (see
/// [`compile_cached_in`]).
pub fn compile_cached(source: KernelSource, target: Target) -> Result<Output, KernelError> {
    let dir = std::env::var_os(CACHE_ENV).filter(|d| !d.is_empty());
    compile_cached_in(dir.as_deref().map(std::path::Path::new), source, target)
}

/// [`compile`], reusing the code compiled earlier for the same source text, shared header,
/// target and NVRTC version from `dir` (created if missing), and storing it there otherwise.
/// A cache file that cannot be read, or that is not a CUBIN (ELF) or PTX, is compiled again;
/// a cache that cannot be written is only skipped. `None`: no cache.
pub fn compile_cached_in(
    dir: Option<&std::path::Path>,
    source: KernelSource,
    target: Target,
) -> Result<Output, KernelError> {
    use std::hash::{Hash, Hasher};
    let Some(dir) = dir else {
        return compile(source, target);
    };
    if std::env::var_os("AIM_SIM_PTXAS_VERBOSE").is_some() {
        return compile(source, target);
    }
    let version = nvrtc_status().map_err(KernelError::Unavailable)?;
    // SipHash with fixed keys: the same key in every process built from this source.
    #[allow(deprecated)]
    let mut h = std::hash::SipHasher::new();
    (
        env!("CARGO_PKG_VERSION"),
        source.file_name(),
        source.source(),
        COMMON_HEADER,
        target.arch(),
        version,
    )
        .hash(&mut h);
    let stem = source
        .file_name()
        .trim_start_matches("kernels/")
        .trim_end_matches(".cu");
    let (ext, is_valid): (&str, fn(&[u8]) -> bool) = match target {
        Target::Cubin { .. } => ("cubin", |b| b.len() > 64 && b.starts_with(b"\x7fELF")),
        Target::Ptx { .. } => ("ptx", |b| {
            b.starts_with(b"//") && std::str::from_utf8(b).is_ok()
        }),
    };
    let path = dir.join(format!(
        "{stem}-{}-{:016x}.{ext}",
        target.arch(),
        h.finish()
    ));
    if let Ok(bytes) = std::fs::read(&path) {
        if is_valid(&bytes) {
            let code = match target {
                Target::Cubin { .. } => Compiled::Cubin(bytes),
                Target::Ptx { .. } => Compiled::Ptx(String::from_utf8(bytes).unwrap_or_default()),
            };
            return Ok(Output {
                code,
                log: String::new(),
            });
        }
    }
    let out = compile(source, target)?;
    let bytes: &[u8] = match &out.code {
        Compiled::Cubin(b) => b,
        Compiled::Ptx(t) => t.as_bytes(),
    };
    // Written under a temporary name and renamed, so a concurrent reader never sees half a file.
    let tmp = dir.join(format!(".{}.{}", std::process::id(), ext));
    let stored = std::fs::create_dir_all(dir)
        .and_then(|()| std::fs::write(&tmp, bytes))
        .and_then(|()| std::fs::rename(&tmp, &path));
    if stored.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    Ok(out)
}
