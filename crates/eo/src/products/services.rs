//! Copernicus service products, as CLEOPE's `cams`, `cmems` and `cgls`
//! modules used them: what their names say, where ENS keeps them, how a
//! date range is sampled, and how each opens as a raster with its scale
//! factor, flags and unit.
//!
//! | service | product | ENS folder | file |
//! | --- | --- | --- | --- |
//! | CAMS | analysis surface fields, one species per file | `Copernicus-atmosphere/ANALYSIS/SURFACE_FIELDS/<code>/YYYY/MM/DD` | `z_cams_c_ecmf_<YYYYMMDDHH>0000_prod_an_sfc_000_<code>.nc` |
//! | CMEMS | GMPE global SST L4 | `Copernicus-marine/SST_GLO_SST_L4_NRT_OBSERVATIONS_010_005/METOFFICE-GLO-SST-L4-NRT-OBS-GMPE-V3/YYYY/MM/DD` | `<YYYYMMDD>120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0.nc` |
//! | CGLS | NDVI, FAPAR, FCOVER, LAI (1 km, 10-daily) | `Copernicus-land/<VAR>/YYYY/MM/DD` | `c_gls_<VAR>_<YYYYMMDD>0000_GLOBE_PROBAV_V<version>.nc` |
//! | CGLS | DMP GeoTIFF (10-daily, per region) | `Copernicus-land/DMP/YYYY/MM/01` | `g2_BIOPAR_DMP_<YYYYMMDD>0000_<REGION>_PROBAV_V1.0.zip/<stem>/<stem>_DMP.tiff` |
//!
//! Departures from CLEOPE (inventory §6): date sampling stops at the end
//! date instead of one step past it; monthly steps are calendar months (so
//! monthly samples fall on the same day of each month) rather than 30 days;
//! CAMS longitudes (0 to 360 in the files) are shown from -180 to 180 so
//! maps get coastlines and bounds read as usual; CGLS flag values above the
//! valid range are masked instead of read as vegetation; DMP values are
//! scaled to kg/ha/day and stacked by the product's nominal date.

use crate::raster::{Binary, Raster, RasterError};
use chrono::{Datelike, Months, NaiveDate, NaiveDateTime, NaiveTime};

/// At most this many time steps are loaded (CLEOPE's `limit`), so a stack
/// stays within the Free tier's memory.
pub const LIMIT: usize = 30;

/// A failure a learner can fix: what went wrong and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A value that does not name a species, date, step or product.
    #[error("{message}")]
    Invalid {
        /// What is wrong.
        message: String,
        /// How to fix it.
        hint: String,
    },
    /// The file could not be read as a raster.
    #[error(transparent)]
    Raster(#[from] RasterError),
}

fn invalid(message: impl Into<String>, hint: impl Into<String>) -> ServiceError {
    ServiceError::Invalid {
        message: message.into(),
        hint: hint.into(),
    }
}

/// The last part of a path (or the name itself), without folders.
fn base_name(path: &str) -> &str {
    path.trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(path)
}

// ---------------------------------------------------------------------------
// Date sampling (CLEOPE's `dates_list`)

/// How far apart the sampled dates are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Every n days ("D", "7 D"; "W" is 7 days).
    Days(u32),
    /// Every n calendar months ("M", "2 M"), on the start's day of the month
    /// (the month's last day when it is shorter).
    Months(u32),
}

impl Step {
    /// Reads `D`, `W` or `M`, optionally after a whole number: `"M"`,
    /// `"3 D"`, `"2W"`.
    pub fn parse(text: &str) -> Result<Step, ServiceError> {
        let text = text.trim();
        let digits: String = text.chars().take_while(|c| c.is_ascii_digit()).collect();
        let unit = text[digits.len()..].trim();
        let bad = || {
            invalid(
                format!("\"{text}\" is not a sampling step"),
                "write D (daily), W (weekly) or M (monthly), optionally after a number: \"M\", \"3 D\", \"2 W\"",
            )
        };
        let count: u32 = if digits.is_empty() {
            1
        } else {
            digits.parse().map_err(|_| bad())?
        };
        if count == 0 {
            return Err(bad());
        }
        match unit.to_ascii_uppercase().as_str() {
            "D" => Ok(Step::Days(count)),
            "W" => Ok(Step::Days(count * 7)),
            "M" => Ok(Step::Months(count)),
            _ => Err(bad()),
        }
    }

    fn nth(self, start: NaiveDate, n: u32) -> Option<NaiveDate> {
        match self {
            Step::Days(days) => start.checked_add_days(chrono::Days::new(u64::from(days * n))),
            Step::Months(months) => start.checked_add_months(Months::new(months * n)),
        }
    }
}

/// The dates of a sampled range and what was adjusted on the way.
#[derive(Debug, Clone, PartialEq)]
pub struct Sampled {
    /// The dates, oldest first (at most [`LIMIT`]).
    pub dates: Vec<NaiveDate>,
    /// The end date was in the future and was replaced by this day.
    pub end_clamped: Option<NaiveDate>,
    /// How many of the oldest dates were left out to keep [`LIMIT`].
    pub dropped: usize,
}

/// Dates from `from` every `step` up to `to` (included), never past
/// `today`; the most recent [`LIMIT`] are kept.
pub fn sample_dates(
    from: NaiveDate,
    to: NaiveDate,
    step: Step,
    today: NaiveDate,
) -> Result<Sampled, ServiceError> {
    if from > to {
        return Err(invalid(
            format!("the range starts on {from}, after its end {to}"),
            "give the start date first, e.g. (\"2019-12-15\", \"2020-04-15\")",
        ));
    }
    if from > today {
        return Err(invalid(
            format!("the range starts on {from}, in the future"),
            "products exist only up to today: choose an earlier start",
        ));
    }
    let end_clamped = (to > today).then_some(today);
    let end = to.min(today);
    let mut dates = Vec::new();
    let mut n = 0;
    while let Some(date) = step.nth(from, n).filter(|d| *d <= end) {
        dates.push(date);
        n += 1;
    }
    let dropped = dates.len().saturating_sub(LIMIT);
    dates.drain(..dropped);
    Ok(Sampled {
        dates,
        end_clamped,
        dropped,
    })
}

