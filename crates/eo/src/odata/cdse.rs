//! The Copernicus Data Space Ecosystem dialect: `$filter` with
//! `Collection/Name`, `ContentDate/Start|End`, `OData.CSC.Intersects`,
//! attribute lambdas, `Name` functions; `$orderby`, `$top` (≤ 1000),
//! `$skip` (≤ 10000), `$count`, `$expand=Attributes`.
//!
//! [`search_url`] renders a [`Query`] (the local catalogue reads requests
//! back with its own parsers, `crates/catalogue/src/odata/cdse.rs`).
//!
//! ```text
//! …/odata/v1/Products?$filter=Collection/Name eq 'SENTINEL-2' and ContentDate/Start ge 2020-07-20T00:00:00.000Z
//!     and OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((lon lat,…))')
//!     &$orderby=ContentDate/Start asc&$top=100&$skip=0&$expand=Attributes
//! ```

use super::query::{DialectError, Page, Query, SortOrder};
use super::wire::{encode_component, format_instant, polygon_wkt};

/// The most results one page may ask for (`$top`).
pub const MAX_TOP: usize = 1000;
/// The most results a request may skip (`$skip`).
pub const MAX_SKIP: usize = 10000;

const CATALOGUE: &str = "the CDSE catalogue";
/// What the query-string values may carry unencoded (readable URLs).
const KEEP: &str = "/:(),'=;*";

/// The CDSE collection of an ONDA platform name: Sentinel-1..3 →
/// SENTINEL-1..3, "Sentinel-5 Precursor" (or "Sentinel-5P") → SENTINEL-5P,
/// a collection name as it is, anything else in capitals.
pub fn mission_to_collection(mission: &str) -> String {
    let lower = mission.trim().to_ascii_lowercase();
    match lower.as_str() {
        "sentinel-5 precursor" | "sentinel-5p" | "sentinel-5 p" => "SENTINEL-5P".into(),
        _ => mission.trim().to_ascii_uppercase(),
    }
}

/// The ONDA platform name of a CDSE collection (the reverse of
/// [`mission_to_collection`]); collections without one come back as they are.
pub fn collection_to_mission(collection: &str) -> String {
    match collection.trim().to_ascii_uppercase().as_str() {
        "SENTINEL-1" => "Sentinel-1".into(),
        "SENTINEL-2" => "Sentinel-2".into(),
        "SENTINEL-3" => "Sentinel-3".into(),
        "SENTINEL-5P" => "Sentinel-5 Precursor".into(),
        "SENTINEL-6" => "Sentinel-6".into(),
        "ENVISAT" => "Envisat".into(),
        _ => collection.trim().to_string(),
    }
}

/// The CDSE collection of an ONDA product main class (Copernicus services).
pub fn main_class_to_collection(class: &str) -> Option<&'static str> {
    match class.trim().to_ascii_lowercase().as_str() {
        "copernicus-atmosphere" => Some("CAMS"),
        "copernicus-marine" => Some("CMEMS"),
        "copernicus-land" => Some("CLMS"),
        _ => None,
    }
}

/// The ONDA product main class of a Copernicus-service collection.
pub fn collection_to_main_class(collection: &str) -> Option<&'static str> {
    match collection.trim().to_ascii_uppercase().as_str() {
        "CAMS" => Some("Copernicus-atmosphere"),
        "CMEMS" => Some("Copernicus-marine"),
        "CLMS" => Some("Copernicus-land"),
        _ => None,
    }
}

/// The name a product has in CDSE: `….SAFE` for Sentinel-1/2, `….SEN3` for
/// Sentinel-3, `….nc` for Sentinel-5P, an ONDA `.zip` name otherwise
/// without `.zip`; names already in CDSE form stay as they are.
pub fn cdse_product_name(name: &str) -> String {
    let name = name.trim();
    if [".SAFE", ".SEN3", ".nc"]
        .iter()
        .any(|ext| name.ends_with(ext))
    {
        return name.to_string();
    }
    let stem = name.strip_suffix(".zip").unwrap_or(name);
    let extension = if stem.starts_with("S1") || stem.starts_with("S2") {
        ".SAFE"
    } else if stem.starts_with("S3") {
        ".SEN3"
    } else if stem.starts_with("S5P") {
        ".nc"
    } else {
        ""
    };
    format!("{stem}{extension}")
}

