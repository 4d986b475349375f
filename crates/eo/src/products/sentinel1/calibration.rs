//! Radiometric calibration of Sentinel-1 GRD amplitudes (ESA, "Sentinel-1
//! Level-1 Detailed Algorithm Definition" and the product specification):
//!
//! * the calibration annotation `annotation/calibration/calibration-*.xml`
//!   gives, for some image lines (`calibrationVector`), the values of a
//!   look-up table A at some pixels (every 40 in real products): one table
//!   per coefficient (`sigmaNought`, `betaNought`, `gamma`);
//! * A at any pixel is interpolated bilinearly: along the pixels of the two
//!   vectors around the line, then between the two lines;
//! * the coefficient is DN² / A².
//!
//! Thermal noise (`annotation/calibration/noise-*.xml`) is a power η to
//! subtract from DN² first: (DN² − η) / A². Since IPF 2.9 η is a range
//! profile (`noiseRangeVectorList`, interpolated like A) times an azimuth
//! profile per block of the image (`noiseAzimuthVectorList`, linear along
//! the lines of the block); older products have range vectors only
//! (`noiseVectorList`/`noiseLut`).
//!
//! Missing values: a DN of 0 is no data (GRD borders), and so is a pixel
//! whose noise-corrected power is ≤ 0. ESA's SNAP writes a tiny floor
//! value (0.0123456789 in DN²) there instead, which is no measurement
//! either and becomes a meaningless −50 dB or so; missing values are left
//! out of statistics and of `db()`.

use std::ops::Range;

/// A backscatter coefficient the calibration annotation gives a table for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coefficient {
    /// σ⁰: backscatter per unit of ground area.
    Sigma0,
    /// β⁰: radar brightness, per unit of area in the slant plane.
    Beta0,
    /// γ⁰: σ⁰ per unit of area perpendicular to the beam.
    Gamma0,
}

impl Coefficient {
    /// The names scripts use, in order.
    pub const NAMES: [&'static str; 3] = ["sigma0", "beta0", "gamma0"];

    /// The coefficient called `name` ("sigma0", "beta0", "gamma0").
    pub fn named(name: &str) -> Option<Coefficient> {
        Some(match name.to_ascii_lowercase().as_str() {
            "sigma0" => Coefficient::Sigma0,
            "beta0" => Coefficient::Beta0,
            "gamma0" => Coefficient::Gamma0,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Coefficient::Sigma0 => "sigma0",
            Coefficient::Beta0 => "beta0",
            Coefficient::Gamma0 => "gamma0",
        }
    }

    /// The element of a `calibrationVector` holding this coefficient's table.
    fn table(self) -> &'static str {
        match self {
            Coefficient::Sigma0 => "sigmaNought",
            Coefficient::Beta0 => "betaNought",
            Coefficient::Gamma0 => "gamma",
        }
    }
}

/// What calibration to apply to a measurement.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Calibration {
    pub coefficient: Coefficient,
    /// Subtract the thermal noise the noise annotation gives.
    pub remove_noise: bool,
}

/// Values given at a few pixels of a few lines (calibration and noise range
/// vectors), interpolated bilinearly anywhere in the image.
#[derive(Debug, Clone, PartialEq)]
pub struct VectorGrid {
    /// In increasing line order.
    vectors: Vec<Vector>,
}

#[derive(Debug, Clone, PartialEq)]
struct Vector {
    line: f64,
    /// Increasing pixel positions and the values there.
    pixels: Vec<f64>,
    values: Vec<f64>,
}

impl VectorGrid {
    /// The `vector` elements of `xml`, each with its `<line>`, `<pixel>` list
    /// and `values` list.
    pub fn parse(xml: &str, vector: &str, values: &str) -> Result<VectorGrid, String> {
        let mut vectors = Vec::new();
        for (_, body) in super::xml_elements(xml, vector) {
            let line = single_number(&body, "line")?;
            let pixels = numbers(&body, "pixel")?;
            let found = numbers(&body, values)?;
            if pixels.is_empty() || pixels.len() != found.len() {
                return Err(format!(
                    "the {vector} of line {line} has {} pixels and {} {values} values",
                    pixels.len(),
                    found.len()
                ));
            }
            if pixels.windows(2).any(|w| w[1] <= w[0]) {
                return Err(format!(
                    "the pixels of the {vector} of line {line} do not increase"
                ));
            }
            vectors.push(Vector {
                line,
                pixels,
                values: found,
            });
        }
        if vectors.is_empty() {
            return Err(format!("there is no {vector} with {values} values"));
        }
        vectors.sort_by(|a, b| a.line.total_cmp(&b.line));
        Ok(VectorGrid { vectors })
    }

