//! cleope_eo::products::sentinel5p on the demo archive.

use std::sync::Arc;

use cleope_eo::products::sentinel5p::*;
use cleope_eo::raster::Bounds;
use cleope_eo::swath::Swath;
use cleope_sandbox::MemoryBudget;
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

/// The demo archive the tests share (generated on first use).
fn archive() -> &'static (PathBuf, Value) {
    static ARCHIVE: OnceLock<(PathBuf, Value)> = OnceLock::new();
    ARCHIVE.get_or_init(|| {
        let dir = cleope_demo::default_dir();
        cleope_demo::ensure(&dir).expect("demo archive");
        let truth = std::fs::read_to_string(dir.join("truth.json")).expect("truth.json");
        (dir, serde_json::from_str(&truth).expect("truth is JSON"))
    })
}

fn product(name: &str) -> L2 {
    let (dir, _) = archive();
    let found = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy() == format!("{name}.zip"))
        .unwrap_or_else(|| panic!("{name} is not in the demo archive"));
    L2::open(&found.path().display().to_string()).expect("opens")
}

fn truth(topic: &str) -> &'static Value {
    &archive().1[topic]
}

fn bounds(value: &Value) -> Bounds {
    let b: Vec<f64> = serde_json::from_value(value.clone()).unwrap();
    (b[0], b[1], b[2], b[3])
}

fn budget() -> Arc<MemoryBudget> {
    MemoryBudget::with_usage(1 << 30, || 0)
}

#[test]
fn species_come_from_names_and_keys() {
    let name =
        "S5P_OFFL_L2__NO2____20200201T111959_20200201T130129_11933_01_010302_20200203T022022";
    assert_eq!(Species::of_product(name), Some(Species::No2));
    assert_eq!(Species::named("so2"), Some(Species::So2));
    assert_eq!(Species::named("methane_mixing_ratio"), Some(Species::Ch4));
    assert_eq!(Species::of_product("S2A_MSIL2A_20200412T030549"), None);
}

#[test]
fn a_product_describes_itself() {
    let name = truth("s5p_krakatoa")["products"][0].as_str().unwrap();
    let l2 = product(name);
    assert_eq!(l2.species, Species::So2);
    assert_eq!(l2.unit, "mol m-2");
    assert_eq!(l2.date(), "2020-04-12");
    assert_eq!(l2.orbit, Some(12937));
    assert!(
        l2.factors
            .iter()
            .any(|(k, f)| k == "molecules_percm2" && (*f - 6.02214e19).abs() < 1e14)
    );
}

#[test]
fn po_valley_no2_means_match_the_truth() {
    let italy = truth("s5p_italy");
    let request = ReadRequest {
        bounds: Some(bounds(&italy["po_valley"])),
        qa: Some(0.75),
        unit: Unit::named("umol/m2").unwrap(),
    };
    for name in italy["products"].as_array().unwrap() {
        let l2 = product(name.as_str().unwrap());
        let swath = l2.read(&request, &budget()).unwrap();
        let (mean, count) = area_mean(&swath, true);
        let expected = &italy["no2_po_valley_umol_m2"][l2.date()];
        assert_eq!(
            count as u64,
            expected["pixels"].as_u64().unwrap(),
            "{}",
            l2.date()
        );
        let truth = expected["mean"].as_f64().unwrap();
        assert!((mean - truth).abs() < 1e-3 * truth, "{mean} vs {truth}");
        assert_eq!(swath.unit, "µmol m-2");
    }
}

#[test]
fn co_is_converted_with_the_products_factor() {
    let australia = truth("s5p_australia");
    let request = ReadRequest {
        bounds: Some(bounds(&australia["bounds"])),
        qa: None,
        unit: Unit::named("molecules/cm2").unwrap(),
    };
    let swaths: Vec<Swath> = australia["products"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            product(n.as_str().unwrap())
                .read(&request, &budget())
                .unwrap()
        })
        .collect();
    let both = Swath::mosaic(&swaths, &budget()).unwrap();
    let (count, _, max, mean) = both.summary();
    let expected = &australia["mean_co_molec_cm2"];
    assert_eq!(count as u64, expected["pixels"].as_u64().unwrap());
    let truth_mean = expected["mean"].as_f64().unwrap();
    assert!((mean - truth_mean).abs() < 1e-4 * truth_mean);
    let peak = australia["peak_co_molec_cm2"]["value"].as_f64().unwrap();
    assert!((max - peak).abs() < 1e-5 * peak, "{max} vs {peak}");
}

