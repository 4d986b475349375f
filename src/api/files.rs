//! Files in the workspace: text, JSON, CSV and product lists.
//!
//! Relative paths start at the workspace root; the product archive and the
//! running script's folder can be read by their absolute paths.

use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(files_api)
}

/// A CSV cell as a script value: integers and decimals become numbers.
fn csv_value(text: &str) -> Dynamic {
    if let Ok(int) = text.parse::<rhai::INT>() {
        return int.into();
    }
    match text.parse::<rhai::FLOAT>() {
        Ok(float) if !text.trim().is_empty() => float.into(),
        _ => text.into(),
    }
}

use crate::api::{breach_error, file_error};

/// Cells read from a CSV file between two looks at the memory in use.
const CHECK_CELLS: usize = 1024;
use crate::runtime::Host;
use crate::sandbox::files;

pub(super) fn read_text_of(
    ctx: &NativeCallContext,
    path: &str,
) -> Result<String, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    let workspace = host.workspace();
    // Charge the file's size first, so a file too big for the memory quota
    // is refused before it is read: twice, as the text read is copied once
    // into a script string.
    let size = files::size(&workspace, path).map_err(file_error)?;
    let _reading = host
        .memory
        .charge(2 * size, &format!("reading \"{path}\""))
        .map_err(breach_error)?;
    files::read_text(&workspace, path, host.limits.file_read_bytes).map_err(file_error)
}

pub(super) fn write_text_to(
    ctx: &NativeCallContext,
    path: &str,
    text: &str,
) -> Result<(), Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    files::write_bytes(&host.workspace(), &host.disk, path, text.as_bytes())
        .map(|_| ())
        .map_err(file_error)
}

#[export_module]
mod files_api {
    use super::{CHECK_CELLS, read_text_of, write_text_to};
    use crate::api::builtins::{check_growth, json, json_error, sizes};
    use crate::api::{file_error, script_error};
    use crate::runtime::Host;
    use crate::sandbox::files::{self, CsvTable};
    use rhai::{Array, Map};

