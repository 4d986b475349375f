//! Hostile scripts: each must end in its named error, in bounded time, with
//! the session alive and its earlier variables intact.

use crate::common;

use cleope::runtime::{ErrorClass, Settings};
use common::{TestSession, alone_in_a_process, on_script_thread};
use std::time::{Duration, Instant};

/// Every hostile script must be stopped well within this.
const BOUND: Duration = Duration::from_secs(20);

struct Case {
    name: &'static str,
    script: String,
    expect: &'static str,
    adjust: fn(&mut Settings),
    prepare: fn(&TestSession),
}

fn no_adjustment(_: &mut Settings) {}
fn no_preparation(_: &TestSession) {}

fn case(name: &'static str, script: &str, expect: &'static str) -> Case {
    Case {
        name,
        script: script.to_string(),
        expect,
        adjust: no_adjustment,
        prepare: no_preparation,
    }
}

/// Runs `kept = 42`, then the hostile chunk, then checks the session still works.
fn check(case: Case) {
    let started = Instant::now();
    let (name, expect) = (case.name, case.expect);
    let outcome = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(case.adjust);
        (case.prepare)(&t);
        t.exec("let kept = 42;").expect("setup chunk");
        let error = t
            .run(&case.script)
            .expect_err("the hostile chunk must fail");
        let kept = t.run("kept").expect("the session survives");
        let next = t.run("let after = kept + 1; after").expect("new code runs");
        (error, kept.as_int().unwrap(), next.as_int().unwrap())
    });
    let (error, kept, next) = outcome;
    assert_eq!(error.name, expect, "{name}: got\n{error}");
    assert!(
        error.hint.is_some() || error.class == ErrorClass::Syntax,
        "{name}: no hint in\n{error}"
    );
    assert_eq!((kept, next), (42, 43), "{name}: variables lost");
    assert!(
        started.elapsed() < BOUND,
        "{name}: took {:?}",
        started.elapsed()
    );
}

#[test]
fn infinite_loop_is_stopped_by_the_wall_clock() {
    check(Case {
        adjust: |s| {
            s.quota.time_limit = Duration::from_millis(500);
            s.quota.operations = u64::MAX / 4;
        },
        ..case(
            "wall clock",
            "let x = 0; loop { x += 1; }",
            "TimeQuotaExceeded",
        )
    });
}

#[test]
fn infinite_loop_without_variables_is_stopped_by_the_wall_clock() {
    check(Case {
        adjust: |s| {
            s.quota.time_limit = Duration::from_millis(300);
            s.quota.operations = u64::MAX / 4;
        },
        ..case("bare loop", "loop { }", "TimeQuotaExceeded")
    });
}

#[test]
fn infinite_loop_is_stopped_by_the_operation_budget() {
    check(Case {
        adjust: |s| s.quota.operations = 1_000_000,
        ..case(
            "operations",
            "let x = 0; loop { x += 1; }",
            "OperationQuotaExceeded",
        )
    });
}

#[test]
fn bare_infinite_loop_is_stopped_by_the_operation_budget() {
    check(Case {
        adjust: |s| s.quota.operations = 1_000_000,
        ..case(
            "bare operations",
            "while true { }",
            "OperationQuotaExceeded",
        )
    });
}

#[test]
fn unbounded_recursion_is_stopped() {
    check(case(
        "recursion",
        "fn down(n) { down(n + 1) } down(0);",
        "RecursionLimit",
    ));
}

/// Memory-hungry tests run alone in a process, with a quota of 256 MiB
/// above what it holds when they start, so they neither disturb each other
/// nor other tests.
fn memory_case(name: &'static str, script: &str) {
    check(Case {
        adjust: |s| s.quota.memory = cleope::sandbox::measure_process() + (256 << 20),
        ..case(name, script, "MemoryQuotaExceeded")
    });
}

#[test]
fn a_huge_string_is_stopped() {
    alone_in_a_process(|| {
        memory_case("string", "let s = \"x\"; loop { s += s; }");
    });
}

#[test]
fn a_huge_array_is_stopped() {
    alone_in_a_process(|| {
        memory_case("array", "let a = [1]; loop { a += a; }");
    });
}

#[test]
fn an_array_grown_one_item_at_a_time_is_stopped() {
    alone_in_a_process(|| {
        memory_case("push", "let a = []; loop { a.push(1.5); }");
    });
}

#[test]
fn a_huge_nested_array_is_stopped() {
    alone_in_a_process(|| {
        memory_case("nested", "let a = [[1, 2, 3]]; loop { a.append(a); }");
    });
}

#[test]
fn a_huge_map_is_stopped() {
    // Maps of maps double quickly; one entry at a time gets there too, later.
    alone_in_a_process(|| {
        memory_case(
            "map",
            "let m = #{ a: [1, 2, 3] }; loop { m = #{ left: m, right: m }; }",
        );
    });
}

