//! Learner-facing errors: what went wrong, where (file:line:column with the
//! source line and a caret), and a hint on how to fix it.

use super::config::ScriptLimits;
use crate::sandbox::QuotaKind;
use rhai::{EvalAltResult, LexError, Map, ParseErrorType, Position};
use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

/// The broad class of an error; it decides `cleope run`'s exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// The code could not be parsed.
    Syntax,
    /// The code ran and failed (including refused paths and modules).
    Runtime,
    /// A quota or a sandbox limit stopped the code.
    Limit,
    /// The user interrupted the run.
    Interrupted,
    /// The command asked for something the script does not have (cells
    /// past its end): a usage error, not a failure of the code.
    Usage,
}

/// Exit codes of `cleope run` (documented in the README and `--help`).
pub mod exit_code {
    pub const SUCCESS: i32 = 0;
    pub const SCRIPT_ERROR: i32 = 1;
    pub const USAGE: i32 = 2;
    pub const LIMIT: i32 = 3;
    pub const INTERRUPTED: i32 = 130;
}

/// A place in a source text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub source: String,
    pub line: usize,
    pub column: usize,
    /// The source line itself, when the text is known.
    pub text: Option<String>,
}

/// One step of the call chain that led to an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    /// What was called: `f(..)` or `import "x"`.
    pub call: String,
    /// Where it was called from.
    pub location: Option<Location>,
}

/// An error as a learner sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// A stable name scripts and tests can match (`MemoryQuotaExceeded`, `SyntaxError`, ...).
    pub name: String,
    pub class: ErrorClass,
    pub message: String,
    pub hint: Option<String>,
    pub location: Option<Box<Location>>,
    /// Calls from the outermost to the innermost.
    pub trace: Vec<Frame>,
}

/// Source texts by name, and which source each script function came from,
/// so an error inside a function defined in an earlier cell points at the
/// right line of the right cell.
#[derive(Debug, Default)]
pub struct SourceMap {
    inner: Mutex<SourceMapInner>,
}

#[derive(Debug, Default)]
struct SourceMapInner {
    texts: HashMap<String, Arc<str>>,
    functions: HashMap<String, String>,
}

impl SourceMap {
    /// Records the text of a source (a file, a cell, a REPL entry, a module).
    pub fn add_source(&self, name: &str, text: &str) {
        self.lock().texts.insert(name.to_string(), Arc::from(text));
    }

    /// Records that script function `function` was defined in `source`.
    pub fn add_function(&self, function: &str, source: &str) {
        self.lock()
            .functions
            .insert(function.to_string(), source.to_string());
    }

    /// Forgets every source and function (a session reset).
    pub fn clear(&self) {
        *self.lock() = SourceMapInner::default();
    }

    fn function_source(&self, function: &str) -> Option<String> {
        self.lock().functions.get(function).cloned()
    }

