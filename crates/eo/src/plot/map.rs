//! Maps of a raster: the values through a colormap, georeferenced axes, a
//! colour bar with units, and a title.

use super::colormap::Rgb;
use super::layout::PanelKind;
use super::legend::{Class, ColourBar, Key, LegendEntry};
use super::sheet::{Sheet, cell_at, draw_sheet};
use super::{Colormap, Figure, PlotError};
use crate::raster::Bounds;
use crate::validity::is_valid_f64;
use std::ops::Range;

/// How to draw a map.
#[derive(Debug, Clone)]
pub struct MapStyle {
    pub title: String,
    pub colormap: Colormap,
    /// Colour limits; `None` uses the 2 % and 98 % quantiles of the valid
    /// pixels (a few extreme pixels do not flatten the rest).
    pub limits: Option<(f64, f64)>,
    /// Colour by log10 of the values (positive values only).
    pub log: bool,
    /// Power-law colour scale: colours follow `t^gamma` of the linear
    /// position (below 1 brightens faint values, e.g. 0.5 for plumes).
    pub gamma: Option<f64>,
    /// Limits made symmetric about this value (a diverging map of an
    /// anomaly or a difference centred on 0).
    pub centre: Option<f64>,
    /// The unit shown beside the colour bar.
    pub units: String,
    /// Figure width in pixels of a single map (the height follows the
    /// map's shape); facet grids size their panels by their count.
    pub width: u32,
    /// Outlines, markers, circles and labels drawn over the map.
    pub overlays: Vec<super::Overlay>,
    /// Entries of the legend box of labelled overlays.
    pub legend: Vec<LegendEntry>,
    /// Whether the colour bar is drawn (not for maps that only carry
    /// overlays, such as footprints over a blank background).
    pub colour_bar: bool,
    /// True when x/y are longitude/latitude (the map is then drawn with
    /// east-west distances shrunk by cos(latitude), as on the ground).
    pub geographic: bool,
    /// A scale bar in the lower left corner.
    pub scale_bar: bool,
    /// Classes of a categorical raster, shown with a legend instead of a
    /// colour bar; `None` finds them only for a binary (0/1) raster.
    pub classes: Option<Vec<Class>>,
}

impl Default for MapStyle {
    fn default() -> Self {
        MapStyle {
            title: String::new(),
            colormap: Colormap::named("viridis").unwrap_or_else(|| unreachable!("viridis exists")),
            limits: None,
            log: false,
            gamma: None,
            centre: None,
            units: String::new(),
            width: 900,
            overlays: Vec::new(),
            legend: Vec::new(),
            colour_bar: true,
            geographic: false,
            scale_bar: false,
            classes: None,
        }
    }
}

/// Colour of missing pixels.
pub(crate) const MISSING: [u8; 3] = [235, 235, 235];

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
    let scale = Scale::of(&[values], style)?;
    let key = scale.key(style);
    let sheet = Sheet {
        title: &style.title,
        captions: &[String::new()],
        bounds,
        geographic: style.geographic,
        key,
        kind: if style.colour_bar {
            scale.kind()
        } else {
            PanelKind::Backdrop
        },
        width: Some(style.width.max(400)),
        scale_bar: style.scale_bar,
        overlays: &style.overlays,
        legend: &style.legend,
    };
    draw_sheet(&sheet, |_, x, y| {
        scale.colour(f64::from(values[cell_at(x, y, (cols, rows))]), style)
    })
}

/// The colour of every value as a figure would draw it (limits, classes,
/// log and gamma from `style`), for an image laid over an interactive map:
/// `None` where the value is missing, so the map shows through.
pub fn value_colours(values: &[f32], style: &MapStyle) -> Result<Vec<Option<Rgb>>, PlotError> {
    let scale = Scale::of(&[values], style)?;
    Ok(values
        .iter()
        .map(|&v| {
            let value = f64::from(v);
            let colour = scale.colour(value, style);
            (is_valid_f64(value) && !(style.log && value <= 0.0) && colour != MISSING)
                .then_some(colour)
        })
        .collect())
}

/// How values become colours: through the colormap between limits, or
/// through the colours of classes.
pub(crate) struct Scale {
    pub limits: (f64, f64),
    pub extend: (bool, bool),
    pub classes: Option<Vec<Class>>,
}

impl Scale {
    /// The scale of panels of values drawn with `style`.
    pub fn of(panels: &[&[f32]], style: &MapStyle) -> Result<Scale, PlotError> {
        let valid = || {
            panels
                .iter()
                .flat_map(|p| p.iter())
                .map(|&v| f64::from(v))
                .filter(|&v| is_valid_f64(v) && (!style.log || v > 0.0))
        };
        let classes = match &style.classes {
            Some(classes) => Some(classes.clone()),
            None if style.limits.is_none() && style.colour_bar => binary_classes(valid(), style),
            None => None,
        };
        let limits = colour_limits(valid(), style)?;
        let (below, above) = valid().fold((false, false), |(b, a), v| {
            (b || v < limits.0, a || v > limits.1)
        });
        Ok(Scale {
            limits,
            extend: (below, above),
            classes,
        })
    }

