//! Test hooks: faults the catalogue injects on purpose (configured at start
//! or posted to the admin endpoint), and the log of requests it answered,
//! so clients can be tested for retries, resumes and checksum checks over
//! real HTTP.
//!
//! | fault | effect |
//! | --- | --- |
//! | `status` | the next `count` requests whose path starts with `path` answer `status` (e.g. 503, 500, 429 with `retry_after`), with `body` (JSON) when given |
//! | `delay` | the next `count` requests whose path starts with `path` wait `millis` before being answered |
//! | `cut` | the next `count` downloads (of `product`, or any) stop after `after` bytes: the connection is closed mid-body |
//! | `corrupt` | the next `count` downloads (of `product`, or any) have the byte in the middle of the file flipped |
//! | `stall` | the next `count` downloads (of `product`, or any) wait `millis` before their first byte, holding the transfer open |
//! | `error_page` | the next `count` downloads (of `product`, or any) answer 200 with an HTML (`format=html`) or JSON (`format=json`) error page in place of the data, as overloaded gateways do |

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::App;

/// A fault to inject.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase", deny_unknown_fields)]
pub enum Fault {
    /// Answer `status` to the next `count` requests whose path starts with `path`.
    Status {
        /// The path prefix, e.g. `/odata/v1/Products` (`/` for every request).
        path: String,
        /// The status code, e.g. 503.
        status: u16,
        /// How many requests (default 1).
        #[serde(default = "one")]
        count: u32,
        /// A `Retry-After` header, in seconds.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        retry_after: Option<u64>,
        /// The answer's JSON body (e.g. CDSE's `{"code":"DAT-ZIP-100",…}`);
        /// by default `{"detail": "injected fault: HTTP <status>"}`.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        body: Option<String>,
    },
    /// Hold the next `count` requests whose path starts with `path` for `millis`.
    Delay {
        /// The path prefix.
        path: String,
        /// How long, in milliseconds.
        millis: u64,
        /// How many requests (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// Close the next `count` downloads after `after` bytes of body.
    Cut {
        /// Bytes sent before the cut.
        after: u64,
        /// Only downloads of this product (id or name); any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// How many downloads (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// Flip the middle byte of the next `count` downloads.
    Corrupt {
        /// Only downloads of this product (id or name); any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// How many downloads (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// Hold the next `count` downloads open `millis` before their first byte.
    Stall {
        /// How long, in milliseconds.
        millis: u64,
        /// Only downloads of this product (id or name); any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// How many downloads (default 1).
        #[serde(default = "one")]
        count: u32,
    },
    /// Answer the next `count` downloads with `200 OK` and an error page
    /// in place of the data (what a proxy or an overloaded gateway does).
    #[serde(rename = "error_page")]
    ErrorPage {
        /// `html` (default) or `json`.
        #[serde(default)]
        format: PageFormat,
        /// Only downloads of this product (id or name); any when absent.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        product: Option<String>,
        /// How many downloads (default 1).
        #[serde(default = "one")]
        count: u32,
    },
}

/// The kind of error page an `error_page` fault serves.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PageFormat {
    /// `text/html`, like a gateway's "503 Service Temporarily Unavailable" page.
    #[default]
    Html,
    /// `application/json`, like CDSE's `{"detail": …}` bodies.
    Json,
}

fn one() -> u32 {
    1
}

impl Fault {
    /// Reads the command-line form: comma-separated `key=value` pairs, e.g.
    /// `kind=status,path=/odata/v1/Products,status=503,count=2` or
    /// `kind=cut,after=1000,product=S2A_MSIL2A_….zip`.
    pub fn parse(text: &str) -> Result<Fault, String> {
        let mut object = serde_json::Map::new();
        for pair in text.split(',').filter(|p| !p.trim().is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .ok_or_else(|| format!("'{pair}' is not key=value"))?;
            let value = match value.trim().parse::<u64>() {
                Ok(number) => Value::from(number),
                Err(_) => Value::from(value.trim()),
            };
            object.insert(key.trim().to_string(), value);
        }
        serde_json::from_value(Value::Object(object)).map_err(|e| {
            format!(
                "'{text}' is not a fault ({e}); write e.g. kind=status,path=/odata/v1/Products,status=503,count=2 \
                 or kind=cut,after=1000 or kind=corrupt,product=NAME or kind=delay,path=/,millis=2000 \
                 or kind=stall,millis=600 or kind=error_page,format=html"
            )
        })
    }

    fn remaining(&self) -> u32 {
        match self {
            Fault::Status { count, .. }
            | Fault::Delay { count, .. }
            | Fault::Cut { count, .. }
            | Fault::Corrupt { count, .. }
            | Fault::Stall { count, .. }
            | Fault::ErrorPage { count, .. } => *count,
        }
    }

    fn use_once(&mut self) {
        match self {
            Fault::Status { count, .. }
            | Fault::Delay { count, .. }
            | Fault::Cut { count, .. }
            | Fault::Corrupt { count, .. }
            | Fault::Stall { count, .. }
            | Fault::ErrorPage { count, .. } => *count = count.saturating_sub(1),
        }
    }
}

/// The answer a `status` fault puts in place of the real one.
#[derive(Debug, Clone, PartialEq)]
struct Injected {
    status: u16,
    retry_after: Option<u64>,
    body: Option<String>,
}

/// What a download must suffer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Damage {
    /// Close the connection after this many body bytes.
    pub cut_after: Option<u64>,
    /// Flip the byte at this offset of the file.
    pub flip_at: Option<u64>,
    /// Send this error page (with status 200) instead of the file.
    pub error_page: Option<PageFormat>,
    /// Wait this long before the first byte.
    pub stall: Option<Duration>,
}

/// The faults waiting to happen.
#[derive(Debug, Default)]
pub(crate) struct Faults {
    pending: Vec<Fault>,
}

impl Faults {
    pub fn new(pending: Vec<Fault>) -> Faults {
        Faults { pending }
    }

