//! The local catalogue (`cleope catalogue serve`, and the embedded default):
//! a real HTTP server on loopback over an archive's `index.json`, speaking
//! ONDA's dialect at `/dias-catalogue` and CDSE's at `/odata/v1`, with the
//! behaviour of the real services: paging limits, orders of archived
//! products restored after a delay, an hourly order quota, HTTP Basic and
//! token logins, ranged downloads with checksums, and CDSE's download
//! redirect to a second address. See README.md in this folder for the
//! endpoints and the test hooks.
//!
//! ```no_run
//! use cleope_catalogue::{Account, Server, ServerConfig};
//! let mut config = ServerConfig::new("/tmp/demo-archive");
//! config.accounts.push(Account::new("ada", "a password from somewhere safe"));
//! let server = Server::start(config)?;
//! println!("{}/Products?$search=...", server.onda_base());
//! # Ok::<(), cleope_catalogue::ServerError>(())
//! ```
//!
//! The server runs on its own tokio runtime thread and stops when the
//! [`Server`] value is dropped.

mod auth;
mod cdse;
mod download;
mod faults;
pub mod indexer;
mod listener;
mod nodes;
pub mod odata;
mod onda;
pub mod stac;
mod store;

pub use auth::Account;
pub use faults::Fault;
pub use listener::ConnectionLimits;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use chrono::{DateTime, Utc};

use cleope_eo::archive::ProductRecord;
use cleope_eo::odata::Dialect;

/// How to run a local catalogue.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// The archive: a folder with `index.json`, `.packed/` (downloads) and
    /// `.offline/` (archived products), as `cleope demo-archive` writes.
    pub archive: PathBuf,
    /// Where the catalogue listens; loopback only. Port 0: a free port.
    pub addr: SocketAddr,
    /// Where CDSE downloads are redirected to (another port); loopback only.
    pub download_addr: SocketAddr,
    /// How long an ordered product takes to come online.
    pub restore_delay: Duration,
    /// Orders a user may place in an hour (ONDA's rule: 20).
    pub order_quota: usize,
    /// Who may order and download (ONDA Basic auth and CDSE logins); with
    /// none, any user name and password are accepted.
    pub accounts: Vec<Account>,
    /// Lifetime of a CDSE access token (600 s at CDSE).
    pub token_lifetime: Duration,
    /// Lifetime of a CDSE refresh token (3600 s at CDSE).
    pub refresh_lifetime: Duration,
    /// The status of CDSE's download redirect: 301, 302, 303, 307 or 308.
    pub redirect_status: u16,
    /// A SQLite file for the index and the orders (orders then survive a
    /// restart); None: in memory.
    pub database: Option<PathBuf>,
    /// Faults to inject from the start (see [`Fault`]).
    pub faults: Vec<Fault>,
    /// Serve the test hooks at `/admin/faults` and `/admin/requests`.
    pub admin: bool,
    /// What each listener allows its clients (time-outs, sizes, connections).
    pub limits: ConnectionLimits,
    /// Sockets bound before (a session binds its local catalogue's ports
    /// before the operating-system wall, which then grants only those);
    /// None: bind `addr` and `download_addr`.
    pub listeners: Option<Arc<Listeners>>,
}

/// The catalogue's and the downloads' sockets, already bound.
#[derive(Debug)]
pub struct Listeners {
    pub catalogue: std::net::TcpListener,
    pub downloads: std::net::TcpListener,
}

impl ServerConfig {
    /// The defaults: free loopback ports, a 10 s restoration, 20 orders an
    /// hour, no accounts (anyone is let in), CDSE's token lifetimes, a 307
    /// redirect, the index in memory, no faults, no admin endpoints, and
    /// [`ConnectionLimits::default`].
    pub fn new(archive: impl Into<PathBuf>) -> ServerConfig {
        let loopback = SocketAddr::from(([127, 0, 0, 1], 0));
        ServerConfig {
            archive: archive.into(),
            addr: loopback,
            download_addr: loopback,
            restore_delay: Duration::from_secs(10),
            order_quota: 20,
            accounts: Vec::new(),
            token_lifetime: Duration::from_secs(600),
            refresh_lifetime: Duration::from_secs(3600),
            redirect_status: 307,
            database: None,
            faults: Vec::new(),
            admin: false,
            limits: ConnectionLimits::default(),
            listeners: None,
        }
    }
}

