//! The session's grants, computed once from its (trusted) settings, and
//! what must exist before the operating-system wall goes up: the session's
//! scratch folder and the listening sockets of the local catalogue.
//!
//! A front-end that raises the wall does it between [`Prepared::new`] and
//! [`super::Session::start`]; a library user calls [`super::Session::new`],
//! which does both without a wall.

use super::config::Settings;
use crate::catalogue::Listeners;
use crate::demo::default_dir as demo_archive_dir;
use crate::eo::odata::Dialect;
use crate::sandbox::grants::{Endpoint, Grants, NetGrants, Role, parse_host_port};
use std::net::TcpListener;
use std::path::{Path, PathBuf};

/// CDSE's services besides the catalogue: its token service and the hosts
/// `$value` downloads are redirected to.
const CDSE_HOSTS: [(&str, Role); 3] = [
    ("https://identity.dataspace.copernicus.eu/", Role::Token),
    ("https://download.dataspace.copernicus.eu/", Role::Download),
    ("https://zipper.dataspace.copernicus.eu/", Role::Download),
];

/// A session's grants and the resources made for them.
#[derive(Debug)]
pub struct Prepared {
    pub grants: Grants,
    /// The scratch folder (removed when the session ends).
    pub scratch: Scratch,
    /// The local catalogue's sockets, bound now so that the wall can grant
    /// their ports, when the session serves its archive itself.
    pub local: Option<Listeners>,
}

/// Why the grants could not be prepared.
#[derive(Debug, thiserror::Error)]
pub enum PrepareError {
    #[error("cannot open the workspace {path}: {error}")]
    Workspace {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot make the session's scratch folder in {path}: {error}")]
    Scratch {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("cannot open the local catalogue's ports on loopback: {0}")]
    Listen(std::io::Error),
    #[error("{0}")]
    Endpoint(String),
}

impl Prepared {
    /// The grants of a session with `settings`, its scratch folder and,
    /// when it serves its own catalogue, the catalogue's sockets.
    pub fn new(settings: &Settings) -> Result<Prepared, PrepareError> {
        let workspace = open_workspace(&settings.workspace)?;
        let scratch = Scratch::create()?;
        let local = match settings.catalogue.url {
            None => Some(Listeners {
                catalogue: TcpListener::bind(("127.0.0.1", 0)).map_err(PrepareError::Listen)?,
                downloads: TcpListener::bind(("127.0.0.1", 0)).map_err(PrepareError::Listen)?,
            }),
            Some(_) => None,
        };
        let mut grants = Grants {
            workspace,
            read: Vec::new(),
            net: network(settings, local.as_ref())?,
            scratch: scratch.path().to_path_buf(),
            own_writes: Vec::new(),
            own_files: Vec::new(),
            listen_ports: Vec::new(),
        };
        add_read_roots(&mut grants, settings);
        Ok(Prepared {
            grants,
            scratch,
            local,
        })
    }
}

/// The workspace, created with its folders, as a canonical path.
fn open_workspace(path: &Path) -> Result<PathBuf, PrepareError> {
    crate::sandbox::Workspace::open(path)
        .map(|ws| ws.root().to_path_buf())
        .map_err(|error| PrepareError::Workspace {
            path: path.to_path_buf(),
            error,
        })
}

/// The folders scripts may read besides the workspace.
fn add_read_roots(grants: &mut Grants, settings: &Settings) {
    match (&settings.archive, &settings.catalogue.url) {
        (Some(archive), _) => grants.add_read("product archive", archive),
        (None, None) => {
            let demo = demo_archive_dir();
            if !demo.join("index.json").exists() {
                // Written at first use, beside it (a lock and a partial
                // folder), by cleope itself: never by scripts.
                let parent = demo.parent().unwrap_or(Path::new("/")).to_path_buf();
                let _ = std::fs::create_dir_all(&parent);
                grants.own_writes.push(parent);
            }
            let _ = std::fs::create_dir_all(&demo);
            grants.add_read("demo archive", &demo);
        }
        (None, Some(_)) => {}
    }
    for folder in &settings.module_paths {
        grants.add_read("module folder", folder);
    }
    for folder in &settings.grants.read {
        grants.add_read("granted folder", folder);
    }
    for folder in tutorial_roots(settings) {
        grants.add_read("tutorials", &folder);
    }
}

/// The folders of teaching scripts: the operator's, and cleope's own when
/// the program runs from its source tree.
pub fn tutorial_roots(settings: &Settings) -> Vec<PathBuf> {
    let own = Path::new(env!("CARGO_MANIFEST_DIR")).join("tutorials");
    settings
        .grants
        .tutorials
        .iter()
        .cloned()
        .chain(own.is_dir().then_some(own))
        .collect()
}

/// The endpoints the session may reach.
fn network(settings: &Settings, local: Option<&Listeners>) -> Result<NetGrants, PrepareError> {
    let mut net = NetGrants::default();
    let bad = |e: String| PrepareError::Endpoint(e);
    if let Some(local) = local {
        for listener in [&local.catalogue, &local.downloads] {
            let port = listener.local_addr().map_err(PrepareError::Listen)?.port();
            net.grant(Endpoint {
                host: "127.0.0.1".into(),
                port,
                role: Role::Local,
            });
        }
    }
    if let Some(url) = &settings.catalogue.url {
        net.grant(Endpoint::of_url(url, Role::Catalogue).map_err(bad)?);
        if let Some(token) = &settings.catalogue.token_url {
            net.grant(Endpoint::of_url(token, Role::Token).map_err(bad)?);
        }
        let cdse = settings.catalogue.dialect == Some(Dialect::Cdse)
            || url.contains("dataspace.copernicus.eu");
        if cdse && url.contains("dataspace.copernicus.eu") {
            for (host, role) in CDSE_HOSTS {
                net.grant(Endpoint::of_url(host, role).map_err(bad)?);
            }
        }
    }
    for (list, role) in [
        (&settings.grants.download_hosts, Role::Download),
        (&settings.grants.net, Role::Extra),
    ] {
        for text in list {
            let (host, port) = parse_host_port(text).map_err(bad)?;
            net.grant(Endpoint { host, port, role });
        }
    }
    Ok(net)
}

/// The session's scratch folder under the system's temporary folder:
/// private archive views and cleope's own temporary files. A lock held for
/// the session's life tells later sessions whether its owner is alive, so
/// the folders of killed sessions are removed at the next start.
#[derive(Debug)]
pub struct Scratch {
    folder: tempfile::TempDir,
    _lock: std::fs::File,
}

/// The prefix of scratch folders, by which stale ones are found.
const SCRATCH_PREFIX: &str = "cleope-session-";
const SCRATCH_LOCK: &str = ".alive";
const SCRATCH_LOCK_TAKING: &str = ".alive.taking";

impl Scratch {
    fn create() -> Result<Scratch, PrepareError> {
        Scratch::create_in(&std::env::temp_dir())
    }

