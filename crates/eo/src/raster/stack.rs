//! Time stacks: aligned rasters with their dates, in date order.

use super::{Extreme, Raster, RasterError, Reduction};

/// Aligned rasters, one per date (ISO dates sort as text).
#[derive(Debug, Clone)]
pub struct Stack {
    layers: Vec<Raster>,
    dates: Vec<String>,
    /// Whether the dates were given (rather than numbered 1, 2, ...).
    dated: bool,
}

impl Stack {
    /// A stack of `layers` dated `dates` (or numbered 1, 2, ... when there
    /// are no dates), sorted by date. The layers must line up.
    pub fn new(layers: Vec<Raster>, dates: Option<Vec<String>>) -> Result<Stack, RasterError> {
        let dated = dates.is_some();
        let dates = dates.unwrap_or_else(|| (1..=layers.len()).map(|i| i.to_string()).collect());
        if dates.len() != layers.len() {
            return Err(RasterError::Invalid(format!(
                "{} rasters but {} dates: give one date per raster",
                layers.len(),
                dates.len()
            )));
        }
        // Validates that the layers align (and that there is at least one).
        Raster::reduce(&layers, Reduction::Count)?;
        let mut pairs: Vec<(String, Raster)> = dates.into_iter().zip(layers).collect();
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        let (dates, layers) = pairs.into_iter().unzip();
        Ok(Stack {
            layers,
            dates,
            dated,
        })
    }

    pub fn layers(&self) -> &[Raster] {
        &self.layers
    }

    pub fn dates(&self) -> &[String] {
        &self.dates
    }

    /// The per-pixel summary across dates.
    pub fn reduce(&self, reduction: Reduction) -> Raster {
        Raster::reduce(&self.layers, reduction).expect("a stack's layers align")
    }

    /// The stack with each date's pixels dropped (made missing) where
    /// that date's layer of `masks` is one of `classes`: e.g. the Sentinel-2
    /// scene classification's cloud, shadow and cirrus classes. Reductions
    /// then ignore them; a pixel masked on every date has no value.
    pub fn masked_by_classes(&self, masks: &Stack, classes: &[f32]) -> Result<Stack, RasterError> {
        self.masked_with(masks, |mask| mask.is_in(classes))
    }

    /// The stack with each date's pixels dropped where that date's layer of
    /// `masks` is non-zero (openEO's `mask`: true means masked out).
    pub fn masked_where(&self, masks: &Stack) -> Result<Stack, RasterError> {
        self.masked_with(masks, Raster::clone)
    }

    fn masked_with(
        &self,
        masks: &Stack,
        drop: impl Fn(&Raster) -> Raster,
    ) -> Result<Stack, RasterError> {
        self.check_dates_match(masks, "masks")?;
        let layers = self
            .layers
            .iter()
            .zip(&masks.layers)
            .map(|(layer, mask)| {
                let missing = Raster::constant(layer.grid().clone(), f32::NAN);
                let mut kept = drop(mask).choose(&missing, layer)?;
                kept.unit = layer.unit.clone();
                Ok(kept)
            })
            .collect::<Result<_, RasterError>>()?;
        Ok(Stack {
            layers,
            dates: self.dates.clone(),
            dated: self.dated,
        })
    }

    /// Per pixel, the position (from 0, in date order) of the date with the
    /// lowest or highest value; missing where no date has one.
    pub fn position_of(&self, best: Extreme) -> Raster {
        Raster::pick(&self.layers, None, best).expect("a stack's layers align")
    }

    /// Per pixel, this stack's value on the date where `scores` is lowest or
    /// highest (e.g. each pixel from its least cloudy date).
    pub fn pick_by(&self, scores: &Stack, best: Extreme) -> Result<Raster, RasterError> {
        self.check_dates_match(scores, "scores")?;
        Raster::pick(&scores.layers, Some(&self.layers), best)
    }

