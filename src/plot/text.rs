//! PNG text with correct letter spacing.
//!
//! plotters 0.3.7's `ab_glyph` font backend draws every glyph at the pen position without the
//! glyph's left side bearing (`px_bounds().min.x` is dropped) and rasterises it at a whole
//! pixel, so the gap after a glyph grows with that glyph's side bearings: "lin ear",
//! "el em ent-wise" (a gap after every `n`, `l`, `m`). [`Png`] is the bitmap backend with its
//! text drawn here instead: each glyph is placed at its sub-pixel pen position (advance +
//! kerning) and rasterised there, so its outline lands where the font puts it. Layout boxes
//! (and with them every anchor and label size) stay plotters' own, so charts keep their
//! geometry; SVG is unaffected (it writes `<text>` elements).

use ab_glyph::{point, Font, FontRef, GlyphId, ScaleFont};
use plotters::prelude::BitMapBackend;
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind,
    FontStyle,
};
use std::sync::OnceLock;

/// The embedded DejaVu Sans faces, parsed once: regular, bold, oblique.
fn faces() -> &'static [FontRef<'static>; 3] {
    static FACES: OnceLock<[FontRef<'static>; 3]> = OnceLock::new();
    FACES.get_or_init(|| {
        let face = |bytes: &'static [u8]| {
            FontRef::try_from_slice(bytes).expect("embedded DejaVu font is valid")
        };
        [
            face(dejavu::sans::regular()),
            face(dejavu::sans::bold()),
            face(dejavu::sans::oblique()),
        ]
    })
}

/// The face for a plotters font style (the only family registered is DejaVu Sans).
fn face(style: FontStyle) -> &'static FontRef<'static> {
    let f = faces();
    match style {
        FontStyle::Bold => &f[1],
        FontStyle::Oblique | FontStyle::Italic => &f[2],
        FontStyle::Normal => &f[0],
    }
}

/// Rasterises `text` at `size_px` (plotters' size: the font's ascent-to-descent height) and
/// calls `pixel(x, y, coverage)` for every covered pixel. The origin is the left end of the
/// text; the baseline sits `size_px / 2` below it, where plotters' own backend puts it, so
/// layout boxes and anchors mean the same as before.
pub(crate) fn rasterize(
    font: &FontRef<'_>,
    size_px: f32,
    text: &str,
    mut pixel: impl FnMut(i32, i32, f32),
) {
    let scaled = font.as_scaled(size_px);
    let mut caret = 0.0_f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            caret += scaled.kern(p, id);
        }
        let glyph = id.with_scale_and_position(scaled.scale(), point(caret, size_px / 2.0));
        if let Some(outline) = font.outline_glyph(glyph) {
            // px_bounds already includes the side bearing and the sub-pixel position.
            let b = outline.px_bounds();
            let (x0, y0) = (b.min.x as i32, b.min.y as i32);
            outline.draw(|x, y, a| pixel(x0 + x as i32, y0 + y as i32, a));
        }
        caret += scaled.h_advance(id);
        prev = Some(id);
    }
}

/// The layout box `(width, height)` of `text`, computed as plotters computes it (sum of
/// advances and kerning; height `size / 1.24`) but for the face actually drawn: plotters'
/// `FontDesc::style(Bold)` keeps the regular face's metrics (and glyphs), so a bold title was
/// measured, and drawn, regular.
pub(crate) fn layout(font: &FontRef<'_>, size_px: f32, text: &str) -> (i32, i32) {
    let scaled = font.as_scaled(size_px);
    let mut width = 0.0_f32;
    let mut prev: Option<GlyphId> = None;
    for c in text.chars() {
        let id = scaled.glyph_id(c);
        if let Some(p) = prev {
            width += scaled.kern(p, id);
        }
        width += scaled.h_advance(id);
        prev = Some(id);
    }
    (width as i32, (size_px / 1.24) as i32)
}

/// A PNG bitmap backend whose text is drawn by [`rasterize`]; everything else is plotters'
/// [`BitMapBackend`].
pub struct Png<'a>(pub BitMapBackend<'a>);

type DrawResult<E, T = ()> = Result<T, DrawingErrorKind<E>>;

impl<'a> DrawingBackend for Png<'a> {
    type ErrorType = <BitMapBackend<'a> as DrawingBackend>::ErrorType;

