//! Model shapes: the LLM backbone the visual tokens flow through, plus how many visual tokens a
//! frame/image yields. Loaded from `models/*.toml` presets, the user's TOML, or a Hugging Face
//! `config.json` (flat, or with the LLM under `text_config` / `llm_config`, the vision tower
//! under `vision_config`: [`hf`]).

mod hf;
pub mod moe;
pub mod vision;

use crate::error::{Error, Result};
use crate::presets::{self, Source};
pub use moe::Moe;
use serde::{Deserialize, Serialize};
pub use vision::{
    Media, PatchShape, ProjectorNorm, Resize, Resolution, VisionInput, VisionMlp, VisionNorm,
};

/// Largest shape value accepted (widths, heads, vocabulary); anything beyond is a typo.
const MAX_DIM: u64 = 1_000_000;
/// Most decoder or encoder layers accepted (the largest published LLMs have under 200).
pub(crate) const MAX_LAYERS: u64 = 1024;
/// Most tiles per image accepted (InternVL uses 12; the grid search is quadratic in it).
const MAX_TILES: u64 = 256;

/// An LLM backbone (decoder-only, SwiGLU MLP) and its visual front end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Model {
    pub name: String,
    #[serde(default)]
    pub description: String,
    /// Where the shapes come from (config files, papers), for docs/models.md. Not written to
    /// outputs.
    #[serde(default, skip_serializing)]
    pub source: String,
    /// Other names the preset answers to on `--model` and in measurement rows: the Hugging
    /// Face hub ids of checkpoints with these shapes ([`crate::presets::aliases`]).
    #[serde(default, skip_serializing)]
    pub aliases: Vec<String>,
    pub hidden_size: u64,
    pub num_heads: u64,
    /// Key/value heads (GQA); defaults to `num_heads`.
    #[serde(default)]
    pub num_kv_heads: Option<u64>,
    pub num_layers: u64,
    /// SwiGLU intermediate width (of the dense layers, when the model has experts).
    pub intermediate_size: u64,
    pub vocab_size: u64,
    /// Biases on the q/k/v projections (Qwen2 has them, LLaMA does not).
    #[serde(default)]
    pub qkv_bias: bool,
    /// Width of one attention head; defaults to `hidden_size / num_heads`. Explicit where the q
    /// projection is not `hidden × hidden` (Qwen3-30B-A3B: 32 heads × 128 = 4096 > 2048).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_dim: Option<u64>,
    /// Per-head RMSNorm on q and k before RoPE (Qwen3's QK-norm).
    #[serde(default, skip_serializing_if = "is_false")]
    pub qk_norm: bool,
    /// Mixture-of-experts MLP (`[moe]`); absent: every layer is dense.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub moe: Option<Moe>,
    /// Visual tokens one frame/image yields after the projector (196 for LLaVA-OV video).
    /// Derived for resolution-aware towers (`[vision.resize]`) at their default size; 196 when
    /// neither is given. 0 here means "not given" (a file's stated 0 is refused on reading).
    #[serde(
        default,
        deserialize_with = "stated_tokens_per_frame",
        skip_serializing_if = "is_zero"
    )]
    pub tokens_per_frame: u64,
    /// Frames assumed when the user gives no token count (32 for video models, 1 for images).
    #[serde(default = "default_frames")]
    pub default_frames: u64,
    /// The vision encoder and projector, for end-to-end estimates. Optional.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vision: Option<VisionEncoder>,
}

