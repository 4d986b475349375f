//! The local catalogue over real HTTP on loopback, in both dialects: counts
//! and paging across page boundaries, exact area intersection, date and type
//! filters, CDSE's 422 answers, orders restored after a delay and the hourly
//! quota, ranged downloads, logins (Basic, tokens, the download redirect),
//! the injected faults, and `cleope catalogue serve` itself.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeZone, Utc};
use cleope::catalogue::{Account, Server, ServerConfig};
use cleope::demo::{ArchiveBuilder, ArchiveIndex, DemoOptions, Packing, ProductSpec};
use cleope::eo::geometry::{Aoi, BBox};
use cleope::eo::odata::response::{CdseResponse, OndaEntry, OndaResponse};
use cleope::eo::odata::{Page, Query, SortOrder, cdse, onda};
use reqwest::StatusCode;
use reqwest::blocking::{Client, Response};
use serde_json::{Value, json};

const S2_COUNT: usize = 250;
const S1_OFFLINE: usize = 25;
const S5P_BYTES: usize = 200_000;

/// The start of the S2 series; product `i` starts `i` × 6 h later.
fn s2_start(i: usize) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2020, 1, 1, 0, 0, 0).unwrap() + chrono::Duration::hours(6 * i as i64)
}

fn compact(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%S").to_string()
}

fn rfc(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

fn s2_name(i: usize) -> String {
    let t = compact(s2_start(i));
    format!("S2A_MSIL2A_{t}_N0214_R022_T32TQM_{t}")
}

fn s1_name(i: usize) -> String {
    let start =
        Utc.with_ymd_and_hms(2020, 3, 1, 5, 0, 0).unwrap() + chrono::Duration::days(i as i64);
    let stop = start + chrono::Duration::seconds(25);
    format!(
        "S1A_IW_GRDH_1SDV_{}_{}_0312{i:02}_03A1B2_{:04X}",
        compact(start),
        compact(stop),
        i
    )
}

const TRIANGLE: &str = "S3A_OL_2_LFR____20200601T095000_20200601T095300_20200601T120000_0179_059_022_2160_LN1_O_NT_002";
const SQUARE: &str = "S3B_OL_2_LFR____20200601T101000_20200601T101300_20200601T130000_0179_039_122_2160_LN1_O_NT_002";
const S5P: &str =
    "S5P_OFFL_L2__NO2____20200601T100000_20200601T114000_13651_01_010302_20200603T030000";

fn box_ring(lon0: f64, lat0: f64, lon1: f64, lat1: f64) -> Vec<(f64, f64)> {
    vec![
        (lon0, lat0),
        (lon1, lat0),
        (lon1, lat1),
        (lon0, lat1),
        (lon0, lat0),
    ]
}

#[allow(clippy::too_many_arguments)]
fn spec(
    name: &str,
    cdse_ext: &str,
    mission: &str,
    collection: &str,
    product_type: &str,
    begin: DateTime<Utc>,
    seconds: i64,
    footprint: Vec<(f64, f64)>,
    pseudo_root: &str,
    online: bool,
    packing: Packing,
) -> ProductSpec {
    let day = begin.format("%Y/%m/%d").to_string();
    let onda_name = match packing {
        Packing::Zip => format!("{name}.zip"),
        Packing::TarGz => format!("{name}.tar.gz"),
        Packing::File => format!("{name}.nc"),
    };
    ProductSpec {
        name: onda_name,
        cdse_name: Some(format!("{name}{cdse_ext}")),
        mission: Some(mission.into()),
        collection: collection.into(),
        product_type: product_type.into(),
        main_class: None,
        begin: rfc(begin),
        end: rfc(begin + chrono::Duration::seconds(seconds)),
        footprint,
        pseudopath: format!("{pseudo_root}/{day}"),
        s3_folder: format!("/eodata/{}/{day}", mission.replace(' ', "-")),
        online,
        packing,
        attributes: serde_json::Map::new(),
    }
}

/// Writes one product through the archive builder: a tiny SAFE-like folder
/// (zipped for download) or a file of `bytes` deterministic bytes.
fn add(builder: &mut ArchiveBuilder, mut spec: ProductSpec, cloud: Option<f64>, bytes: usize) {
    if let Some(cloud) = cloud {
        spec.attributes.insert("cloudCover".into(), json!(cloud));
    }
    let staged = builder.staging(&spec).unwrap();
    match spec.packing {
        Packing::Zip | Packing::TarGz => {
            let safe = staged.join(spec.cdse_name.clone().unwrap());
            std::fs::create_dir_all(&safe).unwrap();
            std::fs::write(
                safe.join("manifest.safe"),
                format!("<manifest name=\"{}\"/>", spec.name),
            )
            .unwrap();
        }
        Packing::File => {
            let content: Vec<u8> = (0..bytes).map(|i| (i * 31 % 251) as u8).collect();
            std::fs::write(&staged, content).unwrap();
        }
    }
    builder.finish(spec).unwrap();
}

/// The test archive:
/// * 250 Sentinel-2 L2A products over [10,11]x[40,41], every 6 h from
///   2020-01-01, cloud cover `i*7 % 100`;
/// * 25 archived Sentinel-1 GRD products over [12,13]x[44,45], daily from 2020-03-01;
/// * two Sentinel-3 products: a triangle whose bounding box overlaps
///   [21.5,22]x[41.5,42] but whose polygon does not, and a square that does;
/// * one Sentinel-5P netCDF-like file of 200,000 bytes (ranges, cuts).
fn build_archive(root: &Path) -> ArchiveIndex {
    let mut builder = ArchiveBuilder::new(root, DemoOptions::default()).unwrap();
    for i in 0..S2_COUNT {
        let s = spec(
            &s2_name(i),
            ".SAFE",
            "Sentinel-2",
            "SENTINEL-2",
            "S2MSI2A",
            s2_start(i),
            25,
            box_ring(10.0, 40.0, 11.0, 41.0),
            "OPTICAL/LEVEL-2A",
            true,
            Packing::Zip,
        );
        add(&mut builder, s, Some((i * 7 % 100) as f64), 0);
    }
    for i in 0..S1_OFFLINE {
        let start =
            Utc.with_ymd_and_hms(2020, 3, 1, 5, 0, 0).unwrap() + chrono::Duration::days(i as i64);
        let s = spec(
            &s1_name(i),
            ".SAFE",
            "Sentinel-1",
            "SENTINEL-1",
            "IW_GRDH_1S",
            start,
            25,
            box_ring(12.0, 44.0, 13.0, 45.0),
            "RADAR/LEVEL-1",
            false,
            Packing::Zip,
        );
        add(&mut builder, s, None, 0);
    }
    let june = Utc.with_ymd_and_hms(2020, 6, 1, 9, 50, 0).unwrap();
    let triangle = vec![(20.0, 40.0), (22.0, 40.0), (20.0, 42.0), (20.0, 40.0)];
    let s = spec(
        TRIANGLE,
        ".SEN3",
        "Sentinel-3",
        "SENTINEL-3",
        "OL_2_LFR___",
        june,
        180,
        triangle,
        "OPTICAL/LEVEL-2",
        true,
        Packing::Zip,
    );
    add(&mut builder, s, None, 0);
    let s = spec(
        SQUARE,
        ".SEN3",
        "Sentinel-3",
        "SENTINEL-3",
        "OL_2_LFR___",
        june + chrono::Duration::minutes(20),
        180,
        box_ring(21.8, 41.8, 23.0, 43.0),
        "OPTICAL/LEVEL-2",
        true,
        Packing::Zip,
    );
    add(&mut builder, s, None, 0);
    let s = spec(
        S5P,
        ".nc",
        "Sentinel-5 Precursor",
        "SENTINEL-5P",
        "L2__NO2___",
        june + chrono::Duration::minutes(10),
        6000,
        box_ring(0.0, 45.0, 10.0, 55.0),
        "ATMOSPHERIC/LEVEL-2",
        true,
        Packing::File,
    );
    add(&mut builder, s, None, S5P_BYTES);
    builder.write_index().unwrap()
}

struct Fixture {
    _dir: tempfile::TempDir,
    archive: PathBuf,
    index: ArchiveIndex,
    server: Server,
    password: String,
    http: Client,
}

const USER: &str = "ada";

fn fixture(adjust: impl FnOnce(&mut ServerConfig)) -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let index = build_archive(&archive);
    let password = format!("pw-{}", uuid::Uuid::new_v4().simple());
    let mut config = ServerConfig::new(&archive);
    config.accounts = vec![
        Account::new(USER, &password),
        Account::new("bob", &password),
    ];
    config.restore_delay = Duration::from_millis(1500);
    config.admin = true;
    adjust(&mut config);
    let server = Server::start(config).unwrap();
    assert_eq!(server.product_count(), index.products.len());
    let http = Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    Fixture {
        _dir: dir,
        archive,
        index,
        server,
        password,
        http,
    }
}

