//! The REPL's `:` commands.

use super::step::{Tutorial, step_through};
use super::{Flow, Repl, clear_interrupt, next_source_name, show};
use cleope::docs::script_types;
use cleope::runtime::{Chunk, Session};
use rhai::Dynamic;
use rhai::debugger::{DebuggerCommand, DebuggerEvent};
use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// Every command, for completion.
pub const COMMAND_NAMES: &[&str] = &[
    ":help", ":who", ":exact", ":time", ":load", ":step", ":quota", ":grants", ":reset", ":quit",
];

const HELP: &str = "\
Type Rhai code and press Enter to run it. Unfinished code (an open bracket,
block or string) continues on the next line; a blank line runs it anyway.
Tab completes names, and after `value.` the methods of that value.

  :help NAME   a function's documentation and example (yours too: write
               `/// what it does` lines above `fn`)
  :who         the variables and functions defined so far, with their types
  :exact       show floats with every digit, or again at 6 significant digits
               (the default: 0.000225141, 1.75303e18); print(x) shows every digit
  :time CODE   run CODE and show how long it took and how many operations it used
  :load FILE   run a script's cells in this session (its variables stay)
  :step FILE   step through a script cell by cell
  :quota       memory, disk and time used, against the session's quotas
  :grants      what scripts may read, write and reach, and what enforces it
  :reset       forget every variable, function and import
  :quit        leave (Ctrl-D works too)

Ctrl-C stops running code and keeps the variables; at the prompt it clears the line.";

