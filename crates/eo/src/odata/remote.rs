//! Byte ranges of a remote file through the catalogue client, for GDAL's
//! `/vsicleope/` file system ([`crate::gdal::remote`]): a cloud-optimised
//! GeoTIFF on a web server or object store (an asset of a STAC item, a
//! file of a CDSE product) read window by window, with every request and
//! redirect checked against the session's network grant, the account sent
//! only where it belongs, busy servers retried (`Retry-After` honoured)
//! and every wait bounded by the run's deadline and the interrupt.

use std::ops::Range;
use std::sync::Arc;

use reqwest::{Response, StatusCode};

use super::client::{Client, ClientError, content_range, follow_redirects};
use crate::gdal::remote::{RangeReader, RemoteError};
use cleope_sandbox::Cancel;

/// At most this many ranges are requested at the same time (CDSE allows 4
/// connections per account; a session keeps some for its other work).
const PARALLEL_REQUESTS: usize = 3;

/// One remote file, read by ranges through `client`.
pub struct RemoteBytes {
    client: Arc<Client>,
    cancel: Arc<Cancel>,
    url: String,
}

impl RemoteBytes {
    /// The file at `url` (http or https), read by `client` under `cancel`.
    pub fn new(client: Arc<Client>, cancel: Arc<Cancel>, url: &str) -> RemoteBytes {
        RemoteBytes {
            client,
            cancel,
            url: url.to_string(),
        }
    }

    /// Sends `Range: bytes=<range>` to the file, following redirects (each
    /// hop checked by the client), with the account where it may go.
    fn get(&self, range: &Range<u64>) -> Result<Response, ClientError> {
        follow_redirects(&self.url, |url| self.get_once(url, range))
    }

    fn get_once(&self, url: &str, range: &Range<u64>) -> Result<Response, ClientError> {
        // A public file (Earth Search, a COG on a web server) needs no
        // account; on the catalogue's own hosts one is sent when known.
        let authorization = if self.client.may_authorize(url) {
            self.client.authorization("reading", &self.cancel).ok()
        } else {
            None
        };
        let request = || {
            let mut request = self.client.http().get(url).header(
                reqwest::header::RANGE,
                format!("bytes={}-{}", range.start, range.end - 1),
            );
            if let Some(authorization) = &authorization {
                request = request.header(reqwest::header::AUTHORIZATION, authorization);
            }
            request
        };
        self.client.send(request, url, &self.cancel, true)
    }

    /// The bytes of `range` and the file's size, refusing an answer that is
    /// not that range (a server that ignores ranges would send the whole
    /// file, which is what a window read exists to avoid).
    fn range(&self, range: &Range<u64>, whole_ok: bool) -> Result<(u64, Vec<u8>), ClientError> {
        let response = self.get(range)?;
        let status = response.status();
        let length = range.end - range.start;
        let (start, size) = match status {
            StatusCode::PARTIAL_CONTENT => {
                content_range(&response).ok_or_else(|| ClientError::BadResponse {
                    url: self.url.clone(),
                    detail: "a partial answer without a Content-Range".into(),
                })?
            }
            StatusCode::OK
                if whole_ok && response.content_length().is_some_and(|l| l <= length) =>
            {
                (0, response.content_length().unwrap_or(0))
            }
            StatusCode::OK => return Err(no_ranges(&self.url)),
            other => {
                return Err(ClientError::BadResponse {
                    url: self.url.clone(),
                    detail: format!("HTTP {other} to a range request"),
                });
            }
        };
        if start != range.start {
            return Err(ClientError::BadResponse {
                url: self.url.clone(),
                detail: format!(
                    "asked for bytes from {}, got bytes from {start}",
                    range.start
                ),
            });
        }
        let bytes = self.client.read_bytes(
            response,
            &self.url,
            (length, "range asked for"),
            &self.cancel,
        )?;
        Ok((size, bytes))
    }
}

