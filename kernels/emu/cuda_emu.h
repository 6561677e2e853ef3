// The CUDA surface that kernels/*.cu use, for running them on the CPU (the emulator behind
// `cargo test emu`; docs/kernels.md "Emulated execution"). Included before a kernel source, which
// is then compiled unmodified as C++20 by build.rs.
//
// Execution model (kernels/emu/runtime.cpp): the blocks of a grid run one after another on the
// calling OS thread; the threads of a block are cooperative fibers that run until they reach a
// synchronisation point (`__syncthreads`, a warp shuffle or vote, `__syncwarp`) or exit. So
//   - `__shared__` is `static`: one copy per kernel, which is per-block shared memory because
//     blocks never overlap (a global lock serialises launches);
//   - `threadIdx`, `blockIdx`, `blockDim`, `gridDim` are globals the scheduler sets before it
//     resumes a fiber;
//   - atomics are plain read-modify-write (no two fibers run at once);
//   - floating point is the host's IEEE f32 (no FMA contraction, libm's expf/exp2f/sincosf),
//     not the GPU's rounding.
// A barrier or shuffle that some threads of the block (or warp) never reach is reported as a
// deadlock instead of hanging.
#pragma once

#include <cmath>
#include <cstdint>
#include <cstring>
#include <math.h>

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __noinline__
#define __shared__ static
#define __constant__ static
#define __launch_bounds__(...)
// `__restrict__` is a GCC/Clang keyword already.

struct uint3 {
    unsigned int x, y, z;
};
struct dim3 {
    unsigned int x, y, z;
};
namespace aim_emu {
// Reports a 16-byte vector access at `p` that is not 16-byte aligned (a misaligned-address fault
// on a GPU), at the kernel code that made it (kernels/emu/runtime.cpp, the checker).
void vector_access(const void* p, bool write, const void* pc);
}  // namespace aim_emu

// 16-byte vectors whose copies check their alignment: a kernel reading or writing one through a
// reinterpret_cast pointer (layers.cu) is checked, whatever instructions the host compiler picks.
#define AIM_EMU_VECTOR4(V, E)                                                                              \
    struct alignas(16) V {                                                                                 \
        E x, y, z, w;                                                                                      \
        V() = default;                                                                                     \
        V(E x_, E y_, E z_, E w_) : x(x_), y(y_), z(z_), w(w_) {}                                          \
        __attribute__((always_inline)) V(const V& o) {                                                     \
            aim_emu::vector_access(&o, false, __builtin_return_address(0));                                \
            x = o.x, y = o.y, z = o.z, w = o.w;                                                            \
        }                                                                                                  \
        __attribute__((always_inline)) V& operator=(const V& o) {                                          \
            aim_emu::vector_access(&o, false, __builtin_return_address(0));                                \
            aim_emu::vector_access(this, true, __builtin_return_address(0));                               \
            x = o.x, y = o.y, z = o.z, w = o.w;                                                            \
            return *this;                                                                                  \
        }                                                                                                  \
    };
AIM_EMU_VECTOR4(uint4, unsigned int)
AIM_EMU_VECTOR4(float4, float)
#undef AIM_EMU_VECTOR4
inline uint4 make_uint4(unsigned int x, unsigned int y, unsigned int z, unsigned int w) { return uint4(x, y, z, w); }
inline float4 make_float4(float x, float y, float z, float w) { return float4(x, y, z, w); }

// Set by the scheduler before it resumes a thread.
extern uint3 threadIdx;
extern uint3 blockIdx;
extern dim3 blockDim;
extern dim3 gridDim;
constexpr int warpSize = 32;

