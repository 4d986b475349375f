//! Hostile scripts against the disk quota: it is shared by every session on
//! a workspace (several processes at once), every file and folder costs at
//! least one block and the number of entries is capped, cleope's private
//! folder (`.cleope/`) is out of reach, and a killed session's temporaries
//! are gone at the next start. Each test asserts what is on disk.

use crate::common;

use common::canary::{Outcome, Sandboxed, run_measured};
use common::{TestSession, on_script_thread};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The block every file and folder costs at least (ext4's, and the minimum).
const BLOCK: u64 = 4096;

/// Library-level cases must end within this.
const BOUND: Duration = Duration::from_secs(60);

/// What the entries under `folder` cost by the quota's rule, counted here
/// on their own: a file its size in whole blocks (at least one), a folder
/// one block. `folder` itself is not counted (nor anything, when it does not exist).
fn footprint(folder: &Path) -> (u64, u64) {
    let mut bytes = 0;
    let mut entries = 0;
    if !folder.exists() {
        return (0, 0);
    }
    for entry in walkdir::WalkDir::new(folder).min_depth(1) {
        let entry = entry.unwrap();
        let len = entry.metadata().unwrap().len();
        bytes += if entry.file_type().is_file() {
            len.div_ceil(BLOCK).max(1) * BLOCK
        } else {
            BLOCK
        };
        entries += 1;
    }
    (bytes, entries)
}

/// The footprint of a whole workspace: what scripts and users put in it,
/// without its standard folders themselves or cleope's private folder.
fn workspace_footprint(workspace: &Path) -> (u64, u64) {
    let mut total = (0, 0);
    for entry in std::fs::read_dir(workspace).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().to_string_lossy().into_owned();
        if name == ".cleope" {
            continue;
        }
        let (bytes, entries) = footprint(&entry.path());
        total.0 += bytes;
        total.1 += entries;
        if !["local_files", "output", "resources"].contains(&name.as_str()) {
            total.0 += if entry.path().is_dir() {
                BLOCK
            } else {
                entry.metadata().unwrap().len().div_ceil(BLOCK).max(1) * BLOCK
            };
            total.1 += 1;
        }
    }
    total
}

/// Every path under `root` whose name starts with `prefix`.
fn named(root: &Path, prefix: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_name().to_string_lossy().starts_with(prefix))
        .map(|e| e.path().to_path_buf())
        .collect()
}

/// The last line a run printed, split at its first space: e.g. `("DiskQuotaExceeded", "97")`.
fn last_line(outcome: &Outcome) -> (String, String) {
    let line = outcome
        .stdout
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let (kind, rest) = line.split_once(' ').unwrap_or((&line, ""));
    (kind.to_string(), rest.to_string())
}

/// Two `cleope run` processes on one workspace, each writing 64 KiB files
/// until refused, hold together no more than the quota: the quota is the
/// workspace's, not each session's.
#[test]
fn two_processes_on_one_workspace_together_stay_within_the_quota() {
    const QUOTA: u64 = 8_000_000;
    let run = Sandboxed::new().arg("--disk").arg(QUOTA.to_string());
    let script = |me: &str, other: &str| {
        format!(
            "write_text(\"output/ready-{me}\", \"\");\n\
             while !file_exists(\"output/ready-{other}\") {{}}\n\
             let s = \"\"; s.pad(65536, 'x');\n\
             let n = 0; let kind = \"none\";\n\
             loop {{\n\
               try {{ write_text(\"output/{me}/\" + n + \".bin\", s); n += 1; }}\n\
               catch (e) {{ kind = e.kind; break; }}\n\
             }}\n\
             print(kind + \" \" + n);\n"
        )
    };
    let commands = [
        run.command("a.rhai", &script("a", "b")),
        run.command("b.rhai", &script("b", "a")),
    ];
    let outcomes: Vec<Outcome> = std::thread::scope(|scope| {
        let runs: Vec<_> = commands
            .into_iter()
            .map(|command| scope.spawn(move || run_measured(command, Duration::from_secs(120))))
            .collect();
        runs.into_iter().map(|r| r.join().unwrap()).collect()
    });
    let mut counts = Vec::new();
    for outcome in &outcomes {
        assert_eq!(outcome.code, Some(0), "{}", outcome.output());
        let (kind, count) = last_line(outcome);
        assert_eq!(kind, "DiskQuotaExceeded", "{}", outcome.output());
        counts.push(count.parse::<u64>().unwrap());
    }
    let written: u64 = counts.iter().sum();
    let (bytes, entries) = workspace_footprint(&run.workspace);
    eprintln!(
        "two processes: {counts:?} files of 64 KiB, workspace footprint {bytes} bytes \
         in {entries} entries, quota {QUOTA}"
    );
    assert!(bytes <= QUOTA, "together they passed the quota: {bytes}");
    let file = 65_536;
    assert!(
        bytes + 2 * file > QUOTA,
        "they stopped well short of the quota: {bytes}"
    );
    assert_eq!(
        written,
        footprint(&run.workspace.join("output/a")).1 + footprint(&run.workspace.join("output/b")).1
    );
}

