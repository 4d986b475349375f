//! An AOI as text (WKT, CDSE's `geography'…'`, GeoJSON) and as a
//! `polygon.json` file, written atomically.

use super::{Aoi, AoiError};
use geo::Geometry;
use geojson::{Feature, GeometryValue, JsonObject};
use std::io::Write;
use std::path::Path;
use wkt::ToWkt;

impl Aoi {
    /// One polygon alone when the area has one part, the whole multipolygon
    /// otherwise: catalogues accept `POLYGON` more widely than `MULTIPOLYGON`.
    fn simplest_geometry(&self) -> Geometry<f64> {
        match self.shape.0.as_slice() {
            [polygon] => Geometry::Polygon(polygon.clone()),
            _ => Geometry::MultiPolygon(self.shape.clone()),
        }
    }

    /// WKT, `POLYGON((lon lat,…))` for one polygon and `MULTIPOLYGON(((…)))`
    /// otherwise: the form of ONDA footprints and queries.
    pub fn to_wkt(&self) -> String {
        self.simplest_geometry().wkt_string()
    }

    /// CDSE's form, `geography'SRID=4326;POLYGON((lon lat,…))'`. CDSE's
    /// query filter takes no `MULTIPOLYGON`: to query with an area of several
    /// parts, check [`Aoi::polygon_count`] and query with [`Aoi::bbox`].
    pub fn to_cdse_wkt(&self) -> String {
        format!("geography'SRID=4326;{}'", self.to_wkt())
    }

    /// A GeoJSON Feature with the area as its geometry and no properties.
    pub fn to_geojson(&self) -> String {
        let feature = Feature {
            properties: Some(JsonObject::new()),
            ..Feature::from(self.geojson_geometry())
        };
        feature.to_string()
    }

    /// The `polygon.json` form CLEOPE saved: a bare GeoJSON geometry, one line.
    pub fn to_polygon_json(&self) -> String {
        geojson::Geometry::new(self.geojson_geometry()).to_string()
    }

    fn geojson_geometry(&self) -> GeometryValue {
        GeometryValue::from(&self.simplest_geometry())
    }

    /// Writes [`Aoi::to_polygon_json`] to `path`, which the caller has
    /// already confined to the workspace. The text goes to a temporary file
    /// in the same folder, which is renamed over `path` only once complete:
    /// a failure leaves no partial file, and an old file intact.
    pub fn save_polygon_json(&self, path: &Path) -> Result<(), AoiError> {
        let cannot_write = |source| AoiError::File {
            action: "write",
            path: path.to_owned(),
            source,
        };
        let folder = match path.parent() {
            Some(folder) if !folder.as_os_str().is_empty() => folder,
            _ => Path::new("."),
        };
        let mut temporary = tempfile::Builder::new()
            .prefix(".polygon.json.")
            .suffix(".tmp")
            .tempfile_in(folder)
            .map_err(cannot_write)?;
        let text = self.to_polygon_json() + "\n";
        temporary
            .write_all(text.as_bytes())
            .and_then(|()| temporary.as_file().sync_all())
            .map_err(cannot_write)?;
        // On failure the temporary file is deleted when `persist` hands it back.
        cleope_sandbox::files::make_readable(temporary.as_file()).map_err(cannot_write)?;
        temporary.persist(path).map_err(|e| cannot_write(e.error))?;
        Ok(())
    }

