//! Image operations for detection tasks (the Sentinel-1 ship detection):
//! filters, binary morphology, connected components, contours and minimum
//! enclosing circles, on a raster evaluated in memory at full resolution.
//!
//! Every operation charges its buffers to the memory budget first, and runs
//! in parts (strips of rows, or tiles with a margin) on the session's pool,
//! checking the interrupt and the deadline as it goes, so that a large image
//! stops within a fraction of a second. A part sees every pixel its results
//! depend on, so the results are those of the whole image at once (the tests
//! compare them with imageproc's whole-image functions).

use super::{Compute, RasterError};
use crate::validity::is_valid;
use cleope_sandbox::{Cancel, Stop};
use imageproc::distance_transform::Norm;
use imageproc::image::GrayImage;
use rayon::prelude::*;

/// What describing one region takes while it is measured: its running
/// figures, the first allocation of its row ends, and its description.
const REGION_BYTES: u64 = (std::mem::size_of::<Region>()
    + cleope_sandbox::allocation_bytes(4 * 3 * std::mem::size_of::<usize>())
    + std::mem::size_of::<Component>()) as u64;

/// Rows of output a filter computes between two looks at the interrupt.
const STRIP_ROWS: usize = 64;

/// The side of the tiles morphology works on (plus its radius around).
const TILE: usize = 512;

/// A band of values in memory, row by row.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    pub width: usize,
    pub height: usize,
    pub values: Vec<f32>,
}

/// One connected region of a mask, in pixel coordinates (pixel centres).
#[derive(Debug, Clone, PartialEq)]
pub struct Component {
    pub label: u32,
    pub pixels: usize,
    /// Mean column and row of its pixels.
    pub centroid: (f64, f64),
    /// `(col_min, row_min, col_max, row_max)`, inclusive.
    pub extent: (usize, usize, usize, usize),
    /// The smallest circle holding every pixel centre: `(col, row, radius)`.
    pub circle: (f64, f64, f64),
}

impl Plane {
    fn pixels(&self) -> usize {
        self.width * self.height
    }

    fn is_inside(value: f32) -> bool {
        is_valid(value) && value != 0.0
    }

    /// Charges `bytes_per_pixel` bytes a pixel, plus `extra`, for `what`.
    fn charge(
        &self,
        compute: &Compute,
        bytes_per_pixel: usize,
        extra: usize,
        what: &str,
    ) -> Result<cleope_sandbox::MemoryCharge, RasterError> {
        let bytes = (self.pixels() as u64)
            .saturating_mul(bytes_per_pixel as u64)
            .saturating_add(extra as u64);
        let purpose = format!("{what} of a {} x {} raster", self.width, self.height);
        Ok(compute.budget.charge(bytes, &purpose)?)
    }

    /// A plane like this one holding `values`.
    fn with_values(&self, values: Vec<f32>) -> Plane {
        Plane {
            width: self.width,
            height: self.height,
            values,
        }
    }

    /// The largest value in the `size` x `size` window around each pixel
    /// (missing values ignored), computed row-wise then column-wise.
    pub fn max_filter(&self, size: usize, compute: &Compute) -> Result<Plane, RasterError> {
        let _buffers = self.charge(compute, 8, 0, "the maximum filter")?;
        let reach = size / 2;
        let (width, height) = (self.width, self.height);
        let mut along_rows = vec![f32::NAN; self.pixels()];
        by_strips(&mut along_rows, width, compute, |first, strip| {
            for (i, out) in strip.chunks_mut(width).enumerate() {
                let row = &self.values[(first + i) * width..][..width];
                for (col, value) in out.iter_mut().enumerate() {
                    *value = window_max(reach, col, width, |c| row[c]);
                }
            }
            Ok(())
        })?;
        let mut values = vec![f32::NAN; self.pixels()];
        by_strips(&mut values, width, compute, |first, strip| {
            for (i, out) in strip.chunks_mut(width).enumerate() {
                let row = first + i;
                for (col, value) in out.iter_mut().enumerate() {
                    *value = window_max(reach, row, height, |r| along_rows[r * width + col]);
                }
            }
            Ok(())
        })?;
        Ok(self.with_values(values))
    }

