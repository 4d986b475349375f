//! Terminal operations: statistics, histograms, quantiles, decimated reads
//! and saving, evaluated block by block in parallel.

use super::grid::Window;
use super::{Raster, RasterError};
use crate::validity::{is_valid, is_valid_f64};
use cleope_sandbox::{Cancel, MemoryBudget};
use gdal::DriverManager;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use rayon::prelude::*;
use std::path::Path;
use std::sync::Arc;

/// Pixels per side of an evaluation block. Sentinel-2's JP2 bands are
/// tiled 1024 x 1024, so a block per tile decodes each tile once (GDAL
/// keeps decoded tiles only while a block's dataset is open).
pub const BLOCK_SIZE: usize = 1024;

/// Where evaluation runs and what it charges.
pub struct Compute<'a> {
    pub pool: &'a rayon::ThreadPool,
    pub budget: &'a Arc<MemoryBudget>,
    pub cancel: &'a Cancel,
}

/// Runs `work` with a pool of 2 threads, a budget of 16 GiB that counts
/// nothing else, and a run of 10 minutes: for tests of code that computes
/// (this crate's and those of the crates above it).
pub fn with_test_compute<T>(work: impl FnOnce(&Compute) -> T) -> T {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let cancel = Cancel::default();
    cancel.start_run(std::time::Duration::from_secs(600));
    let budget = MemoryBudget::with_usage(1 << 34, || 0);
    work(&Compute {
        pool: &pool,
        budget: &budget,
        cancel: &cancel,
    })
}

/// Statistics of the valid pixels (see [`crate::validity`]); with none,
/// every moment is NaN.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Stats {
    /// Valid pixels.
    pub count: u64,
    /// Pixels that are missing (nodata, masked, or infinite).
    pub missing: u64,
    pub min: f64,
    pub max: f64,
    pub mean: f64,
    /// Population standard deviation.
    pub std: f64,
    sum_of_squares: f64,
}

impl Stats {
    const EMPTY: Stats = Stats {
        count: 0,
        missing: 0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
        mean: 0.0,
        std: f64::NAN,
        sum_of_squares: 0.0,
    };

    fn of(values: &[f32]) -> Stats {
        let mut stats = Stats::EMPTY;
        for &value in values {
            if !is_valid(value) {
                stats.missing += 1;
                continue;
            }
            let value = f64::from(value);
            stats.count += 1;
            let delta = value - stats.mean;
            stats.mean += delta / stats.count as f64;
            stats.sum_of_squares += delta * (value - stats.mean);
            stats.min = stats.min.min(value);
            stats.max = stats.max.max(value);
        }
        stats.finish()
    }

    /// Chan et al.'s pairwise update: merging partial results is exact
    /// enough for any block order.
    fn merge(self, other: Stats) -> Stats {
        if other.count == 0 {
            return Stats {
                missing: self.missing + other.missing,
                ..self
            };
        }
        if self.count == 0 {
            return Stats {
                missing: self.missing + other.missing,
                ..other
            };
        }
        let count = self.count + other.count;
        let delta = other.mean - self.mean;
        let mean = self.mean + delta * other.count as f64 / count as f64;
        let sum_of_squares = self.sum_of_squares
            + other.sum_of_squares
            + delta * delta * self.count as f64 * other.count as f64 / count as f64;
        Stats {
            count,
            missing: self.missing + other.missing,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
            mean,
            std: 0.0,
            sum_of_squares,
        }
        .finish()
    }

    /// Every pixel looked at: valid and missing.
    pub fn total(&self) -> u64 {
        self.count + self.missing
    }

    fn finish(mut self) -> Stats {
        if self.count == 0 {
            (self.min, self.max, self.mean, self.std) = (f64::NAN, f64::NAN, f64::NAN, f64::NAN);
        } else {
            self.std = (self.sum_of_squares / self.count as f64).sqrt();
        }
        self
    }
}

/// Counts of valid pixels in equal bins between `min` and `max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    pub min: f64,
    pub max: f64,
    pub counts: Vec<u64>,
}

impl Histogram {
    fn empty(min: f64, max: f64, bins: usize) -> Self {
        Histogram {
            min,
            max,
            counts: vec![0; bins],
        }
    }

