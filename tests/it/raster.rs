//! Rasters from scripts: real GeoTIFFs written by GDAL, read lazily through
//! the sandbox, results checked against direct computations.

use crate::common;

use common::{TestSession, on_script_thread};
use gdal::DriverManager;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(60);

/// A UTM zone 33N UInt16 band, 10 m pixels, upper-left corner at (500000, 4200000).
fn write_band(
    path: &Path,
    width: usize,
    height: usize,
    nodata: Option<f64>,
    f: impl Fn(usize, usize) -> u16,
) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let options = RasterCreationOptions::from_iter(["TILED=YES", "COMPRESS=DEFLATE"]);
    let mut dataset = driver
        .create_with_band_type_with_options::<u16, _>(path, width, height, 1, &options)
        .unwrap();
    dataset
        .set_geo_transform(&[500_000.0, 10.0, 0.0, 4_200_000.0, 0.0, -10.0])
        .unwrap();
    dataset
        .set_spatial_ref(&SpatialRef::from_epsg(32633).unwrap())
        .unwrap();
    let mut band = dataset.rasterband(1).unwrap();
    band.set_no_data_value(nodata).unwrap();
    let values = (0..height)
        .flat_map(|r| (0..width).map(move |c| (c, r)))
        .map(|(c, r)| f(c, r))
        .collect();
    band.write(
        (0, 0),
        (width, height),
        &mut Buffer::new((width, height), values),
    )
    .unwrap();
}

fn nir(c: usize, r: usize) -> u16 {
    (2000 + (c * 13 + r * 7) % 3000) as u16
}

fn red(c: usize, r: usize) -> u16 {
    if r < 300 {
        0
    } else {
        (500 + (c * 3 + r * 11) % 1500) as u16
    }
}

fn scene(t: &TestSession) {
    let ws = t.workspace();
    write_band(&ws.join("resources/B08.tif"), 1500, 1200, Some(0.0), nir);
    write_band(&ws.join("resources/B04.tif"), 1500, 1200, Some(0.0), red);
}

#[test]
fn ndvi_from_two_bands_matches_a_direct_computation() {
    let (mean, count) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let s = t
            .run("let ndvi = normalized_difference(open_raster(\"resources/B08.tif\"), open_raster(\"resources/B04.tif\")); ndvi.stats()")
            .unwrap()
            .cast::<rhai::Map>();
        (s["mean"].as_float().unwrap(), s["count"].as_int().unwrap())
    });
    let values: Vec<f64> = (0..1200)
        .flat_map(|r| (0..1500).map(move |c| (c, r)))
        .filter(|&(_, r)| r >= 300)
        .map(|(c, r)| {
            let (n, d) = (f32::from(nir(c, r)), f32::from(red(c, r)));
            f64::from((n - d) / (n + d))
        })
        .collect();
    assert_eq!(
        count as usize,
        values.len(),
        "red's nodata rows are missing"
    );
    let expected = values.iter().sum::<f64>() / values.len() as f64;
    assert!((mean - expected).abs() < 1e-9, "{mean} vs {expected}");
}

#[test]
fn clipping_by_lon_lat_selects_the_right_pixels() {
    let (width, height, min) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let code = "let b = open_raster(\"resources/B08.tif\"); \
                    let c = b.clip([15.0, 37.9, 15.05, 37.93]); [c.width, c.height, c.stats().min]";
        let result = t.run(code).unwrap().cast::<rhai::Array>();
        (
            result[0].as_int().unwrap(),
            result[1].as_int().unwrap(),
            result[2].as_float().unwrap(),
        )
    });
    // 15 E is zone 33's central meridian (easting 500 km): the clip starts at column 0.
    assert!(
        width > 400 && width < 460,
        "about 0.05 degrees of longitude at 37.9 N: {width}"
    );
    assert!(
        height > 320 && height < 350,
        "about 0.03 degrees of latitude: {height}"
    );
    assert!(min >= 2000.0);
}

