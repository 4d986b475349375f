//! What host functions reach of their session: the workspace, the budgets,
//! the interrupt, the thread pool and the display. The engine carries it as
//! its default tag, so plugin functions get it from their call context.

use super::config::{Quota, ScriptLimits};
use super::display::DisplaySink;
use super::guard::error_value;
use crate::sandbox::{Cancel, DiskBudget, MemoryBudget, Workspace};
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};
use std::sync::{Arc, RwLock, RwLockReadGuard};

pub struct Host {
    workspace: RwLock<Workspace>,
    /// Figures shown so far (numbers the files a terminal session writes).
    figures_shown: std::sync::atomic::AtomicUsize,
    pub memory: Arc<MemoryBudget>,
    pub disk: DiskBudget,
    pub cancel: Arc<Cancel>,
    /// Native parallel work runs here, sized by the CPU quota.
    pub pool: rayon::ThreadPool,
    pub display: Arc<dyn DisplaySink>,
    pub quota: Quota,
    pub limits: ScriptLimits,
    /// The catalogue, the archive and the login (started at first use).
    pub data: crate::api::catalogue::DataAccess,
}

/// The tag value: a cheap handle on the session's host.
#[derive(Clone)]
struct HostTag(Arc<Host>);

impl Host {
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        workspace: Workspace,
        memory: Arc<MemoryBudget>,
        disk: DiskBudget,
        cancel: Arc<Cancel>,
        pool: rayon::ThreadPool,
        display: Arc<dyn DisplaySink>,
        quota: Quota,
        limits: ScriptLimits,
        data: crate::api::catalogue::DataAccess,
    ) -> Self {
        Self {
            workspace: RwLock::new(workspace),
            figures_shown: std::sync::atomic::AtomicUsize::new(0),
            memory,
            disk,
            cancel,
            pool,
            display,
            quota,
            limits,
            data,
        }
    }

    /// The engine tag that lets host functions find this host.
    pub fn tag(self: &Arc<Self>) -> Dynamic {
        Dynamic::from(HostTag(Arc::clone(self)))
    }

    /// The host of the session running the current call.
    pub fn of(ctx: &NativeCallContext) -> Result<Arc<Host>, Box<EvalAltResult>> {
        ctx.tag()
            .and_then(|tag| tag.clone().try_cast::<HostTag>())
            .map(|tag| tag.0)
            .ok_or_else(|| {
                EvalAltResult::ErrorRuntime(
                    error_value(
                        "NoSession",
                        &format!("{}() needs a cleope session", ctx.fn_name()),
                        "run scripts with `cleope run`, the REPL or the kernel",
                    ),
                    Position::NONE,
                )
                .into()
            })
    }

    /// The workspace and read-only roots.
    pub fn workspace(&self) -> RwLockReadGuard<'_, Workspace> {
        self.workspace.read().unwrap_or_else(|e| e.into_inner())
    }

    /// The next figure number of this session (1, 2, ...).
    pub fn next_figure_number(&self) -> usize {
        self.figures_shown
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed)
            + 1
    }

    /// Adds a read-only root (e.g. the folder of the running tutorial).
    pub fn add_read_only_root(&self, label: &str, path: &std::path::Path) {
        self.workspace
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .add_read_only(label, path);
    }
}
