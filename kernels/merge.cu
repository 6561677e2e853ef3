// AIM token merging (ToMe-style bipartite soft matching), one pass, batched over frames.
// Semantics: ../docs/kernels.md "Token merging"; CPU reference: src/kernels/cpu.rs `merge_pass`.
//
// Input x [F, P, D]. Set A = even positions (nA = ceil(P/2)), set B = odd positions (nB = P/2).
// 1. merge_scores: S[f, i, j] = cos(a_i, b_j), norms computed on the fly (eps 1e-12 as F.normalize).
// 2. merge_match: per A token its best B (ties: lowest j), ranks of A tokens by best score
//    (descending, ties: lowest i); the r best are merged into their match, the rest kept in rank order.
// 3. merge_apply: out [F, P - r, D] = unmerged A tokens (rank order), then every B token as the mean of
//    itself and the A tokens merged into it (sources summed in increasing i).
#include "common.cuh"

#define MS_TILE 32   // output tile of merge_scores: 32 A tokens x 32 B tokens
#define MS_K 32      // feature slice per step
#define MERGE_MAX_A 1024  // merge_match keeps per-A state in shared memory

// Block 256 threads; grid (ceil(nB/32), ceil(nA/32), F). Thread (ty, tx) = (t/16, t%16) computes
// rows {ty, ty+16} x cols {tx, tx+16} of the tile. Loads: thread t fetches row t/8, features
// (t%8)*4 .. +4 of both operands and squares them for the norms.
template <typename T>
__device__ void merge_scores(const T* __restrict__ x, float* __restrict__ scores, int P, int D) {
    __shared__ float As[MS_TILE][MS_K + 1];
    __shared__ float Bs[MS_TILE][MS_K + 1];
    __shared__ float norm_a[MS_TILE];
    __shared__ float norm_b[MS_TILE];
    const int nA = (P + 1) / 2, nB = P / 2;
    const int f = blockIdx.z;
    const int i0 = blockIdx.y * MS_TILE, j0 = blockIdx.x * MS_TILE;
    const int t = threadIdx.x, ty = t / 16, tx = t % 16;
    const int load_row = t / 8, load_col = (t % 8) * 4;
    const T* frame = x + (long long)f * P * D;
    const int ia = i0 + load_row, jb = j0 + load_row;
    const T* a_row = ia < nA ? frame + (long long)(2 * ia) * D : nullptr;
    const T* b_row = jb < nB ? frame + (long long)(2 * jb + 1) * D : nullptr;

    float acc[2][2] = {{0.0f, 0.0f}, {0.0f, 0.0f}};
    float sq_a = 0.0f, sq_b = 0.0f;
    for (int k0 = 0; k0 < D; k0 += MS_K) {
        #pragma unroll
        for (int u = 0; u < 4; ++u) {
            const int k = k0 + load_col + u;
            const float va = (a_row && k < D) ? to_f32(a_row[k]) : 0.0f;
            const float vb = (b_row && k < D) ? to_f32(b_row[k]) : 0.0f;
            As[load_row][load_col + u] = va;
            Bs[load_row][load_col + u] = vb;
            sq_a += va * va;
            sq_b += vb * vb;
        }
        __syncthreads();
        #pragma unroll 8
        for (int k = 0; k < MS_K; ++k) {
            const float a0 = As[ty][k], a1 = As[ty + 16][k];
            const float b0 = Bs[tx][k], b1 = Bs[tx + 16][k];
            acc[0][0] += a0 * b0;
            acc[0][1] += a0 * b1;
            acc[1][0] += a1 * b0;
            acc[1][1] += a1 * b1;
        }
        __syncthreads();
    }
    // The 8 threads loading one row are 8 consecutive lanes of one warp.
    for (int offset = 4; offset > 0; offset >>= 1) {
        sq_a += __shfl_xor_sync(0xffffffffu, sq_a, offset);
        sq_b += __shfl_xor_sync(0xffffffffu, sq_b, offset);
    }
    if (t % 8 == 0) {
        norm_a[load_row] = fmaxf(sqrtf(sq_a), 1e-12f);
        norm_b[load_row] = fmaxf(sqrtf(sq_b), 1e-12f);
    }
    __syncthreads();
    #pragma unroll
    for (int u = 0; u < 2; ++u) {
        #pragma unroll
        for (int v = 0; v < 2; ++v) {
            const int ri = ty + 16 * u, cj = tx + 16 * v;
            const int i = i0 + ri, j = j0 + cj;
            if (i < nA && j < nB) {
                scores[((long long)f * nA + i) * nB + j] = acc[u][v] / (norm_a[ri] * norm_b[cj]);
            }
        }
    }
}

