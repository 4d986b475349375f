//! openEO translation: scripts build rasters from a `collection`, cleope
//! computes them locally and writes the process graph `openeo_graph` gives;
//! tests/openeo/run_graph.py validates the graph against the openEO process
//! specifications shipped in openeo-processes-dask, runs it with that real
//! executor (openeo-pg-parser-networkx) over the same demo-archive files,
//! and compares its result with cleope's, pixel by pixel.

use crate::common::TestSession;
use crate::common::venv::{prepare_venv, target_dir, text};
use cleope_demo::{default_dir as demo_archive_dir, ensure as ensure_demo_archive};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The fire tutorial's area: three Level-2A dates of tile 56HKF.
const FIRES: &str =
    "aoi: [150.36, -35.42, 150.46, -35.34], dates: [\"2019-12-01\", \"2020-01-31\"]";
/// The oil spill's area: one Level-2A date.
const OIL: &str = "aoi: [57.68, -20.45, 57.79, -20.365], dates: [\"2020-08-11\", \"2020-08-11\"]";

fn openeo_tests_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/openeo")
}

/// The executor's venv (`target/openeo-venv`), built once.
fn python() -> &'static Path {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = PYTHON.get_or_init(|| {
        prepare_venv(
            &openeo_tests_dir().join("requirements.txt"),
            "openeo-venv",
            &["--no-deps"],
        )
    });
    match built {
        Ok(python) => python,
        Err(message) => panic!("cannot prepare the openEO executor's venv:\n{message}"),
    }
}

/// Runs `script` (which must leave the raster in `r`), saves cleope's
/// result and the graph, and returns the executor's comparison.
fn compare_with_executor(script: &str) -> Value {
    let archive = demo_archive_dir();
    ensure_demo_archive(&archive).expect("demo archive");
    let mut session = TestSession::new(|_| {});
    session
        .exec(&format!(
            "{script}\nr.save(\"output/cleope.tif\");\nwrite_json(\"output/graph.json\", openeo_graph(r));"
        ))
        .unwrap_or_else(|e| panic!("the script failed: {e:?}"));
    let output = session.workspace().join("output");
    let run = Command::new(python())
        .arg(openeo_tests_dir().join("run_graph.py"))
        .arg(output.join("graph.json"))
        .arg(&archive)
        .arg(output.join("cleope.tif"))
        .env("DASK_TEMPORARY_DIRECTORY", target_dir().join("tmp"))
        .output()
        .expect("run the executor");
    assert!(run.status.success(), "the executor failed:\n{}", text(&run));
    let stdout = String::from_utf8_lossy(&run.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).unwrap_or_else(|_| panic!("no JSON summary:\n{}", text(&run)))
}

/// The executor agrees with cleope to float32 precision on (nearly) the
/// whole raster, with the same missing pixels.
fn assert_same(summary: &Value, least_valid: u64) {
    assert!(
        summary.get("errors").is_none(),
        "the graph is not valid: {summary}"
    );
    let number = |key: &str| {
        summary[key]
            .as_f64()
            .unwrap_or_else(|| panic!("{key}: {summary}"))
    };
    assert!(
        number("compared") >= 0.95 * number("cleope_pixels"),
        "{summary}"
    );
    assert!(
        number("valid") >= least_valid as f64,
        "too few valid pixels: {summary}"
    );
    assert_eq!(number("nan_mismatch"), 0.0, "{summary}");
    assert!(number("max_rel") <= 1e-5, "{summary}");
    assert_eq!(summary["format"], "GTiff");
}

