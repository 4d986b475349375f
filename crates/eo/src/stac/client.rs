//! The STAC client: item search behind the one [`Query`] model, through the
//! OData client's HTTP door ([`Client::fetch_json`]: the network grant on
//! every request and redirect hop, retries, the run's deadline, size caps).
//!
//! A query becomes a search as the catalogue allows: mission and product
//! type become collection ids (`collections.rs`), the AOI a `bbox` (a
//! rectangle) or `intersects`, the dates a `datetime` interval. The cloud
//! limit goes into a CQL2 `filter` when the catalogue announces the filter
//! extension, else into the `query` extension when announced, else it is
//! applied here, item by item (the catalogue then pages through more items
//! than are kept). The order goes into `sortby` when the sort extension is
//! announced (else the catalogue's own order is kept). POST when the landing
//! page offers it, else GET; `next` links (with POST's `method`, `body`,
//! `merge`) are followed behind one `max_results`.

use serde_json::{Map, Value, json};

use super::collections::{COLLECTIONS, StacService, ids_for};
use super::item::to_product;
use crate::odata::client::{Client, ClientError, JsonRequest, MAX_RESULTS};
use crate::odata::wire::format_instant;
use crate::odata::{CatalogueProduct, Query, SortOrder};
use cleope_sandbox::Cancel;

/// What a catalogue's landing page says it can do.
#[derive(Debug, Clone, PartialEq)]
pub struct Capabilities {
    /// The `/search` URL.
    pub search_url: String,
    /// `POST /search` is offered.
    pub post: bool,
    /// CQL2 `filter` (the filter extension).
    pub filter: bool,
    /// The legacy `query` extension.
    pub query: bool,
    /// `sortby` (the sort extension).
    pub sort: bool,
}

/// The service a STAC root belongs to, for its collection ids.
pub fn service_of(base_url: &str) -> StacService {
    if base_url.contains("earth-search") {
        StacService::EarthSearch
    } else {
        StacService::Cdse
    }
}

/// The OData base that serves a STAC catalogue's products (`$value`,
/// orders): CDSE's download service for CDSE's STAC, `/odata/v1` beside
/// `/stac/v1` on the local catalogue.
pub fn odata_base_of(stac_base: &str) -> String {
    if stac_base.contains("stac.dataspace.copernicus.eu") {
        return "https://download.dataspace.copernicus.eu/odata/v1".into();
    }
    match stac_base.trim_end_matches('/').strip_suffix("/stac/v1") {
        Some(root) => format!("{root}/odata/v1"),
        None => stac_base.trim_end_matches('/').to_string(),
    }
}

/// The landing page's capabilities (conformance from the landing page, or
/// from `/conformance` when it has none).
pub fn capabilities(client: &Client, cancel: &Cancel) -> Result<Capabilities, ClientError> {
    let base = client.config().base_url.trim_end_matches('/').to_string();
    let landing = client.fetch_json(&JsonRequest::Get(format!("{base}/")), cancel)?;
    let mut conforms: Vec<String> = strings(landing.get("conformsTo"));
    if conforms.is_empty() {
        let answer = client.fetch_json(&JsonRequest::Get(format!("{base}/conformance")), cancel)?;
        conforms = strings(answer.get("conformsTo"));
    }
    let links = landing
        .get("links")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let search_links: Vec<&Value> = links
        .iter()
        .filter(|l| l.get("rel").and_then(Value::as_str) == Some("search"))
        .collect();
    let search_url = search_links
        .iter()
        .find_map(|l| l.get("href").and_then(Value::as_str))
        .map(str::to_string)
        .unwrap_or_else(|| format!("{base}/search"));
    let post = search_links
        .iter()
        .any(|l| l.get("method").and_then(Value::as_str) == Some("POST"));
    let announced = |fragment: &str| conforms.iter().any(|c| c.contains(fragment));
    Ok(Capabilities {
        search_url,
        post,
        filter: announced("item-search#filter") || announced("cql2/1.0/conf/basic-cql2"),
        query: announced("item-search#query"),
        sort: announced("item-search#sort"),
    })
}

