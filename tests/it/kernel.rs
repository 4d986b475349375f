//! The Jupyter kernel as Jupyter's own Python clients drive it: the
//! `jupyter_kernel_test` conformance suite, notebooks run by nbclient,
//! interrupts, input requests, forged signatures, transports, the
//! kernel's lifetime and a notebook run in JupyterLab in headless Chromium
//! (the Python files in tests/jupyter/), plus the command line
//! (`kernel install`, refused connection files).
//!
//! The Python clients live in a virtual environment under
//! `target/jupyter-venv`, created from tests/jupyter/requirements.txt on
//! first use (PyPI must be reachable then) and reused afterwards.

use crate::common;

use common::cleope_bin;
use common::venv::{jupyter_tests_dir, python, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The name the tests install the kernel under (not to clash with a real one).
const KERNEL_NAME: &str = "cleope-test";

/// A kernel installed in a temporary Jupyter folder, with its own workspace.
struct InstalledKernel {
    dir: tempfile::TempDir,
}

impl InstalledKernel {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let workspace = dir.path().join("workspace");
        let output = Command::new(cleope_bin())
            .args([
                "kernel",
                "install",
                "--name",
                KERNEL_NAME,
                "--time-limit",
                "60s",
            ])
            .arg("--prefix")
            .arg(dir.path())
            .arg("--workspace")
            .arg(&workspace)
            .output()
            .expect("run cleope kernel install");
        assert!(output.status.success(), "{}", text(&output));
        // The PNG the conformance suite shows with display_png.
        std::fs::create_dir_all(workspace.join("output")).unwrap();
        std::fs::write(
            workspace.join("output/dot.png"),
            cleope::kernel::install::logo_png(16),
        )
        .unwrap();
        Self { dir }
    }

    /// Runs one tests/jupyter/ module with unittest against this kernel.
    fn run_python(&self, module: &str) -> Output {
        let mut command = Command::new(python());
        command
            .args(["-m", "unittest", "-v", module])
            .current_dir(jupyter_tests_dir())
            .env("CLEOPE_KERNEL_NAME", KERNEL_NAME)
            .env("CLEOPE_BIN", cleope_bin())
            .env(
                "CLEOPE_TUTORIALS",
                Path::new(env!("CARGO_MANIFEST_DIR")).join("tutorials"),
            )
            .env("JUPYTER_PATH", self.dir.path().join("share/jupyter"))
            .env("JUPYTER_DATA_DIR", self.dir.path().join("data"))
            .env("JUPYTER_CONFIG_DIR", self.dir.path().join("config"))
            .env("JUPYTER_RUNTIME_DIR", self.dir.path().join("runtime"))
            .env("JUPYTER_PLATFORM_DIRS", "1")
            .env(
                "CLEOPE_KERNEL_HISTORY",
                self.dir.path().join("kernel-history.sqlite"),
            )
            .env("PYTHONDONTWRITEBYTECODE", "1");
        for variable in ["MEMORY", "CPUS", "DISK", "OPERATIONS", "ARCHIVE"] {
            command.env_remove(format!("CLEOPE_{variable}"));
        }
        run_with_deadline(&mut command, Duration::from_secs(240))
    }
}

/// Runs `command`, killing it if it outlives `limit` (a hung kernel must
/// fail the test, not the CI job).
fn run_with_deadline(command: &mut Command, limit: Duration) -> Output {
    let child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start python");
    let id = child.id();
    let started = Instant::now();
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(child.wait_with_output());
    });
    match finished.recv_timeout(limit) {
        Ok(output) => output.expect("wait for python"),
        Err(_) => {
            let _ = Command::new("kill").args(["-9", &id.to_string()]).status();
            let output = finished.recv().expect("the killed process ends");
            panic!(
                "the Python tests did not finish within {:?}:\n{}",
                started.elapsed(),
                text(&output.expect("output"))
            );
        }
    }
}

fn assert_python_passes(module: &str) -> Output {
    let kernel = InstalledKernel::new();
    let output = kernel.run_python(module);
    assert!(
        output.status.success(),
        "{module} failed:\n{}",
        text(&output)
    );
    output
}

