//! GeoJSON and WKT text to polygons, before validation. Every way CLEOPE
//! stored an AOI is read: a bare geometry (`polygon.json`), a Feature, a
//! FeatureCollection (the EMSR file), a JSON list of geometries
//! (`medsea.json`), ONDA footprints (`POLYGON ((…))`) and CDSE footprints
//! (`geography'SRID=4326;…'`).

use super::AoiError;
use geo::{Coord, Geometry, LineString, Polygon};
use geojson::{GeoJson, GeometryValue, Position};
use serde_json::Value;
use wkt::TryFromWkt;

/// How deep WKT may nest its parentheses: `MULTIPOLYGON(((…)))` is three,
/// a collection of them four. The WKT reader recurses per level, so deeper
/// text is refused by counting first.
pub const MAX_WKT_NESTING: usize = 16;

/// Refuses text longer than [`super::MAX_TEXT_BYTES`] before it is parsed.
fn check_length(text: &str) -> Result<(), AoiError> {
    if text.len() > super::MAX_TEXT_BYTES {
        return Err(AoiError::TooComplex {
            what: "the text",
            size: text.len(),
            limit: super::MAX_TEXT_BYTES,
        });
    }
    Ok(())
}

/// The polygons in GeoJSON text: one document, or a JSON list of them.
/// (serde_json stops at 128 levels of nesting, so deep JSON is an error too.)
pub(super) fn polygons_from_geojson(text: &str) -> Result<Vec<Polygon<f64>>, AoiError> {
    check_length(text)?;
    let json: Value = serde_json::from_str(text).map_err(bad_geojson)?;
    let documents = match json {
        Value::Array(items) => items,
        single => vec![single],
    };
    let mut polygons = Vec::new();
    for document in documents {
        let document: GeoJson = serde_json::from_value(document).map_err(bad_geojson)?;
        collect_document(&document, &mut polygons)?;
    }
    Ok(polygons)
}

fn bad_geojson(error: impl ToString) -> AoiError {
    AoiError::BadGeoJson {
        detail: error.to_string(),
    }
}

fn collect_document(document: &GeoJson, out: &mut Vec<Polygon<f64>>) -> Result<(), AoiError> {
    let geometries: Vec<&geojson::Geometry> = match document {
        GeoJson::Geometry(geometry) => vec![geometry],
        GeoJson::Feature(feature) => feature.geometry.iter().collect(),
        GeoJson::FeatureCollection(collection) => collection
            .features
            .iter()
            .filter_map(|feature| feature.geometry.as_ref())
            .collect(),
    };
    for geometry in geometries {
        collect_geojson_geometry(&geometry.value, out)?;
    }
    Ok(())
}

fn collect_geojson_geometry(
    value: &GeometryValue,
    out: &mut Vec<Polygon<f64>>,
) -> Result<(), AoiError> {
    match value {
        GeometryValue::Polygon { coordinates } => out.push(polygon_from_rings(coordinates)),
        GeometryValue::MultiPolygon { coordinates } => {
            out.extend(coordinates.iter().map(|rings| polygon_from_rings(rings)));
        }
        // A drawn polyline: the outline of the area. `Polygon::new` closes an
        // open one by appending the first vertex (CLEOPE overwrote the last).
        GeometryValue::LineString { coordinates } => {
            out.push(Polygon::new(ring_from_positions(coordinates), vec![]));
        }
        GeometryValue::GeometryCollection { geometries } => {
            for geometry in geometries {
                collect_geojson_geometry(&geometry.value, out)?;
            }
        }
        other => {
            return Err(AoiError::NotAnArea {
                kind: other.type_name().to_owned(),
            });
        }
    }
    Ok(())
}

fn polygon_from_rings(rings: &[Vec<Position>]) -> Polygon<f64> {
    let mut rings = rings.iter().map(|ring| ring_from_positions(ring));
    let outline = rings.next().unwrap_or_else(|| LineString(vec![]));
    Polygon::new(outline, rings.collect())
}

fn ring_from_positions(positions: &[Position]) -> LineString<f64> {
    positions.iter().map(coord_from_position).collect()
}

/// A position missing its latitude (or both numbers) becomes NaN, so that
/// validation reports it with the vertex's place instead of panicking here.
fn coord_from_position(position: &Position) -> Coord<f64> {
    let number = |i: usize| position.as_slice().get(i).copied().unwrap_or(f64::NAN);
    Coord {
        x: number(0),
        y: number(1),
    }
}