/// Why the catalogue could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    /// The archive's index cannot be read.
    #[error("{0}")]
    Archive(String),
    /// The SQLite index cannot be built.
    #[error("cannot build the catalogue index in {place}: {error}")]
    Database {
        /// The file, or "memory".
        place: String,
        /// SQLite's reason.
        error: String,
    },
    /// The configuration is not usable.
    #[error("{0}")]
    Config(String),
    /// A listening address cannot be taken.
    #[error("cannot listen on {addr}: {source} (choose another port, or port 0 for a free one)")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The server's thread or runtime cannot start.
    #[error("cannot start the catalogue's runtime: {0}")]
    Runtime(std::io::Error),
}

impl ServerError {
    fn database(path: Option<&Path>, error: rusqlite::Error) -> ServerError {
        ServerError::Database {
            place: path
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "memory".into()),
            error: error.to_string(),
        }
    }
}

/// What every handler shares.
pub(crate) struct App {
    config: ServerConfig,
    store: Mutex<store::Store>,
    tokens: Mutex<auth::Tokens>,
    faults: Mutex<faults::Faults>,
    log: Mutex<faults::RequestLog>,
    /// Downloads under way (for the test hook `/admin/transfers`).
    transfers: Arc<faults::Transfers>,
    /// `http://127.0.0.1:<port>` of the catalogue.
    catalogue_url: String,
    /// `http://127.0.0.1:<port>` of the download listener.
    download_url: String,
    /// Files the server makes while serving (zip members served as nodes),
    /// removed when it stops.
    scratch: tempfile::TempDir,
}

impl App {
    fn onda_base(&self) -> String {
        format!("{}/dias-catalogue", self.catalogue_url)
    }

    fn cdse_base(&self) -> String {
        format!("{}/odata/v1", self.catalogue_url)
    }

    fn stac_base(&self) -> String {
        format!("{}{}", self.catalogue_url, stac::BASE_PATH)
    }

    fn token_url(&self) -> String {
        format!(
            "{}/auth/realms/CDSE/protocol/openid-connect/token",
            self.catalogue_url
        )
    }
}

