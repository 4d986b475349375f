//! GDAL set up when it is loaded, which may be long after start-up.
//!
//! The `cleope` binary links GDAL lazily: the library and its 113
//! dependencies are loaded by the first call into GDAL, not before `main`
//! (see `src/lazy_gdal.rs`), so a REPL or a kernel that never reads a raster
//! never pays for them. What cleope sets on GDAL for a session — the quiet
//! message handler, the limit of the block cache — must then wait for that
//! first call, or asking for it would load GDAL at start-up. [`configure`]
//! records the settings and applies them at once when GDAL is already
//! loaded (test binaries and other users of the library link it normally);
//! the binary calls [`after_load`] the moment it has loaded GDAL.

use std::ffi::{CStr, c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// GDAL's block cache limit in MiB (0: not configured yet).
static CACHE_MEGABYTES: AtomicU64 = AtomicU64::new(0);

/// Records a session's GDAL settings and applies them if GDAL is loaded.
///
/// The block cache is kept inside a small share of the memory quota (GDAL
/// would otherwise take 5 % of the machine's RAM): 64 MiB of a 2 GiB quota,
/// enough to keep decoded JP2 tiles between neighbouring blocks.
pub fn configure(memory_quota: u64) {
    CACHE_MEGABYTES.store(cache_megabytes(memory_quota), Ordering::Release);
    if is_loaded() {
        apply_settings();
    }
}

/// A 32nd of the memory quota, between 16 and 256 MiB.
fn cache_megabytes(memory_quota: u64) -> u64 {
    (memory_quota / 32 / (1024 * 1024)).clamp(16, 256)
}

/// Applies the recorded settings and quiets HDF5 on the calling thread:
/// called by the binary right after it loads GDAL, on the thread whose call
/// loaded it, before that call proceeds.
pub fn after_load() {
    apply_settings();
    crate::eo::hdf5::silence_on_this_thread();
}

/// Whether libgdal is loaded in this process.
pub fn is_loaded() -> bool {
    loaded_symbol(c"GDALVersionInfo").is_some()
}

fn apply_settings() {
    crate::eo::gdal_messages::install();
    let megabytes = CACHE_MEGABYTES.load(Ordering::Acquire);
    if megabytes > 0 {
        // Only fails for an invalid key, which this is not.
        let _ = gdal::config::set_config_option("GDAL_CACHEMAX", &megabytes.to_string());
    }
}

/// The address of `name` in any library the process has loaded, if any.
/// The binary's own GDAL trampolines are hidden, so before GDAL is loaded
/// its functions are not found.
pub(crate) fn loaded_symbol(name: &CStr) -> Option<*mut c_void> {
    // RTLD_DEFAULT (a null handle in glibc): search every loaded library.
    // SAFETY: `name` is NUL-terminated.
    let symbol = unsafe { dlsym(std::ptr::null_mut(), name.as_ptr()) };
    (!symbol.is_null()).then_some(symbol)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cache_takes_a_32nd_of_the_memory_quota_within_bounds() {
        assert_eq!(cache_megabytes(2 << 30), 64);
        assert_eq!(cache_megabytes(64 << 20), 16);
        assert_eq!(cache_megabytes(64 << 30), 256);
    }

    #[test]
    fn test_binaries_see_gdal_loaded() {
        assert!(is_loaded(), "test binaries link GDAL normally");
    }
}
