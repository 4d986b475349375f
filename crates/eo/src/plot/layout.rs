//! What a figure laid out (text boxes with their font size, panels' pixel
//! rectangles, their colour bars), recorded in the [`Figure`](super::Figure)
//! so rules can check it ([`check_figure`](super::check::check_figure)); and
//! the arithmetic of laying out: text measured with the embedded font, grids
//! of panels balanced so no row is half empty.

use super::FONT;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

/// A pixel rectangle: `x0..x1` by `y0..y1` (ends excluded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Rect {
    pub x0: i32,
    pub y0: i32,
    pub x1: i32,
    pub y1: i32,
}

impl Rect {
    pub fn width(&self) -> i32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> i32 {
        self.y1 - self.y0
    }
}

/// A piece of text as drawn: its words, font size in pixels and box.
#[derive(Debug, Clone, PartialEq)]
pub struct TextBox {
    pub text: String,
    pub font_px: u32,
    pub rect: Rect,
}

/// What a panel shows, which decides what key it needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    /// Values through a colormap: needs a colour bar with a title.
    Continuous,
    /// Classes (categories, a binary mask): needs a legend of classes.
    Classes,
    /// Colours of their own (an RGB composite, a chart).
    Colours,
    /// A backdrop for overlays (footprints, outlines): the script left the
    /// colour bar out (`colorbar: false`), as its colours mean nothing.
    Backdrop,
}

/// One map panel as laid out.
#[derive(Debug, Clone, PartialEq)]
pub struct PanelBox {
    pub rect: Rect,
    pub kind: PanelKind,
    /// The title of the colour bar this panel's colours are read on
    /// (`Some("")` for a bar without a title; `None` without a bar).
    pub colour_bar: Option<String>,
    /// Entries of the legend of classes this panel is read with.
    pub legend_entries: usize,
}

/// Everything a figure laid out.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    pub texts: Vec<TextBox>,
    pub panels: Vec<PanelBox>,
    /// The colour bar's gradient, if there is one (arrows excluded).
    pub colour_bar: Option<Rect>,
}

impl Layout {
    /// Every text drawn, in the order it was drawn.
    pub fn strings(&self) -> Vec<&str> {
        self.texts.iter().map(|t| t.text.as_str()).collect()
    }
}

/// Font sizes in pixels: every text of a figure is one of these, whatever
/// the canvas size (a bigger figure has more room, not bigger letters).
pub const TITLE_PX: u32 = 22;
pub const PANEL_TITLE_PX: u32 = 16;
pub const TICK_PX: u32 = 14;
pub const KEY_TITLE_PX: u32 = 15;

/// Width and height of `text` in the embedded font at `px` pixels.
pub fn text_size(text: &str, px: u32, bold: bool) -> (u32, u32) {
    super::register_fonts();
    let font = (FONT, px).into_font();
    let font = if bold {
        font.style(FontStyle::Bold)
    } else {
        font
    };
    font.box_size(text)
        .unwrap_or((px * 6 / 10 * text.chars().count() as u32, px))
}

/// The widest of `texts` at `px` pixels.
pub fn widest(texts: &[String], px: u32) -> u32 {
    texts
        .iter()
        .map(|t| text_size(t, px, false).0)
        .max()
        .unwrap_or(0)
}

/// Draws `text` anchored at `at` (e.g. centre-top) and records its box.
pub fn draw_text<DB: DrawingBackend>(
    area: &DrawingArea<DB, plotters::coord::Shift>,
    layout: &mut Layout,
    text: &str,
    (px, bold): (u32, bool),
    anchor: (HPos, VPos),
    at: (i32, i32),
) -> Result<(), super::PlotError> {
    if text.is_empty() {
        return Ok(());
    }
    let font = (FONT, px).into_font();
    let font = if bold {
        font.style(FontStyle::Bold)
    } else {
        font
    };
    let (w, h) = text_size(text, px, bold);
    let style = font
        .color(&RGBColor(30, 30, 30))
        .pos(Pos::new(anchor.0, anchor.1));
    area.draw_text(text, &style, at)
        .map_err(super::drawing_error)?;
    let (w, h) = (w as i32, h as i32);
    let x0 = match anchor.0 {
        HPos::Left => at.0,
        HPos::Center => at.0 - w / 2,
        HPos::Right => at.0 - w,
    };
    let y0 = match anchor.1 {
        VPos::Top => at.1,
        VPos::Center => at.1 - h / 2,
        VPos::Bottom => at.1 - h,
    };
    layout.texts.push(TextBox {
        text: text.to_string(),
        font_px: px,
        rect: Rect {
            x0,
            y0,
            x1: x0 + w,
            y1: y0 + h,
        },
    });
    Ok(())
}

/// Columns and rows for `panels` panels. `canvas(columns, rows)` gives the
/// canvas size of a candidate; the grid whose canvas is closest to 4:3 to
/// 16:9 wins, and a last row less than half full (4 + 1) is never chosen.
pub fn choose_grid(panels: usize, canvas: impl Fn(usize, usize) -> (u32, u32)) -> (usize, usize) {
    let panels = panels.max(1);
    let mut best = (panels, 1, f64::INFINITY);
    for columns in 1..=panels.min(8) {
        let rows = panels.div_ceil(columns);
        let last_row = panels - (rows - 1) * columns;
        // A last row half empty or worse (2 + 1, 4 + 1, 4 + 2) leaves a hole
        // in the canvas: such grids are not considered.
        if rows > 1 && 2 * last_row <= columns {
            continue;
        }
        let (w, h) = canvas(columns, rows);
        let aspect = f64::from(w) / f64::from(h.max(1));
        let off_shape = (aspect / aspect.clamp(4.0 / 3.0, 16.0 / 9.0)).ln().abs();
        let empty = (columns * rows - panels) as f64 / columns as f64;
        let score = off_shape + 0.3 * empty;
        if score < best.2 - 1e-9 {
            best = (columns, rows, score);
        }
    }
    (best.0, best.1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Square panels of 400 px with a 150 px bar and a 50 px title.
    fn square(columns: usize, rows: usize) -> (u32, u32) {
        (columns as u32 * 400 + 150, rows as u32 * 400 + 50)
    }

    #[test]
    fn grids_are_balanced() {
        assert_eq!(choose_grid(1, square), (1, 1));
        assert_eq!(choose_grid(2, square), (2, 1));
        assert_eq!(choose_grid(3, square), (3, 1), "never 2 + 1");
        assert_eq!(choose_grid(4, square), (2, 2));
        assert_eq!(choose_grid(5, square), (3, 2), "3 + 2, never 4 + 1");
        assert_eq!(choose_grid(6, square), (3, 2));
        // Tall panels (a north-south strip): four in a row.
        let tall = |c: usize, r: usize| (c as u32 * 300 + 150, r as u32 * 700 + 50);
        assert_eq!(choose_grid(4, tall), (4, 1));
        for n in 1..=30 {
            let (columns, rows) = choose_grid(n, square);
            let last = n - (rows - 1) * columns;
            assert!(rows == 1 || 2 * last > columns, "{n}: {columns} x {rows}");
        }
    }

    #[test]
    fn text_is_measured_with_the_font() {
        let (w, h) = text_size("molecules cm-2", 14, true);
        assert!((90..160).contains(&w), "{w}");
        assert!((10..20).contains(&h), "{h}");
        assert!(text_size("iiii", 13, false).0 < text_size("WWWW", 13, false).0);
    }
}
