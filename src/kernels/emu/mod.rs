//! `kernels/*.cu` executed on the CPU: every kernel compiled unmodified as C++20 against a small
//! CUDA shim (`kernels/emu/cuda_emu.h`) and run by a fiber scheduler (`kernels/emu/runtime.cpp`)
//! with exactly the grid and block that the GPU launchers use ([`super::launch`]). Built only
//! with the `emu` feature, which `cargo test` turns on; docs/kernels.md ("Emulated execution")
//! says what it catches and what it does not.
//!
//! [`Emu::launch`] is the equivalent of `cuLaunchKernel`: a kernel by name, a [`Launch`] and the
//! arguments. Buffers ([`Buffer`]) carry guard zones on both sides that are checked after every
//! launch, so a kernel that writes past its buffer fails with [`KernelError::Emulator`] instead of
//! corrupting the test. [`ops`] strings launches together exactly as the plans of
//! [`super::gpu`] do.

pub mod ops;

use super::launch::Launch;
use super::{Dtype, KernelError};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// A single-point bug in `kernels/*.cu` from the mutation list `kernels/emu/mutants.rs`, which
/// build.rs compiles as its own set of kernels: the planted ones always (`tests/emu.rs` checks
/// that the emulated tests catch each), every one with `AIM_EMU_MUTANTS=all` (the mutation score).
#[derive(Debug, Clone, Copy)]
pub struct Mutant {
    /// The variant name to give [`Emu::mutant`].
    pub name: &'static str,
    /// The mutated source, e.g. `kernels/merge.cu`.
    pub file: &'static str,
    /// The kind of bug: barrier, tie, inf, reduction, numeric, bounds, vector, copy.
    pub class: &'static str,
    /// What the bug does.
    pub what: &'static str,
    /// The original text and its mutation.
    pub find: &'static str,
    pub replace: &'static str,
    /// Compiled in every test build.
    pub planted: bool,
    /// Why the mutant cannot change a result, when it cannot.
    pub equivalent: Option<&'static str>,
    /// Whether `find` occurs exactly once in `file` (false: the list is stale).
    pub applies: bool,
    /// Whether this build holds it.
    pub compiled: bool,
}

include!(concat!(env!("OUT_DIR"), "/emu_mutants.rs"));

#[repr(C)]
struct RawLaunch {
    grid: [u32; 3],
    block: [u32; 3],
    shared_bytes: u32,
}

extern "C" {
    fn aim_emu_launch(
        variant: *const c_char,
        kernel: *const c_char,
        cfg: *const RawLaunch,
        signature: *const c_char,
        args: *const *mut c_void,
        arg_bytes: *const usize,
        err: *mut c_char,
        err_len: usize,
    ) -> c_int;
    fn aim_emu_entry_count() -> usize;
    fn aim_emu_alloc(bytes: usize, usable: *mut usize) -> *mut c_void;
    fn aim_emu_free(p: *mut c_void, usable: usize);
    fn aim_emu_entry_info(
        i: usize,
        variant: *mut *const c_char,
        source: *mut *const c_char,
        name: *mut *const c_char,
        signature: *mut *const c_char,
    ) -> c_int;
}

/// One compiled entry point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntryPoint {
    /// `""` for the kernels as written, else the mutant's name.
    pub variant: String,
    /// The source, e.g. `kernels/merge.cu`.
    pub source: String,
    pub name: String,
    /// One character per parameter (see [`Arg`]).
    pub signature: String,
}

/// Every entry point the emulator holds, originals and mutants.
pub fn entry_points() -> Vec<EntryPoint> {
    let text = |p: *const c_char| {
        // SAFETY: the runtime returns pointers to static NUL-terminated strings.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    };
    // SAFETY: plain query of static tables.
    let count = unsafe { aim_emu_entry_count() };
    (0..count)
        .filter_map(|i| {
            let mut p = [std::ptr::null::<c_char>(); 4];
            let [a, b, c, d] = &mut p;
            // SAFETY: i < count; the four out-pointers are valid for writes.
            let rc = unsafe { aim_emu_entry_info(i, a, b, c, d) };
            (rc == 0).then(|| EntryPoint {
                variant: text(p[0]),
                source: text(p[1]),
                name: text(p[2]),
                signature: text(p[3]),
            })
        })
        .collect()
}

/// The emulated device: the kernels as written, or one mutant's version of its source (kernels
/// of the other sources stay as written).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Emu {
    variant: Option<&'static str>,
}

impl Emu {
    /// The kernels of `kernels/*.cu` as they are.
    pub fn new() -> Emu {
        Emu { variant: None }
    }

