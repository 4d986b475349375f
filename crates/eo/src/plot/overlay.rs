//! Things drawn over a map: area outlines, markers, circles and labels, in
//! the map's own coordinates.

use super::colormap::Rgb;
use super::{FONT, PlotError, drawing_error};
use crate::raster::Bounds;
use plotters::prelude::*;
use std::ops::Range;

/// One element drawn over a map.
#[derive(Debug, Clone, PartialEq)]
pub enum Overlay {
    /// A line through the points (an AOI outline, a footprint, a
    /// coastline), clipped exactly to the map's frame; with `halo`, a
    /// wider line in a contrasting colour under it shows it on dark and
    /// light maps alike.
    Line {
        points: Vec<(f64, f64)>,
        colour: Rgb,
        width: u32,
        halo: bool,
    },
    /// A closed area (an AOI, a burned area): its outline, and with `fill`
    /// its inside in that colour, seen through.
    Polygon {
        rings: Vec<Vec<(f64, f64)>>,
        colour: Rgb,
        width: u32,
        fill: Option<Rgb>,
    },
    /// A filled dot at each point.
    Markers {
        points: Vec<(f64, f64)>,
        colour: Rgb,
        size: u32,
    },
    /// Circles `(x, y, radius)` in map units (e.g. ships' enclosing
    /// circles), at least [`MIN_CIRCLE_PX`] in radius so small objects show.
    Circles {
        circles: Vec<(f64, f64, f64)>,
        colour: Rgb,
        width: u32,
    },
    /// Text at a point.
    Label {
        at: (f64, f64),
        text: String,
        colour: Rgb,
    },
}

/// A product's colour by its mission, as CLEOPE drew footprints:
/// Sentinel-1 orange, -2 forest green, -3 blue, -5P violet, others grey.
pub fn mission_colour(product_name: &str) -> Rgb {
    match product_name.get(..2) {
        Some("S1") => [255, 140, 0],
        Some("S2") => [34, 139, 34],
        Some("S3") => [0, 0, 255],
        Some("S5") => [238, 130, 238],
        _ => [128, 128, 128],
    }
}

/// A colour by name (the matplotlib names CLEOPE's notebooks used) or `#rrggbb`.
pub fn colour_named(name: &str) -> Option<Rgb> {
    if let Some(hex) = name.strip_prefix('#') {
        let value = u32::from_str_radix(hex, 16)
            .ok()
            .filter(|_| hex.len() == 6)?;
        return Some([(value >> 16) as u8, (value >> 8) as u8, value as u8]);
    }
    Some(match name {
        "black" => [0, 0, 0],
        "white" => [255, 255, 255],
        "red" => [220, 20, 20],
        "yellow" => [255, 220, 0],
        "orange" => [255, 140, 0],
        "lime" => [0, 255, 0],
        "green" => [0, 128, 0],
        "forestgreen" => [34, 139, 34],
        "blue" => [0, 0, 255],
        "dodgerblue" => [30, 144, 255],
        "cyan" => [0, 220, 220],
        "magenta" => [220, 0, 220],
        "violet" => [238, 130, 238],
        "gray" | "grey" => [128, 128, 128],
        _ => return None,
    })
}

