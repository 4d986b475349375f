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

// ---------------------------------------------------------------------------
// A small GRD in the real SAFE layout, written with GDAL, with real quirks:
// zero DN borders, calibration and noise annotation with ESA's layout
// (vectors every few lines, pixels every 40, the last pixel included),
// IPF ≥ 2.9 noise in range vectors and azimuth blocks.

const PRODUCT: &str = "S1A_IW_GRDH_1SDV_20200818T050705_20200818T050730_033967_03F0B8_5C3A";
const STEM: &str = "s1a-iw-grd-vv-20200818t050705-20200818t050730-033967-03f0b8-001";
const WIDTH: usize = 500;
const HEIGHT: usize = 300;
/// Zero DN: the first columns and the last lines, as at real GRD borders.
const ZERO_COLUMNS: usize = 12;
const ZERO_LINES: usize = 9;

/// lon/lat of an image position: a rotated, slightly curved grid near Trieste
/// (about 10 m pixels).
fn ground(pixel: f64, line: f64) -> (f64, f64) {
    let lon = 13.60 + 0.000125 * pixel + 0.00002 * line + 1e-9 * pixel * pixel;
    let lat = 45.70 - 0.00009 * line + 0.000015 * pixel;
    (lon, lat)
}

/// The DN: dark sea with a few bright targets, a deterministic pattern.
fn dn(pixel: usize, line: usize) -> u16 {
    if pixel < ZERO_COLUMNS || line >= HEIGHT - ZERO_LINES {
        return 0;
    }
    let base = 20.0 + 15.0 * ((pixel as f64 / 17.0).sin() + (line as f64 / 11.0).cos()).abs();
    let bright = (pixel % 97 < 3 && line % 53 < 3) as u8 as f64 * 900.0;
    (base + bright) as u16
}

/// A table's lines and pixels, as real products space them.
fn table_lines(step: usize) -> Vec<usize> {
    let mut lines: Vec<usize> = (0..HEIGHT).step_by(step).collect();
    lines.push(HEIGHT - 1);
    lines
}

fn table_pixels() -> Vec<usize> {
    let mut pixels: Vec<usize> = (0..WIDTH).step_by(40).collect();
    pixels.push(WIDTH - 1);
    pixels
}

/// A value as the annotation writes it (7 significant digits, like ESA's).
fn written(value: f64) -> f64 {
    format!("{value:.6e}").parse().unwrap()
}

fn sigma_table(pixel: usize, line: usize) -> f64 {
    written(560.0 + 0.25 * pixel as f64 + 0.05 * line as f64)
}

fn noise_range(pixel: usize, line: usize) -> f64 {
    written(300.0 + 200.0 * ((pixel as f64) / 120.0).cos().abs() + 0.1 * line as f64)
}

/// The azimuth noise blocks: (first sample, last sample, lines, values).
fn azimuth_blocks() -> Vec<(usize, usize, Vec<usize>, Vec<f64>)> {
    vec![
        (0, 199, vec![0, 150, HEIGHT - 1], vec![1.0, 1.2, 0.9]),
        (200, WIDTH - 1, vec![0, HEIGHT - 1], vec![0.8, 1.1]),
    ]
}

