//! The integration tests, as one binary: cleope's library and binary are
//! linked once for all of them, instead of once a file. Each module below
//! is one file of this folder; a test's name starts with its module
//! (`cargo test hostile_memory::` runs one file's tests).
//!
//! The tests share one process and run in parallel: process-wide state
//! (the memory figures of the counting allocator, GDAL's configuration,
//! the operating-system wall) is touched only in child processes or under
//! the locks of `common::serial`.

#[path = "../common/mod.rs"]
mod common;

mod catalogue;
mod cli;
mod data_access;
mod docs;
mod folders;
mod hostile;
mod hostile_disk;
mod hostile_gdal;
mod hostile_grants;
mod hostile_http;
mod hostile_memory;
mod hub;
mod kernel;
mod layers;
mod missions_open;
mod missions_s3;
mod missions_s5p;
mod missions_sentinel;
mod missions_services;
mod notebook;
mod openeo;
mod partial;
mod raster;
mod readme;
mod remote_raster;
mod repl;
mod session;
mod stac;
mod step;
mod tutorials;
