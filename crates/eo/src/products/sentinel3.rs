//! Sentinel-3 SEN3 products, as CLEOPE's `data_processing_S3_olci` and
//! `data_processing_S3_slstr` used them: a folder of netCDF files, one per
//! group of variables, on the instrument's swath grid (rows x columns) with
//! the 2-D latitude/longitude in a file of their own. Each variable opens
//! as a [`Swath`] (points with longitude, latitude and value), ready to be
//! clipped, gridded onto a regular lon/lat grid and stacked by date.
//!
//! | product | variables | coordinates | quality |
//! | --- | --- | --- | --- |
//! | OLCI L2 WFR (water) | `tsm_nn.nc` TSM_NN, `chl_oc4me.nc` CHL_OC4ME, `chl_nn.nc` CHL_NN, `iwv.nc` IWV (log10-stored ones in `lg(...)` units) | `geo_coordinates.nc` latitude, longitude | `wqsf.nc` WQSF (64-bit flags) |
//! | OLCI L2 LFR (land) | `ogvi.nc` OGVI, `otci.nc` OTCI, `iwv.nc` IWV | `geo_coordinates.nc` | `lqsf.nc` LQSF (32-bit flags) |
//! | SLSTR L1 RBT | `S9_BT_in.nc` S9_BT_in (K, int16 scale/offset), other `<band>_BT_<grid>` | `geodetic_<grid>.nc` `latitude_<grid>`, `longitude_<grid>` | |
//! | SLSTR L2 LST | `LST_in.nc` LST (K), LST_uncertainty, NDVI | `geodetic_in.nc` | |
//!
//! Departures from CLEOPE (inventory §6, quirk 13): OLCI values are masked
//! with their quality flags by flag name (ESA's recommended masks by
//! default), log10-stored products are de-logged to their physical unit,
//! and every date of a stack carries its own sensing time. The SLSTR
//! anomaly maps grid every night onto one regular grid (natural-neighbour
//! interpolation rather than scipy's cubic) before the pixel-wise median.

use crate::ens::EnsProduct;
use crate::raster::{Binary, Bounds, Compute, Raster, RasterError, Reduction, Stack};
use crate::swath::{GridRequest, Swath};
use chrono::NaiveDateTime;
use cleope_sandbox::MemoryBudget;
use gdal::{Dataset, DatasetOptions, GdalOpenFlags};
use std::path::Path;
use std::sync::Arc;

/// A failure a learner can fix: what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum S3Error {
    /// A product, variable, flag or option that does not fit.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// A file could not be read, or a raster operation failed.
    #[error(transparent)]
    Raster(#[from] RasterError),
}

fn invalid(message: impl Into<String>, hint: impl Into<String>) -> S3Error {
    S3Error::Invalid {
        message: message.into(),
        hint: hint.into(),
    }
}

fn unreadable(path: &str, message: impl std::fmt::Display) -> S3Error {
    S3Error::Raster(RasterError::Gdal {
        path: path.to_string(),
        message: message.to_string(),
    })
}

// ---------------------------------------------------------------------------
// Products

/// The instrument and level a product type stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// OLCI Level-2 water (`OL_2_WFR___`, `OL_2_WRR___`).
    OlciWater,
    /// OLCI Level-2 land (`OL_2_LFR___`, `OL_2_LRR___`).
    OlciLand,
    /// SLSTR Level-1 radiances and brightness temperatures (`SL_1_RBT___`).
    SlstrRbt,
    /// SLSTR Level-2 land surface temperature (`SL_2_LST___`).
    SlstrLst,
    /// Any other Sentinel-3 product (synergy, altimetry, OLCI L1...).
    Other,
}

/// A Sentinel-3 product: its name and the netCDF files of its SEN3 folder
/// (paths GDAL opens).
#[derive(Debug, Clone)]
pub struct Sen3 {
    /// The name without `.SEN3`/`.zip`.
    pub name: String,
    /// The 11-character product type, e.g. `OL_2_WFR___`.
    pub product_type: String,
    /// The sensing start, from the name.
    pub start: NaiveDateTime,
    files: Vec<String>,
}

/// The product a Sentinel-3 netCDF file says it belongs to: ESA writes
/// the global attribute `product_name` (`S3A_OL_2_WFR____…SEN3`) in every
/// file, so a renamed folder or a subset keeps its identity.
fn product_name_inside(file: &str) -> Option<String> {
    use gdal::Metadata;
    let dataset = crate::gdal::dataset::open(file).ok()?;
    dataset
        .metadata_domain("")
        .unwrap_or_default()
        .into_iter()
        .find_map(|entry| {
            entry
                .strip_prefix("NC_GLOBAL#product_name=")
                .map(str::to_string)
        })
}

