// Causal prefill attention, head-major layout: Q [H, n, D], K and V [Hkv, n, D], O [H, n, D];
// query head h reads key/value head h / (H / Hkv) (GQA). Logits are q.k * scale (scale = 1/sqrt(D)),
// key j is visible to query i iff j <= i. CPU references: src/kernels/cpu.rs `attention_causal`,
// `causal_logits`. Instantiated for D = 64 and 128 (the presets' head sizes).
//
// attn_flash_*   FlashAttention-style: one block per (32-query tile, head), key/value tiles of 32
//                streamed through shared memory, online softmax in the log2 domain, f32 accumulators;
//                never writes the n x n matrix.
// attn_logits_*  eager step 1: writes the masked logits [H, n, n] (f32, -inf above the diagonal):
//                the tensor an AIM pruning layer reads.
// attn_softmax   eager step 2: row softmax of the logits (lower triangle written, upper left alone).
// attn_pv_*      eager step 3: O = P V over the lower triangle.
#include "common.cuh"

template <typename T, int D>
__device__ void attn_flash(const T* __restrict__ q, const T* __restrict__ k, const T* __restrict__ v,
                           T* __restrict__ o, int H, int Hkv, int n, float scale) {
    __shared__ float Qs[TILE][D + 1];
    __shared__ float KVs[TILE][D + 1];
    __shared__ float Ps[TILE][TILE + 1];
    const int h = blockIdx.y;
    // Heaviest (last) query tiles first: causal work grows with the tile index.
    const long long q0 = (long long)(gridDim.x - 1 - blockIdx.x) * TILE;
    if (h >= H || Hkv <= 0 || H % Hkv != 0 || q0 >= n) return;
    const int kvh = h / (H / Hkv);
    const T* qh = q + (long long)h * n * D;
    const T* kh = k + (long long)kvh * n * D;
    const T* vh = v + (long long)kvh * n * D;
    T* oh = o + (long long)h * n * D;
    const int r = threadIdx.x / 4, c = threadIdx.x % 4;
    const long long i = q0 + r;
    const float scale_log2 = scale * AIM_LOG2E;

    load_tile<T, D>(Qs, qh, q0, n);
    float acc[D / 4];
    #pragma unroll
    for (int u = 0; u < D / 4; ++u) acc[u] = 0.0f;
    float m = -AIM_INF, l = 0.0f;
    const long long last_key = min(q0 + TILE, (long long)n) - 1;
    for (long long k0 = 0; k0 <= last_key; k0 += TILE) {
        __syncthreads();  // the previous tile's P V is done with KVs and Ps
        load_tile<T, D>(KVs, kh, k0, n);
        __syncthreads();
        float s[TILE / 4];
        dot_tile<D>(Qs, KVs, s);
        float tile_max = -AIM_INF;
        #pragma unroll
        for (int mm = 0; mm < TILE / 4; ++mm) {
            const long long j = k0 + c + 4 * mm;
            s[mm] = (j <= i && i < n) ? s[mm] * scale_log2 : -AIM_INF;
            tile_max = fmaxf(tile_max, s[mm]);
        }
        // The four threads of a row are lanes 4r .. 4r + 3 of one warp.
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 1));
        tile_max = fmaxf(tile_max, __shfl_xor_sync(0xffffffffu, tile_max, 2));
        const float m_new = fmaxf(m, tile_max);
        const float m_ref = m_new == -AIM_INF ? 0.0f : m_new;  // fully masked rows stay at zero
        const float alpha = exp2f(m - m_ref);
        float row_sum = 0.0f;
        #pragma unroll
        for (int mm = 0; mm < TILE / 4; ++mm) {
            const float p = exp2f(s[mm] - m_ref);
            Ps[r][c + 4 * mm] = p;
            row_sum += p;
        }
        row_sum += __shfl_xor_sync(0xffffffffu, row_sum, 1);
        row_sum += __shfl_xor_sync(0xffffffffu, row_sum, 2);
        l = l * alpha + row_sum;
        m = m_new;
        __syncthreads();  // everyone is done reading K and has written P
        load_tile<T, D>(KVs, vh, k0, n);
        __syncthreads();
        #pragma unroll
        for (int u = 0; u < D / 4; ++u) acc[u] *= alpha;
        #pragma unroll 4
        for (int jj = 0; jj < TILE; ++jj) {
            const float p = Ps[r][jj];
            #pragma unroll
            for (int u = 0; u < D / 4; ++u) acc[u] += p * KVs[jj][c + 4 * u];
        }
    }
    if (i < n) {
        const float inv_l = 1.0f / l;
        #pragma unroll
        for (int u = 0; u < D / 4; ++u) store_f32(oh + i * D + c + 4 * u, acc[u] * inv_l);
    }
}

