//! What product names say: mission, type, sensing time, tile, orbit.

use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(products_api)
}

#[export_module]
mod products_api {
    use crate::api::script_error;
    use crate::eo::products::names;
    use rhai::Map;

    /// Reads a Sentinel-1, -2, -3 or -5P product name (a bare name or a
    /// path, with or without `.SAFE`, `.SEN3`, `.zip`, `.nc`) into a map:
    /// `mission`, `platform`, `product_type`, `start` and `stop` (ISO UTC),
    /// `date`, plus what the family's names hold (`tile`, `relative_orbit`,
    /// `absolute_orbit`, `polarisation`, `timeliness`, `species`...). Sort time
    /// series by `start`: it is when the image was taken.
    ///
    /// ```rhai
    /// let p = product_name("S2A_MSIL2A_20191215T110441_N0213_R094_T30SVG_20191215T121707.SAFE");
    /// assert(p.tile == "30SVG" && p.date == "2019-12-15", "tile and date");
    /// print(p.mission + " " + p.product_type + " at " + p.start);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn product_name(name: &str) -> Result<Map, Box<EvalAltResult>> {
        let parsed = names::parse(name).map_err(|e| {
            script_error(
                "BadProductName",
                &e.to_string(),
                "give the product's name as the catalogue lists it, e.g. S1A_IW_GRDH_1SDV_..., S2B_MSIL1C_..., S3A_OL_2_WFR____..., S5P_OFFL_L2__NO2____...",
            )
        })?;
        let mut map = Map::new();
        map.insert("mission".into(), parsed.mission.into());
        map.insert("platform".into(), parsed.platform.into());
        map.insert("product_type".into(), parsed.product_type.into());
        map.insert(
            "start".into(),
            parsed.start.format("%Y-%m-%dT%H:%M:%SZ").to_string().into(),
        );
        map.insert(
            "date".into(),
            parsed.start.format("%Y-%m-%d").to_string().into(),
        );
        let stop = parsed
            .stop
            .map(|t| t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
        map.insert("stop".into(), stop.map_or(Dynamic::UNIT, Dynamic::from));
        for (key, value) in parsed.details {
            map.insert(key.into(), value.into());
        }
        Ok(map)
    }
}
