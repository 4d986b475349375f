//! Copernicus product names: what they say about a product, read without
//! opening it. The sensing start in the name is what time stacks sort by
//! (CLEOPE used the TIFF's processing time, which is not when the image
//! was taken).

use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// The parts of a product name, by family.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductName {
    /// `Sentinel-1`, `Sentinel-2`, `Sentinel-3`, `Sentinel-5P`.
    pub mission: &'static str,
    /// The satellite: `S1A`, `S2B`, `S5P`...
    pub platform: String,
    /// The product type as catalogues name it: `GRD`, `S2MSI2A`, `OL_2_WFR___`, `L2__NO2___`.
    pub product_type: String,
    /// Sensing start and stop (UTC).
    pub start: NaiveDateTime,
    pub stop: Option<NaiveDateTime>,
    /// Everything else the name holds (tile, orbits, polarisation, timeliness...).
    pub details: BTreeMap<&'static str, String>,
}

/// Why a name could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("\"{name}\" is not a {family} product name: {problem}")]
pub struct NameError {
    pub name: String,
    pub family: &'static str,
    pub problem: String,
}

fn time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y%m%dT%H%M%S").ok()
}

/// The name without folders and without `.SAFE`, `.SEN3`, `.zip`, `.nc`.
fn stem(name: &str) -> &str {
    let base = name
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or(name);
    [".zip", ".SAFE", ".SEN3", ".nc", ".tar.gz"]
        .iter()
        .fold(base, |s, suffix| s.strip_suffix(suffix).unwrap_or(s))
        .trim_end_matches(".SAFE")
        .trim_end_matches(".SEN3")
}

/// Reads a Sentinel-1, -2, -3 or -5P product name (with or without folders
/// and extensions).
pub fn parse(name: &str) -> Result<ProductName, NameError> {
    let stem = stem(name);
    match stem.get(..2) {
        Some("S1") => sentinel1(name, stem),
        Some("S2") => sentinel2(name, stem),
        Some("S3") => sentinel3(name, stem),
        Some("S5") => sentinel5p(name, stem),
        _ => Err(NameError {
            name: name.to_string(),
            family: "Sentinel",
            problem: "it does not start with S1, S2, S3 or S5P".into(),
        }),
    }
}

fn failure(name: &str, family: &'static str, problem: &str) -> NameError {
    NameError {
        name: name.to_string(),
        family,
        problem: problem.to_string(),
    }
}

/// `S1A_IW_GRDH_1SDV_20200818T050705_20200818T050730_033967_03F0B8_5D77`
fn sentinel1(name: &str, stem: &str) -> Result<ProductName, NameError> {
    let parts: Vec<&str> = stem.split('_').filter(|p| !p.is_empty()).collect();
    let [
        platform,
        mode,
        kind,
        level_class_pol,
        start,
        stop,
        orbit,
        take,
        id,
    ] = parts[..]
    else {
        return Err(failure(
            name,
            "Sentinel-1",
            "expected 9 parts like S1A_IW_GRDH_1SDV_<start>_<stop>_<orbit>_<take>_<id>",
        ));
    };
    let bad_time = || {
        failure(
            name,
            "Sentinel-1",
            "the sensing times are not YYYYMMDDTHHMMSS",
        )
    };
    let mut details = BTreeMap::new();
    details.insert("mode", mode.to_string());
    details.insert("resolution", kind.get(3..).unwrap_or_default().to_string());
    details.insert(
        "level",
        level_class_pol.get(..1).unwrap_or_default().to_string(),
    );
    details.insert(
        "polarisation",
        level_class_pol.get(2..).unwrap_or_default().to_string(),
    );
    details.insert("absolute_orbit", orbit.trim_start_matches('0').to_string());
    details.insert("datatake", take.to_string());
    details.insert("unique_id", id.to_string());
    Ok(ProductName {
        mission: "Sentinel-1",
        platform: platform.to_string(),
        product_type: kind.get(..3).unwrap_or(kind).to_string(),
        start: time(start).ok_or_else(bad_time)?,
        stop: Some(time(stop).ok_or_else(bad_time)?),
        details,
    })
}

