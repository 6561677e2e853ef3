//! Resolution-aware vision towers: how an image or a video becomes encoder patches and LLM
//! tokens. Two rules are modelled, each transcribed from the code that runs it:
//! - `smart` — the Qwen2-VL family's `smart_resize` (Qwen2-VL, Qwen2.5-VL, Qwen3-VL,
//!   LLaVA-OneVision-1.5): both sides rounded to multiples of `patch · merge` with the pixels
//!   clamped, frames grouped by the temporal patch (qwen-vl-utils `vision_process.py`,
//!   QwenLM/Qwen3-VL and QwenLM/Qwen2.5-VL);
//! - `tiles` — InternVL's `dynamic_preprocess`: the aspect-ratio grid of 448-px tiles closest
//!   to the image plus a thumbnail (OpenGVLab/InternVL README);
//! - `anyres` — LLaVA-NeXT's: the base image and the crops of the grid resolution that keeps
//!   most of the image (`mm_utils.select_best_resolution`), the crops' feature grid unpadded to
//!   the image's aspect with a newline token per row (`llava_arch.py`, `spatial_unpad`).
//!
//! Fixed-resolution towers (CLIP, SigLIP in LLaVA) have no rule: every frame is resized to the
//! encoder's own size and yields `patches_per_frame` patches.

use crate::error::keys::{FPS, FRAMES, TOKENS_PER_FRAME, VIDEO_SECONDS};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Longest over shortest side accepted (qwen-vl-utils `MAX_RATIO`).
pub(crate) const MAX_ASPECT_RATIO: f64 = 200.0;
/// Largest side accepted, in pixels: beyond it the input is a typo.
const MAX_SIDE: u64 = 1 << 16;

/// An image or frame size in pixels, written `WxH` (width first, as `1280x720`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resolution {
    pub width: u64,
    pub height: u64,
}

impl FromStr for Resolution {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let t = s.trim();
        let (w, h) = t.split_once(['x', 'X', '×']).ok_or_else(|| {
            format!("'{t}' is not a size: write WIDTHxHEIGHT in pixels, e.g. 1280x720")
        })?;
        let side = |v: &str| -> Result<u64, String> {
            match v.trim().parse::<u64>() {
                Ok(n) if (1..=MAX_SIDE).contains(&n) => Ok(n),
                _ => Err(format!(
                    "'{t}': each side must be a whole number of pixels between 1 and {MAX_SIDE}"
                )),
            }
        };
        let r = Resolution {
            width: side(w)?,
            height: side(h)?,
        };
        let ratio = r.width.max(r.height) as f64 / r.width.min(r.height) as f64;
        if ratio > MAX_ASPECT_RATIO {
            return Err(format!(
                "'{t}': aspect ratio {ratio:.0} exceeds {MAX_ASPECT_RATIO:.0}, which the processors refuse"
            ));
        }
        Ok(r)
    }
}

impl fmt::Display for Resolution {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        write!(f, "{}x{}", self.width, self.height)
    }
}

impl Serialize for Resolution {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Resolution {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// The encoder MLP.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisionMlp {
    /// `fc2(GELU(fc1(x)))` with biases (CLIP, SigLIP, InternViT, Qwen3-VL, RICE).
    #[default]
    Gelu,
    /// `down(SiLU(gate(x)) · up(x))` with biases (Qwen2.5-VL).
    Swiglu,
}

/// The encoder's normalisation.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum VisionNorm {
    #[default]
    Layernorm,
    /// Qwen2.5-VL.
    Rmsnorm,
}

/// Where the projector normalises: over the encoder width before the `merge × merge` tokens
/// are concatenated (Qwen `ln_q`, RICE), or over the concatenated width after it (InternVL
/// `mlp1[0]`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ProjectorNorm {
    #[default]
    None,
    Pre,
    Post,
}

/// How a resolution-aware tower turns pixels into patches (`[vision.resize]`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "rule", rename_all = "kebab-case")]
pub enum Resize {
    Smart(SmartResize),
    Tiles(Tiles),
    Anyres(Anyres),
}

/// Qwen2-VL-family `smart_resize` (qwen-vl-utils): sides rounded (half to even, as Python's
/// `round`) to multiples of `factor = patch_size · spatial_merge_size`, then scaled into
/// `[min_pixels, max_pixels]`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmartResize {
    /// The image assumed when no `--image-size` is given.
    pub default_size: Resolution,
    /// Image pixel bounds (the processor's `min_pixels` / `max_pixels`).
    pub min_pixels: u64,
    pub max_pixels: u64,
    /// Per-frame video bounds and the clip budget of qwen-vl-utils `fetch_video`: a frame of
    /// a clip of `F` frames may have at most `max(min(video_max_pixels, video_total_pixels /
    /// F · temporal_patch_size), ⌊video_min_pixels · 1.05⌋)` pixels. Absent: video frames use
    /// the image bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_min_pixels: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_max_pixels: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub video_total_pixels: Option<u64>,
    /// Frames sampled per second of video by default (`--video-seconds`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
    /// Bounds on the sampled frames when sampling by fps (`FPS_MIN_FRAMES`, `FPS_MAX_FRAMES`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_frames: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_frames: Option<u64>,
}

