# Statistics of a 1000 x 1000 window of a band, read with GDAL into numpy.
import sys
import numpy as np
from osgeo import gdal

dataset = gdal.Open(f"{sys.argv[1]}/B08.tif")  # keep it open while the band is used
window = dataset.GetRasterBand(1).ReadAsArray(5000, 5000, 1000, 1000).astype(np.float32)
window[window == 0] = np.nan
print(np.nanmin(window), np.nanmax(window), np.nanmean(window), np.nanstd(window))
