//! The Sentinel-5P tutorials (Australia, Italy, Krakatoa) run as a student
//! runs them, with `cleope run` on the embedded default (the demo archive);
//! the numbers they print are checked against the archive's truth.json,
//! their figures must exist, and nothing but their output reaches the
//! terminal (no GDAL warnings, no HDF5 diagnostics).

use crate::common::tutorial::{Run, demo_truth, run_tutorial};
use serde_json::Value;

/// The demo archive's truth, with the Sentinel-5P products.
fn truth() -> Value {
    demo_truth(&["s5p_italy"])
}

/// Runs `tutorials/sentinel5p/<tutorial>`, which must print nothing to
/// standard error.
fn run(tutorial: &str) -> Run {
    let out = run_tutorial(&format!("sentinel5p/{tutorial}"));
    assert!(
        out.stderr.trim().is_empty(),
        "{tutorial} printed to stderr:\n{}",
        &out.stderr[..out.stderr.len().min(2000)]
    );
    out
}

/// `printed` is within `relative` (a fraction) of `expected`.
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
    out.assert_pngs(
        &["output/s5p_no2_italy.png", "output/s5p_no2_po_valley.png"],
        10_000,
    );
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
    out.assert_pngs(&["output/s5p_co_australia.png"], 10_000);
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
    out.assert_pngs(
        &[
            "output/krakatoa_so2.png",
            "output/krakatoa_slstr_bt.png",
            "output/krakatoa_s2_true_colour.png",
        ],
        10_000,
    );
}