    fn get_size(&self) -> (u32, u32) {
        self.0.get_size()
    }
    fn ensure_prepared(&mut self) -> DrawResult<Self::ErrorType> {
        self.0.ensure_prepared()
    }
    fn present(&mut self) -> DrawResult<Self::ErrorType> {
        self.0.present()
    }
    fn draw_pixel(&mut self, p: BackendCoord, c: BackendColor) -> DrawResult<Self::ErrorType> {
        self.0.draw_pixel(p, c)
    }
    fn draw_line<S: BackendStyle>(
        &mut self,
        from: BackendCoord,
        to: BackendCoord,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.0.draw_line(from, to, style)
    }
    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.0.draw_rect(upper_left, bottom_right, style, fill)
    }
    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        path: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.0.draw_path(path, style)
    }
    fn draw_circle<S: BackendStyle>(
        &mut self,
        center: BackendCoord,
        radius: u32,
        style: &S,
        fill: bool,
    ) -> DrawResult<Self::ErrorType> {
        self.0.draw_circle(center, radius, style, fill)
    }
    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(
        &mut self,
        vert: I,
        style: &S,
    ) -> DrawResult<Self::ErrorType> {
        self.0.fill_polygon(vert, style)
    }
    fn blit_bitmap(
        &mut self,
        pos: BackendCoord,
        (w, h): (u32, u32),
        src: &[u8],
    ) -> DrawResult<Self::ErrorType> {
        self.0.blit_bitmap(pos, (w, h), src)
    }

    /// plotters' default `draw_text` (anchor, rotation, clipping), with the glyphs from
    /// [`rasterize`].
    fn draw_text<S: BackendTextStyle>(
        &mut self,
        text: &str,
        style: &S,
        pos: BackendCoord,
    ) -> DrawResult<Self::ErrorType> {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        if style.family().as_str() != "sans-serif" {
            return self.0.draw_text(text, style, pos);
        }
        let font = face(style.style());
        let (width, height) = layout(font, style.size() as f32, text);
        let dx = match style.anchor().h_pos {
            HPos::Left => 0,
            HPos::Right => -width,
            HPos::Center => -width / 2,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0,
            VPos::Center => -height / 2,
            VPos::Bottom => -height,
        };
        let trans = style.transform();
        let (w, h) = self.get_size();
        let mut result = Ok(());
        rasterize(font, style.size() as f32, text, |x, y, a| {
            if result.is_err() {
                return;
            }
            let (x, y) = trans.transform(x + dx, y + dy);
            let (x, y) = (pos.0 + x, pos.1 + y);
            if x >= 0 && x < w as i32 && y >= 0 && y < h as i32 {
                let c = BackendColor {
                    alpha: color.alpha * f64::from(a.clamp(0.0, 1.0)),
                    rgb: color.rgb,
                };
                result = self.0.draw_pixel((x, y), c);
            }
        });
        result
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> DrawResult<Self::ErrorType, (u32, u32)> {
        if style.family().as_str() != "sans-serif" {
            return self.0.estimate_text_size(text, style);
        }
        let (w, h) = layout(face(style.style()), style.size() as f32, text);
        Ok((w.max(0) as u32, h.max(0) as u32))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inked column runs `(first, last)` of `text` rasterised by `draw` at `px`.
    fn runs(draw: impl FnOnce(&mut dyn FnMut(i32, f32))) -> Vec<(i32, i32)> {
        let mut cols = vec![false; 600];
        draw(&mut |x, a| {
            if a > 0.35 && (0..600).contains(&x) {
                cols[x as usize] = true;
            }
        });
        let mut out: Vec<(i32, i32)> = Vec::new();
        for (x, &c) in cols.iter().enumerate() {
            let x = x as i32;
            match out.last_mut() {
                Some(r) if c && r.1 == x - 1 => r.1 = x,
                _ if c => out.push((x, x)),
                _ => {}
            }
        }
        out
    }

    /// Where the font's metrics put the ink of each glyph: pen position (advances + kerning)
    /// plus left side bearing.
    fn expected_ink_starts(text: &str, px: f32) -> Vec<f32> {
        let scaled = face(FontStyle::Normal).as_scaled(px);
        let (mut caret, mut prev, mut out) = (0.0_f32, None, Vec::new());
        for c in text.chars() {
            let id = scaled.glyph_id(c);
            if let Some(p) = prev {
                caret += scaled.kern(p, id);
            }
            out.push(caret + scaled.h_side_bearing(id));
            caret += scaled.h_advance(id);
            prev = Some(id);
        }
        out
    }

    #[test]
    fn every_glyph_starts_where_the_font_puts_it() {
        // Regression: plotters' ab_glyph backend dropped the side bearing, so "linear" came
        // out as "lin ear" (a wide gap after n, none before it).
        for px in [14.0_f32, 16.0, 18.0, 26.0] {
            for word in ["linear", "minimum", "number"] {
                let got = runs(|f| rasterize(face(FontStyle::Normal), px, word, |x, _, a| f(x, a)));
                let want = expected_ink_starts(word, px);
                assert_eq!(got.len(), want.len(), "{word} at {px} px: runs {got:?}");
                for ((start, _), w) in got.iter().zip(&want) {
                    assert!(
                        (*start as f32 - w).abs() <= 1.0,
                        "{word} at {px} px: a glyph starts at {start}, the font says {w:.2}; runs {got:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn regular_layout_is_plotters_layout() {
        // Anchors and label boxes must not move: for the regular face the layout box is the
        // one plotters computes.
        super::super::register_fonts();
        for (text, px) in [
            ("linear (GEMM)", 16.0),
            ("Prefill time", 20.0),
            ("0.25", 14.0),
        ] {
            let font = plotters::style::FontDesc::new(
                plotters::style::FontFamily::Name("sans-serif"),
                px,
                FontStyle::Normal,
            );
            let ((x0, y0), (x1, y1)) = font.layout_box(text).unwrap();
            assert_eq!(
                layout(face(FontStyle::Normal), px as f32, text),
                (x1 - x0, y1 - y0),
                "{text}"
            );
        }
    }

    #[test]
    fn plotters_own_glyph_placement_is_what_this_replaces() {
        // The bug this module works around, shown on plotters' own path: the first glyph of
        // "linear" starts at the pen (its side bearing dropped). If a plotters upgrade fixes
        // this, the test fails and `Png` can go.
        super::super::register_fonts();
        let font = plotters::style::FontDesc::new(
            plotters::style::FontFamily::Name("sans-serif"),
            26.0,
            FontStyle::Normal,
        );
        let got = runs(|f| {
            let _ = font.draw("linear", (0, 0), |x, _, a| {
                f(x, a);
                Ok::<(), ()>(())
            });
        });
        let want = expected_ink_starts("linear", 26.0);
        let off = got
            .iter()
            .zip(&want)
            .any(|((s, _), w)| (*s as f32 - w).abs() > 1.0);
        assert!(off, "plotters now places glyphs right: {got:?} vs {want:?}");
    }
}
