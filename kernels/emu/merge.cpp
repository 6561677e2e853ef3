// Emulator translation unit of kernels/merge.cu (see cuda_emu.h). build.rs compiles it as it is
// and once per mutant of merge.cu, with the AIM_EMU_* macros naming the mutated copy.
#include "cuda_emu.h"
#ifndef AIM_EMU_SOURCE
#define AIM_EMU_SOURCE "../merge.cu"
#define AIM_EMU_LABEL "kernels/merge.cu"
#define AIM_EMU_VARIANT ""
#define AIM_EMU_NS aim_emu_merge
#define AIM_EMU_TABLE aim_emu_table_merge
#endif

namespace AIM_EMU_NS {
#include AIM_EMU_SOURCE

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(merge_scores_f32),
    AIM_EMU_ENTRY(merge_scores_bf16),
    AIM_EMU_ENTRY(merge_match),
    AIM_EMU_ENTRY(merge_apply_f32),
    AIM_EMU_ENTRY(merge_apply_bf16),
};
}  // namespace AIM_EMU_NS

// Constant-initialised, so it is complete before any code runs.
extern "C" const ::aim_emu::Table AIM_EMU_TABLE = {AIM_EMU_VARIANT, AIM_EMU_LABEL, AIM_EMU_NS::entries,
                                                    sizeof AIM_EMU_NS::entries / sizeof AIM_EMU_NS::entries[0]};
