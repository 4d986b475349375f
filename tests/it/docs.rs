//! The API reference cannot drift: every registered function has a doc and
//! a runnable example, every example runs, and docs/api.md is current.

use crate::common;

use cleope::docs::{ModuleDoc, collect, render_markdown};
use common::{SCRIPT_STACK, TestSession, on_script_thread};
use std::collections::BTreeSet;
use std::time::Duration;

#[test]
fn every_function_has_a_doc_and_an_example() {
    let mut missing = Vec::new();
    for module in collect() {
        for function in &module.functions {
            if function.text.is_empty() {
                missing.push(format!(
                    "{}: {} has no doc",
                    module.name, function.signature
                ));
            }
            if function.examples.is_empty() {
                missing.push(format!(
                    "{}: {} has no ```rhai example",
                    module.name, function.signature
                ));
            }
        }
    }
    assert!(missing.is_empty(), "undocumented:\n{}", missing.join("\n"));
}

/// Runs every example, each module's on a thread of its own with one
/// session (reset between examples, so each starts with no variables).
#[test]
fn every_example_runs() {
    let modules = collect();
    let count: usize = modules
        .iter()
        .flat_map(|m| &m.functions)
        .map(|f| f.examples.len())
        .sum();
    assert!(count >= 20, "only {count} examples found");
    // A bound against a hang, not a speed target: on a loaded machine the
    // examples took more than 120 s one after another.
    let failures = on_script_thread(Duration::from_secs(600), move || {
        std::thread::scope(|scope| {
            let runs: Vec<_> = modules
                .iter()
                .map(|module| {
                    std::thread::Builder::new()
                        .name(format!("examples of {}", module.name))
                        .stack_size(SCRIPT_STACK)
                        .spawn_scoped(scope, || failing_examples(module))
                        .expect("spawn")
                })
                .collect();
            runs.into_iter()
                .flat_map(|run| run.join().expect("an example thread panicked"))
                .collect::<Vec<_>>()
        })
    });
    assert!(
        failures.is_empty(),
        "failing examples:\n{}",
        failures.join("\n")
    );
}

/// `module`'s examples that fail, each as its function, code and error.
fn failing_examples(module: &ModuleDoc) -> Vec<String> {
    let mut t = TestSession::new(|_| {});
    let mut failures = Vec::new();
    for function in &module.functions {
        for code in &function.examples {
            t.session.reset();
            if let Err(e) = t.exec(code) {
                failures.push(format!(
                    "{}: {}:\n{code}\n{e}",
                    module.name, function.signature
                ));
            }
        }
    }
    failures
}

#[test]
fn the_reference_lists_every_registered_function() {
    let documented: BTreeSet<String> = collect()
        .iter()
        .flat_map(|m| {
            m.functions
                .iter()
                .map(|f| f.name.trim_start_matches('.').to_string())
        })
        .collect();
    let t = TestSession::new(|_| {});
    let registered: BTreeSet<String> = t
        .session
        .engine()
        .gen_fn_signatures(false)
        .iter()
        .map(|s| {
            s.split('(')
                .next()
                .unwrap()
                .trim_start_matches("get$")
                .to_string()
        })
        .filter(|name| !name.starts_with("anon$"))
        .collect();
    let undocumented: Vec<_> = registered.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "registered but not in the reference: {undocumented:?}"
    );
}

#[test]
fn docs_api_md_is_current() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/docs/api.md");
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == render_markdown(&collect()),
        "docs/api.md is out of date: run `cargo run -- docs` and commit it"
    );
}
