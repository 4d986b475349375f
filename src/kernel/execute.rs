//! Running a cell on the code thread: the script's value becomes the
//! cell's result (tables with an HTML form), errors keep their caret
//! report, and `user_expressions` are evaluated after a successful cell.

use super::executor::Unavailable;
use crate::runtime::display::DisplayItem;
use crate::runtime::pretty::{self, ResultStyle};
use crate::runtime::{Chunk, ErrorClass, ScriptError, Session};
use jupyter_protocol::{ExpressionResult, Media, MediaType, Payload};
use rhai::{AST, CallFnOptions, Dynamic, ImmutableString, Scope};
use std::collections::HashMap;

/// What running a cell gave.
pub struct CellOutcome {
    /// The cell's value to show (None for `()`), or its error.
    pub result: Result<Option<DisplayItem>, ScriptError>,
    pub user_expressions: HashMap<String, ExpressionResult>,
    /// Front-end actions, e.g. showing help in the pager.
    pub payload: Vec<Payload>,
}

impl CellOutcome {
    fn failed(error: ScriptError) -> Self {
        Self {
            result: Err(error),
            user_expressions: HashMap::new(),
            payload: Vec::new(),
        }
    }
}

/// The name in an IPython-style help request (`read_csv?`), if `code` is one.
pub fn help_request(code: &str) -> Option<&str> {
    let name = code.trim().strip_suffix('?')?.trim_end();
    let is_name = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
    (!name.is_empty() && name.chars().all(is_name)).then_some(name)
}

/// Answers `name?` with the function's documentation in the pager.
pub fn help_page(session: &Session, name: &str) -> CellOutcome {
    match session.help(name) {
        Some(help) => CellOutcome {
            result: Ok(None),
            user_expressions: HashMap::new(),
            payload: vec![Payload::Page {
                data: Media::new(vec![MediaType::Plain(help)]),
                start: 0,
            }],
        },
        None => CellOutcome::failed(ScriptError::plain(
            "NoHelp",
            ErrorClass::Runtime,
            format!("no documentation for `{name}`"),
            Some(session.call_hint(name).unwrap_or_else(|| {
                "check the spelling; Tab completes the names cleope knows".into()
            })),
        )),
    }
}

/// Runs `code` as cell `source` and evaluates `expressions` if it succeeded.
pub fn run_cell(
    session: &mut Session,
    source: &str,
    code: &str,
    expressions: &HashMap<String, String>,
) -> CellOutcome {
    let result = session
        .run(Chunk::new(source, code))
        .map(|value| result_item(session, &value));
    let user_expressions = if result.is_ok() {
        expressions
            .iter()
            .map(|(name, expression)| (name.clone(), evaluate(session, expression)))
            .collect()
    } else {
        HashMap::new()
    };
    CellOutcome {
        result,
        user_expressions,
        payload: Vec::new(),
    }
}

/// The outcome of work the session could not do.
pub fn unavailable(reason: Unavailable) -> CellOutcome {
    CellOutcome::failed(unavailable_error(reason))
}

/// How a cell's value is shown: nothing for `()` nor for a figure (`plot`
/// has shown it as an image already), strings quoted (so `"42"` and `42`
/// look different), tables as tables, floats, arrays and maps as the REPL
/// shows them (floats at six significant digits; `print` shows every
/// digit), the rest as `to_string` gives.
pub fn result_item(session: &Session, value: &Dynamic) -> Option<DisplayItem> {
    if value.is_unit() || value.is::<crate::eo::plot::Figure>() {
        return None;
    }
    if value.is_string() {
        return Some(DisplayItem::text(format!("{:?}", value.to_string())));
    }
    let item = DisplayItem::of_value(value, |v| match v.as_float() {
        Ok(x) => pretty::short_float(x),
        Err(_) => text_of(session, v),
    });
    // Floats at six significant digits, long arrays and maps spread over
    // lines; tables and custom types (a raster's summary) as they are.
    let is_plain_data = value.is_float() || value.is_array() || value.is_map();
    if item.html.is_none() && is_plain_data {
        let text = pretty::result_text(session.engine(), value, ResultStyle::default());
        return Some(DisplayItem::text(text));
    }
    Some(item)
}

