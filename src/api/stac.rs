//! STAC catalogues from scripts: `stac_search` (the query map of
//! `odata_search`), `stac_collections`, and `product.assets`. With the
//! local catalogue (nothing configured) they use its STAC API at `/stac/v1`;
//! `catalogue(#{ url, dialect: "stac" })` chooses another STAC API, which
//! `odata_search` then searches too.

use std::sync::Arc;

use rhai::plugin::*;
use rhai::{Array, Map};

use crate::api::catalogue::{Product, access_error, client_error, query_of};
use crate::eo::stac::Asset;
use crate::runtime::Host;

pub fn module() -> Module {
    exported_module!(stac_api)
}

/// The keys of a product's assets after its description (`assets: product,
/// B02_10m, …`); nothing for products without assets (OData catalogues).
pub fn describe_assets(assets: &[Asset]) -> String {
    if assets.is_empty() {
        return String::new();
    }
    let keys: Vec<&str> = assets.iter().map(|a| a.key.as_str()).collect();
    format!(" assets: {}", keys.join(", "))
}

fn asset_map(asset: &Asset) -> Map {
    let mut map = Map::new();
    map.insert("href".into(), asset.href.clone().into());
    map.insert(
        "type".into(),
        asset
            .media_type
            .clone()
            .map_or(Dynamic::UNIT, Dynamic::from),
    );
    map.insert(
        "roles".into(),
        asset
            .roles
            .iter()
            .map(|r| Dynamic::from(r.clone()))
            .collect::<Array>()
            .into(),
    );
    map.insert(
        "title".into(),
        asset.title.clone().map_or(Dynamic::UNIT, Dynamic::from),
    );
    let bands: Array = asset
        .bands
        .iter()
        .map(|band| {
            let mut b = Map::new();
            b.insert("name".into(), band.name.clone().into());
            b.insert(
                "common_name".into(),
                band.common_name
                    .clone()
                    .map_or(Dynamic::UNIT, Dynamic::from),
            );
            b.insert(
                "center_wavelength".into(),
                band.center_wavelength
                    .map_or(Dynamic::UNIT, |w| Dynamic::from_float(w as rhai::FLOAT)),
            );
            Dynamic::from_map(b)
        })
        .collect();
    map.insert("eo:bands".into(), bands.into());
    map
}

#[export_module]
mod stac_api {
    use super::*;

    /// Searches a STAC catalogue with the query map of `odata_search`
    /// (mission, product_type, aoi, from, to, max_cloud, name, order,
    /// max_results): the catalogue in use when it speaks STAC, else the
    /// local catalogue's STAC API. Products carry their assets.
    ///
    /// ```rhai
    /// let found = stac_search(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 2 });
    /// print(found[0]);
    /// print(found[0].assets.keys());
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stac_search(ctx: NativeCallContext, query: Map) -> Result<Array, Box<EvalAltResult>> {
        let (query, max_results) = query_of(&query)?;
        let host = Host::of(&ctx)?;
        let client = host.data.stac_client(&host).map_err(access_error)?;
        let found = client
            .search(&query, max_results, &host.cancel)
            .map_err(client_error)?;
        Ok(found
            .into_iter()
            .map(|p| Dynamic::from(Product(Arc::new(p))))
            .collect())
    }

    /// The collections of the STAC catalogue (as `stac_search` chooses it),
    /// each a map with `id`, `title`, `description` and `extent`.
    ///
    /// ```rhai
    /// for c in stac_collections() { print(c.id); }
    /// ```
    #[rhai_fn(return_raw)]
    pub fn stac_collections(ctx: NativeCallContext) -> Result<Array, Box<EvalAltResult>> {
        let host = Host::of(&ctx)?;
        let client = host.data.stac_client(&host).map_err(access_error)?;
        let collections =
            crate::eo::stac::client::collections(&client, &host.cancel).map_err(client_error)?;
        collections
            .into_iter()
            .map(|collection| {
                let mut kept = serde_json::Map::new();
                for key in ["id", "title", "description", "extent", "license"] {
                    if let Some(value) = collection.get(key) {
                        kept.insert(key.into(), value.clone());
                    }
                }
                rhai::serde::to_dynamic(serde_json::Value::Object(kept))
            })
            .collect()
    }

    /// The product's assets (from a STAC catalogue) by key: each a map with
    /// `href`, `type`, `roles`, `title` and `eo:bands`; empty for products
    /// found in an OData catalogue.
    ///
    /// ```rhai
    /// let p = stac_search(#{ mission: "Sentinel-2", max_results: 1 })[0];
    /// for key in p.assets.keys() { print(key + " " + p.assets[key].href); }
    /// ```
    #[rhai_fn(get = "assets", pure)]
    pub fn assets(p: &mut Product) -> Map {
        p.0.assets
            .iter()
            .map(|asset| {
                (
                    asset.key.as_str().into(),
                    Dynamic::from_map(asset_map(asset)),
                )
            })
            .collect()
    }
}
