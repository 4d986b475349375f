//! Reading gridded netCDF variables as rasters, by the CF conventions.
//!
//! GDAL's netCDF driver finds a variable's grid from its coordinate
//! variables and turns bottom-up (ascending latitude) files north-up, but it
//! gives no CRS when the file has no `grid_mapping`, which is how NOAA
//! OISST, regional CAMS and CMEMS files are written. Here a variable whose
//! two last dimensions are longitude and latitude — recognised by their
//! coordinate variables' `standard_name`, `units` or `axis`, never by their
//! names — is placed in WGS 84 lon/lat (EPSG:4326).
//!
//! Longitudes stored from 0 to 360 degrees east are brought into the
//! −180…180 range that lon/lat areas of interest use: a global grid has its
//! eastern half (180…360) moved west of Greenwich, a grid lying wholly
//! east of 180 is shifted by −360. So the Mediterranean (−6…36 E) and the
//! tropical Pacific (e.g. Niño 3.4, −170…−120) clip from a global
//! 0–360 grid. A regional grid that straddles 180 E (e.g. 100…290 E) keeps
//! its own longitudes, beyond 180, and is clipped with them.
//!
//! Every other dimension (time, depth) is a band, as GDAL numbers them: the
//! last extra dimension varies fastest. [`bands`] labels them with their
//! coordinate values, times decoded from their CF `units`.

use gdal::raster::MDArray;
use gdal::{DatasetOptions, GdalOpenFlags, Metadata};

use crate::raster::{Raster, RasterError};

/// What a coordinate variable measures, from its CF attributes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Axis {
    Longitude,
    Latitude,
    Time,
    Depth,
    Other,
}

/// A dimension of a variable and what its coordinate variable says of it.
#[derive(Debug, Clone)]
pub struct Dimension {
    pub name: String,
    pub axis: Axis,
    /// The coordinate values (empty when the dimension has no coordinate variable).
    pub values: Vec<f64>,
    /// The coordinate variable's `units` (e.g. `days since 1978-01-01 12:00:00`).
    pub units: String,
}

/// One band of a variable: its number (from 1) and the coordinates of the
/// extra dimensions it holds, e.g. `time = 2009-01-01T12:00:00`, `zlev = 0`.
#[derive(Debug, Clone, PartialEq)]
pub struct BandLabel {
    pub band: usize,
    /// `(dimension, value)`; times as ISO date-times when their units decode.
    pub coordinates: Vec<(String, String)>,
}

/// The axis a coordinate variable's attributes declare (CF 1.x §4).
fn axis_of(array: &MDArray) -> Axis {
    let text = |name: &str| {
        array
            .attribute(name)
            .map(|a| a.read_as_string().trim().to_string())
            .unwrap_or_default()
    };
    let standard_name = text("standard_name").to_ascii_lowercase();
    let units = text("units");
    let axis = text("axis").to_ascii_uppercase();
    let lower_units = units.to_ascii_lowercase();
    let is_any = |names: &[&str]| names.contains(&lower_units.as_str());
    if standard_name == "longitude"
        || is_any(&["degrees_east", "degree_east", "degree_e", "degrees_e"])
    {
        Axis::Longitude
    } else if standard_name == "latitude"
        || is_any(&["degrees_north", "degree_north", "degree_n", "degrees_n"])
    {
        Axis::Latitude
    } else if standard_name == "time" || axis == "T" || lower_units.contains(" since ") {
        Axis::Time
    } else if standard_name == "depth" || axis == "Z" {
        Axis::Depth
    } else {
        Axis::Other
    }
}

/// The variable names of a netCDF file GDAL offers as rasters (its
/// subdatasets), in the file's order.
pub fn variables(path: &str) -> Result<Vec<String>, RasterError> {
    let dataset = crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
    Ok(subdataset_variables(&dataset))
}

fn subdataset_variables(dataset: &gdal::Dataset) -> Vec<String> {
    let items = dataset.metadata_domain("SUBDATASETS").unwrap_or_default();
    items
        .iter()
        .filter_map(|item| item.split_once("_NAME="))
        .filter_map(|(_, name)| name.rsplit_once(':').map(|(_, v)| v.to_string()))
        .collect()
}

