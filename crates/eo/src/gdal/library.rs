//! GDAL loaded and set up at one door, before anything else calls it.
//!
//! The `cleope` binary links GDAL lazily: the library and its 113
//! dependencies are not loaded before `main` (see `src/lazy_gdal.rs`), so a
//! REPL or a kernel that never reads a raster never pays for them. Every
//! first entry into GDAL — the dataset door ([`crate::gdal::dataset`]), the
//! netCDF writer, saving a raster, a coordinate reference system, the demo
//! archive — calls [`ensure_loaded`] first. It loads the library through the
//! loader the binary registered ([`set_loader`]; test binaries and other
//! users of the library link GDAL normally and need none), and then, once
//! per process and before it returns to anyone, sets GDAL up: the quiet
//! message handler, the hardening options ([`HARDENING`]) and the kept
//! drivers ([`KEPT_DRIVERS`]), and the block cache's limit. A machine
//! without libgdal gets a [`GdalUnavailable`] error, which a script sees as
//! a `GdalUnavailable` error in its cell; the process lives on.
//!
//! [`configure`] records a session's settings and applies them at once when
//! GDAL is already set up, or leaves them to the set-up.

use std::ffi::{CStr, CString, c_char, c_void};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Once, OnceLock};

use crate::gdal::dataset::KEPT_DRIVERS;

unsafe extern "C" {
    fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
}

/// GDAL's library could not be loaded: nothing that needs GDAL can run.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("GDAL cannot be loaded: {reason}")]
pub struct GdalUnavailable {
    /// What the dynamic loader said.
    pub reason: String,
    /// The Debian package holding the library cleope was built against.
    pub package: String,
}

impl GdalUnavailable {
    /// What to do about it.
    pub fn hint(&self) -> String {
        format!(
            "install GDAL's runtime library (on Debian: apt-get install {}), or rebuild cleope \
             against the GDAL this machine has (cargo install --path .); the session's \
             variables are kept",
            self.package
        )
    }
}

/// Loads GDAL into a program that does not link it: registered by the
/// `cleope` binary, which links GDAL lazily.
pub type Loader = fn() -> Result<(), GdalUnavailable>;

static LOADER: OnceLock<Loader> = OnceLock::new();

/// Registers how this program loads GDAL (the first registration counts).
pub fn set_loader(loader: Loader) {
    let _ = LOADER.set(loader);
}

/// The set-up that follows loading, run once by [`ensure_loaded`].
static SET_UP: Once = Once::new();

/// Makes GDAL ready to call on this thread: loads it if this program links
/// it lazily and it is not loaded yet, sets it up once (see the module's
/// text) and quiets HDF5 on the calling thread (a setting each thread has;
/// see [`crate::gdal::hdf5`]). Every first entry into GDAL calls this before
/// any GDAL function; another thread calling meanwhile waits for the set-up
/// to finish. A failed load is not remembered: a later call tries again.
pub fn ensure_loaded() -> Result<(), GdalUnavailable> {
    if !SET_UP.is_completed() {
        load_and_set_up()?;
    }
    crate::gdal::hdf5::silence_on_this_thread();
    Ok(())
}

fn load_and_set_up() -> Result<(), GdalUnavailable> {
    match LOADER.get() {
        // Always through the loader when there is one: it serialises its
        // callers and returns once the library is recorded. Asking the
        // dynamic linker instead (`is_loaded`) saw the library between its
        // dlopen and that record, so a second thread's first GDAL call
        // found no handle (the bin's tests aborted in 2 of 4 runs).
        Some(load) => load()?,
        None if !is_loaded() => {
            return Err(GdalUnavailable {
                reason: "this program links GDAL lazily but registered no loader".into(),
                package: "libgdal".into(),
            });
        }
        None => {}
    }
    // Plain calls into GDAL, none of which comes back here.
    SET_UP.call_once(|| {
        crate::gdal::messages::install();
        harden();
        crate::gdal::remote::install();
        apply_cache_limit();
    });
    Ok(())
}

/// GDAL's block cache limit in MiB (0: not configured yet).
static CACHE_MEGABYTES: AtomicU64 = AtomicU64::new(0);

