//! Swaths: scattered measurements (Sentinel-5P, Sentinel-3) as points with
//! longitude, latitude, value and quality; clip, filter and scale them, then
//! grid them onto a lon/lat raster to map, stack or compare.

use crate::eo::swath::{GridRequest, Gridding, Swath};
use rhai::plugin::*;
use rhai::{Array, FLOAT, Map};

pub fn module() -> Module {
    let mut module = exported_module!(swath_api);
    module.set_custom_type::<Swath>("Swath");
    module
}

fn floats(values: &Array, what: &str) -> Result<Vec<f32>, Box<EvalAltResult>> {
    values
        .iter()
        .map(|v| {
            v.as_float()
                .ok()
                .or_else(|| v.as_int().ok().map(|i| i as FLOAT))
                .map(|f| f as f32)
        })
        .collect::<Option<Vec<f32>>>()
        .ok_or_else(|| {
            crate::api::script_error(
                "TypeMismatch",
                &format!("{what} must be an array of numbers"),
                "",
            )
        })
}

/// Gridding options: `resolution` (degrees, default 0.05), `bounds`
/// (default: the swath's), `method` ("nearest", "linear", "natural"),
/// `max_distance` (degrees, default 3 cells).
fn grid_options(options: &Map, swath: &Swath) -> Result<GridRequest, Box<EvalAltResult>> {
    use crate::api::script_error;
    crate::api::args::Options::check_as(
        options,
        &["resolution", "bounds", "method", "max_distance"],
        "BadOption",
        "a gridding option",
    )?;
    let number = |key: &str| {
        options
            .get(key)
            .map(|v| v.as_float().or_else(|_| v.as_int().map(|i| i as FLOAT)))
    };
    let resolution = match number("resolution") {
        None => 0.05,
        Some(Ok(r)) if r > 0.0 => r,
        Some(_) => {
            return Err(script_error(
                "BadOption",
                "resolution must be a positive number of degrees",
                "e.g. resolution: 0.05",
            ));
        }
    };
    let bounds = match options.get("bounds") {
        Some(value) => crate::api::args::bounds(value)?,
        None => swath.bounds().ok_or_else(|| {
            script_error(
                "BadValue",
                "the swath has no valid points",
                "check the clip bounds and the quality threshold",
            )
        })?,
    };
    let method_name = options
        .get("method")
        .map(|v| v.to_string())
        .unwrap_or_else(|| "linear".into());
    let method = Gridding::named(&method_name).ok_or_else(|| {
        script_error(
            "BadOption",
            &format!("there is no gridding method \"{method_name}\""),
            "use nearest, linear or natural",
        )
    })?;
    let max_distance = match number("max_distance") {
        None => 3.0 * resolution,
        Some(Ok(d)) if d > 0.0 => d,
        Some(_) => {
            return Err(script_error(
                "BadOption",
                "max_distance must be a positive number of degrees",
                "",
            ));
        }
    };
    Ok(GridRequest {
        bounds,
        resolution,
        method,
        max_distance,
    })
}

#[export_module]
mod swath_api {
    use super::{floats, grid_options};
    use crate::api::raster::raster_error;
    use crate::api::{path_error, script_error};
    use crate::eo::raster::Raster;
    use crate::eo::swath::Swath;
    use crate::runtime::Host;
    use rhai::{Array, FLOAT, INT, Map};

    /// A swath from arrays of longitudes, latitudes and values (one entry per point).
    ///
    /// ```rhai
    /// let s = swath([10.0, 10.5, 11.0], [45.0, 45.5, 45.2], [1.0, 2.0, 3.0]);
    /// assert(s.len == 3, "three points");
    /// ```
    #[rhai_fn(name = "swath", return_raw)]
    pub fn from_arrays(
        ctx: NativeCallContext,
        lon: Array,
        lat: Array,
        values: Array,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        Swath::new(
            floats(&lon, "lon")?,
            floats(&lat, "lat")?,
            floats(&values, "values")?,
            None,
            &host.memory,
        )
        .map_err(raster_error)
    }

