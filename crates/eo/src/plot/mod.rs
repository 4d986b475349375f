//! Figures drawn with plotters into PNG images, with an embedded font so no
//! system fonts are needed (see README.md here).

pub mod axes;
pub mod basemap;
pub mod chart;
pub mod check;
pub mod colormap;
pub mod facets;
pub mod layout;
pub mod legend;
pub mod map;
pub mod overlay;
pub mod rgb;
mod sheet;
pub mod x_axis;

pub use chart::{ChartStyle, render_boxes, render_histogram, render_lines};
pub use check::{Problem, check_figure};
pub use colormap::Colormap;
pub use layout::Layout;
pub use legend::{Class, LegendEntry, Symbol};
pub use map::{MapStyle, render_map, value_colours};
pub use overlay::{Overlay, colour_named, mission_colour};
pub use rgb::{RgbStyle, Stretch, render_rgb};

use std::sync::Once;

/// A finished figure: a PNG image and what it shows.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub title: String,
    pub width: u32,
    pub height: u32,
    pub png: Vec<u8>,
    /// What was laid out (text boxes, panels, keys), for [`check_figure`].
    pub layout: Layout,
}

/// Why a figure could not be drawn.
#[derive(Debug, thiserror::Error)]
pub enum PlotError {
    #[error("cannot draw the figure: {0}")]
    Drawing(String),
    #[error("{0}")]
    Invalid(String),
}

/// The font family name figures use, registered once per process.
pub(crate) const FONT: &str = "sans-serif";

pub(crate) fn register_fonts() {
    static FONTS: Once = Once::new();
    FONTS.call_once(|| {
        use plotters::style::FontStyle;
        // The bytes are DejaVu Sans, which parses; failure would be a build bug.
        plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans font parses"));
        plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold())
            .unwrap_or_else(|_| panic!("the embedded DejaVu Sans Bold font parses"));
    });
}

/// Encodes an RGB buffer as PNG.
pub(crate) fn encode_png(rgb: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    encode(rgb, png::ColorType::Rgb, width, height)
}

/// Encodes an RGBA buffer as PNG (an image with transparent pixels, laid
/// over a map).
pub fn encode_png_rgba(rgba: &[u8], width: u32, height: u32) -> Result<Vec<u8>, PlotError> {
    encode(rgba, png::ColorType::Rgba, width, height)
}

fn encode(
    pixels: &[u8],
    colour: png::ColorType,
    width: u32,
    height: u32,
) -> Result<Vec<u8>, PlotError> {
    let mut png = Vec::new();
    let mut encoder = png::Encoder::new(&mut png, width, height);
    encoder.set_color(colour);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder
        .write_header()
        .map_err(|e| PlotError::Drawing(e.to_string()))?;
    writer
        .write_image_data(pixels)
        .map_err(|e| PlotError::Drawing(e.to_string()))?;
    writer
        .finish()
        .map_err(|e| PlotError::Drawing(e.to_string()))?;
    Ok(png)
}

pub(crate) fn drawing_error<E: std::fmt::Debug>(error: E) -> PlotError {
    PlotError::Drawing(format!("{error:?}"))
}
