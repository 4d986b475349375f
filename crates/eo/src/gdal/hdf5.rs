//! Keeping HDF5's internal diagnostics off the learner's terminal.
//!
//! netCDF-4 files are HDF5 files. When GDAL opens one, netCDF-C probes
//! optional attributes (`_QuantizeBitGroomNumberOfSignificantDigits`, …)
//! and HDF5 prints a dozen-line "HDF5-DIAG" trace for every one that is
//! missing: thousands of lines per tutorial, none of them an error. netCDF-C
//! turns the printing off, but Debian's HDF5 is thread-safe, so the setting
//! belongs to each thread and only the first thread that touched HDF5 is
//! quiet. Every thread of cleope that reads rasters calls
//! [`silence_on_this_thread`]; it takes effect once HDF5 is loaded (GDAL
//! brings it in, and the binary loads GDAL only on first use).
//!
//! The function is looked up at run time rather than linked, so cleope
//! neither depends on HDF5's library name (`hdf5_serial` on Debian) nor
//! breaks with a GDAL built without it: then there is nothing to silence.

use crate::gdal::library::loaded_symbol;
use std::cell::Cell;
use std::ffi::{c_int, c_void};

/// `herr_t H5Eset_auto2(hid_t stack, H5E_auto2_t func, void *data)`.
type SetAuto = unsafe extern "C" fn(stack: i64, func: *const c_void, data: *mut c_void) -> c_int;

/// HDF5's `H5E_DEFAULT`: the calling thread's default error stack.
const DEFAULT_STACK: i64 = 0;

thread_local! {
    static SILENCED: Cell<bool> = const { Cell::new(false) };
}

/// Turns off HDF5's automatic error printing for the calling thread (once
/// HDF5 is loaded; later calls cost a thread-local read). Errors still reach
/// cleope through GDAL's return values and messages.
pub fn silence_on_this_thread() {
    if SILENCED.with(Cell::get) {
        return;
    }
    if let Some(set_auto) = set_auto() {
        // SAFETY: `set_auto` is HDF5's H5Eset_auto2; a null handler and
        // data on the default stack is its documented way to stop printing.
        unsafe {
            set_auto(DEFAULT_STACK, std::ptr::null(), std::ptr::null_mut());
        }
        SILENCED.with(|done| done.set(true));
    }
}

/// HDF5's `H5Eset_auto2` when the process has HDF5 loaded (GDAL's netCDF
/// and HDF5 drivers bring it in).
fn set_auto() -> Option<SetAuto> {
    let symbol = loaded_symbol(c"H5Eset_auto2")?;
    // SAFETY: H5Eset_auto2 has the signature of `SetAuto` in HDF5 1.10+
    // (hid_t is 64-bit since 1.10).
    Some(unsafe { std::mem::transmute::<*mut c_void, SetAuto>(symbol) })
}

/// Whether HDF5 prints its diagnostics on the calling thread (asked of
/// `H5Eget_auto2`); `None` when HDF5 is not loaded.
#[cfg(test)]
pub(crate) fn prints_on_this_thread() -> Option<bool> {
    type GetAuto =
        unsafe extern "C" fn(stack: i64, func: *mut *const c_void, data: *mut *mut c_void) -> c_int;
    let symbol = loaded_symbol(c"H5Eget_auto2")?;
    // SAFETY: H5Eget_auto2 has the signature of `GetAuto` in HDF5 1.10+.
    let get_auto = unsafe { std::mem::transmute::<*mut c_void, GetAuto>(symbol) };
    let mut handler: *const c_void = std::ptr::null();
    let mut data: *mut c_void = std::ptr::null_mut();
    // SAFETY: both out-pointers point at live locals.
    unsafe { get_auto(DEFAULT_STACK, &mut handler, &mut data) };
    Some(!handler.is_null())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hdf5_is_found_in_a_process_linked_with_gdal() {
        // Referencing GDAL makes sure its libraries (and HDF5 with them) are loaded.
        assert!(gdal::DriverManager::get_driver_by_name("netCDF").is_ok());
        assert!(
            set_auto().is_some(),
            "H5Eset_auto2 not found among the loaded libraries"
        );
    }

    #[test]
    fn silencing_twice_is_harmless() {
        silence_on_this_thread();
        silence_on_this_thread();
        assert!(SILENCED.with(Cell::get));
    }
}
