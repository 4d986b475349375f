//! What both ends of the wire write alike: the client renders queries and
//! reads answers with these, and the local catalogue
//! (`crates/catalogue/src/odata/`) parses requests and writes answers with
//! the same ones, so an instant, a polygon or an encoded value reads back
//! as it was written.

use chrono::{DateTime, NaiveDate, SecondsFormat, TimeZone, Utc};
use geo::Polygon;

/// An instant as both catalogues write it: `2020-07-20T00:00:00.000Z`, with
/// more digits only when the instant has them (so it reads back exactly).
pub fn format_instant(instant: DateTime<Utc>) -> String {
    let precision = if instant.timestamp_subsec_nanos().is_multiple_of(1_000_000) {
        SecondsFormat::Millis
    } else if instant.timestamp_subsec_nanos().is_multiple_of(1_000) {
        SecondsFormat::Micros
    } else {
        SecondsFormat::Nanos
    };
    instant.to_rfc3339_opts(precision, true)
}

/// Reads an RFC 3339 instant (`2020-07-20T00:00:00.000Z`, offsets allowed)
/// or a bare date (`2020-07-20`, midnight UTC).
pub fn parse_instant(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Some(instant.with_timezone(&Utc));
    }
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok()?;
    Some(Utc.from_utc_datetime(&date.and_hms_opt(0, 0, 0)?))
}

/// The WKT both dialects put in queries: `POLYGON((lon lat,lon lat,…))`,
/// holes as further rings, numbers in their shortest exact form.
pub fn polygon_wkt(polygon: &Polygon<f64>) -> String {
    let ring = |line: &geo::LineString<f64>| {
        let points: Vec<String> = line.coords().map(|c| format!("{} {}", c.x, c.y)).collect();
        format!("({})", points.join(","))
    };
    let rings: Vec<String> = std::iter::once(polygon.exterior())
        .chain(polygon.interiors())
        .map(ring)
        .collect();
    format!("POLYGON({})", rings.join(","))
}

/// The WKT without CDSE's `geography'…'` wrapper and the `SRID=4326;` prefix.
pub fn strip_geography(text: &str) -> &str {
    let text = text.trim();
    let text = text
        .strip_prefix("geography'")
        .and_then(|t| t.strip_suffix('\''))
        .unwrap_or(text);
    match text.split_once(';') {
        Some((srid, rest)) if srid.trim().to_ascii_uppercase().starts_with("SRID=") => rest,
        _ => text,
    }
}

/// Percent-encodes a query-string value, leaving `keep` and the unreserved
/// characters (letters, digits, `-._~`) as they are.
pub fn encode_component(text: &str, keep: &str) -> String {
    let mut encoded = String::with_capacity(text.len() + 16);
    for byte in text.bytes() {
        let c = byte as char;
        if c.is_ascii_alphanumeric() || "-._~".contains(c) || (c.is_ascii() && keep.contains(c)) {
            encoded.push(c);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    #[test]
    fn instants_keep_their_precision() {
        let whole = instant("2020-07-20T00:00:00Z");
        assert_eq!(format_instant(whole), "2020-07-20T00:00:00.000Z");
        let fine = instant("2020-07-20T00:00:00.123456Z");
        assert_eq!(format_instant(fine), "2020-07-20T00:00:00.123456Z");
        assert_eq!(instant("2020-07-20"), whole);
        assert!(parse_instant("20-07-2020").is_none());
    }
}