/// The dimensions of `variable` in `path`, slowest first (as in the file).
pub fn dimensions(path: &str, variable: &str) -> Result<Vec<Dimension>, RasterError> {
    let options = DatasetOptions {
        open_flags: GdalOpenFlags::GDAL_OF_MULTIDIM_RASTER,
        ..Default::default()
    };
    let unreadable = |e: gdal::errors::GdalError| RasterError::Gdal {
        path: path.to_string(),
        message: e.to_string(),
    };
    let dataset =
        crate::gdal::dataset::open_ex(path, options).map_err(|e| RasterError::opening(path, e))?;
    let root = dataset.root_group().map_err(unreadable)?;
    // A variable in a group (S5P's `/PRODUCT/…`) is reached group by group.
    let (groups, name) = variable
        .trim_start_matches('/')
        .rsplit_once('/')
        .unwrap_or(("", variable));
    let mut group = dataset.root_group().map_err(unreadable)?;
    for step in groups.split('/').filter(|g| !g.is_empty()) {
        group = group
            .open_group(step, Default::default())
            .map_err(|_| no_such_variable(path, variable, root.group_names(Default::default())))?;
    }
    let array = group
        .open_md_array(name, Default::default())
        .map_err(|_| no_such_variable(path, variable, group.array_names(Default::default())))?;
    let dimensions = array.dimensions().map_err(unreadable)?;
    Ok(dimensions
        .iter()
        .map(|dimension| {
            let name = dimension.name();
            // A coordinate variable is named like its dimension (netCDF's
            // rule), in the variable's group or at the root.
            let coordinate = group
                .open_md_array(&name, Default::default())
                .or_else(|_| root.open_md_array(&name, Default::default()));
            match coordinate {
                Ok(coordinate) => Dimension {
                    axis: axis_of(&coordinate),
                    values: coordinate
                        .read_as::<f64>(vec![0], vec![dimension.size()])
                        .unwrap_or_default(),
                    units: coordinate.unit(),
                    name,
                },
                Err(_) => Dimension {
                    name,
                    axis: Axis::Other,
                    values: Vec::new(),
                    units: String::new(),
                },
            }
        })
        .collect())
}

fn no_such_variable(path: &str, variable: &str, present: Vec<String>) -> RasterError {
    RasterError::Invalid(format!(
        "{} has no variable \"{variable}\"; its variables are: {}",
        short(path),
        present.join(", ")
    ))
}

/// The file name of a path, for messages (never the host's folders).
fn short(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// The GDAL name of one variable of a netCDF file.
pub fn subdataset(path: &str, variable: &str) -> String {
    format!("NETCDF:\"{path}\":{variable}")
}

/// Band `band` of `variable` of the netCDF file `path` as a raster: in
/// EPSG:4326 when its grid is CF longitude/latitude without a CRS, with
/// longitudes in −180…180 when they were stored from 0 to 360 (see the
/// module's documentation). Nothing is read now.
pub fn open(path: &str, variable: &str, band: usize) -> Result<Raster, RasterError> {
    let dimensions = dimensions(path, variable)?;
    let source = subdataset(path, variable);
    let lonlat = matches!(
        dimensions.as_slice(),
        [.., y, x] if y.axis == Axis::Latitude && x.axis == Axis::Longitude
    );
    if !lonlat {
        return Raster::open(&source, band);
    }
    open_lonlat(&source, band)
}

/// Band `band` of a lon/lat grid: a grid without a CRS is placed in WGS 84,
/// and 0–360 longitudes are brought into −180…180 (through a VRT, so
/// nothing is read now).
pub fn open_lonlat(source: &str, band: usize) -> Result<Raster, RasterError> {
    let gdal_error = |e: gdal::errors::GdalError| RasterError::Gdal {
        path: source.to_string(),
        message: e.to_string(),
    };
    let dataset =
        crate::gdal::dataset::open(source).map_err(|e| RasterError::opening(source, e))?;
    let count = dataset.raster_count();
    if band == 0 || band > count {
        return Err(RasterError::NoSuchBand {
            path: short(source).to_string(),
            band,
            count,
        });
    }
    let (width, height) = dataset.raster_size();
    let transform = dataset
        .geo_transform()
        .map_err(|_| RasterError::NotGeoreferenced {
            path: short(source).to_string(),
        })?;
    let crs = dataset.projection();
    let placement = Placement::of(transform, width);
    if placement == Placement::AsStored && !crs.is_empty() {
        return Raster::open(source, band);
    }
    let crs = if crs.is_empty() {
        crate::raster::crs::wgs84_wkt()?
    } else {
        crs
    };
    let (split, west) = match placement {
        Placement::AsStored => (0, transform[0]),
        Placement::Shifted => (0, transform[0] - 360.0),
        Placement::Rolled { split } => (split, transform[0] + transform[1] * split as f64 - 360.0),
    };
    let raster_band = dataset.rasterband(band).map_err(gdal_error)?;
    let xml = rolled_vrt(
        source,
        &RolledBand {
            band,
            width,
            height,
            split,
            transform: [west, transform[1], 0.0, transform[3], 0.0, transform[5]],
            crs,
            data_type: raster_band.band_type().name(),
            nodata: raster_band.no_data_value(),
            scale: raster_band.scale().unwrap_or(1.0),
            offset: raster_band.offset().unwrap_or(0.0),
            unit: raster_band.unit(),
        },
    );
    let mut raster = Raster::open_built(&xml, 1)?;
    raster.unit = raster_band.unit();
    Ok(raster)
}

/// Where a lon/lat grid's columns go in −180…180.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// Already within −180…180, or straddling 180 E regionally: kept.
    AsStored,
    /// Wholly east of 180 E: moved 360 degrees west.
    Shifted,
    /// Global from 0 E: columns `split..` (east of 180) first, then `..split`.
    Rolled { split: usize },
}

