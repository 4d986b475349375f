//! openEO: a raster expression built from a [`collection`](Origin) becomes
//! an openEO API 1.2 process graph (see README.md here).
//!
//! A script loads a collection (mission, product type, bands, area, dates);
//! the bands it opens for it are remembered here with where they came from
//! (collection, band name, date). [`graph::translate`] walks a raster's
//! expression and turns those bands back into `load_collection`, the band
//! maths into `reduce_dimension` over `bands`, masks into `mask`, stack
//! reductions into `reduce_dimension` over `t`, and ends with `save_result`.

pub mod graph;

use crate::raster::BandSource;
use std::sync::{Arc, Mutex, Weak};

/// A collection as a script loaded it: what a back-end needs to load the
/// same data (`load_collection`'s arguments).
#[derive(Debug, Clone, PartialEq)]
pub struct Collection {
    /// The back-end's collection id, e.g. `SENTINEL2_L2A` (see [`collection_type`]).
    pub id: String,
    /// West, south, east, north in degrees (EPSG:4326).
    pub bbox: (f64, f64, f64, f64),
    /// The first and last day asked for, ISO dates, both included.
    pub dates: (String, String),
    /// The dates of the products found, in order.
    pub found: Vec<String>,
}

/// Where one band of a collection came from.
#[derive(Debug, Clone)]
pub struct Origin {
    pub collection: Arc<Collection>,
    /// The band's name in the collection (`B04`, `SCL`).
    pub band: String,
    /// The product's sensing date (ISO).
    pub date: String,
    /// The window of the file the collection's area clipped (its top-left pixel).
    pub offset: (usize, usize),
}

/// CDSE's openEO collection ids for the collections cleope can load:
/// (mission, product as scripts name it, catalogue product type, id).
const COLLECTIONS: &[(&str, &str, &str, &str)] = &[
    ("sentinel-2", "L2A", "S2MSI2A", "SENTINEL2_L2A"),
    ("sentinel-2", "L1C", "S2MSI1C", "SENTINEL2_L1C"),
];

/// The openEO collection id and the catalogue's product type of a
/// mission's product (`"L2A"` or `"S2MSI2A"`), matched without regard to case.
pub fn collection_type(mission: &str, product: &str) -> Option<(&'static str, &'static str)> {
    let mission = mission.to_ascii_lowercase().replace(['_', ' '], "-");
    let mission = if mission == "s2" || mission == "sentinel2" {
        "sentinel-2".to_string()
    } else {
        mission
    };
    COLLECTIONS
        .iter()
        .find(|(m, short, kind, _)| {
            *m == mission
                && (short.eq_ignore_ascii_case(product) || kind.eq_ignore_ascii_case(product))
        })
        .map(|(_, _, kind, id)| (*id, *kind))
}

/// The (mission, product) pairs [`collection_type`] knows, for hints.
pub fn known_collections() -> String {
    COLLECTIONS
        .iter()
        .map(|(m, p, _, _)| format!("{m} {p}"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// The bands opened for collections, by their file source. Weak, so a band
/// no script holds any more is forgotten (pruned as new ones arrive).
static ORIGINS: Mutex<Vec<(Weak<BandSource>, Origin)>> = Mutex::new(Vec::new());

/// Remembers that `source` is `origin`'s band.
pub fn remember(source: &Arc<BandSource>, origin: Origin) {
    let mut origins = ORIGINS.lock().unwrap_or_else(|e| e.into_inner());
    origins.retain(|(weak, _)| weak.strong_count() > 0);
    origins.push((Arc::downgrade(source), origin));
}

/// Where `source` came from, if a collection opened it.
pub fn origin_of(source: &Arc<BandSource>) -> Option<Origin> {
    let origins = ORIGINS.lock().unwrap_or_else(|e| e.into_inner());
    origins
        .iter()
        .find(|(weak, _)| std::ptr::eq(weak.as_ptr(), Arc::as_ptr(source)))
        .map(|(_, origin)| origin.clone())
}

/// Why a raster does not translate.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OpenEoError {
    /// An operation with no openEO equivalent (the first one met).
    #[error("{operation} has no openEO equivalent")]
    Untranslatable { operation: String, hint: String },
}

impl OpenEoError {
    pub fn hint(&self) -> &str {
        match self {
            OpenEoError::Untranslatable { hint, .. } => hint,
        }
    }

    fn untranslatable(operation: impl Into<String>, hint: impl Into<String>) -> OpenEoError {
        OpenEoError::Untranslatable {
            operation: operation.into(),
            hint: hint.into(),
        }
    }
}
