#!/usr/bin/env bash
# The local catalogue at scale: index 10,000 synthetic products (target < 10 s) and answer a
# filtered query (mission, type, dates, area, cloud cover) in both dialects (target p50 < 50 ms).
#
#   bench/catalogue.sh [PRODUCTS] [REQUESTS]      (defaults: 10000 products, 200 requests)
#
# The index is written by Python (no product files: searching reads only index.json); the
# server is the release binary's `cleope catalogue serve`; the queries are timed from Python
# over HTTP on loopback, so each figure is a whole round trip.
set -euo pipefail
cd "$(dirname "$0")/.."

PRODUCTS="${1:-10000}"
REQUESTS="${2:-200}"
WORK="target/bench-catalogue"
mkdir -p "$WORK"

cargo build --release --quiet
BIN="target/release/cleope"

python3 - "$WORK/archive" "$PRODUCTS" <<'PY'
import json, os, random, sys, uuid
from datetime import datetime, timedelta, timezone

root, count = sys.argv[1], int(sys.argv[2])
os.makedirs(root, exist_ok=True)
rng = random.Random(20200601)
kinds = [
    ("Sentinel-1", "SENTINEL-1", "IW_GRDH_1S", "RADAR/LEVEL-1", "S1A_IW_GRDH_1SDV", ".SAFE"),
    ("Sentinel-2", "SENTINEL-2", "S2MSI2A", "OPTICAL/LEVEL-2A", "S2A_MSIL2A", ".SAFE"),
    ("Sentinel-2", "SENTINEL-2", "S2MSI1C", "OPTICAL/LEVEL-1C", "S2B_MSIL1C", ".SAFE"),
    ("Sentinel-3", "SENTINEL-3", "OL_2_WFR___", "OPTICAL/LEVEL-2", "S3A_OL_2_WFR____", ".SEN3"),
    ("Sentinel-5 Precursor", "SENTINEL-5P", "L2__NO2___", "ATMOSPHERIC/LEVEL-2", "S5P_OFFL_L2__NO2____", ".nc"),
]
start = datetime(2020, 1, 1, tzinfo=timezone.utc)
products = []
for i in range(count):
    mission, collection, ptype, pseudo, prefix, ext = kinds[i % len(kinds)]
    begin = start + timedelta(seconds=rng.randrange(366 * 86400))
    end = begin + timedelta(seconds=25)
    lon, lat = rng.uniform(-10, 35), rng.uniform(35, 60)
    skew = rng.uniform(-0.2, 0.2)
    ring = [(lon, lat), (lon + 1, lat + skew), (lon + 1 + skew, lat + 1), (lon + skew, lat + 1), (lon, lat)]
    stamp = begin.strftime("%Y%m%dT%H%M%S")
    name = f"{prefix}_{stamp}_N0214_R{i % 143:03d}_X{i:05d}"
    day = begin.strftime("%Y/%m/%d")
    fmt = lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"
    attributes = {"cloudCover": round(rng.uniform(0, 100), 2)} if mission == "Sentinel-2" else {}
    products.append({
        "id": str(uuid.uuid5(uuid.NAMESPACE_URL, name)),
        "name": name + ".zip", "cdse_name": name + ext,
        "mission": mission, "collection": collection, "product_type": ptype, "main_class": None,
        "begin": fmt(begin), "end": fmt(end),
        "footprint": "POLYGON ((" + ", ".join(f"{x:.5f} {y:.5f}" for x, y in ring) + "))",
        "pseudopath": f"{pseudo}/{day}", "s3_path": f"/eodata/{mission}/{day}/{name}{ext}",
        "online": i % 10 != 0, "packing": "zip", "size": 1000 + i,
        "md5": "0" * 32, "blake3": "0" * 64, "attributes": attributes,
    })
with open(os.path.join(root, "index.json"), "w") as f:
    json.dump({"version": 1, "products": products}, f)
PY

LOG="$WORK/serve.log"
started=$(date +%s.%N)
"$BIN" catalogue serve --archive "$WORK/archive" --addr 127.0.0.1:0 >"$LOG" 2>&1 &
SERVER=$!
trap 'kill -INT $SERVER 2>/dev/null || true; wait $SERVER 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
    grep -q "ONDA catalogue" "$LOG" && break
    sleep 0.05
done
ready=$(date +%s.%N)
grep -q "ONDA catalogue" "$LOG" || { cat "$LOG"; echo "the catalogue did not start" >&2; exit 1; }
ONDA=$(awk '/ONDA catalogue/ {print $3}' "$LOG")
CDSE=$(awk '/CDSE catalogue/ {print $3}' "$LOG")
INDEXED=$(head -n 1 "$LOG")

python3 - "$ONDA" "$CDSE" "$REQUESTS" "$INDEXED" "$started" "$ready" <<'PY'
import json, statistics, sys, time, urllib.parse, urllib.request

onda, cdse, requests, indexed, started, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5]), float(sys.argv[6])
polygon = "POLYGON((6 36,19 36,19 47,6 47,6 36))"
search = ('"( platformName:Sentinel-2 AND productType:S2MSI2A ) AND '
          '( beginPosition:[2020-06-01T00:00:00.000Z TO 2020-08-31T23:59:59.999Z] AND '
          'endPosition:[2020-06-01T00:00:00.000Z TO 2020-08-31T23:59:59.999Z] ) AND '
          f'cloudCoverPercentage:[0 TO 30] AND footprint:"Intersects({polygon})""')
flt = ("Collection/Name eq 'SENTINEL-2' and Attributes/OData.CSC.StringAttribute/any(att:att/Name eq 'productType' "
       "and att/OData.CSC.StringAttribute/Value eq 'S2MSI2A') and ContentDate/Start ge 2020-06-01T00:00:00.000Z and "
       "ContentDate/End le 2020-08-31T23:59:59.999Z and "
       f"OData.CSC.Intersects(area=geography'SRID=4326;{polygon}') and "
       "Attributes/OData.CSC.DoubleAttribute/any(att:att/Name eq 'cloudCover' and att/OData.CSC.DoubleAttribute/Value le 30.0)")
q = urllib.parse.quote
cases = {
    "ONDA filtered search (page of 100)": f"{onda}/Products?$search={q(search)}&$top=100&$skip=0&$format=json&$orderby=beginPosition%20asc",
    "ONDA filtered $count": f"{onda}/Products/$count?$search={q(search)}",
    "CDSE filtered search (page of 100, $count, attributes)": f"{cdse}/Products?$filter={q(flt)}&$orderby=ContentDate/Start%20asc&$top=100&$skip=0&$count=true&$expand=Attributes",
    "CDSE unfiltered page ($top=1000)": f"{cdse}/Products?$top=1000&$count=true",
}
print(indexed)
print(f"catalogue ready {ready - started:.2f} s after start (index, SQLite, listeners)")
for label, url in cases.items():
    times, size = [], None
    for _ in range(requests):
        t0 = time.perf_counter()
        body = urllib.request.urlopen(url).read()
        times.append((time.perf_counter() - t0) * 1000)
        size = body
    try:
        answer = json.loads(size)
        found = answer.get("@odata.count", len(answer["value"])) if isinstance(answer, dict) else answer
    except ValueError:
        found = size.decode()
    times.sort()
    p50, p95 = statistics.median(times), times[int(len(times) * 0.95) - 1]
    print(f"{label}: {found} results, p50 {p50:.1f} ms, p95 {p95:.1f} ms ({requests} requests)")
PY
