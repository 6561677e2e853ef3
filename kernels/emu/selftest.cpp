// Kernels that check the emulator itself against CUDA's definitions (tests/emu.rs,
// `emu_runtime_*`): shuffles and votes, barrier reductions, shared memory across a barrier, a
// deadlock, and a write past a buffer. Not part of kernels/*.cu.
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

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(emu_selftest_warp),
    AIM_EMU_ENTRY(emu_selftest_barrier),
    AIM_EMU_ENTRY(emu_selftest_deadlock),
    AIM_EMU_ENTRY(emu_selftest_overrun),
};
}  // namespace aim_emu_selftest

extern "C" const ::aim_emu::Table aim_emu_table_selftest = {"", "kernels/emu/selftest.cpp", aim_emu_selftest::entries,
                                                            sizeof aim_emu_selftest::entries / sizeof aim_emu_selftest::entries[0]};
