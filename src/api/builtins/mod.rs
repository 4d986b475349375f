//! Rhai built-ins registered again so that the sandbox holds inside a
//! single call: those whose allocation grows with their input charge the
//! memory quota *before* they allocate, and `sleep` waits under the run's
//! deadline and the interrupt.
//!
//! Script values have no per-value size limit (see `ScriptLimits`): the
//! memory quota is checked between operations instead (`runtime/guard.rs`).
//! These functions are the exception that needs more: one call could
//! otherwise allocate any amount before the next check
//! (`s.pad(10_000_000_000, ' ')`, `s.split("")`, `s + s`, `print(big)`).
//! Registered after Rhai's standard packages, they take precedence over its
//! versions; the operators among them (`+`, `+=`) are reached because the
//! session turns Rhai's fast operators off (`runtime/session.rs`).
//!
//! Each keeps the meaning of Rhai's version; only the charge is new (and,
//! for `chars`, that characters are no longer copied out first).

mod collections;
mod comparers;
pub(crate) mod json;
pub(crate) mod sizes;
mod sleep;
mod strings;
mod substrings;
mod text;

use crate::runtime::Host;
use rhai::plugin::*;

pub fn module() -> Module {
    let mut module = exported_module!(strings::strings_api);
    module.combine_flatten(exported_module!(collections::collections_api));
    module.combine_flatten(exported_module!(text::text_api));
    module.combine_flatten(exported_module!(comparers::comparers_api));
    module.combine_flatten(exported_module!(substrings::substrings_api));
    module.combine_flatten(exported_module!(sleep::sleep_api));
    strings::register_iterators(&mut module);
    module
}

/// Growth smaller than this is left to the guard, which looks at the memory
/// between every two operations (a charge costs more than such a step).
const SMALL_GROWTH: u64 = 64 * 1024;

/// Refuses a growth of `bytes` that would not fit the memory quota;
/// `purpose` says what was being made ("a string of 1.0 GiB").
pub(crate) fn check_growth(
    ctx: &NativeCallContext,
    bytes: u64,
    purpose: impl FnOnce() -> String,
) -> Result<(), Box<EvalAltResult>> {
    if bytes < SMALL_GROWTH {
        return Ok(());
    }
    let host = Host::of(ctx)?;
    host.memory
        .check(bytes, &purpose())
        .map_err(crate::api::breach_error)
}

/// How many items a value of `current` items must gain to reach `len`.
fn growth(len: rhai::INT, current: usize) -> usize {
    usize::try_from(len).map_or(0, |len| len.saturating_sub(current))
}

/// A JSON parse that failed, as a script error; `what` names the text
/// ("\"resources/aoi.json\"").
pub(crate) fn json_error(error: json::JsonError, what: &str) -> Box<EvalAltResult> {
    match error {
        json::JsonError::Syntax(message) => crate::api::script_error(
            "BadFileContent",
            &format!("{what} is not valid JSON: {message}"),
            "check the text around that place; JSON needs double quotes and no trailing commas",
        ),
        json::JsonError::TooDeep => crate::api::script_error(
            "BadFileContent",
            &format!(
                "{what} nests arrays and objects more than {} levels deep",
                json::MAX_DEPTH
            ),
            "JSON this deep is not data a script needs; check where it comes from",
        ),
        json::JsonError::Memory(breach) => crate::api::breach_error(breach),
    }
}
