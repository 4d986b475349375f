//! Interactive maps: `map(#{ center, zoom })`, layers from cleope values
//! (`m.add(raster)`, `m.add(products)`, `m.add(aoi)`), and areas drawn by
//! the student (`m.drawn_aoi()`, `on_draw(m, |aoi| ...)`). In Jupyter the
//! map is a jupyter-leaflet widget; elsewhere it prints what it holds.

use crate::eo::geometry::Aoi;
use crate::runtime::maps::{basemap, features, leaflet, overlay};
use rhai::plugin::*;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

pub fn module() -> Module {
    let mut module = exported_module!(maps_api);
    module.set_custom_type::<LeafletMap>("Map");
    module
}

/// One layer of a map: its name (for the summary) and its model's state.
#[derive(Debug, Clone)]
pub struct Layer {
    pub name: String,
    pub state: Value,
}

/// What a map holds; shared by every copy of the script's value, and by
/// the widget that shows it.
#[derive(Debug)]
pub struct MapContents {
    /// `[lat, lon]`, Leaflet's order.
    pub center: [f64; 2],
    pub zoom: f64,
    pub layers: Vec<Layer>,
    /// The shapes drawn so far, oldest first.
    pub drawn: Vec<Aoi>,
    /// `on_draw` callbacks.
    pub on_draw: Vec<rhai::FnPtr>,
}

/// A map as a script holds it.
#[derive(Debug, Clone)]
pub struct LeafletMap(pub Arc<Mutex<MapContents>>);

