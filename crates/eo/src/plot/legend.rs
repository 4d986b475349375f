//! Keys beside and on maps: the colour bar (title, ticks, extend arrows
//! where values fall outside the limits), the legend of classes of a
//! categorical or binary raster, and the legend box of labelled overlays.
//! Each is measured with the font before the canvas is sized, so its text
//! never clips.

use super::axes::ticks;
use super::colormap::Rgb;
use super::layout::{KEY_TITLE_PX, Layout, Rect, TICK_PX, draw_text, text_size, widest};
use super::map::tick_label;
use super::{Colormap, PlotError, drawing_error};
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// What the colour bar beside a map shows.
pub(crate) struct ColourBar<'a> {
    pub limits: (f64, f64),
    pub log: bool,
    pub units: &'a str,
    pub colormap: &'a Colormap,
    /// Values below / above the limits exist: arrows at those ends.
    pub extend: (bool, bool),
}

/// One class of a categorical raster: its value, name and colour.
#[derive(Debug, Clone, PartialEq)]
pub struct Class {
    pub value: f64,
    pub label: String,
    pub colour: Rgb,
}

/// The symbol of a labelled overlay in the legend box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Symbol {
    Line,
    Marker,
    Circle,
    Area,
}

/// A labelled overlay's entry in the legend box drawn on the map.
#[derive(Debug, Clone, PartialEq)]
pub struct LegendEntry {
    pub label: String,
    pub colour: Rgb,
    pub symbol: Symbol,
}

/// The key beside the panels.
pub(crate) enum Key<'a> {
    None,
    Bar(ColourBar<'a>),
    Classes {
        title: &'a str,
        classes: &'a [Class],
    },
}

const BAR_WIDTH: i32 = 18;
const ARROW: i32 = 14;
const SWATCH: i32 = 16;
const ENTRY_HEIGHT: i32 = 24;
const PAD: i32 = 10;

impl ColourBar<'_> {
    /// The title: the unit, saying "log scale" on one (whose ticks are
    /// labelled in values, 1, 10, 100, as matplotlib's LogNorm labels them).
    pub fn title(&self) -> String {
        match (self.log, self.units.is_empty()) {
            (true, true) => "log scale".into(),
            (true, false) => format!("{} (log scale)", self.units),
            (false, _) => self.units.to_string(),
        }
    }

    fn range(&self) -> (f64, f64) {
        let (low, high) = if self.log {
            (self.limits.0.log10(), self.limits.1.log10())
        } else {
            self.limits
        };
        if high > low {
            (low, high)
        } else {
            (low, low + 1.0)
        }
    }

    /// Tick positions along the bar's range (log10 of the values on a log
    /// scale) and their labels.
    fn ticks(&self, bar_height: u32) -> Vec<(f64, String)> {
        let (low, high) = self.range();
        if self.log {
            return log_ticks((low, high), bar_height);
        }
        ticks((low, high), bar_height, 34, tick_label, |_| TICK_PX + 4)
    }
}

/// Ticks of a log bar spanning 10^low..10^high over `pixels`: at the
/// decades, or at 1, 2 and 5 times them, or at every multiple, whichever is
/// the sparsest set with at least three ticks that do not crowd (two
/// ticks 34 px apart at least); labelled with the values.
fn log_ticks((low, high): (f64, f64), pixels: u32) -> Vec<(f64, String)> {
    const MIN_GAP: f64 = 34.0;
    let per_decade = f64::from(pixels) / (high - low);
    let fits = |positions: &[f64]| {
        positions
            .windows(2)
            .all(|pair| (pair[1] - pair[0]) * per_decade >= MIN_GAP)
    };
    let sets: [&[f64]; 3] = [
        &[1.0],
        &[1.0, 2.0, 5.0],
        &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0],
    ];
    let mut chosen: Vec<f64> = Vec::new();
    for multiples in sets {
        let positions: Vec<f64> = (low.floor() as i32..=high.ceil() as i32)
            .flat_map(|decade| multiples.iter().map(move |m| m.log10() + f64::from(decade)))
            .filter(|p| *p >= low - 1e-9 && *p <= high + 1e-9)
            .collect();
        if !fits(&positions) {
            break;
        }
        chosen = positions;
        if chosen.len() >= 3 {
            break;
        }
    }
    chosen
        .into_iter()
        .map(|position| (position, value_label(10f64.powf(position))))
        .collect()
}