/// Draws the overlays on the map area `(xs, ys)` of an RGB buffer showing `bounds`.
pub fn draw_overlays(
    rgb: &mut [u8],
    size: (u32, u32),
    (xs, ys): (&Range<i32>, &Range<i32>),
    bounds: Bounds,
    overlays: &[Overlay],
) -> Result<(), PlotError> {
    if overlays.is_empty() {
        return Ok(());
    }
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    let (width, height) = ((xs.end - xs.start) as u32, (ys.end - ys.start) as u32);
    // Drawing in a sub-area clips everything to the map.
    let area = root.margin(
        ys.start as u32,
        size.1 - ys.end as u32,
        xs.start as u32,
        size.0 - xs.end as u32,
    );
    let (x0, y0, x1, y1) = bounds;
    let scale_x = f64::from(width) / (x1 - x0);
    let to_pixel = |(x, y): (f64, f64)| -> (i32, i32) {
        (
            ((x - x0) * scale_x).round() as i32,
            ((y1 - y) / (y1 - y0) * f64::from(height)).round() as i32,
        )
    };
    let clip = |points: &[(f64, f64)]| -> Vec<Vec<(i32, i32)>> {
        clip_polyline(points, bounds)
            .into_iter()
            .map(|part| part.into_iter().map(to_pixel).collect())
            .collect()
    };
    for overlay in overlays {
        match overlay {
            Overlay::Line {
                points,
                colour,
                width,
                halo,
            } => {
                let parts = clip(points);
                if *halo {
                    let under =
                        ShapeStyle::from(rgb_colour(halo_colour(*colour))).stroke_width(width + 2);
                    for part in &parts {
                        area.draw(&PathElement::new(part.clone(), under))
                            .map_err(drawing_error)?;
                    }
                }
                let style = ShapeStyle::from(rgb_colour(*colour)).stroke_width(*width);
                for part in parts {
                    area.draw(&PathElement::new(part, style))
                        .map_err(drawing_error)?;
                }
            }
            Overlay::Polygon {
                rings,
                colour,
                width,
                fill,
            } => {
                for ring in rings {
                    if let Some(fill) = fill {
                        let visible: Vec<(i32, i32)> = clip_polygon(ring, bounds)
                            .into_iter()
                            .map(to_pixel)
                            .collect();
                        if visible.len() >= 3 {
                            area.draw(&Polygon::new(visible, rgb_colour(*fill).mix(0.35).filled()))
                                .map_err(drawing_error)?;
                        }
                    }
                    let style = ShapeStyle::from(rgb_colour(*colour)).stroke_width(*width);
                    for part in clip(ring) {
                        area.draw(&PathElement::new(part, style))
                            .map_err(drawing_error)?;
                    }
                }
            }
            Overlay::Markers {
                points,
                colour,
                size,
            } => {
                for &point in points.iter().filter(|p| inside(**p, bounds)) {
                    let style = rgb_colour(*colour).filled();
                    area.draw(&Circle::new(to_pixel(point), *size as i32, style))
                        .map_err(drawing_error)?;
                }
            }
            Overlay::Circles {
                circles,
                colour,
                width,
            } => {
                for &(x, y, radius) in circles.iter().filter(|c| inside((c.0, c.1), bounds)) {
                    let pixels = ((radius * scale_x).round() as i32).max(MIN_CIRCLE_PX);
                    let style = ShapeStyle::from(rgb_colour(*colour)).stroke_width(*width);
                    area.draw(&Circle::new(to_pixel((x, y)), pixels, style))
                        .map_err(drawing_error)?;
                }
            }
            Overlay::Label { at, text, colour } => {
                let style = (FONT, 15).into_font().color(&rgb_colour(*colour));
                area.draw(&Text::new(text.clone(), to_pixel(*at), style))
                    .map_err(drawing_error)?;
            }
        }
    }
    root.present().map_err(drawing_error)
}

/// The smallest radius a circle overlay is drawn with, in pixels.
pub const MIN_CIRCLE_PX: i32 = 6;

/// White under dark lines, black under light ones.
fn halo_colour([r, g, b]: Rgb) -> Rgb {
    let luminance = 0.299 * f64::from(r) + 0.587 * f64::from(g) + 0.114 * f64::from(b);
    if luminance < 128.0 {
        [255, 255, 255]
    } else {
        [0, 0, 0]
    }
}

fn inside((x, y): (f64, f64), (x0, y0, x1, y1): Bounds) -> bool {
    (x0..=x1).contains(&x) && (y0..=y1).contains(&y)
}

