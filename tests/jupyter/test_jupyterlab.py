"""A notebook made by `cleope notebook` from a small script, opened in
JupyterLab in headless Chromium (Debian's chromium and chromedriver, steered
by selenium) and run with "Run All Cells" as a student would: the map the
kernel sends as image/png shows in the page. A screenshot of the page is
saved as target/jupyterlab-screenshot.png."""

import io
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]
CLEOPE = os.environ["CLEOPE_BIN"]
TARGET = pathlib.Path(CLEOPE).resolve().parents[1]  # target/<profile>/cleope
SCREENSHOT = TARGET / "jupyterlab-screenshot.png"
FAILURE_SCREENSHOT = TARGET / "jupyterlab-failure.png"
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
WINDOW = (1280, 1024)

SCRIPT = """\
// %% [markdown]
// # A map in JupyterLab
// A synthetic sea-surface temperature field over the Gulf of Naples.

// %% The field
let field = matrix(60, 80);
for row in 0..60 {
    for col in 0..80 {
        field.set(row, col, 14.0 + (row.to_float() + (80 - col).to_float()) / 14.0);
    }
}
let temperature = field.to_raster([13.8, 40.4, 14.6, 41.0]);

// %% The map
let fig = temperature.plot(#{ cmap: "coolwarm", title: "Sea surface temperature", units: "°C",
                              coastlines: true });
print(`figure ${fig.width}x${fig.height}`);
"""

# Every image in an output area, with its natural size once it has loaded.
IMAGES_JS = """
return Array.from(document.querySelectorAll('.jp-OutputArea-output img')).map(
    img => ({complete: img.complete, width: img.naturalWidth, height: img.naturalHeight}));
"""

# Defines `openNotebook(path)`: waits for the app, the notebook `path` and
# its kernel, and gives {app, panel, kernel}. The scripts below start with it.
OPEN_NOTEBOOK_JS = """
async function openNotebook(path) {
    const app = window.jupyterapp;
    await app.started;
    await app.restored;
    let panel = null;
    for (let i = 0; i < 600 && !panel; i++) {
        const widget = app.shell.currentWidget;
        if (widget && widget.sessionContext && widget.context && widget.context.path === path) {
            panel = widget;
        } else {
            await new Promise(resolve => setTimeout(resolve, 100));
        }
    }
    if (!panel) throw new Error(path + ' is not the current widget');
    await panel.context.ready;
    await panel.sessionContext.ready;
    const kernel = panel.sessionContext.session && panel.sessionContext.session.kernel;
    if (!kernel) throw new Error('the notebook has no kernel');
    return {app, panel, kernel};
}
"""

# Runs every cell of figure.ipynb with JupyterLab's own "Run All Cells"
# command (the Run menu's entry).
RUN_ALL_JS = OPEN_NOTEBOOK_JS + """
const done = arguments[arguments.length - 1];
(async () => {
    const {app, kernel} = await openNotebook('figure.ipynb');
    const info = await kernel.info;
    await app.commands.execute('notebook:run-all-cells');
    return {kernel: kernel.name, language: info.language_info.name};
})().then(result => done({ok: result}), error => done({error: String(error && error.stack || error)}));
"""


