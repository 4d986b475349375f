//! The one catalogue query model. Scripts, the client and the local server all
//! speak this; `onda.rs` and `cdse.rs` render it to the two OData dialects on
//! the wire (the local catalogue parses it back, `crates/catalogue/src/odata/`),
//! and [`DialectError`] says when a dialect cannot say a query.

use chrono::{DateTime, Utc};

use crate::geometry::{Aoi, AoiError};

/// Which OData dialect a catalogue speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// ONDA DIAS (`$search="…"`, lowercase fields, comma-separated pseudopath).
    Onda,
    /// Copernicus Data Space Ecosystem (`$filter=…`, `Attributes`, `S3Path`).
    Cdse,
    /// A STAC API (`/search`, collections, items with assets): CDSE's STAC,
    /// Earth Search, the local catalogue's `/stac/v1` (`crate::stac`).
    Stac,
}

/// The order of results: by sensing start (the useful order for stacks).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Oldest sensing start first.
    #[default]
    SensingAscending,
    /// Newest sensing start first.
    SensingDescending,
}

/// A catalogue query. Every field is optional; an empty query matches every
/// product. Missions use ONDA's platform names ("Sentinel-1", "Sentinel-2",
/// "Sentinel-3", "Sentinel-5 Precursor"); the CDSE dialect maps them to
/// collections ("SENTINEL-1", …, "SENTINEL-5P").
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// Platform name, e.g. "Sentinel-2". None: every mission.
    pub mission: Option<String>,
    /// Product type, e.g. "S2MSI2A", "GRD" (Sentinel-1 types match as a
    /// substring, as ONDA's `*GRD*` wildcard did), "OL_2_WFR___", "L2__NO2___".
    pub product_type: Option<String>,
    /// Product main class for the Copernicus services ("Copernicus-atmosphere",
    /// "Copernicus-land", "Copernicus-marine"), ONDA's `productMainClass`.
    pub main_class: Option<String>,
    /// Footprints must intersect this area.
    pub aoi: Option<Aoi>,
    /// Sensing start on or after this instant.
    pub sensed_from: Option<DateTime<Utc>>,
    /// Sensing end on or before this instant.
    pub sensed_to: Option<DateTime<Utc>>,
    /// Maximum cloud cover in percent (optical products only).
    pub max_cloud: Option<f64>,
    /// Exact product name (with or without the `.zip` / `.SAFE` extension).
    pub name: Option<String>,
    /// Result order.
    pub order: SortOrder,
}

/// One page of a query as sent on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Page {
    /// How many results (`$top`).
    pub top: usize,
    /// How many to skip (`$skip`).
    pub skip: usize,
}

/// A rendering failure: the query cannot be said in the dialect.
#[derive(Debug, thiserror::Error)]
pub enum DialectError {
    /// The page is beyond what the catalogue serves.
    #[error(
        "{parameter}={value} is more than {catalogue} allows ({limit}); ask for pages of at most \
         1000 results and narrow the query rather than skipping past 10000"
    )]
    PageLimit {
        /// The catalogue.
        catalogue: &'static str,
        /// `$top` or `$skip`.
        parameter: &'static str,
        /// What was asked.
        value: usize,
        /// The largest value accepted.
        limit: usize,
    },
    /// The area cannot be sent (e.g. too many vertices for ONDA).
    #[error(transparent)]
    Aoi(#[from] AoiError),
    /// Something the dialect has no way to say.
    #[error("{what} cannot be sent to {catalogue}: {hint}")]
    Unsupported {
        /// The catalogue.
        catalogue: &'static str,
        /// The query part.
        what: String,
        /// What to do instead.
        hint: String,
    },
}
