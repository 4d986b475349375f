//! What both OData dialects say, as one tree: the parsers of `onda.rs` and
//! `cdse.rs` read `$search` and `$filter` into a [`Filter`], the local
//! catalogue evaluates it on every candidate product ([`Filter::matches`]),
//! and [`Filter::to_query`] turns it back into the one [`Query`] model when
//! the tree says nothing a `Query` cannot.
//!
//! A `Query` becomes a filter through [`Filter::from_query`]; the filter
//! gives the same answer on every product as [`cleope_eo::ens::matches`]
//! gives for the query (tested below), so the catalogue and ENS agree on
//! what a query finds.

use chrono::{DateTime, Utc};
use geo::{Geometry, MultiPolygon, Polygon};

use cleope_eo::archive::ProductRecord;
use cleope_eo::ens::{glob_match, name_stem};
use cleope_eo::geometry::{Aoi, AoiError};
use cleope_eo::odata::cdse::{collection_to_main_class, collection_to_mission};
use cleope_eo::odata::wire::{format_instant, parse_instant, strip_geography};
use cleope_eo::odata::{Query, SortOrder};

/// A condition on catalogue products.
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// Every product (an empty `$search` or no `$filter`).
    All,
    /// Every part holds.
    And(Vec<Filter>),
    /// At least one part holds.
    Or(Vec<Filter>),
    /// The part does not hold.
    Not(Box<Filter>),
    /// ONDA `platformName`: a platform name, `*`/`?` wildcards allowed, any
    /// case; a CDSE collection name ("SENTINEL-2") is accepted too.
    Mission(String),
    /// CDSE `Collection/Name eq '…'` (any case).
    Collection(String),
    /// ONDA `productMainClass` (Copernicus services).
    MainClass(String),
    /// Product type: `*`/`?` wildcards; a Sentinel-1 type without wildcards
    /// matches as a substring (ONDA's `*GRD*` habit), as [`Query`] says.
    ProductType(String),
    /// The product name.
    Name(NameMatch),
    /// The product id (UUID), any case.
    Id(String),
    /// A time of the product compared with an instant.
    Time {
        /// Which time.
        field: TimeField,
        /// How it compares.
        op: Comparison,
        /// With what.
        instant: DateTime<Utc>,
    },
    /// The footprint shares at least one point with this region.
    Intersects(Region),
    /// A numeric attribute (`cloudCover`, `orbitNumber`, …) compared with a
    /// number; a product without the attribute does not match.
    Number {
        /// Attribute name as CDSE spells it (`cloudCover`).
        attribute: String,
        /// How it compares.
        op: Comparison,
        /// With what.
        value: f64,
    },
    /// A text attribute (`orbitDirection`, `tileId`, …) equal to a value.
    Text {
        /// Attribute name.
        attribute: String,
        /// The value it must have.
        value: String,
    },
    /// Online (true) or archived (false).
    Online(bool),
}

/// How a name is matched.
#[derive(Debug, Clone, PartialEq)]
pub enum NameMatch {
    /// The same product: `X`, `X.zip` and `X.SAFE` name one product.
    Exact(String),
    /// A pattern with `*` and `?` (ONDA `name:S1A*`).
    Glob(String),
    /// CDSE `contains(Name,'…')`.
    Contains(String),
    /// CDSE `startswith(Name,'…')`.
    StartsWith(String),
    /// CDSE `endswith(Name,'…')`.
    EndsWith(String),
}

/// Which time of a product.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeField {
    /// Sensing start: ONDA `beginPosition`, CDSE `ContentDate/Start`.
    SensingStart,
    /// Sensing end: ONDA `endPosition`, CDSE `ContentDate/End`.
    SensingEnd,
    /// Publication: ONDA `creationDate`, CDSE `PublicationDate`. An archive
    /// index has no publication time; the local catalogue publishes a
    /// product when its sensing ends.
    Publication,
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    /// `eq`
    Eq,
    /// `ne`
    Ne,
    /// `lt`
    Lt,
    /// `le`
    Le,
    /// `gt`
    Gt,
    /// `ge`
    Ge,
}