impl Fixture {
    fn get(&self, url: &str) -> Response {
        self.http.get(url).send().unwrap()
    }

    fn json(&self, url: &str) -> Value {
        let response = self.get(url);
        assert_eq!(response.status(), StatusCode::OK, "{url}");
        response.json().unwrap()
    }

    fn record(&self, name: &str) -> &cleope::demo::ProductRecord {
        self.index
            .products
            .iter()
            .find(|p| p.name.starts_with(name))
            .unwrap()
    }

    fn onda_count(&self, query: &Query) -> usize {
        let response = self.get(&onda::count_url(&self.server.onda_base(), query).unwrap());
        assert_eq!(response.status(), StatusCode::OK);
        let body = response.text().unwrap();
        assert!(
            body.chars().all(|c| c.is_ascii_digit()),
            "a bare integer: {body:?}"
        );
        body.parse().unwrap()
    }

    /// Every result, page by page, as a client pages ONDA.
    fn onda_all(&self, query: &Query, top: usize) -> (Vec<OndaEntry>, usize) {
        let mut all = Vec::new();
        let mut pages = 0;
        loop {
            let page = Page {
                top,
                skip: all.len(),
            };
            let url = onda::search_url(&self.server.onda_base(), query, page).unwrap();
            let answer: OndaResponse = serde_json::from_value(self.json(&url)).unwrap();
            pages += 1;
            let got = answer.value.len();
            all.extend(answer.value);
            if got < top {
                return (all, pages);
            }
        }
    }

    /// Every result, following `@odata.nextLink`; the count and the pages.
    fn cdse_all(&self, query: &Query, top: usize) -> (u64, Vec<String>, usize) {
        let mut url =
            cdse::search_url(&self.server.cdse_base(), query, Page { top, skip: 0 }, true).unwrap();
        let mut names = Vec::new();
        let mut pages = 0;
        let mut count = None;
        loop {
            let answer: CdseResponse = serde_json::from_value(self.json(&url)).unwrap();
            pages += 1;
            assert!(answer.value.len() <= top);
            count = count.or(answer.count);
            names.extend(answer.value.into_iter().map(|e| e.name));
            match answer.next_link {
                Some(next) => url = next,
                None => return (count.unwrap(), names, pages),
            }
        }
    }

    fn basic(
        &self,
        builder: reqwest::blocking::RequestBuilder,
    ) -> reqwest::blocking::RequestBuilder {
        builder.basic_auth(USER, Some(&self.password))
    }

    fn token(&self) -> Value {
        let response = self
            .http
            .post(self.server.token_url())
            .form(&[
                ("grant_type", "password"),
                ("username", USER),
                ("password", self.password.as_str()),
                ("client_id", "cdse-public"),
            ])
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
        response.json().unwrap()
    }

    fn admin(&self, fault: Value) {
        let url = format!("{}/faults", self.server.admin_url().unwrap());
        let response = self.http.post(url).body(fault.to_string()).send().unwrap();
        assert_eq!(
            response.status(),
            StatusCode::CREATED,
            "{}",
            response.text().unwrap()
        );
    }
}

fn s2_query() -> Query {
    Query {
        mission: Some("Sentinel-2".into()),
        product_type: Some("S2MSI2A".into()),
        ..Query::default()
    }
}

