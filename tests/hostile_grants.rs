//! Hostile scripts against the session's grants: files, hosts and
//! credentials outside the grant stay out of reach, whatever the door.

mod common;

use common::canary::{CANARY_ENV_VALUE, CanaryFile, CanaryServer, Sandboxed};
use std::time::Duration;

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
        Duration::from_secs(60),
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
