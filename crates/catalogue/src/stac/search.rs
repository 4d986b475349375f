//! An item search as the STAC API says it: the query parameters of
//! `GET /search` (comma-separated lists) or the JSON body of `POST /search`
//! (arrays), read into one [`StacSearch`] and turned into the catalogue's
//! [`Filter`], so the same index answers OData and STAC.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::odata::filter::{Comparison, Filter, NameMatch, Region, TimeField};
use cleope_eo::geometry::{Aoi, BBox};
use cleope_eo::odata::{Page, SortOrder};

/// Items a page holds when the client does not say.
pub const DEFAULT_LIMIT: usize = 10;
/// The largest page; a larger `limit` is clamped to it, as the spec asks.
pub const MAX_LIMIT: usize = 10_000;

/// A time range; None: open at that end.
pub type TimeRange = (Option<DateTime<Utc>>, Option<DateTime<Utc>>);

/// One search.
#[derive(Debug, Clone)]
pub struct StacSearch {
    /// Collection ids; None: every collection.
    pub collections: Option<Vec<String>>,
    /// Item ids; None: every item.
    pub ids: Option<Vec<String>>,
    /// What footprints must intersect (`bbox`, or the parts of the
    /// `intersects` geometry: at least one of them).
    pub regions: Option<Vec<Region>>,
    /// The time range items must touch; either end may be open.
    pub datetime: Option<TimeRange>,
    /// Page size and position (the `token` is the position).
    pub page: Page,
    /// Order by sensing start.
    pub order: SortOrder,
}

/// A search the server cannot run: the STAC API's 400.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct BadSearch(pub String);

fn bad(message: impl Into<String>) -> BadSearch {
    BadSearch(message.into())
}