    /// Gaussian smoothing with standard deviation `sigma` pixels. Missing
    /// pixels neither count nor spread: values and validity are blurred
    /// together and divided (normalised convolution).
    ///
    /// The blur is imageproc's (`gaussian_blur_f32`: its kernel, a row pass
    /// then a column pass, edges extended, the same sums in the same order),
    /// computed strip by strip: each strip runs the row pass over its rows
    /// and the kernel's reach around them, then the column pass.
    pub fn gaussian_blur(&self, sigma: f32, compute: &Compute) -> Result<Plane, RasterError> {
        let kernel = gaussian_kernel(sigma);
        let reach = kernel.len() / 2;
        let (width, height) = (self.width, self.height);
        let rows = STRIP_ROWS.max(2 * reach);
        // Two row-pass buffers a strip (values and validity), a strip per thread.
        let scratch =
            2 * (rows + 2 * reach).min(height) * width * 4 * compute.pool.current_num_threads();
        let _buffers = self.charge(compute, 4, scratch, "a Gaussian blur")?;
        let mut values = vec![f32::NAN; self.pixels()];
        let filled = |first: usize, strip: &mut [f32]| -> Result<(), Stop> {
            let last = first + strip.len() / width;
            let (top, bottom) = (first.saturating_sub(reach), (last + reach).min(height));
            let mut sums = vec![0.0f32; (bottom - top) * width];
            let mut counts = vec![0.0f32; (bottom - top) * width];
            for row in top..bottom {
                compute.cancel.check()?;
                let input = &self.values[row * width..][..width];
                let at = (row - top) * width;
                row_pass(input, &kernel, &mut sums[at..at + width], |v| {
                    if is_valid(v) { v } else { 0.0 }
                });
                row_pass(input, &kernel, &mut counts[at..at + width], |v| {
                    f32::from(u8::from(is_valid(v)))
                });
            }
            let (mut sum, mut count) = (vec![0.0f32; width], vec![0.0f32; width]);
            for (i, out) in strip.chunks_mut(width).enumerate() {
                compute.cancel.check()?;
                let row = first + i;
                sum.fill(0.0);
                count.fill(0.0);
                for (k, &weight) in kernel.iter().enumerate() {
                    // The row `k - reach` away, the image's edge rows extended.
                    let source = (row + k).saturating_sub(reach).min(height - 1) - top;
                    let at = source * width;
                    for col in 0..width {
                        sum[col] += sums[at + col] * weight;
                        count[col] += counts[at + col] * weight;
                    }
                }
                let original = &self.values[row * width..][..width];
                for col in 0..width {
                    out[col] = if !is_valid(original[col]) || count[col] <= 1e-6 {
                        f32::NAN
                    } else {
                        sum[col] / count[col]
                    };
                }
            }
            Ok(())
        };
        by_strips_of(&mut values, width, rows, compute, filled)?;
        Ok(self.with_values(values))
    }

    /// The mask as 0/255 bytes (non-zero, non-missing pixels inside).
    fn mask_image(&self) -> GrayImage {
        let pixels = self
            .values
            .iter()
            .map(|&v| if Plane::is_inside(v) { 255 } else { 0 })
            .collect();
        GrayImage::from_raw(self.width as u32, self.height as u32, pixels).expect("sizes match")
    }

    /// A mask (non-zero = inside) shrunk by `radius` pixels (beyond the edge
    /// of the image counts as inside, so regions touching it keep that side).
    pub fn erode(&self, radius: u8, compute: &Compute) -> Result<Plane, RasterError> {
        self.morphology(radius, compute, imageproc::morphology::erode)
    }

    /// A mask grown by `radius` pixels.
    pub fn dilate(&self, radius: u8, compute: &Compute) -> Result<Plane, RasterError> {
        self.morphology(radius, compute, imageproc::morphology::dilate)
    }

    /// imageproc's erosion or dilation (Chebyshev distance), tile by tile:
    /// a pixel's result depends only on the pixels within `radius` of it,
    /// which its tile's margin holds.
    fn morphology(
        &self,
        radius: u8,
        compute: &Compute,
        operation: fn(&GrayImage, Norm, u8) -> GrayImage,
    ) -> Result<Plane, RasterError> {
        let margin = usize::from(radius);
        let side = TILE + 2 * margin;
        let scratch = 3 * side * side * compute.pool.current_num_threads();
        let _buffers = self.charge(compute, 5, scratch, "a morphology")?;
        let mask = self.mask_image();
        let (width, height) = (self.width, self.height);
        let mut values = vec![0.0f32; self.pixels()];
        by_strips_of(&mut values, width, TILE, compute, |first, strip| {
            let last = first + strip.len() / width;
            let (top, bottom) = (first.saturating_sub(margin), (last + margin).min(height));
            for left in (0..width).step_by(TILE) {
                compute.cancel.check()?;
                let right = (left + TILE).min(width);
                let (x0, x1) = (left.saturating_sub(margin), (right + margin).min(width));
                let tile = imageproc::image::imageops::crop_imm(
                    &mask,
                    x0 as u32,
                    top as u32,
                    (x1 - x0) as u32,
                    (bottom - top) as u32,
                )
                .to_image();
                let result = operation(&tile, Norm::LInf, radius);
                for (i, out) in strip.chunks_mut(width).enumerate() {
                    let y = (first + i - top) as u32;
                    for (col, value) in out.iter_mut().enumerate().take(right).skip(left) {
                        let inside = result.get_pixel((col - x0) as u32, y).0[0] > 0;
                        *value = f32::from(u8::from(inside));
                    }
                }
            }
            Ok(())
        })?;
        Ok(self.with_values(values))
    }

