//! A model from a Hugging Face `config.json`: the LLM (flat, or under `text_config` /
//! `llm_config`), its mixture-of-experts keys, and the vision tower under `vision_config` for
//! the families whose towers are modelled (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, InternVL, LLaVA with
//! CLIP/SigLIP). Keys a config cannot carry (the image processor's pixel bounds, which live in
//! `preprocessor_config.json`) take the values of the family's official processor, cited below.

use super::{Model, Moe, ProjectorNorm, Resize, VisionEncoder, VisionMlp, VisionNorm};
use crate::error::{Error, Result};
use crate::experts::ExpertsImpl;
use crate::presets::Source;
use serde_json::Value;

/// One JSON object, with the path its keys are reported under (`text_config.`).
struct Cfg<'a> {
    origin: &'a str,
    prefix: String,
    obj: &'a Value,
    /// Looked up when `obj` lacks a key (older LLaVA configs keep `vocab_size` at the top).
    fallback: Option<&'a Value>,
}

impl<'a> Cfg<'a> {
    fn err(&self, message: String) -> Error {
        Error::Parse {
            origin: self.origin.to_string(),
            message,
        }
    }

    fn get(&self, key: &str) -> Option<&'a Value> {
        self.obj
            .get(key)
            .or_else(|| self.fallback.and_then(|f| f.get(key)))
            .filter(|v| !v.is_null())
    }

    fn int(&self, key: &str) -> Result<Option<u64>> {
        match self.get(key) {
            None => Ok(None),
            // Some configs write sizes as [h, w] lists (HF InternVL `patch_size`): square only.
            Some(Value::Array(a)) if !a.is_empty() && a.iter().all(|x| x == &a[0]) => {
                a[0].as_u64().map(Some).ok_or_else(|| self.bad(key, &a[0]))
            }
            Some(v) => v.as_u64().map(Some).ok_or_else(|| self.bad(key, v)),
        }
    }

    fn bad(&self, key: &str, v: &Value) -> Error {
        self.err(format!(
            "key '{}{key}' = {v} must be a positive integer",
            self.prefix
        ))
    }

    fn required(&self, key: &str, needed: &str) -> Result<u64> {
        self.int(key)?.ok_or_else(|| {
            self.err(format!(
                "missing key '{}{key}' (needed: {needed})",
                self.prefix
            ))
        })
    }

    fn float(&self, key: &str) -> Option<f64> {
        self.get(key).and_then(Value::as_f64)
    }

    fn boolean(&self, key: &str) -> Option<bool> {
        self.get(key).and_then(Value::as_bool)
    }

    fn string(&self, key: &str) -> &'a str {
        self.get(key).and_then(Value::as_str).unwrap_or("")
    }

    fn ints(&self, key: &str) -> Result<Vec<u64>> {
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|x| x.as_u64().ok_or_else(|| self.bad(key, x)))
                .collect(),
            Some(v) => Err(self.err(format!(
                "key '{}{key}' = {v} must be a list of layer indices",
                self.prefix
            ))),
        }
    }
}

const LLM_KEYS: &str =
    "hidden_size, num_attention_heads, num_hidden_layers, intermediate_size, vocab_size";

/// Reads a Hugging Face `config.json` into a model (not yet resolved or validated).
/// `message` (of the model's validation, in the model TOML's keys) with each key a config.json
/// spells otherwise in Hugging Face's spelling.
pub(super) fn config_keys(message: &str) -> String {
    [
        ("num_layers", "num_hidden_layers"),
        ("num_heads", "num_attention_heads"),
        ("num_kv_heads", "num_key_value_heads"),
    ]
    .iter()
    .fold(message.to_string(), |m, (toml, hf)| {
        m.replace(&format!("'{toml}'"), &format!("'{hf}'"))
    })
}