    /// `other` must hold one layer per date of this stack (the same dates,
    /// when both have them) for the two to combine date by date.
    fn check_dates_match(&self, other: &Stack, what: &str) -> Result<(), RasterError> {
        if other.layers.len() != self.layers.len() {
            return Err(RasterError::Invalid(format!(
                "the stack has {} dates but the {what} have {}: give one per date",
                self.layers.len(),
                other.layers.len()
            )));
        }
        let both_dated = self.dated && other.dated;
        let mismatch = self.dates.iter().zip(&other.dates).find(|(a, b)| a != b);
        if both_dated && let Some((mine, theirs)) = mismatch {
            return Err(RasterError::Invalid(format!(
                "the stack's date {mine} has no match in the {what}, whose date there is {theirs}: \
                 build both stacks with the same dates"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::{GeoTransform, Grid, Window};
    use cleope_sandbox::{Cancel, MemoryBudget};
    use std::sync::Arc;

    const WIDTH: usize = 7;
    const HEIGHT: usize = 5;
    const DATES: usize = 6;
    /// Scene classes that hide the ground (cloud shadow, cloud medium and
    /// high probability, cirrus).
    const CLOUDY: [f32; 4] = [3.0, 8.0, 9.0, 10.0];

    fn grid() -> Grid {
        Grid {
            width: WIDTH,
            height: HEIGHT,
            transform: GeoTransform([0.0, 1.0, 0.0, 0.0, 0.0, -1.0]),
            crs: String::new(),
        }
    }

    /// A reproducible sequence of small integers (0 to `below` - 1), so
    /// that dates often tie.
    fn numbers(seed: u64, below: u64) -> impl Iterator<Item = u64> {
        let mut state = seed;
        std::iter::repeat_with(move || {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (state >> 33) % below
        })
    }

    /// One layer per date: small integers with some missing pixels.
    fn layers(seed: u64, below: u64) -> Vec<Vec<f32>> {
        let mut draw = numbers(seed, below);
        let mut missing = numbers(seed + 1, 7);
        (0..DATES)
            .map(|_| {
                (0..WIDTH * HEIGHT)
                    .map(|_| {
                        let value = draw.next().unwrap() as f32;
                        if missing.next() == Some(0) {
                            f32::NAN
                        } else {
                            value
                        }
                    })
                    .collect()
            })
            .collect()
    }

    fn stack_of(planes: &[Vec<f32>], budget: &Arc<MemoryBudget>) -> Stack {
        let rasters = planes
            .iter()
            .map(|p| Raster::from_values(grid(), p.clone(), budget).unwrap())
            .collect();
        Stack::new(rasters, None).unwrap()
    }

    fn values_of(raster: &Raster) -> Vec<f32> {
        let mut out = vec![0.0; WIDTH * HEIGHT];
        raster
            .root()
            .eval(
                Window::full(WIDTH, HEIGHT),
                (WIDTH, HEIGHT),
                &mut out,
                &Cancel::default(),
            )
            .unwrap();
        out
    }

    /// numpy's `np.percentile(values, p)` (method "linear"), in f64.
    fn numpy_percentile(values: &[f32], p: f64) -> f32 {
        let mut sorted: Vec<f64> = values.iter().map(|&v| f64::from(v)).collect();
        sorted.sort_by(f64::total_cmp);
        let position = (sorted.len() - 1) as f64 * p / 100.0;
        let (low, high) = (position.floor() as usize, position.ceil() as usize);
        (sorted[low] + (position - low as f64) * (sorted[high] - sorted[low])) as f32
    }

    /// The reference: a pixel's values on the dates it is seen clear (a
    /// value, a class, and not a cloudy one), looked at one by one.
    fn clear_values(data: &[Vec<f32>], scl: &[Vec<f32>], pixel: usize) -> Vec<(usize, f32)> {
        let clear = |class: f32| !class.is_nan() && !CLOUDY.contains(&class);
        (0..DATES)
            .filter(|&d| !data[d][pixel].is_nan() && clear(scl[d][pixel]))
            .map(|d| (d, data[d][pixel]))
            .collect()
    }

    fn same(a: f32, b: f32) -> bool {
        (a.is_nan() && b.is_nan()) || (a - b).abs() <= 1e-4 * b.abs().max(1.0)
    }

    #[test]
    fn masked_reductions_match_a_pixel_by_pixel_reference() {
        let budget = MemoryBudget::with_usage(1 << 30, || 0);
        let mut data = layers(1, 20);
        let mut scl = layers(2, 12);
        // 35 random pixels rarely include the two extremes, so pin them:
        // pixel 0 is cloudy on every date, pixel 1 seen clear on every date.
        for (date, (classes, values)) in scl.iter_mut().zip(&mut data).enumerate() {
            classes[0] = CLOUDY[1];
            classes[1] = 4.0;
            values[1] = date as f32;
        }
        let masked = stack_of(&data, &budget)
            .masked_by_classes(&stack_of(&scl, &budget), &CLOUDY)
            .unwrap();
        let mut counts = std::collections::BTreeSet::new();
        let reference = |reduction: Reduction, values: &[f32]| -> f32 {
            if values.is_empty() {
                return if reduction == Reduction::Count {
                    0.0
                } else {
                    f32::NAN
                };
            }
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| f64::from(v)).sum::<f64>() / n;
            (match reduction {
                Reduction::Count => n,
                Reduction::Sum => mean * n,
                Reduction::Mean => mean,
                Reduction::Min => values
                    .iter()
                    .map(|&v| f64::from(v))
                    .fold(f64::INFINITY, f64::min),
                Reduction::Max => values
                    .iter()
                    .map(|&v| f64::from(v))
                    .fold(f64::NEG_INFINITY, f64::max),
                Reduction::Std => (values
                    .iter()
                    .map(|&v| (f64::from(v) - mean).powi(2))
                    .sum::<f64>()
                    / n)
                    .sqrt(),
                Reduction::Median => f64::from(numpy_percentile(values, 50.0)),
                Reduction::Percentile(p) => f64::from(numpy_percentile(values, f64::from(p))),
            }) as f32
        };
        let reductions = [
            Reduction::Count,
            Reduction::Mean,
            Reduction::Min,
            Reduction::Max,
            Reduction::Std,
            Reduction::Median,
            Reduction::percentile(0.0).unwrap(),
            Reduction::percentile(25.0).unwrap(),
            Reduction::percentile(90.0).unwrap(),
            Reduction::percentile(100.0).unwrap(),
        ];
        for reduction in reductions {
            let got = values_of(&masked.reduce(reduction));
            for (pixel, &value) in got.iter().enumerate() {
                let values: Vec<f32> = clear_values(&data, &scl, pixel)
                    .iter()
                    .map(|&(_, v)| v)
                    .collect();
                counts.insert(values.len());
                let expected = reference(reduction, &values);
                assert!(
                    same(value, expected),
                    "{reduction:?} at {pixel}: {value} != {expected} of {values:?}"
                );
            }
        }
        // Even and odd counts, pixels masked on every date, and on none.
        assert!(counts.contains(&0) && counts.contains(&DATES), "{counts:?}");
        assert!(counts.iter().any(|c| c % 2 == 0 && *c > 0) && counts.iter().any(|c| c % 2 == 1));
    }

    #[test]
    fn picking_by_score_matches_nanargmin_with_ties_to_the_earliest_date() {
        let budget = MemoryBudget::with_usage(1 << 30, || 0);
        let data = layers(3, 1000);
        // Few distinct scores, so ties are common.
        let scores = layers(4, 3);
        let values = stack_of(&data, &budget);
        let score_stack = stack_of(&scores, &budget);
        for best in [Extreme::Lowest, Extreme::Highest] {
            let positions = values_of(&score_stack.position_of(best));
            let picked = values_of(&values.pick_by(&score_stack, best).unwrap());
            let mut ties = 0;
            for pixel in 0..WIDTH * HEIGHT {
                let scored = |usable: &dyn Fn(usize) -> bool| {
                    let candidates: Vec<usize> = (0..DATES).filter(|&d| usable(d)).collect();
                    let top = candidates.iter().map(|&d| scores[d][pixel]).fold(
                        None,
                        |top: Option<f32>, s| {
                            Some(match (top, best) {
                                (None, _) => s,
                                (Some(t), Extreme::Lowest) => t.min(s),
                                (Some(t), Extreme::Highest) => t.max(s),
                            })
                        },
                    );
                    let winners: Vec<usize> = candidates
                        .into_iter()
                        .filter(|&d| Some(scores[d][pixel]) == top)
                        .collect();
                    winners
                };
                let by_score = scored(&|d| !scores[d][pixel].is_nan());
                let expected = by_score.first().map_or(f32::NAN, |&d| d as f32);
                assert!(
                    same(positions[pixel], expected),
                    "{best:?} position at {pixel}"
                );
                let by_both = scored(&|d| !scores[d][pixel].is_nan() && !data[d][pixel].is_nan());
                let expected = by_both.first().map_or(f32::NAN, |&d| data[d][pixel]);
                assert!(same(picked[pixel], expected), "{best:?} value at {pixel}");
                ties += usize::from(by_both.len() > 1);
            }
            assert!(ties > 5, "the data should hold ties ({ties})");
        }
    }

    #[test]
    fn stacks_that_do_not_match_date_by_date_do_not_combine() {
        let budget = MemoryBudget::with_usage(1 << 30, || 0);
        let layer = || Raster::from_values(grid(), vec![1.0; WIDTH * HEIGHT], &budget).unwrap();
        let dated = |dates: &[&str]| {
            let dates: Vec<String> = dates.iter().map(|d| d.to_string()).collect();
            let layers = dates.iter().map(|_| layer()).collect();
            Stack::new(layers, Some(dates)).unwrap()
        };
        let two = dated(&["2021-01-01", "2021-02-01"]);
        let other = dated(&["2021-01-01", "2021-03-01"]);
        let error = two.masked_where(&other).unwrap_err().to_string();
        assert!(
            error.contains("2021-02-01") && error.contains("2021-03-01"),
            "{error}"
        );
        let three = dated(&["2021-01-01", "2021-02-01", "2021-03-01"]);
        let error = two
            .pick_by(&three, Extreme::Lowest)
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("2 dates") && error.contains("have 3"),
            "{error}"
        );
        // Undated masks go with any dates.
        let undated = Stack::new(vec![layer(), layer()], None).unwrap();
        assert!(two.masked_where(&undated).is_ok());
        assert!(Reduction::percentile(101.0).is_err());
    }
}