/// A ViT-style vision encoder followed by a merger/pooling and an MLP projector. Without a
/// `[vision.resize]` rule it is the classic fixed-resolution tower (CLIP, SigLIP: LayerNorm,
/// GELU MLP, full attention, projector then pooling); with one, the keys below describe the
/// resolution-aware towers (Qwen2.5-VL, Qwen3-VL, InternVL, RICE).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisionEncoder {
    pub name: String,
    pub num_layers: u64,
    pub hidden_size: u64,
    pub num_heads: u64,
    pub intermediate_size: u64,
    /// Patch tokens per frame/image entering the encoder (729 for SigLIP-384/14); derived from
    /// `image_size / patch_size` or the resize rule's default size when absent.
    #[serde(default)]
    pub patches_per_frame: u64,
    /// Whether a CLS token is prepended (CLIP, InternViT and RICE yes, SigLIP and Qwen no).
    #[serde(default)]
    pub cls_token: bool,
    /// Hidden width of the projector MLP (merged width -> this -> LLM hidden size).
    pub projector_hidden: u64,
    /// Pixels per patch side.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub patch_size: Option<u64>,
    /// The encoder's native square input (SigLIP 384) or tile side (InternViT 448), in pixels.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image_size: Option<u64>,
    /// Frames per temporal patch (a Conv3d over 2 frames in Qwen2-VL..Qwen3-VL); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temporal_patch_size: Option<u64>,
    /// `m × m` neighbouring patches concatenated into one LLM token (2×2 merger, pixel
    /// shuffle 0.5); default 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub spatial_merge_size: Option<u64>,
    #[serde(default, skip_serializing_if = "is_default")]
    pub mlp: VisionMlp,
    #[serde(default, skip_serializing_if = "is_default")]
    pub norm: VisionNorm,
    /// Window attention inside `window_size`-pixel squares in every layer not listed in
    /// `full_attention_layers` (Qwen2.5-VL: 112 px, full attention in 7, 15, 23, 31).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub window_size: Option<u64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub full_attention_layers: Vec<u64>,
    /// Layers whose outputs also go through their own merger into the LLM (Qwen3-VL DeepStack).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deepstack_layers: Vec<u64>,
    /// A learned position table of this many entries, bilinearly resampled to every grid
    /// (Qwen3-VL: 2304 = 48²).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub position_embeddings: Option<u64>,
    /// 2-D rotary embedding applied to q and k in every layer (Qwen2.5-VL, Qwen3-VL, RICE).
    #[serde(default, skip_serializing_if = "is_false")]
    pub rope_2d: bool,
    /// Learned per-channel scales on both residual branches (InternViT `ls1`, `ls2`).
    #[serde(default, skip_serializing_if = "is_false")]
    pub layer_scale: bool,
    #[serde(default, skip_serializing_if = "is_default")]
    pub projector_norm: ProjectorNorm,
    /// The merge is a pixel shuffle (InternVL: reshapes and a permute, one copy), not a view.
    #[serde(default, skip_serializing_if = "is_false")]
    pub pixel_shuffle: bool,
    /// How an image or a video becomes patches (`[vision.resize]`); absent: fixed resolution.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resize: Option<Resize>,
}

fn is_zero(v: &u64) -> bool {
    *v == 0
}

/// A stated `tokens_per_frame`: 0 is refused as `check_dim` refuses any other dimension out
/// of range, since the field's 0 stands for "not given" (it used to become 196 silently).
fn stated_tokens_per_frame<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    let value = u64::deserialize(d)?;
    if value == 0 {
        return Err(serde::de::Error::custom(format!(
            "0 must be between 1 and {MAX_DIM}: drop the key for the default (196, or what [vision.resize] derives)"
        )));
    }
    Ok(value)
}

