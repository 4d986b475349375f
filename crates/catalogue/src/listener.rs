//! Accepting connections with limits, so that no client can stop the
//! catalogue serving others: a slowloris client (headers sent a byte at a
//! time), thousands of idle connections, a body that never ends.
//!
//! `axum::serve` offers no configuration (no header time-out, no cap on
//! connections), so the listeners run this loop over hyper's HTTP/1
//! connection builder instead:
//!
//! * each connection has [`ConnectionLimits::header_timeout`] to send a
//!   request's head (hyper's `header_read_timeout`; it also closes
//!   keep-alive connections that stay idle that long), and the head may be
//!   at most [`ConnectionLimits::max_header_bytes`] (hyper answers 431);
//! * at most [`ConnectionLimits::max_connections`] connections are open;
//!   when a new one arrives at the cap, the oldest connection that has not
//!   yet sent a request is closed to make room (an idle attacker loses its
//!   place, a real client sending its request at once is served), and
//!   when every connection is busy the new one is closed;
//! * request bodies are read whole, within [`ConnectionLimits::body_timeout`]
//!   (408) and [`ConnectionLimits::max_body_bytes`] (413), before any
//!   handler sees them ([`bounded_body`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use hyper::service::Service as _;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::sync::{Notify, broadcast};

/// What one listener allows its clients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ConnectionLimits {
    /// Connections open at once.
    pub max_connections: usize,
    /// Time to send a request's head (line and headers), from the
    /// connection's start or the end of the previous answer.
    pub header_timeout: Duration,
    /// The largest request head, in bytes (at least 8 KiB, hyper's floor).
    pub max_header_bytes: usize,
    /// Time to send a request's whole body.
    pub body_timeout: Duration,
    /// The largest request body (a token form, an order, an admin fault).
    pub max_body_bytes: usize,
}

impl Default for ConnectionLimits {
    /// 256 connections, 5 s for a head of at most 64 KiB (a query with a
    /// 200-point area is about 10 KB), 10 s for a body of at most 64 KiB.
    fn default() -> Self {
        ConnectionLimits {
            max_connections: 256,
            header_timeout: Duration::from_secs(5),
            max_header_bytes: 64 * 1024,
            body_timeout: Duration::from_secs(10),
            max_body_bytes: 64 * 1024,
        }
    }
}

/// The open connections of one listener, oldest first.
#[derive(Default)]
struct Open {
    next_id: u64,
    connections: BTreeMap<u64, Slot>,
}

struct Slot {
    /// Set once the connection has sent a complete request head.
    answered: Arc<AtomicBool>,
    /// Wakes the connection's task to close it.
    close: Arc<Notify>,
}

impl Open {
    /// Makes room for one more connection under `cap`: true when there is
    /// room (after closing the oldest connection still silent, if needed).
    fn make_room(&mut self, cap: usize) -> bool {
        if self.connections.len() < cap {
            return true;
        }
        let silent = self
            .connections
            .iter()
            .find(|(_, slot)| !slot.answered.load(Ordering::Relaxed))
            .map(|(id, _)| *id);
        match silent.and_then(|id| self.connections.remove(&id)) {
            Some(slot) => {
                slot.close.notify_one();
                true
            }
            None => false,
        }
    }

    fn add(&mut self) -> (u64, Arc<AtomicBool>, Arc<Notify>) {
        let id = self.next_id;
        self.next_id += 1;
        let slot = Slot {
            answered: Arc::new(AtomicBool::new(false)),
            close: Arc::new(Notify::new()),
        };
        let handles = (id, Arc::clone(&slot.answered), Arc::clone(&slot.close));
        self.connections.insert(id, slot);
        handles
    }
}

