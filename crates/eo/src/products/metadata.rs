//! What a product says of itself: its name, mission, type, sensing times
//! and footprint, read from its own metadata, so that an archive of real
//! products can be indexed without a catalogue (`cleope catalogue index`).
//!
//! - Sentinel-1 SAFE: `manifest.safe` (`safe:startTime`, `gml:coordinates`
//!   as `lat,lon lat,lon …`);
//! - Sentinel-2 SAFE: `MTD_MSIL1C.xml` / `MTD_MSIL2A.xml`
//!   (`PRODUCT_START_TIME`, `EXT_POS_LIST` as `lat lon lat lon …`, the
//!   cloud cover);
//! - Sentinel-3 SEN3: `xfdumanifest.xml` (`sentinel-safe:startTime`,
//!   `gml:posList` as `lat lon …`);
//! - netCDF and GeoTIFF files (Sentinel-5P, CAMS, CMEMS, CGLS, …): the
//!   global `time_coverage_start`/`_end` (else a date in the name), the
//!   extent of the grid or of the swath's latitude/longitude, and the
//!   content for the service (`title`, `institution`, `source`).

use super::names;
use super::sentinel1::{read_text, xml_text};
use crate::ens::EnsProduct;
use crate::raster::{Raster, RasterError, crs};
use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};

/// A product as its own metadata describes it.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    /// ONDA's platform name ("Sentinel-1", "Sentinel-5 Precursor"), None
    /// for the Copernicus services.
    pub mission: Option<String>,
    /// CDSE's collection ("SENTINEL-2", "CAMS", "CMEMS", "CLMS", "OTHER").
    pub collection: String,
    /// ONDA's main class of a service product ("Copernicus-marine").
    pub main_class: Option<String>,
    /// The product type as the catalogues name it ("IW_GRDH_1S",
    /// "S2MSI2A", "OL_2_WFR___", "L2__NO2___"; a service's main variable).
    pub product_type: String,
    /// The name CDSE gives it (`….SAFE`, `….SEN3`, the file name).
    pub cdse_name: String,
    pub begin: DateTime<Utc>,
    pub end: DateTime<Utc>,
    /// A closed lon/lat ring.
    pub footprint: Vec<(f64, f64)>,
    /// What a catalogue filters on besides (cloudCover, tileId, …).
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

/// Why a product could not be described.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{product}: {problem}")]
pub struct MetadataError {
    pub product: String,
    pub problem: String,
}

/// Reads what `product` says of itself.
pub fn describe(product: &EnsProduct) -> Result<Described, MetadataError> {
    let stem = crate::ens::name_stem(product.name());
    let fail = |problem: String| MetadataError {
        product: product.name().to_string(),
        problem,
    };
    match names::parse(stem) {
        Ok(name) if name.mission == "Sentinel-5P" => describe_file(product, Some(name)),
        Ok(name) => describe_safe(product, stem, &name).map_err(fail),
        Err(_) => describe_file(product, None),
    }
}

