"""Validates a process graph cleope wrote against the openEO process specs,
runs it with a real openEO executor (openeo-pg-parser-networkx +
openeo-processes-dask) over the demo archive, and compares the result with
the GeoTIFF cleope computed from the same script.

    python run_graph.py GRAPH.json ARCHIVE_DIR CLEOPE.tif

Prints one JSON object: {"errors": [...]} when the graph is invalid, else
{"dims", "compared", "valid", "nan_mismatch", "max_abs", "max_rel"}.
The `load_collection` used here reads the archive's Sentinel-2 SAFE
products itself (rasterio), as a back-end would: digital numbers, the
file's no-data value missing, dims (t, bands, y, x).
"""

import glob
import json
import math
import os
import sys
import warnings

import numpy as np

warnings.filterwarnings("ignore")

import dask.array as da  # noqa: E402
import rasterio  # noqa: E402
import rasterio.warp  # noqa: E402
import rasterio.windows  # noqa: E402
import xarray as xr  # noqa: E402
import openeo_processes_dask.process_implementations as implementations  # noqa: E402
import openeo_processes_dask.specs as specs  # noqa: E402
from openeo_pg_parser_networkx import OpenEOProcessGraph, ProcessRegistry  # noqa: E402
from openeo_pg_parser_networkx.process_registry import Process  # noqa: E402
from openeo_processes_dask.process_implementations.core import process  # noqa: E402

# Scripts' collections → the archive's product type.
PRODUCT_TYPES = {"SENTINEL2_L2A": "MSIL2A", "SENTINEL2_L1C": "MSIL1C"}


# --- validation against the process specifications -------------------------

def spec_of(process_id):
    """The spec of a process; Python keywords (`if`, `and`) carry a `_` there."""
    for name in (process_id, "_" + process_id):
        spec = getattr(specs, name, None)
        if isinstance(spec, dict) and spec.get("id") == process_id:
            return spec
    return None


def callback_parameters(parameter):
    """The parameter names a child graph of `parameter` may reference."""
    schemas = parameter.get("schema", [])
    schemas = schemas if isinstance(schemas, list) else [schemas]
    names = set()
    for schema in schemas:
        if schema.get("subtype") == "process-graph":
            names |= {p["name"] for p in schema.get("parameters", [])}
    return names


def validate(graph, available, where, errors):
    results = [node_id for node_id, node in graph.items() if node.get("result")]
    if len(results) != 1:
        errors.append(f"{where}: {len(results)} result nodes, not one")
    for node_id, node in graph.items():
        process_id = node.get("process_id")
        spec = spec_of(process_id)
        if spec is None:
            errors.append(f"{where}/{node_id}: no process `{process_id}` in the specs")
            continue
        parameters = {p["name"]: p for p in spec.get("parameters", [])}
        arguments = node.get("arguments", {})
        for name in arguments:
            if name not in parameters:
                errors.append(f"{where}/{node_id}: `{process_id}` has no parameter `{name}`")
        for name, parameter in parameters.items():
            if not parameter.get("optional") and name not in arguments:
                errors.append(f"{where}/{node_id}: `{process_id}` needs `{name}`")
        for name, value in arguments.items():
            check_value(value, graph, available, parameters.get(name, {}),
                        f"{where}/{node_id}.{name}", errors)


def check_value(value, graph, available, parameter, where, errors):
    if isinstance(value, dict):
        if "from_node" in value and value["from_node"] not in graph:
            errors.append(f"{where}: from_node `{value['from_node']}` is not in the graph")
        elif "from_parameter" in value and value["from_parameter"] not in available:
            errors.append(f"{where}: from_parameter `{value['from_parameter']}` is not available")
        elif "process_graph" in value:
            validate(value["process_graph"], callback_parameters(parameter), where, errors)
        else:
            for key, item in value.items():
                check_value(item, graph, available, {}, f"{where}.{key}", errors)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            check_value(item, graph, available, parameter, f"{where}[{i}]", errors)


# --- execution ---------------------------------------------------------------

def field(value, name, index):
    """`value.name` for the parser's models, `value[name or index]` for JSON."""
    if hasattr(value, name):
        return getattr(value, name)
    if isinstance(value, dict):
        return value[name]
    root = getattr(value, "root", value)
    return root[index]


def day(value):
    """The YYYY-MM-DD of a date given as text or as the parser's `Date` model
    (whose str() is "root=DateTime(...)", so unwrap it first)."""
    while hasattr(value, "root"):
        value = value.root
    return value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)[:10]


def band_file(safe, band):
    for resolution in (10, 20, 60):
        found = glob.glob(f"{safe}/GRANULE/*/IMG_DATA/R{resolution}m/*_{band}_{resolution}m.jp2")
        found += glob.glob(f"{safe}/GRANULE/*/IMG_DATA/*_{band}.jp2")
        if found:
            return found[0]
    raise FileNotFoundError(f"no {band} file in {safe}")


def products(archive, collection_id):
    kind = PRODUCT_TYPES[collection_id]
    found = {}
    for safe in glob.glob(f"{archive}/**/*_{kind}_*.SAFE", recursive=True):
        name = os.path.basename(safe)
        date = f"{name[11:15]}-{name[15:17]}-{name[17:19]}"
        found.setdefault(date, []).append(safe)
    return found


