// Emulator translation unit of kernels/attention.cu (see cuda_emu.h and merge.cpp).
#include "cuda_emu.h"
#ifndef AIM_EMU_SOURCE
#define AIM_EMU_SOURCE "../attention.cu"
#define AIM_EMU_LABEL "kernels/attention.cu"
#define AIM_EMU_VARIANT ""
#define AIM_EMU_NS aim_emu_attention
#define AIM_EMU_TABLE aim_emu_table_attention
#endif

namespace AIM_EMU_NS {
#include AIM_EMU_SOURCE

static const ::aim_emu::Entry entries[] = {
    AIM_EMU_ENTRY(attn_flash_d64_f32),
    AIM_EMU_ENTRY(attn_flash_d64_bf16),
    AIM_EMU_ENTRY(attn_flash_d128_f32),
    AIM_EMU_ENTRY(attn_flash_d128_bf16),
    AIM_EMU_ENTRY(attn_logits_d64_f32),
    AIM_EMU_ENTRY(attn_logits_d64_bf16),
    AIM_EMU_ENTRY(attn_logits_d128_f32),
    AIM_EMU_ENTRY(attn_logits_d128_bf16),
    AIM_EMU_ENTRY(attn_softmax),
    AIM_EMU_ENTRY(attn_pv_d64_f32),
    AIM_EMU_ENTRY(attn_pv_d64_bf16),
    AIM_EMU_ENTRY(attn_pv_d128_f32),
    AIM_EMU_ENTRY(attn_pv_d128_bf16),
};
}  // namespace AIM_EMU_NS

// Constant-initialised, so it is complete before any code runs.
extern "C" const ::aim_emu::Table AIM_EMU_TABLE = {AIM_EMU_VARIANT, AIM_EMU_LABEL, AIM_EMU_NS::entries,
                                                    sizeof AIM_EMU_NS::entries / sizeof AIM_EMU_NS::entries[0]};
