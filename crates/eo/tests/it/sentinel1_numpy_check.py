#!/usr/bin/python3
"""Independent check of cleope's Sentinel-1 calibration with numpy and GDAL.

Reads a GRD product (SAFE folder or zip), computes sigma0 (optionally with
the thermal noise removed) over the whole measurement with numpy from the
calibration and noise annotation (ElementTree, np.interp), writes it with
the measurement's GCPs, warps it with GDAL onto the same lon/lat box as
cleope's s1_clip (bilinear, ~10 m pixels), and compares, in dB, with a
GeoTIFF cleope saved from `s1_clip(p, pol, area, #{ calibration: "sigma0" })`.

    /usr/bin/python3 sentinel1_numpy_check.py PRODUCT POL LON0 LAT0 LON1 LAT1 CLEOPE.tif [noise]
"""
import math
import os
import sys
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
from osgeo import gdal


def members(product):
    if os.path.isfile(product) and product.endswith(".zip"):
        archive = zipfile.ZipFile(product)
        names = archive.namelist()
        return names, lambda n: archive.read(n), lambda n: f"/vsizip/{product}/{n}"
    names = [os.path.relpath(os.path.join(d, f), product) for d, _, fs in os.walk(product) for f in fs]
    return names, lambda n: open(os.path.join(product, n), "rb").read(), lambda n: os.path.join(product, n)


def numbers(element, tag):
    return np.array([float(v) for v in element.find(tag).text.split()])


def bilinear(vectors, width, height):
    """vectors: [(line, pixels, values)] -> (height, width) array, edges held."""
    vectors.sort(key=lambda v: v[0])
    columns = np.arange(width, dtype=np.float64)
    along = np.stack([np.interp(columns, p, v) for _, p, v in vectors])
    lines = np.array([l for l, _, _ in vectors])
    rows = np.arange(height, dtype=np.float64)
    after = np.clip(np.searchsorted(lines, rows, side="right"), 1, len(lines) - 1)
    before = after - 1
    weight = np.clip((rows - lines[before]) / (lines[after] - lines[before]), 0.0, 1.0)[:, None]
    return along[before] * (1 - weight) + along[after] * weight


def main():
    product, pol, x0, y0, x1, y1, found_path = sys.argv[1:8]
    remove_noise = len(sys.argv) > 8 and sys.argv[8] == "noise"
    x0, y0, x1, y1 = map(float, (x0, y0, x1, y1))
    names, read, gdal_path = members(product)
    measurement = [n for n in names if f"/measurement/s1" in "/" + n and f"-{pol.lower()}-" in n and n.endswith(".tiff")][0]
    stem = measurement.rsplit("/", 1)[1][:-5]
    dataset = gdal.Open(gdal_path(measurement))
    dn = dataset.GetRasterBand(1).ReadAsArray().astype(np.float64)
    height, width = dn.shape
    calibration = ET.fromstring(read([n for n in names if n.endswith(f"calibration-{stem}.xml")][0]))
    gain = bilinear([(float(v.find("line").text), numbers(v, "pixel"), numbers(v, "sigmaNought"))
                     for v in calibration.iter("calibrationVector")], width, height)
    eta = 0.0
    if remove_noise:
        noise = ET.fromstring(read([n for n in names if n.endswith(f"noise-{stem}.xml")][0]))
        eta = bilinear([(float(v.find("line").text), numbers(v, "pixel"), numbers(v, "noiseRangeLut"))
                        for v in noise.iter("noiseRangeVector")], width, height)
        azimuth = np.ones((height, width))
        for block in noise.iter("noiseAzimuthVector"):
            l0, l1 = int(block.find("firstAzimuthLine").text), int(block.find("lastAzimuthLine").text)
            s0, s1 = int(block.find("firstRangeSample").text), int(block.find("lastRangeSample").text)
            profile = np.interp(np.arange(l0, l1 + 1), numbers(block, "line"), numbers(block, "noiseAzimuthLut"))
            azimuth[l0:l1 + 1, s0:s1 + 1] = profile[:, None]
        eta = eta * azimuth
    power = dn * dn - eta
    sigma0 = np.where((dn > 0) & (power > 0), power / (gain * gain), np.nan).astype(np.float32)
    memory = gdal.GetDriverByName("GTiff").Create("/vsimem/sigma0.tif", width, height, 1, gdal.GDT_Float32)
    memory.SetGCPs(dataset.GetGCPs(), dataset.GetGCPProjection())
    band = memory.GetRasterBand(1)
    band.SetNoDataValue(float("nan"))
    band.WriteArray(sigma0)
    memory.FlushCache()
    middle = math.radians((y0 + y1) / 2)
    size = (max(1, round((x1 - x0) * 111_320.0 * math.cos(middle) / 10.0)), max(1, round((y1 - y0) * 110_574.0 / 10.0)))
    warped = gdal.Warp("", memory, format="MEM", dstSRS="EPSG:4326", outputBounds=(x0, y0, x1, y1),
                       width=size[0], height=size[1], resampleAlg="bilinear", outputType=gdal.GDT_Float32,
                       dstNodata=float("nan"))
    expected = warped.GetRasterBand(1).ReadAsArray().astype(np.float64)
    found_set = gdal.Open(found_path)  # kept open while its band is read
    found = found_set.GetRasterBand(1).ReadAsArray().astype(np.float64)
    assert found.shape == expected.shape, (found.shape, expected.shape)
    both = np.isfinite(found) & np.isfinite(expected)
    mismatched = int((np.isfinite(found) != np.isfinite(expected)).sum())
    difference = np.abs(10 * np.log10(found[both]) - 10 * np.log10(expected[both]))
    print(f"{pol} noise={remove_noise}: {both.sum()} pixels compared, {mismatched} valid in one only, "
          f"max |difference| {difference.max():.3e} dB, sigma0 {np.nanmin(10*np.log10(expected)):.1f} to {np.nanmax(10*np.log10(expected)):.1f} dB")


if __name__ == "__main__":
    main()
