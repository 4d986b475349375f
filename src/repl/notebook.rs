//! Scripts and Jupyter notebooks: a `.rhai` file's `// %%` cells become the
//! cells of an `.ipynb` notebook (nbformat 4.5) for the Rhai kernel, and a
//! notebook's cells become a script again. Cell titles (`// %% Load`) are
//! kept in each cell's metadata, so a round trip loses nothing.

use cleope::runtime::{Cell, CellKind, split_cells};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// Which way a conversion goes, decided by the file extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `.rhai` → `.ipynb`.
    ScriptToNotebook,
    /// `.ipynb` → `.rhai`.
    NotebookToScript,
}

/// Why a conversion failed; each message says what to do.
#[derive(Debug, thiserror::Error)]
pub enum NotebookError {
    /// The extensions do not say which way to convert.
    #[error(
        "cannot tell which way to convert {input} to {output}: give a .rhai script and an \
         .ipynb notebook, e.g. `cleope notebook lesson.rhai -o lesson.ipynb` (or the reverse)"
    )]
    UnknownDirection { input: PathBuf, output: PathBuf },
    /// The input cannot be read.
    #[error("cannot read {path}: {error}")]
    Read { path: PathBuf, error: String },
    /// The output cannot be written (nothing is left half-written).
    #[error("cannot write {path}: {error}")]
    Write { path: PathBuf, error: String },
    /// The input is not a notebook cleope can read.
    #[error("{path} is not a Jupyter notebook: {reason}")]
    NotANotebook { path: PathBuf, reason: String },
}

/// What a conversion did, for the user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Converted {
    /// Code cells written.
    pub code_cells: usize,
    /// Markdown cells written.
    pub markdown_cells: usize,
    /// Things the user should know (a notebook in another language, raw cells).
    pub warnings: Vec<String>,
}

/// The kernel that runs the notebooks cleope writes.
fn kernelspec() -> Value {
    json!({ "name": "rhai", "display_name": "Rhai (cleope)", "language": "rhai" })
}

fn language_info() -> Value {
    json!({ "name": "rhai", "file_extension": ".rhai" })
}

/// The conversion `input` → `output` asks for.
pub fn direction(input: &Path, output: &Path) -> Result<Direction, NotebookError> {
    let extension = |p: &Path| {
        p.extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
    };
    match (extension(input).as_deref(), extension(output).as_deref()) {
        (Some("rhai"), Some("ipynb")) => Ok(Direction::ScriptToNotebook),
        (Some("ipynb"), Some("rhai")) => Ok(Direction::NotebookToScript),
        _ => Err(NotebookError::UnknownDirection {
            input: input.to_path_buf(),
            output: output.to_path_buf(),
        }),
    }
}

/// Converts the file `input` into `output` (replacing it atomically).
pub fn convert(input: &Path, output: &Path) -> Result<Converted, NotebookError> {
    let direction = direction(input, output)?;
    let input_text = std::fs::read_to_string(input).map_err(|e| NotebookError::Read {
        path: input.to_path_buf(),
        error: e.to_string(),
    })?;
    let (text, converted) = match direction {
        Direction::ScriptToNotebook => {
            let cells = split_cells(&input_text);
            let notebook = script_to_notebook(&cells);
            (to_notebook_json(&notebook), count(&cells, Vec::new()))
        }
        Direction::NotebookToScript => {
            let notebook: Value =
                serde_json::from_str(&input_text).map_err(|e| NotebookError::NotANotebook {
                    path: input.to_path_buf(),
                    reason: e.to_string(),
                })?;
            let (cells, warnings) =
                notebook_cells(&notebook).map_err(|reason| NotebookError::NotANotebook {
                    path: input.to_path_buf(),
                    reason,
                })?;
            (cells_to_script(&cells), count(&cells, warnings))
        }
    };
    write_atomically(output, &text)?;
    Ok(converted)
}

fn count(cells: &[Cell], warnings: Vec<String>) -> Converted {
    let markdown_cells = cells
        .iter()
        .filter(|c| c.kind == CellKind::Markdown)
        .count();
    Converted {
        code_cells: cells.len() - markdown_cells,
        markdown_cells,
        warnings,
    }
}

