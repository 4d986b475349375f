//! A raster as an image laid over the interactive map: its values in the
//! colours a figure uses, resampled onto Web Mercator (EPSG:3857, the
//! projection Leaflet draws in) so every pixel lands where it belongs,
//! with the image's lon/lat bounds for jupyter-leaflet's ImageOverlay.

use crate::eo::plot::{MapStyle, PlotError, encode_png_rgba, value_colours};
use crate::eo::raster::{Bounds, RasterError, crs};

/// The longest side of an overlay image: a whole Sentinel-2 tile would
/// otherwise send 100 MB to the browser.
pub const MAX_SIDE: usize = 1024;

/// Web Mercator stops short of the poles.
const MAX_LATITUDE: f64 = 85.051_128_78;

/// Raster values on their own grid: `cols` x `rows`, row 0 at the north,
/// covering `bounds` in the CRS `crs` (WKT).
pub struct GridValues<'a> {
    pub values: &'a [f32],
    pub cols: usize,
    pub rows: usize,
    pub bounds: Bounds,
    pub crs: &'a str,
}

/// The image and where it goes.
#[derive(Debug, Clone)]
pub struct ImageOverlay {
    pub png: Vec<u8>,
    pub width: usize,
    pub height: usize,
    /// `[[south, west], [north, east]]` in degrees, as Leaflet wants.
    pub bounds: [[f64; 2]; 2],
}

impl ImageOverlay {
    /// The image as a `data:` URL.
    pub fn data_url(&self) -> String {
        format!(
            "data:image/png;base64,{}",
            data_encoding::BASE64.encode(&self.png)
        )
    }
}

#[derive(Debug)]
pub enum OverlayError {
    Raster(RasterError),
    Plot(PlotError),
}

impl std::fmt::Display for OverlayError {
    fn fmt(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        match self {
            OverlayError::Raster(e) => write!(f, "{e}"),
            OverlayError::Plot(e) => write!(f, "{e}"),
        }
    }
}

/// The image size (at most [`MAX_SIDE`]) of Mercator bounds `(x0, y0, x1, y1)`
/// for a raster `cols` wide: about as many columns as the raster has.
pub fn image_size(mercator: Bounds, cols: usize) -> (usize, usize) {
    let (x0, y0, x1, y1) = mercator;
    let aspect = (y1 - y0) / (x1 - x0).max(f64::EPSILON);
    let mut width = cols.clamp(1, MAX_SIDE) as f64;
    let mut height = width * aspect;
    if height > MAX_SIDE as f64 {
        width *= MAX_SIDE as f64 / height;
        height = MAX_SIDE as f64;
    }
    (
        (width.round() as usize).max(1),
        (height.round() as usize).max(1),
    )
}

/// Longitude/latitude (degrees) to Web Mercator on the unit sphere
/// (the scale does not matter: only ratios are used).
pub fn to_mercator(lon: f64, lat: f64) -> (f64, f64) {
    let lat = lat.clamp(-MAX_LATITUDE, MAX_LATITUDE).to_radians();
    (
        lon.to_radians(),
        (std::f64::consts::FRAC_PI_4 + lat / 2.0).tan().ln(),
    )
}

fn latitude_of(mercator_y: f64) -> f64 {
    mercator_y.sinh().atan().to_degrees()
}

/// Renders `grid` for the map with the colours of `style`.
pub fn render(grid: &GridValues, style: &MapStyle) -> Result<ImageOverlay, OverlayError> {
    let (west, south, east, north) = lonlat_bounds(grid)?;
    let (south, north) = (south.max(-MAX_LATITUDE), north.min(MAX_LATITUDE));
    let (x0, y0) = to_mercator(west, south);
    let (x1, y1) = to_mercator(east, north);
    let (width, height) = image_size((x0, y0, x1, y1), grid.cols);
    // The lon/lat of every image pixel's centre, rows evenly spaced in
    // Mercator y (so in latitude they are closer together to the north).
    let mut points = Vec::with_capacity(width * height);
    for row in 0..height {
        let lat = latitude_of(y1 - (row as f64 + 0.5) / height as f64 * (y1 - y0));
        for col in 0..width {
            points.push((
                west + (col as f64 + 0.5) / width as f64 * (east - west),
                lat,
            ));
        }
    }
    let sources = if crs::is_geographic(grid.crs) {
        points
    } else {
        crs::lonlat_points_to(grid.crs, &points).map_err(OverlayError::Raster)?
    };
    let resampled: Vec<f32> = sources.iter().map(|&p| sample(grid, p)).collect();
    let colours = value_colours(&resampled, style).map_err(OverlayError::Plot)?;
    let rgba: Vec<u8> = colours
        .iter()
        .flat_map(|colour| match colour {
            Some([r, g, b]) => [*r, *g, *b, 255],
            None => [0, 0, 0, 0],
        })
        .collect();
    let png = encode_png_rgba(&rgba, width as u32, height as u32).map_err(OverlayError::Plot)?;
    Ok(ImageOverlay {
        png,
        width,
        height,
        bounds: [[south, west], [north, east]],
    })
}

