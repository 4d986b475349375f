//! The STAC documents the archive's products become: Items (GeoJSON
//! Features, STAC 1.0.0) with a `product` asset (the CDSE `$value`
//! download) and, for products unpacked as SAFE/SEN3 folders, one asset per
//! measurement file in CDSE's `Nodes(…)/$value` form; and Collections with
//! their extent taken from the archive.

use std::path::Path;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Map, Value, json};

use crate::store::Indexed;
use cleope_eo::archive::ProductRecord;
use cleope_eo::ens::name_stem;

pub const STAC_VERSION: &str = "1.0.0";
const EO_EXTENSION: &str = "https://stac-extensions.github.io/eo/v1.1.0/schema.json";
const SAT_EXTENSION: &str = "https://stac-extensions.github.io/sat/v1.0.0/schema.json";
const FILE_EXTENSION: &str = "https://stac-extensions.github.io/file/v2.1.0/schema.json";
/// Copernicus's terms for Sentinel data (free, full and open, with attribution).
pub const LICENSE_URL: &str =
    "https://sentinels.copernicus.eu/documents/247904/690755/Sentinel_Data_Legal_Notice";

/// What an Item's links and hrefs point to.
pub struct Bases<'a> {
    /// `http://…/stac/v1`.
    pub stac: &'a str,
    /// `http://…/odata/v1` (downloads and `Nodes`).
    pub cdse: &'a str,
}

/// The Item of one product.
pub fn item(product: &Indexed, collection: &str, archive: &Path, bases: &Bases) -> Value {
    let record = &product.record;
    let id = name_stem(&record.name).to_string();
    let (geometry, bbox) = match &product.footprint {
        Some(area) => {
            let (w, s, e, n) = area.bbox().to_tuple();
            (
                serde_json::from_str(&area.to_polygon_json()).unwrap_or(Value::Null),
                json!([w, s, e, n]),
            )
        }
        None => (Value::Null, Value::Null),
    };
    let mut item = json!({
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [EO_EXTENSION, SAT_EXTENSION, FILE_EXTENSION],
        "id": id,
        "collection": collection,
        "geometry": geometry,
        "properties": properties(product),
        "links": [
            link("self", format!("{}/collections/{collection}/items/{id}", bases.stac), "application/geo+json"),
            link("parent", format!("{}/collections/{collection}", bases.stac), "application/json"),
            link("collection", format!("{}/collections/{collection}", bases.stac), "application/json"),
            link("root", format!("{}/", bases.stac), "application/json"),
        ],
        "assets": assets(record, archive, bases.cdse),
    });
    if !bbox.is_null() {
        item["bbox"] = bbox;
    }
    item
}

/// A link object.
pub fn link(rel: &str, href: String, kind: &str) -> Value {
    json!({"rel": rel, "href": href, "type": kind})
}

fn instant(time: Option<DateTime<Utc>>) -> Value {
    time.map(|t| Value::from(t.to_rfc3339_opts(SecondsFormat::Millis, true)))
        .unwrap_or(Value::Null)
}

fn properties(product: &Indexed) -> Map<String, Value> {
    let record = &product.record;
    let mut properties = Map::new();
    properties.insert("datetime".into(), instant(product.begin));
    properties.insert("start_datetime".into(), instant(product.begin));
    properties.insert(
        "end_datetime".into(),
        instant(product.end.or(product.begin)),
    );
    if let Some((platform, constellation)) = platform(&record.name) {
        properties.insert("platform".into(), platform.into());
        properties.insert("constellation".into(), constellation.into());
    }
    properties.insert("product:type".into(), record.product_type.clone().into());
    let attribute = |name: &str| record.attributes.get(name).filter(|v| !v.is_null());
    if let Some(cloud) = attribute("cloudCover").and_then(Value::as_f64) {
        properties.insert("eo:cloud_cover".into(), cloud.into());
    }
    if let Some(tile) = attribute("tileId").and_then(Value::as_str) {
        properties.insert("s2:mgrs_tile".into(), tile.trim_start_matches('T').into());
    }
    if let Some(orbit) = attribute("relativeOrbitNumber").and_then(Value::as_i64) {
        properties.insert("sat:relative_orbit".into(), orbit.into());
    }
    if let Some(direction) = attribute("orbitDirection").and_then(Value::as_str) {
        properties.insert(
            "sat:orbit_state".into(),
            direction.to_ascii_lowercase().into(),
        );
    }
    properties
}

