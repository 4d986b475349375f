//! The landscape toolkit the optical and radar scenes share, so that a
//! student's first picture looks like the Earth: multi-scale noise, domain
//! warping for organic edges, field parcels, town blocks, meandering rivers,
//! the real coast (Natural Earth 1:10m) as a signed distance, turbid water
//! and thin cloud.
//!
//! Everything is a pure function of the place (and a seed): the same
//! position always gets the same value, whichever thread computes it, so
//! products are reproducible and the truths can be recomputed from what is
//! written.

use cleope_eo::plot::basemap::{LandMask, Scale};

/// Hash-based textures and noise.
pub(crate) mod texture {
    /// SplitMix64's finaliser: a well-mixed 64-bit hash of `z`.
    pub fn mix(mut z: u64) -> u64 {
        z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A hash of a seed and three coordinates.
    pub fn hash(seed: u64, a: i64, b: i64, c: u64) -> u64 {
        mix(seed ^ mix((a as u64) ^ mix((b as u64) ^ mix(c))))
    }

    /// A number in [0, 1) from a hash.
    pub fn unit(h: u64) -> f64 {
        (h >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// A standard normal deviate for the given coordinates (Box–Muller).
    pub fn gaussian(seed: u64, a: i64, b: i64, c: u64) -> f64 {
        let h = hash(seed, a, b, c);
        let u1 = unit(h).max(1e-12);
        let u2 = unit(mix(h));
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// Smooth noise in [-1, 1] on a lattice of `cell` metres.
    pub fn value(seed: u64, x: f64, y: f64, cell: f64) -> f64 {
        let (gx, gy) = (x / cell, y / cell);
        let (ix, iy) = (gx.floor(), gy.floor());
        let smooth = |t: f64| t * t * (3.0 - 2.0 * t);
        let (fx, fy) = (smooth(gx - ix), smooth(gy - iy));
        let corner =
            |dx: i64, dy: i64| unit(hash(seed, ix as i64 + dx, iy as i64 + dy, 7)) * 2.0 - 1.0;
        let top = corner(0, 0) + (corner(1, 0) - corner(0, 0)) * fx;
        let bottom = corner(0, 1) + (corner(1, 1) - corner(0, 1)) * fx;
        top + (bottom - top) * fy
    }

    /// Fractal noise in about [-1, 1]: `octaves` layers from `cell` metres
    /// down, each half the size and half the weight of the one before.
    pub fn fractal(seed: u64, x: f64, y: f64, cell: f64, octaves: u32) -> f64 {
        let (mut sum, mut weight, mut total, mut size) = (0.0, 1.0, 0.0, cell);
        for octave in 0..octaves {
            sum += weight * value(seed.wrapping_add(octave as u64 * 7919), x, y, size);
            total += weight;
            weight *= 0.5;
            size *= 0.5;
        }
        sum / total
    }

    /// Ridged fractal noise in [0, 1]: sharp crests (1) where the noise
    /// crosses zero, broad troughs between, as mountain ridges and valleys.
    pub fn ridged(seed: u64, x: f64, y: f64, cell: f64, octaves: u32) -> f64 {
        let (mut sum, mut weight, mut total, mut size) = (0.0, 1.0, 0.0, cell);
        for octave in 0..octaves {
            let crest = 1.0 - value(seed.wrapping_add(octave as u64 * 104_729), x, y, size).abs();
            sum += weight * crest * crest;
            total += weight;
            weight *= 0.5;
            size *= 0.5;
        }
        sum / total
    }

    /// The place (x, y) moved by up to about `amplitude` metres of fractal
    /// noise of `cell` metres: shapes drawn at the moved place get organic,
    /// self-similar edges instead of geometric ones.
    pub fn warp(seed: u64, x: f64, y: f64, cell: f64, amplitude: f64) -> (f64, f64) {
        (
            x + amplitude * fractal(seed ^ 0x5741_5250, x, y, cell, 4),
            y + amplitude * fractal(seed ^ 0x5741_5251, x, y, cell, 4),
        )
    }
}

use texture::{fractal, hash, unit, warp};

// ---------------------------------------------------------------------------
// Parcels: fields and town blocks

/// One cell of a [`Parcels`] tessellation at a place.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Parcel {
    /// What the parcel holds, each in [0, 1) and fixed for the whole parcel:
    /// a crop or land-use draw, its vigour and its soil's brightness.
    pub kind: f64,
    pub vigour: f64,
    pub soil: f64,
    /// About how far (m) the place is from the parcel's edge: hedges,
    /// tracks and streets are where it is small.
    pub edge: f64,
}

/// Fields or town blocks: a jittered Voronoi tessellation with cells of
/// about `size` metres, stretched `elongation` times along `angle` (degrees
/// from east), as strip fields and street grids are.
pub(crate) struct Parcels {
    seed: u64,
    size: f64,
    sin_cos: (f64, f64),
    elongation: f64,
}

impl Parcels {
    pub fn new(seed: u64, size: f64, angle_deg: f64, elongation: f64) -> Parcels {
        Parcels {
            seed,
            size,
            sin_cos: angle_deg.to_radians().sin_cos(),
            elongation,
        }
    }

    /// The parcel at (x, y) metres.
    pub fn at(&self, x: f64, y: f64) -> Parcel {
        let (s, c) = self.sin_cos;
        let u = (x * c + y * s) / self.elongation / self.size;
        let v = (-x * s + y * c) / self.size;
        let (iu, iv) = (u.floor() as i64, v.floor() as i64);
        let (mut first, mut second, mut owner) = (f64::INFINITY, f64::INFINITY, 0);
        for du in -1..=1 {
            for dv in -1..=1 {
                let h = hash(self.seed, iu + du, iv + dv, 0x9A);
                let fu = (iu + du) as f64 + 0.15 + 0.7 * unit(h);
                let fv = (iv + dv) as f64 + 0.15 + 0.7 * unit(texture::mix(h));
                let d = ((u - fu).powi(2) + (v - fv).powi(2)).sqrt();
                if d < first {
                    (second, first, owner) = (first, d, h);
                } else if d < second {
                    second = d;
                }
            }
        }
        let draw = |k: u64| unit(texture::mix(owner ^ k));
        Parcel {
            kind: draw(1),
            vigour: draw(2),
            soil: draw(3),
            edge: (second - first) / 2.0 * self.size,
        }
    }
}

// ---------------------------------------------------------------------------
// Rivers

/// A meandering river: a centreline along `angle` (degrees from east)
/// through `origin`, swinging by `amplitude` metres over `wavelength`,
/// with a warped, irregular course, `width` metres wide.
pub(crate) struct River {
    pub seed: u64,
    pub origin: (f64, f64),
    pub angle_deg: f64,
    pub wavelength: f64,
    pub amplitude: f64,
    pub width: f64,
}

impl River {
    /// How far (m) the place is from the water's edge: negative in the river.
    pub fn bank_distance(&self, x: f64, y: f64) -> f64 {
        let (s, c) = self.angle_deg.to_radians().sin_cos();
        let (dx, dy) = (x - self.origin.0, y - self.origin.1);
        let (along, across) = (dx * c + dy * s, -dx * s + dy * c);
        let phase = along / self.wavelength * std::f64::consts::TAU;
        let swing = self.amplitude
            * (phase.sin() + 0.35 * (2.7 * phase + 1.3).sin())
            * (1.0 + 0.4 * fractal(self.seed, along, 0.0, self.wavelength * 1.5, 2));
        let course =
            swing + 0.25 * self.amplitude * fractal(self.seed ^ 0xC0, along, 0.0, 400.0, 3);
        let width = self.width * (1.0 + 0.25 * fractal(self.seed ^ 0x1D, along, 0.0, 600.0, 2));
        (across - course).abs() - width / 2.0
    }
}

// ---------------------------------------------------------------------------
// The real coast

/// The coast of Natural Earth's 1:10m coastlines, the ones cleope draws on
/// maps, over a scene's grid: each cell's signed distance (m) to the coast,
/// positive on land. Between cell centres the distance is interpolated, so
/// a scene can add noise to it and draw a natural shore at any scale.
pub(crate) struct Coast {
    left: f64,
    top: f64,
    cell: f64,
    cols: usize,
    rows: usize,
    distance: Vec<f32>,
}

impl Coast {
    /// The coast over `cols` x `rows` cells of `cell` metres whose first
    /// (north-west) corner is at (`left`, `top`) in the scene's metres;
    /// `to_lonlat` gives the lon/lat of scene points.
    pub fn new<E>(
        (left, top): (f64, f64),
        cell: f64,
        (cols, rows): (usize, usize),
        to_lonlat: impl FnOnce(&[(f64, f64)]) -> Result<Vec<(f64, f64)>, E>,
    ) -> Result<Coast, E> {
        let centres: Vec<(f64, f64)> = (0..rows)
            .flat_map(|row| {
                (0..cols).map(move |col| {
                    (
                        left + (col as f64 + 0.5) * cell,
                        top - (row as f64 + 0.5) * cell,
                    )
                })
            })
            .collect();
        let land = land_at(&to_lonlat(&centres)?, cell);
        let inward = distance_to_other_kind(&land, cols, rows, (cell as f32, cell as f32));
        let distance = land
            .iter()
            .zip(inward)
            .map(|(&is_land, d)| if is_land { d } else { -d })
            .collect();
        Ok(Coast {
            left,
            top,
            cell,
            cols,
            rows,
            distance,
        })
    }

    /// Signed distance (m) to the coast at (x, y): positive on land.
    /// Beyond the grid, the value at its nearest edge.
    pub fn distance(&self, x: f64, y: f64) -> f64 {
        let gx = ((x - self.left) / self.cell - 0.5).clamp(0.0, (self.cols - 1) as f64);
        let gy = ((self.top - y) / self.cell - 0.5).clamp(0.0, (self.rows - 1) as f64);
        let (c0, r0) = (gx.floor() as usize, gy.floor() as usize);
        let (c1, r1) = ((c0 + 1).min(self.cols - 1), (r0 + 1).min(self.rows - 1));
        let (fx, fy) = (gx - c0 as f64, gy - r0 as f64);
        let at = |r: usize, c: usize| f64::from(self.distance[r * self.cols + c]);
        let upper = at(r0, c0) + (at(r0, c1) - at(r0, c0)) * fx;
        let lower = at(r1, c0) + (at(r1, c1) - at(r1, c0)) * fx;
        upper + (lower - upper) * fy
    }
}

/// Land (true) or sea at each lon/lat point, from the 1:10m land mask on a
/// lon/lat grid about as fine as `cell` metres over the points' box.
fn land_at(points: &[(f64, f64)], cell: f64) -> Vec<bool> {
    let bounds = points.iter().fold(
        (
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ),
        |(x0, y0, x1, y1), &(x, y)| (x0.min(x), y0.min(y), x1.max(x), y1.max(y)),
    );
    let step = cell / 2.0 / 111_320.0;
    let (x0, y0) = (bounds.0 - step, bounds.1 - step);
    let cols = ((bounds.2 + step - x0) / step).ceil() as usize;
    let rows = ((bounds.3 + step - y0) / step).ceil() as usize;
    let (x1, y1) = (x0 + cols as f64 * step, y0 + rows as f64 * step);
    let grid = LandMask::at(Scale::Fine).grid((x0, y0, x1, y1), cols, rows);
    points
        .iter()
        .map(|&(lon, lat)| {
            let col = (((lon - x0) / step) as usize).min(cols - 1);
            let row = (((y1 - lat) / step) as usize).min(rows - 1);
            grid[row * cols + col]
        })
        .collect()
}

/// Each cell's distance to the nearest cell of the other kind (land to
/// water, water to land), in the units of the cells' sides `(dx, dy)`: a
/// two-pass chamfer transform from both sides of the edge. A grid of one
/// kind only is everywhere infinitely far from the other.
pub(crate) fn distance_to_other_kind(
    land: &[bool],
    width: usize,
    height: usize,
    (dx, dy): (f32, f32),
) -> Vec<f32> {
    let diagonal = (dx * dx + dy * dy).sqrt();
    let mut distance: Vec<f32> = (0..land.len())
        .map(|i| {
            let (row, col) = (i / width, i % width);
            let differs = |r: usize, c: usize| land[r * width + c] != land[i];
            let edge = (col > 0 && differs(row, col - 1))
                || (col + 1 < width && differs(row, col + 1))
                || (row > 0 && differs(row - 1, col))
                || (row + 1 < height && differs(row + 1, col));
            if edge {
                dx.min(dy) / 2.0
            } else {
                f32::INFINITY
            }
        })
        .collect();
    let forward = [
        (-1isize, -1isize, diagonal),
        (-1, 0, dy),
        (-1, 1, diagonal),
        (0, -1, dx),
    ];
    let backward = [
        (1isize, 1isize, diagonal),
        (1, 0, dy),
        (1, -1, diagonal),
        (0, 1, dx),
    ];
    let mut relax = |row: usize, col: usize, steps: &[(isize, isize, f32)]| {
        let here = row * width + col;
        for &(dr, dc, cost) in steps {
            let (r, c) = (row as isize + dr, col as isize + dc);
            if r >= 0 && c >= 0 && (r as usize) < height && (c as usize) < width {
                let there = r as usize * width + c as usize;
                if land[there] == land[here] {
                    distance[here] = distance[here].min(distance[there] + cost);
                }
            }
        }
    };
    for row in 0..height {
        for col in 0..width {
            relax(row, col, &forward);
        }
    }
    for row in (0..height).rev() {
        for col in (0..width).rev() {
            relax(row, col, &backward);
        }
    }
    distance
}

/// A shore drawn from the coast's distance: the distance (m) to the scene's
/// own, natural coastline, which wanders up to `amplitude` metres either
/// side of Natural Earth's (whose 1:10m vertices are a few hundred metres
/// apart) with fractal bays and headlands.
pub(crate) fn natural_shore(coast: &Coast, seed: u64, x: f64, y: f64, amplitude: f64) -> f64 {
    let (wx, wy) = warp(seed, x, y, 900.0, amplitude * 0.6);
    coast.distance(wx, wy) + amplitude * 0.5 * fractal(seed ^ 0x5E0A, x, y, 700.0, 5)
}

// ---------------------------------------------------------------------------
// Water and air

/// How turbid coastal water is (0 clear to 1 laden): sediment near the
/// shore (`offshore` metres out), fading over `reach` metres in swirls.
pub(crate) fn turbidity(seed: u64, x: f64, y: f64, offshore: f64, reach: f64) -> f32 {
    let (wx, wy) = warp(seed, x, y, reach, reach * 0.5);
    let swirls = 0.65 + 0.5 * fractal(seed ^ 0x7B, wx, wy, reach * 0.6, 4);
    ((-offshore.max(0.0) / reach).exp() * swirls).clamp(0.0, 1.0) as f32
}

/// How much thin cloud or haze veils a place (0 to 1): fractal wisps of
/// `cell` metres, none where the noise is below `clear`, thickening over
/// `ramp` above it.
pub(crate) fn cloud(seed: u64, x: f64, y: f64, cell: f64, clear: f64, ramp: f64) -> f32 {
    let (wx, wy) = warp(seed, x, y, cell, cell * 0.3);
    (((fractal(seed ^ 0xC10D, wx, wy, cell, 5) - clear) / ramp).clamp(0.0, 1.0)) as f32
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parcels_are_constant_inside_and_their_edges_are_near_zero_between() {
        let fields = Parcels::new(3, 200.0, 20.0, 1.5);
        let a = fields.at(1000.0, 1000.0);
        let b = fields.at(1001.0, 1000.5);
        assert_eq!(a.kind, b.kind, "one parcel holds one crop");
        let edges = (0..2000)
            .map(|i| fields.at(i as f64, 0.0).edge)
            .filter(|&e| e < 5.0)
            .count();
        assert!((10..400).contains(&edges), "{edges} of 2000 m along hedges");
    }

    #[test]
    fn the_coast_is_where_natural_earth_puts_it() {
        // Across the Gulf of Trieste at 45.65 N, in metres east of 13.6 E:
        // sea at 13.70 E, land (the city) at 13.80 E.
        let metres = 111_320.0 * 45.65f64.to_radians().cos();
        let coast = Coast::new((0.0, 1000.0), 50.0, (400, 40), |points| {
            Ok::<_, ()>(
                points
                    .iter()
                    .map(|&(x, y)| (13.6 + x / metres, 45.65 + (y - 500.0) / 110_574.0))
                    .collect(),
            )
        })
        .unwrap();
        let at = |lon: f64| coast.distance((lon - 13.6) * metres, 500.0);
        assert!(at(13.70) < -1000.0, "sea: {}", at(13.70));
        assert!(at(13.80) > 500.0, "land: {}", at(13.80));
    }

    #[test]
    fn rivers_are_as_wide_as_asked_on_average() {
        let river = River {
            seed: 9,
            origin: (0.0, 0.0),
            angle_deg: 90.0,
            wavelength: 1500.0,
            amplitude: 300.0,
            width: 60.0,
        };
        let wet = (0..4000)
            .flat_map(|j| (-60..60).map(move |i| (i as f64 * 10.0, j as f64)))
            .filter(|&(x, y)| river.bank_distance(x, y) < 0.0)
            .count() as f64;
        let width = wet * 10.0 / 4000.0;
        assert!((40.0..80.0).contains(&width), "mean width {width} m");
    }
}