impl Placement {
    fn of(transform: [f64; 6], width: usize) -> Placement {
        let (x0, dx) = (transform[0], transform[1]);
        if transform[2] != 0.0 || dx <= 0.0 {
            return Placement::AsStored;
        }
        let east_edge = x0 + dx * width as f64;
        let global = ((east_edge - x0) - 360.0).abs() < dx;
        if global && x0 > -dx && east_edge > 180.0 + dx / 2.0 {
            // Columns whose centre lies west of 180 degrees stay east of Greenwich.
            let split = ((180.0 - x0) / dx - 0.5).ceil().clamp(0.0, width as f64) as usize;
            Placement::Rolled { split }
        } else if x0 >= 180.0 - dx / 2.0 && east_edge <= 360.0 + dx / 2.0 {
            Placement::Shifted
        } else {
            Placement::AsStored
        }
    }
}

/// What the moved-halves VRT needs to know of the source band.
struct RolledBand {
    band: usize,
    width: usize,
    height: usize,
    split: usize,
    transform: [f64; 6],
    crs: String,
    data_type: String,
    nodata: Option<f64>,
    scale: f64,
    offset: f64,
    unit: String,
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A VRT (given to GDAL as its text) placing source columns `split..` first
/// and `..split` after them (all of them in place when `split` is 0).
fn rolled_vrt(source: &str, band: &RolledBand) -> String {
    let source_xml = |src_col: usize, dst_col: usize, columns: usize| {
        format!(
            "<SimpleSource><SourceFilename relativeToVRT=\"0\">{}</SourceFilename>\
             <SourceBand>{}</SourceBand>\
             <SrcRect xOff=\"{src_col}\" yOff=\"0\" xSize=\"{columns}\" ySize=\"{h}\"/>\
             <DstRect xOff=\"{dst_col}\" yOff=\"0\" xSize=\"{columns}\" ySize=\"{h}\"/></SimpleSource>",
            xml_escape(source),
            band.band,
            h = band.height
        )
    };
    let east = band.width - band.split;
    let mut sources = source_xml(band.split, 0, east);
    if band.split > 0 {
        sources += &source_xml(0, east, band.split);
    }
    let nodata = band
        .nodata
        .map(|n| format!("<NoDataValue>{n}</NoDataValue>"))
        .unwrap_or_default();
    let t = band.transform;
    format!(
        "<VRTDataset rasterXSize=\"{}\" rasterYSize=\"{}\"><SRS>{}</SRS>\
         <GeoTransform>{}, {}, {}, {}, {}, {}</GeoTransform>\
         <VRTRasterBand dataType=\"{}\" band=\"1\">{nodata}<UnitType>{}</UnitType>\
         <Offset>{}</Offset><Scale>{}</Scale>{sources}</VRTRasterBand></VRTDataset>",
        band.width,
        band.height,
        xml_escape(&band.crs),
        t[0],
        t[1],
        t[2],
        t[3],
        t[4],
        t[5],
        band.data_type,
        xml_escape(&band.unit),
        band.offset,
        band.scale,
    )
}

/// The bands of `variable`: one per combination of its extra dimensions
/// (all but the two last), the last varying fastest, as GDAL numbers them.
pub fn bands(path: &str, variable: &str) -> Result<Vec<BandLabel>, RasterError> {
    let dimensions = dimensions(path, variable)?;
    let extra = &dimensions[..dimensions.len().saturating_sub(2)];
    let count: usize = extra.iter().map(|d| d.values.len().max(1)).product();
    Ok((0..count)
        .map(|index| {
            let mut rest = index;
            let mut coordinates = Vec::with_capacity(extra.len());
            for dimension in extra.iter().rev() {
                let size = dimension.values.len().max(1);
                let position = rest % size;
                rest /= size;
                coordinates.push((dimension.name.clone(), label_of(dimension, position)));
            }
            coordinates.reverse();
            BandLabel {
                band: index + 1,
                coordinates,
            }
        })
        .collect())
}

/// The coordinate at `position` of a dimension, as text: a CF time as an
/// ISO date-time, anything else as its number.
fn label_of(dimension: &Dimension, position: usize) -> String {
    let Some(&value) = dimension.values.get(position) else {
        return (position + 1).to_string();
    };
    if dimension.axis == Axis::Time
        && let Some(time) = decode_time(value, &dimension.units)
    {
        return time;
    }
    value.to_string()
}

/// A CF time (`<unit> since <epoch>`, standard calendar) as an ISO date-time.
pub fn decode_time(value: f64, units: &str) -> Option<String> {
    let (unit, epoch) = units.split_once(" since ")?;
    let seconds_per_unit = match unit.trim().to_ascii_lowercase().as_str() {
        "seconds" | "second" | "secs" | "sec" | "s" => 1.0,
        "minutes" | "minute" | "mins" | "min" => 60.0,
        "hours" | "hour" | "hrs" | "hr" | "h" => 3600.0,
        "days" | "day" | "d" => 86400.0,
        _ => return None,
    };
    let epoch = parse_epoch(epoch.trim())?;
    let offset = chrono::Duration::milliseconds((value * seconds_per_unit * 1000.0).round() as i64);
    Some((epoch + offset).format("%Y-%m-%dT%H:%M:%S").to_string())
}

/// A CF epoch: `1978-01-01`, `1978-01-01 12:00:00`, `1900-01-01T00:00:00Z`, …
fn parse_epoch(text: &str) -> Option<chrono::NaiveDateTime> {
    let text = text.trim_end_matches('Z').trim_end_matches(" UTC");
    let text = text.split(['+']).next().unwrap_or(text).trim();
    [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%d",
    ]
    .iter()
    .find_map(|format| {
        chrono::NaiveDateTime::parse_from_str(text, format)
            .ok()
            .or_else(|| {
                chrono::NaiveDate::parse_from_str(text, format)
                    .ok()
                    .map(|d| d.and_time(chrono::NaiveTime::MIN))
            })
    })
}

/// Why a plain netCDF path with several variables cannot open as one
/// raster: the variables, and how to pick one.
pub fn pick_a_variable(shown_path: &str, variables: &[String]) -> RasterError {
    let first = variables.first().map(String::as_str).unwrap_or("name");
    RasterError::Invalid(format!(
        "{shown_path} holds {} variables ({}); open one by name, e.g. \
         open_raster(\"{shown_path}\", \"{first}\")",
        variables.len(),
        variables.join(", ")
    ))
}

/// Band `band` of a raster file, or of one `variable` of a netCDF file: the
/// door `open_raster` goes through. A netCDF file (named plainly or as
/// `NETCDF:"file":variable`) opens by the CF conventions ([`open`]); a
/// plain netCDF path with several variables must name one.
pub fn open_raster(path: &str, variable: Option<&str>, band: usize) -> Result<Raster, RasterError> {
    if let Some((file, named)) = parse_subdataset(path) {
        return open(file, variable.unwrap_or(named), band);
    }
    let dataset = crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
    if dataset.driver().short_name() != "netCDF" {
        return match variable {
            None => Raster::open(path, band),
            Some(variable) => Err(RasterError::Invalid(format!(
                "{} is not a netCDF file, so it has no variable \"{variable}\"; \
                 open it without one: open_raster(\"{}\")",
                short(path),
                short(path)
            ))),
        };
    }
    let variables = subdataset_variables(&dataset);
    let variable = match variable {
        Some(variable) if variables.is_empty() || variables.iter().any(|v| v == variable) => {
            variable.to_string()
        }
        Some(variable) => return Err(no_such_variable(path, variable, variables)),
        None if variables.is_empty() => single_variable(&dataset).ok_or_else(|| {
            RasterError::Invalid(format!("{} holds no gridded variable", short(path)))
        })?,
        None => return Err(pick_a_variable(short(path), &variables)),
    };
    open(path, &variable, band)
}

/// The variable of a netCDF file holding only one, as a list (empty when
/// it holds none GDAL reads as a raster).
pub fn single_variable_of(path: &str) -> Result<Vec<String>, RasterError> {
    let dataset = crate::gdal::dataset::open(path).map_err(|e| RasterError::opening(path, e))?;
    Ok(single_variable(&dataset).into_iter().collect())
}

/// `NETCDF:"file":variable` as (file, variable).
fn parse_subdataset(path: &str) -> Option<(&str, &str)> {
    let rest = path.strip_prefix("NETCDF:")?;
    let (file, variable) = rest.rsplit_once(':')?;
    Some((file.trim_matches('"'), variable))
}

/// The variable of a netCDF file holding only one (GDAL names it on its bands).
fn single_variable(dataset: &gdal::Dataset) -> Option<String> {
    let band = dataset.rasterband(1).ok()?;
    band.metadata_item("NETCDF_VARNAME", "")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::netcdf::{Attr, NcWriter};
    use crate::raster::compute::with_test_compute;
    use crate::raster::crs;
    use std::path::Path;

    /// OISST's `sst` as cleope writes it for the tests: the stored short at
    /// (lat, lon in 0..360) of day `day`, which tells latitude, longitude
    /// and day apart (a flipped or misplaced grid reads other values).
    fn oisst_stored(lat: f64, lon: f64, day: usize) -> i16 {
        (lat * 100.0 + lon / 4.0).round() as i16 + day as i16
    }

    /// A NOAA OISST v2.1 daily file at 1 degree (the real one is at 0.25,
    /// the same in every other respect): latitudes ascending from −89.5,
    /// longitudes from 0.5 to 359.5, `time` and `zlev` dimensions, `sst` a
    /// short with `scale_factor`, `add_offset` and `_FillValue` −999 (the
    /// southernmost row is fill), no `grid_mapping`.
    fn write_oisst(path: &Path, days: usize) {
        let lats: Vec<f32> = (0..180).map(|i| -89.5 + i as f32).collect();
        let lons: Vec<f32> = (0..360).map(|i| 0.5 + i as f32).collect();
        let nc = NcWriter::create(path).unwrap();
        {
            let root = nc.root();
            root.attribute(&Attr::str("Conventions", "CF-1.6, ACDD-1.3"))
                .unwrap();
            root.attribute(&Attr::str("title", "NOAA/NCEI 1/4 Degree Daily Optimum Interpolation Sea Surface Temperature (OISST) Analysis, Version 2.1 - Final")).unwrap();
            let time = root.dimension("time", days).unwrap();
            let zlev = root.dimension("zlev", 1).unwrap();
            let lat = root.dimension("lat", lats.len()).unwrap();
            let lon = root.dimension("lon", lons.len()).unwrap();
            let times: Vec<f32> = (0..days).map(|d| 16436.0 + d as f32).collect();
            let time_attrs = [
                Attr::str("long_name", "Center time of the day"),
                Attr::str("units", "days since 1978-01-01 12:00:00"),
            ];
            root.write("time", &[&time], &times, &time_attrs).unwrap();
            let zlev_attrs = [
                Attr::str("long_name", "Sea surface height"),
                Attr::str("units", "meters"),
                Attr::str("axis", "Z"),
                Attr::str("positive", "down"),
            ];
            root.write("zlev", &[&zlev], &[0.0f32], &zlev_attrs)
                .unwrap();
            let lat_attrs = [
                Attr::str("long_name", "Latitude"),
                Attr::str("units", "degrees_north"),
                Attr::str("grid_mapping_name", "latitude_longitude"),
            ];
            root.write("lat", &[&lat], &lats, &lat_attrs).unwrap();
            let lon_attrs = [
                Attr::str("long_name", "Longitude"),
                Attr::str("units", "degrees_east"),
            ];
            root.write("lon", &[&lon], &lons, &lon_attrs).unwrap();
            let mut sst = Vec::with_capacity(days * lats.len() * lons.len());
            for day in 0..days {
                for (row, &la) in lats.iter().enumerate() {
                    for &lo in &lons {
                        sst.push(if row == 0 {
                            -999
                        } else {
                            oisst_stored(la.into(), lo.into(), day)
                        });
                    }
                }
            }
            let sst_attrs = [
                Attr::str("long_name", "Daily sea surface temperature"),
                Attr::str("units", "Celsius"),
                Attr::f64("_FillValue", -999.0),
                Attr::f64("add_offset", 0.0),
                Attr::f64("scale_factor", 0.01),
            ];
            root.write("sst", &[&time, &zlev, &lat, &lon], &sst, &sst_attrs)
                .unwrap();
            let anom = vec![0i16; sst.len()];
            root.write("anom", &[&time, &zlev, &lat, &lon], &anom, &[])
                .unwrap();
        }
        nc.close().unwrap();
    }

    /// The raster's values with each pixel centre's (lon, lat).
    fn pixels(raster: &Raster) -> Vec<((f64, f64), f32)> {
        let plane = with_test_compute(|c| c.plane(raster)).unwrap();
        let t = raster.grid().transform;
        (0..plane.height)
            .flat_map(|row| (0..plane.width).map(move |col| (col, row)))
            .map(|(col, row)| {
                let centre = t.apply(col as f64 + 0.5, row as f64 + 0.5);
                (centre, plane.values[row * plane.width + col])
            })
            .collect()
    }

    fn path_of(dir: &tempfile::TempDir, name: &str) -> (std::path::PathBuf, String) {
        let path = dir.path().join(name);
        let text = path.to_str().unwrap().to_string();
        (path, text)
    }

    #[test]
    fn oisst_opens_in_lon_lat_with_the_mediterranean_and_the_pacific_clippable() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text) = path_of(&dir, "oisst-avhrr-v02r01.20230101.nc");
        write_oisst(&path, 2);
        let sst = open_raster(&text, Some("sst"), 2).unwrap();
        assert!(crs::is_geographic(&sst.grid().crs), "EPSG:4326 given");
        assert_eq!(sst.grid().bounds(), (-180.0, -90.0, 180.0, 90.0));
        assert_eq!(sst.unit, "Celsius");
        for (area, name) in [
            ((-6.0, 30.0, 36.0, 46.0), "Mediterranean"),
            ((-170.0, -5.0, -120.0, 5.0), "Niño 3.4"),
            ((-180.0, -90.0, 180.0, -88.0), "the fill row"),
        ] {
            let clipped = sst.clip(area).unwrap();
            let values = pixels(&clipped);
            assert!(!values.is_empty(), "{name}");
            for ((lon, lat), value) in values {
                let expected = if lat < -89.0 {
                    f32::NAN
                } else {
                    oisst_stored(lat, lon.rem_euclid(360.0), 1) as f32 * 0.01
                };
                assert!(
                    (value - expected).abs() < 1e-4 || (value.is_nan() && expected.is_nan()),
                    "{name}: at ({lon}, {lat}) {value} instead of {expected}"
                );
            }
        }
    }

    #[test]
    fn bands_are_labelled_with_decoded_times_and_depths() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text) = path_of(&dir, "oisst.nc");
        write_oisst(&path, 2);
        let labels = bands(&text, "sst").unwrap();
        let label = |band: usize, time: &str| BandLabel {
            band,
            coordinates: vec![
                ("time".to_string(), time.to_string()),
                ("zlev".to_string(), "0".to_string()),
            ],
        };
        // 16436 days after 1978-01-01 12:00 (45 years and 11 leap days).
        assert_eq!(
            labels,
            vec![
                label(1, "2023-01-01T12:00:00"),
                label(2, "2023-01-02T12:00:00")
            ]
        );
    }

    #[test]
    fn a_file_of_several_variables_asks_for_one_and_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text) = path_of(&dir, "oisst.nc");
        write_oisst(&path, 1);
        let message = open_raster(&text, None, 1).unwrap_err().to_string();
        assert!(
            message.contains("2 variables (sst, anom)")
                && message.contains("open_raster(\"oisst.nc\", \"sst\")"),
            "{message}"
        );
        let message = open_raster(&text, Some("analysed_sst"), 1)
            .unwrap_err()
            .to_string();
        assert!(
            message.contains("no variable \"analysed_sst\""),
            "{message}"
        );
        assert!(message.contains("sst, anom"), "{message}");
        let gdal_spelling = format!("NETCDF:\"{text}\":sst");
        let sst = open_raster(&gdal_spelling, None, 1).unwrap();
        assert!(crs::is_geographic(&sst.grid().crs), "the GDAL spelling too");
    }

    /// A regional CAMS European air-quality forecast: latitudes descending
    /// (72 to 30), longitudes in −25…45, hourly `time`, one variable.
    fn write_cams_regional(path: &Path, longitudes: &[f32]) {
        let lats: Vec<f32> = (0..43).map(|i| 71.95 - 0.1 * i as f32 * 10.0).collect();
        let nc = NcWriter::create(path).unwrap();
        {
            let root = nc.root();
            root.attribute(&Attr::str("title", "CO Air Quality Forecast"))
                .unwrap();
            root.attribute(&Attr::str("institution", "Data produced by Meteo France"))
                .unwrap();
            let time = root.dimension("time", 3).unwrap();
            let lat = root.dimension("latitude", lats.len()).unwrap();
            let lon = root.dimension("longitude", longitudes.len()).unwrap();
            let time_attrs = [Attr::str("units", "hours since 2023-01-01 00:00:00")];
            root.write("time", &[&time], &[0.0f32, 1.0, 2.0], &time_attrs)
                .unwrap();
            // CF names only: the dimension names say nothing.
            root.write(
                "latitude",
                &[&lat],
                &lats,
                &[Attr::str("standard_name", "latitude")],
            )
            .unwrap();
            let lon_attrs = [Attr::str("units", "degrees_east")];
            root.write("longitude", &[&lon], longitudes, &lon_attrs)
                .unwrap();
            let mut co = Vec::new();
            for hour in 0..3 {
                for &la in &lats {
                    for &lo in longitudes {
                        co.push(la * 1000.0 + lo + hour as f32 * 0.25);
                    }
                }
            }
            let co_attrs = [
                Attr::str("units", "µg/m3"),
                Attr::str(
                    "standard_name",
                    "mass_concentration_of_carbon_monoxide_in_air",
                ),
            ];
            root.write("co_conc", &[&time, &lat, &lon], &co, &co_attrs)
                .unwrap();
        }
        nc.close().unwrap();
    }

    #[test]
    fn regional_cams_with_descending_latitudes_opens_north_up_by_its_only_variable() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text) = path_of(&dir, "cams.nc");
        let longitudes: Vec<f32> = (0..70).map(|i| -24.5 + i as f32).collect();
        write_cams_regional(&path, &longitudes);
        let co = open_raster(&text, None, 3).unwrap();
        assert!(crs::is_geographic(&co.grid().crs));
        let (x0, y0, x1, y1) = co.grid().bounds();
        assert!(
            (x0 + 25.0).abs() < 1e-4 && (x1 - 45.0).abs() < 1e-4,
            "{x0} {x1}"
        );
        assert!(
            (y0 - 29.45).abs() < 1e-3 && (y1 - 72.45).abs() < 1e-3,
            "{y0} {y1}"
        );
        for ((lon, lat), value) in pixels(&co.clip((5.0, 40.0, 20.0, 50.0)).unwrap()) {
            let expected = lat as f32 * 1000.0 + lon as f32 + 0.5;
            assert!(
                (value - expected).abs() < 0.1,
                "({lon}, {lat}): {value} not {expected}"
            );
        }
    }

    #[test]
    fn a_regional_grid_east_of_180_is_moved_west() {
        let dir = tempfile::tempdir().unwrap();
        let (path, text) = path_of(&dir, "pacific.nc");
        let longitudes: Vec<f32> = (0..70).map(|i| 200.5 + i as f32).collect();
        write_cams_regional(&path, &longitudes);
        let co = open_raster(&text, Some("co_conc"), 1).unwrap();
        let (x0, _, x1, _) = co.grid().bounds();
        assert_eq!((x0, x1), (-160.0, -90.0));
        for ((lon, lat), value) in pixels(&co.clip((-150.0, 40.0, -140.0, 45.0)).unwrap()) {
            let expected = lat as f32 * 1000.0 + (lon + 360.0) as f32;
            assert!(
                (value - expected).abs() < 0.1,
                "({lon}, {lat}): {value} not {expected}"
            );
        }
    }

    #[test]
    fn a_projected_grid_without_grid_mapping_is_not_made_lon_lat() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("utm.nc");
        let nc = NcWriter::create(&path).unwrap();
        {
            let root = nc.root();
            let y = root.dimension("y", 3).unwrap();
            let x = root.dimension("x", 4).unwrap();
            let metres = [Attr::str("units", "m")];
            root.write("y", &[&y], &[4.2e6f64, 4.19e6, 4.18e6], &metres)
                .unwrap();
            root.write("x", &[&x], &[5e5f64, 5.1e5, 5.2e5, 5.3e5], &metres)
                .unwrap();
            root.write("v", &[&y, &x], &[1.0f32; 12], &[]).unwrap();
        }
        nc.close().unwrap();
        // GDAL places no grid in metres without a grid_mapping, and no
        // lon/lat is made up for it: a named refusal, not a wrong map.
        let refused = open_raster(path.to_str().unwrap(), None, 1).unwrap_err();
        assert!(
            matches!(refused, RasterError::NotGeoreferenced { .. }),
            "{refused}"
        );
    }

    #[test]
    fn a_variable_in_a_group_is_found_by_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("S5P_clip.nc");
        let nc = NcWriter::create(&path).unwrap();
        {
            let product = nc.root().group("PRODUCT").unwrap();
            let time = product.dimension("time", 1).unwrap();
            let scanline = product.dimension("scanline", 2).unwrap();
            let pixel = product.dimension("ground_pixel", 3).unwrap();
            let seconds = [Attr::str("units", "seconds since 2010-01-01 00:00:00")];
            product
                .write("time", &[&time], &[3.0e8f64], &seconds)
                .unwrap();
            let dims = [&time, &scanline, &pixel];
            let attrs = [Attr::str("units", "mol m-2")];
            product
                .write("carbonmonoxide_total_column", &dims, &[0.03f32; 6], &attrs)
                .unwrap();
        }
        nc.close().unwrap();
        let text = path.to_str().unwrap();
        let names: Vec<(String, Axis)> = dimensions(text, "/PRODUCT/carbonmonoxide_total_column")
            .unwrap()
            .into_iter()
            .map(|d| (d.name, d.axis))
            .collect();
        let expected = [
            ("time", Axis::Time),
            ("scanline", Axis::Other),
            ("ground_pixel", Axis::Other),
        ];
        assert_eq!(names, expected.map(|(n, a)| (n.to_string(), a)));
        let missing = dimensions(text, "/PRODUCT/ozone").unwrap_err().to_string();
        assert!(missing.contains("carbonmonoxide_total_column"), "{missing}");
    }

    #[test]
    fn cf_times_decode_in_their_units() {
        assert_eq!(
            decode_time(1.5, "hours since 2023-01-01"),
            Some("2023-01-01T01:30:00".into())
        );
        assert_eq!(
            decode_time(1_230_681_600.0, "seconds since 1981-01-01 00:00:00"),
            Some("2020-01-01T00:00:00".into())
        );
        assert_eq!(decode_time(3.0, "months since 2000-01-01"), None);
    }
}
