//! CDSE's Nodes API: a product's files, listed folder by folder and
//! downloaded one at a time.
//!
//! * `GET /odata/v1/Products(<id>)/Nodes` lists the product's top node (the
//!   `.SAFE`/`.SEN3` folder, or the file of a single-file product);
//!   `…/Nodes(<name>)/Nodes` lists a folder, recursively; listing a file
//!   gives an empty list. No token is needed, as at CDSE.
//! * `GET …/Nodes(<name>)/…/Nodes(<file>)/$value` downloads one file: Bearer
//!   required, answered (like a product's `$value`) with a redirect to the
//!   download listener, which checks the token again and serves ranges.
//!
//! The files come from the product's unpacked folder in the archive, or,
//! when only its zip is kept (`.packed/`), from inside the zip. A request
//! names a file by path components, which are untrusted: each must be one
//! safe name (no `..`, no `/`, not hidden), and the path must be one of
//! the product's own entries, enumerated without following links, so a
//! symbolic link in the archive (to a file outside it) is never served.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use serde_json::json;

use super::{App, entity_id};
use cleope_eo::archive::ProductRecord;
use cleope_eo::download::Packing;
use cleope_eo::odata::wire::encode_component;

/// The most entries a product's listing walks (a real SAFE has a few hundred).
const MAX_ENTRIES: usize = 100_000;

/// What a `…/Nodes…` path asks for.
#[derive(Debug, PartialEq)]
enum Wanted {
    /// The children of the node at this path (the product itself when empty).
    List(Vec<String>),
    /// The bytes of the file at this path.
    Value(Vec<String>),
}

/// Reads `Nodes(a)/Nodes(b)/Nodes` or `Nodes(a)/Nodes(b)/$value`; each
/// name must be one safe file name.
fn parse_path(rest: &str) -> Result<Wanted, String> {
    let mut segments: Vec<&str> = rest.split('/').collect();
    let last = segments.pop().unwrap_or_default();
    let mut names = Vec::with_capacity(segments.len());
    for segment in segments {
        let name = segment
            .strip_prefix("Nodes(")
            .and_then(|s| s.strip_suffix(')'))
            .ok_or_else(|| format!("'{segment}' is not Nodes(<name>)"))?;
        let name = name.trim().trim_matches('\'');
        cleope_eo::download::local_name(name, "node name")
            .map_err(|unsafe_name| unsafe_name.to_string())?;
        names.push(name.to_string());
    }
    match last {
        "Nodes" => Ok(Wanted::List(names)),
        "$value" if !names.is_empty() => Ok(Wanted::Value(names)),
        _ => Err(format!(
            "'{last}' is neither Nodes nor $value after Nodes(<name>)"
        )),
    }
}

/// One file or folder of a product, by its path inside the product.
#[derive(Debug, Clone)]
struct Entry {
    path: String,
    size: u64,
    is_dir: bool,
}

/// Where a product's files are read from.
enum Content {
    /// Files on disk under this folder (paths are relative to it).
    Folder(PathBuf),
    /// A single-file product: its one file, named by the product's CDSE name.
    File(PathBuf),
    /// Members of the product's zip.
    Zip(PathBuf),
}

/// A product's entries and where they are.
struct Tree {
    content: Content,
    entries: Vec<Entry>,
}

impl Tree {
    /// The product's files: its unpacked folder (online or archived), else
    /// its zip; None when neither is kept.
    fn of(archive: &Path, record: &ProductRecord) -> Result<Tree, String> {
        let unpacked = [record.ens_relative(), record.offline_relative()]
            .into_iter()
            .map(|relative| archive.join(relative))
            .find(|path| path.symlink_metadata().is_ok());
        let packed = archive.join(record.packed_relative());
        match (unpacked, record.packing) {
            (Some(file), Packing::File) if file.is_file() => {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                let entries = vec![Entry {
                    path: record.cdse_name.clone(),
                    size,
                    is_dir: false,
                }];
                Ok(Tree {
                    content: Content::File(file),
                    entries,
                })
            }
            (Some(folder), _) if folder.is_dir() => Ok(Tree {
                entries: folder_entries(&folder)?,
                content: Content::Folder(folder),
            }),
            (_, Packing::Zip) if packed.is_file() => {
                let mut entries = zip_entries(&packed)?;
                entries.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(Tree {
                    entries,
                    content: Content::Zip(packed),
                })
            }
            _ => Err(format!(
                "the archive keeps no files of {} that can be listed",
                record.cdse_name
            )),
        }
    }