/// A script making a million empty files is stopped at the entry cap (the
/// default, 100,000 files and folders) with `DiskQuotaExceeded`, in bounded time.
#[test]
fn a_million_empty_files_stop_at_the_entry_cap() {
    let run = Sandboxed::new();
    let outcome = run.run(
        "let n = 0; let kind = \"none\";\n\
         try { for i in 0..1000000 { write_text(\"output/e/\" + i, \"\"); n += 1; } }\n\
         catch (e) { kind = e.kind; }\n\
         print(kind + \" \" + n);\n",
        Duration::from_secs(240),
    );
    let (kind, count) = last_line(&outcome);
    let created = footprint(&run.workspace.join("output/e")).1;
    let (_, entries) = workspace_footprint(&run.workspace);
    eprintln!(
        "a million empty files: stopped by {kind} after {count} files in {:.1} s, \
         {created} created, {entries} entries in the workspace, peak RSS {} MiB",
        outcome.elapsed.as_secs_f64(),
        outcome.peak_rss >> 20
    );
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert_eq!(kind, "DiskQuotaExceeded", "{}", outcome.output());
    assert_eq!(count.parse::<u64>().unwrap(), created);
    assert!(entries <= 100_000, "{entries} entries");
    assert!(entries >= 99_990, "stopped short of the cap: {entries}");
    assert!(
        outcome.elapsed < Duration::from_secs(120),
        "took {:?}",
        outcome.elapsed
    );
}

/// Empty files cost a block each: under a 4 MB quota a script stops after
/// fewer than 4 MB / 4 KiB of them, however small they are.
#[test]
fn one_byte_files_stop_at_the_block_quota() {
    let run = Sandboxed::new().arg("--disk").arg("4MB");
    let outcome = run.run(
        "let n = 0; let kind = \"none\";\n\
         try { for i in 0..1000000 { write_text(\"output/b/\" + i, \"x\"); n += 1; } }\n\
         catch (e) { kind = e.kind; print(e.message); }\n\
         print(kind + \" \" + n);\n",
        Duration::from_secs(120),
    );
    let (kind, count) = last_line(&outcome);
    let (bytes, entries) = workspace_footprint(&run.workspace);
    eprintln!(
        "one-byte files under 4 MB: stopped by {kind} after {count} files in {:.1} s; \
         footprint {bytes} bytes in {entries} entries",
        outcome.elapsed.as_secs_f64()
    );
    assert_eq!(kind, "DiskQuotaExceeded", "{}", outcome.output());
    assert!(bytes <= 4_000_000, "{bytes}");
    assert!(bytes + 2 * BLOCK > 4_000_000, "stopped early: {bytes}");
    assert!(
        outcome.output().contains("block"),
        "the message says why: {}",
        outcome.output()
    );
}

/// Runs `kept = 42`, then `hostile`, which must fail with `expect`; the
/// session must keep its variable and run new code. Gives the error message.
fn refused_in_session(t: &mut TestSession, hostile: &str, expect: &str) -> String {
    t.exec("let kept = 42;").expect("setup chunk");
    let error = t.run(hostile).expect_err("the hostile chunk must fail");
    assert_eq!(error.name, expect, "{hostile}: got\n{error}");
    assert!(error.hint.is_some(), "{hostile}: no hint in\n{error}");
    let kept = t.run("kept + 1").expect("the session survives");
    assert_eq!(kept.as_int().unwrap(), 43, "{hostile}: variables lost");
    error.to_string()
}

