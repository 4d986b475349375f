"""Writes a Sentinel-2-sized time stack for the composite benchmark: 10 dates
of one 10 m band (10980 x 10980 UInt16, nodata 0) and, per date, an SCL-like
scene classification on the same grid (UInt8; SCL itself is 20 m, here
upsampled to 10 m so every layer lines up), with moving clouds (class 9 and
8), their shadows (3) and cirrus (10) over vegetation (4). Tiled 1024 x 1024
like the JP2 files, DEFLATE, written strip by strip with GDAL's Python
bindings (Debian's python3-gdal) so this script stays small in memory."""
import sys
from pathlib import Path

import numpy as np
from osgeo import gdal, osr

SIZE, STRIP, DATES = 10980, 1024, 10
folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
srs = osr.SpatialReference()
srs.ImportFromEPSG(32633)
options = ["TILED=YES", "BLOCKXSIZE=1024", "BLOCKYSIZE=1024", "COMPRESS=DEFLATE"]


def create(path, kind):
    dataset = gdal.GetDriverByName("GTiff").Create(str(path), SIZE, SIZE, 1, kind, options)
    dataset.SetGeoTransform((300000, 10, 0, 4500000, 0, -10))
    dataset.SetProjection(srs.ExportToWkt())
    return dataset


for date in range(DATES):
    band_path, scl_path = folder / f"B04_{date:02}.tif", folder / f"SCL_{date:02}.tif"
    if band_path.exists() and scl_path.exists():
        continue
    band, scl = create(band_path, gdal.GDT_UInt16), create(scl_path, gdal.GDT_Byte)
    band.GetRasterBand(1).SetNoDataValue(0)
    scl.GetRasterBand(1).SetNoDataValue(0)
    for row in range(0, SIZE, STRIP):
        rows = min(STRIP, SIZE - row)
        y, x = np.mgrid[row:row + rows, 0:SIZE].astype(np.float32)
        ground = 900 + 500 * np.sin(x / 700.0 + date * 0.2) * np.cos(y / 900.0) + (x * 7 + y * 13 + date * 31) % 97
        cloud = np.sin(x / 410.0 + date * 1.7) * np.cos(y / 530.0 - date * 0.9)
        classes = np.full(x.shape, 4, np.uint8)
        classes[cloud > 0.45] = 3
        classes[cloud > 0.55] = 10
        classes[cloud > 0.65] = 8
        classes[cloud > 0.8] = 9
        values = np.where(classes == 4, ground, ground + 4000 * np.clip(cloud, 0, 1))
        band.GetRasterBand(1).WriteArray(values.astype(np.uint16), 0, row)
        scl.GetRasterBand(1).WriteArray(classes, 0, row)
    band = scl = None
print(folder)