/// InternVL `dynamic_preprocess`: the image is cut into a `cols × rows` grid of
/// `image_size`-pixel tiles (`min_tiles ≤ cols·rows ≤ max_tiles`, aspect ratio closest to the
/// image's), plus a thumbnail tile when the grid has more than one tile.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Tiles {
    pub default_size: Resolution,
    #[serde(default = "super::one")]
    pub min_tiles: u64,
    pub max_tiles: u64,
    #[serde(default)]
    pub thumbnail: bool,
    /// Tiles per video frame (InternVL `load_video(max_num=1)`: one).
    #[serde(default = "super::one")]
    pub video_max_tiles: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fps: Option<f64>,
}

/// LLaVA-NeXT (LLaVA-1.6) `anyres` with `mm_patch_merge_type = "spatial_unpad"`: the image is
/// fitted into the `grid_pinpoints` resolution that keeps most of its pixels (then wastes the
/// fewest), cut into `image_size`-pixel crops, and each crop and the base image (resized to
/// one crop) go through the encoder. The LLM gets the base image's patches, then the crops'
/// patch grid with the padding rows or columns removed and, with `newline`, one token per row.
/// Images only: LLaVA-NeXT's video models pool frames instead (`llava-video-7b`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Anyres {
    pub default_size: Resolution,
    /// The candidate resolutions (`image_grid_pinpoints`), `WxH`, each a whole number of crops.
    pub grid_pinpoints: Vec<Resolution>,
    /// `image_newline`: one learned token appended to every row of the unpadded grid.
    #[serde(default)]
    pub newline: bool,
}

impl Anyres {
    /// Each candidate resolution as `(columns, rows)` of `side`-pixel crops.
    pub(crate) fn grids(&self, side: u64) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.grid_pinpoints
            .iter()
            .map(move |p| (p.width / side, p.height / side))
    }

    /// Encoder passes of the largest grid: its crops and the base image.
    pub(crate) fn most_passes(&self, side: u64) -> u64 {
        self.grids(side).map(|(c, r)| 1 + c * r).max().unwrap_or(1)
    }
}

impl Resize {
    pub(crate) fn default_size(&self) -> Resolution {
        match self {
            Resize::Smart(s) => s.default_size,
            Resize::Tiles(t) => t.default_size,
            Resize::Anyres(a) => a.default_size,
        }
    }

    pub(crate) fn fps(&self) -> Option<f64> {
        match self {
            Resize::Smart(s) => s.fps,
            Resize::Tiles(t) => t.fps,
            Resize::Anyres(_) => None,
        }
    }
}

/// The shape facts of a tower that the resize rules need.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PatchShape {
    /// Pixels per patch side.
    pub patch: u64,
    /// Frames per temporal patch (2 for Qwen2-VL..Qwen3-VL: two frames share one token set).
    pub temporal: u64,
    /// Patches per side merged into one LLM token (2: a 2×2 merger or pixel shuffle 0.5).
    pub merge: u64,
    /// Tile side in pixels (`tiles` rule).
    pub tile: Option<u64>,
}

/// An image (or several of one size) or a video, as the user gives it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Media {
    pub video: bool,
    pub size: Resolution,
    /// Images, or frames sampled from the video.
    pub frames: u64,
}

/// What one prompt's visual input becomes in a resolution-aware tower.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct VisionInput {
    pub video: bool,
    /// The size given (or the model's default).
    pub width: u64,
    pub height: u64,
    /// What one encoder pass sees: the resized frame (`smart`) or one tile (`tiles`).
    pub resized_width: u64,
    pub resized_height: u64,
    /// Frames the processor keeps (a video padded to whole temporal patches; images: their count).
    pub sampled_frames: u64,
    /// LLM frames: images, or temporal groups of `temporal_patch_size` video frames. Merging
    /// (AIM) works within one of these.
    pub frames: u64,
    /// Encoder passes (attention segments) per LLM frame: the tiles of an InternVL image, else 1.
    pub passes_per_frame: u64,
    /// Patch grid of one pass, before merging.
    pub grid_h: u64,
    pub grid_w: u64,
    /// Visual tokens one LLM frame yields after the merger.
    pub tokens_per_frame: u64,
    /// Shaped from a token count given per image (no image size given): `width × height` is
    /// the image those tokens come from, not one the user named.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub from_tokens: bool,
    /// Anyres: the crops' patch grid after unpadding, `[rows, columns]` (before newlines).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unpadded: Option<[u64; 2]>,
}