impl Sen3 {
    /// The product called `name` (a SEN3 folder or zip name) whose netCDF
    /// files are `files`.
    pub fn new(name: &str, files: Vec<String>) -> Result<Sen3, S3Error> {
        let stem = name
            .trim_end_matches('/')
            .trim_end_matches(".zip")
            .trim_end_matches(".SEN3");
        let not_s3 = || {
            invalid(
                format!("\"{name}\" is not a Sentinel-3 product name"),
                "give a product found with ens_find(#{ mission: \"Sentinel-3\", ... }), e.g. S3A_OL_2_WFR____20200206T...",
            )
        };
        if !(stem.starts_with("S3A_") || stem.starts_with("S3B_") || stem.starts_with("S3_"))
            || stem.len() < 31
        {
            return Err(not_s3());
        }
        let product_type = stem.get(4..15).ok_or_else(not_s3)?.to_string();
        let start = stem
            .get(16..31)
            .and_then(|t| NaiveDateTime::parse_from_str(t, "%Y%m%dT%H%M%S").ok())
            .ok_or_else(not_s3)?;
        Ok(Sen3 {
            name: stem.to_string(),
            product_type,
            start,
            files,
        })
    }

    /// The product at `path`: its folder (`….SEN3`, or the `….zip`
    /// folder ENS mounts), its zip file, or one of its netCDF files (then
    /// the folder holding it).
    pub fn open(path: &str) -> Result<Sen3, S3Error> {
        let path = path.trim_end_matches('/');
        let folder = if path.ends_with(".nc") {
            path.rsplit_once('/').map_or(path, |(parent, _)| parent)
        } else {
            path
        };
        let product = EnsProduct::at(Path::new(folder)).map_err(|e| {
            invalid(
                e.to_string(),
                "give the product folder (….SEN3 or ….zip), its zip file, or a product from ens_find",
            )
        })?;
        let files = product.files("*.nc").map_err(|e| {
            invalid(
                e.to_string(),
                "the product may be incomplete: download it again",
            )
        })?;
        if files.is_empty() {
            return Err(invalid(
                format!("{} holds no netCDF files", product.name()),
                "a Sentinel-3 product is a SEN3 folder of .nc files: check the path",
            ));
        }
        // The name inside the folder (the .SEN3) is the product's own name;
        // the outer folder may be renamed. A subset from a service may be
        // renamed whole: its files still say which product they come from.
        let name = files[0]
            .split('/')
            .find(|part| part.ends_with(".SEN3"))
            .unwrap_or(product.name())
            .to_string();
        let stem = crate::ens::name_stem(&name);
        match Sen3::new(stem, files.clone()) {
            Err(not_named) => match product_name_inside(&files[0]) {
                Some(inside) => Sen3::new(crate::ens::name_stem(&inside), files),
                None => Err(not_named),
            },
            named => named,
        }
    }

    /// What kind of product this is.
    pub fn family(&self) -> Family {
        match self.product_type.as_str() {
            "OL_2_WFR___" | "OL_2_WRR___" => Family::OlciWater,
            "OL_2_LFR___" | "OL_2_LRR___" => Family::OlciLand,
            "SL_1_RBT___" => Family::SlstrRbt,
            "SL_2_LST___" => Family::SlstrLst,
            _ => Family::Other,
        }
    }

    /// The sensing day, `YYYY-MM-DD`.
    pub fn date(&self) -> String {
        self.start.format("%Y-%m-%d").to_string()
    }

    /// The netCDF files of the product (their paths).
    pub fn files(&self) -> &[String] {
        &self.files
    }

    /// The path of the file called `file_name`, if the product has it.
    fn file(&self, file_name: &str) -> Option<&str> {
        self.files
            .iter()
            .find(|f| f.rsplit('/').next() == Some(file_name))
            .map(String::as_str)
    }

    fn required_file(&self, file_name: &str) -> Result<&str, S3Error> {
        self.file(file_name).ok_or_else(|| {
            invalid(
                format!("{} has no {file_name}", self.name),
                "the product is incomplete: download it again, or pick another date",
            )
        })
    }

