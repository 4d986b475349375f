//! Finding, ordering and downloading products, and opening them in the
//! mounted archive (ENS). With nothing configured, the session serves the
//! demo archive through a local catalogue of its own, so every example and
//! tutorial works offline.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use rhai::plugin::*;
use rhai::{Array, Map};

use crate::api::args::Options;
use crate::api::script_error;
use crate::eo::download::{Progress, TerminalProgress, Unit};
use crate::eo::ens::{EnsError, EnsProduct, Placement, name_stem};
use crate::eo::odata::client::{ClientError, MAX_RESULTS};
use crate::eo::odata::{CatalogueProduct, Query, SortOrder};
use crate::runtime::Host;
use crate::runtime::data_access::{AccessError, Archive};
use crate::runtime::display::DisplayItem;

pub fn module() -> Module {
    let mut module = exported_module!(catalogue_api);
    module.set_custom_type::<Product>("Product");
    module.set_custom_type::<EnsProduct>("EnsProduct");
    module
}

/// A catalogue product, as a script holds it.
#[derive(Debug, Clone)]
pub struct Product(pub(crate) Arc<CatalogueProduct>);

impl Product {
    /// The catalogue's description.
    pub fn inner(&self) -> &CatalogueProduct {
        &self.0
    }
}

/// Results a search gives when the query does not say.
const DEFAULT_MAX_RESULTS: usize = 100;

/// The keys a query map may have.
const QUERY_KEYS: [&str; 10] = [
    "mission",
    "product_type",
    "main_class",
    "aoi",
    "from",
    "to",
    "max_cloud",
    "name",
    "max_results",
    "order",
];

pub(crate) fn access_error(error: AccessError) -> Box<EvalAltResult> {
    script_error(error.kind, &error.message, &error.hint)
}

pub(crate) fn client_error(error: ClientError) -> Box<EvalAltResult> {
    if let ClientError::Stopped(stop) = error {
        return crate::api::stop_error(stop);
    }
    let kind = match &error {
        ClientError::Unreachable { .. } => "CatalogueUnreachable",
        ClientError::Server { .. } => "CatalogueError",
        ClientError::Rejected { .. } | ClientError::BadQuery(_) | ClientError::TooMany { .. } => {
            "BadQuery"
        }
        ClientError::Unauthorized { .. } | ClientError::NoCredentials { .. } => "LoginFailed",
        ClientError::NotFound { .. } => "ProductNotFound",
        ClientError::Offline { .. } | ClientError::StillOffline { .. } => "ProductOffline",
        ClientError::OrderRefused { .. } => "OrderRefused",
        ClientError::BadResponse { .. } => "CatalogueError",
        ClientError::NotGranted(_) => "NetworkNotAllowed",
        ClientError::BadDuration { .. } => "BadDuration",
        ClientError::NoSuchFiles { .. } => "NoSuchFile",
        ClientError::ErrorPage { .. } => "ErrorPageServed",
        ClientError::QuotaExceeded { .. } => "DownloadQuotaExceeded",
        ClientError::TokenRefused { .. } => "LoginFailed",
        ClientError::TwoFactor { .. } => "TwoFactorAccount",
        ClientError::Stopped(_) => unreachable!("handled above"),
    };
    script_error(kind, &error.to_string(), &error.hint())
}

pub(crate) fn ens_error(error: EnsError) -> Box<EvalAltResult> {
    let kind = match &error {
        EnsError::Offline { .. } => "ProductOffline",
        EnsError::NotMounted { .. } | EnsError::NoMount { .. } => "NotInArchive",
        EnsError::NoSuchProduct { .. } => "ProductNotFound",
        EnsError::NoMatch { .. } => "NoSuchFile",
        EnsError::Ambiguous { .. } => "AmbiguousFile",
        EnsError::Unreadable { .. } => "FileError",
        EnsError::UnsafeName(_) => "UnsafeName",
    };
    script_error(kind, &error.to_string(), &error.hint())
}

fn download_error(error: crate::eo::download::DownloadError) -> Box<EvalAltResult> {
    use crate::eo::download::{Cause, DownloadError};
    let hint = error.hint();
    match error {
        DownloadError::Quota(breach) => crate::api::breach_error(breach),
        DownloadError::Stopped(stop) => crate::api::stop_error(stop),
        error @ (DownloadError::Checksum { .. } | DownloadError::Size { .. }) => {
            script_error("ChecksumMismatch", &error.to_string(), &hint)
        }
        error @ DownloadError::Remote { cause, .. } => {
            let kind = match cause {
                Cause::Transfer => "DownloadFailed",
                Cause::Login => "LoginFailed",
                Cause::Offline => "ProductOffline",
                Cause::Catalogue => "CatalogueError",
                Cause::NotGranted => "NetworkNotAllowed",
                Cause::NoSuchFile => "NoSuchFile",
                Cause::ErrorPage => "ErrorPageServed",
                Cause::AccountQuota => "DownloadQuotaExceeded",
                Cause::TwoFactor => "TwoFactorAccount",
            };
            script_error(kind, &error.to_string(), &hint)
        }
        error @ DownloadError::UnsafeName(_) => {
            script_error("UnsafeName", &error.to_string(), &hint)
        }
        error @ (DownloadError::UnsafeArchive { .. } | DownloadError::BadArchive { .. }) => {
            script_error("BadArchive", &error.to_string(), &hint)
        }
        error @ DownloadError::Io { .. } => script_error("FileError", &error.to_string(), &hint),
    }
}

fn number(value: &Dynamic, key: &str) -> Result<f64, Box<EvalAltResult>> {
    value
        .as_float()
        .ok()
        .or_else(|| value.as_int().ok().map(|i| i as f64))
        .ok_or_else(|| {
            script_error(
                "BadQuery",
                &format!("`{key}` must be a number, not {value}"),
                "",
            )
        })
}

fn text(value: &Dynamic, key: &str) -> Result<String, Box<EvalAltResult>> {
    value
        .clone()
        .into_immutable_string()
        .map(|s| s.to_string())
        .map_err(|_| {
            script_error(
                "BadQuery",
                &format!("`{key}` must be a string, not {value}"),
                "",
            )
        })
}

