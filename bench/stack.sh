#!/usr/bin/env bash
# The composite benchmark: 10 dates of a full Sentinel-2 tile, masked per
# date with SCL-like classes, median and 25th percentile written as GeoTIFFs.
# cleope (release build) beside xarray + dask (PyPI, pinned in
# bench/requirements-dask.txt, installed into target/bench-dask-venv), runs
# interleaved; then numpy whole-band, limited to 2 GiB of address space
# (prlimit --as) like the Free tier, which it cannot fit. Prints the median
# wall time and peak RSS of REPEAT runs each, and checks that cleope's files
# equal dask's.
#
#   bench/stack.sh
#   REPEAT=5 bench/stack.sh
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-3}
scripts/setup.sh bench >/dev/null
cargo build --release --quiet -p cleope
cleope=$PWD/target/release/cleope
python=/usr/bin/python3
venv=$PWD/target/bench-dask-venv
[ -x "$venv/bin/python" ] || "$python" -m venv "$venv"
"$venv/bin/pip" install --quiet -r bench/requirements-dask.txt
data=$PWD/target/bench-data
# 10 dates of a band and of the SCL classes, written once (a few minutes) and kept.
"$python" bench/make_s2_stack.py "$data" >/dev/null
workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
sed "s|@DATA@|$data|g" bench/workloads/composite.rhai >"$workdir/composite.rhai"
mkdir -p "$workdir/dask" "$workdir/numpy"

# run NAME CMD...: one timed run, appending "seconds kib" to $workdir/NAME.
run() {
    local name=$1; shift
    /usr/bin/time -f "%e %M" -o "$workdir/time" "$@" >/dev/null 2>"$workdir/err" || {
        cat "$workdir/err" >&2; return 1; }
    cat "$workdir/time" >>"$workdir/$name"
}
median() {
    sort -n "$workdir/$1" | awk -v n="$REPEAT" 'NR == int((n + 1) / 2) { printf "%.2f s, %.0f MiB", $1, $2 / 1024 }'
}
echo "load before: $(cut -d' ' -f1-3 /proc/loadavg)"
for _ in $(seq "$REPEAT"); do
    run cleope "$cleope" run "$workdir/composite.rhai" --workspace "$workdir/ws" --archive "$data"
    (cd "$workdir/dask" && run dask "$venv/bin/python" "$OLDPWD/bench/workloads/composite_dask.py" "$data")
done
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "cleope: $(median cleope)"
echo "xarray + dask: $(median dask)"
for name in median p25; do
    echo "$name.tif, cleope vs dask: $("$venv/bin/python" bench/compare_rasters.py "$workdir/ws/output/$name.tif" "$workdir/dask/$name.tif")"
done
# numpy with whole bands, inside 2 GiB of address space: how far it gets.
if (cd "$workdir/numpy" && /usr/bin/time -f "%e %M" -o "$workdir/time" \
        prlimit --as=$((2 << 30)) "$python" "$OLDPWD/bench/workloads/composite_numpy.py" "$data" \
        >/dev/null 2>"$workdir/err"); then
    echo "numpy in 2 GiB: finished, $(awk '{ printf "%.2f s, %.0f MiB", $1, $2 / 1024 }' "$workdir/time")"
else
    echo "numpy in 2 GiB: failed after $(grep -c loaded "$workdir/err") of 10 dates:" \
        "$(grep -v loaded "$workdir/err" | tail -1); peak $(tail -1 "$workdir/time" | awk '{ printf "%.0f MiB after %.2f s", $2 / 1024, $1 }')"
fi
