//! Sentinel-3 OLCI and SLSTR routines: products and their variables and
//! flags, OLCI variables as swaths (quality flags masked by name, log10
//! products de-logged) and as dated stacks on one lon/lat grid, SLSTR
//! brightness temperatures gridded on a box, the pixel-wise median
//! reference and anomaly maps, hot and cold spots, and land surface
//! temperature in °C. Products are given as an `EnsProduct` (from
//! `ens_open`/`ens_find`), a catalogue `Product`, a product name, or a path
//! (the SEN3 folder, the zip, or one of its netCDF files). Results are the
//! usual `Swath`, `Raster` and `Stack`: they plot and save as any other.

use crate::api::args::{self, Options};
use crate::eo::products::sentinel3::{
    self as s3, Hotspots, OlciOptions, S3Error, Sen3, SlstrOptions,
};
use crate::eo::raster::{Compute, Raster};
use crate::eo::swath::{GridRequest, Gridding, Swath};
use crate::runtime::Host;
use rhai::plugin::*;
use rhai::{Array, FLOAT, INT, Map};

pub fn module() -> Module {
    exported_module!(sentinel3_api)
}

/// A Sentinel-3 failure as a script error.
fn s3_error(error: S3Error) -> Box<EvalAltResult> {
    match error {
        S3Error::Invalid { message, hint } => {
            crate::api::script_error("BadProduct", &message, &hint)
        }
        S3Error::Raster(e) => crate::api::raster::raster_error(e),
    }
}

fn bad_option(message: &str, hint: &str) -> Box<EvalAltResult> {
    crate::api::script_error("BadOption", message, hint)
}

/// The Sentinel-3 product a script names (see `api::args::product`).
fn open_product(ctx: &NativeCallContext, product: &Dynamic) -> Result<Sen3, Box<EvalAltResult>> {
    Sen3::open(&args::product(ctx, product)?.gdal_path(ctx)?).map_err(s3_error)
}

fn open_products(
    ctx: &NativeCallContext,
    products: &Array,
) -> Result<Vec<Sen3>, Box<EvalAltResult>> {
    if products.is_empty() {
        return Err(crate::api::script_error(
            "BadValue",
            "there are no products",
            "check the search: ens_find returned nothing for your area and dates",
        ));
    }
    products.iter().map(|p| open_product(ctx, p)).collect()
}

fn positive(options: &Map, key: &str, default: f64) -> Result<f64, Box<EvalAltResult>> {
    let Some(value) = options.get(key) else {
        return Ok(default);
    };
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .filter(|n| n.is_finite() && *n > 0.0)
        .ok_or_else(|| {
            bad_option(
                &format!("{key} must be a positive number of degrees, not {value}"),
                &format!("e.g. {key}: {default}"),
            )
        })
}

fn flag_or(options: &Map, key: &str, default: bool) -> Result<bool, Box<EvalAltResult>> {
    match options.get(key) {
        None => Ok(default),
        Some(value) => value
            .as_bool()
            .map_err(|_| bad_option(&format!("{key} must be true or false, not {value}"), "")),
    }
}

/// A grid over `area` from `resolution`, `method`, `max_distance` options.
fn grid_request(
    area: (f64, f64, f64, f64),
    options: &Map,
    default_resolution: f64,
    default_method: Gridding,
) -> Result<GridRequest, Box<EvalAltResult>> {
    let resolution = positive(options, "resolution", default_resolution)?;
    let method = match options.get("method") {
        None => default_method,
        Some(name) => Gridding::named(&name.to_string()).ok_or_else(|| {
            bad_option(
                &format!("there is no gridding method \"{name}\""),
                "use nearest, linear or natural",
            )
        })?,
    };
    // Three cells by default, and never less than a pixel and a half
    // (SLSTR's 1 km, OLCI's 300 m–1.2 km) so no cell falls between pixels.
    let max_distance = positive(options, "max_distance", (3.0 * resolution).max(0.015))?;
    Ok(GridRequest {
        bounds: area,
        resolution,
        method,
        max_distance,
    })
}

/// OLCI options: `aoi`, `mask` (flag names; `[]` for none), `log10`.
fn olci_options(options: &Map) -> Result<OlciOptions, Box<EvalAltResult>> {
    let mask = match options.get("mask") {
        None => None,
        Some(value) => {
            let names = value.clone().into_array().map_err(|_| {
                bad_option(
                    "mask must be an array of flag names",
                    "e.g. mask: [\"LAND\", \"CLOUD\"], or mask: [] for no masking",
                )
            })?;
            Some(names.iter().map(|n| n.to_string()).collect())
        }
    };
    Ok(OlciOptions {
        mask,
        keep_log10: flag_or(options, "log10", false)?,
        bounds: options.get("aoi").map(args::bounds).transpose()?,
    })
}