# Runs the cells of the notebook `arguments[0]` with JupyterLab's own
# commands: every cell, or (with a cell index, `arguments[1]`) that cell only.
RUN_CELLS_JS = OPEN_NOTEBOOK_JS + """
const [path, index, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
(async () => {
    const {app, panel, kernel} = await openNotebook(path);
    if (index === null) {
        await app.commands.execute('notebook:run-all-cells');
    } else {
        panel.content.activeCellIndex = index;
        await app.commands.execute('notebook:run-cell');
    }
    return kernel.name;
})().then(result => done({ok: result}), error => done({error: String(error && error.stack || error)}));
"""

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path, lines=60):
    try:
        return "\n".join(pathlib.Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError as e:
        return f"(cannot read {path}: {e})"


class JupyterLabTests(unittest.TestCase):
    def setUp(self):
        self.driver = None
        FAILURE_SCREENSHOT.unlink(missing_ok=True)
        for program in (CHROMIUM, CHROMEDRIVER):
            if not os.access(program, os.X_OK):
                self.fail(
                    f"{program} is missing: run scripts/setup.sh (it installs Debian's chromium and "
                    "chromium-driver, which this JupyterLab test drives)"
                )
        folder = tempfile.TemporaryDirectory(prefix="cleope-lab-")
        self.addCleanup(folder.cleanup)
        self.dir = pathlib.Path(folder.name)
        self.root = self.dir / "root"
        self.root.mkdir()
        self.make_notebook()
        self.start_lab()
        self.start_browser()

    # The notebook each test opens: `cleope notebook` makes NOTEBOOK.ipynb from SCRIPT (the
    # tests of widgets and maps set their own).
    NOTEBOOK = "figure"
    SCRIPT = SCRIPT

    def make_notebook(self):
        script = self.dir / f"{self.NOTEBOOK}.rhai"
        script.write_text(self.SCRIPT)
        notebook = self.root / f"{self.NOTEBOOK}.ipynb"
        subprocess.run([CLEOPE, "notebook", str(script), "-o", str(notebook)], check=True, timeout=60,
                       capture_output=True)
        content = json.loads(notebook.read_text())
        # The kernel installed for the tests, so JupyterLab starts it without asking.
        content["metadata"]["kernelspec"]["name"] = KERNEL
        notebook.write_text(json.dumps(content))

    def start_lab(self):
        settings = self.dir / "lab-settings"
        notification = settings / "@jupyterlab/apputils-extension/notification.jupyterlab-settings"
        notification.parent.mkdir(parents=True)
        # No news or update toasts over the notebook (and no requests for them).
        notification.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.base = f"http://127.0.0.1:{self.port}"
        self.lab_log_path = self.dir / "lab.log"
        self.lab_log = open(self.lab_log_path, "wb")
        self.addCleanup(self.lab_log.close)
        self.lab = subprocess.Popen(
            [
                sys.executable, "-m", "jupyterlab", "--no-browser",
                "--ServerApp.ip=127.0.0.1",
                f"--ServerApp.port={self.port}",
                "--ServerApp.port_retries=0",
                f"--IdentityProvider.token={self.token}",
                f"--ServerApp.root_dir={self.root}",
                "--ServerApp.terminals_enabled=False",
                "--ServerApp.allow_root=True",  # CI runs as root; the server is on loopback with a token
                "--LabApp.expose_app_in_browser=True",
                "--LabApp.extension_manager=readonly",
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
                f"--LabApp.user_settings_dir={settings}",
                f"--LabApp.workspaces_dir={self.dir / 'lab-workspaces'}",
            ],
            cwd=self.root,
            stdin=subprocess.DEVNULL,
            stdout=self.lab_log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.addCleanup(self.stop_lab)
        self.wait_for("JupyterLab to answer on its port", self.lab_answers, timeout=90)

    def lab_answers(self):
        if self.lab.poll() is not None:
            self.fail(f"jupyter lab exited with {self.lab.returncode}\n--- lab log\n{tail(self.lab_log_path)}")
        try:
            with urllib.request.urlopen(f"{self.base}/api/status?token={self.token}", timeout=5) as r:
                return r.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def stop_lab(self):
        """Asks the server to shut down (it stops its kernels), then ends the
        whole process group if it has not gone within 30 s."""
        if self.lab.poll() is None:
            try:
                request = urllib.request.Request(f"{self.base}/api/shutdown?token={self.token}", method="POST")
                urllib.request.urlopen(request, timeout=10).close()
            except (urllib.error.URLError, OSError):
                pass
            try:
                self.lab.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 10)):
            try:
                os.killpg(self.lab.pid, sig)  # kernels it may have left behind, too
            except ProcessLookupError:
                break
            try:
                self.lab.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                pass

    def start_browser(self):
        options = webdriver.ChromeOptions()
        options.binary_location = CHROMIUM
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     f"--window-size={WINDOW[0]},{WINDOW[1]}", "--force-device-scale-factor=1",
                     "--no-first-run", "--disable-extensions", "--disable-background-networking"):
            options.add_argument(flag)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.chromedriver_log = self.dir / "chromedriver.log"
        service = Service(executable_path=CHROMEDRIVER, log_output=str(self.chromedriver_log))
        self.driver = webdriver.Chrome(options=options, service=service)
        self.addCleanup(self.driver.quit)  # runs before stop_lab: cleanups go last in, first out
        self.driver.set_script_timeout(180)

    def diagnostics(self):
        parts = []
        if self.driver is not None:
            try:
                self.driver.save_screenshot(str(FAILURE_SCREENSHOT))
                parts.append(f"--- the page as it was: {FAILURE_SCREENSHOT}")
            except Exception as e:  # noqa: BLE001 - diagnostics only
                parts.append(f"--- no screenshot: {e}")
            try:
                entries = self.driver.get_log("browser")[-60:]
                console = "\n".join(f"{e['level']} {e['message']}" for e in entries)
            except Exception as e:  # noqa: BLE001
                console = f"(cannot read the console: {e})"
            parts.append(f"--- browser console\n{console}")
        parts.append(f"--- jupyter lab log (tail)\n{tail(self.lab_log_path)}")
        return "\n".join(parts)

    def run_cells(self, index=None):
        """Runs every cell of the notebook, or (with an index) that cell only, with
        JupyterLab's own commands."""
        ran = self.driver.execute_async_script(RUN_CELLS_JS, f"{self.NOTEBOOK}.ipynb", index)
        if "error" in ran:
            self.fail(f"running cells failed in the page: {ran['error']}\n{self.diagnostics()}")
        self.assertEqual(ran["ok"], KERNEL)

    def wait_for(self, what, condition, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            value = condition()
            if value:
                return value
            time.sleep(0.25)
        self.fail(f"timed out after {timeout} s waiting for {what}\n{self.diagnostics()}")

    def test_run_all_shows_the_map_as_an_image(self):
        self.driver.get(f"{self.base}/lab/tree/figure.ipynb?token={self.token}")
        self.wait_for(
            "JupyterLab to load (window.jupyterapp)",
            lambda: self.driver.execute_script("return !!window.jupyterapp"),
            timeout=120,
        )
        ran = self.driver.execute_async_script(RUN_ALL_JS)
        if "error" in ran:
            self.fail(f"Run All Cells failed in the page: {ran['error']}\n{self.diagnostics()}")
        self.assertEqual(ran["ok"], {"kernel": KERNEL, "language": "rhai"})

        def figure_loaded():
            images = self.driver.execute_script(IMAGES_JS)
            return [i for i in images if i["complete"] and i["width"] > 0] or None

        images = self.wait_for("an image with naturalWidth > 0 in an output area", figure_loaded, timeout=120)
        self.assertEqual(len(images), 1, images)
        printed = self.wait_for(
            "the cell's printed figure size",
            lambda: [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output pre")
                     if e.text.startswith("figure ")],
            timeout=60,
        )
        self.assertEqual(printed, [f"figure {images[0]['width']}x{images[0]['height']}"],
                         "the image is the figure the kernel drew, at its size")
        errors = self.driver.find_elements(
            By.CSS_SELECTOR, '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')
        self.assertEqual([e.text for e in errors], [], "no cell failed")

        image = self.driver.find_element(By.CSS_SELECTOR, ".jp-OutputArea-output img")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", image)
        time.sleep(0.5)  # let the scroll paint
        self.assertTrue(self.driver.save_screenshot(str(SCREENSHOT)))
        with Image.open(SCREENSHOT) as page:
            page.load()  # decodes every pixel
            self.assertEqual(page.format, "PNG")
            viewport = self.driver.execute_script("return [window.innerWidth, window.innerHeight]")
            self.assertEqual(page.size, tuple(viewport))
            self.assertEqual(page.size[0], WINDOW[0])
        with Image.open(io.BytesIO(image.screenshot_as_png)) as shot:
            shown = shot.convert("RGB")
        self.assertGreater(shown.width, 300, shown.size)
        colours = shown.getcolors(maxcolors=shown.width * shown.height)
        self.assertGreater(len(colours), 100, "the figure is not blank: a colour ramp, coastline, labels")
        most_common = max(count for count, _ in colours)
        self.assertLess(most_common, 0.9 * shown.width * shown.height, "no single colour fills the figure")


if __name__ == "__main__":
    unittest.main()