    /// The 8-connected regions of a mask: a label per pixel (0 = outside),
    /// numbered in the order their first pixel comes in row-major order
    /// (as imageproc's `connected_components` numbers them), and a
    /// description of each region, in label order.
    pub fn components(&self, compute: &Compute) -> Result<(Vec<u32>, Vec<Component>), RasterError> {
        let (labels, count) = self.labelled(compute)?;
        let _regions = compute.budget.charge(
            u64::from(count) * REGION_BYTES,
            &format!("describing {count} regions"),
        )?;
        let regions = measure_regions(&labels, self.width, count, compute)?;
        let components = regions
            .into_iter()
            .enumerate()
            .map(|(i, region)| {
                compute.cancel.check()?;
                Ok(region.describe(i as u32 + 1))
            })
            .collect::<Result<_, Stop>>()?;
        Ok((labels, components))
    }

    /// A label per pixel of the mask's 8-connected regions (as in
    /// [`Plane::components`]), and how many regions there are.
    pub fn labelled(&self, compute: &Compute) -> Result<(Vec<u32>, u32), RasterError> {
        // The labels, and the forest that joins them (at most one label for
        // every four pixels), 2 bytes a pixel more.
        let _labels = self.charge(compute, 6, 0, "labelling the regions")?;
        Ok(label_regions(self, compute)?)
    }

    /// The mask without regions smaller than `min_pixels`.
    pub fn remove_small(&self, min_pixels: usize, compute: &Compute) -> Result<Plane, RasterError> {
        let _values = self.charge(compute, 4, 0, "removing small regions")?;
        let (labels, count) = self.labelled(compute)?;
        let mut sizes = vec![0usize; count as usize + 1];
        for &label in &labels {
            sizes[label as usize] += 1;
        }
        let values = labels
            .iter()
            .map(|&l| f32::from(u8::from(l > 0 && sizes[l as usize] >= min_pixels)))
            .collect();
        Ok(self.with_values(values))
    }

    /// The outer borders of a mask's regions, as closed rings of pixel positions.
    pub fn contours(&self, compute: &Compute) -> Result<Vec<Vec<(f64, f64)>>, RasterError> {
        let _buffers = self.charge(compute, 4, 0, "tracing contours")?;
        Ok(trace_borders(self, compute.cancel)?
            .into_iter()
            .filter(|(_, outer)| *outer)
            .map(|(points, _)| {
                let mut ring: Vec<(f64, f64)> = points
                    .iter()
                    .map(|&(x, y)| (x as f64 + 0.5, y as f64 + 0.5))
                    .collect();
                if let Some(&first) = ring.first() {
                    ring.push(first);
                }
                ring
            })
            .collect())
    }
}

/// The eight neighbours' offsets, clockwise from the west (as imageproc
/// orders them).
const AROUND: [(i64, i64); 8] = [
    (-1, 0),
    (-1, -1),
    (0, -1),
    (1, -1),
    (1, 0),
    (1, 1),
    (0, 1),
    (-1, 1),
];

/// A border's pixels (column, row) in order, and whether it is an outer
/// border (else a hole's).
type Border = (Vec<(usize, usize)>, bool);

/// Border steps between two looks at the interrupt.
const STEPS_BETWEEN_CHECKS: u64 = 1 << 16;

/// The borders of a mask's regions, exactly as imageproc's
/// `find_contours` traces them (Suzuki and Abe's border following) but with
/// the interrupt checked every row and every 65,536 border steps: imageproc
/// traces the whole image in one call that cannot be stopped.
fn trace_borders(mask: &Plane, cancel: &Cancel) -> Result<Vec<Border>, Stop> {
    let (width, height) = (mask.width, mask.height);
    let at = |(x, y): (usize, usize)| y * width + x;
    // 0 outside; 1 inside; n on border n; -n on border n's right edge.
    let mut marks: Vec<i32> = mask
        .values
        .iter()
        .map(|&v| i32::from(Plane::is_inside(v)))
        .collect();
    let inside = |marks: &[i32], (x, y): (usize, usize), (dx, dy): (i64, i64)| {
        let (x, y) = (x as i64 + dx, y as i64 + dy);
        let within = x >= 0 && y >= 0 && (x as usize) < width && (y as usize) < height;
        (within && marks[at((x as usize, y as usize))] != 0).then_some((x as usize, y as usize))
    };
    // Where the neighbour `to` lies around `from`, as an index into AROUND.
    let direction = |from: (usize, usize), to: (usize, usize)| {
        let offset = (to.0 as i64 - from.0 as i64, to.1 as i64 - from.1 as i64);
        AROUND
            .iter()
            .position(|&d| d == offset)
            .expect("a neighbour")
    };
    let clockwise = |start: usize| (0..8).map(move |i| AROUND[(start + i) % 8]);
    let mut borders = Vec::new();
    let mut border = 1;
    let mut steps = 0u64;
    for y in 0..height {
        cancel.check()?;
        for x in 0..width {
            let here = marks[at((x, y))];
            let start = if here == 1 && x > 0 && marks[at((x - 1, y))] == 0 {
                Some(((x - 1, y), true))
            } else if here > 0 && x + 1 < width && marks[at((x + 1, y))] == 0 {
                Some(((x + 1, y), false))
            } else {
                None
            };
            let Some((outside, outer)) = start else {
                continue;
            };
            border += 1;
            let first = (x, y);
            let mut points = Vec::new();
            let found = clockwise(direction(first, outside)).find_map(|d| inside(&marks, first, d));
            let Some(second) = found else {
                // A lone pixel.
                points.push(first);
                marks[at(first)] = -border;
                borders.push((points, outer));
                continue;
            };
            let (mut previous, mut current) = (second, first);
            loop {
                steps += 1;
                if steps.is_multiple_of(STEPS_BETWEEN_CHECKS) {
                    cancel.check()?;
                }
                points.push(current);
                // Counter-clockwise around `current`, from just before `previous`.
                let around = direction(current, previous);
                let counter_clockwise = (0..8).rev().map(|i| (around + i) % 8);
                let next = counter_clockwise
                    .clone()
                    .find_map(|d| inside(&marks, current, AROUND[d]))
                    .expect("the border goes on");
                // Whether the east neighbour was passed over before `next`.
                let toward_next = direction(current, next);
                let right_edge = counter_clockwise
                    .take_while(|&d| d != toward_next)
                    .any(|d| AROUND[d] == (1, 0));
                if current.0 + 1 == width || right_edge {
                    marks[at(current)] = -border;
                } else if marks[at(current)] == 1 {
                    marks[at(current)] = border;
                }
                if next == first && current == second {
                    break;
                }
                previous = current;
                current = next;
            }
            borders.push((points, outer));
        }
    }
    Ok(borders)
}

