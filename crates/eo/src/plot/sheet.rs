//! The layout engine of maps: one or more panels of the same area in a
//! balanced grid, a key beside them (colour bar or legend of classes),
//! axes in degrees or kilometres, an optional scale bar. Text keeps its
//! size ([`layout`](super::layout)'s font sizes) and the canvas grows with
//! the panel count, so every panel stays readable.

use super::axes::{Axis, coordinate_label, metres_per_unit, scale_length, ticks};
use super::colormap::Rgb;
use super::layout::{
    Layout, PANEL_TITLE_PX, PanelBox, PanelKind, Rect, TICK_PX, TITLE_PX, choose_grid, draw_text,
    text_size, widest,
};
use super::legend::{Key, LegendEntry, draw_overlay_legend};
use super::map::paint;
use super::{Figure, Overlay, PlotError, drawing_error, encode_png, register_fonts};
use crate::raster::Bounds;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, VPos};

/// What to lay out.
pub(crate) struct Sheet<'a> {
    pub title: &'a str,
    /// One caption per panel (e.g. its date); may be empty.
    pub captions: &'a [String],
    pub bounds: Bounds,
    pub geographic: bool,
    pub key: Key<'a>,
    pub kind: PanelKind,
    /// The figure's width for a single panel; grids size their panels.
    pub width: Option<u32>,
    pub scale_bar: bool,
    pub overlays: &'a [Overlay],
    pub legend: &'a [LegendEntry],
}

/// Blank space around the canvas and between the grid and the key.
const MARGIN: i32 = 10;
/// Pixels between ticks on the map axes, at least.
const X_TICK_GAP: u32 = 70;
const Y_TICK_GAP: u32 = 45;
/// Tallest a map panel is drawn.
const MAP_HEIGHT_AT_MOST: f64 = 1200.0;

/// Where everything goes.
struct Plan {
    size: (u32, u32),
    columns: usize,
    map: (i32, i32),
    /// Left label area, right room, caption band, bottom label band, title band.
    left: i32,
    right: i32,
    caption: i32,
    bottom: i32,
    title: i32,
    key_width: i32,
    x_ticks: Vec<(f64, String)>,
    y_ticks: Vec<(f64, String)>,
}

impl Plan {
    fn cell(&self) -> (i32, i32) {
        (
            self.left + self.map.0 + self.right,
            self.caption + self.map.1 + self.bottom,
        )
    }

    fn map_rect(&self, panel: usize) -> Rect {
        let (cell_w, cell_h) = self.cell();
        let (col, row) = ((panel % self.columns) as i32, (panel / self.columns) as i32);
        let x0 = MARGIN + col * cell_w + self.left;
        let y0 = self.title + row * cell_h + self.caption;
        Rect {
            x0,
            y0,
            x1: x0 + self.map.0,
            y1: y0 + self.map.1,
        }
    }
}

/// Height over width of the area as seen on the ground.
fn area_aspect(bounds: Bounds, geographic: bool) -> f64 {
    let (x0, y0, x1, y1) = bounds;
    let shrink = if geographic {
        ((y0 + y1) / 2.0).to_radians().cos().max(0.05)
    } else {
        1.0
    };
    ((y1 - y0) / ((x1 - x0) * shrink)).clamp(0.2, 5.0)
}

fn axis_ticks(sheet: &Sheet, (map_w, map_h): (i32, i32)) -> [Vec<(f64, String)>; 2] {
    let (x0, y0, x1, y1) = sheet.bounds;
    let geographic = sheet.geographic;
    let x = ticks(
        (x0, x1),
        map_w.max(1) as u32,
        X_TICK_GAP,
        |v, s| coordinate_label(v, s, Axis::X, geographic),
        |t| text_size(t, TICK_PX, false).0,
    );
    let y = ticks(
        (y0, y1),
        map_h.max(1) as u32,
        Y_TICK_GAP,
        |v, s| coordinate_label(v, s, Axis::Y, geographic),
        |_| TICK_PX + 8,
    );
    [x, y]
}

fn labels(ticks: &[(f64, String)]) -> Vec<String> {
    ticks.iter().map(|t| t.1.clone()).collect()
}

