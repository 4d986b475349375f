//! Copernicus services: CAMS atmospheric composition, CMEMS sea surface
//! temperature and CGLS vegetation (NDVI, FAPAR, FCOVER, LAI, DMP).
//! Products are given as `EnsProduct` handles (from `ens_find`/`ens_open`),
//! product names, or paths; the functions pick time steps, open the files
//! with their scale factors and flags, and stack them by date.

use crate::api::args;
use crate::eo::ens::EnsProduct;
use crate::eo::products::services::{self as services, ServiceError};
use crate::eo::raster::{Raster, Stack};
use crate::runtime::{Host, Stream};
use chrono::NaiveDate;
use rhai::plugin::*;
use rhai::{Array, Map};

pub fn module() -> Module {
    exported_module!(services_api)
}

/// A service failure as a script error.
fn service_error(error: ServiceError) -> Box<EvalAltResult> {
    match error {
        ServiceError::Invalid { message, hint } => {
            crate::api::script_error("BadValue", &message, &hint)
        }
        ServiceError::Raster(e) => crate::api::raster::raster_error(e),
    }
}

/// Shows a note (a skipped date, a fallback) on the session's error stream,
/// as CLEOPE printed its warnings.
fn note(ctx: &NativeCallContext, text: &str) -> Result<(), Box<EvalAltResult>> {
    Host::of(ctx)?
        .display
        .stream(Stream::Stderr, &format!("{text}\n"));
    Ok(())
}

fn date_of(text: &str) -> Result<NaiveDate, Box<EvalAltResult>> {
    services::parse_date(text).map_err(service_error)
}

/// The dates of a script array, as dates.
fn dates_of(values: &Array) -> Result<Vec<NaiveDate>, Box<EvalAltResult>> {
    values.iter().map(|v| date_of(&v.to_string())).collect()
}

/// A product argument as an `EnsProduct` (see `api::args::product`).
fn ens_product(
    ctx: &NativeCallContext,
    product: &Dynamic,
) -> Result<EnsProduct, Box<EvalAltResult>> {
    args::product(ctx, product)?.ens(ctx)
}

/// The name a product goes by (its file or folder name).
fn product_name(ctx: &NativeCallContext, product: &Dynamic) -> Result<String, Box<EvalAltResult>> {
    Ok(ens_product(ctx, product)?.name().to_string())
}

/// The GDAL path of the product's file matching `pattern` (the product
/// itself when it is that file or any single file, whose content the
/// opener then checks), confined to the workspace and archive.
fn product_file(
    ctx: &NativeCallContext,
    product: &Dynamic,
    pattern: &str,
) -> Result<String, Box<EvalAltResult>> {
    let ens = ens_product(ctx, product)?;
    let path = if crate::eo::ens::pattern_matches(pattern, ens.name()) || ens.path().is_file() {
        ens.path().display().to_string()
    } else {
        ens.files(pattern)
            .map_err(|e| crate::api::script_error("BadProduct", &e.to_string(), &e.hint()))?
            .into_iter()
            .next()
            .ok_or_else(|| {
                crate::api::script_error(
                    "BadProduct",
                    &format!("{} holds no file matching {pattern}", ens.name()),
                    "check that this is the right kind of product",
                )
            })?
    };
    crate::api::gdal_path(&Host::of(ctx)?.workspace(), &path)
}

/// Keeps the chosen products of `products` (by their names), in the order
/// of `chosen`, and notes what is missing or left out.
fn keep_chosen(
    ctx: &NativeCallContext,
    products: Array,
    selection: services::Selection,
    what: &str,
    time_format: &str,
) -> Result<Array, Box<EvalAltResult>> {
    let mut by_name = Vec::new();
    for product in products {
        let ens = ens_product(ctx, &product)?;
        by_name.push((ens.path().display().to_string(), product));
    }
    for missing in &selection.missing {
        note(
            ctx,
            &format!(
                "no {what} product for {}: skipped",
                missing.format(time_format)
            ),
        )?;
    }
    if selection.dropped > 0 {
        note(
            ctx,
            &format!(
                "{} older time steps left out: at most {} are loaded at once",
                selection.dropped,
                services::LIMIT
            ),
        )?;
    }
    Ok(selection
        .chosen
        .iter()
        .filter_map(|(_, path)| {
            by_name
                .iter()
                .find(|(p, _)| p == path)
                .map(|(_, product)| product.clone())
        })
        .collect())
}