/// Folders count as entries too: a script making folders in a loop stops
/// at the cap with the session alive.
#[test]
fn a_million_folders_stop_at_the_entry_cap_and_the_session_lives_on() {
    let (message, entries) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|s| s.quota.disk_entries = 300);
        let message = refused_in_session(
            &mut t,
            "for i in 0..1000000 { write_text(\"output/d\" + i + \"/x\", \"\"); }",
            "DiskQuotaExceeded",
        );
        (message, workspace_footprint(&t.workspace()).1)
    });
    assert!(entries <= 300, "{entries} entries");
    assert!(entries >= 298, "{entries} entries");
    assert!(
        message.contains("300"),
        "the message names the cap: {message}"
    );
}

/// Each file and folder charges at least a block, whatever its size;
/// shrinking or replacing a file gives back what it no longer uses.
#[test]
fn every_file_and_folder_charges_a_block() {
    let charges = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        t.run(
            "let q = || [quota().disk_used, quota().disk_entries_used];\n\
             let steps = [q.call()];\n\
             write_text(\"output/empty.txt\", \"\"); steps.push(q.call());\n\
             write_text(\"output/one.txt\", \"x\"); steps.push(q.call());\n\
             write_text(\"output/new/deeper/two.txt\", \"x\"); steps.push(q.call());\n\
             let s = \"\"; s.pad(5000, 'x');\n\
             write_text(\"output/empty.txt\", s); steps.push(q.call());\n\
             write_text(\"output/empty.txt\", \"\"); steps.push(q.call());\n\
             let charges = [];\n\
             for i in 1..steps.len() {\n\
               charges.push([steps[i][0] - steps[i - 1][0], steps[i][1] - steps[i - 1][1]]);\n\
             }\n\
             charges",
        )
        .unwrap()
        .into_array()
        .unwrap()
        .into_iter()
        .map(|pair| {
            let pair = pair.into_array().unwrap();
            (pair[0].as_int().unwrap(), pair[1].as_int().unwrap())
        })
        .collect::<Vec<_>>()
    });
    let block = BLOCK as i64;
    assert_eq!(
        charges,
        [
            (block, 1),     // an empty file
            (block, 1),     // a file of one byte
            (3 * block, 3), // two new folders and a file
            (block, 0),     // 5000 bytes take a second block
            (-block, 0),    // emptied: back to one
        ]
    );
}

/// The private folder's spellings a script might try, and names of
/// temporary files; each must be refused.
fn private_spellings(root: &Path) -> Vec<String> {
    let root = root.display();
    vec![
        ".cleope/disk-ledger.json".into(),
        ".cleope/new.txt".into(),
        "./.cleope/disk-ledger.json".into(),
        ".//.cleope/disk-ledger.json".into(),
        ".CLEOPE/disk-ledger.json".into(),
        ".Cleope/new.txt".into(),
        ".cleope./disk-ledger.json".into(),
        ".cleope../x".into(),
        ".cleope /x".into(),
        ".cleope".into(),
        "output/../.cleope/x".into(),
        format!("{root}/.cleope/disk-ledger.json"),
        format!("{root}/./.cleope/sessions"),
        "resources/into-private/disk-ledger.json".into(),
        "resources/ledger-link".into(),
        // Named like another session's temporary file, which measurements skip.
        "output/.cleope-tmp-0123456789abcdef0123456789abcdef-x".into(),
        "output/.CLEOPE-TMP-0123456789abcdef0123456789abcdef-x/y".into(),
    ]
}

/// Links a script might find in its workspace (a user made them), leading
/// into the private folder.
fn plant_links(workspace: &Path) {
    let private = workspace.join(".cleope");
    std::os::unix::fs::symlink(&private, workspace.join("resources/into-private")).unwrap();
    std::os::unix::fs::symlink(
        private.join("disk-ledger.json"),
        workspace.join("resources/ledger-link"),
    )
    .unwrap();
}

