//! Hostile scripts against the memory quota and the run's deadline, inside
//! a single call: each is run by `cleope run` in a process of its own whose
//! peak resident memory (from `wait4`) must stay within the quota + 10 %,
//! or whose time to stop is measured; the catchable ones also run in a
//! library session, which must keep its variables.

use crate::common;

use common::canary::{Outcome, Sandboxed};
use common::{TestSession, alone_in_a_process, on_script_thread};
use std::time::Duration;

const MIB: u64 = 1024 * 1024;

/// A hostile run must end well within this.
const BOUND: Duration = Duration::from_secs(60);

/// Runs that need real memory (the default quota's) run one at a time.
static LARGE_RUNS: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// Runs `script` under `--memory <quota MiB>` (with `prepare` writing its
/// input files) and checks the run was refused with the named error, exit
/// code 3, and a peak RSS within the quota + 10 %.
fn refused_within(quota_mib: u64, name: &str, script: &str, prepare: impl FnOnce(&Sandboxed)) {
    let _large = (quota_mib > 256).then(|| LARGE_RUNS.lock().unwrap_or_else(|e| e.into_inner()));
    let run = Sandboxed::new()
        .arg("--memory")
        .arg(format!("{quota_mib}MiB"));
    prepare(&run);
    let outcome = run.run(script, BOUND);
    assert_refused(&outcome, quota_mib, name);
}

fn assert_refused(outcome: &Outcome, quota_mib: u64, name: &str) {
    assert_eq!(
        outcome.code,
        Some(3),
        "{name}: exit {:?}, signal {:?}\n{}",
        outcome.code,
        outcome.signal,
        outcome.output()
    );
    assert!(
        outcome.stderr.contains("error[MemoryQuotaExceeded]"),
        "{name}: {}",
        outcome.output()
    );
    assert!(
        outcome.stderr.contains("hint:"),
        "{name}: no hint in {}",
        outcome.stderr
    );
    let bound = quota_mib * MIB * 11 / 10;
    assert!(
        outcome.peak_rss <= bound,
        "{name}: peak RSS {} MiB over the {} MiB bound",
        outcome.peak_rss / MIB,
        bound / MIB
    );
}

fn no_files(_: &Sandboxed) {}

/// A CSV file of `bytes` bytes of short numbers (8 columns).
fn csv_of(bytes: usize) -> String {
    let row = "1,2,3,4,5,6,7,8\n";
    format!("a,b,c,d,e,f,g,h\n{}", row.repeat(bytes / row.len()))
}

/// A JSON array of small objects, `bytes` bytes long.
fn json_of(bytes: usize) -> String {
    let item = r#"{"a":0},"#;
    format!("[{}{{}}]", item.repeat(bytes / item.len()))
}

// The review's cases, at 256 MiB.

#[test]
fn to_chars_of_a_large_string_is_refused_before_it_allocates() {
    refused_within(
        256,
        "to_chars",
        r#"let s = ""; s.pad(20_000_000, "x"); let c = s.to_chars();"#,
        no_files,
    );
}

#[test]
fn splitting_a_large_string_into_characters_is_refused() {
    refused_within(
        256,
        "split(\"\")",
        r#"let s = ""; s.pad(20_000_000, "x"); let c = s.split("");"#,
        no_files,
    );
    refused_within(
        256,
        "split(\" \")",
        r#"let s = ""; s.pad(40_000_000, "a "); let c = s.split(" ");"#,
        no_files,
    );
    refused_within(
        256,
        "split()",
        r#"let s = ""; s.pad(40_000_000, "a "); let c = s.split();"#,
        no_files,
    );
}

#[test]
fn reading_a_large_csv_file_is_stopped_as_it_grows() {
    refused_within(
        256,
        "read_csv",
        r#"let rows = read_csv("resources/big.csv");"#,
        |run| {
            run.write("resources/big.csv", csv_of(16_000_000));
        },
    );
}