    fn create_in(parent: &Path) -> Result<Scratch, PrepareError> {
        let parent = parent.to_path_buf();
        remove_stale_scratch(&parent);
        let failed = |error| PrepareError::Scratch {
            path: parent.clone(),
            error,
        };
        let folder = tempfile::Builder::new()
            .prefix(SCRATCH_PREFIX)
            .tempdir_in(&parent)
            .map_err(failed)?;
        // The lock is taken under another name and renamed into place, so
        // a clean-up starting alongside sees either no lock yet (a young
        // folder, kept) or a held one, never a free lock to take over.
        let taking = folder.path().join(SCRATCH_LOCK_TAKING);
        let lock = std::fs::File::create(&taking).map_err(failed)?;
        lock.try_lock()
            .map_err(|e| failed(std::io::Error::other(e.to_string())))?;
        std::fs::rename(&taking, folder.path().join(SCRATCH_LOCK)).map_err(failed)?;
        Ok(Scratch {
            folder,
            _lock: lock,
        })
    }

    pub fn path(&self) -> &Path {
        self.folder.path()
    }
}

/// Removes the scratch folders whose session is gone (their lock is free).
fn remove_stale_scratch(parent: &Path) {
    let Ok(entries) = std::fs::read_dir(parent) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if !name.to_string_lossy().starts_with(SCRATCH_PREFIX) {
            continue;
        }
        let path = entry.path();
        let gone = match std::fs::File::open(path.join(SCRATCH_LOCK)) {
            Ok(lock) => lock.try_lock().is_ok(),
            Err(_) => older_than(&path, SCRATCH_BIRTH),
        };
        if gone {
            let _ = std::fs::remove_dir_all(&path);
        }
    }
}

/// A scratch folder without a lock is either being made (its lock comes a
/// moment later) or was emptied by a session behind the wall, which may
/// empty its folder but not remove it; after this long it is the latter.
const SCRATCH_BIRTH: std::time::Duration = std::time::Duration::from_secs(60);