impl Comparison {
    /// Whether `left <op> right` holds.
    pub fn holds<T: PartialOrd>(self, left: T, right: T) -> bool {
        match self {
            Comparison::Eq => left == right,
            Comparison::Ne => left != right,
            Comparison::Lt => left < right,
            Comparison::Le => left <= right,
            Comparison::Gt => left > right,
            Comparison::Ge => left >= right,
        }
    }

    /// The OData spelling (`eq`, `le`, …).
    pub fn keyword(self) -> &'static str {
        match self {
            Comparison::Eq => "eq",
            Comparison::Ne => "ne",
            Comparison::Lt => "lt",
            Comparison::Le => "le",
            Comparison::Gt => "gt",
            Comparison::Ge => "ge",
        }
    }
}

/// The region a footprint is tested against.
#[derive(Debug, Clone, PartialEq)]
pub enum Region {
    /// An area.
    Area(Aoi),
    /// A point `(lon, lat)` (CDSE `POINT(lon lat)`, DHuS `Intersects(lat, lon)`).
    Point(f64, f64),
}

/// One product as a filter sees it: the index record with its footprint
/// and times already parsed (the catalogue parses them once, at indexing).
#[derive(Debug, Clone)]
pub struct Candidate<'a> {
    /// The index record.
    pub record: &'a ProductRecord,
    /// The footprint, None when the record's WKT is not a valid area.
    pub footprint: Option<&'a Aoi>,
    /// Sensing start, None when unreadable.
    pub begin: Option<DateTime<Utc>>,
    /// Sensing end, None when unreadable.
    pub end: Option<DateTime<Utc>>,
    /// Online now (a restored product is online although its record says not).
    pub online: bool,
}

impl<'a> Candidate<'a> {
    /// A candidate from a record and its parsed footprint; times are parsed
    /// here and the online state is the record's.
    pub fn new(record: &'a ProductRecord, footprint: Option<&'a Aoi>) -> Candidate<'a> {
        Candidate {
            record,
            footprint,
            begin: parse_instant(&record.begin),
            end: parse_instant(&record.end),
            online: record.online,
        }
    }
}

impl Filter {
    /// The filter that selects what `query` selects (its order aside).
    pub fn from_query(query: &Query) -> Filter {
        let mut parts = Vec::new();
        if let Some(mission) = &query.mission {
            parts.push(Filter::Mission(mission.clone()));
        }
        if let Some(product_type) = &query.product_type {
            parts.push(Filter::ProductType(product_type.clone()));
        }
        if let Some(class) = &query.main_class {
            parts.push(Filter::MainClass(class.clone()));
        }
        if let Some(aoi) = &query.aoi {
            parts.push(Filter::Intersects(Region::Area(aoi.clone())));
        }
        if let Some(from) = query.sensed_from {
            parts.push(Filter::time(TimeField::SensingStart, Comparison::Ge, from));
        }
        if let Some(to) = query.sensed_to {
            parts.push(Filter::time(TimeField::SensingEnd, Comparison::Le, to));
        }
        if let Some(max) = query.max_cloud {
            parts.push(Filter::Number {
                attribute: "cloudCover".into(),
                op: Comparison::Le,
                value: max,
            });
        }
        if let Some(name) = &query.name {
            parts.push(Filter::Name(NameMatch::Exact(name.clone())));
        }
        Filter::all_of(parts)
    }

    /// A time comparison.
    pub fn time(field: TimeField, op: Comparison, instant: DateTime<Utc>) -> Filter {
        Filter::Time { field, op, instant }
    }

    /// The conjunction of `parts`: `All` for none, the part itself for one.
    pub fn all_of(mut parts: Vec<Filter>) -> Filter {
        parts.retain(|part| *part != Filter::All);
        match parts.len() {
            0 => Filter::All,
            1 => parts.pop().unwrap(),
            _ => Filter::And(parts),
        }
    }

