//! Sentinel-1 GRD and Sentinel-2 MSI routines: measurements and bands,
//! warps onto lon/lat boxes, stacks in sensing order, composites, indices,
//! footprints and the ship detection. Products are given as an `EnsProduct`
//! (from `ens_open`/`ens_find`), a catalogue `Product`, a product name, or a
//! path (a folder, a zip, or for Sentinel-1 a measurement file).

use crate::api::args::{self, Options};
use crate::api::raster::compute;
use crate::eo::products::sentinel1::{Calibration, Coefficient, Grd, GrdError};
use crate::eo::products::sentinel2::{BandRequest, Msi, MsiError};
use crate::eo::raster::{Compute, Raster};
use crate::runtime::Host;
use rhai::plugin::*;
use rhai::{Array, FLOAT, Map};

pub fn module() -> Module {
    exported_module!(sentinel_api)
}

/// An area that misses the product, for every mission.
fn area_outside_error(message: &str) -> Box<EvalAltResult> {
    crate::api::script_error(
        "AoiOutsideProduct",
        message,
        "check the area's order (lon_min, lat_min, lon_max, lat_max) and that the product covers it: search with the area (ens_find(#{ aoi: ... }))",
    )
}

/// A Sentinel-1 failure as a script error.
fn grd_error(error: GrdError) -> Box<EvalAltResult> {
    let message = error.to_string();
    match error {
        GrdError::Product { message, hint } => {
            crate::api::script_error("BadProduct", &message, &hint)
        }
        GrdError::AoiOutsideProduct { .. } => area_outside_error(&message),
        GrdError::NotGeoreferenced { .. } => crate::api::script_error(
            "NotGeoreferenced",
            &message,
            "Sentinel-1 measurements are located by their ground control points: use the measurement as ESA delivers it (a clipped or converted copy may have lost them)",
        ),
        GrdError::Raster(e) => crate::api::raster::raster_error(e),
    }
}

/// The pixel size and calibration a Sentinel-1 clip's options ask for:
/// `pixel` (metres), `calibration` ("sigma0", "beta0", "gamma0"; none
/// gives amplitude DN) and `noise` (remove the thermal noise first).
fn grd_request(options: &Map) -> Result<(f64, Option<Calibration>), Box<EvalAltResult>> {
    Options::check(options, &["pixel", "calibration", "noise"])?;
    let pixel = match options.get("pixel") {
        Some(v) => number(v, "pixel")?,
        None => 10.0,
    };
    let remove_noise = match options.get("noise") {
        None => false,
        Some(v) => v.as_bool().map_err(|_| {
            crate::api::script_error(
                "BadOption",
                &format!("noise must be true or false, not {v}"),
                "",
            )
        })?,
    };
    let coefficient = match options.get("calibration") {
        None => None,
        Some(v) => {
            let name = v.clone().into_string().unwrap_or_else(|_| v.to_string());
            Some(Coefficient::named(&name).ok_or_else(|| {
                crate::api::script_error(
                    "BadOption",
                    &format!("\"{name}\" is not a calibration"),
                    &format!("the calibrations are {}", Coefficient::NAMES.join(", ")),
                )
            })?)
        }
    };
    if remove_noise && coefficient.is_none() {
        return Err(crate::api::script_error(
            "BadOption",
            "noise: true needs a calibration",
            "the thermal noise is removed from calibrated values: add calibration: \"sigma0\"",
        ));
    }
    let calibration = coefficient.map(|coefficient| Calibration {
        coefficient,
        remove_noise,
    });
    Ok((pixel, calibration))
}

/// A Sentinel-2 failure as a script error.
fn msi_error(error: MsiError) -> Box<EvalAltResult> {
    match error {
        MsiError::Product { message, hint } => {
            crate::api::script_error("BadProduct", &message, &hint)
        }
        MsiError::Outside(outside) => area_outside_error(&outside.to_string()),
        MsiError::Raster(e) => crate::api::raster::raster_error(e),
    }
}

fn number(value: &Dynamic, what: &str) -> Result<f64, Box<EvalAltResult>> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .filter(|n| n.is_finite() && *n > 0.0)
        .ok_or_else(|| {
            crate::api::script_error(
                "BadOption",
                &format!("{what} must be a positive number, not {value}"),
                "",
            )
        })
}