/// The first `n` S2 products: sensing ends by the n-th one's end.
fn first_s2(n: usize) -> Query {
    Query {
        sensed_to: Some(s2_start(n - 1) + chrono::Duration::seconds(25)),
        ..s2_query()
    }
}

fn nowhere() -> Query {
    Query {
        aoi: Some(Aoi::from_bbox(
            BBox::new(-70.0, -40.0, -69.0, -39.0).unwrap(),
        )),
        ..Query::default()
    }
}

fn one_by_name() -> Query {
    Query {
        name: Some(format!("{}.zip", s2_name(42))),
        ..Query::default()
    }
}

#[test]
fn onda_counts_are_bare_integers_and_pages_cover_every_result_once() {
    let f = fixture(|_| {});
    let cases = [
        (nowhere(), 0),
        (one_by_name(), 1),
        (first_s2(100), 100),
        (first_s2(101), 101),
        (s2_query(), 250),
    ];
    for (query, expected) in cases {
        assert_eq!(f.onda_count(&query), expected, "{query:?}");
        let (entries, pages) = f.onda_all(&query, 100);
        assert_eq!(entries.len(), expected);
        assert_eq!(pages, expected / 100 + 1, "pages of 100 for {expected}");
        let ids: HashSet<&str> = entries.iter().map(|e| e.id.as_str()).collect();
        assert_eq!(ids.len(), expected, "every result exactly once");
        let begins: Vec<&str> = entries.iter().map(|e| e.begin_position.as_str()).collect();
        assert!(
            begins.windows(2).all(|w| w[0] <= w[1]),
            "ascending sensing start"
        );
    }
    // The first entry of the name search is the product, with the fields CLEOPE read.
    let (entries, _) = f.onda_all(&one_by_name(), 10);
    let record = f.record(&s2_name(42));
    let product = entries[0].to_product().unwrap();
    assert_eq!(product.id, record.id);
    assert_eq!(
        product.pseudopath.as_deref(),
        Some(record.pseudopath.as_str())
    );
    assert!(
        entries[0].pseudopath.contains(", "),
        "a comma-separated list"
    );
    assert_eq!(product.size, record.size);
    assert!(product.online);
    // Descending order reverses the series.
    let newest_first = Query {
        order: SortOrder::SensingDescending,
        ..first_s2(3)
    };
    let (entries, _) = f.onda_all(&newest_first, 10);
    let names: Vec<String> = entries.iter().map(|e| e.name.clone()).collect();
    assert_eq!(names, [2, 1, 0].map(|i| format!("{}.zip", s2_name(i))));
}

#[test]
fn cdse_counts_and_next_links_cover_every_result_once() {
    let f = fixture(|_| {});
    let cases = [
        (nowhere(), 0),
        (one_by_name(), 1),
        (first_s2(100), 100),
        (first_s2(101), 101),
        (s2_query(), 250),
    ];
    for (query, expected) in cases {
        let (count, names, pages) = f.cdse_all(&query, 100);
        assert_eq!(count as usize, expected, "{query:?}");
        assert_eq!(names.len(), expected);
        assert_eq!(names.iter().collect::<HashSet<_>>().len(), expected);
        assert_eq!(
            pages,
            expected.div_ceil(100).max(1),
            "{expected} in pages of 100"
        );
        assert!(names.iter().all(|n| n.ends_with(".SAFE")), "CDSE names");
    }
    // A page of 20 (the default) with the count, attributes expanded.
    let url = cdse::search_url(
        &f.server.cdse_base(),
        &first_s2(30),
        Page { top: 20, skip: 0 },
        true,
    )
    .unwrap();
    let answer = f.json(&url);
    assert_eq!(
        answer["@odata.context"],
        json!("$metadata#Products(Attributes())")
    );
    assert_eq!(answer["@odata.count"], json!(30));
    let next = answer["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/Products?", f.server.cdse_base())),
        "{next}"
    );
    assert!(next.contains("%24skip=20"), "{next}");
    let entry = &answer["value"][0];
    let record = f.record(&s2_name(0));
    assert_eq!(entry["Id"], json!(record.id));
    assert_eq!(entry["ContentLength"], json!(record.size));
    assert_eq!(
        entry["Checksum"][0],
        json!({"Value": record.md5, "Algorithm": "MD5", "ChecksumDate": entry["Checksum"][0]["ChecksumDate"]})
    );
    assert_eq!(entry["Checksum"][1]["Algorithm"], json!("BLAKE3"));
    assert_eq!(entry["Checksum"][1]["Value"], json!(record.blake3));
    assert!(
        entry["Footprint"]
            .as_str()
            .unwrap()
            .starts_with("geography'SRID=4326;POLYGON")
    );
    assert_eq!(entry["GeoFootprint"]["type"], json!("Polygon"));
    let attributes = entry["Attributes"].as_array().unwrap();
    assert!(
        attributes
            .iter()
            .any(|a| a["Name"] == json!("cloudCover") && a["ValueType"] == json!("Double"))
    );
    // Without $count and $expand: no count, no attributes.
    let url = format!("{}/Products?$top=1", f.server.cdse_base());
    let answer = f.json(&url);
    assert!(answer.get("@odata.count").is_none());
    assert!(answer["value"][0].get("Attributes").is_none());
    // One product by id.
    let one = f.json(&cdse::product_url(&f.server.cdse_base(), &record.id));
    assert_eq!(one["Name"], json!(record.cdse_name));
    assert_eq!(one["@odata.context"], json!("$metadata#Products/$entity"));
}