impl VisionInput {
    /// Patches one encoder pass processes (before any CLS token).
    pub(crate) fn patches_per_pass(&self) -> u64 {
        self.grid_h * self.grid_w
    }

    /// One line for the run's notes.
    pub fn describe(&self, merge: u64, temporal: u64) -> String {
        let what = if self.video {
            format!(
                "video of {} frame(s) at {}x{}",
                self.sampled_frames, self.width, self.height
            )
        } else if self.from_tokens {
            format!(
                "{} image(s) of {} tokens given, shaped as {}x{}",
                self.frames, self.tokens_per_frame, self.width, self.height
            )
        } else {
            format!("{} image(s) at {}x{}", self.frames, self.width, self.height)
        };
        if let Some([rows, cols]) = self.unpadded {
            let newline = if self.tokens_per_frame > self.patches_per_pass() + rows * cols {
                ", a newline token per row"
            } else {
                ""
            };
            return format!(
                "{what} → the base image and {} crops of {}x{} pixels ({} passes of {}x{} patches); the crops' grid unpadded to {rows}x{cols}{newline} → {} tokens per image",
                self.passes_per_frame - 1,
                self.resized_width,
                self.resized_height,
                self.passes_per_frame,
                self.grid_w,
                self.grid_h,
                self.tokens_per_frame
            );
        }
        let passes = if self.passes_per_frame > 1 {
            format!("{} tiles of ", self.passes_per_frame)
        } else {
            String::new()
        };
        let groups = if self.video && temporal > 1 {
            format!(
                ", {temporal} frames per temporal patch → {} groups",
                self.frames
            )
        } else {
            String::new()
        };
        let merged = (self.grid_h / merge) * (self.grid_w / merge);
        if self.from_tokens && self.passes_per_frame == 1 && self.tokens_per_frame < merged {
            return format!(
                "{what} → one pass of {}x{} pixels = {}x{} patches, pooled to {} tokens per image",
                self.resized_width,
                self.resized_height,
                self.grid_w,
                self.grid_h,
                self.tokens_per_frame
            );
        }
        format!(
            "{what} → {passes}{}x{} pixels = {}x{} patches, merged {merge}x{merge} → {} tokens per {}{groups}",
            self.resized_width,
            self.resized_height,
            self.grid_w,
            self.grid_h,
            self.tokens_per_frame,
            if self.video { "group" } else { "image" }
        )
    }
}

/// Python's `round` (half to even), as `round_by_factor` uses it.
fn round_half_even(x: f64) -> f64 {
    let r = x.round();
    if (x - x.trunc()).abs() == 0.5 {
        2.0 * (x / 2.0).round()
    } else {
        r
    }
}

/// qwen-vl-utils `smart_resize(height, width, factor, min_pixels, max_pixels)` → (h, w).
pub fn smart_resize(
    height: u64,
    width: u64,
    factor: u64,
    min_pixels: f64,
    max_pixels: f64,
) -> (u64, u64) {
    let (h, w, f) = (height as f64, width as f64, factor as f64);
    let round_by = |v: f64| round_half_even(v / f) * f;
    let floor_by = |v: f64| (v / f).floor() * f;
    let ceil_by = |v: f64| (v / f).ceil() * f;
    let mut h_bar = f.max(round_by(h));
    let mut w_bar = f.max(round_by(w));
    if h_bar * w_bar > max_pixels {
        let beta = (h * w / max_pixels).sqrt();
        // transformers' `smart_resize` keeps at least one factor per side.
        h_bar = f.max(floor_by(h / beta));
        w_bar = f.max(floor_by(w / beta));
    } else if h_bar * w_bar < min_pixels {
        let beta = (min_pixels / (h * w)).sqrt();
        h_bar = ceil_by(h * beta);
        w_bar = ceil_by(w * beta);
    }
    (h_bar as u64, w_bar as u64)
}

/// InternVL `find_closest_aspect_ratio` over the grids `min ≤ cols·rows ≤ max`, sorted by tile
/// count (ties within a count by (cols, rows)); returns (cols, rows).
pub(crate) fn closest_tile_grid(size: Resolution, tile: u64, min: u64, max: u64) -> (u64, u64) {
    let mut ratios: Vec<(u64, u64)> = (1..=max)
        .flat_map(|i| (1..=max).map(move |j| (i, j)))
        .filter(|(i, j)| (min..=max).contains(&(i * j)))
        .collect();
    ratios.sort_by_key(|&(i, j)| (i * j, i, j));
    let aspect = size.width as f64 / size.height as f64;
    let area = (size.width * size.height) as f64;
    let (mut best_diff, mut best) = (f64::INFINITY, (1, 1));
    for (i, j) in ratios {
        let diff = (aspect - i as f64 / j as f64).abs();
        if diff < best_diff {
            (best_diff, best) = (diff, (i, j));
        } else if diff == best_diff && area > 0.5 * (tile * tile * i * j) as f64 {
            best = (i, j);
        }
    }
    best
}

