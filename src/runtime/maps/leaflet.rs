//! State builders for jupyter-leaflet 0.20 models (ipyleaflet's front-end):
//! the map, its styles and controls, and the layers cleope adds. Every
//! builder gives the full state ipyleaflet 0.20.0 sends (`get_state()`, the
//! keys checked against `ipyleaflet-0.20.0-keys.json`, dumped from the real
//! package), so the front-end sees what it was written for. References to
//! child models are `IPY_MODEL_<id>` strings the caller passes in.

use crate::runtime::widgets::ModelKind;
use serde_json::{Value, json};

/// The npm module and the version range ipyleaflet 0.20 asks for.
pub const MODULE: &str = "jupyter-leaflet";
pub const MODULE_VERSION: &str = "^0.20";

/// `_model_*`/`_view_*` keys of a jupyter-leaflet model whose view is its own.
fn leaflet(model: &str, view: &str, mut state: Value) -> Value {
    let keys = json!({
        "_model_module": MODULE,
        "_model_module_version": MODULE_VERSION,
        "_model_name": model,
        "_view_module": MODULE,
        "_view_module_version": MODULE_VERSION,
        "_view_name": view,
    });
    if let (Some(state), Some(keys)) = (state.as_object_mut(), keys.as_object()) {
        state.extend(keys.clone());
    }
    state
}

/// The child models a map refers to.
#[derive(Debug, Clone, Default)]
pub struct MapChildren {
    pub layers: Vec<String>,
    pub controls: Vec<String>,
    /// `style`, `default_style` and `dragging_style` (three MapStyle models, as ipyleaflet sends).
    pub styles: [String; 3],
    pub layout: Option<String>,
}

/// A map centred on `[lat, lon]` at `zoom`, Web Mercator (EPSG:3857).
pub fn map(center: [f64; 2], zoom: f64, children: &MapChildren) -> Value {
    let [style, default_style, dragging_style] = &children.styles;
    // Two halves: one json! of 55 keys passes the macro's recursion limit.
    let mut state = json!({
        "_dom_classes": [],
        "_view_count": null,
        "bottom": 0.0,
        "bounce_at_zoom_limits": true,
        "box_zoom": true,
        "center": center,
        "close_popup_on_click": true,
        "controls": children.controls,
        "crs": {"name": "EPSG3857", "custom": false},
        "default_style": default_style,
        "double_click_zoom": true,
        "dragging": true,
        "dragging_style": dragging_style,
        "east": 0.0,
        "fullscreen": false,
        "inertia": true,
        "inertia_deceleration": 3000,
        "inertia_max_speed": 1500,
        "interpolation": "bilinear",
        "keyboard": true,
        "keyboard_pan_offset": 80,
        "keyboard_zoom_offset": 1,
        "layers": children.layers,
        "layout": children.layout,
    });
    let rest = json!({
        "left": 9007199254740991.0,
        "max_zoom": null,
        "min_zoom": null,
        "modisdate": modis_date(),
        "north": 0.0,
        "options": ["bounce_at_zoom_limits", "box_zoom", "center", "close_popup_on_click", "double_click_zoom", "dragging", "fullscreen", "inertia", "inertia_deceleration", "inertia_max_speed", "interpolation", "keyboard", "keyboard_pan_offset", "keyboard_zoom_offset", "max_zoom", "min_zoom", "prefer_canvas", "scroll_wheel_zoom", "tap", "tap_tolerance", "touch_zoom", "world_copy_jump", "zoom", "zoom_animation_threshold", "zoom_delta", "zoom_snap"],
        "panes": {},
        "prefer_canvas": false,
        "right": 0.0,
        "scroll_wheel_zoom": false,
        "south": 0.0,
        "style": style,
        "tabbable": null,
        "tap": true,
        "tap_tolerance": 15,
        "tooltip": null,
        "top": 9007199254740991.0,
        "touch_zoom": true,
        "west": 0.0,
        "window_url": "",
        "world_copy_jump": false,
        "zoom": zoom,
        "zoom_animation_threshold": 4,
        "zoom_delta": 1.0,
        "zoom_snap": 1.0,
    });
    if let (Some(state), Value::Object(rest)) = (state.as_object_mut(), rest) {
        state.extend(rest);
    }
    leaflet("LeafletMapModel", "LeafletMapView", state)
}

/// The cursor of a map in one of its states (`"grab"`, `"move"`).
pub fn map_style(cursor: &str) -> Value {
    let mut state = leaflet(
        "LeafletMapStyleModel",
        "StyleView",
        json!({
            "_view_count": null,
            "cursor": cursor,
        }),
    );
    // A style's view is the widgets base StyleView, as ipyleaflet's.
    state["_view_module"] = json!("@jupyter-widgets/base");
    state["_view_module_version"] = json!("2.0.0");
    state
}