#[test]
fn jupyter_kernel_test_conformance_suite_passes() {
    let output = assert_python_passes("test_conformance");
    let log = String::from_utf8_lossy(&output.stderr);
    for test in [
        "test_kernel_info",
        "test_execute_stdout",
        "test_execute_stderr",
        "test_completion",
        "test_is_complete",
        "test_error",
        "test_execute_result",
        "test_display_data",
        "test_history",
        "test_inspect",
        "test_clear_output",
    ] {
        assert!(
            log.contains(&format!("{test} ")),
            "{test} did not run:\n{log}"
        );
    }
    assert!(
        !log.contains("skipped 'No"),
        "an attribute is missing:\n{log}"
    );
}

/// Whether unittest's verbose log reports `test` as passed. The verdict
/// ("... ok") need not end the test's own line: a docstring or a kernel's
/// stderr written meanwhile can come between the name and the verdict.
fn test_passed(log: &str, test: &str) -> bool {
    log.match_indices(test).any(|(start, _)| {
        let report = &log[start + test.len()..];
        let next_test = report.find("\ntest_").unwrap_or(report.len());
        let report = &report[..next_test];
        report.contains("... ok") || (report.contains(" ... ") && report.lines().any(|l| l == "ok"))
    })
}

#[test]
fn notebooks_run_through_nbclient_keep_state_between_cells() {
    let output = assert_python_passes("test_notebook");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        test_passed(&log, "test_every_tutorial_runs_as_a_notebook"),
        "the tutorials did not run as notebooks:\n{log}"
    );
}

#[test]
fn an_interrupt_stops_a_long_loop_and_keeps_the_variables() {
    assert_python_passes("test_interrupt");
}

#[test]
fn input_and_input_password_ask_the_notebook_through_stdin() {
    assert_python_passes("test_stdin");
}

#[test]
fn messages_with_a_bad_signature_are_dropped_and_logged() {
    let output = assert_python_passes("test_signature");
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.matches("dropped a shell message: its signature does not match")
            .count()
            >= 2,
        "{log}"
    );
}

#[test]
fn a_restarted_kernel_answers_history_requests_about_the_previous_session() {
    assert_python_passes("test_history");
}

#[test]
fn every_iopub_subscriber_is_welcomed() {
    assert_python_passes("test_welcome");
}

/// The resource meter: `usage_request` answered during a busy cell with the
/// session's quota use, and passed on by jupyter-resource-usage's server
/// extension (JupyterLab's "Kernel usage" panel).
#[test]
fn usage_requests_report_the_quotas_during_a_cell_and_through_jupyter_resource_usage() {
    assert_python_passes("test_usage");
}

/// The whole stack a student meets: `cleope notebook` makes the notebook,
/// JupyterLab serves it, headless Chromium (Debian's, installed by
/// scripts/setup.sh) runs all its cells, and the map shows as an image;
/// the page is saved as `target/jupyterlab-screenshot.png`.
#[test]
fn a_notebook_runs_in_jupyterlab_in_headless_chromium_and_shows_its_figure() {
    assert_python_passes("test_jupyterlab");
}

/// Widgets over comms, driven as JupyterLab's widget manager drives them:
/// models opened with their layout and style, `comm_info`, the control
/// comm's `request_states`, front-end updates reaching `observe`, button
/// clicks, callback errors and time limits, `interact`.
#[test]
fn widgets_speak_the_ipywidgets_protocol_over_comms() {
    assert_python_passes("test_widgets");
}

/// A slider rendered by jupyterlab-widgets in JupyterLab in headless
/// Chromium, moved with the keyboard; the next cell sees its new value
/// (screenshot: `target/jupyterlab-widgets.png`).
#[test]
fn a_slider_renders_in_jupyterlab_and_the_next_cell_sees_it_moved() {
    assert_python_passes("test_widgets_jupyterlab");
}

/// Rhai highlighting: `jupyter labextension list` finds the extension
/// `kernel install` wrote beside the kernelspec, and a Rhai cell in
/// JupyterLab in headless Chromium shows keywords, strings, numbers,
/// comments and the `// %%` marker in distinct classes
/// (`target/jupyterlab-highlighting.png`).
#[test]
fn jupyterlab_finds_the_installed_extension_and_highlights_rhai() {
    assert_python_passes("test_highlighting");
}