    /// The interpolated values of image row `row` at `columns`, into `out`.
    /// Beyond the first and last vector (line or pixel) the edge value holds.
    pub fn row(&self, row: usize, columns: Range<usize>, out: &mut Vec<f64>) {
        let (below, above, weight) = bracket(&self.vectors, row as f64, |v| v.line);
        out.clear();
        let (mut low, mut high) = (Walker::default(), Walker::default());
        for column in columns {
            let x = column as f64;
            let a = low.at(&self.vectors[below], x);
            let b = high.at(&self.vectors[above], x);
            out.push(a + (b - a) * weight);
        }
    }
}

/// The two items around `position` (by `key`, increasing) and the weight of
/// the second, in [0, 1] (clamped at the ends).
fn bracket<T>(items: &[T], position: f64, key: impl Fn(&T) -> f64) -> (usize, usize, f64) {
    let after = items.partition_point(|item| key(item) <= position);
    if after == 0 {
        return (0, 0, 0.0);
    }
    if after == items.len() {
        return (after - 1, after - 1, 0.0);
    }
    let (a, b) = (key(&items[after - 1]), key(&items[after]));
    (after - 1, after, (position - a) / (b - a))
}

/// Linear interpolation along a vector's pixels for increasing positions,
/// remembering where the last one fell.
#[derive(Default)]
struct Walker {
    segment: usize,
}

impl Walker {
    fn at(&mut self, vector: &Vector, x: f64) -> f64 {
        let (pixels, values) = (&vector.pixels, &vector.values);
        let last = pixels.len() - 1;
        if x <= pixels[0] || last == 0 {
            return values[0];
        }
        if x >= pixels[last] {
            return values[last];
        }
        while pixels[self.segment + 1] < x {
            self.segment += 1;
        }
        if pixels[self.segment] > x {
            self.segment = pixels.partition_point(|&p| p <= x) - 1;
        }
        let (x0, x1) = (pixels[self.segment], pixels[self.segment + 1]);
        let (v0, v1) = (values[self.segment], values[self.segment + 1]);
        v0 + (v1 - v0) * (x - x0) / (x1 - x0)
    }
}

/// One block of the azimuth noise profile (IPF ≥ 2.9): the pixels it covers
/// and its values along lines.
#[derive(Debug, Clone, PartialEq)]
struct AzimuthBlock {
    lines: Range<usize>,
    samples: Range<usize>,
    at_lines: Vec<f64>,
    values: Vec<f64>,
}

impl AzimuthBlock {
    fn parse(body: &str) -> Result<AzimuthBlock, String> {
        let bound = |tag: &str| single_number(body, tag).map(|v| v.max(0.0) as usize);
        let at_lines = numbers(body, "line")?;
        let values = numbers(body, "noiseAzimuthLut")?;
        if at_lines.is_empty() || at_lines.len() != values.len() {
            return Err(format!(
                "a noiseAzimuthVector has {} lines and {} values",
                at_lines.len(),
                values.len()
            ));
        }
        Ok(AzimuthBlock {
            lines: bound("firstAzimuthLine")?..bound("lastAzimuthLine")? + 1,
            samples: bound("firstRangeSample")?..bound("lastRangeSample")? + 1,
            at_lines,
            values,
        })
    }

    /// The block's value on image row `row`.
    fn value(&self, row: usize) -> f64 {
        let (a, b, weight) = bracket(&self.at_lines, row as f64, |&l| l);
        self.values[a] + (self.values[b] - self.values[a]) * weight
    }
}

/// The thermal noise power η of a polarisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Noise {
    range: VectorGrid,
    /// Empty before IPF 2.9 (η is the range profile alone).
    azimuth: Vec<AzimuthBlock>,
}

