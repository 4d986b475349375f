#!/usr/bin/env bash
# Benchmarks: cleope (release build) and the Python stack side by side, in
# one run, on the same files and machine. Each workload runs REPEAT times;
# the table gives the median wall time, the peak RSS, and cleope / Python.
#
#   bench/run.sh            # all workloads
#   REPEAT=5 bench/run.sh
#
# Python is Debian's: python3 with python3-gdal, python3-numpy and
# python3-scipy (installed by `scripts/setup.sh bench`).
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
scripts/setup.sh bench >/dev/null
cargo build --release --quiet
cleope=$PWD/target/release/cleope
python=/usr/bin/python3
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# Sentinel-2-sized test bands, written once (about 20 seconds) and kept.
data=$PWD/target/bench-data
"$python" bench/make_s2_pair.py "$data" >/dev/null

# median_of CMD...: runs CMD REPEAT times, prints "median_seconds peak_rss_mib".
median_of() {
    local runs=()
    for _ in $(seq "$REPEAT"); do
        /usr/bin/time -f "%e %M" -o "$workdir/time" "$@" >/dev/null 2>"$workdir/err" || {
            cat "$workdir/err" >&2; return 1; }
        runs+=("$(cat "$workdir/time")")
    done
    printf '%s\n' "${runs[@]}" | sort -n | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { printf "%.3f %.1f", $1, $2 / 1024 }'
}

echo "| workload | cleope s | cleope MiB | python s | python MiB | time ratio | memory ratio |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
for template in bench/workloads/*.rhai; do
    name=$(basename "$template" .rhai)
    # Workloads with their own runner (composite: bench/stack.sh) have no plain .py twin.
    [ -f "bench/workloads/$name.py" ] || continue
    script="$workdir/$name.rhai"
    sed "s|@DATA@|$data|g" "$template" >"$script"
    read -r rs rm <<<"$(median_of "$cleope" run "$script" --workspace "$workdir/ws" --archive "$data")"
    read -r ps pm <<<"$(cd "$workdir" && median_of "$python" "$OLDPWD/bench/workloads/$name.py" "$data")"
    ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
    echo "| $name | $rs | $rm | $ps | $pm | $(ratio "$rs" "$ps") | $(ratio "$rm" "$pm") |"
done
