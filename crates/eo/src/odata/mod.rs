//! The OData catalogue: one query model ([`Query`]) rendered to and parsed from
//! ONDA's `$search` and CDSE's `$filter` dialects, the response models of both,
//! and the client that pages, retries and authenticates.

pub mod cdse;
pub mod client;
pub mod filter;
pub mod onda;
pub mod query;
pub mod response;

pub use filter::{DialectError, Filter, ParseError, RequestError};
pub use query::{Dialect, Page, Query, SortOrder};
pub use response::{CatalogueProduct, Checksum};
