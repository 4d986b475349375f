//! Coastlines and country borders (Natural Earth at 1:10m, 1:50m and
//! 1:110m, public domain, embedded gzipped; see basemap/README.md), so maps
//! have context offline, and land masks drawn from the same coastlines.
//!
//! A map takes the scale that suits its extent ([`Scale::for_extent`]): a
//! gulf gets the 1:10m coast (at 1:50m Istria is a straight line), a
//! continent the 1:110m one (at 1:10m it is a scribble of islands).

use flate2::read::GzDecoder;
use std::io::Read;
use std::sync::OnceLock;

/// One coastline or border polyline in lon/lat degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct BasemapLine {
    pub border: bool,
    pub points: Vec<(f64, f64)>,
    /// `(lon_min, lat_min, lon_max, lat_max)` of the points.
    pub bounds: (f64, f64, f64, f64),
}

/// The Natural Earth scales embedded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scale {
    /// 1:10m (world-atlas quantises it to 0.0036° × 0.0017°, about 400 × 190 m).
    Fine,
    /// 1:50m.
    Medium,
    /// 1:110m.
    Coarse,
}

impl Scale {
    /// The scale for a map of `bounds` (lon/lat): 1:10m up to 6° across,
    /// 1:50m up to 40°, 1:110m beyond.
    pub fn for_extent((x0, y0, x1, y1): (f64, f64, f64, f64)) -> Scale {
        let span = (x1 - x0).abs().max((y1 - y0).abs());
        if span <= 6.0 {
            Scale::Fine
        } else if span <= 40.0 {
            Scale::Medium
        } else {
            Scale::Coarse
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    fn packed(self) -> &'static [u8] {
        match self {
            Scale::Fine => include_bytes!("basemap/ne-10m.bin.gz"),
            Scale::Medium => include_bytes!("basemap/ne-50m.bin.gz"),
            Scale::Coarse => include_bytes!("basemap/ne-110m.bin.gz"),
        }
    }
}

/// Every line at 1:50m, the scale the demo archive's land masks are
/// computed at (so the archive does not change with the maps' scale).
pub fn lines() -> &'static [BasemapLine] {
    lines_at(Scale::Medium)
}

/// Every line at `scale` as Natural Earth gives it (coastlines as closed
/// rings, which land masks fill), decoded on first use.
pub fn lines_at(scale: Scale) -> &'static [BasemapLine] {
    static LINES: [OnceLock<Vec<BasemapLine>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    LINES[scale.index()].get_or_init(|| {
        let mut bytes = Vec::new();
        GzDecoder::new(scale.packed())
            .read_to_end(&mut bytes)
            .ok()
            .and_then(|_| decode(&bytes))
            .expect("the embedded basemap is well formed")
    })
}

/// The lines as maps draw them: cut where they cross the antimeridian.
fn drawn_lines(scale: Scale) -> &'static [BasemapLine] {
    static DRAWN: [OnceLock<Vec<BasemapLine>>; 3] =
        [OnceLock::new(), OnceLock::new(), OnceLock::new()];
    DRAWN[scale.index()].get_or_init(|| {
        lines_at(scale)
            .iter()
            .flat_map(|line| {
                split_at_antimeridian(line.points.clone())
                    .into_iter()
                    .map(|part| line_of(line.border, part))
            })
            .collect()
    })
}

/// The lines to draw on a map of `bounds` (lon/lat), at the scale that
/// suits its extent.
pub fn lines_near(bounds: (f64, f64, f64, f64)) -> impl Iterator<Item = &'static BasemapLine> {
    lines_near_at(Scale::for_extent(bounds), bounds)
}

/// The lines at `scale` that reach into `bounds` (lon/lat).
pub fn lines_near_at(
    scale: Scale,
    (x0, y0, x1, y1): (f64, f64, f64, f64),
) -> impl Iterator<Item = &'static BasemapLine> {
    drawn_lines(scale).iter().filter(move |l| {
        l.bounds.0 <= x1 && l.bounds.2 >= x0 && l.bounds.1 <= y1 && l.bounds.3 >= y0
    })
}

