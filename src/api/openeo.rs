//! openEO: collections that run locally and translate to process graphs.
//!
//! `collection` opens the products of the demo archive (or the mounted
//! archive) that a back-end would load for the same mission, bands, area
//! and dates, and remembers each band's origin; `openeo_graph` turns a
//! raster computed from those bands into the process graph a back-end runs.

use crate::api::args::{self, Options};
use crate::api::script_error;
use crate::eo::openeo::{self, Collection, OpenEoError, Origin};
use crate::eo::raster::{Node, Raster, Stack};
use rhai::plugin::*;
use rhai::{Array, Map};
use std::sync::Arc;

pub fn module() -> Module {
    exported_module!(openeo_api)
}

fn openeo_error(error: OpenEoError) -> Box<EvalAltResult> {
    script_error("NotTranslatable", &error.to_string(), error.hint())
}

fn text_option(options: &Map, key: &str, example: &str) -> Result<String, Box<EvalAltResult>> {
    match options.get(key) {
        Some(value) if value.is_string() => Ok(value.to_string()),
        Some(value) => Err(script_error(
            "BadOption",
            &format!("`{key}` is {value}, not text"),
            &format!("e.g. {key}: {example}"),
        )),
        None => Err(script_error(
            "BadOption",
            &format!("a collection needs `{key}`"),
            &format!("add {key}: {example}"),
        )),
    }
}

fn text_list(options: &Map, key: &str, example: &str) -> Result<Vec<String>, Box<EvalAltResult>> {
    let bad = || {
        script_error(
            "BadOption",
            &format!("a collection needs `{key}`: an array of text"),
            &format!("e.g. {key}: {example}"),
        )
    };
    let items = options
        .get(key)
        .and_then(|v| v.read_lock::<Array>().map(|a| a.clone()))
        .ok_or_else(bad)?;
    let texts: Vec<String> = items
        .iter()
        .map(|item| item.clone().into_string().map_err(|_| bad()))
        .collect::<Result<_, _>>()?;
    if texts.is_empty() {
        Err(bad())
    } else {
        Ok(texts)
    }
}

/// The top-left pixel of the file window a band was clipped to.
fn band_offset(node: &Node) -> Option<(usize, usize)> {
    match node {
        Node::Band { col, row, .. } => Some((*col, *row)),
        Node::Shift { node, col, row } => band_offset(node).map(|(c, r)| (c + col, r + row)),
        Node::Unary(_, a) => band_offset(a),
        Node::Binary(_, a, b) => band_offset(a).or_else(|| band_offset(b)),
        Node::Choose(c, a, b) => band_offset(c)
            .or_else(|| band_offset(a))
            .or_else(|| band_offset(b)),
        _ => None,
    }
}

/// Remembers that `raster`'s one file band is `origin`.
fn remember(raster: &Raster, origin: Origin) {
    let sources = raster.root().sources();
    if let (Some(source), Some(offset)) = (sources.first(), band_offset(raster.root())) {
        openeo::remember(source, Origin { offset, ..origin });
    }
}

#[export_module]
mod openeo_api {
    use super::*;