    /// The data variables of every file (coordinates, flags and
    /// uncertainties included), sorted.
    pub fn variables(&self) -> Result<Vec<String>, S3Error> {
        let mut names = Vec::new();
        for file in &self.files {
            names.extend(NcFile::open(file)?.arrays());
        }
        names.sort();
        names.dedup();
        Ok(names)
    }

    /// The file holding `variable`: `<variable>.nc` (any case), a known
    /// file, else the first file that has it. Missing: an error listing
    /// the variables the product has.
    fn file_with(&self, variable: &str) -> Result<&str, S3Error> {
        let lower = format!("{}.nc", variable.to_ascii_lowercase());
        let direct = self.files.iter().find(|f| {
            f.rsplit('/')
                .next()
                .is_some_and(|n| n.eq_ignore_ascii_case(&lower))
        });
        if let Some(file) = direct {
            return Ok(file);
        }
        for file in &self.files {
            if NcFile::open(file)?.arrays().iter().any(|a| a == variable) {
                return Ok(file);
            }
        }
        Err(invalid(
            format!("{} has no variable {variable}", self.name),
            format!(
                "the {} product has: {}",
                self.product_type.trim_end_matches('_'),
                self.variables()?.join(", ")
            ),
        ))
    }

    fn expect(&self, families: &[Family], what: &str) -> Result<(), S3Error> {
        if families.contains(&self.family()) {
            return Ok(());
        }
        Err(invalid(
            format!(
                "{} is a {} product, not {what}",
                self.name,
                self.product_type.trim_end_matches('_')
            ),
            format!(
                "search for {what} products, e.g. ens_find(#{{ mission: \"Sentinel-3\", product_type: \"{}\" }})",
                match families.first() {
                    Some(Family::OlciWater) => "OL_2_WFR___",
                    Some(Family::OlciLand) => "OL_2_LFR___",
                    Some(Family::SlstrRbt) => "SL_1_RBT___",
                    Some(Family::SlstrLst) => "SL_2_LST___",
                    _ => "...",
                }
            ),
        ))
    }
}

// ---------------------------------------------------------------------------
// Reading netCDF variables (GDAL's multidimensional API, which keeps the
// 64-bit flag words whole)

/// A flag variable's `(meaning, mask)` pairs.
type FlagTable = Vec<(String, u64)>;

/// An open netCDF file.
struct NcFile {
    path: String,
    dataset: Dataset,
}

/// A variable's physical values (fill as NaN, scale and offset applied),
/// its unit and whether it is stored as log10.
struct Values {
    data: Vec<f64>,
    unit: String,
    log10: bool,
}

impl NcFile {
    fn open(path: &str) -> Result<NcFile, S3Error> {
        let options = DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
            ..Default::default()
        };
        let dataset = crate::gdal::dataset::open_ex(path, options)
            .map_err(|e| S3Error::Raster(RasterError::opening(path, e)))?;
        Ok(NcFile {
            path: path.to_string(),
            dataset,
        })
    }

    fn arrays(&self) -> Vec<String> {
        self.dataset
            .root_group()
            .map(|g| g.array_names(Default::default()))
            .unwrap_or_default()
    }

    /// Reads `name` whole as `T`, with a reader of its attributes.
    fn read<T: Copy + gdal::raster::GdalType, R>(
        &self,
        name: &str,
        attributes: impl FnOnce(&gdal::raster::MDArray) -> R,
    ) -> Result<(Vec<T>, R), S3Error> {
        let fail = |e: gdal::errors::GdalError| unreadable(&self.path, e);
        let root = self.dataset.root_group().map_err(fail)?;
        let array = root.open_md_array(name, Default::default()).map_err(|_| {
            invalid(
                format!("{} has no variable {name}", short(&self.path)),
                format!("it has: {}", self.arrays().join(", ")),
            )
        })?;
        let shape: Vec<usize> = array
            .dimensions()
            .map_err(fail)?
            .iter()
            .map(|d| d.size())
            .collect();
        let values = array
            .read_as::<T>(vec![0; shape.len()], shape)
            .map_err(fail)?;
        Ok((values, attributes(&array)))
    }

    /// A variable's physical values.
    fn values(&self, name: &str) -> Result<Values, S3Error> {
        let (raw, (fill, scale, offset, unit, log10)) = self.read::<f64, _>(name, |a| {
            let number = |key: &str| a.attribute(key).ok().map(|v| v.read_as_f64());
            let text = |key: &str| a.attribute(key).ok().map(|v| v.read_as_string());
            let unit = text("units").unwrap_or_default();
            let log10 =
                text("log10_scaled").is_some_and(|t| t.trim() == "true") || unit.starts_with("lg(");
            (
                number("_FillValue"),
                number("scale_factor").unwrap_or(1.0),
                number("add_offset").unwrap_or(0.0),
                unit,
                log10,
            )
        })?;
        let data = raw
            .into_iter()
            .map(|v| {
                let missing =
                    v.is_nan() || fill.is_some_and(|f| f == v || (f.is_nan() && v.is_nan()));
                if missing {
                    f64::NAN
                } else {
                    v * scale + offset
                }
            })
            .collect();
        Ok(Values { data, unit, log10 })
    }

    /// A flag variable's words and its table of `(meaning, mask)`.
    fn flags(&self, name: &str) -> Result<(Vec<u64>, FlagTable), S3Error> {
        let (words, (masks, meanings)) = self.read::<u64, _>(name, |a| {
            let masks = a
                .attribute("flag_masks")
                .map(|m| m.read_as_f64_array())
                .unwrap_or_default();
            let meanings = a
                .attribute("flag_meanings")
                .map(|m| m.read_as_string())
                .unwrap_or_default();
            (masks, meanings)
        })?;
        let table: FlagTable = meanings
            .split_whitespace()
            .zip(masks)
            .map(|(n, m)| (n.to_string(), m as u64))
            .collect();
        if table.is_empty() {
            return Err(invalid(
                format!(
                    "{name} in {} has no flag_masks/flag_meanings",
                    short(&self.path)
                ),
                "this file does not describe its flags: open the variable without a mask",
            ));
        }
        Ok((words, table))
    }
}

fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Longitudes and latitudes of a coordinate file as f32, as a swath keeps
/// them (computed in f64 from the stored integers first, so a point's
/// position is exactly the one the product means).
fn coordinates(file: &NcFile, lon: &str, lat: &str) -> Result<(Vec<f32>, Vec<f32>), S3Error> {
    let as_f32 = |v: Values| v.data.into_iter().map(|x| x as f32).collect::<Vec<f32>>();
    Ok((as_f32(file.values(lon)?), as_f32(file.values(lat)?)))
}

/// The points of parallel arrays inside `bounds` (all when None), as a swath.
fn swath_of(
    lon: Vec<f32>,
    lat: Vec<f32>,
    values: Vec<f32>,
    unit: &str,
    bounds: Option<Bounds>,
    budget: &Arc<MemoryBudget>,
) -> Result<Swath, S3Error> {
    if lon.len() != values.len() || lat.len() != values.len() {
        return Err(invalid(
            format!(
                "the coordinates ({} points) and the values ({}) do not match",
                lon.len(),
                values.len()
            ),
            "the variable is on another grid than these coordinates: check its grid suffix (_in, _io, _an...)",
        ));
    }
    let keep: Vec<usize> = match bounds {
        None => (0..values.len()).collect(),
        Some((x0, y0, x1, y1)) => (0..values.len())
            .filter(|&i| {
                let (x, y) = (f64::from(lon[i]), f64::from(lat[i]));
                x >= x0 && x <= x1 && y >= y0 && y <= y1
            })
            .collect(),
    };
    let pick = |v: &[f32]| keep.iter().map(|&i| v[i]).collect::<Vec<f32>>();
    let mut swath = Swath::new(pick(&lon), pick(&lat), pick(&values), None, budget)?;
    swath.unit = unit.to_string();
    Ok(swath)
}

// ---------------------------------------------------------------------------
// OLCI Level 2

/// The OLCI variables CLEOPE offered (its `switcher`) and their files.
pub const OLCI_VARIABLES: [(&str, &str, Family); 7] = [
    ("TSM_NN", "tsm_nn.nc", Family::OlciWater),
    ("CHL_OC4ME", "chl_oc4me.nc", Family::OlciWater),
    ("CHL_NN", "chl_nn.nc", Family::OlciWater),
    ("IWV", "iwv.nc", Family::OlciWater),
    ("OTCI", "otci.nc", Family::OlciLand),
    ("OGVI", "ogvi.nc", Family::OlciLand),
    ("IWV", "iwv.nc", Family::OlciLand),
];