/// Land and sea from the coastlines: the coastline arcs are each used by
/// one country, so together they bound the land, and a point is on land
/// when a ray east of it crosses them an odd number of times. South of
/// 80° S is all Antarctic land or ice shelf (the data's ring around the
/// pole does not close there).
pub struct LandMask {
    /// The coastline segments `[x1, y1, x2, y2]` crossing each 1° band of
    /// latitude, so a parallel tests only the segments near it.
    bands: Vec<Vec<[f64; 4]>>,
}

impl LandMask {
    /// The mask at `scale`, built on first use.
    pub fn at(scale: Scale) -> &'static LandMask {
        static MASKS: [OnceLock<LandMask>; 3] = [OnceLock::new(), OnceLock::new(), OnceLock::new()];
        MASKS[scale.index()].get_or_init(|| LandMask::new(lines_at(scale)))
    }

    fn new(lines: &[BasemapLine]) -> LandMask {
        let mut bands = vec![Vec::new(); 180];
        for segment in coast_segments(lines) {
            let [_, y1, _, y2] = segment;
            let (first, last) = (band_of(y1.min(y2)), band_of(y1.max(y2)));
            for crossed in &mut bands[first..=last] {
                crossed.push(segment);
            }
        }
        LandMask { bands }
    }

    /// The parallel `lat` as seen by the mask; ask it about longitudes.
    pub fn parallel(&self, lat: f64) -> Parallel {
        let mut crossings: Vec<f64> = self.bands[band_of(lat)]
            .iter()
            .filter(|[_, y1, _, y2]| (*y1 > lat) != (*y2 > lat))
            .map(|[x1, y1, x2, y2]| x1 + (lat - y1) / (y2 - y1) * (x2 - x1))
            .collect();
        crossings.sort_by(f64::total_cmp);
        Parallel {
            polar: lat <= -80.0,
            crossings,
        }
    }

    /// Land (true) or sea for every pixel centre of a lon/lat grid of
    /// `cols` x `rows` covering `bounds`, row 0 at the north.
    pub fn grid(
        &self,
        (x0, y0, x1, y1): (f64, f64, f64, f64),
        cols: usize,
        rows: usize,
    ) -> Vec<bool> {
        let mut land = Vec::with_capacity(cols * rows);
        for row in 0..rows {
            let lat = y1 - (row as f64 + 0.5) / rows as f64 * (y1 - y0);
            let parallel = self.parallel(lat);
            land.extend(
                (0..cols)
                    .map(|col| parallel.is_land(x0 + (col as f64 + 0.5) / cols as f64 * (x1 - x0))),
            );
        }
        land
    }
}

/// The coastline segments `[x1, y1, x2, y2]` of `lines` (borders left
/// out), closed for even-odd tests of land. A coast that crosses the
/// antimeridian (Chukotka, Fiji) jumps from 180° to -180°: the jump is cut
/// there, and the cuts are joined pairwise along the 180° meridian so each
/// side of the land closes. Antarctica's cuts are left out: its ring does
/// not close at the pole (1:10m cuts it once, 1:50m twice), and south of
/// 80° S is land whatever the crossings say.
pub fn coast_segments<'a>(lines: impl IntoIterator<Item = &'a BasemapLine>) -> Vec<[f64; 4]> {
    let mut segments = Vec::new();
    let mut cuts = Vec::new();
    for line in lines.into_iter().filter(|l| !l.border) {
        for pair in line.points.windows(2) {
            let [(x1, y1), (x2, y2)] = [pair[0], pair[1]];
            if (x2 - x1).abs() <= 180.0 {
                segments.push([x1, y1, x2, y2]);
                continue;
            }
            let (edge, unwrapped) = if x1 > 0.0 {
                (180.0, x2 + 360.0)
            } else {
                (-180.0, x2 - 360.0)
            };
            let y = if x1.abs() == 180.0 {
                y1
            } else {
                y1 + (edge - x1) / (unwrapped - x1) * (y2 - y1)
            };
            segments.push([x1, y1, edge, y]);
            segments.push([-edge, y, x2, y2]);
            cuts.push(y);
        }
    }
    cuts.retain(|&y| y > -80.0);
    cuts.sort_by(f64::total_cmp);
    for pair in cuts.chunks_exact(2) {
        segments.push([180.0, pair[0], 180.0, pair[1]]);
    }
    segments
}