/// A SAFE or SEN3 product: times and footprint from its manifest.
fn describe_safe(
    product: &EnsProduct,
    stem: &str,
    name: &names::ProductName,
) -> Result<Described, String> {
    let (manifest, start_tag, stop_tag, footprint_tag, separator) = match name.mission {
        "Sentinel-1" => (
            "manifest.safe",
            "safe:startTime",
            "safe:stopTime",
            "gml:coordinates",
            ',',
        ),
        "Sentinel-2" => (
            "MTD_MSIL*.xml",
            "PRODUCT_START_TIME",
            "PRODUCT_STOP_TIME",
            "EXT_POS_LIST",
            ' ',
        ),
        _ => (
            "xfdumanifest.xml",
            "sentinel-safe:startTime",
            "sentinel-safe:stopTime",
            "gml:posList",
            ' ',
        ),
    };
    let path = product
        .file(manifest)
        .map_err(|e| format!("no {manifest} to read its footprint from ({e})"))?;
    let xml = read_text(&path)?;
    let footprint = xml_text(&xml, footprint_tag)
        .map(|text| lat_lon_ring(&text, separator))
        .ok_or_else(|| format!("{manifest} has no {footprint_tag} footprint"))??;
    let time = |tag: &str| xml_text(&xml, tag).and_then(|t| instant(&t));
    let begin = time(start_tag).unwrap_or_else(|| name.start.and_utc());
    let end = time(stop_tag)
        .or(name.stop.map(|s| s.and_utc()))
        .unwrap_or(begin);
    let (collection, extension) = match name.mission {
        "Sentinel-1" => ("SENTINEL-1", ".SAFE"),
        "Sentinel-2" => ("SENTINEL-2", ".SAFE"),
        _ => ("SENTINEL-3", ".SEN3"),
    };
    let mut attributes = serde_json::Map::new();
    attributes.insert("platformSerialIdentifier".into(), name.platform[2..].into());
    if let Some(cloud) =
        xml_text(&xml, "Cloud_Coverage_Assessment").and_then(|c| c.parse::<f64>().ok())
    {
        attributes.insert("cloudCover".into(), cloud.into());
    }
    if let Some(tile) = name.details.get("tile") {
        attributes.insert("tileId".into(), tile.clone().into());
    }
    Ok(Described {
        mission: Some(name.mission.to_string()),
        collection: collection.into(),
        main_class: None,
        product_type: catalogue_type(stem, name),
        cdse_name: format!("{stem}{extension}"),
        begin,
        end,
        footprint,
        attributes,
    })
}

/// The type catalogues search by: CDSE's `IW_GRDH_1S` for Sentinel-1
/// (ONDA's `*GRD*` still matches it), the name's type otherwise.
fn catalogue_type(stem: &str, name: &names::ProductName) -> String {
    if name.mission != "Sentinel-1" {
        return name.product_type.clone();
    }
    let parts: Vec<&str> = stem.split('_').collect();
    match parts.as_slice() {
        [_, mode, kind, class, ..] => format!("{mode}_{kind}_{}", &class[..class.len().min(2)]),
        _ => name.product_type.clone(),
    }
}

/// `lat<sep>lon lat<sep>lon …` (Sentinel-1's `lat,lon` pairs) or
/// `lat lon lat lon …`, as a closed lon/lat ring.
fn lat_lon_ring(text: &str, separator: char) -> Result<Vec<(f64, f64)>, String> {
    let numbers: Vec<f64> = text
        .split(|c: char| c.is_whitespace() || c == separator)
        .filter(|t| !t.is_empty())
        .map(|t| {
            t.parse::<f64>()
                .map_err(|_| format!("\"{t}\" in the footprint is not a number"))
        })
        .collect::<Result<_, _>>()?;
    if numbers.len() < 6 || !numbers.len().is_multiple_of(2) {
        return Err(format!(
            "the footprint has {} numbers, not lat/lon pairs",
            numbers.len()
        ));
    }
    let mut ring: Vec<(f64, f64)> = numbers.chunks(2).map(|p| (p[1], p[0])).collect();
    if ring.first() != ring.last() {
        ring.push(ring[0]);
    }
    Ok(ring)
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            [
                "%Y-%m-%dT%H:%M:%S%.f",
                "%Y-%m-%d %H:%M:%S",
                "%Y%m%dT%H%M%SZ",
            ]
            .iter()
            .find_map(|format| {
                NaiveDateTime::parse_from_str(text.trim_end_matches('Z'), format).ok()
            })
            .map(|t| t.and_utc())
        })
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .map(|d| d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
        })
}

