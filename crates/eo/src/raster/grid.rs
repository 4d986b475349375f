//! Georeferenced pixel grids and windows.

/// GDAL's affine geotransform: `x = t[0] + col * t[1] + row * t[2]`,
/// `y = t[3] + col * t[4] + row * t[5]`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GeoTransform(pub [f64; 6]);

impl GeoTransform {
    /// The map coordinates of pixel position (`col`, `row`) (corners at whole numbers).
    pub fn apply(&self, col: f64, row: f64) -> (f64, f64) {
        let t = &self.0;
        (
            t[0] + col * t[1] + row * t[2],
            t[3] + col * t[4] + row * t[5],
        )
    }

    /// The pixel position of map coordinates (`x`, `y`), if the transform can be inverted.
    pub fn invert(&self, x: f64, y: f64) -> Option<(f64, f64)> {
        let t = &self.0;
        let det = t[1] * t[5] - t[2] * t[4];
        if det.abs() < f64::EPSILON * (t[1].abs() + t[5].abs()).max(1e-300) {
            return None;
        }
        let (dx, dy) = (x - t[0], y - t[3]);
        Some(((dx * t[5] - dy * t[2]) / det, (dy * t[1] - dx * t[4]) / det))
    }

    /// The transform of the grid whose first pixel is (`col`, `row`) of this one.
    pub fn shifted(&self, col: usize, row: usize) -> Self {
        let (x, y) = self.apply(col as f64, row as f64);
        let mut t = self.0;
        t[0] = x;
        t[3] = y;
        GeoTransform(t)
    }

    /// The transform of the same area sampled with pixels `factor_x` and
    /// `factor_y` times larger.
    pub fn scaled(&self, factor_x: f64, factor_y: f64) -> Self {
        let t = self.0;
        GeoTransform([
            t[0],
            t[1] * factor_x,
            t[2] * factor_y,
            t[3],
            t[4] * factor_x,
            t[5] * factor_y,
        ])
    }
}

/// A rectangle of pixels: `width` x `height` starting at (`col`, `row`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub col: usize,
    pub row: usize,
    pub width: usize,
    pub height: usize,
}

impl Window {
    /// The whole of a `width` x `height` grid.
    pub fn full(width: usize, height: usize) -> Self {
        Window {
            col: 0,
            row: 0,
            width,
            height,
        }
    }

    pub fn pixels(&self) -> usize {
        self.width * self.height
    }

    /// The window moved by (`col`, `row`).
    pub fn offset(&self, col: usize, row: usize) -> Self {
        Window {
            col: self.col + col,
            row: self.row + row,
            ..*self
        }
    }

    /// Splits the window into blocks of at most `size` x `size` pixels, row by row.
    pub fn blocks(&self, size: usize) -> Vec<Window> {
        let size = size.max(1);
        let mut blocks = Vec::new();
        for row in (0..self.height).step_by(size) {
            for col in (0..self.width).step_by(size) {
                blocks.push(Window {
                    col: self.col + col,
                    row: self.row + row,
                    width: size.min(self.width - col),
                    height: size.min(self.height - row),
                });
            }
        }
        blocks
    }
}

/// Rounds pixel positions within a millionth of a pixel to the whole pixel,
/// so that bounds on a pixel edge (10.2 degrees on a 0.01 grid computes as
/// 19.999999...) do not take in a neighbouring row or column.
fn snap(position: f64) -> f64 {
    let nearest = position.round();
    if (position - nearest).abs() < 1e-6 {
        nearest
    } else {
        position
    }
}

/// Map-coordinate bounds `(x_min, y_min, x_max, y_max)` in a grid's CRS.
pub type Bounds = (f64, f64, f64, f64);

/// A georeferenced grid: size, geotransform and coordinate reference system.
#[derive(Debug, Clone, PartialEq)]
pub struct Grid {
    pub width: usize,
    pub height: usize,
    pub transform: GeoTransform,
    /// The CRS as WKT (empty when the file has none).
    pub crs: String,
}

impl Grid {
    /// The bounds of the whole grid in its CRS.
    pub fn bounds(&self) -> Bounds {
        let corners = [
            self.transform.apply(0.0, 0.0),
            self.transform.apply(self.width as f64, 0.0),
            self.transform.apply(0.0, self.height as f64),
            self.transform.apply(self.width as f64, self.height as f64),
        ];
        let xs = corners.iter().map(|c| c.0);
        let ys = corners.iter().map(|c| c.1);
        (
            xs.clone().fold(f64::INFINITY, f64::min),
            ys.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
            ys.fold(f64::NEG_INFINITY, f64::max),
        )
    }

    /// Pixel size as `(x, y)` magnitudes (for north-up grids).
    pub fn resolution(&self) -> (f64, f64) {
        let t = self.transform.0;
        (t[1].hypot(t[4]), t[2].hypot(t[5]))
    }

