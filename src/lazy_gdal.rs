//! The binary's lazy link to GDAL: the library is loaded when cleope first
//! needs it, not before `main`.
//!
//! Loading libgdal and its 113 dependencies costs 35 ms and 34 MiB, which a
//! Jupyter kernel, a REPL or `cleope --version` would otherwise pay before
//! doing anything, whether or not a cell ever reads a raster. `build.rs`
//! gives the binary its own definition of every C function libgdal exports,
//! as Implib.so (<https://github.com/yugr/Implib.so>) does: a trampoline
//! that jumps through a table whose slots first point at a stub naming the
//! function. As the binary defines every GDAL function it calls, the linker
//! does not record libgdal as needed.
//!
//! Loading is explicit: [`install`] (first thing in `main`) registers
//! [`load`] with `eo::gdal::library`, whose `ensure_loaded` — called at every
//! first entry into GDAL — loads the library and sets GDAL up, or returns
//! `GdalUnavailable`, which a script sees as an error in its cell. The stub
//! then only resolves: it enters [`address_of`], which looks the function up
//! in the loaded library, stores its address in the slot and continues into
//! it with the caller's registers intact; later calls take one indirect
//! jump. A GDAL function called before `ensure_loaded` is a bug in cleope:
//! debug builds (and tests) stop at once, naming the function; a release
//! build loads the library and carries on, and the next `ensure_loaded`
//! sets GDAL up before any dataset opens.
//!
//! The library's test binaries link GDAL the usual way; this binary's own
//! unit tests (below) are linked like the binary.

use cleope::eo::gdal::library::{self, GdalUnavailable};
use std::ffi::{CStr, c_char, c_int, c_void};
use std::sync::atomic::{AtomicPtr, AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};

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

/// The dlopen handle of libgdal once [`load`] has loaded it.
static LIBRARY: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

/// Tells `eo::gdal::library` how this binary loads GDAL.
pub fn install() {
    library::set_loader(load);
}

/// Loads libgdal (once; a failure is returned and may be retried).
fn load() -> Result<(), GdalUnavailable> {
    static LOADING: Mutex<()> = Mutex::new(());
    let _one_at_a_time = LOADING.lock().unwrap_or_else(PoisonError::into_inner);
    if !LIBRARY.load(Ordering::Acquire).is_null() {
        return Ok(());
    }
    let soname = soname();
    // SAFETY: the SONAME is NUL-terminated.
    let handle = unsafe { dlopen(soname.as_ptr(), LOAD_MODE) };
    if handle.is_null() {
        // SAFETY: dlerror returns the message of the failed dlopen.
        let reason = unsafe { CStr::from_ptr(dlerror()) };
        return Err(GdalUnavailable {
            reason: reason.to_string_lossy().into_owned(),
            package: debian_package(),
        });
    }
    LIBRARY.store(handle, Ordering::Release);
    Ok(())
}

/// The name libgdal is loaded by: its SONAME.
#[cfg(not(test))]
fn soname() -> &'static CStr {
    GDAL_SONAME
}

/// The name libgdal is loaded by, which this binary's tests may replace with
/// `CLEOPE_TEST_GDAL_SONAME` to play a machine without GDAL: the dynamic
/// loader finds `libgdal.so.32` through its cache and /usr/lib whatever the
/// environment says, and a test has no other way to hide it. Read only in
/// the test build; the real binary has no such door.
#[cfg(test)]
fn soname() -> std::ffi::CString {
    match std::env::var("CLEOPE_TEST_GDAL_SONAME") {
        Ok(name) => std::ffi::CString::new(name).expect("no NUL in the test SONAME"),
        Err(_) => GDAL_SONAME.to_owned(),
    }
}

