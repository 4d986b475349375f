//! Facet grids: one small map per date on a shared colour scale, with one
//! colour bar; and animated GIFs made of figures.

use super::layout::PanelKind;
use super::map::{MapStyle, Scale};
use super::sheet::{Sheet, draw_sheet, sheet_size};
use super::{Figure, PlotError, drawing_error};
use crate::raster::Bounds;

/// One panel: a label (e.g. a date) and its values (`cols` x `rows`, row 0 at the top).
pub struct Panel<'a> {
    pub label: String,
    pub values: &'a [f32],
    pub cols: usize,
    pub rows: usize,
}

/// The most panels a facet grid draws.
pub const MAX_PANELS: usize = 100;

fn sheet<'a>(
    captions: &'a [String],
    bounds: Bounds,
    style: &'a MapStyle,
    scale: &'a Scale,
) -> Sheet<'a> {
    Sheet {
        title: &style.title,
        captions,
        bounds,
        geographic: style.geographic,
        key: scale.key(style),
        kind: if scale.classes.is_some() {
            PanelKind::Classes
        } else {
            PanelKind::Continuous
        },
        width: None,
        scale_bar: style.scale_bar,
        overlays: &style.overlays,
        legend: &style.legend,
    }
}

/// The size in pixels of a facet grid of `panels` maps of `bounds`: the
/// canvas grows with the count so each panel keeps a readable size.
pub fn facet_size(panels: usize, bounds: Bounds, style: &MapStyle) -> (u32, u32) {
    let captions = vec!["2020-01-01".to_string(); panels.max(1)];
    let scale = Scale {
        limits: style.limits.unwrap_or((0.0, 1.0)),
        extend: (true, true),
        classes: style.classes.clone(),
    };
    sheet_size(&sheet(&captions, bounds, style, &scale))
}

/// Draws the panels in a balanced grid on one colour scale: `style`'s
/// limits, or the 2–98 % quantiles of every panel's values together.
pub fn render_facets(
    panels: &[Panel],
    bounds: Bounds,
    style: &MapStyle,
) -> Result<Figure, PlotError> {
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
    let values: Vec<&[f32]> = panels.iter().map(|p| p.values).collect();
    let scale = Scale::of(&values, style)?;
    let captions: Vec<String> = panels.iter().map(|p| p.label.clone()).collect();
    draw_sheet(&sheet(&captions, bounds, style, &scale), |i, x, y| {
        let panel = &panels[i];
        let col = ((x * panel.cols as f64) as usize).min(panel.cols - 1);
        let row = ((y * panel.rows as f64) as usize).min(panel.rows - 1);
        scale.colour(f64::from(panel.values[row * panel.cols + col]), style)
    })
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
            ..MapStyle::default()
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
        assert!(
            figure.width >= 3 * 300,
            "three panels a row: {}",
            figure.width
        );
        assert_eq!(
            (figure.width, figure.height),
            facet_size(5, (10.0, 40.0, 11.0, 41.0), &style()),
            "the size charged is the size drawn"
        );
        let gif = animate(&[&figure, &figure], 500).unwrap();
        assert_eq!(&gif[..6], b"GIF89a");
        assert!(animate(&[], 500).is_err());
    }
}
