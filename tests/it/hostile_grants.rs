//! Hostile scripts against the session's grants: files, hosts and
//! credentials outside the grant stay out of reach, whatever the door, and
//! the operating-system wall holds even where cleope's own checks are
//! bypassed. Every case asserts the real side effect (a canary file
//! unopened, a canary server without requests, a secret nowhere).

use crate::common;

use common::canary::{CANARY_ENV_VALUE, CanaryFile, CanaryServer, Outcome, Sandboxed};
use std::time::Duration;

/// Every hostile run must end well within this.
const LIMIT: Duration = Duration::from_secs(60);

/// The canaries themselves must be able to fail: a plain read is seen,
/// a connection is counted, and a run's output and files are searched.
#[test]
fn the_canaries_see_what_they_guard() {
    let file = CanaryFile::new();
    assert_eq!(file.touches(), 0);
    assert!(
        std::fs::read_to_string(file.path())
            .unwrap()
            .contains(file.secret())
    );
    assert!(file.touches() >= 1, "a read must be seen");

    let server = CanaryServer::start();
    drop(std::net::TcpStream::connect(("127.0.0.1", server.port())).unwrap());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(server.hits(), 1);

    let run = Sandboxed::new();
    let outcome = run.run(
        "print(\"hello\"); write_text(\"output/x.txt\", \"env-canary-7f3a9c21e4\");",
        LIMIT,
    );
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(outcome.stdout.contains("hello"));
    assert!(
        run.leaked(&outcome, CANARY_ENV_VALUE),
        "leak search finds files"
    );
    assert!(
        outcome.peak_rss > 1 << 20,
        "peak RSS measured: {}",
        outcome.peak_rss
    );
}

fn assert_refused(outcome: &Outcome, kind: &str) {
    assert_eq!(outcome.code, Some(1), "{}", outcome.output());
    assert!(
        outcome.stderr.contains(&format!("error[{kind}]")),
        "expected {kind}:\n{}",
        outcome.stderr
    );
    assert!(outcome.stderr.contains("hint:"), "{}", outcome.stderr);
}

// ---------------------------------------------------------------------------
// The wall itself: a native call that bypasses every path check.

/// The variable that turns [`probe_behind_the_wall`] into the probe.
const PROBE: &str = "CLEOPE_WALL_PROBE";

/// Raises the wall in a child process (this test binary, re-run with only
/// the probe), then does what no script function does: raw `open()`s,
/// `connect()`s and `execve()`s. Each must fail with the wall's error, and
/// the canaries must have seen nothing.
#[test]
fn the_wall_refuses_raw_system_calls_that_bypass_the_path_checks() {
    let canary = CanaryFile::new();
    let server = CanaryServer::start();
    let workspace = tempfile::tempdir().unwrap();
    let exe = std::env::current_exe().unwrap();
    // The probe's full test name: this module's path without the crate's.
    let (_crate, module) = module_path!().split_once("::").unwrap();
    let probe = format!("{module}::probe_behind_the_wall");
    let output = std::process::Command::new(exe)
        .args([probe.as_str(), "--exact", "--test-threads=1", "--nocapture"])
        .env(PROBE, "1")
        .env("PROBE_CANARY", canary.path())
        .env("PROBE_PORT", server.port().to_string())
        .env("PROBE_WORKSPACE", workspace.path())
        .env("CLEOPE_PASSWORD", "probe-secret-3141")
        .env("CLEOPE_USERNAME", "student")
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && report.contains("probe: all refused"),
        "{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert_eq!(canary.touches(), 0, "the canary file was opened");
    assert_eq!(server.hits(), 0, "the canary server was reached");
    assert!(
        !canary.dir().join("written.txt").exists(),
        "a file appeared outside the workspace"
    );
}