fn join<T: ToString>(values: impl IntoIterator<Item = T>) -> String {
    values
        .into_iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

fn calibration_xml() -> String {
    let pixels = table_pixels();
    let mut vectors = String::new();
    for line in table_lines(64) {
        let sigma = join(
            pixels
                .iter()
                .map(|&p| format!("{:.6e}", sigma_table(p, line))),
        );
        let n = pixels.len();
        vectors += &format!(
            "<calibrationVector>\n<azimuthTime>2020-08-18T05:07:05.000000</azimuthTime>\n<line>{line}</line>\n<pixel count=\"{n}\">{}</pixel>\n<sigmaNought count=\"{n}\">{sigma}</sigmaNought>\n<betaNought count=\"{n}\">{}</betaNought>\n<gamma count=\"{n}\">{sigma}</gamma>\n<dn count=\"{n}\">{}</dn>\n</calibrationVector>\n",
            join(&pixels),
            join(pixels.iter().map(|_| "4.740000e+02")),
            join(pixels.iter().map(|_| "4.740000e+02")),
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<calibration>\n<adsHeader><missionId>S1A</missionId><productType>GRD</productType><polarisation>VV</polarisation></adsHeader>\n<calibrationInformation><absoluteCalibrationConstant>1.000000e+00</absoluteCalibrationConstant></calibrationInformation>\n<calibrationVectorList count=\"{}\">\n{vectors}</calibrationVectorList>\n</calibration>\n",
        table_lines(64).len()
    )
}

fn noise_xml() -> String {
    let pixels = table_pixels();
    let n = pixels.len();
    let mut range = String::new();
    for line in table_lines(100) {
        range += &format!(
            "<noiseRangeVector>\n<azimuthTime>2020-08-18T05:07:05.000000</azimuthTime>\n<line>{line}</line>\n<pixel count=\"{n}\">{}</pixel>\n<noiseRangeLut count=\"{n}\">{}</noiseRangeLut>\n</noiseRangeVector>\n",
            join(&pixels),
            join(
                pixels
                    .iter()
                    .map(|&p| format!("{:.6e}", noise_range(p, line)))
            )
        );
    }
    let mut azimuth = String::new();
    for (i, (first, last, lines, values)) in azimuth_blocks().into_iter().enumerate() {
        azimuth += &format!(
            "<noiseAzimuthVector>\n<swath>IW{}</swath>\n<firstAzimuthLine>0</firstAzimuthLine>\n<firstRangeSample>{first}</firstRangeSample>\n<lastAzimuthLine>{}</lastAzimuthLine>\n<lastRangeSample>{last}</lastRangeSample>\n<line count=\"{}\">{}</line>\n<noiseAzimuthLut count=\"{}\">{}</noiseAzimuthLut>\n</noiseAzimuthVector>\n",
            i + 1,
            HEIGHT - 1,
            lines.len(),
            join(&lines),
            values.len(),
            join(values.iter().map(|v| format!("{v:.6e}")))
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<noise>\n<adsHeader><missionId>S1A</missionId></adsHeader>\n<noiseRangeVectorList count=\"{}\">\n{range}</noiseRangeVectorList>\n<noiseAzimuthVectorList count=\"2\">\n{azimuth}</noiseAzimuthVectorList>\n</noise>\n",
        table_lines(100).len()
    )
}

/// The GCPs of the measurement: 21 across by 10 along, edges included.
fn gcps() -> Vec<gdal::Gcp> {
    let mut gcps = Vec::new();
    for j in 0..10 {
        for i in 0..21 {
            let (pixel, line) = (
                i as f64 * (WIDTH - 1) as f64 / 20.0,
                j as f64 * (HEIGHT - 1) as f64 / 9.0,
            );
            let (x, y) = ground(pixel, line);
            gcps.push(gdal::Gcp {
                id: (gcps.len() + 1).to_string(),
                info: String::new(),
                pixel,
                line,
                x,
                y,
                z: 0.0,
            });
        }
    }
    gcps
}

/// Writes a float or uint16 image with the product's GCPs (or none) and
/// the value that marks no data, if any.
fn write_image<T: gdal::raster::GdalType + Copy>(
    path: &std::path::Path,
    values: Vec<T>,
    located: bool,
    nodata: Option<f64>,
) {
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let dataset = driver
        .create_with_band_type::<T, _>(path, WIDTH, HEIGHT, 1)
        .unwrap();
    if located {
        dataset
            .set_gcps(
                gcps(),
                &gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap(),
            )
            .unwrap();
    }
    let mut band = dataset.rasterband(1).unwrap();
    band.set_no_data_value(nodata).unwrap();
    band.write(
        (0, 0),
        (WIDTH, HEIGHT),
        &mut gdal::raster::Buffer::new((WIDTH, HEIGHT), values),
    )
    .unwrap();
}

/// Writes the SAFE folder and returns the product's path.
fn write_product(dir: &std::path::Path, located: bool) -> String {
    let safe = dir.join(format!("{PRODUCT}.SAFE"));
    std::fs::create_dir_all(safe.join("measurement")).unwrap();
    std::fs::create_dir_all(safe.join("annotation/calibration")).unwrap();
    std::fs::write(safe.join("manifest.safe"), "<xfdu:XFDU></xfdu:XFDU>").unwrap();
    let values: Vec<u16> = (0..HEIGHT)
        .flat_map(|line| (0..WIDTH).map(move |pixel| dn(pixel, line)))
        .collect();
    write_image(
        &safe.join(format!("measurement/{STEM}.tiff")),
        values,
        located,
        None,
    );
    let calibration = safe.join("annotation/calibration");
    std::fs::write(
        calibration.join(format!("calibration-{STEM}.xml")),
        calibration_xml(),
    )
    .unwrap();
    std::fs::write(calibration.join(format!("noise-{STEM}.xml")), noise_xml()).unwrap();
    safe.display().to_string()
}

// The independent evaluation: ESA's formulas in f64, straight from the
// functions the tables were written from (no XML, no code shared with the
// library).

fn linear(xs: &[usize], ys: &[f64], x: f64) -> f64 {
    let last = xs.len() - 1;
    if x <= xs[0] as f64 {
        return ys[0];
    }
    if x >= xs[last] as f64 {
        return ys[last];
    }
    let i = (0..last).find(|&i| (xs[i + 1] as f64) >= x).unwrap();
    let t = (x - xs[i] as f64) / (xs[i + 1] - xs[i]) as f64;
    ys[i] * (1.0 - t) + ys[i + 1] * t
}

/// A table given at `lines` x `pixels` by `f`, interpolated bilinearly.
fn bilinear(lines: &[usize], f: impl Fn(usize, usize) -> f64, pixel: f64, line: f64) -> f64 {
    let pixels = table_pixels();
    let along: Vec<f64> = lines
        .iter()
        .map(|&l| {
            linear(
                &pixels,
                &pixels.iter().map(|&p| f(p, l)).collect::<Vec<_>>(),
                pixel,
            )
        })
        .collect();
    linear(lines, &along, line)
}

fn expected_sigma0(pixel: usize, line: usize, remove_noise: bool) -> f64 {
    let value = f64::from(dn(pixel, line));
    if value == 0.0 {
        return f64::NAN;
    }
    let (p, l) = (pixel as f64, line as f64);
    let gain = bilinear(&table_lines(64), sigma_table, p, l);
    let mut eta = 0.0;
    if remove_noise {
        let block = azimuth_blocks()
            .into_iter()
            .find(|b| (b.0..=b.1).contains(&pixel))
            .unwrap();
        eta = bilinear(&table_lines(100), noise_range, p, l) * linear(&block.2, &block.3, l);
    }
    let power = value * value - eta;
    if power <= 0.0 {
        f64::NAN
    } else {
        power / (gain * gain)
    }
}

/// The reference: the whole image calibrated independently, written as a
/// float32 GeoTIFF with the same GCPs and warped onto the box by the
/// `gdalwarp` program.
fn reference_clip(
    dir: &std::path::Path,
    bounds: (f64, f64, f64, f64),
    remove_noise: bool,
) -> Vec<f32> {
    let path = dir.join(format!("reference-{remove_noise}.tif"));
    let values: Vec<f32> = (0..HEIGHT)
        .flat_map(|line| {
            (0..WIDTH).map(move |pixel| expected_sigma0(pixel, line, remove_noise) as f32)
        })
        .collect();
    write_image(&path, values, true, Some(f64::NAN));
    let warped = dir.join(format!("reference-{remove_noise}-warped.tif"));
    let (width, height) = box_size(bounds, 10.0);
    let status = std::process::Command::new("gdalwarp")
        .args(["-q", "-overwrite", "-t_srs", "EPSG:4326", "-r", "bilinear"])
        .args(["-ot", "Float32", "-dstnodata", "nan", "-te"])
        .args([bounds.0, bounds.1, bounds.2, bounds.3].map(|v| v.to_string()))
        .args(["-ts".to_string(), width.to_string(), height.to_string()])
        .arg(&path)
        .arg(&warped)
        .status()
        .unwrap();
    assert!(status.success());
    let dataset = gdal::Dataset::open(&warped).unwrap();
    let band = dataset.rasterband(1).unwrap();
    band.read_as::<f32>((0, 0), (width, height), (width, height), None)
        .unwrap()
        .data()
        .to_vec()
}

/// The area: most of the image, including its zero borders.
const AREA: (f64, f64, f64, f64) = (13.601, 45.68, 13.655, 45.70);

fn largest_db_difference(found: &[f32], expected: &[f32]) -> f64 {
    assert_eq!(found.len(), expected.len());
    let mut worst = 0.0f64;
    for (&a, &b) in found.iter().zip(expected) {
        assert_eq!(a.is_nan(), b.is_nan(), "the same pixels are missing");
        if a.is_finite() {
            assert!(a > 0.0, "a calibrated power is positive");
            let difference = 10.0 * (f64::from(a).log10() - f64::from(b).log10());
            worst = worst.max(difference.abs());
        }
    }
    worst
}

#[test]
fn sigma0_agrees_with_an_independent_evaluation_of_esa_formulas() {
    let dir = tempfile::tempdir().unwrap();
    let grd = Grd::open(&write_product(dir.path(), true)).unwrap();
    for remove_noise in [false, true] {
        let calibration = Calibration {
            coefficient: Coefficient::Sigma0,
            remove_noise,
        };
        let clip =
            with_test_compute(|c| clip_calibrated(&grd, "VV", AREA, 10.0, calibration, c)).unwrap();
        assert_eq!(clip.unit, "sigma0");
        let found = with_test_compute(|c| c.plane(&clip)).unwrap().values;
        let expected = reference_clip(dir.path(), AREA, remove_noise);
        let valid = found.iter().filter(|v| v.is_finite()).count();
        let missing = found.len() - valid;
        assert!(
            valid > found.len() / 2 && missing > 0,
            "{valid} valid, {missing} missing"
        );
        let worst = largest_db_difference(&found, &expected);
        println!("noise removed: {remove_noise}: {valid} pixels, largest difference {worst:e} dB");
        assert!(worst < 1e-4, "{worst} dB");
        let db: Vec<f64> = found
            .iter()
            .filter(|v| v.is_finite())
            .map(|&v| 10.0 * f64::from(v).log10())
            .collect();
        let (low, high) = db
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), &v| {
                (a.min(v), b.max(v))
            });
        println!("  sigma0 from {low:.1} to {high:.1} dB");
        assert!(low.is_finite() && high < 10.0, "no -inf from zero borders");
    }
}

#[test]
fn an_area_outside_the_footprint_is_a_named_error_naming_both_extents() {
    let dir = tempfile::tempdir().unwrap();
    let grd = Grd::open(&write_product(dir.path(), true)).unwrap();
    let far = (15.0, 44.0, 15.1, 44.1);
    let error = clip(&grd, "VV", far, 10.0).unwrap_err();
    assert!(
        matches!(error, GrdError::AoiOutsideProduct { .. }),
        "{error}"
    );
    let message = error.to_string();
    assert!(message.contains("lon 15.0000…15.1000"), "{message}");
    assert!(message.contains("lon 13.6000…"), "{message}");
    let calibration = Calibration {
        coefficient: Coefficient::Sigma0,
        remove_noise: false,
    };
    let error =
        with_test_compute(|c| clip_calibrated(&grd, "VV", far, 10.0, calibration, c)).unwrap_err();
    assert!(
        matches!(error, GrdError::AoiOutsideProduct { .. }),
        "{error}"
    );
}

#[test]
fn a_measurement_without_gcps_or_geotransform_is_a_named_error() {
    let dir = tempfile::tempdir().unwrap();
    let grd = Grd::open(&write_product(dir.path(), false)).unwrap();
    let error = clip(&grd, "VV", AREA, 10.0).unwrap_err();
    assert!(
        matches!(error, GrdError::NotGeoreferenced { gcps: 0, .. }),
        "{error}"
    );
    assert!(error.to_string().contains(STEM), "{error}");
}

#[test]
fn sidecars_overviews_masks_and_other_files_are_not_measurements_or_tables() {
    let dir = tempfile::tempdir().unwrap();
    let safe = write_product(dir.path(), true);
    for extra in [".tiff.aux.xml", ".tiff.ovr", ".tiff.msk"] {
        std::fs::write(format!("{safe}/measurement/{STEM}{extra}"), "x").unwrap();
    }
    std::fs::write(format!("{safe}/measurement/quicklook-vv.tiff"), "x").unwrap();
    std::fs::write(
        format!("{safe}/annotation/calibration/calibration-{STEM}.xml.bak"),
        "x",
    )
    .unwrap();
    let grd = Grd::open(&safe).unwrap();
    assert_eq!(grd.polarisations(), ["VV"]);
    assert!(
        grd.measurement("vv")
            .unwrap()
            .ends_with(&format!("{STEM}.tiff"))
    );
    let calibration = Calibration {
        coefficient: Coefficient::Beta0,
        remove_noise: true,
    };
    assert!(grd.tables("vv", calibration).is_ok());
}

#[test]
fn a_measurement_opened_alone_finds_its_tables_in_its_safe() {
    let dir = tempfile::tempdir().unwrap();
    let safe = write_product(dir.path(), true);
    let alone = Grd::open(&format!("{safe}/measurement/{STEM}.tiff")).unwrap();
    let calibration = Calibration {
        coefficient: Coefficient::Gamma0,
        remove_noise: false,
    };
    assert!(alone.tables("vv", calibration).is_ok());
    let copied = dir.path().join(format!("{STEM}.tiff"));
    std::fs::copy(format!("{safe}/measurement/{STEM}.tiff"), &copied).unwrap();
    let error = Grd::open(&copied.display().to_string())
        .unwrap()
        .tables("vv", calibration)
        .unwrap_err()
        .to_string();
    assert!(error.contains("no calibration annotation"), "{error}");
}