    pub fn add(&mut self, fault: Fault) {
        self.pending.push(fault);
    }

    pub fn clear(&mut self) {
        self.pending.clear();
    }

    pub fn list(&self) -> Vec<Fault> {
        self.pending.clone()
    }

    /// The status or delay a request to `path` must get (each used once).
    fn for_request(&mut self, path: &str) -> (Option<Injected>, Option<u64>) {
        let mut status = None;
        let mut delay = None;
        for fault in &mut self.pending {
            match fault {
                Fault::Status {
                    path: prefix,
                    status: code,
                    retry_after,
                    body,
                    ..
                } if status.is_none() && path.starts_with(prefix.as_str()) => {
                    status = Some(Injected {
                        status: *code,
                        retry_after: *retry_after,
                        body: body.clone(),
                    });
                    fault.use_once();
                }
                Fault::Delay {
                    path: prefix,
                    millis,
                    ..
                } if delay.is_none() && path.starts_with(prefix.as_str()) => {
                    delay = Some(*millis);
                    fault.use_once();
                }
                _ => {}
            }
        }
        self.pending.retain(|f| f.remaining() > 0);
        (status, delay)
    }

    /// The damage a download of a product (`is_it` tells whether a fault's
    /// product names it) must suffer; `size` is the file's size.
    pub fn for_download(&mut self, is_it: impl Fn(&str) -> bool, size: u64) -> Damage {
        let mut damage = Damage::default();
        for fault in &mut self.pending {
            match fault {
                Fault::Cut { after, product, .. }
                    if damage.cut_after.is_none() && product.as_deref().is_none_or(&is_it) =>
                {
                    damage.cut_after = Some(*after);
                    fault.use_once();
                }
                Fault::Corrupt { product, .. }
                    if damage.flip_at.is_none() && product.as_deref().is_none_or(&is_it) =>
                {
                    damage.flip_at = Some(size / 2);
                    fault.use_once();
                }
                Fault::Stall {
                    product, millis, ..
                } if damage.stall.is_none() && product.as_deref().is_none_or(&is_it) => {
                    damage.stall = Some(Duration::from_millis(*millis));
                    fault.use_once();
                }
                Fault::ErrorPage {
                    product, format, ..
                } if damage.error_page.is_none() && product.as_deref().is_none_or(&is_it) => {
                    damage.error_page = Some(*format);
                    fault.use_once();
                }
                _ => {}
            }
        }
        self.pending.retain(|f| f.remaining() > 0);
        damage
    }
}

/// One answered request, as the admin log shows it (no credentials, no
/// tokens: the authorization scheme only).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Logged {
    pub method: String,
    pub path: String,
    pub query: Option<String>,
    pub status: u16,
    pub range: Option<String>,
    pub authorization: &'static str,
    pub listener: &'static str,
}