    /// The kernels with mutant `name` (one of [`MUTANTS`]) planted.
    pub fn mutant(name: &str) -> Result<Emu, KernelError> {
        match MUTANTS.iter().find(|m| m.name == name) {
            Some(m) if m.compiled => Ok(Emu {
                variant: Some(m.name),
            }),
            Some(m) if !m.applies => Err(KernelError::Emulator {
                kernel: m.file.to_string(),
                message: format!(
                    "mutant {name} is stale: `{}` is no longer in {} exactly once (update kernels/emu/mutants.rs)",
                    m.find, m.file
                ),
            }),
            Some(m) => Err(KernelError::Emulator {
                kernel: m.file.to_string(),
                message: format!(
                    "mutant {name} is not in this build (set AIM_EMU_MUTANTS=all, as .ci/mutants.sh does)"
                ),
            }),
            None => Err(KernelError::Emulator {
                kernel: "?".into(),
                message: format!("no mutant named {name}"),
            }),
        }
    }

    /// Runs `kernel` over `launch` with `args` (in the kernel's parameter order), then checks
    /// that no buffer's guard zone was written.
    pub fn launch(
        &self,
        kernel: &'static str,
        launch: Launch,
        args: &mut [Arg<'_>],
    ) -> Result<(), KernelError> {
        let emu_err = |message: String| KernelError::Emulator {
            kernel: kernel.to_string(),
            message,
        };
        // Each argument's value lives in its own 8-byte slot; the runtime gets a pointer to each
        // slot, as cuLaunchKernel's kernelParams.
        let mut slots: Vec<[u8; 8]> = Vec::with_capacity(args.len());
        let mut signature = String::with_capacity(args.len());
        // The data bytes of each buffer argument (0 for scalars): the runtime's bounds check.
        let mut arg_bytes: Vec<usize> = Vec::with_capacity(args.len());
        for arg in args.iter_mut() {
            let mut slot = [0u8; 8];
            arg_bytes.push(match arg {
                Arg::Buf(b) => b.len * b.elem_bytes,
                _ => 0,
            });
            match arg {
                Arg::Buf(b) => {
                    let p = b.data_ptr() as usize;
                    slot[..size_of::<usize>()].copy_from_slice(&p.to_ne_bytes());
                    signature.push(b.code as char);
                }
                Arg::I32(v) => {
                    slot[..4].copy_from_slice(&v.to_ne_bytes());
                    signature.push('i');
                }
                Arg::I64(v) => {
                    slot.copy_from_slice(&v.to_ne_bytes());
                    signature.push('l');
                }
                Arg::F32(v) => {
                    slot[..4].copy_from_slice(&v.to_ne_bytes());
                    signature.push('f');
                }
            }
            slots.push(slot);
        }
        let pointers: Vec<*mut c_void> = slots
            .iter_mut()
            .map(|s| s.as_mut_ptr() as *mut c_void)
            .collect();
        let name = CString::new(kernel).map_err(|_| emu_err("NUL in the kernel name".into()))?;
        let variant = self
            .variant
            .map(|v| CString::new(v).expect("mutant names have no NUL"));
        let sig = CString::new(signature).expect("signature characters are ASCII letters");
        let raw = RawLaunch {
            grid: launch.grid,
            block: launch.block,
            shared_bytes: launch.shared_bytes,
        };
        let mut err = vec![0 as c_char; 4096];
        // SAFETY: every pointer is valid for the call: the name, variant and signature strings;
        // `raw`; `pointers` (one per argument, each to an 8-byte slot holding the value, the
        // runtime checks that the kernel's parameters match `signature` before reading them);
        // `arg_bytes` (one per argument); the
        // buffers behind the pointer arguments are alive and exclusively borrowed in `args`, and
        // every access a kernel makes past them lands in their guard zones (checked below) or is
        // a bug the emulator cannot contain; `err` holds err.len() bytes.
        let rc = unsafe {
            aim_emu_launch(
                variant.as_ref().map_or(std::ptr::null(), |v| v.as_ptr()),
                name.as_ptr(),
                &raw,
                sig.as_ptr(),
                pointers.as_ptr(),
                arg_bytes.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        if rc != 0 {
            // SAFETY: the runtime NUL-terminates the message within err.len() bytes.
            let message = unsafe { CStr::from_ptr(err.as_ptr()) }
                .to_string_lossy()
                .into_owned();
            return Err(emu_err(message));
        }
        for (k, arg) in args.iter().enumerate() {
            if let Arg::Buf(b) = arg {
                if let Some(problem) = b.guard_damage() {
                    return Err(emu_err(format!("argument {k}: {problem}")));
                }
            }
        }
        if self.variant.is_none() {
            LAUNCHED
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .insert(kernel);
        }
        Ok(())
    }
}

static LAUNCHED: std::sync::Mutex<std::collections::BTreeSet<&'static str>> =
    std::sync::Mutex::new(std::collections::BTreeSet::new());

/// The kernels (as written, not mutants) this process has launched successfully so far.
pub fn launched() -> Vec<&'static str> {
    LAUNCHED
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .copied()
        .collect()
}

/// A kernel argument: a buffer (passed as a pointer to its first element) or a scalar.
/// Signature characters: buffers `F` (f32), `H` (bf16), `I` (i32); scalars `i` (int), `l`
/// (long long), `f` (float).
#[derive(Debug)]
pub enum Arg<'a> {
    Buf(&'a mut Buffer),
    I32(i32),
    I64(i64),
    F32(f32),
}

/// An element type a [`Buffer`] holds.
pub trait Scalar: Copy + 'static + sealed::Sealed {
    /// The signature character of a pointer to it.
    const CODE: u8;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for f32 {}
    impl Sealed for half::bf16 {}
    impl Sealed for i32 {}
}

impl Scalar for f32 {
    const CODE: u8 = b'F';
}
impl Scalar for half::bf16 {
    const CODE: u8 = b'H';
}
impl Scalar for i32 {
    const CODE: u8 = b'I';
}

/// An element type of kernel inputs and outputs: f32 or bf16 (`half::bf16`, bit-identical to
/// the kernels' `bf16_t`). The emulator's own trait, so that it needs nothing from CUDA.
pub trait EmuElement: Scalar {
    const DTYPE: Dtype;
    fn from_f32(x: f32) -> Self;
    fn to_f32(self) -> f32;
}

impl EmuElement for f32 {
    const DTYPE: Dtype = Dtype::F32;
    fn from_f32(x: f32) -> Self {
        x
    }
    fn to_f32(self) -> f32 {
        self
    }
}

impl EmuElement for half::bf16 {
    const DTYPE: Dtype = Dtype::Bf16;
    fn from_f32(x: f32) -> Self {
        half::bf16::from_f32(x)
    }
    fn to_f32(self) -> f32 {
        half::bf16::to_f32(self)
    }
}

/// Bytes written into the guard zones (a pattern no kernel here produces by accident).
const GUARD: u8 = 0xA5;

/// "Device memory" for the emulator: a 16-byte aligned array of one [`Scalar`] type between two
/// guard zones (each at least 4 KiB, or as large as the data up to 1 MiB, filled with a pattern
/// that is checked after every launch), all between two inaccessible pages (a write past the
/// guard zones faults).
pub struct Buffer {
    base: *mut u8,
    usable: usize,
    guard: usize,
    len: usize,
    elem_bytes: usize,
    code: u8,
}

impl std::fmt::Debug for Buffer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Buffer")
            .field("len", &self.len)
            .field("elem", &(self.code as char))
            .finish()
    }
}

