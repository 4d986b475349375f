//! A map in the session: its jupyter-leaflet models in the widget
//! registry (the Map, its styles and controls, the base map, the layers
//! added) and what the script asks of it (layer names, the areas drawn).

use super::leaflet::{self, kinds};
use super::{basemap, features};
use crate::eo::geometry::Aoi;
use crate::runtime::widgets::{Incoming, Model, Widget, Widgets, as_map, reference};
use rhai::Dynamic;
use serde_json::{Value, json};
use std::sync::{Arc, Mutex, MutexGuard};

/// What a map holds beyond its models' states: layer names for its text
/// form, and the areas drawn so far (the draw control's hook adds them).
#[derive(Debug, Default)]
pub struct MapContents {
    pub center: [f64; 2],
    pub zoom: f64,
    pub layer_names: Vec<String>,
    pub layers: Vec<Widget>,
    /// The shapes drawn so far, oldest first.
    pub drawn: Vec<Aoi>,
}

/// A map as a script holds it: its Map model, its DrawControl model and
/// what it holds (shared by every copy of the value and the hooks).
#[derive(Debug, Clone)]
pub struct LeafletMap {
    pub map: Widget,
    pub draw: Widget,
    pub contents: Arc<Mutex<MapContents>>,
}

impl LeafletMap {
    pub fn contents(&self) -> MutexGuard<'_, MapContents> {
        self.contents
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Makes the models (styles, controls, the base map, the map) and
    /// hooks the draw control.
    pub fn new(widgets: &Widgets, center: [f64; 2], zoom: f64) -> LeafletMap {
        let styles = [
            widgets.create(&kinds::MAP_STYLE, as_map(leaflet::map_style("grab"))),
            widgets.create(&kinds::MAP_STYLE, as_map(leaflet::map_style("grab"))),
            widgets.create(&kinds::MAP_STYLE, as_map(leaflet::map_style("move"))),
        ];
        let zoom_control = widgets.create(&kinds::ZOOM_CONTROL, as_map(leaflet::zoom_control()));
        let attribution = widgets.create(
            &kinds::ATTRIBUTION_CONTROL,
            as_map(leaflet::attribution_control()),
        );
        let draw = widgets.create(&kinds::DRAW_CONTROL, as_map(leaflet::draw_control()));
        let land = widgets.create(&kinds::GEOJSON, as_map(basemap_layer()));
        let layout = widgets.create(
            &crate::runtime::widgets::controls::LAYOUT,
            as_map(json!({"height": "450px"})),
        );
        let refer = |w: &Widget| reference(w).as_str().unwrap_or_default().to_string();
        let children = leaflet::MapChildren {
            layers: vec![refer(&land)],
            controls: vec![refer(&zoom_control), refer(&attribution), refer(&draw)],
            styles: styles.each_ref().map(refer),
            layout: Some(refer(&layout)),
        };
        let map = widgets.create(&kinds::MAP, as_map(leaflet::map(center, zoom, &children)));
        let contents = Arc::new(Mutex::new(MapContents {
            center,
            zoom,
            layer_names: vec!["land and borders (Natural Earth 1:110m)".into()],
            layers: vec![land],
            drawn: Vec::new(),
        }));
        let hooked = Arc::clone(&contents);
        widgets.hook(
            &draw.id,
            Arc::new(move |_model: &mut Model, incoming: &Incoming| {
                if let Incoming::Custom(content) = incoming
                    && let Some(aoi) = drawn_in(content)
                {
                    hooked
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .drawn
                        .push(aoi);
                }
            }),
        );
        LeafletMap {
            map,
            draw,
            contents,
        }
    }

    /// A few lines saying what the map shows (its text form, what
    /// `cleope run` prints).
    pub fn summary(&self) -> String {
        let contents = self.contents();
        let [lat, lon] = contents.center;
        let mut text = format!(
            "Map centred on {lon:.4}° E, {lat:.4}° N at zoom {}, {} layers:",
            contents.zoom,
            contents.layer_names.len()
        );
        for name in &contents.layer_names {
            text.push_str(&format!("\n  - {name}"));
        }
        match contents.drawn.last() {
            Some(aoi) => {
                let (a, b, c, d) = aoi.bbox().to_tuple();
                text.push_str(&format!(
                    "\n{} drawn, the last within [{a}, {b}, {c}, {d}]",
                    contents.drawn.len()
                ));
            }
            None => text.push_str(
                "\nnothing drawn (in a notebook, draw with the toolbar on the map's left)",
            ),
        }
        text
    }

    /// Adds a layer model and shows it on the map.
    pub fn push(&self, widgets: &Widgets, name: String, layer: Widget) {
        let layers: Vec<Value> = {
            let mut contents = self.contents();
            contents.layer_names.push(name);
            contents.layers.push(layer);
            contents.layers.iter().map(reference).collect()
        };
        // A map has no listeners of its own: no script calls follow.
        let _ = widgets.set(&self.map.id, as_map(json!({ "layers": layers })));
    }
}

/// The offline base map's layer.
fn basemap_layer() -> Value {
    leaflet::geojson(
        "land and borders",
        basemap::land_and_borders().clone(),
        json!({"color": "#8c8c8c", "weight": 1, "fillColor": "#efeadb", "fillOpacity": 1.0}),
        json!({}),
    )
}

/// The area of a `draw:created` / `draw:edited` custom message; None for
/// other events and for shapes that are not areas (a line).
fn drawn_in(content: &Value) -> Option<Aoi> {
    let event = content.get("event").and_then(Value::as_str)?;
    if event != "draw:created" && event != "draw:edited" {
        return None;
    }
    features::drawn_area(content.get("geo_json")?).ok()
}

/// The callback argument of `on_draw`: the drawn area.
pub fn drawn_argument(_model: &Model, content: &Value) -> Dynamic {
    drawn_in(content).map_or(Dynamic::UNIT, Dynamic::from)
}
