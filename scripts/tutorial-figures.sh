#!/usr/bin/env bash
# Refreshes docs/figures/: runs every tutorial (release build, embedded demo
# archive) and keeps the first figure it saves (the first
# `.save("output/….png")` in the script, else the first figure it showed,
# output/figures/figure-01-…), shrunk to 900 px wide, as
# docs/figures/<folder>-<tutorial>.png, the picture docs/tutorials.md shows.
#
#   scripts/tutorial-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cleope=$PWD/target/release/cleope
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
mkdir -p docs/figures
while IFS= read -r tutorial; do
    folder=$(basename "$(dirname "$tutorial")")
    name=$(basename "$tutorial" .rhai)
    workspace="$workdir/$folder-$name"
    "$cleope" run "$tutorial" --workspace "$workspace" >/dev/null
    figure=$(grep -o 'save("output/[^"]*\.png")' "$tutorial" | head -n 1 | sed 's/^save("//; s/")$//')
    if [ -z "$figure" ]; then
        figure=$(cd "$workspace" && find output/figures -name 'figure-01-*.png' 2>/dev/null | head -n 1)
    fi
    if [ -z "$figure" ]; then
        echo "skipped $tutorial: it shows no figure"
        continue
    fi
    gdal_translate -q -of PNG -outsize 900 0 "$workspace/$figure" "docs/figures/$folder-$name.png"
    rm -f "docs/figures/$folder-$name.png.aux.xml"
    echo "docs/figures/$folder-$name.png  <- $figure"
done < <(find tutorials -mindepth 2 -name '*.rhai' | sort)
