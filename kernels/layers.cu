// The element-wise passes of a decoder layer, as `aim-sim measure` / `calibrate` time them:
// RMSNorm, rotary position embedding (RoPE), SwiGLU, residual add, and a copy (the launch probe).
// Semantics: ../docs/kernels.md "Layer passes"; CPU references: src/kernels/cpu.rs `rmsnorm`,
// `rope`, `swiglu`, `add`.
//
// All of them are memory-bound, so they move 16 bytes per load and store (8 bf16 or 4 f32 as one
// `uint4`) wherever the sizes allow it, with a scalar path otherwise. Pointers must be 16-byte
// aligned (every cudarc allocation is); sizes that break the vector alignment take the scalar path.
#include "common.cuh"

// Elements of T in 16 bytes.
template <typename T> struct Lanes;
template <> struct Lanes<float> { static constexpr int N = 4; };
template <> struct Lanes<bf16_t> { static constexpr int N = 8; };

// f32 -> bf16 bits, round to nearest even (store_f32's rounding).
__device__ __forceinline__ unsigned int bf16_bits(float x) {
    bf16_t b;
    store_f32(&b, x);
    return (unsigned int)b;
}

// Loads 16 bytes at `p` (16-byte aligned) as f32.
__device__ __forceinline__ void load_vec(const float* __restrict__ p, float* f) {
    const uint4 r = *reinterpret_cast<const uint4*>(p);
    f[0] = __uint_as_float(r.x);
    f[1] = __uint_as_float(r.y);
    f[2] = __uint_as_float(r.z);
    f[3] = __uint_as_float(r.w);
}
__device__ __forceinline__ void load_vec(const bf16_t* __restrict__ p, float* f) {
    const uint4 r = *reinterpret_cast<const uint4*>(p);
    const unsigned int w[4] = {r.x, r.y, r.z, r.w};
    #pragma unroll
    for (int i = 0; i < 4; ++i) {
        // Little-endian: the element at the lower address is the low half of the word.
        f[2 * i] = __uint_as_float(w[i] << 16);
        f[2 * i + 1] = __uint_as_float(w[i] & 0xffff0000u);
    }
}

// Stores 16 bytes at `p` (16-byte aligned) from f32.
__device__ __forceinline__ void store_vec(float* __restrict__ p, const float* f) {
    *reinterpret_cast<uint4*>(p) =
        make_uint4(__float_as_uint(f[0]), __float_as_uint(f[1]), __float_as_uint(f[2]), __float_as_uint(f[3]));
}
__device__ __forceinline__ void store_vec(bf16_t* __restrict__ p, const float* f) {
    unsigned int w[4];
    #pragma unroll
    for (int i = 0; i < 4; ++i) w[i] = bf16_bits(f[2 * i]) | (bf16_bits(f[2 * i + 1]) << 16);
    *reinterpret_cast<uint4*>(p) = make_uint4(w[0], w[1], w[2], w[3]);
}

// L consecutive elements: one 16-byte access when L is a full vector, else scalar.
template <typename T, int L>
__device__ __forceinline__ void load_n(const T* __restrict__ p, float* f) {
    if constexpr (L == Lanes<T>::N) {
        load_vec(p, f);
    } else {
        #pragma unroll
        for (int u = 0; u < L; ++u) f[u] = to_f32(p[u]);
    }
}
template <typename T, int L>
__device__ __forceinline__ void store_n(T* __restrict__ p, const float* f) {
    if constexpr (L == Lanes<T>::N) {
        store_vec(p, f);
    } else {
        #pragma unroll
        for (int u = 0; u < L; ++u) store_f32(p + u, f[u]);
    }
}

__device__ __forceinline__ long long global_thread() {
    return (long long)blockIdx.x * blockDim.x + threadIdx.x;
}
__device__ __forceinline__ long long grid_threads() { return (long long)gridDim.x * blockDim.x; }

