//! Image operations for detection (the Sentinel-1 ship detection): filters,
//! binary morphology, connected components with their sizes and enclosing
//! circles, contours. They work on the raster in memory at full
//! resolution, so clip to your area first.

use crate::eo::raster::imageops::Plane;
use crate::eo::raster::{Compute, Raster, RasterError};
use crate::runtime::Host;
use rhai::plugin::*;

pub fn module() -> Module {
    exported_module!(image_api)
}

/// Runs `operation` on the raster's pixels in memory, on the session's
/// pool, under its memory budget and deadline.
fn on_pixels<T>(
    ctx: &NativeCallContext,
    raster: &Raster,
    operation: impl FnOnce(&Plane, &Compute) -> Result<T, RasterError>,
) -> Result<T, Box<EvalAltResult>> {
    crate::api::raster::compute(ctx, |compute| {
        compute
            .plane(raster)
            .and_then(|plane| operation(&plane, compute))
    })
}

/// Charges `items` script values of `bytes_each` (maps or arrays the
/// result is made of) before they are made.
fn charge_values(
    ctx: &NativeCallContext,
    items: usize,
    bytes_each: u64,
    what: &str,
) -> Result<(), Box<EvalAltResult>> {
    let bytes = crate::api::builtins::sizes::array(items)
        .saturating_add((items as u64).saturating_mul(bytes_each));
    crate::api::builtins::check_growth(ctx, bytes, || format!("{what} ({items} values)"))
}

/// A raster on `like`'s grid holding `plane`.
fn on_grid(
    ctx: &NativeCallContext,
    like: &Raster,
    plane: Plane,
) -> Result<Raster, Box<EvalAltResult>> {
    let host = Host::of(ctx)?;
    Raster::from_values(like.grid().clone(), plane.values, &host.memory)
        .map_err(crate::api::raster::raster_error)
}

fn positive(value: rhai::INT, what: &str, max: rhai::INT) -> Result<rhai::INT, Box<EvalAltResult>> {
    if (1..=max).contains(&value) {
        Ok(value)
    } else {
        Err(crate::api::raster::raster_error(RasterError::Invalid(
            format!("{what} must be between 1 and {max}, not {value}"),
        )))
    }
}

#[export_module]
mod image_api {
    use super::{charge_values, on_grid, on_pixels, positive};
    use crate::api::builtins::sizes;
    use crate::eo::raster::Raster;
    use rhai::{Array, FLOAT, INT, Map};

