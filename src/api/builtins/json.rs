//! JSON text into script values, for `parse_json` and `read_json`. JSON
//! comes from files and web services, so it is untrusted input: nesting is
//! limited, and the memory quota is checked while the values are made
//! (their size cannot be told from the text's: `[0,0,…]` takes 16 bytes of
//! memory for every 2 of text, `[{"a":0},…]` about 60 times the text).

use crate::sandbox::{Breach, MemoryBudget};
use rhai::{Array, Dynamic, INT, Map};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::cell::{Cell, RefCell};
use std::fmt;

/// The deepest nesting of arrays and objects accepted.
pub const MAX_DEPTH: usize = 64;

/// Values made between two looks at the memory in use.
const CHECK_EVERY: u32 = 1024;

/// Why JSON text could not become a value.
#[derive(Debug)]
pub enum JsonError {
    /// Not JSON: serde_json's message, with line and column.
    Syntax(String),
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep,
    /// The values would not fit the memory quota.
    Memory(Breach),
}

/// Parses `text` into maps, arrays, strings, numbers, booleans and `()`;
/// `what` names the text in a memory breach ("the JSON of \"a.json\"").
pub fn parse(text: &str, budget: &MemoryBudget, what: &str) -> Result<Dynamic, JsonError> {
    let builder = Builder {
        budget,
        what,
        depth: Cell::new(0),
        made: Cell::new(0),
        stop: RefCell::new(None),
    };
    let mut deserializer = serde_json::Deserializer::from_str(text);
    let parsed = Value(&builder)
        .deserialize(&mut deserializer)
        .and_then(|value| deserializer.end().map(|()| value));
    parsed.map_err(|error| {
        builder
            .stop
            .take()
            .unwrap_or_else(|| JsonError::Syntax(error.to_string()))
    })
}

/// The state of one parse: how deep it is, how many values it made, and
/// why it stopped (when it was not the text's fault).
struct Builder<'a> {
    budget: &'a MemoryBudget,
    what: &'a str,
    depth: Cell<usize>,
    made: Cell<u32>,
    stop: RefCell<Option<JsonError>>,
}

impl Builder<'_> {
    fn stop<E: serde::de::Error>(&self, reason: JsonError) -> E {
        let message = format!("{reason:?}");
        *self.stop.borrow_mut() = Some(reason);
        E::custom(message)
    }

    fn enter<E: serde::de::Error>(&self) -> Result<(), E> {
        let depth = self.depth.get() + 1;
        if depth > MAX_DEPTH {
            return Err(self.stop(JsonError::TooDeep));
        }
        self.depth.set(depth);
        Ok(())
    }

    fn leave(&self) {
        self.depth.set(self.depth.get() - 1);
    }

    /// Counts a value made; every [`CHECK_EVERY`] values, stops when the
    /// process holds more than the quota.
    fn made<E: serde::de::Error>(&self) -> Result<(), E> {
        let made = self.made.get() + 1;
        self.made.set(made % CHECK_EVERY);
        if made < CHECK_EVERY {
            return Ok(());
        }
        self.budget
            .check_holding(self.what)
            .map_err(|breach| self.stop(JsonError::Memory(breach)))
    }
}

/// Makes one value (and, through itself, the values inside it).
#[derive(Clone, Copy)]
struct Value<'b, 'a>(&'b Builder<'a>);

impl<'de> DeserializeSeed<'de> for Value<'_, '_> {
    type Value = Dynamic;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Dynamic, D::Error> {
        deserializer.deserialize_any(self)
    }
}

// Numbers become what Rhai's own JSON reading makes of them: integers that
// fit, floating-point numbers otherwise.
impl<'de> Visitor<'de> for Value<'_, '_> {
    type Value = Dynamic;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON value")
    }

    fn visit_bool<E: serde::de::Error>(self, v: bool) -> Result<Dynamic, E> {
        Ok(v.into())
    }

    fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<Dynamic, E> {
        Ok(Dynamic::from_int(v))
    }

    fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<Dynamic, E> {
        Ok(INT::try_from(v).map_or_else(|_| Dynamic::from_float(v as f64), Dynamic::from_int))
    }

    fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Dynamic, E> {
        Ok(Dynamic::from_float(v))
    }

    fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Dynamic, E> {
        Ok(v.into())
    }

    fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Dynamic, E> {
        Ok(v.into())
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Dynamic, E> {
        Ok(Dynamic::UNIT)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut items: A) -> Result<Dynamic, A::Error> {
        self.0.enter()?;
        let mut array = Array::new();
        while let Some(item) = items.next_element_seed(self)? {
            self.0.made()?;
            array.push(item);
        }
        self.0.leave();
        Ok(array.into())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut entries: A) -> Result<Dynamic, A::Error> {
        self.0.enter()?;
        let mut map = Map::new();
        while let Some(key) = entries.next_key::<String>()? {
            let value = entries.next_value_seed(self)?;
            self.0.made()?;
            map.insert(key.into(), value);
        }
        self.0.leave();
        Ok(map.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    fn budget() -> Arc<MemoryBudget> {
        MemoryBudget::with_usage(1 << 30, || 0)
    }

    #[test]
    fn values_are_what_rhai_makes_of_json() {
        let text = r#"{"b": [1, -2, 18446744073709551615, 2.5, "x", true, null], "a": {}}"#;
        let value = parse(text, &budget(), "test").unwrap();
        let expected: Dynamic =
            rhai::serde::to_dynamic(serde_json::from_str::<serde_json::Value>(text).unwrap())
                .unwrap();
        assert_eq!(format!("{value:?}"), format!("{expected:?}"));
    }

    #[test]
    fn nesting_is_limited() {
        let deep = format!("{}{}", "[".repeat(MAX_DEPTH + 1), "]".repeat(MAX_DEPTH + 1));
        assert!(matches!(
            parse(&deep, &budget(), "test"),
            Err(JsonError::TooDeep)
        ));
        let fine = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&fine, &budget(), "test").is_ok());
    }

    #[test]
    fn syntax_errors_say_where() {
        match parse("[1, 2,", &budget(), "test") {
            Err(JsonError::Syntax(message)) => assert!(message.contains("line 1"), "{message}"),
            other => panic!("expected a syntax error, got {other:?}"),
        }
        assert!(matches!(
            parse("[1] [2]", &budget(), "test"),
            Err(JsonError::Syntax(_))
        ));
    }

    #[test]
    fn the_memory_quota_stops_a_parse_midway() {
        let full = MemoryBudget::with_usage(1000, || 2000);
        let text = format!("[{}0]", "0,".repeat(5000));
        assert!(matches!(
            parse(&text, &full, "the JSON"),
            Err(JsonError::Memory(_))
        ));
        assert!(
            parse("[0, 1]", &full, "the JSON").is_ok(),
            "checked every 1024 values"
        );
    }
}
