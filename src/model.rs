//! Model shapes: the LLM backbone the visual tokens flow through, plus how many visual tokens a
//! frame/image yields. Loaded from `models/*.toml` presets, the user's TOML, or a Hugging Face
//! `config.json` (flat, or with the LLM under `text_config` / `llm_config`).

use crate::error::{Error, Result};
use crate::presets::{self, Source};
use serde::{Deserialize, Serialize};

/// Largest shape value accepted (widths, heads, vocabulary); anything beyond is a typo.
const MAX_DIM: u64 = 1_000_000;
/// Most decoder or encoder layers accepted (the largest published LLMs have under 200).
pub const MAX_LAYERS: u64 = 1024;

/// An LLM backbone (decoder-only, SwiGLU MLP) and its visual front end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    #[serde(default)]
    pub description: String,
    pub hidden_size: u64,
    pub num_heads: u64,
    /// Key/value heads (GQA); defaults to `num_heads`.
    #[serde(default)]
    pub num_kv_heads: Option<u64>,
    pub num_layers: u64,
    /// SwiGLU intermediate width.
    pub intermediate_size: u64,
    pub vocab_size: u64,
    /// Biases on the q/k/v projections (Qwen2 has them, LLaMA does not).
    #[serde(default)]
    pub qkv_bias: bool,
    /// Visual tokens one frame/image yields after the projector (196 for LLaVA-OV video).
    #[serde(default = "default_tokens_per_frame")]
    pub tokens_per_frame: u64,
    /// Frames assumed when the user gives no token count (32 for video models, 1 for images).
    #[serde(default = "default_frames")]
    pub default_frames: u64,
    /// The vision encoder and projector, for end-to-end estimates. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<VisionEncoder>,
}

/// A ViT-style vision encoder followed by pooling and a two-layer MLP projector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisionEncoder {
    pub name: String,
    pub num_layers: u64,
    pub hidden_size: u64,
    pub num_heads: u64,
    pub intermediate_size: u64,
    /// Patch tokens per frame/image entering the encoder (729 for SigLIP-384/14).
    pub patches_per_frame: u64,
    /// Whether a CLS token is prepended (CLIP yes, SigLIP no).
    #[serde(default)]
    pub cls_token: bool,
    /// Hidden width of the projector MLP (encoder width -> this -> LLM hidden size).
    pub projector_hidden: u64,
}

fn default_tokens_per_frame() -> u64 {
    196
}
fn default_frames() -> u64 {
    32
}

impl Model {
    /// Key/value heads, resolving the default.
    pub fn kv_heads(&self) -> u64 {
        self.num_kv_heads.unwrap_or(self.num_heads)
    }

    /// Head size `d = h / H`.
    pub fn head_dim(&self) -> u64 {
        self.hidden_size / self.num_heads
    }

    /// Loads a preset name, a model TOML, or a Hugging Face `config.json`, then validates it.
    pub fn load(name_or_path: &str) -> Result<Model> {
        let source = presets::resolve("model", name_or_path, presets::MODELS)?;
        Model::from_source(&source)
    }

    /// Parses (TOML or HF JSON, by extension / first character) and validates.
    pub fn from_source(source: &Source) -> Result<Model> {
        let is_json = source
            .path
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || source.text.trim_start().starts_with('{');
        let model = if is_json {
            from_hf_config(source)?
        } else {
            presets::parse_toml(source)?
        };
        model.validate().map_err(|message| Error::Parse {
            origin: source.origin.clone(),
            message,
        })?;
        Ok(model)
    }

    /// Shapes must be positive, divide evenly, and stay below [`MAX_DIM`].
    pub fn validate(&self) -> Result<(), String> {
        for (key, value) in [
            ("hidden_size", self.hidden_size),
            ("num_heads", self.num_heads),
            ("num_kv_heads", self.kv_heads()),
            ("num_layers", self.num_layers),
            ("intermediate_size", self.intermediate_size),
            ("vocab_size", self.vocab_size),
            ("tokens_per_frame", self.tokens_per_frame),
            ("default_frames", self.default_frames),
        ] {
            if value == 0 || value > MAX_DIM {
                return Err(format!(
                    "key '{key}' = {value} must be between 1 and {MAX_DIM}"
                ));
            }
        }
        if self.num_layers > MAX_LAYERS {
            return Err(format!(
                "key 'num_layers' = {} must be at most {MAX_LAYERS}: is it the model's layer count?",
                self.num_layers
            ));
        }
        if !self.hidden_size.is_multiple_of(self.num_heads) {
            return Err(format!(
                "num_heads = {} does not divide hidden_size = {}: fix the shape",
                self.num_heads, self.hidden_size
            ));
        }
        if !self.num_heads.is_multiple_of(self.kv_heads()) {
            return Err(format!(
                "num_kv_heads = {} does not divide num_heads = {}: fix the shape",
                self.kv_heads(),
                self.num_heads
            ));
        }
        if let Some(v) = &self.vision {
            for (key, value) in [
                ("vision.num_layers", v.num_layers),
                ("vision.hidden_size", v.hidden_size),
                ("vision.num_heads", v.num_heads),
                ("vision.intermediate_size", v.intermediate_size),
                ("vision.patches_per_frame", v.patches_per_frame),
                ("vision.projector_hidden", v.projector_hidden),
            ] {
                if value == 0 || value > MAX_DIM {
                    return Err(format!(
                        "key '{key}' = {value} must be between 1 and {MAX_DIM}"
                    ));
                }
            }
            if v.num_layers > MAX_LAYERS {
                return Err(format!(
                    "key 'vision.num_layers' = {} must be at most {MAX_LAYERS}",
                    v.num_layers
                ));
            }
            if v.hidden_size % v.num_heads != 0 {
                return Err(format!(
                    "vision.num_heads = {} does not divide vision.hidden_size = {}",
                    v.num_heads, v.hidden_size
                ));
            }
        }
        Ok(())
    }
}