/// Where the coastlines cross one parallel of latitude.
pub struct Parallel {
    polar: bool,
    /// Longitudes of the crossings, sorted.
    crossings: Vec<f64>,
}

impl Parallel {
    /// Whether the point of the parallel at `lon` (any of -180..180 or
    /// 0..360) is on land.
    pub fn is_land(&self, lon: f64) -> bool {
        let lon = to_180(lon);
        let east = self.crossings.len() - self.crossings.partition_point(|x| *x <= lon);
        self.polar || east % 2 == 1
    }
}

fn band_of(lat: f64) -> usize {
    ((lat + 90.0).floor().max(0.0) as usize).min(179)
}

/// A longitude in (-180, 180].
fn to_180(lon: f64) -> f64 {
    let wrapped = (lon + 180.0).rem_euclid(360.0) - 180.0;
    if wrapped == -180.0 { 180.0 } else { wrapped }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let slice = self.bytes.get(self.at..self.at + n)?;
        self.at += n;
        Some(slice)
    }

    fn f64(&mut self) -> Option<f64> {
        Some(f64::from_le_bytes(self.take(8)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }

    fn varint(&mut self) -> Option<i64> {
        let (mut value, mut shift) = (0u64, 0);
        loop {
            let byte = *self.take(1)?.first()?;
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                // Undo the zigzag encoding.
                return Some((value >> 1) as i64 ^ -((value & 1) as i64));
            }
            shift += 7;
        }
    }
}

/// Decodes the format written by scripts/make_basemap.py.
fn decode(bytes: &[u8]) -> Option<Vec<BasemapLine>> {
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(5)? != b"CLBM1" {
        return None;
    }
    let (scale_x, scale_y, translate_x, translate_y) =
        (reader.f64()?, reader.f64()?, reader.f64()?, reader.f64()?);
    let count = reader.u32()?;
    let mut lines = Vec::with_capacity(count as usize);
    for _ in 0..count {
        let border = *reader.take(1)?.first()? == 1;
        let n = reader.u32()?;
        let (mut x, mut y) = (0i64, 0i64);
        let mut points = Vec::with_capacity(n as usize);
        for _ in 0..n {
            x += reader.varint()?;
            y += reader.varint()?;
            points.push((
                x as f64 * scale_x + translate_x,
                y as f64 * scale_y + translate_y,
            ));
        }
        lines.push(line_of(border, points));
    }
    Some(lines)
}

/// A polyline crossing the antimeridian (Fiji, Chukotka) jumps from +180°
/// to -180° between two points; drawn as is, that step is a line across
/// the whole map. It is cut there into pieces that each stay on one side.
fn split_at_antimeridian(points: Vec<(f64, f64)>) -> Vec<Vec<(f64, f64)>> {
    let mut parts = vec![Vec::new()];
    for point in points {
        let current = parts.last_mut().expect("one part at least");
        if current
            .last()
            .is_some_and(|last: &(f64, f64)| (point.0 - last.0).abs() > 180.0)
        {
            parts.push(vec![point]);
        } else {
            current.push(point);
        }
    }
    parts.retain(|part| part.len() >= 2);
    parts
}

