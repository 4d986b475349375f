//! Sentinel-2 products of the demo archive: real SAFE structure (manifest,
//! `MTD_MSIL2A.xml`/`MTD_MSIL1C.xml`, granule `MTD_TL.xml`, JPEG 2000 bands
//! named as ESA names them), in the tile's UTM CRS on the real tile's pixel
//! grid, but covering only the tutorial's area (reduced extent, full
//! resolution).
//!
//! Value conventions: every product here predates processing baseline 04.00
//! (January 2022), so, as in the real N0206–N0214 products, a band stores
//! `DN = reflectance x 10000` (`BOA_QUANTIFICATION_VALUE` or
//! `QUANTIFICATION_VALUE` 10000), no offset, 0 = no data. The writer can also
//! write the 04.00+ convention (`BOA_ADD_OFFSET` -1000, `DN = reflectance x
//! 10000 + 1000`), which the tests use to check that readers honour it.
//!
//! Scenes are surface reflectance spectra mixed from a few materials, so the
//! indices the tutorials compute show them: vegetation is bright in the NIR,
//! burn scars in the SWIR, water is dark in the NIR, snow bright in green and
//! dark in the SWIR, oil darkens water, floating debris raises the NIR of the
//! sea. They are drawn with the landscape toolkit (`landscape.rs`): textured
//! canopies, field and town parcels, fractal edges, and coasts where Natural
//! Earth puts them; a pixel's recorded fraction is what was drawn there.

use super::{ArchiveBuilder, DemoError, Packing, ProductSpec, scene_rng};
use chrono::{Duration, NaiveDateTime};
use cleope_eo::products::names;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use gdal::{Dataset, DriverManager};
use rand::Rng;
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The 13 MSI bands, in the order of the metadata's band ids (0 to 12).
pub const BANDS: [&str; 13] = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
];
/// Central wavelengths of Sentinel-2A (nm), by band id.
pub const WAVELENGTH_NM: [f64; 13] = [
    442.7, 492.4, 559.8, 664.6, 704.1, 740.5, 782.8, 832.8, 864.7, 945.1, 1373.5, 1613.7, 2202.4,
];
/// Native resolution (m) of each band.
pub const NATIVE_RESOLUTION: [u32; 13] = [60, 10, 10, 10, 20, 20, 20, 10, 20, 60, 60, 20, 20];

const B02: usize = 1;
const B03: usize = 2;
const B04: usize = 3;
const B08: usize = 7;
const B8A: usize = 8;
const B11: usize = 11;

/// Side of a Sentinel-2 tile (m).
const TILE_SIZE: f64 = 109_800.0;

/// Reflectance of the 13 bands, by band id.
type Spectrum = [f32; 13];

/// The tutorial areas (lon_min, lat_min, lon_max, lat_max), recorded in truth.json.
pub const FIRES_AOI: [f64; 4] = [150.36, -35.42, 150.46, -35.34];
pub const OIL_AOI: [f64; 4] = [57.68, -20.45, 57.79, -20.365];
pub const PLASTIC_AOI: [f64; 4] = [35.42, 33.86, 35.50, 33.92];
pub const SNOW_AOI: [f64; 4] = [-3.40, 37.03, -3.28, 37.09];
pub const KRAKATOA_AOI: [f64; 4] = [105.0, -6.2, 105.5, -5.8];
const DISCOVER_AOI: [f64; 4] = [144.17, -5.03, 144.23, -4.97];

/// The ship grounded at Pointe d'Esny (MV Wakashio), lon/lat.
pub const WAKASHIO: (f64, f64) = (57.758, -20.438);

/// The Floating Debris Index's baseline factor: `(λ_NIR − λ_RED) / (λ_SWIR1 − λ_RED) x 10`
/// with B8A, B04 and B11 (Biermann et al. 2020), as CLEOPE's `lc`.
pub const FDI_FACTOR: f64 = (864.7 - 664.6) / (1613.7 - 664.6) * 10.0;

/// Writes every Sentinel-2 product the tutorials use (and, on request, one
/// full-size tile for benchmarks).
pub fn write(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    fires(builder)?;
    oil(builder)?;
    plastic(builder)?;
    snow(builder)?;
    krakatoa(builder)?;
    discover(builder)?;
    if builder.options().full_size_tile {
        full_size_tile(builder)?;
    }
    builder.truth(
        "s2_conventions",
        "note",
        json!(
            "L2A bands: DN = reflectance x 10000, no offset (baselines before 04.00); 0 = no data"
        ),
    );
    builder.truth("s2_conventions", "quantification", json!(10000));
    builder.truth("s2_conventions", "offset", json!(0));
    builder.truth("s2_conventions", "fdi_factor", json!(FDI_FACTOR));
    Ok(())
}

// ---------------------------------------------------------------------------
// Materials

/// Surface reflectance of the materials the scenes mix, by band id
/// (B01 B02 B03 B04 B05 B06 B07 B08 B8A B09 B10 B11 B12).
mod material {
    use super::Spectrum;
    pub const SEA: Spectrum = [
        0.075, 0.065, 0.050, 0.025, 0.014, 0.008, 0.007, 0.006, 0.005, 0.004, 0.001, 0.003, 0.002,
    ];
    pub const LAGOON: Spectrum = [
        0.085, 0.090, 0.110, 0.060, 0.035, 0.012, 0.010, 0.009, 0.008, 0.005, 0.001, 0.003, 0.002,
    ];
    pub const TURBID: Spectrum = [
        0.090, 0.085, 0.100, 0.085, 0.050, 0.008, 0.007, 0.007, 0.006, 0.004, 0.001, 0.003, 0.002,
    ];
    pub const FOREST: Spectrum = [
        0.025, 0.030, 0.055, 0.030, 0.085, 0.220, 0.290, 0.320, 0.340, 0.330, 0.005, 0.160, 0.075,
    ];
    pub const GRASS: Spectrum = [
        0.040, 0.045, 0.080, 0.055, 0.120, 0.250, 0.300, 0.330, 0.350, 0.340, 0.006, 0.220, 0.120,
    ];
    pub const BURNED: Spectrum = [
        0.035, 0.030, 0.033, 0.038, 0.065, 0.080, 0.090, 0.100, 0.105, 0.100, 0.004, 0.190, 0.175,
    ];
    pub const URBAN: Spectrum = [
        0.100, 0.100, 0.110, 0.120, 0.140, 0.160, 0.170, 0.200, 0.220, 0.190, 0.010, 0.220, 0.140,
    ];
    pub const SAND: Spectrum = [
        0.150, 0.170, 0.220, 0.270, 0.300, 0.320, 0.340, 0.360, 0.370, 0.360, 0.010, 0.400, 0.280,
    ];
    pub const ROCK: Spectrum = [
        0.090, 0.100, 0.130, 0.160, 0.180, 0.200, 0.220, 0.240, 0.250, 0.240, 0.010, 0.300, 0.240,
    ];
    pub const SNOW: Spectrum = [
        0.900, 0.880, 0.870, 0.850, 0.830, 0.800, 0.770, 0.740, 0.720, 0.600, 0.020, 0.080, 0.050,
    ];
    pub const OIL: Spectrum = [
        0.030, 0.025, 0.028, 0.025, 0.015, 0.008, 0.007, 0.006, 0.005, 0.004, 0.001, 0.002, 0.001,
    ];
    /// Sea whose surface is about a quarter covered by floating debris.
    pub const DEBRIS: Spectrum = [
        0.080, 0.075, 0.068, 0.050, 0.042, 0.035, 0.040, 0.046, 0.045, 0.035, 0.002, 0.022, 0.014,
    ];
    pub const HULL: Spectrum = [
        0.250, 0.250, 0.220, 0.200, 0.200, 0.200, 0.200, 0.200, 0.200, 0.180, 0.010, 0.150, 0.120,
    ];
    pub const FOAM: Spectrum = [
        0.400, 0.420, 0.420, 0.400, 0.380, 0.350, 0.330, 0.300, 0.290, 0.200, 0.010, 0.080, 0.050,
    ];
    pub const LAVA: Spectrum = [
        0.050, 0.050, 0.055, 0.060, 0.065, 0.070, 0.075, 0.080, 0.082, 0.080, 0.005, 0.090, 0.080,
    ];
    pub const ASH_PLUME: Spectrum = [
        0.330, 0.320, 0.310, 0.300, 0.300, 0.295, 0.290, 0.285, 0.280, 0.250, 0.020, 0.240, 0.200,
    ];
    /// Dry, eucalypt forest: greyer than broadleaf canopy.
    pub const EUCALYPT: Spectrum = [
        0.028, 0.032, 0.055, 0.040, 0.090, 0.200, 0.250, 0.275, 0.290, 0.280, 0.005, 0.170, 0.085,
    ];
    /// Lowland rainforest: a dark, dense canopy, very bright in the NIR.
    pub const RAINFOREST: Spectrum = [
        0.018, 0.020, 0.045, 0.020, 0.080, 0.250, 0.330, 0.360, 0.380, 0.370, 0.004, 0.150, 0.060,
    ];
    /// Sugar cane at full growth.
    pub const CANE: Spectrum = [
        0.030, 0.035, 0.075, 0.035, 0.110, 0.300, 0.380, 0.420, 0.440, 0.420, 0.005, 0.200, 0.090,
    ];
    pub const SOIL: Spectrum = [
        0.070, 0.080, 0.110, 0.150, 0.180, 0.200, 0.215, 0.230, 0.240, 0.240, 0.008, 0.300, 0.250,
    ];
    /// Moderately burned: scorched crowns and litter, some NIR left.
    pub const SCORCHED: Spectrum = [
        0.050, 0.050, 0.065, 0.085, 0.110, 0.130, 0.140, 0.150, 0.155, 0.150, 0.005, 0.210, 0.190,
    ];
    pub const ROOF: Spectrum = [
        0.120, 0.135, 0.145, 0.150, 0.190, 0.200, 0.210, 0.230, 0.240, 0.230, 0.012, 0.280, 0.220,
    ];
    pub const ASPHALT: Spectrum = [
        0.060, 0.065, 0.070, 0.075, 0.080, 0.085, 0.088, 0.090, 0.092, 0.090, 0.004, 0.100, 0.090,
    ];
    /// Sediment-laden river water.
    pub const SEDIMENT: Spectrum = [
        0.080, 0.075, 0.095, 0.095, 0.085, 0.040, 0.035, 0.032, 0.028, 0.015, 0.001, 0.005, 0.003,
    ];
    /// A shallow lagoon over white coral sand: turquoise.
    pub const SHALLOW: Spectrum = [
        0.095, 0.100, 0.118, 0.055, 0.040, 0.014, 0.012, 0.011, 0.010, 0.006, 0.001, 0.003, 0.002,
    ];
    pub const CLOUD: Spectrum = [
        0.650, 0.640, 0.630, 0.620, 0.620, 0.610, 0.600, 0.600, 0.590, 0.550, 0.150, 0.420, 0.300,
    ];
}

fn mix(a: &Spectrum, b: &Spectrum, t: f32) -> Spectrum {
    let t = t.clamp(0.0, 1.0);
    std::array::from_fn(|i| a[i] + (b[i] - a[i]) * t)
}

fn brighten(a: &Spectrum, factor: f64) -> Spectrum {
    a.map(|v| v * factor as f32)
}

// ---------------------------------------------------------------------------
// Deterministic textures and noise

use super::landscape::texture::{self, fractal, ridged, warp};
use super::landscape::{Coast, Parcels, River, cloud, natural_shore, turbidity};

/// The seed of a scene's textures (shared by all its dates) or of a product's noise.
fn seed_of(name: &str) -> u64 {
    scene_rng(name).random::<u64>()
}

// ---------------------------------------------------------------------------
// Tiles: the MGRS grid of Sentinel-2

/// A Sentinel-2 tile: its UTM zone and the upper-left corner of its grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Tile {
    /// MGRS id, e.g. "56HKF".
    pub id: String,
    pub zone: u32,
    pub south: bool,
    /// Upper-left corner (m): the 100 km MGRS square's north-west corner on the 60 m grid.
    pub ulx: f64,
    pub uly: f64,
}

