//! `cleope step FILE`: a tutorial shown cell by cell for a class. Markdown
//! cells are printed as formatted text; each code cell is shown and waits
//! for the teacher: Enter runs it, `s` steps through it statement by
//! statement, `c` runs the rest of the tutorial, `r` opens the REPL on the
//! tutorial's variables, `q` quits.

use super::input::{Answer, ask};
use super::stepper::{StatementPlaces, StatementStepper};
use super::style::Style;
use super::{Repl, SharedSession, clear_interrupt, markdown, show};
use cleope::runtime::{Cell, CellKind, CellRange, split_cells};
use std::path::Path;
use std::sync::Arc;

const PROMPT: &str = "[Enter] run  [s] step  [c] run to the end  [r] REPL  [q] quit > ";

/// A script split into the cells to step through.
pub struct Tutorial {
    /// The name errors use (the path as given).
    source: String,
    /// The whole file, so errors and stops show the file's own lines.
    text: String,
    /// The selected cells, in order.
    cells: Vec<Cell>,
    /// How many cells the file has in all (for "cell 3 of 7").
    total: usize,
}

impl Tutorial {
    /// The cells of `text` (read from `path`) in `range`, or all of them.
    pub fn new(path: &Path, text: String, range: Option<CellRange>) -> Result<Self, String> {
        let source = path.display().to_string();
        let all = split_cells(&text);
        let total = all.len();
        let cells: Vec<Cell> = all
            .into_iter()
            .filter(|c| range.is_none_or(|r| r.contains(c.number)))
            .collect();
        if cells.is_empty() {
            return Err(match range {
                Some(range) => {
                    format!("{source} has {total} cells; the range {range} selects none")
                }
                None => format!("{source} is empty: there is nothing to step through"),
            });
        }
        Ok(Self {
            source,
            text,
            cells,
            total,
        })
    }
}

/// What the teacher chose at a code cell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Choice {
    Run,
    Step,
    RunToEnd,
    Quit,
}

/// How a cell's run ended, for what comes next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ran {
    Fine,
    Failed,
    QuitWhileStepping,
}

/// Steps through `tutorial` in `session`; returns when it ends or the teacher quits.
pub fn step_through(session: &SharedSession, tutorial: &Tutorial) {
    let style = Style::detect();
    let mut running_to_end = false;
    for cell in &tutorial.cells {
        show_cell(cell, tutorial, style);
        if cell.kind == CellKind::Markdown {
            continue;
        }
        let choice = if running_to_end {
            Choice::Run
        } else {
            choose(session, tutorial, cell)
        };
        running_to_end |= choice == Choice::RunToEnd;
        let ran = match choice {
            Choice::Quit => return,
            Choice::Step => run_cell(session, tutorial, cell, style, true),
            Choice::Run | Choice::RunToEnd => run_cell(session, tutorial, cell, style, false),
        };
        match ran {
            Ran::QuitWhileStepping => return,
            // After an error the class will want to look before going on.
            Ran::Failed => running_to_end = false,
            Ran::Fine => {}
        }
    }
    println!(
        "{}",
        style.dim(&format!("── end of {} ──", tutorial.source))
    );
}

fn show_cell(cell: &Cell, tutorial: &Tutorial, style: Style) {
    let place = format!("[{}/{}]", cell.number, tutorial.total);
    let title = cell.title.as_deref().unwrap_or("");
    let header = format!("── {place} {title} ").trim_end().to_string();
    println!("\n{}", style.dim(&format!("{header} ──")));
    match cell.kind {
        CellKind::Markdown => println!("{}", markdown::render(&cell.text, style)),
        CellKind::Code => {
            for (offset, line) in cell.text.lines().enumerate() {
                let number = cell.first_line + offset;
                println!("{} {line}", style.dim(&format!("{number:>5} │")));
            }
        }
    }
}

/// Asks what to do with a code cell; `r` opens the REPL and asks again after.
fn choose(session: &SharedSession, tutorial: &Tutorial, cell: &Cell) -> Choice {
    loop {
        match ask(PROMPT) {
            Answer::Line(line) => match line.as_str() {
                "" => return Choice::Run,
                "s" => return Choice::Step,
                "c" => return Choice::RunToEnd,
                "q" => return Choice::Quit,
                "r" => open_repl(session, tutorial, cell),
                _ => println!("Type Enter to run the cell, or s, c, r or q."),
            },
            Answer::Interrupted => println!("(type q to quit)"),
            Answer::End => return Choice::Quit,
        }
    }
}

fn open_repl(session: &SharedSession, tutorial: &Tutorial, cell: &Cell) {
    println!(
        "The REPL shares the tutorial's variables; Ctrl-D or :quit returns to cell {}.",
        cell.number
    );
    match Repl::open(session) {
        Ok(mut repl) => repl.run(),
        Err(e) => eprintln!("error: cannot open the REPL: {e}"),
    }
    println!("Back to {}, cell {}.", tutorial.source, cell.number);
}

fn run_cell(
    session: &SharedSession,
    tutorial: &Tutorial,
    cell: &Cell,
    style: Style,
    statement_by_statement: bool,
) -> Ran {
    let mut session = session.borrow_mut();
    let stepper = statement_by_statement.then(|| {
        // The cell as the session compiles it: at its own lines of the file.
        let code = format!("{}{}", "\n".repeat(cell.first_line - 1), cell.text);
        let places = StatementPlaces::of(session.engine(), session.scope(), &code);
        let stepper = StatementStepper::new(
            &tutorial.source,
            &tutorial.text,
            places,
            style,
            Arc::clone(session.host()),
        );
        stepper.install(&mut session);
        stepper
    });
    let result = session.run_cell(&tutorial.source, &tutorial.text, cell);
    clear_interrupt(&session);
    if stepper.is_some() {
        session.clear_debugger();
    }
    if stepper.is_some_and(|s| s.quit_requested()) {
        return Ran::QuitWhileStepping;
    }
    let ran = if result.is_ok() {
        Ran::Fine
    } else {
        Ran::Failed
    };
    show::report(&session, result, style);
    ran
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_selects_cells_and_an_empty_selection_is_explained() {
        let text = "// %%\nlet a = 1;\n// %%\nlet b = 2;\n".to_string();
        let path = Path::new("t.rhai");
        let range = "2".parse().ok();
        let tutorial = Tutorial::new(path, text.clone(), range).unwrap();
        assert_eq!(tutorial.cells.len(), 1);
        assert_eq!(tutorial.cells[0].text, "let b = 2;");
        let error = Tutorial::new(path, text, "5".parse().ok()).err().unwrap();
        assert!(error.contains("has 2 cells"), "{error}");
    }
}
