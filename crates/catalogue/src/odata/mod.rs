//! The catalogue's side of the OData wire: the request parsers of both
//! dialects (`onda.rs`, `cdse.rs`), the [`Filter`] tree they read into and
//! its test on index records (`filter.rs`), the limits and refusals of a
//! request (`request.rs`) and the entries written in answer (`entries.rs`).
//! The client's side (the query model, the URLs it renders, the answers it
//! reads) is `cleope_eo::odata`; the helpers both sides write alike are in
//! `cleope_eo::odata::wire`.

pub mod cdse;
pub mod entries;
pub mod filter;
pub mod onda;
pub mod request;

pub use filter::{Candidate, Filter, FilterError};
pub use request::{ParseError, RequestError};

/// What the client renders, the catalogue reads back: each query goes out
/// as a URL of each dialect and comes back as the same query and page.
#[cfg(test)]
mod tests {
    use chrono::{DateTime, Utc};
    use cleope_eo::geometry::{Aoi, BBox};
    use cleope_eo::odata::cdse::cdse_product_name;
    use cleope_eo::odata::wire::parse_instant;
    use cleope_eo::odata::{Dialect, Page, Query, SortOrder};

    fn instant(text: &str) -> DateTime<Utc> {
        parse_instant(text).unwrap()
    }

    fn queries() -> Vec<Query> {
        let italy = Aoi::from_bbox(BBox::new(1.825846, 35.424868, 17.551899, 44.995883).unwrap());
        let s2 = Query {
            mission: Some("Sentinel-2".into()),
            product_type: Some("S2MSI2A".into()),
            aoi: Some(italy.clone()),
            sensed_from: Some(instant("2020-07-20T00:00:00Z")),
            sensed_to: Some(instant("2020-07-21T23:59:59.999Z")),
            max_cloud: Some(40.0),
            order: SortOrder::SensingDescending,
            ..Query::default()
        };
        let s3 = Query {
            mission: Some("Sentinel-3".into()),
            product_type: Some("SY_2_SYN___".into()),
            aoi: Some(italy),
            sensed_from: Some(instant("2020-07-20T00:00:00Z")),
            sensed_to: Some(instant("2020-07-21T23:59:59.999Z")),
            ..Query::default()
        };
        let s1 = Query {
            mission: Some("Sentinel-1".into()),
            product_type: Some("GRD".into()),
            ..Query::default()
        };
        let s5p = Query {
            mission: Some("Sentinel-5 Precursor".into()),
            product_type: Some("L2__NO2___".into()),
            name: Some("S5P_OFFL_L2__NO2____20200101T000000_X.zip".into()),
            ..Query::default()
        };
        let cams = Query {
            main_class: Some("Copernicus-atmosphere".into()),
            sensed_to: Some(instant("2020-02-01T12:30:00.250Z")),
            ..Query::default()
        };
        let only_from = Query {
            sensed_from: Some(instant("2021-01-01T06:00:00Z")),
            order: SortOrder::SensingDescending,
            ..Query::default()
        };
        let only_to = Query {
            sensed_to: Some(instant("2021-01-01T06:00:00.5Z")),
            main_class: Some("Copernicus-land".into()),
            ..Query::default()
        };
        let two_parts = Query {
            aoi: Some(
                Aoi::from_wkt("MULTIPOLYGON(((0 0,1 0,1 1,0 1,0 0)),((5 5,6 5,6 6,5 6,5 5)))")
                    .unwrap(),
            ),
            mission: Some("Sentinel-5 Precursor".into()),
            max_cloud: Some(20.0),
            name: Some("S5P_X.zip".into()),
            ..Query::default()
        };
        vec![
            s2,
            s3,
            s1,
            s5p,
            cams,
            only_from,
            only_to,
            two_parts,
            Query::default(),
        ]
    }

    #[test]
    fn queries_round_trip_through_the_url_of_each_dialect() {
        let page = Page { top: 7, skip: 14 };
        for dialect in [Dialect::Onda, Dialect::Cdse] {
            for query in queries() {
                let url = match dialect {
                    Dialect::Onda => {
                        cleope_eo::odata::onda::search_url("http://h/dias-catalogue", &query, page)
                    }
                    Dialect::Cdse | Dialect::Stac => {
                        cleope_eo::odata::cdse::search_url("http://h/odata/v1", &query, page, false)
                    }
                }
                .unwrap();
                let pairs = crate::query_pairs(url.split_once('?').map(|(_, q)| q));
                let (back, back_page) = match dialect {
                    Dialect::Onda => super::onda::parse_query(&pairs),
                    Dialect::Cdse | Dialect::Stac => super::cdse::parse_query(&pairs),
                }
                .unwrap();
                assert_eq!(back_page, page, "{url}");
                let mut expected = query.clone();
                if dialect == Dialect::Cdse {
                    // CDSE names products in its own form (`….SAFE`, `….nc`).
                    expected.name = query.name.as_deref().map(cdse_product_name);
                }
                assert_eq!(format!("{back:?}"), format!("{expected:?}"), "{url}");
            }
        }
    }
}
