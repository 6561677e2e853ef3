// The emulator's launch runtime: runs a kernel's grid on the CPU with the CUDA execution model
// that kernels/*.cu rely on (see cuda_emu.h for what is and is not reproduced).
//
// Blocks run one after another on the calling thread (shared memory is `static`, so they must not
// overlap; a process-wide lock serialises launches). The threads of a block are fibers with their
// own stacks, resumed round-robin by a scheduler: each runs until it reaches a barrier, a warp
// operation or its end. When no fiber can run, the scheduler completes every warp operation whose
// lanes have all arrived, else the block barrier if every live thread waits at it, else it
// reports a deadlock. A warp operation completes as soon as its lanes have arrived, so it orders
// only its warp, never the block. Even blocks resume their threads in increasing order, odd blocks
// in decreasing order, and a single-block launch in an order shuffled by a seed of the kernel's
// name, so a result that depends on which thread runs first between two barriers differs.
//
// The checker (below, "Checks"): the kernel sources are compiled with -fsanitize=thread, which
// makes the compiler call __tsan_readN / __tsan_writeN before every memory access; this file
// defines those hooks (no ThreadSanitizer runtime is linked) and checks each access:
//   - shared memory (the `static` arrays `__shared__` becomes, in the executable's writable
//     segment): per 4-byte word, the last writer and the readers of the current barrier interval.
//     Two threads touching a word in one interval, at least one writing, is a race (compute-
//     sanitizer's racecheck), unless both are lanes of one warp separated by a __syncwarp (the
//     only warp operation that orders memory: PTX bar.warp.sync; shuffles and votes exchange
//     registers only). A word read before any thread of the block wrote it is an uninitialised
//     read (shared memory is "poisoned" at every block start);
//   - global memory: an access outside every buffer argument but within a guard zone is out of
//     bounds; an N-byte access the compiler was told is aligned (uint4, float) but is not is a
//     misaligned access (a fault on a GPU);
// naming the kernel, the address (symbol and offset) and both source lines (addr2line).
// Each launch runs in a forked child process, so a kernel that crashes (a wild pointer, a
// misaligned vector access the compiler turned into an aligned instruction) or never ends fails
// its own launch with its name instead of killing the test binary.
#include "cuda_emu.h"

#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <vector>

#include <cerrno>
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <elf.h>
#include <link.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
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
// Kernel parameters, each passed in an 8-byte slot (src/kernels/emu/mod.rs, Emu::launch).
constexpr std::size_t kMaxArgs = 32;

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
    std::size_t nargs = 0;  // the entry's parameter count (its signature's length)
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
    char buf[4096];
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

// ---- Checks: races and uninitialised reads in shared memory, global bounds, alignment ----------
// One shadow record per 4-byte word of the executable's writable segment (where the `static`
// arrays of `__shared__` live; every shared array of kernels/*.cu holds 4-byte elements). Mapped
// lazily: only the pages of words a kernel touches are ever backed.
struct Word {
    std::uint32_t block;  // block serial of the last write; another value = not written in this block
    std::uint32_t w_iv;   // barrier interval of the last write
    std::uint32_t r_iv;   // barrier interval of the reads below
    std::uint16_t w_tid, r_tid;  // writer; first reader (kSeveral when more than one thread read)
    std::uint32_t w_wgen, r_wgen;  // the accessing warp's __syncwarp count at the access
    std::uint16_t r_warp;          // the readers' warp (kSeveral when readers of several warps)
    std::uintptr_t w_pc, r_pc;     // where (return addresses into the kernel code)
};
constexpr std::uint16_t kSeveral = 0xffff;

struct BufferRange {
    std::uintptr_t lo, hi;  // the data [lo, hi)
    int arg;                // the kernel parameter it was passed as
};

struct Checker {
    bool on = false;                 // inside a launch (hooks outside one return at once)
    std::uintptr_t rw_lo = 0, rw_hi = 0;
    Word* shadow = nullptr;
    std::uint32_t block_serial = 0;  // increments per block: shared memory starts poisoned
    std::uint32_t iv = 0;            // increments per block and per completed __syncthreads
    std::uint32_t wgen[32] = {};     // per warp of the block: completed __syncwarp calls
    std::vector<BufferRange> buffers;
    std::string finding;             // the first problem found in this launch
};
Checker g_check;

