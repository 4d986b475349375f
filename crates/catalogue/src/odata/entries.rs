//! The answers the catalogue writes, one entry per index record, in each
//! dialect's shape ([`OndaEntry`], [`CdseEntry`], as the client reads them:
//! the tests here read every entry back with `to_product`).

use chrono::SecondsFormat;
use serde_json::Value;

use cleope_eo::archive::ProductRecord;
use cleope_eo::download::Packing;
use cleope_eo::geometry::Aoi;
use cleope_eo::odata::response::{
    CdseAttribute, CdseChecksum, CdseContentDate, CdseEntry, OndaChecksum, OndaEntry,
};
use cleope_eo::odata::wire::{format_instant, parse_instant};

/// The entry the local catalogue serves for an index record; `online` is
/// the product's state now (a restored product is online).
pub fn onda_entry(record: &ProductRecord, online: bool) -> OndaEntry {
    let media = if record.packing == Packing::Zip {
        "application/zip"
    } else {
        "application/octet-stream"
    };
    OndaEntry {
        media_content_type: Some(media.into()),
        id: record.id.clone(),
        name: record.name.clone(),
        creation_date: Some(record.end.clone()),
        begin_position: record.begin.clone(),
        end_position: Some(record.end.clone()),
        offline: !online,
        size: record.size,
        pseudopath: pseudopath_list(record),
        footprint: record.footprint.clone(),
        quicklook: None,
        downloadable: Some(online),
        eviction_date: None,
        platform_name: record.mission.clone(),
        product_type: Some(record.product_type.clone()),
        product_main_class: record.main_class.clone(),
        cloud_cover_percentage: record.attributes.get("cloudCover").and_then(Value::as_f64),
        checksum: vec![
            OndaChecksum {
                algorithm: "MD5".into(),
                value: record.md5.clone(),
            },
            OndaChecksum {
                algorithm: "BLAKE3".into(),
                value: record.blake3.clone(),
            },
        ],
    }
}

/// ONDA listed several folders per product; the first is the ENS one. A
/// second, by collection and type, keeps clients honest about the commas.
fn pseudopath_list(record: &ProductRecord) -> String {
    let parts: Vec<&str> = record.pseudopath.split('/').collect();
    let date = parts.len() >= 3
        && parts[parts.len() - 3..]
            .iter()
            .all(|p| p.chars().all(|c| c.is_ascii_digit()));
    if !date {
        return record.pseudopath.clone();
    }
    format!(
        "{}, {}/{}/{}",
        record.pseudopath,
        record.collection,
        record.product_type,
        parts[parts.len() - 3..].join("/")
    )
}

/// The entry the local catalogue serves for an index record; `online` is
/// the product's state now, `with_attributes` follows `$expand=Attributes`.
pub fn cdse_entry(record: &ProductRecord, online: bool, with_attributes: bool) -> CdseEntry {
    let published = cdse_instant(&record.end);
    let footprint = Aoi::from_wkt(&record.footprint).ok();
    CdseEntry {
        media_content_type: Some("application/octet-stream".into()),
        id: record.id.clone(),
        name: record.cdse_name.clone(),
        content_type: Some("application/octet-stream".into()),
        content_length: record.size,
        origin_date: Some(published.clone()),
        publication_date: Some(published.clone()),
        modification_date: Some(published.clone()),
        online,
        eviction_date: Some("9999-12-31T23:59:59.999999Z".into()),
        s3_path: Some(record.s3_path.clone()),
        checksum: vec![
            CdseChecksum {
                value: record.md5.clone(),
                algorithm: "MD5".into(),
                checksum_date: Some(published.clone()),
            },
            CdseChecksum {
                value: record.blake3.clone(),
                algorithm: "BLAKE3".into(),
                checksum_date: Some(published),
            },
        ],
        content_date: CdseContentDate {
            start: cdse_instant(&record.begin),
            end: cdse_instant(&record.end),
        },
        footprint: Some(format!("geography'SRID=4326;{}'", record.footprint.trim())),
        geo_footprint: footprint.and_then(|aoi| serde_json::from_str(&aoi.to_polygon_json()).ok()),
        attributes: with_attributes.then(|| cdse_attributes(record)),
    }
}

/// CDSE writes instants with microseconds: `2020-08-08T01:03:11.024000Z`.
fn cdse_instant(text: &str) -> String {
    match parse_instant(text) {
        Some(instant) => instant.to_rfc3339_opts(SecondsFormat::Micros, true),
        None => text.to_string(),
    }
}

/// The record's attributes typed as CDSE types them, with the ones CDSE
/// always has (productType, platformShortName, sensing times) first.
fn cdse_attributes(record: &ProductRecord) -> Vec<CdseAttribute> {
    let mut attributes = vec![
        attribute("productType", Value::from(record.product_type.clone())),
        attribute("platformShortName", Value::from(record.collection.clone())),
    ];
    for (name, time) in [
        ("beginningDateTime", &record.begin),
        ("endingDateTime", &record.end),
    ] {
        if let Some(instant) = parse_instant(time) {
            attributes.push(CdseAttribute {
                odata_type: "#OData.CSC.DateTimeOffsetAttribute".into(),
                name: name.into(),
                value: Value::from(format_instant(instant)),
                value_type: "DateTimeOffset".into(),
            });
        }
    }
    for (name, value) in &record.attributes {
        if name == "productType" || name == "platformShortName" {
            continue;
        }
        attributes.push(attribute(name, value.clone()));
    }
    attributes
}

