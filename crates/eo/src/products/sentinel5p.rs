//! Sentinel-5P TROPOMI Level-2 products, as CLEOPE's
//! `data_processing_S5P` used them: one netCDF-4 file per orbit (inside a
//! zip on ONDA, bare on CDSE) whose `PRODUCT` group holds the species'
//! column, `latitude`/`longitude` and `qa_value` over (time, scanline,
//! ground_pixel). A product opens as an [`L2`]; [`L2::read`] gives the
//! retrievals in an area as a [`Swath`], filtered by quality and converted
//! to the unit asked for, ready to be gridded, mosaicked or averaged.
//!
//! Departures from CLEOPE (inventory §6, quirk 12): one reader instead of
//! two (`read` and `read_dataset` disagreed on bounds order and units), the
//! area test is inclusive on every side, the quality filter is on by
//! default at each species' recommended threshold (ESA's Product User
//! Manuals: 0.75 for NO2, 0.5 for the others), and conversion factors are
//! read from the variable's own attributes, with a clear error where one
//! does not exist (CH4 is a mixing ratio: it has no molecules/cm² factor).

use crate::ens::{EnsProduct, name_stem};
use crate::gdal::dataset::OpenError;
use crate::raster::{Bounds, RasterError};
use crate::swath::Swath;
use cleope_sandbox::MemoryBudget;
use gdal::Metadata;
use std::path::Path;
use std::sync::Arc;

/// Why a Sentinel-5P product or request cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum S5pError {
    /// The product or request is not usable; `hint` says what to do.
    #[error("{message}")]
    Product { message: String, hint: String },
    #[error(transparent)]
    Raster(#[from] RasterError),
}

impl S5pError {
    fn product(message: impl Into<String>, hint: impl Into<String>) -> S5pError {
        S5pError::Product {
            message: message.into(),
            hint: hint.into(),
        }
    }
}

/// A species TROPOMI retrieves, with its Level-2 product and variable
/// (CLEOPE's `L2_variables`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Species {
    Co,
    No2,
    So2,
    Hcho,
    Ch4,
    O3,
}

impl Species {
    /// Every species, in CLEOPE's order.
    pub const ALL: [Species; 6] = [
        Species::Co,
        Species::Hcho,
        Species::Ch4,
        Species::So2,
        Species::No2,
        Species::O3,
    ];

    /// The short name scripts use: `"CO"`, `"NO2"`...
    pub fn key(self) -> &'static str {
        match self {
            Species::Co => "CO",
            Species::No2 => "NO2",
            Species::So2 => "SO2",
            Species::Hcho => "HCHO",
            Species::Ch4 => "CH4",
            Species::O3 => "O3",
        }
    }

    /// The variable of the `PRODUCT` group holding the species' column.
    pub fn variable(self) -> &'static str {
        match self {
            Species::Co => "carbonmonoxide_total_column",
            Species::No2 => "nitrogendioxide_tropospheric_column",
            Species::So2 => "sulfurdioxide_total_vertical_column",
            Species::Hcho => "formaldehyde_tropospheric_vertical_column",
            Species::Ch4 => "methane_mixing_ratio",
            Species::O3 => "ozone_total_vertical_column",
        }
    }

    /// The quality threshold the Product User Manual recommends for maps
    /// and averages (`qa_value` at least this).
    pub fn recommended_qa(self) -> f64 {
        match self {
            Species::No2 => 0.75,
            _ => 0.5,
        }
    }

    /// The species a script names: its key in any case (`"no2"`) or its
    /// variable name.
    pub fn named(name: &str) -> Option<Species> {
        Species::ALL
            .into_iter()
            .find(|s| s.key().eq_ignore_ascii_case(name) || s.variable() == name)
    }

    /// The species of a product name, from its type token (`L2__NO2___`).
    pub fn of_product(name: &str) -> Option<Species> {
        let product_type = name.get(9..19)?;
        let key = product_type.strip_prefix("L2__")?.trim_end_matches('_');
        Species::named(key)
    }
}

