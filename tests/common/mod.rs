//! Helpers shared by the integration tests (tests/it/).

pub mod canary;
pub mod downloads;
pub mod fake_server;
pub mod tutorial;
pub mod venv;

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

/// The stack of a thread that runs scripts, as large as `cleope run` gives.
pub const SCRIPT_STACK: usize = 256 * 1024 * 1024;

/// Runs `f` on a thread with a large stack, as `cleope run` does, and gives up
/// (failing the test) if it does not finish within `limit`.
pub fn on_script_thread<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .stack_size(SCRIPT_STACK)
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

/// The variable that tells a child test process it is the one to run
/// [`alone_in_a_process`]'s body (its value: the test's name).
const ALONE: &str = "CLEOPE_TEST_ALONE";

/// Runs `body` in a child process of the test binary that runs only the
/// calling test, for tests that measure the whole process, such as memory
/// quotas set just above what the process holds: in the shared test
/// process, the memory of tests running beside them comes and goes. The
/// child runs the test again, and there `body` runs.
pub fn alone_in_a_process(body: impl FnOnce()) {
    // libtest runs each test on a thread named after it.
    let test = std::thread::current()
        .name()
        .filter(|name| *name != "main")
        .expect("called from a test's own thread")
        .to_string();
    if std::env::var_os(ALONE).is_some_and(|name| name == test.as_str()) {
        return body();
    }
    let output = std::process::Command::new(std::env::current_exe().expect("the test binary"))
        .args([test.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(ALONE, &test)
        .output()
        .expect("the test binary starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains("1 passed"),
        "{test}, alone in a process:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}
