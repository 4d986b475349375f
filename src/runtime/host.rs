//! What host functions reach of their session: the workspace, the budgets,
//! the interrupt, the thread pool and the display. The engine carries it as
//! its default tag, so plugin functions get it from their call context.

use super::config::{Quota, ScriptLimits};
use super::display::DisplaySink;
use super::grants::Prepared;
use super::guard::error_value;
use crate::sandbox::grants::Grants;
use crate::sandbox::{Cancel, DiskBudget, MemoryBudget, Workspace};
use rhai::{Dynamic, EvalAltResult, NativeCallContext, Position};
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

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
    /// The session's widget models (mirrored to the front-end's comms).
    pub widgets: Arc<super::widgets::Widgets>,
    pub quota: Quota,
    pub limits: ScriptLimits,
    /// The catalogue, the archive and the login (started at first use).
    pub data: crate::runtime::data_access::DataAccess,
    /// What scripts may reach, and the resources made for it.
    prepared: Prepared,
    /// Messages for the learner, shown when the next run starts.
    notices: Mutex<Vec<String>>,
    /// The warnings already given (see [`Host::warn_once`]).
    warned: Mutex<std::collections::HashSet<&'static str>>,
    /// Figures a terminal session showed in this run and the script has
    /// not saved (yet): written to output/figures/ when the run ends.
    unsaved_figures: Mutex<Vec<UnsavedFigure>>,
}

/// A figure shown where no image can be displayed (a terminal).
pub struct UnsavedFigure {
    pub number: usize,
    /// Where it goes if the script does not save it: `output/figures/…`.
    pub path: String,
    pub png: Vec<u8>,
    pub size: (u32, u32),
    /// The held bytes count against the memory quota until written (a
    /// loop showing thousands of figures is stopped, not held unchecked).
    pub charge: crate::sandbox::MemoryCharge,
}

/// What confines the process, or that nothing does.
pub fn wall_summary() -> String {
    match crate::sandbox::wall::status() {
        Some(status) => status.summary(),
        None => "none: this session runs inside a program that raised no wall".into(),
    }
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
        data: crate::runtime::data_access::DataAccess,
        prepared: Prepared,
    ) -> Self {
        Self {
            workspace: RwLock::new(workspace),
            figures_shown: std::sync::atomic::AtomicUsize::new(0),
            memory,
            disk,
            cancel,
            pool,
            widgets: Arc::new(super::widgets::Widgets::new(display.comms())),
            display,
            quota,
            limits,
            data,
            prepared,
            notices: Mutex::new(Vec::new()),
            warned: Mutex::new(std::collections::HashSet::new()),
            unsaved_figures: Mutex::new(Vec::new()),
        }
    }

    /// The session's grants.
    pub fn grants(&self) -> &Grants {
        &self.prepared.grants
    }

    /// The grants and the operating-system wall, one line each, as
    /// `:grants`, `quota_report()` and `cleope run --show-grants` show them.
    pub fn grants_report(&self) -> String {
        let mut lines = vec![self.grants().report()];
        for account in self.data.accounts_summary() {
            lines.push(format!("account     {account}"));
        }
        lines.push(format!("wall        {}", wall_summary()));
        lines.join("\n")
    }

    /// The session's scratch folder (cleope's own temporary files).
    pub fn scratch(&self) -> &std::path::Path {
        self.prepared.scratch.path()
    }

    /// Queues a message for the learner, shown when the next run starts.
    pub fn add_notice(&self, notice: String) {
        self.notices
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(notice);
    }

    /// Shows the warning `text` on the error stream, the first time a
    /// warning of this `kind` comes up in the session: a loop over a hundred
    /// empty clips explains itself once, not a hundred times.
    pub fn warn_once(&self, kind: &'static str, text: &str) {
        let first = self
            .warned
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(kind);
        if first {
            self.display
                .stream(super::display::Stream::Stderr, &format!("{text}\n"));
        }
    }

    /// Shows the queued messages on the error stream.
    pub fn show_notices(&self) {
        let notices = std::mem::take(&mut *self.notices.lock().unwrap_or_else(|e| e.into_inner()));
        for notice in notices {
            self.display
                .stream(super::display::Stream::Stderr, &format!("{notice}\n"));
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

    /// Keeps a shown figure until the run ends (see [`Host::write_unsaved_figures`]).
    pub fn hold_figure(&self, figure: UnsavedFigure) {
        self.lock_unsaved().push(figure);
    }

    /// The script saved a figure with these bytes: a held one is not
    /// written again (a terminal showed every saved figure twice, as the
    /// script's file and as output/figures/figure-NN). Returns its number.
    pub fn figure_saved(&self, png: &[u8]) -> Option<usize> {
        let mut unsaved = self.lock_unsaved();
        let at = unsaved.iter().position(|f| f.png == png)?;
        Some(unsaved.remove(at).number)
    }

    /// Writes the figures the run showed and did not save to
    /// output/figures/, each with a line naming its file.
    pub fn write_unsaved_figures(&self) {
        let unsaved = std::mem::take(&mut *self.lock_unsaved());
        for figure in unsaved {
            let (width, height) = figure.size;
            let line = match crate::sandbox::files::write_bytes(
                &self.workspace(),
                &self.disk,
                &figure.path,
                &figure.png,
            ) {
                Ok(_) => format!(
                    "[figure {}] {} ({width} x {height} px)\n",
                    figure.number, figure.path
                ),
                Err(error) => format!(
                    "[figure {}] not written to {}: {error}\n",
                    figure.number, figure.path
                ),
            };
            self.display.stream(super::display::Stream::Stdout, &line);
        }
    }

    fn lock_unsaved(&self) -> std::sync::MutexGuard<'_, Vec<UnsavedFigure>> {
        self.unsaved_figures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
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
