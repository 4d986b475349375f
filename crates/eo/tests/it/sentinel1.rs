//! cleope_eo::products::sentinel1 on archives written by the demo generator.

use crate::with_test_compute;
use cleope_demo::{ArchiveBuilder, DemoOptions};
use cleope_eo::products::sentinel1::*;

#[test]
fn the_demo_trieste_products_stack_by_sensing_time_and_show_the_recorded_ships() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
    cleope_demo::sentinel1::trieste(&mut builder).unwrap();
    builder.write_index().unwrap();
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let dates = truth["s1_ships"]["dates"].as_array().unwrap();
    let mut grds: Vec<Grd> = dates
        .iter()
        .rev()
        .map(|d| {
            let name = d["product"].as_str().unwrap();
            let day = &d["date"].as_str().unwrap().replace('-', "/");
            Grd::open(&format!(
                "{}/RADAR/LEVEL-1/{day}/{name}.zip",
                dir.path().display()
            ))
            .unwrap()
        })
        .collect();
    // The reprocessed first product's DateTime tag is the latest of all.
    let tags: Vec<String> = grds
        .iter()
        .map(|g| processing_time(&g.measurement("vh").unwrap()).unwrap())
        .collect();
    assert_eq!(
        tags.iter().max(),
        Some(&dates[0]["processed"].as_str().unwrap().to_string())
    );
    let aoi = cleope_demo::sentinel1::TRIESTE_AOI;
    let bounds = (aoi[0], aoi[1], aoi[2], aoi[3]);
    grds.rotate_left(1);
    let stack = stack(&grds, "VH", bounds, 10.0).unwrap();
    assert_eq!(stack.dates()[0], "2020-08-18 05:07");
    for (layer, date) in stack.layers().iter().zip(dates) {
        let plane = with_test_compute(|c| c.plane(layer)).unwrap();
        let found =
            with_test_compute(|c| detect_ships(&plane, &ShipOptions::default(), c)).unwrap();
        let expected = date["positions"].as_array().unwrap();
        assert_eq!(found.components.len(), expected.len(), "{}", date["date"]);
        let transform = layer.grid().transform;
        for component in &found.components {
            let (lon, lat) = transform.apply(component.centroid.0, component.centroid.1);
            let near = expected.iter().any(|p| {
                (p[0].as_f64().unwrap() - lon).abs() < 0.001
                    && (p[1].as_f64().unwrap() - lat).abs() < 0.001
            });
            assert!(near, "a detection at {lon}, {lat} on {}", date["date"]);
        }
    }
}

/// `gdalinfo -stats` and QGIS leave a `.tiff.aux.xml` beside each
/// measurement they open: the product is still one measurement per
/// polarisation.
#[test]
fn statistics_sidecars_beside_the_measurements_are_not_measurements() {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
    cleope_demo::sentinel1::trieste(&mut builder).unwrap();
    builder.write_index().unwrap();
    let safe = walkdir::WalkDir::new(dir.path())
        .into_iter()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().ends_with(".SAFE") && e.file_type().is_dir())
        .unwrap()
        .into_path();
    let product = safe.parent().unwrap();
    let measurements: Vec<_> = std::fs::read_dir(safe.join("measurement"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    for measurement in &measurements {
        let status = std::process::Command::new("gdalinfo")
            .arg("-stats")
            .arg(measurement)
            .stdout(std::process::Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        let sidecar = format!("{}.aux.xml", measurement.display());
        assert!(
            std::path::Path::new(&sidecar).is_file(),
            "GDAL wrote {sidecar}"
        );
    }
    let grd = Grd::open(&product.to_string_lossy()).unwrap();
    assert_eq!(grd.polarisations(), ["VH", "VV"]);
    for polarisation in ["vh", "vv"] {
        let measurement = grd.measurement(polarisation).unwrap();
        assert!(measurement.ends_with(".tiff"), "{measurement}");
    }
}
