//! Lazy georeferenced rasters: open bands, combine them with operators and
//! functions, clip, and compute statistics or save; nothing is read until a
//! result is asked for, and then only block by block.

use std::sync::Arc;

use crate::eo::netcdf::cf;
use crate::eo::raster::{Binary, Compute, Raster, RasterError};
use crate::runtime::Host;
use rhai::plugin::*;

pub fn module() -> Module {
    let mut module = exported_module!(raster_api);
    module.set_custom_type::<Raster>("Raster");
    module.set_custom_type::<crate::eo::raster::Stack>("Stack");
    module
}

/// Warp options from a script map: `resolution` (a number or `[x, y]`) and
/// `resampling` ("nearest", "bilinear", "cubic", "average", "mode").
fn warp_options(
    crs: Option<String>,
    options: &rhai::Map,
) -> Result<crate::eo::raster::WarpOptions, Box<EvalAltResult>> {
    use crate::api::script_error;
    use crate::eo::raster::{Resampling, WarpOptions};
    crate::api::args::Options::check_as(
        options,
        &["resolution", "resampling"],
        "BadOption",
        "a reprojection option",
    )?;
    let resolution = match options.get("resolution") {
        None => None,
        Some(value) => Some(resolution_pair(value)?),
    };
    let method = options
        .get("resampling")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "bilinear".into());
    let resampling = Resampling::named(&method).ok_or_else(|| {
        script_error(
            "BadOption",
            &format!("there is no resampling method \"{method}\""),
            "use nearest (classes, masks), bilinear or cubic (continuous values) or average (coarser grids)",
        )
    })?;
    Ok(WarpOptions {
        crs,
        resolution,
        resampling,
    })
}

fn resolution_pair(value: &Dynamic) -> Result<(f64, f64), Box<EvalAltResult>> {
    let number = |v: &Dynamic| {
        v.as_float()
            .ok()
            .or_else(|| v.as_int().ok().map(|i| i as f64))
    };
    if let Some(both) = number(value) {
        return Ok((both, both));
    }
    match value.clone().try_cast::<rhai::Array>().as_deref() {
        Some([x, y]) if number(x).is_some() && number(y).is_some() => {
            Ok((number(x).unwrap(), number(y).unwrap()))
        }
        _ => Err(crate::api::script_error(
            "BadOption",
            &format!("resolution {value} is not a pixel size"),
            "give a number (e.g. 20.0 for 20 m) or [x, y]",
        )),
    }
}

/// A raster failure as a script error a learner can act on.
pub(crate) fn raster_error(error: RasterError) -> Box<EvalAltResult> {
    use crate::api::{script_error, stop_error};
    let message = error.to_string();
    match error {
        RasterError::Stopped(stop) => stop_error(stop),
        RasterError::Gdal { .. } => script_error(
            "RasterError",
            &message,
            "check that the file is a raster GDAL can read (GeoTIFF, JP2, netCDF...) and is complete",
        ),
        RasterError::NoSuchBand { .. } => {
            script_error("NoSuchBand", &message, "bands are numbered from 1")
        }
        RasterError::NotGeoreferenced { .. } => script_error(
            "NotGeoreferenced",
            &message,
            "rasters need a position on Earth; this file has none",
        ),
        RasterError::GridMismatch { .. } => script_error(
            "GridMismatch",
            &message,
            "bring one raster onto the other's grid with align(raster, reference) \
             (or stack(rasters, #{ align: true })), then combine them",
        ),
        RasterError::OutsideBounds { .. } => script_error(
            "OutsideRaster",
            &message,
            "bounds are [lon_min, lat_min, lon_max, lat_max] in degrees; check the order and \
             that the product covers your area",
        ),
        RasterError::Invalid(_) => script_error("BadValue", &message, ""),
        RasterError::FormatNotAllowed(refusal) => crate::api::refusal_error(refusal),
        RasterError::GdalUnavailable(unavailable) => {
            script_error("GdalUnavailable", &message, &unavailable.hint())
        }
        RasterError::Remote(failure) => match failure.stop {
            Some(stop) => stop_error(stop),
            None => script_error(failure.kind, &failure.message, &failure.hint),
        },
    }
}

/// `open_raster`'s door: a workspace path (or `NETCDF:"file":variable`),
/// or an http(s) URL read by ranges ([`open_remote`]); an optional netCDF
/// variable and a band, through [`cf::open_raster`].
pub(crate) fn open_in_workspace(
    ctx: &NativeCallContext,
    path: &str,
    variable: Option<&str>,
    band: usize,
) -> Result<Raster, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let gdal_path = if is_url(path) {
        open_remote(&host, path)?
    } else {
        crate::api::gdal_path(&host.workspace(), path)?
    };
    cf::open_raster(&gdal_path, variable, band).map_err(|e| shown_as(e, path))
}

/// Whether a script's name for a raster is a web address.
fn is_url(name: &str) -> bool {
    let lower = name.trim_start().to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// Registers the file at `url` with GDAL's `/vsicleope/` file system, read
/// by ranges through the session's HTTP client (the network grant, the
/// account for its own hosts only, retries, the run's deadline), and gives
/// the name GDAL opens it by. Reads the file's head (one request).
fn open_remote(host: &Host, url: &str) -> Result<String, Box<EvalAltResult>> {
    let client = host
        .data
        .http_client(host, url)
        .map_err(|e| crate::api::script_error(e.kind, &e.message, &e.hint))?;
    let reader = crate::eo::odata::remote::RemoteBytes::new(client, Arc::clone(&host.cancel), url);
    crate::eo::gdal::remote::register(url, Box::new(reader))
        .map_err(|error| raster_error(RasterError::Remote(error)))
}

/// A raster error naming the file as the script did.
pub(crate) fn shown_as(error: RasterError, path: &str) -> Box<EvalAltResult> {
    match error {
        RasterError::Gdal { message, .. } => raster_error(RasterError::Gdal {
            path: path.to_string(),
            message,
        }),
        RasterError::FormatNotAllowed(refusal) => {
            raster_error(RasterError::FormatNotAllowed(refusal.named(path)))
        }
        other => raster_error(other),
    }
}

/// Runs a terminal operation with the session's pool, budget and interrupt.
pub(crate) fn compute<T>(
    ctx: &NativeCallContext,
    work: impl FnOnce(&Compute) -> Result<T, RasterError>,
) -> Result<T, Box<EvalAltResult>> {
    compute_as(ctx, work, raster_error)
}

/// [`compute`] for work that fails with another error (a mission's),
/// turned into a script error by `to_script`.
pub(crate) fn compute_as<T, E>(
    ctx: &NativeCallContext,
    work: impl FnOnce(&Compute) -> Result<T, E>,
    to_script: fn(E) -> Box<EvalAltResult>,
) -> Result<T, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let compute = Compute {
        pool: &host.pool,
        budget: &host.memory,
        cancel: &host.cancel,
    };
    work(&compute).map_err(to_script)
}

/// A script value used as a raster operand: a raster, or a number
/// spread over `like`'s grid.
enum Operand {
    Raster(Raster),
    Number(f32),
}

fn operand(value: Dynamic) -> Result<Operand, Box<EvalAltResult>> {
    let type_name = value.type_name();
    if let Some(raster) = value.clone().try_cast::<Raster>() {
        return Ok(Operand::Raster(raster));
    }
    let number = value
        .as_int()
        .map(|int| int as f64)
        .or_else(|_| value.as_float());
    if let Ok(number) = number {
        return float32_operand(number).map(Operand::Number);
    }
    Err(crate::api::script_error(
        "TypeMismatch",
        &format!("a raster cannot be combined with a {type_name}"),
        "use another raster or a number",
    ))
}

/// A number as the 32-bit float rasters hold, refused when it does not
/// fit (it would turn every pixel into a missing value).
fn float32_operand(number: f64) -> Result<f32, Box<EvalAltResult>> {
    let single = number as f32;
    if number.is_finite() && !single.is_finite() {
        return Err(crate::api::script_error(
            "BadValue",
            &format!("{number:e} is beyond the range of the 32-bit floats rasters hold (±3.4e38)"),
            "scale your values to smaller units first (e.g. 1e15 molecules/cm2)",
        ));
    }
    Ok(single)
}

