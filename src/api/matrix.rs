//! Dense 2-D arrays of numbers in native memory.

use crate::eo::matrix::Matrix;
use rhai::plugin::*;

pub fn module() -> Module {
    let mut module = exported_module!(matrix_api);
    module.set_custom_type::<Matrix>("Matrix");
    module
}

use crate::api::{breach_error, script_error, stop_error};
use crate::eo::matrix::Summary;
use crate::runtime::Host;
use rhai::{FLOAT, INT};

pub(super) fn dimension(value: INT, what: &str) -> Result<usize, Box<EvalAltResult>> {
    usize::try_from(value)
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| {
            script_error(
                "BadValue",
                &format!("a matrix needs at least 1 {what}, not {value}"),
                "give positive whole numbers, e.g. matrix(100, 200)",
            )
        })
}

pub(super) fn index(value: INT, size: usize, what: &str) -> Result<usize, Box<EvalAltResult>> {
    usize::try_from(value)
        .ok()
        .filter(|&i| i < size)
        .ok_or_else(|| {
            script_error(
                "IndexOutOfBounds",
                &format!("{what} {value} is outside the matrix (0 to {})", size - 1),
                "indices start at 0",
            )
        })
}

pub(super) fn summary(ctx: &NativeCallContext, m: &Matrix) -> Result<Summary, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    m.summary(&host.pool, &host.cancel).map_err(stop_error)
}

pub(super) fn filled(
    ctx: &NativeCallContext,
    rows: INT,
    cols: INT,
    value: FLOAT,
) -> Result<Matrix, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let (rows, cols) = (dimension(rows, "row")?, dimension(cols, "column")?);
    Matrix::filled(rows, cols, value, &host.memory).map_err(breach_error)
}

#[export_module]
mod matrix_api {
    use super::{filled, index, summary};
    use crate::api::breach_error;
    use crate::eo::matrix::Matrix;
    use crate::runtime::Host;
    use rhai::{Array, FLOAT, INT};

    /// A `rows` x `cols` matrix of zeros. Its memory (8 bytes a cell) counts
    /// against the memory quota; a matrix that does not fit is refused with a
    /// `MemoryQuotaExceeded` error before anything is allocated.
    ///
    /// ```rhai
    /// let m = matrix(3, 4);
    /// assert(m.shape == [3, 4], "3 rows, 4 columns");
    /// ```
    #[rhai_fn(name = "matrix", return_raw)]
    pub fn zeros(
        ctx: NativeCallContext,
        rows: INT,
        cols: INT,
    ) -> Result<Matrix, Box<EvalAltResult>> {
        filled(&ctx, rows, cols, 0.0)
    }

    /// A `rows` x `cols` matrix with every cell set to `value`.
    ///
    /// ```rhai
    /// let m = matrix(2, 2, 0.5);
    /// assert(m.sum() == 2.0, "four halves");
    /// ```
    #[rhai_fn(name = "matrix", return_raw)]
    pub fn filled_float(
        ctx: NativeCallContext,
        rows: INT,
        cols: INT,
        value: FLOAT,
    ) -> Result<Matrix, Box<EvalAltResult>> {
        filled(&ctx, rows, cols, value)
    }

    /// A `rows` x `cols` matrix with every cell set to the whole number `value`.
    ///
    /// ```rhai
    /// let m = matrix(2, 3, 7);
    /// assert(m.max() == 7.0, "all sevens");
    /// ```
    #[rhai_fn(name = "matrix", return_raw)]
    pub fn filled_int(
        ctx: NativeCallContext,
        rows: INT,
        cols: INT,
        value: INT,
    ) -> Result<Matrix, Box<EvalAltResult>> {
        filled(&ctx, rows, cols, value as FLOAT)
    }

    /// The number of rows.
    ///
    /// ```rhai
    /// assert(matrix(3, 4).rows == 3, "rows");
    /// ```
    #[rhai_fn(get = "rows", pure)]
    pub fn rows(m: &mut Matrix) -> INT {
        m.rows() as INT
    }

    /// The number of columns.
    ///
    /// ```rhai
    /// assert(matrix(3, 4).cols == 4, "columns");
    /// ```
    #[rhai_fn(get = "cols", pure)]
    pub fn cols(m: &mut Matrix) -> INT {
        m.cols() as INT
    }

    /// The shape as `[rows, cols]`.
    ///
    /// ```rhai
    /// print(matrix(3, 4).shape);
    /// ```
    #[rhai_fn(get = "shape", pure)]
    pub fn shape(m: &mut Matrix) -> Array {
        vec![(m.rows() as INT).into(), (m.cols() as INT).into()]
    }

