#!/usr/bin/env bash
# Runtime benchmarks: cleope (release build) and the Python stack side by side,
# each workload run REPEAT times; prints median wall time and peak RSS.
#
#   bench/run.sh            # all workloads
#   REPEAT=5 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
cargo build --release --quiet
cleope=target/release/cleope
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
# The Python side gets numpy in its own venv (built once, kept under target/).
venv=target/bench-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv" || { echo "bench: python3 -m venv failed (apt-get install python3-venv)" >&2; exit 1; }
    "$venv/bin/pip" install --quiet numpy rasterio
fi
python=$PWD/$venv/bin/python
# Sentinel-2-sized test bands, written once (about 1 minute) and kept.
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

echo "| workload | cleope s | cleope MiB | python s | python MiB |"
echo "| --- | ---: | ---: | ---: | ---: |"
for template in bench/workloads/*.rhai; do
    name=$(basename "$template" .rhai)
    script="$workdir/$name.rhai"
    sed "s|@DATA@|$data|g" "$template" >"$script"
    read -r rs rm <<<"$(median_of "$cleope" run "$script" --workspace "$workdir/ws" --archive "$data")"
    py="bench/workloads/$name.py"
    read -r ps pm <<<"$(cd "$workdir" && median_of "$python" "$OLDPWD/$py" "$data")"
    echo "| $name | $rs | $rm | $ps | $pm |"
done
