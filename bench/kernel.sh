#!/usr/bin/env bash
# Kernel latency beside ipykernel (see bench/kernel.py): installs both
# kernelspecs into a temporary Jupyter folder and measures them in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
venv=target/bench-kernel-venv
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet -r tests/jupyter/requirements.txt ipykernel
fi
jupyter=$(mktemp -d)
trap 'rm -rf "$jupyter"' EXIT
target/release/cleope kernel install --prefix "$jupyter" --name cleope-bench --workspace "$jupyter/workspace" >/dev/null
"$venv/bin/python" -m ipykernel install --prefix "$jupyter" --name python-bench >/dev/null
JUPYTER_PATH="$jupyter/share/jupyter" JUPYTER_RUNTIME_DIR="$jupyter/runtime" \
    "$venv/bin/python" bench/kernel.py cleope-bench python-bench
