//! Where a session's output goes: a terminal, a Jupyter kernel, or a test.

use std::sync::Mutex;

/// The two text streams a script writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// Receives everything a session shows. Front-ends implement it.
pub trait DisplaySink: Send + Sync {
    /// Text written by `print`, `eprint` or `debug` (ends with a newline).
    fn stream(&self, stream: Stream, text: &str);
}

/// Writes to the process's own stdout and stderr.
#[derive(Debug, Default)]
pub struct Terminal;

impl DisplaySink for Terminal {
    fn stream(&self, stream: Stream, text: &str) {
        use std::io::Write;
        // A closed pipe (e.g. `cleope run x | head`) must not kill the session.
        let _ = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }
}

/// Keeps everything in memory (tests, and front-ends that forward later).
#[derive(Debug, Default)]
pub struct Captured {
    items: Mutex<Vec<(Stream, String)>>,
}

impl Captured {
    /// All text written to `stream`, concatenated.
    pub fn text(&self, stream: Stream) -> String {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(s, _)| *s == stream)
            .map(|(_, t)| t.as_str())
            .collect()
    }
}

impl DisplaySink for Captured {
    fn stream(&self, stream: Stream, text: &str) {
        self.items
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((stream, text.to_string()));
    }
}
