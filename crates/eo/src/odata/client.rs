//! The catalogue client: searches page by page behind one `max_results`,
//! retries what a busy server may fail (429, 5xx, timeouts) with a short
//! doubling backoff, logs in (ONDA: Basic; CDSE: a token from the password
//! grant, refreshed before it expires), orders archived products and
//! downloads with resume.
//!
//! Redirects are followed by hand: reqwest drops the `Authorization` header
//! when a redirect changes host, and CDSE's `$value` answers with a redirect
//! to its download host that needs the Bearer token too.
//!
//! Credentials are held only in memory: never printed, logged, or written.
//!
//! Every request and every wait honours the run's deadline and the
//! interrupt: requests run on the client's own tokio runtime, and `Client::finish` gives up on one as soon as the session's
//! [`Cancel`] says stop (checked every 50 ms), whether the server is slow
//! to answer, sends nothing, or stalls mid-download. Answers are read with
//! a size cap; a `Retry-After` is honoured up to a minute, and one that
//! would outlast the run's time limit is the time-limit error at once.
//! Downloads (whole products, and single files through `client/nodes.rs`)
//! share the session's cap on transfers at once, and an error page served
//! in place of data is refused before a byte is written (`client/payload.rs`).

use std::fmt;
use std::future::Future;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::{RequestBuilder, Response, StatusCode};

use super::response::CatalogueProduct;
use super::{Dialect, Page, Query};
use crate::download::{
    Body, Cause, DownloadError, Expected, Limits, ProductLock, Progress, RetryPolicy, Source,
    TransferSlots, Unit, fetch, local_name, pause, record_local, unpack,
};

mod nodes;
mod payload;
use cleope_sandbox::grants::{NetGrants, NetRefusal};
use cleope_sandbox::{Cancel, Stop, Workspace};
pub use nodes::NodeFile;

/// The most results one search returns (CDSE refuses `$skip` past 10,000).
pub const MAX_RESULTS: usize = 10_000;

/// Results asked per request. 100 is what CLEOPE used with ONDA; CDSE
/// allows up to 1,000, but smaller pages keep each answer quick.
pub const PAGE_SIZE: usize = 100;

/// CDSE's public client id for the password grant.
const CDSE_CLIENT_ID: &str = "cdse-public";

/// The largest search answer read: a page of 100 products with their
/// attributes is a few hundred kilobytes; more is a broken or hostile server.
pub const MAX_PAGE_BYTES: u64 = 16 << 20;

/// The largest small answer read (a count, an order, a token, an error's text).
pub const MAX_SMALL_ANSWER_BYTES: u64 = 64 << 10;

/// The longest `Retry-After` waited for; a server asking for more gets an
/// error at once, saying when it asked to be tried again.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// How often a request in flight checks the interrupt and the deadline.
const CHECK_EVERY: Duration = Duration::from_millis(50);

/// The longest lifetime believed of a token (a hostile answer may say
/// "for ever"; cleope logs in again after a day at most).
const MAX_TOKEN_LIFETIME: Duration = Duration::from_secs(24 * 3600);

/// A password that never shows: `Debug` prints stars and there is no `Display`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a password.
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// An account on the catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name (shown in messages).
    pub username: String,
    /// The password (never shown).
    pub password: Secret,
    /// A one-time code for CDSE accounts with two-factor login.
    pub totp: Option<Secret>,
}

impl Credentials {
    /// An account from a user name and password.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Credentials {
        Credentials {
            username: username.into(),
            password: Secret::new(password),
            totp: None,
        }
    }

    /// From a netrc file (`machine <host> login <user> password <secret>`,
    /// or a `default` entry), as curl and sentinelsat read it.
    pub fn from_netrc(text: &str, host: &str) -> Option<Credentials> {
        let tokens: Vec<&str> = text.split_whitespace().collect();
        let mut found: Option<(Option<String>, Option<String>)> = None;
        let mut fallback: Option<(Option<String>, Option<String>)> = None;
        let mut current: Option<&mut (Option<String>, Option<String>)> = None;
        let mut i = 0;
        while i < tokens.len() {
            match tokens[i] {
                "machine" if i + 1 < tokens.len() => {
                    i += 1;
                    current = if tokens[i] == host && found.is_none() {
                        found = Some((None, None));
                        found.as_mut()
                    } else {
                        None
                    };
                }
                "default" => {
                    fallback = Some((None, None));
                    current = fallback.as_mut();
                }
                "login" if i + 1 < tokens.len() => {
                    i += 1;
                    if let Some(entry) = current.as_deref_mut() {
                        entry.0 = Some(tokens[i].to_string());
                    }
                }
                "password" if i + 1 < tokens.len() => {
                    i += 1;
                    if let Some(entry) = current.as_deref_mut() {
                        entry.1 = Some(tokens[i].to_string());
                    }
                }
                _ => {}
            }
            i += 1;
        }
        match found.or(fallback)? {
            (Some(username), Some(password)) => Some(Credentials::new(username, password)),
            _ => None,
        }
    }
}

/// Where the catalogue is and how to talk to it.
#[derive(Debug, Clone)]
pub struct ClientConfig {
    /// The dialect.
    pub dialect: Dialect,
    /// Base URL: ONDA's `…/dias-catalogue`, CDSE's `…/odata/v1`.
    pub base_url: String,
    /// The CDSE token endpoint; None: the one that goes with the base URL.
    pub token_url: Option<String>,
    /// Tries and waits for transient failures.
    pub retry: RetryPolicy,
    /// Time allowed to connect, and for each read.
    pub timeout: Duration,
    /// Results per request.
    pub page_size: usize,
    /// Where requests may go, and which hosts may receive the account; None:
    /// anywhere (a library client; sessions always set the grant).
    pub net: Option<Arc<NetGrants>>,
    /// Downloads (whole products or single files) at once, at most.
    pub max_parallel_downloads: usize,
}

/// Connections CDSE allows one account at once (its Quotas page).
const CDSE_CONNECTIONS: usize = 4;

/// Downloads at once by default: half of CDSE's four connections per
/// account, so a second session of the same account still gets through.
pub const DEFAULT_PARALLEL_DOWNLOADS: usize = 2;

impl ClientConfig {
    /// A configuration with the usual retries, time-outs and page size.
    pub fn new(dialect: Dialect, base_url: &str) -> ClientConfig {
        ClientConfig {
            dialect,
            base_url: base_url.trim_end_matches('/').to_string(),
            token_url: None,
            retry: RetryPolicy::default(),
            timeout: Duration::from_secs(30),
            page_size: PAGE_SIZE,
            net: None,
            max_parallel_downloads: DEFAULT_PARALLEL_DOWNLOADS,
        }
    }

    /// The token endpoint: as configured, CDSE's identity service for the
    /// CDSE catalogue, else the same server's `/auth/realms/CDSE/…` path.
    pub fn token_endpoint(&self) -> String {
        if let Some(url) = &self.token_url {
            return url.clone();
        }
        const PATH: &str = "/auth/realms/CDSE/protocol/openid-connect/token";
        match url::Url::parse(&self.base_url) {
            Ok(url)
                if matches!(
                    url.host_str(),
                    Some("catalogue.dataspace.copernicus.eu" | "stac.dataspace.copernicus.eu")
                ) =>
            {
                format!("https://identity.dataspace.copernicus.eu{PATH}")
            }
            Ok(url) => format!("{}{PATH}", url.origin().ascii_serialization()),
            Err(_) => PATH.to_string(),
        }
    }

    /// The host credentials are looked up for (netrc).
    pub fn host(&self) -> String {
        url::Url::parse(&self.base_url)
            .ok()
            .and_then(|url| url.host_str().map(str::to_string))
            .unwrap_or_default()
    }
}

