//! One colour, marker and line style per method / schedule, the same in every chart (curves,
//! layers, pareto) and in anything else that draws them (an HTML report), so `linear` is the
//! same vermillion everywhere. Plain data: no plotting crate, only RGB triples and shape names.
//!
//! Colours are the Okabe–Ito palette (Okabe & Ito, "Color Universal Design", 2008; Wong,
//! Nature Methods 8:441, 2011), which stays distinguishable under the common colour-vision
//! deficiencies, plus a neutral grey for models that are not a reduction method. Families
//! share a colour and differ by marker and dash: vermillion = AIM and its variants, orange =
//! reduction before the LLM, blues = pruning inside the LLM, purple = PruMerge / SparseVLM.

use crate::cost::OpKind;
use serde::Serialize;

/// An sRGB colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Rgb(pub u8, pub u8, pub u8);

impl Rgb {
    /// `#rrggbb`, for SVG, CSS and HTML.
    pub fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }
}

/// The Okabe–Ito colours, by their published names.
pub mod okabe_ito {
    use super::Rgb;
    pub(crate) const BLACK: Rgb = Rgb(0, 0, 0);
    pub(crate) const ORANGE: Rgb = Rgb(230, 159, 0);
    pub(crate) const SKY_BLUE: Rgb = Rgb(86, 180, 233);
    pub(crate) const BLUISH_GREEN: Rgb = Rgb(0, 158, 115);
    pub const YELLOW: Rgb = Rgb(240, 228, 66);
    pub(crate) const BLUE: Rgb = Rgb(0, 114, 178);
    pub(crate) const VERMILLION: Rgb = Rgb(213, 94, 0);
    pub(crate) const REDDISH_PURPLE: Rgb = Rgb(204, 121, 167);
}

use okabe_ito::*;

/// Neutral grey: other models (not a reduction method), the baseline's faded bars.
pub(crate) const GREY: Rgb = Rgb(119, 119, 119);

/// The shape a point of a method is drawn with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Marker {
    Circle,
    Square,
    Diamond,
    TriangleUp,
    TriangleDown,
    /// An ×.
    Cross,
    /// A +.
    Plus,
}

/// How a method's line is stroked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Dash {
    Solid,
    Dashed,
    Dotted,
}

/// How one method or schedule is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct Style {
    pub color: Rgb,
    pub marker: Marker,
    pub dash: Dash,
}

const fn st(color: Rgb, marker: Marker, dash: Dash) -> Style {
    Style {
        color,
        marker,
        dash,
    }
}

/// Every known method and schedule: the names it goes by (schedule presets, methods as the
/// papers print them, lower case) and its style. Tests check that no two entries share a style.
pub const KNOWN: &[(&[&str], Style)] = &[
    (
        &["none", "baseline", "no reduction"],
        st(BLACK, Marker::Square, Dash::Solid),
    ),
    (
        &["linear", "aim", "aim (ours)"],
        st(VERMILLION, Marker::Circle, Dash::Solid),
    ),
    (
        &["aim-image"],
        st(VERMILLION, Marker::Diamond, Dash::Dashed),
    ),
    (
        &["aim-aggressive"],
        st(VERMILLION, Marker::TriangleUp, Dash::Dashed),
    ),
    (
        &["aim-late"],
        st(VERMILLION, Marker::TriangleDown, Dash::Dotted),
    ),
    (
        &["aim-prune-only"],
        st(VERMILLION, Marker::Square, Dash::Dotted),
    ),
    (
        &["merge-only", "aim merge-only", "token merging"],
        st(ORANGE, Marker::Circle, Dash::Solid),
    ),
    (&["fastvid"], st(ORANGE, Marker::TriangleUp, Dash::Dashed)),
    (
        &["visionzip-64", "visionzip"],
        st(ORANGE, Marker::Square, Dash::Dotted),
    ),
    (&["fastv"], st(BLUE, Marker::TriangleUp, Dash::Solid)),
    (
        &["pdrop", "pyramiddrop"],
        st(SKY_BLUE, Marker::Diamond, Dash::Solid),
    ),
    (&["vtw"], st(BLUISH_GREEN, Marker::Square, Dash::Solid)),
    (
        &["llava-prumerge", "prumerge"],
        st(REDDISH_PURPLE, Marker::Circle, Dash::Solid),
    ),
    (
        &["llava-prumerge+", "prumerge+"],
        st(REDDISH_PURPLE, Marker::Diamond, Dash::Dashed),
    ),
    (
        &["sparsevlm-192", "sparsevlm"],
        st(REDDISH_PURPLE, Marker::TriangleDown, Dash::Solid),
    ),
    (
        &["longva-7b", "longva"],
        st(GREY, Marker::Cross, Dash::Solid),
    ),
    (
        &["qwen-vl-chat-7b", "qwen-vl-chat"],
        st(GREY, Marker::Plus, Dash::Solid),
    ),
];

