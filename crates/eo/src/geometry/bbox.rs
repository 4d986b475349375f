//! The one bounding-box type. CLEOPE passed bounds in four tuple orders
//! depending on the module; cleope keeps one named, validated struct and a
//! constructor for each other order a ported script may still carry.

use super::AoiError;
use geo::{Coord, LineString, Polygon, Rect};
use std::fmt;

/// The largest longitude magnitude, in degrees.
pub(super) const LON_LIMIT: f64 = 180.0;
/// The largest latitude magnitude, in degrees.
pub(super) const LAT_LIMIT: f64 = 90.0;

/// A longitude/latitude box in degrees (WGS84), with `lon_min < lon_max` and
/// `lat_min < lat_max`. The fields are private so that every `BBox` is valid.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BBox {
    lon_min: f64,
    lat_min: f64,
    lon_max: f64,
    lat_max: f64,
}

impl BBox {
    /// A box from its western, southern, eastern and northern edges; this is
    /// the order of GeoJSON bboxes, `gdalwarp -te` and CLEOPE's S1/CGLS code.
    pub fn new(lon_min: f64, lat_min: f64, lon_max: f64, lat_max: f64) -> Result<BBox, AoiError> {
        check_bound("lon_min", lon_min, LON_LIMIT)?;
        check_bound("lat_min", lat_min, LAT_LIMIT)?;
        check_bound("lon_max", lon_max, LON_LIMIT)?;
        check_bound("lat_max", lat_max, LAT_LIMIT)?;
        check_order("lon_min", lon_min, "lon_max", lon_max)?;
        check_order("lat_min", lat_min, "lat_max", lat_max)?;
        Ok(BBox {
            lon_min,
            lat_min,
            lon_max,
            lat_max,
        })
    }

    /// A box from `(lon_min, lon_max, lat_min, lat_max)`, the order of
    /// CLEOPE's S2 `clip`, S3 OLCI `make_ds` and S5P `read_dataset`.
    pub fn from_lon_range_and_lat_range(
        lon_min: f64,
        lon_max: f64,
        lat_min: f64,
        lat_max: f64,
    ) -> Result<BBox, AoiError> {
        BBox::new(lon_min, lat_min, lon_max, lat_max)
    }

    /// A box from `(lat_min, lat_max, lon_min, lon_max)`, the order of
    /// CLEOPE's S5P `read` and `read_coordinates`.
    pub fn from_lat_range_and_lon_range(
        lat_min: f64,
        lat_max: f64,
        lon_min: f64,
        lon_max: f64,
    ) -> Result<BBox, AoiError> {
        BBox::new(lon_min, lat_min, lon_max, lat_max)
    }

    /// The box spanning a rectangle the caller knows to be valid: the
    /// bounding rectangle of a validated AOI, whose vertices are in range and
    /// enclose an area, so both sides are longer than zero.
    pub(super) fn spanning(rect: Rect<f64>) -> BBox {
        BBox {
            lon_min: rect.min().x,
            lat_min: rect.min().y,
            lon_max: rect.max().x,
            lat_max: rect.max().y,
        }
    }

    /// The western edge, in degrees of longitude.
    pub fn lon_min(&self) -> f64 {
        self.lon_min
    }

    /// The southern edge, in degrees of latitude.
    pub fn lat_min(&self) -> f64 {
        self.lat_min
    }

    /// The eastern edge, in degrees of longitude.
    pub fn lon_max(&self) -> f64 {
        self.lon_max
    }

    /// The northern edge, in degrees of latitude.
    pub fn lat_max(&self) -> f64 {
        self.lat_max
    }

    /// `(lon_min, lat_min, lon_max, lat_max)`, the order raster windows use.
    pub fn to_tuple(self) -> (f64, f64, f64, f64) {
        (self.lon_min, self.lat_min, self.lon_max, self.lat_max)
    }

    /// The box as a closed polygon, anticlockwise from the south-west corner
    /// (the exterior winding RFC 7946 asks GeoJSON writers for).
    pub fn to_polygon(&self) -> Polygon<f64> {
        let corners = [
            (self.lon_min, self.lat_min),
            (self.lon_max, self.lat_min),
            (self.lon_max, self.lat_max),
            (self.lon_min, self.lat_max),
            (self.lon_min, self.lat_min),
        ];
        let ring: LineString<f64> = corners.into_iter().map(Coord::from).collect();
        Polygon::new(ring, vec![])
    }

    /// The area both boxes cover, or `None` when they share no area (boxes
    /// that only touch along an edge share none).
    pub fn intersection(&self, other: &BBox) -> Option<BBox> {
        let lon_min = self.lon_min.max(other.lon_min);
        let lat_min = self.lat_min.max(other.lat_min);
        let lon_max = self.lon_max.min(other.lon_max);
        let lat_max = self.lat_max.min(other.lat_max);
        (lon_min < lon_max && lat_min < lat_max).then_some(BBox {
            lon_min,
            lat_min,
            lon_max,
            lat_max,
        })
    }

    /// The smallest box covering both boxes.
    pub fn union(&self, other: &BBox) -> BBox {
        BBox {
            lon_min: self.lon_min.min(other.lon_min),
            lat_min: self.lat_min.min(other.lat_min),
            lon_max: self.lon_max.max(other.lon_max),
            lat_max: self.lat_max.max(other.lat_max),
        }
    }
}

impl fmt::Display for BBox {
    /// `lon 13.6 to 13.8, lat 45.6 to 45.7`: readable, and unambiguous about
    /// which number is which.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "lon {} to {}, lat {} to {}",
            self.lon_min, self.lon_max, self.lat_min, self.lat_max
        )
    }
}