/// Why a catalogue request failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer at all (refused, timed out), after retries.
    #[error("catalogue unreachable at {url}: {detail}")]
    Unreachable {
        /// The address tried.
        url: String,
        /// What the network said.
        detail: String,
    },
    /// The server kept failing (5xx, 429), after retries.
    #[error("the catalogue at {url} failed: HTTP {status} ({detail}), {tries} tries")]
    Server {
        /// The address.
        url: String,
        /// The last status.
        status: u16,
        /// The server's message, shortened.
        detail: String,
        /// How many tries were made.
        tries: u32,
    },
    /// The request was refused as it was (4xx other than 401/403).
    #[error("the catalogue refused the request: HTTP {status} ({detail})")]
    Rejected {
        /// The status.
        status: u16,
        /// The server's message, shortened.
        detail: String,
    },
    /// The account was refused.
    #[error("the catalogue refused the login of user \"{username}\" (HTTP {status})")]
    Unauthorized {
        /// Who tried (never the password).
        username: String,
        /// 401 or 403.
        status: u16,
    },
    /// Ordering or downloading needs an account, and none is known.
    #[error("{what} needs an account on the catalogue, and no login is known")]
    NoCredentials {
        /// What was being done.
        what: String,
    },
    /// No product has that name.
    #[error("no product named {name} in the catalogue")]
    NotFound {
        /// The name asked for.
        name: String,
    },
    /// The product is archived.
    #[error("product {name} is offline: order it with odata_order(\"{name}\")")]
    Offline {
        /// The product.
        name: String,
    },
    /// An ordered product did not come online in time.
    #[error("product {name} is still offline after waiting {waited} s for its restoration")]
    StillOffline {
        /// The product.
        name: String,
        /// Seconds waited.
        waited: u64,
    },
    /// The order was not accepted (e.g. the 20-orders-an-hour quota).
    #[error("the order of {name} was refused: {detail}")]
    OrderRefused {
        /// The product.
        name: String,
        /// Why, as the server says.
        detail: String,
    },
    /// More results asked than a catalogue gives.
    #[error("max_results is {asked}, but a search returns at most {MAX_RESULTS} products")]
    TooMany {
        /// What was asked.
        asked: usize,
    },
    /// An answer that is not what the dialect promises.
    #[error("the catalogue at {url} sent an answer cleope cannot read: {detail}")]
    BadResponse {
        /// The address.
        url: String,
        /// What was wrong.
        detail: String,
    },
    /// The query cannot be said in the catalogue's dialect.
    #[error("{0}")]
    BadQuery(String),
    /// Interrupted, or the run's time ran out.
    #[error("the catalogue request was stopped")]
    Stopped(Stop),
    /// The address (or a redirect) lies outside the session's network grant.
    #[error("{0}")]
    NotGranted(NetRefusal),
    /// A file pattern matched none of the product's files.
    #[error(
        "no file of {product} matches \"{pattern}\"; its files include {}",
        examples.join(", ")
    )]
    NoSuchFiles {
        /// The product.
        product: String,
        /// The pattern ("" when none was given).
        pattern: String,
        /// A few file names the product has.
        examples: Vec<String>,
    },
    /// The server sent an error page where the data should be.
    #[error("the server sent an error message instead of {name} ({why}): \"{message}\"")]
    ErrorPage {
        /// The file that was asked for.
        name: String,
        /// The server's message, shortened.
        message: String,
        /// Why it is taken for an error page (its type, its first bytes).
        why: String,
    },
    /// The account's share of the download service is used up (CDSE: four
    /// connections at once per account; 429 `DAT-ZIP-100` "Max session
    /// number exceeded", or 403 "Maximum number of 4 concurrent flows").
    #[error(
        "the download service refused another download for this account: HTTP {status} ({detail})"
    )]
    QuotaExceeded {
        /// 429 or 403.
        status: u16,
        /// The server's message, shortened.
        detail: String,
    },
    /// A download was refused with a token refreshed just before.
    #[error(
        "the download was refused (HTTP 401) although the token of user \"{username}\" was refreshed and sent again"
    )]
    TokenRefused {
        /// Who is logged in.
        username: String,
    },
    /// The account has two-factor authentication (or another action to
    /// complete), which the password grant cannot pass.
    #[error(
        "the catalogue's login service refused user \"{username}\": {detail}; this account uses \
         two-factor authentication (or has a step of its set-up left), and the password grant \
         cannot log it in"
    )]
    TwoFactor {
        /// Who tried.
        username: String,
        /// The login service's words.
        detail: String,
    },
    /// A time-out given by the script is not a usable duration.
    #[error(
        "{given} s is not a time-out cleope can wait: give a number of seconds from 0 to 86400 (a day)"
    )]
    BadDuration {
        /// What was given.
        given: String,
    },
}

impl ClientError {
    /// How to fix it, in a learner's words.
    pub fn hint(&self) -> String {
        match self {
            ClientError::Unreachable { .. } => {
                "check the catalogue address (--catalogue, CLEOPE_CATALOGUE or catalogue.url in \
                 cleope.toml) and the network; with no catalogue configured, cleope serves its \
                 archive itself"
                    .into()
            }
            ClientError::Server { .. } => {
                "the catalogue has a problem on its side: try again in a few minutes".into()
            }
            ClientError::Rejected { .. } => {
                "check the query: dates as \"YYYY-MM-DD\", an AOI of at most 200 points, \
                 max_results at most 10000"
                    .into()
            }
            ClientError::Unauthorized { .. } => {
                "check the user name and password: login() asks for them again (or set \
                 CLEOPE_USERNAME and CLEOPE_PASSWORD, or a ~/.netrc entry)"
                    .into()
            }
            ClientError::NoCredentials { .. } => {
                "log in first with login() (it asks for the password without showing it), or \
                 set CLEOPE_USERNAME and CLEOPE_PASSWORD, or add the catalogue to ~/.netrc"
                    .into()
            }
            ClientError::NotFound { .. } => {
                "check the spelling (names are long: copy them from odata_search results); \
                 the extension (.zip, .SAFE) may be left out"
                    .into()
            }
            ClientError::Offline { name } => format!(
                "archived products must be restored first: odata_order(\"{name}\") orders it, \
                 odata_download(\"{name}\") orders, waits and downloads it"
            ),
            ClientError::StillOffline { name, .. } => format!(
                "something went wrong with the restoration: try odata_download(\"{name}\") again in a few minutes"
            ),
            ClientError::OrderRefused { .. } => {
                "ONDA restores at most 20 products an hour per user: wait, then order again".into()
            }
            ClientError::TooMany { .. } => {
                "narrow the search (a smaller area, fewer dates, a product type) or lower max_results"
                    .into()
            }
            ClientError::BadResponse { .. } => {
                "check that the catalogue address and dialect (onda or cdse) go together".into()
            }
            ClientError::BadQuery(_) => {
                "simplify the query (an AOI of at most 200 points, dates as \"YYYY-MM-DD\")".into()
            }
            ClientError::Stopped(_) => "run it again".into(),
            ClientError::NotGranted(refusal) => refusal.hint.clone(),
            ClientError::NoSuchFiles { product, .. } => format!(
                "patterns match the file's path inside the product (\"*B04_10m.jp2\", \"MTD_*.xml\", \
                 \"GRANULE/**/*.jp2\"); odata_nodes(\"{product}\") lists them all"
            ),
            ClientError::ErrorPage { .. } => "nothing was written: the catalogue is failing or \
                 refusing the download; try again later, and check the catalogue's status page"
                .into(),
            ClientError::QuotaExceeded { .. } => format!(
                "CDSE allows an account {CDSE_CONNECTIONS} downloads at once, counted over all its \
                 sessions and notebooks: wait for the others to end, or lower \
                 catalogue.max_parallel_downloads in cleope.toml (now {} for this session)",
                DEFAULT_PARALLEL_DOWNLOADS
            ),
            ClientError::TokenRefused { .. } => "the account may have lost its access to the \
                 data (check it on the catalogue's web site), then log in again with login()"
                .into(),
            ClientError::TwoFactor { .. } => "create an account without two-factor \
                 authentication for scripts, or finish the account's set-up on the catalogue's \
                 web site; or set CDSE_TOTP to the current one-time code before logging in"
                .into(),
            ClientError::BadDuration { .. } => {
                "e.g. odata_wait(product, 600) waits at most ten minutes".into()
            }
        }
    }