/// Colours an unknown name can get (yellow left out: too pale for a line on white).
const FALLBACK_COLORS: [Rgb; 7] = [
    BLUE,
    ORANGE,
    BLUISH_GREEN,
    VERMILLION,
    REDDISH_PURPLE,
    SKY_BLUE,
    BLACK,
];
const FALLBACK_MARKERS: [Marker; 5] = [
    Marker::Circle,
    Marker::Square,
    Marker::Diamond,
    Marker::TriangleUp,
    Marker::TriangleDown,
];

/// FNV-1a, 64 bit: a hash that never changes between runs, builds or platforms.
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The style of a method or schedule, by name (case and surrounding space ignored). An unknown
/// name (a user's own schedule file) gets a style derived from a fixed hash of the name — the
/// same in every chart and every run — drawn dashed, so it never looks like a known method.
pub fn style(name: &str) -> Style {
    let key = name.trim().to_lowercase();
    if let Some((_, s)) = KNOWN
        .iter()
        .find(|(names, _)| names.contains(&key.as_str()))
    {
        return *s;
    }
    let h = fnv1a(&key);
    st(
        FALLBACK_COLORS[(h % FALLBACK_COLORS.len() as u64) as usize],
        FALLBACK_MARKERS[((h >> 16) % FALLBACK_MARKERS.len() as u64) as usize],
        Dash::Dashed,
    )
}

/// Whether `name` is one of the [`KNOWN`] methods or schedules.
pub fn is_known(name: &str) -> bool {
    let key = name.trim().to_lowercase();
    KNOWN.iter().any(|(names, _)| names.contains(&key.as_str()))
}

/// The colour of an operator kind in stacked bars and rooflines.
pub fn op_kind(kind: OpKind) -> Rgb {
    match kind {
        OpKind::Linear => BLUE,
        OpKind::Attention => ORANGE,
        OpKind::Norm => BLUISH_GREEN,
        OpKind::Elementwise => REDDISH_PURPLE,
        OpKind::LmHead => GREY,
        OpKind::Merge => SKY_BLUE,
        // Importance, top-k and gather: the overhead the paper's accounting leaves out.
        OpKind::Prune => VERMILLION,
        OpKind::Vision => YELLOW,
        OpKind::Communication => BLACK,
        // A framework profile's host overhead per forward.
        OpKind::Host => GREY,
    }
}

/// Every operator kind, in legend order (charts list the kinds a run has in this order).
pub const OP_KINDS: [OpKind; 10] = [
    OpKind::Linear,
    OpKind::Attention,
    OpKind::Norm,
    OpKind::Elementwise,
    OpKind::LmHead,
    OpKind::Merge,
    OpKind::Prune,
    OpKind::Vision,
    OpKind::Communication,
    OpKind::Host,
];

/// The legend label of an operator kind.
pub fn op_kind_label(kind: OpKind) -> &'static str {
    match kind {
        OpKind::Linear => "linear (GEMM)",
        OpKind::Attention => "attention",
        OpKind::Norm => "norm",
        OpKind::Elementwise => "element-wise",
        OpKind::LmHead => "LM head",
        OpKind::Merge => "merge",
        OpKind::Prune => "prune",
        OpKind::Vision => "vision",
        OpKind::Communication => "communication",
        OpKind::Host => "host overhead",
    }
}