fn check_bound(name: &'static str, value: f64, limit: f64) -> Result<(), AoiError> {
    if !value.is_finite() {
        return Err(AoiError::BoundNotFinite { name, value });
    }
    if value.abs() > limit {
        return Err(AoiError::BoundOutOfRange { name, value });
    }
    Ok(())
}

fn check_order(
    min_name: &'static str,
    min: f64,
    max_name: &'static str,
    max: f64,
) -> Result<(), AoiError> {
    if min < max {
        return Ok(());
    }
    Err(AoiError::EmptyRange {
        min_name,
        min,
        max_name,
        max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Area, Winding};

    fn trieste() -> BBox {
        BBox::new(13.639219, 45.615343, 13.780783, 45.682543).unwrap()
    }

    #[test]
    fn new_keeps_each_edge_where_it_was_given() {
        let bbox = trieste();
        assert_eq!(bbox.lon_min(), 13.639219);
        assert_eq!(bbox.lat_min(), 45.615343);
        assert_eq!(bbox.lon_max(), 13.780783);
        assert_eq!(bbox.lat_max(), 45.682543);
        assert_eq!(
            bbox.to_tuple(),
            (13.639219, 45.615343, 13.780783, 45.682543)
        );
    }

    #[test]
    fn the_other_cleope_orders_give_the_same_box() {
        let lon_lat =
            BBox::from_lon_range_and_lat_range(13.639219, 13.780783, 45.615343, 45.682543);
        let lat_lon =
            BBox::from_lat_range_and_lon_range(45.615343, 45.682543, 13.639219, 13.780783);
        assert_eq!(lon_lat.unwrap(), trieste());
        assert_eq!(lat_lon.unwrap(), trieste());
    }

    #[test]
    fn a_latitude_beyond_90_is_refused_with_the_expected_order() {
        // Latitude first by mistake: (45.6, 13.6, 95.0, 13.8) puts 95 in lat_max.
        let error = BBox::new(13.6, 45.6, 13.8, 95.0).unwrap_err();
        assert!(matches!(
            error,
            AoiError::BoundOutOfRange {
                name: "lat_max",
                ..
            }
        ));
        assert_eq!(
            error.to_string(),
            "lat_max is 95, outside -90..90; bounds go lon_min, lat_min, lon_max, lat_max, \
             in degrees"
        );
    }

    #[test]
    fn a_longitude_beyond_180_is_refused() {
        let error = BBox::new(170.0, 0.0, 190.0, 1.0).unwrap_err();
        assert!(
            error
                .to_string()
                .starts_with("lon_max is 190, outside -180..180")
        );
    }

    #[test]
    fn a_nan_bound_is_refused() {
        let error = BBox::new(f64::NAN, 0.0, 1.0, 1.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "lon_min is NaN: a bound must be a finite number of degrees"
        );
    }

    #[test]
    fn reversed_longitudes_mention_the_antimeridian() {
        let error = BBox::new(179.0, 0.0, -179.0, 1.0).unwrap_err();
        let message = error.to_string();
        assert!(message.starts_with("lon_min (179) must be less than lon_max (-179)"));
        assert!(message.contains("180° meridian must be split into two boxes"));
    }

    #[test]
    fn a_flat_box_is_refused() {
        let error = BBox::new(0.0, 5.0, 1.0, 5.0).unwrap_err();
        assert_eq!(
            error.to_string(),
            "lat_min (5) must be less than lat_max (5); a box needs some height: \
             make lat_max larger than lat_min"
        );
    }

    #[test]
    fn to_polygon_is_a_closed_anticlockwise_ring_from_the_south_west() {
        let polygon = BBox::new(0.0, 0.0, 2.0, 1.0).unwrap().to_polygon();
        let ring: Vec<(f64, f64)> = polygon.exterior().coords().map(|c| c.x_y()).collect();
        assert_eq!(
            ring,
            [(0.0, 0.0), (2.0, 0.0), (2.0, 1.0), (0.0, 1.0), (0.0, 0.0)]
        );
        assert!(polygon.exterior().is_ccw());
        assert_eq!(polygon.unsigned_area(), 2.0);
    }

    #[test]
    fn overlapping_boxes_intersect_in_their_common_part() {
        let a = BBox::new(0.0, 0.0, 2.0, 2.0).unwrap();
        let b = BBox::new(1.0, -1.0, 3.0, 1.5).unwrap();
        assert_eq!(
            a.intersection(&b),
            Some(BBox::new(1.0, 0.0, 2.0, 1.5).unwrap())
        );
        assert_eq!(a.union(&b), BBox::new(0.0, -1.0, 3.0, 2.0).unwrap());
    }

    #[test]
    fn boxes_that_only_touch_or_are_apart_have_no_intersection() {
        let a = BBox::new(0.0, 0.0, 1.0, 1.0).unwrap();
        let touching = BBox::new(1.0, 0.0, 2.0, 1.0).unwrap();
        let apart = BBox::new(5.0, 5.0, 6.0, 6.0).unwrap();
        assert_eq!(a.intersection(&touching), None);
        assert_eq!(a.intersection(&apart), None);
        assert_eq!(a.union(&apart), BBox::new(0.0, 0.0, 6.0, 6.0).unwrap());
    }

    #[test]
    fn display_names_each_axis() {
        assert_eq!(
            trieste().to_string(),
            "lon 13.639219 to 13.780783, lat 45.615343 to 45.682543"
        );
    }
}
