//! What script values cost in memory, estimated before they are made: the
//! charges of the re-registered built-ins are computed here, from the sizes
//! of their inputs.
//!
//! The figures follow how Rhai stores values: every value is a 16-byte
//! `Dynamic`; a string is a shared, reference-counted `SmartString` (text of
//! up to 23 bytes inline, longer text in a buffer of its own), so copying a
//! string value costs nothing; arrays, BLOBs and maps are boxed and copied
//! whole when a value is copied. Each allocation is counted as `malloc`
//! takes it ([`allocation_bytes`]).

use crate::sandbox::allocation_bytes;
use rhai::{Dynamic, ImmutableString, Map};

/// One script value in an array.
pub const VALUE: u64 = std::mem::size_of::<Dynamic>() as u64;

/// Text up to this many bytes is stored inside the string value.
const INLINE_TEXT: usize = 23;

/// A boxed array, BLOB or map (the box holds the collection's header).
const BOX: u64 = allocation_bytes(std::mem::size_of::<Vec<u8>>()) as u64;

/// One node of the B-tree behind a map: up to 11 keys and values.
const MAP_NODE: u64 = allocation_bytes(11 * (24 + VALUE as usize) + 16) as u64;

/// A value of a native type (a raster, a matrix): two boxes, the inner of
/// unknown size (the types' own data is shared or charged on its own).
const VARIANT: u64 = 2 * allocation_bytes(16) as u64;

/// Entries a map node holds on average (B-tree nodes are at least half full).
const ENTRIES_PER_NODE: u64 = 6;

/// A new string value holding `len` bytes of text.
pub fn string_value(len: usize) -> u64 {
    // The shared allocation: two reference counts and the small string.
    let shared = allocation_bytes(2 * 8 + std::mem::size_of::<rhai::Identifier>()) as u64;
    shared + text_buffer(len)
}

/// The buffer of `len` bytes of text that does not fit inline.
fn text_buffer(len: usize) -> u64 {
    if len > INLINE_TEXT {
        allocation_bytes(len) as u64
    } else {
        0
    }
}

/// A new array of `len` values (their own contents not included).
pub fn array(len: usize) -> u64 {
    BOX + vector(len, VALUE)
}

/// A vector of `len` items of `item` bytes.
pub fn vector(len: usize, item: u64) -> u64 {
    if len == 0 {
        0
    } else {
        allocation_bytes((len as u64).saturating_mul(item).min(usize::MAX as u64 / 2) as usize)
            as u64
    }
}

/// A new map of `len` entries (keys of up to 23 bytes; values not included).
pub fn map(len: usize) -> u64 {
    BOX + map_entries(len)
}

/// What `len` more entries add to a map (keys of up to 23 bytes).
pub fn map_entries(len: usize) -> u64 {
    (len as u64).div_ceil(ENTRIES_PER_NODE) * MAP_NODE
}

/// The bytes a copy of `value` allocates: arrays, BLOBs and maps are copied
/// whole, strings are shared. Walks the value (as the copy would).
pub fn copy_of(value: &Dynamic) -> u64 {
    if let Some(array) = value.read_lock::<rhai::Array>() {
        copy_of_array(&array)
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        BOX + vector(blob.len(), 1)
    } else if let Some(map) = value.read_lock::<Map>() {
        map_copy(&map)
    } else if value.is_variant() {
        // A value of a type of its own is boxed twice (its size is unknown here).
        VARIANT
    } else {
        0
    }
}

fn array_copy(array: &[Dynamic]) -> u64 {
    BOX + vector(array.len(), VALUE)
}

/// The bytes a copy of an array of `items` allocates.
pub fn copy_of_array(items: &[Dynamic]) -> u64 {
    items
        .iter()
        .map(copy_of)
        .fold(array_copy(items), u64::saturating_add)
}

/// The bytes a copy of `map` allocates.
pub fn map_copy(map: &Map) -> u64 {
    let keys: u64 = map.keys().map(|key| text_buffer(key.len())).sum();
    map.values()
        .map(copy_of)
        .fold(BOX + map_entries(map.len()) + keys, u64::saturating_add)
}

