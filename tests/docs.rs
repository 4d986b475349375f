//! The API reference cannot drift: every registered function has a doc and
//! a runnable example, every example runs, and docs/api.md is current.

mod common;

use cleope::docs::{collect, render_markdown};
use common::{TestSession, on_script_thread};
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

#[test]
fn every_example_runs() {
    let examples: Vec<(String, String)> = collect()
        .into_iter()
        .flat_map(|m| {
            m.functions.into_iter().flat_map(|f| {
                f.examples
                    .into_iter()
                    .map(move |e| (f.signature.clone(), e))
            })
        })
        .collect();
    assert!(
        examples.len() >= 20,
        "only {} examples found",
        examples.len()
    );
    // A bound against a hang, not a speed target: the examples take about
    // 50 s on 2 quiet cores, and more than 120 s on a loaded machine.
    let failures = on_script_thread(Duration::from_secs(600), move || {
        examples
            .into_iter()
            .filter_map(|(signature, code)| {
                let mut t = TestSession::new(|_| {});
                t.exec(&code)
                    .err()
                    .map(|e| format!("{signature}:\n{code}\n{e}"))
            })
            .collect::<Vec<_>>()
    });
    assert!(
        failures.is_empty(),
        "failing examples:\n{}",
        failures.join("\n")
    );
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
