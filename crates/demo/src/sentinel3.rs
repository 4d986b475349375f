//! Sentinel-3 products of the demo archive, each a SEN3 folder as ESA
//! distributes it (`xfdumanifest.xml` and one netCDF-4 file per group of
//! variables, on the instrument's swath grid of rows x columns with 2-D
//! latitude/longitude), at reduced resolution or extent:
//!
//! | product | where, when | pixel | tutorial |
//! | --- | --- | --- | --- |
//! | OLCI L2 WFR (water) | northern Italy, S3A 2020-02-06 and 2020-04-11 | 2.5 km | OLCI: suspended matter before and during the lockdown |
//! | OLCI L2 LFR (land) | northern Italy, S3B 2020-04-09 and 2020-04-23; California 2020-11-08 (offline) | 2.5 km | OLCI vegetation indices; ORDER |
//! | SYN L2 (synergy) | 20 frames over Italy, 2020-07-20 and 21 | 26 km | SEARCH |
//! | SLSTR L1 RBT | Chernobyl exclusion zone at night, 5 dates before and 5 during the April 2020 fires; Anak Krakatau 2020-04-12 | 1 km | SLSTR fire; Krakatoa |
//! | SLSTR L2 LST | north-east Siberia, S3B 2020-06-19 | 3 km | LST heat wave |
//!
//! Variables, types, scale factors and attributes are those of the real
//! products: latitude/longitude as int32 micro-degrees, OLCI water products
//! stored as log10 with their `lg(re …)` units, the 64-bit WQSF and 32-bit
//! LQSF flag words with `flag_masks`/`flag_meanings`, brightness temperatures
//! as int16 with scale 0.01 and offset 283.73. Land and sea follow the
//! Natural Earth coastlines cleope draws on maps (with the large lakes
//! added), so values and coastlines agree. Every truth is computed from the
//! values as written (after their quantisation) or, for gridded results
//! such as anomaly maps, from the noise-free fields the scenes were built
//! from.

use super::{ArchiveBuilder, DemoError, Packing, ProductSpec, scene_rng};
use chrono::{Duration, NaiveDateTime};
use cleope_eo::netcdf::{Attr, NcError, NcWriter};
use rand::Rng;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::f64::consts::PI;
use std::path::Path;
use std::sync::OnceLock;

/// Writes every Sentinel-3 product the tutorials use.
pub fn write(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    olci_water(builder)?;
    olci_land(builder)?;
    order_example(builder)?;
    synergy(builder)?;
    chernobyl(builder)?;
    krakatoa(builder)?;
    siberia(builder)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Areas of the tutorials

/// The OLCI notebook's northern Italy (lon_min, lat_min, lon_max, lat_max).
pub const NORTH_ITALY: [f64; 4] = [6.306006, 42.79847, 14.847897, 46.531617];
/// The Po delta and its plume, where suspended matter is highest.
pub const PO_DELTA: [f64; 4] = [12.2, 44.7, 12.8, 45.1];
/// The Venetian lagoon and the port of Venice.
pub const VENICE: [f64; 4] = [12.15, 45.2, 12.6, 45.55];
/// The Po valley's farmland, where vegetation greens up in April.
pub const PO_VALLEY: [f64; 4] = [8.6, 44.85, 11.8, 45.35];
/// The SEARCH notebook's box over Italy.
pub const SEARCH_BOX: [f64; 4] = [1.825846, 35.424868, 17.551899, 44.995883];
/// The SLSTR notebook's clip around the Chernobyl fires.
pub const CHERNOBYL_BOX: [f64; 4] = [29.73, 51.1, 30.3, 51.6];
/// The Chernobyl nuclear power plant (lon, lat).
pub const CHERNOBYL_PLANT: (f64, f64) = (30.119722, 51.383056);
/// The Krakatoa notebook's SLSTR and Sentinel-2 box.
pub const KRAKATOA_BOX: [f64; 4] = [105.0, -6.2, 105.5, -5.8];
/// Anak Krakatau's vent (lon, lat).
pub const ANAK_KRAKATAU: (f64, f64) = (105.423, -6.102);
/// The LST notebook's map extent over north-east Siberia.
pub const SIBERIA_EXTENT: [f64; 4] = [137.0, 67.0, 155.0, 73.0];
/// Chokurdakh and Srednekolymsk, the LST notebook's markers (lon, lat).
pub const CHOKURDAKH: (f64, f64) = (147.917664, 70.623182);
pub const SREDNEKOLYMSK: (f64, f64) = (153.728628, 67.437279);
/// Brightness-temperature rise above the pre-fire reference counted as burning (K).
pub const FIRE_THRESHOLD_K: f64 = 5.0;
/// Brightness temperature below which the Krakatoa scene counts as plume (K).
pub const PLUME_THRESHOLD_K: f64 = 290.0;

// ---------------------------------------------------------------------------
// Swath geometry

/// Kilometres per degree of latitude (and of longitude at the equator).
pub(crate) const KM_PER_DEGREE: f64 = 111.32;

/// A satellite swath's pixel grid: `rows` follow the ground track (heading
/// in degrees clockwise from north), `columns` run across it, pixels
/// `along_km` x `across_km`, centred on `centre` (lon, lat).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct SwathFrame {
    pub centre: (f64, f64),
    pub heading: f64,
    pub rows: usize,
    pub columns: usize,
    pub along_km: f64,
    pub across_km: f64,
}

impl SwathFrame {
    /// Longitude and latitude of a pixel centre (fractional indices allowed).
    pub fn lonlat(&self, row: f64, column: f64) -> (f64, f64) {
        let heading = self.heading.to_radians();
        let along = (row - (self.rows as f64 - 1.0) / 2.0) * self.along_km;
        let across = (column - (self.columns as f64 - 1.0) / 2.0) * self.across_km;
        // Across-track is the track direction turned 90° clockwise.
        let east = along * heading.sin() + across * heading.cos();
        let north = along * heading.cos() - across * heading.sin();
        let lat = self.centre.1 + north / KM_PER_DEGREE;
        let lon = self.centre.0 + east / (KM_PER_DEGREE * lat.to_radians().cos());
        (lon, lat)
    }

    /// Every pixel centre, row by row.
    pub fn positions(&self) -> Vec<(f64, f64)> {
        (0..self.rows)
            .flat_map(|r| (0..self.columns).map(move |c| self.lonlat(r as f64, c as f64)))
            .collect()
    }

    /// The frame's outline: corners and edge midpoints of the outer pixel
    /// edges, counter-clockwise for a northward track.
    pub fn footprint(&self) -> Vec<(f64, f64)> {
        let (last_row, last_col) = (self.rows as f64 - 0.5, self.columns as f64 - 0.5);
        let (mid_row, mid_col) = (last_row / 2.0 - 0.25, last_col / 2.0 - 0.25);
        [
            (-0.5, -0.5),
            (mid_row, -0.5),
            (last_row, -0.5),
            (last_row, mid_col),
            (last_row, last_col),
            (mid_row, last_col),
            (-0.5, last_col),
            (-0.5, mid_col),
        ]
        .iter()
        .map(|&(r, c)| {
            let (lon, lat) = self.lonlat(r, c);
            (round6(lon), round6(lat))
        })
        .collect()
    }
}

fn round6(value: f64) -> f64 {
    (value * 1e6).round() / 1e6
}

/// Distance in km between two lon/lat points (local equirectangular, fine at
/// the scale of a scene).
pub(crate) fn km_between(a: (f64, f64), b: (f64, f64)) -> f64 {
    let mid = ((a.1 + b.1) / 2.0).to_radians().cos();
    let dx = (a.0 - b.0) * KM_PER_DEGREE * mid;
    let dy = (a.1 - b.1) * KM_PER_DEGREE;
    (dx * dx + dy * dy).sqrt()
}

/// Distance in km from a point to a polyline.
pub(crate) fn km_to_polyline(point: (f64, f64), line: &[(f64, f64)]) -> f64 {
    let scale = point.1.to_radians().cos() * KM_PER_DEGREE;
    let to_km = |p: (f64, f64)| ((p.0 - point.0) * scale, (p.1 - point.1) * KM_PER_DEGREE);
    line.windows(2)
        .map(|pair| {
            let (a, b) = (to_km(pair[0]), to_km(pair[1]));
            let (dx, dy) = (b.0 - a.0, b.1 - a.1);
            let t = (-(a.0 * dx + a.1 * dy) / (dx * dx + dy * dy)).clamp(0.0, 1.0);
            let (x, y) = (a.0 + t * dx, a.1 + t * dy);
            (x * x + y * y).sqrt()
        })
        .fold(f64::INFINITY, f64::min)
}

/// A Gaussian bump of `amplitude` and width `sigma_km` around `centre`.
pub(crate) fn bump(point: (f64, f64), centre: (f64, f64), sigma_km: f64, amplitude: f64) -> f64 {
    let d = km_between(point, centre) / sigma_km;
    amplitude * (-0.5 * d * d).exp()
}

/// A plume: a bump stretched along `direction` (degrees clockwise from
/// north) from `source`, `length_km` long, widening from `width_km`.
pub(crate) fn plume(
    point: (f64, f64),
    source: (f64, f64),
    direction: f64,
    length_km: f64,
    width_km: f64,
    amplitude: f64,
) -> f64 {
    let scale = source.1.to_radians().cos() * KM_PER_DEGREE;
    let (east, north) = (
        (point.0 - source.0) * scale,
        (point.1 - source.1) * KM_PER_DEGREE,
    );
    let heading = direction.to_radians();
    let along = east * heading.sin() + north * heading.cos();
    let across = east * heading.cos() - north * heading.sin();
    if along < -width_km * 2.0 {
        return 0.0;
    }
    let decay =
        (-along.max(0.0) / length_km).exp() * (-0.5 * (along.min(0.0) / width_km).powi(2)).exp();
    let width = width_km * (1.0 + along.max(0.0) / length_km);
    amplitude * decay * (-0.5 * (across / width).powi(2)).exp()
}

/// Smooth noise in about [-1, 1]: a sum of plane waves with random
/// directions and phases, wavelengths from `scale_km` down.
#[derive(Debug, Clone)]
pub(crate) struct Waves(Vec<(f64, f64, f64, f64)>);

impl Waves {
    pub fn new(seed: &str, scale_km: f64, count: usize) -> Waves {
        let mut rng = scene_rng(seed);
        let waves = (0..count)
            .map(|i| {
                let angle = rng.random::<f64>() * PI;
                let wavelength = scale_km / (1.0 + i as f64 * 0.7);
                let k = 2.0 * PI / wavelength;
                (
                    k * angle.cos(),
                    k * angle.sin(),
                    rng.random::<f64>() * 2.0 * PI,
                    1.0 / (1.0 + i as f64 * 0.5),
                )
            })
            .collect();
        Waves(waves)
    }

    pub fn at(&self, point: (f64, f64)) -> f64 {
        let x = point.0 * KM_PER_DEGREE * point.1.to_radians().cos();
        let y = point.1 * KM_PER_DEGREE;
        let total: f64 = self.0.iter().map(|w| w.3).sum();
        self.0
            .iter()
            .map(|&(kx, ky, phase, weight)| weight * (kx * x + ky * y + phase).sin())
            .sum::<f64>()
            / total
            * 1.6
    }
}

// ---------------------------------------------------------------------------
// Land and water

/// Land or water on a regular lon/lat grid, from the Natural Earth
/// coastlines cleope draws on maps (the coastline arcs, each used by one
/// country, together bound the land: a point is on land when a ray east of
/// it crosses them an odd number of times), with lakes cut out, and each
/// cell's distance to the coast.
pub(crate) struct LandMask {
    west: f64,
    north: f64,
    step: f64,
    width: usize,
    height: usize,
    land: Vec<bool>,
    coast_km: Vec<f32>,
}

