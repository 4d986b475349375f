//! Facet grids: one small map per date on a shared colour scale, with one
//! colour bar; and animated GIFs made of figures.

use super::map::{ColourBar, MapStyle, paint, tick_label};
use super::{FONT, Figure, PlotError, drawing_error, encode_png, register_fonts};
use crate::raster::Bounds;
use crate::validity::is_valid_f64;
use plotters::prelude::*;
use std::ops::Range;

/// One panel: a label (e.g. a date) and its values (`cols` x `rows`, row 0 at the top).
pub struct Panel<'a> {
    pub label: String,
    pub values: &'a [f32],
    pub cols: usize,
    pub rows: usize,
}

const PANEL_COLOURBAR: u32 = 110;

/// The most panels a facet grid draws: 25 rows of 4.
pub const MAX_PANELS: usize = 100;

/// The size in pixels of a facet grid of `panels` maps of `bounds`: up to
/// 4 columns, each panel as tall as the area's shape asks (150 to 900 pixels).
pub fn facet_size(panels: usize, bounds: Bounds, style: &MapStyle) -> (u32, u32) {
    let columns = panels.clamp(1, 4);
    let grid_rows = panels.div_ceil(columns) as u32;
    let (x0, y0, x1, y1) = bounds;
    let shrink = if style.geographic {
        ((y0 + y1) / 2.0).to_radians().cos().max(0.05)
    } else {
        1.0
    };
    let aspect = ((y1 - y0) / ((x1 - x0) * shrink)).clamp(0.2, 5.0);
    let width = style.width.max(500);
    let panel_width = (width - PANEL_COLOURBAR) / columns as u32;
    let panel_height = ((f64::from(panel_width) - 60.0) * aspect + 70.0).clamp(150.0, 900.0) as u32;
    (width, 40 + panel_height.saturating_mul(grid_rows))
}

