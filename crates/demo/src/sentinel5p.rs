//! Sentinel-5P TROPOMI Level-2 products of the demo archive, each a zip
//! product holding one netCDF-4 file as ONDA served them (CDSE serves the
//! `.nc` itself), in the real layout: group `PRODUCT` with `time`,
//! `scanline`, `ground_pixel`, `delta_time`, `latitude`/`longitude` and
//! `qa_value` (uint8, scale 0.01) over (time, scanline, ground_pixel), the
//! species' column in `mol m-2` with its
//! `multiplication_factor_to_convert_to_molecules_percm2` and precision,
//! and the global `time_coverage_start`/`_end`. Each file holds the part of
//! its orbit that crosses the tutorial's area (reduced extent):
//!
//! | species | where, when | pixels | tutorial |
//! | --- | --- | --- | --- |
//! | CO | eastern Australia, orbits 11460 and 11461 of 2019-12-30 | 118 x 260 of 22 km | Australia: the bushfire smoke over the Tasman Sea |
//! | NO2 | northern Italy, 5 dates 2020-02-01 … 03-11 | 230 x 236 of 7 x 5.5 km | Italy: the Po valley's NO2 falling in the lockdown |
//! | CO | Chernobyl, 2020-04-06 | 100 x 160 of 7 x 5.5 km | SLSTR fire: the fire's smoke |
//! | SO2 | Anak Krakatau, 2020-04-12 and 04-14 | 100 x 160 of 5.5 x 3.5 km | Krakatoa: the eruption's plume |
//! | CO | north-east Siberia, 2020-06-19 | 120 x 200 of 14 x 7 km | LST: smoke of the Yakutian fires |
//!
//! The truths are computed from the values as written: the reader's view
//! (float32 columns and coordinates, `qa_value` x 0.01) with the
//! tutorials' quality thresholds and areas.

use super::sentinel3::{
    Cloud, SwathFrame, at, bump, cloud_cover, italy_elevation, make_pixels, mean_of, plume,
    round_to,
};
use super::{ArchiveBuilder, DemoError, Packing, ProductSpec};
use chrono::{Duration, NaiveDateTime};
use cleope_eo::netcdf::{Attr, NcError, NcWriter};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use serde_json::{Map, Value, json};
use std::path::Path;

/// Writes every Sentinel-5P product the tutorials use.
pub fn write(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    australia(builder)?;
    italy(builder)?;
    chernobyl(builder)?;
    krakatoa(builder)?;
    siberia(builder)?;
    Ok(())
}

/// Molecules per cm² in one mol per m² (Avogadro's number / 10⁴), the
/// factor the products carry.
pub const MOLECULES_PER_CM2: f64 = 6.02214e19;
/// The fill value of float variables.
const FILL: f32 = 9.96921e36;

/// The Australia notebook's bounds (lon_min, lat_min, lon_max, lat_max).
pub const AUSTRALIA: [f64; 4] = [109.0, -41.0, 162.0, 0.4];
/// The Italy notebook's bounds.
pub const ITALY: [f64; 4] = [1.5, 42.0, 20.0, 51.0];
/// The Po valley, where the NO2 time series is taken.
pub const PO_VALLEY: [f64; 4] = [7.0, 44.4, 12.6, 45.9];
/// The SLSTR notebook's Sentinel-5P bounds around Chernobyl.
pub const CHERNOBYL: [f64; 4] = [27.0, 49.0, 32.0, 53.0];
/// The Krakatoa notebook's Sentinel-5P bounds.
pub const KRAKATOA: [f64; 4] = [104.5, -6.4, 106.0, -5.0];
/// The LST notebook's CO bounds over Siberia.
pub const SIBERIA: [f64; 4] = [130.5176, 62.0512, 165.84961, 73.0978];

/// A TROPOMI Level-2 species as its products name and store it.
struct Species {
    /// The product type, e.g. `L2__CO____`.
    product_type: &'static str,
    variable: &'static str,
    long_name: &'static str,
    standard_name: &'static str,
    title: &'static str,
    institution: &'static str,
    processor: &'static str,
}

const CO: Species = Species {
    product_type: "L2__CO____",
    variable: "carbonmonoxide_total_column",
    long_name: "Vertically integrated CO column",
    standard_name: "atmosphere_mole_content_of_carbon_monoxide",
    title: "TROPOMI/S5P Carbon Monoxide Total Column",
    institution: "SRON",
    processor: "010302",
};

const NO2: Species = Species {
    product_type: "L2__NO2___",
    variable: "nitrogendioxide_tropospheric_column",
    long_name: "Tropospheric vertical column of nitrogen dioxide",
    standard_name: "troposphere_mole_content_of_nitrogen_dioxide",
    title: "TROPOMI/S5P NO2 1-Orbit L2 Swath 7x3.5km",
    institution: "KNMI",
    processor: "010302",
};

const SO2: Species = Species {
    product_type: "L2__SO2___",
    variable: "sulfurdioxide_total_vertical_column",
    long_name: "total vertical column of sulfur dioxide for the polluted scenario derived from the total slant column",
    standard_name: "atmosphere_mole_content_of_sulfur_dioxide",
    title: "TROPOMI/S5P SO2 1-Orbit L2 Swath 7x3.5km",
    institution: "BIRA-IASB",
    processor: "010107",
};

