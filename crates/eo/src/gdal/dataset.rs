//! The one door through which cleope opens datasets with GDAL.
//!
//! GDAL follows references inside the files it opens: a VRT names other
//! files, raw byte ranges of any file and URLs; a string that is not a path
//! (`MEM:::DATAPOINTER=…`, inline `<VRTDataset>` XML, `/vsicurl/…`,
//! `NETCDF:"http://…"`, `WMS:…`) is itself a dataset. So the door asks who
//! made what is opened ([`Origin`]):
//!
//! * a file from outside cleope — one a script named or wrote, a product's
//!   file in the archive or the workspace — opens only by a plain file path
//!   (what `Workspace::resolve_gdal` gives: a confined file, a `/vsizip/`
//!   member of one, or a `NETCDF:"file":variable` subdataset of one) and
//!   only with the drivers of [`FILE_FORMATS`], none of which refers to
//!   other files by name. Anything else is refused with a [`Refusal`]
//!   (a script's `FormatNotAllowed`) before GDAL sees it;
//! * a dataset cleope built itself (a warped VRT in `/vsimem/cleope/`, a VRT
//!   written as XML) may also be a VRT: its sources are files that were
//!   opened through this door first.
//!
//! Every open first makes sure GDAL is loaded and set up
//! ([`crate::gdal::library::ensure_loaded`]): the binary links GDAL
//! lazily, and a machine without it gets [`OpenError::Unavailable`] here
//! rather than a dead process. The set-up closes the paths left behind this
//! door (network, plugins, sidecar writes) and quiets GDAL's warnings, and
//! every open quiets HDF5 on the calling thread (see [`crate::gdal::hdf5`]),
//! whichever thread opens: a session's, a rayon worker's, the kernel's or a
//! test's.

use std::ffi::CString;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use gdal::errors::GdalError;
use gdal::{Dataset, DatasetOptions};

use crate::gdal::library::GdalUnavailable;

/// Every GDAL driver cleope keeps registered (see
/// [`crate::gdal::library::HARDENING`]), in layers: COG, which only writes;
/// VRT, for datasets cleope builds; then [`FILE_FORMATS`].
pub const KEPT_DRIVERS: &[&str] = &[
    "COG",
    "VRT",
    "GTiff",
    "JP2OpenJPEG",
    "netCDF",
    "HDF5",
    "HDF5Image",
    "PNG",
    "JPEG",
    "GRIB",
];

/// The GDAL drivers that may read a file from outside cleope: formats whose
/// content never names another file or a URL (HDF5's external storage is
/// the exception only the operating-system wall stops).
pub const FILE_FORMATS: &[&str] = KEPT_DRIVERS.split_at(2).1;

/// What the drivers of [`FILE_FORMATS`] read, for messages.
const FILE_FORMAT_NAMES: &str =
    "GeoTIFF (and COG), JPEG 2000, netCDF, HDF5, PNG, JPEG and GRIB files";

/// The drivers for datasets cleope built itself: VRT and the file formats.
pub const BUILT_FORMATS: &[&str] = KEPT_DRIVERS.split_at(1).1;

/// Who made the dataset being opened, which decides what GDAL may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    /// A file from outside cleope: named or written by a script, or part of
    /// a product. Plain paths only, [`FILE_FORMATS`] only.
    File,
    /// A dataset cleope built (a VRT over files opened as [`Origin::File`]).
    Cleope,
}

