//! The inputs (and results) of this kernel's cells, for `history_request`:
//! the last n, a range of lines of this or an earlier session, or a glob
//! search, as IPython answers them.

use jupyter_protocol::HistoryEntry;
use rusqlite::{Connection, params};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// What a `history_request` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The last `n` cells, across sessions.
    Tail { n: usize },
    /// Lines `start..stop` (execution counts) of a session: 0 or a negative
    /// number counts back from the current session.
    Range {
        session: i64,
        start: i64,
        stop: Option<i64>,
    },
    /// Inputs matching a glob pattern (`*` any text, `?` one character),
    /// the last `n` of them, each input once when `unique`.
    Search {
        pattern: String,
        unique: bool,
        n: Option<usize>,
    },
}

#[derive(Debug, Clone)]
struct Entry {
    session: usize,
    line: usize,
    input: String,
    output: Option<String>,
}

/// The cells of this kernel and of earlier ones, kept in SQLite (as IPython
/// keeps its history) so `history_request` can reach past sessions: every
/// kernel start is a new session.
pub struct History {
    // A Mutex only to be Sync: the shell handler holds it across awaits.
    db: Mutex<Connection>,
    session: i64,
}

/// Where kernel histories are kept: `$CLEOPE_KERNEL_HISTORY` (`off` keeps
/// them in memory only), else `<data dir>/cleope/kernel-history.sqlite`.
pub fn default_location() -> Option<PathBuf> {
    match std::env::var_os("CLEOPE_KERNEL_HISTORY") {
        Some(value) if value == "off" || value.is_empty() => None,
        Some(value) => Some(PathBuf::from(value)),
        None => dirs::data_dir().map(|dir| dir.join("cleope").join("kernel-history.sqlite")),
    }
}

impl History {
    /// Opens the history file at `path` and starts a new session in it. When
    /// there is no path, or the file cannot be used (read-only home, corrupt
    /// file), the history lives in memory and a warning says why.
    pub fn open(path: Option<&Path>) -> History {
        if let Some(path) = path {
            match Self::open_file(path) {
                Ok(history) => return history,
                Err(error) => eprintln!(
                    "cleope kernel: warning: history kept in memory only; {} cannot be used: {error}",
                    path.display()
                ),
            }
        }
        Self::start(Connection::open_in_memory().expect("SQLite opens an in-memory database"))
            .expect("a new in-memory history has the schema")
    }

    fn open_file(path: &Path) -> rusqlite::Result<History> {
        if let Some(folder) = path.parent() {
            let _ = std::fs::create_dir_all(folder);
        }
        let db = Connection::open(path)?;
        // Several kernels of one user may write at once.
        db.busy_timeout(std::time::Duration::from_secs(2))?;
        // A cell's input is recorded before its reply is sent. In SQLite's
        // default rollback mode every record costs several fsyncs (0.9 ms of
        // a 2.5 ms trivial round trip here); a write-ahead log synced at
        // checkpoints survives a crash of the kernel and stays consistent
        // through a power cut, which may only lose the last cells.
        db.pragma_update(None, "journal_mode", "WAL")?;
        db.pragma_update(None, "synchronous", "NORMAL")?;
        Self::start(db)
    }