fn compute<T>(
    ctx: &NativeCallContext,
    work: impl FnOnce(&Compute) -> Result<T, S3Error>,
) -> Result<T, Box<EvalAltResult>> {
    crate::api::raster::compute_as(ctx, work, s3_error)
}

/// A brightness-temperature variable from a band name: `"S9"` →
/// `S9_BT_in`, `"S7_BT_in"` as is.
fn bt_variable(band: &str) -> String {
    if band.contains('_') {
        band.to_string()
    } else {
        format!("{}_BT_in", band.to_ascii_uppercase())
    }
}

/// Options of the SLSTR grids: `band`, `resolution`, `method`, `max_distance`.
fn slstr_grid_options(
    area: (f64, f64, f64, f64),
    options: &Map,
) -> Result<(String, GridRequest), Box<EvalAltResult>> {
    Options::check(options, &["band", "resolution", "method", "max_distance"])?;
    let band = options
        .get("band")
        .map(|b| bt_variable(&b.to_string()))
        .unwrap_or_else(|| s3::S9_NADIR.to_string());
    let request = grid_request(area, options, 0.005, Gridding::NaturalNeighbour)?;
    Ok((band, request))
}

fn spots_map(spots: Hotspots, extreme: &str) -> Map {
    let mut map = Map::new();
    map.insert("pixels".into(), (spots.pixels as INT).into());
    map.insert(
        "area_km2".into(),
        Dynamic::from_float((spots.area_km2 * 10.0).round() / 10.0),
    );
    map.insert(extreme.into(), Dynamic::from_float(spots.max));
    let at: Array = vec![
        Dynamic::from_float((spots.at.0 * 1e4).round() / 1e4),
        Dynamic::from_float((spots.at.1 * 1e4).round() / 1e4),
    ];
    map.insert("at".into(), at.into());
    map
}

fn strings(values: Vec<String>) -> Array {
    values.into_iter().map(Dynamic::from).collect()
}

#[export_module]
mod sentinel3_api {
    use super::*;

