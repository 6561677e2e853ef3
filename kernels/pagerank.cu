// AIM's PageRank importance and the pruning it drives (keep text + top-k visual, gather).
// CPU references: src/kernels/cpu.rs `pagerank_from_logits`, `pagerank_from_qk`, `select_tokens`,
// `gather_rows`. Semantics: docs/kernels.md "PageRank importance".
//
// Per head h: M = softmax(L / tau) row-wise over the causal prefix (L = masked logits q.k * scale,
// tau = 0.1); dist starts uniform 1/n; `iterations` times dist <- dist M (no damping);
// score_j = sqrt(mean_h dist_h,j^2).
//
// Materialising path: pagerank_softmax writes M (lower triangle, f32), pagerank_step multiplies.
// Fused path (FlashAttention-compatible): pagerank_row_stats makes the per-row normalisers
// (max m_i and sum l_i, log2 domain) from Q and K; pagerank_fused_step recomputes each Q K^T tile
// and uses p_ij = exp2(z_ij - m_i) / l_i on the fly. M is never stored.
#include "common.cuh"

// dist[e] = value for e < count. Grid ceil(count / 256), 256 threads.
extern "C" __global__ void pagerank_fill(float* __restrict__ dist, int count, float value) {
    const int e = blockIdx.x * blockDim.x + threadIdx.x;
    if (e < count) dist[e] = value;
}

// Grid (n, H); blockDim.x a multiple of 32 (256 used). probs[h, i, j] for j <= i only.
extern "C" __global__ void pagerank_softmax(const float* __restrict__ logits, float* __restrict__ probs, int H,
                                            int n, float inv_temperature) {
    __shared__ float scratch[32];
    const long long i = blockIdx.x;
    const int h = blockIdx.y;
    if (h >= H || i >= n) return;
    const long long row = ((long long)h * n + i) * n;
    softmax_row(logits + row, probs + row, i + 1, inv_temperature, scratch);
}

// dist_out[h, j] = sum_{i >= j} dist_in[h, i] probs[h, i, j]. Block (32, 8): 32 columns, 8 row
// phases; grid (ceil(n/32), H). Reads only the lower triangle; a warp reads 32 consecutive floats.
extern "C" __global__ void pagerank_step(const float* __restrict__ probs, const float* __restrict__ dist_in,
                                         float* __restrict__ dist_out, int H, int n) {
    __shared__ float partial[8][33];
    const int h = blockIdx.y;
    const int tx = threadIdx.x, ty = threadIdx.y;
    const long long j0 = (long long)blockIdx.x * 32, j = j0 + tx;
    if (h >= H || j0 >= n || blockDim.x != 32 || blockDim.y != 8) return;
    const float* ph = probs + (long long)h * n * n;
    const float* d = dist_in + (long long)h * n;
    float acc = 0.0f;
    if (j < n) {
        for (long long i = j0 + ty; i < n; i += 8) {
            if (i >= j) acc += d[i] * ph[i * n + j];
        }
    }
    partial[ty][tx] = acc;
    __syncthreads();
    if (ty == 0 && j < n) {
        float sum = 0.0f;
        #pragma unroll
        for (int p = 0; p < 8; ++p) sum += partial[p][tx];
        dist_out[(long long)h * n + j] = sum;
    }
}

// score[j] = sqrt(sum_h dist[h, j]^2 / H). Grid ceil(n / 256), 256 threads.
extern "C" __global__ void pagerank_rms(const float* __restrict__ dist, float* __restrict__ score, int H, int n) {
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    if (j >= n) return;
    float sum = 0.0f;
    for (int h = 0; h < H; ++h) {
        const float x = dist[(long long)h * n + j];
        sum += x * x;
    }
    score[j] = sqrtf(sum / (float)H);
}

