//! Interactive maps: `map(#{ center, zoom })`, layers from cleope values
//! (`m.add(raster)`, `m.add(products)`, `m.add(aoi)`), and areas drawn by
//! the student (`m.drawn_aoi()`, `on_draw(m, |aoi| ...)`). The map and its
//! layers are jupyter-leaflet widget models in the session's registry: in
//! Jupyter they render as a Leaflet map, elsewhere the map prints what it
//! holds.

use crate::api::widgets::registry;
use crate::eo::geometry::Aoi;
use crate::runtime::Host;
use crate::runtime::maps::leaflet::{self, kinds};
use crate::runtime::maps::map::{LeafletMap, drawn_argument};
use crate::runtime::maps::{features, overlay};
use crate::runtime::widgets::{Listener, Trigger, as_map};
use rhai::plugin::*;
use serde_json::{Value, json};

pub fn module() -> Module {
    let mut module = exported_module!(maps_api);
    module.set_custom_type::<LeafletMap>("Map");
    module
}

fn map_error(message: &str, hint: &str) -> Box<EvalAltResult> {
    crate::api::script_error("BadMap", message, hint)
}

fn number(value: &Dynamic, what: &str) -> Result<f64, Box<EvalAltResult>> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .ok_or_else(|| map_error(&format!("{what} must be a number, not {value}"), ""))
}

/// `center` as `[lon, lat]` (cleope's order everywhere) or an area (its
/// centre); Leaflet wants `[lat, lon]`.
fn center_of(value: &Dynamic) -> Result<[f64; 2], Box<EvalAltResult>> {
    if let Some(aoi) = value.clone().try_cast::<Aoi>() {
        let (lon, lat) = aoi.centroid();
        return Ok([lat, lon]);
    }
    let hint = "write center: [lon, lat] in degrees, longitude first as everywhere in cleope, \
                e.g. center: [13.5, 45.5]";
    match value.clone().try_cast::<rhai::Array>().as_deref() {
        Some([lon, lat]) => {
            let lon = number(lon, "the center's longitude")?;
            let lat = number(lat, "the center's latitude")?;
            if !(-180.0..=180.0).contains(&lon) || !(-90.0..=90.0).contains(&lat) {
                return Err(map_error(
                    &format!("center [{lon}, {lat}] is not on Earth"),
                    hint,
                ));
            }
            Ok([lat, lon])
        }
        _ => Err(map_error(
            &format!("center is {value}, not [lon, lat]"),
            hint,
        )),
    }
}

/// The zoom that fits `aoi` in a map about 800 px wide (a zoom-0 world is
/// 256 px for 360°).
fn zoom_for(aoi: &Aoi) -> f64 {
    let (x0, y0, x1, y1) = aoi.bbox().to_tuple();
    let span = (x1 - x0).max((y1 - y0) * 1.5).max(1e-6);
    (800.0 / 256.0 * 360.0 / span)
        .log2()
        .floor()
        .clamp(1.0, 18.0)
}

/// A layer's name and state.
type LayerState = (String, crate::runtime::widgets::ModelKind, Value);

fn products_layer(items: &rhai::Array) -> Option<LayerState> {
    let products: Vec<crate::api::catalogue::Product> = items
        .iter()
        .map(|item| item.clone().try_cast())
        .collect::<Option<_>>()?;
    let inner: Vec<_> = products.iter().map(|p| p.inner()).collect();
    Some((
        format!("{} product footprints", inner.len()),
        kinds::GEOJSON,
        leaflet::geojson(
            "footprints",
            features::footprints(&inner),
            json!({}),
            json!({"weight": 4, "fillOpacity": 0.3}),
        ),
    ))
}

fn aoi_layer(aoi: &Aoi, options: &rhai::Map) -> Result<LayerState, Box<EvalAltResult>> {
    crate::api::args::Options::check_as(
        options,
        &["color"],
        "BadOption",
        "an area layer's option",
    )?;
    let colour = options
        .get("color")
        .map(|c| c.to_string())
        .unwrap_or_else(|| "#1f4e9c".into());
    Ok((
        format!("area {}", crate::api::aoi::description(aoi)),
        kinds::GEOJSON,
        leaflet::geojson(
            "area",
            features::area(aoi),
            json!({"color": colour, "weight": 3, "fillOpacity": 0.05}),
            json!({}),
        ),
    ))
}

