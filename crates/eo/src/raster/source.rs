//! Bands in files, read window by window through GDAL.

use super::RasterError;
use super::grid::{GeoTransform, Grid, Window};
use crate::gdal::dataset::Origin;
use cleope_sandbox::Cancel;
use std::ffi::{c_char, c_int, c_void};
use std::sync::Arc;

/// One band of a raster file (GeoTIFF, JP2, netCDF subdatasets, `/vsizip/`
/// paths...) or of a VRT cleope built. Holds no open handle: GDAL datasets
/// are not thread-safe, so each read opens its own, through the door
/// ([`crate::gdal::dataset`]) and as made by the same `origin` each time.
#[derive(Debug, Clone, PartialEq)]
pub struct BandSource {
    /// The path as GDAL opens it.
    pub path: String,
    /// Who made the dataset: which formats the door lets GDAL use.
    pub origin: Origin,
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
    crate::gdal::dataset::open(path).is_ok_and(|d| !d.gcps().is_empty())
}

/// The nodata value a file's product declares where the file itself does
/// not: 0 for Sentinel-2 tile images (see
/// [`crate::products::sentinel2::is_tile_image`]).
fn nodata_from_product_metadata(path: &str) -> Option<f64> {
    let name = path.rsplit('/').next().unwrap_or(path);
    crate::products::sentinel2::is_tile_image(name).then_some(0.0)
}