impl Noise {
    /// Reads a noise annotation of either generation.
    pub fn parse(xml: &str) -> Result<Noise, String> {
        if xml.contains("<noiseRangeVector>") || xml.contains("<noiseRangeVector ") {
            let range = VectorGrid::parse(xml, "noiseRangeVector", "noiseRangeLut")?;
            let azimuth = super::xml_elements(xml, "noiseAzimuthVector")
                .iter()
                .map(|(_, body)| AzimuthBlock::parse(body))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(Noise { range, azimuth });
        }
        let range = VectorGrid::parse(xml, "noiseVector", "noiseLut")?;
        Ok(Noise {
            range,
            azimuth: Vec::new(),
        })
    }

    /// η on image row `row` at `columns`, into `out` (`scratch` is reused).
    pub fn row(&self, row: usize, columns: Range<usize>, out: &mut Vec<f64>) {
        self.range.row(row, columns.clone(), out);
        if self.azimuth.is_empty() {
            return;
        }
        for block in self.azimuth.iter().filter(|b| b.lines.contains(&row)) {
            let factor = block.value(row);
            let start = block.samples.start.max(columns.start);
            let end = block.samples.end.min(columns.end);
            for column in start..end {
                out[column - columns.start] *= factor;
            }
        }
    }
}

/// The tables that turn a polarisation's DN into a coefficient.
#[derive(Debug, Clone, PartialEq)]
pub struct Tables {
    gain: VectorGrid,
    noise: Option<Noise>,
}

impl Tables {
    /// The `coefficient`'s table from a calibration annotation, and the
    /// noise from a noise annotation when given.
    pub fn parse(
        calibration: &str,
        coefficient: Coefficient,
        noise: Option<&str>,
    ) -> Result<Tables, String> {
        Ok(Tables {
            gain: VectorGrid::parse(calibration, "calibrationVector", coefficient.table())?,
            noise: noise.map(Noise::parse).transpose()?,
        })
    }

    /// Calibrates one image row: `dn` holds the DN of `columns` on `row`,
    /// `out` receives the coefficient (NaN where missing).
    pub fn calibrate_row(&self, row: usize, columns: Range<usize>, dn: &[f32], out: &mut [f32]) {
        let mut gain = Vec::with_capacity(dn.len());
        self.gain.row(row, columns.clone(), &mut gain);
        let mut noise = Vec::new();
        if let Some(tables) = &self.noise {
            tables.row(row, columns, &mut noise);
        }
        for (i, (&dn, out)) in dn.iter().zip(out.iter_mut()).enumerate() {
            let eta = noise.get(i).copied().unwrap_or(0.0);
            *out = coefficient(f64::from(dn), gain[i], eta) as f32;
        }
    }
}

/// (DN² − η) / A², or NaN for no data (DN 0, a missing DN, or a power ≤ 0
/// once the noise is removed).
fn coefficient(dn: f64, gain: f64, eta: f64) -> f64 {
    if dn.is_nan() || dn <= 0.0 {
        return f64::NAN;
    }
    let power = dn * dn - eta;
    if power <= 0.0 {
        return f64::NAN;
    }
    power / (gain * gain)
}

/// The numbers of the first `<tag>` element (space separated).
fn numbers(xml: &str, tag: &str) -> Result<Vec<f64>, String> {
    let text = super::xml_text(xml, tag).ok_or_else(|| format!("no <{tag}> element"))?;
    text.split_whitespace()
        .map(|word| {
            word.parse::<f64>()
                .map_err(|_| format!("<{tag}> holds \"{word}\", not a number"))
        })
        .collect()
}

