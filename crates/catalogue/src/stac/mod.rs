//! The archive as a STAC API (STAC API 1.0.0) at `/stac/v1`: landing page,
//! conformance, collections (named as CDSE's STAC names them, see
//! `cleope_eo::stac::collections`), items, and item search by `GET` and
//! `POST /search` with paging by token and `sortby` on the date. The same
//! [`Store`](crate::store::Store) answers it as the OData dialects: a
//! search becomes the store's [`Filter`](crate::odata::filter::Filter).

mod items;
pub mod search;

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};

use super::{App, query_pairs};
use crate::store::Store;
use cleope_eo::ens::name_stem;
use cleope_eo::geometry::BBox;
use cleope_eo::stac::{COLLECTIONS, collection_id};
use items::{Bases, LICENSE_URL, STAC_VERSION, link};
use search::{BadSearch, StacSearch};

/// Where the STAC API is mounted on the catalogue listener.
pub const BASE_PATH: &str = "/stac/v1";

/// What the server implements, as the landing page and `/conformance` say.
pub const CONFORMANCE: &[&str] = &[
    "https://api.stacspec.org/v1.0.0/core",
    "https://api.stacspec.org/v1.0.0/collections",
    "https://api.stacspec.org/v1.0.0/ogcapi-features",
    "https://api.stacspec.org/v1.0.0/item-search",
    "https://api.stacspec.org/v1.0.0/item-search#sort",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
];

const JSON: &str = "application/json";
const GEOJSON: &str = "application/geo+json";
const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

/// The STAC routes, to merge into the catalogue's router.
pub(crate) fn router() -> Router<Arc<App>> {
    Router::new()
        .route(BASE_PATH, get(landing))
        .route(&format!("{BASE_PATH}/"), get(landing))
        .route(&format!("{BASE_PATH}/conformance"), get(conformance))
        .route(&format!("{BASE_PATH}/api"), get(service_description))
        .route(&format!("{BASE_PATH}/collections"), get(collections))
        .route(&format!("{BASE_PATH}/collections/{{id}}"), get(collection))
        .route(
            &format!("{BASE_PATH}/collections/{{id}}/items"),
            get(collection_items),
        )
        .route(
            &format!("{BASE_PATH}/collections/{{id}}/items/{{item}}"),
            get(one_item),
        )
        .route(
            &format!("{BASE_PATH}/search"),
            get(search_get).post(search_post),
        )
}

fn answer(status: StatusCode, kind: &'static str, body: Value) -> Response {
    (status, [(header::CONTENT_TYPE, kind)], body.to_string()).into_response()
}

fn error(status: StatusCode, code: &str, description: impl Into<String>) -> Response {
    answer(
        status,
        JSON,
        json!({"code": code, "description": description.into()}),
    )
}

fn bad_request(bad: BadSearch) -> Response {
    error(StatusCode::BAD_REQUEST, "InvalidParameterValue", bad.0)
}

fn stac_base(app: &App) -> String {
    app.stac_base()
}

async fn landing(State(app): State<Arc<App>>) -> Response {
    let base = stac_base(&app);
    let mut links = vec![
        link("self", format!("{base}/"), JSON),
        link("root", format!("{base}/"), JSON),
        link("conformance", format!("{base}/conformance"), JSON),
        link("service-desc", format!("{base}/api"), OPENAPI),
        link("data", format!("{base}/collections"), JSON),
        json!({"rel": "search", "href": format!("{base}/search"), "type": GEOJSON, "method": "GET"}),
        json!({"rel": "search", "href": format!("{base}/search"), "type": GEOJSON, "method": "POST"}),
    ];
    let store = app.store.lock().unwrap();
    for id in grouped(&store).keys() {
        links.push(link("child", format!("{base}/collections/{id}"), JSON));
    }
    answer(
        StatusCode::OK,
        JSON,
        json!({
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": "cleope-local",
            "title": "cleope's local catalogue",
            "description": "The products of a cleope archive, searchable as a STAC API (the same products as the OData dialects at /odata/v1 and /dias-catalogue)",
            "conformsTo": CONFORMANCE,
            "links": links,
        }),
    )
}

/// `GET /stac/v1/api`: a short OpenAPI 3.0 description of the endpoints
/// (the `service-desc` the core conformance class asks for).
async fn service_description(State(app): State<Arc<App>>) -> Response {
    let operation =
        |summary: &str| json!({"summary": summary, "responses": {"200": {"description": "OK"}}});
    answer(
        StatusCode::OK,
        OPENAPI,
        json!({
            "openapi": "3.0.3",
            "info": {"title": "cleope's local catalogue (STAC API)", "version": "1.0.0"},
            "servers": [{"url": stac_base(&app)}],
            "paths": {
                "/": {"get": operation("the landing page")},
                "/conformance": {"get": operation("the conformance classes")},
                "/collections": {"get": operation("the collections")},
                "/collections/{collectionId}": {"get": operation("one collection")},
                "/collections/{collectionId}/items": {"get": operation("the items of a collection")},
                "/collections/{collectionId}/items/{itemId}": {"get": operation("one item")},
                "/search": {"get": operation("item search"), "post": operation("item search")},
            },
        }),
    )
}