impl Tile {
    /// The tile `id` ("56HKF"): the square's easting from its column letter,
    /// its northing from the row letter and the latitude band (the MGRS rules).
    pub fn parse(id: &str) -> Tile {
        let zone: u32 = id[..2].parse().expect("a two-digit UTM zone");
        let letters: Vec<char> = id[2..].chars().collect();
        let (band, column, row) = (letters[0], letters[1], letters[2]);
        let column_sets = ["STUVWXYZ", "ABCDEFGH", "JKLMNPQR"];
        let column_index = column_sets[(zone % 3) as usize]
            .find(column)
            .expect("a column letter of the zone's set");
        let easting = (column_index as f64 + 1.0) * 100_000.0;
        let rows = "ABCDEFGHJKLMNPQRSTUV";
        let mut row_index = rows.find(row).expect("a row letter");
        if zone.is_multiple_of(2) {
            row_index = (row_index + 15) % 20;
        }
        let mut northing = row_index as f64 * 100_000.0;
        while northing < band_min_northing(band) {
            northing += 2_000_000.0;
        }
        Tile {
            id: id.to_string(),
            zone,
            south: band < 'N',
            ulx: (easting / 60.0).floor() * 60.0,
            uly: ((northing + 100_000.0) / 60.0).ceil() * 60.0,
        }
    }

    /// The EPSG code of the tile's UTM zone (WGS 84).
    pub fn epsg(&self) -> u32 {
        (if self.south { 32700 } else { 32600 }) + self.zone
    }

    fn transform(&self, to_utm: bool) -> Result<CoordTransform, DemoError> {
        let srs = |code: u32| {
            let mut srs = SpatialRef::from_epsg(code)
                .map_err(|e| DemoError::product(&self.id, format!("EPSG:{code}: {e}")))?;
            srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
            Ok::<_, DemoError>(srs)
        };
        let (wgs84, utm) = (srs(4326)?, srs(self.epsg())?);
        let (from, to) = if to_utm {
            (&wgs84, &utm)
        } else {
            (&utm, &wgs84)
        };
        CoordTransform::new(from, to).map_err(|e| DemoError::product(&self.id, e))
    }

    fn convert(&self, points: &[(f64, f64)], to_utm: bool) -> Result<Vec<(f64, f64)>, DemoError> {
        let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
        self.transform(to_utm)?
            .transform_coords(&mut xs, &mut ys, &mut [])
            .map_err(|e| DemoError::product(&self.id, e))?;
        Ok(xs.into_iter().zip(ys).collect())
    }

    /// Lon/lat points in the tile's UTM coordinates.
    pub fn to_utm(&self, points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, DemoError> {
        self.convert(points, true)
    }

    /// UTM points in lon/lat.
    pub fn to_lonlat(&self, points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, DemoError> {
        self.convert(points, false)
    }

    /// The part of the tile covering a lon/lat box: its edges projected, the
    /// enclosing box snapped outwards to the tile's 60 m grid, kept inside the tile.
    pub fn extent_of(&self, [x0, y0, x1, y1]: [f64; 4]) -> Result<Extent, DemoError> {
        let mut edge = Vec::new();
        for i in 0..=20 {
            let t = i as f64 / 20.0;
            let (x, y) = (x0 + (x1 - x0) * t, y0 + (y1 - y0) * t);
            edge.extend([(x, y0), (x, y1), (x0, y), (x1, y)]);
        }
        let utm = self.to_utm(&edge)?;
        let min_x = utm.iter().map(|p| p.0).fold(f64::INFINITY, f64::min);
        let max_x = utm.iter().map(|p| p.0).fold(f64::NEG_INFINITY, f64::max);
        let min_y = utm.iter().map(|p| p.1).fold(f64::INFINITY, f64::min);
        let max_y = utm.iter().map(|p| p.1).fold(f64::NEG_INFINITY, f64::max);
        let left = ((min_x - self.ulx) / 60.0).floor().max(0.0) * 60.0 + self.ulx;
        let right = (((max_x - self.ulx) / 60.0).ceil() * 60.0).min(TILE_SIZE) + self.ulx;
        let top = self.uly - ((self.uly - max_y) / 60.0).floor().max(0.0) * 60.0;
        let bottom = self.uly - (((self.uly - min_y) / 60.0).ceil() * 60.0).min(TILE_SIZE);
        if right <= left || top <= bottom {
            return Err(DemoError::product(
                &self.id,
                format!("the area {x0},{y0},{x1},{y1} is outside the tile"),
            ));
        }
        Ok(Extent {
            left,
            top,
            width: right - left,
            height: top - bottom,
        })
    }
}

/// The minimum northing of an MGRS latitude band (southern bands include the
/// 10,000 km false northing).
fn band_min_northing(band: char) -> f64 {
    let table = [
        ('C', 1_100_000.0),
        ('D', 2_000_000.0),
        ('E', 2_800_000.0),
        ('F', 3_700_000.0),
        ('G', 4_600_000.0),
        ('H', 5_500_000.0),
        ('J', 6_400_000.0),
        ('K', 7_300_000.0),
        ('L', 8_200_000.0),
        ('M', 9_100_000.0),
        ('N', 0.0),
        ('P', 800_000.0),
        ('Q', 1_700_000.0),
        ('R', 2_600_000.0),
        ('S', 3_500_000.0),
        ('T', 4_400_000.0),
        ('U', 5_300_000.0),
        ('V', 6_200_000.0),
        ('W', 7_000_000.0),
        ('X', 7_900_000.0),
    ];
    table
        .iter()
        .find(|(letter, _)| *letter == band)
        .map(|(_, northing)| *northing)
        .expect("a latitude band letter C to X")
}

/// A rectangle of a tile in UTM metres, a multiple of 60 m on each side.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extent {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
}

impl Extent {
    /// Pixels across and down at `resolution` metres.
    pub fn size(&self, resolution: u32) -> (usize, usize) {
        (
            (self.width / resolution as f64).round() as usize,
            (self.height / resolution as f64).round() as usize,
        )
    }

    fn corners(&self) -> [(f64, f64); 4] {
        let (right, bottom) = (self.left + self.width, self.top - self.height);
        [
            (self.left, bottom),
            (right, bottom),
            (right, self.top),
            (self.left, self.top),
        ]
    }
}

// ---------------------------------------------------------------------------
// Scenes

/// What a scene shows at one place: the surface reflectance and a
/// scene-specific fraction (burned, oil, debris, snow...) whose truth is recorded.
#[derive(Debug, Clone, Copy)]
struct Sample {
    reflectance: Spectrum,
    tag: f32,
}

impl Sample {
    fn plain(reflectance: Spectrum) -> Sample {
        Sample {
            reflectance,
            tag: 0.0,
        }
    }

    fn average(samples: &[Sample]) -> Sample {
        let n = samples.len() as f32;
        let mut out = Sample {
            reflectance: [0.0; 13],
            tag: 0.0,
        };
        for s in samples {
            for (o, v) in out.reflectance.iter_mut().zip(s.reflectance) {
                *o += v / n;
            }
            out.tag += s.tag / n;
        }
        out
    }
}

/// A landscape in a tile's UTM coordinates.
trait Scene: Sync {
    fn sample(&self, x: f64, y: f64) -> Sample;
}

/// Points given in lon/lat, in the tile's UTM metres relative to an anchor.
struct Local {
    anchor: (f64, f64),
}

impl Local {
    fn new(tile: &Tile, lon: f64, lat: f64) -> Result<Local, DemoError> {
        Ok(Local {
            anchor: tile.to_utm(&[(lon, lat)])?[0],
        })
    }

    fn offset(&self, x: f64, y: f64) -> (f64, f64) {
        (x - self.anchor.0, y - self.anchor.1)
    }

    fn of(&self, tile: &Tile, lon: f64, lat: f64) -> Result<(f64, f64), DemoError> {
        let (x, y) = tile.to_utm(&[(lon, lat)])?[0];
        Ok(self.offset(x, y))
    }

    /// The real coast around the part of the tile covering `aoi`, in local
    /// metres, on cells of 30 m (Natural Earth's 1:10m vertices are a few
    /// hundred metres apart).
    fn coast(&self, tile: &Tile, aoi: [f64; 4]) -> Result<Coast, DemoError> {
        const CELL: f64 = 30.0;
        const MARGIN: f64 = 1500.0;
        let extent = tile.extent_of(aoi)?;
        let corner = self.offset(extent.left - MARGIN, extent.top + MARGIN);
        let cells = |metres: f64| ((metres + 2.0 * MARGIN) / CELL).ceil() as usize;
        let size = (cells(extent.width), cells(extent.height));
        Coast::new(corner, CELL, size, |points| {
            let utm: Vec<(f64, f64)> = points
                .iter()
                .map(|&(x, y)| (x + self.anchor.0, y + self.anchor.1))
                .collect();
            tile.to_lonlat(&utm)
        })
    }
}

/// The slope (east, north) of a terrain `height(x, y)` (m) at a place.
fn gradient(height: impl Fn(f64, f64) -> f64, x: f64, y: f64) -> (f64, f64) {
    const STEP: f64 = 20.0;
    let here = height(x, y);
    (
        (height(x + STEP, y) - here) / STEP,
        (height(x, y + STEP) - here) / STEP,
    )
}

/// Brightness of a slope `(east, north)` in the sun (`sun` the unit vector
/// towards it, east, north, up): 1 on flat ground, brighter facing the sun,
/// darker facing away.
fn hillshade((gx, gy): (f64, f64), sun: (f64, f64, f64)) -> f64 {
    let lit = (-gx * sun.0 - gy * sun.1 + sun.2) / (gx * gx + gy * gy + 1.0).sqrt();
    (lit / sun.2).clamp(0.3, 1.6)
}

/// An ellipse: centre (local m), half axes (m) and orientation (degrees from east).
type Ellipse = ((f64, f64), (f64, f64), f64);

/// A rotated ellipse's "inside" value: below 1 inside, 1 on the edge.
fn ellipse(dx: f64, dy: f64, (cx, cy): (f64, f64), (a, b): (f64, f64), angle_deg: f64) -> f64 {
    let (s, c) = angle_deg.to_radians().sin_cos();
    let (u, v) = (dx - cx, dy - cy);
    let (along, across) = (u * c + v * s, -u * s + v * c);
    ((along / a).powi(2) + (across / b).powi(2)).sqrt()
}

/// A soft 0–1 edge: 1 well inside (`inside` < 1), 0 outside, over `feather` of the radius.
fn soft(inside: f64, feather: f64) -> f32 {
    ((1.0 - inside) / feather + 0.5).clamp(0.0, 1.0) as f32
}

/// The NSW south coast near Ulladulla: eucalypt forest on rolling hills,
/// pasture and a town on the coastal plain, a coastal lake, the Tasman Sea
/// on the real coast, and the Currowan fire's scar, whose size is `radius`.
struct Fires {
    local: Local,
    coast: Coast,
    seed: u64,
    radius: f64,
}

impl Fires {
    const CENTRE: (f64, f64) = (-1500.0, 800.0);
    /// Towards the sun, 10 a.m. in December: high in the east-north-east.
    const SUN: (f64, f64, f64) = (0.554, 0.148, 0.819);

    fn new(tile: &Tile, radius: f64) -> Result<Fires, DemoError> {
        let local = Local::new(tile, 150.41, -35.38)?;
        Ok(Fires {
            coast: local.coast(tile, FIRES_AOI)?,
            local,
            seed: seed_of("s2-fires"),
            radius,
        })
    }

    /// How much of the place burned (0 to 1): inside a lobed outline whose
    /// edge is warped into fractal tongues, scaled by the date's radius,
    /// around unburned islands, so each date's scar holds the one before.
    fn burned(&self, dx: f64, dy: f64) -> f32 {
        let (wx, wy) = warp(self.seed ^ 0xB1, dx, dy, 1600.0, 650.0);
        let (u, v) = (wx - Self::CENTRE.0, wy - Self::CENTRE.1);
        let angle = v.atan2(u);
        let reach = self.radius
            * (1.0 + 0.22 * (3.0 * angle + 0.7).sin() + 0.12 * (5.0 * angle + 2.1).sin());
        let inside = (u * u + v * v).sqrt() / reach;
        let island = fractal(self.seed ^ 0xB0, dx, dy, 500.0, 3) > 0.5;
        if island {
            0.0
        } else {
            soft(inside, 15.0 / reach)
        }
    }

    /// How badly the burned ground burned, from 0 (scorched crowns, some
    /// leaves left) to 1 (crown fire, ash), in patches.
    fn severity(&self, dx: f64, dy: f64) -> f32 {
        (0.75 + 0.8 * fractal(self.seed ^ 0x5E, dx, dy, 900.0, 4)).clamp(0.0, 1.0) as f32
    }

    /// Height (m) of the rolling, dissected hills.
    fn terrain(&self, dx: f64, dy: f64) -> f64 {
        let (wx, wy) = warp(self.seed ^ 0x7D, dx, dy, 2000.0, 400.0);
        120.0 * fractal(self.seed ^ 0x7E, wx, wy, 3000.0, 4)
            + 25.0 * ridged(self.seed ^ 0x7F, wx, wy, 900.0, 2)
    }