    fn start(db: Connection) -> rusqlite::Result<History> {
        db.execute_batch(
            "CREATE TABLE IF NOT EXISTS sessions (
                 session INTEGER PRIMARY KEY AUTOINCREMENT,
                 started TEXT NOT NULL);
             CREATE TABLE IF NOT EXISTS history (
                 session INTEGER NOT NULL,
                 line INTEGER NOT NULL,
                 source TEXT NOT NULL,
                 output TEXT,
                 PRIMARY KEY (session, line));",
        )?;
        db.execute(
            "INSERT INTO sessions (started) VALUES (?1)",
            params![chrono::Utc::now().to_rfc3339()],
        )?;
        let session = db.last_insert_rowid();
        Ok(History {
            db: Mutex::new(db),
            session,
        })
    }

    /// This kernel's session number.
    pub fn session(&self) -> usize {
        self.session as usize
    }

    /// Records cell `line` (its execution count), with its result as text.
    pub fn record(&mut self, line: usize, input: &str, output: Option<String>) {
        let db = self
            .db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let stored = db.execute(
            "INSERT OR REPLACE INTO history (session, line, source, output) VALUES (?1, ?2, ?3, ?4)",
            params![self.session, line as i64, input, output],
        );
        if let Err(error) = stored {
            eprintln!("cleope kernel: warning: cell {line} not saved in the history: {error}");
        }
    }

    /// Answers a query; with `output`, each input comes with its result.
    pub fn answer(&self, query: &Query, output: bool) -> Vec<HistoryEntry> {
        match self.select(query) {
            Ok(entries) => entries.iter().map(|e| e.to_reply(output)).collect(),
            Err(error) => {
                eprintln!("cleope kernel: warning: the history cannot be read: {error}");
                Vec::new()
            }
        }
    }

    fn select(&self, query: &Query) -> rusqlite::Result<Vec<Entry>> {
        match query {
            Query::Tail { n } => {
                let mut newest = self.rows(
                    "SELECT session, line, source, output FROM history
                     ORDER BY session DESC, line DESC LIMIT ?1",
                    params![*n as i64],
                )?;
                newest.reverse();
                Ok(newest)
            }
            Query::Range {
                session,
                start,
                stop,
            } => {
                let session = if *session <= 0 {
                    self.session + session
                } else {
                    *session
                };
                self.rows(
                    "SELECT session, line, source, output FROM history
                     WHERE session = ?1 AND line >= ?2 AND (?3 IS NULL OR line < ?3)
                     ORDER BY line",
                    params![session, start, stop],
                )
            }
            Query::Search { pattern, unique, n } => {
                // GLOB is SQLite's `*`/`?` whole-text match, as IPython uses.
                let matching = self.rows(
                    "SELECT session, line, source, output FROM history
                     WHERE source GLOB ?1 ORDER BY session, line",
                    params![pattern],
                )?;
                let matching = if *unique {
                    last_of_each_input(matching)
                } else {
                    matching
                };
                Ok(last(matching, *n))
            }
        }
    }

    fn rows(&self, sql: &str, values: impl rusqlite::Params) -> rusqlite::Result<Vec<Entry>> {
        let db = self
            .db
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut statement = db.prepare_cached(sql)?;
        let rows = statement.query_map(values, |row| {
            Ok(Entry {
                session: row.get::<_, i64>(0)? as usize,
                line: row.get::<_, i64>(1)? as usize,
                input: row.get(2)?,
                output: row.get(3)?,
            })
        })?;
        rows.collect()
    }
}

impl Entry {
    fn to_reply(&self, output: bool) -> HistoryEntry {
        if output {
            HistoryEntry::InputOutput(
                self.session,
                self.line,
                (self.input.clone(), self.output.clone().unwrap_or_default()),
            )
        } else {
            HistoryEntry::Input(self.session, self.line, self.input.clone())
        }
    }
}

fn last(entries: Vec<Entry>, n: Option<usize>) -> Vec<Entry> {
    let skip = n.map_or(0, |n| entries.len().saturating_sub(n));
    entries.into_iter().skip(skip).collect()
}

