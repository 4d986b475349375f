//! Areas of interest: from bounds, vertices, GeoJSON or WKT; area, bounds,
//! tests, and output as WKT, GeoJSON or CLEOPE's `polygon.json`.

use crate::eo::geometry::{Aoi, AoiError};
use rhai::plugin::*;

pub fn module() -> Module {
    let mut module = exported_module!(aoi_api);
    module.set_custom_type::<Aoi>("Aoi");
    module
}

pub(crate) fn aoi_error(error: AoiError) -> Box<EvalAltResult> {
    crate::api::script_error(
        "BadAoi",
        &error.to_string(),
        "areas are lon/lat in degrees, longitude first: e.g. aoi_bbox(150.1, -35.6, 150.5, -35.2)",
    )
}

fn number(value: &Dynamic, what: &str) -> Result<f64, Box<EvalAltResult>> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .ok_or_else(|| {
            crate::api::script_error(
                "TypeMismatch",
                &format!("{what} must be a number, not {value}"),
                "",
            )
        })
}

/// `[lon, lat]` pairs from a script array.
fn vertices(points: &rhai::Array) -> Result<Vec<(f64, f64)>, Box<EvalAltResult>> {
    points
        .iter()
        .enumerate()
        .map(
            |(i, point)| match point.clone().try_cast::<rhai::Array>().as_deref() {
                Some([lon, lat]) => Ok((number(lon, "a longitude")?, number(lat, "a latitude")?)),
                _ => Err(crate::api::script_error(
                    "BadAoi",
                    &format!("vertex {i} is {point}, not a [lon, lat] pair"),
                    "write the vertices as [[lon, lat], [lon, lat], ...]",
                )),
            },
        )
        .collect()
}

/// The rings of an AOI (outer boundaries and holes) as lon/lat points.
pub(crate) fn rings(aoi: &Aoi) -> Vec<Vec<(f64, f64)>> {
    aoi.multi_polygon()
        .iter()
        .flat_map(|polygon| std::iter::once(polygon.exterior()).chain(polygon.interiors()))
        .map(|ring| ring.coords().map(|c| (c.x, c.y)).collect())
        .collect()
}

/// An area as `print` shows it.
pub(crate) fn description(aoi: &Aoi) -> String {
    let (a, b, c, d) = aoi.bbox().to_tuple();
    format!(
        "Aoi({} vertices, {:.1} km², [{a}, {b}, {c}, {d}])",
        aoi.vertex_count(),
        aoi.area_km2()
    )
}

#[export_module]
mod aoi_api {
    use super::{aoi_error, number, vertices};
    use crate::api::file_error;
    use crate::eo::geometry::{Aoi, BBox};
    use crate::runtime::Host;
    use crate::sandbox::files;
    use rhai::{Array, FLOAT, INT};

