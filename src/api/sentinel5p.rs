//! Sentinel-5P TROPOMI Level-2 products: what a product holds, and its
//! retrievals in an area as a swath, filtered by quality and converted to
//! the unit asked for. Products are given as an `EnsProduct` (from
//! `ens_open`/`ens_find`), a catalogue `Product`, a product name, or a path.

use crate::api::args::{self, Options};
use crate::eo::products::sentinel5p::{L2, ReadRequest, S5pError, Species, Unit};
use crate::runtime::Host;
use rhai::plugin::*;
use rhai::{FLOAT, Map};

pub fn module() -> Module {
    exported_module!(sentinel5p_api)
}

/// A Sentinel-5P failure as a script error.
fn s5p_error(error: S5pError) -> Box<EvalAltResult> {
    match error {
        S5pError::Product { message, hint } => {
            crate::api::script_error("BadProduct", &message, &hint)
        }
        S5pError::Raster(e) => crate::api::raster::raster_error(e),
    }
}

fn open_l2(ctx: &NativeCallContext, product: &Dynamic) -> Result<L2, Box<EvalAltResult>> {
    L2::open(&args::product(ctx, product)?.gdal_path(ctx)?).map_err(s5p_error)
}

/// The read request of `s5p_read`'s options.
fn read_request(options: &Map) -> Result<ReadRequest, Box<EvalAltResult>> {
    Options::check(options, &["area", "qa", "unit"])?;
    let bounds = options.get("area").map(args::bounds).transpose()?;
    let qa = match options.get("qa") {
        None => None,
        Some(value) => Some(
            value
                .as_float()
                .ok()
                .or_else(|| value.as_int().ok().map(|i| i as FLOAT))
                .filter(|q| (0.0..=1.0).contains(q))
                .ok_or_else(|| {
                    crate::api::script_error(
                        "BadOption",
                        &format!("qa must be a number from 0 to 1, not {value}"),
                        "qa_value runs from 0 (no retrieval) to 1 (best): 0.75 for NO2 and 0.5 for the other species are ESA's advice",
                    )
                })?,
        ),
    };
    let unit = match options.get("unit") {
        None => Unit::Native,
        Some(name) => Unit::named(&name.to_string()).map_err(s5p_error)?,
    };
    Ok(ReadRequest { bounds, qa, unit })
}

#[export_module]
mod sentinel5p_api {
    use super::*;
    use crate::eo::products::sentinel5p;
    use crate::eo::swath::Swath;
    use rhai::INT;

    /// The species TROPOMI products carry and the variable holding each
    /// one's column (CLEOPE's `L2_variables`): `#{CO: "carbonmonoxide_total_column", ...}`.
    ///
    /// ```rhai
    /// let species = s5p_species();
    /// assert(species.NO2 == "nitrogendioxide_tropospheric_column", "NO2's variable");
    /// ```
    pub fn s5p_species() -> Map {
        Species::ALL
            .into_iter()
            .map(|s| (s.key().into(), Dynamic::from(s.variable().to_string())))
            .collect()
    }

