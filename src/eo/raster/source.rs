//! Bands in files, read window by window through GDAL.

use super::RasterError;
use super::grid::{GeoTransform, Grid, Window};
use gdal::raster::ResampleAlg;
use std::sync::Arc;

/// One band of a raster file (any format GDAL reads: GeoTIFF, JP2, netCDF
/// subdatasets, `/vsizip/` paths...). Holds no open handle: GDAL datasets
/// are not thread-safe, so each read opens its own.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSource {
    /// The path as GDAL opens it.
    pub path: String,
    /// 1-based band number.
    pub band: usize,
    pub grid: Grid,
    /// The value that marks missing pixels; they read as NaN.
    pub nodata: Option<f64>,
    /// Applied as `value * scale + offset` (from the file's metadata).
    pub scale: f64,
    pub offset: f64,
    /// The unit the file declares, if any.
    pub unit: String,
}

/// True when the file is located by ground control points.
pub fn has_gcps(path: &str) -> bool {
    crate::eo::dataset::open(path).is_ok_and(|d| !d.gcps().is_empty())
}

impl BandSource {
    /// Opens band `band` of `path` and reads its grid and metadata.
    pub fn open(path: &str, band: usize) -> Result<Arc<Self>, RasterError> {
        let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
            path: path.to_string(),
            message: e.to_string(),
        };
        let dataset = crate::eo::dataset::open(path).map_err(gdal_error)?;
        let count = dataset.raster_count();
        if band == 0 || band > count {
            return Err(RasterError::NoSuchBand {
                path: path.to_string(),
                band,
                count,
            });
        }
        let (width, height) = dataset.raster_size();
        let transform = dataset
            .geo_transform()
            .map_err(|_| RasterError::NotGeoreferenced {
                path: path.to_string(),
            })?;
        let raster_band = dataset.rasterband(band).map_err(gdal_error)?;
        Ok(Arc::new(BandSource {
            path: path.to_string(),
            band,
            grid: Grid {
                width,
                height,
                transform: GeoTransform(transform),
                crs: dataset.projection(),
            },
            nodata: raster_band.no_data_value(),
            scale: raster_band.scale().unwrap_or(1.0),
            offset: raster_band.offset().unwrap_or(0.0),
            unit: raster_band.unit(),
        }))
    }

    /// Reads `window` of the band into `out`, resampled to `out_size`
    /// (GDAL decimates with overviews when `out_size` is smaller). Missing
    /// pixels become NaN; scale and offset are applied.
    pub fn read(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
    ) -> Result<(), RasterError> {
        let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
            path: self.path.clone(),
            message: e.to_string(),
        };
        let dataset = crate::eo::dataset::open(&self.path).map_err(gdal_error)?;
        let band = dataset.rasterband(self.band).map_err(gdal_error)?;
        let decimated = out_size != (window.width, window.height);
        let resampling = decimated.then_some(ResampleAlg::Average);
        band.read_into_slice::<f32>(
            (window.col as isize, window.row as isize),
            (window.width, window.height),
            out_size,
            out,
            resampling,
        )
        .map_err(gdal_error)?;
        self.to_physical(out);
        Ok(())
    }

    fn to_physical(&self, values: &mut [f32]) {
        let nodata = self.nodata.map(|n| n as f32);
        let (scale, offset) = (self.scale as f32, self.offset as f32);
        let rescale = scale != 1.0 || offset != 0.0;
        for value in values.iter_mut() {
            if Some(*value) == nodata {
                *value = f32::NAN;
            } else if rescale {
                *value = *value * scale + offset;
            }
        }
    }
}
