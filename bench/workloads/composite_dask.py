# The same composite with xarray + dask (rioxarray reads and writes through
# rasterio): lazy chunks of 1024 x 1024 across the 10 dates, the cloud mask
# per date, then the median and the 25th percentile (numpy's "linear"
# definition, as cleope's), each written as a float32 GeoTIFF with the same
# creation options as cleope's (tiled, ZSTD level 1, floating-point predictor).
import sys
import threading

import dask
import numpy as np
import rioxarray
import xarray as xr

data = sys.argv[1]
dask.config.set(scheduler="threads", num_workers=2)
chunks = {"band": 1, "x": 1024, "y": 1024}


def layer(name):
    band = rioxarray.open_rasterio(f"{data}/{name}.tif", chunks=chunks, masked=True)
    return band.squeeze("band", drop=True)


red = xr.concat([layer(f"B04_{d:02}") for d in range(10)], dim="time")
scl = xr.concat([layer(f"SCL_{d:02}") for d in range(10)], dim="time")
clear = red.where(~scl.isin([3, 8, 9, 10])).chunk({"time": -1})
options = dict(tiled=True, compress="ZSTD", zstd_level=1, predictor=3, bigtiff="IF_SAFER")
for name, result in [
    ("median", clear.median("time")),
    ("p25", clear.quantile(0.25, dim="time").drop_vars("quantile")),
]:
    result = result.astype(np.float32).rio.write_nodata(np.nan, encoded=False)
    result.rio.to_raster(f"{name}.tif", lock=threading.Lock(), **options)