    /// The alternatives `parts`: the part itself for one.
    pub fn any_of(mut parts: Vec<Filter>) -> Filter {
        match parts.len() {
            1 => parts.pop().unwrap(),
            _ => Filter::Or(parts),
        }
    }

    /// Whether the product satisfies the filter.
    pub fn matches(&self, product: &Candidate) -> bool {
        let record = product.record;
        match self {
            Filter::All => true,
            Filter::And(parts) => parts.iter().all(|part| part.matches(product)),
            Filter::Or(parts) => parts.iter().any(|part| part.matches(product)),
            Filter::Not(part) => !part.matches(product),
            Filter::Mission(mission) => mission_matches(record, mission),
            Filter::Collection(collection) => record.collection.eq_ignore_ascii_case(collection),
            Filter::MainClass(class) => record.main_class.as_deref() == Some(class.as_str()),
            Filter::ProductType(wanted) => type_matches(record, wanted),
            Filter::Name(name) => name.matches(record),
            Filter::Id(id) => record.id.eq_ignore_ascii_case(id),
            Filter::Time { field, op, instant } => {
                let time = match field {
                    TimeField::SensingStart => product.begin,
                    TimeField::SensingEnd | TimeField::Publication => product.end,
                };
                time.is_some_and(|time| op.holds(time, *instant))
            }
            Filter::Intersects(region) => product
                .footprint
                .is_some_and(|footprint| region.meets(footprint)),
            Filter::Number {
                attribute,
                op,
                value,
            } => number_attribute(record, attribute).is_some_and(|number| op.holds(number, *value)),
            Filter::Text { attribute, value } => {
                text_attribute(record, attribute).is_some_and(|text| text == *value)
            }
            Filter::Online(online) => product.online == *online,
        }
    }

    /// The parts of a top-level conjunction (the filter itself otherwise).
    pub fn conjuncts(&self) -> Vec<&Filter> {
        match self {
            Filter::All => Vec::new(),
            Filter::And(parts) => parts.iter().flat_map(|part| part.conjuncts()).collect(),
            other => vec![other],
        }
    }

    /// The bounding box `(lon_min, lat_min, lon_max, lat_max)` every match's
    /// footprint must overlap, when the filter requires an intersection: the
    /// catalogue's index prefilter. None: no spatial condition applies to all.
    pub fn required_bbox(&self) -> Option<(f64, f64, f64, f64)> {
        self.conjuncts().into_iter().find_map(|part| match part {
            Filter::Intersects(region) => Some(region.bbox()),
            Filter::Or(options) => {
                let boxes: Option<Vec<_>> = options
                    .iter()
                    .map(|option| option.required_bbox())
                    .collect();
                boxes?
                    .into_iter()
                    .reduce(|a, b| (a.0.min(b.0), a.1.min(b.1), a.2.max(b.2), a.3.max(b.3)))
            }
            _ => None,
        })
    }

    /// The [`Query`] this filter expresses, with `order`. Refuses (naming the
    /// part) what a `Query` cannot say exactly: alternatives other than of
    /// areas, negations, strict time bounds, two different missions, and so on.
    pub fn to_query(&self, order: SortOrder) -> Result<Query, FilterError> {
        QueryBuilder::default().build(self, order)
    }
}

impl NameMatch {
    fn matches(&self, record: &ProductRecord) -> bool {
        let names = [record.name.as_str(), record.cdse_name.as_str()];
        match self {
            NameMatch::Exact(name) => {
                let wanted = name_stem(name);
                names.iter().any(|candidate| name_stem(candidate) == wanted)
            }
            NameMatch::Glob(pattern) => names.iter().any(|name| glob_match(pattern, name)),
            NameMatch::Contains(part) => names.iter().any(|name| name.contains(part.as_str())),
            NameMatch::StartsWith(part) => names.iter().any(|name| name.starts_with(part.as_str())),
            NameMatch::EndsWith(part) => names.iter().any(|name| name.ends_with(part.as_str())),
        }
    }
}

