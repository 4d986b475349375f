//! Data access over real HTTP: the catalogue client against the local
//! catalogue server in both dialects (paging, orders, downloads cut and
//! resumed, damaged downloads, quotas, hostile archives, retries, logins,
//! the CDSE redirect), the Rhai API through a session, and the three
//! data-access tutorials run as a student would.

use crate::common::downloads::Local;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{Duration as Days, NaiveDate};
use cleope::catalogue::{Account, Fault, Server, ServerConfig};
use cleope::demo::{ArchiveBuilder, ArchiveIndex, DemoOptions, Packing, ProductSpec};
use cleope::eo::archive::checksums;
use cleope::eo::download::{DownloadError, NoProgress, RetryPolicy};
use cleope::eo::ens::{Ens, Layout, Mount, Placement};
use cleope::eo::odata::client::{Client, ClientConfig, ClientError, Credentials};
use cleope::eo::odata::{Dialect, Query};
use cleope::sandbox::Cancel;
use serde_json::Map;

const USER: &str = "ada";
const PASSWORD: &str = "correct-horse-battery";
/// Products in the paging series, one a day from `FIRST_DAY`.
const SERIES: usize = 250;
const FIRST_DAY: (i32, u32, u32) = (2021, 1, 1);
const ONLINE_ZIP: &str = "S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.zip";
const OFFLINE_ZIP: &str = "S2B_MSIL2A_20200816T062459_N0214_R077_T40KEC_20200816T093318.zip";
const EVIL_ZIP: &str = "S2B_MSIL2A_20200821T062501_N0214_R077_T40KEC_20200821T090000.zip";

fn day(i: usize) -> NaiveDate {
    let (y, m, d) = FIRST_DAY;
    NaiveDate::from_ymd_opt(y, m, d).unwrap() + Days::days(i as i64)
}

fn spec(
    name: &str,
    mission: &str,
    product_type: &str,
    begin: &str,
    online: bool,
    packing: Packing,
) -> ProductSpec {
    ProductSpec {
        name: name.into(),
        cdse_name: None,
        mission: Some(mission.into()),
        collection: mission.to_uppercase(),
        product_type: product_type.into(),
        main_class: None,
        begin: begin.into(),
        end: begin.into(),
        footprint: vec![(57.0, -21.0), (58.0, -21.0), (58.0, -20.0), (57.0, -20.0)],
        pseudopath: format!("OPTICAL/LEVEL-2/{}", &begin[..10].replace('-', "/")),
        s3_folder: format!(
            "/eodata/Sentinel-3/SLSTR/{}",
            &begin[..10].replace('-', "/")
        ),
        online,
        packing,
        attributes: Map::new(),
    }
}

/// A SAFE-like zip product of about 300 kB (so a cut at 100 kB is mid-stream).
fn write_zip_product(builder: &mut ArchiveBuilder, name: &str, begin: &str, online: bool) {
    let mut spec = spec(name, "Sentinel-2", "S2MSI2A", begin, online, Packing::Zip);
    let stem = name.trim_end_matches(".zip");
    spec.cdse_name = Some(format!("{stem}.SAFE"));
    spec.pseudopath = format!("OPTICAL/LEVEL-2A/{}", &begin[..10].replace('-', "/"));
    spec.s3_folder = format!(
        "/eodata/Sentinel-2/MSI/L2A/{}",
        &begin[..10].replace('-', "/")
    );
    let folder = builder.staging(&spec).unwrap();
    let bands = folder.join(format!("{stem}.SAFE/GRANULE/L2A_T40KEC/IMG_DATA/R10m"));
    std::fs::create_dir_all(&bands).unwrap();
    for (k, band) in ["B02", "B03", "B04"].iter().enumerate() {
        // Incompressible-looking bytes, different per band.
        let bytes: Vec<u8> = (0..100_000u32)
            .map(|i| (i.wrapping_mul(2654435761).wrapping_add(k as u32 * 97) >> 13) as u8)
            .collect();
        std::fs::write(bands.join(format!("T40KEC_{band}_10m.jp2")), bytes).unwrap();
    }
    std::fs::write(folder.join(format!("{stem}.SAFE/MTD_MSIL2A.xml")), "<x/>").unwrap();
    builder.finish(spec).unwrap();
}

