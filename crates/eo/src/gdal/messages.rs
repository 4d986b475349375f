//! Keeping GDAL's warnings off the learner's terminal.
//!
//! GDAL reports a problem twice: through the return value, which cleope
//! turns into an error with a hint, and through its error handler, which by
//! default prints every message to stderr. Warnings such as netCDF's
//! "dimension #2 (ground_pixel) is not a Longitude/X dimension", printed
//! for every variable of a Sentinel-5P or Sentinel-3 swath, are normal for
//! these products and mean nothing to a student. [`install`] replaces the
//! printing handler with one that keeps only fatal messages; failures still
//! reach scripts through GDAL's last-error message, which the handler does
//! not affect. Setting `CPL_DEBUG` (GDAL's own switch) keeps GDAL's printing
//! for whoever debugs a driver.

use gdal::errors::CplErrType;
use std::sync::atomic::{AtomicBool, Ordering};

/// Installs the quiet handler, once per process: part of GDAL's set-up
/// (see [`crate::gdal::library::ensure_loaded`]).
pub fn install() {
    static INSTALLED: AtomicBool = AtomicBool::new(false);
    if INSTALLED.swap(true, Ordering::AcqRel) || std::env::var_os("CPL_DEBUG").is_some() {
        return;
    }
    gdal::config::set_error_handler(|class, code, message| {
        if class == CplErrType::Fatal {
            eprintln!("GDAL fatal error {code}: {message}");
        }
    });
}