/// `("sentinel-2a", "sentinel-2")` from a Sentinel product name (`S2A_…`).
pub fn platform(name: &str) -> Option<(String, String)> {
    let prefix = name.split('_').next()?;
    let rest = prefix.strip_prefix('S')?;
    let (number, unit) = match rest {
        "5P" => ("5p", ""),
        _ if rest.len() == 2 => rest.split_at(1),
        _ => return None,
    };
    let constellation = format!("sentinel-{}", number.to_ascii_lowercase());
    let platform = if unit.is_empty() {
        constellation.clone()
    } else {
        format!("{constellation}{}", unit.to_ascii_lowercase())
    };
    Some((platform, constellation))
}

fn assets(record: &ProductRecord, archive: &Path, cdse: &str) -> Map<String, Value> {
    let mut assets = Map::new();
    let media = if record.packing == cleope_eo::download::Packing::Zip {
        "application/zip"
    } else if record.name.ends_with(".nc") {
        "application/x-netcdf"
    } else {
        "application/octet-stream"
    };
    assets.insert(
        "product".into(),
        json!({
            "href": format!("{cdse}/Products({})/$value", record.id),
            "type": media,
            "title": "the whole product",
            "file:size": record.size,
            "roles": ["data"],
        }),
    );
    for file in measurement_files(record, archive) {
        let Some(kind) = media_type(&file) else {
            continue;
        };
        let nodes: String = std::iter::once(record.cdse_name.as_str())
            .chain(file.split('/'))
            .map(|part| format!("/Nodes({part})"))
            .collect();
        let mut asset = json!({
            "href": format!("{cdse}/Products({}){nodes}/$value", record.id),
            "type": kind,
            "title": file,
            "roles": ["data"],
        });
        let stem = file.rsplit('/').next().unwrap_or(&file);
        let stem = stem.rsplit_once('.').map_or(stem, |(s, _)| s);
        if let Some(band) = sentinel2_band(stem) {
            asset["eo:bands"] = json!([band]);
        }
        let key = unique_key(&assets, asset_key(stem));
        assets.insert(key, asset);
    }
    assets
}

/// The measurement files of an unpacked SAFE/SEN3 product, relative to its
/// top folder, sorted; none for single-file products and missing folders.
fn measurement_files(record: &ProductRecord, archive: &Path) -> Vec<String> {
    let top = [record.ens_relative(), record.offline_relative()]
        .into_iter()
        .map(|place| archive.join(place).join(&record.cdse_name))
        .find(|folder| folder.is_dir());
    let Some(top) = top else {
        return Vec::new();
    };
    let mut files: Vec<String> = walkdir::WalkDir::new(&top)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_file())
        .filter_map(|entry| {
            let relative = entry.path().strip_prefix(&top).ok()?;
            Some(relative.to_string_lossy().replace('\\', "/"))
        })
        .filter(|file| {
            media_type(file).is_some() && !file.contains("QI_DATA") && !file.contains("AUX")
        })
        .collect();
    files.sort();
    files
}

/// The media type of a measurement file; None for metadata and the rest.
fn media_type(file: &str) -> Option<&'static str> {
    let lower = file.to_ascii_lowercase();
    if lower.ends_with(".jp2") {
        Some("image/jp2")
    } else if lower.ends_with(".tif") || lower.ends_with(".tiff") {
        Some(if lower.contains("cog") {
            "image/tiff; application=geotiff; profile=cloud-optimized"
        } else {
            "image/tiff; application=geotiff"
        })
    } else if lower.ends_with(".nc") {
        Some("application/x-netcdf")
    } else {
        None
    }
}