/// Records a session's GDAL settings and applies them if GDAL is set up
/// (otherwise [`ensure_loaded`] applies them): asking for them never loads
/// GDAL.
///
/// The block cache is kept inside a small share of the memory quota (GDAL
/// would otherwise take 5 % of the machine's RAM): 64 MiB of a 2 GiB quota,
/// enough to keep decoded JP2 tiles between neighbouring blocks.
pub fn configure(memory_quota: u64) {
    crate::gdal::remote::configure(memory_quota);
    CACHE_MEGABYTES.store(cache_megabytes(memory_quota), Ordering::Release);
    if SET_UP.is_completed() {
        apply_cache_limit();
    }
}

/// A 32nd of the memory quota, between 16 and 256 MiB.
fn cache_megabytes(memory_quota: u64) -> u64 {
    (memory_quota / 32 / (1024 * 1024)).clamp(16, 256)
}

/// Whether libgdal is loaded in this process.
pub fn is_loaded() -> bool {
    loaded_symbol(c"GDALVersionInfo").is_some()
}

fn apply_cache_limit() {
    let megabytes = CACHE_MEGABYTES.load(Ordering::Acquire);
    if megabytes > 0 {
        // Only fails for an invalid key, which this is not.
        let _ = gdal::config::set_config_option("GDAL_CACHEMAX", &megabytes.to_string());
    }
}

/// GDAL configuration options set once, before any dataset opens, each
/// closing a door the driver allow-list of [`crate::gdal::dataset`] leaves:
/// GDAL follows references inside the files cleope itself builds, and
/// reads its own configuration from places a script may reach. Measured on
/// Debian's GDAL 3.6.2 (see the tests below and tests/it/hostile_gdal.rs); set
/// with `CPLSetConfigOption`, which wins over the environment and is safe
/// once threads exist.
pub const HARDENING: &[(&str, &str)] = &[
    // No configuration file: `~/.gdal/gdalrc` (and /etc/gdal/gdalrc) can
    // set any option below back, or GDAL_DRIVER_PATH to load a library.
    // Read when GDAL registers its drivers, which the set-up does after this.
    ("GDAL_CONFIG_FILE", "/nonexistent/cleope-reads-no-gdalrc"),
    // No plugin drivers: neither shared libraries nor Python drivers
    // (GDAL_PYTHON_DRIVER_PATH is not even looked at then; measured).
    ("GDAL_DRIVER_PATH", "disable"),
    // No Python code in VRT pixel functions, even if the environment says YES.
    ("GDAL_VRT_ENABLE_PYTHON", "NO"),
    // /vsicurl/ (and /vsis3/, /vsigs/, …) opens only this name, which no
    // URL is: refused before any request.
    (
        "CPL_VSIL_CURL_ALLOWED_FILENAME",
        "cleope gives GDAL no network access",
    ),
    // Every other request GDAL's curl makes (/vsicurl_streaming/, HTTP
    // drivers) goes through a proxy on a port nothing listens on.
    ("GDAL_HTTP_PROXY", "127.0.0.1:0"),
    // Never send ~/.netrc credentials with a request.
    ("GDAL_HTTP_NETRC", "NO"),
    // No sidecar files: GDAL would open `x.tif.ovr` and `x.tif.msk` next to
    // a file with any driver, VRT included (a script's `.ovr` VRT read a
    // file outside the grant through a coarse reproject). GDAL then takes
    // every folder as empty: no external overviews, masks or world files.
    ("GDAL_DISABLE_READDIR_ON_OPEN", "EMPTY_DIR"),
    // No *.aux.xml sidecars: GDAL would write them next to the files it
    // reads, outside the disk quota and into read-only roots. Also stops
    // reading them (a PNG's georeferencing kept in one is lost).
    ("GDAL_PAM_ENABLED", "NO"),
];