impl Drop for Buffer {
    fn drop(&mut self) {
        // SAFETY: base and usable came from aim_emu_alloc and are freed once.
        unsafe { aim_emu_free(self.base as *mut c_void, self.usable) }
    }
}

impl Buffer {
    /// A copy of `data`.
    pub fn from_slice<T: Scalar>(data: &[T]) -> Buffer {
        let b = Buffer::alloc::<T>(data.len());
        // SAFETY: f32, bf16 and i32 are plain bytes without padding; the data region holds
        // len * size_of::<T>() bytes.
        unsafe {
            std::ptr::copy_nonoverlapping(
                data.as_ptr() as *const u8,
                b.data_ptr(),
                std::mem::size_of_val(data),
            );
        }
        b
    }

    /// `len` copies of `value` (NaN makes every element a kernel fails to write visible).
    pub fn filled<T: Scalar>(len: usize, value: T) -> Buffer {
        Buffer::from_slice(&vec![value; len])
    }

    fn alloc<T: Scalar>(len: usize) -> Buffer {
        let elem_bytes = size_of::<T>();
        let data_bytes = len * elem_bytes;
        let guard = data_bytes
            .div_ceil(16)
            .saturating_mul(16)
            .clamp(4096, 1 << 20);
        let mut usable = 0usize;
        // SAFETY: `usable` is valid for writes.
        let base = unsafe { aim_emu_alloc(2 * guard + data_bytes, &mut usable) } as *mut u8;
        assert!(
            !base.is_null(),
            "the emulator could not map {data_bytes} bytes"
        );
        // SAFETY: the region holds `usable` writable bytes.
        unsafe { std::ptr::write_bytes(base, GUARD, usable) };
        Buffer {
            base,
            usable,
            guard,
            len,
            elem_bytes,
            code: T::CODE,
        }
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping holds `usable` initialised bytes for the buffer's lifetime.
        unsafe { std::slice::from_raw_parts(self.base, self.usable) }
    }

