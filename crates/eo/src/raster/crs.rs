//! Coordinate reference systems: short labels and lon/lat conversions.

use super::RasterError;
use super::grid::Bounds;
use crate::gdal::library::ensure_loaded;
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};

/// WGS 84 (EPSG:4326) as WKT, the CRS of lon/lat grids.
pub fn wgs84_wkt() -> Result<String, RasterError> {
    ensure_loaded()?;
    SpatialRef::from_epsg(4326)
        .and_then(|s| s.to_wkt())
        .map_err(|e| RasterError::Invalid(e.to_string()))
}

/// A spatial reference with x = easting/longitude, y = northing/latitude,
/// whatever the authority's axis order (GDAL 3 makes EPSG:4326 lat/lon).
fn xy_ordered(definition: &str) -> Result<SpatialRef, RasterError> {
    ensure_loaded()?;
    let mut srs = SpatialRef::from_definition(definition).map_err(|e| {
        RasterError::Invalid(format!(
            "the coordinate reference system cannot be read: {e}"
        ))
    })?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// Refuses a CRS definition a script gives that GDAL would read as a file
/// or fetch as a URL: GDAL's parser of user input takes both (on 3.6.2,
/// `gdalwarp -t_srs /path` opens the file), and so do PROJ's `+init=` files
/// and grids named by path. Accepted: `AUTHORITY:CODE` (EPSG:32633,
/// OGC:CRS84, urn:ogc:def:crs:EPSG::4326), WKT, PROJJSON and PROJ strings
/// that name no file by path.
pub fn check_definition(text: &str) -> Result<(), crate::gdal::dataset::Refusal> {
    let text = text.trim();
    let lower = text.to_ascii_lowercase();
    let authority_code = text.split_once(':').is_some_and(|(authority, code)| {
        !authority.is_empty()
            && authority
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !code.starts_with(':')
            && !code.is_empty()
            && code
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | ',' | '-' | ':'))
    });
    let wkt = text.split_once('[').is_some_and(|(keyword, _)| {
        let keyword = keyword.trim_end();
        !keyword.is_empty()
            && keyword
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
    });
    let structured = wkt || text.starts_with('{') || text.starts_with('+');
    let names_a_file = ["=/", "\"/", "'/", "=~", "\"~", "=.", "\"."]
        .iter()
        .any(|spelling| text.contains(spelling))
        || lower.contains("init=")
        || lower.contains("://");
    if authority_code || (structured && !names_a_file) {
        return Ok(());
    }
    Err(crate::gdal::dataset::Refusal {
        path: text.chars().take(80).collect(),
        found: "is not a coordinate reference system cleope passes to GDAL: \
                GDAL would read it as a file or fetch it as a URL"
            .into(),
        hint: "give an EPSG code (\"EPSG:32633\"), WKT, PROJJSON or a PROJ string \
               that names no file"
            .into(),
    })
}

/// "EPSG:32633" when the CRS has an EPSG code, else its name, or "none".
pub fn label(wkt: &str) -> String {
    if wkt.is_empty() {
        return "none".into();
    }
    if ensure_loaded().is_err() {
        return "unknown".into();
    }
    let Ok(mut srs) = SpatialRef::from_wkt(wkt) else {
        return "unknown".into();
    };
    if let (Some(authority), Ok(code)) = (srs.auth_name(), srs.auth_code()) {
        return format!("{authority}:{code}");
    }
    if srs.auto_identify_epsg().is_ok()
        && let Ok(code) = srs.auth_code()
    {
        return format!("EPSG:{code}");
    }
    srs.name().unwrap_or_else(|| "unknown".into())
}

/// True when the CRS is geographic (longitude/latitude in degrees).
pub fn is_geographic(wkt: &str) -> bool {
    ensure_loaded().is_ok() && SpatialRef::from_wkt(wkt).is_ok_and(|srs| srs.is_geographic())
}

/// The transform between lon/lat (WGS84) and the CRS `wkt`, in either direction.
fn lonlat_transform(wkt: &str, to_lonlat: bool) -> Result<CoordTransform, RasterError> {
    if wkt.is_empty() {
        return Err(RasterError::Invalid(
            "the raster has no coordinate reference system, so lon/lat cannot be placed on it"
                .into(),
        ));
    }
    let (wgs84, other) = (xy_ordered("EPSG:4326")?, xy_ordered(wkt)?);
    let (from, to) = if to_lonlat {
        (&other, &wgs84)
    } else {
        (&wgs84, &other)
    };
    CoordTransform::new(from, to).map_err(|e| {
        RasterError::Invalid(format!(
            "cannot convert between lon/lat and the raster's CRS: {e}"
        ))
    })
}

/// Transforms bounds following the edges (21 points each), so the result
/// covers the whole box.
fn transform_bounds(
    transform: &CoordTransform,
    (x0, y0, x1, y1): Bounds,
) -> Result<Bounds, RasterError> {
    let [a, b, c, d] = transform
        .transform_bounds(&[x0, y0, x1, y1], 21)
        .map_err(|e| RasterError::Invalid(format!("the bounds cannot be converted: {e}")))?;
    Ok((a, b, c, d))
}

