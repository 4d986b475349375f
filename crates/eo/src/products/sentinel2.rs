//! Sentinel-2 MSI products (Level-1C and Level-2A): bands by name and
//! resolution in both file namings, reflectance from the product's own
//! quantification value and offsets (baseline 04.00 added `BOA_ADD_OFFSET`),
//! clipping in the tile's UTM grid or a proper warp onto a lon/lat box (not
//! CLEOPE's separable approximation), composites, spectral indices and the
//! tile's valid-data footprint.

use super::names;
use super::sentinel1::{box_size, read_text, warp_onto_box, xml_elements, xml_text};
use crate::ens::EnsProduct;
use crate::raster::{Binary, Compute, Raster, RasterError, Resampling, WarpOptions, crs};
use chrono::NaiveDateTime;
use std::path::Path;

/// The 13 MSI bands by band id (the order of the metadata's offsets).
pub const BANDS: [&str; 13] = [
    "B01", "B02", "B03", "B04", "B05", "B06", "B07", "B08", "B8A", "B09", "B10", "B11", "B12",
];
/// Native resolution of each band (m).
pub const NATIVE_RESOLUTION: [u32; 13] = [60, 10, 10, 10, 20, 20, 20, 10, 20, 60, 60, 20, 20];
/// The Floating Debris Index's factor `(λB8A − λB04) / (λB11 − λB04) x 10`
/// (864.7, 664.6, 1613.7 nm; Biermann et al. 2020; CLEOPE's `lc`).
pub const FDI_FACTOR: f64 = (864.7 - 664.6) / (1613.7 - 664.6) * 10.0;

