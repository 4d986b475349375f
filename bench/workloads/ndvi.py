# NDVI of a full Sentinel-2 tile the numpy way (as CLEOPE's notebooks did):
# whole bands in memory, one temporary per operation.
import sys
import numpy as np
import rasterio

data = sys.argv[1]
with rasterio.open(f"{data}/B08.tif") as nir_file, rasterio.open(f"{data}/B04.tif") as red_file:
    nir = nir_file.read(1).astype(np.float32)
    red = red_file.read(1).astype(np.float32)
nir[nir == 0] = np.nan
red[red == 0] = np.nan
ndvi = (nir - red) / (nir + red)
print(np.nanmean(ndvi), np.count_nonzero(~np.isnan(ndvi)))