/// An instant from `"2020-07-20"` (the day's start, or with `end_of_day`
/// its last millisecond) or a full `"2020-07-20T09:21:44Z"`.
fn instant(value: &str, key: &str, end_of_day: bool) -> Result<DateTime<Utc>, Box<EvalAltResult>> {
    let value = value.trim();
    if let Ok(date) = NaiveDate::parse_from_str(value, "%Y-%m-%d") {
        let time = if end_of_day {
            date.and_hms_milli_opt(23, 59, 59, 999)
        } else {
            date.and_hms_opt(0, 0, 0)
        };
        return Ok(time.expect("valid time of day").and_utc());
    }
    if let Ok(time) = DateTime::parse_from_rfc3339(value) {
        return Ok(time.with_timezone(&Utc));
    }
    if let Ok(time) = NaiveDateTime::parse_from_str(value, "%Y-%m-%dT%H:%M:%S") {
        return Ok(time.and_utc());
    }
    Err(script_error(
        "BadQuery",
        &format!("`{key}` is \"{value}\", which is not a date"),
        "write dates as \"YYYY-MM-DD\" (or \"YYYY-MM-DDTHH:MM:SSZ\")",
    ))
}

/// A query and a result limit from a script map.
pub(crate) fn query_of(map: &Map) -> Result<(Query, usize), Box<EvalAltResult>> {
    Options::check_as(map, &QUERY_KEYS, "BadQuery", "a query key")?;
    let get = |key: &str| map.get(key).filter(|v| !v.is_unit());
    let mut query = Query::default();
    if let Some(v) = get("mission") {
        query.mission = Some(text(v, "mission")?);
    }
    if let Some(v) = get("product_type") {
        query.product_type = Some(text(v, "product_type")?);
    }
    if let Some(v) = get("main_class") {
        query.main_class = Some(text(v, "main_class")?);
    }
    if let Some(v) = get("aoi") {
        query.aoi = Some(crate::api::args::area(v)?);
    }
    if let Some(v) = get("from") {
        query.sensed_from = Some(instant(&text(v, "from")?, "from", false)?);
    }
    if let Some(v) = get("to") {
        query.sensed_to = Some(instant(&text(v, "to")?, "to", true)?);
    }
    if let (Some(from), Some(to)) = (query.sensed_from, query.sensed_to)
        && from > to
    {
        return Err(script_error(
            "BadQuery",
            &format!("`from` ({from}) is after `to` ({to})"),
            "swap the two dates",
        ));
    }
    if let Some(v) = get("max_cloud") {
        query.max_cloud = Some(number(v, "max_cloud")?);
    }
    if let Some(v) = get("name") {
        query.name = Some(text(v, "name")?);
    }
    if let Some(v) = get("order") {
        query.order = match text(v, "order")?.to_ascii_lowercase().as_str() {
            "asc" | "oldest" => SortOrder::SensingAscending,
            "desc" | "newest" => SortOrder::SensingDescending,
            other => {
                return Err(script_error(
                    "BadQuery",
                    &format!("`order` is \"{other}\""),
                    "write order: \"asc\" (oldest first) or \"desc\" (newest first)",
                ));
            }
        };
    }
    let max_results = match get("max_results") {
        Some(v) => {
            let n = v.as_int().map_err(|_| {
                script_error("BadQuery", "`max_results` must be a whole number", "")
            })?;
            if n < 1 || n as usize > MAX_RESULTS {
                return Err(script_error(
                    "BadQuery",
                    &format!("`max_results` is {n}"),
                    &format!("ask for 1 to {MAX_RESULTS} results"),
                ));
            }
            n as usize
        }
        None => DEFAULT_MAX_RESULTS,
    };
    Ok((query, max_results))
}

/// A short description of a query, for messages ("Sentinel-2 S2MSI2A …").
fn describe_query(query: &Query) -> String {
    let mut parts = Vec::new();
    if let Some(m) = &query.mission {
        parts.push(m.clone());
    }
    if let Some(t) = &query.product_type {
        parts.push(t.clone());
    }
    if let Some(c) = &query.main_class {
        parts.push(c.clone());
    }
    if let Some(n) = &query.name {
        parts.push(format!("named {n}"));
    }
    if let Some(aoi) = &query.aoi {
        parts.push(format!("over {}", aoi.bbox()));
    }
    match (query.sensed_from, query.sensed_to) {
        (Some(from), Some(to)) => parts.push(format!(
            "sensed {} to {}",
            from.format("%Y-%m-%d"),
            to.format("%Y-%m-%d")
        )),
        (Some(from), None) => parts.push(format!("sensed from {}", from.format("%Y-%m-%d"))),
        (None, Some(to)) => parts.push(format!("sensed until {}", to.format("%Y-%m-%d"))),
        (None, None) => {}
    }
    if let Some(c) = query.max_cloud {
        parts.push(format!("at most {c}% cloud"));
    }
    if parts.is_empty() {
        "any product".into()
    } else {
        parts.join(", ")
    }
}

/// Shows progress the way the front-end can: a display updated in place in
/// a notebook, a bar on a terminal's stderr (nothing when not a terminal).
struct SessionProgress {
    host: Arc<Host>,
    id: String,
    terminal: TerminalProgress,
    state: std::sync::Mutex<(String, Option<u64>, Unit, std::time::Instant, u64)>,
}

impl SessionProgress {
    fn new(host: Arc<Host>) -> SessionProgress {
        let id = format!("cleope-progress-{}", host.next_figure_number());
        SessionProgress {
            host,
            id,
            terminal: TerminalProgress::default(),
            state: std::sync::Mutex::new((
                String::new(),
                None,
                Unit::Bytes,
                std::time::Instant::now(),
                0,
            )),
        }
    }

    fn notebook(&self) -> bool {
        self.host.display.shows_images()
    }

    fn line(label: &str, done: u64, total: Option<u64>, unit: Unit) -> String {
        let amount = |n: u64| match unit {
            Unit::Bytes => crate::sandbox::human_disk_bytes(n),
            Unit::Seconds => format!("{n} s"),
        };
        match total {
            Some(total) if total > 0 => {
                let share = (done as f64 / total as f64).min(1.0);
                let filled = (share * 30.0).round() as usize;
                format!(
                    "{label} [{}{}] {} of {}",
                    "=".repeat(filled),
                    " ".repeat(30 - filled),
                    amount(done),
                    amount(total)
                )
            }
            _ => format!("{label}: {}", amount(done)),
        }
    }
}