/// Bounds from a script map `#{x_min, y_min, x_max, y_max, crs}` (lon/lat
/// degrees when `crs` is absent), in the CRS of `raster`.
fn bounds_in_crs_of(
    raster: &Raster,
    bounds: &rhai::Map,
) -> Result<(f64, f64, f64, f64), Box<EvalAltResult>> {
    use crate::eo::raster::crs;
    crate::api::args::Options::check_as(
        bounds,
        &["x_min", "y_min", "x_max", "y_max", "crs"],
        "BadValue",
        "a bounds key",
    )?;
    let number =
        |key: &str| {
            let value = bounds.get(key);
            value
            .and_then(|v| v.as_float().ok().or_else(|| v.as_int().ok().map(|i| i as f64)))
            .ok_or_else(|| {
                crate::api::script_error(
                    "BadValue",
                    &format!("the bounds have no number {key}"),
                    "write #{ x_min: .., y_min: .., x_max: .., y_max: .., crs: \"EPSG:4326\" }, \
                     or use another raster's .bounds",
                )
            })
        };
    let corners = (
        number("x_min")?,
        number("y_min")?,
        number("x_max")?,
        number("y_max")?,
    );
    if !(corners.0 < corners.2 && corners.1 < corners.3) {
        return Err(crate::api::script_error(
            "BadValue",
            &format!("in the bounds {corners:?} a minimum is not below its maximum"),
            "x_min < x_max and y_min < y_max",
        ));
    }
    let grid = raster.grid();
    match bounds.get("crs").map(|c| c.to_string()) {
        Some(label) if label == crs::label(&grid.crs) => Ok(corners),
        Some(other) => crs::bounds_between(&other, &grid.crs, corners).map_err(raster_error),
        None => crs::lonlat_bounds_to(&grid.crs, corners).map_err(raster_error),
    }
}

fn combine(
    raster: &Raster,
    op: Binary,
    other: Dynamic,
    raster_first: bool,
) -> Result<Raster, Box<EvalAltResult>> {
    match operand(other)? {
        Operand::Number(value) => Ok(raster.with_scalar(op, value, !raster_first)),
        Operand::Raster(other) if raster_first => raster.binary(op, &other).map_err(raster_error),
        Operand::Raster(other) => other.binary(op, raster).map_err(raster_error),
    }
}

fn as_raster(value: Dynamic, like: &Raster) -> Result<Raster, Box<EvalAltResult>> {
    Ok(match operand(value)? {
        Operand::Raster(raster) => raster,
        Operand::Number(number) => Raster::constant(like.grid().clone(), number),
    })
}

/// The rasters of a script array (refusing anything else).
fn rasters_of(values: rhai::Array) -> Result<Vec<Raster>, Box<EvalAltResult>> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, v)| {
            let type_name = v.type_name();
            v.try_cast::<Raster>().ok_or_else(|| {
                crate::api::script_error(
                    "TypeMismatch",
                    &format!("item {i} of the stack is a {type_name}, not a raster"),
                    "give an array of rasters, e.g. [open_raster(a), open_raster(b)]",
                )
            })
        })
        .collect()
}

/// A number given as an integer or a decimal; else a `TypeMismatch` naming `what`.
fn number_of(value: &Dynamic, what: &str, hint: &str) -> Result<f64, Box<EvalAltResult>> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|n| n as f64))
        .ok_or_else(|| {
            crate::api::script_error(
                "TypeMismatch",
                &format!("{what} is {value} ({}), not a number", value.type_name()),
                hint,
            )
        })
}

/// The numbers of a list of classes (e.g. Sentinel-2 SCL classes `[3, 8, 9, 10]`).
fn classes_of(classes: &rhai::Array) -> Result<Vec<f32>, Box<EvalAltResult>> {
    let hint = "give the classes as a list of numbers, e.g. [3, 8, 9, 10]";
    classes
        .iter()
        .enumerate()
        .map(|(i, c)| number_of(c, &format!("class {i}"), hint).map(|c| c as f32))
        .collect()
}

/// A stack that does not go date by date with another: what differs, and
/// how to build matching stacks.
fn stack_error(error: RasterError) -> Box<EvalAltResult> {
    match error {
        RasterError::Invalid(message) => crate::api::script_error(
            "StackMismatch",
            &message,
            "build the masks or scores from the same products, in the same order, \
             e.g. stack(scl_layers, dates)",
        ),
        other => raster_error(other),
    }
}

/// Which end a stack's `pick_by` takes: `"min"` or `"max"`.
fn extreme_of(which: &str) -> Result<crate::eo::raster::Extreme, Box<EvalAltResult>> {
    use crate::eo::raster::Extreme;
    match which {
        "min" => Ok(Extreme::Lowest),
        "max" => Ok(Extreme::Highest),
        other => Err(crate::api::script_error(
            "BadOption",
            &format!("pick_by takes \"min\" or \"max\", not \"{other}\""),
            "write s.pick_by(scores, \"min\") for the date with the lowest score",
        )),
    }
}

#[export_module]
mod raster_api {
    use super::{
        as_raster, classes_of, combine, compute, extreme_of, number_of, open_in_workspace,
        raster_error, rasters_of, shown_as, stack_error,
    };
    use crate::api::file_error;
    use crate::eo::matrix::Matrix;
    use crate::eo::netcdf::cf;
    use crate::eo::raster::{
        Binary, Extreme, GeoTransform, Grid, Raster, RasterError, Reduction, SaveFormat, Stack,
        Unary, crs,
    };
    use crate::runtime::Host;
    use crate::sandbox::Stop;
    use rhai::{Array, FLOAT, INT, Map};

