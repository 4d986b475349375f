//! Where a session's output goes: a terminal, a Jupyter kernel, or a test.
//!
//! Text streams (`print`, `eprint`, `debug`) and rich displays (tables,
//! images) both go through a [`DisplaySink`]. A rich display always carries a
//! plain-text form, so a sink that cannot show HTML or images (a terminal)
//! prints that instead.

use rhai::{Array, Dynamic, Map};
use std::fmt::Write as _;
use std::sync::Mutex;

/// The two text streams a script writes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

/// One thing to show, in several formats (MIME types); a front-end shows the
/// richest one it can. The plain text is always there.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DisplayItem {
    /// `text/plain`: what a terminal prints.
    pub plain: String,
    /// `text/html`, e.g. a table.
    pub html: Option<String>,
    /// `image/png`: the encoded PNG file, e.g. a figure.
    pub png: Option<Vec<u8>>,
    /// Names this display, so that a later update can replace it in place
    /// (Jupyter's `transient.display_id`, used for progress bars).
    pub display_id: Option<String>,
    /// The id of a widget model to render (Jupyter's widget-view bundle);
    /// `plain` is its text form.
    pub widget: Option<String>,
}

impl DisplayItem {
    /// A display with only a plain-text form.
    pub fn text(plain: impl Into<String>) -> Self {
        Self {
            plain: plain.into(),
            ..Self::default()
        }
    }

    /// Adds an HTML form.
    pub fn with_html(mut self, html: impl Into<String>) -> Self {
        self.html = Some(html.into());
        self
    }

    /// Adds a PNG image (the bytes of a `.png` file).
    pub fn with_png(mut self, png: Vec<u8>) -> Self {
        self.png = Some(png);
        self
    }

    /// Names the display so it can be updated later.
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.display_id = Some(id.into());
        self
    }

    /// A table as aligned plain text and as an HTML `<table>`.
    pub fn table(columns: &[String], rows: &[Vec<String>]) -> Self {
        Self::text(plain_table(columns, rows)).with_html(html_table(columns, rows))
    }

    /// Shows a script value: an array of object maps (a table, the shape
    /// `read_csv` returns) as a table, anything else as text. `text` turns
    /// a value into the text a script's `to_string` would give.
    pub fn of_value(value: &Dynamic, text: impl Fn(&Dynamic) -> String) -> Self {
        if let Some(id) = widget_id(value) {
            return Self {
                widget: Some(id),
                ..Self::text(text(value))
            };
        }
        match rows_of(value) {
            Some(rows) => Self::of_rows(&rows, &table_columns(&rows), text),
            None => Self::text(text(value)),
        }
    }

    /// A table of `rows` (object maps) with `columns` in that order; a
    /// missing value is an empty cell.
    pub fn of_rows(rows: &[Map], columns: &[String], text: impl Fn(&Dynamic) -> String) -> Self {
        let cells: Vec<Vec<String>> = rows
            .iter()
            .map(|row| {
                columns
                    .iter()
                    .map(|c| row.get(c.as_str()).map(&text).unwrap_or_default())
                    .collect()
            })
            .collect();
        Self::table(columns, &cells)
    }
}

/// The rows of a value that is a non-empty array of object maps.
pub fn rows_of(value: &Dynamic) -> Option<Vec<Map>> {
    let array = value.read_lock::<Array>()?;
    if array.is_empty() {
        return None;
    }
    array
        .iter()
        .map(|row| row.read_lock::<Map>().map(|m| m.clone()))
        .collect()
}

/// The fields of a catalogue product, in the catalogue's order (the rows
/// `products_table` gives).
const PRODUCT_FIELDS: [&str; 12] = [
    "id",
    "name",
    "mission",
    "product_type",
    "sensing_start",
    "sensing_end",
    "size",
    "online",
    "pseudopath",
    "s3_path",
    "cloud_cover",
    "footprint",
];

/// The columns of a table whose columns were not given. The order the
/// script wrote a map's keys in is lost (Rhai keeps map keys sorted), so:
/// a catalogue product's fields in the catalogue's order, then the other
/// keys alphabetically, keys that only later rows have last. Scripts that
/// want their own order give the columns (`print_table(rows, columns)`).
pub fn table_columns(rows: &[Map]) -> Vec<String> {
    let mut columns: Vec<String> = PRODUCT_FIELDS
        .iter()
        .filter(|field| rows[0].contains_key(**field))
        .map(|field| field.to_string())
        .collect();
    for key in rows.iter().flat_map(|row| row.keys()) {
        if !columns.iter().any(|c| c == key.as_str()) {
            columns.push(key.to_string());
        }
    }
    columns
}

