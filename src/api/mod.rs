//! Rhai bindings: one plugin module per domain. Functions here convert
//! arguments, delegate to `sandbox`/`eo`, and turn failures into script errors
//! (`#{kind, message, hint}` maps that `try`/`catch` can inspect).
//! Every function has a `///` doc with a runnable `rhai` example.

pub mod aoi;
pub mod args;
pub mod builtins;
pub mod catalogue;
pub mod console;
pub mod files;
pub mod image;
pub mod maps;
pub mod matrix;
pub mod openeo;
pub mod plot;
pub mod products;
pub mod quota;
pub mod raster;
pub mod sentinel;
pub mod sentinel3;
pub mod sentinel5p;
pub mod services;
pub mod stac;
pub mod swath;
pub mod widgets;

use crate::eo::gdal::dataset::Refusal;
use crate::runtime::guard::{breach_value, error_value, interrupted_value};
use crate::sandbox::files::FileError;
use crate::sandbox::{Breach, PathError, Stop, Workspace};
use rhai::{Engine, EvalAltResult, Module, Position};

/// A documented group of functions, as listed in docs/api.md.
pub struct ApiModule {
    pub name: &'static str,
    pub summary: &'static str,
    pub build: fn() -> Module,
}

/// Every API module, in the order the reference lists them.
pub const MODULES: &[ApiModule] = &[
    ApiModule {
        name: "console",
        summary: "Printing, checking values, rich displays (tables, images) and input prompts.",
        build: console::module,
    },
    ApiModule {
        name: "files",
        summary: "Reading and writing files in the workspace (text, JSON, CSV, product lists).",
        build: files::module,
    },
    ApiModule {
        name: "quota",
        summary: "The session's resource quotas and how much of them is used.",
        build: quota::module,
    },
    ApiModule {
        name: "builtins",
        summary: "Rhai built-ins that grow a value to a given length, checking the memory quota first.",
        build: builtins::module,
    },
    ApiModule {
        name: "matrix",
        summary: "Dense 2-D arrays of numbers, held in native memory charged to the memory quota.",
        build: matrix::module,
    },
    ApiModule {
        name: "aoi",
        summary: "Areas of interest: from bounds, vertices, GeoJSON or WKT; area, bounds, tests and output.",
        build: aoi::module,
    },
    ApiModule {
        name: "catalogue",
        summary: "Finding, ordering and downloading products, and opening them in the mounted archive (ENS).",
        build: catalogue::module,
    },
    ApiModule {
        name: "stac",
        summary: "STAC catalogues: item search, collections, and the assets of products.",
        build: stac::module,
    },
    ApiModule {
        name: "products",
        summary: "What product names say: mission, type, sensing time, tile, orbit.",
        build: products::module,
    },
    ApiModule {
        name: "raster",
        summary: "Lazy georeferenced rasters: open, combine, clip, then compute statistics or save, block by block.",
        build: raster::module,
    },
    ApiModule {
        name: "image",
        summary: "Image operations for detection: filters, morphology, connected components, contours.",
        build: image::module,
    },
    ApiModule {
        name: "plot",
        summary: "Figures: maps of rasters with colormaps, colour bars and georeferenced axes.",
        build: plot::module,
    },
    ApiModule {
        name: "maps",
        summary: "Interactive maps in notebooks: rasters, footprints and areas on an offline base map, and areas drawn by hand.",
        build: maps::module,
    },
    ApiModule {
        name: "sentinel",
        summary: "Sentinel-1 GRD and Sentinel-2 products: measurements and bands, lon/lat warps, stacks, composites, indices, ship detection.",
        build: sentinel::module,
    },
    ApiModule {
        name: "sentinel3",
        summary: "Sentinel-3 OLCI and SLSTR products: flag-masked, de-logged OLCI variables and stacks, SLSTR brightness temperature grids, median-reference anomalies, hot and cold spots, LST.",
        build: sentinel3::module,
    },
    ApiModule {
        name: "sentinel5p",
        summary: "Sentinel-5P TROPOMI Level-2 products: species, retrievals in an area filtered by quality and converted to a unit, area means.",
        build: sentinel5p::module,
    },
    ApiModule {
        name: "services",
        summary: "Copernicus services: CAMS atmospheric composition, CMEMS sea surface temperature, CGLS vegetation and dry matter productivity.",
        build: services::module,
    },
    ApiModule {
        name: "openeo",
        summary: "openEO: collections that run locally and translate to process graphs for a back-end.",
        build: openeo::module,
    },
    ApiModule {
        name: "swath",
        summary: "Scattered measurements (Sentinel-5P, Sentinel-3): clip, filter, scale, then grid onto a raster.",
        build: swath::module,
    },
    ApiModule {
        name: "widgets",
        summary: "Interactive widgets in notebooks: sliders, dropdowns, buttons, check boxes, text, dates, boxes, observe, on_click and interact.",
        build: widgets::module,
    },
];

/// Registers every API module into the engine's global namespace.
pub fn register(engine: &mut Engine) {
    for api in MODULES {
        engine.register_global_module((api.build)().into());
    }
}

/// A catchable script error with a stable `kind`.
pub fn script_error(kind: &str, message: &str, hint: &str) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(error_value(kind, message, hint), Position::NONE).into()
}

/// A quota breach as a catchable script error.
pub fn breach_error(breach: Breach) -> Box<EvalAltResult> {
    EvalAltResult::ErrorRuntime(breach_value(&breach), Position::NONE).into()
}

/// An interrupt ends the run (not catchable); a quota breach is catchable.
pub fn stop_error(stop: Stop) -> Box<EvalAltResult> {
    match stop {
        Stop::Interrupted => {
            EvalAltResult::ErrorTerminated(interrupted_value(), Position::NONE).into()
        }
        Stop::Quota(breach) => breach_error(breach),
    }
}

/// The path GDAL opens for a dataset a script names: refused when the name
/// is a GDAL dataset description rather than a file (`FormatNotAllowed`),
/// then confined to the session's roots (`PathNotAllowed`).
pub fn gdal_path(workspace: &Workspace, name: &str) -> Result<String, Box<EvalAltResult>> {
    crate::eo::gdal::dataset::check_script_name(name).map_err(refusal_error)?;
    workspace.resolve_gdal(name).map_err(path_error)
}

/// A dataset scripts may not open, as a script error.
pub fn refusal_error(refusal: Refusal) -> Box<EvalAltResult> {
    script_error("FormatNotAllowed", &refusal.to_string(), &refusal.hint)
}

pub fn path_error(error: PathError) -> Box<EvalAltResult> {
    script_error("PathNotAllowed", &error.to_string(), &error.hint)
}

pub fn file_error(error: FileError) -> Box<EvalAltResult> {
    match error {
        FileError::Path(e) => path_error(e),
        FileError::Quota(breach) => breach_error(breach),
        FileError::Io { path, error } if error.kind() == std::io::ErrorKind::NotFound => {
            script_error(
                "FileNotFound",
                &format!("\"{path}\" does not exist"),
                "check the name; relative paths start at the workspace root: list_files(\"output\") shows what is there",
            )
        }
        error @ FileError::Io { .. } => script_error("FileError", &error.to_string(), ""),
        error @ FileError::Format { .. } => script_error("BadFileContent", &error.to_string(), ""),
    }
}