pub(super) fn from_hf_config(source: &Source) -> Result<Model> {
    let origin = source.origin.as_str();
    let root: Value = serde_json::from_str(&source.text).map_err(|e| Error::Parse {
        origin: origin.to_string(),
        message: format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ),
    })?;
    let (prefix, llm) = ["text_config", "llm_config"]
        .iter()
        .find_map(|k| root.get(*k).filter(|v| v.is_object()).map(|v| (*k, v)))
        .map(|(k, v)| (format!("{k}."), v))
        .unwrap_or_else(|| (String::new(), &root));
    let c = Cfg {
        origin,
        prefix,
        obj: llm,
        fallback: Some(&root),
    };
    let model_type = c.string("model_type");
    if c.get("kv_lora_rank").is_some() {
        return Err(c.err(format!(
            "key '{}kv_lora_rank': multi-head latent attention (DeepSeek-V2/V3, Kimi-VL) is not modelled (low-rank q/kv projections, 192/128 head widths): write a model TOML with an equivalent GQA shape if an estimate will do",
            c.prefix
        )));
    }
    // Llama-3.2-Vision (`cross_attention_layers`), IDEFICS 1 (`cross_layer_interval`): the
    // image enters through cross-attention layers, never as tokens of the decoder's sequence,
    // so a visual-token schedule has nothing to reduce; it was priced as a LLaVA-style model
    // with 32 × 196 visual tokens in every self-attention layer, without a word.
    if let Some(key) = ["cross_attention_layers", "cross_layer_interval"]
        .into_iter()
        .find(|k| c.get(k).is_some())
    {
        return Err(c.err(format!(
            "key '{}{key}': a cross-attention vision model (Llama-3.2-Vision, IDEFICS 1) is not modelled: its image never enters the decoder's sequence as tokens, so no visual-token schedule applies; price a model that feeds visual tokens into the LLM (aim-sim list models)",
            c.prefix
        )));
    }
    let qkv_bias = c
        .boolean("attention_bias")
        .or_else(|| c.boolean("qkv_bias"))
        .unwrap_or(model_type.starts_with("qwen2"));
    // Qwen3 decoders normalise q and k per head; their configs carry no key for it.
    let qk_norm = c
        .boolean("use_qk_norm")
        .unwrap_or(model_type.starts_with("qwen3"));
    let hidden_size = c.required("hidden_size", LLM_KEYS)?;
    let moe = moe_from_hf(&c, model_type)?;
    // `dir/my-model/config.json` is "my-model"; `models/llama-2-7b.json` is "llama-2-7b".
    let name = source
        .path
        .as_ref()
        .and_then(|p| {
            if p.file_name().is_some_and(|f| f == "config.json") {
                p.parent().and_then(|p| p.file_name())
            } else {
                p.file_stem()
            }
        })
        .map(|s| s.to_string_lossy().into_owned())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| {
            let top = root
                .get("model_type")
                .and_then(Value::as_str)
                .unwrap_or(model_type);
            if top.is_empty() {
                "hf-config".into()
            } else {
                top.into()
            }
        });
    let (vision, tokens_per_frame, default_frames, note) =
        vision_from_hf(origin, &root, hidden_size)?;
    Ok(Model {
        name,
        description: format!("from {origin}{note}"),
        source: origin.to_string(),
        aliases: Vec::new(),
        hidden_size,
        num_heads: c.required("num_attention_heads", LLM_KEYS)?,
        num_kv_heads: c.int("num_key_value_heads")?,
        num_layers: c.required("num_hidden_layers", LLM_KEYS)?,
        intermediate_size: c.required("intermediate_size", LLM_KEYS)?,
        vocab_size: c.required("vocab_size", LLM_KEYS)?,
        qkv_bias,
        head_dim: c.int("head_dim")?,
        qk_norm,
        moe,
        tokens_per_frame,
        default_frames,
        vision,
    })
}

