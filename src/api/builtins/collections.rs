//! Array, BLOB and map built-ins whose result grows with their input:
//! making and padding to a length, joining (`+`, `+=`, `append`, `push`,
//! `mixin`), and conversions into arrays (`keys`, `values`, `to_array`).

use super::{check_growth, sizes};
use rhai::plugin::*;

/// Room for `more` items in `items` (an array's values, a BLOB's bytes, of
/// `item_bytes` each), charged when it must grow (it grows by doubling:
/// rarely, but then by its whole size), with `copy` bytes that must stay
/// free as well (see [`room_for_a_copy`]); `what` names the result.
fn reserve<T>(
    ctx: &NativeCallContext,
    items: &mut Vec<T>,
    more: usize,
    item_bytes: u64,
    copy: u64,
    what: impl FnOnce(usize) -> String,
) -> Result<(), Box<EvalAltResult>> {
    let len = items.len().saturating_add(more);
    let capacity = items.capacity();
    if len <= capacity && copy == 0 {
        return Ok(());
    }
    let grown = if len <= capacity {
        capacity
    } else {
        len.max(2 * capacity)
    };
    let growth =
        sizes::vector(grown, item_bytes).saturating_sub(sizes::vector(capacity, item_bytes));
    check_growth(ctx, growth.saturating_add(copy), || what(len))?;
    items.reserve(grown - items.len());
    Ok(())
}

/// Appends `other` to `items` as Rhai does (taking `other` whole when
/// `items` is empty), charging the growth first, and room for a copy of the
/// result when it at least half-doubles (see [`room_for_a_copy`]).
fn append_all<T>(
    ctx: &NativeCallContext,
    items: &mut Vec<T>,
    other: Vec<T>,
    item_bytes: u64,
    copy_of: impl Fn(&[T]) -> u64,
    what: impl FnOnce(usize) -> String,
) -> Result<(), Box<EvalAltResult>> {
    if other.is_empty() {
        return Ok(());
    }
    if items.is_empty() {
        *items = other;
        return Ok(());
    }
    let copy = room_for_a_copy(items.len(), other.len(), || {
        copy_of(items).saturating_add(copy_of(&other))
    });
    reserve(ctx, items, other.len(), item_bytes, copy, what)?;
    items.extend(other);
    Ok(())
}

/// An array of `len` items, for messages.
fn array_of(len: usize) -> String {
    format!("an array of {len} items")
}

/// A BLOB of `len` bytes, for messages.
fn blob_of(len: usize) -> String {
    format!("a BLOB of {len} bytes")
}

/// The bytes a copy of a BLOB's bytes allocates.
fn blob_copy(bytes: &[u8]) -> u64 {
    sizes::vector(bytes.len(), 1)
}

/// What must stay free when a value of `len` items gains `more`: nothing
/// for a small addition; for one that at least half-doubles it, room for a
/// copy of the result (`copy`). A script copies an array, a BLOB or a map
/// whenever it reads it as a value (`let b = a;`, `for x in a`, `a += a`),
/// so a value grown to within one copy of the quota would pass the quota at
/// its next use, before anything could be checked.
fn room_for_a_copy(len: usize, more: usize, copy: impl FnOnce() -> u64) -> u64 {
    if more > 0 && 2 * more >= len {
        copy()
    } else {
        0
    }
}