/// A band request from options: `resolution` (10, 20, 60), `aoi` (an area),
/// `lonlat` (warp onto the area's lon/lat box), `pixel` (lon/lat pixel size, m).
fn band_request(
    options: &Map,
    default_resolution: Option<u32>,
) -> Result<BandRequest, Box<EvalAltResult>> {
    Options::check(options, &["resolution", "aoi", "lonlat", "pixel"])?;
    let resolution = match options.get("resolution") {
        None => default_resolution,
        Some(v) => Some(number(v, "resolution")? as u32),
    };
    let area = options.get("aoi").map(args::bounds).transpose()?;
    let lonlat = options
        .get("lonlat")
        .map(|v| v.as_bool().unwrap_or(false))
        .unwrap_or(false);
    let pixel = match options.get("pixel") {
        Some(v) => Some(number(v, "pixel")?),
        None => None,
    };
    if lonlat && area.is_none() {
        return Err(crate::api::script_error(
            "BadOption",
            "lonlat: true needs an aoi",
            "give the area to warp onto, e.g. #{ aoi: [57.68, -20.45, 57.79, -20.365], lonlat: true }",
        ));
    }
    let lonlat_pixel = lonlat.then(|| pixel.unwrap_or(resolution.unwrap_or(10) as f64));
    Ok(BandRequest {
        resolution,
        area,
        lonlat_pixel,
    })
}

/// The `nir` option of the Sentinel-2 indices and composites, taken out of
/// `options`: `"B08"` keeps the wide NIR band at 20 and 60 m (averaged from
/// its 10 m file), `"B8A"` takes the narrow one at every resolution; by
/// default B08 at 10 m and B8A at 20 and 60 m, where ESA's folders hold it.
fn nir_choice(mut options: Map) -> Result<(Map, Option<&'static str>), Box<EvalAltResult>> {
    let Some(value) = options.remove("nir") else {
        return Ok((options, None));
    };
    let chosen = match value.to_string().to_ascii_uppercase().as_str() {
        "B08" | "B8" => "B08",
        "B8A" => "B8A",
        other => {
            return Err(crate::api::script_error(
                "BadOption",
                &format!("nir: \"{other}\" is not a near-infrared band"),
                "write nir: \"B08\" (10 m, averaged at 20 and 60 m) or nir: \"B8A\" (20 m)",
            ));
        }
    };
    Ok((options, Some(chosen)))
}

/// `band`, or the near-infrared band `nir` chose in its place.
fn nir_band(nir: Option<&'static str>, band: &'static str) -> &'static str {
    match (nir, band) {
        (Some(chosen), "B08" | "B8A") => chosen,
        _ => band,
    }
}

/// Runs Sentinel-1 work that computes, on the session's pool and budget.
fn compute_grd<T>(
    ctx: &NativeCallContext,
    work: impl FnOnce(&Compute) -> Result<T, GrdError>,
) -> Result<T, Box<EvalAltResult>> {
    crate::api::raster::compute_as(ctx, work, grd_error)
}

/// The products clipped to `area` and stacked in sensing order.
fn stack_products(
    ctx: &NativeCallContext,
    products: &Array,
    polarisation: &str,
    area: &Dynamic,
    pixel: f64,
    calibration: Option<Calibration>,
) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
    let area = args::bounds(area)?;
    if products.is_empty() {
        return Err(crate::api::script_error(
            "BadValue",
            "there are no products to stack",
            "check the search: ens_find returned nothing for your area and dates",
        ));
    }
    let grds = products
        .iter()
        .map(|p| open_grd(ctx, p))
        .collect::<Result<Vec<_>, _>>()?;
    compute_grd(ctx, |c| {
        crate::eo::products::sentinel1::stack_with(&grds, polarisation, area, pixel, calibration, c)
    })
}

fn open_grd(ctx: &NativeCallContext, product: &Dynamic) -> Result<Grd, Box<EvalAltResult>> {
    Grd::open(&args::product(ctx, product)?.gdal_path(ctx)?).map_err(grd_error)
}

fn open_msi(ctx: &NativeCallContext, product: &Dynamic) -> Result<Msi, Box<EvalAltResult>> {
    Msi::open(&args::product(ctx, product)?.gdal_path(ctx)?).map_err(msi_error)
}

/// One raster of a detection, on the image's grid.
fn detection_raster(
    ctx: &NativeCallContext,
    like: &Raster,
    plane: crate::eo::raster::imageops::Plane,
) -> Result<Dynamic, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    Raster::from_values(like.grid().clone(), plane.values, &host.memory)
        .map(Dynamic::from)
        .map_err(crate::api::raster::raster_error)
}

