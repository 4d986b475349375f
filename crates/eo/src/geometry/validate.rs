//! The checks every AOI passes, in the order a student would fix them: each
//! vertex on its own (finite, in range, not swapped), then each ring (enough
//! distinct vertices, some area), then the shape (no self-crossing, holes
//! inside), and finally the parts together (overlapping parts are merged).

use super::bbox::{LAT_LIMIT, LON_LIMIT};
use super::{AoiError, Crossing, RingAt, VertexAt};
use geo::algorithm::line_intersection::{LineIntersection, line_intersection};
use geo::algorithm::validation::{InvalidPolygon, RingRole};
use geo::kernels::{Kernel, Orientation, RobustKernel};
use geo::orient::Direction;
use geo::{
    Coord, Intersects, LineString, MultiPolygon, Orient, Polygon, RemoveRepeatedPoints, Validation,
    unary_union,
};
use std::collections::HashSet;

/// Checks each polygon, merges overlapping parts, and orients the rings
/// (outlines anticlockwise, holes clockwise) as RFC 7946 and geo's geodesic
/// area expect. `input` names the source in the "no polygon" message.
pub(super) fn assemble(
    polygons: Vec<Polygon<f64>>,
    input: &'static str,
) -> Result<MultiPolygon<f64>, AoiError> {
    if polygons.is_empty() {
        return Err(AoiError::Empty { input });
    }
    // Name the polygon in messages only when there is more than one.
    let numbered = polygons.len() > 1;
    let checked = polygons
        .iter()
        .enumerate()
        .map(|(index, polygon)| checked_polygon(polygon, numbered.then_some(index)))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(merge_overlaps(MultiPolygon(checked)).orient(Direction::Default))
}

/// A valid copy of `polygon`, without consecutive repeated vertices (which
/// add nothing and would read as zero-length edges).
fn checked_polygon(polygon: &Polygon<f64>, index: Option<usize>) -> Result<Polygon<f64>, AoiError> {
    for (ring, at) in rings_of(polygon, index) {
        check_vertices(ring, at)?;
        check_distinct_vertices(ring, at)?;
    }
    let cleaned = polygon.remove_repeated_points();
    for (ring, at) in rings_of(&cleaned, index) {
        check_encloses_area(ring, at)?;
    }
    check_shape(&cleaned, index)?;
    Ok(cleaned)
}

/// Each ring of a polygon with its location: the outline first, then holes.
fn rings_of(
    polygon: &Polygon<f64>,
    polygon_index: Option<usize>,
) -> impl Iterator<Item = (&LineString<f64>, RingAt)> {
    let outline = RingAt {
        polygon: polygon_index,
        hole: None,
    };
    let holes = polygon
        .interiors()
        .iter()
        .enumerate()
        .map(move |(i, ring)| {
            let at = RingAt {
                polygon: polygon_index,
                hole: Some(i),
            };
            (ring, at)
        });
    std::iter::once((polygon.exterior(), outline)).chain(holes)
}

fn check_vertices(ring: &LineString<f64>, at: RingAt) -> Result<(), AoiError> {
    for (index, coord) in ring.0.iter().enumerate() {
        check_vertex(*coord, VertexAt { ring: at, index })?;
    }
    Ok(())
}

fn check_vertex(coord: Coord<f64>, at: VertexAt) -> Result<(), AoiError> {
    let (lon, lat) = coord.x_y();
    if !lon.is_finite() || !lat.is_finite() {
        return Err(AoiError::NotFinite { at, lon, lat });
    }
    if lon.abs() > LON_LIMIT {
        return Err(AoiError::LongitudeOutOfRange { at, lon, lat });
    }
    if lat.abs() > LAT_LIMIT {
        // Swapped, the pair would be valid: the likeliest slip is (lat, lon).
        let swapped_is_valid = lon.abs() <= LAT_LIMIT && lat.abs() <= LON_LIMIT;
        return Err(if swapped_is_valid {
            AoiError::LooksSwapped { at, lon, lat }
        } else {
            AoiError::LatitudeOutOfRange { at, lon, lat }
        });
    }
    Ok(())
}

fn check_distinct_vertices(ring: &LineString<f64>, at: RingAt) -> Result<(), AoiError> {
    // The vertices are finite here; adding 0.0 turns -0.0 into 0.0 so that the
    // bit patterns compare like the numbers.
    let distinct: HashSet<(u64, u64)> = ring
        .0
        .iter()
        .map(|c| ((c.x + 0.0).to_bits(), (c.y + 0.0).to_bits()))
        .collect();
    if distinct.len() >= 3 {
        return Ok(());
    }
    Err(AoiError::TooFewVertices {
        ring: at,
        distinct: distinct.len(),
    })
}

