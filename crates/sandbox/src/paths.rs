//! The workspace and the read-only roots: every path a script names is
//! resolved here, and nothing outside these roots can be reached.

use std::fmt;
use std::io;
use std::path::{Component, Path, PathBuf};

/// The folders every workspace has, with what they are for.
pub const WORKSPACE_FOLDERS: [(&str, &str); 3] = [
    ("local_files", "products downloaded from the catalogue"),
    ("output", "figures and results your scripts write"),
    (
        "resources",
        "your own inputs: AOI polygons, product lists, tables",
    ),
];

/// cleope's own folder in every workspace: the disk ledger, the sessions'
/// and downloads' lock files. Scripts can neither read nor write it.
pub const PRIVATE_FOLDER: &str = ".cleope";

/// The start of the names cleope gives its temporary files in the
/// workspace (the token of the process that made them follows). Reserved
/// too: a measurement skips a live process's temporaries, so a script must
/// not be able to pass its own files for them.
pub const TEMPORARY_MARK: &str = ".cleope-tmp-";

/// What a script wants to do with a path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Read,
    Write,
}

/// The read-write workspace plus read-only roots (product archive, tutorials).
#[derive(Debug, Clone)]
pub struct Workspace {
    root: PathBuf,
    read_only: Vec<ReadOnlyRoot>,
}

#[derive(Debug, Clone)]
struct ReadOnlyRoot {
    label: String,
    path: PathBuf,
}

/// Why a path was refused.
#[derive(Debug, Clone, PartialEq)]
pub struct PathError {
    pub path: String,
    pub message: String,
    pub hint: String,
}

impl fmt::Display for PathError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "path \"{}\" {}", self.path, self.message)
    }
}

impl std::error::Error for PathError {}

impl Workspace {
    /// Opens (creating if needed) the workspace at `root` with its standard folders.
    pub fn open(root: &Path) -> io::Result<Self> {
        std::fs::create_dir_all(root)?;
        for (folder, _) in WORKSPACE_FOLDERS {
            std::fs::create_dir_all(root.join(folder))?;
        }
        Ok(Self {
            root: root.canonicalize()?,
            read_only: Vec::new(),
        })
    }

    /// Adds a read-only root such as the product archive (`label` names it in messages).
    /// A root that does not exist is skipped: there is nothing to read there.
    pub fn add_read_only(&mut self, label: &str, path: &Path) {
        if let Ok(path) = path.canonicalize() {
            self.read_only.push(ReadOnlyRoot {
                label: label.to_string(),
                path,
            });
        }
    }

    /// The canonical workspace root.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The workspace's private folder (see [`PRIVATE_FOLDER`]).
    pub fn private_folder(&self) -> PathBuf {
        self.root.join(PRIVATE_FOLDER)
    }

    /// Why `real` (inside the root) is cleope's own, if it is: in the
    /// private folder, or named like a temporary file. Names are compared
    /// as file systems that fold case or drop trailing dots and spaces
    /// (vfat, exFAT, SMB shares) would, so `.CLEOPE` or `.cleope.` cannot
    /// reach the private folder there either.
    fn reserved(&self, real: &Path) -> Option<String> {
        let inside = real.strip_prefix(&self.root).ok()?;
        let names: Vec<String> = inside
            .components()
            .map(|c| c.as_os_str().to_string_lossy().to_ascii_lowercase())
            .collect();
        if names
            .first()
            .is_some_and(|first| first.trim_end_matches(['.', ' ']) == PRIVATE_FOLDER)
        {
            return Some(format!(
                "is in cleope's private folder {PRIVATE_FOLDER}/ (its disk ledger and locks), \
                 which scripts can neither read nor write"
            ));
        }
        if names.iter().any(|name| name.starts_with(TEMPORARY_MARK)) {
            return Some(format!(
                "is named like cleope's temporary files ({TEMPORARY_MARK}...), a name scripts \
                 may not use"
            ));
        }
        None
    }

    /// The read-only roots as `(label, path)`.
    pub fn read_only_roots(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.read_only
            .iter()
            .map(|r| (r.label.as_str(), r.path.as_path()))
    }

