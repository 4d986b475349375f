//! ENS, the mounted product archive: where a catalogue product lies on disk,
//! and a handle that lists and opens its files by glob.
//!
//! Two layouts are mounted the same way:
//!
//! | layout | path of a product | example |
//! | --- | --- | --- |
//! | ONDA | `<root>/<pseudopath>/<name>` | `/mnt/Copernicus/OPTICAL/LEVEL-2A/2020/08/11/S2A_….zip/S2A_….SAFE/…` |
//! | CDSE | `<root>/<S3Path without /eodata>` | `/eodata/Sentinel-2/MSI/L2A/2020/08/11/S2A_….SAFE/…` |
//!
//! In ENS a zip product is a folder named like the zip. When only the zip
//! file itself is there (a plain copy of an archive, a download kept packed),
//! its members are reached in place through GDAL's `/vsizip/`.
//!
//! An archived (offline) product is not in ENS until it has been ordered:
//! asking for it gives the order hint instead of a missing-file error.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use crate::archive::{ArchiveIndex, ProductRecord};
use crate::geometry::Aoi;
use crate::odata::{Query, SortOrder};
use cleope_sandbox::{UnsafeName, safe_component, safe_relative_path};

/// How a mounted archive arranges its products.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// ONDA's `/mnt/Copernicus/<pseudopath>/<name>`.
    Onda,
    /// CDSE's `/eodata/<collection>/…/<name>` (the product's `S3Path`).
    Cdse,
}

impl Layout {
    /// Reads `"onda"` or `"cdse"` (any case).
    pub fn parse(text: &str) -> Option<Layout> {
        match text.trim().to_ascii_lowercase().as_str() {
            "onda" => Some(Layout::Onda),
            "cdse" => Some(Layout::Cdse),
            _ => None,
        }
    }
}

/// One mounted archive root.
#[derive(Debug, Clone, PartialEq)]
pub struct Mount {
    /// The folder the archive is mounted at (`/mnt/Copernicus`, `/eodata`, a demo archive).
    pub root: PathBuf,
    /// Its layout.
    pub layout: Layout,
}

/// What ENS needs to know of a product to find it.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement {
    /// The ONDA name with its extension (`….zip`, `….nc`).
    pub name: String,
    /// ONDA pseudopath (the first entry), e.g. `OPTICAL/LEVEL-2A/2020/08/11`.
    pub pseudopath: String,
    /// CDSE S3Path, e.g. `/eodata/Sentinel-2/MSI/L2A/2020/08/11/S2A_….SAFE`.
    pub s3_path: String,
    /// False for an archived product that must be ordered first.
    pub online: bool,
}

impl From<&ProductRecord> for Placement {
    fn from(record: &ProductRecord) -> Placement {
        Placement {
            name: record.name.clone(),
            pseudopath: record.pseudopath.clone(),
            s3_path: record.s3_path.clone(),
            online: record.online,
        }
    }
}

/// Why ENS could not give a product or a file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum EnsError {
    /// The product is archived: it appears in ENS only once ordered.
    #[error("product {name} is offline: order it with odata_order(\"{name}\")")]
    Offline {
        /// The product name.
        name: String,
    },
    /// The catalogue says online, but no mounted root holds it.
    #[error("product {name} is not in the mounted archive (looked for {tried})")]
    NotMounted {
        /// The product name.
        name: String,
        /// The paths tried, comma-separated.
        tried: String,
    },
    /// No archive is mounted at all.
    #[error("no product archive is mounted, so {name} cannot be opened in place")]
    NoMount {
        /// The product name.
        name: String,
    },
    /// The path given is not a product in ENS or in the workspace.
    #[error("{path} does not exist")]
    NoSuchProduct {
        /// The path.
        path: String,
    },
    /// A glob found no file.
    #[error("no file in {product} matches \"{pattern}\"")]
    NoMatch {
        /// The product name.
        product: String,
        /// The glob.
        pattern: String,
    },
    /// A glob that must name one file found several.
    #[error(
        "{count} files in {product} match \"{pattern}\" ({examples}); exactly one was expected"
    )]
    Ambiguous {
        /// The product name.
        product: String,
        /// The glob.
        pattern: String,
        /// How many matched.
        count: usize,
        /// The first few matches.
        examples: String,
    },
    /// The catalogue's pseudopath, S3Path or name would lead out of the
    /// archive (or is not a name at all).
    #[error("{0}")]
    UnsafeName(UnsafeName),
    /// The product could not be read (a broken zip, permissions).
    #[error("cannot read {path}: {message}")]
    Unreadable {
        /// The product path.
        path: String,
        /// Why.
        message: String,
    },
}