/// Keeps only the latest occurrence of each input, in history order.
fn last_of_each_input(entries: Vec<Entry>) -> Vec<Entry> {
    let mut kept: Vec<Entry> = Vec::new();
    for entry in entries.into_iter().rev() {
        if !kept.iter().any(|k| k.input == entry.input) {
            kept.push(entry);
        }
    }
    kept.reverse();
    kept
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut history = History::open(None);
        for (line, input) in ["1 + 2", "let a = 5;", "1 + 2", "a * 2"].iter().enumerate() {
            history.record(line + 1, input, Some(format!("out{}", line + 1)));
        }
        history
    }

    fn inputs(entries: Vec<HistoryEntry>) -> Vec<(usize, String)> {
        entries
            .into_iter()
            .map(|e| match e {
                HistoryEntry::Input(_, line, input) => (line, input),
                HistoryEntry::InputOutput(_, line, (input, _)) => (line, input),
            })
            .collect()
    }

    #[test]
    fn tail_gives_the_last_n() {
        let answer = history().answer(&Query::Tail { n: 2 }, false);
        assert_eq!(
            inputs(answer),
            vec![(3, "1 + 2".into()), (4, "a * 2".into())]
        );
    }

    #[test]
    fn range_selects_lines_of_the_current_session() {
        let range = |session, start, stop| Query::Range {
            session,
            start,
            stop,
        };
        let h = history();
        assert_eq!(
            inputs(h.answer(&range(1, 2, Some(3)), false)),
            vec![(2, "let a = 5;".into())]
        );
        assert_eq!(h.answer(&range(0, 3, None), false).len(), 2);
        assert!(h.answer(&range(7, 1, None), false).is_empty());
    }

    #[test]
    fn search_globs_dedupes_and_limits() {
        let search = |pattern: &str, unique, n| Query::Search {
            pattern: pattern.into(),
            unique,
            n,
        };
        let h = history();
        assert_eq!(h.answer(&search("1 + 2", false, None), false).len(), 2);
        assert_eq!(
            inputs(h.answer(&search("1 + 2", true, None), false)),
            vec![(3, "1 + 2".into())]
        );
        assert_eq!(h.answer(&search("*", false, Some(3)), false).len(), 3);
        assert_eq!(h.answer(&search("?et *", false, None), false).len(), 1);
    }

    #[test]
    fn output_pairs_each_input_with_its_result() {
        match &history().answer(&Query::Tail { n: 1 }, true)[0] {
            HistoryEntry::InputOutput(1, 4, (input, output)) => {
                assert_eq!((input.as_str(), output.as_str()), ("a * 2", "out4"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn glob_handles_stars_anywhere() {
        let mut h = History::open(None);
        for (line, input) in ["abbbc", "abc", "abcd", ""].iter().enumerate() {
            h.record(line + 1, input, None);
        }
        let found = |pattern: &str| {
            let query = Query::Search {
                pattern: pattern.into(),
                unique: false,
                n: None,
            };
            inputs(h.answer(&query, false))
                .into_iter()
                .map(|(_, input)| input)
                .collect::<Vec<_>>()
        };
        assert_eq!(found("a*c"), ["abbbc", "abc"]);
        assert_eq!(found("*b*"), ["abbbc", "abc", "abcd"]);
        assert!(found("a*e").is_empty());
        assert_eq!(found("abc"), ["abc"]);
    }

    #[test]
    fn a_new_kernel_sees_the_cells_of_the_previous_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("history.sqlite");
        let mut first = History::open(Some(&file));
        first.record(1, "let x = 41;", None);
        first.record(2, "x + 1", Some("42".into()));
        drop(first);
        let mut second = History::open(Some(&file));
        assert_eq!(second.session(), 2);
        second.record(1, "x", None);
        let previous = Query::Range {
            session: -1,
            start: 1,
            stop: None,
        };
        assert_eq!(
            inputs(second.answer(&previous, false)),
            vec![(1, "let x = 41;".into()), (2, "x + 1".into())]
        );
        let tail = second.answer(&Query::Tail { n: 2 }, true);
        assert!(matches!(&tail[0], HistoryEntry::InputOutput(1, 2, (_, out)) if out == "42"));
        assert!(matches!(&tail[1], HistoryEntry::InputOutput(2, 1, _)));
    }

    #[test]
    fn an_unusable_history_file_falls_back_to_memory() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_database = dir.path().join("history.sqlite");
        std::fs::write(&not_a_database, "this is not SQLite").unwrap();
        let mut h = History::open(Some(&not_a_database));
        h.record(1, "1", None);
        assert_eq!(h.answer(&Query::Tail { n: 5 }, false).len(), 1);
    }
}
