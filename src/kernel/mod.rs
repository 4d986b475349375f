//! The Jupyter kernel: cleope's session behind the Jupyter messaging
//! protocol (5.3), so a JupyterHub can offer Rhai next to Python.
//!
//! Threads: one tokio thread serves the sockets (heartbeat, control, shell,
//! iopub), and the code thread owns the session. A long cell therefore never
//! delays a heartbeat or an interrupt, and an interrupt stops the cell but
//! keeps the variables. See README.md here for the files.

mod comm;
pub mod connection;
mod execute;
mod executor;
mod handlers;
pub mod history;
pub mod install;
pub mod messages;
mod output;
mod stdin;

use crate::runtime::{Prepared, Settings};
use crate::sandbox::wall;
use connection::ConnectionError;
use executor::CodeThread;
use handlers::{Kernel, Shell, serve_control};
use history::History;
use jupyter_protocol::JupyterMessage;
use jupyter_zmq_client::{Connection, KernelHeartbeatConnection};
use messages::{dropped, receive};
use output::Broadcaster;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Notify, mpsc};
use zeromq::{SocketRecv, SocketSend};

/// Why the kernel could not run.
#[derive(Debug, thiserror::Error)]
pub enum KernelError {
    #[error(transparent)]
    Connection(#[from] ConnectionError),
    #[error("cannot start the kernel: {0}")]
    Io(#[from] std::io::Error),
}

/// What a kernel reads and opens before the operating-system wall goes up:
/// the connection file, the session's settings and grants, and the history
/// database (whose files stay open, so it keeps working inside the wall).
pub struct Launch {
    info: jupyter_protocol::ConnectionInfo,
    session: Result<(Settings, Prepared), String>,
    history: History,
}

impl Launch {
    /// Reads the connection file and prepares the session's grants.
    /// `settings` is the session configuration, or why it could not be
    /// loaded: the kernel then starts anyway and reports the problem on
    /// every cell, instead of dying before the learner sees why.
    pub fn prepare(
        connection_file: &Path,
        settings: Result<Settings, String>,
    ) -> Result<Launch, KernelError> {
        let info = connection::load(connection_file)?;
        let session = settings.and_then(|settings| {
            let prepared = Prepared::new(&settings).map_err(|e| e.to_string())?;
            Ok((settings, prepared))
        });
        Ok(Launch {
            info,
            session,
            history: History::open(history::default_location().as_deref()),
        })
    }

    /// The session's scratch folder, when the session could be prepared.
    pub fn scratch(&self) -> Option<&Path> {
        self.session
            .as_ref()
            .ok()
            .map(|(_, prepared)| prepared.grants.scratch.as_path())
    }

    /// Confines the process to the session's grants and the kernel's own
    /// sockets. Call while the process has a single thread.
    pub fn raise_wall(&self) -> &'static wall::Status {
        let mut plan = match &self.session {
            Ok((_, prepared)) => wall::Plan::of(&prepared.grants),
            Err(_) => wall::Plan::bare(),
        };
        let info = &self.info;
        match info.transport {
            jupyter_protocol::connection_info::Transport::TCP => plan.bind_ports.extend([
                info.shell_port,
                info.iopub_port,
                info.stdin_port,
                info.control_port,
                info.hb_port,
            ]),
            // IPC sockets are files named `<ip>-<port>`, made in that folder.
            _ => plan
                .write
                .extend(Path::new(&info.ip).parent().map(Path::to_path_buf)),
        }
        wall::raise(&plan)
    }
}

/// Runs the kernel until a client asks it to shut down.
pub fn run(launch: Launch) -> Result<(), KernelError> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    runtime.block_on(serve(launch))
}

async fn serve(launch: Launch) -> Result<(), KernelError> {
    let Launch {
        info,
        session: settings,
        history,
    } = launch;
    if info.key.is_empty() {
        eprintln!(
            "cleope kernel: warning: the connection file has no key, so messages are not signed"
        );
    }
    let session_id = uuid::Uuid::new_v4().to_string();
    let sockets = connection::bind(&info, &session_id).await?;
    let (stdin, stdin_task) = stdin::StdinBridge::new(sockets.stdin);
    let (broadcaster, publisher) = Broadcaster::new(sockets.iopub, stdin);
    let iopub = Arc::new(broadcaster);
    // Relative imports and reads start where Jupyter started the kernel:
    // the notebook's folder (read-only, like a script's folder).
    let notebook_dir = std::env::current_dir().ok();
    let code = CodeThread::start(settings, notebook_dir, iopub.clone())?;
    let kernel = Arc::new(Kernel {
        code,
        iopub,
        shutdown: Notify::new(),
    });
    tokio::spawn(publisher);
    tokio::spawn(stdin_task);
    tokio::spawn(heartbeat(sockets.heartbeat));
    tokio::spawn(interrupt_on_ctrl_c(Arc::clone(&kernel)));
    tokio::spawn(serve_control(Arc::clone(&kernel), sockets.control));
    let (replies, requests) = sockets.shell.split();
    let (queue, queued) = mpsc::unbounded_channel();
    tokio::spawn(read_requests(requests, queue));
    tokio::spawn(Shell::new(Arc::clone(&kernel), replies, history).serve(queued));
    tokio::select! {
        () = kernel.shutdown.notified() => {}
        () = parent_gone() => eprintln!("cleope kernel: Jupyter has gone away; stopping"),
    }
    Ok(())
}

/// Resolves when the process that started the kernel has died (Jupyter
/// gives its pid in `JPY_PARENT_PID`), so that a crashed server leaves no
/// kernels running on the hub. Never resolves when there is no such parent.
async fn parent_gone() {
    #[cfg(unix)]
    {
        let parent = std::env::var("JPY_PARENT_PID")
            .ok()
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(parent) = parent.filter(|&pid| pid == std::os::unix::process::parent_id()) {
            // An orphan is adopted by another process: its parent id changes.
            while std::os::unix::process::parent_id() == parent {
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
            return;
        }
    }
    std::future::pending::<()>().await
}

/// Reads shell requests into the queue the shell handler works through, so
/// that requests arriving during a cell wait in order (and can be aborted
/// after an error). Messages with a bad signature are dropped and logged.
async fn read_requests<S: SocketRecv>(
    mut shell: Connection<S>,
    queue: mpsc::UnboundedSender<JupyterMessage>,
) {
    loop {
        match receive(&mut shell).await {
            Ok(request) => {
                if queue.send(request).is_err() {
                    return;
                }
            }
            Err(error) => dropped("shell", &error).await,
        }
    }
}

/// Echoes every heartbeat, whatever the code thread is doing.
async fn heartbeat(mut heartbeat: KernelHeartbeatConnection) {
    loop {
        match heartbeat.socket.recv().await {
            Ok(ping) => {
                if let Err(error) = heartbeat.socket.send(ping).await {
                    eprintln!("cleope kernel: heartbeat reply failed: {error}");
                }
            }
            Err(error) => {
                eprintln!("cleope kernel: heartbeat failed: {error}");
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    }
}

/// SIGINT (a client in `signal` interrupt mode, or Ctrl-C in a terminal)
/// interrupts the running cell instead of ending the kernel.
async fn interrupt_on_ctrl_c(kernel: Arc<Kernel>) {
    while tokio::signal::ctrl_c().await.is_ok() {
        kernel.interrupt();
    }
}
