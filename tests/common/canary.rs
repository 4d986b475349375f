//! Canaries for the sandbox's walls: things a hostile script must not reach,
//! each able to tell afterwards whether it was reached. A test of a wall
//! asserts on them (the real side effect), not only on the error text.
//!
//! * [`CanaryFile`]: a secret file outside every grant, watched with
//!   inotify, so even an open that read nothing is seen.
//! * [`CanaryServer`]: a loopback TCP server that counts connections.
//! * [`CANARY_ENV`]: an environment variable whose value must never leave
//!   the process (checked in outputs and in the workspace's files).
//! * [`Sandboxed`]: `cleope run` in a child process, with its exit code,
//!   output, wall time and peak resident memory (measured by GNU time).

use std::ffi::CString;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// A file outside every grant whose opening is observed.
pub struct CanaryFile {
    folder: tempfile::TempDir,
    path: PathBuf,
    secret: String,
    inotify: i32,
}

impl CanaryFile {
    /// Writes a secret file in a fresh temporary folder and starts watching it.
    pub fn new() -> Self {
        let secret = format!("canary-{}", uuid_like());
        Self::named("secret.txt", format!("{secret}\n").as_bytes(), secret)
    }

    /// A watched file `name` (folders created) in a fresh temporary folder,
    /// holding `content` (e.g. a raster or a configuration file a hostile
    /// script or file would make GDAL read); `secret` is what must never
    /// show in any output.
    pub fn named(name: &str, content: &[u8], secret: String) -> Self {
        let dir = tempfile::tempdir().expect("canary dir");
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).expect("canary folder");
        std::fs::write(&path, content).expect("canary file");
        // SAFETY: plain syscalls with a valid, NUL-terminated path.
        let inotify = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        assert!(inotify >= 0, "inotify_init1 failed");
        let c_path = CString::new(path.as_os_str().as_bytes()).unwrap();
        let mask = libc::IN_OPEN | libc::IN_ACCESS;
        let watch = unsafe { libc::inotify_add_watch(inotify, c_path.as_ptr(), mask) };
        assert!(watch >= 0, "inotify_add_watch failed");
        Self {
            folder: dir,
            path,
            secret,
            inotify,
        }
    }

    /// The canary's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The canary's folder.
    pub fn dir(&self) -> &Path {
        self.path.parent().unwrap()
    }

    /// The temporary folder the canary was made in (its folder's ancestor
    /// when it was given a name with folders, e.g. a HOME for `.gdal/gdalrc`).
    pub fn root(&self) -> &Path {
        self.folder.path()
    }

    /// The secret the file holds (must appear in no output).
    pub fn secret(&self) -> &str {
        &self.secret
    }

    /// How many times the file was opened or read since it was made.
    pub fn touches(&self) -> usize {
        let mut buffer = [0u8; 4096];
        let mut events = 0;
        loop {
            // SAFETY: reading into a buffer of the given size.
            let n = unsafe {
                libc::read(
                    self.inotify,
                    buffer.as_mut_ptr() as *mut libc::c_void,
                    buffer.len(),
                )
            };
            if n <= 0 {
                return events;
            }
            let mut offset = 0;
            while offset < n as usize {
                // SAFETY: the kernel writes whole inotify_event records.
                let event =
                    unsafe { &*(buffer.as_ptr().add(offset) as *const libc::inotify_event) };
                events += 1;
                offset += std::mem::size_of::<libc::inotify_event>() + event.len as usize;
            }
        }
    }
}

impl Drop for CanaryFile {
    fn drop(&mut self) {
        // SAFETY: closing the descriptor this value owns.
        unsafe { libc::close(self.inotify) };
    }
}

/// A loopback TCP server that counts the connections it receives and keeps
/// what each sent (its request head, up to 16 KiB), answering 404 or what
/// the test tells it to.
pub struct CanaryServer {
    port: u16,
    hits: Arc<AtomicUsize>,
    requests: Arc<std::sync::Mutex<Vec<String>>>,
}

/// Builds the answer to a request (its head, as text).
pub type Answer = Box<dyn Fn(&str) -> String + Send + 'static>;

impl CanaryServer {
    pub fn start() -> Self {
        Self::answering(Box::new(|_| {
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".into()
        }))
    }

