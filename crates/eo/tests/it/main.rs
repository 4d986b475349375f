//! The EO library on archives written by the demo generator (the
//! generator is a dev-dependency: it depends on this crate, so these tests
//! cannot be unit tests inside it).

mod ens;
mod sentinel1;
mod sentinel2;
mod sentinel3;
mod sentinel5p;

pub use cleope_eo::raster::compute::with_test_compute;
