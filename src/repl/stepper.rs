//! Stepping through one cell statement by statement, with Rhai's debugger.
//!
//! The debugger calls back at every node of the syntax tree. The stepper
//! stops only at the cell's own statements (loop bodies and `if` branches
//! included); function bodies, closures and imported modules run without
//! stopping, as a class wants to see the cell's story, not the library's.
//!
//! Rhai's debugger never reports an expression statement (`r.stats();`,
//! `r.plot().save("a.png");`) as a statement, only its expression, and it
//! reports an assignment at its operator. So the stepper first reads the
//! cell's syntax tree ([`StatementPlaces`]) to know which expressions are
//! statements and where each statement starts, for the caret.

use super::input::{Answer, ask};
use super::show::preview;
use super::style::Style;
use cleope::runtime::{Host, Session};
use rhai::debugger::{DebuggerCommand, DebuggerEvent};
use rhai::{ASTNode, Engine, EvalAltResult, EvalContext, Position, Scope, Stmt};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

const PROMPT: &str = "  [Enter] next  [c] finish the cell  [v] variables  [q] quit > ";

/// Shared by the step runner and the debugger callback for one cell's run.
pub struct StatementStepper {
    source: String,
    lines: Vec<String>,
    places: StatementPlaces,
    style: Style,
    host: Arc<Host>,
    state: Mutex<State>,
}

#[derive(Debug, Default)]
struct State {
    /// False once the teacher chose to finish the cell without stopping.
    finished: bool,
    /// The teacher chose to quit the whole tutorial.
    quit: bool,
}

/// What to do at a stop.
enum Step {
    Next,
    Finish,
    Quit,
}

impl StatementStepper {
    /// A stepper for a cell of the script `source` whose whole text is
    /// `text`; `places` are the cell's statements.
    pub fn new(
        source: &str,
        text: &str,
        places: StatementPlaces,
        style: Style,
        host: Arc<Host>,
    ) -> Arc<Self> {
        Arc::new(Self {
            source: source.to_string(),
            lines: text.lines().map(str::to_string).collect(),
            places,
            style,
            host,
            state: Mutex::new(State::default()),
        })
    }

    /// Installs the stepper as the session's debugger (until `clear_debugger`).
    pub fn install(self: &Arc<Self>, session: &mut Session) {
        let stepper = Arc::clone(self);
        session.set_debugger(move |context, event, node, source, position| {
            stepper.on_event(&context, &event, &node, source, position)
        });
    }

