//! `cleope run` and `cleope docs` as a user calls them: exit codes, messages,
//! cells, configuration sources, Ctrl-C.

use crate::common;

use common::cleope_bin;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Dir {
    temp: tempfile::TempDir,
}

impl Dir {
    fn new() -> Self {
        Self {
            temp: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.temp.path()
    }

    fn workspace(&self) -> PathBuf {
        self.path().join("workspace")
    }

    fn script(&self, name: &str, code: &str) -> PathBuf {
        let path = self.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, code).unwrap();
        path
    }

    /// `cleope run SCRIPT --workspace W ARGS...` with a clean environment.
    fn command(&self, script: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(cleope_bin());
        command
            .arg("run")
            .arg(script)
            .arg("--workspace")
            .arg(self.workspace())
            .args(args)
            .env_remove("CLEOPE_TIME_LIMIT")
            .env_remove("CLEOPE_OPERATIONS")
            .env_remove("CLEOPE_MEMORY");
        command
    }

    fn run(&self, script: &Path, args: &[&str]) -> Output {
        self.command(script, args).output().unwrap()
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn help_lists_only_working_subcommands_and_the_exit_codes() {
    let out = Command::new(cleope_bin()).arg("--help").output().unwrap();
    let help = stdout(&out);
    assert!(help.contains("run") && help.contains("docs"), "{help}");
    for working in [
        "kernel",
        "repl",
        "step",
        "notebook",
        "demo-archive",
        "catalogue",
    ] {
        assert!(
            help.contains(&format!("  {working} ")),
            "{working} missing:\n{help}"
        );
    }
    assert!(help.contains("130  interrupted"), "{help}");
}

#[test]
fn a_good_script_exits_0_and_prints() {
    let dir = Dir::new();
    let script = dir.script("ok.rhai", "print(\"hello, world\");\neprint(\"note\");\n");
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "hello, world\n");
    assert_eq!(stderr(&out), "note\n");
}

#[test]
fn a_syntax_error_exits_1_with_file_line_column_caret_and_hint() {
    let dir = Dir::new();
    let script = dir.script("bad.rhai", "let a = 1;\nlet b = a +;\n");
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error[SyntaxError]:"), "{err}");
    assert!(
        err.contains(&format!("--> {}:2:", script.display())),
        "{err}"
    );
    assert!(err.contains(" 2 | let b = a +;"), "{err}");
    assert!(err.contains("^"), "{err}");
}

#[test]
fn a_runtime_error_in_a_function_shows_the_call_chain() {
    let dir = Dir::new();
    let code = "fn ratio(a, b) {\n    a / b\n}\nlet r = ratio(1, 0);\n";
    let script = dir.script("div.rhai", code);
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("error[ArithmeticError]"), "{err}");
    assert!(
        err.contains(":2:") && err.contains("    a / b"),
        "points into the function: {err}"
    );
    assert!(err.contains("in ratio(..), called at"), "{err}");
}