/// Reads `YYYY-MM-DD` (also `YYYY/MM/DD`, as CLEOPE's logs wrote it).
pub fn parse_date(text: &str) -> Result<NaiveDate, ServiceError> {
    let text = text.trim();
    let day = text.get(..10).unwrap_or(text).replace('/', "-");
    NaiveDate::parse_from_str(&day, "%Y-%m-%d").map_err(|_| {
        invalid(
            format!("\"{text}\" is not a date"),
            "write dates as \"YYYY-MM-DD\", e.g. \"2020-01-15\"",
        )
    })
}

// ---------------------------------------------------------------------------
// CAMS

/// One of the 13 total-column species of the CAMS analysis.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Species {
    /// The parameter's short name, also the variable and the file suffix: `tcco`.
    pub code: &'static str,
    /// The element as CLEOPE's dropdown named it: `carbon_monoxide`.
    pub name: &'static str,
    /// The variable's `long_name`.
    pub long_name: &'static str,
}

const fn species(code: &'static str, name: &'static str, long_name: &'static str) -> Species {
    Species {
        code,
        name,
        long_name,
    }
}

/// The total-column species CLEOPE offered, in its order.
pub const CAMS_SPECIES: [Species; 13] = [
    species("tcno2", "nitrogen_dioxide", "Total column nitrogen dioxide"),
    species("tcco", "carbon_monoxide", "Total column carbon monoxide"),
    species("tcso2", "sulfur_dioxide", "Total column sulphur dioxide"),
    species("tc_ch4", "methane", "Total column methane"),
    species("tc_c2h6", "ethane", "Total column ethane"),
    species("tc_c3h8", "propane", "Total column propane"),
    species("tc_c5h8", "isoprene", "Total column isoprene"),
    species(
        "tc_h2o2",
        "hydrogen_peroxide",
        "Total column hydrogen peroxide",
    ),
    species("tchcho", "formaldehyde", "Total column formaldehyde"),
    species("tc_hno3", "nitric_acid", "Total column nitric acid"),
    species(
        "tc_no",
        "nitrogen_monoxide",
        "Total column nitrogen monoxide",
    ),
    species("tc_oh", "hydroxide", "Total column hydroxyl radical"),
    species(
        "tc_pan",
        "peroxyacyl_nitrates",
        "Total column peroxyacetyl nitrate",
    ),
];

/// The unit of every CAMS total column.
pub const CAMS_UNITS: &str = "kg m**-2";

/// The species named by its code (`tcco`) or element (`carbon_monoxide`,
/// `carbon monoxide`), in any case.
pub fn cams_species(text: &str) -> Result<&'static Species, ServiceError> {
    let wanted = text.trim().to_ascii_lowercase().replace(' ', "_");
    CAMS_SPECIES
        .iter()
        .find(|s| s.code == wanted || s.name == wanted)
        .ok_or_else(|| {
            let codes: Vec<&str> = CAMS_SPECIES.iter().map(|s| s.code).collect();
            invalid(
                format!("\"{text}\" is not one of the CAMS total-column species"),
                format!(
                    "use a code ({}) or an element such as \"carbon_monoxide\"",
                    codes.join(", ")
                ),
            )
        })
}

/// Where ENS keeps the CAMS analysis surface fields.
pub const CAMS_FOLDER: &str = "Copernicus-atmosphere/ANALYSIS/SURFACE_FIELDS";

/// The ENS folder of one species and day: `…/SURFACE_FIELDS/tcco/2020/01/15`.
pub fn cams_pseudopath(code: &str, date: NaiveDate) -> String {
    format!("{CAMS_FOLDER}/{code}/{}", date.format("%Y/%m/%d"))
}

/// The analysis file of one species at one time (hours 00 or 12).
pub fn cams_file_name(code: &str, time: NaiveDateTime) -> String {
    format!(
        "z_cams_c_ecmf_{}0000_prod_an_sfc_000_{code}.nc",
        time.format("%Y%m%d%H")
    )
}

/// What a CAMS file name says.
#[derive(Debug, Clone, PartialEq)]
pub struct CamsName {
    /// The analysis (or forecast base) time.
    pub time: NaiveDateTime,
    /// `an` (analysis) or `fc` (forecast).
    pub kind: String,
    /// The forecast step in hours (000 for analyses).
    pub step: u32,
    /// The parameter: the variable in the file.
    pub code: String,
}

/// Reads `z_cams_c_ecmf_<YYYYMMDDHHMMSS>_prod_<an|fc>_<sfc|pl|ml>_<step>_<param>.nc`.
pub fn parse_cams_name(path: &str) -> Result<CamsName, ServiceError> {
    let name = base_name(path);
    let bad = |problem: &str| {
        invalid(
            format!("\"{name}\" is not a CAMS file name: {problem}"),
            "CAMS files are named z_cams_c_ecmf_<YYYYMMDDHHMMSS>_prod_an_sfc_000_<species>.nc",
        )
    };
    let stem = name
        .strip_prefix("z_cams_c_ecmf_")
        .and_then(|s| s.strip_suffix(".nc"))
        .ok_or_else(|| bad("it does not start with z_cams_c_ecmf_ and end with .nc"))?;
    let parts: Vec<&str> = stem.splitn(6, '_').collect();
    let [time, _prod, kind, _levels, step, code] = parts[..] else {
        return Err(bad("it has too few parts"));
    };
    let time = NaiveDateTime::parse_from_str(time, "%Y%m%d%H%M%S")
        .map_err(|_| bad("the time is not YYYYMMDDHHMMSS"))?;
    let step = step.parse().map_err(|_| bad("the step is not a number"))?;
    Ok(CamsName {
        time,
        kind: kind.to_string(),
        step,
        code: code.to_string(),
    })
}