    fn line(&self, source: &str, line: usize) -> Option<String> {
        let inner = self.lock();
        let text = inner.texts.get(source)?;
        text.lines().nth(line.checked_sub(1)?).map(str::to_string)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, SourceMapInner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl ScriptError {
    /// Converts an engine error raised while running `source`.
    pub fn from_eval(
        error: EvalAltResult,
        source: &str,
        sources: &SourceMap,
        limits: &ScriptLimits,
    ) -> Self {
        let mut trace = Vec::new();
        let mut current_source = source.to_string();
        let mut error = error;
        loop {
            match error {
                EvalAltResult::ErrorInFunctionCall(function, fn_source, inner, pos) => {
                    trace.push(Frame {
                        call: format!("{function}(..)"),
                        location: locate(&current_source, pos, sources),
                    });
                    current_source = sources
                        .function_source(&function)
                        .or_else(|| (!fn_source.is_empty()).then_some(fn_source))
                        .unwrap_or(current_source);
                    error = *inner;
                }
                EvalAltResult::ErrorInModule(path, inner, pos) => {
                    trace.push(Frame {
                        call: format!("import \"{path}\""),
                        location: locate(&current_source, pos, sources),
                    });
                    current_source = super::resolver::module_source_name(&path);
                    error = *inner;
                }
                _ => break,
            }
        }
        let position = error.position();
        let (name, class, message, hint) = describe(error, limits);
        ScriptError {
            name,
            class,
            message,
            hint,
            location: locate(&current_source, position, sources).map(Box::new),
            trace,
        }
    }

    /// Writes the host's folders in the message and hint as the learner
    /// knows them: paths in the workspace relative to it, the archive as
    /// `<archive>`, the session's own temporary folder as `<scratch>`
    /// (`roots` pairs each folder with its name, the workspace's being empty).
    pub fn shorten_paths(&mut self, roots: &[(std::path::PathBuf, &str)]) {
        self.message = shortened(&self.message, roots);
        self.hint = self.hint.take().map(|hint| shortened(&hint, roots));
    }

    /// A script error raised outside the engine (e.g. a file that cannot be read).
    pub fn plain(name: &str, class: ErrorClass, message: String, hint: Option<String>) -> Self {
        ScriptError {
            name: name.to_string(),
            class,
            message,
            hint,
            location: None,
            trace: Vec::new(),
        }
    }

    /// The exit code `cleope run` ends with for this error.
    pub fn exit_code(&self) -> i32 {
        match self.class {
            ErrorClass::Syntax | ErrorClass::Runtime => exit_code::SCRIPT_ERROR,
            ErrorClass::Limit => exit_code::LIMIT,
            ErrorClass::Interrupted => exit_code::INTERRUPTED,
            ErrorClass::Usage => exit_code::USAGE,
        }
    }
}

/// `text` with every `root/` (and its canonical spelling) written as its name.
fn shortened(text: &str, roots: &[(std::path::PathBuf, &str)]) -> String {
    let mut text = text.to_string();
    for (root, name) in roots {
        let spellings = [Some(root.clone()), root.canonicalize().ok()];
        for spelling in spellings.into_iter().flatten() {
            let prefix = format!("{}/", spelling.display());
            let replacement = if name.is_empty() {
                String::new()
            } else {
                format!("{name}/")
            };
            text = text.replace(&prefix, &replacement);
        }
    }
    // The session's view of the archive lives in its scratch folder.
    while let Some(at) = text.find("<scratch>/ens-view-") {
        let rest = &text[at + "<scratch>/ens-view-".len()..];
        let end = rest.find('/').map_or(rest.len(), |slash| slash + 1);
        text.replace_range(at..at + "<scratch>/ens-view-".len() + end, "<archive>/");
    }
    text
}

fn locate(source: &str, pos: Position, sources: &SourceMap) -> Option<Location> {
    let line = pos.line()?;
    Some(Location {
        source: source.to_string(),
        line,
        column: pos.position().unwrap_or(1),
        text: sources.line(source, line),
    })
}

type Described = (String, ErrorClass, String, Option<String>);

fn describe(mut error: EvalAltResult, limits: &ScriptLimits) -> Described {
    use ErrorClass::*;
    use EvalAltResult as E;
    let described = |name: &str, class, message: String, hint: &str| {
        let hint = (!hint.is_empty()).then(|| hint.to_string());
        (name.to_string(), class, message, hint)
    };
    let _ = error.take_position();
    let message = error.to_string();
    match error {
        E::ErrorParsing(kind, _) => describe_parse_error(kind, limits),
        E::ErrorRuntime(value, _) | E::ErrorTerminated(value, _) => match value.try_cast::<Map>() {
            Some(map) => describe_host_error(&map),
            None => described("Error", Runtime, message, ""),
        },
        E::ErrorTooManyOperations(_) => described(
            QuotaKind::Operations.error_name(),
            Limit,
            "the run used up its operation budget".into(),
            "a loop probably never ends; check its condition, or raise the budget with --operations",
        ),
        E::ErrorStackOverflow(_) => described(
            "RecursionLimit",
            Limit,
            format!(
                "function calls nested deeper than {} levels",
                limits.call_levels
            ),
            "a recursive function probably never reaches its base case: check its stopping condition",
        ),
        E::ErrorDataTooLarge(what, _) => described(
            "DataTooLarge",
            Limit,
            format!("{what} grew larger than a script value may be"),
            "work in smaller pieces",
        ),
        E::ErrorTooManyModules(_) => described(
            "ModuleLimit",
            Limit,
            format!(
                "more than {} modules were imported (or a module imports itself)",
                limits.modules
            ),
            "check for modules that import each other in a loop",
        ),
        E::ErrorTooManyVariables(_) => described(
            "VariableLimit",
            Limit,
            format!("more than {} variables are in use", limits.variables),
            "keep values in arrays or maps instead of separate variables",
        ),
        E::ErrorModuleNotFound(path, _) => described(
            "ModuleNotFound",
            Runtime,
            format!("no module named \"{path}\""),
            "modules load from the script's own folder, the configured module folders and cleope's \
             modules/ and stdlib/; write the name without .rhai, e.g. import \"s2\" as s2;",
        ),
        E::ErrorFunctionNotFound(..) => described(
            "FunctionNotFound",
            Runtime,
            message,
            "check the spelling and the argument types (2 is an integer, 2.0 a float); \
             `cleope docs` lists every function with an example",
        ),
        E::ErrorVariableNotFound(..) => described(
            "VariableNotFound",
            Runtime,
            message,
            "declare it first with `let`; names are case-sensitive",
        ),
        E::ErrorArithmetic(..) => described("ArithmeticError", Runtime, message, ""),
        E::ErrorArrayBounds(..) | E::ErrorStringBounds(..) | E::ErrorBitFieldBounds(..) => {
            described(
                "IndexOutOfBounds",
                Runtime,
                message,
                "indices start at 0; a negative index counts from the end",
            )
        }
        E::ErrorMismatchDataType(..) | E::ErrorMismatchOutputType(..) => {
            described("TypeMismatch", Runtime, message, "")
        }
        E::ErrorPropertyNotFound(..) => described("PropertyNotFound", Runtime, message, ""),
        _ => described("RuntimeError", Runtime, message, ""),
    }
}

fn describe_parse_error(kind: ParseErrorType, limits: &ScriptLimits) -> Described {
    use ErrorClass::*;
    let message = kind.to_string();
    let (name, class, hint) = match &kind {
        ParseErrorType::BadInput(LexError::ImproperSymbol(symbol, _)) if symbol == "eval" => (
            "EvalDisabled",
            Syntax,
            "eval is disabled in cleope so that every script can be read before it runs; \
             write the code directly, or put it in a function"
                .to_string(),
        ),
        ParseErrorType::VariableUndefined(name) => (
            "VariableNotFound",
            Syntax,
            format!(
                "declare it first with `let {name} = ...;` (names are case-sensitive); \
                 in a notebook, run the cell that defines it first"
            ),
        ),
        ParseErrorType::ModuleUndefined(name) => (
            "ModuleNotFound",
            Syntax,
            format!("import it first: import \"{name}\" as {name};"),
        ),
        ParseErrorType::ExprTooDeep => (
            "ExpressionTooDeep",
            Limit,
            format!(
                "expressions may nest {} levels ({} inside functions); split it using variables",
                limits.expr_depth, limits.expr_depth_in_functions
            ),
        ),
        ParseErrorType::LiteralTooLarge(..) => (
            "DataTooLarge",
            Limit,
            "build large values from files or functions instead of literals".to_string(),
        ),
        ParseErrorType::UnexpectedEOF | ParseErrorType::MissingToken(..) => (
            "SyntaxError",
            Syntax,
            "check for a missing `;`, `)`, `]` or `}` near this point".to_string(),
        ),
        _ => ("SyntaxError", Syntax, String::new()),
    };
    let hint = (!hint.is_empty()).then_some(hint);
    (name.to_string(), class, message, hint)
}

/// Errors raised by host functions and the script guard carry a map
/// `#{kind, message, hint}`; so do the ones a script catches.
fn describe_host_error(map: &Map) -> Described {
    let field = |key: &str| {
        map.get(key)
            .map(|v| v.to_string())
            .filter(|s| !s.is_empty())
    };
    let name = field("kind").unwrap_or_else(|| "Error".into());
    let class = if name == "Interrupted" {
        ErrorClass::Interrupted
    } else if QuotaKind::from_error_name(&name).is_some() {
        ErrorClass::Limit
    } else {
        ErrorClass::Runtime
    };
    let message = field("message").unwrap_or_else(|| format!("{map:?}"));
    (name, class, message, field("hint"))
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error[{}]: {}", self.name, self.message)?;
        if let Some(location) = &self.location {
            write_location(f, location)?;
        }
        if let Some(hint) = &self.hint {
            writeln!(f, "  = hint: {hint}")?;
        }
        for frame in self.trace.iter().rev() {
            match &frame.location {
                Some(l) => writeln!(
                    f,
                    "  = in {}, called at {}:{}:{}",
                    frame.call, l.source, l.line, l.column
                )?,
                None => writeln!(f, "  = in {}", frame.call)?,
            }
        }
        Ok(())
    }
}

fn write_location(f: &mut fmt::Formatter<'_>, location: &Location) -> fmt::Result {
    writeln!(
        f,
        "  --> {}:{}:{}",
        location.source, location.line, location.column
    )?;
    let Some(text) = &location.text else {
        return Ok(());
    };
    let number = location.line.to_string();
    let gutter = " ".repeat(number.len());
    // Keep tabs so the caret lines up under the same character.
    let pad: String = text
        .chars()
        .take(location.column.saturating_sub(1))
        .map(|c| if c == '\t' { '\t' } else { ' ' })
        .collect();
    writeln!(f, " {gutter} |")?;
    writeln!(f, " {number} | {text}")?;
    writeln!(f, " {gutter} | {pad}^")
}

#[cfg(test)]
mod tests {
    #[test]
    fn host_folders_are_written_as_the_learner_knows_them() {
        let roots = [
            (std::path::PathBuf::from("/home/ada/cleope"), ""),
            (
                std::path::PathBuf::from("/tmp/cleope-session-x1"),
                "<scratch>",
            ),
            (std::path::PathBuf::from("/mnt/Copernicus"), "<archive>"),
        ];
        let text = "cannot read \"/home/ada/cleope/resources/b.tif\" nor \
                    /tmp/cleope-session-x1/ens-view-Ab12/RADAR/x.zip nor /mnt/Copernicus/OPTICAL/y.zip";
        assert_eq!(
            super::shortened(text, &roots),
            "cannot read \"resources/b.tif\" nor <archive>/RADAR/x.zip nor <archive>/OPTICAL/y.zip"
        );
    }
}