// The main executable's writable PT_LOAD segment.
int find_rw_segment(struct dl_phdr_info* info, std::size_t, void* data) {
    auto* c = static_cast<Checker*>(data);
    for (int i = 0; i < info->dlpi_phnum; ++i) {
        const auto& ph = info->dlpi_phdr[i];
        if (ph.p_type == PT_LOAD && (ph.p_flags & PF_W)) {
            c->rw_lo = (info->dlpi_addr + ph.p_vaddr) & ~std::uintptr_t(3);
            c->rw_hi = info->dlpi_addr + ph.p_vaddr + ph.p_memsz;
        }
    }
    return 1;  // the first object is the executable
}

bool checker_init(std::string& error) {
    if (g_check.shadow != nullptr) return true;
    dl_iterate_phdr(find_rw_segment, &g_check);
    if (g_check.rw_hi <= g_check.rw_lo) {
        error = "the checker found no writable segment in the executable";
        return false;
    }
    const std::size_t words = (g_check.rw_hi - g_check.rw_lo) / 4 + 1;
    void* p = mmap(nullptr, words * sizeof(Word), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        error = "the checker could not map its shadow memory";
        return false;
    }
    g_check.shadow = static_cast<Word*>(p);
    return true;
}

// ---- Naming places: addr2line for code, nm for shared arrays (only when reporting) ----------
struct Image {
    std::string path;
    std::uintptr_t base = 0;  // subtracted from addresses for a position-independent executable
};

Image executable() {
    Image im;
    Dl_info info{};
    if (dladdr(reinterpret_cast<void*>(&find_rw_segment), &info) != 0 && info.dli_fname != nullptr) {
        im.path = info.dli_fname;
        const auto* eh = static_cast<const ElfW(Ehdr)*>(info.dli_fbase);
        im.base = eh->e_type == ET_DYN ? reinterpret_cast<std::uintptr_t>(info.dli_fbase) : 0;
    }
    char buf[4096];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) im.path.assign(buf, (std::size_t)n);
    return im;
}

std::string run_tool(const std::string& command) {
    std::string out;
    FILE* p = popen(command.c_str(), "r");
    if (p == nullptr) return out;
    char buf[4096];
    std::size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
    pclose(p);
    return out;
}

// "kernels/attention.cu:70 (in attn_flash<float, 64>)", innermost inlined frame first.
std::string code_place(std::uintptr_t pc) {
    if (pc == 0) return "?";
    const Image im = executable();
    // A return address points after the call: step back into it.
    const std::uintptr_t at = pc - 1 - im.base;
    const std::string text = run_tool(format("addr2line -C -f -i -e '%s' 0x%lx 2>/dev/null", im.path.c_str(), (unsigned long)at));
    std::vector<std::string> lines;
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        lines.push_back(text.substr(start, end - start));
        start = end + 1;
    }
    if (lines.size() < 2 || lines[1].rfind("??", 0) == 0) return format("code offset 0x%lx (no line information)", (unsigned long)at);
    auto shorten = [](std::string file) {
        const std::size_t k = file.rfind("kernels/");
        if (k != std::string::npos) file = file.substr(k);
        const std::size_t m = file.rfind("/mutants/");
        if (m != std::string::npos) file = file.substr(m + 1);
        const std::size_t d = file.find(" (discriminator");
        if (d != std::string::npos) file.resize(d);
        return file;
    };
    std::string place = shorten(lines[1]) + " (in " + lines[0] + ")";
    if (lines.size() >= 4) place += ", inlined into " + shorten(lines[lines.size() - 1]);
    return place;
}

// "attn_flash<float, 64>(...)::Ps + 132 bytes": the static array holding `addr`.
std::string data_place(std::uintptr_t addr) {
    const Image im = executable();
    const std::uintptr_t at = addr - im.base;
    const std::string text = run_tool(format("nm -C -S --defined-only '%s' 2>/dev/null", im.path.c_str()));
    std::size_t start = 0;
    while (start < text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        const std::string line = text.substr(start, end - start);
        start = end + 1;
        unsigned long value = 0, size = 0;
        char type = 0;
        int name_at = 0;
        if (std::sscanf(line.c_str(), "%lx %lx %c %n", &value, &size, &type, &name_at) >= 3 && name_at > 0 && at >= value &&
            at < value + size) {
            return format("%s + %lu bytes", line.c_str() + name_at, (unsigned long)(at - value));
        }
    }
    return format("address 0x%lx", (unsigned long)addr);
}

