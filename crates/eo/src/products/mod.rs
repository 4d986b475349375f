//! Product readers per mission (see README.md here). So far: what a
//! product's name says (mission, type, sensing times, tile, orbit).

pub mod metadata;
pub mod names;
pub mod sentinel1;
pub mod sentinel2;
pub mod sentinel3;
pub mod sentinel5p;
pub mod services;