    /// The Tasman Sea: deep blue, greener and murkier near the shore, a
    /// line of surf on the beach.
    fn sea(&self, dx: f64, dy: f64, offshore: f64) -> Spectrum {
        let murk = turbidity(self.seed ^ 0x7A, dx, dy, offshore, 500.0) * 0.6;
        let water = mix(&material::SEA, &material::TURBID, murk);
        let surf = (1.0 - offshore / 25.0).clamp(0.0, 1.0) as f32 * 0.5;
        mix(&water, &material::FOAM, surf)
    }

    /// The town: roofs among gardens, tree-lined streets (never as dark
    /// in the SWIR as a burn scar: its NBR stays above 0.1).
    fn town(&self, dx: f64, dy: f64) -> Spectrum {
        let block = Parcels::new(self.seed ^ 0x70, 70.0, 15.0, 1.6).at(dx, dy);
        if block.edge < 6.0 {
            return mix(&material::URBAN, &material::ASPHALT, 0.5);
        }
        let roofs = 0.2 + 0.6 * block.vigour as f32;
        mix(&material::GRASS, &material::URBAN, roofs)
    }

    /// Pasture parcels: grass of each field's vigour, a few ploughed,
    /// trees along the hedges.
    fn farmland(&self, dx: f64, dy: f64) -> Spectrum {
        let field = Parcels::new(self.seed ^ 0xF1, 380.0, 30.0, 2.4).at(dx, dy);
        let grass = brighten(&material::GRASS, 0.85 + 0.25 * field.vigour);
        if field.edge < 5.0 {
            return mix(&grass, &material::EUCALYPT, 0.6);
        }
        let ploughed = if field.kind < 0.15 { 0.3 } else { 0.0 };
        mix(&grass, &material::SOIL, ploughed)
    }

    /// Eucalypt forest: crowns, stands of differing vigour.
    fn forest(&self, dx: f64, dy: f64) -> Spectrum {
        let stands = fractal(self.seed, dx, dy, 700.0, 3);
        let crowns = texture::value(self.seed ^ 0xC2, dx, dy, 25.0);
        brighten(&material::EUCALYPT, 1.0 + 0.14 * stands + 0.08 * crowns)
    }

    fn land(&self, dx: f64, dy: f64, inland: f64) -> (Spectrum, bool) {
        let (wx, wy) = warp(self.seed ^ 0x71, dx, dy, 600.0, 250.0);
        if ellipse(wx, wy, (1500.0, -2200.0), (700.0, 350.0), 30.0) < 1.0 {
            let murk = 0.25 + 0.15 * fractal(self.seed ^ 0x1A, dx, dy, 300.0, 3) as f32;
            return (mix(&material::SEA, &material::TURBID, murk), false);
        }
        if ellipse(wx, wy, (2800.0, -2700.0), (650.0, 450.0), 40.0) < 1.0 {
            return (self.town(dx, dy), false);
        }
        let plain = 2200.0 + 900.0 * fractal(self.seed ^ 0xF2, dx, dy, 2500.0, 3);
        if inland < plain {
            (self.farmland(dx, dy), true)
        } else {
            (self.forest(dx, dy), true)
        }
    }
}

impl Scene for Fires {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        let shore = natural_shore(&self.coast, self.seed, dx, dy, 160.0);
        if shore < 0.0 {
            return Sample::plain(self.sea(dx, dy, -shore));
        }
        if shore < 30.0 {
            return Sample::plain(material::SAND);
        }
        let (land, flammable) = self.land(dx, dy, shore);
        let shade = hillshade(gradient(|x, y| self.terrain(x, y), dx, dy), Self::SUN);
        let burned = if flammable { self.burned(dx, dy) } else { 0.0 };
        let ash = mix(
            &material::SCORCHED,
            &material::BURNED,
            self.severity(dx, dy),
        );
        Sample {
            reflectance: brighten(&mix(&land, &ash, burned), shade),
            tag: burned,
        }
    }
}

/// Mauritius' south-east coast at Pointe d'Esny, on the real coast: sugar
/// cane and Mahébourg ashore, the turquoise lagoon inside the reef, the
/// open ocean, the grounded MV Wakashio on the reef and its oil drifting
/// across the lagoon onto the shore.
struct Oil {
    local: Local,
    coast: Coast,
    ship: (f64, f64),
    /// The reef's distance from the shore (m): the ship lies just outside it.
    reef: f64,
    town: (f64, f64),
    seed: u64,
}

impl Oil {
    /// The coast's general direction (degrees from east), for the stretch
    /// of shore the oil reached.
    const COAST_ANGLE: f64 = 40.0;
    /// Where the wind pushes the oil (degrees from east): across the lagoon.
    const DRIFT: f64 = 125.0;
    /// Mahébourg, lon/lat.
    const TOWN: (f64, f64) = (57.703, -20.407);

    fn new(tile: &Tile) -> Result<Oil, DemoError> {
        let local = Local::new(tile, 57.735, -20.4075)?;
        let ship = local.of(tile, WAKASHIO.0, WAKASHIO.1)?;
        let coast = local.coast(tile, OIL_AOI)?;
        let reef = -coast.distance(ship.0, ship.1) - 120.0;
        Ok(Oil {
            town: local.of(tile, Self::TOWN.0, Self::TOWN.1)?,
            local,
            coast,
            ship,
            reef,
            seed: seed_of("s2-oil"),
        })
    }

    /// Distance along the coast's general direction.
    fn along_coast(dx: f64, dy: f64) -> f64 {
        let (s, c) = Self::COAST_ANGLE.to_radians().sin_cos();
        dx * c + dy * s
    }

    /// How much of the place oil covers: a streaky plume with ragged edges
    /// widening downwind of the ship, and oil stranded along the shore
    /// where it lands.
    fn oil(&self, dx: f64, dy: f64, offshore: f64) -> f32 {
        let (s, c) = Self::DRIFT.to_radians().sin_cos();
        let (wx, wy) = warp(self.seed ^ 0x01, dx, dy, 700.0, 140.0);
        let (u, v) = (wx - self.ship.0, wy - self.ship.1);
        let (downwind, across) = (u * c + v * s, -u * s + v * c);
        let mut density = 0.0;
        if (-150.0..4500.0).contains(&downwind) {
            let width = 150.0 + downwind.max(0.0) * 0.28;
            let fade = (1.0 - downwind / 5000.0).clamp(0.0, 1.0);
            let streaks = fractal(self.seed ^ 0x0E, downwind / 5.0, across, 120.0, 3);
            density = (-(across / width).powi(2)).exp() * fade * (0.8 + 0.7 * streaks);
        }
        let ship_along = Self::along_coast(self.ship.0, self.ship.1);
        let landed = (Self::along_coast(dx, dy) - ship_along + 2600.0).abs() < 1700.0;
        if landed && offshore < 420.0 {
            let patches = fractal(self.seed ^ 0x5E, dx, dy, 200.0, 2);
            density = f64::max(density, 0.7 + 0.6 * patches);
        }
        ((density - 0.5) / 0.08 + 0.5).clamp(0.0, 1.0) as f32
    }

    /// Ashore: sugar cane fields (some harvested), Mahébourg's streets,
    /// forest on the hills inland.
    fn land(&self, dx: f64, dy: f64, inland: f64) -> Spectrum {
        let (wx, wy) = warp(self.seed ^ 0x71, dx, dy, 500.0, 200.0);
        if ellipse(wx, wy, self.town, (900.0, 700.0), 40.0) < 1.0 {
            let block = Parcels::new(self.seed ^ 0x70, 60.0, 40.0, 1.5).at(dx, dy);
            if block.edge < 5.0 {
                return material::ASPHALT;
            }
            return mix(&material::ROOF, &material::GRASS, 0.5 * block.vigour as f32);
        }
        let hills = 2500.0 + 800.0 * fractal(self.seed ^ 0x41, dx, dy, 2000.0, 3);
        let texture = fractal(self.seed, dx, dy, 350.0, 3);
        if inland > hills {
            return brighten(&material::FOREST, 1.0 + 0.12 * texture);
        }
        let field = Parcels::new(self.seed ^ 0xF1, 330.0, 40.0, 2.4).at(dx, dy);
        let cane = brighten(&material::CANE, 0.85 + 0.25 * field.vigour);
        if field.edge < 4.0 {
            return mix(&cane, &material::SOIL, 0.5);
        }
        let harvested = if field.kind < 0.15 { 0.5 } else { 0.0 };
        mix(&cane, &material::SOIL, harvested + 0.1 * field.soil as f32)
    }

    /// The sea: turquoise over the lagoon's sand, darker over coral heads,
    /// surf on the reef, deep blue beyond.
    fn water(&self, dx: f64, dy: f64, offshore: f64) -> Spectrum {
        let texture = fractal(self.seed, dx, dy, 350.0, 3);
        let reef = self.reef + 250.0 * fractal(self.seed ^ 0x4E, dx, dy, 1500.0, 5);
        let water = if offshore < reef {
            let depth = (offshore / reef) as f32 * 0.6;
            let coral = (fractal(self.seed ^ 0xC0, dx, dy, 150.0, 3) - 0.1).clamp(0.0, 0.5);
            let lagoon = mix(&material::SHALLOW, &material::LAGOON, depth);
            mix(&lagoon, &material::SEA, coral as f32)
        } else if offshore < reef + 150.0 {
            mix(
                &material::LAGOON,
                &material::FOAM,
                0.3 + 0.2 * texture as f32,
            )
        } else {
            material::SEA
        };
        brighten(&water, 1.0 + 0.03 * texture)
    }
}

impl Scene for Oil {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        let shore = natural_shore(&self.coast, self.seed, dx, dy, 90.0);
        if shore > 25.0 {
            return Sample::plain(self.land(dx, dy, shore));
        }
        if shore > 0.0 {
            return Sample::plain(material::SAND);
        }
        if ellipse(dx, dy, self.ship, (150.0, 25.0), 60.0) < 1.0 {
            return Sample::plain(material::HULL);
        }
        let islet = ellipse(dx, dy, (-185.0, -2113.0), (400.0, 250.0), 40.0)
            + 0.15 * fractal(self.seed ^ 0x15, dx, dy, 300.0, 3);
        if islet < 1.0 {
            let texture = fractal(self.seed, dx, dy, 350.0, 3);
            return Sample::plain(brighten(&material::FOREST, 1.0 + 0.1 * texture));
        }
        let offshore = -shore;
        let oil = self.oil(dx, dy, offshore);
        Sample {
            reflectance: mix(&self.water(dx, dy, offshore), &material::OIL, oil),
            tag: oil,
        }
    }
}

/// Ras Beirut on the real Lebanese coast: the city's dense blocks and
/// streets down to a rocky shore, turbid swirls along it, and windrows of
/// floating debris out at sea.
struct Plastic {
    local: Local,
    coast: Coast,
    seed: u64,
}

impl Plastic {
    /// Debris windrows: centre (local m), half axes (m), orientation (deg).
    const PATCHES: [Ellipse; 6] = [
        ((900.0, -600.0), (220.0, 35.0), 20.0),
        ((300.0, -1100.0), (160.0, 30.0), 25.0),
        ((-200.0, -400.0), (260.0, 40.0), 15.0),
        ((-900.0, -900.0), (180.0, 30.0), 30.0),
        ((500.0, 200.0), (120.0, 35.0), 10.0),
        ((-600.0, 600.0), (200.0, 30.0), 22.0),
    ];

    fn new(tile: &Tile) -> Result<Plastic, DemoError> {
        let local = Local::new(tile, 35.46, 33.89)?;
        Ok(Plastic {
            coast: local.coast(tile, PLASTIC_AOI)?,
            local,
            seed: seed_of("s2-plastic"),
        })
    }

    /// How much of the place debris covers: windrows bent into filaments
    /// by the currents (the warp moves them by tens of metres, not their
    /// centres).
    fn debris(&self, dx: f64, dy: f64) -> f32 {
        let (wx, wy) = warp(self.seed ^ 0xDE, dx, dy, 300.0, 30.0);
        Self::PATCHES
            .iter()
            .map(|&(centre, axes, angle)| soft(ellipse(wx, wy, centre, axes, angle), 0.2))
            .fold(0.0, f32::max)
    }

    /// The city: blocks of roofs on a street grid, a few parks inland
    /// (vegetation on the shore would raise the FDI of mixed pixels).
    fn city(&self, dx: f64, dy: f64, inland: f64) -> Spectrum {
        let block = Parcels::new(self.seed ^ 0x70, 80.0, -25.0, 1.4).at(dx, dy);
        if block.edge < 6.0 {
            return material::ASPHALT;
        }
        if block.kind > 0.92 && inland > 150.0 {
            return brighten(&material::GRASS, 0.8 + 0.3 * block.vigour);
        }
        let roofs = mix(&material::ROOF, &material::URBAN, block.soil as f32);
        brighten(&roofs, 0.8 + 0.4 * block.vigour)
    }
}