    /// A swath from arrays of longitudes, latitudes, values and quality values.
    ///
    /// ```rhai
    /// let s = swath([10.0, 10.5], [45.0, 45.5], [1.0, 2.0], [1.0, 0.2]);
    /// assert(s.filter_qa(0.75).len == 1, "one good point");
    /// ```
    #[rhai_fn(name = "swath", return_raw)]
    pub fn from_arrays_with_quality(
        ctx: NativeCallContext,
        lon: Array,
        lat: Array,
        values: Array,
        quality: Array,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let quality = Some(floats(&quality, "quality")?);
        Swath::new(
            floats(&lon, "lon")?,
            floats(&lat, "lat")?,
            floats(&values, "values")?,
            quality,
            &host.memory,
        )
        .map_err(raster_error)
    }

    /// Opens a swath from a netCDF file: `options.values` names the
    /// variable (e.g. `"/PRODUCT/nitrogendioxide_tropospheric_column"`),
    /// `lon`/`lat` the coordinates (default `"longitude"`, `"latitude"`) and
    /// `qa` an optional quality variable.
    ///
    /// ```rhai
    /// try {
    ///     let no2 = open_swath("local_files/S5P_NO2.nc", #{ values: "/PRODUCT/nitrogendioxide_tropospheric_column",
    ///         lon: "/PRODUCT/longitude", lat: "/PRODUCT/latitude", qa: "/PRODUCT/qa_value" });
    /// } catch (e) {
    ///     print(e.kind);   // FileNotFound or RasterError until the product is downloaded
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn open_swath(
        ctx: NativeCallContext,
        path: &str,
        options: Map,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let real = host
            .workspace()
            .resolve(path, crate::sandbox::Access::Read)
            .map_err(path_error)?;
        if !real.exists() {
            return Err(script_error(
                "FileNotFound",
                &format!("\"{path}\" does not exist"),
                "check the name; relative paths start at the workspace root",
            ));
        }
        let variable = |key: &str, default: Option<&str>| -> Option<String> {
            let name = options
                .get(key)
                .map(|v| v.to_string())
                .or(default.map(str::to_string))?;
            Some(format!("NETCDF:\"{}\":{name}", real.display()))
        };
        let values = variable("values", None).ok_or_else(|| {
            script_error(
                "BadOption",
                "open_swath needs `values`: the variable to read",
                "e.g. #{ values: \"/PRODUCT/carbonmonoxide_total_column\" }",
            )
        })?;
        let lon = variable("lon", Some("longitude")).unwrap_or_default();
        let lat = variable("lat", Some("latitude")).unwrap_or_default();
        let qa = variable("qa", None);
        Swath::read(&values, &lon, &lat, qa.as_deref(), &host.memory).map_err(raster_error)
    }

    /// The number of points (valid or not).
    ///
    /// ```rhai
    /// assert(swath([1.0], [2.0], [3.0]).len == 1, "one point");
    /// ```
    #[rhai_fn(get = "len", pure)]
    pub fn len(s: &mut Swath) -> INT {
        s.len() as INT
    }

