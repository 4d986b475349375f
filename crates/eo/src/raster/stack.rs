//! Time stacks: aligned rasters with their dates, in date order.

use super::{Raster, RasterError, Reduction};

/// Aligned rasters, one per date (ISO dates sort as text).
#[derive(Debug, Clone)]
pub struct Stack {
    layers: Vec<Raster>,
    dates: Vec<String>,
}

impl Stack {
    /// A stack of `layers` dated `dates` (or numbered 1, 2, ... when there
    /// are no dates), sorted by date. The layers must line up.
    pub fn new(layers: Vec<Raster>, dates: Option<Vec<String>>) -> Result<Stack, RasterError> {
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
        Ok(Stack { layers, dates })
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
}