/// Orbit 11460 began at this time; orbits follow every 6090 s (101.5 min).
const ORBIT_11460: &str = "20191230T031029";
const ORBIT_SECONDS: i64 = 6090;
/// Minutes from an orbit's start (its southernmost point) to the ascending
/// pass over a latitude: a quarter orbit to the equator, then northward.
fn minutes_to(latitude: f64) -> f64 {
    25.4 + latitude / 90.0 * 25.4
}

/// One file: the species, the orbit, and the part of the swath written.
struct Granule {
    species: &'static Species,
    orbit: u32,
    frame: SwathFrame,
}

impl Granule {
    /// The granule of `species` whose orbit passes over `frame` near 13:30
    /// local solar time on `day` (YYYYMMDD).
    fn over(species: &'static Species, day: &str, frame: SwathFrame) -> Granule {
        let noon = at(&format!("{day}T133000"));
        let overpass = noon - Duration::seconds((frame.centre.0 / 15.0 * 3600.0) as i64);
        let orbit_start = overpass - Duration::seconds((minutes_to(frame.centre.1) * 60.0) as i64);
        let elapsed = (orbit_start - at(ORBIT_11460)).num_seconds();
        let orbit = 11460 + (elapsed as f64 / ORBIT_SECONDS as f64).round() as i64;
        Granule {
            species,
            orbit: orbit as u32,
            frame,
        }
    }

    fn start(&self) -> NaiveDateTime {
        at(ORBIT_11460) + Duration::seconds((i64::from(self.orbit) - 11460) * ORBIT_SECONDS)
    }

    fn stop(&self) -> NaiveDateTime {
        self.start() + Duration::seconds(ORBIT_SECONDS)
    }

    fn produced(&self) -> NaiveDateTime {
        self.stop() + Duration::hours(37) + Duration::seconds(i64::from(self.orbit % 3600))
    }

    /// E.g. `S5P_OFFL_L2__NO2____20200201T113215_20200201T131345_11907_01_010302_20200203T041236`.
    fn stem(&self) -> String {
        let time = |t: NaiveDateTime| t.format("%Y%m%dT%H%M%S").to_string();
        format!(
            "S5P_OFFL_{}_{}_{}_{:05}_01_{}_{}",
            self.species.product_type,
            time(self.start()),
            time(self.stop()),
            self.orbit,
            self.species.processor,
            time(self.produced())
        )
    }

    /// Seconds from the orbit's start to the first scanline written (the
    /// frame's southern edge), and between scanlines (the ground moves
    /// about 6.9 km/s).
    fn scan_timing(&self) -> (f64, f64) {
        let step = self.frame.along_km / 6.9;
        let half = self.frame.rows as f64 / 2.0 * step;
        (minutes_to(self.frame.centre.1) * 60.0 - half, step)
    }

    fn spec(&self) -> ProductSpec {
        let stem = self.stem();
        let day = self.start().format("%Y/%m/%d");
        let mut attributes = Map::new();
        let mut set = |key: &str, value: Value| {
            attributes.insert(key.into(), value);
        };
        set("productType", json!(self.species.product_type));
        set("processingLevel", json!("L2"));
        set("orbitNumber", json!(self.orbit));
        set("platformShortName", json!("SENTINEL-5P"));
        set("instrumentShortName", json!("TROPOMI"));
        set("processorVersion", json!(self.species.processor));
        set("productClass", json!("OFFL"));
        set("timeliness", json!("Offline"));
        set("orbitDirection", json!("ASCENDING"));
        ProductSpec {
            name: format!("{stem}.zip"),
            cdse_name: Some(format!("{stem}.nc")),
            mission: Some("Sentinel-5 Precursor".into()),
            collection: "SENTINEL-5P".into(),
            product_type: self.species.product_type.into(),
            main_class: None,
            begin: millis(self.start()),
            end: millis(self.stop()),
            footprint: self.frame.footprint(),
            pseudopath: format!("ATMOSPHERIC/LEVEL-2/{day}"),
            s3_folder: format!(
                "/eodata/Sentinel-5P/TROPOMI/{}/{day}",
                self.species.product_type
            ),
            online: true,
            packing: Packing::Zip,
            attributes,
        }
    }
}

