//! `cleope catalogue index DIR`: the `index.json` of a folder or mount of
//! real products, so that the catalogue can serve them and `ens_open`
//! can open them by name. Each product describes itself
//! ([`cleope_eo::products::metadata`]); where it lies gives its ONDA
//! pseudopath or its CDSE S3Path, depending on the archive's layout.
//!
//! Re-running is incremental: a product whose name and size are unchanged
//! keeps its record (and the checksums computed before); products that
//! are gone leave the index. The index is written to a temporary file and
//! renamed into place, so a reader never sees half of it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use cleope_eo::archive::{ArchiveError, ArchiveIndex, INDEX_VERSION, ProductRecord, checksums};
use cleope_eo::download::Packing;
use cleope_eo::ens::{EnsProduct, Layout};
use cleope_eo::products::metadata::{self, Described};

/// How to index.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndexOptions {
    /// How the folder arranges its products.
    pub layout: Layout,
    /// Compute each single-file product's MD5 and BLAKE3 now (reads every
    /// byte); otherwise they are left empty and downloads go unchecked.
    pub checksums: bool,
}

/// What an indexing run did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct IndexReport {
    /// Products described for the first time (or again, having changed).
    pub added: usize,
    /// Products whose record was kept from the previous index.
    pub kept: usize,
    /// Records dropped because their product is gone.
    pub removed: usize,
    /// Candidates that could not be described, with why.
    pub skipped: Vec<(PathBuf, String)>,
}

/// Indexes the products under `root` and writes `root/index.json`.
pub fn index_archive(root: &Path, options: IndexOptions) -> Result<IndexReport, ArchiveError> {
    let previous: HashMap<String, ProductRecord> = ArchiveIndex::load(root)
        .map(|index| {
            index
                .products
                .into_iter()
                .map(|r| (r.name.clone(), r))
                .collect()
        })
        .unwrap_or_default();
    let mut report = IndexReport::default();
    let mut products = Vec::new();
    for path in candidates(root)? {
        let size = size_of(&path).map_err(|e| ArchiveError::io(&path, e))?;
        let name = onda_name(&path, options.layout);
        match previous.get(&name) {
            Some(record) if record.size == size => {
                products.push(record.clone());
                report.kept += 1;
            }
            _ => match record_of(root, &path, size, options) {
                Ok(record) => {
                    products.push(record);
                    report.added += 1;
                }
                Err(why) => report.skipped.push((path, why)),
            },
        }
    }
    report.removed = previous.len().saturating_sub(report.kept);
    products.sort_by(|a, b| a.begin.cmp(&b.begin).then(a.name.cmp(&b.name)));
    write_index(
        root,
        &ArchiveIndex {
            version: INDEX_VERSION,
            products,
        },
    )?;
    Ok(report)
}

/// The products under `root`: SAFE and SEN3 folders, zips (and ENS's
/// folders named like zips), and netCDF, GRIB and GeoTIFF files. Hidden
/// entries (`.offline`, `.packed`, `.git`) and the index itself are not
/// looked into.
fn candidates(root: &Path) -> Result<Vec<PathBuf>, ArchiveError> {
    let mut found = Vec::new();
    // Mounts are often put together with symbolic links (a folder per
    // mission linking to a bucket); a link back up the tree is skipped.
    let mut walker = walkdir::WalkDir::new(root)
        .min_depth(1)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter();
    while let Some(entry) = walker.next() {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) if error.loop_ancestor().is_some() => continue,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                return Err(ArchiveError::io(
                    &path,
                    std::io::Error::other(error.to_string()),
                ));
            }
        };
        let name = entry.file_name().to_string_lossy().to_ascii_lowercase();
        if name.starts_with('.') {
            if entry.file_type().is_dir() {
                walker.skip_current_dir();
            }
            continue;
        }
        let product_folder = [".safe", ".sen3", ".zip"].iter().any(|e| name.ends_with(e));
        if entry.file_type().is_dir() {
            if product_folder {
                found.push(entry.path().to_path_buf());
                walker.skip_current_dir();
            }
            continue;
        }
        let product_file = [".zip", ".nc", ".tif", ".tiff", ".grib", ".grib2", ".grb"]
            .iter()
            .any(|e| name.ends_with(e));
        if product_file && name != "index.json" {
            found.push(entry.path().to_path_buf());
        }
    }
    Ok(found)
}

/// Bytes of a file, or of every file in a folder.
fn size_of(path: &Path) -> std::io::Result<u64> {
    if path.is_file() {
        return Ok(std::fs::metadata(path)?.len());
    }
    let mut total = 0;
    for entry in walkdir::WalkDir::new(path).follow_links(true) {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() {
            total += entry.metadata().map_err(std::io::Error::other)?.len();
        }
    }
    Ok(total)
}

/// The ONDA name of the product at `path`: zip products keep `.zip` (as
/// ENS shows them), a CDSE `.SAFE`/`.SEN3` folder is named as its zip.
fn onda_name(path: &Path, layout: Layout) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    match layout {
        Layout::Cdse if path.is_dir() => format!("{}.zip", cleope_eo::ens::name_stem(&name)),
        _ => name,
    }
}

