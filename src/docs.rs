//! The API reference, generated from the registered functions' metadata:
//! each function's signature, its `///` doc and its runnable examples.

use crate::api::MODULES;
use crate::runtime::ScriptLimits;
use crate::runtime::resolver;
use rhai::{Engine, Module};
use serde::Deserialize;

/// One documented function.
#[derive(Debug, Clone)]
pub struct FunctionDoc {
    pub name: String,
    /// As a learner writes it, e.g. `read_text(path: string) -> string`.
    pub signature: String,
    /// The doc text without the examples.
    pub text: String,
    /// The code of each ```rhai example.
    pub examples: Vec<String>,
}

/// A group of functions.
#[derive(Debug, Clone)]
pub struct ModuleDoc {
    pub name: String,
    pub summary: String,
    pub functions: Vec<FunctionDoc>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    functions: Vec<FunctionMetadata>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FunctionMetadata {
    name: String,
    signature: String,
    #[serde(default)]
    doc_comments: Vec<String>,
    /// Closures inside script functions are compiled to anonymous functions.
    #[serde(default)]
    is_anonymous: bool,
}

/// Every module of the reference: the native API modules and the prelude.
pub fn collect() -> Vec<ModuleDoc> {
    let mut modules: Vec<ModuleDoc> = MODULES
        .iter()
        .map(|api| document(api.name, api.summary, (api.build)()))
        .collect();
    modules.push(document(
        "prelude",
        "Helpers written in Rhai (stdlib/prelude.rhai), available in every script.",
        prelude_module(),
    ));
    modules
}

fn prelude_module() -> Module {
    let limits = ScriptLimits::default();
    let mut engine = Engine::new();
    engine.set_max_expr_depths(limits.expr_depth, limits.expr_depth_in_functions);
    resolver::prelude_module(&engine)
}

fn document(name: &str, summary: &str, module: Module) -> ModuleDoc {
    let mut engine = Engine::new_raw();
    engine.register_global_module(module.into());
    let json = engine
        .gen_fn_metadata_to_json(false)
        .expect("metadata serialises");
    let metadata: Metadata = serde_json::from_str(&json).expect("metadata parses");
    let mut functions: Vec<FunctionDoc> = metadata
        .functions
        .into_iter()
        .filter(|f| !f.is_anonymous)
        .map(function_doc)
        .collect();
    functions.sort_by(|a, b| a.name.cmp(&b.name).then(a.signature.cmp(&b.signature)));
    ModuleDoc {
        name: name.to_string(),
        summary: summary.to_string(),
        functions,
    }
}

fn function_doc(meta: FunctionMetadata) -> FunctionDoc {
    let lines: Vec<String> = meta
        .doc_comments
        .iter()
        .flat_map(|block| block.lines().map(str::to_string).collect::<Vec<_>>())
        .map(|line| strip_doc_marker(&line).to_string())
        .collect();
    let (text, examples) = split_examples(&lines);
    let name = match meta.name.strip_prefix("get$") {
        Some(property) => format!(".{property}"),
        None => meta.name.clone(),
    };
    FunctionDoc {
        name,
        signature: script_signature(&meta.signature),
        text,
        examples,
    }
}

fn strip_doc_marker(line: &str) -> &str {
    let line = line.trim_start();
    let rest = line
        .strip_prefix("///")
        .or_else(|| line.strip_prefix("/**"))
        .unwrap_or(line);
    rest.strip_prefix(' ').unwrap_or(rest)
}

/// Separates ```rhai code blocks (the examples) from the prose.
fn split_examples(lines: &[String]) -> (String, Vec<String>) {
    let mut prose = Vec::new();
    let mut examples = Vec::new();
    let mut example: Option<Vec<&str>> = None;
    for line in lines {
        match example.as_mut() {
            None if line.trim_start().starts_with("```rhai") => example = Some(Vec::new()),
            None => prose.push(line.as_str()),
            Some(code) if line.trim_start().starts_with("```") => {
                examples.push(code.join("\n"));
                example = None;
            }
            Some(code) => code.push(line),
        }
    }
    (prose.join("\n").trim().to_string(), examples)
}

/// Rust type names in plugin signatures, as a script author knows them.
pub fn script_signature(signature: &str) -> String {
    let mut signature = property_signature(signature)
        .or_else(|| operator_signature(signature))
        .unwrap_or_else(|| signature.to_string());
    // Fallible functions show what they return when they succeed.
    if let Some((head, result)) = signature.split_once("-> Result<") {
        let ok = result
            .trim_end_matches('>')
            .trim_end_matches(", Box<EvalAltResult");
        signature = format!("{head}-> {ok}");
    }
    script_types(signature.trim_end_matches(" -> ()"))
}

/// Replaces Rust type names (as Rhai's metadata gives them) by the names a
/// script author knows: `&str` → `string`, `i64` → `int`, ...
pub fn script_types(text: &str) -> String {
    let mut text = text.to_string();
    for (rust, script) in [
        ("&mut ", ""),
        ("ImmutableString", "string"),
        ("&str", "string"),
        ("String", "string"),
        ("i64", "int"),
        ("f64", "float"),
        ("Array", "array"),
        ("Map", "map"),
        ("Dynamic", "any"),
        ("Blob", "blob"),
        ("crate::eo::matrix::", ""),
        ("cleope::eo::matrix::", ""),
        ("crate::eo::raster::", ""),
        ("crate::eo::plot::", ""),
        ("crate::eo::swath::", ""),
        ("crate::eo::geometry::", ""),
        ("cleope::eo::geometry::", ""),
        ("cleope::eo::swath::", ""),
        ("cleope::eo::plot::", ""),
        ("cleope::eo::raster::", ""),
    ] {
        text = text.replace(rust, script);
    }
    text
}

/// A getter `get$rows(m: &mut Matrix) -> i64` reads as `Matrix.rows -> i64`.
fn property_signature(signature: &str) -> Option<String> {
    let rest = signature.strip_prefix("get$")?;
    let (property, rest) = rest.split_once('(')?;
    let (params, result) = rest.split_once(')')?;
    let owner = params.rsplit(':').next()?.trim();
    Some(format!("{owner}.{property}{result}"))
}

/// Operators and indexers read as they are written: `+(a: Raster, b: any)`
/// as `Raster + any`, `index$get$(s: Stack, index: i64)` as `Stack[i64]`.
fn operator_signature(signature: &str) -> Option<String> {
    let (name, rest) = signature.split_once('(')?;
    let (params, result) = rest.split_once(')')?;
    let types: Vec<&str> = params
        .split(',')
        .map(|p| p.rsplit(':').next().unwrap_or(p).trim())
        .collect();
    if name == "index$get$" {
        return Some(format!("{}[{}]{result}", types.first()?, types.get(1)?));
    }
    if name.chars().next()?.is_alphanumeric() || name.contains('$') {
        return None;
    }
    match types[..] {
        [operand] => Some(format!("{name}{operand}{result}")),
        [left, right] => Some(format!("{left} {name} {right}{result}")),
        _ => None,
    }
}

/// The reference as Markdown (docs/api.md).
pub fn render_markdown(modules: &[ModuleDoc]) -> String {
    let mut out = String::from(
        "# cleope API reference\n\n\
         Generated by `cleope docs` from the registered functions; do not edit by hand.\n\
         Every example below is run by the test suite.\n\n",
    );
    for module in modules {
        out.push_str(&format!(
            "- [{}](#{}): {}\n",
            module.name, module.name, module.summary
        ));
    }
    for module in modules {
        out.push_str(&format!("\n## {}\n\n{}\n", module.name, module.summary));
        for function in &module.functions {
            out.push_str(&format!("\n### `{}`\n\n", function.signature));
            let mut parts = Vec::new();
            if !function.text.is_empty() {
                parts.push(function.text.clone());
            }
            for example in &function.examples {
                parts.push(format!("```rhai\n{example}\n```"));
            }
            out.push_str(&parts.join("\n\n"));
            out.push('\n');
        }
    }
    out.trim_end().to_string() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn examples_are_split_from_prose() {
        let lines: Vec<String> = ["Reads a file.", "", "```rhai", "let x = 1;", "```", "More."]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let (text, examples) = split_examples(&lines);
        assert_eq!(text, "Reads a file.\n\nMore.");
        assert_eq!(examples, ["let x = 1;"]);
    }

    #[test]
    fn signatures_use_script_type_names() {
        assert_eq!(
            script_signature("read_text(path: &str) -> Result<String, Box<EvalAltResult>>"),
            "read_text(path: string) -> string"
        );
        assert_eq!(
            script_signature("eprint(value: Dynamic) -> Result<(), Box<EvalAltResult>>"),
            "eprint(value: any)"
        );
        assert_eq!(
            script_signature("get$rows(m: &mut Matrix) -> i64"),
            "Matrix.rows -> int"
        );
    }
}