    /// True for failures a later try may not have.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            ClientError::Unreachable { .. } | ClientError::Server { .. }
        )
    }
}

impl From<ClientError> for DownloadError {
    fn from(error: ClientError) -> DownloadError {
        match error {
            ClientError::Stopped(stop) => DownloadError::Stopped(stop),
            error => DownloadError::Remote {
                cause: match &error {
                    ClientError::Unauthorized { .. } | ClientError::NoCredentials { .. } => {
                        Cause::Login
                    }
                    ClientError::Offline { .. } | ClientError::StillOffline { .. } => {
                        Cause::Offline
                    }
                    ClientError::Unreachable { .. } => Cause::Transfer,
                    ClientError::NotGranted(_) => Cause::NotGranted,
                    ClientError::NoSuchFiles { .. } => Cause::NoSuchFile,
                    ClientError::ErrorPage { .. } => Cause::ErrorPage,
                    ClientError::QuotaExceeded { .. } => Cause::AccountQuota,
                    ClientError::TokenRefused { .. } => Cause::Login,
                    ClientError::TwoFactor { .. } => Cause::TwoFactor,
                    _ => Cause::Catalogue,
                },
                hint: error.hint(),
                retryable: error.is_transient(),
                message: error.to_string(),
            },
        }
    }
}

/// What an order answered.
#[derive(Debug, Clone, PartialEq)]
pub struct OrderStatus {
    /// The server's status word (e.g. "RUNNING", "queued", "completed").
    pub status: String,
    /// When the product should be online, if the server says.
    pub estimated: Option<DateTime<Utc>>,
}

/// What a product download did.
#[derive(Debug, Clone, PartialEq)]
pub struct Fetched {
    /// Where the product is now (unpacked).
    pub path: PathBuf,
    /// It was offline and had to be ordered first.
    pub ordered: bool,
    /// False when it was already in the folder.
    pub downloaded: bool,
}

/// How long a restoration should take, from the order's estimate (ten
/// minutes when the catalogue gives none).
fn expected_wait(estimated: Option<DateTime<Utc>>) -> Duration {
    estimated
        .map(|at| (at - Utc::now()).to_std().unwrap_or_default())
        .unwrap_or(Duration::from_secs(600))
}

/// A script's time-out for an order wait, in seconds: a number from 0 to
/// a day ([`cleope_sandbox::LONGEST_WAIT`]); anything else (negative, NaN,
/// infinite, a year) is [`ClientError::BadDuration`].
pub fn order_patience(seconds: f64) -> Result<Duration, ClientError> {
    cleope_sandbox::script_wait(seconds).ok_or_else(|| ClientError::BadDuration {
        given: seconds.to_string(),
    })
}

/// The file name a download is saved under: CDSE names a zipped SAFE
/// `X.SAFE`, and the bytes are a zip, so it becomes `X.SAFE.zip`.
fn download_name(name: &str) -> String {
    match crate::download::Packing::of(name) {
        crate::download::Packing::File if !name.ends_with(".nc") => format!("{name}.zip"),
        _ => name.to_string(),
    }
}

/// The unpacked product already in `folder`, if any: `X.SAFE`/`X.SEN3`
/// from `X.zip`, the folder `X` from `X.tar.gz`, or the file itself.
fn already_downloaded(folder: &Path, name: &str) -> Option<PathBuf> {
    let stem = crate::ens::name_stem(name);
    [
        name.to_string(),
        format!("{stem}.SAFE"),
        format!("{stem}.SEN3"),
        stem.to_string(),
    ]
    .into_iter()
    .filter(|candidate| !candidate.ends_with(".zip") && !candidate.ends_with(".tar.gz"))
    .map(|candidate| folder.join(candidate))
    .find(|path| path.exists())
}

/// A CDSE access token and how long it lives.
struct Token {
    access: String,
    expires: Instant,
    refresh: Option<(String, Instant)>,
}

impl Token {
    /// Still good for a while: refreshed a minute before it expires (or at
    /// half its life, for short-lived tokens).
    fn fresh(&self, lifetime: Duration) -> bool {
        let margin = Duration::from_secs(60).min(lifetime / 2);
        Instant::now() + margin < self.expires
    }
}

/// A client of one catalogue. Cheap to share between calls; the login and
/// token are kept for the session.
pub struct Client {
    config: ClientConfig,
    http: reqwest::Client,
    /// Drives `http`: requests wait on the calling thread (see
    /// [`Client::finish`]), connections live on one worker thread.
    runtime: tokio::runtime::Runtime,
    credentials: Mutex<Option<Credentials>>,
    token: Mutex<Option<(Token, Duration)>>,
    /// The cap on downloads at once.
    transfers: TransferSlots,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("dialect", &self.config.dialect)
            .field("base_url", &self.config.base_url)
            .finish_non_exhaustive()
    }
}

/// The most redirects one download follows.
const MAX_REDIRECTS: usize = 5;