    fn data_ptr(&self) -> *mut u8 {
        // SAFETY: `guard` is within the mapping (2 guards + data).
        unsafe { self.base.add(self.guard) }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The elements as `T` (which must be the type the buffer was made with).
    pub fn to_vec<T: Scalar>(&self) -> Vec<T> {
        assert_eq!(T::CODE, self.code, "a buffer read as another type");
        let mut out = Vec::with_capacity(self.len);
        // SAFETY: the data region holds len elements of T (same type, checked above); `out` has
        // room for them and every bit pattern is a valid f32, bf16 or i32.
        unsafe {
            std::ptr::copy_nonoverlapping(
                self.data_ptr() as *const u8,
                out.as_mut_ptr() as *mut u8,
                self.len * self.elem_bytes,
            );
            out.set_len(self.len);
        }
        out
    }

    /// Where a kernel wrote outside the data, if it did.
    fn guard_damage(&self) -> Option<String> {
        let bytes = self.bytes();
        let data_end = self.guard + self.len * self.elem_bytes;
        let before = bytes[..self.guard].iter().rposition(|&b| b != GUARD);
        let after = bytes[data_end..].iter().position(|&b| b != GUARD);
        match (before, after) {
            (None, None) => None,
            (_, Some(at)) => Some(format!(
                "written {} bytes past the end of its {} elements",
                at + 1,
                self.len
            )),
            (Some(at), None) => Some(format!(
                "written {} bytes before its first element",
                self.guard - at
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The flaky `emu_attention_matches_cpu` (an "out-of-bounds read" under load, gone on rerun):
    /// the kernels read their arguments through the caller's slots, which live in a test thread's
    /// malloc arena; when the kernel happened to map a buffer within 1 MiB of that arena, the
    /// bounds check took the argument read for an access to the buffer's guard zone. Here the
    /// slots are placed 512 KiB below the buffer on purpose: a correct kernel must pass.
    #[test]
    fn argument_slots_mapped_near_a_buffer_are_not_out_of_bounds() {
        const FLOATS: usize = 100;
        // One 1 MiB mapping: the slots and their pointers at its start, the buffer in its middle.
        let host = Buffer::filled(1 << 18, 0.0f32);
        let base = host.data_ptr();
        // SAFETY: every offset below is within the 1 MiB data region of `host`, 8-byte aligned.
        let (slots, pointers, data) = unsafe {
            (
                base as *mut u64,
                base.add(64) as *mut *mut c_void,
                base.add(512 << 10) as *mut f32,
            )
        };
        let values: [u64; 3] = [data as usize as u64, FLOATS as u64, 0];
        for (k, v) in values.iter().enumerate() {
            // SAFETY: within `host`, see above.
            unsafe {
                slots.add(k).write(*v);
                pointers.add(k).write(slots.add(k) as *mut c_void);
            }
        }
        let arg_bytes = [FLOATS * 4, 0, 0];
        let raw = RawLaunch {
            grid: [1, 1, 1],
            block: [128, 1, 1],
            shared_bytes: 0,
        };
        let mut err = vec![0 as c_char; 4096];
        // SAFETY: the strings are NUL-terminated; `pointers` holds 3 pointers to 8-byte slots
        // holding a pointer to FLOATS floats (arg_bytes[0] bytes inside `host`) and two ints, as
        // emu_selftest_overrun(float*, int n, int extra) takes; `err` holds err.len() bytes.
        let rc = unsafe {
            aim_emu_launch(
                std::ptr::null(),
                c"emu_selftest_overrun".as_ptr(),
                &raw,
                c"Fii".as_ptr(),
                pointers,
                arg_bytes.as_ptr(),
                err.as_mut_ptr(),
                err.len(),
            )
        };
        // SAFETY: the runtime NUL-terminates its message within err.len() bytes.
        let message = unsafe { CStr::from_ptr(err.as_ptr()) }.to_string_lossy();
        assert_eq!(rc, 0, "{message}");
        let out = host.to_vec::<f32>();
        let at = (512 << 10) / 4;
        assert!(out[at..at + FLOATS].iter().all(|&x| x == 1.0));
        assert_eq!(
            out[at + FLOATS],
            0.0,
            "the kernel wrote only its n elements"
        );
    }
}
