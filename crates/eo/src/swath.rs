//! Swaths: irregular satellite measurements (Sentinel-5P, Sentinel-3) as
//! longitude/latitude/value points, optionally with a quality value; clipped,
//! filtered and scaled as points, then gridded onto a regular lon/lat grid
//! (nearest, linear or natural-neighbour interpolation with spade).

use crate::raster::crs::wgs84_wkt;
use crate::raster::{Bounds, GeoTransform, Grid, Raster, RasterError};
use crate::validity::is_valid;
use cleope_sandbox::{MemoryBudget, MemoryCharge};
use spade::{DelaunayTriangulation, FloatTriangulation, HasPosition, Point2, Triangulation};
use std::sync::Arc;

/// Measurements at scattered positions.
#[derive(Debug, Clone)]
pub struct Swath {
    points: Arc<Points>,
    pub unit: String,
}

#[derive(Debug)]
struct Points {
    lon: Vec<f32>,
    lat: Vec<f32>,
    values: Vec<f32>,
    quality: Option<Vec<f32>>,
    _charge: MemoryCharge,
}

/// How gridding fills a cell from the points around it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gridding {
    /// The value of the nearest point.
    Nearest,
    /// Linear inside the triangle of points around the cell (Delaunay).
    Linear,
    /// Sibson's natural-neighbour interpolation: smooth, exact at the points.
    NaturalNeighbour,
}

impl Gridding {
    pub fn named(name: &str) -> Option<Gridding> {
        Some(match name {
            "nearest" => Gridding::Nearest,
            "linear" => Gridding::Linear,
            "natural" | "natural_neighbour" | "natural_neighbor" => Gridding::NaturalNeighbour,
            _ => return None,
        })
    }
}

/// Bytes a swath point takes (three or four f32 values).
const POINT_BYTES: u64 = 16;

