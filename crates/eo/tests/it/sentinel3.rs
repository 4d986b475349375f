//! cleope_eo::products::sentinel3 on archives written by the demo generator.

use std::sync::Arc;

use cleope_demo::sentinel3::{OGVI_MASKED, TSM_MASKED};
use cleope_eo::products::sentinel3::*;
use cleope_eo::raster::Bounds;
use cleope_eo::raster::compute::Compute;
use cleope_eo::swath::GridRequest;
use cleope_eo::swath::Gridding;
use cleope_sandbox::MemoryBudget;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The demo archive (generated when missing) and its truth.
fn archive() -> &'static (PathBuf, Value) {
    static ARCHIVE: OnceLock<(PathBuf, Value)> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = cleope_demo::default_dir();
        cleope_demo::ensure(&dir).unwrap();
        let text = std::fs::read_to_string(dir.join("truth.json")).unwrap();
        (dir.clone(), serde_json::from_str(&text).unwrap())
    })
}

fn truth() -> &'static Value {
    &archive().1
}

/// The demo product called `stem`, with its netCDF files.
fn product(stem: &str) -> Sen3 {
    let root = &archive().0;
    let folder = walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy() == format!("{stem}.SEN3"))
        .unwrap_or_else(|| panic!("no {stem}.SEN3 in the demo archive"))
        .into_path();
    let files = std::fs::read_dir(&folder)
        .unwrap()
        .map(|e| e.unwrap().path().display().to_string())
        .filter(|p| p.ends_with(".nc"))
        .collect();
    Sen3::new(stem, files).unwrap()
}

fn stem(topic: &str, key: &str, index: usize) -> String {
    truth()[topic][key][index].as_str().unwrap().to_string()
}

fn budget() -> Arc<MemoryBudget> {
    MemoryBudget::with_usage(1 << 30, || 0)
}

fn bounds(value: &Value) -> Bounds {
    let b: Vec<f64> = value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    (b[0], b[1], b[2], b[3])
}

