//! The REPL's line-editor helper: completion from the session, hints from
//! the history, bracket and keyword highlighting, and whether an entry is
//! finished (decided by the Rhai parser; the REPL then reads more lines).

use super::SharedSession;
use super::commands::COMMAND_NAMES;
use super::style::Style;
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::highlight::{CmdKind, Highlighter, MatchingBracketHighlighter};
use rustyline::hint::{Hinter, HistoryHinter};
use rustyline::validate::{ValidationResult, Validator};
use rustyline::{Context, Helper};
use std::borrow::Cow;

use cleope::runtime::Completeness;

/// Rhai's keywords, coloured in the input line.
const KEYWORDS: &[&str] = &[
    "as", "break", "catch", "const", "continue", "do", "else", "export", "false", "fn", "for",
    "global", "if", "import", "in", "let", "loop", "private", "return", "switch", "this", "throw",
    "true", "try", "until", "while",
];

/// Everything rustyline asks while a line is edited.
#[derive(Helper)]
pub struct ReplHelper {
    session: SharedSession,
    hinter: HistoryHinter,
    brackets: MatchingBracketHighlighter,
    files: FilenameCompleter,
    style: Style,
}

impl ReplHelper {
    /// A helper answering from `session`, colouring with `style`.
    pub fn new(session: SharedSession, style: Style) -> Self {
        Self {
            session,
            hinter: HistoryHinter::new(),
            brackets: MatchingBracketHighlighter::new(),
            files: FilenameCompleter::new(),
            style,
        }
    }

    /// Completes Rhai code from the session; `offset` is where `code` starts in the line.
    fn complete_code(&self, code: &str, cursor: usize, offset: usize) -> (usize, Vec<Pair>) {
        // The session is never running while a line is edited; if it were
        // borrowed, offering nothing beats failing.
        let Ok(session) = self.session.try_borrow() else {
            return (offset + cursor, Vec::new());
        };
        let completion = session.completions(code, cursor);
        let candidates = completion.candidates.into_iter().map(pair).collect();
        (offset + completion.start, candidates)
    }

    /// Completes a `:` command's name, or its argument: a file for `:load`
    /// and `:step`, code for `:time` and `:help`.
    fn complete_command(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        let Some((name, _)) = before.split_once(char::is_whitespace) else {
            let names = COMMAND_NAMES
                .iter()
                .filter(|n| n.starts_with(before))
                .map(|n| pair(n.to_string()));
            return Ok((0, names.collect()));
        };
        let argument_start = name.len() + 1;
        match name {
            ":load" | ":step" => self.files.complete(line, pos, ctx),
            ":time" | ":help" => Ok(self.complete_code(
                &line[argument_start..],
                pos - argument_start,
                argument_start,
            )),
            _ => Ok((pos, Vec::new())),
        }
    }
}

fn pair(name: String) -> Pair {
    Pair {
        display: name.clone(),
        replacement: name,
    }
}

impl Completer for ReplHelper {
    type Candidate = Pair;

    fn complete(
        &self,
        line: &str,
        pos: usize,
        ctx: &Context<'_>,
    ) -> rustyline::Result<(usize, Vec<Pair>)> {
        if line.starts_with(':') {
            return self.complete_command(line, pos, ctx);
        }
        Ok(self.complete_code(line, pos, 0))
    }
}

impl Hinter for ReplHelper {
    type Hint = String;

    fn hint(&self, line: &str, pos: usize, ctx: &Context<'_>) -> Option<String> {
        self.hinter.hint(line, pos, ctx)
    }
}

impl Highlighter for ReplHelper {
    fn highlight<'l>(&self, line: &'l str, pos: usize) -> Cow<'l, str> {
        if !self.style.enabled() {
            return Cow::Borrowed(line);
        }
        let with_bracket = self.brackets.highlight(line, pos);
        Cow::Owned(colour_keywords(&with_bracket, self.style))
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(
        &'s self,
        prompt: &'p str,
        _default: bool,
    ) -> Cow<'b, str> {
        Cow::Owned(self.style.accent(prompt))
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        Cow::Owned(self.style.dim(hint))
    }

    fn highlight_char(&self, line: &str, pos: usize, kind: CmdKind) -> bool {
        // The bracket highlighter must see every cursor move to remember
        // which bracket to match; keywords change as the line is typed, so
        // with colours on every change is redrawn.
        self.brackets.highlight_char(line, pos, kind);
        self.style.enabled()
    }
}

/// Enter always ends the line: the REPL reads unfinished code's next line
/// itself, after a continuation prompt rustyline has no place for.
impl Validator for ReplHelper {}

