//! Areas of interest (see README.md here): the one [`BBox`] and the one
//! [`Aoi`] type, read from and written to the forms CLEOPE and the
//! catalogues used (bounds, vertex lists, GeoJSON, WKT, CDSE footprints).
//!
//! Everything is longitude/latitude in degrees on WGS84, longitude first.
//! Every constructor validates, so an `Aoi` in hand is always usable; the
//! errors ([`AoiError`]) name the offending vertex or value and the fix.

mod bbox;
mod error;
mod read;
mod validate;
mod write;

pub use bbox::BBox;
pub use error::{AoiError, Crossing, RingAt, VertexAt};

use geo::{
    BoundingRect, Centroid, Coord, GeodesicArea, Geometry, Intersects, LineString, MultiPolygon,
    Point, Polygon,
};

/// The most points (closing point included) a polygon in an ONDA catalogue
/// query could have.
pub const ONDA_MAX_POINTS: usize = 200;

/// The most vertices an AOI may have, all rings together. Checking that a
/// ring does not cross itself compares every pair of edges (geo's
/// validation), so the cost grows with the square of this: 5,000 takes a
/// fraction of a second; catalogue footprints have a few hundred at most.
pub const MAX_VERTICES: usize = 5_000;

/// The most separate polygons an AOI may have (parts are compared pairwise
/// for overlaps).
pub const MAX_PARTS: usize = 100;

/// The longest GeoJSON or WKT text read as an AOI.
pub const MAX_TEXT_BYTES: usize = 16 << 20;

/// An area of interest: one or more non-overlapping polygons (with optional
/// holes) in lon/lat degrees, outlines anticlockwise and holes clockwise.
#[derive(Debug, Clone, PartialEq)]
pub struct Aoi {
    shape: MultiPolygon<f64>,
}

impl From<BBox> for Aoi {
    fn from(bbox: BBox) -> Aoi {
        Aoi::from_bbox(bbox)
    }
}

impl Aoi {
    /// The area inside a bounding box (always valid, since the box is).
    pub fn from_bbox(bbox: BBox) -> Aoi {
        Aoi {
            shape: MultiPolygon(vec![bbox.to_polygon()]),
        }
    }

    /// A polygon from its vertices as `(lon, lat)` pairs; an open ring is
    /// closed by appending the first vertex, a closed one is kept as it is.
    pub fn from_polygon(vertices: &[(f64, f64)]) -> Result<Aoi, AoiError> {
        let ring: LineString<f64> = vertices.iter().copied().map(Coord::from).collect();
        // `Polygon::new` closes the ring by appending, never by overwriting.
        Aoi::from_polygons(vec![Polygon::new(ring, vec![])], "vertex list")
    }

    /// The area of a geo geometry: a Polygon or MultiPolygon as it is, a
    /// LineString as an outline (closed if open), a Rect, a Triangle, or a
    /// GeometryCollection of those. Points and lines have no area.
    pub fn from_geometry(geometry: &Geometry<f64>) -> Result<Aoi, AoiError> {
        Aoi::from_polygons(read::polygons_of(geometry)?, "geometry")
    }

    /// The area described by GeoJSON text: a bare geometry (as in CLEOPE's
    /// `polygon.json`), a Feature, a FeatureCollection (the union of its
    /// polygons) or a JSON list of these (as in `medsea.json`).
    pub fn from_geojson(text: &str) -> Result<Aoi, AoiError> {
        Aoi::from_polygons(read::polygons_from_geojson(text)?, "GeoJSON")
    }

    /// The area described by WKT: `POLYGON((…))`, `MULTIPOLYGON(((…)))` (as
    /// ONDA footprints), optionally as EWKT `SRID=4326;…` or wrapped as CDSE
    /// writes footprints, `geography'SRID=4326;POLYGON((…))'`.
    pub fn from_wkt(text: &str) -> Result<Aoi, AoiError> {
        Aoi::from_polygons(read::polygons_from_wkt(text)?, "WKT")
    }

    fn from_polygons(polygons: Vec<Polygon<f64>>, input: &'static str) -> Result<Aoi, AoiError> {
        check_size(&polygons)?;
        Ok(Aoi {
            shape: validate::assemble(polygons, input)?,
        })
    }

    /// The polygons, for geo's algorithms.
    pub fn multi_polygon(&self) -> &MultiPolygon<f64> {
        &self.shape
    }