/// The `$filter` expression of a query, None when the query is empty.
pub fn filter_expression(query: &Query) -> Result<Option<String>, DialectError> {
    let mut parts = Vec::new();
    if let Some(mission) = &query.mission {
        if mission.contains(['*', '?']) {
            return Err(unsupported(
                format!("the mission pattern '{mission}'"),
                "name one mission, e.g. Sentinel-2",
            ));
        }
        parts.push(format!(
            "Collection/Name eq {}",
            quote(&mission_to_collection(mission))
        ));
    }
    if let Some(class) = &query.main_class {
        let collection = main_class_to_collection(class).ok_or_else(|| {
            unsupported(
                format!("the main class '{class}'"),
                "use Copernicus-atmosphere, Copernicus-land or Copernicus-marine",
            )
        })?;
        parts.push(format!("Collection/Name eq {}", quote(collection)));
    }
    if let Some(kind) = &query.product_type {
        parts.push(product_type_filter(query.mission.as_deref(), kind)?);
    }
    if let Some(from) = query.sensed_from {
        parts.push(format!("ContentDate/Start ge {}", format_instant(from)));
    }
    if let Some(to) = query.sensed_to {
        parts.push(format!("ContentDate/End le {}", format_instant(to)));
    }
    if let Some(aoi) = &query.aoi {
        let areas: Vec<String> = aoi
            .multi_polygon()
            .iter()
            .map(|polygon| {
                format!(
                    "OData.CSC.Intersects(area=geography'SRID=4326;{}')",
                    polygon_wkt(polygon)
                )
            })
            .collect();
        parts.push(match areas.len() {
            1 => areas.into_iter().next().unwrap(),
            _ => format!("({})", areas.join(" or ")),
        });
    }
    if let Some(max) = query.max_cloud {
        parts.push(attribute_filter(
            "Double",
            "cloudCover",
            "le",
            &double_literal(max),
        ));
    }
    if let Some(name) = &query.name {
        parts.push(format!("Name eq {}", quote(&cdse_product_name(name))));
    }
    Ok((!parts.is_empty()).then(|| parts.join(" and ")))
}

/// Sentinel-1 types match as a part of the name (CDSE has no wildcards on
/// attributes; `contains(Name,'GRD')` is CDSE's own advice); other types
/// are the `productType` attribute.
fn product_type_filter(mission: Option<&str>, kind: &str) -> Result<String, DialectError> {
    let is_s1 = mission.is_some_and(|m| m.eq_ignore_ascii_case("Sentinel-1"));
    let inner = kind.trim_matches('*');
    if is_s1 && !inner.is_empty() && !inner.contains(['*', '?']) {
        return Ok(format!("contains(Name,{})", quote(inner)));
    }
    if kind.contains(['*', '?']) {
        return Err(unsupported(
            format!("the product type pattern '{kind}'"),
            "CDSE matches product types exactly: give the full type, e.g. S2MSI2A or OL_2_WFR___",
        ));
    }
    Ok(attribute_filter(
        "String",
        "productType",
        "eq",
        &quote(kind),
    ))
}

fn attribute_filter(kind: &str, name: &str, op: &str, literal: &str) -> String {
    format!(
        "Attributes/OData.CSC.{kind}Attribute/any(att:att/Name eq '{name}' and \
         att/OData.CSC.{kind}Attribute/Value {op} {literal})"
    )
}

fn double_literal(value: f64) -> String {
    let text = value.to_string();
    if text.contains('.') {
        text
    } else {
        format!("{text}.0")
    }
}

fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn unsupported(what: String, hint: &str) -> DialectError {
    DialectError::Unsupported {
        catalogue: CATALOGUE,
        what,
        hint: hint.into(),
    }
}

fn check_page(page: Page) -> Result<(), DialectError> {
    for (parameter, value, limit) in [("$top", page.top, MAX_TOP), ("$skip", page.skip, MAX_SKIP)] {
        if value > limit {
            return Err(DialectError::PageLimit {
                catalogue: CATALOGUE,
                parameter,
                value,
                limit,
            });
        }
    }
    Ok(())
}

fn order_clause(order: SortOrder) -> &'static str {
    match order {
        SortOrder::SensingAscending => "ContentDate/Start asc",
        SortOrder::SensingDescending => "ContentDate/Start desc",
    }
}

/// The search URL of one page: `{base}/Products?$filter=…&$orderby=…&$top=…
/// &$skip=…[&$count=true]&$expand=Attributes`, where `base` is the OData
/// root (`https://catalogue.dataspace.copernicus.eu/odata/v1`).
pub fn search_url(
    base: &str,
    query: &Query,
    page: Page,
    with_count: bool,
) -> Result<String, DialectError> {
    check_page(page)?;
    let mut parameters = Vec::new();
    if let Some(filter) = filter_expression(query)? {
        parameters.push(format!("$filter={}", encode_component(&filter, KEEP)));
    }
    parameters.push(format!(
        "$orderby={}",
        encode_component(order_clause(query.order), KEEP)
    ));
    parameters.push(format!("$top={}", page.top));
    parameters.push(format!("$skip={}", page.skip));
    if with_count {
        parameters.push("$count=true".into());
    }
    parameters.push("$expand=Attributes".into());
    Ok(format!("{}/Products?{}", trim(base), parameters.join("&")))
}