/// The + / - buttons.
pub fn zoom_control() -> Value {
    leaflet(
        "LeafletZoomControlModel",
        "LeafletZoomControlView",
        json!({
            "_view_count": null,
            "options": ["position", "zoom_in_text", "zoom_in_title", "zoom_out_text", "zoom_out_title"],
            "position": "topleft",
            "zoom_in_text": "+",
            "zoom_in_title": "Zoom in",
            "zoom_out_text": "-",
            "zoom_out_title": "Zoom out",
        }),
    )
}

/// The attribution line in the corner (the data's sources).
pub fn attribution_control() -> Value {
    leaflet(
        "LeafletAttributionControlModel",
        "LeafletAttributionControlView",
        json!({
            "_view_count": null,
            "options": ["position", "prefix"],
            "position": "bottomright",
            "prefix": "cleope",
        }),
    )
}

/// A GeoJSON layer: `data` a FeatureCollection in lon/lat, `style` Leaflet
/// path options for every feature (a feature's `properties.style` is
/// merged under it), `hover_style` when the pointer is over a feature.
pub fn geojson(name: &str, data: Value, style: Value, hover_style: Value) -> Value {
    leaflet(
        "LeafletGeoJSONModel",
        "LeafletGeoJSONView",
        json!({
            "_view_count": null,
            "base": false,
            "bottom": false,
            "data": data,
            "hover_style": hover_style,
            "layers": [],
            "name": name,
            "options": ["pm_ignore"],
            "pane": "",
            "pm_ignore": true,
            "point_style": {},
            "popup": null,
            "popup_max_height": null,
            "popup_max_width": 300,
            "popup_min_width": 50,
            "snap_ignore": true,
            "style": style,
            "subitems": [],
            "visible": true,
        }),
    )
}

/// An image (a URL, e.g. `data:image/png;base64,...`) stretched over
/// `[[south, west], [north, east]]`.
pub fn image_overlay(name: &str, url: &str, bounds: [[f64; 2]; 2], opacity: f64) -> Value {
    leaflet(
        "LeafletImageOverlayModel",
        "LeafletImageOverlayView",
        json!({
            "_view_count": null,
            "attribution": "",
            "base": false,
            "bottom": false,
            "bounds": bounds,
            "name": name,
            "opacity": opacity,
            "options": ["attribution", "pm_ignore"],
            "pane": "",
            "pm_ignore": true,
            "popup": null,
            "popup_max_height": null,
            "popup_max_width": 300,
            "popup_min_width": 50,
            "snap_ignore": true,
            "subitems": [],
            "url": url,
            "visible": true,
        }),
    )
}

/// A tile layer at `url` (`{z}/{x}/{y}` template) with its attribution.
pub fn tile_layer(url: &str, attribution: &str) -> Value {
    leaflet(
        "LeafletTileLayerModel",
        "LeafletTileLayerView",
        json!({
            "_view_count": null,
            "attribution": attribution,
            "base": false,
            "bottom": true,
            "bounds": null,
            "detect_retina": false,
            "loading": false,
            "max_native_zoom": null,
            "max_zoom": 18,
            "min_native_zoom": null,
            "min_zoom": 0,
            "name": "tiles",
            "no_wrap": false,
            "opacity": 1.0,
            "options": ["attribution", "bounds", "detect_retina", "max_native_zoom", "max_zoom", "min_native_zoom", "min_zoom", "no_wrap", "pm_ignore", "tile_size", "tms", "zoom_offset"],
            "pane": "",
            "pm_ignore": true,
            "popup": null,
            "popup_max_height": null,
            "popup_max_width": 300,
            "popup_min_width": 50,
            "show_loading": false,
            "snap_ignore": true,
            "subitems": [],
            "tile_size": 256,
            "tms": false,
            "url": url,
            "visible": true,
            "zoom_offset": 0,
        }),
    )
}

/// A popup at `[lat, lon]` showing the widget `child`.
pub fn popup(location: [f64; 2], child: &str) -> Value {
    leaflet(
        "LeafletPopupModel",
        "LeafletPopupView",
        json!({
            "_view_count": null,
            "auto_close": true,
            "auto_pan": true,
            "auto_pan_padding": [5, 5],
            "auto_pan_padding_bottom_right": null,
            "auto_pan_padding_top_left": null,
            "base": false,
            "bottom": false,
            "child": child,
            "close_button": true,
            "close_on_escape_key": true,
            "keep_in_view": false,
            "location": location,
            "max_height": null,
            "max_width": 300,
            "min_width": 50,
            "name": "",
            "options": ["auto_close", "auto_pan", "auto_pan_padding", "auto_pan_padding_bottom_right", "auto_pan_padding_top_left", "close_button", "close_on_escape_key", "keep_in_view", "max_height", "max_width", "min_width", "pm_ignore"],
            "pane": "",
            "pm_ignore": true,
            "popup": null,
            "popup_max_height": null,
            "popup_max_width": 300,
            "popup_min_width": 50,
            "snap_ignore": true,
            "subitems": [],
        }),
    )
}