impl Progress for SessionProgress {
    fn start(&self, label: &str, total: Option<u64>, unit: Unit) {
        if !self.notebook() {
            return self.terminal.start(label, total, unit);
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        *state = (label.to_string(), total, unit, std::time::Instant::now(), 0);
        let item = DisplayItem::text(Self::line(label, 0, total, unit)).with_id(&self.id);
        self.host.display.display(&item);
    }

    fn advance(&self, done: u64) {
        if !self.notebook() {
            return self.terminal.advance(done);
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        // A notebook redraws at most five times a second.
        if state.3.elapsed() < std::time::Duration::from_millis(200) {
            state.4 = done;
            return;
        }
        state.3 = std::time::Instant::now();
        state.4 = done;
        let item =
            DisplayItem::text(Self::line(&state.0, done, state.1, state.2)).with_id(&self.id);
        self.host.display.update_display(&item);
    }

    fn finish(&self, message: &str) {
        if !self.notebook() {
            return self.terminal.finish(message);
        }
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let done = state.1.unwrap_or(state.4);
        let line = format!(
            "{} ({message})",
            Self::line(&state.0, done, state.1, state.2)
        );
        self.host
            .display
            .update_display(&DisplayItem::text(line).with_id(&self.id));
    }
}

/// A product from a `Product` or a name (asked of the catalogue).
fn product_of(
    ctx: &NativeCallContext,
    value: &Dynamic,
) -> Result<CatalogueProduct, Box<EvalAltResult>> {
    if let Some(product) = value.clone().try_cast::<Product>() {
        return Ok(product.0.as_ref().clone());
    }
    let name = value.clone().into_immutable_string().map_err(|_| {
        script_error(
            "TypeMismatch",
            &format!("{value} is not a product"),
            "give a product from odata_search(...) or odata_product(...), or its name",
        )
    })?;
    let host = Host::of(ctx)?;
    let client = host.data.client(&host).map_err(access_error)?;
    client.product(&name, &host.cancel).map_err(client_error)
}

/// Where ENS looks for a product: the archive's own record when it has one
/// (the same product whichever dialect named it), else the catalogue's.
fn placement(archive: &Archive, product: &CatalogueProduct) -> Placement {
    let stem = name_stem(&product.name);
    let record = archive.index.as_ref().and_then(|index| {
        index
            .products
            .iter()
            .find(|r| r.id == product.id || name_stem(&r.name) == stem)
    });
    match record {
        Some(record) => Placement {
            online: product.online,
            ..Placement::from(record)
        },
        None => Placement {
            name: product.name.clone(),
            pseudopath: product.pseudopath.clone().unwrap_or_default(),
            s3_path: product.s3_path.clone().unwrap_or_default(),
            online: product.online,
        },
    }
}

/// A product handle, through the session's archive, from a `Product` or a
/// name (the archive's index first, else the catalogue). Paths and handles
/// are read by `api::args::product`, which calls this for the rest.
pub(crate) fn archive_product(
    ctx: &NativeCallContext,
    value: &Dynamic,
) -> Result<EnsProduct, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let archive = host.data.archive(&host).map_err(access_error)?;
    if let Some(product) = value.clone().try_cast::<Product>() {
        return archive
            .ens
            .open(&placement(&archive, &product.0))
            .map_err(ens_error);
    }
    let Ok(text) = value.clone().into_immutable_string() else {
        return Err(script_error(
            "TypeMismatch",
            &format!("{value} is not a product"),
            "give a product from odata_search(...), its name, or the path of a product",
        ));
    };
    let stem = name_stem(&text);
    let record = archive
        .index
        .as_ref()
        .and_then(|index| index.products.iter().find(|r| name_stem(&r.name) == stem));
    match record {
        Some(record) => archive
            .ens
            .open(&Placement::from(record))
            .map_err(ens_error),
        None => {
            let product = product_of(ctx, value)?;
            archive
                .ens
                .open(&placement(&archive, &product))
                .map_err(ens_error)
        }
    }
}

/// A product as one table row: the columns CLEOPE's results table had,
/// plus mission, type, end time and cloud cover.
fn row_of(product: &CatalogueProduct) -> Map {
    let mut row = Map::new();
    row.insert("id".into(), product.id.clone().into());
    row.insert("name".into(), product.name.clone().into());
    let optional = |v: &Option<String>| v.clone().map_or(Dynamic::UNIT, Dynamic::from);
    row.insert("mission".into(), optional(&product.mission));
    row.insert("product_type".into(), optional(&product.product_type));
    row.insert("sensing_start".into(), iso(product.begin).into());
    row.insert("sensing_end".into(), iso(product.end).into());
    row.insert("size".into(), (product.size as rhai::INT).into());
    row.insert("online".into(), product.online.into());
    row.insert("pseudopath".into(), optional(&product.pseudopath));
    row.insert("s3_path".into(), optional(&product.s3_path));
    row.insert(
        "cloud_cover".into(),
        product
            .cloud_cover()
            .map_or(Dynamic::UNIT, Dynamic::from_float),
    );
    row.insert("footprint".into(), product.footprint_wkt.clone().into());
    row
}

fn iso(time: DateTime<Utc>) -> String {
    time.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn products_in(array: &Array) -> Result<Vec<Product>, Box<EvalAltResult>> {
    array
        .iter()
        .map(|item| {
            item.clone().try_cast::<Product>().ok_or_else(|| {
                script_error(
                    "TypeMismatch",
                    &format!("{item} is not a product"),
                    "give the array odata_search(...) returned",
                )
            })
        })
        .collect()
}

/// The products named in an array (names or ENS paths).
fn products_named(ctx: &NativeCallContext, names: &Array) -> Result<Array, Box<EvalAltResult>> {
    names
        .iter()
        .map(|entry| {
            let line = entry.to_string();
            let name = line
                .trim_end_matches('/')
                .rsplit('/')
                .next()
                .unwrap_or(&line);
            product_of(ctx, &Dynamic::from(name.to_string()))
                .map(|p| Dynamic::from(Product(Arc::new(p))))
        })
        .collect()
}

/// Waits (with a progress bar) until an ordered product is online, at most
/// `patience` when given (see `odata_wait`).
fn wait_until_online(
    ctx: &NativeCallContext,
    product: &Dynamic,
    patience: Option<std::time::Duration>,
) -> Result<Product, Box<EvalAltResult>> {
    let product = product_of(ctx, product)?;
    if product.online {
        return Ok(Product(Arc::new(product)));
    }
    let host = Host::of(ctx)?;
    let client = host.data.client(&host).map_err(access_error)?;
    let progress = SessionProgress::new(Arc::clone(&host));
    let ready = match patience {
        Some(patience) => {
            client.wait_online_within(&product.name, None, patience, &host.cancel, &progress)
        }
        None => client.wait_online(&product.name, None, &host.cancel, &progress),
    };
    Ok(Product(Arc::new(ready.map_err(client_error)?)))
}

/// Runs a download for a script: `work` gets the catalogue client, the
/// workspace, its `local_files/` folder, the session's limits and a
/// progress display; the paths it gives back are shown as the script sees them.
fn download_with(
    ctx: &NativeCallContext,
    work: impl FnOnce(
        &crate::eo::odata::client::Client,
        &crate::sandbox::Workspace,
        &std::path::Path,
        &crate::eo::download::Limits,
        &SessionProgress,
    ) -> Result<Vec<std::path::PathBuf>, crate::eo::download::DownloadError>,
) -> Result<Vec<String>, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let client = host.data.client(&host).map_err(access_error)?;
    let workspace = host.workspace().clone();
    let folder = workspace.root().join("local_files");
    let limits = crate::eo::download::Limits {
        disk: &host.disk,
        cancel: &host.cancel,
    };
    let progress = SessionProgress::new(Arc::clone(&host));
    let paths = work(&client, &workspace, &folder, &limits, &progress).map_err(download_error)?;
    Ok(paths
        .iter()
        .map(|path| workspace.display_path(path))
        .collect())
}

/// Downloads one product into local_files/ (see `odata_download`).
fn download_one(ctx: &NativeCallContext, product: &Dynamic) -> Result<String, Box<EvalAltResult>> {
    let product = product_of(ctx, product)?;
    let paths = download_with(ctx, |client, workspace, folder, limits, progress| {
        client
            .fetch_product(&product, folder, workspace, limits, progress)
            .map(|fetched| vec![fetched.path])
    })?;
    Ok(paths.into_iter().next().unwrap_or_default())
}

/// Downloads the files of one product whose paths match `patterns` into
/// `local_files/<product>/…` (see `odata_download(product, options)`).
fn download_files(
    ctx: &NativeCallContext,
    product: &Dynamic,
    patterns: &[String],
) -> Result<Array, Box<EvalAltResult>> {
    let product = product_of(ctx, product)?;
    let paths = download_with(ctx, |client, workspace, folder, limits, progress| {
        client.fetch_files(&product, patterns, folder, workspace, limits, progress)
    })?;
    Ok(paths.into_iter().map(Dynamic::from).collect())
}

/// The `files` option: one pattern or an array of them.
fn file_patterns(options: &Map) -> Result<Vec<String>, Box<EvalAltResult>> {
    let bad = || {
        script_error(
            "BadOption",
            "odata_download's files option must be a pattern or an array of patterns",
            "e.g. odata_download(p, #{ files: [\"*B04_10m.jp2\", \"MTD_*.xml\"] })",
        )
    };
    let value = options.get("files").ok_or_else(bad)?;
    let items: Vec<Dynamic> = match value.clone().try_cast::<Array>() {
        Some(array) => array,
        None => vec![value.clone()],
    };
    items
        .into_iter()
        .map(|item| item.into_string().map_err(|_| bad()))
        .collect()
}

#[export_module]
mod catalogue_api {
    use super::*;
    use crate::sandbox::files;
    use rhai::{FLOAT, INT};

