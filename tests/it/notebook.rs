//! `cleope notebook`: scripts to Jupyter notebooks and back.

use crate::common;

use cleope::runtime::{CellKind, split_cells};
use common::cleope_bin;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const LESSON: &str = "\
// %% [markdown] Introduction
// # Burned area
//
// Compare *before* and *after*:
// - pre-fire
// - post-fire

// %% Load the scenes
let scenes = [
    #{ date: \"2021-07-20\", cloud: 3.5 },
];

print(scenes.len());

// %%
let answer = 42;
answer
";

fn convert(input: &Path, output: &Path) -> Output {
    Command::new(cleope_bin())
        .arg("notebook")
        .arg(input)
        .arg("-o")
        .arg(output)
        .output()
        .unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Kind, title and text of each cell: what a round trip must keep.
fn shape(script: &str) -> Vec<(CellKind, Option<String>, String)> {
    split_cells(script)
        .into_iter()
        .map(|c| (c.kind, c.title, c.text))
        .collect()
}

fn assert_success(output: &Output) {
    assert!(
        output.status.success(),
        "exit {:?}: {}",
        output.status.code(),
        String::from_utf8_lossy(&output.stderr)
    );
}

#[test]
fn a_script_round_trips_through_a_notebook() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "lesson.rhai", LESSON);
    let notebook = dir.path().join("lesson.ipynb");
    let output = convert(&script, &notebook);
    assert_success(&output);
    assert!(String::from_utf8_lossy(&output.stdout).contains("2 code cells, 1 markdown cells"));

    let json = read_json(&notebook);
    assert_eq!(
        (&json["nbformat"], &json["nbformat_minor"]),
        (&4.into(), &5.into())
    );
    let kernelspec = &json["metadata"]["kernelspec"];
    assert_eq!(kernelspec["name"], "rhai");
    assert_eq!(kernelspec["display_name"], "Rhai (cleope)");
    assert_eq!(kernelspec["language"], "rhai");
    assert_eq!(json["metadata"]["language_info"]["name"], "rhai");
    assert_eq!(json["metadata"]["language_info"]["file_extension"], ".rhai");
    let cells = json["cells"].as_array().unwrap();
    let types: Vec<&str> = cells
        .iter()
        .map(|c| c["cell_type"].as_str().unwrap())
        .collect();
    assert_eq!(types, ["markdown", "code", "code"]);
    assert_eq!(cells[0]["metadata"]["title"], "Introduction");
    assert_eq!(cells[1]["metadata"]["title"], "Load the scenes");
    assert_eq!(
        cells[0]["source"][0], "# Burned area\n",
        "markdown without `//`"
    );
    assert!(
        cells.iter().all(|c| c["id"].is_string()),
        "nbformat 4.5 cell ids"
    );

    let back = dir.path().join("back.rhai");
    assert_success(&convert(&notebook, &back));
    let round_tripped = std::fs::read_to_string(&back).unwrap();
    assert_eq!(shape(&round_tripped), shape(LESSON));
    assert!(round_tripped.starts_with("// %% [markdown] Introduction\n// # Burned area\n//\n"));
}

#[test]
fn the_welcome_tutorial_converts() {
    let dir = tempfile::tempdir().unwrap();
    let tutorial = Path::new(env!("CARGO_MANIFEST_DIR")).join("tutorials/welcome.rhai");
    let text = std::fs::read_to_string(&tutorial).unwrap();
    let notebook = dir.path().join("welcome.ipynb");
    assert_success(&convert(&tutorial, &notebook));
    let json = read_json(&notebook);
    let cells = json["cells"].as_array().unwrap();
    assert_eq!(cells.len(), split_cells(&text).len());
    assert!(cells.iter().any(|c| c["cell_type"] == "markdown"));

    let back = dir.path().join("welcome.rhai");
    assert_success(&convert(&notebook, &back));
    assert_eq!(
        shape(&std::fs::read_to_string(&back).unwrap()),
        shape(&text)
    );
}

#[test]
fn unclear_directions_and_broken_notebooks_are_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "a.rhai", LESSON);
    let output = convert(&script, &dir.path().join("b.txt"));
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains(".ipynb"));

    let broken = write(dir.path(), "broken.ipynb", "{ not json");
    let target = dir.path().join("out.rhai");
    let output = convert(&broken, &target);
    assert_eq!(output.status.code(), Some(2));
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("is not a Jupyter notebook"), "{err}");
    assert!(!target.exists(), "nothing written on failure");
}