/// A notebook holding `cells`, for the Rhai kernel.
pub fn script_to_notebook(cells: &[Cell]) -> Value {
    let cells: Vec<Value> = cells.iter().map(notebook_cell).collect();
    json!({
        "cells": cells,
        "metadata": { "kernelspec": kernelspec(), "language_info": language_info() },
        "nbformat": 4,
        "nbformat_minor": 5,
    })
}

fn notebook_cell(cell: &Cell) -> Value {
    let mut metadata = Map::new();
    if let Some(title) = &cell.title {
        metadata.insert("title".into(), title.clone().into());
    }
    let mut value = json!({
        "cell_type": match cell.kind { CellKind::Code => "code", CellKind::Markdown => "markdown" },
        // nbformat 4.5 requires ids; numbering keeps regenerated notebooks diff-friendly.
        "id": format!("cell-{}", cell.number),
        "metadata": metadata,
        "source": source_lines(&cell.text),
    });
    if cell.kind == CellKind::Code {
        value["execution_count"] = Value::Null;
        value["outputs"] = json!([]);
    }
    value
}

/// Notebook sources are lists of lines, each but the last ending with `\n`.
fn source_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.split('\n').map(|l| format!("{l}\n")).collect();
    if let Some(last) = lines.last_mut() {
        last.pop();
    }
    lines.retain(|l| !l.is_empty());
    lines
}

/// Jupyter's own layout: one-space indentation and a final newline.
fn to_notebook_json(notebook: &Value) -> String {
    let mut bytes = Vec::new();
    let formatter = serde_json::ser::PrettyFormatter::with_indent(b" ");
    let mut serializer = serde_json::Serializer::with_formatter(&mut bytes, formatter);
    serde::Serialize::serialize(notebook, &mut serializer).expect("JSON values always serialise");
    let mut text = String::from_utf8(bytes).expect("serde_json writes UTF-8");
    text.push('\n');
    text
}

/// The cells of a notebook, and warnings about what could not be kept as is.
pub fn notebook_cells(notebook: &Value) -> Result<(Vec<Cell>, Vec<String>), String> {
    let major = notebook.get("nbformat").and_then(Value::as_u64);
    if major != Some(4) {
        return Err(format!(
            "it is nbformat {}, and only version 4 is supported; open and save it in a \
             current Jupyter first",
            major.map_or("(missing)".to_string(), |m| m.to_string())
        ));
    }
    let raw_cells = notebook
        .get("cells")
        .and_then(Value::as_array)
        .ok_or("it has no \"cells\" list")?;
    let mut warnings = language_warning(notebook).into_iter().collect::<Vec<_>>();
    let mut cells = Vec::new();
    for (index, raw) in raw_cells.iter().enumerate() {
        let kind = match raw.get("cell_type").and_then(Value::as_str) {
            Some("code") => CellKind::Code,
            Some("markdown") => CellKind::Markdown,
            other => {
                warnings.push(format!(
                    "cell {} is a {} cell; it is kept as a markdown cell",
                    index + 1,
                    other.unwrap_or("untyped")
                ));
                CellKind::Markdown
            }
        };
        cells.push(Cell {
            number: index + 1,
            kind,
            title: raw
                .pointer("/metadata/title")
                .and_then(Value::as_str)
                .map(str::to_string),
            first_line: 0,
            text: cell_source(raw).trim_end().to_string(),
        });
    }
    Ok((cells, warnings))
}

/// A cell's source, written as one string or as a list of lines.
fn cell_source(cell: &Value) -> String {
    match cell.get("source") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(lines)) => lines.iter().filter_map(Value::as_str).collect(),
        _ => String::new(),
    }
}

fn language_warning(notebook: &Value) -> Option<String> {
    let language = notebook
        .pointer("/metadata/kernelspec/language")
        .or_else(|| notebook.pointer("/metadata/language_info/name"))
        .and_then(Value::as_str)?;
    (!language.eq_ignore_ascii_case("rhai")).then(|| {
        format!(
            "this notebook is written in {language}, not Rhai: its code cells are copied \
             as they are and will need rewriting before they run"
        )
    })
}

/// A script with one `// %%` cell per notebook cell.
pub fn cells_to_script(cells: &[Cell]) -> String {
    cells.iter().map(script_cell).collect::<Vec<_>>().join("\n")
}