/// Why a Sentinel-2 product or band cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum MsiError {
    /// The product or request is not usable; `hint` says what to do.
    #[error("{message}")]
    Product { message: String, hint: String },
    #[error(transparent)]
    Outside(#[from] super::AreaOutside),
    #[error(transparent)]
    Raster(#[from] RasterError),
}

impl MsiError {
    fn product(message: impl Into<String>, hint: impl Into<String>) -> MsiError {
        MsiError::Product {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// Processing level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Top-of-atmosphere reflectance, one file per band at its own resolution.
    L1C,
    /// Surface (bottom-of-atmosphere) reflectance, files under R10m/R20m/R60m.
    L2A,
}

/// A Sentinel-2 product: a SAFE folder (as ENS shows a zip product, or
/// unpacked in the workspace) or a downloaded zip.
#[derive(Debug, Clone)]
pub struct Msi {
    product: EnsProduct,
    /// The product name without `.SAFE`/`.zip`.
    pub name: String,
    pub level: Level,
    /// The tile, e.g. "30SVG".
    pub tile: String,
    /// When the image was taken (the name's sensing start).
    pub sensing: NaiveDateTime,
    /// Processing baseline, e.g. "02.14".
    pub baseline: String,
    /// Reflectance = (DN + offset) / quantification.
    pub quantification: f64,
    /// Added offset by band id (-1000 from baseline 04.00, else 0).
    pub offsets: [f64; 13],
    /// The cloud cover the product reports (%).
    pub cloud_cover: Option<f64>,
    aot_quantification: f64,
    wvp_quantification: f64,
}

/// What a band request asks for: the resolution, an area, and whether to
/// bring it onto a lon/lat grid.
#[derive(Debug, Clone, PartialEq)]
pub struct BandRequest {
    /// 10, 20 or 60 m; None = the band's native resolution.
    pub resolution: Option<u32>,
    /// A lon/lat box (lon_min, lat_min, lon_max, lat_max) to clip to.
    pub area: Option<(f64, f64, f64, f64)>,
    /// Warp onto the lon/lat box with pixels of about this size (m);
    /// None = stay in the tile's UTM grid.
    pub lonlat_pixel: Option<f64>,
}

impl Msi {
    /// Opens the product at `path` (a GDAL-readable path: folder or zip).
    pub fn open(path: &str) -> Result<Msi, MsiError> {
        let product = EnsProduct::at(Path::new(path)).map_err(|e| {
            MsiError::product(
                e.to_string(),
                "give the product folder (….zip or ….SAFE) or its zip file",
            )
        })?;
        let (metadata_path, level) = metadata_file(&product)?;
        let xml = read_text(&metadata_path).map_err(|e| {
            MsiError::product(e, "the product may be incomplete: download it again")
        })?;
        let name = xml_text(&xml, "PRODUCT_URI")
            .map(|uri| crate::ens::name_stem(&uri).to_string())
            .unwrap_or_else(|| crate::ens::name_stem(product.name()).to_string());
        let parsed = names::parse(&name).map_err(|e| MsiError::product(e.to_string(), ""))?;
        let l2a = level == Level::L2A;
        let number = |tag: &str, default: f64| {
            xml_text(&xml, tag)
                .and_then(|t| t.parse::<f64>().ok())
                .unwrap_or(default)
        };
        let quantification = number(
            if l2a {
                "BOA_QUANTIFICATION_VALUE"
            } else {
                "QUANTIFICATION_VALUE"
            },
            10_000.0,
        );
        let mut offsets = [0.0; 13];
        for (attributes, value) in xml_elements(
            &xml,
            if l2a {
                "BOA_ADD_OFFSET"
            } else {
                "RADIO_ADD_OFFSET"
            },
        ) {
            let id = attributes
                .split('"')
                .nth(1)
                .and_then(|id| id.parse::<usize>().ok())
                .filter(|&id| id < 13);
            if let (Some(id), Ok(offset)) = (id, value.parse::<f64>()) {
                offsets[id] = offset;
            }
        }
        Ok(Msi {
            product,
            tile: parsed.details.get("tile").cloned().unwrap_or_default(),
            sensing: parsed.start,
            baseline: xml_text(&xml, "PROCESSING_BASELINE").unwrap_or_default(),
            cloud_cover: xml_text(&xml, "Cloud_Coverage_Assessment").and_then(|t| t.parse().ok()),
            aot_quantification: number("AOT_QUANTIFICATION_VALUE", 1000.0),
            wvp_quantification: number("WVP_QUANTIFICATION_VALUE", 1000.0),
            name,
            level,
            quantification,
            offsets,
        })
    }

    /// The band's native resolution (L2A also holds most bands coarser).
    fn default_resolution(&self, band: &str) -> u32 {
        native_resolution(band).unwrap_or(10)
    }

    /// The JPEG 2000 file of `band` ("B04", "B8A", and for L2A "SCL",
    /// "AOT", "WVP", "TCI") at `resolution` (default: the band's native one).
    pub fn band_file(&self, band: &str, resolution: Option<u32>) -> Result<String, MsiError> {
        let band = normalise_band(band)?;
        let resolution = resolution.unwrap_or_else(|| self.default_resolution(&band));
        if ![10, 20, 60].contains(&resolution) {
            return Err(MsiError::product(
                format!("Sentinel-2 has no {resolution} m resolution"),
                "use 10, 20 or 60",
            ));
        }
        let pattern = match self.level {
            Level::L2A => format!("IMG_DATA/R{resolution}m/*_{band}_{resolution}m.jp2"),
            Level::L1C => {
                let native = self.default_resolution(&band);
                if native != resolution {
                    return Err(MsiError::product(
                        format!("Level-1C products hold {band} at {native} m only"),
                        format!(
                            "ask for {band} at {native} m, or resample it: r.resample({resolution}.0)"
                        ),
                    ));
                }
                format!("IMG_DATA/*_{band}.jp2")
            }
        };
        let mut found = self
            .product
            .files(&pattern)
            .map_err(|e| MsiError::product(e.to_string(), ""))?;
        if found.len() == 1 {
            return Ok(found.remove(0));
        }
        let available = self.bands(Some(resolution)).join(", ");
        Err(MsiError::product(
            format!(
                "{} has no {band} at {resolution} m (there: {available})",
                self.name
            ),
            "Level-2A bands: 10 m B02 B03 B04 B08; 20 m adds B05 B06 B07 B8A B11 B12 SCL; 60 m adds B01 B09",
        ))
    }

    /// The spectral bands the product holds at `resolution` (all of them,
    /// each at its own resolution, when None), in band order: only bands,
    /// not the AOT/WVP/SCL/TCI files CLEOPE's `bands()` also returned.
    pub fn bands(&self, resolution: Option<u32>) -> Vec<String> {
        let files = self.product.files("IMG_DATA/**/*.jp2").unwrap_or_default();
        let mut found: Vec<String> = files
            .iter()
            .filter_map(|f| file_band(f.rsplit('/').next().unwrap_or(f)))
            .filter(|(band, res)| {
                band_id(band).is_some()
                    && match (resolution, res) {
                        (None, _) => true,
                        (Some(wanted), Some(res)) => wanted == *res,
                        (Some(wanted), None) => self.default_resolution(band) == wanted,
                    }
            })
            .map(|(band, _)| band)
            .collect();
        found.sort_by_key(|b| band_id(b));
        found.dedup();
        found
    }

    /// How DN become physical values: (quantification, offset) for a band.
    fn scaling(&self, band: &str) -> (f64, f64) {
        match (band, band_id(band)) {
            (_, Some(id)) => (self.quantification, self.offsets[id]),
            ("AOT", _) => (self.aot_quantification, 0.0),
            ("WVP", _) => (self.wvp_quantification, 0.0),
            _ => (1.0, 0.0),
        }
    }

    /// A band as reflectance (AOT as optical thickness, WVP in cm, SCL as
    /// classes), with 0 (no data) missing: in the tile's UTM grid, clipped
    /// to the request's area, or warped onto the lon/lat box of the area.
    pub fn band(&self, band: &str, request: &BandRequest) -> Result<Raster, MsiError> {
        let band = normalise_band(band)?;
        let native = self.default_resolution(&band);
        let resolution = request.resolution.unwrap_or(native);
        let file_resolution = match self.level {
            Level::L1C => native,
            // B08 has no 20 or 60 m file: averaged from 10 m when asked for.
            Level::L2A if !self.bands(Some(resolution)).contains(&band) && native < resolution => {
                native
            }
            Level::L2A => resolution,
        };
        let file = self.band_file(&band, Some(file_resolution))?;
        if let Some(area) = request.area {
            let grid = Raster::open(&file, 1)?.grid().clone();
            let tile = crs::bounds_to_lonlat(&grid.crs, grid.bounds())?;
            super::check_area_meets(area, tile)?;
        }
        let (quantification, offset) = self.scaling(&band);
        let categorical = band == "SCL";
        let raster = match request.lonlat_pixel {
            Some(pixel) => {
                let area = request.area.ok_or_else(|| {
                    MsiError::product(
                        "a lon/lat grid needs an area",
                        "give an area (aoi) to warp the band onto",
                    )
                })?;
                let resampling = if categorical {
                    Resampling::Nearest
                } else {
                    Resampling::Bilinear
                };
                let warped =
                    warp_onto_box(&file, 1, area, box_size(area, pixel), resampling, Some(0.0))?;
                scale(&warped, quantification, offset, false)
            }
            None => {
                let mut raw = Raster::open(&file, 1)?;
                if file_resolution != resolution {
                    raw = raw.warp(&WarpOptions {
                        crs: None,
                        resolution: Some((resolution as f64, resolution as f64)),
                        resampling: if categorical {
                            Resampling::Mode
                        } else {
                            Resampling::Average
                        },
                    })?;
                }
                if let Some(area) = request.area {
                    raw = raw.clip(crs::lonlat_bounds_to(&raw.grid().crs, area)?)?;
                }
                scale(&raw, quantification, offset, true)
            }
        };
        let mut raster = raster?;
        raster.unit = match band.as_str() {
            "SCL" => "class",
            "AOT" => "",
            "WVP" => "cm",
            _ => "reflectance",
        }
        .into();
        Ok(raster)
    }

    /// The footprint of the tile's valid data, as a lon/lat ring traced
    /// around the non-zero pixels of the 60 m B01 band (read in memory).
    pub fn footprint(&self, compute: &Compute) -> Result<Vec<(f64, f64)>, MsiError> {
        let band = Raster::open(&self.band_file("B01", Some(60))?, 1)?;
        let plane = compute.plane(&band)?;
        // A border of empty pixels, so a tile full of data has an outline too.
        let (width, height) = (plane.width + 2, plane.height + 2);
        let mut values = vec![0.0f32; width * height];
        for row in 0..plane.height {
            for col in 0..plane.width {
                let v = plane.values[row * plane.width + col];
                values[(row + 1) * width + col + 1] =
                    f32::from(u8::from(v.is_finite() && v != 0.0));
            }
        }
        let mask = crate::raster::imageops::Plane {
            width,
            height,
            values,
        };
        let ring = mask
            .contours(compute)?
            .into_iter()
            .max_by_key(|r| r.len())
            .ok_or_else(|| MsiError::product(format!("{} holds no valid pixels", self.name), ""))?;
        let ring: Vec<(f64, f64)> = ring.iter().map(|&(c, r)| (c - 1.0, r - 1.0)).collect();
        let transform = band.grid().transform;
        let map: Vec<(f64, f64)> = simplify(&ring, 1.0)
            .iter()
            .map(|&(col, row)| transform.apply(col, row))
            .collect();
        Ok(to_lonlat(&band.grid().crs, &map)?)
    }
}

/// Map coordinates in the CRS `wkt` as lon/lat (WGS 84), point by point.
fn to_lonlat(wkt: &str, points: &[(f64, f64)]) -> Result<Vec<(f64, f64)>, RasterError> {
    use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
    let invalid = |e: gdal::errors::GdalError| {
        RasterError::Invalid(format!("the CRS cannot be converted to lon/lat: {e}"))
    };
    let mut from = SpatialRef::from_wkt(wkt).map_err(invalid)?;
    let mut to = SpatialRef::from_epsg(4326).map_err(invalid)?;
    from.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    to.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
    let mut ys: Vec<f64> = points.iter().map(|p| p.1).collect();
    CoordTransform::new(&from, &to)
        .and_then(|t| t.transform_coords(&mut xs, &mut ys, &mut []))
        .map_err(invalid)?;
    Ok(xs.into_iter().zip(ys).collect())
}

/// `(DN + offset) / quantification`, with 0 missing when `zero_is_missing`.
fn scale(
    raw: &Raster,
    quantification: f64,
    offset: f64,
    zero_is_missing: bool,
) -> Result<Raster, MsiError> {
    let value = raw
        .with_scalar(Binary::Add, offset as f32, false)
        .with_scalar(Binary::Divide, quantification as f32, false);
    if !zero_is_missing {
        return Ok(value);
    }
    let valid = raw.with_scalar(Binary::NotEqual, 0.0, false);
    Ok(value.masked(&valid)?)
}

/// Douglas–Peucker simplification of a closed ring (pixel units).
fn simplify(ring: &[(f64, f64)], tolerance: f64) -> Vec<(f64, f64)> {
    use geo::Simplify;
    let line: geo::LineString<f64> = ring
        .iter()
        .map(|&(x, y)| geo::coord! { x: x, y: y })
        .collect();
    line.simplify(tolerance)
        .0
        .into_iter()
        .map(|c| (c.x, c.y))
        .collect()
}

/// The product's metadata file and level.
fn metadata_file(product: &EnsProduct) -> Result<(String, Level), MsiError> {
    for (file, level) in [
        ("MTD_MSIL2A.xml", Level::L2A),
        ("MTD_MSIL1C.xml", Level::L1C),
    ] {
        if let Ok(path) = product.file(file) {
            return Ok((path, level));
        }
    }
    Err(MsiError::product(
        format!(
            "{} has no MTD_MSIL2A.xml or MTD_MSIL1C.xml: it is not a Sentinel-2 product",
            product.name()
        ),
        "give a Sentinel-2 Level-1C or Level-2A product (S2A_MSIL2A_..., S2B_MSIL1C_...)",
    ))
}

/// The band id of a spectral band name.
fn band_id(band: &str) -> Option<usize> {
    BANDS.iter().position(|b| *b == band)
}

/// The native resolution (m) of a band or layer ("B8A" → 20, "b4" → 10,
/// "SCL" → 20): what a lon/lat warp uses when no pixel size is given.
pub fn native_resolution(band: &str) -> Result<u32, MsiError> {
    let band = normalise_band(band)?;
    Ok(match band_id(&band) {
        Some(id) => NATIVE_RESOLUTION[id],
        None if band == "SCL" => 20,
        None => 10,
    })
}

/// "b4", "B4", "B04", "b8a" → "B04", "B8A"; other layers upper case.
fn normalise_band(band: &str) -> Result<String, MsiError> {
    let upper = band.trim().to_ascii_uppercase();
    let candidate = match upper.strip_prefix('B') {
        Some(digit) if digit.len() == 1 && digit.chars().all(|c| c.is_ascii_digit()) => {
            format!("B0{digit}")
        }
        _ => upper,
    };
    if band_id(&candidate).is_some() || ["SCL", "AOT", "WVP", "TCI"].contains(&candidate.as_str()) {
        Ok(candidate)
    } else {
        Err(MsiError::product(
            format!("\"{band}\" is not a Sentinel-2 band"),
            "bands are B01–B12 and B8A (and SCL, AOT, WVP in Level-2A products)",
        ))
    }
}

/// Whether `name` is a Sentinel-2 tile image (`T33TUL_20210501T100021_B04_10m.jp2`,
/// `…_B04.jp2`, `…_SCL_20m.jp2`). Their JPEG 2000 files declare no nodata,
/// but the product's metadata does (`Special_Values`: NODATA is 0), so a
/// band opened on its own treats 0 as missing, as the mission routines do.
pub fn is_tile_image(name: &str) -> bool {
    let tile = name.split('_').next().unwrap_or_default();
    let is_tile = tile.len() == 6
        && tile.starts_with('T')
        && tile[1..3].bytes().all(|b| b.is_ascii_digit())
        && tile[3..].bytes().all(|b| b.is_ascii_uppercase());
    is_tile && file_band(name).is_some()
}

/// The band and resolution in a file name: `T30SVG_…_B02_10m.jp2` (L2A) or
/// `T30SVG_…_B02.jp2` (L1C, resolution None).
fn file_band(file: &str) -> Option<(String, Option<u32>)> {
    let stem = file.strip_suffix(".jp2")?;
    let parts: Vec<&str> = stem.split('_').collect();
    match parts.as_slice() {
        [_, _, band, res] => Some((band.to_string(), res.strip_suffix('m')?.parse().ok())),
        [_, _, band] => Some((band.to_string(), None)),
        _ => None,
    }
}

/// A spectral index: the bands it needs, its resolution, and its formula.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    /// Normalized Burn Ratio (B8A − B12) / (B8A + B12), 20 m: burn scars low.
    Nbr,
    /// (B08 − B04) / (B08 + B04), 10 m: vegetation high.
    Ndvi,
    /// (B03 − B08) / (B03 + B08), 10 m (McFeeters): open water high.
    Ndwi,
    /// (B03 − B11) / (B03 + B11), 20 m: snow high.
    Ndsi,
    /// B8A − (B06 + (B11 − B06) x 2.10831), 20 m: floating debris high.
    Fdi,
}

impl Index {
    /// The index called `name` (case-insensitive).
    pub fn named(name: &str) -> Option<Index> {
        Some(match name.to_ascii_uppercase().as_str() {
            "NBR" => Index::Nbr,
            "NDVI" => Index::Ndvi,
            "NDWI" => Index::Ndwi,
            "NDSI" => Index::Ndsi,
            "FDI" => Index::Fdi,
            _ => return None,
        })
    }

    /// The bands the index combines at `resolution`, in formula order: at
    /// 20 and 60 m the narrow NIR band B8A stands for B08, which ESA's
    /// R20m and R60m folders never hold (B8A's 865 nm is within B08's
    /// 833 ± 53 nm band).
    pub fn bands_at(self, resolution: u32) -> Vec<&'static str> {
        self.bands()
            .iter()
            .map(|&b| nir_at(b, resolution))
            .collect()
    }

    /// The bands the index combines, in formula order.
    pub fn bands(self) -> &'static [&'static str] {
        match self {
            Index::Nbr => &["B8A", "B12"],
            Index::Ndvi => &["B08", "B04"],
            Index::Ndwi => &["B03", "B08"],
            Index::Ndsi => &["B03", "B11"],
            Index::Fdi => &["B8A", "B06", "B11"],
        }
    }

    /// The resolution the index is computed at (m).
    pub fn resolution(self) -> u32 {
        match self {
            Index::Ndvi | Index::Ndwi => 10,
            Index::Nbr | Index::Ndsi | Index::Fdi => 20,
        }
    }

    /// The index from its reflectance bands (aligned, in [`Index::bands`]
    /// order). Reflectances ≤ 0 are missing: with baseline 04.00's offset
    /// the darkest pixels (water, shadows) read ≤ 0, and a normalized
    /// difference of them leaves [-1, 1] (an NBR of -1097 on a real tile).
    pub fn compute(self, bands: &[Raster]) -> Result<Raster, RasterError> {
        let bands = bands
            .iter()
            .map(positive_reflectance)
            .collect::<Result<Vec<_>, _>>()?;
        match self {
            Index::Fdi => fdi(&bands[0], &bands[1], &bands[2]),
            _ => Raster::normalized_difference(&bands[0], &bands[1]),
        }
    }
}