    /// The area inside a bounding box, in degrees.
    ///
    /// ```rhai
    /// let bay = aoi_bbox(150.10, -35.60, 150.50, -35.20);
    /// assert(bay.area_km2 > 1600.0 && bay.area_km2 < 1700.0, "about 36 km x 44 km");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn aoi_bbox(
        lon_min: Dynamic,
        lat_min: Dynamic,
        lon_max: Dynamic,
        lat_max: Dynamic,
    ) -> Result<Aoi, Box<EvalAltResult>> {
        let bbox = BBox::new(
            number(&lon_min, "lon_min")?,
            number(&lat_min, "lat_min")?,
            number(&lon_max, "lon_max")?,
            number(&lat_max, "lat_max")?,
        )
        .map_err(aoi_error)?;
        Ok(Aoi::from_bbox(bbox))
    }

    /// A polygon from its vertices `[[lon, lat], ...]`; an open outline is
    /// closed by repeating the first vertex.
    ///
    /// ```rhai
    /// let field = aoi_polygon([[12.0, 41.0], [12.1, 41.0], [12.1, 41.1], [12.0, 41.1]]);
    /// assert(field.vertices == 4, "four corners");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn aoi_polygon(points: Array) -> Result<Aoi, Box<EvalAltResult>> {
        Aoi::from_polygon(&vertices(&points)?).map_err(aoi_error)
    }

    /// An area from GeoJSON text: a geometry, a Feature, a FeatureCollection
    /// (all its polygons) or a list of geometries.
    ///
    /// ```rhai
    /// let a = aoi_from_geojson(`{"type": "Polygon", "coordinates": [[[105, -6], [106, -6], [106, -5], [105, -5], [105, -6]]]}`);
    /// print(a.bbox);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn aoi_from_geojson(text: &str) -> Result<Aoi, Box<EvalAltResult>> {
        Aoi::from_geojson(text).map_err(aoi_error)
    }

    /// An area from WKT: `POLYGON`, `MULTIPOLYGON`, or a CDSE footprint
    /// `geography'SRID=4326;POLYGON(...)'`.
    ///
    /// ```rhai
    /// let a = aoi_from_wkt("POLYGON((14.8 37.6, 15.2 37.6, 15.2 37.9, 14.8 37.9, 14.8 37.6))");
    /// assert(a.contains(15.0, 37.75), "Etna is inside");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn aoi_from_wkt(text: &str) -> Result<Aoi, Box<EvalAltResult>> {
        Aoi::from_wkt(text).map_err(aoi_error)
    }

    /// Reads an area from a file in the workspace (GeoJSON such as
    /// `polygon.json`, or WKT).
    ///
    /// ```rhai
    /// aoi_bbox(105.0, -6.5, 106.0, -5.5).save("resources/polygon.json");
    /// let krakatoa = read_aoi("resources/polygon.json");
    /// assert(krakatoa.vertices == 4, "a box");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_aoi(ctx: NativeCallContext, path: &str) -> Result<Aoi, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let text =
            files::read_text(&host.workspace(), path, 16 * 1024 * 1024).map_err(file_error)?;
        let parsed = if text.trim_start().starts_with(['{', '[']) {
            Aoi::from_geojson(&text)
        } else {
            Aoi::from_wkt(&text)
        };
        parsed.map_err(aoi_error)
    }

    /// The area in square kilometres (geodesic, on the WGS84 ellipsoid).
    ///
    /// ```rhai
    /// print(aoi_bbox(0.0, 0.0, 1.0, 1.0).area_km2);   // 12308.5
    /// ```
    #[rhai_fn(get = "area_km2", pure)]
    pub fn area_km2(aoi: &mut Aoi) -> FLOAT {
        aoi.area_km2()
    }

    /// The bounds `[lon_min, lat_min, lon_max, lat_max]`.
    ///
    /// ```rhai
    /// let b = aoi_polygon([[1.0, 2.0], [3.0, 2.0], [2.0, 5.0]]).bbox;
    /// assert(b == [1.0, 2.0, 3.0, 5.0], "bounds");
    /// ```
    #[rhai_fn(get = "bbox", pure)]
    pub fn bbox(aoi: &mut Aoi) -> Array {
        let (a, b, c, d) = aoi.bbox().to_tuple();
        [a, b, c, d].into_iter().map(Dynamic::from_float).collect()
    }

    /// The centre `[lon, lat]`.
    ///
    /// ```rhai
    /// assert(aoi_bbox(10.0, 40.0, 12.0, 42.0).centroid == [11.0, 41.0], "centre");
    /// ```
    #[rhai_fn(get = "centroid", pure)]
    pub fn centroid(aoi: &mut Aoi) -> Array {
        let (lon, lat) = aoi.centroid();
        vec![Dynamic::from_float(lon), Dynamic::from_float(lat)]
    }

    /// The number of vertices (the closing vertex not counted).
    ///
    /// ```rhai
    /// assert(aoi_bbox(0.0, 0.0, 1.0, 1.0).vertices == 4, "a box has 4");
    /// ```
    #[rhai_fn(get = "vertices", pure)]
    pub fn vertices_count(aoi: &mut Aoi) -> INT {
        aoi.vertex_count() as INT
    }

    /// True when the point is inside the area (or on its outline).
    ///
    /// ```rhai
    /// assert(!aoi_bbox(0.0, 0.0, 1.0, 1.0).contains(2.0, 0.5), "outside");
    /// ```
    #[rhai_fn(pure)]
    pub fn contains(aoi: &mut Aoi, lon: FLOAT, lat: FLOAT) -> bool {
        aoi.contains_point(lon, lat)
    }

    /// True when the two areas overlap or touch (e.g. a product footprint and your AOI).
    ///
    /// ```rhai
    /// assert(aoi_bbox(0.0, 0.0, 2.0, 2.0).intersects(aoi_bbox(1.0, 1.0, 3.0, 3.0)), "overlap");
    /// ```
    #[rhai_fn(pure)]
    pub fn intersects(aoi: &mut Aoi, other: Aoi) -> bool {
        aoi.intersects_aoi(&other)
    }

    /// The area as WKT (`POLYGON` or `MULTIPOLYGON`), as catalogues take it.
    ///
    /// ```rhai
    /// print(aoi_bbox(0.0, 0.0, 1.0, 1.0).to_wkt());
    /// ```
    #[rhai_fn(pure)]
    pub fn to_wkt(aoi: &mut Aoi) -> String {
        aoi.to_wkt()
    }

    /// The area as a GeoJSON Feature.
    ///
    /// ```rhai
    /// assert(aoi_bbox(0.0, 0.0, 1.0, 1.0).to_geojson().contains("Feature"), "GeoJSON");
    /// ```
    #[rhai_fn(pure)]
    pub fn to_geojson(aoi: &mut Aoi) -> String {
        aoi.to_geojson()
    }

    /// Saves the area as GeoJSON (the `polygon.json` form CLEOPE used) in
    /// the workspace.
    ///
    /// ```rhai
    /// aoi_bbox(13.6, 45.5, 13.8, 45.7).save("resources/polygon.json");
    /// assert(file_exists("resources/polygon.json"), "saved");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn save(
        ctx: NativeCallContext,
        aoi: &mut Aoi,
        path: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let text = aoi.to_polygon_json() + "\n";
        files::write_bytes(&host.workspace(), &host.disk, path, text.as_bytes())
            .map(|_| ())
            .map_err(file_error)
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(aoi_bbox(0.0, 0.0, 1.0, 1.0));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(aoi: &mut Aoi) -> String {
        super::description(aoi)
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(aoi_bbox(0.0, 0.0, 1.0, 1.0));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(aoi: &mut Aoi) -> String {
        describe(aoi)
    }

    /// Refuses an area ONDA's catalogue could not take (more than 200 points).
    ///
    /// ```rhai
    /// aoi_bbox(0.0, 0.0, 1.0, 1.0).check_onda();
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn check_onda(aoi: &mut Aoi) -> Result<(), Box<EvalAltResult>> {
        aoi.check_onda_vertex_limit().map_err(aoi_error)
    }
}
