//! The session's way to the data: which catalogue, which archive, which
//! account. Everything starts lazily, at the first call that needs it:
//!
//! * the archive: the configured one, or (with no catalogue configured) the
//!   demo archive, generated on first use and then shared by every session;
//! * the catalogue: the configured URL, or a local catalogue over the archive
//!   started in-process on a free loopback port (the embedded default);
//! * the account: `login()`, or the accounts read at start (the
//!   environment's for the configured catalogue, `~/.netrc` entries for
//!   their own hosts), or (for the local catalogue) its own demo account.
//!
//! A script may switch to another catalogue only within the network grant,
//! and takes no account there that was configured for another host.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use crate::demo::{default_dir as demo_archive_dir, ensure as ensure_demo_archive};
use crate::eo::archive::ArchiveIndex;
use crate::eo::ens::{Ens, Layout, Mount};
use crate::eo::odata::Dialect;
use crate::eo::odata::client::{Client, ClientConfig, Credentials};
use crate::runtime::Host;
use crate::runtime::accounts::Accounts;
use crate::runtime::config::{CatalogueSettings, Settings};
use crate::runtime::grants::Prepared;
use crate::sandbox::grants::{NetGrants, host_port_of_url};

use crate::runtime::display::Stream;

/// How long the local catalogue takes to restore an ordered product.
pub const LOCAL_RESTORE_DELAY: std::time::Duration = std::time::Duration::from_secs(4);

/// Why the data could not be reached.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessError {
    /// The error kind scripts see.
    pub kind: &'static str,
    /// What happened.
    pub message: String,
    /// How to fix it.
    pub hint: String,
}

/// Which catalogue the session talks to.
#[derive(Debug, Clone, PartialEq)]
pub struct Selection {
    /// Its dialect.
    pub dialect: Dialect,
    /// Its base URL; None: the local catalogue over the archive.
    pub url: Option<String>,
    /// The CDSE token endpoint, when not the usual one.
    pub token_url: Option<String>,
}

/// The mounted archive as the session sees it.
#[derive(Debug)]
pub struct Archive {
    /// Its root as the session sees it (a private view of an indexed
    /// archive, so orders restored by the local catalogue stay private).
    pub root: Option<PathBuf>,
    /// The archive itself.
    pub source: Option<PathBuf>,
    /// The folder of the private view, removed with the session.
    _view: Option<tempfile::TempDir>,
    /// The mounts ENS looks in.
    pub ens: Ens,
    /// Its index.json, when it has one (the local catalogue and `ens_find` need it).
    pub index: Option<ArchiveIndex>,
    /// True when it is the demo archive of the embedded default.
    pub demo: bool,
}

/// The session's data-access state (one per session, kept by its host).
pub struct DataAccess {
    settings: CatalogueSettings,
    archive: Option<PathBuf>,
    accounts: Accounts,
    net: Arc<NetGrants>,
    scratch: PathBuf,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    selection: Option<Selection>,
    archive: Option<Arc<Archive>>,
    local: Option<Arc<crate::catalogue::Server>>,
    /// The local catalogue's sockets, bound before the wall, until it starts.
    listeners: Option<crate::catalogue::Listeners>,
    client: Option<Arc<Client>>,
    /// A client with no catalogue and no account, for public remote files.
    anonymous: Option<Arc<Client>>,
    /// The local catalogue's CDSE client, for the files its STAC assets name.
    local_cdse: Option<Arc<Client>>,
    /// The local catalogue's STAC client (`stac_search` with no STAC catalogue chosen).
    local_stac: Option<Arc<Client>>,
    /// The account given with `login()`, and the host it was given for
    /// (None: the local catalogue).
    login: Option<(Option<String>, Credentials)>,
}