#[test]
fn areas_intersect_exactly_not_by_bounding_box() {
    let f = fixture(|_| {});
    let corner = Query {
        aoi: Some(Aoi::from_bbox(BBox::new(21.5, 41.5, 22.0, 42.0).unwrap())),
        ..Query::default()
    };
    let (entries, _) = f.onda_all(&corner, 100);
    let names: Vec<&str> = entries.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, [format!("{SQUARE}.zip")]);
    let (_, names, _) = f.cdse_all(&corner, 100);
    assert_eq!(names, [format!("{SQUARE}.SEN3")]);
    // Inside the triangle, both footprints' boxes overlap; only the triangle meets.
    let inside = Query {
        aoi: Some(Aoi::from_bbox(BBox::new(20.1, 40.1, 20.5, 40.5).unwrap())),
        ..Query::default()
    };
    assert_eq!(f.onda_count(&inside), 1);
    // A hand-written CDSE point query.
    let url = format!(
        "{}/Products?$filter=OData.CSC.Intersects(area=geography'SRID=4326;POINT(22.5 42.5)')&$count=true",
        f.server.cdse_base()
    );
    assert_eq!(f.json(&url)["@odata.count"], json!(1));
}

#[test]
fn date_type_and_cloud_filters_in_both_dialects() {
    let f = fixture(|_| {});
    let january_2 = Query {
        sensed_from: Some(Utc.with_ymd_and_hms(2020, 1, 2, 0, 0, 0).unwrap()),
        sensed_to: Some(Utc.with_ymd_and_hms(2020, 1, 3, 23, 59, 59).unwrap()),
        ..Query::default()
    };
    let grd = Query {
        mission: Some("Sentinel-1".into()),
        product_type: Some("GRD".into()),
        ..Query::default()
    };
    let clear = Query {
        max_cloud: Some(20.0),
        ..s2_query()
    };
    let expected_clear = (0..S2_COUNT)
        .filter(|i| (i * 7 % 100) as f64 <= 20.0)
        .count();
    let no5p = Query {
        mission: Some("Sentinel-5 Precursor".into()),
        product_type: Some("L2__NO2___".into()),
        ..Query::default()
    };
    for (query, expected) in [
        (january_2, 8),
        (grd, S1_OFFLINE),
        (clear, expected_clear),
        (no5p, 1),
    ] {
        assert_eq!(f.onda_count(&query), expected, "ONDA {query:?}");
        let (count, _, _) = f.cdse_all(&query, 1000);
        assert_eq!(count as usize, expected, "CDSE {query:?}");
    }
    // The CLEOPE form itself, with its `orderby` lacking the `$`.
    let url = format!(
        "{}/Products?$search=%22(%20(%20(%20platformName:Sentinel-2%20AND%20productType:S2MSI2A%20)%20)%20AND%20(%20(%20beginPosition:[2020-01-02T00:00:00.000Z%20TO%202020-01-03T23:59:59.999Z]%20AND%20endPosition:[2020-01-02T00:00:00.000Z%20TO%202020-01-03T23:59:59.999Z]%20)%20)%20)%20AND%20footprint:%22Intersects(POLYGON((9%2039,12%2039,12%2042,9%2042,9%2039)))%22%22&$format=json&orderby=creationDate%20asc&$top=100&$skip=0",
        f.server.onda_base()
    );
    let answer: OndaResponse = serde_json::from_value(f.json(&url)).unwrap();
    assert_eq!(answer.value.len(), 8);
    // A malformed search is a 400 naming the place.
    let response = f.get(&format!(
        "{}/Products?$search=%22platformName:Sentinel-2%20AND%20(%22",
        f.server.onda_base()
    ));
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    let body = response.text().unwrap();
    assert!(body.contains("at position"), "{body}");
    let response = f.get(&format!(
        "{}/Products?$filter=Name%20eqq%20'x'",
        f.server.cdse_base()
    ));
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert!(response.text().unwrap().contains("'eqq'"));
}

#[test]
fn cdse_answers_422_with_its_own_body_past_the_limits() {
    let f = fixture(|_| {});
    let base = f.server.cdse_base();
    let cases = [
        (
            format!("{base}/Products?$skip=10001"),
            json!({"detail": [{"type": "less_than_equal", "loc": ["query", "$skip"], "msg": "Input should be less than or equal to 10000", "input": "10001", "ctx": {"le": 10000}}]}),
        ),
        (
            format!("{base}/Products?$top=1001"),
            json!({"detail": [{"type": "less_than_equal", "loc": ["query", "$top"], "msg": "Input should be less than or equal to 1000", "input": "1001", "ctx": {"le": 1000}}]}),
        ),
        (
            format!("{base}/Products?$top=-1"),
            json!({"detail": [{"type": "greater_than_equal", "loc": ["query", "$top"], "msg": "Input should be greater than or equal to 0", "input": "-1", "ctx": {"ge": 0}}]}),
        ),
        (
            format!("{base}/Products?$top=many"),
            json!({"detail": [{"type": "int_parsing", "loc": ["query", "$top"], "msg": "Input should be a valid integer, unable to parse string as an integer", "input": "many"}]}),
        ),
    ];
    for (url, body) in cases {
        let response = f.get(&url);
        assert_eq!(response.status(), StatusCode::UNPROCESSABLE_ENTITY, "{url}");
        assert_eq!(response.json::<Value>().unwrap(), body);
    }
    // The limits themselves are served; nothing lies past the last page.
    let answer = f.json(&format!("{base}/Products?$top=1000&$skip=10000"));
    assert_eq!(answer["value"], json!([]));
    assert!(answer.get("@odata.nextLink").is_none());
}

