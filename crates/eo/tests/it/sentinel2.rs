//! cleope_eo::products::sentinel2 on archives written by the demo generator.

use crate::with_test_compute;
use cleope_demo::{ArchiveBuilder, DemoOptions, sentinel2 as demo};
use cleope_eo::products::sentinel2::*;
use cleope_eo::raster::{Binary, Raster, crs};

fn mean(raster: &Raster) -> f64 {
    with_test_compute(|c| c.stats(raster)).unwrap().mean
}

/// The plastic product and its baseline 05.10 twin, in one archive.
fn archive() -> (tempfile::TempDir, String, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
    demo::plastic(&mut builder).unwrap();
    let twin = demo::offset_twin(&mut builder).unwrap();
    demo::discover(&mut builder).unwrap();
    builder.write_index().unwrap();
    let day = "OPTICAL/LEVEL-2A/2018/10/13";
    let plain = format!(
        "{}/{day}/S2A_MSIL2A_20181013T082001_N0206_R121_T36SYC_20181013T102234.zip",
        dir.path().display()
    );
    let twin = format!("{}/{day}/{twin}.zip", dir.path().display());
    (dir, plain, twin)
}

#[test]
fn products_list_their_bands_by_resolution_honour_offsets_and_warp_onto_lon_lat() {
    let (dir, plain, twin) = archive();
    let msi = Msi::open(&plain).unwrap();
    assert_eq!(
        (msi.level, msi.tile.as_str(), msi.baseline.as_str()),
        (Level::L2A, "36SYC", "02.06")
    );
    assert_eq!(msi.bands(Some(10)), ["B02", "B03", "B04", "B08"]);
    assert_eq!(
        msi.bands(Some(20)),
        [
            "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12"
        ]
    );
    assert!(
        msi.band_file("B8A", None)
            .unwrap()
            .ends_with("_B8A_20m.jp2")
    );
    assert!(
        msi.band_file("B08", Some(20))
            .unwrap_err()
            .to_string()
            .contains("no B08 at 20 m")
    );

    // Baseline 05.10 stores DN + 1000: the same scene reads the same reflectance.
    let newer = Msi::open(&twin).unwrap();
    assert_eq!(newer.offsets[2], -1000.0);
    let request = BandRequest {
        resolution: Some(20),
        area: None,
        lonlat_pixel: None,
    };
    let (old, new) = (
        mean(&msi.band("B03", &request).unwrap()),
        mean(&newer.band("B03", &request).unwrap()),
    );
    assert!(
        (old - new).abs() < 1e-3 && old > 0.04 && old < 0.12,
        "{old} vs {new}"
    );

    // Onto the lon/lat box: exactly the box, the same values.
    let aoi = demo::PLASTIC_AOI;
    let area = (aoi[0], aoi[1], aoi[2], aoi[3]);
    let lonlat = msi
        .band(
            "B03",
            &BandRequest {
                resolution: Some(20),
                area: Some(area),
                lonlat_pixel: Some(20.0),
            },
        )
        .unwrap();
    assert_eq!(crs::label(&lonlat.grid().crs), "EPSG:4326");
    let (x0, y0, x1, y1) = lonlat.grid().bounds();
    assert!(
        (x0 - aoi[0]).abs() < 1e-9
            && (y1 - aoi[3]).abs() < 1e-9
            && (x1 - aoi[2]).abs() < 1e-9
            && (y0 - aoi[1]).abs() < 1e-9
    );
    assert!(
        (mean(&lonlat) - old).abs() < 0.003,
        "{} vs {old}",
        mean(&lonlat)
    );

    // The same product read in place from its zip.
    let packed = dir
        .path()
        .join(".packed/S2A_MSIL2A_20181013T082001_N0206_R121_T36SYC_20181013T102234.zip");
    let zipped = Msi::open(packed.to_str().unwrap()).unwrap();
    assert!(
        zipped
            .band_file("B03", Some(20))
            .unwrap()
            .starts_with("/vsizip/")
    );
    assert!((mean(&zipped.band("B03", &request).unwrap()) - old).abs() < 1e-9);

    // Level-1C: one file per band at its own resolution.
    let l1c = Msi::open(&format!(
        "{}/.offline/OPTICAL/LEVEL-1C/2020/11/10/S2A_MSIL1C_20201110T004711_N0209_R102_T54MZV_20201110T021925.zip",
        dir.path().display()
    ))
    .unwrap();
    assert_eq!(l1c.level, Level::L1C);
    assert_eq!(l1c.bands(None).len(), 13);
    assert!(
        l1c.band_file("B04", None)
            .unwrap()
            .ends_with("T54MZV_20201110T004711_B04.jp2")
    );
    assert!(
        l1c.band_file("B05", Some(10))
            .unwrap_err()
            .to_string()
            .contains("at 20 m only")
    );
    let b03_20 = l1c
        .band(
            "B03",
            &BandRequest {
                resolution: Some(20),
                area: None,
                lonlat_pixel: None,
            },
        )
        .unwrap();
    assert_eq!(b03_20.grid().resolution(), (20.0, 20.0));
}

