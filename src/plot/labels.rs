//! Point labels that do not overlap: a deterministic greedy placement in pixel space.
//!
//! Labels are placed one by one, in the order given (put the important ones first). For each,
//! eight positions around its point are tried — right, above-right, above, above-left, left,
//! below-left, below, below-right — first next to the point, then on rings further out (drawn
//! with a leader line back to the point). The first position that stays inside the plot and
//! touches no marker and no label placed before wins. A label that finds no free position on
//! any ring is left out (and counted), never drawn over another.

/// An axis-aligned box in pixels; `x0 <= x1`, `y0 <= y1` (y grows downward).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn new(x0: f64, y0: f64, x1: f64, y1: f64) -> Rect {
        Rect { x0, y0, x1, y1 }
    }

    /// The box of half-size `r` around `(x, y)`.
    pub fn around((x, y): (f64, f64), r: f64) -> Rect {
        Rect::new(x - r, y - r, x + r, y + r)
    }

    pub(crate) fn intersects(&self, o: &Rect) -> bool {
        self.x0 < o.x1 && o.x0 < self.x1 && self.y0 < o.y1 && o.y0 < self.y1
    }

    pub fn inside(&self, o: &Rect) -> bool {
        self.x0 >= o.x0 && self.x1 <= o.x1 && self.y0 >= o.y0 && self.y1 <= o.y1
    }

    pub fn grow(&self, by: f64) -> Rect {
        Rect::new(self.x0 - by, self.y0 - by, self.x1 + by, self.y1 + by)
    }

    pub fn contains(&self, (x, y): (f64, f64)) -> bool {
        x >= self.x0 && x <= self.x1 && y >= self.y0 && y <= self.y1
    }

    /// The point of the box nearest to `(x, y)` (where a leader line ends).
    pub fn nearest(&self, (x, y): (f64, f64)) -> (f64, f64) {
        (x.clamp(self.x0, self.x1), y.clamp(self.y0, self.y1))
    }
}

/// One label to place: its point and its text's size in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Label {
    pub at: (f64, f64),
    pub size: (f64, f64),
}

/// Where a label went: its box, and whether it needs a leader line to its point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Placed {
    pub rect: Rect,
    pub leader: bool,
}

/// Placement settings, in pixels.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Half-size of the box kept free around every point (its marker).
    pub marker: f64,
    /// Gap between a marker and the label next to it.
    pub gap: f64,
    /// Free space kept around each label.
    pub padding: f64,
    /// Rings tried beyond the first.
    pub rings: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            marker: 7.0,
            gap: 3.0,
            padding: 2.0,
            rings: 6,
        }
    }
}

/// The box of a label of size `(w, h)` at position `k` (0..8, clockwise from the right) at
/// distance `d` from `(x, y)`.
fn candidate((x, y): (f64, f64), (w, h): (f64, f64), k: usize, d: f64) -> Rect {
    let diag = d * std::f64::consts::FRAC_1_SQRT_2;
    let (left, top) = match k {
        0 => (x + d, y - h / 2.0),         // right
        1 => (x + diag, y - diag - h),     // above right
        2 => (x - w / 2.0, y - d - h),     // above
        3 => (x - diag - w, y - diag - h), // above left
        4 => (x - d - w, y - h / 2.0),     // left
        5 => (x - diag - w, y + diag),     // below left
        6 => (x - w / 2.0, y + d),         // below
        _ => (x + diag, y + diag),         // below right
    };
    Rect::new(left, top, left + w, top + h)
}

/// Places `labels` inside `bounds`, avoiding every point's marker and each other. `None`: no
/// free position was found (the label is left out).
#[cfg(test)]
pub(crate) fn place(labels: &[Label], bounds: Rect, opt: Options) -> Vec<Option<Placed>> {
    place_with(labels, &[], &[], bounds, opt)
}