    /// Opens band 1 of a raster file (GeoTIFF, JP2, netCDF, GRIB, or a member
    /// of a zip archive as `/vsizip/archive.zip/path/in/zip`). Nothing is read
    /// until a result is asked for. An `https://` address opens a file on a
    /// web server or object store (a cloud-optimised GeoTIFF, an asset of a
    /// STAC item) without downloading it: only the header and the blocks a
    /// result needs are read, by HTTP range requests, from hosts the
    /// session's network grant allows. A netCDF file holding several variables
    /// needs the variable's name: `open_raster("file.nc", "sst")` (or the GDAL
    /// spelling `open_raster("NETCDF:\"file.nc\":sst")`).
    ///
    /// ```rhai
    /// matrix(20, 30, 0.25).to_raster([12.0, 41.0, 13.0, 42.0]).save("output/field.tif");
    /// let field = open_raster("output/field.tif");
    /// assert(field.width == 30 && field.height == 20, "30 x 20 pixels");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn open_raster(ctx: NativeCallContext, path: &str) -> Result<Raster, Box<EvalAltResult>> {
        open_in_workspace(&ctx, path, None, 1)
    }

    /// Opens band 1 of an asset of a STAC item (one of `product.assets`, a
    /// map with its `href`): a file on a server is read by ranges, only
    /// the blocks a result needs, as `open_raster("https://…")` reads it.
    ///
    /// ```rhai
    /// let p = stac_search(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// let red = open_raster(p.assets.B04_10m);
    /// assert(red.width > 0 && red.crs.starts_with("EPSG:326"), "a UTM band, read by ranges");
    /// ```
    #[rhai_fn(name = "open_raster", return_raw)]
    pub fn open_asset(ctx: NativeCallContext, asset: Map) -> Result<Raster, Box<EvalAltResult>> {
        let href = asset
            .get("href")
            .and_then(|href| href.clone().into_immutable_string().ok())
            .ok_or_else(|| {
                crate::api::script_error(
                    "BadValue",
                    "this map is not an asset of a product: it has no \"href\"",
                    "give one of a product's assets, e.g. open_raster(p.assets.B04_10m); \
                     p.assets.keys() lists them",
                )
            })?;
        open_in_workspace(&ctx, &href, None, 1)
    }

    /// Opens band `band` (counted from 1) of a raster file.
    ///
    /// ```rhai
    /// matrix(10, 10, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]).save("output/one_band.tif");
    /// let b1 = open_raster("output/one_band.tif", 1);
    /// assert(b1.stats().max == 3.0, "band 1");
    /// ```
    #[rhai_fn(name = "open_raster", return_raw)]
    pub fn open_band(
        ctx: NativeCallContext,
        path: &str,
        band: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        open_in_workspace(&ctx, path, None, usize::try_from(band).unwrap_or(0))
    }

    /// Opens one variable of a netCDF file by name, its first band (its
    /// first time step and depth). A grid whose coordinates are longitude and
    /// latitude (CF `units` `degrees_east`/`degrees_north` or `standard_name`)
    /// is in EPSG:4326 even when the file names no CRS, north up whichever
    /// way its latitudes run, and longitudes stored from 0 to 360 come back
    /// from -180 to 180 (see docs/netcdf.md). `nc_bands` lists the bands.
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-marine", from: "2019-08-01", to: "2019-08-01" })[0];
    /// let path = odata_download(p.name);
    /// let sst = open_raster(path, "analysed_sst");
    /// assert(sst.crs == "EPSG:4326" && sst.bounds.x_min == -180.0, "a lon/lat grid");
    /// ```
    #[rhai_fn(name = "open_raster", return_raw)]
    pub fn open_variable(
        ctx: NativeCallContext,
        path: &str,
        variable: &str,
    ) -> Result<Raster, Box<EvalAltResult>> {
        open_in_workspace(&ctx, path, Some(variable), 1)
    }

    /// Opens band `band` (counted from 1) of one variable of a netCDF file:
    /// one per time step (and depth), in the order `nc_bands` lists them.
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-marine", from: "2019-08-01", to: "2019-08-01" })[0];
    /// let path = odata_download(p.name);
    /// let first_day = open_raster(path, "analysed_sst", 1);
    /// assert(first_day.stats().max < 310.0, "kelvin, as the file says");
    /// ```
    #[rhai_fn(name = "open_raster", return_raw)]
    pub fn open_variable_band(
        ctx: NativeCallContext,
        path: &str,
        variable: &str,
        band: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        open_in_workspace(
            &ctx,
            path,
            Some(variable),
            usize::try_from(band).unwrap_or(0),
        )
    }

    /// The bands of a netCDF variable, one map per band:
    /// `#{ band, time, zlev, ... }` with each extra dimension's coordinate
    /// (times decoded from their CF units as ISO date-times).
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-marine", from: "2019-08-01", to: "2019-08-01" })[0];
    /// let path = odata_download(p.name);
    /// let bands = nc_bands(path, "analysed_sst");
    /// assert(bands[0].time == "2019-08-01T12:00:00", "CF time decoded");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn nc_bands(
        ctx: NativeCallContext,
        path: &str,
        variable: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let gdal_path = crate::api::gdal_path(&host.workspace(), path)?;
        let labels = cf::bands(&gdal_path, variable).map_err(|e| shown_as(e, path))?;
        Ok(labels
            .into_iter()
            .map(|label| {
                let mut map = Map::new();
                map.insert("band".into(), Dynamic::from_int(label.band as INT));
                for (dimension, value) in label.coordinates {
                    map.insert(dimension.into(), value.into());
                }
                Dynamic::from_map(map)
            })
            .collect())
    }

    /// A raster in lon/lat (EPSG:4326) from a matrix: row 0 is the north
    /// edge, `bounds` is `[lon_min, lat_min, lon_max, lat_max]`.
    ///
    /// ```rhai
    /// let m = matrix(2, 4, 1.0);
    /// let r = m.to_raster([10.0, 45.0, 12.0, 46.0]);
    /// assert(r.resolution == [0.5, 0.5], "half-degree pixels");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn to_raster(
        ctx: NativeCallContext,
        m: &mut Matrix,
        bounds: Array,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let (x0, y0, x1, y1) = crate::api::args::bounds(&Dynamic::from_array(bounds))?;
        let (width, height) = (m.cols(), m.rows());
        let transform = [
            x0,
            (x1 - x0) / width as f64,
            0.0,
            y1,
            0.0,
            -(y1 - y0) / height as f64,
        ];
        let wgs84 = crate::eo::raster::crs::wgs84_wkt().map_err(raster_error)?;
        let grid = Grid {
            width,
            height,
            transform: GeoTransform(transform),
            crs: wgs84,
        };
        Raster::from_values(grid, m.values_f32(), &host.memory).map_err(raster_error)
    }

    /// Width in pixels.
    ///
    /// ```rhai
    /// assert(matrix(2, 3).to_raster([0.0, 0.0, 3.0, 2.0]).width == 3, "3 columns");
    /// ```
    #[rhai_fn(get = "width", pure)]
    pub fn width(r: &mut Raster) -> INT {
        r.grid().width as INT
    }

    /// Height in pixels.
    ///
    /// ```rhai
    /// assert(matrix(2, 3).to_raster([0.0, 0.0, 3.0, 2.0]).height == 2, "2 rows");
    /// ```
    #[rhai_fn(get = "height", pure)]
    pub fn height(r: &mut Raster) -> INT {
        r.grid().height as INT
    }

    /// The coordinate reference system, e.g. `"EPSG:32633"`.
    ///
    /// ```rhai
    /// print(matrix(2, 2).to_raster([0.0, 0.0, 1.0, 1.0]).crs);
    /// ```
    #[rhai_fn(get = "crs", pure)]
    pub fn crs_label(r: &mut Raster) -> String {
        crs::label(&r.grid().crs)
    }

    /// The extent in the raster's own CRS, as `#{x_min, y_min, x_max,
    /// y_max, crs}`: what `clip` takes, so one raster can be clipped to
    /// another's extent.
    ///
    /// ```rhai
    /// let r = matrix(2, 2).to_raster([10.0, 40.0, 11.0, 41.0]);
    /// let b = r.bounds;
    /// assert(b.x_min == 10.0 && b.y_max == 41.0 && b.crs == "EPSG:4326", "extent");
    /// assert(r.clip(b).width == 2, "clipped to its own extent");
    /// ```
    #[rhai_fn(get = "bounds", pure)]
    pub fn bounds(r: &mut Raster) -> Map {
        let (x0, y0, x1, y1) = r.grid().bounds();
        let mut map = Map::new();
        for (key, value) in [("x_min", x0), ("y_min", y0), ("x_max", x1), ("y_max", y1)] {
            map.insert(key.into(), Dynamic::from_float(value));
        }
        map.insert("crs".into(), crs::label(&r.grid().crs).into());
        map
    }

    /// The pixel size `[x, y]` in the units of the CRS (metres, or degrees for lon/lat).
    ///
    /// ```rhai
    /// print(matrix(10, 10).to_raster([0.0, 0.0, 1.0, 1.0]).resolution);
    /// ```
    #[rhai_fn(get = "resolution", pure)]
    pub fn resolution(r: &mut Raster) -> Array {
        let (x, y) = r.grid().resolution();
        vec![Dynamic::from_float(x), Dynamic::from_float(y)]
    }

    /// Adds a raster or a number, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r + r + 1).stats().mean == 3.0, "1 + 1 + 1");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn add(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Add, other, true)
    }

    /// Adds a raster to a number, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((10 + r).stats().max == 11.0, "10 + 1");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn add_to_number(number: Dynamic, r: Raster) -> Result<Raster, Box<EvalAltResult>> {
        combine(&r, Binary::Add, number, false)
    }

    /// Subtracts a raster or a number, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 5.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r - 2).stats().mean == 3.0, "5 - 2");
    /// ```
    #[rhai_fn(name = "-", return_raw, pure)]
    pub fn subtract(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Subtract, other, true)
    }

    /// Subtracts a raster from a number, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 0.25).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((1.0 - r).stats().mean == 0.75, "1 - 0.25");
    /// ```
    #[rhai_fn(name = "-", return_raw)]
    pub fn subtract_from_number(number: Dynamic, r: Raster) -> Result<Raster, Box<EvalAltResult>> {
        combine(&r, Binary::Subtract, number, false)
    }

    /// The raster with every value negated.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 4.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((-r).stats().min == -4.0, "negated");
    /// ```
    #[rhai_fn(name = "-", pure)]
    pub fn negate(r: &mut Raster) -> Raster {
        r.unary(Unary::Negate)
    }

    /// Multiplies by a raster or a number, pixel by pixel (e.g. a scale factor).
    ///
    /// ```rhai
    /// let dn = matrix(2, 2, 2000.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let reflectance = dn * 0.0001;
    /// assert(reflectance.stats().mean > 0.1999 && reflectance.stats().mean < 0.2001, "scaled");
    /// ```
    #[rhai_fn(name = "*", return_raw, pure)]
    pub fn multiply(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Multiply, other, true)
    }

    /// Multiplies a number by a raster, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((2 * r).stats().mean == 6.0, "2 x 3");
    /// ```
    #[rhai_fn(name = "*", return_raw)]
    pub fn multiply_number(number: Dynamic, r: Raster) -> Result<Raster, Box<EvalAltResult>> {
        combine(&r, Binary::Multiply, number, false)
    }

    /// Divides by a raster or a number, pixel by pixel; division by zero
    /// gives a missing value (NaN), not infinity.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r / 2).stats().mean == 1.5, "3 / 2");
    /// assert((r / 0).stats().count == 0, "all missing");
    /// ```
    #[rhai_fn(name = "/", return_raw, pure)]
    pub fn divide(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Divide, other, true)
    }

    /// Divides a number by a raster, pixel by pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 4.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((1 / r).stats().mean == 0.25, "1 / 4");
    /// ```
    #[rhai_fn(name = "/", return_raw)]
    pub fn divide_number(number: Dynamic, r: Raster) -> Result<Raster, Box<EvalAltResult>> {
        combine(&r, Binary::Divide, number, false)
    }

    /// A mask: 1 where the raster is greater than the other value, else 0
    /// (missing where either is missing).
    ///
    /// ```rhai
    /// let ndvi = matrix(2, 2, 0.6).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((ndvi > 0.5).stats().mean == 1.0, "all vegetated");
    /// ```
    #[rhai_fn(name = ">", return_raw, pure)]
    pub fn greater(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Greater, other, true)
    }

    /// A mask: 1 where the raster is greater than or equal to the other value.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r >= 1).stats().mean == 1.0, "1 >= 1");
    /// ```
    #[rhai_fn(name = ">=", return_raw, pure)]
    pub fn greater_or_equal(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::GreaterOrEqual, other, true)
    }

    /// A mask: 1 where the raster is less than the other value.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r < 0).stats().mean == 0.0, "nothing below 0");
    /// ```
    #[rhai_fn(name = "<", return_raw, pure)]
    pub fn less(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Less, other, true)
    }

    /// A mask: 1 where the raster is less than or equal to the other value.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r <= 1.0).stats().mean == 1.0, "1 <= 1");
    /// ```
    #[rhai_fn(name = "<=", return_raw, pure)]
    pub fn less_or_equal(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::LessOrEqual, other, true)
    }

    /// A mask: 1 where the raster equals the other value (e.g. a class code).
    ///
    /// ```rhai
    /// let classes = matrix(2, 2, 4.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((classes == 4).stats().mean == 1.0, "class 4");
    /// ```
    #[rhai_fn(name = "==", return_raw, pure)]
    pub fn equal(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Equal, other, true)
    }

    /// A mask: 1 where the raster differs from the other value.
    ///
    /// ```rhai
    /// let classes = matrix(2, 2, 4.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((classes != 4).stats().mean == 0.0, "all class 4");
    /// ```
    #[rhai_fn(name = "!=", return_raw, pure)]
    pub fn not_equal(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::NotEqual, other, true)
    }

    /// A mask: 1 where both masks are non-zero.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 0.5).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(((r > 0) & (r < 1)).stats().mean == 1.0, "between 0 and 1");
    /// ```
    #[rhai_fn(name = "&", return_raw, pure)]
    pub fn and(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::And, other, true)
    }

    /// A bit test on a flag band (e.g. OLCI's `quality_flags`): 1 where any
    /// bit of `mask` is set in the stored 32-bit integer, 0 where none is,
    /// missing where the word is the fill value. The test runs on the
    /// integers as the file stores them, so all 32 bits count.
    ///
    /// ```rhai
    /// let flags = matrix(1, 2, 0.0);
    /// flags.set(0, 1, 4.0);
    /// flags.to_raster([0.0, 0.0, 1.0, 1.0]).save("output/flags.tif");
    /// let bit2 = open_raster("output/flags.tif") & 4;
    /// assert(bit2.stats().mean == 0.5, "one of the two pixels has bit 2");
    /// ```
    #[rhai_fn(name = "&", return_raw, pure)]
    pub fn bit_test(r: &mut Raster, mask: INT) -> Result<Raster, Box<EvalAltResult>> {
        let mask = u32::try_from(mask).map_err(|_| {
            crate::api::script_error(
                "BadValue",
                &format!("{mask} is not a 32-bit flag mask"),
                "write a mask between 0 and 0xFFFFFFFF, e.g. 0x80000000 for OLCI's land bit",
            )
        })?;
        r.flag_test(mask).map_err(raster_error)
    }

    /// A mask: 1 where either mask is non-zero.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 5.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(((r < 0) | (r > 4)).stats().mean == 1.0, "outside 0 to 4");
    /// ```
    #[rhai_fn(name = "|", return_raw, pure)]
    pub fn or(r: &mut Raster, other: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Or, other, true)
    }

    /// The absolute value of every pixel.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, -2.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(abs(r).stats().mean == 2.0, "|-2|");
    /// ```
    #[rhai_fn(name = "abs", pure)]
    pub fn absolute(r: &mut Raster) -> Raster {
        r.unary(Unary::Abs)
    }

    /// The square root of every pixel (missing where negative).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 9.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(sqrt(r).stats().mean == 3.0, "sqrt 9");
    /// ```
    #[rhai_fn(name = "sqrt", pure)]
    pub fn square_root(r: &mut Raster) -> Raster {
        r.unary(Unary::Sqrt)
    }

    /// The base-10 logarithm of every pixel (e.g. for log-scaled ocean
    /// colour); missing where the value is ≤ 0.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 100.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(log10(r).stats().mean == 2.0, "log10 100");
    /// ```
    #[rhai_fn(name = "log10", pure)]
    pub fn log_10(r: &mut Raster) -> Raster {
        r.unary(Unary::Log10)
    }

    /// The natural logarithm of every pixel; missing where the value is ≤ 0.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(ln(r).stats().mean == 0.0, "ln 1");
    /// ```
    #[rhai_fn(name = "ln", pure)]
    pub fn natural_log(r: &mut Raster) -> Raster {
        r.unary(Unary::Ln)
    }

    /// Linear power to decibels, `10 * log10(x)` (radar backscatter).
    /// Values ≤ 0 (a product's zero border) become missing, not -inf.
    ///
    /// ```rhai
    /// let sigma0 = matrix(2, 2, 0.01).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let mean_db = db(sigma0).stats().mean;
    /// assert(mean_db > -20.0001 && mean_db < -19.9999, "0.01 is -20 dB");
    /// ```
    #[rhai_fn(name = "db", pure)]
    pub fn decibel(r: &mut Raster) -> Raster {
        let mut decibels = r.unary(Unary::Decibel);
        decibels.unit = "dB".into();
        decibels
    }

    /// A mask: 1 where the pixel has a value, 0 where it is missing.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]) / 0;
    /// assert(is_valid(r).stats().mean == 0.0, "all missing");
    /// ```
    #[rhai_fn(name = "is_valid", pure)]
    pub fn valid(r: &mut Raster) -> Raster {
        r.unary(Unary::IsValid)
    }

    /// `e` raised to every pixel (back from `ln`).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 0.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(exp(r).stats().mean == 1.0, "e^0");
    /// ```
    #[rhai_fn(name = "exp", pure)]
    pub fn exponential(r: &mut Raster) -> Raster {
        r.unary(Unary::Exp)
    }

    /// Every pixel raised to the power `exponent` (missing where the result
    /// is not a real number, e.g. a negative value to the power 0.5).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(pow(r, 2).stats().mean == 9.0, "3 squared");
    /// ```
    #[rhai_fn(name = "pow", return_raw, pure)]
    pub fn power(r: &mut Raster, exponent: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Power, exponent, true)
    }

    /// Every pixel raised to the power `exponent`, as `r ** 2`.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 2.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert((r ** 3).stats().mean == 8.0, "2 cubed");
    /// ```
    #[rhai_fn(name = "**", return_raw, pure)]
    pub fn power_operator(r: &mut Raster, exponent: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        combine(r, Binary::Power, exponent, true)
    }

    /// Decibels back to linear power, `10^(x / 10)` (the inverse of `db`):
    /// average backscatter in linear units, then convert to dB.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, -20.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let linear = from_db(r).stats().mean;
    /// assert(linear > 0.00999 && linear < 0.01001, "-20 dB is 0.01");
    /// ```
    #[rhai_fn(name = "from_db", pure)]
    pub fn from_decibel(r: &mut Raster) -> Raster {
        let tenths = r.with_scalar(Binary::Divide, 10.0, false);
        tenths.with_scalar(Binary::Power, 10.0, true)
    }

    /// The unit of the values when the file or the routine says it (e.g.
    /// `"K"`, `"dB"`, `"mol m-2"`), else `""`.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 0.01).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(db(r).unit == "dB", "decibels");
    /// ```
    #[rhai_fn(get = "unit", pure)]
    pub fn unit(r: &mut Raster) -> String {
        r.unit.clone()
    }

    /// `(a - b) / (a + b)` in one pass: NDVI (NIR, red), NBR (NIR, SWIR),
    /// NDWI (green, NIR), NDSI (green, SWIR).
    ///
    /// ```rhai
    /// let nir = matrix(2, 2, 0.5).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let red = matrix(2, 2, 0.1).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let ndvi = normalized_difference(nir, red).stats().mean;
    /// assert(ndvi > 0.6666 && ndvi < 0.6667, "(0.5 - 0.1) / 0.6");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn normalized_difference(a: Raster, b: Raster) -> Result<Raster, Box<EvalAltResult>> {
        Raster::normalized_difference(&a, &b).map_err(raster_error)
    }

    /// Where `mask` is non-zero the first value, else the second; each may
    /// be a raster or a number.
    ///
    /// ```rhai
    /// let t = matrix(2, 2, 30.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let hot = where(t > 25, 1, 0);
    /// assert(hot.stats().mean == 1.0, "all hot");
    /// ```
    #[rhai_fn(name = "where", return_raw)]
    pub fn choose(
        mask: Raster,
        when_true: Dynamic,
        when_false: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let when_true = as_raster(when_true, &mask)?;
        let when_false = as_raster(when_false, &mask)?;
        mask.choose(&when_true, &when_false).map_err(raster_error)
    }

    /// The raster where `mask` is non-zero, missing elsewhere (e.g. keep
    /// only water pixels).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 7.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(r.mask(r > 10).stats().count == 0, "nothing above 10");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn mask(r: &mut Raster, mask: Raster) -> Result<Raster, Box<EvalAltResult>> {
        r.masked(&mask).map_err(raster_error)
    }

    /// The part of the raster covering `[lon_min, lat_min, lon_max, lat_max]`
    /// (degrees), whatever the raster's own CRS. Nothing is read.
    ///
    /// ```rhai
    /// let r = matrix(100, 100, 1.0).to_raster([10.0, 40.0, 11.0, 41.0]);
    /// let part = r.clip([10.2, 40.2, 10.4, 40.5]);
    /// assert(part.width == 20 && part.height == 30, "0.2 x 0.3 degrees at 0.01");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn clip(r: &mut Raster, bounds: Array) -> Result<Raster, Box<EvalAltResult>> {
        let lonlat = crate::api::args::bounds(&Dynamic::from_array(bounds))?;
        let native = crs::lonlat_bounds_to(&r.grid().crs, lonlat).map_err(raster_error)?;
        r.clip(native).map_err(raster_error)
    }

    /// The part of the raster covering bounds given as a map `#{x_min,
    /// y_min, x_max, y_max, crs}` (what `.bounds` gives); without `crs` the
    /// bounds are lon/lat degrees. Nothing is read.
    ///
    /// ```rhai
    /// let r = matrix(100, 100, 1.0).to_raster([10.0, 40.0, 11.0, 41.0]);
    /// let part = r.clip(#{ x_min: 10.2, y_min: 40.2, x_max: 10.4, y_max: 40.5 });
    /// assert(part.width == 20 && part.height == 30, "0.2 x 0.3 degrees at 0.01");
    /// assert(r.clip(part.bounds).width == 20, "another raster's extent");
    /// ```
    #[rhai_fn(name = "clip", return_raw, pure)]
    pub fn clip_to_bounds(r: &mut Raster, bounds: Map) -> Result<Raster, Box<EvalAltResult>> {
        let native = super::bounds_in_crs_of(r, &bounds)?;
        r.clip(native).map_err(raster_error)
    }

    /// This raster resampled onto `reference`'s grid (its CRS, extent and
    /// pixel size), with bilinear resampling, so that the two combine: two
    /// clips of one product a pixel apart, a 20 m band on a 10 m grid.
    ///
    /// ```rhai
    /// matrix(11, 10, 1.0).to_raster([10.0, 40.0, 10.11, 40.1]).save("output/a.tif");
    /// matrix(10, 10, 2.0).to_raster([10.0, 40.0, 10.1, 40.1]).save("output/b.tif");
    /// let a = open_raster("output/a.tif");
    /// let b = open_raster("output/b.tif");
    /// let sum = align(a, b) + b;
    /// assert(sum.width == 10 && sum.stats().mean == 3.0, "on b's grid");
    /// ```
    #[rhai_fn(name = "align", return_raw, pure)]
    pub fn align(r: &mut Raster, reference: Raster) -> Result<Raster, Box<EvalAltResult>> {
        align_with(r, reference, Map::new())
    }

    /// `align` with options: `resampling` (`"nearest"` for classes and
    /// masks, `"bilinear"`, `"cubic"`, `"average"`, `"mode"`).
    ///
    /// ```rhai
    /// matrix(11, 10, 1.0).to_raster([10.0, 40.0, 10.11, 40.1]).save("output/a.tif");
    /// matrix(10, 10, 2.0).to_raster([10.0, 40.0, 10.1, 40.1]).save("output/b.tif");
    /// let classes = align(open_raster("output/a.tif"), open_raster("output/b.tif"), #{ resampling: "nearest" });
    /// assert(classes.stats().max == 1.0, "no mixed classes");
    /// ```
    #[rhai_fn(name = "align", return_raw, pure)]
    pub fn align_with(
        r: &mut Raster,
        reference: Raster,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let resampling = super::warp_options(None, &options)?.resampling;
        if options.contains_key("resolution") {
            return Err(crate::api::script_error(
                "BadOption",
                "align takes its resolution from the reference raster",
                "remove `resolution`, or use reproject(...) for a grid of your own",
            ));
        }
        r.align(reference.grid(), resampling).map_err(raster_error)
    }

    /// The raster in another coordinate reference system (e.g. `"EPSG:4326"`
    /// for lon/lat, `"EPSG:32633"` for UTM 33N), warped lazily with bilinear
    /// resampling. Warp bands before combining them.
    ///
    /// ```rhai
    /// matrix(20, 20, 2.0).to_raster([15.0, 40.0, 15.2, 40.2]).save("output/ll.tif");
    /// let utm = open_raster("output/ll.tif").reproject("EPSG:32633");
    /// assert(utm.crs == "EPSG:32633", "now in UTM 33N");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn reproject(r: &mut Raster, crs: &str) -> Result<Raster, Box<EvalAltResult>> {
        reproject_with(r, crs, Map::new())
    }

    /// Reprojects with options: `resolution` (a number or `[x, y]`, in the
    /// target CRS's units) and `resampling` (`"nearest"`, `"bilinear"`,
    /// `"cubic"`, `"average"`, `"mode"`).
    ///
    /// ```rhai
    /// matrix(20, 20, 2.0).to_raster([15.0, 40.0, 15.2, 40.2]).save("output/ll.tif");
    /// let utm = open_raster("output/ll.tif").reproject("EPSG:32633", #{ resolution: 100.0, resampling: "average" });
    /// assert(utm.resolution == [100.0, 100.0], "100 m pixels");
    /// ```
    #[rhai_fn(name = "reproject", return_raw, pure)]
    pub fn reproject_with(
        r: &mut Raster,
        crs: &str,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let options = super::warp_options(Some(crs.to_string()), &options)?;
        r.warp(&options).map_err(raster_error)
    }

    /// The raster on a grid of `resolution` (in its CRS's units), by
    /// averaging when coarser: e.g. bring a 10 m band to the 20 m bands.
    ///
    /// ```rhai
    /// matrix(40, 40, 1.0).to_raster([15.0, 40.0, 15.4, 40.4]).save("output/fine.tif");
    /// let coarse = open_raster("output/fine.tif").resample(0.02);
    /// assert(coarse.width == 20, "twice coarser");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn resample(r: &mut Raster, resolution: FLOAT) -> Result<Raster, Box<EvalAltResult>> {
        let mut options = Map::new();
        options.insert("resolution".into(), Dynamic::from_float(resolution));
        options.insert("resampling".into(), "average".into());
        let options = super::warp_options(None, &options)?;
        r.warp(&options).map_err(raster_error)
    }

    /// A time stack of aligned rasters, numbered 1, 2, ... in order.
    ///
    /// ```rhai
    /// let a = matrix(5, 5, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let b = matrix(5, 5, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([a, b]).mean().stats().mean == 2.0, "mean of 1 and 3");
    /// ```
    #[rhai_fn(name = "stack", return_raw)]
    pub fn stack_of(rasters: Array) -> Result<Stack, Box<EvalAltResult>> {
        let layers = rasters_of(rasters)?;
        Stack::new(layers, None).map_err(raster_error)
    }

    /// A time stack of aligned rasters with their dates (ISO `"YYYY-MM-DD"`),
    /// kept in date order.
    ///
    /// ```rhai
    /// let jan = matrix(5, 5, 280.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let jul = matrix(5, 5, 300.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let sst = stack([jul, jan], ["2020-07-01", "2020-01-01"]);
    /// assert(sst.dates == ["2020-01-01", "2020-07-01"], "sorted by date");
    /// ```
    #[rhai_fn(name = "stack", return_raw)]
    pub fn stack_with_dates(rasters: Array, dates: Array) -> Result<Stack, Box<EvalAltResult>> {
        let layers = rasters_of(rasters)?;
        let dates = dates.into_iter().map(|d| d.to_string()).collect();
        Stack::new(layers, Some(dates)).map_err(raster_error)
    }

    /// A time stack with options: `dates` (ISO dates, one per raster) and
    /// `align: true`, which resamples every raster onto the first one's grid
    /// (bilinear; `resampling` to choose another method).
    ///
    /// ```rhai
    /// matrix(11, 10, 1.0).to_raster([10.0, 40.0, 10.11, 40.1]).save("output/a.tif");
    /// matrix(10, 10, 3.0).to_raster([10.0, 40.0, 10.1, 40.1]).save("output/b.tif");
    /// let rasters = [open_raster("output/b.tif"), open_raster("output/a.tif")];
    /// let s = stack(rasters, #{ align: true, dates: ["2021-05-01", "2021-05-13"] });
    /// assert(s.mean().stats().mean == 2.0, "mean of 3 and 1");
    /// ```
    #[rhai_fn(name = "stack", return_raw)]
    pub fn stack_with_options(rasters: Array, options: Map) -> Result<Stack, Box<EvalAltResult>> {
        use crate::api::args::Options;
        Options::check_as(
            &options,
            &["dates", "align", "resampling"],
            "BadOption",
            "a stack option",
        )?;
        let mut layers = rasters_of(rasters)?;
        let align = options
            .get("align")
            .map(|v| v.as_bool())
            .transpose()
            .map_err(|found| {
                crate::api::script_error(
                    "BadOption",
                    &format!("align must be true or false, not a {found}"),
                    "write #{ align: true }",
                )
            })?;
        if align == Some(true)
            && let Some(first) = layers.first().map(|l| l.grid().clone())
        {
            let mut method = Map::new();
            if let Some(resampling) = options.get("resampling") {
                method.insert("resampling".into(), resampling.clone());
            }
            let resampling = super::warp_options(None, &method)?.resampling;
            layers = layers
                .iter()
                .map(|layer| layer.align(&first, resampling))
                .collect::<Result<_, _>>()
                .map_err(raster_error)?;
        }
        let dates = match options.get("dates") {
            None => None,
            Some(dates) => Some(
                dates
                    .clone()
                    .into_typed_array::<rhai::ImmutableString>()
                    .map_err(|_| {
                        crate::api::script_error(
                            "BadOption",
                            "dates must be a list of ISO dates as text",
                            "write #{ dates: [\"2021-05-01\", \"2021-05-13\"] }",
                        )
                    })?
                    .into_iter()
                    .map(|d| d.to_string())
                    .collect(),
            ),
        };
        Stack::new(layers, dates).map_err(raster_error)
    }

    /// How many rasters the stack holds.
    ///
    /// ```rhai
    /// let r = matrix(2, 2).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r, r]).len == 3, "three layers");
    /// ```
    #[rhai_fn(get = "len", pure)]
    pub fn stack_len(s: &mut Stack) -> INT {
        s.layers().len() as INT
    }

    /// The stack's dates, in order.
    ///
    /// ```rhai
    /// let r = matrix(2, 2).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// print(stack([r, r], ["2019-04-01", "2019-05-01"]).dates);
    /// ```
    #[rhai_fn(get = "dates", pure)]
    pub fn stack_dates(s: &mut Stack) -> Array {
        s.dates().iter().map(|d| Dynamic::from(d.clone())).collect()
    }

    /// The raster at position `index` (from 0, in date order).
    ///
    /// ```rhai
    /// let a = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let b = matrix(2, 2, 2.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let s = stack([b, a], ["2020-02-01", "2020-01-01"]);
    /// assert(s[0].stats().mean == 1.0, "the earliest first");
    /// ```
    #[rhai_fn(index_get, return_raw, pure)]
    pub fn stack_layer(s: &mut Stack, index: INT) -> Result<Raster, Box<EvalAltResult>> {
        let count = s.layers().len();
        usize::try_from(index)
            .ok()
            .and_then(|i| s.layers().get(i).cloned())
            .ok_or_else(|| {
                crate::api::script_error(
                    "IndexOutOfBounds",
                    &format!("the stack has {count} rasters; there is no raster {index}"),
                    "positions start at 0",
                )
            })
    }

    /// The per-pixel mean across dates (missing values skipped).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 4.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r / 2]).mean().stats().mean == 3.0, "mean of 4 and 2");
    /// ```
    #[rhai_fn(name = "mean", pure)]
    pub fn stack_mean(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Mean)
    }

    /// The per-pixel median across dates: a robust reference image.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r * 2, r * 10]).median().stats().mean == 2.0, "median of 1, 2, 10");
    /// ```
    #[rhai_fn(name = "median", pure)]
    pub fn stack_median(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Median)
    }

    /// The per-pixel minimum across dates.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r * 5]).min().stats().mean == 1.0, "minimum");
    /// ```
    #[rhai_fn(name = "min", pure)]
    pub fn stack_min(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Min)
    }

    /// The per-pixel maximum across dates.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r * 5]).max().stats().mean == 5.0, "maximum");
    /// ```
    #[rhai_fn(name = "max", pure)]
    pub fn stack_max(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Max)
    }

    /// The per-pixel standard deviation across dates (variability).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r * 3]).std().stats().mean == 1.0, "std of 1 and 3");
    /// ```
    #[rhai_fn(name = "std", pure)]
    pub fn stack_std(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Std)
    }

    /// Per-pixel count of dates with a value (e.g. cloud-free observations).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r, r / 0]).count().stats().mean == 1.0, "one valid date");
    /// ```
    #[rhai_fn(name = "count", pure)]
    pub fn stack_count(s: &mut Stack) -> Raster {
        s.reduce(Reduction::Count)
    }

    /// The per-pixel `p`-th percentile across dates (0 to 100; 50 is the
    /// median), missing values skipped. Same definition as numpy's
    /// `np.percentile` (its default, "linear"): position `(n - 1) p / 100`
    /// in the pixel's sorted values, interpolated between neighbours.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let s = stack([r, r * 2, r * 3, r * 4, r * 5]);
    /// assert(s.percentile(25).stats().mean == 2.0, "25th of 1..5");
    /// assert(s.percentile(12.5).stats().mean == 1.5, "interpolated");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn percentile(s: &mut Stack, p: Dynamic) -> Result<Raster, Box<EvalAltResult>> {
        let hint = "give the percentile as a number from 0 to 100, e.g. s.percentile(25)";
        let p = number_of(&p, "the percentile", hint)?;
        let reduction = Reduction::percentile(p)
            .map_err(|e| crate::api::script_error("BadArgument", &e.to_string(), hint))?;
        Ok(s.reduce(reduction))
    }

    /// The stack with each date's pixels made missing where that date's
    /// layer of `masks` (a stack with the same dates, e.g. Sentinel-2 SCL
    /// layers) is one of `classes`; reductions then ignore them, and a pixel
    /// masked on every date has no value. SCL's cloud shadow, cloud and
    /// cirrus classes are 3, 8, 9 and 10.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 100.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let scl = [r * 0 + 4, r * 0 + 9];   // vegetation, then cloud
    /// let s = stack([r, r * 50]).masked_by(stack(scl), [3, 8, 9, 10]);
    /// assert(s.median().stats().mean == 100.0, "the cloudy date is ignored");
    /// assert(s.count().stats().mean == 1.0, "one clear date");
    /// ```
    #[rhai_fn(name = "masked_by", return_raw, pure)]
    pub fn stack_masked_by_classes(
        s: &mut Stack,
        masks: Stack,
        classes: Array,
    ) -> Result<Stack, Box<EvalAltResult>> {
        s.masked_by_classes(&masks, &classes_of(&classes)?)
            .map_err(stack_error)
    }

    /// The stack with each date's pixels made missing where that date's
    /// layer of `masks` is non-zero (e.g. `cloud_probability > 40`), as in
    /// openEO's `mask`.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 10.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let clouds = stack([r > 50, r > 5]);
    /// assert(stack([r, r * 3]).masked_by(clouds).max().stats().mean == 10.0, "date 2 cloudy");
    /// ```
    #[rhai_fn(name = "masked_by", return_raw, pure)]
    pub fn stack_masked_by(s: &mut Stack, masks: Stack) -> Result<Stack, Box<EvalAltResult>> {
        s.masked_where(&masks).map_err(stack_error)
    }

    /// Per pixel, the position (from 0, in date order) of the date with the
    /// lowest value; ties go to the earliest date, missing values are skipped
    /// (numpy's `nanargmin`).
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r * 3, r, r * 2]).argmin().stats().mean == 1.0, "the second date");
    /// ```
    #[rhai_fn(pure)]
    pub fn argmin(s: &mut Stack) -> Raster {
        s.position_of(Extreme::Lowest)
    }

    /// Per pixel, the position (from 0, in date order) of the date with the
    /// highest value; ties go to the earliest date, missing values are skipped.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(stack([r * 3, r, r * 2]).argmax().stats().mean == 0.0, "the first date");
    /// ```
    #[rhai_fn(pure)]
    pub fn argmax(s: &mut Stack) -> Raster {
        s.position_of(Extreme::Highest)
    }

    /// Per pixel, the stack's value on the date where `scores` (a stack with
    /// the same dates) is lowest (`"min"`) or highest (`"max"`): e.g. each
    /// pixel from its least cloudy date. Dates where the score or the value
    /// is missing are skipped; ties go to the earliest date.
    ///
    /// ```rhai
    /// let r = matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let red = stack([r * 900, r * 400]);
    /// let cloud_probability = stack([r * 70, r * 5]);
    /// let clearest = red.pick_by(cloud_probability, "min");
    /// assert(clearest.stats().mean == 400.0, "from the clear date");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn pick_by(s: &mut Stack, scores: Stack, best: &str) -> Result<Raster, Box<EvalAltResult>> {
        s.pick_by(&scores, extreme_of(best)?).map_err(stack_error)
    }

    /// 1 where the value is one of `classes`, 0 elsewhere, missing where the
    /// raster is: e.g. the cloudy pixels of a Sentinel-2 scene classification.
    ///
    /// ```rhai
    /// let scl = matrix(2, 2, 9.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// assert(scl.is_in([3, 8, 9, 10]).stats().mean == 1.0, "class 9 is cloud");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn is_in(r: &mut Raster, classes: Array) -> Result<Raster, Box<EvalAltResult>> {
        Ok(r.is_in(&classes_of(&classes)?))
    }

    /// The time series of the stack: for each date, the mean and the number
    /// of valid pixels, as `[#{date, mean, count}, ...]`.
    ///
    /// ```rhai
    /// let r = matrix(3, 3, 10.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let ts = stack([r, r * 2], ["2020-01-01", "2020-02-01"]).series();
    /// assert(ts[1].mean == 20.0 && ts[1].count == 9, "February doubled");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn series(ctx: NativeCallContext, s: &mut Stack) -> Result<Array, Box<EvalAltResult>> {
        let mut rows = Array::new();
        for (date, layer) in s.dates().iter().zip(s.layers()) {
            let stats = compute(&ctx, |c| c.stats(layer))?;
            let mut row = Map::new();
            row.insert("date".into(), date.clone().into());
            row.insert("mean".into(), Dynamic::from_float(stats.mean));
            row.insert("count".into(), (stats.count as INT).into());
            rows.push(row.into());
        }
        Ok(rows)
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// let r = matrix(2, 2).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// print(stack([r, r], ["2020-01-01", "2020-01-02"]));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe_stack(s: &mut Stack) -> String {
        let first = s.dates().first().cloned().unwrap_or_default();
        let last = s.dates().last().cloned().unwrap_or_default();
        let grid = s.layers()[0].grid();
        format!(
            "Stack({} rasters, {first} to {last}, {} x {} px)",
            s.layers().len(),
            grid.width,
            grid.height
        )
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// let r = matrix(2, 2).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// debug(stack([r]));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_stack_debug(s: &mut Stack) -> String {
        describe_stack(s)
    }

    /// The part of the raster covering `[x_min, y_min, x_max, y_max]` in the
    /// raster's own CRS (e.g. metres for UTM). Nothing is read.
    ///
    /// ```rhai
    /// let r = matrix(100, 100, 1.0).to_raster([10.0, 40.0, 11.0, 41.0]);
    /// assert(r.clip_xy([10.0, 40.0, 10.5, 40.25]).width == 50, "half the width");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn clip_xy(r: &mut Raster, bounds: Array) -> Result<Raster, Box<EvalAltResult>> {
        let not_a_box = || {
            crate::api::script_error(
                "BadValue",
                &format!("{bounds:?} is not a bounding box"),
                "write [x_min, y_min, x_max, y_max] in the raster's CRS units, with min < max",
            )
        };
        let [x0, y0, x1, y1] = crate::api::args::four_numbers(&Dynamic::from_array(bounds.clone()))
            .map_err(|_| not_a_box())?;
        if !(x0 < x1 && y0 < y1) {
            return Err(not_a_box());
        }
        r.clip((x0, y0, x1, y1)).map_err(raster_error)
    }

    /// The part of the raster inside an area of interest: clipped to its
    /// bounds, and missing outside the polygon (e.g. the Mediterranean Sea
    /// outline). Nothing is read.
    ///
    /// ```rhai
    /// let r = matrix(100, 100, 1.0).to_raster([10.0, 40.0, 11.0, 41.0]);
    /// let triangle = aoi_polygon([[10.0, 40.0], [11.0, 40.0], [10.0, 41.0]]);
    /// let s = r.clip(triangle).stats();
    /// assert(s.count > 4800 && s.count < 5000, "about half the square");
    /// ```
    #[rhai_fn(name = "clip", return_raw, pure)]
    pub fn clip_to_aoi(
        r: &mut Raster,
        aoi: crate::eo::geometry::Aoi,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let crs = r.grid().crs.clone();
        let rings = crate::api::aoi::rings(&aoi)
            .into_iter()
            .map(|ring| crs::lonlat_points_to(&crs, &ring))
            .collect::<Result<Vec<_>, _>>()
            .map_err(raster_error)?;
        r.clip_to_rings(rings).map_err(raster_error)
    }

    /// Statistics of the valid pixels: `#{count, missing, total, min, max,
    /// mean, std}`. `count` is the valid pixels, `total` every pixel. A
    /// pixel is valid when it is a finite number: nodata, masked pixels and
    /// the infinities of `log10(0)` or an overflow are missing. With no
    /// valid pixel every moment is NaN, and a warning says why that may be.
    ///
    /// ```rhai
    /// let s = matrix(10, 10, 2.0).to_raster([0.0, 0.0, 1.0, 1.0]).stats();
    /// assert(s.count == 100 && s.mean == 2.0 && s.std == 0.0, "constant");
    /// let border = matrix(1, 2, 0.0);
    /// border.set(0, 1, 100.0);
    /// let s = db(border.to_raster([0.0, 0.0, 1.0, 1.0])).stats();
    /// assert(s.count == 1 && s.total == 2 && s.mean == 20.0, "db(0) is missing");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn stats(ctx: NativeCallContext, r: &mut Raster) -> Result<Map, Box<EvalAltResult>> {
        let s = compute(&ctx, |c| c.stats(r))?;
        if s.count == 0 {
            Host::of(&ctx)?.warn_once(
                "stats-of-nothing",
                &format!(
                    "warning: none of the raster's {} pixels has a value, so its statistics \
                     are NaN; the area may lie outside the data, or every pixel is nodata or \
                     masked (check r.bounds against your area, and the mask)",
                    s.total()
                ),
            );
        }
        let mut map = Map::new();
        map.insert("count".into(), (s.count as INT).into());
        map.insert("missing".into(), (s.missing as INT).into());
        map.insert("total".into(), (s.total() as INT).into());
        for (key, value) in [
            ("min", s.min),
            ("max", s.max),
            ("mean", s.mean),
            ("std", s.std),
        ] {
            let value = if value.is_finite() { value } else { FLOAT::NAN };
            map.insert(key.into(), Dynamic::from_float(value));
        }
        Ok(map)
    }

    /// A histogram of the valid pixels in `bins` equal bins between the
    /// minimum and maximum: `#{edges, counts}`.
    ///
    /// ```rhai
    /// let h = matrix(4, 4, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]).histogram(5);
    /// assert(h.counts.len() == 5 && h.edges.len() == 6, "5 bins");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn histogram(
        ctx: NativeCallContext,
        r: &mut Raster,
        bins: INT,
    ) -> Result<Map, Box<EvalAltResult>> {
        histogram_between(ctx, r, bins, FLOAT::NAN, FLOAT::NAN)
    }

    /// A histogram in `bins` equal bins between `min` and `max` (values
    /// outside are not counted).
    ///
    /// ```rhai
    /// let h = matrix(4, 4, 0.5).to_raster([0.0, 0.0, 1.0, 1.0]).histogram(2, 0.0, 1.0);
    /// assert(h.counts == [0, 16], "all in the upper half");
    /// ```
    #[rhai_fn(name = "histogram", return_raw, pure)]
    pub fn histogram_between(
        ctx: NativeCallContext,
        r: &mut Raster,
        bins: INT,
        min: FLOAT,
        max: FLOAT,
    ) -> Result<Map, Box<EvalAltResult>> {
        let bins = usize::try_from(bins).unwrap_or(0).clamp(1, 10_000);
        let range = (min.is_finite() && max.is_finite()).then_some((min, max));
        let h = compute(&ctx, |c| c.histogram(r, bins, range))?;
        let mut map = Map::new();
        let edges: Array = h.edges().into_iter().map(Dynamic::from_float).collect();
        let counts: Array = h
            .counts
            .iter()
            .map(|&n| Dynamic::from_int(n as INT))
            .collect();
        map.insert("edges".into(), edges.into());
        map.insert("counts".into(), counts.into());
        Ok(map)
    }

    /// The values below which the given fractions of the valid pixels lie,
    /// e.g. `[0.02, 0.98]` for a 2–98 % display stretch.
    ///
    /// ```rhai
    /// let q = matrix(10, 10, 5.0).to_raster([0.0, 0.0, 1.0, 1.0]).quantiles([0.5]);
    /// assert(q.len() == 1 && q[0] > 4.99 && q[0] < 5.01, "median of fives");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn quantiles(
        ctx: NativeCallContext,
        r: &mut Raster,
        levels: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let levels: Vec<FLOAT> = levels
            .iter()
            .map(|v| {
                v.as_float()
                    .or_else(|_| v.as_int().map(|i| i as FLOAT))
                    .unwrap_or(FLOAT::NAN)
            })
            .collect();
        let values = compute(&ctx, |c| c.quantiles(r, &levels))?;
        Ok(values.into_iter().map(Dynamic::from_float).collect())
    }

    /// Saves the raster (32-bit floats, missing pixels as NaN) in the
    /// workspace: GeoTIFF, a Cloud-Optimized GeoTIFF when the name ends in
    /// `.cog.tif`, or netCDF for `.nc`. The file counts against the disk quota
    /// and appears only once complete.
    ///
    /// ```rhai
    /// let r = matrix(50, 50, 0.3).to_raster([14.0, 37.0, 15.0, 38.0]);
    /// r.save("output/index.tif");
    /// assert(file_exists("output/index.tif"), "saved");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn save(
        ctx: NativeCallContext,
        r: &mut Raster,
        path: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let destination = crate::sandbox::files::destination(&host.workspace(), &host.disk, path)
            .map_err(file_error)?;
        destination.make_folders().map_err(file_error)?;
        let format = SaveFormat::from_path(destination.real());
        let mut held = None;
        let accept = |size: u64| {
            held = Some(destination.hold(size).map_err(|error| match error {
                crate::sandbox::files::FileError::Quota(breach) => {
                    RasterError::Stopped(Stop::Quota(breach))
                }
                other => RasterError::Gdal {
                    path: path.to_string(),
                    message: other.to_string(),
                },
            })?);
            Ok(())
        };
        compute(&ctx, |c| c.save(r, destination.real(), format, accept))?;
        if let Some(hold) = held {
            hold.commit();
        }
        Ok(())
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(matrix(3, 4).to_raster([0.0, 0.0, 4.0, 3.0]));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(r: &mut Raster) -> String {
        let grid = r.grid();
        let (x, y) = grid.resolution();
        format!(
            "Raster({} x {} px, pixel {x} x {y}, {})",
            grid.width,
            grid.height,
            crs::label(&grid.crs)
        )
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(matrix(3, 4).to_raster([0.0, 0.0, 4.0, 3.0]));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(r: &mut Raster) -> String {
        describe(r)
    }
}