void report(std::string message) {
    if (g_check.finding.empty()) g_check.finding = std::move(message);
}

unsigned current_tid() { return (unsigned)(g_sched.current - g_sched.fibers.data()); }

void shared_access(std::uintptr_t a, unsigned size, bool write, std::uintptr_t pc) {
    Checker& c = g_check;
    const unsigned tid = current_tid();
    const unsigned warp = tid / 32;
    const std::uint32_t gen = c.wgen[warp & 31];
    // Ordered by a __syncwarp both took part in (same warp, a __syncwarp completed since).
    auto ordered = [&](unsigned other, std::uint32_t other_gen) { return other / 32 == warp && other_gen < gen; };
    const std::uintptr_t first = (a - c.rw_lo) / 4, last = (a + size - 1 - c.rw_lo) / 4;
    for (std::uintptr_t w = first; w <= last; ++w) {
        Word& s = c.shadow[w];
        const std::uintptr_t addr = c.rw_lo + w * 4;
        if (c.finding.empty()) {
            if (s.w_iv == c.iv && s.block == c.block_serial && s.w_tid != tid && !ordered(s.w_tid, s.w_wgen)) {
                report(format("shared-memory race (%s after write) at %s: thread %u %s it at %s; thread %u wrote it at %s, "
                              "with no __syncthreads() between them",
                              write ? "write" : "read", data_place(addr).c_str(), tid, write ? "writes" : "reads",
                              code_place(pc).c_str(), s.w_tid, code_place(s.w_pc).c_str()));
            } else if (!write && s.block != c.block_serial) {
                report(format("uninitialised shared-memory read at %s: thread %u reads it at %s before any thread of the block "
                              "wrote it",
                              data_place(addr).c_str(), tid, code_place(pc).c_str()));
            } else if (write && s.r_iv == c.iv && s.block == c.block_serial && s.r_tid != tid &&
                       !(s.r_warp == warp && s.r_wgen < gen)) {
                const unsigned reader = s.r_tid == kSeveral ? 0xffffffffu : s.r_tid;
                report(format("shared-memory race (write after read) at %s: thread %u writes it at %s; %s read it at %s, "
                              "with no __syncthreads() between them",
                              data_place(addr).c_str(), tid, code_place(pc).c_str(),
                              reader == 0xffffffffu ? "other threads" : format("thread %u", reader).c_str(),
                              code_place(s.r_pc).c_str()));
            }
        }
        if (write) {
            s.block = c.block_serial;
            s.w_iv = c.iv;
            s.w_tid = (std::uint16_t)tid;
            s.w_wgen = gen;
            s.w_pc = pc;
        } else if (s.r_iv != c.iv) {
            s.r_iv = c.iv;
            s.r_tid = (std::uint16_t)tid;
            s.r_warp = (std::uint16_t)warp;
            s.r_wgen = gen;
            s.r_pc = pc;
        } else if (s.r_tid != tid) {
            // Several readers: remember the latest read (its __syncwarp count is the largest).
            s.r_tid = kSeveral;
            if (s.r_warp != warp) s.r_warp = kSeveral;
            s.r_wgen = gen;
            s.r_pc = pc;
        }
    }
}

void global_access(std::uintptr_t a, unsigned size, bool write, std::uintptr_t pc) {
    for (const BufferRange& b : g_check.buffers) {
        if (a >= b.lo && a + size <= b.hi) return;
    }
    if (!g_check.finding.empty()) return;  // one finding per launch (naming it runs addr2line)
    // Within 1 MiB of a buffer (the guard zones of src/kernels/emu/mod.rs): out of bounds.
    constexpr std::uintptr_t kNear = 1u << 20;
    for (const BufferRange& b : g_check.buffers) {
        if (a + size > b.lo - (b.lo > kNear ? kNear : b.lo) && a < b.hi + kNear) {
            const long long offset = (long long)a - (long long)b.lo;
            // Both addresses, so that a report about memory that is no buffer's guard zone (some
            // other mapping that happens to lie within 1 MiB) can be told from a real overrun.
            report(format("out-of-bounds global %s of %u bytes at byte offset %lld of argument %d (%lu bytes at 0x%lx; the "
                          "access at 0x%lx) by thread %u at %s",
                          write ? "write" : "read", size, offset, b.arg, (unsigned long)(b.hi - b.lo), (unsigned long)b.lo,
                          (unsigned long)a, current_tid(), code_place(pc).c_str()));
            return;
        }
    }
}

