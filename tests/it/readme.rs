//! The README's quick start and CI run the same test command.

const README: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md"));
const CI_RUN: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/.ci/run"));

/// The command lines of the README's quick-start block.
fn quick_start_commands() -> Vec<&'static str> {
    let start = README
        .find("## Quick start")
        .expect("README has a Quick start section");
    let section = &README[start..];
    let block = section
        .split("```sh")
        .nth(1)
        .expect("a ```sh block")
        .split("```")
        .next()
        .unwrap();
    block
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn the_quick_start_has_exactly_two_commands() {
    assert_eq!(
        quick_start_commands().len(),
        2,
        "{:?}",
        quick_start_commands()
    );
}

#[test]
fn ci_runs_the_readme_test_command() {
    let test_command = quick_start_commands()[1];
    assert!(
        CI_RUN.lines().any(|l| l.trim() == test_command),
        ".ci/run does not run the README's test command `{test_command}`"
    );
}
