//! Single files of a product through CDSE's Nodes API: the product's
//! files listed (`Products(<id>)/Nodes`, then each folder's `Nodes.uri`,
//! no login needed), and the files whose paths match a script's patterns
//! downloaded one by one (`…/Nodes(<file>)/$value`, with the Bearer token)
//! into `local_files/<product>/…`, keeping their paths inside the product.
//! Each file goes through the same [`fetch`] as a whole product: `.part`,
//! resume by range, size check, atomic rename, disk quota, progress.

use std::collections::VecDeque;

use super::*;
use crate::download::safe_relative_path;
use crate::ens::pattern_matches;

/// One file of a product, as the Nodes API lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeFile {
    /// Its path inside the product, from the top node on
    /// (`X.SAFE/GRANULE/…/T32TQM_B04_10m.jp2`).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Where its bytes are (`…/Nodes(…)/$value`).
    pub url: String,
}

/// The most files one product listing gathers, and the most folder
/// listings it asks for (a Sentinel-2 SAFE has about 100 files in 40 folders).
const MAX_NODE_FILES: usize = 20_000;
const MAX_NODE_LISTINGS: usize = 2_000;

/// How many file names a "nothing matches" error shows.
const EXAMPLES: usize = 5;

/// One entry of a listing (`{"result": [ … ]}`).
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Node {
    name: String,
    #[serde(default)]
    content_length: i64,
    #[serde(default)]
    children_number: u64,
    nodes: NodeLink,
}

#[derive(serde::Deserialize)]
struct NodeLink {
    uri: String,
}

#[derive(serde::Deserialize)]
struct Listing {
    result: Vec<Node>,
}

impl Client {
    /// Every file of product `id`, listed folder by folder (CDSE only).
    pub fn nodes(&self, id: &str, cancel: &Cancel) -> Result<Vec<NodeFile>, ClientError> {
        if self.config.dialect != Dialect::Cdse {
            return Err(ClientError::BadQuery(
                "single files can be listed and downloaded only from a CDSE catalogue (its Nodes \
                 API); this catalogue speaks ONDA: download the whole product with odata_download(product)"
                    .into(),
            ));
        }
        let top = format!("{}/Products({id})/Nodes", self.config.base_url);
        let mut folders = VecDeque::from([(String::new(), top)]);
        let mut files = Vec::new();
        let mut listings = 0;
        while let Some((prefix, url)) = folders.pop_front() {
            listings += 1;
            if listings > MAX_NODE_LISTINGS || files.len() > MAX_NODE_FILES {
                return Err(ClientError::BadResponse {
                    url,
                    detail: format!(
                        "the product has more than {MAX_NODE_LISTINGS} folders or {MAX_NODE_FILES} files"
                    ),
                });
            }
            for node in self.list_folder(&url, cancel)? {
                let path = inside_product(&prefix, &node.name, &url)?;
                let uri = absolute(&url, &node.nodes.uri)?;
                if node.children_number > 0 {
                    folders.push_back((path, uri));
                } else {
                    files.push(NodeFile {
                        path,
                        size: node.content_length.max(0) as u64,
                        url: value_url(&uri)?,
                    });
                }
            }
        }
        Ok(files)
    }

    /// The entries of one folder listing.
    fn list_folder(&self, url: &str, cancel: &Cancel) -> Result<Vec<Node>, ClientError> {
        let response = self.send(|| self.http.get(url), url, cancel, true)?;
        let text = self.read_text(response, url, MAX_PAGE_BYTES, cancel)?;
        let listing: Listing =
            serde_json::from_str(&text).map_err(|e| ClientError::BadResponse {
                url: url.to_string(),
                detail: format!("not a Nodes listing ({e})"),
            })?;
        Ok(listing.result)
    }

