//! One error type for everything the kernels can hit: a missing CUDA library or device, an NVRTC
//! compile failure (with the compiler log), a driver error (with the kernel or step it came from),
//! or a shape the kernels were not written for.

#[cfg(feature = "cuda")]
use cudarc::driver::DriverError;
#[cfg(feature = "cuda")]
use cudarc::nvrtc::result::NvrtcError;

/// A kernel-side failure. `Unavailable` is the expected state of a machine without CUDA: callers
/// report it in one line and carry on (see [`crate::kernels::gpu_status`]).
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    /// No usable CUDA library or device; the message says which and what to install or set.
    #[error("{0}")]
    Unavailable(String),
    /// NVRTC rejected a kernel source. `log` is the compiler's output (several lines).
    #[error("NVRTC could not compile {file} for {arch}:\n{log}")]
    Compile {
        file: &'static str,
        arch: String,
        log: String,
    },
    /// An NVRTC call other than the compilation itself failed.
    #[cfg(feature = "cuda")]
    #[error("NVRTC {step} for {file}: {source}")]
    Nvrtc {
        step: &'static str,
        file: &'static str,
        source: NvrtcError,
    },
    /// A CUDA driver call failed; `context` names the kernel, module or copy.
    #[cfg(feature = "cuda")]
    #[error("CUDA driver error in {context}: {source}")]
    Driver {
        context: String,
        source: DriverError,
    },
    /// A cuBLAS call failed; `context` names the GEMM or the step.
    #[cfg(feature = "cuda")]
    #[error("cuBLAS error in {context}: {source}")]
    Cublas {
        context: String,
        source: cudarc::cublas::result::CublasError,
    },
    /// Sizes a kernel does not support (e.g. a head dimension other than 64 or 128).
    #[error("{kernel}: {message}")]
    Shape {
        kernel: &'static str,
        message: String,
    },
    /// A launch beyond CUDA's limits (`crate::kernels::launch`): grid x above 2³¹ − 1, grid y or
    /// z above 65 535, more than 1024 threads per block.
    #[error("{kernel}: {what} = {value} exceeds the CUDA limit of {limit}")]
    LaunchLimit {
        kernel: &'static str,
        what: &'static str,
        value: u64,
        limit: u64,
    },
    /// The CPU emulator (`crate::kernels::emu`) refused a launch or found the kernel misbehaving:
    /// a deadlock at a barrier or shuffle, a write outside an argument buffer, an argument list
    /// that does not match the kernel's parameters.
    #[error("emulated {kernel}: {message}")]
    Emulator { kernel: String, message: String },
}

impl KernelError {
    /// Whether this is the "no CUDA here" case rather than a real failure.
    pub fn is_unavailable(&self) -> bool {
        matches!(self, KernelError::Unavailable(_))
    }

    pub(crate) fn shape(kernel: &'static str, message: impl Into<String>) -> Self {
        KernelError::Shape {
            kernel,
            message: message.into(),
        }
    }
}

/// Attaches a context to driver results: `stream.synchronize().ctx("merge_scores")?`.
#[cfg(feature = "cuda")]
pub(crate) trait DriverContext<T> {
    fn ctx(self, context: impl std::fmt::Display) -> Result<T, KernelError>;
}

#[cfg(feature = "cuda")]
impl<T> DriverContext<T> for Result<T, DriverError> {
    fn ctx(self, context: impl std::fmt::Display) -> Result<T, KernelError> {
        self.map_err(|source| KernelError::Driver {
            context: context.to_string(),
            source,
        })
    }
}

/// A kernel error as a crate error: a missing GPU is the user's to fix (exit 2); anything else
/// is a failed run (exit 1). Multi-line compiler logs are folded onto one line.
impl From<KernelError> for crate::error::Error {
    fn from(e: KernelError) -> Self {
        let one_line = e
            .to_string()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        if e.is_unavailable() {
            crate::error::Error::GpuUnavailable(one_line)
        } else {
            crate::error::Error::Gpu(one_line)
        }
    }
}
