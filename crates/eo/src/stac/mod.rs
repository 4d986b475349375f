//! STAC (SpatioTemporal Asset Catalog): the collection ids of the missions
//! (shared by the client and the local catalogue's STAC API), items read
//! into products with their assets, and the client's item search.

pub mod client;
pub mod collections;
pub mod item;

pub use collections::{COLLECTIONS, StacCollection, StacService, collection_id};
pub use item::{Asset, Band};