/// The water flags every water product masks (ESA's recommended flags for
/// Level-2 water products): no value, land, cloud and its margins, ice,
/// suspect or saturated radiances, low sun, glint and whitecaps.
const WATER_MASK: [&str; 11] = [
    "INVALID",
    "LAND",
    "CLOUD",
    "CLOUD_AMBIGUOUS",
    "CLOUD_MARGIN",
    "SNOW_ICE",
    "SUSPECT",
    "HISOLZEN",
    "SATURATED",
    "HIGHGLINT",
    "WHITECAPS",
];

/// The land flags the vegetation indices mask: no value, water, cloud and
/// its margins, snow, saturated radiances.
const LAND_MASK: [&str; 7] = [
    "INVALID",
    "WATER",
    "CLOUD",
    "CLOUD_AMBIGUOUS",
    "CLOUD_MARGIN",
    "SNOW_ICE",
    "SATURATED",
];

/// The flags masked by default for an OLCI variable: the common set plus
/// the failure flag of the algorithm that made it.
pub fn default_mask(family: Family, variable: &str) -> Vec<String> {
    let upper = variable.to_ascii_uppercase();
    let (common, own): (&[&str], Vec<&str>) = match family {
        Family::OlciWater => {
            let own = if upper == "IWV" {
                vec!["WV_FAIL"]
            } else if upper.ends_with("_NN") {
                vec!["OCNN_FAIL"]
            } else if upper.contains("OC4ME") {
                vec!["OC4ME_FAIL"]
            } else if upper.starts_with("KD") {
                vec!["KDM_FAIL"]
            } else {
                vec!["AC_FAIL"]
            };
            if upper == "IWV" {
                (&["INVALID", "CLOUD"][..], own)
            } else {
                (&WATER_MASK[..], own)
            }
        }
        Family::OlciLand => match upper.as_str() {
            "OGVI" => (&LAND_MASK[..], vec!["OGVI_FAIL"]),
            "OTCI" => (&LAND_MASK[..], vec!["OTCI_FAIL", "OTCI_BAD_IN"]),
            _ => (&["INVALID", "CLOUD"][..], vec!["WV_FAIL"]),
        },
        _ => (&[][..], vec![]),
    };
    common
        .iter()
        .chain(own.iter())
        .map(|s| s.to_string())
        .collect()
}

/// How to open an OLCI variable.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OlciOptions {
    /// Flag names whose pixels are left out; None: [`default_mask`].
    pub mask: Option<Vec<String>>,
    /// Keep log10-stored values as stored (CLEOPE did) instead of de-logging.
    pub keep_log10: bool,
    /// Keep only the points inside (lon_min, lat_min, lon_max, lat_max).
    pub bounds: Option<Bounds>,
}

/// The flags file and variable of an OLCI product.
fn flag_source(family: Family) -> (&'static str, &'static str) {
    match family {
        Family::OlciLand => ("lqsf.nc", "LQSF"),
        _ => ("wqsf.nc", "WQSF"),
    }
}

/// The flag names of an OLCI product (from its WQSF or LQSF table).
pub fn olci_flags(product: &Sen3) -> Result<Vec<String>, S3Error> {
    product.expect(&[Family::OlciWater, Family::OlciLand], "an OLCI Level-2")?;
    let (file, variable) = flag_source(product.family());
    let (_, table) = NcFile::open(product.required_file(file)?)?.flags(variable)?;
    Ok(table.into_iter().map(|(n, _)| n).collect())
}

