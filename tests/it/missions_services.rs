//! The Copernicus services tutorials (CAMS, CMEMS SST, CMEMS Med Sea, CGLS
//! vegetation, CGLS DMP) run as a student runs them, with `cleope run` on
//! the embedded default (the demo archive), and the numbers they print are
//! checked against the archive's truth.json; their figures must exist.

use crate::common::tutorial::{Run, close, demo_truth, run_tutorial};
use serde_json::Value;

/// The demo archive's truth, with the Copernicus services products.
fn truth() -> Value {
    demo_truth(&["cams", "cgls_dmp"])
}

fn run(tutorial: &str) -> Run {
    run_tutorial(&format!("services/{tutorial}"))
}

/// Each file was written: images of some size, other files not empty.
fn assert_files(out: &Run, relative: &[&str]) {
    for name in relative {
        let size = std::fs::metadata(out.file(name))
            .map(|m| m.len())
            .unwrap_or(0);
        let image = name.ends_with(".png") || name.ends_with(".gif");
        let least = if image { 1000 } else { 20 };
        assert!(size > least, "{name} was not written ({size} bytes)");
    }
}

fn rows<'a>(truth: &'a Value, topic: &str, key: &str) -> &'a Vec<Value> {
    truth[topic][key]
        .as_array()
        .unwrap_or_else(|| panic!("truth.json has no {topic}.{key}"))
}