/// The last requests answered.
#[derive(Debug, Default)]
pub(crate) struct RequestLog {
    entries: VecDeque<Logged>,
}

const LOG_SIZE: usize = 2000;

impl RequestLog {
    fn push(&mut self, entry: Logged) {
        if self.entries.len() == LOG_SIZE {
            self.entries.pop_front();
        }
        self.entries.push_back(entry);
    }
}

/// Applies status and delay faults, and logs every request (both listeners).
pub(crate) async fn middleware(
    State((app, listener)): State<(Arc<App>, &'static str)>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_string();
    let admin = path.starts_with("/admin/");
    let mut entry = Logged {
        method: request.method().to_string(),
        path: path.clone(),
        // A hostile query can be tens of kilobytes: the log keeps its start.
        query: request
            .uri()
            .query()
            .map(|q| q.chars().take(2048).collect()),
        status: 0,
        range: request
            .headers()
            .get(axum::http::header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
        authorization: super::auth::scheme(request.headers()),
        listener,
    };
    let (status, delay) = if admin {
        (None, None)
    } else {
        app.faults.lock().unwrap().for_request(&path)
    };
    if let Some(millis) = delay {
        tokio::time::sleep(Duration::from_millis(millis)).await;
    }
    let response = match status {
        Some(fault) => injected(fault),
        None => next.run(request).await,
    };
    if !admin {
        entry.status = response.status().as_u16();
        app.log.lock().unwrap().push(entry);
    }
    response
}

fn injected(fault: Injected) -> Response {
    let status = StatusCode::from_u16(fault.status).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let body = fault.body.unwrap_or_else(|| {
        json!({"detail": format!("injected fault: HTTP {}", fault.status)}).to_string()
    });
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Some(seconds) = fault.retry_after {
        response
            .headers_mut()
            .insert(axum::http::header::RETRY_AFTER, HeaderValue::from(seconds));
    }
    response
}

/// `GET /admin/faults`: the pending faults.
pub(crate) async fn list(State(app): State<Arc<App>>) -> Response {
    axum::Json(app.faults.lock().unwrap().list()).into_response()
}

/// `POST /admin/faults` with a fault as JSON: adds it.
pub(crate) async fn add(State(app): State<Arc<App>>, body: String) -> Response {
    match serde_json::from_str::<Fault>(&body) {
        Ok(fault) => {
            app.faults.lock().unwrap().add(fault.clone());
            (StatusCode::CREATED, axum::Json(fault)).into_response()
        }
        Err(e) => (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({"detail": format!(
                "not a fault ({e}); post e.g. {{\"kind\":\"status\",\"path\":\"/odata/v1/Products\",\"status\":503,\"count\":2}}"
            )})),
        )
            .into_response(),
    }
}

/// `DELETE /admin/faults`: forgets every pending fault.
pub(crate) async fn clear(State(app): State<Arc<App>>) -> Response {
    app.faults.lock().unwrap().clear();
    StatusCode::NO_CONTENT.into_response()
}

/// `GET /admin/requests`: the requests answered so far (oldest first).
pub(crate) async fn requests(State(app): State<Arc<App>>) -> Response {
    let log = app.log.lock().unwrap();
    let entries: Vec<&Logged> = log.entries.iter().collect();
    axum::Json(entries).into_response()
}

/// `DELETE /admin/requests`: empties the log.
pub(crate) async fn forget_requests(State(app): State<Arc<App>>) -> Response {
    app.log.lock().unwrap().entries.clear();
    StatusCode::NO_CONTENT.into_response()
}

/// Downloads being sent right now, and the most sent at once since the
/// count was last reset (`GET`/`DELETE /admin/transfers`): how a test
/// sees that a client keeps to its cap on parallel downloads.
#[derive(Debug, Default)]
pub(crate) struct Transfers {
    now: AtomicUsize,
    peak: AtomicUsize,
}

impl Transfers {
    /// Counts a transfer until the returned guard is dropped.
    pub fn begin(self: &Arc<Self>) -> InFlight {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.peak.fetch_max(now, Ordering::SeqCst);
        InFlight(Arc::clone(self))
    }
}

/// One transfer being sent (its body stream holds it).
#[derive(Debug)]
pub(crate) struct InFlight(Arc<Transfers>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.now.fetch_sub(1, Ordering::SeqCst);
    }
}

