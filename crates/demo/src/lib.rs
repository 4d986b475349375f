//! `cleope demo-archive DIR`: a small, deterministic, synthetic product archive
//! in the real product formats and the ONDA ENS layout, with the truth of every
//! scene recorded so tests can check what the tutorials compute.
//!
//! Layout of an archive (see `README.md` in this folder for the index schema):
//!
//! | path | what |
//! | --- | --- |
//! | `<pseudopath>/<name>` | an online product as ENS shows it: zip products as a directory named like the zip, netCDF products as the file |
//! | `.offline/<pseudopath>/<name>` | an archived (offline) product, moved into place when it is ordered |
//! | `.packed/<name>` | what `$value` downloads: the zip (or the netCDF file) |
//! | `index.json` | one record per product: the catalogue's source |
//! | `truth.json` | the numbers each scene was built to show |
//!
//! Each mission family writes its products through [`ArchiveBuilder`]:
//! `staging(&spec)` gives the folder (or file) to write into, `finish(spec)`
//! packs, checksums and records it.

mod index;
mod install;
mod landscape;
pub mod sentinel1;
pub mod sentinel2;
pub mod sentinel3;
pub mod sentinel5p;
pub mod services;

use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use cleope_eo::archive::checksums;
pub use cleope_eo::archive::{ArchiveIndex, ProductRecord};
pub use install::{GENERATION, default_dir, ensure, ensure_with};

/// Options of one generation run.
#[derive(Debug, Clone, Default)]
pub struct DemoOptions {
    /// Also write one real-size 10980 x 10980 Sentinel-2 tile (for benchmarks).
    pub full_size_tile: bool,
}

/// A failure while writing the archive.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A product could not be generated.
    #[error("cannot generate {product}: {what}")]
    Product {
        /// The product name.
        product: String,
        /// Why.
        what: String,
    },
}

impl From<cleope_eo::archive::ArchiveError> for DemoError {
    fn from(error: cleope_eo::archive::ArchiveError) -> DemoError {
        DemoError::io(&error.path, error.source)
    }
}

impl DemoError {
    /// An I/O failure on `path`.
    pub fn io(path: &Path, source: std::io::Error) -> DemoError {
        DemoError::Io {
            path: path.to_path_buf(),
            source,
        }
    }

    /// A generation failure of `product`.
    pub fn product(product: &str, what: impl std::fmt::Display) -> DemoError {
        DemoError::Product {
            product: product.to_string(),
            what: what.to_string(),
        }
    }
}

pub use cleope_eo::download::Packing;

/// What a generator tells the builder about one product.
#[derive(Debug, Clone)]
pub struct ProductSpec {
    /// The ONDA name, with its extension (`….zip`, `….nc`).
    pub name: String,
    /// The CDSE name (`….SAFE`, `….SEN3`, `….nc`); the ONDA name without `.zip` when None.
    pub cdse_name: Option<String>,
    /// ONDA platform name ("Sentinel-1", …, "Sentinel-5 Precursor"); None for services.
    pub mission: Option<String>,
    /// CDSE collection ("SENTINEL-1", …, "SENTINEL-5P", "CAMS", "CMEMS", "CLMS").
    pub collection: String,
    /// Product type ("GRD" is stored as the full "IW_GRDH_1S", "S2MSI2A", …).
    pub product_type: String,
    /// ONDA productMainClass for Copernicus services ("Copernicus-atmosphere", …).
    pub main_class: Option<String>,
    /// Sensing start and end, RFC 3339 UTC.
    pub begin: String,
    /// Sensing end.
    pub end: String,
    /// Footprint ring, lon/lat, closed or not (it is closed on recording).
    pub footprint: Vec<(f64, f64)>,
    /// ONDA pseudopath (first entry), e.g. "OPTICAL/LEVEL-2A/2019/12/31".
    pub pseudopath: String,
    /// CDSE S3Path folder, e.g. "/eodata/Sentinel-2/MSI/L2A/2019/12/31" (the name is appended).
    pub s3_folder: String,
    /// Online now, or archived until ordered.
    pub online: bool,
    /// Packing.
    pub packing: Packing,
    /// Catalogue attributes (cloudCover, tileId, orbitNumber, …).
    pub attributes: Map<String, Value>,
}

/// Writes the whole demo archive at `root` and returns its index. Each mission
/// family adds its products in turn; the order does not change any product,
/// because every scene seeds its own random generator ([`scene_rng`]).
pub fn generate(root: &Path, options: DemoOptions) -> Result<ArchiveIndex, DemoError> {
    let mut builder = ArchiveBuilder::new(root, options)?;
    sentinel1::write(&mut builder)?;
    sentinel2::write(&mut builder)?;
    sentinel3::write(&mut builder)?;
    sentinel5p::write(&mut builder)?;
    services::write(&mut builder)?;
    builder.write_index()
}

/// Writes products into an archive and records them.
pub struct ArchiveBuilder {
    root: PathBuf,
    options: DemoOptions,
    products: Vec<ProductRecord>,
    truth: Map<String, Value>,
}