    /// The entries directly under `parent` ("" for the top).
    fn children(&self, parent: &str) -> Vec<&Entry> {
        self.entries
            .iter()
            .filter(|entry| parent_of(&entry.path) == parent)
            .collect()
    }

    fn find(&self, path: &str) -> Option<&Entry> {
        self.entries.iter().find(|entry| entry.path == path)
    }
}

fn parent_of(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(parent, _)| parent)
}

/// Every file and folder under `folder`, links left out (never followed).
fn folder_entries(folder: &Path) -> Result<Vec<Entry>, String> {
    let mut entries = Vec::new();
    for item in walkdir::WalkDir::new(folder)
        .min_depth(1)
        .follow_links(false)
        .sort_by_file_name()
    {
        let item = item.map_err(|e| format!("cannot list {}: {e}", folder.display()))?;
        let kind = item.file_type();
        if kind.is_symlink() || !(kind.is_dir() || kind.is_file()) {
            continue;
        }
        let relative = item.path().strip_prefix(folder).unwrap_or(item.path());
        let path = relative.to_string_lossy().replace('\\', "/");
        if cleope_eo::download::local_name(item.file_name().to_str().unwrap_or(""), "file").is_err()
        {
            continue;
        }
        let size = if kind.is_file() {
            item.metadata().map(|m| m.len()).unwrap_or(0)
        } else {
            0
        };
        entries.push(Entry {
            path,
            size,
            is_dir: kind.is_dir(),
        });
        if entries.len() > MAX_ENTRIES {
            return Err(format!("{} holds too many files to list", folder.display()));
        }
    }
    Ok(entries)
}

