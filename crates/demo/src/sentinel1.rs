//! Sentinel-1 IW GRDH products of the demo archive, in the real SAFE
//! structure: `manifest.safe` (times, orbit, pass, footprint, files with
//! MD5), `annotation/*.xml` (product times, image size, pixel spacing,
//! geolocation grid), `annotation/calibration/` (calibration and noise
//! vectors) and `measurement/s1a-iw-grd-<pol>-<start>-<stop>-<orbit>-<datatake>-00<n>.tiff`:
//! uint16 amplitude GeoTIFFs in radar geometry located by ground control
//! points only (no geotransform), as real GRD measurements are.
//!
//! The TIFF `DateTime` tag holds the *processing* time, not the sensing
//! time: one Trieste product was reprocessed later, so sorting by that tag
//! (as CLEOPE did) puts it last. The sensing time is in the product name.
//!
//! Scenes are mean amplitudes with multiplicative speckle (4.4 looks): a dark
//! sea roughened by the wind on the real coast, fields and woods, towns of
//! bright blocks between streets, harbour piers, ships and new buildings
//! (drawn with the landscape toolkit, `landscape.rs`).

use super::landscape::{Coast, Parcels, natural_shore, texture};
use super::{ArchiveBuilder, DemoError, Packing, ProductSpec, scene_rng};
use chrono::{Duration, NaiveDateTime};
use gdal::raster::Buffer;
use gdal::spatial_ref::SpatialRef;
use gdal::{DriverManager, Gcp, Metadata};
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, Gamma};
use rayon::prelude::*;
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};

/// The ships tutorial's area (Gulf of Trieste).
pub const TRIESTE_AOI: [f64; 4] = [13.639219, 45.615343, 13.780783, 45.682543];
/// The land-use tutorial's area (Wuhan, Huoshenshan hospital).
pub const WUHAN_AOI: [f64; 4] = [114.06722222, 30.52527778, 114.095, 30.54];

/// Pixel spacing of IW GRDH products (m), in range and azimuth.
const SPACING: f64 = 10.0;
/// Equivalent number of looks of IW GRDH intensity.
const LOOKS: f64 = 4.4;
/// Ground around the area the image covers beyond it (m).
const MARGIN: f64 = 400.0;

/// Writes the Trieste and Wuhan time series.
pub fn write(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    trieste(builder)?;
    wuhan(builder)?;
    Ok(())
}

// ---------------------------------------------------------------------------
// Acquisitions and their names

/// One acquisition: what the product name, manifest and annotation say.
#[derive(Debug, Clone)]
pub struct Acquisition {
    /// "S1A" or "S1B".
    pub platform: &'static str,
    pub start: NaiveDateTime,
    pub absolute_orbit: u32,
    pub datatake: u32,
    /// The product's unique identifier (4 hex digits).
    pub unique: &'static str,
    pub ascending: bool,
    /// When the product was (re)processed: the TIFF DateTime tag.
    pub processed: NaiveDateTime,
}

fn at(text: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S").expect("a valid time")
}

impl Acquisition {
    /// IW GRD slices last 25 seconds.
    pub fn stop(&self) -> NaiveDateTime {
        self.start + Duration::seconds(25)
    }

    /// `S1A_IW_GRDH_1SDV_<start>_<stop>_<orbit>_<datatake>_<id>`.
    pub fn name(&self) -> String {
        format!(
            "{}_IW_GRDH_1SDV_{}_{}_{:06}_{:06X}_{}",
            self.platform,
            self.start.format("%Y%m%dT%H%M%S"),
            self.stop().format("%Y%m%dT%H%M%S"),
            self.absolute_orbit,
            self.datatake,
            self.unique
        )
    }

    /// The file stem of a polarisation's measurement and annotation:
    /// `s1a-iw-grd-vh-<start>-<stop>-<orbit>-<datatake>-002` (VV is image 001).
    pub fn stem(&self, polarisation: &str) -> String {
        let image = if polarisation == "vv" { 1 } else { 2 };
        format!(
            "{}-iw-grd-{polarisation}-{}-{}-{:06}-{:06x}-{image:03}",
            self.platform.to_lowercase(),
            self.start.format("%Y%m%dt%H%M%S"),
            self.stop().format("%Y%m%dt%H%M%S"),
            self.absolute_orbit,
            self.datatake
        )
    }

    /// The track: S1A and S1B number their 175 orbits per cycle from different starts.
    pub fn relative_orbit(&self) -> u32 {
        let first = if self.platform == "S1A" { 73 } else { 27 };
        (self.absolute_orbit - first) % 175 + 1
    }

    /// The flight direction, degrees clockwise from north.
    fn heading(&self) -> f64 {
        if self.ascending { -12.5 } else { 192.5 }
    }

    fn pass(&self) -> &'static str {
        if self.ascending {
            "ASCENDING"
        } else {
            "DESCENDING"
        }
    }
}

// ---------------------------------------------------------------------------
// Radar geometry

/// Where each image pixel lies on the ground: lines run along the flight,
/// samples across it to the right (the radar looks right), 10 m apart.
#[derive(Debug, Clone)]
struct Geometry {
    centre: (f64, f64),
    heading: f64,
    samples: usize,
    lines: usize,
}

/// Metres per degree of longitude and latitude at `lat`.
fn metres_per_degree(lat: f64) -> (f64, f64) {
    (111_320.0 * lat.to_radians().cos(), 110_574.0)
}

impl Geometry {
    /// The smallest image in this flight direction that covers the area and its margin.
    fn covering(aoi: [f64; 4], heading: f64) -> Geometry {
        let centre = ((aoi[0] + aoi[2]) / 2.0, (aoi[1] + aoi[3]) / 2.0);
        let (kx, ky) = metres_per_degree(centre.1);
        let (s, c) = heading.to_radians().sin_cos();
        let (mut along, mut across) = (0.0f64, 0.0f64);
        for (lon, lat) in [
            (aoi[0], aoi[1]),
            (aoi[2], aoi[1]),
            (aoi[2], aoi[3]),
            (aoi[0], aoi[3]),
        ] {
            let (east, north) = ((lon - centre.0) * kx, (lat - centre.1) * ky);
            along = along.max((east * s + north * c).abs());
            across = across.max((east * c - north * s).abs());
        }
        Geometry {
            centre,
            heading,
            samples: (2.0 * (across + MARGIN) / SPACING).ceil() as usize,
            lines: (2.0 * (along + MARGIN) / SPACING).ceil() as usize,
        }
    }

    /// Lon/lat of the image position (sample, line).
    fn ground(&self, sample: f64, line: f64) -> (f64, f64) {
        let along = (line - (self.lines as f64 - 1.0) / 2.0) * SPACING;
        let across = (sample - (self.samples as f64 - 1.0) / 2.0) * SPACING;
        let (s, c) = self.heading.to_radians().sin_cos();
        let east = along * s + across * c;
        let north = along * c - across * s;
        let (kx, ky) = metres_per_degree(self.centre.1);
        (self.centre.0 + east / kx, self.centre.1 + north / ky)
    }

    /// The geolocation grid: 21 points across by 10 along, edges included.
    fn grid(&self) -> Vec<(f64, f64, f64, f64)> {
        let mut points = Vec::new();
        for j in 0..10 {
            let line = j as f64 * (self.lines - 1) as f64 / 9.0;
            for i in 0..21 {
                let sample = i as f64 * (self.samples - 1) as f64 / 20.0;
                let (lon, lat) = self.ground(sample, line);
                points.push((sample, line, lon, lat));
            }
        }
        points
    }

