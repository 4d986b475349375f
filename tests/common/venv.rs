//! The Python virtual environments the tests drive cleope with, each
//! built from a pinned requirements file on first use (PyPI must be
//! reachable then) and reused while the requirements stay the same:
//! `target/jupyter-venv` (Jupyter's clients, pystac-client, from
//! tests/jupyter/requirements.txt), `target/hub-venv` (JupyterHub, from
//! tests/hub/requirements.txt) and `target/openeo-venv` (the openEO
//! executor, from tests/openeo/requirements.txt, installed `--no-deps`).

use super::cleope_bin;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// tests/jupyter/: the requirements and the Python test files.
pub fn jupyter_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/jupyter")
}

/// `target/`, found from the binary under test (`target/debug/cleope`).
pub fn target_dir() -> PathBuf {
    Path::new(cleope_bin())
        .ancestors()
        .nth(2)
        .expect("the binary lives in target/<profile>/")
        .to_path_buf()
}

/// tests/hub/: the hub's requirements, configuration and class driver.
pub fn hub_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/hub")
}

/// The Jupyter clients' venv's Python, creating the venv once per test
/// process.
pub fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ready(PYTHON.get_or_init(|| {
        prepare_venv(
            &jupyter_tests_dir().join("requirements.txt"),
            "jupyter-venv",
            &[],
        )
    }))
}

/// The hub's venv's Python (JupyterHub, its idle culler, the single-user
/// server), creating the venv once per test process.
pub fn hub_python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    ready(
        PYTHON.get_or_init(|| {
            prepare_venv(&hub_tests_dir().join("requirements.txt"), "hub-venv", &[])
        }),
    )
}

fn ready(prepared: &Result<PathBuf, String>) -> &Path {
    match prepared {
        Ok(python) => python,
        Err(message) => panic!("cannot prepare the Python test environment:\n{message}"),
    }
}

/// The Python of `target/<name>`, a venv built from `requirements` with
/// pip's `extra` arguments (e.g. `--no-deps` for a fully pinned closure).
/// Reused while the requirements stay the same; otherwise a new one is
/// built beside it and renamed into place, so concurrent test processes
/// never see a half-built venv.
pub fn prepare_venv(requirements: &Path, name: &str, extra: &[&str]) -> Result<PathBuf, String> {
    let wanted = std::fs::read_to_string(requirements).map_err(|e| e.to_string())?;
    let venv = target_dir().join(name);
    let stamp = |venv: &Path| venv.join("cleope-requirements.txt");
    let python = |venv: &Path| venv.join("bin").join("python");
    if std::fs::read_to_string(stamp(&venv)).ok().as_ref() == Some(&wanted) {
        return Ok(python(&venv));
    }
    let building = target_dir().join(format!("{name}.building-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&building);
    run_checked(Command::new("python3").arg("-m").arg("venv").arg(&building))?;
    run_checked(
        Command::new(python(&building))
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
            ])
            .args(extra)
            .arg("-r")
            .arg(requirements),
    )?;
    std::fs::write(stamp(&building), &wanted).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(&venv);
    if std::fs::rename(&building, &venv).is_err() {
        // Another test process finished first: use its venv.
        let _ = std::fs::remove_dir_all(&building);
    }
    Ok(python(&venv))
}

pub fn run_checked(command: &mut Command) -> Result<(), String> {
    let output = command
        .output()
        .map_err(|e| format!("cannot run {command:?}: {e}"))?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("{command:?} failed:\n{}", text(&output)))
    }
}

pub fn text(output: &Output) -> String {
    format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}
