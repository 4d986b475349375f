//! A STAC Item read into the one [`CatalogueProduct`] the rest of cleope
//! uses, with its assets.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::collections::{COLLECTIONS, StacService, by_id};
use crate::geometry::Aoi;
use crate::odata::cdse::{cdse_product_name, collection_to_mission};
use crate::odata::response::{CatalogueProduct, ResponseError};
use crate::odata::wire::parse_instant;

/// One asset of an item: a file (or the whole product) by URL.
#[derive(Debug, Clone, PartialEq)]
pub struct Asset {
    /// The key in the item's `assets` (`product`, `B04_10m`, `red`).
    pub key: String,
    /// Where it is.
    pub href: String,
    /// Its media type (`image/tiff; application=geotiff; profile=cloud-optimized`).
    pub media_type: Option<String>,
    /// `data`, `thumbnail`, `overview`, `metadata`.
    pub roles: Vec<String>,
    /// A title, when the catalogue gives one.
    pub title: Option<String>,
    /// `eo:bands`: the spectral bands it holds.
    pub bands: Vec<Band>,
}

/// One spectral band (`eo:bands`).
#[derive(Debug, Clone, PartialEq)]
pub struct Band {
    /// `B04`.
    pub name: String,
    /// `red`.
    pub common_name: Option<String>,
    /// Centre wavelength in micrometres.
    pub center_wavelength: Option<f64>,
}

impl Asset {
    /// Whether the asset is a cloud-optimised GeoTIFF (read by ranges).
    pub fn is_cog(&self) -> bool {
        self.media_type
            .as_deref()
            .is_some_and(|t| t.contains("profile=cloud-optimized"))
    }
}

fn read_band(value: &Value) -> Option<Band> {
    Some(Band {
        name: value.get("name")?.as_str()?.to_string(),
        common_name: value
            .get("common_name")
            .and_then(Value::as_str)
            .map(str::to_string),
        center_wavelength: value.get("center_wavelength").and_then(Value::as_f64),
    })
}

/// The assets of an item, in key order.
pub fn read_assets(item: &Value) -> Vec<Asset> {
    let Some(assets) = item.get("assets").and_then(Value::as_object) else {
        return Vec::new();
    };
    assets
        .iter()
        .filter_map(|(key, asset)| {
            let text = |field: &str| asset.get(field).and_then(Value::as_str).map(str::to_string);
            Some(Asset {
                key: key.clone(),
                href: text("href")?,
                media_type: text("type"),
                roles: asset
                    .get("roles")
                    .and_then(Value::as_array)
                    .map(|roles| {
                        roles
                            .iter()
                            .filter_map(Value::as_str)
                            .map(str::to_string)
                            .collect()
                    })
                    .unwrap_or_default(),
                title: text("title"),
                bands: asset
                    .get("eo:bands")
                    .and_then(Value::as_array)
                    .map(|bands| bands.iter().filter_map(read_band).collect())
                    .unwrap_or_default(),
            })
        })
        .collect()
}

fn bad(item: &str, field: &'static str, value: &str, expected: &'static str) -> ResponseError {
    ResponseError {
        name: item.to_string(),
        field,
        value: value.to_string(),
        expected,
    }
}

