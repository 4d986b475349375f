//! The thread that owns the session and runs code, so that the sockets
//! (heartbeat, control, interrupts) stay responsive during a long cell.
//!
//! Work arrives as closures; each answers through a oneshot channel. A panic
//! inside one (a bug in a host function) is caught and answered as
//! [`Unavailable::Crashed`]: the front-end gets an error reply, never a hang,
//! and the session with its variables stays.

use crate::runtime::display::DisplaySink;
use crate::runtime::usage::QuotaUse;
use crate::runtime::{Host, Prepared, Session, Settings};
use std::any::Any;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use tokio::sync::oneshot;

/// Rhai's evaluator recurses; the same roomy stack as `cleope run`.
const STACK_BYTES: usize = 256 * 1024 * 1024;

/// Why the session could not do a piece of work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Unavailable {
    /// The session never started (bad configuration, unusable workspace).
    Setup(String),
    /// The work panicked: a bug in cleope, not in the script.
    Crashed(String),
}

type Job = Box<dyn FnOnce(Result<&mut Session, &str>) + Send>;

/// Handle on the code thread.
pub struct CodeThread {
    jobs: mpsc::Sender<Job>,
    interrupt: Arc<OnceLock<Arc<AtomicBool>>>,
    /// The session's host once it has opened: its quota use is read from
    /// the control channel while a cell runs.
    host: Arc<OnceLock<Arc<Host>>>,
}

impl CodeThread {
    /// Starts the thread; it opens the session (so a slow workspace does not
    /// delay the kernel's first answers) and then runs work in order.
    /// `settings` is the configuration, or why it could not be loaded.
    pub fn start(
        settings: Result<(Settings, Prepared), String>,
        script_dir: Option<PathBuf>,
        display: Arc<dyn DisplaySink>,
    ) -> std::io::Result<Self> {
        let (jobs, queue) = mpsc::channel::<Job>();
        let interrupt = Arc::new(OnceLock::new());
        let flag = Arc::clone(&interrupt);
        let host = Arc::new(OnceLock::new());
        let opened_host = Arc::clone(&host);
        std::thread::Builder::new()
            .name("cleope-kernel-code".into())
            .stack_size(STACK_BYTES)
            .spawn(move || {
                let mut session = open_session(settings, script_dir, display);
                if let Ok(session) = &session {
                    let _ = flag.set(session.interrupt_flag());
                    let _ = opened_host.set(Arc::clone(session.host()));
                }
                for job in queue {
                    job(session.as_mut().map_err(|e| e.as_str()));
                }
            })?;
        Ok(Self {
            jobs,
            interrupt,
            host,
        })
    }

    /// Runs `work` on the session and waits for its answer.
    pub async fn call<R: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Session) -> R + Send + 'static,
    ) -> Result<R, Unavailable> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |session| {
            let outcome = match session {
                Ok(session) => catch_unwind(AssertUnwindSafe(|| work(session)))
                    .map_err(|panic| Unavailable::Crashed(panic_message(panic.as_ref()))),
                Err(setup) => Err(Unavailable::Setup(setup.to_string())),
            };
            let _ = answer.send(outcome);
        });
        if self.jobs.send(job).is_err() {
            return Err(Unavailable::Crashed("the code thread has stopped".into()));
        }
        answered
            .await
            .unwrap_or_else(|_| Err(Unavailable::Crashed("the code thread has stopped".into())))
    }

    /// What the session uses of its quotas (None while it is still opening,
    /// or when it could not open).
    pub fn quota_use(&self) -> Option<QuotaUse> {
        self.host.get().map(|host| host.quota_use())
    }

    /// Interrupts the running code (its variables stay). Does nothing while
    /// the session is still opening: nothing runs yet.
    pub fn interrupt(&self) {
        if let Some(flag) = self.interrupt.get() {
            flag.store(true, Ordering::SeqCst);
        }
    }
}

fn open_session(
    settings: Result<(Settings, Prepared), String>,
    script_dir: Option<PathBuf>,
    display: Arc<dyn DisplaySink>,
) -> Result<Session, String> {
    let (settings, prepared) = settings?;
    let mut session = Session::start(settings, prepared, display).map_err(|e| e.to_string())?;
    if let Some(dir) = script_dir {
        // A notebook folder outside the grants (a home folder) stays
        // closed; an import from it explains why when it fails.
        let _ = session.set_script_dir(&dir);
    }
    Ok(session)
}

fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "an unknown failure".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Captured, Overrides};

    fn settings(dir: &std::path::Path) -> Result<(Settings, Prepared), String> {
        let settings = Settings::load(&Overrides {
            workspace: Some(dir.join("workspace")),
            ..Overrides::default()
        })
        .map_err(|e| e.to_string())?;
        let prepared = Prepared::new(&settings).map_err(|e| e.to_string())?;
        Ok((settings, prepared))
    }

    fn block_on<F: std::future::Future>(future: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(future)
    }

    #[test]
    fn a_panic_becomes_an_answer_and_the_session_survives() {
        let dir = tempfile::tempdir().unwrap();
        let code =
            CodeThread::start(settings(dir.path()), None, Arc::new(Captured::default())).unwrap();
        block_on(async {
            code.call(|s| {
                s.run(crate::runtime::Chunk::new("t", "let kept = 7;"))
                    .map(|_| ())
            })
            .await
            .unwrap()
            .unwrap();
            let crashed = code.call(|_| -> () { panic!("host function bug") }).await;
            assert_eq!(
                crashed,
                Err(Unavailable::Crashed("host function bug".into()))
            );
            let kept = code
                .call(|s| s.variable("kept").unwrap().as_int().unwrap())
                .await;
            assert_eq!(kept, Ok(7));
        });
    }

    #[test]
    fn a_session_that_cannot_start_answers_why() {
        let code = CodeThread::start(
            Err("quota.memory: bad size".into()),
            None,
            Arc::new(Captured::default()),
        )
        .unwrap();
        let answer = block_on(code.call(|_| ()));
        assert_eq!(
            answer,
            Err(Unavailable::Setup("quota.memory: bad size".into()))
        );
        code.interrupt();
    }
}
