//! Coastlines and country borders (Natural Earth 1:50m, public domain,
//! embedded; see basemap/README.md), so maps have context offline.

use std::sync::OnceLock;

/// One coastline or border polyline in lon/lat degrees.
#[derive(Debug, Clone, PartialEq)]
pub struct BasemapLine {
    pub border: bool,
    pub points: Vec<(f64, f64)>,
    /// `(lon_min, lat_min, lon_max, lat_max)` of the points.
    pub bounds: (f64, f64, f64, f64),
}

static DATA: &[u8] = include_bytes!("basemap/ne-50m.bin");

/// Every line as Natural Earth gives it (coastlines as closed rings, which
/// land masks fill), decoded on first use.
pub fn lines() -> &'static [BasemapLine] {
    static LINES: OnceLock<Vec<BasemapLine>> = OnceLock::new();
    LINES.get_or_init(|| decode(DATA).expect("the embedded basemap is well formed"))
}

/// The lines as maps draw them: cut where they cross the antimeridian.
fn drawn_lines() -> &'static [BasemapLine] {
    static DRAWN: OnceLock<Vec<BasemapLine>> = OnceLock::new();
    DRAWN.get_or_init(|| {
        lines()
            .iter()
            .flat_map(|line| {
                split_at_antimeridian(line.points.clone())
                    .into_iter()
                    .map(|part| line_of(line.border, part))
            })
            .collect()
    })
}

/// The lines to draw on a map of `bounds` (lon/lat).
pub fn lines_near(bounds: (f64, f64, f64, f64)) -> impl Iterator<Item = &'static BasemapLine> {
    let (x0, y0, x1, y1) = bounds;
    drawn_lines().iter().filter(move |l| {
        l.bounds.0 <= x1 && l.bounds.2 >= x0 && l.bounds.1 <= y1 && l.bounds.3 >= y0
    })
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
        let jumps = drawn_lines()
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
