//! The text of arrays, maps and BLOBs (`print`, `debug`, `to_string`,
//! `to_debug`, `to_json`, and a string's `+`), charged before it is built:
//! a BLOB's text is twice its size, an array's can be larger than the
//! array. And `parse_json`, whose values are checked as they are made.

use super::sizes;
use rhai::plugin::*;
use rhai::{Array, Blob, ImmutableString, Map};
use std::fmt::Write;

/// Charges a text of `len` bytes, `what` ("an array"), before it is made.
fn charge_text(ctx: &NativeCallContext, len: u64, what: &str) -> Result<(), Box<EvalAltResult>> {
    super::check_growth(ctx, sizes::string_value(len as usize), || {
        format!("the text of {what} ({})", crate::sandbox::human_bytes(len))
    })
}

/// An item's text inside an array or a map: its registered `to_debug` (as
/// Rhai's own formatting does, so custom types describe themselves).
fn debug_text(
    ctx: &NativeCallContext,
    item: &mut Dynamic,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    let result = ctx.call_native_fn_raw("to_debug", true, &mut [item])?;
    Ok(match result.into_immutable_string() {
        Ok(text) => text,
        Err(type_name) => ctx.engine().map_type_name(type_name).into(),
    })
}

/// `[a, b, c]`, as Rhai writes an array.
fn array_text(
    ctx: &NativeCallContext,
    array: &mut Array,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    let mut text = rhai::Identifier::from("[");
    for (i, item) in array.iter_mut().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        text.push_str(&debug_text(ctx, item)?);
    }
    text.push(']');
    Ok(finished(text))
}

/// `#{"a": 1, "b": 2}`, as Rhai writes a map.
fn map_text(ctx: &NativeCallContext, map: &mut Map) -> Result<ImmutableString, Box<EvalAltResult>> {
    let mut text = rhai::Identifier::from("#{");
    for (i, (key, item)) in map.iter_mut().enumerate() {
        if i > 0 {
            text.push_str(", ");
        }
        write!(text, "{key:?}: {}", debug_text(ctx, item)?).expect("writing to a string");
    }
    text.push('}');
    Ok(finished(text))
}

/// `[0102030405060708 090a]`, as Rhai writes a BLOB.
fn blob_text(blob: &Blob) -> ImmutableString {
    let mut text = rhai::Identifier::from("[");
    for (i, byte) in blob.iter().enumerate() {
        if i > 0 && i % 8 == 0 {
            text.push(' ');
        }
        write!(text, "{byte:02x}").expect("writing to a string");
    }
    text.push(']');
    finished(text)
}

/// A string built in place becomes a script string without a copy (see
/// `strings::built`), trimmed to its length.
fn finished(mut text: rhai::Identifier) -> ImmutableString {
    text.shrink_to_fit();
    text.into()
}

#[export_module]
pub mod text_api {
    use super::{array_text, blob_text, charge_text, map_text};
    use crate::api::builtins::{json, sizes};
    use rhai::{Array, Blob, ImmutableString, Map};

    /// The array as text: `[1, 2.5, "three"]` (what `print` shows).
    ///
    /// ```rhai
    /// assert([1, "two"].to_string() == "[1, \"two\"]", "the array's text");
    /// ```
    #[rhai_fn(
        name = "print",
        name = "to_string",
        name = "debug",
        name = "to_debug",
        return_raw,
        pure
    )]
    pub fn format_array(
        ctx: NativeCallContext,
        array: &mut Array,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        charge_text(&ctx, sizes::text_of_array(array), "an array")?;
        array_text(&ctx, array)
    }

    /// The map as text: `#{"cloud": 12.5, "tile": "T32TQM"}` (what `print` shows).
    ///
    /// ```rhai
    /// assert(#{ a: 1 }.to_string() == "#{\"a\": 1}", "the map's text");
    /// ```
    #[rhai_fn(
        name = "print",
        name = "to_string",
        name = "debug",
        name = "to_debug",
        return_raw,
        pure
    )]
    pub fn format_map(
        ctx: NativeCallContext,
        map: &mut Map,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        charge_text(&ctx, sizes::text_of_map(map), "a map")?;
        map_text(&ctx, map)
    }

    /// The BLOB as text: two hex digits a byte, `[4949 2a00]`.
    ///
    /// ```rhai
    /// assert(blob(2, 0x49).to_string() == "[4949]", "the BLOB's text");
    /// ```
    #[rhai_fn(
        name = "print",
        name = "to_string",
        name = "debug",
        name = "to_debug",
        return_raw,
        pure
    )]
    pub fn format_blob(
        ctx: NativeCallContext,
        blob: &mut Blob,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        charge_text(&ctx, sizes::blob_text(blob.len()), "a BLOB")?;
        Ok(blob_text(blob))
    }

    /// The map as JSON text.
    ///
    /// ```rhai
    /// assert(#{ cloud: 12.5 }.to_json() == `{"cloud":12.5}`, "JSON");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn to_json(ctx: NativeCallContext, map: &mut Map) -> Result<String, Box<EvalAltResult>> {
        // JSON text is about as long as the map's own text; it is made as a
        // `String`, then copied into a script string.
        charge_text(&ctx, 2 * sizes::text_of_map(map), "a map as JSON")?;
        let sorted: std::collections::BTreeMap<&str, &Dynamic> =
            map.iter().map(|(k, v)| (k.as_str(), v)).collect();
        Ok(serde_json::to_string(&sorted).unwrap_or_else(|_| "ERROR".into()))
    }

    /// Parses JSON text into maps, arrays, strings and numbers (nested at
    /// most 64 levels deep).
    ///
    /// ```rhai
    /// let aoi = parse_json(`{"name": "Etna", "bbox": [14.8, 37.6, 15.2, 37.9]}`);
    /// assert(aoi.bbox.len() == 4, "parsed");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn parse_json(ctx: NativeCallContext, text: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let host = crate::runtime::Host::of(&ctx)?;
        json::parse(text, &host.memory, "parsing JSON")
            .map_err(|error| crate::api::builtins::json_error(error, "the text"))
    }
}