async fn conformance() -> Response {
    answer(StatusCode::OK, JSON, json!({"conformsTo": CONFORMANCE}))
}

/// The archive's products by collection id (positions in the store), ids sorted.
fn grouped(store: &Store) -> BTreeMap<String, Vec<usize>> {
    let mut groups: BTreeMap<String, Vec<usize>> = BTreeMap::new();
    for idx in 0..store.len() {
        let record = &store.get(idx).record;
        groups
            .entry(collection_id(&record.collection, &record.product_type))
            .or_default()
            .push(idx);
    }
    groups
}

/// The (OData collection, product type) pairs of the products in a collection.
fn collection_parts(store: &Store, id: &str) -> Vec<(String, String)> {
    let mut parts: Vec<(String, String)> = grouped(store)
        .remove(id)
        .unwrap_or_default()
        .into_iter()
        .map(|idx| {
            let record = &store.get(idx).record;
            (record.collection.clone(), record.product_type.clone())
        })
        .collect();
    parts.sort();
    parts.dedup();
    parts
}

fn collection_document(store: &Store, id: &str, members: &[usize], base: &str) -> Value {
    let mut bbox: Option<BBox> = None;
    let (mut first, mut last): (Option<DateTime<Utc>>, Option<DateTime<Utc>>) = (None, None);
    let mut platforms = std::collections::BTreeSet::new();
    let mut types = std::collections::BTreeSet::new();
    for &idx in members {
        let product = store.get(idx);
        if let Some(area) = &product.footprint {
            bbox = Some(bbox.map_or(area.bbox(), |b| b.union(&area.bbox())));
        }
        first = first.min(product.begin).or(product.begin);
        last = last.max(product.end.or(product.begin));
        if let Some((platform, _)) = items::platform(&product.record.name) {
            platforms.insert(platform);
        }
        types.insert(product.record.product_type.clone());
    }
    let time = |t: Option<DateTime<Utc>>| t.map(|t| t.to_rfc3339_opts(SecondsFormat::Secs, true));
    let known = COLLECTIONS.iter().find(|c| c.id == id);
    let title = known.map_or_else(
        || format!("{id} (Copernicus service products)"),
        |c| c.title.to_string(),
    );
    let spatial = bbox.map_or(json!([[-180, -90, 180, 90]]), |b| {
        let (w, s, e, n) = b.to_tuple();
        json!([[w, s, e, n]])
    });
    json!({
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "id": id,
        "title": title,
        "description": format!("{title}: {} products of the local archive", members.len()),
        "license": "proprietary",
        "extent": {
            "spatial": {"bbox": spatial},
            "temporal": {"interval": [[time(first), time(last)]]},
        },
        "summaries": {
            "platform": platforms.into_iter().collect::<Vec<_>>(),
            "product:type": types.into_iter().collect::<Vec<_>>(),
        },
        "links": [
            link("self", format!("{base}/collections/{id}"), JSON),
            link("root", format!("{base}/"), JSON),
            link("parent", format!("{base}/"), JSON),
            link("items", format!("{base}/collections/{id}/items"), GEOJSON),
            json!({"rel": "license", "href": LICENSE_URL, "type": "application/pdf",
                   "title": "Legal notice on the use of Copernicus Sentinel data and service information"}),
        ],
    })
}

async fn collections(State(app): State<Arc<App>>) -> Response {
    let base = stac_base(&app);
    let store = app.store.lock().unwrap();
    let documents: Vec<Value> = grouped(&store)
        .iter()
        .map(|(id, members)| collection_document(&store, id, members, &base))
        .collect();
    answer(
        StatusCode::OK,
        JSON,
        json!({
            "collections": documents,
            "links": [link("self", format!("{base}/collections"), JSON), link("root", format!("{base}/"), JSON)],
        }),
    )
}

fn no_collection(id: &str) -> Response {
    error(
        StatusCode::NOT_FOUND,
        "NotFound",
        format!("no collection '{id}' here: GET /stac/v1/collections lists them"),
    )
}

async fn collection(State(app): State<Arc<App>>, Path(id): Path<String>) -> Response {
    let base = stac_base(&app);
    let store = app.store.lock().unwrap();
    match grouped(&store).get(&id) {
        Some(members) => answer(
            StatusCode::OK,
            JSON,
            collection_document(&store, &id, members, &base),
        ),
        None => no_collection(&id),
    }
}