fn lonlat_bounds(grid: &GridValues) -> Result<Bounds, OverlayError> {
    if crs::is_geographic(grid.crs) {
        Ok(grid.bounds)
    } else {
        crs::bounds_to_lonlat(grid.crs, grid.bounds).map_err(OverlayError::Raster)
    }
}

/// The value of the raster pixel holding `(x, y)` (in its CRS), NaN outside.
fn sample(grid: &GridValues, (x, y): (f64, f64)) -> f32 {
    let (x0, y0, x1, y1) = grid.bounds;
    let col = ((x - x0) / (x1 - x0) * grid.cols as f64).floor();
    let row = ((y1 - y) / (y1 - y0) * grid.rows as f64).floor();
    if col < 0.0 || row < 0.0 || col >= grid.cols as f64 || row >= grid.rows as f64 {
        return f32::NAN;
    }
    grid.values[row as usize * grid.cols + col as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(png: &[u8]) -> (usize, usize, Vec<u8>) {
        let decoder = png::Decoder::new(png);
        let mut reader = decoder.read_info().unwrap();
        let mut pixels = vec![0; reader.output_buffer_size()];
        let info = reader.next_frame(&mut pixels).unwrap();
        pixels.truncate(info.buffer_size());
        (info.width as usize, info.height as usize, pixels)
    }

    #[test]
    fn a_lonlat_raster_keeps_its_bounds_and_is_stretched_north_in_mercator() {
        let wgs84 = crs::wgs84_wkt().unwrap();
        // 100 x 100 pixels over 10° x 10° at 60° N: Mercator doubles the
        // height of a degree there, so the image is about twice as tall.
        let values: Vec<f32> = (0..100 * 100).map(|i| (i / 100) as f32).collect();
        let grid = GridValues {
            values: &values,
            cols: 100,
            rows: 100,
            bounds: (10.0, 55.0, 20.0, 65.0),
            crs: &wgs84,
        };
        let overlay = render(&grid, &MapStyle::default()).unwrap();
        assert_eq!(overlay.bounds, [[55.0, 10.0], [65.0, 20.0]]);
        assert_eq!(overlay.width, 100);
        assert!((190..=210).contains(&overlay.height), "{}", overlay.height);
        let (w, h, pixels) = decode(&overlay.png);
        assert_eq!((w, h), (overlay.width, overlay.height));
        assert!(
            pixels.chunks(4).all(|p| p[3] == 255),
            "every pixel has a value"
        );
        assert!(
            overlay
                .data_url()
                .starts_with("data:image/png;base64,iVBORw0KGgo")
        );
    }

    #[test]
    fn a_projected_raster_gets_lonlat_bounds_and_missing_values_are_clear() {
        let utm = "EPSG:32633";
        // 10 km around 500 000 E, 5 000 000 N in UTM 33N (15° E, about 45.1° N).
        let mut values = vec![1.0f32; 50 * 50];
        values[0] = f32::NAN;
        let grid = GridValues {
            values: &values,
            cols: 50,
            rows: 50,
            bounds: (495_000.0, 4_995_000.0, 505_000.0, 5_005_000.0),
            crs: utm,
        };
        let overlay = render(&grid, &MapStyle::default()).unwrap();
        let [[south, west], [north, east]] = overlay.bounds;
        assert!(
            (west - 14.936).abs() < 0.01 && (east - 15.064).abs() < 0.01,
            "{west} {east}"
        );
        assert!(
            (south - 45.099).abs() < 0.01 && (north - 45.189).abs() < 0.01,
            "{south} {north}"
        );
        let (_, _, pixels) = decode(&overlay.png);
        let clear = pixels.chunks(4).filter(|p| p[3] == 0).count();
        // The missing corner pixel, and the corners of the lon/lat box the
        // UTM square does not reach.
        assert!(clear > 0 && clear < pixels.len() / 4 / 10, "{clear}");
    }

    #[test]
    fn a_large_raster_is_bounded_to_1024_pixels_a_side() {
        assert_eq!(image_size((0.0, 0.0, 1.0, 1.0), 10_980), (1024, 1024));
        assert_eq!(image_size((0.0, 0.0, 1.0, 4.0), 10_980), (256, 1024));
        assert_eq!(image_size((0.0, 0.0, 2.0, 1.0), 300), (300, 150));
    }
}
