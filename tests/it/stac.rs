//! The local catalogue's STAC API (`/stac/v1`) against real STAC clients:
//! pystac-client (from PyPI, in the tests' venv) searches and pages by GET
//! and POST and must count what the archive's index holds; cleope's own
//! STAC client (`cleope::eo::stac`) searches by mission, area and dates,
//! pages, truncates, names the server's refusals and refuses a redirect
//! outside its network grant; and a script searches through
//! `catalogue(#{ url, dialect: "stac" })` and opens what it found.

use std::process::Command;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use cleope::catalogue::{Server, ServerConfig};
use cleope::eo::archive::{ArchiveIndex, ProductRecord};
use cleope::eo::geometry::{Aoi, BBox};
use cleope::eo::odata::client::{Client, ClientConfig, ClientError};
use cleope::eo::odata::wire::parse_instant;
use cleope::eo::odata::{Dialect, Query};
use cleope::eo::stac::collection_id;
use cleope::sandbox::Cancel;
use cleope::sandbox::grants::{Endpoint, NetGrants, Role};
use cleope_demo::{default_dir as demo_archive_dir, ensure as ensure_demo_archive};
use serde_json::Value;

use crate::common;
use common::fake_server::{FakeServer, Reply};

/// The demo archive and a catalogue over it (with its request log).
fn served() -> (ArchiveIndex, Server) {
    let dir = demo_archive_dir();
    let index = ensure_demo_archive(&dir).expect("the demo archive");
    let mut config = ServerConfig::new(&dir);
    config.admin = true;
    (index, Server::start(config).expect("the local catalogue"))
}

/// The records a STAC search for `collection`, `bbox` and `[from, to]`
/// must find, by the index itself (footprint intersects, times overlap).
fn expected<'a>(
    index: &'a ArchiveIndex,
    collection: &str,
    bbox: (f64, f64, f64, f64),
    from: &str,
    to: &str,
) -> Vec<&'a ProductRecord> {
    let area = Aoi::from_bbox(BBox::new(bbox.0, bbox.1, bbox.2, bbox.3).unwrap());
    let (from, to) = (parse_instant(from).unwrap(), parse_instant(to).unwrap());
    let mut found: Vec<&ProductRecord> = index
        .products
        .iter()
        .filter(|r| collection_id(&r.collection, &r.product_type) == collection)
        .filter(|r| Aoi::from_wkt(&r.footprint).is_ok_and(|f| f.intersects_aoi(&area)))
        .filter(|r| {
            let begin: DateTime<Utc> = parse_instant(&r.begin).unwrap();
            let end = parse_instant(&r.end).unwrap_or(begin);
            begin <= to && end >= from
        })
        .collect();
    found.sort_by(|a, b| {
        (parse_instant(&a.begin), &a.name).cmp(&(parse_instant(&b.begin), &b.name))
    });
    found
}

/// The eastern hemisphere and the year 2020: most of the demo archive's
/// Sentinel-1 and Sentinel-2 products, not all.
const AREA: (f64, f64, f64, f64) = (0.0, -40.0, 180.0, 60.0);
const FROM: &str = "2019-12-25T00:00:00Z";
const TO: &str = "2020-12-31T23:59:59Z";

/// A search by pystac-client, as a student would write it.
const PYSTAC: &str = r#"
import json, sys
from pystac_client import Client
url, collection, bbox, datetime, method = sys.argv[1:]
catalog = Client.open(url)
bbox = [float(v) for v in bbox.split(",")]
def search():
    return catalog.search(collections=[collection], bbox=bbox, datetime=datetime,
                          limit=2, max_items=None, method=method)
items = list(search().items())
assets = {k: {"href": a.href, "type": a.media_type, "bands": a.extra_fields.get("eo:bands")}
          for k, a in (items[0].assets.items() if items else [])}
print(json.dumps({
    "collections": sorted(c.id for c in catalog.get_collections()),
    "ids": [i.id for i in items],
    "matched": search().matched(),
    "pages": sum(1 for _ in search().pages()),
    "assets": assets,
}))
"#;

fn pystac(server: &Server, collection: &str, method: &str) -> Value {
    let bbox = format!("{},{},{},{}", AREA.0, AREA.1, AREA.2, AREA.3);
    let output = Command::new(common::venv::python())
        .args([
            "-c",
            PYSTAC,
            &format!("{}/", server.stac_base()),
            collection,
            &bbox,
        ])
        .arg(format!("{FROM}/{TO}"))
        .arg(method)
        .output()
        .expect("python runs");
    assert!(output.status.success(), "{}", common::venv::text(&output));
    serde_json::from_slice(&output.stdout).expect("the script prints JSON")
}