inline void check_access(void* p, unsigned size, bool write, bool aligned, void* ret) {
    Checker& c = g_check;
    if (!c.on || g_sched.current == nullptr) return;
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    const auto stack = reinterpret_cast<std::uintptr_t>(g_sched.current->stack);
    if (a - stack < kStackBytes) return;  // the thread's own locals
    const auto pc = reinterpret_cast<std::uintptr_t>(ret);
    if (aligned && size > 1 && a % size != 0) {
        if (c.finding.empty()) report(format("misaligned %u-byte %s at address 0x%lx by thread %u at %s (a misaligned-address fault on a GPU)", size,
                      write ? "write" : "read", (unsigned long)a, current_tid(), code_place(pc).c_str()));
        return;
    }
    if (a >= c.rw_lo && a < c.rw_hi) {
        // The runtime's own globals (threadIdx ...) are read by every thread and written by none.
        if ((a >= (std::uintptr_t)&threadIdx && a < (std::uintptr_t)(&threadIdx + 1)) ||
            (a >= (std::uintptr_t)&blockIdx && a < (std::uintptr_t)(&blockIdx + 1)) ||
            (a >= (std::uintptr_t)&blockDim && a < (std::uintptr_t)(&blockDim + 1)) ||
            (a >= (std::uintptr_t)&gridDim && a < (std::uintptr_t)(&gridDim + 1))) {
            return;
        }
        shared_access(a, size, write, pc);
        return;
    }
    global_access(a, size, write, pc);
}
}  // namespace

namespace aim_emu {
void vector_access(const void* p, bool write, const void* pc) {
    if (!g_check.on || g_sched.current == nullptr) return;
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    if (a % 16 == 0 || !g_check.finding.empty()) return;
    report(format("misaligned 16-byte %s at address 0x%lx by thread %u at %s (a misaligned-address fault on a GPU)",
                  write ? "write" : "read", (unsigned long)a, current_tid(),
                  code_place(reinterpret_cast<std::uintptr_t>(pc)).c_str()));
}
}  // namespace aim_emu

// The hooks -fsanitize=thread instrumentation calls (GCC and Clang use the same names).
#define AIM_EMU_HOOKS(N)                                                                                                    \
    extern "C" void __tsan_read##N(void* p) { check_access(p, N, false, true, __builtin_return_address(0)); }             \
    extern "C" void __tsan_write##N(void* p) { check_access(p, N, true, true, __builtin_return_address(0)); }             \
    extern "C" void __tsan_unaligned_read##N(void* p) { check_access(p, N, false, false, __builtin_return_address(0)); }  \
    extern "C" void __tsan_unaligned_write##N(void* p) { check_access(p, N, true, false, __builtin_return_address(0)); }  \
    extern "C" void __tsan_volatile_read##N(void* p) { check_access(p, N, false, true, __builtin_return_address(0)); }    \
    extern "C" void __tsan_volatile_write##N(void* p) { check_access(p, N, true, true, __builtin_return_address(0)); }
AIM_EMU_HOOKS(1)
AIM_EMU_HOOKS(2)
AIM_EMU_HOOKS(4)
AIM_EMU_HOOKS(8)
AIM_EMU_HOOKS(16)
#undef AIM_EMU_HOOKS
extern "C" void __tsan_read_range(void* p, unsigned long size) {
    for (unsigned long k = 0; k < size; k += 4) check_access(static_cast<char*>(p) + k, size - k < 4 ? (unsigned)(size - k) : 4, false, false, __builtin_return_address(0));
}
extern "C" void __tsan_write_range(void* p, unsigned long size) {
    for (unsigned long k = 0; k < size; k += 4) check_access(static_cast<char*>(p) + k, size - k < 4 ? (unsigned)(size - k) : 4, true, false, __builtin_return_address(0));
}
extern "C" void __tsan_init() {}
extern "C" void __tsan_func_entry(void*) {}
extern "C" void __tsan_func_exit() {}
extern "C" void __tsan_vptr_read(void**) {}
extern "C" void __tsan_vptr_update(void**, void*) {}

