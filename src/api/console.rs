//! Printing to the error stream, showing values (tables, images) and checking values.

use crate::runtime::Host;
use crate::runtime::display::{DisplayItem, rows_of, table_columns};
use rhai::Array;
use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(console_api)
}

/// The text a script's `to_string` gives for `value` (strings as they are).
fn text_of(ctx: &NativeCallContext, value: &Dynamic) -> String {
    if let Some(text) = value.read_lock::<ImmutableString>() {
        return text.to_string();
    }
    ctx.call_native_fn::<ImmutableString>("to_string", (value.clone(),))
        .map(|text| text.to_string())
        .unwrap_or_else(|_| value.to_string())
}

/// A script value as a display: tables as HTML and plain text, the rest as text.
fn item_of(ctx: &NativeCallContext, value: &Dynamic) -> DisplayItem {
    DisplayItem::of_value(value, |v| text_of(ctx, v))
}

/// A table of `rows` (an array of object maps) with `columns` (or, when
/// `None`, the columns [`table_columns`] chooses), or an error saying what a
/// table is.
fn table_item(
    ctx: &NativeCallContext,
    rows: Array,
    columns: Option<Array>,
) -> Result<DisplayItem, Box<EvalAltResult>> {
    let rows_value = Dynamic::from_array(rows);
    let Some(rows) = rows_of(&rows_value) else {
        return Err(crate::api::script_error(
            "NotATable",
            "print_table shows an array of maps, one map per row",
            "e.g. print_table([#{ tile: \"T33SVB\", cloud: 12.5 }], [\"tile\", \"cloud\"])",
        ));
    };
    let columns: Vec<String> = match columns {
        Some(columns) => columns.iter().map(|c| text_of(ctx, c)).collect(),
        None => table_columns(&rows),
    };
    Ok(DisplayItem::of_rows(&rows, &columns, |v| text_of(ctx, v)))
}

/// The 8 bytes every PNG file starts with.
const PNG_SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";

/// Width and height from a PNG's header chunk, when `bytes` is a PNG.
fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    if !bytes.starts_with(PNG_SIGNATURE) || bytes.len() < 24 || &bytes[12..16] != b"IHDR" {
        return None;
    }
    let number =
        |at: usize| u32::from_be_bytes([bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]]);
    Some((number(16), number(20)))
}

/// Reads a PNG file of the workspace (charging its size to the memory
/// quota while it is read) and makes it a display.
fn png_item(ctx: &NativeCallContext, path: &str) -> Result<DisplayItem, Box<EvalAltResult>> {
    use crate::api::{breach_error, file_error, script_error};
    use crate::sandbox::files;
    let host = Host::of(ctx)?;
    let workspace = host.workspace();
    let size = files::size(&workspace, path).map_err(file_error)?;
    let _reading = host
        .memory
        .charge(size, &format!("reading \"{path}\""))
        .map_err(breach_error)?;
    let bytes =
        files::read_bytes(&workspace, path, host.limits.file_read_bytes).map_err(file_error)?;
    let Some((width, height)) = png_size(&bytes) else {
        return Err(script_error(
            "NotAPng",
            &format!("\"{path}\" is not a PNG image"),
            "display_png shows .png files, such as the figures saved with fig.save(\"output/name.png\")",
        ));
    };
    Ok(DisplayItem::text(format!("[image {path}: {width} x {height} px]")).with_png(bytes))
}

/// Asks the person at the notebook for a line of text.
fn ask(
    ctx: &NativeCallContext,
    prompt: &str,
    password: bool,
) -> Result<String, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let answer = host.display.input(prompt, password);
    // An interrupt ends the wait: stop the cell as an interrupt does.
    if host.cancel.is_interrupted() {
        return Err(crate::api::stop_error(crate::sandbox::Stop::Interrupted));
    }
    answer.ok_or_else(|| {
        crate::api::script_error(
            "NoInput",
            "nobody can answer here: input works in a notebook cell, not in a script run",
            "give the value in the code instead (or in a file under resources/)",
        )
    })
}

