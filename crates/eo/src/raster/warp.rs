//! Bringing a band onto another grid with GDAL's warper: a new CRS (using
//! the geotransform, or ground control points as Sentinel-1 GRD has), a new
//! resolution, or both. The result is a warped VRT in GDAL's in-memory file
//! system, read block by block like any file: nothing is computed up front.

use super::{Node, Raster, RasterError};
use crate::gdal::dataset::{Origin, built_path};
use crate::gdal::utilities;

/// How pixel values are taken from the source grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resampling {
    Nearest,
    Bilinear,
    Cubic,
    Average,
    Mode,
}

impl Resampling {
    /// The method called `name` ("nearest", "bilinear", "cubic", "average", "mode").
    pub fn named(name: &str) -> Option<Resampling> {
        Some(match name {
            "nearest" | "near" => Resampling::Nearest,
            "bilinear" => Resampling::Bilinear,
            "cubic" => Resampling::Cubic,
            "average" => Resampling::Average,
            "mode" => Resampling::Mode,
            _ => return None,
        })
    }

    fn gdal_name(self) -> &'static str {
        match self {
            Resampling::Nearest => "near",
            Resampling::Bilinear => "bilinear",
            Resampling::Cubic => "cubic",
            Resampling::Average => "average",
            Resampling::Mode => "mode",
        }
    }
}

/// The target of a warp: any of CRS and resolution (in target units).
#[derive(Debug, Clone, PartialEq)]
pub struct WarpOptions {
    pub crs: Option<String>,
    pub resolution: Option<(f64, f64)>,
    pub resampling: Resampling,
}

/// Warps a raster that reads one band of a file (or a window of one).
/// Expressions are refused: warp each band first, then combine them.
pub fn warp(raster: &Raster, options: &WarpOptions) -> Result<Raster, RasterError> {
    let (path, band, origin) = band_path(raster)?;
    let mut args = lazy_float_warp(options.resampling, band);
    if let Some(crs) = &options.crs {
        super::crs::check_definition(crs).map_err(RasterError::FormatNotAllowed)?;
        args.extend(["-t_srs".into(), crs.clone()]);
    }
    if let Some((x, y)) = options.resolution {
        if !(x > 0.0 && y > 0.0) {
            return Err(RasterError::Invalid(format!(
                "the resolution {x} x {y} must be positive"
            )));
        }
        args.extend(["-tr".into(), x.to_string(), y.to_string()]);
    }
    let target = run_gdalwarp(&path, origin, &args)?;
    Raster::open_built(&target, 1)
}

/// Warps a raster that reads one band of a file onto `grid` exactly: its
/// CRS, extent and size (two clips of a product one pixel apart, a 20 m
/// band onto a 10 m grid). The result has `grid` itself as its grid.
pub fn onto_grid(
    raster: &Raster,
    grid: &super::Grid,
    resampling: Resampling,
) -> Result<Raster, RasterError> {
    if grid.crs.is_empty() || raster.grid().crs.is_empty() {
        return Err(RasterError::Invalid(
            "both rasters need a coordinate reference system to be aligned".into(),
        ));
    }
    // The reference's CRS came from a file: one naming another file or a
    // URL is refused as a script's would be.
    super::crs::check_definition(&grid.crs).map_err(RasterError::FormatNotAllowed)?;
    let (path, band, origin) = band_path(raster)?;
    let (x0, y0, x1, y1) = grid.bounds();
    let mut args = lazy_float_warp(resampling, band);
    args.extend(["-t_srs".into(), grid.crs.clone(), "-te".into()]);
    args.extend([x0, y0, x1, y1].map(|v| format!("{v:.17e}")));
    args.extend([
        "-ts".into(),
        grid.width.to_string(),
        grid.height.to_string(),
    ]);
    let target = run_gdalwarp(&path, origin, &args)?;
    let warped = Raster::open_built(&target, 1)?;
    Ok(warped.on_grid(grid.clone()))
}