impl Region {
    /// Whether the region and a footprint share a point.
    pub fn meets(&self, footprint: &Aoi) -> bool {
        match self {
            Region::Area(area) => area.intersects_aoi(footprint),
            Region::Point(lon, lat) => footprint.contains_point(*lon, *lat),
        }
    }

    /// `(lon_min, lat_min, lon_max, lat_max)`.
    pub fn bbox(&self) -> (f64, f64, f64, f64) {
        match self {
            Region::Area(area) => area.bbox().to_tuple(),
            Region::Point(lon, lat) => (*lon, *lat, *lon, *lat),
        }
    }

    /// The region from a WKT geometry (`POLYGON`, `MULTIPOLYGON`, `POINT`),
    /// bare, EWKT or CDSE's `geography'SRID=4326;…'`.
    pub fn from_wkt(text: &str) -> Result<Region, AoiError> {
        let bare = strip_geography(text);
        let upper = bare.trim_start().to_ascii_uppercase();
        if upper.starts_with("POINT") {
            let inside = bare
                .trim()
                .get(5..)
                .unwrap_or("")
                .trim()
                .trim_start_matches('(')
                .trim_end_matches(')');
            let numbers: Vec<f64> = inside
                .split_whitespace()
                .filter_map(|n| n.parse().ok())
                .collect();
            if let [lon, lat] = numbers[..]
                && (-180.0..=180.0).contains(&lon)
                && (-90.0..=90.0).contains(&lat)
            {
                return Ok(Region::Point(lon, lat));
            }
            return Err(AoiError::BadWkt {
                detail: format!(
                    "'{}' is not a point with lon in -180..180 and lat in -90..90",
                    text.trim()
                ),
            });
        }
        Aoi::from_wkt(text).map(Region::Area)
    }
}

fn mission_matches(record: &ProductRecord, mission: &str) -> bool {
    let wanted = mission.to_ascii_lowercase();
    let platform = record.mission.as_deref().unwrap_or("").to_ascii_lowercase();
    glob_match(&wanted, &platform) || record.collection.eq_ignore_ascii_case(mission)
}

/// The rule of [`Query::product_type`]: Sentinel-1 types without wildcards
/// match as a substring, every other type as a pattern.
fn type_matches(record: &ProductRecord, wanted: &str) -> bool {
    let is_s1 = record.mission.as_deref() == Some("Sentinel-1") || record.name.starts_with("S1");
    if is_s1 && !wanted.contains(['*', '?']) {
        return record.product_type.contains(wanted);
    }
    glob_match(wanted, &record.product_type)
}

fn number_attribute(record: &ProductRecord, attribute: &str) -> Option<f64> {
    match record.attributes.get(attribute)? {
        serde_json::Value::Number(number) => number.as_f64(),
        serde_json::Value::String(text) => text.parse().ok(),
        _ => None,
    }
}

fn text_attribute(record: &ProductRecord, attribute: &str) -> Option<String> {
    match attribute {
        "productType" => return Some(record.product_type.clone()),
        "platformShortName" => return Some(record.collection.clone()),
        _ => {}
    }
    match record.attributes.get(attribute)? {
        serde_json::Value::String(text) => Some(text.clone()),
        serde_json::Value::Number(number) => Some(number.to_string()),
        serde_json::Value::Bool(flag) => Some(flag.to_string()),
        _ => None,
    }
}

/// Why a filter is not a [`Query`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{what} cannot be expressed as a catalogue query: {why}")]
pub struct FilterError {
    /// The part of the filter.
    pub what: String,
    /// Why not, and what would be.
    pub why: String,
}

impl FilterError {
    fn new(what: impl Into<String>, why: impl Into<String>) -> FilterError {
        FilterError {
            what: what.into(),
            why: why.into(),
        }
    }
}

/// Collects a filter's conjuncts into a [`Query`].
#[derive(Default)]
struct QueryBuilder {
    query: Query,
    /// `sensing start ≤ t`: implied when a sensing-end bound ≤ t exists
    /// (a product ends after it starts) or when t is not in the past.
    begin_upper: Option<DateTime<Utc>>,
    /// `sensing end ≥ t`: implied by a sensing-start bound ≥ t.
    end_lower: Option<DateTime<Utc>>,
    /// `contains(Name,'X')` waiting to become a Sentinel-1 product type.
    name_part: Option<String>,
}

