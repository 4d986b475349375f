//! GDAL, reached through this module only: the library loaded and set up
//! once (`library`), its messages routed (`messages`), HDF5's own
//! diagnostics silenced (`hdf5`), every dataset opened at one door that
//! checks the format against the allow-list (`dataset`), remote files
//! read through cleope's own HTTP client (`remote`), and GDAL's
//! utilities (`gdalwarp`, `gdal_translate`) behind one safe wrapper
//! (`utilities`).

pub mod dataset;
pub mod hdf5;
pub mod library;
pub mod messages;
pub mod remote;
pub mod utilities;
