"""The resource meter: a `usage_request` on the control channel is answered
during a busy cell with ipykernel's fields and the session's quota use
(`cleope_quotas`); jupyter-resource-usage's own server extension (the
"Kernel usage" panel's back end) passes cleope's answer to the browser; and
`quota_meter()`'s progress bars follow the session's memory cell by cell."""

import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


def usage(kc, timeout=5):
    """Sends a usage_request on the control channel and returns the reply."""
    msg = kc.session.msg("usage_request", {})
    kc.control_channel.send(msg)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        reply = kc.control_channel.get_msg(timeout=deadline - time.monotonic())
        if reply["parent_header"].get("msg_id") == msg["header"]["msg_id"]:
            return reply
    raise AssertionError("no usage_reply")


class UsageRequestTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def test_usage_is_answered_during_a_busy_cell_with_the_quotas(self):
        self.kc.execute_interactive("let kept = 1;", timeout=30)
        first = usage(self.kc)
        self.assertEqual(first["msg_type"], "usage_reply")
        msg_id = self.kc.execute("let i = 0;\nloop { i += 1; }")
        time.sleep(1.0)
        started = time.monotonic()
        busy = usage(self.kc)["content"]
        self.assertLess(time.monotonic() - started, 2, "answered while the cell runs")
        self.assertEqual(busy["pid"], self.km.provisioner.process.pid)
        self.assertGreater(busy["kernel_cpu"], 20, "the looping cell uses CPU")
        self.assertGreater(busy["kernel_memory"], 1 << 20)
        self.assertGreaterEqual(busy["cpu_count"], 1)
        self.assertGreater(busy["host_virtual_memory"]["total"], busy["kernel_memory"])
        quotas = busy["cleope_quotas"]
        self.assertEqual(quotas["time"]["limit"], 60.0, "the kernelspec's --time-limit 60s")
        self.assertGreater(quotas["time"]["elapsed"], 0.9, "the running cell's time")
        self.assertEqual(quotas["memory"]["limit"], 2 * 1024**3)
        self.assertGreater(quotas["memory"]["used"], 1 << 20)
        self.assertEqual(quotas["disk"]["limit"], 20_000_000_000)
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)


class QuotaMeterTests(unittest.TestCase):
    """quota_meter() opens ipywidgets FloatProgress models and updates them
    after each cell, as the widget manager sees them."""

    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=True)

    def messages(self, code):
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=60, output_hook=outputs.append)
        self.assertEqual(reply["content"]["status"], "ok", reply["content"])
        return outputs

    def test_the_bars_show_memory_use_and_follow_it_after_each_cell(self):
        shown = self.messages("let meter = quota_meter();\ndisplay(meter);")
        opened = {m["content"]["comm_id"]: m["content"]["data"]["state"]
                  for m in shown if m["msg_type"] == "comm_open"}
        bars = {cid: s for cid, s in opened.items() if s["_model_name"] == "FloatProgressModel"}
        self.assertEqual(len(bars), 2, opened)
        memory_id = next(cid for cid, s in bars.items() if s["description"].startswith("memory"))
        before = bars[memory_id]["value"]
        self.assertGreater(before, 0)
        self.assertEqual(bars[memory_id]["_view_name"], "ProgressView")
        views = [m for m in shown if m["msg_type"] == "display_data"]
        self.assertIn("application/vnd.jupyter.widget-view+json", views[0]["content"]["data"])

        # 400 MiB held of 2 GiB: the memory bar moves by about 20 points.
        grown = self.messages("let big = matrix(8192, 6400, 1.0);")
        updates = [m["content"]["data"]["state"] for m in grown
                   if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == memory_id
                   and m["content"]["data"].get("method") == "update"]
        self.assertTrue(updates, "the memory bar was updated after the cell")
        after = updates[-1]["value"]
        self.assertGreater(after - before, 15, (before, after))
        self.assertIn("/ 2.0 GiB", updates[-1]["description"])


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ResourceUsageExtensionTests(unittest.TestCase):
    """jupyter-resource-usage's /api/metrics/v1/kernel_usage endpoint sends
    the kernel a usage_request and returns its reply to the front-end."""

    def test_the_kernel_usage_panel_gets_cleope_s_answer(self):
        port, token = free_port(), secrets.token_hex(16)
        base = f"http://127.0.0.1:{port}"
        with tempfile.TemporaryDirectory() as root, open(os.path.join(root, "server.log"), "w") as log:
            server = subprocess.Popen(
                [sys.executable, "-m", "jupyter_server", "--no-browser", f"--ServerApp.port={port}",
                 "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                 f"--ServerApp.root_dir={root}", "--ServerApp.allow_root=True"],
                stdout=log, stderr=subprocess.STDOUT)
            try:
                self.wait_for_server(base, token, server, root)
                kernel = self.call(base, token, "POST", "/api/kernels", {"name": KERNEL})
                try:
                    content = self.kernel_usage(base, token, kernel["id"])
                    self.assertIn("cleope_quotas", content, content)
                    self.assertEqual(content["cleope_quotas"]["memory"]["limit"], 2 * 1024**3)
                    self.assertGreater(content["kernel_memory"], 1 << 20)
                    self.assertIn("host_usage_flag", content, "added by the extension")
                finally:
                    self.call(base, token, "DELETE", f"/api/kernels/{kernel['id']}")
            finally:
                server.terminate()
                server.wait(timeout=30)

    def kernel_usage(self, base, token, kernel_id):
        # The session opens in the kernel's code thread just after start:
        # until then the reply has no quotas; the panel polls the same way.
        deadline = time.monotonic() + 30
        while True:
            answer = self.call(base, token, "GET", f"/api/metrics/v1/kernel_usage/get_usage/{kernel_id}")
            content = answer.get("content", {})
            if "cleope_quotas" in content or time.monotonic() > deadline:
                return content
            time.sleep(0.3)

    def call(self, base, token, method, path, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{base}{path}", data=data, method=method,
                                         headers={"Authorization": f"token {token}"})
        with urllib.request.urlopen(request, timeout=30) as response:
            text = response.read()
            return json.loads(text) if text else {}

    def wait_for_server(self, base, token, server, root):
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if server.poll() is not None:
                self.fail("jupyter server exited:\n" + open(os.path.join(root, "server.log")).read()[-3000:])
            try:
                self.call(base, token, "GET", "/api/status")
                return
            except OSError:
                time.sleep(0.2)
        self.fail("jupyter server did not answer")


if __name__ == "__main__":
    unittest.main()
