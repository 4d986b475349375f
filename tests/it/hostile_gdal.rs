//! Hostile scripts against GDAL's doors: a file that names other files, a
//! URL or memory, a string that is a dataset rather than a path, GDAL's own
//! configuration files and plugins, and reads too large for the run's time.
//! Each asserts the real side effect (the canary file unopened, the canary
//! server unreached, no file written, time to stop measured), then that the
//! error is named, the session alive and its variables kept.

use crate::common;

use cleope::runtime::{ErrorClass, ScriptError, Settings};
use common::canary::{CanaryFile, CanaryServer, Sandboxed};
use common::{TestSession, on_script_thread};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Every hostile script must be stopped well within this.
const BOUND: Duration = Duration::from_secs(60);

/// What a hostile chunk ended with, and how long it ran.
struct Refused {
    error: ScriptError,
    took: Duration,
    stdout: String,
    workspace: PathBuf,
    /// Kept so that the workspace outlives the check.
    _session: TempWorkspace,
}

/// The session's folder, kept until the test's assertions are done.
struct TempWorkspace(#[allow(dead_code)] tempfile::TempDir);

/// Runs `let kept = 42;`, lets `prepare` write files into the workspace,
/// runs the hostile `script`, and checks the error is `expect`, has a hint,
/// and that the session still runs code with its variables.
fn refused(
    adjust: fn(&mut Settings),
    prepare: impl FnOnce(&Path) + Send + 'static,
    script: String,
    expect: &'static str,
) -> Refused {
    let outcome = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(adjust);
        prepare(&t.workspace());
        t.exec("let kept = 42;").expect("setup chunk");
        let started = Instant::now();
        let error = t.run(&script).expect_err("the hostile chunk must fail");
        let took = started.elapsed();
        let kept = t.run("kept").expect("the session survives");
        let next = t.run("let after = kept + 1; after").expect("new code runs");
        let stdout = t.stdout();
        let workspace = t.workspace();
        let TestSession { dir, .. } = t;
        (
            error,
            took,
            kept.as_int().unwrap(),
            next.as_int().unwrap(),
            stdout,
            workspace,
            dir,
        )
    });
    let (error, took, kept, next, stdout, workspace, dir) = outcome;
    assert_eq!(error.name, expect, "got\n{error}");
    assert!(
        error.hint.is_some() || error.class == ErrorClass::Syntax,
        "no hint in\n{error}"
    );
    assert_eq!((kept, next), (42, 43), "variables lost");
    Refused {
        error,
        took,
        stdout,
        workspace,
        _session: TempWorkspace(dir),
    }
}

fn no_adjustment(_: &mut Settings) {}

/// A small georeferenced GeoTIFF (8 x 8, values 7), as bytes.
fn geotiff_bytes() -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("small.tif");
    write_geotiff(&path, 8, &[]);
    std::fs::read(&path).unwrap()
}

/// Writes a `size` x `size` Byte GeoTIFF in lon/lat with creation `options`
/// (with SPARSE_OK, no block is written: a huge raster in a small file).
fn write_geotiff(path: &Path, size: usize, options: &[&str]) {
    use gdal::raster::{Buffer, RasterCreationOptions};
    let driver = gdal::DriverManager::get_driver_by_name("GTiff").unwrap();
    let mut dataset = driver
        .create_with_band_type_with_options::<u8, _>(
            path,
            size,
            size,
            1,
            &RasterCreationOptions::from_iter(options.iter().copied()),
        )
        .unwrap();
    dataset
        .set_geo_transform(&[10.0, 1.0 / size as f64, 0.0, 46.0, 0.0, -1.0 / size as f64])
        .unwrap();
    dataset
        .set_spatial_ref(&gdal::spatial_ref::SpatialRef::from_epsg(4326).unwrap())
        .unwrap();
    if !options.contains(&"SPARSE_OK=TRUE") {
        dataset
            .rasterband(1)
            .unwrap()
            .write(
                (0, 0),
                (size, size),
                &mut Buffer::new((size, size), vec![7u8; size * size]),
            )
            .unwrap();
    }
}

