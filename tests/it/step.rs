//! `cleope step FILE` driven through a pipe, as a scripted class demo would:
//! each line of input answers one prompt (Enter, s, c, r, q).

use crate::common;

use common::cleope_bin;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

const TUTORIAL: &str = "\
// %% [markdown]
// # Burned area
// Compare **before** and *after* with `nbr()`:
// - pre-fire image
// - post-fire image

// %% Load
let x = 1;
let y = x + 1;
print(`y is ${y}`);

// %% Scale
let z = y * 10;
print(`z is ${z}`);
z

// %% Last
print(\"last cell ran\");
";

struct Class {
    dir: tempfile::TempDir,
}

impl Class {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn tutorial(&self, text: &str) -> PathBuf {
        let path = self.dir.path().join("lesson.rhai");
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Runs `cleope step FILE ARGS` with `answers` piped in; fails the test
    /// if it does not finish within 10 seconds.
    fn step(&self, file: &Path, args: &[&str], answers: &str) -> Output {
        let mut child = Command::new(cleope_bin())
            .arg("step")
            .arg(file)
            .arg("--workspace")
            .arg(self.dir.path().join("workspace"))
            .args(args)
            .env("HOME", self.dir.path())
            .env("XDG_DATA_HOME", self.dir.path().join("data"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        child
            .stdin
            .take()
            .unwrap()
            .write_all(answers.as_bytes())
            .unwrap();
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || tx.send(child.wait_with_output()));
        match rx.recv_timeout(Duration::from_secs(10)) {
            Ok(output) => output.unwrap(),
            Err(_) => {
                let _ = Command::new("kill").arg(pid.to_string()).status();
                panic!("cleope step did not finish within 10 s");
            }
        }
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn enter_runs_a_cell_and_q_quits() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    let output = class.step(&file, &[], "\nq\n");
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.contains("── [2/4] Load ──"), "{out}");
    assert!(
        out.contains("    8 │ let x = 1;"),
        "the cell's code with file line numbers:\n{out}"
    );
    assert!(out.contains("y is 2"), "{out}");
    assert!(out.contains("── [3/4] Scale ──"), "{out}");
    assert!(
        !out.contains("z is 20"),
        "quit before running cell 3:\n{out}"
    );
}

#[test]
fn s_steps_statement_by_statement_and_c_runs_to_the_end() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    // Cell 2: step (s), then Enter at each of its three statements; cell 3: c.
    let output = class.step(&file, &[], "s\n\n\n\nc\n");
    let out = stdout(&output);
    let stops: Vec<&str> = out.lines().filter(|l| l.starts_with('→')).collect();
    assert_eq!(
        stops,
        [
            "→   8 │ let x = 1;",
            "→   9 │ let y = x + 1;",
            "→  10 │ print(`y is ${y}`);"
        ],
        "{out}"
    );
    // Nothing printed before its statement ran.
    let printed = out.find("y is 2").expect("cell 2 ran");
    assert!(printed > out.find("→  10").unwrap(), "{out}");
    assert!(out.contains("z is 20") && out.contains("=> 20"), "{out}");
    assert!(out.contains("last cell ran"), "c runs to the end:\n{out}");
    assert!(out.contains("── end of"), "{out}");
}

#[test]
fn s_stops_at_expression_statements_and_chains_with_the_caret_on_their_first_token() {
    let class = Class::new();
    let file = class.tutorial(
        "// %% Chains
let a = [3, 1, 2];
a.sort();
a.map(|x| x * 2)
    .filter(|x| x > 2)
    .len();
let b = 1; b += 1;
print(`b is ${b}`);
",
    );
    // s, then Enter at each stop (six of them), then the end.
    let output = class.step(&file, &[], "s\n\n\n\n\n\n\n");
    let out = stdout(&output);
    let stops: Vec<&str> = out.lines().filter(|l| l.starts_with('→')).collect();
    assert_eq!(
        stops,
        [
            "→   2 │ let a = [3, 1, 2];",
            "→   3 │ a.sort();",
            "→   4 │ a.map(|x| x * 2)",
            "→   7 │ let b = 1; b += 1;",
            "→   7 │ let b = 1; b += 1;",
            "→   8 │ print(`b is ${b}`);",
        ],
        "{out}"
    );
    // The second stop on line 7 points at `b += 1`, under its `b`.
    let lines: Vec<&str> = out.lines().collect();
    let second = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| l.starts_with("→   7"))
        .nth(1)
        .map(|(i, _)| i)
        .unwrap();
    let under = lines[second + 1].trim_end();
    assert_eq!(under, format!("      │ {}^", " ".repeat(11)), "{out}");
    assert!(out.contains("b is 2"), "{out}");
}

#[test]
fn q_while_stepping_stops_the_tutorial() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    let output = class.step(&file, &[], "s\n\nq\n");
    let out = stdout(&output);
    assert!(output.status.success(), "{}", stderr(&output));
    assert!(out.contains("→   9 │ let y = x + 1;"), "{out}");
    assert!(!out.contains("y is 2") && !out.contains("[3/4]"), "{out}");
    assert!(
        stderr(&output).is_empty(),
        "no error report: {}",
        stderr(&output)
    );
}

