//! Remote rasters: `open_raster("https://…")` reads a cloud-optimised
//! GeoTIFF by HTTP range requests through cleope's own client, inside the
//! session's network grant, in a `cleope run` child behind the
//! operating-system wall. A real HTTP server on loopback serves the file
//! (ranges as a static file server or object store answers them) and
//! records every request, so the tests count what was fetched.

use crate::common;

use common::canary::{CanaryServer, Sandboxed};
use common::fake_server::{FakeServer, Reply};
use gdal::DriverManager;
use gdal::raster::{Buffer, RasterCreationOptions};
use gdal::spatial_ref::SpatialRef;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// The test COG's side in pixels, and its blocks'.
const SIDE: usize = 2048;
const BLOCK: usize = 256;

/// Writes a 2048² UInt16 COG (256² DEFLATE tiles, overviews), lon/lat with
/// 0.001° pixels from (12° E, 46° N), and gives its bytes.
fn write_cog(dir: &Path) -> Vec<u8> {
    let plain = dir.join("plain.tif");
    let driver = DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut dataset = driver
        .create_with_band_type::<u16, _>(&plain, SIDE, SIDE, 1)
        .unwrap();
    dataset
        .set_geo_transform(&[12.0, 0.001, 0.0, 46.0, 0.0, -0.001])
        .unwrap();
    dataset
        .set_spatial_ref(&SpatialRef::from_epsg(4326).unwrap())
        .unwrap();
    let values = (0..SIDE * SIDE)
        .map(|i| {
            let (c, r) = (i % SIDE, i / SIDE);
            ((c * 7 + r * 13 + (c * r) % 97) % 4000) as u16
        })
        .collect();
    dataset
        .rasterband(1)
        .unwrap()
        .write((0, 0), (SIDE, SIDE), &mut Buffer::new((SIDE, SIDE), values))
        .unwrap();
    let cog = dir.join("tile.tif");
    let options = RasterCreationOptions::from_iter([
        format!("BLOCKSIZE={BLOCK}"),
        "COMPRESS=DEFLATE".to_string(),
    ]);
    dataset
        .create_copy(
            &DriverManager::get_driver_by_name("COG").unwrap(),
            &cog,
            &options,
        )
        .unwrap()
        .close()
        .unwrap();
    std::fs::read(cog).unwrap()
}

/// The script: statistics of one 256² block's area of `source`, inside
/// block (2, 2) (columns and rows 512–767).
fn window_stats(source: &str) -> String {
    format!(
        "let r = open_raster(\"{source}\").clip([12.5125, 45.2325, 12.7675, 45.4875]);\n\
         let s = r.stats();\n\
         print(`stats ${{r.width}} ${{r.height}} ${{s.min}} ${{s.max}} ${{s.mean}}`);\n"
    )
}

/// The printed `stats …` line.
fn stats_line(stdout: &str) -> String {
    stdout
        .lines()
        .find(|l| l.starts_with("stats "))
        .unwrap_or_else(|| panic!("no stats line in:\n{stdout}"))
        .to_string()
}

#[test]
fn a_window_of_a_remote_cog_is_read_with_a_few_range_requests() {
    let run = Sandboxed::new();
    let cog = Arc::new(write_cog(run.dir.path()));
    run.write("resources/tile.tif", cog.as_slice());
    let served = Arc::clone(&cog);
    let server = FakeServer::start(move |seen| Reply::file(&served, seen));
    let run = run
        .arg("--allow-net")
        .arg(format!("127.0.0.1:{}", server.port()));

    let remote = run.run(&window_stats(&server.url("/cogs/tile.tif")), LIMIT);
    assert_eq!(remote.code, Some(0), "{}", remote.output());
    let local = run.run(&window_stats("resources/tile.tif"), LIMIT);
    assert_eq!(local.code, Some(0), "{}", local.output());
    assert_eq!(stats_line(&remote.stdout), stats_line(&local.stdout));

    let requests = server.seen();
    assert!(
        requests.iter().all(|r| r.range.is_some()),
        "a request without a Range would fetch the whole file: {requests:?}"
    );
    // The head (header and tile index), then the window's block.
    assert!(
        (2..=4).contains(&requests.len()),
        "{} requests: {requests:?}",
        requests.len()
    );
    let fetched: u64 = requests
        .iter()
        .map(|r| range_length(r.range.as_deref()))
        .sum();
    assert!(
        fetched < cog.len() as u64 / 4,
        "{fetched} bytes fetched of a {}-byte file",
        cog.len()
    );
}

/// The length a `bytes=a-b` header asks for.
fn range_length(range: Option<&str>) -> u64 {
    let spec = range.and_then(|r| r.strip_prefix("bytes=")).unwrap();
    let (a, b) = spec.split_once('-').unwrap();
    b.parse::<u64>().unwrap() - a.parse::<u64>().unwrap() + 1
}

#[test]
fn a_remote_raster_outside_the_grant_is_refused_before_any_request() {
    let server = CanaryServer::start();
    let run = Sandboxed::new();
    let script = format!(
        "try {{ open_raster(\"{}\"); print(\"opened\"); }} catch (e) {{ print(`kind=${{e.kind}}`); print(e.hint); }}",
        server.url("/tile.tif")
    );
    let outcome = run.run(&script, LIMIT);
    assert!(
        outcome.stdout.contains("kind=NetworkNotAllowed"),
        "{}",
        outcome.output()
    );
    assert!(
        outcome.stdout.contains("--allow-net"),
        "{}",
        outcome.output()
    );
    assert_eq!(
        server.hits(),
        0,
        "the server outside the grant was contacted"
    );
}

#[test]
fn a_server_that_ignores_ranges_gets_a_named_error_not_a_whole_download() {
    let run = Sandboxed::new();
    let cog = Arc::new(write_cog(run.dir.path()));
    let served = Arc::clone(&cog);
    let server = FakeServer::start(move |_| Reply::bytes(served.to_vec()));
    let run = run
        .arg("--allow-net")
        .arg(format!("127.0.0.1:{}", server.port()));
    let script = format!(
        "let kept = 42;\n\
         try {{ open_raster(\"{}\"); }} catch (e) {{ print(`kind=${{e.kind}}`); print(e.message); }}\n\
         print(`kept=${{kept}}`);",
        server.url("/tile.tif")
    );
    let outcome = run.run(&script, LIMIT);
    assert!(
        outcome.stdout.contains("kind=RemoteReadFailed")
            && outcome.stdout.contains("whole file")
            && outcome.stdout.contains("kept=42"),
        "{}",
        outcome.output()
    );
    assert_eq!(server.seen().len(), 1, "one request, not retried");
}

#[test]
fn a_busy_server_is_retried_after_the_time_it_asks_for() {
    let run = Sandboxed::new();
    let cog = Arc::new(write_cog(run.dir.path()));
    let served = Arc::clone(&cog);
    let first = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let server = FakeServer::start(move |seen| {
        if first.swap(false, std::sync::atomic::Ordering::SeqCst) {
            Reply::status(429, &[("Retry-After", "2")], "slow down")
        } else {
            Reply::file(&served, seen)
        }
    });
    let run = run
        .arg("--allow-net")
        .arg(format!("127.0.0.1:{}", server.port()));
    let outcome = run.run(&window_stats(&server.url("/tile.tif")), LIMIT);
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(
        outcome.elapsed >= Duration::from_secs(2),
        "Retry-After: 2 was not waited for ({:?})",
        outcome.elapsed
    );
}