extern "C" __global__ void __launch_bounds__(256) merge_scores_f32(const float* x, float* scores, int P, int D) {
    merge_scores<float>(x, scores, P, D);
}
extern "C" __global__ void __launch_bounds__(256) merge_scores_bf16(const bf16_t* x, float* scores, int P, int D) {
    merge_scores<bf16_t>(x, scores, P, D);
}

// One block per frame (grid F), any blockDim.x multiple of 32. Writes
//   dst[f, i]     = B index A token i merges into, or -1 when it stays;
//   unm_src[f, o] = A index of unmerged output row o, o < nA - r.
// Requires nA <= MERGE_MAX_A and r <= nB (checked by the launcher; the kernel returns otherwise).
extern "C" __global__ void merge_match(const float* __restrict__ scores, int* __restrict__ dst,
                                       int* __restrict__ unm_src, int P, int r) {
    __shared__ float best[MERGE_MAX_A];
    __shared__ int best_j[MERGE_MAX_A];
    const int nA = (P + 1) / 2, nB = P / 2;
    if (nA > MERGE_MAX_A || r < 0 || r > nB) return;
    const int f = blockIdx.x;
    const float* s = scores + (long long)f * nA * nB;
    for (int i = threadIdx.x; i < nA; i += blockDim.x) {
        float m = -AIM_INF;
        int mj = -1;
        for (int j = 0; j < nB; ++j) {
            const float v = s[(long long)i * nB + j];
            if (v > m || mj < 0) {
                m = v;
                mj = j;
            }
        }
        best[i] = m;
        best_j[i] = mj;
    }
    __syncthreads();
    for (int i = threadIdx.x; i < nA; i += blockDim.x) {
        const float mine = best[i];
        int rank = 0;
        for (int k = 0; k < nA; ++k) {
            const float other = best[k];
            rank += (other > mine || (other == mine && k < i)) ? 1 : 0;
        }
        if (rank < r) {
            dst[(long long)f * nA + i] = best_j[i];
        } else {
            dst[(long long)f * nA + i] = -1;
            unm_src[(long long)f * (nA - r) + (rank - r)] = i;
        }
    }
}

// Grid (P - r, F); blockDim.x any multiple of 32 (256 used). One block per output row.
template <typename T>
__device__ void merge_apply(const T* __restrict__ x, const int* __restrict__ dst,
                            const int* __restrict__ unm_src, T* __restrict__ out, int P, int D, int r) {
    __shared__ int sources[MERGE_MAX_A];
    __shared__ int count;
    const int nA = (P + 1) / 2;
    const int n_unm = nA - r, n_out = P - r;
    const int o = blockIdx.x, f = blockIdx.y;
    if (nA > MERGE_MAX_A || o >= n_out) return;
    const T* frame = x + (long long)f * P * D;
    T* out_row = out + ((long long)f * n_out + o) * D;
    if (o < n_unm) {
        const T* src = frame + (long long)(2 * unm_src[(long long)f * n_unm + o]) * D;
        for (int k = threadIdx.x; k < D; k += blockDim.x) out_row[k] = src[k];
        return;
    }
    const int j = o - n_unm;
    if (threadIdx.x == 0) {
        // Serial, ordered compaction: the sum order (increasing i) matches the CPU reference.
        int c = 0;
        const int* d = dst + (long long)f * nA;
        for (int i = 0; i < nA; ++i) {
            if (d[i] == j) sources[c++] = i;
        }
        count = c;
    }
    __syncthreads();
    const int c = count;
    const float count_f = (float)(c + 1);
    const T* b_row = frame + (long long)(2 * j + 1) * D;
    for (int k = threadIdx.x; k < D; k += blockDim.x) {
        float acc = to_f32(b_row[k]);
        for (int s = 0; s < c; ++s) acc += to_f32(frame[(long long)(2 * sources[s]) * D + k]);
        store_f32(out_row + k, acc / count_f);
    }
}

extern "C" __global__ void merge_apply_f32(const float* x, const int* dst, const int* unm_src, float* out,
                                           int P, int D, int r) {
    merge_apply<float>(x, dst, unm_src, out, P, D, r);
}
extern "C" __global__ void merge_apply_bf16(const bf16_t* x, const int* dst, const int* unm_src, bf16_t* out,
                                            int P, int D, int r) {
    merge_apply<bf16_t>(x, dst, unm_src, out, P, D, r);
}