impl Scene for Plastic {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        let shore = natural_shore(&self.coast, self.seed, dx, dy, 100.0);
        if shore > 0.0 {
            if shore < 40.0 {
                return Sample::plain(material::ROCK);
            }
            return Sample::plain(self.city(dx, dy, shore));
        }
        let texture = fractal(self.seed, dx, dy, 300.0, 3);
        let murk = turbidity(self.seed ^ 0x7B, dx, dy, -shore, 500.0) * 0.8;
        let water = mix(&material::SEA, &material::TURBID, murk);
        let water = brighten(&water, 1.0 + 0.03 * texture);
        let debris = self.debris(dx, dy);
        Sample {
            reflectance: mix(&water, &material::DEBRIS, debris),
            tag: debris,
        }
    }
}

/// The Sierra Nevada (Spain) around Veleta and Mulhacén in late July:
/// forest below, grass and scree above, ridges and gullies carved in a
/// fractal relief lit by the morning sun, and snow left in the high
/// north-facing gullies.
struct Snow {
    local: Local,
    peaks: Vec<((f64, f64), f64, f64)>,
    lakes: Vec<((f64, f64), f64)>,
    seed: u64,
}

impl Snow {
    /// Towards the sun, 22 July at 10:56 UTC: high in the east-south-east.
    const SUN: (f64, f64, f64) = (0.433, -0.25, 0.866);

    fn new(tile: &Tile) -> Result<Snow, DemoError> {
        let local = Local::new(tile, -3.34, 37.06)?;
        let peak = |lon, lat, height, sigma| {
            Ok::<_, DemoError>((local.of(tile, lon, lat)?, height, sigma))
        };
        let peaks = vec![
            peak(-3.366, 37.057, 380.0, 700.0)?,
            peak(-3.311, 37.053, 480.0, 800.0)?,
            peak(-3.296, 37.059, 330.0, 500.0)?,
        ];
        let lakes = vec![
            (local.of(tile, -3.316, 37.057)?, 80.0),
            (local.of(tile, -3.345, 37.053)?, 60.0),
        ];
        Ok(Snow {
            local,
            peaks,
            lakes,
            seed: seed_of("s2-snow"),
        })
    }

    /// Elevation (m): the range's crest running east-north-east, the
    /// peaks, and ridges and gullies of a warped ridged fractal.
    fn elevation(&self, dx: f64, dy: f64) -> f64 {
        let across = dy - 0.12 * dx + 300.0;
        let mut z = 1650.0 + 1400.0 * (-(across / 2600.0).powi(2)).exp();
        for &((px, py), height, sigma) in &self.peaks {
            z += height * (-((dx - px).powi(2) + (dy - py).powi(2)) / (2.0 * sigma * sigma)).exp();
        }
        let (wx, wy) = warp(self.seed ^ 0xE1, dx, dy, 2500.0, 600.0);
        z + 380.0 * (ridged(self.seed, wx, wy, 2400.0, 5) - 0.45)
    }

    /// How much snow is left: on high ground facing north, in patches.
    fn snow(&self, dx: f64, dy: f64, z: f64, (_, north): (f64, f64)) -> f32 {
        let patches = fractal(self.seed ^ 0x5A, dx, dy, 300.0, 3);
        let score = (z - 3480.0) / 120.0 - north * 10.0 + patches * 1.5 - 0.5;
        (score * 2.0 + 0.5).clamp(0.0, 1.0) as f32
    }

    /// Forest low down, grass and then scree and rock higher up.
    fn ground(&self, dx: f64, dy: f64, z: f64) -> Spectrum {
        let z = z + 120.0 * fractal(self.seed ^ 0x12, dx, dy, 400.0, 3);
        let ground = if z < 2000.0 {
            mix(
                &material::FOREST,
                &material::GRASS,
                ((z - 1700.0) / 300.0) as f32,
            )
        } else if z < 2700.0 {
            mix(
                &material::GRASS,
                &material::ROCK,
                ((z - 2000.0) / 700.0) as f32,
            )
        } else {
            material::ROCK
        };
        let texture = fractal(self.seed ^ 0x11, dx, dy, 200.0, 3);
        brighten(&ground, 1.0 + 0.12 * texture)
    }
}

impl Scene for Snow {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        for &((lx, ly), radius) in &self.lakes {
            if (dx - lx).hypot(dy - ly) < radius {
                return Sample::plain(material::SEA);
            }
        }
        let z = self.elevation(dx, dy);
        let slope = gradient(|x, y| self.elevation(x, y), dx, dy);
        let snow = self.snow(dx, dy, z, slope);
        let surface = mix(&self.ground(dx, dy, z), &material::SNOW, snow);
        Sample {
            reflectance: brighten(&surface, hillshade(slope, Self::SUN)),
            tag: snow,
        }
    }
}

/// The Krakatoa islands in April 2020: Anak Krakatau (dark lava) with its
/// plume drifting south-west, the forested Rakata, Sertung and Panjang, a
/// few cumulus clouds, and calm sea.
struct Krakatoa {
    local: Local,
    islands: Vec<Ellipse>,
    clouds: Vec<(f64, f64, f64)>,
    seed: u64,
}

impl Krakatoa {
    fn new(tile: &Tile) -> Result<Krakatoa, DemoError> {
        let local = Local::new(tile, 105.423, -6.102)?;
        let islands = vec![
            (local.of(tile, 105.44, -6.15)?, (4500.0, 2200.0), 20.0),
            (local.of(tile, 105.35, -6.09)?, (4000.0, 1200.0), -50.0),
            (local.of(tile, 105.46, -6.07)?, (2800.0, 700.0), 60.0),
        ];
        let clouds = vec![
            (-20000.0, 15000.0, 1800.0),
            (-36000.0, 24000.0, 1200.0),
            (-9000.0, 27000.0, 1500.0),
            (-30000.0, -5000.0, 900.0),
        ];
        Ok(Krakatoa {
            local,
            islands,
            clouds,
            seed: seed_of("s2-krakatoa"),
        })
    }
}

impl Scene for Krakatoa {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        let swell = fractal(self.seed, dx, dy, 6000.0, 2);
        let mut surface = brighten(&material::SEA, 1.0 + 0.03 * swell);
        let near_islands = dx.abs() < 14_000.0 && dy.abs() < 14_000.0;
        if near_islands {
            let crater = ellipse(dx, dy, (-300.0, -200.0), (350.0, 250.0), 30.0) < 1.0;
            if ellipse(dx, dy, (0.0, 0.0), (1100.0, 900.0), 20.0) < 1.0 && !crater {
                surface = material::LAVA;
            }
            for &(centre, axes, angle) in &self.islands {
                // The warp is dear: only near the island.
                if ellipse(dx, dy, centre, axes, angle) > 1.6 {
                    continue;
                }
                let (wx, wy) = warp(self.seed ^ 0x15, dx, dy, 1500.0, 500.0);
                let edge = fractal(self.seed ^ 0x16, dx, dy, 400.0, 4) * 0.12;
                if ellipse(wx, wy, centre, axes, angle) < 1.0 + edge {
                    let canopy = fractal(self.seed ^ 0xC0, dx, dy, 300.0, 2);
                    surface = brighten(&material::FOREST, 1.0 + 0.1 * canopy);
                }
            }
        }
        // The plume leaves the vent towards the south-west and widens.
        let (along, across) = (-(dx * 0.8 + dy * 0.6), dx * 0.6 - dy * 0.8);
        if (0.0..14_000.0).contains(&along) {
            let width = 300.0 + along * 0.15;
            let density = (-(across / width).powi(2)).exp() * (1.0 - along / 14_000.0) * 0.55;
            surface = mix(&surface, &material::ASH_PLUME, density as f32);
        }
        for &(cx, cy, radius) in &self.clouds {
            let inside = (dx - cx).hypot(dy - cy) / radius;
            if inside < 1.8 {
                let edge = fractal(self.seed ^ 0xC1, dx, dy, 500.0, 5) * 0.6;
                surface = mix(&surface, &material::CLOUD, soft(inside - edge, 0.3));
            }
        }
        Sample::plain(surface)
    }
}

/// Lowland rainforest in Papua New Guinea: a dark, textured canopy over
/// low hills, a meandering, sediment-laden river with sand bars and paler
/// regrowth along it, a few garden clearings, and scattered cumulus with
/// their shadows (the DISCOVER notebook's L1C product).
struct Rainforest {
    local: Local,
    river: River,
    seed: u64,
}

impl Rainforest {
    /// Towards the sun, 10 November at 00:47 UTC (10:47 local): high in the east.
    const SUN: (f64, f64, f64) = (0.45, 0.12, 0.88);
    /// Where the cloud that shades a place is (m): towards the sun, at
    /// about 1.5 km above the canopy.
    const SHADOW: (f64, f64) = (700.0, 190.0);

    fn new(tile: &Tile) -> Result<Rainforest, DemoError> {
        let seed = seed_of("s2-discover");
        Ok(Rainforest {
            local: Local::new(tile, 144.2, -5.0)?,
            river: River {
                seed,
                origin: (-300.0, 0.0),
                angle_deg: 80.0,
                wavelength: 2200.0,
                amplitude: 550.0,
                width: 70.0,
            },
            seed,
        })
    }

    fn terrain(&self, dx: f64, dy: f64) -> f64 {
        60.0 * fractal(self.seed ^ 0x7E, dx, dy, 1500.0, 4)
    }

    /// The canopy: crowns, stands and a little relief; paler regrowth and
    /// gardens near the river and in a few clearings.
    fn ground(&self, dx: f64, dy: f64, bank: f64) -> Spectrum {
        let crowns = texture::value(self.seed ^ 0xC2, dx, dy, 18.0);
        let stands = fractal(self.seed, dx, dy, 500.0, 3);
        let canopy = brighten(&material::RAINFOREST, 1.0 + 0.18 * crowns + 0.12 * stands);
        let plot = Parcels::new(self.seed ^ 0x6A, 110.0, 20.0, 1.3).at(dx, dy);
        let settled = fractal(self.seed ^ 0x5E, dx, dy, 2500.0, 2) > 0.3 || bank < 500.0;
        if settled && plot.kind > 0.93 && plot.edge > 8.0 {
            let garden = mix(&material::GRASS, &material::SOIL, 0.6 * plot.soil as f32);
            return brighten(&garden, 0.85 + 0.3 * plot.vigour);
        }
        let regrowth = (1.0 - bank / 250.0).clamp(0.0, 1.0) as f32 * 0.6;
        mix(&canopy, &material::GRASS, regrowth)
    }
}

impl Scene for Rainforest {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let (dx, dy) = self.local.offset(x, y);
        let bank = self.river.bank_distance(dx, dy);
        let mut surface = if bank < 0.0 {
            material::SEDIMENT
        } else if bank < 20.0 && fractal(self.seed ^ 0xBA, dx, dy, 250.0, 2) > 0.2 {
            material::SAND
        } else {
            let shade = hillshade(gradient(|x, y| self.terrain(x, y), dx, dy), Self::SUN);
            brighten(&self.ground(dx, dy, bank), shade)
        };
        let (sx, sy) = Self::SHADOW;
        let shadow = cloud(self.seed ^ 0xC1, dx + sx, dy + sy, 900.0, 0.36, 0.1);
        surface = brighten(&surface, 1.0 - 0.55 * shadow as f64);
        let cover = cloud(self.seed ^ 0xC1, dx, dy, 900.0, 0.36, 0.1);
        Sample::plain(mix(&surface, &material::CLOUD, cover))
    }
}

/// The top of the atmosphere as Level-1C sees it: haze added, most in the blue.
struct TopOfAtmosphere<S: Scene>(S);

impl<S: Scene> Scene for TopOfAtmosphere<S> {
    fn sample(&self, x: f64, y: f64) -> Sample {
        const PATH: Spectrum = [
            0.120, 0.090, 0.060, 0.035, 0.025, 0.020, 0.018, 0.015, 0.014, 0.010, 0.003, 0.005,
            0.003,
        ];
        let surface = self.0.sample(x, y);
        Sample {
            reflectance: std::array::from_fn(|i| surface.reflectance[i] * 0.9 + PATH[i]),
            tag: surface.tag,
        }
    }
}

/// A farmland and town landscape filling a whole tile (benchmarks only).
struct Countryside {
    seed: u64,
}