#[test]
fn pystac_client_pages_through_what_the_index_holds_by_get_and_post() {
    let (index, server) = served();
    for collection in ["sentinel-2-l2a", "sentinel-1-grd"] {
        let wanted: Vec<String> = expected(&index, collection, AREA, FROM, TO)
            .iter()
            .map(|r| cleope::eo::ens::name_stem(&r.name).to_string())
            .collect();
        assert!(
            wanted.len() >= 3,
            "{collection}: {} products, too few to page",
            wanted.len()
        );
        for method in ["GET", "POST"] {
            let answer = pystac(&server, collection, method);
            let ids: Vec<String> = serde_json::from_value(answer["ids"].clone()).unwrap();
            assert_eq!(ids, wanted, "{collection} by {method}");
            assert_eq!(answer["matched"], wanted.len(), "{collection} by {method}");
            assert_eq!(
                answer["pages"],
                wanted.len().div_ceil(2),
                "{collection} by {method}"
            );
            let collections = answer["collections"].as_array().unwrap();
            assert!(
                collections.iter().any(|c| c == "sentinel-2-l2a"),
                "{collections:?}"
            );
            let product = &answer["assets"]["product"];
            assert!(
                product["href"].as_str().unwrap().ends_with("/$value"),
                "{product}"
            );
            assert_eq!(product["type"], "application/zip");
        }
    }
    // Sentinel-2's band files are assets in CDSE's Nodes form, with their bands.
    let answer = pystac(&server, "sentinel-2-l2a", "GET");
    let (key, red) = answer["assets"]
        .as_object()
        .unwrap()
        .iter()
        .find(|(k, _)| k.starts_with("B04"))
        .expect("a B04 asset");
    let href = red["href"].as_str().unwrap();
    assert!(
        href.contains("/Products(")
            && href.contains(".SAFE)/Nodes(")
            && href.ends_with(".jp2)/$value"),
        "{key}: {href}"
    );
    assert_eq!(red["type"], "image/jp2");
    assert_eq!(red["bands"][0]["common_name"], "red");
}

fn stac_client(server: &Server, page_size: usize) -> Client {
    let mut config = ClientConfig::new(Dialect::Stac, &server.stac_base());
    config.page_size = page_size;
    Client::new(config, None)
}

fn search_requests(server: &Server) -> usize {
    let admin = server.admin_url().unwrap();
    let log: Value = reqwest::blocking::get(format!("{admin}/requests"))
        .unwrap()
        .json()
        .unwrap();
    let count = log
        .as_array()
        .or_else(|| log["requests"].as_array())
        .unwrap()
        .iter()
        .filter(|r| {
            r["path"]
                .as_str()
                .is_some_and(|p| p.ends_with("/stac/v1/search"))
        })
        .count();
    reqwest::blocking::Client::new()
        .delete(format!("{admin}/requests"))
        .send()
        .unwrap();
    count
}

#[test]
fn the_stac_client_searches_pages_and_truncates_behind_one_query() {
    let (index, server) = served();
    let wanted: Vec<&str> = expected(&index, "sentinel-2-l2a", AREA, FROM, TO)
        .iter()
        .map(|r| r.id.as_str())
        .collect();
    let query = Query {
        mission: Some("Sentinel-2".into()),
        product_type: Some("S2MSI2A".into()),
        aoi: Some(Aoi::from_bbox(
            BBox::new(AREA.0, AREA.1, AREA.2, AREA.3).unwrap(),
        )),
        sensed_from: parse_instant(FROM),
        sensed_to: parse_instant(TO),
        ..Query::default()
    };
    let cancel = Cancel::default();
    let client = stac_client(&server, 1);
    search_requests(&server);
    let found = client.search(&query, 1000, &cancel).unwrap();
    let names: Vec<String> = found.iter().map(|p| p.name.clone()).collect();
    let by_name: Vec<&str> = names
        .iter()
        .map(|n| {
            index
                .products
                .iter()
                .find(|r| cleope::eo::ens::name_stem(&r.name) == cleope::eo::ens::name_stem(n))
                .map(|r| r.id.as_str())
                .unwrap_or("?")
        })
        .collect();
    assert_eq!(by_name, wanted);
    assert!(wanted.len() >= 3, "at least 3 pages of 1");
    assert_eq!(search_requests(&server), wanted.len(), "one request a page");
    assert!(
        found
            .iter()
            .all(|p| p.mission.as_deref() == Some("Sentinel-2") && !p.assets.is_empty())
    );
    assert_eq!(client.count(&query, &cancel).unwrap(), wanted.len() as u64);
    let three = client.search(&query, 3, &cancel).unwrap();
    assert_eq!(three.len(), 3);
    assert_eq!(three[0].name, found[0].name);
    // The local catalogue announces no filter extension: the cloud limit is
    // applied by the client, item by item.
    let clear = Query {
        max_cloud: Some(0.5),
        ..query.clone()
    };
    let kept: Vec<String> = client
        .search(&clear, 1000, &cancel)
        .unwrap()
        .iter()
        .map(|p| cleope::eo::ens::name_stem(&p.name).to_string())
        .collect();
    let cloud = |name: &str| {
        index
            .products
            .iter()
            .find(|r| cleope::eo::ens::name_stem(&r.name) == name)
            .and_then(|r| r.attributes.get("cloudCover")?.as_f64())
    };
    let expected_clear: Vec<String> = names
        .iter()
        .map(|n| cleope::eo::ens::name_stem(n).to_string())
        .filter(|n| cloud(n).is_some_and(|c| c <= 0.5))
        .collect();
    assert_eq!(kept, expected_clear);
    assert!(
        !kept.is_empty() && kept.len() < names.len(),
        "{kept:?} of {names:?}"
    );
}