    /// What a Sentinel-3 product is: `name`, `product_type`, `kind`
    /// ("OLCI water", "OLCI land", "SLSTR RBT", "SLSTR LST" or "other"),
    /// `start` (sensing, UTC), `date`, and its netCDF `files` (names).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___" })[0];
    /// let info = s3_product(p);
    /// print(`${info.kind} on ${info.date}: ${info.files}`);
    /// assert(info.files.contains("tsm_nn.nc"), "the TSM file");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_product(ctx: NativeCallContext, product: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let p = open_product(&ctx, &product)?;
        let kind = match p.family() {
            s3::Family::OlciWater => "OLCI water",
            s3::Family::OlciLand => "OLCI land",
            s3::Family::SlstrRbt => "SLSTR RBT",
            s3::Family::SlstrLst => "SLSTR LST",
            s3::Family::Other => "other",
        };
        let files = p
            .files()
            .iter()
            .map(|f| f.rsplit('/').next().unwrap_or(f).to_string())
            .collect();
        let mut map = Map::new();
        map.insert("name".into(), p.name.clone().into());
        map.insert("product_type".into(), p.product_type.clone().into());
        map.insert("kind".into(), kind.into());
        map.insert(
            "start".into(),
            p.start.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
        );
        map.insert("date".into(), p.date().into());
        map.insert("files".into(), strings(files).into());
        Ok(map)
    }

    /// Every variable of the product's netCDF files (data, coordinates,
    /// flags and uncertainties), sorted.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_LFR___", from: "2020-04-09", to: "2020-04-09" })[0];
    /// let vars = s3_variables(p);
    /// assert(vars.contains("OGVI") && vars.contains("LQSF"), "OGVI and its flags");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_variables(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        let p = open_product(&ctx, &product)?;
        p.variables().map(strings).map_err(s3_error)
    }

    /// The quality flags of an OLCI Level-2 product (the names of its
    /// WQSF or LQSF bits), to choose a `mask` for `s3_olci`.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___" })[0];
    /// let flags = s3_flags(p);
    /// assert(flags.contains("CLOUD") && flags.contains("HIGHGLINT"), "water flags");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_flags(ctx: NativeCallContext, product: Dynamic) -> Result<Array, Box<EvalAltResult>> {
        let p = open_product(&ctx, &product)?;
        s3::olci_flags(&p).map(strings).map_err(s3_error)
    }

    /// The flags `s3_olci` masks by default for `variable` of this kind of
    /// product: ESA's recommended flags plus the variable's own failure flag.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___" })[0];
    /// print(s3_default_mask(p, "TSM_NN"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_default_mask(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let p = open_product(&ctx, &product)?;
        Ok(strings(s3::default_mask(p.family(), variable)))
    }

    /// The values of a small variable (at most 100 000: per-detector
    /// uncertainties, calibration tables), scale and offset applied, fill
    /// values as NaN. E.g. the S9 radiometric uncertainty of an RBT product
    /// (K), which CLEOPE's `uncertainity` averaged.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-06", to: "2020-04-06" })[0];
    /// let u = s3_values(p, "S9_radiometric_uncertainty_in");
    /// print(`S9 uncertainty: ${u} K`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_values(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let p = open_product(&ctx, &product)?;
        let (values, _) = s3::values_of(&p, variable).map_err(s3_error)?;
        Ok(values.into_iter().map(Dynamic::from_float).collect())
    }

    /// An OLCI Level-2 variable as a swath on its geo-coordinates: `TSM_NN`,
    /// `CHL_OC4ME`, `CHL_NN`, `IWV` (water products) or `OGVI`, `OTCI`,
    /// `IWV` (land products). Pixels with the recommended quality flags
    /// are missing and log10-stored products are de-logged: TSM in g.m-3,
    /// chlorophyll in mg.m-3.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___", from: "2020-02-06", to: "2020-02-06" })[0];
    /// let tsm = s3_olci(p, "TSM_NN");
    /// print(tsm.stats());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_olci(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
    ) -> Result<Swath, Box<EvalAltResult>> {
        s3_olci_with(ctx, product, variable, Map::new())
    }

    /// The same with options: `aoi` (an area to keep), `mask` (the flag
    /// names to mask, `[]` for none: see `s3_flags`), `log10: true` to keep
    /// log10-stored values as stored (as CLEOPE showed them).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___", from: "2020-04-11", to: "2020-04-11" })[0];
    /// let delta = s3_olci(p, "TSM_NN", #{ aoi: [12.2, 44.7, 12.8, 45.1] });
    /// let raw = s3_olci(p, "TSM_NN", #{ aoi: [12.2, 44.7, 12.8, 45.1], mask: [], log10: true });
    /// assert(raw.stats().count >= delta.stats().count, "no mask keeps more pixels");
    /// ```
    #[rhai_fn(name = "s3_olci", return_raw)]
    pub fn s3_olci_with(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
        options: Map,
    ) -> Result<Swath, Box<EvalAltResult>> {
        Options::check(&options, &["aoi", "mask", "log10"])?;
        let settings = olci_options(&options)?;
        let p = open_product(&ctx, &product)?;
        let host = Host::of(&ctx)?;
        s3::olci_swath(&p, variable, &settings, &host.memory).map_err(s3_error)
    }

    /// An OLCI variable of several products gridded onto one lon/lat grid
    /// over `area` (0.025° cells, linear interpolation, flags masked and
    /// de-logged as `s3_olci` does), in sensing order and dated
    /// "YYYY-MM-DD": ready for `plot` with one panel per date.
    ///
    /// ```rhai
    /// let wfr = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_WFR___", aoi: aoi_bbox(12.0, 44.5, 13.0, 45.5) });
    /// let tsm = s3_olci_stack(wfr, "TSM_NN", [12.0, 44.5, 13.0, 45.5]);
    /// print(tsm.dates);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_olci_stack(
        ctx: NativeCallContext,
        products: Array,
        variable: &str,
        area: Dynamic,
    ) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
        s3_olci_stack_with(ctx, products, variable, area, Map::new())
    }

    /// The same with options: `resolution` (degrees), `method` ("nearest",
    /// "linear", "natural"), `max_distance` (degrees), `mask`, `log10`.
    ///
    /// ```rhai
    /// let lfr = ens_find(#{ mission: "Sentinel-3", product_type: "OL_2_LFR___", from: "2020-04-01", to: "2020-04-30" });
    /// let ogvi = s3_olci_stack(lfr, "OGVI", [8.6, 44.85, 11.8, 45.35], #{ resolution: 0.05, method: "nearest" });
    /// assert(ogvi.len == 2, "two dates");
    /// ```
    #[rhai_fn(name = "s3_olci_stack", return_raw)]
    pub fn s3_olci_stack_with(
        ctx: NativeCallContext,
        products: Array,
        variable: &str,
        area: Dynamic,
        options: Map,
    ) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
        Options::check(
            &options,
            &["resolution", "method", "max_distance", "mask", "log10"],
        )?;
        let area = args::bounds(&area)?;
        let settings = olci_options(&options)?;
        let request = grid_request(area, &options, 0.025, Gridding::Linear)?;
        let products = open_products(&ctx, &products)?;
        compute(&ctx, |c| {
            s3::olci_stack(&products, variable, &settings, &request, c)
        })
    }

    /// A SLSTR variable as a swath on its geodetic coordinates, scale and
    /// offset applied: e.g. `"S9_BT_in"` (12 µm brightness temperature, K,
    /// 1 km nadir grid) of an RBT product, `"LST"` of an LST product.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-12", to: "2020-04-12" })[0];
    /// let bt = s3_slstr(p, "S9_BT_in");
    /// print(bt.stats());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_slstr(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
    ) -> Result<Swath, Box<EvalAltResult>> {
        s3_slstr_with(ctx, product, variable, Map::new())
    }

    /// The same with options: `aoi` (an area to keep), `celsius: true`
    /// (kelvin to °C).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-12", to: "2020-04-12" })[0];
    /// let bt = s3_slstr(p, "S9_BT_in", #{ aoi: [105.0, -6.2, 105.5, -5.8], celsius: true });
    /// assert(bt.stats().min < 0.0, "the plume top is below freezing");
    /// ```
    #[rhai_fn(name = "s3_slstr", return_raw)]
    pub fn s3_slstr_with(
        ctx: NativeCallContext,
        product: Dynamic,
        variable: &str,
        options: Map,
    ) -> Result<Swath, Box<EvalAltResult>> {
        Options::check(&options, &["aoi", "celsius"])?;
        let settings = SlstrOptions {
            bounds: options.get("aoi").map(args::bounds).transpose()?,
            celsius: flag_or(&options, "celsius", false)?,
        };
        let p = open_product(&ctx, &product)?;
        let host = Host::of(&ctx)?;
        s3::slstr_swath(&p, variable, &settings, &host.memory).map_err(s3_error)
    }

    /// The S9 (12 µm) brightness temperature of a SLSTR RBT product on the
    /// 1 km nadir grid, gridded over `area` with 0.005° cells by
    /// natural-neighbour interpolation (K).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-12", to: "2020-04-12" })[0];
    /// let bt = s3_bt_grid(p, [105.0, -6.2, 105.5, -5.8]);
    /// print(`${bt.width} x ${bt.height}, ${bt.stats().min} K at the coldest`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_bt_grid(
        ctx: NativeCallContext,
        product: Dynamic,
        area: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        s3_bt_grid_with(ctx, product, area, Map::new())
    }

    /// The same with options: `band` ("S7", "S8", "S9" or a full variable
    /// name such as "S8_BT_in"), `resolution`, `method`, `max_distance`.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-04", to: "2020-04-04" })[0];
    /// let bt = s3_bt_grid(p, [29.73, 51.1, 30.3, 51.6], #{ band: "S9", resolution: 0.01, method: "linear" });
    /// assert(bt.width == 57, "0.57 degrees at 0.01");
    /// ```
    #[rhai_fn(name = "s3_bt_grid", return_raw)]
    pub fn s3_bt_grid_with(
        ctx: NativeCallContext,
        product: Dynamic,
        area: Dynamic,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let (band, request) = slstr_grid_options(args::bounds(&area)?, &options)?;
        let p = open_product(&ctx, &product)?;
        compute(&ctx, |c| s3::slstr_grid_of(&p, &band, &request, c))
    }

    /// CLEOPE's `apply_diff`: every product's S9 brightness temperature
    /// gridded over `area` (as `s3_bt_grid`), the pixel-wise **median** of
    /// the `references` (nights before the event), and each of the
    /// `events` minus that median. Returns `#{ reference, differences }`:
    /// a raster (K) and a stack dated "YYYY-MM-DD" (K).
    ///
    /// ```rhai
    /// let all = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", aoi: aoi_bbox(29.8, 51.2, 30.2, 51.5) });
    /// let before = all.filter(|p| p.name.sub_string(16, 8) < "20200402");
    /// let during = all.filter(|p| p.name.sub_string(16, 8) >= "20200402");
    /// let maps = s3_anomalies(before, during, [29.73, 51.1, 30.3, 51.6]);
    /// print(maps.differences.dates);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_anomalies(
        ctx: NativeCallContext,
        references: Array,
        events: Array,
        area: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        s3_anomalies_with(ctx, references, events, area, Map::new())
    }

    /// The same with options: `band`, `resolution`, `method`, `max_distance`.
    ///
    /// ```rhai
    /// let all = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", aoi: aoi_bbox(29.8, 51.2, 30.2, 51.5) });
    /// let maps = s3_anomalies(all.extract(0, 5), all.extract(5), [29.73, 51.1, 30.3, 51.6], #{ resolution: 0.01 });
    /// assert(maps.differences.len == 5, "five fire nights");
    /// ```
    #[rhai_fn(name = "s3_anomalies", return_raw)]
    pub fn s3_anomalies_with(
        ctx: NativeCallContext,
        references: Array,
        events: Array,
        area: Dynamic,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let (band, request) = slstr_grid_options(args::bounds(&area)?, &options)?;
        let mut references = open_products(&ctx, &references)?;
        let mut events = open_products(&ctx, &events)?;
        references.sort_by_key(|p| p.start);
        events.sort_by_key(|p| p.start);
        let maps = compute(&ctx, |c| {
            s3::anomalies(&references, &events, &band, &request, c)
        })?;
        let mut map = Map::new();
        map.insert("reference".into(), Dynamic::from(maps.reference));
        map.insert("differences".into(), Dynamic::from(maps.differences));
        Ok(map)
    }

    /// The cells of a lon/lat map above `threshold` (e.g. the fire pixels
    /// of an anomaly map, 5 K): `#{ pixels, area_km2, max, at }` with the
    /// map's maximum and where it is (`[lon, lat]`).
    ///
    /// ```rhai
    /// let anomaly = matrix(10, 10, 6.0).to_raster([30.0, 51.0, 30.1, 51.1]);
    /// let spots = s3_hotspots(anomaly, 5.0);
    /// assert(spots.pixels == 100, "every cell is hot");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_hotspots(
        ctx: NativeCallContext,
        map: Raster,
        threshold: FLOAT,
    ) -> Result<Map, Box<EvalAltResult>> {
        let spots = compute(&ctx, |c| s3::hotspots(&map, threshold, c))?;
        Ok(spots_map(spots, "max"))
    }

    /// The cells of a lon/lat map below `threshold` (e.g. an eruption
    /// plume's cold top on a brightness-temperature map, 290 K):
    /// `#{ pixels, area_km2, min, at }` with the map's minimum and where it
    /// is (`[lon, lat]`).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-12", to: "2020-04-12" })[0];
    /// let plume = s3_cold_spots(s3_bt_grid(p, [105.0, -6.2, 105.5, -5.8]), 290.0);
    /// print(`plume top ${plume.min} K, ${plume.area_km2} km² below 290 K`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_cold_spots(
        ctx: NativeCallContext,
        map: Raster,
        threshold: FLOAT,
    ) -> Result<Map, Box<EvalAltResult>> {
        let spots = compute(&ctx, |c| s3::cold_spots(&map, threshold, c))?;
        Ok(spots_map(spots, "min"))
    }

    /// The land surface temperature of a SLSTR LST product in °C, as a
    /// swath (clouds, sea and missing retrievals left out).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_2_LST___" })[0];
    /// let lst = s3_lst(p);
    /// print(lst.stats());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s3_lst(ctx: NativeCallContext, product: Dynamic) -> Result<Swath, Box<EvalAltResult>> {
        let mut options = Map::new();
        options.insert("celsius".into(), true.into());
        s3_slstr_with(ctx, product, "LST", options)
    }

    /// The land surface temperature in °C inside `area`.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-3", product_type: "SL_2_LST___" })[0];
    /// let lst = s3_lst(p, [137.0, 67.0, 155.0, 73.0]);
    /// let map = lst.grid(#{ resolution: 0.05, method: "nearest", max_distance: 0.06 });
    /// print(map.stats());
    /// ```
    #[rhai_fn(name = "s3_lst", return_raw)]
    pub fn s3_lst_in(
        ctx: NativeCallContext,
        product: Dynamic,
        area: Dynamic,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let mut options = Map::new();
        options.insert("celsius".into(), true.into());
        options.insert("aoi".into(), area);
        s3_slstr_with(ctx, product, "LST", options)
    }
}