#[test]
fn markdown_cells_are_shown_as_formatted_text() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    let output = class.step(&file, &[], "q\n");
    let out = stdout(&output);
    assert!(out.contains("Burned area\n==========="), "{out}");
    assert!(
        out.contains("Compare before and after with nbr():"),
        "{out}"
    );
    assert!(
        out.contains("  • pre-fire image\n  • post-fire image"),
        "{out}"
    );
    assert!(
        !out.contains("// ") && !out.contains("**"),
        "no raw markup:\n{out}"
    );
}

#[test]
fn markdown_emphasis_and_code_continue_across_lines() {
    let class = Class::new();
    let file = class.tutorial(
        "// %% [markdown]
// The **Normalized
// Difference Snow Index** uses `s1::stack(p,
// \"VH\")` and *not
// much* more.
// - a **long
//   item**

// %% Code
let a = 1;
",
    );
    let output = class.step(&file, &[], "q\n");
    let out = stdout(&output);
    assert!(
        out.contains(
            "The Normalized\nDifference Snow Index uses s1::stack(p,\n\"VH\") and not\nmuch more.\n  • a long\n    item\n"
        ),
        "{out}"
    );
    assert!(
        !out.contains("**") && !out.contains('`'),
        "no raw markup:\n{out}"
    );
}

#[test]
fn r_opens_the_repl_on_the_tutorials_variables() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    // Run cell 2, open the REPL at cell 3, look at y, define w, come back, run cell 3.
    let output = class.step(&file, &[], "\nr\ny * 100\nlet w = 5;\n:quit\n\nq\n");
    let out = stdout(&output);
    assert!(
        out.contains("=> 200"),
        "the REPL sees the tutorial's variables:\n{out}"
    );
    assert!(out.contains("Back to"), "{out}");
    assert!(
        out.contains("z is 20"),
        "stepping goes on after the REPL:\n{out}"
    );
}

#[test]
fn an_error_is_shown_and_the_next_cell_still_waits() {
    let class = Class::new();
    let file =
        class.tutorial("// %% Oops\nlet a = missing + 1;\n// %% Next\nprint(\"next ran\");\n");
    let output = class.step(&file, &[], "c\nq\n");
    let err = stderr(&output);
    assert!(err.contains("error[VariableNotFound]"), "{err}");
    assert!(
        err.contains("--> ") && err.contains("lesson.rhai:2:9"),
        "{err}"
    );
    let out = stdout(&output);
    assert!(
        !out.lines().any(|l| l == "next ran"),
        "an error stops `c`:\n{out}"
    );
    assert_eq!(out.matches("[q] quit >").count(), 2, "cell 2 waits:\n{out}");
}

#[test]
fn cells_selects_part_of_the_tutorial_and_bad_ranges_are_usage_errors() {
    let class = Class::new();
    let file = class.tutorial(TUTORIAL);
    let output = class.step(&file, &["--cells", "4"], "\n");
    let out = stdout(&output);
    assert!(
        out.contains("last cell ran") && !out.contains("[2/4]"),
        "{out}"
    );

    let output = class.step(&file, &["--cells", "9"], "");
    assert_eq!(output.status.code(), Some(2));
    assert!(
        stderr(&output).contains("has 4 cells"),
        "{}",
        stderr(&output)
    );
}