    /// The smallest window covering every pixel that touches `bounds`, or
    /// `None` when they do not overlap the grid.
    pub fn window_of(&self, bounds: Bounds) -> Option<Window> {
        let (x_min, y_min, x_max, y_max) = bounds;
        let corners = [
            (x_min, y_min),
            (x_min, y_max),
            (x_max, y_min),
            (x_max, y_max),
        ];
        let mut cols = (f64::INFINITY, f64::NEG_INFINITY);
        let mut rows = (f64::INFINITY, f64::NEG_INFINITY);
        for (x, y) in corners {
            let (c, r) = self.transform.invert(x, y)?;
            cols = (cols.0.min(c), cols.1.max(c));
            rows = (rows.0.min(r), rows.1.max(r));
        }
        let first_col = snap(cols.0).floor().max(0.0);
        let first_row = snap(rows.0).floor().max(0.0);
        let end_col = snap(cols.1).ceil().min(self.width as f64);
        let end_row = snap(rows.1).ceil().min(self.height as f64);
        if end_col <= first_col || end_row <= first_row {
            return None;
        }
        Some(Window {
            col: first_col as usize,
            row: first_row as usize,
            width: (end_col - first_col) as usize,
            height: (end_row - first_row) as usize,
        })
    }

    /// The grid of a window of this grid.
    pub fn sub_grid(&self, window: Window) -> Grid {
        Grid {
            width: window.width,
            height: window.height,
            transform: self.transform.shifted(window.col, window.row),
            crs: self.crs.clone(),
        }
    }

    /// True when two grids have the same size, CRS and (within a thousandth
    /// of a pixel) the same geotransform, so their pixels line up.
    pub fn aligns_with(&self, other: &Grid) -> bool {
        let tolerance = 1e-3 * self.resolution().0.max(self.resolution().1);
        self.width == other.width
            && self.height == other.height
            && self.crs == other.crs
            && self
                .transform
                .0
                .iter()
                .zip(other.transform.0.iter())
                .all(|(a, b)| (a - b).abs() <= tolerance)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utm_grid() -> Grid {
        Grid {
            width: 100,
            height: 50,
            transform: GeoTransform([500_000.0, 10.0, 0.0, 4_200_000.0, 0.0, -10.0]),
            crs: "EPSG:32633".into(),
        }
    }

    #[test]
    fn bounds_and_resolution() {
        let grid = utm_grid();
        assert_eq!(
            grid.bounds(),
            (500_000.0, 4_199_500.0, 501_000.0, 4_200_000.0)
        );
        assert_eq!(grid.resolution(), (10.0, 10.0));
    }

    #[test]
    fn a_window_covers_every_touched_pixel_and_is_clamped() {
        let grid = utm_grid();
        let window = grid
            .window_of((500_015.0, 4_199_900.0, 500_041.0, 4_199_985.0))
            .unwrap();
        assert_eq!(
            window,
            Window {
                col: 1,
                row: 1,
                width: 4,
                height: 9
            }
        );
        let clamped = grid
            .window_of((499_000.0, 4_199_000.0, 500_020.0, 4_201_000.0))
            .unwrap();
        assert_eq!(
            clamped,
            Window {
                col: 0,
                row: 0,
                width: 2,
                height: 50
            }
        );
        assert_eq!(grid.window_of((0.0, 0.0, 10.0, 10.0)), None);
    }

    #[test]
    fn bounds_on_pixel_edges_take_no_extra_pixels() {
        let grid = Grid {
            width: 100,
            height: 100,
            transform: GeoTransform([10.0, 0.01, 0.0, 41.0, 0.0, -0.01]),
            crs: String::new(),
        };
        let window = grid.window_of((10.2, 40.2, 10.4, 40.5)).unwrap();
        assert_eq!(
            window,
            Window {
                col: 20,
                row: 50,
                width: 20,
                height: 30
            }
        );
    }

    #[test]
    fn sub_grids_keep_pixels_in_place() {
        let grid = utm_grid();
        let sub = grid.sub_grid(Window {
            col: 10,
            row: 5,
            width: 20,
            height: 20,
        });
        assert_eq!(sub.transform.apply(0.0, 0.0), (500_100.0, 4_199_950.0));
        assert!(!sub.aligns_with(&grid));
    }

    #[test]
    fn blocks_tile_the_window_exactly() {
        let blocks = Window {
            col: 3,
            row: 0,
            width: 10,
            height: 5,
        }
        .blocks(4);
        assert_eq!(blocks.len(), 6);
        assert_eq!(blocks.iter().map(Window::pixels).sum::<usize>(), 50);
        assert_eq!(
            blocks[2],
            Window {
                col: 11,
                row: 0,
                width: 2,
                height: 4
            }
        );
    }

    #[test]
    fn invert_undoes_apply() {
        let t = GeoTransform([10.0, 0.5, 0.1, 20.0, 0.05, -0.5]);
        let (x, y) = t.apply(3.0, 7.0);
        let (c, r) = t.invert(x, y).unwrap();
        assert!((c - 3.0).abs() < 1e-9 && (r - 7.0).abs() < 1e-9);
    }
}
