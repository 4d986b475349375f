//! How the front-ends show what a run gave: a value after `=>` (as `debug`
//! writes it, tables as aligned columns), or an error report with its caret.

use super::style::Style;
use cleope::runtime::display::DisplayItem;
use cleope::runtime::pretty::{self, ResultStyle};
use cleope::runtime::{ErrorClass, ScriptError, Session};
use rhai::Dynamic;
use std::io::IsTerminal;
use std::sync::atomic::{AtomicBool, Ordering};

/// Results longer than this are cut, so a stray huge value cannot flood the
/// class's screen.
const MAX_LINES: usize = 40;
const MAX_CHARS: usize = 4000;

/// Prints a run's value (nothing for `()`) or its error.
pub fn report(session: &Session, result: Result<Dynamic, ScriptError>, style: Style) {
    match result {
        Ok(value) => {
            if let Some(text) = result_text(session, &value) {
                print_result(&text, style);
            }
        }
        Err(error) => print_error(&error, style),
    }
}

/// Results show every digit of their floats (`:exact`), for the whole process
/// (the REPL and the step runner show results alike).
static EXACT: AtomicBool = AtomicBool::new(false);

/// Switches between floats at six significant digits and every digit;
/// returns true when every digit is now shown.
pub fn toggle_exact() -> bool {
    !EXACT.fetch_xor(true, Ordering::Relaxed)
}

/// True when results show floats with every digit.
pub fn exact() -> bool {
    EXACT.load(Ordering::Relaxed)
}

/// The text shown for a value, or `None` for `()` (statements show nothing).
pub fn result_text(session: &Session, value: &Dynamic) -> Option<String> {
    if value.is_unit() {
        return None;
    }
    let style = ResultStyle {
        exact: exact(),
        width: terminal_width(),
    };
    let item = DisplayItem::of_value(value, |v| match v.as_float() {
        Ok(x) if !style.exact => pretty::short_float(x),
        _ => session.print_text(v),
    });
    // Only tables get an HTML form: show those as columns, anything else as
    // `debug` would, so that "42" and 42 look different.
    let text = if item.html.is_some() {
        item.plain.trim_end().to_string()
    } else {
        pretty::result_text(session.engine(), value, style)
    };
    Some(shorten(&text))
}

/// A value on one line for a preview (`:who`, `v` while stepping).
pub fn preview(engine: &rhai::Engine, value: &Dynamic, max_chars: usize) -> String {
    shorten_line(&pretty::one_line_text(engine, value, exact()), max_chars)
}

/// The terminal's width in characters (100 when stdout is not a terminal).
fn terminal_width() -> usize {
    // SAFETY: TIOCGWINSZ only writes a `winsize` into the struct it is given.
    let mut size: libc::winsize = unsafe { std::mem::zeroed() };
    let ok = unsafe { libc::ioctl(libc::STDOUT_FILENO, libc::TIOCGWINSZ, &mut size) } == 0;
    if ok && size.ws_col > 0 {
        usize::from(size.ws_col)
    } else {
        100
    }
}

fn print_result(text: &str, style: Style) {
    let arrow = style.dim("=>");
    if text.contains('\n') {
        println!("{arrow}\n{text}");
    } else {
        println!("{arrow} {text}");
    }
}

/// Prints an error report (name and message, place, caret, hint) to stderr.
pub fn print_error(error: &ScriptError, style: Style) {
    if error.class == ErrorClass::Interrupted && std::io::stdin().is_terminal() {
        // The terminal has just echoed ^C: start the report on a line of its own.
        eprintln!();
    }
    let report = error.to_string();
    let (first, rest) = report.split_once('\n').unwrap_or((&report, ""));
    eprint!("{}\n{rest}", style.error(first));
}

/// Cuts `text` to [`MAX_LINES`] lines and [`MAX_CHARS`] characters, saying how much is left out.
pub fn shorten(text: &str) -> String {
    let total_lines = text.lines().count();
    let kept: String = text.lines().take(MAX_LINES).collect::<Vec<_>>().join("\n");
    if kept.chars().count() > MAX_CHARS {
        let cut: String = kept.chars().take(MAX_CHARS).collect();
        return format!("{cut}\n… ({} characters in all)", text.chars().count());
    }
    if total_lines > MAX_LINES {
        return format!("{kept}\n… {} more lines", total_lines - MAX_LINES);
    }
    kept
}

/// The first line of `text`, cut to `max_chars` characters with `…`.
pub fn shorten_line(text: &str, max_chars: usize) -> String {
    let first = text.lines().next().unwrap_or("");
    let cut = first.chars().count() > max_chars || text.contains('\n');
    if cut {
        let kept: String = first.chars().take(max_chars.saturating_sub(1)).collect();
        format!("{kept}…")
    } else {
        first.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_text_is_kept() {
        assert_eq!(shorten("a\nb"), "a\nb");
    }

    #[test]
    fn one_line_previews_are_cut_with_an_ellipsis() {
        assert_eq!(shorten_line("abc", 5), "abc");
        assert_eq!(shorten_line("abcdefgh", 5), "abcd…");
        assert_eq!(shorten_line("ab\ncd", 5), "ab…");
    }

    #[test]
    fn long_text_is_cut_with_a_note() {
        let many: String = (0..100).map(|i| format!("{i}\n")).collect();
        let cut = shorten(&many);
        assert_eq!(cut.lines().count(), MAX_LINES + 1);
        assert!(cut.ends_with("… 60 more lines"), "{cut}");
        let wide = "x".repeat(MAX_CHARS * 2);
        assert!(shorten(&wide).ends_with(&format!("({} characters in all)", MAX_CHARS * 2)));
    }
}
