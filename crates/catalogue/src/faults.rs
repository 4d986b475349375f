//! Test hooks: faults the catalogue injects on purpose (configured at start
//! or posted to the admin endpoint), and the log of requests it answered,
//! so clients can be tested for retries, resumes and checksum checks over
//! real HTTP.
//!
//! | fault | effect |
//! | --- | --- |
//! | `status` | the next `count` requests whose path starts with `path` answer `status` (e.g. 503, 500, 429 with `retry_after`) |
//! | `delay` | the next `count` requests whose path starts with `path` wait `millis` before being answered |
//! | `cut` | the next `count` downloads (of `product`, or any) stop after `after` bytes: the connection is closed mid-body |
//! | `corrupt` | the next `count` downloads (of `product`, or any) have the byte in the middle of the file flipped |

use std::collections::VecDeque;
use std::sync::Arc;
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
                 or kind=cut,after=1000 or kind=corrupt,product=NAME or kind=delay,path=/,millis=2000"
            )
        })
    }

    fn remaining(&self) -> u32 {
        match self {
            Fault::Status { count, .. }
            | Fault::Delay { count, .. }
            | Fault::Cut { count, .. }
            | Fault::Corrupt { count, .. } => *count,
        }
    }

    fn use_once(&mut self) {
        match self {
            Fault::Status { count, .. }
            | Fault::Delay { count, .. }
            | Fault::Cut { count, .. }
            | Fault::Corrupt { count, .. } => *count = count.saturating_sub(1),
        }
    }
}

/// What a download must suffer.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Damage {
    /// Close the connection after this many body bytes.
    pub cut_after: Option<u64>,
    /// Flip the byte at this offset of the file.
    pub flip_at: Option<u64>,
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
    fn for_request(&mut self, path: &str) -> (Option<(u16, Option<u64>)>, Option<u64>) {
        let mut status = None;
        let mut delay = None;
        for fault in &mut self.pending {
            match fault {
                Fault::Status {
                    path: prefix,
                    status: code,
                    retry_after,
                    ..
                } if status.is_none() && path.starts_with(prefix.as_str()) => {
                    status = Some((*code, *retry_after));
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
        Some((code, retry_after)) => injected(code, retry_after),
        None => next.run(request).await,
    };
    if !admin {
        entry.status = response.status().as_u16();
        app.log.lock().unwrap().push(entry);
    }
    response
}

fn injected(code: u16, retry_after: Option<u64>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
    let mut response = (
        status,
        axum::Json(json!({"detail": format!("injected fault: HTTP {code}")})),
    )
        .into_response();
    if let Some(seconds) = retry_after {
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
                retry_after: None
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
            },
            Fault::Corrupt {
                product: Some("A".into()),
                count: 1,
            },
        ]);
        assert_eq!(faults.for_request("/dias-catalogue/Products").0, None);
        assert_eq!(
            faults.for_request("/odata/v1/Products").0,
            Some((503, None))
        );
        assert_eq!(
            faults.for_request("/odata/v1/Products").0,
            Some((503, None))
        );
        assert_eq!(faults.for_request("/odata/v1/Products").0, None);
        assert_eq!(faults.for_download(|p| p == "B", 10), Damage::default());
        assert_eq!(faults.for_download(|p| p == "A", 10).flip_at, Some(5));
        assert!(faults.list().is_empty());
    }
}