    /// Downloads the files of `product` whose paths match any of `patterns`
    /// (globs, see [`pattern_matches`]) into `folder` (the workspace's
    /// `local_files/`), each under its path inside the product; orders and
    /// waits first when the product is offline; skips files already there
    /// at their size; records each in `list_local.txt`. Gives their paths.
    pub fn fetch_files(
        &self,
        product: &CatalogueProduct,
        patterns: &[String],
        folder: &Path,
        ws: &Workspace,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<Vec<PathBuf>, DownloadError> {
        let name = local_name(&product.name, "product name from the catalogue")
            .map_err(DownloadError::UnsafeName)?;
        let _lock = ProductLock::acquire(ws.root(), name, limits.cancel)?;
        let (product, _) = self.online(product, limits.cancel, progress)?;
        let listed = self.nodes(&product.id, limits.cancel)?;
        let chosen = choose(&listed, patterns, &product.name)?;
        let mut paths = Vec::with_capacity(chosen.len());
        for file in chosen {
            let target = folder.join(&file.path);
            if !target.metadata().is_ok_and(|m| m.len() == file.size) {
                if let Err(error) = self.fetch_file(file, &target, limits, progress) {
                    remove_empty_folders(folder, &target);
                    return Err(error);
                }
                record_local(ws, limits.disk, &ws.display_path(&target))?;
            }
            paths.push(target);
        }
        Ok(paths)
    }

    /// One file into `target`, through one of the session's transfer slots.
    fn fetch_file(
        &self,
        file: &NodeFile,
        target: &Path,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<u64, DownloadError> {
        // A fresh token for each file: a long series outlives one token.
        let authorization = self.authorization("downloading", limits.cancel)?;
        let mut source = ProductBytes {
            client: self,
            url: file.url.clone(),
            name: file.path.clone(),
            file: file.path.clone(),
            authorization,
            cancel: limits.cancel,
        };
        let _slot = self
            .transfers
            .acquire(limits.cancel)
            .map_err(DownloadError::Stopped)?;
        let expected = Expected {
            size: Some(file.size),
            ..Expected::default()
        };
        fetch(
            &mut source,
            target,
            &expected,
            limits,
            progress,
            &self.config.retry,
        )
    }
}

/// Removes the folders a failed download made for `target`, from its own
/// up to (not including) `folder`, as long as they are empty (a `.part`
/// kept for resuming keeps its folder).
fn remove_empty_folders(folder: &Path, target: &Path) {
    let mut current = target.parent();
    while let Some(dir) = current.filter(|dir| dir.starts_with(folder) && *dir != folder) {
        if std::fs::remove_dir(dir).is_err() {
            break;
        }
        current = dir.parent();
    }
}

/// Whether `path` (a product's folder in `local_files/`) was made by
/// single-file downloads only: `list_local.txt` records files inside it,
/// and not the folder itself (as a whole download does).
pub(super) fn holds_single_files_only(ws: &Workspace, path: &Path) -> bool {
    let folder = ws.display_path(path);
    let inside = format!("{folder}/");
    let recorded = ws
        .resolve(crate::download::LIST_LOCAL, cleope_sandbox::Access::Read)
        .ok()
        .and_then(|list| std::fs::read_to_string(list).ok())
        .unwrap_or_default();
    let mut lines = recorded.lines().map(str::trim);
    let whole = lines.clone().any(|line| line == folder);
    !whole && lines.any(|line| line.starts_with(&inside))
}

/// `prefix/name`, checked to stay inside the product.
fn inside_product(prefix: &str, name: &str, url: &str) -> Result<String, ClientError> {
    let joined = if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    };
    match safe_relative_path(&joined, "file path from the catalogue") {
        Ok(path) if !path.is_empty() && local_name(name, "node name").is_ok() => Ok(path),
        Ok(_) => Err(ClientError::BadResponse {
            url: url.to_string(),
            detail: format!(
                "the node name \"{}\" is not a file name",
                name.escape_debug()
            ),
        }),
        Err(unsafe_name) => Err(ClientError::BadResponse {
            url: url.to_string(),
            detail: unsafe_name.to_string(),
        }),
    }
}

/// A listing's `uri`, made absolute against the listing's own address.
fn absolute(listing: &str, uri: &str) -> Result<String, ClientError> {
    url::Url::parse(listing)
        .and_then(|base| base.join(uri))
        .map(|url| url.to_string())
        .map_err(|e| ClientError::BadResponse {
            url: listing.to_string(),
            detail: format!("the node address {uri} is not usable ({e})"),
        })
}

/// A file node's download address: its `…/Nodes` with `$value` instead.
fn value_url(nodes_uri: &str) -> Result<String, ClientError> {
    nodes_uri
        .strip_suffix("/Nodes")
        .map(|node| format!("{node}/$value"))
        .ok_or_else(|| ClientError::BadResponse {
            url: nodes_uri.to_string(),
            detail: "a file node whose address does not end in /Nodes".into(),
        })
}

/// The files matching any pattern, in listing order; a pattern that
/// matches nothing is an error naming a few files that exist.
fn choose<'a>(
    listed: &'a [NodeFile],
    patterns: &[String],
    product: &str,
) -> Result<Vec<&'a NodeFile>, ClientError> {
    if patterns.is_empty() {
        return Err(ClientError::NoSuchFiles {
            product: product.to_string(),
            pattern: String::new(),
            examples: examples(listed, ""),
        });
    }
    for pattern in patterns {
        if !listed
            .iter()
            .any(|file| pattern_matches(pattern, &file.path))
        {
            return Err(ClientError::NoSuchFiles {
                product: product.to_string(),
                pattern: pattern.clone(),
                examples: examples(listed, pattern),
            });
        }
    }
    Ok(listed
        .iter()
        .filter(|file| patterns.iter().any(|p| pattern_matches(p, &file.path)))
        .collect())
}