/// The largest non-missing value of `at(i)` for `i` within `reach` of
/// `position` (clipped to `0..length`); NaN when all are missing.
fn window_max(reach: usize, position: usize, length: usize, at: impl Fn(usize) -> f32) -> f32 {
    let (start, end) = (
        position.saturating_sub(reach),
        (position + reach).min(length - 1),
    );
    (start..=end)
        .map(at)
        .filter(|&v| is_valid(v))
        .fold(f32::NAN, f32::max)
}

/// imageproc's Gaussian kernel for `sigma` (its function is private): the
/// density at whole offsets up to `ceil(2 sigma)`, normalised to sum 1.
fn gaussian_kernel(sigma: f32) -> Vec<f32> {
    let radius = (2.0 * sigma).ceil() as usize;
    let density = |x: f32| {
        (sigma * (2.0 * std::f32::consts::PI).sqrt()).recip()
            * (-x.powi(2) / (2.0 * sigma.powi(2))).exp()
    };
    let mut kernel = vec![0.0; 2 * radius + 1];
    for i in 0..=radius {
        let value = density(i as f32);
        kernel[radius + i] = value;
        kernel[radius - i] = value;
    }
    let sum: f32 = kernel.iter().sum();
    kernel.iter_mut().for_each(|k| *k /= sum);
    kernel
}

/// One row through the kernel, as imageproc's row pass computes it: each
/// output is the sum, in kernel order, of `value(input)` at offsets
/// `-reach..=reach` times the kernel's weights, the row's ends extended.
fn row_pass(input: &[f32], kernel: &[f32], out: &mut [f32], value: impl Fn(f32) -> f32) {
    let (width, reach) = (input.len(), kernel.len() / 2);
    for (col, out) in out.iter_mut().enumerate() {
        let mut sum = 0.0f32;
        for (k, &weight) in kernel.iter().enumerate() {
            let source = (col + k).saturating_sub(reach).min(width - 1);
            sum += value(input[source]) * weight;
        }
        *out = sum;
    }
}

/// Fills `out` (rows of `width` values) strip by strip, in parallel on the
/// pool; `fill(first_row, strip)` computes one strip. The interrupt and the
/// deadline are checked before each strip (and by `fill` within it).
fn by_strips(
    out: &mut [f32],
    width: usize,
    compute: &Compute,
    fill: impl Fn(usize, &mut [f32]) -> Result<(), Stop> + Sync,
) -> Result<(), Stop> {
    by_strips_of(out, width, STRIP_ROWS, compute, fill)
}

fn by_strips_of(
    out: &mut [f32],
    width: usize,
    rows: usize,
    compute: &Compute,
    fill: impl Fn(usize, &mut [f32]) -> Result<(), Stop> + Sync,
) -> Result<(), Stop> {
    if out.is_empty() {
        return Ok(());
    }
    compute.pool.install(|| {
        out.par_chunks_mut(rows * width)
            .enumerate()
            .try_for_each(|(i, strip)| {
                compute.cancel.check()?;
                fill(i * rows, strip)
            })
    })
}