/// The units a column can be read in.
#[derive(Debug, Clone, PartialEq)]
pub enum Unit {
    /// As stored: mol m-2 for columns, 1e-9 (ppb) for CH4.
    Native,
    /// Scaled from mol m-2 by a power of ten: mmol m-2 (1e3), µmol m-2 (1e6).
    MolPerM2 { factor: f64, label: &'static str },
    /// Converted with one of the variable's `multiplication_factor_to_convert_to_*`
    /// attributes (`molecules_percm2`, `DU`).
    ProductFactor {
        attribute: &'static str,
        label: &'static str,
    },
}

impl Unit {
    /// The unit a script names.
    pub fn named(name: &str) -> Result<Unit, S5pError> {
        let unit = match name {
            "native" | "mol/m2" | "mol m-2" => Unit::Native,
            "mmol/m2" | "mmol m-2" => Unit::MolPerM2 {
                factor: 1e3,
                label: "mmol m-2",
            },
            "umol/m2" | "µmol/m2" | "umol m-2" | "µmol m-2" => Unit::MolPerM2 {
                factor: 1e6,
                label: "µmol m-2",
            },
            "molecules/cm2" | "molec/cm2" | "molecules cm-2" => Unit::ProductFactor {
                attribute: "molecules_percm2",
                label: "molecules cm-2",
            },
            "DU" | "du" => Unit::ProductFactor {
                attribute: "DU",
                label: "DU",
            },
            other => {
                return Err(S5pError::product(
                    format!("`{other}` is not a unit for Sentinel-5P columns"),
                    "use \"mol/m2\" (as stored), \"mmol/m2\", \"umol/m2\", \"molecules/cm2\" or \"DU\"",
                ));
            }
        };
        Ok(unit)
    }
}

/// A Sentinel-5P Level-2 product: its netCDF file and what it says of itself.
#[derive(Debug, Clone)]
pub struct L2 {
    /// The product name (without `.zip`/`.nc`).
    pub name: String,
    /// The netCDF file (a path GDAL opens, `/vsizip/…` for a zip read in place).
    pub file: String,
    pub species: Species,
    /// The column's unit as stored (`mol m-2`, or `1e-9` for CH4).
    pub unit: String,
    /// The variable's conversion factors, e.g. `("molecules_percm2", 6.02214e19)`.
    pub factors: Vec<(String, f64)>,
    /// `time_coverage_start` and `_end` (UTC, ISO 8601).
    pub time_start: String,
    pub time_end: String,
    pub orbit: Option<i64>,
    pub processor_version: String,
}

/// Which retrievals to read and how: an area (lon/lat bounds, inclusive),
/// the lowest quality kept (`None`: the species' recommended threshold;
/// `Some(0.0)` keeps all) and the unit.
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub bounds: Option<Bounds>,
    pub qa: Option<f64>,
    pub unit: Unit,
}

impl L2 {
    /// Opens the product at `path`: a product folder or zip holding the
    /// `.nc`, or the `.nc` itself.
    pub fn open(path: &str) -> Result<L2, S5pError> {
        let file = netcdf_file(path)?;
        let name = name_stem(
            Path::new(&file)
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or(""),
        )
        .trim_end_matches(".nc")
        .to_string();
        let species = match Species::of_product(&name) {
            Some(species) => species,
            // Clipped or renamed files keep the groups, not the name.
            None => species_in(&file, &name)?,
        };
        let dataset = crate::gdal::dataset::open(netcdf_path(&file, species.variable())).map_err(
            |e| match e {
                OpenError::NotAllowed(refusal) => RasterError::FormatNotAllowed(refusal).into(),
                OpenError::Unavailable(unavailable) => RasterError::from(unavailable).into(),
                OpenError::Remote(failure) => RasterError::from(failure).into(),
                OpenError::Gdal(e) => S5pError::product(
                    format!(
                        "{name} has no readable /PRODUCT/{}: {e}",
                        species.variable()
                    ),
                    "the product may be incomplete: download it again",
                ),
            },
        )?;
        let attribute = |key: &str| dataset.metadata_item(key, "");
        let variable = |key: &str| attribute(&format!("/PRODUCT/{}#{key}", species.variable()));
        let factors = ["molecules_percm2", "DU"]
            .into_iter()
            .filter_map(|kind| {
                let value = variable(&format!("multiplication_factor_to_convert_to_{kind}"))?;
                Some((kind.to_string(), value.trim().parse::<f64>().ok()?))
            })
            .collect();
        Ok(L2 {
            unit: variable("units").unwrap_or_default(),
            factors,
            time_start: attribute("NC_GLOBAL#time_coverage_start").unwrap_or_default(),
            time_end: attribute("NC_GLOBAL#time_coverage_end").unwrap_or_default(),
            orbit: attribute("NC_GLOBAL#orbit").and_then(|o| o.trim().parse().ok()),
            processor_version: attribute("NC_GLOBAL#processor_version").unwrap_or_default(),
            name,
            file,
            species,
        })
    }

    /// The sensing date, `YYYY-MM-DD` (from the name when the file has no
    /// `time_coverage_start`).
    pub fn date(&self) -> String {
        if self.time_start.len() >= 10 {
            return self.time_start[..10].to_string();
        }
        let stamp = self.name.get(20..28).unwrap_or("");
        format!(
            "{}-{}-{}",
            stamp.get(..4).unwrap_or(""),
            stamp.get(4..6).unwrap_or(""),
            stamp.get(6..).unwrap_or("")
        )
    }

    /// A GDAL path to a variable of the `PRODUCT` group.
    pub fn variable_path(&self, variable: &str) -> String {
        netcdf_path(&self.file, variable)
    }