/// The test archive: 250 small Sentinel-3 products one a day, two zip
/// products (one archived) and one zip whose entries climb out with `../`.
fn test_archive() -> (tempfile::TempDir, ArchiveIndex) {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("archive");
    let mut builder = ArchiveBuilder::new(&root, DemoOptions::default()).unwrap();
    for i in 0..SERIES {
        let date = day(i).format("%Y%m%d").to_string();
        let name = format!(
            "S3A_SL_2_LST____{date}T100000_{date}T100300_20210101T120000_0179_001_{:03}_0000_LN2_O_NT_004.nc",
            i % 1000
        );
        let begin = format!("{}T10:00:00.000Z", day(i).format("%Y-%m-%d"));
        let spec = spec(
            &name,
            "Sentinel-3",
            "SL_2_LST___",
            &begin,
            true,
            Packing::File,
        );
        let file = builder.staging(&spec).unwrap();
        std::fs::write(&file, format!("netcdf {i}")).unwrap();
        builder.finish(spec).unwrap();
    }
    write_zip_product(&mut builder, ONLINE_ZIP, "2020-08-11T06:25:01.024Z", true);
    write_zip_product(&mut builder, OFFLINE_ZIP, "2020-08-16T06:24:59.024Z", false);
    write_zip_product(&mut builder, EVIL_ZIP, "2020-08-21T06:25:01.024Z", true);
    let mut index = builder.write_index().unwrap();
    make_evil(&root, &mut index);
    (dir, index)
}

/// Replaces EVIL_ZIP's download by a zip with a `../` entry, with matching
/// size and checksums in the index (so only the unpacking can catch it).
fn make_evil(root: &Path, index: &mut ArchiveIndex) {
    use std::io::Write;
    let packed = root.join(".packed").join(EVIL_ZIP);
    let mut zip = zip::ZipWriter::new(std::fs::File::create(&packed).unwrap());
    let options = zip::write::SimpleFileOptions::default();
    zip.start_file("EVIL.SAFE/MTD.xml", options).unwrap();
    zip.write_all(b"<x/>").unwrap();
    zip.start_file("../../escaped.txt", options).unwrap();
    zip.write_all(b"pwned").unwrap();
    zip.finish().unwrap();
    let (size, md5, blake3) = checksums(&packed).unwrap();
    let record = index
        .products
        .iter_mut()
        .find(|p| p.name == EVIL_ZIP)
        .unwrap();
    record.size = size;
    record.md5 = md5;
    record.blake3 = blake3;
    let text = serde_json::to_string_pretty(&index).unwrap();
    std::fs::write(root.join("index.json"), text).unwrap();
}

struct Setup {
    dir: tempfile::TempDir,
    index: ArchiveIndex,
    server: Server,
}

impl Setup {
    fn new(faults: Vec<Fault>) -> Setup {
        let (dir, index) = test_archive();
        let mut config = ServerConfig::new(dir.path().join("archive"));
        config.accounts.push(Account::new(USER, PASSWORD));
        config.restore_delay = Duration::from_millis(300);
        config.faults = faults;
        config.admin = true;
        let server = Server::start(config).unwrap();
        Setup { dir, index, server }
    }

    fn root(&self) -> PathBuf {
        self.dir.path().join("archive")
    }

    fn client(&self, dialect: Dialect, password: &str) -> Client {
        let mut config = ClientConfig::new(dialect, &self.server.base_url(dialect));
        config.token_url = Some(self.server.token_url());
        config.retry = RetryPolicy {
            attempts: 3,
            first_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(40),
        };
        Client::new(config, Some(Credentials::new(USER, password)))
    }

    fn record(&self, name: &str) -> &cleope::demo::ProductRecord {
        self.index.products.iter().find(|p| p.name == name).unwrap()
    }

