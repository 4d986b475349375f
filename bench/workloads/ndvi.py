# NDVI of a full Sentinel-2 tile the numpy way (as CLEOPE's notebooks did),
# with GDAL's Python bindings: whole bands in memory, one temporary per
# operation, written as a float32 GeoTIFF.
import sys
import numpy as np
from osgeo import gdal

data = sys.argv[1]
nir_file, red_file = gdal.Open(f"{data}/B08.tif"), gdal.Open(f"{data}/B04.tif")
nir = nir_file.GetRasterBand(1).ReadAsArray().astype(np.float32)
red = red_file.GetRasterBand(1).ReadAsArray().astype(np.float32)
nir[nir == 0] = np.nan
red[red == 0] = np.nan
ndvi = (nir - red) / (nir + red)
out = gdal.GetDriverByName("GTiff").Create("ndvi.tif", ndvi.shape[1], ndvi.shape[0], 1, gdal.GDT_Float32,
                                           ["TILED=YES", "COMPRESS=DEFLATE", "PREDICTOR=3", "BIGTIFF=IF_SAFER"])
out.SetGeoTransform(nir_file.GetGeoTransform())
out.SetProjection(nir_file.GetProjection())
out.GetRasterBand(1).SetNoDataValue(float("nan"))
out.GetRasterBand(1).WriteArray(ndvi)
out = None