    fn add(&mut self, values: &[f32]) {
        let bins = self.counts.len();
        let width = (self.max - self.min) / bins as f64;
        for &value in values {
            let value = f64::from(value);
            if !is_valid_f64(value) || value < self.min || value > self.max {
                continue;
            }
            let bin = if width > 0.0 {
                ((value - self.min) / width) as usize
            } else {
                0
            };
            self.counts[bin.min(bins - 1)] += 1;
        }
    }

    fn merge(mut self, other: Histogram) -> Histogram {
        self.counts
            .iter_mut()
            .zip(other.counts)
            .for_each(|(a, b)| *a += b);
        self
    }

    /// The lower edges of the bins, then the upper edge of the last one.
    pub fn edges(&self) -> Vec<f64> {
        let bins = self.counts.len();
        (0..=bins)
            .map(|i| self.min + (self.max - self.min) * i as f64 / bins as f64)
            .collect()
    }
}

/// Formats `save` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SaveFormat {
    GeoTiff,
    CloudOptimizedGeoTiff,
    NetCdf,
}

impl SaveFormat {
    /// The format a file name asks for: `.nc` is netCDF, `.cog.tif` a COG, else GeoTIFF.
    pub fn from_path(path: &Path) -> SaveFormat {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_lowercase())
            .unwrap_or_default();
        if name.ends_with(".nc") {
            SaveFormat::NetCdf
        } else if name.ends_with(".cog.tif") || name.ends_with(".cog.tiff") {
            SaveFormat::CloudOptimizedGeoTiff
        } else {
            SaveFormat::GeoTiff
        }
    }
}

/// Bins used to locate quantiles; the error is at most one bin width,
/// (max - min) / 65536, far below what a map or a table shows.
const QUANTILE_BINS: usize = 1 << 16;