fn millis(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One ground pixel: the column (mol/m², NaN where not retrieved) and its
/// quality (0 to 1).
#[derive(Debug, Clone, Copy)]
struct Retrieval {
    column: f64,
    qa: f64,
}

/// What a reader sees of a pixel: position, column (mol/m²) and qa value.
#[derive(Debug, Clone, Copy)]
struct Seen {
    lon: f64,
    lat: f64,
    column: f64,
    qa: f64,
}

/// Writes a granule (its retrievals made pixel by pixel) and returns what a
/// reader sees of it.
fn write_granule(
    builder: &mut ArchiveBuilder,
    granule: &Granule,
    retrieve: impl Fn((f64, f64), &mut rand::rngs::StdRng) -> Retrieval + Sync,
) -> Result<Vec<Seen>, DemoError> {
    let stem = granule.stem();
    let positions = granule.frame.positions();
    let retrievals = make_pixels(&granule.frame, &stem, retrieve);
    let spec = granule.spec();
    let folder = builder.staging(&spec)?;
    let file = folder.join(format!("{stem}.nc"));
    write_netcdf(&file, granule, &positions, &retrievals)
        .map_err(|e| DemoError::product(&stem, e))?;
    builder.finish(spec)?;
    Ok(positions
        .iter()
        .zip(&retrievals)
        .map(|(&(lon, lat), r)| Seen {
            lon: f64::from(lon as f32),
            lat: f64::from(lat as f32),
            column: f64::from(stored_column(r.column)),
            qa: f64::from(stored_qa(r.qa)) * 0.01,
        })
        .collect())
}

fn stored_column(column: f64) -> f32 {
    if column.is_finite() {
        column as f32
    } else {
        f32::NAN
    }
}

fn stored_qa(qa: f64) -> u8 {
    (qa * 100.0).round().clamp(0.0, 100.0) as u8
}

/// The netCDF-4 file: global attributes and the `PRODUCT` group.
fn write_netcdf(
    path: &Path,
    granule: &Granule,
    positions: &[(f64, f64)],
    retrievals: &[Retrieval],
) -> Result<(), NcError> {
    let species = granule.species;
    let (rows, columns) = (granule.frame.rows, granule.frame.columns);
    let (first_second, step) = granule.scan_timing();
    let first_scanline = (first_second / step).round() as i32;
    let reference = granule.start().date().and_hms_opt(0, 0, 0).unwrap();
    let scan_start = granule.start() + Duration::milliseconds((first_second * 1000.0) as i64);
    let scan_end = scan_start + Duration::milliseconds((rows as f64 * step * 1000.0) as i64);
    let iso = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let nc = NcWriter::create(path)?;
    let root = nc.root();
    let (west, south, east, north) = positions.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |b, p| (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1)),
    );
    for attr in [
        Attr::str("Conventions", "CF-1.7"),
        Attr::str("institution", species.institution),
        Attr::str(
            "source",
            "Sentinel 5 precursor, TROPOMI, space-borne remote sensing, L2",
        ),
        Attr::str("title", species.title),
        Attr::str("id", &granule.stem()),
        Attr::str("platform", "S5P"),
        Attr::str("sensor", "TROPOMI"),
        Attr::str("processor_version", &version(species.processor)),
        Attr::i32("orbit", granule.orbit as i32),
        Attr::str("time_reference", &iso(reference)),
        Attr::str("time_coverage_start", &iso(scan_start)),
        Attr::str("time_coverage_end", &iso(scan_end)),
        Attr::f64("geospatial_lat_min", south),
        Attr::f64("geospatial_lat_max", north),
        Attr::f64("geospatial_lon_min", west),
        Attr::f64("geospatial_lon_max", east),
        Attr::str("cdm_data_type", "Swath"),
    ] {
        root.attribute(&attr)?;
    }
    let product = root.group("PRODUCT")?;
    let scanline = product.dimension("scanline", rows)?;
    let ground_pixel = product.dimension("ground_pixel", columns)?;
    let time = product.dimension("time", 1)?;
    product.write(
        "scanline",
        &[&scanline],
        &(0..rows as i32)
            .map(|i| first_scanline + i)
            .collect::<Vec<_>>(),
        &[
            Attr::str("long_name", "along-track dimension index"),
            Attr::str("units", "1"),
        ],
    )?;
    product.write(
        "ground_pixel",
        &[&ground_pixel],
        &(0..columns as i32).collect::<Vec<_>>(),
        &[
            Attr::str("long_name", "across-track dimension index"),
            Attr::str("units", "1"),
        ],
    )?;
    let epoch = at("20100101T000000");
    product.write(
        "time",
        &[&time],
        &[(reference - epoch).num_seconds() as i32],
        &[
            Attr::str("long_name", "reference time for the measurements"),
            Attr::str("standard_name", "time"),
            Attr::str("units", "seconds since 2010-01-01 00:00:00"),
        ],
    )?;
    let delta: Vec<i32> = (0..rows)
        .map(|i| {
            ((scan_start - reference).num_milliseconds() as f64 + i as f64 * step * 1000.0) as i32
        })
        .collect();
    product.write(
        "delta_time",
        &[&time, &scanline],
        &delta,
        &[
            Attr::str(
                "long_name",
                "offset from reference start time of measurement",
            ),
            Attr::str(
                "units",
                &format!(
                    "milliseconds since {}",
                    reference.format("%Y-%m-%d %H:%M:%S")
                ),
            ),
        ],
    )?;
    let swath = [&time, &scanline, &ground_pixel];
    for (name, standard, units, index) in [
        ("latitude", "latitude", "degrees_north", 1),
        ("longitude", "longitude", "degrees_east", 0),
    ] {
        let values: Vec<f32> = positions
            .iter()
            .map(|p| if index == 0 { p.0 as f32 } else { p.1 as f32 })
            .collect();
        product.write(
            name,
            &swath,
            &values,
            &[
                Attr::f64("_FillValue", f64::from(FILL)),
                Attr::str("long_name", &format!("pixel center {name}")),
                Attr::str("standard_name", standard),
                Attr::str("units", units),
                Attr::f64("valid_min", if index == 0 { -180.0 } else { -90.0 }),
                Attr::f64("valid_max", if index == 0 { 180.0 } else { 90.0 }),
            ],
        )?;
    }
    product.write(
        "qa_value",
        &swath,
        &retrievals.iter().map(|r| stored_qa(r.qa)).collect::<Vec<_>>(),
        &[
            Attr::f64("_FillValue", 255.0),
            Attr::f64("scale_factor", 0.01),
            Attr::f64("add_offset", 0.0),
            Attr::str("long_name", "data quality value"),
            Attr::str("comment", "A continuous quality descriptor, varying between 0 (no data) and 1 (full quality data). Recommend to ignore data with qa_value < 0.5"),
            Attr::str("coordinates", "longitude latitude"),
            Attr::f64("valid_min", 0.0),
            Attr::f64("valid_max", 100.0),
        ],
    )?;
    let column = |scale: f64| {
        retrievals
            .iter()
            .map(|r| {
                if r.column.is_finite() {
                    (r.column * scale) as f32
                } else {
                    FILL
                }
            })
            .collect::<Vec<_>>()
    };
    product.write(
        species.variable,
        &swath,
        &column(1.0),
        &[
            Attr::f64("_FillValue", f64::from(FILL)),
            Attr::str("units", "mol m-2"),
            Attr::str("standard_name", species.standard_name),
            Attr::str("long_name", species.long_name),
            Attr::str("coordinates", "longitude latitude"),
            Attr::str(
                "ancillary_variables",
                &format!("{}_precision", species.variable),
            ),
            Attr::f64(
                "multiplication_factor_to_convert_to_molecules_percm2",
                MOLECULES_PER_CM2,
            ),
            Attr::f64("multiplication_factor_to_convert_to_DU", 2241.15),
        ],
    )?;
    let precision_name = format!("{}_precision", species.variable);
    product.write(
        &precision_name,
        &swath,
        &retrievals
            .iter()
            .map(|r| {
                if r.column.is_finite() {
                    (r.column.abs() * 0.05 + 1e-5) as f32
                } else {
                    FILL
                }
            })
            .collect::<Vec<_>>(),
        &[
            Attr::f64("_FillValue", f64::from(FILL)),
            Attr::str("units", "mol m-2"),
            Attr::str(
                "long_name",
                &format!("standard error of {}", species.long_name),
            ),
            Attr::str("coordinates", "longitude latitude"),
            Attr::f64(
                "multiplication_factor_to_convert_to_molecules_percm2",
                MOLECULES_PER_CM2,
            ),
        ],
    )?;
    drop((scanline, ground_pixel, time, product, root));
    nc.close()
}

