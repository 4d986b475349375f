//! `$value`: a product's download streamed from the archive's `.packed/`
//! folder with `Content-Length`, byte ranges (`Range: bytes=a-`, `a-b`,
//! `-n` → 206 with `Content-Range`; past the end → 416), and the damage a
//! test asked for (a cut connection, a flipped byte).

use std::future::Future;
use std::io::SeekFrom;
use std::path::PathBuf;
use std::pin::Pin;
use std::task::{Context, Poll};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_core::Stream;
use tokio::io::{AsyncRead, AsyncSeekExt, ReadBuf};

use super::faults::{Damage, InFlight, cut_error};

/// What to send: which file, under which name and type.
pub(crate) struct Download {
    pub path: PathBuf,
    pub filename: String,
    pub content_type: &'static str,
    pub damage: Damage,
    /// Counts the transfer as under way until its body is sent or dropped.
    pub in_flight: InFlight,
}

/// A byte range of a file of `size` bytes, from a `Range` header.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Wanted {
    /// The whole file (no header, or one this server ignores, as HTTP allows).
    Whole,
    /// Bytes `start..=end`.
    Part { start: u64, end: u64 },
    /// A range that starts past the end.
    Unsatisfiable,
}

/// Reads `Range: bytes=a-b`, `bytes=a-` or `bytes=-n`; several ranges or
/// another unit are ignored (the whole file is sent).
pub(crate) fn wanted(headers: &HeaderMap, size: u64) -> Wanted {
    let Some(text) = headers.get(header::RANGE).and_then(|v| v.to_str().ok()) else {
        return Wanted::Whole;
    };
    let Some(spec) = text.trim().strip_prefix("bytes=") else {
        return Wanted::Whole;
    };
    if spec.contains(',') {
        return Wanted::Whole;
    }
    let Some((first, last)) = spec.split_once('-') else {
        return Wanted::Whole;
    };
    let (first, last) = (first.trim(), last.trim());
    if first.is_empty() {
        // The last n bytes.
        return match last.parse::<u64>() {
            Ok(0) => Wanted::Unsatisfiable,
            Ok(n) if size > 0 => Wanted::Part {
                start: size.saturating_sub(n),
                end: size - 1,
            },
            Ok(_) => Wanted::Unsatisfiable,
            Err(_) => Wanted::Whole,
        };
    }
    let Ok(start) = first.parse::<u64>() else {
        return Wanted::Whole;
    };
    if start >= size {
        return Wanted::Unsatisfiable;
    }
    let end = match last {
        "" => size - 1,
        text => match text.parse::<u64>() {
            Ok(end) if end >= start => end.min(size - 1),
            _ => return Wanted::Whole,
        },
    };
    Wanted::Part { start, end }
}

/// The answer to a download request (200, 206 or 416).
pub(crate) async fn respond(download: Download, headers: &HeaderMap) -> Response {
    if let Some(format) = download.damage.error_page {
        return super::faults::error_page(format);
    }
    let stall = download
        .damage
        .stall
        .map(|wait| Box::pin(tokio::time::sleep(wait)));
    let size = match tokio::fs::metadata(&download.path).await {
        Ok(metadata) => metadata.len(),
        Err(_) => {
            return (
                StatusCode::NOT_FOUND,
                axum::Json(serde_json::json!({"detail": format!(
                    "the archive holds no download file for {} ({} is missing): regenerate the archive",
                    download.filename,
                    download.path.display()
                )})),
            )
                .into_response();
        }
    };
    let (status, start, length) = match wanted(headers, size) {
        Wanted::Whole => (StatusCode::OK, 0, size),
        Wanted::Part { start, end } => (StatusCode::PARTIAL_CONTENT, start, end - start + 1),
        Wanted::Unsatisfiable => {
            let mut response = (
                StatusCode::RANGE_NOT_SATISFIABLE,
                axum::Json(serde_json::json!({"detail": format!(
                    "the range asked for starts past the end of {} ({size} bytes)",
                    download.filename
                )})),
            )
                .into_response();
            response.headers_mut().insert(
                header::CONTENT_RANGE,
                HeaderValue::from_str(&format!("bytes */{size}")).unwrap(),
            );
            return response;
        }
    };
    let mut file = match tokio::fs::File::open(&download.path).await {
        Ok(file) => file,
        Err(e) => {
            return (
                StatusCode::INTERNAL_SERVER_ERROR,
                axum::Json(serde_json::json!({"detail": format!("cannot read {}: {e}", download.filename)})),
            )
                .into_response();
        }
    };
    if start > 0 && file.seek(SeekFrom::Start(start)).await.is_err() {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    let stream = FileStream {
        file,
        offset: start,
        left: length,
        sent: 0,
        damage: download.damage,
        buffer: vec![0; CHUNK],
        cut_pause: None,
        stall,
        _in_flight: download.in_flight,
    };
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    let set = |response: &mut Response, name: header::HeaderName, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response.headers_mut().insert(name, value);
        }
    };
    set(&mut response, header::CONTENT_LENGTH, length.to_string());
    set(
        &mut response,
        header::CONTENT_TYPE,
        download.content_type.to_string(),
    );
    set(&mut response, header::ACCEPT_RANGES, "bytes".to_string());
    set(
        &mut response,
        header::CONTENT_DISPOSITION,
        format!("attachment; filename=\"{}\"", download.filename),
    );
    if status == StatusCode::PARTIAL_CONTENT {
        set(
            &mut response,
            header::CONTENT_RANGE,
            format!("bytes {start}-{}/{size}", start + length - 1),
        );
    }
    response
}