/// The asset key of a file: a Sentinel-2 band file by its band and
/// resolution (`B04_10m`), anything else by its name without extension.
fn asset_key(stem: &str) -> String {
    let parts: Vec<&str> = stem.split('_').collect();
    if let Some(at) = parts.iter().position(|p| sentinel2_band_row(p).is_some()) {
        return parts[at..].join("_");
    }
    // `s1a-iw-grd-vv-…-001`: Sentinel-1 measurements by polarisation, as
    // CDSE and Earth Search key them.
    if let [mission, _, kind, polarisation, ..] = stem.split('-').collect::<Vec<_>>()[..]
        && mission.starts_with("s1")
        && kind.starts_with("grd")
    {
        return polarisation.to_string();
    }
    // `T30SVG_20200722T105631_AOT_10m`: the tile and time are the item's.
    let tile = |p: &str| p.len() == 6 && p.starts_with('T');
    let time = |p: &str| p.len() == 15 && p.as_bytes()[8] == b'T';
    match parts.as_slice() {
        [first, second, rest @ ..] if !rest.is_empty() && tile(first) && time(second) => {
            rest.join("_")
        }
        _ => stem.to_string(),
    }
}

fn unique_key(assets: &Map<String, Value>, key: String) -> String {
    if !assets.contains_key(&key) {
        return key;
    }
    (2..)
        .map(|n| format!("{key}-{n}"))
        .find(|k| !assets.contains_key(k))
        .unwrap_or(key)
}

/// Sentinel-2 MSI bands: name, common name, centre wavelength (µm).
const SENTINEL2_BANDS: &[(&str, &str, f64)] = &[
    ("B01", "coastal", 0.443),
    ("B02", "blue", 0.490),
    ("B03", "green", 0.560),
    ("B04", "red", 0.665),
    ("B05", "rededge", 0.704),
    ("B06", "rededge", 0.740),
    ("B07", "rededge", 0.783),
    ("B08", "nir", 0.842),
    ("B8A", "nir08", 0.865),
    ("B09", "nir09", 0.945),
    ("B10", "cirrus", 1.375),
    ("B11", "swir16", 1.610),
    ("B12", "swir22", 2.190),
];

fn sentinel2_band_row(part: &str) -> Option<&'static (&'static str, &'static str, f64)> {
    SENTINEL2_BANDS.iter().find(|(name, _, _)| *name == part)
}

/// The `eo:bands` entry of a Sentinel-2 band file (`…_B04_10m`, `…_B04`).
fn sentinel2_band(stem: &str) -> Option<Value> {
    let (name, common, centre) = stem.split('_').find_map(sentinel2_band_row)?;
    Some(json!({"name": name, "common_name": common, "center_wavelength": centre}))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn platforms_and_keys_come_from_names() {
        assert_eq!(platform("S2A_MSIL2A_x.zip").unwrap().0, "sentinel-2a");
        assert_eq!(
            platform("S5P_OFFL_L2__NO2").unwrap(),
            ("sentinel-5p".into(), "sentinel-5p".into())
        );
        assert_eq!(platform("cams_gac"), None);
        assert_eq!(asset_key("T32TQM_20200811T100031_B04_10m"), "B04_10m");
        assert_eq!(asset_key("T30SVG_20200722T105631_AOT_10m"), "AOT_10m");
        assert_eq!(asset_key("s1a-iw-grd-vv-20200811t1-001"), "vv");
        assert_eq!(asset_key("chl_nn"), "chl_nn");
        assert_eq!(
            sentinel2_band("T32TQM_20200811T100031_B8A_20m").unwrap()["common_name"],
            "nir08"
        );
    }
}
