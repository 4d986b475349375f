//! A dense 2-D array of 64-bit floats, charged to the memory budget.
//!
//! The array is shared between copies of a value (copying a variable in a
//! script is cheap); a write to a shared array first makes a private copy,
//! which is charged like any other allocation.

use cleope_sandbox::{Breach, Cancel, MemoryBudget, MemoryCharge, Stop};
use ndarray::Array2;
use rayon::prelude::*;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct Matrix {
    inner: Arc<Charged>,
}

#[derive(Debug)]
struct Charged {
    data: Array2<f64>,
    _charge: MemoryCharge,
}

/// Summary statistics over the finite cells (NaN cells are skipped).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Summary {
    pub count: u64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
}

impl Summary {
    const EMPTY: Summary = Summary {
        count: 0,
        sum: 0.0,
        min: f64::INFINITY,
        max: f64::NEG_INFINITY,
    };

    fn add(mut self, value: f64) -> Self {
        if value.is_finite() {
            self.count += 1;
            self.sum += value;
            self.min = self.min.min(value);
            self.max = self.max.max(value);
        }
        self
    }

    fn merge(self, other: Summary) -> Summary {
        Summary {
            count: self.count + other.count,
            sum: self.sum + other.sum,
            min: self.min.min(other.min),
            max: self.max.max(other.max),
        }
    }

    /// The mean of the finite cells, NaN when there are none.
    pub fn mean(&self) -> f64 {
        if self.count == 0 {
            f64::NAN
        } else {
            self.sum / self.count as f64
        }
    }
}

/// Rows per block of parallel work; between blocks the cancel flag is checked.
const ROWS_PER_BLOCK: usize = 256;

impl Matrix {
    /// A `rows` x `cols` matrix filled with `value`; memory is charged first.
    pub fn filled(
        rows: usize,
        cols: usize,
        value: f64,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Self, Breach> {
        let charge = charge_for(rows, cols, budget)?;
        Ok(Self {
            inner: Arc::new(Charged {
                data: Array2::from_elem((rows, cols), value),
                _charge: charge,
            }),
        })
    }

    pub fn rows(&self) -> usize {
        self.inner.data.nrows()
    }

    pub fn cols(&self) -> usize {
        self.inner.data.ncols()
    }

    /// The value at (`row`, `col`), or `None` outside the matrix.
    pub fn get(&self, row: usize, col: usize) -> Option<f64> {
        self.inner.data.get((row, col)).copied()
    }

    /// Sets one cell, copying (and charging) the data first if it is shared.
    /// Returns `Ok(false)` when the cell is outside the matrix.
    pub fn set(
        &mut self,
        row: usize,
        col: usize,
        value: f64,
        budget: &Arc<MemoryBudget>,
    ) -> Result<bool, Breach> {
        if row >= self.rows() || col >= self.cols() {
            return Ok(false);
        }
        if Arc::get_mut(&mut self.inner).is_none() {
            let charge = charge_for(self.rows(), self.cols(), budget)?;
            self.inner = Arc::new(Charged {
                data: self.inner.data.clone(),
                _charge: charge,
            });
        }
        let inner = Arc::get_mut(&mut self.inner).expect("the data was just made unique");
        inner.data[(row, col)] = value;
        Ok(true)
    }

    /// Count, sum, min and max of the finite cells, computed block by block
    /// on `pool`, stopping early if the run is cancelled.
    pub fn summary(&self, pool: &rayon::ThreadPool, cancel: &Cancel) -> Result<Summary, Stop> {
        pool.install(|| {
            let cells = self
                .inner
                .data
                .as_slice()
                .expect("matrices are stored row by row");
            cells
                .par_chunks(ROWS_PER_BLOCK * self.cols())
                .map(|block| {
                    cancel.check()?;
                    Ok(block.iter().fold(Summary::EMPTY, |s, &v| s.add(v)))
                })
                .try_reduce(|| Summary::EMPTY, |a, b| Ok(a.merge(b)))
        })
    }

    /// All cells, row by row, as 32-bit floats (the precision of rasters).
    pub fn values_f32(&self) -> Vec<f32> {
        self.inner.data.iter().map(|&v| v as f32).collect()
    }
}

fn charge_for(
    rows: usize,
    cols: usize,
    budget: &Arc<MemoryBudget>,
) -> Result<MemoryCharge, Breach> {
    let bytes = (rows as u64)
        .saturating_mul(cols as u64)
        .saturating_mul(std::mem::size_of::<f64>() as u64);
    budget.charge(bytes, &format!("a {rows} x {cols} matrix"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nothing_in_use() -> u64 {
        0
    }

    fn budget() -> Arc<MemoryBudget> {
        MemoryBudget::with_usage(1 << 30, nothing_in_use)
    }

    #[test]
    fn allocation_is_charged_and_released() {
        let budget = budget();
        let m = Matrix::filled(100, 10, 1.0, &budget).unwrap();
        assert_eq!(budget.charged(), 8000);
        drop(m);
        assert_eq!(budget.charged(), 0);
    }

    #[test]
    fn writing_to_a_shared_matrix_copies_and_charges() {
        let budget = budget();
        let a = Matrix::filled(10, 10, 0.0, &budget).unwrap();
        let mut b = a.clone();
        assert_eq!(budget.charged(), 800);
        assert!(b.set(1, 2, 5.0, &budget).unwrap());
        assert_eq!(budget.charged(), 1600);
        assert_eq!((a.get(1, 2), b.get(1, 2)), (Some(0.0), Some(5.0)));
        assert!(!b.set(10, 0, 1.0, &budget).unwrap(), "outside the matrix");
    }

    #[test]
    fn a_matrix_beyond_the_budget_is_refused_before_allocating() {
        let budget = MemoryBudget::with_usage(1 << 20, nothing_in_use);
        let breach = Matrix::filled(1 << 20, 1 << 20, 0.0, &budget).unwrap_err();
        assert!(
            breach.message.contains("1048576 x 1048576 matrix"),
            "{}",
            breach.message
        );
    }

    #[test]
    fn summary_skips_nan_and_spans_blocks() {
        let budget = budget();
        let mut m = Matrix::filled(1000, 3, 2.0, &budget).unwrap();
        m.set(999, 2, f64::NAN, &budget).unwrap();
        m.set(0, 0, -1.0, &budget).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        cancel.start_run(std::time::Duration::from_secs(60));
        let s = m.summary(&pool, &cancel).unwrap();
        assert_eq!((s.count, s.min, s.max), (2999, -1.0, 2.0));
        assert_eq!(s.sum, 2.0 * 2998.0 - 1.0);
    }

    #[test]
    fn summary_stops_when_interrupted() {
        let budget = budget();
        let m = Matrix::filled(10, 10, 1.0, &budget).unwrap();
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let cancel = Cancel::default();
        cancel.start_run(std::time::Duration::from_secs(60));
        cancel.interrupt();
        assert_eq!(m.summary(&pool, &cancel), Err(Stop::Interrupted));
    }
}