impl QueryBuilder {
    fn build(mut self, filter: &Filter, order: SortOrder) -> Result<Query, FilterError> {
        for part in filter.conjuncts() {
            self.take(part)?;
        }
        self.settle_sentinel1_type()?;
        self.check_implied_bounds()?;
        self.query.order = order;
        Ok(self.query)
    }

    fn take(&mut self, part: &Filter) -> Result<(), FilterError> {
        match part {
            Filter::All => Ok(()),
            Filter::And(parts) => parts.iter().try_for_each(|p| self.take(p)),
            Filter::Mission(mission) => set_once(&mut self.query.mission, mission, "mission"),
            Filter::Collection(collection) => self.take_collection(collection),
            Filter::MainClass(class) => set_once(&mut self.query.main_class, class, "main class"),
            Filter::ProductType(kind) => {
                set_once(&mut self.query.product_type, kind, "product type")
            }
            Filter::Name(NameMatch::Exact(name)) => set_once(&mut self.query.name, name, "name"),
            Filter::Name(NameMatch::Contains(part)) if self.name_part.is_none() => {
                self.name_part = Some(part.clone());
                Ok(())
            }
            Filter::Time { field, op, instant } => self.take_time(*field, *op, *instant),
            Filter::Intersects(_) | Filter::Or(_) => self.take_area(part),
            Filter::Number {
                attribute,
                op: Comparison::Le,
                value,
            } if attribute == "cloudCover" => {
                if self.query.max_cloud.is_some_and(|max| max != *value) {
                    return Err(FilterError::new(
                        "a second cloud cover bound",
                        "give one maximum cloud cover",
                    ));
                }
                self.query.max_cloud = Some(*value);
                Ok(())
            }
            // Cloud cover is never negative: `cloudCoverPercentage:[0 TO x]`.
            Filter::Number {
                attribute,
                op: Comparison::Ge,
                value,
            } if attribute == "cloudCover" && *value <= 0.0 => Ok(()),
            other => Err(FilterError::new(
                describe(other),
                "a query has a mission, product type, main class, area, sensing start (≥), \
                 sensing end (≤), maximum cloud cover and exact name",
            )),
        }
    }

    fn take_collection(&mut self, collection: &str) -> Result<(), FilterError> {
        if let Some(class) = collection_to_main_class(collection) {
            return set_once(&mut self.query.main_class, class, "main class");
        }
        let mission = collection_to_mission(collection);
        set_once(&mut self.query.mission, &mission, "mission")
    }

    fn take_time(
        &mut self,
        field: TimeField,
        op: Comparison,
        instant: DateTime<Utc>,
    ) -> Result<(), FilterError> {
        let slot = match (field, op) {
            (TimeField::SensingStart, Comparison::Ge) => &mut self.query.sensed_from,
            (TimeField::SensingEnd, Comparison::Le) => &mut self.query.sensed_to,
            (TimeField::SensingStart, Comparison::Le) => &mut self.begin_upper,
            (TimeField::SensingEnd, Comparison::Ge) => &mut self.end_lower,
            _ => {
                return Err(FilterError::new(
                    describe(&Filter::time(field, op, instant)),
                    "use sensing start ≥ (ONDA beginPosition:[t TO *], CDSE ContentDate/Start ge t) \
                     and sensing end ≤ (endPosition:[* TO t], ContentDate/End le t)",
                ));
            }
        };
        if slot.is_some_and(|known| known != instant) {
            return Err(FilterError::new(
                describe(&Filter::time(field, op, instant)),
                "the same bound is given twice with different instants",
            ));
        }
        *slot = Some(instant);
        Ok(())
    }

