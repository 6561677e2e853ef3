// The emulator's launch runtime: runs a kernel's grid on the CPU with the CUDA execution model
// that kernels/*.cu rely on (see cuda_emu.h for what is and is not reproduced).
//
// Blocks run one after another on the calling thread (shared memory is `static`, so they must not
// overlap; a process-wide lock serialises launches). The threads of a block are fibers with their
// own stacks, resumed round-robin by a scheduler: each runs until it reaches a barrier, a warp
// operation or its end. When no fiber can run, the scheduler completes every warp operation whose
// lanes have all arrived, else the block barrier if every live thread waits at it, else it
// reports a deadlock. Even blocks resume their threads in increasing order, odd blocks in
// decreasing order, so a result that depends on which thread runs first between two barriers
// (a missing `__syncthreads`) differs between blocks.
#include "cuda_emu.h"

#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include <sys/mman.h>
#include <unistd.h>

uint3 threadIdx;
uint3 blockIdx;
dim3 blockDim;
dim3 gridDim;

// The launch configuration the Rust side passes (`emu::RawLaunch`).
struct AimEmuLaunch {
    unsigned int grid[3];
    unsigned int block[3];
    unsigned int shared_bytes;
};

namespace aim_emu {
// build.rs generates the list of every compiled source (registry.cpp).
extern const Table* const tables[];
extern const std::size_t table_count;
}  // namespace aim_emu

// ---- Context switching -------------------------------------------------------------------------
#if defined(__x86_64__) && !defined(AIM_EMU_UCONTEXT)
// Saves the callee-saved registers on the current stack, stores the stack pointer in *save_sp,
// switches to load_sp and restores the registers saved there (System V x86-64 ABI).
extern "C" void aim_emu_switch(void** save_sp, void* load_sp);
asm(R"(
    .text
    .p2align 4
    .globl aim_emu_switch
    .hidden aim_emu_switch
    .type aim_emu_switch, @function
aim_emu_switch:
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .size aim_emu_switch, .-aim_emu_switch
)");

namespace {
struct Context {
    void* sp = nullptr;
};
void switch_context(Context& from, Context& to) { aim_emu_switch(&from.sp, to.sp); }
// A fresh context that enters `entry` (which never returns) on the stack [stack, stack + size).
void make_context(Context& c, char* stack, std::size_t size, void (*entry)()) {
    auto top = reinterpret_cast<std::uintptr_t>(stack + size) & ~std::uintptr_t(15);
    void** sp = reinterpret_cast<void**>(top - 64);  // 16-aligned: `entry` starts with rsp = 8 mod 16
    for (int i = 0; i < 6; ++i) sp[i] = nullptr;     // r15 r14 r13 r12 rbx rbp
    sp[6] = reinterpret_cast<void*>(entry);          // aim_emu_switch's `ret` lands here
    sp[7] = nullptr;
    c.sp = sp;
}
}  // namespace
#else
#include <ucontext.h>
namespace {
struct Context {
    ucontext_t uc;
};
void switch_context(Context& from, Context& to) { swapcontext(&from.uc, &to.uc); }
void make_context(Context& c, char* stack, std::size_t size, void (*entry)()) {
    getcontext(&c.uc);
    c.uc.uc_stack.ss_sp = stack;
    c.uc.uc_stack.ss_size = size;
    c.uc.uc_link = nullptr;
    makecontext(&c.uc, entry, 0);
}
}  // namespace
#endif