#[test]
fn a_saved_result_counts_against_the_disk_quota_and_a_refused_save_leaves_nothing() {
    let (first, refused, exists) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|s| s.quota.disk = 200_000);
        scene(&t);
        let first = t.run(
            "open_raster(\"resources/B08.tif\").clip([15.0, 37.9, 15.005, 37.903]).save(\"output/nir.tif\"); \
             file_exists(\"output/nir.tif\")",
        );
        let refused = t
            .run("(open_raster(\"resources/B08.tif\") * 1.5).save(\"output/big.nc\")")
            .unwrap_err();
        let exists = t
            .run("file_exists(\"output/big.nc\")")
            .unwrap()
            .as_bool()
            .unwrap();
        (first.map(|v| v.as_bool().unwrap()), refused, exists)
    });
    assert!(first.is_ok(), "{first:?}");
    assert_eq!(refused.name, "DiskQuotaExceeded", "{refused}");
    assert!(!exists);
}

#[test]
fn rasters_outside_the_workspace_are_refused() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.run("open_raster(\"/etc/hostname\")").unwrap_err()
    });
    assert_eq!(error.name, "PathNotAllowed", "{error}");
}

#[test]
fn a_block_that_does_not_fit_the_memory_quota_is_a_catchable_error() {
    let kind = on_script_thread(BOUND, || {
        // A quota below what the (shared) test process holds: the charge is
        // refused whatever the other tests allocate or free meanwhile.
        let mut t = TestSession::new(|s| s.quota.memory = 1 << 20);
        scene(&t);
        t.run("let k = \"\"; try { open_raster(\"resources/B08.tif\").stats(); } catch (e) { k = e.kind; } k")
            .unwrap()
            .to_string()
    });
    assert_eq!(kind, "MemoryQuotaExceeded");
}

#[test]
fn mismatched_grids_and_bad_bounds_explain_themselves() {
    let (grid, bounds) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let grid = t
            .run("let b = open_raster(\"resources/B08.tif\"); b + b.clip([15.0, 37.9, 15.05, 37.93])")
            .unwrap_err();
        let bounds = t
            .run("open_raster(\"resources/B08.tif\").clip([16.0, 38.0, 15.0, 39.0])")
            .unwrap_err();
        (grid, bounds)
    });
    assert_eq!(grid.name, "GridMismatch", "{grid}");
    assert_eq!(bounds.name, "BadAoi", "{bounds}");
    assert!(
        bounds
            .hint
            .unwrap()
            .contains("lon_min, lat_min, lon_max, lat_max")
    );
}

/// Real GRD clips: a zero border (no nodata declared), and two clips of
/// one product a pixel apart (1144 x 543 and 1145 x 544 in the review).
#[test]
fn zero_borders_empty_areas_and_clips_a_pixel_apart() {
    let (stats, warnings, aligned, reclipped, unit) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        let ws = t.workspace();
        let bordered = |c: usize, r: usize| if c < 4 || r < 4 { 0 } else { 1000 };
        write_band(&ws.join("resources/grd.tif"), 144, 43, None, bordered);
        write_band(&ws.join("resources/grd_b.tif"), 145, 44, None, |_, _| 2000);
        let stats = t
            .run("db(open_raster(\"resources/grd.tif\")).stats()")
            .unwrap()
            .cast::<rhai::Map>();
        // Twice, as in a loop over dates: one warning.
        let code = "let r = open_raster(\"resources/grd.tif\"); (r.clip_xy([500000.0, 4199570.0, 500030.0, 4199600.0]) * 0).stats().mean; (r / 0).stats()";
        t.exec(code).unwrap();
        t.exec(code).unwrap();
        let warnings = t.output.text(cleope::runtime::Stream::Stderr);
        let aligned = t
            .run("let a = open_raster(\"resources/grd.tif\"); let b = open_raster(\"resources/grd_b.tif\"); let s = stack([a, b], #{ align: true }); [s[1].width, s[1].height, (a + align(b, a)).stats().max]")
            .unwrap()
            .cast::<rhai::Array>();
        let reclipped = t
            .run("let a = open_raster(\"resources/grd.tif\"); let b = open_raster(\"resources/grd_b.tif\"); b.clip(a.bounds).width")
            .unwrap()
            .as_int()
            .unwrap();
        let unit = t
            .run("db(open_raster(\"resources/grd.tif\")).unit")
            .unwrap()
            .to_string();
        (stats, warnings, aligned, reclipped, unit)
    });
    let inside = 140 * 39;
    assert_eq!(stats["count"].as_int().unwrap(), inside, "{stats:?}");
    assert_eq!(stats["total"].as_int().unwrap(), 144 * 43);
    assert_eq!(stats["mean"].as_float().unwrap(), 30.0, "db(1000), no -inf");
    assert_eq!(stats["min"].as_float().unwrap(), 30.0);
    assert_eq!(
        warnings.matches("none of the raster's").count(),
        1,
        "{warnings}"
    );
    assert!(warnings.contains("outside the data"), "{warnings}");
    let numbers: Vec<f64> = aligned
        .iter()
        .map(|v| v.as_float().unwrap_or_else(|_| v.as_int().unwrap() as f64))
        .collect();
    assert_eq!(numbers, [144.0, 43.0, 3000.0], "b on a's grid, values kept");
    assert_eq!(reclipped, 144, "b clipped to a's extent");
    assert_eq!(unit, "dB");
}