    /// The value in row `row` and column `col` (both counted from 0).
    ///
    /// ```rhai
    /// let m = matrix(2, 2, 1.5);
    /// assert(m.get(1, 0) == 1.5, "cell value");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn get(m: &mut Matrix, row: INT, col: INT) -> Result<FLOAT, Box<EvalAltResult>> {
        let (r, c) = (
            index(row, m.rows(), "row")?,
            index(col, m.cols(), "column")?,
        );
        Ok(m.get(r, c).expect("indices were checked"))
    }

    /// Sets the value in row `row` and column `col` (both counted from 0).
    ///
    /// ```rhai
    /// let m = matrix(2, 2);
    /// m.set(0, 1, 9.0);
    /// assert(m.get(0, 1) == 9.0, "cell set");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn set(
        ctx: NativeCallContext,
        m: &mut Matrix,
        row: INT,
        col: INT,
        value: FLOAT,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let (r, c) = (
            index(row, m.rows(), "row")?,
            index(col, m.cols(), "column")?,
        );
        m.set(r, c, value, &host.memory)
            .map(|_| ())
            .map_err(breach_error)
    }

    /// The sum of the cells that hold numbers (NaN cells are skipped).
    ///
    /// ```rhai
    /// assert(matrix(10, 10, 1.0).sum() == 100.0, "hundred ones");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn sum(ctx: NativeCallContext, m: &mut Matrix) -> Result<FLOAT, Box<EvalAltResult>> {
        Ok(summary(&ctx, m)?.sum)
    }

    /// The mean of the cells that hold numbers (NaN when there are none).
    ///
    /// ```rhai
    /// let m = matrix(2, 2);
    /// m.set(0, 0, 4.0);
    /// assert(m.mean() == 1.0, "mean of 4, 0, 0, 0");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn mean(ctx: NativeCallContext, m: &mut Matrix) -> Result<FLOAT, Box<EvalAltResult>> {
        Ok(summary(&ctx, m)?.mean())
    }

    /// The smallest value (NaN cells are skipped).
    ///
    /// ```rhai
    /// let m = matrix(2, 2);
    /// m.set(1, 1, -3.0);
    /// assert(m.min() == -3.0, "minimum");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn min(ctx: NativeCallContext, m: &mut Matrix) -> Result<FLOAT, Box<EvalAltResult>> {
        let s = summary(&ctx, m)?;
        Ok(if s.count == 0 { FLOAT::NAN } else { s.min })
    }

    /// The largest value (NaN cells are skipped).
    ///
    /// ```rhai
    /// let m = matrix(2, 2);
    /// m.set(0, 0, 8.0);
    /// assert(m.max() == 8.0, "maximum");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn max(ctx: NativeCallContext, m: &mut Matrix) -> Result<FLOAT, Box<EvalAltResult>> {
        let s = summary(&ctx, m)?;
        Ok(if s.count == 0 { FLOAT::NAN } else { s.max })
    }

    /// The cells as an array of rows (each an array of numbers). Every cell
    /// becomes a script value (16 bytes), so a conversion that would not fit
    /// in the memory quota is refused: summarise large matrices instead.
    ///
    /// ```rhai
    /// let rows = matrix(2, 3, 1.0).to_array();
    /// assert(rows.len() == 2 && rows[0].len() == 3, "2 rows of 3");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn to_array(ctx: NativeCallContext, m: &mut Matrix) -> Result<Array, Box<EvalAltResult>> {
        // A script array costs far more memory than the matrix (a 16-byte
        // value per cell plus one array per row): charge it before building.
        let host = Host::of(&ctx)?;
        let row_bytes = crate::api::builtins::sizes::array(m.cols());
        let bytes = crate::api::builtins::sizes::array(m.rows())
            .saturating_add(row_bytes.saturating_mul(m.rows() as u64));
        let purpose = format!("an array of the {} x {} matrix", m.rows(), m.cols());
        let _building = host.memory.charge(bytes, &purpose).map_err(breach_error)?;
        Ok((0..m.rows())
            .map(|row| {
                let cells = (0..m.cols())
                    .map(|col| Dynamic::from_float(m.get(row, col).unwrap_or(FLOAT::NAN)));
                Dynamic::from_array(cells.collect())
            })
            .collect())
    }

    /// A short description, used by `print`.
    ///
    /// ```rhai
    /// print(matrix(3, 4));
    /// ```
    #[rhai_fn(name = "to_string", pure)]
    pub fn describe(m: &mut Matrix) -> String {
        format!("Matrix({} x {})", m.rows(), m.cols())
    }

    /// The same description, used by `debug`.
    ///
    /// ```rhai
    /// debug(matrix(3, 4));
    /// ```
    #[rhai_fn(name = "to_debug", pure)]
    pub fn describe_debug(m: &mut Matrix) -> String {
        describe(m)
    }
}
