//! The JSON both catalogues answer with, and the one [`CatalogueProduct`]
//! the rest of cleope uses whichever dialect it came from.
//!
//! ONDA entries have lowercase fields (`id`, `name`, `pseudopath` as a
//! comma-separated list, `beginPosition`, `footprint` as WKT, `size`,
//! `offline`); CDSE entries are capitalised (`Id`, `Name`, `ContentLength`,
//! `Online`, `S3Path`, `Checksum`, `ContentDate`, `Footprint` as
//! `geography'SRID=4326;…'`, `GeoFootprint`, `Attributes`). The local
//! catalogue writes both from its index records
//! (`crates/catalogue/src/odata/entries.rs`, whose tests read them back
//! here), so what it serves is what these read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::cdse::{collection_to_main_class, collection_to_mission};
use super::wire::{parse_instant, strip_geography};
use crate::geometry::Aoi;
use crate::products::names;

/// One page of an ONDA search.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OndaResponse {
    /// `$metadata#Products`.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// The products of the page.
    #[serde(default)]
    pub value: Vec<OndaEntry>,
}

/// One checksum of an ONDA entry. Real ONDA entries carried none; the local
/// catalogue adds them so downloads in either dialect can be verified.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OndaChecksum {
    /// `MD5` or `BLAKE3`.
    pub algorithm: String,
    /// Lowercase hex.
    pub value: String,
}

/// One product as ONDA describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OndaEntry {
    /// `application/zip` or `application/octet-stream`.
    #[serde(
        rename = "@odata.mediaContentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub media_content_type: Option<String>,
    /// The product UUID.
    pub id: String,
    /// The name with its extension (`….zip`, `….nc`).
    pub name: String,
    /// When the catalogue published it.
    #[serde(default)]
    pub creation_date: Option<String>,
    /// Sensing start (`2020-08-13T01:03:09.024Z`).
    pub begin_position: String,
    /// Sensing end; not in ONDA's default answer (the local catalogue adds it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_position: Option<String>,
    /// Archived: must be ordered (`Ens.Order`) before download.
    pub offline: bool,
    /// Bytes of the download.
    pub size: u64,
    /// ENS folders, comma-separated; the first is the one CLEOPE used.
    pub pseudopath: String,
    /// WKT `POLYGON ((lon lat, …))` or `MULTIPOLYGON (((…)))`.
    pub footprint: String,
    /// A base64 JPEG preview (real ONDA only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quicklook: Option<String>,
    /// Whether the user may download it now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub downloadable: Option<bool>,
    /// When an online product goes back to the archive.
    #[serde(default)]
    pub eviction_date: Option<String>,
    /// Platform name (search field; the local catalogue includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform_name: Option<String>,
    /// Product type (search field; the local catalogue includes it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_type: Option<String>,
    /// Main class of Copernicus-service products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub product_main_class: Option<String>,
    /// Cloud cover in percent, optical products.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_cover_percentage: Option<f64>,
    /// MD5 and BLAKE3 of the download (the local catalogue's addition).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub checksum: Vec<OndaChecksum>,
}

/// One page of a CDSE search, or (without `value`) nothing else.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CdseResponse {
    /// `$metadata#Products(Attributes())`.
    #[serde(
        rename = "@odata.context",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub context: Option<String>,
    /// How many products match in all, with `$count=true`.
    #[serde(
        rename = "@odata.count",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub count: Option<u64>,
    /// The products of the page.
    #[serde(default)]
    pub value: Vec<CdseEntry>,
    /// The next page's URL when more remain (and `$skip` may go there).
    #[serde(
        rename = "@odata.nextLink",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub next_link: Option<String>,
}

/// One checksum of a CDSE product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdseChecksum {
    /// Lowercase hex.
    pub value: String,
    /// `MD5` or `BLAKE3`.
    pub algorithm: String,
    /// When it was computed.
    #[serde(default)]
    pub checksum_date: Option<String>,
}

/// Sensing start and end of a CDSE product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdseContentDate {
    /// `2020-08-08T01:03:11.024000Z`.
    pub start: String,
    /// Sensing end.
    pub end: String,
}

/// One attribute of a CDSE product (`$expand=Attributes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdseAttribute {
    /// `#OData.CSC.DoubleAttribute`, `…StringAttribute`, `…IntegerAttribute`, `…DateTimeOffsetAttribute`.
    #[serde(rename = "@odata.type", default)]
    pub odata_type: String,
    /// `cloudCover`, `productType`, …
    pub name: String,
    /// The value.
    pub value: Value,
    /// `Double`, `String`, `Integer`, `DateTimeOffset`.
    #[serde(default)]
    pub value_type: String,
}