#[test]
fn a_warp_to_lon_lat_and_back_keeps_the_grid_and_the_values() {
    let (there, back) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let code = "let b = open_raster(\"resources/B08.tif\"); \
                    let ll = b.reproject(\"EPSG:4326\"); let utm = ll.reproject(\"EPSG:32633\", #{ resolution: 10.0 }); \
                    [b.stats().mean, utm.stats().mean, b.bounds, utm.bounds]";
        let r = t.run(code).unwrap().cast::<rhai::Array>();
        let bounds = |v: &rhai::Dynamic| {
            let m = v.clone().cast::<rhai::Map>();
            ["x_min", "y_min", "x_max", "y_max"].map(|k| m[k].as_float().unwrap())
        };
        (
            (r[0].as_float().unwrap(), bounds(&r[2])),
            (r[1].as_float().unwrap(), bounds(&r[3])),
        )
    });
    let ((mean, original), (mean_back, returned)) = (there, back);
    for (a, b) in original.iter().zip(&returned) {
        // A round trip through another CRS may widen the grid by a few pixels.
        assert!(
            (a - b).abs() <= 35.0,
            "bounds moved by more than 3.5 pixels: {original:?} vs {returned:?}"
        );
    }
    assert!(
        (mean - mean_back).abs() / mean < 0.01,
        "{mean} vs {mean_back}"
    );
}

#[test]
fn lazy_statistics_agree_with_an_eager_evaluation() {
    let (lazy, eager) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let code = "let ndvi = normalized_difference(open_raster(\"resources/B08.tif\"), open_raster(\"resources/B04.tif\")); \
                    [ndvi.stats().mean, ndvi.gaussian_blur(0.01).stats().mean]";
        let r = t.run(code).unwrap().cast::<rhai::Array>();
        (r[0].as_float().unwrap(), r[1].as_float().unwrap())
    });
    // The eager path materialises every pixel in memory (gaussian_blur with
    // a negligible sigma leaves the values as they are).
    assert!((lazy - eager).abs() < 1e-6, "{lazy} vs {eager}");
}

#[test]
fn an_eager_operation_larger_than_the_memory_quota_is_a_named_error() {
    let kind = on_script_thread(BOUND, || {
        // A quota below what the (shared) test process holds: the charge is
        // refused whatever the other tests allocate or free meanwhile.
        let mut t = TestSession::new(|s| s.quota.memory = 1 << 20);
        scene(&t);
        t.run("let k = \"\"; try { open_raster(\"resources/B08.tif\").max_filter(3); } catch (e) { k = e.kind; } k")
            .unwrap()
            .to_string()
    });
    assert_eq!(kind, "MemoryQuotaExceeded");
}

/// Copies a GeoTIFF into another format with GDAL (JP2, netCDF).
fn copy_as(source: &Path, target: &Path, driver: &str, options: &[&str]) {
    // cleope's door to GDAL quiets HDF5 on this thread, whose probes GDAL's
    // reopening of a netCDF copy would otherwise print.
    let input = cleope::eo::gdal::dataset::open(source).unwrap();
    let driver = DriverManager::get_driver_by_name(driver).unwrap();
    let options = RasterCreationOptions::from_iter(options.iter().copied());
    input
        .create_copy(&driver, target, &options)
        .unwrap()
        .close()
        .unwrap();
}