/// Converts lon/lat (WGS84) bounds to the CRS `wkt`.
pub fn lonlat_bounds_to(wkt: &str, bounds: Bounds) -> Result<Bounds, RasterError> {
    transform_bounds(&lonlat_transform(wkt, false)?, bounds)
}

/// The lon/lat (WGS84) box covering `bounds` given in the CRS `wkt`.
pub fn bounds_to_lonlat(wkt: &str, bounds: Bounds) -> Result<Bounds, RasterError> {
    transform_bounds(&lonlat_transform(wkt, true)?, bounds)
}

/// Converts `bounds` given in the CRS `from` (a definition a script gave,
/// checked by [`check_definition`]) to the CRS `wkt`.
pub fn bounds_between(from: &str, wkt: &str, bounds: Bounds) -> Result<Bounds, RasterError> {
    check_definition(from).map_err(RasterError::FormatNotAllowed)?;
    if wkt.is_empty() {
        return Err(RasterError::Invalid(
            "the raster has no coordinate reference system, so bounds in another one cannot be \
             placed on it"
                .into(),
        ));
    }
    let transform = CoordTransform::new(&xy_ordered(from)?, &xy_ordered(wkt)?).map_err(|e| {
        RasterError::Invalid(format!(
            "cannot convert from {from} to the raster's CRS: {e}"
        ))
    })?;
    transform_bounds(&transform, bounds)
}

/// Converts lon/lat (WGS84) points to the CRS `wkt`.
pub fn lonlat_points_to(wkt: &str, points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, RasterError> {
    let transform = lonlat_transform(wkt, false)?;
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    transform
        .transform_coords(&mut xs, &mut ys, &mut [])
        .map_err(|e| RasterError::Invalid(format!("the points cannot be converted: {e}")))?;
    Ok(xs.into_iter().zip(ys).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn definitions_that_name_files_or_urls_are_refused() {
        let utm = SpatialRef::from_epsg(32633).unwrap().to_wkt().unwrap();
        for accepted in [
            "EPSG:32633",
            "epsg:4326",
            "OGC:CRS84",
            "ESRI:54009",
            "urn:ogc:def:crs:EPSG::4326",
            utm.as_str(),
            "+proj=utm +zone=33 +datum=WGS84",
            "+proj=longlat +nadgrids=@null",
            "{\"type\": \"GeographicCRS\"}",
        ] {
            assert_eq!(check_definition(accepted), Ok(()), "{accepted}");
        }
        for refused in [
            "/etc/passwd",
            "secret.txt",
            "../secret.wkt",
            "ESRI::/tmp/x.prj",
            "+init=/tmp/x:y",
            "+init=epsg:4326",
            "+proj=longlat +nadgrids=/tmp/x",
            "+proj=longlat +nadgrids=./x",
            "http://127.0.0.1/crs.wkt",
            "GEOGCRS[\"x\",PARAMETERFILE[\"g\",\"/tmp/x\"]]",
        ] {
            assert!(check_definition(refused).is_err(), "{refused}");
        }
    }

    #[test]
    fn labels_name_the_epsg_code() {
        let wkt = SpatialRef::from_epsg(32633).unwrap().to_wkt().unwrap();
        assert_eq!(label(&wkt), "EPSG:32633");
        assert_eq!(label(""), "none");
    }

    #[test]
    fn bounds_convert_between_any_two_systems() {
        let utm = SpatialRef::from_epsg(32633).unwrap().to_wkt().unwrap();
        let box_in_utm = (500_000.0, 4_428_000.0, 501_000.0, 4_429_000.0);
        let same = bounds_between("EPSG:32633", &utm, box_in_utm).unwrap();
        assert!((same.0 - box_in_utm.0).abs() < 1e-6 && (same.3 - box_in_utm.3).abs() < 1e-6);
        let from_lonlat = bounds_between("EPSG:4326", &utm, (15.0, 40.0, 15.1, 40.1)).unwrap();
        assert_eq!(
            from_lonlat,
            lonlat_bounds_to(&utm, (15.0, 40.0, 15.1, 40.1)).unwrap()
        );
        assert!(bounds_between("/etc/passwd", &utm, box_in_utm).is_err());
    }

    #[test]
    fn lonlat_bounds_land_in_utm() {
        let wkt = SpatialRef::from_epsg(32633).unwrap().to_wkt().unwrap();
        let (x0, y0, x1, y1) = lonlat_bounds_to(&wkt, (15.0, 40.0, 15.1, 40.1)).unwrap();
        // 15° E is the central meridian of zone 33: easting 500 km there.
        assert!((x0 - 500_000.0).abs() < 1.0, "{x0}");
        assert!(
            x1 > x0 && y1 > y0 && (4_427_000.0..4_429_000.0).contains(&y0),
            "{y0}"
        );
    }
}