/// Reads the LLM part of a Hugging Face `config.json`.
fn from_hf_config(source: &Source) -> Result<Model> {
    let parse_err = |message: String| Error::Parse {
        origin: source.origin.clone(),
        message,
    };
    let root: serde_json::Value = serde_json::from_str(&source.text).map_err(|e| {
        parse_err(format!(
            "invalid JSON at line {}, column {}: {e}",
            e.line(),
            e.column()
        ))
    })?;
    let (prefix, llm) = ["text_config", "llm_config"]
        .iter()
        .find_map(|k| root.get(*k).filter(|v| v.is_object()).map(|v| (*k, v)))
        .map(|(k, v)| (format!("{k}."), v))
        .unwrap_or_else(|| (String::new(), &root));

    // A key from the LLM sub-config, falling back to the top level (older LLaVA configs keep
    // vocab_size there).
    let get = |key: &str| -> Option<&serde_json::Value> { llm.get(key).or_else(|| root.get(key)) };
    let int = |key: &str| -> Result<Option<u64>> {
        match get(key) {
            None | Some(serde_json::Value::Null) => Ok(None),
            Some(v) => v.as_u64().map(Some).ok_or_else(|| {
                parse_err(format!(
                    "key '{prefix}{key}' = {v} must be a positive integer"
                ))
            }),
        }
    };
    let required = |key: &str| -> Result<u64> {
        int(key)?.ok_or_else(|| {
            parse_err(format!(
                "missing key '{prefix}{key}' (needed: hidden_size, num_attention_heads, num_hidden_layers, intermediate_size, vocab_size)"
            ))
        })
    };
    let model_type = get("model_type").and_then(|v| v.as_str()).unwrap_or("");
    let qkv_bias = get("attention_bias")
        .and_then(|v| v.as_bool())
        .unwrap_or(model_type.starts_with("qwen2"));
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
            if model_type.is_empty() {
                "hf-config".into()
            } else {
                model_type.into()
            }
        });
    Ok(Model {
        name,
        description: format!("from {}", source.origin),
        hidden_size: required("hidden_size")?,
        num_heads: required("num_attention_heads")?,
        num_kv_heads: int("num_key_value_heads")?,
        num_layers: required("num_hidden_layers")?,
        intermediate_size: required("intermediate_size")?,
        vocab_size: required("vocab_size")?,
        qkv_bias,
        tokens_per_frame: default_tokens_per_frame(),
        default_frames: default_frames(),
        vision: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(text: &str) -> Result<Model> {
        Model::from_source(&Source {
            origin: "config.json".into(),
            text: text.into(),
            path: Some("dir/my-model/config.json".into()),
        })
    }

    #[test]
    fn every_preset_loads() {
        for name in presets::names(presets::MODELS) {
            let m = Model::load(name).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(m.name, name);
        }
    }

    #[test]
    fn hf_flat_and_nested_configs() {
        let flat = r#"{"model_type":"qwen2","hidden_size":3584,"num_attention_heads":28,
            "num_key_value_heads":4,"num_hidden_layers":28,"intermediate_size":18944,"vocab_size":152064}"#;
        let m = json(flat).unwrap();
        assert_eq!((m.hidden_size, m.kv_heads(), m.head_dim()), (3584, 4, 128));
        assert!(m.qkv_bias);
        assert_eq!(m.name, "my-model");
        let nested = r#"{"vocab_size":32000,"text_config":{"model_type":"llama","hidden_size":4096,
            "num_attention_heads":32,"num_hidden_layers":32,"intermediate_size":11008}}"#;
        let m = json(nested).unwrap();
        assert_eq!(m.kv_heads(), 32);
        assert_eq!(m.vocab_size, 32000);
        assert!(!m.qkv_bias);
    }

    #[test]
    fn hf_errors_name_the_key() {
        let err = json(r#"{"text_config":{"hidden_size":4096}}"#)
            .unwrap_err()
            .to_string();
        assert!(err.contains("text_config.num_attention_heads"), "{err}");
        let err = json(r#"{"hidden_size":"big"}"#).unwrap_err().to_string();
        assert!(err.contains("'hidden_size'"), "{err}");
        let err = json("{ not json").unwrap_err().to_string();
        assert!(err.contains("invalid JSON"), "{err}");
    }

    #[test]
    fn inconsistent_shapes_are_rejected() {
        let bad_heads = r#"{"hidden_size":100,"num_attention_heads":3,"num_hidden_layers":2,"intermediate_size":8,"vocab_size":8}"#;
        assert!(json(bad_heads)
            .unwrap_err()
            .to_string()
            .contains("does not divide"));
        let bad_kv = r#"{"hidden_size":96,"num_attention_heads":12,"num_key_value_heads":5,"num_hidden_layers":2,"intermediate_size":8,"vocab_size":8}"#;
        assert!(json(bad_kv)
            .unwrap_err()
            .to_string()
            .contains("num_kv_heads"));
    }
}