    /// A server that answers every request with `answer(request)`.
    pub fn answering(answer: Answer) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("canary server");
        let port = listener.local_addr().unwrap().port();
        let hits = Arc::new(AtomicUsize::new(0));
        let requests = Arc::new(std::sync::Mutex::new(Vec::new()));
        let (counted, kept) = (Arc::clone(&hits), Arc::clone(&requests));
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, Ordering::SeqCst);
                let Ok(mut stream) = stream else { continue };
                let request = read_head(&mut stream);
                kept.lock().unwrap().push(request.clone());
                let _ = std::io::Write::write_all(&mut stream, answer(&request).as_bytes());
            }
        });
        Self {
            port,
            hits,
            requests,
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// `http://127.0.0.1:<port>` and the given path.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Connections received so far.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }

    /// The request heads received so far.
    pub fn requests(&self) -> Vec<String> {
        self.requests.lock().unwrap().clone()
    }
}

/// The head of an HTTP request (up to the blank line, at most 16 KiB,
/// waiting at most 2 s).
fn read_head(stream: &mut std::net::TcpStream) -> String {
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    let mut head = Vec::new();
    let mut buffer = [0u8; 1024];
    while head.len() < 16 * 1024 && !contains(&head, b"\r\n\r\n") {
        match stream.read(&mut buffer) {
            Ok(0) | Err(_) => break,
            Ok(n) => head.extend_from_slice(&buffer[..n]),
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// The environment variable a sandboxed run gets, holding [`CANARY_ENV_VALUE`].
pub const CANARY_ENV: &str = "CLEOPE_TEST_CANARY_SECRET";
pub const CANARY_ENV_VALUE: &str = "env-canary-7f3a9c21e4";

/// What a sandboxed `cleope run` did.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code (None: killed by a signal, given in `signal`).
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    pub elapsed: Duration,
    /// The child's peak resident set size.
    pub peak_rss: u64,
}

impl Outcome {
    /// Both streams, for messages and for leak checks.
    pub fn output(&self) -> String {
        format!("{}{}", self.stdout, self.stderr)
    }
}

/// `cleope run` of a script in a workspace of its own, with the canary
/// environment variable set and the usual quota variables cleared.
pub struct Sandboxed {
    pub dir: tempfile::TempDir,
    pub workspace: PathBuf,
    pub args: Vec<String>,
    pub env: Vec<(String, String)>,
}

impl Sandboxed {
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let workspace = dir.path().join("workspace");
        std::fs::create_dir_all(&workspace).unwrap();
        Self {
            dir,
            workspace,
            args: Vec::new(),
            env: Vec::new(),
        }
    }

    /// Adds command-line arguments after `run SCRIPT --workspace W`.
    pub fn arg(mut self, arg: impl Into<String>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Sets an environment variable of the child.
    pub fn env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    /// A file in the workspace (folders created), e.g. a prepared input.
    pub fn write(&self, relative: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.workspace.join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Runs `script` (written next to the workspace, under a folder that is
    /// not a granted root) and waits at most `limit`, killing it after that.
    pub fn run(&self, script: &str, limit: Duration) -> Outcome {
        run_measured(self.command("hostile.rhai", script), limit)
    }

    /// Runs `script` as [`Sandboxed::run`] does, and interrupts it (SIGINT,
    /// as Ctrl-C does) once `after` has passed: it took `elapsed - after`
    /// to stop.
    pub fn run_interrupted(&self, script: &str, after: Duration, limit: Duration) -> Outcome {
        run_measured_with_interrupt(self.command("hostile.rhai", script), limit, Some(after))
    }

    /// The `cleope run` of `script`, saved as `resources/<name>`, ready to
    /// spawn: several runs on one workspace (at once, or one killed) start here.
    pub fn command(&self, name: &str, script: &str) -> Command {
        let path = self.workspace.join("resources").join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, script).unwrap();
        let mut command = Command::new(super::cleope_bin());
        command
            .arg("run")
            .arg(&path)
            .arg("--workspace")
            .arg(&self.workspace)
            .args(&self.args)
            .env_remove("CLEOPE_TIME_LIMIT")
            .env_remove("CLEOPE_OPERATIONS")
            .env_remove("CLEOPE_MEMORY")
            .env_remove("CLEOPE_DISK")
            .env_remove("CLEOPE_DISK_ENTRIES")
            .env(CANARY_ENV, CANARY_ENV_VALUE)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (key, value) in &self.env {
            command.env(key, value);
        }
        command
    }

    /// Every file the workspace holds, concatenated (for leak checks).
    pub fn workspace_bytes(&self) -> Vec<u8> {
        let mut all = Vec::new();
        for entry in walkdir::WalkDir::new(&self.workspace)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| e.file_type().is_file())
        {
            if let Ok(bytes) = std::fs::read(entry.path()) {
                all.extend_from_slice(&bytes);
            }
        }
        all
    }

    /// True when `needle` appears in the run's output or any workspace file.
    pub fn leaked(&self, outcome: &Outcome, needle: &str) -> bool {
        outcome.output().contains(needle) || contains(&self.workspace_bytes(), needle.as_bytes())
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// Runs `command`, reading its output, and learns its exit status and peak
/// RSS; kills it once `limit` has passed.
pub fn run_measured(command: Command, limit: Duration) -> Outcome {
    run_measured_with_interrupt(command, limit, None)
}

/// GNU time: it runs the command as its own child and reports the child's
/// peak RSS (`%M`, from `wait4`).
const TIME: &str = "/usr/bin/time";

/// [`run_measured`], sending SIGINT once `interrupt` has passed (if given).
///
/// The command runs under GNU time, which measures its peak RSS. Measured
/// from this process, the figure would be wrong: a child's peak RSS starts
/// at the resident size of the process that forked it (the kernel keeps the
/// forked copy's high-water mark across `exec`), and this test process may
/// hold hundreds of MiB. GNU time is small and ignores SIGINT while it
/// waits, so an interrupt reaches only the command.
pub fn run_measured_with_interrupt(
    command: Command,
    limit: Duration,
    interrupt: Option<Duration>,
) -> Outcome {
    let report = tempfile::NamedTempFile::new().expect("report file");
    let mut timed = under_time(&command, report.path());
    let started = Instant::now();
    let mut child = timed.spawn().expect("spawn cleope under GNU time");
    // Its own process group: signals to the group reach the command too.
    let group = -(child.id() as libc::pid_t);
    let signal_at = |after: Duration, signal: libc::c_int| {
        let done = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let flag = Arc::clone(&done);
        std::thread::spawn(move || {
            while started.elapsed() < after {
                if flag.load(Ordering::SeqCst) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(5));
            }
            // SAFETY: signalling our own child's process group, not yet reaped.
            unsafe { libc::kill(group, signal) };
        });
        done
    };
    let interrupter = interrupt.map(|after| signal_at(after, libc::SIGINT));
    let killer = signal_at(limit, libc::SIGKILL);
    let mut stdout = child.stdout.take().unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let out = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let err = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let status = child.wait().expect("wait for GNU time");
    let elapsed = started.elapsed();
    killer.store(true, Ordering::SeqCst);
    if let Some(interrupter) = interrupter {
        interrupter.store(true, Ordering::SeqCst);
    }
    let report = std::fs::read_to_string(report.path()).unwrap_or_default();
    let peak_kib: u64 = report
        .lines()
        .last()
        .and_then(|line| line.trim().parse().ok())
        .unwrap_or(0);
    // "Command terminated by signal N": the command was killed.
    let killed_by = report
        .split("terminated by signal ")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok());
    Outcome {
        code: if killed_by.is_some() {
            None
        } else {
            status.code()
        },
        signal: killed_by.or(status.signal()),
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
        elapsed,
        peak_rss: peak_kib * 1024,
    }
}

/// `command` (program, arguments, environment, folder) run by GNU time,
/// which writes the peak RSS to `report`.
fn under_time(command: &Command, report: &Path) -> Command {
    let mut timed = Command::new(TIME);
    timed
        .arg("--format=%M")
        .arg("--output")
        .arg(report)
        .arg(command.get_program())
        .args(command.get_args());
    for (key, value) in command.get_envs() {
        match value {
            Some(value) => timed.env(key, value),
            None => timed.env_remove(key),
        };
    }
    if let Some(dir) = command.get_current_dir() {
        timed.current_dir(dir);
    }
    timed
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    timed
}

fn uuid_like() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    format!("{:x}{:x}", nanos, std::process::id())
}
