//! Hostile catalogues, hostile queries and hostile clients, over real HTTP
//! on loopback. Each test asserts the real side effect: no file outside
//! `local_files/` (and no line in `list_local.txt`) for a refused name, no
//! download request sent, the server still answering others, the session
//! keeping its variables, and the measured time to stop.

use crate::common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use cleope::catalogue::{Fault, Server, ServerConfig};
use cleope::demo::{ArchiveBuilder, ArchiveIndex, DemoOptions, Packing, ProductSpec};
use cleope::eo::odata::Dialect;
use cleope::eo::odata::client::Credentials;
use cleope::runtime::Settings;
use common::canary::{CanaryFile, Sandboxed};
use common::fake_server::{FakeServer, Reply, Seen};
use common::{TestSession, on_script_thread};
use serde_json::{Value, json};

const BOUND: Duration = Duration::from_secs(60);
const ZIP_NAME: &str = "S2A_MSIL2A_20200811T062501_N0214_R077_T40KEC_20200811T083349.zip";

// ---------------------------------------------------------------- helpers

/// One product as ONDA lists it.
fn onda_entry(id: &str, name: &str, size: usize, offline: bool) -> Value {
    json!({
        "id": id,
        "name": name,
        "beginPosition": "2020-08-11T10:00:00.000Z",
        "offline": offline,
        "size": size,
        "pseudopath": "OPTICAL/LEVEL-2A/2020/08/11",
        "footprint": "POLYGON ((10 40, 11 40, 11 41, 10 41, 10 40))",
    })
}

/// A CDSE search answer with one product.
fn cdse_page(name: &str, online: bool) -> String {
    json!({"value": [{
        "Id": "id-c", "Name": name, "ContentLength": 10, "Online": online,
        "ContentDate": {"Start": "2020-08-11T10:00:00.000Z", "End": "2020-08-11T10:00:00.000Z"},
    }]})
    .to_string()
}

fn page(entries: Vec<Value>) -> String {
    json!({"@odata.context": "$metadata#Products", "value": entries}).to_string()
}

/// A session on a fake ONDA catalogue, logged in, with a time limit.
fn onda_session(server: &FakeServer, limit: Duration) -> TestSession {
    let url = server.url("/dias-catalogue");
    let t = TestSession::new(move |s: &mut Settings| {
        s.catalogue.url = Some(url);
        s.catalogue.dialect = Some(Dialect::Onda);
        s.quota.time_limit = limit;
    });
    t.session
        .host()
        .data
        .login(Credentials::new("ada", "not-a-real-password"));
    t
}

