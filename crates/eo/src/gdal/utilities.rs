//! GDAL's command-line utilities as a library (`gdalwarp`, `gdal_translate`),
//! behind the one open door: the source is opened through [`dataset`], so its
//! format is checked against the allow-list like any other read, and the
//! options travel as the NUL-terminated argument vector GDAL expects. This is
//! the only place that calls `GDALWarp` and `GDALTranslate`.

use std::ffi::{CString, c_char, c_int};

use super::dataset::{self, OpenError, Origin};

/// Why a utility did not produce its output.
#[derive(Debug, thiserror::Error)]
pub enum UtilityError {
    /// The source was refused or could not be opened.
    #[error(transparent)]
    Open(#[from] OpenError),
    /// An option or the target path contains a NUL byte.
    #[error("an option contains a NUL byte")]
    Nul,
    /// GDAL refused the options or failed while running.
    #[error("{what} failed: {message}")]
    Failed {
        /// What was being done ("warping", "windowing", …).
        what: &'static str,
        /// GDAL's last error message.
        message: String,
    },
}

/// Runs GDAL's warper (the library behind `gdalwarp ARGS SOURCE TARGET`).
pub fn warp(
    source: &str,
    origin: Origin,
    args: &[String],
    target: &str,
) -> Result<(), UtilityError> {
    let dataset = dataset::open_as(source, origin, Default::default())?;
    let mut argv = Argv::new(args)?;
    let target = CString::new(target).map_err(|_| UtilityError::Nul)?;
    // SAFETY: argv outlives the options, which are freed before returning;
    // the source handle stays valid while `dataset` lives; the result is
    // closed here (its file stays for the caller to open).
    unsafe {
        let options =
            gdal_sys::GDALWarpAppOptionsNew(argv.pointers.as_mut_ptr(), std::ptr::null_mut());
        if options.is_null() {
            return Err(failed("preparing the warp"));
        }
        let mut sources = [dataset.c_dataset()];
        let mut usage_error: c_int = 0;
        let result = gdal_sys::GDALWarp(
            target.as_ptr(),
            std::ptr::null_mut(),
            1,
            sources.as_mut_ptr(),
            options,
            &mut usage_error,
        );
        gdal_sys::GDALWarpAppOptionsFree(options);
        if result.is_null() {
            return Err(failed("warping"));
        }
        gdal_sys::GDALClose(result);
    }
    Ok(())
}

/// Runs GDAL's translator (the library behind `gdal_translate ARGS SOURCE TARGET`).
pub fn translate(
    source: &str,
    origin: Origin,
    args: &[&str],
    target: &str,
) -> Result<(), UtilityError> {
    let dataset = dataset::open_as(source, origin, Default::default())?;
    let mut argv = Argv::new(args)?;
    let target = CString::new(target).map_err(|_| UtilityError::Nul)?;
    // SAFETY: as in `warp`.
    unsafe {
        let options =
            gdal_sys::GDALTranslateOptionsNew(argv.pointers.as_mut_ptr(), std::ptr::null_mut());
        if options.is_null() {
            return Err(failed("preparing the window"));
        }
        let mut usage_error: c_int = 0;
        let result = gdal_sys::GDALTranslate(
            target.as_ptr(),
            dataset.c_dataset(),
            options,
            &mut usage_error,
        );
        gdal_sys::GDALTranslateOptionsFree(options);
        if result.is_null() {
            return Err(failed("windowing"));
        }
        gdal_sys::GDALClose(result);
    }
    Ok(())
}

/// C strings and the null-terminated pointer array GDAL's utilities take.
struct Argv {
    _strings: Vec<CString>,
    pointers: Vec<*mut c_char>,
}

impl Argv {
    fn new<S: AsRef<str>>(args: &[S]) -> Result<Argv, UtilityError> {
        let strings: Vec<CString> = args
            .iter()
            .map(|a| CString::new(a.as_ref()).map_err(|_| UtilityError::Nul))
            .collect::<Result<_, _>>()?;
        let mut pointers: Vec<*mut c_char> =
            strings.iter().map(|s| s.as_ptr() as *mut c_char).collect();
        pointers.push(std::ptr::null_mut());
        Ok(Argv {
            _strings: strings,
            pointers,
        })
    }
}

/// `what` failed, with GDAL's last error message.
fn failed(what: &'static str) -> UtilityError {
    // SAFETY: GDAL returns a valid (possibly empty) C string.
    let message = unsafe { std::ffi::CStr::from_ptr(gdal_sys::CPLGetLastErrorMsg()) }
        .to_string_lossy()
        .into_owned();
    UtilityError::Failed { what, message }
}