/// The drawing toolbar with the rectangle and polygon tools only (an empty
/// options object hides a tool), plus edit and delete.
pub fn draw_control() -> Value {
    leaflet(
        "LeafletDrawControlModel",
        "LeafletDrawControlView",
        json!({
            "_view_count": null,
            "circle": {},
            "circlemarker": {},
            "data": [],
            "edit": true,
            "marker": {},
            "options": ["position"],
            "polygon": {"shapeOptions": {"color": "#e4572e"}},
            "polyline": {},
            "position": "topleft",
            "rectangle": {"shapeOptions": {"color": "#e4572e"}},
            "remove": true,
        }),
    )
}

/// The day before today, `YYYY-MM-DD`: ipyleaflet's default date for its
/// MODIS layers, sent with every map.
fn modis_date() -> String {
    (chrono::Utc::now() - chrono::Duration::days(1))
        .format("%Y-%m-%d")
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    fn keys(state: &Value) -> BTreeSet<String> {
        state.as_object().unwrap().keys().cloned().collect()
    }

    /// The keys ipyleaflet 0.20.0's `get_state()` gave for each model.
    fn ipyleaflet_keys(model: &str) -> BTreeSet<String> {
        let recorded: Value =
            serde_json::from_str(include_str!("ipyleaflet-0.20.0-keys.json")).unwrap();
        recorded[model]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_str().unwrap().to_string())
            .collect()
    }

    #[test]
    fn every_state_has_the_keys_ipyleaflet_sends() {
        let ids = MapChildren::default();
        for state in [
            map([45.5, 13.5], 7.0, &ids),
            map_style("grab"),
            zoom_control(),
            attribution_control(),
            geojson("land", json!({}), json!({}), json!({})),
            image_overlay(
                "ndvi",
                "data:image/png;base64,AA==",
                [[1.0, 2.0], [3.0, 4.0]],
                0.8,
            ),
            draw_control(),
            tile_layer("http://tiles/{z}/{x}/{y}.png", "tiles"),
            popup([1.0, 2.0], "IPY_MODEL_x"),
        ] {
            let model = state["_model_name"].as_str().unwrap().to_string();
            assert_eq!(keys(&state), ipyleaflet_keys(&model), "{model}");
        }
    }

    #[test]
    fn the_map_refers_to_its_children_and_centre() {
        let children = MapChildren {
            layers: vec!["IPY_MODEL_land".into()],
            controls: vec!["IPY_MODEL_zoom".into()],
            styles: [
                "IPY_MODEL_a".into(),
                "IPY_MODEL_b".into(),
                "IPY_MODEL_c".into(),
            ],
            layout: Some("IPY_MODEL_layout".into()),
        };
        let state = map([45.5, 13.5], 7.0, &children);
        assert_eq!(state["center"], json!([45.5, 13.5]));
        assert_eq!(state["layers"], json!(["IPY_MODEL_land"]));
        assert_eq!(state["dragging_style"], json!("IPY_MODEL_c"));
        assert_eq!(state["crs"]["name"], "EPSG3857");
        assert_eq!(state["_model_module_version"], "^0.20");
    }

    #[test]
    fn the_draw_control_offers_rectangles_and_polygons_only() {
        let state = draw_control();
        for shown in ["rectangle", "polygon"] {
            assert!(state[shown]["shapeOptions"].is_object(), "{shown}");
        }
        for hidden in ["polyline", "circle", "circlemarker", "marker"] {
            assert_eq!(state[hidden], json!({}), "{hidden}");
        }
    }
}

const fn kind(model: &'static str, view: &'static str) -> ModelKind {
    ModelKind::new(MODULE, model, MODULE_VERSION).with_view(MODULE, view, MODULE_VERSION)
}

/// The models' kinds for the widget registry.
pub mod kinds {
    use super::kind;
    use crate::runtime::widgets::ModelKind;
    pub const MAP: ModelKind = kind("LeafletMapModel", "LeafletMapView");
    pub const MAP_STYLE: ModelKind = ModelKind::new(
        super::MODULE,
        "LeafletMapStyleModel",
        super::MODULE_VERSION,
    )
    .with_view("@jupyter-widgets/base", "StyleView", "2.0.0");
    pub const ZOOM_CONTROL: ModelKind = kind("LeafletZoomControlModel", "LeafletZoomControlView");
    pub const ATTRIBUTION_CONTROL: ModelKind = kind(
        "LeafletAttributionControlModel",
        "LeafletAttributionControlView",
    );
    pub const DRAW_CONTROL: ModelKind = kind("LeafletDrawControlModel", "LeafletDrawControlView");
    pub const GEOJSON: ModelKind = kind("LeafletGeoJSONModel", "LeafletGeoJSONView");
    pub const IMAGE_OVERLAY: ModelKind =
        kind("LeafletImageOverlayModel", "LeafletImageOverlayView");
    pub const TILE_LAYER: ModelKind = kind("LeafletTileLayerModel", "LeafletTileLayerView");
}
