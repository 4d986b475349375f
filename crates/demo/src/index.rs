//! The index record of a generated product: what the builder tells
//! [`cleope_eo::archive`] about each product it writes.

use cleope_eo::archive::ProductRecord;

use super::ProductSpec;

/// The record of a product written from `spec`, with its download's size and checksums.
pub(super) fn record_of(
    spec: ProductSpec,
    size: u64,
    md5: String,
    blake3: String,
) -> ProductRecord {
    let cdse_name = spec
        .cdse_name
        .clone()
        .unwrap_or_else(|| spec.name.trim_end_matches(".zip").to_string());
    ProductRecord {
        id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, spec.name.as_bytes()).to_string(),
        s3_path: format!("{}/{}", spec.s3_folder.trim_end_matches('/'), cdse_name),
        cdse_name,
        footprint: footprint_wkt(&spec.footprint),
        name: spec.name,
        mission: spec.mission,
        collection: spec.collection,
        product_type: spec.product_type,
        main_class: spec.main_class,
        begin: spec.begin,
        end: spec.end,
        pseudopath: spec.pseudopath,
        online: spec.online,
        packing: spec.packing,
        size,
        md5,
        blake3,
        attributes: spec.attributes,
    }
}

/// A closed WKT polygon from a lon/lat ring; numbers printed in their shortest form.
fn footprint_wkt(ring: &[(f64, f64)]) -> String {
    let mut points: Vec<(f64, f64)> = ring.to_vec();
    if points.first() != points.last() {
        points.push(points[0]);
    }
    let coordinates: Vec<String> = points
        .iter()
        .map(|(lon, lat)| format!("{lon} {lat}"))
        .collect();
    format!("POLYGON (({}))", coordinates.join(", "))
}