fn names(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

#[test]
fn names_give_type_family_and_date() {
    let p = Sen3::new(
        "S3A_OL_2_WFR____20200206T094119_20200206T094419_20200208T002019_0179_054_265_2160_MAR_O_NT_002.SEN3",
        vec![],
    )
    .unwrap();
    assert_eq!(p.product_type, "OL_2_WFR___");
    assert_eq!(p.family(), Family::OlciWater);
    assert_eq!(p.date(), "2020-02-06");
    assert!(Sen3::new("S2A_MSIL2A_20200101", vec![]).is_err());
}

#[test]
fn tsm_is_masked_delogged_and_matches_the_truth() {
    let olci = &truth()["s3_olci"];
    // The default mask is the one the truth used.
    let mut default = default_mask(Family::OlciWater, "TSM_NN");
    default.sort();
    let mut recorded = names(&TSM_MASKED);
    recorded.sort();
    assert_eq!(default, recorded);
    for (i, day) in ["2020-02-06", "2020-04-11"].iter().enumerate() {
        let p = product(&stem("s3_olci", "wfr", i));
        let options = OlciOptions {
            bounds: Some(bounds(&olci["po_delta"])),
            ..Default::default()
        };
        let tsm = olci_swath(&p, "TSM_NN", &options, &budget()).unwrap();
        assert_eq!(tsm.unit, "g.m-3");
        let (count, _, _, mean) = tsm.summary();
        let expected = &olci["tsm_po_delta_gm3"][day];
        assert_eq!(count as u64, expected["pixels"].as_u64().unwrap(), "{day}");
        assert!(
            (mean - expected["mean"].as_f64().unwrap()).abs() < 1e-3,
            "{day}: {mean}"
        );
    }
}

#[test]
fn log10_values_can_be_kept_and_masks_switched_off() {
    let p = product(&stem("s3_olci", "wfr", 0));
    let raw = OlciOptions {
        mask: Some(vec![]),
        keep_log10: true,
        bounds: None,
    };
    let stored = olci_swath(&p, "tsm_nn", &raw, &budget()).unwrap();
    assert!(stored.unit.starts_with("lg("));
    let masked = olci_swath(&p, "TSM_NN", &OlciOptions::default(), &budget()).unwrap();
    assert!(stored.valid_points() > masked.valid_points());
    assert!(stored.summary().2 < 3.5, "log10 values stay small");
}

#[test]
fn ogvi_uses_the_land_flags_and_matches_the_truth() {
    let olci = &truth()["s3_olci"];
    let mut default = default_mask(Family::OlciLand, "OGVI");
    default.sort();
    let mut recorded = names(&OGVI_MASKED);
    recorded.sort();
    assert_eq!(default, recorded);
    let p = product(&stem("s3_olci", "lfr", 1));
    let options = OlciOptions {
        bounds: Some(bounds(&olci["po_valley"])),
        ..Default::default()
    };
    let ogvi = olci_swath(&p, "OGVI", &options, &budget()).unwrap();
    let (count, _, _, mean) = ogvi.summary();
    let expected = &olci["ogvi_po_valley"]["2020-04-23"];
    assert_eq!(count as u64, expected["pixels"].as_u64().unwrap());
    assert!((mean - expected["mean"].as_f64().unwrap()).abs() < 1e-3);
    assert!(olci_flags(&p).unwrap().contains(&"OGVI_FAIL".to_string()));
}

#[test]
fn errors_name_what_is_available() {
    let wfr = product(&stem("s3_olci", "wfr", 0));
    let wrong_family = olci_swath(&wfr, "OGVI", &OlciOptions::default(), &budget());
    assert!(wrong_family.unwrap_err().to_string().contains("land"));
    let S3Error::Invalid { hint, .. } =
        olci_swath(&wfr, "NOPE", &OlciOptions::default(), &budget()).unwrap_err()
    else {
        panic!("not an Invalid error")
    };
    assert!(hint.contains("TSM_NN") && hint.contains("WQSF"), "{hint}");
    let bad_flag = OlciOptions {
        mask: Some(vec!["CLOUDY".into()]),
        ..Default::default()
    };
    let S3Error::Invalid { hint, .. } =
        olci_swath(&wfr, "TSM_NN", &bad_flag, &budget()).unwrap_err()
    else {
        panic!("not an Invalid error")
    };
    assert!(hint.contains("CLOUD_AMBIGUOUS"));
    let rbt = product(&stem("s3_slstr_fire", "reference_products", 0));
    assert!(
        olci_swath(&rbt, "TSM_NN", &OlciOptions::default(), &budget())
            .unwrap_err()
            .to_string()
            .contains("SL_1_RBT")
    );
}

#[test]
fn lst_in_celsius_matches_the_truth() {
    let lst = &truth()["s3_lst"];
    let p = product(lst["product"].as_str().unwrap());
    let options = SlstrOptions {
        bounds: Some(bounds(&lst["extent"])),
        celsius: true,
    };
    let swath = slstr_swath(&p, "LST", &options, &budget()).unwrap();
    let (count, _, max, mean) = swath.summary();
    assert_eq!(count as u64, lst["pixels"].as_u64().unwrap());
    assert!((max - lst["max_lst_c"].as_f64().unwrap()).abs() < 0.01);
    assert!((mean - lst["mean_lst_c"].as_f64().unwrap()).abs() < 0.01);
}

#[test]
fn fire_anomalies_follow_the_truth() {
    let fire = &truth()["s3_slstr_fire"];
    let list = |key: &str| -> Vec<Sen3> {
        fire[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| product(s.as_str().unwrap()))
            .collect()
    };
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let budget = budget();
    let cancel = cleope_sandbox::Cancel::default();
    cancel.start_run(std::time::Duration::from_secs(120));
    let compute = Compute {
        pool: &pool,
        budget: &budget,
        cancel: &cancel,
    };
    let request = GridRequest {
        bounds: bounds(&fire["box"]),
        resolution: 0.005,
        method: Gridding::NaturalNeighbour,
        max_distance: 0.03,
    };
    let maps = anomalies(
        &list("reference_products"),
        &list("event_products"),
        S9_NADIR,
        &request,
        &compute,
    )
    .unwrap();
    let reference = compute.stats(&maps.reference).unwrap();
    assert!((reference.mean - fire["reference_mean_k"].as_f64().unwrap()).abs() < 0.3);
    let threshold = fire["threshold_k"].as_f64().unwrap();
    for (date, map) in maps
        .differences
        .dates()
        .iter()
        .zip(maps.differences.layers())
    {
        let spots = hotspots(map, threshold, &compute).unwrap();
        let max = fire["max_anomaly_k"][date].as_f64().unwrap();
        let area = fire["burning_area_km2"][date].as_f64().unwrap();
        assert!(
            (spots.max - max).abs() < 1.5,
            "{date}: max {} vs {max}",
            spots.max
        );
        assert!(
            (spots.area_km2 - area).abs() < 0.25 * area + 8.0,
            "{date}: {} km² vs {area}",
            spots.area_km2
        );
    }
}

fn folder_of(stem: &str) -> String {
    let p = product(stem);
    p.files()[0].rsplit_once('/').unwrap().0.to_string()
}

fn with_compute<T>(work: impl FnOnce(&Compute) -> T) -> T {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(2)
        .build()
        .unwrap();
    let budget = budget();
    let cancel = cleope_sandbox::Cancel::default();
    cancel.start_run(std::time::Duration::from_secs(120));
    work(&Compute {
        pool: &pool,
        budget: &budget,
        cancel: &cancel,
    })
}

#[test]
fn open_finds_the_files_from_the_folder_the_zip_folder_or_a_file() {
    let sen3 = folder_of(lst_stem());
    let zip_folder = sen3.rsplit_once('/').unwrap().0.to_string();
    for path in [sen3.clone(), zip_folder, format!("{sen3}/LST_in.nc")] {
        let p = Sen3::open(&path).unwrap();
        assert_eq!(p.name, lst_stem(), "{path}");
        assert_eq!(p.family(), Family::SlstrLst);
        assert!(p.files().iter().any(|f| f.ends_with("geodetic_in.nc")));
    }
    // The zip as downloaded: members read in place through /vsizip/.
    let zip = archive()
        .0
        .join(".packed")
        .join(format!("{}.zip", lst_stem()));
    let zipped = Sen3::open(&zip.display().to_string()).unwrap();
    assert!(zipped.files().iter().all(|f| f.starts_with("/vsizip/")));
    let options = SlstrOptions {
        bounds: Some(bounds(&truth()["s3_lst"]["extent"])),
        celsius: true,
    };
    let lst = slstr_swath(&zipped, "LST", &options, &budget()).unwrap();
    assert_eq!(
        lst.summary().0 as u64,
        truth()["s3_lst"]["pixels"].as_u64().unwrap()
    );
    let missing = Sen3::open("/nonexistent/S3A_OL_2_WFR____20200206T094119.SEN3");
    assert!(missing.is_err());
}

fn lst_stem() -> &'static str {
    truth()["s3_lst"]["product"].as_str().unwrap()
}