    /// The largest value in the `size` x `size` window around each pixel
    /// (bright targets grow; missing values are ignored).
    ///
    /// ```rhai
    /// let m = matrix(9, 9); m.set(4, 4, 10.0);
    /// let peaks = m.to_raster([0.0, 0.0, 9.0, 9.0]).max_filter(3);
    /// assert(round_to(peaks.stats().mean * 81.0, 6) == 90.0, "the peak covers 3 x 3 pixels");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn max_filter(
        ctx: NativeCallContext,
        r: &mut Raster,
        size: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let size = positive(size, "the window size", 101)? as usize;
        let filtered = on_pixels(&ctx, r, |plane, compute| plane.max_filter(size, compute))?;
        on_grid(&ctx, r, filtered)
    }

    /// Gaussian smoothing with standard deviation `sigma` pixels (speckle
    /// reduction); missing pixels stay missing and do not spread.
    ///
    /// ```rhai
    /// let r = matrix(20, 20, 3.0).to_raster([0.0, 0.0, 1.0, 1.0]);
    /// let smooth = r.gaussian_blur(2.0).stats();
    /// assert(smooth.min > 2.999 && smooth.max < 3.001, "a constant stays constant");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn gaussian_blur(
        ctx: NativeCallContext,
        r: &mut Raster,
        sigma: FLOAT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        if !(sigma > 0.0 && sigma <= 50.0) {
            return Err(crate::api::script_error(
                "BadValue",
                &format!("sigma {sigma} must be above 0 and at most 50 pixels"),
                "",
            ));
        }
        let blurred = on_pixels(&ctx, r, |plane, compute| {
            plane.gaussian_blur(sigma as f32, compute)
        })?;
        on_grid(&ctx, r, blurred)
    }

    /// Shrinks a mask (1 inside, 0 outside) by `radius` pixels: removes
    /// specks and thin lines.
    ///
    /// ```rhai
    /// let m = matrix(9, 9);
    /// for row in 3..6 { for col in 3..6 { m.set(row, col, 1.0); } }
    /// let core = m.to_raster([0.0, 0.0, 9.0, 9.0]).erode(1);
    /// assert(round_to(core.stats().mean * 81.0, 6) == 1.0, "only the centre is left");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn erode(
        ctx: NativeCallContext,
        mask: &mut Raster,
        radius: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let radius = positive(radius, "the radius", 255)? as u8;
        let eroded = on_pixels(&ctx, mask, |plane, compute| plane.erode(radius, compute))?;
        on_grid(&ctx, mask, eroded)
    }

    /// Grows a mask by `radius` pixels: fills small gaps, joins near parts.
    ///
    /// ```rhai
    /// let m = matrix(9, 9); m.set(4, 4, 1.0);
    /// let grown = m.to_raster([0.0, 0.0, 9.0, 9.0]).dilate(1);
    /// assert(round_to(grown.stats().mean * 81.0, 6) == 9.0, "3 x 3 now");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn dilate(
        ctx: NativeCallContext,
        mask: &mut Raster,
        radius: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let radius = positive(radius, "the radius", 255)? as u8;
        let dilated = on_pixels(&ctx, mask, |plane, compute| plane.dilate(radius, compute))?;
        on_grid(&ctx, mask, dilated)
    }

    /// The mask without 8-connected regions smaller than `min_pixels`.
    ///
    /// ```rhai
    /// let m = matrix(9, 9); m.set(1, 1, 1.0); m.set(6, 6, 1.0); m.set(6, 7, 1.0);
    /// let kept = m.to_raster([0.0, 0.0, 9.0, 9.0]).remove_small(2);
    /// assert(round_to(kept.stats().mean * 81.0, 6) == 2.0, "the lone pixel is removed");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn remove_small(
        ctx: NativeCallContext,
        mask: &mut Raster,
        min_pixels: INT,
    ) -> Result<Raster, Box<EvalAltResult>> {
        let min_pixels = usize::try_from(min_pixels).unwrap_or(0);
        let kept = on_pixels(&ctx, mask, |plane, compute| {
            plane.remove_small(min_pixels, compute)
        })?;
        on_grid(&ctx, mask, kept)
    }

    /// A raster numbering the 8-connected regions of a mask (1, 2, ...; 0 outside).
    ///
    /// ```rhai
    /// let m = matrix(5, 5); m.set(0, 0, 1.0); m.set(4, 4, 1.0);
    /// assert(m.to_raster([0.0, 0.0, 5.0, 5.0]).label().stats().max == 2.0, "two regions");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn label(ctx: NativeCallContext, mask: &mut Raster) -> Result<Raster, Box<EvalAltResult>> {
        let labelled = on_pixels(&ctx, mask, |plane, compute| {
            let (labels, _) = plane.labelled(compute)?;
            let values = labels.into_iter().map(|l| l as f32).collect();
            Ok(crate::eo::raster::imageops::Plane { values, ..*plane })
        })?;
        on_grid(&ctx, mask, labelled)
    }

    /// The 8-connected regions of a mask, each as a map: `label`, `pixels`,
    /// centre `x`, `y` (in the raster's CRS: lon/lat for geographic
    /// rasters), and the smallest enclosing circle `circle_x`, `circle_y`,
    /// `radius` (CRS units) — e.g. one entry per detected ship.
    ///
    /// ```rhai
    /// let m = matrix(10, 10); m.set(2, 2, 1.0); m.set(2, 3, 1.0); m.set(7, 7, 1.0);
    /// let regions = m.to_raster([0.0, 0.0, 10.0, 10.0]).components();
    /// assert(regions.len() == 2 && regions[0].pixels == 2, "a pair and a single pixel");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn components(
        ctx: NativeCallContext,
        mask: &mut Raster,
    ) -> Result<Array, Box<EvalAltResult>> {
        let (_, regions) = on_pixels(&ctx, mask, |plane, compute| plane.components(compute))?;
        charge_values(&ctx, regions.len(), sizes::map(7), "the regions' maps")?;
        let transform = mask.grid().transform;
        let pixel = mask.grid().resolution().0;
        Ok(regions
            .into_iter()
            .map(|region| {
                let (x, y) = transform.apply(region.centroid.0, region.centroid.1);
                let (cx, cy) = transform.apply(region.circle.0, region.circle.1);
                let mut map = Map::new();
                map.insert("label".into(), (region.label as INT).into());
                map.insert("pixels".into(), (region.pixels as INT).into());
                map.insert("x".into(), Dynamic::from_float(x));
                map.insert("y".into(), Dynamic::from_float(y));
                map.insert("circle_x".into(), Dynamic::from_float(cx));
                map.insert("circle_y".into(), Dynamic::from_float(cy));
                // Half a pixel more: the circle holds whole pixels, not only their centres.
                map.insert(
                    "radius".into(),
                    Dynamic::from_float((region.circle.2 + 0.5) * pixel),
                );
                Dynamic::from_map(map)
            })
            .collect())
    }

    /// The outlines of a mask's regions, each a closed ring of `[x, y]`
    /// points in the raster's CRS.
    ///
    /// ```rhai
    /// let m = matrix(6, 6); m.set(2, 2, 1.0); m.set(2, 3, 1.0); m.set(3, 2, 1.0); m.set(3, 3, 1.0);
    /// let rings = m.to_raster([0.0, 0.0, 6.0, 6.0]).contours();
    /// assert(rings.len() == 1, "one outline");
    /// ```
    #[rhai_fn(return_raw, pure)]
    pub fn contours(
        ctx: NativeCallContext,
        mask: &mut Raster,
    ) -> Result<Array, Box<EvalAltResult>> {
        let transform = mask.grid().transform;
        let rings = on_pixels(&ctx, mask, |plane, compute| plane.contours(compute))?;
        let points = rings.iter().map(Vec::len).sum::<usize>();
        charge_values(&ctx, points, sizes::array(2), "the outlines' points")?;
        Ok(rings
            .into_iter()
            .map(|ring| {
                let points: Array = ring
                    .into_iter()
                    .map(|(col, row)| {
                        let (x, y) = transform.apply(col, row);
                        Dynamic::from_array(vec![Dynamic::from_float(x), Dynamic::from_float(y)])
                    })
                    .collect();
                Dynamic::from_array(points)
            })
            .collect())
    }
}
