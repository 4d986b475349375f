//! The layers as the build sees them: each crate of the workspace may
//! depend only on the crates below it (crates/README.md). A crate cannot
//! name one that depends on it, so a cycle does not compile; this test also
//! refuses the edges that would compile but cross the layers sideways or
//! skip the table (the catalogue reaching for the demo generator, say).

use std::collections::BTreeMap;
use std::path::Path;

/// Each crate of the workspace and the workspace crates it may depend on
/// (normal dependencies; dev-dependencies in the second list).
const LAYERS: &[(&str, &[&str], &[&str])] = &[
    ("cleope-sandbox", &[], &[]),
    ("cleope-eo", &["cleope-sandbox"], &["cleope-demo"]),
    ("cleope-demo", &["cleope-eo"], &[]),
    ("cleope-catalogue", &["cleope-eo"], &[]),
    (
        "cleope",
        &[
            "cleope-catalogue",
            "cleope-demo",
            "cleope-eo",
            "cleope-sandbox",
        ],
        &[],
    ),
];

/// The workspace crates a manifest's `table` names.
fn workspace_crates(manifest: &toml::Table, table: &str) -> Vec<String> {
    let mut names: Vec<String> = manifest
        .get(table)
        .and_then(toml::Value::as_table)
        .map(|deps| {
            deps.keys()
                .filter(|name| name.starts_with("cleope"))
                .cloned()
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

fn manifests() -> BTreeMap<String, toml::Table> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths = vec![root.join("Cargo.toml")];
    for entry in std::fs::read_dir(root.join("crates")).unwrap() {
        let manifest = entry.unwrap().path().join("Cargo.toml");
        if manifest.is_file() {
            paths.push(manifest);
        }
    }
    paths
        .into_iter()
        .map(|path| {
            let manifest: toml::Table = std::fs::read_to_string(&path).unwrap().parse().unwrap();
            let name = manifest["package"]["name"].as_str().unwrap().to_string();
            (name, manifest)
        })
        .collect()
}

#[test]
fn every_crate_depends_only_on_the_layers_below_it() {
    let manifests = manifests();
    let listed: Vec<&str> = LAYERS.iter().map(|(name, _, _)| *name).collect();
    let found: Vec<&str> = manifests.keys().map(String::as_str).collect();
    let mut listed_sorted = listed.clone();
    listed_sorted.sort();
    assert_eq!(
        found, listed_sorted,
        "a crate was added or removed: give it its row in LAYERS and in crates/README.md"
    );
    for (name, below, dev) in LAYERS {
        let manifest = &manifests[*name];
        assert_eq!(
            workspace_crates(manifest, "dependencies"),
            below.to_vec(),
            "{name}'s dependencies cross the layers (crates/README.md)"
        );
        assert_eq!(
            workspace_crates(manifest, "dev-dependencies"),
            dev.to_vec(),
            "{name}'s dev-dependencies cross the layers (crates/README.md)"
        );
    }
}