    /// The requests the server answered, as JSON objects.
    fn requests(&self) -> Vec<serde_json::Value> {
        let url = format!("{}/requests", self.server.admin_url().unwrap());
        let text = reqwest::blocking::get(url).unwrap().text().unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

const BOTH: [Dialect; 2] = [Dialect::Onda, Dialect::Cdse];

fn series_query(first: usize, count: usize) -> Query {
    let (from, to) = if count == 0 {
        (
            "2019-01-01T00:00:00Z".to_string(),
            "2019-12-31T23:59:59Z".to_string(),
        )
    } else {
        (
            format!("{}T00:00:00Z", day(first).format("%Y-%m-%d")),
            format!("{}T23:59:59Z", day(first + count - 1).format("%Y-%m-%d")),
        )
    };
    Query {
        mission: Some("Sentinel-3".into()),
        product_type: Some("SL_2_LST___".into()),
        sensed_from: Some(from.parse().unwrap()),
        sensed_to: Some(to.parse().unwrap()),
        ..Query::default()
    }
}

#[test]
fn searches_page_across_100_and_return_every_product_once_in_both_dialects() {
    let setup = Setup::new(Vec::new());
    let cancel = Cancel::default();
    for dialect in BOTH {
        let client = setup.client(dialect, PASSWORD);
        for count in [0, 1, 100, 101, 250] {
            let query = series_query(0, count);
            let found = client.search(&query, 10_000, &cancel).unwrap();
            assert_eq!(found.len(), count, "{dialect:?} {count}");
            assert_eq!(client.count(&query, &cancel).unwrap(), count as u64);
            let expected: Vec<&str> = cleope::eo::ens::find(&setup.index, &query)
                .iter()
                .map(|r| cleope::eo::ens::name_stem(&r.name))
                .collect();
            let names: Vec<&str> = found
                .iter()
                .map(|p| cleope::eo::ens::name_stem(&p.name))
                .collect();
            assert_eq!(
                names, expected,
                "{dialect:?} {count}: same products, same order"
            );
        }
        // max_results cuts a long result short, still across pages.
        let first_150 = client.search(&series_query(0, 250), 150, &cancel).unwrap();
        assert_eq!(first_150.len(), 150);
        assert_eq!(first_150[149].begin.date_naive(), day(149));
    }
    // Pages of 100: 250 results take three requests with the right $skip.
    let pages: Vec<String> = setup
        .requests()
        .iter()
        .filter_map(|r| r["query"].as_str().map(str::to_string))
        .filter(|q| q.contains("skip="))
        .collect();
    assert!(
        pages.iter().any(|q| q.contains("skip=200")),
        "the third page starts at 200: {pages:?}"
    );
}

#[test]
fn an_archived_product_is_ordered_then_restored_in_both_dialects() {
    for dialect in BOTH {
        let setup = Setup::new(Vec::new());
        let cancel = Cancel::default();
        let client = setup.client(dialect, PASSWORD);
        let product = client.product(OFFLINE_ZIP, &cancel).unwrap();
        assert!(!product.online);
        let record = setup.record(OFFLINE_ZIP);
        let ens = Ens::new(vec![Mount {
            root: setup.root(),
            layout: Layout::Onda,
        }]);
        let offline = ens.path_of(&Placement::from(record)).unwrap_err();
        assert!(
            offline
                .to_string()
                .contains("is offline: order it with odata_order"),
            "{offline}"
        );
        let order = client.order(&product.id, &product.name, &cancel).unwrap();
        assert!(order.estimated.is_some(), "{dialect:?}: {order:?}");
        let ready = client
            .wait_online(&product.name, order.estimated, &cancel, &NoProgress)
            .unwrap();
        assert!(ready.online, "{dialect:?}");
        let restored = ens.open(&Placement::from(record)).unwrap();
        assert_eq!(restored.files("*.jp2").unwrap().len(), 3, "{dialect:?}");
    }
}

#[test]
fn a_download_cut_mid_stream_resumes_with_a_range_in_both_dialects() {
    for dialect in BOTH {
        let cut = Fault::Cut {
            after: 100_000,
            product: None,
            count: 1,
        };
        let setup = Setup::new(vec![cut]);
        let local = Local::new(1 << 30);
        let client = setup.client(dialect, PASSWORD);
        let path = local.fetch(&client, ONLINE_ZIP).unwrap();
        assert!(
            path.ends_with("S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.SAFE")
        );
        let band = path.join("GRANULE/L2A_T40KEC/IMG_DATA/R10m/T40KEC_B03_10m.jp2");
        assert_eq!(std::fs::metadata(band).unwrap().len(), 100_000);
        let ranges: Vec<String> = setup
            .requests()
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or("").ends_with("$value"))
            .filter(|r| r["status"].as_u64() == Some(206))
            .filter_map(|r| r["range"].as_str().map(str::to_string))
            .collect();
        // Bytes in flight when the connection closed are lost; the rest is asked again.
        assert_eq!(ranges.len(), 1, "{dialect:?}: one resumption: {ranges:?}");
        let start: u64 = ranges[0]
            .trim_start_matches("bytes=")
            .trim_end_matches('-')
            .parse()
            .unwrap();
        assert!(
            start > 0 && start <= 100_000,
            "{dialect:?}: resumed from the cut: {ranges:?}"
        );
        let list =
            std::fs::read_to_string(local.ws.root().join("local_files/list_local.txt")).unwrap();
        assert_eq!(
            list.trim(),
            "local_files/S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.SAFE"
        );
        assert_eq!(
            local.entries(),
            [
                "S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.SAFE",
                "list_local.txt"
            ]
        );
    }
}

#[test]
fn a_damaged_download_is_removed_with_a_clear_error_in_both_dialects() {
    for dialect in BOTH {
        let corrupt = Fault::Corrupt {
            product: None,
            count: 1,
        };
        let setup = Setup::new(vec![corrupt]);
        let local = Local::new(1 << 30);
        let error = local
            .fetch(&setup.client(dialect, PASSWORD), ONLINE_ZIP)
            .unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, DownloadError::Checksum { .. }),
            "{dialect:?}: {message}"
        );
        assert!(
            message.contains("is damaged: its MD5 checksum is"),
            "{message}"
        );
        assert!(message.ends_with("the file was removed"), "{message}");
        assert!(local.entries().is_empty(), "{:?}", local.entries());
        assert_eq!(local.disk.used(), 0);
    }
}