impl StacSearch {
    /// A `GET` search (or `GET /collections/{id}/items`): decoded query pairs.
    pub fn from_pairs(pairs: &[(String, String)]) -> Result<StacSearch, BadSearch> {
        let mut search = Fields::default();
        for (key, value) in pairs {
            let list = || -> Vec<String> {
                value
                    .split(',')
                    .map(str::trim)
                    .filter(|v| !v.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            match key.as_str() {
                "collections" => search.collections = Some(list()),
                "ids" => search.ids = Some(list()),
                "bbox" => {
                    let numbers = list()
                        .iter()
                        .map(|n| n.parse::<f64>().map_err(|_| bad(format!("bbox has '{n}', which is not a number: give 4 numbers west,south,east,north"))))
                        .collect::<Result<Vec<_>, _>>()?;
                    search.bbox = Some(numbers);
                }
                "intersects" => {
                    search.intersects = Some(serde_json::from_str(value).map_err(|e| {
                        bad(format!("intersects is not GeoJSON ({e}): give a geometry such as {{\"type\":\"Polygon\",\"coordinates\":[…]}}"))
                    })?)
                }
                "datetime" => search.datetime = Some(value.clone()),
                "limit" => search.limit = Some(value.clone()),
                "token" => search.token = Some(value.clone()),
                "sortby" => search.sortby = list(),
                _ => {}
            }
        }
        search.into_search()
    }

    /// A `POST /search` body.
    pub fn from_body(body: &Value) -> Result<StacSearch, BadSearch> {
        let object = body
            .as_object()
            .ok_or_else(|| bad("the search body must be a JSON object, e.g. {\"collections\":[\"sentinel-2-l2a\"],\"limit\":10}"))?;
        let strings = |key: &str| -> Result<Option<Vec<String>>, BadSearch> {
            match object.get(key) {
                None | Some(Value::Null) => Ok(None),
                Some(Value::Array(items)) => items
                    .iter()
                    .map(|item| {
                        item.as_str()
                            .map(str::to_string)
                            .ok_or_else(|| bad(format!("{key} must be an array of strings")))
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(Some),
                Some(_) => Err(bad(format!("{key} must be an array of strings"))),
            }
        };
        let text = |value: &Value| match value {
            Value::String(text) => text.clone(),
            other => other.to_string(),
        };
        let mut search = Fields {
            collections: strings("collections")?,
            ids: strings("ids")?,
            ..Fields::default()
        };
        if let Some(bbox) = object.get("bbox").filter(|v| !v.is_null()) {
            let numbers = bbox
                .as_array()
                .and_then(|items| items.iter().map(Value::as_f64).collect::<Option<Vec<_>>>())
                .ok_or_else(|| {
                    bad("bbox must be an array of 4 numbers [west, south, east, north]")
                })?;
            search.bbox = Some(numbers);
        }
        search.intersects = object.get("intersects").filter(|v| !v.is_null()).cloned();
        search.datetime = object.get("datetime").filter(|v| !v.is_null()).map(text);
        search.limit = object.get("limit").filter(|v| !v.is_null()).map(text);
        search.token = object.get("token").filter(|v| !v.is_null()).map(text);
        if let Some(sortby) = object.get("sortby").filter(|v| !v.is_null()) {
            let clauses = sortby.as_array().ok_or_else(|| {
                bad("sortby must be an array of {\"field\": …, \"direction\": \"asc\"|\"desc\"}")
            })?;
            for clause in clauses {
                let field = clause.get("field").and_then(Value::as_str).unwrap_or("");
                let sign = match clause.get("direction").and_then(Value::as_str) {
                    Some("desc") => "-",
                    _ => "",
                };
                search.sortby.push(format!("{sign}{field}"));
            }
        }
        search.into_search()
    }

    /// The catalogue filter of the search; `collection_parts` gives, for a
    /// collection id, the (OData collection, product type) pairs of the
    /// archive's products in it.
    pub fn filter(&self, collection_parts: impl Fn(&str) -> Vec<(String, String)>) -> Filter {
        let mut parts = Vec::new();
        if let Some(ids) = &self.collections {
            let alternatives = ids
                .iter()
                .flat_map(|id| collection_parts(id))
                .map(|(collection, kind)| {
                    Filter::all_of(vec![
                        Filter::Collection(collection),
                        Filter::ProductType(kind),
                    ])
                })
                .collect();
            parts.push(Filter::Or(alternatives));
        }
        if let Some(ids) = &self.ids {
            parts.push(Filter::Or(
                ids.iter()
                    .map(|id| Filter::Name(NameMatch::Exact(id.clone())))
                    .collect(),
            ));
        }
        if let Some(regions) = &self.regions {
            parts.push(Filter::any_of(
                regions.iter().cloned().map(Filter::Intersects).collect(),
            ));
        }
        if let Some((from, to)) = self.datetime {
            // An item touches the range when it ends after its start and
            // starts before its end.
            if let Some(from) = from {
                parts.push(Filter::time(TimeField::SensingEnd, Comparison::Ge, from));
            }
            if let Some(to) = to {
                parts.push(Filter::time(TimeField::SensingStart, Comparison::Le, to));
            }
        }
        Filter::all_of(parts)
    }
}

/// The raw fields of either form, checked together.
#[derive(Debug, Default)]
struct Fields {
    collections: Option<Vec<String>>,
    ids: Option<Vec<String>>,
    bbox: Option<Vec<f64>>,
    intersects: Option<Value>,
    datetime: Option<String>,
    limit: Option<String>,
    token: Option<String>,
    sortby: Vec<String>,
}

impl Fields {
    fn into_search(self) -> Result<StacSearch, BadSearch> {
        if self.bbox.is_some() && self.intersects.is_some() {
            return Err(bad(
                "bbox and intersects cannot be used together: give one of them",
            ));
        }
        let regions = match (self.bbox, self.intersects) {
            (Some(numbers), _) => Some(vec![Region::Area(bbox_area(&numbers)?)]),
            (_, Some(geometry)) => Some(regions_of(&geometry)?),
            _ => None,
        };
        let limit = match self.limit {
            None => DEFAULT_LIMIT,
            Some(text) => match text.trim().parse::<usize>() {
                Ok(0) | Err(_) => {
                    return Err(bad(format!(
                        "limit={text} is not a whole number from 1 (larger than {MAX_LIMIT} is read as {MAX_LIMIT})"
                    )));
                }
                Ok(n) => n.min(MAX_LIMIT),
            },
        };
        let skip = match self.token {
            None => 0,
            Some(token) => read_token(&token)?,
        };
        Ok(StacSearch {
            collections: self.collections,
            ids: self.ids,
            regions,
            datetime: self.datetime.as_deref().map(parse_datetime).transpose()?,
            page: Page { top: limit, skip },
            order: sort_order(&self.sortby)?,
        })
    }
}

/// The opaque paging token of the page starting at `skip`.
pub fn token(skip: usize) -> String {
    format!("next:{skip}")
}

fn read_token(text: &str) -> Result<usize, BadSearch> {
    text.strip_prefix("next:")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| {
            bad(format!(
                "token '{text}' is not one this server gave: follow the 'next' link of a search"
            ))
        })
}

/// The regions of a GeoJSON geometry: areas as they are, points as points,
/// each segment of a line as a quadrilateral a centimetre wide (the filter
/// tests areas and points exactly; a line is the union of its segments).
fn regions_of(geometry: &Value) -> Result<Vec<Region>, BadSearch> {
    let kind = geometry.get("type").and_then(Value::as_str).unwrap_or("");
    let unusable = |what: &str| {
        bad(format!(
            "intersects has a {kind} that is not usable ({what}): give a GeoJSON geometry, e.g. \
             {{\"type\":\"Point\",\"coordinates\":[12.5,41.9]}}"
        ))
    };
    let coordinates = geometry.get("coordinates");
    let point = |value: &Value| -> Result<(f64, f64), BadSearch> {
        match value.as_array().map(|p| p.as_slice()) {
            Some([lon, lat, ..]) => Ok((
                lon.as_f64()
                    .ok_or_else(|| unusable("a coordinate is not a number"))?,
                lat.as_f64()
                    .ok_or_else(|| unusable("a coordinate is not a number"))?,
            )),
            _ => Err(unusable("a position needs two numbers")),
        }
    };
    let list = |value: Option<&Value>| -> Result<Vec<Value>, BadSearch> {
        value
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| unusable("no coordinates"))
    };
    let line = |positions: &[Value]| -> Result<Vec<Region>, BadSearch> {
        let points = positions.iter().map(point).collect::<Result<Vec<_>, _>>()?;
        points
            .windows(2)
            .map(|pair| segment(pair[0], pair[1]).map_err(|e| unusable(&e)))
            .collect()
    };
    match kind {
        "Point" => Ok(vec![{
            let (lon, lat) = point(coordinates.ok_or_else(|| unusable("no coordinates"))?)?;
            Region::Point(lon, lat)
        }]),
        "MultiPoint" => list(coordinates)?
            .iter()
            .map(|p| point(p).map(|(lon, lat)| Region::Point(lon, lat)))
            .collect(),
        "LineString" => line(&list(coordinates)?),
        "MultiLineString" => Ok(list(coordinates)?
            .iter()
            .map(|l| line(l.as_array().map_or(&[][..], |l| l.as_slice())))
            .collect::<Result<Vec<_>, _>>()?
            .concat()),
        "Polygon" | "MultiPolygon" => Aoi::from_geojson(&geometry.to_string())
            .map(|area| vec![Region::Area(area)])
            .map_err(|e| unusable(&e.to_string())),
        "GeometryCollection" => Ok(list(geometry.get("geometries"))?
            .iter()
            .map(regions_of)
            .collect::<Result<Vec<_>, _>>()?
            .concat()),
        _ => Err(unusable("not a GeoJSON geometry type")),
    }
}

/// A thin quadrilateral around the segment `a`–`b` (a point for a segment of
/// no length).
fn segment(a: (f64, f64), b: (f64, f64)) -> Result<Region, String> {
    const HALF_WIDTH: f64 = 5e-8; // degrees: about half a centimetre
    let (dx, dy) = (b.0 - a.0, b.1 - a.1);
    let length = dx.hypot(dy);
    if length == 0.0 {
        return Ok(Region::Point(a.0, a.1));
    }
    let (nx, ny) = (-dy / length * HALF_WIDTH, dx / length * HALF_WIDTH);
    Aoi::from_polygon(&[
        (a.0 + nx, a.1 + ny),
        (b.0 + nx, b.1 + ny),
        (b.0 - nx, b.1 - ny),
        (a.0 - nx, a.1 - ny),
    ])
    .map(Region::Area)
    .map_err(|e| e.to_string())
}

fn bbox_area(numbers: &[f64]) -> Result<Aoi, BadSearch> {
    let (west, south, east, north) = match *numbers {
        [w, s, e, n] => (w, s, e, n),
        [w, s, _, e, n, _] => (w, s, e, n),
        _ => {
            return Err(bad(format!(
                "bbox has {} numbers: give 4 (west,south,east,north) or 6 (with heights)",
                numbers.len()
            )));
        }
    };
    BBox::new(west, south, east, north)
        .map(Aoi::from_bbox)
        .map_err(|e| {
            bad(format!(
                "bbox {west},{south},{east},{north} is not usable: {e}"
            ))
        })
}

/// `datetime`: an instant, or `a/b` with `..` (or nothing) for an open end.
fn parse_datetime(text: &str) -> Result<TimeRange, BadSearch> {
    let end = |part: &str| -> Result<Option<DateTime<Utc>>, BadSearch> {
        let part = part.trim();
        if part.is_empty() || part == ".." {
            return Ok(None);
        }
        DateTime::parse_from_rfc3339(part).map(|t| Some(t.with_timezone(&Utc))).map_err(|_| {
            bad(format!("datetime has '{part}', which is not an RFC 3339 instant such as 2020-08-01T00:00:00Z"))
        })
    };
    match text.split_once('/') {
        Some((from, to)) => {
            let range = (end(from)?, end(to)?);
            if range == (None, None) {
                return Err(bad(
                    "datetime '../..' is open at both ends: give at least one instant",
                ));
            }
            if let (Some(a), Some(b)) = range
                && a > b
            {
                return Err(bad(format!("datetime {text} ends before it starts")));
            }
            Ok(range)
        }
        None => {
            let instant = end(text)?
                .ok_or_else(|| bad("datetime is empty: give an instant or a range a/b"))?;
            Ok((Some(instant), Some(instant)))
        }
    }
}

/// `sortby`: by date only (`datetime`, `properties.datetime`,
/// `start_datetime`), `+`/`-` or `asc`/`desc`.
fn sort_order(clauses: &[String]) -> Result<SortOrder, BadSearch> {
    let Some(first) = clauses.first() else {
        return Ok(SortOrder::SensingAscending);
    };
    let (descending, field) = match first.trim() {
        field if field.starts_with('-') => (true, &field[1..]),
        field => (false, field.trim_start_matches('+')),
    };
    let field = field.trim_start_matches("properties.");
    if !["datetime", "start_datetime"].contains(&field) {
        return Err(bad(format!(
            "cannot sort by '{field}': this catalogue sorts by datetime (sortby=datetime or sortby=-datetime)"
        )));
    }
    Ok(if descending {
        SortOrder::SensingDescending
    } else {
        SortOrder::SensingAscending
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn get_and_post_searches_read_alike() {
        let get = StacSearch::from_pairs(&pairs(&[
            ("collections", "sentinel-2-l2a"),
            ("bbox", "5,40,8,43"),
            ("datetime", "2020-08-01T00:00:00Z/.."),
            ("limit", "20000"),
            ("sortby", "-properties.datetime"),
            ("token", "next:30"),
        ]))
        .unwrap();
        let post = StacSearch::from_body(&serde_json::json!({
            "collections": ["sentinel-2-l2a"], "bbox": [5, 40, 8, 43],
            "datetime": "2020-08-01T00:00:00Z/..", "limit": 20000,
            "sortby": [{"field": "properties.datetime", "direction": "desc"}], "token": "next:30"
        }))
        .unwrap();
        for search in [get, post] {
            assert_eq!(
                search.page,
                Page {
                    top: MAX_LIMIT,
                    skip: 30
                }
            );
            assert_eq!(search.order, SortOrder::SensingDescending);
            assert!(search.datetime.unwrap().1.is_none());
            match &search.regions.unwrap()[..] {
                [Region::Area(area)] => assert_eq!(area.bbox().to_tuple(), (5.0, 40.0, 8.0, 43.0)),
                other => panic!("{other:?}"),
            }
        }
    }

    #[test]
    fn bad_searches_say_what_to_give() {
        let error = |list: &[(&str, &str)]| StacSearch::from_pairs(&pairs(list)).unwrap_err().0;
        assert!(
            error(&[
                ("bbox", "1,2,3,4"),
                ("intersects", "{\"type\":\"Point\",\"coordinates\":[1,2]}")
            ])
            .contains("together")
        );
        assert!(error(&[("bbox", "1,2,3")]).contains("give 4"));
        assert!(error(&[("datetime", "yesterday")]).contains("RFC 3339"));
        assert!(error(&[("datetime", "1985-04-12")]).contains("RFC 3339"));
        assert!(error(&[("intersects", "{\"type\":\"Circle\"}")]).contains("Circle"));
        assert!(error(&[("datetime", "../..")]).contains("both ends"));
        assert!(error(&[("limit", "0")]).contains("from 1"));
        assert!(error(&[("token", "7")]).contains("next"));
        assert!(error(&[("sortby", "eo:cloud_cover")]).contains("datetime"));
    }

    #[test]
    fn points_lines_and_collections_become_regions() {
        let regions = |geometry: Value| {
            StacSearch::from_body(&serde_json::json!({ "intersects": geometry }))
                .unwrap()
                .regions
                .unwrap()
        };
        let point = regions(serde_json::json!({"type": "Point", "coordinates": [100.0, 0.0]}));
        assert_eq!(point, [Region::Point(100.0, 0.0)]);
        let line = regions(
            serde_json::json!({"type": "LineString", "coordinates": [[100.0, 0.0], [101.0, 1.0], [101.0, 1.0]]}),
        );
        assert!(
            matches!(line[..], [Region::Area(_), Region::Point(..)]),
            "{line:?}"
        );
        let Region::Area(thin) = &line[0] else {
            unreachable!()
        };
        assert!(thin.contains_point(100.5, 0.5) && !thin.contains_point(100.5, 0.51));
        let both = regions(
            serde_json::json!({"type": "GeometryCollection", "geometries": [
            {"type": "MultiPoint", "coordinates": [[1, 2], [3, 4]]},
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}]}),
        );
        assert_eq!(both.len(), 3);
    }
}
