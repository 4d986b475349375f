# Gridding 200,000 scattered points onto 1000 x 1000 cells, linear
# interpolation with scipy's griddata (Qhull Delaunay), as CLEOPE's S5P code did.
import numpy as np
from scipy.interpolate import griddata

n = 200_000
i = np.arange(n, dtype=np.float64)
lon = 10.0 + (i * 0.6180339887) % 1.0 * 4.0
lat = 40.0 + (i * 0.7548776662) % 1.0 * 4.0
values = np.sin(lon * 3.0) + np.cos(lat * 2.0)
gx, gy = np.meshgrid(10.002 + np.arange(1000) * 0.004, 43.998 - np.arange(1000) * 0.004)
grid = griddata((lon, lat), values, (gx, gy), method="linear")
print(np.nanmean(grid))
