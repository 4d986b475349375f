//! The one mapping between cleope's missions and product types and the STAC
//! collection ids of CDSE (`https://stac.dataspace.copernicus.eu/v1/`) and
//! Earth Search (`https://earth-search.aws.element84.com/v1`). The STAC
//! client turns a [`Query`](crate::odata::Query) into collection ids with it,
//! and the local catalogue names its collections with it, so both ends agree.
//!
//! Copernicus-service products (CAMS, CMEMS, CLMS) have no STAC collection at
//! CDSE that cleope knows of; the local catalogue names them
//! `<service>-<product type>` in lower case (`cams-gac-forecast`,
//! `cmems-…`), which [`collection_id`] derives.

use super::super::odata::cdse::mission_to_collection;

/// One collection of the table: which products it holds and what the two
/// public STAC services call it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StacCollection {
    /// CDSE's STAC id (lower case), also the local catalogue's.
    pub id: &'static str,
    /// The CDSE OData collection of its products ("SENTINEL-2").
    pub odata_collection: &'static str,
    /// The product type it holds ("S2MSI2A"); Sentinel-1 GRD covers every
    /// GRD type, so its entry is matched as a substring ("GRD").
    pub product_type: &'static str,
    /// A title for people.
    pub title: &'static str,
    /// Earth Search's id of the same data, where it has it.
    pub earth_search: Option<&'static str>,
}

/// Where a collection id is looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StacService {
    /// CDSE's STAC and the local catalogue.
    Cdse,
    /// Element 84's Earth Search.
    EarthSearch,
}

const fn entry(
    id: &'static str,
    odata_collection: &'static str,
    product_type: &'static str,
    title: &'static str,
    earth_search: Option<&'static str>,
) -> StacCollection {
    StacCollection {
        id,
        odata_collection,
        product_type,
        title,
        earth_search,
    }
}

/// The collections of the missions the tutorials use.
pub const COLLECTIONS: &[StacCollection] = &[
    entry(
        "sentinel-1-grd",
        "SENTINEL-1",
        "GRD",
        "Sentinel-1 Level-1 Ground Range Detected",
        Some("sentinel-1-grd"),
    ),
    entry(
        "sentinel-2-l1c",
        "SENTINEL-2",
        "S2MSI1C",
        "Sentinel-2 Level-1C top-of-atmosphere reflectance",
        Some("sentinel-2-l1c"),
    ),
    entry(
        "sentinel-2-l2a",
        "SENTINEL-2",
        "S2MSI2A",
        "Sentinel-2 Level-2A surface reflectance",
        Some("sentinel-2-l2a"),
    ),
    entry(
        "sentinel-3-olci-1-efr-ntc",
        "SENTINEL-3",
        "OL_1_EFR___",
        "Sentinel-3 OLCI Level-1 full resolution (non time critical)",
        None,
    ),
    entry(
        "sentinel-3-olci-2-wfr-ntc",
        "SENTINEL-3",
        "OL_2_WFR___",
        "Sentinel-3 OLCI Level-2 water full resolution (non time critical)",
        None,
    ),
    entry(
        "sentinel-3-olci-2-lfr-ntc",
        "SENTINEL-3",
        "OL_2_LFR___",
        "Sentinel-3 OLCI Level-2 land full resolution (non time critical)",
        None,
    ),
    entry(
        "sentinel-3-sl-1-rbt-ntc",
        "SENTINEL-3",
        "SL_1_RBT___",
        "Sentinel-3 SLSTR Level-1 radiances and brightness temperatures (non time critical)",
        None,
    ),
    entry(
        "sentinel-3-sl-2-lst-ntc",
        "SENTINEL-3",
        "SL_2_LST___",
        "Sentinel-3 SLSTR Level-2 land surface temperature (non time critical)",
        None,
    ),
    entry(
        "sentinel-3-syn-2-syn-ntc",
        "SENTINEL-3",
        "SY_2_SYN___",
        "Sentinel-3 Synergy Level-2 surface reflectance (non time critical)",
        None,
    ),
    entry(
        "sentinel-5p-l2-no2-offl",
        "SENTINEL-5P",
        "L2__NO2___",
        "Sentinel-5P Level-2 nitrogen dioxide (offline)",
        None,
    ),
    entry(
        "sentinel-5p-l2-co-offl",
        "SENTINEL-5P",
        "L2__CO____",
        "Sentinel-5P Level-2 carbon monoxide (offline)",
        None,
    ),
    entry(
        "sentinel-5p-l2-so2-offl",
        "SENTINEL-5P",
        "L2__SO2___",
        "Sentinel-5P Level-2 sulphur dioxide (offline)",
        None,
    ),
];

