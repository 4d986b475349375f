"""Builds crates/eo/src/plot/basemap/ne-{10m,50m,110m}.bin.gz, the coastlines and
country borders cleope draws on maps, from Natural Earth 1:10m, 1:50m and
1:110m (public domain) as packaged in the npm package world-atlas 2.0.2
(TopoJSON quantised to 1e5 steps: 0.0036 deg of longitude, ISC licence).

    cd /tmp && npm pack world-atlas@2.0.2 && tar xzf world-atlas-2.0.2.tgz
    for scale in 10m 50m 110m; do
        python3 scripts/make_basemap.py /tmp/package/countries-$scale.json \
            crates/eo/src/plot/basemap/ne-$scale.bin.gz
    done

Arcs used by one country are coastline, arcs shared by two are borders.
Format (little endian): b"CLBM1", f64 scale x, scale y, translate x,
translate y, u32 line count; per line: u8 kind (0 coast, 1 border), u32
point count, then the TopoJSON quantized deltas as zigzag varints (x, y).
"""
import gzip
import json
import struct
import sys
from collections import Counter


def varint(value):
    value = (value << 1) ^ (value >> 63)  # zigzag
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def arc_indices(geometry):
    kind = geometry["type"]
    if kind == "Polygon":
        rings = geometry["arcs"]
    elif kind == "MultiPolygon":
        rings = [ring for polygon in geometry["arcs"] for ring in polygon]
    else:
        return []
    return [i if i >= 0 else ~i for ring in rings for i in ring]


def main(source, target):
    topology = json.load(open(source))
    transform = topology["transform"]
    countries = topology["objects"]["countries"]["geometries"]
    usage = Counter()
    for country in countries:
        for arc in set(arc_indices(country)):
            usage[arc] += 1
    out = bytearray(b"CLBM1")
    out += struct.pack("<4d", *transform["scale"], *transform["translate"])
    arcs = topology["arcs"]
    out += struct.pack("<I", len(arcs))
    for index, arc in enumerate(arcs):
        kind = 1 if usage[index] >= 2 else 0
        out += struct.pack("<BI", kind, len(arc))
        for dx, dy in arc:
            out += varint(dx) + varint(dy)
    # gzip with a fixed mtime, so the same data gives the same bytes.
    with open(target, "wb") as file:
        with gzip.GzipFile(fileobj=file, mode="wb", compresslevel=9, mtime=0) as packed:
            packed.write(out)
    print(f"{len(arcs)} lines, {sum(len(a) for a in arcs)} points, {len(out)} bytes before gzip")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
