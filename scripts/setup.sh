#!/usr/bin/env bash
# Installs the system packages cleope builds against, on Debian/Ubuntu.
# Idempotent: packages already installed are left alone, so a second run
# does nothing. Works as root, or through sudo.
set -euo pipefail

# GDAL reads and writes the product formats (GeoTIFF, JP2, netCDF, SAFE);
# libgdal-dev also brings PROJ, GEOS, netCDF and HDF5. tmux drives the REPL
# in its tests; python3-venv holds the Jupyter clients the kernel is tested with.
# libssl-dev is the TLS the catalogue client speaks to CDSE with (native-tls
# links the system OpenSSL instead of compiling a second crypto library).
# chromium and chromium-driver are the headless browser (and the chromedriver
# selenium steers it with) that the JupyterLab test opens a notebook in:
# Debian's builds, as browser downloads (Playwright, Chrome for Testing) are
# not reachable from every machine that runs the tests.
# time is GNU time, which the sandbox tests measure a run's peak memory with.
# libsqlite3-dev is the SQLite the catalogue and the kernel's history use
# (libgdal-dev brings it too; named for its own sake).
packages=(libgdal-dev libsqlite3-dev gdal-bin pkg-config libssl-dev tmux python3-venv chromium chromium-driver time)
# `scripts/setup.sh bench` adds the Python stack the benchmarks compare with
# (and Pillow, which scripts/contact-sheet.py lays the tutorial figures out with).
if [ "${1:-}" = bench ]; then
    packages+=(python3-gdal python3-numpy python3-scipy python3-pil)
fi

# npm installs configurable-http-proxy for the JupyterHub test (tests/hub/).
# Only when no npm is on the PATH: a machine with its own Node.js (e.g.
# NodeSource's, which bundles npm) keeps it.
if ! command -v npm >/dev/null 2>&1; then
    packages+=(nodejs npm)
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]} == 0)); then
    echo "setup: system packages already installed (${packages[*]})"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup: need root or sudo to install: ${missing[*]}" >&2
    exit 1
fi

echo "setup: installing ${missing[*]}"
"${as_root[@]}" apt-get update -qq
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