fn line_of(border: bool, points: Vec<(f64, f64)>) -> BasemapLine {
    let bounds = points.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |b, p| (b.0.min(p.0), b.1.min(p.1), b.2.max(p.0), b.3.max(p.1)),
    );
    BasemapLine {
        border,
        points,
        bounds,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_line_jumps_across_the_antimeridian() {
        let jumps = drawn_lines(Scale::Medium)
            .iter()
            .flat_map(|l| l.points.windows(2))
            .filter(|w| (w[1].0 - w[0].0).abs() > 180.0)
            .count();
        assert_eq!(jumps, 0);
        let fiji = lines_near((177.0, -19.0, 180.0, -16.0)).count();
        assert!(fiji > 0, "Fiji's coastlines are still there");
    }

    #[test]
    fn the_embedded_data_decodes_to_world_coastlines_and_borders() {
        let all = lines();
        assert!(all.len() > 1000);
        assert!(all.iter().any(|l| l.border) && all.iter().any(|l| !l.border));
        assert!(all.iter().all(|l| {
            l.points
                .iter()
                .all(|&(x, y)| (-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y))
        }));
    }

    #[test]
    fn each_map_gets_the_scale_of_its_extent() {
        // The Gulf of Trieste, Italy, Australia.
        assert_eq!(Scale::for_extent((13.5, 45.5, 13.9, 45.8)), Scale::Fine);
        assert_eq!(Scale::for_extent((6.0, 36.0, 19.0, 47.5)), Scale::Medium);
        assert_eq!(
            Scale::for_extent((110.0, -45.0, 160.0, -5.0)),
            Scale::Coarse
        );
        let points = |scale| {
            lines_at(scale)
                .iter()
                .map(|l| l.points.len())
                .sum::<usize>()
        };
        assert!(points(Scale::Fine) > 5 * points(Scale::Medium));
        assert!(points(Scale::Medium) > 5 * points(Scale::Coarse));
    }

    #[test]
    fn istria_has_a_coast_at_1_10m() {
        // The peninsula's west coast runs 13.5-13.9 E, 44.8-45.6 N: at
        // 1:50m it is a few straight segments, at 1:10m a coast.
        let istria = (13.4, 44.7, 14.2, 45.7);
        let vertices = |scale| {
            lines_near_at(scale, istria)
                .filter(|l| !l.border)
                .flat_map(|l| l.points.iter())
                .filter(|&&(x, y)| x >= istria.0 && x <= istria.2 && y >= istria.1 && y <= istria.3)
                .count()
        };
        assert!(vertices(Scale::Fine) > 100, "{}", vertices(Scale::Fine));
        assert!(vertices(Scale::Fine) > 4 * vertices(Scale::Medium));
        assert_eq!(
            lines_near(istria).count(),
            lines_near_at(Scale::Fine, istria).count(),
            "a map of Istria draws the 1:10m lines"
        );
    }

    #[test]
    fn the_land_mask_knows_land_from_sea() {
        // (lon, lat, land): Sardinia, the Tyrrhenian Sea, Trieste and its
        // gulf, Fiji's Viti Levu and the sea beside it, Antarctica, the
        // Caspian Sea (a lake bounded by coastlines).
        let places = [
            (9.0, 40.0, true),
            (11.5, 40.0, false),
            (13.80, 45.65, true),
            (13.60, 45.65, false),
            (178.0, -17.8, true),
            (179.5, -17.8, false),
            (0.0, -85.0, true),
            (51.0, 42.0, false),
        ];
        for scale in [Scale::Fine, Scale::Medium, Scale::Coarse] {
            let mask = LandMask::at(scale);
            for (lon, lat, land) in places {
                if scale == Scale::Coarse && (lon - 13.7_f64).abs() < 0.2 {
                    continue; // the Gulf of Trieste is below 1:110m's detail
                }
                assert_eq!(
                    mask.parallel(lat).is_land(lon),
                    land,
                    "{scale:?} ({lon}, {lat})"
                );
            }
        }
        // A grid over Sardinia's west coast: land on the east, sea on the west.
        let grid = LandMask::at(Scale::Fine).grid((7.5, 39.5, 9.5, 40.5), 20, 10);
        assert_eq!(grid.len(), 200);
        assert!(!grid[5 * 20] && grid[5 * 20 + 19]);
    }

    #[test]
    fn sardinia_has_a_coastline_and_no_border() {
        let near: Vec<_> = lines_near((8.0, 38.8, 9.9, 41.3)).collect();
        assert!(
            near.iter()
                .any(|l| !l.border && l.bounds.0 > 7.5 && l.bounds.2 < 10.0),
            "Sardinia's own coast"
        );
        let italy_austria: Vec<_> = lines_near((11.0, 46.5, 13.0, 47.2))
            .filter(|l| l.border)
            .collect();
        assert!(!italy_austria.is_empty(), "the Alps have borders");
    }
}