#[test]
fn a_quota_breach_exits_3_within_the_limit() {
    let dir = Dir::new();
    let script = dir.script("loop.rhai", "let i = 0;\nloop { i += 1; }\n");
    let started = Instant::now();
    let out = dir.run(&script, &["--time-limit", "1s"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error[TimeQuotaExceeded]"),
        "{}",
        stderr(&out)
    );
    assert!(started.elapsed() < Duration::from_secs(10));
}

#[test]
fn usage_errors_exit_2() {
    let dir = Dir::new();
    let missing = dir.run(&dir.path().join("missing.rhai"), &[]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("cannot read"),
        "{}",
        stderr(&missing)
    );
    let script = dir.script("ok.rhai", "print(1);");
    let bad_size = dir.run(&script, &["--memory", "lots"]);
    assert_eq!(bad_size.status.code(), Some(2));
    assert!(stderr(&bad_size).contains("2GiB"), "{}", stderr(&bad_size));
    let bad_range = dir.run(&script, &["--cells", "4..2"]);
    assert_eq!(bad_range.status.code(), Some(2));
}

#[test]
fn cells_selects_a_range_and_lines_stay_those_of_the_file() {
    let dir = Dir::new();
    let code = "// %% [markdown]\n// # Title\n// %%\nprint(\"one\");\n// %%\nprint(\"two\");\n// %%\nlet x = 1;\nx.nope();\n";
    let script = dir.script("cells.rhai", code);
    let two = dir.run(&script, &["--cells", "3"]);
    assert_eq!(stdout(&two), "two\n");
    let all = dir.run(&script, &[]);
    assert_eq!(stdout(&all), "one\ntwo\n");
    assert!(
        stderr(&all).contains(":9:"),
        "error on line 9: {}",
        stderr(&all)
    );
    let none = dir.run(&script, &["--cells", "9"]);
    assert!(stderr(&none).contains("selects none"), "{}", stderr(&none));
    assert_eq!(
        none.status.code(),
        Some(2),
        "a range past the end is a usage error"
    );
}

#[test]
fn the_operator_configures_with_a_file_then_environment_then_flags() {
    let dir = Dir::new();
    let system = dir.script("etc/cleope.toml", "[quota]\noperations = 50000\n");
    let script = dir.script("q.rhai", "print(quota().operations_limit);");
    let run = |args: &[&str], env: Option<&str>| {
        let mut command = dir.command(&script, args);
        command.env("CLEOPE_CONFIG", &system);
        if let Some(operations) = env {
            command.env("CLEOPE_OPERATIONS", operations);
        }
        stdout(&command.output().unwrap())
    };
    assert_eq!(run(&[], None), "50000\n");
    assert_eq!(run(&[], Some("60000")), "60000\n");
    assert_eq!(run(&["--operations", "70000"], Some("60000")), "70000\n");
}

#[test]
fn the_workspace_file_may_lower_a_quota_but_not_raise_it() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.workspace()).unwrap();
    let script = dir.script("q.rhai", "print(quota().operations_limit);");
    std::fs::write(
        dir.workspace().join("cleope.toml"),
        "[quota]\noperations = 50000\n",
    )
    .unwrap();
    let lowered = dir.run(&script, &["--operations", "70000"]);
    assert_eq!(stdout(&lowered), "50000\n");
    assert_eq!(stderr(&lowered), "");
    std::fs::write(
        dir.workspace().join("cleope.toml"),
        "[quota]\noperations = 90000\n",
    )
    .unwrap();
    let raised = dir.run(&script, &["--operations", "70000"]);
    assert_eq!(stdout(&raised), "70000\n");
    assert!(
        stderr(&raised).contains("quota.operations = 90000 was ignored")
            && stderr(&raised).contains("the operator's limit is 70000"),
        "{}",
        stderr(&raised)
    );
}

#[test]
fn a_broken_cleope_toml_is_a_usage_error_naming_the_key() {
    let dir = Dir::new();
    std::fs::create_dir_all(dir.workspace()).unwrap();
    std::fs::write(
        dir.workspace().join("cleope.toml"),
        "[quota]\nmemory = \"two gigs\"\n",
    )
    .unwrap();
    let script = dir.script("q.rhai", "print(1);");
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("quota.memory"), "{}", stderr(&out));
}

#[test]
fn modules_and_files_of_a_granted_script_folder_can_be_used_but_not_written() {
    let dir = Dir::new();
    dir.script("lesson/helpers.rhai", "fn double(x) { x * 2 }\n");
    dir.script("lesson/data.txt", "21");
    let data = dir.path().join("lesson/data.txt");
    let code = format!(
        "import \"helpers\" as h;\nprint(h::double(parse_int(read_text(\"{0}\"))));\nwrite_text(\"{0}\", \"x\");\n",
        data.display()
    );
    let script = dir.script("lesson/main.rhai", &code);
    let lesson = dir.path().join("lesson");
    let out = dir.run(&script, &["--read", lesson.to_str().unwrap()]);
    assert_eq!(stdout(&out), "42\n");
    assert!(
        stderr(&out).contains("read-only granted folder"),
        "{}",
        stderr(&out)
    );
    assert_eq!(std::fs::read_to_string(data).unwrap(), "21", "untouched");
}

