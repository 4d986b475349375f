//! Every folder says what its files are: a README.md with a table that
//! names each file and subfolder (one line each), so that a new engineer
//! reads the tree from its READMEs. A file added without its line fails here.

use std::path::{Path, PathBuf};

/// The trees whose folders must each have a README table.
const TREES: &[&str] = &[
    "src",
    "crates",
    "tests",
    "stdlib",
    "modules",
    "tutorials",
    "docs",
    "bench",
    "scripts",
];

/// Folders of generated assets, described by the README above them.
const ASSETS: &[&str] = &[
    "docs/figures",
    "src/kernel/labextension/prebuilt",
    "src/kernel/labextension/prebuilt/static",
];

fn folders(root: &Path, tree: &str) -> Vec<PathBuf> {
    walkdir::WalkDir::new(root.join(tree))
        .into_iter()
        .filter_map(Result::ok)
        .filter(|entry| entry.file_type().is_dir())
        .map(|entry| entry.into_path())
        .filter(|folder| {
            let relative = folder.strip_prefix(root).unwrap();
            !ASSETS.iter().any(|asset| relative == Path::new(asset))
                && !relative
                    .components()
                    .any(|c| c.as_os_str() == "__pycache__")
        })
        .collect()
}

/// True when the README names `entry` in backticks: `name`, `name/`, or a
/// file's stem (modules are imported by their stem).
fn names(readme: &str, entry: &Path) -> bool {
    let name = entry.file_name().unwrap().to_string_lossy();
    let stem = entry.file_stem().unwrap().to_string_lossy();
    let spellings = if entry.is_dir() {
        vec![format!("`{name}/`"), format!("`{name}`")]
    } else {
        vec![format!("`{name}`"), format!("`{stem}`")]
    };
    spellings
        .iter()
        .any(|spelling| readme.contains(spelling.as_str()))
}

#[test]
fn every_folder_has_a_readme_naming_each_of_its_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut missing = Vec::new();
    for folder in TREES.iter().flat_map(|tree| folders(root, tree)) {
        let relative = folder.strip_prefix(root).unwrap().display().to_string();
        let Ok(readme) = std::fs::read_to_string(folder.join("README.md")) else {
            missing.push(format!("{relative}/ has no README.md"));
            continue;
        };
        for entry in std::fs::read_dir(&folder).unwrap() {
            let entry = entry.unwrap().path();
            let name = entry.file_name().unwrap().to_string_lossy().into_owned();
            if name == "README.md" || name == "__pycache__" || name.starts_with('.') {
                continue;
            }
            if !names(&readme, &entry) {
                missing.push(format!("{relative}/README.md does not name `{name}`"));
            }
        }
    }
    assert!(
        missing.is_empty(),
        "add a line for each to the folder's README table:\n{}",
        missing.join("\n")
    );
}

/// The names in the first cells of a README's table of files (the table
/// whose header is `| file |`, `| path |` or `| crate |`).
fn table_names(readme: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut in_table = false;
    for line in readme.lines() {
        let header = ["| file |", "| path |", "| crate |"]
            .iter()
            .any(|h| line.starts_with(h));
        if header {
            in_table = true;
            continue;
        }
        if !line.starts_with('|') {
            in_table = false;
            continue;
        }
        if !in_table || line.starts_with("| ---") {
            continue;
        }
        let first_cell = line.split('|').nth(1).unwrap_or_default();
        names.extend(
            first_cell
                .split('`')
                .skip(1)
                .step_by(2)
                .map(|name| name.trim_end_matches('/').to_string()),
        );
    }
    names
}

#[test]
fn no_readme_names_a_file_its_folder_no_longer_has() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut stale = Vec::new();
    for folder in TREES.iter().flat_map(|tree| folders(root, tree)) {
        let Ok(readme) = std::fs::read_to_string(folder.join("README.md")) else {
            continue;
        };
        for name in table_names(&readme) {
            if !folder.join(&name).exists() {
                let relative = folder.strip_prefix(root).unwrap().display();
                stale.push(format!("{relative}/README.md names `{name}`"));
            }
        }
    }
    assert!(
        stale.is_empty(),
        "remove the line, or name the file as it is now called:\n{}",
        stale.join("\n")
    );
}