/// The length of `value`'s text as `print`, `to_string` and `to_debug` give
/// it, estimated generously (numbers at their widest).
pub fn text_of(value: &Dynamic) -> u64 {
    if let Some(array) = value.read_lock::<rhai::Array>() {
        text_of_array(&array)
    } else if let Some(blob) = value.read_lock::<rhai::Blob>() {
        blob_text(blob.len())
    } else if let Some(map) = value.read_lock::<Map>() {
        text_of_map(&map)
    } else if let Some(text) = value.read_lock::<ImmutableString>() {
        // Quotes, and escapes for the few characters that need them.
        text.len() as u64 + 2 + 5 * text.chars().filter(|c| c.is_control()).count() as u64
    } else {
        // Numbers (at their widest), booleans, characters, units; other
        // types print a short description.
        32
    }
}

/// The length of an array's text: `[a, b]`.
pub fn text_of_array(array: &[Dynamic]) -> u64 {
    array
        .iter()
        .map(|item| text_of(item) + 2)
        .fold(2, u64::saturating_add)
}

/// The length of a map's text: `#{"a": 1}` (its JSON is as long or shorter).
pub fn text_of_map(map: &Map) -> u64 {
    map.iter()
        .map(|(key, item)| key.len() as u64 + 6 + text_of(item))
        .fold(3, u64::saturating_add)
}

/// The length of a BLOB's text: two hex digits a byte, a space every 8 bytes.
pub fn blob_text(len: usize) -> u64 {
    2 * len as u64 + len as u64 / 8 + 2
}

#[cfg(test)]
mod tests {
    use super::*;
    use rhai::Array;

    /// Whether `estimate` is within `tolerance` of what `make` allocates.
    /// The allocator counts the whole process, where other tests allocate
    /// and free at the same time (some in bursts, for a fraction of a
    /// second): many tries, one of which must agree.
    fn agrees<T>(make: impl Fn() -> T, estimate: u64, tolerance: impl Fn(u64) -> bool) -> bool {
        static ONE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
        let _alone = ONE_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
        let mut measured = Vec::new();
        let agreed = (0..200).any(|_| {
            let before = crate::sandbox::heap_bytes();
            let value = make();
            let bytes = crate::sandbox::heap_bytes().saturating_sub(before);
            drop(value);
            measured.push(bytes);
            tolerance(bytes) || {
                std::thread::sleep(std::time::Duration::from_millis(5));
                false
            }
        });
        if !agreed {
            eprintln!("measured {measured:?}, estimated {estimate}");
        }
        agreed
    }

    #[test]
    fn a_string_value_costs_its_shared_header_and_long_text() {
        let estimate = string_value(1000);
        assert!(agrees(
            || Dynamic::from("x".repeat(1000)),
            estimate,
            |bytes| bytes.abs_diff(estimate) <= 64
        ));
        assert_eq!(string_value(3), string_value(0), "short text is inline");
    }

    #[test]
    fn a_copy_of_nested_arrays_is_estimated_from_its_shape() {
        let inner: Array = (0..100 as rhai::INT).map(Dynamic::from).collect();
        let outer = Dynamic::from_array(vec![Dynamic::from_array(inner); 1000]);
        let estimate = copy_of(&outer);
        assert!(agrees(
            || outer.clone(),
            estimate,
            |bytes| estimate >= bytes && estimate <= bytes + bytes / 10
        ));
    }

    #[test]
    fn a_copy_of_a_map_is_estimated_within_a_factor_of_two() {
        let map: Map = (0..10_000)
            .map(|i| (format!("key{i}").into(), Dynamic::from(i as rhai::INT)))
            .collect();
        let value = Dynamic::from_map(map);
        let estimate = copy_of(&value);
        assert!(agrees(
            || value.clone(),
            estimate,
            |bytes| estimate >= bytes / 2 && estimate <= bytes * 2
        ));
    }

    #[test]
    fn text_estimates_cover_the_printed_text() {
        let array: Array = vec![
            Dynamic::from(-1_234_567_890_123_i64),
            Dynamic::from(0.1_f64),
            Dynamic::from("quoted \"text\""),
            Dynamic::from_blob(vec![0xff; 20]),
            Dynamic::UNIT,
        ];
        let value = Dynamic::from_array(array);
        assert!(text_of(&value) >= format!("{value:?}").len() as u64);
        let blob = Dynamic::from_blob(vec![7; 100]);
        assert_eq!(blob_text(100), format!("{blob}").len() as u64);
    }
}
