//! The Earth-observation library: plain Rust that knows nothing of Rhai.
//! Native buffers are charged to the session's memory budget before they are
//! allocated, and long loops check the session's [`Cancel`](cleope_sandbox::Cancel).

pub mod archive;
pub mod download;
pub mod ens;
pub mod gdal;
pub mod geometry;
pub mod matrix;
pub mod netcdf;
pub mod odata;
pub mod openeo;
pub mod plot;
pub mod products;
pub mod raster;
pub mod stac;
pub mod swath;
pub mod validity;