/// Frames sampled from `seconds` of video at `fps` (qwen-vl-utils `smart_nframes` with `fps`):
/// `seconds · fps` clamped to `[min_frames, max_frames]` (each rounded to whole temporal
/// patches), then floored to a whole number of temporal patches. The source video is assumed
/// to have at least that many frames (the cap by its native frame count is not modelled).
pub(crate) fn sampled_frames(
    resize: &Resize,
    shape: PatchShape,
    seconds: f64,
    fps: Option<f64>,
) -> Result<u64, String> {
    let fps = fps.or(resize.fps()).ok_or_else(|| {
        format!("{VIDEO_SECONDS}: the model's [vision.resize] has no default fps: give {FPS} (frames per second sampled)")
    })?;
    let t = shape.temporal as f64;
    let (min, max) = match resize {
        Resize::Smart(s) => (s.min_frames, s.max_frames),
        Resize::Tiles(_) | Resize::Anyres(_) => (None, None),
    };
    let min = (min.unwrap_or(1) as f64 / t).ceil() * t;
    let max = max.map_or(f64::INFINITY, |m| (m as f64 / t).floor() * t);
    let n = (seconds * fps).max(min).min(max);
    let n = ((n / t).floor() * t).max(t);
    if !n.is_finite() || n > 1e7 {
        return Err(format!(
            "{VIDEO_SECONDS} {seconds} at {fps} fps samples too many frames: shorten the clip"
        ));
    }
    Ok(n as u64)
}

/// Patches and tokens of `media` under `resize` for a tower of `shape`.
pub(crate) fn vision_input(
    resize: &Resize,
    shape: PatchShape,
    media: Media,
) -> Result<VisionInput, String> {
    let Media {
        video,
        size,
        frames,
    } = media;
    let merge = shape.merge;
    match resize {
        Resize::Smart(s) => {
            let factor = shape.patch * merge;
            let t = shape.temporal;
            // A video is padded to whole temporal patches (the last frame repeated).
            let sampled = if video {
                frames.div_ceil(t) * t
            } else {
                frames
            };
            let (min, max) = if video {
                let min = s.video_min_pixels.unwrap_or(s.min_pixels) as f64;
                let max = match (s.video_max_pixels, s.video_total_pixels) {
                    (Some(vmax), total) => {
                        let budget = total.map_or(f64::INFINITY, |p| {
                            p as f64 / sampled.max(1) as f64 * t as f64
                        });
                        (vmax as f64).min(budget).max((min * 1.05).floor())
                    }
                    (None, _) => s.max_pixels as f64,
                };
                (min, max)
            } else {
                (s.min_pixels as f64, s.max_pixels as f64)
            };
            let (h, w) = smart_resize(size.height, size.width, factor, min, max);
            let (grid_h, grid_w) = (h / shape.patch, w / shape.patch);
            Ok(VisionInput {
                video,
                width: size.width,
                height: size.height,
                resized_width: w,
                resized_height: h,
                sampled_frames: sampled,
                frames: if video { sampled / t } else { frames },
                passes_per_frame: 1,
                grid_h,
                grid_w,
                tokens_per_frame: (grid_h / merge) * (grid_w / merge),
                from_tokens: false,
                unpadded: None,
            })
        }
        Resize::Tiles(tiles) => {
            let side = shape
                .tile
                .ok_or("the tiles rule needs vision.image_size (the tile side)")?;
            let max = if video {
                tiles.video_max_tiles
            } else {
                tiles.max_tiles
            };
            let min = tiles.min_tiles.min(max);
            let (cols, rows) = closest_tile_grid(size, side, min, max);
            let blocks = cols * rows;
            let passes = blocks + u64::from(tiles.thumbnail && blocks != 1);
            let grid = side / shape.patch;
            let tokens = passes * (grid / merge) * (grid / merge);
            Ok(square_passes(media, side, grid, passes, tokens, None))
        }
        Resize::Anyres(any) => {
            if video {
                return Err(anyres_video());
            }
            let side = shape
                .tile
                .ok_or("the anyres rule needs vision.image_size (the crop side)")?;
            let (width, height) = best_resolution(size, &any.grid_pinpoints);
            let (cols, rows) = (width / side, height / side);
            let grid = side / shape.patch;
            let (unpadded_h, unpadded_w) = unpad(size, rows * grid, cols * grid);
            let tokens = grid * grid + unpadded_h * (unpadded_w + u64::from(any.newline));
            let unpadded = Some([unpadded_h, unpadded_w]);
            Ok(square_passes(
                media,
                side,
                grid,
                1 + cols * rows,
                tokens,
                unpadded,
            ))
        }
    }
}