/// Reads the analysis hours to use: 0, 12 or both (CLEOPE's "GMT 00:00" and
/// "GMT 12:00" boxes; none ticked meant both).
pub fn cams_hours(hours: &[i64]) -> Result<Vec<u32>, ServiceError> {
    if hours.is_empty() {
        return Ok(vec![0, 12]);
    }
    let mut chosen = Vec::new();
    for &hour in hours {
        match hour {
            0 | 12 => {
                if !chosen.contains(&(hour as u32)) {
                    chosen.push(hour as u32);
                }
            }
            _ => {
                return Err(invalid(
                    format!("the CAMS analysis has no {hour}:00 UTC field"),
                    "choose 0, 12 or both: [0], [12] or [0, 12]",
                ));
            }
        }
    }
    chosen.sort();
    Ok(chosen)
}

/// The time steps chosen among files: one per sampled date and hour.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Selection {
    /// (time, path) pairs, oldest first, at most [`LIMIT`].
    pub chosen: Vec<(NaiveDateTime, String)>,
    /// Times asked for that no file holds.
    pub missing: Vec<NaiveDateTime>,
    /// How many of the oldest steps were left out to keep [`LIMIT`].
    pub dropped: usize,
}

/// Picks, among `files` (paths of one family), the one holding each wanted
/// time; `time_of` reads a file's time from its path (None: not a product
/// of this family, ignored).
pub fn select_times(
    files: &[String],
    wanted: &[NaiveDateTime],
    time_of: impl Fn(&str) -> Option<NaiveDateTime>,
) -> Selection {
    let dated: Vec<(NaiveDateTime, &String)> = files
        .iter()
        .filter_map(|f| Some((time_of(f)?, f)))
        .collect();
    let mut selection = Selection::default();
    for &time in wanted {
        match dated.iter().find(|(t, _)| *t == time) {
            Some((_, path)) => selection.chosen.push((time, path.to_string())),
            None => selection.missing.push(time),
        }
    }
    selection.chosen.sort();
    selection.dropped = selection.chosen.len().saturating_sub(LIMIT);
    selection.chosen.drain(..selection.dropped);
    selection
}

/// The CAMS files of species `code` at the sampled `dates` and `hours`.
pub fn select_cams(files: &[String], code: &str, dates: &[NaiveDate], hours: &[u32]) -> Selection {
    let wanted: Vec<NaiveDateTime> = dates
        .iter()
        .flat_map(|d| {
            hours
                .iter()
                .map(|h| d.and_time(NaiveTime::from_hms_opt(*h, 0, 0).unwrap()))
        })
        .collect();
    select_times(files, &wanted, |path| {
        parse_cams_name(path)
            .ok()
            .filter(|n| n.code == code && n.kind == "an")
            .map(|n| n.time)
    })
}

/// The variables of a netCDF file, for recognising it by its content.
fn variables_of(path: &str) -> Result<Vec<String>, ServiceError> {
    let variables = crate::netcdf::cf::variables(path)?;
    if variables.is_empty() {
        // A file of one variable offers no subdatasets: GDAL names it on its band.
        return Ok(crate::netcdf::cf::single_variable_of(path)?);
    }
    Ok(variables)
}

/// The CAMS species a file holds, recognised by its variables (whatever
/// the file is called: the ADS names regional and downloaded files freely).
pub fn cams_code_in(path: &str) -> Result<&'static str, ServiceError> {
    let variables = variables_of(path)?;
    CAMS_SPECIES
        .iter()
        .map(|s| s.code)
        .find(|code| variables.iter().any(|v| v == code))
        .ok_or_else(|| {
            let codes: Vec<&str> = CAMS_SPECIES.iter().map(|s| s.code).collect();
            invalid(
                format!(
                    "{} is not a CAMS total-column file: it holds {}, none of the species ({})",
                    base_name(path),
                    variables.join(", "),
                    codes.join(", ")
                ),
                "open another variable with open_raster(path, variable)",
            )
        })
}

/// The sea surface temperature variables cleope recognises: GHRSST L4
/// (GMPE, OSTIA, …) and NOAA OISST.
pub const SST_VARIABLES: [&str; 2] = ["analysed_sst", "sst"];

/// The SST variable a file holds, recognised by its content.
pub fn sst_variable_in(path: &str) -> Result<&'static str, ServiceError> {
    let variables = variables_of(path)?;
    SST_VARIABLES
        .into_iter()
        .find(|wanted| variables.iter().any(|v| v == wanted))
        .ok_or_else(|| {
            invalid(
                format!(
                    "{} is not a sea surface temperature analysis: it holds {}, not {}",
                    base_name(path),
                    variables.join(", "),
                    SST_VARIABLES.join(" or ")
                ),
                "gmpe_open reads GHRSST L4 (analysed_sst) and NOAA OISST (sst) files",
            )
        })
}