    /// Resolves a script's path to a real path it may `access`.
    ///
    /// Relative paths are taken from the workspace root. `..` is refused
    /// outright; symbolic links are followed and the real target must still
    /// lie inside an allowed root.
    pub fn resolve(&self, user_path: &str, access: Access) -> Result<PathBuf, PathError> {
        let refuse = |message: &str, hint: &str| PathError {
            path: user_path.to_string(),
            message: message.to_string(),
            hint: hint.to_string(),
        };
        if user_path.trim().is_empty() {
            return Err(refuse(
                "is empty",
                "name a file, e.g. \"output/result.csv\"",
            ));
        }
        let path = Path::new(user_path);
        if path.components().any(|c| c == Component::ParentDir) {
            return Err(refuse(
                "contains '..', which is not allowed",
                "name the file from the workspace root, e.g. \"output/plot.png\"",
            ));
        }
        let candidate = if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.root.join(path)
        };
        let real = real_path(&candidate)
            .map_err(|e| refuse(&format!("cannot be resolved: {e}"), &self.roots_hint()))?;
        if real.starts_with(&self.root) {
            if let Some(why) = self.reserved(&real) {
                return Err(refuse(
                    &why,
                    "keep your files in output/, resources/ or local_files/",
                ));
            }
            return Ok(real);
        }
        match self.read_only.iter().find(|r| real.starts_with(&r.path)) {
            Some(_) if access == Access::Read => Ok(real),
            Some(root) => Err(refuse(
                &format!(
                    "is in the read-only {} ({})",
                    root.label,
                    root.path.display()
                ),
                "write results into the workspace instead, e.g. \"output/...\"",
            )),
            None if real != candidate && candidate.starts_with(&self.root) => Err(refuse(
                &format!(
                    "is a link that leads outside the workspace, to {}",
                    real.display()
                ),
                &self.roots_hint(),
            )),
            None => Err(refuse("is outside the workspace", &self.roots_hint())),
        }
    }

    /// Resolves a path in GDAL's syntax for reading: a plain path,
    /// `/vsizip/<file.zip>/<member>` or `NETCDF:"<file.nc>":<variable>`.
    /// The file part is confined like any other path; the rest is kept.
    pub fn resolve_gdal(&self, user_path: &str) -> Result<String, PathError> {
        if let Some(rest) = user_path.strip_prefix("/vsizip/") {
            let lower = rest.to_ascii_lowercase();
            let end = lower.find(".zip/").map(|i| i + 4).unwrap_or(rest.len());
            let (archive, member) = rest.split_at(end);
            if member.split('/').any(|part| part == "..") {
                return Err(PathError {
                    path: user_path.to_string(),
                    message: "contains '..', which is not allowed".into(),
                    hint: "name the member from the top of the zip archive".into(),
                });
            }
            let archive = self.resolve(archive, Access::Read)?;
            return Ok(format!("/vsizip/{}{member}", archive.display()));
        }
        if let Some(rest) = user_path.strip_prefix("NETCDF:") {
            let (file, variable) = match rest.strip_prefix('"') {
                Some(quoted) => quoted.split_once("\":").unwrap_or((quoted, "")),
                None => rest.rsplit_once(':').unwrap_or((rest, "")),
            };
            let file = self.resolve(file, Access::Read)?;
            return Ok(format!("NETCDF:\"{}\":{variable}", file.display()));
        }
        Ok(self.resolve(user_path, Access::Read)?.display().to_string())
    }

    fn roots_hint(&self) -> String {
        let mut roots = format!(
            "scripts may use paths inside the workspace {} (relative paths start there)",
            self.root.display()
        );
        for root in &self.read_only {
            roots.push_str(&format!(
                ", or read from the {} {}",
                root.label,
                root.path.display()
            ));
        }
        roots
    }

    /// The path as a script should see it: relative to the workspace when inside it.
    pub fn display_path(&self, real: &Path) -> String {
        match real.strip_prefix(&self.root) {
            Ok(relative) => relative.display().to_string(),
            Err(_) => real.display().to_string(),
        }
    }
}