fn plan(sheet: &Sheet) -> Plan {
    register_fonts();
    let panels = sheet.captions.len().max(1);
    let aspect = area_aspect(sheet.bounds, sheet.geographic);
    let title = if sheet.title.is_empty() {
        MARGIN
    } else {
        TITLE_PX as i32 + 22
    };
    let caption = if sheet.captions.iter().any(|c| !c.is_empty()) {
        PANEL_TITLE_PX as i32 + 12
    } else {
        6
    };
    let bottom = TICK_PX as i32 + 14;
    let height_of = |map_w: i32| (f64::from(map_w) * aspect).min(MAP_HEIGHT_AT_MOST) as i32;
    // A first guess of the label areas and key sizes the map; the map's
    // size then gives the ticks, whose measured labels size the areas.
    let key_guess = sheet.key.width(300) as i32;
    let map_w_for = |left: i32, right: i32, key: i32| match sheet.width {
        Some(width) if panels == 1 => (width as i32 - 2 * MARGIN - left - right - key).max(200),
        _ => {
            let preferred: f64 = match panels {
                1 | 2 => 420.0,
                3 | 4 => 360.0,
                _ => 300.0,
            };
            (preferred.min(MAP_HEIGHT_AT_MOST.min(600.0) / aspect)).max(200.0) as i32
        }
    };
    let guess_w = map_w_for(80, 30, key_guess);
    let [x_ticks, y_ticks] = axis_ticks(sheet, (guess_w, height_of(guess_w)));
    let left = widest(&labels(&y_ticks), TICK_PX) as i32 + 12;
    let right = (widest(&labels(&x_ticks), TICK_PX) as i32 / 2 + 6).max(12);
    let map_w = map_w_for(left, right, key_guess);
    let map_h = height_of(map_w).max(60);
    let [x_ticks, y_ticks] = axis_ticks(sheet, (map_w, map_h));
    let mut plan = Plan {
        size: (0, 0),
        columns: 1,
        map: (map_w, map_h),
        left,
        right,
        caption,
        bottom,
        title,
        key_width: 0,
        x_ticks,
        y_ticks,
    };
    let canvas = |(cell_w, cell_h): (i32, i32), columns: usize, rows: usize, key: i32| {
        (
            (2 * MARGIN + columns as i32 * cell_w + key) as u32,
            (title + rows as i32 * cell_h + MARGIN) as u32,
        )
    };
    let cell = plan.cell();
    let (columns, rows) = choose_grid(panels, |c, r| canvas(cell, c, r, key_guess));
    let bar_height = key_span(&plan, rows);
    let key_width = if matches!(sheet.key, Key::None) {
        0
    } else {
        sheet.key.width((bar_height.1 - bar_height.0) as u32) as i32
    };
    plan.columns = columns;
    plan.key_width = key_width;
    plan.size = canvas(cell, columns, rows, key_width);
    if let (Some(width), 1) = (sheet.width, panels) {
        // A single map keeps the width asked for: the map takes what the
        // measured key leaves.
        plan.map.0 = (width as i32 - 2 * MARGIN - left - right - key_width).max(200);
        plan.map.1 = height_of(plan.map.0).max(60);
        plan.size = canvas(plan.cell(), 1, 1, key_width);
    }
    plan
}

/// The vertical span of the key: beside the maps, at most 560 px, centred.
fn key_span(plan: &Plan, rows: usize) -> (i32, i32) {
    let (_, cell_h) = plan.cell();
    let top = plan.title + plan.caption;
    let bottom = plan.title + (rows as i32 - 1) * cell_h + plan.caption + plan.map.1;
    let extra = (bottom - top - 560).max(0);
    (top + extra / 2, bottom - extra / 2)
}

/// The canvas size `sheet` gets, before drawing (to charge its memory).
pub(crate) fn sheet_size(sheet: &Sheet) -> (u32, u32) {
    plan(sheet).size
}

/// The index of the grid cell under a map pixel, for a grid of `cols` ×
/// `rows` values stored row by row: `x` and `y` are the pixel's position
/// inside the panel, as `draw_sheet` gives them (fractions, 0 at the top left).
pub(crate) fn cell_at(x: f64, y: f64, (cols, rows): (usize, usize)) -> usize {
    let col = ((x * cols as f64) as usize).min(cols - 1);
    let row = ((y * rows as f64) as usize).min(rows - 1);
    row * cols + col
}

