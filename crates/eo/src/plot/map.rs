//! Maps of a raster: the values through a colormap, georeferenced axes, a
//! colour bar with units, and a title.

use super::{Colormap, FONT, Figure, PlotError, drawing_error, encode_png, register_fonts};
use crate::raster::Bounds;
use crate::validity::is_valid_f64;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};
use std::ops::Range;

/// How to draw a map.
#[derive(Debug, Clone)]
pub struct MapStyle {
    pub title: String,
    pub colormap: Colormap,
    /// Colour limits; `None` uses the data's minimum and maximum.
    pub limits: Option<(f64, f64)>,
    /// Colour by log10 of the values (positive values only).
    pub log: bool,
    /// Power-law colour scale: colours follow `t^gamma` of the linear
    /// position (below 1 brightens faint values, e.g. 0.5 for plumes).
    pub gamma: Option<f64>,
    /// The unit shown beside the colour bar.
    pub units: String,
    /// Figure width in pixels (the height follows the map's shape).
    pub width: u32,
    /// Outlines, markers, circles and labels drawn over the map.
    pub overlays: Vec<super::Overlay>,
    /// Whether the colour bar is drawn (not for maps that only carry
    /// overlays, such as footprints over a blank background).
    pub colour_bar: bool,
    /// True when x/y are longitude/latitude (the map is then drawn with
    /// east-west distances shrunk by cos(latitude), as on the ground).
    pub geographic: bool,
}

/// Colour of missing pixels.
const MISSING: [u8; 3] = [235, 235, 235];
const COLORBAR_WIDTH: u32 = 120;
/// Right margin of a map without a colour bar: half of a "150.460"-wide
/// longitude label at 13 px, plus the 12 px margin of every side.
const LAST_LABEL_ROOM: u32 = 36;
const TITLE_HEIGHT: u32 = 40;

/// Draws `values` (`cols` x `rows`, row 0 at the top) covering `bounds`.
pub fn render_map(
    values: &[f32],
    cols: usize,
    rows: usize,
    bounds: Bounds,
    style: &MapStyle,
) -> Result<Figure, PlotError> {
    if values.len() != cols * rows || cols == 0 || rows == 0 {
        return Err(PlotError::Invalid(format!(
            "{} values do not fill {cols} x {rows} pixels",
            values.len()
        )));
    }
    register_fonts();
    let (vmin, vmax) = colour_limits(values, style)?;
    let normalise = |v: f64| -> f64 {
        if style.log {
            if v <= 0.0 {
                f64::NAN
            } else {
                (v.log10() - vmin.log10()) / (vmax.log10() - vmin.log10())
            }
        } else if vmax > vmin {
            let t = ((v - vmin) / (vmax - vmin)).clamp(0.0, 1.0);
            style.gamma.map_or(t, |gamma| t.powf(gamma))
        } else {
            0.5
        }
    };
    let (width, height) = figure_size(bounds, style.width, style.geographic, style.colour_bar);
    let mut rgb = vec![255u8; (width * height * 3) as usize];
    let bar = ColourBar {
        limits: (vmin, vmax),
        log: style.log,
        units: &style.units,
        colormap: &style.colormap,
    };
    let (map_x, map_y, bar_x, bar_y) = draw_frame(
        &mut rgb,
        (width, height),
        bounds,
        &style.title,
        style.colour_bar.then_some(&bar),
    )?;
    paint(&mut rgb, width, &map_x, &map_y, |x, y| {
        let col = (x * cols as f64) as usize;
        let row = (y * rows as f64) as usize;
        let value = f64::from(values[row.min(rows - 1) * cols + col.min(cols - 1)]);
        if !is_valid_f64(value) {
            MISSING
        } else {
            style.colormap.at(normalise(value))
        }
    });
    paint(&mut rgb, width, &bar_x, &bar_y, |_, y| {
        bar.colormap.at(1.0 - y)
    });
    super::overlay::draw_overlays(
        &mut rgb,
        (width, height),
        (&map_x, &map_y),
        bounds,
        &style.overlays,
    )?;
    Ok(Figure {
        title: style.title.clone(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
    })
}

fn colour_limits(values: &[f32], style: &MapStyle) -> Result<(f64, f64), PlotError> {
    let (vmin, vmax) = match style.limits {
        Some(limits) => limits,
        None => values
            .iter()
            .map(|&v| f64::from(v))
            .filter(|&v| is_valid_f64(v) && (!style.log || v > 0.0))
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(v), b.max(v))
            }),
    };
    if !vmin.is_finite() || !vmax.is_finite() {
        return Ok((0.0, 1.0));
    }
    if style.log && vmin <= 0.0 {
        return Err(PlotError::Invalid(format!(
            "a log colour scale needs positive limits, not {vmin} to {vmax}"
        )));
    }
    if vmin > vmax {
        return Err(PlotError::Invalid(format!(
            "the colour limits {vmin} to {vmax} are reversed"
        )));
    }
    Ok((vmin, vmax))
}