#[export_module]
mod sentinel_api {
    use super::*;
    use crate::eo::products::{sentinel1, sentinel2};
    use rhai::INT;

    /// What a Sentinel-1 product is: `name`, `platform`, `mode`, `start` and
    /// `stop` (sensing, UTC), `date`, `absolute_orbit`, `pass`, the
    /// `polarisations` it holds and `processing_time`, the TIFF DateTime
    /// tag of its measurements (when it was processed, not when it was taken).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2020-08-18", to: "2020-08-18" })[0];
    /// let info = s1_product(p);
    /// print(`${info.date} ${info.pass}: ${info.polarisations}, processed ${info.processing_time}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s1_product(ctx: NativeCallContext, product: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let grd = open_grd(&ctx, &product)?;
        let mut map = Map::new();
        map.insert("name".into(), grd.name().into());
        if let Ok(parsed) = crate::eo::products::names::parse(grd.name()) {
            map.insert("platform".into(), parsed.platform.into());
            for key in ["mode", "absolute_orbit"] {
                if let Some(value) = parsed.details.get(key) {
                    map.insert(key.into(), value.clone().into());
                }
            }
            if let Some(stop) = parsed.stop {
                map.insert(
                    "stop".into(),
                    stop.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
                );
            }
        }
        map.insert(
            "start".into(),
            grd.sensing()
                .format("%Y-%m-%dT%H:%M:%SZ")
                .to_string()
                .into(),
        );
        map.insert(
            "date".into(),
            grd.sensing().format("%Y-%m-%d").to_string().into(),
        );
        map.insert(
            "pass".into(),
            grd.pass().map_or(Dynamic::UNIT, Dynamic::from),
        );
        let polarisations = grd.polarisations();
        let processed = polarisations
            .first()
            .and_then(|p| grd.measurement(p).ok())
            .and_then(|m| sentinel1::processing_time(&m));
        map.insert(
            "processing_time".into(),
            processed.map_or(Dynamic::UNIT, Dynamic::from),
        );
        map.insert(
            "polarisations".into(),
            polarisations
                .into_iter()
                .map(Dynamic::from)
                .collect::<Array>()
                .into(),
        );
        Ok(map)
    }

    /// The measurement GeoTIFF of a polarisation (`"VH"` or `"VV"`): uint16
    /// amplitude in radar geometry, located by ground control points.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", max_results: 1 })[0];
    /// let vh = s1_measurement(p, "VH");
    /// assert(vh.ends_with(".tiff"), "a measurement GeoTIFF");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s1_measurement(
        ctx: NativeCallContext,
        product: Dynamic,
        polarisation: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        open_grd(&ctx, &product)?
            .measurement(polarisation)
            .map_err(grd_error)
    }

    /// The measurement of a polarisation warped through its ground control
    /// points onto the lon/lat grid over `area` (an aoi or `[lon_min,
    /// lat_min, lon_max, lat_max]`) with 10 m pixels: CLEOPE's `gdalwarp -te`
    /// clip. Values are the GRD's amplitude DN (no calibration; see the
    /// options form for σ⁰). An area outside the product's footprint is an
    /// `AoiOutsideProduct` error.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2020-08-18", to: "2020-08-18" })[0];
    /// let vh = s1_clip(p, "VH", [13.639219, 45.615343, 13.780783, 45.682543]);
    /// assert(vh.crs == "EPSG:4326", "a lon/lat grid");
    /// print(vh.stats());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s1_clip(
        ctx: NativeCallContext,
        product: Dynamic,
        polarisation: &str,
        area: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        s1_clip_at(ctx, product, polarisation, area, 10.0)
    }

    /// The same clip with pixels of `pixel` metres.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2019-12-22", to: "2019-12-22" })[0];
    /// let vv = s1_clip(p, "VV", [114.06722222, 30.52527778, 114.095, 30.54], 20.0);
    /// print(vv);
    /// ```
    #[rhai_fn(name = "s1_clip", return_raw)]
    pub fn s1_clip_at(
        ctx: NativeCallContext,
        product: Dynamic,
        polarisation: &str,
        area: Dynamic,
        pixel: FLOAT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let area = args::bounds(&area)?;
        let pixel = number(&Dynamic::from_float(pixel), "the pixel size")?;
        sentinel1::clip(&open_grd(&ctx, &product)?, polarisation, area, pixel).map_err(grd_error)
    }

    /// The clip with options: `calibration` ("sigma0", "beta0" or "gamma0":
    /// DN² / A², A interpolated bilinearly from the product's calibration
    /// annotation, applied on the image grid before the warp), `noise: true`
    /// (subtract the thermal noise of the noise annotation first), `pixel`
    /// (metres, default 10). Calibrated values are linear powers: `db()`
    /// gives dB. Zero DN (image borders) and powers ≤ 0 once the noise is
    /// removed are missing (SNAP writes a tiny floor value there instead).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2020-08-18", to: "2020-08-18" })[0];
    /// let s0 = s1_clip(p, "VH", [13.639219, 45.615343, 13.780783, 45.682543], #{ calibration: "sigma0", noise: true });
    /// let sea = db(s0).quantiles([0.5])[0];
    /// assert(sea < -20.0, "calm sea near -25 dB in VH");
    /// print(db(s0).stats());
    /// ```
    #[rhai_fn(name = "s1_clip", return_raw)]
    pub fn s1_clip_with(
        ctx: NativeCallContext,
        product: Dynamic,
        polarisation: &str,
        area: Dynamic,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let area = args::bounds(&area)?;
        let (pixel, calibration) = grd_request(&options)?;
        let grd = open_grd(&ctx, &product)?;
        compute_grd(&ctx, |c| {
            sentinel1::clip_with(&grd, polarisation, area, pixel, calibration, c)
        })
    }

    /// Products clipped to the same area (10 m pixels), stacked in sensing
    /// order (from the product names; CLEOPE used the TIFF processing time,
    /// which misorders reprocessed products), dated "YYYY-MM-DD HH:MM".
    ///
    /// ```rhai
    /// let found = ens_find(#{ mission: "Sentinel-1", aoi: aoi_bbox(13.64, 45.62, 13.78, 45.68) });
    /// let s = s1_stack(found, "VH", [13.639219, 45.615343, 13.780783, 45.682543]);
    /// print(s.dates);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s1_stack(
        ctx: NativeCallContext,
        products: Array,
        polarisation: &str,
        area: Dynamic,
    ) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
        s1_stack_at(ctx, products, polarisation, area, 10.0)
    }

    /// The same stack with pixels of `pixel` metres.
    ///
    /// ```rhai
    /// let found = ens_find(#{ mission: "Sentinel-1", aoi: aoi_bbox(114.07, 30.53, 114.09, 30.54) });
    /// let s = s1_stack(found, "VH", [114.06722222, 30.52527778, 114.095, 30.54], 20.0);
    /// assert(s.len == 3, "three dates");
    /// ```
    #[rhai_fn(name = "s1_stack", return_raw)]
    pub fn s1_stack_at(
        ctx: NativeCallContext,
        products: Array,
        polarisation: &str,
        area: Dynamic,
        pixel: FLOAT,
    ) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
        let pixel = number(&Dynamic::from_float(pixel), "the pixel size")?;
        stack_products(&ctx, &products, polarisation, &area, pixel, None)
    }

    /// The stack with the options of `s1_clip` (`calibration`, `noise`,
    /// `pixel`): σ⁰ per date, ready for `db()`.
    ///
    /// ```rhai
    /// let found = ens_find(#{ mission: "Sentinel-1", aoi: aoi_bbox(114.07, 30.53, 114.09, 30.54) });
    /// let s = s1_stack(found, "VH", [114.06722222, 30.52527778, 114.095, 30.54], #{ calibration: "sigma0" });
    /// print(db(s[0]).stats());
    /// ```
    #[rhai_fn(name = "s1_stack", return_raw)]
    pub fn s1_stack_with(
        ctx: NativeCallContext,
        products: Array,
        polarisation: &str,
        area: Dynamic,
        options: Map,
    ) -> Result<crate::eo::raster::Stack, Box<EvalAltResult>> {
        let (pixel, calibration) = grd_request(&options)?;
        stack_products(&ctx, &products, polarisation, &area, pixel, calibration)
    }

    /// CLEOPE's bright-spot (ship) detection on a clipped SAR image: a 2–98 %
    /// stretch to 0–255, three 3 x 3 maximum filters, a Gaussian blur (sigma
    /// 2), a threshold at 200, erosion (2) and dilation (3), then bright
    /// regions over 1500 pixels are land and the rest are ships. Returns
    /// `#{ count, ships, gray, filtered, blurred, bright, land, candidates }`:
    /// `ships` as `components()` gives them (with `label` "#1", "#2"... from
    /// west to east, `lon`, `lat`), the others as rasters of each step.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2020-08-24", to: "2020-08-24" })[0];
    /// let found = detect_ships(s1_clip(p, "VH", [13.639219, 45.615343, 13.780783, 45.682543]));
    /// print(`${found.count} ships`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn detect_ships(ctx: NativeCallContext, image: Raster) -> Result<Map, Box<EvalAltResult>> {
        detect_ships_with(ctx, image, Map::new())
    }

    /// The detection with options: `stretch` ([low, high] quantiles),
    /// `max_filters`, `sigma`, `threshold` (0–255), `erode`, `dilate`,
    /// `max_pixels` (larger bright regions are land).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-1", from: "2020-08-29", to: "2020-08-29" })[0];
    /// let image = s1_clip(p, "VH", [13.639219, 45.615343, 13.780783, 45.682543]);
    /// let found = detect_ships(image, #{ threshold: 180.0, max_pixels: 2000 });
    /// print(found.ships);
    /// ```
    #[rhai_fn(name = "detect_ships", return_raw)]
    pub fn detect_ships_with(
        ctx: NativeCallContext,
        image: Raster,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        let settings = ship_options(&options)?;
        let detection = compute(&ctx, |c| {
            c.plane(&image)
                .and_then(|plane| sentinel1::detect_ships(&plane, &settings, c))
        })?;
        let transform = image.grid().transform;
        let pixel = image.grid().resolution().0;
        let ships: Array = detection
            .components
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let (x, y) = transform.apply(c.centroid.0, c.centroid.1);
                let (cx, cy) = transform.apply(c.circle.0, c.circle.1);
                let mut ship = Map::new();
                ship.insert("label".into(), format!("#{}", i + 1).into());
                ship.insert("pixels".into(), (c.pixels as INT).into());
                for (key, value) in [
                    ("lon", x),
                    ("lat", y),
                    ("x", x),
                    ("y", y),
                    ("circle_x", cx),
                    ("circle_y", cy),
                ] {
                    ship.insert(key.into(), Dynamic::from_float(value));
                }
                ship.insert(
                    "radius".into(),
                    Dynamic::from_float((c.circle.2 + 0.5) * pixel),
                );
                Dynamic::from_map(ship)
            })
            .collect();
        let mut map = Map::new();
        map.insert("count".into(), (ships.len() as INT).into());
        map.insert("ships".into(), ships.into());
        for (key, plane) in [
            ("gray", detection.gray),
            ("filtered", detection.filtered),
            ("blurred", detection.blurred),
            ("bright", detection.bright),
            ("land", detection.land),
            ("candidates", detection.ships),
        ] {
            map.insert(key.into(), detection_raster(&ctx, &image, plane)?);
        }
        Ok(map)
    }

    /// What a Sentinel-2 product is: `name`, `level` ("L1C"/"L2A"),
    /// `tile`, `platform`, `start`, `date`, `baseline`, `quantification` and
    /// `offset` (reflectance = (DN + offset) / quantification), `cloud_cover`
    /// and its spectral bands at each resolution (`bands_10m`, `bands_20m`,
    /// `bands_60m`).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// let info = s2_product(p);
    /// print(`${info.tile} ${info.date}: ${info.bands_20m}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_product(ctx: NativeCallContext, product: Dynamic) -> Result<Map, Box<EvalAltResult>> {
        let msi = open_msi(&ctx, &product)?;
        let mut map = Map::new();
        map.insert("name".into(), msi.name.clone().into());
        map.insert("level".into(), format!("{:?}", msi.level).into());
        map.insert("tile".into(), msi.tile.clone().into());
        map.insert(
            "platform".into(),
            msi.name.get(..3).unwrap_or_default().to_string().into(),
        );
        map.insert(
            "start".into(),
            msi.sensing.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
        );
        map.insert(
            "date".into(),
            msi.sensing.format("%Y-%m-%d").to_string().into(),
        );
        map.insert("baseline".into(), msi.baseline.clone().into());
        map.insert(
            "quantification".into(),
            Dynamic::from_float(msi.quantification),
        );
        map.insert("offset".into(), Dynamic::from_float(msi.offsets[3]));
        map.insert(
            "cloud_cover".into(),
            msi.cloud_cover.map_or(Dynamic::UNIT, Dynamic::from_float),
        );
        for resolution in [10, 20, 60] {
            let bands: Array = msi
                .bands(Some(resolution))
                .into_iter()
                .map(Dynamic::from)
                .collect();
            map.insert(format!("bands_{resolution}m").into(), bands.into());
        }
        Ok(map)
    }

    /// The spectral bands a product holds at a resolution (10, 20 or 60 m),
    /// in band order: Level-2A files under R10m/R20m/R60m, Level-1C bands
    /// whose own resolution it is.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// assert(s2_bands(p, 10) == ["B02", "B03", "B04", "B08"], "the 10 m bands");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_bands(
        ctx: NativeCallContext,
        product: Dynamic,
        resolution: INT,
    ) -> Result<Array, Box<EvalAltResult>> {
        let msi = open_msi(&ctx, &product)?;
        Ok(msi
            .bands(Some(resolution.max(0) as u32))
            .into_iter()
            .map(Dynamic::from)
            .collect())
    }

    /// The JPEG 2000 file of a band at its own resolution, in either naming
    /// (`…_B04_10m.jp2` in Level-2A, `…_B04.jp2` in Level-1C).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// print(s2_band_file(p, "B8A"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_band_file(
        ctx: NativeCallContext,
        product: Dynamic,
        band: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        open_msi(&ctx, &product)?
            .band_file(band, None)
            .map_err(msi_error)
    }

    /// The file of a band at a resolution (Level-2A holds most bands at 20
    /// and 60 m too).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// assert(s2_band_file(p, "B03", 20).ends_with("_B03_20m.jp2"), "the 20 m green band");
    /// ```
    #[rhai_fn(name = "s2_band_file", return_raw)]
    pub fn s2_band_file_at(
        ctx: NativeCallContext,
        product: Dynamic,
        band: &str,
        resolution: INT,
    ) -> Result<String, Box<EvalAltResult>> {
        open_msi(&ctx, &product)?
            .band_file(band, Some(resolution.max(0) as u32))
            .map_err(msi_error)
    }

    /// A band as reflectance (0–1, from the product's quantification value
    /// and offset; no data missing), at its own resolution in the tile's
    /// UTM grid. Also `"SCL"` (scene classes), `"AOT"`, `"WVP"` (cm) in Level-2A.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// let red = s2_band(p, "B04");
    /// print(`${red} mean reflectance ${red.stats().mean}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_band(
        ctx: NativeCallContext,
        product: Dynamic,
        band: &str,
    ) -> Result<Raster, Box<EvalAltResult>> {
        s2_band_with(ctx, product, band, Map::new())
    }

    /// A band with options: `resolution` (10, 20 or 60), `aoi` (an area to
    /// clip to), and `lonlat: true` to warp it properly onto the area's
    /// lon/lat box (EPSG:4326) with pixels of `pixel` metres (default: the
    /// resolution). Bands warped onto the same box line up across
    /// resolutions, products and dates.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", from: "2020-08-11", to: "2020-08-11" })[0];
    /// let green = s2_band(p, "B03", #{ aoi: [57.68, -20.45, 57.79, -20.365], lonlat: true });
    /// assert(green.crs == "EPSG:4326", "lon/lat");
    /// let nir = s2_band(p, "B8A", #{ aoi: [57.68, -20.45, 57.79, -20.365], lonlat: true });
    /// assert(nir.width * 2 <= green.width + 1, "B8A keeps its native 20 m pixels");
    /// ```
    #[rhai_fn(name = "s2_band", return_raw)]
    pub fn s2_band_with(
        ctx: NativeCallContext,
        product: Dynamic,
        band: &str,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        // Without `resolution` or `pixel`, a lon/lat warp keeps the band's
        // own pixel size (B8A at 20 m), not 10 m.
        let native = sentinel2::native_resolution(band).map_err(msi_error)?;
        let request = band_request(&options, Some(native))?;
        open_msi(&ctx, &product)?
            .band(band, &request)
            .map_err(msi_error)
    }

    /// A spectral index: `"NBR"` (B8A, B12; burn scars low), `"NDVI"` (B08,
    /// B04), `"NDWI"` (B03, B08; water high), `"NDSI"` (B03, B11; snow high)
    /// or `"FDI"` (floating debris: B8A − (B06 + (B11 − B06) x 2.10831)), at
    /// its resolution (NDVI, NDWI 10 m; the others 20 m) in the UTM grid.
    /// At 20 and 60 m B8A stands for B08 (ESA's R20m and R60m folders hold
    /// only B8A). Reflectances ≤ 0 (the darkest pixels once baseline
    /// 04.00's offset is applied) are missing, so the index stays in [-1, 1].
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", from: "2020-07-22", to: "2020-07-22" })[0];
    /// let ndsi = s2_index(p, "NDSI");
    /// print(`snow (NDSI > 0.4) on ${round_to((ndsi > 0.4).stats().mean * 100.0, 1)} % of the area`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_index(
        ctx: NativeCallContext,
        product: Dynamic,
        name: &str,
    ) -> Result<Raster, Box<EvalAltResult>> {
        s2_index_with(ctx, product, name, Map::new())
    }

    /// An index with the options of `s2_band` (`resolution`, `aoi`,
    /// `lonlat`, `pixel`) and `nir`: `"B08"` keeps the wide NIR band at 20
    /// and 60 m (averaged from 10 m), `"B8A"` takes the narrow one.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", from: "2019-12-31", to: "2019-12-31" })[0];
    /// let nbr = s2_index(p, "NBR", #{ aoi: [150.36, -35.42, 150.46, -35.34], lonlat: true });
    /// nbr.plot(#{ cmap: "RdYlGn", vmin: -1.0, vmax: 1.0, title: "NBR" });
    /// let ndvi = s2_index(p, "NDVI", #{ resolution: 60 });
    /// assert(ndvi.resolution == [60.0, 60.0] && ndvi.stats().max <= 1.0, "B8A at 60 m");
    /// ```
    #[rhai_fn(name = "s2_index", return_raw)]
    pub fn s2_index_with(
        ctx: NativeCallContext,
        product: Dynamic,
        name: &str,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let index = sentinel2::Index::named(name).ok_or_else(|| {
            crate::api::script_error(
                "BadValue",
                &format!("\"{name}\" is not an index cleope knows"),
                "use NBR, NDVI, NDWI, NDSI or FDI, or s2_normalized_difference(p, band_a, band_b) for your own",
            )
        })?;
        let (options, nir) = nir_choice(options)?;
        let request = band_request(&options, Some(index.resolution()))?;
        let resolution = request.resolution.unwrap_or(index.resolution());
        let msi = open_msi(&ctx, &product)?;
        let bands = index
            .bands_at(resolution)
            .iter()
            .map(|&b| msi.band(nir_band(nir, b), &request))
            .collect::<Result<Vec<_>, _>>()
            .map_err(msi_error)?;
        index
            .compute(&bands)
            .map_err(crate::api::raster::raster_error)
    }

    /// Your own normalized difference `(a − b) / (a + b)` of two bands, at
    /// the coarser of their resolutions unless `resolution` says otherwise
    /// (other options as `s2_band`).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", from: "2020-01-30", to: "2020-01-30" })[0];
    /// let ndmi = s2_normalized_difference(p, "B8A", "B11", #{});
    /// print(ndmi.stats());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_normalized_difference(
        ctx: NativeCallContext,
        product: Dynamic,
        a: &str,
        b: &str,
        options: Map,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let native = |band: &str| {
            let upper = band.to_ascii_uppercase();
            sentinel2::BANDS
                .iter()
                .position(|name| *name == upper)
                .map_or(10, |id| sentinel2::NATIVE_RESOLUTION[id])
        };
        let coarser = native(a).max(native(b));
        let request = band_request(&options, Some(coarser))?;
        let msi = open_msi(&ctx, &product)?;
        let reflectance = |band: &str| {
            let raster = msi.band(band, &request).map_err(msi_error)?;
            sentinel2::positive_reflectance(&raster).map_err(crate::api::raster::raster_error)
        };
        let (first, second) = (reflectance(a)?, reflectance(b)?);
        Raster::normalized_difference(&first, &second).map_err(crate::api::raster::raster_error)
    }

    /// The three bands of a composite, red first, for `plot_rgb`: `"true"`
    /// (B04, B03, B02 at 10 m), `"nir"` (B08, B04, B03: vegetation red) or
    /// `"swir"` (B12, B11, B05 at 20 m: burn scars orange, water and snow
    /// dark in the SWIR), with the options of `s2_band` and `nir` (as
    /// `s2_index`; B8A stands for B08 at 20 and 60 m).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", from: "2020-04-12", to: "2020-04-12" })[0];
    /// let rgb = s2_composite(p, "true", #{ aoi: [105.0, -6.2, 105.5, -5.8], lonlat: true, pixel: 60.0 });
    /// plot_rgb(rgb[0], rgb[1], rgb[2], #{ stretch: "equalize", title: "Krakatoa" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_composite(
        ctx: NativeCallContext,
        product: Dynamic,
        kind: &str,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        let (bands, resolution) = sentinel2::composite_bands(kind).ok_or_else(|| {
            crate::api::script_error(
                "BadValue",
                &format!("\"{kind}\" is not a composite cleope knows"),
                "use \"true\", \"nir\" or \"swir\", or any three bands with s2_band and plot_rgb",
            )
        })?;
        let (options, nir) = nir_choice(options)?;
        let request = band_request(&options, Some(resolution))?;
        let bands = sentinel2::composite_bands_at(kind, request.resolution.unwrap_or(resolution))
            .unwrap_or(bands);
        let msi = open_msi(&ctx, &product)?;
        bands
            .iter()
            .map(|&b| {
                msi.band(nir_band(nir, b), &request)
                    .map(Dynamic::from)
                    .map_err(msi_error)
            })
            .collect()
    }

    /// The footprint of the product's valid data (traced around the non-zero
    /// pixels of its 60 m band, in lon/lat) as an aoi.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 1 })[0];
    /// let outline = s2_footprint(p);
    /// print(`${outline.area_km2} km² of data`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s2_footprint(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<crate::eo::geometry::Aoi, Box<EvalAltResult>> {
        let msi = open_msi(&ctx, &product)?;
        let host = Host::of(&ctx)?;
        let compute = Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        let ring = msi.footprint(&compute).map_err(msi_error)?;
        crate::eo::geometry::Aoi::from_polygon(&ring).map_err(crate::api::aoi::aoi_error)
    }

    /// The Floating Debris Index of three aligned reflectance rasters:
    /// `nir − (red_edge + (swir − red_edge) x 2.10831)` (B8A, B06, B11).
    ///
    /// ```rhai
    /// let nir = matrix(2, 2, 0.045).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let re = matrix(2, 2, 0.035).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let swir = matrix(2, 2, 0.022).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let value = fdi(nir, re, swir).stats().mean;
    /// assert(value > 0.037 && value < 0.038, "debris raises the FDI");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fdi(nir: Raster, red_edge: Raster, swir: Raster) -> Result<Raster, Box<EvalAltResult>> {
        sentinel2::fdi(&nir, &red_edge, &swir).map_err(crate::api::raster::raster_error)
    }
}

