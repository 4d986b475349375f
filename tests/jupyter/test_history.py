"""The kernel keeps its history in SQLite, as IPython does: after a restart
(a new kernel process, so a new session), history requests still reach the
previous session's cells by session number, by tail and by search."""

import os
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


def history(client, **request):
    msg_id = client.history(**request)
    while True:
        reply = client.get_shell_msg(timeout=20)
        if reply["parent_header"].get("msg_id") == msg_id:
            return [tuple(entry) for entry in reply["content"]["history"]]


class HistoryTests(unittest.TestCase):
    def run_cells(self, cells):
        km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        try:
            for code in cells:
                reply = kc.execute_interactive(code, timeout=20, output_hook=lambda m: None)
                self.assertEqual(reply["content"]["status"], "ok", reply["content"])
            return km, kc
        except Exception:
            kc.stop_channels()
            km.shutdown_kernel(now=True)
            raise

    def test_a_new_kernel_answers_about_the_previous_session(self):
        km, kc = self.run_cells(["let ndvi_threshold = 0.4;", "ndvi_threshold * 2.0"])
        kc.stop_channels()
        km.shutdown_kernel(now=False)

        km, kc = self.run_cells(["40 + 2"])
        try:
            previous = history(kc, hist_access_type="range", session=-1, start=1, stop=None,
                               raw=True, output=True)
            sessions = {entry[0] for entry in previous}
            self.assertEqual(len(sessions), 1, previous)
            self.assertEqual([entry[1:] for entry in previous], [
                (1, ["let ndvi_threshold = 0.4;", ""]),
                (2, ["ndvi_threshold * 2.0", "0.8"]),
            ])
            tail = history(kc, hist_access_type="tail", n=2, raw=True, output=False)
            self.assertEqual([entry[2] for entry in tail], ["ndvi_threshold * 2.0", "40 + 2"])
            self.assertLess(tail[0][0], tail[1][0], "sessions count up")
            found = history(kc, hist_access_type="search", pattern="*ndvi*", unique=True,
                            raw=True, output=False)
            self.assertEqual([entry[2] for entry in found],
                             ["let ndvi_threshold = 0.4;", "ndvi_threshold * 2.0"])
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)


if __name__ == "__main__":
    unittest.main()
