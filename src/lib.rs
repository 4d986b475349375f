//! cleope: a sandboxed Rhai runtime for Earth-observation teaching scripts.
//!
//! Layers, calling downwards only: front-ends (`main.rs`, [`kernel`]) →
//! [`runtime`] (the sandboxed session) → [`api`] (Rhai bindings) → [`eo`] (the
//! EO library), all charging the [`sandbox`] (quotas, confined paths). The
//! layers below the bindings are crates of their own (`crates/`), so the
//! compiler refuses a call upwards; they are re-exported here under their
//! layer's name, and the runtime and bindings read `crate::eo::…`.

pub mod api;
pub mod docs;
pub mod kernel;
pub mod runtime;

pub use cleope_catalogue as catalogue;
pub use cleope_demo as demo;
pub use cleope_eo as eo;
pub use cleope_sandbox as sandbox;
