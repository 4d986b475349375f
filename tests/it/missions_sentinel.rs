//! The Sentinel-1 and Sentinel-2 tutorials (S1 ships and LULC, S2 fires,
//! oil, plastic and snow) run as a student runs them, with `cleope run` on
//! the embedded default (the demo archive); the numbers they print are
//! checked against the archive's truth.json, and their figures must exist.
//!
//! Tolerances come from how the truth is recorded: the demo scenes record
//! what each pixel *is* (e.g. at least half burned), the tutorials measure
//! it from reflectance or backscatter with noise and mixed edge pixels, so
//! areas agree to about one pixel along the outlines, counts exactly.

use crate::common::tutorial::{Run, close, demo_truth, run_tutorial};
use serde_json::Value;

/// The demo archive's truth, with the Sentinel scenes.
fn truth() -> Value {
    demo_truth(&["s1_ships", "s2_snow"])
}

fn run(tutorial: &str) -> Run {
    run_tutorial(tutorial)
}

fn f64_at(value: &Value, key: &str) -> f64 {
    value[key]
        .as_f64()
        .unwrap_or_else(|| panic!("truth has no number {key} in {value}"))
}

/// The `lon E, lat N` pairs printed on the lines after `Ships on <date>:`.
fn ship_positions(out: &Run, date: &str) -> Vec<(f64, f64)> {
    let header = format!("Ships on {date}: ");
    out.stdout
        .lines()
        .skip_while(|l| !l.starts_with(&header))
        .skip(1)
        .take_while(|l| l.starts_with("  #"))
        .map(|l| {
            let numbers: Vec<f64> = l
                .split_whitespace()
                .filter_map(|w| w.trim_end_matches(',').parse().ok())
                .collect();
            (numbers[0], numbers[1])
        })
        .collect()
}