/// The real paths of products (for selections by name).
fn paths_of(ctx: &NativeCallContext, products: &Array) -> Result<Vec<String>, Box<EvalAltResult>> {
    products
        .iter()
        .map(|p| Ok(ens_product(ctx, p)?.path().display().to_string()))
        .collect()
}

/// Rasters with their dates as a stack (an empty list is an error).
fn dated_stack(
    layers: Vec<Raster>,
    dates: Vec<String>,
    what: &str,
) -> Result<Stack, Box<EvalAltResult>> {
    if layers.is_empty() {
        return Err(crate::api::script_error(
            "NoProducts",
            &format!("there are no {what} products to stack"),
            "check the dates and the products found (print them)",
        ));
    }
    Stack::new(layers, Some(dates)).map_err(crate::api::raster::raster_error)
}

/// The name of a product argument: a bare name as given, else the name
/// of the product it opens.
fn name_of(ctx: &NativeCallContext, product: &Dynamic) -> Result<String, Box<EvalAltResult>> {
    if product.is_string() && !product.to_string().contains('/') {
        return Ok(product.to_string());
    }
    product_name(ctx, product)
}

fn cams_time_of(ctx: &NativeCallContext, product: &Dynamic) -> Result<String, Box<EvalAltResult>> {
    if let Ok(name) = services::parse_cams_name(&name_of(ctx, product)?) {
        return Ok(name.time.format("%Y-%m-%d %H:%M").to_string());
    }
    // Any other name: the first CF time of the species' variable.
    let path = product_file(ctx, product, "z_cams_*.nc")?;
    let code = services::cams_code_in(&path).map_err(service_error)?;
    let bands = crate::eo::netcdf::cf::bands(&path, code)
        .map_err(|e| service_error(ServiceError::Raster(e)))?;
    bands
        .first()
        .and_then(|b| b.coordinates.iter().find(|(name, _)| name == "time"))
        .and_then(|(_, time)| Some(time.get(..16)?.replace('T', " ")))
        .ok_or_else(|| {
            crate::api::script_error(
                "BadProduct",
                &format!("{} has no time coordinate", name_of(ctx, product).unwrap_or_default()),
                "CAMS files are dated by their name (z_cams_c_ecmf_<YYYYMMDDHH>…) or a CF time variable",
            )
        })
}

fn open_cams_product(
    ctx: &NativeCallContext,
    product: &Dynamic,
) -> Result<Raster, Box<EvalAltResult>> {
    let path = product_file(ctx, product, "z_cams_*.nc")?;
    let code = match services::parse_cams_name(&path) {
        Ok(name) => name.code,
        // Not CAMS's own name: recognised by the species it holds.
        Err(_) => services::cams_code_in(&path)
            .map_err(service_error)?
            .to_string(),
    };
    services::open_cams(&path, &code).map_err(service_error)
}

fn gmpe_date_of(ctx: &NativeCallContext, product: &Dynamic) -> Result<String, Box<EvalAltResult>> {
    if let Ok(date) = services::parse_gmpe_date(&name_of(ctx, product)?) {
        return Ok(date.to_string());
    }
    let path = product_file(ctx, product, "*L4_GHRSST*.nc")?;
    services::sst_date(&path)
        .map(|d| d.to_string())
        .map_err(service_error)
}

fn open_gmpe_product(
    ctx: &NativeCallContext,
    product: &Dynamic,
) -> Result<Raster, Box<EvalAltResult>> {
    let path = product_file(ctx, product, "*L4_GHRSST*.nc")?;
    services::open_gmpe(&path).map_err(service_error)
}