/// The probe's body (does nothing unless [`PROBE`] is set, i.e. unless
/// the test above runs it in a child process).
#[test]
fn probe_behind_the_wall() {
    use std::io::ErrorKind::PermissionDenied;
    if std::env::var_os(PROBE).is_none() {
        return;
    }
    let canary = std::path::PathBuf::from(std::env::var("PROBE_CANARY").unwrap());
    let port: u16 = std::env::var("PROBE_PORT").unwrap().parse().unwrap();
    let workspace = std::path::PathBuf::from(std::env::var("PROBE_WORKSPACE").unwrap());
    // As `main` does: settings, secrets out of the environment, grants, wall.
    let settings = cleope::runtime::Settings::load(&cleope::runtime::Overrides {
        workspace: Some(workspace.clone()),
        ..Default::default()
    })
    .unwrap();
    // SAFETY: this child runs one test on one thread (--test-threads=1).
    unsafe {
        cleope::sandbox::process::forget_secrets(&cleope::runtime::accounts::SECRET_VARIABLES)
    };
    let prepared = cleope::runtime::Prepared::new(&settings).unwrap();
    let plan = cleope::sandbox::wall::Plan::of(&prepared.grants);
    let status = cleope::sandbox::wall::raise(&plan);
    assert!(status.files_confined(), "{status}");
    assert!(status.seccomp.is_ok(), "{status}");

    let read = std::fs::read(&canary).map(drop).unwrap_err();
    assert_eq!(read.kind(), PermissionDenied, "std read of the canary");
    let c_path = std::ffi::CString::new(canary.to_str().unwrap()).unwrap();
    // SAFETY: a plain open(2) of a NUL-terminated path.
    let fd = unsafe { libc::open(c_path.as_ptr(), libc::O_RDONLY) };
    let errno = std::io::Error::last_os_error().raw_os_error();
    assert_eq!((fd, errno), (-1, Some(libc::EACCES)), "raw open(2)");
    let environ = std::fs::read("/proc/self/environ").map(drop).unwrap_err();
    assert_eq!(environ.kind(), PermissionDenied, "/proc/self/environ");
    let written = std::fs::write(canary.parent().unwrap().join("written.txt"), "x");
    assert_eq!(
        written.unwrap_err().kind(),
        PermissionDenied,
        "write outside"
    );
    let connected = std::net::TcpStream::connect(("127.0.0.1", port)).map(drop);
    assert_eq!(connected.unwrap_err().kind(), PermissionDenied, "connect");
    let spawned = std::process::Command::new("/bin/true").status();
    assert!(spawned.is_err(), "a process was started: {spawned:?}");
    assert!(std::env::var_os("CLEOPE_PASSWORD").is_none(), "secret kept");
    std::fs::write(workspace.join("output/inside.txt"), "ok").expect("the workspace is writable");
    println!("probe: all refused");
}

// ---------------------------------------------------------------------------
// The network grant and the credentials.

/// An ONDA search answer with one online product, and a `$value` answer
/// given by `download`.
fn fake_onda(download: impl Fn() -> String + Send + 'static) -> CanaryServer {
    CanaryServer::answering(Box::new(move |request| {
        if request.contains("$value") {
            return download();
        }
        let body = r#"{"value":[{"id":"0d6f4a1e-8f0e-4c55-9f0a-2f4f1d2b7a10",
            "name":"S2A_MSIL1C_20200722T105631_N0209_R094_T30SVG_20200722T121905.zip",
            "beginPosition":"2020-07-22T10:56:31.024Z","offline":false,"size":1000,
            "pseudopath":"S2/1C/2020/07/22","footprint":"POLYGON((0 0,1 0,1 1,0 1,0 0))"}]}"#;
        format!(
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
    }))
}

const DOWNLOAD: &str = r#"
let name = "S2A_MSIL1C_20200722T105631_N0209_R094_T30SVG_20200722T121905";
try { odata_download(name); print("downloaded"); } catch (e) { print(`kind=${e.kind}`); }
"#;

#[test]
fn a_script_cannot_move_the_session_to_a_server_of_its_choosing() {
    let server = fake_onda(String::new);
    let run = Sandboxed::new()
        .env("CLEOPE_USERNAME", "student")
        .env("CLEOPE_PASSWORD", "secret-for-the-configured-catalogue");
    for url in [
        server.url("/dias-catalogue"),
        format!("http://localhost:{}/dias-catalogue", server.port()),
        format!("http://[::1]:{}/x", server.port()),
    ] {
        let outcome = run.run(
            &format!("catalogue(\"{url}\");\nodata_download(\"x\");"),
            LIMIT,
        );
        assert_refused(&outcome, "NetworkNotAllowed");
        assert!(outcome.stderr.contains("--allow-net"), "{}", outcome.stderr);
    }
    let outcome = run.run(
        &format!(
            "catalogue(#{{ dialect: \"cdse\", token_url: \"{}\" }});",
            server.url("/token")
        ),
        LIMIT,
    );
    assert_refused(&outcome, "NetworkNotAllowed");
    assert_eq!(server.hits(), 0, "the script's server was contacted");
}

