//! String built-ins whose result grows with their input: joining
//! (`+`, `+=`, `append`), padding, case changes, replacing, splitting into
//! arrays, and iterating over characters (without copying them first).

use super::{check_growth, sizes};
use crate::sandbox::human_bytes;
use rhai::plugin::*;
use rhai::{Array, INT, ImmutableString};

/// The text `+` and `print` give a value: the string itself, or what its
/// `to_string` returns (the registered one for its type, so arrays, maps and
/// BLOBs charge their own conversion).
pub(super) fn text_of(
    ctx: &NativeCallContext,
    item: &mut Dynamic,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    if let Some(text) = item.read_lock::<ImmutableString>() {
        return Ok(text.clone());
    }
    let result = ctx.call_native_fn_raw("to_string", true, &mut [item])?;
    Ok(match result.into_immutable_string() {
        Ok(text) => text,
        Err(type_name) => ctx.engine().map_type_name(type_name).into(),
    })
}

/// A string value made of `pieces`, built in place: converting a `String`
/// into a script string copies it (the string type has no constructor that
/// takes the buffer over), which would need twice the memory for a moment.
/// The buffer grows by reallocation, which leaves new pages untouched, and
/// is trimmed to its length at the end.
pub(super) fn built<'a>(pieces: impl IntoIterator<Item = &'a str>) -> ImmutableString {
    let mut text = rhai::Identifier::new();
    for piece in pieces {
        text.push_str(piece);
    }
    text.shrink_to_fit();
    text.into()
}

/// `left` then `right` as a new string, charged before it is built.
fn joined(
    ctx: &NativeCallContext,
    left: &str,
    right: &str,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    let len = left.len() + right.len();
    check_growth(ctx, sizes::string_value(len), || {
        format!("a string of {}", human_bytes(len as u64))
    })?;
    Ok(built([left, right]))
}

/// Appends `extra` to `string`, charging what that allocates first. A
/// string no other value shares grows in place, with room to spare (as
/// Rhai's does, so appending in a loop stays linear); a shared one is
/// copied once, at its new length.
fn append(
    ctx: &NativeCallContext,
    string: &mut ImmutableString,
    extra: &str,
) -> Result<(), Box<EvalAltResult>> {
    if extra.is_empty() {
        return Ok(());
    }
    let len = string.len() + extra.len();
    check_growth(ctx, appending_cost(string, len), || {
        format!("a string of {}", human_bytes(len as u64))
    })?;
    if string.strong_count() > 1 {
        *string = built([string.as_str(), extra]);
    } else {
        string.make_mut().push_str(extra);
    }
    Ok(())
}

/// What growing `string` to `len` bytes allocates (see [`append`]): a copy
/// at the new length, or the growth of an unshared string's buffer (which
/// doubles until it fits).
fn appending_cost(string: &ImmutableString, len: usize) -> u64 {
    if string.strong_count() > 1 {
        return sizes::string_value(len);
    }
    let text: &rhai::Identifier = string.as_ref();
    let mut capacity = text.capacity();
    let before = capacity;
    while capacity < len {
        capacity *= 2;
    }
    sizes::vector(capacity, 1).saturating_sub(sizes::vector(before, 1))
}

/// What a case change of `text` allocates: a new string as long, or up to
/// three times as long when some characters change length (`ß` → `SS`);
/// made as a `String` first, so twice that for a moment.
fn case_change_cost(text: &str) -> u64 {
    let factor = if text.is_ascii() { 1 } else { 3 };
    2 * sizes::string_value(text.len() * factor)
}

/// `text` with every `find` replaced by `substitute` (what `str::replace`
/// gives), charged at its exact length first.
fn replaced(
    ctx: &NativeCallContext,
    text: &str,
    find: &str,
    substitute: &str,
) -> Result<ImmutableString, Box<EvalAltResult>> {
    let matches = text.matches(find).count();
    let len = text.len() - matches * find.len() + matches * substitute.len();
    check_growth(ctx, sizes::string_value(len), || {
        format!(
            "replacing {matches} matches (a string of {})",
            human_bytes(len as u64)
        )
    })?;
    // Built in place, as `built` does.
    let mut out = rhai::Identifier::new();
    let mut last = 0;
    for (start, part) in text.match_indices(find) {
        out.push_str(&text[last..start]);
        out.push_str(substitute);
        last = start + part.len();
    }
    out.push_str(&text[last..]);
    out.shrink_to_fit();
    Ok(out.into())
}

