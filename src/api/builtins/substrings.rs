//! Parts of a string: `sub_string`, `crop`, `trim` and `truncate`,
//! registered again. Rhai's `sub_string` and `crop` first copy the whole
//! string into an array of characters (four bytes each, so 400 MB for a
//! 100 MB string), and its `trim` and `truncate` copy a string another value
//! shares before they shorten it. These find the part's bytes where they
//! lie and copy only them, charged first.
//!
//! Positions count characters, as in Rhai: a negative start counts from the
//! end (`-1` is the last character), a start before the beginning is the
//! beginning, and a part that runs past the end stops there.

use super::check_growth;
use super::sizes;
use super::strings::built;
use crate::sandbox::human_bytes;
use rhai::plugin::*;
use rhai::{INT, ImmutableString};
use std::ops::Range;

/// The bytes of `string` that `len` characters from character `start` cover
/// (empty when the part is).
fn part(string: &str, start: INT, len: INT) -> Range<usize> {
    if string.is_empty() || len <= 0 {
        return 0..0;
    }
    let count = string.chars().count();
    let first = if start < 0 {
        let back = usize::try_from(start.unsigned_abs()).unwrap_or(usize::MAX);
        count.saturating_sub(back)
    } else {
        match usize::try_from(start) {
            Ok(start) if start < count => start,
            _ => return 0..0,
        }
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX);
    let last = first.saturating_add(len).min(count);
    byte_of(string, first)..byte_of(string, last)
}

/// Where character `index` starts (the string's length for its end).
fn byte_of(string: &str, index: usize) -> usize {
    string
        .char_indices()
        .nth(index)
        .map_or(string.len(), |(byte, _)| byte)
}

/// Rhai's reading of `start..end` as a start and a length.
fn from_range(range: &std::ops::Range<INT>) -> (INT, INT) {
    let start = range.start.max(0);
    (start, range.end.max(start) - start)
}

/// Rhai's reading of `start..=end` as a start and a length.
fn from_inclusive(range: &std::ops::RangeInclusive<INT>) -> (INT, INT) {
    let start = (*range.start()).max(0);
    let end = (*range.end()).max(start).min(INT::MAX - 1);
    (start, end - start + 1)
}

/// `bytes` of `string` as a new string, charged before it is copied.
fn copied(
    ctx: &NativeCallContext,
    string: &str,
    bytes: Range<usize>,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    if bytes.is_empty() {
        return Ok(ctx.engine().const_empty_string());
    }
    let len = bytes.len();
    check_growth(ctx, sizes::string_value(len), || {
        format!("a part of a string ({})", human_bytes(len as u64))
    })?;
    Ok(built([&string[bytes]]))
}

/// Keeps only `bytes` of `string` (nothing is copied when that is all of it).
fn keep(
    ctx: &NativeCallContext,
    string: &mut ImmutableString,
    bytes: Range<usize>,
) -> Result<(), Box<EvalAltResult>> {
    if bytes.len() != string.len() {
        *string = copied(ctx, string, bytes)?;
    }
    Ok(())
}

#[export_module]
pub mod substrings_api {
    use super::{copied, from_inclusive, from_range, keep, part};
    use rhai::{INT, ImmutableString};

    /// The `len` characters from character `start` (negative: from the end)
    /// as a new string.
    ///
    /// ```rhai
    /// let name = "S2A_MSIL2A_20200811T101031";
    /// assert(name.sub_string(4, 6) == "MSIL2A", "the product level");
    /// assert(name.sub_string(-6, 2) == "10", "counted from the end");
    /// ```
    #[rhai_fn(name = "sub_string", return_raw)]
    pub fn sub_string(
        ctx: NativeCallContext,
        string: ImmutableString,
        start: INT,
        len: INT,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        copied(&ctx, &string, part(&string, start, len))
    }

    /// The characters from `start` (negative: from the end) to the end.
    ///
    /// ```rhai
    /// assert("T32TQM".sub_string(3) == "TQM", "the tile's square");
    /// ```
    #[rhai_fn(name = "sub_string", return_raw)]
    pub fn sub_string_from(
        ctx: NativeCallContext,
        string: ImmutableString,
        start: INT,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        copied(&ctx, &string, part(&string, start, INT::MAX))
    }

    /// The characters in a range (`start..end`).
    ///
    /// ```rhai
    /// assert("20200811T101031".sub_string(0..8) == "20200811", "the date");
    /// ```
    #[rhai_fn(name = "sub_string", return_raw)]
    pub fn sub_string_range(
        ctx: NativeCallContext,
        string: ImmutableString,
        range: std::ops::Range<INT>,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        let (start, len) = from_range(&range);
        copied(&ctx, &string, part(&string, start, len))
    }

