# The same composite the numpy way (whole bands in memory, as CLEOPE's
# notebooks did), with Debian's python3-gdal: 10 dates of float32 bands are
# 4.8 GB, so inside the 2 GiB quota it fails; bench/stack.sh runs it under
# `prlimit --as` and reports how far it got and its peak RSS.
import sys

import numpy as np
from osgeo import gdal

data = sys.argv[1]
layers = []
for date in range(10):
    red = gdal.Open(f"{data}/B04_{date:02}.tif").GetRasterBand(1).ReadAsArray().astype(np.float32)
    scl = gdal.Open(f"{data}/SCL_{date:02}.tif").GetRasterBand(1).ReadAsArray()
    red[(red == 0) | np.isin(scl, [3, 8, 9, 10])] = np.nan
    layers.append(red)
    print(f"date {date} loaded", file=sys.stderr, flush=True)
cube = np.stack(layers)
del layers
reference = gdal.Open(f"{data}/B04_00.tif")
for name, result in [("median", np.nanmedian(cube, axis=0)), ("p25", np.nanpercentile(cube, 25, axis=0))]:
    out = gdal.GetDriverByName("GTiff").Create(f"{name}.tif", result.shape[1], result.shape[0], 1, gdal.GDT_Float32,
                                               ["TILED=YES", "COMPRESS=ZSTD", "ZSTD_LEVEL=1", "PREDICTOR=3", "BIGTIFF=IF_SAFER"])
    out.SetGeoTransform(reference.GetGeoTransform())
    out.SetProjection(reference.GetProjection())
    out.GetRasterBand(1).SetNoDataValue(float("nan"))
    out.GetRasterBand(1).WriteArray(result.astype(np.float32))
    out = None
