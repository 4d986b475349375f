"""A cleope slider in JupyterLab, rendered by the real widget front-end
(jupyterlab-widgets' @jupyter-widgets/jupyterlab-manager) in headless
Chromium: the slider shows, a student moves it with the keyboard, and the
next cell sees the new value. The page is saved as
target/jupyterlab-widgets.png. JupyterLab, the browser and their cleanup
come from test_jupyterlab.py."""

import time
import unittest

from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

import test_jupyterlab as lab

SCRIPT = """\
// %% A slider
let threshold = slider(#{ min: 0, max: 10, value: 3, description: "threshold" });
let moves = 0;
observe(threshold, |v| moves += 1);
threshold

// %% What the kernel sees
print(`threshold is ${threshold.value} after ${moves} moves`);
"""

SCREENSHOT = lab.TARGET / "jupyterlab-widgets.png"

class WidgetsInJupyterLab(lab.JupyterLabTests):
    # test_jupyterlab.py runs its own test; this class only borrows the set-up.
    test_run_all_shows_the_map_as_an_image = None
    NOTEBOOK = "widgets"
    SCRIPT = SCRIPT

    def printed(self):
        return [e.text for e in self.driver.find_elements(By.CSS_SELECTOR, ".jp-OutputArea-output pre")
                if e.text.startswith("threshold is")]

    def test_a_slider_renders_and_moving_it_changes_the_value_the_next_cell_sees(self):
        self.driver.get(f"{self.base}/lab/tree/widgets.ipynb?token={self.token}")
        self.wait_for("JupyterLab to load", lambda: self.driver.execute_script("return !!window.jupyterapp"),
                      timeout=120)
        self.run_cells()
        sliders = self.wait_for("the slider widget (.widget-slider)",
                                lambda: self.driver.find_elements(By.CSS_SELECTOR, ".widget-slider"), timeout=120)
        self.assertEqual(len(sliders), 1)
        slider = sliders[0]
        self.assertIn("threshold", slider.find_element(By.CSS_SELECTOR, ".widget-label").text)
        readout = slider.find_element(By.CSS_SELECTOR, ".widget-readout")
        self.assertEqual(readout.text, "3")
        self.wait_for("the second cell's output", lambda: self.printed() == ["threshold is 3 after 0 moves"],
                      timeout=60)
        errors = self.driver.find_elements(By.CSS_SELECTOR, ".jp-RenderedText[data-mime-type='application/vnd.jupyter.stderr']")
        self.assertEqual([e.text for e in errors], [])

        # A student moves the handle two steps with the keyboard.
        handle = slider.find_element(By.CSS_SELECTOR, ".noUi-handle")
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", handle)
        handle.click()
        handle.send_keys(Keys.ARROW_RIGHT)
        handle.send_keys(Keys.ARROW_RIGHT)
        self.wait_for("the readout to show 5", lambda: readout.text == "5", timeout=30)

        # The next run of the second cell sees the value the browser set.
        # Two quick key presses may reach the kernel as one update or two.
        self.run_cells(index=1)
        seen = self.wait_for("the second cell to see the moved slider",
                             lambda: [p for p in self.printed() if p.startswith("threshold is 5 after ")], timeout=60)
        moves = int(seen[0].split()[4])
        self.assertIn(moves, (1, 2), seen)
        time.sleep(0.5)  # let the paint settle for the screenshot: the moved slider and what the cell saw
        self.assertTrue(self.driver.save_screenshot(str(SCREENSHOT)))


if __name__ == "__main__":
    unittest.main()