#[test]
fn cams_shows_the_smoke_over_australia_and_the_no2_drop_over_china() {
    let truth = truth();
    let out = run("cams_composition.rhai");
    let monthly: Vec<&str> = truth["cams"]["monthly_dates"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    let co = rows(&truth, "cams", "tcco_australia");
    for row in co {
        let time = row["time"].as_str().unwrap();
        let is_daily = time.starts_with("2020-01-0");
        let is_monthly_midnight = monthly.contains(&&time[..10]) && time.ends_with("00:00");
        if is_daily || is_monthly_midnight {
            let printed = out.number(&format!("tcco over Australia on {time}: "));
            close(printed, row["mean"].as_f64().unwrap() * 1e3, 3e-5, time);
        }
    }
    let peak = co
        .iter()
        .filter(|r| r["time"].as_str().unwrap().starts_with("2020-01-0"))
        .max_by(|a, b| {
            a["mean"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["mean"].as_f64().unwrap())
        })
        .unwrap();
    assert!(
        out.has(&format!(
            "The smoke peaked on {} UTC",
            peak["time"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    let hcho = rows(&truth, "cams", "tchcho_australia");
    for row in hcho
        .iter()
        .filter(|r| r["time"].as_str().unwrap().ends_with("00:00"))
    {
        let time = row["time"].as_str().unwrap();
        let printed = out.number(&format!("tchcho over Australia on {time}: "));
        close(printed, row["mean"].as_f64().unwrap() * 1e6, 1e-4, time);
    }
    let no2 = rows(&truth, "cams", "tcno2_china");
    let mean_at = |time: &str| {
        no2.iter()
            .find(|r| r["time"] == time)
            .unwrap_or_else(|| panic!("no NO2 truth at {time}"))["mean"]
            .as_f64()
            .unwrap()
    };
    for time in monthly.iter().map(|d| format!("{d} 00:00")) {
        let printed = out.number(&format!("tcno2 over eastern China on {time}: "));
        close(printed, mean_at(&time) * 1e6, 1e-4, &time);
    }
    let change = (mean_at("2020-02-15 00:00") / mean_at("2020-01-15 00:00") - 1.0) * 100.0;
    close(
        out.number("NO2 over eastern China changed by "),
        change,
        0.011,
        "NO2 change",
    );
    assert!(change < -25.0, "the lockdown shows: {change} %");
    assert_files(
        &out,
        &[
            "output/cams_co_global_2020-01-15.png",
            "output/cams_co_australia.png",
            "output/cams_co_daily.png",
            "output/cams_no2_china.png",
        ],
    );
}

#[test]
fn cmems_sst_tabulates_the_global_mean_and_spread_per_month() {
    let truth = truth();
    let out = run("cmems_sst.rhai");
    let table = rows(&truth, "cmems", "dates");
    let monthly: Vec<&Value> = table
        .iter()
        .filter(|r| r["date"].as_str().unwrap().ends_with("-01"))
        .filter(|r| r["date"].as_str().unwrap() >= "2019-04-01")
        .collect();
    assert_eq!(monthly.len(), 16, "April 2019 to July 2020");
    for row in &monthly {
        let date = row["date"].as_str().unwrap();
        let mean = out.number(&format!("Global mean SST on {date}: "));
        close(mean, row["global_mean_c"].as_f64().unwrap(), 2e-3, date);
        let line = out
            .stdout
            .lines()
            .find(|l| l.starts_with(&format!("Global mean SST on {date}: ")))
            .unwrap();
        let std: f64 = line
            .split("(std ")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .and_then(|s| s.parse().ok())
            .unwrap();
        close(std, row["global_std_c"].as_f64().unwrap(), 2e-3, date);
    }
    let by_mean = |a: &&&Value, b: &&&Value| {
        a["global_mean_c"]
            .as_f64()
            .unwrap()
            .total_cmp(&b["global_mean_c"].as_f64().unwrap())
    };
    let warmest = monthly.iter().max_by(by_mean).unwrap();
    let coolest = monthly.iter().min_by(by_mean).unwrap();
    assert!(
        out.has(&format!(
            "The warmest global mean is on {}",
            warmest["date"].as_str().unwrap()
        )) && out.has(&format!(
            "the coolest on {}",
            coolest["date"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    assert_files(
        &out,
        &[
            "output/sst_global_2019-04-01.png",
            "output/sst_monthly.png",
            "output/sst_mean.png",
            "output/sst_box.png",
        ],
    );
}

#[test]
fn cmems_medsea_clips_animates_and_follows_the_heatwave() {
    let truth = truth();
    let out = run("cmems_medsea.rhai");
    let days: Vec<&Value> = rows(&truth, "cmems", "dates")
        .iter()
        .filter(|r| r["date"].as_str().unwrap().starts_with("2019-08-"))
        .collect();
    assert_eq!(days.len(), 14, "1 to 14 August 2019");
    for row in &days {
        let date = row["date"].as_str().unwrap();
        let prefix = format!("Mediterranean mean SST on {date}: ");
        close(
            out.number(&prefix),
            row["medsea_mean_c"].as_f64().unwrap(),
            2e-3,
            date,
        );
        let pixels = row["medsea_pixels"].as_u64().unwrap();
        assert!(
            out.has(&format!("over {pixels} pixels")),
            "{date}: {pixels} sea pixels inside the outline expected\n{}",
            out.stdout
        );
    }
    let warmest = days
        .iter()
        .max_by(|a, b| {
            a["medsea_mean_c"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["medsea_mean_c"].as_f64().unwrap())
        })
        .unwrap();
    assert!(
        out.has(&format!(
            "The warmest day was {}",
            warmest["date"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    let peak = truth["cmems"]["heatwave"]["peak_c"].as_f64().unwrap();
    let largest = out.number("The largest warming was ");
    assert!(
        largest > 0.7 * peak && largest < 1.2 * peak,
        "the heatwave's core warmed by {largest} °C (built as {peak} °C)"
    );
    let gif = std::fs::File::open(out.file("output/medsea/movie.gif")).unwrap();
    let mut decoder = gif::DecodeOptions::new().read_info(gif).unwrap();
    let mut frames = 0;
    while decoder.read_next_frame().unwrap().is_some() {
        frames += 1;
    }
    assert_eq!(frames, 14, "one frame a day");
    assert_files(
        &out,
        &[
            "resources/medsea.json",
            "output/medsea/sst_2019-08-01.png",
            "output/medsea/sst_2019-08-14.png",
            "output/medsea_mean.png",
            "output/medsea_warming.png",
        ],
    );
}

#[test]
fn cgls_vegetation_opens_the_most_recent_products_and_falls_back() {
    let truth = truth();
    let out = run("cgls_vegetation.rhai");
    for code in ["NDVI", "FAPAR", "FCOVER", "LAI"] {
        let products = rows(&truth, "cgls", code);
        let latest = products.last().unwrap();
        let date = latest["date"].as_str().unwrap();
        assert!(date.starts_with("2020-05-"), "{code}: {date}");
        let prefix = format!("{code} {date} over Europe: mean ");
        close(
            out.number(&prefix),
            latest["europe_mean"].as_f64().unwrap(),
            2e-4,
            code,
        );
        let pixels = latest["europe_pixels"].as_u64().unwrap();
        let line = out.stdout.lines().find(|l| l.starts_with(&prefix)).unwrap();
        assert!(
            line.contains(&format!("({pixels} pixels")),
            "{code}: {pixels} valid pixels expected: {line}"
        );
    }
    let ndvi = rows(&truth, "cgls", "NDVI");
    let may = ndvi.last().unwrap()["date"].as_str().unwrap();
    assert!(
        out.has(&format!(
            "NDVI for June 2020 falls back to {may} (1 month back)."
        )),
        "{}",
        out.stdout
    );
    let april = &ndvi[0];
    let printed = out.number("Mean NDVI over Europe: ");
    close(
        printed,
        april["europe_mean"].as_f64().unwrap(),
        2e-4,
        "April NDVI",
    );
    assert!(out.has(&format!("on {}", april["date"].as_str().unwrap())));
    assert!(
        out.number("NDVI change north of 48° N: ") > 0.05,
        "the north greens up in May"
    );
    assert_files(
        &out,
        &[
            "output/cgls_NDVI.png",
            "output/cgls_FAPAR.png",
            "output/cgls_FCOVER.png",
            "output/cgls_LAI.png",
            "output/cgls_ndvi_change.png",
        ],
    );
}

#[test]
fn cgls_dmp_stacks_sardinia_in_kg_per_hectare_and_day() {
    let truth = truth();
    let out = run("cgls_dmp.rhai");
    let dekads = rows(&truth, "cgls_dmp", "dates");
    assert!(out.has(&format!("{} EURO DMP products in 2020", dekads.len())));
    for row in dekads {
        let date = row["date"].as_str().unwrap();
        close(
            out.number(&format!("DMP over Sardinia on {date}: ")),
            row["sardinia_mean"].as_f64().unwrap(),
            2e-3,
            date,
        );
    }
    let best = dekads
        .iter()
        .max_by(|a, b| {
            a["sardinia_mean"]
                .as_f64()
                .unwrap()
                .total_cmp(&b["sardinia_mean"].as_f64().unwrap())
        })
        .unwrap();
    assert!(
        out.has(&format!(
            "grew fastest in the dekad of {}",
            best["date"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    assert!(
        out.has(&format!(
            "Product time of the first product: {}",
            dekads[0]["product_time"].as_str().unwrap()
        )),
        "{}",
        out.stdout
    );
    assert_files(
        &out,
        &[
            "resources/polygon.json",
            "output/dmp_europe_first.png",
            "output/dmp_sardinia.png",
            "output/dmp_sardinia_series.png",
        ],
    );
}

/// A GeoTIFF of `values` (4 x 2, lon/lat), its unit type `unit`.
fn write_lonlat_tif(path: &std::path::Path, values: Vec<f32>, unit: &str) -> gdal::Dataset {
    use gdal::raster::Buffer;
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut ds = gdal::DriverManager::get_driver_by_name("GTiff")
        .unwrap()
        .create_with_band_type::<f32, _>(path, 4, 2, 1)
        .unwrap();
    ds.set_geo_transform(&[10.0, 1.0, 0.0, 46.0, 0.0, -1.0])
        .unwrap();
    ds.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap())
        .unwrap();
    let mut band = ds.rasterband(1).unwrap();
    band.write((0, 0), (4, 2), &mut Buffer::new((4, 2), values))
        .unwrap();
    let unit = std::ffi::CString::new(unit).unwrap();
    // SAFETY: the band is open and the string outlives the call (the gdal
    // crate has no setter for the unit type).
    unsafe { gdal_sys::GDALSetRasterUnitType(band.c_rasterband(), unit.as_ptr()) };
    ds
}

#[test]
fn to_celsius_reads_the_unit_so_a_grib_temperature_is_not_converted_twice() {
    use crate::common::{TestSession, on_script_thread};
    let kelvin: Vec<f32> = (0..8).map(|i| 280.0 + i as f32).collect();
    let expected = kelvin.iter().map(|&k| f64::from(k) - 273.15).sum::<f64>() / 8.0;
    let (grib_mean, kelvin_mean, refusal) =
        on_script_thread(std::time::Duration::from_secs(60), move || {
            let mut t = TestSession::new(|_| {});
            let ws = t.workspace();
            // A 2 m temperature in kelvin, written as GRIB 2 by GDAL's driver;
            // GDAL reads it back in °C (GRIB_NORMALIZE_UNITS).
            let tif = write_lonlat_tif(&ws.join("resources/t2m.tif"), kelvin.clone(), "K");
            let options = gdal::raster::RasterCreationOptions::from_iter([
                "INPUT_UNIT=K",
                "DISCIPLINE=0",
                "PDS_TEMPLATE_NUMBERS=0 0 2 0 0 0 0 0 1 0 0 0 0 1 0 0 0 0 0 255 0 0 0 0 0",
            ]);
            let grib_driver = gdal::DriverManager::get_driver_by_name("GRIB").unwrap();
            tif.create_copy(&grib_driver, ws.join("resources/t2m.grib2"), &options)
                .unwrap()
                .close()
                .unwrap();
            drop(tif);
            write_lonlat_tif(&ws.join("resources/height.tif"), vec![1.0; 8], "m");
            let mean = |t: &mut TestSession, code: &str| {
                t.run(code).unwrap().cast::<rhai::Map>()["mean"]
                    .as_float()
                    .unwrap()
            };
            let grib = mean(
                &mut t,
                "to_celsius(open_raster(\"resources/t2m.grib2\")).stats()",
            );
            let tif = mean(
                &mut t,
                "to_celsius(open_raster(\"resources/t2m.tif\")).stats()",
            );
            let refusal = t
                .run("to_celsius(open_raster(\"resources/height.tif\"))")
                .unwrap_err()
                .to_string();
            (grib, tif, refusal)
        });
    assert!(
        (grib_mean - expected).abs() < 1e-3,
        "GRIB: {grib_mean} vs {expected}"
    );
    assert!(
        (kelvin_mean - expected).abs() < 1e-4,
        "K: {kelvin_mean} vs {expected}"
    );
    assert!(
        refusal.contains("UnitMismatch") && refusal.contains("\"m\""),
        "{refusal}"
    );
}

/// A global grid at 10 degrees as CAMS and OISST write them: `lat` values
/// (in the file's order), longitudes 5..355 E, one `time`, `variable`
/// holding `value(lon, lat)`.
fn write_global_nc(
    path: &std::path::Path,
    variable: &str,
    lats: &[f32],
    time_units: &str,
    unit: &str,
    value: impl Fn(f32, f32) -> f32,
) {
    use cleope::eo::netcdf::{Attr, NcWriter};
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let lons: Vec<f32> = (0..36).map(|i| 5.0 + 10.0 * i as f32).collect();
    let nc = NcWriter::create(path).unwrap();
    {
        let root = nc.root();
        root.attribute(&Attr::str("Conventions", "CF-1.6")).unwrap();
        let time = root.dimension("time", 1).unwrap();
        let lat = root.dimension("latitude", lats.len()).unwrap();
        let lon = root.dimension("longitude", lons.len()).unwrap();
        root.write(
            "time",
            &[&time],
            &[0.0f64],
            &[Attr::str("units", time_units)],
        )
        .unwrap();
        let north = [Attr::str("units", "degrees_north")];
        root.write("latitude", &[&lat], lats, &north).unwrap();
        let east = [Attr::str("units", "degrees_east")];
        root.write("longitude", &[&lon], &lons, &east).unwrap();
        let values: Vec<f32> = lats
            .iter()
            .flat_map(|&la| lons.iter().map(move |&lo| (lo, la)))
            .map(|(lo, la)| value(lo, la))
            .collect();
        root.write(
            variable,
            &[&time, &lat, &lon],
            &values,
            &[Attr::str("units", unit)],
        )
        .unwrap();
    }
    nc.close().unwrap();
}

#[test]
fn cams_and_sst_files_open_by_their_content_whatever_their_names() {
    use crate::common::{TestSession, on_script_thread};
    let descending: Vec<f32> = (0..18).map(|i| 85.0 - 10.0 * i as f32).collect();
    let ascending: Vec<f32> = descending.iter().rev().copied().collect();
    // Values at lon 15 E: one per latitude, so a flip or a shift shows.
    let column = |la: f32| 1e-3 * (la + 100.0);
    let (cams, sst, date, refusal) = on_script_thread(
        std::time::Duration::from_secs(60),
        move || {
            let mut t = TestSession::new(|_| {});
            let ws = t.workspace();
            write_global_nc(
                &ws.join("local_files/ads-download.nc"),
                "tcco",
                &descending,
                "hours since 2023-03-01 12:00:00.0",
                "kg m**-2",
                move |lo, la| if lo == 15.0 { column(la) } else { 0.0 },
            );
            write_global_nc(
                &ws.join("local_files/oisst-avhrr-v02r01.20230101.nc"),
                "sst",
                &ascending,
                "days since 2023-01-01 12:00:00",
                "Celsius",
                |lo, la| lo / 10.0 + la,
            );
            let cams = t
                .run(
                    "let co = cams_open(\"local_files/ads-download.nc\"); \
                  co.clip([10.0, 30.0, 20.0, 40.0]).stats().mean",
                )
                .unwrap()
                .as_float()
                .unwrap();
            let sst = t
            .run("to_celsius(gmpe_open(\"local_files/oisst-avhrr-v02r01.20230101.nc\")).clip([-20.0, -10.0, -10.0, 0.0]).stats().mean")
            .unwrap()
            .as_float()
            .unwrap();
            let date = t
                .run("gmpe_date(\"local_files/oisst-avhrr-v02r01.20230101.nc\")")
                .unwrap()
                .into_string()
                .unwrap();
            let refusal = t
                .run("gmpe_open(\"local_files/ads-download.nc\")")
                .unwrap_err()
                .to_string();
            (cams, sst, date, refusal)
        },
    );
    assert!(
        (cams - f64::from(column(35.0))).abs() < 1e-9,
        "CAMS at 35 N, 15 E: {cams}"
    );
    // 15 W is 345 E: 34.5 + (-5).
    assert!((sst - 29.5).abs() < 1e-4, "OISST at 5 S, 15 W: {sst}");
    assert_eq!(date, "2023-01-01");
    assert!(
        refusal.contains("holds")
            && refusal.contains("tcco")
            && refusal.contains("analysed_sst or sst"),
        "{refusal}"
    );
}