impl StacCollection {
    /// Whether a product of this OData collection and type belongs here.
    pub fn holds(&self, odata_collection: &str, product_type: &str) -> bool {
        if !self.odata_collection.eq_ignore_ascii_case(odata_collection) {
            return false;
        }
        if self.odata_collection == "SENTINEL-1" {
            // IW_GRDH_1S, EW_GRDM_1S, … are all GRD.
            return product_type
                .to_ascii_uppercase()
                .contains(self.product_type);
        }
        self.product_type.eq_ignore_ascii_case(product_type)
    }

    /// The id at a service, when it has this data.
    pub fn id_at(&self, service: StacService) -> Option<&'static str> {
        match service {
            StacService::Cdse => Some(self.id),
            StacService::EarthSearch => self.earth_search,
        }
    }
}

/// The STAC collection id of a product (its OData collection and product
/// type): a table entry, or `<service>-<type>` for Copernicus services and
/// anything else the table does not know.
pub fn collection_id(odata_collection: &str, product_type: &str) -> String {
    match COLLECTIONS
        .iter()
        .find(|c| c.holds(odata_collection, product_type))
    {
        Some(known) => known.id.to_string(),
        None => format!("{odata_collection}-{product_type}")
            .to_ascii_lowercase()
            .replace(['_', ' '], "-")
            .split('-')
            .filter(|part| !part.is_empty())
            .collect::<Vec<_>>()
            .join("-"),
    }
}

/// The table entry of an id at a service.
pub fn by_id(id: &str, service: StacService) -> Option<&'static StacCollection> {
    COLLECTIONS
        .iter()
        .find(|c| c.id_at(service).is_some_and(|known| known == id))
}

/// The collection ids at a service for a mission (ONDA platform name or
/// CDSE collection, any case) and an optional product type; empty when the
/// table has none (the caller says so rather than searching everything).
pub fn ids_for(mission: &str, product_type: Option<&str>, service: StacService) -> Vec<String> {
    let odata_collection = mission_to_collection(mission);
    COLLECTIONS
        .iter()
        .filter(|c| c.odata_collection == odata_collection)
        .filter(|c| product_type.is_none_or(|kind| c.holds(&odata_collection, kind)))
        .filter_map(|c| c.id_at(service))
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn products_are_named_as_cdse_names_its_collections() {
        assert_eq!(collection_id("SENTINEL-1", "IW_GRDH_1S"), "sentinel-1-grd");
        assert_eq!(collection_id("SENTINEL-2", "S2MSI2A"), "sentinel-2-l2a");
        assert_eq!(
            collection_id("SENTINEL-3", "OL_2_WFR___"),
            "sentinel-3-olci-2-wfr-ntc"
        );
        assert_eq!(
            collection_id("SENTINEL-5P", "L2__NO2___"),
            "sentinel-5p-l2-no2-offl"
        );
        assert_eq!(collection_id("CAMS", "GAC_FORECAST"), "cams-gac-forecast");
    }

    #[test]
    fn missions_become_the_ids_of_each_service() {
        assert_eq!(
            ids_for("Sentinel-2", None, StacService::Cdse),
            ["sentinel-2-l1c", "sentinel-2-l2a"]
        );
        assert_eq!(
            ids_for("Sentinel-2", Some("S2MSI2A"), StacService::EarthSearch),
            ["sentinel-2-l2a"]
        );
        assert_eq!(
            ids_for(
                "Sentinel-5 Precursor",
                Some("L2__NO2___"),
                StacService::Cdse
            ),
            ["sentinel-5p-l2-no2-offl"]
        );
        assert_eq!(
            ids_for("Sentinel-1", Some("GRD"), StacService::Cdse),
            ["sentinel-1-grd"]
        );
        assert!(ids_for("Sentinel-3", None, StacService::EarthSearch).is_empty());
        assert_eq!(
            by_id("sentinel-2-l2a", StacService::EarthSearch).map(|c| c.product_type),
            Some("S2MSI2A")
        );
    }
}
