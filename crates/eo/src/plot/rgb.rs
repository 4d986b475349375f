//! Colour composites: three bands as red, green and blue (true colour,
//! false colour), each stretched between two quantiles or equalised.

use super::layout::PanelKind;
use super::legend::{Key, LegendEntry};
use super::sheet::{Sheet, cell_at, draw_sheet};
use super::{Figure, PlotError};
use crate::raster::Bounds;
use crate::validity::{is_valid, valid};

/// How each band is brought to the 0–255 display range.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Stretch {
    /// Linear between the given quantiles of the band (e.g. 2 % and 98 %).
    Quantiles(f64, f64),
    /// Linear between the given quantiles of the three bands pooled: one
    /// pair of limits for all, so equal values look grey (the colours of a
    /// multitemporal composite then mean change, not a band's own range).
    Joint(f64, f64),
    /// Histogram equalisation: every display level gets as many pixels.
    Equalise,
}

/// How to draw a composite.
#[derive(Debug, Clone)]
pub struct RgbStyle {
    pub title: String,
    pub stretch: Stretch,
    pub width: u32,
    pub geographic: bool,
    /// Outlines, markers, circles and labels drawn over the image.
    pub overlays: Vec<super::Overlay>,
    /// Entries of the legend box of labelled overlays.
    pub legend: Vec<LegendEntry>,
    pub scale_bar: bool,
}

/// Draws three bands (`cols` x `rows` each, row 0 at the top) as an RGB image.
pub fn render_rgb(
    bands: [&[f32]; 3],
    cols: usize,
    rows: usize,
    bounds: Bounds,
    style: &RgbStyle,
) -> Result<Figure, PlotError> {
    if bands.iter().any(|b| b.len() != cols * rows) || cols == 0 || rows == 0 {
        return Err(PlotError::Invalid(
            "the three bands must have the same size".into(),
        ));
    }
    let channels: Vec<Vec<Option<u8>>> = match style.stretch {
        Stretch::Joint(low, high) => {
            let pooled: Vec<f32> = bands.iter().flat_map(|b| valid(b)).collect();
            let limits = quantile_limits(pooled, (low, high));
            bands
                .iter()
                .map(|band| linear_levels(band, limits))
                .collect()
        }
        stretch => bands
            .iter()
            .map(|band| display_levels(band, stretch))
            .collect(),
    };
    let sheet = Sheet {
        title: &style.title,
        captions: &[String::new()],
        bounds,
        geographic: style.geographic,
        key: Key::None,
        kind: PanelKind::Colours,
        width: Some(style.width.max(400)),
        scale_bar: style.scale_bar,
        overlays: &style.overlays,
        legend: &style.legend,
    };
    draw_sheet(&sheet, |_, x, y| {
        let i = cell_at(x, y, (cols, rows));
        match (channels[0][i], channels[1][i], channels[2][i]) {
            (Some(r), Some(g), Some(b)) => [r, g, b],
            _ => [255, 255, 255],
        }
    })
}

/// The values at two quantiles of `values` (`None` when there are none).
fn quantile_limits(mut values: Vec<f32>, (low, high): (f64, f64)) -> Option<(f32, f32)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f32::total_cmp);
    let at = |q: f64| values[((values.len() - 1) as f64 * q).round() as usize];
    Some((at(low), at(high)))
}

/// Display levels linear between `limits` (mid-grey when they are equal).
fn linear_levels(band: &[f32], limits: Option<(f32, f32)>) -> Vec<Option<u8>> {
    band.iter()
        .map(|&v| {
            let (a, b) = limits.filter(|_| is_valid(v))?;
            let t = if b > a {
                f64::from((v - a) / (b - a))
            } else {
                0.5
            };
            Some((t.clamp(0.0, 1.0) * 255.0).round() as u8)
        })
        .collect()
}

