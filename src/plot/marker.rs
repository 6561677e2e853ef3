//! Drawing the core palette (`crate::palette`): its colours as plotters colours, its markers as
//! one element type, its dashes as line series.

use crate::palette::{Dash, Marker, Rgb, Style};
use plotters::element::{Drawable, PointCollection};
use plotters::prelude::*;
use plotters_backend::{BackendCoord, DrawingErrorKind};

/// A palette colour for plotters.
pub(crate) fn rgb(c: Rgb) -> RGBColor {
    RGBColor(c.0, c.1, c.2)
}

/// One marker of a palette style at a data point; `radius` in pixels.
pub struct MarkerAt<C> {
    pub at: C,
    pub marker: Marker,
    pub radius: i32,
    pub color: RGBColor,
    /// Filled, or an outline (hollow points: printed rather than computed cost).
    pub filled: bool,
}

impl<C> MarkerAt<C> {
    pub fn new(at: C, style: &Style, radius: i32, filled: bool) -> Self {
        MarkerAt {
            at,
            marker: style.marker,
            radius,
            color: rgb(style.color),
            filled,
        }
    }
}

impl<'a, C> PointCollection<'a, C> for &'a MarkerAt<C> {
    type Point = &'a C;
    type IntoIter = std::iter::Once<&'a C>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

/// The outline of a marker around `(x, y)`, as a closed polygon (circle excepted).
fn polygon(marker: Marker, (x, y): BackendCoord, r: i32) -> Vec<BackendCoord> {
    // Areas roughly equal to the circle's: the square's half side is 0.85 r, the triangles and
    // the diamond reach a little further.
    let s = (r as f64 * 0.85).round() as i32;
    let t = (r as f64 * 1.2).round() as i32;
    match marker {
        Marker::Square => vec![
            (x - s, y - s),
            (x + s, y - s),
            (x + s, y + s),
            (x - s, y + s),
        ],
        Marker::Diamond => vec![(x, y - t), (x + t, y), (x, y + t), (x - t, y)],
        Marker::TriangleUp => vec![(x, y - t), (x + t, y + t * 3 / 4), (x - t, y + t * 3 / 4)],
        Marker::TriangleDown => {
            vec![(x, y + t), (x + t, y - t * 3 / 4), (x - t, y - t * 3 / 4)]
        }
        Marker::Circle | Marker::Cross | Marker::Plus => Vec::new(),
    }
}

/// Draws `marker` centred on `(x, y)`.
fn draw_marker<DB: DrawingBackend>(
    backend: &mut DB,
    (x, y): BackendCoord,
    marker: Marker,
    radius: i32,
    color: RGBColor,
    filled: bool,
) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
    let r = radius.max(2);
    let line = color.stroke_width(2);
    let fill = if filled {
        color.filled()
    } else {
        WHITE.filled()
    };
    match marker {
        Marker::Circle => {
            backend.draw_circle((x, y), r as u32, &fill, true)?;
            if !filled {
                backend.draw_circle((x, y), r as u32, &line, false)?;
            }
        }
        Marker::Cross | Marker::Plus => {
            let a = r + 1;
            let arms = if marker == Marker::Cross {
                [
                    ((x - a, y - a), (x + a, y + a)),
                    ((x - a, y + a), (x + a, y - a)),
                ]
            } else {
                [((x - a, y), (x + a, y)), ((x, y - a), (x, y + a))]
            };
            let width = if filled { 3 } else { 2 };
            for (from, to) in arms {
                backend.draw_path([from, to], &color.stroke_width(width))?;
            }
        }
        m => {
            let p = polygon(m, (x, y), r);
            backend.fill_polygon(p.iter().copied(), &fill)?;
            let mut closed = p.clone();
            closed.push(p[0]);
            backend.draw_path(closed, &line)?;
        }
    }
    Ok(())
}

impl<C, DB: DrawingBackend> Drawable<DB> for MarkerAt<C> {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        match points.next() {
            Some(p) => draw_marker(
                backend,
                p,
                self.marker,
                self.radius,
                self.color,
                self.filled,
            ),
            None => Ok(()),
        }
    }
}

/// A legend entry's glyph: a 24-pixel stroke in the style's dash, its marker in the middle.
/// `at` is the left end, vertically centred (what plotters' legend callback gives).
pub struct LegendGlyph {
    pub at: BackendCoord,
    pub style: Style,
}

impl<'a> PointCollection<'a, BackendCoord> for &'a LegendGlyph {
    type Point = &'a BackendCoord;
    type IntoIter = std::iter::Once<&'a BackendCoord>;
    fn point_iter(self) -> Self::IntoIter {
        std::iter::once(&self.at)
    }
}

impl<DB: DrawingBackend> Drawable<DB> for LegendGlyph {
    fn draw<I: Iterator<Item = BackendCoord>>(
        &self,
        mut points: I,
        backend: &mut DB,
        _: (u32, u32),
    ) -> Result<(), DrawingErrorKind<DB::ErrorType>> {
        let Some((x, y)) = points.next() else {
            return Ok(());
        };
        let color = rgb(self.style.color);
        // Three segments: contiguous for a solid line, with gaps for dashes and dots.
        let segs: [(i32, i32); 3] = match self.style.dash {
            Dash::Solid => [(0, 8), (8, 16), (16, 24)],
            Dash::Dashed => [(0, 6), (9, 15), (18, 24)],
            Dash::Dotted => [(0, 2), (11, 13), (22, 24)],
        };
        for (a, b) in segs {
            backend.draw_path([(x + a, y), (x + b, y)], &color.stroke_width(3))?;
        }
        draw_marker(backend, (x + 12, y), self.style.marker, 4, color, true)
    }
}

/// A legend glyph at `at` (for `SeriesAnno::legend`).
pub(crate) fn legend_glyph(at: BackendCoord, style: &Style) -> LegendGlyph {
    LegendGlyph { at, style: *style }
}

/// `(dash length, gap)` in pixels of a dash style; `None` for a solid line.
pub(crate) fn dash_pattern(dash: Dash) -> Option<(i32, i32)> {
    match dash {
        Dash::Solid => None,
        Dash::Dashed => Some((10, 6)),
        Dash::Dotted => Some((3, 5)),
    }
}
