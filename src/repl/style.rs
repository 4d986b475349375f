//! Terminal styles: ANSI colours when stdout is a terminal, plain text when
//! it is a pipe or a file (and when `NO_COLOR` is set), so redirected output
//! stays readable.

use std::io::IsTerminal;

/// Whether and how to colour what the front-ends print.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Style {
    enabled: bool,
}

const RESET: &str = "\x1b[0m";

impl Style {
    /// Colours when stdout is a terminal and `NO_COLOR` is not set.
    pub fn detect() -> Self {
        let wanted = std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Self {
            enabled: wanted && std::io::stdout().is_terminal(),
        }
    }

    /// No colours at all.
    pub fn plain() -> Self {
        Self { enabled: false }
    }

    /// Colours whatever the terminal (tests of the colouring itself).
    #[cfg(test)]
    pub fn forced() -> Self {
        Self { enabled: true }
    }

    /// True when escape codes are written.
    pub fn enabled(self) -> bool {
        self.enabled
    }

    fn paint(self, code: &str, text: &str) -> String {
        if self.enabled {
            format!("\x1b[{code}m{text}{RESET}")
        } else {
            text.to_string()
        }
    }

    /// Strong emphasis.
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }

    /// Emphasis.
    pub fn italic(self, text: &str) -> String {
        self.paint("3", text)
    }

    /// Secondary text: line numbers, hints, separators.
    pub fn dim(self, text: &str) -> String {
        self.paint("2", text)
    }

    /// Code inside prose.
    pub fn code(self, text: &str) -> String {
        self.paint("36", text)
    }

    /// A top-level heading.
    pub fn heading(self, text: &str) -> String {
        self.paint("1;4", text)
    }

    /// Language keywords in the REPL's input line.
    pub fn keyword(self, text: &str) -> String {
        self.paint("35", text)
    }

    /// The first line of an error report.
    pub fn error(self, text: &str) -> String {
        self.paint("1;31", text)
    }

    /// Prompts and markers that show where the class is.
    pub fn accent(self, text: &str) -> String {
        self.paint("1;32", text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_style_writes_no_escape_codes() {
        let style = Style::plain();
        assert_eq!(style.bold("x"), "x");
        assert_eq!(style.error("e"), "e");
    }

    #[test]
    fn enabled_style_wraps_and_resets() {
        let style = Style::forced();
        assert_eq!(style.bold("x"), "\x1b[1mx\x1b[0m");
    }
}
