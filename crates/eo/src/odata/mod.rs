//! The OData catalogue client: one query model ([`Query`]) rendered to ONDA's
//! `$search` and CDSE's `$filter` dialects, the answers of both read into one
//! [`CatalogueProduct`], and the client that pages, retries and
//! authenticates. The local catalogue's side (request parsers, the filter
//! tree, the entries it writes) is in `crates/catalogue/src/odata/`.

pub mod cdse;
pub mod client;
pub mod onda;
pub mod query;
pub mod remote;
pub mod response;
pub mod wire;

pub use query::{Dialect, DialectError, Page, Query, SortOrder};
pub use response::{CatalogueProduct, Checksum};