/// The product of an item found at `service`.
pub fn to_product(item: &Value, service: StacService) -> Result<CatalogueProduct, ResponseError> {
    let id = item
        .get("id")
        .and_then(Value::as_str)
        .ok_or_else(|| bad("(an item)", "id", "", "a text"))?;
    let properties = item.get("properties").cloned().unwrap_or(Value::Null);
    let property = |name: &str| properties.get(name).filter(|v| !v.is_null());
    let time = |name: &str| -> Result<Option<DateTime<Utc>>, ResponseError> {
        match property(name).and_then(Value::as_str) {
            None => Ok(None),
            Some(text) => parse_instant(text)
                .map(Some)
                .ok_or_else(|| bad(id, "datetime", text, "an RFC 3339 instant")),
        }
    };
    let begin = time("start_datetime")?
        .or(time("datetime")?)
        .ok_or_else(|| bad(id, "datetime", "null", "an instant (or start_datetime)"))?;
    let end = time("end_datetime")?.unwrap_or(begin);
    let collection = item.get("collection").and_then(Value::as_str).unwrap_or("");
    let known = by_id(collection, service);
    let product_type = property("product:type")
        .or(property("s1:product_type"))
        .and_then(Value::as_str)
        .map(str::to_string)
        .or(known.map(|c| c.product_type.to_string()));
    let mission = known
        .map(|c| collection_to_mission(c.odata_collection))
        .or_else(|| mission_of_constellation(property("constellation")?.as_str()?));
    let geometry = item.get("geometry").filter(|g| !g.is_null());
    let footprint = geometry.and_then(|g| Aoi::from_geojson(&g.to_string()).ok());
    let assets = read_assets(item);
    let size = item
        .pointer("/assets/product/file:size")
        .and_then(Value::as_u64)
        .unwrap_or(0);
    Ok(CatalogueProduct {
        id: id.to_string(),
        name: cdse_product_name(id),
        mission,
        product_type,
        main_class: None,
        begin,
        end,
        footprint_wkt: footprint.as_ref().map(Aoi::to_wkt).unwrap_or_default(),
        footprint,
        size,
        // A STAC catalogue lists what it can serve (CDSE: online products only).
        online: true,
        pseudopath: None,
        s3_path: None,
        checksums: Vec::new(),
        attributes: attributes(&properties),
        assets,
    })
}

/// The OData-style attributes of an item's properties, so
/// `product.cloud_cover` and the tile and orbit read alike.
fn attributes(properties: &Value) -> Map<String, Value> {
    let mut attributes = Map::new();
    let pairs = [
        ("eo:cloud_cover", "cloudCover"),
        ("s2:mgrs_tile", "tileId"),
        ("mgrs:tile", "tileId"),
        ("sat:relative_orbit", "relativeOrbitNumber"),
        ("sat:orbit_state", "orbitDirection"),
        ("platform", "platformSerialIdentifier"),
    ];
    for (stac, odata) in pairs {
        if let Some(value) = properties.get(stac).filter(|v| !v.is_null()) {
            attributes.insert(odata.into(), value.clone());
        }
    }
    attributes
}

/// "Sentinel-2" for the constellation "sentinel-2".
fn mission_of_constellation(constellation: &str) -> Option<String> {
    COLLECTIONS
        .iter()
        .map(|c| collection_to_mission(c.odata_collection))
        .find(|mission| {
            let short = crate::odata::cdse::mission_to_collection(mission);
            short.eq_ignore_ascii_case(constellation)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_earth_search_item_becomes_a_product_with_its_assets() {
        let item = serde_json::json!({
            "type": "Feature", "id": "S2B_32TQM_20200811_0_L2A", "collection": "sentinel-2-l2a",
            "geometry": {"type": "Polygon", "coordinates": [[[12, 41], [13, 41], [13, 42], [12, 42], [12, 41]]]},
            "properties": {"datetime": "2020-08-11T10:00:31Z", "eo:cloud_cover": 3.5, "constellation": "sentinel-2"},
            "assets": {"red": {"href": "https://x/B04.tif", "type": "image/tiff; application=geotiff; profile=cloud-optimized",
                               "roles": ["data"], "eo:bands": [{"name": "B04", "common_name": "red", "center_wavelength": 0.665}]}}
        });
        let product = to_product(&item, StacService::EarthSearch).unwrap();
        assert_eq!(product.mission.as_deref(), Some("Sentinel-2"));
        assert_eq!(product.product_type.as_deref(), Some("S2MSI2A"));
        assert_eq!(product.cloud_cover(), Some(3.5));
        assert_eq!(product.end, product.begin);
        assert!(product.footprint.is_some());
        let red = &product.assets[0];
        assert!(red.is_cog());
        assert_eq!(red.bands[0].common_name.as_deref(), Some("red"));
    }
}