fn raster_layer(
    ctx: &NativeCallContext,
    raster: &crate::eo::raster::Raster,
    options: &rhai::Map,
) -> Result<LayerState, Box<EvalAltResult>> {
    use crate::eo::raster::Compute;
    let host = Host::of(ctx)?;
    let compute = Compute {
        pool: &host.pool,
        budget: &host.memory,
        cancel: &host.cancel,
    };
    let (values, cols, rows) = compute
        .decimated(raster, overlay::MAX_SIDE, overlay::MAX_SIDE)
        .map_err(crate::api::raster::raster_error)?;
    let mut style_options = options.clone();
    let opacity = match style_options.remove("opacity") {
        Some(value) => number(&value, "opacity")?,
        None => 0.8,
    };
    if !(0.0..=1.0).contains(&opacity) {
        return Err(map_error(
            "opacity must be from 0 to 1",
            "e.g. #{ opacity: 0.6 }",
        ));
    }
    let name = style_options
        .remove("name")
        .map(|n| n.to_string())
        .unwrap_or_else(|| "raster".into());
    let grid = raster.grid();
    let style = crate::api::plot::map_style(
        &style_options,
        &values,
        &raster.unit,
        &grid.crs,
        grid.bounds(),
    )?;
    // The image's points, values and pixels while it is made: about 40
    // bytes a pixel.
    let _charge = host
        .memory
        .charge(
            (overlay::MAX_SIDE * overlay::MAX_SIDE * 40) as u64,
            "a map layer's image",
        )
        .map_err(crate::api::breach_error)?;
    let grid_values = overlay::GridValues {
        values: &values,
        cols,
        rows,
        bounds: grid.bounds(),
        crs: &grid.crs,
    };
    let image = overlay::render(&grid_values, &style).map_err(|e| {
        map_error(
            &format!("the raster cannot be laid on the map: {e}"),
            "a raster needs a coordinate reference system: open it from a georeferenced file, \
             or give its bounds to to_raster",
        )
    })?;
    Ok((
        format!(
            "{name} ({} x {} px, {} KB)",
            image.width,
            image.height,
            image.png.len() / 1024
        ),
        kinds::IMAGE_OVERLAY,
        leaflet::image_overlay(&name, &image.data_url(), image.bounds, opacity),
    ))
}

#[export_module]
mod maps_api {
    use super::*;
    use rhai::{Array, FLOAT, Map};

    /// An interactive map: in Jupyter, a Leaflet map with an offline base
    /// map (land and borders), zoom buttons and a drawing toolbar
    /// (rectangles and polygons); elsewhere a text summary. Options:
    /// `center` (`[lon, lat]`, or an area to centre on and fit), `zoom`
    /// (0 the world, 7 a region, 12 a town). Show it with `display(m)`.
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// assert(m.layers.len() == 1, "the base map");
    /// ```
    #[rhai_fn(name = "map", return_raw)]
    pub fn map_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<LeafletMap, Box<EvalAltResult>> {
        crate::api::args::Options::check_as(
            &options,
            &["center", "zoom"],
            "BadOption",
            "a map option",
        )?;
        let center = match options.get("center") {
            Some(value) => center_of(value)?,
            None => [20.0, 0.0],
        };
        let fitted = options
            .get("center")
            .and_then(|c| c.clone().try_cast::<Aoi>())
            .map(|aoi| zoom_for(&aoi));
        let zoom = match options.get("zoom") {
            Some(value) => number(value, "zoom")?,
            None => fitted.unwrap_or(2.0),
        };
        if !(0.0..=20.0).contains(&zoom) {
            return Err(map_error(
                &format!("zoom {zoom} is not from 0 to 20"),
                "0 shows the world, 7 a region, 12 a town",
            ));
        }
        let widgets = registry(&ctx)?;
        Ok(LeafletMap::new(&widgets, center, zoom))
    }

    /// A map of the whole world.
    ///
    /// ```rhai
    /// let m = map();
    /// print(m);
    /// ```
    #[rhai_fn(name = "map", return_raw)]
    pub fn map_world(ctx: NativeCallContext) -> Result<LeafletMap, Box<EvalAltResult>> {
        map_with(ctx, Map::new())
    }

