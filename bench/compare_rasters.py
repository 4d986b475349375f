"""Compares two single-band rasters pixel by pixel: prints the pixel count,
how many are missing in one but not the other, and the largest absolute
difference elsewhere; exits 1 if they differ by more than TOLERANCE.
Reads strip by strip (rasterio, from the benchmark's venv)."""
import sys

import numpy as np
import rasterio

TOLERANCE = 1e-3
left, right = rasterio.open(sys.argv[1]), rasterio.open(sys.argv[2])
assert (left.width, left.height) == (right.width, right.height), "different sizes"
missing_apart, largest, pixels = 0, 0.0, 0
for row in range(0, left.height, 1024):
    window = rasterio.windows.Window(0, row, left.width, min(1024, left.height - row))
    a, b = left.read(1, window=window), right.read(1, window=window)
    missing_apart += int(np.count_nonzero(np.isnan(a) != np.isnan(b)))
    both = ~np.isnan(a) & ~np.isnan(b)
    if both.any():
        largest = max(largest, float(np.max(np.abs(a[both] - b[both]))))
    pixels += a.size
print(f"{pixels} pixels, {missing_apart} missing in only one, largest difference {largest:g}")
sys.exit(0 if missing_apart == 0 and largest <= TOLERANCE else 1)