    /// Reads a whole text file.
    ///
    /// ```rhai
    /// write_text("output/note.txt", "NDVI from B8 and B4");
    /// let note = read_text("output/note.txt");
    /// assert(note.contains("B8"), "read back");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_text(ctx: NativeCallContext, path: &str) -> Result<String, Box<EvalAltResult>> {
        read_text_of(&ctx, path)
    }

    /// Writes text to a file, replacing it; folders are created as needed.
    ///
    /// The file is written completely or not at all, and the write counts
    /// against the disk quota.
    ///
    /// ```rhai
    /// write_text("output/summary.txt", "burned area: 12.5 km2\n");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_text(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        write_text_to(&ctx, path, text)
    }

    /// Adds text to the end of a file (creating it if needed).
    ///
    /// ```rhai
    /// append_text("output/log.txt", "first run\n");
    /// append_text("output/log.txt", "second run\n");
    /// assert(read_text("output/log.txt").ends_with("second run\n"), "appended");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn append_text(
        ctx: NativeCallContext,
        path: &str,
        text: &str,
    ) -> Result<(), Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let exists = files::exists(&host.workspace(), path).map_err(file_error)?;
        let mut content = if exists {
            read_text_of(&ctx, path)?
        } else {
            String::new()
        };
        content.push_str(text);
        write_text_to(&ctx, path, &content)
    }

    /// Reads a JSON file into maps, arrays, strings and numbers.
    ///
    /// ```rhai
    /// write_text("resources/aoi.json", `{"name": "Etna", "bbox": [14.8, 37.6, 15.2, 37.9]}`);
    /// let aoi = read_json("resources/aoi.json");
    /// print(aoi.name + " " + aoi.bbox[0]);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_json(ctx: NativeCallContext, path: &str) -> Result<Dynamic, Box<EvalAltResult>> {
        let text = read_text_of(&ctx, path)?;
        let host = Host::of(&ctx)?;
        let what = format!("reading \"{path}\"");
        json::parse(&text, &host.memory, &what)
            .map_err(|error| json_error(error, &format!("\"{path}\"")))
    }

    /// Writes a value (map, array, string, number, bool) as indented JSON.
    ///
    /// ```rhai
    /// write_json("output/result.json", #{ product: "S2A_MSIL2A", cloud: 12.5, bands: ["B04", "B08"] });
    /// assert(read_json("output/result.json").bands.len() == 2, "round trip");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_json(
        ctx: NativeCallContext,
        path: &str,
        value: Dynamic,
    ) -> Result<(), Box<EvalAltResult>> {
        let json: serde_json::Value = rhai::serde::from_dynamic(&value).map_err(|e| {
            script_error(
                "TypeMismatch",
                &format!("this value cannot be written as JSON: {e}"),
                "JSON holds maps, arrays, strings, numbers, booleans and (); \
                 convert other values first (e.g. a matrix with .to_array())",
            )
        })?;
        let text = serde_json::to_string_pretty(&json).expect("a JSON value serialises");
        write_text_to(&ctx, path, &(text + "\n"))
    }

    /// Reads a CSV file whose first line is the header, as an array of maps
    /// (one per row, keyed by column name). Numbers become numbers.
    ///
    /// ```rhai
    /// write_text("resources/sites.csv", "name,lat,lon\nEtna,37.75,14.99\nVesuvio,40.82,14.43\n");
    /// let sites = read_csv("resources/sites.csv");
    /// print(sites[1].name + " is at latitude " + sites[1].lat);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_csv(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let what = format!("reading \"{path}\"");
        let mut rows = Array::new();
        // A row is a map: several times its text in memory. The memory is
        // checked as the rows are made, every thousand cells or so.
        let mut unchecked_cells = 0;
        files::for_each_csv_row(
            &host.workspace(),
            path,
            host.limits.file_read_bytes,
            |header, record| {
                let map: Map = header
                    .iter()
                    .zip(record)
                    .map(|(key, cell)| (key.into(), super::csv_value(cell)))
                    .collect();
                rows.push(Dynamic::from_map(map));
                unchecked_cells += record.len().max(1);
                if unchecked_cells >= CHECK_CELLS {
                    unchecked_cells = 0;
                    host.memory.check_holding(&what)?;
                }
                Ok(())
            },
        )
        .map_err(file_error)?;
        Ok(rows)
    }

    /// Writes an array of maps as CSV; the columns are the maps' keys (in
    /// alphabetical order, as maps keep them).
    ///
    /// ```rhai
    /// let rows = [#{ date: "2020-08-18", ships: 12 }, #{ date: "2020-08-24", ships: 9 }];
    /// write_csv("output/ships.csv", rows);
    /// assert(read_csv("output/ships.csv")[1].ships == 9, "round trip");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_csv(
        ctx: NativeCallContext,
        path: &str,
        rows: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut maps = Vec::with_capacity(rows.len());
        for (index, row) in rows.into_iter().enumerate() {
            let type_name = row.type_name();
            let map = row.try_cast::<Map>().ok_or_else(|| {
                script_error(
                    "TypeMismatch",
                    &format!("row {index} is a {type_name}, not a map"),
                    "write_csv expects an array of maps, e.g. [#{ name: \"a\", size: 1 }]",
                )
            })?;
            maps.push(map);
        }
        let mut header: Vec<String> = Vec::new();
        for key in maps.iter().flat_map(|m| m.keys()) {
            if !header.iter().any(|h| h == key.as_str()) {
                header.push(key.to_string());
            }
        }
        let cell = |map: &Map, key: &str| {
            map.get(key)
                .filter(|v| !v.is_unit())
                .map(|v| v.to_string())
                .unwrap_or_default()
        };
        let table = CsvTable {
            rows: maps
                .iter()
                .map(|m| header.iter().map(|k| cell(m, k)).collect())
                .collect(),
            header,
        };
        write_text_to(&ctx, path, &files::render_csv(&table))
    }

    /// Reads a product list: one product path or name per line. Blank lines
    /// and lines starting with `#` are skipped.
    ///
    /// ```rhai
    /// write_text("resources/products.txt", "# my products\nS2A_MSIL2A_20191215T110441.SAFE\n\n");
    /// let products = read_product_list("resources/products.txt");
    /// assert(products.len() == 1, "one product");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn read_product_list(
        ctx: NativeCallContext,
        path: &str,
    ) -> Result<Array, Box<EvalAltResult>> {
        let text = read_text_of(&ctx, path)?;
        // Each line may become a string of its own, then a value in the array.
        let lines = text.lines().count();
        let per_line = sizes::VALUE + sizes::string_value(0) + 2 * sizes::vector(1, 24);
        let bytes = sizes::array(lines) + per_line * lines as u64 + 2 * text.len() as u64;
        check_growth(&ctx, bytes, || format!("the {lines} entries of \"{path}\""))?;
        Ok(files::parse_product_list(&text)
            .into_iter()
            .map(Dynamic::from)
            .collect())
    }

    /// Writes a product list, one entry per line.
    ///
    /// ```rhai
    /// write_product_list("output/product_list.txt", ["S1A_IW_GRDH_1SDV_A.SAFE", "S1A_IW_GRDH_1SDV_B.SAFE"]);
    /// assert(read_product_list("output/product_list.txt")[1].ends_with("B.SAFE"), "round trip");
    /// ```
    #[rhai_fn(return_raw)]
    pub fn write_product_list(
        ctx: NativeCallContext,
        path: &str,
        products: Array,
    ) -> Result<(), Box<EvalAltResult>> {
        let mut text = String::new();
        for product in products {
            let line = product.to_string();
            if line.contains('\n') {
                return Err(script_error(
                    "BadValue",
                    &format!("product entry {line:?} spans several lines"),
                    "each entry must be one product name or path",
                ));
            }
            text.push_str(&line);
            text.push('\n');
        }
        write_text_to(&ctx, path, &text)
    }

    /// Lists a folder: file names, with a trailing `/` on folders, sorted.
    ///
    /// ```rhai
    /// write_text("output/a.txt", "a");
    /// print(list_files("output"));
    /// ```
    #[rhai_fn(return_raw)]
    pub fn list_files(ctx: NativeCallContext, path: &str) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let names = files::list_dir(&host.workspace(), path).map_err(file_error)?;
        Ok(names.into_iter().map(Dynamic::from).collect())
    }

    /// True when the file or folder exists (and may be read).
    ///
    /// ```rhai
    /// if !file_exists("resources/polygon.json") {
    ///     print("draw your AOI first");
    /// }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn file_exists(ctx: NativeCallContext, path: &str) -> Result<bool, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        files::exists(&host.workspace(), path).map_err(file_error)
    }

    /// The workspace root and the read-only roots, as a map of paths.
    ///
    /// ```rhai
    /// let ws = workspace();
    /// print("downloads go to " + ws.local_files);
    /// ```
    #[rhai_fn(return_raw)]
    pub fn workspace(ctx: NativeCallContext) -> Result<Map, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let ws = host.workspace();
        let root = ws.root();
        let mut map = Map::new();
        map.insert("root".into(), root.display().to_string().into());
        for (folder, _) in crate::sandbox::WORKSPACE_FOLDERS {
            map.insert(
                folder.into(),
                root.join(folder).display().to_string().into(),
            );
        }
        let read_only: Array = ws
            .read_only_roots()
            .map(|(label, path)| format!("{label}: {}", path.display()).into())
            .collect();
        map.insert("read_only".into(), read_only.into());
        Ok(map)
    }
}