/// A VRT whose band is raw bytes of `file`: what read /etc/passwd.
fn raw_band_vrt(file: &Path) -> String {
    format!(
        "<VRTDataset rasterXSize=\"16\" rasterYSize=\"1\">\
         <SRS>EPSG:4326</SRS><GeoTransform>10, 0.1, 0, 46, 0, -0.1</GeoTransform>\
         <VRTRasterBand dataType=\"Byte\" band=\"1\" subClass=\"VRTRawRasterBand\">\
         <SourceFilename relativeToVRT=\"0\">{}</SourceFilename>\
         <ImageOffset>0</ImageOffset><PixelOffset>1</PixelOffset><LineOffset>16</LineOffset>\
         </VRTRasterBand></VRTDataset>",
        file.display()
    )
}

/// A VRT whose band reads band 1 of `source` (a file or a URL).
fn source_vrt(source: &str) -> String {
    format!(
        "<VRTDataset rasterXSize=\"8\" rasterYSize=\"8\">\
         <SRS>EPSG:4326</SRS><GeoTransform>10, 0.125, 0, 46, 0, -0.125</GeoTransform>\
         <VRTRasterBand dataType=\"Byte\" band=\"1\"><SimpleSource>\
         <SourceFilename relativeToVRT=\"0\">{source}</SourceFilename>\
         <SourceBand>1</SourceBand></SimpleSource></VRTRasterBand></VRTDataset>"
    )
}

/// Writes `content` as `name` in the workspace.
fn put(workspace: &Path, name: &str, content: impl AsRef<[u8]>) {
    let path = workspace.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, content).unwrap();
}

/// A string as a Rhai string literal.
fn quoted(text: &str) -> String {
    format!("{text:?}")
}

#[test]
fn a_vrt_with_a_raw_band_over_a_file_outside_the_grant_is_refused_unopened() {
    let canary = CanaryFile::new();
    let vrt = raw_band_vrt(canary.path());
    for name in ["raw.vrt", "b04.tif", "s.nc", "t.jp2", "raw.xml"] {
        let content = vrt.clone();
        let outcome = refused(
            no_adjustment,
            move |ws| put(ws, name, content),
            format!("let r = open_raster(\"{name}\"); print(r.stats());"),
            "FormatNotAllowed",
        );
        assert!(outcome.error.message.contains(name), "{}", outcome.error);
        assert!(
            outcome
                .error
                .hint
                .as_deref()
                .is_some_and(|h| h.contains("gdal_translate")),
            "{}",
            outcome.error
        );
        assert!(!outcome.stdout.contains(canary.secret()));
        assert_eq!(canary.touches(), 0, "{name}: the canary was opened");
    }
}

#[test]
fn a_vrt_copying_a_raster_from_outside_every_root_writes_nothing() {
    let canary = CanaryFile::named("outside.tif", &geotiff_bytes(), String::new());
    let vrt = source_vrt(&canary.path().display().to_string());
    let outcome = refused(
        no_adjustment,
        move |ws| put(ws, "copy.vrt", vrt),
        "open_raster(\"copy.vrt\").save(\"output/stolen.tif\");".into(),
        "FormatNotAllowed",
    );
    assert!(!outcome.workspace.join("output/stolen.tif").exists());
    assert_eq!(canary.touches(), 0, "the outside raster was opened");
}