/// The mixture-of-experts keys of Mixtral (`num_local_experts`), Qwen2-MoE / Qwen3-MoE
/// (`num_experts`, `moe_intermediate_size`, `shared_expert_intermediate_size`,
/// `decoder_sparse_step`, `mlp_only_layers`, `norm_topk_prob`) and DeepSeek
/// (`n_routed_experts`, `n_shared_experts`, `first_k_dense_replace`).
fn moe_from_hf(c: &Cfg, model_type: &str) -> Result<Option<Moe>> {
    let mut experts = None;
    for key in ["num_experts", "num_local_experts", "n_routed_experts"] {
        if let Some(e) = c.int(key)? {
            experts = Some(e);
            break;
        }
    }
    // Zero experts beside a top-k is no dense model: it was priced as one in silence.
    if experts == Some(0) && c.int("num_experts_per_tok")?.is_some_and(|k| k > 0) {
        return Err(c.err(
            "the config names 0 experts and num_experts_per_tok > 0: give the number of experts (num_local_experts or num_experts), or drop both keys for a dense model".into(),
        ));
    }
    let Some(num_experts) = experts.filter(|&e| e > 0) else {
        return Ok(None);
    };
    let needed = "num_experts_per_tok and moe_intermediate_size (or intermediate_size)";
    let experts_per_token = c.required("num_experts_per_tok", needed)?;
    // Mixtral's experts are full-width MLPs: no `moe_intermediate_size`.
    let expert_intermediate_size = match c.int("moe_intermediate_size")? {
        Some(w) => w,
        None => c.required("intermediate_size", needed)?,
    };
    let shared_intermediate_size = match c.int("shared_expert_intermediate_size")? {
        Some(w) => w,
        None => c.int("n_shared_experts")?.unwrap_or(0) * expert_intermediate_size,
    };
    if let Some(f) = c.int("moe_layer_freq")?.filter(|&f| f != 1) {
        return Err(c.err(format!(
            "key '{}moe_layer_freq' = {f}: only every layer routing (1) is modelled; write a model TOML with moe.dense_layers",
            c.prefix
        )));
    }
    Ok(Some(Moe {
        num_experts,
        experts_per_token,
        expert_intermediate_size,
        shared_intermediate_size,
        // transformers `Qwen2MoeSparseMoeBlock.shared_expert_gate = Linear(hidden, 1)`.
        shared_expert_gate: model_type.starts_with("qwen2_moe") && shared_intermediate_size > 0,
        first_dense_layers: c.int("first_k_dense_replace")?.unwrap_or(0),
        sparse_step: c.int("decoder_sparse_step")?.unwrap_or(1).max(1),
        dense_layers: c.ints("mlp_only_layers")?,
        // Mixtral renormalises its top-2 softmax; Qwen and DeepSeek say so in the config.
        norm_topk_prob: c
            .boolean("norm_topk_prob")
            .unwrap_or(model_type == "mixtral"),
        routing_skew: 0.0,
        // transformers 4.57 runs Qwen3-VL-MoE's and Llama 4's experts densely at inference
        // (`Qwen3VLMoeTextExperts`, `Llama4TextExperts`: every token through every expert).
        eager_experts: if model_type.starts_with("qwen3_vl_moe") || model_type.starts_with("llama4")
        {
            ExpertsImpl::All
        } else {
            ExpertsImpl::Loop
        },
    }))
}

