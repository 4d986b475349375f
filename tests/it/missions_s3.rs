//! The Sentinel-3 tutorials (OLCI, SLSTR fire, LST) run as a student runs
//! them, with `cleope run` on the embedded default (the demo archive), and
//! the numbers they print are checked against the archive's truth.json;
//! their figures must exist and be real images. The Krakatoa plume
//! numbers the lead's tutorial needs are computed through the same API.

use crate::common::tutorial::{self, Run, close, demo_truth};
use serde_json::Value;
use std::path::Path;

/// The demo archive's truth, with the Sentinel-3 products.
fn truth() -> Value {
    demo_truth(&["s3_olci", "s3_lst"])
}

/// Runs `script`, which must not leak HDF5 diagnostics.
fn run_script(script: &Path) -> Run {
    let out = tutorial::run_script(script);
    assert!(
        !out.stderr.contains("HDF5-DIAG"),
        "HDF5 diagnostics leaked:\n{}",
        out.stderr
    );
    out
}

fn run(tutorial: &str) -> Run {
    run_script(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tutorials/sentinel3")
            .join(tutorial),
    )
}

/// The pixel count in parentheses on the line that starts with `prefix`.
fn pixels(out: &Run, prefix: &str) -> u64 {
    let line = out.line(prefix);
    let inside = line.rsplit('(').next().unwrap_or("");
    inside
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("{line:?} has no pixel count"))
}

fn f(value: &Value) -> f64 {
    value
        .as_f64()
        .unwrap_or_else(|| panic!("{value} is not a number"))
}

#[test]
fn olci_masks_delogs_and_finds_the_plume_shrinking_in_the_lockdown() {
    let truth = truth();
    let olci = &truth["s3_olci"];
    let out = run("olci.rhai");
    // The means average the product's own pixels inside each box: the same
    // pixels as the truth (flags as recorded in tsm_masked_flags), so they
    // agree to the 4 printed decimals and the counts exactly.
    for (area, key) in [
        ("the Po delta", "tsm_po_delta_gm3"),
        ("Venice", "tsm_venice_gm3"),
        ("northern Italy", "tsm_north_italy_gm3"),
    ] {
        for day in ["2020-02-06", "2020-04-11"] {
            let prefix = format!("TSM over {area} on {day}: ");
            let expected = &olci[key][day];
            close(out.number(&prefix), f(&expected["mean"]), 1.5e-4, &prefix);
            assert_eq!(
                pixels(&out, &prefix),
                expected["pixels"].as_u64().unwrap(),
                "{prefix}"
            );
        }
    }
    let before = f(&olci["tsm_po_delta_gm3"]["2020-02-06"]["mean"]);
    let during = f(&olci["tsm_po_delta_gm3"]["2020-04-11"]["mean"]);
    let change = 100.0 * (during - before) / before;
    close(
        out.number("Change over the Po delta: "),
        change,
        0.06,
        "TSM change",
    );
    for (index, key) in [("OGVI", "ogvi_po_valley"), ("OTCI", "otci_po_valley")] {
        for day in ["2020-04-09", "2020-04-23"] {
            let prefix = format!("{index} over the Po valley on {day}: ");
            let expected = &olci[key][day];
            close(out.number(&prefix), f(&expected["mean"]), 1.5e-4, &prefix);
            assert_eq!(
                pixels(&out, &prefix),
                expected["pixels"].as_u64().unwrap(),
                "{prefix}"
            );
        }
    }
    // CLEOPE's way (no flags, log10 as stored) keeps more pixels, and the
    // geometric mean its log values give is below the arithmetic mean of
    // the de-logged values; ours is the truth's whole-scene mean.
    let raw_pixels = out.number("Unmasked, stored as log10: ");
    let clean_pixels = out.number("Masked and de-logged: ");
    let whole = &olci["tsm_north_italy_gm3"]["2020-02-06"];
    assert_eq!(clean_pixels as u64, whole["pixels"].as_u64().unwrap());
    assert!(raw_pixels > clean_pixels, "the mask removes pixels");
    let after = |line_start: &str, marker: &str| -> f64 {
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(line_start))
            .unwrap();
        let rest = line.split(marker).nth(1).unwrap();
        rest.split_whitespace().next().unwrap().parse().unwrap()
    };
    let geometric = after("Unmasked, stored as log10: ", "(= ");
    let arithmetic = after("Masked and de-logged: ", "mean ");
    close(arithmetic, f(&whole["mean"]), 0.006, "whole-scene mean");
    assert!(geometric < arithmetic, "{geometric} vs {arithmetic}");
    out.assert_pngs(
        &[
            "output/olci_tsm_north_italy.png",
            "output/olci_chl_adriatic.png",
            "output/olci_ogvi_north_italy.png",
        ],
        15_000,
    );
}