impl Scene for Countryside {
    fn sample(&self, x: f64, y: f64) -> Sample {
        let fields = fractal(self.seed, x, y, 2000.0, 5);
        let texture = fractal(self.seed ^ 0x11, x, y, 150.0, 2);
        let surface = if fields < -0.45 {
            material::SEA
        } else if fields > 0.5 {
            mix(&material::URBAN, &material::GRASS, 0.3)
        } else {
            mix(&material::FOREST, &material::GRASS, (fields + 0.5) as f32)
        };
        Sample::plain(brighten(&surface, 1.0 + 0.1 * texture))
    }
}

// ---------------------------------------------------------------------------
// Products

/// Processing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    L1C,
    L2A,
}

/// One MSI product to write.
#[derive(Debug, Clone)]
pub struct Msi {
    /// The product name without `.SAFE`.
    pub name: String,
    pub tile: Tile,
    /// The lon/lat box the product covers (its extent is the enclosing part of the tile).
    pub aoi: [f64; 4],
    pub absolute_orbit: u32,
    pub online: bool,
    /// Standard deviation of the sensor noise, in DN.
    pub noise_dn: f64,
    /// 1000 for the baseline 04.00+ convention (`DN = reflectance x 10000 + 1000`), else 0.
    pub offset: u16,
    /// Keep the 20 m bands and fractions in memory for truths.
    pub keep_20m: bool,
    /// Keep the 10 m fraction in memory for truths.
    pub keep_10m_tag: bool,
    /// Only these bands (for the full-size benchmark tile); None = all.
    pub only_bands: Option<Vec<&'static str>>,
}

impl Msi {
    fn parsed(&self) -> names::ProductName {
        names::parse(&self.name).expect("demo product names are valid")
    }

    pub fn level(&self) -> Level {
        if self.name.contains("MSIL1C") {
            Level::L1C
        } else {
            Level::L2A
        }
    }

    fn sensing(&self) -> NaiveDateTime {
        self.parsed().start
    }

    fn generation(&self) -> NaiveDateTime {
        let discriminator = &self.parsed().details["discriminator"];
        NaiveDateTime::parse_from_str(discriminator, "%Y%m%dT%H%M%S").expect("a time")
    }

    fn baseline(&self) -> String {
        let digits = &self.parsed().details["baseline"];
        format!("{}.{}", &digits[..2], &digits[2..])
    }

    fn granule_id(&self) -> String {
        let level = if self.level() == Level::L2A {
            "L2A"
        } else {
            "L1C"
        };
        let datastrip = self.sensing() + Duration::seconds(3);
        format!(
            "{level}_T{}_A{:06}_{}",
            self.tile.id,
            self.absolute_orbit,
            datastrip.format("%Y%m%dT%H%M%S")
        )
    }

    /// The files of the product, by resolution: what each holds.
    fn layout(&self) -> Vec<(u32, Vec<Layer>)> {
        use Layer::*;
        let bands = |names: &[&str]| -> Vec<Layer> {
            names
                .iter()
                .filter(|n| self.only_bands.as_ref().is_none_or(|only| only.contains(n)))
                .map(|n| Band(BANDS.iter().position(|b| b == n).unwrap()))
                .collect()
        };
        let full = self.only_bands.is_none();
        let extras = |layers: &mut Vec<Layer>, scl: bool| {
            if full {
                layers.extend([Aot, Wvp, Tci]);
                if scl {
                    layers.push(Scl);
                }
            }
        };
        match self.level() {
            Level::L2A => {
                let mut r10 = bands(&["B02", "B03", "B04", "B08"]);
                extras(&mut r10, false);
                let mut r20 = bands(&[
                    "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B11", "B12",
                ]);
                extras(&mut r20, true);
                let mut r60 = bands(&[
                    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B8A", "B09", "B11", "B12",
                ]);
                extras(&mut r60, true);
                vec![(10, r10), (20, r20), (60, r60)]
            }
            Level::L1C => {
                let mut r10 = bands(&["B02", "B03", "B04", "B08"]);
                r10.push(Tci);
                let r20 = bands(&["B05", "B06", "B07", "B8A", "B11", "B12"]);
                let r60 = bands(&["B01", "B09", "B10"]);
                vec![(10, r10), (20, r20), (60, r60)]
            }
        }
    }

    /// The file name of a layer in the SAFE, relative to the SAFE folder.
    fn file_of(&self, resolution: u32, layer: Layer) -> String {
        let time = self.sensing().format("%Y%m%dT%H%M%S");
        let stem = format!("T{}_{time}_{}", self.tile.id, layer.label());
        let granule = format!("GRANULE/{}/IMG_DATA", self.granule_id());
        match self.level() {
            Level::L2A => format!("{granule}/R{resolution}m/{stem}_{resolution}m.jp2"),
            Level::L1C => format!("{granule}/{stem}.jp2"),
        }
    }
}

/// What one file of a product holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Layer {
    /// A spectral band (band id).
    Band(usize),
    /// Aerosol optical thickness (x 1000).
    Aot,
    /// Water vapour (cm x 1000).
    Wvp,
    /// Scene classification.
    Scl,
    /// True-colour image (3 x 8 bits).
    Tci,
}

impl Layer {
    fn label(self) -> &'static str {
        match self {
            Layer::Band(id) => BANDS[id],
            Layer::Aot => "AOT",
            Layer::Wvp => "WVP",
            Layer::Scl => "SCL",
            Layer::Tci => "TCI",
        }
    }

    fn channels(self) -> usize {
        if self == Layer::Tci { 3 } else { 1 }
    }

    fn is_byte(self) -> bool {
        matches!(self, Layer::Scl | Layer::Tci)
    }
}

/// What a written product leaves for the truths.
#[derive(Debug, Default)]
pub struct Written {
    pub extent: Option<Extent>,
    /// 20 m bands (DN), by band name, when asked for.
    pub bands_20m: BTreeMap<&'static str, Vec<u16>>,
    /// The scene fraction at 20 m and 10 m (pixel averages), when asked for.
    pub tag_20m: Vec<f32>,
    pub tag_10m: Vec<f32>,
}

/// Scene classes of the L2A SCL band.
const SCL_VEGETATION: u8 = 4;
const SCL_NOT_VEGETATED: u8 = 5;
const SCL_WATER: u8 = 6;
const SCL_CLOUD_HIGH: u8 = 9;
const SCL_SNOW: u8 = 11;

/// The scene class Sen2Cor would give a spectrum (simple spectral tests).
fn classify(r: &Spectrum) -> u8 {
    let ndvi = (r[B08] - r[B04]) / (r[B08] + r[B04]);
    let ndsi = (r[B03] - r[B11]) / (r[B03] + r[B11]);
    if ndsi > 0.4 && r[B03] > 0.3 {
        SCL_SNOW
    } else if r[B02] > 0.3 && r[B11] > 0.25 {
        SCL_CLOUD_HIGH
    } else if r[B8A] < 0.05 && r[B03] > r[B8A] {
        SCL_WATER
    } else if ndvi > 0.35 {
        SCL_VEGETATION
    } else {
        SCL_NOT_VEGETATED
    }
}

/// A pixel's values for one layer, from the scene averaged over the pixel.
fn pixel_values(
    msi: &Msi,
    seed: u64,
    layer: Layer,
    sample: &Sample,
    at: (u32, usize, usize),
    out: &mut [f64; 3],
) {
    let (resolution, col, row) = at;
    let noise = |band: usize| {
        if msi.noise_dn > 0.0 {
            msi.noise_dn
                * texture::gaussian(
                    seed,
                    col as i64,
                    row as i64,
                    (resolution as u64) << 8 | band as u64,
                )
        } else {
            0.0
        }
    };
    let dn = |band: usize| {
        let value = sample.reflectance[band] as f64 * 10_000.0 + msi.offset as f64 + noise(band);
        value.round().clamp(1.0, 65_534.0)
    };
    match layer {
        Layer::Band(band) => out[0] = dn(band),
        Layer::Aot => {
            out[0] = (120.0 + 20.0 * texture::value(seed, col as f64, row as f64, 400.0)).round()
        }
        Layer::Wvp => {
            out[0] =
                (1500.0 + 300.0 * texture::value(seed ^ 1, col as f64, row as f64, 400.0)).round()
        }
        Layer::Scl => out[0] = classify(&sample.reflectance) as f64,
        Layer::Tci => {
            for (channel, band) in [B04, B03, B02].into_iter().enumerate() {
                let dn = sample.reflectance[band] as f64 * 10_000.0;
                out[channel] = (dn / 2000.0 * 255.0).round().clamp(1.0, 255.0);
            }
        }
    }
}

/// One 60 m strip of the product rendered at every resolution.
struct Strip {
    /// For each (resolution, layer): the values, channel-major, row by row.
    planes: Vec<Vec<f64>>,
    tag_10m: Vec<f32>,
    tag_20m: Vec<f32>,
}

/// Renders the 60 m row `strip` of the extent: the scene is sampled at every
/// 10 m pixel centre, and 20 m and 60 m pixels average those samples.
fn render_strip(
    msi: &Msi,
    scene: &dyn Scene,
    extent: &Extent,
    layout: &[(u32, Vec<Layer>)],
    seed: u64,
    strip: usize,
) -> Strip {
    let (width10, _) = extent.size(10);
    let mut samples = Vec::with_capacity(width10 * 6);
    for row in 0..6 {
        let y = extent.top - (strip * 6 + row) as f64 * 10.0 - 5.0;
        for col in 0..width10 {
            samples.push(scene.sample(extent.left + col as f64 * 10.0 + 5.0, y));
        }
    }
    let at_resolution = |resolution: u32| -> (Vec<Sample>, usize, usize) {
        let factor = (resolution / 10) as usize;
        let (width, rows) = (width10 / factor, 6 / factor);
        let mut out = Vec::with_capacity(width * rows);
        let mut block = Vec::with_capacity(factor * factor);
        for row in 0..rows {
            for col in 0..width {
                block.clear();
                for r in 0..factor {
                    let start = (row * factor + r) * width10 + col * factor;
                    block.extend_from_slice(&samples[start..start + factor]);
                }
                out.push(Sample::average(&block));
            }
        }
        (out, width, rows)
    };
    let mut planes = Vec::new();
    let mut tag_20m = Vec::new();
    let mut tag_10m = Vec::new();
    for (resolution, layers) in layout {
        let (pixels, width, rows) = at_resolution(*resolution);
        if *resolution == 20 && msi.keep_20m {
            tag_20m = pixels.iter().map(|s| s.tag).collect();
        }
        if *resolution == 10 && msi.keep_10m_tag {
            tag_10m = pixels.iter().map(|s| s.tag).collect();
        }
        let first_row = strip * rows;
        for &layer in layers {
            let channels = layer.channels();
            let mut plane = vec![0.0; pixels.len() * channels];
            let mut values = [0.0; 3];
            for (i, sample) in pixels.iter().enumerate() {
                let at = (*resolution, i % width, first_row + i / width);
                pixel_values(msi, seed, layer, sample, at, &mut values);
                for channel in 0..channels {
                    plane[channel * pixels.len() + i] = values[channel];
                }
            }
            planes.push(plane);
        }
    }
    Strip {
        planes,
        tag_10m,
        tag_20m,
    }
}

/// A temporary uncompressed GeoTIFF that receives a layer strip by strip,
/// then becomes the JPEG 2000 file.
struct Staged {
    dataset: Dataset,
    path: PathBuf,
    target: PathBuf,
    width: usize,
    byte: bool,
    channels: usize,
}

fn staged_layer(
    temp: &Path,
    target: PathBuf,
    (width, height): (usize, usize),
    layer: Layer,
    transform: [f64; 6],
    srs: &SpatialRef,
) -> Result<Staged, DemoError> {
    let path = temp.join(format!(
        "{}.tif",
        target.file_stem().unwrap().to_string_lossy()
    ));
    let driver =
        DriverManager::get_driver_by_name("GTiff").map_err(|e| DemoError::product("GTiff", e))?;
    let channels = layer.channels();
    let fail = |e: gdal::errors::GdalError| DemoError::product(&path.to_string_lossy(), e);
    let mut dataset = if layer.is_byte() {
        driver.create_with_band_type::<u8, _>(&path, width, height, channels)
    } else {
        driver.create_with_band_type::<u16, _>(&path, width, height, channels)
    }
    .map_err(fail)?;
    dataset.set_geo_transform(&transform).map_err(fail)?;
    dataset.set_spatial_ref(srs).map_err(fail)?;
    Ok(Staged {
        dataset,
        path,
        target,
        width,
        byte: layer.is_byte(),
        channels,
    })
}

