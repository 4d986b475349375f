//! Helpers shared by the integration tests.
#![allow(dead_code)] // each test binary uses its own subset

pub mod canary;
pub mod fake_server;

use cleope::runtime::{Captured, Chunk, Overrides, ScriptError, Session, Settings};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// A session on a fresh temporary workspace, with `adjust` applied to its settings.
pub struct TestSession {
    pub dir: tempfile::TempDir,
    pub session: Session,
    pub output: Arc<Captured>,
}

impl TestSession {
    pub fn new(adjust: impl FnOnce(&mut Settings)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let overrides = Overrides {
            workspace: Some(dir.path().join("workspace")),
            ..Overrides::default()
        };
        let mut settings = Settings::load(&overrides).expect("settings");
        // A folder granted to scripts, for tests of a script's own modules.
        let lesson = dir.path().join("lesson");
        std::fs::create_dir_all(&lesson).expect("lesson folder");
        settings.grants.read.push(lesson);
        adjust(&mut settings);
        let output = Arc::new(Captured::default());
        let session = Session::new(settings, output.clone()).expect("session");
        Self {
            dir,
            session,
            output,
        }
    }

    /// `lesson/` beside the workspace: granted to scripts, so it can be
    /// made the running script's folder (`session.set_script_dir`).
    pub fn lesson(&self) -> PathBuf {
        self.dir.path().join("lesson")
    }

    pub fn workspace(&self) -> PathBuf {
        self.session.host().workspace().root().to_path_buf()
    }

    pub fn run(&mut self, code: &str) -> Result<rhai::Dynamic, ScriptError> {
        self.session.run(Chunk::new("test.rhai", code))
    }

    /// Runs statements whose value does not matter.
    pub fn exec(&mut self, code: &str) -> Result<(), ScriptError> {
        self.run(code).map(|_| ())
    }

    pub fn stdout(&self) -> String {
        self.output.text(cleope::runtime::Stream::Stdout)
    }
}

/// Runs `f` on a thread with a large stack, as `cleope run` does, and gives up
/// (failing the test) if it does not finish within `limit`.
pub fn on_script_thread<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn");
    match rx.recv_timeout(limit) {
        Ok(value) => value,
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
            panic!("did not finish within {limit:?}")
        }
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            panic!("the script thread panicked (see its message above)")
        }
    }
}

/// The path of the `cleope` binary built for the tests.
pub fn cleope_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cleope")
}