#[test]
fn impossible_conversions_and_units_say_what_to_do() {
    let name = truth("s5p_krakatoa")["products"][0].as_str().unwrap();
    let mut l2 = product(name);
    l2.factors.clear();
    let request = ReadRequest {
        bounds: None,
        qa: None,
        unit: Unit::named("molecules/cm2").unwrap(),
    };
    match l2.read(&request, &budget()) {
        Err(S5pError::Product { message, hint }) => {
            assert!(
                message.contains("cannot be converted to molecules cm-2"),
                "{message}"
            );
            assert!(hint.contains("native"), "{hint}");
        }
        other => panic!("expected a product error, got {other:?}"),
    }
    assert!(Unit::named("ppm").is_err());
}

#[test]
fn a_folder_without_netcdf_is_refused_clearly() {
    let empty = tempfile::tempdir().unwrap();
    match L2::open(&empty.path().display().to_string()) {
        Err(S5pError::Product { message, .. }) => {
            assert!(message.contains("*.nc"), "{message}")
        }
        other => panic!("expected a product error, got {other:?}"),
    }
}

/// The `.nc` of a demo product copied out of its zip under `new_name`, as a
/// subsetting service or a download tool leaves it (groups kept, name lost).
fn renamed_copy(l2: &L2, dir: &std::path::Path, new_name: &str) -> String {
    let target = dir.join(new_name);
    match l2.file.strip_prefix("/vsizip/") {
        Some(inside) => {
            let (zip_path, member) = inside.split_once(".zip/").unwrap();
            let archive = std::fs::File::open(format!("{zip_path}.zip")).unwrap();
            let mut archive = zip::ZipArchive::new(archive).unwrap();
            let mut file = archive.by_name(member).unwrap();
            std::io::copy(&mut file, &mut std::fs::File::create(&target).unwrap()).unwrap();
        }
        None => {
            std::fs::copy(&l2.file, &target).unwrap();
        }
    }
    target.display().to_string()
}

#[test]
fn a_renamed_product_file_is_recognised_by_its_product_group() {
    let name = truth("s5p_krakatoa")["products"][0].as_str().unwrap();
    let original = product(name);
    let dir = tempfile::tempdir().unwrap();
    let renamed = L2::open(&renamed_copy(&original, dir.path(), "subset_krakatoa.nc")).unwrap();
    assert_eq!(renamed.species, Species::So2);
    assert_eq!(
        renamed.date(),
        original.date(),
        "the date from the file's attributes"
    );
    let request = ReadRequest {
        bounds: None,
        qa: Some(0.0),
        unit: Unit::Native,
    };
    let (a, b) = (
        area_mean(&original.read(&request, &budget()).unwrap(), false),
        area_mean(&renamed.read(&request, &budget()).unwrap(), false),
    );
    assert_eq!(a, b, "the same retrievals");
}

#[test]
fn a_file_without_a_product_group_is_refused_with_what_it_holds() {
    use cleope_eo::netcdf::{Attr, NcWriter};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("not_s5p.nc");
    let nc = NcWriter::create(&path).unwrap();
    {
        let root = nc.root();
        let x = root.dimension("x", 2).unwrap();
        let y = root.dimension("y", 2).unwrap();
        root.write(
            "albedo",
            &[&y, &x],
            &[0.1f32; 4],
            &[Attr::str("units", "1")],
        )
        .unwrap();
        root.write("cloud", &[&y, &x], &[0.1f32; 4], &[]).unwrap();
    }
    nc.close().unwrap();
    let message = L2::open(path.to_str().unwrap()).unwrap_err().to_string();
    assert!(
        message.contains("albedo, cloud")
            && message.contains("/PRODUCT/carbonmonoxide_total_column"),
        "{message}"
    );
}