    /// The characters in an inclusive range (`start..=end`).
    ///
    /// ```rhai
    /// assert("20200811T101031".sub_string(0..=3) == "2020", "the year");
    /// ```
    #[rhai_fn(name = "sub_string", return_raw)]
    pub fn sub_string_inclusive_range(
        ctx: NativeCallContext,
        string: ImmutableString,
        range: std::ops::RangeInclusive<INT>,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        let (start, len) = from_inclusive(&range);
        copied(&ctx, &string, part(&string, start, len))
    }

    /// Keeps only the `len` characters from character `start` (negative:
    /// from the end).
    ///
    /// ```rhai
    /// let tile = "T32TQM";
    /// tile.crop(1, 2);
    /// assert(tile == "32", "the UTM zone");
    /// ```
    #[rhai_fn(name = "crop", return_raw)]
    pub fn crop(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        start: INT,
        len: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let bytes = part(string, start, len);
        keep(&ctx, string, bytes)
    }

    /// Keeps only the characters from `start` (negative: from the end).
    ///
    /// ```rhai
    /// let band = "B08_10m";
    /// band.crop(-3);
    /// assert(band == "10m", "the resolution");
    /// ```
    #[rhai_fn(name = "crop", return_raw)]
    pub fn crop_from(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        start: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let bytes = part(string, start, INT::MAX);
        keep(&ctx, string, bytes)
    }

    /// Keeps only the characters in a range (`start..end`).
    ///
    /// ```rhai
    /// let date = "20200811T101031";
    /// date.crop(0..8);
    /// assert(date == "20200811", "the date");
    /// ```
    #[rhai_fn(name = "crop", return_raw)]
    pub fn crop_range(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        range: std::ops::Range<INT>,
    ) -> Result<(), Box<EvalAltResult>> {
        let (start, len) = from_range(&range);
        let bytes = part(string, start, len);
        keep(&ctx, string, bytes)
    }

    /// Keeps only the characters in an inclusive range (`start..=end`).
    ///
    /// ```rhai
    /// let date = "20200811T101031";
    /// date.crop(0..=3);
    /// assert(date == "2020", "the year");
    /// ```
    #[rhai_fn(name = "crop", return_raw)]
    pub fn crop_inclusive_range(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        range: std::ops::RangeInclusive<INT>,
    ) -> Result<(), Box<EvalAltResult>> {
        let (start, len) = from_inclusive(&range);
        let bytes = part(string, start, len);
        keep(&ctx, string, bytes)
    }

    /// Removes white space from both ends of the string.
    ///
    /// ```rhai
    /// let line = "  S2A_MSIL2A  ";
    /// line.trim();
    /// assert(line == "S2A_MSIL2A", "trimmed");
    /// ```
    #[rhai_fn(name = "trim", return_raw)]
    pub fn trim(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
    ) -> Result<(), Box<EvalAltResult>> {
        let trimmed = string.trim();
        let start = trimmed.as_ptr() as usize - string.as_ptr() as usize;
        let bytes = start..start + trimmed.len();
        keep(&ctx, string, bytes)
    }

    /// Keeps the first `len` characters (none when `len` ≤ 0).
    ///
    /// ```rhai
    /// let id = "S2A_MSIL2A_20200811";
    /// id.truncate(3);
    /// assert(id == "S2A", "the satellite");
    /// ```
    #[rhai_fn(name = "truncate", return_raw)]
    pub fn truncate(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        len: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        let bytes = part(string, 0, len);
        keep(&ctx, string, bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::{from_inclusive, from_range, part};

    /// Rhai's examples and edge cases, as byte ranges of the same text.
    #[test]
    fn parts_count_characters_as_rhai_does() {
        let text = "hello, world!";
        let slice = |(start, len)| &text[part(text, start, len)];
        assert_eq!(slice((3, 4)), "lo, ");
        assert_eq!(slice((-8, 3)), ", w");
        assert_eq!(slice((5, i64::MAX)), ", world!");
        assert_eq!(slice((-5, i64::MAX)), "orld!");
        assert_eq!(slice((-100, 5)), "hello");
        assert_eq!(slice((13, 2)), "");
        assert_eq!(slice((2, 0)), "");
        assert_eq!(slice((2, -1)), "");
        assert_eq!(slice(from_range(&(3..7))), "lo, ");
        assert_eq!(slice(from_inclusive(&(3..=7))), "lo, w");
        let (start, end) = (7, 3);
        assert_eq!(
            slice(from_range(&(start..end))),
            "",
            "a reversed range is empty"
        );
    }

    #[test]
    fn parts_of_wide_characters_are_whole_characters() {
        let text = "aßcΩe";
        assert_eq!(&text[part(text, 1, 3)], "ßcΩ");
        assert_eq!(&text[part(text, -2, 1)], "Ω");
    }
}