impl Client {
    /// A client for `config`, with `credentials` when known.
    pub fn new(config: ClientConfig, credentials: Option<Credentials>) -> Client {
        // `read_timeout` bounds each wait for bytes (a stalled server), not
        // a whole download; the run's own deadline bounds everything.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(config.timeout.min(Duration::from_secs(10)))
            .read_timeout(config.timeout)
            .user_agent(concat!("cleope/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails only without a TLS backend, which is compiled in.
            .expect("an HTTP client with native TLS");
        // One worker keeps the pooled connections' tasks running between
        // requests, so a connection the server closed while idle is noticed
        // and dropped, not reused (which would cost a retry).
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("cleope-http")
            .enable_all()
            .build()
            // Fails only when the system has no file descriptors left.
            .expect("a runtime for the catalogue client");
        Client {
            transfers: TransferSlots::new(config.max_parallel_downloads),
            config,
            http,
            runtime,
            credentials: Mutex::new(credentials),
            token: Mutex::new(None),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ClientConfig {
        &self.config
    }

    /// The HTTP client requests are built with (sent through [`Client::send`]).
    pub(super) fn http(&self) -> &reqwest::Client {
        &self.http
    }

    /// Replaces the account (after `login()`); a token of the old one is dropped.
    pub fn set_credentials(&self, credentials: Credentials) {
        *self.credentials.lock().unwrap_or_else(|e| e.into_inner()) = Some(credentials);
        *self.token.lock().unwrap_or_else(|e| e.into_inner()) = None;
    }

    /// Takes the access token held for expired, so the next request
    /// refreshes it (or logs in again).
    fn expire_access_token(&self) {
        if let Some((token, _)) = self
            .token
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_mut()
        {
            token.expires = Instant::now();
        }
    }

    /// The user name of the account in use, if any.
    pub fn username(&self) -> Option<String> {
        self.credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .as_ref()
            .map(|c| c.username.clone())
    }

    /// Every product matching `query`, up to `max_results`, fetched page by
    /// page (`$top`/`$skip`; the last page asks only for what is missing).
    pub fn search(
        &self,
        query: &Query,
        max_results: usize,
        cancel: &Cancel,
    ) -> Result<Vec<CatalogueProduct>, ClientError> {
        if self.config.dialect == Dialect::Stac {
            return crate::stac::client::search(self, query, max_results, cancel);
        }
        if max_results > MAX_RESULTS {
            return Err(ClientError::TooMany { asked: max_results });
        }
        let mut products = Vec::new();
        while products.len() < max_results {
            let page = Page {
                top: self.config.page_size.min(max_results - products.len()),
                skip: products.len(),
            };
            let url = self.search_url(query, page)?;
            let response = self.send(|| self.http.get(&url), &url, cancel, true)?;
            let found = self.parse_page(response, &url, cancel)?;
            let last = found.len() < page.top;
            products.extend(found);
            if last {
                break;
            }
        }
        Ok(products)
    }

    /// How many products match `query`.
    pub fn count(&self, query: &Query, cancel: &Cancel) -> Result<u64, ClientError> {
        if self.config.dialect == Dialect::Stac {
            return crate::stac::client::count(self, query, cancel);
        }
        let url = self.count_url(query)?;
        let response = self.send(|| self.http.get(&url), &url, cancel, true)?;
        let text = self.read_text(response, &url, MAX_SMALL_ANSWER_BYTES, cancel)?;
        self.parse_count(&text, &url)
    }

    /// The product with this name (extension optional).
    pub fn product(&self, name: &str, cancel: &Cancel) -> Result<CatalogueProduct, ClientError> {
        let query = Query {
            name: Some(name.trim().to_string()),
            ..Query::default()
        };
        let wanted = crate::ens::name_stem(name);
        self.search(&query, 10, cancel)?
            .into_iter()
            .find(|p| crate::ens::name_stem(&p.name) == wanted)
            .ok_or_else(|| ClientError::NotFound {
                name: name.trim().to_string(),
            })
    }

    /// Orders an archived product (ONDA's `Ens.Order`, CDSE's `OData.CSC.Order`).
    pub fn order(&self, id: &str, name: &str, cancel: &Cancel) -> Result<OrderStatus, ClientError> {
        let url = self.order_url(id);
        let authorization = self.authorization("ordering", cancel)?;
        let request = || {
            self.http
                .post(&url)
                .header(reqwest::header::CONTENT_TYPE, "application/json")
                .header(reqwest::header::AUTHORIZATION, &authorization)
                .body("{}")
        };
        // An order quota answers 429: that is a refusal, not a busy server.
        let response = match self.send(request, &url, cancel, false) {
            Err(ClientError::Rejected {
                status: 429,
                detail,
            }) => {
                return Err(ClientError::OrderRefused {
                    name: name.to_string(),
                    detail,
                });
            }
            other => other?,
        };
        let text = self.read_text(response, &url, MAX_SMALL_ANSWER_BYTES, cancel)?;
        parse_order(&text).map_err(|detail| ClientError::BadResponse { url, detail })
    }

    /// The product's bytes, as a resumable download source.
    pub fn download_source<'a>(
        &'a self,
        id: &str,
        name: &str,
        cancel: &'a Cancel,
    ) -> Result<ProductBytes<'a>, ClientError> {
        // Log in before the first byte, so a wrong password is reported at once.
        let authorization = self.authorization("downloading", cancel)?;
        Ok(ProductBytes {
            client: self,
            url: self.value_url(id),
            name: name.to_string(),
            file: download_name(name),
            authorization,
            cancel,
        })
    }

    /// Waits until an ordered product is online, asking the catalogue now
    /// and then; `estimated` (from the order) sizes the progress and the
    /// patience: the estimate plus five minutes, or 30 minutes without one.
    pub fn wait_online(
        &self,
        name: &str,
        estimated: Option<DateTime<Utc>>,
        cancel: &Cancel,
        progress: &dyn Progress,
    ) -> Result<CatalogueProduct, ClientError> {
        let expected = expected_wait(estimated);
        let patience = expected + Duration::from_secs(if estimated.is_some() { 300 } else { 1800 });
        self.wait_online_within(name, estimated, patience, cancel, progress)
    }

    /// [`Client::wait_online`] giving up after `patience` (a script's
    /// time-out, checked by [`order_patience`]).
    pub fn wait_online_within(
        &self,
        name: &str,
        estimated: Option<DateTime<Utc>>,
        patience: Duration,
        cancel: &Cancel,
        progress: &dyn Progress,
    ) -> Result<CatalogueProduct, ClientError> {
        let started = Instant::now();
        let expected = expected_wait(estimated).min(patience);
        // Asked often when the wait is short or unknown, seldom when long.
        let poll = match estimated {
            Some(_) => (expected / 10).clamp(Duration::from_millis(250), Duration::from_secs(10)),
            None => Duration::from_secs(1),
        };
        progress.start(
            &format!("restoring {name}"),
            Some(expected.as_secs().max(1)),
            Unit::Seconds,
        );
        loop {
            let product = self.product(name, cancel)?;
            if product.online {
                progress.finish("online");
                return Ok(product);
            }
            let left = patience.saturating_sub(started.elapsed());
            if left.is_zero() {
                progress.finish("still offline");
                return Err(ClientError::StillOffline {
                    name: name.to_string(),
                    waited: started.elapsed().as_secs(),
                });
            }
            pause(poll.min(left), cancel).map_err(ClientError::Stopped)?;
            progress.advance(started.elapsed().as_secs());
        }
    }

    /// Downloads a product into `folder` (the workspace's `local_files/`):
    /// orders and waits first when it is offline, skips it when it is
    /// already there, verifies, unpacks, and records it in `list_local.txt`.
    /// Gives the product's path (e.g. `local_files/X.SAFE`).
    pub fn fetch_product(
        &self,
        product: &CatalogueProduct,
        folder: &Path,
        ws: &Workspace,
        limits: &Limits,
        progress: &dyn Progress,
    ) -> Result<Fetched, DownloadError> {
        let name = local_name(&product.name, "product name from the catalogue")
            .map_err(DownloadError::UnsafeName)?;
        // Another session on this workspace may be downloading it: wait for
        // it, then find the product there.
        let _lock = ProductLock::acquire(ws.root(), name, limits.cancel)?;
        // A folder that single files were downloaded into is not the product.
        if let Some(existing) = already_downloaded(folder, name)
            .filter(|path| !nodes::holds_single_files_only(ws, path))
        {
            return Ok(Fetched {
                path: existing,
                ordered: false,
                downloaded: false,
            });
        }
        let (product, ordered) = self.online(product, limits.cancel, progress)?;
        let expected = Expected {
            size: (product.size > 0).then_some(product.size),
            md5: product.checksum("MD5").map(str::to_string),
            blake3: product.checksum("BLAKE3").map(str::to_string),
        };
        let target = folder.join(download_name(&product.name));
        let mut source = self.download_source(&product.id, &product.name, limits.cancel)?;
        let _slot = self
            .transfers
            .acquire(limits.cancel)
            .map_err(DownloadError::Stopped)?;
        fetch(
            &mut source,
            &target,
            &expected,
            limits,
            progress,
            &self.config.retry,
        )?;
        let path = unpack(&target, folder, limits)?;
        let relative = ws.display_path(&path);
        record_local(ws, limits.disk, &relative)?;
        Ok(Fetched {
            path,
            ordered,
            downloaded: true,
        })
    }

    /// The product online: as it is, or ordered and waited for (then `true`).
    fn online(
        &self,
        product: &CatalogueProduct,
        cancel: &Cancel,
        progress: &dyn Progress,
    ) -> Result<(CatalogueProduct, bool), ClientError> {
        if product.online {
            return Ok((product.clone(), false));
        }
        let order = self.order(&product.id, &product.name, cancel)?;
        let product = self.wait_online(&product.name, order.estimated, cancel, progress)?;
        Ok((product, true))
    }

    /// The `Authorization` header value: Basic for ONDA, a fresh Bearer
    /// token for CDSE (logging in or refreshing as needed).
    pub(super) fn authorization(&self, what: &str, cancel: &Cancel) -> Result<String, ClientError> {
        let credentials = self
            .credentials
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
            .ok_or_else(|| ClientError::NoCredentials {
                what: what.to_string(),
            })?;
        match self.config.dialect {
            Dialect::Onda => {
                let pair = format!("{}:{}", credentials.username, credentials.password.expose());
                Ok(format!(
                    "Basic {}",
                    data_encoding::BASE64.encode(pair.as_bytes())
                ))
            }
            Dialect::Cdse | Dialect::Stac => {
                Ok(format!("Bearer {}", self.token(&credentials, cancel)?))
            }
        }
    }

    /// A valid access token: the one held, refreshed, or a new login.
    fn token(&self, credentials: &Credentials, cancel: &Cancel) -> Result<String, ClientError> {
        let mut held = self.token.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((token, lifetime)) = held.as_ref()
            && token.fresh(*lifetime)
        {
            return Ok(token.access.clone());
        }
        let refresh = held
            .as_ref()
            .and_then(|(token, _)| token.refresh.clone())
            .filter(|(_, until)| Instant::now() + Duration::from_secs(5) < *until)
            .map(|(refresh, _)| refresh);
        let mut form: Vec<(&str, String)> = vec![("client_id", CDSE_CLIENT_ID.into())];
        match refresh {
            Some(refresh) => {
                form.push(("grant_type", "refresh_token".into()));
                form.push(("refresh_token", refresh));
            }
            None => {
                form.push(("grant_type", "password".into()));
                form.push(("username", credentials.username.clone()));
                form.push(("password", credentials.password.expose().to_string()));
                if let Some(totp) = &credentials.totp {
                    form.push(("totp", totp.expose().to_string()));
                }
            }
        }
        let url = self.config.token_endpoint();
        let response = match self.send(|| self.http.post(&url).form(&form), &url, cancel, true) {
            Err(ClientError::Rejected { status, detail }) if status == 400 || status == 401 => {
                return Err(login_refusal(&credentials.username, status, detail));
            }
            other => other?,
        };
        let text = self.read_text(response, &url, MAX_SMALL_ANSWER_BYTES, cancel)?;
        let (token, lifetime) =
            parse_token(&text).map_err(|detail| ClientError::BadResponse { url, detail })?;
        let access = token.access.clone();
        *held = Some((token, lifetime));
        Ok(access)
    }

    fn search_url(&self, query: &Query, page: Page) -> Result<String, ClientError> {
        let base = &self.config.base_url;
        let url = match self.config.dialect {
            Dialect::Onda => super::onda::search_url(base, query, page),
            Dialect::Cdse => super::cdse::search_url(base, query, page, false),
            Dialect::Stac => return Err(stac_has_no_odata_url()),
        };
        url.map_err(|e| ClientError::BadQuery(e.to_string()))
    }

    fn count_url(&self, query: &Query) -> Result<String, ClientError> {
        let base = &self.config.base_url;
        let url = match self.config.dialect {
            Dialect::Onda => super::onda::count_url(base, query),
            Dialect::Cdse => super::cdse::count_url(base, query),
            Dialect::Stac => return Err(stac_has_no_odata_url()),
        };
        url.map_err(|e| ClientError::BadQuery(e.to_string()))
    }

    /// The products of one search answer.
    /// (Footprints are checked entry by entry, with the interrupt and the
    /// deadline checked between entries.)
    fn parse_page(
        &self,
        response: Response,
        url: &str,
        cancel: &Cancel,
    ) -> Result<Vec<CatalogueProduct>, ClientError> {
        let text = self.read_text(response, url, MAX_PAGE_BYTES, cancel)?;
        let bad = |detail: String| ClientError::BadResponse {
            url: url.to_string(),
            detail,
        };
        let product = |entry: Result<CatalogueProduct, super::response::ResponseError>| {
            cancel.check().map_err(ClientError::Stopped)?;
            entry.map_err(|e| bad(e.to_string()))
        };
        match self.config.dialect {
            Dialect::Onda => {
                let page: super::response::OndaResponse = serde_json::from_str(&text)
                    .map_err(|e| bad(format!("not an ONDA answer ({e})")))?;
                page.value
                    .iter()
                    .map(|entry| product(entry.to_product()))
                    .collect()
            }
            Dialect::Cdse => {
                let page: super::response::CdseResponse = serde_json::from_str(&text)
                    .map_err(|e| bad(format!("not a CDSE answer ({e})")))?;
                page.value
                    .iter()
                    .map(|entry| product(entry.to_product()))
                    .collect()
            }
            Dialect::Stac => Err(stac_has_no_odata_url()),
        }
    }

    /// The number a count answer holds: ONDA's bare integer, CDSE's `@odata.count`.
    fn parse_count(&self, text: &str, url: &str) -> Result<u64, ClientError> {
        let bad = |detail: String| ClientError::BadResponse {
            url: url.to_string(),
            detail,
        };
        match self.config.dialect {
            Dialect::Onda => text
                .trim()
                .parse()
                .map_err(|_| bad(format!("the count is not a number: {}", short(text)))),
            Dialect::Cdse => {
                let page: super::response::CdseResponse = serde_json::from_str(text)
                    .map_err(|e| bad(format!("not a CDSE answer ({e})")))?;
                page.count
                    .ok_or_else(|| bad("the answer has no @odata.count".into()))
            }
            Dialect::Stac => Err(stac_has_no_odata_url()),
        }
    }

    fn order_url(&self, id: &str) -> String {
        match self.config.dialect {
            Dialect::Onda => super::onda::order_url(&self.config.base_url, id),
            Dialect::Cdse => super::cdse::order_url(&self.config.base_url, id),
            Dialect::Stac => super::cdse::order_url(&self.odata_base_of_stac(), id),
        }
    }

    fn value_url(&self, id: &str) -> String {
        match self.config.dialect {
            Dialect::Onda => super::onda::download_url(&self.config.base_url, id),
            Dialect::Cdse => super::cdse::download_url(&self.config.base_url, id),
            Dialect::Stac => super::cdse::download_url(&self.odata_base_of_stac(), id),
        }
    }

    /// Where a STAC catalogue's products are ordered and downloaded (OData).
    fn odata_base_of_stac(&self) -> String {
        crate::stac::client::odata_base_of(&self.config.base_url)
    }

    /// Sends a request built by `build`, trying again after a connection
    /// failure, a time-out, a 5xx or (when `retry_busy`) a 429, waiting
    /// longer each time (or as long as the server's `Retry-After` asks, up
    /// to [`MAX_RETRY_AFTER`]). Gives the first answer that is not a
    /// failure; 401/403 become [`ClientError::Unauthorized`], other 4xx
    /// [`ClientError::Rejected`]. Every wait ends at the run's deadline or
    /// interrupt ([`ClientError::Stopped`]).
    pub(super) fn send(
        &self,
        build: impl Fn() -> RequestBuilder,
        url: &str,
        cancel: &Cancel,
        retry_busy: bool,
    ) -> Result<Response, ClientError> {
        // The one door every request and every redirect hop goes through.
        self.check_granted(url)?;
        let retry = &self.config.retry;
        let mut tries = 0;
        loop {
            cancel.check().map_err(ClientError::Stopped)?;
            tries += 1;
            let last = tries >= retry.attempts;
            let mut wait = retry.delay(tries);
            let sent = self
                .finish(cancel, || build().send())
                .map_err(ClientError::Stopped)?;
            let failure = match sent {
                Ok(response) => {
                    let status = response.status();
                    let busy = status.is_server_error()
                        || (retry_busy && status == StatusCode::TOO_MANY_REQUESTS);
                    if !busy {
                        return self.judge(response, cancel);
                    }
                    let asked = retry_after(&response);
                    let mut detail = self.read_short(response, cancel)?;
                    match asked {
                        Some(asked) if asked > MAX_RETRY_AFTER => {
                            detail.push_str(&format!(
                                "; it asks to be tried again in {} s, longer than cleope waits",
                                asked.as_secs()
                            ));
                            return Err(ClientError::Server {
                                url: url.to_string(),
                                status: status.as_u16(),
                                detail,
                                tries,
                            });
                        }
                        Some(asked) => wait = wait.max(asked),
                        None => {}
                    }
                    if is_session_quota(&detail) {
                        ClientError::QuotaExceeded {
                            status: status.as_u16(),
                            detail,
                        }
                    } else {
                        ClientError::Server {
                            url: url.to_string(),
                            status: status.as_u16(),
                            detail,
                            tries,
                        }
                    }
                }
                Err(error) => ClientError::Unreachable {
                    url: url.to_string(),
                    detail: network_detail(&error),
                },
            };
            if last {
                return Err(failure);
            }
            // A wait the run's time limit would cut is the time-limit error
            // now, not a sleep until the deadline.
            cancel.check_wait(wait).map_err(ClientError::Stopped)?;
            pause(wait, cancel).map_err(ClientError::Stopped)?;
        }
    }

    /// Refuses an address outside the session's network grant.
    fn check_granted(&self, url: &str) -> Result<(), ClientError> {
        match &self.config.net {
            Some(net) => net.check(url).map(drop).map_err(ClientError::NotGranted),
            None => Ok(()),
        }
    }

    /// Whether the account may be sent to `url`: the catalogue, its token
    /// service and download hosts, never a host a redirect names otherwise.
    /// A library client without a grant trusts wherever its catalogue
    /// redirects (the caller chose the catalogue).
    pub(super) fn may_authorize(&self, url: &str) -> bool {
        match &self.config.net {
            Some(net) => net.carries_credentials(url),
            None => true,
        }
    }

    /// Sorts a non-busy answer into success and refusals.
    fn judge(&self, response: Response, cancel: &Cancel) -> Result<Response, ClientError> {
        let status = response.status();
        if status.is_success() || status.is_redirection() {
            return Ok(response);
        }
        if status == StatusCode::FORBIDDEN {
            let detail = self.read_short(response, cancel)?;
            if is_session_quota(&detail) {
                return Err(ClientError::QuotaExceeded {
                    status: status.as_u16(),
                    detail,
                });
            }
            return Err(ClientError::Unauthorized {
                username: self.username().unwrap_or_else(|| "(none)".into()),
                status: status.as_u16(),
            });
        }
        if status == StatusCode::UNAUTHORIZED {
            return Err(ClientError::Unauthorized {
                username: self.username().unwrap_or_else(|| "(none)".into()),
                status: status.as_u16(),
            });
        }
        Err(ClientError::Rejected {
            status: status.as_u16(),
            detail: self.read_short(response, cancel)?,
        })
    }

    /// Runs the future `work` makes (a request, a read) on the client's
    /// runtime until it is done, the run is interrupted, or the run's time
    /// is up, whichever comes first: a server that never answers holds a
    /// cell no longer than its limit. (The future is made inside the
    /// runtime: reqwest starts its timers when a request is made.)
    fn finish<F: Future>(
        &self,
        cancel: &Cancel,
        work: impl FnOnce() -> F,
    ) -> Result<F::Output, Stop> {
        self.runtime.block_on(async {
            let mut work = std::pin::pin!(work());
            loop {
                cancel.check()?;
                if let Ok(done) = tokio::time::timeout(CHECK_EVERY, work.as_mut()).await {
                    return Ok(done);
                }
            }
        })
    }

    /// An answer's body as text, refused past `limit` bytes (before reading
    /// when the server announces its length).
    fn read_text(
        &self,
        response: Response,
        url: &str,
        limit: u64,
        cancel: &Cancel,
    ) -> Result<String, ClientError> {
        let body = self.read_bytes(response, url, (limit, "a catalogue answer may be"), cancel)?;
        String::from_utf8(body).map_err(|_| ClientError::BadResponse {
            url: url.to_string(),
            detail: "the answer is not UTF-8 text".into(),
        })
    }

    /// An answer's body, refused past `limit` bytes (before reading when
    /// the server announces its length); `what` says what the limit is for
    /// ("a catalogue answer may be").
    pub(super) fn read_bytes(
        &self,
        mut response: Response,
        url: &str,
        (limit, what): (u64, &str),
        cancel: &Cancel,
    ) -> Result<Vec<u8>, ClientError> {
        let too_long = |bytes: u64| ClientError::BadResponse {
            url: url.to_string(),
            detail: format!(
                "the answer is {} long, more than the {} {what}",
                cleope_sandbox::human_disk_bytes(bytes),
                cleope_sandbox::human_disk_bytes(limit)
            ),
        };
        if let Some(length) = response.content_length().filter(|l| *l > limit) {
            return Err(too_long(length));
        }
        let mut body = Vec::new();
        loop {
            let chunk = self
                .finish(cancel, || response.chunk())
                .map_err(ClientError::Stopped)?;
            match chunk {
                Ok(Some(chunk)) => {
                    if (body.len() + chunk.len()) as u64 > limit {
                        return Err(too_long((body.len() + chunk.len()) as u64));
                    }
                    body.extend_from_slice(&chunk);
                }
                Ok(None) => return Ok(body),
                Err(error) => {
                    return Err(ClientError::Unreachable {
                        url: url.to_string(),
                        detail: format!("the answer broke off ({})", network_detail(&error)),
                    });
                }
            }
        }
    }

    /// The first line of a failure's text (read up to a small cap).
    fn read_short(&self, response: Response, cancel: &Cancel) -> Result<String, ClientError> {
        let url = response.url().to_string();
        match self.read_text(response, &url, MAX_SMALL_ANSWER_BYTES, cancel) {
            Ok(text) => Ok(short(&text)),
            Err(ClientError::Stopped(stop)) => Err(ClientError::Stopped(stop)),
            Err(_) => Ok("no readable message".into()),
        }
    }
}

/// A product's bytes on the catalogue (`Products(<id>)/$value`), opened at
/// any offset with a range request, following redirects with the same
/// `Authorization` header.
pub struct ProductBytes<'a> {
    client: &'a Client,
    url: String,
    name: String,
    /// The file the bytes must be (`X.SAFE.zip`, `…/B04_10m.jp2`): its
    /// kind is what an answer's first bytes are checked against.
    file: String,
    authorization: String,
    cancel: &'a Cancel,
}

impl ProductBytes<'_> {
    /// The product's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    fn get(&self, url: &str, offset: u64) -> Result<Response, ClientError> {
        let authorize = self.client.may_authorize(url);
        let request = || {
            let mut request = self.client.http.get(url);
            if authorize {
                request = request.header(reqwest::header::AUTHORIZATION, &self.authorization);
            }
            if offset > 0 {
                request = request.header(reqwest::header::RANGE, format!("bytes={offset}-"));
            }
            request
        };
        self.client.send(request, url, self.cancel, true)
    }

    /// The answer at the end of the redirects.
    fn follow(&self, offset: u64) -> Result<Response, ClientError> {
        follow_redirects(&self.url, |url| self.get(url, offset))
    }

    /// [`ProductBytes::follow`], with one more try on a fresh token when a
    /// CDSE download is refused with 401: an access token lives ten minutes,
    /// which a long or resumed download outlives.
    fn follow_refreshed(&mut self, offset: u64) -> Result<Response, ClientError> {
        match self.follow(offset) {
            Err(ClientError::Unauthorized { status: 401, .. })
                if self.client.config.dialect == Dialect::Cdse =>
            {
                self.client.expire_access_token();
                self.authorization = self.client.authorization("downloading", self.cancel)?;
                self.follow(offset).map_err(|error| match error {
                    ClientError::Unauthorized { status: 401, .. } => ClientError::TokenRefused {
                        username: self.client.username().unwrap_or_default(),
                    },
                    error => error,
                })
            }
            Err(ClientError::Rejected { status: 409, .. }) => Err(ClientError::Offline {
                name: self.name.clone(),
            }),
            other => other,
        }
    }
}

