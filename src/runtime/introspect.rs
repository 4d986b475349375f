//! What front-ends ask a session about code: is it complete, how could the
//! word at the cursor go on, and what does a function do.

use super::session::Session;
use crate::docs::{self, ModuleDoc, script_signature, script_types};
use rhai::{AST, Dynamic, Engine, FnPtr, ImmutableString, LexError, ParseErrorType, Position};
use std::collections::BTreeSet;
use std::sync::OnceLock;

/// Whether a piece of input is ready to run (Jupyter's `is_complete`, the
/// REPL's multi-line input).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Completeness {
    /// It parses: run it.
    Complete,
    /// It stops in the middle of something (an open bracket, string, block): wait for more.
    Incomplete,
    /// It cannot become valid by adding more at the end.
    Invalid(String),
}

/// Candidates for the word ending at the cursor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    /// Byte offset where the word being completed starts.
    pub start: usize,
    pub candidates: Vec<String>,
}

/// A function the student defined (`fn twice(x) { … }`), with the `///`
/// comment lines written above it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserFunction {
    pub name: String,
    /// `twice(x)`.
    pub signature: String,
    /// The doc comment without its `///` marks; empty when there is none.
    pub doc: String,
}

impl UserFunction {
    /// What `:help NAME` shows: the signature, then the doc comment.
    pub fn help(&self) -> String {
        let doc = if self.doc.is_empty() {
            "(no documentation: write `/// what it does` lines above its `fn`)"
        } else {
            &self.doc
        };
        format!("{}  (your function)\n\n{doc}", self.signature)
    }
}

const KEYWORDS: &[&str] = &[
    "as", "break", "catch", "const", "continue", "do", "else", "export", "false", "fn", "for",
    "global", "if", "import", "in", "let", "loop", "private", "return", "switch", "this", "throw",
    "true", "try", "until", "while",
];

impl Session {
    /// Decides whether `code` is complete. An error at the very end of the
    /// input means more is coming; undefined names are not syntax errors
    /// (running the code will report them).
    pub fn is_complete(&self, code: &str) -> Completeness {
        let error = match self.engine().compile_with_scope(self.scope(), code) {
            Ok(_) => return Completeness::Complete,
            Err(error) => error,
        };
        let (kind, position) = (error.err_type(), error.position());
        match kind {
            ParseErrorType::UnexpectedEOF
            | ParseErrorType::BadInput(LexError::UnterminatedString) => Completeness::Incomplete,
            ParseErrorType::VariableUndefined(_) | ParseErrorType::ModuleUndefined(_) => {
                Completeness::Complete
            }
            // `/// Doubles x.` typed on its own: the `fn` it documents comes next.
            ParseErrorType::WrongDocComment if ends_with_doc_comment(code) => {
                Completeness::Incomplete
            }
            _ if at_end(code, position) => Completeness::Incomplete,
            _ => Completeness::Invalid(kind.to_string()),
        }
    }

    /// Completes the word before byte offset `cursor`: after `alias::` the
    /// members of an imported module, after `value.` the methods and
    /// properties of that value's type, else keywords, variables, functions
    /// and module aliases.
    pub fn completions(&self, code: &str, cursor: usize) -> Completion {
        let before = &code[..floor_char_boundary(code, cursor)];
        let start = before
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
            .last()
            .map_or(before.len(), |(i, _)| i);
        let (context, word) = before.split_at(start);
        let names = if let Some(alias) = context.strip_suffix("::").map(trailing_identifier) {
            self.module_members(alias)
        } else if let Some(receiver) = context.strip_suffix('.').map(trailing_identifier) {
            self.methods_of(receiver)
        } else {
            self.global_names()
        };
        let candidates = names
            .into_iter()
            .filter(|name| name.starts_with(word))
            .collect();
        Completion { start, candidates }
    }

