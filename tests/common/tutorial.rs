//! Tutorials run as a student runs them, with `cleope run` on a fresh
//! workspace and the embedded default archive (the demo archive), and
//! what they print, read back for comparison with the archive's truth.

use std::path::{Path, PathBuf};
use std::process::Command;

use cleope_demo::{default_dir as demo_archive_dir, ensure as ensure_demo_archive};
use serde_json::Value;

/// The demo archive's truth.json (the archive is generated first when
/// missing); `needs` are keys the current generator writes, to notice an
/// archive left by an older one.
pub fn demo_truth(needs: &[&str]) -> Value {
    let dir = demo_archive_dir();
    ensure_demo_archive(&dir).unwrap();
    let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    let truth: Value = serde_json::from_str(&text).unwrap();
    let missing: Vec<_> = needs.iter().filter(|k| truth.get(**k).is_none()).collect();
    assert!(
        missing.is_empty(),
        "the demo archive at {} has no {missing:?} (an older generator wrote it): delete it so it is generated again",
        dir.display()
    );
    truth
}

/// A script's standard output and error, and its workspace (kept for its
/// files).
pub struct Run {
    pub stdout: String,
    pub stderr: String,
    pub workspace: tempfile::TempDir,
}

/// Runs `tutorials/<relative>` (see [`run_script`]).
pub fn run_tutorial(relative: &str) -> Run {
    run_script(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tutorials")
            .join(relative),
    )
}

/// Runs `script` with `cleope run` on a fresh workspace, with the embedded
/// default archive and catalogue and no GDAL debugging (whatever the
/// environment says), and checks it succeeded.
pub fn run_script(script: &Path) -> Run {
    let workspace = tempfile::tempdir().unwrap();
    let out = Command::new(super::cleope_bin())
        .arg("run")
        .arg(script)
        .arg("--workspace")
        .arg(workspace.path())
        .env_remove("CLEOPE_ARCHIVE")
        .env_remove("CLEOPE_CATALOGUE")
        .env_remove("CPL_DEBUG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        out.status.success(),
        "{} failed:\n{stdout}\n{stderr}",
        script.display()
    );
    // Every figure a tutorial shows passes the layout rules (check_figure):
    // a figure that breaks one prints this warning.
    assert!(
        !stderr.contains("warning: figure"),
        "{}: a figure breaks the layout rules:\n{stderr}",
        script.display()
    );
    Run {
        stdout,
        stderr,
        workspace,
    }
}

impl Run {
    /// A file of the workspace.
    pub fn file(&self, relative: &str) -> PathBuf {
        self.workspace.path().join(relative)
    }

    /// The first line that starts with `prefix`.
    pub fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?}:\n{}", self.stdout))
    }

    /// The number after `prefix` on the line that starts with it: up to the
    /// next space or comma, without a unit stuck to it (`12.5%` is 12.5).
    pub fn number(&self, prefix: &str) -> f64 {
        let line = self.line(prefix);
        let token = line[prefix.len()..]
            .split(|c: char| c.is_whitespace() || c == ',')
            .next()
            .unwrap_or("");
        token
            .trim_end_matches(|c: char| !c.is_ascii_digit())
            .parse()
            .unwrap_or_else(|_| panic!("{line:?} has no number after {prefix:?}"))
    }

    pub fn has(&self, text: &str) -> bool {
        self.stdout.contains(text)
    }

    /// Each file is a PNG image of more than `least` bytes (a blank or
    /// empty plot compresses to a few kilobytes).
    pub fn assert_pngs(&self, relative: &[&str], least: usize) {
        for name in relative {
            let bytes = std::fs::read(self.file(name)).unwrap_or_default();
            assert!(
                bytes.starts_with(b"\x89PNG\r\n\x1a\n"),
                "{name} was not written or is not a PNG ({} bytes)",
                bytes.len()
            );
            assert!(
                bytes.len() > least,
                "{name} is nearly empty ({} bytes)",
                bytes.len()
            );
        }
    }
}

/// `printed` is within `tolerance` of `expected`.
pub fn close(printed: f64, expected: f64, tolerance: f64, what: &str) {
    assert!(
        (printed - expected).abs() <= tolerance,
        "{what}: printed {printed}, truth {expected} (tolerance {tolerance})"
    );
}