/// The real address of GDAL function number `index`, stored in its slot.
/// Called by the resolver in `lazy_gdal.s` with the original call's
/// arguments saved: it only looks the function up, GDAL being loaded and set
/// up by `ensure_loaded` before anything calls it.
extern "C" fn address_of(index: u32) -> usize {
    let name = GDAL_FUNCTIONS[index as usize];
    #[cfg(test)]
    tests::capture_if_asked(index);
    let mut library = LIBRARY.load(Ordering::Acquire);
    if library.is_null() {
        library = load_without_door(name);
    }
    // SAFETY: the handle is a live dlopen handle and `name` is NUL-terminated.
    let address = unsafe { dlsym(library, name.as_ptr()) };
    if address.is_null() {
        // The library differs from the one cleope was built against.
        give_up(&format!(
            "{} has no function {}",
            GDAL_SONAME.to_string_lossy(),
            name.to_string_lossy()
        ));
    }
    // SAFETY: the table has GDAL_FUNCTION_COUNT slots and `index` is below it.
    unsafe { cleope_lazy_gdal_table[index as usize].store(address as usize, Ordering::Release) };
    address as usize
}

/// A GDAL function was called before `ensure_loaded`: a bug in cleope (a
/// first entry into GDAL that does not pass the door). Debug builds stop
/// here; a release build loads the library and lets the call proceed.
fn load_without_door(name: &CStr) -> *mut c_void {
    let bug = format!(
        "{} was called before GDAL was loaded: every first entry into GDAL must call \
         cleope::eo::gdal::library::ensure_loaded() first",
        name.to_string_lossy()
    );
    if cfg!(debug_assertions) {
        eprintln!("cleope: bug: {bug}");
        std::process::abort();
    }
    if let Err(unavailable) = load() {
        give_up(&unavailable.reason);
    }
    LIBRARY.load(Ordering::Acquire)
}

