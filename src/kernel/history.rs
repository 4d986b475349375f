//! The inputs (and results) of this kernel's cells, for `history_request`:
//! the last n, a range of lines, or a glob search, as IPython answers them.

use jupyter_protocol::HistoryEntry;

/// This kernel's history session. Histories are kept in memory, so every
/// kernel process is session 1 and knows no other.
pub const SESSION: usize = 1;

/// What a `history_request` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The last `n` cells.
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
    line: usize,
    input: String,
    output: Option<String>,
}

/// The cells run so far.
#[derive(Debug, Default)]
pub struct History {
    entries: Vec<Entry>,
}

impl History {
    /// Records cell `line` (its execution count), with its result as text.
    pub fn record(&mut self, line: usize, input: &str, output: Option<String>) {
        self.entries.push(Entry {
            line,
            input: input.to_string(),
            output,
        });
    }

    /// Answers a query; with `output`, each input comes with its result.
    pub fn answer(&self, query: &Query, output: bool) -> Vec<HistoryEntry> {
        self.select(query)
            .into_iter()
            .map(|entry| entry.to_reply(output))
            .collect()
    }

    fn select(&self, query: &Query) -> Vec<&Entry> {
        match query {
            Query::Tail { n } => last(self.entries.iter().collect(), Some(*n)),
            Query::Range {
                session,
                start,
                stop,
            } => {
                let current = *session <= 0 || *session == SESSION as i64;
                self.entries
                    .iter()
                    .filter(|e| current && e.line as i64 >= *start)
                    .filter(|e| stop.is_none_or(|stop| (e.line as i64) < stop))
                    .collect()
            }
            Query::Search { pattern, unique, n } => {
                let matching: Vec<&Entry> = self
                    .entries
                    .iter()
                    .filter(|e| glob_matches(pattern, &e.input))
                    .collect();
                let matching = if *unique {
                    last_of_each_input(matching)
                } else {
                    matching
                };
                last(matching, *n)
            }
        }
    }
}

impl Entry {
    fn to_reply(&self, output: bool) -> HistoryEntry {
        if output {
            HistoryEntry::InputOutput(
                SESSION,
                self.line,
                (self.input.clone(), self.output.clone().unwrap_or_default()),
            )
        } else {
            HistoryEntry::Input(SESSION, self.line, self.input.clone())
        }
    }
}

fn last(entries: Vec<&Entry>, n: Option<usize>) -> Vec<&Entry> {
    let skip = n.map_or(0, |n| entries.len().saturating_sub(n));
    entries.into_iter().skip(skip).collect()
}

/// Keeps only the latest occurrence of each input, in history order.
fn last_of_each_input(entries: Vec<&Entry>) -> Vec<&Entry> {
    let mut kept: Vec<&Entry> = Vec::new();
    for entry in entries.into_iter().rev() {
        if !kept.iter().any(|k| k.input == entry.input) {
            kept.push(entry);
        }
    }
    kept.reverse();
    kept
}

/// Whole-text glob match: `*` matches any run of characters, `?` one.
fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern: Vec<char> = pattern.chars().collect();
    let text: Vec<char> = text.chars().collect();
    // Positions to resume at after the last `*`: classic linear backtracking.
    let (mut p, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match pattern.get(p) {
            Some('*') => {
                star = Some((p, t));
                p += 1;
            }
            Some(&c) if c == '?' || c == text[t] => {
                p += 1;
                t += 1;
            }
            _ => match star {
                Some((star_p, star_t)) => {
                    p = star_p + 1;
                    t = star_t + 1;
                    star = Some((star_p, star_t + 1));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|&c| c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn history() -> History {
        let mut history = History::default();
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
            HistoryEntry::InputOutput(SESSION, 4, (input, output)) => {
                assert_eq!((input.as_str(), output.as_str()), ("a * 2", "out4"));
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn glob_handles_stars_anywhere() {
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*c", "abbbc"));
        assert!(glob_matches("*b*", "abc"));
        assert!(!glob_matches("a*d", "abc"));
        assert!(!glob_matches("abc", "abcd"));
    }
}