    /// The functions the session's scripts defined, by signature.
    pub fn user_functions(&self) -> Vec<UserFunction> {
        let mut functions: Vec<UserFunction> = self
            .script_functions()
            .iter_functions()
            .map(|f| UserFunction {
                name: f.name.to_string(),
                signature: format!("{}({})", f.name, f.params.join(", ")),
                doc: doc_text(&f.comments),
            })
            .collect();
        functions.sort_by(|a, b| a.signature.cmp(&b.signature));
        functions
    }

    /// The documentation of a function (signature, description, example),
    /// or its signatures when it is a built-in without documentation. The
    /// student's own functions come first, with their doc comments.
    pub fn help(&self, name: &str) -> Option<String> {
        let name = name.trim().trim_start_matches('.');
        let own: Vec<String> = self
            .user_functions()
            .iter()
            .filter(|f| f.name == name)
            .map(UserFunction::help)
            .collect();
        if !own.is_empty() {
            return Some(own.join("\n\n---\n\n"));
        }
        let documented: Vec<String> = documented(name)
            .map(|f| {
                let examples = f.examples.iter().map(|e| format!("Example:\n{e}"));
                std::iter::once(format!("{}\n\n{}", f.signature, f.text))
                    .chain(examples)
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .collect();
        if !documented.is_empty() {
            return Some(documented.join("\n\n---\n\n"));
        }
        let signatures = self.signatures_of(name);
        (!signatures.is_empty()).then(|| signatures.join("\n"))
    }

    /// [`Session::help`] as Markdown (a notebook's inspector): signatures as
    /// code, the description as written (it is Markdown), examples as Rhai
    /// code blocks.
    pub fn help_markdown(&self, name: &str) -> Option<String> {
        let name = name.trim().trim_start_matches('.');
        let code = |text: &str| format!("```rhai\n{}\n```", text.trim_end());
        let own: Vec<String> = self
            .user_functions()
            .iter()
            .filter(|f| f.name == name)
            .map(|f| format!("{}\n\n{}", code(&f.signature), f.doc))
            .collect();
        let sections: Vec<String> = if !own.is_empty() {
            own
        } else {
            documented(name)
                .map(|f| {
                    let examples = f
                        .examples
                        .iter()
                        .map(|e| format!("**Example**\n\n{}", code(e)));
                    std::iter::once(format!("{}\n\n{}", code(&f.signature), f.text))
                        .chain(examples)
                        .collect::<Vec<_>>()
                        .join("\n\n")
                })
                .collect()
        };
        if !sections.is_empty() {
            return Some(sections.join("\n\n---\n\n"));
        }
        let signatures = self.signatures_of(name);
        (!signatures.is_empty()).then(|| code(&signatures.join("\n")))
    }

    /// Every form of the function `name` a script can call, in script types:
    /// internal forms (taking `()`, or Rust types that have no script name)
    /// are left out.
    fn signatures_of(&self, name: &str) -> Vec<String> {
        let mut signatures: Vec<String> = self
            .engine()
            .gen_fn_signatures(true)
            .into_iter()
            .filter(|s| function_name(s) == name)
            .map(|s| script_signature(&s))
            .filter(|s| is_script_signature(s))
            .collect();
        signatures.dedup();
        signatures
    }

    /// How to call `name` when a call matched none of its forms: its
    /// signatures; or, when no function has that name, the nearest name.
    pub fn call_hint(&self, name: &str) -> Option<String> {
        let signatures = self.signatures_of(name);
        if !signatures.is_empty() {
            return Some(format!("{name} is called as: {}", signatures.join("; ")));
        }
        let names = self.global_names();
        let known: Vec<&str> = names.iter().map(String::as_str).collect();
        crate::api::args::closest(name, &known).map(|near| format!("did you mean {near}?"))
    }

    /// The properties values of type `type_name` have (`area_km2`,
    /// `bounds`, …), the nearest to `typed` first when one is near.
    pub fn property_hint(&self, type_name: &str, typed: &str) -> Option<String> {
        let wanted = script_types(type_name);
        let mut properties: Vec<String> = self
            .engine()
            .gen_fn_signatures(true)
            .iter()
            .filter(|s| first_parameter_type(s).as_deref() == Some(wanted.as_str()))
            .filter_map(|s| function_name(s).strip_prefix("get$").map(str::to_string))
            .collect();
        properties.sort();
        properties.dedup();
        if properties.is_empty() {
            return None;
        }
        let known: Vec<&str> = properties.iter().map(String::as_str).collect();
        // A typo, or the start of a longer name (`area` for `area_km2`).
        let near = crate::api::args::closest(typed, &known)
            .or_else(|| known.iter().copied().find(|p| p.starts_with(typed)))
            .map(|near| format!("did you mean {near}? "))
            .unwrap_or_default();
        Some(format!(
            "{near}the properties of {wanted}: {}",
            properties.join(", ")
        ))
    }

    /// The text `print(value)` shows: strings as they are, custom types
    /// through their registered `to_string` (a raster's summary).
    pub fn print_text(&self, value: &Dynamic) -> String {
        if let Some(text) = value.read_lock::<ImmutableString>() {
            return text.to_string();
        }
        call_conversion(self.engine(), "to_string", value).unwrap_or_else(|| value.to_string())
    }

    /// The text `debug(value)` shows: strings quoted, custom types through
    /// their registered `to_debug`. Front-ends show results this way, so a
    /// string result is told apart from a number.
    pub fn debug_text(&self, value: &Dynamic) -> String {
        debug_text_with(self.engine(), value)
    }

    fn global_names(&self) -> BTreeSet<String> {
        let mut names: BTreeSet<String> = KEYWORDS.iter().map(|k| k.to_string()).collect();
        names.extend(self.variables().into_iter().map(|(name, _)| name));
        names.extend(
            self.imported_modules()
                .map(|(alias, _)| format!("{alias}::")),
        );
        names.extend(
            self.engine()
                .gen_fn_signatures(true)
                .iter()
                .map(|s| function_name(s))
                .filter(|n| is_callable_name(n))
                .map(str::to_string),
        );
        names
    }

    fn module_members(&self, alias: &str) -> BTreeSet<String> {
        self.imported_modules()
            .filter(|(name, _)| *name == alias)
            .flat_map(|(_, module)| {
                module
                    .gen_fn_signatures_with_mapper(std::borrow::Cow::Borrowed)
                    .collect::<Vec<_>>()
            })
            .map(|s| function_name(&s).to_string())
            .filter(|n| is_callable_name(n))
            .collect()
    }

    /// Methods whose first parameter has the receiver's type, and its properties.
    fn methods_of(&self, receiver: &str) -> BTreeSet<String> {
        let signatures = self.engine().gen_fn_signatures(true);
        let receiver_type = self
            .variable(receiver)
            .map(|value| script_types(self.engine().map_type_name(value.type_name())));
        signatures
            .iter()
            .filter(|s| match &receiver_type {
                Some(wanted) => first_parameter_type(s).as_deref() == Some(wanted.as_str()),
                None => true,
            })
            .map(|s| function_name(s))
            .map(|n| n.strip_prefix("get$").unwrap_or(n))
            .filter(|n| is_callable_name(n))
            .map(str::to_string)
            .collect()
    }
}

/// A doc comment's text: `/// Doubles x.` lines, or a `/** … */` block,
/// without the comment marks.
fn doc_text(comments: &[&str]) -> String {
    let lines: Vec<&str> = comments
        .iter()
        .flat_map(|comment| {
            let block = comment
                .strip_prefix("/**")
                .map(|c| c.trim_end_matches("*/"));
            match block {
                Some(block) => block
                    .lines()
                    .map(|l| l.trim().trim_start_matches('*'))
                    .collect::<Vec<_>>(),
                // Rhai may keep consecutive `///` lines as one comment.
                None => comment
                    .lines()
                    .map(|l| l.trim_start().trim_start_matches('/'))
                    .collect(),
            }
        })
        .map(|line: &str| line.strip_prefix(' ').unwrap_or(line).trim_end())
        .collect();
    lines.join("\n").trim().to_string()
}

/// [`Session::debug_text`] with an engine at hand instead of the session,
/// e.g. inside a debugger callback while the session is running.
pub fn debug_text_with(engine: &Engine, value: &Dynamic) -> String {
    call_conversion(engine, "to_debug", value).unwrap_or_else(|| format!("{value:?}"))
}

/// Calls a registered conversion function (`to_string`, `to_debug`) on
/// `value` outside any script.
fn call_conversion(engine: &Engine, function: &str, value: &Dynamic) -> Option<String> {
    FnPtr::new(function)
        .ok()?
        .call::<ImmutableString>(engine, &AST::empty(), (value.clone(),))
        .ok()
        .map(|text| text.to_string())
}

/// The documented functions named `name` (the reference's entries).
fn documented(name: &str) -> impl Iterator<Item = &'static docs::FunctionDoc> {
    reference()
        .iter()
        .flat_map(|module| &module.functions)
        .filter(move |f| f.name.trim_start_matches('.') == name)
        .filter(|f| is_script_signature(&f.signature))
}

/// True for a signature a student can call as written: no `()` parameter
/// (Rhai's internal forms, such as `print(unit: ())`), no Rust paths or
/// generics.
fn is_script_signature(signature: &str) -> bool {
    let params = signature.split_once('(').map_or("", |(_, rest)| {
        rest.rsplit_once(')').map_or(rest, |(p, _)| p)
    });
    let rust_like = ["()", "::", "<", "&", "NativeCallContext", "Position"];
    !params.split(',').any(|param| {
        let kind = param.split_once(':').map_or(param, |(_, kind)| kind).trim();
        rust_like.iter().any(|mark| kind.contains(mark))
    })
}

/// The reference, built once per process (it does not change at run time).
fn reference() -> &'static [ModuleDoc] {
    static REFERENCE: OnceLock<Vec<ModuleDoc>> = OnceLock::new();
    REFERENCE.get_or_init(docs::collect)
}