/// Each value's display level (None where missing).
fn display_levels(band: &[f32], stretch: Stretch) -> Vec<Option<u8>> {
    let mut finite: Vec<f32> = valid(band).collect();
    if finite.is_empty() {
        return vec![None; band.len()];
    }
    finite.sort_by(f32::total_cmp);
    let rank_of = |v: f32| finite.partition_point(|&x| x < v) as f64 / finite.len() as f64;
    let at = |q: f64| finite[((finite.len() - 1) as f64 * q).round() as usize];
    band.iter()
        .map(|&v| {
            if !is_valid(v) {
                return None;
            }
            let t = match stretch {
                Stretch::Quantiles(low, high) | Stretch::Joint(low, high) => {
                    let (a, b) = (at(low), at(high));
                    if b > a {
                        f64::from((v - a) / (b - a))
                    } else {
                        0.5
                    }
                }
                Stretch::Equalise => rank_of(v),
            };
            Some((t.clamp(0.0, 1.0) * 255.0).round() as u8)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantile_stretch_saturates_the_tails() {
        let band: Vec<f32> = (0..100).map(|v| v as f32).collect();
        let levels = display_levels(&band, Stretch::Quantiles(0.1, 0.9));
        assert_eq!(levels[0], Some(0));
        assert_eq!(levels[99], Some(255));
        assert_eq!(levels[50], Some(129), "(50 - 10) / (89 - 10) of 255");
    }

    #[test]
    fn equalisation_spreads_skewed_values() {
        let band: Vec<f32> = (0..100).map(|v| (v as f32).powi(4)).collect();
        let levels = display_levels(&band, Stretch::Equalise);
        assert!(
            (levels[50].unwrap() as i32 - 128).abs() <= 2,
            "{:?}",
            levels[50]
        );
        assert_eq!(display_levels(&[f32::NAN], Stretch::Equalise), vec![None]);
    }

    #[test]
    fn a_red_band_shows_red() {
        // Red rises from left to right; green and blue sit at their minimum
        // but for one pixel (a constant band would stretch to mid-grey).
        let high: Vec<f32> = (0..400).map(|v| (v % 20) as f32).collect();
        let mut zero = vec![0.0f32; 400];
        zero[0] = 1.0;
        let style = RgbStyle {
            title: String::new(),
            stretch: Stretch::Quantiles(0.0, 1.0),
            width: 500,
            geographic: false,
            overlays: Vec::new(),
            legend: Vec::new(),
            scale_bar: false,
        };
        let figure = render_rgb(
            [&high, &zero, &zero],
            20,
            20,
            (0.0, 0.0, 20.0, 20.0),
            &style,
        )
        .unwrap();
        let decoder = png::Decoder::new(figure.png.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut rgb = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut rgb).unwrap();
        let width = info.width as usize;
        let is_red = |p: &[u8]| p[0] > 200 && p[1] < 80 && p[2] < 80;
        let row = info.height as usize / 2;
        assert!(
            rgb[row * width * 3..(row + 1) * width * 3]
                .chunks(3)
                .any(is_red),
            "red pixels in the middle row"
        );
        assert!(!rgb.chunks(3).all(|p| p == [255, 255, 255]), "not blank");
    }

    #[test]
    fn a_composite_renders() {
        let band: Vec<f32> = (0..400).map(|v| v as f32).collect();
        let style = RgbStyle {
            title: "RGB".into(),
            stretch: Stretch::Quantiles(0.02, 0.98),
            width: 500,
            geographic: false,
            overlays: Vec::new(),
            legend: Vec::new(),
            scale_bar: false,
        };
        let figure = render_rgb(
            [&band, &band, &band],
            20,
            20,
            (0.0, 0.0, 20.0, 20.0),
            &style,
        )
        .unwrap();
        assert_eq!(figure.width, 500);
        assert!(
            render_rgb(
                [&band, &band[..10], &band],
                20,
                20,
                (0.0, 0.0, 1.0, 1.0),
                &style
            )
            .is_err()
        );
    }
}