/// Whether Enter runs the entry or starts a new line: code the parser finds
/// unfinished continues, unless the last line is blank (a way out of a
/// forgotten bracket: running it shows the error with its place). Errors
/// are not refused here; running the entry reports them with a caret.
pub fn entry_status(input: &str, is_complete: impl Fn(&str) -> Completeness) -> ValidationResult {
    let last_line_blank = input
        .rsplit('\n')
        .next()
        .is_some_and(|last| last.trim().is_empty());
    if input.contains('\n') && last_line_blank {
        return ValidationResult::Valid(None);
    }
    let code = match input.strip_prefix(':') {
        Some(command) => match command.strip_prefix("time") {
            Some(rest) if rest.starts_with(char::is_whitespace) => rest,
            _ => return ValidationResult::Valid(None),
        },
        None => input,
    };
    if code.trim().is_empty() {
        return ValidationResult::Valid(None);
    }
    match is_complete(code) {
        Completeness::Incomplete => ValidationResult::Incomplete,
        Completeness::Complete | Completeness::Invalid(_) => ValidationResult::Valid(None),
    }
}

/// Colours the keywords of `line`, leaving strings, comments and escape
/// codes already in the line (the matching bracket) untouched.
fn colour_keywords(line: &str, style: Style) -> String {
    let mut out = String::with_capacity(line.len() * 2);
    let mut chars = line.char_indices().peekable();
    while let Some((start, c)) = chars.next() {
        let is_word = c.is_alphabetic() || c == '_';
        let end = match c {
            '\x1b' => skip_past(&mut chars, |c| c == 'm'),
            '"' | '`' | '\'' => skip_string(&mut chars, c),
            '/' if chars.peek().is_some_and(|&(_, next)| next == '/') => {
                skip_past(&mut chars, |c| c == '\n')
            }
            _ if is_word => skip_while(&mut chars, |c| c.is_alphanumeric() || c == '_'),
            _ => Some(start + c.len_utf8()),
        }
        .unwrap_or(line.len());
        let text = &line[start..end];
        if is_word && KEYWORDS.contains(&text) {
            out.push_str(&style.keyword(text));
        } else {
            out.push_str(text);
        }
    }
    out
}

type Chars<'a> = std::iter::Peekable<std::str::CharIndices<'a>>;

/// Consumes characters while `keep` holds; the end of the run, or `None` at
/// the end of the line.
fn skip_while(chars: &mut Chars, keep: impl Fn(char) -> bool) -> Option<usize> {
    while chars.next_if(|&(_, c)| keep(c)).is_some() {}
    chars.peek().map(|&(i, _)| i)
}

/// Consumes up to and including the first character for which `last` holds.
fn skip_past(chars: &mut Chars, last: impl Fn(char) -> bool) -> Option<usize> {
    chars.find(|&(_, c)| last(c)).map(|(i, c)| i + c.len_utf8())
}

/// Consumes a string literal up to its closing quote, honouring escapes.
fn skip_string(chars: &mut Chars, quote: char) -> Option<usize> {
    let mut escaped = false;
    chars
        .find(|&(_, c)| {
            let closes = c == quote && !escaped;
            escaped = c == '\\' && !escaped;
            closes
        })
        .map(|(i, c)| i + c.len_utf8())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(input: &str, answer: Completeness) -> ValidationResult {
        entry_status(input, |_| answer.clone())
    }

    fn is_incomplete(result: &ValidationResult) -> bool {
        matches!(result, ValidationResult::Incomplete)
    }

    #[test]
    fn unfinished_code_continues_until_a_blank_line() {
        assert!(is_incomplete(&status(
            "fn f(x) {",
            Completeness::Incomplete
        )));
        assert!(!is_incomplete(&status(
            "fn f(x) {\n",
            Completeness::Incomplete
        )));
        assert!(!is_incomplete(&status(
            "fn f(x) {\n  ",
            Completeness::Incomplete
        )));
        assert!(!is_incomplete(&status(
            "let = 7q",
            Completeness::Invalid("x".into())
        )));
    }

    #[test]
    fn commands_run_at_once_except_unfinished_time() {
        assert!(!is_incomplete(&status(":who", Completeness::Incomplete)));
        assert!(is_incomplete(&status(
            ":time for i in 0..3 {",
            Completeness::Incomplete
        )));
    }

    #[test]
    fn keywords_are_coloured_outside_strings_and_comments() {
        let style = Style::plain();
        assert_eq!(
            colour_keywords("let x = \"let\"; // let", style),
            "let x = \"let\"; // let"
        );
        let coloured = colour_keywords("let letter = \"if\"; // for", enabled());
        assert_eq!(coloured, "\x1b[35mlet\x1b[0m letter = \"if\"; // for");
    }

    #[test]
    fn escape_codes_from_the_bracket_highlighter_survive() {
        let line = "if (x) \x1b[1;34m{\x1b[0m";
        let coloured = colour_keywords(line, enabled());
        assert_eq!(coloured, "\x1b[35mif\x1b[0m (x) \x1b[1;34m{\x1b[0m");
    }

    fn enabled() -> Style {
        // Colouring is only tested through its output; any enabled style will do.
        let style = Style::forced();
        assert!(style.enabled());
        style
    }
}