// Grid (ceil(n/32) key tiles, ceil(n/32) query tiles, H); 128 threads.
template <typename T, int D>
__device__ void attn_logits(const T* __restrict__ q, const T* __restrict__ k, float* __restrict__ logits,
                            int H, int Hkv, int n, float scale) {
    __shared__ float Qs[TILE][D + 1];
    __shared__ float Ks[TILE][D + 1];
    __shared__ float Ss[TILE][TILE + 1];
    const int h = blockIdx.z;
    const long long k0 = (long long)blockIdx.x * TILE, q0 = (long long)blockIdx.y * TILE;
    if (h >= H || Hkv <= 0 || H % Hkv != 0 || q0 >= n || k0 >= n) return;
    const int kvh = h / (H / Hkv);
    float* out = logits + (long long)h * n * n;
    if (k0 <= q0 + TILE - 1) {
        load_tile<T, D>(Qs, q + (long long)h * n * D, q0, n);
        load_tile<T, D>(Ks, k + (long long)kvh * n * D, k0, n);
        __syncthreads();
        float s[TILE / 4];
        dot_tile<D>(Qs, Ks, s);
        const int r = threadIdx.x / 4, c = threadIdx.x % 4;
        #pragma unroll
        for (int mm = 0; mm < TILE / 4; ++mm) {
            const bool visible = k0 + c + 4 * mm <= q0 + r;
            Ss[r][c + 4 * mm] = visible ? s[mm] * scale : -AIM_INF;
        }
    } else {
        for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) Ss[e / TILE][e % TILE] = -AIM_INF;
    }
    __syncthreads();
    // Row-contiguous stores: a warp writes 32 consecutive logits of one row.
    for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
        const long long i = q0 + e / TILE, j = k0 + e % TILE;
        if (i < n && j < n) out[i * n + j] = Ss[e / TILE][e % TILE];
    }
}

// Grid (n, H); blockDim.x a multiple of 32 (256 used).
extern "C" __global__ void attn_softmax(const float* __restrict__ logits, float* __restrict__ probs, int H,
                                        int n) {
    __shared__ float scratch[32];
    const long long i = blockIdx.x;
    const int h = blockIdx.y;
    if (h >= H || i >= n) return;
    const long long row = ((long long)h * n + i) * n;
    softmax_row(logits + row, probs + row, i + 1, 1.0f, scratch);
}

// Grid (ceil(n/32) query tiles, H); 128 threads. Reads only the lower triangle of P.
template <typename T, int D>
__device__ void attn_pv(const float* __restrict__ probs, const T* __restrict__ v, T* __restrict__ o, int H,
                        int Hkv, int n) {
    __shared__ float Ps[TILE][TILE + 1];
    __shared__ float Vs[TILE][D + 1];
    const int h = blockIdx.y;
    const long long q0 = (long long)(gridDim.x - 1 - blockIdx.x) * TILE;
    if (h >= H || Hkv <= 0 || H % Hkv != 0 || q0 >= n) return;
    const int kvh = h / (H / Hkv);
    const float* ph = probs + (long long)h * n * n;
    const T* vh = v + (long long)kvh * n * D;
    const int r = threadIdx.x / 4, c = threadIdx.x % 4;
    const long long i = q0 + r;
    float acc[D / 4];
    #pragma unroll
    for (int u = 0; u < D / 4; ++u) acc[u] = 0.0f;
    const long long last_key = min(q0 + TILE, (long long)n) - 1;
    for (long long k0 = 0; k0 <= last_key; k0 += TILE) {
        __syncthreads();
        for (int e = threadIdx.x; e < TILE * TILE; e += blockDim.x) {
            const long long ii = q0 + e / TILE, jj = k0 + e % TILE;
            Ps[e / TILE][e % TILE] = (ii < n && jj <= ii) ? ph[ii * n + jj] : 0.0f;
        }
        load_tile<T, D>(Vs, vh, k0, n);
        __syncthreads();
        #pragma unroll 4
        for (int jj = 0; jj < TILE; ++jj) {
            const float p = Ps[r][jj];
            #pragma unroll
            for (int u = 0; u < D / 4; ++u) acc[u] += p * Vs[jj][c + 4 * u];
        }
    }
    if (i < n) {
        #pragma unroll
        for (int u = 0; u < D / 4; ++u) store_f32(o + ((long long)h * n + i) * D + c + 4 * u, acc[u]);
    }
}

#define AIM_ATTENTION_ENTRIES(D, T, SUFFIX)                                                                 \
    extern "C" __global__ void __launch_bounds__(TILE_THREADS)                                             \
        attn_flash_d##D##_##SUFFIX(const T* q, const T* k, const T* v, T* o, int H, int Hkv, int n,        \
                                   float scale) {                                                           \
        attn_flash<T, D>(q, k, v, o, H, Hkv, n, scale);                                                     \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(TILE_THREADS)                                             \
        attn_logits_d##D##_##SUFFIX(const T* q, const T* k, float* logits, int H, int Hkv, int n,           \
                                    float scale) {                                                          \
        attn_logits<T, D>(q, k, logits, H, Hkv, n, scale);                                                  \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(TILE_THREADS)                                             \
        attn_pv_d##D##_##SUFFIX(const float* probs, const T* v, T* o, int H, int Hkv, int n) {              \
        attn_pv<T, D>(probs, v, o, H, Hkv, n);                                                              \
    }

AIM_ATTENTION_ENTRIES(64, float, f32)
AIM_ATTENTION_ENTRIES(64, bf16_t, bf16)
AIM_ATTENTION_ENTRIES(128, float, f32)
AIM_ATTENTION_ENTRIES(128, bf16_t, bf16)
