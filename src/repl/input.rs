//! The step runner's questions ("run this cell?"): answered on a terminal
//! with line editing, Ctrl-C and Ctrl-D, or line by line from a pipe, so
//! tests and scripted demos can drive it.

use rustyline::DefaultEditor;
use rustyline::error::ReadlineError;
use std::io::{BufRead, IsTerminal, Write};

/// What came back from a prompt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A line, without its newline and surrounding spaces.
    Line(String),
    /// Ctrl-C at the prompt.
    Interrupted,
    /// Ctrl-D, or the end of the piped input.
    End,
}

/// Shows `prompt` and waits for one line.
pub fn ask(prompt: &str) -> Answer {
    if std::io::stdin().is_terminal() {
        ask_terminal(prompt)
    } else {
        ask_pipe(prompt)
    }
}

fn ask_terminal(prompt: &str) -> Answer {
    // A fresh editor per question: no history, and nothing to share with
    // the debugger callback that also asks questions.
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(_) => return ask_pipe(prompt),
    };
    match editor.readline(prompt) {
        Ok(line) => Answer::Line(line.trim().to_string()),
        Err(ReadlineError::Interrupted) => Answer::Interrupted,
        Err(_) => Answer::End,
    }
}

fn ask_pipe(prompt: &str) -> Answer {
    let mut stdout = std::io::stdout().lock();
    let _ = write!(stdout, "{prompt}");
    let _ = stdout.flush();
    let mut line = String::new();
    // Shared with rustyline, which also reads piped input through
    // `stdin().lock()`, so nothing read ahead is lost between the two.
    let read = std::io::stdin().lock().read_line(&mut line);
    // Piped answers are not echoed: end the prompt's line ourselves.
    let _ = writeln!(stdout);
    match read {
        Ok(0) | Err(_) => Answer::End,
        Ok(_) => Answer::Line(line.trim().to_string()),
    }
}