#[test]
fn s1_ships_counts_the_recorded_ships_on_each_date_in_sensing_order() {
    let truth = truth();
    let out = run("sentinel1/ships.rhai");
    let dates = truth["s1_ships"]["dates"].as_array().unwrap();
    assert_eq!(dates.len(), 4);
    let mut total = 0;
    let mut previous_position = 0;
    for row in dates {
        let date = row["date"].as_str().unwrap();
        let expected = row["ships"].as_u64().unwrap();
        let prefix = format!("Ships on {date}: ");
        assert_eq!(out.number(&prefix) as u64, expected, "ships on {date}");
        total += expected;
        // Sensing order: each date's line comes after the previous one.
        let position = out.stdout.find(&prefix).unwrap();
        assert!(position > previous_position, "{date} out of sensing order");
        previous_position = position;
        // Every detection lies within 0.001° (about 100 m) of a recorded
        // ship: the centroid of a blob grown by the maximum filters.
        let recorded: Vec<(f64, f64)> = row["positions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
            .collect();
        let printed = ship_positions(&out, date);
        assert_eq!(printed.len() as u64, expected, "{date}: one line per ship");
        for (lon, lat) in printed {
            assert!(
                recorded
                    .iter()
                    .any(|(x, y)| (x - lon).abs() < 0.001 && (y - lat).abs() < 0.001),
                "{date}: a ship printed at {lon}, {lat} is not a recorded one"
            );
        }
    }
    assert!(out.has(&format!("{total} ships in 4 images.")));
    // The reprocessed product would sort last by its TIFF DateTime tag.
    assert!(
        out.has("Sorted by processing time, the image sensed on 2020-08-18 would come last."),
        "{}",
        out.stdout
    );
    let mut figures = vec![
        "output/s1_ships_stack.png".to_string(),
        "output/s1_ships_steps.png".to_string(),
    ];
    for row in dates {
        figures.push(format!(
            "output/s1_ships_{}.png",
            row["date"].as_str().unwrap()
        ));
    }
    out.assert_pngs(
        &figures.iter().map(String::as_str).collect::<Vec<_>>(),
        10_000,
    );
}

#[test]
fn s1_lulc_finds_the_hospital_and_measures_its_area() {
    let truth = truth();
    let out = run("sentinel1/lulc.rhai");
    let lulc = &truth["s1_lulc"];
    // The site is about 346 x 311 m (1.3 km around): warping speckled
    // radar pixels through the GCPs onto a 10 m grid and a light blur
    // move the outline by up to a pixel, 10 m x 1.3 km = 0.013 km², 12 %.
    let expected = f64_at(lulc, "changed_area_km2");
    close(
        out.number("Changed area: "),
        expected,
        0.12 * expected,
        "changed area",
    );
    assert!(out.line("Changed area: ").ends_with("in 1 region(s)"));
    let centre = lulc["changed_centre"].as_array().unwrap();
    close(
        out.number("Centre of the change: "),
        centre[0].as_f64().unwrap(),
        0.0005,
        "centre longitude",
    );
    let line = out.line("Centre of the change: ");
    let lat: f64 = line
        .split(", ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .unwrap();
    close(lat, centre[1].as_f64().unwrap(), 0.0005, "centre latitude");
    for product in lulc["products"].as_array().unwrap() {
        assert!(out.has(product.as_str().unwrap()), "{product} listed");
    }
    out.assert_pngs(
        &[
            "output/s1_lulc_stack.png",
            "output/s1_lulc_rgb.png",
            "output/s1_lulc_change.png",
        ],
        10_000,
    );
}

#[test]
fn s2_fires_measures_nbr_and_the_growing_burned_area() {
    let truth = truth();
    let out = run("sentinel2/fires.rhai");
    let dates = truth["s2_fires"]["dates"].as_array().unwrap();
    assert_eq!(dates.len(), 3);
    for row in dates {
        let date = row["date"].as_str().unwrap();
        // The same formula over the same pixels: only the 4-digit rounding.
        close(
            out.number(&format!("Mean NBR on {date}: ")),
            f64_at(row, "mean_nbr"),
            2e-4,
            date,
        );
        // NBR < 0.1 against "at least half burned": they disagree only on
        // mixed pixels along the scar's edge (a 40 m feather), under 1 %
        // of the area.
        close(
            out.number(&format!("Burned on {date}: ")),
            f64_at(row, "burned_fraction"),
            0.01,
            date,
        );
        // The same in km²: 1 % of the 86 km² box.
        let line = out.line(&format!("Burned on {date}: "));
        let km2: f64 = line
            .split('(')
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("no km² in {line:?}"));
        close(km2, f64_at(row, "burned_area_km2"), 0.86, date);
    }
    // The scar of each date holds the one before, so what burned between
    // the first and the last date is the difference of their fractions.
    let grown = f64_at(&dates[2], "burned_fraction") - f64_at(&dates[0], "burned_fraction");
    close(
        out.number(&format!(
            "Burned between {} and {} (dNBR > 0.27): ",
            dates[0]["date"].as_str().unwrap(),
            dates[2]["date"].as_str().unwrap()
        )),
        grown,
        0.01,
        "dNBR",
    );
    out.assert_pngs(
        &[
            "output/s2_fires_true_colour.png",
            "output/s2_fires_swir.png",
            "output/s2_fires_nbr.png",
            "output/s2_fires_burned_area.png",
            "output/s2_fires_dnbr.png",
        ],
        10_000,
    );
}

#[test]
fn s2_oil_maps_the_slick_off_the_wakashio() {
    let truth = truth();
    let out = run("sentinel2/oil.rhai");
    let oil = &truth["s2_oil"];
    assert!(out.has(oil["product"].as_str().unwrap()), "{}", out.stdout);
    // Red/green > 0.62 against "at least half oil": the same 10 m pixels,
    // differing only on mixed pixels at the streaks' edges (the oil
    // density ramps over a narrow band), a few per cent of the area.
    let expected = f64_at(oil, "slick_area_km2");
    close(
        out.number("Oil slick area: "),
        expected,
        0.05 * expected,
        "slick area",
    );
    out.assert_pngs(
        &[
            "output/s2_oil_true_colour.png",
            "output/s2_oil_enhanced.png",
            "output/s2_oil_slick.png",
        ],
        10_000,
    );
}

#[test]
fn s2_plastic_finds_the_debris_windrows_with_the_fdi() {
    let truth = truth();
    let out = run("sentinel2/plastic.rhai");
    let plastic = &truth["s2_plastic"];
    close(
        out.number("The FDI's baseline factor: "),
        f64_at(&truth["s2_conventions"], "fdi_factor"),
        1e-5,
        "FDI factor",
    );
    let patches = plastic["patches"].as_u64().unwrap();
    assert_eq!(out.number("Debris patches: ") as u64, patches);
    // Each patch found is a recorded windrow: its centroid within 0.001°
    // (about 100 m, half a windrow's length) of a recorded centre.
    let centres: Vec<(f64, f64)> = plastic["patch_centres"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .collect();
    let printed: Vec<(f64, f64)> = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("  patch at "))
        .map(|l| {
            let numbers: Vec<f64> = l
                .split_whitespace()
                .filter_map(|w| w.trim_end_matches(',').parse().ok())
                .collect();
            (numbers[0], numbers[1])
        })
        .collect();
    assert_eq!(printed.len() as u64, patches);
    for (lon, lat) in &printed {
        assert!(
            centres
                .iter()
                .any(|(x, y)| (x - lon).abs() < 0.001 && (y - lat).abs() < 0.001),
            "a patch printed at {lon}, {lat} is not a recorded windrow"
        );
    }
    // FDI > 0.022 against "at least half covered": windrows are only one
    // or two 20 m pixels wide, so mixed edge pixels weigh; within 10 %.
    let expected = plastic["patch_pixels_20m"].as_f64().unwrap();
    close(
        out.number("Debris pixels (20 m): "),
        expected,
        0.1 * expected,
        "debris pixels",
    );
    out.assert_pngs(
        &[
            "output/s2_plastic_true_colour.png",
            "output/s2_plastic_ndwi.png",
            "output/s2_plastic_fdi_histogram.png",
            "output/s2_plastic_fdi.png",
        ],
        10_000,
    );
}

#[test]
fn s2_snow_measures_the_snow_fraction_with_the_ndsi() {
    let truth = truth();
    let out = run("sentinel2/snow.rhai");
    let snow = &truth["s2_snow"];
    // The same formula and threshold over the same 20 m pixels.
    close(
        out.number("NDSI > 0.4 on "),
        f64_at(snow, "snow_fraction_ndsi"),
        2e-4,
        "NDSI fraction",
    );
    // NDSI > 0.4 with the NIR test against "at least half snow": mixed
    // pixels along the patches' edges, within 0.005 of the area.
    close(
        out.number("Snow fraction (NDSI > 0.4 and B8A > 0.11): "),
        f64_at(snow, "snow_fraction"),
        0.005,
        "snow fraction",
    );
    assert!(
        out.number("The near-infrared test removed ") > 1.0,
        "the lakes are not snow"
    );
    out.assert_pngs(
        &[
            "output/s2_snow_true_colour.png",
            "output/s2_snow_swir.png",
            "output/s2_snow_ndsi.png",
            "output/s2_snow_map.png",
        ],
        10_000,
    );
}