    /// What a Sentinel-5P Level-2 product is: `name`, `species` ("CO",
    /// "NO2"...), `variable`, `unit` (as stored), `factors` (its conversion
    /// factors, e.g. `molecules_percm2`), `start` and `end`
    /// (`time_coverage_start`/`_end`, UTC), `date`, `orbit`,
    /// `processor_version`, the `recommended_qa` and the netCDF `file`.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-5P", product_type: "L2__SO2___", from: "2020-04-12", to: "2020-04-13" })[0];
    /// let info = s5p_product(p);
    /// print(`${info.species} on ${info.date}, orbit ${info.orbit}: ${info.variable} in ${info.unit}`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn s5p_product(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let l2 = open_l2(&ctx, &product)?;
        let factors: Map = l2
            .factors
            .iter()
            .map(|(kind, factor)| (kind.into(), Dynamic::from_float(*factor)))
            .collect();
        let mut map = Map::new();
        let mut set = |key: &str, value: Dynamic| {
            map.insert(key.into(), value);
        };
        set("name", l2.name.clone().into());
        set("species", l2.species.key().into());
        set("variable", l2.species.variable().into());
        set("unit", l2.unit.clone().into());
        set("factors", factors.into());
        set("start", l2.time_start.clone().into());
        set("end", l2.time_end.clone().into());
        set("date", l2.date().into());
        set(
            "orbit",
            l2.orbit.map_or(Dynamic::UNIT, |o| Dynamic::from(o as INT)),
        );
        set("processor_version", l2.processor_version.clone().into());
        set(
            "recommended_qa",
            Dynamic::from_float(l2.species.recommended_qa()),
        );
        set("file", l2.file.clone().into());
        Ok(map)
    }

    /// Every retrieval of the product's species whose quality is at least
    /// the species' recommended `qa_value` (0.75 for NO2, 0.5 for the
    /// others), as stored (mol m-2; 1e-9 for CH4).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-5P", product_type: "L2__SO2___", from: "2020-04-12", to: "2020-04-13" })[0];
    /// let so2 = s5p_read(p);
    /// print(`${so2.len} good SO2 retrievals`);
    /// ```
    #[rhai_fn(name = "s5p_read", return_raw)]
    pub fn s5p_read_all(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Swath, Box<EvalAltResult>> {
        s5p_read(ctx, product, Map::new())
    }

    /// The product's retrievals with options: `area` (an aoi or `[lon_min,
    /// lat_min, lon_max, lat_max]`; points on its edge are kept), `qa` (the
    /// lowest `qa_value` kept, default the species' recommended one; 0
    /// keeps every retrieval) and `unit`: `"mol/m2"` (as stored),
    /// `"mmol/m2"`, `"umol/m2"`, `"molecules/cm2"` or `"DU"` (the last two
    /// with the product's own factors; CH4, a mixing ratio, has none).
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-5P", product_type: "L2__SO2___", from: "2020-04-12", to: "2020-04-13" })[0];
    /// let so2 = s5p_read(p, #{ area: [104.5, -6.4, 106.0, -5.0], qa: 0.5, unit: "mmol/m2" });
    /// print(`peak SO2: ${so2.stats().max} mmol/m2`);
    /// ```
    #[rhai_fn(name = "s5p_read", return_raw)]
    pub fn s5p_read(
        ctx: NativeCallContext,
        product: Dynamic,
        options: Map,
    ) -> Result<Swath, Box<EvalAltResult>> {
        let request = read_request(&options)?;
        let l2 = open_l2(&ctx, &product)?;
        let host = Host::of(&ctx)?;
        l2.read(&request, &host.memory).map_err(s5p_error)
    }

    /// The mean of a swath's values and the number of points it took:
    /// `#{mean, pixels}`. With `positive_only`, only the values above
    /// zero count, as in CLEOPE's time series (noise makes clean-air
    /// columns slightly negative). No point gives a mean of `()`.
    ///
    /// ```rhai
    /// let s = swath([1.0, 2.0, 3.0], [1.0, 1.0, 1.0], [-1.0, 2.0, 4.0]);
    /// assert(s5p_area_mean(s, true).mean == 3.0, "the positive values");
    /// assert(s5p_area_mean(s, false).pixels == 3, "every value");
    /// ```
    pub fn s5p_area_mean(swath: Swath, positive_only: bool) -> Map {
        let (mean, pixels) = sentinel5p::area_mean(&swath, positive_only);
        let mut map = Map::new();
        map.insert(
            "mean".into(),
            if pixels == 0 {
                Dynamic::UNIT
            } else {
                Dynamic::from_float(mean)
            },
        );
        map.insert("pixels".into(), Dynamic::from(pixels as INT));
        map
    }
}
