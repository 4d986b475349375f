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
    /// A line through the points (an AOI outline, a footprint).
    Line {
        points: Vec<(f64, f64)>,
        colour: Rgb,
        width: u32,
    },
    /// A filled dot at each point.
    Markers {
        points: Vec<(f64, f64)>,
        colour: Rgb,
        size: u32,
    },
    /// Circles `(x, y, radius)` in map units (e.g. ships' enclosing circles).
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
    for overlay in overlays {
        match overlay {
            Overlay::Line {
                points,
                colour,
                width,
            } => {
                let style = ShapeStyle::from(rgb_colour(*colour)).stroke_width(*width);
                let path: Vec<(i32, i32)> = points.iter().copied().map(to_pixel).collect();
                area.draw(&PathElement::new(path, style))
                    .map_err(drawing_error)?;
            }
            Overlay::Markers {
                points,
                colour,
                size,
            } => {
                for &point in points {
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
                for &(x, y, radius) in circles {
                    let pixels = ((radius * scale_x).round() as i32).max(3);
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
}