/// The bits of the flags `names`, checked against the product's table.
fn mask_bits(names: &[String], table: &[(String, u64)], product: &Sen3) -> Result<u64, S3Error> {
    let mut bits = 0;
    for name in names {
        let found = table.iter().find(|(n, _)| n.eq_ignore_ascii_case(name));
        match found {
            Some((_, mask)) => bits |= mask,
            None => {
                return Err(invalid(
                    format!("{} has no quality flag {name}", product.name),
                    format!(
                        "its flags are: {}",
                        table
                            .iter()
                            .map(|(n, _)| n.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                ));
            }
        }
    }
    Ok(bits)
}

/// The unit of a de-logged variable: `lg(re g.m-3)` → `g.m-3`.
fn delogged_unit(unit: &str) -> String {
    unit.strip_prefix("lg(")
        .map(|u| u.trim_end_matches(')').trim_start_matches("re ").trim())
        .unwrap_or(unit)
        .to_string()
}

/// Opens `variable` of an OLCI Level-2 product as a swath on its
/// geo-coordinates: scale factor applied, flagged pixels missing, log10
/// products de-logged (unless asked not to), clipped to `bounds`.
pub fn olci_swath(
    product: &Sen3,
    variable: &str,
    options: &OlciOptions,
    budget: &Arc<MemoryBudget>,
) -> Result<Swath, S3Error> {
    product.expect(&[Family::OlciWater, Family::OlciLand], "an OLCI Level-2")?;
    let family = product.family();
    let known = OLCI_VARIABLES
        .iter()
        .find(|(v, _, f)| v.eq_ignore_ascii_case(variable) && *f == family);
    let (name, file) = match known {
        Some((v, file, _)) => (v.to_string(), product.required_file(file)?),
        None => {
            let other_family = OLCI_VARIABLES
                .iter()
                .find(|(v, _, _)| v.eq_ignore_ascii_case(variable));
            if let Some((v, _, f)) = other_family {
                let kind = if *f == Family::OlciLand {
                    "land (OL_2_LFR___)"
                } else {
                    "water (OL_2_WFR___)"
                };
                return Err(invalid(
                    format!(
                        "{v} is in the {kind} products, not in {}",
                        product.product_type.trim_end_matches('_')
                    ),
                    format!("open {v} from a {kind} product"),
                ));
            }
            (variable.to_string(), product.file_with(variable)?)
        }
    };
    let values = NcFile::open(file)?.values(&name)?;
    let geo = NcFile::open(product.required_file("geo_coordinates.nc")?)?;
    let (lon, lat) = coordinates(&geo, "longitude", "latitude")?;
    let mask = options
        .mask
        .clone()
        .unwrap_or_else(|| default_mask(family, &name));
    let flags = if mask.is_empty() {
        None
    } else {
        let (flag_file, flag_var) = flag_source(family);
        let (words, table) = NcFile::open(product.required_file(flag_file)?)?.flags(flag_var)?;
        Some((words, mask_bits(&mask, &table, product)?))
    };
    let delog = values.log10 && !options.keep_log10;
    let unit = if delog {
        delogged_unit(&values.unit)
    } else if values.unit.is_empty() {
        name.clone()
    } else {
        values.unit.clone()
    };
    let data: Vec<f32> = values
        .data
        .iter()
        .enumerate()
        .map(|(i, &v)| {
            let flagged = flags.as_ref().is_some_and(|(w, bits)| w[i] & bits != 0);
            if flagged {
                f32::NAN
            } else if delog {
                10f64.powf(v) as f32
            } else {
                v as f32
            }
        })
        .collect();
    swath_of(lon, lat, data, &unit, options.bounds, budget)
}

/// OLCI `variable` of every product gridded onto one lon/lat grid (the
/// request fixes bounds and resolution), in sensing order and dated
/// `YYYY-MM-DD`: each date with its own time (CLEOPE's second panel
/// reused the first date, inventory §6 quirk 13). `options.bounds` is
/// ignored: the request's bounds (plus the search distance) clip.
pub fn olci_stack(
    products: &[Sen3],
    variable: &str,
    options: &OlciOptions,
    request: &GridRequest,
    compute: &Compute,
) -> Result<Stack, S3Error> {
    if products.is_empty() {
        return Err(invalid(
            "there are no OLCI products to stack",
            "check the search: ens_find returned nothing for your area and dates",
        ));
    }
    let mut ordered: Vec<&Sen3> = products.iter().collect();
    ordered.sort_by_key(|p| p.start);
    let (x0, y0, x1, y1) = request.bounds;
    let m = request.max_distance;
    let clipped = OlciOptions {
        bounds: Some((x0 - m, y0 - m, x1 + m, y1 + m)),
        ..options.clone()
    };
    let mut layers = Vec::with_capacity(ordered.len());
    let mut dates = Vec::with_capacity(ordered.len());
    for product in ordered {
        let swath = olci_swath(product, variable, &clipped, compute.budget)?;
        if swath.valid_points() == 0 {
            return Err(invalid(
                format!(
                    "{} has no valid {variable} inside {:?}",
                    product.name, request.bounds
                ),
                "the area is outside the frame, masked or cloudy on this date: leave the product out",
            ));
        }
        layers.push(swath.grid(request, compute)?);
        dates.push(product.date());
    }
    Ok(Stack::new(layers, Some(dates))?)
}

// ---------------------------------------------------------------------------
// SLSTR

/// The grid suffixes of SLSTR variables (nadir/oblique, 1 km/500 m, stripes).
const SLSTR_GRIDS: [&str; 12] = [
    "in", "io", "an", "ao", "bn", "bo", "cn", "co", "fn", "fo", "tn", "to",
];

/// The grid a SLSTR variable is on (`S9_BT_in` → `in`); `in` when unsuffixed.
fn slstr_grid(variable: &str) -> &str {
    variable
        .rsplit_once('_')
        .map(|(_, s)| s)
        .filter(|s| SLSTR_GRIDS.contains(s))
        .unwrap_or("in")
}

/// How to open a SLSTR variable.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SlstrOptions {
    /// Keep only the points inside (lon_min, lat_min, lon_max, lat_max).
    pub bounds: Option<Bounds>,
    /// Kelvin to degrees Celsius.
    pub celsius: bool,
}

/// Opens `variable` of a SLSTR product (e.g. `S9_BT_in` of an RBT, `LST`
/// of an LST product) as a swath on its geodetic coordinates
/// (`geodetic_<grid>.nc`), scale and offset applied.
pub fn slstr_swath(
    product: &Sen3,
    variable: &str,
    options: &SlstrOptions,
    budget: &Arc<MemoryBudget>,
) -> Result<Swath, S3Error> {
    product.expect(&[Family::SlstrRbt, Family::SlstrLst], "a SLSTR")?;
    let file = product.file_with(variable)?;
    let values = NcFile::open(file)?.values(variable)?;
    let grid = slstr_grid(variable);
    let geodetic = NcFile::open(product.required_file(&format!("geodetic_{grid}.nc"))?)?;
    let (lon, lat) = coordinates(
        &geodetic,
        &format!("longitude_{grid}"),
        &format!("latitude_{grid}"),
    )?;
    let celsius = options.celsius;
    if celsius && values.unit != "K" {
        return Err(invalid(
            format!("{variable} is in {:?}, not kelvin", values.unit),
            "convert only temperatures (brightness temperature, LST) to °C",
        ));
    }
    let data = values
        .data
        .iter()
        .map(|&v| {
            if celsius {
                (v - 273.15) as f32
            } else {
                v as f32
            }
        })
        .collect();
    let unit = if celsius { "°C" } else { values.unit.as_str() };
    swath_of(lon, lat, data, unit, options.bounds, budget)
}

/// The most values [`values_of`] hands out: small variables (per-detector
/// uncertainties, calibration tables), not images.
pub const MAX_VALUES: usize = 100_000;

/// The values of any variable of a product, scale and offset applied and
/// fill values as NaN, with its unit: for the small ones, such as SLSTR's
/// per-detector `S9_radiometric_uncertainty_in` (CLEOPE's `uncertainity`).
pub fn values_of(product: &Sen3, variable: &str) -> Result<(Vec<f64>, String), S3Error> {
    let file = NcFile::open(product.file_with(variable)?)?;
    let values = file.values(variable)?;
    if values.data.len() > MAX_VALUES {
        return Err(invalid(
            format!(
                "{variable} has {} values, too many to list",
                values.data.len()
            ),
            "open images as swaths: s3_olci or s3_slstr",
        ));
    }
    Ok((values.data, values.unit))
}

/// The default brightness-temperature variable: the 12 µm channel (S9) on
/// the 1 km nadir grid, as CLEOPE read it.
pub const S9_NADIR: &str = "S9_BT_in";

/// CLEOPE's `apply_diff`: the pixel-wise median of the reference nights
/// (before the event) and each event night's difference from it, all
/// gridded with `request` (which fixes bounds and resolution, so every
/// night lands on the same cells).
pub struct Anomalies {
    /// The median of the reference nights (K).
    pub reference: Raster,
    /// Each event night minus the reference (K), dated.
    pub differences: Stack,
}

/// A SLSTR product's variable clipped to the request's bounds and gridded.
pub fn slstr_grid_of(
    product: &Sen3,
    variable: &str,
    request: &GridRequest,
    compute: &Compute,
) -> Result<Raster, S3Error> {
    let (x0, y0, x1, y1) = request.bounds;
    // A margin of the search distance keeps the edge cells interpolated.
    let m = request.max_distance;
    let options = SlstrOptions {
        bounds: Some((x0 - m, y0 - m, x1 + m, y1 + m)),
        celsius: false,
    };
    let swath = slstr_swath(product, variable, &options, compute.budget)?;
    if swath.valid_points() == 0 {
        return Err(invalid(
            format!(
                "{} has no valid {variable} inside {:?}",
                product.name, request.bounds
            ),
            "the swath misses the area on this date: leave the product out",
        ));
    }
    Ok(swath.grid(request, compute)?)
}

/// The anomaly maps of `events` against the median of `references`.
pub fn anomalies(
    references: &[Sen3],
    events: &[Sen3],
    variable: &str,
    request: &GridRequest,
    compute: &Compute,
) -> Result<Anomalies, S3Error> {
    if references.is_empty() || events.is_empty() {
        return Err(invalid(
            "the anomaly maps need reference products and event products",
            "give the nights before the event as references and the nights of the event as events",
        ));
    }
    let grids = |products: &[Sen3]| {
        products
            .iter()
            .map(|p| slstr_grid_of(p, variable, request, compute))
            .collect::<Result<Vec<_>, _>>()
    };
    let reference = Raster::reduce(&grids(references)?, Reduction::Median)?;
    let mut differences = Vec::new();
    for (event, layer) in events.iter().zip(grids(events)?) {
        let mut difference = layer.binary(Binary::Subtract, &reference)?;
        difference.unit = "K".into();
        differences.push((event.date(), difference));
    }
    let (dates, layers): (Vec<String>, Vec<Raster>) = differences.into_iter().unzip();
    Ok(Anomalies {
        reference,
        differences: Stack::new(layers, Some(dates))?,
    })
}

/// Where a map goes past a threshold: how many cells, their area, and the
/// map's extreme (its maximum for hot spots, its minimum for cold ones)
/// with its position.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Hotspots {
    /// Cells past the threshold.
    pub pixels: usize,
    /// Their area (km², each cell's area at its latitude).
    pub area_km2: f64,
    /// The map's extreme value: the highest for [`hotspots`], the lowest
    /// for [`cold_spots`].
    pub max: f64,
    /// Where it is (lon, lat of the cell centre).
    pub at: (f64, f64),
}