def read_band(path, bbox):
    with rasterio.open(path) as dataset:
        west, south, east, north = rasterio.warp.transform_bounds(
            "EPSG:4326", dataset.crs, *bbox, densify_pts=21)
        window = rasterio.windows.from_bounds(west, south, east, north, dataset.transform)
        # The pixels the box touches (rasterio 1.4's round_* take no "floor"/"ceil").
        col, row = math.floor(window.col_off), math.floor(window.row_off)
        window = rasterio.windows.Window(
            col, row,
            math.ceil(window.col_off + window.width) - col,
            math.ceil(window.row_off + window.height) - row)
        window = window.intersection(rasterio.windows.Window(0, 0, dataset.width, dataset.height))
        values = dataset.read(1, window=window).astype("float32")
        if dataset.nodata is not None:
            values[values == dataset.nodata] = np.nan
        transform = dataset.window_transform(window)
    xs = transform.c + (np.arange(values.shape[1]) + 0.5) * transform.a
    ys = transform.f + (np.arange(values.shape[0]) + 0.5) * transform.e
    return values, xs, ys


def make_load_collection(archive):
    def load_collection(id, spatial_extent, temporal_extent, bands=None, properties=None, **kwargs):
        bbox = [float(field(spatial_extent, k, 0)) for k in ("west", "south", "east", "north")]
        start, end = (day(field(temporal_extent, k, i)) for i, k in enumerate(("start", "end")))
        dates = sorted(d for d in products(archive, id) if start <= d < end)
        by_date = products(archive, id)
        layers = []
        for date in dates:
            if len(by_date[date]) != 1:
                raise ValueError(f"{len(by_date[date])} products on {date}")
            planes = [read_band(band_file(by_date[date][0], band), bbox) for band in bands]
            layers.append(np.stack([p[0] for p in planes]))
            xs, ys = planes[0][1], planes[0][2]
        data = np.stack(layers)
        return xr.DataArray(
            da.from_array(data, chunks=(1, 1) + data.shape[2:]),
            dims=("t", "bands", "y", "x"),
            coords={"t": np.array(dates, dtype="datetime64[ns]"), "bands": list(bands), "y": ys, "x": xs},
        )
    return load_collection


SAVED = {}


def save_result(data, format, options=None, **kwargs):
    SAVED["data"], SAVED["format"] = data, format
    return True


def registry(archive):
    processes = ProcessRegistry(wrap_funcs=[process])
    for name in dir(implementations):
        implementation = getattr(implementations, name)
        process_id = name[1:] if name.startswith("_") and not name.startswith("__") else name
        if callable(implementation) and spec_of(process_id) is not None:
            processes[("predefined", process_id)] = Process(
                spec=spec_of(process_id), implementation=implementation)
    processes[("predefined", "load_collection")] = Process(
        spec=specs.load_collection, implementation=make_load_collection(archive))
    processes[("predefined", "save_result")] = Process(spec=specs.save_result, implementation=save_result)
    return processes


# --- comparison --------------------------------------------------------------

def matching(ours, theirs):
    """Index pairs of coordinates equal to a millimetre."""
    lookup = {round(v * 1000): i for i, v in enumerate(theirs)}
    pairs = [(i, lookup.get(round(v * 1000))) for i, v in enumerate(ours)]
    pairs = [(i, j) for i, j in pairs if j is not None]
    return np.array([p[0] for p in pairs], dtype=int), np.array([p[1] for p in pairs], dtype=int)


def compare(result, cleope_tif):
    result = result.squeeze(drop=True) if "t" in result.dims else result
    values = np.asarray(result.transpose("y", "x").values, dtype="float64")
    values[~np.isfinite(values)] = np.nan
    with rasterio.open(cleope_tif) as dataset:
        expected = dataset.read(1).astype("float64")
        if dataset.nodata is not None:
            expected[expected == dataset.nodata] = np.nan
        t = dataset.transform
    xs = t.c + (np.arange(expected.shape[1]) + 0.5) * t.a
    ys = t.f + (np.arange(expected.shape[0]) + 0.5) * t.e
    cols_c, cols_e = matching(xs, result["x"].values)
    rows_c, rows_e = matching(ys, result["y"].values)
    a = expected[np.ix_(rows_c, cols_c)]
    b = values[np.ix_(rows_e, cols_e)]
    both = ~np.isnan(a) & ~np.isnan(b)
    difference = np.abs(a - b)[both]
    return {
        "dims": list(result.dims),
        "cleope_pixels": int(expected.size),
        "compared": int(a.size),
        "valid": int(both.sum()),
        "nan_mismatch": int((np.isnan(a) != np.isnan(b)).sum()),
        "max_abs": float(difference.max()) if difference.size else None,
        "max_rel": float((difference / np.maximum(1.0, np.abs(a[both]))).max()) if difference.size else None,
        "mean": float(b[both].mean()) if difference.size else None,
    }


def main():
    graph_path, archive, cleope_tif = sys.argv[1:4]
    with open(graph_path) as f:
        graph = json.load(f)
    errors = []
    validate(graph["process_graph"], set(), "process_graph", errors)
    if errors:
        print(json.dumps({"errors": errors}))
        return
    OpenEOProcessGraph(graph).to_callable(process_registry=registry(archive))()
    summary = compare(SAVED["data"], cleope_tif)
    summary["format"] = SAVED["format"]
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
