//! Printing to the error stream and checking values.

use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(console_api)
}

#[export_module]
mod console_api {
    use crate::api::script_error;
    use crate::runtime::Host;
    use crate::runtime::display::Stream;

    /// Prints a value to the error stream (stderr), followed by a new line.
    ///
    /// Use it for warnings, so that they stand apart from the results `print` writes.
    ///
    /// ```rhai
    /// eprint("warning: 2 products are offline");
    /// eprint(42);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn eprint(ctx: NativeCallContext, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let text = if value.is_string() {
            value
                .into_immutable_string()
                .unwrap_or_default()
                .to_string()
        } else {
            ctx.call_native_fn::<ImmutableString>("to_string", (value,))?
                .to_string()
        };
        host.display.stream(Stream::Stderr, &format!("{text}\n"));
        Ok(())
    }

    /// Stops with an `AssertionFailed` error carrying `message` unless `condition` is true.
    ///
    /// ```rhai
    /// let ndvi = 0.42;
    /// assert(ndvi >= -1.0 && ndvi <= 1.0, "NDVI must lie in [-1, 1]");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn assert(condition: bool, message: &str) -> Result<(), Box<EvalAltResult>> {
        if condition {
            Ok(())
        } else {
            Err(script_error("AssertionFailed", message, ""))
        }
    }
}