/// Kilometres per degree of latitude.
const KM_PER_DEGREE: f64 = 111.32;

/// The cells of a lon/lat raster above `threshold` (the fire pixels of an
/// anomaly map), with the map's maximum.
pub fn hotspots(map: &Raster, threshold: f64, compute: &Compute) -> Result<Hotspots, S3Error> {
    beyond(map, compute, |value| value > threshold, |a, b| a > b)
}

/// The cells of a lon/lat raster below `threshold` (the cold top of an
/// eruption plume on a brightness-temperature map), with the map's
/// minimum in `max`.
pub fn cold_spots(map: &Raster, threshold: f64, compute: &Compute) -> Result<Hotspots, S3Error> {
    beyond(map, compute, |value| value < threshold, |a, b| a < b)
}

/// Counts the valid cells `selected` keeps and finds the extreme value
/// `better` prefers.
fn beyond(
    map: &Raster,
    compute: &Compute,
    selected: impl Fn(f64) -> bool,
    better: impl Fn(f64, f64) -> bool,
) -> Result<Hotspots, S3Error> {
    let grid = map.grid().clone();
    if !crate::raster::crs::is_geographic(&grid.crs) {
        return Err(invalid(
            "the map is not on a lon/lat grid",
            "grid the swath (s3_bt_grid, grid) or reproject the raster to EPSG:4326 first",
        ));
    }
    let plane = compute.plane(map)?;
    let t = grid.transform.0;
    let centre = |col: usize, row: usize| {
        (
            t[0] + (col as f64 + 0.5) * t[1] + (row as f64 + 0.5) * t[2],
            t[3] + (col as f64 + 0.5) * t[4] + (row as f64 + 0.5) * t[5],
        )
    };
    let cell_km2 = |lat: f64| {
        (t[1].abs() * KM_PER_DEGREE) * (t[5].abs() * KM_PER_DEGREE) * lat.to_radians().cos()
    };
    let mut spots = Hotspots {
        pixels: 0,
        area_km2: 0.0,
        max: f64::NAN,
        at: (f64::NAN, f64::NAN),
    };
    for row in 0..plane.height {
        for col in 0..plane.width {
            let value = f64::from(plane.values[row * plane.width + col]);
            if value.is_nan() {
                continue;
            }
            let (lon, lat) = centre(col, row);
            if spots.max.is_nan() || better(value, spots.max) {
                spots.max = value;
                spots.at = (lon, lat);
            }
            if selected(value) {
                spots.pixels += 1;
                spots.area_km2 += cell_km2(lat);
            }
        }
    }
    if spots.max.is_nan() {
        return Err(invalid(
            "the map has no valid cells",
            "check that the products cover the area",
        ));
    }
    Ok(spots)
}