/// A log tick's value: plain from 0.001 to 99999 (0.01, 5, 200), else
/// with an exponent (2e19).
fn value_label(value: f64) -> String {
    // Rounded to the tick's own digit: 10^log10(200) is 199.99999999999997.
    let magnitude = 10f64.powf(value.log10().floor());
    let leading = (value / magnitude).round();
    let value = leading * magnitude;
    if (1e-3..1e5).contains(&value) {
        let decimals = (-value.log10().floor()).max(0.0) as usize;
        format!("{value:.decimals$}")
    } else {
        format!("{leading}e{}", magnitude.log10().round() as i32)
    }
}

impl Key<'_> {
    /// Pixels the key needs beside the panels for a bar `bar_height` high.
    pub fn width(&self, bar_height: u32) -> u32 {
        match self {
            Key::None => 0,
            Key::Bar(bar) => {
                let labels: Vec<String> = bar.ticks(bar_height).into_iter().map(|t| t.1).collect();
                let content = (BAR_WIDTH as u32 + 6 + widest(&labels, TICK_PX))
                    .max(text_size(&bar.title(), KEY_TITLE_PX, true).0);
                content + 2 * PAD as u32
            }
            Key::Classes { title, classes } => {
                let labels: Vec<String> = classes.iter().map(|c| c.label.clone()).collect();
                let content = (SWATCH as u32 + 8 + widest(&labels, TICK_PX))
                    .max(text_size(title, KEY_TITLE_PX, true).0);
                content + 2 * PAD as u32
            }
        }
    }

    /// Draws the key's frame and text in `area` (x from `left`, `width`
    /// wide, beside maps spanning `top..bottom`); returns the bar's pixel
    /// rectangle, painted afterwards.
    pub fn draw<DB: DrawingBackend>(
        &self,
        root: &DrawingArea<DB, plotters::coord::Shift>,
        layout: &mut Layout,
        (left, width): (i32, i32),
        (top, bottom): (i32, i32),
    ) -> Result<Option<Rect>, PlotError> {
        let centre = left + width / 2;
        match self {
            Key::None => Ok(None),
            Key::Bar(bar) => {
                let labels_width = widest(
                    &bar.ticks((bottom - top) as u32)
                        .into_iter()
                        .map(|t| t.1)
                        .collect::<Vec<_>>(),
                    TICK_PX,
                ) as i32;
                let x0 = centre - (BAR_WIDTH + 6 + labels_width) / 2;
                draw_text(
                    root,
                    layout,
                    &bar.title(),
                    (KEY_TITLE_PX, true),
                    (HPos::Center, VPos::Top),
                    (centre, top),
                )?;
                let y0 = top + KEY_TITLE_PX as i32 + 10 + if bar.extend.1 { ARROW } else { 0 };
                let y1 = bottom - if bar.extend.0 { ARROW } else { 0 };
                let rect = Rect {
                    x0,
                    y0,
                    x1: x0 + BAR_WIDTH,
                    y1: y1.max(y0 + 20),
                };
                draw_bar_frame(root, layout, bar, rect)?;
                Ok(Some(rect))
            }
            Key::Classes { title, classes } => {
                draw_text(
                    root,
                    layout,
                    title,
                    (KEY_TITLE_PX, true),
                    (HPos::Center, VPos::Top),
                    (centre, top),
                )?;
                let first = top
                    + if title.is_empty() {
                        0
                    } else {
                        KEY_TITLE_PX as i32 + 12
                    };
                for (i, class) in classes.iter().enumerate() {
                    let y = first + i as i32 * ENTRY_HEIGHT;
                    let x = left + PAD;
                    let [r, g, b] = class.colour;
                    root.draw(&Rectangle::new(
                        [(x, y), (x + SWATCH, y + SWATCH)],
                        RGBColor(r, g, b).filled(),
                    ))
                    .map_err(drawing_error)?;
                    root.draw(&Rectangle::new(
                        [(x, y), (x + SWATCH, y + SWATCH)],
                        RGBColor(90, 90, 90),
                    ))
                    .map_err(drawing_error)?;
                    draw_text(
                        root,
                        layout,
                        &class.label,
                        (TICK_PX, false),
                        (HPos::Left, VPos::Center),
                        (x + SWATCH + 8, y + SWATCH / 2),
                    )?;
                }
                Ok(None)
            }
        }
    }
}