/// `media` as `passes` square encoder passes of `side` pixels (`grid × grid` patches each):
/// InternVL's tiles, LLaVA-NeXT's base image and crops.
fn square_passes(
    media: Media,
    side: u64,
    grid: u64,
    passes: u64,
    tokens_per_frame: u64,
    unpadded: Option<[u64; 2]>,
) -> VisionInput {
    VisionInput {
        video: media.video,
        width: media.size.width,
        height: media.size.height,
        resized_width: side,
        resized_height: side,
        sampled_frames: media.frames,
        frames: media.frames,
        passes_per_frame: passes,
        grid_h: grid,
        grid_w: grid,
        tokens_per_frame,
        from_tokens: false,
        unpadded,
    }
}

/// Why an anyres tower refuses a video, and the way out.
fn anyres_video() -> String {
    format!("the anyres rule (LLaVA-NeXT) takes images only: price a video with a video model (llava-video-7b, llava-ov-7b) or give {FRAMES} and {TOKENS_PER_FRAME}")
}

/// LLaVA `select_best_resolution`: of the candidate `(width, height)`s, the one whose
/// aspect-preserving downscale of the image keeps the most pixels (capped at the image's own),
/// ties broken by the fewest wasted pixels.
pub(crate) fn best_resolution(size: Resolution, candidates: &[Resolution]) -> (u64, u64) {
    let (ow, oh) = (size.width as f64, size.height as f64);
    let mut best = (0, 0);
    let (mut most, mut least_waste) = (0u64, u64::MAX);
    for c in candidates {
        let scale = (c.width as f64 / ow).min(c.height as f64 / oh);
        let kept = ((ow * scale) as u64) * ((oh * scale) as u64);
        let effective = kept.min(size.width * size.height);
        let waste = c.width * c.height - effective;
        if effective > most || (effective == most && waste < least_waste) {
            (most, least_waste, best) = (effective, waste, (c.width, c.height));
        }
    }
    best
}

/// LLaVA `unpad_image`: the `height × width` feature grid of the crops with the rows (or
/// columns) that only hold the resize's padding removed, as `(rows, cols)` (Python's `int`
/// truncation and `//` as the code has them).
pub(crate) fn unpad(size: Resolution, height: u64, width: u64) -> (u64, u64) {
    let (ow, oh) = (size.width as f64, size.height as f64);
    if ow / oh > width as f64 / height as f64 {
        let new_h = (oh * (width as f64 / ow)) as u64;
        let pad = height.saturating_sub(new_h) / 2;
        (height - 2 * pad, width)
    } else {
        let new_w = (ow * (height as f64 / oh)) as u64;
        let pad = width.saturating_sub(new_w) / 2;
        (height, width - 2 * pad)
    }
}