/// Width as asked; height from the map's shape, within 300 to 1400 pixels.
pub(crate) fn figure_size(
    bounds: Bounds,
    width: u32,
    geographic: bool,
    colour_bar: bool,
) -> (u32, u32) {
    let (x0, y0, x1, y1) = bounds;
    let shrink = if geographic {
        ((y0 + y1) / 2.0).to_radians().cos().max(0.05)
    } else {
        1.0
    };
    let aspect = ((y1 - y0) / ((x1 - x0) * shrink)).clamp(0.2, 5.0);
    let bar = if colour_bar { COLORBAR_WIDTH } else { 0 };
    let map_width = f64::from(width.max(400) - bar - 90);
    let height = (map_width * aspect + f64::from(TITLE_HEIGHT) + 60.0).clamp(300.0, 1400.0);
    (width.max(400), height as u32)
}

/// What the colour bar beside a map shows.
pub(crate) struct ColourBar<'a> {
    pub limits: (f64, f64),
    pub log: bool,
    pub units: &'a str,
    pub colormap: &'a Colormap,
}

pub(crate) type PixelRanges = (Range<i32>, Range<i32>, Range<i32>, Range<i32>);

/// Draws title, axes and (if any) the colour-bar axis; returns the pixel
/// ranges of the map and of the colour bar (empty without one), which are
/// then painted directly.
pub(crate) fn draw_frame(
    rgb: &mut [u8],
    size: (u32, u32),
    bounds: Bounds,
    title: &str,
    colour_bar: Option<&ColourBar>,
) -> Result<PixelRanges, PlotError> {
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    let root = root
        .titled(title, (FONT, 22).into_font().style(FontStyle::Bold))
        .map_err(drawing_error)?;
    let bar_width = if colour_bar.is_some() {
        COLORBAR_WIDTH
    } else {
        0
    };
    let (map_area, bar_area) = root.split_horizontally(size.0 - bar_width);
    let (x0, y0, x1, y1) = bounds;
    let mut map = ChartBuilder::on(&map_area)
        .margin(12)
        // Without a colour bar beside it, the last longitude label, centred
        // on the map's right edge, needs room of its own.
        .margin_right(if colour_bar.is_some() {
            12
        } else {
            LAST_LABEL_ROOM
        })
        .x_label_area_size(35)
        .y_label_area_size(75)
        .build_cartesian_2d(x0..x1, y0..y1)
        .map_err(drawing_error)?;
    let (x_step, y_step) = ((x1 - x0) / 6.0, (y1 - y0) / 6.0);
    map.configure_mesh()
        .disable_mesh()
        .x_labels(6)
        .y_labels(6)
        .x_label_formatter(&|v| tick_label(*v, x_step))
        .y_label_formatter(&|v| tick_label(*v, y_step))
        .label_style((FONT, 13))
        .draw()
        .map_err(drawing_error)?;
    let (map_x, map_y) = map.plotting_area().get_pixel_range();
    let (bar_x, bar_y) = match colour_bar {
        Some(bar) => draw_colour_bar_axis(&bar_area, bar)?,
        None => (0..0, 0..0),
    };
    root.present().map_err(drawing_error)?;
    Ok((map_x, map_y, bar_x, bar_y))
}

