//! Why an AOI or a bounding box was refused, worded so that a student can fix
//! it: each message names the offending vertex or value and says what to do.
//! Indexes count from 0, like Rhai arrays; vertices also get an ordinal
//! ("the 4th vertex (index 3)") so nobody has to guess.

use std::fmt;
use std::path::PathBuf;

/// Which ring of an AOI a problem is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RingAt {
    /// The polygon's index in the input, or `None` when the input had only one.
    pub polygon: Option<usize>,
    /// The hole's index, or `None` for the outline (the exterior ring).
    pub hole: Option<usize>,
}

impl fmt::Display for RingAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.hole {
            None => write!(f, "the outline")?,
            Some(hole) => write!(f, "hole {hole}")?,
        }
        match self.polygon {
            None => Ok(()),
            Some(polygon) => write!(f, " of polygon {polygon}"),
        }
    }
}

/// One vertex of an AOI: its ring and its index in that ring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VertexAt {
    /// The ring the vertex belongs to.
    pub ring: RingAt,
    /// The vertex's index in the ring, from 0.
    pub index: usize,
}

impl fmt::Display for VertexAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ordinal = ordinal(self.index + 1);
        write!(
            f,
            "the {ordinal} vertex (index {}) of {}",
            self.index, self.ring
        )
    }
}

/// Where a ring crosses itself: two edges, each named by the vertices it
/// joins (the last edge joins the last vertex back to vertex 0).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Crossing {
    /// The first edge, as (from vertex, to vertex).
    pub first_edge: (usize, usize),
    /// The second edge, as (from vertex, to vertex).
    pub second_edge: (usize, usize),
    /// A point where they meet, as (lon, lat).
    pub near: (f64, f64),
}

impl fmt::Display for Crossing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (first_from, first_to) = self.first_edge;
        let (second_from, second_to) = self.second_edge;
        let (lon, lat) = self.near;
        write!(
            f,
            "the edge from vertex {first_from} to vertex {first_to} meets \
             the edge from vertex {second_from} to vertex {second_to} near ({lon}, {lat})"
        )
    }
}

/// Why an AOI or a bounding box could not be built, read or written.
#[derive(Debug, thiserror::Error)]
pub enum AoiError {
    /// A vertex has a missing, infinite or NaN coordinate.
    #[error(
        "{at} is ({lon}, {lat}): every vertex needs two finite numbers, longitude then latitude"
    )]
    NotFinite { at: VertexAt, lon: f64, lat: f64 },

    /// A vertex's longitude is beyond ±180°.
    #[error(
        "{at} is ({lon}, {lat}): longitude {lon} is outside -180..180; \
         write each vertex as (lon, lat) in degrees"
    )]
    LongitudeOutOfRange { at: VertexAt, lon: f64, lat: f64 },

    /// A vertex's latitude is beyond ±90°, and swapping would not fix it.
    #[error(
        "{at} is ({lon}, {lat}): latitude {lat} is outside -90..90; \
         write each vertex as (lon, lat) in degrees"
    )]
    LatitudeOutOfRange { at: VertexAt, lon: f64, lat: f64 },

    /// A vertex's latitude is beyond ±90° but the pair would be valid swapped:
    /// the student most likely wrote (lat, lon).
    #[error(
        "{at} is ({lon}, {lat}): latitude {lat} is outside -90..90, and the pair looks swapped; \
         cleope takes longitude first, so write ({lat}, {lon})"
    )]
    LooksSwapped { at: VertexAt, lon: f64, lat: f64 },

    /// A ring has fewer than three distinct vertices.
    #[error(
        "{ring} has {distinct} distinct vertices, but a polygon needs at least 3 \
         (a triangle), given as (lon, lat) pairs"
    )]
    TooFewVertices { ring: RingAt, distinct: usize },

    /// All the vertices of a ring lie on one line.
    #[error(
        "all the vertices of {ring} lie on one line, so it encloses no area; \
         move at least one vertex off that line"
    )]
    NoArea { ring: RingAt },

    /// A ring crosses or touches itself (a bow tie, a loop or a spike).
    #[error(
        "{ring} crosses itself{}; list the vertices in order around the shape \
         (all clockwise or all anticlockwise) so that no two edges cross",
        crossing_detail(.crossing.as_ref())
    )]
    SelfIntersection {
        ring: RingAt,
        crossing: Option<Crossing>,
    },

    /// The rings of a polygon do not fit together (a hole outside its
    /// outline, rings that cross); `reason` is geo's own explanation.
    #[error(
        "{} is not a valid shape: {reason}; holes must lie inside their outline, \
         and rings may touch only at single points",
        polygon_label(*.polygon)
    )]
    InvalidShape {
        polygon: Option<usize>,
        reason: String,
    },

    /// An outline has more points than ONDA's catalogue accepted.
    #[error(
        "{ring} has {points} points (the closing point included), but the ONDA catalogue \
         accepts at most {limit}; draw a simpler outline, or search with the AOI's bounding box"
    )]
    TooManyVerticesForOnda {
        ring: RingAt,
        points: usize,
        limit: usize,
    },

    /// The geometry is a point or a line, which has no area.
    #[error(
        "a {kind} has no area, so it cannot be an area of interest; \
         give a Polygon, a MultiPolygon or a LineString that outlines the area"
    )]
    NotAnArea { kind: String },

    /// The input holds no geometry at all.
    #[error(
        "the {input} holds no polygon; give at least one Polygon, MultiPolygon \
         or LineString outline"
    )]
    Empty { input: &'static str },

    /// The text is not GeoJSON (or not JSON at all).
    #[error(
        "this is not GeoJSON cleope can read ({detail}); a polygon.json looks like \
         {{\"type\": \"Polygon\", \"coordinates\": \
         [[[lon, lat], [lon, lat], [lon, lat], [lon, lat]]]}}"
    )]
    BadGeoJson { detail: String },

    /// The text is not WKT.
    #[error(
        "this is not WKT cleope can read ({detail}); write \
         POLYGON((lon lat, lon lat, lon lat, lon lat)), repeating the first vertex at the end"
    )]
    BadWkt { detail: String },

    /// An EWKT/CDSE geometry declares a coordinate system other than lon/lat.
    #[error(
        "the geometry is in SRID={srid}, but cleope reads only SRID=4326 \
         (longitude and latitude in degrees, WGS84)"
    )]
    UnsupportedSrid { srid: String },

    /// A bounding-box bound is NaN or infinite.
    #[error("{name} is {value}: a bound must be a finite number of degrees")]
    BoundNotFinite { name: &'static str, value: f64 },

    /// A bounding-box bound is beyond ±180° (lon) or ±90° (lat).
    #[error(
        "{name} is {value}, outside {}; bounds go lon_min, lat_min, lon_max, lat_max, \
         in degrees",
        allowed_range(.name)
    )]
    BoundOutOfRange { name: &'static str, value: f64 },

    /// A bounding box whose minimum is not below its maximum.
    #[error(
        "{min_name} ({min}) must be less than {max_name} ({max}); {}",
        empty_range_hint(.min_name, *.min, *.max)
    )]
    EmptyRange {
        min_name: &'static str,
        min: f64,
        max_name: &'static str,
        max: f64,
    },

    /// The geometry nests collections deeper than cleope reads.
    #[error(
        "the geometry nests more than {limit} levels deep; cleope reads POLYGON, MULTIPOLYGON \
         and collections of them, a few levels deep at most"
    )]
    TooDeep { limit: usize },

    /// The geometry is too big to check in reasonable time (too many
    /// vertices or parts, or too much text).
    #[error(
        "{what} is {size}, more than the {limit} cleope reads as an area; draw a simpler \
         outline (fewer points, fewer parts) or use its bounding box"
    )]
    TooComplex {
        what: &'static str,
        size: usize,
        limit: usize,
    },

    /// The operating system refused to read or write a file.
    #[error("cannot {action} \"{}\": {source}", .path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A file was read but its content is not a valid AOI.
    #[error("in \"{}\": {error}", .path.display())]
    InFile {
        path: PathBuf,
        #[source]
        error: Box<AoiError>,
    },
}