// ---- Synchronisation (kernels/emu/runtime.cpp) --------------------------------------------------
namespace aim_emu {
enum WarpOp : int { SHFL_IDX = 0, SHFL_UP = 1, SHFL_DOWN = 2, SHFL_XOR = 3, VOTE_BALLOT = 4, VOTE_ALL = 5, VOTE_ANY = 6, WARP_SYNC = 7 };
enum BarrierOp : int { BAR_SYNC = 0, BAR_COUNT = 1, BAR_AND = 2, BAR_OR = 3 };
// Blocks the calling thread until every live thread of the block arrives; returns the
// reduction `op` of `predicate` over them.
int barrier(int op, int predicate);
// Blocks until every lane of `mask` arrives with the same op; returns the exchanged bits.
unsigned long long warp(int op, unsigned int mask, unsigned long long bits, int arg, int width);

template <typename T>
inline unsigned long long to_bits(T v) {
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    unsigned long long b = 0;
    std::memcpy(&b, &v, sizeof(T));
    return b;
}
template <typename T>
inline T from_bits(unsigned long long b) {
    T v;
    std::memcpy(&v, &b, sizeof(T));
    return v;
}
}  // namespace aim_emu

inline void __syncthreads() { aim_emu::barrier(aim_emu::BAR_SYNC, 0); }
inline int __syncthreads_count(int p) { return aim_emu::barrier(aim_emu::BAR_COUNT, p); }
inline int __syncthreads_and(int p) { return aim_emu::barrier(aim_emu::BAR_AND, p); }
inline int __syncthreads_or(int p) { return aim_emu::barrier(aim_emu::BAR_OR, p); }
inline void __syncwarp(unsigned int mask = 0xffffffffu) { aim_emu::warp(aim_emu::WARP_SYNC, mask, 0, 0, 32); }
inline void __threadfence() {}
inline void __threadfence_block() {}

template <typename T>
inline T __shfl_sync(unsigned int mask, T var, int src_lane, int width = 32) {
    return aim_emu::from_bits<T>(aim_emu::warp(aim_emu::SHFL_IDX, mask, aim_emu::to_bits(var), src_lane, width));
}
template <typename T>
inline T __shfl_up_sync(unsigned int mask, T var, unsigned int delta, int width = 32) {
    return aim_emu::from_bits<T>(aim_emu::warp(aim_emu::SHFL_UP, mask, aim_emu::to_bits(var), (int)delta, width));
}
template <typename T>
inline T __shfl_down_sync(unsigned int mask, T var, unsigned int delta, int width = 32) {
    return aim_emu::from_bits<T>(aim_emu::warp(aim_emu::SHFL_DOWN, mask, aim_emu::to_bits(var), (int)delta, width));
}
template <typename T>
inline T __shfl_xor_sync(unsigned int mask, T var, int lane_mask, int width = 32) {
    return aim_emu::from_bits<T>(aim_emu::warp(aim_emu::SHFL_XOR, mask, aim_emu::to_bits(var), lane_mask, width));
}
inline unsigned int __ballot_sync(unsigned int mask, int predicate) {
    return (unsigned int)aim_emu::warp(aim_emu::VOTE_BALLOT, mask, predicate != 0, 0, 32);
}
inline int __all_sync(unsigned int mask, int predicate) {
    return (int)aim_emu::warp(aim_emu::VOTE_ALL, mask, predicate != 0, 0, 32);
}
inline int __any_sync(unsigned int mask, int predicate) {
    return (int)aim_emu::warp(aim_emu::VOTE_ANY, mask, predicate != 0, 0, 32);
}

// ---- Atomics: fibers never run at the same time, so a plain read-modify-write is atomic ------
template <typename T>
inline T atomicAdd(T* p, T v) {
    T old = *p;
    *p = old + v;
    return old;
}
template <typename T>
inline T atomicSub(T* p, T v) {
    T old = *p;
    *p = old - v;
    return old;
}
template <typename T>
inline T atomicExch(T* p, T v) {
    T old = *p;
    *p = v;
    return old;
}
template <typename T>
inline T atomicMax(T* p, T v) {
    T old = *p;
    *p = old > v ? old : v;
    return old;
}
template <typename T>
inline T atomicMin(T* p, T v) {
    T old = *p;
    *p = old < v ? old : v;
    return old;
}
template <typename T>
inline T atomicCAS(T* p, T compare, T v) {
    T old = *p;
    if (old == compare) *p = v;
    return old;
}