fn plain_table(columns: &[String], rows: &[Vec<String>]) -> String {
    let width = |i: usize| {
        rows.iter()
            .map(|row| row[i].chars().count())
            .chain(std::iter::once(columns[i].chars().count()))
            .max()
            .unwrap_or(0)
    };
    let widths: Vec<usize> = (0..columns.len()).map(width).collect();
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(cell, &w)| format!("{cell:<w$}"))
            .collect();
        padded.join("  ").trim_end().to_string()
    };
    let rule: Vec<String> = widths.iter().map(|&w| "-".repeat(w)).collect();
    let mut text = format!("{}\n{}\n", line(columns), rule.join("  "));
    for row in rows {
        text.push_str(&line(row));
        text.push('\n');
    }
    text
}

fn html_table(columns: &[String], rows: &[Vec<String>]) -> String {
    let mut html = String::from("<table>\n<thead><tr>");
    for column in columns {
        let _ = write!(html, "<th>{}</th>", escape_html(column));
    }
    html.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        html.push_str("<tr>");
        for cell in row {
            let _ = write!(html, "<td>{}</td>", escape_html(cell));
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</tbody>\n</table>");
    html
}

/// Escapes text for HTML element content and attribute values.
pub fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// Receives everything a session shows. Front-ends implement it; only
/// `stream` is required, rich output falls back to printing its plain text.
pub trait DisplaySink: Send + Sync {
    /// Text written by `print`, `eprint` or `debug` (ends with a newline).
    fn stream(&self, stream: Stream, text: &str);

    /// Shows a rich item (a table, a figure).
    fn display(&self, item: &DisplayItem) {
        self.stream(Stream::Stdout, &with_newline(&item.plain));
    }

    /// Replaces the earlier display named `item.display_id`; a sink that
    /// cannot replace output shows the item again.
    fn update_display(&self, item: &DisplayItem) {
        self.display(item);
    }

    /// Clears the output shown so far by the current cell; with `wait`, only
    /// once the next output arrives (smooth animations). Terminals ignore it.
    /// True when the front-end shows images itself (a notebook); a
    /// terminal does not, so figures are written to files instead.
    fn shows_images(&self) -> bool {
        false
    }

    fn clear_output(&self, _wait: bool) {}

    /// Asks the user for a line of text, not echoed when `password`. None
    /// when nobody can answer (the default: scripts run without a person at
    /// the keyboard) or the run was interrupted while waiting.
    fn input(&self, _prompt: &str, _password: bool) -> Option<String> {
        None
    }

    /// The comms of a front-end that renders widgets (the Jupyter kernel);
    /// None where widgets are shown as text.
    fn comms(&self) -> Option<std::sync::Arc<dyn super::widgets::CommSink>> {
        None
    }
}

fn with_newline(text: &str) -> String {
    if text.ends_with('\n') {
        text.to_string()
    } else {
        format!("{text}\n")
    }
}

/// Writes to the process's own stdout and stderr.
#[derive(Debug, Default)]
pub struct Terminal;

impl DisplaySink for Terminal {
    fn stream(&self, stream: Stream, text: &str) {
        use std::io::Write;
        // A closed pipe (e.g. `cleope run x | head`) must not kill the session.
        let _ = match stream {
            Stream::Stdout => std::io::stdout().lock().write_all(text.as_bytes()),
            Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
        };
    }
}

/// What a [`Captured`] sink received, in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Shown {
    /// `print`, `eprint` or `debug` output.
    Text(Stream, String),
    /// A rich item shown.
    Display(DisplayItem),
    /// A replacement for the item with the same display id.
    Update(DisplayItem),
    /// `clear_output`.
    Clear { wait: bool },
}

/// Keeps everything in memory (tests, and front-ends that forward later).
/// Rich items also count as their plain text on stdout, as a terminal shows them.
#[derive(Debug, Default)]
pub struct Captured {
    items: Mutex<Vec<Shown>>,
}

