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