#[test]
fn the_memory_backstop_stops_a_script_holding_too_much() {
    let dir = Dir::new();
    // 25 distinct 8 MB strings: each under the per-value string limit,
    // together over the 150 MiB quota.
    let mut code = String::from("let s = \"x\";\nwhile s.len() < 8_000_000 { s += s; }\n");
    for i in 0..25 {
        code.push_str(&format!("let s{i} = s + \"{i}\";\n"));
    }
    code.push_str("let i = 0;\nwhile i < 10_000_000 { i += 1; }\n");
    let script = dir.script("hog.rhai", &code);
    let out = dir.run(&script, &["--memory", "150MiB"]);
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error[MemoryQuotaExceeded]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn ctrl_c_interrupts_with_exit_130() {
    let dir = Dir::new();
    let script = dir.script("spin.rhai", "let i = 0;\nloop { i += 1; }\n");
    let child = dir
        .command(&script, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert!(
        stderr(&out).starts_with("error[Interrupted]"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn docs_check_reports_an_outdated_reference() {
    let dir = Dir::new();
    let out_file = dir.path().join("api.md");
    let write = Command::new(cleope_bin())
        .args(["docs", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(write.status.code(), Some(0));
    let check = Command::new(cleope_bin())
        .args(["docs", "--check", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(check.status.code(), Some(0));
    std::fs::write(&out_file, "old").unwrap();
    let stale = Command::new(cleope_bin())
        .args(["docs", "--check", "--out"])
        .arg(&out_file)
        .output()
        .unwrap();
    assert_eq!(stale.status.code(), Some(1));
}

#[test]
fn an_error_in_a_later_cell_shows_its_line_when_code_precedes_the_first_marker() {
    let dir = Dir::new();
    let script = dir.script("lead.rhai", "let a = 1;\n// %%\nlet b = a.nope();\n");
    let err = stderr(&dir.run(&script, &[]));
    assert!(err.contains(" 3 | let b = a.nope();"), "{err}");
}

#[test]
fn a_module_imported_in_one_cell_is_usable_in_the_next() {
    let dir = Dir::new();
    dir.script("lesson/helpers.rhai", "fn double(x) { x * 2 }\n");
    let code = "// %%\nimport \"helpers\" as h;\n// %%\nprint(h::double(21));\n";
    let script = dir.script("lesson/cells.rhai", code);
    let lesson = dir.path().join("lesson");
    let out = dir.run(&script, &["--read", lesson.to_str().unwrap()]);
    assert_eq!(stdout(&out), "42\n", "{}", stderr(&out));
}

/// A figure the script saves is written once, where the script says; one
/// it only shows goes to output/figures/ when the run ends (a terminal
/// wrote every saved figure twice).
#[test]
fn a_saved_figure_is_written_once_and_a_shown_one_in_output_figures() {
    let dir = Dir::new();
    let script = dir.script(
        "figures.rhai",
        "let r = matrix(20, 20, 1.0).to_raster([10.0, 40.0, 11.0, 41.0]);\n\
         r.plot(#{ title: \"one\", units: \"K\" }).save(\"output/one.png\");\n\
         r.plot(#{ title: \"two\", units: \"K\" });\n",
    );
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    assert!(printed.contains("[figure 1] output/one.png ("), "{printed}");
    assert!(
        printed.contains("[figure 2] output/figures/figure-02-two.png ("),
        "{printed}"
    );
    let output = dir.workspace().join("output");
    assert!(output.join("one.png").is_file());
    let mut shown: Vec<String> = std::fs::read_dir(output.join("figures"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    shown.sort();
    assert_eq!(
        shown,
        ["figure-02-two.png"],
        "the saved figure is not written again"
    );
}

/// A figure held until its cell ends counts against the memory quota while
/// held, and no longer once written.
#[test]
fn a_held_figure_counts_against_the_memory_quota_until_written() {
    let dir = Dir::new();
    let script = dir.script(
        "held.rhai",
        "// %% show\n\
         let r = matrix(200, 200).to_raster([10.0, 40.0, 11.0, 41.0]);\n\
         let before = quota().memory_native;\n\
         r.plot(#{ title: \"noise\", units: \"K\" });\n\
         let held = quota().memory_native - before;\n\
         print(`held ${held}`);\n\
         // %% after\n\
         print(`after ${quota().memory_native - before}`);\n",
    );
    let out = dir.run(&script, &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let printed = stdout(&out);
    let number = |prefix: &str| -> i64 {
        let line = printed.lines().find(|l| l.starts_with(prefix)).unwrap();
        line[prefix.len()..].trim().parse().unwrap()
    };
    let png = std::fs::metadata(dir.workspace().join("output/figures/figure-01-noise.png"))
        .unwrap()
        .len() as i64;
    assert!(number("held ") >= png, "{printed} (the PNG is {png} bytes)");
    assert!(number("after ") < png, "{printed}");
}