impl Compute<'_> {
    /// Evaluates every block of `raster` in parallel and maps each to a value.
    fn map_blocks<T: Send>(
        &self,
        raster: &Raster,
        f: impl Fn(Window, &[f32]) -> T + Sync,
    ) -> Result<Vec<T>, RasterError> {
        let blocks = Window::full(raster.grid().width, raster.grid().height).blocks(BLOCK_SIZE);
        self.pool.install(|| {
            blocks
                .par_iter()
                .map(|&window| self.block(raster, window).map(|v| f(window, &v)))
                .collect()
        })
    }

    /// Evaluates one block, after checking the interrupt and charging its buffers.
    fn block(&self, raster: &Raster, window: Window) -> Result<Vec<f32>, RasterError> {
        self.cancel.check()?;
        let bytes = (window.pixels() * raster.root().buffers() * std::mem::size_of::<f32>()) as u64;
        let _charge = self.budget.charge(bytes, "a raster block")?;
        let mut values = vec![0.0; window.pixels()];
        raster.root().eval(
            window,
            (window.width, window.height),
            &mut values,
            self.cancel,
        )?;
        Ok(values)
    }

    /// Count, missing, min, max, mean and standard deviation of the valid pixels.
    pub fn stats(&self, raster: &Raster) -> Result<Stats, RasterError> {
        let parts = self.map_blocks(raster, |_, values| Stats::of(values))?;
        Ok(parts.into_iter().fold(Stats::EMPTY, Stats::merge).finish())
    }

    /// A histogram of `bins` equal bins over `range` (default: min to max).
    pub fn histogram(
        &self,
        raster: &Raster,
        bins: usize,
        range: Option<(f64, f64)>,
    ) -> Result<Histogram, RasterError> {
        let (min, max) = match range {
            Some(range) => range,
            None => {
                let stats = self.stats(raster)?;
                (stats.min, stats.max)
            }
        };
        if !(min.is_finite() && max.is_finite()) || bins == 0 {
            return Ok(Histogram::empty(0.0, 0.0, bins.max(1)));
        }
        let parts = self.map_blocks(raster, |_, values| {
            let mut histogram = Histogram::empty(min, max, bins);
            histogram.add(values);
            histogram
        })?;
        Ok(parts
            .into_iter()
            .fold(Histogram::empty(min, max, bins), Histogram::merge))
    }

    /// The values below which the fractions `levels` (0 to 1) of the valid
    /// pixels lie, located in a 65,536-bin histogram and interpolated in the bin.
    pub fn quantiles(&self, raster: &Raster, levels: &[f64]) -> Result<Vec<f64>, RasterError> {
        if let Some(bad) = levels.iter().find(|q| !(0.0..=1.0).contains(*q)) {
            return Err(RasterError::Invalid(format!(
                "quantile {bad} is not between 0 and 1"
            )));
        }
        let histogram = self.histogram(raster, QUANTILE_BINS, None)?;
        let total: u64 = histogram.counts.iter().sum();
        if total == 0 {
            return Ok(vec![f64::NAN; levels.len()]);
        }
        let width = (histogram.max - histogram.min) / QUANTILE_BINS as f64;
        Ok(levels
            .iter()
            .map(|&q| {
                let target = q * total as f64;
                let mut below = 0.0;
                for (bin, &count) in histogram.counts.iter().enumerate() {
                    let count = count as f64;
                    if below + count >= target && count > 0.0 {
                        let inside = (target - below) / count;
                        return histogram.min + width * (bin as f64 + inside);
                    }
                    below += count;
                }
                histogram.max
            })
            .collect())
    }

    /// Every pixel of the raster, in memory (charged), evaluated block by
    /// block in parallel: for image operations that need whole neighbourhoods.
    pub fn plane(&self, raster: &Raster) -> Result<super::imageops::Plane, RasterError> {
        let grid = raster.grid();
        // The plane, and its blocks, all evaluated before they are placed.
        let bytes = 2 * (grid.width * grid.height * std::mem::size_of::<f32>()) as u64;
        let purpose = format!(
            "a {} x {} raster in memory (clip it to your area first)",
            grid.width, grid.height
        );
        let _charge = self.budget.charge(bytes, &purpose)?;
        let mut values = vec![0.0f32; grid.width * grid.height];
        let blocks = self.map_blocks(raster, |window, block| (window, block.to_vec()))?;
        for (window, block) in blocks {
            for row in 0..window.height {
                let start = (window.row + row) * grid.width + window.col;
                values[start..start + window.width]
                    .copy_from_slice(&block[row * window.width..(row + 1) * window.width]);
            }
        }
        Ok(super::imageops::Plane {
            width: grid.width,
            height: grid.height,
            values,
        })
    }

    /// The whole raster at most `max_width` x `max_height` pixels (aspect
    /// kept), read decimated: a quicklook never loads the full resolution.
    pub fn decimated(
        &self,
        raster: &Raster,
        max_width: usize,
        max_height: usize,
    ) -> Result<(Vec<f32>, usize, usize), RasterError> {
        let grid = raster.grid();
        let factor = (grid.width as f64 / max_width.max(1) as f64)
            .max(grid.height as f64 / max_height.max(1) as f64)
            .max(1.0);
        let width = ((grid.width as f64 / factor).round() as usize).max(1);
        let height = ((grid.height as f64 / factor).round() as usize).max(1);
        self.cancel.check()?;
        let bytes = (width * height * raster.root().buffers() * std::mem::size_of::<f32>()) as u64;
        let _charge = self.budget.charge(bytes, "a quicklook")?;
        let mut values = vec![0.0; width * height];
        raster.root().eval(
            Window::full(grid.width, grid.height),
            (width, height),
            &mut values,
            self.cancel,
        )?;
        Ok((values, width, height))
    }

    /// Writes the raster to `target` as 32-bit floats with NaN as nodata.
    /// Blocks are computed in parallel, a batch at a time, and written in
    /// order to a temporary file; `accept` sees its final size (to charge
    /// the disk quota) before it replaces `target`, so a refused or failed
    /// save leaves `target` as it was.
    pub fn save(
        &self,
        raster: &Raster,
        target: &Path,
        format: SaveFormat,
        accept: impl FnOnce(u64) -> Result<(), RasterError>,
    ) -> Result<(), RasterError> {
        let folder = target.parent().unwrap_or(Path::new("."));
        // Named for this process, so a session finding them after it died removes them.
        let temp =
            cleope_sandbox::files::temporary_in(folder, ".tif").map_err(|e| io_error(target, e))?;
        self.write_geotiff(raster, temp.path())?;
        let file = match format {
            SaveFormat::GeoTiff => temp,
            SaveFormat::CloudOptimizedGeoTiff | SaveFormat::NetCdf => {
                let (driver, suffix) = match format {
                    SaveFormat::NetCdf => ("netCDF", ".nc"),
                    _ => ("COG", ".tif"),
                };
                let converted = cleope_sandbox::files::temporary_in(folder, suffix)
                    .map_err(|e| io_error(target, e))?;
                copy_as(temp.path(), converted.path(), driver)?;
                converted
            }
        };
        let size = file
            .as_file()
            .metadata()
            .map_err(|e| io_error(target, e))?
            .len();
        accept(size)?;
        cleope_sandbox::files::make_readable(file.as_file()).map_err(|e| io_error(target, e))?;
        file.persist(target)
            .map_err(|e| io_error(target, e.error))?;
        Ok(())
    }

    fn write_geotiff(&self, raster: &Raster, path: &Path) -> Result<(), RasterError> {
        crate::gdal::library::ensure_loaded()?;
        let grid = raster.grid();
        let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
            path: path.display().to_string(),
            message: e.to_string(),
        };
        let driver = DriverManager::get_driver_by_name("GTiff").map_err(gdal_error)?;
        // ZSTD at a low level with the floating-point predictor compresses
        // about as well as DEFLATE and several times faster; GDAL spreads
        // the compression over the session's threads.
        let threads = format!("NUM_THREADS={}", self.pool.current_num_threads());
        let options = RasterCreationOptions::from_iter([
            "TILED=YES",
            "COMPRESS=ZSTD",
            "ZSTD_LEVEL=1",
            "PREDICTOR=3",
            "BIGTIFF=IF_SAFER",
            threads.as_str(),
        ]);
        let mut dataset = driver
            .create_with_band_type_with_options::<f32, _>(
                path,
                grid.width,
                grid.height,
                1,
                &options,
            )
            .map_err(gdal_error)?;
        dataset
            .set_geo_transform(&grid.transform.0)
            .map_err(gdal_error)?;
        if !grid.crs.is_empty() {
            dataset
                .set_spatial_ref(&SpatialRef::from_wkt(&grid.crs).map_err(gdal_error)?)
                .map_err(gdal_error)?;
        }
        let mut band = dataset.rasterband(1).map_err(gdal_error)?;
        band.set_no_data_value(Some(f64::NAN)).map_err(gdal_error)?;
        self.in_order(raster, |window, values| {
            let mut buffer = Buffer::new((window.width, window.height), values);
            band.write(
                (window.col as isize, window.row as isize),
                (window.width, window.height),
                &mut buffer,
            )
            .map_err(gdal_error)
        })?;
        dataset.close().map_err(gdal_error)
    }

    /// Evaluates the blocks of `raster` on the pool, a batch at a time, and
    /// hands them to `write` in order on this thread (GDAL's datasets stay
    /// on one thread). The next batch is computed while this one is written
    /// and compressed, so neither the pool nor the encoder waits for the
    /// other; at most three batches are in memory (one being written, one
    /// waiting in the channel, one being computed).
    fn in_order(
        &self,
        raster: &Raster,
        mut write: impl FnMut(Window, Vec<f32>) -> Result<(), RasterError>,
    ) -> Result<(), RasterError> {
        let grid = raster.grid();
        let all_blocks = Window::full(grid.width, grid.height).blocks(BLOCK_SIZE);
        // Borrowed by both threads: the batches sent are slices of it.
        let blocks = &all_blocks;
        let batch = self.pool.current_num_threads() * 2;
        let (computed, to_write) = std::sync::mpsc::sync_channel(1);
        std::thread::scope(|scope| {
            scope.spawn(move || {
                for chunk in blocks.chunks(batch) {
                    let values: Result<Vec<Vec<f32>>, RasterError> = self
                        .pool
                        .install(|| chunk.par_iter().map(|&w| self.block(raster, w)).collect());
                    let failed = values.is_err();
                    // The writer has stopped (it failed) when nobody receives.
                    if computed.send(values.map(|v| (chunk, v))).is_err() || failed {
                        return;
                    }
                }
            });
            for batch in to_write {
                let (windows, values) = batch?;
                for (&window, values) in windows.iter().zip(values) {
                    write(window, values)?;
                }
            }
            Ok(())
        })
    }
}

