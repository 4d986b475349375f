"""Rhai highlighting in JupyterLab: `cleope kernel install` put the prebuilt
extension (src/kernel/labextension/) beside the kernelspec, so

- `jupyter labextension list` (this venv's JupyterLab, JUPYTER_PATH = the
  install prefix) reports it "enabled OK";
- a notebook on the kernel, opened in JupyterLab in headless Chromium,
  shows a Rhai cell with the kernel's language (`codemirror_mode: "rhai"`)
  and distinct CSS classes for keywords, strings, numbers, comments and the
  `// %%` cell marker, where the JavaScript mode cleope used before would
  show `fn` as a plain name and the marker as a comment. The page is saved
  as target/jupyterlab-highlighting.png.

The browser, JupyterLab server and their cleanup are test_jupyterlab's."""

import json
import os
import pathlib
import re
import subprocess
import sys
import time
import unittest

import test_jupyterlab as lab

SCREENSHOT = lab.TARGET / "jupyterlab-highlighting.png"
EXTENSION = "@cleope/jupyterlab-rhai"

CELL = """\
// %% Highlighting
fn area(r) { 3.14 * r ** 2 }
let big = 0xFF_FF; // a comment
const greeting = `hello ${big}`;
print("area " + area(2));"""

# The cell's editor once the kernel has answered kernel_info: its language,
# and for each piece of text the CSS classes of the innermost element that
# holds exactly that text (CodeMirror wraps each highlighted token in a span).
EDITOR_JS = lab.OPEN_NOTEBOOK_JS + """
const done = arguments[arguments.length - 1];
const pieces = arguments[0];
(async () => {
    const {panel, kernel} = await openNotebook('rhai.ipynb');
    const info = await kernel.info;
    const cell = panel.content.widgets[0];
    // The editor switches language once the kernel's language_info arrives.
    for (let i = 0; i < 300 && cell.model.mimeType !== 'text/x-rhai'; i++) {
        await new Promise(resolve => setTimeout(resolve, 100));
    }
    // Highlighting of a stream language may finish after the first paint.
    await new Promise(resolve => setTimeout(resolve, 1000));
    const lines = Array.from(cell.node.querySelectorAll('.cm-content .cm-line'));
    const classes = {};
    for (const text of pieces) {
        const span = lines.flatMap(line => Array.from(line.querySelectorAll('span')))
            .find(span => span.textContent === text && span.children.length === 0);
        classes[text] = span ? span.className : null;
    }
    return {
        codemirror_mode: info.language_info.codemirror_mode,
        mimeType: cell.model.mimeType,
        lines: lines.map(line => line.textContent),
        classes,
    };
})().then(result => done({ok: result}), error => done({error: String(error && error.stack || error)}));
"""


class LabextensionListTests(unittest.TestCase):
    def test_jupyter_labextension_list_shows_the_extension_enabled(self):
        listed = subprocess.run([sys.executable, "-m", "jupyterlab.labextensions", "list"],
                                capture_output=True, text=True, timeout=120)
        self.assertEqual(listed.returncode, 0, listed.stderr)
        # The list goes to stderr, coloured: "enabled" and "OK" in green.
        output = re.sub(r"\x1b\[[0-9;]*m", "", listed.stdout + listed.stderr)
        prefix = pathlib.Path(os.environ["JUPYTER_PATH"]) / "labextensions"
        lines = output.splitlines()
        self.assertIn(str(prefix), [line.strip() for line in lines], f"the install prefix is searched:\n{output}")
        installed = json.loads((prefix / EXTENSION / "package.json").read_text())
        ours = [line.strip() for line in lines if EXTENSION in line]
        self.assertEqual(ours, [f"{EXTENSION} v{installed['version']} enabled OK (cleope, cleope)"], output)


class HighlightingTests(lab.JupyterLabTests):
    # The map test is test_jupyterlab's own; this class borrows its setup.
    test_run_all_shows_the_map_as_an_image = None

    def make_notebook(self):
        notebook = {
            "cells": [{"cell_type": "code", "execution_count": None, "id": "rhai-cell", "metadata": {},
                       "outputs": [], "source": CELL}],
            # No language_info: the editor's language comes from the kernel.
            "metadata": {"kernelspec": {"name": lab.KERNEL, "display_name": "Rhai (cleope)",
                                        "language": "rhai"}},
            "nbformat": 4,
            "nbformat_minor": 5,
        }
        (self.root / "rhai.ipynb").write_text(json.dumps(notebook))

    def test_a_rhai_cell_shows_keywords_strings_numbers_comments_and_the_marker_apart(self):
        self.driver.get(f"{self.base}/lab/tree/rhai.ipynb?token={self.token}")
        self.wait_for(
            "JupyterLab to load (window.jupyterapp)",
            lambda: self.driver.execute_script("return !!window.jupyterapp"),
            timeout=120,
        )
        pieces = ["// %% Highlighting", "fn", "let", "const", "area", "0xFF_FF", "3.14", "// a comment",
                  '"area "']
        result = self.driver.execute_async_script(EDITOR_JS, pieces)
        if "error" in result:
            self.fail(f"reading the editor failed in the page: {result['error']}\n{self.diagnostics()}")
        editor = result["ok"]
        self.assertEqual(editor["codemirror_mode"], "rhai")
        self.assertEqual(editor["mimeType"], "text/x-rhai", "the Rhai language is registered")
        self.assertEqual(editor["lines"], CELL.splitlines())
        classes = editor["classes"]
        missing = [piece for piece, names in classes.items() if not names]
        if missing:  # diagnostics() saves a failure screenshot: only when failing
            self.fail(f"pieces not highlighted on their own: {missing} in {classes}\n{self.diagnostics()}")

        keyword = classes["let"]
        # Rhai's `fn` and `const` are keywords (JavaScript's mode shows `fn` as a plain name).
        self.assertEqual(classes["fn"], keyword)
        self.assertEqual(classes["const"], keyword)
        self.assertEqual(classes["0xFF_FF"], classes["3.14"], "both are numbers")
        kinds = {
            "keyword": keyword,
            "string": classes['"area "'],
            "number": classes["3.14"],
            "comment": classes["// a comment"],
            "cell marker": classes["// %% Highlighting"],
            "function name": classes["area"],
        }
        self.assertEqual(len(set(kinds.values())), len(kinds), f"each kind has its own classes: {kinds}")
        # JupyterLab's highlight style: each kind is also painted differently.
        colours = self.driver.execute_script(
            """
            const cell = document.querySelector('.jp-Cell .cm-content');
            const colour = cls => {
                const span = cell.querySelector('span.' + cls.split(' ').join('.'));
                return span ? getComputedStyle(span).color : null;
            };
            return arguments[0].map(colour);
            """,
            [kinds["keyword"], kinds["string"], kinds["comment"]],
        )
        self.assertNotIn(None, colours)
        self.assertEqual(len(set(colours)), 3, f"keyword, string and comment colours: {colours}")

        editor_node = self.driver.find_element("css selector", ".jp-Cell .cm-editor")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", editor_node)
        time.sleep(0.5)  # let the scroll paint
        self.assertTrue(self.driver.save_screenshot(str(SCREENSHOT)))


if __name__ == "__main__":
    unittest.main()
