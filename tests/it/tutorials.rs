//! Every tutorial runs end to end with `cleope run` under the default quota
//! and prints its key results.

use crate::common;
use std::path::Path;

/// `tutorials/<relative>`'s standard output.
fn run_tutorial(relative: &str) -> String {
    common::tutorial::run_tutorial(relative).stdout
}

#[test]
fn welcome_runs_and_shows_files_and_quota() {
    let out = run_tutorial("welcome.rhai");
    assert!(
        out.contains("The oldest mission here is Sentinel-1, launched in 2014."),
        "{out}"
    );
    assert!(
        out.contains("output/missions.csv has 4 rows; Sentinel-2 revisits every 5 days."),
        "{out}"
    );
    assert!(
        out.contains("The error was MemoryQuotaExceeded, and the missions are still here: 4."),
        "{out}"
    );
    // The last cell finds and opens a product of the embedded default: the
    // demo archive through the local catalogue.
    assert!(
        out.contains("Opened tile 30SVG from the archive: 1 product(s) in July 2020."),
        "{out}"
    );
    assert!(out.contains("true-colour-b04-b03-b02.png"), "{out}");
}

/// docs/tutorials.md names every tutorial script, and each one's figure
/// (written by scripts/tutorial-figures.sh) is in docs/figures/.
#[test]
fn the_tutorial_index_lists_every_tutorial_with_its_figure() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let index = std::fs::read_to_string(root.join("docs/tutorials.md")).unwrap();
    let folders = std::fs::read_dir(root.join("tutorials")).unwrap();
    let mut listed = 0;
    for folder in folders.map(|entry| entry.unwrap().path()) {
        if !folder.is_dir() {
            continue;
        }
        let folder_name = folder.file_name().unwrap().to_string_lossy().into_owned();
        for script in std::fs::read_dir(&folder).unwrap() {
            let script = script.unwrap().path();
            if script
                .extension()
                .is_none_or(|extension| extension != "rhai")
            {
                continue; // the folder's README
            }
            let name = script.file_stem().unwrap().to_string_lossy().into_owned();
            let path = format!("tutorials/{folder_name}/{name}.rhai");
            assert!(
                index.contains(&path),
                "docs/tutorials.md does not list {path}"
            );
            let figure = format!("figures/{folder_name}-{name}.png");
            assert!(
                index.contains(&format!("]({figure})"))
                    && root.join("docs").join(&figure).is_file(),
                "docs/tutorials.md lacks {figure}: run scripts/tutorial-figures.sh"
            );
            listed += 1;
        }
    }
    assert_eq!(listed, 20, "CLEOPE had 20 notebooks");
}

/// The longest line a tutorial or module may have: wider lines scroll
/// sideways in JupyterLab and wrap in a terminal.
const MAX_LINE_CHARS: usize = 100;

/// The `.rhai` files directly in `folder`.
fn rhai_files(folder: &Path) -> Vec<std::path::PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(folder)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            path.extension()
                .is_some_and(|extension| extension == "rhai")
        })
        .collect();
    files.sort();
    files
}

/// Every `file:line (N characters)` of `files` longer than [`MAX_LINE_CHARS`].
fn long_lines(root: &Path, files: &[std::path::PathBuf]) -> Vec<String> {
    let mut found = Vec::new();
    for file in files {
        let text = std::fs::read_to_string(file).unwrap();
        let name = file.strip_prefix(root).unwrap().display();
        for (number, line) in text.lines().enumerate() {
            let chars = line.chars().count();
            if chars > MAX_LINE_CHARS {
                found.push(format!("{name}:{} ({chars} characters)", number + 1));
            }
        }
    }
    found
}

#[test]
fn tutorials_and_modules_keep_lines_within_100_characters() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = rhai_files(&root.join("tutorials"));
    for folder in std::fs::read_dir(root.join("tutorials")).unwrap() {
        let folder = folder.unwrap().path();
        if folder.is_dir() {
            files.extend(rhai_files(&folder));
        }
    }
    files.extend(rhai_files(&root.join("modules")));
    assert!(files.len() >= 31, "found only {} scripts", files.len());
    let long = long_lines(root, &files);
    assert!(
        long.is_empty(),
        "lines longer than {MAX_LINE_CHARS} characters (wrap them):\n{}",
        long.join("\n")
    );
}