/// The polygons in WKT text, bare or wrapped the way CDSE writes footprints.
pub(super) fn polygons_from_wkt(text: &str) -> Result<Vec<Polygon<f64>>, AoiError> {
    check_length(text)?;
    let body = strip_srid(strip_geography_quotes(text.trim())?)?;
    check_nesting(body)?;
    let geometry = Geometry::<f64>::try_from_wkt_str(body).map_err(|error| AoiError::BadWkt {
        detail: error.to_string(),
    })?;
    polygons_of(&geometry)
}

/// Counts parentheses before the WKT reader recurses into them.
fn check_nesting(text: &str) -> Result<(), AoiError> {
    let mut depth = 0usize;
    for byte in text.bytes() {
        match byte {
            b'(' => {
                depth += 1;
                if depth > MAX_WKT_NESTING {
                    return Err(AoiError::TooDeep {
                        limit: MAX_WKT_NESTING,
                    });
                }
            }
            b')' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// `geography'…'` → `…`; other text is returned as it is.
fn strip_geography_quotes(text: &str) -> Result<&str, AoiError> {
    const OPENING: &str = "geography'";
    let Some(rest) = strip_prefix_ignoring_case(text, OPENING) else {
        return Ok(text);
    };
    rest.strip_suffix('\'').ok_or_else(|| AoiError::BadWkt {
        detail: "geography'…' is missing its closing quote".to_owned(),
    })
}

/// `SRID=4326;POLYGON(…)` (EWKT) → `POLYGON(…)`; any other SRID is refused,
/// because its numbers are not degrees of lon/lat.
fn strip_srid(text: &str) -> Result<&str, AoiError> {
    let Some(rest) = strip_prefix_ignoring_case(text, "SRID=") else {
        return Ok(text);
    };
    let (srid, body) = rest.split_once(';').ok_or_else(|| AoiError::BadWkt {
        detail: "SRID=… must be followed by ';' and the geometry".to_owned(),
    })?;
    match srid.trim() {
        "4326" => Ok(body.trim()),
        other => Err(AoiError::UnsupportedSrid {
            srid: other.to_owned(),
        }),
    }
}

fn strip_prefix_ignoring_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}

/// The polygons of a geo geometry: polygons as they are, an outline
/// (LineString) closed into a polygon, collections searched recursively.
pub(super) fn polygons_of(geometry: &Geometry<f64>) -> Result<Vec<Polygon<f64>>, AoiError> {
    let mut polygons = Vec::new();
    collect_geo_geometry(geometry, &mut polygons)?;
    Ok(polygons)
}

fn collect_geo_geometry(
    geometry: &Geometry<f64>,
    out: &mut Vec<Polygon<f64>>,
) -> Result<(), AoiError> {
    match geometry {
        Geometry::Polygon(polygon) => out.push(polygon.clone()),
        Geometry::MultiPolygon(parts) => out.extend(parts.iter().cloned()),
        Geometry::LineString(line) => out.push(Polygon::new(line.clone(), vec![])),
        Geometry::Rect(rect) => out.push(rect.to_polygon()),
        Geometry::Triangle(triangle) => out.push(triangle.to_polygon()),
        Geometry::GeometryCollection(collection) => {
            for member in collection {
                collect_geo_geometry(member, out)?;
            }
        }
        Geometry::Point(_) | Geometry::MultiPoint(_) => return Err(not_an_area("Point")),
        Geometry::Line(_) => return Err(not_an_area("Line")),
        Geometry::MultiLineString(_) => return Err(not_an_area("MultiLineString")),
    }
    Ok(())
}

fn not_an_area(kind: &str) -> AoiError {
    AoiError::NotAnArea {
        kind: kind.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ring(polygon: &Polygon<f64>) -> Vec<(f64, f64)> {
        polygon.exterior().coords().map(|c| c.x_y()).collect()
    }

    const SQUARE: [(f64, f64); 5] = [(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)];

    #[test]
    fn a_bare_polygon_geometry_is_read() {
        let text = r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,1],[0,0]]]}"#;
        let polygons = polygons_from_geojson(text).unwrap();
        assert_eq!(polygons.len(), 1);
        assert_eq!(ring(&polygons[0]), SQUARE);
    }

    #[test]
    fn a_feature_collection_yields_every_polygon_and_skips_empty_features() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"obj_desc": "Forest Fire"},
             "geometry": {"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]}},
            {"type": "Feature", "properties": {}, "geometry": null},
            {"type": "Feature", "properties": {},
             "geometry": {"type": "MultiPolygon", "coordinates": [
                [[[5,5],[6,5],[6,6],[5,5]]], [[[8,8],[9,8],[9,9],[8,8]]]]}}]}"#;
        assert_eq!(polygons_from_geojson(text).unwrap().len(), 3);
    }

    #[test]
    fn a_json_list_of_geometries_is_read_like_medsea_json() {
        let text = r#"[{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1,1],[0,0]]]},
                       {"type": "Polygon", "coordinates": [[[5,5],[6,5],[6,6],[5,5]]]}]"#;
        assert_eq!(polygons_from_geojson(text).unwrap().len(), 2);
    }

    #[test]
    fn an_open_linestring_is_closed_by_appending_the_first_vertex() {
        let text = r#"{"type": "LineString", "coordinates": [[0,0],[1,0],[1,1],[0,1]]}"#;
        let polygons = polygons_from_geojson(text).unwrap();
        assert_eq!(ring(&polygons[0]), SQUARE);
    }

    #[test]
    fn a_short_position_becomes_nan_for_validation_to_report() {
        let text = r#"{"type": "Polygon", "coordinates": [[[0,0],[1],[1,1],[0,0]]]}"#;
        let polygons = polygons_from_geojson(text).unwrap();
        assert!(polygons[0].exterior().0[1].y.is_nan());
    }

    #[test]
    fn a_point_is_not_an_area() {
        let text = r#"{"type": "Feature", "properties": {},
                       "geometry": {"type": "Point", "coordinates": [14.3, 40.8]}}"#;
        let error = polygons_from_geojson(text).unwrap_err();
        assert!(matches!(error, AoiError::NotAnArea { ref kind } if kind == "Point"));
    }

    #[test]
    fn text_that_is_not_geojson_shows_what_a_polygon_json_looks_like() {
        for text in [
            "not json",
            r#"{"type": "Polygon"}"#,
            r#"{"type": "Circle"}"#,
        ] {
            let error = polygons_from_geojson(text).unwrap_err();
            assert!(
                matches!(error, AoiError::BadGeoJson { .. }),
                "{text}: {error}"
            );
            assert!(
                error
                    .to_string()
                    .contains(r#"a polygon.json looks like {"type": "Polygon""#)
            );
        }
    }

    #[test]
    fn an_onda_footprint_is_read() {
        let text = "POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))";
        assert_eq!(ring(&polygons_from_wkt(text).unwrap()[0]), SQUARE);
    }

    #[test]
    fn a_multipolygon_footprint_gives_each_part() {
        let text = "MULTIPOLYGON (((0 0, 1 0, 1 1, 0 0)), ((5 5, 6 5, 6 6, 5 5)))";
        assert_eq!(polygons_from_wkt(text).unwrap().len(), 2);
    }

    #[test]
    fn a_cdse_footprint_is_unwrapped() {
        let text = "geography'SRID=4326;POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))'";
        assert_eq!(ring(&polygons_from_wkt(text).unwrap()[0]), SQUARE);
        let ewkt = "srid=4326; POLYGON((0 0,1 0,1 1,0 1,0 0))";
        assert_eq!(ring(&polygons_from_wkt(ewkt).unwrap()[0]), SQUARE);
    }

    #[test]
    fn another_srid_is_refused() {
        let error = polygons_from_wkt("SRID=3857;POLYGON((0 0,1 0,1 1,0 0))").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the geometry is in SRID=3857, but cleope reads only SRID=4326 \
             (longitude and latitude in degrees, WGS84)"
        );
    }

    #[test]
    fn broken_wkt_says_how_to_write_it() {
        let unclosed_quote = "geography'SRID=4326;POLYGON((0 0,1 0,1 1,0 0))";
        let no_semicolon = "SRID=4326 POLYGON((0 0,1 0,1 1,0 0))";
        for text in [unclosed_quote, no_semicolon, "POLYGON((0 0, 1", "hello"] {
            let error = polygons_from_wkt(text).unwrap_err();
            assert!(matches!(error, AoiError::BadWkt { .. }), "{text}: {error}");
            assert!(
                error
                    .to_string()
                    .ends_with("repeating the first vertex at the end")
            );
        }
    }

    #[test]
    fn a_wkt_point_is_not_an_area() {
        let error = polygons_from_wkt("POINT(14.3 40.8)").unwrap_err();
        assert!(matches!(error, AoiError::NotAnArea { ref kind } if kind == "Point"));
    }
}