#[test]
fn a_huge_padded_string_is_stopped() {
    alone_in_a_process(|| {
        memory_case("pad", "let s = \"\"; s.pad(100_000_000_000, 'x');");
        memory_case("array pad", "let a = []; a.pad(100_000_000_000, 0);");
        memory_case("blob", "let b = blob(100_000_000_000);");
    });
}

#[test]
fn a_native_allocation_beyond_the_memory_quota_is_refused() {
    check(case(
        "matrix",
        "let m = matrix(100000, 100000);",
        "MemoryQuotaExceeded",
    ));
}

#[test]
fn importing_a_path_outside_the_module_roots_is_refused() {
    check(case(
        "import ..",
        "import \"../secret\" as s;",
        "ModuleNotAllowed",
    ));
    check(case(
        "import /",
        "import \"/etc/passwd\" as p;",
        "ModuleNotAllowed",
    ));
}

#[test]
fn importing_an_unknown_module_names_it() {
    check(case(
        "import missing",
        "import \"no_such_module\" as m;",
        "ModuleNotFound",
    ));
}

#[test]
fn reading_through_parent_folders_is_refused() {
    check(case(
        "..",
        "read_text(\"../outside.txt\")",
        "PathNotAllowed",
    ));
    check(case(
        "nested ..",
        "read_text(\"output/../../outside.txt\")",
        "PathNotAllowed",
    ));
}

#[test]
fn reading_an_absolute_path_elsewhere_is_refused() {
    check(case(
        "absolute",
        "read_text(\"/etc/passwd\")",
        "PathNotAllowed",
    ));
    check(case(
        "absolute write",
        "write_text(\"/tmp/cleope-escape.txt\", \"x\")",
        "PathNotAllowed",
    ));
}

#[test]
fn a_symlink_leaving_the_workspace_is_refused() {
    check(Case {
        prepare: |t| {
            let outside = t.dir.path().join("outside");
            std::fs::create_dir_all(&outside).unwrap();
            std::fs::write(outside.join("secret.txt"), "secret").unwrap();
            std::os::unix::fs::symlink(&outside, t.workspace().join("resources/link")).unwrap();
        },
        ..case(
            "symlink",
            "read_text(\"resources/link/secret.txt\")",
            "PathNotAllowed",
        )
    });
}

#[test]
fn eval_is_disabled() {
    check(case("eval", "let y = eval(\"40 + 2\");", "EvalDisabled"));
}

#[test]
fn writes_beyond_the_disk_quota_are_refused_and_leave_no_file() {
    check(Case {
        adjust: |s| s.quota.disk = 1_000_000,
        prepare: no_preparation,
        ..case(
            "disk",
            "let s = \"\"; s.pad(2_000_000, 'x'); write_text(\"output/big.txt\", s);",
            "DiskQuotaExceeded",
        )
    });
    let script = "let s = \"\"; s.pad(2_000_000, 'x'); \
                  try { write_text(\"output/big.txt\", s); } catch (e) { print(e.kind); } \
                  file_exists(\"output/big.txt\")";
    let (exists, printed) = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(|s| s.quota.disk = 1_000_000);
        let exists = t.run(script).unwrap().as_bool().unwrap();
        (exists, t.stdout())
    });
    assert!(!exists, "no partial file");
    assert_eq!(printed, "DiskQuotaExceeded\n");
}

/// Runs `body` in a try block; the chunk's value is the caught error's kind.
fn caught(body: &str) -> String {
    format!("let kind = \"nothing caught\"; try {{ {body} }} catch (e) {{ kind = e.kind; }} kind")
}

#[test]
fn memory_time_and_operation_breaches_can_be_caught() {
    let kinds = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|s| {
            s.quota.time_limit = Duration::from_millis(300);
        });
        let memory = t.run(&caught("matrix(100000, 100000);")).unwrap();
        let time = t.run(&caught("let i = 0; loop { i += 1; }")).unwrap();
        let mut t = TestSession::new(|s| s.quota.operations = 100_000);
        let ops = t.run(&caught("let i = 0; loop { i += 1; }")).unwrap();
        [memory, time, ops].map(|v| v.to_string())
    });
    assert_eq!(
        kinds,
        [
            "MemoryQuotaExceeded",
            "TimeQuotaExceeded",
            "OperationQuotaExceeded"
        ]
    );
}

#[test]
fn a_script_that_keeps_looping_after_catching_is_still_stopped() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|s| s.quota.operations = 100_000);
        t.run("let i = 0; try { loop { i += 1; } } catch (e) { loop { i += 1; } }")
            .unwrap_err()
    });
    assert_eq!(error.name, "OperationQuotaExceeded");
}

#[test]
fn an_interrupt_stops_the_run_and_keeps_the_variables() {
    let (error, kept, elapsed) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.exec("let kept = 7;").unwrap();
        let flag = t.session.interrupt_flag();
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(200));
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let started = Instant::now();
        let error = t.run("let i = 0; loop { i += 1; }").unwrap_err();
        let elapsed = started.elapsed();
        (error, t.run("kept").unwrap().as_int().unwrap(), elapsed)
    });
    assert_eq!(error.name, "Interrupted");
    assert_eq!(error.class, ErrorClass::Interrupted);
    assert_eq!(kept, 7);
    assert!(
        elapsed < Duration::from_secs(2),
        "stopped after {elapsed:?}"
    );
}

