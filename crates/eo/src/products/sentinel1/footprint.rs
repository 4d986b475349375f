//! Where a GRD measurement lies on the ground: its ground control points
//! (real GRD measurements have no geotransform), or the geotransform of a
//! measurement someone already warped. Areas are checked against this
//! footprint before anything is warped (an area outside it would warp to a
//! raster of nothing), and the image window an area needs is found from
//! the GCPs (calibration then reads only that window).

use super::GrdError;
use crate::raster::Window;

/// A measurement's size and how its pixels map to the ground.
#[derive(Debug, Clone)]
pub struct Georeferencing {
    pub width: usize,
    pub height: usize,
    /// (pixel, line, lon, lat); empty when the file has a geotransform.
    gcps: Vec<[f64; 4]>,
    /// lon_min, lat_min, lon_max, lat_max.
    pub footprint: (f64, f64, f64, f64),
}

/// How many points along each side of an area are mapped into the image.
const AREA_SAMPLES: usize = 16;

impl Georeferencing {
    /// Reads the GCPs (or geotransform) of `measurement`.
    pub fn of(measurement: &str) -> Result<Georeferencing, GrdError> {
        let dataset = crate::gdal::dataset::open(measurement)
            .map_err(|e| GrdError::Raster(crate::raster::RasterError::opening(measurement, e)))?;
        let (width, height) = dataset.raster_size();
        let gcps: Vec<[f64; 4]> = dataset
            .gcps()
            .iter()
            .map(|g| [g.pixel(), g.line(), g.x(), g.y()])
            .filter(|g| g.iter().all(|v| v.is_finite()))
            .collect();
        if gcps.len() >= 3 {
            let footprint = bounding_box(gcps.iter().map(|g| (g[2], g[3])));
            return Ok(Georeferencing {
                width,
                height,
                gcps,
                footprint,
            });
        }
        let not_located = || GrdError::NotGeoreferenced {
            file: file_name(measurement),
            gcps: gcps.len(),
        };
        let transform = dataset.geo_transform().map_err(|_| not_located())?;
        let transform = crate::raster::GeoTransform(transform);
        let corners =
            [(0.0, 0.0), (width as f64, height as f64)].map(|(c, r)| transform.apply(c, r));
        let bounds = bounding_box(corners.into_iter());
        let footprint = crate::raster::crs::bounds_to_lonlat(&dataset.projection(), bounds)
            .map_err(|_| not_located())?;
        Ok(Georeferencing {
            width,
            height,
            gcps: Vec::new(),
            footprint,
        })
    }

    /// Refuses an area that does not intersect the footprint.
    pub fn check_overlaps(&self, area: (f64, f64, f64, f64)) -> Result<(), GrdError> {
        crate::products::check_area_meets(area, self.footprint).map_err(|outside| {
            GrdError::AoiOutsideProduct {
                area: outside.area,
                footprint: outside.footprint,
            }
        })
    }

    /// The image window (whole pixels) that holds every pixel a bilinear
    /// warp onto `area` reads, with a margin for the difference between
    /// this fit of the GCPs and GDAL's own.
    pub fn window_over(&self, area: (f64, f64, f64, f64)) -> Window {
        let Some(fit) = GcpFit::new(&self.gcps) else {
            return Window::full(self.width, self.height);
        };
        let margin = 2.0 * fit.worst_residual(&self.gcps) + 8.0;
        let (mut c0, mut r0) = (f64::INFINITY, f64::INFINITY);
        let (mut c1, mut r1) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
        let n = AREA_SAMPLES as f64;
        for i in 0..=AREA_SAMPLES {
            for j in 0..=AREA_SAMPLES {
                let lon = area.0 + (area.2 - area.0) * i as f64 / n;
                let lat = area.1 + (area.3 - area.1) * j as f64 / n;
                let (col, row) = fit.pixel(lon, lat);
                (c0, c1, r0, r1) = (c0.min(col), c1.max(col), r0.min(row), r1.max(row));
            }
        }
        // Bilinear reads the pixel after the last one too.
        let clamp = |v: f64, size: usize| (v.max(0.0) as usize).min(size);
        let col = clamp(c0 - margin, self.width - 1);
        let row = clamp(r0 - margin, self.height - 1);
        let end_col = clamp((c1 + margin).ceil() + 1.0, self.width).max(col + 1);
        let end_row = clamp((r1 + margin).ceil() + 1.0, self.height).max(row + 1);
        Window {
            col,
            row,
            width: end_col - col,
            height: end_row - row,
        }
    }
}

fn file_name(path: &str) -> String {
    path.rsplit('/').next().unwrap_or(path).to_string()
}

fn bounding_box(points: impl Iterator<Item = (f64, f64)>) -> (f64, f64, f64, f64) {
    points.fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |(x0, y0, x1, y1), (x, y)| (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
    )
}

/// Pixel and line as polynomials of lon/lat fitted to the GCPs by least
/// squares (second order from 10 GCPs, as GDAL chooses, else first).
struct GcpFit {
    centre: (f64, f64),
    scale: f64,
    terms: usize,
    col: Vec<f64>,
    row: Vec<f64>,
}