/// A running local catalogue; it stops when dropped.
pub struct Server {
    app: Arc<App>,
    products: usize,
    indexing: Duration,
    demo: Account,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Server {
    /// Indexes the archive, binds both listeners (errors come back here)
    /// and serves on a thread of its own until the `Server` is dropped.
    pub fn start(config: ServerConfig) -> Result<Server, ServerError> {
        for (what, addr) in [
            ("--addr", config.addr),
            ("--download-addr", config.download_addr),
        ] {
            if !addr.ip().is_loopback() {
                return Err(ServerError::Config(format!(
                    "{what} {addr} is not a loopback address: the local catalogue serves this machine only \
                     (use 127.0.0.1:PORT)"
                )));
            }
        }
        if ![301, 302, 303, 307, 308].contains(&config.redirect_status) {
            return Err(ServerError::Config(format!(
                "the redirect status {} is not a redirect: use 301, 302, 303, 307 or 308",
                config.redirect_status
            )));
        }
        let started = Instant::now();
        let store = store::Store::open(&config.archive, config.database.as_deref())?;
        let products = store.len();
        let indexing = started.elapsed();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("cleope-catalogue")
            .enable_all()
            .build()
            .map_err(ServerError::Runtime)?;
        let bind = |addr: SocketAddr,
                    bound: Option<&std::net::TcpListener>|
         -> Result<tokio::net::TcpListener, ServerError> {
            let listener = match bound {
                Some(bound) => bound.try_clone(),
                None => std::net::TcpListener::bind(addr),
            }
            .and_then(|l| l.set_nonblocking(true).map(|_| l))
            .map_err(|source| ServerError::Bind { addr, source })?;
            let _context = runtime.enter();
            tokio::net::TcpListener::from_std(listener)
                .map_err(|source| ServerError::Bind { addr, source })
        };
        let bound = config.listeners.as_deref();
        let catalogue = bind(config.addr, bound.map(|l| &l.catalogue))?;
        let downloads = bind(config.download_addr, bound.map(|l| &l.downloads))?;
        let url = |listener: &tokio::net::TcpListener| {
            listener
                .local_addr()
                .map(|a| format!("http://{a}"))
                .map_err(ServerError::Runtime)
        };
        let demo =
            config.accounts.first().cloned().unwrap_or_else(|| {
                Account::new("cleope", uuid::Uuid::new_v4().simple().to_string())
            });
        let app = Arc::new(App {
            catalogue_url: url(&catalogue)?,
            download_url: url(&downloads)?,
            store: Mutex::new(store),
            tokens: Mutex::new(auth::Tokens::new(
                config.token_lifetime,
                config.refresh_lifetime,
            )),
            faults: Mutex::new(faults::Faults::new(config.faults.clone())),
            log: Mutex::new(faults::RequestLog::default()),
            transfers: Arc::default(),
            scratch: tempfile::Builder::new()
                .prefix("cleope-catalogue-")
                .tempdir()
                .map_err(ServerError::Runtime)?,
            config,
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let routers = (catalogue_router(&app), download_router(&app));
        let limits = app.config.limits;
        let thread = std::thread::Builder::new()
            .name("cleope-catalogue".into())
            .spawn(move || serve(runtime, (catalogue, downloads), routers, limits, stopped))
            .map_err(ServerError::Runtime)?;
        Ok(Server {
            app,
            products,
            indexing,
            demo,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// The embedded default over `archive`: free loopback ports, one demo
    /// account with a random password (see [`Server::demo_credentials`]),
    /// orders restored after 10 s.
    pub fn start_local(archive: &Path) -> Result<Server, ServerError> {
        let mut config = ServerConfig::new(archive);
        config.accounts.push(Account::new(
            "cleope",
            uuid::Uuid::new_v4().simple().to_string(),
        ));
        Server::start(config)
    }

    /// ONDA's base URL: `http://127.0.0.1:<port>/dias-catalogue` (append
    /// `/Products?$search=…`, `/Products/$count`, `/Products(<id>)/$value`,
    /// `/Products(<id>)/Ens.Order`).
    pub fn onda_base(&self) -> String {
        self.app.onda_base()
    }

    /// CDSE's base URL: `http://127.0.0.1:<port>/odata/v1` (append
    /// `/Products?$filter=…`, `/Products(<id>)`, `/Products(<id>)/$value`,
    /// `/Products(<id>)/OData.CSC.Order`).
    pub fn cdse_base(&self) -> String {
        self.app.cdse_base()
    }

    /// The STAC API's base URL: `http://127.0.0.1:<port>/stac/v1` (append
    /// `/`, `/conformance`, `/collections`, `/search`).
    pub fn stac_base(&self) -> String {
        self.app.stac_base()
    }

    /// The base URL of a dialect ([`Server::onda_base`] or [`Server::cdse_base`]).
    pub fn base_url(&self, dialect: Dialect) -> String {
        match dialect {
            Dialect::Onda => self.onda_base(),
            Dialect::Cdse => self.cdse_base(),
            Dialect::Stac => self.stac_base(),
        }
    }

    /// The CDSE token endpoint:
    /// `http://127.0.0.1:<port>/auth/realms/CDSE/protocol/openid-connect/token`.
    pub fn token_url(&self) -> String {
        self.app.token_url()
    }

    /// `http://127.0.0.1:<port>` of the download listener CDSE redirects to.
    pub fn download_base(&self) -> String {
        self.app.download_url.clone()
    }

    /// `http://127.0.0.1:<port>/admin` when the test hooks are served.
    pub fn admin_url(&self) -> Option<String> {
        self.app
            .config
            .admin
            .then(|| format!("{}/admin", self.app.catalogue_url))
    }

    /// An account the server accepts: the first configured one, or (with no
    /// accounts, when anyone is let in) a generated one.
    pub fn demo_credentials(&self) -> Account {
        self.demo.clone()
    }

    /// How many products the catalogue holds.
    pub fn product_count(&self) -> usize {
        self.products
    }

    /// How long indexing the archive took.
    pub fn indexing_time(&self) -> Duration {
        self.indexing
    }

    /// Stops serving and waits for the server's thread (also done on drop).
    pub fn stop(mut self) {
        self.shutdown();
    }

    fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.shutdown();
    }
}

impl std::fmt::Debug for Server {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Server")
            .field("catalogue", &self.app.catalogue_url)
            .field("downloads", &self.app.download_url)
            .field("products", &self.products)
            .finish()
    }
}

/// The server thread: both listeners (each under `limits`, see
/// `listener.rs`) until told to stop, then a short grace for answers in flight.
fn serve(
    runtime: tokio::runtime::Runtime,
    listeners: (tokio::net::TcpListener, tokio::net::TcpListener),
    routers: (Router, Router),
    limits: ConnectionLimits,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    runtime.block_on(async move {
        let (quit, _) = tokio::sync::broadcast::channel::<()>(1);
        let run = |listener, router: Router| {
            let quit = quit.subscribe();
            tokio::spawn(listener::serve(listener, router, limits, quit))
        };
        let catalogue = run(listeners.0, routers.0);
        let downloads = run(listeners.1, routers.1);
        let _ = stopped.await;
        let _ = quit.send(());
        let _ = tokio::time::timeout(Duration::from_secs(2), async {
            let _ = catalogue.await;
            let _ = downloads.await;
        })
        .await;
    });
    runtime.shutdown_timeout(Duration::from_millis(200));
}

fn catalogue_router(app: &Arc<App>) -> Router {
    let mut router = Router::new()
        .route("/dias-catalogue/Products", get(onda::search))
        .route("/dias-catalogue/Products/$count", get(onda::count))
        .route("/dias-catalogue/{entity}", get(onda::product))
        .route("/dias-catalogue/{entity}/$value", get(onda::download))
        .route("/dias-catalogue/{entity}/Ens.Order", post(onda::order))
        .route("/odata/v1/Products", get(cdse::search))
        .route("/odata/v1/{entity}", get(cdse::product))
        .route("/odata/v1/{entity}/$value", get(cdse::download))
        .route("/odata/v1/{entity}/OData.CSC.Order", post(cdse::order))
        .route("/odata/v1/{entity}/{*nodes}", get(nodes::catalogue))
        .route(
            "/auth/realms/CDSE/protocol/openid-connect/token",
            post(cdse::token),
        )
        .merge(stac::router());
    if app.config.admin {
        router = router
            .route(
                "/admin/faults",
                get(faults::list).post(faults::add).delete(faults::clear),
            )
            .route(
                "/admin/requests",
                get(faults::requests).delete(faults::forget_requests),
            )
            .route(
                "/admin/transfers",
                get(faults::transfers).delete(faults::reset_transfers),
            );
    }
    router
        .fallback(unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            (Arc::clone(app), "catalogue"),
            faults::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.config.limits,
            listener::bounded_body,
        ))
        .with_state(Arc::clone(app))
}

fn download_router(app: &Arc<App>) -> Router {
    Router::new()
        .route("/download/{entity}/$value", get(cdse::download_host))
        .route("/download/{entity}/{*nodes}", get(nodes::download_host))
        .fallback(unknown_path)
        .layer(axum::middleware::from_fn_with_state(
            (Arc::clone(app), "download"),
            faults::middleware,
        ))
        .layer(axum::middleware::from_fn_with_state(
            app.config.limits,
            listener::bounded_body,
        ))
        .with_state(Arc::clone(app))
}

async fn unknown_path(uri: axum::http::Uri) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(serde_json::json!({"detail": format!(
            "nothing is served at {}: ONDA is at /dias-catalogue/Products, CDSE at /odata/v1/Products, \
             a STAC API at /stac/v1/, \
             the CDSE token endpoint at /auth/realms/CDSE/protocol/openid-connect/token",
            uri.path()
        )})),
    )
        .into_response()
}

/// The decoded pairs of a query string (`+` is a space, as in forms).
pub(crate) fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .into_owned()
        .collect()
}