fn script_cell(cell: &Cell) -> String {
    let marker = match cell.kind {
        CellKind::Code => "// %%".to_string(),
        CellKind::Markdown => "// %% [markdown]".to_string(),
    };
    let marker = match &cell.title {
        Some(title) => format!("{marker} {title}"),
        None => marker,
    };
    let body: Vec<String> = match cell.kind {
        CellKind::Code => cell.text.lines().map(str::to_string).collect(),
        CellKind::Markdown => cell.text.lines().map(comment_line).collect(),
    };
    let mut text = marker;
    for line in body {
        text.push('\n');
        text.push_str(&line);
    }
    text.push('\n');
    text
}

fn comment_line(line: &str) -> String {
    if line.is_empty() {
        "//".to_string()
    } else {
        format!("// {line}")
    }
}

/// Writes `text` to `path` through a temporary file in the same folder, so
/// a failed write never leaves half a notebook behind.
fn write_atomically(path: &Path, text: &str) -> Result<(), NotebookError> {
    let failed = |error: String| NotebookError::Write {
        path: path.to_path_buf(),
        error,
    };
    let folder = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let mut file = tempfile::NamedTempFile::new_in(folder).map_err(|e| failed(e.to_string()))?;
    std::io::Write::write_all(&mut file, text.as_bytes()).map_err(|e| failed(e.to_string()))?;
    cleope::sandbox::files::make_readable(file.as_file()).map_err(|e| failed(e.to_string()))?;
    file.persist(path)
        .map_err(|e| failed(e.error.to_string()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT: &str = "// %% [markdown] Intro\n// # Fires\n//\n// Burn *scars*.\n\n// %% Load\nlet x = 1;\n\nprint(x);\n\n// %%\nx\n";

    #[test]
    fn a_script_becomes_a_rhai_notebook() {
        let notebook = script_to_notebook(&split_cells(SCRIPT));
        assert_eq!(notebook["nbformat"], 4);
        assert_eq!(notebook["nbformat_minor"], 5);
        assert_eq!(notebook["metadata"]["kernelspec"]["name"], "rhai");
        let cells = notebook["cells"].as_array().unwrap();
        assert_eq!(cells.len(), 3);
        assert_eq!(cells[0]["cell_type"], "markdown");
        assert_eq!(cells[0]["metadata"]["title"], "Intro");
        assert_eq!(
            cells[0]["source"],
            json!(["# Fires\n", "\n", "Burn *scars*."])
        );
        assert_eq!(
            cells[1]["source"],
            json!(["let x = 1;\n", "\n", "print(x);"])
        );
        assert_eq!(cells[1]["outputs"], json!([]));
    }

    #[test]
    fn a_round_trip_keeps_cells_and_titles() {
        let cells = split_cells(SCRIPT);
        let notebook = script_to_notebook(&cells);
        let (back, warnings) = notebook_cells(&notebook).unwrap();
        assert!(warnings.is_empty());
        let script = cells_to_script(&back);
        let again = split_cells(&script);
        let shape = |cells: &[Cell]| -> Vec<(CellKind, Option<String>, String)> {
            cells
                .iter()
                .map(|c| (c.kind, c.title.clone(), c.text.clone()))
                .collect()
        };
        assert_eq!(shape(&again), shape(&cells));
        assert_eq!(cells_to_script(&again), script, "stable after one round");
    }

    #[test]
    fn old_or_foreign_notebooks_are_explained() {
        let old = json!({ "nbformat": 3, "worksheets": [] });
        assert!(notebook_cells(&old).unwrap_err().contains("version 4"));
        let python = json!({
            "nbformat": 4, "nbformat_minor": 4,
            "metadata": { "kernelspec": { "language": "python" } },
            "cells": [ { "cell_type": "raw", "source": "x" } ],
        });
        let (cells, warnings) = notebook_cells(&python).unwrap();
        assert_eq!(cells[0].kind, CellKind::Markdown);
        assert_eq!(warnings.len(), 2, "{warnings:?}");
    }

    #[test]
    fn the_direction_comes_from_the_extensions() {
        let d = |a: &str, b: &str| direction(Path::new(a), Path::new(b));
        assert_eq!(d("a.rhai", "b.ipynb").unwrap(), Direction::ScriptToNotebook);
        assert_eq!(d("a.IPYNB", "b.rhai").unwrap(), Direction::NotebookToScript);
        assert!(d("a.rhai", "b.rhai").is_err());
    }
}
