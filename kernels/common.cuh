// Shared helpers for aim-sim's kernels. Compiled by NVRTC, which has no system headers: this file
// uses only built-ins, and bf16 is handled as raw 16-bit patterns (`bf16_t`), bit-identical to
// Rust's `half::bf16`.
//
// Conventions of every kernel in this directory:
// - `extern "C" __global__` entry points, one per element type, suffixed `_f32` or `_bf16`;
// - inputs in `T` (f32 or bf16), all arithmetic and accumulation in f32;
// - every index is bounds-checked against the sizes passed in, so any grid is safe;
// - row-major tensors, sizes in elements.
#pragma once

typedef unsigned short bf16_t;

#define AIM_INF __int_as_float(0x7f800000)
#define AIM_LOG2E 1.4426950408889634f

// bf16 -> f32 is exact: the bf16 bits are the high half of the f32.
__device__ __forceinline__ float to_f32(float x) { return x; }
__device__ __forceinline__ float to_f32(bf16_t x) {
    return __uint_as_float(((unsigned int)x) << 16);
}

// f32 -> bf16, round to nearest even; NaN stays NaN.
__device__ __forceinline__ void store_f32(float* p, float x) { *p = x; }
__device__ __forceinline__ void store_f32(bf16_t* p, float x) {
    unsigned int u = __float_as_uint(x);
    if ((u & 0x7fffffffu) > 0x7f800000u) {
        *p = (bf16_t)0x7fc0u;
        return;
    }
    u += 0x7fffu + ((u >> 16) & 1u);
    *p = (bf16_t)(u >> 16);
}

__device__ __forceinline__ float warp_sum(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_xor_sync(0xffffffffu, v, offset);
    return v;
}

__device__ __forceinline__ float warp_max(float v) {
    for (int offset = 16; offset > 0; offset >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, offset));
    return v;
}

// Block-wide reductions for blockDim.x a multiple of 32 (at most 1024). `scratch` holds 32
// floats of shared memory; the result is returned to every thread.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : 0.0f;
    return warp_sum(v);
}

__device__ __forceinline__ float block_max(float v, float* scratch) {
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) scratch[warp] = v;
    __syncthreads();
    v = lane < warps ? scratch[lane] : -AIM_INF;
    return warp_max(v);
}

// Masked, tempered softmax of one row of `len` logits held in `row` (f32): p_j = exp((x_j - m) / t) / l
// over j < valid, and p_j is not written for j >= valid (causal rows only touch their prefix).
// One block per row; blockDim.x a multiple of 32.
__device__ __forceinline__ void softmax_row(const float* __restrict__ row, float* __restrict__ out,
                                            long long valid, float inv_temperature, float* scratch) {
    float m = -AIM_INF;
    for (long long j = threadIdx.x; j < valid; j += blockDim.x) m = fmaxf(m, row[j]);
    m = block_max(m, scratch);
    float l = 0.0f;
    const float k = inv_temperature * AIM_LOG2E;
    for (long long j = threadIdx.x; j < valid; j += blockDim.x) l += exp2f((row[j] - m) * k);
    l = block_sum(l, scratch);
    const float inv_l = 1.0f / l;
    for (long long j = threadIdx.x; j < valid; j += blockDim.x) out[j] = exp2f((row[j] - m) * k) * inv_l;
}

// ---- Attention tiles --------------------------------------------------------------------------
// Query/key tiles of TILE rows x D features in shared memory as f32, padded to D + 1 columns so
// that the row-strided reads below are free of bank conflicts. Blocks of TILE_THREADS threads;
// thread t owns tile row t / 4 and the columns (t % 4) + 4 m, m < TILE / 4.
#define TILE 32
#define TILE_THREADS 128

// Loads rows [row0, row0 + TILE) of a [rows, D] matrix, zero-filling rows >= rows.
template <typename T, int D>
__device__ __forceinline__ void load_tile(float (*dst)[D + 1], const T* __restrict__ src, long long row0,
                                          long long rows) {
    for (int e = threadIdx.x; e < TILE * D; e += blockDim.x) {
        const int r = e / D, c = e % D;
        const long long row = row0 + r;
        dst[r][c] = row < rows ? to_f32(src[row * D + c]) : 0.0f;
    }
}

// s[m] = dot(Qs[t / 4], Ks[(t % 4) + 4 m]) for m < TILE / 4.
template <int D>
__device__ __forceinline__ void dot_tile(const float (*Qs)[D + 1], const float (*Ks)[D + 1], float* s) {
    const int r = threadIdx.x / 4, c = threadIdx.x % 4;
    #pragma unroll
    for (int m = 0; m < TILE / 4; ++m) s[m] = 0.0f;
    #pragma unroll 4
    for (int k = 0; k < D; ++k) {
        const float q = Qs[r][k];
        #pragma unroll
        for (int m = 0; m < TILE / 4; ++m) s[m] += q * Ks[c + 4 * m][k];
    }
}