/// Ends the process: a call into GDAL cannot return without the function.
fn give_up(reason: &str) -> ! {
    eprintln!(
        "cleope: cannot call GDAL: {reason}.\n\
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
    use super::*;
    use cleope::runtime::{Captured, Chunk, Overrides, Session, Settings, Stream};
    use gdal::vector::{Geometry, OGRwkbGeometryType};
    use std::backtrace::Backtrace;
    use std::process::{Command, Output};
    use std::sync::atomic::AtomicU32;

    /// This test binary is linked like the `cleope` binary. The first call
    /// into GDAL made here may be the one that resolves a function: its
    /// floating-point arguments travel in xmm registers through the resolver.
    #[test]
    fn a_first_call_keeps_its_arguments_and_gdal_is_set_up_by_the_door() {
        install();
        library::configure(2 << 30);
        library::ensure_loaded().unwrap();
        let mut point = Geometry::empty(OGRwkbGeometryType::wkbPoint).unwrap();
        point.set_point_2d(0, (12.25, -41.5));
        assert_eq!(point.get_point(0), (12.25, -41.5, 0.0));
        assert!(library::is_loaded());
        assert_eq!(
            gdal::config::get_config_option("GDAL_CACHEMAX", "").unwrap(),
            "64"
        );
        assert_eq!(
            gdal::config::get_config_option("GDAL_DRIVER_PATH", "").unwrap(),
            "disable",
            "the hardening options are set"
        );
    }

    /// The function whose first call [`capture_if_asked`] records a
    /// backtrace of (u32::MAX: none).
    static CAPTURE_INDEX: AtomicU32 = AtomicU32::new(u32::MAX);
    static CAPTURED: Mutex<Option<String>> = Mutex::new(None);

    /// Called by [`address_of`]: the backtrace of the resolver when it
    /// resolves the function a test asked about.
    pub(super) fn capture_if_asked(index: u32) {
        if CAPTURE_INDEX
            .compare_exchange(index, u32::MAX, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
        {
            let trace = Backtrace::force_capture().to_string();
            *CAPTURED.lock().unwrap() = Some(trace);
        }
    }

    /// The unwinder walks from the resolver (assembly) into the Rust code
    /// that called the GDAL function: the resolver's CFI directives say
    /// where its caller's frame is. Without them the backtrace ends at the
    /// resolver.
    #[test]
    fn a_backtrace_taken_in_the_resolver_reaches_the_caller_of_the_trampoline() {
        install();
        library::ensure_loaded().unwrap();
        // A function nothing else in this binary calls.
        let name = c"GDALGetCacheUsed64";
        let index = GDAL_FUNCTIONS.iter().position(|f| *f == name).unwrap();
        CAPTURE_INDEX.store(index as u32, Ordering::Release);
        // SAFETY: a plain query of GDAL's block cache.
        let used = unsafe { gdal_sys::GDALGetCacheUsed64() };
        assert!(used >= 0);
        let trace = CAPTURED.lock().unwrap().take().expect("the resolver ran");
        assert!(
            trace.contains("address_of"),
            "the capture is taken in the resolver:\n{trace}"
        );
        assert!(
            trace
                .contains("a_backtrace_taken_in_the_resolver_reaches_the_caller_of_the_trampoline"),
            "the backtrace stops at the resolver:\n{trace}"
        );
    }

    /// Runs this test binary's ignored test `name` alone in a child
    /// process, with the environment `env`.
    fn child(name: &str, env: &[(&str, &str)]) -> Output {
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", name, "--ignored", "--nocapture"])
            .args(["--test-threads", "1"])
            .envs(env.iter().copied())
            .output()
            .unwrap()
    }

    /// On a machine without libgdal, opening a raster is a named error in
    /// the cell, and the session (its variables, the process) lives on.
    #[test]
    fn without_gdal_opening_a_raster_is_a_named_error_and_the_session_lives_on() {
        let output = child(
            "lazy_gdal::tests::session_without_gdal",
            &[("CLEOPE_TEST_GDAL_SONAME", "libgdal-not-installed.so.32")],
        );
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stdout}\n{stderr}");
        for expected in [
            "error: GdalUnavailable",
            "libgdal-not-installed.so.32: cannot open shared object file",
            "apt-get install libgdal32",
            "after: 42",
            "1 passed",
        ] {
            assert!(stdout.contains(expected), "{expected}:\n{stdout}");
        }
    }

    #[test]
    #[ignore = "run in a child process by without_gdal_opening_a_raster_is_a_named_error_…"]
    fn session_without_gdal() {
        install();
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().join("workspace")),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        let output = std::sync::Arc::new(Captured::default());
        let mut session = Session::new(settings, output.clone()).unwrap();
        let raster = session.host().workspace().root().join("a.tif");
        std::fs::write(raster, b"II*\0").unwrap();
        let mut cell = |code| session.run(Chunk::new("cell.rhai", code)).map(drop);
        cell("let answer = 42;").unwrap();
        let error = cell("let r = open_raster(\"a.tif\");").unwrap_err();
        println!("error: {} {} {:?}", error.name, error.message, error.hint);
        cell("print(`after: ${answer}`);").unwrap();
        println!("{}", output.text(Stream::Stdout));
        assert!(!library::is_loaded());
    }

    /// A GDAL function reached without `ensure_loaded` stops a debug build
    /// loudly, naming the function, rather than loading GDAL without its
    /// set-up (hardening included).
    #[test]
    fn a_gdal_call_before_the_door_stops_a_debug_build() {
        let output = child("lazy_gdal::tests::call_without_door", &[]);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(!output.status.success(), "{stderr}");
        assert!(
            stderr.contains("bug: GDALVersionInfo was called before GDAL was loaded"),
            "{stderr}"
        );
    }

    #[test]
    #[ignore = "run in a child process by a_gdal_call_before_the_door_stops_a_debug_build"]
    fn call_without_door() {
        install();
        // SAFETY: a plain query; it must not get as far as GDAL.
        unsafe { gdal_sys::GDALVersionInfo(c"RELEASE_NAME".as_ptr()) };
    }
}