pub(crate) fn draw_colour_bar_axis<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    bar: &ColourBar,
) -> Result<(Range<i32>, Range<i32>), PlotError> {
    let (vmin, vmax) = bar.limits;
    let (bar_min, bar_max) = if bar.log {
        (vmin.log10(), vmax.log10())
    } else {
        (vmin, vmax)
    };
    let bar_max = if bar_max > bar_min {
        bar_max
    } else {
        bar_min + 1.0
    };
    let mut chart = ChartBuilder::on(area)
        .margin_top(34)
        .margin_bottom(47)
        .margin_right(10)
        .right_y_label_area_size(70)
        .build_cartesian_2d(0.0..1.0, bar_min..bar_max)
        .map_err(drawing_error)?;
    let units = if bar.log {
        format!("log10 {}", bar.units)
    } else {
        bar.units.to_string()
    };
    let step = (bar_max - bar_min) / 8.0;
    chart
        .configure_mesh()
        .disable_mesh()
        .disable_x_axis()
        .y_labels(8)
        .y_label_formatter(&|v| tick_label(*v, step))
        .label_style((FONT, 12))
        .draw()
        .map_err(drawing_error)?;
    let (bar_x, bar_y) = chart.plotting_area().get_pixel_range();
    // The units read horizontally above the bar, where a learner looks first.
    let units_style = (FONT, 15)
        .into_font()
        .style(FontStyle::Bold)
        .into_text_style(area)
        .pos(Pos::new(HPos::Center, VPos::Bottom));
    let (area_x, _) = area.get_pixel_range();
    let centre = (bar_x.start + bar_x.end) / 2 - area_x.start;
    let above_bar = bar_y.start - area.get_base_pixel().1 - 8;
    area.draw_text(&units, &units_style, (centre, above_bar))
        .map_err(drawing_error)?;
    Ok((bar_x, bar_y))
}

/// A tick label with as many decimals as the tick spacing needs
/// (4500000 for UTM metres, 37.25 for degrees, 0.125 for an index).
pub(crate) fn tick_label(value: f64, step: f64) -> String {
    // Columns in molecules/cm² (1e18) or mol/m² (1e-5) need an exponent;
    // coordinates in metres (steps up to 1e6) read better in full.
    let step_size = step.abs();
    if step_size >= 1e7 || (step_size > 0.0 && step_size < 1e-4) {
        if value == 0.0 {
            return "0".to_string();
        }
        let digits = (value.abs().log10().floor() - step_size.log10().floor()).clamp(0.0, 3.0);
        return format!("{value:.*e}", digits as usize);
    }
    let decimals = if step.abs() >= 1.0 || step == 0.0 {
        0
    } else {
        (-step.abs().log10()).ceil() as usize + 1
    };
    let text = format!("{value:.decimals$}");
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].to_string()
    } else {
        text
    }
}