    /// The retrievals `request` asks for, as a swath in its unit.
    pub fn read(
        &self,
        request: &ReadRequest,
        budget: &Arc<MemoryBudget>,
    ) -> Result<Swath, S5pError> {
        let (factor, label) = self.conversion(&request.unit)?;
        let all = Swath::read(
            &self.variable_path(self.species.variable()),
            &self.variable_path("longitude"),
            &self.variable_path("latitude"),
            Some(&self.variable_path("qa_value")),
            budget,
        )?;
        let clipped = match request.bounds {
            Some(bounds) => all.clip(bounds, budget)?,
            None => all,
        };
        let minimum = request.qa.unwrap_or(self.species.recommended_qa());
        // qa_value is stored in hundredths: compare with half a step of
        // slack so that 75 x 0.01 read as 0.7499999 still passes 0.75.
        let good = clipped.filter_quality(minimum - 0.005, budget)?;
        Ok(if factor == 1.0 && label == self.unit {
            good
        } else {
            good.scaled(factor, &label, budget)?
        })
    }

    /// The factor and label that convert the stored column to `unit`.
    fn conversion(&self, unit: &Unit) -> Result<(f64, String), S5pError> {
        match unit {
            Unit::Native => Ok((1.0, self.unit.clone())),
            Unit::MolPerM2 { factor, label } => {
                if self.unit == "mol m-2" {
                    Ok((*factor, label.to_string()))
                } else {
                    Err(self.no_conversion(label))
                }
            }
            Unit::ProductFactor { attribute, label } => self
                .factors
                .iter()
                .find(|(kind, _)| kind == attribute)
                .map(|(_, factor)| (*factor, label.to_string()))
                .ok_or_else(|| self.no_conversion(label)),
        }
    }

    fn no_conversion(&self, label: &str) -> S5pError {
        let found: Vec<&str> = self.factors.iter().map(|(k, _)| k.as_str()).collect();
        S5pError::product(
            format!(
                "{} ({}) is stored in `{}` and cannot be converted to {label}",
                self.species.key(),
                self.species.variable(),
                self.unit
            ),
            if found.is_empty() {
                "read it as stored with unit \"native\"".to_string()
            } else {
                format!(
                    "read it as stored (\"native\") or with one of its factors: {}",
                    found.join(", ")
                )
            },
        )
    }
}

/// The mean of a swath's valid values and how many there are; with
/// `positive_only`, of the values above zero only, as CLEOPE's time series
/// took them (retrieval noise makes clean-air columns slightly negative).
pub fn area_mean(swath: &Swath, positive_only: bool) -> (f64, usize) {
    let kept = swath
        .values()
        .iter()
        .filter(|v| v.is_finite() && (!positive_only || **v > 0.0));
    let (sum, count) = kept.fold((0.0, 0usize), |(sum, n), v| (sum + f64::from(*v), n + 1));
    if count == 0 {
        (f64::NAN, 0)
    } else {
        (sum / count as f64, count)
    }
}

/// The species of a Level-2 file recognised by its content: the column
/// variable its `PRODUCT` group holds.
fn species_in(file: &str, name: &str) -> Result<Species, S5pError> {
    let variables = crate::netcdf::cf::variables(file)?;
    let holds = |species: &Species| {
        let wanted = format!("/PRODUCT/{}", species.variable());
        variables.contains(&wanted)
    };
    Species::ALL.into_iter().find(holds).ok_or_else(|| {
        let expected: Vec<String> = Species::ALL
            .iter()
            .map(|s| format!("/PRODUCT/{}", s.variable()))
            .collect();
        let found = if variables.is_empty() {
            "no variables".to_string()
        } else {
            variables.join(", ")
        };
        S5pError::product(
            format!(
                "{name} is not a Sentinel-5P Level-2 product of a known species: it holds {found}, \
                 none of {}",
                expected.join(", ")
            ),
            "give an S5P L2 product (CO, NO2, SO2, HCHO, CH4 or O3) or a clip of one that keeps its PRODUCT group",
        )
    })
}

/// `NETCDF:"file":/PRODUCT/variable`.
fn netcdf_path(file: &str, variable: &str) -> String {
    format!("NETCDF:\"{file}\":/PRODUCT/{variable}")
}

/// The netCDF file of a product given as a folder, a zip or the file.
fn netcdf_file(path: &str) -> Result<String, S5pError> {
    if path.ends_with(".nc") && Path::new(path).is_file() {
        return Ok(path.to_string());
    }
    let product = EnsProduct::at(Path::new(path)).map_err(|e| {
        S5pError::product(
            e.to_string(),
            "give the product folder, its zip file or its .nc file",
        )
    })?;
    product.file("*.nc").map_err(|e| {
        S5pError::product(
            e.to_string(),
            "a Sentinel-5P product holds one netCDF file: download it again if it is missing",
        )
    })
}