// ---- Fused path ------------------------------------------------------------------------------
// z_ij = (q_i . k_j) * c with c = scale * log2(e) / tau; m_i = max_{j <= i} z_ij;
// l_i = sum_{j <= i} exp2(z_ij - m_i). Grid (ceil(n/32) query tiles, H); 128 threads.
template <typename T, int D>
__device__ void pagerank_row_stats(const T* __restrict__ q, const T* __restrict__ k, float* __restrict__ row_max,
                                   float* __restrict__ row_sum, int H, int Hkv, int n, float c_log2) {
    __shared__ float Qs[TILE][D + 1];
    __shared__ float Ks[TILE][D + 1];
    const int h = blockIdx.y;
    const long long q0 = (long long)(gridDim.x - 1 - blockIdx.x) * TILE;
    if (h >= H || Hkv <= 0 || H % Hkv != 0 || q0 >= n) return;
    const int kvh = h / (H / Hkv);
    const int r = threadIdx.x / 4, c = threadIdx.x % 4;
    const long long i = q0 + r;
    load_tile<T, D>(Qs, q + (long long)h * n * D, q0, n);
    float m = -AIM_INF, l = 0.0f;
    const long long last_key = min(q0 + TILE, (long long)n) - 1;
    for (long long k0 = 0; k0 <= last_key; k0 += TILE) {
        __syncthreads();
        load_tile<T, D>(Ks, k + (long long)kvh * n * D, k0, n);
        __syncthreads();
        float s[TILE / 4];
        dot_tile<D>(Qs, Ks, s);
        float tile_max = -AIM_INF;
        #pragma unroll
        for (int mm = 0; mm < TILE / 4; ++mm) {
            const long long j = k0 + c + 4 * mm;
            s[mm] = (j <= i && i < n) ? s[mm] * c_log2 : -AIM_INF;
            tile_max = fmaxf(tile_max, s[mm]);
        }
        const float m_new = fmaxf(m, tile_max);
        if (m_new != -AIM_INF) {
            float add = 0.0f;
            #pragma unroll
            for (int mm = 0; mm < TILE / 4; ++mm) add += exp2f(s[mm] - m_new);
            l = l * exp2f(m - m_new) + add;
            m = m_new;
        }
    }
    // Merge the (m, l) pairs of the four threads of a row (lanes 4r .. 4r + 3).
    #pragma unroll
    for (int offset = 1; offset <= 2; offset <<= 1) {
        const float m_o = __shfl_xor_sync(0xffffffffu, m, offset);
        const float l_o = __shfl_xor_sync(0xffffffffu, l, offset);
        const float m_new = fmaxf(m, m_o);
        if (m_new != -AIM_INF) {
            l = (m == -AIM_INF ? 0.0f : l * exp2f(m - m_new)) + (m_o == -AIM_INF ? 0.0f : l_o * exp2f(m_o - m_new));
            m = m_new;
        }
    }
    if (c == 0 && i < n) {
        row_max[(long long)h * n + i] = m;
        row_sum[(long long)h * n + i] = l;
    }
}

