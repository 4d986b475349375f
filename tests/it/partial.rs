//! Single files and honest networking, over real HTTP against the local
//! catalogue: CDSE's Nodes API on the server (listing, `$value` through
//! the download redirect, ranges, zip-only products, paths that try to
//! climb out or follow a link), the client's `nodes`/`fetch_files`, the
//! `Retry-After` wait counted against the run's time limit, error pages
//! served as data, the cap on downloads at once (the server's own count),
//! and CDSE's error bodies turned into named errors.

use crate::common::downloads::Local;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cleope::catalogue::{Account, Server, ServerConfig};
use cleope::demo::{ArchiveBuilder, ArchiveIndex, DemoOptions, Packing, ProductSpec};
use cleope::eo::download::{Cause, DownloadError, NoProgress, RetryPolicy};
use cleope::eo::odata::Dialect;
use cleope::eo::odata::client::{Client, ClientConfig, ClientError, Credentials};
use cleope::sandbox::{Cancel, Stop};
use reqwest::StatusCode;
use serde_json::{Value, json};

const USER: &str = "ada";
const PASSWORD: &str = "correct-horse-battery";
/// Zip products with their unpacked folder, one a day from 2020-08-01.
const ZIPPED: usize = 5;
/// A JPEG 2000 band's start (its signature box), then the band's bytes.
const JP2_MAGIC: &[u8] = b"\0\0\0\x0cjP  \r\n\x87\n";
const CANARY: &str = "canary: this file lies outside the archive";

fn s2_stem(day: usize) -> String {
    format!("S2A_MSIL2A_202008{day:02}T062501_N0214_R077_T40KEC_202008{day:02}T083349")
}

fn s5p_name() -> String {
    "S5P_OFFL_L2__NO2____20200811T100000_20200811T114000_14651_01_010302_20200813T030000.nc".into()
}

fn spec(name: &str, cdse_name: &str, begin: &str, packing: Packing, mission: &str) -> ProductSpec {
    ProductSpec {
        name: name.into(),
        cdse_name: Some(cdse_name.into()),
        mission: Some(mission.into()),
        collection: mission.to_uppercase(),
        product_type: "S2MSI2A".into(),
        main_class: None,
        begin: begin.into(),
        end: begin.into(),
        footprint: vec![(57.0, -21.0), (58.0, -21.0), (58.0, -20.0), (57.0, -20.0)],
        pseudopath: format!("OPTICAL/LEVEL-2A/{}", &begin[..10].replace('-', "/")),
        s3_folder: format!(
            "/eodata/Sentinel-2/MSI/L2A/{}",
            &begin[..10].replace('-', "/")
        ),
        online: true,
        packing,
        attributes: serde_json::Map::new(),
    }
}

/// The band bytes of product `day`, band `k`: a JP2 signature, then 150 kB.
fn band_bytes(day: usize, k: usize) -> Vec<u8> {
    let mut bytes = JP2_MAGIC.to_vec();
    bytes.extend((0..150_000u32).map(|i| {
        (i.wrapping_mul(2654435761)
            .wrapping_add((day * 7 + k) as u32 * 97)
            >> 13) as u8
    }));
    bytes
}

/// A SAFE-like product: a metadata file and three 10 m bands.
fn write_zip_product(builder: &mut ArchiveBuilder, day: usize) {
    let stem = s2_stem(day);
    let begin = format!("2020-08-{day:02}T06:25:01.024Z");
    let spec = spec(
        &format!("{stem}.zip"),
        &format!("{stem}.SAFE"),
        &begin,
        Packing::Zip,
        "Sentinel-2",
    );
    let folder = builder.staging(&spec).unwrap();
    let safe = folder.join(format!("{stem}.SAFE"));
    let bands = safe.join("GRANULE/L2A_T40KEC/IMG_DATA/R10m");
    std::fs::create_dir_all(&bands).unwrap();
    for (k, band) in ["B02", "B03", "B04"].iter().enumerate() {
        std::fs::write(
            bands.join(format!("T40KEC_{band}_10m.jp2")),
            band_bytes(day, k),
        )
        .unwrap();
    }
    std::fs::write(
        safe.join("MTD_MSIL2A.xml"),
        format!("<?xml version=\"1.0\"?><product day=\"{day}\"/>"),
    )
    .unwrap();
    builder.finish(spec).unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    index: ArchiveIndex,
    server: Server,
    http: reqwest::blocking::Client,
}