namespace {
constexpr std::size_t kStackBytes = 64 * 1024;
constexpr unsigned kMaxThreads = 1024;

enum class State : unsigned char { Runnable, AtBarrier, AtWarp, Exited };

struct Fiber {
    Context ctx;
    char* stack = nullptr;
    State state = State::Exited;
    uint3 tid{};
    // The pending barrier or warp operation and its result.
    int op = 0;
    unsigned int mask = 0;
    unsigned long long bits = 0;
    int arg = 0;
    int width = 32;
    unsigned long long result = 0;
};

struct Scheduler {
    Context home;
    std::vector<Fiber> fibers;
    Fiber* current = nullptr;
    void (*invoke)(void* const*) = nullptr;
    void* const* args = nullptr;
    std::string error;
};

std::mutex g_lock;
Scheduler g_sched;

const char* op_name(int op) {
    switch (op) {
        case aim_emu::SHFL_IDX: return "__shfl_sync";
        case aim_emu::SHFL_UP: return "__shfl_up_sync";
        case aim_emu::SHFL_DOWN: return "__shfl_down_sync";
        case aim_emu::SHFL_XOR: return "__shfl_xor_sync";
        case aim_emu::VOTE_BALLOT: return "__ballot_sync";
        case aim_emu::VOTE_ALL: return "__all_sync";
        case aim_emu::VOTE_ANY: return "__any_sync";
        case aim_emu::WARP_SYNC: return "__syncwarp";
        default: return "?";
    }
}

std::string format(const char* fmt, ...) {
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

// A stack with a guard page below it, so an overflow faults instead of corrupting a neighbour.
char* new_stack() {
    const std::size_t page = (std::size_t)sysconf(_SC_PAGESIZE);
    void* p = mmap(nullptr, kStackBytes + page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    mprotect(p, page, PROT_NONE);
    return static_cast<char*>(p) + page;
}

[[noreturn]] void fiber_main() {
    Scheduler& s = g_sched;
    s.invoke(s.args);
    Fiber* f = s.current;
    f->state = State::Exited;
    switch_context(f->ctx, s.home);
    __builtin_trap();  // an exited fiber is never resumed
}

void suspend(State state, int op, unsigned int mask, unsigned long long bits, int arg, int width) {
    Fiber* f = g_sched.current;
    f->state = state;
    f->op = op;
    f->mask = mask;
    f->bits = bits;
    f->arg = arg;
    f->width = width;
    switch_context(f->ctx, g_sched.home);
}

// Completes the warp operation waiting in `lanes` (indices into fibers), all with one mask and op.
bool complete_warp_op(std::vector<Fiber>& fibers, unsigned base, const unsigned* lanes, unsigned count, std::string& error) {
    Fiber& first = fibers[base + lanes[0]];
    const int op = first.op;
    const unsigned int mask = first.mask;
    unsigned long long ballot = 0;
    bool all = true, any = false;
    for (unsigned k = 0; k < count; ++k) {
        const bool p = fibers[base + lanes[k]].bits != 0;
        ballot |= (unsigned long long)p << lanes[k];
        all = all && p;
        any = any || p;
    }
    for (unsigned k = 0; k < count; ++k) {
        const unsigned lane = lanes[k];
        Fiber& f = fibers[base + lane];
        switch (op) {
            case aim_emu::WARP_SYNC: f.result = 0; break;
            case aim_emu::VOTE_BALLOT: f.result = ballot; break;
            case aim_emu::VOTE_ALL: f.result = all; break;
            case aim_emu::VOTE_ANY: f.result = any; break;
            default: {
                const int width = f.width;
                if (width <= 0 || width > 32 || (width & (width - 1)) != 0) {
                    error = format("%s with width %d (must be a power of two up to 32)", op_name(op), width);
                    return false;
                }
                const int seg = (int)lane & ~(width - 1);
                int src = (int)lane;
                if (op == aim_emu::SHFL_IDX) {
                    src = seg + (f.arg & (width - 1));
                } else if (op == aim_emu::SHFL_UP) {
                    src = (int)lane - f.arg;
                    if (src < seg) src = (int)lane;
                } else if (op == aim_emu::SHFL_DOWN) {
                    src = (int)lane + f.arg;
                    if (src >= seg + width) src = (int)lane;
                } else {
                    src = (int)lane ^ f.arg;
                    if (src < 0 || src >= seg + width) src = (int)lane;
                }
                if (!(mask >> src & 1u)) {
                    error = format("%s: lane %u reads lane %d, which is not in the mask 0x%08x", op_name(op), lane, src, mask);
                    return false;
                }
                f.result = fibers[base + (unsigned)src].bits;
            }
        }
        f.state = State::Runnable;
    }
    return true;
}

// Completes every warp operation whose lanes have all arrived. Returns whether any did; sets
// `error` on an inconsistent one.
bool complete_warps(std::vector<Fiber>& fibers, unsigned threads, std::string& error) {
    bool progressed = false;
    for (unsigned base = 0; base < threads; base += 32) {
        const unsigned lanes_here = threads - base < 32 ? threads - base : 32;
        unsigned done = 0;  // lanes completed or checked in this pass
        for (unsigned lead = 0; lead < lanes_here; ++lead) {
            Fiber& f = fibers[base + lead];
            if (f.state != State::AtWarp || (done >> lead & 1u)) continue;
            const unsigned int mask = f.mask;
            if (!(mask >> lead & 1u)) {
                error = format("%s in warp %u: lane %u is not in its own mask 0x%08x", op_name(f.op), base / 32, lead, mask);
                return false;
            }
            unsigned lanes[32];
            unsigned count = 0;
            bool ready = true;
            for (unsigned l = 0; l < 32; ++l) {
                if (!(mask >> l & 1u)) continue;
                if (l >= lanes_here) {
                    error = format("%s in warp %u: mask 0x%08x names lane %u, beyond the block's %u threads", op_name(f.op), base / 32, mask, l, threads);
                    return false;
                }
                const Fiber& g = fibers[base + l];
                if (g.state != State::AtWarp) {
                    ready = false;  // not arrived yet (or exited: reported as a deadlock)
                    continue;
                }
                if (g.mask != mask || g.op != f.op) {
                    error = format("warp %u: lane %u is at %s (mask 0x%08x) while lane %u is at %s (mask 0x%08x)", base / 32, lead,
                                   op_name(f.op), mask, l, op_name(g.op), g.mask);
                    return false;
                }
                lanes[count++] = l;
            }
            done |= mask;
            if (!ready) continue;
            if (!complete_warp_op(fibers, base, lanes, count, error)) return false;
            progressed = true;
        }
    }
    return progressed;
}

std::string describe_deadlock(const std::vector<Fiber>& fibers, unsigned threads) {
    unsigned at_barrier = 0, at_warp = 0, exited = 0;
    int first_warp_lane = -1;
    for (unsigned t = 0; t < threads; ++t) {
        switch (fibers[t].state) {
            case State::AtBarrier: ++at_barrier; break;
            case State::AtWarp:
                ++at_warp;
                if (first_warp_lane < 0) first_warp_lane = (int)t;
                break;
            case State::Exited: ++exited; break;
            default: break;
        }
    }
    std::string s = format("deadlock: %u of %u threads wait at __syncthreads, %u at a warp operation, %u have exited",
                           at_barrier, threads, at_warp, exited);
    if (first_warp_lane >= 0) {
        const Fiber& f = fibers[(unsigned)first_warp_lane];
        s += format(" (thread %d waits at %s with mask 0x%08x)", first_warp_lane, op_name(f.op), f.mask);
    }
    return s;
}

bool run_block(unsigned threads, bool reverse) {
    Scheduler& s = g_sched;
    auto& fibers = s.fibers;
    for (unsigned t = 0; t < threads; ++t) {
        Fiber& f = fibers[t];
        f.state = State::Runnable;
        f.tid = uint3{t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
        make_context(f.ctx, f.stack, kStackBytes, fiber_main);
    }
    unsigned live = threads;
    for (;;) {
        for (unsigned k = 0; k < threads; ++k) {
            Fiber& f = fibers[reverse ? threads - 1 - k : k];
            if (f.state != State::Runnable) continue;
            s.current = &f;
            threadIdx = f.tid;
            switch_context(s.home, f.ctx);
            if (f.state == State::Exited) --live;
        }
        if (live == 0) return true;
        if (complete_warps(fibers, threads, s.error)) continue;
        if (!s.error.empty()) return false;
        bool all_at_barrier = true;
        int count = 0;
        for (unsigned t = 0; t < threads; ++t) {
            const Fiber& f = fibers[t];
            if (f.state == State::Exited) continue;
            if (f.state != State::AtBarrier) all_at_barrier = false;
            count += f.bits != 0;
        }
        if (!all_at_barrier) {
            s.error = describe_deadlock(fibers, threads);
            return false;
        }
        const int live_i = (int)live;
        for (unsigned t = 0; t < threads; ++t) {
            Fiber& f = fibers[t];
            if (f.state != State::AtBarrier) continue;
            switch (f.op) {
                case aim_emu::BAR_COUNT: f.result = (unsigned long long)count; break;
                case aim_emu::BAR_AND: f.result = count == live_i; break;
                case aim_emu::BAR_OR: f.result = count > 0; break;
                default: f.result = 0;
            }
            f.state = State::Runnable;
        }
    }
}

const aim_emu::Entry* find(const char* variant, const char* kernel, const char** source) {
    for (int pass = 0; pass < 2; ++pass) {
        const char* want = pass == 0 ? variant : "";
        if (pass == 0 && (variant == nullptr || *variant == '\0')) continue;
        for (std::size_t t = 0; t < aim_emu::table_count; ++t) {
            const aim_emu::Table* table = aim_emu::tables[t];
            if (std::strcmp(table->variant, want) != 0) continue;
            for (std::size_t e = 0; e < table->count; ++e) {
                if (std::strcmp(table->entries[e].name, kernel) == 0) {
                    *source = table->source;
                    return &table->entries[e];
                }
            }
        }
    }
    return nullptr;
}

int fail(char* err, std::size_t err_len, const std::string& message) {
    if (err != nullptr && err_len > 0) std::snprintf(err, err_len, "%s", message.c_str());
    return 1;
}
}  // namespace

namespace aim_emu {
int barrier(int op, int predicate) {
    suspend(State::AtBarrier, op, 0, predicate != 0, 0, 0);
    return (int)g_sched.current->result;
}

unsigned long long warp(int op, unsigned int mask, unsigned long long bits, int arg, int width) {
    suspend(State::AtWarp, op, mask, bits, arg, width);
    return g_sched.current->result;
}
}  // namespace aim_emu

// Runs `kernel` (of mutant `variant` when it has one, else of kernels/*.cu as they are) over the
// grid of `cfg`; `args` points at each argument's value, as cuLaunchKernel takes them, and
// `signature` describes them (cuda_emu.h, ParamCode). Returns 0, or 1 with a message in `err`.
extern "C" int aim_emu_launch(const char* variant, const char* kernel, const AimEmuLaunch* cfg, const char* signature,
                              void* const* args, char* err, std::size_t err_len) {
    const char* source = "";
    const aim_emu::Entry* entry = find(variant, kernel, &source);
    if (entry == nullptr) return fail(err, err_len, format("no emulated kernel named %s", kernel));
    if (std::strcmp(entry->signature, signature) != 0) {
        return fail(err, err_len,
                    format("%s (%s) takes parameters '%s', the launch passes '%s'", kernel, source, entry->signature, signature));
    }
    const unsigned long long threads = (unsigned long long)cfg->block[0] * cfg->block[1] * cfg->block[2];
    for (int d = 0; d < 3; ++d) {
        if (cfg->grid[d] == 0 || cfg->block[d] == 0) return fail(err, err_len, format("%s: a grid or block dimension is zero", kernel));
    }
    if (threads > kMaxThreads || cfg->block[2] > 64) {
        return fail(err, err_len, format("%s: block %ux%ux%u exceeds 1024 threads (or z > 64)", kernel, cfg->block[0], cfg->block[1], cfg->block[2]));
    }
    if (cfg->grid[0] > 0x7fffffffu || cfg->grid[1] > 65535u || cfg->grid[2] > 65535u) {
        return fail(err, err_len, format("%s: grid %ux%ux%u exceeds the CUDA limits", kernel, cfg->grid[0], cfg->grid[1], cfg->grid[2]));
    }
    if (cfg->shared_bytes != 0) {
        return fail(err, err_len, format("%s: dynamic shared memory (%u bytes) is not emulated", kernel, cfg->shared_bytes));
    }

    std::lock_guard<std::mutex> guard(g_lock);
    Scheduler& s = g_sched;
    if (s.fibers.size() < threads) s.fibers.resize(threads);
    for (unsigned t = 0; t < threads; ++t) {
        if (s.fibers[t].stack == nullptr) s.fibers[t].stack = new_stack();
        if (s.fibers[t].stack == nullptr) return fail(err, err_len, "could not allocate a fiber stack");
    }
    s.invoke = entry->invoke;
    s.args = args;
    s.error.clear();
    gridDim = dim3{cfg->grid[0], cfg->grid[1], cfg->grid[2]};
    blockDim = dim3{cfg->block[0], cfg->block[1], cfg->block[2]};
    unsigned long long linear = 0;
    for (unsigned z = 0; z < gridDim.z; ++z) {
        for (unsigned y = 0; y < gridDim.y; ++y) {
            for (unsigned x = 0; x < gridDim.x; ++x, ++linear) {
                blockIdx = uint3{x, y, z};
                if (!run_block((unsigned)threads, (linear & 1) != 0)) {
                    return fail(err, err_len, format("%s (%s), block (%u, %u, %u) of %s: %s", kernel, source, x, y, z,
                                                     (variant != nullptr && *variant) ? variant : "kernels as written", s.error.c_str()));
                }
            }
        }
    }
    return 0;
}

// Memory for kernel arguments: `bytes` rounded up to whole pages (the usable size is stored in
// *usable), between two inaccessible pages, so that a write far past a buffer's guard zones
// faults at once instead of corrupting the heap. Returns null when out of memory.
extern "C" void* aim_emu_alloc(std::size_t bytes, std::size_t* usable) {
    const std::size_t page = (std::size_t)sysconf(_SC_PAGESIZE);
    const std::size_t inner = (bytes + page - 1) / page * page;
    void* p = mmap(nullptr, inner + 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) return nullptr;
    char* base = static_cast<char*>(p);
    mprotect(base, page, PROT_NONE);
    mprotect(base + page + inner, page, PROT_NONE);
    *usable = inner;
    return base + page;
}

extern "C" void aim_emu_free(void* p, std::size_t usable) {
    const std::size_t page = (std::size_t)sysconf(_SC_PAGESIZE);
    munmap(static_cast<char*>(p) - page, usable + 2 * page);
}

// Every compiled entry point, for listing: returns 0 and fills the pointers for i < count.
extern "C" std::size_t aim_emu_entry_count() {
    std::size_t n = 0;
    for (std::size_t t = 0; t < aim_emu::table_count; ++t) n += aim_emu::tables[t]->count;
    return n;
}

extern "C" int aim_emu_entry_info(std::size_t i, const char** variant, const char** source, const char** name,
                                  const char** signature) {
    for (std::size_t t = 0; t < aim_emu::table_count; ++t) {
        const aim_emu::Table* table = aim_emu::tables[t];
        if (i < table->count) {
            *variant = table->variant;
            *source = table->source;
            *name = table->entries[i].name;
            *signature = table->entries[i].signature;
            return 0;
        }
        i -= table->count;
    }
    return 1;
}