/// Canonicalises the longest existing ancestor of `path` (following links) and
/// appends the components that do not exist yet.
fn real_path(path: &Path) -> io::Result<PathBuf> {
    let mut existing = path.to_path_buf();
    let mut missing = Vec::new();
    // Entries that appeared while being resolved (another session wrote them).
    let mut appeared = 0;
    loop {
        match existing.canonicalize() {
            Ok(real) => {
                return Ok(missing.iter().rev().fold(real, |acc, part| acc.join(part)));
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                let Some(name) = existing.file_name().map(|n| n.to_os_string()) else {
                    return Err(e);
                };
                match existing.symlink_metadata() {
                    // A dangling symlink is not "missing": refuse to guess where it points.
                    Ok(meta) if meta.file_type().is_symlink() => {
                        return Err(io::Error::other("it is a broken link"));
                    }
                    Ok(_) if appeared < 3 => {
                        appeared += 1;
                        continue;
                    }
                    Ok(_) => return Err(e),
                    Err(_) => {}
                }
                missing.push(name);
                if !existing.pop() {
                    return Err(e);
                }
            }
            Err(e) => return Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workspace() -> (tempfile::TempDir, Workspace) {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(&dir.path().join("ws")).unwrap();
        (dir, ws)
    }

    #[test]
    fn creates_the_standard_folders() {
        let (_dir, ws) = workspace();
        for (folder, _) in WORKSPACE_FOLDERS {
            assert!(ws.root().join(folder).is_dir(), "{folder}");
        }
    }

    #[test]
    fn relative_paths_resolve_inside_the_workspace_even_before_they_exist() {
        let (_dir, ws) = workspace();
        let real = ws.resolve("output/new/plot.png", Access::Write).unwrap();
        assert_eq!(real, ws.root().join("output/new/plot.png"));
    }

    #[test]
    fn parent_components_are_refused() {
        let (_dir, ws) = workspace();
        let err = ws.resolve("output/../../secret", Access::Read).unwrap_err();
        assert!(err.message.contains("'..'"), "{err}");
    }

    #[test]
    fn absolute_paths_elsewhere_are_refused() {
        let (_dir, ws) = workspace();
        let err = ws.resolve("/etc/passwd", Access::Read).unwrap_err();
        assert_eq!(err.message, "is outside the workspace");
    }

    #[test]
    fn symlinks_leaving_the_workspace_are_refused() {
        let (dir, ws) = workspace();
        std::fs::write(dir.path().join("secret.txt"), "x").unwrap();
        std::os::unix::fs::symlink(dir.path(), ws.root().join("escape")).unwrap();
        let err = ws.resolve("escape/secret.txt", Access::Read).unwrap_err();
        assert!(err.message.contains("link that leads outside"), "{err}");
    }

    #[test]
    fn the_private_folder_is_refused_by_every_spelling() {
        let (_dir, ws) = workspace();
        let private = ws.private_folder();
        std::fs::create_dir_all(&private).unwrap();
        std::fs::write(private.join("ledger"), "{}").unwrap();
        std::os::unix::fs::symlink(&private, ws.root().join("output/link")).unwrap();
        let absolute = format!("{}/.cleope/ledger", ws.root().display());
        for path in [
            ".cleope",
            ".cleope/ledger",
            "./.cleope/ledger",
            ".CLEOPE/ledger",
            ".cleope./new",
            ".cleope ./new",
            "output/link/ledger",
            "output/link",
            &absolute,
        ] {
            for access in [Access::Read, Access::Write] {
                let err = ws.resolve(path, access).unwrap_err();
                assert!(err.message.contains("private folder"), "{path}: {err}");
            }
        }
        assert!(ws.resolve("output/.cleope/x", Access::Write).is_ok());
        assert!(ws.resolve(".cleope-notes.txt", Access::Write).is_ok());
        for path in ["output/.cleope-tmp-0123-x", "output/.CLEOPE-TMP-a/b.txt"] {
            let err = ws.resolve(path, Access::Write).unwrap_err();
            assert!(err.message.contains("temporary files"), "{path}: {err}");
        }
    }

    #[test]
    fn gdal_paths_confine_their_file_part() {
        let (_dir, ws) = workspace();
        let root = ws.root().display().to_string();
        let zip = ws
            .resolve_gdal("/vsizip/local_files/p.zip/p.SAFE/b.jp2")
            .unwrap();
        assert_eq!(
            zip,
            format!("/vsizip/{root}/local_files/p.zip/p.SAFE/b.jp2")
        );
        let nc = ws.resolve_gdal("NETCDF:\"output/s.nc\":no2").unwrap();
        assert_eq!(nc, format!("NETCDF:\"{root}/output/s.nc\":no2"));
        assert!(ws.resolve_gdal("/vsizip//etc/x.zip/a").is_err());
        assert!(
            ws.resolve_gdal("/vsizip/local_files/p.zip/../../x")
                .is_err()
        );
        assert!(ws.resolve_gdal("NETCDF:\"/etc/passwd\":x").is_err());
    }

    #[test]
    fn read_only_roots_can_be_read_but_not_written() {
        let (dir, mut ws) = workspace();
        let archive = dir.path().join("archive");
        std::fs::create_dir_all(&archive).unwrap();
        std::fs::write(archive.join("p.nc"), "x").unwrap();
        ws.add_read_only("product archive", &archive);
        let path = archive.join("p.nc");
        let path = path.to_str().unwrap();
        assert!(ws.resolve(path, Access::Read).is_ok());
        let err = ws.resolve(path, Access::Write).unwrap_err();
        assert!(err.message.contains("read-only product archive"), "{err}");
    }
}