impl Swath {
    /// A swath from parallel arrays (missing values as NaN), charged to `budget`.
    pub fn new(
        lon: Vec<f32>,
        lat: Vec<f32>,
        values: Vec<f32>,
        quality: Option<Vec<f32>>,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Swath, RasterError> {
        let n = values.len();
        if lon.len() != n || lat.len() != n || quality.as_ref().is_some_and(|q| q.len() != n) {
            return Err(RasterError::Invalid(format!(
                "longitude ({}), latitude ({}) and values ({n}) must have the same number of points",
                lon.len(),
                lat.len()
            )));
        }
        let charge = budget.charge(n as u64 * POINT_BYTES, &format!("a swath of {n} points"))?;
        Ok(Swath {
            points: Arc::new(Points {
                lon,
                lat,
                values,
                quality,
                _charge: charge,
            }),
            unit: String::new(),
        })
    }

    /// Reads a swath from arrays in files (GDAL paths such as
    /// `NETCDF:"S5P.nc":/PRODUCT/latitude`): values, longitude, latitude and
    /// optionally quality. Fill values become NaN; scale and offset apply.
    pub fn read(
        values: &str,
        lon: &str,
        lat: &str,
        quality: Option<&str>,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Swath, RasterError> {
        let (data, unit) = read_array(values)?;
        let lon = read_array(lon)?.0;
        let lat = read_array(lat)?.0;
        let quality = quality.map(read_array).transpose()?.map(|(q, _)| q);
        let mut swath = Swath::new(lon, lat, data, quality, budget)?;
        swath.unit = unit;
        Ok(swath)
    }

    /// The values, one per point (missing ones NaN).
    pub fn values(&self) -> &[f32] {
        &self.points.values
    }

    pub fn len(&self) -> usize {
        self.points.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Points whose value, position (and quality) are all present.
    pub fn valid_points(&self) -> usize {
        (0..self.len()).filter(|&i| self.is_valid(i)).count()
    }

    fn is_valid(&self, i: usize) -> bool {
        let p = &self.points;
        is_valid(p.values[i]) && is_valid(p.lon[i]) && is_valid(p.lat[i])
    }

    /// The points kept by `keep(i)`, as a new swath.
    fn select(
        &self,
        budget: &Arc<MemoryBudget>,
        keep: impl Fn(usize) -> bool,
    ) -> Result<Swath, RasterError> {
        let p = &self.points;
        let chosen: Vec<usize> = (0..self.len()).filter(|&i| keep(i)).collect();
        let pick = |v: &[f32]| chosen.iter().map(|&i| v[i]).collect::<Vec<_>>();
        let quality = p.quality.as_deref().map(pick);
        let mut swath = Swath::new(pick(&p.lon), pick(&p.lat), pick(&p.values), quality, budget)?;
        swath.unit = self.unit.clone();
        Ok(swath)
    }

    /// The points inside `bounds` (lon/lat).
    pub fn clip(&self, bounds: Bounds, budget: &Arc<MemoryBudget>) -> Result<Swath, RasterError> {
        let (x0, y0, x1, y1) = bounds;
        let p = &self.points;
        self.select(budget, |i| {
            let (x, y) = (f64::from(p.lon[i]), f64::from(p.lat[i]));
            self.is_valid(i) && x >= x0 && x <= x1 && y >= y0 && y <= y1
        })
    }

    /// The points whose quality is at least `minimum` (e.g. S5P `qa_value` ≥ 0.75).
    pub fn filter_quality(
        &self,
        minimum: f64,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Swath, RasterError> {
        let quality = self.points.quality.as_ref().ok_or_else(|| {
            RasterError::Invalid(
                "this swath has no quality values: open it with a `qa` variable".into(),
            )
        })?;
        self.select(budget, |i| {
            self.is_valid(i) && f64::from(quality[i]) >= minimum
        })
    }

    /// Values multiplied by `factor` (unit conversion, e.g. mol/m² to molecules/cm²).
    pub fn scaled(
        &self,
        factor: f64,
        unit: &str,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Swath, RasterError> {
        let p = &self.points;
        let values: Vec<f32> = p
            .values
            .iter()
            .map(|&v| (f64::from(v) * factor) as f32)
            .collect();
        let overflowed = values
            .iter()
            .zip(&p.values)
            .filter(|&(after, before)| is_valid(*before) && !is_valid(*after))
            .count();
        if overflowed > 0 {
            let valid = p.values.iter().filter(|v| is_valid(**v)).count();
            return Err(RasterError::Invalid(format!(
                "scaling by {factor:e} takes {overflowed} of {valid} values beyond the range of \
                 32-bit floats (±3.4e38), where they could not be told from missing values; \
                 scale by a smaller factor (e.g. to units of 1e15 {unit})"
            )));
        }
        let mut swath = Swath::new(
            p.lon.clone(),
            p.lat.clone(),
            values,
            p.quality.clone(),
            budget,
        )?;
        swath.unit = unit.to_string();
        Ok(swath)
    }

    /// All points of several swaths together (e.g. consecutive orbits).
    pub fn mosaic(swaths: &[Swath], budget: &Arc<MemoryBudget>) -> Result<Swath, RasterError> {
        let with_quality = swaths.iter().all(|s| s.points.quality.is_some());
        let join = |f: &dyn Fn(&Points) -> &[f32]| {
            swaths
                .iter()
                .flat_map(|s| f(&s.points).to_vec())
                .collect::<Vec<_>>()
        };
        let quality = with_quality.then(|| join(&|p| p.quality.as_deref().unwrap_or_default()));
        let mut swath = Swath::new(
            join(&|p| &p.lon),
            join(&|p| &p.lat),
            join(&|p| &p.values),
            quality,
            budget,
        )?;
        swath.unit = swaths.first().map(|s| s.unit.clone()).unwrap_or_default();
        Ok(swath)
    }

    /// Count, min, max and mean of the valid values.
    pub fn summary(&self) -> (usize, f64, f64, f64) {
        let values: Vec<f64> = (0..self.len())
            .filter(|&i| self.is_valid(i))
            .map(|i| f64::from(self.points.values[i]))
            .collect();
        let n = values.len();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = if n == 0 {
            f64::NAN
        } else {
            values.iter().sum::<f64>() / n as f64
        };
        (n, min, max, mean)
    }

    /// The valid point with the largest value, as `(lon, lat, value)`
    /// (the first one on ties): where a plume peaks.
    pub fn peak(&self) -> Option<(f64, f64, f64)> {
        let p = &self.points;
        (0..self.len())
            .filter(|&i| self.is_valid(i))
            .fold(None::<usize>, |best, i| match best {
                Some(b) if p.values[b] >= p.values[i] => Some(b),
                _ => Some(i),
            })
            .map(|i| {
                (
                    f64::from(p.lon[i]),
                    f64::from(p.lat[i]),
                    f64::from(p.values[i]),
                )
            })
    }

    /// The lon/lat box of the valid points.
    pub fn bounds(&self) -> Option<Bounds> {
        let p = &self.points;
        let valid = (0..self.len()).filter(|&i| self.is_valid(i));
        let b = valid.fold(
            (
                f64::INFINITY,
                f64::INFINITY,
                f64::NEG_INFINITY,
                f64::NEG_INFINITY,
            ),
            |b, i| {
                let (x, y) = (f64::from(p.lon[i]), f64::from(p.lat[i]));
                (b.0.min(x), b.1.min(y), b.2.max(x), b.3.max(y))
            },
        );
        b.0.is_finite().then_some(b)
    }

    /// Interpolates the points onto a lon/lat grid of `resolution` degrees
    /// covering `bounds`, rows in parallel on `pool`. Cells farther than
    /// `max_distance` degrees from every point stay missing, so gaps
    /// between orbits are not invented.
    pub fn grid(
        &self,
        request: &GridRequest,
        compute: &crate::raster::Compute,
    ) -> Result<Raster, RasterError> {
        let (x0, y0, x1, y1) = request.bounds;
        let resolution = request.resolution;
        if resolution.is_nan() || resolution <= 0.0 || x1 <= x0 || y1 <= y0 {
            return Err(RasterError::Invalid(format!(
                "cannot grid {:?} at {resolution} degrees: give bounds with min < max and a positive resolution",
                request.bounds
            )));
        }
        let (width, height) = grid_size(request)?;
        let triangulation_bytes = self.valid_points() as u64 * 200;
        let _building = compute
            .budget
            .charge(triangulation_bytes, "triangulating the swath")?;
        let _cells = compute.budget.charge(
            (width * height * 4) as u64,
            &format!("a {width} x {height} gridded raster"),
        )?;
        compute.cancel.check()?;
        let triangulation = self.triangulate()?;
        compute.cancel.check()?;
        let mut values = vec![f32::NAN; width * height];
        compute.pool.install(|| {
            use rayon::prelude::*;
            values
                .par_chunks_mut(GRID_ROWS * width)
                .enumerate()
                .try_for_each(|(i, rows)| {
                    let first = i * GRID_ROWS;
                    interpolate_rows(&triangulation, first, rows, width, request, compute.cancel)
                })
        })?;
        let grid = Grid {
            width,
            height,
            transform: GeoTransform([x0, resolution, 0.0, y1, 0.0, -resolution]),
            crs: wgs84_wkt()?,
        };
        let mut raster = Raster::from_values(grid, values, compute.budget)?;
        raster.unit = self.unit.clone();
        Ok(raster)
    }

    fn triangulate(&self) -> Result<DelaunayTriangulation<Sample>, RasterError> {
        let p = &self.points;
        let samples: Vec<Sample> = (0..self.len())
            .filter(|&i| self.is_valid(i))
            .map(|i| Sample {
                position: Point2::new(f64::from(p.lon[i]), f64::from(p.lat[i])),
                value: f64::from(p.values[i]),
            })
            .collect();
        if samples.is_empty() {
            return Err(RasterError::Invalid(
                "the swath has no valid points to grid (clipped away, or all filtered out)".into(),
            ));
        }
        DelaunayTriangulation::bulk_load(samples).map_err(|e| {
            RasterError::Invalid(format!("the swath points cannot be triangulated: {e:?}"))
        })
    }
}

/// What `grid` should produce: lon/lat bounds, resolution (degrees),
/// method, and the distance (degrees) beyond which cells stay missing.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GridRequest {
    pub bounds: Bounds,
    pub resolution: f64,
    pub method: Gridding,
    pub max_distance: f64,
}

/// Grid rows a thread fills at a time.
const GRID_ROWS: usize = 16;

/// The most cells a grid may have (a tiny resolution over a large area is a
/// mistake, not a grid): 1 billion, 4 GB of values.
const MAX_CELLS: f64 = 1e9;

/// The grid's width and height in cells, or why it cannot be made.
fn grid_size(request: &GridRequest) -> Result<(usize, usize), RasterError> {
    let (x0, y0, x1, y1) = request.bounds;
    let width = ((x1 - x0) / request.resolution).round().max(1.0);
    let height = ((y1 - y0) / request.resolution).round().max(1.0);
    if width * height > MAX_CELLS {
        return Err(RasterError::Invalid(format!(
            "a grid of {width} x {height} cells at {} degrees is too large: \
             use a coarser resolution or smaller bounds",
            request.resolution
        )));
    }
    Ok((width as usize, height as usize))
}

/// Fills `values`, the grid rows (of `width` cells) from `first` on; each call has its own
/// interpolators (they keep scratch buffers), so groups of rows can run on
/// different threads. The interrupt and the deadline are checked every row.
fn interpolate_rows(
    triangulation: &DelaunayTriangulation<Sample>,
    first: usize,
    values: &mut [f32],
    width: usize,
    request: &GridRequest,
    cancel: &cleope_sandbox::Cancel,
) -> Result<(), cleope_sandbox::Stop> {
    let (x0, _, _, y1) = request.bounds;
    let natural = triangulation.natural_neighbor();
    let barycentric = triangulation.barycentric();
    for (i, out) in values.chunks_mut(width).enumerate() {
        cancel.check()?;
        let lat = y1 - ((first + i) as f64 + 0.5) * request.resolution;
        for (col, value) in out.iter_mut().enumerate() {
            let here = Point2::new(x0 + (col as f64 + 0.5) * request.resolution, lat);
            let near = triangulation
                .nearest_neighbor(here)
                .filter(|v| v.position().distance_2(here).sqrt() <= request.max_distance);
            let interpolated = match (near, request.method) {
                (None, _) => None,
                (Some(v), Gridding::Nearest) => Some(v.data().value),
                (Some(_), Gridding::Linear) => barycentric.interpolate(|v| v.data().value, here),
                (Some(_), Gridding::NaturalNeighbour) => {
                    natural.interpolate(|v| v.data().value, here)
                }
            };
            *value = interpolated.map_or(f32::NAN, |v| v as f32);
        }
    }
    Ok(())
}

/// A point the triangulation stores.
#[derive(Debug, Clone, Copy)]
struct Sample {
    position: Point2<f64>,
    value: f64,
}

impl HasPosition for Sample {
    type Scalar = f64;

    fn position(&self) -> Point2<f64> {
        self.position
    }
}

/// Reads every value of band 1 of a GDAL path, with fill values as NaN.
fn read_array(path: &str) -> Result<(Vec<f32>, String), RasterError> {
    let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
        path: path.to_string(),
        message: e.to_string(),
    };
    let dataset = crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
    let band = dataset.rasterband(1).map_err(gdal_error)?;
    let (width, height) = band.size();
    let mut values = vec![0.0f32; width * height];
    band.read_into_slice::<f32>((0, 0), (width, height), (width, height), &mut values, None)
        .map_err(gdal_error)?;
    let nodata = band.no_data_value().map(|n| n as f32);
    let (scale, offset) = (
        band.scale().unwrap_or(1.0) as f32,
        band.offset().unwrap_or(0.0) as f32,
    );
    for value in values.iter_mut() {
        if Some(*value) == nodata || value.abs() > 9.9e36 {
            *value = f32::NAN;
        } else {
            *value = *value * scale + offset;
        }
    }
    Ok((values, band.unit()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::compute::with_test_compute;

    fn budget() -> Arc<MemoryBudget> {
        MemoryBudget::with_usage(1 << 30, || 0)
    }

    /// A 40 x 30 swath over 10–14 E, 40–43 N whose value is lon + lat.
    fn plane_swath() -> Swath {
        let (mut lon, mut lat, mut values, mut quality) = (vec![], vec![], vec![], vec![]);
        for r in 0..30 {
            for c in 0..40 {
                let (x, y) = (
                    10.0 + c as f32 * 0.1 + r as f32 * 0.003,
                    40.0 + r as f32 * 0.1,
                );
                lon.push(x);
                lat.push(y);
                values.push(x + y);
                quality.push(if c % 10 == 0 { 0.5 } else { 1.0 });
            }
        }
        Swath::new(lon, lat, values, Some(quality), &budget()).unwrap()
    }

    #[test]
    fn the_peak_skips_missing_values_and_says_where_it_is() {
        let swath = Swath::new(
            vec![1.0, 2.0, 3.0, 4.0],
            vec![5.0, 6.0, 7.0, f32::NAN],
            vec![0.5, f32::NAN, 0.9, 9.0],
            None,
            &budget(),
        )
        .unwrap();
        assert_eq!(swath.peak(), Some((3.0, 7.0, f64::from(0.9f32))));
        let empty = Swath::new(vec![], vec![], vec![], None, &budget()).unwrap();
        assert_eq!(empty.peak(), None);
    }

    #[test]
    fn linear_gridding_of_a_plane_is_exact_inside() {
        with_test_compute(|compute| {
            let request = GridRequest {
                bounds: (11.0, 41.0, 13.0, 42.0),
                resolution: 0.05,
                method: Gridding::Linear,
                max_distance: 0.3,
            };
            let raster = plane_swath().grid(&request, compute).unwrap();
            assert_eq!((raster.grid().width, raster.grid().height), (40, 20));
            let (values, w, _) = compute.decimated(&raster, 40, 20).unwrap();
            // Cell (col 10, row 5): lon 11.525, lat 41.725 → 53.25.
            assert!(
                (values[5 * w + 10] - 53.25).abs() < 1e-3,
                "{}",
                values[5 * w + 10]
            );
        });
    }

    #[test]
    fn cells_far_from_points_stay_missing() {
        with_test_compute(|compute| {
            let request = GridRequest {
                bounds: (20.0, 41.0, 21.0, 42.0),
                resolution: 0.1,
                method: Gridding::NaturalNeighbour,
                max_distance: 0.3,
            };
            let raster = plane_swath().grid(&request, compute).unwrap();
            assert_eq!(compute.stats(&raster).unwrap().count, 0);
        });
    }

    #[test]
    fn each_method_grids_the_same_in_row_groups_as_in_one_pass() {
        with_test_compute(|compute| {
            let swath = plane_swath();
            let triangulation = swath.triangulate().unwrap();
            for method in [
                Gridding::Nearest,
                Gridding::Linear,
                Gridding::NaturalNeighbour,
            ] {
                let request = GridRequest {
                    bounds: (10.0, 40.0, 14.0, 43.0),
                    resolution: 0.07,
                    method,
                    max_distance: 0.3,
                };
                let raster = swath.grid(&request, compute).unwrap();
                let (width, height) = grid_size(&request).unwrap();
                let mut one_pass = vec![0.0; width * height];
                interpolate_rows(
                    &triangulation,
                    0,
                    &mut one_pass,
                    width,
                    &request,
                    compute.cancel,
                )
                .unwrap();
                let (gridded, _, _) = compute.decimated(&raster, width, height).unwrap();
                assert!(
                    gridded
                        .iter()
                        .zip(&one_pass)
                        .all(|(a, b)| a.to_bits() == b.to_bits()),
                    "{method:?}"
                );
            }
        });
    }

    #[test]
    fn an_interrupt_stops_a_large_grid_and_an_absurd_one_is_refused() {
        with_test_compute(|compute| {
            let fine = GridRequest {
                bounds: (10.0, 40.0, 14.0, 43.0),
                resolution: 0.0005,
                method: Gridding::NaturalNeighbour,
                max_distance: 0.3,
            };
            let swath = plane_swath();
            let (stopped, after) = std::thread::scope(|scope| {
                scope.spawn(|| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    compute.cancel.interrupt();
                });
                let started = std::time::Instant::now();
                (swath.grid(&fine, compute), started.elapsed())
            });
            assert!(
                matches!(
                    stopped,
                    Err(RasterError::Stopped(cleope_sandbox::Stop::Interrupted))
                ),
                "{stopped:?}"
            );
            assert!(after < std::time::Duration::from_secs(1), "{after:?}");
            let absurd = GridRequest {
                resolution: 1e-12,
                ..fine
            };
            let error = swath.grid(&absurd, compute).unwrap_err().to_string();
            assert!(error.contains("too large"), "{error}");
        });
    }

    #[test]
    fn clip_quality_scale_and_mosaic() {
        let swath = plane_swath();
        let clipped = swath.clip((10.0, 40.0, 11.0, 41.0), &budget()).unwrap();
        assert!(
            clipped.len() > 50 && clipped.len() < 200,
            "{}",
            clipped.len()
        );
        let good = swath.filter_quality(0.75, &budget()).unwrap();
        assert_eq!(good.len(), 30 * 36);
        let scaled = good.scaled(2.0, "x2", &budget()).unwrap();
        assert!((scaled.summary().3 - 2.0 * good.summary().3).abs() < 1e-3);
        let both = Swath::mosaic(&[clipped.clone(), clipped], &budget()).unwrap();
        assert_eq!(
            both.len(),
            2 * swath
                .clip((10.0, 40.0, 11.0, 41.0), &budget())
                .unwrap()
                .len()
        );
        assert!(Swath::new(vec![1.0], vec![], vec![1.0], None, &budget()).is_err());
    }

    /// S5P columns in mol/m² times Avogadro's number and more: beyond
    /// float32's 3.4e38 the points used to vanish from every statistic.
    #[test]
    fn scaling_beyond_float32_is_an_error_not_lost_points() {
        let swath = Swath::new(
            vec![1.0, 2.0, 3.0],
            vec![1.0, 2.0, 3.0],
            vec![0.5, 2.0e19, f32::NAN],
            None,
            &budget(),
        )
        .unwrap();
        let error = swath
            .scaled(6.02214e19, "molecules/cm2", &budget())
            .unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("1 of 2 values") && message.contains("3.4e38"),
            "{message}"
        );
        let fine = swath.scaled(6.02214e19 / 1e20, "x", &budget()).unwrap();
        assert_eq!(fine.valid_points(), 2, "the missing value stays missing");
    }
}
