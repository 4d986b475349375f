//! A class on a real JupyterHub (tests/hub/): JupyterHub from PyPI with
//! configurable-http-proxy from npm and the simple local-process spawner on
//! loopback, cleope's kernel installed into the hub's environment with
//! fixed quotas, and N students (default 12, `CLEOPE_HUB_STUDENTS`) running
//! the welcome tutorial as a notebook at the same time through the hub's
//! REST API, their servers' kernel API and the websocket channels. One
//! more student crosses the memory quota and carries on; one more leaves
//! a server idle for the culler. The figures (peak RSS per kernel, wall
//! time) are printed for docs/hub.md.
//!
//! The hub's venv (`target/hub-venv`, tests/hub/requirements.txt) and the
//! proxy (`target/hub-node`, tests/hub/package-lock.json) are installed on
//! first use (PyPI and npm must be reachable then) and reused.

use crate::common;

use common::cleope_bin;
use common::venv::{hub_python, hub_tests_dir, run_checked, target_dir, text};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The kernelspec's name in the hub's environment.
const KERNEL_NAME: &str = "cleope-hub-test";

/// Every student's memory quota, fixed in the kernelspec.
const MEMORY_QUOTA_MIB: u64 = 512;

#[test]
fn a_class_runs_the_welcome_tutorial_on_a_real_hub() {
    let dir = tempfile::tempdir().expect("temp dir");
    let report = run_class(dir.path());
    print_figures(&report);
    let students = report["students"].as_u64().unwrap();
    assert!(students >= 1, "{report:#}");

    let runs = report["runs"].as_array().unwrap();
    assert_eq!(runs.len() as u64, students);
    assert_eq!(report["failures"], serde_json::json!([]), "{report:#}");
    let cells = report["cells"].as_u64().unwrap();
    for run in runs {
        assert_eq!(run["cells_run"].as_u64(), Some(cells), "{run:#}");
        // The last cell opens the demo archive's Sentinel-2 tile and shows it.
        let last = run["last_output"].as_str().unwrap();
        assert!(
            last.contains("Opened tile") && last.contains("from the archive"),
            "{run:#}"
        );
        assert!(
            run["images"].as_u64().unwrap() >= 2,
            "the map and the composite: {run:#}"
        );
        let rss_kib = run["peak_rss_kib"]
            .as_u64()
            .expect("the kernel's peak RSS was read");
        assert!(
            rss_kib > 1024 && rss_kib < (MEMORY_QUOTA_MIB + 64) * 1024,
            "{run:#}"
        );
        assert!(
            run["kernel_culled_after_seconds"].is_number(),
            "the idle kernel was culled: {run:#}"
        );
    }

    let quota = &report["quota_student"];
    assert_eq!(quota["crossing_status"], "error", "{quota:#}");
    assert_eq!(quota["ename"], "MemoryQuotaExceeded", "{quota:#}");
    assert!(
        quota["evalue"].as_str().unwrap().contains("memory quota"),
        "{quota:#}"
    );
    assert!(
        quota["traceback"].as_str().unwrap().contains("hint"),
        "{quota:#}"
    );
    assert_eq!(
        quota["next_status"], "ok",
        "the kernel runs the next cell: {quota:#}"
    );
    assert_eq!(
        quota["next_output"].as_str().unwrap().trim(),
        "42",
        "{quota:#}"
    );
    assert_eq!(quota["kernel_alive"], true, "{quota:#}");
    let quota_rss_mib = quota["peak_rss_kib"].as_u64().unwrap() / 1024;
    assert!(
        quota_rss_mib < MEMORY_QUOTA_MIB + 64,
        "held within the quota: {quota:#}"
    );

    let idle = &report["idle_server"];
    assert_eq!(
        idle["culled"], true,
        "the idle culler stopped the idle server: {idle:#}"
    );
}

/// Installs what the hub needs, runs tests/hub/class_run.py and returns its
/// report.
fn run_class(dir: &Path) -> Value {
    let python = hub_python();
    let proxy = configurable_http_proxy();
    let archive = cleope_demo::default_dir();
    cleope_demo::ensure(&archive).expect("the demo archive is written");
    install_kernel(python);
    let notebook = dir.join("welcome.ipynb");
    run_checked(
        Command::new(cleope_bin())
            .arg("notebook")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tutorials/welcome.rhai"))
            .arg("-o")
            .arg(&notebook),
    )
    .unwrap();
    let report = dir.join("report.json");
    let output = Command::new(python)
        .arg(hub_tests_dir().join("class_run.py"))
        .arg("--notebook")
        .arg(&notebook)
        .args(["--kernel", KERNEL_NAME])
        .arg("--proxy")
        .arg(&proxy)
        .arg("--state")
        .arg(dir.join("hub"))
        .arg("--report")
        .arg(&report)
        .env("CLEOPE_DEMO_ARCHIVE", &archive)
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .output()
        .expect("run class_run.py");
    assert!(output.status.success(), "{}", text(&output));
    let report = std::fs::read_to_string(&report).expect("the report");
    serde_json::from_str(&report).expect("the report is JSON")
}

/// `cleope kernel install --prefix <hub venv>` with the class's quotas:
/// the single-user servers find kernels in their Python's prefix.
fn install_kernel(python: &Path) {
    let prefix = python.ancestors().nth(2).expect("venv/bin/python");
    run_checked(
        Command::new(cleope_bin())
            .args(["kernel", "install", "--name", KERNEL_NAME])
            .args(["--display-name", "Rhai (cleope, hub test)"])
            .args(["--memory", &format!("{MEMORY_QUOTA_MIB}MiB")])
            .args(["--cpus", "1", "--time-limit", "120s", "--disk", "1GB"])
            .arg("--prefix")
            .arg(prefix),
    )
    .unwrap();
}

/// configurable-http-proxy from npm, installed with `npm ci` from
/// tests/hub/package-lock.json into `target/hub-node` (reused while the
/// lock file stays the same).
fn configurable_http_proxy() -> PathBuf {
    let lock = std::fs::read_to_string(hub_tests_dir().join("package-lock.json")).unwrap();
    let folder = target_dir().join("hub-node");
    let program = folder.join("node_modules/.bin/configurable-http-proxy");
    let stamp = folder.join("cleope-package-lock.json");
    if std::fs::read_to_string(&stamp).ok().as_ref() == Some(&lock) && program.exists() {
        return program;
    }
    std::fs::create_dir_all(&folder).unwrap();
    for file in ["package.json", "package-lock.json"] {
        std::fs::copy(hub_tests_dir().join(file), folder.join(file)).unwrap();
    }
    run_checked(
        Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund", "--loglevel=error"])
            .current_dir(&folder),
    )
    .unwrap();
    std::fs::write(&stamp, &lock).unwrap();
    program
}

/// The figures docs/hub.md quotes, on the test's output (`--nocapture`).
fn print_figures(report: &Value) {
    let idle = &report["idle_server"];
    println!(
        "hub: {} students x {} cells, wall {} s (hub start {} s), spawn {}, \
         peak RSS per kernel MiB {}, failures {}, quota student peak {} MiB, \
         kernel culled after ~{} s, idle server culled after {} s",
        report["students"],
        report["cells"],
        report["wall_seconds"],
        report["hub_start_seconds"],
        report["spawn_seconds"],
        report["peak_rss_mib"],
        report["failures"].as_array().map_or(0, Vec::len),
        report["quota_student"]["peak_rss_kib"]
            .as_u64()
            .unwrap_or(0)
            / 1024,
        report["runs"][0]["kernel_culled_after_seconds"],
        idle["culled_after_seconds"],
    );
}