    /// How many separate polygons the area has.
    pub fn polygon_count(&self) -> usize {
        self.shape.0.len()
    }

    /// How many vertices all rings have together, each closing point (a
    /// repeat of the first vertex) not counted.
    pub fn vertex_count(&self) -> usize {
        self.shape
            .iter()
            .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
            .map(|ring| ring.0.len().saturating_sub(1))
            .sum()
    }

    /// The smallest box around the area.
    pub fn bbox(&self) -> BBox {
        // A validated AOI is non-empty and encloses an area, so a rectangle of
        // positive size exists; the fallback only keeps this free of panics.
        let rect = self.shape.bounding_rect().unwrap_or_else(|| {
            geo::Rect::new(
                Coord {
                    x: -180.0,
                    y: -90.0,
                },
                Coord { x: 180.0, y: 90.0 },
            )
        });
        BBox::spanning(rect)
    }

    /// The area's surface in km² on the WGS84 ellipsoid.
    pub fn area_km2(&self) -> f64 {
        // Karney's geodesic area (geo's `GeodesicArea`) is exact on the WGS84
        // ellipsoid at any size and latitude. Chamberlain–Duquette is a
        // spherical approximation (geo uses the equatorial radius), about
        // 0.7% too large near the equator; AOIs are small, so the exact
        // method costs nothing noticeable. The unsigned area of a clockwise
        // outline would be the rest of the Earth (510 million km²); the rings
        // are oriented anticlockwise on construction, so it is the AOI's.
        self.shape.geodesic_area_unsigned() / 1.0e6
    }

    /// Whether the point `(lon, lat)` is in the area; a point on the outline
    /// counts as inside, a point in a hole does not.
    pub fn contains_point(&self, lon: f64, lat: f64) -> bool {
        self.shape.intersects(&Point::new(lon, lat))
    }

    /// Whether the area and a geometry (e.g. a product footprint) share at
    /// least one point.
    pub fn intersects(&self, other: &Geometry<f64>) -> bool {
        self.shape.intersects(other)
    }

    /// Whether two areas share at least one point.
    pub fn intersects_aoi(&self, other: &Aoi) -> bool {
        self.shape.intersects(&other.shape)
    }

    /// The centre of mass as `(lon, lat)`, computed in the lon/lat plane:
    /// good for centring a map, not for surveying.
    pub fn centroid(&self) -> (f64, f64) {
        match self.shape.centroid() {
            Some(point) => point.x_y(),
            None => {
                let bbox = self.bbox();
                let lon = (bbox.lon_min() + bbox.lon_max()) / 2.0;
                let lat = (bbox.lat_min() + bbox.lat_max()) / 2.0;
                (lon, lat)
            }
        }
    }

    /// The first polygon's outline as closed `(lon, lat)` pairs (the first
    /// pair repeated at the end): what a catalogue query renders.
    pub fn exterior_lonlat(&self) -> Vec<(f64, f64)> {
        self.shape
            .0
            .first()
            .map(|polygon| polygon.exterior().coords().map(|c| c.x_y()).collect())
            .unwrap_or_default()
    }

    /// Refuses an outline with more than [`ONDA_MAX_POINTS`] points (the
    /// closing point included), the most ONDA's catalogue accepted in a
    /// query polygon. CDSE has no such limit, hence a separate check.
    pub fn check_onda_vertex_limit(&self) -> Result<(), AoiError> {
        let numbered = self.polygon_count() > 1;
        for (index, polygon) in self.shape.iter().enumerate() {
            let points = polygon.exterior().0.len();
            if points > ONDA_MAX_POINTS {
                return Err(AoiError::TooManyVerticesForOnda {
                    ring: RingAt {
                        polygon: numbered.then_some(index),
                        hole: None,
                    },
                    points,
                    limit: ONDA_MAX_POINTS,
                });
            }
        }
        Ok(())
    }
}