/// The day of an SST analysis: from its GHRSST name, else from its first
/// CF time (any file name).
pub fn sst_date(path: &str) -> Result<NaiveDate, ServiceError> {
    if let Ok(date) = parse_gmpe_date(path) {
        return Ok(date);
    }
    let variable = sst_variable_in(path)?;
    let bands = crate::netcdf::cf::bands(path, variable)?;
    bands
        .first()
        .and_then(|band| band.coordinates.iter().find(|(name, _)| name == "time"))
        .and_then(|(_, time)| NaiveDate::parse_from_str(time.get(..10)?, "%Y-%m-%d").ok())
        .ok_or_else(|| {
            invalid(
                format!("{} has no time coordinate to date it by", base_name(path)),
                "GHRSST files are dated by name (<YYYYMMDD>…-L4_GHRSST-…nc) or by a CF time variable",
            )
        })
}

/// A GDAL path to one variable of a netCDF file.
fn netcdf_variable(path: &str, variable: &str) -> String {
    format!("NETCDF:\"{path}\":{variable}")
}

/// Opens species `code` of a CAMS analysis file, its first time step, as
/// a raster in kg m**-2 with longitudes from -180 to 180.
pub fn open_cams(path: &str, code: &str) -> Result<Raster, ServiceError> {
    let source = netcdf_variable(path, code);
    let mut raster = open_lonlat(&source)?;
    if raster.unit.is_empty() {
        raster.unit = CAMS_UNITS.to_string();
    }
    Ok(raster)
}

/// Band 1 of a lon/lat grid, in WGS 84 when the file declares no CRS and
/// from -180 to 180 degrees east (see [`crate::netcdf::cf`]).
fn open_lonlat(source: &str) -> Result<Raster, ServiceError> {
    Ok(crate::netcdf::cf::open_lonlat(source, 1)?)
}

// ---------------------------------------------------------------------------
// CMEMS

/// Where ENS keeps the GMPE global SST analyses.
pub const GMPE_FOLDER: &str = "Copernicus-marine/SST_GLO_SST_L4_NRT_OBSERVATIONS_010_005/METOFFICE-GLO-SST-L4-NRT-OBS-GMPE-V3";

/// The CMEMS dataset identifier (the catalogue's product type).
pub const GMPE_DATASET: &str = "METOFFICE-GLO-SST-L4-NRT-OBS-GMPE-V3";

/// The ENS folder of one day's analysis.
pub fn gmpe_pseudopath(date: NaiveDate) -> String {
    format!("{GMPE_FOLDER}/{}", date.format("%Y/%m/%d"))
}

/// The GHRSST file name of one day's analysis (valid at 12:00 UTC).
pub fn gmpe_file_name(date: NaiveDate) -> String {
    format!(
        "{}120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0.nc",
        date.format("%Y%m%d")
    )
}

/// The day of a GHRSST L4 file (`<YYYYMMDDHHMMSS>-<centre>-L4_GHRSST-…nc`).
pub fn parse_gmpe_date(path: &str) -> Result<NaiveDate, ServiceError> {
    let name = base_name(path);
    let is_l4 = name.contains("-L4_GHRSST-") && name.ends_with(".nc");
    name.get(..8)
        .filter(|_| is_l4)
        .and_then(|day| NaiveDate::parse_from_str(day, "%Y%m%d").ok())
        .ok_or_else(|| {
            invalid(
                format!("\"{name}\" is not a GHRSST L4 SST file name"),
                "GMPE files are named <YYYYMMDD>120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0.nc",
            )
        })
}

/// The GMPE files at the sampled `dates` (one per day).
pub fn select_gmpe(files: &[String], dates: &[NaiveDate]) -> Selection {
    let wanted: Vec<NaiveDateTime> = dates.iter().map(|d| d.and_time(NaiveTime::MIN)).collect();
    select_times(files, &wanted, |path| {
        parse_gmpe_date(path)
            .ok()
            .map(|d| d.and_time(NaiveTime::MIN))
    })
}

/// Opens `analysed_sst` of a GHRSST L4 file (kelvin; land and ice-free
/// gaps are missing).
pub fn open_gmpe(path: &str) -> Result<Raster, ServiceError> {
    let variable = sst_variable_in(path)?;
    let mut raster = open_lonlat(&netcdf_variable(path, variable))?;
    if raster.unit.is_empty() || raster.unit == "kelvin" {
        raster.unit = "K".to_string();
    }
    Ok(raster)
}

/// The Mediterranean Sea, drawn for cleope: a ring (lon, lat) hugging the
/// coast from the land side, closed at the Strait of Gibraltar (5.55° W)
/// and across the Dardanelles, so it holds the whole sea (Adriatic and
/// Aegean included) and no Atlantic, Marmara or Black Sea water. Land
/// inside it is masked by the products themselves. The ring is open (its
/// last vertex joins the first).
pub const MEDSEA: [(f64, f64); 80] = [
    (-5.55, 35.75),
    (-5.3, 35.4),
    (-4.0, 35.0),
    (-2.2, 34.9),
    (0.0, 35.5),
    (2.0, 36.3),
    (5.0, 36.4),
    (8.0, 36.6),
    (9.8, 36.9),
    (10.3, 36.4),
    (10.2, 35.0),
    (9.8, 33.8),
    (11.5, 32.6),
    (13.5, 32.5),
    (15.3, 31.6),
    (17.5, 30.6),
    (19.5, 30.0),
    (20.3, 31.8),
    (22.0, 32.3),
    (23.5, 31.9),
    (25.0, 31.3),
    (27.0, 31.0),
    (29.0, 30.6),
    (31.0, 30.9),
    (32.3, 30.9),
    (34.2, 31.1),
    (35.0, 32.4),
    (35.6, 33.6),
    (36.1, 34.8),
    (36.2, 35.9),
    (36.4, 36.6),
    (35.6, 37.05),
    (34.0, 36.95),
    (32.5, 36.7),
    (30.7, 37.1),
    (29.5, 36.7),
    (28.6, 37.2),
    (27.6, 37.6),
    (27.3, 38.5),
    (27.3, 39.5),
    (26.7, 40.0),
    (26.35, 40.35),
    (26.1, 40.9),
    (24.5, 41.1),
    (23.0, 40.95),
    (22.4, 40.4),
    (22.7, 39.5),
    (21.5, 39.3),
    (20.8, 39.6),
    (20.0, 40.5),
    (19.8, 41.5),
    (19.4, 42.2),
    (18.6, 42.65),
    (17.3, 43.3),
    (16.1, 43.9),
    (15.3, 44.6),
    (14.7, 45.3),
    (14.0, 45.8),
    (13.0, 46.0),
    (12.3, 45.8),
    (11.0, 45.6),
    (9.0, 45.3),
    (8.3, 44.6),
    (7.2, 44.0),
    (6.0, 43.4),
    (4.8, 43.8),
    (3.3, 43.6),
    (2.6, 42.5),
    (2.8, 42.0),
    (1.8, 41.5),
    (0.5, 40.9),
    (-0.3, 39.9),
    (-0.5, 39.0),
    (-0.8, 38.3),
    (-1.6, 37.7),
    (-2.2, 37.0),
    (-3.5, 37.0),
    (-4.4, 36.9),
    (-5.2, 36.6),
    (-5.55, 36.3),
];