impl LandMask {
    /// The mask over `bounds` (lon_min, lat_min, lon_max, lat_max) in cells
    /// of `step` degrees; inside each of `flips` land and water swap (lakes
    /// in the land, small islands in the sea).
    pub fn new(bounds: [f64; 4], step: f64, flips: &[&[(f64, f64)]]) -> LandMask {
        let [west, south, east, north] = bounds;
        let width = ((east - west) / step).ceil() as usize;
        let height = ((north - south) / step).ceil() as usize;
        let segments = coast_segments(south - 1.0, north + 1.0, flips);
        let land: Vec<bool> = (0..height)
            .into_par_iter()
            .flat_map_iter(|row| {
                let lat = north - (row as f64 + 0.5) * step;
                let mut crossings: Vec<f64> = segments
                    .iter()
                    .filter(|[_, y1, _, y2]| (*y1 > lat) != (*y2 > lat))
                    .map(|[x1, y1, x2, y2]| x1 + (lat - y1) / (y2 - y1) * (x2 - x1))
                    .collect();
                crossings.sort_by(f64::total_cmp);
                (0..width)
                    .map(|col| {
                        let lon = west + (col as f64 + 0.5) * step;
                        let east_of = crossings.len() - crossings.partition_point(|x| *x <= lon);
                        east_of % 2 == 1
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let coast_km = coast_distance(&land, width, height, step, (south + north) / 2.0);
        LandMask {
            west,
            north,
            step,
            width,
            height,
            land,
            coast_km,
        }
    }

    fn cell(&self, point: (f64, f64)) -> Option<usize> {
        let col = ((point.0 - self.west) / self.step).floor();
        let row = ((self.north - point.1) / self.step).floor();
        let inside =
            col >= 0.0 && row >= 0.0 && (col as usize) < self.width && (row as usize) < self.height;
        inside.then(|| row as usize * self.width + col as usize)
    }

    /// Whether the point is on land (outside the mask: water).
    pub fn is_land(&self, point: (f64, f64)) -> bool {
        self.cell(point).is_some_and(|i| self.land[i])
    }

    /// Distance in km to the nearest cell of the other kind (land to water,
    /// water to land); far outside the mask, a large number.
    pub fn coast_km(&self, point: (f64, f64)) -> f64 {
        self.cell(point)
            .map_or(1.0e4, |i| f64::from(self.coast_km[i]))
    }
}

/// Coastline segments crossing the latitude band [south, north] (closed
/// along the antimeridian, see `basemap::coast_segments`), plus the rings
/// of `flips` (lakes, islands).
fn coast_segments(south: f64, north: f64, flips: &[&[(f64, f64)]]) -> Vec<[f64; 4]> {
    let near = cleope_eo::plot::basemap::lines()
        .iter()
        .filter(|l| l.bounds.1 <= north && l.bounds.3 >= south);
    let mut segments = cleope_eo::plot::basemap::coast_segments(near);
    for ring in flips {
        for i in 0..ring.len() {
            let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
            segments.push([a.0, a.1, b.0, b.1]);
        }
    }
    segments
        .into_iter()
        .filter(|[_, y1, _, y2]| y1.max(*y2) >= south && y1.min(*y2) <= north)
        .collect()
}

/// Each cell's distance (km) to the nearest cell of the other kind (see
/// `landscape::distance_to_other_kind`), at most 10,000 km.
fn coast_distance(land: &[bool], width: usize, height: usize, step: f64, lat: f64) -> Vec<f32> {
    let dy = (step * KM_PER_DEGREE) as f32;
    let dx = (step * KM_PER_DEGREE * lat.to_radians().cos()) as f32;
    crate::landscape::distance_to_other_kind(land, width, height, (dx, dy))
        .iter()
        .map(|d| d.min(1.0e4))
        .collect()
}

/// A closed ring approximating an ellipse (lakes, ponds), `count` points.
pub(crate) fn ellipse(centre: (f64, f64), rx_km: f64, ry_km: f64, count: usize) -> Vec<(f64, f64)> {
    let scale = centre.1.to_radians().cos() * KM_PER_DEGREE;
    (0..count)
        .map(|i| {
            let a = 2.0 * PI * i as f64 / count as f64;
            (
                centre.0 + rx_km * a.cos() / scale,
                centre.1 + ry_km * a.sin() / KM_PER_DEGREE,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------
// Packing values the way the products store them

/// Degrees as int32 micro-degrees (scale_factor 1e-6).
pub(crate) fn micro_degrees(value: f64) -> i32 {
    (value * 1e6).round() as i32
}

/// A value packed into int16 with `scale` and `offset` (NaN → the fill, -32768).
pub(crate) fn pack_i16(value: f64, scale: f64, offset: f64) -> i16 {
    if value.is_finite() {
        ((value - offset) / scale).round().clamp(-32767.0, 32767.0) as i16
    } else {
        i16::MIN
    }
}

/// The value an int16 stands for (NaN for the fill).
pub(crate) fn unpack_i16(stored: i16, scale: f64, offset: f64) -> f64 {
    if stored == i16::MIN {
        f64::NAN
    } else {
        f64::from(stored) * scale + offset
    }
}

/// A value packed into uint8 with `scale` (NaN → the fill, 255).
pub(crate) fn pack_u8(value: f64, scale: f64) -> u8 {
    if value.is_finite() {
        (value / scale).round().clamp(0.0, 254.0) as u8
    } else {
        255
    }
}

/// The value a uint8 stands for (NaN for the fill).
pub(crate) fn unpack_u8(stored: u8, scale: f64) -> f64 {
    if stored == 255 {
        f64::NAN
    } else {
        f64::from(stored) * scale
    }
}

// ---------------------------------------------------------------------------
// netCDF files

/// The values of one variable, in the type the product stores.
pub(crate) enum Values {
    F32(Vec<f32>),
    I16(Vec<i16>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    U8(Vec<u8>),
    U16(Vec<u16>),
    U32(Vec<u32>),
    U64(Vec<u64>),
}

/// One variable of a file: its name, dimensions (None: the swath's rows
/// and columns), values and attributes.
pub(crate) struct Var {
    pub name: &'static str,
    pub dims: Option<Vec<(&'static str, usize)>>,
    pub values: Values,
    pub attrs: Vec<Attr>,
}

impl Var {
    /// A variable over the swath's rows and columns.
    pub fn grid(name: &'static str, values: Values, attrs: Vec<Attr>) -> Var {
        Var {
            name,
            dims: None,
            values,
            attrs,
        }
    }
}

/// Writes a netCDF-4 file of `vars` over a `rows` x `columns` swath (and
/// any other dimension a variable names), with global attributes.
pub(crate) fn write_swath_file(
    path: &Path,
    globals: &[Attr],
    (rows, columns): (usize, usize),
    vars: &[Var],
) -> Result<(), NcError> {
    let nc = NcWriter::create(path)?;
    let root = nc.root();
    for attr in globals {
        root.attribute(attr)?;
    }
    let mut dims = Vec::new();
    for var in vars {
        let wanted = var
            .dims
            .clone()
            .unwrap_or_else(|| vec![("rows", rows), ("columns", columns)]);
        for (name, size) in &wanted {
            if !dims.iter().any(|(n, _)| n == name) {
                dims.push((*name, root.dimension(name, *size)?));
            }
        }
        let handles: Vec<_> = wanted
            .iter()
            .map(|(name, _)| &dims.iter().find(|(n, _)| n == name).unwrap().1)
            .collect();
        match &var.values {
            Values::F32(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::I16(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::I32(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::I64(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::U8(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::U16(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::U32(v) => root.write(var.name, &handles, v, &var.attrs)?,
            Values::U64(v) => root.write(var.name, &handles, v, &var.attrs)?,
        }
    }
    drop((dims, root));
    nc.close()
}

/// Latitude and longitude as int32 micro-degrees with their attributes.
fn coordinate_vars(
    positions: &[(f64, f64)],
    lat_name: &'static str,
    lon_name: &'static str,
) -> [Var; 2] {
    let coordinate = |name: &'static str, standard: &str, units: &str, range: f64, index: usize| {
        let values = positions
            .iter()
            .map(|p| micro_degrees(if index == 0 { p.0 } else { p.1 }))
            .collect();
        Var::grid(
            name,
            Values::I32(values),
            vec![
                Attr::f64("_FillValue", f64::from(i32::MIN)),
                Attr::f64("scale_factor", 1e-6),
                Attr::f64("add_offset", 0.0),
                Attr::str("long_name", &format!("DEM corrected {standard}")),
                Attr::str("standard_name", standard),
                Attr::str("units", units),
                Attr::f64("valid_min", -range * 1e6),
                Attr::f64("valid_max", range * 1e6),
            ],
        )
    };
    [
        coordinate(lat_name, "latitude", "degrees_north", 90.0, 1),
        coordinate(lon_name, "longitude", "degrees_east", 180.0, 0),
    ]
}

/// Elevation in metres as int16.
fn altitude_var(name: &'static str, metres: &[f64]) -> Var {
    Var::grid(
        name,
        Values::I16(metres.iter().map(|&m| pack_i16(m, 1.0, 0.0)).collect()),
        vec![
            Attr::f64("_FillValue", -32768.0),
            Attr::str("long_name", "DEM corrected altitude"),
            Attr::str("standard_name", "altitude"),
            Attr::str("units", "m"),
        ],
    )
}

// ---------------------------------------------------------------------------
// Products: names, manifests, catalogue records

/// The instrument family of a product type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Instrument {
    Olci,
    Slstr,
    Synergy,
}

/// A Sentinel-3 product to write: what its name says and its swath.
#[derive(Debug, Clone)]
struct Sen3 {
    /// "S3A" or "S3B".
    platform: &'static str,
    /// The 11-character product type, e.g. "OL_2_WFR___".
    kind: &'static str,
    start: NaiveDateTime,
    /// Sensing duration (s).
    duration: i64,
    cycle: u32,
    relative_orbit: u32,
    /// Along-track coordinate of the frame (the name's frame field).
    frame_number: u32,
    /// Processing centre: "MAR" (marine), "LN1", "LN2", "SVL".
    centre: &'static str,
    /// Processing baseline collection, e.g. "002".
    baseline: &'static str,
    online: bool,
    frame: SwathFrame,
    /// Ascending (night SLSTR) or descending (day) pass.
    ascending: bool,
}

impl Sen3 {
    fn instrument(&self) -> Instrument {
        match &self.kind[..2] {
            "OL" => Instrument::Olci,
            "SL" => Instrument::Slstr,
            _ => Instrument::Synergy,
        }
    }

    fn stop(&self) -> NaiveDateTime {
        self.start + Duration::seconds(self.duration)
    }

    /// When the ground segment made the product: a day and some hours later.
    fn created(&self) -> NaiveDateTime {
        let hours = 20 + (self.relative_orbit % 19) as i64;
        self.stop() + Duration::hours(hours) + Duration::seconds(i64::from(self.frame_number))
    }

    /// The name without extension, e.g.
    /// `S3A_OL_2_WFR____20200206T095019_20200206T095319_20200207T193512_0179_054_264_2160_MAR_O_NT_002`.
    fn stem(&self) -> String {
        let time = |t: NaiveDateTime| t.format("%Y%m%dT%H%M%S").to_string();
        format!(
            "{}_{}_{}_{}_{}_{:04}_{:03}_{:03}_{:04}_{}_O_NT_{}",
            self.platform,
            self.kind,
            time(self.start),
            time(self.stop()),
            time(self.created()),
            self.duration - 1,
            self.cycle,
            self.relative_orbit,
            self.frame_number,
            self.centre,
            self.baseline
        )
    }

    /// Orbits since launch: 385 per 27-day cycle.
    fn absolute_orbit(&self) -> u32 {
        (self.cycle - 1) * 385 + self.relative_orbit
    }

    fn instrument_name(&self) -> (&'static str, &'static str) {
        match self.instrument() {
            Instrument::Olci => ("OLCI", "Ocean Land Colour Instrument"),
            Instrument::Slstr => ("SLSTR", "Sea and Land Surface Temperature Radiometer"),
            Instrument::Synergy => ("SYNERGY", "Synergy (OLCI and SLSTR)"),
        }
    }

    /// The global attributes every file of the product carries.
    fn globals(&self, title: &str, resolution_m: u32) -> Vec<Attr> {
        let time = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
        let (short, _) = self.instrument_name();
        vec![
            Attr::i32("absolute_orbit_number", self.absolute_orbit() as i32),
            Attr::str("comment", " "),
            Attr::str("contact", "eosupport@copernicus.esa.int"),
            Attr::str("creation_time", &time(self.created())),
            Attr::str("history", "  "),
            Attr::str("institution", self.centre),
            Attr::str("netCDF_version", "4.2 of Mar 13 2018 10:14:33 $"),
            Attr::str("product_name", &format!("{}.SEN3", self.stem())),
            Attr::str(
                "references",
                "S3IPF PDS 004.1 - i2r6 - Product Data Format Specification",
            ),
            Attr::str("resolution", &format!("[ {resolution_m} {resolution_m} ]")),
            Attr::str(
                "source",
                &format!("IPF-{short}-L{} 06.08", &self.kind[3..4]),
            ),
            Attr::str("start_time", &time(self.start)),
            Attr::str("stop_time", &time(self.stop())),
            Attr::str("title", title),
        ]
    }

    /// The catalogue record.
    fn spec(&self) -> ProductSpec {
        let stem = self.stem();
        let day = self.start.format("%Y/%m/%d");
        let level = &self.kind[3..4];
        let (short, _) = self.instrument_name();
        let mut attributes = Map::new();
        let mut set = |key: &str, value: Value| {
            attributes.insert(key.into(), value);
        };
        set("productType", json!(self.kind));
        set("platformSerialIdentifier", json!(&self.platform[2..]));
        set("instrumentShortName", json!(short));
        set("orbitNumber", json!(self.absolute_orbit()));
        set("relativeOrbitNumber", json!(self.relative_orbit));
        set("cycleNumber", json!(self.cycle));
        set(
            "orbitDirection",
            json!(if self.ascending {
                "ASCENDING"
            } else {
                "DESCENDING"
            }),
        );
        set("processingLevel", json!(format!("{level}")));
        set("timeliness", json!("NT"));
        set("baselineCollection", json!(self.baseline));
        let pseudo_level = if level == "1" { "LEVEL-1" } else { "LEVEL-2" };
        let folder = match self.instrument() {
            Instrument::Olci => "OLCI",
            Instrument::Slstr => "SLSTR",
            Instrument::Synergy => "SYNERGY",
        };
        ProductSpec {
            name: format!("{stem}.zip"),
            cdse_name: Some(format!("{stem}.SEN3")),
            mission: Some("Sentinel-3".into()),
            collection: "SENTINEL-3".into(),
            product_type: self.kind.into(),
            main_class: None,
            begin: iso_millis(self.start),
            end: iso_millis(self.stop()),
            footprint: self.frame.footprint(),
            pseudopath: format!("OPTICAL/{pseudo_level}/{day}"),
            s3_folder: format!("/eodata/Sentinel-3/{folder}/{}/{day}", self.kind),
            online: self.online,
            packing: Packing::Zip,
            attributes,
        }
    }
}

fn iso_millis(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn nc_failure(product: &str) -> impl Fn(NcError) -> DemoError + '_ {
    move |e| DemoError::product(product, e)
}

/// Writes a product: `files` writes the netCDF files into the SEN3 folder
/// and returns their names; the manifest lists them with sizes and MD5s.
fn write_sen3(
    builder: &mut ArchiveBuilder,
    product: &Sen3,
    files: impl FnOnce(&Path) -> Result<Vec<&'static str>, DemoError>,
) -> Result<(), DemoError> {
    let spec = product.spec();
    let folder = builder
        .staging(&spec)?
        .join(format!("{}.SEN3", product.stem()));
    std::fs::create_dir_all(&folder).map_err(|e| DemoError::io(&folder, e))?;
    let written = files(&folder)?;
    write_manifest(&folder, product, &written)?;
    builder.finish(spec)
}

/// The file's schema name in the manifest, e.g. `tsm_nn.nc` → `tsmNn`.
fn object_id(file: &str) -> String {
    let stem = file.trim_end_matches(".nc");
    let mut id = String::new();
    let mut upper = false;
    for c in stem.chars() {
        if c == '_' {
            upper = true;
        } else if upper {
            id.extend(c.to_uppercase());
            upper = false;
        } else {
            id.push(c);
        }
    }
    id
}

/// `xfdumanifest.xml`: acquisition period, platform, orbit, footprint
/// (`lat lon` pairs, as Sentinel-3 writes them), product information and
/// every data file with its size and MD5.
fn write_manifest(folder: &Path, product: &Sen3, files: &[&str]) -> Result<(), DemoError> {
    let time = |t: NaiveDateTime| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string();
    let (short, long) = product.instrument_name();
    let mut units = String::new();
    let mut objects = String::new();
    let mut total = 0u64;
    for file in files {
        let path = folder.join(file);
        let (size, md5, _) = super::checksums(&path)?;
        total += size;
        let id = object_id(file);
        units.push_str(&format!(
            "      <xfdu:contentUnit unitType=\"Measurement Data Unit\" repID=\"{id}Schema\" ID=\"{id}Unit\">\n        <dataObjectPointer dataObjectID=\"{id}Data\"/>\n      </xfdu:contentUnit>\n"
        ));
        objects.push_str(&format!(
            "    <dataObject ID=\"{id}Data\">\n      <byteStream mimeType=\"application/x-netcdf\" size=\"{size}\">\n        <fileLocation locatorType=\"URL\" href=\"./{file}\"/>\n        <checksum checksumName=\"MD5\">{md5}</checksum>\n      </byteStream>\n    </dataObject>\n"
        ));
    }
    let footprint: Vec<String> = product
        .frame
        .footprint()
        .iter()
        .chain(product.frame.footprint().first())
        .map(|(lon, lat)| format!("{lat} {lon}"))
        .collect();
    let instrument = short.to_lowercase();
    let text = format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:gml="http://www.opengis.net/gml" xmlns:sentinel-safe="http://www.esa.int/safe/sentinel/1.1" xmlns:sentinel3="http://www.esa.int/safe/sentinel/sentinel-3/1.0" xmlns:{instrument}="http://www.esa.int/safe/sentinel/sentinel-3/{instrument}/1.0" version="esa/safe/sentinel/sentinel-3/{instrument}/level-{level}/1.0">
  <informationPackageMap>
    <xfdu:contentUnit unitType="Information Package" textInfo="SENTINEL-3 {short} Level {level} Product" dmdID="acquisitionPeriod platform measurementOrbitReference measurementFrameSet generalProductInformation" pdiID="processing">
{units}    </xfdu:contentUnit>
  </informationPackageMap>
  <metadataSection>
    <metadataObject ID="acquisitionPeriod" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="Acquisition Period">
        <xmlData>
          <sentinel-safe:acquisitionPeriod>
            <sentinel-safe:startTime>{start}</sentinel-safe:startTime>
            <sentinel-safe:stopTime>{stop}</sentinel-safe:stopTime>
          </sentinel-safe:acquisitionPeriod>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="platform" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="Platform Description">
        <xmlData>
          <sentinel-safe:platform>
            <sentinel-safe:nssdcIdentifier>{nssdc}</sentinel-safe:nssdcIdentifier>
            <sentinel-safe:familyName>Sentinel-3</sentinel-safe:familyName>
            <sentinel-safe:number>{number}</sentinel-safe:number>
            <sentinel-safe:instrument>
              <sentinel-safe:familyName abbreviation="{short}">{long}</sentinel-safe:familyName>
            </sentinel-safe:instrument>
          </sentinel-safe:platform>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementOrbitReference" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="Orbit Reference">
        <xmlData>
          <sentinel-safe:orbitReference>
            <sentinel-safe:orbitNumber type="start">{orbit}</sentinel-safe:orbitNumber>
            <sentinel-safe:relativeOrbitNumber type="start">{relative}</sentinel-safe:relativeOrbitNumber>
            <sentinel-safe:cycleNumber>{cycle}</sentinel-safe:cycleNumber>
            <sentinel-safe:phaseIdentifier>1</sentinel-safe:phaseIdentifier>
            <sentinel-safe:orbitNumber groundTrackDirection="{direction}">{orbit}</sentinel-safe:orbitNumber>
          </sentinel-safe:orbitReference>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementFrameSet" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="Frame Set">
        <xmlData>
          <sentinel-safe:frameSet>
            <sentinel-safe:footPrint>
              <gml:posList>{footprint}</gml:posList>
            </sentinel-safe:footPrint>
          </sentinel-safe:frameSet>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="generalProductInformation" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="General Product Information">
        <xmlData>
          <sentinel3:generalProductInformation>
            <sentinel3:productName>{stem}.SEN3</sentinel3:productName>
            <sentinel3:productType>{kind}</sentinel3:productType>
            <sentinel3:timeliness>NT</sentinel3:timeliness>
            <sentinel3:baselineCollection>{baseline}</sentinel3:baselineCollection>
            <sentinel3:creationTime>{created}</sentinel3:creationTime>
            <sentinel3:productSize>{total}</sentinel3:productSize>
          </sentinel3:generalProductInformation>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="{instrument}ProductInformation" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="Sentinel-SAFE" textInfo="Product Information">
        <xmlData>
          <sentinel3:productInformation>
            <sentinel3:rows>{rows}</sentinel3:rows>
            <sentinel3:columns>{columns}</sentinel3:columns>
          </sentinel3:productInformation>
        </xmlData>
      </metadataWrap>
    </metadataObject>
  </metadataSection>
  <dataObjectSection>
{objects}  </dataObjectSection>
</xfdu:XFDU>
"#,
        level = &product.kind[3..4],
        start = time(product.start),
        stop = time(product.stop()),
        created = time(product.created()),
        nssdc = if product.platform == "S3A" {
            "2016-011A"
        } else {
            "2018-039A"
        },
        number = &product.platform[2..],
        orbit = product.absolute_orbit(),
        relative = product.relative_orbit,
        cycle = product.cycle,
        direction = if product.ascending {
            "ascending"
        } else {
            "descending"
        },
        footprint = footprint.join(" "),
        stem = product.stem(),
        kind = product.kind,
        baseline = product.baseline,
        rows = product.frame.rows,
        columns = product.frame.columns,
    );
    let path = folder.join("xfdumanifest.xml");
    std::fs::write(&path, text).map_err(|e| DemoError::io(&path, e))
}

// ---------------------------------------------------------------------------
// OLCI over northern Italy: shared scene

/// The OLCI Level-2 water flags (WQSF, processing baseline 2), name and bit.
pub const WQSF_FLAGS: [(&str, u64); 27] = [
    ("INVALID", 1),
    ("WATER", 1 << 1),
    ("LAND", 1 << 2),
    ("CLOUD", 1 << 3),
    ("CLOUD_AMBIGUOUS", 1 << 23),
    ("CLOUD_MARGIN", 1 << 24),
    ("SNOW_ICE", 1 << 4),
    ("INLAND_WATER", 1 << 5),
    ("TIDAL", 1 << 6),
    ("COSMETIC", 1 << 7),
    ("SUSPECT", 1 << 8),
    ("HISOLZEN", 1 << 9),
    ("SATURATED", 1 << 10),
    ("MEGLINT", 1 << 11),
    ("HIGHGLINT", 1 << 12),
    ("WHITECAPS", 1 << 13),
    ("ADJAC", 1 << 14),
    ("WV_FAIL", 1 << 15),
    ("PAR_FAIL", 1 << 16),
    ("AC_FAIL", 1 << 17),
    ("OC4ME_FAIL", 1 << 18),
    ("OCNN_FAIL", 1 << 19),
    ("KDM_FAIL", 1 << 21),
    ("BPAC_ON", 1 << 25),
    ("WHITE_SCATT", 1 << 26),
    ("LOWRW", 1 << 27),
    ("HIGHRW", 1 << 28),
];

/// The OLCI Level-2 land flags (LQSF, processing baseline 2), name and bit.
pub const LQSF_FLAGS: [(&str, u32); 23] = [
    ("INVALID", 1),
    ("WATER", 1 << 1),
    ("LAND", 1 << 2),
    ("CLOUD", 1 << 3),
    ("CLOUD_AMBIGUOUS", 1 << 23),
    ("CLOUD_MARGIN", 1 << 24),
    ("SNOW_ICE", 1 << 4),
    ("INLAND_WATER", 1 << 5),
    ("TIDAL", 1 << 6),
    ("COSMETIC", 1 << 7),
    ("SUSPECT", 1 << 8),
    ("HISOLZEN", 1 << 9),
    ("SATURATED", 1 << 10),
    ("WV_FAIL", 1 << 11),
    ("OGVI_FAIL", 1 << 12),
    ("OTCI_FAIL", 1 << 13),
    ("LRAYFAIL", 1 << 14),
    ("OGVI_CLASS_BAD", 1 << 15),
    ("OGVI_CLASS_WS", 1 << 16),
    ("OGVI_CLASS_CSI", 1 << 17),
    ("OGVI_CLASS_BRIGHT", 1 << 18),
    ("OGVI_CLASS_INVAL_REC", 1 << 19),
    ("OTCI_BAD_IN", 1 << 20),
];

/// The flags the truth of suspended matter leaves out (ESA's recommended
/// mask for the neural-net water products).
pub const TSM_MASKED: [&str; 12] = [
    "INVALID",
    "LAND",
    "CLOUD",
    "CLOUD_AMBIGUOUS",
    "CLOUD_MARGIN",
    "SNOW_ICE",
    "SUSPECT",
    "HISOLZEN",
    "SATURATED",
    "HIGHGLINT",
    "WHITECAPS",
    "OCNN_FAIL",
];

/// The flags the truth of the vegetation index (OGVI) leaves out.
pub const OGVI_MASKED: [&str; 8] = [
    "INVALID",
    "WATER",
    "CLOUD",
    "CLOUD_AMBIGUOUS",
    "CLOUD_MARGIN",
    "SNOW_ICE",
    "SATURATED",
    "OGVI_FAIL",
];

fn wqsf(name: &str) -> u64 {
    WQSF_FLAGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|f| f.1)
        .unwrap()
}

fn lqsf(name: &str) -> u32 {
    LQSF_FLAGS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|f| f.1)
        .unwrap()
}

/// The large lakes of northern Italy, which the coastlines do not hold.
fn italian_lakes() -> Vec<(&'static str, Vec<(f64, f64)>)> {
    vec![
        (
            "Garda",
            vec![
                (10.50, 45.46),
                (10.63, 45.42),
                (10.72, 45.46),
                (10.73, 45.58),
                (10.86, 45.84),
                (10.83, 45.88),
                (10.74, 45.74),
                (10.63, 45.61),
                (10.52, 45.55),
            ],
        ),
        (
            "Maggiore",
            vec![
                (8.53, 45.72),
                (8.62, 45.76),
                (8.68, 45.87),
                (8.78, 46.08),
                (8.75, 46.14),
                (8.66, 46.00),
                (8.54, 45.86),
            ],
        ),
        (
            "Como",
            vec![
                (9.07, 45.80),
                (9.17, 45.84),
                (9.30, 45.98),
                (9.40, 46.15),
                (9.36, 46.17),
                (9.24, 46.03),
                (9.10, 45.90),
            ],
        ),
        ("Trasimeno", ellipse((12.10, 43.135), 7.5, 6.5, 14)),
    ]
}

/// Whether a point lies inside a ring (even-odd rule).
pub(crate) fn in_ring(point: (f64, f64), ring: &[(f64, f64)]) -> bool {
    let mut inside = false;
    for i in 0..ring.len() {
        let (a, b) = (ring[i], ring[(i + 1) % ring.len()]);
        if (a.1 > point.1) != (b.1 > point.1)
            && point.0 < a.0 + (point.1 - a.1) / (b.1 - a.1) * (b.0 - a.0)
        {
            inside = !inside;
        }
    }
    inside
}

/// What both OLCI scenes share: land and water, lakes, relief, textures.
struct Italy {
    land: LandMask,
    lakes: Vec<(&'static str, Vec<(f64, f64)>)>,
    texture: Waves,
    vapour: Waves,
}

impl Italy {
    fn get() -> &'static Italy {
        static ITALY: OnceLock<Italy> = OnceLock::new();
        ITALY.get_or_init(|| {
            let lakes = italian_lakes();
            let rings: Vec<&[(f64, f64)]> = lakes.iter().map(|(_, r)| r.as_slice()).collect();
            Italy {
                land: LandMask::new([3.0, 40.0, 19.0, 49.5], 0.01, &rings),
                lakes,
                texture: Waves::new("olci-italy-texture", 120.0, 9),
                vapour: Waves::new("olci-italy-vapour", 400.0, 5),
            }
        })
    }

    /// The lake a point lies in, if any.
    fn lake(&self, point: (f64, f64)) -> Option<&'static str> {
        self.lakes
            .iter()
            .find(|(_, ring)| in_ring(point, ring))
            .map(|(name, _)| *name)
    }

    /// The Adriatic side of the peninsula (rather than the Ligurian and Tyrrhenian).
    fn adriatic(point: (f64, f64)) -> bool {
        point.0 > 11.0 + (44.5 - point.1) * 1.2
    }
}

/// Ground elevation (m): the Alps' arc, the Apennines, the plain between.
pub(crate) fn italy_elevation(point: (f64, f64)) -> f64 {
    const ALPS: [(f64, f64); 8] = [
        (6.9, 44.1),
        (7.0, 45.0),
        (7.4, 45.9),
        (8.5, 46.35),
        (10.0, 46.5),
        (11.5, 46.6),
        (13.0, 46.45),
        (14.5, 46.35),
    ];
    const APENNINES: [(f64, f64); 7] = [
        (8.0, 44.35),
        (9.5, 44.55),
        (10.5, 44.25),
        (11.5, 43.9),
        (12.5, 43.3),
        (13.3, 42.6),
        (14.2, 41.8),
    ];
    let alps = 2300.0 * (-(km_to_polyline(point, &ALPS) / 45.0).powi(2)).exp();
    let apennines = 1300.0 * (-(km_to_polyline(point, &APENNINES) / 30.0).powi(2)).exp();
    40.0 + alps + apennines
}

/// A cloud: an ellipse with ragged edges.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cloud {
    pub centre: (f64, f64),
    pub rx_km: f64,
    pub ry_km: f64,
}

impl Cloud {
    /// Cover in [0, 1]: 1 well inside, fading to 0 past the edge.
    fn cover(&self, point: (f64, f64), texture: f64) -> f64 {
        let scale = self.centre.1.to_radians().cos() * KM_PER_DEGREE;
        let dx = (point.0 - self.centre.0) * scale / self.rx_km;
        let dy = (point.1 - self.centre.1) * KM_PER_DEGREE / self.ry_km;
        let r = (dx * dx + dy * dy).sqrt() + 0.15 * texture;
        ((1.3 - r) / 0.5).clamp(0.0, 1.0)
    }
}

pub(crate) fn cloud_cover(clouds: &[Cloud], point: (f64, f64), texture: f64) -> f64 {
    clouds
        .iter()
        .map(|c| c.cover(point, texture))
        .fold(0.0, f64::max)
}

/// Cloud flags from a cover: CLOUD inside, CLOUD_AMBIGUOUS and
/// CLOUD_MARGIN around it.
fn cloud_class(cover: f64) -> Option<&'static str> {
    if cover > 0.6 {
        Some("CLOUD")
    } else if cover > 0.3 {
        Some("CLOUD_AMBIGUOUS")
    } else if cover > 0.05 {
        Some("CLOUD_MARGIN")
    } else {
        None
    }
}

/// The coordinates a reader sees: micro-degrees read back as f32.
fn stored_lonlat(point: (f64, f64)) -> (f32, f32) {
    (
        (f64::from(micro_degrees(point.0)) * 1e-6) as f32,
        (f64::from(micro_degrees(point.1)) * 1e-6) as f32,
    )
}

/// Whether a point (as stored) lies in `bounds`, edges included, as a swath clip tests it.
pub(crate) fn stored_inside(point: (f64, f64), bounds: [f64; 4]) -> bool {
    let (lon, lat) = stored_lonlat(point);
    let (x, y) = (f64::from(lon), f64::from(lat));
    x >= bounds[0] && x <= bounds[2] && y >= bounds[1] && y <= bounds[3]
}

/// Mean of the finite `values`, and how many there were.
pub(crate) fn mean_of(values: impl Iterator<Item = f64>) -> (f64, usize) {
    let (sum, count) = values
        .filter(|v| v.is_finite())
        .fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    (
        if count == 0 {
            f64::NAN
        } else {
            sum / count as f64
        },
        count,
    )
}

pub(crate) fn round_to(value: f64, digits: i32) -> f64 {
    let factor = 10f64.powi(digits);
    (value * factor).round() / factor
}

pub(crate) fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").expect("a valid time")
}

/// The OLCI frames over northern Italy (2.5 km pixels, descending pass).
fn italy_frame(centre: (f64, f64)) -> SwathFrame {
    SwathFrame {
        centre,
        heading: 193.0,
        rows: 244,
        columns: 332,
        along_km: 2.5,
        across_km: 2.5,
    }
}

/// A per-row random generator, so pixels can be made in parallel and
/// still come out the same every time.
fn row_rng(stem: &str, row: usize) -> rand::rngs::StdRng {
    scene_rng(&format!("{stem}/row{row}"))
}

/// Makes every pixel of a frame in parallel, row by row: `pixel(point, rng)`.
pub(crate) fn make_pixels<T: Send>(
    frame: &SwathFrame,
    stem: &str,
    pixel: impl Fn((f64, f64), &mut rand::rngs::StdRng) -> T + Sync,
) -> Vec<T> {
    (0..frame.rows)
        .into_par_iter()
        .flat_map_iter(|row| {
            let mut rng = row_rng(stem, row);
            (0..frame.columns)
                .map(|col| pixel(frame.lonlat(row as f64, col as f64), &mut rng))
                .collect::<Vec<_>>()
        })
        .collect()
}

// ---------------------------------------------------------------------------
// OLCI water (WFR): suspended matter before and during the lockdown

/// One WFR date: the product and what the water looked like.
struct WaterDate {
    product: Sen3,
    /// During the lockdown: less shipping, dredging and resuspension near ports.
    lockdown: bool,
    clouds: Vec<Cloud>,
}

fn water_dates() -> Vec<WaterDate> {
    let product = |start: &str, cycle, orbit, centre| Sen3 {
        platform: "S3A",
        kind: "OL_2_WFR___",
        start: at(start),
        duration: 180,
        cycle,
        relative_orbit: orbit,
        frame_number: 2160,
        centre: "MAR",
        baseline: "002",
        online: true,
        frame: italy_frame(centre),
        ascending: false,
    };
    vec![
        WaterDate {
            product: product("20200206T094119", 54, 265, (10.55, 44.66)),
            lockdown: false,
            clouds: vec![
                Cloud {
                    centre: (7.3, 45.9),
                    rx_km: 70.0,
                    ry_km: 45.0,
                },
                Cloud {
                    centre: (8.4, 43.3),
                    rx_km: 40.0,
                    ry_km: 28.0,
                },
            ],
        },
        WaterDate {
            product: product("20200411T093012", 57, 236, (10.75, 44.62)),
            lockdown: true,
            clouds: vec![
                Cloud {
                    centre: (10.3, 42.75),
                    rx_km: 55.0,
                    ry_km: 35.0,
                },
                Cloud {
                    centre: (14.2, 46.2),
                    rx_km: 50.0,
                    ry_km: 40.0,
                },
            ],
        },
    ]
}

/// Ports and river mouths where suspended matter rises (lon, lat), with
/// their strength before and during the lockdown (g/m³) and size (km).
const TURBID_SPOTS: [((f64, f64), f64, f64, f64); 8] = [
    ((12.33, 45.42), 14.0, 6.0, 9.0), // Venice lagoon and port
    ((13.76, 45.65), 6.0, 2.5, 5.0),  // Trieste
    ((8.92, 44.40), 7.0, 2.5, 5.0),   // Genoa
    ((9.85, 44.08), 6.0, 2.0, 5.0),   // La Spezia
    ((10.29, 43.56), 8.0, 3.0, 7.0),  // Livorno and the Arno
    ((12.30, 44.49), 7.0, 3.0, 6.0),  // Ravenna
    ((13.52, 43.62), 5.0, 2.0, 5.0),  // Ancona
    ((13.55, 45.75), 4.0, 2.0, 5.0),  // Monfalcone, the Isonzo
];
/// The Po's mouth, where its plume turns south along the coast.
const PO_MOUTH: (f64, f64) = (12.55, 44.96);

/// Total suspended matter (g/m³) of water at `point`.
fn tsm_at(italy: &Italy, point: (f64, f64), lockdown: bool, lake: Option<&str>) -> f64 {
    if let Some(name) = lake {
        let base = match name {
            "Trasimeno" => 20.0,
            "Garda" => 1.2,
            _ => 1.0,
        };
        return base * if lockdown { 0.85 } else { 1.0 };
    }
    let texture = italy.texture.at(point);
    let adriatic = Italy::adriatic(point);
    let base = if adriatic { 0.8 } else { 0.25 } * (1.0 + 0.3 * texture);
    let coast = italy.land.coast_km(point);
    let coastal = if adriatic { 4.0 } else { 1.5 } * (-coast / 12.0).exp();
    let activity = if lockdown { 0.65 } else { 1.0 };
    let po = plume(
        point,
        PO_MOUTH,
        155.0,
        40.0,
        9.0,
        if lockdown { 12.0 } else { 38.0 },
    );
    let ports: f64 = TURBID_SPOTS
        .iter()
        .map(|&(spot, before, during, size)| {
            bump(point, spot, size, if lockdown { during } else { before })
        })
        .sum();
    base + coastal * activity + po + ports
}

/// Chlorophyll-a (mg/m³): low offshore, high in the Adriatic's north and
/// the Po plume, higher in April's spring bloom; turbid lakes rich.
fn chl_at(italy: &Italy, point: (f64, f64), spring: bool, lake: Option<&str>) -> f64 {
    if let Some(name) = lake {
        return match name {
            "Trasimeno" => 18.0,
            "Garda" => 2.0,
            "Como" => 2.5,
            _ => 1.5,
        };
    }
    let adriatic = Italy::adriatic(point);
    let base =
        if adriatic { 0.6 } else { 0.12 } * (1.0 + 0.4 * italy.texture.at((point.1, point.0)));
    let coast = italy.land.coast_km(point);
    let coastal = if adriatic { 3.0 } else { 0.6 } * (-coast / 15.0).exp();
    let bloom = if spring { 1.6 } else { 1.0 };
    let po = plume(point, PO_MOUTH, 155.0, 50.0, 12.0, 6.0);
    (base + coastal + po) * bloom
}

/// Integrated water vapour (kg/m²): a smooth field, drier over the Alps,
/// wetter in April.
fn vapour_at(italy: &Italy, point: (f64, f64), elevation: f64, spring: bool) -> f64 {
    let base = if spring { 13.0 } else { 9.0 };
    (base + 4.0 * italy.vapour.at(point) - 3.0 * elevation / 1000.0).max(1.0)
}

/// One WFR pixel as the product stores it: physical values (NaN where not
/// computed) and the flag word.
#[derive(Debug, Clone, Copy)]
struct WaterPixel {
    altitude: f64,
    tsm: f64,
    chl_oc4me: f64,
    chl_nn: f64,
    iwv: f64,
    flags: u64,
}

fn water_pixel(
    italy: &Italy,
    date: &WaterDate,
    point: (f64, f64),
    rng: &mut rand::rngs::StdRng,
) -> WaterPixel {
    let noise = Normal::new(0.0, 1.0).unwrap();
    let lake = italy.lake(point);
    let on_land = italy.land.is_land(point) && lake.is_none();
    let altitude = if on_land { italy_elevation(point) } else { 0.0 };
    let texture = italy.texture.at(point);
    let spring = date.lockdown;
    let mut flags = if on_land {
        wqsf("LAND")
    } else if lake.is_some() {
        wqsf("WATER") | wqsf("INLAND_WATER")
    } else {
        wqsf("WATER")
    };
    let snow_line = if spring { 2000.0 } else { 1400.0 };
    if on_land && altitude > snow_line {
        flags |= wqsf("SNOW_ICE");
    }
    let cover = cloud_cover(&date.clouds, point, texture);
    if let Some(class) = cloud_class(cover) {
        flags |= wqsf(class);
    }
    let iwv = vapour_at(italy, point, altitude, spring) * (1.0 + 0.02 * noise.sample(rng));
    let mut pixel = WaterPixel {
        altitude,
        tsm: f64::NAN,
        chl_oc4me: f64::NAN,
        chl_nn: f64::NAN,
        iwv,
        flags,
    };
    if on_land {
        return pixel;
    }
    let speckle = |rng: &mut rand::rngs::StdRng| 10f64.powf(0.025 * noise.sample(rng));
    let tsm = tsm_at(italy, point, date.lockdown, lake);
    let chl = chl_at(italy, point, spring, lake);
    pixel.tsm = tsm * speckle(rng);
    pixel.chl_nn = chl * speckle(rng);
    // OC4ME reads turbid water as chlorophyll: it runs high near the coast.
    pixel.chl_oc4me = chl * (1.0 + 0.04 * tsm) * speckle(rng);
    if cover > 0.05 {
        // Over clouds the water algorithms still run and read the bright
        // cloud as very turbid, green water.
        let bright = cover * (0.5 + rng.random::<f64>());
        pixel.tsm += 30.0 * bright;
        pixel.chl_nn += 20.0 * bright;
        pixel.chl_oc4me += 25.0 * bright;
    }
    if italy.land.coast_km(point) < 1.5 {
        pixel.flags |= wqsf("ADJAC");
    }
    if rng.random::<f64>() < 0.004 {
        pixel.flags |= wqsf("OCNN_FAIL");
        pixel.tsm *= 8.0;
        pixel.chl_nn *= 8.0;
    }
    if rng.random::<f64>() < 0.004 {
        pixel.flags |= wqsf("OC4ME_FAIL");
        pixel.chl_oc4me *= 8.0;
    }
    pixel
}

/// The value a reader sees of a log10-stored variable.
fn stored_log10(value: f64) -> f32 {
    if value.is_finite() && value > 0.0 {
        value.log10() as f32
    } else {
        f32::NAN
    }
}

/// A log10-scaled water variable and its error, as OLCI stores them.
fn log10_vars(
    name: &'static str,
    error_name: &'static str,
    long_name: &str,
    standard_name: &str,
    units: &str,
    values: &[f64],
    relative_error: f64,
) -> [Var; 2] {
    let main = Var::grid(
        name,
        Values::F32(values.iter().map(|&v| stored_log10(v)).collect()),
        vec![
            Attr::f64("_FillValue", f64::NAN),
            Attr::str("ancillary_variables", error_name),
            Attr::str("coordinates", "time_stamp altitude latitude longitude"),
            Attr::str("log10_scaled", "true"),
            Attr::str("long_name", long_name),
            Attr::str("standard_name", standard_name),
            Attr::str("units", units),
            Attr::f64("valid_min", -3.0),
            Attr::f64("valid_max", 3.5),
        ],
    );
    let error = Var::grid(
        error_name,
        Values::F32(
            values
                .iter()
                .map(|&v| stored_log10(v * relative_error))
                .collect(),
        ),
        vec![
            Attr::f64("_FillValue", f64::NAN),
            Attr::str("coordinates", "time_stamp altitude latitude longitude"),
            Attr::str("log10_scaled", "true"),
            Attr::str("long_name", &format!("{long_name} uncertainty estimate")),
            Attr::str("units", units),
        ],
    );
    [main, error]
}

fn geo_coordinates(
    folder: &Path,
    product: &Sen3,
    positions: &[(f64, f64)],
    altitude: &[f64],
    title: &str,
) -> Result<(), DemoError> {
    let [lat, lon] = coordinate_vars(positions, "latitude", "longitude");
    write_swath_file(
        &folder.join("geo_coordinates.nc"),
        &product.globals(title, 2500),
        (product.frame.rows, product.frame.columns),
        &[altitude_var("altitude", altitude), lat, lon],
    )
    .map_err(nc_failure(&product.stem()))
}

/// A flag word variable with its table.
fn flag_var<T: Copy + Into<u64>>(
    name: &'static str,
    long_name: &str,
    table: &[(&str, T)],
    values: Values,
) -> Var {
    let masks: Vec<u64> = table.iter().map(|(_, m)| (*m).into()).collect();
    let meanings: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
    let masks_attr = match values {
        Values::U64(_) => Attr::u64s("flag_masks", &masks),
        Values::U32(_) => Attr::u32s(
            "flag_masks",
            &masks.iter().map(|&m| m as u32).collect::<Vec<_>>(),
        ),
        Values::U8(_) => Attr::u8s(
            "flag_masks",
            &masks.iter().map(|&m| m as u8).collect::<Vec<_>>(),
        ),
        _ => Attr::u16s(
            "flag_masks",
            &masks.iter().map(|&m| m as u16).collect::<Vec<_>>(),
        ),
    };
    Var::grid(
        name,
        values,
        vec![
            masks_attr,
            Attr::str("flag_meanings", &meanings.join(" ")),
            Attr::str("long_name", long_name),
        ],
    )
}

fn write_water_files(
    folder: &Path,
    date: &WaterDate,
    pixels: &[WaterPixel],
) -> Result<Vec<&'static str>, DemoError> {
    let product = &date.product;
    let stem = product.stem();
    let grid = (product.frame.rows, product.frame.columns);
    let title = |what: &str| format!("OLCI Level 2 WATER Product, {what} Data Set");
    let column = |f: fn(&WaterPixel) -> f64| pixels.iter().map(f).collect::<Vec<_>>();
    geo_coordinates(
        folder,
        product,
        &product.frame.positions(),
        &column(|p| p.altitude),
        &title("Geo Coordinates"),
    )?;
    let files: [(&str, &str, [Var; 2]); 3] = [
        (
            "tsm_nn.nc",
            "Total Suspended Matter",
            log10_vars(
                "TSM_NN",
                "TSM_NN_err",
                "Total suspended matter concentration (TSM) - Neural Net (log10 scaled)",
                "mass_concentration_of_suspended_matter_in_sea_water",
                "lg(re g.m-3)",
                &column(|p| p.tsm),
                0.25,
            ),
        ),
        (
            "chl_oc4me.nc",
            "Chlorophyll OC4Me",
            log10_vars(
                "CHL_OC4ME",
                "CHL_OC4ME_err",
                "Algal pigment concentration (Chl) - Case 1 waters, OC4Me algorithm (log10 scaled)",
                "mass_concentration_of_chlorophyll_a_in_sea_water",
                "lg(re mg.m-3)",
                &column(|p| p.chl_oc4me),
                0.3,
            ),
        ),
        (
            "chl_nn.nc",
            "Chlorophyll Neural Net",
            log10_vars(
                "CHL_NN",
                "CHL_NN_err",
                "Algal pigment concentration (Chl) - Complex waters, Neural Net (log10 scaled)",
                "mass_concentration_of_chlorophyll_a_in_sea_water",
                "lg(re mg.m-3)",
                &column(|p| p.chl_nn),
                0.3,
            ),
        ),
    ];
    for (file, what, vars) in &files {
        write_swath_file(
            &folder.join(file),
            &product.globals(&title(what), 2500),
            grid,
            vars,
        )
        .map_err(nc_failure(&stem))?;
    }
    write_vapour(folder, product, &column(|p| p.iwv), "WATER")?;
    let words = Values::U64(pixels.iter().map(|p| p.flags).collect());
    write_swath_file(
        &folder.join("wqsf.nc"),
        &product.globals(&title("Water Quality and Science Flags"), 2500),
        grid,
        &[flag_var(
            "WQSF",
            "Classification, quality and science flags for Marine and Inland Waters pixels",
            &WQSF_FLAGS,
            words,
        )],
    )
    .map_err(nc_failure(&stem))?;
    Ok(vec![
        "geo_coordinates.nc",
        "tsm_nn.nc",
        "chl_oc4me.nc",
        "chl_nn.nc",
        "iwv.nc",
        "wqsf.nc",
    ])
}

/// `iwv.nc`: integrated water vapour and its error (kg/m²).
fn write_vapour(folder: &Path, product: &Sen3, iwv: &[f64], kind: &str) -> Result<(), DemoError> {
    let f32s = |scale: f64| iwv.iter().map(|&v| (v * scale) as f32).collect::<Vec<_>>();
    let attrs = |long: &str| {
        vec![
            Attr::f64("_FillValue", f64::NAN),
            Attr::str("coordinates", "time_stamp altitude latitude longitude"),
            Attr::str("long_name", long),
            Attr::str("standard_name", "atmosphere_water_vapor_content"),
            Attr::str("units", "kg.m-2"),
        ]
    };
    write_swath_file(
        &folder.join("iwv.nc"),
        &product.globals(
            &format!("OLCI Level 2 {kind} Product, Integrated Water Vapour Data Set"),
            2500,
        ),
        (product.frame.rows, product.frame.columns),
        &[
            Var::grid(
                "IWV",
                Values::F32(f32s(1.0)),
                attrs("Integrated water vapour column"),
            ),
            Var::grid(
                "IWV_err",
                Values::F32(f32s(0.08)),
                attrs("Integrated water vapour column uncertainty estimate"),
            ),
        ],
    )
    .map_err(nc_failure(&product.stem()))
}

/// Whether a WQSF word passes a mask of flag names.
fn wqsf_passes(flags: u64, masked: &[&str]) -> bool {
    masked.iter().all(|name| flags & wqsf(name) == 0)
}

/// Mean suspended matter (g/m³, as a reader de-logs it) of the unmasked
/// pixels whose stored position lies in `bounds`.
fn tsm_mean(positions: &[(f64, f64)], pixels: &[WaterPixel], bounds: [f64; 4]) -> (f64, usize) {
    mean_of(
        positions
            .iter()
            .zip(pixels)
            .filter(|(point, pixel)| {
                wqsf_passes(pixel.flags, &TSM_MASKED) && stored_inside(**point, bounds)
            })
            .map(|(_, pixel)| 10f64.powf(f64::from(stored_log10(pixel.tsm)))),
    )
}

fn olci_water(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let italy = Italy::get();
    let mut names = Vec::new();
    let (mut delta, mut venice, mut whole) = (Map::new(), Map::new(), Map::new());
    for date in water_dates() {
        let stem = date.product.stem();
        let frame = date.product.frame;
        let pixels = make_pixels(&frame, &stem, |point, rng| {
            water_pixel(italy, &date, point, rng)
        });
        write_sen3(builder, &date.product, |folder| {
            write_water_files(folder, &date, &pixels)
        })?;
        let positions = frame.positions();
        let day = date.product.start.format("%Y-%m-%d").to_string();
        let record = |map: &mut Map<String, Value>, bounds| {
            let (mean, count) = tsm_mean(&positions, &pixels, bounds);
            map.insert(
                day.clone(),
                json!({ "mean": round_to(mean, 4), "pixels": count }),
            );
        };
        record(&mut delta, PO_DELTA);
        record(&mut venice, VENICE);
        record(&mut whole, NORTH_ITALY);
        names.push(stem);
    }
    builder.truth("s3_olci", "wfr", json!(names));
    builder.truth("s3_olci", "bounds", json!(NORTH_ITALY));
    builder.truth("s3_olci", "po_delta", json!(PO_DELTA));
    builder.truth("s3_olci", "venice", json!(VENICE));
    builder.truth("s3_olci", "tsm_masked_flags", json!(TSM_MASKED));
    builder.truth("s3_olci", "tsm_po_delta_gm3", Value::Object(delta));
    builder.truth("s3_olci", "tsm_venice_gm3", Value::Object(venice));
    builder.truth("s3_olci", "tsm_north_italy_gm3", Value::Object(whole));
    Ok(())
}

// ---------------------------------------------------------------------------
// OLCI land (LFR): vegetation greening up in April

/// Storage of the land indices: uint8 with these scale factors, 255 = fill.
const OGVI_SCALE: f64 = 0.003937008;
const OTCI_SCALE: f64 = 0.02559055;

/// One LFR date: the product, the farmland's greenness, the clouds.
struct LandDate {
    product: Sen3,
    /// OGVI of the Po valley's crops.
    crops: f64,
    clouds: Vec<Cloud>,
}

fn land_dates() -> Vec<LandDate> {
    let product = |start: &str, cycle, orbit, centre| Sen3 {
        platform: "S3B",
        kind: "OL_2_LFR___",
        start: at(start),
        duration: 180,
        cycle,
        relative_orbit: orbit,
        frame_number: 2160,
        centre: "LN1",
        baseline: "002",
        online: true,
        frame: italy_frame(centre),
        ascending: false,
    };
    vec![
        LandDate {
            product: product("20200409T092510", 37, 208, (10.7, 44.7)),
            crops: 0.30,
            clouds: vec![Cloud {
                centre: (9.4, 46.35),
                rx_km: 60.0,
                ry_km: 30.0,
            }],
        },
        LandDate {
            product: product("20200423T093217", 38, 37, (10.45, 44.68)),
            crops: 0.46,
            clouds: vec![
                Cloud {
                    centre: (11.0, 44.62),
                    rx_km: 30.0,
                    ry_km: 22.0,
                },
                Cloud {
                    centre: (7.6, 43.6),
                    rx_km: 50.0,
                    ry_km: 40.0,
                },
            ],
        },
    ]
}

/// Cities, whose built-up land has little vegetation (lon, lat, size in km).
const CITIES: [((f64, f64), f64); 8] = [
    ((9.19, 45.46), 12.0), // Milan
    ((7.68, 45.07), 8.0),  // Turin
    ((11.34, 44.49), 6.0), // Bologna
    ((10.99, 45.44), 5.0), // Verona
    ((8.93, 44.41), 5.0),  // Genoa
    ((12.24, 45.49), 5.0), // Mestre
    ((11.88, 45.41), 5.0), // Padua
    ((9.67, 45.70), 5.0),  // Bergamo
];

/// OGVI (the OLCI Global Vegetation Index, a FAPAR estimate in [0, 1]) of
/// land: crops in the plain, forest on the hills, bare rock and snow high
/// up, little in the cities.
fn ogvi_at(italy: &Italy, point: (f64, f64), elevation: f64, crops: f64) -> f64 {
    let cover = if elevation > 2000.0 {
        0.06
    } else if elevation > 1200.0 {
        0.48 - (elevation - 1200.0) / 800.0 * 0.35
    } else if elevation > 250.0 {
        0.58
    } else {
        crops
    };
    let textured = cover * (1.0 + 0.08 * italy.texture.at(point));
    let urban = CITIES
        .iter()
        .map(|&(city, size)| bump(point, city, size, 1.0))
        .fold(0.0, f64::max);
    (textured * (1.0 - urban) + 0.12 * urban).clamp(0.02, 0.95)
}

/// OTCI (the OLCI Terrestrial Chlorophyll Index), which follows the
/// canopy's chlorophyll: about 1 to 3.5.
fn otci_from(ogvi: f64) -> f64 {
    0.9 + 2.8 * ogvi
}

/// One LFR pixel: physical values (NaN where not computed) and the flags.
#[derive(Debug, Clone, Copy)]
struct LandPixel {
    altitude: f64,
    ogvi: f64,
    otci: f64,
    iwv: f64,
    flags: u32,
}

fn land_pixel(
    italy: &Italy,
    date: &LandDate,
    point: (f64, f64),
    rng: &mut rand::rngs::StdRng,
) -> LandPixel {
    let noise = Normal::new(0.0, 1.0).unwrap();
    let lake = italy.lake(point);
    let on_land = italy.land.is_land(point) && lake.is_none();
    let altitude = if on_land { italy_elevation(point) } else { 0.0 };
    let iwv = vapour_at(italy, point, altitude, true) * (1.0 + 0.02 * noise.sample(rng));
    let texture = italy.texture.at(point);
    let cover = cloud_cover(&date.clouds, point, texture);
    let mut pixel = LandPixel {
        altitude,
        ogvi: f64::NAN,
        otci: f64::NAN,
        iwv,
        flags: if on_land {
            lqsf("LAND")
        } else if lake.is_some() {
            lqsf("WATER") | lqsf("INLAND_WATER")
        } else {
            lqsf("WATER")
        },
    };
    if let Some(class) = cloud_class(cover) {
        pixel.flags |= lqsf(class);
    }
    if !on_land {
        return pixel;
    }
    let ogvi = ogvi_at(italy, point, altitude, date.crops) + 0.015 * noise.sample(rng);
    pixel.ogvi = ogvi.clamp(0.0, 1.0);
    pixel.otci = (otci_from(ogvi) + 0.05 * noise.sample(rng)).max(0.0);
    if altitude > 2100.0 {
        pixel.flags |= lqsf("SNOW_ICE");
    }
    if cover > 0.05 {
        // Clouds hide the canopy: the indices drop towards bare values.
        let seen = 1.0 - cover;
        pixel.ogvi = pixel.ogvi * seen + 0.04 * cover;
        pixel.otci = pixel.otci * seen + 0.6 * cover;
    }
    if rng.random::<f64>() < 0.003 {
        pixel.flags |= lqsf("OGVI_FAIL");
        pixel.ogvi = 0.9;
    }
    if rng.random::<f64>() < 0.003 {
        pixel.flags |= lqsf("OTCI_FAIL");
        pixel.otci = 6.0;
    }
    pixel
}

/// A land index stored as uint8 with its scale factor, and its error.
fn index_vars(
    name: &'static str,
    error_name: &'static str,
    long_name: &str,
    values: &[f64],
    scale: f64,
    error: f64,
) -> [Var; 2] {
    let attrs = |long: &str| {
        vec![
            Attr::f64("_FillValue", 255.0),
            Attr::f64("scale_factor", scale),
            Attr::f64("add_offset", 0.0),
            Attr::str("coordinates", "time_stamp altitude latitude longitude"),
            Attr::str("long_name", long),
            Attr::f64("valid_min", 0.0),
            Attr::f64("valid_max", 254.0),
        ]
    };
    [
        Var::grid(
            name,
            Values::U8(values.iter().map(|&v| pack_u8(v, scale)).collect()),
            attrs(long_name),
        ),
        Var::grid(
            error_name,
            Values::U8(values.iter().map(|&v| pack_u8(v * error, scale)).collect()),
            attrs(&format!("{long_name} uncertainty estimate")),
        ),
    ]
}

fn write_land_files(
    folder: &Path,
    product: &Sen3,
    pixels: &[LandPixel],
) -> Result<Vec<&'static str>, DemoError> {
    let stem = product.stem();
    let grid = (product.frame.rows, product.frame.columns);
    let title = |what: &str| format!("OLCI Level 2 LAND Product, {what} Data Set");
    let column = |f: fn(&LandPixel) -> f64| pixels.iter().map(f).collect::<Vec<_>>();
    geo_coordinates(
        folder,
        product,
        &product.frame.positions(),
        &column(|p| p.altitude),
        &title("Geo Coordinates"),
    )?;
    let files = [
        (
            "ogvi.nc",
            "OLCI Global Vegetation Index",
            index_vars(
                "OGVI",
                "OGVI_err",
                "OLCI Global Vegetation Index",
                &column(|p| p.ogvi),
                OGVI_SCALE,
                0.08,
            ),
        ),
        (
            "otci.nc",
            "OLCI Terrestrial Chlorophyll Index",
            index_vars(
                "OTCI",
                "OTCI_err",
                "OLCI Terrestrial Chlorophyll Index",
                &column(|p| p.otci),
                OTCI_SCALE,
                0.1,
            ),
        ),
    ];
    for (file, what, vars) in &files {
        write_swath_file(
            &folder.join(file),
            &product.globals(&title(what), 2500),
            grid,
            vars,
        )
        .map_err(nc_failure(&stem))?;
    }
    write_vapour(folder, product, &column(|p| p.iwv), "LAND")?;
    let words = Values::U32(pixels.iter().map(|p| p.flags).collect());
    write_swath_file(
        &folder.join("lqsf.nc"),
        &product.globals(&title("Land Quality and Science Flags"), 2500),
        grid,
        &[flag_var(
            "LQSF",
            "Land Quality and Science Flags",
            &LQSF_FLAGS,
            words,
        )],
    )
    .map_err(nc_failure(&stem))?;
    Ok(vec![
        "geo_coordinates.nc",
        "ogvi.nc",
        "otci.nc",
        "iwv.nc",
        "lqsf.nc",
    ])
}

/// Mean of a stored land index over the unmasked pixels inside `bounds`.
fn index_mean(
    positions: &[(f64, f64)],
    pixels: &[LandPixel],
    bounds: [f64; 4],
    index: fn(&LandPixel) -> f64,
    scale: f64,
) -> (f64, usize) {
    mean_of(
        positions
            .iter()
            .zip(pixels)
            .filter(|(point, pixel)| {
                OGVI_MASKED.iter().all(|name| pixel.flags & lqsf(name) == 0)
                    && stored_inside(**point, bounds)
            })
            .map(|(_, pixel)| unpack_u8(pack_u8(index(pixel), scale), scale)),
    )
}

fn olci_land(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let italy = Italy::get();
    let mut names = Vec::new();
    let (mut ogvi, mut otci) = (Map::new(), Map::new());
    for date in land_dates() {
        let stem = date.product.stem();
        let frame = date.product.frame;
        let pixels = make_pixels(&frame, &stem, |point, rng| {
            land_pixel(italy, &date, point, rng)
        });
        write_sen3(builder, &date.product, |folder| {
            write_land_files(folder, &date.product, &pixels)
        })?;
        let positions = frame.positions();
        let day = date.product.start.format("%Y-%m-%d").to_string();
        let (mean, count) = index_mean(&positions, &pixels, PO_VALLEY, |p| p.ogvi, OGVI_SCALE);
        ogvi.insert(
            day.clone(),
            json!({ "mean": round_to(mean, 4), "pixels": count }),
        );
        let (mean, count) = index_mean(&positions, &pixels, PO_VALLEY, |p| p.otci, OTCI_SCALE);
        otci.insert(day, json!({ "mean": round_to(mean, 4), "pixels": count }));
        names.push(stem);
    }
    builder.truth("s3_olci", "lfr", json!(names));
    builder.truth("s3_olci", "po_valley", json!(PO_VALLEY));
    builder.truth("s3_olci", "ogvi_masked_flags", json!(OGVI_MASKED));
    builder.truth("s3_olci", "ogvi_po_valley", Value::Object(ogvi));
    builder.truth("s3_olci", "otci_po_valley", Value::Object(otci));
    Ok(())
}

/// The ORDER notebook's example: an LFR over California, archived (offline).
fn order_example(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let product = Sen3 {
        platform: "S3A",
        kind: "OL_2_LFR___",
        start: at("20201108T184531"),
        duration: 180,
        cycle: 65,
        relative_orbit: 70,
        frame_number: 2340,
        centre: "LN1",
        baseline: "002",
        online: false,
        frame: SwathFrame {
            centre: (-121.6, 38.9),
            heading: 193.0,
            rows: 110,
            columns: 120,
            along_km: 2.5,
            across_km: 2.5,
        },
        ascending: false,
    };
    let land = LandMask::new([-126.0, 36.0, -117.0, 42.0], 0.02, &[]);
    let texture = Waves::new("olci-california", 150.0, 7);
    let stem = product.stem();
    let pixels = make_pixels(&product.frame, &stem, |point, rng| {
        let noise = Normal::new(0.0, 1.0).unwrap();
        let on_land = land.is_land(point);
        let ogvi = (0.28 + 0.12 * texture.at(point) + 0.015 * noise.sample(rng)).clamp(0.02, 0.9);
        LandPixel {
            altitude: if on_land {
                200.0 + 600.0 * (1.0 + texture.at((point.1, point.0)))
            } else {
                0.0
            },
            ogvi: if on_land { ogvi } else { f64::NAN },
            otci: if on_land { otci_from(ogvi) } else { f64::NAN },
            iwv: 12.0 + 3.0 * texture.at(point),
            flags: if on_land { lqsf("LAND") } else { lqsf("WATER") },
        }
    });
    write_sen3(builder, &product, |folder| {
        write_land_files(folder, &product, &pixels)
    })?;
    builder.truth("s3_olci", "order_product", json!(stem));
    Ok(())
}

// ---------------------------------------------------------------------------
// Synergy (SYN): the SEARCH notebook's results

/// The SYN flags (`SYN_flags`), name and bit.
const SYN_FLAGS: [(&str, u16); 12] = [
    ("SYN_cloud", 1),
    ("SYN_snow_risk", 1 << 1),
    ("SYN_shadow_risk", 1 << 2),
    ("SYN_cloud_filled", 1 << 3),
    ("SYN_land", 1 << 4),
    ("SYN_no_olc", 1 << 5),
    ("SYN_no_sln", 1 << 6),
    ("SYN_no_slo", 1 << 7),
    ("SYN_120", 1 << 8),
    ("SYN_150", 1 << 9),
    ("SYN_success", 1 << 10),
    ("SYN_partly_cloudy", 1 << 11),
];

/// The SYN bands written (band, water, land, cloud reflectance).
const SYN_BANDS: [(&str, f64, f64, f64); 4] = [
    ("Oa04", 0.055, 0.05, 0.62),
    ("Oa06", 0.030, 0.08, 0.60),
    ("Oa08", 0.012, 0.07, 0.58),
    ("Oa17", 0.004, 0.27, 0.55),
];

/// The descending passes over Italy on 20 and 21 July 2020: day, satellite,
/// longitude of the track at 42° N. Each gives a northern and a southern
/// 3-minute frame.
const SYN_PASSES: [(u32, &str, f64); 10] = [
    (20, "S3A", 15.5),
    (20, "S3B", 4.5),
    (20, "S3A", -3.0),
    (20, "S3B", 21.0),
    (20, "S3A", 9.5),
    (21, "S3B", 12.5),
    (21, "S3A", 6.5),
    (21, "S3B", -1.5),
    (21, "S3A", 18.0),
    (21, "S3B", 1.0),
];

fn synergy_products() -> Vec<Sen3> {
    let mut products = Vec::new();
    for (i, &(day, platform, lon)) in SYN_PASSES.iter().enumerate() {
        // Local solar time near 10:00 at the track, a little earlier north.
        let overpass =
            at(&format!("202007{day:02}T100000")) - Duration::seconds((lon / 15.0 * 3600.0) as i64);
        for (j, lat) in [47.6, 36.9].into_iter().enumerate() {
            let start = overpass + Duration::seconds(180 * j as i64 - 270);
            products.push(Sen3 {
                platform,
                kind: "SY_2_SYN___",
                start,
                duration: 180,
                cycle: if platform == "S3A" { 60 } else { 41 },
                relative_orbit: 15 + 37 * i as u32 % 385,
                frame_number: 2160 + 180 * j as u32,
                centre: "LN2",
                baseline: "002",
                online: true,
                frame: SwathFrame {
                    centre: (lon + (lat - 42.0) * 0.23, lat),
                    heading: 193.0,
                    rows: 46,
                    columns: 48,
                    along_km: 26.0,
                    across_km: 26.5,
                },
                ascending: false,
            });
        }
    }
    products
}

fn synergy(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let land = LandMask::new([-14.0, 24.0, 34.0, 58.0], 0.05, &[]);
    let texture = Waves::new("syn-texture", 300.0, 7);
    let mut names = Vec::new();
    for product in synergy_products() {
        let stem = product.stem();
        let clouds: Vec<Cloud> = {
            let mut rng = scene_rng(&stem);
            (0..3)
                .map(|_| {
                    let (lon, lat) = product.frame.lonlat(
                        rng.random::<f64>() * product.frame.rows as f64,
                        rng.random::<f64>() * product.frame.columns as f64,
                    );
                    Cloud {
                        centre: (lon, lat),
                        rx_km: 60.0 + 80.0 * rng.random::<f64>(),
                        ry_km: 50.0 + 60.0 * rng.random::<f64>(),
                    }
                })
                .collect()
        };
        let frame = product.frame;
        let cells: Vec<(bool, f64, f64)> = make_pixels(&frame, &stem, |point, rng| {
            let t = texture.at(point);
            (
                land.is_land(point),
                cloud_cover(&clouds, point, t),
                0.12 + 0.05 * t + 0.01 * rng.random::<f64>(),
            )
        });
        write_sen3(builder, &product, |folder| {
            write_synergy_files(folder, &product, &cells)
        })?;
        names.push(stem);
    }
    names.sort();
    builder.truth("s3_syn", "aoi", json!(SEARCH_BOX));
    builder.truth("s3_syn", "from", json!("2020-07-20"));
    builder.truth("s3_syn", "to", json!("2020-07-21"));
    builder.truth("s3_syn", "count", json!(names.len()));
    builder.truth("s3_syn", "names", json!(names));
    Ok(())
}

/// A SYN product's files: geolocation, flags, time, aerosol and four
/// surface-reflectance bands; `cells` = (land, cloud cover, aerosol).
fn write_synergy_files(
    folder: &Path,
    product: &Sen3,
    cells: &[(bool, f64, f64)],
) -> Result<Vec<&'static str>, DemoError> {
    let stem = product.stem();
    let grid = (product.frame.rows, product.frame.columns);
    let globals =
        |what: &str| product.globals(&format!("SYN Level 2 Product, {what} Data Set"), 26000);
    let fail = nc_failure(&stem);
    let [lat, lon] = coordinate_vars(&product.frame.positions(), "lat", "lon");
    let altitude: Vec<f64> = cells
        .iter()
        .map(|c| if c.0 { 250.0 } else { 0.0 })
        .collect();
    write_swath_file(
        &folder.join("geolocation.nc"),
        &globals("Geolocation"),
        grid,
        &[lat, lon, altitude_var("altitude", &altitude)],
    )
    .map_err(&fail)?;
    let flag = |name: &str| SYN_FLAGS.iter().find(|(n, _)| *n == name).unwrap().1;
    let words: Vec<u16> = cells
        .iter()
        .map(|&(on_land, cover, _)| {
            let mut word = flag("SYN_success");
            if on_land {
                word |= flag("SYN_land");
            }
            if cover > 0.6 {
                word |= flag("SYN_cloud");
            } else if cover > 0.05 {
                word |= flag("SYN_partly_cloudy");
            }
            word
        })
        .collect();
    write_swath_file(
        &folder.join("flags.nc"),
        &globals("Flags"),
        grid,
        &[flag_var(
            "SYN_flags",
            "Synergy classification and quality flags",
            &SYN_FLAGS,
            Values::U16(words),
        )],
    )
    .map_err(&fail)?;
    let epoch = at("20000101T000000");
    let row_seconds = product.duration as f64 / product.frame.rows as f64;
    let stamps: Vec<i64> = (0..product.frame.rows)
        .map(|r| {
            let t = product.start + Duration::microseconds((r as f64 * row_seconds * 1e6) as i64);
            (t - epoch).num_microseconds().unwrap_or_default()
        })
        .collect();
    write_swath_file(
        &folder.join("time.nc"),
        &globals("Time"),
        grid,
        &[Var {
            name: "time_stamp",
            dims: Some(vec![("rows", product.frame.rows)]),
            values: Values::I64(stamps),
            attrs: vec![
                Attr::str("long_name", "Elapsed time since 01 Jan 2000 0h"),
                Attr::str("standard_name", "time"),
                Attr::str("units", "microseconds since 2000-01-01 00:00:00"),
            ],
        }],
    )
    .map_err(&fail)?;
    let i16_var = |name: &'static str, values: &[f64], long: &str, units: &str| {
        Var::grid(
            name,
            Values::I16(values.iter().map(|&v| pack_i16(v, 1e-4, 0.0)).collect()),
            vec![
                Attr::f64("_FillValue", -32768.0),
                Attr::f64("scale_factor", 1e-4),
                Attr::f64("add_offset", 0.0),
                Attr::str("long_name", long),
                Attr::str("units", units),
            ],
        )
    };
    let aerosol: Vec<f64> = cells.iter().map(|c| c.2).collect();
    write_swath_file(
        &folder.join("Syn_AOT550.nc"),
        &globals("Aerosol Optical Thickness"),
        grid,
        &[
            i16_var("T550", &aerosol, "Aerosol optical thickness at 550 nm", "1"),
            i16_var(
                "T550_err",
                &aerosol.iter().map(|a| a * 0.2).collect::<Vec<_>>(),
                "Aerosol optical thickness at 550 nm uncertainty estimate",
                "1",
            ),
        ],
    )
    .map_err(&fail)?;
    let mut files = vec!["geolocation.nc", "flags.nc", "time.nc", "Syn_AOT550.nc"];
    for (band, water, ground, cloud) in SYN_BANDS {
        let values: Vec<f64> = cells
            .iter()
            .map(|&(on_land, cover, aerosol)| {
                let surface = if on_land {
                    ground * (0.8 + aerosol)
                } else {
                    water
                };
                surface * (1.0 - cover) + cloud * cover
            })
            .collect();
        let file: &'static str = match band {
            "Oa04" => "Syn_Oa04_reflectance.nc",
            "Oa06" => "Syn_Oa06_reflectance.nc",
            "Oa08" => "Syn_Oa08_reflectance.nc",
            _ => "Syn_Oa17_reflectance.nc",
        };
        let (name, error): (&'static str, &'static str) = match band {
            "Oa04" => ("SDR_Oa04", "SDR_Oa04_err"),
            "Oa06" => ("SDR_Oa06", "SDR_Oa06_err"),
            "Oa08" => ("SDR_Oa08", "SDR_Oa08_err"),
            _ => ("SDR_Oa17", "SDR_Oa17_err"),
        };
        write_swath_file(
            &folder.join(file),
            &globals(&format!("{band} Surface Directional Reflectance")),
            grid,
            &[
                i16_var(
                    name,
                    &values,
                    &format!(
                        "Surface directional reflectance associated with OLCI channel {}",
                        &band[2..]
                    ),
                    "1",
                ),
                i16_var(
                    error,
                    &values.iter().map(|v| v * 0.05).collect::<Vec<_>>(),
                    "Surface directional reflectance uncertainty estimate",
                    "1",
                ),
            ],
        )
        .map_err(&fail)?;
        files.push(file);
    }
    Ok(files)
}

// ---------------------------------------------------------------------------
// SLSTR Level 1 RBT: 12 µm brightness temperature (S9) on the 1 km nadir grid

/// How the RBT products store brightness temperature (K): int16 with this
/// scale and offset.
const BT_SCALE: f64 = 0.01;
const BT_OFFSET: f64 = 283.73;

/// The SLSTR frames: 200 x 200 pixels of 1 km on the nadir grid.
fn slstr_frame(centre: (f64, f64), heading: f64) -> SwathFrame {
    SwathFrame {
        centre,
        heading,
        rows: 200,
        columns: 200,
        along_km: 1.0,
        across_km: 1.0,
    }
}

/// An RBT product's files: geodetic coordinates, S9 brightness temperature
/// with its exception flags, and the S9 quality (radiometric uncertainty).
fn write_rbt_files(
    folder: &Path,
    product: &Sen3,
    bt: &[f64],
    elevation: &[f64],
    uncertainty: [f64; 2],
) -> Result<Vec<&'static str>, DemoError> {
    let stem = product.stem();
    let grid = (product.frame.rows, product.frame.columns);
    let fail = nc_failure(&stem);
    let globals = |what: &str| product.globals(&format!("SLSTR Level 1 Product, {what}"), 1000);
    let [lat, lon] = coordinate_vars(&product.frame.positions(), "latitude_in", "longitude_in");
    write_swath_file(
        &folder.join("geodetic_in.nc"),
        &globals("1 km Nadir Geodetic Data Set"),
        grid,
        &[altitude_var("elevation_in", elevation), lat, lon],
    )
    .map_err(&fail)?;
    let exceptions = [
        ("ISP_absent", 1u8),
        ("pixel_absent", 2),
        ("not_decompressed", 4),
        ("no_signal", 8),
        ("saturation", 16),
        ("invalid_radiance", 32),
        ("no_parameters", 64),
        ("unfilled_pixel", 128),
    ];
    write_swath_file(
        &folder.join("S9_BT_in.nc"),
        &globals("S9 Brightness Temperature Data Set, 1 km Nadir Grid"),
        grid,
        &[
            Var::grid(
                "S9_BT_in",
                Values::I16(bt.iter().map(|&t| pack_i16(t, BT_SCALE, BT_OFFSET)).collect()),
                vec![
                    Attr::f64("_FillValue", -32768.0),
                    Attr::f64("scale_factor", BT_SCALE),
                    Attr::f64("add_offset", BT_OFFSET),
                    Attr::str("ancillary_variables", "S9_exception_in"),
                    Attr::str("coordinates", "time_in latitude_in longitude_in"),
                    Attr::str("long_name", "Gridded pixel brightness temperature for channel S9 (1km TIR grid, nadir view)"),
                    Attr::str("standard_name", "toa_brightness_temperature"),
                    Attr::str("units", "K"),
                ],
            ),
            flag_var("S9_exception_in", "Exception summary for channel S9 (1km TIR grid, nadir view)", &exceptions, Values::U8(vec![0; bt.len()])),
        ],
    )
    .map_err(&fail)?;
    write_swath_file(
        &folder.join("S9_quality_in.nc"),
        &globals("S9 Quality Data Set, 1 km Nadir Grid"),
        grid,
        &[Var {
            name: "S9_radiometric_uncertainty_in",
            dims: Some(vec![("detectors", 2)]),
            values: Values::F32(uncertainty.iter().map(|&u| u as f32).collect()),
            attrs: vec![
                Attr::str("long_name", "Radiometric uncertainty of channel S9 (1km TIR grid, nadir view), per detector"),
                Attr::str("units", "K"),
            ],
        }],
    )
    .map_err(&fail)?;
    Ok(vec!["geodetic_in.nc", "S9_BT_in.nc", "S9_quality_in.nc"])
}

/// The stored value of a brightness temperature, as a reader sees it.
fn stored_bt(kelvin: f64) -> f64 {
    unpack_i16(pack_i16(kelvin, BT_SCALE, BT_OFFSET), BT_SCALE, BT_OFFSET)
}

/// Cells of `step` degrees over `bounds`: (centre, area in km²).
fn cells(bounds: [f64; 4], step: f64) -> Vec<((f64, f64), f64)> {
    let [west, south, east, north] = bounds;
    let (width, height) = (
        ((east - west) / step).round() as usize,
        ((north - south) / step).round() as usize,
    );
    (0..height)
        .flat_map(|r| {
            (0..width).map(move |c| {
                let centre = (
                    west + (c as f64 + 0.5) * step,
                    north - (r as f64 + 0.5) * step,
                );
                let area = (step * KM_PER_DEGREE).powi(2) * centre.1.to_radians().cos();
                (centre, area)
            })
        })
        .collect()
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    }
}