/// Sets [`HARDENING`] and keeps only [`KEPT_DRIVERS`] (those scripts' files
/// may be read with, VRT for the datasets cleope builds, and the writers
/// cleope saves with). Part of the set-up, before GDAL opens anything.
fn harden() {
    for (key, value) in HARDENING {
        set_option(key, value);
    }
    // Every other driver (web services, memory, vector formats, …) is
    // deregistered and named in GDAL_SKIP and OGR_SKIP, which GDAL applies
    // again whenever it registers drivers, so that a source inside a VRT
    // cannot use one either.
    let skipped = keep_only(KEPT_DRIVERS);
    // GDAL_SKIP splits names at spaces too; OGR_SKIP (read for vector
    // drivers, some of whose names have spaces) only at commas.
    set_option("GDAL_SKIP", &skipped.join(","));
    set_option("OGR_SKIP", &skipped.join(","));
}

fn set_option(key: &str, value: &str) {
    let (key, value) = (
        CString::new(key).expect("no NUL in option names"),
        CString::new(value).expect("no NUL in option values"),
    );
    // SAFETY: valid NUL-terminated strings, which GDAL copies.
    unsafe { gdal_sys::CPLSetConfigOption(key.as_ptr(), value.as_ptr()) };
}

/// Registers GDAL's drivers and deregisters every one not in `kept`;
/// returns the names of those deregistered.
fn keep_only(kept: &[&str]) -> Vec<String> {
    let mut skipped = Vec::new();
    // SAFETY: plain calls on GDAL's driver manager; the names are copied
    // before their driver is deregistered (drivers are never destroyed).
    unsafe {
        gdal_sys::GDALAllRegister();
        let mut index = 0;
        while index < gdal_sys::GDALGetDriverCount() {
            let driver = gdal_sys::GDALGetDriver(index);
            let name = CStr::from_ptr(gdal_sys::GDALGetDriverShortName(driver))
                .to_string_lossy()
                .into_owned();
            if kept.contains(&name.as_str()) {
                index += 1;
            } else {
                gdal_sys::GDALDeregisterDriver(driver);
                skipped.push(name);
            }
        }
    }
    skipped
}