impl LeafletMap {
    pub fn contents(&self) -> MutexGuard<'_, MapContents> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn new(center: [f64; 2], zoom: f64) -> LeafletMap {
        let land = Layer {
            name: "land (Natural Earth 1:110m)".into(),
            state: leaflet::geojson(
                "land",
                basemap::land_and_borders().clone(),
                json!({"color": "#7a7a7a", "weight": 1, "fillColor": "#e8e4d8", "fillOpacity": 1.0}),
                json!({}),
            ),
        };
        LeafletMap(Arc::new(Mutex::new(MapContents {
            center,
            zoom,
            layers: vec![land],
            drawn: Vec::new(),
            on_draw: Vec::new(),
        })))
    }

    /// A few lines saying what the map shows (the text form, and what
    /// `cleope run` prints).
    pub fn summary(&self) -> String {
        let contents = self.contents();
        let [lat, lon] = contents.center;
        let mut text = format!(
            "Map centred on {lon:.4}° E, {lat:.4}° N at zoom {}, {} layers:",
            contents.zoom,
            contents.layers.len()
        );
        for layer in &contents.layers {
            text.push_str(&format!("\n  - {}", layer.name));
        }
        match contents.drawn.last() {
            Some(aoi) => text.push_str(&format!(
                "\ndrawn: {} shapes, the last {}",
                contents.drawn.len(),
                crate::api::aoi::description(aoi)
            )),
            None => text.push_str(
                "\n(draw a rectangle or polygon on the map in a notebook; m.drawn_aoi() gives it)",
            ),
        }
        text
    }

    fn push(&self, layer: Layer) {
        self.contents().layers.push(layer);
    }

    /// Records a shape the front-end reports (a `draw:created` Feature).
    pub fn record_drawn(&self, feature: &Value) -> Result<Aoi, crate::eo::geometry::AoiError> {
        let aoi = features::drawn_area(feature)?;
        self.contents().drawn.push(aoi.clone());
        Ok(aoi)
    }
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
    let hint = "write center: [lon, lat] in degrees, longitude first as everywhere in cleope, e.g. center: [13.5, 45.5]";
    match value.clone().try_cast::<rhai::Array>().as_deref() {
        Some([lon, lat]) => {
            let (lon, lat) = (
                number(lon, "the center's longitude")?,
                number(lat, "the center's latitude")?,
            );
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

/// A zoom that fits `aoi` in a map about 800 px wide.
fn zoom_for(aoi: &Aoi) -> f64 {
    let (x0, y0, x1, y1) = aoi.bbox().to_tuple();
    let span = (x1 - x0).max((y1 - y0) * 1.5).max(1e-6);
    // A zoom-0 world is 256 px for 360°.
    (800.0 / 256.0 * 360.0 / span)
        .log2()
        .floor()
        .clamp(1.0, 18.0)
}

fn products_layer(items: &rhai::Array) -> Result<Option<Layer>, Box<EvalAltResult>> {
    let products: Option<Vec<crate::api::catalogue::Product>> =
        items.iter().map(|item| item.clone().try_cast()).collect();
    let Some(products) = products else {
        return Ok(None);
    };
    let inner: Vec<_> = products.iter().map(|p| p.inner()).collect();
    Ok(Some(Layer {
        name: format!("{} product footprints", inner.len()),
        state: leaflet::geojson(
            "footprints",
            features::footprints(&inner),
            json!({}),
            json!({"weight": 4, "fillOpacity": 0.3}),
        ),
    }))
}

fn aoi_layer(aoi: &Aoi, options: &rhai::Map) -> Layer {
    let colour = options
        .get("color")
        .map(|c| c.to_string())
        .unwrap_or_else(|| "#1f4e9c".into());
    Layer {
        name: format!("area {}", crate::api::aoi::description(aoi)),
        state: leaflet::geojson(
            "aoi",
            features::area(aoi),
            json!({"color": colour, "weight": 3, "fillOpacity": 0.05}),
            json!({}),
        ),
    }
}

fn raster_layer(
    ctx: &NativeCallContext,
    raster: &crate::eo::raster::Raster,
    options: &rhai::Map,
) -> Result<Layer, Box<EvalAltResult>> {
    use crate::eo::raster::Compute;
    use crate::runtime::Host;
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
    // The resampled image and the points it is sampled at: charged while they exist.
    let pixels = (overlay::MAX_SIDE * overlay::MAX_SIDE) as u64;
    let _charge = host
        .memory
        .charge(pixels * 40, "a map layer's image")
        .map_err(crate::api::breach_error)?;
    let image = overlay::render(
        &overlay::GridValues {
            values: &values,
            cols,
            rows,
            bounds: grid.bounds(),
            crs: &grid.crs,
        },
        &style,
    )
    .map_err(|e| map_error(&format!("the raster cannot be laid on the map: {e}"), "a raster needs a coordinate reference system (open it from a georeferenced file, or give bounds to to_raster)"))?;
    Ok(Layer {
        name: format!(
            "{name} ({} x {} px image, {} KB)",
            image.width,
            image.height,
            image.png.len() / 1024
        ),
        state: leaflet::image_overlay(&name, &image.data_url(), image.bounds, opacity),
    })
}

#[export_module]
mod maps_api {
    use super::*;
    use rhai::{Array, FLOAT, Map};

    /// An interactive map: in Jupyter, a Leaflet map with an offline base
    /// map (land and borders), zoom buttons and a drawing toolbar
    /// (rectangles and polygons); elsewhere a text summary. Options:
    /// `center` (`[lon, lat]` or an area to centre on), `zoom` (0 world to
    /// 18 street; fitted to the area when `center` is one).
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// assert(m.layers.len() == 1, "the base map");
    /// ```
    #[rhai_fn(name = "map", return_raw)]
    pub fn map_with(options: Map) -> Result<LeafletMap, Box<EvalAltResult>> {
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
        Ok(LeafletMap::new(center, zoom))
    }

    /// A map of the whole world.
    ///
    /// ```rhai
    /// let m = map();
    /// print(m);
    /// ```
    #[rhai_fn(name = "map", return_raw)]
    pub fn map_world() -> Result<LeafletMap, Box<EvalAltResult>> {
        map_with(Map::new())
    }

    /// Adds a layer: a raster (drawn with the colours of `plot`, as a
    /// Web Mercator image of at most 1024 px a side), an array of products
    /// (their footprints, coloured by mission, with name, date and cloud
    /// cover), or an area (its outline).
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
    /// `vmin`, `vmax`, `stretch`, `log`, ...) and `opacity` (0 to 1,
    /// default 0.8) and `name`; for an area `color`.
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
        let layer = if let Some(aoi) = value.clone().try_cast::<Aoi>() {
            aoi_layer(&aoi, &options)
        } else if let Some(raster) = value.clone().try_cast::<crate::eo::raster::Raster>() {
            raster_layer(&ctx, &raster, &options)?
        } else if let Some(products) = value
            .clone()
            .try_cast::<Array>()
            .map(|items| products_layer(&items))
            .transpose()?
            .flatten()
        {
            products
        } else {
            return Err(map_error(
                &format!(
                    "a map shows rasters, products and areas, not {}",
                    value.type_name()
                ),
                "add a raster (open_raster, s2_band, ...), the array a search returns, or an aoi",
            ));
        };
        m.push(layer);
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
                "draw a rectangle first: click the square button on the map's left, then drag \
                 over your area, and run this cell again",
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
    /// the map (in Jupyter; a script run in a terminal draws nothing).
    ///
    /// ```rhai
    /// let m = map(#{ center: [13.5, 45.5], zoom: 7 });
    /// on_draw(m, |aoi| print(`you drew ${aoi.area_km2.round()} km²`));
    /// ```
    pub fn on_draw(m: &mut LeafletMap, callback: rhai::FnPtr) {
        m.contents().on_draw.push(callback);
    }

    /// The names of the map's layers, base map first.
    ///
    /// ```rhai
    /// print(map().layers);
    /// ```
    #[rhai_fn(get = "layers", pure)]
    pub fn layers(m: &mut LeafletMap) -> Array {
        m.contents()
            .layers
            .iter()
            .map(|l| l.name.clone().into())
            .collect()
    }

    /// The zoom level.
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