impl ArchiveBuilder {
    /// Starts an archive at `root` (created if needed).
    pub fn new(root: &Path, options: DemoOptions) -> Result<ArchiveBuilder, DemoError> {
        // The products are written with GDAL, which the binary loads on demand.
        cleope_eo::gdal::library::ensure_loaded()
            .map_err(|e| DemoError::product("the archive", e))?;
        std::fs::create_dir_all(root).map_err(|e| DemoError::io(root, e))?;
        Ok(ArchiveBuilder {
            root: root.to_path_buf(),
            options,
            products: Vec::new(),
            truth: Map::new(),
        })
    }

    /// The archive root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The run's options.
    pub fn options(&self) -> &DemoOptions {
        &self.options
    }

    /// Where the generator writes the product's content: for [`Packing::Zip`]
    /// the folder `<pseudopath>/<name>/` (created, emptied first), for
    /// [`Packing::File`] the file path `<pseudopath>/<name>`. Offline products
    /// are staged in `.offline/` directly.
    pub fn staging(&self, spec: &ProductSpec) -> Result<PathBuf, DemoError> {
        let path = self.ens_location(spec);
        if path.exists() {
            remove_any(&path)?;
        }
        let folder = match spec.packing {
            Packing::Zip | Packing::TarGz => path.clone(),
            Packing::File => path.parent().unwrap().to_path_buf(),
        };
        std::fs::create_dir_all(&folder).map_err(|e| DemoError::io(&folder, e))?;
        Ok(path)
    }

    fn ens_location(&self, spec: &ProductSpec) -> PathBuf {
        let base = if spec.online {
            self.root.clone()
        } else {
            self.root.join(".offline")
        };
        base.join(&spec.pseudopath).join(&spec.name)
    }

    /// Packs the staged content into `.packed/<name>`, checksums it and records the product.
    pub fn finish(&mut self, spec: ProductSpec) -> Result<(), DemoError> {
        let staged = self.ens_location(&spec);
        let packed_dir = self.root.join(".packed");
        std::fs::create_dir_all(&packed_dir).map_err(|e| DemoError::io(&packed_dir, e))?;
        let packed = packed_dir.join(&spec.name);
        match spec.packing {
            Packing::Zip => zip_folder(&staged, &packed)?,
            Packing::TarGz => return Err(DemoError::product(&spec.name, "tar.gz is not packed")),
            Packing::File => {
                std::fs::copy(&staged, &packed).map_err(|e| DemoError::io(&packed, e))?;
            }
        }
        let (size, md5, blake3) = checksums(&packed)?;
        let record = index::record_of(spec, size, md5, blake3);
        self.products.retain(|p| p.name != record.name);
        self.products.push(record);
        Ok(())
    }

    /// Records a number (or any JSON value) a scene was built to show, under
    /// `topic.key` in truth.json, e.g. `("s2_fires", "burned_fraction", 0.23)`.
    pub fn truth(&mut self, topic: &str, key: &str, value: Value) {
        let entry = self
            .truth
            .entry(topic.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
        if let Value::Object(map) = entry {
            map.insert(key.to_string(), value);
        }
    }

    /// Writes index.json and truth.json (products sorted by sensing start, then name).
    pub fn write_index(mut self) -> Result<ArchiveIndex, DemoError> {
        self.products
            .sort_by(|a, b| a.begin.cmp(&b.begin).then(a.name.cmp(&b.name)));
        let index = ArchiveIndex {
            version: cleope_eo::archive::INDEX_VERSION,
            products: self.products,
        };
        write_json(
            &self.root.join("index.json"),
            &serde_json::to_value(&index).unwrap(),
        )?;
        write_json(&self.root.join("truth.json"), &Value::Object(self.truth))?;
        Ok(index)
    }
}

fn write_json(path: &Path, value: &Value) -> Result<(), DemoError> {
    let text = serde_json::to_string_pretty(value).unwrap();
    std::fs::write(path, text + "\n").map_err(|e| DemoError::io(path, e))
}

fn remove_any(path: &Path) -> Result<(), DemoError> {
    let result = if path.is_dir() {
        std::fs::remove_dir_all(path)
    } else {
        std::fs::remove_file(path)
    };
    result.map_err(|e| DemoError::io(path, e))
}

/// Zips a folder's content (members named from inside the folder, sorted, with
/// a fixed timestamp so the same content gives the same bytes).
fn zip_folder(folder: &Path, zip_path: &Path) -> Result<(), DemoError> {
    let file = std::fs::File::create(zip_path).map_err(|e| DemoError::io(zip_path, e))?;
    let mut zip = zip::ZipWriter::new(std::io::BufWriter::new(file));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Stored)
        .last_modified_time(zip::DateTime::default())
        .unix_permissions(0o644);
    let entries = walkdir::WalkDir::new(folder)
        .min_depth(1)
        .sort_by_file_name();
    for entry in entries {
        let entry = entry.map_err(|e| DemoError::io(folder, e.into()))?;
        let relative = entry.path().strip_prefix(folder).unwrap();
        let member = relative.to_string_lossy().replace('\\', "/");
        let zip_error = |e: zip::result::ZipError| DemoError::io(zip_path, e.into());
        if entry.file_type().is_dir() {
            zip.add_directory(format!("{member}/"), options)
                .map_err(zip_error)?;
        } else {
            zip.start_file(member, options).map_err(zip_error)?;
            let mut source =
                std::fs::File::open(entry.path()).map_err(|e| DemoError::io(entry.path(), e))?;
            std::io::copy(&mut source, &mut zip).map_err(|e| DemoError::io(zip_path, e))?;
        }
    }
    let mut writer = zip
        .finish()
        .map_err(|e| DemoError::io(zip_path, e.into()))?;
    writer.flush().map_err(|e| DemoError::io(zip_path, e))
}