/// The URL that counts a query's matches: `$top=0&$count=true`; the count is
/// the answer's `@odata.count`.
pub fn count_url(base: &str, query: &Query) -> Result<String, DialectError> {
    let mut url = format!("{}/Products?", trim(base));
    if let Some(filter) = filter_expression(query)? {
        url.push_str(&format!("$filter={}&", encode_component(&filter, KEEP)));
    }
    url.push_str("$top=0&$count=true");
    Ok(url)
}

/// `{base}/Products(<id>)`: one product's metadata.
pub fn product_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})", trim(base))
}

/// `{base}/Products(<id>)/$value`: the download (answers with a redirect).
pub fn download_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})/$value", trim(base))
}

/// `{base}/Products(<id>)/OData.CSC.Order`: restores an archived product.
pub fn order_url(base: &str, id: &str) -> String {
    format!("{}/Products({id})/OData.CSC.Order", trim(base))
}

fn trim(base: &str) -> &str {
    base.trim_end_matches('/')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::geometry::{Aoi, BBox};
    use crate::odata::wire::parse_instant;
    use chrono::{DateTime, Utc};

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    fn italy() -> Aoi {
        Aoi::from_bbox(BBox::new(1.825846, 35.424868, 17.551899, 44.995883).unwrap())
    }

    fn full_query() -> Query {
        Query {
            mission: Some("Sentinel-2".into()),
            product_type: Some("S2MSI2A".into()),
            aoi: Some(italy()),
            sensed_from: Some(instant("2020-07-20T00:00:00Z")),
            sensed_to: Some(instant("2020-07-21T23:59:59.999Z")),
            max_cloud: Some(40.0),
            name: None,
            order: SortOrder::SensingDescending,
            ..Query::default()
        }
    }

    #[test]
    fn renders_the_documented_filter() {
        let expression = filter_expression(&full_query()).unwrap().unwrap();
        assert_eq!(
            expression,
            "Collection/Name eq 'SENTINEL-2' and \
             Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' and att/OData.CSC.StringAttribute/Value eq 'S2MSI2A') and \
             ContentDate/Start ge 2020-07-20T00:00:00.000Z and ContentDate/End le 2020-07-21T23:59:59.999Z and \
             OData.CSC.Intersects(area=geography'SRID=4326;POLYGON((1.825846 35.424868,17.551899 35.424868,17.551899 44.995883,1.825846 44.995883,1.825846 35.424868))') and \
             Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 40.0)"
        );
        let url = search_url(
            "http://localhost/odata/v1/",
            &full_query(),
            Page {
                top: 100,
                skip: 200,
            },
            true,
        )
        .unwrap();
        assert!(url.starts_with("http://localhost/odata/v1/Products?$filter=Collection/Name%20eq%20'SENTINEL-2'%20and"), "{url}");
        assert!(url.ends_with("&$orderby=ContentDate/Start%20desc&$top=100&$skip=200&$count=true&$expand=Attributes"), "{url}");
        assert_eq!(
            count_url("http://x/odata/v1", &Query::default()).unwrap(),
            "http://x/odata/v1/Products?$top=0&$count=true"
        );
    }

    #[test]
    fn refuses_pages_past_the_limits() {
        let page = |top, skip| search_url("h", &Query::default(), Page { top, skip }, false);
        assert!(page(MAX_TOP, MAX_SKIP).is_ok());
        assert!(page(MAX_TOP + 1, 0).is_err());
        let error = page(0, MAX_SKIP + 1).unwrap_err();
        assert!(error.to_string().contains("$skip=10001"), "{error}");
    }

    #[test]
    fn collections_and_names() {
        assert_eq!(mission_to_collection("Sentinel-5 Precursor"), "SENTINEL-5P");
        assert_eq!(mission_to_collection("Sentinel-3"), "SENTINEL-3");
        assert_eq!(collection_to_mission("SENTINEL-5P"), "Sentinel-5 Precursor");
        assert_eq!(collection_to_mission("sentinel-1"), "Sentinel-1");
        assert_eq!(main_class_to_collection("Copernicus-marine"), Some("CMEMS"));
        assert_eq!(collection_to_main_class("CLMS"), Some("Copernicus-land"));
        assert_eq!(cdse_product_name("S2A_MSIL2A_X.zip"), "S2A_MSIL2A_X.SAFE");
        assert_eq!(
            cdse_product_name("S3A_OL_2_WFR____X.zip"),
            "S3A_OL_2_WFR____X.SEN3"
        );
        assert_eq!(
            cdse_product_name("S5P_OFFL_L2__NO2____X.zip"),
            "S5P_OFFL_L2__NO2____X.nc"
        );
        assert_eq!(cdse_product_name("c_gls_NDVI_X.nc"), "c_gls_NDVI_X.nc");
        assert_eq!(cdse_product_name("g2_BIOPAR_DMP_X.zip"), "g2_BIOPAR_DMP_X");
    }
}