#[export_module]
mod console_api {
    use super::{ask, item_of, png_item, table_item, text_of};
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
        host.display
            .stream(Stream::Stderr, &format!("{}\n", text_of(&ctx, &value)));
        Ok(())
    }

    /// Shows a value. A table (an array of object maps, like the rows
    /// `read_csv` returns) is shown as a table, in a notebook as a formatted
    /// HTML table; any other value is shown as text.
    ///
    /// ```rhai
    /// let scenes = [
    ///     #{ tile: "T33SVB", date: "2020-08-18", cloud: 12.5 },
    ///     #{ tile: "T33SVB", date: "2020-08-23", cloud: 3.1 },
    /// ];
    /// display(scenes);
    /// display("2 scenes found");
    /// ```
    #[rhai_fn(name = "display", return_raw)]
    pub fn display(ctx: NativeCallContext, value: Dynamic) -> Result<(), Box<EvalAltResult>> {
        Host::of(&ctx)?.display.display(&item_of(&ctx, &value));
        Ok(())
    }

    /// Prints an array of maps as a table, one row per map (in a notebook,
    /// one HTML table). Maps keep their keys in alphabetical order, not the
    /// order they were written in, so the columns come alphabetically
    /// (a catalogue product's fields in the catalogue's order); give the
    /// columns to choose them and their order.
    ///
    /// ```rhai
    /// print_table([#{ date: "2020-08-18", ships: 12 }, #{ date: "2020-08-24", ships: 9 }]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn print_table(ctx: NativeCallContext, rows: Array) -> Result<(), Box<EvalAltResult>> {
        if rows.is_empty() {
            let host = Host::of(&ctx)?;
            host.display.stream(Stream::Stdout, "(no rows)\n");
            return Ok(());
        }
        let item = table_item(&ctx, rows, None)?;
        Host::of(&ctx)?.display.display(&item);
        Ok(())
    }

    /// Prints an array of maps as a table with the given columns, in that
    /// order (in a notebook, one HTML table); a missing value is an empty cell.
    ///
    /// ```rhai
    /// let scenes = [#{ tile: "T30SVG", cloud: 3.5 }, #{ tile: "T56HKF", cloud: 41.0 }];
    /// print_table(scenes, ["tile", "cloud"]);
    /// ```
    #[rhai_fn(name = "print_table", return_raw)]
    pub fn print_table_with_columns(
        ctx: NativeCallContext,
        rows: Array,
        columns: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        if rows.is_empty() {
            let host = Host::of(&ctx)?;
            host.display.stream(Stream::Stdout, "(no rows)\n");
            return Ok(());
        }
        let item = table_item(&ctx, rows, Some(columns))?;
        Host::of(&ctx)?.display.display(&item);
        Ok(())
    }

    /// Shows an array of maps as a table with the given columns, in that
    /// order; in a notebook as a formatted HTML table.
    ///
    /// ```rhai
    /// let scenes = [#{ tile: "T33SVB", cloud: 12.5 }, #{ tile: "T33SVC", cloud: 3.1 }];
    /// display(scenes, ["tile", "cloud"]);
    /// ```
    #[rhai_fn(name = "display", return_raw)]
    pub fn display_with_columns(
        ctx: NativeCallContext,
        rows: Array,
        columns: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let item = table_item(&ctx, rows, Some(columns))?;
        Host::of(&ctx)?.display.display(&item);
        Ok(())
    }

    /// Shows a value under the name `id`, so that `update_display(value, id)`
    /// can replace it later in place, e.g. a progress message. In a terminal
    /// each update is printed on a line of its own.
    ///
    /// ```rhai
    /// display("downloading: 0 of 3", "progress");
    /// for i in 1..=3 {
    ///     update_display(`downloading: ${i} of 3`, "progress");
    /// }
    /// ```
    #[rhai_fn(name = "display", return_raw)]
    pub fn display_with_id(
        ctx: NativeCallContext,
        value: Dynamic,
        id: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let item = item_of(&ctx, &value).with_id(id);
        Host::of(&ctx)?.display.display(&item);
        Ok(())
    }

    /// Replaces what was shown with `display(value, id)` by `value`.
    ///
    /// ```rhai
    /// display("NDVI: computing...", "ndvi");
    /// let ndvi = 0.42;
    /// update_display(`NDVI: ${ndvi}`, "ndvi");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn update_display(
        ctx: NativeCallContext,
        value: Dynamic,
        id: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let item = item_of(&ctx, &value).with_id(id);
        Host::of(&ctx)?.display.update_display(&item);
        Ok(())
    }

    /// Shows a PNG image file of the workspace, e.g. a figure saved earlier.
    /// In a notebook the image appears below the cell; in a terminal its
    /// name and size are printed.
    ///
    /// ```rhai
    /// // A figure saved earlier, e.g. with fig.save("output/ndvi.png").
    /// try {
    ///     display_png("output/ndvi.png");
    /// } catch (e) {
    ///     print(e.kind);   // FileNotFound until the figure exists
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn display_png(ctx: NativeCallContext, path: &str) -> Result<(), Box<EvalAltResult>> {
        let item = png_item(&ctx, path)?;
        Host::of(&ctx)?.display.display(&item);
        Ok(())
    }

    /// Clears what the current notebook cell has shown so far (a terminal
    /// keeps its text).
    ///
    /// ```rhai
    /// print("step 1 of 2");
    /// clear_output();
    /// print("step 2 of 2");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn clear_output(ctx: NativeCallContext) -> Result<(), Box<EvalAltResult>> {
        Host::of(&ctx)?.display.clear_output(false);
        Ok(())
    }

    /// Clears what the current notebook cell has shown so far; with `wait`
    /// true, only when the next output arrives, so that an animation redrawn
    /// in a loop does not flicker.
    ///
    /// ```rhai
    /// for step in 1..=3 {
    ///     clear_output(true);
    ///     print(`step ${step} of 3`);
    /// }
    /// ```
    #[rhai_fn(name = "clear_output", return_raw)]
    pub fn clear_output_waiting(
        ctx: NativeCallContext,
        wait: bool,
    ) -> Result<(), Box<EvalAltResult>> {
        Host::of(&ctx)?.display.clear_output(wait);
        Ok(())
    }

    /// Asks the learner for a line of text and returns it. In a notebook a
    /// text box appears below the cell; where nobody can answer (a script
    /// run), it fails with `NoInput`.
    ///
    /// ```rhai
    /// let name = "student";
    /// try {
    ///     name = input("Your name: ");
    /// } catch (e) {
    ///     print(e.kind);   // NoInput outside a notebook
    /// }
    /// print(`Hello, ${name}!`);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn input(ctx: NativeCallContext, prompt: &str) -> Result<String, Box<EvalAltResult>> {
        ask(&ctx, prompt, false)
    }

    /// Like `input`, for secrets (a catalogue password): what is typed is
    /// not shown, and the answer is not kept in the notebook.
    ///
    /// ```rhai
    /// try {
    ///     let password = input_password("Catalogue password: ");
    ///     print(`${password.len()} characters`);
    /// } catch (e) {
    ///     print(e.kind);   // NoInput outside a notebook
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn input_password(
        ctx: NativeCallContext,
        prompt: &str,
    ) -> Result<String, Box<EvalAltResult>> {
        ask(&ctx, prompt, true)
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

#[cfg(test)]
mod tests {
    use super::png_size;

    #[test]
    fn png_size_reads_the_header_and_refuses_other_files() {
        let mut png = super::PNG_SIGNATURE.to_vec();
        png.extend_from_slice(&[0, 0, 0, 13]);
        png.extend_from_slice(b"IHDR");
        png.extend_from_slice(&640_u32.to_be_bytes());
        png.extend_from_slice(&480_u32.to_be_bytes());
        assert_eq!(png_size(&png), Some((640, 480)));
        assert_eq!(png_size(b"GIF89a........................"), None);
        assert_eq!(png_size(&png[..20]), None);
    }
}
