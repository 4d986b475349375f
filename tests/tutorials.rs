//! Every tutorial runs end to end with `cleope run` under the default quota
//! and prints its key results.

mod common;

use common::cleope_bin;
use std::path::Path;
use std::process::Command;

fn run_tutorial(relative: &str) -> String {
    let workspace = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tutorials")
        .join(relative);
    let out = Command::new(cleope_bin())
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(workspace.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{relative} failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn welcome_runs_and_shows_files_and_quota() {
    let out = run_tutorial("welcome.rhai");
    assert!(
        out.contains("The oldest mission here is Sentinel-1, launched in 2014."),
        "{out}"
    );
    assert!(
        out.contains("output/missions.csv has 4 rows; Sentinel-2 revisits every 5 days."),
        "{out}"
    );
    assert!(
        out.contains("The error was MemoryQuotaExceeded, and the missions are still here: 4."),
        "{out}"
    );
}