/// `S2A_MSIL2A_20191215T110441_N0213_R094_T30SVG_20191215T121707`
fn sentinel2(name: &str, stem: &str) -> Result<ProductName, NameError> {
    let parts: Vec<&str> = stem.split('_').collect();
    let [
        platform,
        instrument_level,
        start,
        baseline,
        orbit,
        tile,
        discriminator,
    ] = parts[..]
    else {
        return Err(failure(
            name,
            "Sentinel-2",
            "expected 7 parts like S2A_MSIL2A_<start>_N0213_R094_T30SVG_<time>",
        ));
    };
    let level = instrument_level
        .strip_prefix("MSI")
        .ok_or_else(|| failure(name, "Sentinel-2", "the instrument is not MSI"))?;
    let mut details = BTreeMap::new();
    details.insert("level", level.to_string());
    details.insert("baseline", baseline.trim_start_matches('N').to_string());
    details.insert(
        "relative_orbit",
        orbit
            .trim_start_matches('R')
            .trim_start_matches('0')
            .to_string(),
    );
    details.insert("tile", tile.trim_start_matches('T').to_string());
    details.insert("discriminator", discriminator.to_string());
    Ok(ProductName {
        mission: "Sentinel-2",
        platform: platform.to_string(),
        product_type: format!("S2MSI{}", level.trim_start_matches('L')),
        start: time(start).ok_or_else(|| {
            failure(
                name,
                "Sentinel-2",
                "the sensing time is not YYYYMMDDTHHMMSS",
            )
        })?,
        stop: None,
        details,
    })
}

/// `S3A_OL_2_WFR____20200608T092412_20200608T092712_20200609T181637_0179_059_093_2160_MAR_O_NT_002`
fn sentinel3(name: &str, stem: &str) -> Result<ProductName, NameError> {
    // The product type field is a fixed 15 characters wide, padded with '_'.
    let (platform, rest) = stem
        .split_at_checked(3)
        .ok_or_else(|| failure(name, "Sentinel-3", "too short"))?;
    let rest = rest
        .strip_prefix('_')
        .ok_or_else(|| failure(name, "Sentinel-3", "no '_' after the platform"))?;
    let (kind, rest) = rest
        .split_at_checked(11)
        .ok_or_else(|| failure(name, "Sentinel-3", "too short"))?;
    let parts: Vec<&str> = rest.trim_start_matches('_').split('_').collect();
    let [
        start,
        stop,
        created,
        duration,
        cycle,
        orbit,
        frame,
        centre,
        platform_code,
        timeliness,
        baseline,
    ] = parts[..]
    else {
        return Err(failure(
            name,
            "Sentinel-3",
            "expected the times, duration, cycle, orbit, frame, centre, timeliness and baseline after the type",
        ));
    };
    let bad_time = || {
        failure(
            name,
            "Sentinel-3",
            "the sensing times are not YYYYMMDDTHHMMSS",
        )
    };
    let mut details = BTreeMap::new();
    details.insert("instrument", kind.get(..2).unwrap_or_default().to_string());
    details.insert("level", kind.get(3..4).unwrap_or_default().to_string());
    details.insert("created", created.to_string());
    details.insert("duration_s", duration.trim_start_matches('0').to_string());
    details.insert("cycle", cycle.to_string());
    details.insert("relative_orbit", orbit.trim_start_matches('0').to_string());
    details.insert("frame", frame.to_string());
    details.insert("centre", centre.to_string());
    details.insert("platform_code", platform_code.to_string());
    details.insert("timeliness", timeliness.to_string());
    details.insert("baseline", baseline.to_string());
    Ok(ProductName {
        mission: "Sentinel-3",
        platform: platform.to_string(),
        product_type: kind.to_string(),
        start: time(start).ok_or_else(bad_time)?,
        stop: Some(time(stop).ok_or_else(bad_time)?),
        details,
    })
}

