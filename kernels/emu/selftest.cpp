// Kernels that check the emulator itself against CUDA's definitions (tests/emu.rs,
// `emu_runtime_*`): shuffles and votes, barrier reductions, shared memory across a barrier, a
// deadlock, a write past a buffer, and kernels written to break the checker's rules (races,
// uninitialised shared memory, out-of-bounds and misaligned accesses, a crash). Not part of
// kernels/*.cu.
#include "cuda_emu.h"

namespace aim_emu_selftest {

// One warp-sized block or more; out[t * 8 + k] for thread t (linear), 8 results each.
extern "C" __global__ void emu_selftest_warp(int* out) {
    const int t = threadIdx.x + threadIdx.y * blockDim.x;
    const int lane = t & 31;
    int* o = out + (long long)(blockIdx.x * blockDim.x * blockDim.y + t) * 8;
    o[0] = __shfl_xor_sync(0xffffffffu, t, 5);
    o[1] = __shfl_up_sync(0xffffffffu, t, 3);
    o[2] = __shfl_down_sync(0xffffffffu, t, 3);
    o[3] = __shfl_sync(0xffffffffu, t, 7);
    o[4] = __shfl_xor_sync(0xffffffffu, t, 1, 8);
    o[5] = (int)__ballot_sync(0xffffffffu, lane % 3 == 0);
    o[6] = __any_sync(0xffffffffu, lane == 17) + 2 * __all_sync(0xffffffffu, lane < 31);
    // Only the low half of the warp takes part: a partial mask.
    o[7] = lane < 16 ? __shfl_down_sync(0x0000ffffu, t, 1, 16) : -1;
}

// out[block] = number of threads with an even index (__syncthreads_count), after every thread has
// stored into shared memory and read its neighbour's value across a barrier.
extern "C" __global__ void emu_selftest_barrier(int* out, int* neighbours) {
    __shared__ int values[1024];
    const int t = threadIdx.x;
    values[t] = 1000 * (int)blockIdx.x + t;
    __syncthreads();
    neighbours[blockIdx.x * blockDim.x + t] = values[(t + 1) % blockDim.x];
    const int count = __syncthreads_count(t % 2 == 0);
    if (t == 0) out[blockIdx.x] = count;
}

// Half of warp 0 waits at a full-warp shuffle, every other thread at __syncthreads: neither can
// complete, a deadlock on any GPU.
extern "C" __global__ void emu_selftest_deadlock(int* out) {
    if (threadIdx.x < 16) {
        out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 1);
    } else {
        __syncthreads();
    }
}

// Writes out[0 .. n + extra): past the end when extra > 0.
extern "C" __global__ void emu_selftest_overrun(float* out, int n, int extra) {
    const int i = blockIdx.x * blockDim.x + threadIdx.x;
    if (i < n + extra) out[i] = 1.0f;
}

// Kernels written to race (tests/emu.rs `emu_checker_*`); `kind` picks the bug; blocks of 64
// threads (two warps); with two blocks, block 0 runs its threads in increasing order, which fixes
// which of the two accesses comes first.
//   0  read after write: warp 0 writes s[32 + t], warp 1 reads s[t] with no __syncthreads between;
//   1  write after read: everyone reads s[0], then thread 63 overwrites it without a barrier;
//   2  write after write: threads 0 and 32 both write s[1] in one interval;
//   3  within a warp, ordered by __syncwarp: lane t writes s[t], __syncwarp, reads s[t ^ 1] (clean);
//   4  within a warp, "ordered" by a shuffle only: a race (shuffles do not order memory);
//   5  uninitialised: thread t reads s[t + 1] that nobody wrote;
//   6  the correct version of 0 (a __syncthreads between the write and the read).
// out[block * 64 + t] = what thread t read.
extern "C" __global__ void emu_selftest_race(int* out, int kind) {
    __shared__ int s[128];
    const int t = threadIdx.x;
    int v = 0;
    switch (kind) {
        case 0:
            if (t < 32) s[t + 32] = t;
            else v = s[t];
            break;
        case 1:
            s[t] = 7;
            __syncthreads();
            v = s[0];
            if (t == 63) s[0] = 9;
            break;
        case 2:
            if (t == 0 || t == 32) s[1] = t;
            break;
        case 3:
            s[t] = t;
            __syncwarp();
            v = s[t ^ 1];
            break;
        case 4:
            s[t] = t;
            v = __shfl_xor_sync(0xffffffffu, t, 1);
            v += s[t ^ 1];
            break;
        case 5:
            s[t] = t;
            if (t == 63) v = s[t + 1];
            break;
        default:
            if (t < 32) s[t + 32] = t;
            __syncthreads();
            if (t >= 32) v = s[t];
    }
    out[blockIdx.x * 64 + t] = v;
}

// Reads `in` at offset `delta` from each thread's element: past the end for delta > 0.
extern "C" __global__ void emu_selftest_read_past(const float* in, float* out, int n, int delta) {
    const int i = threadIdx.x;
    if (i < n) out[i] = in[i + delta];
}

// A 16-byte vector load at `offset` floats into `in` (misaligned unless offset % 4 == 0), as a
// mutated RoPE's vector path did; `crash` dereferences a null pointer instead.
extern "C" __global__ void emu_selftest_vector(const float* in, float* out, int offset, int crash) {
    if (crash) {
        volatile float* p = nullptr;
        out[threadIdx.x] = *p;
        return;
    }
    const float4 v = *reinterpret_cast<const float4*>(in + offset);
    out[threadIdx.x] = v.x + v.y + v.z + v.w;
}

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(emu_selftest_warp),
    AIM_EMU_ENTRY(emu_selftest_barrier),
    AIM_EMU_ENTRY(emu_selftest_deadlock),
    AIM_EMU_ENTRY(emu_selftest_overrun),
    AIM_EMU_ENTRY(emu_selftest_race),
    AIM_EMU_ENTRY(emu_selftest_read_past),
    AIM_EMU_ENTRY(emu_selftest_vector),
};
}  // namespace aim_emu_selftest

extern "C" const ::aim_emu::Table aim_emu_table_selftest = {"", "kernels/emu/selftest.cpp", aim_emu_selftest::entries,
                                                            sizeof aim_emu_selftest::entries / sizeof aim_emu_selftest::entries[0]};