/// The short names of the drivers GDAL has registered.
pub fn registered_drivers() -> Vec<String> {
    // SAFETY: as in keep_only.
    unsafe {
        (0..gdal_sys::GDALGetDriverCount())
            .map(|index| {
                let driver = gdal_sys::GDALGetDriver(index);
                CStr::from_ptr(gdal_sys::GDALGetDriverShortName(driver))
                    .to_string_lossy()
                    .into_owned()
            })
            .collect()
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

    #[test]
    fn only_the_kept_drivers_stay_registered_even_when_gdal_registers_again() {
        ensure_loaded().unwrap();
        gdal::DriverManager::register_all();
        let mut registered = registered_drivers();
        registered.sort();
        let mut kept: Vec<String> = KEPT_DRIVERS.iter().map(|d| d.to_string()).collect();
        kept.sort();
        assert_eq!(registered, kept);
        for gone in [
            "MEM", "WMS", "WCS", "HTTP", "EEDAI", "STACIT", "DERIVED", "GeoJSON",
        ] {
            assert!(
                gdal::DriverManager::get_driver_by_name(gone).is_err(),
                "{gone} is still registered"
            );
        }
    }

    /// The options whose effect the tests below and tests/it/hostile_gdal.rs
    /// measure, and GDAL_HTTP_NETRC, which only matters once a request is
    /// made (none can be: see those tests): each must be in force.
    #[test]
    fn every_option_is_in_force() {
        ensure_loaded().unwrap();
        for key in [
            "GDAL_CONFIG_FILE",
            "GDAL_DRIVER_PATH",
            "GDAL_VRT_ENABLE_PYTHON",
            "CPL_VSIL_CURL_ALLOWED_FILENAME",
            "GDAL_HTTP_PROXY",
            "GDAL_HTTP_NETRC",
            "GDAL_PAM_ENABLED",
            "GDAL_DISABLE_READDIR_ON_OPEN",
        ] {
            let value = HARDENING.iter().find(|(k, _)| *k == key);
            let value = value.map(|(_, v)| *v).expect(key);
            assert_eq!(gdal::config::get_config_option(key, "").unwrap(), value);
        }
        assert_eq!(
            gdal::config::get_config_option("GDAL_HTTP_NETRC", "").unwrap(),
            "NO"
        );
    }

    /// A loopback server counting the connections it gets.
    fn counting_server() -> (u16, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let hits = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = std::sync::Arc::clone(&hits);
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                counted.fetch_add(1, Ordering::SeqCst);
                drop(stream);
            }
        });
        (port, hits)
    }

    /// A VRT whose one source is `source`, as a VRT cleope built would be
    /// if a script swapped one of its files for a hostile one.
    fn vrt_over(source: &str) -> String {
        format!(
            "<VRTDataset rasterXSize=\"4\" rasterYSize=\"4\">\
             <VRTRasterBand dataType=\"Byte\" band=\"1\"><SimpleSource>\
             <SourceFilename relativeToVRT=\"0\">{source}</SourceFilename>\
             <SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
        )
    }

    /// Reads the first pixel of a VRT cleope "built" over `source`, on a
    /// thread where `options` are set for that thread only (taking away
    /// another layer, so that the one under test is the only one left).
    fn read_vrt_over(source: &str, options: &[(&str, &str)]) {
        let xml = vrt_over(source);
        let options: Vec<(String, String)> = options
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        std::thread::spawn(move || {
            for (key, value) in &options {
                gdal::config::set_thread_local_config_option(key, value).unwrap();
            }
            if let Ok(dataset) = crate::gdal::dataset::open_built(&xml) {
                let band = dataset.rasterband(1).unwrap();
                let _ = band.read_as::<u8>((0, 0), (1, 1), (1, 1), None);
            }
        })
        .join()
        .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(100));
    }

    #[test]
    fn vsicurl_makes_no_request() {
        ensure_loaded().unwrap();
        let (port, hits) = counting_server();
        // Without the dead proxy, only the allowed file name stops it.
        read_vrt_over(
            &format!("/vsicurl/http://127.0.0.1:{port}/x.tif"),
            &[("GDAL_HTTP_PROXY", "")],
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0);
        // The check can fail: allowing that very name, the read connects.
        let url = format!("/vsicurl/http://127.0.0.1:{port}/y.tif");
        read_vrt_over(
            &url,
            &[
                ("GDAL_HTTP_PROXY", ""),
                ("CPL_VSIL_CURL_ALLOWED_FILENAME", &url),
            ],
        );
        assert!(hits.load(Ordering::SeqCst) > 0, "the canary server counts");
    }

    #[test]
    fn streaming_and_other_curl_requests_reach_no_server() {
        ensure_loaded().unwrap();
        let (port, hits) = counting_server();
        // /vsicurl_streaming/ is not covered by the allowed file name.
        read_vrt_over(
            &format!("/vsicurl_streaming/http://127.0.0.1:{port}/x.tif"),
            &[],
        );
        assert_eq!(hits.load(Ordering::SeqCst), 0);
        read_vrt_over(
            &format!("/vsicurl_streaming/http://127.0.0.1:{port}/y.tif"),
            &[("GDAL_HTTP_PROXY", "")],
        );
        assert!(hits.load(Ordering::SeqCst) > 0, "the canary server counts");
    }

    #[test]
    fn statistics_computed_by_gdal_leave_no_sidecar() {
        ensure_loaded().unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("b.tif");
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let dataset = driver
            .create_with_band_type::<u8, _>(&path, 8, 8, 1)
            .unwrap();
        drop(dataset);
        let sidecar = dir.path().join("b.tif.aux.xml");
        let compute = |options: &[(&'static str, &'static str)]| {
            let (path, options) = (path.clone(), options.to_vec());
            std::thread::spawn(move || {
                for (key, value) in options {
                    gdal::config::set_thread_local_config_option(key, value).unwrap();
                }
                let dataset = crate::gdal::dataset::open(&path).unwrap();
                let band = dataset.rasterband(1).unwrap();
                band.get_statistics(true, false).unwrap();
            })
            .join()
            .unwrap();
        };
        compute(&[]);
        assert!(!sidecar.exists(), "GDAL wrote {}", sidecar.display());
        compute(&[("GDAL_PAM_ENABLED", "YES")]);
        assert!(sidecar.exists(), "the check can fail");
    }
}