impl EnsError {
    /// How to fix it, in a learner's words.
    pub fn hint(&self) -> String {
        match self {
            EnsError::Offline { name } => format!(
                "archived products must be restored first: odata_order(\"{name}\") orders it, \
                 odata_download(\"{name}\") orders, waits and downloads it into local_files/"
            ),
            EnsError::NotMounted { name, .. } => format!(
                "check the archive setting (--archive, CLEOPE_ARCHIVE or paths.archive in cleope.toml), \
                 or download the product with odata_download(\"{name}\")"
            ),
            EnsError::NoMount { name } => format!(
                "set the archive root (--archive DIR, CLEOPE_ARCHIVE or paths.archive), \
                 or download the product with odata_download(\"{name}\")"
            ),
            EnsError::NoSuchProduct { .. } => {
                "give a product (from odata_search), its name, or the path of a product folder, \
                 zip or file in the archive or in local_files/"
                    .into()
            }
            EnsError::NoMatch { .. } => {
                "list what the product holds with p.files(\"*\"); patterns use * (within a \
                 folder), ** (any folders) and ?; a pattern without / matches file names at any depth"
                    .into()
            }
            EnsError::Ambiguous { .. } => {
                "make the pattern more precise (e.g. add the band and resolution, \"*B04_10m.jp2\"), \
                 or use files() to get them all"
                    .into()
            }
            EnsError::Unreadable { .. } => {
                "the product may be damaged: download it again with odata_download".into()
            }
            EnsError::UnsafeName(name) => name.hint(),
        }
    }
}

/// The mounted archive roots, tried in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Ens {
    mounts: Vec<Mount>,
}

impl Ens {
    /// ENS over these mounts.
    pub fn new(mounts: Vec<Mount>) -> Ens {
        Ens { mounts }
    }

    /// The mounts, in the order they are tried.
    pub fn mounts(&self) -> &[Mount] {
        &self.mounts
    }

    /// Where a product would lie under one mount. The pseudopath, S3Path
    /// and name come from the catalogue: each part must be a safe name
    /// ([`cleope_sandbox::safe_relative_path`]), so the path stays under the mount.
    pub fn candidate(mount: &Mount, product: &Placement) -> Result<PathBuf, EnsError> {
        let path = match mount.layout {
            Layout::Onda => {
                let folder = safe_relative_path(
                    product.pseudopath.trim_matches('/'),
                    "ONDA pseudopath from the catalogue",
                )
                .map_err(EnsError::UnsafeName)?;
                let name = safe_component(&product.name, "product name from the catalogue")
                    .map_err(EnsError::UnsafeName)?;
                mount.root.join(folder).join(name)
            }
            Layout::Cdse => {
                let relative = product.s3_path.trim_start_matches('/');
                let relative = relative.strip_prefix("eodata/").unwrap_or(relative);
                let origin = "CDSE S3Path from the catalogue";
                let relative =
                    safe_relative_path(relative, origin).map_err(EnsError::UnsafeName)?;
                if relative.is_empty() {
                    return Err(EnsError::UnsafeName(UnsafeName {
                        name: product.s3_path.clone(),
                        origin: origin.into(),
                        why: "names no product, only the archive's root",
                    }));
                }
                mount.root.join(relative)
            }
        };
        Ok(path)
    }

    /// The product's path in the first mount that holds it. An offline
    /// product not (yet) restored gives [`EnsError::Offline`].
    pub fn path_of(&self, product: &Placement) -> Result<PathBuf, EnsError> {
        if self.mounts.is_empty() {
            return Err(if product.online {
                EnsError::NoMount {
                    name: product.name.clone(),
                }
            } else {
                EnsError::Offline {
                    name: product.name.clone(),
                }
            });
        }
        let candidates: Vec<PathBuf> = self
            .mounts
            .iter()
            .map(|mount| Ens::candidate(mount, product))
            .collect::<Result<_, _>>()?;
        // A restored product is on disk even if the record read earlier said offline.
        if let Some(found) = candidates.iter().find(|path| path.exists()) {
            return Ok(found.clone());
        }
        if !product.online {
            return Err(EnsError::Offline {
                name: product.name.clone(),
            });
        }
        let tried: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        Err(EnsError::NotMounted {
            name: product.name.clone(),
            tried: tried.join(", "),
        })
    }

