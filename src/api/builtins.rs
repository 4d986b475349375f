//! Rhai built-ins that grow a value to a length the script gives, registered
//! again so the memory quota is checked *before* they allocate.
//!
//! Script values have no per-value size limit (see `ScriptLimits`): the
//! memory quota is checked between operations instead. These functions are
//! the exception that needs more: one call could otherwise allocate any
//! amount (`s.pad(10_000_000_000, ' ')`) before the next check. Registered
//! after Rhai's standard package, they take precedence over its versions.

use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(builtins_api)
}

/// Refuses a growth of `bytes` that would not fit the memory quota.
fn check_growth(
    ctx: &NativeCallContext,
    bytes: u64,
    purpose: &str,
) -> Result<(), Box<EvalAltResult>> {
    let host = crate::runtime::Host::of(ctx)?;
    host.memory
        .charge(bytes, purpose)
        .map(drop)
        .map_err(crate::api::breach_error)
}

/// How many items a value of `current` items must gain to reach `len`.
fn growth(len: rhai::INT, current: usize) -> usize {
    usize::try_from(len).map_or(0, |len| len.saturating_sub(current))
}

#[export_module]
mod builtins_api {
    use super::{check_growth, growth};
    use rhai::{Array, Blob, INT};

    /// Pads the string to at least `len` characters with `character`.
    ///
    /// ```rhai
    /// let band = "B8";
    /// band.pad(4, '_');
    /// assert(band == "B8__", "padded to 4 characters");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_string_with_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        len: INT,
        character: char,
    ) -> Result<(), Box<EvalAltResult>> {
        let missing = growth(len, string.chars().count());
        if missing == 0 {
            return Ok(());
        }
        let bytes = (missing as u64).saturating_mul(character.len_utf8() as u64);
        check_growth(
            &ctx,
            bytes,
            &format!("padding a string to {len} characters"),
        )?;
        string
            .make_mut()
            .extend(std::iter::repeat_n(character, missing));
        Ok(())
    }

    /// Pads the string to at least `len` characters with copies of `padding`
    /// (the last copy cut to fit).
    ///
    /// ```rhai
    /// let line = "|";
    /// line.pad(6, "-=");
    /// assert(line == "|-=-=-", "padded with a pattern");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_string_with_string(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        len: INT,
        padding: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let missing = growth(len, string.chars().count());
        if missing == 0 || padding.is_empty() {
            return Ok(());
        }
        let bytes = (missing as u64).saturating_mul(padding.len() as u64);
        check_growth(
            &ctx,
            bytes,
            &format!("padding a string to {len} characters"),
        )?;
        let pattern = padding.chars().cycle().take(missing);
        string.make_mut().extend(pattern);
        Ok(())
    }

    /// Pads the array to at least `len` items with copies of `item`.
    ///
    /// ```rhai
    /// let cloud = [12.5, 3.0];
    /// cloud.pad(4, 0.0);
    /// assert(cloud == [12.5, 3.0, 0.0, 0.0], "padded to 4 items");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_array(
        ctx: NativeCallContext,
        array: &mut Array,
        len: INT,
        item: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        let missing = growth(len, array.len());
        if missing == 0 {
            return Ok(());
        }
        let bytes = (missing as u64).saturating_mul(std::mem::size_of::<Dynamic>() as u64);
        check_growth(&ctx, bytes, &format!("padding an array to {len} items"))?;
        array.resize(array.len() + missing, item);
        Ok(())
    }

    /// Pads the BLOB to at least `len` bytes with `value` (its lower 8 bits).
    ///
    /// ```rhai
    /// let header = blob(2, 0x49);
    /// header.pad(4, 0);
    /// assert(header.len() == 4, "padded to 4 bytes");
    /// ```
    #[rhai_fn(name = "pad", return_raw)]
    pub fn pad_blob(
        ctx: NativeCallContext,
        blob: &mut Blob,
        len: INT,
        value: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let missing = growth(len, blob.len());
        if missing == 0 {
            return Ok(());
        }
        check_growth(
            &ctx,
            missing as u64,
            &format!("padding a BLOB to {len} bytes"),
        )?;
        blob.resize(blob.len() + missing, (value & 0xff) as u8);
        Ok(())
    }

    /// A BLOB (byte array) of `len` zero bytes.
    ///
    /// ```rhai
    /// let bytes = blob(16);
    /// assert(bytes.len() == 16, "16 bytes");
    /// ```
    #[rhai_fn(name = "blob", return_raw)]
    pub fn blob_of_zeros(ctx: NativeCallContext, len: INT) -> Result<Blob, Box<EvalAltResult>> {
        blob_filled(ctx, len, 0)
    }

    /// A BLOB of `len` bytes, each set to `value` (its lower 8 bits).
    ///
    /// ```rhai
    /// let bytes = blob(3, 0xff);
    /// assert(bytes[2] == 255, "filled");
    /// ```
    #[rhai_fn(name = "blob", return_raw)]
    pub fn blob_filled(
        ctx: NativeCallContext,
        len: INT,
        value: INT,
    ) -> Result<Blob, Box<EvalAltResult>> {
        let len = growth(len, 0);
        check_growth(&ctx, len as u64, &format!("a BLOB of {len} bytes"))?;
        Ok(vec![(value & 0xff) as u8; len])
    }
}