fn older_than(path: &Path, age: std::time::Duration) -> bool {
    std::fs::metadata(path)
        .and_then(|m| m.modified())
        .is_ok_and(|modified| modified.elapsed().is_ok_and(|elapsed| elapsed > age))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::Overrides;

    fn settings(dir: &Path, adjust: impl FnOnce(&mut Settings)) -> Settings {
        let mut settings = Settings::load(&Overrides {
            workspace: Some(dir.join("ws")),
            ..Overrides::default()
        })
        .unwrap();
        adjust(&mut settings);
        settings
    }

    #[test]
    fn a_configured_cdse_catalogue_grants_its_services_on_443() {
        let dir = tempfile::tempdir().unwrap();
        let prepared = Prepared::new(&settings(dir.path(), |s| {
            s.catalogue.url = Some("https://catalogue.dataspace.copernicus.eu/odata/v1".into());
            s.grants.net = vec!["classroom.example.org:8443".into()];
        }))
        .unwrap();
        let net = &prepared.grants.net;
        assert!(prepared.local.is_none());
        assert!(net.carries_credentials("https://zipper.dataspace.copernicus.eu/odata/v1/x"));
        assert!(net.carries_credentials("https://identity.dataspace.copernicus.eu/auth"));
        assert!(
            net.check("https://classroom.example.org:8443/odata/v1")
                .is_ok()
        );
        assert!(!net.carries_credentials("https://classroom.example.org:8443/odata/v1"));
        assert_eq!(net.ports(), vec![443, 8443]);
    }

    #[test]
    fn the_local_catalogue_is_bound_before_and_granted_by_port() {
        let dir = tempfile::tempdir().unwrap();
        let prepared = Prepared::new(&settings(dir.path(), |_| {})).unwrap();
        let local = prepared.local.as_ref().unwrap();
        let port = local.catalogue.local_addr().unwrap().port();
        let url = format!("http://127.0.0.1:{port}/odata/v1");
        assert!(prepared.grants.net.carries_credentials(&url));
        assert_eq!(prepared.grants.net.endpoints().len(), 2);
    }

    #[test]
    fn a_killed_sessions_scratch_is_removed_at_the_next_start() {
        let parent = tempfile::tempdir().unwrap();
        let stale = parent.path().join(format!("{SCRATCH_PREFIX}dead"));
        std::fs::create_dir_all(&stale).unwrap();
        std::fs::write(stale.join(SCRATCH_LOCK), "").unwrap();
        std::fs::write(stale.join("view.tif"), "x").unwrap();
        let alive = parent.path().join(format!("{SCRATCH_PREFIX}alive"));
        std::fs::create_dir_all(&alive).unwrap();
        let held = std::fs::File::create(alive.join(SCRATCH_LOCK)).unwrap();
        held.lock().unwrap();
        remove_stale_scratch(parent.path());
        assert!(!stale.exists(), "the dead session's folder is gone");
        assert!(alive.exists(), "a live session's folder stays");
    }

    /// Behind the wall a session may empty its scratch folder but not
    /// remove it (that needs a right over the system's temporary folder):
    /// every run left an empty folder, and a thousand of them slowed every
    /// start that looked at them.
    #[test]
    fn an_emptied_scratch_folder_is_removed_once_it_is_old() {
        let parent = tempfile::tempdir().unwrap();
        let emptied = parent.path().join(format!("{SCRATCH_PREFIX}emptied"));
        std::fs::create_dir_all(&emptied).unwrap();
        let old = std::time::SystemTime::now() - SCRATCH_BIRTH * 2;
        std::fs::File::open(&emptied)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let starting = parent.path().join(format!("{SCRATCH_PREFIX}starting"));
        std::fs::create_dir_all(&starting).unwrap();
        remove_stale_scratch(parent.path());
        assert!(!emptied.exists(), "the emptied folder is gone");
        assert!(
            starting.exists(),
            "a folder just made (its lock not yet taken) stays"
        );
    }

    /// Sessions start side by side (a class, a test run): one's clean-up
    /// must never take another's folder in the moment between making it
    /// and locking it.
    #[test]
    fn sessions_starting_together_keep_their_folders() {
        let parent = tempfile::tempdir().unwrap();
        let lost = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..300 {
                        match Scratch::create_in(parent.path()) {
                            Ok(scratch) if scratch.path().exists() => {}
                            _ => {
                                lost.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                            }
                        }
                    }
                });
            }
        });
        assert_eq!(lost.into_inner(), 0, "sessions lost their scratch folder");
    }
}
