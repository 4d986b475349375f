"""Writes a Sentinel-2-sized band pair (10980 x 10980 UInt16, 10 m, UTM 33N,
tiled DEFLATE GeoTIFF) for the NDVI benchmark: B08 (NIR) and B04 (red) with
smooth fields plus texture, so both the reading and the arithmetic are real.
Written block by block so this script itself stays small in memory."""
import sys
from pathlib import Path

import numpy as np
import rasterio
from rasterio.transform import from_origin
from rasterio.windows import Window

SIZE, BLOCK = 10980, 1098
folder = Path(sys.argv[1])
folder.mkdir(parents=True, exist_ok=True)
profile = dict(driver="GTiff", width=SIZE, height=SIZE, count=1, dtype="uint16", crs="EPSG:32633",
               transform=from_origin(300000, 4500000, 10, 10), tiled=True, blockxsize=512,
               blockysize=512, compress="deflate", nodata=0)
for name, base, amplitude in [("B08", 3000, 1500), ("B04", 900, 500)]:
    target = folder / f"{name}.tif"
    if target.exists():
        continue
    with rasterio.open(target, "w", **profile) as out:
        for row in range(0, SIZE, BLOCK):
            y, x = np.mgrid[row:row + BLOCK, 0:SIZE].astype(np.float32)
            field = base + amplitude * np.sin(x / 700.0) * np.cos(y / 900.0) + (x * 7 + y * 13) % 97
            out.write(field.astype(np.uint16)[None], window=Window(0, row, SIZE, BLOCK))
print(folder)
