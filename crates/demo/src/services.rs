//! Copernicus service products of the demo archive (CAMS, CMEMS, CGLS), in
//! the real files, names, variables, attributes and ENS folders, at reduced
//! resolution:
//!
//! | service | product | grid | dates |
//! | --- | --- | --- | --- |
//! | CAMS | analysis surface fields, 13 total columns, 00 and 12 UTC (netCDF, packed int16, latitude 90 to -90, longitude 0 to 359) | global 1° | 15th of Dec 2019 to Apr 2020; daily 1–7 Jan 2020 for tcco |
//! | CMEMS | GMPE L4 SST (`analysed_sst` packed int16 in K, `mask`; latitude ascending) | global 0.5° | 1st of each month Apr 2019 to Jul 2020; daily 1–14 Aug 2019 |
//! | CGLS | NDVI (V2.2.1), FAPAR, FCOVER, LAI (V1.5.1), uint8 with scale factors and flags | 0.1°, 15° W–45° E, 27–63° N | last dekad of April and the three of May 2020 |
//! | CGLS | DMP GeoTIFF in zips (int16, 0.01 kg/ha/day, `PRODUCT_TIME` tag) | 1/14°, 11° W–35° E, 27–61° N | first dekad of Jan to Jun 2020 |
//!
//! The scenes carry what the tutorials look for: the Australian bushfire
//! smoke (CO, HCHO) of December and January, China's NO2 drop in February
//! 2020, SST's latitude gradient and seasons with a late-summer marine
//! heatwave in the western Mediterranean, Europe greening up in spring, and
//! Sardinia's dry-matter productivity peaking in April. Land and sea come
//! from the Natural Earth coastlines cleope draws on maps, so values and
//! coastlines agree. The truth is computed from the values as written.

use super::{ArchiveBuilder, DemoError, Packing, ProductSpec, scene_rng};
use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime};
use cleope_eo::netcdf::{Attr, NcWriter};
use cleope_eo::plot::basemap::{LandMask, Scale};
use cleope_eo::products::services::{
    self as products, CAMS_SPECIES, CAMS_UNITS, MEDSEA, ring_contains,
};
use rand::Rng;
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::f64::consts::PI;
use std::path::Path;

/// Writes every service product the CAMS, CMEMS and CGLS tutorials use.
pub fn write(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    write_cams(builder, &CamsPlan::full())?;
    write_cmems(builder, &CmemsPlan::full())?;
    write_cgls(builder, &CglsPlan::full())?;
    write_dmp(builder, &DmpPlan::full())?;
    Ok(())
}

fn day(text: &str) -> NaiveDate {
    NaiveDate::parse_from_str(text, "%Y-%m-%d").expect("a valid date")
}

fn days(first: &str, count: u64) -> Vec<NaiveDate> {
    (0..count)
        .map(|i| day(first) + chrono::Days::new(i))
        .collect()
}