    /// Searches the catalogue and returns the matching products (an array
    /// of `Product`), oldest first. The query is a map; every key is
    /// optional: `mission` ("Sentinel-1", "Sentinel-2", "Sentinel-3",
    /// "Sentinel-5 Precursor"), `product_type` ("S2MSI2A", "GRD",
    /// "OL_2_LFR___", "L2__NO2___"…), `main_class` (Copernicus services),
    /// `aoi` (an `Aoi`, bounds or WKT), `from` and `to` (sensing dates,
    /// "YYYY-MM-DD", both included), `max_cloud` (percent), `name`,
    /// `order` ("asc" or "desc") and `max_results` (default 100, at most
    /// 10000). Pages are fetched behind the scenes; a search that finds
    /// nothing returns an empty array and says so on stderr.
    ///
    /// ```rhai
    /// let found = odata_search(#{ mission: "Sentinel-2", max_results: 5 });
    /// print(`${found.len()} products`);
    /// for p in found { print(p.name + " " + p.sensing_start); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_search(ctx: NativeCallContext, query: Map) -> Result<Array, Box<EvalAltResult>> {
        let (query, max_results) = query_of(&query)?;
        let host = Host::of(&ctx)?;
        let client = host.data.client(&host).map_err(access_error)?;
        let found = client
            .search(&query, max_results, &host.cancel)
            .map_err(client_error)?;
        let warn = |text: String| {
            host.display
                .stream(crate::runtime::Stream::Stderr, &format!("{text}\n"))
        };
        if found.is_empty() {
            warn(format!(
                "Warning: no products match {}",
                describe_query(&query)
            ));
        } else if found.len() == max_results {
            let total = client.count(&query, &host.cancel).map_err(client_error)?;
            if total > max_results as u64 {
                warn(format!(
                    "Note: showing the first {max_results} of {total} products; set max_results to see more"
                ));
            }
        }
        Ok(found
            .into_iter()
            .map(|p| Dynamic::from(Product(Arc::new(p))))
            .collect())
    }