/// A few file names of the product, those with the pattern's extension first.
fn examples(listed: &[NodeFile], pattern: &str) -> Vec<String> {
    let extension = pattern
        .rsplit_once('.')
        .map(|(_, ext)| ext.to_ascii_lowercase());
    let name = |file: &NodeFile| {
        file.path
            .rsplit('/')
            .next()
            .unwrap_or(&file.path)
            .to_string()
    };
    let same_kind = |file: &&NodeFile| {
        extension
            .as_deref()
            .is_some_and(|ext| file.path.to_ascii_lowercase().ends_with(&format!(".{ext}")))
    };
    let mut shown: Vec<String> = listed.iter().filter(same_kind).map(name).collect();
    shown.extend(listed.iter().filter(|f| !same_kind(f)).map(name));
    shown.truncate(EXAMPLES);
    shown
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str) -> NodeFile {
        NodeFile {
            path: path.into(),
            size: 1,
            url: format!("http://x/{path}/$value"),
        }
    }

    #[test]
    fn patterns_pick_files_and_a_pattern_matching_nothing_names_some_that_exist() {
        let listed = [
            file("A.SAFE/manifest.safe"),
            file("A.SAFE/MTD_MSIL2A.xml"),
            file("A.SAFE/GRANULE/L2A/IMG_DATA/R10m/T_B04_10m.jp2"),
            file("A.SAFE/GRANULE/L2A/IMG_DATA/R10m/T_B08_10m.jp2"),
        ];
        let wanted = ["*B04_10m.jp2".to_string(), "MTD_*.xml".to_string()];
        let chosen = choose(&listed, &wanted, "A.SAFE").unwrap();
        assert_eq!(chosen, [&listed[1], &listed[2]]);
        let error = choose(&listed, &["*B12_20m.jp2".to_string()], "A.SAFE").unwrap_err();
        let text = error.to_string();
        assert!(text.contains("*B12_20m.jp2"), "{text}");
        assert!(text.contains("T_B04_10m.jp2"), "{text}");
        assert!(choose(&listed, &[], "A.SAFE").is_err());
    }

    #[test]
    fn node_paths_stay_inside_the_product() {
        assert_eq!(
            inside_product("A.SAFE", "x.xml", "u").unwrap(),
            "A.SAFE/x.xml"
        );
        assert!(inside_product("A.SAFE", "..", "u").is_err());
        assert!(inside_product("", "/etc", "u").is_err());
        assert!(inside_product("A.SAFE", "a/../../b", "u").is_err());
        assert_eq!(
            value_url("http://h/odata/v1/Products(1)/Nodes(A)/Nodes").unwrap(),
            "http://h/odata/v1/Products(1)/Nodes(A)/$value"
        );
    }
}