/// "1st", "2nd", "3rd", "4th", … "11th", "12th", "13th", "21st", …
pub(super) fn ordinal(n: usize) -> String {
    let suffix = match (n % 10, n % 100) {
        (_, 11..=13) => "th",
        (1, _) => "st",
        (2, _) => "nd",
        (3, _) => "rd",
        _ => "th",
    };
    format!("{n}{suffix}")
}

fn crossing_detail(crossing: Option<&Crossing>) -> String {
    crossing.map_or_else(String::new, |crossing| format!(": {crossing}"))
}

fn polygon_label(polygon: Option<usize>) -> String {
    polygon.map_or_else(|| "the polygon".to_owned(), |i| format!("polygon {i}"))
}

fn allowed_range(name: &str) -> &'static str {
    if name.starts_with("lon") {
        "-180..180"
    } else {
        "-90..90"
    }
}

fn empty_range_hint(min_name: &str, min: f64, max: f64) -> &'static str {
    match (min_name.starts_with("lon"), min == max) {
        (true, true) => "a box needs some width: make lon_max larger than lon_min",
        (false, true) => "a box needs some height: make lat_max larger than lat_min",
        (true, false) => {
            "give the western edge first; a box that crosses the 180° meridian \
             must be split into two boxes"
        }
        (false, false) => "give the southern edge first",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordinals_follow_english_rules() {
        let words: Vec<String> = [1, 2, 3, 4, 11, 12, 13, 21, 22, 23, 101, 111]
            .into_iter()
            .map(ordinal)
            .collect();
        assert_eq!(
            words,
            [
                "1st", "2nd", "3rd", "4th", "11th", "12th", "13th", "21st", "22nd", "23rd",
                "101st", "111th"
            ]
        );
    }

    #[test]
    fn a_vertex_names_its_polygon_and_hole_only_when_there_is_a_choice() {
        let lone = VertexAt {
            ring: RingAt {
                polygon: None,
                hole: None,
            },
            index: 3,
        };
        assert_eq!(lone.to_string(), "the 4th vertex (index 3) of the outline");
        let nested = VertexAt {
            ring: RingAt {
                polygon: Some(2),
                hole: Some(0),
            },
            index: 0,
        };
        assert_eq!(
            nested.to_string(),
            "the 1st vertex (index 0) of hole 0 of polygon 2"
        );
    }

    #[test]
    fn an_unlocated_self_intersection_still_reads_as_a_sentence() {
        let error = AoiError::SelfIntersection {
            ring: RingAt {
                polygon: None,
                hole: None,
            },
            crossing: None,
        };
        assert!(
            error
                .to_string()
                .starts_with("the outline crosses itself; list the vertices in order")
        );
    }
}
