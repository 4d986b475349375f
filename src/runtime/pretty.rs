//! How the front-ends write a result for a student: floats at six
//! significant digits (`0.000225141`, not `0.00022514071294559118`), and
//! arrays and maps spread over several lines when they do not fit the
//! screen. `print()` and string interpolation are not affected: they keep
//! every digit, which is also how a student asks for the exact value.

use super::introspect::debug_text_with;
use rhai::{Array, Dynamic, Engine, FLOAT, Map};

/// How a result is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultStyle {
    /// Floats with every digit (the REPL's `:exact`), as `debug()` writes them.
    pub exact: bool,
    /// The screen's width in characters: longer arrays and maps are spread.
    pub width: usize,
}

impl Default for ResultStyle {
    fn default() -> Self {
        Self {
            exact: false,
            width: 100,
        }
    }
}

/// Spread arrays and maps indent their items by this much per level.
const INDENT: usize = 4;

/// Significant digits of a float by default.
const DIGITS: usize = 6;

/// `value` as a result is shown: like `debug(value)`, strings quoted and
/// custom types through their `to_debug`, floats short unless `style.exact`.
pub fn result_text(engine: &Engine, value: &Dynamic, style: ResultStyle) -> String {
    let writer = Writer { engine, style };
    writer.spread(value, 0)
}

/// `value` on one line (for `:who`'s preview), floats as in [`result_text`].
pub fn one_line_text(engine: &Engine, value: &Dynamic, exact: bool) -> String {
    let writer = Writer {
        engine,
        style: ResultStyle {
            exact,
            width: usize::MAX,
        },
    };
    writer.flat(value)
}

/// The shortest text of `x` at six significant digits: `0.1`, `3.0`,
/// `0.000225141`, `1.75303e18`. Whole numbers keep `.0`, so a float still
/// reads as a float; exponents are used from 1e6 up and below 1e-4, as C's
/// `%g` does.
pub fn short_float(x: FLOAT) -> String {
    if !x.is_finite() {
        return format!("{x:?}");
    }
    if x == 0.0 {
        return "0.0".into();
    }
    // The exponent after rounding to six digits (999999.7 is 1e6).
    let scientific = format!("{:.*e}", DIGITS - 1, x);
    let (mantissa, exponent) = scientific
        .split_once('e')
        .expect("`e` format has an exponent");
    let exponent: i32 = exponent
        .parse()
        .expect("`e` format has an integer exponent");
    if (-5..DIGITS as i32).contains(&exponent) {
        let decimals = (DIGITS as i32 - 1 - exponent).max(0) as usize;
        let fixed = format!("{x:.decimals$}");
        let trimmed = trim_zeros(&fixed);
        if trimmed.contains('.') {
            trimmed.to_string()
        } else {
            format!("{trimmed}.0")
        }
    } else {
        format!("{}e{exponent}", trim_zeros(mantissa))
    }
}

/// `1.50000` → `1.5`, `2.000` → `2`, `120` stays `120`.
fn trim_zeros(number: &str) -> &str {
    if number.contains('.') {
        number.trim_end_matches('0').trim_end_matches('.')
    } else {
        number
    }
}

struct Writer<'a> {
    engine: &'a Engine,
    style: ResultStyle,
}

impl Writer<'_> {
    /// `value` starting at column `indent`: on one line when it fits, else
    /// an array or map with one item per line.
    fn spread(&self, value: &Dynamic, indent: usize) -> String {
        let flat = self.flat(value);
        if indent + flat.chars().count() <= self.style.width {
            return flat;
        }
        let inner = " ".repeat(indent + INDENT);
        let close = " ".repeat(indent);
        if let Some(array) = value.read_lock::<Array>() {
            if array.is_empty() {
                return flat;
            }
            let items: Vec<String> = array
                .iter()
                .map(|item| format!("{inner}{},", self.spread(item, indent + INDENT)))
                .collect();
            return format!("[\n{}\n{close}]", items.join("\n"));
        }
        if let Some(map) = value.read_lock::<Map>() {
            if map.is_empty() {
                return flat;
            }
            let items: Vec<String> = map
                .iter()
                .map(|(key, item)| {
                    let key = format!("{key:?}: ");
                    let item = self.spread(item, indent + INDENT + key.chars().count());
                    format!("{inner}{key}{item},")
                })
                .collect();
            return format!("#{{\n{}\n{close}}}", items.join("\n"));
        }
        flat
    }

    /// `value` on one line, as Rhai's `debug` writes it but for floats.
    fn flat(&self, value: &Dynamic) -> String {
        if let Some(array) = value.read_lock::<Array>() {
            let items: Vec<String> = array.iter().map(|item| self.flat(item)).collect();
            return format!("[{}]", items.join(", "));
        }
        if let Some(map) = value.read_lock::<Map>() {
            let items: Vec<String> = map
                .iter()
                .map(|(key, item)| format!("{key:?}: {}", self.flat(item)))
                .collect();
            return format!("#{{{}}}", items.join(", "));
        }
        match value.as_float() {
            Ok(x) if !self.style.exact => short_float(x),
            _ => debug_text_with(self.engine, value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_shortest_at_six_significant_digits() {
        assert_eq!(short_float(0.00022514071294559118), "0.000225141");
        assert_eq!(short_float(1.75302719957514e18), "1.75303e18");
        assert_eq!(short_float(0.1), "0.1");
        assert_eq!(short_float(3.0), "3.0");
        assert_eq!(short_float(-2.5), "-2.5");
        assert_eq!(short_float(123456.7), "123457.0");
        assert_eq!(short_float(999999.7), "1e6");
        assert_eq!(short_float(2.5e-7), "2.5e-7");
        assert_eq!(short_float(0.0), "0.0");
        assert_eq!(short_float(FLOAT::NAN), "NaN");
    }

    fn engine() -> Engine {
        Engine::new()
    }

    #[test]
    fn short_values_stay_on_one_line_with_short_floats() {
        let engine = engine();
        let value: Dynamic = engine.eval(r#"[1, 0.1 + 0.2, "a", #{b: 2.0}]"#).unwrap();
        let text = result_text(&engine, &value, ResultStyle::default());
        assert_eq!(text, r#"[1, 0.3, "a", #{"b": 2.0}]"#);
        let exact = ResultStyle {
            exact: true,
            ..ResultStyle::default()
        };
        assert!(result_text(&engine, &value, exact).contains("0.30000000000000004"));
    }

    #[test]
    fn long_values_are_spread_over_lines_that_fit() {
        let engine = engine();
        let value: Dynamic = engine
            .eval(
                r#"[#{name: "Sentinel-1", launched: 2014}, #{name: "Sentinel-2", launched: 2015}]"#,
            )
            .unwrap();
        let style = ResultStyle {
            exact: false,
            width: 50,
        };
        let text = result_text(&engine, &value, style);
        assert_eq!(
            text,
            "[\n    #{\"launched\": 2014, \"name\": \"Sentinel-1\"},\n    \
             #{\"launched\": 2015, \"name\": \"Sentinel-2\"},\n]"
        );
        assert!(
            text.lines().all(|line| line.chars().count() <= 50),
            "{text}"
        );
    }
}