/// Each line's style when several lines are drawn: its schedule's [`style`], so a schedule has
/// the same colour in every chart. A schedule drawn more than once (several models or GPUs)
/// keeps its colour and changes dash (and after three, marker) with each repeat.
pub fn line_styles(schedules: &[&str]) -> Vec<Style> {
    const DASHES: [Dash; 3] = [Dash::Solid, Dash::Dashed, Dash::Dotted];
    let mut out: Vec<Style> = Vec::new();
    for (i, name) in schedules.iter().enumerate() {
        let base = style(name);
        let repeat = schedules[..i].iter().filter(|n| style(n) == base).count();
        let mut s = base;
        if repeat > 0 {
            let d = DASHES.iter().position(|d| *d == base.dash).unwrap_or(0);
            s.dash = DASHES[(d + repeat) % DASHES.len()];
            if repeat >= DASHES.len() {
                let m = FALLBACK_MARKERS
                    .iter()
                    .position(|m| *m == base.marker)
                    .unwrap_or(0);
                s.marker = FALLBACK_MARKERS[(m + repeat / DASHES.len()) % FALLBACK_MARKERS.len()];
            }
        }
        out.push(s);
    }
    out
}

/// How a framework profile's points are drawn (the measurement check's chart).
pub fn framework(name: &str) -> Style {
    match name {
        "trtllm" => st(BLUE, Marker::Circle, Dash::Solid),
        "hf" => st(ORANGE, Marker::Square, Dash::Solid),
        "hf-eager" => st(REDDISH_PURPLE, Marker::Diamond, Dash::Solid),
        "roofline" => st(BLACK, Marker::Cross, Dash::Solid),
        other => style(other),
    }
}

/// Measured, predicted and calibrated time in the measurement chart.
pub const MEASURED: Rgb = BLUE;
pub const PREDICTED: Rgb = ORANGE;
pub const CALIBRATED: Rgb = BLUISH_GREEN;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_names_keep_their_styles() {
        // The mapping is a contract with every chart and the HTML report: changing it is a
        // deliberate act, so it is spelled out here.
        assert_eq!(style("linear"), st(VERMILLION, Marker::Circle, Dash::Solid));
        assert_eq!(style("AIM"), style("linear"));
        assert_eq!(style("  Linear "), style("linear"));
        assert_eq!(style("none"), st(BLACK, Marker::Square, Dash::Solid));
        assert_eq!(style("FastV").color, BLUE);
        assert_eq!(style("merge-only").color, ORANGE);
        assert_eq!(style("linear").color.hex(), "#d55e00");
    }

    #[test]
    fn no_two_known_entries_look_alike() {
        for (i, (a, sa)) in KNOWN.iter().enumerate() {
            for (b, sb) in &KNOWN[i + 1..] {
                assert_ne!(sa, sb, "{a:?} and {b:?} share a style");
                assert!(a.iter().all(|n| !b.contains(n)), "{a:?} / {b:?}");
            }
        }
    }

    #[test]
    fn every_schedule_preset_is_known() {
        for (name, _) in crate::presets::SCHEDULES {
            assert!(
                is_known(name),
                "schedule preset {name} has no palette entry"
            );
        }
    }

    #[test]
    fn unknown_names_get_a_fixed_dashed_style() {
        let a = style("my-schedule.toml");
        assert_eq!(a, style("my-schedule.toml"));
        assert_eq!(a.dash, Dash::Dashed);
        assert_eq!(fnv1a("a"), 0xaf63_dc4c_8601_ec8c, "FNV-1a test vector");
        // Different names spread over the palette.
        let colors: std::collections::BTreeSet<String> = (0..40)
            .map(|i| style(&format!("s{i}")).color.hex())
            .collect();
        assert!(colors.len() >= 5, "{colors:?}");
    }
}