    fn kind(&self) -> PanelKind {
        if self.classes.is_some() {
            PanelKind::Classes
        } else {
            PanelKind::Continuous
        }
    }

    pub fn key<'a>(&'a self, style: &'a MapStyle) -> Key<'a> {
        match &self.classes {
            Some(classes) => Key::Classes {
                title: &style.units,
                classes,
            },
            None if style.colour_bar => Key::Bar(ColourBar {
                limits: self.limits,
                log: style.log,
                units: &style.units,
                colormap: &style.colormap,
                extend: self.extend,
            }),
            None => Key::None,
        }
    }

    /// A value's colour (missing values grey).
    pub fn colour(&self, value: f64, style: &MapStyle) -> Rgb {
        if !is_valid_f64(value) {
            return MISSING;
        }
        if let Some(classes) = &self.classes {
            return classes
                .iter()
                .find(|c| c.value == value)
                .map_or(MISSING, |c| c.colour);
        }
        let (vmin, vmax) = self.limits;
        let t = if style.log {
            if value <= 0.0 {
                return MISSING;
            }
            (value.log10() - vmin.log10()) / (vmax.log10() - vmin.log10())
        } else if vmax > vmin {
            let t = ((value - vmin) / (vmax - vmin)).clamp(0.0, 1.0);
            style.gamma.map_or(t, |gamma| t.powf(gamma))
        } else {
            0.5
        };
        style.colormap.at(t)
    }
}

/// Two classes when every valid value is 0 or 1 and both occur (a mask):
/// 0 and 1 in the colormap's end colours.
fn binary_classes(values: impl Iterator<Item = f64>, style: &MapStyle) -> Option<Vec<Class>> {
    let (mut zero, mut one) = (false, false);
    for v in values {
        match v {
            0.0 => zero = true,
            1.0 => one = true,
            _ => return None,
        }
    }
    (zero && one).then(|| {
        [0.0, 1.0]
            .map(|value| Class {
                value,
                label: format!("{value}"),
                colour: style.colormap.at(value),
            })
            .to_vec()
    })
}

/// The value at quantile `q` of sorted values.
pub(crate) fn quantile(sorted: &[f64], q: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * q).round() as usize]
}