/// The 8-connected regions of `mask`'s inside pixels: a label per pixel
/// (0 outside) and how many regions there are. Two passes: provisional
/// labels joined in a union-find forest, then each region numbered when its
/// first pixel comes (any correct labelling numbered this way is the same).
fn label_regions(mask: &Plane, compute: &Compute) -> Result<(Vec<u32>, u32), Stop> {
    let (width, height) = (mask.width, mask.height);
    let mut labels = vec![0u32; mask.pixels()];
    // parent[l]: the provisional label l was joined to (itself when a root).
    let mut parent: Vec<u32> = vec![0];
    for row in 0..height {
        compute.cancel.check()?;
        for col in 0..width {
            let at = row * width + col;
            if !Plane::is_inside(mask.values[at]) {
                continue;
            }
            let mut label = 0;
            let neighbours = [
                (col > 0).then(|| at - 1),
                (row > 0 && col > 0).then(|| at - width - 1),
                (row > 0).then(|| at - width),
                (row > 0 && col + 1 < width).then(|| at - width + 1),
            ];
            for neighbour in neighbours.into_iter().flatten() {
                let other = labels[neighbour];
                if other == 0 {
                    continue;
                }
                label = if label == 0 {
                    root(&mut parent, other)
                } else {
                    join(&mut parent, label, other)
                };
            }
            if label == 0 {
                label = parent.len() as u32;
                parent.push(label);
            }
            labels[at] = label;
        }
    }
    let mut numbers = vec![0u32; parent.len()];
    let mut count = 0;
    for (i, label) in labels.iter_mut().enumerate() {
        if i % (width * STRIP_ROWS).max(1) == 0 {
            compute.cancel.check()?;
        }
        if *label == 0 {
            continue;
        }
        let root = root(&mut parent, *label) as usize;
        if numbers[root] == 0 {
            count += 1;
            numbers[root] = count;
        }
        *label = numbers[root];
    }
    Ok((labels, count))
}

/// The root of `label`'s tree, halving the path on the way.
fn root(parent: &mut [u32], mut label: u32) -> u32 {
    while parent[label as usize] != label {
        let grandparent = parent[parent[label as usize] as usize];
        parent[label as usize] = grandparent;
        label = grandparent;
    }
    label
}

/// Joins the trees of `a` (a root) and `b`; returns the joined root (the
/// smaller label).
fn join(parent: &mut [u32], a: u32, b: u32) -> u32 {
    let b = root(parent, b);
    let (low, high) = (a.min(b), a.max(b));
    parent[high as usize] = low;
    low
}

/// What is gathered of one region while the labels are read in row-major
/// order: its size, the sums of its columns and rows, its extent, and each
/// row's first and last pixel (the points the enclosing circle needs: the
/// other pixels lie between two of them).
#[derive(Debug, Clone, Default)]
struct Region {
    pixels: usize,
    columns: f64,
    rows: f64,
    extent: Option<(usize, usize, usize, usize)>,
    row_ends: Vec<(usize, usize, usize)>,
}

impl Region {
    fn add(&mut self, col: usize, row: usize) {
        self.pixels += 1;
        self.columns += col as f64;
        self.rows += row as f64;
        self.extent = Some(match self.extent {
            None => (col, row, col, row),
            Some((a, b, c, d)) => (a.min(col), b.min(row), c.max(col), d.max(row)),
        });
        match self.row_ends.last_mut() {
            Some((last_row, _, end)) if *last_row == row => *end = col,
            _ => self.row_ends.push((row, col, col)),
        }
    }

    fn describe(self, label: u32) -> Component {
        let n = self.pixels as f64;
        let centres: Vec<(f64, f64)> = self
            .row_ends
            .iter()
            .flat_map(|&(row, first, last)| {
                let row = row as f64 + 0.5;
                let ends = [(first as f64 + 0.5, row), (last as f64 + 0.5, row)];
                ends.into_iter().take(if first == last { 1 } else { 2 })
            })
            .collect();
        Component {
            label,
            pixels: self.pixels,
            centroid: (self.columns / n + 0.5, self.rows / n + 0.5),
            extent: self.extent.unwrap_or_default(),
            circle: enclosing_circle(&centres),
        }
    }
}

/// Gathers each labelled region (labels `1..=count`) in one row-major pass.
fn measure_regions(
    labels: &[u32],
    width: usize,
    count: u32,
    compute: &Compute,
) -> Result<Vec<Region>, Stop> {
    let mut regions = vec![Region::default(); count as usize];
    for (row, line) in labels.chunks(width.max(1)).enumerate() {
        if row % STRIP_ROWS == 0 {
            compute.cancel.check()?;
        }
        for (col, &label) in line.iter().enumerate() {
            if label > 0 {
                regions[label as usize - 1].add(col, row);
            }
        }
    }
    Ok(regions)
}

/// The smallest circle containing every point (Welzl's algorithm, in its
/// iterative form; points are taken in a fixed scrambled order so the
/// expected running time stays linear without randomness).
pub fn enclosing_circle(points: &[(f64, f64)]) -> (f64, f64, f64) {
    let mut order: Vec<(f64, f64)> = points.to_vec();
    let n = order.len();
    // A fixed permutation that breaks up raster scan order.
    for i in 0..n {
        let j = (i * 7919 + 104_729) % n;
        order.swap(i, j);
    }
    let Some(&first) = order.first() else {
        return (0.0, 0.0, 0.0);
    };
    let mut circle = (first.0, first.1, 0.0);
    for i in 1..n {
        if inside(circle, order[i]) {
            continue;
        }
        circle = (order[i].0, order[i].1, 0.0);
        for j in 0..i {
            if inside(circle, order[j]) {
                continue;
            }
            circle = circle_of_two(order[i], order[j]);
            for k in 0..j {
                if !inside(circle, order[k]) {
                    circle = circle_of_three(order[i], order[j], order[k]);
                }
            }
        }
    }
    circle
}