#[test]
fn a_granted_second_catalogue_gets_no_configured_account() {
    let server = fake_onda(|| panic!("no download without an account"));
    let run = Sandboxed::new()
        .arg("--allow-net")
        .arg(format!("127.0.0.1:{}", server.port()))
        .env("CLEOPE_USERNAME", "student")
        .env("CLEOPE_PASSWORD", "secret-for-the-configured-catalogue");
    let script = format!(
        "catalogue(\"{}\");\n{DOWNLOAD}",
        server.url("/dias-catalogue")
    );
    let outcome = run.run(&script, LIMIT);
    assert!(
        outcome.stdout.contains("kind=LoginFailed"),
        "{}",
        outcome.output()
    );
    assert!(server.hits() >= 1, "the granted catalogue was searched");
    for request in server.requests() {
        assert!(
            !request.to_ascii_lowercase().contains("authorization"),
            "credentials sent to a catalogue they were not configured for:\n{request}"
        );
    }
}

#[test]
fn a_redirect_outside_the_grant_is_refused_and_the_account_stays_home() {
    let elsewhere = CanaryServer::start();
    let away = elsewhere.url("/stolen");
    let catalogue = fake_onda(move || {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {away}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let run = Sandboxed::new()
        .arg("--catalogue")
        .arg(catalogue.url("/dias-catalogue"))
        .arg("--dialect")
        .arg("onda")
        .env("CLEOPE_USERNAME", "student")
        .env("CLEOPE_PASSWORD", "secret-4-redirect");
    let outcome = run.run(DOWNLOAD, LIMIT);
    assert!(
        outcome.stdout.contains("kind=NetworkNotAllowed"),
        "{}",
        outcome.output()
    );
    assert_eq!(elsewhere.hits(), 0, "the redirect was followed");
    let asked_for_bytes = catalogue
        .requests()
        .iter()
        .any(|r| r.contains("$value") && r.to_ascii_lowercase().contains("authorization: basic"));
    assert!(asked_for_bytes, "the configured catalogue gets the account");

    // Granted as an extra endpoint, the redirect is followed, without the account.
    let extra = CanaryServer::start();
    let away = extra.url("/elsewhere");
    let catalogue = fake_onda(move || {
        format!(
            "HTTP/1.1 307 Temporary Redirect\r\nLocation: {away}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
    });
    let run = Sandboxed::new()
        .arg("--catalogue")
        .arg(catalogue.url("/dias-catalogue"))
        .arg("--allow-net")
        .arg(format!("127.0.0.1:{}", extra.port()))
        .env("CLEOPE_USERNAME", "student")
        .env("CLEOPE_PASSWORD", "secret-4-redirect");
    let outcome = run.run(DOWNLOAD, LIMIT);
    assert!(extra.hits() >= 1, "{}", outcome.output());
    for request in extra.requests() {
        assert!(
            !request.to_ascii_lowercase().contains("authorization"),
            "the account followed a redirect to another host:\n{request}"
        );
    }
}

// ---------------------------------------------------------------------------
// Settings a script can write, and folders nobody granted.

#[test]
fn a_workspace_cleope_toml_cannot_widen_the_session() {
    let canary = CanaryFile::new();
    let server = CanaryServer::start();
    let run = Sandboxed::new().arg("--memory").arg("512MiB");
    run.write(
        "cleope.toml",
        format!(
            "[quota]\nmemory = \"8GiB\"\ntime_limit = \"1h\"\n[paths]\narchive = \"{}\"\n\
             [catalogue]\nurl = \"{}\"\n[grants]\nread = [\"/\"]\nnet = [\"127.0.0.1:{}\"]\n",
            canary.dir().display(),
            server.url("/dias-catalogue"),
            server.port()
        ),
    );
    let script = format!(
        "let q = quota();\nprint(`memory=${{q.memory_limit}} time=${{q.time_limit}}`);\n\
         print(`local=${{catalogue().local}}`);\n\
         read_text(\"{}\");",
        canary.path().display()
    );
    let outcome = run.run(&script, LIMIT);
    assert!(
        outcome
            .stdout
            .contains("memory=536870912 time=300.0\nlocal=true"),
        "{}",
        outcome.output()
    );
    for key in [
        "quota.memory",
        "quota.time_limit",
        "paths.archive",
        "catalogue.url",
        "grants",
    ] {
        assert!(
            outcome.stderr.contains(&format!("{key} ")),
            "no word on {key}:\n{}",
            outcome.stderr
        );
    }
    assert_refused(&outcome, "PathNotAllowed");
    assert_eq!(canary.touches(), 0, "the canary was opened");
    assert_eq!(server.hits(), 0, "the file's catalogue was contacted");
}

#[test]
fn a_lower_quota_in_the_workspace_file_applies() {
    let run = Sandboxed::new();
    run.write("cleope.toml", "[quota]\noperations = 50000\n");
    let outcome = run.run("print(quota().operations_limit);", LIMIT);
    assert_eq!(outcome.stdout, "50000\n", "{}", outcome.stderr);
    assert_eq!(outcome.stderr, "", "nothing was ignored");
}

#[test]
fn the_folder_of_a_script_run_from_elsewhere_stays_closed() {
    let canary = CanaryFile::new();
    std::fs::write(canary.dir().join("helper.rhai"), "fn secret() { 1 }").unwrap();
    let script = canary.dir().join("lesson.rhai");
    std::fs::write(
        &script,
        format!(
            "let text = \"\";\ntry {{ text = read_text(\"{}\"); }} catch (e) {{ print(e.kind); }}\n\
             import \"helper\" as h;\n",
            canary.path().display()
        ),
    )
    .unwrap();
    let run = Sandboxed::new();
    let mut command = std::process::Command::new(common::cleope_bin());
    command
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(&run.workspace)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let touches_before = canary.touches();
    let outcome = common::canary::run_measured(command, LIMIT);
    assert!(
        outcome.stdout.contains("PathNotAllowed"),
        "{}",
        outcome.output()
    );
    assert_refused(&outcome, "ModuleNotFound");
    assert!(outcome.stderr.contains("--read"), "{}", outcome.stderr);
    assert_eq!(canary.touches(), touches_before, "the canary was opened");
    assert!(!outcome.output().contains(canary.secret()));

    // Granted by the operator, the same folder works.
    let mut command = std::process::Command::new(common::cleope_bin());
    command
        .arg("run")
        .arg(&script)
        .arg("--workspace")
        .arg(&run.workspace)
        .arg("--read")
        .arg(canary.dir())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let outcome = common::canary::run_measured(command, LIMIT);
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
}

#[test]
fn show_grants_lists_the_reach_and_the_wall() {
    let run = Sandboxed::new()
        .arg("--show-grants")
        .arg("--read")
        .arg("/usr/share")
        .arg("--allow-net")
        .arg("classroom.example.org:8443");
    let outcome = run.run("print(\"never runs\");", LIMIT);
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    let shown = &outcome.stdout;
    assert!(!shown.contains("never runs"));
    for line in [
        "read-write  ",
        "read        /usr/share (granted folder)",
        "network     classroom.example.org:8443 (granted by the operator)",
        "(local catalogue)",
        "wall        Landlock ABI",
        "seccomp (no new processes)",
    ] {
        assert!(shown.contains(line), "{line} missing:\n{shown}");
    }
}

#[test]
fn show_grants_names_the_accounts_and_where_they_go_without_passwords() {
    let run = Sandboxed::new()
        .arg("--show-grants")
        .env("CLEOPE_USERNAME", "student")
        .env("CLEOPE_PASSWORD", "never-shown-1618");
    let outcome = run.run("", LIMIT);
    assert!(
        outcome
            .stdout
            .contains("account     student (CLEOPE_USERNAME), for the configured catalogue only"),
        "{}",
        outcome.output()
    );
    assert!(!run.leaked(&outcome, "never-shown-1618"));
}