/// Ship detection settings from script options.
fn ship_options(
    options: &Map,
) -> Result<crate::eo::products::sentinel1::ShipOptions, Box<EvalAltResult>> {
    Options::check(
        options,
        &[
            "stretch",
            "max_filters",
            "sigma",
            "threshold",
            "erode",
            "dilate",
            "max_pixels",
        ],
    )?;
    let mut settings = crate::eo::products::sentinel1::ShipOptions::default();
    let whole = |key: &str, limit: f64| -> Result<Option<f64>, Box<EvalAltResult>> {
        match options.get(key) {
            None => Ok(None),
            Some(v) => {
                let n = v
                    .as_float()
                    .ok()
                    .or_else(|| v.as_int().ok().map(|i| i as f64));
                match n {
                    Some(n) if (0.0..=limit).contains(&n) => Ok(Some(n)),
                    _ => Err(crate::api::script_error(
                        "BadOption",
                        &format!("{key} must be between 0 and {limit}, not {v}"),
                        "",
                    )),
                }
            }
        }
    };
    if let Some(n) = whole("max_filters", 10.0)? {
        settings.max_filters = n as usize;
    }
    if let Some(n) = whole("sigma", 50.0)? {
        settings.sigma = n.max(0.1) as f32;
    }
    if let Some(n) = whole("threshold", 255.0)? {
        settings.threshold = n as f32;
    }
    if let Some(n) = whole("erode", 20.0)? {
        settings.erode = n as u8;
    }
    if let Some(n) = whole("dilate", 20.0)? {
        settings.dilate = n as u8;
    }
    if let Some(n) = whole("max_pixels", 1e9)? {
        settings.max_pixels = n as usize;
    }
    if let Some(v) = options.get("stretch") {
        match v.clone().into_typed_array::<FLOAT>().as_deref() {
            Ok(&[low, high]) if (0.0..high).contains(&low) && high <= 1.0 => {
                settings.stretch = (low, high)
            }
            _ => {
                return Err(crate::api::script_error(
                    "BadOption",
                    &format!("stretch {v} is not two quantiles"),
                    "e.g. stretch: [0.02, 0.98]",
                ));
            }
        }
    }
    Ok(settings)
}