impl Staged {
    fn write_rows(&mut self, first_row: usize, values: &[f64]) -> Result<(), DemoError> {
        let per_channel = values.len() / self.channels;
        let rows = per_channel / self.width;
        let fail = |e: gdal::errors::GdalError| DemoError::product(&self.path.to_string_lossy(), e);
        for channel in 0..self.channels {
            let part = &values[channel * per_channel..(channel + 1) * per_channel];
            let mut band = self.dataset.rasterband(channel + 1).map_err(fail)?;
            if self.byte {
                let data: Vec<u8> = part.iter().map(|&v| v as u8).collect();
                band.write(
                    (0, first_row as isize),
                    (self.width, rows),
                    &mut Buffer::new((self.width, rows), data),
                )
            } else {
                let data: Vec<u16> = part.iter().map(|&v| v as u16).collect();
                band.write(
                    (0, first_row as isize),
                    (self.width, rows),
                    &mut Buffer::new((self.width, rows), data),
                )
            }
            .map_err(fail)?;
        }
        Ok(())
    }
}

/// Encodes a staged GeoTIFF as a lossless JPEG 2000 file with a GMLJP2 box
/// (the georeferencing real Sentinel-2 bands carry).
fn encode_jp2(source: &Path, target: &Path) -> Result<(), DemoError> {
    let fail = |e: gdal::errors::GdalError| DemoError::product(&target.to_string_lossy(), e);
    let dataset = cleope_eo::gdal::dataset::open(source)
        .map_err(|e| DemoError::product(&target.to_string_lossy(), e))?;
    let (width, height) = dataset.raster_size();
    let driver = DriverManager::get_driver_by_name("JP2OpenJPEG").map_err(fail)?;
    let options = [
        "CODEC=JP2".to_string(),
        "QUALITY=100".into(),
        "REVERSIBLE=YES".into(),
        format!("BLOCKXSIZE={}", width.min(1024)),
        format!("BLOCKYSIZE={}", height.min(1024)),
        "GMLJP2=YES".into(),
        "GeoJP2=NO".into(),
    ];
    let options = RasterCreationOptions::from_iter(options.iter().map(String::as_str));
    dataset
        .create_copy(&driver, target, &options)
        .map_err(fail)?;
    let sidecar = PathBuf::from(format!("{}.aux.xml", target.display()));
    if sidecar.exists() {
        std::fs::remove_file(&sidecar).map_err(|e| DemoError::io(&sidecar, e))?;
    }
    Ok(())
}

/// Renders the scene at every resolution and writes the product's JPEG 2000
/// files under `safe`; returns what the truths need.
fn write_bands(
    msi: &Msi,
    scene: &dyn Scene,
    extent: &Extent,
    safe: &Path,
) -> Result<Written, DemoError> {
    let layout = msi.layout();
    let seed = seed_of(&msi.name);
    let temp = tempfile::tempdir_in(safe).map_err(|e| DemoError::io(safe, e))?;
    let mut srs =
        SpatialRef::from_epsg(msi.tile.epsg()).map_err(|e| DemoError::product(&msi.name, e))?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut staged = Vec::new();
    for (resolution, layers) in &layout {
        let size = extent.size(*resolution);
        let r = *resolution as f64;
        let transform = [extent.left, r, 0.0, extent.top, 0.0, -r];
        for &layer in layers {
            let target = safe.join(msi.file_of(*resolution, layer));
            std::fs::create_dir_all(target.parent().unwrap())
                .map_err(|e| DemoError::io(&target, e))?;
            staged.push(staged_layer(
                temp.path(),
                target,
                size,
                layer,
                transform,
                &srs,
            )?);
        }
    }
    let mut written = Written {
        extent: Some(*extent),
        ..Written::default()
    };
    let (_, strips) = extent.size(60);
    let chunk = 128;
    for first in (0..strips).step_by(chunk) {
        let last = (first + chunk).min(strips);
        let rendered: Vec<Strip> = (first..last)
            .into_par_iter()
            .map(|strip| render_strip(msi, scene, extent, &layout, seed, strip))
            .collect();
        let mut index = 0;
        for (resolution, layers) in &layout {
            let rows_per_strip = 60 / *resolution as usize;
            for _ in layers {
                write_strips(
                    &mut staged[index],
                    first * rows_per_strip,
                    &rendered,
                    index,
                    rows_per_strip,
                )?;
                index += 1;
            }
        }
        for strip in &rendered {
            written.tag_20m.extend_from_slice(&strip.tag_20m);
            written.tag_10m.extend_from_slice(&strip.tag_10m);
        }
    }
    if msi.keep_20m {
        keep_20m_bands(msi, &layout, &mut staged, &mut written)?;
    }
    let jobs: Vec<(PathBuf, PathBuf)> = staged
        .into_iter()
        .map(|s| {
            let paths = (s.path.clone(), s.target.clone());
            drop(s.dataset);
            paths
        })
        .collect();
    jobs.par_iter()
        .map(|(source, target)| encode_jp2(source, target))
        .collect::<Result<Vec<()>, DemoError>>()?;
    Ok(written)
}

/// Writes one layer's rows of a chunk of strips (each strip holds the
/// layer's channels one after another).
fn write_strips(
    staged: &mut Staged,
    first_row: usize,
    strips: &[Strip],
    index: usize,
    rows_per_strip: usize,
) -> Result<(), DemoError> {
    for (i, strip) in strips.iter().enumerate() {
        staged.write_rows(first_row + i * rows_per_strip, &strip.planes[index])?;
    }
    Ok(())
}

/// Reads back the 20 m bands from the staged files (for the truths).
fn keep_20m_bands(
    msi: &Msi,
    layout: &[(u32, Vec<Layer>)],
    staged: &mut [Staged],
    written: &mut Written,
) -> Result<(), DemoError> {
    let mut index = 0;
    for (resolution, layers) in layout {
        for &layer in layers {
            if let (20, Layer::Band(band)) = (*resolution, layer) {
                let dataset = &mut staged[index].dataset;
                dataset
                    .flush_cache()
                    .map_err(|e| DemoError::product(&msi.name, e))?;
                let (width, height) = dataset.raster_size();
                let values = dataset
                    .rasterband(1)
                    .and_then(|b| b.read_as::<u16>((0, 0), (width, height), (width, height), None))
                    .map_err(|e| DemoError::product(&msi.name, e))?;
                written
                    .bands_20m
                    .insert(BANDS[band], values.data().to_vec());
            }
            index += 1;
        }
    }
    Ok(())
}

/// Writes one product: its bands, metadata and manifest, and records it.
fn write_msi(
    builder: &mut ArchiveBuilder,
    msi: &Msi,
    scene: &dyn Scene,
) -> Result<Written, DemoError> {
    let extent = msi.tile.extent_of(msi.aoi)?;
    let footprint = msi.tile.to_lonlat(&extent.corners())?;
    let spec = product_spec(msi, &footprint);
    let folder = builder.staging(&spec)?;
    let safe = folder.join(format!("{}.SAFE", msi.name));
    std::fs::create_dir_all(&safe).map_err(|e| DemoError::io(&safe, e))?;
    let written = write_bands(msi, scene, &extent, &safe)?;
    let cloud = cloud_cover(scene, &extent);
    write_text(
        &safe.join(format!("GRANULE/{}/MTD_TL.xml", msi.granule_id())),
        &tile_metadata(msi, &extent),
    )?;
    let files: Vec<String> = msi
        .layout()
        .iter()
        .flat_map(|(resolution, layers)| layers.iter().map(move |&l| (*resolution, l)))
        .map(|(resolution, layer)| msi.file_of(resolution, layer))
        .collect();
    let metadata_name = match msi.level() {
        Level::L2A => "MTD_MSIL2A.xml",
        Level::L1C => "MTD_MSIL1C.xml",
    };
    write_text(
        &safe.join(metadata_name),
        &product_metadata(msi, &files, &footprint, cloud),
    )?;
    write_text(&safe.join("manifest.safe"), &manifest(msi, &safe)?)?;
    let mut spec = spec;
    spec.attributes.insert("cloudCover".into(), json!(cloud));
    builder.finish(spec)?;
    Ok(written)
}

/// Percentage of cloudy pixels, from the 60 m scene classification the
/// product was written with (L1C products have none: their scene is sampled).
fn cloud_cover(scene: &dyn Scene, extent: &Extent) -> f64 {
    let (width, height) = extent.size(60);
    let step = 4;
    let (mut cloudy, mut total) = (0usize, 0usize);
    for row in (0..height).step_by(step) {
        for col in (0..width).step_by(step) {
            let x = extent.left + col as f64 * 60.0 + 30.0;
            let y = extent.top - row as f64 * 60.0 - 30.0;
            let sample = scene.sample(x, y);
            total += 1;
            if classify(&sample.reflectance) == SCL_CLOUD_HIGH {
                cloudy += 1;
            }
        }
    }
    (cloudy as f64 / total.max(1) as f64 * 1000.0).round() / 10.0
}

fn write_text(path: &Path, text: &str) -> Result<(), DemoError> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder).map_err(|e| DemoError::io(folder, e))?;
    }
    std::fs::write(path, text).map_err(|e| DemoError::io(path, e))
}

fn iso_millis(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// The catalogue record of a product.
fn product_spec(msi: &Msi, footprint: &[(f64, f64)]) -> ProductSpec {
    let parsed = msi.parsed();
    let sensing = msi.sensing() + Duration::milliseconds(24);
    let (level, folder) = match msi.level() {
        Level::L2A => ("LEVEL-2A", "L2A"),
        Level::L1C => ("LEVEL-1C", "L1C"),
    };
    let day = sensing.format("%Y/%m/%d");
    let mut attributes = Map::new();
    let mut set = |key: &str, value: Value| {
        attributes.insert(key.into(), value);
    };
    set("productType", json!(parsed.product_type));
    set("tileId", json!(msi.tile.id));
    set("orbitNumber", json!(msi.absolute_orbit));
    set(
        "relativeOrbitNumber",
        json!(parsed.details["relative_orbit"].parse::<u32>().unwrap_or(0)),
    );
    set("orbitDirection", json!("DESCENDING"));
    set("platformSerialIdentifier", json!(&parsed.platform[2..]));
    set("instrumentShortName", json!("MSI"));
    set(
        "processingLevel",
        json!(if msi.level() == Level::L2A {
            "S2MSI2A"
        } else {
            "S2MSI1C"
        }),
    );
    set("processorVersion", json!(msi.baseline()));
    set("beginningDateTime", json!(iso_millis(sensing)));
    set("endingDateTime", json!(iso_millis(sensing)));
    set("processingDate", json!(iso_millis(msi.generation())));
    set("cloudCover", json!(0.0));
    ProductSpec {
        name: format!("{}.zip", msi.name),
        cdse_name: Some(format!("{}.SAFE", msi.name)),
        mission: Some("Sentinel-2".into()),
        collection: "SENTINEL-2".into(),
        product_type: parsed.product_type.clone(),
        main_class: None,
        begin: iso_millis(sensing),
        end: iso_millis(sensing),
        footprint: footprint.to_vec(),
        pseudopath: format!("OPTICAL/{level}/{day}"),
        s3_folder: format!("/eodata/Sentinel-2/MSI/{folder}/{day}"),
        online: msi.online,
        packing: Packing::Zip,
        attributes,
    }
}

// ---------------------------------------------------------------------------
// Metadata

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The granule's `MTD_TL.xml`: its CRS and the size and corner of each grid.
fn tile_metadata(msi: &Msi, extent: &Extent) -> String {
    let hemisphere = if msi.tile.south { "S" } else { "N" };
    let mut sizes = String::new();
    let mut positions = String::new();
    for resolution in [10, 20, 60] {
        let (cols, rows) = extent.size(resolution);
        sizes += &format!(
            "        <Size resolution=\"{resolution}\">\n          <NROWS>{rows}</NROWS>\n          <NCOLS>{cols}</NCOLS>\n        </Size>\n"
        );
        positions += &format!(
            "        <Geoposition resolution=\"{resolution}\">\n          <ULX>{}</ULX>\n          <ULY>{}</ULY>\n          <XDIM>{resolution}</XDIM>\n          <YDIM>-{resolution}</YDIM>\n        </Geoposition>\n",
            extent.left, extent.top
        );
    }
    let level = if msi.level() == Level::L2A {
        "2A"
    } else {
        "1C"
    };
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:Level-{level}_Tile_ID xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/S2_PDI_Level-{level}_Tile_Metadata.xsd">
  <n1:General_Info>
    <TILE_ID>S2A_OPER_MSI_L{level}_TL_DEMO_{generation}_A{orbit:06}_T{tile}_N{baseline}</TILE_ID>
    <SENSING_TIME>{sensing}</SENSING_TIME>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Tile_Geocoding metadataLevel="Brief">
      <HORIZONTAL_CS_NAME>WGS84 / UTM zone {zone}{hemisphere}</HORIZONTAL_CS_NAME>
      <HORIZONTAL_CS_CODE>EPSG:{epsg}</HORIZONTAL_CS_CODE>
{sizes}{positions}    </Tile_Geocoding>
    <!-- The demo product covers part of tile {tile}, whose full grid starts at ULX {ulx}, ULY {uly}. -->
  </n1:Geometric_Info>
</n1:Level-{level}_Tile_ID>
"#,
        generation = msi.generation().format("%Y%m%dT%H%M%S"),
        orbit = msi.absolute_orbit,
        tile = msi.tile.id,
        baseline = msi.baseline(),
        sensing = iso_millis(msi.sensing()),
        zone = msi.tile.zone,
        epsg = msi.tile.epsg(),
        ulx = msi.tile.ulx,
        uly = msi.tile.uly,
    )
}

