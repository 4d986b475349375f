//! The sandboxed session every front-end shares (see README.md here).

pub mod accounts;
pub mod cells;
pub mod config;
pub mod data_access;
pub mod display;
pub mod errors;
pub mod grants;
pub mod guard;
pub mod host;
pub mod introspect;
pub mod maps;
pub mod pretty;
pub mod resolver;
pub mod session;
pub mod usage;
pub mod widgets;

pub use cells::{Cell, CellKind, CellRange, split_cells};
pub use config::{Overrides, Quota, ScriptLimits, Settings};
pub use display::{Captured, DisplaySink, Stream, Terminal};
pub use errors::{ErrorClass, ScriptError, exit_code};
pub use grants::Prepared;
pub use host::Host;
pub use introspect::{Completeness, Completion};
pub use session::{Chunk, Session, SetupError};