/// Draws the sheet; `colour(panel, x, y)` gives each map pixel's colour
/// from its position inside the panel (fractions, 0 at the top left).
pub(crate) fn draw_sheet(
    sheet: &Sheet,
    colour: impl Fn(usize, f64, f64) -> Rgb,
) -> Result<Figure, PlotError> {
    let plan = plan(sheet);
    let (width, height) = plan.size;
    let panels = sheet.captions.len().max(1);
    let mut rgb = vec![255u8; width as usize * height as usize * 3];
    let mut layout = Layout::default();
    let bar = draw_frames(&mut rgb, &plan, sheet, &mut layout)?;
    for panel in 0..panels {
        let map = plan.map_rect(panel);
        paint(
            &mut rgb,
            width,
            &(map.x0..map.x1),
            &(map.y0..map.y1),
            |x, y| colour(panel, x, y),
        );
        super::overlay::draw_overlays(
            &mut rgb,
            (width, height),
            (&(map.x0..map.x1), &(map.y0..map.y1)),
            sheet.bounds,
            sheet.overlays,
        )?;
        layout.panels.push(PanelBox {
            rect: map,
            kind: sheet.kind,
            colour_bar: match &sheet.key {
                Key::Bar(bar) => Some(bar.title()),
                _ => None,
            },
            legend_entries: match &sheet.key {
                Key::Classes { classes, .. } => classes.len(),
                _ => 0,
            },
        });
    }
    layout.colour_bar = bar;
    if let (Some(rect), Key::Bar(bar)) = (bar, &sheet.key) {
        paint(
            &mut rgb,
            width,
            &(rect.x0..rect.x1),
            &(rect.y0..rect.y1),
            |_, y| bar.colormap.at(1.0 - y),
        );
    }
    draw_on_maps(&mut rgb, &plan, sheet, &mut layout)?;
    Ok(Figure {
        title: sheet.title.to_string(),
        width,
        height,
        png: encode_png(&rgb, width, height)?,
        layout,
    })
}

/// Title, captions, map frames with ticks and labels, and the key's
/// frame; returns the colour bar's rectangle to paint.
fn draw_frames(
    rgb: &mut [u8],
    plan: &Plan,
    sheet: &Sheet,
    layout: &mut Layout,
) -> Result<Option<Rect>, PlotError> {
    let root = BitMapBackend::with_buffer(rgb, plan.size).into_drawing_area();
    draw_text(
        &root,
        layout,
        sheet.title,
        (TITLE_PX, true),
        (HPos::Center, VPos::Top),
        (plan.size.0 as i32 / 2, MARGIN),
    )?;
    let (x0, y0, x1, y1) = sheet.bounds;
    let grey = RGBColor(60, 60, 60);
    for panel in 0..sheet.captions.len().max(1) {
        let map = plan.map_rect(panel);
        let caption = sheet.captions.get(panel).map_or("", String::as_str);
        draw_text(
            &root,
            layout,
            caption,
            (PANEL_TITLE_PX, false),
            (HPos::Center, VPos::Bottom),
            ((map.x0 + map.x1) / 2, map.y0 - 6),
        )?;
        root.draw(&Rectangle::new(
            [(map.x0 - 1, map.y0 - 1), (map.x1, map.y1)],
            grey,
        ))
        .map_err(drawing_error)?;
        for (value, label) in &plan.x_ticks {
            let x = map.x0 + ((value - x0) / (x1 - x0) * f64::from(map.width())).round() as i32;
            root.draw(&PathElement::new(vec![(x, map.y1), (x, map.y1 + 4)], grey))
                .map_err(drawing_error)?;
            draw_text(
                &root,
                layout,
                label,
                (TICK_PX, false),
                (HPos::Center, VPos::Top),
                (x, map.y1 + 6),
            )?;
        }
        for (value, label) in &plan.y_ticks {
            let y = map.y1 - ((value - y0) / (y1 - y0) * f64::from(map.height())).round() as i32;
            root.draw(&PathElement::new(
                vec![(map.x0 - 5, y), (map.x0 - 1, y)],
                grey,
            ))
            .map_err(drawing_error)?;
            draw_text(
                &root,
                layout,
                label,
                (TICK_PX, false),
                (HPos::Right, VPos::Center),
                (map.x0 - 7, y),
            )?;
        }
    }
    let (cell_w, _) = plan.cell();
    let rows = sheet.captions.len().max(1).div_ceil(plan.columns);
    let key_left = MARGIN + plan.columns as i32 * cell_w;
    let bar = sheet.key.draw(
        &root,
        layout,
        (key_left, plan.key_width),
        key_span(plan, rows),
    )?;
    root.present().map_err(drawing_error)?;
    Ok(bar)
}