    /// Opens the product in the archive.
    pub fn open(&self, product: &Placement) -> Result<EnsProduct, EnsError> {
        let path = self.path_of(product)?;
        EnsProduct::at(&path)
    }
}

/// A product in ENS or in the workspace: a folder (a zip product as ENS
/// shows it, an unpacked SAFE), a zip file, or a single file (netCDF).
#[derive(Debug, Clone, PartialEq)]
pub struct EnsProduct {
    name: String,
    path: PathBuf,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Folder,
    Zip,
    File,
}

impl EnsProduct {
    /// The product at `path` (which must exist).
    pub fn at(path: &Path) -> Result<EnsProduct, EnsError> {
        let metadata = std::fs::metadata(path).map_err(|_| EnsError::NoSuchProduct {
            path: path.display().to_string(),
        })?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let kind = if metadata.is_dir() {
            Kind::Folder
        } else if name.to_ascii_lowercase().ends_with(".zip") {
            Kind::Zip
        } else {
            Kind::File
        };
        Ok(EnsProduct {
            name,
            path: path.to_path_buf(),
            kind,
        })
    }

    /// The product's name (the last part of its path).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The product's path (a folder, a zip or a file).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Every file of the product whose path (relative to the product)
    /// matches `pattern`, sorted. Members of a zip read in place come as
    /// `/vsizip/<zip>/<member>`, which GDAL opens directly.
    ///
    /// Patterns use `*` (within one folder), `**` (any number of folders),
    /// `?` and `[…]`. A pattern without `/` matches file names at any depth;
    /// one with `/` matches the end of the relative path at a folder
    /// boundary (so `IMG_DATA/R10m/*B04*` works whether or not the `.SAFE`
    /// folder sits inside the product folder); a leading `/` anchors it
    /// at the product's top.
    pub fn files(&self, pattern: &str) -> Result<Vec<String>, EnsError> {
        let mut found = match self.kind {
            Kind::Folder => self.folder_files(pattern)?,
            Kind::Zip => self.zip_files(pattern)?,
            Kind::File => {
                if pattern_matches(pattern, &self.name) {
                    vec![self.path.display().to_string()]
                } else {
                    Vec::new()
                }
            }
        };
        found.sort();
        Ok(found)
    }

    /// The one file matching `pattern`: none or several is an error naming them.
    pub fn file(&self, pattern: &str) -> Result<String, EnsError> {
        let mut found = self.files(pattern)?;
        match found.len() {
            0 => Err(EnsError::NoMatch {
                product: self.name.clone(),
                pattern: pattern.to_string(),
            }),
            1 => Ok(found.remove(0)),
            count => {
                let names: Vec<&str> = found
                    .iter()
                    .take(3)
                    .map(|f| f.rsplit('/').next().unwrap_or(f))
                    .collect();
                Err(EnsError::Ambiguous {
                    product: self.name.clone(),
                    pattern: pattern.to_string(),
                    count,
                    examples: names.join(", "),
                })
            }
        }
    }

    fn folder_files(&self, pattern: &str) -> Result<Vec<String>, EnsError> {
        let mut found = Vec::new();
        for entry in walkdir::WalkDir::new(&self.path).min_depth(1) {
            let entry = entry.map_err(|e| EnsError::Unreadable {
                path: self.path.display().to_string(),
                message: e.to_string(),
            })?;
            if !entry.file_type().is_file() {
                continue;
            }
            let relative = entry
                .path()
                .strip_prefix(&self.path)
                .unwrap_or(entry.path());
            let relative = relative.to_string_lossy().replace('\\', "/");
            if pattern_matches(pattern, &relative) {
                found.push(entry.path().display().to_string());
            }
        }
        Ok(found)
    }

