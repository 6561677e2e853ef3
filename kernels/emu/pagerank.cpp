// Emulator translation unit of kernels/pagerank.cu (see cuda_emu.h and merge.cpp).
#include "cuda_emu.h"
#ifndef AIM_EMU_SOURCE
#define AIM_EMU_SOURCE "../pagerank.cu"
#define AIM_EMU_LABEL "kernels/pagerank.cu"
#define AIM_EMU_VARIANT ""
#define AIM_EMU_NS aim_emu_pagerank
#define AIM_EMU_TABLE aim_emu_table_pagerank
#endif

namespace AIM_EMU_NS {
#include AIM_EMU_SOURCE

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(pagerank_fill),
    AIM_EMU_ENTRY(pagerank_softmax),
    AIM_EMU_ENTRY(pagerank_step),
    AIM_EMU_ENTRY(pagerank_rms),
    AIM_EMU_ENTRY(pagerank_row_stats_d64_f32),
    AIM_EMU_ENTRY(pagerank_row_stats_d64_bf16),
    AIM_EMU_ENTRY(pagerank_row_stats_d128_f32),
    AIM_EMU_ENTRY(pagerank_row_stats_d128_bf16),
    AIM_EMU_ENTRY(pagerank_fused_step_d64_f32),
    AIM_EMU_ENTRY(pagerank_fused_step_d64_bf16),
    AIM_EMU_ENTRY(pagerank_fused_step_d128_f32),
    AIM_EMU_ENTRY(pagerank_fused_step_d128_bf16),
    AIM_EMU_ENTRY(select_flags),
    AIM_EMU_ENTRY(select_compact),
    AIM_EMU_ENTRY(gather_rows_f32),
    AIM_EMU_ENTRY(gather_rows_bf16),
};
}  // namespace AIM_EMU_NS

// Constant-initialised, so it is complete before any code runs.
extern "C" const ::aim_emu::Table AIM_EMU_TABLE = {AIM_EMU_VARIANT, AIM_EMU_LABEL, AIM_EMU_NS::entries,
                                                    sizeof AIM_EMU_NS::entries / sizeof AIM_EMU_NS::entries[0]};
