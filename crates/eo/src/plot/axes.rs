//! Map axes: tick positions at round steps, labelled in degrees
//! ("15.2° E", "45.6° N") on lon/lat maps and in metres or kilometres on
//! projected ones; and the length of a scale bar.

/// Which axis of a map a tick labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    X,
    Y,
}

/// Round steps: 1, 2, 2.5 and 5 times a power of ten, from `from` upwards.
fn round_steps(from: f64) -> impl Iterator<Item = f64> {
    let start = 10f64.powf(from.abs().max(1e-12).log10().floor() - 1.0);
    (0..40).flat_map(move |decade| [1.0, 2.0, 2.5, 5.0].map(|m| m * start * 10f64.powi(decade)))
}

/// Decimals that show every multiple of `step` exactly (0.25 → 2).
pub fn decimals_for(step: f64) -> usize {
    (0..8)
        .find(|&d| {
            let scaled = step * 10f64.powi(d as i32);
            (scaled - scaled.round()).abs() < 1e-6 * scaled.abs().max(1.0)
        })
        .unwrap_or(8)
}

/// A tick's label: degrees with a hemisphere on lon/lat maps, metres (or
/// kilometres when the step is a kilometre or more) on projected ones.
pub fn coordinate_label(value: f64, step: f64, axis: Axis, geographic: bool) -> String {
    if geographic {
        let decimals = decimals_for(step);
        let magnitude = format!("{:.decimals$}", value.abs());
        let is_zero = magnitude.chars().all(|c| c == '0' || c == '.');
        let hemisphere = match (axis, value > 0.0) {
            _ if is_zero => return "0°".into(),
            (Axis::X, _) if (value.abs() - 180.0).abs() < 1e-9 => return "180°".into(),
            (Axis::X, true) => "E",
            (Axis::X, false) => "W",
            (Axis::Y, true) => "N",
            (Axis::Y, false) => "S",
        };
        format!("{magnitude}° {hemisphere}")
    } else if step >= 1000.0 {
        let km = step / 1000.0;
        format!("{:.*} km", decimals_for(km), value / 1000.0)
    } else {
        format!("{:.*} m", decimals_for(step), value)
    }
}

/// Ticks over `low..high` spaced at least `min_gap` pixels apart on an
/// axis `pixels` long, at a round step whose labels (measured with
/// `label_width`) do not touch: `(value, label)` pairs.
pub fn ticks(
    (low, high): (f64, f64),
    pixels: u32,
    min_gap: u32,
    label: impl Fn(f64, f64) -> String,
    label_extent: impl Fn(&str) -> u32,
) -> Vec<(f64, String)> {
    let span = high - low;
    if span.is_nan() || span <= 0.0 || pixels == 0 {
        return Vec::new();
    }
    let per_pixel = span / f64::from(pixels);
    for step in round_steps(span / 10.0) {
        // Six or seven ticks at most: a map is not a ruler.
        if step / per_pixel < f64::from(min_gap) || span / step > 7.0 {
            continue;
        }
        let first = (low / step - 1e-9).ceil() as i64;
        let last = (high / step + 1e-9).floor() as i64;
        let values: Vec<(f64, String)> = (first..=last)
            .map(|i| i as f64 * step)
            .map(|v| (v, label(v, step)))
            .collect();
        let widest = values
            .iter()
            .map(|(_, text)| label_extent(text))
            .max()
            .unwrap_or(0);
        if f64::from(widest + 10) <= step / per_pixel {
            return values;
        }
    }
    Vec::new()
}

/// Metres on the ground per map unit along x at the map's middle latitude.
pub fn metres_per_unit(bounds: crate::raster::Bounds, geographic: bool) -> f64 {
    if geographic {
        111_320.0 * ((bounds.1 + bounds.3) / 2.0).to_radians().cos()
    } else {
        1.0
    }
}

/// A round ground length no longer than `at_most` metres, and its label.
pub fn scale_length(at_most: f64) -> (f64, String) {
    let length = round_steps(at_most / 100.0)
        .filter(|&s| [1.0, 2.0, 5.0].contains(&(s / 10f64.powf(s.log10().floor())).round()))
        .take_while(|&s| s <= at_most)
        .last()
        .unwrap_or(at_most);
    let label = if length >= 1000.0 {
        format!("{} km", length / 1000.0)
    } else {
        format!("{length} m")
    };
    (length, label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn degrees_have_hemispheres() {
        assert_eq!(coordinate_label(15.2, 0.1, Axis::X, true), "15.2° E");
        assert_eq!(coordinate_label(45.6, 0.2, Axis::Y, true), "45.6° N");
        assert_eq!(coordinate_label(-120.0, 10.0, Axis::X, true), "120° W");
        assert_eq!(coordinate_label(-35.25, 0.25, Axis::Y, true), "35.25° S");
        assert_eq!(coordinate_label(0.0, 5.0, Axis::Y, true), "0°");
        assert_eq!(coordinate_label(-1e-12, 0.5, Axis::X, true), "0°");
        assert_eq!(coordinate_label(180.0, 30.0, Axis::X, true), "180°");
    }

    #[test]
    fn projected_maps_read_in_metres_or_kilometres() {
        assert_eq!(
            coordinate_label(4_500_000.0, 20_000.0, Axis::Y, false),
            "4500 km"
        );
        assert_eq!(
            coordinate_label(502_500.0, 2_500.0, Axis::X, false),
            "502.5 km"
        );
        assert_eq!(coordinate_label(300.0, 100.0, Axis::X, false), "300 m");
    }

    #[test]
    fn ticks_are_round_and_do_not_crowd() {
        let width = |t: &str| t.len() as u32 * 8;
        let label = |v: f64, s: f64| coordinate_label(v, s, Axis::X, true);
        let ticks = ticks((14.93, 15.61), 600, 60, label, width);
        let values: Vec<f64> = ticks.iter().map(|t| t.0).collect();
        assert!(values.len() >= 3 && values.len() <= 10, "{values:?}");
        assert!(
            values
                .windows(2)
                .all(|w| (w[1] - w[0] - (values[1] - values[0])).abs() < 1e-9)
        );
        assert_eq!(ticks[0].1, "15.0° E");
    }

    #[test]
    fn scale_bars_have_round_lengths() {
        assert_eq!(scale_length(23_000.0), (20_000.0, "20 km".into()));
        assert_eq!(scale_length(740.0), (500.0, "500 m".into()));
        assert_eq!(scale_length(1_100.0), (1_000.0, "1 km".into()));
    }
}