const CHUNK: usize = 64 * 1024;
/// How long a cut download waits, after its last byte, before closing.
const CUT_PAUSE: std::time::Duration = std::time::Duration::from_millis(200);

/// The file's bytes from `offset`, `left` of them, damaged as asked.
struct FileStream {
    file: tokio::fs::File,
    offset: u64,
    left: u64,
    sent: u64,
    damage: Damage,
    buffer: Vec<u8>,
    cut_pause: Option<Pin<Box<tokio::time::Sleep>>>,
    /// A wait before the first byte (a `stall` fault).
    stall: Option<Pin<Box<tokio::time::Sleep>>>,
    _in_flight: InFlight,
}

impl Stream for FileStream {
    type Item = Result<Bytes, std::io::Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        if let Some(stall) = this.stall.as_mut() {
            if stall.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.stall = None;
        }
        if this.left == 0 {
            return Poll::Ready(None);
        }
        if let Some(cut) = this.damage.cut_after
            && this.sent >= cut
        {
            // Let the bytes sent so far reach the client before the
            // connection is closed (an error at once could discard them).
            let pause = this
                .cut_pause
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_PAUSE)));
            if pause.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.left = 0;
            return Poll::Ready(Some(Err(cut_error())));
        }
        let mut want = (this.left.min(CHUNK as u64)) as usize;
        if let Some(cut) = this.damage.cut_after {
            want = want.min((cut - this.sent) as usize).max(1);
        }
        let mut read = ReadBuf::new(&mut this.buffer[..want]);
        match Pin::new(&mut this.file).poll_read(cx, &mut read) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Err(e)) => {
                this.left = 0;
                Poll::Ready(Some(Err(e)))
            }
            Poll::Ready(Ok(())) => {
                let filled = read.filled().len();
                if filled == 0 {
                    this.left = 0;
                    return Poll::Ready(Some(Err(std::io::Error::new(
                        std::io::ErrorKind::UnexpectedEof,
                        "the file is shorter than announced",
                    ))));
                }
                let mut chunk = this.buffer[..filled].to_vec();
                if let Some(flip) = this.damage.flip_at
                    && (this.offset..this.offset + filled as u64).contains(&flip)
                {
                    chunk[(flip - this.offset) as usize] ^= 0xFF;
                }
                this.offset += filled as u64;
                this.sent += filled as u64;
                this.left -= filled as u64;
                Poll::Ready(Some(Ok(Bytes::from(chunk))))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(value: &str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(header::RANGE, HeaderValue::from_str(value).unwrap());
        headers
    }

    #[test]
    fn ranges() {
        assert_eq!(wanted(&HeaderMap::new(), 10), Wanted::Whole);
        assert_eq!(
            wanted(&range("bytes=4-"), 10),
            Wanted::Part { start: 4, end: 9 }
        );
        assert_eq!(
            wanted(&range("bytes=2-5"), 10),
            Wanted::Part { start: 2, end: 5 }
        );
        assert_eq!(
            wanted(&range("bytes=2-50"), 10),
            Wanted::Part { start: 2, end: 9 }
        );
        assert_eq!(
            wanted(&range("bytes=-3"), 10),
            Wanted::Part { start: 7, end: 9 }
        );
        assert_eq!(wanted(&range("bytes=10-"), 10), Wanted::Unsatisfiable);
        assert_eq!(wanted(&range("bytes=0-1,4-5"), 10), Wanted::Whole);
        assert_eq!(wanted(&range("items=0-1"), 10), Wanted::Whole);
        assert_eq!(wanted(&range("bytes=5-2"), 10), Wanted::Whole);
    }
}