fn inside((cx, cy, r): (f64, f64, f64), (x, y): (f64, f64)) -> bool {
    (x - cx).hypot(y - cy) <= r * (1.0 + 1e-12) + 1e-9
}

fn circle_of_two(a: (f64, f64), b: (f64, f64)) -> (f64, f64, f64) {
    let centre = ((a.0 + b.0) / 2.0, (a.1 + b.1) / 2.0);
    (centre.0, centre.1, (a.0 - b.0).hypot(a.1 - b.1) / 2.0)
}

fn circle_of_three(a: (f64, f64), b: (f64, f64), c: (f64, f64)) -> (f64, f64, f64) {
    let d = 2.0 * (a.0 * (b.1 - c.1) + b.0 * (c.1 - a.1) + c.0 * (a.1 - b.1));
    if d.abs() < 1e-12 {
        // Collinear: the circle on the two farthest points.
        return [
            circle_of_two(a, b),
            circle_of_two(a, c),
            circle_of_two(b, c),
        ]
        .into_iter()
        .fold(
            (0.0, 0.0, -1.0),
            |best, c| if c.2 > best.2 { c } else { best },
        );
    }
    let sq = |p: (f64, f64)| p.0 * p.0 + p.1 * p.1;
    let x = (sq(a) * (b.1 - c.1) + sq(b) * (c.1 - a.1) + sq(c) * (a.1 - b.1)) / d;
    let y = (sq(a) * (c.0 - b.0) + sq(b) * (a.0 - c.0) + sq(c) * (b.0 - a.0)) / d;
    (x, y, (a.0 - x).hypot(a.1 - y))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::compute::with_test_compute;
    use cleope_sandbox::{Cancel, MemoryBudget};
    use imageproc::image::{ImageBuffer, Luma};
    use imageproc::region_labelling::{Connectivity, connected_components};
    use rand::{Rng, SeedableRng};
    use std::time::{Duration, Instant};

    /// A 20 x 10 mask with a 3 x 3 block, a single pixel and a 2 x 1 bar.
    fn scene() -> Plane {
        let mut values = vec![0.0; 200];
        for (c, r) in [
            (2, 2),
            (3, 2),
            (4, 2),
            (2, 3),
            (3, 3),
            (4, 3),
            (2, 4),
            (3, 4),
            (4, 4),
            (10, 5),
            (15, 8),
            (16, 8),
        ] {
            values[r * 20 + c] = 1.0;
        }
        Plane {
            width: 20,
            height: 10,
            values,
        }
    }

    /// Random values (a tenth missing) or a random mask (`density` inside).
    fn random(width: usize, height: usize, seed: u64, density: Option<f64>) -> Plane {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let values = (0..width * height)
            .map(|_| match density {
                Some(density) => f32::from(u8::from(rng.random_bool(density))),
                None if rng.random_bool(0.1) => f32::NAN,
                None => rng.random_range(-100.0..100.0),
            })
            .collect();
        Plane {
            width,
            height,
            values,
        }
    }

    /// The blur as it was computed before strips: imageproc on the whole image.
    fn whole_image_blur(plane: &Plane, sigma: f32) -> Vec<f32> {
        let (w, h) = (plane.width as u32, plane.height as u32);
        let blur = |data: Vec<f32>| {
            let image: ImageBuffer<Luma<f32>, Vec<f32>> =
                ImageBuffer::from_raw(w, h, data).unwrap();
            imageproc::filter::gaussian_blur_f32(&image, sigma).into_raw()
        };
        let sums = blur(
            plane
                .values
                .iter()
                .map(|&v| if is_valid(v) { v } else { 0.0 })
                .collect(),
        );
        let counts = blur(
            plane
                .values
                .iter()
                .map(|&v| f32::from(u8::from(is_valid(v))))
                .collect(),
        );
        (0..plane.values.len())
            .map(|i| {
                if !is_valid(plane.values[i]) || counts[i] <= 1e-6 {
                    f32::NAN
                } else {
                    sums[i] / counts[i]
                }
            })
            .collect()
    }

    fn same_bits(a: &[f32], b: &[f32]) -> bool {
        a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
    }

    #[test]
    fn the_blur_in_strips_is_bit_for_bit_imageprocs_whole_image_blur() {
        // Heights around the strip size, kernels longer than the image.
        for (width, height, sigma) in [
            (37, 150, 1.5),
            (130, 129, 4.0),
            (64, 65, 20.0),
            (9, 7, 3.0),
            (1, 40, 2.0),
            (300, 1, 0.7),
        ] {
            let plane = random(width, height, 7, None);
            let strips = with_test_compute(|c| plane.gaussian_blur(sigma, c)).unwrap();
            assert!(
                same_bits(&strips.values, &whole_image_blur(&plane, sigma)),
                "{width} x {height}, sigma {sigma}"
            );
        }
    }

    #[test]
    fn morphology_in_tiles_is_imageprocs_on_the_whole_image() {
        let plane = random(TILE + 77, TILE + 3, 11, Some(0.6));
        let whole = plane.mask_image();
        for radius in [1u8, 4, 40] {
            for (tiled, reference) in [
                (
                    with_test_compute(|c| plane.erode(radius, c)).unwrap(),
                    imageproc::morphology::erode(&whole, Norm::LInf, radius),
                ),
                (
                    with_test_compute(|c| plane.dilate(radius, c)).unwrap(),
                    imageproc::morphology::dilate(&whole, Norm::LInf, radius),
                ),
            ] {
                let expected: Vec<f32> = reference
                    .pixels()
                    .map(|p| f32::from(u8::from(p.0[0] > 0)))
                    .collect();
                assert_eq!(tiled.values, expected, "radius {radius}");
            }
        }
    }

    #[test]
    fn max_filter_is_the_window_maximum() {
        let plane = random(70, 90, 3, None);
        let filtered = with_test_compute(|c| plane.max_filter(5, c)).unwrap();
        for (row, col) in [(0usize, 0usize), (45, 33), (89, 69), (10, 68)] {
            let mut best = f32::NAN;
            for r in row.saturating_sub(2)..=(row + 2).min(89) {
                for c in col.saturating_sub(2)..=(col + 2).min(69) {
                    best = best.max(plane.values[r * 70 + c]);
                }
            }
            assert_eq!(filtered.values[row * 70 + col].to_bits(), best.to_bits());
        }
    }

    #[test]
    fn labels_are_imageprocs_connected_components() {
        for (density, seed) in [(0.3, 1), (0.55, 2), (0.8, 3)] {
            let plane = random(203, 97, seed, Some(density));
            let (labels, count) = with_test_compute(|c| plane.labelled(c)).unwrap();
            let reference =
                connected_components(&plane.mask_image(), Connectivity::Eight, Luma([0u8]));
            assert_eq!(labels, reference.into_raw(), "density {density}");
            assert_eq!(count, labels.iter().copied().max().unwrap_or(0));
        }
    }

    #[test]
    fn components_are_found_and_described() {
        let (labels, components) = with_test_compute(|c| scene().components(c)).unwrap();
        assert_eq!(components.len(), 3);
        let block = &components[0];
        assert_eq!(
            (block.pixels, block.centroid, block.extent),
            (9, (3.5, 3.5), (2, 2, 4, 4))
        );
        let (cx, cy, r) = block.circle;
        assert!(
            (cx - 3.5).abs() < 1e-9 && (cy - 3.5).abs() < 1e-9 && (r - 2f64.sqrt()).abs() < 1e-9
        );
        assert_eq!(labels[5 * 20 + 10], components[1].label);
    }

    #[test]
    fn enclosing_circles_hold_every_pixel_of_their_region() {
        let plane = random(120, 80, 5, Some(0.5));
        let (labels, components) = with_test_compute(|c| plane.components(c)).unwrap();
        for (i, &label) in labels.iter().enumerate() {
            if label == 0 {
                continue;
            }
            let (cx, cy, r) = components[label as usize - 1].circle;
            let (x, y) = ((i % 120) as f64 + 0.5, (i / 120) as f64 + 0.5);
            assert!(
                (x - cx).hypot(y - cy) <= r + 1e-9,
                "pixel {i} outside its circle"
            );
        }
        // The circle of all pixel centres equals that of the rows' ends.
        let everything = Plane {
            width: 120,
            height: 80,
            values: vec![1.0; 120 * 80],
        };
        let (_, whole) = with_test_compute(|c| everything.components(c)).unwrap();
        let (cx, cy, r) = whole[0].circle;
        assert!((cx - 60.0).abs() < 1e-9 && (cy - 40.0).abs() < 1e-9);
        assert!((r - (119f64.powi(2) + 79f64.powi(2)).sqrt() / 2.0).abs() < 1e-9);
    }

    #[test]
    fn small_components_are_removed() {
        let kept = with_test_compute(|c| scene().remove_small(2, c)).unwrap();
        assert_eq!(
            kept.values.iter().sum::<f32>(),
            11.0,
            "the single pixel is gone"
        );
    }

    #[test]
    fn morphology_shrinks_and_grows() {
        let eroded = with_test_compute(|c| scene().erode(1, c)).unwrap();
        assert_eq!(
            eroded.values.iter().sum::<f32>(),
            1.0,
            "only the block's centre survives"
        );
        let mut values = vec![0.0; 25];
        values[12] = 1.0;
        let point = Plane {
            width: 5,
            height: 5,
            values,
        };
        let dilated = with_test_compute(|c| point.dilate(1, c)).unwrap();
        assert_eq!(dilated.values.iter().sum::<f32>(), 9.0);
    }

    #[test]
    fn max_filter_spreads_peaks_and_ignores_missing() {
        let mut values = vec![0.0; 25];
        values[12] = 5.0;
        values[0] = f32::NAN;
        let plane = Plane {
            width: 5,
            height: 5,
            values,
        };
        let filtered = with_test_compute(|c| plane.max_filter(3, c)).unwrap();
        assert_eq!(filtered.values.iter().filter(|&&v| v == 5.0).count(), 9);
        assert_eq!(filtered.values[0], 0.0);
    }

    #[test]
    fn blur_keeps_a_constant_field_and_its_holes() {
        let mut values = vec![2.0; 100];
        values[55] = f32::NAN;
        let plane = Plane {
            width: 10,
            height: 10,
            values,
        };
        let blurred = with_test_compute(|c| plane.gaussian_blur(1.5, c)).unwrap();
        assert!(blurred.values[55].is_nan());
        assert!(
            blurred
                .values
                .iter()
                .filter(|v| !v.is_nan())
                .all(|v| (v - 2.0).abs() < 1e-4)
        );
    }

    #[test]
    fn borders_are_imageprocs_contours() {
        use imageproc::contours::{BorderType, find_contours};
        for (width, height, density, seed) in [
            (61, 47, 0.5, 1),
            (40, 40, 0.8, 2),
            (90, 30, 0.2, 3),
            (1, 9, 0.5, 4),
        ] {
            let plane = random(width, height, seed, Some(density));
            let traced = trace_borders(&plane, &Cancel::default()).unwrap();
            let reference: Vec<Border> = find_contours::<usize>(&plane.mask_image())
                .into_iter()
                .map(|c| {
                    let points = c.points.iter().map(|p| (p.x, p.y)).collect();
                    (points, c.border_type == BorderType::Outer)
                })
                .collect();
            assert_eq!(traced, reference, "{width} x {height}, density {density}");
        }
    }

    #[test]
    fn contours_ring_each_region() {
        let rings = with_test_compute(|c| scene().contours(c)).unwrap();
        assert_eq!(rings.len(), 3);
        assert!(rings.iter().all(|r| r.first() == r.last()));
    }

    #[test]
    fn an_interrupt_stops_a_large_blur_within_a_fraction_of_a_second() {
        let plane = Plane {
            width: 3000,
            height: 3000,
            values: vec![1.0; 9_000_000],
        };
        let (stopped, after) = with_test_compute(|c| {
            std::thread::scope(|scope| {
                scope.spawn(|| {
                    std::thread::sleep(Duration::from_millis(300));
                    c.cancel.interrupt();
                });
                let started = Instant::now();
                let result = plane.gaussian_blur(30.0, c);
                (result, started.elapsed())
            })
        });
        assert!(
            matches!(stopped, Err(RasterError::Stopped(Stop::Interrupted))),
            "{stopped:?}"
        );
        assert!(
            after < Duration::from_millis(1300),
            "stopped after {after:?}"
        );
    }

    #[test]
    fn every_operation_looks_at_the_interrupt() {
        let plane = random(300, 200, 8, Some(0.5));
        with_test_compute(|c| {
            c.cancel.interrupt();
            let stopped = |result: Result<(), RasterError>| {
                matches!(result, Err(RasterError::Stopped(Stop::Interrupted)))
            };
            assert!(stopped(plane.gaussian_blur(1.0, c).map(drop)));
            assert!(stopped(plane.max_filter(3, c).map(drop)));
            assert!(stopped(plane.erode(1, c).map(drop)));
            assert!(stopped(plane.dilate(1, c).map(drop)));
            assert!(stopped(plane.labelled(c).map(drop)));
            assert!(stopped(plane.components(c).map(drop)));
            assert!(stopped(plane.remove_small(3, c).map(drop)));
            assert!(stopped(plane.contours(c).map(drop)));
        });
    }

    #[test]
    fn buffers_are_charged_before_they_are_made() {
        let plane = random(1000, 1000, 9, Some(0.5));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        let small = MemoryBudget::with_usage(1_000_000, || 0);
        let compute = Compute {
            pool: &pool,
            budget: &small,
            cancel: &cancel,
        };
        for result in [
            plane.gaussian_blur(2.0, &compute).map(|_| ()),
            plane.max_filter(3, &compute).map(|_| ()),
            plane.erode(1, &compute).map(|_| ()),
            plane.components(&compute).map(|_| ()),
            plane.contours(&compute).map(|_| ()),
        ] {
            assert!(
                matches!(result, Err(RasterError::Stopped(Stop::Quota(_)))),
                "{result:?}"
            );
        }
    }

    #[test]
    fn enclosing_circles_of_known_sets() {
        let (_, _, r) = enclosing_circle(&[(0.0, 0.0), (2.0, 0.0), (1.0, 1.0), (1.0, 0.5)]);
        assert!((r - 1.0).abs() < 1e-9);
        let (x, y, r) = enclosing_circle(&[(0.0, 0.0), (4.0, 0.0), (0.0, 3.0)]);
        assert!((x - 2.0).abs() < 1e-9 && (y - 1.5).abs() < 1e-9 && (r - 2.5).abs() < 1e-9);
        assert_eq!(enclosing_circle(&[]), (0.0, 0.0, 0.0));
    }
}