/// The error of a server that answers a range request with the whole file.
fn no_ranges(url: &str) -> ClientError {
    ClientError::BadResponse {
        url: url.to_string(),
        detail: "the server sends the whole file to a range request, so reading a window \
                 would download all of it; download the file (download_file) and open it"
            .into(),
    }
}

impl RangeReader for RemoteBytes {
    fn head(&self, bytes: u64) -> Result<(u64, Vec<u8>), RemoteError> {
        self.range(&(0..bytes), true)
            .map_err(|error| remote_error(&self.url, error))
    }

    fn read(&self, ranges: &[Range<u64>]) -> Result<Vec<Vec<u8>>, RemoteError> {
        let mut parts: Vec<Option<Result<Vec<u8>, ClientError>>> =
            ranges.iter().map(|_| None).collect();
        // Ranges are fetched a few at a time, each on its own thread (the
        // client's requests wait on the calling thread).
        for (chunk_ranges, chunk_parts) in ranges
            .chunks(PARALLEL_REQUESTS)
            .zip(parts.chunks_mut(PARALLEL_REQUESTS))
        {
            std::thread::scope(|scope| {
                for (range, part) in chunk_ranges.iter().zip(chunk_parts.iter_mut()) {
                    scope.spawn(move || *part = Some(self.range(range, false).map(|(_, b)| b)));
                }
            });
        }
        parts
            .into_iter()
            .map(|part| {
                part.expect("every range was fetched")
                    .map_err(|error| remote_error(&self.url, error))
            })
            .collect()
    }
}

/// A client error as the remote file's error, named as scripts see it.
fn remote_error(url: &str, error: ClientError) -> RemoteError {
    let stop = match &error {
        ClientError::Stopped(stop) => Some(stop.clone()),
        _ => None,
    };
    let (kind, message, hint) = match &error {
        ClientError::NotGranted(refusal) => (
            "NetworkNotAllowed",
            error.to_string(),
            format!(
                "a session reaches only the hosts its operator granted: ask your teacher or hub \
                 operator to grant {} (--allow-net HOST:PORT, or grants.net in cleope.toml)",
                host_port(url).unwrap_or_else(|| refusal.message.clone())
            ),
        ),
        ClientError::Unauthorized { .. } | ClientError::NoCredentials { .. } => (
            "LoginFailed",
            format!("cannot read {url}: {error}"),
            error.hint(),
        ),
        ClientError::Rejected { status: 404, .. } | ClientError::NotFound { .. } => (
            "RemoteFileNotFound",
            format!("there is no file at {url} (HTTP 404)"),
            "check the address: copy it from the item's assets (item.assets) or the \
             provider's page"
                .into(),
        ),
        ClientError::Rejected { status, detail } => (
            "RemoteReadFailed",
            format!("the server refused to send {url}: HTTP {status} ({detail})"),
            "check the address and that the file is public, or log in to its provider".into(),
        ),
        ClientError::Unreachable { .. } => (
            "RemoteUnreachable",
            format!("cannot read {url}: {error}"),
            "check the address and the network, then run the cell again".into(),
        ),
        ClientError::BadResponse { .. } => (
            "RemoteReadFailed",
            format!("cannot read {url}: {error}"),
            "a file the server cannot send by ranges can be downloaded and opened from the \
             workspace"
                .into(),
        ),
        ClientError::Server { .. } => (
            "RemoteReadFailed",
            format!("cannot read {url}: {error}"),
            "the server has a problem on its side: try again in a few minutes".into(),
        ),
        _ => ("RemoteReadFailed", error.to_string(), error.hint()),
    };
    RemoteError {
        kind,
        message,
        hint,
        stop,
    }
}

/// `host:port` of a URL, for a hint.
fn host_port(url: &str) -> Option<String> {
    let url = url::Url::parse(url).ok()?;
    Some(format!(
        "{}:{}",
        url.host_str()?,
        url.port_or_known_default()?
    ))
}
