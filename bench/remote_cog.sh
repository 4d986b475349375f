#!/usr/bin/env bash
# A 512 x 512 window of a 10980 x 10980 COG served on loopback by a range
# server (bench/remote/range_server.py): cleope's /vsicleope/ reads through
# its own HTTP client, beside GDAL's /vsicurl/ (Debian's python3-gdal) with
# its defaults and with GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR (the setting
# that makes /vsicurl/ skip its directory listing and sidecar probes).
# Requests are counted from the server's log; times are medians of REPEAT
# interleaved runs of each whole program (start-up included).
#
#   bench/remote_cog.sh            # REPEAT=5
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT=${REPEAT:-5}
scripts/setup.sh bench >/dev/null
cargo build --release --quiet
cleope=$PWD/target/release/cleope
python=/usr/bin/python3
data=$PWD/target/bench-data
"$python" bench/make_s2_pair.py "$data" >/dev/null
cog=$data/B04_cog.tif
[ -f "$cog" ] || gdal_translate -q -of COG -co BLOCKSIZE=512 -co COMPRESS=DEFLATE "$data/B04.tif" "$cog"
workdir=$(mktemp -d)
port=$((20000 + RANDOM % 20000))
"$python" bench/remote/range_server.py "$data" "$port" "$workdir/log" &
server=$!
trap 'kill $server; rm -rf "$workdir"' EXIT
sleep 0.5
url="http://127.0.0.1:$port/B04_cog.tif"

# run LABEL CMD...: one run; appends "LABEL seconds requests bytes" to results.
run() {
    local label=$1; shift
    : >"$workdir/log"
    /usr/bin/time -f "%e" -o "$workdir/time" "$@" >"$workdir/out" 2>"$workdir/err" || {
        cat "$workdir/err" >&2; return 1; }
    local requests bytes
    requests=$(wc -l <"$workdir/log")
    bytes=$(awk '$3 ~ /^bytes=/ { split(substr($3, 7), r, "-"); n += r[2] - r[1] + 1 } END { print n + 0 }' "$workdir/log")
    echo "$label $(cat "$workdir/time") $requests $bytes" >>"$workdir/results"
}

for window in "4096 4096" "4000 4000"; do
    read -r col row <<<"$window"
    sed -e "s|@URL@|$url|" -e "s|@COL@|$col.0|" -e "s|@ROW@|$row.0|" bench/remote/window.rhai >"$workdir/window.rhai"
    for _ in $(seq "$REPEAT"); do
        run "cleope@$col" "$cleope" run "$workdir/window.rhai" --workspace "$workdir/ws" --allow-net "127.0.0.1:$port"
        run "vsicurl@$col" "$python" bench/remote/window.py "$url" "$col" "$row"
        run "vsicurl-empty-dir@$col" env GDAL_DISABLE_READDIR_ON_OPEN=EMPTY_DIR "$python" bench/remote/window.py "$url" "$col" "$row"
    done
done
echo "| reader | window at | median s | requests | bytes fetched |"
echo "| --- | --- | ---: | ---: | ---: |"
sort -k1,1 -k2,2n "$workdir/results" | awk -v n="$REPEAT" '
    { count[$1]++; if (count[$1] == int((n + 1) / 2)) { split($1, p, "@"); printf "| %s | %s | %.3f | %d | %d |\n", p[1], p[2], $2, $3, $4 } }'