    /// An area, or alternatives that are all areas (their union).
    fn take_area(&mut self, part: &Filter) -> Result<(), FilterError> {
        let mut polygons: Vec<Polygon<f64>> = Vec::new();
        collect_areas(part, &mut polygons)?;
        if self.query.aoi.is_some() {
            return Err(FilterError::new(
                "a second area",
                "give one area (alternative areas are joined with OR)",
            ));
        }
        let geometry = Geometry::MultiPolygon(MultiPolygon(polygons));
        let aoi = Aoi::from_geometry(&geometry)
            .map_err(|e| FilterError::new("the area", e.to_string()))?;
        self.query.aoi = Some(aoi);
        Ok(())
    }

    /// CDSE has no wildcard on attributes, so a Sentinel-1 type is rendered
    /// as `contains(Name,'GRD')`; read back, it is the product type again.
    fn settle_sentinel1_type(&mut self) -> Result<(), FilterError> {
        let is_s1 = self
            .query
            .mission
            .as_deref()
            .is_some_and(|m| m.eq_ignore_ascii_case("Sentinel-1"));
        if let Some(part) = self.name_part.take() {
            if !is_s1 || self.query.product_type.is_some() {
                return Err(FilterError::new(
                    format!("contains(Name,'{part}')"),
                    "a query names products exactly; a name part is only read as a \
                     Sentinel-1 product type (with Collection/Name eq 'SENTINEL-1')",
                ));
            }
            self.query.product_type = Some(part);
        }
        // ONDA's `productType:*GRD*` is what a Sentinel-1 "GRD" type renders as.
        if is_s1
            && let Some(kind) = &self.query.product_type
            && let Some(inner) = kind.strip_prefix('*').and_then(|k| k.strip_suffix('*'))
            && !inner.is_empty()
            && !inner.contains(['*', '?'])
        {
            self.query.product_type = Some(inner.to_string());
        }
        Ok(())
    }

    fn check_implied_bounds(&self) -> Result<(), FilterError> {
        if let Some(upper) = self.begin_upper {
            let implied = self.query.sensed_to.is_some_and(|to| to <= upper) || upper >= Utc::now();
            if !implied {
                return Err(FilterError::new(
                    format!("sensing start ≤ {}", format_instant(upper)),
                    "bound the sensing end instead (endPosition:[* TO t], ContentDate/End le t), \
                     or give the same upper bound to both",
                ));
            }
        }
        if let Some(lower) = self.end_lower {
            let implied = self.query.sensed_from.is_some_and(|from| from >= lower);
            if !implied {
                return Err(FilterError::new(
                    format!("sensing end ≥ {}", format_instant(lower)),
                    "bound the sensing start instead (beginPosition:[t TO *], ContentDate/Start ge t), \
                     or give the same lower bound to both",
                ));
            }
        }
        Ok(())
    }
}

fn set_once(slot: &mut Option<String>, value: &str, what: &str) -> Result<(), FilterError> {
    match slot {
        Some(known) if known != value => Err(FilterError::new(
            format!("a second {what} ('{value}' after '{known}')"),
            format!("give one {what}"),
        )),
        _ => {
            *slot = Some(value.to_string());
            Ok(())
        }
    }
}

fn collect_areas(part: &Filter, polygons: &mut Vec<Polygon<f64>>) -> Result<(), FilterError> {
    match part {
        Filter::Intersects(Region::Area(aoi)) => {
            polygons.extend(aoi.multi_polygon().0.iter().cloned());
            Ok(())
        }
        Filter::Intersects(Region::Point(lon, lat)) => Err(FilterError::new(
            format!("the point ({lon} {lat})"),
            "a query's area must be a polygon",
        )),
        Filter::Or(options) => options
            .iter()
            .try_for_each(|option| collect_areas(option, polygons)),
        other => Err(FilterError::new(
            format!("an OR with {}", describe(other)),
            "only alternative areas can be joined with OR in a query",
        )),
    }
}