/// The Chernobyl exclusion zone at night: forest and marsh (Polesia), the
/// Pripyat river, the plant's cooling pond and the Kyiv reservoir, warmer
/// than the land after dark.
struct Polesia {
    texture: Waves,
    waters: Vec<Vec<(f64, f64)>>,
}

/// The Pripyat's course through the zone.
const PRIPYAT: [(f64, f64); 7] = [
    (29.45, 51.56),
    (29.80, 51.49),
    (30.02, 51.43),
    (30.09, 51.40),
    (30.16, 51.37),
    (30.32, 51.28),
    (30.50, 51.14),
];

impl Polesia {
    fn new() -> Polesia {
        Polesia {
            texture: Waves::new("slstr-polesia", 60.0, 8),
            waters: vec![
                // The cooling pond, south-east of the plant.
                vec![
                    (30.10, 51.386),
                    (30.135, 51.392),
                    (30.215, 51.343),
                    (30.20, 51.327),
                    (30.12, 51.362),
                ],
                // The Kyiv reservoir's northern end.
                vec![
                    (30.28, 51.15),
                    (30.47, 51.16),
                    (30.57, 50.95),
                    (30.53, 50.62),
                    (30.34, 50.60),
                    (30.25, 50.82),
                ],
            ],
        }
    }

