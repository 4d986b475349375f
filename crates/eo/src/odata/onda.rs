//! The ONDA DIAS dialect (what CLEOPE called): one Lucene-like `$search`
//! string in double quotes, with `platformName`, `productType` (Sentinel-1
//! types wildcarded `*GRD*`), `productMainClass`, `beginPosition` /
//! `endPosition` ranges, `cloudCoverPercentage:[0 TO x]`, `name`, and
//! `footprint:"Intersects(POLYGON((lon lat,…)))"`; then `$top`, `$skip`,
//! `$format=json`, `$orderby=beginPosition asc|desc`. `Products/$count`
//! takes the same `$search` and answers a bare integer.
//!
//! ```text
//! …/dias-catalogue/Products?$search="( platformName:Sentinel-3 AND productType:SY_2_SYN___ ) AND
//!     ( beginPosition:[2020-07-20T00:00:00.000Z TO 2020-07-21T23:59:59.999Z] AND endPosition:[…] ) AND
//!     footprint:"Intersects(POLYGON((1.8 35.4,…)))""&$top=100&$skip=0&$format=json&$orderby=beginPosition asc
//! ```
//!
//! Compared with CLEOPE, the rendering fixes its quirks (inventory §6):
//! `$orderby` has its `$`, multi-word platform names are quoted, and paging
//! is the caller's (`Page`), not a residual-page formula.

use chrono::{DateTime, Utc};

use super::query::{DialectError, Page, Query, SortOrder};
use super::wire::{encode_component, format_instant, polygon_wkt};

/// What the query-string values may carry unencoded (CLEOPE sent these
/// literally; `"`, spaces, `+`, `&`, `#` and `%` are always encoded).
const KEEP: &str = "[]:(),*/'";

/// The `$search` value of a query, outer double quotes included; None when
/// the query selects everything (no `$search` is sent then).
pub fn search_expression(query: &Query) -> Result<Option<String>, DialectError> {
    let mut parts = Vec::new();
    if let Some(group) = mission_group(query) {
        parts.push(group);
    }
    if let Some(class) = &query.main_class {
        parts.push(format!("( productMainClass:{} )", value(class)));
    }
    if let Some(dates) = dates_group(query) {
        parts.push(dates);
    }
    if let Some(max) = query.max_cloud {
        parts.push(format!("cloudCoverPercentage:[0 TO {max}]"));
    }
    if let Some(name) = &query.name {
        parts.push(format!("name:{}", value(name)));
    }
    if let Some(aoi) = &query.aoi {
        aoi.check_onda_vertex_limit()?;
        let areas: Vec<String> = aoi
            .multi_polygon()
            .iter()
            .map(|polygon| format!("footprint:\"Intersects({})\"", polygon_wkt(polygon)))
            .collect();
        parts.push(match areas.len() {
            1 => areas.into_iter().next().unwrap(),
            _ => format!("( {} )", areas.join(" OR ")),
        });
    }
    Ok((!parts.is_empty()).then(|| format!("\"{}\"", parts.join(" AND "))))
}

/// `( platformName:M AND productType:T )`, Sentinel-1 types as `*T*`.
fn mission_group(query: &Query) -> Option<String> {
    let mut terms = Vec::new();
    if let Some(mission) = &query.mission {
        terms.push(format!("platformName:{}", value(mission)));
    }
    if let Some(kind) = &query.product_type {
        let is_s1 = query
            .mission
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("Sentinel-1"));
        let kind = if is_s1 && !kind.contains(['*', '?']) {
            format!("*{kind}*")
        } else {
            kind.clone()
        };
        terms.push(format!("productType:{}", value(&kind)));
    }
    (!terms.is_empty()).then(|| format!("( {} )", terms.join(" AND ")))
}

/// CLEOPE's `( beginPosition:[a TO b] AND endPosition:[a TO b] )`: since a
/// product ends after it starts, this is exactly "starts at or after a and
/// ends at or before b". One bound alone uses `*` for the other end.
fn dates_group(query: &Query) -> Option<String> {
    let bound = |instant: Option<DateTime<Utc>>| {
        instant
            .map(format_instant)
            .unwrap_or_else(|| "*".to_string())
    };
    let from = bound(query.sensed_from);
    let to = bound(query.sensed_to);
    match (query.sensed_from, query.sensed_to) {
        (None, None) => None,
        (Some(_), None) => Some(format!("( beginPosition:[{from} TO *] )")),
        (None, Some(_)) => Some(format!("( endPosition:[* TO {to}] )")),
        (Some(_), Some(_)) => Some(format!(
            "( beginPosition:[{from} TO {to}] AND endPosition:[{from} TO {to}] )"
        )),
    }
}

/// A field value: bare when it is one word, in double quotes otherwise
/// ("Sentinel-5 Precursor", which CLEOPE sent with a bare space).
fn value(text: &str) -> String {
    if text.is_empty() || text.contains(|c: char| c.is_whitespace() || "()[]\":".contains(c)) {
        format!("\"{}\"", text.replace('"', ""))
    } else {
        text.to_string()
    }
}

fn order_clause(order: SortOrder) -> &'static str {
    match order {
        SortOrder::SensingAscending => "beginPosition asc",
        SortOrder::SensingDescending => "beginPosition desc",
    }
}