/// A map over comms, driven as the widget manager and jupyter-leaflet drive
/// it: the map's models opened children first, shown as a widget view, a
/// `draw:created` rectangle becoming `m.drawn_aoi()`, `on_draw` callbacks,
/// a drawn line refused with the session intact.
#[test]
fn maps_speak_jupyter_leaflet_over_comms() {
    assert_python_passes("test_maps");
}

/// A map rendered by jupyter-leaflet 0.20 in JupyterLab in headless
/// Chromium (land, area, footprints as SVG paths); a rectangle drawn with
/// the mouse reaches the next cell (screenshot: `target/jupyterlab-map.png`).
#[test]
fn a_map_renders_in_jupyterlab_and_a_drawn_rectangle_reaches_the_session() {
    assert_python_passes("test_maps_jupyterlab");
}

#[test]
fn the_kernel_listens_where_told_over_tcp_or_ipc_and_stops_with_jupyter() {
    assert_python_passes("test_transport");
}

fn connection_file(dir: &Path, scheme: &str) -> PathBuf {
    let path = dir.join("kernel-1.json");
    let json = serde_json::json!({
        "ip": "127.0.0.1", "transport": "tcp", "shell_port": 0, "iopub_port": 0,
        "stdin_port": 0, "control_port": 0, "hb_port": 0, "key": "secret",
        "signature_scheme": scheme, "kernel_name": KERNEL_NAME
    });
    std::fs::write(&path, json.to_string()).unwrap();
    path
}

#[test]
fn a_connection_file_with_another_signature_scheme_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(cleope_bin())
        .args(["kernel", "-f"])
        .arg(connection_file(dir.path(), "hmac-sha1"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("\"hmac-sha1\"") && stderr.contains("hmac-sha256"),
        "{stderr}"
    );
}

#[test]
fn kernel_install_writes_the_spec_logos_and_quota_environment() {
    let dir = tempfile::tempdir().unwrap();
    let output = Command::new(cleope_bin())
        .args([
            "kernel",
            "install",
            "--memory",
            "1GiB",
            "--time-limit",
            "2m",
        ])
        .arg("--prefix")
        .arg(dir.path())
        .env_remove("CLEOPE_CPUS")
        .env_remove("CLEOPE_DISK")
        .env_remove("CLEOPE_OPERATIONS")
        .env_remove("CLEOPE_WORKSPACE")
        .env_remove("CLEOPE_ARCHIVE")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let folder = dir.path().join("share/jupyter/kernels/rhai");
    let spec: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(folder.join("kernel.json")).unwrap())
            .unwrap();
    let program = Path::new(cleope_bin()).canonicalize().unwrap();
    assert_eq!(spec["argv"][0], program.display().to_string());
    assert_eq!(spec["argv"][3], "{connection_file}");
    assert_eq!(spec["display_name"], "Rhai (cleope)");
    assert_eq!(spec["interrupt_mode"], "message");
    assert_eq!(
        spec["env"],
        serde_json::json!({"CLEOPE_MEMORY": "1GiB", "CLEOPE_TIME_LIMIT": "2m"})
    );
    assert!(folder.join("logo-32x32.png").is_file() && folder.join("logo-64x64.png").is_file());
    let extension = dir
        .path()
        .join("share/jupyter/labextensions/@cleope/jupyterlab-rhai");
    assert!(extension.join("package.json").is_file());
    assert!(
        String::from_utf8_lossy(&output.stdout).contains(&extension.display().to_string()),
        "{}",
        text(&output)
    );

    let refused = Command::new(cleope_bin())
        .args(["kernel", "install", "--user", "--sys-prefix"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2), "one location at a time");
}

/// The kernel starts without GDAL (see src/lazy_gdal.rs) and loads it with
/// the first raster cell, quietly.
#[test]
fn the_kernel_runs_inside_the_walls_and_keeps_its_folder_closed() {
    assert_python_passes("test_sandbox");
}

#[test]
fn gdal_is_loaded_by_the_first_cell_that_needs_it() {
    assert_python_passes("test_gdal_on_demand");
}
