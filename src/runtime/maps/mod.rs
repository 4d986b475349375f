//! Interactive maps for notebooks: the states of jupyter-leaflet's models
//! (ipyleaflet's front-end), the offline base map, and cleope values
//! (rasters, products, areas) as map layers. The Rhai side is
//! `api/maps.rs`; the widgets these states travel in are `runtime/widgets`.

pub mod basemap;
pub mod features;
pub mod leaflet;
pub mod map;
pub mod overlay;
