"""A cleope map in JupyterLab, rendered by the real jupyter-leaflet 0.20.0 front-end in
headless Chromium: the map shows (a `.leaflet-container` with the land and the products'
footprints as SVG paths), a student draws a rectangle with the draw toolbar and the mouse,
and the next cell's `m.drawn_aoi()` is that rectangle. The page is saved as
target/jupyterlab-map.png. JupyterLab, the browser and their cleanup come from
test_jupyterlab.py."""

import re
import time
import unittest

from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

import test_jupyterlab as lab

SCRIPT = """\
// %% A map with footprints
let area = aoi_bbox(12.5, 45.0, 14.5, 46.0);
let found = odata_search(#{ aoi: area, mission: "Sentinel-1", from: "2020-08-01", to: "2020-08-31" });
let m = map(#{ center: [13.5, 45.5], zoom: 7 });
m.add(area);
m.add(found);
print(`${found.len()} footprints`);
m

// %% What the kernel sees
let drawn = m.drawn_aoi();
print(`drawn ${drawn.bbox}`);
"""

SCREENSHOT = lab.TARGET / "jupyterlab-map.png"

class MapInJupyterLab(lab.JupyterLabTests):
    # test_jupyterlab.py runs its own test; this class only borrows the set-up.
    test_run_all_shows_the_map_as_an_image = None
    NOTEBOOK = "map"
    SCRIPT = SCRIPT

    def printed(self, prefix):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output pre")
                if e.text.startswith(prefix)]

    def test_the_map_renders_and_a_drawn_rectangle_reaches_the_session(self):
        self.driver.get(f"{self.base}/lab/tree/map.ipynb?token={self.token}")
        self.wait_for("JupyterLab to load", lambda: self.driver.execute_script("return !!window.jupyterapp"),
                      timeout=120)
        self.run_cells(index=0)
        container = self.wait_for("the map (.leaflet-container)",
                                  lambda: self.driver.find_elements(By.CSS_SELECTOR, ".leaflet-container"),
                                  timeout=120)[0]
        found = self.wait_for("the footprint count", lambda: self.printed("") and
                              [p for p in self.printed("") if p.endswith("footprints")], timeout=60)
        footprints = int(found[0].split()[0])
        self.assertGreater(footprints, 0)
        # SVG paths: the land (one path), the area, and one per footprint.
        paths = self.wait_for(
            "the layers' SVG paths",
            lambda: (lambda p: p if len(p) >= 2 + footprints else None)(
                container.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive")),
            timeout=60)
        self.assertGreaterEqual(len(paths), 2 + footprints)
        colours = {p.get_attribute("stroke") for p in paths}
        self.assertIn("#ff8c00", colours, "Sentinel-1 footprints are orange")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", container)
        time.sleep(0.5)

        # A student picks the rectangle tool and drags over the map.
        tool = container.find_element(By.CSS_SELECTOR, ".leaflet-draw-draw-rectangle")
        tool.click()
        size = container.size
        start = (-size["width"] // 6, -size["height"] // 6)
        end = (size["width"] // 6, size["height"] // 6)
        ActionChains(self.driver).move_to_element_with_offset(container, *start).click_and_hold() \
            .move_by_offset(end[0] - start[0], end[1] - start[1]).pause(0.2) \
            .release().perform()
        # The drawn rectangle is one more path on the map.
        self.wait_for("the drawn rectangle's path",
                      lambda: len(container.find_elements(By.CSS_SELECTOR, "path.leaflet-interactive"))
                      > len(paths), timeout=30)
        time.sleep(0.5)
        self.assertTrue(self.driver.save_screenshot(str(SCREENSHOT)))

        self.run_cells(index=1)
        seen = self.wait_for("the next cell to see the drawn area", lambda: self.printed("drawn "), timeout=60)
        west, south, east, north = map(float, re.findall(r"-?\d+\.?\d*", seen[0]))
        # The map shows about 13.5° E, 45.5° N at zoom 7: the rectangle is around it.
        self.assertLess(west, 13.5)
        self.assertGreater(east, 13.5)
        self.assertLess(south, 45.5)
        self.assertGreater(north, 45.5)
        # The drag spanned a third of the map's width: at zoom 7 a pixel is 360 / (256 * 2^7)
        # degrees of longitude.
        dragged = (end[0] - start[0]) * 360.0 / (256 * 2 ** 7)
        self.assertAlmostEqual(east - west, dragged, delta=dragged * 0.2,
                               msg=f"drawn {seen[0]} for a drag of {dragged:.2f}° of longitude")
        errors = self.driver.find_elements(
            By.CSS_SELECTOR, ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
        self.assertEqual([e.text for e in errors], [])


if __name__ == "__main__":
    unittest.main()