/// Serves `router` on `listener` under `limits` until `quit` fires, then
/// lets answers in flight finish for up to two seconds.
pub(crate) async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    limits: ConnectionLimits,
    mut quit: broadcast::Receiver<()>,
) {
    let open = Arc::new(Mutex::new(Open::default()));
    let (stop_all, _) = broadcast::channel::<()>(1);
    loop {
        let stream = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                // Out of file descriptors, or a connection reset before it
                // was taken: try again shortly rather than spin.
                Err(_) => {
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            },
            _ = quit.recv() => break,
        };
        let handles = {
            let mut open = open.lock().unwrap_or_else(|e| e.into_inner());
            open.make_room(limits.max_connections).then(|| open.add())
        };
        let Some((id, answered, close)) = handles else {
            drop(stream);
            continue;
        };
        let connection = serve_connection(
            stream,
            router.clone(),
            limits,
            answered,
            close,
            stop_all.subscribe(),
        );
        let open = Arc::clone(&open);
        tokio::spawn(async move {
            connection.await;
            open.lock()
                .unwrap_or_else(|e| e.into_inner())
                .connections
                .remove(&id);
        });
    }
    let _ = stop_all.send(());
    let grace = tokio::time::Instant::now() + Duration::from_secs(2);
    while tokio::time::Instant::now() < grace
        && !open
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .connections
            .is_empty()
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// One connection: HTTP/1 with the head limits, closed early when the
/// listener needs its place or shuts down.
async fn serve_connection(
    stream: tokio::net::TcpStream,
    router: Router,
    limits: ConnectionLimits,
    answered: Arc<AtomicBool>,
    close: Arc<Notify>,
    mut stop: broadcast::Receiver<()>,
) {
    let inner = TowerToHyperService::new(router);
    let service = hyper::service::service_fn(move |request: hyper::Request<_>| {
        answered.store(true, Ordering::Relaxed);
        inner.call(request)
    });
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(limits.max_header_bytes.max(8192));
    let connection = builder.serve_connection(TokioIo::new(stream), service);
    let mut connection = std::pin::pin!(connection);
    let mut stopping = false;
    loop {
        tokio::select! {
            _ = connection.as_mut() => return,
            // Its place is needed: drop it (the socket closes).
            _ = close.notified() => return,
            _ = stop.recv(), if !stopping => {
                stopping = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

/// Reads a request's body whole before the handlers run: refused with 413
/// past `max_body_bytes` (at once when the announced length says so), with
/// 408 when it takes longer than `body_timeout`.
pub(crate) async fn bounded_body(
    axum::extract::State(limits): axum::extract::State<ConnectionLimits>,
    request: Request,
    next: Next,
) -> Response {
    let announced = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok());
    if announced.is_some_and(|length| length > limits.max_body_bytes as u64) {
        return too_large(limits);
    }
    let (parts, body) = request.into_parts();
    let read = tokio::time::timeout(
        limits.body_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await;
    match read {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(_)) => too_large(limits),
        Err(_) => refusal(
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                limits.body_timeout.as_secs_f64()
            ),
        ),
    }
}

fn too_large(limits: ConnectionLimits) -> Response {
    refusal(
        StatusCode::PAYLOAD_TOO_LARGE,
        format!(
            "the request body is larger than the {} bytes this catalogue reads",
            limits.max_body_bytes
        ),
    )
}

/// A refusal in CDSE's error form; the connection is closed after it (the
/// rest of the body is not read).
fn refusal(status: StatusCode, detail: String) -> Response {
    let mut response =
        (status, axum::Json(serde_json::json!({ "detail": detail }))).into_response();
    response.headers_mut().insert(
        header::CONNECTION,
        header::HeaderValue::from_static("close"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_is_made_by_closing_the_oldest_silent_connection() {
        let mut open = Open::default();
        let (_, first_answered, _) = open.add();
        let (_, _, second_close) = open.add();
        first_answered.store(true, Ordering::Relaxed);
        assert!(open.make_room(3), "below the cap");
        assert!(open.make_room(2), "the second (silent) one makes room");
        assert_eq!(open.connections.len(), 1);
        // The notification is stored for the connection's task.
        let notified = second_close.notified();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_millis(100), notified)
                .await
                .expect("the evicted connection is told to close");
        });
        let (_, third_answered, _) = open.add();
        third_answered.store(true, Ordering::Relaxed);
        assert!(!open.make_room(2), "every connection is busy: no room");
    }
}
