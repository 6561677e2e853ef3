// Emulator translation unit of kernels/layers.cu (see cuda_emu.h and merge.cpp).
#include "cuda_emu.h"
#ifndef AIM_EMU_SOURCE
#define AIM_EMU_SOURCE "../layers.cu"
#define AIM_EMU_LABEL "kernels/layers.cu"
#define AIM_EMU_VARIANT ""
#define AIM_EMU_NS aim_emu_layers
#define AIM_EMU_TABLE aim_emu_table_layers
#endif

namespace AIM_EMU_NS {
#include AIM_EMU_SOURCE

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(layer_rmsnorm_f32),
    AIM_EMU_ENTRY(layer_rmsnorm_bf16),
    AIM_EMU_ENTRY(layer_rope_f32),
    AIM_EMU_ENTRY(layer_rope_bf16),
    AIM_EMU_ENTRY(layer_swiglu_f32),
    AIM_EMU_ENTRY(layer_swiglu_bf16),
    AIM_EMU_ENTRY(layer_add_f32),
    AIM_EMU_ENTRY(layer_add_bf16),
    AIM_EMU_ENTRY(layer_copy_f32),
    AIM_EMU_ENTRY(layer_copy_bf16),
};
}  // namespace AIM_EMU_NS

// Constant-initialised, so it is complete before any code runs.
extern "C" const ::aim_emu::Table AIM_EMU_TABLE = {AIM_EMU_VARIANT, AIM_EMU_LABEL, AIM_EMU_NS::entries,
                                                    sizeof AIM_EMU_NS::entries / sizeof AIM_EMU_NS::entries[0]};