    fn zip_files(&self, pattern: &str) -> Result<Vec<String>, EnsError> {
        let unreadable = |message: String| EnsError::Unreadable {
            path: self.path.display().to_string(),
            message,
        };
        let file = std::fs::File::open(&self.path).map_err(|e| unreadable(e.to_string()))?;
        let archive = zip::ZipArchive::new(std::io::BufReader::new(file))
            .map_err(|e| unreadable(format!("not a readable zip archive ({e})")))?;
        let names: Vec<String> = archive
            .file_names()
            .map(|name| name.map(|n| n.into_owned()))
            .collect::<Result<_, _>>()
            .map_err(|e| unreadable(format!("a member name cannot be read ({e})")))?;
        let found = names
            .into_iter()
            .filter(|member| !member.ends_with('/'))
            .filter(|member| safe_relative_path(member, "zip member").is_ok())
            .filter(|member| pattern_matches(pattern, member))
            .map(|member| format!("/vsizip/{}/{member}", self.path.display()))
            .collect();
        Ok(found)
    }
}

/// Matches a product-relative path against a pattern (see [`EnsProduct::files`]).
pub fn pattern_matches(pattern: &str, relative: &str) -> bool {
    if let Some(anchored) = pattern.strip_prefix('/') {
        return glob_match(anchored, relative);
    }
    if !pattern.contains('/') {
        let file_name = relative.rsplit('/').next().unwrap_or(relative);
        return glob_match(pattern, file_name);
    }
    // Try the pattern against every tail of the path that starts a component.
    let mut tail = relative;
    loop {
        if glob_match(pattern, tail) {
            return true;
        }
        match tail.find('/') {
            Some(at) => tail = &tail[at + 1..],
            None => return false,
        }
    }
}

/// Glob matching on `/`-separated paths: `*` and `?` stay within one
/// component, `**` spans any number of components (none included), `[abc]`,
/// `[a-z]` and `[!x]` match one character of a set.
pub fn glob_match(pattern: &str, path: &str) -> bool {
    let pattern_parts: Vec<&str> = pattern.split('/').collect();
    let path_parts: Vec<&str> = path.split('/').collect();
    match_parts(&pattern_parts, &path_parts)
}

fn match_parts(pattern: &[&str], path: &[&str]) -> bool {
    match pattern.split_first() {
        None => path.is_empty(),
        Some((&"**", rest)) => (0..=path.len()).any(|skip| match_parts(rest, &path[skip..])),
        Some((first, rest)) => match path.split_first() {
            Some((component, path_rest)) => {
                match_component(first.as_bytes(), component.as_bytes())
                    && match_parts(rest, path_rest)
            }
            None => false,
        },
    }
}

fn match_component(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => (0..=text.len()).any(|skip| match_component(rest, &text[skip..])),
        Some((b'?', rest)) => !text.is_empty() && match_component(rest, &text[1..]),
        Some((b'[', rest)) => match class_match(rest, text.first().copied()) {
            // A class matches only a character, so `text` is not empty when it does.
            Some((matched, after)) => matched && match_component(after, &text[1..]),
            // An unclosed `[` is a literal character.
            None => text.first() == Some(&b'[') && match_component(rest, &text[1..]),
        },
        Some((&c, rest)) => text.first() == Some(&c) && match_component(rest, &text[1..]),
    }
}

/// Matches `c` against the class that `pattern` (after its `[`) opens;
/// gives the result and the pattern after the closing `]`, or None when
/// the class is not closed.
fn class_match(pattern: &[u8], c: Option<u8>) -> Option<(bool, &[u8])> {
    let (negated, body) = match pattern.first() {
        Some(b'!') | Some(b'^') => (true, &pattern[1..]),
        _ => (false, pattern),
    };
    // A `]` right after the `[` is a member, not the end.
    let close = body.iter().skip(1).position(|&b| b == b']')? + 1;
    let (set, after) = (&body[..close], &body[close + 1..]);
    let Some(c) = c else {
        return Some((false, after));
    };
    let mut inside = false;
    let mut i = 0;
    while i < set.len() {
        if i + 2 < set.len() && set[i + 1] == b'-' {
            inside |= (set[i]..=set[i + 2]).contains(&c);
            i += 3;
        } else {
            inside |= set[i] == c;
            i += 1;
        }
    }
    Some((inside != negated, after))
}

/// The products of an archive index that match a catalogue query, sorted
/// as the query asks (the same semantics the catalogue applies).
pub fn find<'a>(index: &'a ArchiveIndex, query: &Query) -> Vec<&'a ProductRecord> {
    let mut found: Vec<&ProductRecord> = index
        .products
        .iter()
        .filter(|record| matches(record, query))
        .collect();
    found.sort_by(|a, b| a.begin.cmp(&b.begin).then(a.name.cmp(&b.name)));
    if query.order == SortOrder::SensingDescending {
        found.reverse();
    }
    found
}

