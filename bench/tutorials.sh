#!/usr/bin/env bash
# The tutorial suite as students run it: generates the demo archive once
# (timed, with its size), then runs every tutorial with `cleope run` under the
# default quota (2 GiB, 2 CPUs) and reports each one's wall time and peak RSS,
# and the whole suite's wall time.
#
#   bench/tutorials.sh
#
# Targets (issues 3 and 6): archive < 300 MB generated in < 2 min; every
# tutorial under 2 GiB; the whole suite under 3 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
cleope=$PWD/target/release/cleope
archive=$PWD/target/bench-demo-archive
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT

rm -rf "$archive"
/usr/bin/time -f "%e %M" -o "$workdir/time" "$cleope" demo-archive "$archive" >/dev/null
read -r seconds kib <"$workdir/time"
megabytes=$(du -sm "$archive" | cut -f1)
products=$(grep -c '"id":' "$archive/index.json")
echo "demo archive: $products products, $megabytes MB, generated in $seconds s (peak RSS $((kib / 1024)) MiB)"
echo
echo "| tutorial | wall s | peak RSS MiB | exit |"
echo "| --- | ---: | ---: | ---: |"
suite_started=$(date +%s.%N)
worst_rss=0
failures=0
while IFS= read -r tutorial; do
    workspace="$workdir/workspace-$(basename "$tutorial" .rhai)"
    status=0
    /usr/bin/time -f "%e %M" -o "$workdir/time" \
        env CLEOPE_DEMO_ARCHIVE="$archive" "$cleope" run "$tutorial" --workspace "$workspace" \
        >"$workdir/out" 2>&1 || status=$?
    read -r seconds kib < <(tail -n 1 "$workdir/time")
    rss=$((kib / 1024))
    if [ "$rss" -gt "$worst_rss" ]; then worst_rss=$rss; fi
    if [ "$status" -ne 0 ]; then failures=$((failures + 1)); fi
    echo "| ${tutorial#tutorials/} | $seconds | $rss | $status |"
done < <(find tutorials -name '*.rhai' | sort)
suite_seconds=$(awk -v a="$suite_started" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')
echo
printf 'whole suite: %.1f s; largest peak RSS %d MiB; %d failed\n' "$suite_seconds" "$worst_rss" "$failures"