// ---- RMSNorm ----------------------------------------------------------------------------------
// out[r, c] = x[r, c] / sqrt(mean_c(x[r, :]^2) + eps) * weight[c], in f32, rounded once.
// One block per row (grid = rows), blockDim.x a multiple of 32. The second pass re-reads the row,
// which a row of a few KiB serves from L1/L2.
template <typename T, int L>
__device__ __forceinline__ void rmsnorm_row(const T* __restrict__ xr, const T* __restrict__ weight, T* __restrict__ o,
                                            int width, float eps, float* scratch) {
    float ss = 0.0f;
    for (int c = threadIdx.x * L; c < width; c += blockDim.x * L) {
        float f[L];
        load_n<T, L>(xr + c, f);
        #pragma unroll
        for (int u = 0; u < L; ++u) ss += f[u] * f[u];
    }
    ss = block_sum(ss, scratch);
    const float inv = 1.0f / sqrtf(ss / (float)width + eps);
    for (int c = threadIdx.x * L; c < width; c += blockDim.x * L) {
        float f[L], w[L];
        load_n<T, L>(xr + c, f);
        load_n<T, L>(weight + c, w);
        #pragma unroll
        for (int u = 0; u < L; ++u) f[u] = f[u] * inv * w[u];
        store_n<T, L>(o + c, f);
    }
}

template <typename T>
__device__ void rmsnorm(const T* __restrict__ x, const T* __restrict__ weight, T* __restrict__ out, int rows,
                        int width, float eps) {
    __shared__ float scratch[32];
    const long long r = blockIdx.x;
    if (r >= rows) return;  // uniform over the block
    const T* xr = x + r * width;
    T* o = out + r * width;
    if (width % Lanes<T>::N == 0) {
        rmsnorm_row<T, Lanes<T>::N>(xr, weight, o, width, eps, scratch);
    } else {
        rmsnorm_row<T, 1>(xr, weight, o, width, eps, scratch);
    }
}

extern "C" __global__ void layer_rmsnorm_f32(const float* x, const float* weight, float* out, int rows, int width,
                                             float eps) {
    rmsnorm<float>(x, weight, out, rows, width, eps);
}
extern "C" __global__ void layer_rmsnorm_bf16(const bf16_t* x, const bf16_t* weight, bf16_t* out, int rows,
                                              int width, float eps) {
    rmsnorm<bf16_t>(x, weight, out, rows, width, eps);
}

// ---- RoPE -------------------------------------------------------------------------------------
// In place on x [rows, width], width = heads * head_dim; row r is position r. Per head, the pair
// (i, i + head_dim / 2) for i < head_dim / 2 (the "rotate half" layout of Hugging Face models) is
// rotated by the angle r * theta^(-2 i / head_dim):
//   a' = a cos - b sin,  b' = b cos + a sin.
// Each thread rotates L consecutive pairs (a full 16-byte vector of each half when head_dim / 2 is
// a multiple of it); grid-stride over rows * width / 2 / L groups. `log2_theta` = log2(theta).
template <typename T, int L>
__device__ __forceinline__ void rope_groups(T* __restrict__ x, int rows, int width, int head_dim, float log2_theta) {
    const int half = head_dim / 2;
    const long long per_row = (long long)(width / 2) / L;
    const long long total = (long long)rows * per_row;
    for (long long g = global_thread(); g < total; g += grid_threads()) {
        const long long row = g / per_row;
        const int p = (int)(g % per_row) * L;  // first pair of the group, within the row
        const int head = p / half, i0 = p % half;
        T* a = x + row * width + (long long)head * head_dim + i0;
        T* b = a + half;
        float fa[L], fb[L];
        load_n<T, L>(a, fa);
        load_n<T, L>(b, fb);
        #pragma unroll
        for (int u = 0; u < L; ++u) {
            const float e = (float)(2 * (i0 + u)) / (float)head_dim;
            const float angle = (float)row * exp2f(-e * log2_theta);
            float s, c;
            sincosf(angle, &s, &c);
            const float ra = fa[u] * c - fb[u] * s;
            const float rb = fb[u] * c + fa[u] * s;
            fa[u] = ra;
            fb[u] = rb;
        }
        store_n<T, L>(a, fa);
        store_n<T, L>(b, fb);
    }
}