/// The reflectance where it is above 0, missing elsewhere.
pub fn positive_reflectance(band: &Raster) -> Result<Raster, RasterError> {
    band.masked(&band.with_scalar(Binary::Greater, 0.0, false))
}

/// `band`, or B8A in place of B08 at 20 and 60 m (see [`Index::bands_at`]).
fn nir_at(band: &'static str, resolution: u32) -> &'static str {
    if band == "B08" && resolution > 10 {
        "B8A"
    } else {
        band
    }
}

/// The Floating Debris Index: NIR minus the NIR expected on a line from
/// red edge to SWIR, `B8A − (B06 + (B11 − B06) x 2.10831)`.
pub fn fdi(nir: &Raster, red_edge: &Raster, swir: &Raster) -> Result<Raster, RasterError> {
    let slope = swir.binary(Binary::Subtract, red_edge)?.with_scalar(
        Binary::Multiply,
        FDI_FACTOR as f32,
        false,
    );
    let baseline = red_edge.binary(Binary::Add, &slope)?;
    nir.binary(Binary::Subtract, &baseline)
}

/// The three bands of a composite at `resolution`, red first: "true"
/// (B04, B03, B02), "nir" (B08, B04, B03: vegetation red; B8A for B08 at
/// 20 and 60 m), "swir" (B12, B11, B05: burn scars orange, snow and water
/// dark blue to black in the SWIR).
pub fn composite_bands_at(kind: &str, resolution: u32) -> Option<[&'static str; 3]> {
    let (bands, _) = composite_bands(kind)?;
    Some(bands.map(|b| nir_at(b, resolution)))
}

/// The bands of a composite at its own resolution, and that resolution.
pub fn composite_bands(kind: &str) -> Option<([&'static str; 3], u32)> {
    Some(match kind.to_ascii_lowercase().as_str() {
        "true" | "true colour" | "true color" | "rgb" => (["B04", "B03", "B02"], 10),
        "nir" | "false colour" | "false color" => (["B08", "B04", "B03"], 10),
        "swir" => (["B12", "B11", "B05"], 20),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A real baseline-04.00 tile: (DN - 1000) / 10000 is ≤ 0 for the
    /// darkest pixels, and their NBR reached -1097.
    #[test]
    fn indices_leave_out_non_positive_reflectances() {
        use crate::raster::{Grid, compute::with_test_compute};
        let grid = Grid {
            width: 3,
            height: 1,
            transform: crate::raster::GeoTransform([0.0, 1.0, 0.0, 1.0, 0.0, -1.0]),
            crs: String::new(),
        };
        let budget = cleope_sandbox::MemoryBudget::with_usage(1 << 20, || 0);
        let nir = Raster::from_values(grid.clone(), vec![0.5, -0.0001, 0.0002], &budget).unwrap();
        let swir = Raster::from_values(grid, vec![0.1, 0.02, -0.0001], &budget).unwrap();
        let nbr = Index::Nbr.compute(&[nir, swir]).unwrap();
        let stats = with_test_compute(|c| c.stats(&nbr)).unwrap();
        assert_eq!((stats.count, stats.missing), (1, 2), "{stats:?}");
        assert!((stats.max - 0.4 / 0.6).abs() < 1e-6);
    }

    #[test]
    fn tile_images_are_known_by_their_names() {
        for name in [
            "T33TUL_20210501T100021_B04_10m.jp2",
            "T33TUL_20210501T100021_B8A.jp2",
            "T36SYC_20181013T082001_SCL_20m.jp2",
        ] {
            assert!(is_tile_image(name), "{name}");
        }
        for name in [
            "B04.jp2",
            "T33TUL_20210501T100021_B04_10m.tif",
            "t33tul_x_B04.jp2",
            "MSK_CLDPRB_20m.jp2",
        ] {
            assert!(!is_tile_image(name), "{name}");
        }
    }

    #[test]
    fn bands_names_and_numbers_are_read_in_both_namings() {
        assert_eq!(normalise_band("b8a").unwrap(), "B8A");
        assert_eq!(normalise_band("B4").unwrap(), "B04");
        assert!(
            normalise_band("B13")
                .unwrap_err()
                .to_string()
                .contains("not a Sentinel-2 band")
        );
        assert_eq!(
            file_band("T36SYC_20181013T082001_B8A_20m.jp2"),
            Some(("B8A".into(), Some(20)))
        );
        assert_eq!(
            file_band("T54MZV_20201110T004711_B04.jp2"),
            Some(("B04".into(), None))
        );
        assert_eq!(Index::named("nbr").unwrap().bands(), ["B8A", "B12"]);
        assert!((FDI_FACTOR - 2.10831).abs() < 1e-5);
        let natives: Vec<u32> = ["b8a", "B4", "B01", "SCL", "TCI"]
            .iter()
            .map(|b| native_resolution(b).unwrap())
            .collect();
        assert_eq!(natives, [20, 10, 60, 20, 10]);
        assert!(native_resolution("B13").is_err());
    }
}
