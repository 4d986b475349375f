//! cleope_eo::ens on archives written by the demo generator.

use std::path::{Path, PathBuf};

use cleope_demo::{ArchiveBuilder, DemoOptions, Packing, ProductSpec};
use cleope_eo::archive::ArchiveIndex;
use cleope_eo::ens::*;
use cleope_eo::geometry::Aoi;
use cleope_eo::odata::{Query, SortOrder};
use serde_json::{Map, json};

fn spec(name: &str, online: bool, begin: &str, cloud: f64) -> ProductSpec {
    let mut attributes = Map::new();
    attributes.insert("cloudCover".into(), json!(cloud));
    ProductSpec {
        name: format!("{name}.zip"),
        cdse_name: Some(format!("{name}.SAFE")),
        mission: Some("Sentinel-2".into()),
        collection: "SENTINEL-2".into(),
        product_type: "S2MSI2A".into(),
        main_class: None,
        begin: begin.into(),
        end: begin.into(),
        footprint: vec![(57.0, -21.0), (58.0, -21.0), (58.0, -20.0), (57.0, -20.0)],
        pseudopath: "OPTICAL/LEVEL-2A/2020/08/11".into(),
        s3_folder: "/eodata/Sentinel-2/MSI/L2A/2020/08/11".into(),
        online,
        packing: Packing::Zip,
        attributes,
    }
}

/// An archive with one online and one offline S2 product, each holding
/// a SAFE folder with a band file.
fn archive() -> (tempfile::TempDir, ArchiveIndex) {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
    for (name, online, begin, cloud) in [
        ("S2A_MSIL2A_A", true, "2020-08-11T06:26:01.024Z", 5.0),
        ("S2B_MSIL2A_B", false, "2020-08-16T06:26:01.024Z", 60.0),
    ] {
        let spec = spec(name, online, begin, cloud);
        let folder = builder.staging(&spec).unwrap();
        let bands = folder.join(format!("{name}.SAFE/GRANULE/L2A_T40KEC/IMG_DATA/R10m"));
        std::fs::create_dir_all(&bands).unwrap();
        for band in ["B02", "B03", "B04"] {
            std::fs::write(bands.join(format!("T40KEC_{band}_10m.jp2")), band).unwrap();
        }
        std::fs::write(folder.join(format!("{name}.SAFE/MTD_MSIL2A.xml")), "<x/>").unwrap();
        builder.finish(spec).unwrap();
    }
    let index = builder.write_index().unwrap();
    (dir, index)
}

fn onda(root: &Path) -> Ens {
    Ens::new(vec![Mount {
        root: root.to_path_buf(),
        layout: Layout::Onda,
    }])
}

#[test]
fn an_online_product_opens_at_its_pseudopath_and_lists_files_by_glob() {
    let (dir, index) = archive();
    let ens = onda(dir.path());
    let product = ens.open(&Placement::from(&index.products[0])).unwrap();
    assert_eq!(
        product.path(),
        dir.path()
            .join("OPTICAL/LEVEL-2A/2020/08/11/S2A_MSIL2A_A.zip")
    );
    let bands = product.files("*_10m.jp2").unwrap();
    assert_eq!(bands.len(), 3);
    assert!(
        bands[0].ends_with("T40KEC_B02_10m.jp2"),
        "sorted: {bands:?}"
    );
    let red = product.file("IMG_DATA/R10m/*B04*").unwrap();
    assert!(red.ends_with("T40KEC_B04_10m.jp2"), "{red}");
    assert!(product.file("/S2A_MSIL2A_A.SAFE/MTD_*.xml").is_ok());
    assert!(product.files("/MTD_*.xml").unwrap().is_empty(), "anchored");
}

#[test]
fn an_offline_product_gives_the_order_hint() {
    let (dir, index) = archive();
    let error = onda(dir.path())
        .open(&Placement::from(&index.products[1]))
        .unwrap_err();
    assert_eq!(
        error.to_string(),
        "product S2B_MSIL2A_B.zip is offline: order it with odata_order(\"S2B_MSIL2A_B.zip\")"
    );
    assert!(error.hint().contains("odata_download"), "{}", error.hint());
}

#[test]
fn a_restored_product_is_found_although_the_record_said_offline() {
    let (dir, index) = archive();
    let record = &index.products[1];
    let target = dir.path().join(record.ens_relative());
    std::fs::rename(dir.path().join(record.offline_relative()), &target).unwrap();
    let path = onda(dir.path()).path_of(&Placement::from(record)).unwrap();
    assert_eq!(path, target);
}

