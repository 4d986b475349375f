//! Polygon masks: which pixels of a grid have their centre inside a set of
//! rings (even-odd rule, so holes work), evaluated row by row with scanline
//! crossings: cost grows with rows x edges plus pixels, not pixels x edges.

use super::grid::{GeoTransform, Window};

/// Rings in a grid's CRS, seen from that grid's pixels.
#[derive(Debug, Clone, PartialEq)]
pub struct PolygonMask {
    /// Closed rings (outer boundaries and holes alike), in map coordinates.
    rings: Vec<Vec<(f64, f64)>>,
    /// The transform of the grid whose pixels the mask is evaluated on.
    transform: GeoTransform,
}

impl PolygonMask {
    /// A mask of `rings` (map coordinates) on the grid with `transform`.
    /// The grid must be north-up (no rotation), as warped grids are.
    pub fn new(rings: Vec<Vec<(f64, f64)>>, transform: GeoTransform) -> PolygonMask {
        // Work in pixel coordinates from here on.
        let to_pixels =
            |&(x, y): &(f64, f64)| transform.invert(x, y).unwrap_or((f64::NAN, f64::NAN));
        let rings = rings
            .iter()
            .map(|ring| ring.iter().map(to_pixels).collect())
            .collect();
        PolygonMask { rings, transform }
    }

    /// 1 inside, 0 outside, for `window` resampled to `out_size`.
    pub fn eval(&self, window: Window, (out_width, out_height): (usize, usize), out: &mut [f32]) {
        let (step_x, step_y) = (
            window.width as f64 / out_width as f64,
            window.height as f64 / out_height as f64,
        );
        let mut crossings = Vec::new();
        for y in 0..out_height {
            let row_centre = window.row as f64 + (y as f64 + 0.5) * step_y;
            crossings.clear();
            for ring in &self.rings {
                for edge in ring.windows(2) {
                    let ((x0, y0), (x1, y1)) = (edge[0], edge[1]);
                    // Half-open rule: a vertex on the scanline counts once.
                    if (y0 <= row_centre) != (y1 <= row_centre) {
                        crossings.push(x0 + (row_centre - y0) / (y1 - y0) * (x1 - x0));
                    }
                }
            }
            crossings.sort_by(f64::total_cmp);
            let line = &mut out[y * out_width..(y + 1) * out_width];
            line.fill(0.0);
            for pair in crossings.chunks_exact(2) {
                // Output columns whose centres lie between the two crossings.
                let first = ((pair[0] - window.col as f64) / step_x - 0.5)
                    .ceil()
                    .max(0.0) as usize;
                let end = ((pair[1] - window.col as f64) / step_x - 0.5)
                    .ceil()
                    .clamp(0.0, out_width as f64) as usize;
                if first < end {
                    line[first..end].fill(1.0);
                }
            }
        }
    }

    /// The transform the mask was built for.
    pub fn transform(&self) -> GeoTransform {
        self.transform
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unit_grid() -> GeoTransform {
        GeoTransform([0.0, 1.0, 0.0, 10.0, 0.0, -1.0])
    }

    #[test]
    fn a_square_with_a_hole() {
        let outer = vec![(2.0, 8.0), (8.0, 8.0), (8.0, 2.0), (2.0, 2.0), (2.0, 8.0)];
        let hole = vec![(4.0, 6.0), (6.0, 6.0), (6.0, 4.0), (4.0, 4.0), (4.0, 6.0)];
        let mask = PolygonMask::new(vec![outer, hole], unit_grid());
        let mut out = vec![0.0; 100];
        mask.eval(Window::full(10, 10), (10, 10), &mut out);
        assert_eq!(out.iter().sum::<f32>(), 36.0 - 4.0);
        assert_eq!(out[2 * 10 + 2], 1.0, "pixel (2, 2) is inside");
        assert_eq!(out[4 * 10 + 4], 0.0, "pixel (4, 4) is in the hole");
    }

    #[test]
    fn a_window_and_a_decimated_read_see_the_same_shape() {
        let triangle = vec![(0.0, 10.0), (10.0, 10.0), (0.0, 0.0), (0.0, 10.0)];
        let mask = PolygonMask::new(vec![triangle], unit_grid());
        let mut full = vec![0.0; 100];
        mask.eval(Window::full(10, 10), (10, 10), &mut full);
        assert_eq!(
            full.iter().sum::<f32>(),
            45.0,
            "centres strictly below the diagonal"
        );
        let mut part = vec![0.0; 4];
        // Centres of the 2 x 2 cells: (4, 3), (6, 3), (4, 5), (6, 5); inside when x + y < 10.
        mask.eval(
            Window {
                col: 3,
                row: 2,
                width: 4,
                height: 4,
            },
            (2, 2),
            &mut part,
        );
        assert_eq!(part, [1.0, 1.0, 1.0, 0.0]);
    }
}