/// A netCDF, GRIB or GeoTIFF product (zipped or not).
fn describe_file(
    product: &EnsProduct,
    name: Option<names::ProductName>,
) -> Result<Described, MetadataError> {
    let fail = |problem: String| MetadataError {
        product: product.name().to_string(),
        problem,
    };
    let file = ["*.nc", "*.tif", "*.tiff", "*.grib", "*.grib2", "*.grb"]
        .iter()
        .find_map(|pattern| {
            product
                .files(pattern)
                .ok()
                .and_then(|f| f.into_iter().next())
        })
        .ok_or_else(|| fail("holds no netCDF, GRIB or GeoTIFF file".into()))?;
    let dataset = crate::gdal::dataset::open(&file).map_err(|e| fail(e.to_string()))?;
    let entries = metadata_entries(&dataset, "");
    let global = |key: &str| {
        let global_key = format!("NC_GLOBAL#{key}");
        entries
            .iter()
            .find(|(k, _)| *k == global_key || k == key)
            .map(|(_, value)| value.clone())
    };
    let subdatasets = subdataset_names(&dataset);
    let stem = crate::ens::name_stem(product.name()).to_string();
    let from_name = date_in_name(&stem);
    let begin = global("time_coverage_start")
        .and_then(|t| instant(&t))
        .or(name.as_ref().map(|n| n.start.and_utc()))
        .or(from_name)
        .ok_or_else(|| {
            fail("has no time_coverage_start attribute and no date in its name".into())
        })?;
    let end = global("time_coverage_end")
        .and_then(|t| instant(&t))
        .or(name.as_ref().and_then(|n| n.stop.map(|s| s.and_utc())))
        .unwrap_or(begin);
    let footprint = match &name {
        Some(_) => swath_extent(&file, &subdatasets),
        None => grid_extent(&file, &subdatasets),
    }
    .map_err(|e| fail(format!("its extent cannot be read: {e}")))?;
    let file_name = file.rsplit('/').next().unwrap_or(&file).to_string();
    let (mission, collection, main_class, product_type) = match &name {
        Some(n) => (
            Some("Sentinel-5 Precursor".to_string()),
            "SENTINEL-5P".to_string(),
            None,
            n.product_type.clone(),
        ),
        None => {
            let content = ["title", "institution", "source", "product_name", "summary"]
                .iter()
                .filter_map(|key| global(key))
                .collect::<Vec<_>>()
                .join(" ");
            let (collection, class) = service_of(&format!("{content} {stem}"));
            let variable = service_type_in_name(&stem)
                .or_else(|| subdatasets.first().map(|s| variable_of_subdataset(s)))
                .or_else(|| only_variable(&dataset))
                .unwrap_or_else(|| stem.clone());
            (None, collection.into(), class.map(String::from), variable)
        }
    };
    Ok(Described {
        mission,
        collection,
        main_class,
        product_type,
        cdse_name: file_name,
        begin,
        end,
        footprint,
        attributes: serde_json::Map::new(),
    })
}

/// The product type the Copernicus Land names carry: `c_gls_NDVI_…`,
/// `g2_BIOPAR_DMP_…` (their files hold it as a variable, or a GeoTIFF).
fn service_type_in_name(stem: &str) -> Option<String> {
    let rest = stem
        .strip_prefix("c_gls_")
        .or_else(|| stem.strip_prefix("g2_BIOPAR_"))?;
    let kind = rest.split('_').next()?;
    (!kind.is_empty()).then(|| kind.to_string())
}

/// `analysed_sst` of `NETCDF:"file.nc":analysed_sst` (or `:/PRODUCT/x`).
fn variable_of_subdataset(name: &str) -> String {
    let variable = name.rsplit(':').next().unwrap_or(name);
    variable.trim_start_matches('/').to_string()
}

/// The variable of a single-variable netCDF file (its first band's).
fn only_variable(dataset: &gdal::Dataset) -> Option<String> {
    use gdal::Metadata;
    dataset
        .rasterband(1)
        .ok()?
        .metadata_item("NETCDF_VARNAME", "")
}