fn record_of(
    root: &Path,
    path: &Path,
    size: u64,
    options: IndexOptions,
) -> Result<ProductRecord, String> {
    let product = EnsProduct::at(path).map_err(|e| e.to_string())?;
    let described = metadata::describe(&product).map_err(|e| e.problem)?;
    let name = onda_name(path, options.layout);
    let relative = path
        .strip_prefix(root)
        .map_err(|_| "the product is not under the archive".to_string())?
        .to_string_lossy()
        .replace('\\', "/");
    let folder = relative
        .rsplit_once('/')
        .map_or("", |(folder, _)| folder)
        .to_string();
    let (pseudopath, s3_path) = match options.layout {
        Layout::Onda => (
            folder,
            format!("{}/{}", cdse_folder(&described), described.cdse_name),
        ),
        Layout::Cdse => (onda_folder(&described), format!("/eodata/{relative}")),
    };
    let packing = if path.is_file() && !name.to_ascii_lowercase().ends_with(".zip") {
        Packing::File
    } else {
        Packing::Zip
    };
    let (md5, blake3) = if options.checksums && path.is_file() {
        let (_, md5, blake3) = checksums(path).map_err(|e| e.to_string())?;
        (md5, blake3)
    } else {
        (String::new(), String::new())
    };
    let footprint = cleope_eo::geometry::Aoi::from_polygon(&described.footprint)
        .map_err(|e| format!("its footprint is not a polygon: {e}"))?
        .to_wkt();
    let time =
        |t: chrono::DateTime<chrono::Utc>| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    let mut attributes = described.attributes.clone();
    attributes.insert("productType".into(), described.product_type.clone().into());
    attributes.insert("beginningDateTime".into(), time(described.begin).into());
    attributes.insert("endingDateTime".into(), time(described.end).into());
    Ok(ProductRecord {
        id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
        cdse_name: described.cdse_name.clone(),
        mission: described.mission.clone(),
        collection: described.collection.clone(),
        product_type: described.product_type.clone(),
        main_class: described.main_class.clone(),
        begin: time(described.begin),
        end: time(described.end),
        footprint,
        pseudopath,
        s3_path,
        online: true,
        packing,
        size,
        md5,
        blake3,
        attributes,
        name,
    })
}

/// Where ONDA's ENS shows such a product (`OPTICAL/LEVEL-2A/2020/08/11`).
fn onda_folder(product: &Described) -> String {
    let day = product.begin.format("%Y/%m/%d");
    let kind = product.product_type.as_str();
    match product.collection.as_str() {
        "SENTINEL-1" => format!("RADAR/LEVEL-1/{day}"),
        "SENTINEL-2" => format!(
            "OPTICAL/LEVEL-{}/{day}",
            if kind.ends_with("1C") { "1C" } else { "2A" }
        ),
        "SENTINEL-3" => format!("OPTICAL/LEVEL-{}/{day}", kind.get(3..4).unwrap_or("1")),
        "SENTINEL-5P" => format!("ATMOSPHERIC/LEVEL-2/{day}"),
        _ => format!(
            "{}/{kind}/{day}",
            product.main_class.as_deref().unwrap_or("OTHER")
        ),
    }
}

/// The folder of CDSE's `/eodata` holding such a product.
fn cdse_folder(product: &Described) -> String {
    let day = product.begin.format("%Y/%m/%d");
    let kind = product.product_type.as_str();
    match product.collection.as_str() {
        "SENTINEL-1" => format!("/eodata/Sentinel-1/SAR/{kind}/{day}"),
        "SENTINEL-2" => format!(
            "/eodata/Sentinel-2/MSI/{}/{day}",
            kind.trim_start_matches("S2MSI")
                .replace("1C", "L1C")
                .replace("2A", "L2A")
        ),
        "SENTINEL-3" => {
            let instrument = match kind.get(..2) {
                Some("OL") => "OLCI",
                Some("SL") => "SLSTR",
                _ => "SYNERGY",
            };
            format!("/eodata/Sentinel-3/{instrument}/{kind}/{day}")
        }
        "SENTINEL-5P" => format!("/eodata/Sentinel-5P/TROPOMI/{kind}/{day}"),
        collection => format!("/eodata/{collection}/{kind}/{day}"),
    }
}

/// Writes `root/index.json` through a temporary file renamed into place.
fn write_index(root: &Path, index: &ArchiveIndex) -> Result<(), ArchiveError> {
    let path = root.join("index.json");
    let text = serde_json::to_string_pretty(index)
        .map_err(|e| ArchiveError::io(&path, std::io::Error::other(e)))?;
    let mut temporary =
        tempfile::NamedTempFile::new_in(root).map_err(|e| ArchiveError::io(root, e))?;
    std::io::Write::write_all(&mut temporary, text.as_bytes())
        .map_err(|e| ArchiveError::io(&path, e))?;
    temporary
        .persist(&path)
        .map_err(|e| ArchiveError::io(&path, e.error))?;
    Ok(())
}
