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
    run(source, origin, args, target, |argv, source, target| {
        // SAFETY: the argument vector and target outlive the call; the
        // options are freed before returning.
        unsafe {
            let options = gdal_sys::GDALWarpAppOptionsNew(argv, std::ptr::null_mut());
            if options.is_null() {
                return Err(failed("preparing the warp"));
            }
            let mut sources = [source];
            let mut usage_error: c_int = 0;
            let result = gdal_sys::GDALWarp(
                target,
                std::ptr::null_mut(),
                1,
                sources.as_mut_ptr(),
                options,
                &mut usage_error,
            );
            gdal_sys::GDALWarpAppOptionsFree(options);
            non_null(result, "warping")
        }
    })
}

/// Runs GDAL's translator (the library behind `gdal_translate ARGS SOURCE TARGET`).
pub fn translate(
    source: &str,
    origin: Origin,
    args: &[&str],
    target: &str,
) -> Result<(), UtilityError> {
    run(source, origin, args, target, |argv, source, target| {
        // SAFETY: as in `warp`.
        unsafe {
            let options = gdal_sys::GDALTranslateOptionsNew(argv, std::ptr::null_mut());
            if options.is_null() {
                return Err(failed("preparing the window"));
            }
            let mut usage_error: c_int = 0;
            let result = gdal_sys::GDALTranslate(target, source, options, &mut usage_error);
            gdal_sys::GDALTranslateOptionsFree(options);
            non_null(result, "windowing")
        }
    })
}

/// Opens `source` at the door, prepares the arguments and the target's
/// name, lets `utility` make the target, and closes what it made (its
/// file stays for the caller to open).
fn run<S: AsRef<str>>(
    source: &str,
    origin: Origin,
    args: &[S],
    target: &str,
    utility: impl FnOnce(
        *mut *mut c_char,
        gdal_sys::GDALDatasetH,
        *const c_char,
    ) -> Result<gdal_sys::GDALDatasetH, UtilityError>,
) -> Result<(), UtilityError> {
    let dataset = dataset::open_as(source, origin, Default::default())?;
    let mut argv = Argv::new(args)?;
    let target = CString::new(target).map_err(|_| UtilityError::Nul)?;
    let made = utility(
        argv.pointers.as_mut_ptr(),
        dataset.c_dataset(),
        target.as_ptr(),
    )?;
    // SAFETY: `made` is a dataset the utility returned, closed once here.
    unsafe { gdal_sys::GDALClose(made) };
    Ok(())
}

/// The dataset a utility returned, or its failure when it returned none.
fn non_null(
    result: gdal_sys::GDALDatasetH,
    what: &'static str,
) -> Result<gdal_sys::GDALDatasetH, UtilityError> {
    if result.is_null() {
        Err(failed(what))
    } else {
        Ok(result)
    }
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