/// The service a product's content (title, institution, source) or name
/// points to: its CDSE collection and ONDA main class.
fn service_of(text: &str) -> (&'static str, Option<&'static str>) {
    let lower = text.to_ascii_lowercase();
    let has = |needles: &[&str]| needles.iter().any(|n| lower.contains(n));
    if has(&["cams", "copernicus atmosphere", "ecmwf", "z_cams_"]) {
        ("CAMS", Some("Copernicus-atmosphere"))
    } else if has(&[
        "cmems",
        "copernicus marine",
        "ghrsst",
        "mercator",
        "ukmo-l4",
    ]) {
        ("CMEMS", Some("Copernicus-marine"))
    } else if has(&[
        "copernicus global land",
        "c_gls_",
        "g2_biopar",
        "proba-v",
        "probav",
        "vito",
    ]) {
        ("CLMS", Some("Copernicus-land"))
    } else {
        ("OTHER", None)
    }
}

/// A date (`YYYYMMDD`, optionally followed by `HHMM[SS]`) in a file name.
fn date_in_name(stem: &str) -> Option<DateTime<Utc>> {
    let bytes = stem.as_bytes();
    (0..bytes.len().saturating_sub(7)).find_map(|at| {
        let digits = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        let boundary = at == 0 || !bytes[at - 1].is_ascii_digit();
        if !boundary || digits < 8 {
            return None;
        }
        let date = NaiveDate::parse_from_str(&stem[at..at + 8], "%Y%m%d").ok()?;
        let time = match digits {
            12.. => chrono::NaiveTime::parse_from_str(&stem[at + 8..at + 12], "%H%M").ok(),
            _ => None,
        };
        Some(date.and_time(time.unwrap_or_default()).and_utc())
    })
}

/// The names of a file's subdatasets (netCDF variables), in order. (The
/// netCDF driver answers for the whole domain, not item by item.)
fn subdataset_names(dataset: &gdal::Dataset) -> Vec<String> {
    metadata_entries(dataset, "SUBDATASETS")
        .into_iter()
        .filter(|(key, _)| key.starts_with("SUBDATASET_") && key.ends_with("_NAME"))
        .map(|(_, value)| value)
        .collect()
}

/// The `KEY=value` entries of a metadata domain, in order.
fn metadata_entries(dataset: &gdal::Dataset, domain: &str) -> Vec<(String, String)> {
    use gdal::Metadata;
    dataset
        .metadata_domain(domain)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|entry| {
            let (key, value) = entry.split_once('=')?;
            Some((key.to_string(), value.to_string()))
        })
        .collect()
}

/// The lon/lat box of a gridded file (its first gridded variable).
fn grid_extent(file: &str, subdatasets: &[String]) -> Result<Vec<(f64, f64)>, RasterError> {
    let candidates: Vec<&str> = if subdatasets.is_empty() {
        vec![file]
    } else {
        subdatasets.iter().map(String::as_str).collect()
    };
    let mut last = None;
    for candidate in candidates {
        match Raster::open(candidate, 1) {
            Ok(raster) => {
                let grid = raster.grid();
                let bounds = grid.bounds();
                let lonlat = if grid.crs.is_empty() {
                    // A CF grid GDAL gave no CRS: plain lon/lat degrees.
                    bounds
                } else {
                    crs::bounds_to_lonlat(&grid.crs, bounds)?
                };
                return Ok(box_ring(lonlat));
            }
            Err(error) => last = Some(error),
        }
    }
    Err(last.unwrap_or_else(|| RasterError::Invalid("no gridded variable".into())))
}