/// The id in `Products(<id>)` or `Products('<id>')`.
pub(crate) fn entity_id(entity: &str) -> Option<String> {
    let inner = entity.strip_prefix("Products(")?.strip_suffix(')')?;
    let id = inner.trim().trim_matches('\'');
    (!id.is_empty()).then(|| id.to_string())
}

/// The file, name, type and injected damage of a product's download.
pub(crate) fn prepare_download(
    app: &App,
    store: &store::Store,
    record: &ProductRecord,
    filename: String,
) -> download::Download {
    let path = store.archive().join(record.packed_relative());
    let size = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    let damage = damage_for(app, record, size);
    download::Download {
        path,
        filename,
        content_type: if record.packing == cleope_eo::download::Packing::Zip {
            "application/zip"
        } else {
            "application/octet-stream"
        },
        damage,
        in_flight: app.transfers.begin(),
    }
}

/// The damage the pending faults ask for a download (a whole product or
/// one of its files) of `size` bytes of `record`.
pub(crate) fn damage_for(app: &App, record: &ProductRecord, size: u64) -> faults::Damage {
    let names_it = |key: &str| {
        let stem = cleope_eo::ens::name_stem(key);
        key.eq_ignore_ascii_case(&record.id)
            || stem == cleope_eo::ens::name_stem(&record.name)
            || stem == cleope_eo::ens::name_stem(&record.cdse_name)
    };
    app.faults.lock().unwrap().for_download(names_it, size)
}