/// Draws the panels in a grid (up to 4 columns) sharing `style`'s colour
/// limits (required: a shared scale is the point of a facet grid).
pub fn render_facets(
    panels: &[Panel],
    bounds: Bounds,
    style: &MapStyle,
) -> Result<Figure, PlotError> {
    let (vmin, vmax) = style
        .limits
        .ok_or_else(|| PlotError::Invalid("a facet grid needs shared colour limits".into()))?;
    if panels.is_empty()
        || panels
            .iter()
            .any(|p| p.values.len() != p.cols * p.rows || p.cols == 0)
    {
        return Err(PlotError::Invalid(
            "every panel needs values filling its size".into(),
        ));
    }
    if panels.len() > MAX_PANELS {
        return Err(PlotError::Invalid(format!(
            "a facet grid shows at most {MAX_PANELS} panels, not {}: plot fewer dates",
            panels.len()
        )));
    }
    register_fonts();
    let columns = panels.len().clamp(1, 4);
    let grid_rows = panels.len().div_ceil(columns);
    let (width, height) = facet_size(panels.len(), bounds, style);
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    let bar = ColourBar {
        limits: (vmin, vmax),
        log: style.log,
        units: &style.units,
        colormap: &style.colormap,
    };
    let (areas, bar_range) = draw_facet_frames(
        &mut rgb,
        (width, height),
        (columns, grid_rows),
        bounds,
        panels,
        style,
        &bar,
    )?;
    let normalise = |v: f64| {
        if vmax > vmin {
            (v - vmin) / (vmax - vmin)
        } else {
            0.5
        }
    };
    for (panel, (xs, ys)) in panels.iter().zip(&areas) {
        paint(&mut rgb, width, xs, ys, |x, y| {
            let col = ((x * panel.cols as f64) as usize).min(panel.cols - 1);
            let row = ((y * panel.rows as f64) as usize).min(panel.rows - 1);
            let value = f64::from(panel.values[row * panel.cols + col]);
            if !is_valid_f64(value) {
                [235, 235, 235]
            } else {
                style.colormap.at(normalise(value))
            }
        });
        // Coastlines, outlines and markers on every panel, as on a single map.
        super::overlay::draw_overlays(
            &mut rgb,
            (width, height),
            (xs, ys),
            bounds,
            &style.overlays,
        )?;
    }
    paint(&mut rgb, width, &bar_range.0, &bar_range.1, |_, y| {
        bar.colormap.at(1.0 - y)
    });
    Ok(Figure {
        title: style.title.clone(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
    })
}

type Area = (Range<i32>, Range<i32>);

fn draw_facet_frames(
    rgb: &mut [u8],
    size: (u32, u32),
    (columns, grid_rows): (usize, usize),
    bounds: Bounds,
    panels: &[Panel],
    style: &MapStyle,
    bar: &ColourBar,
) -> Result<(Vec<Area>, Area), PlotError> {
    let root = BitMapBackend::with_buffer(rgb, size).into_drawing_area();
    let root = root
        .titled(&style.title, (FONT, 22).into_font().style(FontStyle::Bold))
        .map_err(drawing_error)?;
    let (grid_area, bar_area) = root.split_horizontally(size.0 - PANEL_COLOURBAR);
    let cells = grid_area.split_evenly((grid_rows, columns));
    let (x0, y0, x1, y1) = bounds;
    let (x_step, y_step) = ((x1 - x0) / 3.0, (y1 - y0) / 3.0);
    let mut areas = Vec::new();
    for (panel, cell) in panels.iter().zip(cells.iter()) {
        let mut chart = ChartBuilder::on(cell)
            .caption(&panel.label, (FONT, 14))
            .margin(6)
            .x_label_area_size(22)
            .y_label_area_size(45)
            .build_cartesian_2d(x0..x1, y0..y1)
            .map_err(drawing_error)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(3)
            .y_labels(3)
            .x_label_formatter(&|v| tick_label(*v, x_step))
            .y_label_formatter(&|v| tick_label(*v, y_step))
            .label_style((FONT, 10))
            .draw()
            .map_err(drawing_error)?;
        areas.push(chart.plotting_area().get_pixel_range());
    }
    let bar_range = super::map::draw_colour_bar_axis(&bar_area, bar)?;
    root.present().map_err(drawing_error)?;
    Ok((areas, bar_range))
}

/// An animated GIF of figures of the same size, `delay_ms` per frame, looping.
pub fn animate(frames: &[&Figure], delay_ms: u32) -> Result<Vec<u8>, PlotError> {
    let first = frames
        .first()
        .ok_or_else(|| PlotError::Invalid("an animation needs at least one figure".into()))?;
    if frames
        .iter()
        .any(|f| (f.width, f.height) != (first.width, first.height))
    {
        return Err(PlotError::Invalid(
            "the figures of an animation must have the same size".into(),
        ));
    }
    let (width, height) = (u16::try_from(first.width), u16::try_from(first.height));
    let (Ok(width), Ok(height)) = (width, height) else {
        return Err(PlotError::Invalid("figures are too large for a GIF".into()));
    };
    let mut gif = Vec::new();
    {
        let mut encoder = gif::Encoder::new(&mut gif, width, height, &[]).map_err(drawing_error)?;
        encoder
            .set_repeat(gif::Repeat::Infinite)
            .map_err(drawing_error)?;
        for figure in frames {
            let rgb = decode_rgb(&figure.png)?;
            let mut frame = gif::Frame::from_rgb_speed(width, height, &rgb, 10);
            frame.delay = (delay_ms / 10).clamp(1, u32::from(u16::MAX)) as u16;
            encoder.write_frame(&frame).map_err(drawing_error)?;
        }
    }
    Ok(gif)
}

fn decode_rgb(png_bytes: &[u8]) -> Result<Vec<u8>, PlotError> {
    let decoder = png::Decoder::new(png_bytes);
    let mut reader = decoder.read_info().map_err(drawing_error)?;
    let mut buffer = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buffer).map_err(drawing_error)?;
    buffer.truncate(info.buffer_size());
    Ok(buffer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plot::Colormap;

    fn style() -> MapStyle {
        MapStyle {
            title: "SST".into(),
            colormap: Colormap::named("inferno").unwrap(),
            limits: Some((0.0, 10.0)),
            log: false,
            gamma: None,
            units: "°C".into(),
            width: 800,
            geographic: true,
            overlays: Vec::new(),
            colour_bar: true,
        }
    }

    #[test]
    fn a_facet_grid_and_an_animation() {
        let values: Vec<Vec<f32>> = (0..5).map(|i| vec![i as f32 * 2.0; 100]).collect();
        let panels: Vec<Panel> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Panel {
                label: format!("2020-0{}-01", i + 1),
                values: v,
                cols: 10,
                rows: 10,
            })
            .collect();
        let figure = render_facets(&panels, (10.0, 40.0, 11.0, 41.0), &style()).unwrap();
        assert_eq!(figure.width, 800);
        let mut unshared = style();
        unshared.limits = None;
        assert!(render_facets(&panels, (10.0, 40.0, 11.0, 41.0), &unshared).is_err());
        let gif = animate(&[&figure, &figure], 500).unwrap();
        assert_eq!(&gif[..6], b"GIF89a");
        assert!(animate(&[], 500).is_err());
    }
}