/// `(vision, tokens_per_frame, default_frames, note)`: the vision tower of a known family (a
/// resolution-aware one derives its tokens, `tokens_per_frame` 0), else none and a note.
fn vision_from_hf(
    origin: &str,
    root: &Value,
    llm_hidden: u64,
) -> Result<(Option<VisionEncoder>, u64, u64, String)> {
    // LLM-only configs keep the LLaVA-OV video defaults (32 frames × 196).
    let none = |note: String| {
        Ok((
            None,
            super::default_tokens_per_frame(),
            super::default_frames(),
            note,
        ))
    };
    let Some(vc) = root.get("vision_config").filter(|v| v.is_object()) else {
        // Said, because 6272 visual tokens on a text-only model is no one's guess but ours.
        return none(format!(
            " (no vision_config: the visual tokens default to LLaVA-OneVision video's {} frames × {})",
            super::default_frames(),
            super::default_tokens_per_frame(),
        ));
    };
    let v = Cfg {
        origin,
        prefix: "vision_config.".into(),
        obj: vc,
        fallback: None,
    };
    let top = Cfg {
        origin,
        prefix: String::new(),
        obj: root,
        fallback: None,
    };
    let root_type = top.string("model_type");
    let vision_type = v.string("model_type");
    let is = |p: &str| root_type.starts_with(p) || vision_type.starts_with(p);
    let tower = if is("qwen2_5_vl") {
        qwen_vl(&v, llm_hidden, QwenGen::V25)?
    } else if is("qwen3_vl") {
        qwen_vl(&v, llm_hidden, QwenGen::V3)?
    } else if is("qwen2_vl") {
        qwen_vl(&v, llm_hidden, QwenGen::V2)?
    } else if root_type == "internvl_chat" || root_type == "internvl" {
        internvl(&v, &top, llm_hidden)?
    } else if (root_type == "llava" || root_type == "llava_onevision")
        && (vision_type.contains("siglip") || vision_type.contains("clip"))
    {
        let enc = fixed_vit(&v, llm_hidden, vision_type.contains("clip"))?;
        // LLaVA-1.5: every patch is a token; LLaVA-OneVision video: 27² pooled 2×2 to 14².
        let tokens = if root_type == "llava" {
            enc.patches_per_frame
        } else {
            super::default_tokens_per_frame()
        };
        let frames = if root_type == "llava" {
            1
        } else {
            super::default_frames()
        };
        return Ok((Some(enc), tokens, frames, String::new()));
    } else {
        let what = if vision_type.is_empty() {
            root_type
        } else {
            vision_type
        };
        return none(format!(
            " (vision_config of model_type '{what}' is not modelled: write a [vision] table for --include-vision)"
        ));
    };
    // Resolution-aware: one image at the default size.
    Ok((Some(tower), 0, 1, String::new()))
}

#[derive(Clone, Copy, PartialEq)]
enum QwenGen {
    V2,
    V25,
    V3,
}