#[test]
fn catalogue_paths_that_climb_out_of_the_mount_are_refused() {
    let mount = |layout| Mount {
        root: PathBuf::from("/mnt/archive"),
        layout,
    };
    let placement = |pseudopath: &str, s3_path: &str, name: &str| Placement {
        name: name.into(),
        pseudopath: pseudopath.into(),
        s3_path: s3_path.into(),
        online: true,
    };
    let ok = placement("OPTICAL/2020", "/eodata/Sentinel-2/X.SAFE", "X.zip");
    assert_eq!(
        Ens::candidate(&mount(Layout::Onda), &ok).unwrap(),
        PathBuf::from("/mnt/archive/OPTICAL/2020/X.zip")
    );
    assert_eq!(
        Ens::candidate(&mount(Layout::Cdse), &ok).unwrap(),
        PathBuf::from("/mnt/archive/Sentinel-2/X.SAFE")
    );
    for (layout, evil) in [
        (Layout::Onda, placement("../../etc", "", "X.zip")),
        (
            Layout::Onda,
            placement("OPTICAL", "", "../../../etc/passwd"),
        ),
        (Layout::Onda, placement("OPTICAL", "", "..")),
        (Layout::Cdse, placement("", "/eodata/../../etc/X.SAFE", "X")),
        (Layout::Cdse, placement("", "/eodata//../x", "X")),
        (Layout::Cdse, placement("", "/eodata/", "X")),
    ] {
        let error = Ens::candidate(&mount(layout), &evil).unwrap_err();
        assert!(matches!(error, EnsError::UnsafeName(_)), "{error}");
        let ens = Ens::new(vec![mount(layout)]);
        assert!(matches!(ens.path_of(&evil), Err(EnsError::UnsafeName(_))));
    }
}

#[test]
fn the_cdse_layout_follows_the_s3_path() {
    let (dir, index) = archive();
    let eodata = dir.path().join("eodata-mount");
    let record = &index.products[0];
    let safe = eodata.join("Sentinel-2/MSI/L2A/2020/08/11/S2A_MSIL2A_A.SAFE");
    std::fs::create_dir_all(safe.join("GRANULE/X/IMG_DATA/R10m")).unwrap();
    std::fs::write(safe.join("GRANULE/X/IMG_DATA/R10m/T_B04_10m.jp2"), "b").unwrap();
    let ens = Ens::new(vec![Mount {
        root: eodata,
        layout: Layout::Cdse,
    }]);
    let product = ens.open(&Placement::from(record)).unwrap();
    assert_eq!(product.path(), safe);
    assert!(product.file("IMG_DATA/R10m/*B04*").is_ok());
}

#[test]
fn a_zip_file_alone_is_read_in_place_through_vsizip() {
    let (dir, index) = archive();
    let zip = dir.path().join(".packed").join(&index.products[0].name);
    let product = EnsProduct::at(&zip).unwrap();
    let red = product.file("*B04_10m.jp2").unwrap();
    assert_eq!(
        red,
        format!(
            "/vsizip/{}/S2A_MSIL2A_A.SAFE/GRANULE/L2A_T40KEC/IMG_DATA/R10m/T40KEC_B04_10m.jp2",
            zip.display()
        )
    );
}

#[test]
fn one_file_wanted_but_several_or_none_found_is_a_clear_error() {
    let (dir, index) = archive();
    let product = onda(dir.path())
        .open(&Placement::from(&index.products[0]))
        .unwrap();
    let several = product.file("*.jp2").unwrap_err().to_string();
    assert!(
        several.starts_with("3 files in S2A_MSIL2A_A.zip"),
        "{several}"
    );
    let none = product.file("*B12*").unwrap_err();
    assert!(matches!(none, EnsError::NoMatch { .. }), "{none}");
}

#[test]
fn find_applies_the_query_and_its_order() {
    let (_dir, index) = archive();
    let all = find(&index, &Query::default());
    assert_eq!(all.len(), 2);
    let clear = Query {
        max_cloud: Some(10.0),
        ..Query::default()
    };
    assert_eq!(find(&index, &clear)[0].name, "S2A_MSIL2A_A.zip");
    assert_eq!(find(&index, &clear).len(), 1);
    let by_name = Query {
        name: Some("S2B_MSIL2A_B.SAFE".into()),
        ..Query::default()
    };
    assert_eq!(find(&index, &by_name).len(), 1);
    let elsewhere = Query {
        aoi: Some(Aoi::from_bbox(
            cleope_eo::geometry::BBox::new(10.0, 40.0, 11.0, 41.0).unwrap(),
        )),
        ..Query::default()
    };
    assert!(find(&index, &elsewhere).is_empty());
    let late = Query {
        sensed_from: Some("2020-08-12T00:00:00Z".parse().unwrap()),
        order: SortOrder::SensingDescending,
        ..Query::default()
    };
    assert_eq!(find(&index, &late)[0].name, "S2B_MSIL2A_B.zip");
    let s1 = Query {
        mission: Some("Sentinel-1".into()),
        ..Query::default()
    };
    assert!(find(&index, &s1).is_empty());
}

