//! Product readers per mission (see README.md here). So far: what a
//! product's name says (mission, type, sensing times, tile, orbit).

pub mod metadata;
pub mod names;
pub mod sentinel1;
pub mod sentinel2;
pub mod sentinel3;
pub mod sentinel5p;
pub mod services;

/// An area of interest that misses a product: both lon/lat boxes, written
/// for the learner (`AoiOutsideProduct` in scripts).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("the area ({area}) does not intersect the product's footprint ({footprint})")]
pub struct AreaOutside {
    pub area: String,
    pub footprint: String,
}

/// Refuses an `area` (lon/lat box) that does not intersect a product's
/// `footprint` (lon/lat box): clipped or warped, it would give a raster of
/// missing values or placeholders, never a measurement.
pub fn check_area_meets(
    area: (f64, f64, f64, f64),
    footprint: (f64, f64, f64, f64),
) -> Result<(), AreaOutside> {
    let apart = area.2 < footprint.0
        || area.0 > footprint.2
        || area.3 < footprint.1
        || area.1 > footprint.3;
    if !apart {
        return Ok(());
    }
    let describe = |(x0, y0, x1, y1): (f64, f64, f64, f64)| {
        format!("lon {x0:.4}…{x1:.4}, lat {y0:.4}…{y1:.4}")
    };
    Err(AreaOutside {
        area: describe(area),
        footprint: describe(footprint),
    })
}