/// A command typed at the prompt, with its argument.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Command<'a> {
    /// `:help` (the commands) or `:help NAME` (a function's documentation).
    Help(Option<&'a str>),
    /// `:who`: the variables and their types.
    Who,
    /// `:exact`: floats with every digit, or at six significant digits again.
    Exact,
    /// `:time CODE`: run CODE, then show its wall time and operations.
    Time(&'a str),
    /// `:load FILE`: run a script's code cells in this session.
    Load(&'a str),
    /// `:step FILE`: step through a script cell by cell.
    Step(&'a str),
    /// `:quota`: usage against the session's quotas.
    Quota,
    /// `:grants`: the folders and endpoints scripts may reach.
    Grants,
    /// `:reset`: forget every variable, function and import.
    Reset,
    /// `:quit`: leave the REPL.
    Quit,
}

impl<'a> Command<'a> {
    /// Parses what follows the `:`; the error says what was expected.
    pub fn parse(text: &'a str) -> Result<Self, String> {
        let (name, argument) = match text.trim().split_once(char::is_whitespace) {
            Some((name, argument)) => (name, argument.trim()),
            None => (text.trim(), ""),
        };
        let needs = |what: &str| format!("`:{name}` needs {what}, e.g. {}", example(name));
        let command = match name {
            "help" | "h" | "?" => Command::Help((!argument.is_empty()).then_some(argument)),
            "who" => Command::Who,
            "exact" => Command::Exact,
            "time" if argument.is_empty() => return Err(needs("code to run")),
            "time" => Command::Time(argument),
            "load" | "step" if argument.is_empty() => return Err(needs("a file")),
            "load" => Command::Load(argument),
            "step" => Command::Step(argument),
            "quota" => Command::Quota,
            "grants" => Command::Grants,
            "reset" => Command::Reset,
            "quit" | "q" | "exit" => Command::Quit,
            _ => {
                return Err(format!(
                    "there is no command `:{name}`; :help lists the commands"
                ));
            }
        };
        let takes_argument = matches!(
            command,
            Command::Help(_) | Command::Time(_) | Command::Load(_) | Command::Step(_)
        );
        if !takes_argument && !argument.is_empty() {
            return Err(format!("`:{name}` takes nothing after it"));
        }
        Ok(command)
    }
}

fn example(name: &str) -> &'static str {
    match name {
        "time" => "`:time fib(20)`",
        _ => "`:load tutorials/welcome.rhai`",
    }
}

impl Repl {
    /// Runs the command typed after `:`.
    pub(super) fn run_command(&mut self, text: &str) -> Flow {
        let command = match Command::parse(text) {
            Ok(command) => command,
            Err(message) => {
                eprintln!("{}", self.style.error(&message));
                return Flow::Continue;
            }
        };
        match command {
            Command::Help(None) => self.help_overview(),
            Command::Help(Some(name)) => self.help(name),
            Command::Who => self.who(),
            Command::Exact => {
                if show::toggle_exact() {
                    println!("Results show floats with every digit; :exact again for 6 digits.");
                } else {
                    println!(
                        "Results show floats at 6 significant digits; :exact for every digit."
                    );
                }
            }
            Command::Time(code) => self.time(code),
            Command::Load(file) => self.load(Path::new(file)),
            Command::Step(file) => self.step(Path::new(file)),
            Command::Quota => self.quota(),
            Command::Grants => println!("{}", self.session.borrow().host().grants_report()),
            Command::Reset => {
                self.session.borrow_mut().reset();
                println!(
                    "Every variable, function and import is forgotten; quotas and workspace stay."
                );
            }
            Command::Quit => return Flow::Quit,
        }
        Flow::Continue
    }

    /// The commands, then the functions the student defined.
    fn help_overview(&self) {
        println!("{HELP}");
        let functions = self.session.borrow().user_functions();
        if functions.is_empty() {
            return;
        }
        println!("\nYour functions (:help NAME shows one):");
        let width = functions
            .iter()
            .map(|f| f.signature.chars().count())
            .max()
            .unwrap_or(0);
        for function in &functions {
            let summary = function.doc.lines().next().unwrap_or("");
            let signature = format!("{:<width$}", function.signature);
            println!("  {}  {summary}", self.style.bold(&signature));
        }
    }

    fn help(&self, name: &str) {
        let session = self.session.borrow();
        if let Some(text) = session.help(name) {
            println!("{text}");
        } else if let Some(value) = session.variable(name) {
            let type_name = type_of(&session, &value);
            println!("`{name}` is a variable ({type_name}); :who lists the variables.");
        } else {
            println!("{}", unknown_name(&session, name));
        }
    }

    fn who(&self) {
        let session = self.session.borrow();
        let mut rows = variable_rows(&session);
        rows.extend(function_rows(&session));
        if rows.is_empty() {
            println!("No variables yet: `let x = 1;` defines one.");
            return;
        }
        let name_width = rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        let type_width = rows
            .iter()
            .map(|r| r.type_name.chars().count())
            .max()
            .unwrap_or(0);
        for row in &rows {
            println!(
                "{}  {}  {}",
                self.style.bold(&format!("{:<name_width$}", row.name)),
                self.style.dim(&format!("{:<type_width$}", row.type_name)),
                row.preview
            );
        }
    }

    /// Runs `code` and reports its wall time and operations. Rhai counts
    /// operations per run; a debugger installed for this run only reads the
    /// count when the run ends.
    fn time(&self, code: &str) {
        let operations = Arc::new(AtomicU64::new(0));
        let counted = Arc::clone(&operations);
        let mut session = self.session.borrow_mut();
        session.set_debugger(move |context, event, _, _, _| {
            if let DebuggerEvent::End = event {
                let used = context.global_runtime_state().num_operations();
                counted.store(used, Ordering::Relaxed);
            }
            Ok(DebuggerCommand::Continue)
        });
        let source = next_source_name();
        let started = Instant::now();
        let result = session.run(Chunk::new(&source, code));
        let elapsed = started.elapsed();
        session.clear_debugger();
        clear_interrupt(&session);
        let finished = result.is_ok();
        show::report(&session, result, self.style);
        let operations = if finished {
            format!(
                "{} operations",
                thousands(operations.load(Ordering::Relaxed))
            )
        } else {
            "operations not counted (the run did not finish)".to_string()
        };
        println!(
            "{}",
            self.style
                .dim(&format!("time: {} · {operations}", duration(elapsed)))
        );
    }

    fn load(&self, path: &Path) {
        let Some(text) = self.read_file(path) else {
            return;
        };
        let mut session = self.session.borrow_mut();
        let _ = session.set_script_dir(crate::script_folder(path));
        let result = session.run_cells(&path.display().to_string(), &text, None);
        clear_interrupt(&session);
        match result {
            Ok(cells) => println!("Ran {cells} code cells of {}.", path.display()),
            Err(error) => show::print_error(&error, self.style),
        }
    }

    fn step(&self, path: &Path) {
        let Some(text) = self.read_file(path) else {
            return;
        };
        match Tutorial::new(path, text, None) {
            Ok(tutorial) => {
                let _ = self
                    .session
                    .borrow_mut()
                    .set_script_dir(crate::script_folder(path));
                step_through(&self.session, &tutorial);
            }
            Err(message) => eprintln!("{}", self.style.error(&message)),
        }
    }

    fn read_file(&self, path: &Path) -> Option<String> {
        crate::read_script(path)
            .map_err(|message| eprintln!("{}", self.style.error(&format!("error: {message}"))))
            .ok()
    }

    fn quota(&self) {
        let mut session = self.session.borrow_mut();
        match session.run(Chunk::new("<quota>", "quota_report()")) {
            Ok(report) => println!("{}", session.print_text(&report)),
            Err(error) => show::print_error(&error, self.style),
        }
    }
}

/// One line of `:who`.
struct VariableRow {
    name: String,
    type_name: String,
    /// The value's first line, cut short.
    preview: String,
}

/// The variables by name. A name defined twice (`let x` again) is listed
/// once, as its current value.
fn variable_rows(session: &Session) -> Vec<VariableRow> {
    let names: BTreeSet<String> = session
        .variables()
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    names
        .into_iter()
        .filter_map(|name| {
            let value = session.variable(&name)?;
            Some(VariableRow {
                type_name: type_of(session, &value),
                preview: show::preview(session.engine(), &value, 60),
                name,
            })
        })
        .collect()
}

/// One line of `:who` per function the student defined: its signature and
/// the first line of its doc comment.
fn function_rows(session: &Session) -> Vec<VariableRow> {
    session
        .user_functions()
        .into_iter()
        .map(|function| {
            let summary = function.doc.lines().next().unwrap_or("");
            let preview = format!("{}  {summary}", function.signature);
            VariableRow {
                name: function.name,
                type_name: "function".into(),
                preview: show::shorten_line(preview.trim_end(), 60),
            }
        })
        .collect()
}

/// A value's type as scripts name it (`int`, `array`, `Raster`).
fn type_of(session: &Session, value: &Dynamic) -> String {
    script_types(session.engine().map_type_name(value.type_name()))
}

/// What `:help` says for a name it does not know, with close names if any.
fn unknown_name(session: &Session, name: &str) -> String {
    let needle = name.to_lowercase();
    let similar: Vec<String> = session
        .completions("", 0)
        .candidates
        .into_iter()
        .filter(|candidate| candidate.to_lowercase().contains(&needle))
        .take(8)
        .collect();
    if similar.is_empty() {
        let typo = session
            .call_hint(name)
            .map(|hint| format!(" ({hint})"))
            .unwrap_or_default();
        format!(
            "No function or variable is named `{name}`{typo}; `cleope docs` writes the whole reference."
        )
    } else {
        format!(
            "No function is named `{name}`. Similar names: {}",
            similar.join(", ")
        )
    }
}

/// `1234567` → `1,234,567`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// A duration in the unit that reads best: µs, ms or s.
fn duration(elapsed: Duration) -> String {
    let micros = elapsed.as_secs_f64() * 1e6;
    if micros < 1000.0 {
        format!("{micros:.0} µs")
    } else if micros < 1e6 {
        format!("{:.1} ms", micros / 1e3)
    } else {
        format!("{:.2} s", micros / 1e6)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_parse_with_their_arguments() {
        assert_eq!(Command::parse("help"), Ok(Command::Help(None)));
        assert_eq!(
            Command::parse("help read_csv"),
            Ok(Command::Help(Some("read_csv")))
        );
        assert_eq!(Command::parse("time  1 + 1 "), Ok(Command::Time("1 + 1")));
        assert_eq!(
            Command::parse("load a b.rhai"),
            Ok(Command::Load("a b.rhai"))
        );
        assert_eq!(Command::parse("q"), Ok(Command::Quit));
    }

    #[test]
    fn bad_commands_say_what_is_expected() {
        assert!(Command::parse("time").unwrap_err().contains("needs code"));
        assert!(Command::parse("step").unwrap_err().contains("needs a file"));
        assert!(
            Command::parse("who x")
                .unwrap_err()
                .contains("takes nothing")
        );
        assert!(Command::parse("frobnicate").unwrap_err().contains(":help"));
    }

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1234567), "1,234,567");
        assert_eq!(duration(Duration::from_micros(250)), "250 µs");
        assert_eq!(duration(Duration::from_micros(12_340)), "12.3 ms");
        assert_eq!(duration(Duration::from_millis(2500)), "2.50 s");
    }
}
