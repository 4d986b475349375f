//! The offline base map: land and country borders as one GeoJSON layer,
//! built from the Natural Earth 1:110m lines the figures already embed
//! (`eo::plot::basemap`), so a map needs no tile server and the binary no
//! second copy of the data.
//!
//! The embedded coastline arcs each belong to one country, so chained end
//! to end they close around the land (and around lakes such as the
//! Caspian). All rings go into one MultiPolygon, which Leaflet draws as one
//! SVG path filled even-odd: lakes come out as holes.

use crate::eo::plot::basemap::{BasemapLine, Scale, lines_at};
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Decimal places kept in coordinates: 0.001° is about 100 m, finer than
/// the 1:110m data (0.0036°).
const DECIMALS: f64 = 1000.0;

/// The base map's FeatureCollection: a "land" feature (MultiPolygon) and a
/// "borders" feature (MultiLineString), built on first use.
pub fn land_and_borders() -> &'static Value {
    static BASEMAP: OnceLock<Value> = OnceLock::new();
    BASEMAP.get_or_init(|| {
        let lines = lines_at(Scale::Coarse);
        let coast: Vec<&BasemapLine> = lines.iter().filter(|l| !l.border).collect();
        let land: Vec<Value> = land_rings(&coast)
            .into_iter()
            .map(|ring| json!([coordinates(&ring)]))
            .collect();
        let borders: Vec<Value> = lines
            .iter()
            .filter(|l| l.border)
            .map(|l| coordinates(&unwrapped(l.points.clone())))
            .collect();
        json!({
            "type": "FeatureCollection",
            "features": [
                feature("land", json!({"type": "MultiPolygon", "coordinates": land})),
                feature("borders", json!({"type": "MultiLineString", "coordinates": borders})),
            ]
        })
    })
}

fn feature(kind: &str, geometry: Value) -> Value {
    json!({"type": "Feature", "properties": {"kind": kind}, "geometry": geometry})
}

fn coordinates(points: &[(f64, f64)]) -> Value {
    let round = |v: f64| (v * DECIMALS).round() / DECIMALS;
    Value::Array(
        points
            .iter()
            .map(|&(x, y)| json!([round(x), round(y)]))
            .collect(),
    )
}

/// The coastline arcs chained end to end into rings. A ring that does not
/// close (Antarctica's, cut at the antimeridian) is closed through the
/// south pole.
fn land_rings(coast: &[&BasemapLine]) -> Vec<Vec<(f64, f64)>> {
    let key = |p: (f64, f64)| ((p.0 * 1e6).round() as i64, (p.1 * 1e6).round() as i64);
    // Arcs by both ends: a country's ring may run an arc backwards.
    let mut ending_at: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (index, line) in coast.iter().enumerate() {
        for end in [line.points[0], line.points[line.points.len() - 1]] {
            ending_at.entry(key(end)).or_default().push(index);
        }
    }
    let mut used = vec![false; coast.len()];
    let mut rings = Vec::new();
    for first in 0..coast.len() {
        if used[first] {
            continue;
        }
        used[first] = true;
        let start = key(coast[first].points[0]);
        let mut ring = coast[first].points.clone();
        while let Some(&end) = ring.last() {
            if key(end) == start && ring.len() > 1 {
                break;
            }
            let next = ending_at
                .get(&key(end))
                .and_then(|arcs| arcs.iter().find(|&&i| !used[i]).copied());
            let Some(next) = next else { break };
            used[next] = true;
            let mut points = coast[next].points.clone();
            if key(points[0]) != key(end) {
                points.reverse();
            }
            ring.extend_from_slice(&points[1..]);
        }
        let ring = closed_through_the_pole(unwrapped(ring));
        if ring.len() >= 4 {
            rings.push(ring);
        }
    }
    rings
}

/// A line whose longitude jumps by more than 180° between two points
/// (crossing the antimeridian) continued past ±180° instead, so Leaflet
/// does not draw the jump across the whole map.
fn unwrapped(points: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let mut shift = 0.0;
    let mut previous: Option<f64> = None;
    points
        .into_iter()
        .map(|(x, y)| {
            if let Some(last) = previous {
                let step = x - last;
                if step > 180.0 {
                    shift -= 360.0;
                } else if step < -180.0 {
                    shift += 360.0;
                }
            }
            previous = Some(x);
            (x + shift, y)
        })
        .collect()
}

fn closed_through_the_pole(mut ring: Vec<(f64, f64)>) -> Vec<(f64, f64)> {
    let (Some(&first), Some(&last)) = (ring.first(), ring.last()) else {
        return ring;
    };
    if first != last {
        ring.extend([(last.0, -90.0), (first.0, -90.0), first]);
    }
    ring
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_base_map_is_small_enough_for_a_browser() {
        let text = land_and_borders().to_string();
        assert!(text.len() < 300_000, "{} bytes", text.len());
        assert!(
            text.len() > 50_000,
            "{} bytes: the world is there",
            text.len()
        );
    }

    #[test]
    fn every_land_ring_is_closed_and_rings_cover_the_continents() {
        let land = &land_and_borders()["features"][0]["geometry"]["coordinates"];
        let rings = land.as_array().unwrap();
        assert!(rings.len() > 100, "{} rings", rings.len());
        for polygon in rings {
            let ring = polygon[0].as_array().unwrap();
            assert_eq!(ring.first(), ring.last());
        }
        // Some ring reaches each of Europe, Australia and South America.
        for (lon, lat) in [(10.0, 50.0), (135.0, -25.0), (-60.0, -10.0)] {
            let near = rings.iter().any(|polygon| {
                polygon[0].as_array().unwrap().iter().any(|p| {
                    (p[0].as_f64().unwrap() - lon).abs() < 25.0
                        && (p[1].as_f64().unwrap() - lat).abs() < 25.0
                })
            });
            assert!(near, "{lon}, {lat}");
        }
    }

    #[test]
    fn a_line_across_the_antimeridian_continues_past_180() {
        let line = unwrapped(vec![(179.0, 65.0), (-179.0, 66.0), (-178.0, 66.0)]);
        assert_eq!(line, vec![(179.0, 65.0), (181.0, 66.0), (182.0, 66.0)]);
    }
}