/// `S5P_OFFL_L2__NO2____20200101T020226_20200101T034356_11487_01_010302_20200102T184051`
fn sentinel5p(name: &str, stem: &str) -> Result<ProductName, NameError> {
    let rest = stem
        .strip_prefix("S5P_")
        .ok_or_else(|| failure(name, "Sentinel-5P", "it does not start with S5P_"))?;
    let (class, rest) = rest
        .split_at_checked(4)
        .ok_or_else(|| failure(name, "Sentinel-5P", "too short"))?;
    // The product type field is a fixed 10 characters wide, padded with '_'.
    let (kind, rest) = rest
        .trim_start_matches('_')
        .split_at_checked(10)
        .ok_or_else(|| failure(name, "Sentinel-5P", "too short"))?;
    let parts: Vec<&str> = rest.trim_start_matches('_').split('_').collect();
    let [start, stop, orbit, collection, processor, produced] = parts[..] else {
        return Err(failure(
            name,
            "Sentinel-5P",
            "expected the times, orbit, collection, processor and production time after the type",
        ));
    };
    let bad_time = || {
        failure(
            name,
            "Sentinel-5P",
            "the sensing times are not YYYYMMDDTHHMMSS",
        )
    };
    let mut details = BTreeMap::new();
    details.insert("timeliness", class.to_string());
    details.insert("level", kind.get(..2).unwrap_or_default().to_string());
    details.insert(
        "species",
        kind.get(4..)
            .unwrap_or_default()
            .trim_end_matches('_')
            .to_string(),
    );
    details.insert("absolute_orbit", orbit.trim_start_matches('0').to_string());
    details.insert("collection", collection.to_string());
    details.insert("processor", processor.to_string());
    details.insert("produced", produced.to_string());
    Ok(ProductName {
        mission: "Sentinel-5P",
        platform: "S5P".into(),
        product_type: kind.to_string(),
        start: time(start).ok_or_else(bad_time)?,
        stop: Some(time(stop).ok_or_else(bad_time)?),
        details,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> NaiveDateTime {
        time(text).unwrap()
    }

    #[test]
    fn sentinel1_grd() {
        let name = parse("/mnt/Copernicus/RADAR/LEVEL-1/2020/08/18/S1A_IW_GRDH_1SDV_20200818T050705_20200818T050730_033967_03F0B8_5D77.zip").unwrap();
        assert_eq!(
            (
                name.mission,
                name.platform.as_str(),
                name.product_type.as_str()
            ),
            ("Sentinel-1", "S1A", "GRD")
        );
        assert_eq!(name.start, at("20200818T050705"));
        assert_eq!(name.details["polarisation"], "DV");
        assert_eq!(name.details["absolute_orbit"], "33967");
    }

    #[test]
    fn sentinel2_l2a() {
        let name =
            parse("S2A_MSIL2A_20191215T110441_N0213_R094_T30SVG_20191215T121707.SAFE").unwrap();
        assert_eq!(name.product_type, "S2MSI2A");
        assert_eq!(
            (
                name.details["tile"].as_str(),
                name.details["relative_orbit"].as_str()
            ),
            ("30SVG", "94")
        );
        assert_eq!(name.start, at("20191215T110441"));
    }

    #[test]
    fn sentinel3_olci() {
        let name = parse("S3A_OL_2_WFR____20200608T092412_20200608T092712_20200609T181637_0179_059_093_2160_MAR_O_NT_002.SEN3").unwrap();
        assert_eq!(
            (
                name.product_type.as_str(),
                name.details["timeliness"].as_str()
            ),
            ("OL_2_WFR___", "NT")
        );
        assert_eq!(name.stop, Some(at("20200608T092712")));
        assert_eq!(name.details["relative_orbit"], "93");
    }

    #[test]
    fn sentinel5p_no2() {
        let name = parse("S5P_OFFL_L2__NO2____20200101T020226_20200101T034356_11487_01_010302_20200102T184051.nc").unwrap();
        assert_eq!(
            (name.product_type.as_str(), name.details["species"].as_str()),
            ("L2__NO2___", "NO2")
        );
        assert_eq!(name.details["absolute_orbit"], "11487");
    }

    #[test]
    fn other_names_are_explained() {
        let error = parse("LC08_L1TP_042034_20200101").unwrap_err();
        assert!(error.to_string().contains("S1, S2, S3 or S5P"), "{error}");
        let error = parse("S2A_MSIL2A_2019").unwrap_err();
        assert!(error.to_string().contains("expected 7 parts"), "{error}");
    }
}