/// `010302` → `1.3.2`.
fn version(processor: &str) -> String {
    processor
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            String::from_utf8_lossy(pair)
                .trim_start_matches('0')
                .to_string()
        })
        .map(|part| {
            if part.is_empty() {
                "0".to_string()
            } else {
                part
            }
        })
        .collect::<Vec<_>>()
        .join(".")
}

fn inside(seen: &Seen, bounds: [f64; 4]) -> bool {
    seen.lon >= bounds[0] && seen.lon <= bounds[2] && seen.lat >= bounds[1] && seen.lat <= bounds[3]
}

/// The retrievals a tutorial keeps: in `bounds`, quality at least `qa`.
fn kept(seen: &[Seen], bounds: [f64; 4], qa: f64) -> impl Iterator<Item = &Seen> {
    seen.iter()
        .filter(move |s| s.column.is_finite() && s.qa >= qa && inside(s, bounds))
}

/// The largest kept column (in `unit` per mol/m²) and where it is.
fn peak(seen: &[Seen], bounds: [f64; 4], qa: f64, unit: f64) -> Value {
    let best = kept(seen, bounds, qa).fold(None::<&Seen>, |best, s| match best {
        Some(b) if b.column >= s.column => Some(b),
        _ => Some(s),
    });
    match best {
        Some(s) => {
            json!({ "value": s.column * unit, "lon": round_to(s.lon, 3), "lat": round_to(s.lat, 3) })
        }
        None => Value::Null,
    }
}

/// Mean of the kept columns (in `unit` per mol/m²); with `positive`, only
/// the columns above zero, as CLEOPE's time series took them.
fn area_mean(seen: &[Seen], bounds: [f64; 4], qa: f64, unit: f64, positive: bool) -> Value {
    let (mean, count) = mean_of(
        kept(seen, bounds, qa)
            .filter(|s| !positive || s.column > 0.0)
            .map(|s| s.column * unit),
    );
    json!({ "mean": mean, "pixels": count })
}

fn noise(sigma: f64) -> Normal<f64> {
    Normal::new(0.0, sigma).unwrap()
}

/// A cloud's effect on quality: qa drops to `cloudy` inside it.
fn quality(clouds: &[Cloud], point: (f64, f64), clear: f64, cloudy: f64) -> f64 {
    if cloud_cover(clouds, point, 0.0) > 0.5 {
        cloudy
    } else {
        clear
    }
}

// ---------------------------------------------------------------------------
// Australia, 30 December 2019: the bushfire smoke

/// The fire fronts of New South Wales and Victoria: source, strength (mol/m²).
const BUSHFIRES: [((f64, f64), f64); 4] = [
    ((150.1, -35.4), 0.24),
    ((150.3, -36.6), 0.20),
    ((149.9, -33.7), 0.14),
    ((148.3, -37.4), 0.16),
];

fn australia_co(point: (f64, f64)) -> f64 {
    let background = 0.021 + 0.006 * (-((point.1 + 10.0) / 25.0).powi(2)).exp();
    let smoke: f64 = BUSHFIRES
        .iter()
        .map(|&(source, strength)| {
            plume(point, source, 110.0, 450.0, 60.0, strength)
                + bump(point, source, 35.0, strength * 0.3)
        })
        .sum();
    background + smoke
}