fn copy_as(source: &Path, target: &Path, driver: &str) -> Result<(), RasterError> {
    let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
        path: target.display().to_string(),
        message: e.to_string(),
    };
    let input = crate::gdal::dataset::open(source)
        .map_err(|e| RasterError::opening(&source.display().to_string(), e))?;
    let driver = DriverManager::get_driver_by_name(driver).map_err(gdal_error)?;
    let output = input
        .create_copy(
            &driver,
            target,
            &RasterCreationOptions::from_iter(["COMPRESS=DEFLATE"]),
        )
        .map_err(gdal_error)?;
    output.close().map_err(gdal_error)
}

fn io_error(path: &Path, error: std::io::Error) -> RasterError {
    RasterError::Gdal {
        path: path.display().to_string(),
        message: error.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::{Binary, GeoTransform, Reduction, Unary};
    use gdal::raster::RasterCreationOptions;

    /// Writes a UTM-like UInt16 GeoTIFF whose pixel (col, row) holds `f(col, row)`.
    fn write_band(
        path: &Path,
        width: usize,
        height: usize,
        nodata: Option<f64>,
        f: impl Fn(usize, usize) -> u16,
    ) {
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut dataset = driver
            .create_with_band_type_with_options::<u16, _>(
                path,
                width,
                height,
                1,
                &RasterCreationOptions::default(),
            )
            .unwrap();
        dataset
            .set_geo_transform(&[500_000.0, 10.0, 0.0, 4_200_000.0, 0.0, -10.0])
            .unwrap();
        dataset
            .set_spatial_ref(&SpatialRef::from_epsg(32633).unwrap())
            .unwrap();
        let mut band = dataset.rasterband(1).unwrap();
        band.set_no_data_value(nodata).unwrap();
        let values: Vec<u16> = (0..height)
            .flat_map(|r| (0..width).map(move |c| (c, r)))
            .map(|(c, r)| f(c, r))
            .collect();
        band.write(
            (0, 0),
            (width, height),
            &mut Buffer::new((width, height), values),
        )
        .unwrap();
    }

    struct Fixture {
        dir: tempfile::TempDir,
        pool: rayon::ThreadPool,
        budget: Arc<MemoryBudget>,
        cancel: Cancel,
    }

    impl Fixture {
        fn new() -> Self {
            let cancel = Cancel::default();
            cancel.start_run(std::time::Duration::from_secs(60));
            Fixture {
                dir: tempfile::tempdir().unwrap(),
                pool: rayon::ThreadPoolBuilder::new()
                    .num_threads(2)
                    .build()
                    .unwrap(),
                budget: MemoryBudget::with_usage(1 << 30, || 0),
                cancel,
            }
        }

        fn compute(&self) -> Compute<'_> {
            Compute {
                pool: &self.pool,
                budget: &self.budget,
                cancel: &self.cancel,
            }
        }

        fn path(&self, name: &str) -> std::path::PathBuf {
            self.dir.path().join(name)
        }
    }

    #[test]
    fn stats_over_many_blocks_match_a_direct_computation() {
        let f = Fixture::new();
        let path = f.path("b.tif");
        write_band(&path, 1200, 700, Some(0.0), |c, r| {
            ((c * 7 + r * 3) % 1000) as u16
        });
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let stats = f.compute().stats(&raster).unwrap();
        let values: Vec<f64> = (0..700)
            .flat_map(|r| (0..1200).map(move |c| ((c * 7 + r * 3) % 1000) as f64))
            .filter(|&v| v != 0.0)
            .collect();
        let mean = values.iter().sum::<f64>() / values.len() as f64;
        let std =
            (values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / values.len() as f64).sqrt();
        assert_eq!(stats.count, values.len() as u64);
        assert_eq!(
            stats.missing,
            1200 * 700 - values.len() as u64,
            "nodata pixels are missing"
        );
        assert_eq!((stats.min, stats.max), (1.0, 999.0));
        assert!((stats.mean - mean).abs() < 1e-9 && (stats.std - std).abs() < 1e-6);
    }

    /// A real GRD's zero border: `db()` of it is -inf, which is not a value.
    #[test]
    fn infinities_and_logs_of_non_positive_values_are_missing_in_every_summary() {
        let f = Fixture::new();
        let path = f.path("border.tif");
        // A 0 border (no nodata declared, as in real GRDs) around 100s.
        write_band(&path, 300, 200, None, |c, r| {
            if c < 10 || r < 10 { 0 } else { 100 }
        });
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let inside = 290 * 190;
        for (name, op, value) in [
            ("db", Unary::Decibel, 20.0),
            ("log10", Unary::Log10, 2.0),
            ("ln", Unary::Ln, 100f64.ln()),
        ] {
            let logged = raster.unary(op);
            let stats = f.compute().stats(&logged).unwrap();
            assert_eq!(stats.count, inside, "{name}: the zeros are not counted");
            assert_eq!(stats.total(), 300 * 200, "{name}");
            assert!((stats.mean - value).abs() < 1e-5, "{name}: {stats:?}");
            assert!(
                (stats.min - value).abs() < 1e-5 && stats.std < 1e-4,
                "{name}"
            );
            let q = f.compute().quantiles(&logged, &[0.0, 0.5]).unwrap();
            assert!(q.iter().all(|v| (v - value).abs() < 1e-3), "{name}: {q:?}");
            let histogram = f.compute().histogram(&logged, 4, None).unwrap();
            assert_eq!(histogram.counts.iter().sum::<u64>(), inside, "{name}");
        }
        // An infinity that reached a file (or an overflow) is missing too.
        let infinite = raster.with_scalar(Binary::Multiply, f32::MAX, false);
        let stats = f
            .compute()
            .stats(&(infinite.with_scalar(Binary::Multiply, 10.0, false)))
            .unwrap();
        assert_eq!((stats.count, stats.missing), (60_000 - inside, inside));
        assert_eq!((stats.min, stats.max), (0.0, 0.0));
        let stacked = Raster::reduce(
            &[raster.unary(Unary::Decibel), raster.clone()],
            Reduction::Min,
        )
        .unwrap();
        let corner = f.compute().decimated(&stacked, 300, 200).unwrap().0[0];
        assert_eq!(corner, 0.0, "the stack's minimum skips the -inf layer");
        let valid = f
            .compute()
            .stats(&raster.unary(Unary::Decibel).unary(Unary::IsValid))
            .unwrap();
        assert!((valid.mean - inside as f64 / 60_000.0).abs() < 1e-12);
    }

    #[test]
    fn statistics_of_no_valid_pixel_are_all_missing() {
        let f = Fixture::new();
        let grid = Raster::open(
            {
                let path = f.path("z.tif");
                write_band(&path, 700, 600, Some(0.0), |_, _| 0);
                path
            }
            .to_str()
            .unwrap(),
            1,
        )
        .unwrap();
        let stats = f.compute().stats(&grid).unwrap();
        assert_eq!(
            (stats.count, stats.missing, stats.total()),
            (0, 420_000, 420_000)
        );
        for (name, value) in [
            ("mean", stats.mean),
            ("min", stats.min),
            ("max", stats.max),
            ("std", stats.std),
        ] {
            assert!(value.is_nan(), "{name} is {value}, not NaN");
        }
    }

    #[test]
    fn a_normalized_difference_is_computed_per_pixel() {
        let f = Fixture::new();
        let (nir, red) = (f.path("nir.tif"), f.path("red.tif"));
        write_band(&nir, 600, 600, None, |c, _| 3000 + c as u16);
        write_band(&red, 600, 600, None, |_, r| 1000 + r as u16);
        let nir = Raster::open(nir.to_str().unwrap(), 1).unwrap();
        let red = Raster::open(red.to_str().unwrap(), 1).unwrap();
        let ndvi = Raster::normalized_difference(&nir, &red).unwrap();
        let (values, w, h) = f.compute().decimated(&ndvi, 600, 600).unwrap();
        assert_eq!((w, h), (600, 600));
        let expected = |c: usize, r: usize| {
            ((3000 + c) as f32 - (1000 + r) as f32) / ((3000 + c + 1000 + r) as f32)
        };
        assert!((values[599 * 600 + 17] - expected(17, 599)).abs() < 1e-6);
        let vegetated = ndvi.with_scalar(Binary::Greater, 0.5, false);
        let share = f.compute().stats(&vegetated).unwrap().mean;
        let direct = (0..600)
            .flat_map(|r| (0..600).map(move |c| (c, r)))
            .filter(|&(c, r)| expected(c, r) > 0.5)
            .count();
        assert!((share - direct as f64 / 360_000.0).abs() < 1e-12);
    }

    #[test]
    fn clipping_narrows_the_window_without_reading() {
        let f = Fixture::new();
        let path = f.path("c.tif");
        write_band(&path, 100, 100, None, |c, r| (c + 100 * r) as u16);
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let clip = raster
            .clip((500_200.0, 4_199_500.0, 500_300.0, 4_199_600.0))
            .unwrap();
        assert_eq!((clip.grid().width, clip.grid().height), (10, 10));
        let stats = f.compute().stats(&clip).unwrap();
        assert_eq!(
            (stats.min, stats.max),
            ((20 + 100 * 40) as f64, (29 + 100 * 49) as f64)
        );
        let outside = raster.clip((0.0, 0.0, 1.0, 1.0)).unwrap_err();
        assert!(
            outside.to_string().contains("does not overlap"),
            "{outside}"
        );
    }

    #[test]
    fn rasters_on_different_grids_do_not_combine() {
        let f = Fixture::new();
        let path = f.path("d.tif");
        write_band(&path, 50, 50, None, |_, _| 1);
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let part = raster
            .window(Window {
                col: 0,
                row: 0,
                width: 10,
                height: 10,
            })
            .unwrap();
        let error = raster.binary(Binary::Add, &part).unwrap_err();
        assert!(error.to_string().contains("different grids"), "{error}");
    }

    #[test]
    fn quantiles_and_histograms_of_a_known_ramp() {
        let f = Fixture::new();
        let path = f.path("q.tif");
        write_band(&path, 1000, 100, None, |c, _| c as u16);
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let q = f.compute().quantiles(&raster, &[0.02, 0.5, 0.98]).unwrap();
        for (got, want) in q.iter().zip([20.0, 500.0, 980.0]) {
            assert!((got - want).abs() < 1.0, "{got} vs {want}");
        }
        let histogram = f
            .compute()
            .histogram(&raster, 10, Some((0.0, 1000.0)))
            .unwrap();
        assert_eq!(histogram.counts, vec![10_000; 10]);
        assert!(f.compute().quantiles(&raster, &[1.5]).is_err());
    }

    #[test]
    fn saving_writes_a_georeferenced_file_that_reads_back() {
        let f = Fixture::new();
        let path = f.path("s.tif");
        write_band(&path, 700, 300, Some(0.0), |c, r| ((c + r) % 50) as u16);
        let raster = Raster::open(path.to_str().unwrap(), 1)
            .unwrap()
            .with_scalar(Binary::Multiply, 0.5, false);
        for (name, format) in [
            ("out.tif", SaveFormat::GeoTiff),
            ("out.cog.tif", SaveFormat::CloudOptimizedGeoTiff),
            ("out.nc", SaveFormat::NetCdf),
        ] {
            let target = f.path(name);
            assert_eq!(SaveFormat::from_path(&target), format);
            f.compute()
                .save(&raster, &target, format, |_| Ok(()))
                .unwrap();
            let back = Raster::open(target.to_str().unwrap(), 1).unwrap();
            assert_eq!(
                back.grid().transform,
                GeoTransform([500_000.0, 10.0, 0.0, 4_200_000.0, 0.0, -10.0]),
                "{name}"
            );
            let (a, b) = (
                f.compute().stats(&raster).unwrap(),
                f.compute().stats(&back).unwrap(),
            );
            assert_eq!(
                (a.count, a.missing, a.max),
                (b.count, b.missing, b.max),
                "{name}"
            );
        }
        let refused = f.compute().save(
            &raster,
            &f.path("refused.tif"),
            SaveFormat::GeoTiff,
            |size| Err(RasterError::Invalid(format!("{size} bytes refused"))),
        );
        assert!(
            refused.is_err() && !f.path("refused.tif").exists(),
            "a refused save leaves nothing"
        );
        let leftovers: Vec<_> = std::fs::read_dir(f.dir.path())
            .unwrap()
            .filter_map(Result::ok)
            .filter(|e| e.file_name().to_string_lossy().starts_with(".cleope-"))
            .collect();
        assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");
    }

    #[test]
    fn evaluation_stops_on_interrupt_and_on_the_memory_budget() {
        let f = Fixture::new();
        let path = f.path("i.tif");
        write_band(&path, 100, 100, None, |_, _| 1);
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        f.cancel.interrupt();
        assert!(matches!(
            f.compute().stats(&raster),
            Err(RasterError::Stopped(cleope_sandbox::Stop::Interrupted))
        ));
        f.cancel.start_run(std::time::Duration::from_secs(60));
        let tiny = MemoryBudget::with_usage(1000, || 0);
        let compute = Compute {
            pool: &f.pool,
            budget: &tiny,
            cancel: &f.cancel,
        };
        assert!(matches!(
            compute.stats(&raster),
            Err(RasterError::Stopped(cleope_sandbox::Stop::Quota(_)))
        ));
    }
}