/// True when an index record satisfies every criterion the query sets.
pub fn matches(record: &ProductRecord, query: &Query) -> bool {
    mission_matches(record, query.mission.as_deref())
        && type_matches(record, query.product_type.as_deref())
        && query
            .main_class
            .as_deref()
            .is_none_or(|class| record.main_class.as_deref() == Some(class))
        && query
            .aoi
            .as_ref()
            .is_none_or(|aoi| footprint_meets(record, aoi))
        && query
            .sensed_from
            .is_none_or(|from| instant(&record.begin).is_some_and(|begin| begin >= from))
        && query
            .sensed_to
            .is_none_or(|to| instant(&record.end).is_some_and(|end| end <= to))
        && query.max_cloud.is_none_or(|max| {
            record
                .attributes
                .get("cloudCover")
                .and_then(|v| v.as_f64())
                .is_some_and(|cloud| cloud <= max)
        })
        && query.name.as_deref().is_none_or(|name| {
            let wanted = name_stem(name);
            name_stem(&record.name) == wanted || name_stem(&record.cdse_name) == wanted
        })
}

fn mission_matches(record: &ProductRecord, mission: Option<&str>) -> bool {
    let Some(mission) = mission else {
        return true;
    };
    let wanted = mission.to_ascii_lowercase();
    let platform = record.mission.as_deref().unwrap_or("").to_ascii_lowercase();
    glob_match(&wanted, &platform) || record.collection.eq_ignore_ascii_case(mission)
}

/// Sentinel-1 types match as a substring (ONDA's `*GRD*`); others exactly,
/// with `*` and `?` wildcards allowed.
fn type_matches(record: &ProductRecord, product_type: Option<&str>) -> bool {
    let Some(wanted) = product_type else {
        return true;
    };
    let is_s1 = record.mission.as_deref() == Some("Sentinel-1") || record.name.starts_with("S1");
    if is_s1 && !wanted.contains(['*', '?']) {
        return record.product_type.contains(wanted);
    }
    glob_match(wanted, &record.product_type)
}

fn footprint_meets(record: &ProductRecord, aoi: &Aoi) -> bool {
    Aoi::from_wkt(&record.footprint).is_ok_and(|footprint| footprint.intersects_aoi(aoi))
}

fn instant(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A product name without its packing extension, so `X`, `X.zip` and
/// `X.SAFE` name the same product.
pub fn name_stem(name: &str) -> &str {
    let name = name.trim();
    [".zip", ".SAFE", ".SEN3", ".tar.gz", ".nc"]
        .iter()
        .find_map(|ext| name.strip_suffix(ext))
        .unwrap_or(name)
}

/// Builds at `view` a private view of the archive at `archive`: the same
/// layout (ONDA's pseudopaths or CDSE's S3Paths), made of links to the archive's products, packed downloads and
/// index. A catalogue serving the view restores an ordered product by
/// moving its link into place, so orders change the view, never the shared
/// archive: every session starts with the archive as it was written (its
/// offline products offline), and parallel sessions do not see each
/// other's orders.
pub fn build_view(
    archive: &Path,
    index: &ArchiveIndex,
    layout: Layout,
    view: &Path,
) -> std::io::Result<()> {
    use std::os::unix::fs::symlink;
    let archive = archive.canonicalize()?;
    std::fs::create_dir_all(view)?;
    for file in ["index.json", "truth.json", ".packed"] {
        let target = archive.join(file);
        if target.exists() {
            symlink(&target, view.join(file))?;
        }
    }
    // Where each product lies, relative to the root, in the archive's layout.
    let relative_root = Mount {
        root: PathBuf::new(),
        layout,
    };
    for record in &index.products {
        let relative = match (record.online, layout) {
            (false, _) => PathBuf::from(record.offline_relative()),
            (true, Layout::Onda) => PathBuf::from(record.ens_relative()),
            (true, Layout::Cdse) => {
                match Ens::candidate(&relative_root, &Placement::from(record)) {
                    Ok(relative) => relative,
                    // A record whose S3Path leads out of the archive gets no link.
                    Err(_) => continue,
                }
            }
        };
        let target = archive.join(&relative);
        if !target.exists() {
            continue;
        }
        let link = view.join(&relative);
        if let Some(parent) = link.parent() {
            std::fs::create_dir_all(parent)?;
        }
        symlink(&target, &link)?;
    }
    Ok(())
}