impl Captured {
    /// All text written to `stream`, concatenated.
    pub fn text(&self, stream: Stream) -> String {
        self.lock()
            .iter()
            .filter_map(|item| match item {
                Shown::Text(s, text) if *s == stream => Some(text.clone()),
                Shown::Display(d) | Shown::Update(d) if stream == Stream::Stdout => {
                    Some(with_newline(&d.plain))
                }
                _ => None,
            })
            .collect()
    }

    /// Everything received, in order.
    pub fn shown(&self) -> Vec<Shown> {
        self.lock().clone()
    }

    fn push(&self, item: Shown) {
        self.lock().push(item);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Shown>> {
        self.items.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl DisplaySink for Captured {
    fn stream(&self, stream: Stream, text: &str) {
        self.push(Shown::Text(stream, text.to_string()));
    }

    fn display(&self, item: &DisplayItem) {
        self.push(Shown::Display(item.clone()));
    }

    fn update_display(&self, item: &DisplayItem) {
        self.push(Shown::Update(item.clone()));
    }

    fn clear_output(&self, wait: bool) {
        self.push(Shown::Clear { wait });
    }
}

/// The widget model a value shows as: a widget's own, or a map's Map
/// model (the map value also holds its layers and drawn areas).
fn widget_id(value: &Dynamic) -> Option<String> {
    if let Some(widget) = value.read_lock::<super::widgets::Widget>() {
        return Some(widget.id.clone());
    }
    let map = value.read_lock::<super::maps::map::LeafletMap>()?;
    Some(map.map.id.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(pairs: &[(&str, Dynamic)]) -> Dynamic {
        let map: Map = pairs
            .iter()
            .map(|(k, v)| ((*k).into(), v.clone()))
            .collect();
        Dynamic::from_map(map)
    }

    #[test]
    fn an_array_of_maps_is_a_table_with_every_column() {
        let rows: Array = vec![
            row(&[("tile", "T33".into()), ("cloud", Dynamic::from(12_i64))]),
            row(&[("tile", "<T34>".into()), ("date", "2020-08-18".into())]),
        ];
        let item = DisplayItem::of_value(&Dynamic::from_array(rows), |v| v.to_string());
        assert_eq!(
            item.plain,
            "cloud  tile   date\n-----  -----  ----------\n12     T33\n       <T34>  2020-08-18\n"
        );
        let html = item.html.unwrap();
        assert!(html.contains("<th>cloud</th>"), "{html}");
        assert!(html.contains("<td>&lt;T34&gt;</td>"), "escaped: {html}");
    }

    #[test]
    fn product_rows_keep_the_catalogues_field_order() {
        let rows: Array = vec![row(&[
            ("size", Dynamic::from(3_i64)),
            ("name", "S2A".into()),
            ("id", "7".into()),
            ("note", "x".into()),
            ("mission", "Sentinel-2".into()),
        ])];
        let item = DisplayItem::of_value(&Dynamic::from_array(rows), |v| v.to_string());
        let header = item.plain.lines().next().unwrap().to_string();
        let words: Vec<&str> = header.split_whitespace().collect();
        assert_eq!(words, ["id", "name", "mission", "size", "note"]);
    }

    #[test]
    fn other_values_are_text_only() {
        let item = DisplayItem::of_value(&Dynamic::from(42_i64), |v| v.to_string());
        assert_eq!(item, DisplayItem::text("42"));
        let mixed: Array = vec![row(&[("a", Dynamic::from(1_i64))]), Dynamic::from(2_i64)];
        assert!(
            DisplayItem::of_value(&Dynamic::from_array(mixed), |v| v.to_string())
                .html
                .is_none()
        );
    }

    #[test]
    fn a_terminal_like_sink_prints_the_plain_text_of_rich_items() {
        struct Lines(Mutex<String>);
        impl DisplaySink for Lines {
            fn stream(&self, _: Stream, text: &str) {
                self.0.lock().unwrap().push_str(text);
            }
        }
        let sink = Lines(Mutex::new(String::new()));
        sink.display(&DisplayItem::text("a").with_png(vec![1]));
        sink.update_display(&DisplayItem::text("b\n").with_id("p"));
        sink.clear_output(false);
        assert_eq!(*sink.0.lock().unwrap(), "a\nb\n");
    }
}