#[test]
fn the_fdi_finds_the_recorded_debris_and_the_footprint_surrounds_the_data() {
    let (dir, plain, _) = archive();
    let msi = Msi::open(&plain).unwrap();
    let request = BandRequest {
        resolution: Some(20),
        area: None,
        lonlat_pixel: None,
    };
    let bands: Vec<Raster> = Index::Fdi
        .bands()
        .iter()
        .map(|b| msi.band(b, &request).unwrap())
        .collect();
    let fdi = Index::Fdi.compute(&bands).unwrap();
    let ndwi =
        Raster::normalized_difference(&msi.band("B03", &request).unwrap(), &bands[0]).unwrap();
    let debris = fdi
        .with_scalar(Binary::Greater, 0.0225, false)
        .binary(Binary::And, &ndwi.with_scalar(Binary::Greater, 0.0, false))
        .unwrap();
    let count = with_test_compute(|c| c.stats(&debris)).unwrap().mean
        * (debris.grid().width * debris.grid().height) as f64;
    let truth: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
            .unwrap();
    let recorded = truth["s2_plastic"]["patch_pixels_20m"].as_f64().unwrap();
    assert!(
        (count - recorded).abs() / recorded < 0.1,
        "{count} vs {recorded}"
    );

    let ring = with_test_compute(|c| msi.footprint(c)).unwrap();
    let aoi = demo::PLASTIC_AOI;
    assert!(ring.len() >= 4);
    for (lon, lat) in &ring {
        assert!(
            *lon > aoi[0] - 0.01
                && *lon < aoi[2] + 0.01
                && *lat > aoi[1] - 0.01
                && *lat < aoi[3] + 0.01,
            "{lon} {lat}"
        );
    }
    let aoi_centre = ((aoi[0] + aoi[2]) / 2.0, (aoi[1] + aoi[3]) / 2.0);
    let polygon = cleope_eo::geometry::Aoi::from_polygon(&ring).unwrap();
    assert!(polygon.contains_point(aoi_centre.0, aoi_centre.1));
}

/// ESA's R20m and R60m folders hold B8A, never B08: NDVI, NDWI and the NIR
/// composite at 20 or 60 m use B8A; B08 asked for at 20 m is the 10 m band
/// averaged.
#[test]
fn indices_at_20_and_60_m_use_b8a_and_b08_is_averaged_when_asked() {
    let (_dir, plain, _) = archive();
    let msi = Msi::open(&plain).unwrap();
    assert_eq!(Index::Ndvi.bands_at(10), ["B08", "B04"]);
    assert_eq!(Index::Ndvi.bands_at(20), ["B8A", "B04"]);
    assert_eq!(Index::Ndwi.bands_at(60), ["B03", "B8A"]);
    assert_eq!(composite_bands_at("nir", 20), Some(["B8A", "B04", "B03"]));
    let at = |resolution| BandRequest {
        resolution: Some(resolution),
        area: None,
        lonlat_pixel: None,
    };
    for resolution in [20, 60] {
        let bands: Vec<Raster> = Index::Ndvi
            .bands_at(resolution)
            .iter()
            .map(|b| msi.band(b, &at(resolution)).unwrap())
            .collect();
        let ndvi = Index::Ndvi.compute(&bands).unwrap();
        // Independently: the two files' digital numbers read by GDAL
        // (baseline 02.06: no offset, so the ratio of DNs is the ratio of
        // reflectances), zeros being nodata.
        let read = |band: &str| {
            let file = msi.band_file(band, Some(resolution)).unwrap();
            let dataset = gdal::Dataset::open(&file).unwrap();
            let band = dataset.rasterband(1).unwrap();
            let size = band.size();
            band.read_as::<u16>((0, 0), size, size, None)
                .unwrap()
                .data()
                .to_vec()
        };
        let (nir, red) = (read("B8A"), read("B04"));
        let direct: Vec<f64> = nir
            .iter()
            .zip(&red)
            .filter(|&(&a, &b)| a > 0 && b > 0)
            .map(|(&a, &b)| (f64::from(a) - f64::from(b)) / (f64::from(a) + f64::from(b)))
            .collect();
        let expected = direct.iter().sum::<f64>() / direct.len() as f64;
        let stats = with_test_compute(|c| c.stats(&ndvi)).unwrap();
        assert_eq!(stats.count, direct.len() as u64, "{resolution} m");
        assert!(
            (stats.mean - expected).abs() < 1e-6,
            "{resolution} m: {} vs {expected}",
            stats.mean
        );
    }
    let b08_20 = msi.band("B08", &at(20)).unwrap();
    let b8a_20 = msi.band("B8A", &at(20)).unwrap();
    assert!(
        b08_20.grid().aligns_with(b8a_20.grid()),
        "B08 averaged onto the 20 m grid"
    );
    let fine = mean(&msi.band("B08", &at(10)).unwrap());
    assert!(
        (mean(&b08_20) - fine).abs() < 2e-3,
        "{} vs {fine}",
        mean(&b08_20)
    );
}