fn is_false(v: &bool) -> bool {
    !*v
}
fn one() -> u64 {
    1
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Visual tokens per frame when neither the model nor a resize rule says (LLaVA-OV video).
fn default_tokens_per_frame() -> u64 {
    196
}
fn default_frames() -> u64 {
    32
}

/// A shape value must be positive and below [`MAX_DIM`].
fn check_dim(key: &str, value: u64) -> Result<(), String> {
    // Layer counts have their own, lower limit: one message whatever the value (issue 24).
    let max = if key.ends_with("num_layers") {
        MAX_LAYERS
    } else {
        MAX_DIM
    };
    if value == 0 || value > max {
        return Err(format!("key '{key}' = {value} must be between 1 and {max}"));
    }
    Ok(())
}

impl Model {
    /// The long name for titles and headers: the description, else the name.
    pub fn label(&self) -> &str {
        if self.description.is_empty() {
            &self.name
        } else {
            &self.description
        }
    }

    /// Key/value heads, resolving the default.
    pub fn kv_heads(&self) -> u64 {
        self.num_kv_heads.unwrap_or(self.num_heads)
    }

    /// Head size: `head_dim` when given, else `d = h / H`.
    pub fn head_dim(&self) -> u64 {
        self.head_dim.unwrap_or(self.hidden_size / self.num_heads)
    }

    /// Whether decoder layer `i` routes its MLP through experts.
    pub(crate) fn is_moe_layer(&self, layer: u64) -> bool {
        self.moe.as_ref().is_some_and(|m| m.is_sparse(layer))
    }

    /// Loads a preset name, a model TOML, or a Hugging Face `config.json`, then validates it.
    pub fn load(name_or_path: &str) -> Result<Model> {
        let source = presets::resolve("model", name_or_path, presets::MODELS)?;
        Model::from_source(&source)
    }

    /// Parses (TOML or HF JSON, by extension / first character), fills the derived values
    /// ([`Model::resolve`]) and validates.
    pub fn from_source(source: &Source) -> Result<Model> {
        let is_json = source
            .path
            .as_ref()
            .and_then(|p| p.extension())
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
            || source.text.trim_start().starts_with('{');
        let mut model: Model = if is_json {
            hf::from_hf_config(source)
                .map_err(|e| presets::with_kind_hint(e, &source.text, presets::FileKind::Model))?
        } else {
            presets::parse_toml(source)?
        };
        model
            .resolve()
            .and_then(|()| model.validate())
            .map_err(|message| Error::Parse {
                origin: source.origin.clone(),
                // A config.json names its keys as Hugging Face does: "key 'num_layers'" was said
                // of a file's num_hidden_layers.
                message: if is_json {
                    hf::config_keys(&message)
                } else {
                    message
                },
            })?;
        Ok(model)
    }

    /// Fills what follows from other keys: the vision tower's patches per frame, and
    /// `tokens_per_frame` from the resize rule at its default size (an explicit value must
    /// agree), else 196.
    pub fn resolve(&mut self) -> Result<(), String> {
        let derived = match &mut self.vision {
            Some(v) => v.resolve()?,
            None => None,
        };
        match (self.tokens_per_frame, derived) {
            (0, Some(d)) => self.tokens_per_frame = d,
            (0, None) => self.tokens_per_frame = default_tokens_per_frame(),
            (given, Some(d)) if given != d => {
                return Err(format!(
                    "tokens_per_frame = {given}, but the vision tower yields {d} at its default size: drop the key (it follows from [vision.resize]) or fix it"
                ))
            }
            _ => {}
        }
        Ok(())
    }

    /// Shapes must be positive, divide evenly, and stay below [`MAX_DIM`].
    pub fn validate(&self) -> Result<(), String> {
        crate::presets::check_name(&self.name)?;
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
            check_dim(key, value)?;
        }
        match self.head_dim {
            Some(d) => check_dim("head_dim", d)?,
            None if !self.hidden_size.is_multiple_of(self.num_heads) => {
                return Err(format!(
                    "num_heads = {} does not divide hidden_size = {}: fix the shape (or give head_dim)",
                    self.num_heads, self.hidden_size
                ));
            }
            None => {}
        }
        if !self.num_heads.is_multiple_of(self.kv_heads()) {
            return Err(format!(
                "num_kv_heads = {} does not divide num_heads = {}: fix the shape",
                self.kv_heads(),
                self.num_heads
            ));
        }
        if let Some(m) = &self.moe {
            m.validate(self.num_layers)?;
        }
        if let Some(v) = &self.vision {
            v.validate(self.num_layers)?;
        }
        Ok(())
    }
}

impl VisionEncoder {
    /// Frames per temporal patch.
    pub fn temporal(&self) -> u64 {
        self.temporal_patch_size.unwrap_or(1)
    }

    /// Patches per side merged into one token.
    pub fn merge(&self) -> u64 {
        self.spatial_merge_size.unwrap_or(1)
    }

    /// What the resize rule needs to know of the tower (`None` without a patch size).
    pub(crate) fn patch_shape(&self) -> Option<PatchShape> {
        Some(PatchShape {
            patch: self.patch_size?,
            temporal: self.temporal(),
            merge: self.merge(),
            tile: self.image_size,
        })
    }

    /// Patches and tokens of `media` for a resolution-aware tower; `None` for a fixed one.
    pub fn input(&self, media: Media) -> Result<Option<VisionInput>, String> {
        let (Some(resize), Some(shape)) = (&self.resize, self.patch_shape()) else {
            return Ok(None);
        };
        vision::vision_input(resize, shape, media).map(Some)
    }

    /// `frames` images of `tokens_per_frame` tokens each ([`vision::input_for_tokens`]).
    pub(crate) fn input_for_tokens(
        &self,
        tokens_per_frame: u64,
        frames: u64,
    ) -> Result<Option<VisionInput>, String> {
        let (Some(resize), Some(shape)) = (&self.resize, self.patch_shape()) else {
            return Ok(None);
        };
        vision::input_for_tokens(resize, shape, tokens_per_frame, frames).map(Some)
    }