fn single_number(xml: &str, tag: &str) -> Result<f64, String> {
    match numbers(xml, tag)?.as_slice() {
        [value] => Ok(*value),
        other => Err(format!("<{tag}> holds {} numbers, not one", other.len())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CALIBRATION: &str = "<calibration><calibrationVectorList count=\"2\">
      <calibrationVector><azimuthTime>t</azimuthTime><line>0</line>
        <pixel count=\"3\">0 40 80</pixel>
        <sigmaNought count=\"3\">600 620 660</sigmaNought>
        <betaNought count=\"3\">470 470 470</betaNought>
        <gamma count=\"3\">500 520 560</gamma><dn count=\"3\">470 470 470</dn>
      </calibrationVector>
      <calibrationVector><azimuthTime>t</azimuthTime><line>100</line>
        <pixel count=\"3\">0 40 80</pixel>
        <sigmaNought count=\"3\">700 720 760</sigmaNought>
        <betaNought count=\"3\">470 470 470</betaNought>
        <gamma count=\"3\">600 620 660</gamma><dn count=\"3\">470 470 470</dn>
      </calibrationVector></calibrationVectorList></calibration>";

    #[test]
    fn the_gain_is_interpolated_along_pixels_then_lines() {
        let grid = VectorGrid::parse(CALIBRATION, "calibrationVector", "sigmaNought").unwrap();
        let mut out = Vec::new();
        grid.row(25, 20..61, &mut out);
        // At pixel 20: 610 on line 0, 710 on line 100; a quarter of the way.
        assert!((out[0] - 635.0).abs() < 1e-9);
        // At pixel 60: 640 and 740.
        assert!((out[40] - 665.0).abs() < 1e-9);
        // Past the last line and pixel, the edge values.
        grid.row(500, 100..101, &mut out);
        assert_eq!(out, [760.0]);
    }

    #[test]
    fn zeros_and_non_positive_noise_corrected_powers_are_missing() {
        assert!(coefficient(0.0, 600.0, 0.0).is_nan());
        assert!(coefficient(10.0, 600.0, 100.0).is_nan());
        assert!(coefficient(10.0, 600.0, 150.0).is_nan());
        assert_eq!(coefficient(20.0, 10.0, 0.0), 4.0);
        assert_eq!(coefficient(20.0, 10.0, 300.0), 1.0);
    }

    #[test]
    fn the_noise_is_the_range_profile_times_the_azimuth_block() {
        let xml = "<noise><noiseRangeVectorList count=\"1\"><noiseRangeVector>
            <azimuthTime>t</azimuthTime><line>0</line><pixel count=\"2\">0 100</pixel>
            <noiseRangeLut count=\"2\">100 200</noiseRangeLut></noiseRangeVector>
            </noiseRangeVectorList><noiseAzimuthVectorList count=\"2\">
            <noiseAzimuthVector><swath>IW1</swath><firstAzimuthLine>0</firstAzimuthLine>
            <firstRangeSample>0</firstRangeSample><lastAzimuthLine>9</lastAzimuthLine>
            <lastRangeSample>49</lastRangeSample><line count=\"2\">0 9</line>
            <noiseAzimuthLut count=\"2\">1.0 2.0</noiseAzimuthLut></noiseAzimuthVector>
            <noiseAzimuthVector><swath>IW2</swath><firstAzimuthLine>0</firstAzimuthLine>
            <firstRangeSample>50</firstRangeSample><lastAzimuthLine>9</lastAzimuthLine>
            <lastRangeSample>100</lastRangeSample><line count=\"1\">0</line>
            <noiseAzimuthLut count=\"1\">0.5</noiseAzimuthLut></noiseAzimuthVector>
            </noiseAzimuthVectorList></noise>";
        let noise = Noise::parse(xml).unwrap();
        let mut out = Vec::new();
        noise.row(3, 40..61, &mut out);
        // Pixel 40 is in IW1 (factor 1 + 3/9), pixel 60 in IW2 (0.5).
        assert!((out[0] - 140.0 * (1.0 + 3.0 / 9.0)).abs() < 1e-9);
        assert!((out[20] - 160.0 * 0.5).abs() < 1e-9);
    }

    #[test]
    fn noise_annotations_before_ipf_2_9_have_range_vectors_only() {
        let xml = "<noise><noiseVectorList count=\"1\"><noiseVector><azimuthTime>t</azimuthTime>
            <line>0</line><pixel count=\"2\">0 10</pixel><noiseLut count=\"2\">5 15</noiseLut>
            </noiseVector></noiseVectorList></noise>";
        let mut out = Vec::new();
        Noise::parse(xml).unwrap().row(0, 5..6, &mut out);
        assert_eq!(out, [10.0]);
    }

    #[test]
    fn a_vector_whose_lists_differ_in_length_is_refused() {
        let xml = CALIBRATION.replacen("600 620 660", "600 620", 1);
        let error = VectorGrid::parse(&xml, "calibrationVector", "sigmaNought").unwrap_err();
        assert!(
            error.contains("3 pixels and 2 sigmaNought values"),
            "{error}"
        );
    }
}