impl Setup {
    fn new(adjust: impl FnOnce(&mut ServerConfig)) -> Setup {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("archive");
        let mut builder = ArchiveBuilder::new(&root, DemoOptions::default()).unwrap();
        for day in 1..=ZIPPED {
            write_zip_product(&mut builder, day);
        }
        let s5p = spec(
            &s5p_name(),
            &s5p_name(),
            "2020-08-11T10:00:00.000Z",
            Packing::File,
            "Sentinel-5 Precursor",
        );
        let file = builder.staging(&s5p).unwrap();
        let mut netcdf = b"\x89HDF\r\n\x1a\n".to_vec();
        netcdf.extend(std::iter::repeat_n(3u8, 40_000));
        std::fs::write(&file, netcdf).unwrap();
        builder.finish(s5p).unwrap();
        let index = builder.write_index().unwrap();
        let mut config = ServerConfig::new(&root);
        config.accounts.push(Account::new(USER, PASSWORD));
        config.admin = true;
        adjust(&mut config);
        let server = Server::start(config).unwrap();
        let http = reqwest::blocking::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(30))
            .build()
            .unwrap();
        Setup {
            dir,
            index,
            server,
            http,
        }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    fn record(&self, day: usize) -> &cleope::demo::ProductRecord {
        let name = format!("{}.zip", s2_stem(day));
        self.index.products.iter().find(|p| p.name == name).unwrap()
    }

    fn unpacked(&self, day: usize) -> PathBuf {
        self.root().join(self.record(day).ens_relative())
    }

    fn client(&self, parallel: usize) -> Client {
        let base = self.server.cdse_base();
        let mut config = ClientConfig::new(Dialect::Cdse, &base);
        config.token_url = Some(self.server.token_url());
        config.max_parallel_downloads = parallel;
        config.retry = RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        };
        Client::new(config, Some(Credentials::new(USER, PASSWORD)))
    }

    fn token(&self) -> String {
        let answer: Value = self
            .http
            .post(self.server.token_url())
            .form(&[
                ("grant_type", "password"),
                ("username", USER),
                ("password", PASSWORD),
                ("client_id", "cdse-public"),
            ])
            .send()
            .unwrap()
            .json()
            .unwrap();
        answer["access_token"].as_str().unwrap().to_string()
    }

    fn get(&self, url: &str, token: Option<&str>) -> reqwest::blocking::Response {
        let mut request = self.http.get(url);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().unwrap()
    }

    /// A file's bytes through `$value`: the redirect, then the download listener.
    fn value(&self, url: &str, token: &str) -> reqwest::blocking::Response {
        let first = self.get(url, Some(token));
        assert_eq!(first.status(), StatusCode::TEMPORARY_REDIRECT, "{url}");
        let location = first.headers()["location"].to_str().unwrap().to_string();
        assert!(
            location.starts_with(&self.server.download_base()),
            "{location}"
        );
        self.get(&location, Some(token))
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

    fn peak_transfers(&self) -> u64 {
        let url = format!("{}/transfers", self.server.admin_url().unwrap());
        let counts: Value = self.get(&url, None).json().unwrap();
        counts["peak"].as_u64().unwrap()
    }

    fn requests(&self) -> Vec<Value> {
        let url = format!("{}/requests", self.server.admin_url().unwrap());
        self.get(&url, None).json().unwrap()
    }
}

