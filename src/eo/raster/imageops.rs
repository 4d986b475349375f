//! Image operations for detection tasks (the Sentinel-1 ship detection):
//! filters, binary morphology, connected components, contours and minimum
//! enclosing circles, on a raster evaluated in memory at full resolution.

use imageproc::contours::{BorderType, find_contours};
use imageproc::distance_transform::Norm;
use imageproc::image::{GrayImage, ImageBuffer, Luma};
use imageproc::region_labelling::{Connectivity, connected_components};

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
    fn at(&self, col: usize, row: usize) -> f32 {
        self.values[row * self.width + col]
    }

    fn mask_image(&self) -> GrayImage {
        let pixels = self
            .values
            .iter()
            .map(|&v| if v.is_finite() && v != 0.0 { 255 } else { 0 })
            .collect();
        GrayImage::from_raw(self.width as u32, self.height as u32, pixels).expect("sizes match")
    }

    fn from_mask_image(image: &GrayImage) -> Plane {
        Plane {
            width: image.width() as usize,
            height: image.height() as usize,
            values: image
                .pixels()
                .map(|p| f32::from(u8::from(p.0[0] > 0)))
                .collect(),
        }
    }

    /// The largest value in the `size` x `size` window around each pixel
    /// (missing values ignored), computed row-wise then column-wise.
    pub fn max_filter(&self, size: usize) -> Plane {
        let reach = size / 2;
        let along_rows = self.sliding_max(reach, true);
        along_rows.sliding_max(reach, false)
    }

    fn sliding_max(&self, reach: usize, horizontal: bool) -> Plane {
        let mut out = vec![f32::NAN; self.values.len()];
        for row in 0..self.height {
            for col in 0..self.width {
                let (position, length) = if horizontal {
                    (col, self.width)
                } else {
                    (row, self.height)
                };
                let (start, end) = (
                    position.saturating_sub(reach),
                    (position + reach).min(length - 1),
                );
                let best = (start..=end)
                    .map(|i| {
                        if horizontal {
                            self.at(i, row)
                        } else {
                            self.at(col, i)
                        }
                    })
                    .filter(|v| !v.is_nan())
                    .fold(f32::NAN, f32::max);
                out[row * self.width + col] = best;
            }
        }
        Plane {
            values: out,
            ..*self
        }
    }

    /// Gaussian smoothing with standard deviation `sigma` pixels. Missing
    /// pixels neither count nor spread: values and validity are blurred
    /// together and divided (normalised convolution).
    pub fn gaussian_blur(&self, sigma: f32) -> Plane {
        let (w, h) = (self.width as u32, self.height as u32);
        let weights: Vec<f32> = self
            .values
            .iter()
            .map(|v| f32::from(u8::from(v.is_finite())))
            .collect();
        let weighted: Vec<f32> = self
            .values
            .iter()
            .map(|&v| if v.is_finite() { v } else { 0.0 })
            .collect();
        let blur = |data: Vec<f32>| {
            let image: ImageBuffer<Luma<f32>, Vec<f32>> =
                ImageBuffer::from_raw(w, h, data).expect("sizes match");
            imageproc::filter::gaussian_blur_f32(&image, sigma).into_raw()
        };
        let (sums, counts) = (blur(weighted), blur(weights));
        let values = sums
            .iter()
            .zip(&counts)
            .zip(&self.values)
            .map(|((s, c), original)| {
                if original.is_nan() || *c <= 1e-6 {
                    f32::NAN
                } else {
                    s / c
                }
            })
            .collect();
        Plane { values, ..*self }
    }

    /// A mask (non-zero = inside) shrunk by `radius` pixels (beyond the edge
    /// of the image counts as inside, so regions touching it keep that side).
    pub fn erode(&self, radius: u8) -> Plane {
        Plane::from_mask_image(&imageproc::morphology::erode(
            &self.mask_image(),
            Norm::LInf,
            radius,
        ))
    }

    /// A mask grown by `radius` pixels.
    pub fn dilate(&self, radius: u8) -> Plane {
        Plane::from_mask_image(&imageproc::morphology::dilate(
            &self.mask_image(),
            Norm::LInf,
            radius,
        ))
    }

    /// The 8-connected regions of a mask: a label per pixel (0 = outside)
    /// and a description of each region, in label order.
    pub fn components(&self) -> (Vec<u32>, Vec<Component>) {
        let labels = connected_components(&self.mask_image(), Connectivity::Eight, Luma([0u8]));
        let mut points: Vec<Vec<(usize, usize)>> = Vec::new();
        for (col, row, label) in labels.enumerate_pixels() {
            let label = label.0[0] as usize;
            if label == 0 {
                continue;
            }
            if points.len() < label {
                points.resize(label, Vec::new());
            }
            points[label - 1].push((col as usize, row as usize));
        }
        let components = points
            .iter()
            .enumerate()
            .filter(|(_, p)| !p.is_empty())
            .map(|(i, p)| describe(i as u32 + 1, p))
            .collect();
        (labels.into_raw(), components)
    }

    /// The mask without regions smaller than `min_pixels`.
    pub fn remove_small(&self, min_pixels: usize) -> Plane {
        let (labels, components) = self.components();
        let mut keep = vec![
            false;
            components
                .iter()
                .map(|c| c.label as usize)
                .max()
                .unwrap_or(0)
                + 1
        ];
        for component in components.iter().filter(|c| c.pixels >= min_pixels) {
            keep[component.label as usize] = true;
        }
        let values = labels
            .iter()
            .map(|&l| f32::from(u8::from(l > 0 && keep[l as usize])))
            .collect();
        Plane { values, ..*self }
    }

    /// The outer borders of a mask's regions, as closed rings of pixel positions.
    pub fn contours(&self) -> Vec<Vec<(f64, f64)>> {
        find_contours::<u32>(&self.mask_image())
            .into_iter()
            .filter(|c| c.border_type == BorderType::Outer)
            .map(|c| {
                let mut ring: Vec<(f64, f64)> = c
                    .points
                    .iter()
                    .map(|p| (f64::from(p.x) + 0.5, f64::from(p.y) + 0.5))
                    .collect();
                if let Some(&first) = ring.first() {
                    ring.push(first);
                }
                ring
            })
            .collect()
    }
}