#[test]
fn a_vrt_naming_a_url_makes_no_request() {
    let server = CanaryServer::start();
    for (name, url) in [
        ("curl.vrt", format!("/vsicurl/{}", server.url("/x.tif"))),
        (
            "stream.tif",
            format!("/vsicurl_streaming/{}", server.url("/x.tif")),
        ),
        ("http.vrt", server.url("/x.tif")),
        ("wms.vrt", format!("WMS:{}", server.url("/wms"))),
    ] {
        let vrt = source_vrt(&url);
        refused(
            no_adjustment,
            move |ws| put(ws, name, vrt),
            format!("open_raster(\"{name}\").stats();"),
            "FormatNotAllowed",
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.hits(), 0, "GDAL reached the canary server");
}

#[test]
fn a_web_service_description_in_a_file_is_refused_without_a_request() {
    let server = CanaryServer::start();
    let wms = format!(
        "<GDAL_WMS><Service name=\"TMS\"><ServerUrl>{}</ServerUrl></Service>\
         <DataWindow><UpperLeftX>-180</UpperLeftX><UpperLeftY>90</UpperLeftY>\
         <LowerRightX>180</LowerRightX><LowerRightY>-90</LowerRightY>\
         <TileLevel>0</TileLevel><TileCountX>1</TileCountX><TileCountY>1</TileCountY>\
         </DataWindow><Projection>EPSG:4326</Projection></GDAL_WMS>",
        server.url("/${z}/${x}/${y}.png")
    );
    refused(
        no_adjustment,
        move |ws| put(ws, "map.tif", wms),
        "open_raster(\"map.tif\").stats();".into(),
        "FormatNotAllowed",
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.hits(), 0);
}

#[test]
fn strings_that_are_datasets_never_reach_gdal() {
    let server = CanaryServer::start();
    let canary = CanaryFile::new();
    let secret = b"cleope-memory-secret";
    let inline = raw_band_vrt(canary.path());
    let names = [
        format!(
            "MEM:::DATAPOINTER={:p},PIXELS={},LINES=1,DATATYPE=Byte",
            secret.as_ptr(),
            secret.len()
        ),
        inline,
        format!("/vsicurl/{}", server.url("/x.tif")),
        format!("/vsicurl_streaming/{}", server.url("/x.tif")),
        format!("NETCDF:\"{}\":v", server.url("/x.nc")),
        format!("NETCDF:{}:v", server.url("/x.nc")),
        format!("HDF5:\"{}\"://v", canary.path().display()),
        format!("WMS:{}", server.url("/wms")),
        format!("vrt://{}", canary.path().display()),
        format!("/vsizip//vsicurl/{}/a.tif", server.url("/x.zip")),
        "/vsimem/cleope/warp-0.vrt".into(),
        format!("GTIFF_DIR:1:{}", canary.path().display()),
    ];
    for name in names {
        let outcome = refused(
            no_adjustment,
            |_| {},
            format!("open_raster({});", quoted(&name)),
            "FormatNotAllowed",
        );
        assert!(
            outcome.error.message.contains("not a file path"),
            "{}",
            outcome.error
        );
        assert!(!outcome.stdout.contains("cleope-memory-secret"));
    }
    // A URL is read by cleope's own client (GDAL's /vsicleope/), inside
    // the grant: outside it, refused before any request.
    refused(
        no_adjustment,
        |_| {},
        format!("open_raster({});", quoted(&server.url("/x.tif"))),
        "NetworkNotAllowed",
    );
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(server.hits(), 0, "GDAL reached the canary server");
    assert_eq!(canary.touches(), 0, "GDAL opened the canary");
}

/// The runs' limit for the reads below, and how soon after it they must stop.
const SHORT_LIMIT: Duration = Duration::from_secs(1);
const STOP_WITHIN: Duration = Duration::from_secs(1);

/// An 80000 x 80000 GeoTIFF of unwritten (sparse) blocks: a 6.4 G pixel
/// window whose decimated read (a plot's quicklook) takes GDAL several
/// seconds in one call.
fn huge_sparse_geotiff(workspace: &Path) {
    write_geotiff(
        &workspace.join("huge.tif"),
        80_000,
        &["TILED=YES", "SPARSE_OK=TRUE", "BIGTIFF=YES"],
    );
}

/// Reads of the huge raster: a plot's decimated read (4.0 s unlimited in
/// `cleope run` on an idle machine, 2026-12-08; at 40000² it took 1.2–1.3 s,
/// too close to the 1 s limit, and finished inside it in a test process),
/// and a plot of its warp (over 40 s unlimited).
const HUGE_READS: [&str; 2] = [
    "open_raster(\"huge.tif\").plot();",
    "open_raster(\"huge.tif\").reproject(\"EPSG:3857\").plot();",
];

#[test]
fn a_huge_read_stops_at_the_time_limit() {
    for script in HUGE_READS {
        let outcome = refused(
            |s| s.quota.time_limit = SHORT_LIMIT,
            huge_sparse_geotiff,
            script.into(),
            "TimeQuotaExceeded",
        );
        eprintln!(
            "{script} stopped {:?} after a {SHORT_LIMIT:?} limit",
            outcome.took
        );
        assert!(
            outcome.took < SHORT_LIMIT + STOP_WITHIN,
            "{script} stopped after {:?}",
            outcome.took
        );
    }
}

#[test]
fn a_huge_read_stops_at_an_interrupt() {
    let after = Duration::from_millis(500);
    for script in HUGE_READS {
        let (took, error, kept) = on_script_thread(BOUND, move || {
            let mut t = TestSession::new(no_adjustment);
            huge_sparse_geotiff(&t.workspace());
            t.exec("let kept = 42;").unwrap();
            let flag = t.session.interrupt_flag();
            let interrupter = std::thread::spawn(move || {
                std::thread::sleep(after);
                flag.store(true, std::sync::atomic::Ordering::SeqCst);
            });
            let started = Instant::now();
            let error = t.run(script).expect_err("interrupted");
            let took = started.elapsed();
            interrupter.join().unwrap();
            (took, error, t.run("kept").unwrap().as_int().unwrap())
        });
        eprintln!("{script} stopped {took:?} after its start, interrupted at {after:?}");
        assert_eq!(error.name, "Interrupted", "{error}");
        assert_eq!(kept, 42);
        assert!(
            took < after + STOP_WITHIN,
            "{script} stopped after {took:?}"
        );
    }
}

/// A small GeoTIFF in the sandboxed run's workspace, for a script to read.
fn with_small_raster(run: &Sandboxed) {
    run.write("small.tif", geotiff_bytes());
}

const READ_A_RASTER: &str = "print(open_raster(\"small.tif\").stats().mean);";

#[test]
fn gdal_reads_no_configuration_file_from_home() {
    let gdalrc = CanaryFile::named(
        ".gdal/gdalrc",
        b"[configoptions]\nGDAL_PAM_ENABLED=YES\n",
        String::new(),
    );
    let run = Sandboxed::new().env("HOME", &gdalrc.root().display().to_string());
    with_small_raster(&run);
    let outcome = run.run(READ_A_RASTER, BOUND);
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(outcome.stdout.contains('7'), "{}", outcome.output());
    assert_eq!(gdalrc.touches(), 0, "GDAL read ~/.gdal/gdalrc");
}

#[test]
fn gdal_loads_no_plugin_driver() {
    let plugin = CanaryFile::named("gdal_Canary.so", b"not a library", String::new());
    let python = CanaryFile::named(
        "canary.py",
        b"# gdal: DRIVER_NAME = \"CANARY\"\n",
        String::new(),
    );
    let run = Sandboxed::new()
        .env("GDAL_DRIVER_PATH", &plugin.dir().display().to_string())
        .env(
            "GDAL_PYTHON_DRIVER_PATH",
            &python.dir().display().to_string(),
        );
    with_small_raster(&run);
    let outcome = run.run(READ_A_RASTER, BOUND);
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert_eq!(plugin.touches(), 0, "GDAL opened a plugin");
    assert_eq!(python.touches(), 0, "GDAL opened a Python driver");
}

/// A VRT whose pixel function is Python that writes `marker`.
fn python_vrt(marker: &Path) -> String {
    let code = [
        "def f(in_ar, out_ar, *args, **kwargs):",
        &format!("    open('{}', 'w').write('ran')", marker.display()),
        "    out_ar[:] = 1",
    ]
    .join("\n");
    format!(
        "<VRTDataset rasterXSize=\"8\" rasterYSize=\"8\">\
         <SRS>EPSG:4326</SRS><GeoTransform>10, 0.125, 0, 46, 0, -0.125</GeoTransform>\
         <VRTRasterBand dataType=\"Byte\" band=\"1\" subClass=\"VRTDerivedRasterBand\">\
         <PixelFunctionType>f</PixelFunctionType>\
         <PixelFunctionLanguage>Python</PixelFunctionLanguage>\
         <PixelFunctionCode><![CDATA[\n{code}\n]]></PixelFunctionCode>\
         </VRTRasterBand></VRTDataset>"
    )
}

/// A script that opens a GeoTIFF, warps it (cleope's VRT names the file),
/// then swaps the file for `swapped` and reads the warp: GDAL opens what is
/// there now as the VRT's source, without the door's allow-list.
fn swap_under_a_warp(swapped: &str) -> String {
    format!(
        "let r = open_raster(\"small.tif\");\n\
         let w = r.reproject(\"EPSG:3857\");\n\
         write_text(\"small.tif\", {});\n\
         print(w.stats());",
        quoted(swapped)
    )
}

#[test]
fn python_in_a_file_swapped_under_a_warp_does_not_run() {
    let marker_dir = tempfile::tempdir().unwrap();
    let marker = marker_dir.path().join("python-ran");
    let run = Sandboxed::new().env("GDAL_VRT_ENABLE_PYTHON", "YES");
    with_small_raster(&run);
    let outcome = run.run(&swap_under_a_warp(&python_vrt(&marker)), BOUND);
    assert_ne!(outcome.code, Some(0), "{}", outcome.output());
    assert!(!marker.exists(), "GDAL ran the VRT's Python code");
}

/// A file swapped under cleope's own VRT is opened by GDAL without the
/// allow-list: only the operating-system wall stops it from reading.
#[test]
fn a_raw_band_swapped_under_a_warp_reads_nothing_outside_the_grant() {
    let canary = CanaryFile::new();
    let run = Sandboxed::new();
    with_small_raster(&run);
    let outcome = run.run(&swap_under_a_warp(&raw_band_vrt(canary.path())), BOUND);
    assert!(!run.leaked(&outcome, canary.secret()));
    assert_eq!(canary.touches(), 0, "GDAL opened the canary");
}

/// Builds, with the HDF5 library GDAL links, a file whose 2-D dataset
/// `leak` is stored in `external` (HDF5 external raw storage) and which
/// links `/linked` to an object in `external` (an external link).
fn hdf5_with_external_storage(path: &Path, external: &Path) {
    hdf5::write_external(path, external);
}

/// Only the kernel stops HDF5 from reading external storage and links:
/// the operating-system wall's door that no path check sees.
#[test]
fn hdf5_external_storage_and_links_read_nothing_outside_the_grant() {
    let canary = CanaryFile::new();
    let run = Sandboxed::new();
    hdf5_with_external_storage(&run.workspace.join("ext.h5"), canary.path());
    assert_eq!(
        canary.touches(),
        0,
        "writing the file did not read the canary"
    );
    for name in ["NETCDF:\"ext.h5\":leak", "ext.h5"] {
        let outcome = run.run(
            &format!("print(open_raster({}).stats());", quoted(name)),
            BOUND,
        );
        assert!(!run.leaked(&outcome, canary.secret()), "{name}");
    }
    assert_eq!(canary.touches(), 0, "HDF5 opened the canary");
}

/// The few HDF5 C functions the test needs, looked up in the HDF5 library
/// GDAL brought into the process (as crates/eo/src/hdf5.rs does for cleope).
mod hdf5 {
    use std::ffi::{CString, c_char, c_int, c_void};
    use std::os::unix::ffi::OsStrExt;
    use std::path::Path;

    type Hid = i64;

    unsafe extern "C" {
        fn dlsym(handle: *mut c_void, symbol: *const c_char) -> *mut c_void;
    }

    fn symbol(name: &str) -> *mut c_void {
        // Referencing GDAL loads its libraries, HDF5 among them.
        let _ = gdal::DriverManager::get_driver_by_name("GTiff");
        let name = CString::new(name).unwrap();
        // SAFETY: RTLD_DEFAULT lookup of a NUL-terminated name.
        let found = unsafe { dlsym(std::ptr::null_mut(), name.as_ptr()) };
        assert!(!found.is_null(), "HDF5 has no {name:?}");
        found
    }

    fn c_path(path: &Path) -> CString {
        CString::new(path.as_os_str().as_bytes()).unwrap()
    }

    pub fn write_external(path: &Path, external: &Path) {
        const ACC_TRUNC: u32 = 0x0002;
        const DEFAULT: Hid = 0;
        // SAFETY: HDF5's documented C API, with the types of hdf5.h (hid_t
        // = int64_t, herr_t = int, hsize_t = uint64_t, off_t = int64_t);
        // every id made here is closed here.
        unsafe {
            let open: unsafe extern "C" fn() -> c_int = std::mem::transmute(symbol("H5open"));
            assert!(open() >= 0);
            let global = |name: &str| *(symbol(name) as *const Hid);
            let dataset_create = global("H5P_CLS_DATASET_CREATE_ID_g");
            let uchar = global("H5T_NATIVE_UCHAR_g");
            let create_file: unsafe extern "C" fn(*const c_char, u32, Hid, Hid) -> Hid =
                std::mem::transmute(symbol("H5Fcreate"));
            let create_space: unsafe extern "C" fn(c_int, *const u64, *const u64) -> Hid =
                std::mem::transmute(symbol("H5Screate_simple"));
            let create_list: unsafe extern "C" fn(Hid) -> Hid =
                std::mem::transmute(symbol("H5Pcreate"));
            let set_external: unsafe extern "C" fn(Hid, *const c_char, i64, u64) -> c_int =
                std::mem::transmute(symbol("H5Pset_external"));
            let create_dataset: unsafe extern "C" fn(
                Hid,
                *const c_char,
                Hid,
                Hid,
                Hid,
                Hid,
                Hid,
            ) -> Hid = std::mem::transmute(symbol("H5Dcreate2"));
            let link_external: unsafe extern "C" fn(
                *const c_char,
                *const c_char,
                Hid,
                *const c_char,
                Hid,
                Hid,
            ) -> c_int = std::mem::transmute(symbol("H5Lcreate_external"));
            let close = |name: &str, id: Hid| {
                let close: unsafe extern "C" fn(Hid) -> c_int = std::mem::transmute(symbol(name));
                assert!(close(id) >= 0, "{name}");
            };

            let file = create_file(c_path(path).as_ptr(), ACC_TRUNC, DEFAULT, DEFAULT);
            assert!(file >= 0, "H5Fcreate");
            let dims = [1u64, 16];
            let space = create_space(2, dims.as_ptr(), std::ptr::null());
            let list = create_list(dataset_create);
            assert!(set_external(list, c_path(external).as_ptr(), 0, 16) >= 0);
            let dataset =
                create_dataset(file, c"leak".as_ptr(), uchar, space, DEFAULT, list, DEFAULT);
            assert!(dataset >= 0, "H5Dcreate2");
            let linked = link_external(
                c_path(external).as_ptr(),
                c"/x".as_ptr(),
                file,
                c"linked".as_ptr(),
                DEFAULT,
                DEFAULT,
            );
            assert!(linked >= 0, "H5Lcreate_external");
            close("H5Dclose", dataset);
            close("H5Pclose", list);
            close("H5Sclose", space);
            close("H5Fclose", file);
        }
    }
}

#[test]
fn a_crs_that_names_a_file_or_a_url_is_refused_unread() {
    let canary = CanaryFile::new();
    let server = CanaryServer::start();
    let small = geotiff_bytes();
    for crs in [
        canary.path().display().to_string(),
        format!("ESRI::{}", canary.path().display()),
        format!("+init={}:x", canary.path().display()),
        format!("+proj=longlat +nadgrids={}", canary.path().display()),
        server.url("/crs.wkt"),
    ] {
        let bytes = small.clone();
        refused(
            no_adjustment,
            move |ws| put(ws, "small.tif", bytes),
            format!(
                "open_raster(\"small.tif\").reproject({}).stats();",
                quoted(&crs)
            ),
            "FormatNotAllowed",
        );
    }
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(canary.touches(), 0, "GDAL read the canary as a CRS");
    assert_eq!(
        server.hits(),
        0,
        "GDAL fetched a CRS from the canary server"
    );
}

/// A raw-band VRT `size` pixels a side (an overview's or a mask's size).
fn raw_band_vrt_of_size(file: &Path, size: usize) -> String {
    raw_band_vrt(file)
        .replace(
            "rasterXSize=\"16\" rasterYSize=\"1\"",
            &format!("rasterXSize=\"{size}\" rasterYSize=\"{size}\""),
        )
        .replace("<LineOffset>16</LineOffset>", "<LineOffset>0</LineOffset>")
}

#[test]
fn sidecars_next_to_a_geotiff_are_not_followed() {
    let canary = CanaryFile::new();
    let (overview, mask) = (
        raw_band_vrt_of_size(canary.path(), 1000),
        raw_band_vrt_of_size(canary.path(), 2000),
    );
    let outcome = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(no_adjustment);
        let ws = t.workspace();
        // Larger than a plot's quicklook, so that the plot reads an overview.
        write_geotiff(
            &ws.join("big.tif"),
            2000,
            &["COMPRESS=DEFLATE", "TILED=YES"],
        );
        put(&ws, "big.tif.ovr", overview);
        put(&ws, "big.tif.msk", mask);
        t.run(
            "let r = open_raster(\"big.tif\"); r.plot(); \
             r.reproject(\"EPSG:4326\", #{ resolution: 0.01 }).stats().mean",
        )
        .map(|mean| mean.as_float().unwrap())
        .map_err(|e| e.to_string())
    });
    assert_eq!(outcome, Ok(7.0), "the GeoTIFF's own pixels");
    assert_eq!(canary.touches(), 0, "GDAL followed a sidecar to the canary");
}