/// One product as CDSE describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CdseEntry {
    /// `application/octet-stream`.
    #[serde(
        rename = "@odata.mediaContentType",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub media_content_type: Option<String>,
    /// The product UUID.
    pub id: String,
    /// `….SAFE`, `….SEN3`, `….nc`.
    pub name: String,
    /// Media type of the download.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes of the download.
    #[serde(default)]
    pub content_length: u64,
    /// When the product was made.
    #[serde(default)]
    pub origin_date: Option<String>,
    /// When the catalogue published it.
    #[serde(default)]
    pub publication_date: Option<String>,
    /// When the entry last changed.
    #[serde(default)]
    pub modification_date: Option<String>,
    /// Downloadable now.
    #[serde(default = "yes")]
    pub online: bool,
    /// When it leaves the online store.
    #[serde(default)]
    pub eviction_date: Option<String>,
    /// The path in the `/eodata` object store.
    #[serde(rename = "S3Path", default)]
    pub s3_path: Option<String>,
    /// MD5 and BLAKE3 (may be empty for old products).
    #[serde(default)]
    pub checksum: Vec<CdseChecksum>,
    /// Sensing start and end.
    pub content_date: CdseContentDate,
    /// `geography'SRID=4326;POLYGON ((…))'`.
    #[serde(default)]
    pub footprint: Option<String>,
    /// The footprint as a GeoJSON geometry.
    #[serde(default)]
    pub geo_footprint: Option<Value>,
    /// The attributes, with `$expand=Attributes`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Vec<CdseAttribute>>,
}

fn yes() -> bool {
    true
}

/// One checksum of a product.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checksum {
    /// `MD5` or `BLAKE3` (upper case).
    pub algorithm: String,
    /// Lowercase hex.
    pub value: String,
}

/// A catalogue product, whichever dialect described it.
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogueProduct {
    /// The product UUID (for `Products(<id>)/$value` and orders).
    pub id: String,
    /// The name in the catalogue's dialect: ONDA `….zip` / `….nc`, CDSE
    /// `….SAFE` / `….SEN3` / `….nc`.
    pub name: String,
    /// ONDA platform name ("Sentinel-2", "Sentinel-5 Precursor"); None for
    /// Copernicus services and unknown names.
    pub mission: Option<String>,
    /// Product type ("S2MSI2A", "IW_GRDH_1S" or "GRD", "L2__NO2___").
    pub product_type: Option<String>,
    /// Copernicus-service class ("Copernicus-atmosphere", …).
    pub main_class: Option<String>,
    /// Sensing start.
    pub begin: DateTime<Utc>,
    /// Sensing end (the start when the catalogue gives none).
    pub end: DateTime<Utc>,
    /// The footprint; None when the catalogue's WKT is not a valid area.
    pub footprint: Option<Aoi>,
    /// The footprint as the catalogue wrote it (WKT, CDSE's `geography'…'` removed).
    pub footprint_wkt: String,
    /// Bytes of the download.
    pub size: u64,
    /// Downloadable now; false: order it first.
    pub online: bool,
    /// ONDA pseudopath, first entry (`OPTICAL/LEVEL-2A/2020/08/11`).
    pub pseudopath: Option<String>,
    /// CDSE S3Path (`/eodata/Sentinel-2/MSI/L2A/2020/08/11/<name>.SAFE`).
    pub s3_path: Option<String>,
    /// MD5 / BLAKE3 of the download, when the catalogue gives them.
    pub checksums: Vec<Checksum>,
    /// Attributes by name (`cloudCover`, `tileId`, …).
    pub attributes: Map<String, Value>,
    /// The files a STAC catalogue offers (none from OData catalogues).
    pub assets: Vec<crate::stac::Asset>,
}

impl CatalogueProduct {
    /// The checksum by algorithm name (any case), e.g. `"MD5"`.
    pub fn checksum(&self, algorithm: &str) -> Option<&str> {
        self.checksums
            .iter()
            .find(|c| c.algorithm.eq_ignore_ascii_case(algorithm))
            .map(|c| c.value.as_str())
    }

    /// Cloud cover in percent, when known.
    pub fn cloud_cover(&self) -> Option<f64> {
        self.attributes.get("cloudCover").and_then(Value::as_f64)
    }
}

/// A catalogue entry cleope cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the catalogue's entry for {name} has {field} = '{value}', which is not {expected}")]
pub struct ResponseError {
    /// The product.
    pub name: String,
    /// The field.
    pub field: &'static str,
    /// What it holds.
    pub value: String,
    /// What it should hold.
    pub expected: &'static str,
}

fn instant_field(
    name: &str,
    field: &'static str,
    text: &str,
) -> Result<DateTime<Utc>, ResponseError> {
    parse_instant(text).ok_or_else(|| ResponseError {
        name: name.to_string(),
        field,
        value: text.to_string(),
        expected: "an RFC 3339 instant like 2020-08-13T01:03:09.024Z",
    })
}

