#!/usr/bin/env bash
# Refreshes docs/figures/: runs every tutorial (release build, embedded demo
# archive) and keeps one figure of it (the telling one named below, else the
# first `.save("output/….png")` in the script, else the first figure it
# showed, output/figures/figure-01-…), shrunk to 900 px wide, as
# docs/figures/<folder>-<tutorial>.png, the picture docs/tutorials.md shows,
# then docs/figures/contact-sheet.png, all of them on one page for review.
#
#   scripts/tutorial-figures.sh            # release build
#   CLEOPE_BIN=target/debug/cleope scripts/tutorial-figures.sh
set -euo pipefail
cd "$(dirname "$0")/.."
if [ -n "${CLEOPE_BIN:-}" ]; then
    cleope=$(realpath "$CLEOPE_BIN")
else
    cargo build --release --quiet
    cleope=$PWD/target/release/cleope
fi
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
mkdir -p docs/figures
# Where a tutorial's first figure is only its starting point (a true-colour
# view before the index that shows the result), the telling one instead.
declare -A telling=(
    [sentinel1-lulc]=output/s1_lulc_rgb.png
    [sentinel2-fires]=output/s2_fires_dnbr.png
    [sentinel2-oil]=output/s2_oil_slick.png
    [sentinel2-plastic]=output/s2_plastic_fdi.png
    [sentinel2-snow]=output/s2_snow_map.png
    [sentinel3-slstr_fire]=output/slstr_anomalies.png
    [services-cams_composition]=output/cams_co_australia.png
    [services-cgls_dmp]=output/dmp_sardinia.png
    [services-cmems_medsea]=output/medsea_warming.png
)
while IFS= read -r tutorial; do
    folder=$(basename "$(dirname "$tutorial")")
    name=$(basename "$tutorial" .rhai)
    workspace="$workdir/$folder-$name"
    "$cleope" run "$tutorial" --workspace "$workspace" >/dev/null
    figure=${telling[$folder-$name]:-}
    if [ -z "$figure" ]; then
        figure=$(grep -o 'save("output/[^"]*\.png")' "$tutorial" | head -n 1 | sed 's/^save("//; s/")$//' || true)
    fi
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
/usr/bin/python3 scripts/contact-sheet.py docs/figures docs/figures/contact-sheet.png