impl BandSource {
    /// Opens band `band` of `path` (made by `origin`) and reads its grid and metadata.
    pub fn open(path: &str, band: usize, origin: Origin) -> Result<Arc<Self>, RasterError> {
        let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
            path: path.to_string(),
            message: e.to_string(),
        };
        let dataset = crate::gdal::dataset::open_as(path, origin, Default::default())
            .map_err(|e| RasterError::opening(path, e))?;
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
            origin,
            band,
            grid: Grid {
                width,
                height,
                transform: GeoTransform(transform),
                crs: dataset.projection(),
            },
            nodata: raster_band
                .no_data_value()
                .or_else(|| nodata_from_product_metadata(path)),
            scale: raster_band.scale().unwrap_or(1.0),
            offset: raster_band.offset().unwrap_or(0.0),
            unit: unit_of(&raster_band),
        }))
    }

    /// Reads `window` of the band into `out`, resampled to `out_size`
    /// (GDAL decimates with overviews when `out_size` is smaller). Missing
    /// pixels become NaN; scale and offset are applied. GDAL asks `cancel`
    /// as it goes, so that a read of a huge window stops soon after an
    /// interrupt or the run's deadline.
    pub fn read(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [f32],
        cancel: &Cancel,
    ) -> Result<(), RasterError> {
        let gdal_error = |e| self.gdal_error(e);
        let dataset = self.dataset()?;
        let band = dataset.rasterband(self.band).map_err(gdal_error)?;
        let decimated = out_size != (window.width, window.height);
        read_band(&band, window, out_size, out, decimated, cancel).map_err(
            |failure| match cancel.check() {
                Err(stop) => RasterError::Stopped(stop),
                Ok(()) => gdal_error(failure),
            },
        )?;
        self.to_physical(out);
        Ok(())
    }

    /// Reads `window` of the band as the unsigned 32-bit words it stores,
    /// untouched (no scale, offset or nodata): for flag variables such as
    /// OLCI's `quality_flags`, whose bit 31 (land) and low bits a float32
    /// read would merge (2^31 + 1 is not a float32). A flag test is then
    /// `(word & mask) != 0` on these words, before any conversion.
    ///
    /// `out` holds `out_size` words: the window, or a decimated version of
    /// it (GDAL takes the nearest word, never a mean of flags).
    pub fn read_words(
        &self,
        window: Window,
        out_size: (usize, usize),
        out: &mut [u32],
        cancel: &Cancel,
    ) -> Result<(), RasterError> {
        let gdal_error = |e| self.gdal_error(e);
        let dataset = self.dataset()?;
        let band = dataset.rasterband(self.band).map_err(gdal_error)?;
        assert_eq!(out.len(), out_size.0 * out_size.1, "a word per pixel");
        cancel.check()?;
        let words = band
            .read_as::<u32>(
                (window.col as isize, window.row as isize),
                (window.width, window.height),
                out_size,
                None,
            )
            .map_err(gdal_error)?;
        out.copy_from_slice(words.data());
        Ok(())
    }

    /// The file, opened through the door as made by `origin` (each read
    /// opens its own: GDAL datasets are not thread-safe).
    fn dataset(&self) -> Result<gdal::Dataset, RasterError> {
        crate::gdal::dataset::open_as(&self.path, self.origin, Default::default())
            .map_err(|e| RasterError::opening(&self.path, e))
    }

    fn gdal_error(&self, error: gdal::errors::GdalError) -> RasterError {
        if let Some(failure) = crate::gdal::remote::take_failure(&self.path) {
            return RasterError::Remote(failure);
        }
        RasterError::Gdal {
            path: self.path.clone(),
            message: error.to_string(),
        }
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

/// The unit of a band's values: its unit type, or for GRIB, whose driver
/// leaves the unit type empty, the `GRIB_UNIT` it reports. GDAL converts
/// GRIB temperatures to degrees Celsius by default (its
/// `GRIB_NORMALIZE_UNITS`) and says so there as `[C]`, so a GRIB 2 m
/// temperature is "°C", never kelvin.
fn unit_of(band: &gdal::raster::RasterBand) -> String {
    use gdal::Metadata;
    let declared = band.unit();
    if !declared.is_empty() {
        return declared;
    }
    let grib = band.metadata_item("GRIB_UNIT", "").unwrap_or_default();
    match grib.trim_matches(['[', ']']) {
        "C" => "°C".to_string(),
        other => other.to_string(),
    }
}

/// One `GDALRasterIOEx` read of `window` into `out` (`out_size` pixels,
/// averaged when `decimated`), whose progress callback asks `cancel`
/// whether to go on: GDAL calls it after each row of blocks it reads, and
/// stops the read when it answers no.
fn read_band(
    band: &gdal::raster::RasterBand,
    window: Window,
    out_size: (usize, usize),
    out: &mut [f32],
    decimated: bool,
    cancel: &Cancel,
) -> Result<(), gdal::errors::GdalError> {
    assert_eq!(out.len(), out_size.0 * out_size.1, "buffer of out_size");
    let mut extra = gdal_sys::GDALRasterIOExtraArg {
        nVersion: 1,
        eResampleAlg: if decimated {
            gdal_sys::GDALRIOResampleAlg::GRIORA_Average
        } else {
            gdal_sys::GDALRIOResampleAlg::GRIORA_NearestNeighbour
        },
        pfnProgress: Some(keep_reading),
        pProgressData: cancel as *const Cancel as *mut c_void,
        bFloatingPointWindowValidity: 0,
        dfXOff: 0.0,
        dfYOff: 0.0,
        dfXSize: 0.0,
        dfYSize: 0.0,
    };
    let int = |n: usize| c_int::try_from(n).unwrap_or(c_int::MAX);
    // SAFETY: `out` holds out_size pixels of f32 (checked above); `extra`
    // and `cancel` outlive the call.
    let result = unsafe {
        gdal_sys::GDALRasterIOEx(
            band.c_rasterband(),
            gdal_sys::GDALRWFlag::GF_Read,
            int(window.col),
            int(window.row),
            int(window.width),
            int(window.height),
            out.as_mut_ptr().cast(),
            int(out_size.0),
            int(out_size.1),
            gdal_sys::GDALDataType::GDT_Float32,
            0,
            0,
            &mut extra,
        )
    };
    if result == gdal_sys::CPLErr::CE_None {
        return Ok(());
    }
    // SAFETY: GDAL returns a valid (possibly empty) C string.
    let message = unsafe { std::ffi::CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) };
    Err(gdal::errors::GdalError::CplError {
        class: result,
        number: unsafe { gdal_sys::CPLGetLastErrorNo() },
        msg: message.to_string_lossy().into_owned(),
    })
}