    /// The points inside `[lon_min, lat_min, lon_max, lat_max]`.
    ///
    /// ```rhai
    /// let s = swath([10.0, 20.0], [45.0, 45.0], [1.0, 2.0]);
    /// assert(s.clip([9.0, 44.0, 11.0, 46.0]).len == 1, "one point inside");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn clip(
        ctx: NativeCallContext,
        s: &mut Swath,
        bounds: Array,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        s.clip(
            crate::api::args::bounds(&Dynamic::from_array(bounds))?,
            &host.memory,
        )
        .map_err(raster_error)
    }

    /// The points whose quality is at least `minimum` (Sentinel-5P advises
    /// `qa_value` ≥ 0.75 for most products, 0.5 for CO).
    ///
    /// ```rhai
    /// let s = swath([1.0, 2.0], [1.0, 2.0], [5.0, 6.0], [0.9, 0.4]);
    /// assert(s.filter_qa(0.5).stats().mean == 5.0, "the good point only");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn filter_qa(
        ctx: NativeCallContext,
        s: &mut Swath,
        minimum: FLOAT,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        s.filter_quality(minimum, &host.memory)
            .map_err(raster_error)
    }

    /// Values multiplied by `factor` with a new `unit` (e.g. mol/m² to
    /// molecules/cm² with the product's conversion factor).
    ///
    /// ```rhai
    /// let s = swath([1.0], [1.0], [0.5]).scale(6.02214e19, "molecules/cm2");
    /// assert(s.stats().mean > 3.0e19, "converted");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn scale(
        ctx: NativeCallContext,
        s: &mut Swath,
        factor: FLOAT,
        unit: &str,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        s.scaled(factor, unit, &host.memory).map_err(raster_error)
    }

    /// The points of several swaths together (e.g. two orbits over one area).
    ///
    /// ```rhai
    /// let a = swath([1.0], [1.0], [1.0]);
    /// let b = swath([2.0], [2.0], [3.0]);
    /// assert(mosaic([a, b]).len == 2, "both orbits");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn mosaic(ctx: NativeCallContext, swaths: Array) -> Result<Swath, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let swaths: Vec<Swath> = swaths
            .into_iter()
            .map(|v| {
                v.try_cast::<Swath>().ok_or_else(|| {
                    script_error("TypeMismatch", "mosaic needs an array of swaths", "")
                })
            })
            .collect::<Result<_, _>>()?;
        Swath::mosaic(&swaths, &host.memory).map_err(raster_error)
    }

    /// `#{count, min, max, mean}` of the valid values.
    ///
    /// ```rhai
    /// let s = swath([1.0, 2.0], [1.0, 2.0], [2.0, 4.0]).stats();
    /// assert(s.count == 2 && s.mean == 3.0, "two values");
    /// ```
    #[rhai_fn(pure)]
    pub fn stats(s: &mut Swath) -> Map {
        let (count, min, max, mean) = s.summary();
        let mut map = Map::new();
        map.insert("count".into(), (count as INT).into());
        for (key, value) in [("min", min), ("max", max), ("mean", mean)] {
            map.insert(
                key.into(),
                Dynamic::from_float(if value.is_finite() { value } else { FLOAT::NAN }),
            );
        }
        map
    }

    /// Where the largest valid value is: `#{lon, lat, value}`, or `()`
    /// when the swath has no valid point.
    ///
    /// ```rhai
    /// let s = swath([10.0, 10.5, 11.0], [45.0, 45.5, 45.2], [1.0, 7.0, 3.0]);
    /// let top = s.peak();
    /// assert(top.value == 7.0 && top.lon == 10.5, "the middle point");
    /// ```
    #[rhai_fn(pure)]
    pub fn peak(s: &mut Swath) -> Dynamic {
        match s.peak() {
            Some((lon, lat, value)) => {
                let mut map = Map::new();
                map.insert("lon".into(), Dynamic::from_float(lon));
                map.insert("lat".into(), Dynamic::from_float(lat));
                map.insert("value".into(), Dynamic::from_float(value));
                map.into()
            }
            None => Dynamic::UNIT,
        }
    }

    /// Interpolates the swath onto a lon/lat raster. Options: `resolution`
    /// (degrees, default 0.05), `bounds` (`[lon_min, lat_min, lon_max,
    /// lat_max]`, default the swath's extent), `method` (`"nearest"`,
    /// `"linear"` (default) or `"natural"`) and `max_distance` (degrees;
    /// cells farther from every point stay missing; default 3 cells).
    ///
    /// ```rhai
    /// let s = swath([10.0, 11.0, 10.0, 11.0, 10.5], [45.0, 45.0, 46.0, 46.0, 45.5], [1.0, 1.0, 1.0, 1.0, 1.0]);
    /// let r = s.grid(#{ resolution: 0.1, bounds: [10.0, 45.0, 11.0, 46.0], max_distance: 1.0 });
    /// assert(r.width == 10 && r.stats().mean == 1.0, "a flat field");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn grid(
        ctx: NativeCallContext,
        s: &mut Swath,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let request = grid_options(&options, s)?;
        let compute = crate::eo::raster::Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        s.grid(&request, &compute).map_err(raster_error)
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(swath([1.0], [2.0], [3.0]));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(s: &mut Swath) -> String {
        let (count, ..) = s.summary();
        format!(
            "Swath({} points, {count} valid{})",
            s.len(),
            if s.unit.is_empty() {
                String::new()
            } else {
                format!(", {}", s.unit)
            }
        )
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(swath([1.0], [2.0], [3.0]));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(s: &mut Swath) -> String {
        describe(s)
    }
}