/// The pieces of a split as an array of strings, charged before it is built.
fn pieces<'a>(
    ctx: &NativeCallContext,
    pieces: impl Iterator<Item = &'a str> + Clone,
) -> Result<Array, Box<EvalAltResult>> {
    let (count, text_bytes) = pieces.clone().fold((0usize, 0u64), |(n, bytes), piece| {
        (
            n + 1,
            bytes.saturating_add(sizes::string_value(piece.len())),
        )
    });
    check_growth(ctx, sizes::array(count).saturating_add(text_bytes), || {
        format!("an array of {count} pieces of a string")
    })?;
    let mut array = Array::with_capacity(count);
    array.extend(pieces.map(|piece| Dynamic::from(ImmutableString::from(piece))));
    Ok(array)
}

/// A split as Rhai makes it: the string whole when it is empty or `splits`
/// is false (no delimiter in it, fewer than 2 segments asked), else the
/// pieces `split` cuts it into, charged first.
fn split_into<'a, I: Iterator<Item = &'a str> + Clone>(
    ctx: &NativeCallContext,
    string: &'a ImmutableString,
    splits: bool,
    split: impl FnOnce(&'a str) -> I,
) -> Result<Array, Box<EvalAltResult>> {
    if string.is_empty() || !splits {
        return Ok(vec![string.clone().into()]);
    }
    pieces(ctx, split(string.as_str()))
}

/// Whether `string` holds `delimiter` (the empty delimiter is everywhere).
fn holds(string: &str, delimiter: &str) -> bool {
    delimiter.is_empty() || string.contains(delimiter)
}

/// How many pieces `segments` allows.
fn segments_of(segments: INT) -> usize {
    usize::try_from(segments).unwrap_or(usize::MAX)
}

/// A string's characters, one at a time, starting at a byte offset.
#[derive(Debug, Clone)]
pub struct Chars {
    text: ImmutableString,
    at: usize,
    left: usize,
}

impl Chars {
    /// Up to `len` characters from character `from` (negative: counted from
    /// the end), as Rhai's `chars` takes them.
    pub fn new(text: ImmutableString, from: INT, len: INT) -> Self {
        let left = usize::try_from(len).unwrap_or(0);
        let skip = match usize::try_from(from) {
            Ok(from) => from,
            Err(_) => {
                let from_end = usize::try_from(from.unsigned_abs()).unwrap_or(usize::MAX);
                text.chars().count().saturating_sub(from_end)
            }
        };
        let at = text
            .char_indices()
            .nth(skip)
            .map_or(text.len(), |(at, _)| at);
        Self { text, at, left }
    }
}

impl Iterator for Chars {
    type Item = char;

    fn next(&mut self) -> Option<char> {
        if self.left == 0 {
            return None;
        }
        let next = self.text[self.at..].chars().next()?;
        self.at += next.len_utf8();
        self.left -= 1;
        Some(next)
    }
}

/// Makes `for c in text` and `for c in text.chars()` walk the string
/// without copying its characters first.
pub(super) fn register_iterators(module: &mut Module) {
    module.set_iterator::<Chars>();
    module.set_iter(std::any::TypeId::of::<ImmutableString>(), |value| {
        let text = value.cast::<ImmutableString>();
        Box::new(Chars::new(text, 0, INT::MAX).map(Dynamic::from))
    });
}

#[export_module]
pub mod strings_api {
    use super::{
        Chars, append, case_change_cost, holds, joined, replaced, segments_of, split_into, text_of,
    };
    use crate::api::builtins::{check_growth, growth, sizes};
    use rhai::{Array, Blob, INT, ImmutableString};
    use std::ops::{Range, RangeInclusive};

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
        check_growth(&ctx, bytes, || {
            format!("padding a string to {len} characters")
        })?;
        let text = string.make_mut();
        text.extend(std::iter::repeat_n(character, missing));
        text.shrink_to_fit();
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
        check_growth(&ctx, bytes, || {
            format!("padding a string to {len} characters")
        })?;
        let pattern = padding.chars().cycle().take(missing);
        let text = string.make_mut();
        text.extend(pattern);
        text.shrink_to_fit();
        Ok(())
    }

    /// Joins two strings into a new one.
    ///
    /// ```rhai
    /// let name = "S2A" + "_MSIL2A";
    /// assert(name == "S2A_MSIL2A", "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_strings(
        ctx: NativeCallContext,
        left: &str,
        right: &str,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        joined(&ctx, left, right)
    }

    /// A string followed by a character.
    ///
    /// ```rhai
    /// assert("B0" + '8' == "B08", "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_string_char(
        ctx: NativeCallContext,
        left: &str,
        right: char,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        joined(&ctx, left, right.encode_utf8(&mut [0; 4]))
    }

    /// A character followed by a string.
    ///
    /// ```rhai
    /// assert('B' + "08" == "B08", "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_char_string(
        ctx: NativeCallContext,
        left: char,
        right: &str,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        joined(&ctx, left.encode_utf8(&mut [0; 4]), right)
    }

    /// A string followed by any value's text (its `to_string`).
    ///
    /// ```rhai
    /// let label = "cloud cover " + 12.5;
    /// assert(label == "cloud cover 12.5", "a number's text");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn join_string_value(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        mut item: Dynamic,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        let text = text_of(&ctx, &mut item)?;
        if text.is_empty() {
            return Ok(string.clone());
        }
        joined(&ctx, string, &text)
    }

    /// Any value's text (its `to_string`) followed by a string.
    ///
    /// ```rhai
    /// let label = 10 + " m";
    /// assert(label == "10 m", "a number's text first");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_value_string(
        ctx: NativeCallContext,
        item: &mut Dynamic,
        string: &str,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        let text = text_of(&ctx, item)?;
        if string.is_empty() {
            return Ok(text);
        }
        joined(&ctx, &text, string)
    }

    /// A string followed by the text of a BLOB of UTF-8 bytes (invalid
    /// bytes become `�`).
    ///
    /// ```rhai
    /// let b = blob(); b.append("day");
    /// assert("to" + b == "today", "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_string_blob(
        ctx: NativeCallContext,
        string: ImmutableString,
        utf8: Blob,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        if utf8.is_empty() {
            return Ok(string);
        }
        joined(&ctx, &string, &String::from_utf8_lossy(&utf8))
    }

    /// The text of a BLOB of UTF-8 bytes followed by a string.
    ///
    /// ```rhai
    /// let b = blob(); b.append("to");
    /// assert(b + "day" == "today", "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw)]
    pub fn join_blob_string(
        ctx: NativeCallContext,
        utf8: Blob,
        string: &str,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        joined(&ctx, &String::from_utf8_lossy(&utf8), string)
    }

    /// Appends a string.
    ///
    /// ```rhai
    /// let log = "run 1";
    /// log += "; run 2";
    /// assert(log == "run 1; run 2", "appended");
    /// ```
    #[rhai_fn(name = "+=", return_raw)]
    pub fn append_string(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        other: ImmutableString,
    ) -> Result<(), Box<EvalAltResult>> {
        if string.is_empty() {
            // Nothing to copy: the two values share the text.
            *string = other;
            return Ok(());
        }
        append(&ctx, string, &other)
    }

    /// Appends a character.
    ///
    /// ```rhai
    /// let band = "B0";
    /// band += '8';
    /// assert(band == "B08", "appended");
    /// ```
    #[rhai_fn(name = "+=", return_raw)]
    pub fn append_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        character: char,
    ) -> Result<(), Box<EvalAltResult>> {
        append(&ctx, string, character.encode_utf8(&mut [0; 4]))
    }

    /// Appends any value's text (its `to_string`).
    ///
    /// ```rhai
    /// let line = "ships: ";
    /// line += 12;
    /// line.append(" on ");
    /// line.append([1, 2]);
    /// assert(line == "ships: 12 on [1, 2]", "appended");
    /// ```
    #[rhai_fn(name = "+=", name = "append", return_raw)]
    pub fn append_value(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        mut item: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        let text = text_of(&ctx, &mut item)?;
        append(&ctx, string, &text)
    }

    /// Appends the text of a BLOB of UTF-8 bytes.
    ///
    /// ```rhai
    /// let b = blob(); b.append("day");
    /// let s = "to";
    /// s += b;
    /// assert(s == "today", "appended");
    /// ```
    #[rhai_fn(name = "+=", name = "append", return_raw)]
    pub fn append_blob(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        utf8: Blob,
    ) -> Result<(), Box<EvalAltResult>> {
        append(&ctx, string, &String::from_utf8_lossy(&utf8))
    }

    /// The string in upper case.
    ///
    /// ```rhai
    /// assert("b8a".to_upper() == "B8A", "upper case");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_upper(
        ctx: NativeCallContext,
        string: ImmutableString,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        if string.chars().all(char::is_uppercase) {
            return Ok(string);
        }
        check_growth(&ctx, case_change_cost(&string), || {
            "a string in upper case".into()
        })?;
        Ok(string.to_uppercase().into())
    }

    /// Turns the string to upper case.
    ///
    /// ```rhai
    /// let band = "b8a";
    /// band.make_upper();
    /// assert(band == "B8A", "upper case");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn make_upper(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
    ) -> Result<(), Box<EvalAltResult>> {
        if string.is_empty() || string.chars().all(char::is_uppercase) {
            return Ok(());
        }
        check_growth(&ctx, case_change_cost(string), || {
            "a string in upper case".into()
        })?;
        *string = string.to_uppercase().into();
        Ok(())
    }

    /// The string in lower case.
    ///
    /// ```rhai
    /// assert("S2A".to_lower() == "s2a", "lower case");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_lower(
        ctx: NativeCallContext,
        string: ImmutableString,
    ) -> Result<ImmutableString, Box<EvalAltResult>> {
        if string.is_empty() || string.chars().all(char::is_lowercase) {
            return Ok(string);
        }
        check_growth(&ctx, case_change_cost(&string), || {
            "a string in lower case".into()
        })?;
        Ok(string.to_lowercase().into())
    }

    /// Turns the string to lower case.
    ///
    /// ```rhai
    /// let mission = "S2A";
    /// mission.make_lower();
    /// assert(mission == "s2a", "lower case");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn make_lower(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
    ) -> Result<(), Box<EvalAltResult>> {
        if string.is_empty() || string.chars().all(char::is_lowercase) {
            return Ok(());
        }
        check_growth(&ctx, case_change_cost(string), || {
            "a string in lower case".into()
        })?;
        *string = string.to_lowercase().into();
        Ok(())
    }

    /// Replaces every `find` in the string by `substitute`.
    ///
    /// ```rhai
    /// let name = "S2A_MSIL1C";
    /// name.replace("L1C", "L2A");
    /// assert(name == "S2A_MSIL2A", "replaced");
    /// ```
    #[rhai_fn(name = "replace", return_raw)]
    pub fn replace_string(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        find: &str,
        substitute: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        if !string.is_empty() {
            *string = replaced(&ctx, string, find, substitute)?;
        }
        Ok(())
    }

    /// Replaces every `find` in the string by a character.
    ///
    /// ```rhai
    /// let date = "2020-08-18";
    /// date.replace("-", '/');
    /// assert(date == "2020/08/18", "replaced");
    /// ```
    #[rhai_fn(name = "replace", return_raw)]
    pub fn replace_string_with_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        find: &str,
        substitute: char,
    ) -> Result<(), Box<EvalAltResult>> {
        if !string.is_empty() {
            *string = replaced(&ctx, string, find, substitute.encode_utf8(&mut [0; 4]))?;
        }
        Ok(())
    }

    /// Replaces every `find` character in the string by a string.
    ///
    /// ```rhai
    /// let path = "output/a.tif";
    /// path.replace('/', " / ");
    /// assert(path == "output / a.tif", "replaced");
    /// ```
    #[rhai_fn(name = "replace", return_raw)]
    pub fn replace_char_with_string(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        find: char,
        substitute: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        if !string.is_empty() {
            *string = replaced(&ctx, string, find.encode_utf8(&mut [0; 4]), substitute)?;
        }
        Ok(())
    }

    /// Replaces every `find` character in the string by another.
    ///
    /// ```rhai
    /// let date = "2020-08-18";
    /// date.replace('-', '_');
    /// assert(date == "2020_08_18", "replaced");
    /// ```
    #[rhai_fn(name = "replace", return_raw)]
    pub fn replace_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        find: char,
        substitute: char,
    ) -> Result<(), Box<EvalAltResult>> {
        if !string.is_empty() {
            let (mut find_buffer, mut substitute_buffer) = ([0; 4], [0; 4]);
            *string = replaced(
                &ctx,
                string,
                find.encode_utf8(&mut find_buffer),
                substitute.encode_utf8(&mut substitute_buffer),
            )?;
        }
        Ok(())
    }

    /// The characters of the string, as an array.
    ///
    /// ```rhai
    /// assert("B8A".to_chars() == ['B', '8', 'A'], "three characters");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_chars(ctx: NativeCallContext, string: &str) -> Result<Array, Box<EvalAltResult>> {
        let count = string.chars().count();
        check_growth(&ctx, sizes::array(count), || {
            format!("an array of {count} characters")
        })?;
        let mut array = Array::with_capacity(count);
        array.extend(string.chars().map(Dynamic::from));
        Ok(array)
    }

    /// The pieces of the string between its whitespace.
    ///
    /// ```rhai
    /// assert("S2A  MSIL2A\tT32TQM".split() == ["S2A", "MSIL2A", "T32TQM"], "three words");
    /// ```
    #[rhai_fn(name = "split", return_raw, pure)]
    pub fn split_whitespace(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
    ) -> Result<Array, Box<EvalAltResult>> {
        split_into(&ctx, string, true, str::split_whitespace)
    }

    /// The pieces of the string between each `delimiter` (`""`: between
    /// every two characters, and empty pieces at both ends).
    ///
    /// ```rhai
    /// assert("a,b,c".split(",") == ["a", "b", "c"], "three pieces");
    /// ```
    #[rhai_fn(name = "split", return_raw, pure)]
    pub fn split(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = holds(string, delimiter);
        split_into(&ctx, string, splits, |s| s.split(delimiter))
    }

    /// At most `segments` pieces of the string between `delimiter`s (the
    /// last piece keeps the rest).
    ///
    /// ```rhai
    /// assert("a,b,c".split(",", 2) == ["a", "b,c"], "two pieces");
    /// ```
    #[rhai_fn(name = "split", return_raw, pure)]
    pub fn split_n(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: &str,
        segments: INT,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = segments > 1 && holds(string, delimiter);
        split_into(&ctx, string, splits, |s| {
            s.splitn(segments_of(segments), delimiter)
        })
    }

    /// The pieces of the string between each `delimiter` character.
    ///
    /// ```rhai
    /// assert("2020-08-18".split('-') == ["2020", "08", "18"], "three pieces");
    /// ```
    #[rhai_fn(name = "split", return_raw, pure)]
    pub fn split_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: char,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = string.contains(delimiter);
        split_into(&ctx, string, splits, |s| s.split(delimiter))
    }

    /// At most `segments` pieces of the string between `delimiter` characters.
    ///
    /// ```rhai
    /// assert("2020-08-18".split('-', 2) == ["2020", "08-18"], "two pieces");
    /// ```
    #[rhai_fn(name = "split", return_raw, pure)]
    pub fn split_n_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: char,
        segments: INT,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = segments > 1 && string.contains(delimiter);
        split_into(&ctx, string, splits, |s| {
            s.splitn(segments_of(segments), delimiter)
        })
    }

    /// The pieces of the string between each `delimiter`, from the end.
    ///
    /// ```rhai
    /// assert("a/b/c".split_rev("/") == ["c", "b", "a"], "from the end");
    /// ```
    #[rhai_fn(name = "split_rev", return_raw, pure)]
    pub fn split_rev(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = holds(string, delimiter);
        split_into(&ctx, string, splits, |s| s.rsplit(delimiter))
    }

    /// At most `segments` pieces of the string between `delimiter`s, from
    /// the end (the last piece keeps the rest).
    ///
    /// ```rhai
    /// assert("a/b/c".split_rev("/", 2) == ["c", "a/b"], "two pieces");
    /// ```
    #[rhai_fn(name = "split_rev", return_raw, pure)]
    pub fn split_rev_n(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: &str,
        segments: INT,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = segments > 1 && holds(string, delimiter);
        split_into(&ctx, string, splits, |s| {
            s.rsplitn(segments_of(segments), delimiter)
        })
    }

    /// The pieces of the string between each `delimiter` character, from the end.
    ///
    /// ```rhai
    /// assert("a/b/c".split_rev('/') == ["c", "b", "a"], "from the end");
    /// ```
    #[rhai_fn(name = "split_rev", return_raw, pure)]
    pub fn split_rev_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: char,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = string.contains(delimiter);
        split_into(&ctx, string, splits, |s| s.rsplit(delimiter))
    }

    /// At most `segments` pieces of the string between `delimiter`
    /// characters, from the end.
    ///
    /// ```rhai
    /// assert("a/b/c".split_rev('/', 2) == ["c", "a/b"], "two pieces");
    /// ```
    #[rhai_fn(name = "split_rev", return_raw, pure)]
    pub fn split_rev_n_char(
        ctx: NativeCallContext,
        string: &mut ImmutableString,
        delimiter: char,
        segments: INT,
    ) -> Result<Array, Box<EvalAltResult>> {
        let splits = segments > 1 && string.contains(delimiter);
        split_into(&ctx, string, splits, |s| {
            s.rsplitn(segments_of(segments), delimiter)
        })
    }

    /// The string's characters one at a time, for a `for` loop.
    ///
    /// ```rhai
    /// let digits = 0;
    /// for c in "T32TQM".chars() { if c >= '0' && c <= '9' { digits += 1; } }
    /// assert(digits == 2, "two digits");
    /// ```
    #[rhai_fn(name = "chars", get = "chars")]
    pub fn chars(string: ImmutableString) -> Chars {
        Chars::new(string, 0, INT::MAX)
    }

    /// The characters from character `start` on (negative: from the end).
    ///
    /// ```rhai
    /// let tail = "";
    /// for c in "S2A_MSIL2A".chars(-3) { tail += c; }
    /// assert(tail == "L2A", "the last three");
    /// ```
    #[rhai_fn(name = "chars")]
    pub fn chars_from(string: ImmutableString, start: INT) -> Chars {
        Chars::new(string, start, INT::MAX)
    }

    /// `len` characters from character `start` (negative: from the end).
    ///
    /// ```rhai
    /// let part = "";
    /// for c in "S2A_MSIL2A".chars(4, 3) { part += c; }
    /// assert(part == "MSI", "three characters");
    /// ```
    #[rhai_fn(name = "chars")]
    pub fn chars_from_len(string: ImmutableString, start: INT, len: INT) -> Chars {
        Chars::new(string, start, len)
    }

    /// The characters in a range of positions.
    ///
    /// ```rhai
    /// let part = "";
    /// for c in "S2A_MSIL2A".chars(0..3) { part += c; }
    /// assert(part == "S2A", "the first three");
    /// ```
    #[rhai_fn(name = "chars")]
    pub fn chars_in_range(string: ImmutableString, range: Range<INT>) -> Chars {
        let from = INT::max(range.start, 0);
        let to = INT::max(range.end, from);
        Chars::new(string, from, to - from)
    }

    /// The characters in an inclusive range of positions.
    ///
    /// ```rhai
    /// let part = "";
    /// for c in "S2A_MSIL2A".chars(0..=2) { part += c; }
    /// assert(part == "S2A", "the first three");
    /// ```
    #[rhai_fn(name = "chars")]
    pub fn chars_in_inclusive_range(string: ImmutableString, range: RangeInclusive<INT>) -> Chars {
        let from = INT::max(*range.start(), 0);
        let to = INT::min(INT::max(*range.end(), from - 1), INT::MAX - 1);
        Chars::new(string, from, to - from + 1)
    }

    /// The string's UTF-8 bytes as a BLOB.
    ///
    /// ```rhai
    /// assert("B8A".to_blob().len() == 3, "three bytes");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn to_blob(ctx: NativeCallContext, string: &str) -> Result<Blob, Box<EvalAltResult>> {
        check_growth(&ctx, sizes::vector(string.len(), 1), || {
            format!("a BLOB of {} bytes", string.len())
        })?;
        Ok(string.as_bytes().to_vec())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chars_start_where_rhai_starts_them() {
        let text: ImmutableString = "añb€c".into();
        let taken = |from, len| Chars::new(text.clone(), from, len).collect::<String>();
        assert_eq!(taken(0, INT::MAX), "añb€c");
        assert_eq!(taken(1, 2), "ñb");
        assert_eq!(taken(-2, INT::MAX), "€c");
        assert_eq!(taken(-10, 2), "añ", "before the start: from the start");
        assert_eq!(taken(10, 2), "", "past the end: nothing");
        assert_eq!(taken(0, 0), "");
        assert_eq!(taken(0, -1), "");
    }

    #[test]
    fn a_shared_string_costs_a_copy_and_a_unique_one_its_growth() {
        let unique: ImmutableString = "x".repeat(1000).into();
        let capacity = AsRef::<rhai::Identifier>::as_ref(&unique).capacity();
        assert_eq!(appending_cost(&unique, capacity), 0, "fits its capacity");
        assert_eq!(
            appending_cost(&unique, capacity + 1),
            sizes::vector(2 * capacity, 1) - sizes::vector(capacity, 1),
            "grows by doubling"
        );
        let shared = unique.clone();
        assert_eq!(appending_cost(&shared, 1500), sizes::string_value(1500));
    }
}