/// The parts of a polyline inside `bounds`, each cut exactly where it
/// crosses the frame (Liang–Barsky on each segment).
pub fn clip_polyline(points: &[(f64, f64)], bounds: Bounds) -> Vec<Vec<(f64, f64)>> {
    let mut parts: Vec<Vec<(f64, f64)>> = Vec::new();
    let mut current: Vec<(f64, f64)> = Vec::new();
    for pair in points.windows(2) {
        match clip_segment(pair[0], pair[1], bounds) {
            Some((a, b)) => {
                if current.last() != Some(&a) {
                    if current.len() >= 2 {
                        parts.push(std::mem::take(&mut current));
                    }
                    current = vec![a];
                }
                current.push(b);
            }
            None => {
                if current.len() >= 2 {
                    parts.push(std::mem::take(&mut current));
                }
                current.clear();
            }
        }
    }
    if current.len() >= 2 {
        parts.push(current);
    }
    parts
}

fn clip_segment(
    (ax, ay): (f64, f64),
    (bx, by): (f64, f64),
    (x0, y0, x1, y1): Bounds,
) -> Option<((f64, f64), (f64, f64))> {
    let (dx, dy) = (bx - ax, by - ay);
    let (mut t0, mut t1) = (0.0f64, 1.0f64);
    for (p, q) in [(-dx, ax - x0), (dx, x1 - ax), (-dy, ay - y0), (dy, y1 - ay)] {
        if p == 0.0 {
            if q < 0.0 {
                return None;
            }
        } else {
            let t = q / p;
            if p < 0.0 {
                t0 = t0.max(t);
            } else {
                t1 = t1.min(t);
            }
        }
    }
    (t0 <= t1).then_some(((ax + t0 * dx, ay + t0 * dy), (ax + t1 * dx, ay + t1 * dy)))
}

/// The part of a polygon inside `bounds` (Sutherland–Hodgman).
fn clip_polygon(ring: &[(f64, f64)], (x0, y0, x1, y1): Bounds) -> Vec<(f64, f64)> {
    type Edge = (
        fn((f64, f64), f64) -> bool,
        fn((f64, f64), (f64, f64), f64) -> (f64, f64),
        f64,
    );
    let at_x = |a: (f64, f64), b: (f64, f64), x: f64| {
        let t = (x - a.0) / (b.0 - a.0);
        (x, a.1 + t * (b.1 - a.1))
    };
    let at_y = |a: (f64, f64), b: (f64, f64), y: f64| {
        let t = (y - a.1) / (b.1 - a.1);
        (a.0 + t * (b.0 - a.0), y)
    };
    let edges: [Edge; 4] = [
        (|p, x| p.0 >= x, at_x, x0),
        (|p, x| p.0 <= x, at_x, x1),
        (|p, y| p.1 >= y, at_y, y0),
        (|p, y| p.1 <= y, at_y, y1),
    ];
    let mut polygon = ring.to_vec();
    for (keeps, cross, limit) in edges {
        let input = std::mem::take(&mut polygon);
        for (i, &point) in input.iter().enumerate() {
            let previous = input[(i + input.len() - 1) % input.len()];
            match (keeps(point, limit), keeps(previous, limit)) {
                (true, true) => polygon.push(point),
                (true, false) => {
                    polygon.push(cross(previous, point, limit));
                    polygon.push(point);
                }
                (false, true) => polygon.push(cross(previous, point, limit)),
                (false, false) => {}
            }
        }
    }
    polygon
}