    /// How much warmer than the land the water keeps a point at night (K):
    /// the pond and the reservoir, and the river's valley, wide enough for
    /// 1 km pixels to see.
    fn water_warmth(&self, point: (f64, f64)) -> f64 {
        if self.waters.iter().any(|ring| in_ring(point, ring)) {
            2.5
        } else {
            1.5 * (-(km_to_polyline(point, &PRIPYAT) / 1.5).powi(2)).exp()
        }
    }

    /// Night-time S9 brightness temperature without fires or clouds (K).
    fn night_bt(&self, point: (f64, f64)) -> f64 {
        266.5 + 2.0 * self.texture.at(point) + self.water_warmth(point)
    }
}

/// A fire: centre, size (km), brightness-temperature rise at 12 µm (K).
type Fire = ((f64, f64), f64, f64);

/// One RBT date over Chernobyl.
struct FireDate {
    product: Sen3,
    /// The night's departure from the average (weather), K.
    offset_k: f64,
    fires: Vec<Fire>,
    clouds: Vec<Cloud>,
    /// A date of the fires (else a pre-fire reference).
    event: bool,
}

fn chernobyl_dates() -> Vec<FireDate> {
    let date = |start: &str,
                platform: &'static str,
                orbit: u32,
                centre: (f64, f64),
                heading: f64,
                offset_k: f64,
                fires: Vec<Fire>,
                clouds: Vec<Cloud>,
                event: bool| FireDate {
        product: Sen3 {
            platform,
            kind: "SL_1_RBT___",
            start: at(start),
            duration: 180,
            cycle: if platform == "S3A" { 56 } else { 37 },
            relative_orbit: orbit,
            frame_number: 1800,
            centre: "LN2",
            baseline: "004",
            online: true,
            frame: slstr_frame(centre, heading),
            ascending: true,
        },
        offset_k,
        fires,
        clouds,
        event,
    };
    vec![
        date(
            "20200327T193004",
            "S3A",
            329,
            (30.05, 51.30),
            346.0,
            -1.5,
            vec![],
            vec![],
            false,
        ),
        date(
            "20200329T194512",
            "S3B",
            14,
            (29.80, 51.42),
            347.0,
            0.8,
            vec![],
            vec![],
            false,
        ),
        date(
            "20200330T191904",
            "S3A",
            372,
            (30.30, 51.35),
            345.5,
            -0.5,
            vec![],
            vec![],
            false,
        ),
        date(
            "20200331T193408",
            "S3B",
            57,
            (29.95, 51.25),
            346.5,
            1.2,
            vec![],
            vec![],
            false,
        ),
        date(
            "20200401T195006",
            "S3A",
            14,
            (29.90, 51.40),
            347.5,
            0.0,
            vec![],
            vec![],
            false,
        ),
        date(
            "20200402T192412",
            "S3B",
            100,
            (30.10, 51.33),
            346.0,
            1.0,
            vec![],
            vec![],
            true,
        ),
        date(
            "20200404T193209",
            "S3A",
            57,
            (30.00, 51.38),
            346.5,
            -0.8,
            vec![((29.85, 51.24), 2.5, 9.0), ((29.95, 51.20), 2.0, 6.0)],
            vec![],
            true,
        ),
        date(
            "20200405T194701",
            "S3B",
            143,
            (29.85, 51.30),
            347.0,
            0.6,
            vec![((29.90, 51.26), 3.5, 14.0), ((30.00, 51.22), 2.5, 8.0)],
            vec![],
            true,
        ),
        date(
            "20200406T192106",
            "S3A",
            100,
            (30.20, 51.36),
            345.5,
            0.4,
            vec![
                ((29.95, 51.29), 4.0, 19.0),
                ((30.05, 51.25), 3.0, 12.0),
                ((29.85, 51.23), 2.5, 7.0),
            ],
            vec![],
            true,
        ),
        date(
            "20200411T194212",
            "S3A",
            172,
            (30.05, 51.42),
            346.5,
            -0.5,
            vec![((30.07, 51.36), 3.0, 13.0), ((30.15, 51.41), 2.5, 9.0)],
            vec![Cloud {
                centre: (30.28, 51.58),
                rx_km: 9.0,
                ry_km: 7.0,
            }],
            true,
        ),
    ]
}

