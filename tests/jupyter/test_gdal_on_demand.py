"""The kernel starts without GDAL: the library and its dependencies are
loaded by the first cell that reads or writes a raster, and set up then
(GDAL's warnings and HDF5's diagnostics kept off the kernel's stderr)."""

import os
import tempfile
import unittest

from jupyter_client.manager import KernelManager

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]

RASTER_CELL = """
let field = matrix(20, 20, 2.0).to_raster([15.0, 40.0, 15.2, 40.2]);
field.save("output/field.nc");
let utm = open_raster("output/field.nc").reproject("EPSG:32633");
print(`${utm.crs} ${utm.stats().max}`);
"""


def libraries(pid):
    with open(f"/proc/{pid}/maps") as maps:
        return {line.split()[-1] for line in maps if line.rstrip().endswith(".so") or ".so." in line}


class GdalOnDemandTests(unittest.TestCase):
    def setUp(self):
        self.stderr = tempfile.NamedTemporaryFile(mode="w+", suffix=".log")
        self.km = KernelManager(kernel_name=KERNEL)
        self.km.start_kernel(stderr=self.stderr)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.pid = self.km.provisioner.process.pid

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.stderr.close()

    def run_cell(self, code):
        outputs = []

        def keep_stream(message):
            if message["msg_type"] == "stream":
                outputs.append(message["content"]["text"])

        reply = self.kc.execute_interactive(code, timeout=60, output_hook=keep_stream)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        return "".join(outputs)

    def gdal_loaded(self):
        return any("libgdal" in os.path.basename(path) for path in libraries(self.pid))

    def test_gdal_is_loaded_by_the_first_raster_cell_and_kept_quiet(self):
        self.assertEqual(self.run_cell("let n = 6 * 7; print(n);"), "42\n")
        self.assertFalse(self.gdal_loaded(), "GDAL loaded before any cell needed it")
        self.assertEqual(self.run_cell(RASTER_CELL), "EPSG:32633 2.0\n")
        self.assertTrue(self.gdal_loaded(), "GDAL not loaded by a raster cell")
        self.assertEqual(self.run_cell("print(n);"), "42\n")
        self.stderr.flush()
        self.stderr.seek(0)
        log = self.stderr.read()
        self.assertNotIn("HDF5-DIAG", log)
        self.assertNotIn("Warning", log)


if __name__ == "__main__":
    unittest.main()