/// Restores the product of a new order when its time comes (a request
/// arriving later would restore it too: every handler checks what is due).
pub(crate) fn schedule_restore(app: &Arc<App>) {
    let app = Arc::clone(app);
    let delay = app.config.restore_delay + Duration::from_millis(5);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        app.store.lock().unwrap().restore_due(Utc::now());
    });
}

/// The refusal of an order past the hourly quota.
pub(crate) fn quota_message(user: &str, quota: usize, next: DateTime<Utc>) -> String {
    format!(
        "order quota exceeded: user \"{user}\" has placed {quota} orders in the last hour, the most allowed; \
         the next order is possible at {} UTC",
        next.format("%Y-%m-%d %H:%M:%S")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entity_ids() {
        assert_eq!(entity_id("Products(abc-1)").as_deref(), Some("abc-1"));
        assert_eq!(entity_id("Products('abc-1')").as_deref(), Some("abc-1"));
        assert_eq!(entity_id("Products()"), None);
        assert_eq!(entity_id("Orders(abc)"), None);
    }

    #[test]
    fn only_loopback_is_served() {
        let mut config = ServerConfig::new("/nonexistent");
        config.addr = "0.0.0.0:0".parse().unwrap();
        let error = Server::start(config).unwrap_err();
        assert!(error.to_string().contains("loopback"), "{error}");
        let error = Server::start(ServerConfig::new("/nonexistent")).unwrap_err();
        assert!(error.to_string().contains("index.json"), "{error}");
    }
}