#[test]
fn onda_orders_restore_after_the_delay_and_ens_sees_the_product() {
    let f = fixture(|_| {});
    let record = f.record(&s1_name(0)).clone();
    let entry_url = onda::product_url(&f.server.onda_base(), &record.id);
    assert_eq!(f.json(&entry_url)["offline"], json!(true));
    // Offline: the download says to order it.
    let download = onda::download_url(&f.server.onda_base(), &record.id);
    let response = f.basic(f.http.get(&download)).send().unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert!(response.text().unwrap().contains("Ens.Order"));
    let before = Utc::now();
    let response = f
        .basic(
            f.http
                .post(onda::order_url(&f.server.onda_base(), &record.id)),
        )
        .header("Content-Type", "application/json")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["Status"], json!("RUNNING"));
    let estimated = chrono::NaiveDateTime::parse_from_str(
        answer["EstimatedTime"].as_str().unwrap(),
        "%Y-%m-%dT%H:%M:%S%.fZ",
    )
    .unwrap()
    .and_utc();
    let wait = (estimated - before).num_milliseconds();
    assert!(
        (1400..2500).contains(&wait),
        "restored in about 1.5 s, not {wait} ms"
    );
    assert_eq!(f.json(&entry_url)["offline"], json!(true), "not yet");
    assert!(f.archive.join(record.offline_relative()).exists());
    // Ordering it again is the same order.
    let again: Value = f
        .basic(
            f.http
                .post(onda::order_url(&f.server.onda_base(), &record.id)),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(again["EstimatedTime"], answer["EstimatedTime"]);
    std::thread::sleep(Duration::from_millis(2000));
    // Restored by the server's own timer: ENS sees it without another request.
    assert!(
        f.archive
            .join(record.ens_relative())
            .join(&record.cdse_name)
            .join("manifest.safe")
            .exists()
    );
    assert!(!f.archive.join(record.offline_relative()).exists());
    assert_eq!(f.json(&entry_url)["offline"], json!(false));
    let response = f.basic(f.http.get(&download)).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.bytes().unwrap().len() as u64, record.size);
    // An online product's order is complete at once.
    let done: Value = f
        .basic(
            f.http
                .post(onda::order_url(&f.server.onda_base(), &record.id)),
        )
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(done["Status"], json!("COMPLETED"));
}

#[test]
fn the_twenty_first_order_in_an_hour_is_refused() {
    let f = fixture(|config| config.restore_delay = Duration::from_secs(600));
    let offline: Vec<String> = (0..S1_OFFLINE)
        .map(|i| f.record(&s1_name(i)).id.clone())
        .collect();
    for id in &offline[..20] {
        let response = f
            .basic(f.http.post(onda::order_url(&f.server.onda_base(), id)))
            .send()
            .unwrap();
        assert_eq!(response.status(), StatusCode::OK);
    }
    // Re-ordering a running order does not count.
    let response = f
        .basic(
            f.http
                .post(onda::order_url(&f.server.onda_base(), &offline[0])),
        )
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let response = f
        .basic(
            f.http
                .post(onda::order_url(&f.server.onda_base(), &offline[20])),
        )
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    let message = response.json::<Value>().unwrap()["error"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(
        message.contains("20 orders in the last hour")
            && message.contains("next order is possible at"),
        "{message}"
    );
    // The quota is per user, and the same in the CDSE dialect.
    let response = f
        .http
        .post(onda::order_url(&f.server.onda_base(), &offline[20]))
        .basic_auth("bob", Some(&f.password))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let token = f.token();
    let response = f
        .http
        .post(cdse::order_url(&f.server.cdse_base(), &offline[21]))
        .bearer_auth(token["access_token"].as_str().unwrap())
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(response.text().unwrap().contains("order quota exceeded"));
}

#[test]
fn cdse_orders_answer_in_cdse_form() {
    let f = fixture(|config| config.restore_delay = Duration::from_millis(300));
    let record = f.record(&s1_name(3)).clone();
    let token = f.token();
    let access = token["access_token"].as_str().unwrap();
    let response = f
        .http
        .post(cdse::order_url(&f.server.cdse_base(), &record.id))
        .bearer_auth(access)
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let answer: Value = response.json().unwrap();
    assert_eq!(answer["value"]["Status"], json!("queued"));
    assert!(
        answer["value"]["EstimatedDate"]
            .as_str()
            .unwrap()
            .ends_with('Z')
    );
    std::thread::sleep(Duration::from_millis(700));
    let entry = f.json(&cdse::product_url(&f.server.cdse_base(), &record.id));
    assert_eq!(entry["Online"], json!(true));
}

#[test]
fn downloads_serve_ranges_with_checksums() {
    let f = fixture(|_| {});
    let record = f.record(S5P).clone();
    let url = onda::download_url(&f.server.onda_base(), &record.id);
    let response = f.basic(f.http.get(&url)).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.content_length(), Some(S5P_BYTES as u64));
    assert_eq!(response.headers()["accept-ranges"], "bytes");
    let whole = response.bytes().unwrap();
    let file = f._dir.path().join("whole.nc");
    std::fs::write(&file, &whole).unwrap();
    let (size, md5, blake3) = cleope::eo::archive::checksums(&file).unwrap();
    assert_eq!(
        (size, md5.as_str(), blake3.as_str()),
        (record.size, record.md5.as_str(), record.blake3.as_str())
    );
    // From an offset to the end.
    let response = f
        .basic(f.http.get(&url))
        .header("Range", "bytes=150000-")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 150000-{}/{}", S5P_BYTES - 1, S5P_BYTES).as_str()
    );
    assert_eq!(response.content_length(), Some(50_000));
    assert_eq!(&response.bytes().unwrap()[..], &whole[150_000..]);
    // A closed range.
    let response = f
        .basic(f.http.get(&url))
        .header("Range", "bytes=10-19")
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes 10-19/{S5P_BYTES}").as_str()
    );
    assert_eq!(&response.bytes().unwrap()[..], &whole[10..20]);
    // Past the end.
    let response = f
        .basic(f.http.get(&url))
        .header("Range", format!("bytes={S5P_BYTES}-"))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::RANGE_NOT_SATISFIABLE);
    assert_eq!(
        response.headers()["content-range"],
        format!("bytes */{S5P_BYTES}").as_str()
    );
}

