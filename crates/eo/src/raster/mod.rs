//! Lazy georeferenced rasters (see README.md here).
//!
//! A [`Raster`] is a grid plus an expression over bands in files. Arithmetic,
//! comparisons and clipping only build the expression; the terminal
//! operations in [`compute`] evaluate it block by block on the session's
//! thread pool, charging each block's buffers to the memory budget and
//! checking the interrupt between blocks. Peak memory is a few blocks per
//! thread, whatever the size of the raster.

pub mod compute;
pub mod crs;
pub mod expr;
pub mod grid;
pub mod imageops;
pub mod mask;
pub mod source;
pub mod stack;
pub mod warp;

pub use compute::{Compute, Histogram, SaveFormat, Stats};
pub use expr::{Binary, Extreme, Node, Reduction, Unary};
pub use grid::{Bounds, GeoTransform, Grid, Window};
pub use source::BandSource;
pub use stack::Stack;
pub use warp::{Resampling, WarpOptions};

use crate::gdal::dataset::Origin;
use cleope_sandbox::{Breach, Stop};
use std::sync::Arc;

/// Why a raster operation failed.
#[derive(Debug, thiserror::Error)]
pub enum RasterError {
    #[error("cannot read \"{path}\": {message}")]
    Gdal { path: String, message: String },
    #[error("\"{path}\" has {count} band(s); there is no band {band}")]
    NoSuchBand {
        path: String,
        band: usize,
        count: usize,
    },
    #[error("\"{path}\" has no georeferencing (no geotransform)")]
    NotGeoreferenced { path: String },
    #[error(
        "the rasters are on different grids ({left} and {right}); \
         bring one onto the other's grid first with align(raster, reference)"
    )]
    GridMismatch { left: String, right: String },
    #[error("the area {area} does not overlap the raster, which covers {covers}")]
    OutsideBounds { area: String, covers: String },
    #[error("{0}")]
    Invalid(String),
    /// A dataset scripts may not open (a VRT, a connection string, …).
    #[error("{0}")]
    FormatNotAllowed(crate::gdal::dataset::Refusal),
    #[error("stopped")]
    Stopped(Stop),
    /// GDAL itself could not be loaded.
    #[error(transparent)]
    GdalUnavailable(#[from] crate::gdal::library::GdalUnavailable),
    /// A remote file could not be read (the grant, the server, the deadline).
    #[error(transparent)]
    Remote(#[from] crate::gdal::remote::RemoteError),
}

impl RasterError {
    /// Why `path` did not open through [`crate::gdal::dataset`].
    pub fn opening(path: &str, error: crate::gdal::dataset::OpenError) -> RasterError {
        use crate::gdal::dataset::OpenError;
        match error {
            OpenError::NotAllowed(refusal) => RasterError::FormatNotAllowed(refusal),
            OpenError::Unavailable(unavailable) => RasterError::GdalUnavailable(unavailable),
            OpenError::Remote(failure) => RasterError::Remote(failure),
            OpenError::Gdal(error) => RasterError::Gdal {
                path: path.to_string(),
                message: error.to_string(),
            },
        }
    }

    /// One of GDAL's utilities failed on `path`.
    pub fn utility(path: &str, error: crate::gdal::utilities::UtilityError) -> RasterError {
        use crate::gdal::utilities::UtilityError;
        match error {
            UtilityError::Open(error) => RasterError::opening(path, error),
            UtilityError::Nul => RasterError::Invalid("an option contains a NUL byte".into()),
            failed @ UtilityError::Failed { .. } => RasterError::Gdal {
                path: path.to_string(),
                message: failed.to_string(),
            },
        }
    }
}

impl From<Stop> for RasterError {
    fn from(stop: Stop) -> Self {
        RasterError::Stopped(stop)
    }
}

impl From<Breach> for RasterError {
    fn from(breach: Breach) -> Self {
        RasterError::Stopped(Stop::Quota(breach))
    }
}

/// A lazy raster: what it covers, and how to compute its pixels.
#[derive(Debug, Clone)]
pub struct Raster {
    grid: Grid,
    root: Arc<Node>,
    /// The unit of the values, when known (e.g. from the file).
    pub unit: String,
}

impl Raster {
    /// Band `band` (from 1) of a file from outside cleope, in a format
    /// scripts may open (see [`crate::gdal::dataset`]). A file located only
    /// by ground control points (Sentinel-1 GRD) opens warped to their CRS.
    pub fn open(path: &str, band: usize) -> Result<Raster, RasterError> {
        let source = match BandSource::open(path, band, Origin::File) {
            Err(RasterError::NotGeoreferenced { .. }) if source::has_gcps(path) => {
                return warp::warp_gcp_file(path, band);
            }
            other => other?,
        };
        Ok(Raster::of_source(source))
    }

    /// Band `band` of a dataset cleope built: a VRT (its path in
    /// `/vsimem/cleope/`, or its XML) over files opened with [`Raster::open`].
    pub fn open_built(path: &str, band: usize) -> Result<Raster, RasterError> {
        BandSource::open(path, band, Origin::Cleope).map(Raster::of_source)
    }

    fn of_source(source: Arc<BandSource>) -> Raster {
        Raster {
            grid: source.grid.clone(),
            unit: source.unit.clone(),
            root: Arc::new(Node::Band {
                source,
                col: 0,
                row: 0,
            }),
        }
    }

    /// A raster of values held in memory (row by row) on `grid`, charged to `budget`.
    pub fn from_values(
        grid: Grid,
        values: Vec<f32>,
        budget: &Arc<cleope_sandbox::MemoryBudget>,
    ) -> Result<Raster, RasterError> {
        if values.len() != grid.width * grid.height {
            return Err(RasterError::Invalid(format!(
                "{} values do not fill a {} x {} grid",
                values.len(),
                grid.width,
                grid.height
            )));
        }
        let bytes = (values.len() * std::mem::size_of::<f32>()) as u64;
        let charge = budget.charge(bytes, &format!("a {} x {} raster", grid.width, grid.height))?;
        let band = expr::MemoryBand {
            width: grid.width,
            height: grid.height,
            values,
            _charge: charge,
        };
        Ok(Raster {
            grid,
            root: Arc::new(Node::Memory(Arc::new(band))),
            unit: String::new(),
        })
    }

    /// A raster holding `value` everywhere on `grid`.
    pub fn constant(grid: Grid, value: f32) -> Raster {
        Raster {
            grid,
            root: Arc::new(Node::Constant(value)),
            unit: String::new(),
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// The expression (for evaluation).
    pub fn root(&self) -> &Arc<Node> {
        &self.root
    }

    fn derived(&self, root: Node) -> Raster {
        Raster {
            grid: self.grid.clone(),
            root: Arc::new(root),
            unit: String::new(),
        }
    }

    fn check_aligned(&self, other: &Raster) -> Result<(), RasterError> {
        if self.grid.aligns_with(&other.grid) {
            return Ok(());
        }
        let describe = |g: &Grid| {
            let (rx, ry) = g.resolution();
            format!("{} x {} pixels of {rx} x {ry}", g.width, g.height)
        };
        Err(RasterError::GridMismatch {
            left: describe(&self.grid),
            right: describe(&other.grid),
        })
    }

    /// `op` applied to every pixel.
    pub fn unary(&self, op: Unary) -> Raster {
        let mut raster = self.derived(Node::Unary(op, Arc::clone(&self.root)));
        if matches!(op, Unary::Negate | Unary::Abs) {
            raster.unit = self.unit.clone();
        }
        raster
    }

    /// `self op other`, pixel by pixel; the grids must line up.
    pub fn binary(&self, op: Binary, other: &Raster) -> Result<Raster, RasterError> {
        self.check_aligned(other)?;
        Ok(self.derived(Node::Binary(
            op,
            Arc::clone(&self.root),
            Arc::clone(&other.root),
        )))
    }

    /// `self op value` (or `value op self` when `value_first`).
    pub fn with_scalar(&self, op: Binary, value: f32, value_first: bool) -> Raster {
        let constant = Arc::new(Node::Constant(value));
        let root = Arc::clone(&self.root);
        let (a, b) = if value_first {
            (constant, root)
        } else {
            (root, constant)
        };
        self.derived(Node::Binary(op, a, b))
    }

    /// Where `self` (a mask) is non-zero `when_true`, else `when_false`.
    pub fn choose(&self, when_true: &Raster, when_false: &Raster) -> Result<Raster, RasterError> {
        self.check_aligned(when_true)?;
        self.check_aligned(when_false)?;
        Ok(self.derived(Node::Choose(
            Arc::clone(&self.root),
            Arc::clone(&when_true.root),
            Arc::clone(&when_false.root),
        )))
    }

    /// `self` where `mask` is non-zero, missing (NaN) elsewhere.
    pub fn masked(&self, mask: &Raster) -> Result<Raster, RasterError> {
        let missing = Raster::constant(self.grid.clone(), f32::NAN);
        let mut raster = mask.choose(self, &missing)?;
        raster.unit = self.unit.clone();
        Ok(raster)
    }

    /// `(a - b) / (a + b)`: NDVI, NBR, NDWI, NDSI... as one fused expression.
    pub fn normalized_difference(a: &Raster, b: &Raster) -> Result<Raster, RasterError> {
        let difference = a.binary(Binary::Subtract, b)?;
        let sum = a.binary(Binary::Add, b)?;
        difference.binary(Binary::Divide, &sum)
    }

    /// The part of the raster inside `window`, without reading anything.
    pub fn window(&self, window: Window) -> Result<Raster, RasterError> {
        let fits = window.col + window.width <= self.grid.width
            && window.row + window.height <= self.grid.height;
        if !fits || window.pixels() == 0 {
            return Err(RasterError::Invalid(format!(
                "the window {window:?} is not inside the {} x {} raster",
                self.grid.width, self.grid.height
            )));
        }
        Ok(Raster {
            grid: self.grid.sub_grid(window),
            root: Arc::new(Node::Shift {
                node: Arc::clone(&self.root),
                col: window.col,
                row: window.row,
            }),
            unit: self.unit.clone(),
        })
    }

    /// A per-pixel summary of aligned `layers` (e.g. a time stack's median).
    pub fn reduce(layers: &[Raster], reduction: Reduction) -> Result<Raster, RasterError> {
        let first = layers
            .first()
            .ok_or_else(|| RasterError::Invalid("a stack needs at least one raster".into()))?;
        for layer in &layers[1..] {
            first.check_aligned(layer)?;
        }
        let roots = layers.iter().map(|l| Arc::clone(&l.root)).collect();
        let mut raster = first.derived(Node::Reduce(reduction, roots));
        if reduction != Reduction::Count {
            raster.unit = first.unit.clone();
        }
        Ok(raster)
    }

    /// 1 where the value is one of `classes`, 0 elsewhere, missing where the
    /// raster is (e.g. the cloud classes of a Sentinel-2 scene classification).
    pub fn is_in(&self, classes: &[f32]) -> Raster {
        self.derived(Node::IsIn(Arc::clone(&self.root), classes.into()))
    }

    /// Per pixel, the position (from 0) of the layer of `scores` with the
    /// `best` score, or, with `values` (one per score), that layer's value:
    /// e.g. each pixel from its least cloudy date. Layers with a missing
    /// score (or value) are skipped; ties go to the earliest.
    pub fn pick(
        scores: &[Raster],
        values: Option<&[Raster]>,
        best: Extreme,
    ) -> Result<Raster, RasterError> {
        let first = scores
            .first()
            .ok_or_else(|| RasterError::Invalid("a stack needs at least one raster".into()))?;
        if let Some(values) = values
            && values.len() != scores.len()
        {
            return Err(RasterError::Invalid(format!(
                "{} scores for {} rasters: give one score per date",
                scores.len(),
                values.len()
            )));
        }
        for layer in scores.iter().chain(values.into_iter().flatten()) {
            first.check_aligned(layer)?;
        }
        let roots = |layers: &[Raster]| layers.iter().map(|l| Arc::clone(&l.root)).collect();
        let mut raster = first.derived(Node::Pick {
            best,
            scores: roots(scores),
            values: values.map(roots),
        });
        if let Some(values) = values {
            raster.unit = values[0].unit.clone();
        }
        Ok(raster)
    }

    /// The raster on another grid (CRS and/or resolution), lazily.
    pub fn warp(&self, options: &WarpOptions) -> Result<Raster, RasterError> {
        let mut raster = warp::warp(self, options)?;
        raster.unit = self.unit.clone();
        Ok(raster)
    }

    /// A bit test on the stored words of a band read from a file (or a
    /// window of one): 1 where any bit of `mask` is set. The test runs on
    /// the 32-bit integers before any conversion, so OLCI's land bit
    /// (0x80000000) and its low bits stay apart. Computed values have no
    /// stored words: the error says to test the band itself.
    pub fn flag_test(&self, mask: u32) -> Result<Raster, RasterError> {
        fn on_words(node: &Node, mask: u32) -> Option<Node> {
            match node {
                Node::Band { source, col, row } => Some(Node::FlagTest {
                    source: Arc::clone(source),
                    col: *col,
                    row: *row,
                    mask,
                }),
                Node::Shift { node, col, row } => Some(Node::Shift {
                    node: Arc::new(on_words(node, mask)?),
                    col: *col,
                    row: *row,
                }),
                _ => None,
            }
        }
        let root = on_words(&self.root, mask).ok_or_else(|| {
            RasterError::Invalid(
                "bits can only be tested on a flag band as read from its file (e.g. \
                 open_raster(\"f.nc\", \"quality_flags\") & 0x80000000), not on computed values"
                    .into(),
            )
        })?;
        Ok(self.derived(root))
    }

    /// The raster resampled onto `reference`'s grid (its CRS, extent and
    /// size), so that the two combine: e.g. two clips of one product that
    /// differ by a pixel. Already aligned rasters come back unchanged.
    pub fn align(&self, reference: &Grid, resampling: Resampling) -> Result<Raster, RasterError> {
        if self.grid.aligns_with(reference) {
            return Ok(self.clone());
        }
        let mut raster = warp::onto_grid(self, reference, resampling)?;
        raster.unit = self.unit.clone();
        Ok(raster)
    }

    /// The same pixels described by `grid` (of the same size): after a warp
    /// onto a grid, GDAL may spell its CRS differently.
    fn on_grid(self, grid: Grid) -> Raster {
        debug_assert_eq!(
            (grid.width, grid.height),
            (self.grid.width, self.grid.height)
        );
        Raster { grid, ..self }
    }

    /// The part of the raster covering the rings (map coordinates in the
    /// raster's CRS), missing outside them. Nothing is read.
    pub fn clip_to_rings(&self, rings: Vec<Vec<(f64, f64)>>) -> Result<Raster, RasterError> {
        let xs = rings.iter().flatten().map(|p| p.0);
        let ys = rings.iter().flatten().map(|p| p.1);
        let bounds = (
            xs.clone().fold(f64::INFINITY, f64::min),
            ys.clone().fold(f64::INFINITY, f64::min),
            xs.fold(f64::NEG_INFINITY, f64::max),
            ys.fold(f64::NEG_INFINITY, f64::max),
        );
        let clipped = self.clip(bounds)?;
        let mask = mask::PolygonMask::new(rings, clipped.grid.transform);
        let inside = clipped.derived(Node::Inside(Arc::new(mask)));
        clipped.masked(&inside)
    }

    /// The part of the raster covering `bounds` (in the raster's CRS).
    pub fn clip(&self, bounds: Bounds) -> Result<Raster, RasterError> {
        match self.grid.window_of(bounds) {
            Some(window) => self.window(window),
            None => {
                let (x0, y0, x1, y1) = self.grid.bounds();
                let (a0, b0, a1, b1) = bounds;
                Err(RasterError::OutsideBounds {
                    area: format!("({a0:.4}, {b0:.4}, {a1:.4}, {b1:.4})"),
                    covers: format!("({x0:.4}, {y0:.4}, {x1:.4}, {y1:.4})"),
                })
            }
        }
    }
}