#[test]
fn a_download_past_the_disk_quota_is_refused_before_writing() {
    for dialect in BOTH {
        let setup = Setup::new(Vec::new());
        let local = Local::new(50_000);
        let error = local
            .fetch(&setup.client(dialect, PASSWORD), ONLINE_ZIP)
            .unwrap_err();
        assert!(
            matches!(error, DownloadError::Quota(_)),
            "{dialect:?}: {error}"
        );
        assert!(
            error
                .to_string()
                .starts_with("DiskQuotaExceeded: downloading"),
            "{error}"
        );
        assert!(local.entries().is_empty());
        let downloads = setup
            .requests()
            .iter()
            .filter(|r| r["path"].as_str().unwrap_or("").ends_with("$value"))
            .count();
        assert_eq!(downloads, 0, "{dialect:?}: not a byte asked for");
    }
}

#[test]
fn an_archive_with_entries_climbing_out_is_refused() {
    for dialect in BOTH {
        let setup = Setup::new(Vec::new());
        let local = Local::new(1 << 30);
        let error = local
            .fetch(&setup.client(dialect, PASSWORD), EVIL_ZIP)
            .unwrap_err();
        let message = error.to_string();
        assert!(
            matches!(error, DownloadError::UnsafeName(_)),
            "{dialect:?}: {message}"
        );
        assert!(
            message.contains("\"../../escaped.txt\" climbs out with '..'"),
            "{message}"
        );
        assert!(local.entries().is_empty(), "{:?}", local.entries());
        assert!(!local.ws.root().join("escaped.txt").exists());
        assert!(
            !local
                .ws
                .root()
                .parent()
                .unwrap()
                .join("escaped.txt")
                .exists()
        );
    }
}