#[test]
fn onda_downloads_need_the_account_and_never_repeat_the_password() {
    let f = fixture(|_| {});
    let record = f.record(&s2_name(7)).clone();
    let url = onda::download_url(&f.server.onda_base(), &record.id);
    let response = f.get(&url);
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(
        response.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    assert!(response.text().unwrap().contains("HTTP Basic"));
    let wrong = "not-the-password-1234";
    let response = f
        .http
        .get(&url)
        .basic_auth(USER, Some(wrong))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.text().unwrap();
    assert!(
        body.contains("wrong user name or password for user \\\"ada\\\""),
        "{body}"
    );
    assert!(!body.contains(wrong));
    let response = f.basic(f.http.get(&url)).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    assert_eq!(response.headers()["content-type"], "application/zip");
    let zipped = response.bytes().unwrap();
    assert_eq!(zipped.len() as u64, record.size);
    let archive = zip::ZipArchive::new(std::io::Cursor::new(zipped.to_vec())).unwrap();
    assert!(
        archive
            .file_names()
            .any(|n| n.is_ok_and(|n| n.ends_with("manifest.safe")))
    );
    // Orders need the account too.
    let response = f
        .http
        .post(onda::order_url(&f.server.onda_base(), &record.id))
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
}

#[test]
fn cdse_tokens_bearer_checks_and_the_download_redirect() {
    let f = fixture(|_| {});
    let record = f.record(&s2_name(9)).clone();
    // The login: a wrong password is refused without being repeated.
    let wrong = "wrong-password-5678";
    let response = f
        .http
        .post(f.server.token_url())
        .form(&[
            ("grant_type", "password"),
            ("username", USER),
            ("password", wrong),
            ("client_id", "cdse-public"),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let body = response.text().unwrap();
    assert!(
        body.contains("invalid_grant") && !body.contains(wrong),
        "{body}"
    );
    let response = f
        .http
        .post(f.server.token_url())
        .form(&[
            ("grant_type", "password"),
            ("username", USER),
            ("password", f.password.as_str()),
            ("client_id", "other"),
        ])
        .send()
        .unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    let token = f.token();
    assert_eq!(token["token_type"], json!("Bearer"));
    assert_eq!(token["expires_in"], json!(600));
    assert_eq!(token["refresh_expires_in"], json!(3600));
    let access = token["access_token"].as_str().unwrap().to_string();
    // $value: no token, 401; with it, a redirect to the other listener.
    let url = cdse::download_url(&f.server.cdse_base(), &record.id);
    assert_eq!(f.get(&url).status(), StatusCode::UNAUTHORIZED);
    let response = f.http.get(&url).bearer_auth(&access).send().unwrap();
    assert_eq!(response.status(), StatusCode::TEMPORARY_REDIRECT);
    let location = response.headers()["location"].to_str().unwrap().to_string();
    assert!(
        location.starts_with(&f.server.download_base()),
        "{location}"
    );
    let port = |u: &str| url::Url::parse(u).unwrap().port();
    assert_ne!(
        port(&location),
        port(&f.server.cdse_base()),
        "another address"
    );
    // The download host checks the token too: a client that drops it fails.
    assert_eq!(f.get(&location).status(), StatusCode::UNAUTHORIZED);
    let response = f.http.get(&location).bearer_auth(&access).send().unwrap();
    assert_eq!(response.status(), StatusCode::OK);
    let disposition = response.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .to_string();
    assert!(
        disposition.contains(&format!("{}.zip", record.cdse_name)),
        "{disposition}"
    );
    let bytes = response.bytes().unwrap();
    let file = f._dir.path().join("cdse.zip");
    std::fs::write(&file, &bytes).unwrap();
    assert_eq!(cleope::eo::archive::checksums(&file).unwrap().1, record.md5);
    // reqwest's own redirect policy drops Authorization across ports: refused.
    let following = Client::new();
    let response = following.get(&url).bearer_auth(&access).send().unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    // A refresh token gives a new access token, once.
    let refresh = token["refresh_token"].as_str().unwrap();
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh),
        ("client_id", "cdse-public"),
    ];
    let renewed: Value = f
        .http
        .post(f.server.token_url())
        .form(&form)
        .send()
        .unwrap()
        .json()
        .unwrap();
    let new_access = renewed["access_token"].as_str().unwrap();
    assert_ne!(new_access, access);
    assert_eq!(
        f.http
            .get(&url)
            .bearer_auth(new_access)
            .send()
            .unwrap()
            .status(),
        StatusCode::TEMPORARY_REDIRECT
    );
    let again = f
        .http
        .post(f.server.token_url())
        .form(&form)
        .send()
        .unwrap();
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
}

#[test]
fn expired_tokens_are_refused() {
    let f = fixture(|config| config.token_lifetime = Duration::from_millis(600));
    let token = f.token();
    let access = token["access_token"].as_str().unwrap();
    let url = cdse::download_url(&f.server.cdse_base(), &f.record(&s2_name(1)).id);
    assert_eq!(
        f.http
            .get(&url)
            .bearer_auth(access)
            .send()
            .unwrap()
            .status(),
        StatusCode::TEMPORARY_REDIRECT
    );
    std::thread::sleep(Duration::from_millis(800));
    let response = f.http.get(&url).bearer_auth(access).send().unwrap();
    assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
    assert!(response.text().unwrap().contains("expired"));
}

#[test]
fn injected_faults_drive_retries_resumes_and_checksum_failures() {
    let f = fixture(|config| {
        config.faults = vec![
            cleope::catalogue::Fault::parse(
                "kind=status,path=/dias-catalogue/Products/$count,status=500,count=1",
            )
            .unwrap(),
        ];
    });
    // The fault given at start.
    let count_url = onda::count_url(&f.server.onda_base(), &s2_query()).unwrap();
    assert_eq!(
        f.get(&count_url).status(),
        StatusCode::INTERNAL_SERVER_ERROR
    );
    assert_eq!(f.get(&count_url).status(), StatusCode::OK);
    // 503 twice, then the answer.
    f.admin(json!({"kind": "status", "path": "/odata/v1/Products", "status": 503, "count": 2, "retry_after": 1}));
    let search = cdse::search_url(
        &f.server.cdse_base(),
        &s2_query(),
        Page { top: 5, skip: 0 },
        true,
    )
    .unwrap();
    let first = f.get(&search);
    assert_eq!(first.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(first.headers()["retry-after"], "1");
    assert_eq!(f.get(&search).status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(f.get(&search).status(), StatusCode::OK);
    // A cut mid-download, then a resume with a range completes the file.
    let record = f.record(S5P).clone();
    f.admin(json!({"kind": "cut", "after": 70_000, "product": record.name}));
    let url = onda::download_url(&f.server.onda_base(), &record.id);
    let mut response = f.basic(f.http.get(&url)).send().unwrap();
    assert_eq!(
        response.content_length(),
        Some(S5P_BYTES as u64),
        "the full length is announced"
    );
    let mut received = Vec::new();
    let outcome = response.read_to_end(&mut received);
    assert!(outcome.is_err(), "the body ends early with an error");
    assert_eq!(received.len(), 70_000);
    let rest = f
        .basic(f.http.get(&url))
        .header("Range", format!("bytes={}-", received.len()))
        .send()
        .unwrap();
    assert_eq!(rest.status(), StatusCode::PARTIAL_CONTENT);
    received.extend_from_slice(&rest.bytes().unwrap());
    let file = f._dir.path().join("resumed.nc");
    std::fs::write(&file, &received).unwrap();
    let (_, md5, blake3) = cleope::eo::archive::checksums(&file).unwrap();
    assert_eq!((md5, blake3), (record.md5.clone(), record.blake3.clone()));
    // Corrupted bytes: same size, another checksum; the next download is clean.
    f.admin(json!({"kind": "corrupt", "product": record.id}));
    let damaged = f.basic(f.http.get(&url)).send().unwrap().bytes().unwrap();
    assert_eq!(damaged.len(), S5P_BYTES);
    std::fs::write(&file, &damaged).unwrap();
    assert_ne!(cleope::eo::archive::checksums(&file).unwrap().1, record.md5);
    let clean = f.basic(f.http.get(&url)).send().unwrap().bytes().unwrap();
    std::fs::write(&file, &clean).unwrap();
    assert_eq!(cleope::eo::archive::checksums(&file).unwrap().1, record.md5);
    // A delay holds the answer.
    f.admin(json!({"kind": "delay", "path": "/dias-catalogue/", "millis": 700}));
    let started = Instant::now();
    assert_eq!(f.get(&count_url).status(), StatusCode::OK);
    assert!(started.elapsed() >= Duration::from_millis(700));
    // The faults are used up; a bad fault is refused; the log has no secrets.
    let pending: Value = f
        .http
        .get(format!("{}/faults", f.server.admin_url().unwrap()))
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(pending, json!([]));
    let bad = f
        .http
        .post(format!("{}/faults", f.server.admin_url().unwrap()))
        .body("{\"kind\":\"boom\"}")
        .send()
        .unwrap();
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    let log = f
        .http
        .get(format!("{}/requests", f.server.admin_url().unwrap()))
        .send()
        .unwrap()
        .text()
        .unwrap();
    assert!(
        log.contains("\"authorization\":\"Basic\"") && log.contains("\"range\":\"bytes=70000-\""),
        "{log}"
    );
    assert!(!log.contains(&f.password));
}

#[test]
fn admin_hooks_are_off_unless_asked() {
    let f = fixture(|config| config.admin = false);
    assert!(f.server.admin_url().is_none());
    let response = f.get(&format!("{}/admin/faults", f.server.download_base()));
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let catalogue = f.server.onda_base().replace("/dias-catalogue", "");
    assert_eq!(
        f.get(&format!("{catalogue}/admin/faults")).status(),
        StatusCode::NOT_FOUND
    );
}

/// `cleope catalogue serve` on a free port: it prints its addresses, serves
/// both dialects, and stops on a signal.
#[test]
fn the_command_serves_until_stopped() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    build_archive(&archive);
    let mut child: Child = Command::new(env!("CARGO_BIN_EXE_cleope"))
        .args(["catalogue", "serve", "--archive"])
        .arg(&archive)
        .args([
            "--addr",
            "127.0.0.1:0",
            "--restore-delay",
            "2s",
            "--user",
            "ada",
            "--password-env",
            "TEST_CATALOGUE_PASSWORD",
        ])
        .env("TEST_CATALOGUE_PASSWORD", "s3cret-for-the-test")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut printed = Vec::new();
    let onda_base = loop {
        let line = lines
            .next()
            .expect("the server prints its addresses")
            .unwrap();
        printed.push(line.clone());
        if let Some(url) = line
            .split_whitespace()
            .find(|w| w.ends_with("/dias-catalogue"))
        {
            break url.to_string();
        }
    };
    let count = reqwest::blocking::get(onda::count_url(&onda_base, &s2_query()).unwrap())
        .unwrap()
        .text()
        .unwrap();
    assert_eq!(count, "250");
    let cdse_base = onda_base.replace("/dias-catalogue", "/odata/v1");
    let answer: Value = reqwest::blocking::get(format!("{cdse_base}/Products?$top=1&$count=true"))
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(answer["@odata.count"], json!(S2_COUNT + S1_OFFLINE + 3));
    let text = printed.join("\n");
    assert!(
        text.contains(&format!("indexed {} products", S2_COUNT + S1_OFFLINE + 3)),
        "{text}"
    );
    assert!(!text.contains("s3cret"), "{text}");
    stop_child(&mut child);
}

/// Stops the child as Ctrl-C would (SIGINT to its id), then waits.
fn stop_child(child: &mut Child) {
    let _ = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status();
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.try_wait().unwrap().is_some() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not stop on SIGINT");
}

/// Copies a file or folder tree.
fn copy_tree(from: &Path, to: &Path) {
    if from.is_file() {
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(from, to).unwrap();
        return;
    }
    for entry in walkdir::WalkDir::new(from) {
        let entry = entry.unwrap();
        let target = to.join(entry.path().strip_prefix(from).unwrap());
        if entry.file_type().is_dir() {
            std::fs::create_dir_all(&target).unwrap();
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

fn run_index(args: &[&str]) -> (i32, String, String) {
    let output = Command::new(crate::common::cleope_bin())
        .args(["catalogue", "index"])
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Real products, not a hand-written index: one of each family copied
/// from the demo archive (SAFE and SEN3 folders as ENS shows them, a
/// zipped S5P netCDF, services' netCDF files), indexed from their own
/// metadata, agree with the records the generator wrote for them.
#[test]
fn an_archive_of_real_products_is_indexed_from_their_own_metadata() {
    let demo_dir = cleope::demo::default_dir();
    let demo = cleope::demo::ensure(&demo_dir).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let onda = dir.path().join("onda");
    let wanted = [
        "S1A_IW_GRDH_1SDV_20200818T050705_20200818T050730_033967_03F0B8_5D77.zip",
        "S2A_MSIL2A_20181013T082001_N0206_R121_T36SYC_20181013T102234.zip",
        "S5P_OFFL_L2__NO2____20200311T123059_20200311T141229_12487_01_010302_20200313T034036.zip",
    ];
    let mut chosen: Vec<&cleope::demo::ProductRecord> = demo
        .products
        .iter()
        .filter(|r| r.online && wanted.contains(&r.name.as_str()))
        .collect();
    for prefix in [
        "S3A_OL_2_WFR",
        "20190803120000-UKMO",
        "z_cams_c_ecmf_20191215000000_prod_an_sfc_000_tcco",
        "c_gls_NDVI",
    ] {
        chosen.push(
            demo.products
                .iter()
                .find(|r| r.online && r.name.starts_with(prefix))
                .unwrap(),
        );
    }
    assert_eq!(chosen.len(), 7);
    for record in &chosen {
        copy_tree(
            &demo_dir.join(record.ens_relative()),
            &onda.join(record.ens_relative()),
        );
    }
    // Sidecars and unrelated files are not products.
    std::fs::write(onda.join("README.txt"), "notes").unwrap();
    // A mount put together with links: a mission's folder elsewhere, and a
    // link back up the tree (followed once, not forever).
    let bucket = dir.path().join("bucket");
    std::fs::create_dir_all(&bucket).unwrap();
    std::fs::rename(onda.join("RADAR"), bucket.join("RADAR")).unwrap();
    std::os::unix::fs::symlink(bucket.join("RADAR"), onda.join("RADAR")).unwrap();
    std::os::unix::fs::symlink(&onda, onda.join("RADAR/loop")).unwrap();

    let (code, out, err) = run_index(&[onda.to_str().unwrap()]);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("indexed 7 products") && err.is_empty(),
        "{out}{err}"
    );
    let index = ArchiveIndex::load(&onda).unwrap();
    for truth in &chosen {
        let found = index
            .products
            .iter()
            .find(|r| r.name == truth.name)
            .unwrap_or_else(|| panic!("{} is not in the index", truth.name));
        assert_eq!(found.pseudopath, truth.pseudopath, "{}", truth.name);
        assert_eq!(found.collection, truth.collection, "{}", truth.name);
        assert_eq!(found.mission, truth.mission, "{}", truth.name);
        assert_eq!(found.packing, truth.packing, "{}", truth.name);
        let (mine, theirs) = (
            Aoi::from_wkt(&found.footprint).unwrap(),
            Aoi::from_wkt(&truth.footprint).unwrap(),
        );
        assert!(
            mine.intersects_aoi(&theirs),
            "{}: {} vs {}",
            truth.name,
            found.footprint,
            truth.footprint
        );
        if truth
            .mission
            .as_deref()
            .is_some_and(|m| m != "Sentinel-5 Precursor")
        {
            // SAFE and SEN3 manifests: the generator's own times and types.
            assert_eq!(found.begin, truth.begin, "{}", truth.name);
            assert_eq!(found.product_type, truth.product_type, "{}", truth.name);
            assert_eq!(found.cdse_name, truth.cdse_name, "{}", truth.name);
        }
    }
    let s2 = index
        .products
        .iter()
        .find(|r| r.name.starts_with("S2A"))
        .unwrap();
    assert_eq!(
        s2.s3_path,
        demo.products
            .iter()
            .find(|r| r.name == s2.name)
            .unwrap()
            .s3_path
    );
    assert!(
        s2.attributes.contains_key("cloudCover"),
        "{:?}",
        s2.attributes
    );

    // Incremental: nothing changed, then one product gone.
    let (_, again, _) = run_index(&[onda.to_str().unwrap()]);
    assert!(
        again.contains("0 new or changed, 7 unchanged, 0 gone"),
        "{again}"
    );
    let first = onda.join(chosen[0].ens_relative()).canonicalize().unwrap();
    std::fs::remove_dir_all(first).unwrap();
    let (_, after, _) = run_index(&[onda.to_str().unwrap()]);
    assert!(
        after.contains("indexed 6 products") && after.contains("1 gone"),
        "{after}"
    );

    // A CDSE layout (/eodata's S3Path): indexed, then searched and opened
    // by name from a session.
    let eodata = dir.path().join("eodata");
    let s2_truth = chosen.iter().find(|r| r.name.starts_with("S2A")).unwrap();
    let relative = s2_truth.s3_path.trim_start_matches("/eodata/");
    copy_tree(
        &demo_dir
            .join(s2_truth.ens_relative())
            .join(&s2_truth.cdse_name),
        &eodata.join(relative),
    );
    let (code, out, err) = run_index(&[eodata.to_str().unwrap(), "--layout", "cdse"]);
    assert_eq!(code, 0, "{out}{err}");
    let cdse = ArchiveIndex::load(&eodata).unwrap();
    assert_eq!(cdse.products[0].s3_path, s2_truth.s3_path);
    let name = s2_truth.name.clone();
    let opened = crate::common::on_script_thread(Duration::from_secs(120), move || {
        let mut t = crate::common::TestSession::new(|s| {
            s.archive = Some(eodata);
            s.catalogue.archive_layout = Some(cleope::eo::ens::Layout::Cdse);
        });
        let script = format!(
            "let found = ens_find(#{{ mission: \"Sentinel-2\" }}); \
             let p = ens_open(\"{name}\"); \
             [found.len(), s2_band(p, \"B04\", #{{ resolution: 60 }}).stats().count > 0]"
        );
        t.run(&script)
            .map(|v| v.to_string())
            .map_err(|e| e.to_string())
    });
    assert_eq!(opened.unwrap(), "[1, true]");

    let (code, _, err) = run_index(&[dir.path().join("missing").to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(err.contains("is not a folder"), "{err}");
}