fn strings(value: Option<&Value>) -> Vec<String> {
    value
        .and_then(Value::as_array)
        .map(|items| {
            items
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

/// The search body (POST form) of a query for a page of `limit` items.
pub fn search_body(
    query: &Query,
    service: StacService,
    capabilities: &Capabilities,
    limit: usize,
) -> Result<Map<String, Value>, ClientError> {
    let mut body = Map::new();
    body.insert("limit".into(), limit.into());
    if let Some(collections) = collections_of(query, service)? {
        body.insert("collections".into(), collections.into());
    }
    if let Some(name) = &query.name {
        body.insert("ids".into(), json!([crate::ens::name_stem(name)]));
    }
    if let Some(aoi) = &query.aoi {
        let bbox = aoi.bbox();
        let rectangle = aoi.polygon_count() == 1
            && aoi.vertex_count() <= 5
            && (aoi.area_km2() - crate::geometry::Aoi::from_bbox(bbox).area_km2()).abs() < 1e-6;
        if rectangle {
            let (w, s, e, n) = bbox.to_tuple();
            body.insert("bbox".into(), json!([w, s, e, n]));
        } else {
            let geometry: Value = serde_json::from_str(&aoi.to_polygon_json()).map_err(|e| {
                ClientError::BadQuery(format!("the AOI cannot be written as GeoJSON: {e}"))
            })?;
            body.insert("intersects".into(), geometry);
        }
    }
    if query.sensed_from.is_some() || query.sensed_to.is_some() {
        let end =
            |t: Option<chrono::DateTime<chrono::Utc>>| t.map_or("..".to_string(), format_instant);
        body.insert(
            "datetime".into(),
            format!("{}/{}", end(query.sensed_from), end(query.sensed_to)).into(),
        );
    }
    if let Some(max) = query.max_cloud {
        if capabilities.filter {
            body.insert("filter-lang".into(), "cql2-json".into());
            body.insert(
                "filter".into(),
                json!({"op": "<=", "args": [{"property": "eo:cloud_cover"}, max]}),
            );
        } else if capabilities.query {
            body.insert("query".into(), json!({"eo:cloud_cover": {"lte": max}}));
        }
        // Otherwise `keeps` applies the limit to each item.
    }
    if capabilities.sort {
        let direction = match query.order {
            SortOrder::SensingAscending => "asc",
            SortOrder::SensingDescending => "desc",
        };
        body.insert(
            "sortby".into(),
            json!([{"field": "properties.datetime", "direction": direction}]),
        );
    }
    Ok(body)
}

/// The collection ids of a query's mission and product type; None: any.
fn collections_of(query: &Query, service: StacService) -> Result<Option<Vec<String>>, ClientError> {
    if query.main_class.is_some() {
        return Err(ClientError::BadQuery(
            "Copernicus-service products (main_class) have no STAC collection cleope knows: \
             search them with the cdse or onda dialect, or name the collection with stac_collections()"
                .into(),
        ));
    }
    let ids = match (&query.mission, &query.product_type) {
        (Some(mission), kind) => ids_for(mission, kind.as_deref(), service),
        (None, Some(kind)) => COLLECTIONS
            .iter()
            .filter(|c| c.holds(c.odata_collection, kind))
            .filter_map(|c| c.id_at(service))
            .map(str::to_string)
            .collect(),
        (None, None) => return Ok(None),
    };
    if ids.is_empty() {
        return Err(ClientError::BadQuery(format!(
            "no STAC collection of this catalogue is known for mission {} and product type {}: \
             stac_collections() lists the catalogue's collections",
            query.mission.as_deref().unwrap_or("(any)"),
            query.product_type.as_deref().unwrap_or("(any)")
        )));
    }
    Ok(Some(ids))
}

/// The GET form of a search body: `…/search?collections=a,b&bbox=…`.
pub fn get_url(search_url: &str, body: &Map<String, Value>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    for (key, value) in body {
        let text = match (key.as_str(), value) {
            ("sortby", Value::Array(clauses)) => clauses
                .iter()
                .map(|c| {
                    let sign = if c["direction"] == "desc" { "-" } else { "+" };
                    format!("{sign}{}", c["field"].as_str().unwrap_or(""))
                })
                .collect::<Vec<_>>()
                .join(","),
            ("filter", _) => cql2_text(value),
            ("filter-lang", _) => "cql2-text".into(),
            ("intersects" | "query", _) => value.to_string(),
            (_, Value::Array(items)) => items
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect::<Vec<_>>()
                .join(","),
            (_, Value::String(text)) => text.clone(),
            (_, other) => other.to_string(),
        };
        query.append_pair(key, &text);
    }
    format!("{search_url}?{}", query.finish())
}

/// The cql2-text of the one filter cleope writes (`eo:cloud_cover <= x`).
fn cql2_text(filter: &Value) -> String {
    let property = filter
        .pointer("/args/0/property")
        .and_then(Value::as_str)
        .unwrap_or("");
    let op = filter.get("op").and_then(Value::as_str).unwrap_or("=");
    let value = filter
        .pointer("/args/1")
        .map(Value::to_string)
        .unwrap_or_default();
    format!("{property} {op} {value}")
}

/// Whether an item's product passes what the catalogue could not filter.
fn keeps(product: &CatalogueProduct, query: &Query, capabilities: &Capabilities) -> bool {
    match query.max_cloud {
        Some(max) if !capabilities.filter && !capabilities.query => {
            product.cloud_cover().is_some_and(|cloud| cloud <= max)
        }
        _ => true,
    }
}

/// Every item matching `query`, up to `max_results`, page after page by
/// the `next` links.
pub fn search(
    client: &Client,
    query: &Query,
    max_results: usize,
    cancel: &Cancel,
) -> Result<Vec<CatalogueProduct>, ClientError> {
    if max_results > MAX_RESULTS {
        return Err(ClientError::TooMany { asked: max_results });
    }
    let service = service_of(&client.config().base_url);
    let capabilities = capabilities(client, cancel)?;
    let limit = client.config().page_size.min(max_results).max(1);
    let body = search_body(query, service, &capabilities, limit)?;
    let mut request = first_request(&capabilities, &body);
    let mut products = Vec::new();
    while products.len() < max_results {
        let page = client.fetch_json(&request, cancel)?;
        let url = match &request {
            JsonRequest::Get(url) | JsonRequest::Post(url, _) => url.clone(),
        };
        for item in features(&page, &url)? {
            cancel.check().map_err(ClientError::Stopped)?;
            let product = to_product(item, service).map_err(|e| ClientError::BadResponse {
                url: url.clone(),
                detail: e.to_string(),
            })?;
            if keeps(&product, query, &capabilities) && products.len() < max_results {
                products.push(product);
            }
        }
        match next_request(&page, &request) {
            Some(next) => request = next,
            None => break,
        }
    }
    Ok(products)
}

/// How many items match `query` (`numberMatched`, or `context.matched`), by
/// a search of one item. Without a cloud filter on the server side, this is
/// the count before the cloud limit.
pub fn count(client: &Client, query: &Query, cancel: &Cancel) -> Result<u64, ClientError> {
    let service = service_of(&client.config().base_url);
    let capabilities = capabilities(client, cancel)?;
    let body = search_body(query, service, &capabilities, 1)?;
    let request = first_request(&capabilities, &body);
    let page = client.fetch_json(&request, cancel)?;
    page.get("numberMatched")
        .or_else(|| page.pointer("/context/matched"))
        .and_then(Value::as_u64)
        .ok_or_else(|| ClientError::BadResponse {
            url: capabilities.search_url.clone(),
            detail: "the answer says neither numberMatched nor context.matched".into(),
        })
}

/// The collections of a catalogue (`GET /collections`), as JSON.
pub fn collections(client: &Client, cancel: &Cancel) -> Result<Vec<Value>, ClientError> {
    let base = client.config().base_url.trim_end_matches('/');
    let url = format!("{base}/collections");
    let answer = client.fetch_json(&JsonRequest::Get(url.clone()), cancel)?;
    answer
        .get("collections")
        .and_then(Value::as_array)
        .cloned()
        .ok_or_else(|| ClientError::BadResponse {
            url,
            detail: "no 'collections' array".into(),
        })
}

fn first_request(capabilities: &Capabilities, body: &Map<String, Value>) -> JsonRequest {
    if capabilities.post {
        JsonRequest::Post(capabilities.search_url.clone(), Value::Object(body.clone()))
    } else {
        JsonRequest::Get(get_url(&capabilities.search_url, body))
    }
}

fn features<'a>(page: &'a Value, url: &str) -> Result<&'a Vec<Value>, ClientError> {
    page.get("features")
        .and_then(Value::as_array)
        .ok_or_else(|| ClientError::BadResponse {
            url: url.to_string(),
            detail: "not a STAC ItemCollection (no 'features' array)".into(),
        })
}

/// The request of a page's `next` link: GET its href, or POST its body
/// (merged into the previous body when `merge` is true).
fn next_request(page: &Value, previous: &JsonRequest) -> Option<JsonRequest> {
    let link = page
        .get("links")?
        .as_array()?
        .iter()
        .find(|l| l.get("rel").and_then(Value::as_str) == Some("next"))?;
    let href = link.get("href")?.as_str()?.to_string();
    if link.get("method").and_then(Value::as_str) != Some("POST") {
        return Some(JsonRequest::Get(href));
    }
    let given = link
        .get("body")
        .cloned()
        .unwrap_or(Value::Object(Map::new()));
    let merge = link.get("merge").and_then(Value::as_bool).unwrap_or(false);
    let body = match (merge, previous, given) {
        (true, JsonRequest::Post(_, Value::Object(before)), Value::Object(fields)) => {
            let mut merged = before.clone();
            merged.extend(fields);
            Value::Object(merged)
        }
        (_, _, given) => given,
    };
    Some(JsonRequest::Post(href, body))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Aoi, BBox};

    fn capabilities(filter: bool, sort: bool) -> Capabilities {
        Capabilities {
            search_url: "http://h/stac/v1/search".into(),
            post: true,
            filter,
            query: false,
            sort,
        }
    }

    #[test]
    fn a_query_becomes_a_search_as_the_catalogue_allows() {
        let query = Query {
            mission: Some("Sentinel-2".into()),
            product_type: Some("S2MSI2A".into()),
            aoi: Some(Aoi::from_bbox(BBox::new(5.0, 40.0, 8.0, 43.0).unwrap())),
            max_cloud: Some(20.0),
            order: SortOrder::SensingDescending,
            ..Query::default()
        };
        let full = search_body(&query, StacService::Cdse, &capabilities(true, true), 50).unwrap();
        assert_eq!(full["collections"], json!(["sentinel-2-l2a"]));
        assert_eq!(full["bbox"], json!([5.0, 40.0, 8.0, 43.0]));
        assert_eq!(full["filter"]["op"], "<=");
        assert_eq!(full["sortby"][0]["direction"], "desc");
        let url = get_url("http://h/search", &full);
        assert!(url.contains("filter=eo%3Acloud_cover+%3C%3D+20"), "{url}");
        assert!(url.contains("sortby=-properties.datetime"), "{url}");
        let bare = search_body(&query, StacService::Cdse, &capabilities(false, false), 50).unwrap();
        assert!(!bare.contains_key("filter") && !bare.contains_key("sortby"));
        let triangle = Query {
            aoi: Some(Aoi::from_polygon(&[(5.0, 40.0), (8.0, 40.0), (5.0, 43.0)]).unwrap()),
            ..Query::default()
        };
        let body =
            search_body(&triangle, StacService::Cdse, &capabilities(false, false), 5).unwrap();
        assert_eq!(body["intersects"]["type"], "Polygon");
    }

    #[test]
    fn post_next_links_merge_their_body_into_the_search() {
        let previous = JsonRequest::Post(
            "http://h/search".into(),
            json!({"limit": 2, "collections": ["a"]}),
        );
        let page = json!({"links": [{"rel": "next", "href": "http://h/search", "method": "POST",
                                     "body": {"token": "next:2"}, "merge": true}]});
        assert_eq!(
            next_request(&page, &previous),
            Some(JsonRequest::Post(
                "http://h/search".into(),
                json!({"limit": 2, "collections": ["a"], "token": "next:2"})
            ))
        );
        let get = json!({"links": [{"rel": "next", "href": "http://h/search?token=x"}]});
        assert_eq!(
            next_request(&get, &previous),
            Some(JsonRequest::Get("http://h/search?token=x".into()))
        );
        assert_eq!(
            odata_base_of("http://127.0.0.1:9/stac/v1"),
            "http://127.0.0.1:9/odata/v1"
        );
    }
}
