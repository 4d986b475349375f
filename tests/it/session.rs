//! State that persists across chunks (cells, REPL entries), and what a reset forgets.

use crate::common;

use common::{TestSession, on_script_thread};
use std::time::Duration;

const BOUND: Duration = Duration::from_secs(20);

fn lesson(t: &mut TestSession) {
    let folder = t.dir.path().join("lesson");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("helpers.rhai"), "fn double(x) { x * 2 }\n").unwrap();
    t.session
        .set_script_dir(&folder)
        .expect("the lesson folder is granted");
}

#[test]
fn variables_functions_and_imports_persist_across_chunks() {
    let value = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        lesson(&mut t);
        t.exec("let base = 20;").unwrap();
        t.exec("fn add_one(x) { x + 1 }").unwrap();
        t.exec("import \"helpers\" as h;").unwrap();
        t.run("h::double(add_one(base)) ")
            .unwrap()
            .as_int()
            .unwrap()
    });
    assert_eq!(value, 42);
}

#[test]
fn a_failing_chunk_keeps_what_ran_before_the_error() {
    let (kept, partial) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.exec("let kept = 1;").unwrap();
        let _ = t
            .run("let partial = 2; partial.no_such_method();")
            .unwrap_err();
        let kept = t.run("kept").unwrap().as_int().unwrap();
        let partial = t.run("partial").unwrap().as_int().unwrap();
        (kept, partial)
    });
    assert_eq!((kept, partial), (1, 2));
}

#[test]
fn reset_forgets_variables_functions_and_imports() {
    let errors = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        lesson(&mut t);
        t.exec("let base = 20; fn add_one(x) { x + 1 } import \"helpers\" as h;")
            .unwrap();
        t.session.reset();
        ["base", "add_one(1)", "h::double(1)"].map(|code| t.run(code).unwrap_err().name)
    });
    assert_eq!(
        errors,
        ["VariableNotFound", "FunctionNotFound", "ModuleNotFound"]
    );
}

#[test]
fn variables_are_listed_with_their_types() {
    let variables = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.exec("let n = 1; let name = \"S2\"; let m = matrix(2, 2);")
            .unwrap();
        t.session.variables()
    });
    assert_eq!(
        variables.iter().filter(|(n, _)| n == "n").count(),
        1,
        "{variables:?}"
    );
    let expected = [("n", "int"), ("name", "string"), ("m", "Matrix")];
    for (name, kind) in expected {
        assert!(
            variables.iter().any(|(n, k)| n == name && k == kind),
            "{name}: {kind} not in {variables:?}"
        );
    }
}

#[test]
fn completeness_follows_the_parser() {
    use cleope::runtime::Completeness::*;
    let t = TestSession::new(|_| {});
    let complete = ["let x = 1;", "print(undefined_yet)", "fn f(a) { a }"];
    let incomplete = [
        "let x = (",
        "let x = 1 +",
        "fn f(a) {",
        "[1, 2,",
        "#{a: 1,",
        "foo(1, 2",
        "let s = \"abc",
    ];
    for code in complete {
        assert_eq!(t.session.is_complete(code), Complete, "{code}");
    }
    for code in incomplete {
        assert_eq!(t.session.is_complete(code), Incomplete, "{code}");
    }
    assert!(matches!(t.session.is_complete("let = 7q;"), Invalid(_)));
}

#[test]
fn completion_offers_variables_functions_methods_and_module_members() {
    let (plain, method, member) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        lesson(&mut t);
        t.exec("let scene = matrix(2, 2); let scale = 2; import \"helpers\" as h;")
            .unwrap();
        let plain = t.session.completions("print(sc", 8);
        let method = t.session.completions("scene.me", 8);
        let member = t.session.completions("h::dou", 6);
        (plain, method, member)
    });
    assert_eq!(plain.start, 6);
    assert!(
        plain.candidates.contains(&"scene".to_string())
            && plain.candidates.contains(&"scale".to_string())
    );
    assert_eq!(method.candidates, ["mean"]);
    assert_eq!(member.candidates, ["double"]);
}

#[test]
fn help_shows_the_doc_and_example() {
    let t = TestSession::new(|_| {});
    let help = t.session.help("read_csv").unwrap();
    assert!(
        help.contains("read_csv(path: string) -> array") && help.contains("Example:"),
        "{help}"
    );
    assert!(t.session.help("no_such_function").is_none());
}

/// A call or a property that matches nothing says, in script types, what
/// exists: the function's forms, or the nearest name.
#[test]
fn unknown_calls_and_properties_suggest_what_exists() {
    let errors = on_script_thread(Duration::from_secs(60), || {
        let mut t = TestSession::new(|_| {});
        t.exec("let a = aoi_bbox(10.0, 40.0, 11.0, 41.0);").unwrap();
        ["aoi_bbox(1.0, 2.0, 3.0)", "a.area", "plott(a)"]
            .map(|code| t.run(code).unwrap_err())
            .map(|e| (e.name, e.message, e.hint.unwrap_or_default()))
    });
    let [
        (name, message, hint),
        (property, about, properties),
        (_, _, spelling),
    ] = errors;
    assert_eq!(name, "FunctionNotFound");
    assert_eq!(message, "no function aoi_bbox takes (float, float, float)");
    assert!(
        hint.starts_with("aoi_bbox is called as: aoi_bbox(lon_min"),
        "{hint}"
    );
    assert_eq!(property, "PropertyNotFound");
    assert_eq!(about, "Aoi has no property area");
    assert!(
        properties.starts_with("did you mean area_km2?"),
        "{properties}"
    );
    assert_eq!(spelling, "did you mean plot?");
}

/// A cell that leaves the session holding most of its memory quota is
/// followed by a warning saying how much and what to do, once; after the
/// memory is freed, the next crossing warns again.
#[test]
fn a_run_that_leaves_memory_near_the_quota_warns_the_student_once() {
    const MIB: u64 = 1024 * 1024;
    common::alone_in_a_process(|| {
        on_script_thread(Duration::from_secs(60), || {
            // 160 MiB held of a quota 200 MiB above what the process holds:
            // between 80 % and 95 % whatever the process held before.
            let mut t = TestSession::new(|s| {
                s.quota.memory = cleope::sandbox::measure_process() + 200 * MIB
            });
            let warnings = |t: &TestSession| t.output.text(cleope::runtime::Stream::Stderr);
            t.exec("let big = matrix(4096, 5120, 1.0);").unwrap();
            let told = warnings(&t);
            assert_eq!(told.matches("Memory: ").count(), 1, "{told}");
            assert!(told.contains("Free values you no longer need"), "{told}");
            t.exec("let n = 1;").unwrap();
            assert_eq!(warnings(&t), told, "not told again while still high");
            t.exec("big = ();").unwrap();
            t.exec("let big = matrix(4096, 5120, 2.0);").unwrap();
            assert_eq!(
                warnings(&t).matches("Memory: ").count(),
                2,
                "{}",
                warnings(&t)
            );
        })
    });
}