    /// Adds a layer: a raster (drawn with the colours of `plot`, as a Web
    /// Mercator image of at most 1024 px a side), the array of products a
    /// search returns (their footprints coloured by mission, with name,
    /// date and cloud cover), or an area (its outline).
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// m.add(aoi_bbox(12.5, 45.0, 14.5, 46.0));
    /// m.add(matrix(20, 30, 0.5).to_raster([12.5, 45.0, 14.5, 46.0]));
    /// assert(m.layers.len() == 3, "base map, area, raster");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add(
        ctx: NativeCallContext,
        m: &mut LeafletMap,
        value: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        add_with(ctx, m, value, Map::new())
    }

    /// Adds a layer with options: for a raster those of `plot` (`cmap`,
    /// `vmin`, `vmax`, `stretch`, `log`, ...), `opacity` (0 to 1, default
    /// 0.8) and `name`; for an area `color`.
    ///
    /// ```rhai
    /// let m = map(#{ center: [150.3, -35.4], zoom: 9 });
    /// let nbr = matrix(50, 50, 0.3).to_raster([150.1, -35.6, 150.5, -35.2]);
    /// m.add(nbr, #{ cmap: "RdYlGn", vmin: -1.0, vmax: 1.0, opacity: 0.6, name: "NBR" });
    /// m.add(aoi_bbox(150.2, -35.5, 150.3, -35.4), #{ color: "black" });
    /// ```
    #[rhai_fn(name = "add", return_raw)]
    pub fn add_with(
        ctx: NativeCallContext,
        m: &mut LeafletMap,
        value: Dynamic,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        let (name, kind, state) = if let Some(aoi) = value.clone().try_cast::<Aoi>() {
            aoi_layer(&aoi, &options)?
        } else if let Some(raster) = value.clone().try_cast::<crate::eo::raster::Raster>() {
            raster_layer(&ctx, &raster, &options)?
        } else if let Some(layer) = value
            .clone()
            .try_cast::<Array>()
            .and_then(|items| products_layer(&items))
        {
            layer
        } else {
            return Err(map_error(
                &format!(
                    "a map shows rasters, products and areas, not {}",
                    value.type_name()
                ),
                "add a raster (open_raster, s2_band, ...), the array a search returns, or an aoi",
            ));
        };
        let widgets = registry(&ctx)?;
        let layer = widgets.create(&kind, as_map(state));
        m.push(&widgets, name, layer);
        Ok(())
    }

    /// Adds a layer to a map (the same as `m.add(value, options)`).
    ///
    /// ```rhai
    /// let m = map();
    /// add_layer(m, aoi_bbox(12.5, 45.0, 14.5, 46.0), #{ color: "red" });
    /// ```
    #[rhai_fn(return_raw)]
    pub fn add_layer(
        ctx: NativeCallContext,
        m: &mut LeafletMap,
        value: Dynamic,
        options: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        add_with(ctx, m, value, options)
    }

    /// The last area drawn on the map (a rectangle or polygon drawn with
    /// the toolbar on the map's left), as an `Aoi`.
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// try { m.drawn_aoi(); } catch (e) { assert(e.kind == "NothingDrawn", e.message); }
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn drawn_aoi(m: &mut LeafletMap) -> Result<Aoi, Box<EvalAltResult>> {
        m.contents().drawn.last().cloned().ok_or_else(|| {
            crate::api::script_error(
                "NothingDrawn",
                "nothing has been drawn on this map yet",
                "draw a rectangle first: click the square button on the map's left, drag over \
                 your area, then run this cell again",
            )
        })
    }

    /// Every area drawn on the map so far, oldest first.
    ///
    /// ```rhai
    /// let m = map();
    /// assert(m.drawn_aois().len() == 0, "nothing drawn yet");
    /// ```
    #[rhai_fn(pure)]
    pub fn drawn_aois(m: &mut LeafletMap) -> Array {
        m.contents()
            .drawn
            .iter()
            .cloned()
            .map(Dynamic::from)
            .collect()
    }

    /// Runs `callback(aoi)` in the session each time an area is drawn on
    /// the map (in Jupyter; nothing is drawn in a script run in a terminal).
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// on_draw(m, |aoi| print(`you drew ${aoi.area_km2.round()} km²`));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn on_draw(
        ctx: NativeCallContext,
        m: &mut LeafletMap,
        callback: rhai::FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        let listener = Listener {
            trigger: Trigger::Custom {
                event: "draw:created".into(),
                argument: drawn_argument,
            },
            callback,
        };
        registry(&ctx)?.listen(&m.draw.id, listener);
        Ok(())
    }

    /// The names of the map's layers, base map first.
    ///
    /// ```rhai
    /// print(map().layers);
    /// ```
    #[rhai_fn(get = "layers", pure)]
    pub fn layers(m: &mut LeafletMap) -> Array {
        m.contents()
            .layer_names
            .iter()
            .map(|l| l.clone().into())
            .collect()
    }

    /// The zoom level the map was made with.
    ///
    /// ```rhai
    /// assert(map(#{ zoom: 5 }).zoom == 5.0, "as asked");
    /// ```
    #[rhai_fn(get = "zoom", pure)]
    pub fn zoom(m: &mut LeafletMap) -> FLOAT {
        m.contents().zoom
    }

    /// What the map shows, as text.
    ///
    /// ```rhai
    /// print(map(#{ center: [13.5, 45.5], zoom: 7 }).to_string());
    /// ```
    #[rhai_fn(global, name = "to_string", name = "to_debug", pure)]
    pub fn to_string(m: &mut LeafletMap) -> String {
        m.summary()
    }
}