fn check_encloses_area(ring: &LineString<f64>, at: RingAt) -> Result<(), AoiError> {
    // Collinearity, not a zero shoelace area: a symmetric bow tie also sums
    // to zero, and deserves the self-crossing message instead.
    let Some((&first, rest)) = ring.0.split_first() else {
        return Err(AoiError::NoArea { ring: at });
    };
    let Some(&second) = rest.iter().find(|&&c| c != first) else {
        return Err(AoiError::NoArea { ring: at });
    };
    let off_the_line =
        |&c: &Coord<f64>| RobustKernel::orient2d(first, second, c) != Orientation::Collinear;
    if rest.iter().any(off_the_line) {
        return Ok(());
    }
    Err(AoiError::NoArea { ring: at })
}

/// geo's OGC validation; a self-crossing is then located, because "crosses
/// itself" alone does not tell a student which edges to fix.
fn check_shape(polygon: &Polygon<f64>, index: Option<usize>) -> Result<(), AoiError> {
    match polygon.check_validation() {
        Ok(()) => Ok(()),
        Err(InvalidPolygon::SelfIntersection(role)) => {
            let (ring, hole) = match role {
                RingRole::Exterior => (polygon.exterior(), None),
                RingRole::Interior(i) => (&polygon.interiors()[i], Some(i)),
            };
            Err(AoiError::SelfIntersection {
                ring: RingAt {
                    polygon: index,
                    hole,
                },
                crossing: find_crossing(ring),
            })
        }
        Err(other) => Err(AoiError::InvalidShape {
            polygon: index,
            reason: other.to_string(),
        }),
    }
}

/// The first two edges of a closed ring that meet where they should not:
/// the same rule as geo's check (edges meet, and not merely where one ends
/// and the next begins), so it finds what geo reported.
fn find_crossing(ring: &LineString<f64>) -> Option<Crossing> {
    let edges: Vec<_> = ring.lines().collect();
    let vertex_count = edges.len();
    // The last edge ends at the closing point, which is vertex 0.
    let edge_name = |i: usize| (i, (i + 1) % vertex_count);
    for (i, first) in edges.iter().enumerate() {
        for (j, second) in edges.iter().enumerate().skip(i + 1) {
            let joined = first.start == second.end || first.end == second.start;
            if joined || !first.intersects(second) {
                continue;
            }
            let near = match line_intersection(*first, *second)? {
                LineIntersection::SinglePoint { intersection, .. } => intersection,
                LineIntersection::Collinear { intersection } => intersection.start,
            };
            return Some(Crossing {
                first_edge: edge_name(i),
                second_edge: edge_name(j),
                near: near.x_y(),
            });
        }
    }
    None
}

