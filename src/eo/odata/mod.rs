//! The OData catalogue: one query model ([`Query`]) rendered to and parsed from
//! ONDA's `$search` and CDSE's `$filter` dialects, the response models of both,
//! and the client that pages, retries and authenticates.

pub mod query;

pub use query::{Dialect, Page, Query, SortOrder};