/// GDAL's progress callback: go on while the run may (1), stop otherwise (0).
unsafe extern "C" fn keep_reading(
    _complete: f64,
    _message: *const c_char,
    cancel: *mut c_void,
) -> c_int {
    // SAFETY: `read_band` passes a `&Cancel` that outlives the read.
    let cancel = unsafe { &*(cancel as *const Cancel) };
    c_int::from(cancel.check().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gdal::DriverManager;
    use gdal::raster::{Buffer, RasterCreationOptions};
    use gdal::spatial_ref::SpatialRef;

    /// A 2 m temperature in kelvin written as GRIB 2 by GDAL's own driver
    /// (product 0-0-0, temperature), as ECMWF and CAMS files hold it.
    fn write_grib_temperature(dir: &std::path::Path) -> String {
        let tif = dir.join("t2m.tif");
        let mut ds = DriverManager::get_driver_by_name("GTiff")
            .unwrap()
            .create_with_band_type::<f32, _>(&tif, 4, 2, 1)
            .unwrap();
        ds.set_geo_transform(&[10.0, 1.0, 0.0, 46.0, 0.0, -1.0])
            .unwrap();
        ds.set_spatial_ref(&SpatialRef::from_epsg(4326).unwrap())
            .unwrap();
        let kelvin: Vec<f32> = (0..8).map(|i| 280.0 + i as f32).collect();
        ds.rasterband(1)
            .unwrap()
            .write((0, 0), (4, 2), &mut Buffer::new((4, 2), kelvin))
            .unwrap();
        let grib = dir.join("t2m.grib2");
        let options = RasterCreationOptions::from_iter([
            "INPUT_UNIT=K",
            "DISCIPLINE=0",
            "PDS_TEMPLATE_NUMBERS=0 0 2 0 0 0 0 0 1 0 0 0 0 1 0 0 0 0 0 255 0 0 0 0 0",
        ]);
        let driver = DriverManager::get_driver_by_name("GRIB").unwrap();
        ds.create_copy(&driver, &grib, &options)
            .unwrap()
            .close()
            .unwrap();
        grib.to_str().unwrap().to_string()
    }

    #[test]
    fn flag_words_keep_all_32_bits() {
        use crate::netcdf::{Attr, NcWriter};
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("qualityFlags.nc");
        // OLCI's quality_flags: land is bit 31, bright bit 27, ... invalid bit 25.
        let words: Vec<u32> = vec![0x8000_0001, 0x8000_0000, 0x0800_0000, 1, 0xFFFF_FFFF, 0];
        let nc = NcWriter::create(&path).unwrap();
        {
            let root = nc.root();
            let rows = root.dimension("rows", 2).unwrap();
            let columns = root.dimension("columns", 3).unwrap();
            let attrs = [
                Attr::u32s("flag_masks", &[0x8000_0000, 0x0800_0000, 1]),
                Attr::str("flag_meanings", "land bright sun_glint_risk"),
            ];
            root.write("quality_flags", &[&rows, &columns], &words, &attrs)
                .unwrap();
        }
        nc.close().unwrap();
        let name = format!("NETCDF:\"{}\":quality_flags", path.display());
        let band = BandSource {
            path: name,
            origin: Origin::File,
            band: 1,
            grid: Grid {
                width: 3,
                height: 2,
                transform: GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, 1.0]),
                crs: String::new(),
            },
            nodata: None,
            scale: 1.0,
            offset: 0.0,
            unit: String::new(),
        };
        let mut read = vec![0u32; 6];
        band.read_words(Window::full(3, 2), (3, 2), &mut read, &Cancel::default())
            .unwrap();
        // GDAL shows a netCDF variable without a y coordinate bottom-up:
        // the file's second row first.
        let shown: Vec<u32> = words[3..].iter().chain(&words[..3]).copied().collect();
        assert_eq!(read, shown, "every bit, bit 31 with bit 0 included");
        // What a float32 read makes of them: land-and-glint is land only.
        let mut floats = vec![0f32; 6];
        read_band(
            &gdal::Dataset::open(&band.path)
                .unwrap()
                .rasterband(1)
                .unwrap(),
            Window::full(3, 2),
            (3, 2),
            &mut floats,
            false,
            &Cancel::default(),
        )
        .unwrap();
        assert_eq!(
            floats[3], floats[4],
            "float32 merges 0x80000001 and 0x80000000"
        );
    }

    #[test]
    fn a_grib_temperature_says_it_is_in_celsius_as_gdal_made_it() {
        let dir = tempfile::tempdir().unwrap();
        let grib = write_grib_temperature(dir.path());
        let band = BandSource::open(&grib, 1, Origin::File).unwrap();
        assert_eq!(band.unit, "°C");
        let mut values = vec![0.0f32; 8];
        let window = Window::full(4, 2);
        band.read(window, (4, 2), &mut values, &Cancel::default())
            .unwrap();
        // The kelvins written, as GDAL normalises them: 280 K is 6.85 °C.
        assert!((values[0] - 6.85).abs() < 1e-3, "{values:?}");
    }
}