/// A deterministic random generator for a named scene, so each product's
/// noise does not depend on which other products were generated before it.
pub fn scene_rng(scene: &str) -> rand::rngs::StdRng {
    use rand::SeedableRng;
    let seed = scene.bytes().fold(0xcbf2_9ce4_8422_2325u64, |hash, byte| {
        (hash ^ byte as u64).wrapping_mul(0x0100_0000_01b3)
    });
    rand::rngs::StdRng::seed_from_u64(seed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn spec(name: &str, online: bool, packing: Packing) -> ProductSpec {
        ProductSpec {
            name: name.into(),
            cdse_name: None,
            mission: Some("Sentinel-2".into()),
            collection: "SENTINEL-2".into(),
            product_type: "S2MSI2A".into(),
            main_class: None,
            begin: "2020-08-11T06:26:01.024Z".into(),
            end: "2020-08-11T06:26:01.024Z".into(),
            footprint: vec![(57.0, -21.0), (58.0, -21.0), (58.0, -20.0), (57.0, -20.0)],
            pseudopath: "OPTICAL/LEVEL-2A/2020/08/11".into(),
            s3_folder: "/eodata/Sentinel-2/MSI/L2A/2020/08/11".into(),
            online,
            packing,
            attributes: Map::new(),
        }
    }

    #[test]
    fn a_zip_product_is_a_folder_in_ens_and_a_zip_to_download_with_its_checksums() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let product = spec("S2A_TEST.zip", true, Packing::Zip);
        let folder = builder.staging(&product).unwrap();
        std::fs::create_dir_all(folder.join("S2A_TEST.SAFE")).unwrap();
        std::fs::write(folder.join("S2A_TEST.SAFE/MTD.xml"), "<x/>").unwrap();
        builder.finish(product).unwrap();
        let offline = spec("S2B_COLD.nc", false, Packing::File);
        let file = builder.staging(&offline).unwrap();
        std::fs::write(&file, "netcdf").unwrap();
        builder.finish(offline).unwrap();
        let index = builder.write_index().unwrap();

        assert!(
            dir.path()
                .join("OPTICAL/LEVEL-2A/2020/08/11/S2A_TEST.zip/S2A_TEST.SAFE/MTD.xml")
                .is_file()
        );
        assert!(
            dir.path()
                .join(".offline/OPTICAL/LEVEL-2A/2020/08/11/S2B_COLD.nc")
                .is_file()
        );
        let zip_path = dir.path().join(".packed/S2A_TEST.zip");
        let mut archive = zip::ZipArchive::new(std::fs::File::open(&zip_path).unwrap()).unwrap();
        let mut text = String::new();
        archive
            .by_name("S2A_TEST.SAFE/MTD.xml")
            .unwrap()
            .read_to_string(&mut text)
            .unwrap();
        assert_eq!(text, "<x/>");
        let record = &index.products[0];
        assert_eq!(record.size, std::fs::metadata(&zip_path).unwrap().len());
        assert_eq!(record.md5.len(), 32);
        assert_eq!(record.blake3.len(), 64);
        assert_eq!(
            record.footprint,
            "POLYGON ((57 -21, 58 -21, 58 -20, 57 -20, 57 -21))"
        );
        let read = ArchiveIndex::load(dir.path()).unwrap();
        assert_eq!(read.products.len(), 2);
        assert!(
            !read
                .products
                .iter()
                .find(|p| p.name == "S2B_COLD.nc")
                .unwrap()
                .online
        );
    }

    #[test]
    fn the_same_content_zips_to_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("in/a")).unwrap();
        std::fs::write(dir.path().join("in/a/b.txt"), "same").unwrap();
        zip_folder(&dir.path().join("in"), &dir.path().join("1.zip")).unwrap();
        zip_folder(&dir.path().join("in"), &dir.path().join("2.zip")).unwrap();
        let one = checksums(&dir.path().join("1.zip")).unwrap();
        let two = checksums(&dir.path().join("2.zip")).unwrap();
        assert_eq!(one, two);
    }
}