fn describe(label: u32, points: &[(usize, usize)]) -> Component {
    let n = points.len() as f64;
    let centroid = (
        points.iter().map(|p| p.0 as f64).sum::<f64>() / n + 0.5,
        points.iter().map(|p| p.1 as f64).sum::<f64>() / n + 0.5,
    );
    let extent = points
        .iter()
        .fold((usize::MAX, usize::MAX, 0, 0), |(a, b, c, d), &(x, y)| {
            (a.min(x), b.min(y), c.max(x), d.max(y))
        });
    let centres: Vec<(f64, f64)> = points
        .iter()
        .map(|&(x, y)| (x as f64 + 0.5, y as f64 + 0.5))
        .collect();
    Component {
        label,
        pixels: points.len(),
        centroid,
        extent,
        circle: enclosing_circle(&centres),
    }
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

    #[test]
    fn components_are_found_and_described() {
        let (labels, components) = scene().components();
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
    fn small_components_are_removed() {
        let kept = scene().remove_small(2);
        assert_eq!(
            kept.values.iter().sum::<f32>(),
            11.0,
            "the single pixel is gone"
        );
    }

    #[test]
    fn morphology_shrinks_and_grows() {
        let eroded = scene().erode(1);
        assert_eq!(
            eroded.values.iter().sum::<f32>(),
            1.0,
            "only the block's centre survives"
        );
        let dilated = Plane {
            width: 5,
            height: 5,
            values: {
                let mut v = vec![0.0; 25];
                v[12] = 1.0;
                v
            },
        }
        .dilate(1);
        assert_eq!(dilated.values.iter().sum::<f32>(), 9.0);
    }

    #[test]
    fn max_filter_spreads_peaks_and_ignores_missing() {
        let mut values = vec![0.0; 25];
        values[12] = 5.0;
        values[0] = f32::NAN;
        let filtered = Plane {
            width: 5,
            height: 5,
            values,
        }
        .max_filter(3);
        assert_eq!(filtered.values.iter().filter(|&&v| v == 5.0).count(), 9);
        assert_eq!(filtered.values[0], 0.0);
    }

    #[test]
    fn blur_keeps_a_constant_field_and_its_holes() {
        let mut values = vec![2.0; 100];
        values[55] = f32::NAN;
        let blurred = Plane {
            width: 10,
            height: 10,
            values,
        }
        .gaussian_blur(1.5);
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
    fn contours_ring_each_region() {
        let rings = scene().contours();
        assert_eq!(rings.len(), 3);
        assert!(rings.iter().all(|r| r.first() == r.last()));
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