#[test]
fn slstr_fire_anomalies_follow_the_burning_front() {
    let truth = truth();
    let fire = &truth["s3_slstr_fire"];
    let out = run("slstr_fire.rhai");
    // The truth comes from the noise-free scenes; the tutorial grids noisy
    // 1 km pixels (sigma 0.12 K a night) by natural-neighbour interpolation
    // onto the same 0.005° grid, so the reference mean agrees to a few
    // hundredths, the largest anomaly (a maximum over ~11 000 cells picks
    // up noise) to 1.5 K, and the area above 5 K to 10 % + 2 km² (cells at
    // the fire's edge cross the threshold either way).
    close(
        out.number("Reference (median of the nights before the fires): mean "),
        f(&fire["reference_mean_k"]),
        0.1,
        "reference mean",
    );
    let areas = fire["burning_area_km2"].as_object().unwrap();
    for (day, area) in areas {
        let prefix = format!("Burning area on {day}: ");
        let expected = f(area).abs();
        close(out.number(&prefix), expected, 0.1 * expected + 2.0, &prefix);
        let line = out.stdout.lines().find(|l| l.starts_with(&prefix)).unwrap();
        let max: f64 = line
            .split("largest anomaly ")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .and_then(|n| n.parse().ok())
            .unwrap();
        close(
            max,
            f(&fire["max_anomaly_k"][day]),
            1.5,
            &format!("max anomaly {day}"),
        );
    }
    let (peak_day, _) = areas
        .iter()
        .max_by(|a, b| f(a.1).total_cmp(&f(b.1)))
        .unwrap();
    assert!(
        out.stdout
            .contains(&format!("The fire was largest on {peak_day}")),
        "{}",
        out.stdout
    );
    // The demo generator writes each detector's uncertainty between 0.05
    // and 0.07 K (crates/demo/src/sentinel3.rs, chernobyl): their mean too.
    let nights = fire["reference_products"].as_array().unwrap().len()
        + fire["event_products"].as_array().unwrap().len();
    let uncertainties: Vec<f64> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("S9 radiometric uncertainty on "))
        .map(|l| {
            l.rsplit(": ")
                .next()
                .unwrap()
                .trim_end_matches(" K")
                .parse()
                .unwrap()
        })
        .collect();
    assert_eq!(uncertainties.len(), nights);
    assert!(
        uncertainties.iter().all(|u| (0.05..=0.07).contains(u)),
        "{uncertainties:?}"
    );
    out.assert_pngs(
        &[
            "output/slstr_bt_before.png",
            "output/slstr_bt_histogram.png",
            "output/slstr_reference.png",
            "output/slstr_anomalies.png",
            "output/slstr_burning_area.png",
        ],
        15_000,
    );
}

#[test]
fn lst_maps_the_heat_wave_in_celsius() {
    let truth = truth();
    let lst = &truth["s3_lst"];
    let out = run("lst.rhai");
    // The same stored pixels as the truth, converted the same way.
    assert_eq!(
        out.number("Clear land pixels: ") as u64,
        lst["pixels"].as_u64().unwrap()
    );
    close(
        out.number("Maximum LST: "),
        f(&lst["max_lst_c"]),
        0.006,
        "max LST",
    );
    close(
        out.number("Mean LST: "),
        f(&lst["mean_lst_c"]),
        0.006,
        "mean LST",
    );
    out.assert_pngs(
        &["output/lst_siberia.png", "output/lst_histogram.png"],
        15_000,
    );
}

#[test]
fn krakatoa_plume_top_and_area_through_the_api() {
    let truth = truth();
    let k = &truth["s3_slstr_krakatoa"];
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("krakatoa.rhai");
    std::fs::write(
        &script,
        format!(
            r#"let p = ens_find(#{{ mission: "Sentinel-3", product_type: "SL_1_RBT___", from: "2020-04-12", to: "2020-04-12" }})[0];
let bt = s3_bt_grid(p, [105.0, -6.2, 105.5, -5.8], #{{ resolution: 0.0025 }});
let plume = s3_cold_spots(bt, {threshold:.1});
print(`Plume top: ${{plume.min}} K`);
print(`Plume area: ${{plume.area_km2}} km2`);
let pixels = s3_slstr(p, "S9_BT_in", #{{ aoi: [105.0, -6.2, 105.5, -5.8] }}).stats();
print(`Coldest pixel: ${{pixels.min}} K`);
"#,
            threshold = f(&k["plume_threshold_k"])
        ),
    )
    .unwrap();
    let out = run_script(&script);
    // The product's own coldest pixel is the stored value exactly; the
    // gridded minimum lies between it and the noise-free field's minimum
    // (interpolation smooths the plume's cold core), so within 1 K of the
    // latter; the plume area (cells below 290 K) within 3 %.
    close(
        out.number("Coldest pixel: "),
        f(&k["min_pixel_bt_k"]),
        0.006,
        "coldest pixel",
    );
    close(
        out.number("Plume top: "),
        f(&k["min_bt_k"]),
        1.0,
        "plume top",
    );
    let area = f(&k["plume_area_km2"]);
    close(out.number("Plume area: "), area, 0.03 * area, "plume area");
}