    /// True when the teacher asked to quit the tutorial during the run.
    pub fn quit_requested(&self) -> bool {
        self.lock().quit
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn on_event(
        &self,
        context: &EvalContext,
        event: &DebuggerEvent,
        node: &ASTNode,
        source: Option<&str>,
        position: Position,
    ) -> Result<DebuggerCommand, Box<EvalAltResult>> {
        if self.lock().finished {
            return Ok(DebuggerCommand::Continue);
        }
        let is_step = matches!(event, DebuggerEvent::Start | DebuggerEvent::Step);
        let start = is_step
            .then(|| self.statement_start(context, node, source))
            .flatten();
        let Some((line, start)) = start.and_then(|start| Some((start.line()?, start))) else {
            // Keep the debugger calling back, to stop at the next statement.
            return Ok(DebuggerCommand::StepInto);
        };
        self.show_statement(line, start.position().unwrap_or(1));
        let step = self.ask_step(context);
        // Time spent waiting for the class is not the script's: restart the
        // run's wall clock (which also clears a Ctrl-C pressed at the prompt).
        self.host.cancel.start_run(self.host.quota.time_limit);
        match step {
            Step::Next => Ok(DebuggerCommand::StepInto),
            Step::Finish => {
                self.lock().finished = true;
                Ok(DebuggerCommand::Continue)
            }
            Step::Quit => {
                self.lock().quit = true;
                Err(EvalAltResult::ErrorTerminated("stepping stopped".into(), position).into())
            }
        }
    }

    /// Where the statement at `node` starts, when `node` is a statement of
    /// the cell itself (not of a function it calls or a module it imports).
    fn statement_start(
        &self,
        context: &EvalContext,
        node: &ASTNode,
        source: Option<&str>,
    ) -> Option<Position> {
        if context.call_level() != 0 || source.is_some_and(|s| s != self.source) {
            return None;
        }
        match node {
            ASTNode::Stmt(Stmt::Block(..) | Stmt::Noop(..)) => None,
            ASTNode::Stmt(statement) => {
                let reported = statement.position();
                Some(*self.places.statements.get(&reported).unwrap_or(&reported))
            }
            ASTNode::Expr(expression) => {
                self.places.expressions.get(&expression.position()).copied()
            }
            _ => None,
        }
    }

    /// Prints the statement's line; when it is not the line's first
    /// statement (`let a = 1; let b = 2;`), a caret shows which one.
    fn show_statement(&self, line: usize, column: usize) {
        let text = self.lines.get(line - 1).map_or("", String::as_str);
        let marker = self.style.accent("→");
        println!("{marker}{} {text}", self.style.dim(&format!("{line:>4} │")));
        let indent = text.chars().take_while(|c| c.is_whitespace()).count();
        if column > indent + 1 {
            let pad = " ".repeat(column - 1);
            println!(
                "      {} {pad}{}",
                self.style.dim("│"),
                self.style.accent("^")
            );
        }
    }

    fn ask_step(&self, context: &EvalContext) -> Step {
        loop {
            match ask(PROMPT) {
                Answer::Line(line) => match line.as_str() {
                    "" | "s" | "n" => return Step::Next,
                    "c" => return Step::Finish,
                    "q" => return Step::Quit,
                    "v" => show_variables(context, self.style),
                    _ => println!("Type Enter for the next statement, c, v or q."),
                },
                Answer::Interrupted => println!("(type q to stop stepping)"),
                Answer::End => return Step::Quit,
            }
        }
    }
}

/// Where a cell's statements start, keyed by the position Rhai's debugger
/// reports for them.
#[derive(Debug, Default)]
pub struct StatementPlaces {
    /// Expression statements, by their expression's position (a chain's `.`).
    expressions: HashMap<Position, Position>,
    /// The other statements (`a += 1` is reported at `+=`).
    statements: HashMap<Position, Position>,
}

impl StatementPlaces {
    /// The statements of `code` (padded with newlines to the cell's first
    /// line, as the session runs it). Code that does not compile has none:
    /// its run stops before any statement with the syntax error.
    pub fn of(engine: &Engine, scope: &Scope, code: &str) -> Self {
        let mut places = Self::default();
        let Ok(mut ast) = engine.compile_with_scope(scope, code) else {
            return places;
        };
        // Function bodies run without stopping.
        ast.clear_functions();
        ast.walk(&mut |path: &[ASTNode]| {
            match path.last() {
                Some(ASTNode::Stmt(Stmt::Expr(expression))) => {
                    let start = expression.start_position();
                    places.expressions.insert(expression.position(), start);
                }
                Some(ASTNode::Stmt(statement)) => {
                    let start = statement_start(statement);
                    places.statements.insert(statement.position(), start);
                }
                _ => {}
            }
            true
        });
        places
    }
}

/// The position of a statement's first token.
fn statement_start(statement: &Stmt) -> Position {
    match statement {
        Stmt::Assignment(assignment) => assignment.1.lhs.start_position(),
        Stmt::FnCall(call, position) if !call.namespace.is_empty() => {
            call.namespace.position().min(*position)
        }
        other => other.position(),
    }
}

/// The variables in scope at a stop, one per line.
fn show_variables(context: &EvalContext, style: Style) {
    let scope = context.scope();
    if scope.is_empty() {
        println!("  no variables yet");
        return;
    }
    for (name, _, value) in scope.iter() {
        let text = preview(context.engine(), &value, 60);
        println!("  {} = {text}", style.bold(name));
    }
}