/// A raster in degrees Celsius, by its unit: kelvin (or none) converted,
/// °C kept, anything else refused.
fn celsius_of(r: Raster) -> Result<Raster, Box<EvalAltResult>> {
    use crate::eo::raster::Binary;
    match r.unit.as_str() {
        "°C" | "C" | "degC" | "Celsius" | "celsius" | "degree_Celsius" | "degrees_Celsius" => {
            let mut celsius = r;
            celsius.unit = "°C".to_string();
            Ok(celsius)
        }
        "" | "K" | "kelvin" | "Kelvin" | "degK" => {
            let mut celsius = r.with_scalar(Binary::Subtract, 273.15, false);
            celsius.unit = "°C".to_string();
            Ok(celsius)
        }
        other => Err(crate::api::script_error(
            "UnitMismatch",
            &format!("to_celsius converts kelvin, but the raster is in \"{other}\""),
            "to_celsius is for temperatures in kelvin; check the variable you opened",
        )),
    }
}

#[export_module]
mod services_api {
    use super::*;
    use crate::eo::geometry::Aoi;
    use rhai::{FLOAT, INT};

    /// Dates from `from` to `to` (both `"YYYY-MM-DD"`) every `every`: `"D"`,
    /// `"W"` or `"M"` (calendar months), optionally after a number (`"3 D"`,
    /// `"2 W"`). Never past the end date nor today; at most the 30 most
    /// recent are kept (CLEOPE's `dates_list`, without its extra date past
    /// the end).
    ///
    /// ```rhai
    /// let d = sample_dates("2019-12-15", "2020-04-15", "M");
    /// assert(d == ["2019-12-15", "2020-01-15", "2020-02-15", "2020-03-15", "2020-04-15"], "monthly");
    /// assert(sample_dates("2020-01-01", "2020-01-29", "W").len() == 5, "weekly");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn sample_dates(
        ctx: NativeCallContext,
        from: &str,
        to: &str,
        every: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let step = services::Step::parse(every).map_err(service_error)?;
        let today = chrono::Utc::now().date_naive();
        let sampled = services::sample_dates(date_of(from)?, date_of(to)?, step, today)
            .map_err(service_error)?;
        if let Some(today) = sampled.end_clamped {
            note(
                &ctx,
                &format!("the end date {to} is in the future: the dates stop today, {today}"),
            )?;
        }
        if sampled.dropped > 0 {
            note(
                &ctx,
                &format!(
                    "{} earlier dates left out: at most {} are loaded at once",
                    sampled.dropped,
                    services::LIMIT
                ),
            )?;
        }
        Ok(sampled.dates.iter().map(|d| d.to_string().into()).collect())
    }

    // -----------------------------------------------------------------
    // CAMS

    /// The 13 total-column species of the CAMS analysis, as
    /// `[#{code, name, long_name}, ...]`.
    ///
    /// ```rhai
    /// let all = cams_species();
    /// assert(all.len() == 13 && all[1].code == "tcco", "CO is second");
    /// print_table(all, ["code", "name"]);
    /// ```
    pub fn cams_species() -> Array {
        services::CAMS_SPECIES
            .iter()
            .map(|s| {
                let mut map = Map::new();
                map.insert("code".into(), s.code.into());
                map.insert("name".into(), s.name.into());
                map.insert("long_name".into(), s.long_name.into());
                map.into()
            })
            .collect()
    }

    /// The CAMS code of a species given by code or element name
    /// (`"carbon_monoxide"` → `"tcco"`).
    ///
    /// ```rhai
    /// assert(cams_code("nitrogen dioxide") == "tcno2", "NO2");
    /// assert(cams_code("tchcho") == "tchcho", "codes pass through");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cams_code(species: &str) -> Result<String, Box<EvalAltResult>> {
        services::cams_species(species)
            .map(|s| s.code.to_string())
            .map_err(service_error)
    }

    /// The CAMS products of `species` at the sampled `dates` and analysis
    /// `hours` (`[0]`, `[12]` or `[0, 12]`; `[]` means both), oldest first
    /// and at most 30. Times no product holds are noted and skipped.
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-atmosphere", product_type: "tcco",
    ///                         from: "2020-01-15", to: "2020-02-15" });
    /// let chosen = cams_select(found, "tcco", ["2020-01-15", "2020-02-15"], [0]);
    /// assert(chosen.len() == 2, "two midnight analyses");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cams_select(
        ctx: NativeCallContext,
        products: Array,
        species: &str,
        dates: Array,
        hours: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let code = services::cams_species(species).map_err(service_error)?.code;
        let hours: Vec<i64> = hours.iter().filter_map(|h| h.as_int().ok()).collect();
        let hours = services::cams_hours(&hours).map_err(service_error)?;
        let paths = paths_of(&ctx, &products)?;
        let selection = services::select_cams(&paths, code, &dates_of(&dates)?, &hours);
        keep_chosen(&ctx, products, selection, code, "%Y-%m-%d %H:%M UTC")
    }

    /// The analysis time of a CAMS product, `"YYYY-MM-DD HH:MM"`.
    ///
    /// ```rhai
    /// let t = cams_time("z_cams_c_ecmf_20200115120000_prod_an_sfc_000_tcco.nc");
    /// assert(t == "2020-01-15 12:00", "noon analysis");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cams_time(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        cams_time_of(&ctx, &product)
    }

    /// Opens a CAMS product: its species (named in the file name), first
    /// time step, in kg m**-2, with longitudes from -180 to 180 (the files
    /// store 0 to 360) so maps get coastlines.
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-atmosphere", product_type: "tcco", from: "2020-01-15", to: "2020-01-15" })[0];
    /// let co = cams_open(p);
    /// assert(co.bounds.x_min < -179.0 && co.width == 360, "global, from -180");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cams_open(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        open_cams_product(&ctx, &product)
    }

    /// CAMS products (one species) as a stack dated by analysis time.
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-atmosphere", product_type: "tcno2", from: "2020-01-15", to: "2020-02-15" });
    /// let no2 = cams_stack(cams_select(found, "tcno2", ["2020-01-15", "2020-02-15"], [0]));
    /// assert(no2.dates == ["2020-01-15 00:00", "2020-02-15 00:00"], "two dates");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cams_stack(
        ctx: NativeCallContext,
        products: Array,
    ) -> Result<Stack, Box<EvalAltResult>> {
        let mut layers = Vec::new();
        let mut dates = Vec::new();
        for product in &products {
            layers.push(open_cams_product(&ctx, product)?);
            dates.push(cams_time_of(&ctx, product)?);
        }
        dated_stack(layers, dates, "CAMS")
    }

    // -----------------------------------------------------------------
    // CMEMS

    /// The GMPE SST products at the sampled `dates`, oldest first (at most
    /// 30); dates with no product are noted and skipped.
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-marine", from: "2019-04-01", to: "2019-06-01" });
    /// let chosen = gmpe_select(found, sample_dates("2019-04-01", "2019-06-01", "M"));
    /// assert(chosen.len() == 3, "April, May, June");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmpe_select(
        ctx: NativeCallContext,
        products: Array,
        dates: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let paths = paths_of(&ctx, &products)?;
        let selection = services::select_gmpe(&paths, &dates_of(&dates)?);
        keep_chosen(&ctx, products, selection, "GMPE SST", "%Y-%m-%d")
    }

    /// The day of a GMPE (GHRSST L4) product, `"YYYY-MM-DD"`.
    ///
    /// ```rhai
    /// assert(gmpe_date("20190801120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0.nc") == "2019-08-01", "from the name");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmpe_date(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        gmpe_date_of(&ctx, &product)
    }

    /// Opens the sea surface temperature of a GMPE product (`analysed_sst`,
    /// kelvin, land missing) or of any SST analysis file recognised by its
    /// content whatever its name: GHRSST L4 (`analysed_sst`) or NOAA OISST
    /// (`sst`, in °C as the file says).
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-marine", from: "2019-08-01", to: "2019-08-01" })[0];
    /// let sst = gmpe_open(p);
    /// assert(sst.stats().max < 310.0, "kelvin");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmpe_open(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        open_gmpe_product(&ctx, &product)
    }

    /// GMPE products as a stack of `analysed_sst` (K) dated by day.
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-marine", from: "2019-08-01", to: "2019-08-03" });
    /// let sst = gmpe_stack(found);
    /// assert(sst.len == 3, "three days");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn gmpe_stack(
        ctx: NativeCallContext,
        products: Array,
    ) -> Result<Stack, Box<EvalAltResult>> {
        let mut layers = Vec::new();
        let mut dates = Vec::new();
        for product in &products {
            layers.push(open_gmpe_product(&ctx, product)?);
            dates.push(gmpe_date_of(&ctx, product)?);
        }
        dated_stack(layers, dates, "GMPE SST")
    }

    /// Kelvin to degrees Celsius (the unit becomes `°C`). The raster's unit
    /// decides: kelvin (or no unit, as for a matrix) is converted, a raster
    /// already in °C (a GRIB temperature, which GDAL gives in °C) comes back
    /// unchanged, and any other unit is a `UnitMismatch` error.
    ///
    /// ```rhai
    /// let k = matrix(2, 2, 300.15).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let c = to_celsius(k);
    /// assert(c.stats().mean > 26.99 && c.stats().mean < 27.01, "27 °C");
    /// assert(to_celsius(c).stats().mean < 27.01, "already °C: unchanged");
    /// ```
    #[rhai_fn(name = "to_celsius", return_raw)]
    pub fn raster_to_celsius(r: Raster) -> Result<Raster, Box<EvalAltResult>> {
        celsius_of(r)
    }

    /// Every date of a stack from kelvin to degrees Celsius.
    ///
    /// ```rhai
    /// let k = matrix(2, 2, 290.15).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let s = to_celsius(stack([k, k + 5.0], ["2020-01-01", "2020-07-01"]));
    /// assert(s[1].stats().mean > 21.99, "22 °C in July");
    /// ```
    #[rhai_fn(name = "to_celsius", return_raw)]
    pub fn stack_to_celsius(s: Stack) -> Result<Stack, Box<EvalAltResult>> {
        let layers = s
            .layers()
            .iter()
            .cloned()
            .map(celsius_of)
            .collect::<Result<Vec<_>, _>>()?;
        Stack::new(layers, Some(s.dates().to_vec())).map_err(crate::api::raster::raster_error)
    }

    /// The mean and standard deviation of every date of a stack (over its
    /// valid pixels), as `[#{date, mean, std, count}, ...]` (CLEOPE's
    /// `cmems.table`).
    ///
    /// ```rhai
    /// let r = matrix(3, 3, 14.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let t = stats_table(stack([r, r + 10.0], ["2020-01-01", "2020-07-01"]));
    /// assert(t[1].mean == 24.0 && t[1].std == 0.0, "July");
    /// print_table(t, ["date", "mean", "std"]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stats_table(ctx: NativeCallContext, s: Stack) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let compute = crate::eo::raster::Compute {
            pool: &host.pool,
            budget: &host.memory,
            cancel: &host.cancel,
        };
        let mut rows = Array::new();
        for (date, layer) in s.dates().iter().zip(s.layers()) {
            let stats = compute
                .stats(layer)
                .map_err(crate::api::raster::raster_error)?;
            let mut row = Map::new();
            row.insert("date".into(), date.clone().into());
            row.insert("mean".into(), Dynamic::from_float(stats.mean as FLOAT));
            row.insert("std".into(), Dynamic::from_float(stats.std as FLOAT));
            row.insert("count".into(), (stats.count as INT).into());
            rows.push(row.into());
        }
        Ok(rows)
    }

    /// The Mediterranean Sea as an area (an outline drawn for cleope,
    /// closed at Gibraltar and the Dardanelles), to clip SST maps with.
    ///
    /// ```rhai
    /// let med = medsea();
    /// assert(med.contains(5.0, 40.0) && !med.contains(31.0, 43.0), "not the Black Sea");
    /// med.save("resources/medsea.json");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn medsea() -> Result<Aoi, Box<EvalAltResult>> {
        Aoi::from_polygon(&services::MEDSEA)
            .map_err(|e| crate::api::script_error("BadValue", &e.to_string(), ""))
    }

    // -----------------------------------------------------------------
    // CGLS

    /// The four CGLS 1 km variables, as `[#{code, name, title, units}, ...]`.
    ///
    /// ```rhai
    /// let v = cgls_variables();
    /// assert(v.map(|x| x.code) == ["NDVI", "FAPAR", "FCOVER", "LAI"], "four");
    /// ```
    pub fn cgls_variables() -> Array {
        services::CGLS_VARIABLES
            .iter()
            .map(|v| {
                let mut map = Map::new();
                map.insert("code".into(), v.code.into());
                map.insert("name".into(), v.name.into());
                map.insert("title".into(), v.title.into());
                map.insert("units".into(), v.units.into());
                map.into()
            })
            .collect()
    }

    /// The CGLS code of a variable given by code or CLEOPE's long name
    /// (`"Leaf_Area_Index_1km"` → `"LAI"`).
    ///
    /// ```rhai
    /// assert(cgls_code("ndvi") == "NDVI", "any case");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cgls_code(variable: &str) -> Result<String, Box<EvalAltResult>> {
        services::land_variable(variable)
            .map(|v| v.code.to_string())
            .map_err(service_error)
    }

    /// The last day of `date`'s month, `"YYYY-MM-DD"` (the end of a
    /// search for a month's most recent product).
    ///
    /// ```rhai
    /// assert(month_end("2020-02-10") == "2020-02-29", "leap year");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn month_end(date: &str) -> Result<String, Box<EvalAltResult>> {
        Ok(services::month_end(date_of(date)?).to_string())
    }

    /// The most recent product of `variable` in `date`'s month, or, when
    /// that month has none, in the closest earlier month that has one
    /// (CLEOPE's month-by-month fallback, noted when used); a date in the
    /// future means today. Returns `#{product, date, months_back}`.
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-land", product_type: "NDVI", to: "2020-06-30" });
    /// let pick = cgls_latest(found, "NDVI", "2020-06-15");
    /// assert(pick.date == "2020-05-21" && pick.months_back == 1, "May's last dekad");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cgls_latest(
        ctx: NativeCallContext,
        products: Array,
        variable: &str,
        date: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let code = services::land_variable(variable)
            .map_err(service_error)?
            .code;
        let mut wanted = date_of(date)?;
        let today = chrono::Utc::now().date_naive();
        if wanted > today {
            note(
                &ctx,
                &format!("{date} is in the future: looking from today, {today}"),
            )?;
            wanted = today;
        }
        let paths = paths_of(&ctx, &products)?;
        let Some((path, found, back)) = services::most_recent_cgls(&paths, code, wanted) else {
            return Err(crate::api::script_error(
                "NoProducts",
                &format!(
                    "no {code} product on or before {}",
                    services::month_end(wanted)
                ),
                "search the archive for this variable without a start date, or choose a later month",
            ));
        };
        if back > 0 {
            note(
                &ctx,
                &format!(
                    "no {code} product in {}: using the most recent one, of {found} ({back} month{} back)",
                    wanted.format("%B %Y"),
                    if back == 1 { "" } else { "s" }
                ),
            )?;
        }
        let product = products
            .into_iter()
            .zip(&paths)
            .find(|(_, p)| **p == path)
            .map(|(product, _)| product)
            .unwrap_or(Dynamic::UNIT);
        let mut map = Map::new();
        map.insert("product".into(), product);
        map.insert("date".into(), found.to_string().into());
        map.insert("months_back".into(), (back as INT).into());
        Ok(map)
    }

    /// The nominal date of a CGLS product (its 10-day period), `"YYYY-MM-DD"`.
    ///
    /// ```rhai
    /// assert(cgls_date("c_gls_NDVI_202005210000_GLOBE_PROBAV_V2.2.1.nc") == "2020-05-21", "from the name");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cgls_date(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        let name = name_of(&ctx, &product)?;
        if let Ok(dmp) = services::parse_dmp_name(&name) {
            return Ok(dmp.date.to_string());
        }
        services::parse_cgls_name(&name)
            .map(|n| n.date.to_string())
            .map_err(service_error)
    }

    /// Opens a CGLS NDVI, FAPAR, FCOVER or LAI product: its variable (named
    /// in the file name) with the scale factor applied; flag values (cloud,
    /// snow, sea, missing) are missing.
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-land", product_type: "LAI", from: "2020-05-31", to: "2020-05-31" })[0];
    /// let lai = cgls_open(p);
    /// assert(lai.stats().max <= 7.0, "LAI in m2/m2");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn cgls_open(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let path = product_file(&ctx, &product, "c_gls_*.nc")?;
        let name = services::parse_cgls_name(&path).map_err(service_error)?;
        services::open_cgls(&path, &name.code).map_err(service_error)
    }

    /// Opens a CGLS DMP product (the zip, its folder, or its GeoTIFF) in
    /// kg/ha/day (the stored integers scaled by 0.01).
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-land", product_type: "DMP", from: "2020-04-01", to: "2020-04-10" })[0];
    /// let dmp = dmp_open(p);
    /// assert(dmp.stats().max < 200.0, "kg/ha/day");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dmp_open(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let path = product_file(&ctx, &product, "*.tiff")?;
        Ok(services::open_dmp(&path).map_err(service_error)?.raster)
    }

    /// The `PRODUCT_TIME` tag of a DMP product: when it was made (two days
    /// after its 10-day period), not the period itself.
    ///
    /// ```rhai
    /// let p = ens_find(#{ main_class: "Copernicus-land", product_type: "DMP", from: "2020-01-01", to: "2020-01-10" })[0];
    /// print("Product time: " + dmp_product_time(p));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dmp_product_time(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        let path = product_file(&ctx, &product, "*.tiff")?;
        let layer = services::open_dmp(&path).map_err(service_error)?;
        Ok(layer.product_time.unwrap_or_default())
    }

    /// DMP products clipped to `area` (`[lon_min, lat_min, lon_max,
    /// lat_max]` or an aoi), stacked by their 10-day period (the date in
    /// the name; CLEOPE used `PRODUCT_TIME`, the production time).
    ///
    /// ```rhai
    /// let found = ens_find(#{ main_class: "Copernicus-land", product_type: "DMP", from: "2020-01-01", to: "2020-06-30" });
    /// let sardinia = dmp_stack(found, [8.0, 38.8, 9.9, 41.3]);
    /// assert(sardinia.len == found.len(), "one date per product");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn dmp_stack(
        ctx: NativeCallContext,
        products: Array,
        area: Dynamic,
    ) -> Result<Stack, Box<EvalAltResult>> {
        let bounds = args::bounds(&area)?;
        let mut layers = Vec::new();
        let mut dates = Vec::new();
        for product in products {
            let path = product_file(&ctx, &product, "*.tiff")?;
            let layer = services::open_dmp(&path).map_err(service_error)?;
            let native = crate::eo::raster::crs::lonlat_bounds_to(&layer.raster.grid().crs, bounds)
                .map_err(crate::api::raster::raster_error)?;
            layers.push(
                layer
                    .raster
                    .clip(native)
                    .map_err(crate::api::raster::raster_error)?,
            );
            dates.push(layer.date.to_string());
        }
        dated_stack(layers, dates, "DMP")
    }
}