    /// True on the image's border of zero DN: real GRD images have no data
    /// in their first and last samples and lines (outside every area, which
    /// lies `MARGIN` inside the image).
    fn on_border(&self, sample: usize, line: usize) -> bool {
        const SAMPLES: usize = 8;
        const LINES: usize = 4;
        sample < SAMPLES
            || sample + SAMPLES >= self.samples
            || line < LINES
            || line + LINES >= self.lines
    }

    /// The image corners on the ground (first line first).
    fn footprint(&self) -> Vec<(f64, f64)> {
        let (s, l) = ((self.samples - 1) as f64, (self.lines - 1) as f64);
        vec![
            self.ground(0.0, 0.0),
            self.ground(s, 0.0),
            self.ground(s, l),
            self.ground(0.0, l),
        ]
    }
}

// ---------------------------------------------------------------------------
// Scenes

/// Mean amplitude (DN) of the ground at a lon/lat, in VH or VV.
trait Backscatter: Sync {
    fn amplitude(&self, lon: f64, lat: f64, vv: bool) -> f64;
    /// Terrain height (m), for the geolocation grid.
    fn height(&self, lon: f64, lat: f64) -> f64;
}

/// True when (lon, lat) is inside the ring.
fn inside(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let ((xi, yi), (xj, yj)) = (ring[i], ring[j]);
        if (yi > lat) != (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

/// A ship: position, size (m), heading (degrees clockwise from north), brightness (DN).
#[derive(Debug, Clone, Copy)]
pub struct Ship {
    pub lon: f64,
    pub lat: f64,
    pub length: f64,
    pub beam: f64,
    pub heading: f64,
    pub brightness: f64,
}

impl Ship {
    /// The ship's return at a place: bright over its hull, fading at its edges.
    fn echo(&self, lon: f64, lat: f64) -> f64 {
        let (kx, ky) = metres_per_degree(self.lat);
        let (east, north) = ((lon - self.lon) * kx, (lat - self.lat) * ky);
        if east.abs() > self.length || north.abs() > self.length {
            return 0.0;
        }
        let (s, c) = self.heading.to_radians().sin_cos();
        let along = east * s + north * c;
        let across = east * c - north * s;
        let r =
            ((along / (self.length / 2.0)).powi(2) + (across / (self.beam / 2.0)).powi(2)).sqrt();
        if r < 1.0 {
            self.brightness * (1.0 - 0.4 * r * r)
        } else {
            0.0
        }
    }
}

/// The Gulf of Trieste on the real coast: the city's blocks and harbour
/// piers, the Karst's fields and woods behind, the Muggia peninsula, the
/// sea roughened in streaks by the wind, and the day's ships.
struct Trieste {
    ships: Vec<Ship>,
    coast: Coast,
    /// Where each pier meets the shore (lon/lat).
    pier_roots: Vec<(f64, f64)>,
    seed: u64,
}

impl Trieste {
    /// The latitude whose metres per degree textures and the coast use.
    const LATITUDE: f64 = 45.65;
    /// Harbour piers: latitude, length westwards from the shore and width
    /// (m); each reaches 150 m inland, so it joins the town.
    const PIERS: [(f64, f64, f64); 5] = [
        (45.6575, 260.0, 50.0),
        (45.6525, 300.0, 60.0),
        (45.6455, 220.0, 45.0),
        (45.6405, 340.0, 80.0),
        (45.6330, 380.0, 90.0),
    ];

    /// Built-up areas: centre (lon/lat) and half axes east and north (m).
    const TOWNS: [((f64, f64), (f64, f64)); 2] = [
        ((13.782, 45.650), (2600.0, 2900.0)),
        ((13.768, 45.604), (1200.0, 700.0)),
    ];

    fn new(ships: &[Ship]) -> Trieste {
        let (kx, ky) = metres_per_degree(Trieste::LATITUDE);
        let [x0, y0, x1, y1] = TRIESTE_AOI;
        let margin = 1500.0;
        let cell = 30.0;
        let corner = (x0 * kx - margin, y1 * ky + margin);
        let size = (
            (((x1 - x0) * kx + 2.0 * margin) / cell) as usize,
            (((y1 - y0) * ky + 2.0 * margin) / cell) as usize,
        );
        let coast = Coast::new(corner, cell, size, |points| {
            Ok::<_, ()>(points.iter().map(|&(x, y)| (x / kx, y / ky)).collect())
        })
        .expect("lon/lat of metres");
        let pier_roots = Self::PIERS
            .iter()
            .map(|&(lat, _, _)| {
                let shore = (0..10_000)
                    .map(|i| 13.70 + i as f64 * 1e-5)
                    .find(|lon| coast.distance(lon * kx, lat * ky) > 0.0)
                    .unwrap_or(13.76);
                (shore, lat)
            })
            .collect();
        Trieste {
            ships: ships.to_vec(),
            coast,
            pier_roots,
            seed: scene_rng("s1-trieste").random::<u64>(),
        }
    }

    fn pier(&self, lon: f64, lat: f64) -> bool {
        Self::PIERS.iter().zip(&self.pier_roots).any(
            |(&(_, length, width), &(root_lon, root_lat))| {
                let (kx, ky) = metres_per_degree(root_lat);
                let (east, north) = ((lon - root_lon) * kx, (lat - root_lat) * ky);
                (-length..150.0).contains(&east) && north.abs() < width / 2.0
            },
        )
    }

    /// The town's blocks (bright: walls and ground make corner reflectors)
    /// between darker streets, or the Karst's fields and woods.
    fn land(&self, lon: f64, lat: f64, vv: bool) -> f64 {
        let (kx, ky) = metres_per_degree(Trieste::LATITUDE);
        let (x, y) = (lon * kx, lat * ky);
        let town = Self::TOWNS.iter().any(|&((town_lon, town_lat), (a, b))| {
            let (east, north) = ((lon - town_lon) * kx, (lat - town_lat) * ky);
            let edge = 0.12 * texture::value(self.seed ^ 0x7E, x, y, 900.0);
            (east / a).powi(2) + (north / b).powi(2) < (1.0 + edge).powi(2)
        });
        let texture = texture::fractal(self.seed, x, y, 120.0, 3);
        if town {
            let block = Parcels::new(self.seed ^ 0xB1, 90.0, 35.0, 1.4).at(x, y);
            let street = if block.edge < 6.0 { 0.6 } else { 1.0 };
            return ((900.0 + 500.0 * block.vigour + 300.0 * texture) * street).max(250.0);
        }
        let field = Parcels::new(self.seed ^ 0xF1, 180.0, 10.0, 1.6).at(x, y);
        let woods = field.kind > 0.55;
        let mean = if woods {
            230.0 + 40.0 * texture
        } else {
            140.0 + 90.0 * field.vigour + 30.0 * texture
        };
        mean * if vv { 1.6 } else { 1.0 }
    }
}

impl Backscatter for Trieste {
    fn amplitude(&self, lon: f64, lat: f64, vv: bool) -> f64 {
        let (kx, ky) = metres_per_degree(Trieste::LATITUDE);
        let (x, y) = (lon * kx, lat * ky);
        let ship = self
            .ships
            .iter()
            .map(|s| s.echo(lon, lat))
            .fold(0.0, f64::max);
        if ship > 0.0 {
            return ship;
        }
        if self.pier(lon, lat) {
            // Cranes, containers and moored ships: the brightest returns ashore.
            return 1500.0 + 500.0 * texture::fractal(self.seed ^ 0x91, x, y, 60.0, 2);
        }
        if natural_shore(&self.coast, self.seed, x, y, 60.0) > 0.0 {
            return self.land(lon, lat, vv);
        }
        // The wind (bora, from the east-north-east) roughens the sea in
        // streaks along it; the shore's lee is calmer.
        let (s, c) = 20f64.to_radians().sin_cos();
        let (along, across) = (x * c + y * s, -x * s + y * c);
        let streaks = texture::fractal(self.seed ^ 0x3D, along / 4.0, across, 900.0, 4);
        let gusts = texture::fractal(self.seed ^ 0x3E, x, y, 4000.0, 3);
        let lee = 0.65 + 0.35 * (1.0 - (self.coast.distance(x, y) / 2500.0).exp()).clamp(0.0, 1.0);
        (30.0 + 6.0 * streaks + 6.0 * gusts) * lee * if vv { 3.2 } else { 1.0 }
    }

    fn height(&self, lon: f64, lat: f64) -> f64 {
        let (kx, ky) = metres_per_degree(Trieste::LATITUDE);
        if self.coast.distance(lon * kx, lat * ky) > 0.0 {
            120.0
        } else {
            0.0
        }
    }
}

/// Wuhan's Zhiyin Lake shore, where the Huoshenshan hospital was built in
/// ten days (late January 2020): bare ground before, then rows of bright
/// wards in a compound of blocks; the town's fabric of blocks and streets,
/// fields changing with the season, a lake roughened by the wind.
struct Wuhan {
    built: bool,
    /// Fields change a little with the season.
    season: f64,
    seed: u64,
}

impl Wuhan {
    /// The hospital's compound, lon/lat: wings of wards along the lake,
    /// a notch left for the car park.
    const HOSPITAL: [(f64, f64); 6] = [
        (114.0812, 30.5296),
        (114.0848, 30.5296),
        (114.0848, 30.5313),
        (114.0836, 30.5313),
        (114.0836, 30.5324),
        (114.0812, 30.5324),
    ];
    const LAKE_CENTRE: (f64, f64) = (114.0715, 30.5352);
    /// Sheds built on fields in March (the last date only): blue in the
    /// three dates' RGB, but too late for the change the tutorial maps
    /// (the mean of the last two dates rises by about 7 dB, not 12).
    const SHEDS: [f64; 4] = [114.0868, 30.5262, 114.0884, 30.5272];

    /// The compound's area (km²) and centroid (lon/lat): the shoelace
    /// formulas over its outline.
    fn hospital_area_and_centre() -> (f64, (f64, f64)) {
        let ring = Self::HOSPITAL;
        let (mut twice_area, mut cx, mut cy) = (0.0, 0.0, 0.0);
        for i in 0..ring.len() {
            let ((x1, y1), (x2, y2)) = (ring[i], ring[(i + 1) % ring.len()]);
            let cross = x1 * y2 - x2 * y1;
            twice_area += cross;
            cx += (x1 + x2) * cross;
            cy += (y1 + y2) * cross;
        }
        let centre = (cx / (3.0 * twice_area), cy / (3.0 * twice_area));
        let (kx, ky) = metres_per_degree(centre.1);
        (twice_area.abs() / 2.0 * kx * ky / 1e6, centre)
    }

    /// The compound's bounds (lon_min, lat_min, lon_max, lat_max).
    fn hospital_bounds() -> [f64; 4] {
        let ring = Self::HOSPITAL;
        let lons = ring.iter().map(|p| p.0);
        let lats = ring.iter().map(|p| p.1);
        [
            lons.clone().fold(f64::INFINITY, f64::min),
            lats.clone().fold(f64::INFINITY, f64::min),
            lons.fold(f64::NEG_INFINITY, f64::max),
            lats.fold(f64::NEG_INFINITY, f64::max),
        ]
    }

    /// The town east of the site: blocks of buildings between streets.
    fn town(&self, x: f64, y: f64) -> f64 {
        let block = Parcels::new(self.seed ^ 0x0C, 70.0, 12.0, 1.5).at(x, y);
        if block.edge < 6.0 {
            return 260.0;
        }
        let texture = texture::fractal(self.seed ^ 0x0D, x, y, 40.0, 2);
        550.0 + 450.0 * block.vigour + 150.0 * texture
    }

    /// Fields, each with its own crop, which the season changes.
    fn fields(&self, x: f64, y: f64) -> f64 {
        let field = Parcels::new(self.seed ^ 0xF1, 120.0, 5.0, 2.2).at(x, y);
        if field.edge < 3.0 {
            return 110.0;
        }
        let texture = texture::fractal(self.seed ^ 0xF2, x, y, 60.0, 2);
        let crop = 130.0 + 90.0 * field.vigour + 25.0 * texture;
        crop * (1.0 + self.season * (field.kind - 0.5) * 0.3)
    }
}

impl Backscatter for Wuhan {
    fn amplitude(&self, lon: f64, lat: f64, vv: bool) -> f64 {
        let (kx, ky) = metres_per_degree(30.53);
        let (x, y) = (lon * kx, lat * ky);
        let polarisation = if vv { 1.7 } else { 1.0 };
        if inside(&Self::HOSPITAL, lon, lat) {
            if self.built {
                // Rows of prefabricated wards: double bounce between walls and ground.
                let rows = (y / 22.0 * std::f64::consts::TAU).sin();
                return (1700.0 + 700.0 * rows) * polarisation;
            }
            return (120.0 + 25.0 * texture::fractal(self.seed, x, y, 60.0, 2)) * polarisation;
        }
        let [x0, y0, x1, y1] = Self::SHEDS;
        if self.season > 0.5 && (x0..x1).contains(&lon) && (y0..y1).contains(&lat) {
            let roofs = Parcels::new(self.seed ^ 0x5E, 35.0, 0.0, 2.0).at(x, y);
            let gap = if roofs.edge < 4.0 { 0.5 } else { 1.0 };
            return 800.0 * gap * polarisation;
        }
        let (lx, ly) = Self::LAKE_CENTRE;
        let lake = (((lon - lx) * kx / 650.0).powi(2) + ((lat - ly) * ky / 420.0).powi(2)).sqrt();
        if lake < 1.0 + 0.15 * texture::fractal(self.seed ^ 0x1A, x, y, 300.0, 2) {
            let ripples = texture::fractal(self.seed ^ 0x1B, x / 3.0, y, 200.0, 3);
            return 22.0 * (1.0 + 0.35 * ripples) * polarisation * 1.8;
        }
        if lon > 114.0905 {
            return self.town(x, y) * polarisation;
        }
        if (lat - 30.5283).abs() < 0.00012 {
            return 260.0 * polarisation;
        }
        self.fields(x, y) * polarisation
    }

    fn height(&self, _lon: f64, _lat: f64) -> f64 {
        23.0
    }
}

// ---------------------------------------------------------------------------
// Writing a product

/// The measurement image of one polarisation, with speckle, and zero DN
/// (no data) on its borders as real GRD images have.
fn render(geometry: &Geometry, scene: &dyn Backscatter, vv: bool, seed: u64) -> Vec<u16> {
    let speckle = Gamma::new(LOOKS, 1.0 / LOOKS).expect("valid looks");
    let rows: Vec<Vec<u16>> = (0..geometry.lines)
        .into_par_iter()
        .map(|line| {
            let mut rng =
                rand::rngs::StdRng::seed_from_u64(texture::hash(seed, line as i64, vv as i64, 0));
            (0..geometry.samples)
                .map(|sample| {
                    if geometry.on_border(sample, line) {
                        return 0;
                    }
                    let (lon, lat) = geometry.ground(sample as f64, line as f64);
                    let mean = scene.amplitude(lon, lat, vv);
                    let intensity: f64 = speckle.sample(&mut rng);
                    (mean * intensity.sqrt()).round().clamp(1.0, 65_535.0) as u16
                })
                .collect()
        })
        .collect();
    rows.concat()
}

/// Writes a measurement GeoTIFF: uint16, located by GCPs in EPSG:4326, with
/// the tags real GRD measurements carry.
fn write_measurement(
    path: &Path,
    geometry: &Geometry,
    values: Vec<u16>,
    acquisition: &Acquisition,
    scene: &dyn Backscatter,
) -> Result<(), DemoError> {
    let fail = |e: gdal::errors::GdalError| DemoError::product(&path.to_string_lossy(), e);
    let driver = DriverManager::get_driver_by_name("GTiff").map_err(fail)?;
    let (width, height) = (geometry.samples, geometry.lines);
    let mut dataset = driver
        .create_with_band_type::<u16, _>(path, width, height, 1)
        .map_err(fail)?;
    let gcps: Vec<Gcp> = geometry
        .grid()
        .into_iter()
        .enumerate()
        .map(|(i, (pixel, line, lon, lat))| Gcp {
            id: (i + 1).to_string(),
            info: String::new(),
            pixel,
            line,
            x: lon,
            y: lat,
            z: scene.height(lon, lat),
        })
        .collect();
    dataset
        .set_gcps(gcps, &SpatialRef::from_epsg(4326).map_err(fail)?)
        .map_err(fail)?;
    let unit = acquisition.platform.chars().last().unwrap_or('A');
    let tags = [
        (
            "TIFFTAG_DATETIME",
            acquisition
                .processed
                .format("%Y:%m:%d %H:%M:%S")
                .to_string(),
        ),
        (
            "TIFFTAG_IMAGEDESCRIPTION",
            format!("Sentinel-1{unit} IW GRD HR L1"),
        ),
        ("TIFFTAG_SOFTWARE", "Sentinel-1 IPF 003.31".to_string()),
    ];
    for (key, value) in tags {
        dataset.set_metadata_item(key, &value, "").map_err(fail)?;
    }
    dataset
        .rasterband(1)
        .map_err(fail)?
        .write(
            (0, 0),
            (width, height),
            &mut Buffer::new((width, height), values),
        )
        .map_err(fail)?;
    Ok(())
}

fn iso_micros(time: NaiveDateTime) -> String {
    time.format("%Y-%m-%dT%H:%M:%S%.6f").to_string()
}

/// The product annotation of one polarisation: header, image information
/// (times, size, spacing) and the geolocation grid.
fn annotation(
    acquisition: &Acquisition,
    polarisation: &str,
    geometry: &Geometry,
    scene: &dyn Backscatter,
) -> String {
    let (start, stop) = (acquisition.start, acquisition.stop());
    let line_time = |line: f64| {
        let fraction = line / (geometry.lines - 1) as f64;
        start + Duration::microseconds((fraction * 25e6) as i64)
    };
    let grid = geometry.grid();
    let points: String = grid
        .iter()
        .map(|&(pixel, line, lon, lat)| {
            let incidence = 30.5 + 15.0 * pixel / (geometry.samples - 1) as f64;
            format!(
                "      <geolocationGridPoint>\n        <azimuthTime>{}</azimuthTime>\n        <slantRangeTime>{:.9e}</slantRangeTime>\n        <line>{}</line>\n        <pixel>{}</pixel>\n        <latitude>{lat:.9}</latitude>\n        <longitude>{lon:.9}</longitude>\n        <height>{:.3}</height>\n        <incidenceAngle>{incidence:.6}</incidenceAngle>\n      </geolocationGridPoint>\n",
                iso_micros(line_time(line)),
                5.3e-3 + pixel * 6.7e-8,
                line.round(),
                pixel.round(),
                scene.height(lon, lat)
            )
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<product>
  <adsHeader>
    <missionId>{mission}</missionId>
    <productType>GRD</productType>
    <polarisation>{pol}</polarisation>
    <mode>IW</mode>
    <swath>IW</swath>
    <startTime>{start}</startTime>
    <stopTime>{stop}</stopTime>
    <absoluteOrbitNumber>{orbit}</absoluteOrbitNumber>
    <missionDataTakeId>{datatake}</missionDataTakeId>
    <imageNumber>{image}</imageNumber>
  </adsHeader>
  <generalAnnotation>
    <productInformation>
      <pass>{pass}</pass>
      <timelinessCategory>Fast-24h</timelinessCategory>
      <platformHeading>{heading:.6}</platformHeading>
      <projection>Ground Range</projection>
      <radarFrequency>5.405000454334350e+09</radarFrequency>
    </productInformation>
  </generalAnnotation>
  <imageAnnotation>
    <imageInformation>
      <productFirstLineUtcTime>{start}</productFirstLineUtcTime>
      <productLastLineUtcTime>{stop}</productLastLineUtcTime>
      <productComposition>Assembled</productComposition>
      <rangePixelSpacing>{spacing:.6e}</rangePixelSpacing>
      <azimuthPixelSpacing>{spacing:.6e}</azimuthPixelSpacing>
      <numberOfSamples>{samples}</numberOfSamples>
      <numberOfLines>{lines}</numberOfLines>
      <incidenceAngleMidSwath>3.800000e+01</incidenceAngleMidSwath>
    </imageInformation>
  </imageAnnotation>
  <geolocationGrid>
    <geolocationGridPointList count="{count}">
{points}    </geolocationGridPointList>
  </geolocationGrid>
</product>
"#,
        mission = acquisition.platform,
        pol = polarisation.to_uppercase(),
        start = iso_micros(start),
        stop = iso_micros(stop),
        orbit = acquisition.absolute_orbit,
        datatake = acquisition.datatake,
        image = if polarisation == "vv" { "001" } else { "002" },
        pass = if acquisition.ascending {
            "Ascending"
        } else {
            "Descending"
        },
        heading = if acquisition.ascending {
            acquisition.heading()
        } else {
            acquisition.heading() - 360.0
        },
        spacing = SPACING,
        samples = geometry.samples,
        lines = geometry.lines,
        count = grid.len(),
    )
}

/// The incidence angle (degrees) at an image position: 30.5° at near range
/// to 45.5° at far range, as the geolocation grid says, drifting a little
/// along the lines.
fn incidence(geometry: &Geometry, sample: f64, line: f64) -> f64 {
    30.5 + 15.0 * sample / (geometry.samples - 1) as f64 + 0.2 * line / geometry.lines as f64
}

/// β⁰'s table: constant, as in real IW GRD products.
const BETA_TABLE: f64 = 474.0;

/// The lines that carry calibration or noise vectors: about `count` steps
/// apart, the first line and the last one included (real products give one
/// vector about every second of azimuth time, the last at the image end).
fn vector_lines(geometry: &Geometry, count: usize) -> Vec<usize> {
    let step = geometry.lines.div_ceil(count).max(1);
    let mut lines: Vec<usize> = (0..geometry.lines).step_by(step).collect();
    if lines.last() != Some(&(geometry.lines - 1)) {
        lines.push(geometry.lines - 1);
    }
    lines
}

/// The pixels vectors give values at: every 40, and the last one.
fn vector_pixels(geometry: &Geometry) -> Vec<usize> {
    let mut pixels: Vec<usize> = (0..geometry.samples).step_by(40).collect();
    if pixels.last() != Some(&(geometry.samples - 1)) {
        pixels.push(geometry.samples - 1);
    }
    pixels
}

/// Numbers as ESA's annotation writes them ("6.123457e+02").
fn scientific(values: impl IntoIterator<Item = f64>) -> String {
    values
        .into_iter()
        .map(|v| format!("{v:.6e}"))
        .map(|v| match v.split_once('e') {
            Some((mantissa, exponent)) => {
                let exponent: i32 = exponent.parse().unwrap_or(0);
                format!(
                    "{mantissa}e{}{:02}",
                    if exponent < 0 { '-' } else { '+' },
                    exponent.abs()
                )
            }
            None => v,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn integers(values: &[usize]) -> String {
    values
        .iter()
        .map(|v| v.to_string())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The azimuth time of an image line.
fn line_time(acquisition: &Acquisition, geometry: &Geometry, line: usize) -> NaiveDateTime {
    let span = (acquisition.stop() - acquisition.start)
        .num_microseconds()
        .unwrap_or(0);
    acquisition.start + Duration::microseconds(span * line as i64 / geometry.lines.max(1) as i64)
}

/// The calibration annotation: for each vector line, the σ⁰, β⁰ and γ⁰
/// tables at every 40th pixel (σ⁰ = DN² / A²): A_β constant, A_σ = A_β /
/// √sin θ (about 560 to 665 across the image) and A_γ = A_σ √cos θ.
fn calibration(acquisition: &Acquisition, polarisation: &str, geometry: &Geometry) -> String {
    let pixels = vector_pixels(geometry);
    let count = pixels.len();
    let lines = vector_lines(geometry, 8);
    let mut vectors = String::new();
    for &line in &lines {
        let angles: Vec<f64> = pixels
            .iter()
            .map(|&p| incidence(geometry, p as f64, line as f64).to_radians())
            .collect();
        let sigma: Vec<f64> = angles.iter().map(|a| BETA_TABLE / a.sin().sqrt()).collect();
        let gamma = sigma.iter().zip(&angles).map(|(s, a)| s * a.cos().sqrt());
        vectors += &format!(
            "    <calibrationVector>\n      <azimuthTime>{}</azimuthTime>\n      <line>{line}</line>\n      <pixel count=\"{count}\">{}</pixel>\n      <sigmaNought count=\"{count}\">{}</sigmaNought>\n      <betaNought count=\"{count}\">{}</betaNought>\n      <gamma count=\"{count}\">{}</gamma>\n      <dn count=\"{count}\">{}</dn>\n    </calibrationVector>\n",
            iso_micros(line_time(acquisition, geometry, line)),
            integers(&pixels),
            scientific(sigma.iter().copied()),
            scientific(pixels.iter().map(|_| BETA_TABLE)),
            scientific(gamma),
            scientific(pixels.iter().map(|_| BETA_TABLE)),
        );
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<calibration>\n  <adsHeader>\n    <missionId>{}</missionId>\n    <productType>GRD</productType>\n    <polarisation>{}</polarisation>\n    <mode>IW</mode>\n    <swath>IW</swath>\n    <startTime>{}</startTime>\n    <stopTime>{}</stopTime>\n  </adsHeader>\n  <calibrationInformation>\n    <absoluteCalibrationConstant>1.000000e+00</absoluteCalibrationConstant>\n  </calibrationInformation>\n  <calibrationVectorList count=\"{}\">\n{vectors}  </calibrationVectorList>\n</calibration>\n",
        acquisition.platform,
        polarisation.to_uppercase(),
        iso_micros(acquisition.start),
        iso_micros(acquisition.stop()),
        lines.len(),
    )
}

/// The thermal noise annotation (IPF ≥ 2.9): range vectors giving a noise
/// floor near −30 dB in σ⁰ with the scalloping of the sub-swath beams, and
/// one azimuth block (the image lies in IW2) varying by a few percent.
fn noise(acquisition: &Acquisition, polarisation: &str, geometry: &Geometry) -> String {
    let pixels = vector_pixels(geometry);
    let count = pixels.len();
    let range_lines = vector_lines(geometry, 5);
    let mut range = String::new();
    for &line in &range_lines {
        let eta = pixels.iter().map(|&p| {
            let angle = incidence(geometry, p as f64, line as f64).to_radians();
            let floor_db = -30.0 + 1.5 * (p as f64 / 180.0 * std::f64::consts::PI).cos();
            10f64.powf(floor_db / 10.0) * BETA_TABLE * BETA_TABLE / angle.sin()
        });
        range += &format!(
            "    <noiseRangeVector>\n      <azimuthTime>{}</azimuthTime>\n      <line>{line}</line>\n      <pixel count=\"{count}\">{}</pixel>\n      <noiseRangeLut count=\"{count}\">{}</noiseRangeLut>\n    </noiseRangeVector>\n",
            iso_micros(line_time(acquisition, geometry, line)),
            integers(&pixels),
            scientific(eta),
        );
    }
    let azimuth_lines = vector_lines(geometry, 12);
    let factors = azimuth_lines
        .iter()
        .map(|&l| 1.0 + 0.04 * (l as f64 / 90.0).sin());
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<noise>\n  <adsHeader>\n    <missionId>{}</missionId>\n    <productType>GRD</productType>\n    <polarisation>{}</polarisation>\n    <mode>IW</mode>\n    <swath>IW</swath>\n  </adsHeader>\n  <noiseRangeVectorList count=\"{}\">\n{range}  </noiseRangeVectorList>\n  <noiseAzimuthVectorList count=\"1\">\n    <noiseAzimuthVector>\n      <swath>IW2</swath>\n      <firstAzimuthLine>0</firstAzimuthLine>\n      <firstRangeSample>0</firstRangeSample>\n      <lastAzimuthLine>{}</lastAzimuthLine>\n      <lastRangeSample>{}</lastRangeSample>\n      <line count=\"{}\">{}</line>\n      <noiseAzimuthLut count=\"{}\">{}</noiseAzimuthLut>\n    </noiseAzimuthVector>\n  </noiseAzimuthVectorList>\n</noise>\n",
        acquisition.platform,
        polarisation.to_uppercase(),
        range_lines.len(),
        geometry.lines - 1,
        geometry.samples - 1,
        azimuth_lines.len(),
        integers(&azimuth_lines),
        azimuth_lines.len(),
        scientific(factors),
    )
}

/// The SAFE manifest: acquisition period, platform, orbit and pass,
/// product type, footprint, and every file with its size and MD5.
fn manifest(
    acquisition: &Acquisition,
    footprint: &[(f64, f64)],
    safe: &Path,
) -> Result<String, DemoError> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(safe)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| p.file_name().is_some_and(|n| n != "manifest.safe"))
        .collect();
    files.sort();
    let mut objects = String::new();
    for file in &files {
        let (size, md5, _) = super::checksums(file)?;
        let relative = file
            .strip_prefix(safe)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let id = file
            .file_stem()
            .unwrap()
            .to_string_lossy()
            .replace(['-', '.'], "");
        objects += &format!(
            "    <dataObject ID=\"{id}\" repID=\"s1Level1Schema\">\n      <byteStream mimeType=\"application/octet-stream\" size=\"{size}\">\n        <fileLocation locatorType=\"URL\" href=\"./{relative}\"/>\n        <checksum checksumName=\"MD5\">{md5}</checksum>\n      </byteStream>\n    </dataObject>\n"
        );
    }
    let coordinates: Vec<String> = footprint
        .iter()
        .map(|(lon, lat)| format!("{lat:.6},{lon:.6}"))
        .collect();
    let unit = &acquisition.platform[2..];
    let relative = acquisition.relative_orbit();
    Ok(format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<xfdu:XFDU xmlns:xfdu="urn:ccsds:schema:xfdu:1" xmlns:safe="http://www.esa.int/safe/sentinel-1.0" xmlns:s1="http://www.esa.int/safe/sentinel-1.0/sentinel-1" xmlns:s1sarl1="http://www.esa.int/safe/sentinel-1.0/sentinel-1/sar/level-1" xmlns:gml="http://www.opengis.net/gml" version="esa/safe/sentinel-1.0/sentinel-1/sar/level-1/standard/grd">
  <informationPackageMap>
    <xfdu:contentUnit unitType="SAFE Archive Information Package" textInfo="Sentinel-1 IW Level-1 GRD Product"/>
  </informationPackageMap>
  <metadataSection>
    <metadataObject ID="acquisitionPeriod" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Acquisition Period">
        <xmlData>
          <safe:acquisitionPeriod>
            <safe:startTime>{start}</safe:startTime>
            <safe:stopTime>{stop}</safe:stopTime>
          </safe:acquisitionPeriod>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="platform" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Platform Description">
        <xmlData>
          <safe:platform>
            <safe:familyName>SENTINEL-1</safe:familyName>
            <safe:number>{unit}</safe:number>
            <safe:instrument>
              <safe:familyName abbreviation="SAR">Synthetic Aperture Radar</safe:familyName>
              <safe:extension>
                <s1sarl1:instrumentMode>
                  <s1sarl1:mode>IW</s1sarl1:mode>
                </s1sarl1:instrumentMode>
              </safe:extension>
            </safe:instrument>
          </safe:platform>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementOrbitReference" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Orbit Reference">
        <xmlData>
          <safe:orbitReference>
            <safe:orbitNumber type="start">{orbit}</safe:orbitNumber>
            <safe:orbitNumber type="stop">{orbit}</safe:orbitNumber>
            <safe:relativeOrbitNumber type="start">{relative}</safe:relativeOrbitNumber>
            <safe:relativeOrbitNumber type="stop">{relative}</safe:relativeOrbitNumber>
            <safe:extension>
              <s1:orbitProperties>
                <s1:pass>{pass}</s1:pass>
              </s1:orbitProperties>
            </safe:extension>
          </safe:orbitReference>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="generalProductInformation" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="General Product Information">
        <xmlData>
          <s1sarl1:standAloneProductInformation>
            <s1sarl1:productClass>S</s1sarl1:productClass>
            <s1sarl1:productTimelinessCategory>Fast-24h</s1sarl1:productTimelinessCategory>
            <s1sarl1:missionDataTakeID>{datatake}</s1sarl1:missionDataTakeID>
            <s1sarl1:transmitterReceiverPolarisation>VV</s1sarl1:transmitterReceiverPolarisation>
            <s1sarl1:transmitterReceiverPolarisation>VH</s1sarl1:transmitterReceiverPolarisation>
            <s1sarl1:productType>GRD</s1sarl1:productType>
          </s1sarl1:standAloneProductInformation>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="processing" classification="PROVENANCE" category="PDI">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Processing">
        <xmlData>
          <safe:processing name="GRD Post Processing" start="{processed}" stop="{processed}">
            <safe:facility name="Copernicus S1 Core Ground Segment" site="DEMO">
              <safe:software name="Sentinel-1 IPF" version="003.31"/>
            </safe:facility>
          </safe:processing>
        </xmlData>
      </metadataWrap>
    </metadataObject>
    <metadataObject ID="measurementFrameSet" classification="DESCRIPTION" category="DMD">
      <metadataWrap mimeType="text/xml" vocabularyName="SAFE" textInfo="Frame Set">
        <xmlData>
          <safe:frameSet>
            <safe:frame>
              <safe:footPrint srsName="http://www.opengis.net/gml/srs/epsg.xml#4326">
                <gml:coordinates>{coordinates}</gml:coordinates>
              </safe:footPrint>
            </safe:frame>
          </safe:frameSet>
        </xmlData>
      </metadataWrap>
    </metadataObject>
  </metadataSection>
  <dataObjectSection>
{objects}  </dataObjectSection>
</xfdu:XFDU>
"#,
        start = iso_micros(acquisition.start),
        stop = iso_micros(acquisition.stop()),
        orbit = acquisition.absolute_orbit,
        pass = acquisition.pass(),
        datatake = acquisition.datatake,
        processed = iso_micros(acquisition.processed),
        coordinates = coordinates.join(" "),
    ))
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
fn product_spec(acquisition: &Acquisition, footprint: &[(f64, f64)]) -> ProductSpec {
    let name = acquisition.name();
    let day = acquisition.start.format("%Y/%m/%d");
    let mut attributes = Map::new();
    let mut set = |key: &str, value: Value| {
        attributes.insert(key.into(), value);
    };
    set("productType", json!("IW_GRDH_1S"));
    set("orbitNumber", json!(acquisition.absolute_orbit));
    set("relativeOrbitNumber", json!(acquisition.relative_orbit()));
    set("orbitDirection", json!(acquisition.pass()));
    set(
        "platformSerialIdentifier",
        json!(&acquisition.platform[2..]),
    );
    set("instrumentShortName", json!("SAR"));
    set("operationalMode", json!("IW"));
    set("polarisationChannels", json!("VV&VH"));
    set("processingLevel", json!("LEVEL1"));
    set("timeliness", json!("Fast-24h"));
    set("beginningDateTime", json!(iso_millis(acquisition.start)));
    set("endingDateTime", json!(iso_millis(acquisition.stop())));
    set("processingDate", json!(iso_millis(acquisition.processed)));
    ProductSpec {
        name: format!("{name}.zip"),
        cdse_name: Some(format!("{name}.SAFE")),
        mission: Some("Sentinel-1".into()),
        collection: "SENTINEL-1".into(),
        product_type: "IW_GRDH_1S".into(),
        main_class: None,
        begin: iso_millis(acquisition.start),
        end: iso_millis(acquisition.stop()),
        footprint: footprint.to_vec(),
        pseudopath: format!("RADAR/LEVEL-1/{day}"),
        s3_folder: format!("/eodata/Sentinel-1/SAR/IW_GRDH_1S/{day}"),
        online: true,
        packing: Packing::Zip,
        attributes,
    }
}

/// Writes one GRD product (VV and VH) over `aoi` and records it.
fn write_grd(
    builder: &mut ArchiveBuilder,
    acquisition: &Acquisition,
    aoi: [f64; 4],
    scene: &dyn Backscatter,
) -> Result<(), DemoError> {
    let geometry = Geometry::covering(aoi, acquisition.heading());
    let footprint = geometry.footprint();
    let spec = product_spec(acquisition, &footprint);
    let folder = builder.staging(&spec)?;
    let safe = folder.join(format!("{}.SAFE", acquisition.name()));
    let seed = scene_rng(&acquisition.name()).random::<u64>();
    for polarisation in ["vh", "vv"] {
        let stem = acquisition.stem(polarisation);
        let measurement = safe.join(format!("measurement/{stem}.tiff"));
        std::fs::create_dir_all(measurement.parent().unwrap())
            .map_err(|e| DemoError::io(&measurement, e))?;
        let values = render(&geometry, scene, polarisation == "vv", seed);
        write_measurement(&measurement, &geometry, values, acquisition, scene)?;
        write_text(
            &safe.join(format!("annotation/{stem}.xml")),
            &annotation(acquisition, polarisation, &geometry, scene),
        )?;
        write_text(
            &safe.join(format!("annotation/calibration/calibration-{stem}.xml")),
            &calibration(acquisition, polarisation, &geometry),
        )?;
        write_text(
            &safe.join(format!("annotation/calibration/noise-{stem}.xml")),
            &noise(acquisition, polarisation, &geometry),
        )?;
    }
    write_text(
        &safe.join("manifest.safe"),
        &manifest(acquisition, &footprint, &safe)?,
    )?;
    builder.finish(spec)
}

// ---------------------------------------------------------------------------
// The products

fn ship(lon: f64, lat: f64, length: f64, heading: f64) -> Ship {
    Ship {
        lon,
        lat,
        length,
        beam: (length / 6.0).max(14.0),
        heading,
        brightness: 1500.0 + length * 9.0,
    }
}

/// Four dates over the Gulf of Trieste, with one to three ships each
/// (descending morning passes and ascending evening passes).
fn trieste_dates() -> Vec<(Acquisition, Vec<Ship>)> {
    vec![
        (
            Acquisition {
                platform: "S1A",
                start: at("2020-08-18T05:07:05"),
                absolute_orbit: 33967,
                datatake: 0x03F0B8,
                unique: "5D77",
                ascending: false,
                processed: at("2020-09-02T10:11:12"),
            },
            vec![
                ship(13.662, 45.650, 190.0, 35.0),
                ship(13.700, 45.628, 120.0, 110.0),
                ship(13.690, 45.668, 80.0, 160.0),
            ],
        ),
        (
            Acquisition {
                platform: "S1B",
                start: at("2020-08-24T05:06:19"),
                absolute_orbit: 23071,
                datatake: 0x02BC0E,
                unique: "7C3E",
                ascending: false,
                processed: at("2020-08-24T07:41:03"),
            },
            vec![
                ship(13.675, 45.640, 220.0, 60.0),
                ship(13.712, 45.655, 100.0, 20.0),
            ],
        ),
        (
            Acquisition {
                platform: "S1A",
                start: at("2020-08-29T16:51:23"),
                absolute_orbit: 34135,
                datatake: 0x03F5D1,
                unique: "E0A4",
                ascending: true,
                processed: at("2020-08-29T18:22:40"),
            },
            vec![ship(13.668, 45.628, 150.0, 80.0)],
        ),
        (
            Acquisition {
                platform: "S1B",
                start: at("2020-08-30T16:50:37"),
                absolute_orbit: 23159,
                datatake: 0x02BF90,
                unique: "900F",
                ascending: true,
                processed: at("2020-08-30T18:10:55"),
            },
            vec![
                ship(13.655, 45.665, 140.0, 0.0),
                ship(13.705, 45.642, 200.0, 130.0),
                ship(13.680, 45.622, 90.0, 70.0),
            ],
        ),
    ]
}

fn trieste_scene(ships: &[Ship]) -> Trieste {
    Trieste::new(ships)
}

/// The Trieste time series and its truth: ships per date and where.
pub fn trieste(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let mut rows = Vec::new();
    for (acquisition, ships) in trieste_dates() {
        write_grd(builder, &acquisition, TRIESTE_AOI, &trieste_scene(&ships))?;
        let positions: Vec<Value> = ships.iter().map(|s| json!([s.lon, s.lat])).collect();
        rows.push(json!({
            "product": acquisition.name(),
            "date": acquisition.start.format("%Y-%m-%d").to_string(),
            "sensing": acquisition.start.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
            "processed": acquisition.processed.format("%Y:%m:%d %H:%M:%S").to_string(),
            "ships": ships.len(),
            "positions": positions,
        }));
    }
    builder.truth("s1_ships", "aoi", json!(TRIESTE_AOI));
    builder.truth("s1_ships", "dates", json!(rows));
    builder.truth(
        "s1_ships",
        "note",
        json!("ships per date at their lon/lat; the 2020-08-18 product was reprocessed on 2020-09-02, so its TIFF DateTime sorts it last"),
    );
    Ok(())
}

/// Three dates over Wuhan: the Huoshenshan hospital appears between the first two.
fn wuhan(builder: &mut ArchiveBuilder) -> Result<(), DemoError> {
    let acquisitions = [
        (
            "2019-12-22T10:33:18",
            30445,
            0x037E2B,
            "6C21",
            "2019-12-22T13:02:11",
            false,
            -1.0,
        ),
        (
            "2020-02-08T10:33:16",
            31145,
            0x039280,
            "F3B9",
            "2020-02-08T12:58:40",
            true,
            0.0,
        ),
        (
            "2020-03-27T10:33:17",
            31845,
            0x03A6E4,
            "1D58",
            "2020-03-27T13:15:09",
            true,
            1.0,
        ),
    ];
    let mut products = Vec::new();
    for (start, orbit, datatake, unique, processed, built, season) in acquisitions {
        let acquisition = Acquisition {
            platform: "S1A",
            start: at(start),
            absolute_orbit: orbit,
            datatake,
            unique,
            ascending: true,
            processed: at(processed),
        };
        let scene = Wuhan {
            built,
            season,
            seed: scene_rng("s1-wuhan").random::<u64>(),
        };
        write_grd(builder, &acquisition, WUHAN_AOI, &scene)?;
        products.push(acquisition.name());
    }
    let (area, centre) = Wuhan::hospital_area_and_centre();
    builder.truth("s1_lulc", "aoi", json!(WUHAN_AOI));
    builder.truth("s1_lulc", "products", json!(products));
    builder.truth(
        "s1_lulc",
        "changed_area_km2",
        json!((area * 10_000.0).round() / 10_000.0),
    );
    builder.truth("s1_lulc", "changed_bounds", json!(Wuhan::hospital_bounds()));
    builder.truth("s1_lulc", "changed_centre", json!([centre.0, centre.1]));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::DemoOptions;

    fn measurement(root: &Path, acquisition: &Acquisition, polarisation: &str) -> PathBuf {
        let name = acquisition.name();
        root.join(format!(
            "RADAR/LEVEL-1/{}/{name}.zip/{name}.SAFE/measurement/{}.tiff",
            acquisition.start.format("%Y/%m/%d"),
            acquisition.stem(polarisation)
        ))
    }

    /// The measurement warped by its GCPs onto a lon/lat grid over `aoi`
    /// with GDAL's own warper, as `gdalwarp -te ... -tr ...` does.
    fn warped(path: &Path, aoi: [f64; 4], resolution: f64) -> (Vec<f32>, usize, usize) {
        use cleope_eo::gdal::dataset::Origin;
        let numbers = |values: &[f64]| values.iter().map(|v| v.to_string()).collect::<Vec<_>>();
        let mut args: Vec<String> = [
            // GTiff in memory: cleope keeps no MEM driver (see eo::gdal::library).
            "-of",
            "GTiff",
            "-t_srs",
            "EPSG:4326",
            "-r",
            "near",
            "-ot",
            "Float32",
            "-te",
        ]
        .map(String::from)
        .to_vec();
        args.extend(numbers(&aoi));
        args.push("-tr".into());
        args.extend(numbers(&[resolution, resolution]));
        let target = cleope_eo::gdal::dataset::built_path("test-warped");
        let source = path.to_string_lossy();
        cleope_eo::gdal::utilities::warp(&source, Origin::File, &args, &target)
            .expect("the warp failed");
        let warped = cleope_eo::gdal::dataset::open_built(&target).unwrap();
        let (width, height) = warped.raster_size();
        let values = warped
            .rasterband(1)
            .unwrap()
            .read_as::<f32>((0, 0), (width, height), (width, height), None)
            .unwrap();
        (values.data().to_vec(), width, height)
    }

    /// Sizes of the 8-connected regions of `mask`.
    fn regions(mask: &[bool], width: usize) -> Vec<usize> {
        let mut seen = vec![false; mask.len()];
        let mut sizes = Vec::new();
        for start in 0..mask.len() {
            if !mask[start] || seen[start] {
                continue;
            }
            let (mut stack, mut size) = (vec![start], 0);
            seen[start] = true;
            while let Some(i) = stack.pop() {
                size += 1;
                let (col, row) = ((i % width) as i64, (i / width) as i64);
                for (dc, dr) in [
                    (-1, -1),
                    (0, -1),
                    (1, -1),
                    (-1, 0),
                    (1, 0),
                    (-1, 1),
                    (0, 1),
                    (1, 1),
                ] {
                    let (c, r) = (col + dc, row + dr);
                    if c < 0 || r < 0 || c >= width as i64 || r >= (mask.len() / width) as i64 {
                        continue;
                    }
                    let j = r as usize * width + c as usize;
                    if mask[j] && !seen[j] {
                        seen[j] = true;
                        stack.push(j);
                    }
                }
            }
            sizes.push(size);
        }
        sizes
    }

    #[test]
    fn names_follow_the_sentinel1_conventions() {
        let (first, _) = &trieste_dates()[0];
        assert_eq!(
            first.name(),
            "S1A_IW_GRDH_1SDV_20200818T050705_20200818T050730_033967_03F0B8_5D77"
        );
        assert_eq!(
            first.stem("vh"),
            "s1a-iw-grd-vh-20200818t050705-20200818t050730-033967-03f0b8-002"
        );
        assert_eq!(
            first.stem("vv"),
            "s1a-iw-grd-vv-20200818t050705-20200818t050730-033967-03f0b8-001"
        );
        let parsed = cleope_eo::products::names::parse(&first.name()).unwrap();
        assert_eq!(parsed.start, first.start);
    }

    #[test]
    fn grd_measurements_are_gcp_located_uint16_and_show_the_recorded_ships() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        let dates = trieste_dates();
        for (acquisition, ships) in [&dates[0], &dates[2]] {
            write_grd(
                &mut builder,
                acquisition,
                TRIESTE_AOI,
                &trieste_scene(ships),
            )
            .unwrap();
            let path = measurement(dir.path(), acquisition, "vh");
            let dataset = cleope_eo::gdal::dataset::open(&path).unwrap();
            assert!(
                dataset.geo_transform().is_err(),
                "located by GCPs only, like real GRD"
            );
            assert_eq!(dataset.gcps().len(), 210);
            assert_eq!(
                dataset.rasterband(1).unwrap().band_type(),
                gdal::raster::GdalDataType::UInt16
            );
            let processed = acquisition
                .processed
                .format("%Y:%m:%d %H:%M:%S")
                .to_string();
            assert_eq!(
                dataset.metadata_item("TIFFTAG_DATETIME", ""),
                Some(processed)
            );
            assert!(measurement(dir.path(), acquisition, "vv").is_file());

            let resolution = 1e-4;
            let (values, width, _) = warped(&path, TRIESTE_AOI, resolution);
            let at = |lon: f64, lat: f64| {
                let col = ((lon - TRIESTE_AOI[0]) / resolution) as usize;
                let row = ((TRIESTE_AOI[3] - lat) / resolution) as usize;
                (row, col)
            };
            for ship in ships {
                let (row, col) = at(ship.lon, ship.lat);
                let brightest = (row - 3..=row + 3)
                    .flat_map(|r| (col - 3..=col + 3).map(move |c| (r, c)))
                    .map(|(r, c)| values[r * width + c])
                    .fold(0.0f32, f32::max);
                assert!(
                    brightest > 1200.0,
                    "an echo at {}, {}: {brightest}",
                    ship.lon,
                    ship.lat
                );
            }
            // Open sea west of the coast and north of Muggia: bright spots there are the ships.
            let (sea_row, sea_col) = at(13.73, 45.62);
            let mask: Vec<bool> = values
                .iter()
                .enumerate()
                .map(|(i, &v)| i / width < sea_row && i % width < sea_col && v > 1000.0)
                .collect();
            let found = regions(&mask, width)
                .into_iter()
                .filter(|&size| size >= 4)
                .count();
            assert_eq!(found, ships.len(), "{}", acquisition.name());
        }
    }

    #[test]
    fn the_hospital_appears_between_the_first_two_wuhan_dates_over_the_recorded_area() {
        let dir = tempfile::tempdir().unwrap();
        let mut builder = ArchiveBuilder::new(dir.path(), DemoOptions::default()).unwrap();
        wuhan(&mut builder).unwrap();
        builder.write_index().unwrap();
        let truth: Value =
            serde_json::from_str(&std::fs::read_to_string(dir.path().join("truth.json")).unwrap())
                .unwrap();
        let resolution = 5e-5;
        let names = truth["s1_lulc"]["products"].as_array().unwrap();
        let image = |i: usize| {
            let name = names[i].as_str().unwrap();
            let path = walkdir::WalkDir::new(dir.path())
                .into_iter()
                .filter_map(Result::ok)
                .map(|e| e.into_path())
                .find(|p| {
                    p.to_string_lossy().contains(name)
                        && p.to_string_lossy().contains("-vh-")
                        && p.extension().is_some_and(|e| e == "tiff")
                })
                .unwrap();
            warped(&path, WUHAN_AOI, resolution)
        };
        let ((before, width, _), (after, _, _)) = (image(0), image(1));
        let smooth = |values: &[f32], i: usize| {
            let (col, row) = (i % width, i / width);
            let mut sum = 0.0;
            let mut n = 0.0;
            for r in row.saturating_sub(2)..=(row + 2).min(values.len() / width - 1) {
                for c in col.saturating_sub(2)..=(col + 2).min(width - 1) {
                    sum += values[r * width + c];
                    n += 1.0;
                }
            }
            sum / n
        };
        let changed = (0..before.len())
            .filter(|&i| smooth(&after, i) > 4.0 * smooth(&before, i))
            .count();
        let (kx, ky) = metres_per_degree(30.53);
        let area = changed as f64 * resolution * kx * resolution * ky / 1e6;
        let recorded = truth["s1_lulc"]["changed_area_km2"].as_f64().unwrap();
        assert!(
            (area - recorded).abs() / recorded < 0.15,
            "changed {area} km², truth {recorded}"
        );
    }
}