impl GcpFit {
    fn new(gcps: &[[f64; 4]]) -> Option<GcpFit> {
        if gcps.len() < 3 {
            return None;
        }
        let n = gcps.len() as f64;
        let centre = (
            gcps.iter().map(|g| g[2]).sum::<f64>() / n,
            gcps.iter().map(|g| g[3]).sum::<f64>() / n,
        );
        let scale = gcps
            .iter()
            .map(|g| (g[2] - centre.0).abs().max((g[3] - centre.1).abs()))
            .fold(0.0, f64::max)
            .max(1e-12);
        let terms = if gcps.len() >= 10 { 6 } else { 3 };
        let mut fit = GcpFit {
            centre,
            scale,
            terms,
            col: Vec::new(),
            row: Vec::new(),
        };
        let rows: Vec<Vec<f64>> = gcps.iter().map(|g| fit.basis(g[2], g[3])).collect();
        fit.col = least_squares(&rows, &gcps.iter().map(|g| g[0]).collect::<Vec<_>>())?;
        fit.row = least_squares(&rows, &gcps.iter().map(|g| g[1]).collect::<Vec<_>>())?;
        Some(fit)
    }

    fn basis(&self, lon: f64, lat: f64) -> Vec<f64> {
        let (u, v) = (
            (lon - self.centre.0) / self.scale,
            (lat - self.centre.1) / self.scale,
        );
        [1.0, u, v, u * u, u * v, v * v][..self.terms].to_vec()
    }

    fn pixel(&self, lon: f64, lat: f64) -> (f64, f64) {
        let basis = self.basis(lon, lat);
        let dot = |c: &[f64]| c.iter().zip(&basis).map(|(a, b)| a * b).sum::<f64>();
        (dot(&self.col), dot(&self.row))
    }

    /// The largest distance (pixels) between a GCP and where the fit puts it.
    fn worst_residual(&self, gcps: &[[f64; 4]]) -> f64 {
        gcps.iter()
            .map(|g| {
                let (col, row) = self.pixel(g[2], g[3]);
                (col - g[0]).abs().max((row - g[1]).abs())
            })
            .fold(0.0, f64::max)
    }
}

/// The coefficients minimising |A x − b| (normal equations, Gaussian
/// elimination with partial pivoting); None when A is degenerate.
fn least_squares(a: &[Vec<f64>], b: &[f64]) -> Option<Vec<f64>> {
    let k = a[0].len();
    let mut m = vec![vec![0.0; k + 1]; k];
    for (row, &value) in a.iter().zip(b) {
        for i in 0..k {
            for j in 0..k {
                m[i][j] += row[i] * row[j];
            }
            m[i][k] += row[i] * value;
        }
    }
    for i in 0..k {
        let pivot = (i..k).max_by(|&x, &y| m[x][i].abs().total_cmp(&m[y][i].abs()))?;
        m.swap(i, pivot);
        if m[i][i].abs() < 1e-12 {
            return None;
        }
        let pivot_row = m[i].clone();
        for (r, row) in m.iter_mut().enumerate() {
            if r != i {
                let factor = row[i] / pivot_row[i];
                for (value, pivot) in row[i..].iter_mut().zip(&pivot_row[i..]) {
                    *value -= factor * pivot;
                }
            }
        }
    }
    Some((0..k).map(|i| m[i][k] / m[i][i]).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn located(gcps: Vec<[f64; 4]>) -> Georeferencing {
        let footprint = bounding_box(gcps.iter().map(|g| (g[2], g[3])));
        Georeferencing {
            width: 1000,
            height: 800,
            gcps,
            footprint,
        }
    }

    /// A rotated image: pixel (c, r) at lon 10 + 0.001 c + 0.0002 r, lat 45 - 0.001 r + 0.0003 c.
    fn rotated() -> Georeferencing {
        let mut gcps = Vec::new();
        for r in (0..=800).step_by(200) {
            for c in (0..=1000).step_by(250) {
                let (c, r) = (c as f64, r as f64);
                gcps.push([
                    c,
                    r,
                    10.0 + 0.001 * c + 0.0002 * r,
                    45.0 - 0.001 * r + 0.0003 * c,
                ]);
            }
        }
        located(gcps)
    }

    #[test]
    fn the_window_covers_the_area_with_a_margin() {
        let image = rotated();
        let area = (10.14, 44.69, 10.38, 44.83);
        let window = image.window_over(area);
        let mut inside = 0;
        for r in (0..800).step_by(5) {
            for c in (0..1000).step_by(5) {
                let (cf, rf) = (c as f64, r as f64);
                let (lon, lat) = (
                    10.0 + 0.001 * cf + 0.0002 * rf,
                    45.0 - 0.001 * rf + 0.0003 * cf,
                );
                if lon >= area.0 && lon <= area.2 && lat >= area.1 && lat <= area.3 {
                    inside += 1;
                    assert!((window.col..window.col + window.width).contains(&c), "{c}");
                    assert!((window.row..window.row + window.height).contains(&r), "{r}");
                }
            }
        }
        assert!(inside > 100);
        assert!(window.width < 500 && window.height < 500, "{window:?}");
    }

    #[test]
    fn an_area_away_from_the_footprint_names_both_extents() {
        let error = rotated()
            .check_overlaps((20.0, 40.0, 20.1, 40.1))
            .unwrap_err()
            .to_string();
        assert!(error.contains("lon 20.0000…20.1000"), "{error}");
        assert!(error.contains("lon 10.0000…11.1600"), "{error}");
        assert!(rotated().check_overlaps((10.5, 44.5, 10.6, 44.6)).is_ok());
    }
}