/// Mission and type from a Sentinel product name, for entries that lack them.
fn from_name(name: &str) -> (Option<String>, Option<String>) {
    match names::parse(name) {
        Ok(parsed) => {
            let mission = match parsed.mission {
                "Sentinel-5P" => "Sentinel-5 Precursor".to_string(),
                other => other.to_string(),
            };
            (Some(mission), Some(parsed.product_type))
        }
        Err(_) => (None, None),
    }
}

impl OndaEntry {
    /// The product this entry describes.
    pub fn to_product(&self) -> Result<CatalogueProduct, ResponseError> {
        let begin = instant_field(&self.name, "beginPosition", &self.begin_position)?;
        let end = match &self.end_position {
            Some(text) => instant_field(&self.name, "endPosition", text)?,
            None => begin,
        };
        let (name_mission, name_type) = from_name(&self.name);
        let mut attributes = Map::new();
        if let Some(cloud) = self.cloud_cover_percentage {
            attributes.insert("cloudCover".into(), Value::from(cloud));
        }
        let pseudopath = self
            .pseudopath
            .split(',')
            .map(str::trim)
            .find(|p| !p.is_empty())
            .map(str::to_string);
        Ok(CatalogueProduct {
            id: self.id.clone(),
            name: self.name.clone(),
            mission: self.platform_name.clone().or(name_mission),
            product_type: self.product_type.clone().or(name_type),
            main_class: self.product_main_class.clone(),
            begin,
            end,
            footprint: Aoi::from_wkt(&self.footprint).ok(),
            footprint_wkt: self.footprint.clone(),
            size: self.size,
            online: !self.offline,
            pseudopath,
            s3_path: None,
            checksums: self
                .checksum
                .iter()
                .map(|c| Checksum {
                    algorithm: c.algorithm.to_ascii_uppercase(),
                    value: c.value.to_ascii_lowercase(),
                })
                .collect(),
            attributes,
            assets: Vec::new(),
        })
    }
}