impl Source for ProductBytes<'_> {
    fn open(&mut self, offset: u64) -> Result<Body<'_>, DownloadError> {
        let response = self.follow_refreshed(offset)?;
        match response.status() {
            StatusCode::ACCEPTED => Err(ClientError::Offline {
                name: self.name.clone(),
            }
            .into()),
            StatusCode::PARTIAL_CONTENT => {
                let start = content_range_start(&response).unwrap_or(offset);
                self.body(response, start)
            }
            _ => self.body(response, 0),
        }
    }
}

impl<'a> ProductBytes<'a> {
    /// The body from `offset`, its first chunk read and checked: an error
    /// page served in place of the data is refused before a byte is written.
    fn body(&self, mut response: Response, offset: u64) -> Result<Body<'a>, DownloadError> {
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        let length = response.content_length();
        let first = match self
            .client
            .finish(self.cancel, || response.chunk())
            .map_err(DownloadError::Stopped)?
        {
            Ok(chunk) => chunk.map(|c| c.to_vec()).unwrap_or_default(),
            Err(error) => {
                return Err(DownloadError::Remote {
                    cause: Cause::Transfer,
                    message: format!("the connection broke: {}", network_detail(&error)),
                    hint: "run it again: it resumes from the bytes already received".into(),
                    retryable: true,
                });
            }
        };
        let magic = if offset == 0 { &first[..] } else { &[] };
        payload::check(&self.file, content_type.as_deref(), magic)?;
        Ok(Body {
            length,
            offset,
            reader: Box::new(StreamedBody {
                client: self.client,
                cancel: self.cancel,
                response,
                pending: first,
                at: 0,
            }),
        })
    }
}