/// A real tile's band file opened on its own (`open_raster` of the JP2):
/// ESA's JPEG 2000 files declare no nodata, the product's metadata says 0
/// is NODATA. Real tiles at the edge of a swath are partly 0.
#[test]
fn a_tile_image_opened_on_its_own_treats_0_as_nodata() {
    use gdal::DriverManager;
    use gdal::raster::Buffer;
    let dir = tempfile::tempdir().unwrap();
    let (width, height) = (64, 48);
    // Edge of the swath: the left third is 0.
    let values: Vec<u16> = (0..width * height)
        .map(|i| {
            if i % width < 21 {
                0
            } else {
                1200 + (i % 7) as u16
            }
        })
        .collect();
    // GeoTIFF, then JPEG 2000 (cleope's set-up keeps only the drivers of
    // the formats scripts open, so not GDAL's in-memory one).
    let tiff = DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut source = tiff
        .create_with_band_type::<u16, _>(dir.path().join("source.tif"), width, height, 1)
        .unwrap();
    source
        .set_geo_transform(&[300_000.0, 10.0, 0.0, 5_000_040.0, 0.0, -10.0])
        .unwrap();
    source
        .set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(32633).unwrap())
        .unwrap();
    source
        .rasterband(1)
        .unwrap()
        .write(
            (0, 0),
            (width, height),
            &mut Buffer::new((width, height), values),
        )
        .unwrap();
    let jp2 = DriverManager::get_driver_by_name("JP2OpenJPEG").unwrap();
    let path = dir.path().join("T33TUL_20210501T100021_B04_10m.jp2");
    let copy = source
        .create_copy(
            &jp2,
            &path,
            &gdal::raster::RasterCreationOptions::from_iter(["QUALITY=100", "REVERSIBLE=YES"]),
        )
        .unwrap();
    assert_eq!(
        copy.rasterband(1).unwrap().no_data_value(),
        None,
        "as ESA's files"
    );
    drop(copy);
    let renamed = dir.path().join("B04.jp2");
    std::fs::copy(&path, &renamed).unwrap();
    let stats = |p: &std::path::Path| {
        with_test_compute(|c| c.stats(&Raster::open(p.to_str().unwrap(), 1).unwrap())).unwrap()
    };
    let tile = stats(&path);
    assert_eq!((tile.count, tile.missing), (43 * 48, 21 * 48));
    assert!(tile.min >= 1200.0, "{tile:?}");
    let other = stats(&renamed);
    assert_eq!(
        other.missing, 0,
        "a JP2 that is not a tile image keeps its zeros"
    );
}

/// An area far from the tile: a named error naming both extents, not a
/// raster of 1.2 million missing pixels (warped) or UTM numbers (clipped).
#[test]
fn an_area_outside_the_tile_is_a_named_error() {
    let (_dir, plain, _) = archive();
    let msi = Msi::open(&plain).unwrap();
    for lonlat_pixel in [Some(20.0), None] {
        let request = BandRequest {
            resolution: Some(20),
            area: Some((0.0, 0.0, 0.1, 0.1)),
            lonlat_pixel,
        };
        let error = msi.band("B04", &request).unwrap_err();
        assert!(matches!(error, MsiError::Outside(_)), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains("lon 0.0000…0.1000") && message.contains("lon 35."),
            "{message}"
        );
    }
}