impl CdseEntry {
    /// The product this entry describes.
    pub fn to_product(&self) -> Result<CatalogueProduct, ResponseError> {
        let begin = instant_field(&self.name, "ContentDate/Start", &self.content_date.start)?;
        let end = instant_field(&self.name, "ContentDate/End", &self.content_date.end)?;
        let attributes: Map<String, Value> = self
            .attributes
            .iter()
            .flatten()
            .map(|a| (a.name.clone(), a.value.clone()))
            .collect();
        let text = |key: &str| {
            attributes
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let (name_mission, name_type) = from_name(&self.name);
        let collection = text("platformShortName");
        let mission = collection
            .as_deref()
            .filter(|c| collection_to_main_class(c).is_none())
            .map(collection_to_mission)
            .or(name_mission);
        let main_class = collection
            .as_deref()
            .and_then(collection_to_main_class)
            .map(str::to_string);
        let footprint_wkt = self
            .footprint
            .as_deref()
            .map(|wkt| strip_geography(wkt).to_string())
            .unwrap_or_default();
        let footprint = self
            .footprint
            .as_deref()
            .and_then(|f| Aoi::from_wkt(f).ok())
            .or_else(|| {
                let geometry = self.geo_footprint.as_ref()?;
                Aoi::from_geojson(&geometry.to_string()).ok()
            });
        Ok(CatalogueProduct {
            id: self.id.clone(),
            name: self.name.clone(),
            mission,
            product_type: text("productType").or(name_type),
            main_class,
            begin,
            end,
            footprint,
            footprint_wkt,
            size: self.content_length,
            online: self.online,
            pseudopath: None,
            s3_path: self.s3_path.clone(),
            checksums: self
                .checksum
                .iter()
                .map(|c| Checksum {
                    algorithm: c.algorithm.to_ascii_uppercase(),
                    value: c.value.to_ascii_lowercase(),
                })
                .collect(),
            attributes,
            assets: Vec::new(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An ONDA entry in the shape of the real service's answer (eodag's
    /// recorded fixture, quicklook shortened).
    const ONDA: &str = r##"{
      "@odata.context": "$metadata#Products",
      "value": [{
        "@odata.mediaContentType": "application/zip",
        "id": "0224d6fb-975e-469d-ac23-1ec3d083cc50",
        "name": "S2B_MSIL1C_20200813T010309_N0209_R045_T55PBR_20200813T021947.zip",
        "creationDate": "2020-08-13T15:47:17.000Z",
        "beginPosition": "2020-08-13T01:03:09.024Z",
        "offline": true,
        "size": 177146680,
        "pseudopath": "OPTICAL/LEVEL-1C/2020/08/13, S2/2B/MSI/LEVEL-1C/S2MSI1C/2020/08/13",
        "footprint": "MULTIPOLYGON (((144.2 13.4, 145.1 13.4, 145.1 13.9, 144.2 13.9, 144.2 13.4)))",
        "quicklook": "/9j/4AAQ",
        "downloadable": false,
        "evictionDate": null
      }]
    }"##;

    /// A CDSE entry in the shape of the documented answer.
    const CDSE: &str = r##"{
      "@odata.context": "$metadata#Products(Attributes())",
      "@odata.count": 457588,
      "value": [{
        "@odata.mediaContentType": "application/octet-stream",
        "Id": "05edf2bb-d103-49f1-a677-9e474138d84f",
        "Name": "S2A_MSIL1C_20200808T010311_N0500_R045_T54PXA_20230413T212505.SAFE",
        "ContentType": "application/octet-stream", "ContentLength": 224105657,
        "OriginDate": "2023-04-13T23:05:34.443000Z", "PublicationDate": "2023-04-14T00:11:55.561537Z",
        "ModificationDate": "2023-04-14T00:12:03.125000Z",
        "Online": true, "EvictionDate": "9999-12-31T23:59:59.999999Z",
        "S3Path": "/eodata/Sentinel-2/MSI/L1C_N0500/2020/08/08/S2A_MSIL1C_20200808T010311_N0500_R045_T54PXA_20230413T212505.SAFE",
        "Checksum": [{"Value": "923AC499", "Algorithm": "MD5", "ChecksumDate": "2023-04-14T00:11:55.227463Z"},
                     {"Value": "2f787cae", "Algorithm": "BLAKE3", "ChecksumDate": "2023-04-14T00:11:55.766498Z"}],
        "ContentDate": {"Start": "2020-08-08T01:03:11.024000Z", "End": "2020-08-08T01:03:11.024000Z"},
        "Footprint": "geography'SRID=4326;POLYGON ((142.35 13.47, 143.36 13.47, 143.36 14.46, 142.35 14.46, 142.35 13.47))'",
        "GeoFootprint": {"type": "Polygon", "coordinates": [[[142.35, 13.47], [143.36, 13.47], [143.36, 14.46], [142.35, 14.46], [142.35, 13.47]]]},
        "Attributes": [{"@odata.type": "#OData.CSC.DoubleAttribute", "Name": "cloudCover", "Value": 95.13, "ValueType": "Double"},
                       {"@odata.type": "#OData.CSC.StringAttribute", "Name": "productType", "Value": "S2MSI1C", "ValueType": "String"},
                       {"@odata.type": "#OData.CSC.StringAttribute", "Name": "platformShortName", "Value": "SENTINEL-2", "ValueType": "String"}]
      }],
      "@odata.nextLink": "https://catalogue.dataspace.copernicus.eu/odata/v1/Products?%24skip=20"
    }"##;

    #[test]
    fn reads_an_onda_answer() {
        let page: OndaResponse = serde_json::from_str(ONDA).unwrap();
        let product = page.value[0].to_product().unwrap();
        assert_eq!(product.id, "0224d6fb-975e-469d-ac23-1ec3d083cc50");
        assert_eq!(product.mission.as_deref(), Some("Sentinel-2"));
        assert_eq!(product.product_type.as_deref(), Some("S2MSI1C"));
        assert_eq!(
            product.pseudopath.as_deref(),
            Some("OPTICAL/LEVEL-1C/2020/08/13")
        );
        assert!(!product.online);
        assert_eq!(product.size, 177146680);
        assert_eq!(product.begin, product.end);
        assert!(product.footprint.is_some());
        assert!(product.checksums.is_empty());
    }

    #[test]
    fn reads_a_cdse_answer() {
        let page: CdseResponse = serde_json::from_str(CDSE).unwrap();
        assert_eq!(page.count, Some(457588));
        assert!(page.next_link.as_deref().unwrap().ends_with("%24skip=20"));
        let product = page.value[0].to_product().unwrap();
        assert_eq!(product.mission.as_deref(), Some("Sentinel-2"));
        assert_eq!(product.product_type.as_deref(), Some("S2MSI1C"));
        assert_eq!(product.checksum("md5"), Some("923ac499"));
        assert_eq!(product.checksum("BLAKE3"), Some("2f787cae"));
        assert_eq!(product.cloud_cover(), Some(95.13));
        assert!(product.footprint_wkt.starts_with("POLYGON ((142.35"));
        assert!(product.footprint.is_some());
        assert!(product.s3_path.unwrap().starts_with("/eodata/Sentinel-2/"));
    }

    #[test]
    fn a_bad_date_is_reported_with_its_field() {
        let mut page: OndaResponse = serde_json::from_str(ONDA).unwrap();
        page.value[0].begin_position = "13/08/2020".into();
        let error = page.value[0].to_product().unwrap_err();
        assert_eq!(error.field, "beginPosition");
        assert!(error.to_string().contains("13/08/2020"), "{error}");
    }
}