/// The bar's outline, ticks and labels, and its extend arrows.
fn draw_bar_frame<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    layout: &mut Layout,
    bar: &ColourBar,
    rect: Rect,
) -> Result<(), PlotError> {
    let grey = RGBColor(60, 60, 60);
    let (low, high) = bar.range();
    let to_y = |v: f64| {
        rect.y1 - 1 - ((v - low) / (high - low) * f64::from(rect.height() - 1)).round() as i32
    };
    for (value, label) in bar.ticks(rect.height() as u32) {
        let y = to_y(value);
        root.draw(&PathElement::new(
            vec![(rect.x1, y), (rect.x1 + 4, y)],
            grey,
        ))
        .map_err(drawing_error)?;
        draw_text(
            root,
            layout,
            &label,
            (TICK_PX, false),
            (HPos::Left, VPos::Center),
            (rect.x1 + 6, y),
        )?;
    }
    let mid = (rect.x0 + rect.x1) / 2;
    let arrows = [
        (bar.extend.1, rect.y0, rect.y0 - ARROW, 1.0),
        (bar.extend.0, rect.y1, rect.y1 + ARROW, 0.0),
    ];
    for (wanted, base, tip, at) in arrows {
        if wanted {
            let [r, g, b] = bar.colormap.at(at);
            let points = vec![(rect.x0, base), (rect.x1 - 1, base), (mid, tip)];
            root.draw(&Polygon::new(points.clone(), RGBColor(r, g, b).filled()))
                .map_err(drawing_error)?;
            root.draw(&PathElement::new(
                [points.clone(), vec![points[0]]].concat(),
                grey,
            ))
            .map_err(drawing_error)?;
        }
    }
    root.draw(&Rectangle::new(
        [(rect.x0 - 1, rect.y0 - 1), (rect.x1, rect.y1)],
        grey,
    ))
    .map_err(drawing_error)?;
    Ok(())
}

/// The legend box of labelled overlays, in the top-right corner of `map`.
pub(crate) fn draw_overlay_legend<DB: DrawingBackend>(
    root: &DrawingArea<DB, plotters::coord::Shift>,
    layout: &mut Layout,
    map: Rect,
    entries: &[LegendEntry],
) -> Result<(), PlotError> {
    if entries.is_empty() {
        return Ok(());
    }
    let labels: Vec<String> = entries.iter().map(|e| e.label.clone()).collect();
    let width = 8 + 22 + 6 + widest(&labels, TICK_PX) as i32 + 8;
    let height = 6 + entries.len() as i32 * 20 + 4;
    let (x0, y0) = (map.x1 - width - 6, map.y0 + 6);
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        WHITE.mix(0.85).filled(),
    ))
    .map_err(drawing_error)?;
    root.draw(&Rectangle::new(
        [(x0, y0), (x0 + width, y0 + height)],
        RGBColor(90, 90, 90),
    ))
    .map_err(drawing_error)?;
    for (i, entry) in entries.iter().enumerate() {
        let y = y0 + 6 + i as i32 * 20 + 8;
        let x = x0 + 8;
        let [r, g, b] = entry.colour;
        let colour = RGBColor(r, g, b);
        match entry.symbol {
            Symbol::Line => root.draw(&PathElement::new(
                vec![(x, y), (x + 22, y)],
                colour.stroke_width(3),
            )),
            Symbol::Marker => root.draw(&Circle::new((x + 11, y), 5, colour.filled())),
            Symbol::Circle => root.draw(&Circle::new((x + 11, y), 7, colour.stroke_width(2))),
            Symbol::Area => root.draw(&Rectangle::new(
                [(x + 2, y - 7), (x + 20, y + 7)],
                colour.mix(0.5).filled(),
            )),
        }
        .map_err(drawing_error)?;
        draw_text(
            root,
            layout,
            &entry.label,
            (TICK_PX, false),
            (HPos::Left, VPos::Center),
            (x + 28, y),
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_ticks_are_values_at_decades_or_their_halves_and_fifths() {
        let labels = |ticks: Vec<(f64, String)>| ticks.into_iter().map(|t| t.1).collect::<Vec<_>>();
        // A plume column: 1e18 to 3e19 molecules cm-2 over 300 px.
        assert_eq!(
            labels(log_ticks((18.0, 19.5), 300)),
            ["1e18", "2e18", "5e18", "1e19", "2e19"]
        );
        // Chlorophyll, 0.01 to 100 mg m-3: the decades suffice.
        assert_eq!(
            labels(log_ticks((-2.0, 2.0), 300)),
            ["0.01", "0.1", "1", "10", "100"]
        );
        // A narrow range gets every multiple that fits.
        assert_eq!(
            labels(log_ticks((2.0f64.log10(), 5.0f64.log10()), 300)),
            ["2", "3", "4", "5"]
        );
    }
}