/// The product's `MTD_MSIL2A.xml` / `MTD_MSIL1C.xml`: times, baseline, file
/// list, quantification (and offsets from baseline 04.00), spectral bands,
/// footprint and cloud cover.
fn product_metadata(msi: &Msi, files: &[String], footprint: &[(f64, f64)], cloud: f64) -> String {
    let parsed = msi.parsed();
    let l2a = msi.level() == Level::L2A;
    let (root, level_text, product_type) = if l2a {
        ("Level-2A_User_Product", "Level-2A", "S2MSI2A")
    } else {
        ("Level-1C_User_Product", "Level-1C", "S2MSI1C")
    };
    let images: String = files
        .iter()
        .map(|f| {
            format!(
                "              <IMAGE_FILE>{}</IMAGE_FILE>\n",
                f.trim_end_matches(".jp2")
            )
        })
        .collect();
    let quantification = if l2a {
        "      <QUANTIFICATION_VALUES_LIST>\n        <BOA_QUANTIFICATION_VALUE unit=\"none\">10000</BOA_QUANTIFICATION_VALUE>\n        <AOT_QUANTIFICATION_VALUE unit=\"none\">1000.0</AOT_QUANTIFICATION_VALUE>\n        <WVP_QUANTIFICATION_VALUE unit=\"cm\">1000.0</WVP_QUANTIFICATION_VALUE>\n      </QUANTIFICATION_VALUES_LIST>\n".to_string()
    } else {
        "      <QUANTIFICATION_VALUE unit=\"none\">10000</QUANTIFICATION_VALUE>\n".to_string()
    };
    let offsets = if msi.offset > 0 {
        let (list, item) = if l2a {
            ("BOA_ADD_OFFSET_VALUES_LIST", "BOA_ADD_OFFSET")
        } else {
            ("Radiometric_Offset_List", "RADIO_ADD_OFFSET")
        };
        let items: String = (0..13)
            .map(|id| {
                format!(
                    "        <{item} band_id=\"{id}\">-{}</{item}>\n",
                    msi.offset
                )
            })
            .collect();
        format!("      <{list}>\n{items}      </{list}>\n")
    } else {
        String::new()
    };
    let spectral: String = (0..13)
        .map(|id| {
            format!(
                "        <Spectral_Information bandId=\"{id}\" physicalBand=\"{}\">\n          <RESOLUTION>{}</RESOLUTION>\n          <Wavelength>\n            <CENTRAL unit=\"nm\">{}</CENTRAL>\n          </Wavelength>\n        </Spectral_Information>\n",
                BANDS[id].replace("B0", "B"),
                NATIVE_RESOLUTION[id],
                WAVELENGTH_NM[id]
            )
        })
        .collect();
    let ring: Vec<String> = footprint
        .iter()
        .chain(footprint.first())
        .map(|(lon, lat)| format!("{lat:.6} {lon:.6}"))
        .collect();
    let datatake = format!(
        "G{}_{}_{:06}_N{}",
        parsed.platform,
        msi.sensing().format("%Y%m%dT%H%M%S"),
        msi.absolute_orbit,
        msi.baseline()
    );
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="no"?>
<n1:{root} xmlns:n1="https://psd-14.sentinel2.eo.esa.int/PSD/User_Product_{level_text}.xsd">
  <n1:General_Info>
    <Product_Info>
      <PRODUCT_START_TIME>{start}</PRODUCT_START_TIME>
      <PRODUCT_STOP_TIME>{start}</PRODUCT_STOP_TIME>
      <PRODUCT_URI>{name}.SAFE</PRODUCT_URI>
      <PROCESSING_LEVEL>{level_text}</PROCESSING_LEVEL>
      <PRODUCT_TYPE>{product_type}</PRODUCT_TYPE>
      <PROCESSING_BASELINE>{baseline}</PROCESSING_BASELINE>
      <GENERATION_TIME>{generation}</GENERATION_TIME>
      <Datatake datatakeIdentifier="{datatake}">
        <SPACECRAFT_NAME>Sentinel-2{unit}</SPACECRAFT_NAME>
        <DATATAKE_TYPE>INS-NOBS</DATATAKE_TYPE>
        <DATATAKE_SENSING_START>{start}</DATATAKE_SENSING_START>
        <SENSING_ORBIT_NUMBER>{relative_orbit}</SENSING_ORBIT_NUMBER>
        <SENSING_ORBIT_DIRECTION>DESCENDING</SENSING_ORBIT_DIRECTION>
      </Datatake>
      <Query_Options completeSingleTile="true">
        <PRODUCT_FORMAT>SAFE_COMPACT</PRODUCT_FORMAT>
      </Query_Options>
      <Product_Organisation>
        <Granule_List>
          <Granule granuleIdentifier="{granule}" imageFormat="JPEG2000">
{images}          </Granule>
        </Granule_List>
      </Product_Organisation>
    </Product_Info>
    <Product_Image_Characteristics>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>NODATA</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>0</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Special_Values>
        <SPECIAL_VALUE_TEXT>SATURATED</SPECIAL_VALUE_TEXT>
        <SPECIAL_VALUE_INDEX>65535</SPECIAL_VALUE_INDEX>
      </Special_Values>
      <Image_Display_Order>
        <RED_CHANNEL>3</RED_CHANNEL>
        <GREEN_CHANNEL>2</GREEN_CHANNEL>
        <BLUE_CHANNEL>1</BLUE_CHANNEL>
      </Image_Display_Order>
{quantification}{offsets}      <Spectral_Information_List>
{spectral}      </Spectral_Information_List>
    </Product_Image_Characteristics>
  </n1:General_Info>
  <n1:Geometric_Info>
    <Product_Footprint>
      <Product_Footprint>
        <Global_Footprint>
          <EXT_POS_LIST>{ring}</EXT_POS_LIST>
        </Global_Footprint>
      </Product_Footprint>
    </Product_Footprint>
    <Coordinate_Reference_System>
      <GEO_TABLES version="1">EPSG</GEO_TABLES>
      <HORIZONTAL_CS_TYPE>GEOGRAPHIC</HORIZONTAL_CS_TYPE>
    </Coordinate_Reference_System>
  </n1:Geometric_Info>
  <n1:Quality_Indicators_Info>
    <Cloud_Coverage_Assessment>{cloud}</Cloud_Coverage_Assessment>
  </n1:Quality_Indicators_Info>
</n1:{root}>
"#,
        start = iso_millis(msi.sensing() + Duration::milliseconds(24)),
        name = xml_escape(&msi.name),
        baseline = msi.baseline(),
        generation = iso_millis(msi.generation()),
        unit = &parsed.platform[2..],
        relative_orbit = parsed.details["relative_orbit"],
        granule = msi.granule_id(),
        ring = ring.join(" "),
    )
}

/// The SAFE `manifest.safe`: the product's data objects with their sizes and MD5.
fn manifest(msi: &Msi, safe: &Path) -> Result<String, DemoError> {
    let mut objects = String::new();
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(safe)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.safe"))
        .collect();
    files.sort();
    for (i, file) in files.iter().enumerate() {
        let (size, md5, _) = super::checksums(file)?;
        let relative = file
            .strip_prefix(safe)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        objects += &format!(
            "    <dataObject ID=\"DO_{i}\">\n      <byteStream mimeType=\"application/octet-stream\" size=\"{size}\">\n        <fileLocation locatorType=\"URL\" href=\"./{relative}\"/>\n        <checksum checksumName=\"MD5\">{md5}</checksum>\n      </byteStream>\n    </dataObject>\n"
        );
    }
    let level = if msi.level() == Level::L2A {
        "Level-2A"
    } else {
        "Level-1C"
    };
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:safe="http://www.esa.int/safe/sentinel/1.1" version="esa/safe/sentinel/1.1/sentinel-2/msi/archive_l{short}_user_product">
  <informationPackageMap>
    <xfdu:contentUnit unitType="Product_Level-{short}" textInfo="SENTINEL-2 MSI {level} User Product"/>
  </informationPackageMap>
  <metadataSection>
    <metadataObject ID="acquisitionPeriod">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE">
        <xmlData>
          <safe:acquisitionPeriod>
            <safe:startTime>{start}</safe:startTime>
          </safe:acquisitionPeriod>
        </xmlData>
      </metadataWrap>
    </metadataObject>
  </metadataSection>
  <dataObjectSection>
{objects}  </dataObjectSection>
</xfdu:XFDU>
"#,
        short = if msi.level() == Level::L2A {
            "2a"
        } else {
            "1c"
        },
        start = iso_millis(msi.sensing() + Duration::milliseconds(24)),
    ))
}

// ---------------------------------------------------------------------------
// The products

fn l2a(name: &str, tile: &Tile, aoi: [f64; 4], absolute_orbit: u32) -> Msi {
    Msi {
        name: name.to_string(),
        tile: tile.clone(),
        aoi,
        absolute_orbit,
        online: true,
        noise_dn: 3.0,
        offset: 0,
        keep_20m: true,
        keep_10m_tag: true,
        only_bands: None,
    }
}

/// Fraction of pixels whose scene fraction is at least one half.
fn fraction_over_half(tags: &[f32]) -> f64 {
    tags.iter().filter(|&&t| t >= 0.5).count() as f64 / tags.len().max(1) as f64
}

/// The mean of `(a - b) / (a + b)` over the pixels (DN, no offset).
fn mean_normalized_difference(a: &[u16], b: &[u16]) -> f64 {
    let sum: f64 = a
        .iter()
        .zip(b)
        .map(|(&a, &b)| (a as f64 - b as f64) / (a as f64 + b as f64))
        .sum();
    sum / a.len().max(1) as f64
}

fn round_to(value: f64, digits: i32) -> f64 {
    let scale = 10f64.powi(digits);
    (value * scale).round() / scale
}

/// Three dates of the Currowan fire (NSW, Australia): the burn scar grows.
pub(crate) fn fires(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("56HKF");
    let dates = [
        (
            "S2A_MSIL2A_20191221T000241_N0213_R030_T56HKF_20191221T014923",
            23313,
            1300.0,
        ),
        (
            "S2A_MSIL2A_20191231T000241_N0213_R030_T56HKF_20191231T014455",
            23456,
            2500.0,
        ),
        (
            "S2A_MSIL2A_20200130T000241_N0214_R030_T56HKF_20200130T021517",
            23885,
            3400.0,
        ),
    ];
    let mut rows = Vec::new();
    for (name, orbit, radius) in dates {
        let msi = l2a(name, &tile, FIRES_AOI, orbit);
        let written = write_msi(builder, &msi, &Fires::new(&tile, radius)?)?;
        let burned = fraction_over_half(&written.tag_20m);
        let pixels = written.tag_20m.len() as f64;
        rows.push(json!({
            "product": name,
            "date": msi.sensing().format("%Y-%m-%d").to_string(),
            "burned_fraction": round_to(burned, 4),
            "burned_area_km2": round_to(burned * pixels * 400.0 / 1e6, 2),
            "mean_nbr": round_to(mean_normalized_difference(&written.bands_20m["B8A"], &written.bands_20m["B12"]), 4),
        }));
    }
    builder.truth("s2_fires", "aoi", json!(FIRES_AOI));
    builder.truth("s2_fires", "dates", json!(rows));
    builder.truth("s2_fires", "note", json!("burned: 20 m pixels at least half burned; mean NBR = (B8A - B12) / (B8A + B12) over the product (its extent is the AOI's UTM box)"));
    Ok(())
}

/// The MV Wakashio oil spill (Mauritius), 11 August 2020.
fn oil(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("40KEC");
    let name = "S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349";
    let msi = l2a(name, &tile, OIL_AOI, 26760);
    let written = write_msi(builder, &msi, &Oil::new(&tile)?)?;
    let slick = written.tag_10m.iter().filter(|&&t| t >= 0.5).count() as f64 * 100.0 / 1e6;
    builder.truth("s2_oil", "aoi", json!(OIL_AOI));
    builder.truth("s2_oil", "product", json!(name));
    builder.truth("s2_oil", "ship", json!([WAKASHIO.0, WAKASHIO.1]));
    builder.truth("s2_oil", "slick_area_km2", json!(round_to(slick, 3)));
    Ok(())
}