/// True when (lon, lat) lies inside `ring` (even-odd rule; the ring may or
/// may not repeat its first vertex).
pub fn ring_contains(ring: &[(f64, f64)], lon: f64, lat: f64) -> bool {
    let mut inside = false;
    let n = ring.len();
    for i in 0..n {
        let (x1, y1) = ring[i];
        let (x2, y2) = ring[(i + 1) % n];
        if (y1 > lat) != (y2 > lat) && lon < x1 + (lat - y1) / (y2 - y1) * (x2 - x1) {
            inside = !inside;
        }
    }
    inside
}

// ---------------------------------------------------------------------------
// CGLS

/// A Copernicus Global Land biophysical variable at 1 km.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LandVariable {
    /// The variable and file-name code: `NDVI`.
    pub code: &'static str,
    /// The name CLEOPE's dropdown used.
    pub name: &'static str,
    /// What it measures, for titles.
    pub title: &'static str,
    /// The unit of the physical value.
    pub units: &'static str,
}

/// The four 10-daily 1 km variables CLEOPE offered.
pub const CGLS_VARIABLES: [LandVariable; 4] = [
    LandVariable {
        code: "NDVI",
        name: "Normalized_Difference_Vegetation_Index",
        title: "Normalized Difference Vegetation Index",
        units: "-",
    },
    LandVariable {
        code: "FAPAR",
        name: "Frac_Absorbed_Photosynthetically_Active_Radiation_1km",
        title: "Fraction of Absorbed Photosynthetically Active Radiation",
        units: "-",
    },
    LandVariable {
        code: "FCOVER",
        name: "Fraction_green_Vegetation_Cover_1km",
        title: "Fraction of green Vegetation Cover",
        units: "-",
    },
    LandVariable {
        code: "LAI",
        name: "Leaf_Area_Index_1km",
        title: "Leaf Area Index",
        units: "m2/m2",
    },
];

/// The variable named by its code (`NDVI`) or CLEOPE's long name, any case.
pub fn land_variable(text: &str) -> Result<&'static LandVariable, ServiceError> {
    let wanted = text.trim();
    CGLS_VARIABLES
        .iter()
        .find(|v| v.code.eq_ignore_ascii_case(wanted) || v.name.eq_ignore_ascii_case(wanted))
        .ok_or_else(|| {
            invalid(
                format!("\"{text}\" is not a CGLS 1 km variable"),
                "choose NDVI, FAPAR, FCOVER or LAI",
            )
        })
}

/// Where ENS keeps a Copernicus Global Land variable.
pub fn cgls_folder(code: &str) -> String {
    format!("Copernicus-land/{code}")
}

/// What a CGLS file name says: `c_gls_<VAR>[-RTn]_<YYYYMMDDHHMM>_<AREA>_<SENSOR>_V<x.y.z>.nc`.
#[derive(Debug, Clone, PartialEq)]
pub struct CglsName {
    /// The variable: `NDVI`, `FAPAR`, `FCOVER`, `LAI`, `DMP`...
    pub code: String,
    /// The nominal date of the 10-day period.
    pub date: NaiveDate,
    /// The area (`GLOBE`, `EURO`...).
    pub area: String,
    /// The product version (`V2.2.1`).
    pub version: String,
}

/// Reads a CGLS netCDF file name.
pub fn parse_cgls_name(path: &str) -> Result<CglsName, ServiceError> {
    let name = base_name(path);
    let bad = || {
        invalid(
            format!("\"{name}\" is not a CGLS file name"),
            "CGLS files are named c_gls_<VAR>_<YYYYMMDDHHMM>_GLOBE_PROBAV_V<version>.nc, e.g. c_gls_NDVI_202005210000_GLOBE_PROBAV_V2.2.1.nc",
        )
    };
    let stem = name
        .strip_prefix("c_gls_")
        .and_then(|s| s.strip_suffix(".nc"))
        .ok_or_else(bad)?;
    let parts: Vec<&str> = stem.split('_').collect();
    let [variable, time, area, _sensor, version] = parts[..] else {
        return Err(bad());
    };
    let code = variable.split('-').next().unwrap_or(variable);
    let date = time
        .get(..8)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(bad)?;
    Ok(CglsName {
        code: code.to_string(),
        date,
        area: area.to_string(),
        version: version.to_string(),
    })
}

/// The last day of `date`'s month.
pub fn month_end(date: NaiveDate) -> NaiveDate {
    let first = date.with_day(1).unwrap();
    first
        .checked_add_months(Months::new(1))
        .and_then(|next| next.pred_opt())
        .unwrap_or(date)
}

