//! `sleep`, registered again: Rhai's blocks the thread for the whole
//! duration, deaf to the run's time limit and to an interrupt, and panics
//! on a duration too large for the clock. This one waits in short steps,
//! checking both between them, and names a bad duration as an error.

use crate::api::{script_error, stop_error};
use crate::runtime::Host;
use rhai::plugin::*;
use std::time::{Duration, Instant};

/// The longest wait between two checks of the deadline and the interrupt.
const STEP: Duration = Duration::from_millis(50);

/// A number of seconds as a duration, or why it is not one.
fn duration(seconds: f64) -> Result<Duration, Box<EvalAltResult>> {
    crate::sandbox::script_wait(seconds).ok_or_else(|| {
        script_error(
            "BadDuration",
            &format!("cannot sleep for {} seconds", readable(seconds)),
            "give a number of seconds from 0 to 86400 (one day), e.g. sleep(0.5)",
        )
    })
}

/// A number as a person reads it: `1e300` rather than its 301 digits.
fn readable(seconds: f64) -> String {
    if seconds.is_finite() && seconds.abs() >= 1e9 {
        format!("{seconds:e}")
    } else {
        seconds.to_string()
    }
}

/// Waits for `duration`, or until the run's time is up or it is interrupted.
fn wait(ctx: &NativeCallContext, duration: Duration) -> Result<(), Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let until = Instant::now() + duration;
    loop {
        host.cancel.check().map_err(stop_error)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(());
        }
        std::thread::sleep(left.min(STEP));
    }
}

#[export_module]
pub mod sleep_api {
    use super::{duration, wait};
    use rhai::{FLOAT, INT};

    /// Waits `seconds` seconds (at most a day). The wait counts against the
    /// run's time limit and ends at once on an interrupt.
    ///
    /// ```rhai
    /// sleep(0.01);
    /// ```
    #[rhai_fn(name = "sleep", return_raw, volatile)]
    pub fn sleep_seconds(ctx: NativeCallContext, seconds: FLOAT) -> Result<(), Box<EvalAltResult>> {
        wait(&ctx, duration(seconds)?)
    }

    /// Waits a whole number of seconds (at most a day).
    ///
    /// ```rhai
    /// sleep(0);
    /// ```
    #[rhai_fn(name = "sleep", return_raw, volatile)]
    pub fn sleep_whole_seconds(
        ctx: NativeCallContext,
        seconds: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        wait(&ctx, duration(seconds as FLOAT)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_durations_are_named() {
        for seconds in [-1.0, f64::NAN, f64::INFINITY, 1e300, 86_401.0] {
            let error = duration(seconds).unwrap_err();
            assert!(
                error.to_string().contains("BadDuration"),
                "{seconds}: {error}"
            );
        }
        assert_eq!(duration(0.25).unwrap(), Duration::from_millis(250));
        assert_eq!(duration(86_400.0).unwrap(), crate::sandbox::LONGEST_WAIT);
    }
}