/// [`place`], with more markers to keep clear (`points`, unlabelled) and boxes already taken
/// (a legend).
pub(crate) fn place_with(
    labels: &[Label],
    points: &[(f64, f64)],
    taken: &[Rect],
    bounds: Rect,
    opt: Options,
) -> Vec<Option<Placed>> {
    let markers: Vec<Rect> = labels
        .iter()
        .map(|l| l.at)
        .chain(points.iter().copied())
        .map(|at| Rect::around(at, opt.marker))
        .collect();
    let mut taken: Vec<Rect> = taken.to_vec();
    let mut out = Vec::with_capacity(labels.len());
    for l in labels {
        let step = l.size.1 + 2.0 * opt.padding;
        let mut found = None;
        'rings: for ring in 0..=opt.rings {
            let d = opt.marker + opt.gap + ring as f64 * step;
            for k in 0..8 {
                let rect = candidate(l.at, l.size, k, d);
                let padded = rect.grow(opt.padding);
                let free = rect.inside(&bounds)
                    && !markers.iter().any(|m| m.intersects(&padded))
                    && !taken.iter().any(|t| t.intersects(&padded));
                if free {
                    found = Some(Placed {
                        rect,
                        leader: ring > 0,
                    });
                    break 'rings;
                }
            }
        }
        if let Some(p) = found {
            taken.push(p.rect);
        }
        out.push(found);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crowd() -> Vec<Label> {
        // 24 points in a 60 × 40 pixel patch, labels 70 × 14: far more text than room.
        (0..24)
            .map(|i| Label {
                at: (300.0 + (i % 6) as f64 * 12.0, 200.0 + (i / 6) as f64 * 10.0),
                size: (70.0, 14.0),
            })
            .collect()
    }

    #[test]
    fn a_lone_label_sits_right_of_its_point() {
        let bounds = Rect::new(0.0, 0.0, 800.0, 600.0);
        let l = [Label {
            at: (100.0, 100.0),
            size: (40.0, 12.0),
        }];
        let p = place(&l, bounds, Options::default())[0].unwrap();
        assert!(!p.leader);
        assert_eq!(p.rect.y0, 94.0);
        assert!(p.rect.x0 > 100.0 && p.rect.x0 < 115.0);
    }

    #[test]
    fn crowded_labels_never_overlap_points_or_each_other() {
        let bounds = Rect::new(0.0, 0.0, 800.0, 600.0);
        let labels = crowd();
        let opt = Options::default();
        let placed = place(&labels, bounds, opt);
        let boxes: Vec<Rect> = placed.iter().flatten().map(|p| p.rect).collect();
        assert!(boxes.len() >= 20, "only {} of 24 placed", boxes.len());
        for (i, a) in boxes.iter().enumerate() {
            assert!(a.inside(&bounds));
            for b in &boxes[i + 1..] {
                assert!(!a.intersects(b), "{a:?} overlaps {b:?}");
            }
            for l in &labels {
                assert!(
                    !a.intersects(&Rect::around(l.at, opt.marker)),
                    "{a:?} covers {:?}",
                    l.at
                );
            }
        }
        // Displaced labels get leader lines; the same input gives the same placement.
        assert!(placed.iter().flatten().any(|p| p.leader));
        assert_eq!(placed, place(&labels, bounds, opt));
    }

    #[test]
    fn labels_stay_inside_the_plot_at_its_edges() {
        let bounds = Rect::new(0.0, 0.0, 200.0, 100.0);
        let l = [Label {
            at: (195.0, 5.0),
            size: (60.0, 12.0),
        }];
        let p = place(&l, bounds, Options::default())[0].unwrap();
        assert!(p.rect.inside(&bounds), "{p:?}");
        assert!(
            p.rect.x1 <= 195.0,
            "placed left of a point at the right edge: {p:?}"
        );
    }

    #[test]
    fn no_room_means_no_label() {
        let bounds = Rect::new(0.0, 0.0, 30.0, 30.0);
        let l = [Label {
            at: (15.0, 15.0),
            size: (100.0, 12.0),
        }];
        assert_eq!(place(&l, bounds, Options::default()), vec![None]);
    }
}