    /// One image at the resize rule's default size.
    pub fn default_input(&self) -> Result<Option<VisionInput>, String> {
        match &self.resize {
            Some(r) => self.input(Media {
                video: false,
                size: r.default_size(),
                frames: 1,
            }),
            None => Ok(None),
        }
    }

    /// Fills `patches_per_frame`; returns the LLM tokens of one default image for a
    /// resolution-aware tower.
    fn resolve(&mut self) -> Result<Option<u64>, String> {
        self.check_resize()?;
        if let Some(input) = self.default_input()? {
            // Anyres towers run the classic tower once per crop: patches of one pass.
            let patches = match self.resize {
                Some(Resize::Anyres(_)) => input.patches_per_pass(),
                _ => input.patches_per_pass() * input.passes_per_frame,
            };
            if self.patches_per_frame == 0 {
                self.patches_per_frame = patches;
            }
            return Ok(Some(input.tokens_per_frame));
        }
        if let (0, Some(p), Some(s)) = (self.patches_per_frame, self.patch_size, self.image_size) {
            if let Some(side) = s.checked_div(p) {
                self.patches_per_frame = side * side;
            }
        }
        Ok(None)
    }

    /// The keys a resize rule needs to compute patches, checked before any geometry is derived.
    fn check_resize(&self) -> Result<(), String> {
        let Some(resize) = &self.resize else {
            return Ok(());
        };
        let patch = self.patch_size.ok_or(
            "vision.patch_size is needed with [vision.resize]: give the patch side in pixels",
        )?;
        check_dim("vision.patch_size", patch)?;
        check_dim("vision.temporal_patch_size", self.temporal())?;
        check_dim("vision.spatial_merge_size", self.merge())?;
        if let Some(w) = self.window_size {
            if !w.is_multiple_of(patch * self.merge()) {
                return Err(format!(
                    "vision.window_size = {w} must be a multiple of patch_size × spatial_merge_size = {}",
                    patch * self.merge()
                ));
            }
        }
        if let Resize::Tiles(t) = resize {
            let side = self
                .image_size
                .ok_or("vision.image_size (the tile side) is needed with rule = \"tiles\"")?;
            if !side.is_multiple_of(patch) || !(side / patch).is_multiple_of(self.merge()) {
                return Err(format!(
                    "vision.image_size = {side} must be a whole number of {patch}-px patches, divisible by spatial_merge_size = {}",
                    self.merge()
                ));
            }
            if !(1..=MAX_TILES).contains(&t.max_tiles) {
                return Err(format!(
                    "vision.resize.max_tiles = {} must be between 1 and {MAX_TILES}",
                    t.max_tiles
                ));
            }
            check_dim("vision.resize.video_max_tiles", t.video_max_tiles)?;
            if t.min_tiles == 0 || t.min_tiles > t.max_tiles {
                return Err(format!(
                    "vision.resize.min_tiles = {} must be between 1 and max_tiles = {}",
                    t.min_tiles, t.max_tiles
                ));
            }
        }
        if let Resize::Anyres(any) = resize {
            let side = self
                .image_size
                .ok_or("vision.image_size (the crop side) is needed with rule = \"anyres\"")?;
            if !side.is_multiple_of(patch) || self.merge() != 1 {
                return Err(format!(
                    "vision.image_size = {side} must be a whole number of {patch}-px patches, and anyres takes no spatial_merge_size"
                ));
            }
            if any.grid_pinpoints.is_empty() || any.grid_pinpoints.len() > MAX_TILES as usize {
                return Err(format!(
                    "vision.resize.grid_pinpoints must list 1 to {MAX_TILES} resolutions, e.g. [\"336x672\", \"672x336\", \"672x672\"]"
                ));
            }
            if let Some(p) = any.grid_pinpoints.iter().find(|p| {
                !p.width.is_multiple_of(side)
                    || !p.height.is_multiple_of(side)
                    || (p.width / side) * (p.height / side) > MAX_TILES
            }) {
                return Err(format!(
                    "vision.resize.grid_pinpoints: {p} must be whole {side}-px crops (image_size), at most {MAX_TILES} of them"
                ));
            }
        }
        if let Resize::Smart(s) = resize {
            if s.min_pixels > s.max_pixels || s.max_pixels == 0 {
                return Err(format!(
                    "vision.resize: min_pixels = {} must be at most max_pixels = {} (and max_pixels positive)",
                    s.min_pixels, s.max_pixels
                ));
            }
            if s.fps.is_some_and(|f| !(f > 0.0 && f <= 1000.0)) {
                return Err(
                    "vision.resize.fps must be between 0 and 1000 frames per second".into(),
                );
            }
        }
        Ok(())
    }