fn rgb_colour([r, g, b]: Rgb) -> RGBColor {
    RGBColor(r, g, b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn colours_by_name_and_hex() {
        assert_eq!(colour_named("dodgerblue"), Some([30, 144, 255]));
        assert_eq!(colour_named("#ff8000"), Some([255, 128, 0]));
        assert_eq!(colour_named("#ff80"), None);
        assert_eq!(colour_named("chartreuse"), None);
    }

    #[test]
    fn a_red_line_lands_where_its_coordinates_say() {
        super::super::register_fonts();
        let (w, h) = (100u32, 100u32);
        let mut rgb = vec![255u8; (w * h * 3) as usize];
        let overlays = [Overlay::Line {
            points: vec![(0.0, 5.0), (10.0, 5.0)],
            colour: [255, 0, 0],
            width: 1,
            halo: false,
        }];
        draw_overlays(
            &mut rgb,
            (w, h),
            (&(0..100), &(0..100)),
            (0.0, 0.0, 10.0, 10.0),
            &overlays,
        )
        .unwrap();
        let pixel =
            |x: u32, y: u32| &rgb[((y * w + x) * 3) as usize..((y * w + x) * 3 + 3) as usize];
        assert_eq!(
            pixel(50, 50),
            [255, 0, 0],
            "the line crosses the middle row"
        );
        assert_eq!(pixel(50, 20), [255, 255, 255]);
    }

    #[test]
    fn lines_are_cut_at_the_frame() {
        let bounds = (0.0, 0.0, 10.0, 10.0);
        // In, out across the right edge, back in: two parts, each ending
        // exactly on the frame.
        let parts = clip_polyline(&[(5.0, 5.0), (15.0, 5.0), (15.0, 8.0), (5.0, 8.0)], bounds);
        assert_eq!(
            parts,
            vec![vec![(5.0, 5.0), (10.0, 5.0)], vec![(10.0, 8.0), (5.0, 8.0)]]
        );
        assert!(clip_polyline(&[(11.0, 0.0), (20.0, 5.0)], bounds).is_empty());
    }

    /// Draws `overlays` on a 100 x 100 mid-grey map of 0..10 x 0..10.
    fn drawn(overlays: &[Overlay]) -> Vec<u8> {
        super::super::register_fonts();
        let mut rgb = vec![128u8; 100 * 100 * 3];
        draw_overlays(
            &mut rgb,
            (100, 100),
            (&(0..100), &(0..100)),
            (0.0, 0.0, 10.0, 10.0),
            overlays,
        )
        .unwrap();
        rgb
    }

    #[test]
    fn a_line_leaving_the_map_is_not_drawn_along_its_frame() {
        // From the middle to far outside the right edge, and along it.
        let rgb = drawn(&[Overlay::Line {
            points: vec![(5.0, 5.0), (30.0, 5.0), (30.0, 9.0)],
            colour: [255, 0, 0],
            width: 1,
            halo: false,
        }]);
        let red = |x: usize, y: usize| rgb[(y * 100 + x) * 3..(y * 100 + x) * 3 + 3] == [255, 0, 0];
        assert!(red(70, 50));
        let along_frame = (0..100).filter(|&y| red(99, y)).count();
        assert!(along_frame <= 2, "{along_frame} red pixels on the frame");
    }

    #[test]
    fn a_halo_borders_the_line() {
        let rgb = drawn(&[Overlay::Line {
            points: vec![(0.0, 5.0), (10.0, 5.0)],
            colour: [0, 0, 0],
            width: 1,
            halo: true,
        }]);
        let column: Vec<&[u8]> = (40..60)
            .map(|y| &rgb[(y * 100 + 50) * 3..(y * 100 + 50) * 3 + 3])
            .collect();
        assert!(column.contains(&&[0u8, 0, 0][..]), "the line");
        assert!(column.contains(&&[255u8, 255, 255][..]), "its white halo");
    }

    #[test]
    fn tiny_circles_are_drawn_big_enough_to_see_and_areas_filled() {
        let rgb = drawn(&[
            Overlay::Circles {
                circles: vec![(5.0, 5.0, 0.001)],
                colour: [255, 255, 0],
                width: 2,
            },
            Overlay::Polygon {
                rings: vec![vec![(0.0, 0.0), (2.0, 0.0), (2.0, 2.0), (0.0, 2.0)]],
                colour: [0, 0, 255],
                width: 1,
                fill: Some([0, 0, 255]),
            },
        ]);
        let pixel = |x: usize, y: usize| &rgb[(y * 100 + x) * 3..(y * 100 + x) * 3 + 3];
        let yellow = (0..100)
            .filter(|&x| pixel(x, 50) == [255, 255, 0])
            .collect::<Vec<_>>();
        let diameter = yellow.last().unwrap() - yellow.first().unwrap();
        assert!(diameter >= 11, "{diameter} px across");
        let inside = pixel(10, 90);
        assert!(inside[2] > inside[0] + 40, "blue seen through: {inside:?}");
    }
}