/// A download's body, read chunk by chunk on the client's runtime. A read
/// that the interrupt or the deadline cuts short fails with
/// [`std::io::ErrorKind::Interrupted`]; the download loop, which checks
/// both between reads, then stops.
struct StreamedBody<'a> {
    client: &'a Client,
    cancel: &'a Cancel,
    response: Response,
    /// The last chunk received, and how much of it was read.
    pending: Vec<u8>,
    at: usize,
}

impl Read for StreamedBody<'_> {
    fn read(&mut self, buffer: &mut [u8]) -> std::io::Result<usize> {
        while self.at == self.pending.len() {
            let chunk = self
                .client
                .finish(self.cancel, || self.response.chunk())
                .map_err(|_| std::io::Error::from(std::io::ErrorKind::Interrupted))?;
            match chunk {
                Ok(Some(chunk)) => {
                    self.pending = chunk.to_vec();
                    self.at = 0;
                }
                Ok(None) => return Ok(0),
                Err(error) => return Err(std::io::Error::other(network_detail(&error))),
            }
        }
        let n = buffer.len().min(self.pending.len() - self.at);
        buffer[..n].copy_from_slice(&self.pending[self.at..self.at + n]);
        self.at += n;
        Ok(n)
    }
}

/// The answer at the end of a chain of at most [`MAX_REDIRECTS`]
/// redirects from `start`: `get` sends the request to each address, which
/// the client checks against the grant (redirects are followed by hand so
/// that the account goes only where it may).
pub(super) fn follow_redirects(
    start: &str,
    get: impl Fn(&str) -> Result<Response, ClientError>,
) -> Result<Response, ClientError> {
    let mut url = start.to_string();
    let mut response = get(&url)?;
    for _ in 0..MAX_REDIRECTS {
        if !response.status().is_redirection() {
            return Ok(response);
        }
        url = redirect_target(&response, &url).ok_or_else(|| ClientError::BadResponse {
            url: url.clone(),
            detail: "a redirect without a usable Location".into(),
        })?;
        response = get(&url)?;
    }
    if response.status().is_redirection() {
        return Err(ClientError::BadResponse {
            url,
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        });
    }
    Ok(response)
}