    /// Reads an AOI from a GeoJSON file (any form [`Aoi::from_geojson`]
    /// reads) at `path`, which the caller has already confined.
    pub fn load_polygon_json(path: &Path) -> Result<Aoi, AoiError> {
        let text = std::fs::read_to_string(path).map_err(|source| AoiError::File {
            action: "read",
            path: path.to_owned(),
            source,
        })?;
        Aoi::from_geojson(&text).map_err(|error| AoiError::InFile {
            path: path.to_owned(),
            error: Box::new(error),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::BBox;
    use serde_json::{Value, json};

    fn unit_square() -> Aoi {
        Aoi::from_bbox(BBox::new(0.0, 0.0, 1.0, 1.0).unwrap())
    }

    fn two_squares() -> Aoi {
        Aoi::from_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))").unwrap()
    }

    fn trieste() -> Aoi {
        Aoi::from_polygon(&[
            (13.639219, 45.615343),
            (13.780783, 45.615343),
            (13.780783, 45.682543),
            (13.639219, 45.682543),
        ])
        .unwrap()
    }

    #[test]
    fn one_polygon_is_written_as_polygon() {
        assert_eq!(unit_square().to_wkt(), "POLYGON((0 0,1 0,1 1,0 1,0 0))");
    }

    #[test]
    fn several_polygons_are_written_as_multipolygon() {
        assert_eq!(
            two_squares().to_wkt(),
            "MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))"
        );
    }

    #[test]
    fn wkt_round_trips_exactly() {
        for aoi in [trieste(), two_squares()] {
            assert_eq!(Aoi::from_wkt(&aoi.to_wkt()).unwrap(), aoi);
        }
    }

    #[test]
    fn cdse_form_wraps_the_wkt_and_reads_back() {
        let cdse = unit_square().to_cdse_wkt();
        assert_eq!(cdse, "geography'SRID=4326;POLYGON((0 0,1 0,1 1,0 1,0 0))'");
        assert_eq!(Aoi::from_wkt(&cdse).unwrap(), unit_square());
        assert_eq!(Aoi::from_wkt(&trieste().to_cdse_wkt()).unwrap(), trieste());
    }

    #[test]
    fn geojson_is_a_feature_with_the_geometry() {
        let feature: Value = serde_json::from_str(&unit_square().to_geojson()).unwrap();
        assert_eq!(feature["type"], "Feature");
        assert_eq!(feature["properties"], json!({}));
        assert_eq!(
            feature["geometry"],
            json!({"type": "Polygon",
                   "coordinates": [[[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0], [0.0, 0.0]]]})
        );
    }

    #[test]
    fn geojson_round_trips_exactly() {
        for aoi in [trieste(), two_squares()] {
            assert_eq!(Aoi::from_geojson(&aoi.to_geojson()).unwrap(), aoi);
            assert_eq!(Aoi::from_geojson(&aoi.to_polygon_json()).unwrap(), aoi);
        }
    }

    #[test]
    fn polygon_json_is_a_bare_geometry_like_cleopes() {
        let geometry: Value = serde_json::from_str(&two_squares().to_polygon_json()).unwrap();
        assert_eq!(geometry["type"], "MultiPolygon");
        assert!(geometry.get("geometry").is_none());
    }

    #[test]
    fn save_and_load_round_trip_and_leave_only_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("polygon.json");
        trieste().save_polygon_json(&path).unwrap();
        assert_eq!(Aoi::load_polygon_json(&path).unwrap(), trieste());
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["polygon.json"]);
    }

    #[test]
    fn saving_again_replaces_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("polygon.json");
        trieste().save_polygon_json(&path).unwrap();
        unit_square().save_polygon_json(&path).unwrap();
        assert_eq!(Aoi::load_polygon_json(&path).unwrap(), unit_square());
    }

    #[test]
    fn a_failed_save_leaves_no_temporary_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        // A folder where the file should go: the final rename must fail.
        let path = dir.path().join("polygon.json");
        std::fs::create_dir(&path).unwrap();
        std::fs::write(path.join("keep"), "x").unwrap();
        let error = unit_square().save_polygon_json(&path).unwrap_err();
        assert!(matches!(
            error,
            AoiError::File {
                action: "write",
                ..
            }
        ));
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|entry| entry.unwrap().file_name())
            .collect();
        assert_eq!(names, ["polygon.json"]);
    }

    #[test]
    fn saving_into_a_missing_folder_names_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("outputs").join("polygon.json");
        let error = unit_square().save_polygon_json(&path).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("cannot write \""), "{message}");
        assert!(message.contains("outputs/polygon.json"), "{message}");
        assert!(!path.exists());
    }

    #[test]
    fn loading_a_missing_or_broken_file_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.json");
        let error = Aoi::load_polygon_json(&missing).unwrap_err();
        assert!(matches!(error, AoiError::File { action: "read", .. }));

        let broken = dir.path().join("broken.json");
        std::fs::write(&broken, r#"{"type": "Point", "coordinates": [1, 2]}"#).unwrap();
        let message = Aoi::load_polygon_json(&broken).unwrap_err().to_string();
        assert!(message.starts_with("in \""), "{message}");
        assert!(
            message.contains("broken.json\": a Point has no area"),
            "{message}"
        );
    }

    #[test]
    fn cleopes_saved_file_loads() {
        // CLEOPE's saved form: a bare Polygon, SW, NW, NE, SE, SW (here the
        // Italy box of the inventory's example ONDA query).
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("polygon.json");
        let text = r#"{"type": "Polygon", "coordinates": [[[1.825846, 35.424868],
            [1.825846, 44.995883], [17.551899, 44.995883], [17.551899, 35.424868],
            [1.825846, 35.424868]]]}"#;
        std::fs::write(&path, text).unwrap();
        let aoi = Aoi::load_polygon_json(&path).unwrap();
        assert_eq!(
            aoi.bbox(),
            BBox::new(1.825846, 35.424868, 17.551899, 44.995883).unwrap()
        );
    }
}