/// The product of variable `code` that CLEOPE's `compose_pseudopath`
/// picked for `date`: the most recent of `date`'s month, or, when that
/// month has none, of the closest earlier month that has one. Returns the
/// path, its date and how many months back it had to go.
pub fn most_recent_cgls(
    files: &[String],
    code: &str,
    date: NaiveDate,
) -> Option<(String, NaiveDate, u32)> {
    let limit = month_end(date);
    let (path, found) = files
        .iter()
        .filter_map(|f| {
            let name = parse_cgls_name(f).ok()?;
            (name.code.eq_ignore_ascii_case(code) && name.date <= limit).then_some((f, name.date))
        })
        .max_by_key(|(_, d)| *d)?;
    let months_back =
        (date.year() - found.year()) * 12 + date.month() as i32 - found.month() as i32;
    Some((path.clone(), found, months_back.max(0) as u32))
}

/// Opens variable `code` of a CGLS netCDF file (scale factor applied); the
/// flag values above the valid range (cloud, snow, sea, missing) are
/// missing, not vegetation.
pub fn open_cgls(path: &str, code: &str) -> Result<Raster, ServiceError> {
    let source = netcdf_variable(path, code);
    let mut raster = open_lonlat(&source)?;
    if let Some(highest) = highest_valid_value(&source, code) {
        let valid = raster.with_scalar(Binary::LessOrEqual, highest as f32, false);
        let unit = raster.unit.clone();
        raster = raster.masked(&valid)?;
        raster.unit = unit;
    }
    if raster.unit.is_empty()
        && let Ok(variable) = land_variable(code)
    {
        raster.unit = variable.units.to_string();
    }
    Ok(raster)
}

/// The largest physical value the variable's `valid_range` (or
/// `valid_max`) allows, halfway to the next stored step so that rounding
/// never masks a valid pixel.
fn highest_valid_value(source: &str, code: &str) -> Option<f64> {
    use gdal::Metadata;
    let dataset = crate::gdal::dataset::open(source).ok()?;
    let band = dataset.rasterband(1).ok()?;
    let item = |key: &str| dataset.metadata_item(&format!("{code}#{key}"), "");
    let stored_max = match item("valid_range") {
        Some(range) => range
            .trim_matches(|c| c == '{' || c == '}')
            .split(',')
            .nth(1)?
            .trim()
            .parse::<f64>()
            .ok()?,
        None => item("valid_max")?.trim().parse::<f64>().ok()?,
    };
    let scale = band.scale().unwrap_or(1.0);
    let offset = band.offset().unwrap_or(0.0);
    Some((stored_max + 0.5) * scale + offset)
}

/// The unit DMP is given in.
pub const DMP_UNITS: &str = "kg/ha/day";

/// What a DMP product name says: `g2_BIOPAR_DMP_<YYYYMMDDHHMM>_<REGION>_PROBAV_V1.0`.
#[derive(Debug, Clone, PartialEq)]
pub struct DmpName {
    /// The nominal date of the 10-day period.
    pub date: NaiveDate,
    /// `EURO`, `ASIA`, `AFRI`...
    pub region: String,
}

/// Reads a DMP product, folder or GeoTIFF name (or a path ending in one).
pub fn parse_dmp_name(path: &str) -> Result<DmpName, ServiceError> {
    let name = path
        .trim_end_matches('/')
        .rsplit('/')
        .find(|part| part.starts_with("g2_BIOPAR_DMP_"))
        .unwrap_or(base_name(path));
    let bad = || {
        invalid(
            format!("\"{name}\" is not a CGLS DMP product name"),
            "DMP products are named g2_BIOPAR_DMP_<YYYYMMDDHHMM>_<REGION>_PROBAV_V1.0, e.g. g2_BIOPAR_DMP_202001010000_EURO_PROBAV_V1.0.zip",
        )
    };
    let rest = name.strip_prefix("g2_BIOPAR_DMP_").ok_or_else(bad)?;
    let mut parts = rest.split('_');
    let time = parts.next().ok_or_else(bad)?;
    let region = parts.next().ok_or_else(bad)?;
    let date = time
        .get(..8)
        .and_then(|d| NaiveDate::parse_from_str(d, "%Y%m%d").ok())
        .ok_or_else(bad)?;
    Ok(DmpName {
        date,
        region: region.to_string(),
    })
}

/// A DMP GeoTIFF opened: the raster in kg/ha/day and its `PRODUCT_TIME` tag.
#[derive(Debug, Clone)]
pub struct DmpLayer {
    /// Dry matter productivity, scaled to kg/ha/day.
    pub raster: Raster,
    /// The nominal date of the 10-day period (from the name): the stack's date.
    pub date: NaiveDate,
    /// The `PRODUCT_TIME` metadata tag, as written (when the product was made).
    pub product_time: Option<String>,
}