template <typename T>
__device__ void rope(T* __restrict__ x, int rows, int width, int head_dim, float log2_theta) {
    if (head_dim < 2 || head_dim % 2 != 0 || width % head_dim != 0) return;  // checked on the host
    if ((head_dim / 2) % Lanes<T>::N == 0) {
        rope_groups<T, Lanes<T>::N>(x, rows, width, head_dim, log2_theta);
    } else {
        rope_groups<T, 1>(x, rows, width, head_dim, log2_theta);
    }
}

extern "C" __global__ void layer_rope_f32(float* x, int rows, int width, int head_dim, float log2_theta) {
    rope<float>(x, rows, width, head_dim, log2_theta);
}
extern "C" __global__ void layer_rope_bf16(bf16_t* x, int rows, int width, int head_dim, float log2_theta) {
    rope<bf16_t>(x, rows, width, head_dim, log2_theta);
}

// ---- Flat passes: SwiGLU, residual add, copy ---------------------------------------------------
// Over `count` elements, grid-stride: whole 16-byte vectors first, then the tail of count % N
// elements one per thread.
#define OP_ADD 0
#define OP_SWIGLU 1

template <int OP>
__device__ __forceinline__ float binary_op(float a, float b) {
    if constexpr (OP == OP_ADD) {
        return a + b;
    } else {
        // silu(a) * b = a / (1 + e^-a) * b; for a -> -inf, a / inf = -0.
        return a / (1.0f + expf(-a)) * b;
    }
}

template <typename T, int OP>
__device__ void binary_map(const T* __restrict__ a, const T* __restrict__ b, T* __restrict__ out, long long count) {
    constexpr int N = Lanes<T>::N;
    const long long vecs = count / N;
    for (long long v = global_thread(); v < vecs; v += grid_threads()) {
        float fa[N], fb[N];
        load_vec(a + v * N, fa);
        load_vec(b + v * N, fb);
        #pragma unroll
        for (int u = 0; u < N; ++u) fa[u] = binary_op<OP>(fa[u], fb[u]);
        store_vec(out + v * N, fa);
    }
    for (long long e = vecs * N + global_thread(); e < count; e += grid_threads()) {
        store_f32(out + e, binary_op<OP>(to_f32(a[e]), to_f32(b[e])));
    }
}

template <typename T>
__device__ void copy_map(const T* __restrict__ x, T* __restrict__ out, long long count) {
    constexpr int N = Lanes<T>::N;
    const long long vecs = count / N;
    for (long long v = global_thread(); v < vecs; v += grid_threads()) {
        *reinterpret_cast<uint4*>(out + v * N) = *reinterpret_cast<const uint4*>(x + v * N);
    }
    for (long long e = vecs * N + global_thread(); e < count; e += grid_threads()) out[e] = x[e];
}

// out = silu(gate) * up.
extern "C" __global__ void layer_swiglu_f32(const float* gate, const float* up, float* out, long long count) {
    binary_map<float, OP_SWIGLU>(gate, up, out, count);
}
extern "C" __global__ void layer_swiglu_bf16(const bf16_t* gate, const bf16_t* up, bf16_t* out, long long count) {
    binary_map<bf16_t, OP_SWIGLU>(gate, up, out, count);
}

// out = a + b (the residual connection).
extern "C" __global__ void layer_add_f32(const float* a, const float* b, float* out, long long count) {
    binary_map<float, OP_ADD>(a, b, out, count);
}
extern "C" __global__ void layer_add_bf16(const bf16_t* a, const bf16_t* b, bf16_t* out, long long count) {
    binary_map<bf16_t, OP_ADD>(a, b, out, count);
}

// out = x (the launch probe: one read, one write, next to no work).
extern "C" __global__ void layer_copy_f32(const float* x, float* out, long long count) {
    copy_map<float>(x, out, count);
}
extern "C" __global__ void layer_copy_bf16(const bf16_t* x, bf16_t* out, long long count) {
    copy_map<bf16_t>(x, out, count);
}