fn graph_of(script: &str) -> Value {
    let mut session = TestSession::new(|_| {});
    session
        .exec(&format!(
            "{script}\nwrite_json(\"output/graph.json\", openeo_graph(r));"
        ))
        .unwrap_or_else(|e| panic!("the script failed: {e:?}"));
    let text = std::fs::read_to_string(session.workspace().join("output/graph.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The graph's process ids, in the order of their node ids (the JSON map
/// is sorted by key: `loadcollection1`, `mask1`, `reducedimension1`, ...).
fn processes(graph: &Value) -> Vec<String> {
    graph["process_graph"]
        .as_object()
        .unwrap()
        .values()
        .map(|node| node["process_id"].as_str().unwrap().to_string())
        .collect()
}

#[test]
fn openeo_ndvi_of_one_date_runs_the_same_in_the_executor() {
    let summary = compare_with_executor(&format!(
        "let c = collection(#{{ mission: \"sentinel-2\", product: \"L2A\", bands: [\"B04\", \"B08\"], {OIL} }});\n\
         let r = normalized_difference(c.B08[0], c.B04[0]);"
    ));
    assert_same(&summary, 10_000);
}

#[test]
fn openeo_masked_ndvi_median_over_three_dates_runs_the_same_in_the_executor() {
    let script = format!(
        "let c = collection(#{{ mission: \"sentinel-2\", product: \"L2A\", bands: [\"B02\", \"B04\", \"B08\"], {FIRES} }});\n\
         assert(c.dates.len() == 3, `three dates: ${{c.dates}}`);\n\
         let layers = [];\n\
         for i in 0..c.dates.len() {{\n\
             let ndvi = normalized_difference(c.B08[i], c.B04[i]);\n\
             layers.push(ndvi.mask(c.B02[i] < 0.08));\n\
         }}\n\
         let r = stack(layers, c.dates).median();"
    );
    let graph = graph_of(&script);
    let ids = processes(&graph);
    assert_eq!(
        ids,
        [
            "load_collection",
            "mask",
            "reduce_dimension",
            "reduce_dimension",
            "reduce_dimension",
            "save_result"
        ],
        "{graph:#}"
    );
    let nodes = &graph["process_graph"];
    assert_eq!(nodes["reducedimension3"]["arguments"]["dimension"], "t");
    assert_eq!(
        nodes["loadcollection1"]["arguments"]["temporal_extent"],
        serde_json::json!(["2019-12-01", "2020-02-01"])
    );
    let summary = compare_with_executor(&script);
    assert_same(&summary, 10_000);
}

#[test]
fn openeo_band_maths_and_a_mean_of_dates_run_the_same_in_the_executor() {
    let summary = compare_with_executor(&format!(
        "let c = collection(#{{ mission: \"sentinel-2\", product: \"L2A\", bands: [\"B03\", \"B04\", \"B08\"], {FIRES} }});\n\
         let layers = [];\n\
         for i in 0..c.dates.len() {{\n\
             let evi_like = 2.5 * (c.B08[i] - c.B04[i]) / (c.B08[i] + 6.0 * c.B04[i] - 7.5 * c.B03[i] + 1.0);\n\
             layers.push(sqrt(abs(evi_like)));\n\
         }}\n\
         let r = stack(layers, c.dates).mean() * 100.0 - 3.0;"
    ));
    assert_same(&summary, 10_000);
}

#[test]
fn openeo_untranslatable_operations_are_named_and_the_session_survives() {
    let mut session = TestSession::new(|_| {});
    session
        .exec(&format!(
            "let c = collection(#{{ mission: \"sentinel-2\", product: \"L2A\", bands: [\"B04\", \"B08\"], {FIRES} }});\n\
             let keep = 42;"
        ))
        .unwrap();
    let cases = [
        (
            "stack([c.B04[0], c.B04[1], c.B04[2]], c.dates).std()",
            "std() of a stack",
        ),
        (
            "c.B04[0].clip([150.37, -35.41, 150.40, -35.38])",
            "a clip (window)",
        ),
        ("c.B04[0] - c.B04[1]", "band maths mixing two dates"),
        (
            "stack([c.B04[0], c.B04[1], c.B04[2]], c.dates).percentile(25)",
            "percentile() of a stack",
        ),
        ("c.B04[0].is_in([3, 8])", "is_in"),
        (
            "stack([c.B04[0], c.B04[1]]).pick_by(stack([c.B08[0], c.B08[1]]), \"min\")",
            "pick_by",
        ),
        (
            "open_raster(s2_band_file(ens_find(#{ mission: \"Sentinel-2\", from: \"2020-08-11\", to: \"2020-08-11\" })[0], \"B04\"))",
            "directly",
        ),
    ];
    for (expression, named) in cases {
        let error = session
            .exec(&format!("openeo_graph({expression})"))
            .expect_err(expression);
        let shown = format!("{error:?}");
        assert!(shown.contains("NotTranslatable"), "{expression}: {shown}");
        assert!(shown.contains(named), "{expression}: {shown}");
        assert!(
            shown.contains("no openEO equivalent"),
            "{expression}: {shown}"
        );
    }
    let value = session.run("keep").unwrap();
    assert_eq!(value.as_int().unwrap(), 42, "the variables survive");
}