namespace {

[[noreturn]] void fiber_main() {
    Scheduler& s = g_sched;
    // The instrumented entry point reads its arguments through `args` (cuda_emu.h, Kernel::call):
    // give it a copy on this fiber's own stack, which the checker skips. The caller's slots live
    // in its heap, in a thread's malloc arena that the kernel may map anywhere, so reading them
    // there would be "out of bounds" whenever a buffer happened to be mapped within 1 MiB of them
    // (global_access): a false report that depended on the address-space layout.
    std::uint64_t values[kMaxArgs];
    void* pointers[kMaxArgs];
    for (std::size_t a = 0; a < s.nargs; ++a) {
        std::memcpy(&values[a], s.args[a], sizeof values[a]);
        pointers[a] = &values[a];
    }
    s.invoke(pointers);
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

// Completes the warp operations of the warp of lanes [base, base + 32) whose lanes have all
// arrived. Returns whether any did; sets `error` on an inconsistent one.
bool complete_warp(std::vector<Fiber>& fibers, unsigned threads, unsigned base, std::string& error) {
    bool progressed = false;
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
        // __syncwarp orders the memory accesses of its lanes (the checker's warp generation).
        if (f.op == aim_emu::WARP_SYNC) ++g_check.wgen[(base / 32) & 31];
        progressed = true;
    }
    return progressed;
}

// Completes every warp operation whose lanes have all arrived. Returns whether any did; sets
// `error` on an inconsistent one.
bool complete_warps(std::vector<Fiber>& fibers, unsigned threads, std::string& error) {
    bool progressed = false;
    for (unsigned base = 0; base < threads; base += 32) {
        if (complete_warp(fibers, threads, base, error)) progressed = true;
        if (!error.empty()) return false;
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

// Runs the current block with its threads resumed in `order` (a permutation of the thread
// indices). A warp operation completes as soon as its last lane arrives, so the rest of the
// block keeps running: it orders the warp, not the block.
bool run_block(unsigned threads, const std::vector<unsigned>& order) {
    Scheduler& s = g_sched;
    auto& fibers = s.fibers;
    for (unsigned t = 0; t < threads; ++t) {
        Fiber& f = fibers[t];
        f.state = State::Runnable;
        f.tid = uint3{t % blockDim.x, (t / blockDim.x) % blockDim.y, t / (blockDim.x * blockDim.y)};
        make_context(f.ctx, f.stack, kStackBytes, fiber_main);
    }
    ++g_check.block_serial;
    ++g_check.iv;
    unsigned live = threads;
    for (;;) {
        bool ran = false;
        for (unsigned k = 0; k < threads; ++k) {
            Fiber& f = fibers[order[k]];
            if (f.state != State::Runnable) continue;
            ran = true;
            s.current = &f;
            threadIdx = f.tid;
            switch_context(s.home, f.ctx);
            if (f.state == State::Exited) --live;
            if (f.state == State::AtWarp) {
                complete_warp(fibers, threads, order[k] & ~31u, s.error);
                if (!s.error.empty()) return false;
            }
        }
        s.current = nullptr;
        if (!g_check.finding.empty()) {
            s.error = g_check.finding;
            return false;
        }
        if (live == 0) return true;
        if (ran) continue;
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
        ++g_check.iv;  // a new barrier interval
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

// The order in which a block's threads are resumed: increasing for even blocks, decreasing for
// odd ones; a launch of a single block gets a permutation shuffled by `seed` (the kernel's name
// hashed, with AIM_EMU_SEED mixed in), so that an order dependence shows there too.
void thread_order(std::vector<unsigned>& order, unsigned threads, unsigned long long linear, bool single,
                  unsigned long long seed) {
    order.resize(threads);
    for (unsigned t = 0; t < threads; ++t) order[t] = (linear & 1) ? threads - 1 - t : t;
    if (!single) return;
    unsigned long long x = seed;
    for (unsigned t = threads; t > 1; --t) {
        // SplitMix64 (Steele, Lea, Flood 2014), as src/kernels/rng.rs.
        x += 0x9e3779b97f4a7c15ull;
        unsigned long long z = x;
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
        z ^= z >> 31;
        const unsigned j = (unsigned)(z % t);
        const unsigned tmp = order[t - 1];
        order[t - 1] = order[j];
        order[j] = tmp;
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
// `signature` describes them (cuda_emu.h, ParamCode), `arg_bytes` the size of each buffer
// argument's data (0 for scalars), for the bounds check. Returns 0, or 1 with a message in `err`.
extern "C" int aim_emu_launch(const char* variant, const char* kernel, const AimEmuLaunch* cfg, const char* signature,
                              void* const* args, const std::size_t* arg_bytes, char* err, std::size_t err_len) {
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
    if (std::strlen(signature) > kMaxArgs) {
        return fail(err, err_len, format("%s: %zu parameters, the emulator passes at most %zu", kernel, std::strlen(signature), kMaxArgs));
    }
    if (cfg->shared_bytes != 0) {
        return fail(err, err_len, format("%s: dynamic shared memory (%u bytes) is not emulated", kernel, cfg->shared_bytes));
    }

    std::unique_lock<std::mutex> guard(g_lock);
    Scheduler& s = g_sched;
    if (s.fibers.size() < threads) s.fibers.resize(threads);
    for (unsigned t = 0; t < threads; ++t) {
        if (s.fibers[t].stack == nullptr) s.fibers[t].stack = new_stack();
        if (s.fibers[t].stack == nullptr) return fail(err, err_len, "could not allocate a fiber stack");
    }
    std::string init_error;
    if (!checker_init(init_error)) return fail(err, err_len, init_error);
    g_check.buffers.clear();
    for (std::size_t a = 0; signature[a] != '\0'; ++a) {
        if (arg_bytes[a] == 0) continue;
        const auto lo = *static_cast<const std::uintptr_t*>(args[a]);
        g_check.buffers.push_back(BufferRange{lo, lo + arg_bytes[a], (int)a});
    }
    const char* label = (variant != nullptr && *variant) ? variant : "kernels as written";
    // A fork per launch: the child runs the grid (buffers are shared mappings, so its writes are
    // the parent's) and reports through a shared page; a crash or a hang fails this launch only.
    const char* no_fork = std::getenv("AIM_EMU_NO_FORK");
    const bool forked = no_fork == nullptr || *no_fork == '\0' || *no_fork == '0';
    struct Outcome {
        int rc;
        char message[4000];
    };
    Outcome* out = static_cast<Outcome*>(
        forked ? mmap(nullptr, sizeof(Outcome), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0) : nullptr);
    if (forked && out == MAP_FAILED) return fail(err, err_len, "could not map the launch's result page");
    Outcome local{};
    if (!forked) out = &local;
    out->rc = 1;
    std::snprintf(out->message, sizeof out->message, "the launch did not report");
    auto run_grid = [&]() {
        s.invoke = entry->invoke;
        s.args = args;
        s.nargs = std::strlen(signature);
        s.error.clear();
        g_check.finding.clear();
        g_check.on = true;
        gridDim = dim3{cfg->grid[0], cfg->grid[1], cfg->grid[2]};
        blockDim = dim3{cfg->block[0], cfg->block[1], cfg->block[2]};
        const bool single = (unsigned long long)gridDim.x * gridDim.y * gridDim.z == 1;
        unsigned long long seed = 0xcbf29ce484222325ull;  // FNV-1a of the kernel name and the seed
        for (const char* c = kernel; *c; ++c) seed = (seed ^ (unsigned char)*c) * 0x100000001b3ull;
        if (const char* env = std::getenv("AIM_EMU_SEED")) seed ^= std::strtoull(env, nullptr, 10) * 0x9e3779b97f4a7c15ull;
        std::vector<unsigned> order;
        unsigned long long linear = 0;
        for (unsigned z = 0; z < gridDim.z; ++z) {
            for (unsigned y = 0; y < gridDim.y; ++y) {
                for (unsigned x = 0; x < gridDim.x; ++x, ++linear) {
                    blockIdx = uint3{x, y, z};
                    thread_order(order, (unsigned)threads, linear, single, seed);
                    if (!run_block((unsigned)threads, order)) {
                        g_check.on = false;
                        std::snprintf(out->message, sizeof out->message, "%s (%s), block (%u, %u, %u) of %s: %s", kernel, source,
                                      x, y, z, label, s.error.c_str());
                        return;
                    }
                }
            }
        }
        g_check.on = false;
        out->rc = 0;
    };
    if (!forked) {
        run_grid();
        return out->rc == 0 ? 0 : fail(err, err_len, out->message);
    }
    std::fflush(nullptr);
    // The child holds the write end of a pipe: its exit (or crash) closes it, which wakes poll().
    int alive[2];
    if (pipe2(alive, O_CLOEXEC) != 0) {
        munmap(out, sizeof(Outcome));
        return fail(err, err_len, "could not make the launch's pipe");
    }
    const pid_t child = fork();
    if (child < 0) {
        close(alive[0]);
        close(alive[1]);
        munmap(out, sizeof(Outcome));
        return fail(err, err_len, "could not fork the launch's process");
    }
    if (child == 0) {
        close(alive[0]);
        run_grid();
        _exit(0);
    }
    close(alive[1]);
    // The child has its own copy of the scheduler and the checker: other launches may start.
    guard.unlock();
    // Wait, polling, for at most AIM_EMU_TIMEOUT_S seconds (default 60): a kernel that loops
    // forever is killed and reported.
    const char* limit_env = std::getenv("AIM_EMU_TIMEOUT_S");
    const double limit_s = limit_env != nullptr && std::atof(limit_env) > 0 ? std::atof(limit_env) : 60.0;
    timespec start{}, now{};
    clock_gettime(CLOCK_MONOTONIC, &start);
    int status = 0;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        const double left_s = limit_s - ((double)(now.tv_sec - start.tv_sec) + 1e-9 * (double)(now.tv_nsec - start.tv_nsec));
        if (left_s <= 0) {
            kill(child, SIGKILL);
            waitpid(child, &status, 0);
            close(alive[0]);
            munmap(out, sizeof(Outcome));
            return fail(err, err_len,
                        format("%s (%s) of %s: still running after %.0f s (an endless loop?); killed", kernel, source, label, limit_s));
        }
        pollfd pfd{alive[0], POLLIN, 0};
        const int ready = poll(&pfd, 1, (int)(left_s * 1000) + 1);
        if (ready > 0) break;  // closed: the child has ended
        if (ready < 0 && errno != EINTR) break;
    }
    close(alive[0]);
    if (waitpid(child, &status, 0) != child) {
        munmap(out, sizeof(Outcome));
        return fail(err, err_len, format("%s (%s) of %s: lost its launch process", kernel, source, label));
    }
    std::string message;
    int rc = 1;
    if (WIFSIGNALED(status)) {
        const int sig = WTERMSIG(status);
        message = format("%s (%s) of %s crashed the emulator with signal %d (%s)%s", kernel, source, label, sig, strsignal(sig),
                         sig == SIGSEGV || sig == SIGBUS ? ": an invalid or misaligned memory access" : "");
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        message = format("%s (%s) of %s: its launch process exited with status %d", kernel, source, label, WEXITSTATUS(status));
    } else {
        rc = out->rc;
        message = out->message;
    }
    munmap(out, sizeof(Outcome));
    return rc == 0 ? 0 : fail(err, err_len, message);
}

// Memory for kernel arguments: `bytes` rounded up to whole pages (the usable size is stored in
// *usable), between two inaccessible pages, so that a write far past a buffer's guard zones
// faults at once instead of corrupting the heap. Returns null when out of memory.
extern "C" void* aim_emu_alloc(std::size_t bytes, std::size_t* usable) {
    const std::size_t page = (std::size_t)sysconf(_SC_PAGESIZE);
    const std::size_t inner = (bytes + page - 1) / page * page;
    // Shared, so that the writes of a launch's forked process are the caller's.
    void* p = mmap(nullptr, inner + 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
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
