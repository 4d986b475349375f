//! The Sentinel-5P tutorials (Australia, Italy, Krakatoa) run as a student
//! runs them, with `cleope run` on the embedded default (the demo archive);
//! the numbers they print are checked against the archive's truth.json,
//! their figures must exist, and nothing but their output reaches the
//! terminal (no GDAL warnings, no HDF5 diagnostics).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use cleope::eo::ens::{demo_archive_dir, ensure_demo_archive};
use serde_json::Value;

/// The demo archive's truth (generated first when missing).
fn truth() -> Value {
    let dir = demo_archive_dir();
    ensure_demo_archive(&dir).unwrap();
    let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
    let truth: Value = serde_json::from_str(&text).unwrap();
    assert!(
        truth.get("s5p_italy").is_some(),
        "the demo archive at {} predates the Sentinel-5P products: delete it so it is generated again",
        dir.display()
    );
    truth
}

/// A tutorial's standard output and its workspace (kept for its files).
struct Run {
    stdout: String,
    workspace: tempfile::TempDir,
}

impl Run {
    fn file(&self, relative: &str) -> PathBuf {
        self.workspace.path().join(relative)
    }

    fn assert_figures(&self, relative: &[&str]) {
        for name in relative {
            let size = std::fs::metadata(self.file(name))
                .map(|m| m.len())
                .unwrap_or(0);
            assert!(size > 10_000, "{name} was not written ({size} bytes)");
        }
    }

    /// The line starting with `prefix`.
    fn line(&self, prefix: &str) -> &str {
        self.stdout
            .lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no line starts with {prefix:?}:\n{}", self.stdout))
    }

    /// The number right after `prefix` (up to the next space or comma).
    fn number(&self, prefix: &str) -> f64 {
        let line = self.line(prefix);
        let token = line[prefix.len()..].split([' ', ',']).next().unwrap_or("");
        token
            .parse()
            .unwrap_or_else(|_| panic!("{line:?} has no number after {prefix:?}"))
    }
}

fn run(tutorial: &str) -> Run {
    let workspace = tempfile::tempdir().unwrap();
    let script = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tutorials/sentinel5p")
        .join(tutorial);
    let out = Command::new(common::cleope_bin())
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(workspace.path())
        .env_remove("CLEOPE_ARCHIVE")
        .env_remove("CLEOPE_CATALOGUE")
        .env_remove("CPL_DEBUG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "{tutorial} failed:\n{stdout}\n{stderr}"
    );
    assert!(
        stderr.trim().is_empty(),
        "{tutorial} printed to stderr:\n{}",
        &stderr[..stderr.len().min(2000)]
    );
    Run { stdout, workspace }
}

fn close(printed: f64, expected: f64, relative: f64, what: &str) {
    assert!(
        (printed - expected).abs() <= relative * expected.abs(),
        "{what}: printed {printed}, truth {expected}"
    );
}

#[test]
fn italy_shows_the_po_valley_no2_falling_in_the_lockdown() {
    let truth = &truth()["s5p_italy"];
    let out = run("italy.rhai");
    // Printed with three decimals: 5e-4 µmol/m² of a 50-95 µmol/m² mean.
    for (key, area) in [
        ("no2_po_valley_umol_m2", "the Po valley"),
        ("no2_italy_umol_m2", "northern Italy"),
    ] {
        let dates = truth[key].as_object().unwrap();
        assert_eq!(dates.len(), 5);
        for (date, expected) in dates {
            let prefix = format!("NO2 over {area} on {date}: ");
            close(
                out.number(&prefix),
                expected["mean"].as_f64().unwrap(),
                1e-4,
                &prefix,
            );
            let pixels = format!("({} pixels)", expected["pixels"]);
            assert!(
                out.line(&prefix).ends_with(&pixels),
                "{}",
                out.line(&prefix)
            );
        }
    }
    let valley = truth["no2_po_valley_umol_m2"].as_object().unwrap();
    let first = valley["2020-02-01"]["mean"].as_f64().unwrap();
    let last = valley["2020-03-11"]["mean"].as_f64().unwrap();
    let change = (last / first - 1.0) * 100.0;
    let printed = out.number("From 2020-02-01 to 2020-03-11 the Po valley's NO2 changed by ");
    assert!((printed - change).abs() <= 0.05, "{printed} vs {change}");
    assert!(change < -40.0, "the lockdown shows: {change} %");
    out.assert_figures(&["output/s5p_no2_italy.png", "output/s5p_no2_po_valley.png"]);
}

