//! The one door through which cleope opens files with GDAL.
//!
//! Opening a netCDF-4 file makes HDF5 print diagnostics on threads where
//! they have not been turned off (see [`crate::eo::hdf5`]), and GDAL print
//! warnings that are no learner's business (see [`crate::eo::gdal_messages`]).
//! Going through these functions quiets both first, whichever thread opens:
//! a session's, a rayon worker's, the kernel's or a test's.

use std::path::Path;

use gdal::{Dataset, DatasetOptions};

/// Opens `path` (a file, a `/vsizip/` member or a `NETCDF:"file":variable`
/// subdataset) read-only with GDAL's defaults.
pub fn open(path: impl AsRef<Path>) -> gdal::errors::Result<Dataset> {
    quiet();
    Dataset::open(path)
}

/// Opens `path` with explicit `options` (e.g. the multidimensional API).
pub fn open_ex(path: impl AsRef<Path>, options: DatasetOptions) -> gdal::errors::Result<Dataset> {
    quiet();
    Dataset::open_ex(path, options)
}

/// Installs the quiet GDAL message handler and silences HDF5 on the calling
/// thread (both once; later calls cost an atomic and a thread-local read).
/// In that order: installing the handler is a call into GDAL, which loads
/// GDAL (and HDF5 with it) in the binary that links it lazily.
fn quiet() {
    crate::eo::gdal_messages::install();
    crate::eo::hdf5::silence_on_this_thread();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opening_quiets_hdf5_on_a_thread_that_never_touched_it() {
        let printing = std::thread::spawn(|| {
            // Referencing GDAL loads its libraries, HDF5 among them.
            assert!(gdal::DriverManager::get_driver_by_name("netCDF").is_ok());
            let before = crate::eo::hdf5::prints_on_this_thread();
            let _ = open("/nonexistent/cleope-test.nc");
            (before, crate::eo::hdf5::prints_on_this_thread())
        })
        .join()
        .unwrap();
        assert_eq!(printing, (Some(true), Some(false)));
    }
}