/// gdalwarp's arguments for a lazy warp of `band` to a Float32 VRT whose
/// nodata is NaN (the engine's missing value).
fn lazy_float_warp(resampling: Resampling, band: usize) -> Vec<String> {
    let mut args: Vec<String> = ["-of", "VRT", "-r", resampling.gdal_name()]
        .into_iter()
        .chain(["-ot", "Float32", "-dstnodata", "nan"])
        .map(String::from)
        .collect();
    if band != 1 {
        args.extend(["-b".into(), band.to_string()]);
    }
    args
}

/// The file, band and origin a raster reads, when it is a plain (possibly
/// windowed) band.
fn band_path(raster: &Raster) -> Result<(String, usize, Origin), RasterError> {
    let mut node = raster.root().as_ref();
    let mut window = (0, 0);
    loop {
        match node {
            Node::Shift {
                node: inner,
                col,
                row,
            } => {
                window = (window.0 + col, window.1 + row);
                node = inner;
            }
            Node::Band { source, col, row } => {
                let (col, row) = (window.0 + col, window.1 + row);
                let grid = raster.grid();
                let whole = col == 0
                    && row == 0
                    && grid.width == source.grid.width
                    && grid.height == source.grid.height;
                if whole {
                    return Ok((source.path.clone(), source.band, source.origin));
                }
                let window_path = window_vrt(
                    &source.path,
                    source.origin,
                    source.band,
                    (col, row, grid.width, grid.height),
                )?;
                return Ok((window_path, 1, Origin::Cleope));
            }
            _ => {
                return Err(RasterError::Invalid(
                    "only bands read from files can be warped: warp (or resample) each band, \
                     then combine the results"
                        .into(),
                ));
            }
        }
    }
}

/// A VRT exposing one window of one band (what `gdal_translate -srcwin`
/// writes), so the warp starts from exactly the clipped pixels.
fn window_vrt(
    path: &str,
    origin: Origin,
    band: usize,
    (col, row, width, height): (usize, usize, usize, usize),
) -> Result<String, RasterError> {
    let target = built_path("window");
    let numbers = [band, col, row, width, height].map(|n| n.to_string());
    let args = [
        "-of",
        "VRT",
        "-b",
        &numbers[0],
        "-srcwin",
        &numbers[1],
        &numbers[2],
        &numbers[3],
        &numbers[4],
    ];
    run_translate(path, origin, &args, &target)?;
    Ok(target)
}

fn run_gdalwarp(source: &str, origin: Origin, args: &[String]) -> Result<String, RasterError> {
    let target = built_path("warp");
    utilities::warp(source, origin, args, &target).map_err(|e| RasterError::utility(source, e))?;
    Ok(target)
}

fn run_translate(
    source: &str,
    origin: Origin,
    args: &[&str],
    target: &str,
) -> Result<(), RasterError> {
    utilities::translate(source, origin, args, target).map_err(|e| RasterError::utility(source, e))
}

