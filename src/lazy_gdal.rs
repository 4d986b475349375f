//! The binary's lazy link to GDAL: the library is loaded by the first call
//! into it, not before `main`.
//!
//! Loading libgdal and its 113 dependencies costs 35 ms and 34 MiB, which a
//! Jupyter kernel, a REPL or `cleope --version` would otherwise pay before
//! doing anything, whether or not a cell ever reads a raster. `build.rs`
//! gives the binary its own definition of every C function libgdal exports:
//! a trampoline that jumps through a table whose slots first point at a stub
//! naming the function. The stub enters [`address_of`], which loads the
//! library (once), looks the function up, stores its address in the slot and
//! continues into it with the caller's registers intact; later calls take
//! one indirect jump. As the binary defines every GDAL function it calls,
//! the linker does not record libgdal as needed. The library's test
//! binaries link GDAL the usual way; this binary's own unit tests (below)
//! are linked like the binary.

use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

include!(concat!(env!("OUT_DIR"), "/lazy_gdal.rs"));

std::arch::global_asm!(
    include_str!(concat!(env!("OUT_DIR"), "/lazy_gdal.s")),
    resolve = sym address_of,
);

unsafe extern "C" {
    /// The slots the trampolines jump through (defined in `lazy_gdal.s`).
    static cleope_lazy_gdal_table: [AtomicUsize; GDAL_FUNCTION_COUNT];
    fn dlopen(file: *const c_char, mode: c_int) -> *mut c_void;
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    fn dlerror() -> *const c_char;
}

/// glibc's `RTLD_NOW | RTLD_GLOBAL`: resolve GDAL's own references at once
/// (it is linked with BIND_NOW anyway) and make its symbols, and HDF5's,
/// visible to later `dlsym(RTLD_DEFAULT, …)` lookups.
const LOAD_MODE: c_int = 0x2 | 0x100;

/// Whether the set-up that follows loading has started.
static SET_UP: AtomicBool = AtomicBool::new(false);

/// The real address of GDAL function number `index`: loads GDAL if this is
/// the first call into it, looks the function up and fills its slot.
/// Called by the resolver in `lazy_gdal.s`, with the original call's
/// arguments saved; an unknown library or function ends the process with a
/// message saying how to install GDAL, as the dynamic loader would have
/// done at start-up had GDAL been linked the usual way.
extern "C" fn address_of(index: u32) -> usize {
    let name = GDAL_FUNCTIONS[index as usize];
    // SAFETY: the handle is a live dlopen handle and `name` is NUL-terminated.
    let address = unsafe { dlsym(library() as *mut c_void, name.as_ptr()) };
    if address.is_null() {
        give_up(&format!(
            "{} has no function {}",
            GDAL_SONAME.to_string_lossy(),
            name.to_string_lossy()
        ));
    }
    // SAFETY: the table has GDAL_FUNCTION_COUNT slots and `index` is below it.
    unsafe { cleope_lazy_gdal_table[index as usize].store(address as usize, Ordering::Release) };
    if !SET_UP.swap(true, Ordering::AcqRel) {
        // After the slot is filled: the set-up calls GDAL itself, through
        // other trampolines that come back here for their own functions.
        cleope::eo::gdal_library::after_load();
    }
    address as usize
}

/// The dlopen handle of libgdal, loaded on the first call.
fn library() -> usize {
    static LIBRARY: OnceLock<usize> = OnceLock::new();
    *LIBRARY.get_or_init(|| {
        // SAFETY: the SONAME is NUL-terminated.
        let handle = unsafe { dlopen(GDAL_SONAME.as_ptr(), LOAD_MODE) };
        if handle.is_null() {
            // SAFETY: dlerror returns the message of the failed dlopen.
            let reason = unsafe { CStr::from_ptr(dlerror()) };
            give_up(&reason.to_string_lossy());
        }
        handle as usize
    })
}

/// Ends the process: without GDAL, no raster, swath or vector can be read.
fn give_up(reason: &str) -> ! {
    eprintln!(
        "cleope: cannot load GDAL, which this step needs: {reason}.\n\
         Install GDAL's runtime library (on Debian: apt-get install {package}), \
         or rebuild cleope against the GDAL this machine has (cargo install --path .).",
        package = debian_package()
    );
    std::process::exit(cleope::runtime::exit_code::USAGE);
}

/// Debian's package for the library: `libgdal.so.32` is in `libgdal32`.
fn debian_package() -> String {
    let soname = GDAL_SONAME.to_string_lossy();
    let version = soname.rsplit('.').next().unwrap_or_default();
    format!("libgdal{version}")
}

#[cfg(test)]
mod tests {
    use cleope::eo::gdal_library;
    use gdal::vector::{Geometry, OGRwkbGeometryType};

    /// This test binary is linked like the `cleope` binary. The first call
    /// into GDAL made here may be the one that loads it: its floating-point
    /// arguments travel in xmm registers through the resolver.
    #[test]
    fn a_first_call_loads_gdal_keeps_its_arguments_and_sets_gdal_up() {
        gdal_library::configure(2 << 30);
        let mut point = Geometry::empty(OGRwkbGeometryType::wkbPoint).unwrap();
        point.set_point_2d(0, (12.25, -41.5));
        assert_eq!(point.get_point(0), (12.25, -41.5, 0.0));
        assert!(gdal_library::is_loaded());
        assert_eq!(
            gdal::config::get_config_option("GDAL_CACHEMAX", "").unwrap(),
            "64"
        );
    }
}