/// Fills a pixel rectangle of the RGB buffer; `colour` gets the position
/// inside it as fractions (0 = left/top, 1 = right/bottom).
pub(crate) fn paint(
    rgb: &mut [u8],
    width: u32,
    xs: &Range<i32>,
    ys: &Range<i32>,
    colour: impl Fn(f64, f64) -> [u8; 3],
) {
    let (w, h) = (f64::from(xs.end - xs.start), f64::from(ys.end - ys.start));
    for py in ys.clone() {
        for px in xs.clone() {
            let x = (f64::from(px - xs.start) + 0.5) / w;
            let y = (f64::from(py - ys.start) + 0.5) / h;
            let offset = ((py as u32 * width + px as u32) * 3) as usize;
            rgb[offset..offset + 3].copy_from_slice(&colour(x, y));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn style() -> MapStyle {
        MapStyle {
            title: "Test map".into(),
            colormap: Colormap::named("viridis").unwrap(),
            limits: None,
            log: false,
            gamma: None,
            units: "K".into(),
            width: 700,
            overlays: Vec::new(),
            geographic: true,
            colour_bar: true,
        }
    }

    #[test]
    fn the_colour_bar_can_be_left_out() {
        let values = vec![1.0f32; 100];
        let bounds = (10.0, 40.0, 11.0, 41.0);
        let with = render_map(&values, 10, 10, bounds, &style()).unwrap();
        let without = render_map(
            &values,
            10,
            10,
            bounds,
            &MapStyle {
                colour_bar: false,
                ..style()
            },
        )
        .unwrap();
        // The bar is a gradient: many colours in the figure's rightmost
        // 120 px. Without it, the flat map reaches there: one colour.
        let colours_on_the_right = |figure: &Figure| {
            let (width, height, rgb) = decode(&figure.png);
            let mut colours: Vec<&[u8]> = (0..height)
                .flat_map(|y| (width - 120..width).map(move |x| (y * width + x) as usize * 3))
                .map(|o| &rgb[o..o + 3])
                .filter(|c| c[0] != c[1] || c[1] != c[2])
                .collect();
            colours.sort();
            colours.dedup();
            colours.len()
        };
        assert!(colours_on_the_right(&with) > 50);
        assert!(colours_on_the_right(&without) <= 2);
    }

    #[test]
    fn without_a_colour_bar_the_last_longitude_label_is_not_cut() {
        let values = vec![1.0f32; 100];
        let figure = render_map(
            &values,
            10,
            10,
            (150.36, -35.42, 150.46, -35.34),
            &MapStyle {
                colour_bar: false,
                ..style()
            },
        )
        .unwrap();
        // Text is dark grey to black; the figure's background is white. The
        // label "150.460" sits centred on the map's right edge, in the
        // bottom label band: none of its pixels may touch the last columns.
        let (width, height, rgb) = decode(&figure.png);
        let dark_in_column = |x: u32| {
            (height - 40..height).any(|y| {
                let o = (y * width + x) as usize * 3;
                rgb[o] < 100 && rgb[o + 1] < 100 && rgb[o + 2] < 100
            })
        };
        assert!(!dark_in_column(width - 1) && !dark_in_column(width - 2));
        assert!(
            (width - 60..width).any(dark_in_column),
            "the last label is drawn near the right edge"
        );
    }

    fn decode(png: &[u8]) -> (u32, u32, Vec<u8>) {
        let decoder = png::Decoder::new(png);
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        (info.width, info.height, buffer)
    }

    #[test]
    fn a_map_shows_the_values_through_the_colormap() {
        // Left half 0, right half 1; one missing pixel row at the bottom.
        let (cols, rows) = (10, 10);
        let values: Vec<f32> = (0..rows * cols)
            .map(|i| {
                if i / cols == rows - 1 {
                    f32::NAN
                } else if i % cols < 5 {
                    0.0
                } else {
                    1.0
                }
            })
            .collect();
        let figure = render_map(&values, cols, rows, (10.0, 40.0, 11.0, 41.0), &style()).unwrap();
        let (w, h, rgb) = decode(&figure.png);
        assert_eq!((w, h), (figure.width, figure.height));
        let pixel = |x: u32, y: u32| {
            let o = ((y * w + x) * 3) as usize;
            [rgb[o], rgb[o + 1], rgb[o + 2]]
        };
        // Find the map's plotting area by its left-most low-value colour.
        let low = [0x44, 0x01, 0x54];
        let high = [0xfd, 0xe7, 0x25];
        let row = h / 2;
        let columns: Vec<[u8; 3]> = (0..w).map(|x| pixel(x, row)).collect();
        let first_low = columns
            .iter()
            .position(|&c| c == low)
            .expect("low values drawn");
        let first_high = columns
            .iter()
            .position(|&c| c == high)
            .expect("high values drawn");
        assert!(first_low < first_high, "low on the left, high on the right");
        assert!(
            (0..h).any(|y| pixel(first_low as u32 + 2, y) == MISSING),
            "missing pixels drawn grey"
        );
    }

    #[test]
    fn log_scales_need_positive_limits() {
        let values = vec![1.0f32, 10.0, 100.0, 1000.0];
        let mut log_style = style();
        log_style.log = true;
        assert!(render_map(&values, 2, 2, (0.0, 0.0, 1.0, 1.0), &log_style).is_ok());
        log_style.limits = Some((0.0, 10.0));
        assert!(render_map(&values, 2, 2, (0.0, 0.0, 1.0, 1.0), &log_style).is_err());
    }

    #[test]
    fn tick_labels_follow_the_spacing() {
        assert_eq!(tick_label(4_500_000.0, 20_000.0), "4500000");
        assert_eq!(tick_label(37.25, 0.1), "37.25");
        assert_eq!(tick_label(-0.0, 0.1), "0.00");
        assert_eq!(tick_label(2.5e18, 5e17), "2.5e18");
        assert_eq!(tick_label(4.0e-5, 2e-5), "4e-5");
        assert_eq!(tick_label(0.0, 2e-5), "0");
    }

    #[test]
    fn wrong_sizes_are_refused() {
        assert!(render_map(&[1.0], 2, 2, (0.0, 0.0, 1.0, 1.0), &style()).is_err());
    }
}
