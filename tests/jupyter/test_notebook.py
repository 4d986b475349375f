"""A notebook of several cells executed by nbclient, as `jupyter execute`
or JupyterLab's "Run All" would: variables, functions and imports carry
from cell to cell, and outputs land in the right cells."""

import os
import tempfile
import unittest
import uuid

import nbclient
import nbformat
from jupyter_client import AsyncKernelManager
from jupyter_client.manager import start_new_kernel
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


# The kernels' socket files, removed when the tests end.
SOCKETS = tempfile.TemporaryDirectory(prefix="cleope-ipc-")


class IpcKernelManager(AsyncKernelManager):
    """Kernels over Unix sockets. These tests start a kernel per notebook
    while other tests start local catalogues on ephemeral TCP ports: a TCP
    port the client picked and released can be taken before the kernel
    binds it ("Address already in use", the kernel dies before
    kernel_info). The transports themselves are tested in
    test_transport.py."""

    def __init__(self, **kwargs):
        super().__init__(transport="ipc", **kwargs)
        self.ip = os.path.join(SOCKETS.name, f"kernel-{uuid.uuid4().hex}")


def notebook_client(notebook, **options):
    """An nbclient for `notebook` on the cleope kernel, over ipc."""
    return nbclient.NotebookClient(notebook, kernel_name=KERNEL, kernel_manager_class=IpcKernelManager, **options)


def outputs_text(cell):
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.data.get("text/plain", ""))
    return "".join(parts)