/// Refuses, before any validation, an area too big to validate quickly.
fn check_size(polygons: &[Polygon<f64>]) -> Result<(), AoiError> {
    if polygons.len() > MAX_PARTS {
        return Err(AoiError::TooComplex {
            what: "the number of polygons",
            size: polygons.len(),
            limit: MAX_PARTS,
        });
    }
    let vertices: usize = polygons
        .iter()
        .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
        .map(|ring| ring.0.len())
        .sum();
    if vertices > MAX_VERTICES {
        return Err(AoiError::TooComplex {
            what: "the number of vertices",
            size: vertices,
            limit: MAX_VERTICES,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{line_string, point};

    fn box_aoi(lon_min: f64, lat_min: f64, lon_max: f64, lat_max: f64) -> Aoi {
        Aoi::from_bbox(BBox::new(lon_min, lat_min, lon_max, lat_max).unwrap())
    }

    /// A circle of `n` vertices around (10, 40).
    fn circle(n: usize) -> Vec<(f64, f64)> {
        (0..n)
            .map(|i| {
                let a = i as f64 * std::f64::consts::TAU / n as f64;
                (10.0 + a.cos(), 40.0 + a.sin())
            })
            .collect()
    }

    #[test]
    fn the_largest_area_accepted_validates_quickly_and_a_larger_one_is_refused_at_once() {
        // The closing vertex counts too: MAX_VERTICES - 1 given, one appended.
        let started = std::time::Instant::now();
        let aoi = Aoi::from_polygon(&circle(MAX_VERTICES - 1)).unwrap();
        let took = started.elapsed();
        assert_eq!(aoi.vertex_count(), MAX_VERTICES - 1);
        assert!(took < std::time::Duration::from_secs(2), "{took:?}");

        let started = std::time::Instant::now();
        let error = Aoi::from_polygon(&circle(200_000)).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_millis(200));
        assert_eq!(
            error.to_string(),
            "the number of vertices is 200001, more than the 5000 cleope reads as an area; \
             draw a simpler outline (fewer points, fewer parts) or use its bounding box"
        );
        let parts: Vec<String> = (0..101)
            .map(|i| format!("(({i} 0, {i}.5 0, {i}.5 0.5, {i} 0))"))
            .collect();
        let error = Aoi::from_wkt(&format!("MULTIPOLYGON({})", parts.join(","))).unwrap_err();
        assert!(
            matches!(error, AoiError::TooComplex { size: 101, .. }),
            "{error}"
        );
    }

    #[test]
    fn wkt_and_geojson_nested_past_reason_are_errors_not_crashes() {
        let deep = format!(
            "{}POINT(1 2){}",
            "GEOMETRYCOLLECTION(".repeat(100_000),
            ")".repeat(100_000)
        );
        assert!(matches!(
            Aoi::from_wkt(&deep),
            Err(AoiError::TooDeep { limit: 16 })
        ));
        let json = format!(
            r#"{{"type":"Polygon","coordinates":{}"#,
            "[".repeat(100_000)
        );
        assert!(matches!(
            Aoi::from_geojson(&json),
            Err(AoiError::BadGeoJson { .. })
        ));
        let nested = format!(
            "{}POLYGON((0 0,1 0,1 1,0 0)){}",
            "GEOMETRYCOLLECTION(".repeat(3),
            ")".repeat(3)
        );
        assert!(Aoi::from_wkt(&nested).is_ok(), "a few levels are read");
    }

    /// The area between the equator and `lat_deg`, `lon_span_deg` wide, on
    /// the WGS84 ellipsoid: the closed form through the authalic latitude,
    /// independent of geo's geodesic algorithm.
    fn ellipsoid_band_km2(lat_deg: f64, lon_span_deg: f64) -> f64 {
        let a = 6_378_137.0_f64;
        let f = 1.0 / 298.257_223_563;
        let b = a * (1.0 - f);
        let e = (2.0 * f - f * f).sqrt();
        let s = lat_deg.to_radians().sin();
        let q = s / (1.0 - e * e * s * s) + ((1.0 + e * s) / (1.0 - e * s)).ln() / (2.0 * e);
        lon_span_deg.to_radians() * b * b / 2.0 * q / 1.0e6
    }

    #[test]
    fn a_one_degree_box_at_the_equator_has_the_expected_area() {
        let area = box_aoi(0.0, 0.0, 1.0, 1.0).area_km2();
        // The spherical textbook value (mean radius) is 12,364 km²...
        assert!((area - 12_364.0).abs() / 12_364.0 < 0.005, "{area}");
        // ...and the ellipsoid's exact value is 12,308.5 km².
        let exact = ellipsoid_band_km2(1.0, 1.0);
        assert!((area - exact).abs() / exact < 1.0e-4, "{area} vs {exact}");
    }

    #[test]
    fn area_is_the_same_whichever_way_the_vertices_were_listed() {
        let clockwise = Aoi::from_polygon(&[(0., 0.), (0., 1.), (1., 1.), (1., 0.)]).unwrap();
        let anticlockwise = Aoi::from_polygon(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.)]).unwrap();
        let difference = clockwise.area_km2() - anticlockwise.area_km2();
        assert!(difference.abs() < 1e-6);
        assert!(clockwise.area_km2() < 12_400.0);
    }

    #[test]
    fn a_hole_is_not_part_of_the_area() {
        let text =
            "POLYGON((0 0, 2 0, 2 2, 0 2, 0 0), (0.5 0.5, 1.5 0.5, 1.5 1.5, 0.5 1.5, 0.5 0.5))";
        let aoi = Aoi::from_wkt(text).unwrap();
        let full = box_aoi(0.0, 0.0, 2.0, 2.0).area_km2();
        let hole = box_aoi(0.5, 0.5, 1.5, 1.5).area_km2();
        assert!((aoi.area_km2() - (full - hole)).abs() < 1e-6 * full);
        assert!(!aoi.contains_point(1.0, 1.0));
        assert!(aoi.contains_point(0.25, 1.0));
    }

    #[test]
    fn contains_point_counts_the_outline_as_inside() {
        let aoi = box_aoi(10.0, 40.0, 11.0, 41.0);
        assert!(aoi.contains_point(10.5, 40.5));
        assert!(aoi.contains_point(10.0, 40.5));
        assert!(!aoi.contains_point(11.5, 40.5));
        // Swapped coordinates land elsewhere.
        assert!(!aoi.contains_point(40.5, 10.5));
    }

    #[test]
    fn intersects_tells_overlapping_footprints_from_distant_ones() {
        let aoi = box_aoi(10.0, 40.0, 11.0, 41.0);
        let footprint =
            Aoi::from_wkt("POLYGON((10.8 40.8, 12 40.8, 12 42, 10.8 42, 10.8 40.8))").unwrap();
        let far = box_aoi(20.0, 40.0, 21.0, 41.0);
        assert!(aoi.intersects_aoi(&footprint));
        assert!(!aoi.intersects_aoi(&far));
        let track: Geometry<f64> = line_string![(x: 9.0, y: 40.5), (x: 12.0, y: 40.5)].into();
        assert!(aoi.intersects(&track));
        assert!(!aoi.intersects(&point!(x: 0.0, y: 0.0).into()));
    }

    #[test]
    fn bbox_spans_every_vertex() {
        let aoi =
            Aoi::from_polygon(&[(105.0, -5.43), (106.0, -5.5), (105.9, -6.42), (105.1, -6.3)])
                .unwrap();
        assert_eq!(aoi.bbox(), BBox::new(105.0, -6.42, 106.0, -5.43).unwrap());
    }

    #[test]
    fn centroid_of_a_box_is_its_middle() {
        let (lon, lat) = box_aoi(10.0, 40.0, 12.0, 41.0).centroid();
        assert!((lon - 11.0).abs() < 1e-12 && (lat - 40.5).abs() < 1e-12);
    }

    #[test]
    fn an_open_polygon_is_closed_by_appending_and_keeps_every_vertex() {
        let aoi = Aoi::from_polygon(&[(0., 0.), (1., 0.), (1., 1.), (0., 1.)]).unwrap();
        assert_eq!(
            aoi.exterior_lonlat(),
            [(0., 0.), (1., 0.), (1., 1.), (0., 1.), (0., 0.)]
        );
        assert_eq!(aoi.vertex_count(), 4);
        assert_eq!(aoi.polygon_count(), 1);
    }

    #[test]
    fn an_already_closed_polygon_is_not_closed_twice() {
        let aoi = Aoi::from_polygon(&[(0., 0.), (1., 0.), (1., 1.), (0., 0.)]).unwrap();
        assert_eq!(aoi.exterior_lonlat().len(), 4);
        assert_eq!(aoi.vertex_count(), 3);
    }

    #[test]
    fn an_open_linestring_keeps_its_last_vertex_unlike_cleope() {
        // CLEOPE overwrote the last vertex with the first, turning this
        // square into a triangle of half its area.
        let text = r#"{"type": "LineString", "coordinates": [[0,0],[1,0],[1,1],[0,1]]}"#;
        let aoi = Aoi::from_geojson(text).unwrap();
        assert_eq!(aoi.vertex_count(), 4);
        assert!(aoi.contains_point(0.1, 0.9));
        let square = box_aoi(0.0, 0.0, 1.0, 1.0).area_km2();
        assert!((aoi.area_km2() - square).abs() < 1e-6 * square);
    }

    #[test]
    fn a_closed_linestring_becomes_the_same_polygon() {
        let text = r#"{"type": "LineString", "coordinates": [[0,0],[1,0],[1,1],[0,1],[0,0]]}"#;
        assert_eq!(
            Aoi::from_geojson(text).unwrap(),
            box_aoi(0.0, 0.0, 1.0, 1.0)
        );
    }

    #[test]
    fn cleopes_polygon_json_reads_as_its_box() {
        // S1 Bright_Spots_Detection/polygon.json: SW, NW, NE, SE, SW.
        let text = r#"{"type": "Polygon", "coordinates": [[[13.639219, 45.615343],
            [13.639219, 45.682543], [13.780783, 45.682543], [13.780783, 45.615343],
            [13.639219, 45.615343]]]}"#;
        let aoi = Aoi::from_geojson(text).unwrap();
        let expected = BBox::new(13.639219, 45.615343, 13.780783, 45.682543).unwrap();
        assert_eq!(aoi.bbox(), expected);
        assert_eq!(aoi.vertex_count(), 4);
    }

    #[test]
    fn a_feature_collection_becomes_the_union_of_its_polygons() {
        let text = r#"{"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": [[[0,0],[2,0],[2,2],[0,2],[0,0]]]}},
            {"type": "Feature", "properties": {},
             "geometry": {"type": "Polygon", "coordinates": [[[1,1],[3,1],[3,3],[1,3],[1,1]]]}}]}"#;
        let aoi = Aoi::from_geojson(text).unwrap();
        assert_eq!(aoi.polygon_count(), 1);
        assert!(aoi.contains_point(2.5, 2.5) && aoi.contains_point(0.5, 0.5));
        assert!(!aoi.contains_point(2.5, 0.5));
        assert_eq!(aoi.bbox(), BBox::new(0.0, 0.0, 3.0, 3.0).unwrap());
    }

    #[test]
    fn an_empty_feature_collection_is_refused() {
        let error =
            Aoi::from_geojson(r#"{"type": "FeatureCollection", "features": []}"#).unwrap_err();
        assert!(matches!(error, AoiError::Empty { input: "GeoJSON" }));
    }

    #[test]
    fn a_geojson_vertex_without_latitude_is_named() {
        let text = r#"{"type": "Polygon", "coordinates": [[[0,0],[1,0],[1],[0,1],[0,0]]]}"#;
        let error = Aoi::from_geojson(text).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the 3rd vertex (index 2) of the outline is (1, NaN)")
        );
    }

    #[test]
    fn from_geometry_accepts_a_rect_and_refuses_a_point() {
        let rect = geo::Rect::new(Coord { x: 0.0, y: 0.0 }, Coord { x: 1.0, y: 1.0 });
        let aoi = Aoi::from_geometry(&rect.into()).unwrap();
        assert_eq!(aoi.bbox(), BBox::new(0.0, 0.0, 1.0, 1.0).unwrap());
        let error = Aoi::from_geometry(&point!(x: 1.0, y: 1.0).into()).unwrap_err();
        assert_eq!(
            error.to_string(),
            "a Point has no area, so it cannot be an area of interest; give a Polygon, \
             a MultiPolygon or a LineString that outlines the area"
        );
    }

    /// A closed ring of `points` points (the last repeating the first) on a
    /// small circle.
    fn ring_of_points(points: usize) -> Vec<(f64, f64)> {
        let vertices = points - 1;
        (0..vertices)
            .map(|i| {
                let angle = i as f64 / vertices as f64 * std::f64::consts::TAU;
                (10.0 + angle.cos(), 45.0 + angle.sin())
            })
            .collect()
    }

    #[test]
    fn onda_accepts_200_points_and_refuses_201() {
        let at_limit = Aoi::from_polygon(&ring_of_points(200)).unwrap();
        assert_eq!(at_limit.exterior_lonlat().len(), 200);
        assert!(at_limit.check_onda_vertex_limit().is_ok());

        let over = Aoi::from_polygon(&ring_of_points(201)).unwrap();
        let error = over.check_onda_vertex_limit().unwrap_err();
        assert_eq!(
            error.to_string(),
            "the outline has 201 points (the closing point included), but the ONDA catalogue \
             accepts at most 200; draw a simpler outline, or search with the AOI's bounding box"
        );
    }
}
