//! `sort` and `dedup` with a script comparer, registered again: Rhai's
//! versions ignore the comparer's errors (a comparison that fails counts as
//! "equal" or as an order of types), and with them the stop of the time
//! limit, the operation budget or an interrupt, so a run stopped inside a
//! long sort kept comparing. Here the first error ends the sort (the
//! remaining comparisons are not made) and is the call's error.

use rhai::FnPtr;
use rhai::plugin::*;
use std::cmp::Ordering;

/// A comparer's answer as an order: a number (its sign), or a boolean
/// (`true`: the first goes first), as Rhai's `sort` reads it; None for
/// any other value.
fn ordering_of(answer: &Dynamic) -> Option<Ordering> {
    if let Ok(number) = answer.as_int() {
        return Some(number.cmp(&0));
    }
    answer.as_bool().ok().map(|first| {
        if first {
            Ordering::Less
        } else {
            Ordering::Greater
        }
    })
}

/// Calls `comparer` on two items, unless an earlier call failed (then the
/// answer no longer matters and nothing is called); the first error is
/// kept in `failure`.
fn compare(
    ctx: &NativeCallContext,
    comparer: &FnPtr,
    pair: [Dynamic; 2],
    failure: &mut Option<Box<EvalAltResult>>,
) -> Option<Dynamic> {
    if failure.is_some() {
        return None;
    }
    match comparer.call_raw(ctx, None, pair) {
        Ok(answer) => Some(answer),
        Err(error) => {
            *failure = Some(error);
            None
        }
    }
}

#[export_module]
pub mod comparers_api {
    use super::{compare, ordering_of};
    use rhai::{Array, FnPtr};

    /// Sorts the array in place with `comparer(a, b)`, which returns a
    /// negative number when `a` goes first, zero when they are equal and a
    /// positive number when `b` goes first (or `true` when `a` goes first).
    /// An error inside the comparer ends the sort and is the call's error.
    ///
    /// ```rhai
    /// let clouds = [40, 5, 12];
    /// clouds.sort(|a, b| a - b);
    /// assert(clouds == [5, 12, 40], "least cloudy first");
    /// ```
    #[rhai_fn(name = "sort", name = "sort_by", return_raw)]
    pub fn sort_with(
        ctx: NativeCallContext,
        array: &mut Array,
        comparer: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        if array.len() <= 1 {
            return Ok(());
        }
        let mut failure = None;
        // A comparer that is not a total order may make the standard sort
        // panic; Rhai turns that into an error too.
        let sorted = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            array.sort_by(|x, y| {
                compare(&ctx, &comparer, [x.clone(), y.clone()], &mut failure)
                    .and_then(|answer| ordering_of(&answer))
                    .unwrap_or_else(|| x.type_id().cmp(&y.type_id()))
            })
        }));
        if let Some(error) = failure {
            return Err(error);
        }
        sorted.map_err(|_| {
            EvalAltResult::ErrorRuntime(
                "the comparer given to sort does not define an order (it says a < b and b < a)"
                    .into(),
                ctx.call_position(),
            )
            .into()
        })
    }

    /// Removes consecutive items that `comparer(a, b)` says are equal
    /// (returns `true`), keeping the first of each run. An error inside the
    /// comparer ends the call and is its error.
    ///
    /// ```rhai
    /// let dates = ["2020-08-01", "2020-08-01", "2020-08-06"];
    /// dates.dedup(|a, b| a == b);
    /// assert(dates.len == 2, "one of each date");
    /// ```
    #[rhai_fn(name = "dedup", return_raw)]
    pub fn dedup_with(
        ctx: NativeCallContext,
        array: &mut Array,
        comparer: FnPtr,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut failure = None;
        array.dedup_by(|x, y| {
            compare(&ctx, &comparer, [y.clone(), x.clone()], &mut failure)
                .and_then(|answer| answer.as_bool().ok())
                .unwrap_or(false)
        });
        match failure {
            Some(error) => Err(error),
            None => Ok(()),
        }
    }
}