class NotebookTests(unittest.TestCase):
    def run_notebook(self, cells, **options):
        notebook = new_notebook(cells=cells)
        notebook.metadata["kernelspec"] = {"name": KERNEL, "display_name": KERNEL, "language": "rhai"}
        client = notebook_client(notebook, timeout=60, **options)
        client.execute()
        nbformat.validate(notebook)
        return notebook

    def test_cells_share_variables_functions_and_outputs(self):
        notebook = self.run_notebook(
            [
                new_markdown_cell("# NDVI of a pixel"),
                new_code_cell("let red = 0.1;\nlet nir = 0.5;"),
                new_code_cell("fn ndvi(r, n) { (n - r) / (n + r) }"),
                new_code_cell('print(`NDVI = ${ndvi(red, nir)}`);\nndvi(red, nir) > 0.5'),
                new_code_cell('display([#{band: "B4", value: red}, #{band: "B8", value: nir}]);'),
                new_code_cell('display("0 of 2 tiles", "progress");\nupdate_display("2 of 2 tiles", "progress");'),
                new_code_cell('display("file 1: 0 %", "bar");\ndisplay("file 2: 0 %", "bar");\nupdate_display("file 2: 100 %", "bar");'),
            ]
        )
        cells = notebook.cells
        self.assertEqual(cells[1].outputs, [])
        self.assertEqual(cells[1].execution_count, 1)
        self.assertIn("NDVI = 0.666", outputs_text(cells[3]))
        result = [o for o in cells[3].outputs if o.output_type == "execute_result"]
        self.assertEqual(result[0].data["text/plain"], "true")
        self.assertEqual(result[0].execution_count, 3)
        table = cells[4].outputs[0]
        self.assertEqual(table.output_type, "display_data")
        self.assertIn("<td>B8</td>", table.data["text/html"])
        progress = cells[5].outputs
        self.assertEqual(len(progress), 1, "the update replaced the display in place")
        self.assertEqual(progress[0].data["text/plain"], "2 of 2 tiles")
        restarted = cells[6].outputs
        self.assertEqual(len(restarted), 1, "a display id shown again is updated in place, not shown twice")
        self.assertEqual(restarted[0].data["text/plain"], "file 2: 100 %")

    def test_a_cell_ending_in_a_plot_shows_the_figure_once(self):
        """The plot is shown as an image; its value, the same figure, adds
        no `Figure("…", 900 x 969 px)` line under it."""
        notebook = self.run_notebook(
            [new_code_cell("matrix(20, 20, 1.0).to_raster([0.0, 0.0, 1.0, 1.0]).plot(#{ title: \"once\" })")]
        )
        outputs = notebook.cells[0].outputs
        images = [o for o in outputs if "image/png" in o.get("data", {})]
        self.assertEqual(len(images), 1, outputs)
        self.assertEqual([o for o in outputs if o.output_type == "execute_result"], [])

    def test_tables_are_one_html_table_and_floats_are_short(self):
        notebook = self.run_notebook(
            [
                new_code_cell('print_table([#{ tile: "T33", cloud: 12.5 }, #{ tile: "T34", cloud: 3.0 }], ["tile", "cloud"]);'),
                new_code_cell("0.00022514071294559118"),
                new_code_cell("[1.75302719957514e18, 0.1, 3.0]"),
                new_code_cell("print(0.00022514071294559118);"),
            ]
        )
        cells = notebook.cells
        self.assertEqual(len(cells[0].outputs), 1, cells[0].outputs)
        table = cells[0].outputs[0]
        self.assertEqual(table.output_type, "display_data")
        html = table.data["text/html"]
        self.assertEqual(html.count("<table>"), 1)
        self.assertLess(html.index("<th>tile</th>"), html.index("<th>cloud</th>"), "the columns' order as given")
        self.assertTrue(table.data["text/plain"].startswith("tile  cloud\n"), table.data)
        self.assertEqual(cells[1].outputs[0].data["text/plain"], "0.000225141")
        self.assertEqual(cells[2].outputs[0].data["text/plain"], "[1.75303e18, 0.1, 3.0]")
        self.assertEqual(outputs_text(cells[3]), "0.00022514071294559118\n", "print keeps every digit")

    def test_the_inspector_shows_markdown_and_no_internal_forms(self):
        km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        try:
            kc.execute_interactive("/// Doubles x.\nfn twice(x) { x * 2 }", timeout=20, output_hook=lambda m: None)
            documented = kc.inspect("read_csv", 3, reply=True, timeout=20)["content"]
            self.assertTrue(documented["found"])
            markdown = documented["data"]["text/markdown"]
            self.assertTrue(markdown.startswith("```rhai\nread_csv(path: string)"), markdown)
            self.assertIn("**Example**\n\n```rhai\n", markdown)
            self.assertIn("text/plain", documented["data"])
            own = kc.inspect("twice", 2, reply=True, timeout=20)["content"]
            self.assertEqual(own["data"]["text/markdown"], "```rhai\ntwice(x)\n```\n\nDoubles x.")
            builtin = kc.inspect("print", 2, reply=True, timeout=20)["content"]
            self.assertTrue(builtin["found"], builtin)
            for text in builtin["data"].values():
                self.assertNotIn(": ()", text, "the internal print(unit: ()) form is hidden")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)

    def test_an_error_shows_the_line_and_caret_and_stops_the_run(self):
        cells = [
            new_code_cell("let bands = [4, 8];"),
            new_code_cell("let b = bands[1];\nlet c = bands.nope();"),
            new_code_cell('print("never runs");'),
        ]
        with self.assertRaises(nbclient.exceptions.CellExecutionError) as raised:
            self.run_notebook(cells)
        self.assertIn("FunctionNotFound", str(raised.exception))
        notebook = new_notebook(cells=cells)
        client = notebook_client(notebook, timeout=60, allow_errors=True)
        client.execute()
        error = notebook.cells[1].outputs[0]
        self.assertEqual(error.output_type, "error")
        self.assertEqual(error.ename, "FunctionNotFound")
        traceback = "\n".join(error.traceback)
        self.assertIn(" 2 | let c = bands.nope();", traceback)
        self.assertIn("^", traceback)
        self.assertIn("never runs", outputs_text(notebook.cells[2]), "allow_errors runs on")

    def test_run_all_stops_at_the_first_error(self):
        """JupyterLab's "Run All" queues every cell at once: after an error,
        the cells already queued are aborted, as ipykernel does."""
        km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        try:
            ids = [kc.execute(code) for code in ("let a = 1;", "a.nope();", "let b = 2;", "a + 1")]
            replies = {}
            while len(replies) < len(ids):
                reply = kc.get_shell_msg(timeout=30)
                replies[reply["parent_header"]["msg_id"]] = reply["content"]["status"]
            self.assertEqual([replies[i] for i in ids], ["ok", "error", "aborted", "aborted"])
            after = kc.execute_interactive("a", timeout=20, output_hook=lambda m: None)
            self.assertEqual(after["content"]["status"], "ok", "the next request runs again")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)


if __name__ == "__main__":
    unittest.main()


class TutorialNotebookTests(unittest.TestCase):
    """Every tutorial, converted with `cleope notebook` and executed by
    nbclient as a student's "Run All" would: no cell fails, and figures
    arrive as images."""

    def test_every_tutorial_runs_as_a_notebook(self):
        import pathlib
        import subprocess

        tutorials = sorted(pathlib.Path(os.environ["CLEOPE_TUTORIALS"]).rglob("*.rhai"))
        self.assertTrue(tutorials, "no tutorials found")
        for tutorial in tutorials:
            with self.subTest(tutorial=tutorial.name), tempfile.TemporaryDirectory() as folder:
                target = pathlib.Path(folder) / (tutorial.stem + ".ipynb")
                subprocess.run([os.environ["CLEOPE_BIN"], "notebook", str(tutorial), "-o", str(target)], check=True)
                notebook = nbformat.read(target, as_version=4)
                notebook.metadata["kernelspec"]["name"] = KERNEL
                notebook_client(notebook, timeout=300).execute()
                outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
                self.assertFalse([o for o in outputs if o.output_type == "error"], tutorial.name)
                plots = tutorial.read_text().count(".plot(")
                images = [o for o in outputs if o.output_type == "display_data" and "image/png" in o.data]
                self.assertGreaterEqual(len(images), plots, f"{tutorial.name}: every plot shows an image")