#[test]
fn australia_finds_the_bushfire_smoke_over_the_tasman_sea() {
    let truth = &truth()["s5p_australia"];
    let out = run("australia.rhai");
    let mean = &truth["mean_co_molec_cm2"];
    assert_eq!(
        out.number("Pixels kept over the box: "),
        mean["pixels"].as_f64().unwrap()
    );
    // The columns are float32: sums of 47,789 of them agree to 1e-6.
    close(
        out.number("Mean CO column over the box: "),
        mean["mean"].as_f64().unwrap(),
        1e-6,
        "mean CO",
    );
    let peak = &truth["peak_co_molec_cm2"];
    close(
        out.number("Peak CO column: "),
        peak["value"].as_f64().unwrap(),
        1e-6,
        "peak CO",
    );
    let at = out.line("Peak CO column: ");
    let lon = peak["lon"].as_f64().unwrap();
    let lat = peak["lat"].as_f64().unwrap();
    assert!(
        at.contains(&format!("at {lon:.2} E, {:.2} S", -lat)),
        "{at} vs {lon} {lat}"
    );
    out.assert_figures(&["output/s5p_co_australia.png"]);
}

#[test]
fn krakatoa_follows_the_eruption_with_three_sentinels() {
    let truth = truth();
    let out = run("krakatoa.rhai");
    // SO2: the peak column of each orbit (printed to 4 decimals) and where.
    for (date, peak) in truth["s5p_krakatoa"]["so2_peak_mmol_m2"]
        .as_object()
        .unwrap()
    {
        let prefix = format!("SO2 peak on {date}: ");
        close(
            out.number(&prefix),
            peak["value"].as_f64().unwrap(),
            1e-4,
            &prefix,
        );
        let place = format!(
            "at {} E, {} S",
            peak["lon"].as_f64().unwrap(),
            -peak["lat"].as_f64().unwrap()
        );
        assert!(
            out.line(&prefix).ends_with(&place),
            "{} vs {place}",
            out.line(&prefix)
        );
    }
    // SLSTR: the coldest stored pixel exactly; the gridded plume top within
    // 1 K of the noise-free field's minimum (interpolation smooths the cold
    // core) and its area within 3 %.
    let slstr = &truth["s3_slstr_krakatoa"];
    close(
        out.number("Coldest SLSTR pixel: "),
        slstr["min_pixel_bt_k"].as_f64().unwrap(),
        1e-4,
        "coldest pixel",
    );
    let top = out.number("Plume top: ");
    let expected_top = slstr["min_bt_k"].as_f64().unwrap();
    assert!(
        (top - expected_top).abs() <= 1.0,
        "plume top {top} vs {expected_top}"
    );
    close(
        out.number("Plume area below 290 K: "),
        slstr["plume_area_km2"].as_f64().unwrap(),
        0.03,
        "plume area",
    );
    let product = truth["s2_krakatoa"]["product"].as_str().unwrap();
    assert!(
        out.line("Sentinel-2: ").contains(product),
        "{}",
        out.line("Sentinel-2: ")
    );
    out.assert_figures(&[
        "output/krakatoa_so2.png",
        "output/krakatoa_slstr_bt.png",
        "output/krakatoa_s2_true_colour.png",
    ]);
}
