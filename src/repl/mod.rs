//! The classroom front-ends on the terminal: the REPL (`cleope repl`), the
//! step runner (`cleope step`) and the notebook converter (`cleope
//! notebook`). See README.md here for the files.
//!
//! The REPL and the step runner share one session (`:step` from the REPL,
//! `r` from the step runner), on the script thread `main.rs` starts. The
//! editor's helper reads the session (completion, multi-line input) while a
//! line is edited and the REPL runs code in it afterwards, never both at
//! once, so a `RefCell` is all the sharing needs.

pub mod commands;
pub mod helper;
pub mod input;
pub mod markdown;
pub mod notebook;
pub mod show;
pub mod step;
pub mod stepper;
pub mod style;

use cleope::runtime::{Chunk, Session, exit_code};
use helper::ReplHelper;
use rustyline::Editor;
use rustyline::config::{BellStyle, CompletionType, Config};
use rustyline::error::ReadlineError;
use rustyline::history::FileHistory;
use rustyline::validate::ValidationResult;
use std::cell::RefCell;
use std::io::IsTerminal;
use std::path::PathBuf;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering};
use style::Style;

/// The prompt of an entry's continuation lines (right-aligned under `[3]> `).
const CONTINUATION: &str = "...> ";

/// The session the REPL, its helper and the step runner share.
pub type SharedSession = Rc<RefCell<Session>>;

/// Whether the REPL goes on after a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// Read the next entry.
    Continue,
    /// Leave the REPL.
    Quit,
}

/// REPL entries are numbered once per process, so REPLs opened again (from
/// the step runner) never reuse a source name such as `<repl:3>`, which
/// errors inside functions defined there point back to.
static LAST_ENTRY: AtomicUsize = AtomicUsize::new(0);

/// The number the next entry will get (shown in the prompt).
fn next_entry_number() -> usize {
    LAST_ENTRY.load(Ordering::Relaxed) + 1
}

/// Takes the next entry number and names its source: `<repl:4>`.
pub fn next_source_name() -> String {
    let number = LAST_ENTRY.fetch_add(1, Ordering::Relaxed) + 1;
    format!("<repl:{number}>")
}

/// Lowers the interrupt flag once a run is over. The Ctrl-C handler ends the
/// process on a second Ctrl-C while the flag is still up (the script did not
/// stop); a student pressing Ctrl-C twice just as a run stops keeps the session.
pub fn clear_interrupt(session: &Session) {
    session.interrupt_flag().store(false, Ordering::SeqCst);
}

/// `cleope repl`: reads, runs and shows entries until Ctrl-D or `:quit`.
pub fn run_repl(session: Session) -> i32 {
    let session = Rc::new(RefCell::new(session));
    match Repl::open(&session) {
        Ok(mut repl) => {
            repl.greet();
            repl.run();
            exit_code::SUCCESS
        }
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            exit_code::USAGE
        }
    }
}

/// `cleope step FILE`: steps through `tutorial` in `session`.
pub fn run_step(session: Session, tutorial: &step::Tutorial) -> i32 {
    let session = Rc::new(RefCell::new(session));
    step::step_through(&session, tutorial);
    exit_code::SUCCESS
}

/// An interactive loop over a shared session.
pub struct Repl {
    session: SharedSession,
    editor: Editor<ReplHelper, FileHistory>,
    /// Where entries are remembered between runs, if the data folder is usable.
    history: Option<PathBuf>,
    style: Style,
}

impl Repl {
    /// A REPL on `session`, with the history of earlier REPL runs loaded.
    pub fn open(session: &SharedSession) -> rustyline::Result<Self> {
        let style = Style::detect();
        let config = Config::builder()
            .completion_type(CompletionType::List)
            .bracketed_paste(true)
            .auto_add_history(false)
            .max_history_size(10_000)?
            .bell_style(BellStyle::None)
            .tab_stop(4)
            .indent_size(4)
            .build();
        let mut editor = Editor::with_config(config)?;
        editor.set_helper(Some(ReplHelper::new(Rc::clone(session), style)));
        let history = history_file();
        if let Some(path) = &history {
            // Missing on the first run; unreadable files are replaced on the first save.
            let _ = editor.load_history(path);
        }
        Ok(Self {
            session: Rc::clone(session),
            editor,
            history,
            style,
        })
    }