fn function_name(signature: &str) -> &str {
    signature.split('(').next().unwrap_or(signature).trim()
}

fn first_parameter_type(signature: &str) -> Option<String> {
    let params = signature.split_once('(')?.1.split(')').next()?;
    let first = params.split(',').next()?;
    let rust_type = first.rsplit(':').next()?.trim();
    Some(script_types(rust_type))
}

/// Names a learner can type: no operators, no internal anonymous functions.
fn is_callable_name(name: &str) -> bool {
    !name.starts_with("anon$")
        && !name.contains('$')
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_alphabetic() || c == '_')
}

fn trailing_identifier(text: &str) -> &str {
    let start = text
        .char_indices()
        .rev()
        .take_while(|(_, c)| c.is_alphanumeric() || *c == '_')
        .last()
        .map_or(text.len(), |(i, _)| i);
    &text[start..]
}

fn floor_char_boundary(text: &str, index: usize) -> usize {
    let mut index = index.min(text.len());
    while !text.is_char_boundary(index) {
        index -= 1;
    }
    index
}

/// True when the last line of `code` is a `///` doc comment.
fn ends_with_doc_comment(code: &str) -> bool {
    code.trim_end()
        .lines()
        .last()
        .is_some_and(|line| line.trim_start().starts_with("///"))
}

/// True when `position` is at or after the last character of `code`.
fn at_end(code: &str, position: Position) -> bool {
    let trimmed = code.trim_end();
    let last_line = trimmed.lines().count().max(1);
    let last_column = trimmed.lines().last().map_or(0, |l| l.chars().count());
    match (position.line(), position.position()) {
        (Some(line), Some(column)) => {
            line > last_line || (line == last_line && column >= last_column)
        }
        (Some(line), None) => line >= last_line,
        _ => true,
    }
}