    /// Counts the products matching a query (the keys of `odata_search`).
    ///
    /// ```rhai
    /// let n = odata_count(#{ mission: "Sentinel-1" });
    /// print(`${n} Sentinel-1 products in the catalogue`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_count(ctx: NativeCallContext, query: Map) -> Result<INT, Box<EvalAltResult>> {
        let (query, _) = query_of(&query)?;
        let host = Host::of(&ctx)?;
        let client = host.data.client(&host).map_err(access_error)?;
        let count = client.count(&query, &host.cancel).map_err(client_error)?;
        Ok(count as INT)
    }

    /// The product with this name (the extension, `.zip` or `.SAFE`, may be left out).
    ///
    /// ```rhai
    /// let first = odata_search(#{ max_results: 1 })[0];
    /// let p = odata_product(first.name);
    /// assert(p.id == first.id, "same product");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_product(
        ctx: NativeCallContext,
        name: &str,
    ) -> Result<Product, Box<EvalAltResult>> {
        let product = product_of(&ctx, &Dynamic::from(name.to_string()))?;
        Ok(Product(Arc::new(product)))
    }

    /// The products named in an array (names or ENS paths, e.g. the lines
    /// of a product list), in the same order.
    ///
    /// ```rhai
    /// let names = odata_search(#{ max_results: 2 }).map(|p| p.name);
    /// let again = odata_products(names);
    /// assert(again.len() == names.len(), "one product per name");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_products(
        ctx: NativeCallContext,
        names: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        products_named(&ctx, &names)
    }

    /// Orders an archived (offline) product: the catalogue restores it to
    /// the archive after a while. Returns a map with `name`, `status`,
    /// `estimated` (when it should be online, UTC) and `wait_s` (seconds
    /// until then). A product already online is not ordered again
    /// (`status` is "online").
    ///
    /// ```rhai
    /// let p = odata_search(#{ max_results: 1 })[0];
    /// let order = odata_order(p);
    /// print(order.status);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_order(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Map, Box<EvalAltResult>> {
        let product = product_of(&ctx, &product)?;
        let mut answer = Map::new();
        answer.insert("name".into(), product.name.clone().into());
        if product.online {
            answer.insert("status".into(), "online".into());
            answer.insert("estimated".into(), Dynamic::UNIT);
            answer.insert("wait_s".into(), (0 as INT).into());
            return Ok(answer);
        }
        let host = Host::of(&ctx)?;
        let client = host.data.client(&host).map_err(access_error)?;
        let order = client
            .order(&product.id, &product.name, &host.cancel)
            .map_err(client_error)?;
        let wait = order
            .estimated
            .map(|at| (at - Utc::now()).num_milliseconds().max(0) as f64 / 1000.0);
        answer.insert("status".into(), order.status.into());
        answer.insert(
            "estimated".into(),
            order.estimated.map_or(Dynamic::UNIT, |t| iso(t).into()),
        );
        answer.insert(
            "wait_s".into(),
            wait.map_or(Dynamic::UNIT, |w| (w.ceil() as INT).into()),
        );
        Ok(answer)
    }

    /// Waits (with a progress bar) until an ordered product is online, and
    /// returns it as the catalogue now describes it.
    ///
    /// ```rhai
    /// let p = odata_search(#{ max_results: 1 })[0];
    /// odata_order(p);
    /// let ready = odata_wait(p);
    /// assert(ready.online, "restored");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_wait(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Product, Box<EvalAltResult>> {
        wait_until_online(&ctx, &product, None)
    }

    /// Waits at most `timeout_s` seconds (0 to 86400) for an ordered
    /// product to come online; a product still offline then is a
    /// `ProductOffline` error, a time-out outside that range `BadDuration`.
    ///
    /// ```rhai
    /// let p = odata_search(#{ max_results: 1 })[0];
    /// odata_order(p);
    /// let ready = odata_wait(p, 600);
    /// assert(ready.online, "restored within ten minutes");
    /// ```
    #[rhai_fn(name = "odata_wait", return_raw)]
    pub fn odata_wait_at_most(
        ctx: NativeCallContext,
        product: Dynamic,
        timeout_s: Dynamic,
    ) -> Result<Product, Box<EvalAltResult>> {
        let seconds = number(&timeout_s, "timeout_s").map_err(|_| {
            client_error(ClientError::BadDuration {
                given: timeout_s.to_string(),
            })
        })?;
        let patience = crate::eo::odata::client::order_patience(seconds).map_err(client_error)?;
        wait_until_online(&ctx, &product, Some(patience))
    }

    /// Downloads a product into `local_files/` and returns its path there
    /// (unpacked: `local_files/<name>.SAFE` for a zip). An offline product
    /// is ordered first and waited for. The download is resumed after a
    /// cut, checked against the catalogue's checksums, counted against the
    /// disk quota before it starts, and recorded in `local_files/list_local.txt`.
    /// A product already in `local_files/` is not downloaded again.
    ///
    /// ```rhai
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// let path = odata_download(p);
    /// print(path);
    /// assert(file_exists(path), "unpacked in local_files");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_download(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        download_one(&ctx, &product)
    }

    /// Downloads only some files of a product, through CDSE's Nodes API:
    /// `files` is a pattern or an array of patterns matched against each
    /// file's path inside the product (`*` and `?` within a name, `**`
    /// across folders; a pattern without `/` matches the file name). The
    /// files land in `local_files/` under their paths inside the product
    /// (`local_files/X.SAFE/GRANULE/…/T32TQM_B04_10m.jp2`), each resumed
    /// after a cut, checked against the listed size, renamed into place
    /// only when complete, counted against the disk quota and recorded in
    /// `list_local.txt`; files already there are not downloaded again. A
    /// pattern that matches nothing is a `NoSuchFile` error naming a few
    /// files the product has. Returns the files' paths.
    ///
    /// ```rhai
    /// catalogue("cdse");
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// let files = odata_download(p, #{ files: ["MTD_*.xml"] });
    /// print(files);
    /// assert(file_exists(files[0]), "downloaded");
    /// catalogue("onda");
    /// ```
    #[rhai_fn(name = "odata_download", return_raw)]
    pub fn odata_download_files(
        ctx: NativeCallContext,
        product: Dynamic,
        options: Map,
    ) -> Result<Array, Box<EvalAltResult>> {
        Options::check_as(
            &options,
            &["files"],
            "BadOption",
            "an odata_download option",
        )?;
        let patterns = file_patterns(&options)?;
        download_files(&ctx, &product, &patterns)
    }

    /// Lists a product's files without downloading it (CDSE's Nodes API):
    /// an array of maps `#{ path, size }`, `path` inside the product
    /// (`X.SAFE/MTD_MSIL2A.xml`) and `size` in bytes. Choose files for
    /// `odata_download(product, #{ files: [...] })` from it.
    ///
    /// ```rhai
    /// catalogue("cdse");
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// for f in odata_nodes(p) { print(`${f.path}  ${f.size} bytes`); }
    /// catalogue("onda");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn odata_nodes(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<Array, Box<EvalAltResult>> {
        let product = product_of(&ctx, &product)?;
        let host = Host::of(&ctx)?;
        let client = host.data.client(&host).map_err(access_error)?;
        let files = client
            .nodes(&product.id, &host.cancel)
            .map_err(client_error)?;
        Ok(files
            .into_iter()
            .map(|file| {
                let mut map = Map::new();
                map.insert("path".into(), file.path.into());
                map.insert("size".into(), (file.size as INT).into());
                Dynamic::from_map(map)
            })
            .collect())
    }

    /// Downloads every product of a product list file (one name or ENS
    /// path per line), as `odata_download` does; returns their paths in
    /// `local_files/`.
    ///
    /// ```rhai
    /// let names = odata_search(#{ mission: "Sentinel-2", max_results: 1 }).map(|p| p.name);
    /// write_product_list("output/product_list.txt", names);
    /// let paths = download_list("output/product_list.txt");
    /// print(paths);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn download_list(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let text = crate::api::files::read_text_of(&ctx, path)?;
        let lines = files::parse_product_list(&text);
        if lines.is_empty() {
            return Err(script_error(
                "EmptyList",
                &format!("the product list \"{path}\" names no products"),
                "write one product name (or ENS path) per line, e.g. with write_product_list",
            ));
        }
        let names: Array = lines.into_iter().map(Dynamic::from).collect();
        products_named(&ctx, &names)?
            .iter()
            .map(|p| download_one(&ctx, p).map(Dynamic::from))
            .collect()
    }

    /// Where a product lies in the mounted archive (ENS): for the ONDA
    /// layout `<root>/<pseudopath>/<name>`. An offline product gives a
    /// `ProductOffline` error with the order hint.
    ///
    /// ```rhai
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// if p.online { print(ens_path(p)); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ens_path(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<String, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let archive = host.data.archive(&host).map_err(access_error)?;
        let product = match product.clone().try_cast::<Product>() {
            Some(p) => p.0.as_ref().clone(),
            None => product_of(&ctx, &product)?,
        };
        let path = archive
            .ens
            .path_of(&placement(&archive, &product))
            .map_err(ens_error)?;
        Ok(path.display().to_string())
    }

    /// The ENS paths of products (those online; offline ones are left out
    /// with a warning naming them, as CLEOPE's `pseudopath` did).
    ///
    /// ```rhai
    /// let paths = ens_paths(odata_search(#{ mission: "Sentinel-2" }));
    /// write_product_list("output/product_list_remote.txt", paths);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ens_paths(ctx: NativeCallContext, products: Array) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let archive = host.data.archive(&host).map_err(access_error)?;
        let mut paths = Array::new();
        let mut offline = Vec::new();
        for product in products_in(&products)? {
            match archive.ens.path_of(&placement(&archive, &product.0)) {
                Ok(path) => paths.push(path.display().to_string().into()),
                Err(EnsError::Offline { name }) => offline.push(name),
                Err(error) => return Err(ens_error(error)),
            }
        }
        if !offline.is_empty() {
            host.display.stream(
                crate::runtime::Stream::Stderr,
                &format!(
                    "Warning: {} archived product(s) left out; order them first with odata_order: {}\n",
                    offline.len(),
                    offline.join(", ")
                ),
            );
        }
        Ok(paths)
    }

    /// Opens a product in the mounted archive (or in `local_files/`): give
    /// a `Product`, its name, or a path. The handle lists and finds its
    /// files by glob; zip products read in place come as `/vsizip/` paths,
    /// which `open_raster` and `open_swath` open directly.
    ///
    /// ```rhai
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// let safe = ens_open(p);
    /// print(safe.files("*.jp2").len() + " JP2 bands in " + safe.name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ens_open(
        ctx: NativeCallContext,
        product: Dynamic,
    ) -> Result<EnsProduct, Box<EvalAltResult>> {
        crate::api::args::product(&ctx, &product)?.ens(&ctx)
    }

    /// The products of the mounted archive matching a query (the keys of
    /// `odata_search`), as `EnsProduct` handles; reads the archive's
    /// index.json, no catalogue needed. Archived products are not in ENS
    /// until ordered, so they are not listed.
    ///
    /// ```rhai
    /// let s1 = ens_find(#{ mission: "Sentinel-1" });
    /// for p in s1 { print(p.name); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn ens_find(ctx: NativeCallContext, query: Map) -> Result<Array, Box<EvalAltResult>> {
        let (query, max_results) = query_of(&query)?;
        let host = Host::of(&ctx)?;
        let archive = host.data.archive(&host).map_err(access_error)?;
        let Some(index) = &archive.index else {
            return Err(script_error(
                "NoIndex",
                "the mounted archive has no index.json, so it cannot be searched locally",
                "search the catalogue with odata_search and open products with ens_open",
            ));
        };
        let mut opened = Vec::new();
        let mut missing = None;
        for record in crate::eo::ens::find(index, &query) {
            if opened.len() == max_results {
                break;
            }
            match archive.ens.open(&Placement::from(record)) {
                Ok(product) => opened.push(Dynamic::from(product)),
                // Archived products are not in ENS until ordered.
                Err(EnsError::Offline { .. }) => {}
                Err(error) => {
                    missing.get_or_insert(error);
                }
            }
        }
        // The index lists products the mount does not hold (a layout
        // setting that does not match the archive, a product moved): say
        // so rather than return fewer products without a word.
        match missing {
            Some(error) if opened.is_empty() => Err(ens_error(error)),
            Some(error) => {
                host.warn_once(
                    "ens-find-missing",
                    &format!("warning: some products of the index are not in the archive: {error}"),
                );
                Ok(opened)
            }
            None => Ok(opened),
        }
    }

    /// Chooses the catalogue: `"onda"`, `"cdse"` or `"stac"` (the same
    /// archive served in that dialect, or the configured URL spoken in it),
    /// or a URL.
    /// Returns what `catalogue()` describes.
    ///
    /// ```rhai
    /// catalogue("cdse");
    /// assert(catalogue().dialect == "cdse", "switched");
    /// catalogue("onda");
    /// ```
    #[rhai_fn(name = "catalogue", return_raw)]
    pub fn select_catalogue(
        ctx: NativeCallContext,
        which: &str,
    ) -> Result<Map, Box<EvalAltResult>> {
        let mut options = Map::new();
        if which.contains("://") {
            options.insert("url".into(), which.into());
        } else {
            options.insert("dialect".into(), which.into());
        }
        select_catalogue_with(ctx, options)
    }

    /// Chooses the catalogue from a map: `dialect` ("onda", "cdse" or
    /// "stac"), `url` (its base URL; leave it out for the local catalogue
    /// over the archive; without a dialect, a URL with `/stac` or on a
    /// `stac.` host is taken as STAC, one on CDSE or with `/odata/` as CDSE)
    /// and `token_url` (a CDSE-style token endpoint).
    ///
    /// ```rhai
    /// catalogue(#{ dialect: "cdse" });
    /// print(catalogue());
    /// catalogue(#{ dialect: "stac" });
    /// print(odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0].assets.keys());
    /// catalogue(#{ dialect: "onda" });
    /// ```
    #[rhai_fn(name = "catalogue", return_raw)]
    pub fn select_catalogue_with(
        ctx: NativeCallContext,
        options: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        use crate::runtime::config::{check_url, parse_dialect};
        let bad = |message: String, hint: &str| script_error("BadCatalogue", &message, hint);
        Options::check_as(
            &options,
            &["dialect", "url", "token_url"],
            "BadCatalogue",
            "a catalogue option",
        )?;
        let host = Host::of(&ctx)?;
        let mut selection = host.data.selection();
        let get = |key: &str| options.get(key).map(|v| v.to_string());
        if let Some(url) = get("url") {
            let url =
                check_url(&url).map_err(|e| bad(e, "write e.g. http://127.0.0.1:8080/odata/v1"))?;
            if !options.contains_key("dialect") {
                selection.dialect = if url.contains("/stac") || url.contains("://stac.") {
                    crate::eo::odata::Dialect::Stac
                } else if url.contains("dataspace.copernicus.eu") || url.contains("/odata/") {
                    crate::eo::odata::Dialect::Cdse
                } else {
                    crate::eo::odata::Dialect::Onda
                };
            }
            selection.url = Some(url);
        }
        if let Some(dialect) = get("dialect") {
            selection.dialect = parse_dialect(&dialect).map_err(|e| bad(e, ""))?;
        }
        if let Some(url) = get("token_url") {
            selection.token_url = Some(check_url(&url).map_err(|e| bad(e, ""))?);
        }
        host.data.select(selection).map_err(access_error)?;
        current_catalogue(ctx)
    }

    /// The catalogue in use: `dialect`, `url` (once started), `local`
    /// (true for the catalogue cleope serves over its archive), `archive`
    /// and `user` (the account's name; passwords are never shown).
    ///
    /// ```rhai
    /// let c = catalogue();
    /// print(`${c.dialect} catalogue, archive at ${c.archive}`);
    /// ```
    #[rhai_fn(name = "catalogue", return_raw)]
    pub fn current_catalogue(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let description = host.data.describe();
        let mut map = Map::new();
        let dialect = match description.dialect {
            crate::eo::odata::Dialect::Onda => "onda",
            crate::eo::odata::Dialect::Cdse => "cdse",
            crate::eo::odata::Dialect::Stac => "stac",
        };
        let optional = |v: Option<String>| v.map_or(Dynamic::UNIT, Dynamic::from);
        map.insert("dialect".into(), dialect.into());
        map.insert("local".into(), description.local.into());
        map.insert("url".into(), optional(description.url));
        map.insert(
            "archive".into(),
            optional(description.archive.map(|p| p.display().to_string())),
        );
        map.insert("user".into(), optional(description.user));
        Ok(map)
    }

    /// Logs in to the catalogue: asks for the user name, then the password
    /// (typed without being shown). The password is kept only in memory
    /// for this session: never printed, stored in outputs or written to a
    /// file. Where nobody can answer (a script run), set `CLEOPE_USERNAME`
    /// and `CLEOPE_PASSWORD` instead, or add the catalogue to `~/.netrc`.
    ///
    /// ```rhai
    /// try {
    ///     login();
    /// } catch (e) {
    ///     print(e.kind);   // NoInput in a script run
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn login(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        let username = ask(&ctx, "Catalogue user name: ", false)?;
        login_as(ctx, &username)
    }

    /// Logs in as `username`, asking only for the password (not shown).
    /// Both forms confirm with "Logged in to HOST as USER"; the password is
    /// checked by the catalogue at the first request that needs it.
    ///
    /// ```rhai
    /// try {
    ///     login("student");
    /// } catch (e) {
    ///     print(e.kind);   // NoInput in a script run
    /// }
    /// ```
    #[rhai_fn(name = "login", return_raw)]
    pub fn login_as(ctx: NativeCallContext, username: &str) -> Result<(), Box<EvalAltResult>> {
        let password = ask(&ctx, &format!("Password for {username}: "), true)?;
        let host = Host::of(&ctx)?;
        let username = username.trim();
        let catalogue = host
            .data
            .login(crate::eo::odata::client::Credentials::new(
                username, password,
            ))
            .unwrap_or_else(|| "the local archive".into());
        host.display.stream(
            crate::runtime::display::Stream::Stdout,
            &format!(
                "Logged in to {catalogue} as {username} (the password is checked at the first request).\n"
            ),
        );
        Ok(())
    }

    /// The products as a table (an array of maps: `id`, `name`, `mission`,
    /// `product_type`, `sensing_start`, `sensing_end`, `size`, `online`,
    /// `pseudopath`, `s3_path`, `cloud_cover`, `footprint` as WKT), to
    /// `display`, save with `write_csv` (CLEOPE's `query.csv`) or draw with
    /// `plot(..., #{ overlays: [#{ footprints: table }] })`.
    ///
    /// ```rhai
    /// let table = products_table(odata_search(#{ max_results: 3 }));
    /// write_csv("output/query.csv", table);
    /// print(table[0].name);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn products_table(products: Array) -> Result<Array, Box<EvalAltResult>> {
        Ok(products_in(&products)?
            .iter()
            .map(|p| Dynamic::from_map(row_of(&p.0)))
            .collect())
    }

    /// Shows products as a compact table: name, sensing date, type, size
    /// and whether each is online (in a notebook as an HTML table).
    ///
    /// ```rhai
    /// show_products(odata_search(#{ max_results: 3 }));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn show_products(
        ctx: NativeCallContext,
        products: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let products = products_in(&products)?;
        let columns: Vec<String> = ["name", "sensed", "type", "size", "online"]
            .iter()
            .map(|c| c.to_string())
            .collect();
        let rows: Vec<Vec<String>> = products
            .iter()
            .map(|p| {
                let p = &p.0;
                vec![
                    p.name.clone(),
                    p.begin.format("%Y-%m-%d %H:%M").to_string(),
                    p.product_type.clone().unwrap_or_default(),
                    crate::sandbox::human_disk_bytes(p.size),
                    if p.online { "yes" } else { "no (order it)" }.to_string(),
                ]
            })
            .collect();
        Host::of(&ctx)?
            .display
            .display(&DisplayItem::table(&columns, &rows));
        Ok(())
    }

    /// The product's UUID in the catalogue.
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].id);
    /// ```
    #[rhai_fn(get = "id", pure)]
    pub fn id(p: &mut Product) -> String {
        p.0.id.clone()
    }

    /// The product's name in the catalogue (ONDA: `….zip`, CDSE: `….SAFE`).
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].name);
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn name(p: &mut Product) -> String {
        p.0.name.clone()
    }

    /// The mission ("Sentinel-2"…), or `()` for Copernicus services.
    ///
    /// ```rhai
    /// print(odata_search(#{ mission: "Sentinel-1", max_results: 1 })[0].mission);
    /// ```
    #[rhai_fn(get = "mission", pure)]
    pub fn mission(p: &mut Product) -> Dynamic {
        p.0.mission.clone().map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// The product type ("S2MSI2A", "IW_GRDH_1S", "L2__NO2___"…).
    ///
    /// ```rhai
    /// print(odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0].product_type);
    /// ```
    #[rhai_fn(get = "product_type", pure)]
    pub fn product_type(p: &mut Product) -> Dynamic {
        p.0.product_type
            .clone()
            .map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// When the sensing started (ISO 8601, UTC).
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].sensing_start);
    /// ```
    #[rhai_fn(get = "sensing_start", pure)]
    pub fn sensing_start(p: &mut Product) -> String {
        iso(p.0.begin)
    }

    /// When the sensing ended (ISO 8601, UTC).
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].sensing_end);
    /// ```
    #[rhai_fn(get = "sensing_end", pure)]
    pub fn sensing_end(p: &mut Product) -> String {
        iso(p.0.end)
    }

    /// The footprint as an `Aoi` (`()` when the catalogue's is unusable).
    ///
    /// ```rhai
    /// let p = odata_search(#{ max_results: 1 })[0];
    /// print(p.footprint.area_km2);
    /// ```
    #[rhai_fn(get = "footprint", pure)]
    pub fn footprint(p: &mut Product) -> Dynamic {
        p.0.footprint.clone().map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// Bytes of the download.
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].size);
    /// ```
    #[rhai_fn(get = "size", pure)]
    pub fn size(p: &mut Product) -> INT {
        p.0.size as INT
    }

    /// True when it can be opened or downloaded now; false for an archived
    /// product (order it with `odata_order`).
    ///
    /// ```rhai
    /// let offline = odata_search(#{}).filter(|p| !p.online);
    /// print(`${offline.len()} archived products`);
    /// ```
    #[rhai_fn(get = "online", pure)]
    pub fn online(p: &mut Product) -> bool {
        p.0.online
    }

    /// The ONDA pseudopath (`OPTICAL/LEVEL-2A/2020/08/11`), or `()` from a CDSE catalogue.
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].pseudopath);
    /// ```
    #[rhai_fn(get = "pseudopath", pure)]
    pub fn pseudopath(p: &mut Product) -> Dynamic {
        p.0.pseudopath.clone().map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// The CDSE S3Path (`/eodata/Sentinel-2/…`), or `()` from an ONDA catalogue.
    ///
    /// ```rhai
    /// catalogue("cdse");
    /// print(odata_search(#{ max_results: 1 })[0].s3_path);
    /// catalogue("onda");
    /// ```
    #[rhai_fn(get = "s3_path", pure)]
    pub fn s3_path(p: &mut Product) -> Dynamic {
        p.0.s3_path.clone().map_or(Dynamic::UNIT, Dynamic::from)
    }

    /// The catalogue's attributes (`cloudCover`, `tileId`, `orbitNumber`…) as a map.
    ///
    /// ```rhai
    /// let p = odata_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// print(p.attributes);
    /// ```
    #[rhai_fn(get = "attributes", pure, return_raw)]
    pub fn attributes(p: &mut Product) -> Result<Map, Box<EvalAltResult>> {
        rhai::serde::to_dynamic(&p.0.attributes).map(|d| d.try_cast::<Map>().unwrap_or_default())
    }

    /// Cloud cover in percent, or `()` when the product has none.
    ///
    /// ```rhai
    /// let clear = odata_search(#{ mission: "Sentinel-2" }).filter(|p| p.cloud_cover != () && p.cloud_cover < 20.0);
    /// print(clear.len());
    /// ```
    #[rhai_fn(get = "cloud_cover", pure)]
    pub fn cloud_cover(p: &mut Product) -> Dynamic {
        p.0.cloud_cover()
            .map_or(Dynamic::UNIT, |c| Dynamic::from_float(c as FLOAT))
    }

    /// The product as a map (the row `products_table` gives).
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0].to_map().sensing_start);
    /// ```
    #[rhai_fn(pure)]
    pub fn to_map(p: &mut Product) -> Map {
        row_of(&p.0)
    }

    /// A one-line description, used by `print`.
    ///
    /// ```rhai
    /// print(odata_search(#{ max_results: 1 })[0]);
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(p: &mut Product) -> String {
        let p = &p.0;
        format!(
            "Product({}, {}, {}{}){}",
            p.name,
            p.begin.format("%Y-%m-%d %H:%M"),
            crate::sandbox::human_disk_bytes(p.size),
            if p.online { "" } else { ", offline" },
            crate::api::stac::describe_assets(&p.assets)
        )
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(odata_search(#{ max_results: 1 })[0]);
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(p: &mut Product) -> String {
        describe(p)
    }

    /// The product's path (a folder, a zip or a file).
    ///
    /// ```rhai
    /// let p = ens_find(#{ max_results: 1 })[0];
    /// print(p.path);
    /// ```
    #[rhai_fn(get = "path", pure)]
    pub fn ens_product_path(p: &mut EnsProduct) -> String {
        p.path().display().to_string()
    }

    /// The product's name (the last part of its path).
    ///
    /// ```rhai
    /// print(ens_find(#{ max_results: 1 })[0].name);
    /// ```
    #[rhai_fn(get = "name", pure)]
    pub fn ens_product_name(p: &mut EnsProduct) -> String {
        p.name().to_string()
    }

    /// The product's files whose path matches a glob, sorted: `*` within a
    /// folder, `**` across folders, `?` and `[…]`. A pattern without `/`
    /// matches file names at any depth (`"*B04_10m.jp2"`); one with `/`
    /// matches the end of the path (`"measurement/*vh*.tiff"`).
    ///
    /// ```rhai
    /// let p = ens_find(#{ max_results: 1 })[0];
    /// print(p.files("*").len() + " files");
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn files(p: &mut EnsProduct, pattern: &str) -> Result<Array, Box<EvalAltResult>> {
        Ok(p.files(pattern)
            .map_err(ens_error)?
            .into_iter()
            .map(Dynamic::from)
            .collect())
    }

    /// The one file matching a glob; none or several is an error naming them.
    ///
    /// ```rhai
    /// let p = ens_find(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// print(p.file("*B04_10m.jp2"));
    /// ```
    #[rhai_fn(pure, return_raw)]
    pub fn file(p: &mut EnsProduct, pattern: &str) -> Result<String, Box<EvalAltResult>> {
        p.file(pattern).map_err(ens_error)
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(ens_find(#{ max_results: 1 })[0]);
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe_ens(p: &mut EnsProduct) -> String {
        format!("EnsProduct({})", p.path().display())
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(ens_find(#{ max_results: 1 })[0]);
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_ens_debug(p: &mut EnsProduct) -> String {
        describe_ens(p)
    }
}

/// Asks through the session's input (a notebook prompt); None-answers become `NoInput`.
fn ask(
    ctx: &NativeCallContext,
    prompt: &str,
    password: bool,
) -> Result<String, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let answer = host.display.input(prompt, password);
    if host.cancel.is_interrupted() {
        return Err(crate::api::stop_error(crate::sandbox::Stop::Interrupted));
    }
    answer.ok_or_else(|| {
        script_error(
            "NoInput",
            "nobody can answer here: login() asks in a notebook or the REPL, not in a script run",
            "set CLEOPE_USERNAME and CLEOPE_PASSWORD (or a ~/.netrc entry) for script runs",
        )
    })
}
