#!/usr/bin/env bash
# Rebuilds the prebuilt JupyterLab extension that highlights Rhai
# (src/kernel/labextension/prebuilt/, which `cleope kernel install` embeds
# and installs) from npm packages only: `npm ci` from the committed
# package-lock.json, `tsc`, the tokenizer's node:test suite, then
# `jupyter-builder build` (the @jupyter/builder 1.3 toolchain; the legacy
# @jupyterlab/builder reaches for GitHub and fails offline).
#
# Everything is built in target/labextension-build/, so the source folder
# never holds node_modules. The Python side (jupyter-builder) comes from
# the tests' venv (target/jupyter-venv) when it is there, otherwise from a
# venv made here with the JupyterLab that tests/jupyter/requirements.txt pins.
#
# Usage: scripts/build-labextension.sh     (needs node >= 20, npm, python3)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
source_dir="$root/src/kernel/labextension"
build="$root/target/labextension-build"
work="$build/work"

for program in node npm python3; do
    command -v "$program" >/dev/null || {
        echo "build-labextension: $program is missing (Debian: apt-get install nodejs npm python3-venv)" >&2
        exit 1
    }
done

# A Python environment with jupyter-builder (it ships with jupyterlab).
# (Run as `python -m`: the tests' venv is built elsewhere and renamed into
# place, so the shebangs of its bin/ scripts point nowhere.)
has_builder() { "$1/bin/python" -c 'import jupyter_builder' 2>/dev/null; }
venv="${JUPYTER_VENV:-$root/target/jupyter-venv}"
if ! has_builder "$venv"; then
    venv="$build/venv"
    if ! has_builder "$venv"; then
        jupyterlab=$(grep -E '^jupyterlab==' "$root/tests/jupyter/requirements.txt")
        echo "build-labextension: making $venv with $jupyterlab"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet --disable-pip-version-check "$jupyterlab"
    fi
fi

# A clean copy of the sources: the build writes lib/, node_modules/ and prebuilt/.
rm -rf "$work"
mkdir -p "$work"
cp "$source_dir"/{package.json,package-lock.json,tsconfig.json,index.ts,rhai.ts,rhai.test.mjs} "$work/"
cd "$work"
npm ci --no-audit --no-fund --ignore-scripts
npx tsc
node --test rhai.test.mjs
"$venv/bin/python" -m jupyter_builder.main build .

rm -rf "$source_dir/prebuilt"
cp -r "$work/prebuilt" "$source_dir/prebuilt"
echo "build-labextension: wrote $(find "$source_dir/prebuilt" -type f | wc -l) files," \
     "$(find "$source_dir/prebuilt" -type f -exec cat {} + | wc -c) bytes, to ${source_dir#"$root"/}/prebuilt/"