/// Every listing of the private folder, file by file with its bytes.
fn private_contents(workspace: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut all: Vec<_> = walkdir::WalkDir::new(workspace.join(".cleope"))
        .into_iter()
        .filter_map(Result::ok)
        .map(|e| {
            let bytes = std::fs::read(e.path()).unwrap_or_default();
            (e.path().to_path_buf(), bytes)
        })
        .collect();
    all.sort();
    all
}

/// Scripts can neither read nor write cleope's private folder, by any
/// spelling (case, trailing dots, `./`, absolute, links into it); the
/// ledger stays byte for byte as it was.
#[test]
fn the_private_folder_is_out_of_reach_by_every_spelling() {
    let (before, after, messages) = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|_| {});
        let workspace = t.workspace();
        plant_links(&workspace);
        let before = private_contents(&workspace);
        assert!(
            before.iter().any(|(p, _)| p.ends_with("disk-ledger.json")),
            "the ledger is there: {before:?}"
        );
        let mut messages = Vec::new();
        for path in private_spellings(&workspace) {
            let quoted = format!("{path:?}");
            for call in [
                format!("write_text({quoted}, \"{{\\\"stored\\\": 0}}\")"),
                format!("append_text({quoted}, \"x\")"),
                format!("read_text({quoted})"),
                format!("file_exists({quoted})"),
                format!("list_files({quoted})"),
                format!("open_raster({quoted})"),
                format!("matrix(2, 2, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]).save({quoted})"),
                format!("aoi_bbox(0.0, 0.0, 1.0, 1.0).save({quoted})"),
            ] {
                messages.push(refused_in_session(&mut t, &call, "PathNotAllowed"));
            }
        }
        (before, private_contents(&workspace), messages)
    });
    assert_eq!(before, after, "the private folder changed");
    assert!(
        messages.iter().any(|m| m.contains("private")),
        "the message says why: {messages:?}"
    );
}

/// The same from a `cleope run` process: the ledger never takes what the
/// script tried to plant.
#[test]
fn a_script_cannot_plant_a_ledger() {
    let run = Sandboxed::new();
    std::fs::create_dir_all(run.workspace.join("resources")).unwrap();
    let outcome = run.run(
        "let kinds = [];\n\
         for p in [\".cleope/disk-ledger.json\", \".CLEOPE/disk-ledger.json\", \"./.cleope./disk-ledger.json\"] {\n\
           try { write_text(p, `{\"stored\": {\"bytes\": 0, \"entries\": 0}, \"planted\": 1}`); kinds.push(\"written\"); }\n\
           catch (e) { kinds.push(e.kind); }\n\
         }\n\
         print(kinds);\n",
        Duration::from_secs(60),
    );
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(
        outcome
            .stdout
            .contains("[\"PathNotAllowed\", \"PathNotAllowed\", \"PathNotAllowed\"]"),
        "{}",
        outcome.output()
    );
    let ledger = std::fs::read_to_string(run.workspace.join(".cleope/disk-ledger.json")).unwrap();
    assert!(!ledger.contains("planted"), "{ledger}");
    assert!(!run.workspace.join(".CLEOPE").exists());
    assert!(!run.workspace.join(".cleope.").exists());
}