/// The lon/lat box of a swath: the range of its latitude and longitude variables.
fn swath_extent(file: &str, subdatasets: &[String]) -> Result<Vec<(f64, f64)>, RasterError> {
    let range = |variable: &str| -> Result<(f64, f64), RasterError> {
        let path = subdatasets
            .iter()
            .find(|s| s.ends_with(&format!("/{variable}")) || s.ends_with(&format!(":{variable}")))
            .ok_or_else(|| RasterError::Invalid(format!("{file} has no {variable} variable")))?;
        let dataset =
            crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
        let band = dataset.rasterband(1).map_err(|e| RasterError::Gdal {
            path: path.clone(),
            message: e.to_string(),
        })?;
        let range = band
            .compute_raster_min_max(false)
            .map_err(|e| RasterError::Gdal {
                path: path.clone(),
                message: e.to_string(),
            })?;
        Ok((range.min, range.max))
    };
    let (lat0, lat1) = range("latitude")?;
    let (lon0, lon1) = range("longitude")?;
    Ok(box_ring((lon0, lat0, lon1, lat1)))
}

/// The closed ring of a box, longitudes brought into -180..180.
fn box_ring((x0, y0, x1, y1): (f64, f64, f64, f64)) -> Vec<(f64, f64)> {
    let (x0, x1) = if x1 > 180.0 && x1 - x0 >= 359.0 {
        (-180.0, 180.0)
    } else if x0 >= 180.0 {
        (x0 - 360.0, x1 - 360.0)
    } else {
        (x0.max(-180.0), x1.min(180.0))
    };
    let (y0, y1) = (y0.max(-90.0), y1.min(90.0));
    vec![(x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0)]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn footprints_read_in_both_pair_orders() {
        let s1 = lat_lon_ring("45.1,12.0 45.5,9.1 43.9,8.7 43.5,11.6", ',').unwrap();
        assert_eq!(s1[0], (12.0, 45.1));
        assert_eq!(s1.len(), 5, "closed");
        let s2 = lat_lon_ring("33.85 35.41 33.85 35.49 33.92 35.50 33.85 35.41", ' ').unwrap();
        assert_eq!((s2.len(), s2[1]), (4, (35.49, 33.85)), "already closed");
        assert!(lat_lon_ring("1 2 3", ' ').is_err());
    }

    #[test]
    fn dates_are_found_in_service_names() {
        let at = |s| date_in_name(s).map(|t| t.to_rfc3339());
        assert_eq!(
            at("c_gls_NDVI_202004210000_GLOBE_PROBAV_V2.2.1").as_deref(),
            Some("2020-04-21T00:00:00+00:00")
        );
        assert_eq!(
            at("20190301120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0").as_deref(),
            Some("2019-03-01T12:00:00+00:00")
        );
        assert_eq!(
            at("oisst-avhrr-v02r01.20240115").as_deref(),
            Some("2024-01-15T00:00:00+00:00")
        );
        assert_eq!(at("download"), None);
    }

    #[test]
    fn services_are_known_by_their_content() {
        assert_eq!(service_of("CAMS global reanalysis (EAC4)").0, "CAMS");
        assert_eq!(service_of("Met Office GHRSST GMPE").0, "CMEMS");
        assert_eq!(service_of("Copernicus Global Land Service NDVI").0, "CLMS");
        assert_eq!(service_of("NOAA OISST").0, "OTHER");
        let kind = |stem| service_type_in_name(stem);
        assert_eq!(
            kind("g2_BIOPAR_DMP_202001010000_EURO_PROBAV_V1.0").as_deref(),
            Some("DMP")
        );
        assert_eq!(
            kind("c_gls_NDVI_202004210000_GLOBE_PROBAV_V2.2.1").as_deref(),
            Some("NDVI")
        );
        assert_eq!(kind("z_cams_c_ecmf_x"), None);
        assert_eq!(
            variable_of_subdataset("NETCDF:\"a.nc\":/PRODUCT/latitude"),
            "PRODUCT/latitude"
        );
        assert_eq!(
            box_ring((0.125, -89.875, 359.875, 89.875))[0],
            (-180.0, -89.875)
        );
    }
}