#[test]
fn a_busy_server_is_retried_and_a_broken_one_reported_clearly() {
    for (dialect, path) in [
        (Dialect::Onda, "/dias-catalogue/Products"),
        (Dialect::Cdse, "/odata/v1/Products"),
    ] {
        let busy = Fault::Status {
            path: path.into(),
            status: 503,
            count: 1,
            retry_after: None,
            body: None,
        };
        let setup = Setup::new(vec![busy]);
        let cancel = Cancel::default();
        let client = setup.client(dialect, PASSWORD);
        let found = client.search(&series_query(0, 5), 100, &cancel).unwrap();
        assert_eq!(found.len(), 5, "{dialect:?}: the 503 was retried");
        let statuses: Vec<u64> = setup
            .requests()
            .iter()
            .filter_map(|r| r["status"].as_u64())
            .collect();
        assert_eq!(&statuses[..2], [503, 200], "{dialect:?}");

        let broken = Fault::Status {
            path: path.into(),
            status: 500,
            count: 100,
            retry_after: None,
            body: None,
        };
        let setup = Setup::new(vec![broken]);
        let error = setup
            .client(dialect, PASSWORD)
            .search(&series_query(0, 5), 100, &cancel)
            .unwrap_err();
        assert!(
            matches!(
                error,
                ClientError::Server {
                    status: 500,
                    tries: 3,
                    ..
                }
            ),
            "{error}"
        );
        let message = error.to_string();
        assert!(
            message.contains("failed: HTTP 500") && message.contains("3 tries"),
            "{message}"
        );
        assert!(error.hint().contains("try again"), "{}", error.hint());
    }
}

#[test]
fn a_wrong_password_is_reported_without_echoing_it() {
    const WRONG: &str = "hunter2-not-the-password";
    for dialect in BOTH {
        let setup = Setup::new(Vec::new());
        let local = Local::new(1 << 30);
        let client = setup.client(dialect, WRONG);
        let error = local.fetch(&client, ONLINE_ZIP).unwrap_err();
        let shown = format!("{error} {error:?} {}", error.hint());
        assert!(
            shown.contains("refused the login of user \"ada\""),
            "{dialect:?}: {shown}"
        );
        assert!(
            !shown.contains(WRONG),
            "{dialect:?}: the password leaked: {shown}"
        );
        assert!(!format!("{client:?}").contains(WRONG));
        assert!(local.entries().is_empty());
    }
}