/// Why the door did not open a dataset.
#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    /// Refused before or instead of GDAL reading it.
    #[error("{0}")]
    NotAllowed(Refusal),
    /// GDAL could not open it.
    #[error(transparent)]
    Gdal(#[from] GdalError),
    /// GDAL itself could not be loaded.
    #[error(transparent)]
    Unavailable(#[from] GdalUnavailable),
    /// A remote file ([`crate::gdal::remote`]) could not be read: refused
    /// by the network grant, the server, or the run's deadline.
    #[error(transparent)]
    Remote(#[from] crate::gdal::remote::RemoteError),
}

/// A dataset a script may not open: what was found, where, and what to do.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("\"{path}\" {found}")]
pub struct Refusal {
    /// The path or string as it was given.
    pub path: String,
    /// What it is, and why that is not allowed.
    pub found: String,
    /// How to get the data in a form scripts may open.
    pub hint: String,
}

impl Refusal {
    /// The same refusal, naming the path as the script spelled it.
    pub fn named(self, path: &str) -> Refusal {
        Refusal {
            path: path.to_string(),
            ..self
        }
    }
}

/// Opens a file from outside cleope read-only ([`Origin::File`]).
pub fn open(path: impl AsRef<Path>) -> Result<Dataset, OpenError> {
    open_as(path, Origin::File, DatasetOptions::default())
}

/// Opens a file from outside cleope with explicit `options` (e.g. the
/// multidimensional API); the door sets the allowed drivers.
pub fn open_ex(path: impl AsRef<Path>, options: DatasetOptions) -> Result<Dataset, OpenError> {
    open_as(path, Origin::File, options)
}

/// Opens a dataset cleope built ([`Origin::Cleope`]): a [`built_path`] or
/// the XML of a VRT cleope wrote.
pub fn open_built(path: &str) -> Result<Dataset, OpenError> {
    open_as(path, Origin::Cleope, DatasetOptions::default())
}

/// Opens `path` as made by `origin`, with `options`' flags.
pub fn open_as(
    path: impl AsRef<Path>,
    origin: Origin,
    options: DatasetOptions,
) -> Result<Dataset, OpenError> {
    crate::gdal::library::ensure_loaded()?;
    let path = path.as_ref();
    let formats = match origin {
        Origin::File => {
            check_file_path(&path.to_string_lossy()).map_err(OpenError::NotAllowed)?;
            FILE_FORMATS
        }
        Origin::Cleope => BUILT_FORMATS,
    };
    let options = DatasetOptions {
        allowed_drivers: Some(formats),
        ..options
    };
    Dataset::open_ex(path, options).map_err(|error| {
        let name = path.to_string_lossy();
        if let Some(failure) = crate::gdal::remote::take_failure(&name) {
            return OpenError::Remote(failure);
        }
        match origin {
            Origin::File => refusal_of_content(&name).map_or(error.into(), OpenError::NotAllowed),
            Origin::Cleope => error.into(),
        }
    })
}

/// A fresh name in GDAL's in-memory file system for a VRT cleope builds
/// (`kind` says what for: "warp", "window", "box").
pub fn built_path(kind: &str) -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    format!(
        "/vsimem/cleope/{kind}-{}.vrt",
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Refuses a name a script gives for a dataset when GDAL would take it as
/// something other than a file: a connection string (`MEM:::…`, `WMS:…`,
/// `HDF5:"…"`, `vrt://…`), a URL, inline XML, or a virtual file system
/// other than `/vsizip/`. `NETCDF:"file":variable` is a file's subdataset.
/// Checked before the name is resolved in the workspace, whose rules then
/// confine the file (a refused name would otherwise become an odd, missing
/// file there rather than a clear error).
pub fn check_script_name(name: &str) -> Result<(), Refusal> {
    let file = match name.strip_prefix("NETCDF:") {
        Some(rest) => match rest.strip_prefix('"') {
            Some(quoted) => quoted.split_once('"').map_or(quoted, |(file, _)| file),
            None => rest.rsplit_once(':').map_or(rest, |(file, _)| file),
        },
        None => name,
    };
    let inner = file.strip_prefix("/vsizip/").unwrap_or(file);
    let scheme = inner
        .split_once(':')
        .is_some_and(|(before, _)| !before.is_empty() && !before.contains('/'));
    let refused = inner.trim_start().starts_with('<')
        || inner.starts_with("/vsi")
        || inner.contains("://")
        || scheme;
    if refused {
        Err(not_a_file(name))
    } else {
        Ok(())
    }
}

/// Accepts the paths `Workspace::resolve_gdal` makes: an absolute file
/// path, `/vsizip/` and an absolute zip path, or `NETCDF:"<either>"` with an
/// optional `:variable`; and the names of remote files cleope registered
/// ([`crate::gdal::remote::register`]), which GDAL reads through cleope's
/// own client. Every other string is a connection string, inline XML or a
/// virtual file system GDAL would reach through.
fn check_file_path(path: &str) -> Result<(), Refusal> {
    if crate::gdal::remote::is_registered(path) {
        return Ok(());
    }
    if let Some(rest) = path.strip_prefix("NETCDF:\"") {
        let file = rest.split_once('"').map(|(file, _)| file);
        return match file {
            Some(file) if is_plain_file(file) => Ok(()),
            _ => Err(not_a_file(path)),
        };
    }
    if is_plain_file(path) {
        Ok(())
    } else {
        Err(not_a_file(path))
    }
}

/// An absolute path outside GDAL's virtual file systems, or a member of a
/// zip file at such a path.
fn is_plain_file(path: &str) -> bool {
    let real = path.strip_prefix("/vsizip/").unwrap_or(path);
    real.starts_with('/') && !real.starts_with("/vsi") && !real.contains('\0')
}

fn not_a_file(path: &str) -> Refusal {
    Refusal {
        path: shortened(path),
        found: "is not a file path: GDAL would take it as a dataset description \
                (a virtual file system, a URL, memory, a web service or XML), \
                which scripts may not open"
            .into(),
        hint: format!(
            "give the path of a file in the workspace or the archive; scripts may open {FILE_FORMAT_NAMES}"
        ),
    }
}

/// Why the file at `path` is refused, when it is in a format that refers
/// to other files or services (XML: VRT, WMS, WCS, …). `None` when it is
/// something else GDAL could not read (a damaged or unknown file).
fn refusal_of_content(path: &str) -> Option<Refusal> {
    let file = match path.strip_prefix("NETCDF:\"") {
        Some(rest) => rest.split_once('"')?.0,
        None => path,
    };
    let head = first_bytes(file, 512)?;
    let text = String::from_utf8_lossy(&head);
    let text = text.trim_start_matches('\u{feff}').trim_start();
    if !text.starts_with('<') {
        return None;
    }
    let found = if text.contains("<VRTDataset") {
        "is a VRT (GDAL Virtual Raster) file"
    } else {
        "is an XML description of a dataset (a VRT, a web map or coverage service, or similar)"
    };
    Some(Refusal {
        path: path.to_string(),
        found: format!(
            "{found}, which scripts may not open: it can make GDAL read other files or URLs"
        ),
        hint: format!(
            "convert it to GeoTIFF with gdal_translate outside cleope and open the GeoTIFF; \
             scripts may open {FILE_FORMAT_NAMES}"
        ),
    })
}

/// The first `count` bytes of a file, through GDAL's file layer (so that a
/// `/vsizip/` member reads too).
fn first_bytes(path: &str, count: usize) -> Option<Vec<u8>> {
    let c_path = CString::new(path).ok()?;
    // SAFETY: valid NUL-terminated strings; the handle is closed below and
    // the buffer has `count` bytes.
    unsafe {
        let file = gdal_sys::VSIFOpenL(c_path.as_ptr(), c"rb".as_ptr());
        if file.is_null() {
            return None;
        }
        let mut buffer = vec![0u8; count];
        let read = gdal_sys::VSIFReadL(buffer.as_mut_ptr().cast(), 1, count, file);
        gdal_sys::VSIFCloseL(file);
        buffer.truncate(read);
        Some(buffer)
    }
}

/// A long string (inline XML) cut for a message.
fn shortened(text: &str) -> String {
    const MOST: usize = 80;
    match text.char_indices().nth(MOST) {
        Some((end, _)) => format!("{}…", &text[..end]),
        None => text.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_quiets_hdf5_on_a_thread_that_never_touched_it() {
        let printing = std::thread::spawn(|| {
            // Referencing GDAL loads its libraries, HDF5 among them.
            assert!(gdal::DriverManager::get_driver_by_name("netCDF").is_ok());
            let before = crate::gdal::hdf5::prints_on_this_thread();
            let _ = open("/nonexistent/cleope-test.nc");
            (before, crate::gdal::hdf5::prints_on_this_thread())
        })
        .join()
        .unwrap();
        assert_eq!(printing, (Some(true), Some(false)));
    }

    #[test]
    fn the_format_lists_are_layers_of_the_kept_drivers() {
        assert_eq!(FILE_FORMATS[0], "GTiff");
        assert_eq!(BUILT_FORMATS[0], "VRT");
        assert!(!FILE_FORMATS.contains(&"VRT") && !BUILT_FORMATS.contains(&"COG"));
    }

    #[test]
    fn only_plain_file_paths_pass_for_files_from_outside() {
        for accepted in [
            "/ws/a.tif",
            "/vsizip//ws/p.zip/p.SAFE/b.jp2",
            "NETCDF:\"/ws/s.nc\":no2",
            "NETCDF:\"/vsizip//ws/p.zip/s.nc\":/PRODUCT/no2",
            "NETCDF:\"/ws/s.nc\"",
        ] {
            assert_eq!(check_file_path(accepted), Ok(()), "{accepted}");
        }
        for refused in [
            "<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"></VRTDataset>",
            "MEM:::DATAPOINTER=0x1234,PIXELS=1,LINES=1",
            "/vsicurl/http://127.0.0.1/x.tif",
            "/vsizip//vsicurl/http://127.0.0.1/x.zip/a.tif",
            "/vsimem/cleope/warp-0.vrt",
            "/vsistdin/",
            // Not registered by cleope: no remote file of that name.
            "/vsicleope/999999/x.tif",
            "/vsizip//vsicleope/1/x.zip/a.tif",
            "http://127.0.0.1/x.tif",
            "NETCDF:\"http://127.0.0.1/x.nc\":v",
            "NETCDF:\"/vsicurl/http://127.0.0.1/x.nc\":v",
            "HDF5:\"/ws/x.h5\"://v",
            "WMS:http://127.0.0.1/wms",
            "vrt:///ws/a.tif",
            "GTIFF_DIR:1:/ws/a.tif",
            "relative/a.tif",
        ] {
            let refusal = check_file_path(refused).expect_err(refused);
            assert!(refusal.found.contains("not a file path"), "{refused}");
        }
    }

    #[test]
    fn names_a_script_gives_are_files_or_refused() {
        for accepted in [
            "output/a.tif",
            "/archive/S2/b.jp2",
            "local_files/p.zip",
            "/vsizip/local_files/p.zip/p.SAFE/b.jp2",
            "NETCDF:\"output/s.nc\":no2",
            "NETCDF:output/s.nc:no2",
            "data/odd:name.tif",
        ] {
            assert_eq!(check_script_name(accepted), Ok(()), "{accepted}");
        }
        for refused in [
            "<VRTDataset rasterXSize=\"1\" rasterYSize=\"1\"></VRTDataset>",
            "  <GDAL_WMS></GDAL_WMS>",
            "MEM:::DATAPOINTER=0x1234,PIXELS=1,LINES=1",
            "/vsicurl/http://127.0.0.1/x.tif",
            "/vsizip//vsicurl/http://127.0.0.1/x.zip/a.tif",
            "/vsizip/http://127.0.0.1/x.zip/a.tif",
            "/vsimem/cleope/warp-0.vrt",
            "/vsis3/bucket/x.tif",
            // Even a registered remote file: scripts open URLs, which go
            // through the grant, never GDAL names.
            "/vsicleope/1/x.tif",
            "http://127.0.0.1/x.tif",
            "NETCDF:\"http://127.0.0.1/x.nc\":v",
            "NETCDF:\"/vsicurl/http://127.0.0.1/x.nc\":v",
            "HDF5:\"x.h5\"://v",
            "WMS:http://127.0.0.1/wms",
            "vrt://a.tif",
            "GTIFF_DIR:1:a.tif",
            "EEDAI:projects/x",
        ] {
            let refusal = check_script_name(refused).expect_err(refused);
            assert!(refusal.found.contains("not a file path"), "{refused}");
        }
    }

    #[test]
    fn connection_strings_are_refused_before_gdal_sees_them() {
        let secret = *b"cleope-secret-bytes";
        let memory = format!(
            "MEM:::DATAPOINTER={:p},PIXELS={},LINES=1,DATATYPE=Byte",
            secret.as_ptr(),
            secret.len()
        );
        let Err(OpenError::NotAllowed(refusal)) = open(&memory) else {
            panic!("MEM::: opened");
        };
        assert!(refusal.hint.contains("GeoTIFF"), "{refusal:?}");
        // The same string is a dataset GDAL reads, which is why it matters.
        assert!(open_built(&memory).is_err(), "MEM is not a built format");
    }

    #[test]
    fn a_vrt_under_any_name_is_refused_as_a_file_and_opens_when_cleope_built_it() {
        let dir = tempfile::tempdir().unwrap();
        let xml = "<VRTDataset rasterXSize=\"2\" rasterYSize=\"2\">\
                   <VRTRasterBand dataType=\"Byte\" band=\"1\"/></VRTDataset>";
        for name in ["x.vrt", "disguised.tif", "disguised.nc"] {
            let path = dir.path().join(name);
            std::fs::write(&path, xml).unwrap();
            let Err(OpenError::NotAllowed(refusal)) = open(&path) else {
                panic!("{name} opened");
            };
            assert!(refusal.found.contains("VRT"), "{refusal}");
            assert!(refusal.hint.contains("gdal_translate"), "{refusal}");
        }
        assert!(open_built(xml).is_ok(), "cleope's own VRTs open");
    }

    #[test]
    fn a_damaged_file_is_a_gdal_error_not_a_refusal() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("half.tif");
        std::fs::write(&path, b"II*\0garbage").unwrap();
        assert!(matches!(open(&path), Err(OpenError::Gdal(_))));
    }
}