#[test]
fn jp2_in_a_zip_and_netcdf_variables_read_like_geotiffs() {
    let (direct, zipped, netcdf) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        scene(&t);
        let ws = t.workspace();
        let safe = ws.join("local_files/S2A_TEST.SAFE");
        std::fs::create_dir_all(&safe).unwrap();
        copy_as(
            &ws.join("resources/B08.tif"),
            &safe.join("B08.jp2"),
            "JP2OpenJPEG",
            &[
                "QUALITY=100",
                "REVERSIBLE=YES",
                "BLOCKXSIZE=1024",
                "BLOCKYSIZE=1024",
            ],
        );
        let zip = Command::new("python3")
            .args(["-c", "import sys, zipfile; z = zipfile.ZipFile(sys.argv[1], 'w'); z.write(sys.argv[2], 'S2A_TEST.SAFE/B08.jp2'); z.close()"])
            .arg(ws.join("local_files/S2A_TEST.zip"))
            .arg(safe.join("B08.jp2"))
            .status()
            .unwrap();
        assert!(zip.success());
        copy_as(
            &ws.join("resources/B08.tif"),
            &ws.join("resources/B08.nc"),
            "netCDF",
            &[],
        );
        let mut mean = |code: &str| {
            t.run(code).unwrap().cast::<rhai::Map>()["mean"]
                .as_float()
                .unwrap()
        };
        (
            mean("open_raster(\"resources/B08.tif\").stats()"),
            mean("open_raster(\"/vsizip/local_files/S2A_TEST.zip/S2A_TEST.SAFE/B08.jp2\").stats()"),
            mean("open_raster(`NETCDF:\"resources/B08.nc\":Band1`).stats()"),
        )
    });
    assert!(
        (direct - zipped).abs() < 1e-9,
        "lossless JP2 in a zip: {direct} vs {zipped}"
    );
    assert!(
        (direct - netcdf).abs() < 1e-9,
        "netCDF variable: {direct} vs {netcdf}"
    );
}

/// netCDF-4 reads on cleope's threads must not flood the learner's terminal
/// with HDF5's internal diagnostics (netCDF-C probes optional attributes and
/// HDF5 prints every miss on threads where nobody turned printing off).
#[test]
fn reading_netcdf_prints_no_hdf5_diagnostics() {
    let workspace = tempfile::tempdir().unwrap();
    let resources = workspace.path().join("resources");
    write_band(&resources.join("B08.tif"), 300, 300, None, nir);
    copy_as(
        &resources.join("B08.tif"),
        &resources.join("B08.nc"),
        "netCDF",
        &["FORMAT=NC4"],
    );
    let script = workspace.path().join("read.rhai");
    std::fs::write(
        &script,
        "let r = open_raster(`NETCDF:\"resources/B08.nc\":Band1`);\nprint(r.stats().mean);\nprint(open_raster(`NETCDF:\"resources/B08.nc\":Band1`).resample(20.0).stats().mean);\n",
    )
    .unwrap();
    let out = Command::new(common::cleope_bin())
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(workspace.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "the script failed: {stderr}");
    assert!(
        !stderr.contains("HDF5-DIAG"),
        "HDF5 diagnostics reached the terminal:\n{}",
        &stderr[..stderr.len().min(2000)]
    );
}