#[test]
fn reading_a_large_json_file_is_stopped_as_it_grows() {
    refused_within(
        256,
        "read_json",
        r#"let v = read_json("resources/big.json");"#,
        |run| {
            run.write("resources/big.json", json_of(64_000_000));
        },
    );
    refused_within(
        256,
        "parse_json",
        r#"let v = parse_json(read_text("resources/big.json"));"#,
        |run| {
            run.write("resources/big.json", json_of(32_000_000));
        },
    );
}

#[test]
fn doubling_a_string_is_refused_before_the_quota() {
    for (name, script) in [
        ("s += s", r#"let s = "x"; loop { s += s; }"#),
        ("s = s + s", r#"let s = "x"; loop { s = s + s; }"#),
        ("append", r#"let s = "x"; loop { s.append(s); }"#),
        ("interpolation", r#"let s = "x"; loop { s = `${s}${s}`; }"#),
        (
            "odd size",
            r#"let s = ""; s.pad(1270, "x"); loop { s += s; }"#,
        ),
        ("pad", r#"let s = "x"; loop { s.pad(s.len * 2, 'y'); }"#),
    ] {
        refused_within(256, name, script, no_files);
    }
}

// Other spellings of the same class.

#[test]
fn doubling_arrays_blobs_and_maps_is_refused_before_the_quota() {
    for (name, script) in [
        ("a += a", "let a = [1]; loop { a += a; }"),
        ("a = a + a", "let a = []; a.pad(79, 1); loop { a = a + a; }"),
        ("nested", "let a = [[1, 2, 3]]; loop { a.append(a); }"),
        ("[a, a]", "let a = []; a.pad(79, 1); loop { a = [a, a]; }"),
        (
            "map tree",
            "let m = #{ a: [1, 2, 3] }; loop { m = #{ left: m, right: m }; }",
        ),
        ("b += b", "let b = blob(1270); loop { b += b; }"),
        ("b = b + b", "let b = blob(1); loop { b = b + b; }"),
    ] {
        refused_within(256, name, script, no_files);
    }
}

#[test]
fn conversions_that_grow_their_input_are_refused() {
    for (name, script) in [
        ("print a BLOB", "let b = blob(100_000_000); print(b);"),
        (
            "BLOB to array",
            "let b = blob(50_000_000); let a = b.to_array();",
        ),
        (
            "array text",
            "let a = []; a.pad(5_000_000, 1.5); let t = \"\" + a;",
        ),
        (
            "replace",
            r#"let s = ""; s.pad(80_000_000, "x"); s.replace("x", "xyz");"#,
        ),
        (
            "to_upper",
            r#"let s = ""; s.pad(50_000_000, "ß"); let t = s.to_upper();"#,
        ),
        ("huge pad", "let s = \"\"; s.pad(100_000_000_000, 'x');"),
        ("huge blob", "let b = blob(100_000_000_000);"),
        ("matrix to array", "let a = matrix(5000, 5000).to_array();"),
    ] {
        refused_within(256, name, script, no_files);
    }
}

/// Parts of a large string kept one after another: Rhai's `sub_string` and
/// `crop` first copied the whole string into characters (four bytes
/// each), and `trim` of a shared string copied it twice.
#[test]
fn parts_of_a_large_string_are_charged_before_they_are_copied() {
    const LARGE: &str =
        r#"let s = " 0123456789 "; while s.len < 60_000_000 { s += s; } let kept = [];"#;
    for (name, body) in [
        ("sub_string", "loop { kept.push(s.sub_string(1)); }"),
        (
            "sub_string range",
            "loop { kept.push(s.sub_string(1..s.len - 1)); }",
        ),
        ("crop", "loop { let t = s; t.crop(1); kept.push(t); }"),
        ("trim", "loop { let t = s; t.trim(); kept.push(t); }"),
        (
            "truncate",
            "loop { let t = s; t.truncate(s.len - 2); kept.push(t); }",
        ),
    ] {
        refused_within(256, name, &format!("{LARGE} {body}"), no_files);
    }
}

#[test]
fn product_lists_and_maps_of_many_entries_are_refused() {
    refused_within(
        256,
        "product list",
        r#"let l = read_product_list("resources/list.txt");"#,
        |run| {
            run.write("resources/list.txt", "a\n".repeat(8_000_000));
        },
    );
    refused_within(
        256,
        "to_json",
        "let m = #{}; for i in 0..2_000_000 { m[`key_${i}`] = i; } let t = m.to_json();",
        no_files,
    );
}

// The default quota, with real memory (one at a time).

#[test]
fn at_the_default_quota_doubling_and_large_files_stay_within_it() {
    refused_within(2048, "s += s", r#"let s = "x"; loop { s += s; }"#, no_files);
    refused_within(2048, "a += a", "let a = [1]; loop { a += a; }", no_files);
    refused_within(
        2048,
        "read_json",
        r#"let v = read_json("resources/big.json");"#,
        |run| {
            run.write("resources/big.json", json_of(64_000_000));
        },
    );
}

// Catchable in a library session, which keeps its variables.

/// Runs `setup`, then `body` inside a try block in a session with a 256 MiB
/// margin above what the process holds (run it alone in a process); gives
/// the caught error's kind and the variables' survival.
fn caught(setup: &'static str, body: &'static str) -> (String, bool) {
    on_script_thread(BOUND, move || {
        let mut t =
            TestSession::new(|s| s.quota.memory = cleope::sandbox::measure_process() + 256 * MIB);
        t.exec("let kept = 42;").unwrap();
        t.exec(setup).unwrap();
        let kind = t
            .run(&format!(
                "let kind = \"nothing caught\"; try {{ {body} }} catch (e) {{ kind = e.kind; }} kind"
            ))
            .unwrap()
            .to_string();
        let kept = t.run("big = (); kept").unwrap().as_int().unwrap() == 42;
        (kind, kept)
    })
}

#[test]
fn memory_breaches_inside_one_call_can_be_caught_and_the_session_goes_on() {
    alone_in_a_process(|| {
        // Each body asks for far more than the 256 MiB margin, so that
        // memory freed meanwhile (by the test harness) cannot make it fit.
        let big = r#"let big = ""; big.pad(40_000_000, "x");"#;
        for body in [
            "let c = big.to_chars();",
            "let c = big.split(\"\");",
            "let t = big + big + big + big + big + big + big + big + big + big + big + big + big + big;",
            "loop { big += big; }",
            "let b = blob(10_000_000_000);",
        ] {
            assert_eq!(
                caught(big, body),
                ("MemoryQuotaExceeded".to_string(), true),
                "{body}"
            );
        }
    });
}

#[test]
fn json_nested_too_deep_is_a_named_error() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.exec("let kept = 1;").unwrap();
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        std::fs::write(t.workspace().join("resources/deep.json"), deep).unwrap();
        let error = t.run("read_json(\"resources/deep.json\")").unwrap_err();
        assert_eq!(t.run("kept").unwrap().as_int().unwrap(), 1);
        error
    });
    assert_eq!(error.name, "BadFileContent", "{error}");
    assert!(error.message.contains("levels deep"), "{error}");
}

#[test]
fn ordinary_scripts_are_not_refused() {
    let run = Sandboxed::new().arg("--memory").arg("256MiB");
    let outcome = run.run(
        r#"
        let text = "";
        for i in 0..200_000 { text += `${i},`; }
        let parts = text.split(",");
        assert(parts.len() == 200_001, "split");
        let rows = [];
        for i in 0..50_000 { rows.push(#{ id: i, name: `S2A_${i}` }); }
        let table = #{};
        for i in 0..10_000 { table[`k${i}`] = i; }
        let json = table.to_json();
        assert(parse_json(json).len() == 10_000, "JSON round trip");
        let shown = `${rows.len()} rows: ${rows[0]}`;
        let big = ""; big.pad(30_000_000, "x");
        let copy = big; let longer = big + "!";
        assert(longer.len() == 30_000_001, "joined");
        let n = 0; for c in big.chars(29_999_000) { n += 1; }
        assert(n == 1_000, "chars");
        rows = (); parts = ();
        let m = matrix(1000, 1000, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]).gaussian_blur(2.0);
        print("done");
        "#,
        BOUND,
    );
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(
        outcome.peak_rss <= 256 * MIB * 11 / 10,
        "peak RSS {} MiB",
        outcome.peak_rss / MIB
    );
}

// Time: sleep, image filters and gridding under the deadline and the interrupt.

/// Startup, and the 1 s a call has to stop.
const STOP_WITHIN: Duration = Duration::from_millis(1500);

fn assert_time_breach(outcome: &Outcome, limit: Duration, name: &str) {
    assert_eq!(outcome.code, Some(3), "{name}: {}", outcome.output());
    assert!(
        outcome.stderr.contains("error[TimeQuotaExceeded]"),
        "{name}: {}",
        outcome.output()
    );
    assert!(
        outcome.elapsed < limit + STOP_WITHIN,
        "{name}: stopped after {:?} under a {limit:?} limit",
        outcome.elapsed
    );
}

/// A 6000 x 6000 raster in memory, then `operation` on it.
fn on_a_large_raster(operation: &str) -> String {
    format!(
        "let r = matrix(6000, 6000, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]); let out = r.{operation};"
    )
}

/// A swath of 2,500 points over 4 x 3 degrees, gridded at 1/2000 degree.
const FINE_GRID: &str = r#"
    let lon = []; let lat = []; let values = [];
    for i in 0..50 { for j in 0..50 { lon.push(10.0 + i * 0.08); lat.push(40.0 + j * 0.06); values.push(i + j * 1.0); } }
    let s = swath(lon, lat, values);
    let r = s.grid(#{ resolution: 0.0005, method: "natural", max_distance: 1.0 });
"#;

#[test]
fn sleep_stops_at_the_time_limit_and_on_an_interrupt() {
    let limit = Duration::from_secs(2);
    let run = Sandboxed::new().arg("--time-limit").arg("2s");
    assert_time_breach(&run.run("sleep(60);", BOUND), limit, "sleep(60)");
    assert_time_breach(&run.run("sleep(60.0);", BOUND), limit, "sleep(60.0)");
    let after = Duration::from_millis(500);
    let outcome = Sandboxed::new().run_interrupted("sleep(60);", after, BOUND);
    assert_eq!(outcome.code, Some(130), "{}", outcome.output());
    assert!(
        outcome.stderr.contains("error[Interrupted]"),
        "{}",
        outcome.stderr
    );
    assert!(
        outcome.elapsed < after + STOP_WITHIN,
        "stopped {:?} after the interrupt",
        outcome.elapsed - after
    );
}

#[test]
fn bad_sleep_durations_are_named_errors() {
    for duration in [
        "1e300",
        "-1",
        "0.0 / 0.0",
        "1.0 / 0.0",
        "100000",
        "9223372036854775807",
    ] {
        let outcome = Sandboxed::new().run(&format!("sleep({duration});"), BOUND);
        assert_eq!(
            outcome.code,
            Some(1),
            "sleep({duration}): {}",
            outcome.output()
        );
        assert!(
            outcome.stderr.contains("error[BadDuration]"),
            "sleep({duration}): {}",
            outcome.stderr
        );
        assert!(outcome.elapsed < STOP_WITHIN, "sleep({duration}) waited");
    }
    let caught = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.exec("let kept = 3;").unwrap();
        let kind = t
            .run("let k = \"\"; try { sleep(-5); } catch (e) { k = e.kind; } k")
            .unwrap()
            .to_string();
        (kind, t.run("kept").unwrap().as_int().unwrap())
    });
    assert_eq!(caught, ("BadDuration".to_string(), 3));
}

#[test]
fn a_large_blur_stops_at_the_time_limit_and_on_an_interrupt() {
    let _large = LARGE_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let limit = Duration::from_secs(2);
    let script = on_a_large_raster("gaussian_blur(50.0)");
    let run = Sandboxed::new().arg("--time-limit").arg("2s");
    assert_time_breach(&run.run(&script, BOUND), limit, "gaussian_blur");
    let after = Duration::from_secs(1);
    let outcome = Sandboxed::new().run_interrupted(&script, after, BOUND);
    assert_eq!(outcome.code, Some(130), "{}", outcome.output());
    assert!(
        outcome.elapsed < after + STOP_WITHIN,
        "stopped {:?} after the interrupt",
        outcome.elapsed - after
    );
}

#[test]
fn other_image_filters_and_gridding_stop_at_the_time_limit() {
    let _large = LARGE_RUNS.lock().unwrap_or_else(|e| e.into_inner());
    let limit = Duration::from_secs(1);
    for (name, script) in [
        ("max_filter", on_a_large_raster("max_filter(101)")),
        ("grid", FINE_GRID.to_string()),
    ] {
        let run = Sandboxed::new().arg("--time-limit").arg("1s");
        assert_time_breach(&run.run(&script, BOUND), limit, name);
    }
}

/// The same classes spelled otherwise: interpolation, properties, closures,
/// script functions, nested arrays, splices, copies kept, a long JSON text, a wide table of maps. Each must be refused within the
/// quota + 10 %.
#[test]
fn other_spellings_of_growth_are_refused_within_the_quota() {
    const DOUBLE_UNTIL: &str = r#"let s = "x"; while s.len < 60_000_000 { s += s; }"#;
    for (name, script) in [
        ("interpolation", "let s = \"x\"; loop { s = `${s}${s}`; }".to_string()),
        ("interpolation x4", "let s = \"ab\"; loop { s = `${s}${s}${s}${s}`; }".into()),
        ("property +=", "let m = #{ a: \"x\" }; loop { m.a += m.a; }".into()),
        ("append itself", "let s = \"x\"; loop { s.append(s); }".into()),
        ("closure", "let f = |x| x + x; let s = \"x\"; loop { s = f.call(s); }".into()),
        ("script function", "fn twice(s) { s + s } let s = \"x\"; loop { s = twice(s); }".into()),
        ("nested arrays", "let a = [1]; loop { a = [a, a]; }".into()),
        ("splice itself", "let a = [1, 2, 3]; loop { a.splice(0, 0, a); }".into()),
        ("copies kept", format!("{DOUBLE_UNTIL} let kept = []; loop {{ kept.push(s + \"\"); }}")),
        ("to_blob kept", format!("{DOUBLE_UNTIL} let kept = []; loop {{ kept.push(s.to_blob()); }}")),
        ("split_rev", format!("{DOUBLE_UNTIL} let kept = []; loop {{ kept.push(s.split_rev(\"\")); }}")),
        (
            "wide rows",
            "let row = #{}; for i in 0..2000 { row[`c${i}`] = i; } let rows = []; loop { rows.push(row); }".into(),
        ),
        (
            "long JSON",
            "let t = \"[0\"; while t.len < 200_000_000 { t += \",0\"; t += t.sub_string(2); } let v = parse_json(t + \"]\");".into(),
        ),
    ] {
        refused_within(256, name, &script, no_files);
    }
}

/// Loops of calls that each take a while, and calls that run closures:
/// every one stops within a fraction of a second of the time limit.
#[test]
fn other_spellings_of_long_work_stop_at_the_time_limit() {
    let limit = Duration::from_secs(2);
    let run = Sandboxed::new().arg("--time-limit").arg("2s");
    for (name, script) in [
        (
            "scan a large string",
            r#"let s = "x"; while s.len < 100_000_000 { s += s; } loop { s.index_of("y"); }"#,
        ),
        (
            "sort with a comparer",
            "let a = []; a.pad(300_000, 1); loop { a.sort(|x, y| 0); }",
        ),
        (
            "slow comparer",
            "let a = []; a.pad(300_000, 1); a.sort(|x, y| { let i = 0; while i < 100 { i += 1; } x - y });",
        ),
        (
            "dedup with a comparer",
            "let a = []; a.pad(300_000, 1); loop { a.dedup(|x, y| { let i = 0; while i < 100 { i += 1; } false }); }",
        ),
        (
            "map",
            "let a = []; a.pad(300_000, 1); loop { let b = a.map(|x| x + 1); }",
        ),
        (
            "retain",
            "let a = []; a.pad(300_000, 1); loop { a.retain(|x| true); }",
        ),
        (
            "recursion in a loop",
            "fn f(n) { if n > 0 { f(n - 1) } } loop { f(50); }",
        ),
    ] {
        assert_time_breach(&run.run(script, BOUND), limit, name);
    }
}