async fn one_item(
    State(app): State<Arc<App>>,
    Path((id, item)): Path<(String, String)>,
) -> Response {
    let store = app.store.lock().unwrap();
    let found = store.find(&item).filter(|&idx| {
        let record = &store.get(idx).record;
        collection_id(&record.collection, &record.product_type) == id
            && name_stem(&record.name) == item
    });
    match found {
        Some(idx) => {
            let (stac, cdse) = (stac_base(&app), app.cdse_base());
            let bases = Bases {
                stac: &stac,
                cdse: &cdse,
            };
            answer(
                StatusCode::OK,
                GEOJSON,
                items::item(store.get(idx), &id, store.archive(), &bases),
            )
        }
        None => error(
            StatusCode::NOT_FOUND,
            "NotFound",
            format!(
                "no item '{item}' in collection '{id}': search for it with GET /stac/v1/search?ids={item}"
            ),
        ),
    }
}

async fn collection_items(
    State(app): State<Arc<App>>,
    Path(id): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let pairs = query_pairs(query.as_deref());
    let mut search = match StacSearch::from_pairs(&pairs) {
        Ok(search) => search,
        Err(bad) => return bad_request(bad),
    };
    if !grouped(&app.store.lock().unwrap()).contains_key(&id) {
        return no_collection(&id);
    }
    search.collections = Some(vec![id.clone()]);
    let endpoint = format!("{}/collections/{id}/items", stac_base(&app));
    let this = link("self", endpoint.clone(), GEOJSON);
    item_collection(&app, &search, this, |token| {
        get_next(&endpoint, &pairs, token)
    })
}

async fn search_get(State(app): State<Arc<App>>, RawQuery(query): RawQuery) -> Response {
    let pairs = query_pairs(query.as_deref());
    match StacSearch::from_pairs(&pairs) {
        Ok(search) => {
            let endpoint = format!("{}/search", stac_base(&app));
            let this = link("self", endpoint.clone(), GEOJSON);
            item_collection(&app, &search, this, |token| {
                get_next(&endpoint, &pairs, token)
            })
        }
        Err(bad) => bad_request(bad),
    }
}

async fn search_post(State(app): State<Arc<App>>, body: Bytes) -> Response {
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => return bad_request(BadSearch(format!("the search body is not JSON: {e}"))),
    };
    match StacSearch::from_body(&body) {
        Ok(search) => {
            let href = format!("{}/search", stac_base(&app));
            let this = link("self", href.clone(), GEOJSON);
            item_collection(&app, &search, this, |token| {
                json!({"rel": "next", "href": href, "type": GEOJSON, "method": "POST",
                       "body": {"token": token}, "merge": true})
            })
        }
        Err(bad) => bad_request(bad),
    }
}

/// The `next` link of a GET search: the same parameters with the new token.
fn get_next(endpoint: &str, pairs: &[(String, String)], token: String) -> Value {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in pairs.iter().filter(|(key, _)| key != "token") {
        query.append_pair(key, value);
    }
    query.append_pair("token", &token);
    link("next", format!("{endpoint}?{}", query.finish()), GEOJSON)
}

/// Runs a search and answers its page as an ItemCollection.
fn item_collection(
    app: &App,
    search: &StacSearch,
    this: Value,
    next: impl Fn(String) -> Value,
) -> Response {
    let mut store = app.store.lock().unwrap();
    store.restore_due(Utc::now());
    let filter = search.filter(|id| collection_parts(&store, id));
    let found = match store.search(&filter, search.order, search.page) {
        Ok(found) => found,
        Err(e) => {
            return error(
                StatusCode::INTERNAL_SERVER_ERROR,
                "ServerError",
                e.to_string(),
            );
        }
    };
    let (stac, cdse) = (stac_base(app), app.cdse_base());
    let bases = Bases {
        stac: &stac,
        cdse: &cdse,
    };
    let features: Vec<Value> = found
        .page
        .iter()
        .map(|&(idx, _)| {
            let record = &store.get(idx).record;
            let id = collection_id(&record.collection, &record.product_type);
            items::item(store.get(idx), &id, store.archive(), &bases)
        })
        .collect();
    let mut links = vec![link("root", format!("{stac}/"), JSON), this];
    let after = search.page.skip + features.len();
    if after < found.total && !features.is_empty() {
        links.push(next(search::token(after)));
    }
    answer(
        StatusCode::OK,
        GEOJSON,
        json!({
            "type": "FeatureCollection",
            "features": features,
            "links": links,
            "numberMatched": found.total,
            "numberReturned": found.page.len(),
            "context": {"matched": found.total, "returned": found.page.len(), "limit": search.page.top},
        }),
    )
}