/// The text the script's own `to_string` gives (custom types such as
/// rasters register theirs), or Rhai's default when there is none.
fn text_of(session: &Session, value: &Dynamic) -> String {
    if value.is_string() {
        return value.to_string();
    }
    let options = CallFnOptions::new().eval_ast(false).in_all_namespaces(true);
    session
        .engine()
        .call_fn_with_options::<ImmutableString>(
            options,
            &mut Scope::new(),
            &AST::empty(),
            "to_string",
            (value.clone(),),
        )
        .map(|text| text.to_string())
        .unwrap_or_else(|_| value.to_string())
}

fn evaluate(session: &mut Session, expression: &str) -> ExpressionResult {
    match session.run(Chunk::new("<user expression>", expression)) {
        Ok(value) => {
            let text = result_item(session, &value).map_or_else(String::new, |item| item.plain);
            ExpressionResult::Ok {
                data: Media::new(vec![MediaType::Plain(text)]),
                metadata: Default::default(),
            }
        }
        Err(error) => ExpressionResult::Error {
            ename: error.name.clone(),
            evalue: error.message.clone(),
            traceback: error.to_string().lines().map(str::to_string).collect(),
        },
    }
}

/// An error report for work the session could not do.
fn unavailable_error(reason: Unavailable) -> ScriptError {
    match reason {
        Unavailable::Setup(message) => ScriptError::plain(
            "SetupError",
            ErrorClass::Runtime,
            format!("the cleope session could not start: {message}"),
            Some(
                "fix the setting named above (in cleope.toml in your workspace, or the \
                 kernel's CLEOPE_* environment), then restart the kernel"
                    .into(),
            ),
        ),
        Unavailable::Crashed(message) => ScriptError::plain(
            "InternalError",
            ErrorClass::Runtime,
            format!("cleope itself failed while running this cell ({message})"),
            Some("this is a bug in cleope, not in your code; your variables are kept".into()),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::{Captured, Overrides, Settings};
    use std::sync::Arc;

    fn session(dir: &std::path::Path) -> Session {
        let overrides = Overrides {
            workspace: Some(dir.join("workspace")),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        Session::new(settings, Arc::new(Captured::default())).unwrap()
    }

    fn plain(outcome: &CellOutcome) -> Option<String> {
        outcome
            .result
            .as_ref()
            .unwrap()
            .as_ref()
            .map(|i| i.plain.clone())
    }

    #[test]
    fn values_are_shown_as_a_learner_expects() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path());
        let none = HashMap::new();
        assert_eq!(
            plain(&run_cell(&mut s, "c", "1 + 2", &none)),
            Some("3".into())
        );
        assert_eq!(
            plain(&run_cell(&mut s, "c", "\"ab\"", &none)),
            Some("\"ab\"".into())
        );
        assert_eq!(plain(&run_cell(&mut s, "c", "let x = 1;", &none)), None);
        let table = run_cell(&mut s, "c", "[#{a: 1}, #{a: 2}]", &none);
        let item = table.result.unwrap().unwrap();
        assert!(item.html.unwrap().contains("<td>2</td>"));
    }

    #[test]
    fn name_question_mark_pages_the_documentation() {
        assert_eq!(help_request(" read_csv? "), Some("read_csv"));
        assert_eq!(help_request("x ? y"), None);
        assert_eq!(help_request("?"), None);
        let dir = tempfile::tempdir().unwrap();
        let s = session(dir.path());
        assert_eq!(help_page(&s, "read_csv").payload.len(), 1);
        assert_eq!(help_page(&s, "no_such").result.unwrap_err().name, "NoHelp");
    }

    #[test]
    fn user_expressions_are_evaluated_after_a_good_cell_only() {
        let dir = tempfile::tempdir().unwrap();
        let mut s = session(dir.path());
        let expressions = HashMap::from([("double".to_string(), "x * 2".to_string())]);
        let good = run_cell(&mut s, "c", "let x = 21;", &expressions);
        match &good.user_expressions["double"] {
            ExpressionResult::Ok { data, .. } => {
                assert_eq!(serde_json::to_value(data).unwrap()["text/plain"], "42");
            }
            other => panic!("{other:?}"),
        }
        let bad = run_cell(&mut s, "c", "x.nope();", &expressions);
        assert!(bad.result.is_err() && bad.user_expressions.is_empty());
    }
}