/// A short description of a filter part, for errors.
pub fn describe(filter: &Filter) -> String {
    match filter {
        Filter::All => "everything".into(),
        Filter::And(_) => "a conjunction".into(),
        Filter::Or(_) => "an OR of alternatives".into(),
        Filter::Not(_) => "a negation (not)".into(),
        Filter::Mission(m) => format!("mission '{m}'"),
        Filter::Collection(c) => format!("collection '{c}'"),
        Filter::MainClass(c) => format!("main class '{c}'"),
        Filter::ProductType(t) => format!("product type '{t}'"),
        Filter::Name(NameMatch::Exact(n)) => format!("name '{n}'"),
        Filter::Name(NameMatch::Glob(n)) => format!("name pattern '{n}'"),
        Filter::Name(NameMatch::Contains(n)) => format!("name containing '{n}'"),
        Filter::Name(NameMatch::StartsWith(n)) => format!("name starting with '{n}'"),
        Filter::Name(NameMatch::EndsWith(n)) => format!("name ending with '{n}'"),
        Filter::Id(id) => format!("id '{id}'"),
        Filter::Time { field, op, instant } => {
            let field = match field {
                TimeField::SensingStart => "sensing start",
                TimeField::SensingEnd => "sensing end",
                TimeField::Publication => "publication date",
            };
            format!("{field} {} {}", op.keyword(), format_instant(*instant))
        }
        Filter::Intersects(_) => "an area".into(),
        Filter::Number {
            attribute,
            op,
            value,
        } => format!("attribute {attribute} {} {value}", op.keyword()),
        Filter::Text { attribute, value } => format!("attribute {attribute} eq '{value}'"),
        Filter::Online(online) => format!("online {online}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cleope_eo::geometry::BBox;
    use serde_json::json;

    fn record(name: &str, mission: &str, product_type: &str) -> ProductRecord {
        let collection = match mission {
            "Sentinel-5 Precursor" => "SENTINEL-5P".to_string(),
            other => other.to_ascii_uppercase(),
        };
        let mut attributes = serde_json::Map::new();
        attributes.insert("cloudCover".into(), json!(12.5));
        attributes.insert("orbitDirection".into(), json!("DESCENDING"));
        ProductRecord {
            id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, name.as_bytes()).to_string(),
            name: format!("{name}.zip"),
            cdse_name: format!("{name}.SAFE"),
            mission: Some(mission.into()),
            collection,
            product_type: product_type.into(),
            main_class: None,
            begin: "2020-08-11T10:00:00.000Z".into(),
            end: "2020-08-11T10:00:25.000Z".into(),
            footprint: "POLYGON ((10 40, 11 40, 11 41, 10 41, 10 40))".into(),
            pseudopath: "OPTICAL/LEVEL-2A/2020/08/11".into(),
            s3_path: format!("/eodata/Sentinel-2/MSI/L2A/2020/08/11/{name}.SAFE"),
            online: true,
            packing: cleope_eo::download::Packing::Zip,
            size: 10,
            md5: String::new(),
            blake3: String::new(),
            attributes,
        }
    }

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    fn check(filter: &Filter, record: &ProductRecord) -> bool {
        let footprint = Aoi::from_wkt(&record.footprint).ok();
        filter.matches(&Candidate::new(record, footprint.as_ref()))
    }

    #[test]
    fn queries_select_what_ens_selects() {
        let s2 = record("S2A_MSIL2A_X", "Sentinel-2", "S2MSI2A");
        let s1 = record("S1A_IW_GRDH_1SDV_X", "Sentinel-1", "IW_GRDH_1S");
        let inside = Aoi::from_bbox(BBox::new(10.5, 40.5, 12.0, 42.0).unwrap());
        let outside = Aoi::from_bbox(BBox::new(20.0, 40.5, 21.0, 42.0).unwrap());
        let queries = [
            Query::default(),
            Query {
                mission: Some("Sentinel-2".into()),
                ..Query::default()
            },
            Query {
                mission: Some("SENTINEL-1".into()),
                product_type: Some("GRD".into()),
                ..Query::default()
            },
            Query {
                product_type: Some("S2MSI*".into()),
                aoi: Some(inside.clone()),
                ..Query::default()
            },
            Query {
                aoi: Some(outside),
                ..Query::default()
            },
            Query {
                sensed_from: Some(instant("2020-08-11T00:00:00Z")),
                sensed_to: Some(instant("2020-08-11T10:00:20Z")),
                ..Query::default()
            },
            Query {
                sensed_from: Some(instant("2020-08-11T00:00:00Z")),
                sensed_to: Some(instant("2020-08-12T00:00:00Z")),
                max_cloud: Some(12.5),
                ..Query::default()
            },
            Query {
                max_cloud: Some(10.0),
                ..Query::default()
            },
            Query {
                name: Some("S1A_IW_GRDH_1SDV_X".into()),
                ..Query::default()
            },
            Query {
                name: Some("S2A_MSIL2A_X.SAFE".into()),
                aoi: Some(inside),
                ..Query::default()
            },
        ];
        for query in &queries {
            let filter = Filter::from_query(query);
            for product in [&s1, &s2] {
                assert_eq!(
                    check(&filter, product),
                    cleope_eo::ens::matches(product, query),
                    "{query:?} on {}",
                    product.name
                );
            }
        }
    }

    #[test]
    fn boolean_parts_and_attributes() {
        let s2 = record("S2A_MSIL2A_X", "Sentinel-2", "S2MSI2A");
        let yes = Filter::Collection("sentinel-2".into());
        let no = Filter::Online(false);
        assert!(check(&Filter::Or(vec![no.clone(), yes.clone()]), &s2));
        assert!(!check(&Filter::And(vec![no.clone(), yes.clone()]), &s2));
        assert!(check(&Filter::Not(Box::new(no)), &s2));
        let direction = Filter::Text {
            attribute: "orbitDirection".into(),
            value: "DESCENDING".into(),
        };
        assert!(check(&direction, &s2));
        let missing = Filter::Number {
            attribute: "orbitNumber".into(),
            op: Comparison::Ge,
            value: 0.0,
        };
        assert!(!check(&missing, &s2), "a missing attribute never matches");
        assert!(check(&Filter::Intersects(Region::Point(10.5, 40.5)), &s2));
        assert!(!check(&Filter::Intersects(Region::Point(12.0, 40.5)), &s2));
        assert!(check(
            &Filter::Name(NameMatch::Glob("S2A_*.zip".into())),
            &s2
        ));
        let strict = Filter::time(
            TimeField::SensingStart,
            Comparison::Gt,
            instant("2020-08-11T10:00:00.000Z"),
        );
        assert!(!check(&strict, &s2));
    }

    #[test]
    fn to_query_reads_the_query_back_and_refuses_the_rest() {
        let aoi = Aoi::from_bbox(BBox::new(1.0, 2.0, 3.0, 4.0).unwrap());
        let query = Query {
            mission: Some("Sentinel-2".into()),
            product_type: Some("S2MSI2A".into()),
            aoi: Some(aoi),
            sensed_from: Some(instant("2020-01-01T00:00:00Z")),
            sensed_to: Some(instant("2020-02-01T00:00:00Z")),
            max_cloud: Some(30.0),
            name: Some("S2A_X.zip".into()),
            order: SortOrder::SensingDescending,
            ..Query::default()
        };
        let back = Filter::from_query(&query)
            .to_query(SortOrder::SensingDescending)
            .unwrap();
        assert_eq!(format!("{back:?}"), format!("{query:?}"));

        let refused = Filter::Not(Box::new(Filter::Online(true)))
            .to_query(SortOrder::default())
            .unwrap_err();
        assert!(refused.to_string().contains("negation"), "{refused}");
        let two = Filter::And(vec![
            Filter::Mission("Sentinel-1".into()),
            Filter::Mission("Sentinel-2".into()),
        ]);
        let refused = two.to_query(SortOrder::default()).unwrap_err();
        assert!(refused.to_string().contains("second mission"), "{refused}");
        // A lone upper bound on the sensing start cannot be a Query bound.
        let lone = Filter::time(
            TimeField::SensingStart,
            Comparison::Le,
            instant("2020-01-01T00:00:00Z"),
        );
        assert!(lone.to_query(SortOrder::default()).is_err());
    }
}