/// Downloads the files of day `day`'s product matching `patterns`, as
/// `odata_download(p, #{ files: patterns })` does.
fn files(
    local: &Local,
    client: &Client,
    day: usize,
    patterns: &[&str],
) -> Result<Vec<PathBuf>, DownloadError> {
    let product = client
        .product(&s2_stem(day), &local.cancel)
        .map_err(DownloadError::from)?;
    let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
    client.fetch_files(
        &product,
        &patterns,
        &local.folder(),
        &local.ws,
        &local.limits(),
        &NoProgress,
    )
}

fn names(listing: &Value) -> Vec<String> {
    listing["result"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["Name"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn partial_nodes_list_folders_in_cdse_shape_and_serve_single_files_with_ranges() {
    let s = Setup::new(|_| {});
    let record = s.record(1);
    let safe = format!("{}.SAFE", s2_stem(1));
    let base = format!("{}/Products({})", s.server.cdse_base(), record.id);
    // Listing needs no token.
    let top: Value = s.get(&format!("{base}/Nodes"), None).json().unwrap();
    assert_eq!(names(&top), std::slice::from_ref(&safe));
    let node = &top["result"][0];
    assert_eq!(node["Id"], json!(safe));
    assert_eq!(node["ChildrenNumber"], json!(2), "{node}");
    let inner_uri = node["Nodes"]["uri"].as_str().unwrap();
    assert_eq!(inner_uri, format!("{base}/Nodes({safe})/Nodes"));
    let inner: Value = s.get(inner_uri, None).json().unwrap();
    assert_eq!(names(&inner), ["GRANULE", "MTD_MSIL2A.xml"]);
    let mtd = &inner["result"][1];
    assert_eq!(mtd["ChildrenNumber"], json!(0));
    let mtd_text = "<?xml version=\"1.0\"?><product day=\"1\"/>";
    assert_eq!(mtd["ContentLength"], json!(mtd_text.len()));
    // Listing a file gives an empty list.
    let file_listing: Value = s
        .get(mtd["Nodes"]["uri"].as_str().unwrap(), None)
        .json()
        .unwrap();
    assert_eq!(file_listing, json!({"result": []}));
    // $value: 401 without a token, the redirect and the bytes with one.
    let bands = format!(
        "{base}/Nodes({safe})/Nodes(GRANULE)/Nodes(L2A_T40KEC)/Nodes(IMG_DATA)/Nodes(R10m)"
    );
    let b04 = format!("{bands}/Nodes(T40KEC_B04_10m.jp2)/$value");
    assert_eq!(s.get(&b04, None).status(), StatusCode::UNAUTHORIZED);
    let token = s.token();
    let answer = s.value(&b04, &token);
    assert_eq!(answer.status(), StatusCode::OK);
    assert_eq!(answer.headers()["content-type"], "image/jp2");
    assert_eq!(answer.bytes().unwrap().to_vec(), band_bytes(1, 2));
    // Ranges, as for whole products.
    let first = s.get(&b04, Some(&token));
    let location = first.headers()["location"].to_str().unwrap().to_string();
    let part = s
        .http
        .get(&location)
        .bearer_auth(&token)
        .header("Range", "bytes=100-199")
        .send()
        .unwrap();
    assert_eq!(part.status(), StatusCode::PARTIAL_CONTENT);
    assert_eq!(
        part.bytes().unwrap().to_vec(),
        band_bytes(1, 2)[100..200].to_vec()
    );
    // The download listener checks the token again.
    assert_eq!(s.get(&location, None).status(), StatusCode::UNAUTHORIZED);
    // A single-file product's top node is the file itself.
    let s5p = s
        .index
        .products
        .iter()
        .find(|p| p.name == s5p_name())
        .unwrap();
    let s5p_base = format!("{}/Products({})", s.server.cdse_base(), s5p.id);
    let top: Value = s.get(&format!("{s5p_base}/Nodes"), None).json().unwrap();
    assert_eq!(names(&top), [s5p_name()]);
    assert_eq!(top["result"][0]["ContentLength"], json!(40_008));
    let bytes = s
        .value(&format!("{s5p_base}/Nodes({})/$value", s5p_name()), &token)
        .bytes()
        .unwrap();
    assert_eq!(&bytes[..4], b"\x89HDF");
    // Unknown nodes: 404 naming how to list.
    let missing = s.get(
        &format!("{base}/Nodes({safe})/Nodes(nothing.xml)/Nodes"),
        None,
    );
    assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    assert!(missing.text().unwrap().contains("/Nodes to see its files"));
}

#[test]
fn partial_node_paths_never_climb_out_or_follow_a_link_to_a_canary() {
    let s = Setup::new(|_| {});
    let canary = s.dir.path().join("canary.txt");
    std::fs::write(&canary, CANARY).unwrap();
    let safe = format!("{}.SAFE", s2_stem(1));
    let product_folder = s.unpacked(1).join(&safe);
    std::os::unix::fs::symlink(&canary, product_folder.join("leak.xml")).unwrap();
    std::os::unix::fs::symlink(s.dir.path(), product_folder.join("outside")).unwrap();
    let record = s.record(1);
    let base = format!("{}/Products({})", s.server.cdse_base(), record.id);
    let token = s.token();
    let listing: Value = s
        .get(&format!("{base}/Nodes({safe})/Nodes"), None)
        .json()
        .unwrap();
    assert_eq!(
        names(&listing),
        ["GRANULE", "MTD_MSIL2A.xml"],
        "links are not listed"
    );
    let tries = [
        format!("{base}/Nodes({safe})/Nodes(leak.xml)/$value"),
        format!("{base}/Nodes({safe})/Nodes(outside)/Nodes(canary.txt)/$value"),
        format!("{base}/Nodes({safe})/Nodes(..)/Nodes(..)/Nodes(canary.txt)/$value"),
        format!("{base}/Nodes(%2E%2E)/Nodes(canary.txt)/$value"),
        format!("{base}/Nodes({safe})/Nodes(..%2F..%2Fcanary.txt)/$value"),
        format!("{base}/Nodes(%2Fetc%2Fpasswd)/$value"),
    ];
    let download = s.server.download_base();
    for url in tries {
        for url in [
            url.clone(),
            url.replace(&s.server.cdse_base(), &format!("{download}/download")),
        ] {
            let answer = s.get(&url, Some(&token));
            let status = answer.status();
            let body = answer.text().unwrap();
            assert!(
                status == StatusCode::NOT_FOUND || status == StatusCode::BAD_REQUEST,
                "{url}: {status} {body}"
            );
            assert!(!body.contains("canary:"), "{url} served the canary: {body}");
        }
    }
    let listing = s.get(&format!("{base}/Nodes({safe})/Nodes(outside)/Nodes"), None);
    assert_eq!(listing.status(), StatusCode::NOT_FOUND);
}

#[test]
fn partial_a_product_kept_only_as_a_zip_is_served_from_inside_the_zip() {
    let s = Setup::new(|_| {});
    std::fs::remove_dir_all(s.unpacked(2)).unwrap();
    let record = s.record(2);
    let safe = format!("{}.SAFE", s2_stem(2));
    let base = format!("{}/Products({})", s.server.cdse_base(), record.id);
    let top: Value = s.get(&format!("{base}/Nodes"), None).json().unwrap();
    assert_eq!(names(&top), std::slice::from_ref(&safe));
    let inner: Value = s
        .get(&format!("{base}/Nodes({safe})/Nodes"), None)
        .json()
        .unwrap();
    assert_eq!(names(&inner), ["GRANULE", "MTD_MSIL2A.xml"]);
    let url = format!(
        "{base}/Nodes({safe})/Nodes(GRANULE)/Nodes(L2A_T40KEC)/Nodes(IMG_DATA)/Nodes(R10m)/Nodes(T40KEC_B03_10m.jp2)/$value"
    );
    let bytes = s.value(&url, &s.token()).bytes().unwrap();
    assert_eq!(bytes.to_vec(), band_bytes(2, 1));
}

#[test]
fn partial_downloads_fetch_only_matching_files_keeping_their_paths() {
    let s = Setup::new(|_| {});
    let local = Local::new(100 << 20);
    let client = s.client(2);
    let listed = client.nodes(&s.record(1).id, &local.cancel).unwrap();
    assert_eq!(listed.len(), 4, "{listed:?}");
    let paths = files(&local, &client, 1, &["*B04_10m.jp2", "MTD_*.xml"]).unwrap();
    let safe = format!("{}.SAFE", s2_stem(1));
    let b04 = format!("{safe}/GRANULE/L2A_T40KEC/IMG_DATA/R10m/T40KEC_B04_10m.jp2");
    let mtd = format!("{safe}/MTD_MSIL2A.xml");
    assert_eq!(local.written(), [b04.clone(), mtd.clone()]);
    assert_eq!(paths.len(), 2);
    assert_eq!(
        std::fs::read(local.folder().join(&b04)).unwrap(),
        band_bytes(1, 2)
    );
    let list = std::fs::read_to_string(local.folder().join("list_local.txt")).unwrap();
    assert!(list.contains(&format!("local_files/{b04}")), "{list}");
    // A second call finds them there: no more downloads.
    let before = s.requests().len();
    files(&local, &client, 1, &["*B04_10m.jp2"]).unwrap();
    let again: Vec<Value> = s.requests()[before..].to_vec();
    assert!(
        again
            .iter()
            .all(|r| !r["path"].as_str().unwrap().ends_with("$value")),
        "{again:?}"
    );
    // A pattern that matches nothing names files that exist, and writes nothing.
    let error = files(&local, &client, 1, &["*B12_20m.jp2"]).unwrap_err();
    let text = error.to_string();
    assert!(
        matches!(
            &error,
            DownloadError::Remote {
                cause: Cause::NoSuchFile,
                ..
            }
        ),
        "{error:?}"
    );
    assert!(
        text.contains("*B12_20m.jp2") && text.contains("T40KEC_B02_10m.jp2"),
        "{text}"
    );
    assert_eq!(local.written().len(), 2);
}

#[test]
fn partial_a_cut_file_resumes_with_a_range_and_no_partial_file_is_left_under_its_name() {
    let s = Setup::new(|_| {});
    let local = Local::new(100 << 20);
    let client = s.client(2);
    s.admin(json!({"kind": "cut", "after": 60_000, "product": s.record(3).id, "count": 1}));
    files(&local, &client, 3, &["*B02_10m.jp2"]).unwrap();
    let path = format!(
        "{}.SAFE/GRANULE/L2A_T40KEC/IMG_DATA/R10m/T40KEC_B02_10m.jp2",
        s2_stem(3)
    );
    assert_eq!(
        std::fs::read(local.folder().join(&path)).unwrap(),
        band_bytes(3, 0)
    );
    let ranges: Vec<String> = s
        .requests()
        .iter()
        .filter(|r| r["listener"] == "download")
        .filter_map(|r| r["range"].as_str().map(str::to_string))
        .collect();
    assert_eq!(ranges, ["bytes=60000-"]);
    assert_eq!(local.written(), [path]);
}

#[test]
fn partial_retry_after_is_waited_and_a_wait_past_the_time_limit_fails_at_once() {
    let s = Setup::new(|_| {});
    let local = Local::new(100 << 20);
    let client = s.client(2);
    let product = client.product(&s2_stem(4), &local.cancel).unwrap();
    // 503 with Retry-After: 1 on the download listener: waited, then done.
    s.admin(json!({"kind": "status", "path": "/download/", "status": 503, "retry_after": 1}));
    let started = Instant::now();
    let patterns = vec!["MTD_*.xml".to_string()];
    client
        .fetch_files(
            &product,
            &patterns,
            &local.folder(),
            &local.ws,
            &local.limits(),
            &NoProgress,
        )
        .unwrap();
    let waited = started.elapsed();
    eprintln!("Retry-After: 1 on a single-file download: done after {waited:?}");
    assert!(waited >= Duration::from_millis(950), "{waited:?}");
    // 429 with Retry-After: 30 in a 10 s run: the time-limit error at once
    // (a sleep until the deadline would take 10 s).
    s.admin(json!({"kind": "status", "path": "/download/", "status": 429, "retry_after": 30}));
    local.cancel.start_run(Duration::from_secs(10));
    let started = Instant::now();
    let error = local.fetch(&client, &s2_stem(4)).unwrap_err();
    let elapsed = started.elapsed();
    eprintln!("Retry-After: 30 in a 10 s run: {error} after {elapsed:?}");
    assert!(
        matches!(error, DownloadError::Stopped(Stop::Quota(_))),
        "{error:?}"
    );
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
    let mtd = format!("{}.SAFE/MTD_MSIL2A.xml", s2_stem(4));
    assert_eq!(local.written(), [mtd], "no part of the whole product");
}

#[test]
fn partial_an_error_page_served_as_data_is_refused_and_leaves_no_file() {
    let s = Setup::new(|_| {});
    let local = Local::new(100 << 20);
    let client = s.client(2);
    for (format, quoted) in [
        ("html", "503 Service Temporarily Unavailable"),
        ("json", "DAT-ZIP-100: Max session number exceeded"),
    ] {
        s.admin(json!({"kind": "error_page", "format": format}));
        let error = local.fetch(&client, &s2_stem(5)).unwrap_err();
        assert!(
            matches!(
                &error,
                DownloadError::Remote {
                    cause: Cause::ErrorPage,
                    ..
                }
            ),
            "{error:?}"
        );
        assert!(error.to_string().contains(quoted), "{error}");
        assert_eq!(
            local.written(),
            Vec::<String>::new(),
            "{format}: nothing written"
        );
        s.admin(json!({"kind": "error_page", "format": format}));
        let error = files(&local, &client, 5, &["*B03_10m.jp2"]).unwrap_err();
        assert!(error.to_string().contains(quoted), "{error}");
        assert_eq!(
            local.written(),
            Vec::<String>::new(),
            "{format}: nothing written"
        );
        let safe = local.folder().join(format!("{}.SAFE", s2_stem(5)));
        assert!(!safe.exists(), "{format}: no empty folders left");
    }
    // Once the server sends data again, the same calls succeed; the whole
    // product is downloaded although single files of it are there.
    files(&local, &client, 5, &["*B03_10m.jp2"]).unwrap();
    let whole = local.fetch(&client, &s2_stem(5)).unwrap();
    let bands = whole.join("GRANULE/L2A_T40KEC/IMG_DATA/R10m");
    assert_eq!(
        std::fs::read_dir(bands).unwrap().count(),
        3,
        "the whole product"
    );
}

/// Downloads four products at once from four threads through one client
/// capped at `cap`; gives the most transfers the server saw at once.
fn peak_with_cap(cap: usize) -> u64 {
    let s = Setup::new(|_| {});
    s.admin(json!({"kind": "stall", "millis": 1200, "count": 4}));
    let client = Arc::new(s.client(cap));
    let local = Arc::new(Local::new(100 << 20));
    let threads: Vec<_> = (1..=4)
        .map(|day| {
            let client = Arc::clone(&client);
            let local = Arc::clone(&local);
            std::thread::spawn(move || local.fetch(&client, &s2_stem(day)).map(drop))
        })
        .collect();
    for thread in threads {
        thread.join().unwrap().unwrap();
    }
    s.peak_transfers()
}

#[test]
fn partial_downloads_at_once_keep_to_the_sessions_cap() {
    let capped = peak_with_cap(2);
    let uncapped = peak_with_cap(4);
    eprintln!("4 parallel downloads: at most {capped} at once with a cap of 2, {uncapped} with 4");
    assert_eq!(capped, 2);
    assert!(
        uncapped > 2,
        "the test can see more than the cap: {uncapped}"
    );
}

#[test]
fn partial_cdse_error_bodies_become_named_errors_with_hints() {
    let s = Setup::new(|_| {});
    let local = Local::new(100 << 20);
    let client = s.client(2);
    // 429 DAT-ZIP-100, every try: the account's download quota.
    let quota =
        json!({"code": "DAT-ZIP-100", "message": "Max session number exceeded"}).to_string();
    s.admin(
        json!({"kind": "status", "path": "/download/", "status": 429, "count": 20, "body": quota}),
    );
    let error = client_error(local.fetch(&client, &s2_stem(1)).unwrap_err());
    assert_eq!(error.0, Cause::AccountQuota, "{error:?}");
    assert!(error.1.contains("Max session number exceeded"), "{error:?}");
    let url = format!("{}/faults", s.server.admin_url().unwrap());
    s.http.delete(url).send().unwrap();
    assert!(error.2.contains("4 downloads at once"), "{error:?}");
    // 403 "Maximum number of 4 concurrent flows" (SciHub's words).
    let flows =
        json!({"detail": "Maximum number of 4 concurrent flows achieved by the user \"ada\""})
            .to_string();
    s.admin(json!({"kind": "status", "path": "/download/", "status": 403, "body": flows}));
    let error = client_error(local.fetch(&client, &s2_stem(1)).unwrap_err());
    assert_eq!(error.0, Cause::AccountQuota, "{error:?}");
    // A 401 on a download: the token is refreshed once and the download goes on.
    let before = s.requests().len();
    s.admin(json!({"kind": "status", "path": "/download/", "status": 401}));
    local.fetch(&client, &s2_stem(1)).unwrap();
    let token_requests = s.requests()[before..]
        .iter()
        .filter(|r| r["path"].as_str().unwrap().ends_with("/token"))
        .count();
    assert_eq!(token_requests, 1, "one refresh");
    // Refused again with the fresh token: said so.
    s.admin(json!({"kind": "status", "path": "/download/", "status": 401, "count": 2}));
    let error = client_error(local.fetch(&client, &s2_stem(2)).unwrap_err());
    assert_eq!(error.0, Cause::Login, "{error:?}");
    assert!(
        error.1.contains("was refreshed and sent again"),
        "{error:?}"
    );
    // An offline product on the download listener (409) is ProductOffline.
    s.admin(json!({"kind": "status", "path": "/download/", "status": 409}));
    let error = client_error(local.fetch(&client, &s2_stem(3)).unwrap_err());
    assert_eq!(error.0, Cause::Offline, "{error:?}");
    // Keycloak's answer for an account with a required action pending.
    let fresh = s.client(2);
    let setup =
        json!({"error": "invalid_grant", "error_description": "Account is not fully set up"})
            .to_string();
    s.admin(json!({"kind": "status", "path": "/auth/", "status": 400, "body": setup}));
    let error = client_error(local.fetch(&fresh, &s2_stem(3)).unwrap_err());
    assert_eq!(error.0, Cause::TwoFactor, "{error:?}");
    assert!(error.1.contains("two-factor authentication"), "{error:?}");
    assert!(error.2.contains("CDSE_TOTP"), "{error:?}");
    assert!(!error.1.contains(PASSWORD) && !error.2.contains(PASSWORD));
}

/// The cause, message and hint of a failed download.
fn client_error(error: DownloadError) -> (Cause, String, String) {
    let hint = error.hint();
    match error {
        DownloadError::Remote { cause, message, .. } => (cause, message, hint),
        other => panic!("not a remote failure: {other:?}"),
    }
}

#[test]
fn partial_onda_has_no_nodes_and_says_what_to_do() {
    let s = Setup::new(|_| {});
    let mut config = ClientConfig::new(Dialect::Onda, &s.server.onda_base());
    config.retry.attempts = 1;
    let client = Client::new(config, Some(Credentials::new(USER, PASSWORD)));
    let error = client.nodes("x", &Cancel::default()).unwrap_err();
    assert!(matches!(error, ClientError::BadQuery(_)), "{error:?}");
    assert!(
        error.to_string().contains("odata_download(product)"),
        "{error}"
    );
}
