"""Statistics of a 512 x 512 window of a remote COG read with GDAL's own
/vsicurl/. Usage: window.py URL COL ROW"""
import sys

import numpy as np
from osgeo import gdal

gdal.UseExceptions()
url, col, row = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dataset = gdal.Open(f"/vsicurl/{url}")
window = dataset.GetRasterBand(1).ReadAsArray(col, row, 512, 512).astype(np.float32)
window[window == 0] = np.nan
print(window.shape, np.nanmin(window), np.nanmax(window), np.nanmean(window))