/// `GET /admin/transfers`: `{"now": n, "peak": m}`.
pub(crate) async fn transfers(State(app): State<Arc<App>>) -> Response {
    let counts = &app.transfers;
    axum::Json(json!({
        "now": counts.now.load(Ordering::SeqCst),
        "peak": counts.peak.load(Ordering::SeqCst),
    }))
    .into_response()
}

/// `DELETE /admin/transfers`: the peak starts again from the transfers now under way.
pub(crate) async fn reset_transfers(State(app): State<Arc<App>>) -> Response {
    let counts = &app.transfers;
    counts
        .peak
        .store(counts.now.load(Ordering::SeqCst), Ordering::SeqCst);
    StatusCode::NO_CONTENT.into_response()
}

/// The `200 OK` error page an `error_page` fault serves in place of data.
pub(crate) fn error_page(format: PageFormat) -> Response {
    let (content_type, body) = match format {
        PageFormat::Html => (
            "text/html; charset=utf-8",
            "<html><head><title>503 Service Temporarily Unavailable</title></head>\n<body>\n\
             <h1>Service Temporarily Unavailable</h1>\n<p>The server is temporarily unable to \
             service your request due to maintenance downtime or capacity problems. Please try \
             again later.</p>\n</body></html>\n"
                .to_string(),
        ),
        PageFormat::Json => (
            "application/json",
            json!({"code": "DAT-ZIP-100", "message": "Max session number exceeded"}).to_string(),
        ),
    };
    let mut response = (StatusCode::OK, body).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static(content_type),
    );
    response
}

/// A body that stops with an error: hyper then closes the connection.
pub(crate) fn cut_error() -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::ConnectionAborted, "injected cut")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_line_faults() {
        assert_eq!(
            Fault::parse("kind=status,path=/odata/v1/Products,status=503,count=2").unwrap(),
            Fault::Status {
                path: "/odata/v1/Products".into(),
                status: 503,
                count: 2,
                retry_after: None,
                body: None,
            }
        );
        assert_eq!(
            Fault::parse("kind=cut,after=1000").unwrap(),
            Fault::Cut {
                after: 1000,
                product: None,
                count: 1
            }
        );
        let error = Fault::parse("kind=explode").unwrap_err();
        assert!(error.contains("kind=status"), "{error}");
        assert!(Fault::parse("status").is_err());
    }

    #[test]
    fn faults_are_used_up() {
        let mut faults = Faults::new(vec![
            Fault::Status {
                path: "/odata".into(),
                status: 503,
                count: 2,
                retry_after: None,
                body: None,
            },
            Fault::Corrupt {
                product: Some("A".into()),
                count: 1,
            },
        ]);
        assert_eq!(faults.for_request("/dias-catalogue/Products").0, None);
        assert_eq!(
            faults.for_request("/odata/v1/Products").0.map(|i| i.status),
            Some(503)
        );
        assert_eq!(
            faults.for_request("/odata/v1/Products").0.map(|i| i.status),
            Some(503)
        );
        assert_eq!(faults.for_request("/odata/v1/Products").0, None);
        assert_eq!(faults.for_download(|p| p == "B", 10), Damage::default());
        assert_eq!(faults.for_download(|p| p == "A", 10).flip_at, Some(5));
        assert!(faults.list().is_empty());
    }
}