/// The scale bar and the legend of labelled overlays, on the first panel.
fn draw_on_maps(
    rgb: &mut [u8],
    plan: &Plan,
    sheet: &Sheet,
    layout: &mut Layout,
) -> Result<(), PlotError> {
    if !sheet.scale_bar && sheet.legend.is_empty() {
        return Ok(());
    }
    let root = BitMapBackend::with_buffer(rgb, plan.size).into_drawing_area();
    let map = plan.map_rect(0);
    if sheet.scale_bar {
        let metres_per_pixel = (sheet.bounds.2 - sheet.bounds.0)
            * metres_per_unit(sheet.bounds, sheet.geographic)
            / f64::from(map.width());
        let (metres, label) = scale_length(f64::from(map.width()) / 4.0 * metres_per_pixel);
        let pixels = (metres / metres_per_pixel).round() as i32;
        let (x, y) = (map.x0 + 12, map.y1 - 14);
        let label_w = text_size(&label, TICK_PX, false).0 as i32;
        root.draw(&Rectangle::new(
            [(x - 6, y - 26), (x + pixels.max(label_w) + 6, y + 8)],
            WHITE.mix(0.8).filled(),
        ))
        .map_err(drawing_error)?;
        root.draw(&Rectangle::new(
            [(x, y - 3), (x + pixels, y + 3)],
            BLACK.filled(),
        ))
        .map_err(drawing_error)?;
        draw_text(
            &root,
            layout,
            &label,
            (TICK_PX, false),
            (HPos::Left, VPos::Bottom),
            (x, y - 6),
        )?;
    }
    draw_overlay_legend(&root, layout, map, sheet.legend)?;
    root.present().map_err(drawing_error)
}

#[cfg(test)]
mod tests {
    use crate::plot::check::check_figure;
    use crate::plot::facets::{Panel, render_facets};
    use crate::plot::layout::Rect;
    use crate::plot::{Colormap, Figure, MapStyle, render_map};

