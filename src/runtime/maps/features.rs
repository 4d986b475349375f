//! cleope values as GeoJSON for the map (product footprints with the
//! properties their popups show, areas of interest), and the shapes a
//! student draws back into an `Aoi`.

use crate::eo::geometry::{Aoi, AoiError};
use crate::eo::odata::CatalogueProduct;
use serde_json::{Value, json};

/// A CSS colour `#rrggbb`.
pub fn css_colour([r, g, b]: [u8; 3]) -> String {
    format!("#{r:02x}{g:02x}{b:02x}")
}

/// Footprints as a FeatureCollection: each feature's properties are what
/// its popup shows (name, sensing date, cloud cover) and its style, the
/// mission's colour that figures use.
pub fn footprints(products: &[&CatalogueProduct]) -> Value {
    let features: Vec<Value> = products
        .iter()
        .filter_map(|product| {
            let area = product.footprint.as_ref()?;
            let colour = css_colour(crate::eo::plot::mission_colour(&product.name));
            Some(json!({
                "type": "Feature",
                "properties": {
                    "name": product.name,
                    "date": product.begin.format("%Y-%m-%d %H:%M UTC").to_string(),
                    "cloud": product.cloud_cover(),
                    "style": {"color": colour, "weight": 2, "fillOpacity": 0.1},
                },
                "geometry": geometry(area),
            }))
        })
        .collect();
    json!({"type": "FeatureCollection", "features": features})
}

/// An area as a FeatureCollection of one feature.
pub fn area(aoi: &Aoi) -> Value {
    json!({
        "type": "FeatureCollection",
        "features": [{"type": "Feature", "properties": {}, "geometry": geometry(aoi)}],
    })
}

fn geometry(aoi: &Aoi) -> Value {
    serde_json::from_str(&aoi.to_polygon_json()).unwrap_or(Value::Null)
}

/// The area of a Feature the DrawControl sent (a rectangle or a polygon,
/// `draw:created`'s `geo_json`). Leaflet gives longitudes beyond ±180° when
/// the shape was drawn on a copy of the world east or west of the first
/// one; the shape is moved back by whole turns first.
pub fn drawn_area(feature: &Value) -> Result<Aoi, AoiError> {
    let mut feature = feature.clone();
    if let Some(ring) = feature
        .pointer_mut("/geometry/coordinates/0")
        .and_then(Value::as_array_mut)
    {
        let lons: Vec<f64> = ring.iter().filter_map(|p| p[0].as_f64()).collect();
        let centre = lons.iter().sum::<f64>() / lons.len().max(1) as f64;
        let turns = ((centre + 180.0) / 360.0).floor() * 360.0;
        for point in ring.iter_mut() {
            if let Some(lon) = point[0].as_f64() {
                point[0] = json!(lon - turns);
            }
        }
    }
    // The front-end's Leaflet path options are not part of the area.
    if let Some(properties) = feature.get_mut("properties").and_then(Value::as_object_mut) {
        properties.remove("style");
    }
    Aoi::from_geojson(&feature.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A rectangle as Leaflet.draw's `toGeoJSON()` gives it: the ring from
    /// the south-west corner clockwise, closed, with the path options in
    /// `properties.style`.
    fn drawn_rectangle(west: f64, south: f64, east: f64, north: f64) -> Value {
        json!({
            "type": "Feature",
            "properties": {"style": {"color": "#e4572e", "weight": 4, "clickable": true}},
            "geometry": {"type": "Polygon", "coordinates": [[
                [west, south], [west, north], [east, north], [east, south], [west, south]
            ]]},
        })
    }

    #[test]
    fn a_drawn_rectangle_becomes_its_box() {
        let aoi = drawn_area(&drawn_rectangle(12.5, 45.0, 14.5, 46.0)).unwrap();
        assert_eq!(aoi.bbox().to_tuple(), (12.5, 45.0, 14.5, 46.0));
        assert_eq!(aoi.vertex_count(), 4);
    }

    #[test]
    fn a_drawn_polygon_keeps_its_vertices() {
        let triangle = json!({
            "type": "Feature", "properties": {"style": {}},
            "geometry": {"type": "Polygon", "coordinates": [[[10.0, 40.0], [12.0, 40.0], [11.0, 42.0], [10.0, 40.0]]]},
        });
        let aoi = drawn_area(&triangle).unwrap();
        assert_eq!(aoi.vertex_count(), 3);
        assert!(aoi.contains_point(11.0, 41.0) && !aoi.contains_point(10.1, 41.9));
    }

    #[test]
    fn a_shape_drawn_on_the_next_world_copy_comes_back_by_whole_turns() {
        // Drawn east of the antimeridian copy: Leaflet says 372.5..374.5.
        let aoi = drawn_area(&drawn_rectangle(372.5, 45.0, 374.5, 46.0)).unwrap();
        assert_eq!(aoi.bbox().to_tuple(), (12.5, 45.0, 14.5, 46.0));
        let west = drawn_area(&drawn_rectangle(-347.5, 45.0, -345.5, 46.0)).unwrap();
        assert_eq!(west.bbox().to_tuple(), (12.5, 45.0, 14.5, 46.0));
    }

    #[test]
    fn a_line_is_not_an_area() {
        let line = json!({"type": "Feature", "properties": {},
            "geometry": {"type": "LineString", "coordinates": [[10.0, 40.0], [12.0, 40.0]]}});
        assert!(drawn_area(&line).is_err());
    }

    #[test]
    fn an_area_round_trips_through_its_feature() {
        let aoi = Aoi::from_polygon(&[(10.0, 40.0), (12.0, 40.0), (11.0, 42.0)]).unwrap();
        let collection = area(&aoi);
        let back = drawn_area(&collection["features"][0]).unwrap();
        assert_eq!(back.bbox().to_tuple(), aoi.bbox().to_tuple());
    }
}