/// Opens a DMP GeoTIFF (a file, or a zip member through `/vsizip/`).
pub fn open_dmp(path: &str) -> Result<DmpLayer, ServiceError> {
    use gdal::Metadata;
    let name = parse_dmp_name(path)?;
    let dataset = crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
    let product_time = dataset.metadata_item("PRODUCT_TIME", "");
    let mut raster = Raster::open(path, 1)?;
    raster.unit = DMP_UNITS.to_string();
    Ok(DmpLayer {
        raster,
        date: name.date,
        product_time,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(text: &str) -> NaiveDate {
        parse_date(text).unwrap()
    }

    #[test]
    fn steps_read_units_and_multiples() {
        assert_eq!(Step::parse("D").unwrap(), Step::Days(1));
        assert_eq!(Step::parse("3 D").unwrap(), Step::Days(3));
        assert_eq!(Step::parse("2w").unwrap(), Step::Days(14));
        assert_eq!(Step::parse(" M ").unwrap(), Step::Months(1));
        assert_eq!(Step::parse("6 M").unwrap(), Step::Months(6));
        for bad in ["", "Y", "0 D", "M 3", "-1 D"] {
            let err = Step::parse(bad).unwrap_err().to_string();
            assert!(err.contains("not a sampling step"), "{bad}: {err}");
        }
    }

    #[test]
    fn monthly_samples_stop_at_the_end_date_on_the_same_day_of_each_month() {
        let today = day("2024-01-01");
        let sampled =
            sample_dates(day("2019-12-15"), day("2020-04-15"), Step::Months(1), today).unwrap();
        let dates: Vec<String> = sampled.dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            dates,
            [
                "2019-12-15",
                "2020-01-15",
                "2020-02-15",
                "2020-03-15",
                "2020-04-15"
            ]
        );
        assert_eq!(sampled.end_clamped, None);
        let month_ends =
            sample_dates(day("2020-01-31"), day("2020-04-30"), Step::Months(1), today).unwrap();
        let dates: Vec<String> = month_ends.dates.iter().map(|d| d.to_string()).collect();
        assert_eq!(
            dates,
            ["2020-01-31", "2020-02-29", "2020-03-31", "2020-04-30"]
        );
    }

    #[test]
    fn weekly_and_daily_samples_never_pass_the_end() {
        let today = day("2024-01-01");
        let weekly =
            sample_dates(day("2020-01-01"), day("2020-01-29"), Step::Days(7), today).unwrap();
        assert_eq!(weekly.dates.len(), 5);
        assert_eq!(weekly.dates.last().unwrap().to_string(), "2020-01-29");
        let every_3 =
            sample_dates(day("2020-01-01"), day("2020-01-09"), Step::Days(3), today).unwrap();
        assert_eq!(every_3.dates.last().unwrap().to_string(), "2020-01-07");
    }

    #[test]
    fn long_ranges_keep_the_last_30_and_future_ends_stop_today() {
        let today = day("2020-03-10");
        let sampled =
            sample_dates(day("2020-01-01"), day("2020-12-31"), Step::Days(1), today).unwrap();
        assert_eq!(sampled.end_clamped, Some(today));
        assert_eq!(sampled.dates.len(), LIMIT);
        assert_eq!(*sampled.dates.last().unwrap(), today);
        assert_eq!(sampled.dropped, 70 - LIMIT);
        let err =
            sample_dates(day("2020-02-01"), day("2020-01-01"), Step::Days(1), today).unwrap_err();
        assert!(err.to_string().contains("after its end"), "{err}");
    }

    #[test]
    fn species_are_found_by_code_or_element() {
        assert_eq!(cams_species("tcco").unwrap().name, "carbon_monoxide");
        assert_eq!(cams_species("Nitrogen dioxide").unwrap().code, "tcno2");
        assert_eq!(cams_species("formaldehyde").unwrap().code, "tchcho");
        let err = cams_species("ozone").unwrap_err();
        let ServiceError::Invalid { hint, .. } = err else {
            panic!("not an invalid value")
        };
        assert!(hint.contains("tc_pan"), "{hint}");
    }

    #[test]
    fn cams_names_round_trip() {
        let time = day("2020-01-15").and_hms_opt(12, 0, 0).unwrap();
        let name = cams_file_name("tc_ch4", time);
        assert_eq!(
            name,
            "z_cams_c_ecmf_20200115120000_prod_an_sfc_000_tc_ch4.nc"
        );
        let parsed = parse_cams_name(&format!("/arch/{}", name)).unwrap();
        assert_eq!(
            (parsed.time, parsed.code.as_str(), parsed.kind.as_str()),
            (time, "tc_ch4", "an")
        );
        let forecast =
            parse_cams_name("z_cams_c_ecmf_20190422120000_prod_fc_sfc_040_aod865.nc").unwrap();
        assert_eq!((forecast.step, forecast.kind.as_str()), (40, "fc"));
        assert!(parse_cams_name("S5P_OFFL_L2__CO_____.nc").is_err());
        assert_eq!(
            cams_pseudopath("tcco", day("2020-01-15")),
            "Copernicus-atmosphere/ANALYSIS/SURFACE_FIELDS/tcco/2020/01/15"
        );
    }

    #[test]
    fn cams_selection_reports_missing_times_and_keeps_the_limit() {
        let files: Vec<String> = ["2020-01-15", "2020-02-15"]
            .iter()
            .flat_map(|d| {
                [0, 12].map(|h| {
                    format!(
                        "/a/{}",
                        cams_file_name("tcco", day(d).and_hms_opt(h, 0, 0).unwrap())
                    )
                })
            })
            .chain([format!(
                "/a/{}",
                cams_file_name("tcno2", day("2020-03-15").and_hms_opt(0, 0, 0).unwrap())
            )])
            .collect();
        let dates = [day("2020-01-15"), day("2020-02-15"), day("2020-03-15")];
        let both = select_cams(&files, "tcco", &dates, &[0, 12]);
        assert_eq!(both.chosen.len(), 4);
        assert_eq!(both.missing.len(), 2, "March has only a tcno2 file");
        let noon = select_cams(&files, "tcco", &dates, &[12]);
        assert!(
            noon.chosen
                .iter()
                .all(|(t, p)| t.format("%H").to_string() == "12" && p.contains("12000"))
        );
        assert!(cams_hours(&[6]).is_err());
        assert_eq!(cams_hours(&[]).unwrap(), vec![0, 12]);
        let many: Vec<String> = (0..40)
            .map(|i| {
                cams_file_name(
                    "tcco",
                    (day("2020-01-01") + chrono::Days::new(i))
                        .and_hms_opt(0, 0, 0)
                        .unwrap(),
                )
            })
            .collect();
        let days: Vec<NaiveDate> = (0..40)
            .map(|i| day("2020-01-01") + chrono::Days::new(i))
            .collect();
        let limited = select_cams(&many, "tcco", &days, &[0]);
        assert_eq!((limited.chosen.len(), limited.dropped), (LIMIT, 10));
        assert_eq!(limited.chosen[0].0.date(), day("2020-01-11"));
    }

    #[test]
    fn gmpe_and_cgls_names_give_their_dates() {
        let name = gmpe_file_name(day("2019-08-01"));
        assert_eq!(
            name,
            "20190801120000-UKMO-L4_GHRSST-SSTfnd-GMPE-GLOB-v03.0-fv03.0.nc"
        );
        assert_eq!(parse_gmpe_date(&name).unwrap(), day("2019-08-01"));
        assert!(parse_gmpe_date("20190801-something.nc").is_err());
        let ndvi = parse_cgls_name("/x/c_gls_NDVI_202005210000_GLOBE_PROBAV_V2.2.1.nc").unwrap();
        assert_eq!(
            (ndvi.code.as_str(), ndvi.date, ndvi.version.as_str()),
            ("NDVI", day("2020-05-21"), "V2.2.1")
        );
        let rt = parse_cgls_name("c_gls_LAI-RT6_202005100000_GLOBE_PROBAV_V2.0.1.nc").unwrap();
        assert_eq!(rt.code, "LAI");
        let dmp = parse_dmp_name("/vsizip/x/g2_BIOPAR_DMP_202001010000_EURO_PROBAV_V1.0.zip/g2_BIOPAR_DMP_202001010000_EURO_PROBAV_V1.0/g2_BIOPAR_DMP_202001010000_EURO_PROBAV_V1.0_DMP.tiff").unwrap();
        assert_eq!((dmp.date, dmp.region.as_str()), (day("2020-01-01"), "EURO"));
        assert_eq!(land_variable("leaf_area_index_1km").unwrap().code, "LAI");
        assert!(land_variable("EVI").is_err());
    }

    #[test]
    fn the_most_recent_product_falls_back_month_by_month() {
        let files: Vec<String> = ["20200421", "20200501", "20200511", "20200521"]
            .iter()
            .map(|d| format!("c_gls_NDVI_{d}0000_GLOBE_PROBAV_V2.2.1.nc"))
            .chain(["c_gls_LAI_202005310000_GLOBE_PROBAV_V1.5.1.nc".to_string()])
            .collect();
        let (path, date, back) = most_recent_cgls(&files, "NDVI", day("2020-05-31")).unwrap();
        assert!(path.contains("20200521") && date == day("2020-05-21") && back == 0);
        let (_, date, back) = most_recent_cgls(&files, "NDVI", day("2020-08-15")).unwrap();
        assert_eq!((date, back), (day("2020-05-21"), 3));
        let (_, date, _) = most_recent_cgls(&files, "NDVI", day("2020-04-02")).unwrap();
        assert_eq!(
            date,
            day("2020-04-21"),
            "the whole month counts, not only the days before"
        );
        assert!(most_recent_cgls(&files, "NDVI", day("2020-03-31")).is_none());
        assert_eq!(month_end(day("2020-02-10")), day("2020-02-29"));
    }

    #[test]
    fn the_med_sea_outline_holds_the_sea_and_leaves_out_its_neighbours() {
        for (lon, lat, inside) in [
            (5.0, 40.0, true),   // Balearic Sea
            (18.0, 35.0, true),  // Ionian Sea
            (25.0, 38.0, true),  // Aegean
            (15.0, 43.0, true),  // Adriatic
            (33.0, 34.0, true),  // Levantine basin
            (-9.0, 37.0, false), // Atlantic off Portugal
            (31.0, 43.0, false), // Black Sea
            (28.0, 40.7, false), // Sea of Marmara
            (35.0, 27.0, false), // Red Sea
        ] {
            assert_eq!(ring_contains(&MEDSEA, lon, lat), inside, "({lon}, {lat})");
        }
    }

    #[test]
    fn a_0_to_360_grid_opens_from_minus_180() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("global.tif");
        let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
        let mut dataset = driver
            .create_with_band_type::<f32, _>(&path, 8, 3, 1)
            .unwrap();
        // 45-degree pixels centred on 0, 45, ..., 315 degrees east.
        dataset
            .set_geo_transform(&[-22.5, 45.0, 0.0, 67.5, 0.0, -45.0])
            .unwrap();
        let srs = gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap();
        dataset.set_spatial_ref(&srs).unwrap();
        let values: Vec<f32> = (0..24).map(|i| (i % 8) as f32 * 45.0).collect();
        let mut buffer = gdal::raster::Buffer::new((8, 3), values);
        dataset
            .rasterband(1)
            .unwrap()
            .write((0, 0), (8, 3), &mut buffer)
            .unwrap();
        drop(dataset);
        let raster = open_lonlat(path.to_str().unwrap()).unwrap();
        let t = raster.grid().transform.0;
        assert_eq!((t[0], raster.grid().width), (-202.5, 8));
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap();
        let budget = cleope_sandbox::MemoryBudget::new(1 << 30);
        let cancel = cleope_sandbox::Cancel::default();
        let compute = crate::raster::Compute {
            pool: &pool,
            budget: &budget,
            cancel: &cancel,
        };
        let plane = compute.plane(&raster).unwrap();
        // Centres now run -180, -135, ..., 135: the 180-degree column comes first.
        assert_eq!(
            &plane.values[..8],
            &[180.0, 225.0, 270.0, 315.0, 0.0, 45.0, 90.0, 135.0]
        );
    }
}