/// Writes modules into a folder that becomes the running script's folder.
fn with_modules(modules: &'static [(&'static str, &'static str)]) -> impl FnOnce(&mut TestSession) {
    move |t: &mut TestSession| {
        let folder = t.lesson();
        for (name, code) in modules {
            std::fs::write(folder.join(format!("{name}.rhai")), code).unwrap();
        }
        t.session
            .set_script_dir(&folder)
            .expect("the lesson folder is granted");
    }
}

#[test]
fn a_module_that_imports_itself_is_an_error_not_a_crash() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        with_modules(&[("selfref", "import \"selfref\" as s;")])(&mut t);
        t.exec("let kept = 1;").unwrap();
        let error = t.run("import \"selfref\" as s;").unwrap_err();
        assert_eq!(t.run("kept").unwrap().as_int().unwrap(), 1);
        error
    });
    assert_eq!(error.name, "ModuleCycle", "{error}");
}

#[test]
fn modules_importing_each_other_are_an_error_not_a_crash() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        with_modules(&[
            ("ping", "import \"pong\" as p;"),
            ("pong", "import \"ping\" as p;"),
        ])(&mut t);
        t.run("import \"ping\" as p;").unwrap_err()
    });
    assert_eq!(error.name, "ModuleCycle", "{error}");
    assert!(error.message.contains("ping → pong → ping"), "{error}");
}

#[test]
fn converting_a_huge_matrix_to_an_array_is_refused_before_allocating() {
    alone_in_a_process(|| {
        memory_case("to_array", "let a = matrix(5000, 5000).to_array();");
    });
}

/// Rhai's `sort` and `dedup` with a comparer ignore the comparer's errors,
/// the time limit's and the interrupt's included: a run stopped inside one
/// went on comparing (for minutes) and could even end without an error.
/// Runs `script` under a 500 ms limit: it must stop with the named error
/// within 2 s, the session's variables kept.
fn assert_stopped_at_the_time_limit(script: &'static str) {
    let (error, elapsed, kept) = on_script_thread(BOUND, move || {
        let mut t = TestSession::new(|s| {
            s.quota.time_limit = Duration::from_millis(500);
            s.quota.operations = u64::MAX / 4;
        });
        t.exec("let kept = 7; let a = []; a.pad(300000, 1);")
            .unwrap();
        let started = Instant::now();
        let error = t.run(script).unwrap_err();
        let elapsed = started.elapsed();
        (error, elapsed, t.run("kept").unwrap().as_int().unwrap())
    });
    assert_eq!(error.name, "TimeQuotaExceeded", "{script}: {error:?}");
    assert!(
        elapsed < Duration::from_secs(2),
        "{script}: stopped after {elapsed:?}"
    );
    assert_eq!(kept, 7, "{script}: the variables are kept");
}

#[test]
fn a_slow_sort_comparer_is_stopped_at_the_time_limit() {
    let slow = "a.sort(|x, y| { let i = 0; while i < 100 { i += 1; } x - y }); print(\"sorted\");";
    assert_stopped_at_the_time_limit(slow);
}

#[test]
fn a_slow_dedup_comparer_is_stopped_at_the_time_limit() {
    let slow = "a.dedup(|x, y| { let i = 0; while i < 100 { i += 1; } x == y }); print(\"done\");";
    assert_stopped_at_the_time_limit(slow);
}

#[test]
fn a_comparer_that_fails_is_an_error_not_a_silent_order() {
    let error = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.run("let a = [3, 1, 2]; a.sort(|x, y| x.nope - y);")
            .unwrap_err()
    });
    assert!(error.to_string().contains("nope"), "{error}");
}

/// Rhai counts operations afresh inside a closure that one of its native
/// functions calls: the guard read the clock every 512 operations of the
/// outer count, so a loop of sorts (each a fraction of a second of closure
/// calls) ran for many times its limit.
#[test]
fn a_loop_of_calls_that_run_closures_is_stopped_at_the_time_limit() {
    for script in [
        "loop { a.sort(|x, y| 0); }",
        "loop { let b = a.map(|x| 0); }",
        "loop { a.retain(|x| true); }",
    ] {
        assert_stopped_at_the_time_limit(script);
    }
}

/// Each call here is a native scan of a large string (tens of milliseconds):
/// a clock read every 512 operations came many seconds after the limit.
#[test]
fn a_loop_of_slow_native_calls_is_stopped_at_the_time_limit() {
    assert_stopped_at_the_time_limit(
        r#"let s = "x"; while s.len < 50_000_000 { s += s; } loop { s.index_of("y"); }"#,
    );
}
