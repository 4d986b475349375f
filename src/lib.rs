//! cleope: a sandboxed Rhai runtime for Earth-observation teaching scripts.
//!
//! Layers, calling downwards only: front-ends (`main.rs`) → [`runtime`] (the
//! sandboxed session) → [`api`] (Rhai bindings) → [`eo`] (the EO library),
//! all charging the [`sandbox`] (quotas, confined paths).

pub mod api;
pub mod catalogue;
pub mod demo;
pub mod docs;
pub mod eo;
pub mod kernel;
pub mod runtime;
pub mod sandbox;

/// Every program built on cleope counts its heap, so the memory quota can be
/// checked between any two script operations (see `sandbox::memory`).
#[global_allocator]
static ALLOCATOR: sandbox::CountingAllocator = sandbox::CountingAllocator;