/// Qwen2-VL / Qwen2.5-VL / Qwen3-VL vision towers (transformers `modeling_qwen2_vl.py`,
/// `modeling_qwen2_5_vl.py`, `modeling_qwen3_vl.py`): Conv3d patches over 2 frames, 2-D RoPE,
/// a 2×2 merger normalising over the encoder width first (`ln_q`), then
/// `Linear(4w, 4w) → GELU → Linear(4w, out_hidden_size)`.
fn qwen_vl(v: &Cfg, llm_hidden: u64, generation: QwenGen) -> Result<VisionEncoder> {
    let needed = "depth, hidden_size (embed_dim in Qwen2-VL), num_heads, intermediate_size (or mlp_ratio), patch_size";
    // Qwen2-VL names the encoder width `embed_dim`; its `hidden_size` is the output width.
    let (width, out) = match generation {
        QwenGen::V2 => (v.required("embed_dim", needed)?, v.int("hidden_size")?),
        _ => (
            v.required("hidden_size", needed)?,
            v.int("out_hidden_size")?,
        ),
    };
    if let Some(o) = out.filter(|&o| o != llm_hidden) {
        return Err(v.err(format!(
            "the vision tower projects to {o} but the LLM hidden size is {llm_hidden}: the config is inconsistent"
        )));
    }
    let intermediate = match v.int("intermediate_size")? {
        Some(i) => i,
        None => width * v.float("mlp_ratio").map_or(4, |r| r as u64),
    };
    let merge = v.int("spatial_merge_size")?.unwrap_or(2);
    let patch = v.required("patch_size", needed)?;
    let factor = patch * merge;
    // Image bounds: `preprocessor_config.json` of the official checkpoints (Qwen2/2.5-VL
    // min_pixels 3136, max_pixels 12845056; Qwen3-VL size.shortest_edge 65536,
    // size.longest_edge 16777216). Video: qwen-vl-utils `fetch_video` (QwenLM/Qwen3-VL
    // `vision_process.py`): VIDEO_MIN/MAX_TOKEN_NUM 128/768 per frame and MODEL_SEQ_LEN 128000
    // tokens × 0.9 per clip, in pixels of `factor²`; fps 2 within 4..768 frames.
    let (min_pixels, max_pixels) = match generation {
        QwenGen::V3 => (65_536, 16_777_216),
        _ => (3_136, 12_845_056),
    };
    let tokens = |n: u64| n * factor * factor;
    Ok(VisionEncoder {
        name: match generation {
            QwenGen::V2 => "Qwen2-VL ViT",
            QwenGen::V25 => "Qwen2.5-VL ViT",
            QwenGen::V3 => "Qwen3-VL ViT",
        }
        .into(),
        num_layers: v.required("depth", needed)?,
        hidden_size: width,
        num_heads: v.required("num_heads", needed)?,
        intermediate_size: intermediate,
        patches_per_frame: 0,
        cls_token: false,
        projector_hidden: width * merge * merge,
        patch_size: Some(patch),
        image_size: None,
        temporal_patch_size: Some(v.int("temporal_patch_size")?.unwrap_or(2)),
        spatial_merge_size: Some(merge),
        mlp: if generation == QwenGen::V25 {
            VisionMlp::Swiglu
        } else {
            VisionMlp::Gelu
        },
        norm: if generation == QwenGen::V25 {
            VisionNorm::Rmsnorm
        } else {
            VisionNorm::Layernorm
        },
        window_size: v.int("window_size")?,
        full_attention_layers: if v.int("window_size")?.is_some() {
            v.ints("fullatt_block_indexes")?
        } else {
            Vec::new()
        },
        deepstack_layers: v.ints("deepstack_visual_indexes")?,
        position_embeddings: v.int("num_position_embeddings")?,
        rope_2d: true,
        layer_scale: false,
        projector_norm: ProjectorNorm::Pre,
        pixel_shuffle: false,
        resize: Some(Resize::Smart(super::vision::SmartResize {
            default_size: super::Resolution {
                width: 448,
                height: 448,
            },
            min_pixels,
            max_pixels,
            video_min_pixels: Some(tokens(128)),
            video_max_pixels: Some(tokens(768)),
            video_total_pixels: Some((128_000.0 * (factor * factor) as f64 * 0.9) as u64),
            fps: Some(2.0),
            min_frames: Some(4),
            max_frames: Some(768),
        })),
    })
}