/// For files located by ground control points only (Sentinel-1 GRD
/// measurements): a lazy warp to the GCPs' own CRS, so they open as maps.
pub fn warp_gcp_file(path: &str, band: usize) -> Result<Raster, RasterError> {
    let args = lazy_float_warp(Resampling::Bilinear, band);
    let target = run_gdalwarp(path, Origin::File, &args)?;
    Raster::open_built(&target, 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::{Compute, crs};
    use cleope_sandbox::{Cancel, MemoryBudget};
    use gdal::DriverManager;
    use gdal::raster::{Buffer, RasterCreationOptions};
    use gdal::spatial_ref::SpatialRef;
    use std::path::Path;

    fn write_utm(path: &Path, size: usize) {
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut ds = driver
            .create_with_band_type_with_options::<u16, _>(
                path,
                size,
                size,
                1,
                &RasterCreationOptions::default(),
            )
            .unwrap();
        ds.set_geo_transform(&[500_000.0, 10.0, 0.0, 4_200_000.0, 0.0, -10.0])
            .unwrap();
        ds.set_spatial_ref(&SpatialRef::from_epsg(32633).unwrap())
            .unwrap();
        let values: Vec<u16> = (0..size * size).map(|i| (100 + i % size) as u16).collect();
        ds.rasterband(1)
            .unwrap()
            .write((0, 0), (size, size), &mut Buffer::new((size, size), values))
            .unwrap();
    }

    fn mean(raster: &Raster) -> f64 {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        cancel.start_run(std::time::Duration::from_secs(60));
        let budget = MemoryBudget::with_usage(1 << 30, || 0);
        Compute {
            pool: &pool,
            budget: &budget,
            cancel: &cancel,
        }
        .stats(raster)
        .unwrap()
        .mean
    }

    #[test]
    fn a_utm_band_warps_to_lon_lat_lazily() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_utm(&path, 200);
        let band = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let options = WarpOptions {
            crs: Some("EPSG:4326".into()),
            resolution: None,
            resampling: Resampling::Bilinear,
        };
        let lonlat = band.warp(&options).unwrap();
        assert!(crs::is_geographic(&lonlat.grid().crs));
        let (x0, y0, x1, y1) = lonlat.grid().bounds();
        assert!(
            (14.99..15.01).contains(&x0) && x1 < 15.03 && (37.9..38.0).contains(&y0) && y1 < 38.0,
            "{x0} {y0} {x1} {y1}"
        );
        assert!(
            (mean(&lonlat) - mean(&band)).abs() < 1.0,
            "values carried over"
        );
    }

    #[test]
    fn resampling_to_a_coarser_grid_keeps_the_mean() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_utm(&path, 200);
        let band = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let options = WarpOptions {
            crs: None,
            resolution: Some((20.0, 20.0)),
            resampling: Resampling::Average,
        };
        let coarse = band.warp(&options).unwrap();
        assert_eq!((coarse.grid().width, coarse.grid().height), (100, 100));
        assert!((mean(&coarse) - mean(&band)).abs() < 1e-3);
        let clipped = band
            .window(crate::raster::Window {
                col: 50,
                row: 0,
                width: 100,
                height: 100,
            })
            .unwrap();
        let clipped_coarse = clipped.warp(&options).unwrap();
        assert_eq!(clipped_coarse.grid().width, 50);
        assert!(
            (mean(&clipped_coarse) - 199.5).abs() < 1e-3,
            "the window's own pixels (150..250 wide)"
        );
    }

    #[test]
    fn expressions_must_be_warped_band_by_band() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        write_utm(&path, 20);
        let band = Raster::open(path.to_str().unwrap(), 1).unwrap();
        let sum = band.binary(crate::raster::Binary::Add, &band).unwrap();
        let options = WarpOptions {
            crs: Some("EPSG:4326".into()),
            resolution: None,
            resampling: Resampling::Nearest,
        };
        assert!(
            sum.warp(&options)
                .unwrap_err()
                .to_string()
                .contains("each band")
        );
    }

    #[test]
    fn a_file_located_by_gcps_opens_as_a_lon_lat_map() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("grd.tif");
        {
            let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
            let ds = driver
                .create_with_band_type::<u16, _>(&path, 100, 80, 1)
                .unwrap();
            let gcp = |pixel: f64, line: f64, x: f64, y: f64| gdal::Gcp {
                id: String::new(),
                info: String::new(),
                pixel,
                line,
                x,
                y,
                z: 0.0,
            };
            let gcps = vec![
                gcp(0.0, 0.0, 13.60, 45.70),
                gcp(100.0, 0.0, 13.70, 45.71),
                gcp(0.0, 80.0, 13.59, 45.62),
                gcp(100.0, 80.0, 13.69, 45.63),
            ];
            ds.set_gcps(gcps, &SpatialRef::from_epsg(4326).unwrap())
                .unwrap();
            let values: Vec<u16> = vec![500; 8000];
            ds.rasterband(1)
                .unwrap()
                .write((0, 0), (100, 80), &mut Buffer::new((100, 80), values))
                .unwrap();
        }
        let raster = Raster::open(path.to_str().unwrap(), 1).unwrap();
        assert!(crs::is_geographic(&raster.grid().crs));
        let (x0, y0, x1, y1) = raster.grid().bounds();
        assert!(
            x0 > 13.58 && x1 < 13.71 && y0 > 45.61 && y1 < 45.72,
            "{x0} {y0} {x1} {y1}"
        );
        assert!((mean(&raster) - 500.0).abs() < 1e-3);
    }
}