/// The absolute URL a redirect points to (http or https only).
pub(super) fn redirect_target(response: &Response, from: &str) -> Option<String> {
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)?
        .to_str()
        .ok()?;
    let target = url::Url::parse(from).ok()?.join(location).ok()?;
    matches!(target.scheme(), "http" | "https").then(|| target.to_string())
}

/// The first byte a 206 answer holds (`Content-Range: bytes 100-199/200`).
fn content_range_start(response: &Response) -> Option<u64> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let range = value.trim().strip_prefix("bytes ")?;
    range.split('-').next()?.trim().parse().ok()
}

/// The first byte a 206 answer holds and the whole file's size
/// (`Content-Range: bytes 100-199/200`); None when the size is not given.
pub(super) fn content_range(response: &Response) -> Option<(u64, u64)> {
    let value = response
        .headers()
        .get(reqwest::header::CONTENT_RANGE)?
        .to_str()
        .ok()?;
    let (_, size) = value.split_once('/')?;
    Some((content_range_start(response)?, size.trim().parse().ok()?))
}

/// A `Retry-After` header: seconds, or an HTTP date; None when absent or unreadable.
fn retry_after(response: &Response) -> Option<Duration> {
    let value = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value).ok()?;
    (at.with_timezone(&Utc) - Utc::now()).to_std().ok()
}

/// What went wrong on the network, in words (no URL: the message has it).
fn network_detail(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "no answer in time".into()
    } else if error.is_connect() {
        "the connection was refused or could not be made".into()
    } else {
        let mut text = error.to_string();
        let mut source = std::error::Error::source(error);
        while let Some(cause) = source {
            text = format!("{text}: {cause}");
            source = cause.source();
        }
        text
    }
}

/// Why the token endpoint refused a login. Keycloak answers a password
/// grant for an account with a required action pending (setting up OTP,
/// WebAuthn, a profile field) with 400 `{"error":"invalid_grant",
/// "error_description":"Account is not fully set up"}`, and one whose OTP
/// is configured but not sent with 401 "Invalid user credentials", the same
/// as a wrong password (Keycloak's `ValidateOTP` direct-grant
/// authenticator); only the first can be told apart.
fn login_refusal(username: &str, status: u16, detail: String) -> ClientError {
    let lower = detail.to_ascii_lowercase();
    if lower.contains("not fully set up") || lower.contains("required action") {
        return ClientError::TwoFactor {
            username: username.to_string(),
            detail,
        };
    }
    ClientError::Unauthorized {
        username: username.to_string(),
        status,
    }
}

/// Whether a refusal's text is CDSE's (or its CREODIAS twin's) "too many
/// downloads for this account" message.
fn is_session_quota(detail: &str) -> bool {
    let lower = detail.to_ascii_lowercase();
    ["dat-zip-100", "max session number", "concurrent flows"]
        .iter()
        .any(|words| lower.contains(words))
}

/// The first line of a server's message, at most 200 characters.
fn short(text: &str) -> String {
    let line = text
        .lines()
        .find(|l| !l.trim().is_empty())
        .unwrap_or("")
        .trim();
    let mut short: String = line.chars().take(200).collect();
    if line.chars().count() > 200 {
        short.push('…');
    }
    if short.is_empty() {
        "no message".into()
    } else {
        short
    }
}

/// Reads an order answer: `Status` (or `status`) and `EstimatedTime` /
/// `EstimatedDate` in UTC.
fn parse_order(text: &str) -> Result<OrderStatus, String> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| format!("the order answer is not JSON ({e})"))?;
    let object = value
        .get("value")
        .filter(|v| v.is_object())
        .unwrap_or(&value);
    let field = |names: &[&str]| {
        names
            .iter()
            .find_map(|name| object.get(*name).and_then(|v| v.as_str()))
            .map(str::to_string)
    };
    let status = field(&["Status", "status"]).ok_or("the order answer has no Status")?;
    let estimated = field(&["EstimatedTime", "EstimatedDate", "estimatedTime"]).and_then(|t| {
        DateTime::parse_from_rfc3339(&t)
            .map(|t| t.with_timezone(&Utc))
            .ok()
            .or_else(|| {
                chrono::NaiveDateTime::parse_from_str(&t, "%Y-%m-%dT%H:%M:%S%.fZ")
                    .ok()
                    .map(|t| t.and_utc())
            })
    });
    Ok(OrderStatus { status, estimated })
}

/// Reads a token answer (Keycloak's form).
fn parse_token(text: &str) -> Result<(Token, Duration), String> {
    #[derive(serde::Deserialize)]
    struct Answer {
        access_token: String,
        expires_in: u64,
        refresh_token: Option<String>,
        refresh_expires_in: Option<u64>,
    }
    let answer: Answer = serde_json::from_str(text)
        .map_err(|e| format!("the token answer is not readable ({e})"))?;
    let now = Instant::now();
    let lifetime = Duration::from_secs(answer.expires_in).min(MAX_TOKEN_LIFETIME);
    let refresh = answer.refresh_token.map(|token| {
        let lives = answer.refresh_expires_in.map_or(lifetime, |secs| {
            Duration::from_secs(secs).min(MAX_TOKEN_LIFETIME)
        });
        (token, now + lives)
    });
    Ok((
        Token {
            access: answer.access_token,
            expires: now + lifetime,
            refresh,
        },
        lifetime,
    ))
}

/// A JSON request of the STAC client (`crate::stac::client`): a GET, or a
/// POST with a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonRequest {
    /// `GET url`.
    Get(String),
    /// `POST url` with this body.
    Post(String, serde_json::Value),
}