    /// A collection as an openEO back-end loads it, opened locally from the
    /// archive: `mission` and `product` ("sentinel-2", "L2A"), `bands`,
    /// `aoi` and `dates` (`[first, last]`, both included). Returns a map:
    /// `id` (the back-end's collection id), `dates` (one per product found,
    /// in order) and one stack per band (`c.B04`), each date clipped to the
    /// aoi, as reflectance like `s2_band`. Rasters computed from these
    /// bands translate with `openeo_graph`.
    ///
    /// ```rhai
    /// let c = collection(#{ mission: "sentinel-2", product: "L2A", bands: ["B04", "B08"],
    ///     aoi: [57.68, -20.45, 57.79, -20.365], dates: ["2020-08-01", "2020-08-31"] });
    /// print(`${c.id}: ${c.dates}`);
    /// let ndvi = normalized_difference(c.B08[0], c.B04[0]);
    /// print(ndvi.stats().mean);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn collection(ctx: NativeCallContext, options: Map) -> Result<Map, Box<EvalAltResult>> {
        Options::check(&options, &["mission", "product", "bands", "aoi", "dates"])?;
        let mission = text_option(&options, "mission", "\"sentinel-2\"")?;
        let product = text_option(&options, "product", "\"L2A\"")?;
        let (id, product_type) = openeo::collection_type(&mission, &product).ok_or_else(|| {
            script_error(
                "UnknownCollection",
                &format!("cleope cannot load a {mission} {product} collection"),
                &format!("the collections it knows: {}", openeo::known_collections()),
            )
        })?;
        let bands = text_list(&options, "bands", "[\"B04\", \"B08\"]")?;
        let aoi = options.get("aoi").ok_or_else(|| {
            script_error(
                "BadOption",
                "a collection needs `aoi`",
                "add aoi: [lon_min, lat_min, lon_max, lat_max]",
            )
        })?;
        let bbox = args::bounds(aoi)?;
        let dates = text_list(&options, "dates", "[\"2020-06-01\", \"2020-08-31\"]")?;
        let [first, last] = <[String; 2]>::try_from(dates).map_err(|dates| {
            script_error(
                "BadOption",
                &format!(
                    "`dates` holds {} dates, not the first and the last",
                    dates.len()
                ),
                "e.g. dates: [\"2020-06-01\", \"2020-08-31\"]",
            )
        })?;
        let mut query = Map::new();
        query.insert("mission".into(), mission_name(&mission).into());
        query.insert("product_type".into(), product_type.into());
        query.insert("aoi".into(), aoi.clone());
        query.insert("from".into(), first.clone().into());
        query.insert("to".into(), last.clone().into());
        query.insert("order".into(), "asc".into());
        let products: Array = ctx.call_native_fn("ens_find", (query,))?;
        if products.is_empty() {
            return Err(script_error(
                "NoDataAvailable",
                &format!(
                    "no {mission} {product} product covers the aoi between {first} and {last}"
                ),
                "widen the dates or move the aoi (ens_find shows what the archive holds)",
            ));
        }
        let mut found = Vec::new();
        for p in &products {
            let info: Map = ctx.call_native_fn("s2_product", (p.clone(),))?;
            let date = info.get("date").map(|d| d.to_string()).unwrap_or_default();
            if found.contains(&date) {
                return Err(script_error(
                    "SeveralProductsADay",
                    &format!("two products cover the aoi on {date} (two tiles or orbits)"),
                    "make the aoi smaller, inside one tile",
                ));
            }
            found.push(date);
        }
        let described = Arc::new(Collection {
            id: id.to_string(),
            bbox,
            dates: (first, last),
            found: found.clone(),
        });
        let mut band_options = Map::new();
        band_options.insert("aoi".into(), aoi.clone());
        let mut result = Map::new();
        for band in &bands {
            let mut layers = Vec::new();
            for (p, date) in products.iter().zip(&found) {
                let raster: Raster =
                    ctx.call_native_fn("s2_band", (p.clone(), band.clone(), band_options.clone()))?;
                remember(
                    &raster,
                    Origin {
                        collection: Arc::clone(&described),
                        band: band.clone(),
                        date: date.clone(),
                        offset: (0, 0),
                    },
                );
                layers.push(raster);
            }
            let stack = Stack::new(layers, Some(found.clone()))
                .map_err(crate::api::raster::raster_error)?;
            result.insert(band.as_str().into(), Dynamic::from(stack));
        }
        result.insert("id".into(), id.into());
        let dates: Array = found.into_iter().map(Dynamic::from).collect();
        result.insert("dates".into(), dates.into());
        Ok(result)
    }

    /// The openEO process graph (API 1.2) computing a raster built from a
    /// `collection`'s bands and saving it as a GeoTIFF: a map
    /// `#{ process_graph: #{ loadcollection1: ..., saveresult1: ... } }`
    /// ready to send to a back-end. An operation with no openEO equivalent
    /// is a `NotTranslatable` error that names it.
    ///
    /// ```rhai
    /// let c = collection(#{ mission: "sentinel-2", product: "L2A", bands: ["B04", "B08"],
    ///     aoi: [57.68, -20.45, 57.79, -20.365], dates: ["2020-08-01", "2020-08-31"] });
    /// let g = openeo_graph(normalized_difference(c.B08[0], c.B04[0]));
    /// assert(g.process_graph.loadcollection1.arguments.id == "SENTINEL2_L2A", "loads the collection");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn openeo_graph(
        ctx: NativeCallContext,
        raster: Raster,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        openeo_graph_with(ctx, raster, Map::new())
    }

    /// The process graph with options: `format` (an openEO output format,
    /// default "GTiff"; e.g. "netCDF").
    ///
    /// ```rhai
    /// let c = collection(#{ mission: "sentinel-2", product: "L2A", bands: ["B04", "B08"],
    ///     aoi: [57.68, -20.45, 57.79, -20.365], dates: ["2020-08-01", "2020-08-31"] });
    /// let g = openeo_graph(c.B08[0] - c.B04[0], #{ format: "netCDF" });
    /// write_json("output/graph.json", g);
    /// ```
    #[rhai_fn(name = "openeo_graph", return_raw)]
    pub fn openeo_graph_with(
        ctx: NativeCallContext,
        raster: Raster,
        options: Map,
    ) -> Result<Dynamic, Box<EvalAltResult>> {
        Options::check(&options, &["format"])?;
        let format = match options.get("format") {
            Some(format) => format.to_string(),
            None => "GTiff".to_string(),
        };
        let graph = openeo::graph::translate(&raster, &format).map_err(openeo_error)?;
        let host = crate::runtime::Host::of(&ctx)?;
        crate::api::builtins::json::parse(&graph.to_string(), &host.memory, "a process graph")
            .map_err(|error| crate::api::builtins::json_error(error, "the process graph"))
    }
}

/// The mission's name as the catalogue spells it.
fn mission_name(mission: &str) -> String {
    match mission.to_ascii_lowercase().as_str() {
        "sentinel-2" | "sentinel2" | "s2" => "Sentinel-2".into(),
        _ => mission.to_string(),
    }
}