fn australia(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let frame = |lon: f64| SwathFrame {
        centre: (lon, -20.0),
        heading: 347.0,
        rows: 260,
        columns: 118,
        along_km: 22.0,
        across_km: 22.0,
    };
    let clouds = [
        Cloud {
            centre: (118.0, -30.0),
            rx_km: 400.0,
            ry_km: 250.0,
        },
        Cloud {
            centre: (135.0, -8.0),
            rx_km: 500.0,
            ry_km: 300.0,
        },
    ];
    let mut seen = Vec::new();
    let mut names = Vec::new();
    for lon in [148.0, 122.5] {
        let granule = Granule::over(&CO, "20191230", frame(lon));
        let pixels = write_granule(builder, &granule, |point, rng| {
            if rng.random::<f64>() < 0.02 {
                return Retrieval {
                    column: f64::NAN,
                    qa: 0.0,
                };
            }
            let column = australia_co(point);
            Retrieval {
                column: column * (1.0 + noise(0.03).sample(rng)),
                qa: quality(&clouds, point, 1.0, 0.7),
            }
        })?;
        names.push(granule.stem());
        seen.extend(pixels);
    }
    builder.truth("s5p_australia", "products", json!(names));
    builder.truth("s5p_australia", "bounds", json!(AUSTRALIA));
    builder.truth("s5p_australia", "qa", json!(0.5));
    builder.truth(
        "s5p_australia",
        "peak_co_molec_cm2",
        peak(&seen, AUSTRALIA, 0.5, MOLECULES_PER_CM2),
    );
    builder.truth(
        "s5p_australia",
        "mean_co_molec_cm2",
        area_mean(&seen, AUSTRALIA, 0.5, MOLECULES_PER_CM2, false),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Italy, February–March 2020: NO2 falls in the lockdown

/// The Po valley's axis, along which its NO2 lies.
const PO_AXIS: [(f64, f64); 5] = [
    (7.6, 45.0),
    (9.2, 45.4),
    (10.5, 45.15),
    (11.9, 45.1),
    (12.4, 45.0),
];

/// Cities outside the Po valley (lon, lat, NO2 in mol/m², Italian or not).
const NO2_CITIES: [((f64, f64), f64, bool); 8] = [
    ((11.58, 48.14), 0.5e-4, false), // Munich
    ((16.37, 48.21), 0.4e-4, false), // Vienna
    ((8.54, 47.37), 0.3e-4, false),  // Zurich
    ((4.83, 45.76), 0.35e-4, false), // Lyon
    ((5.37, 43.30), 0.3e-4, false),  // Marseille
    ((9.18, 48.78), 0.4e-4, false),  // Stuttgart
    ((12.50, 41.90), 0.45e-4, true), // Rome
    ((14.51, 46.06), 0.2e-4, false), // Ljubljana
];

/// One NO2 date: the day, Italy's activity (1 before the lockdown), the
/// track's shift and the clouds.
struct No2Date {
    day: &'static str,
    activity: f64,
    shift: f64,
    clouds: Vec<Cloud>,
}

fn no2_dates() -> Vec<No2Date> {
    let cloud = |lon, lat, rx, ry| Cloud {
        centre: (lon, lat),
        rx_km: rx,
        ry_km: ry,
    };
    vec![
        No2Date {
            day: "20200201",
            activity: 1.0,
            shift: 0.0,
            clouds: vec![cloud(4.0, 49.5, 200.0, 120.0)],
        },
        No2Date {
            day: "20200213",
            activity: 0.9,
            shift: 1.2,
            clouds: vec![cloud(17.0, 44.0, 150.0, 150.0)],
        },
        No2Date {
            day: "20200222",
            activity: 0.8,
            shift: -0.8,
            clouds: vec![cloud(13.5, 49.0, 180.0, 100.0)],
        },
        No2Date {
            day: "20200304",
            activity: 0.55,
            shift: 0.6,
            clouds: vec![cloud(3.0, 44.0, 160.0, 140.0)],
        },
        No2Date {
            day: "20200311",
            activity: 0.4,
            shift: -1.4,
            clouds: vec![cloud(15.0, 42.5, 160.0, 120.0)],
        },
    ]
}

fn italy_no2(point: (f64, f64), activity: f64) -> f64 {
    let background = 1.5e-5 + 0.5e-5 * ((point.1 - 42.0) / 9.0).clamp(0.0, 1.0);
    let valley = (point.0 - 7.3).clamp(0.0, 0.5) * (12.7 - point.0).clamp(0.0, 0.5) * 4.0;
    let distance = super::sentinel3::km_to_polyline(point, &PO_AXIS);
    let po = 1.6e-4 * valley * (-(distance / 45.0).powi(2)).exp();
    let milan = bump(point, (9.19, 45.46), 25.0, 0.8e-4);
    let cities: f64 = NO2_CITIES
        .iter()
        .map(|&(city, strength, italian)| {
            bump(point, city, 22.0, strength) * if italian { activity } else { 1.0 }
        })
        .sum();
    background + (po + milan) * activity + cities
}

fn italy(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let (mut valley, mut whole) = (Map::new(), Map::new());
    let mut names = Vec::new();
    for date in no2_dates() {
        let frame = SwathFrame {
            centre: (10.75 + date.shift, 46.5),
            heading: 348.0,
            rows: 236,
            columns: 230,
            along_km: 5.5,
            across_km: 7.0,
        };
        let granule = Granule::over(&NO2, date.day, frame);
        let seen = write_granule(builder, &granule, |point, rng| {
            let snowy = italy_elevation(point) > 1500.0;
            let qa = quality(&date.clouds, point, if snowy { 0.6 } else { 1.0 }, 0.45);
            let spread = if qa < 0.75 { 3.0e-5 } else { 1.2e-5 };
            Retrieval {
                column: italy_no2(point, date.activity) + noise(spread).sample(rng),
                qa,
            }
        })?;
        let day = format!("{}-{}-{}", &date.day[..4], &date.day[4..6], &date.day[6..]);
        valley.insert(day.clone(), area_mean(&seen, PO_VALLEY, 0.75, 1e6, true));
        whole.insert(day, area_mean(&seen, ITALY, 0.75, 1e6, true));
        names.push(granule.stem());
    }
    builder.truth("s5p_italy", "products", json!(names));
    builder.truth("s5p_italy", "bounds", json!(ITALY));
    builder.truth("s5p_italy", "po_valley", json!(PO_VALLEY));
    builder.truth("s5p_italy", "qa", json!(0.75));
    builder.truth("s5p_italy", "no2_po_valley_umol_m2", Value::Object(valley));
    builder.truth("s5p_italy", "no2_italy_umol_m2", Value::Object(whole));
    builder.truth(
        "s5p_italy",
        "note",
        json!("means of the positive columns with qa_value >= 0.75 inside the box, µmol/m²"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Chernobyl, 6 April 2020: the fire's smoke drifting toward Kyiv

fn chernobyl(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let frame = SwathFrame {
        centre: (29.6, 51.0),
        heading: 347.0,
        rows: 160,
        columns: 100,
        along_km: 5.5,
        across_km: 7.0,
    };
    let clouds = [Cloud {
        centre: (28.0, 53.8),
        rx_km: 150.0,
        ry_km: 60.0,
    }];
    let granule = Granule::over(&CO, "20200406", frame);
    let seen = write_granule(builder, &granule, |point, rng| {
        let background = 0.031 + 0.002 * (point.1 - 51.0) / 4.0;
        let smoke = plume(point, (29.95, 51.29), 160.0, 80.0, 18.0, 0.034);
        Retrieval {
            column: (background + smoke) * (1.0 + noise(0.025).sample(rng)),
            qa: quality(&clouds, point, 1.0, 0.4),
        }
    })?;
    builder.truth("s5p_chernobyl", "product", json!(granule.stem()));
    builder.truth("s5p_chernobyl", "bounds", json!(CHERNOBYL));
    builder.truth("s5p_chernobyl", "qa", json!(0.5));
    builder.truth(
        "s5p_chernobyl",
        "peak_co_molec_cm2",
        peak(&seen, CHERNOBYL, 0.5, MOLECULES_PER_CM2),
    );
    builder.truth(
        "s5p_chernobyl",
        "mean_co_molec_cm2",
        area_mean(&seen, CHERNOBYL, 0.5, MOLECULES_PER_CM2, false),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Anak Krakatau, 12 and 14 April 2020: the SO2 plume

fn krakatoa(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let vent = super::sentinel3::ANAK_KRAKATAU;
    let dates = [
        ("20200412", vent, 285.0, 45.0, 12.0, 7.5e-3),
        ("20200414", (105.2, -6.0), 270.0, 60.0, 20.0, 2.2e-3),
    ];
    let mut peaks = Map::new();
    let mut names = Vec::new();
    for (day, source, direction, length, width, strength) in dates {
        let frame = SwathFrame {
            centre: (105.3, -5.7),
            heading: 347.0,
            rows: 160,
            columns: 100,
            along_km: 3.5,
            across_km: 5.5,
        };
        let clouds = [Cloud {
            centre: (104.8, -5.1),
            rx_km: 40.0,
            ry_km: 30.0,
        }];
        let granule = Granule::over(&SO2, day, frame);
        let seen = write_granule(builder, &granule, |point, rng| Retrieval {
            column: plume(point, source, direction, length, width, strength)
                + noise(3.0e-4).sample(rng),
            qa: quality(&clouds, point, 1.0, 0.3),
        })?;
        let label = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
        peaks.insert(label, peak(&seen, KRAKATOA, 0.5, 1e3));
        names.push(granule.stem());
    }
    builder.truth("s5p_krakatoa", "products", json!(names));
    builder.truth("s5p_krakatoa", "bounds", json!(KRAKATOA));
    builder.truth("s5p_krakatoa", "qa", json!(0.5));
    builder.truth("s5p_krakatoa", "so2_peak_mmol_m2", Value::Object(peaks));
    Ok(())
}

// ---------------------------------------------------------------------------
// Siberia, 19 June 2020: smoke of the Yakutian fires

fn siberia(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let frame = SwathFrame {
        centre: (148.0, 67.5),
        heading: 335.0,
        rows: 200,
        columns: 120,
        along_km: 7.0,
        across_km: 14.0,
    };
    let clouds = [
        Cloud {
            centre: (158.0, 70.5),
            rx_km: 220.0,
            ry_km: 120.0,
        },
        Cloud {
            centre: (137.0, 64.0),
            rx_km: 150.0,
            ry_km: 150.0,
        },
    ];
    let fires = [
        ((150.5, 67.3), 0.05),
        ((141.5, 66.4), 0.035),
        ((155.0, 68.6), 0.03),
    ];
    let granule = Granule::over(&CO, "20200619", frame);
    let seen = write_granule(builder, &granule, |point, rng| {
        let smoke: f64 = fires
            .iter()
            .map(|&(source, strength)| plume(point, source, 40.0, 250.0, 40.0, strength))
            .sum();
        Retrieval {
            column: (0.028 + smoke) * (1.0 + noise(0.03).sample(rng)),
            qa: quality(&clouds, point, 1.0, 0.4),
        }
    })?;
    builder.truth("s5p_siberia", "product", json!(granule.stem()));
    builder.truth("s5p_siberia", "bounds", json!(SIBERIA));
    builder.truth("s5p_siberia", "qa", json!(0.5));
    builder.truth(
        "s5p_siberia",
        "peak_co_molec_cm2",
        peak(&seen, SIBERIA, 0.5, MOLECULES_PER_CM2),
    );
    builder.truth(
        "s5p_siberia",
        "mean_co_molec_cm2",
        area_mean(&seen, SIBERIA, 0.5, MOLECULES_PER_CM2, false),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArchiveIndex, DemoOptions};
    use gdal::{DatasetOptions, GdalOpenFlags};
    use std::path::PathBuf;
    use std::sync::OnceLock;

    /// The Sentinel-5P products, written once for all the tests.
    fn archive() -> &'static (tempfile::TempDir, ArchiveIndex, Value) {
        static ARCHIVE: OnceLock<(tempfile::TempDir, ArchiveIndex, Value)> = OnceLock::new();
        ARCHIVE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
            write(&mut builder).unwrap();
            let index = builder.write_index().unwrap();
            let text = std::fs::read_to_string(dir.path().join("truth.json")).unwrap();
            (dir, index, serde_json::from_str(&text).unwrap())
        })
    }

    fn truth() -> &'static Value {
        &archive().2
    }

    /// The netCDF file of the product named `stem`.
    fn file(stem: &str) -> PathBuf {
        let (dir, index, _) = archive();
        let record = index
            .products
            .iter()
            .find(|p| p.name.starts_with(stem))
            .unwrap();
        dir.path()
            .join(record.ens_relative())
            .join(format!("{stem}.nc"))
    }

    /// What a reader sees: longitude, latitude, column (mol/m²) and qa value
    /// per pixel, read through GDAL's multidimensional API.
    fn pixels(path: &Path, variable: &str) -> Vec<(f64, f64, f64, f64)> {
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        let dataset = cleope_eo::gdal::dataset::open_ex(path, options).unwrap();
        let product = dataset
            .root_group()
            .unwrap()
            .open_group("PRODUCT", Default::default())
            .unwrap();
        let read = |name: &str| {
            let array = product.open_md_array(name, Default::default()).unwrap();
            let shape: Vec<usize> = array
                .dimensions()
                .unwrap()
                .iter()
                .map(|d| d.size())
                .collect();
            assert_eq!(shape.len(), 3, "{name} is (time, scanline, ground_pixel)");
            array.read_as::<f64>(vec![0; 3], shape).unwrap()
        };
        let qa_array = product
            .open_md_array("qa_value", Default::default())
            .unwrap();
        assert_eq!(
            qa_array.attribute("scale_factor").unwrap().read_as_f64(),
            0.01
        );
        let (lon, lat, column, qa) = (
            read("longitude"),
            read("latitude"),
            read(variable),
            read("qa_value"),
        );
        (0..lon.len())
            .map(|i| {
                let value = if column[i] > 9.9e36 {
                    f64::NAN
                } else {
                    column[i]
                };
                (lon[i], lat[i], value, qa[i] * 0.01)
            })
            .collect()
    }

    fn kept(pixels: &[(f64, f64, f64, f64)], b: [f64; 4], qa: f64) -> Vec<(f64, f64, f64)> {
        pixels
            .iter()
            .filter(|p| {
                p.2.is_finite()
                    && p.3 >= qa
                    && p.0 >= b[0]
                    && p.0 <= b[2]
                    && p.1 >= b[1]
                    && p.1 <= b[3]
            })
            .map(|p| (p.0, p.1, p.2))
            .collect()
    }

    #[test]
    fn products_are_named_and_packed_as_real_ones() {
        let (_, index, _) = archive();
        assert_eq!(index.products.len(), 2 + 5 + 1 + 2 + 1);
        for record in &index.products {
            let parsed = cleope_eo::products::names::parse(&record.name).unwrap();
            assert_eq!(parsed.mission, "Sentinel-5P");
            assert_eq!(parsed.product_type, record.product_type);
            assert!(record.cdse_name.ends_with(".nc") && record.name.ends_with(".zip"));
            assert_eq!(record.mission.as_deref(), Some("Sentinel-5 Precursor"));
            assert!(record.pseudopath.starts_with("ATMOSPHERIC/LEVEL-2/"));
        }
        let orbits: Vec<&str> = truth()["s5p_australia"]["products"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| &n.as_str().unwrap()[52..57])
            .collect();
        assert_eq!(orbits, ["11460", "11461"]);
        assert_eq!(version("010302"), "1.3.2");
    }

    #[test]
    fn files_hold_the_product_group_and_its_attributes() {
        let stem = truth()["s5p_italy"]["products"][0].as_str().unwrap();
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        let dataset = cleope_eo::gdal::dataset::open_ex(file(stem), options).unwrap();
        let root = dataset.root_group().unwrap();
        let start = root
            .attribute("time_coverage_start")
            .unwrap()
            .read_as_string();
        assert!(
            start.starts_with("2020-02-01T1") && start.ends_with('Z'),
            "near 13:30 local time: {start}"
        );
        let product = root.open_group("PRODUCT", Default::default()).unwrap();
        let no2 = product
            .open_md_array("nitrogendioxide_tropospheric_column", Default::default())
            .unwrap();
        assert_eq!(no2.attribute("units").unwrap().read_as_string(), "mol m-2");
        assert_eq!(
            no2.attribute("multiplication_factor_to_convert_to_molecules_percm2")
                .unwrap()
                .read_as_f64(),
            MOLECULES_PER_CM2
        );
        let dims: Vec<String> = no2.dimensions().unwrap().iter().map(|d| d.name()).collect();
        assert_eq!(dims, ["time", "scanline", "ground_pixel"]);
        let time = product.open_md_array("time", Default::default()).unwrap();
        assert_eq!(
            time.attribute("units").unwrap().read_as_string(),
            "seconds since 2010-01-01 00:00:00"
        );
        let seconds = time.read_as::<i32>(vec![0], vec![1]).unwrap()[0];
        assert_eq!(
            seconds,
            (at("20200201T000000") - at("20100101T000000")).num_seconds() as i32
        );
    }

    #[test]
    fn the_po_valley_no2_recomputed_from_the_files_falls_by_more_than_half() {
        let italy = &truth()["s5p_italy"];
        let mut means = Vec::new();
        for (i, stem) in italy["products"].as_array().unwrap().iter().enumerate() {
            let all = pixels(&file(stem.as_str().unwrap()), NO2.variable);
            let positive: Vec<f64> = kept(&all, PO_VALLEY, 0.75)
                .iter()
                .map(|p| p.2)
                .filter(|c| *c > 0.0)
                .collect();
            let mean = positive.iter().sum::<f64>() / positive.len() as f64 * 1e6;
            let day = [
                "2020-02-01",
                "2020-02-13",
                "2020-02-22",
                "2020-03-04",
                "2020-03-11",
            ][i];
            let recorded = &italy["no2_po_valley_umol_m2"][day];
            assert_eq!(
                recorded["pixels"].as_u64().unwrap() as usize,
                positive.len(),
                "{day}"
            );
            assert!(
                (mean - recorded["mean"].as_f64().unwrap()).abs() < 1e-6 * mean,
                "{day}: {mean} vs {recorded}"
            );
            means.push(mean);
        }
        assert!(means[0] > 1.8 * means[4] && means[4] > 10.0, "{means:?}");
        assert!(
            means.windows(2).all(|w| w[1] < w[0]),
            "falling every date: {means:?}"
        );
    }

    #[test]
    fn the_australian_smoke_peak_recomputed_from_both_orbits() {
        let australia = &truth()["s5p_australia"];
        let mut all = Vec::new();
        for stem in australia["products"].as_array().unwrap() {
            all.extend(pixels(&file(stem.as_str().unwrap()), CO.variable));
        }
        let kept = kept(&all, AUSTRALIA, 0.5);
        let best = kept.iter().fold((0.0, 0.0, f64::NEG_INFINITY), |b, p| {
            if p.2 > b.2 { *p } else { b }
        });
        let recorded = &australia["peak_co_molec_cm2"];
        assert!(
            (best.2 * MOLECULES_PER_CM2 / recorded["value"].as_f64().unwrap() - 1.0).abs() < 1e-9
        );
        assert!(
            best.2 * MOLECULES_PER_CM2 > 1.0e19,
            "thick smoke: {}",
            best.2 * MOLECULES_PER_CM2
        );
        assert!(
            (148.0..162.0).contains(&best.0) && (-40.0..-30.0).contains(&best.1),
            "over NSW and the Tasman Sea: {best:?}"
        );
        let mean = australia["mean_co_molec_cm2"]["mean"].as_f64().unwrap();
        assert!(mean > 1.0e18 && mean < 3.0e18, "{mean}");
    }

    #[test]
    fn sulfur_dioxide_peaks_at_krakatoa_then_fades() {
        let peaks = &truth()["s5p_krakatoa"]["so2_peak_mmol_m2"];
        let (first, later) = (
            peaks["2020-04-12"]["value"].as_f64().unwrap(),
            peaks["2020-04-14"]["value"].as_f64().unwrap(),
        );
        assert!(
            first > 5.0 && first < 9.0 && later < first / 2.0,
            "{first} then {later}"
        );
        let stem = truth()["s5p_krakatoa"]["products"][0].as_str().unwrap();
        let all = pixels(&file(stem), SO2.variable);
        let top = kept(&all, KRAKATOA, 0.5)
            .iter()
            .map(|p| p.2 * 1e3)
            .fold(f64::NEG_INFINITY, f64::max);
        assert!((top - first).abs() < 1e-6);
        for key in ["s5p_chernobyl", "s5p_siberia"] {
            let value = truth()[key]["peak_co_molec_cm2"]["value"].as_f64().unwrap();
            let mean = truth()[key]["mean_co_molec_cm2"]["mean"].as_f64().unwrap();
            assert!(
                value > 1.4 * mean,
                "{key}: a plume stands out: {value} vs {mean}"
            );
        }
    }
}