fn iso(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn round_to(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

// ---------------------------------------------------------------------------
// Grids, land and sea, smooth noise

/// A regular grid of pixel centres in degrees.
#[derive(Debug, Clone, Copy)]
struct LonLatGrid {
    /// Centre of the first column.
    lon0: f64,
    /// Centre of the first row.
    lat0: f64,
    step: f64,
    width: usize,
    height: usize,
    /// Rows run south to north (GHRSST) instead of north to south.
    lat_ascending: bool,
}

impl LonLatGrid {
    fn lon(&self, col: usize) -> f64 {
        self.lon0 + self.step * col as f64
    }

    fn lat(&self, row: usize) -> f64 {
        let offset = self.step * row as f64;
        if self.lat_ascending {
            self.lat0 + offset
        } else {
            self.lat0 - offset
        }
    }

    /// Longitudes as float32 (exact on the CAMS and GMPE grids).
    fn lons(&self) -> Vec<f32> {
        (0..self.width).map(|c| self.lon(c) as f32).collect()
    }

    /// Latitudes as float32 (exact on the CAMS and GMPE grids).
    fn lats(&self) -> Vec<f32> {
        (0..self.height).map(|r| self.lat(r) as f32).collect()
    }

    /// Longitudes as doubles (CGLS), rounded to the step's decimals.
    fn lons_f64(&self) -> Vec<f64> {
        (0..self.width).map(|c| round_to(self.lon(c), 9)).collect()
    }

    /// Latitudes as doubles (CGLS), rounded to the step's decimals.
    fn lats_f64(&self) -> Vec<f64> {
        (0..self.height).map(|r| round_to(self.lat(r), 9)).collect()
    }

    /// Values of `f(lon, lat)` row by row, rows computed in parallel.
    fn map<T: Send>(&self, f: impl Fn(f64, f64) -> T + Sync) -> Vec<T> {
        (0..self.height)
            .into_par_iter()
            .flat_map_iter(|row| {
                let lat = self.lat(row);
                (0..self.width)
                    .map(|col| f(self.lon(col), lat))
                    .collect::<Vec<_>>()
            })
            .collect()
    }

    /// True for the pixels whose cell overlaps `[lon_min, lat_min, lon_max,
    /// lat_max]` (the pixels a raster clip keeps: a cell that only touches
    /// the box along an edge is out, within a millionth of a pixel).
    fn in_box(&self, col: usize, row: usize, bounds: [f64; 4]) -> bool {
        let half = self.step / 2.0 - self.step * 1e-6;
        let lon = to_180(self.lon(col));
        let lat = self.lat(row);
        lon + half > bounds[0]
            && lon - half < bounds[2]
            && lat + half > bounds[1]
            && lat - half < bounds[3]
    }

    /// The lon/lat extent of the cells, as a footprint ring.
    fn footprint(&self) -> Vec<(f64, f64)> {
        let half = self.step / 2.0;
        let west = (self.lon(0) - half).max(-180.0);
        let east = (self.lon(self.width - 1) + half).min(180.0);
        let (a, b) = (self.lat(0), self.lat(self.height - 1));
        let south = (a.min(b) - half).max(-90.0);
        let north = (a.max(b) + half).min(90.0);
        if self.lon0 >= 0.0 && self.lon(self.width - 1) > 180.0 {
            return global_footprint();
        }
        vec![(west, south), (east, south), (east, north), (west, north)]
    }
}

fn global_footprint() -> Vec<(f64, f64)> {
    vec![
        (-180.0, -90.0),
        (180.0, -90.0),
        (180.0, 90.0),
        (-180.0, 90.0),
    ]
}

/// A longitude in (-180, 180].
fn to_180(lon: f64) -> f64 {
    let wrapped = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped == -180.0 { 180.0 } else { wrapped }
}

/// Land (true) or sea for every pixel, from the Natural Earth 1:50m
/// coastlines (the maps' land mask, so the archive's sea is the maps' sea).
fn land_mask(grid: &LonLatGrid) -> Vec<bool> {
    let mask = LandMask::at(Scale::Medium);
    (0..grid.height)
        .into_par_iter()
        .flat_map_iter(|row| {
            let parallel = mask.parallel(grid.lat(row));
            (0..grid.width)
                .map(|col| parallel.is_land(grid.lon(col)))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// Smooth noise in about [-1, 1]: a few plane waves over the sphere with
/// random directions and phases, wavelengths from `scale` degrees down.
#[derive(Debug, Clone)]
struct Waves(Vec<(f64, f64, f64, f64)>);

impl Waves {
    fn new(seed: &str, scale: f64, count: usize) -> Waves {
        let mut rng = scene_rng(seed);
        let waves = (0..count)
            .map(|i| {
                let angle = rng.random::<f64>() * PI;
                let wavelength = scale / (1.0 + i as f64 * 0.7);
                let k = 2.0 * PI / wavelength;
                let weight = 1.0 / (1.0 + i as f64 * 0.5);
                (
                    k * angle.cos(),
                    k * angle.sin(),
                    rng.random::<f64>() * 2.0 * PI,
                    weight,
                )
            })
            .collect();
        Waves(waves)
    }

    fn at(&self, lon: f64, lat: f64) -> f64 {
        let total: f64 = self.0.iter().map(|w| w.3).sum();
        self.0
            .iter()
            .map(|(kx, ky, phase, weight)| weight * (kx * lon + ky * lat + phase).sin())
            .sum::<f64>()
            / total
            * 1.6
    }
}

/// Fractal value noise: smooth, blob-like and reproducible (a hashed
/// lattice, interpolated), for landscapes and clouds.
#[derive(Debug, Clone, Copy)]
struct Noise {
    seed: u64,
}

impl Noise {
    fn new(name: &str) -> Noise {
        Noise {
            seed: scene_rng(name).random(),
        }
    }

    /// In about [-1, 1]: `octaves` layers from `cell` degrees down, each
    /// half the size and half the weight of the one before.
    fn at(&self, lon: f64, lat: f64, cell: f64, octaves: u32) -> f64 {
        let (mut sum, mut weight, mut total, mut size) = (0.0, 1.0, 0.0, cell);
        for octave in 0..octaves {
            sum += weight * self.lattice(octave as u64, lon / size, lat / size);
            total += weight;
            weight *= 0.5;
            size *= 0.5;
        }
        sum / total
    }

    fn lattice(&self, octave: u64, x: f64, y: f64) -> f64 {
        let (ix, iy) = (x.floor(), y.floor());
        let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
        let (fx, fy) = (smooth(x - ix), smooth(y - iy));
        let corner = |dx: f64, dy: f64| self.corner(octave, ix + dx, iy + dy);
        let top = corner(0.0, 0.0) + (corner(1.0, 0.0) - corner(0.0, 0.0)) * fx;
        let bottom = corner(0.0, 1.0) + (corner(1.0, 1.0) - corner(0.0, 1.0)) * fx;
        top + (bottom - top) * fy
    }

    /// A value in [-1, 1] for a lattice point (SplitMix64 of its coordinates).
    fn corner(&self, octave: u64, x: f64, y: f64) -> f64 {
        let mut z = self.seed
            ^ octave.wrapping_mul(0x9E37_79B9_7F4A_7C15)
            ^ (x as i64 as u64).wrapping_mul(0xBF58_476D_1CE4_E5B9)
            ^ (y as i64 as u64).wrapping_mul(0x94D0_49BB_1331_11EB);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64 * 2.0 - 1.0
    }
}

/// What the vegetation of a place depends on besides its position: fine
/// texture (fields, forests) and a large-scale warp of the climate zones,
/// so their borders wander instead of following parallels.
#[derive(Debug, Clone, Copy)]
struct Place {
    lon: f64,
    lat: f64,
    texture: f64,
    warp: f64,
}

impl Place {
    fn at(lon: f64, lat: f64, landscape: &Noise) -> Place {
        Place {
            lon,
            lat,
            texture: landscape.at(lon, lat, 1.5, 4),
            warp: landscape.at(lon + 500.0, lat, 8.0, 2),
        }
    }

    /// 1 in the Sahara and the Arabian desert, 0 north of them.
    fn desert(&self) -> f64 {
        let east = 2.0 * ((self.lon - 31.0) / 4.0).clamp(0.0, 1.0);
        let edge = 33.0 + 1.5 * self.warp - east;
        ((edge - self.lat) / 1.2).clamp(0.0, 1.0)
    }

    /// 1 in the Mediterranean climate, 0 in temperate Europe.
    fn mediterranean(&self) -> f64 {
        ((44.0 + 1.5 * self.warp - self.lat) / 3.0).clamp(0.0, 1.0)
    }

    /// 1 in the boreal north, 0 south of it.
    fn boreal(&self) -> f64 {
        ((self.lat - 56.0 - 1.5 * self.warp) / 4.0).clamp(0.0, 1.0)
    }
}

/// A Gaussian blob of relative strength `amplitude` (longitude distance
/// taken the short way round).
#[derive(Debug, Clone, Copy)]
struct Blob {
    lon: f64,
    lat: f64,
    sigma_lon: f64,
    sigma_lat: f64,
    amplitude: f64,
}

const fn blob(lon: f64, lat: f64, sigma_lon: f64, sigma_lat: f64, amplitude: f64) -> Blob {
    Blob {
        lon,
        lat,
        sigma_lon,
        sigma_lat,
        amplitude,
    }
}

impl Blob {
    fn at(&self, lon: f64, lat: f64) -> f64 {
        let dx = to_180(lon - self.lon) / self.sigma_lon;
        let dy = (lat - self.lat) / self.sigma_lat;
        let d2 = dx * dx + dy * dy;
        if d2 > 40.0 {
            0.0
        } else {
            self.amplitude * (-0.5 * d2).exp()
        }
    }
}

fn sum_blobs(blobs: &[Blob], lon: f64, lat: f64) -> f64 {
    blobs.iter().map(|b| b.at(lon, lat)).sum()
}

/// Stored integers for `values`, packed like grib_to_netcdf does: offset
/// in the middle of the range, 65,532 steps across it, so no value lands
/// on the fill value (-32767).
fn pack_i16(values: &[f64]) -> (Vec<i16>, f64, f64) {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    let offset = (max + min) / 2.0;
    let scale = if max > min {
        (max - min) / 65_532.0
    } else {
        1.0
    };
    let stored = values
        .iter()
        .map(|v| ((v - offset) / scale).round().clamp(-32_766.0, 32_766.0) as i16)
        .collect();
    (stored, scale, offset)
}

/// The mean of `values` over the pixels `keep` selects.
fn mean_where(values: &[f64], keep: impl Fn(usize) -> bool) -> (f64, usize) {
    let (sum, count) = values
        .iter()
        .enumerate()
        .filter(|(i, v)| keep(*i) && v.is_finite())
        .fold((0.0, 0usize), |(s, n), (_, v)| (s + v, n + 1));
    (sum / count.max(1) as f64, count)
}

// ---------------------------------------------------------------------------
// CAMS: analysis surface fields

/// The Australian fires' smoke (150° E, 35° S) and the clip the notebook used.
pub const AUSTRALIA_BOX: [f64; 4] = [100.0, -50.0, 160.0, -3.0];
/// Eastern China, where NO2 fell in February 2020.
pub const CHINA_BOX: [f64; 4] = [110.0, 28.0, 122.0, 40.0];

/// Which CAMS fields to write.
#[derive(Debug, Clone)]
pub struct CamsPlan {
    /// (species code, day) pairs, each written at 00 and 12 UTC.
    pub fields: Vec<(&'static str, NaiveDate)>,
}

impl CamsPlan {
    /// Every species on the 15th of Dec 2019 to Apr 2020, and CO daily over
    /// 1–7 January 2020 (the fires' peak).
    pub fn full() -> CamsPlan {
        let monthly = cams_monthly_dates();
        let mut fields: Vec<(&'static str, NaiveDate)> = CAMS_SPECIES
            .iter()
            .flat_map(|s| monthly.iter().map(move |d| (s.code, *d)))
            .collect();
        fields.extend(cams_daily_dates().into_iter().map(|d| ("tcco", d)));
        CamsPlan { fields }
    }
}

fn cams_monthly_dates() -> Vec<NaiveDate> {
    [
        "2019-12-15",
        "2020-01-15",
        "2020-02-15",
        "2020-03-15",
        "2020-04-15",
    ]
    .map(day)
    .to_vec()
}

fn cams_daily_dates() -> Vec<NaiveDate> {
    days("2020-01-01", 7)
}

/// The CAMS grid: 1°, latitude 90 to -90, longitude 0 to 359 (as ECMWF
/// writes it).
const CAMS_GRID: LonLatGrid = LonLatGrid {
    lon0: 0.0,
    lat0: 90.0,
    step: 1.0,
    width: 360,
    height: 181,
    lat_ascending: false,
};

/// How strongly the bushfires burn (relative smoke amount) on a day.
fn fire_strength(date: NaiveDate) -> f64 {
    let early_january = [2.0, 2.6, 3.1, 3.4, 2.9, 2.4, 2.1];
    match (date.year(), date.month(), date.day()) {
        (2019, 12, d) if d >= 15 => 1.2,
        (2020, 1, d @ 1..=7) => early_january[d as usize - 1],
        (2020, 1, _) => 1.6,
        (2020, 2, _) => 0.3,
        (2020, 3, _) => 0.05,
        _ => 0.0,
    }
}

/// Eastern China's emissions relative to normal: the February 2020 lockdown.
fn china_activity(date: NaiveDate) -> f64 {
    match (date.year(), date.month()) {
        (2020, 1) => 1.0,
        (2020, 2) => 0.52,
        (2020, 3) => 0.78,
        (2020, 4) => 0.97,
        _ => 1.0,
    }
}

/// The smoke of the south-east Australian fires, carried east over the
/// Tasman Sea towards New Zealand and beyond.
const SMOKE: [Blob; 3] = [
    blob(150.0, -34.5, 2.0, 2.5, 1.0),
    blob(162.0, -38.0, 12.0, 5.0, 0.6),
    blob(190.0, -40.0, 18.0, 6.0, 0.25),
];

/// Eastern China's industry and cities.
const CHINA: [Blob; 6] = [
    blob(115.5, 35.5, 3.0, 2.5, 0.8),
    blob(116.8, 39.4, 1.2, 1.0, 0.7),
    blob(121.0, 31.2, 1.3, 1.2, 0.7),
    blob(114.3, 30.6, 0.8, 0.8, 0.4),
    blob(118.8, 32.0, 1.0, 0.8, 0.35),
    blob(113.5, 23.0, 1.5, 1.2, 0.35),
];

/// How one species is distributed: a background, its latitude profile,
/// regular sources, and how much of the fire smoke and of China's
/// emissions it carries (relative to its background).
struct SpeciesScene {
    base: f64,
    /// Northern hemisphere excess (tanh profile), tropical excess and
    /// polar excess, relative.
    north: f64,
    tropics: f64,
    polar: f64,
    sources: Vec<Blob>,
    smoke: f64,
    china: f64,
    /// Photochemical: present mostly in daylight.
    daylight: bool,
}

fn scene_of(code: &str) -> SpeciesScene {
    let scene = |base, north, tropics, polar, sources: Vec<Blob>, smoke, china| SpeciesScene {
        base,
        north,
        tropics,
        polar,
        sources,
        smoke,
        china,
        daylight: false,
    };
    let industry = |scale: f64| {
        vec![
            blob(79.0, 26.0, 6.0, 2.5, 0.35 * scale),
            blob(7.0, 50.5, 4.0, 2.0, 0.45 * scale),
            blob(10.5, 45.2, 2.0, 1.0, 0.3 * scale),
            blob(-80.0, 40.0, 6.0, 3.0, 0.35 * scale),
            blob(29.0, -26.0, 2.0, 1.5, 0.4 * scale),
            blob(139.5, 36.0, 1.5, 1.5, 0.3 * scale),
            blob(50.0, 28.0, 5.0, 4.0, 0.2 * scale),
        ]
    };
    let forests = |scale: f64| {
        vec![
            blob(-60.0, -5.0, 12.0, 8.0, scale),
            blob(22.0, 0.0, 9.0, 6.0, 0.8 * scale),
            blob(113.0, 0.0, 10.0, 5.0, 0.7 * scale),
            blob(145.0, -25.0, 10.0, 8.0, 0.35 * scale),
        ]
    };
    match code {
        "tcno2" => scene(1.5e-6, 0.2, 0.0, 0.0, industry(20.0), 0.8, 20.0),
        "tcco" => {
            let mut sources = vec![
                blob(20.0, 5.0, 12.0, 6.0, 0.5),
                blob(115.0, 30.0, 10.0, 6.0, 0.4),
                blob(80.0, 24.0, 8.0, 4.0, 0.25),
                blob(-60.0, -8.0, 10.0, 6.0, 0.15),
            ];
            sources.extend(industry(0.3));
            scene(9.0e-4, 0.22, 0.0, 0.0, sources, 2.5, 0.3)
        }
        "tcso2" => {
            let mut sources = industry(1.2);
            sources.push(blob(88.0, 69.3, 2.0, 1.0, 5.0));
            sources.push(blob(15.0, 37.7, 1.0, 1.0, 2.0));
            sources.push(blob(167.8, -15.4, 1.5, 1.5, 3.0));
            scene(4.0e-6, 0.3, 0.0, 0.0, sources, 0.3, 3.0)
        }
        "tc_ch4" => {
            let sources = vec![
                blob(88.0, 33.0, 8.0, 4.0, -0.35),
                blob(-70.0, -18.0, 3.0, 8.0, -0.25),
                blob(-108.0, 40.0, 5.0, 5.0, -0.15),
                blob(22.0, 0.0, 10.0, 6.0, 0.02),
                blob(80.0, 25.0, 8.0, 4.0, 0.03),
            ];
            scene(9.6e-3, 0.015, 0.0, 0.0, sources, 0.005, 0.03)
        }
        "tc_c2h6" => {
            let sources = vec![
                blob(-100.0, 32.0, 8.0, 5.0, 1.0),
                blob(50.0, 28.0, 6.0, 4.0, 0.8),
                blob(60.0, 62.0, 12.0, 5.0, 0.5),
            ];
            scene(4.0e-6, 0.45, 0.0, 0.0, sources, 1.2, 0.4)
        }
        "tc_c3h8" => {
            let sources = vec![
                blob(-100.0, 32.0, 8.0, 5.0, 1.2),
                blob(50.0, 28.0, 6.0, 4.0, 0.9),
            ];
            scene(1.0e-6, 0.55, 0.0, 0.0, sources, 0.6, 0.5)
        }
        "tc_c5h8" => scene(5.0e-8, 0.0, 0.0, 0.0, forests(40.0), 3.0, 0.0),
        "tc_h2o2" => scene(5.0e-6, -0.1, 0.6, 0.0, vec![], 0.2, 0.0),
        "tchcho" => {
            let mut s = scene(2.5e-6, 0.0, 0.8, 0.0, forests(0.6), 4.0, 0.3);
            s.sources.extend(industry(0.2));
            s
        }
        "tc_hno3" => scene(1.5e-5, 0.05, 0.0, 0.9, vec![], 0.1, 0.2),
        "tc_no" => scene(3.0e-7, 0.2, 0.0, 0.0, industry(15.0), 0.5, 15.0),
        "tc_oh" => {
            let mut s = scene(3.0e-9, 0.0, 0.7, 0.0, vec![], 0.0, 0.0);
            s.daylight = true;
            s
        }
        "tc_pan" => scene(8.0e-6, 0.35, 0.0, 0.0, industry(0.4), 0.8, 0.5),
        other => unreachable!("{other} is not a CAMS species"),
    }
}

/// One species' total column (kg m**-2) everywhere at `time`.
fn cams_field(code: &str, time: NaiveDateTime) -> Vec<f64> {
    let scene = scene_of(code);
    let date = time.date();
    let smoke = scene.smoke * fire_strength(date);
    let china = scene.china * china_activity(date);
    let weather = Waves::new(&format!("cams-{code}-{time}"), 50.0, 6);
    // The sub-solar longitude: noon at 0° E at 12 UTC, at 180° at 00 UTC.
    let sun_lon = 180.0 - 15.0 * chrono::Timelike::hour(&time) as f64;
    let declination = -23.0 * ((date.ordinal() as f64 + 10.0) * 2.0 * PI / 365.25).cos();
    CAMS_GRID.map(|lon, lat| {
        let profile = 1.0
            + scene.north * (lat / 15.0).tanh()
            + scene.tropics * (-(lat / 25.0).powi(2)).exp()
            + scene.polar * (lat.abs() / 90.0).powi(2);
        let mut relative = profile
            + sum_blobs(&scene.sources, lon, lat)
            + smoke * sum_blobs(&SMOKE, lon, lat)
            + china * sum_blobs(&CHINA, lon, lat);
        if scene.daylight {
            let sun =
                (lat - declination).to_radians().cos() * to_180(lon - sun_lon).to_radians().cos();
            relative *= 0.15 + 0.85 * sun.max(0.0);
        }
        (scene.base * relative * (1.0 + 0.06 * weather.at(lon, lat))).max(scene.base * 0.02)
    })
}

/// Writes one CAMS analysis file as ECMWF's grib_to_netcdf does.
fn write_cams_file(
    path: &Path,
    code: &str,
    time: NaiveDateTime,
    stored: &[i16],
    scale: f64,
    offset: f64,
) -> Result<(), cleope_eo::netcdf::NcError> {
    let species = products::cams_species(code).expect("a known species");
    let nc = NcWriter::create(path)?;
    let root = nc.root();
    root.attribute(&Attr::str("Conventions", "CF-1.6"))?;
    root.attribute(&Attr::str(
        "history",
        &format!(
            "{} GMT by grib_to_netcdf-2.16.0: /opt/ecmwf/eccodes/bin/grib_to_netcdf -k3 -o {} data.grib",
            (time + Duration::hours(6)).format("%Y-%m-%d %H:%M:%S"),
            products::cams_file_name(code, time)
        ),
    ))?;
    let lon = root.dimension("longitude", CAMS_GRID.width)?;
    let lat = root.dimension("latitude", CAMS_GRID.height)?;
    let t = root.dimension("time", 1)?;
    root.write(
        "longitude",
        &[&lon],
        &CAMS_GRID.lons(),
        &[
            Attr::str("units", "degrees_east"),
            Attr::str("long_name", "longitude"),
        ],
    )?;
    root.write(
        "latitude",
        &[&lat],
        &CAMS_GRID.lats(),
        &[
            Attr::str("units", "degrees_north"),
            Attr::str("long_name", "latitude"),
        ],
    )?;
    let hours = (time - day("1900-01-01").and_hms_opt(0, 0, 0).unwrap()).num_hours() as i32;
    root.write(
        "time",
        &[&t],
        &[hours],
        &[
            Attr::str("units", "hours since 1900-01-01 00:00:00.0"),
            Attr::str("long_name", "time"),
            Attr::str("calendar", "gregorian"),
        ],
    )?;
    root.write(
        code,
        &[&t, &lat, &lon],
        stored,
        &[
            Attr::f64("scale_factor", scale),
            Attr::f64("add_offset", offset),
            Attr::f64("_FillValue", -32_767.0),
            Attr::i32("missing_value", -32_767),
            Attr::str("units", CAMS_UNITS),
            Attr::str("long_name", species.long_name),
        ],
    )?;
    drop((lon, lat, t, root));
    nc.close()
}

fn cams_spec(code: &str, time: NaiveDateTime) -> ProductSpec {
    let mut attributes = Map::new();
    attributes.insert("productType".into(), json!(code));
    attributes.insert("processingLevel".into(), json!("ANALYSIS"));
    attributes.insert("beginningDateTime".into(), json!(iso(time)));
    ProductSpec {
        name: products::cams_file_name(code, time),
        cdse_name: None,
        mission: None,
        collection: "CAMS".into(),
        product_type: code.to_string(),
        main_class: Some("Copernicus-atmosphere".into()),
        begin: iso(time),
        end: iso(time),
        footprint: global_footprint(),
        pseudopath: products::cams_pseudopath(code, time.date()),
        s3_folder: format!(
            "/eodata/CAMS/GAC/Analysis/{code}/{}",
            time.format("%Y/%m/%d")
        ),
        online: true,
        packing: Packing::File,
        attributes,
    }
}

/// Writes the planned CAMS fields and records the truth of the regions the
/// tutorial looks at.
pub fn write_cams(builder: &mut ArchiveBuilder, plan: &CamsPlan) -> Result<(), DemoError> {
    let mut rows: Map<String, Value> = Map::new();
    for &(code, date) in &plan.fields {
        for hour in [0, 12] {
            let time = date.and_hms_opt(hour, 0, 0).unwrap();
            let values = cams_field(code, time);
            let (stored, scale, offset) = pack_i16(&values);
            let spec = cams_spec(code, time);
            let path = builder.staging(&spec)?;
            write_cams_file(&path, code, time, &stored, scale, offset)
                .map_err(|e| DemoError::product(&spec.name, e))?;
            builder.finish(spec)?;
            let decoded: Vec<f64> = stored.iter().map(|s| *s as f64 * scale + offset).collect();
            let region = match code {
                "tcno2" => Some(("china", CHINA_BOX)),
                "tcco" | "tchcho" => Some(("australia", AUSTRALIA_BOX)),
                _ => None,
            };
            if let Some((place, bounds)) = region {
                let (mean, pixels) = mean_where(&decoded, |i| {
                    CAMS_GRID.in_box(i % CAMS_GRID.width, i / CAMS_GRID.width, bounds)
                });
                let key = format!("{code}_{place}");
                let entry = rows.entry(key).or_insert_with(|| json!([]));
                entry.as_array_mut().unwrap().push(json!({
                    "time": time.format("%Y-%m-%d %H:%M").to_string(),
                    "mean": mean,
                    "pixels": pixels,
                }));
            }
        }
    }
    builder.truth("cams", "australia_box", json!(AUSTRALIA_BOX));
    builder.truth("cams", "china_box", json!(CHINA_BOX));
    builder.truth(
        "cams",
        "monthly_dates",
        json!(
            cams_monthly_dates()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        ),
    );
    builder.truth(
        "cams",
        "daily_dates",
        json!(
            cams_daily_dates()
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
        ),
    );
    for (key, value) in rows {
        builder.truth("cams", &key, value);
    }
    builder.truth(
        "cams",
        "note",
        json!("box means (kg m**-2) over the pixels whose cells overlap the box, as written (packed int16 decoded); smoke peaks on 2020-01-04, China's NO2 drops on 2020-02-15"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// CMEMS: GMPE global SST

/// Which GMPE days to write.
#[derive(Debug, Clone)]
pub struct CmemsPlan {
    /// Online days.
    pub days: Vec<NaiveDate>,
    /// An archived day (ordered before use).
    pub offline: Vec<NaiveDate>,
}

impl CmemsPlan {
    /// The 1st of each month from April 2019 to July 2020, every day of
    /// 1–14 August 2019, and 1 March 2019 archived.
    pub fn full() -> CmemsPlan {
        let mut days_: Vec<NaiveDate> = (0..16)
            .map(|m| day("2019-04-01") + chrono::Months::new(m))
            .collect();
        days_.extend(cmems_daily_dates().into_iter().skip(1));
        days_.sort();
        CmemsPlan {
            days: days_,
            offline: vec![day("2019-03-01")],
        }
    }
}

fn cmems_daily_dates() -> Vec<NaiveDate> {
    days("2019-08-01", 14)
}

/// GMPE's grid at 0.5°: latitude -89.75 to 89.75 (south first), longitude
/// -179.75 to 179.75.
const GMPE_GRID: LonLatGrid = LonLatGrid {
    lon0: -179.75,
    lat0: -89.75,
    step: 0.5,
    width: 720,
    height: 360,
    lat_ascending: true,
};

/// Currents and upwelling that shape the mean SST (°C).
const OCEAN: [Blob; 7] = [
    blob(-78.0, -12.0, 6.0, 10.0, -4.0),
    blob(-122.0, 35.0, 5.0, 8.0, -3.0),
    blob(12.0, -22.0, 4.0, 8.0, -4.0),
    blob(-17.0, 25.0, 5.0, 8.0, -2.5),
    blob(-65.0, 38.0, 15.0, 5.0, 3.0),
    blob(145.0, 35.0, 15.0, 5.0, 2.5),
    blob(140.0, 0.0, 40.0, 12.0, 1.2),
];

/// The western Mediterranean heatwave of early August 2019 (°C at its peak).
const HEATWAVE: Blob = blob(5.0, 40.0, 4.0, 3.0, 3.0);

/// How strong the heatwave is on a day (0 outside 1–14 August 2019).
fn heatwave_strength(date: NaiveDate) -> f64 {
    let first = day("2019-08-01");
    let n = (date - first).num_days();
    if (0..14).contains(&n) {
        (PI * (n + 1) as f64 / 15.0).sin()
    } else {
        0.0
    }
}

/// SST (°C) at a place and day; sea ice keeps the freezing point.
fn sst_celsius(lon: f64, lat: f64, date: NaiveDate, eddies: &Waves, in_med: bool) -> f64 {
    let season = (2.0 * PI * (date.ordinal() as f64 - 228.0) / 365.25).cos() * lat.signum();
    let sst = if in_med {
        mediterranean_celsius(lon, lat, season) + HEATWAVE.at(lon, lat) * heatwave_strength(date)
    } else {
        let mean = -1.8 + 30.3 * lat.to_radians().cos().powi(2) + sum_blobs(&OCEAN, lon, lat);
        let amplitude = 4.5 * (2.0 * lat.abs().to_radians()).sin().powi(2);
        mean + amplitude * season
    };
    (sst + 0.3 * eddies.at(lon, lat)).max(-1.8)
}

/// The Mediterranean's own climate: warmer than the open ocean at its
/// latitudes, warmest in the Levantine basin, with a larger seasonal cycle
/// in the north (14–26 °C in the south-west, 10–25 °C in the northern
/// Adriatic, up to 28 °C in the east in August).
fn mediterranean_celsius(lon: f64, lat: f64, season: f64) -> f64 {
    let east = ((lon - 18.0) / 14.0).clamp(0.0, 1.0);
    let mean = 19.5 - 0.25 * (lat - 36.0) + 1.2 * east;
    let amplitude = 6.0 + 0.15 * (lat - 36.0);
    mean + amplitude * season
}

/// Where the Mediterranean Sea is on a grid (sea pixels inside [`MEDSEA`]).
fn med_pixels(grid: &LonLatGrid, land: &[bool]) -> Vec<bool> {
    let mut inside = grid.map(|lon, lat| ring_contains(&MEDSEA, to_180(lon), lat));
    for (pixel, is_land) in inside.iter_mut().zip(land) {
        *pixel &= !is_land;
    }
    inside
}

fn gmpe_spec(date: NaiveDate, online: bool) -> ProductSpec {
    let time = date.and_hms_opt(12, 0, 0).unwrap();
    let mut attributes = Map::new();
    attributes.insert("productType".into(), json!(products::GMPE_DATASET));
    attributes.insert(
        "product".into(),
        json!("SST_GLO_SST_L4_NRT_OBSERVATIONS_010_005"),
    );
    ProductSpec {
        name: products::gmpe_file_name(date),
        cdse_name: None,
        mission: None,
        collection: "CMEMS".into(),
        product_type: products::GMPE_DATASET.into(),
        main_class: Some("Copernicus-marine".into()),
        begin: iso(date.and_hms_opt(0, 0, 0).unwrap()),
        end: iso(time),
        footprint: global_footprint(),
        pseudopath: products::gmpe_pseudopath(date),
        s3_folder: format!(
            "/eodata/CMEMS/NRT/SST_GLO_SST_L4_NRT_OBSERVATIONS_010_005/{}/{}",
            products::GMPE_DATASET,
            date.format("%Y/%m/%d")
        ),
        online,
        packing: Packing::File,
        attributes,
    }
}

/// The mask's flags: GHRSST's water, land and ice bits.
const MASK_WATER: u8 = 1;
const MASK_LAND: u8 = 2;
const MASK_ICE: u8 = 8;
const SST_FILL: i16 = -32_768;

fn write_gmpe_file(
    path: &Path,
    date: NaiveDate,
    stored: &[i16],
    mask: &[u8],
) -> Result<(), cleope_eo::netcdf::NcError> {
    let nc = NcWriter::create(path)?;
    let root = nc.root();
    let start = date.and_hms_opt(0, 0, 0).unwrap();
    for attr in [
        Attr::str("Conventions", "CF-1.4"),
        Attr::str(
            "title",
            "Global SST & Sea Ice Analysis, L4 GMPE, 0.25 deg daily (METOFFICE-GLO-SST-L4-NRT-OBS-GMPE-V3)",
        ),
        Attr::str(
            "summary",
            "The GHRSST Multi-Product Ensemble (GMPE): the median of an ensemble of L4 SST analyses (cleope demo at 0.5 deg)",
        ),
        Attr::str("id", "UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB"),
        Attr::str("institution", "UKMO"),
        Attr::str("product_version", "3.0"),
        Attr::str("gds_version_id", "2.0"),
        Attr::str("start_time", &start.format("%Y%m%dT%H%M%SZ").to_string()),
        Attr::str(
            "stop_time",
            &(start + Duration::days(1))
                .format("%Y%m%dT%H%M%SZ")
                .to_string(),
        ),
        Attr::f64("northernmost_latitude", 90.0),
        Attr::f64("southernmost_latitude", -90.0),
        Attr::f64("easternmost_longitude", 180.0),
        Attr::f64("westernmost_longitude", -180.0),
        Attr::str("spatial_resolution", "0.5 degree"),
    ] {
        root.attribute(&attr)?;
    }
    let t = root.dimension("time", 1)?;
    let lat = root.dimension("lat", GMPE_GRID.height)?;
    let lon = root.dimension("lon", GMPE_GRID.width)?;
    let seconds = (date.and_hms_opt(12, 0, 0).unwrap()
        - day("1981-01-01").and_hms_opt(0, 0, 0).unwrap())
    .num_seconds() as i32;
    root.write(
        "time",
        &[&t],
        &[seconds],
        &[
            Attr::str("long_name", "reference time of sst field"),
            Attr::str("standard_name", "time"),
            Attr::str("axis", "T"),
            Attr::str("units", "seconds since 1981-01-01 00:00:00"),
            Attr::str("calendar", "gregorian"),
        ],
    )?;
    root.write(
        "lat",
        &[&lat],
        &GMPE_GRID.lats(),
        &[
            Attr::str("long_name", "latitude"),
            Attr::str("standard_name", "latitude"),
            Attr::str("axis", "Y"),
            Attr::str("units", "degrees_north"),
            Attr::f64("valid_min", -90.0),
            Attr::f64("valid_max", 90.0),
        ],
    )?;
    root.write(
        "lon",
        &[&lon],
        &GMPE_GRID.lons(),
        &[
            Attr::str("long_name", "longitude"),
            Attr::str("standard_name", "longitude"),
            Attr::str("axis", "X"),
            Attr::str("units", "degrees_east"),
            Attr::f64("valid_min", -180.0),
            Attr::f64("valid_max", 180.0),
        ],
    )?;
    root.write(
        "analysed_sst",
        &[&t, &lat, &lon],
        stored,
        &[
            Attr::str("long_name", "analysed sea surface temperature"),
            Attr::str("standard_name", "sea_surface_foundation_temperature"),
            Attr::str("comment", "median of the ensemble of L4 SST analyses"),
            Attr::str("units", "kelvin"),
            Attr::f64("_FillValue", SST_FILL as f64),
            Attr::f64("add_offset", 273.15),
            Attr::f64("scale_factor", 0.01),
            Attr::i32("valid_min", -300),
            Attr::i32("valid_max", 4500),
            Attr::str("source", "GMPE ensemble median"),
        ],
    )?;
    root.write(
        "mask",
        &[&t, &lat, &lon],
        mask,
        &[
            Attr::str("long_name", "land sea ice lake bit mask"),
            Attr::f64("_FillValue", 0.0),
            Attr::f64s("flag_masks", &[1.0, 2.0, 4.0, 8.0, 16.0]),
            Attr::str(
                "flag_meanings",
                "water land optional_lake_surface sea_ice optional_river_surface",
            ),
            Attr::str(
                "source",
                "NAVOCEANO_landmask_v1.0 EUMETSAT_OSI-SAF_icemask ARCLake_lakemask",
            ),
        ],
    )?;
    drop((t, lat, lon, root));
    nc.close()
}

/// Writes the planned GMPE days and records global and Mediterranean means.
pub fn write_cmems(builder: &mut ArchiveBuilder, plan: &CmemsPlan) -> Result<(), DemoError> {
    let land = land_mask(&GMPE_GRID);
    let med = med_pixels(&GMPE_GRID, &land);
    let eddies = Waves::new("gmpe-eddies", 25.0, 8);
    let places = GMPE_GRID.map(|lon, lat| (lon, lat));
    let mut table = Vec::new();
    let all_days = plan
        .days
        .iter()
        .map(|d| (*d, true))
        .chain(plan.offline.iter().map(|d| (*d, false)));
    for (date, online) in all_days {
        let celsius: Vec<f64> = places
            .par_iter()
            .enumerate()
            .map(|(k, &(lon, lat))| {
                if land[k] {
                    f64::NAN
                } else {
                    sst_celsius(lon, lat, date, &eddies, med[k])
                }
            })
            .collect();
        let stored: Vec<i16> = celsius
            .iter()
            .map(|c| {
                if c.is_nan() {
                    SST_FILL
                } else {
                    (c * 100.0).round() as i16
                }
            })
            .collect();
        let mask: Vec<u8> = celsius
            .iter()
            .map(|c| match c {
                c if c.is_nan() => MASK_LAND,
                c if *c <= -1.8 + 1e-9 => MASK_WATER | MASK_ICE,
                _ => MASK_WATER,
            })
            .collect();
        let spec = gmpe_spec(date, online);
        let path = builder.staging(&spec)?;
        write_gmpe_file(&path, date, &stored, &mask)
            .map_err(|e| DemoError::product(&spec.name, e))?;
        builder.finish(spec)?;
        if online {
            // Means of the values as stored (0.01 K steps), in °C.
            let written: Vec<f64> = stored
                .iter()
                .map(|s| {
                    if *s == SST_FILL {
                        f64::NAN
                    } else {
                        *s as f64 * 0.01
                    }
                })
                .collect();
            let (global, _) = mean_where(&written, |_| true);
            let valid: Vec<f64> = written.iter().copied().filter(|v| v.is_finite()).collect();
            let std = (valid.iter().map(|v| (v - global).powi(2)).sum::<f64>()
                / valid.len() as f64)
                .sqrt();
            let (medsea, med_count) = mean_where(&written, |i| med[i]);
            table.push(json!({
                "date": date.to_string(),
                "global_mean_c": global,
                "global_std_c": std,
                "medsea_mean_c": medsea,
                "medsea_pixels": med_count,
            }));
        }
    }
    builder.truth("cmems", "dates", json!(table));
    builder.truth("cmems", "monthly", json!(["2019-04-01", "2020-07-01"]));
    builder.truth(
        "cmems",
        "heatwave",
        json!({"centre": [HEATWAVE.lon, HEATWAVE.lat], "peak_c": HEATWAVE.amplitude, "days": ["2019-08-01", "2019-08-14"]}),
    );
    builder.truth(
        "cmems",
        "offline",
        json!(
            plan.offline
                .iter()
                .map(|d| products::gmpe_file_name(*d))
                .collect::<Vec<_>>()
        ),
    );
    builder.truth(
        "cmems",
        "note",
        json!("means over every valid pixel (global, unweighted) and over the sea pixels whose centres lie inside the cleope MEDSEA outline, in °C from the stored 0.01 K values"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// CGLS: NDVI, FAPAR, FCOVER, LAI

/// The window the CGLS products cover (reduced from the globe).
pub const CGLS_WINDOW: [f64; 4] = [-15.0, 27.0, 45.0, 63.0];
/// The window the notebook looked at.
pub const EUROPE_BOX: [f64; 4] = [-10.0, 30.0, 40.0, 60.0];

const CGLS_GRID: LonLatGrid = LonLatGrid {
    lon0: -14.95,
    lat0: 62.95,
    step: 0.1,
    width: 600,
    height: 360,
    lat_ascending: false,
};

/// Which CGLS products to write.
#[derive(Debug, Clone)]
pub struct CglsPlan {
    /// (variable code, dekad date) pairs.
    pub products: Vec<(&'static str, NaiveDate)>,
}

impl CglsPlan {
    /// NDVI on 21 April and 1, 11, 21 May 2020 (V2.2 dekads start on the
    /// 1st, 11th, 21st); FAPAR, FCOVER, LAI on 30 April and 10, 20, 31 May
    /// 2020 (V1 dekads are named by their last day).
    pub fn full() -> CglsPlan {
        let mut products_ = Vec::new();
        for d in ["2020-04-21", "2020-05-01", "2020-05-11", "2020-05-21"] {
            products_.push(("NDVI", day(d)));
        }
        for code in ["FAPAR", "FCOVER", "LAI"] {
            for d in ["2020-04-30", "2020-05-10", "2020-05-20", "2020-05-31"] {
                products_.push((code, day(d)));
            }
        }
        CglsPlan {
            products: products_,
        }
    }
}

/// How a CGLS variable is stored: its version, scale, offset, valid maximum.
struct Storage {
    version: &'static str,
    scale: f64,
    offset: f64,
    valid_max: u8,
    long_name: &'static str,
    units: &'static str,
}

fn storage_of(code: &str) -> Storage {
    match code {
        "NDVI" => Storage {
            version: "V2.2.1",
            scale: 0.004,
            offset: -0.08,
            valid_max: 250,
            long_name: "Normalized Difference Vegetation Index",
            units: "-",
        },
        "FAPAR" => Storage {
            version: "V1.5.1",
            scale: 0.004,
            offset: 0.0,
            valid_max: 250,
            long_name: "Fraction of Absorbed Photosynthetically Active Radiation 1km",
            units: "-",
        },
        "FCOVER" => Storage {
            version: "V1.5.1",
            scale: 0.004,
            offset: 0.0,
            valid_max: 250,
            long_name: "Fraction of green Vegetation Cover 1km",
            units: "-",
        },
        "LAI" => Storage {
            version: "V1.5.1",
            scale: 1.0 / 30.0,
            offset: 0.0,
            valid_max: 210,
            long_name: "Leaf Area Index 1km",
            units: "m2/m2",
        },
        other => unreachable!("{other} is not a CGLS variable"),
    }
}

/// Flag values above the valid range (as the products use them).
const FLAG_CLOUD: u8 = 252;
const FLAG_SNOW: u8 = 253;
const FLAG_SEA: u8 = 254;
const FLAG_FILL: u8 = 255;

/// The CGLS file name of a variable and dekad.
pub fn cgls_file_name(code: &str, date: NaiveDate) -> String {
    format!(
        "c_gls_{code}_{}0000_GLOBE_PROBAV_{}.nc",
        date.format("%Y%m%d"),
        storage_of(code).version
    )
}

/// How green a place is on a day (NDVI): deserts stay bare, the
/// Mediterranean greens in winter and spring and dries from May, temperate
/// and boreal Europe green up later the further north they are.
fn ndvi_at(place: &Place, doy: f64) -> f64 {
    let logistic = |x: f64| 1.0 / (1.0 + (-x).exp());
    let lat = place.lat;
    let steppe = ((place.lon - 30.0) / 8.0).clamp(0.0, 1.0) * ((45.0 - lat) / 5.0).clamp(0.0, 1.0);
    let green_up = 60.0 + 3.5 * (lat - 35.0).max(0.0);
    let growth = logistic((doy - green_up) / 12.0);
    let drying = place.mediterranean() * logistic((doy - 130.0) / 12.0);
    let vegetated = 0.28 + 0.5 * growth * (1.0 - 0.45 * drying);
    let desert = place.desert();
    let ndvi = vegetated * (1.0 - desert) * (1.0 - 0.35 * steppe) + 0.1 * desert;
    (ndvi + 0.07 * place.texture).clamp(-0.05, 0.92)
}

/// Each variable from the NDVI (empirical relations, good enough to look right).
fn variable_from_ndvi(code: &str, ndvi: f64) -> f64 {
    let green = ((ndvi - 0.1) / 0.75).clamp(0.0, 1.0);
    match code {
        "NDVI" => ndvi,
        "FAPAR" => (0.02 + 0.92 * green.powf(1.1)).min(0.95),
        "FCOVER" => (0.95 * green.powf(1.25)).min(0.98),
        "LAI" => (-2.0 * (1.0 - 0.9 * green.powf(1.2)).ln()).min(6.9),
        _ => unreachable!(),
    }
}

fn cgls_spec(code: &str, date: NaiveDate) -> ProductSpec {
    let time = date.and_hms_opt(0, 0, 0).unwrap();
    let mut attributes = Map::new();
    attributes.insert("productType".into(), json!(code));
    attributes.insert("platformShortName".into(), json!("PROBA-V"));
    attributes.insert("resolution".into(), json!("1km"));
    ProductSpec {
        name: cgls_file_name(code, date),
        cdse_name: None,
        mission: None,
        collection: "CLMS".into(),
        product_type: code.to_string(),
        main_class: Some("Copernicus-land".into()),
        begin: iso(time),
        end: iso(time),
        footprint: CGLS_GRID.footprint(),
        pseudopath: format!(
            "{}/{}",
            products::cgls_folder(code),
            date.format("%Y/%m/%d")
        ),
        s3_folder: format!(
            "/eodata/CLMS/bio-geophysical/vegetation_properties/{}_global_1km/{}",
            code.to_lowercase(),
            date.format("%Y/%m/%d")
        ),
        online: true,
        packing: Packing::File,
        attributes,
    }
}

fn write_cgls_file(
    path: &Path,
    code: &str,
    date: NaiveDate,
    stored: &[u8],
) -> Result<(), cleope_eo::netcdf::NcError> {
    let storage = storage_of(code);
    let nc = NcWriter::create(path)?;
    let root = nc.root();
    for attr in [
        Attr::str("Conventions", "CF-1.6"),
        Attr::str(
            "title",
            &format!("10-daily {} 1km {}", storage.long_name, storage.version),
        ),
        Attr::str("institution", "VITO NV"),
        Attr::str("product_version", storage.version),
        Attr::str("time_coverage_start", &format!("{}T00:00:00Z", date)),
        Attr::str("platform", "Proba-V"),
        Attr::str(
            "source",
            "Derived from EO satellite imagery (cleope demo, 0.1 deg window)",
        ),
        Attr::str("orbit_type", "LEO"),
        Attr::str("processing_level", "L3"),
    ] {
        root.attribute(&attr)?;
    }
    let t = root.dimension("time", 1)?;
    let lat = root.dimension("lat", CGLS_GRID.height)?;
    let lon = root.dimension("lon", CGLS_GRID.width)?;
    let days_since = (date - day("1970-01-01")).num_days() as f64;
    root.write(
        "time",
        &[&t],
        &[days_since],
        &[
            Attr::str("units", "days since 1970-01-01 00:00:00"),
            Attr::str("standard_name", "time"),
            Attr::str("axis", "T"),
        ],
    )?;
    root.write(
        "lat",
        &[&lat],
        &CGLS_GRID.lats_f64(),
        &[
            Attr::str("units", "degrees_north"),
            Attr::str("standard_name", "latitude"),
            Attr::str("axis", "Y"),
        ],
    )?;
    root.write(
        "lon",
        &[&lon],
        &CGLS_GRID.lons_f64(),
        &[
            Attr::str("units", "degrees_east"),
            Attr::str("standard_name", "longitude"),
            Attr::str("axis", "X"),
        ],
    )?;
    root.write(
        "crs",
        &[],
        &[0i32],
        &[
            Attr::str("grid_mapping_name", "latitude_longitude"),
            Attr::f64("longitude_of_prime_meridian", 0.0),
            Attr::f64("semi_major_axis", 6_378_137.0),
            Attr::f64("inverse_flattening", 298.257_223_563),
        ],
    )?;
    root.write(
        code,
        &[&t, &lat, &lon],
        stored,
        &[
            Attr::str("long_name", storage.long_name),
            Attr::str("units", storage.units),
            Attr::f64("scale_factor", storage.scale),
            Attr::f64("add_offset", storage.offset),
            Attr::f64("_FillValue", FLAG_FILL as f64),
            Attr::f64s("valid_range", &[0.0, storage.valid_max as f64]),
            Attr::f64s("flag_values", &[252.0, 253.0, 254.0, 255.0]),
            Attr::str("flag_meanings", "cloud snow sea missing"),
            Attr::str("grid_mapping", "crs"),
        ],
    )?;
    drop((t, lat, lon, root));
    nc.close()
}

/// Writes the planned CGLS products and records each one's mean.
pub fn write_cgls(builder: &mut ArchiveBuilder, plan: &CglsPlan) -> Result<(), DemoError> {
    let land = land_mask(&CGLS_GRID);
    let landscape = Noise::new("cgls-landscape");
    let mut rows: Map<String, Value> = Map::new();
    for &(code, date) in &plan.products {
        let storage = storage_of(code);
        let doy = date.ordinal() as f64;
        let clouds = Noise::new(&format!("cgls-clouds-{date}"));
        let values = CGLS_GRID.map(|lon, lat| {
            let place = Place::at(lon, lat, &landscape);
            let physical = variable_from_ndvi(code, ndvi_at(&place, doy));
            let snow = lat > 61.5 && lon > 5.0 && lon < 20.0 && doy < 125.0
                || (lon - 10.0).abs() < 2.5 && (lat - 46.5).abs() < 0.6 && doy < 130.0;
            (physical, clouds.at(lon, lat, 3.0, 3) > 0.55, snow)
        });
        let stored: Vec<u8> = values
            .iter()
            .zip(&land)
            .map(|(&(physical, cloud, snow), &is_land)| {
                if !is_land {
                    FLAG_SEA
                } else if cloud {
                    FLAG_CLOUD
                } else if snow {
                    FLAG_SNOW
                } else {
                    ((physical - storage.offset) / storage.scale)
                        .round()
                        .clamp(0.0, storage.valid_max as f64) as u8
                }
            })
            .collect();
        let spec = cgls_spec(code, date);
        let path = builder.staging(&spec)?;
        write_cgls_file(&path, code, date, &stored)
            .map_err(|e| DemoError::product(&spec.name, e))?;
        builder.finish(spec)?;
        let decoded: Vec<f64> = stored
            .iter()
            .map(|s| {
                if *s <= storage.valid_max {
                    *s as f64 * storage.scale + storage.offset
                } else {
                    f64::NAN
                }
            })
            .collect();
        let (mean, pixels) = mean_where(&decoded, |i| {
            CGLS_GRID.in_box(i % CGLS_GRID.width, i / CGLS_GRID.width, EUROPE_BOX)
        });
        let flagged = stored.iter().filter(|s| **s > storage.valid_max).count();
        rows.entry(code.to_string())
            .or_insert_with(|| json!([]))
            .as_array_mut()
            .unwrap()
            .push(json!({
                "name": cgls_file_name(code, date),
                "date": date.to_string(),
                "europe_mean": mean,
                "europe_pixels": pixels,
                "flagged_pixels": flagged,
            }));
    }
    builder.truth("cgls", "window", json!(CGLS_WINDOW));
    builder.truth("cgls", "europe_box", json!(EUROPE_BOX));
    for (code, value) in rows {
        builder.truth("cgls", &code, value);
    }
    builder.truth(
        "cgls",
        "note",
        json!("europe_mean: mean of valid values (flags 252-255 excluded, scale applied) over pixels whose cells overlap europe_box; the most recent product of May 2020 is the last of each list, and June 2020 falls back to it"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// CGLS: DMP GeoTIFFs

/// The Sardinia box of the DMP tutorial.
pub const SARDINIA_BOX: [f64; 4] = [8.0, 38.8, 9.9, 41.3];
/// The DMP region's extent (reduced EURO window).
pub const DMP_WINDOW: [f64; 4] = [-11.0, 27.0, 35.0, 61.0];
const DMP_STEP: f64 = 1.0 / 14.0;
const DMP_SCALE: f64 = 0.01;
const DMP_NODATA: i16 = -1;

const DMP_GRID: LonLatGrid = LonLatGrid {
    lon0: -11.0 + DMP_STEP / 2.0,
    lat0: 61.0 - DMP_STEP / 2.0,
    step: DMP_STEP,
    width: 644,
    height: 476,
    lat_ascending: false,
};

/// Which DMP dekads to write.
#[derive(Debug, Clone)]
pub struct DmpPlan {
    /// First-dekad dates.
    pub dates: Vec<NaiveDate>,
}

impl DmpPlan {
    /// The first dekad of each month, January to June 2020.
    pub fn full() -> DmpPlan {
        DmpPlan {
            dates: (0..6)
                .map(|m| day("2020-01-01") + chrono::Months::new(m))
                .collect(),
        }
    }
}

/// The DMP product stem of a dekad.
pub fn dmp_stem(date: NaiveDate) -> String {
    format!(
        "g2_BIOPAR_DMP_{}0000_EURO_PROBAV_V1.0",
        date.format("%Y%m%d")
    )
}

/// Dry matter productivity (kg/ha/day) at a place in a month: the
/// Mediterranean grows in winter and spring and dries in summer, the
/// north grows later and more.
fn dmp_at(place: &Place, month: u32) -> f64 {
    const MEDITERRANEAN: [f64; 6] = [18.0, 28.0, 45.0, 62.0, 48.0, 25.0];
    const TEMPERATE: [f64; 6] = [6.0, 9.0, 22.0, 48.0, 85.0, 105.0];
    const BOREAL: [f64; 6] = [1.0, 2.0, 5.0, 18.0, 55.0, 90.0];
    let m = month as usize - 1;
    let (med, boreal) = (place.mediterranean(), place.boreal());
    let temperate = (1.0 - med) * (1.0 - boreal);
    let value = med * MEDITERRANEAN[m] + temperate * TEMPERATE[m] + boreal * BOREAL[m];
    (value * (1.0 - 0.95 * place.desert()) * (1.0 + 0.18 * place.texture)).max(0.0)
}

fn dmp_spec(date: NaiveDate) -> ProductSpec {
    let stem = dmp_stem(date);
    let time = date.and_hms_opt(0, 0, 0).unwrap();
    let mut attributes = Map::new();
    attributes.insert("productType".into(), json!("DMP"));
    attributes.insert("region".into(), json!("EURO"));
    ProductSpec {
        name: format!("{stem}.zip"),
        cdse_name: Some(stem.clone()),
        mission: None,
        collection: "CLMS".into(),
        product_type: "DMP".into(),
        main_class: Some("Copernicus-land".into()),
        begin: iso(time),
        end: iso(time + Duration::days(9) + Duration::hours(23) + Duration::minutes(59)),
        footprint: DMP_GRID.footprint(),
        pseudopath: format!("Copernicus-land/DMP/{}", date.format("%Y/%m/%d")),
        s3_folder: format!(
            "/eodata/CLMS/bio-geophysical/dry_matter_productivity/dmp_europe_v1_1km/{}",
            date.format("%Y/%m/%d")
        ),
        online: true,
        packing: Packing::Zip,
        attributes,
    }
}

/// When the product was made: two days after its dekad ends.
fn dmp_production_time(date: NaiveDate) -> NaiveDateTime {
    (date + Duration::days(11)).and_hms_opt(8, 30, 0).unwrap()
}

fn write_dmp_tiff(
    path: &Path,
    date: NaiveDate,
    stored: Vec<i16>,
) -> Result<(), gdal::errors::GdalError> {
    use gdal::Metadata;
    use gdal::raster::{Buffer, RasterCreationOptions};
    let driver = gdal::DriverManager::get_driver_by_name("GTiff")?;
    let options =
        RasterCreationOptions::from_iter(["COMPRESS=DEFLATE", "PREDICTOR=2", "TILED=YES"]);
    let mut dataset = driver.create_with_band_type_with_options::<i16, _>(
        path,
        DMP_GRID.width,
        DMP_GRID.height,
        1,
        &options,
    )?;
    dataset.set_geo_transform(&[DMP_WINDOW[0], DMP_STEP, 0.0, DMP_WINDOW[3], 0.0, -DMP_STEP])?;
    dataset.set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4326)?)?;
    let end = date + Duration::days(9);
    for (key, value) in [
        (
            "PRODUCT_TIME",
            dmp_production_time(date)
                .format("%Y-%m-%dT%H:%M:%S")
                .to_string(),
        ),
        ("PRODUCT_NAME", dmp_stem(date)),
        ("PRODUCT_VERSION", "V1.0".to_string()),
        ("TEMPORAL_START", format!("{date}T00:00:00")),
        ("TEMPORAL_END", format!("{end}T23:59:59")),
        ("REGION", "EURO".to_string()),
        ("PHYSICAL_UNIT", "kg DM/ha/day".to_string()),
        ("SCALING_FACTOR", DMP_SCALE.to_string()),
        ("OFFSET", "0".to_string()),
    ] {
        dataset.set_metadata_item(key, &value, "")?;
    }
    let mut band = dataset.rasterband(1)?;
    band.set_no_data_value(Some(DMP_NODATA as f64))?;
    band.set_scale(DMP_SCALE)?;
    band.set_offset(0.0)?;
    band.set_description("DMP")?;
    let mut buffer = Buffer::new((DMP_GRID.width, DMP_GRID.height), stored);
    band.write((0, 0), (DMP_GRID.width, DMP_GRID.height), &mut buffer)?;
    Ok(())
}

/// Writes the planned DMP zips and records Sardinia's mean per dekad.
pub fn write_dmp(builder: &mut ArchiveBuilder, plan: &DmpPlan) -> Result<(), DemoError> {
    let land = land_mask(&DMP_GRID);
    let landscape = Noise::new("cgls-landscape");
    let mut rows = Vec::new();
    for &date in &plan.dates {
        let values =
            DMP_GRID.map(|lon, lat| dmp_at(&Place::at(lon, lat, &landscape), date.month()));
        let stored: Vec<i16> = values
            .iter()
            .zip(&land)
            .map(|(v, is_land)| {
                if *is_land {
                    (v / DMP_SCALE).round().clamp(0.0, 32_767.0) as i16
                } else {
                    DMP_NODATA
                }
            })
            .collect();
        let spec = dmp_spec(date);
        let folder = builder.staging(&spec)?;
        let stem = dmp_stem(date);
        let tiff = folder.join(&stem).join(format!("{stem}_DMP.tiff"));
        std::fs::create_dir_all(tiff.parent().unwrap()).map_err(|e| DemoError::io(&tiff, e))?;
        let decoded: Vec<f64> = stored
            .iter()
            .map(|s| {
                if *s == DMP_NODATA {
                    f64::NAN
                } else {
                    *s as f64 * DMP_SCALE
                }
            })
            .collect();
        write_dmp_tiff(&tiff, date, stored).map_err(|e| DemoError::product(&spec.name, e))?;
        builder.finish(spec)?;
        let (mean, pixels) = mean_where(&decoded, |i| {
            DMP_GRID.in_box(i % DMP_GRID.width, i / DMP_GRID.width, SARDINIA_BOX)
        });
        rows.push(json!({
            "product": stem,
            "date": date.to_string(),
            "product_time": dmp_production_time(date).format("%Y-%m-%dT%H:%M:%S").to_string(),
            "sardinia_mean": round_to(mean, 6),
            "sardinia_pixels": pixels,
        }));
    }
    builder.truth("cgls_dmp", "sardinia_box", json!(SARDINIA_BOX));
    builder.truth("cgls_dmp", "dates", json!(rows));
    builder.truth("cgls_dmp", "units", json!("kg/ha/day"));
    builder.truth(
        "cgls_dmp",
        "note",
        json!("mean DMP (kg/ha/day, stored int16 x 0.01) of the land pixels whose cells overlap sardinia_box; stacks are dated by the dekad in the name, PRODUCT_TIME is when the product was made"),
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DemoOptions;
    use gdal::Metadata;

    fn read_band(path: &str) -> (Vec<f64>, [f64; 6], (usize, usize)) {
        let dataset = cleope_eo::gdal::dataset::open(path).unwrap();
        let band = dataset.rasterband(1).unwrap();
        let size = dataset.raster_size();
        let raw = band.read_as::<f64>((0, 0), size, size, None).unwrap();
        let (scale, offset) = (band.scale().unwrap_or(1.0), band.offset().unwrap_or(0.0));
        let nodata = band.no_data_value();
        let values = raw
            .data()
            .iter()
            .map(|v| {
                if Some(*v) == nodata {
                    f64::NAN
                } else {
                    v * scale + offset
                }
            })
            .collect();
        (values, dataset.geo_transform().unwrap(), size)
    }

    /// The mean of the pixels whose cells overlap `b`, found from the file's
    /// own geotransform (independently of the generator's grid).
    fn box_mean(
        values: &[f64],
        t: [f64; 6],
        (w, h): (usize, usize),
        b: [f64; 4],
        lon_shift: bool,
    ) -> f64 {
        let (mut sum, mut n) = (0.0, 0);
        for row in 0..h {
            for col in 0..w {
                let eps = t[1] * 1e-6;
                let (x0, x1) = (
                    t[0] + t[1] * col as f64 + eps,
                    t[0] + t[1] * (col + 1) as f64 - eps,
                );
                let (y1, y0) = (
                    t[3] + t[5] * row as f64 - eps,
                    t[3] + t[5] * (row + 1) as f64 + eps,
                );
                let (x0, x1) = if lon_shift && x0 >= 179.5 {
                    (x0 - 360.0, x1 - 360.0)
                } else {
                    (x0, x1)
                };
                let v = values[row * w + col];
                if x1 > b[0] && x0 < b[2] && y1 > b[1] && y0 < b[3] && v.is_finite() {
                    sum += v;
                    n += 1;
                }
            }
        }
        sum / n as f64
    }

    fn truth(dir: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(dir.join("truth.json")).unwrap()).unwrap()
    }

    #[test]
    fn the_land_mask_follows_the_coastlines() {
        let points = [
            (9.0, 40.0, true),
            (12.0, 39.0, false),
            (0.0, 25.0, true),
            (-30.0, 40.0, false),
            (50.5, 42.0, false),
            (100.0, 60.0, true),
            (0.0, -85.0, true),
            (135.0, -25.0, true),
            (-100.0, 40.0, true),
            (-40.0, 72.0, true),
            (-150.0, 0.0, false),
            (170.0, 67.0, true),
            (-175.0, 67.0, true),
        ];
        for (lon, lat, land) in points {
            let grid = LonLatGrid {
                lon0: lon,
                lat0: lat,
                step: 1.0,
                width: 1,
                height: 1,
                lat_ascending: true,
            };
            assert_eq!(land_mask(&grid)[0], land, "({lon}, {lat})");
        }
    }

    #[test]
    fn cams_files_read_back_with_their_names_attributes_and_truth() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let plan = CamsPlan {
            fields: vec![
                ("tcco", day("2020-01-04")),
                ("tcco", day("2020-04-15")),
                ("tcno2", day("2020-01-15")),
                ("tcno2", day("2020-02-15")),
            ],
        };
        write_cams(&mut builder, &plan).unwrap();
        builder.write_index().unwrap();
        let path = dir.path().join(
            "Copernicus-atmosphere/ANALYSIS/SURFACE_FIELDS/tcco/2020/01/04/z_cams_c_ecmf_20200104000000_prod_an_sfc_000_tcco.nc",
        );
        assert!(path.is_file(), "the ENS path");
        let source = format!("NETCDF:\"{}\":tcco", path.display());
        let dataset = cleope_eo::gdal::dataset::open(&source).unwrap();
        assert_eq!(dataset.raster_size(), (360, 181));
        let t = dataset.geo_transform().unwrap();
        assert_eq!(
            (t[0], t[1], t[3], t[5]),
            (-0.5, 1.0, 90.5, -1.0),
            "latitude descending, longitude from 0"
        );
        assert_eq!(
            dataset.metadata_item("tcco#units", "").as_deref(),
            Some("kg m**-2")
        );
        assert_eq!(
            dataset.metadata_item("tcco#long_name", "").as_deref(),
            Some("Total column carbon monoxide")
        );
        assert_eq!(
            dataset
                .metadata_item("NC_GLOBAL#Conventions", "")
                .as_deref(),
            Some("CF-1.6")
        );
        assert!(dataset.rasterband(1).unwrap().scale().unwrap() > 0.0);
        let (values, _, _) = read_band(&source);
        assert!(
            values.iter().all(|v| v.is_finite()),
            "no value is packed onto the fill value"
        );

        let truth = truth(dir.path());
        let mut means = std::collections::BTreeMap::new();
        for (code, place, bounds) in [
            ("tcco", "australia", AUSTRALIA_BOX),
            ("tcno2", "china", CHINA_BOX),
        ] {
            for row in truth["cams"][format!("{code}_{place}")].as_array().unwrap() {
                let time =
                    NaiveDateTime::parse_from_str(row["time"].as_str().unwrap(), "%Y-%m-%d %H:%M")
                        .unwrap();
                let file = dir
                    .path()
                    .join(products::cams_pseudopath(code, time.date()))
                    .join(products::cams_file_name(code, time));
                let (values, t, size) = read_band(&format!("NETCDF:\"{}\":{code}", file.display()));
                let again = box_mean(&values, t, size, bounds, true);
                let recorded = row["mean"].as_f64().unwrap();
                assert!(
                    (again - recorded).abs() < recorded * 1e-5,
                    "{code} {time}: {again} vs {recorded}"
                );
                means.insert(
                    format!("{code} {}", row["time"].as_str().unwrap()),
                    recorded,
                );
            }
        }
        assert!(
            means["tcco 2020-01-04 00:00"] > 1.1 * means["tcco 2020-04-15 00:00"],
            "smoke over Australia"
        );
        let drop = means["tcno2 2020-02-15 00:00"] / means["tcno2 2020-01-15 00:00"];
        assert!(drop < 0.75, "NO2 fell in February: {drop}");
    }

    #[test]
    fn gmpe_files_read_back_with_their_names_attributes_and_truth() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let plan = CmemsPlan {
            days: vec![day("2019-08-07"), day("2020-02-01")],
            offline: vec![day("2019-03-01")],
        };
        write_cmems(&mut builder, &plan).unwrap();
        let index = builder.write_index().unwrap();
        assert!(
            !index
                .products
                .iter()
                .find(|p| p.name.starts_with("20190301"))
                .unwrap()
                .online
        );
        let file = dir
            .path()
            .join(products::gmpe_pseudopath(day("2019-08-07")))
            .join(products::gmpe_file_name(day("2019-08-07")));
        let source = format!("NETCDF:\"{}\":analysed_sst", file.display());
        let dataset = cleope_eo::gdal::dataset::open(&source).unwrap();
        assert_eq!(dataset.raster_size(), (720, 360));
        let t = dataset.geo_transform().unwrap();
        assert_eq!(
            (t[0], t[3], t[5]),
            (-180.0, 90.0, -0.5),
            "GDAL shows the south-first rows north up"
        );
        let band = dataset.rasterband(1).unwrap();
        assert_eq!((band.scale(), band.offset()), (Some(0.01), Some(273.15)));
        assert_eq!(
            dataset.metadata_item("analysed_sst#units", "").as_deref(),
            Some("kelvin")
        );
        assert!(
            cleope_eo::gdal::dataset::open(format!("NETCDF:\"{}\":mask", file.display())).is_ok()
        );

        let truth = truth(dir.path());
        let rows = truth["cmems"]["dates"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "offline days have no truth row");
        for row in rows {
            let date = day(row["date"].as_str().unwrap());
            let file = dir
                .path()
                .join(products::gmpe_pseudopath(date))
                .join(products::gmpe_file_name(date));
            let (kelvin, t, (w, h)) =
                read_band(&format!("NETCDF:\"{}\":analysed_sst", file.display()));
            let valid: Vec<f64> = kelvin.iter().copied().filter(|v| v.is_finite()).collect();
            let global = valid.iter().sum::<f64>() / valid.len() as f64 - 273.15;
            assert!((global - row["global_mean_c"].as_f64().unwrap()).abs() < 1e-6);
            let (mut sum, mut n) = (0.0, 0);
            for r in 0..h {
                for c in 0..w {
                    let (lon, lat) = (
                        t[0] + t[1] * (c as f64 + 0.5),
                        t[3] + t[5] * (r as f64 + 0.5),
                    );
                    let v = kelvin[r * w + c];
                    if v.is_finite() && ring_contains(&MEDSEA, lon, lat) {
                        sum += v - 273.15;
                        n += 1;
                    }
                }
            }
            assert_eq!(n as u64, row["medsea_pixels"].as_u64().unwrap());
            assert!((sum / n as f64 - row["medsea_mean_c"].as_f64().unwrap()).abs() < 1e-6);
            assert!(n > 700, "the Med Sea has {n} pixels at 0.5 degrees");
        }
        let summer = rows[0]["medsea_mean_c"].as_f64().unwrap();
        let winter = rows[1]["medsea_mean_c"].as_f64().unwrap();
        assert!(
            summer > 24.0 && winter < 17.0,
            "seasons: {summer} in August, {winter} in February"
        );
        assert!(
            rows[0]["global_mean_c"].as_f64().unwrap() > 12.0
                && rows[0]["global_mean_c"].as_f64().unwrap() < 22.0
        );
    }

    #[test]
    fn cgls_files_hold_scaled_values_and_flags() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let plan = CglsPlan {
            products: vec![
                ("NDVI", day("2020-04-21")),
                ("NDVI", day("2020-05-21")),
                ("LAI", day("2020-05-31")),
            ],
        };
        write_cgls(&mut builder, &plan).unwrap();
        builder.write_index().unwrap();
        let truth = truth(dir.path());
        for code in ["NDVI", "LAI"] {
            for row in truth["cgls"][code].as_array().unwrap() {
                let date = day(row["date"].as_str().unwrap());
                let file = dir
                    .path()
                    .join(format!(
                        "Copernicus-land/{code}/{}",
                        date.format("%Y/%m/%d")
                    ))
                    .join(row["name"].as_str().unwrap());
                let source = format!("NETCDF:\"{}\":{code}", file.display());
                let dataset = cleope_eo::gdal::dataset::open(&source).unwrap();
                let band = dataset.rasterband(1).unwrap();
                let size = dataset.raster_size();
                let raw = band.read_as::<u8>((0, 0), size, size, None).unwrap();
                let max = if code == "LAI" { 210 } else { 250 };
                let (scale, offset) = (band.scale().unwrap(), band.offset().unwrap());
                let values: Vec<f64> = raw
                    .data()
                    .iter()
                    .map(|d| {
                        if *d <= max {
                            *d as f64 * scale + offset
                        } else {
                            f64::NAN
                        }
                    })
                    .collect();
                let t = dataset.geo_transform().unwrap();
                assert!(
                    (t[0] + 15.0).abs() < 1e-6 && (t[3] - 63.0).abs() < 1e-6,
                    "{t:?}"
                );
                let again = box_mean(&values, t, size, EUROPE_BOX, false);
                assert!(
                    (again - row["europe_mean"].as_f64().unwrap()).abs() < 1e-6,
                    "{code}: {again} vs {}",
                    row["europe_mean"]
                );
                // GDAL reads values outside valid_range (the flags) as the fill value.
                let flagged = raw.data().iter().filter(|d| **d > max).count();
                assert!(flagged > 30_000, "the sea is flagged: {flagged}");
                assert!(
                    dataset
                        .metadata_item(&format!("{code}#valid_range"), "")
                        .is_some(),
                    "valid_range is set"
                );
            }
        }
        let ndvi = truth["cgls"]["NDVI"].as_array().unwrap();
        assert!(
            ndvi[1]["europe_mean"].as_f64().unwrap()
                > ndvi[0]["europe_mean"].as_f64().unwrap() + 0.02,
            "Europe greens up from April to May"
        );
    }

    #[test]
    fn dmp_zips_hold_a_scaled_geotiff_with_its_product_time() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let plan = DmpPlan {
            dates: vec![day("2020-01-01"), day("2020-04-01")],
        };
        write_dmp(&mut builder, &plan).unwrap();
        builder.write_index().unwrap();
        let stem = dmp_stem(day("2020-04-01"));
        let packed = dir.path().join(format!(".packed/{stem}.zip"));
        let member = format!("/vsizip/{}/{stem}/{stem}_DMP.tiff", packed.display());
        let dataset = cleope_eo::gdal::dataset::open(&member).unwrap();
        assert_eq!(
            dataset.metadata_item("PRODUCT_TIME", "").as_deref(),
            Some("2020-04-12T08:30:00")
        );
        let band = dataset.rasterband(1).unwrap();
        assert_eq!(
            (band.scale(), band.no_data_value()),
            (Some(0.01), Some(-1.0))
        );
        let ens = dir.path().join(format!(
            "Copernicus-land/DMP/2020/04/01/{stem}.zip/{stem}/{stem}_DMP.tiff"
        ));
        assert!(ens.is_file());
        let truth = truth(dir.path());
        let rows = truth["cgls_dmp"]["dates"].as_array().unwrap();
        for row in rows {
            let stem = row["product"].as_str().unwrap();
            let date = day(row["date"].as_str().unwrap());
            let tiff = dir.path().join(format!(
                "Copernicus-land/DMP/{}/{stem}.zip/{stem}/{stem}_DMP.tiff",
                date.format("%Y/%m/%d")
            ));
            let (values, t, size) = read_band(tiff.to_str().unwrap());
            let again = box_mean(&values, t, size, SARDINIA_BOX, false);
            assert!((again - row["sardinia_mean"].as_f64().unwrap()).abs() < 1e-5);
        }
        let january = rows[0]["sardinia_mean"].as_f64().unwrap();
        let april = rows[1]["sardinia_mean"].as_f64().unwrap();
        assert!(
            april > 2.0 * january && april < 90.0,
            "Sardinia grows in spring: {january} -> {april}"
        );
    }
}
