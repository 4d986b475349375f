//! An archive's model: `index.json`, the list of products an archive holds
//! (as the local catalogue serves it and ENS resolves it), and the checksums
//! a download is checked against. `cleope demo-archive` writes one; any
//! archive with such an index (a real ENS subset included) can be served.

use std::io::Read;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::download::Packing;

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
}

impl ArchiveIndex {
    /// Reads `<root>/index.json`.
    pub fn load(root: &Path) -> Result<ArchiveIndex, ArchiveError> {
        let path = root.join("index.json");
        let text = std::fs::read_to_string(&path).map_err(|e| ArchiveError::io(&path, e))?;
        let index: ArchiveIndex = serde_json::from_str(&text).map_err(|e| {
            ArchiveError::io(
                &path,
                std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            )
        })?;
        if index.version != INDEX_VERSION {
            return Err(ArchiveError::io(
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

/// A file of the archive that could not be read.
#[derive(Debug, thiserror::Error)]
#[error("cannot read {path}: {source}")]
pub struct ArchiveError {
    /// The file.
    pub path: PathBuf,
    /// Why.
    pub source: std::io::Error,
}

impl ArchiveError {
    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> ArchiveError {
        ArchiveError {
            path: path.to_path_buf(),
            source,
        }
    }
}

/// Size, MD5 and BLAKE3 (hex) of a file, read once: what the index records
/// and a download is checked against.
pub fn checksums(path: &Path) -> Result<(u64, String, String), ArchiveError> {
    use md5::Digest;
    let mut file = std::fs::File::open(path).map_err(|e| ArchiveError::io(path, e))?;
    let mut md5 = md5::Md5::new();
    let mut blake3 = blake3::Hasher::new();
    let mut buffer = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let read = file
            .read(&mut buffer)
            .map_err(|e| ArchiveError::io(path, e))?;
        if read == 0 {
            break;
        }
        md5.update(&buffer[..read]);
        blake3.update(&buffer[..read]);
        size += read as u64;
    }
    Ok((
        size,
        data_encoding::HEXLOWER.encode(&md5.finalize()),
        blake3.finalize().to_hex().to_string(),
    ))
}
