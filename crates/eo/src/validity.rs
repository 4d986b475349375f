//! What counts as a value: the one rule every statistic, histogram,
//! quantile, colour stretch and stack reduction follows, for rasters,
//! stacks and swaths alike.
//!
//! Missing data is NaN (nodata, clouds masked out, outside a polygon).
//! Infinities are not measurements either: `log10(0)` of a real GRD's
//! border or a float32 overflow is a missing value, not a pixel that turns
//! a mean into NaN. So a value is valid exactly when it is finite.

/// Whether a pixel or a sample is a measurement (finite).
#[inline]
pub fn is_valid(value: f32) -> bool {
    value.is_finite()
}

/// [`is_valid`] for values already widened to `f64`.
#[inline]
pub fn is_valid_f64(value: f64) -> bool {
    value.is_finite()
}

/// The valid values of `values`.
pub fn valid(values: &[f32]) -> impl Iterator<Item = f32> + '_ {
    values.iter().copied().filter(|&v| is_valid(v))
}

/// `value` if it is valid, else NaN: what an operation stores when its
/// result would be infinite (a logarithm of 0, an overflow).
#[inline]
pub fn or_missing(value: f32) -> f32 {
    if is_valid(value) { value } else { f32::NAN }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_finite_values_are_valid() {
        assert!(is_valid(0.0) && is_valid(-3.5) && is_valid(f32::MAX));
        for invalid in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
            assert!(!is_valid(invalid), "{invalid}");
            assert!(or_missing(invalid).is_nan());
        }
        let values = [1.0, f32::NEG_INFINITY, f32::NAN, 2.0];
        assert_eq!(valid(&values).collect::<Vec<_>>(), [1.0, 2.0]);
    }
}