/// The search URL of one page: `{base}/Products?$search="…"&$top=…&$skip=…
/// &$format=json&$orderby=beginPosition asc|desc`, where `base` is the
/// catalogue root (`https://catalogue.onda-dias.eu/dias-catalogue`).
pub fn search_url(base: &str, query: &Query, page: Page) -> Result<String, DialectError> {
    let mut parameters = Vec::new();
    if let Some(search) = search_expression(query)? {
        parameters.push(format!("$search={}", encode_component(&search, KEEP)));
    }
    parameters.push(format!("$top={}", page.top));
    parameters.push(format!("$skip={}", page.skip));
    parameters.push("$format=json".into());
    parameters.push(format!(
        "$orderby={}",
        encode_component(order_clause(query.order), KEEP)
    ));
    Ok(format!("{}/Products?{}", trim(base), parameters.join("&")))
}

/// `{base}/Products/$count?$search="…"`: the number of matches, answered
/// as a bare integer.
pub fn count_url(base: &str, query: &Query) -> Result<String, DialectError> {
    let mut url = format!("{}/Products/$count", trim(base));
    if let Some(search) = search_expression(query)? {
        url.push_str(&format!("?$search={}", encode_component(&search, KEEP)));
    }
    Ok(url)
}

/// `{base}/Products(<id>)`: one product's entry.
pub fn product_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})", trim(base))
}

/// `{base}/Products(<id>)/$value`: the download (HTTP Basic auth).
pub fn download_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})/$value", trim(base))
}

/// `{base}/Products(<id>)/Ens.Order`: the order of an archived product
/// (POST, HTTP Basic auth, `Content-Type: application/json`).
pub fn order_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})/Ens.Order", trim(base))
}

fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Aoi, BBox};
    use crate::odata::wire::parse_instant;

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    fn italy() -> Aoi {
        Aoi::from_bbox(BBox::new(1.825846, 35.424868, 17.551899, 44.995883).unwrap())
    }

    fn full_query() -> Query {
        Query {
            mission: Some("Sentinel-3".into()),
            product_type: Some("SY_2_SYN___".into()),
            aoi: Some(italy()),
            sensed_from: Some(instant("2020-07-20T00:00:00Z")),
            sensed_to: Some(instant("2020-07-21T23:59:59.999Z")),
            ..Query::default()
        }
    }

    #[test]
    fn renders_cleopes_grammar_with_its_quirks_fixed() {
        let search = search_expression(&full_query()).unwrap().unwrap();
        assert_eq!(
            search,
            "\"( platformName:Sentinel-3 AND productType:SY_2_SYN___ ) AND \
             ( beginPosition:[2020-07-20T00:00:00.000Z TO 2020-07-21T23:59:59.999Z] AND \
             endPosition:[2020-07-20T00:00:00.000Z TO 2020-07-21T23:59:59.999Z] ) AND \
             footprint:\"Intersects(POLYGON((1.825846 35.424868,17.551899 35.424868,17.551899 44.995883,1.825846 44.995883,1.825846 35.424868)))\"\""
        );
        let url = search_url(
            "https://catalogue.onda-dias.eu/dias-catalogue/",
            &full_query(),
            Page { top: 100, skip: 0 },
        )
        .unwrap();
        assert!(url.starts_with("https://catalogue.onda-dias.eu/dias-catalogue/Products?$search=%22(%20platformName:Sentinel-3%20AND%20productType:SY_2_SYN___%20)%20AND%20(%20beginPosition:[2020-07-20T00:00:00.000Z%20TO%20"), "{url}");
        assert!(
            url.ends_with("&$top=100&$skip=0&$format=json&$orderby=beginPosition%20asc"),
            "{url}"
        );
        let s1 = Query {
            mission: Some("Sentinel-1".into()),
            product_type: Some("GRD".into()),
            ..Query::default()
        };
        assert_eq!(
            search_expression(&s1).unwrap().unwrap(),
            "\"( platformName:Sentinel-1 AND productType:*GRD* )\""
        );
        let s5p = Query {
            mission: Some("Sentinel-5 Precursor".into()),
            max_cloud: Some(12.5),
            name: Some("S5P_X.zip".into()),
            ..Query::default()
        };
        assert_eq!(
            search_expression(&s5p).unwrap().unwrap(),
            "\"( platformName:\"Sentinel-5 Precursor\" ) AND cloudCoverPercentage:[0 TO 12.5] AND name:S5P_X.zip\""
        );
        assert_eq!(
            count_url("http://h/dias-catalogue", &s1).unwrap(),
            "http://h/dias-catalogue/Products/$count?$search=%22(%20platformName:Sentinel-1%20AND%20productType:*GRD*%20)%22"
        );
        assert_eq!(
            count_url("http://h/dias-catalogue", &Query::default()).unwrap(),
            "http://h/dias-catalogue/Products/$count"
        );
    }

    #[test]
    fn refuses_areas_past_ondas_point_limit() {
        let ring: Vec<(f64, f64)> = (0..250)
            .map(|i| {
                let angle = i as f64 / 250.0 * std::f64::consts::TAU;
                (angle.cos(), angle.sin())
            })
            .collect();
        let query = Query {
            aoi: Some(Aoi::from_polygon(&ring).unwrap()),
            ..Query::default()
        };
        let error = search_expression(&query).unwrap_err();
        assert!(error.to_string().contains("at most 200"), "{error}");
    }
}