    pub(crate) fn decode(figure: &Figure) -> Vec<u8> {
        let decoder = png::Decoder::new(figure.png.as_slice());
        let mut reader = decoder.read_info().unwrap();
        let mut buffer = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut buffer).unwrap();
        assert_eq!((info.width, info.height), (figure.width, figure.height));
        buffer
    }

    /// Rows of `rect` (and 3 px around it) holding dark (text) pixels.
    fn inked_rows(figure: &Figure, rgb: &[u8], rect: Rect) -> usize {
        ((rect.y0 - 3).max(0)..(rect.y1 + 3).min(figure.height as i32))
            .filter(|&y| {
                (rect.x0.max(0)..rect.x1.min(figure.width as i32)).any(|x| {
                    let o = (y as usize * figure.width as usize + x as usize) * 3;
                    rgb[o] < 110 && rgb[o + 1] < 110 && rgb[o + 2] < 110
                })
            })
            .count()
    }

    fn style() -> MapStyle {
        MapStyle {
            title: "Sentinel-5P CO total column".into(),
            colormap: Colormap::named("viridis").unwrap(),
            units: "molecules cm-2".into(),
            geographic: true,
            ..MapStyle::default()
        }
    }

    fn facets(count: usize, bounds: (f64, f64, f64, f64)) -> Figure {
        let values: Vec<Vec<f32>> = (0..count)
            .map(|i| (0..400).map(|v| (v + i) as f32 * 1e16).collect())
            .collect();
        let panels: Vec<Panel> = values
            .iter()
            .enumerate()
            .map(|(i, v)| Panel {
                label: format!("2019-12-{:02}", i + 1),
                values: v,
                cols: 20,
                rows: 20,
            })
            .collect();
        render_facets(&panels, bounds, &style()).unwrap()
    }

    fn grid_of(figure: &Figure) -> (usize, usize) {
        let mut xs: Vec<i32> = figure.layout.panels.iter().map(|p| p.rect.x0).collect();
        let mut ys: Vec<i32> = figure.layout.panels.iter().map(|p| p.rect.y0).collect();
        xs.sort();
        xs.dedup();
        ys.sort();
        ys.dedup();
        (xs.len(), ys.len())
    }

    #[test]
    fn five_panels_make_three_and_two_with_readable_text() {
        let figure = facets(5, (110.0, -45.0, 160.0, -5.0));
        assert_eq!(grid_of(&figure), (3, 2), "3 + 2, never 4 + 1");
        let rgb = decode(&figure);
        for panel in &figure.layout.panels {
            assert!(panel.rect.width() >= 300, "{:?}", panel.rect);
        }
        let aspect = f64::from(figure.width) / f64::from(figure.height);
        assert!(
            (1.2..=1.9).contains(&aspect),
            "{} x {}",
            figure.width,
            figure.height
        );
        assert_eq!(check_figure(&figure), Vec::new());
        // Tick labels in degrees, digits inked at least 9 px high (14 px type).
        let label = figure
            .layout
            .texts
            .iter()
            .find(|t| t.text == "120° E")
            .expect("a degree label");
        assert!(inked_rows(&figure, &rgb, label.rect) >= 9);
        assert!(figure.layout.strings().contains(&"20° S"));
    }

    #[test]
    fn the_canvas_grows_with_the_panels() {
        let one_row = facets(2, (10.0, 40.0, 11.0, 41.0));
        let many = facets(12, (10.0, 40.0, 11.0, 41.0));
        assert!(many.width > one_row.width && many.height > one_row.height);
        assert!(many.layout.panels.iter().all(|p| p.rect.width() >= 300));
        // A strip of four tall panels; four of a wide area go 2 x 2.
        assert_eq!(grid_of(&facets(4, (10.0, 40.0, 10.5, 42.0))), (4, 1));
        assert_eq!(grid_of(&facets(4, (10.0, 40.0, 12.0, 41.0))), (2, 2));
    }

    #[test]
    fn the_colour_bar_title_is_whole_and_inked() {
        let figure = facets(3, (10.0, 40.0, 11.0, 41.0));
        let rgb = decode(&figure);
        let title = figure
            .layout
            .texts
            .iter()
            .find(|t| t.text == "molecules cm-2")
            .expect("the bar title");
        assert!(title.rect.x1 <= figure.width as i32 - 2);
        let rows = inked_rows(&figure, &rgb, title.rect);
        assert!(rows >= 9, "the l of molecules is {rows} px high");
        // Nothing is inked in the last two columns of the canvas.
        let right = Rect {
            x0: figure.width as i32 - 2,
            y0: 0,
            x1: figure.width as i32,
            y1: figure.height as i32,
        };
        assert_eq!(inked_rows(&figure, &rgb, right), 0);
    }

    #[test]
    fn projected_maps_read_in_kilometres_and_carry_a_scale_bar() {
        let values: Vec<f32> = (0..400).map(|v| v as f32).collect();
        let figure = render_map(
            &values,
            20,
            20,
            (500_000.0, 4_500_000.0, 520_000.0, 4_520_000.0),
            &MapStyle {
                units: "dB".into(),
                scale_bar: true,
                ..MapStyle::default()
            },
        )
        .unwrap();
        let texts = figure.layout.strings();
        assert!(
            texts.contains(&"505 km") || texts.contains(&"504 km"),
            "{texts:?}"
        );
        assert!(texts.contains(&"5 km"), "a scale bar of 5 km: {texts:?}");
        let rgb = decode(&figure);
        // The bar itself: a black run about a quarter of the map wide.
        let map = figure.layout.panels[0].rect;
        let y = map.y1 - 14;
        let black = (map.x0..map.x1)
            .filter(|&x| {
                let o = (y as usize * figure.width as usize + x as usize) * 3;
                rgb[o..o + 3] == [0, 0, 0]
            })
            .count() as i32;
        assert!(
            (map.width() / 6..=map.width() / 3).contains(&black),
            "{black}"
        );
    }
}