#[export_module]
pub mod collections_api {
    use super::{append_all, array_of, blob_copy, blob_of, reserve, room_for_a_copy};
    use crate::api::builtins::{check_growth, growth, sizes};
    use rhai::{Array, Blob, INT, Map};

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
        let per_item = sizes::VALUE.saturating_add(sizes::copy_of(&item));
        check_growth(&ctx, (missing as u64).saturating_mul(per_item), || {
            format!("padding an array to {len} items")
        })?;
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
        check_growth(&ctx, missing as u64, || {
            format!("padding a BLOB to {len} bytes")
        })?;
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
        check_growth(&ctx, len as u64, || format!("a BLOB of {len} bytes"))?;
        Ok(vec![(value & 0xff) as u8; len])
    }

    /// Adds an item at the end of the array (`a += item` does the same).
    ///
    /// ```rhai
    /// let dates = ["2020-08-18"];
    /// dates.push("2020-08-24");
    /// dates += "2020-08-30";
    /// assert(dates.len() == 3, "three dates");
    /// ```
    #[rhai_fn(name = "push", name = "+=", return_raw)]
    pub fn push(
        ctx: NativeCallContext,
        array: &mut Array,
        item: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        reserve(&ctx, array, 1, sizes::VALUE, 0, array_of)?;
        array.push(item);
        Ok(())
    }

    /// Adds the items of another array at the end of the array.
    ///
    /// ```rhai
    /// let tiles = ["T32TQM"];
    /// tiles.append(["T33TUG"]);
    /// tiles += ["T33TVG"];
    /// assert(tiles.len() == 3, "three tiles");
    /// ```
    #[rhai_fn(name = "append", name = "+=", return_raw)]
    pub fn append(
        ctx: NativeCallContext,
        array: &mut Array,
        other: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        append_all(
            &ctx,
            array,
            other,
            sizes::VALUE,
            sizes::copy_of_array,
            array_of,
        )
    }

    /// A new array: the items of the first, then those of the second.
    ///
    /// ```rhai
    /// let both = [1, 2] + [3];
    /// assert(both == [1, 2, 3], "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn concat(
        ctx: NativeCallContext,
        first: &mut Array,
        second: Array,
    ) -> Result<Array, Box<EvalAltResult>> {
        let len = first.len() + second.len();
        // The result copies the first array's items, and must leave room
        // for a copy of itself when it is much larger than the first.
        let copies =
            sizes::copy_of_array(first).saturating_add(sizes::vector(second.len(), sizes::VALUE));
        let copy = room_for_a_copy(first.len(), second.len(), || {
            copies.saturating_add(sizes::copy_of_array(&second))
        });
        check_growth(&ctx, copies.saturating_add(copy), || {
            format!("an array of {len} items")
        })?;
        let mut joined = Array::with_capacity(len);
        joined.extend(first.iter().cloned());
        joined.extend(second);
        Ok(joined)
    }

    /// Adds a byte (the lower 8 bits of `value`) at the end of the BLOB.
    ///
    /// ```rhai
    /// let b = blob();
    /// b.push(0x49);
    /// b += 0x49;
    /// assert(b.len() == 2, "two bytes");
    /// ```
    #[rhai_fn(name = "push", name = "append", name = "+=", return_raw)]
    pub fn push_byte(
        ctx: NativeCallContext,
        blob: &mut Blob,
        value: INT,
    ) -> Result<(), Box<EvalAltResult>> {
        reserve(&ctx, blob, 1, 1, 0, blob_of)?;
        blob.push((value & 0xff) as u8);
        Ok(())
    }

    /// Adds the bytes of another BLOB at the end of the BLOB.
    ///
    /// ```rhai
    /// let b = blob(2, 1);
    /// b.append(blob(2, 2));
    /// b += blob(1, 3);
    /// assert(b.len() == 5, "five bytes");
    /// ```
    #[rhai_fn(name = "append", name = "+=", return_raw)]
    pub fn append_blob(
        ctx: NativeCallContext,
        blob: &mut Blob,
        other: Blob,
    ) -> Result<(), Box<EvalAltResult>> {
        append_all(&ctx, blob, other, 1, blob_copy, blob_of)
    }

    /// Adds the UTF-8 bytes of a string at the end of the BLOB.
    ///
    /// ```rhai
    /// let b = blob();
    /// b.append("II*");
    /// b += "!";
    /// assert(b.len() == 4, "four bytes");
    /// ```
    #[rhai_fn(name = "append", name = "+=", return_raw)]
    pub fn append_text(
        ctx: NativeCallContext,
        blob: &mut Blob,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let copy = room_for_a_copy(blob.len(), text.len(), || {
            sizes::vector(blob.len() + text.len(), 1)
        });
        reserve(&ctx, blob, text.len(), 1, copy, blob_of)?;
        blob.extend(text.as_bytes());
        Ok(())
    }

    /// Adds the UTF-8 bytes of a character at the end of the BLOB.
    ///
    /// ```rhai
    /// let b = blob();
    /// b.append('é');
    /// b += 'x';
    /// assert(b.len() == 3, "two bytes, then one");
    /// ```
    #[rhai_fn(name = "append", name = "+=", return_raw)]
    pub fn append_char(
        ctx: NativeCallContext,
        blob: &mut Blob,
        character: char,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut buffer = [0; 4];
        let bytes = character.encode_utf8(&mut buffer).as_bytes();
        reserve(&ctx, blob, bytes.len(), 1, 0, blob_of)?;
        blob.extend(bytes);
        Ok(())
    }

    /// A new BLOB: the bytes of the first, then those of the second.
    ///
    /// ```rhai
    /// let b = blob(2, 1) + blob(1, 2);
    /// assert(b.len() == 3, "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn concat_blobs(
        ctx: NativeCallContext,
        first: &mut Blob,
        second: Blob,
    ) -> Result<Blob, Box<EvalAltResult>> {
        let len = first.len() + second.len();
        let copy = room_for_a_copy(first.len(), second.len(), || sizes::vector(len, 1));
        check_growth(&ctx, sizes::vector(len, 1).saturating_add(copy), || {
            format!("a BLOB of {len} bytes")
        })?;
        let mut joined = Blob::with_capacity(len);
        joined.extend_from_slice(first);
        joined.extend(second);
        Ok(joined)
    }

    /// A new BLOB: the bytes of the BLOB, then the UTF-8 bytes of a character.
    ///
    /// ```rhai
    /// let b = blob(2, 0x41) + 'B';
    /// assert(b.len() == 3, "joined");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn concat_blob_char(
        ctx: NativeCallContext,
        blob: &mut Blob,
        character: char,
    ) -> Result<Blob, Box<EvalAltResult>> {
        let mut buffer = [0; 4];
        let bytes = character.encode_utf8(&mut buffer).as_bytes();
        let len = blob.len() + bytes.len();
        check_growth(&ctx, sizes::vector(len, 1), || {
            format!("a BLOB of {len} bytes")
        })?;
        let mut joined = Blob::with_capacity(len);
        joined.extend_from_slice(blob);
        joined.extend_from_slice(bytes);
        Ok(joined)
    }

    /// The BLOB's bytes as an array of numbers (16 bytes of memory each).
    ///
    /// ```rhai
    /// assert(blob(2, 7).to_array() == [7, 7], "two numbers");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn to_array(ctx: NativeCallContext, blob: &mut Blob) -> Result<Array, Box<EvalAltResult>> {
        check_growth(&ctx, sizes::array(blob.len()), || {
            format!("an array of {} numbers", blob.len())
        })?;
        let mut array = Array::with_capacity(blob.len());
        array.extend(blob.iter().map(|&byte| Dynamic::from(INT::from(byte))));
        Ok(array)
    }

    /// Adds (or replaces) the properties of another map in the map.
    ///
    /// ```rhai
    /// let scene = #{ cloud: 12.5 };
    /// scene.mixin(#{ tile: "T32TQM" });
    /// scene += #{ cloud: 3.0 };
    /// assert(scene.cloud == 3.0 && scene.tile == "T32TQM", "merged");
    /// ```
    #[rhai_fn(name = "mixin", name = "+=", return_raw)]
    pub fn mixin(
        ctx: NativeCallContext,
        map: &mut Map,
        other: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        if other.is_empty() {
            return Ok(());
        }
        let copy = room_for_a_copy(map.len(), other.len(), || {
            sizes::map_copy(map).saturating_add(sizes::map_copy(&other))
        });
        check_growth(
            &ctx,
            sizes::map_entries(other.len()).saturating_add(copy),
            || format!("a map of {} properties", map.len() + other.len()),
        )?;
        map.extend(other);
        Ok(())
    }

    /// Adds the properties of another map that the map does not have yet.
    ///
    /// ```rhai
    /// let options = #{ cmap: "viridis" };
    /// options.fill_with(#{ cmap: "gray", width: 600 });
    /// assert(options.cmap == "viridis" && options.width == 600, "filled in");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn fill_with(
        ctx: NativeCallContext,
        map: &mut Map,
        other: Map,
    ) -> Result<(), Box<EvalAltResult>> {
        if other.is_empty() {
            return Ok(());
        }
        if map.is_empty() {
            *map = other;
            return Ok(());
        }
        check_growth(&ctx, sizes::map_entries(other.len()), || {
            format!("a map of up to {} properties", map.len() + other.len())
        })?;
        for (key, value) in other {
            map.entry(key).or_insert(value);
        }
        Ok(())
    }

    /// A new map: the properties of the first, then those of the second
    /// (which win where both have one).
    ///
    /// ```rhai
    /// let scene = #{ cloud: 12.5, tile: "T32TQM" } + #{ cloud: 3.0 };
    /// assert(scene.cloud == 3.0 && scene.tile == "T32TQM", "merged");
    /// ```
    #[rhai_fn(name = "+", return_raw, pure)]
    pub fn merge(
        ctx: NativeCallContext,
        first: &mut Map,
        second: Map,
    ) -> Result<Map, Box<EvalAltResult>> {
        if first.is_empty() {
            return Ok(second);
        }
        let bytes = sizes::map_copy(first).saturating_add(sizes::map_entries(second.len()));
        let copy = room_for_a_copy(first.len(), second.len(), || {
            bytes.saturating_add(sizes::map_copy(&second))
        });
        check_growth(&ctx, bytes.saturating_add(copy), || {
            format!("a map of up to {} properties", first.len() + second.len())
        })?;
        let mut merged = first.clone();
        merged.extend(second);
        Ok(merged)
    }

    /// The map's property names, as an array of strings.
    ///
    /// ```rhai
    /// assert(#{ b: 1, a: 2 }.keys() == ["a", "b"], "sorted names");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn keys(ctx: NativeCallContext, map: &mut Map) -> Result<Array, Box<EvalAltResult>> {
        let names = map
            .keys()
            .map(|key| sizes::string_value(key.len()))
            .fold(sizes::array(map.len()), u64::saturating_add);
        check_growth(&ctx, names, || {
            format!("an array of {} property names", map.len())
        })?;
        let mut array = Array::with_capacity(map.len());
        array.extend(map.keys().map(|key| -> Dynamic { key.clone().into() }));
        Ok(array)
    }

    /// Copies of the map's property values, as an array.
    ///
    /// ```rhai
    /// assert(#{ b: 1, a: 2 }.values() == [2, 1], "in name order");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn values(ctx: NativeCallContext, map: &mut Map) -> Result<Array, Box<EvalAltResult>> {
        let copies = map
            .values()
            .map(sizes::copy_of)
            .fold(sizes::array(map.len()), u64::saturating_add);
        check_growth(&ctx, copies, || {
            format!("an array of {} property values", map.len())
        })?;
        let mut array = Array::with_capacity(map.len());
        array.extend(map.values().cloned());
        Ok(array)
    }
}