/// The limits asked for, or the 2–98 % quantiles of the valid values;
/// made symmetric about the centre when one is asked for.
fn colour_limits(
    values: impl Iterator<Item = f64>,
    style: &MapStyle,
) -> Result<(f64, f64), PlotError> {
    let (vmin, vmax) = match style.limits {
        Some(limits) => limits,
        None => {
            let mut sorted: Vec<f64> = values.collect();
            if sorted.is_empty() {
                return Ok((0.0, 1.0));
            }
            sorted.sort_by(f64::total_cmp);
            (quantile(&sorted, 0.02), quantile(&sorted, 0.98))
        }
    };
    let (vmin, vmax) = match style.centre {
        Some(centre) => {
            let half = (vmin - centre).abs().max((vmax - centre).abs());
            (centre - half, centre + half)
        }
        None => (vmin, vmax),
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
    // A step of 2.5 needs its decimal: -7.5, not -8.
    let decimals = decimals.max(super::axes::decimals_for(step.abs()));
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
            geographic: true,
            ..MapStyle::default()
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
    fn bar_tick_labels_follow_the_spacing() {
        assert_eq!(tick_label(4_500_000.0, 20_000.0), "4500000");
        assert_eq!(tick_label(37.25, 0.1), "37.25");
        assert_eq!(tick_label(-0.0, 0.1), "0.00");
        assert_eq!(tick_label(2.5e18, 5e17), "2.5e18");
        assert_eq!(tick_label(4.0e-5, 2e-5), "4e-5");
        assert_eq!(tick_label(0.0, 2e-5), "0");
        assert_eq!(tick_label(-7.5, 2.5), "-7.5");
    }

    fn pixel(figure: &Figure, rgb: &[u8], (x, y): (i32, i32)) -> [u8; 3] {
        let o = (y as usize * figure.width as usize + x as usize) * 3;
        [rgb[o], rgb[o + 1], rgb[o + 2]]
    }

    #[test]
    fn a_few_extreme_pixels_do_not_flatten_the_rest() {
        // 0..99 and one plume pixel of 1e6: the default 2–98 % stretch
        // spreads 0..99 over the colormap, and arrows show the clipped ends.
        let mut values: Vec<f32> = (0..100).map(|v| v as f32).collect();
        values[55] = 1e6;
        let figure = render_map(&values, 10, 10, (10.0, 40.0, 11.0, 41.0), &style()).unwrap();
        let (_, _, rgb) = decode(&figure.png);
        let map = figure.layout.panels[0].rect;
        // Pixel (2, 5) holds 52: mid-scale, not the bottom colour.
        let mid = pixel(
            &figure,
            &rgb,
            (
                map.x0 + map.width() * 5 / 20,
                map.y0 + map.height() * 11 / 20,
            ),
        );
        assert_ne!(mid, [0x44, 0x01, 0x54]);
        let bar = figure.layout.colour_bar.expect("a colour bar");
        let centre = (bar.x0 + bar.x1) / 2;
        assert_eq!(
            pixel(&figure, &rgb, (centre, bar.y0 - 5)),
            [0xfd, 0xe7, 0x25],
            "arrow above"
        );
        assert_eq!(
            pixel(&figure, &rgb, (centre, bar.y1 + 4)),
            [0x44, 0x01, 0x54],
            "arrow below"
        );
    }

    #[test]
    fn a_diverging_scale_is_centred_on_zero() {
        let values: Vec<f32> = (0..100).map(|v| v as f32 / 10.0 - 2.0).collect();
        let figure = render_map(
            &values,
            10,
            10,
            (10.0, 40.0, 11.0, 41.0),
            &MapStyle {
                colormap: Colormap::named("RdBu_r").unwrap(),
                centre: Some(0.0),
                ..style()
            },
        )
        .unwrap();
        let (_, _, rgb) = decode(&figure.png);
        let bar = figure.layout.colour_bar.unwrap();
        let middle = pixel(
            &figure,
            &rgb,
            ((bar.x0 + bar.x1) / 2, (bar.y0 + bar.y1) / 2),
        );
        assert!(middle.iter().all(|&c| c > 235), "white at 0: {middle:?}");
        let labels = figure.layout.strings();
        let after_unit = &labels[labels.iter().position(|&l| l == "K").unwrap() + 1..];
        assert!(after_unit.contains(&"0.0"), "{labels:?}");
        for label in after_unit.iter().filter(|l| l.starts_with('-')) {
            assert!(
                after_unit.contains(&&label[1..]),
                "{label} has its opposite"
            );
        }
    }

    #[test]
    fn a_binary_mask_gets_a_legend_of_two_classes() {
        let values: Vec<f32> = (0..100).map(|v| (v % 2) as f32).collect();
        let figure = render_map(&values, 10, 10, (10.0, 40.0, 11.0, 41.0), &style()).unwrap();
        assert_eq!(figure.layout.colour_bar, None);
        assert_eq!(figure.layout.panels[0].legend_entries, 2);
        let named = render_map(
            &values,
            10,
            10,
            (10.0, 40.0, 11.0, 41.0),
            &MapStyle {
                classes: Some(vec![
                    Class {
                        value: 0.0,
                        label: "no snow".into(),
                        colour: [128, 128, 128],
                    },
                    Class {
                        value: 1.0,
                        label: "snow".into(),
                        colour: [255, 255, 255],
                    },
                ]),
                ..style()
            },
        )
        .unwrap();
        let snow = named
            .layout
            .texts
            .iter()
            .find(|t| t.text == "snow")
            .expect("a snow entry");
        let (_, _, rgb) = decode(&named.png);
        // Its swatch, left of the label, is white with a grey border.
        let swatch = pixel(
            &named,
            &rgb,
            (snow.rect.x0 - 16, (snow.rect.y0 + snow.rect.y1) / 2),
        );
        assert_eq!(swatch, [255, 255, 255]);
        assert!(named.layout.strings().contains(&"no snow"));
        assert_eq!(crate::plot::check_figure(&named), Vec::new());
    }

    #[test]
    fn a_log_bar_is_labelled_in_values() {
        let values: Vec<f32> = (1..=100).map(|v| v as f32).collect();
        let figure = render_map(
            &values,
            10,
            10,
            (10.0, 40.0, 11.0, 41.0),
            &MapStyle {
                log: true,
                units: "g m-3".into(),
                ..style()
            },
        )
        .unwrap();
        let texts = figure.layout.strings();
        assert!(texts.contains(&"g m-3 (log scale)"), "{texts:?}");
        // About 3 to 98 (the 2–98 % stretch): ticks at 5, 10, 20, 50, values not logs.
        assert!(texts.contains(&"10") && texts.contains(&"20"), "{texts:?}");
        assert!(!texts.iter().any(|t| t.starts_with("1.")), "{texts:?}");
    }

    #[test]
    fn wrong_sizes_are_refused() {
        assert!(render_map(&[1.0], 2, 2, (0.0, 0.0, 1.0, 1.0), &style()).is_err());
    }
}
