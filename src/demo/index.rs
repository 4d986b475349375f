//! `index.json`: the list of products an archive holds, as the local catalogue
//! server indexes it and ENS resolves it. Written by `cleope demo-archive`; any
//! archive with such an index (a real ENS subset included) can be served.

use std::path::Path;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{DemoError, Packing, ProductSpec};

/// The schema version written in `index.json`.
pub const INDEX_VERSION: u32 = 2;

/// The whole index.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ArchiveIndex {
    /// Schema version ([`INDEX_VERSION`]).
    pub version: u32,
    /// Every product, online or not.
    pub products: Vec<ProductRecord>,
}

/// One product of the archive.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProductRecord {
    /// Stable UUID (version 5 of the ONDA name), the OData `id` / `Id`.
    pub id: String,
    /// ONDA name with extension (`….zip`, `….nc`).
    pub name: String,
    /// CDSE name (`….SAFE`, `….SEN3`, `….nc`).
    pub cdse_name: String,
    /// ONDA platform name; None for Copernicus services.
    pub mission: Option<String>,
    /// CDSE collection name.
    pub collection: String,
    /// Product type.
    pub product_type: String,
    /// ONDA productMainClass (Copernicus services).
    pub main_class: Option<String>,
    /// Sensing start, RFC 3339 UTC with milliseconds.
    pub begin: String,
    /// Sensing end.
    pub end: String,
    /// Footprint as WKT `POLYGON ((lon lat, …))`, closed.
    pub footprint: String,
    /// ONDA pseudopath (first entry).
    pub pseudopath: String,
    /// CDSE S3Path (folder plus CDSE name).
    pub s3_path: String,
    /// Online now; false: archived until ordered.
    pub online: bool,
    /// "zip" (a folder in ENS, a zip to download) or "file".
    pub packing: Packing,
    /// Bytes of the download.
    pub size: u64,
    /// MD5 of the download, lowercase hex.
    pub md5: String,
    /// BLAKE3 of the download, lowercase hex.
    pub blake3: String,
    /// Catalogue attributes (cloudCover, tileId, orbitNumber, …).
    pub attributes: Map<String, Value>,
}

impl ProductRecord {
    /// Where ENS shows the product, relative to the archive root (online products).
    pub fn ens_relative(&self) -> String {
        format!("{}/{}", self.pseudopath, self.name)
    }

    /// Where an offline product waits, relative to the archive root.
    pub fn offline_relative(&self) -> String {
        format!(".offline/{}/{}", self.pseudopath, self.name)
    }

    /// The downloadable file, relative to the archive root.
    pub fn packed_relative(&self) -> String {
        format!(".packed/{}", self.name)
    }

    pub(super) fn from_spec(spec: ProductSpec, size: u64, md5: String, blake3: String) -> Self {
        let cdse_name = spec
            .cdse_name
            .clone()
            .unwrap_or_else(|| spec.name.trim_end_matches(".zip").to_string());
        ProductRecord {
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, spec.name.as_bytes()).to_string(),
            s3_path: format!("{}/{}", spec.s3_folder.trim_end_matches('/'), cdse_name),
            cdse_name,
            footprint: footprint_wkt(&spec.footprint),
            name: spec.name,
            mission: spec.mission,
            collection: spec.collection,
            product_type: spec.product_type,
            main_class: spec.main_class,
            begin: spec.begin,
            end: spec.end,
            pseudopath: spec.pseudopath,
            online: spec.online,
            packing: spec.packing,
            size,
            md5,
            blake3,
            attributes: spec.attributes,
        }
    }
}

impl ArchiveIndex {
    /// Reads `<root>/index.json`.
    pub fn load(root: &Path) -> Result<ArchiveIndex, DemoError> {
        let path = root.join("index.json");
        let text = std::fs::read_to_string(&path).map_err(|e| DemoError::io(&path, e))?;
        let index: ArchiveIndex = serde_json::from_str(&text).map_err(|e| {
            DemoError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            )
        })?;
        if index.version != INDEX_VERSION {
            return Err(DemoError::io(
                &path,
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!(
                        "index version {} (this cleope reads {INDEX_VERSION}): regenerate it with `cleope demo-archive`",
                        index.version
                    ),
                ),
            ));
        }
        Ok(index)
    }
}

/// A closed WKT polygon from a lon/lat ring; numbers printed in their shortest form.
fn footprint_wkt(ring: &[(f64, f64)]) -> String {
    let mut points: Vec<(f64, f64)> = ring.to_vec();
    if points.first() != points.last() {
        points.push(points[0]);
    }
    let coordinates: Vec<String> = points
        .iter()
        .map(|(lon, lat)| format!("{lon} {lat}"))
        .collect();
    format!("POLYGON (({}))", coordinates.join(", "))
}