// dist_out[h, j] = sum_{i >= j} dist_in[h, i] / l_i * exp2(z_ij - m_i). One block per (32-key
// tile, head): K tile resident, query tiles from the diagonal down streamed through shared memory.
// Grid (ceil(n/32), H); 128 threads. Deterministic: fixed reduction order, no atomics.
template <typename T, int D>
__device__ void pagerank_fused_step(const T* __restrict__ q, const T* __restrict__ k,
                                    const float* __restrict__ row_max, const float* __restrict__ row_sum,
                                    const float* __restrict__ dist_in, float* __restrict__ dist_out, int H, int Hkv,
                                    int n, float c_log2) {
    __shared__ float Qs[TILE][D + 1];
    __shared__ float Ks[TILE][D + 1];
    __shared__ float weight[TILE];
    __shared__ float shift[TILE];
    __shared__ float partial[TILE][TILE + 1];
    const int h = blockIdx.y;
    const long long k0 = (long long)blockIdx.x * TILE;
    if (h >= H || Hkv <= 0 || H % Hkv != 0 || k0 >= n) return;
    const int kvh = h / (H / Hkv);
    const int r = threadIdx.x / 4, c = threadIdx.x % 4;
    const float* mh = row_max + (long long)h * n;
    const float* lh = row_sum + (long long)h * n;
    const float* dh = dist_in + (long long)h * n;
    load_tile<T, D>(Ks, k + (long long)kvh * n * D, k0, n);
    float col[TILE / 4];
    #pragma unroll
    for (int mm = 0; mm < TILE / 4; ++mm) col[mm] = 0.0f;
    for (long long q0 = k0 - k0 % TILE; q0 < n; q0 += TILE) {
        __syncthreads();
        load_tile<T, D>(Qs, q + (long long)h * n * D, q0, n);
        if (threadIdx.x < TILE) {
            const long long ii = q0 + threadIdx.x;
            weight[threadIdx.x] = ii < n ? dh[ii] / lh[ii] : 0.0f;
            shift[threadIdx.x] = ii < n ? mh[ii] : 0.0f;
        }
        __syncthreads();
        float s[TILE / 4];
        dot_tile<D>(Qs, Ks, s);
        const long long i = q0 + r;
        #pragma unroll
        for (int mm = 0; mm < TILE / 4; ++mm) {
            const long long j = k0 + c + 4 * mm;
            if (j <= i && i < n) col[mm] += weight[r] * exp2f(s[mm] * c_log2 - shift[r]);
        }
    }
    #pragma unroll
    for (int mm = 0; mm < TILE / 4; ++mm) partial[r][c + 4 * mm] = col[mm];
    __syncthreads();
    if (threadIdx.x < TILE) {
        const long long j = k0 + threadIdx.x;
        float sum = 0.0f;
        for (int rr = 0; rr < TILE; ++rr) sum += partial[rr][threadIdx.x];
        if (j < n) dist_out[(long long)h * n + j] = sum;
    }
}

#define AIM_PAGERANK_ENTRIES(D, T, SUFFIX)                                                                  \
    extern "C" __global__ void __launch_bounds__(TILE_THREADS)                                             \
        pagerank_row_stats_d##D##_##SUFFIX(const T* q, const T* k, float* row_max, float* row_sum, int H,   \
                                           int Hkv, int n, float c_log2) {                                 \
        pagerank_row_stats<T, D>(q, k, row_max, row_sum, H, Hkv, n, c_log2);                                \
    }                                                                                                       \
    extern "C" __global__ void __launch_bounds__(TILE_THREADS)                                             \
        pagerank_fused_step_d##D##_##SUFFIX(const T* q, const T* k, const float* row_max,                   \
                                            const float* row_sum, const float* dist_in, float* dist_out,    \
                                            int H, int Hkv, int n, float c_log2) {                         \
        pagerank_fused_step<T, D>(q, k, row_max, row_sum, dist_in, dist_out, H, Hkv, n, c_log2);            \
    }

AIM_PAGERANK_ENTRIES(64, float, f32)
AIM_PAGERANK_ENTRIES(64, bf16_t, bf16)
AIM_PAGERANK_ENTRIES(128, float, f32)
AIM_PAGERANK_ENTRIES(128, bf16_t, bf16)

// ---- Pruning: keep all text tokens and the top-k visual tokens, in sequence order -------------
// Visual tokens are positions [vis_begin, vis_end); everything else is text. A visual token is
// kept iff its rank is below k. The rank order (`ranks_before`, mirrored by cpu::ranks_before):
// higher score first; NaN after every number, so a NaN score is kept only when fewer than k
// visual tokens have a number; equal scores (including -0 and +0) and NaNs by lower position.
// It is a strict total order, so the ranks are a permutation and exactly min(k, visual) are kept.

// Whether score `a` at position `pa` ranks before score `b` at position `pb`. NaN is tested on
// the bits, which no compiler flag can fold away.
__device__ __forceinline__ bool ranks_before(float a, int pa, float b, int pb) {
    const bool a_nan = (__float_as_uint(a) & 0x7fffffffu) > 0x7f800000u;
    const bool b_nan = (__float_as_uint(b) & 0x7fffffffu) > 0x7f800000u;
    if (a_nan != b_nan) return b_nan;
    if (!a_nan && a != b) return a > b;
    return pa < pb;
}