#[test]
fn globs_match_components_folders_and_classes() {
    assert!(glob_match("*.jp2", "B04.jp2"));
    assert!(!glob_match("*.jp2", "R10m/B04.jp2"));
    assert!(glob_match("**/*.jp2", "a/b/B04.jp2"));
    assert!(glob_match("**/*.jp2", "B04.jp2"));
    assert!(glob_match("B0[2-4]*", "B03_10m"));
    assert!(!glob_match("B0[!2-4]*", "B03_10m"));
    assert!(glob_match("s1?-iw-*-vh-*.tiff", "s1b-iw-grd-vh-001.tiff"));
    assert!(glob_match("a[b", "a[b"));
    assert!(pattern_matches(
        "measurement/*vh*",
        "X.SAFE/measurement/s1-vh.tiff"
    ));
    assert!(!pattern_matches(
        "measurement/*vh*",
        "X.SAFE/annotation/s1-vh.xml"
    ));
}

fn copy_tree(from: &Path, to: &Path) {
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

#[test]
fn a_view_restores_orders_without_touching_the_archive() {
    let (dir, index) = archive();
    let view = dir.path().join("view");
    build_view(dir.path(), &index, Layout::Onda, &view).unwrap();
    let ens = onda(&view);
    let online = ens.open(&Placement::from(&index.products[0])).unwrap();
    assert_eq!(online.files("*.jp2").unwrap().len(), 3);
    let record = &index.products[1];
    assert!(
        ens.path_of(&Placement::from(record)).is_err(),
        "offline in the view"
    );
    // A catalogue restores by moving the product into place.
    std::fs::rename(
        view.join(record.offline_relative()),
        view.join(record.ens_relative()),
    )
    .unwrap();
    let restored = ens.open(&Placement::from(record)).unwrap();
    assert_eq!(restored.files("*.jp2").unwrap().len(), 3);
    assert!(
        dir.path().join(record.offline_relative()).exists(),
        "archive unchanged"
    );
    assert!(!dir.path().join(record.ens_relative()).exists());
    assert!(view.join(".packed").join(&record.name).is_file());
}

#[test]
fn the_demo_archive_is_generated_once_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let small = |folder: &Path| {
        let (source, _) = archive();
        copy_tree(source.path(), folder);
        Ok(ArchiveIndex::load(folder)?)
    };
    let first = cleope_demo::ensure_with(&demo, small).unwrap();
    assert!(demo.join("index.json").is_file());
    let stamp = std::fs::metadata(demo.join("index.json"))
        .unwrap()
        .modified()
        .unwrap();
    let second = cleope_demo::ensure_with(&demo, |_| panic!("generated twice")).unwrap();
    assert_eq!(first.products.len(), second.products.len());
    let again = std::fs::metadata(demo.join("index.json"))
        .unwrap()
        .modified()
        .unwrap();
    assert_eq!(stamp, again, "not written twice");
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn an_archive_of_another_index_version_is_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    std::fs::create_dir_all(&demo).unwrap();
    std::fs::write(demo.join("index.json"), r#"{"version": 0, "products": []}"#).unwrap();
    std::fs::write(demo.join("stale.txt"), "old").unwrap();
    cleope_demo::ensure_with(&demo, |folder| {
        let (source, _) = archive();
        copy_tree(source.path(), folder);
        Ok(ArchiveIndex::load(folder)?)
    })
    .unwrap();
    assert!(!demo.join("stale.txt").exists(), "replaced whole");
    assert!(ArchiveIndex::load(&demo).is_ok());
}

/// An archive an older generator wrote reads as an index, but lacks what
/// the current one writes (Sentinel-1 calibration tables): written again.
#[test]
fn an_archive_of_an_older_generation_is_regenerated() {
    let dir = tempfile::tempdir().unwrap();
    let demo = dir.path().join("demo");
    let write = |folder: &Path| {
        let (source, _) = archive();
        copy_tree(source.path(), folder);
        Ok(ArchiveIndex::load(folder)?)
    };
    cleope_demo::ensure_with(&demo, write).unwrap();
    let stamp = std::fs::read_to_string(demo.join("generation")).unwrap();
    assert_eq!(stamp, cleope_demo::GENERATION.to_string());
    std::fs::write(demo.join("generation"), "1").unwrap();
    std::fs::write(demo.join("stale.txt"), "old").unwrap();
    cleope_demo::ensure_with(&demo, write).unwrap();
    assert!(!demo.join("stale.txt").exists(), "written again");
    std::fs::remove_file(demo.join("generation")).unwrap();
    cleope_demo::ensure_with(&demo, write).unwrap();
    assert!(
        demo.join("generation").is_file(),
        "an unstamped archive is written again"
    );
}

#[test]
fn name_stems_drop_the_packing_extension() {
    assert_eq!(name_stem("S2A_X.zip"), "S2A_X");
    assert_eq!(name_stem("S2A_X.SAFE"), "S2A_X");
    assert_eq!(name_stem("S5P_X.nc"), "S5P_X");
    assert_eq!(name_stem("LC08_X.tar.gz"), "LC08_X");
}