    /// `llm_layers`: the LLM's layers, which DeepStack's outputs are added into (one each).
    fn validate(&self, llm_layers: u64) -> Result<(), String> {
        for (key, value) in [
            ("vision.num_layers", self.num_layers),
            ("vision.hidden_size", self.hidden_size),
            ("vision.num_heads", self.num_heads),
            ("vision.intermediate_size", self.intermediate_size),
            ("vision.patches_per_frame", self.patches_per_frame),
            ("vision.projector_hidden", self.projector_hidden),
            ("vision.temporal_patch_size", self.temporal()),
            ("vision.spatial_merge_size", self.merge()),
        ] {
            check_dim(key, value)?;
        }
        for (key, value) in [
            ("vision.patch_size", self.patch_size),
            ("vision.image_size", self.image_size),
            ("vision.window_size", self.window_size),
            ("vision.position_embeddings", self.position_embeddings),
        ] {
            if let Some(v) = value {
                check_dim(key, v)?;
            }
        }
        check_dim("vision.num_layers", self.num_layers)?;
        if !self.hidden_size.is_multiple_of(self.num_heads) {
            return Err(format!(
                "vision.num_heads = {} does not divide vision.hidden_size = {}",
                self.num_heads, self.hidden_size
            ));
        }
        for (key, list) in [
            ("vision.full_attention_layers", &self.full_attention_layers),
            ("vision.deepstack_layers", &self.deepstack_layers),
        ] {
            if let Some(l) = list.iter().find(|&&l| l >= self.num_layers) {
                return Err(format!(
                    "{key} lists layer {l}, but the tower has {} layers (0-based)",
                    self.num_layers
                ));
            }
            // Each entry is priced once (a full-attention layer, a DeepStack merger): a repeat
            // priced one layer twice, where the model has it once.
            if list.len() as u64 > self.num_layers {
                return Err(format!(
                    "{key} lists {} layers, but the tower has {}: list each layer once",
                    list.len(),
                    self.num_layers
                ));
            }
            let mut sorted = list.clone();
            sorted.sort_unstable();
            if let Some(w) = sorted.windows(2).find(|w| w[0] == w[1]) {
                return Err(format!(
                    "{key} lists layer {} more than once: list each layer once",
                    w[0]
                ));
            }
        }
        // DeepStack adds its i-th merger's output into LLM layer i.
        if self.deepstack_layers.len() as u64 > llm_layers {
            return Err(format!(
                "vision.deepstack_layers lists {} layers, but their outputs go into one LLM layer each and the LLM has {llm_layers}: list at most {llm_layers}",
                self.deepstack_layers.len()
            ));
        }
        match &self.resize {
            // Anyres runs the classic tower once per crop.
            None | Some(Resize::Anyres(_)) => {
                self.check_resize()?;
                // The classic tower prices none of these: refuse them rather than ignore them.
                let set = [
                    ("mlp", self.mlp != VisionMlp::default()),
                    ("norm", self.norm != VisionNorm::default()),
                    ("temporal_patch_size", self.temporal() > 1),
                    ("spatial_merge_size", self.merge() > 1),
                    ("window_size", self.window_size.is_some()),
                    (
                        "full_attention_layers",
                        !self.full_attention_layers.is_empty(),
                    ),
                    ("deepstack_layers", !self.deepstack_layers.is_empty()),
                    ("position_embeddings", self.position_embeddings.is_some()),
                    ("rope_2d", self.rope_2d),
                    ("layer_scale", self.layer_scale),
                    (
                        "projector_norm",
                        self.projector_norm != ProjectorNorm::default(),
                    ),
                    ("pixel_shuffle", self.pixel_shuffle),
                ];
                if let Some((key, _)) = set.iter().find(|(_, on)| *on) {
                    return Err(format!(
                        "vision.{key} is modelled for the Qwen-VL and InternVL towers only: add a [vision.resize] table (rule = \"smart\" or \"tiles\")"
                    ));
                }
                if let (Some(p), Some(s)) = (self.patch_size, self.image_size) {
                    let want = (s / p) * (s / p);
                    if self.patches_per_frame != want {
                        return Err(format!(
                            "vision.patches_per_frame = {} but image_size {s} / patch_size {p} gives {want}: fix one",
                            self.patches_per_frame
                        ));
                    }
                }
            }
            Some(_) => self.check_resize()?,
        }
        Ok(())
    }
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