// ---- Bit casts and math ------------------------------------------------------------------------
inline float __int_as_float(int x) { return aim_emu::from_bits<float>((unsigned int)x); }
inline float __uint_as_float(unsigned int x) { return aim_emu::from_bits<float>(x); }
inline int __float_as_int(float x) { return (int)(unsigned int)aim_emu::to_bits(x); }
inline unsigned int __float_as_uint(float x) { return (unsigned int)aim_emu::to_bits(x); }

inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __exp2f(float x) { return exp2f(x); }
inline float __logf(float x) { return logf(x); }
inline float __log2f(float x) { return log2f(x); }
inline float __sinf(float x) { return sinf(x); }
inline float __cosf(float x) { return cosf(x); }
inline void __sincosf(float x, float* s, float* c) { sincosf(x, s, c); }
inline float __powf(float x, float y) { return powf(x, y); }
inline float __fdividef(float x, float y) { return x / y; }
inline float __frcp_rn(float x) { return 1.0f / x; }
inline float __fsqrt_rn(float x) { return sqrtf(x); }
inline float __saturatef(float x) { return x < 0.0f ? 0.0f : (x > 1.0f ? 1.0f : x); }
template <typename T>
inline T __ldg(const T* p) { return *p; }

inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
inline unsigned int min(unsigned int a, unsigned int b) { return a < b ? a : b; }
inline unsigned int max(unsigned int a, unsigned int b) { return a > b ? a : b; }
inline long long min(long long a, long long b) { return a < b ? a : b; }
inline long long max(long long a, long long b) { return a > b ? a : b; }
inline unsigned long long min(unsigned long long a, unsigned long long b) { return a < b ? a : b; }
inline unsigned long long max(unsigned long long a, unsigned long long b) { return a > b ? a : b; }
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }

// ---- Registration of a source's entry points (used by kernels/emu/<source>.cpp) ----------------
#include <cstddef>
#include <type_traits>
#include <utility>

namespace aim_emu {
// One character per parameter: pointers by pointee (F float, H 16-bit bf16 bits, I int,
// P anything else), scalars i int, f float, l long long. The Rust side sends its own string
// and a launch with a different one is refused, so argument lists cannot silently disagree.
template <typename T>
struct ParamCode;
template <>
struct ParamCode<int> {
    static constexpr char value = 'i';
};
template <>
struct ParamCode<float> {
    static constexpr char value = 'f';
};
template <>
struct ParamCode<long long> {
    static constexpr char value = 'l';
};
template <typename T>
struct ParamCode<T*> {
    using E = std::remove_cv_t<T>;
    static constexpr char value = std::is_same_v<E, float>            ? 'F'
                                  : std::is_same_v<E, unsigned short> ? 'H'
                                  : std::is_same_v<E, int>            ? 'I'
                                                                      : 'P';
};

template <typename F>
struct Kernel;
template <typename... A>
struct Kernel<void (*)(A...)> {
    static constexpr char signature[sizeof...(A) + 1] = {ParamCode<std::remove_cv_t<A>>::value..., '\0'};
    template <auto K, std::size_t... I>
    static void call(void* const* args, std::index_sequence<I...>) {
        K(*static_cast<std::remove_cv_t<A>*>(args[I])...);
    }
    template <auto K>
    static void invoke(void* const* args) {
        call<K>(args, std::index_sequence_for<A...>{});
    }
};

struct Entry {
    const char* name;
    const char* signature;
    void (*invoke)(void* const* args);
};

struct Table {
    const char* variant;  // "" for kernels/*.cu as they are, else the mutant's name
    const char* source;   // the .cu file compiled
    const Entry* entries;
    std::size_t count;
};
}  // namespace aim_emu

#define AIM_EMU_ENTRY(k)                                                                            \
    ::aim_emu::Entry {                                                                             \
        #k, ::aim_emu::Kernel<decltype(&k)>::signature, &::aim_emu::Kernel<decltype(&k)>::invoke<&k> \
    }