/// Keeps the parts as given when they do not overlap (so every vertex stays
/// where the student put it); otherwise unions them, because a catalogue
/// query or a clip wants one area without double-counted overlaps.
fn merge_overlaps(parts: MultiPolygon<f64>) -> MultiPolygon<f64> {
    if parts.0.len() < 2 || parts.is_valid() {
        parts
    } else {
        unary_union(&parts.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Winding, polygon};

    fn only(polygon: Polygon<f64>) -> Result<MultiPolygon<f64>, AoiError> {
        assemble(vec![polygon], "test")
    }

    fn outline() -> RingAt {
        RingAt {
            polygon: None,
            hole: None,
        }
    }

    #[test]
    fn a_longitude_out_of_range_names_the_vertex_and_the_value() {
        let error =
            only(polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 200., y: 1.)])
                .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the 4th vertex (index 3) of the outline is (200, 1): longitude 200 is outside \
             -180..180; write each vertex as (lon, lat) in degrees"
        );
    }

    #[test]
    fn a_latitude_that_fits_as_longitude_gets_the_swap_hint() {
        // The second vertex was typed as (lat, lon).
        let error = only(polygon![(x: 13.6, y: 45.6), (x: 45.6, y: 113.7), (x: 13.7, y: 45.7)])
            .unwrap_err();
        assert!(matches!(error, AoiError::LooksSwapped { at, .. }
            if at == VertexAt { ring: outline(), index: 1 }));
        assert_eq!(
            error.to_string(),
            "the 2nd vertex (index 1) of the outline is (45.6, 113.7): latitude 113.7 is \
             outside -90..90, and the pair looks swapped; cleope takes longitude first, so \
             write (113.7, 45.6)"
        );
    }

    #[test]
    fn a_latitude_that_cannot_be_a_swap_gets_no_swap_hint() {
        // Swapped, 120 would be a latitude too: swapping cannot be the fix.
        let error = only(polygon![(x: 0., y: 0.), (x: 120., y: 95.), (x: 1., y: 1.)]).unwrap_err();
        assert!(matches!(error, AoiError::LatitudeOutOfRange { .. }));
        assert!(!error.to_string().contains("swapped"));
    }

    #[test]
    fn a_nan_vertex_is_named() {
        let error =
            only(polygon![(x: 0., y: 0.), (x: 1., y: f64::NAN), (x: 1., y: 1.)]).unwrap_err();
        assert_eq!(
            error.to_string(),
            "the 2nd vertex (index 1) of the outline is (1, NaN): every vertex needs two \
             finite numbers, longitude then latitude"
        );
    }

    #[test]
    fn two_distinct_vertices_are_too_few() {
        let error = only(polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 0., y: 0.), (x: 1., y: 1.)])
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "the outline has 2 distinct vertices, but a polygon needs at least 3 (a triangle), \
             given as (lon, lat) pairs"
        );
    }

    #[test]
    fn vertices_on_one_line_enclose_no_area() {
        let error = only(polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 2., y: 2.)]).unwrap_err();
        assert!(matches!(error, AoiError::NoArea { ring } if ring == outline()));
        // Doubling back along the line is still "no area", not "crosses itself".
        let back_and_forth =
            polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 2., y: 2.), (x: 3., y: 3.)];
        let error = only(back_and_forth).unwrap_err();
        assert!(matches!(error, AoiError::NoArea { .. }), "{error}");
    }

    #[test]
    fn a_bow_tie_names_the_crossing_edges_and_where_they_meet() {
        let error = only(polygon![(x: 0., y: 0.), (x: 1., y: 1.), (x: 1., y: 0.), (x: 0., y: 1.)])
            .unwrap_err();
        let AoiError::SelfIntersection { crossing, .. } = &error else {
            panic!("expected a self-intersection, got {error}");
        };
        let expected = Crossing {
            first_edge: (0, 1),
            second_edge: (2, 3),
            near: (0.5, 0.5),
        };
        assert_eq!(*crossing, Some(expected));
        assert!(error.to_string().starts_with(
            "the outline crosses itself: the edge from vertex 0 to vertex 1 meets the edge \
             from vertex 2 to vertex 3 near (0.5, 0.5)"
        ));
    }

    #[test]
    fn a_hole_outside_its_outline_is_an_invalid_shape() {
        let outline = LineString::from(vec![(0., 0.), (1., 0.), (1., 1.), (0., 1.)]);
        let far_hole = LineString::from(vec![(5., 5.), (6., 5.), (6., 6.)]);
        let error = only(Polygon::new(outline, vec![far_hole])).unwrap_err();
        let message = error.to_string();
        assert!(matches!(
            error,
            AoiError::InvalidShape { polygon: None, .. }
        ));
        assert!(message.starts_with("the polygon is not a valid shape: interior ring"));
        assert!(message.ends_with(
            "holes must lie inside their outline, and rings may touch only at single points"
        ));
    }

    #[test]
    fn the_second_polygon_is_named_when_there_are_several() {
        let good = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)];
        let bad = polygon![(x: 5., y: 5.), (x: 6., y: 5.), (x: 6., y: 99.)];
        let error = assemble(vec![good, bad], "test").unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("the 3rd vertex (index 2) of the outline of polygon 1 is (6, 99)")
        );
    }

    #[test]
    fn repeated_consecutive_vertices_are_dropped() {
        let shape =
            only(polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.)]).unwrap();
        assert_eq!(shape.0[0].exterior().0.len(), 4);
    }

    #[test]
    fn clockwise_outlines_are_turned_anticlockwise_keeping_the_first_vertex() {
        // CLEOPE's drawn rectangles went SW, NW, NE, SE: clockwise.
        let shape =
            only(polygon![(x: 0., y: 0.), (x: 0., y: 1.), (x: 1., y: 1.), (x: 1., y: 0.)]).unwrap();
        let ring = shape.0[0].exterior();
        assert!(ring.is_ccw());
        assert_eq!(ring.0[0], Coord { x: 0., y: 0. });
    }

    #[test]
    fn disjoint_parts_are_kept_as_given() {
        let a = polygon![(x: 0., y: 0.), (x: 1., y: 0.), (x: 1., y: 1.), (x: 0., y: 1.)];
        let b = polygon![(x: 5., y: 5.), (x: 6., y: 5.), (x: 6., y: 6.), (x: 5., y: 6.)];
        let shape = assemble(vec![a.clone(), b.clone()], "test").unwrap();
        assert_eq!(shape, MultiPolygon(vec![a, b]));
    }

    #[test]
    fn overlapping_parts_are_merged_into_their_union() {
        let a = polygon![(x: 0., y: 0.), (x: 2., y: 0.), (x: 2., y: 2.), (x: 0., y: 2.)];
        let b = polygon![(x: 1., y: 1.), (x: 3., y: 1.), (x: 3., y: 3.), (x: 1., y: 3.)];
        let shape = assemble(vec![a, b], "test").unwrap();
        assert_eq!(shape.0.len(), 1);
        assert!((shape.unsigned_area() - 7.0).abs() < 1e-9);
        assert!(shape.is_valid());
    }

    #[test]
    fn no_polygon_at_all_is_empty() {
        let error = assemble(vec![], "GeoJSON").unwrap_err();
        assert_eq!(
            error.to_string(),
            "the GeoJSON holds no polygon; give at least one Polygon, MultiPolygon or \
             LineString outline"
        );
    }
}