impl Client {
    /// A JSON document (a STAC answer) by GET or POST, through the same
    /// door as every OData request (grant, retries, deadline, size cap),
    /// redirects followed by hand with each hop checked against the grant
    /// (a 303 turns a POST into a GET, as HTTP says).
    pub fn fetch_json(
        &self,
        request: &JsonRequest,
        cancel: &Cancel,
    ) -> Result<serde_json::Value, ClientError> {
        let (mut url, mut body) = match request {
            JsonRequest::Get(url) => (url.clone(), None),
            JsonRequest::Post(url, body) => (url.clone(), Some(body.to_string())),
        };
        for _ in 0..=MAX_REDIRECTS {
            let response = match &body {
                Some(json) => self.send(
                    || {
                        self.http
                            .post(&url)
                            .header(reqwest::header::CONTENT_TYPE, "application/json")
                            .header(
                                reqwest::header::ACCEPT,
                                "application/geo+json, application/json",
                            )
                            .body(json.clone())
                    },
                    &url,
                    cancel,
                    true,
                ),
                None => self.send(
                    || {
                        self.http.get(&url).header(
                            reqwest::header::ACCEPT,
                            "application/geo+json, application/json",
                        )
                    },
                    &url,
                    cancel,
                    true,
                ),
            }
            .map_err(stac_refusal)?;
            if response.status().is_redirection() {
                if response.status() == StatusCode::SEE_OTHER {
                    body = None;
                }
                url = redirect_target(&response, &url).ok_or_else(|| ClientError::BadResponse {
                    url: url.clone(),
                    detail: "a redirect without a usable Location".into(),
                })?;
                continue;
            }
            let text = self.read_text(response, &url, MAX_PAGE_BYTES, cancel)?;
            return serde_json::from_str(&text).map_err(|e| ClientError::BadResponse {
                url: url.clone(),
                detail: format!("not JSON ({e})"),
            });
        }
        Err(ClientError::BadResponse {
            url,
            detail: format!("more than {MAX_REDIRECTS} redirects"),
        })
    }
}

/// The error of an OData request asked of a STAC catalogue (the client
/// sends STAC searches through `crate::stac::client` before this is reached).
fn stac_has_no_odata_url() -> ClientError {
    ClientError::BadQuery("a STAC catalogue is searched with /search, not with OData URLs".into())
}

/// A STAC API's refusal (`{"code": …, "description": …}`) with its
/// description as the detail.
fn stac_refusal(error: ClientError) -> ClientError {
    match error {
        ClientError::Rejected { status, detail } => {
            let description = detail
                .split_once("\"description\":\"")
                .map(|(_, rest)| rest.split('"').next().unwrap_or(rest).to_string());
            ClientError::Rejected {
                status,
                detail: description.unwrap_or(detail),
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_secret_never_shows_in_debug_output() {
        let credentials = Credentials::new("ada", "s3cr3t-pass");
        let shown = format!("{credentials:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("ada"));
    }

    #[test]
    fn netrc_entries_are_found_by_host_with_a_default() {
        let text = "machine other.org login x password y\n\
                    machine 127.0.0.1\n  login ada\n  password p4ss\n\
                    default login anon password none";
        let found = Credentials::from_netrc(text, "127.0.0.1").unwrap();
        assert_eq!(found.username, "ada");
        assert_eq!(found.password.expose(), "p4ss");
        let fallback = Credentials::from_netrc(text, "elsewhere").unwrap();
        assert_eq!(fallback.username, "anon");
        assert!(Credentials::from_netrc("machine a login b", "a").is_none());
    }

    #[test]
    fn the_token_endpoint_goes_with_the_catalogue() {
        let cdse = ClientConfig::new(
            Dialect::Cdse,
            "https://catalogue.dataspace.copernicus.eu/odata/v1/",
        );
        assert_eq!(
            cdse.token_endpoint(),
            "https://identity.dataspace.copernicus.eu/auth/realms/CDSE/protocol/openid-connect/token"
        );
        let local = ClientConfig::new(Dialect::Cdse, "http://127.0.0.1:4000/odata/v1");
        assert_eq!(
            local.token_endpoint(),
            "http://127.0.0.1:4000/auth/realms/CDSE/protocol/openid-connect/token"
        );
    }

    #[test]
    fn order_answers_of_both_dialects_are_read() {
        let onda =
            parse_order(r#"{"Status":"RUNNING","EstimatedTime":"2020-11-09T10:20:30.123456Z"}"#)
                .unwrap();
        assert_eq!(onda.status, "RUNNING");
        assert_eq!(
            onda.estimated.unwrap().to_rfc3339(),
            "2020-11-09T10:20:30.123456+00:00"
        );
        let cdse =
            parse_order(r#"{"value":{"Status":"queued","EstimatedDate":"2020-11-09T10:20:30Z"}}"#)
                .unwrap();
        assert_eq!(cdse.status, "queued");
        assert!(parse_order("[]").is_err());
    }

    #[test]
    fn tokens_are_refreshed_before_they_expire() {
        let (token, lifetime) = parse_token(
            r#"{"access_token":"a","expires_in":600,"refresh_token":"r","refresh_expires_in":3600}"#,
        )
        .unwrap();
        assert!(token.fresh(lifetime));
        let (short, lifetime) = parse_token(r#"{"access_token":"a","expires_in":1}"#).unwrap();
        std::thread::sleep(Duration::from_millis(600));
        assert!(!short.fresh(lifetime), "within half its life of expiring");
    }

    #[test]
    fn token_lifetimes_past_a_day_are_taken_as_a_day() {
        let (token, lifetime) = parse_token(
            r#"{"access_token":"a","expires_in":18446744073709551615,"refresh_token":"r","refresh_expires_in":18446744073709551615}"#,
        )
        .unwrap();
        assert_eq!(lifetime, MAX_TOKEN_LIFETIME);
        assert!(token.fresh(lifetime));
    }

    #[test]
    fn order_time_outs_are_seconds_from_zero_to_a_day() {
        assert_eq!(order_patience(0.0).unwrap(), Duration::ZERO);
        assert_eq!(order_patience(1.5).unwrap(), Duration::from_millis(1500));
        assert_eq!(
            order_patience(86_400.0).unwrap(),
            cleope_sandbox::LONGEST_WAIT
        );
        for bad in [-1.0, -0.001, f64::NAN, f64::INFINITY, 86_400.5, 1e300] {
            let error = order_patience(bad).unwrap_err();
            assert!(matches!(error, ClientError::BadDuration { .. }), "{bad}");
        }
    }

    /// A client whose requests go to a loopback port that accepts and
    /// never answers.
    fn silent_client() -> (std::net::TcpListener, Client) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}/dias-catalogue", listener.local_addr().unwrap());
        (
            listener,
            Client::new(ClientConfig::new(Dialect::Onda, &base), None),
        )
    }

    #[test]
    fn a_request_to_a_silent_server_ends_at_the_deadline_and_at_an_interrupt() {
        let (_listener, client) = silent_client();
        let cancel = Cancel::default();
        cancel.start_run(Duration::from_millis(500));
        let started = Instant::now();
        let error = client.count(&Query::default(), &cancel).unwrap_err();
        let took = started.elapsed();
        assert!(
            matches!(error, ClientError::Stopped(Stop::Quota(_))),
            "{error}"
        );
        assert!(took < Duration::from_millis(800), "{took:?}");

        let cancel = std::sync::Arc::new(Cancel::default());
        cancel.start_run(Duration::from_secs(60));
        let interrupter = std::sync::Arc::clone(&cancel);
        let interrupted_at = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            interrupter.interrupt();
            Instant::now()
        });
        let error = client.count(&Query::default(), &cancel).unwrap_err();
        let stopped = Instant::now() - interrupted_at.join().unwrap();
        assert!(
            matches!(error, ClientError::Stopped(Stop::Interrupted)),
            "{error}"
        );
        assert!(stopped < Duration::from_millis(200), "{stopped:?}");
    }

    #[test]
    fn server_messages_are_shortened_to_their_first_line() {
        assert_eq!(short("\n  boom \nmore"), "boom");
        assert_eq!(short(""), "no message");
        assert_eq!(short(&"x".repeat(300)).chars().count(), 201);
    }
}