/// The input of `frames` images that yield `tokens_per_frame` tokens each, for a run that
/// gives its tokens per image instead of an image size (`tokens_per_frame`, `--tokens`): the
/// encoder must see the patches those tokens come from, not the model's default image.
/// `smart`: a near-square grid of exactly that many merged tokens (the largest divisor not
/// above the square root, times its cofactor); `tiles`: the whole tiles that hold them.
pub(crate) fn input_for_tokens(
    resize: &Resize,
    shape: PatchShape,
    tokens_per_frame: u64,
    frames: u64,
) -> Result<VisionInput, String> {
    if tokens_per_frame == 0 {
        return Err("0 tokens per image".into());
    }
    match resize {
        Resize::Smart(_) => {
            let rows = (1..=tokens_per_frame.isqrt())
                .rev()
                .find(|d| tokens_per_frame.is_multiple_of(*d))
                .unwrap_or(1);
            let cols = tokens_per_frame / rows;
            let (grid_h, grid_w) = (rows * shape.merge, cols * shape.merge);
            let (h, w) = (grid_h * shape.patch, grid_w * shape.patch);
            Ok(VisionInput {
                video: false,
                width: w,
                height: h,
                resized_width: w,
                resized_height: h,
                sampled_frames: frames,
                frames,
                passes_per_frame: 1,
                grid_h,
                grid_w,
                tokens_per_frame,
                from_tokens: true,
                unpadded: None,
            })
        }
        Resize::Tiles(_) | Resize::Anyres(_) => {
            let side = shape
                .tile
                .ok_or("the tiles and anyres rules need vision.image_size (the tile side)")?;
            let grid = side / shape.patch;
            // Whole tiles: a count that is not a multiple of a tile's tokens is taken as that
            // many tokens of the next whole number of tiles. Anyres: the fewest crops (and the
            // base image) whose unpadded grid can hold that many (2880 = the 2x2 grid's 5 passes);
            // fewer tokens than one pass yields are no anyres image but a frame of LLaVA-NeXT's
            // video path, one pass pooled (`encode_images`, then `get_2dPool`: 576 → 144).
            let per_tile = (grid / shape.merge).pow(2);
            let passes = match resize {
                Resize::Anyres(_) if tokens_per_frame < per_tile => Some(1),
                Resize::Anyres(any) => any
                    .grids(side)
                    .filter(|(c, r)| {
                        let newline = u64::from(any.newline);
                        per_tile + r * grid * (c * grid + newline) >= tokens_per_frame
                    })
                    .map(|(c, r)| 1 + c * r)
                    .min(),
                _ => None,
            }
            .unwrap_or(tokens_per_frame.div_ceil(per_tile));
            Ok(VisionInput {
                video: false,
                width: side,
                height: side,
                resized_width: side,
                resized_height: side,
                sampled_frames: frames,
                frames,
                passes_per_frame: passes,
                grid_h: grid,
                grid_w: grid,
                tokens_per_frame,
                from_tokens: true,
                unpadded: None,
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run giving its tokens per image prices the encoder on the patches of those tokens
    /// (PACE's Qwen2.5-VL rows: 2048 tokens an image were priced as the 448x448 default's 256).
    #[test]
    fn tokens_per_image_set_the_patches_the_encoder_sees() {
        let (resize, shape) = qwen(14);
        let v = input_for_tokens(&resize, shape, 2048, 3).unwrap();
        assert_eq!((v.grid_h, v.grid_w), (64, 128));
        assert_eq!(v.patches_per_pass(), 2048 * 4);
        assert_eq!(
            (v.frames, v.tokens_per_frame, v.passes_per_frame),
            (3, 2048, 1)
        );
        // A prime count still gives exactly its tokens.
        let p = input_for_tokens(&resize, shape, 577, 1).unwrap();
        assert_eq!((p.grid_h / 2) * (p.grid_w / 2), 577);
        assert!(input_for_tokens(&resize, shape, 0, 1).is_err());
    }

    fn qwen(patch: u64) -> (Resize, PatchShape) {
        let f = patch * 2;
        (
            Resize::Smart(SmartResize {
                default_size: "448x448".parse().unwrap(),
                min_pixels: 4 * f * f,
                max_pixels: 16384 * f * f,
                video_min_pixels: Some(128 * f * f),
                video_max_pixels: Some(768 * f * f),
                video_total_pixels: Some((128000.0 * (f * f) as f64 * 0.9) as u64),
                fps: Some(2.0),
                min_frames: Some(4),
                max_frames: Some(768),
            }),
            PatchShape {
                patch,
                temporal: 2,
                merge: 2,
                tile: None,
            },
        )
    }

    fn tokens(r: &Resize, s: PatchShape, video: bool, size: &str, frames: u64) -> VisionInput {
        vision_input(
            r,
            s,
            Media {
                video,
                size: size.parse().unwrap(),
                frames,
            },
        )
        .unwrap()
    }

    /// /work/scratch/models/token_calc.py (qwen-vl-utils transcribed): image and 32-frame
    /// video tokens for Qwen2.5-VL (patch 14) and Qwen3-VL (patch 16).
    #[test]
    fn qwen_smart_resize_matches_the_processor() {
        let (r, s) = qwen(14);
        for (size, want, resized) in [
            ("448x448", 256, (448, 448)),
            ("640x480", 391, (644, 476)),
            ("1280x720", 1196, (1288, 728)),
            ("1920x1080", 2691, (1932, 1092)),
        ] {
            let v = tokens(&r, s, false, size, 1);
            assert_eq!(v.tokens_per_frame, want, "{size}");
            assert_eq!((v.resized_width, v.resized_height), resized, "{size}");
            assert_eq!(v.patches_per_pass(), 4 * want);
        }
        // 32 frames of 1280x720: 16 groups of 1008x560 = 720 tokens.
        let v = tokens(&r, s, true, "1280x720", 32);
        assert_eq!((v.frames, v.tokens_per_frame), (16, 720));
        assert_eq!((v.resized_width, v.resized_height), (1008, 560));
        // An odd frame count is padded to whole temporal patches.
        let v = tokens(&r, s, true, "448x448", 31);
        assert_eq!(
            (v.sampled_frames, v.frames, v.tokens_per_frame),
            (32, 16, 256)
        );
        let (r, s) = qwen(16);
        for (size, want) in [
            ("448x448", 196),
            ("640x480", 300),
            ("1280x720", 880),
            ("1920x1080", 2040),
        ] {
            assert_eq!(
                tokens(&r, s, false, size, 1).tokens_per_frame,
                want,
                "{size}"
            );
        }
        let v = tokens(&r, s, true, "1920x1080", 32);
        assert_eq!((v.frames, v.tokens_per_frame), (16, 720));
        assert_eq!((v.resized_width, v.resized_height), (1152, 640));
    }

    #[test]
    fn python_rounding_is_half_to_even() {
        assert_eq!(round_half_even(2.5), 2.0);
        assert_eq!(round_half_even(3.5), 4.0);
        assert_eq!(round_half_even(-0.5), -0.0);
        assert_eq!(round_half_even(2.4), 2.0);
        // 70 px = 2.5 factors of 28 → 56 (Python: round(2.5) = 2).
        assert_eq!(smart_resize(70, 70, 28, 0.0, 1e12), (56, 56));
    }

    /// InternVL README `dynamic_preprocess` (token_calc.py): 448² → 1 tile; 640x480 → 4x3 +
    /// thumbnail; 1280x720 and 1920x1080 → 4x2 + thumbnail; video frames one tile each.
    #[test]
    fn internvl_tiles_match_dynamic_preprocess() {
        let r = Resize::Tiles(Tiles {
            default_size: "448x448".parse().unwrap(),
            min_tiles: 1,
            max_tiles: 12,
            thumbnail: true,
            video_max_tiles: 1,
            fps: None,
        });
        let s = PatchShape {
            patch: 14,
            temporal: 1,
            merge: 2,
            tile: Some(448),
        };
        for (size, passes) in [
            ("448x448", 1),
            ("640x480", 13),
            ("1280x720", 9),
            ("1920x1080", 9),
        ] {
            let v = tokens(&r, s, false, size, 1);
            assert_eq!(v.passes_per_frame, passes, "{size}");
            assert_eq!(v.tokens_per_frame, 256 * passes, "{size}");
            assert_eq!((v.grid_h, v.grid_w), (32, 32));
        }
        let v = tokens(&r, s, true, "1920x1080", 32);
        assert_eq!(
            (v.frames, v.passes_per_frame, v.tokens_per_frame),
            (32, 1, 256)
        );
    }

    #[test]
    fn frames_from_seconds_follow_smart_nframes() {
        let (r, s) = qwen(14);
        let n = |secs: f64, fps: Option<f64>| sampled_frames(&r, s, secs, fps).unwrap();
        assert_eq!(n(16.0, None), 32);
        assert_eq!(n(1.0, None), 4); // at least FPS_MIN_FRAMES
        assert_eq!(n(10_000.0, None), 768); // at most FPS_MAX_FRAMES
        assert_eq!(n(10.0, Some(0.55)), 4);
        assert_eq!(n(30.0, Some(0.5)), 14); // 15 floored to whole temporal patches
    }

    fn anyres() -> (Resize, PatchShape) {
        let pins = ["336x672", "672x336", "672x672", "1008x336", "336x1008"];
        (
            Resize::Anyres(Anyres {
                default_size: "640x480".parse().unwrap(),
                grid_pinpoints: pins.iter().map(|p| p.parse().unwrap()).collect(),
                newline: true,
            }),
            PatchShape {
                patch: 14,
                temporal: 1,
                merge: 1,
                tile: Some(336),
            },
        )
    }

    /// LLaVA-NeXT-7B's tokens per image, from a Python transcription of LLaVA's
    /// `select_best_resolution` and `unpad_image` (llava/mm_utils.py, llava/model/llava_arch.py)
    /// with llava-v1.6-vicuna-7b's grid pinpoints: COCO's sizes give 2144–2352, not the 2880
    /// the papers name; a square image 2928 (every row keeps its newline).
    #[test]
    fn llava_next_anyres_matches_the_llava_code() {
        let (r, s) = anyres();
        for (size, grid, passes, want) in [
            ("640x480", (672, 672), 5, 2340),
            ("640x427", (672, 672), 5, 2144),
            ("480x640", (672, 672), 5, 2352),
            ("427x640", (672, 672), 5, 2160),
            ("500x375", (672, 672), 5, 2340),
            ("672x672", (672, 672), 5, 2928),
            ("1920x1080", (672, 672), 5, 1948),
            ("1000x300", (1008, 336), 4, 2182),
            ("300x1000", (336, 1008), 4, 2232),
            ("336x336", (336, 672), 3, 1176),
        ] {
            let Resize::Anyres(a) = &r else {
                unreachable!()
            };
            assert_eq!(
                best_resolution(size.parse().unwrap(), &a.grid_pinpoints),
                grid,
                "{size}"
            );
            let v = tokens(&r, s, false, size, 1);
            assert_eq!(
                (v.passes_per_frame, v.tokens_per_frame),
                (passes, want),
                "{size}"
            );
            assert_eq!(v.patches_per_pass(), 576);
        }
        // Images only: a video is refused with the way out.
        let video = vision_input(
            &r,
            s,
            Media {
                video: true,
                size: "640x480".parse().unwrap(),
                frames: 8,
            },
        );
        assert!(video.unwrap_err().contains("images only"));
        // A count given per image: the fewest crops whose unpadded grid can hold it (2340 fits
        // the 1x3 grid's 2376, though a 640x480 image takes the 2x2 one: give the image size).
        for (given, passes) in [
            (2880, 5),
            (2377, 5),
            (2340, 4),
            (2328, 4),
            (1752, 3),
            (576, 3),
        ] {
            let v = input_for_tokens(&r, s, given, 1).unwrap();
            assert_eq!(
                (v.passes_per_frame, v.tokens_per_frame),
                (passes, given),
                "{given}"
            );
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(256))]

        /// Sizes print and parse back.
        #[test]
        fn sizes_round_trip(w in 1u64..5000, h in 1u64..5000) {
            let ratio = w.max(h) as f64 / w.min(h) as f64;
            let parsed = format!("{w}x{h}").parse::<Resolution>();
            if ratio <= MAX_ASPECT_RATIO {
                proptest::prop_assert_eq!(parsed.unwrap(), Resolution { width: w, height: h });
            } else {
                proptest::prop_assert!(parsed.is_err());
            }
        }

        /// Anyres: one candidate grid, the base image plus its crops, the unpadded grid inside
        /// the crops' grid with one side whole, and a newline per kept row.
        #[test]
        fn anyres_unpads_inside_the_chosen_grid(w in 1u64..4000, h in 1u64..4000) {
            proptest::prop_assume!(w.max(h) as f64 / w.min(h) as f64 <= MAX_ASPECT_RATIO);
            let (r, s) = anyres();
            let v = tokens(&r, s, false, &format!("{w}x{h}"), 1);
            let [rows, cols] = v.unpadded.unwrap();
            let Resize::Anyres(a) = &r else { unreachable!() };
            let (gw, gh) = best_resolution(Resolution { width: w, height: h }, &a.grid_pinpoints);
            let chosen = Resolution { width: gw, height: gh };
            proptest::prop_assert!(a.grid_pinpoints.contains(&chosen));
            let (full_rows, full_cols) = (gh / 336 * 24, gw / 336 * 24);
            proptest::prop_assert_eq!(v.passes_per_frame, 1 + (gw / 336) * (gh / 336));
            proptest::prop_assert!(rows <= full_rows && cols <= full_cols);
            proptest::prop_assert!(rows == full_rows || cols == full_cols, "{}x{}", rows, cols);
            proptest::prop_assert_eq!(v.tokens_per_frame, 576 + rows * (cols + 1));
        }

        /// `smart_resize` gives whole factors inside the pixel bounds, keeps a size that
        /// already fits, and the tokens are the merged grid.
        #[test]
        fn smart_resize_lands_on_the_grid(w in 16u64..8000, h in 16u64..8000, patch in prop_oneof![Just(14u64), Just(16)]) {
            proptest::prop_assume!(w.max(h) as f64 / w.min(h) as f64 <= MAX_ASPECT_RATIO);
            let (r, s) = qwen(patch);
            let f = 2 * patch;
            let Resize::Smart(rule) = &r else { unreachable!() };
            let (hh, ww) = smart_resize(h, w, f, rule.min_pixels as f64, rule.max_pixels as f64);
            proptest::prop_assert!(hh % f == 0 && ww % f == 0 && hh >= f && ww >= f);
            proptest::prop_assert!(hh * ww <= rule.max_pixels, "{hh}x{ww}");
            proptest::prop_assert!(hh * ww >= rule.min_pixels, "{hh}x{ww}");
            if h % f == 0 && w % f == 0 && h * w <= rule.max_pixels && h * w >= rule.min_pixels {
                proptest::prop_assert_eq!((hh, ww), (h, w));
            }
            let size = Resolution { width: w, height: h };
            let v = vision_input(&r, s, Media { video: false, size, frames: 1 }).unwrap();
            proptest::prop_assert_eq!(v.tokens_per_frame, (hh / f) * (ww / f));
            proptest::prop_assert_eq!(v.patches_per_pass(), 4 * v.tokens_per_frame);
        }

        /// A video of F frames is ⌈F/2⌉ groups, each within the per-frame video bounds.
        #[test]
        fn video_frames_group_by_the_temporal_patch(frames in 1u64..800, w in 64u64..4000, h in 64u64..4000) {
            proptest::prop_assume!(w.max(h) as f64 / w.min(h) as f64 <= MAX_ASPECT_RATIO);
            let (r, s) = qwen(14);
            let size = Resolution { width: w, height: h };
            let v = vision_input(&r, s, Media { video: true, size, frames }).unwrap();
            proptest::prop_assert_eq!(v.frames, frames.div_ceil(2));
            proptest::prop_assert_eq!(v.sampled_frames, 2 * v.frames);
            proptest::prop_assert!(v.tokens_per_frame >= 128 && v.tokens_per_frame <= 768, "{}", v.tokens_per_frame);
        }
    }

    use proptest::prelude::{prop_oneof, Just};

    #[test]
    fn sizes_parse_and_refuse_nonsense() {
        let r: Resolution = "1280x720".parse().unwrap();
        assert_eq!((r.width, r.height), (1280, 720));
        assert_eq!(r.to_string(), "1280x720");
        for bad in ["1280", "0x10", "axb", "100000x10", "10000x10"] {
            assert!(bad.parse::<Resolution>().is_err(), "{bad}");
        }
    }
}