/// Floating debris off the Lebanese coast, 13 October 2018.
pub fn plastic(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("36SYC");
    let name = "S2A_MSIL2A_20181013T082001_N0206_R121_T36SYC_20181013T102234";
    let msi = l2a(name, &tile, PLASTIC_AOI, 17267);
    let scene = Plastic::new(&tile)?;
    let written = write_msi(builder, &msi, &scene)?;
    let count = |tags: &[f32]| tags.iter().filter(|&&t| t >= 0.5).count();
    let centres: Vec<Value> = Plastic::PATCHES
        .iter()
        .map(|&((x, y), _, _)| {
            let utm = (scene.local.anchor.0 + x, scene.local.anchor.1 + y);
            let (lon, lat) = tile
                .to_lonlat(&[utm])
                .map(|p| p[0])
                .unwrap_or((f64::NAN, f64::NAN));
            json!([round_to(lon, 5), round_to(lat, 5)])
        })
        .collect();
    builder.truth("s2_plastic", "aoi", json!(PLASTIC_AOI));
    builder.truth("s2_plastic", "product", json!(name));
    builder.truth("s2_plastic", "patches", json!(Plastic::PATCHES.len()));
    builder.truth("s2_plastic", "patch_centres", json!(centres));
    builder.truth(
        "s2_plastic",
        "patch_pixels_20m",
        json!(count(&written.tag_20m)),
    );
    builder.truth(
        "s2_plastic",
        "patch_pixels_10m",
        json!(count(&written.tag_10m)),
    );
    builder.truth("s2_plastic", "note", json!("debris pixels: at least half covered by a debris windrow; FDI = B8A - (B06 + (B11 - B06) x 2.10831)"));
    Ok(())
}

/// The plastic scene written again under a baseline 05.10 name, with the
/// 04.00+ convention (`DN = reflectance x 10000 + 1000`, `BOA_ADD_OFFSET`
/// -1000): for tests that readers honour the offset. Not in the archive.
pub fn offset_twin(builder: &mut ArchiveBuilder) -> Result<String, DemoError> {
    let tile = Tile::parse("36SYC");
    let name = "S2A_MSIL2A_20181013T082001_N0510_R121_T36SYC_20240101T000000";
    let mut msi = l2a(name, &tile, PLASTIC_AOI, 17267);
    msi.offset = 1000;
    write_msi(builder, &msi, &Plastic::new(&tile)?)?;
    Ok(name.to_string())
}

/// Late snow on the Sierra Nevada (Spain), 22 July 2020.
fn snow(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("30SVG");
    let name = "S2A_MSIL2A_20200722T105631_N0214_R094_T30SVG_20200722T121905";
    let msi = l2a(name, &tile, SNOW_AOI, 26474);
    let written = write_msi(builder, &msi, &Snow::new(&tile)?)?;
    let (green, swir) = (&written.bands_20m["B03"], &written.bands_20m["B11"]);
    let by_ndsi = green
        .iter()
        .zip(swir)
        .filter(|&(&g, &s)| (g as f64 - s as f64) / (g as f64 + s as f64) > 0.4)
        .count() as f64
        / green.len().max(1) as f64;
    builder.truth("s2_snow", "aoi", json!(SNOW_AOI));
    builder.truth("s2_snow", "product", json!(name));
    builder.truth(
        "s2_snow",
        "snow_fraction",
        json!(round_to(fraction_over_half(&written.tag_20m), 4)),
    );
    builder.truth("s2_snow", "snow_fraction_ndsi", json!(round_to(by_ndsi, 4)));
    builder.truth("s2_snow", "note", json!("snow_fraction: 20 m pixels at least half snow-covered; snow_fraction_ndsi: NDSI = (B03 - B11) / (B03 + B11) > 0.4 at 20 m (lakes count too)"));
    Ok(())
}

/// Anak Krakatau's plume, 12 April 2020 (the whole Krakatoa tutorial box).
fn krakatoa(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("48MWU");
    let name = "S2B_MSIL2A_20200412T030549_N0214_R075_T48MWU_20200412T070522";
    let mut msi = l2a(name, &tile, KRAKATOA_AOI, 16135);
    msi.noise_dn = 0.0;
    msi.keep_20m = false;
    msi.keep_10m_tag = false;
    write_msi(builder, &msi, &Krakatoa::new(&tile)?)?;
    builder.truth("s2_krakatoa", "aoi", json!(KRAKATOA_AOI));
    builder.truth("s2_krakatoa", "product", json!(name));
    builder.truth("s2_krakatoa", "anak_krakatau", json!([105.423, -6.102]));
    Ok(())
}

/// The DISCOVER notebook's Level-1C product (Papua New Guinea), archived:
/// downloading it means ordering it first.
pub fn discover(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("54MZV");
    let name = "S2A_MSIL1C_20201110T004711_N0209_R102_T54MZV_20201110T021925";
    let mut msi = l2a(name, &tile, DISCOVER_AOI, 28123);
    msi.online = false;
    msi.keep_20m = false;
    msi.keep_10m_tag = false;
    let scene = TopOfAtmosphere(Rainforest::new(&tile)?);
    write_msi(builder, &msi, &scene)?;
    Ok(())
}

/// One whole 10980 x 10980 tile (B04 and B08 at 10 m, B8A and B12 at 20 m)
/// for benchmarks; not used by the tutorials.
fn full_size_tile(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let tile = Tile::parse("32TQM");
    let corners = tile.to_lonlat(&[
        (tile.ulx + 1.0, tile.uly - TILE_SIZE + 1.0),
        (tile.ulx + TILE_SIZE - 1.0, tile.uly - 1.0),
    ])?;
    let aoi = [corners[0].0, corners[0].1, corners[1].0, corners[1].1];
    let mut msi = l2a(
        "S2B_MSIL2A_20200815T100559_N0214_R022_T32TQM_20200815T130225",
        &tile,
        aoi,
        17980,
    );
    msi.keep_20m = false;
    msi.keep_10m_tag = false;
    msi.only_bands = Some(vec!["B04", "B08", "B8A", "B12"]);
    let scene = Countryside {
        seed: seed_of("s2-countryside"),
    };
    let written = write_msi(builder, &msi, &scene)?;
    let extent = written.extent.expect("an extent");
    builder.truth("s2_full_tile", "product", json!(msi.name));
    builder.truth("s2_full_tile", "size_10m", json!(extent.size(10)));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DemoOptions;

    /// Band `band` of the product's JP2 at `resolution` as GDAL reads it.
    fn read_band(root: &Path, product: &str, band: &str, resolution: u32) -> (Dataset, Vec<f64>) {
        let pattern = format!("_{band}_{resolution}m.jp2");
        let path = walkdir::WalkDir::new(root)
            .into_iter()
            .filter_map(Result::ok)
            .map(|e| e.into_path())
            .find(|p| {
                let text = p.to_string_lossy();
                text.contains(product) && text.ends_with(&pattern) && !text.contains(".packed")
            })
            .unwrap_or_else(|| panic!("no {band} at {resolution} m in {product}"));
        let dataset = cleope_eo::gdal::dataset::open(&path).unwrap();
        let (w, h) = dataset.raster_size();
        let values = dataset
            .rasterband(1)
            .unwrap()
            .read_as::<f64>((0, 0), (w, h), (w, h), None)
            .unwrap()
            .data()
            .to_vec();
        (dataset, values)
    }

    fn nd(a: &[f64], b: &[f64]) -> Vec<f64> {
        a.iter().zip(b).map(|(a, b)| (a - b) / (a + b)).collect()
    }

    fn truth(root: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(root.join("truth.json")).unwrap()).unwrap()
    }

    #[test]
    fn tiles_start_at_the_corner_of_their_mgrs_square_on_the_60_m_grid() {
        let toulouse = Tile::parse("31TCJ");
        assert_eq!(
            (toulouse.ulx, toulouse.uly, toulouse.epsg()),
            (300_000.0, 4_900_020.0, 32631)
        );
        let nsw = Tile::parse("56HKF");
        assert_eq!(
            (nsw.ulx, nsw.uly, nsw.epsg()),
            (199_980.0, 6_100_020.0, 32756)
        );
        let krakatoa = Tile::parse("48MWU");
        assert_eq!((krakatoa.ulx, krakatoa.uly), (499_980.0, 9_400_020.0));
        let extent = nsw.extent_of(FIRES_AOI).unwrap();
        assert_eq!((extent.left - nsw.ulx) % 60.0, 0.0);
        assert_eq!((nsw.uly - extent.top) % 60.0, 0.0);
        assert!(extent.left > nsw.ulx && extent.left + extent.width < nsw.ulx + TILE_SIZE);
    }

    #[test]
    fn fire_products_are_utm_jp2_bands_whose_nbr_shows_the_recorded_growing_scar() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        fires(&mut builder).unwrap();
        builder.write_index().unwrap();
        let truth = truth(dir.path());
        let dates = truth["s2_fires"]["dates"].as_array().unwrap();
        let mut previous = 0.0;
        for date in dates {
            let product = date["product"].as_str().unwrap();
            let (dataset, nir) = read_band(dir.path(), product, "B8A", 20);
            assert_eq!(dataset.driver().short_name(), "JP2OpenJPEG");
            assert_eq!(
                dataset.rasterband(1).unwrap().band_type(),
                gdal::raster::GdalDataType::UInt16
            );
            assert_eq!(dataset.spatial_ref().unwrap().auth_code().unwrap(), 32756);
            let transform = dataset.geo_transform().unwrap();
            assert_eq!((transform[1], transform[5]), (20.0, -20.0));
            let (ten, _) = read_band(dir.path(), product, "B04", 10);
            assert_eq!(ten.raster_size().0, dataset.raster_size().0 * 2);
            let (_, swir) = read_band(dir.path(), product, "B12", 20);
            let nbr = nd(&nir, &swir);
            let burned = nbr.iter().filter(|&&v| v < 0.1).count() as f64 / nbr.len() as f64;
            let mean = nbr.iter().sum::<f64>() / nbr.len() as f64;
            let recorded = date["burned_fraction"].as_f64().unwrap();
            assert!(
                (burned - recorded).abs() < 0.01,
                "{product}: NBR < 0.1 on {burned}, truth {recorded}"
            );
            assert!(
                (mean - date["mean_nbr"].as_f64().unwrap()).abs() < 1e-3,
                "{product}: mean NBR {mean}"
            );
            assert!(recorded > previous, "the scar grows");
            previous = recorded;
        }
    }

    #[test]
    fn debris_raises_the_fdi_of_the_sea_where_the_truth_says() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        plastic(&mut builder).unwrap();
        builder.write_index().unwrap();
        let truth = truth(dir.path());
        let product = truth["s2_plastic"]["product"].as_str().unwrap();
        let band = |name| read_band(dir.path(), product, name, 20).1;
        let (green, re2, nir, swir) = (band("B03"), band("B06"), band("B8A"), band("B11"));
        let debris = (0..green.len())
            .filter(|&i| {
                let fdi = (nir[i] - (re2[i] + (swir[i] - re2[i]) * FDI_FACTOR)) / 10_000.0;
                let ndwi = (green[i] - nir[i]) / (green[i] + nir[i]);
                fdi > 0.0225 && ndwi > 0.0
            })
            .count() as f64;
        let recorded = truth["s2_plastic"]["patch_pixels_20m"].as_f64().unwrap();
        assert!(recorded > 100.0, "{recorded} debris pixels");
        assert!(
            (debris - recorded).abs() / recorded < 0.1,
            "FDI finds {debris}, truth {recorded}"
        );
    }

    #[test]
    fn snow_is_where_the_ndsi_says() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        snow(&mut builder).unwrap();
        builder.write_index().unwrap();
        let truth = truth(dir.path());
        let product = truth["s2_snow"]["product"].as_str().unwrap();
        let (_, green) = read_band(dir.path(), product, "B03", 20);
        let (_, swir) = read_band(dir.path(), product, "B11", 20);
        let ndsi = nd(&green, &swir);
        let snowy = ndsi.iter().filter(|&&v| v > 0.4).count() as f64 / ndsi.len() as f64;
        let recorded = truth["s2_snow"]["snow_fraction"].as_f64().unwrap();
        eprintln!("snow {snowy} truth {recorded}");
        assert!(
            (0.02..0.1).contains(&recorded),
            "late-July patches, not a snowfield: {recorded}"
        );
        assert!(
            (snowy - recorded).abs() < 0.005,
            "NDSI > 0.4 on {snowy}, truth {recorded}"
        );
    }
}