fn attribute(name: &str, value: Value) -> CdseAttribute {
    let kind = match &value {
        Value::Number(n) if n.is_i64() || n.is_u64() => "Integer",
        Value::Number(_) => "Double",
        _ => "String",
    };
    let value = match value {
        Value::Bool(flag) => Value::from(flag.to_string()),
        other => other,
    };
    CdseAttribute {
        odata_type: format!("#OData.CSC.{kind}Attribute"),
        name: name.to_string(),
        value,
        value_type: kind.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Map, json};

    fn record() -> ProductRecord {
        let mut attributes = Map::new();
        attributes.insert("cloudCover".into(), json!(12.5));
        attributes.insert("relativeOrbitNumber".into(), json!(22));
        attributes.insert("tileId".into(), json!("32TQM"));
        ProductRecord {
            id: "6b1f3c0e-0000-5000-8000-000000000000".into(),
            name: "S2A_MSIL2A_20200811T100031_N0214_R122_T32TQM_20200811T130012.zip".into(),
            cdse_name: "S2A_MSIL2A_20200811T100031_N0214_R122_T32TQM_20200811T130012.SAFE".into(),
            mission: Some("Sentinel-2".into()),
            collection: "SENTINEL-2".into(),
            product_type: "S2MSI2A".into(),
            main_class: None,
            begin: "2020-08-11T10:00:31.024Z".into(),
            end: "2020-08-11T10:00:31.024Z".into(),
            footprint: "POLYGON ((10 40, 11 40, 11 41, 10 41, 10 40))".into(),
            pseudopath: "OPTICAL/LEVEL-2A/2020/08/11".into(),
            s3_path: "/eodata/Sentinel-2/MSI/L2A/2020/08/11/S2A_MSIL2A_20200811T100031_N0214_R122_T32TQM_20200811T130012.SAFE".into(),
            online: false,
            packing: Packing::Zip,
            size: 1234,
            md5: "0123456789abcdef0123456789abcdef".into(),
            blake3: "ab".repeat(32),
            attributes,
        }
    }

    #[test]
    fn both_entries_of_a_record_describe_the_same_product() {
        let record = record();
        let onda = onda_entry(&record, true);
        let onda_json = serde_json::to_value(&onda).unwrap();
        assert_eq!(onda_json["offline"], json!(false));
        assert_eq!(
            onda_json["pseudopath"],
            json!("OPTICAL/LEVEL-2A/2020/08/11, SENTINEL-2/S2MSI2A/2020/08/11")
        );
        assert_eq!(onda_json["evictionDate"], Value::Null);
        let onda: OndaEntry = serde_json::from_value(onda_json).unwrap();
        let cdse = cdse_entry(&record, true, true);
        let cdse_json = serde_json::to_value(&cdse).unwrap();
        assert_eq!(
            cdse_json["ContentDate"]["Start"],
            json!("2020-08-11T10:00:31.024000Z")
        );
        assert_eq!(
            cdse_json["Footprint"],
            json!("geography'SRID=4326;POLYGON ((10 40, 11 40, 11 41, 10 41, 10 40))'")
        );
        assert_eq!(cdse_json["GeoFootprint"]["type"], json!("Polygon"));
        let cdse: CdseEntry = serde_json::from_value(cdse_json).unwrap();
        let from_onda = onda.to_product().unwrap();
        let from_cdse = cdse.to_product().unwrap();
        for product in [&from_onda, &from_cdse] {
            assert_eq!(product.id, record.id);
            assert_eq!(product.mission.as_deref(), Some("Sentinel-2"));
            assert_eq!(product.product_type.as_deref(), Some("S2MSI2A"));
            assert_eq!(product.size, 1234);
            assert!(product.online);
            assert_eq!(product.checksum("MD5"), Some(record.md5.as_str()));
            assert_eq!(product.checksum("BLAKE3"), Some(record.blake3.as_str()));
            assert_eq!(product.cloud_cover(), Some(12.5));
            assert_eq!(product.begin, parse_instant(&record.begin).unwrap());
            assert_eq!(product.footprint, Aoi::from_wkt(&record.footprint).ok());
        }
        assert_eq!(from_onda.name, record.name);
        assert_eq!(from_cdse.name, record.cdse_name);
        assert_eq!(
            from_onda.pseudopath.as_deref(),
            Some("OPTICAL/LEVEL-2A/2020/08/11")
        );
        assert_eq!(from_cdse.s3_path.as_deref(), Some(record.s3_path.as_str()));
        assert_eq!(from_cdse.attributes["tileId"], json!("32TQM"));
        assert_eq!(from_cdse.attributes["relativeOrbitNumber"], json!(22));
        let without = cdse_entry(&record, false, false);
        assert!(
            serde_json::to_value(&without)
                .unwrap()
                .get("Attributes")
                .is_none()
        );
    }

    #[test]
    fn service_products_map_to_their_main_class() {
        let mut record = record();
        record.mission = None;
        record.collection = "CAMS".into();
        record.main_class = Some("Copernicus-atmosphere".into());
        record.name = "z_cams_c_ecmf_20200101000000_prod_an_sfc_000_tcno2.nc".into();
        record.cdse_name = record.name.clone();
        let product = cdse_entry(&record, true, true).to_product().unwrap();
        assert_eq!(product.mission, None);
        assert_eq!(product.main_class.as_deref(), Some("Copernicus-atmosphere"));
        let product = onda_entry(&record, true).to_product().unwrap();
        assert_eq!(product.main_class.as_deref(), Some("Copernicus-atmosphere"));
        assert_eq!(product.mission, None);
    }
}