#[test]
fn a_refused_search_is_a_named_error_with_the_servers_reason() {
    let (_, server) = served();
    let query = Query {
        sensed_from: parse_instant("2021-01-01T00:00:00Z"),
        sensed_to: parse_instant("2020-01-01T00:00:00Z"),
        ..Query::default()
    };
    let error = stac_client(&server, 10)
        .search(&query, 10, &Cancel::default())
        .unwrap_err();
    assert!(
        matches!(error, ClientError::Rejected { status: 400, .. }),
        "{error:?}"
    );
    assert!(
        error.to_string().contains("ends before it starts"),
        "{error}"
    );
    assert!(!error.hint().is_empty());
}

#[test]
fn a_redirect_outside_the_grant_is_refused_before_it_is_followed() {
    let elsewhere = FakeServer::start(|_| Reply::json("{}"));
    let target = elsewhere.url("/stac/v1/");
    let redirecting =
        FakeServer::start(move |_| Reply::status(302, &[("Location", target.as_str())], ""));
    let mut grants = NetGrants::default();
    grants.grant(Endpoint::of_url(&redirecting.url("/"), Role::Catalogue).unwrap());
    let mut config = ClientConfig::new(Dialect::Stac, &redirecting.url("/stac/v1"));
    config.net = Some(Arc::new(grants));
    let error = Client::new(config, None)
        .search(&Query::default(), 10, &Cancel::default())
        .unwrap_err();
    assert!(matches!(error, ClientError::NotGranted(_)), "{error:?}");
    assert_eq!(
        elsewhere.seen().len(),
        0,
        "nothing reached the host outside the grant"
    );
    assert_eq!(redirecting.seen().len(), 1);
}

#[test]
fn a_script_searches_a_stac_catalogue_and_opens_what_it_found() {
    let mut test = common::TestSession::new(|_| {});
    test.exec(
        r#"
        catalogue("stac");
        print(`sentinel-2 ${odata_count(#{ mission: "Sentinel-2" })}`);
        let local_stac = catalogue().url;
        catalogue(#{ url: local_stac, dialect: "stac" });
        let found = odata_search(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 2 });
        print(`found ${found.len()} in a ${catalogue().dialect} catalogue at ${catalogue().url == local_stac}`);
        let first = found[0];
        let safe = ens_open(first);
        print(`red ${safe.files("*B04_10m.jp2").len()} asset ${first.assets.keys().contains("product")}`);
        let mine = stac_search(#{ mission: "Sentinel-2", product_type: "S2MSI2A", max_results: 2 });
        print(`same ${mine[0].name == first.name} collections ${stac_collections().len() > 3}`);
        print(first);
        "#,
    )
    .unwrap();
    let out = test.stdout();
    assert!(
        out.contains("sentinel-2 8\n"),
        "7 L2A and 1 L1C products: {out}"
    );
    assert!(out.contains("found 2 in a stac catalogue at true"), "{out}");
    assert!(out.contains("red 1 asset true"), "{out}");
    assert!(out.contains("same true collections true"), "{out}");
    assert!(
        out.contains(" assets: product, "),
        "assets are printed: {out}"
    );
}