/// A `cleope run` killed by SIGKILL in the middle of a write leaves its
/// temporary file and its reservation behind; the next session on the
/// workspace removes the file and gives the reservation back.
#[test]
fn a_killed_session_leaves_nothing_behind_after_the_next_start() {
    let run = Sandboxed::new();
    let mut writer = run
        .command(
            "writer.rhai",
            "let s = \"\"; s.pad(32000000, 'x');\n\
             loop { write_text(\"output/big.bin\", s); }\n",
        )
        .spawn()
        .unwrap();
    let output = run.workspace.join("output");
    let started = Instant::now();
    let leftover = loop {
        if let Some(temporary) = named(&output, ".cleope-tmp-").pop() {
            // SAFETY: signalling our own child, not yet reaped.
            unsafe { libc::kill(writer.id() as libc::pid_t, libc::SIGKILL) };
            break temporary;
        }
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "no temporary file appeared"
        );
        std::thread::sleep(Duration::from_micros(200));
    };
    let status = writer.wait().unwrap();
    assert!(!status.success(), "killed");
    assert!(leftover.exists(), "the killed write left {leftover:?}");
    let sessions = run.workspace.join(".cleope/sessions");
    let dead: Vec<_> = std::fs::read_dir(&sessions).unwrap().collect();
    assert_eq!(dead.len(), 1, "the killed session's lock file");

    let next = run.run(
        "let q = quota(); print(q.disk_used + \" \" + q.disk_entries_used);",
        Duration::from_secs(60),
    );
    assert_eq!(next.code, Some(0), "{}", next.output());
    assert!(!leftover.exists(), "the temporary was removed");
    assert!(named(&run.workspace, ".cleope-tmp-").is_empty());
    assert_eq!(std::fs::read_dir(&sessions).unwrap().count(), 0);
    let (bytes, entries) = workspace_footprint(&run.workspace);
    let (used, used_entries) = last_line(&next);
    eprintln!(
        "killed mid-write: the next start sees {used} bytes in {used_entries} entries; \
         measured here {bytes} bytes in {entries} entries"
    );
    assert_eq!(
        (
            used.parse::<u64>().unwrap(),
            used_entries.parse::<u64>().unwrap()
        ),
        (bytes, entries),
        "the killed session's reservation was given back"
    );
}

/// A session that starts while another is writing leaves the other's
/// temporary files alone: the writer never fails.
#[test]
fn a_live_sessions_temporaries_are_left_alone() {
    let run = Sandboxed::new();
    let writer = run.command(
        "writer.rhai",
        "let s = \"\"; s.pad(16000000, 'x');\n\
         let t = timestamp(); let n = 0;\n\
         while t.elapsed < 4.0 { write_text(\"output/big.bin\", s); n += 1; }\n\
         print(\"wrote \" + n);\n",
    );
    let writing = std::thread::spawn(move || run_measured(writer, Duration::from_secs(60)));
    let output = run.workspace.join("output");
    let mut starts = 0;
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(3) {
        if !named(&output, ".cleope-tmp-").is_empty() {
            let other = run.run("print(quota().disk_used);", Duration::from_secs(30));
            assert_eq!(other.code, Some(0), "{}", other.output());
            starts += 1;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let outcome = writing.join().unwrap();
    assert_eq!(outcome.code, Some(0), "{}", outcome.output());
    assert!(outcome.stdout.starts_with("wrote "), "{}", outcome.output());
    assert!(starts >= 2, "sessions started during the writes: {starts}");
}

/// Space freed outside cleope (the file browser, a terminal) is seen at
/// the next refusal, without restarting the session.
#[test]
fn space_freed_outside_cleope_is_seen_without_a_restart() {
    let outcome = on_script_thread(BOUND, || {
        let mut t = TestSession::new(|s| s.quota.disk = 100_000);
        let fill = "let s = \"\"; s.pad(20000, 'x'); let n = 0; \
                    try { loop { write_text(\"output/f\" + n, s); n += 1; } } catch (e) { } n";
        let written = t.run(fill).unwrap().as_int().unwrap();
        for n in 0..written {
            std::fs::remove_file(t.workspace().join(format!("output/f{n}"))).unwrap();
        }
        std::thread::sleep(Duration::from_millis(1100));
        let again = t.run(fill).map(|n| n.as_int().unwrap());
        (written, again)
    });
    let (written, again) = outcome;
    assert!(written >= 3, "{written}");
    assert_eq!(again.unwrap(), written, "the freed space is usable again");
}

/// Two sessions of one process on one workspace share the quota too; the
/// refused one keeps its variables.
#[test]
fn two_sessions_in_one_process_share_the_quota() {
    let message = on_script_thread(BOUND, || {
        let mut first = TestSession::new(|s| s.quota.disk = 100_000);
        let workspace = first.workspace();
        let mut second = TestSession::new(move |s| {
            s.workspace = workspace;
            s.quota.disk = 100_000;
        });
        first
            .exec("let s = \"\"; s.pad(60000, 'x'); write_text(\"output/first.bin\", s);")
            .expect("the first fits");
        refused_in_session(
            &mut second,
            "let s = \"\"; s.pad(60000, 'x'); write_text(\"output/second.bin\", s);",
            "DiskQuotaExceeded",
        )
    });
    assert!(message.contains("workspace"), "{message}");
}