#[test]
fn the_cdse_download_redirect_keeps_the_bearer_token() {
    let setup = Setup::new(Vec::new());
    let local = Local::new(1 << 30);
    local
        .fetch(&setup.client(Dialect::Cdse, PASSWORD), ONLINE_ZIP)
        .unwrap();
    let downloads: Vec<(String, String, u64)> = setup
        .requests()
        .iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("$value"))
        .map(|r| {
            (
                r["listener"].as_str().unwrap().to_string(),
                r["authorization"].as_str().unwrap().to_string(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(downloads[0].0, "catalogue");
    assert!(
        (300..400).contains(&downloads[0].2),
        "a redirect first: {downloads:?}"
    );
    assert_eq!(
        downloads[1],
        ("download".to_string(), "Bearer".to_string(), 200),
        "the second host got the token: {downloads:?}"
    );
}

// ---------------------------------------------------------------- Rhai API

mod rhai_api {
    use super::*;
    use cleope::runtime::display::{DisplaySink, Stream};
    use cleope::runtime::{Captured, Chunk, Overrides, Session, Settings};
    use std::sync::{Arc, Mutex};

    /// A notebook-like sink that answers prompts from a script of answers.
    struct Answering {
        captured: Captured,
        answers: Mutex<Vec<String>>,
        prompts: Mutex<Vec<(String, bool)>>,
    }

    impl DisplaySink for Answering {
        fn stream(&self, stream: Stream, text: &str) {
            self.captured.stream(stream, text);
        }
        fn input(&self, prompt: &str, password: bool) -> Option<String> {
            self.prompts
                .lock()
                .unwrap()
                .push((prompt.to_string(), password));
            let mut answers = self.answers.lock().unwrap();
            (!answers.is_empty()).then(|| answers.remove(0))
        }
    }

    fn open_session(archive: &Path, sink: Arc<dyn DisplaySink>) -> (tempfile::TempDir, Session) {
        let dir = tempfile::tempdir().unwrap();
        let overrides = Overrides {
            workspace: Some(dir.path().join("workspace")),
            archive: Some(archive.to_path_buf()),
            ..Overrides::default()
        };
        let settings = Settings::load(&overrides).unwrap();
        (dir, Session::new(settings, sink).unwrap())
    }

    fn archive_only() -> (tempfile::TempDir, ArchiveIndex) {
        test_archive()
    }

    #[test]
    fn scripts_search_open_and_download_through_the_session_in_both_dialects() {
        let (dir, index) = archive_only();
        let output = Arc::new(Captured::default());
        let (_ws, mut session) = open_session(&dir.path().join("archive"), output.clone());
        let script = r#"
            let n = odata_count(#{ mission: "Sentinel-3", from: "2021-01-01", to: "2021-04-11" });
            let found = odata_search(#{ mission: "Sentinel-3", from: "2021-01-01", to: "2021-04-11", max_results: 1000 });
            print(`count ${n} found ${found.len()}`);
            let s2 = odata_product("S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349");
            let safe = ens_open(s2);
            print(`bands ${safe.files("*_10m.jp2").len()} red ${safe.file("IMG_DATA/R10m/*B04*").split("/").pop()}`);
            let local = odata_download(s2);
            print(`local ${local} ${ens_open(local).files("*.jp2").len()}`);
            catalogue("cdse");
            let cdse = odata_search(#{ mission: "Sentinel-3", from: "2021-01-01", to: "2021-04-11", max_results: 1000 });
            print(`cdse ${cdse.len()} ${catalogue().dialect} ${cdse[0].s3_path != ()}`);
            let again = odata_download(odata_product(s2.name));
            print(`again ${again}`);
            print(`find ${ens_find(#{ mission: "Sentinel-2" }).len()}`);
        "#;
        let _ = session.run(Chunk::new("test.rhai", script)).unwrap();
        let out = output.text(Stream::Stdout);
        assert!(out.contains("count 101 found 101"), "{out}");
        assert!(out.contains("bands 3 red T40KEC_B04_10m.jp2"), "{out}");
        let safe = "local_files/S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.SAFE";
        assert!(out.contains(&format!("local {safe} 3")), "{out}");
        assert!(out.contains("cdse 101 cdse true"), "{out}");
        assert!(
            out.contains(&format!("again {safe}")),
            "already there: {out}"
        );
        let online_s2 = index
            .products
            .iter()
            .filter(|p| p.mission.as_deref() == Some("Sentinel-2") && p.online)
            .count();
        assert!(out.contains(&format!("find {online_s2}")), "{out}");
    }

    #[test]
    fn an_offline_product_gives_the_order_hint_and_orders_stay_in_the_session() {
        let (dir, _index) = archive_only();
        let archive = dir.path().join("archive");
        let output = Arc::new(Captured::default());
        let (_ws, mut session) = open_session(&archive, output.clone());
        let error = session
            .run(Chunk::new(
                "t.rhai",
                &format!("ens_open(\"{OFFLINE_ZIP}\")"),
            ))
            .unwrap_err()
            .to_string();
        assert!(error.contains("ProductOffline"), "{error}");
        assert!(
            error.contains(&format!(
                "is offline: order it with odata_order(\"{OFFLINE_ZIP}\")"
            )),
            "{error}"
        );
        let script = format!(
            r#"let o = odata_order("{OFFLINE_ZIP}");
               print(`status ${{o.status}}`);
               let p = odata_wait("{OFFLINE_ZIP}");
               print(`online ${{p.online}} files ${{ens_open(p).files("*.jp2").len()}}`);"#
        );
        let _ = session.run(Chunk::new("t.rhai", &script)).unwrap();
        let out = output.text(Stream::Stdout);
        assert!(out.contains("online true files 3"), "{out}");
        // The restoration happened in the session's view, not in the archive.
        assert!(
            archive
                .join(".offline/OPTICAL/LEVEL-2A/2020/08/16")
                .join(OFFLINE_ZIP)
                .exists()
        );
        let (_ws2, mut other) = open_session(&archive, Arc::new(Captured::default()));
        let still = other
            .run(Chunk::new(
                "t.rhai",
                &format!("odata_product(\"{OFFLINE_ZIP}\").online"),
            ))
            .unwrap();
        assert!(
            !still.as_bool().unwrap(),
            "another session starts from the archive as written"
        );
    }

    #[test]
    fn login_asks_without_echo_and_a_wrong_password_never_shows() {
        const WRONG: &str = "not-the-right-password-42";
        let (dir, _index) = archive_only();
        let sink = Arc::new(Answering {
            captured: Captured::default(),
            answers: Mutex::new(vec!["student".into(), WRONG.into()]),
            prompts: Mutex::new(Vec::new()),
        });
        let (_ws, mut session) = open_session(&dir.path().join("archive"), sink.clone());
        let script = format!(
            r#"login();
               print(catalogue().user);
               try {{ odata_download("{ONLINE_ZIP}"); }} catch (e) {{ print(e.kind + ": " + e.message); }}"#
        );
        let _ = session.run(Chunk::new("t.rhai", &script)).unwrap();
        let prompts = sink.prompts.lock().unwrap().clone();
        assert_eq!(prompts.len(), 2);
        assert!(
            !prompts[0].1 && prompts[1].1,
            "the password is asked without echo: {prompts:?}"
        );
        let out = format!(
            "{}{}",
            sink.captured.text(Stream::Stdout),
            sink.captured.text(Stream::Stderr)
        );
        assert!(out.contains("student"), "{out}");
        assert!(
            out.contains("Logged in to ") && out.contains(" as student (the password is checked"),
            "login() confirms: {out}"
        );
        assert!(
            out.contains("LoginFailed: the catalogue refused the login of user \"student\""),
            "{out}"
        );
        assert!(!out.contains(WRONG), "the password leaked: {out}");
        assert!(
            !session
                .variables()
                .iter()
                .any(|(name, _)| name.contains("password"))
        );
    }

    #[test]
    fn a_bad_query_names_the_key_and_the_choices() {
        let (dir, _index) = archive_only();
        let (_ws, mut session) =
            open_session(&dir.path().join("archive"), Arc::new(Captured::default()));
        for (code, words) in [
            (
                "odata_search(#{ misison: \"Sentinel-2\" })",
                "`misison` is not a query key",
            ),
            (
                "odata_search(#{ from: \"20/07/2020\" })",
                "which is not a date",
            ),
            (
                "odata_search(#{ from: \"2020-08-01\", to: \"2020-07-01\" })",
                "is after `to`",
            ),
            (
                "odata_search(#{ max_results: 20000 })",
                "ask for 1 to 10000",
            ),
            (
                "odata_product(\"S9X_NOTHING\")",
                "no product named S9X_NOTHING",
            ),
        ] {
            let error = session
                .run(Chunk::new("t.rhai", code))
                .unwrap_err()
                .to_string();
            assert!(error.contains(words), "{code}: {error}");
        }
    }
}

// ---------------------------------------------------------------- tutorials

mod tutorials {
    use super::*;
    use crate::common::tutorial::run_tutorial;
    use cleope::eo::ens::find;
    use cleope_demo::{default_dir as demo_archive_dir, ensure as ensure_demo_archive};

    fn demo() -> (PathBuf, ArchiveIndex) {
        let dir = demo_archive_dir();
        let index = ensure_demo_archive(&dir).unwrap();
        (dir, index)
    }

    fn run(tutorial: &str) -> String {
        demo();
        run_tutorial(&format!("data_access/{tutorial}")).stdout
    }

    fn query(map: &[(&str, &str)]) -> Query {
        let mut q = Query::default();
        for (key, value) in map {
            match *key {
                "mission" => q.mission = Some(value.to_string()),
                "product_type" => q.product_type = Some(value.to_string()),
                "from" => q.sensed_from = Some(format!("{value}T00:00:00Z").parse().unwrap()),
                "to" => q.sensed_to = Some(format!("{value}T23:59:59.999Z").parse().unwrap()),
                _ => unreachable!(),
            }
        }
        q
    }

    fn bbox(a: f64, b: f64, c: f64, d: f64) -> cleope::eo::geometry::Aoi {
        cleope::eo::geometry::Aoi::from_bbox(cleope::eo::geometry::BBox::new(a, b, c, d).unwrap())
    }

    fn files_in(path: &Path, suffix: &str) -> usize {
        walkdir::WalkDir::new(path)
            .into_iter()
            .filter_map(Result::ok)
            .filter(|e| {
                e.file_type().is_file() && e.file_name().to_string_lossy().ends_with(suffix)
            })
            .count()
    }

    #[test]
    fn search_finds_what_the_archive_holds_and_saves_tables_lists_and_figures() {
        let (root, index) = demo();
        let out = run("search.rhai");
        let mut trieste = query(&[
            ("mission", "Sentinel-1"),
            ("product_type", "GRD"),
            ("from", "2020-08-01"),
            ("to", "2020-08-31"),
        ]);
        trieste.aoi = Some(bbox(12.5, 45.0, 14.5, 46.0));
        let found = find(&index, &trieste);
        assert!(!found.is_empty());
        assert!(
            out.contains(&format!("{} products found", found.len())),
            "{out}"
        );
        assert!(
            out.contains(&format!("query.csv has {} rows", found.len())),
            "{out}"
        );
        let wide = Query {
            aoi: Some(bbox(-10.0, 30.0, 40.0, 50.0)),
            ..Query::default()
        };
        assert!(
            out.contains(&format!("{} products found", find(&index, &wide).len())),
            "{out}"
        );
        let morning = found
            .iter()
            .filter(|r| r.begin[11..13].parse::<u32>().unwrap() < 12)
            .count();
        assert!(
            out.contains(&format!("output/product_list.txt ({morning} products)")),
            "{out}"
        );
        let first_morning = found
            .iter()
            .find(|r| r.begin[11..13].parse::<u32>().unwrap() < 12)
            .unwrap();
        let tiffs = files_in(
            &root.join(first_morning.ens_relative()).join(format!(
                "{}.SAFE/measurement",
                first_morning.name.trim_end_matches(".zip")
            )),
            ".tiff",
        );
        assert!(
            out.contains(&format!("holds {tiffs} measurement images")),
            "{out}"
        );
        assert!(
            out.contains(&format!(
                "Downloaded: [\"local_files/{}.SAFE\"]",
                first_morning.name.trim_end_matches(".zip")
            )),
            "{out}"
        );
        assert_eq!(out.matches("[figure ").count(), 2, "{out}");
    }

    #[test]
    fn discover_lists_paths_opens_a_product_and_downloads_an_archived_one() {
        let (root, index) = demo();
        let out = run("discover.rhai");
        assert!(
            out.contains("Catalogue: onda (local, over the demo archive)"),
            "{out}"
        );
        assert!(
            out.contains("4 products in the list, 3 ENS paths written"),
            "{out}"
        );
        let l1c = index
            .products
            .iter()
            .find(|p| p.name.contains("T54MZV"))
            .unwrap();
        assert!(!l1c.online, "the DISCOVER tile is archived");
        let bands = files_in(&root.join(l1c.offline_relative()), ".jp2");
        assert!(out.contains("Online before: false"), "{out}");
        assert!(
            out.contains(&format!(
                "{bands} JP2 bands in local_files/{}.SAFE",
                l1c.name.trim_end_matches(".zip")
            )),
            "{out}"
        );
        assert!(out.contains("Online after: true"), "{out}");
        assert!(
            out.contains("2 products in local_files/. EOF: Good Job!"),
            "{out}"
        );
        let ships = index
            .products
            .iter()
            .find(|p| p.name.contains("023159_02BF90_900F"))
            .unwrap();
        let all = files_in(&root.join(ships.ens_relative()), "");
        assert!(
            out.contains(&format!("{all} files, 2 measurement images")),
            "{out}"
        );
    }

    #[test]
    fn order_restores_the_archived_olci_product_and_finds_it_in_ens() {
        let (root, index) = demo();
        let out = run("order.rhai");
        let archived: Vec<_> = index.products.iter().filter(|p| !p.online).collect();
        assert!(
            out.contains(&format!(
                "{} archived products in the catalogue",
                archived.len()
            )),
            "{out}"
        );
        // The notebook ordered an OLCI land product: picked by type, not by
        // its place in the archived list (whose first is a global SST file).
        let first = find(&index, &Query::default())
            .into_iter()
            .find(|p| !p.online && p.product_type == "OL_2_LFR___")
            .unwrap();
        assert!(
            out.contains(&format!("UUID to order: {}", first.id)),
            "{out}"
        );
        assert!(out.contains("Instance is "), "{out}");
        assert!(
            out.contains("Online now: true") && out.contains("Is it in ENS now? true"),
            "{out}"
        );
        let files = files_in(&root.join(first.offline_relative()), "");
        assert!(out.contains(&format!("holds {files} files")), "{out}");
        assert!(out.contains("Status: online"), "{out}");
        assert!(
            root.join(first.offline_relative()).exists(),
            "the shared archive is unchanged"
        );
    }
}