/// The brightness temperature a date shows without noise (K): the night's
/// ground, its weather, fires, and cold cloud tops.
fn fire_bt(polesia: &Polesia, date: &FireDate, point: (f64, f64)) -> f64 {
    let ground = polesia.night_bt(point) + date.offset_k;
    let fires: f64 = date
        .fires
        .iter()
        .map(|&(centre, size, rise)| bump(point, centre, size, rise))
        .sum();
    let cover = cloud_cover(&date.clouds, point, 0.0);
    (ground + fires) * (1.0 - cover) + 252.0 * cover
}

fn chernobyl(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let polesia = Polesia::new();
    let dates = chernobyl_dates();
    for date in &dates {
        let stem = date.product.stem();
        let noise = Normal::new(0.0, 0.12).unwrap();
        let bt = make_pixels(&date.product.frame, &stem, |point, rng| {
            fire_bt(&polesia, date, point) + noise.sample(rng)
        });
        let elevation = vec![115.0; bt.len()];
        let mut rng = scene_rng(&format!("{stem}/uncertainty"));
        let uncertainty = [
            0.05 + 0.02 * rng.random::<f64>(),
            0.05 + 0.02 * rng.random::<f64>(),
        ];
        write_sen3(builder, &date.product, |folder| {
            write_rbt_files(folder, &date.product, &bt, &elevation, uncertainty)
        })?;
    }
    let day = |d: &FireDate| d.product.start.format("%Y-%m-%d").to_string();
    let (references, events): (Vec<&FireDate>, Vec<&FireDate>) =
        dates.iter().partition(|d| !d.event);
    // The truth on a fine grid from the noise-free fields: the pixel-wise
    // median of the pre-fire nights, and each fire night's departure from it.
    let grid = cells(CHERNOBYL_BOX, 0.005);
    let reference: Vec<f64> = grid
        .iter()
        .map(|&(point, _)| {
            median(
                &mut references
                    .iter()
                    .map(|d| fire_bt(&polesia, d, point))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    let (mut peak, mut burning, mut at_peak) = (Map::new(), Map::new(), Map::new());
    for date in &events {
        let differences: Vec<f64> = grid
            .iter()
            .zip(&reference)
            .map(|(&(point, _), r)| fire_bt(&polesia, date, point) - r)
            .collect();
        let (index, max) =
            differences
                .iter()
                .enumerate()
                .fold((0, f64::NEG_INFINITY), |best, (i, &d)| {
                    if d > best.1 { (i, d) } else { best }
                });
        let area: f64 = grid
            .iter()
            .zip(&differences)
            .filter(|(_, d)| **d > FIRE_THRESHOLD_K)
            .map(|(c, _)| c.1)
            .sum();
        peak.insert(day(date), json!(round_to(max, 2)));
        burning.insert(day(date), json!(round_to(area, 1)));
        at_peak.insert(
            day(date),
            json!([round_to(grid[index].0.0, 3), round_to(grid[index].0.1, 3)]),
        );
    }
    let (reference_mean, _) = mean_of(reference.iter().copied());
    let names = |list: &[&FireDate]| list.iter().map(|d| d.product.stem()).collect::<Vec<_>>();
    builder.truth("s3_slstr_fire", "box", json!(CHERNOBYL_BOX));
    builder.truth(
        "s3_slstr_fire",
        "plant",
        json!([CHERNOBYL_PLANT.0, CHERNOBYL_PLANT.1]),
    );
    builder.truth(
        "s3_slstr_fire",
        "reference_products",
        json!(names(&references)),
    );
    builder.truth("s3_slstr_fire", "event_products", json!(names(&events)));
    builder.truth(
        "s3_slstr_fire",
        "reference_mean_k",
        json!(round_to(reference_mean, 2)),
    );
    builder.truth("s3_slstr_fire", "threshold_k", json!(FIRE_THRESHOLD_K));
    builder.truth("s3_slstr_fire", "max_anomaly_k", Value::Object(peak));
    builder.truth("s3_slstr_fire", "max_anomaly_at", Value::Object(at_peak));
    builder.truth("s3_slstr_fire", "burning_area_km2", Value::Object(burning));
    builder.truth(
        "s3_slstr_fire",
        "note",
        json!("from the noise-free scenes on a 0.005° grid: per-pixel median of the 5 pre-fire nights, then each night's difference; burning = difference above threshold_k"),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// Anak Krakatau, 12 April 2020: the eruption plume's cold top

/// The Krakatau islands, too small for the coastline data.
fn krakatau_islands() -> Vec<Vec<(f64, f64)>> {
    vec![
        ellipse((105.44, -6.14), 3.2, 2.2, 12),  // Rakata
        ellipse((105.34, -6.075), 2.0, 1.5, 10), // Sertung
        ellipse((105.46, -6.06), 1.2, 0.9, 8),   // Panjang
        ellipse(ANAK_KRAKATAU, 1.0, 1.0, 8),
    ]
}

/// The day-time S9 brightness temperature (K): warm sea, warmer land, a
/// hot vent and the plume's cold top drifting north-west.
fn krakatoa_bt(land: &LandMask, texture: &Waves, point: (f64, f64)) -> f64 {
    let ground = if land.is_land(point) {
        305.5 + 1.5 * texture.at(point)
    } else {
        300.5 + 0.4 * texture.at(point)
    };
    let vent = bump(point, ANAK_KRAKATAU, 0.6, 20.0);
    let cooling = plume(point, ANAK_KRAKATAU, 300.0, 30.0, 3.5, 58.0);
    ground + vent - cooling
}

fn krakatoa(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let islands = krakatau_islands();
    let rings: Vec<&[(f64, f64)]> = islands.iter().map(|r| r.as_slice()).collect();
    let land = LandMask::new([104.0, -7.3, 106.7, -4.8], 0.005, &rings);
    let texture = Waves::new("slstr-krakatoa", 50.0, 7);
    let product = Sen3 {
        platform: "S3A",
        kind: "SL_1_RBT___",
        start: at("20200412T024806"),
        duration: 180,
        cycle: 57,
        relative_orbit: 189,
        frame_number: 3240,
        centre: "LN2",
        baseline: "004",
        online: true,
        frame: slstr_frame((105.3, -6.0), 193.0),
        ascending: false,
    };
    let stem = product.stem();
    let noise = Normal::new(0.0, 0.1).unwrap();
    let bt = make_pixels(&product.frame, &stem, |point, rng| {
        krakatoa_bt(&land, &texture, point) + noise.sample(rng)
    });
    let elevation: Vec<f64> = product
        .frame
        .positions()
        .iter()
        .map(|&p| if land.is_land(p) { 60.0 } else { 0.0 })
        .collect();
    write_sen3(builder, &product, |folder| {
        write_rbt_files(folder, &product, &bt, &elevation, [0.055, 0.061])
    })?;
    let grid = cells(KRAKATOA_BOX, 0.0025);
    let field: Vec<f64> = grid
        .iter()
        .map(|&(p, _)| krakatoa_bt(&land, &texture, p))
        .collect();
    let min = field.iter().copied().fold(f64::INFINITY, f64::min);
    let area: f64 = grid
        .iter()
        .zip(&field)
        .filter(|(_, t)| **t < PLUME_THRESHOLD_K)
        .map(|(c, _)| c.1)
        .sum();
    let stored_min = product
        .frame
        .positions()
        .iter()
        .zip(&bt)
        .filter(|(p, _)| stored_inside(**p, KRAKATOA_BOX))
        .map(|(_, &t)| stored_bt(t))
        .fold(f64::INFINITY, f64::min);
    builder.truth("s3_slstr_krakatoa", "product", json!(stem));
    builder.truth("s3_slstr_krakatoa", "box", json!(KRAKATOA_BOX));
    builder.truth(
        "s3_slstr_krakatoa",
        "vent",
        json!([ANAK_KRAKATAU.0, ANAK_KRAKATAU.1]),
    );
    builder.truth("s3_slstr_krakatoa", "min_bt_k", json!(round_to(min, 2)));
    builder.truth(
        "s3_slstr_krakatoa",
        "min_pixel_bt_k",
        json!(round_to(stored_min, 2)),
    );
    builder.truth(
        "s3_slstr_krakatoa",
        "plume_threshold_k",
        json!(PLUME_THRESHOLD_K),
    );
    builder.truth(
        "s3_slstr_krakatoa",
        "plume_area_km2",
        json!(round_to(area, 1)),
    );
    Ok(())
}

// ---------------------------------------------------------------------------
// SLSTR Level 2 LST: the June 2020 Siberian heat wave

const LST_SCALE: f64 = 0.002;
const LST_OFFSET: f64 = 290.0;

/// Clear-sky land surface temperature (°C) on 19 June 2020 around noon:
/// warm inland under the heat dome, cooler toward the Arctic coast and on
/// the ranges.
fn siberia_lst(land: &LandMask, texture: &Waves, point: (f64, f64)) -> f64 {
    const CHERSKY_RANGE: [(f64, f64); 4] =
        [(138.0, 66.2), (142.5, 67.2), (147.0, 67.6), (152.0, 68.6)];
    let heat = 20.0 * (-(km_between(point, (144.0, 68.4)) / 260.0).powi(2)).exp();
    let north = -1.3 * (point.1 - 67.0);
    let coast = -7.0 * (-land.coast_km(point) / 35.0).exp();
    let ranges = -6.0 * (-(km_to_polyline(point, &CHERSKY_RANGE) / 40.0).powi(2)).exp();
    20.0 + heat + north + coast + ranges + 4.0 * texture.at(point)
}

fn siberia(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let land = LandMask::new([122.0, 61.0, 172.0, 78.0], 0.03, &[]);
    let texture = Waves::new("slstr-siberia", 150.0, 8);
    let clouds = [
        Cloud {
            centre: (152.0, 71.2),
            rx_km: 80.0,
            ry_km: 55.0,
        },
        Cloud {
            centre: (139.5, 69.6),
            rx_km: 55.0,
            ry_km: 60.0,
        },
    ];
    let product = Sen3 {
        platform: "S3B",
        kind: "SL_2_LST___",
        start: at("20200619T012217"),
        duration: 180,
        cycle: 40,
        relative_orbit: 96,
        frame_number: 1620,
        centre: "LN2",
        baseline: "004",
        online: true,
        frame: SwathFrame {
            centre: (146.2, 70.0),
            heading: 200.0,
            rows: 317,
            columns: 367,
            along_km: 3.0,
            across_km: 3.0,
        },
        ascending: false,
    };
    let stem = product.stem();
    let noise = Normal::new(0.0, 0.3).unwrap();
    let kelvin = make_pixels(&product.frame, &stem, |point, rng| {
        let cloudy = cloud_cover(&clouds, point, texture.at(point)) > 0.3;
        if !land.is_land(point) || cloudy {
            f64::NAN
        } else {
            siberia_lst(&land, &texture, point) + 273.15 + noise.sample(rng)
        }
    });
    let positions = product.frame.positions();
    let elevation: Vec<f64> = positions
        .iter()
        .map(|&p| if land.is_land(p) { 150.0 } else { 0.0 })
        .collect();
    write_sen3(builder, &product, |folder| {
        write_lst_files(folder, &product, &kelvin, &elevation)
    })?;
    let stored: Vec<f64> = positions
        .iter()
        .zip(&kelvin)
        .filter(|(p, _)| stored_inside(**p, SIBERIA_EXTENT))
        .map(|(_, &k)| {
            unpack_i16(pack_i16(k, LST_SCALE, LST_OFFSET), LST_SCALE, LST_OFFSET) - 273.15
        })
        .filter(|c| c.is_finite())
        .collect();
    let (mean, count) = mean_of(stored.iter().copied());
    let max = stored.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    builder.truth("s3_lst", "product", json!(stem));
    builder.truth("s3_lst", "extent", json!(SIBERIA_EXTENT));
    builder.truth("s3_lst", "max_lst_c", json!(round_to(max, 2)));
    builder.truth("s3_lst", "mean_lst_c", json!(round_to(mean, 2)));
    builder.truth("s3_lst", "pixels", json!(count));
    builder.truth("s3_lst", "chokurdakh", json!([CHOKURDAKH.0, CHOKURDAKH.1]));
    builder.truth(
        "s3_lst",
        "srednekolymsk",
        json!([SREDNEKOLYMSK.0, SREDNEKOLYMSK.1]),
    );
    Ok(())
}

/// An LST product's files: geodetic coordinates and `LST_in.nc` (LST, its
/// uncertainty and NDVI).
fn write_lst_files(
    folder: &Path,
    product: &Sen3,
    kelvin: &[f64],
    elevation: &[f64],
) -> Result<Vec<&'static str>, DemoError> {
    let stem = product.stem();
    let grid = (product.frame.rows, product.frame.columns);
    let fail = nc_failure(&stem);
    let globals = |what: &str| product.globals(&format!("SLSTR Level 2 Product, {what}"), 3000);
    let [lat, lon] = coordinate_vars(&product.frame.positions(), "latitude_in", "longitude_in");
    write_swath_file(
        &folder.join("geodetic_in.nc"),
        &globals("1 km Nadir Geodetic Data Set"),
        grid,
        &[altitude_var("elevation_in", elevation), lat, lon],
    )
    .map_err(&fail)?;
    let packed = |name: &'static str,
                  values: Vec<i16>,
                  scale: f64,
                  offset: f64,
                  long: &str,
                  standard: Option<&str>,
                  units: &str| {
        let mut attrs = vec![
            Attr::f64("_FillValue", -32768.0),
            Attr::f64("scale_factor", scale),
            Attr::f64("add_offset", offset),
            Attr::str("coordinates", "latitude_in longitude_in"),
            Attr::str("long_name", long),
            Attr::str("units", units),
        ];
        if let Some(standard) = standard {
            attrs.push(Attr::str("standard_name", standard));
        }
        Var::grid(name, Values::I16(values), attrs)
    };
    let lst = kelvin
        .iter()
        .map(|&k| pack_i16(k, LST_SCALE, LST_OFFSET))
        .collect();
    let uncertainty = kelvin
        .iter()
        .map(|&k| pack_i16(if k.is_finite() { 1.1 } else { f64::NAN }, 0.001, 0.0))
        .collect();
    let ndvi = kelvin
        .iter()
        .map(|&k| pack_i16(if k.is_finite() { 0.45 } else { f64::NAN }, 1e-4, 0.0))
        .collect();
    write_swath_file(
        &folder.join("LST_in.nc"),
        &globals("Land Surface Temperature Data Set, 1 km Nadir Grid"),
        grid,
        &[
            packed(
                "LST",
                lst,
                LST_SCALE,
                LST_OFFSET,
                "Gridded Land Surface Temperature",
                Some("surface_temperature"),
                "K",
            ),
            packed(
                "LST_uncertainty",
                uncertainty,
                0.001,
                0.0,
                "Land Surface Temperature total uncertainty",
                None,
                "K",
            ),
            packed(
                "NDVI",
                ndvi,
                1e-4,
                0.0,
                "Normalised Difference Vegetation Index",
                Some("normalized_difference_vegetation_index"),
                "1",
            ),
        ],
    )
    .map_err(&fail)?;
    Ok(vec!["geodetic_in.nc", "LST_in.nc"])
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ArchiveIndex, DemoOptions};
    use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
    use std::path::PathBuf;

    /// The Sentinel-3 products, written once for all the tests.
    fn archive() -> &'static (tempfile::TempDir, ArchiveIndex, Value) {
        static ARCHIVE: OnceLock<(tempfile::TempDir, ArchiveIndex, Value)> = OnceLock::new();
        ARCHIVE.get_or_init(|| {
            let dir = tempfile::tempdir().unwrap();
            let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
            write(&mut builder).unwrap();
            let index = builder.write_index().unwrap();
            let truth = serde_json::from_str(
                &std::fs::read_to_string(dir.path().join("truth.json")).unwrap(),
            )
            .unwrap();
            (dir, index, truth)
        })
    }

    fn truth() -> &'static Value {
        &archive().2
    }

    /// The SEN3 folder of the product whose name starts with `prefix`.
    fn sen3(prefix: &str) -> PathBuf {
        let (dir, index, _) = archive();
        let record = index
            .products
            .iter()
            .find(|p| p.name.starts_with(prefix))
            .unwrap_or_else(|| panic!("no product {prefix}"));
        let base = if record.online {
            record.ens_relative()
        } else {
            record.offline_relative()
        };
        dir.path().join(base).join(record.cdse_name.clone())
    }

    fn open(path: &Path) -> Dataset {
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        cleope_eo::gdal::dataset::open_ex(path, options)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
    }

    /// A variable's values and one of its attributes read through GDAL's multidimensional API.
    fn read<T: Copy + gdal::raster::GdalType>(
        path: &Path,
        name: &str,
    ) -> (Vec<T>, gdal::raster::MDArray<'static>) {
        let dataset = Box::leak(Box::new(open(path)));
        let root = Box::leak(Box::new(dataset.root_group().unwrap()));
        let array = root.open_md_array(name, Default::default()).unwrap();
        let shape: Vec<usize> = array
            .dimensions()
            .unwrap()
            .iter()
            .map(|d| d.size())
            .collect();
        let values = array.read_as::<T>(vec![0; shape.len()], shape).unwrap();
        (values, array)
    }

    fn text(array: &gdal::raster::MDArray, name: &str) -> String {
        array.attribute(name).unwrap().read_as_string()
    }

    fn number(array: &gdal::raster::MDArray, name: &str) -> f64 {
        array.attribute(name).unwrap().read_as_f64()
    }

    /// Longitudes and latitudes as a reader sees them.
    fn coordinates(file: &Path, lat: &str, lon: &str) -> Vec<(f64, f64)> {
        let (lats, lat_array) = read::<i32>(file, lat);
        let (lons, _) = read::<i32>(file, lon);
        assert_eq!(number(&lat_array, "scale_factor"), 1e-6);
        lons.iter()
            .zip(&lats)
            .map(|(&x, &y)| (f64::from(x) * 1e-6, f64::from(y) * 1e-6))
            .collect()
    }

    fn inside(p: (f64, f64), b: [f64; 4]) -> bool {
        let (x, y) = (f64::from(p.0 as f32), f64::from(p.1 as f32));
        x >= b[0] && x <= b[2] && y >= b[1] && y <= b[3]
    }

    fn close(a: f64, b: f64, tolerance: f64) -> bool {
        (a - b).abs() <= tolerance
    }

    #[test]
    fn the_land_mask_follows_the_coasts_and_lakes() {
        let italy = Italy::get();
        let land = |p| italy.land.is_land(p) && italy.lake(p).is_none();
        assert!(land((9.19, 45.46)), "Milan");
        assert!(land((11.34, 44.49)), "Bologna");
        assert!(!land((13.0, 44.5)), "the Adriatic");
        assert!(!land((9.0, 44.0)), "the Ligurian sea");
        assert!(!land((10.65, 45.60)), "Lake Garda");
        assert!(!land((12.10, 43.135)), "Lake Trasimeno");
        let hinterland = italy.land.coast_km((12.2, 44.1));
        assert!(
            hinterland > 8.0 && hinterland < 30.0,
            "Cesena is {hinterland} km from the coast"
        );
        let offshore = italy.land.coast_km((13.0, 44.3));
        assert!(
            offshore > 30.0 && offshore < 70.0,
            "mid-Adriatic is {offshore} km from a coast"
        );
    }

    #[test]
    fn frames_cover_their_tutorial_areas() {
        let covers = |frame: &SwathFrame, b: [f64; 4]| {
            let ring = frame.footprint();
            [(b[0], b[1]), (b[2], b[1]), (b[2], b[3]), (b[0], b[3])]
                .iter()
                .all(|&corner| in_ring(corner, &ring))
        };
        for date in water_dates() {
            assert!(
                covers(&date.product.frame, NORTH_ITALY),
                "{}",
                date.product.stem()
            );
        }
        for date in land_dates() {
            assert!(
                covers(&date.product.frame, NORTH_ITALY),
                "{}",
                date.product.stem()
            );
        }
        for date in chernobyl_dates() {
            assert!(
                covers(&date.product.frame, CHERNOBYL_BOX),
                "{}",
                date.product.stem()
            );
        }
        assert!(covers(&slstr_frame((105.3, -6.0), 193.0), KRAKATOA_BOX));
        let lst = SwathFrame {
            centre: (146.2, 70.0),
            heading: 200.0,
            rows: 317,
            columns: 367,
            along_km: 3.0,
            across_km: 3.0,
        };
        assert!(covers(&lst, SIBERIA_EXTENT));
    }

    #[test]
    fn names_parse_as_sentinel3_products() {
        let (_, index, _) = archive();
        let s3: Vec<_> = index
            .products
            .iter()
            .filter(|p| p.name.starts_with("S3"))
            .collect();
        assert_eq!(s3.len(), 2 + 2 + 1 + 20 + 10 + 1 + 1);
        for record in s3 {
            let parsed = cleope_eo::products::names::parse(&record.name).unwrap();
            assert_eq!(parsed.product_type, record.product_type);
            assert_eq!(
                parsed.start.format("%Y-%m-%dT%H:%M:%S").to_string(),
                record.begin[..19]
            );
            assert!(record.cdse_name.ends_with(".SEN3"));
        }
        let offline: Vec<_> = index
            .products
            .iter()
            .filter(|p| p.name.starts_with("S3") && !p.online)
            .collect();
        assert_eq!(offline.len(), 1);
        assert!(
            offline[0]
                .name
                .starts_with("S3A_OL_2_LFR____20201108T184531")
        );
        assert_eq!(
            truth()["s3_olci"]["order_product"],
            json!(cleope_eo::ens::name_stem(&offline[0].name))
        );
    }

    #[test]
    fn wfr_files_hold_log10_water_products_flags_and_the_truth() {
        let folder = sen3("S3A_OL_2_WFR____20200206");
        let manifest = std::fs::read_to_string(folder.join("xfdumanifest.xml")).unwrap();
        assert!(manifest.contains(
            "<sentinel-safe:startTime>2020-02-06T09:41:19.000000Z</sentinel-safe:startTime>"
        ));
        assert!(manifest.contains("href=\"./tsm_nn.nc\""));
        let (tsm, tsm_array) = read::<f32>(&folder.join("tsm_nn.nc"), "TSM_NN");
        assert_eq!(text(&tsm_array, "units"), "lg(re g.m-3)");
        assert_eq!(text(&tsm_array, "log10_scaled"), "true");
        let (words, wqsf_array) = read::<u64>(&folder.join("wqsf.nc"), "WQSF");
        let meanings = text(&wqsf_array, "flag_meanings");
        assert!(meanings.starts_with("INVALID WATER LAND CLOUD CLOUD_AMBIGUOUS"));
        let masks = wqsf_array
            .attribute("flag_masks")
            .unwrap()
            .read_as_f64_array();
        let bit = |name: &str| {
            let i = meanings.split(' ').position(|m| m == name).unwrap();
            masks[i] as u64
        };
        let positions = coordinates(&folder.join("geo_coordinates.nc"), "latitude", "longitude");
        let start = open(&folder.join("tsm_nn.nc"))
            .root_group()
            .unwrap()
            .attribute("start_time")
            .unwrap()
            .read_as_string();
        assert_eq!(start, "2020-02-06T09:41:19.000000Z");
        // Recompute the Po delta's mean from the files alone.
        let masked: u64 = TSM_MASKED.iter().map(|n| bit(n)).fold(0, |a, b| a | b);
        let kept: Vec<f64> = positions
            .iter()
            .zip(&tsm)
            .zip(&words)
            .filter(|((p, _), w)| **w & masked == 0 && inside(**p, PO_DELTA))
            .map(|((_, t), _)| 10f64.powf(f64::from(*t)))
            .collect();
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        let recorded = &truth()["s3_olci"]["tsm_po_delta_gm3"]["2020-02-06"];
        assert_eq!(recorded["pixels"].as_u64().unwrap() as usize, kept.len());
        assert!(
            close(mean, recorded["mean"].as_f64().unwrap(), 1e-3),
            "{mean} vs {recorded}"
        );
        // Land has no water values; clouds are flagged and their values absurd.
        let land_values = words
            .iter()
            .zip(&tsm)
            .filter(|(w, _)| **w & bit("LAND") != 0)
            .map(|(_, t)| t);
        assert!(land_values.clone().count() > 1000 && land_values.clone().all(|t| t.is_nan()));
        let cloudy: Vec<f64> = words
            .iter()
            .zip(&tsm)
            .filter(|(w, t)| **w & bit("CLOUD") != 0 && t.is_finite())
            .map(|(_, t)| 10f64.powf(f64::from(*t)))
            .collect();
        assert!(
            cloudy.len() > 100 && cloudy.iter().sum::<f64>() / cloudy.len() as f64 > 10.0,
            "clouds give nonsense to mask"
        );
    }

    #[test]
    fn suspended_matter_falls_during_the_lockdown() {
        let olci = &truth()["s3_olci"];
        for area in ["tsm_po_delta_gm3", "tsm_venice_gm3"] {
            let before = olci[area]["2020-02-06"]["mean"].as_f64().unwrap();
            let during = olci[area]["2020-04-11"]["mean"].as_f64().unwrap();
            assert!(
                before > 1.5 * during && during > 0.5,
                "{area}: {before} then {during}"
            );
        }
        let ogvi = &olci["ogvi_po_valley"];
        let (early, late) = (
            ogvi["2020-04-09"]["mean"].as_f64().unwrap(),
            ogvi["2020-04-23"]["mean"].as_f64().unwrap(),
        );
        assert!(
            late > early + 0.08 && early > 0.2,
            "the Po valley greens up: {early} then {late}"
        );
    }

    #[test]
    fn lfr_files_hold_scaled_indices_and_land_flags() {
        let folder = sen3("S3B_OL_2_LFR____20200423");
        let (ogvi, array) = read::<u8>(&folder.join("ogvi.nc"), "OGVI");
        assert_eq!(number(&array, "scale_factor"), OGVI_SCALE);
        assert_eq!(array.no_data_value_as_double(), Some(255.0));
        let (words, flags) = read::<u32>(&folder.join("lqsf.nc"), "LQSF");
        let meanings = text(&flags, "flag_meanings");
        let masks = flags.attribute("flag_masks").unwrap().read_as_f64_array();
        let mask_of = |names: &[&str]| {
            names
                .iter()
                .map(|n| masks[meanings.split(' ').position(|m| m == *n).unwrap()] as u32)
                .fold(0, |a, b| a | b)
        };
        let masked = mask_of(&OGVI_MASKED);
        let positions = coordinates(&folder.join("geo_coordinates.nc"), "latitude", "longitude");
        let kept: Vec<f64> = positions
            .iter()
            .zip(&ogvi)
            .zip(&words)
            .filter(|((p, _), w)| **w & masked == 0 && inside(**p, PO_VALLEY))
            .map(|((_, v), _)| f64::from(*v) * OGVI_SCALE)
            .collect();
        let mean = kept.iter().sum::<f64>() / kept.len() as f64;
        let recorded = &truth()["s3_olci"]["ogvi_po_valley"]["2020-04-23"];
        assert!(
            close(mean, recorded["mean"].as_f64().unwrap(), 1e-3),
            "{mean} vs {recorded}"
        );
        let water = words
            .iter()
            .zip(&ogvi)
            .filter(|(w, _)| **w & mask_of(&["WATER"]) != 0);
        assert!(water.clone().count() > 1000 && water.clone().all(|(_, v)| *v == 255));
    }

    #[test]
    fn twenty_synergy_frames_cross_the_search_box() {
        let (_, index, _) = archive();
        let syn: Vec<_> = index
            .products
            .iter()
            .filter(|p| p.product_type == "SY_2_SYN___")
            .collect();
        assert_eq!(syn.len(), 20);
        let [x0, y0, x1, y1] = SEARCH_BOX;
        let search = cleope_eo::geometry::Aoi::from_bbox(
            cleope_eo::geometry::BBox::new(x0, y0, x1, y1).unwrap(),
        );
        for record in &syn {
            let footprint = cleope_eo::geometry::Aoi::from_wkt(&record.footprint).unwrap();
            assert!(footprint.intersects_aoi(&search), "{}", record.name);
            assert!(
                record.begin.starts_with("2020-07-20") || record.begin.starts_with("2020-07-21")
            );
        }
        let folder = sen3(&syn[0].name[..31]);
        for file in [
            "geolocation.nc",
            "flags.nc",
            "time.nc",
            "Syn_AOT550.nc",
            "Syn_Oa08_reflectance.nc",
            "xfdumanifest.xml",
        ] {
            assert!(folder.join(file).is_file(), "{file}");
        }
        let (_, array) = read::<i16>(&folder.join("Syn_Oa08_reflectance.nc"), "SDR_Oa08");
        assert_eq!(number(&array, "scale_factor"), 1e-4);
        assert_eq!(truth()["s3_syn"]["count"], json!(20));
    }

    /// Brightness temperatures averaged into cells of `step` degrees over `bounds`.
    fn binned(folder: &Path, bounds: [f64; 4], step: f64) -> Vec<f64> {
        let positions = coordinates(
            &folder.join("geodetic_in.nc"),
            "latitude_in",
            "longitude_in",
        );
        let (bt, array) = read::<i16>(&folder.join("S9_BT_in.nc"), "S9_BT_in");
        assert_eq!(
            (number(&array, "scale_factor"), number(&array, "add_offset")),
            (0.01, 283.73)
        );
        assert_eq!(text(&array, "units"), "K");
        let width = ((bounds[2] - bounds[0]) / step).round() as usize;
        let height = ((bounds[3] - bounds[1]) / step).round() as usize;
        let mut sums = vec![(0.0, 0usize); width * height];
        for (p, &t) in positions.iter().zip(&bt) {
            let (c, r) = ((p.0 - bounds[0]) / step, (bounds[3] - p.1) / step);
            if c >= 0.0
                && r >= 0.0
                && (c as usize) < width
                && (r as usize) < height
                && t != i16::MIN
            {
                let cell = &mut sums[r as usize * width + c as usize];
                *cell = (cell.0 + f64::from(t) * 0.01 + 283.73, cell.1 + 1);
            }
        }
        sums.iter()
            .map(|&(s, n)| if n == 0 { f64::NAN } else { s / n as f64 })
            .collect()
    }

    #[test]
    fn chernobyl_fires_stand_out_of_the_pre_fire_median() {
        let fire = &truth()["s3_slstr_fire"];
        let folders = |key: &str| {
            fire[key]
                .as_array()
                .unwrap()
                .iter()
                .map(|n| sen3(n.as_str().unwrap()))
                .collect::<Vec<_>>()
        };
        let step = 0.02;
        let references: Vec<Vec<f64>> = folders("reference_products")
            .iter()
            .map(|f| binned(f, CHERNOBYL_BOX, step))
            .collect();
        let reference: Vec<f64> = (0..references[0].len())
            .map(|i| {
                let mut values: Vec<f64> = references
                    .iter()
                    .map(|r| r[i])
                    .filter(|v| v.is_finite())
                    .collect();
                if values.is_empty() {
                    f64::NAN
                } else {
                    median(&mut values)
                }
            })
            .collect();
        for folder in folders("event_products") {
            let day = folder.file_name().unwrap().to_string_lossy()[16..24].to_string();
            let day = format!("{}-{}-{}", &day[..4], &day[4..6], &day[6..]);
            let event = binned(&folder, CHERNOBYL_BOX, step);
            let peak = event
                .iter()
                .zip(&reference)
                .map(|(e, r)| e - r)
                .filter(|d| d.is_finite())
                .fold(f64::NEG_INFINITY, f64::max);
            let expected = fire["max_anomaly_k"][&day].as_f64().unwrap();
            // Cells of 0.02° average a fire's peak with its surroundings, and
            // the pond's edges fall in them differently from night to night.
            assert!(
                peak > expected - 3.5 && peak < expected + 2.0,
                "{day}: {peak} vs {expected}"
            );
        }
        let areas = &fire["burning_area_km2"];
        assert_eq!(areas["2020-04-02"], json!(0.0));
        assert!(areas["2020-04-06"].as_f64().unwrap() > areas["2020-04-04"].as_f64().unwrap());
        assert!(fire["max_anomaly_k"]["2020-04-06"].as_f64().unwrap() > 18.0);
    }

    #[test]
    fn the_krakatoa_plume_is_cold_and_lst_files_hold_the_heat_wave() {
        let krakatoa = &truth()["s3_slstr_krakatoa"];
        let folder = sen3(krakatoa["product"].as_str().unwrap());
        let positions = coordinates(
            &folder.join("geodetic_in.nc"),
            "latitude_in",
            "longitude_in",
        );
        let (bt, _) = read::<i16>(&folder.join("S9_BT_in.nc"), "S9_BT_in");
        let coldest = positions
            .iter()
            .zip(&bt)
            .filter(|(p, _)| inside(**p, KRAKATOA_BOX))
            .map(|(_, &t)| f64::from(t) * 0.01 + 283.73)
            .fold(f64::INFINITY, f64::min);
        assert!(close(
            coldest,
            krakatoa["min_pixel_bt_k"].as_f64().unwrap(),
            0.006
        ));
        assert!(coldest < 260.0 && krakatoa["plume_area_km2"].as_f64().unwrap() > 50.0);
        let (uncertainty, _) = read::<f32>(
            &folder.join("S9_quality_in.nc"),
            "S9_radiometric_uncertainty_in",
        );
        assert_eq!(uncertainty.len(), 2);

        let lst = &truth()["s3_lst"];
        let folder = sen3(lst["product"].as_str().unwrap());
        let positions = coordinates(
            &folder.join("geodetic_in.nc"),
            "latitude_in",
            "longitude_in",
        );
        let (kelvin, array) = read::<i16>(&folder.join("LST_in.nc"), "LST");
        assert_eq!(
            (number(&array, "scale_factor"), number(&array, "add_offset")),
            (LST_SCALE, LST_OFFSET)
        );
        let celsius: Vec<f64> = positions
            .iter()
            .zip(&kelvin)
            .filter(|(p, t)| **t != i16::MIN && inside(**p, SIBERIA_EXTENT))
            .map(|(_, &t)| f64::from(t) * LST_SCALE + LST_OFFSET - 273.15)
            .collect();
        let max = celsius.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mean = celsius.iter().sum::<f64>() / celsius.len() as f64;
        assert!(close(max, lst["max_lst_c"].as_f64().unwrap(), 0.006));
        assert!(close(mean, lst["mean_lst_c"].as_f64().unwrap(), 0.006));
        assert!(
            max > 38.0 && mean > 15.0 && mean < 32.0,
            "a heat wave: max {max}, mean {mean}"
        );
        assert_eq!(celsius.len() as u64, lst["pixels"].as_u64().unwrap());
    }
}