/// InternVL (`internvl_chat`, and transformers' `internvl`): InternViT with a CLS token and
/// layer scale, pixel shuffle by `downsample_ratio` (0.5: 2×2), `mlp1 = LayerNorm(4w) →
/// Linear(4w, h) → GELU → Linear(h, h)` (OpenGVLab/InternVL `modeling_internvl_chat.py`);
/// tiles of `force_image_size` px, `min/max_dynamic_patch` (defaults 1 and 12 with a
/// thumbnail, the README's `load_image`), one tile per video frame.
fn internvl(v: &Cfg, top: &Cfg, llm_hidden: u64) -> Result<VisionEncoder> {
    let needed = "num_hidden_layers, hidden_size, num_attention_heads, intermediate_size, patch_size, image_size";
    let ratio = top.float("downsample_ratio").unwrap_or(0.5);
    let merge = (1.0 / ratio).round() as u64;
    if merge == 0 || (1.0 / merge as f64 - ratio).abs() > 1e-9 {
        return Err(top.err(format!(
            "key 'downsample_ratio' = {ratio}: only 1/m ratios (a pixel shuffle of m×m) are modelled"
        )));
    }
    let tile = match top.int("force_image_size")? {
        Some(s) => s,
        None => v.required("image_size", needed)?,
    };
    let layers = v.required("num_hidden_layers", needed)?;
    // `select_layer` / `vision_feature_layer` −k: the tower runs to layer L − k + 1.
    let select = top
        .get("select_layer")
        .or_else(|| top.get("vision_feature_layer"))
        .and_then(Value::as_i64)
        .unwrap_or(-1);
    let run = if select < 0 {
        (layers as i64 + 1 + select).max(1) as u64
    } else {
        (select as u64).clamp(1, layers)
    };
    let width = v.required("hidden_size", needed)?;
    let patch = v.required("patch_size", needed)?;
    if patch == 0 {
        return Err(v.err("key 'vision_config.patch_size' must be at least 1".into()));
    }
    let native = v.int("image_size")?.unwrap_or(tile);
    Ok(VisionEncoder {
        name: "InternViT".into(),
        num_layers: run,
        hidden_size: width,
        num_heads: v.required("num_attention_heads", needed)?,
        intermediate_size: v.required("intermediate_size", needed)?,
        patches_per_frame: 0,
        cls_token: true,
        projector_hidden: llm_hidden,
        patch_size: Some(patch),
        image_size: Some(tile),
        temporal_patch_size: None,
        spatial_merge_size: Some(merge),
        mlp: VisionMlp::Gelu,
        norm: VisionNorm::Layernorm,
        window_size: None,
        full_attention_layers: Vec::new(),
        deepstack_layers: Vec::new(),
        // A learned table of CLS + (image_size / patch)² positions.
        position_embeddings: Some((native / patch) * (native / patch) + 1),
        rope_2d: false,
        layer_scale: true,
        projector_norm: ProjectorNorm::Post,
        pixel_shuffle: true,
        resize: Some(Resize::Tiles(super::vision::Tiles {
            default_size: super::Resolution {
                width: tile,
                height: tile,
            },
            min_tiles: top.int("min_dynamic_patch")?.unwrap_or(1),
            max_tiles: top.int("max_dynamic_patch")?.unwrap_or(12),
            thumbnail: top.boolean("use_thumbnail").unwrap_or(true),
            video_max_tiles: 1,
            fps: None,
        })),
    })
}

/// CLIP / SigLIP in LLaVA (transformers `llava`, `llava_onevision`): a fixed-resolution ViT of
/// `(image_size / patch_size)²` patches and a two-layer GELU projector to the LLM width. The
/// tower runs all `num_hidden_layers` of its config.
fn fixed_vit(v: &Cfg, llm_hidden: u64, cls: bool) -> Result<VisionEncoder> {
    let needed = "num_hidden_layers, hidden_size, num_attention_heads, intermediate_size, patch_size, image_size";
    let (patch, image) = (
        v.required("patch_size", needed)?,
        v.required("image_size", needed)?,
    );
    if patch == 0 {
        return Err(v.err("key 'vision_config.patch_size' must be at least 1".into()));
    }
    Ok(VisionEncoder {
        name: if cls { "CLIP ViT" } else { "SigLIP ViT" }.into(),
        num_layers: v.required("num_hidden_layers", needed)?,
        hidden_size: v.required("hidden_size", needed)?,
        num_heads: v.required("num_attention_heads", needed)?,
        intermediate_size: v.required("intermediate_size", needed)?,
        patches_per_frame: (image / patch) * (image / patch),
        cls_token: cls,
        projector_hidden: llm_hidden,
        patch_size: Some(patch),
        image_size: Some(image),
        temporal_patch_size: None,
        spatial_merge_size: None,
        mlp: VisionMlp::Gelu,
        norm: VisionNorm::Layernorm,
        window_size: None,
        full_attention_layers: Vec::new(),
        deepstack_layers: Vec::new(),
        position_embeddings: None,
        rope_2d: false,
        layer_scale: false,
        projector_norm: ProjectorNorm::None,
        pixel_shuffle: false,
        resize: None,
    })
}