/// A small archive with one zip product of about `size` bytes, for the
/// real catalogue server.
fn tiny_archive(root: &Path, size: usize) -> ArchiveIndex {
    let mut builder = ArchiveBuilder::new(root, DemoOptions::default()).unwrap();
    let spec = ProductSpec {
        name: ZIP_NAME.into(),
        cdse_name: Some(ZIP_NAME.replace(".zip", ".SAFE")),
        mission: Some("Sentinel-2".into()),
        collection: "SENTINEL-2".into(),
        product_type: "S2MSI2A".into(),
        main_class: None,
        begin: "2020-08-11T06:25:01.024Z".into(),
        end: "2020-08-11T06:25:01.024Z".into(),
        footprint: vec![(57.0, -21.0), (58.0, -21.0), (58.0, -20.0), (57.0, -20.0)],
        pseudopath: "OPTICAL/LEVEL-2A/2020/08/11".into(),
        s3_folder: "/eodata/Sentinel-2/MSI/L2A/2020/08/11".into(),
        online: true,
        packing: Packing::Zip,
        attributes: serde_json::Map::new(),
    };
    let folder = builder.staging(&spec).unwrap();
    let safe = folder.join(ZIP_NAME.replace(".zip", ".SAFE"));
    std::fs::create_dir_all(&safe).unwrap();
    // Incompressible bytes, so the zip is about `size` long.
    let bytes: Vec<u8> = (0..size as u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
        .collect();
    std::fs::write(safe.join("B04.jp2"), bytes).unwrap();
    builder.finish(spec).unwrap();
    builder.write_index().unwrap()
}

/// The names of the entries of a folder, sorted.
fn entries(folder: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(folder)
        .map(|dir| {
            dir.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

// ------------------------------------------------- names from outside (6)

/// A catalogue that lists products whose names lead out of `local_files/`
/// (and one ordinary product, to prove downloads work): every hostile one
/// is refused as `UnsafeName` before any request for its bytes, nothing
/// lands outside, and `list_local.txt` records only the ordinary one.
#[test]
fn catalogue_names_leading_out_of_local_files_are_refused_before_anything_is_written() {
    let run = Sandboxed::new();
    let outside = run.dir.path().join("escaped");
    std::fs::create_dir_all(&outside).unwrap();
    let hostile = [
        "../../escaped/one.nc".to_string(),
        format!("{}/two.nc", outside.display()),
        "..".into(),
        ".".into(),
        "".into(),
        "sub/../../../escaped/three.nc".into(),
        "fine.nc\n../../escaped/four.nc".into(),
        ".hidden.nc".into(),
        "..\\..\\escaped\\five.nc".into(),
        "S5P_\"quoted\".nc".into(),
        "x".repeat(300),
    ];
    let good = "S5P_OFFL_L2__NO2____20200811T100000_OK.nc";
    let body = b"CDF\x01 ordinary bytes".to_vec();
    let size = body.len();
    let mut listed: Vec<Value> = hostile
        .iter()
        .enumerate()
        .map(|(i, name)| onda_entry(&format!("id-{i}"), name, size, false))
        .collect();
    listed.push(onda_entry("id-good", good, size, false));
    let listing = page(listed);
    let server = FakeServer::start(move |seen: &Seen| {
        if seen.path().ends_with("/$value") {
            Reply::bytes(body.clone())
        } else {
            Reply::json(listing.clone())
        }
    });
    let script = r#"
        let kept = 42;
        let found = odata_search(#{});
        for p in found {
            try { print(`ok ${odata_download(p)}`); }
            catch (e) { print(`refused ${e.kind}: ${e.message}`); }
        }
        print(`kept ${kept}`);
    "#;
    let run = run
        .arg("--catalogue")
        .arg(server.url("/dias-catalogue"))
        .arg("--dialect")
        .arg("onda")
        .env("CLEOPE_USERNAME", "ada")
        .env("CLEOPE_PASSWORD", "pw");
    let outcome = run.run(script, BOUND);
    let out = outcome.output();
    assert_eq!(outcome.code, Some(0), "{out}");
    assert_eq!(
        out.matches("refused UnsafeName: ").count(),
        hostile.len(),
        "{out}"
    );
    assert!(out.contains(&format!("ok local_files/{good}")), "{out}");
    assert!(out.contains("kept 42"), "{out}");
    assert_eq!(
        server.count("/$value"),
        1,
        "only the ordinary product was asked for"
    );
    assert_eq!(server.count("/Ens.Order"), 0);
    assert!(
        entries(&outside).is_empty(),
        "nothing escaped: {:?}",
        entries(&outside)
    );
    let local = run.workspace.join("local_files");
    assert_eq!(entries(&local), [good.to_string(), "list_local.txt".into()]);
    let list = std::fs::read_to_string(local.join("list_local.txt")).unwrap();
    assert_eq!(list, format!("local_files/{good}\n"));
}

/// ENS paths built from a catalogue's pseudopath or S3Path stay in the
/// mounted archive: a path climbing to a canary folder is refused before
/// anything there is looked at.
#[test]
fn ens_paths_from_the_catalogue_cannot_climb_out_of_the_archive() {
    let canary = CanaryFile::new();
    let run = Sandboxed::new();
    let archive = run.dir.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let up = "../".repeat(archive.components().count() + 2);
    let canary_dir = canary.dir().display().to_string();
    let climb = format!("{up}{}", canary_dir.trim_start_matches('/'));
    let onda = page(vec![{
        let mut entry = onda_entry("id-1", "secret.txt", 10, false);
        entry["pseudopath"] = Value::from(climb.clone());
        entry
    }]);
    let server = FakeServer::start(move |_| Reply::json(onda.clone()));
    let script = r#"
        let kept = 42;
        let p = odata_search(#{})[0];
        try { print(ens_open(p).files("*")); } catch (e) { print(`refused ${e.kind}: ${e.message}`); }
        try { print(ens_path(p)); } catch (e) { print(`refused ${e.kind}`); }
        print(`kept ${kept}`);
    "#;
    let outcome = run
        .arg("--archive")
        .arg(archive.display().to_string())
        .arg("--catalogue")
        .arg(server.url("/dias-catalogue"))
        .arg("--dialect")
        .arg("onda")
        .run(script, BOUND);
    let out = outcome.output();
    assert_eq!(out.matches("refused UnsafeName").count(), 2, "{out}");
    assert!(out.contains("ONDA pseudopath"), "{out}");
    assert!(out.contains("kept 42"), "{out}");
    assert!(!out.contains(canary.secret()));
    assert_eq!(canary.touches(), 0);

    // The CDSE layout: the product's S3Path.
    let run = Sandboxed::new();
    let archive = run.dir.path().join("archive");
    std::fs::create_dir_all(&archive).unwrap();
    let s3 = format!("/eodata/{up}{}", canary_dir.trim_start_matches('/'));
    let cdse = json!({"value": [{
        "Id": "id-1", "Name": "secret.txt", "ContentLength": 10, "Online": true,
        "S3Path": s3,
        "ContentDate": {"Start": "2020-08-11T10:00:00.000Z", "End": "2020-08-11T10:00:00.000Z"},
    }]})
    .to_string();
    let server = FakeServer::start(move |_| Reply::json(cdse.clone()));
    let outcome = run
        .arg("--archive")
        .arg(archive.display().to_string())
        .arg("--archive-layout")
        .arg("cdse")
        .arg("--catalogue")
        .arg(server.url("/odata/v1"))
        .arg("--dialect")
        .arg("cdse")
        .run(script, BOUND);
    let out = outcome.output();
    assert_eq!(out.matches("refused UnsafeName").count(), 2, "{out}");
    assert!(out.contains("S3Path"), "{out}");
    assert_eq!(canary.touches(), 0);
}

// --------------------------------------------------- parsers and limits (7)

/// `cleope catalogue serve` on a free port, with the addresses it prints.
struct Served {
    child: Child,
    onda: String,
}

impl Served {
    fn start(archive: &Path) -> Served {
        let mut child = Command::new(common::cleope_bin())
            .args(["catalogue", "serve", "--archive"])
            .arg(archive)
            .args(["--addr", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::BufRead;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let onda = loop {
            let line = lines
                .next()
                .expect("the server prints its addresses")
                .unwrap();
            if let Some(url) = line
                .split_whitespace()
                .find(|w| w.ends_with("/dias-catalogue"))
            {
                break url.to_string();
            }
        };
        std::thread::spawn(move || for _ in lines {});
        Served { child, onda }
    }

    fn alive(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn nested(open: &str, depth: usize, inner: &str, close: &str) -> String {
    format!("{}{inner}{}", open.repeat(depth), close.repeat(depth))
}

/// Deep `$search` / `$filter` expressions (parentheses, NOTs, nested
/// geometry collections) are 400s naming the nesting, and the server goes
/// on serving.
#[test]
fn deeply_nested_queries_get_400_and_the_standalone_server_keeps_serving() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let mut served = Served::start(&archive);
    let onda = served.onda.clone();
    let cdse = onda.replace("/dias-catalogue", "/odata/v1");
    let search = |base: &str, key: &str, expression: &str| {
        let target = format!(
            "{base}/Products?{key}={}",
            cleope::eo::odata::wire::encode_component(expression, "")
        );
        raw_get(&target)
    };
    let collections = nested("GEOMETRYCOLLECTION(", 200, "POINT(1 2)", ")");
    let cases = [
        (onda.as_str(), "$search", nested("(", 4000, "name:X", ")")),
        (
            onda.as_str(),
            "$search",
            format!("{}name:X", "NOT ".repeat(4000)),
        ),
        (
            cdse.as_str(),
            "$filter",
            nested("(", 4000, "Name eq 'X'", ")"),
        ),
        (
            cdse.as_str(),
            "$filter",
            format!("{}Name eq 'X'", "not ".repeat(4000)),
        ),
        (
            onda.as_str(),
            "$search",
            format!("footprint:\"Intersects({collections})\""),
        ),
        (
            cdse.as_str(),
            "$filter",
            format!("OData.CSC.Intersects(area=geography'SRID=4326;{collections}')"),
        ),
    ];
    for (base, key, expression) in &cases {
        let (status, text) = search(base, key, expression);
        let short: String = text.chars().take(300).collect();
        assert_eq!(status, 400, "{key} {}…: {short}", &expression[..40]);
        assert!(text.contains("nest") || text.contains("deep"), "{short}");
        assert!(
            text.len() < 2000,
            "the answer does not echo it all: {}",
            text.len()
        );
        assert!(
            served.alive(),
            "the server died on {key} {}…",
            &expression[..40]
        );
    }
    let (status, text) = search(&onda, "$search", "platformName:Sentinel-2");
    assert_eq!((status, text.contains(ZIP_NAME)), (200, true), "{text}");
    // A query line longer than the head limit is refused whole (431), and
    // serving goes on.
    // (Or the connection is reset before the 431 arrives: the server stops
    // reading at the limit, and the kernel may drop its answer.)
    let (status, _) = search(&onda, "$search", &"x".repeat(200_000));
    assert!(status == 431 || status == 0, "{status}");
    let (status, _) = search(&cdse, "$filter", "Name eq 'X'");
    assert_eq!(status, 200);
    assert!(served.alive());
}

/// A GET over a plain TCP connection (no client-side limit on the target):
/// the status and the body.
fn raw_get(url: &str) -> (u16, String) {
    let rest = url.trim_start_matches("http://");
    let (addr, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // A server that refuses an oversized head closes while the rest is
    // still being sent: the write then fails, and the answer is read anyway.
    let _ = write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    );
    let mut answer = Vec::new();
    let _ = stream.read_to_end(&mut answer);
    let answer = String::from_utf8_lossy(&answer).into_owned();
    let status = answer
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = answer
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    (status, body)
}

/// A script that points a request at the embedded catalogue (which runs in
/// the session's own process) with a deeply nested query gets a named
/// error, and the session and its variables survive.
#[test]
fn a_nested_query_from_a_script_leaves_the_embedded_catalogue_and_the_session_alive() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let outcome = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(|s: &mut Settings| s.archive = Some(archive));
        t.exec("let kept = 42; let n = odata_count(#{});").unwrap();
        let script = r#"
            let base = catalogue().url;
            let deep = ""; for i in 0..4000 { deep += "("; }
            let nots = ""; for i in 0..4000 { nots += "NOT+"; }
            let kinds = [];
            for q in [deep + "name:X", nots + "name:X"] {
                catalogue(#{ url: base + "/Products?$search=" + q + "&x=", dialect: "onda" });
                try { odata_search(#{}); kinds.push("none"); } catch (e) { kinds.push(e.kind); }
            }
            let cdse = base; cdse.replace("/dias-catalogue", "/odata/v1");
            let filter = ""; for i in 0..4000 { filter += "not+"; }
            catalogue(#{ url: cdse + "/Products?$filter=" + filter + "Online+eq+true&x=", dialect: "cdse" });
            try { odata_search(#{}); kinds.push("none"); } catch (e) { kinds.push(e.kind); }
            catalogue(#{ url: base, dialect: "onda" });
            kinds.push(odata_count(#{}) == n);
            kinds
        "#;
        let kinds = t.run(script).map(|v| v.to_string());
        let kept = t.run("kept").unwrap().as_int().unwrap();
        (kinds, kept)
    });
    let (kinds, kept) = outcome;
    let kinds = kinds.map_err(|e| {
        format!(
            "{}: {}",
            e.name,
            e.message.chars().take(300).collect::<String>()
        )
    });
    assert_eq!(
        kinds.unwrap(),
        r#"["BadQuery", "BadQuery", "BadQuery", true]"#
    );
    assert_eq!(kept, 42);
}

/// AOIs from scripts: nesting past the limit and shapes too big to check
/// quickly are `BadAoi`, in bounded time, with the session alive.
#[test]
fn aois_too_deep_or_too_big_are_named_errors_in_bounded_time() {
    let outcome = on_script_thread(BOUND, || {
        let mut t =
            TestSession::new(|s: &mut Settings| s.quota.time_limit = Duration::from_secs(20));
        t.exec("let kept = 42;").unwrap();
        let mut results = Vec::new();
        for (label, code) in [
            (
                "wkt collections",
                r#"let s = ""; for i in 0..200000 { s += "GEOMETRYCOLLECTION("; } aoi_from_wkt(s + "POINT(1 2)")"#,
            ),
            (
                "geojson arrays",
                r#"let s = ""; for i in 0..200000 { s += "["; } aoi_from_geojson(`{"type":"Polygon","coordinates":${s}`)"#,
            ),
            (
                "a huge ring",
                r#"let v = []; for i in 0..200000 { let a = i * 6.2831853 / 200000.0; v.push([10.0 + a.cos(), 40.0 + a.sin()]); } aoi_polygon(v)"#,
            ),
        ] {
            let started = Instant::now();
            let error = t.run(code).expect_err(label);
            results.push((label, error.name.clone(), started.elapsed()));
        }
        let kept = t.run("kept").unwrap().as_int().unwrap();
        (results, kept)
    });
    let (results, kept) = outcome;
    for (label, name, elapsed) in results {
        assert_eq!(name, "BadAoi", "{label}");
        assert!(elapsed < Duration::from_secs(10), "{label}: {elapsed:?}");
    }
    assert_eq!(kept, 42);
}

/// What a hostile catalogue answers — a huge body, JSON nested past any
/// sense, footprints with tens of thousands of vertices, a token that
/// lives for ever — is a named error or is handled, never a crash.
#[test]
fn hostile_catalogue_answers_are_named_errors_or_harmless() {
    let huge_footprint = {
        let ring: Vec<String> = (0..40_000)
            .map(|i| {
                let a = i as f64 * std::f64::consts::TAU / 40_000.0;
                format!("{} {}", 10.0 + a.cos(), 40.0 + a.sin())
            })
            .collect();
        format!("POLYGON (({}, {}))", ring.join(", "), ring[0])
    };
    let heavy = page(
        (0..5)
            .map(|i| {
                let mut entry = onda_entry(&format!("id-{i}"), &format!("S5P_{i}.nc"), 10, false);
                entry["footprint"] = Value::from(huge_footprint.clone());
                entry
            })
            .collect(),
    );
    let server = FakeServer::start(move |seen: &Seen| {
        let query = seen.target.clone();
        if query.contains("huge") {
            Reply::json(format!("[{}]", " ".repeat(64 << 20)))
        } else if query.contains("deep") {
            Reply::json("[".repeat(100_000))
        } else if query.contains("heavy") {
            Reply::json(heavy.clone())
        } else if seen.path().ends_with("/token") {
            Reply::json(
                r#"{"access_token":"t","expires_in":18446744073709551615,"refresh_token":"r","refresh_expires_in":18446744073709551615}"#,
            )
        } else if seen.path() == "/odata/v1/Products" {
            Reply::json(cdse_page("S5P_ARCHIVED.nc", false))
        } else {
            Reply::json(r#"{"value":[]}"#)
        }
    });
    let outcome = on_script_thread(BOUND, move || {
        let mut t = onda_session(&server, Duration::from_secs(20));
        t.exec("let kept = 42;").unwrap();
        let mut results = Vec::new();
        for name in ["huge", "deep"] {
            let started = Instant::now();
            let error = t
                .run(&format!(r#"odata_search(#{{ name: "{name}" }})"#))
                .expect_err(name);
            results.push((
                name,
                error.name.clone(),
                error.message.clone(),
                started.elapsed(),
            ));
        }
        let started = Instant::now();
        let heavy = t
            .run(r#"odata_search(#{ name: "heavy" }).map(|p| p.footprint).len()"#)
            .map(|v| v.as_int().unwrap());
        let heavy_time = started.elapsed();
        let base = server.url("/odata/v1");
        let token = t.run(&format!(
            r#"catalogue(#{{ url: "{base}", dialect: "cdse", token_url: "{}" }});
               let kind = "none";
               try {{ odata_order(odata_search(#{{}})[0]); }} catch (e) {{ kind = e.kind; }}
               kind"#,
            server.url("/token")
        ));
        let kept = t.run("kept").unwrap().as_int().unwrap();
        let tokens = server.count("/token");
        (
            results,
            heavy,
            heavy_time,
            token.map(|v| v.to_string()),
            kept,
            tokens,
        )
    });
    let (results, heavy, heavy_time, token, kept, tokens) = outcome;
    for (name, kind, message, elapsed) in results {
        assert_eq!(kind, "CatalogueError", "{name}: {message}");
        assert!(elapsed < Duration::from_secs(5), "{name}: {elapsed:?}");
    }
    assert_eq!(heavy.unwrap(), 5);
    assert!(heavy_time < Duration::from_secs(5), "{heavy_time:?}");
    // The token was taken (no panic on its lifetime "for ever"); the order's
    // answer (an empty list) is not one.
    assert_eq!(tokens, 1);
    assert_eq!(token.unwrap(), "CatalogueError");
    assert_eq!(kept, 42);
}

/// A catalogue answering a search with an endless body (no length): the
/// client stops reading at its cap, and `cleope run` under a 256 MiB quota
/// stays well inside it.
#[test]
fn an_endless_answer_is_cut_at_the_cap_with_memory_measured() {
    let server = FakeServer::start(|_| Reply::Flood { total: 1 << 30 });
    let outcome = Sandboxed::new()
        .arg("--catalogue")
        .arg(server.url("/dias-catalogue"))
        .arg("--dialect")
        .arg("onda")
        .arg("--memory")
        .arg("256MiB")
        .run(
            r#"let kept = 42;
               try { odata_search(#{}); } catch (e) { print(`${e.kind}: ${e.message}`); }
               print(`kept ${kept}`);"#,
            BOUND,
        );
    let out = outcome.output();
    eprintln!(
        "endless answer: exit {:?} in {:?}, peak RSS {} MiB",
        outcome.code,
        outcome.elapsed,
        outcome.peak_rss >> 20
    );
    assert_eq!(outcome.code, Some(0), "{out}");
    assert!(out.contains("CatalogueError: "), "{out}");
    assert!(
        out.contains("more than the") && out.contains("a catalogue answer may be"),
        "{out}"
    );
    assert!(out.contains("kept 42"), "{out}");
    assert!(
        outcome.peak_rss < 256 << 20,
        "peak RSS {}",
        outcome.peak_rss
    );
}

/// A local catalogue with short time-outs, for the connection tests.
fn quick_server(archive: &Path) -> Server {
    let mut config = ServerConfig::new(archive);
    config.limits.header_timeout = Duration::from_secs(1);
    config.limits.body_timeout = Duration::from_secs(1);
    config.limits.max_connections = 64;
    Server::start(config).unwrap()
}

fn answered_quickly(url: &str) -> Duration {
    let started = Instant::now();
    let response = reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
        .get(url)
        .send()
        .expect("the catalogue answers others");
    assert_eq!(response.status(), 200);
    started.elapsed()
}

/// Ten thousand idle connections and a slowloris client (one header byte
/// at a time) do not stop the catalogue answering a real client at once;
/// the server closes the slow ones after its header time-out.
#[test]
fn slowloris_and_ten_thousand_idle_connections_do_not_stop_the_catalogue() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let server = quick_server(&archive);
    let addr = server
        .onda_base()
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let count_url = format!("{}/Products/$count", server.onda_base());

    let mut idle = Vec::new();
    for _ in 0..10_000 {
        match TcpStream::connect(&addr) {
            Ok(stream) => idle.push(stream),
            Err(e) => panic!("connection {} failed: {e}", idle.len()),
        }
    }
    let waited = answered_quickly(&count_url);
    eprintln!("10,000 idle connections open: a request answered in {waited:?}");
    assert!(waited < Duration::from_secs(1), "answered after {waited:?}");

    // Slowloris: 50 clients sending their headers a byte every 100 ms.
    let mut slow: Vec<TcpStream> = (0..50)
        .map(|_| TcpStream::connect(&addr).unwrap())
        .collect();
    let started = Instant::now();
    let mut closed_at = vec![None; slow.len()];
    let mut probes = Vec::new();
    while started.elapsed() < Duration::from_secs(4) {
        for (i, stream) in slow.iter_mut().enumerate() {
            if closed_at[i].is_none() && stream.write_all(b"G").is_err() {
                closed_at[i] = Some(started.elapsed());
            }
        }
        if probes.len() < 5 {
            probes.push(answered_quickly(&count_url));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    eprintln!("during slowloris: requests answered in {probes:?}; writes failed at {closed_at:?}");
    for waited in probes {
        assert!(waited < Duration::from_secs(1), "answered after {waited:?}");
    }
    // Every slow client was cut off: the next write or read fails or sees the end.
    for stream in &mut slow {
        stream
            .set_read_timeout(Some(Duration::from_secs(2)))
            .unwrap();
        let mut byte = [0u8; 1];
        let ended =
            stream.write_all(b"G").is_err() || matches!(stream.read(&mut byte), Ok(0) | Err(_));
        assert!(ended, "a slowloris connection is still open after 4 s");
    }
    drop(idle);
    assert!(answered_quickly(&count_url) < Duration::from_secs(1));
}

/// The server closes keep-alive connections idle past its header time-out;
/// the client notices and does not reuse them, so the next request after
/// a pause goes out at once, not after a failed try and a back-off.
#[test]
fn a_request_after_the_server_closed_an_idle_connection_is_not_delayed() {
    use cleope::eo::odata::client::{Client, ClientConfig};
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let server = quick_server(&archive);
    let client = Client::new(ClientConfig::new(Dialect::Onda, &server.onda_base()), None);
    let cancel = cleope::sandbox::Cancel::default();
    cancel.start_run(Duration::from_secs(60));
    let query = cleope::eo::odata::Query::default();
    assert_eq!(client.count(&query, &cancel).unwrap(), 1);
    std::thread::sleep(Duration::from_millis(1500));
    let started = Instant::now();
    assert_eq!(client.count(&query, &cancel).unwrap(), 1);
    let took = started.elapsed();
    eprintln!("a request after the server closed the idle connection: {took:?}");
    assert!(took < Duration::from_millis(300), "{took:?}");
}

/// Request bodies: one larger than the cap is refused at once (413), one
/// that trickles in is cut at the body time-out (408), and the catalogue
/// answers others meanwhile.
#[test]
fn request_bodies_are_capped_in_size_and_in_time() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let server = quick_server(&archive);
    let token = server.token_url();
    let addr = token
        .trim_start_matches("http://")
        .split('/')
        .next()
        .unwrap()
        .to_string();
    let path = format!(
        "/{}",
        token
            .trim_start_matches("http://")
            .split_once('/')
            .unwrap()
            .1
    );

    let started = Instant::now();
    let mut big = TcpStream::connect(&addr).unwrap();
    write!(
        big,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 10000000\r\n\r\n"
    )
    .unwrap();
    let mut answer = String::new();
    big.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = big.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(started.elapsed() < Duration::from_secs(1));

    let started = Instant::now();
    let mut slow = TcpStream::connect(&addr).unwrap();
    write!(
        slow,
        "POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 100\r\n\r\ngrant_type="
    )
    .unwrap();
    let count_url = format!("{}/Products/$count", server.onda_base());
    assert!(answered_quickly(&count_url) < Duration::from_secs(1));
    let mut answer = String::new();
    slow.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let _ = slow.read_to_string(&mut answer);
    let waited = started.elapsed();
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(waited < Duration::from_secs(3), "{waited:?}");
}

// ------------------------------------------------------- deadlines (9)

/// A catalogue that accepts connections and never answers (or answers
/// the headers of a download and then nothing): a cell with a 2 s limit
/// ends with `TimeQuotaExceeded` in about 2 s, whatever the request.
#[test]
fn a_catalogue_that_never_answers_ends_a_2s_cell_in_about_2s() {
    let listing = page(vec![
        onda_entry("id-1", "S5P_STALL.nc", 1_000_000, false),
        onda_entry("id-2", "S5P_ARCHIVED.nc", 1_000_000, true),
    ]);
    let cdse_listing = cdse_page("S5P_STALL.nc", true);
    let server = FakeServer::start(move |seen: &Seen| {
        let target = seen.target.as_str();
        if seen.path() == "/odata/v1/Products" {
            Reply::json(cdse_listing.clone())
        } else if target.contains("silent") || seen.path().ends_with("/$count") {
            Reply::Silence
        } else if seen.path().ends_with("/$value") {
            Reply::Stall {
                length: 1_000_000,
                first: vec![7; 1000],
            }
        } else if seen.path().ends_with("/Ens.Order") || seen.path().ends_with("/token") {
            Reply::Silence
        } else {
            Reply::json(listing.clone())
        }
    });
    let server = Arc::new(server);
    let cases = [
        ("search", r#"odata_search(#{ name: "silent" })"#.to_string()),
        ("count", "odata_count(#{})".to_string()),
        (
            "download",
            "odata_download(odata_search(#{})[0])".to_string(),
        ),
        ("order", "odata_order(odata_search(#{})[1])".to_string()),
        (
            "token",
            format!(
                r#"catalogue(#{{ url: "{}", dialect: "cdse", token_url: "{}" }}); odata_download("S5P_STALL.nc")"#,
                server.url("/odata/v1"),
                server.url("/token")
            ),
        ),
    ];
    for (label, code) in cases {
        let server = Arc::clone(&server);
        let (name, elapsed, kept, workspace) = on_script_thread(BOUND, move || {
            let mut t = onda_session(&server, Duration::from_secs(2));
            t.exec("let kept = 42;").unwrap();
            let started = Instant::now();
            let error = t.run(&code).expect_err(label);
            let elapsed = started.elapsed();
            let kept = t.run("kept").unwrap().as_int().unwrap();
            (error.name, elapsed, kept, t.workspace())
        });
        eprintln!("{label}: a silent catalogue, a 2 s cell: {name} after {elapsed:?}");
        assert_eq!(name, "TimeQuotaExceeded", "{label}");
        assert!(
            elapsed >= Duration::from_millis(1900) && elapsed < Duration::from_millis(3000),
            "{label}: stopped after {elapsed:?}"
        );
        assert_eq!(kept, 42, "{label}");
        let local = entries(&workspace.join("local_files"));
        assert!(
            local.is_empty() || local == ["S5P_STALL.nc.part"],
            "{label}: {local:?}"
        );
    }
}

/// An interrupt stops a download whose server stalls mid-body within a
/// second, leaving only the resumable `.part`.
#[test]
fn an_interrupt_stops_a_stalled_download_within_a_second() {
    let listing = page(vec![onda_entry("id-1", "S5P_STALL.nc", 1_000_000, false)]);
    let server = FakeServer::start(move |seen: &Seen| {
        if seen.path().ends_with("/$value") {
            Reply::Stall {
                length: 1_000_000,
                first: vec![7; 100_000],
            }
        } else {
            Reply::json(listing.clone())
        }
    });
    let (stopped_after, name, kept, local, part) = on_script_thread(BOUND, move || {
        let mut t = onda_session(&server, Duration::from_secs(60));
        t.exec("let kept = 42; let p = odata_search(#{})[0];")
            .unwrap();
        let flag = t.session.interrupt_flag();
        let interrupted_at = Arc::new(std::sync::Mutex::new(None));
        let at = Arc::clone(&interrupted_at);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            *at.lock().unwrap() = Some(Instant::now());
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let error = t.run("odata_download(p)").expect_err("interrupted");
        let ended = Instant::now();
        let stopped_after = ended - interrupted_at.lock().unwrap().expect("interrupt sent");
        let kept = t.run("kept").unwrap().as_int().unwrap();
        let local = entries(&t.workspace().join("local_files"));
        let part = std::fs::metadata(t.workspace().join("local_files/S5P_STALL.nc.part"))
            .map(|m| m.len())
            .unwrap_or(0);
        (stopped_after, error.name, kept, local, part)
    });
    eprintln!(
        "stalled download: stopped {stopped_after:?} after the interrupt, .part of {part} bytes"
    );
    assert_eq!(name, "Interrupted");
    assert!(stopped_after < Duration::from_secs(1), "{stopped_after:?}");
    assert_eq!(kept, 42);
    assert_eq!(local, ["S5P_STALL.nc.part"]);
    assert_eq!(part, 100_000, "the bytes received are kept to resume");
}

/// A server asking to retry much later (`Retry-After`), or failing again
/// and again, never holds a cell past its limit: a wait longer than the
/// time left fails at once.
#[test]
fn retry_after_and_backoff_end_at_the_deadline() {
    let server = FakeServer::start(|_| Reply::status(503, &[("Retry-After", "100000")], "busy"));
    let (name, elapsed, message) = on_script_thread(BOUND, move || {
        let mut t = onda_session(&server, Duration::from_secs(2));
        let started = Instant::now();
        let error = t.run("odata_search(#{})").expect_err("busy");
        (error.name, started.elapsed(), error.message)
    });
    // A wait past any sense is not waited: the error comes at once.
    assert_eq!(name, "CatalogueError", "{message}");
    assert!(message.contains("100000"), "{message}");
    assert!(elapsed < Duration::from_secs(1), "{elapsed:?}");

    let server = FakeServer::start(|_| Reply::status(503, &[("Retry-After", "30")], "busy"));
    let (name, elapsed) = on_script_thread(BOUND, move || {
        let mut t = onda_session(&server, Duration::from_secs(10));
        let started = Instant::now();
        let error = t.run("odata_search(#{})").expect_err("busy");
        (error.name, started.elapsed())
    });
    // A wait the cell's time limit would cut (30 s in a 10 s cell) is the
    // time-limit error at once, not a sleep until the deadline.
    assert_eq!(name, "TimeQuotaExceeded");
    assert!(elapsed < Duration::from_secs(5), "{elapsed:?}");
}

/// Order waits take a time-out from the script: a negative, NaN or
/// absurd one is `BadDuration`; a short one ends the wait with a clear error.
#[test]
fn order_wait_time_outs_from_scripts_are_checked() {
    let listing = page(vec![onda_entry("id-1", "S5P_ARCHIVED.nc", 10, true)]);
    let server = FakeServer::start(move |_| Reply::json(listing.clone()));
    let results = on_script_thread(BOUND, move || {
        let mut t = onda_session(&server, Duration::from_secs(20));
        t.exec("let kept = 42; let p = odata_search(#{})[0];")
            .unwrap();
        let mut results = Vec::new();
        for timeout in ["-1", "-1.5", "1e300", "0.0/0.0", "100000000"] {
            let error = t
                .run(&format!("odata_wait(p, {timeout})"))
                .expect_err(timeout);
            results.push((timeout.to_string(), error.name, Duration::ZERO));
        }
        let started = Instant::now();
        let error = t.run("odata_wait(p, 1)").expect_err("still offline");
        results.push(("1".into(), error.name, started.elapsed()));
        assert_eq!(t.run("kept").unwrap().as_int().unwrap(), 42);
        results
    });
    for (timeout, name, elapsed) in results {
        if timeout == "1" {
            assert_eq!(name, "ProductOffline");
            assert!(
                elapsed >= Duration::from_millis(900) && elapsed < Duration::from_secs(3),
                "{elapsed:?}"
            );
        } else {
            assert_eq!(name, "BadDuration", "odata_wait(p, {timeout})");
        }
    }
}

/// The same through `cleope run`: a silent catalogue and a 2 s limit make
/// the process exit with code 3 in about 2 s.
#[test]
fn cleope_run_with_a_silent_catalogue_exits_3_in_about_its_limit() {
    let server = FakeServer::start(|_| Reply::Silence);
    let outcome = Sandboxed::new()
        .arg("--catalogue")
        .arg(server.url("/dias-catalogue"))
        .arg("--dialect")
        .arg("onda")
        .arg("--time-limit")
        .arg("2s")
        .run("odata_search(#{})", BOUND);
    eprintln!(
        "cleope run, silent catalogue, --time-limit 2s: exit {:?} after {:?}, peak RSS {} MiB",
        outcome.code,
        outcome.elapsed,
        outcome.peak_rss >> 20
    );
    assert_eq!(outcome.code, Some(3), "{}", outcome.output());
    assert!(outcome.output().contains("TimeQuotaExceeded"));
    assert!(
        outcome.elapsed < Duration::from_millis(3500),
        "{:?}",
        outcome.elapsed
    );
}

// -------------------------------------------- the download lock (10)

fn run_download(workspace: &Path, catalogue: &str, time_limit: &str) -> Child {
    let script = workspace.join("resources").join("download.rhai");
    std::fs::create_dir_all(script.parent().unwrap()).unwrap();
    std::fs::write(
        &script,
        format!("let path = odata_download(\"{ZIP_NAME}\"); print(`got ${{path}}`);"),
    )
    .unwrap();
    Command::new(common::cleope_bin())
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(workspace)
        .args([
            "--catalogue",
            catalogue,
            "--dialect",
            "onda",
            "--time-limit",
            time_limit,
        ])
        .env("CLEOPE_USERNAME", "ada")
        .env("CLEOPE_PASSWORD", "pw")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn finish(child: Child) -> (Option<i32>, String) {
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

fn value_requests(server: &Server) -> usize {
    let url = format!("{}/requests", server.admin_url().unwrap());
    let log: Vec<Value> = reqwest::blocking::get(url).unwrap().json().unwrap();
    log.iter()
        .filter(|r| r["path"].as_str().unwrap_or("").ends_with("/$value"))
        .count()
}

/// Two `cleope run` processes download the same product into one
/// workspace at the same time: the second waits for the first's lock and
/// then finds the product complete, so it is fetched once and intact.
#[test]
fn two_processes_downloading_one_product_serialise_on_its_lock() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    let index = tiny_archive(&archive, 3_000_000);
    let mut config = ServerConfig::new(&archive);
    config.admin = true;
    // Each answer for the bytes is held back, so the two runs overlap.
    config.faults.push(
        Fault::parse("kind=delay,path=/dias-catalogue/Products(,millis=1500,count=2").unwrap(),
    );
    let server = Server::start(config).unwrap();
    let workspace = dir.path().join("workspace");
    std::fs::create_dir_all(&workspace).unwrap();
    let first = run_download(&workspace, &server.onda_base(), "60s");
    std::thread::sleep(Duration::from_millis(300));
    let second = run_download(&workspace, &server.onda_base(), "60s");
    let (code1, out1) = finish(first);
    let first_done = Instant::now();
    let (code2, out2) = finish(second);
    eprintln!(
        "two runs on one product: the second ended {:?} after the first; $value requests: {}",
        first_done.elapsed(),
        value_requests(&server)
    );
    let safe = format!("local_files/{}", ZIP_NAME.replace(".zip", ".SAFE"));
    assert_eq!(code1, Some(0), "{out1}");
    assert_eq!(code2, Some(0), "{out2}");
    assert!(out1.contains(&format!("got {safe}")), "{out1}");
    assert!(out2.contains(&format!("got {safe}")), "{out2}");
    assert_eq!(value_requests(&server), 1, "the product was fetched once");
    let local = workspace.join("local_files");
    assert_eq!(
        entries(&local),
        [ZIP_NAME.replace(".zip", ".SAFE"), "list_local.txt".into()]
    );
    let unpacked = std::fs::read(workspace.join(&safe).join("B04.jp2")).unwrap();
    let original = std::fs::read(
        archive
            .join(&index.products[0].pseudopath)
            .join(ZIP_NAME)
            .join(ZIP_NAME.replace(".zip", ".SAFE"))
            .join("B04.jp2"),
    )
    .unwrap();
    assert!(unpacked == original, "the product is intact");
    let list = std::fs::read_to_string(local.join("list_local.txt")).unwrap();
    assert_eq!(list, format!("{safe}\n"));
}

/// A download waiting for another session's lock still ends at its
/// deadline, without a request for the bytes.
#[test]
fn waiting_for_the_lock_honours_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let archive = dir.path().join("archive");
    tiny_archive(&archive, 1000);
    let mut config = ServerConfig::new(&archive);
    config.admin = true;
    let server = Server::start(config).unwrap();
    let workspace = dir.path().join("workspace");
    cleope::sandbox::Workspace::open(&workspace).unwrap();
    let lock_path: PathBuf = cleope::eo::download::product_lock_path(&workspace, ZIP_NAME);
    std::fs::create_dir_all(lock_path.parent().unwrap()).unwrap();
    let held = std::fs::File::create(&lock_path).unwrap();
    held.lock().unwrap();
    let started = Instant::now();
    let (code, out) = finish(run_download(&workspace, &server.onda_base(), "2s"));
    let elapsed = started.elapsed();
    eprintln!("waiting for a held lock, --time-limit 2s: exit {code:?} after {elapsed:?}");
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("TimeQuotaExceeded"), "{out}");
    assert!(elapsed < Duration::from_millis(3500), "{elapsed:?}");
    assert_eq!(value_requests(&server), 0);
    drop(held);
}