impl DataAccess {
    /// The state for a session with these settings and grants (nothing
    /// starts yet; the local catalogue's sockets are taken from `prepared`).
    pub fn new(settings: &Settings, prepared: &mut Prepared) -> DataAccess {
        DataAccess {
            settings: settings.catalogue.clone(),
            archive: settings.archive.clone(),
            accounts: settings.accounts.clone(),
            net: Arc::new(prepared.grants.net.clone()),
            scratch: prepared.grants.scratch.clone(),
            state: Mutex::new(State {
                listeners: prepared.local.take(),
                ..State::default()
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The catalogue in use: as selected with `catalogue(...)`, else as configured.
    pub fn selection(&self) -> Selection {
        let state = self.lock();
        self.selection_of(&state)
    }

    fn selection_of(&self, state: &State) -> Selection {
        if let Some(selection) = &state.selection {
            return selection.clone();
        }
        let url = self.settings.url.clone();
        let dialect = self.settings.dialect.unwrap_or_else(|| {
            let cdse = url
                .as_deref()
                .is_some_and(|u| u.contains("dataspace.copernicus.eu"));
            if cdse { Dialect::Cdse } else { Dialect::Onda }
        });
        Selection {
            dialect,
            url,
            token_url: self.settings.token_url.clone(),
        }
    }

    /// Switches to another catalogue (the archive stays), if the network
    /// grant reaches it.
    pub fn select(&self, selection: Selection) -> Result<(), AccessError> {
        for url in [&selection.url, &selection.token_url].into_iter().flatten() {
            self.net.check(url).map_err(|refusal| AccessError {
                kind: "NetworkNotAllowed",
                message: refusal.message,
                hint: refusal.hint,
            })?;
        }
        let mut state = self.lock();
        state.selection = Some(selection);
        state.client = None;
        Ok(())
    }

    /// The accounts read at start, where each may go (no passwords).
    pub fn accounts_summary(&self) -> Vec<String> {
        self.accounts.summary()
    }

    /// Uses this account, for the catalogue in use, from now on; returns
    /// the catalogue's host (`None` for a local archive).
    pub fn login(&self, credentials: Credentials) -> Option<String> {
        let mut state = self.lock();
        let host = self.selection_of(&state).url.as_deref().and_then(host_of);
        if let Some(client) = &state.client {
            client.set_credentials(credentials.clone());
        }
        state.login = Some((host.clone(), credentials));
        host
    }

    /// The account for the catalogue `selection` names: one given with
    /// `login()` for it, else the configured account (only for the
    /// configured catalogue), else a netrc entry for its own host.
    fn account_for(&self, state: &State, selection: &Selection) -> Option<Credentials> {
        let host = selection.url.as_deref().and_then(host_of);
        if let Some((login_host, credentials)) = &state.login
            && *login_host == host
        {
            return Some(credentials.clone());
        }
        let configured = selection.url == self.settings.url;
        match (&host, configured) {
            (Some(host), true) => self.accounts.for_configured(selection.dialect, host),
            (Some(host), false) => self.accounts.for_host(host),
            (None, _) => self.accounts.for_configured(selection.dialect, "127.0.0.1"),
        }
    }

    /// The archive: opened (and, for the demo archive, generated) at the first call.
    pub fn archive(&self, host: &Host) -> Result<Arc<Archive>, AccessError> {
        let mut state = self.lock();
        self.archive_locked(&mut state, host)
    }

    fn archive_locked(&self, state: &mut State, host: &Host) -> Result<Arc<Archive>, AccessError> {
        if let Some(archive) = &state.archive {
            return Ok(Arc::clone(archive));
        }
        let layout = self.settings.archive_layout.unwrap_or(Layout::Onda);
        let (root, demo) = match (&self.archive, &self.settings.url) {
            (Some(root), _) => (Some(root.clone()), false),
            (None, None) => (Some(demo_archive_dir()), true),
            (None, Some(_)) => (None, false),
        };
        let index = match &root {
            Some(root) if demo => Some(open_demo_archive(root, host)?),
            Some(root) => ArchiveIndex::load(root).ok(),
            None => None,
        };
        let view = match (&root, &index) {
            (Some(root), Some(index)) => Some(private_view(root, index, layout, &self.scratch)?),
            _ => None,
        };
        let seen = view
            .as_ref()
            .map(|v| v.path().to_path_buf())
            .or(root.clone());
        for path in [&root, &seen].into_iter().flatten() {
            host.add_read_only_root("product archive", path);
        }
        let mounts = seen
            .iter()
            .map(|root| Mount {
                root: root.clone(),
                layout,
            })
            .collect();
        let archive = Arc::new(Archive {
            root: seen,
            source: root,
            _view: view,
            ens: Ens::new(mounts),
            index,
            demo,
        });
        state.archive = Some(Arc::clone(&archive));
        Ok(archive)
    }

    /// The catalogue client: the configured catalogue, or the local one
    /// (started on first use).
    pub fn client(&self, host: &Host) -> Result<Arc<Client>, AccessError> {
        let mut state = self.lock();
        if let Some(client) = &state.client {
            return Ok(Arc::clone(client));
        }
        let selection = self.selection_of(&state);
        let (base_url, token_url, fallback) = match &selection.url {
            Some(url) => (url.clone(), selection.token_url.clone(), None),
            None => {
                let server = self.local_locked(&mut state, host)?;
                let base = server.base_url(selection.dialect);
                let token = server.token_url();
                let demo = server.demo_credentials();
                let account = Credentials::new(demo.username, demo.password);
                (base, Some(token), Some(account))
            }
        };
        let mut config = ClientConfig::new(selection.dialect, &base_url);
        config.token_url = token_url;
        config.net = Some(Arc::clone(&self.net));
        if let Some(cap) = self.settings.max_parallel_downloads {
            config.max_parallel_downloads = cap;
        }
        let credentials = self.account_for(&state, &selection).or(fallback);
        let client = Arc::new(Client::new(config, credentials));
        state.client = Some(Arc::clone(&client));
        Ok(client)
    }

    /// The client remote files are read with (`open_raster("https://…")`):
    /// the catalogue's client when there is one, a catalogue is configured
    /// or the local one runs (whose assets need its account; the account
    /// goes to the catalogue's own hosts only), else a client with no
    /// account, so that reading a public file does not start the local
    /// catalogue. Either way, inside the session's network grant.
    pub fn http_client(&self, host: &Host, url: &str) -> Result<Arc<Client>, AccessError> {
        if let Some(client) = self.local_cdse_client(url) {
            return Ok(client);
        }
        let catalogue = {
            let state = self.lock();
            if let Some(client) = &state.client {
                return Ok(Arc::clone(client));
            }
            self.selection_of(&state).url.is_some() || state.local.is_some()
        };
        if catalogue {
            return self.client(host);
        }
        let mut state = self.lock();
        let client = state.anonymous.get_or_insert_with(|| {
            // No catalogue: the base URL is never asked; the grant is.
            let mut config = ClientConfig::new(Dialect::Cdse, "http://127.0.0.1/");
            config.net = Some(Arc::clone(&self.net));
            Arc::new(Client::new(config, None))
        });
        Ok(Arc::clone(client))
    }

    /// A client for STAC searches: the catalogue in use when it speaks STAC,
    /// else the local catalogue's STAC API when the catalogue is the local
    /// one; a remote OData catalogue has no STAC side cleope knows.
    pub fn stac_client(&self, host: &Host) -> Result<Arc<Client>, AccessError> {
        let selection = self.selection_of(&self.lock());
        if selection.dialect == Dialect::Stac {
            return self.client(host);
        }
        if let Some(url) = &selection.url {
            return Err(AccessError {
                kind: "NotStac",
                message: format!("the catalogue in use ({url}) is an OData catalogue, not a STAC API"),
                hint: "choose a STAC catalogue first, e.g. catalogue(#{ url: \"https://stac.dataspace.copernicus.eu/v1\", dialect: \"stac\" })".into(),
            });
        }
        let mut state = self.lock();
        let server = self.local_locked(&mut state, host)?;
        // Kept for the session: a client has its own runtime and thread.
        let client = state.local_stac.get_or_insert_with(|| {
            let mut config = ClientConfig::new(Dialect::Stac, &server.stac_base());
            config.net = Some(Arc::clone(&self.net));
            Arc::new(Client::new(config, None))
        });
        Ok(Arc::clone(client))
    }

    /// For a file the local catalogue serves in CDSE's dialect (a STAC
    /// asset's `Nodes(…)/$value`): a CDSE client of the local catalogue
    /// with its account, which those files need (a Bearer token), whatever
    /// dialect the session's own client speaks.
    fn local_cdse_client(&self, url: &str) -> Option<Arc<Client>> {
        let mut state = self.lock();
        let server = Arc::clone(state.local.as_ref()?);
        let base = server.base_url(Dialect::Cdse);
        if !url.starts_with(&base) {
            return None;
        }
        let client = state.local_cdse.get_or_insert_with(|| {
            let mut config = ClientConfig::new(Dialect::Cdse, &base);
            config.token_url = Some(server.token_url());
            config.net = Some(Arc::clone(&self.net));
            let demo = server.demo_credentials();
            Arc::new(Client::new(
                config,
                Some(Credentials::new(demo.username, demo.password)),
            ))
        });
        Some(Arc::clone(client))
    }

    /// The local catalogue over the archive, started on first use.
    fn local_locked(
        &self,
        state: &mut State,
        host: &Host,
    ) -> Result<Arc<crate::catalogue::Server>, AccessError> {
        if let Some(server) = &state.local {
            return Ok(Arc::clone(server));
        }
        let archive = self.archive_locked(state, host)?;
        // The catalogue serves the session's view, so its restorations stay private.
        let root = archive.root.clone().ok_or_else(|| AccessError {
            kind: "NoCatalogue",
            message: "no catalogue is configured and no archive is mounted to serve".into(),
            hint: "set the catalogue (--catalogue URL) or the archive (--archive DIR)".into(),
        })?;
        let mut config = crate::catalogue::ServerConfig::new(&root);
        if let Some(listeners) = state.listeners.take() {
            config.listeners = Some(Arc::new(listeners));
        }
        // A short restoration keeps the tutorials' orders quick.
        config.restore_delay = LOCAL_RESTORE_DELAY;
        config.accounts.push(crate::catalogue::Account::new(
            "cleope",
            uuid::Uuid::new_v4().simple().to_string(),
        ));
        let server = crate::catalogue::Server::start(config).map_err(|e| AccessError {
            kind: "CatalogueUnavailable",
            message: format!(
                "cannot start the local catalogue over {}: {e}",
                root.display()
            ),
            hint: "the archive needs an index.json (cleope demo-archive DIR writes one)".into(),
        })?;
        let server = Arc::new(server);
        state.local = Some(Arc::clone(&server));
        Ok(server)
    }

    /// A description for `catalogue()`: dialect, URL, archive, user.
    pub fn describe(&self) -> Description {
        let state = self.lock();
        let selection = self.selection_of(&state);
        let url = match (&selection.url, &state.local) {
            (Some(url), _) => Some(url.clone()),
            (None, Some(server)) => Some(server.base_url(selection.dialect)),
            (None, None) => None,
        };
        Description {
            dialect: selection.dialect,
            local: selection.url.is_none(),
            url,
            archive: state
                .archive
                .as_ref()
                .and_then(|a| a.source.clone())
                .or_else(|| self.archive.clone())
                .or_else(|| selection.url.is_none().then(demo_archive_dir)),
            user: state
                .client
                .as_ref()
                .and_then(|c| c.username())
                .or_else(|| state.login.as_ref().map(|(_, c)| c.username.clone())),
        }
    }
}

/// What `catalogue()` reports.
#[derive(Debug, Clone, PartialEq)]
pub struct Description {
    /// The dialect.
    pub dialect: Dialect,
    /// True for the local catalogue over the archive.
    pub local: bool,
    /// The base URL, once known.
    pub url: Option<String>,
    /// The archive root.
    pub archive: Option<PathBuf>,
    /// The account's user name, if any.
    pub user: Option<String>,
}

/// The host of a URL, as grants name it.
fn host_of(url: &str) -> Option<String> {
    host_port_of_url(url).ok().map(|(host, _)| host)
}

/// A private view of an indexed archive in the session's scratch folder.
fn private_view(
    root: &Path,
    index: &ArchiveIndex,
    layout: Layout,
    scratch: &Path,
) -> Result<tempfile::TempDir, AccessError> {
    let failed = |e: std::io::Error| AccessError {
        kind: "ArchiveUnavailable",
        message: format!(
            "cannot prepare the session's view of {}: {e}",
            root.display()
        ),
        hint: "check that the temporary folder (TMPDIR) can be written and has space".into(),
    };
    let view = tempfile::Builder::new()
        .prefix("ens-view-")
        .tempdir_in(scratch)
        .map_err(failed)?;
    crate::eo::ens::build_view(root, index, layout, view.path()).map_err(failed)?;
    Ok(view)
}

/// The demo archive, generated first when needed (a note says why the
/// first call takes a while).
fn open_demo_archive(root: &Path, host: &Host) -> Result<ArchiveIndex, AccessError> {
    if let Ok(index) = ArchiveIndex::load(root) {
        return Ok(index);
    }
    host.display.stream(
        Stream::Stderr,
        &format!(
            "note: writing the demo archive to {} (first use only; set CLEOPE_DEMO_ARCHIVE to choose the folder)\n",
            root.display()
        ),
    );
    ensure_demo_archive(root).map_err(|e| AccessError {
        kind: "ArchiveUnavailable",
        message: format!("the demo archive could not be written: {e}"),
        hint: "check that the folder can be written, or point CLEOPE_DEMO_ARCHIVE (or --archive) elsewhere"
            .into(),
    })
}