    /// A short welcome on terminals; nothing when input is piped.
    fn greet(&self) {
        if std::io::stdin().is_terminal() {
            println!(
                "cleope {} · Rhai for Earth observation · :help for help, Ctrl-D to leave",
                env!("CARGO_PKG_VERSION")
            );
        }
    }

    /// Reads and runs entries until Ctrl-D or `:quit`.
    pub fn run(&mut self) {
        loop {
            let entry = match self.read_entry() {
                Ok(entry) => entry,
                // Ctrl-C at a prompt drops the entry being typed.
                Err(ReadlineError::Interrupted) => continue,
                Err(ReadlineError::Eof) => break,
                Err(e) => {
                    eprintln!("error: cannot read input: {e}");
                    break;
                }
            };
            if entry.trim().is_empty() {
                continue;
            }
            self.remember(&entry);
            if self.handle(&entry) == Flow::Quit {
                break;
            }
        }
    }

    /// Reads one entry: a line, and more lines after a continuation prompt
    /// (`...>`, as wide as the entry's prompt so the code lines up) while
    /// the code is unfinished (see [`helper::entry_status`]).
    fn read_entry(&mut self) -> rustyline::Result<String> {
        let prompt = format!("[{}]> ", next_entry_number());
        let continuation = format!("{CONTINUATION:>width$}", width = prompt.chars().count());
        let mut entry = self.editor.readline(&prompt)?;
        while self.is_unfinished(&entry) {
            let line = self.editor.readline(&continuation)?;
            entry.push('\n');
            entry.push_str(&line);
        }
        Ok(entry)
    }

    fn is_unfinished(&self, entry: &str) -> bool {
        let session = self.session.borrow();
        let status = helper::entry_status(entry, |code| session.is_complete(code));
        matches!(status, ValidationResult::Incomplete)
    }

    fn handle(&mut self, entry: &str) -> Flow {
        match entry.trim_start().strip_prefix(':') {
            Some(command) => self.run_command(command),
            None => {
                self.evaluate(entry);
                Flow::Continue
            }
        }
    }

    fn evaluate(&self, code: &str) {
        let source = next_source_name();
        let result = self.session.borrow_mut().run(Chunk::new(&source, code));
        let session = self.session.borrow();
        clear_interrupt(&session);
        show::report(&session, result, self.style);
    }

    /// Adds the entry to the history and appends it to the history file at
    /// once, so a REPL that is killed keeps what was typed.
    fn remember(&mut self, entry: &str) {
        let _ = self.editor.add_history_entry(entry.trim_end());
        if let Some(path) = &self.history
            && let Err(e) = self.editor.append_history(path)
        {
            eprintln!(
                "warning: the history cannot be saved in {}: {e}",
                path.display()
            );
            self.history = None;
        }
    }
}

/// `<data dir>/cleope/history` (e.g. `~/.local/share/cleope/history`), with
/// its folder created; `None` when there is no usable data folder.
fn history_file() -> Option<PathBuf> {
    let folder = dirs::data_dir()?.join("cleope");
    std::fs::create_dir_all(&folder).ok()?;
    Some(folder.join("history"))
}

/// The files the REPL keeps writing once the wall is up (its history),
/// made now if missing: inside the wall, only existing files the grants
/// name can be written outside the workspace.
pub fn history_files() -> Vec<PathBuf> {
    let Some(path) = history_file() else {
        return Vec::new();
    };
    let made = std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(&path);
    made.map(|_| vec![path]).unwrap_or_default()
}
