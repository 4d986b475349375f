//! A hostile (or merely broken) HTTP server on loopback, for the tests of
//! what cleope does with what servers send: the answer to each request is
//! chosen by a closure, and may be an ordinary answer, silence (the
//! connection accepted and never answered), or headers followed by a body
//! that stalls. Every request is recorded (method and target).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// One request as the server read it.
#[derive(Debug, Clone)]
pub struct Seen {
    /// Path and query, as sent.
    pub target: String,
    /// The `Range` header, if any.
    pub range: Option<String>,
}

impl Seen {
    pub fn path(&self) -> &str {
        self.target.split('?').next().unwrap_or("")
    }
}

/// What the server does with a request.
pub enum Reply {
    /// An answer: status, extra headers, body (Content-Length is added).
    Answer {
        status: u16,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    },
    /// Nothing at all: the connection stays open and silent.
    Silence,
    /// The status line, headers (with this Content-Length) and the first
    /// bytes of the body, then nothing more.
    Stall { length: u64, first: Vec<u8> },
    /// A 200 without a length: `total` bytes of JSON-ish filler (`[` and
    /// spaces), then the connection closes.
    Flood { total: u64 },
}

impl Reply {
    /// 200 with a JSON body.
    pub fn json(body: impl Into<String>) -> Reply {
        Reply::Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/json".into())],
            body: body.into().into_bytes(),
        }
    }

    /// 200 with bytes.
    pub fn bytes(body: Vec<u8>) -> Reply {
        Reply::Answer {
            status: 200,
            headers: vec![("Content-Type".into(), "application/octet-stream".into())],
            body,
        }
    }

    /// `file` as a static file server sends it: the range the request asks
    /// for (`bytes=a-b` or `bytes=a-`) as a 206 with `Content-Range`, the
    /// whole file as a 200 without one, 416 past the end.
    pub fn file(file: &[u8], seen: &Seen) -> Reply {
        let size = file.len() as u64;
        let Some(spec) = seen.range.as_deref().and_then(|r| r.strip_prefix("bytes=")) else {
            return Reply::bytes(file.to_vec());
        };
        let (first, last) = spec.split_once('-').unwrap_or((spec, ""));
        let first: u64 = first.trim().parse().unwrap_or(u64::MAX);
        let last: u64 = last.trim().parse().unwrap_or(size.saturating_sub(1));
        if first >= size {
            let total = format!("bytes */{size}");
            return Reply::status(416, &[("Content-Range", total.as_str())], "");
        }
        let last = last.min(size - 1);
        Reply::Answer {
            status: 206,
            headers: vec![
                ("Content-Type".into(), "image/tiff".into()),
                (
                    "Content-Range".into(),
                    format!("bytes {first}-{last}/{size}"),
                ),
            ],
            body: file[first as usize..=last as usize].to_vec(),
        }
    }

    /// Any status with a text body and extra headers.
    pub fn status(status: u16, headers: &[(&str, &str)], body: &str) -> Reply {
        Reply::Answer {
            status,
            headers: headers
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            body: body.as_bytes().to_vec(),
        }
    }
}

type Handler = dyn Fn(&Seen) -> Reply + Send + Sync;

/// The server; it stops answering (and closes silent connections) when dropped.
pub struct FakeServer {
    port: u16,
    seen: Arc<Mutex<Vec<Seen>>>,
    stop: Arc<AtomicBool>,
}

impl FakeServer {
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("fake server");
        let port = listener.local_addr().unwrap().port();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let handler: Arc<Handler> = Arc::new(handler);
        let (seen2, stop2) = (Arc::clone(&seen), Arc::clone(&stop));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(stream) = stream else { continue };
                let (handler, seen, stop) =
                    (Arc::clone(&handler), Arc::clone(&seen2), Arc::clone(&stop2));
                std::thread::spawn(move || serve(stream, &*handler, &seen, &stop));
            }
        });
        FakeServer { port, seen, stop }
    }

    /// The port it listens on (for `--allow-net 127.0.0.1:<port>`).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>` followed by `path`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Every request so far.
    pub fn seen(&self) -> Vec<Seen> {
        self.seen.lock().unwrap().clone()
    }

    /// How many requests had a path ending with `suffix`.
    pub fn count(&self, suffix: &str) -> usize {
        self.seen()
            .iter()
            .filter(|s| s.path().ends_with(suffix))
            .count()
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(stream: TcpStream, handler: &Handler, seen: &Mutex<Vec<Seen>>, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(30)));
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut out = stream;
    loop {
        let Some(request) = read_request(&mut reader) else {
            return;
        };
        seen.lock().unwrap().push(request.clone());
        match handler(&request) {
            Reply::Answer {
                status,
                headers,
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\n", body.len());
                for (key, value) in headers {
                    head.push_str(&format!("{key}: {value}\r\n"));
                }
                head.push_str("\r\n");
                if out.write_all(head.as_bytes()).is_err() || out.write_all(&body).is_err() {
                    return;
                }
            }
            Reply::Silence => return hold(stop),
            Reply::Flood { total } => {
                let head = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n[";
                if out.write_all(head.as_bytes()).is_err() {
                    return;
                }
                let block = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < total && out.write_all(&block).is_ok() {
                    sent += block.len() as u64;
                }
                return;
            }
            Reply::Stall { length, first } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {length}\r\nContent-Type: application/octet-stream\r\n\r\n"
                );
                let _ = out.write_all(head.as_bytes());
                let _ = out.write_all(&first);
                let _ = out.flush();
                return hold(stop);
            }
        }
    }
}

/// Keeps the connection (owned by the caller's frame) open until the server stops.
fn hold(stop: &AtomicBool) {
    for _ in 0..600 {
        if stop.load(Ordering::SeqCst) {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_request(reader: &mut BufReader<TcpStream>) -> Option<Seen> {
    let mut line = String::new();
    if reader.read_line(&mut line).ok()? == 0 {
        return None;
    }
    let mut words = line.split_whitespace();
    let _method = words.next()?;
    let target = words.next()?.to_string();
    let mut headers = Vec::new();
    loop {
        let mut header = String::new();
        reader.read_line(&mut header).ok()?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((key, value)) = header.split_once(':') {
            headers.push((key.trim().to_string(), value.trim().to_string()));
        }
    }
    let length = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let range = headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("range"))
        .map(|(_, v)| v.clone());
    Some(Seen { target, range })
}