#[test]
fn olci_stacks_are_dated_in_sensing_order_on_one_grid() {
    let olci = &truth()["s3_olci"];
    // Given newest first, stacked oldest first.
    let products = vec![
        product(&stem("s3_olci", "wfr", 1)),
        product(&stem("s3_olci", "wfr", 0)),
    ];
    let request = GridRequest {
        bounds: bounds(&olci["po_delta"]),
        resolution: 0.02,
        method: Gridding::Nearest,
        max_distance: 0.03,
    };
    let stack = with_compute(|c| {
        olci_stack(&products, "TSM_NN", &OlciOptions::default(), &request, c).unwrap()
    });
    assert_eq!(stack.dates(), ["2020-02-06", "2020-04-11"]);
    let means: Vec<f64> = with_compute(|c| {
        stack
            .layers()
            .iter()
            .map(|l| c.stats(l).unwrap().mean)
            .collect()
    });
    assert_eq!(stack.layers()[0].grid().width, 30);
    // Nearest-pixel cells average close to the pixels' own mean, and
    // the plume shrinks from February to April as the truth says.
    for (mean, day) in means.iter().zip(["2020-02-06", "2020-04-11"]) {
        let expected = olci["tsm_po_delta_gm3"][day]["mean"].as_f64().unwrap();
        assert!(
            (mean - expected).abs() < 0.15 * expected,
            "{day}: {mean} vs {expected}"
        );
    }
    assert!(means[1] < means[0]);
}

#[test]
fn krakatoa_plume_is_a_cold_spot_as_the_truth_says() {
    let k = &truth()["s3_slstr_krakatoa"];
    let p = product(k["product"].as_str().unwrap());
    let request = GridRequest {
        bounds: bounds(&k["box"]),
        resolution: 0.0025,
        method: Gridding::NaturalNeighbour,
        max_distance: 0.015,
    };
    let threshold = k["plume_threshold_k"].as_f64().unwrap();
    let plume = with_compute(|c| {
        let bt = slstr_grid_of(&p, S9_NADIR, &request, c).unwrap();
        cold_spots(&bt, threshold, c).unwrap()
    });
    let area = k["plume_area_km2"].as_f64().unwrap();
    assert!(
        (plume.area_km2 - area).abs() < 0.03 * area,
        "{} vs {area}",
        plume.area_km2
    );
    let coldest = k["min_bt_k"].as_f64().unwrap();
    assert!(
        (plume.max - coldest).abs() < 1.0,
        "{} vs {coldest}",
        plume.max
    );
    // The coldest cell is near the vent, the plume's source.
    let vent = &k["vent"];
    assert!((plume.at.0 - vent[0].as_f64().unwrap()).abs() < 0.1);
    assert!((plume.at.1 - vent[1].as_f64().unwrap()).abs() < 0.1);
}

/// A subset from a service, or a folder a student renamed: the files still
/// say which product they belong to (ESA's global `product_name`).
#[test]
fn a_renamed_product_is_known_by_its_files() {
    let original = product(&stem("s3_olci", "wfr", 0));
    let dir = tempfile::tempdir().unwrap();
    let renamed = dir.path().join("my_olci_subset");
    std::fs::create_dir_all(&renamed).unwrap();
    for file in original.files() {
        let name = file.rsplit('/').next().unwrap();
        std::fs::copy(file, renamed.join(name)).unwrap();
    }
    let opened = Sen3::open(renamed.to_str().unwrap()).unwrap();
    assert_eq!(opened.family(), original.family());
    assert_eq!(opened.date(), original.date());
    // Files that are not Sentinel-3's: the error says what was expected.
    let other = dir.path().join("not_s3");
    std::fs::create_dir_all(&other).unwrap();
    let foreign = original
        .files()
        .iter()
        .find(|f| f.ends_with("geo_coordinates.nc"))
        .unwrap();
    let bytes = std::fs::read(foreign).unwrap();
    std::fs::write(other.join("data.nc"), &bytes[..bytes.len().min(64)]).unwrap();
    let error = Sen3::open(other.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        error.contains("is not a Sentinel-3 product name"),
        "{error}"
    );
}