// Grid ceil(n / 256), 256 threads.
extern "C" __global__ void select_flags(const float* __restrict__ score, int* __restrict__ keep, int n,
                                        int vis_begin, int vis_end, int k) {
    __shared__ float chunk[256];
    const int j = blockIdx.x * blockDim.x + threadIdx.x;
    const bool visual = j >= vis_begin && j < vis_end;
    const float mine = j < n ? score[j] : 0.0f;
    int rank = 0;
    for (int base = vis_begin; base < vis_end; base += blockDim.x) {
        __syncthreads();
        const int e = base + threadIdx.x;
        if (threadIdx.x < 256) chunk[threadIdx.x] = e < vis_end ? score[e] : 0.0f;
        __syncthreads();
        const int len = min((int)blockDim.x, vis_end - base);
        if (visual) {
            for (int t = 0; t < len; ++t) {
                const float other = chunk[t];
                const int pos = base + t;
                rank += ranks_before(other, pos, mine, j) ? 1 : 0;
            }
        }
    }
    if (j < n) keep[j] = visual ? (rank < k ? 1 : 0) : 1;
}

// Ordered compaction: index[o] = position of the o-th kept token for o < capacity (the size of
// `index`); *count = kept tokens, which exceeds capacity only if the flags do (the launcher
// compares it with the kept count it expects). Never writes past `index`.
// One block of 1024 threads (any multiple of 32 up to 1024 works).
extern "C" __global__ void select_compact(const int* __restrict__ keep, int* __restrict__ index,
                                          int* __restrict__ count, int n, int capacity) {
    __shared__ int warp_totals[32];
    __shared__ int running;
    const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = blockDim.x >> 5;
    if (threadIdx.x == 0) running = 0;
    __syncthreads();
    for (int base = 0; base < n; base += blockDim.x) {
        const int j = base + threadIdx.x;
        const int flag = (j < n && keep[j]) ? 1 : 0;
        // Inclusive scan within the warp.
        int x = flag;
        for (int offset = 1; offset < 32; offset <<= 1) {
            const int y = __shfl_up_sync(0xffffffffu, x, offset);
            if (lane >= offset) x += y;
        }
        if (lane == 31) warp_totals[warp] = x;
        __syncthreads();
        if (warp == 0) {
            int w = lane < warps ? warp_totals[lane] : 0;
            for (int offset = 1; offset < 32; offset <<= 1) {
                const int y = __shfl_up_sync(0xffffffffu, w, offset);
                if (lane >= offset) w += y;
            }
            warp_totals[lane] = w;  // inclusive scan of the warp totals
        }
        __syncthreads();
        const int before = running + (warp > 0 ? warp_totals[warp - 1] : 0) + x - flag;
        if (flag && before < capacity) index[before] = j;
        __syncthreads();
        if (threadIdx.x == 0) running += warp_totals[warps - 1];
        __syncthreads();
    }
    if (threadIdx.x == 0) *count = running;
}

// out[o, :] = hidden[index[o], :]. Grid n_out, 256 threads.
template <typename T>
__device__ void gather_rows(const T* __restrict__ hidden, const int* __restrict__ index, T* __restrict__ out,
                            int n_out, int width) {
    const int o = blockIdx.x;
    if (o >= n_out) return;
    const T* src = hidden + (long long)index[o] * width;
    T* dst = out + (long long)o * width;
    for (int e = threadIdx.x; e < width; e += blockDim.x) dst[e] = src[e];
}

extern "C" __global__ void gather_rows_f32(const float* hidden, const int* index, float* out, int n_out, int width) {
    gather_rows<float>(hidden, index, out, n_out, width);
}
extern "C" __global__ void gather_rows_bf16(const bf16_t* hidden, const int* index, bf16_t* out, int n_out,
                                            int width) {
    gather_rows<bf16_t>(hidden, index, out, n_out, width);
}