/// Every member of a zip whose path is safe, with the folders they imply.
fn zip_entries(zip_path: &Path) -> Result<Vec<Entry>, String> {
    let unreadable = |e: &dyn std::fmt::Display| format!("cannot read {}: {e}", zip_path.display());
    let file = std::fs::File::open(zip_path).map_err(|e| unreadable(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| unreadable(&e))?;
    let mut entries: Vec<Entry> = Vec::new();
    let mut folders = std::collections::BTreeSet::new();
    for index in 0..zip.len().min(MAX_ENTRIES) {
        let member = zip.by_index_raw(index).map_err(|e| unreadable(&e))?;
        let Ok(name) = member.name() else {
            continue;
        };
        let Ok(path) = cleope_eo::download::safe_relative_path(&name, "zip member") else {
            continue;
        };
        if path.is_empty() || member.is_symlink() {
            continue;
        }
        let mut parent = parent_of(&path);
        while !parent.is_empty() {
            folders.insert(parent.to_string());
            parent = parent_of(parent);
        }
        if member.is_dir() {
            folders.insert(path);
        } else {
            entries.push(Entry {
                path,
                size: member.size(),
                is_dir: false,
            });
        }
    }
    entries.extend(folders.into_iter().map(|path| Entry {
        path,
        size: 0,
        is_dir: true,
    }));
    Ok(entries)
}

fn detail(status: StatusCode, message: impl Into<String>) -> Response {
    (status, axum::Json(json!({"detail": message.into()}))).into_response()
}

/// The product a request names, or the answer refusing it.
fn record_of(app: &App, entity: &str) -> Result<(ProductRecord, bool), Box<Response>> {
    let not_found = |id: &str| {
        Box::new(detail(
            StatusCode::NOT_FOUND,
            format!("no product with Id {id}: search for it first to get its Id"),
        ))
    };
    let id = entity_id(entity).ok_or_else(|| not_found(entity))?;
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let idx = store.find(&id).ok_or_else(|| not_found(&id))?;
    Ok((store.get(idx).record.clone(), store.is_online(idx)))
}

/// `GET /odata/v1/Products(<id>)/Nodes…` on the catalogue listener.
pub(crate) async fn catalogue(
    State(app): State<Arc<App>>,
    UrlPath((entity, rest)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let wanted = match parse_path(&rest) {
        Ok(wanted) => wanted,
        Err(why) => return bad_path(&rest, &why),
    };
    let (record, online) = match record_of(&app, &entity) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    match wanted {
        Wanted::List(names) => list(&app, &record, &names),
        Wanted::Value(names) => {
            if let Err(response) = super::cdse::bearer(&app, &headers) {
                return *response;
            }
            if !online {
                return super::cdse::offline(&app, &record);
            }
            if let Err(response) = find_file(&app, &record, &names) {
                return *response;
            }
            let location = format!("{}/download/{entity}/{rest}", app.download_url);
            debug_assert!(!names.is_empty());
            super::cdse::redirect_to(&app, &location)
        }
    }
}

fn bad_path(rest: &str, why: &str) -> Response {
    detail(
        StatusCode::BAD_REQUEST,
        format!(
            "cannot read the node path '{}': {why}; write Products(<id>)/Nodes(<name>)/…/Nodes to list, \
             …/Nodes(<file>)/$value to download",
            rest.chars().take(200).collect::<String>()
        ),
    )
}

fn no_node(record: &ProductRecord, path: &str) -> Response {
    detail(
        StatusCode::NOT_FOUND,
        format!(
            "product {} has no node {path}: list Products({})/Nodes to see its files",
            record.cdse_name, record.id
        ),
    )
}

/// `{"result": [...]}`: the children of the node at `names` (the top node
/// when empty; nothing for a file).
fn list(app: &App, record: &ProductRecord, names: &[String]) -> Response {
    let tree = match Tree::of(&app.config.archive, record) {
        Ok(tree) => tree,
        Err(why) => return detail(StatusCode::NOT_FOUND, why),
    };
    let path = names.join("/");
    let children = if path.is_empty() {
        tree.children("")
    } else {
        match tree.find(&path) {
            Some(entry) if entry.is_dir => tree.children(&path),
            Some(_) => Vec::new(),
            None => return no_node(record, &path),
        }
    };
    let product_uri = format!("{}/Products({})", app.cdse_base(), record.id);
    let result: Vec<serde_json::Value> = children
        .iter()
        .map(|entry| {
            let name = entry.path.rsplit('/').next().unwrap_or(&entry.path);
            let uri: String = entry
                .path
                .split('/')
                .map(|part| format!("/Nodes({})", encode_component(part, "")))
                .collect();
            json!({
                "Id": name,
                "Name": name,
                "ContentLength": entry.size,
                "ChildrenNumber": tree.children(&entry.path).len(),
                "Nodes": {"uri": format!("{product_uri}{uri}/Nodes")},
            })
        })
        .collect();
    axum::Json(json!({ "result": result })).into_response()
}

/// `GET /download/Products(<id>)/Nodes(…)/…/$value` on the download listener.
pub(crate) async fn download_host(
    State(app): State<Arc<App>>,
    UrlPath((entity, rest)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    if let Err(response) = super::cdse::bearer(&app, &headers) {
        return *response;
    }
    let names = match parse_path(&rest) {
        Ok(Wanted::Value(names)) => names,
        Ok(Wanted::List(_)) => return bad_path(&rest, "listings are served by the catalogue"),
        Err(why) => return bad_path(&rest, &why),
    };
    let (record, online) = match record_of(&app, &entity) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    if !online {
        return super::cdse::offline(&app, &record);
    }
    let (tree, entry) = match find_file(&app, &record, &names) {
        Ok(found) => found,
        Err(response) => return *response,
    };
    let file = match &tree.content {
        Content::Folder(folder) => folder.join(&entry.path),
        Content::File(file) => file.clone(),
        Content::Zip(zip) => match extract_member(app.scratch.path(), zip, &entry.path) {
            Ok(file) => file,
            Err(why) => return detail(StatusCode::INTERNAL_SERVER_ERROR, why),
        },
    };
    let filename = names.last().cloned().unwrap_or_default();
    let damage = super::damage_for(&app, &record, entry.size);
    let download = super::download::Download {
        path: file,
        content_type: content_type(&filename),
        filename,
        damage,
        in_flight: app.transfers.begin(),
    };
    super::download::respond(download, &headers).await
}

/// The product's tree and the file `names` leads to, or the 404.
fn find_file(
    app: &App,
    record: &ProductRecord,
    names: &[String],
) -> Result<(Tree, Entry), Box<Response>> {
    let tree = Tree::of(&app.config.archive, record)
        .map_err(|why| Box::new(detail(StatusCode::NOT_FOUND, why)))?;
    let path = names.join("/");
    let entry = tree
        .find(&path)
        .filter(|entry| !entry.is_dir)
        .cloned()
        .ok_or_else(|| Box::new(no_node(record, &path)))?;
    Ok((tree, entry))
}

/// The media type a file's name says.
fn content_type(name: &str) -> &'static str {
    let lower = name.to_ascii_lowercase();
    let types = [
        (".xml", "application/xml"),
        (".safe", "application/xml"),
        (".jp2", "image/jp2"),
        (".tif", "image/tiff"),
        (".tiff", "image/tiff"),
        (".nc", "application/x-netcdf"),
        (".zip", "application/zip"),
        (".png", "image/png"),
    ];
    types
        .iter()
        .find(|(ending, _)| lower.ends_with(ending))
        .map_or("application/octet-stream", |(_, kind)| kind)
}

/// A zip member copied out to the server's scratch folder (once), so it
/// can be served with ranges like any file.
pub(crate) fn extract_member(
    scratch: &Path,
    zip_path: &Path,
    member: &str,
) -> Result<PathBuf, String> {
    use std::hash::{Hash, Hasher};
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    (zip_path, member).hash(&mut hasher);
    let key = format!("{:016x}", hasher.finish());
    let target = scratch.join(&key);
    if target.is_file() {
        return Ok(target);
    }
    let failed = |e: &dyn std::fmt::Display| {
        format!("cannot read {member} from {}: {e}", zip_path.display())
    };
    let file = std::fs::File::open(zip_path).map_err(|e| failed(&e))?;
    let mut zip = zip::ZipArchive::new(file).map_err(|e| failed(&e))?;
    let mut source = zip.by_name(member).map_err(|e| failed(&e))?;
    let staging = scratch.join(format!("{key}.part"));
    let mut out = std::fs::File::create(&staging).map_err(|e| failed(&e))?;
    std::io::copy(&mut source, &mut out).map_err(|e| failed(&e))?;
    std::fs::rename(&staging, &target).map_err(|e| failed(&e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_paths() {
        assert_eq!(parse_path("Nodes"), Ok(Wanted::List(vec![])));
        assert_eq!(
            parse_path("Nodes(A.SAFE)/Nodes(GRANULE)/Nodes"),
            Ok(Wanted::List(vec!["A.SAFE".into(), "GRANULE".into()]))
        );
        assert_eq!(
            parse_path("Nodes('A.SAFE')/Nodes(x.xml)/$value"),
            Ok(Wanted::Value(vec!["A.SAFE".into(), "x.xml".into()]))
        );
        assert!(parse_path("$value").is_err());
        assert!(parse_path("Nodes(..)/Nodes").unwrap_err().contains(".."));
        assert!(parse_path("Nodes(.hidden)/$value").is_err());
        assert!(parse_path("Nodes(A)/Files").is_err());
        assert!(parse_path("Things(A)/Nodes").is_err());
    }

    #[test]
    fn media_types_follow_the_extension() {
        assert_eq!(content_type("MTD_MSIL2A.xml"), "application/xml");
        assert_eq!(content_type("T32_B04_10m.jp2"), "image/jp2");
        assert_eq!(content_type("x.bin"), "application/octet-stream");
    }
}