/// OLCI's `quality_flags` is uint32 with the land bit at 0x80000000: read
/// as float32, 2^31 + 1 is 2^31 and bit tests on the low bits go wrong.
/// Bit tests run on the stored words.
#[test]
fn bit_tests_on_a_uint32_flag_band_use_all_32_bits() {
    let words: [u32; 6] = [
        0x8000_0000,
        0x8000_0001,
        0x0000_0001,
        0xFFFF_FFFF,
        0x4000_0000,
        0,
    ];
    let counts = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(|_| {});
        let path = t.workspace().join("resources/quality_flags.tif");
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut dataset = driver
            .create_with_band_type_with_options::<u32, _>(
                &path,
                3,
                2,
                1,
                &RasterCreationOptions::default(),
            )
            .unwrap();
        dataset
            .set_geo_transform(&[10.0, 0.1, 0.0, 45.0, 0.0, -0.1])
            .unwrap();
        dataset
            .set_spatial_ref(&SpatialRef::from_epsg(4326).unwrap())
            .unwrap();
        let mut band = dataset.rasterband(1).unwrap();
        band.set_no_data_value(Some(f64::from(u32::MAX))).unwrap();
        band.write((0, 0), (3, 2), &mut Buffer::new((3, 2), words.to_vec()))
            .unwrap();
        drop(dataset);
        t.run(
            "let q = open_raster(\"resources/quality_flags.tif\"); \
             [(q & 0x80000000).stats(), (q & 1).stats(), (q & 0x80000001).stats(), \
              (q.clip_xy([10.0, 44.8, 10.2, 45.0]) & 1).stats()]",
        )
        .unwrap()
        .cast::<rhai::Array>()
        .into_iter()
        .map(|s| {
            let s = s.cast::<rhai::Map>();
            (
                s["count"].as_int().unwrap(),
                (s["mean"].as_float().unwrap() * s["count"].as_int().unwrap() as f64).round()
                    as i64,
            )
        })
        .collect::<Vec<_>>()
    });
    let set = |mask: u32| {
        words
            .iter()
            .filter(|&&w| w != u32::MAX && w & mask != 0)
            .count() as i64
    };
    assert_eq!(counts[0], (5, set(0x8000_0000)), "land bit: {counts:?}");
    assert_eq!(counts[1], (5, set(1)), "bit 0 apart from bit 31");
    assert_eq!(counts[2], (5, set(0x8000_0001)));
    // The window's pixels: 0x80000000, 0x80000001, the fill, 0x40000000.
    assert_eq!(counts[3], (3, 1), "a window of the band");
}

/// Errors name files as the learner knows them, not by the host's path.
#[test]
fn errors_show_paths_relative_to_the_workspace() {
    let (message, root) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        let root = t.workspace();
        std::fs::create_dir_all(root.join("resources")).unwrap();
        std::fs::write(root.join("resources/broken.tif"), "not a GeoTIFF").unwrap();
        let error = t.run("open_raster(\"resources/broken.tif\")").unwrap_err();
        (format!("{error}"), root)
    });
    assert!(message.contains("resources/broken.tif"), "{message}");
    assert!(!message.contains(&root.display().to_string()), "{message}");
}

/// `only: "sea"` blanks the land of a map (Sardinia, from the Natural Earth
/// land mask), `only: "land"` the sea, and a projected map is refused with
/// the way out.
#[test]
fn a_map_can_show_only_the_sea_or_only_the_land() {
    let grey_pixels = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        let mut grey = Vec::new();
        for only in ["", ", only: \"sea\"", ", only: \"land\""] {
            t.exec(&format!(
                "let r = matrix(120, 120, 5.0).to_raster([7.5, 38.5, 10.5, 41.5]);
                 r.plot(#{{ units: \"°C\", coastlines: false{only} }}).save(\"output/map.png\");"
            ))
            .unwrap();
            let png = gdal::Dataset::open(t.workspace().join("output/map.png")).unwrap();
            let band = |i| {
                png.rasterband(i)
                    .unwrap()
                    .read_band_as::<u8>()
                    .unwrap()
                    .data()
                    .to_vec()
            };
            let (r, g, b) = (band(1), band(2), band(3));
            // Missing pixels are drawn in the light grey (235, 235, 235).
            grey.push(
                (0..r.len())
                    .filter(|&i| (r[i], g[i], b[i]) == (235, 235, 235))
                    .count(),
            );
        }
        let error = t
            .run(
                "matrix(10, 10, 1.0).to_raster([7.5, 38.5, 10.5, 41.5]).save(\"output/ll.tif\");
                 open_raster(\"output/ll.tif\").reproject(\"EPSG:32632\").plot(#{ only: \"sea\" })",
            )
            .unwrap_err()
            .to_string();
        (grey, error)
    });
    let (grey, error) = grey_pixels;
    // Without the option only a few pixels of the frame's text share the
    // missing pixels' grey. Sardinia covers about a quarter of the 3° x 3°
    // box, the sea the rest.
    assert!(
        grey[0] < 1_000,
        "nothing is missing without the option: {grey:?}"
    );
    assert!(
        grey[1] > 10_000 + grey[0] && grey[2] > 2 * grey[1],
        "{grey:?}"
    );
    assert!(
        error.contains("needs a lon/lat map") && error.contains("reproject"),
        "{error}"
    );
}
