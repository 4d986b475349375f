"""Writes a Sentinel-2-sized band pair (10980 x 10980 UInt16, 10 m, UTM 33N,
tiled DEFLATE GeoTIFF) for the raster benchmarks: B08 (NIR) and B04 (red)
with smooth fields plus texture, so both the reading and the arithmetic are
real. Written block by block with GDAL's Python bindings (Debian's
python3-gdal), so this script itself stays small in memory."""
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

SIZE, BLOCK = 10980, 1098
folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
srs = osr.SpatialReference()
srs.ImportFromEPSG(32633)
for name, base, amplitude in [("B08", 3000, 1500), ("B04", 900, 500)]:
    target = folder / f"{name}.tif"
    if target.exists():
        continue
    options = ["TILED=YES", "BLOCKXSIZE=512", "BLOCKYSIZE=512", "COMPRESS=DEFLATE"]
    dataset = gdal.GetDriverByName("GTiff").Create(str(target), SIZE, SIZE, 1, gdal.GDT_UInt16, options)
    dataset.SetGeoTransform((300000, 10, 0, 4500000, 0, -10))
    dataset.SetProjection(srs.ExportToWkt())
    band = dataset.GetRasterBand(1)
    band.SetNoDataValue(0)
    for row in range(0, SIZE, BLOCK):
        y, x = np.mgrid[row:row + BLOCK, 0:SIZE].astype(np.float32)
        field = base + amplitude * np.sin(x / 700.0) * np.cos(y / 900.0) + (x * 7 + y * 13) % 97
        band.WriteArray(field.astype(np.uint16), 0, row)
    dataset = None
print(folder)
