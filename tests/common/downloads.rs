//! A workspace to download into, for the tests of the catalogue client's
//! downloads (whole products and single files): its disk budget, a cancel
//! flag, and what ended up in `local_files/`.

use std::path::PathBuf;

use cleope::eo::download::{DownloadError, Limits, NoProgress};
use cleope::eo::odata::client::Client;
use cleope::sandbox::{Cancel, DiskBudget, Workspace};

/// A workspace, its disk budget and a cancel flag for downloads.
pub struct Local {
    _dir: tempfile::TempDir,
    pub ws: Workspace,
    pub disk: DiskBudget,
    pub cancel: Cancel,
}

impl Local {
    /// A fresh workspace with a disk quota of `quota` bytes.
    pub fn new(quota: u64) -> Local {
        let dir = tempfile::tempdir().unwrap();
        let ws = Workspace::open(dir.path()).unwrap();
        let disk = DiskBudget::measure(ws.root(), quota);
        Local {
            _dir: dir,
            ws,
            disk,
            cancel: Cancel::default(),
        }
    }

    /// `local_files/`, where downloads land.
    pub fn folder(&self) -> PathBuf {
        self.ws.root().join("local_files")
    }

    pub fn limits(&self) -> Limits<'_> {
        Limits {
            disk: &self.disk,
            cancel: &self.cancel,
        }
    }

    /// Downloads the whole product `name` as `odata_download(name)` does.
    pub fn fetch(&self, client: &Client, name: &str) -> Result<PathBuf, DownloadError> {
        let product = client
            .product(name, &self.cancel)
            .map_err(DownloadError::from)?;
        client
            .fetch_product(
                &product,
                &self.folder(),
                &self.ws,
                &self.limits(),
                &NoProgress,
            )
            .map(|fetched| fetched.path)
    }

    /// The names directly in `local_files/`, sorted.
    pub fn entries(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(self.folder())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Every file under `local_files/`, relative to it, sorted
    /// (`list_local.txt` left out).
    pub fn written(&self) -> Vec<String> {
        let folder = self.folder();
        let mut found: Vec<String> = walkdir::WalkDir::new(&folder)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
            .map(|e| {
                e.path()
                    .strip_prefix(&folder)
                    .unwrap()
                    .display()
                    .to_string()
            })
            .filter(|p| p != "list_local.txt")
            .collect();
        found.sort();
        found
    }
}
