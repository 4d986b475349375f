"""The kernel runs inside the sandbox's walls: Jupyter starts it in the
notebook's folder (on a hub, often the home folder, with a ~/.netrc), and
that folder stays closed to cells unless the operator grants it; the
kernel process is confined by Landlock and seccomp from its first cell."""

import ctypes
import os
import struct
import tempfile
import unittest

from jupyter_client.manager import KernelManager

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]

IN_OPEN = 0x20
IN_ACCESS = 0x01
IN_NONBLOCK = 0o4000


class Watch:
    """Counts the times a file is opened or read (inotify, through libc)."""

    def __init__(self, path):
        self.libc = ctypes.CDLL("libc.so.6", use_errno=True)
        self.fd = self.libc.inotify_init1(IN_NONBLOCK)
        assert self.fd >= 0
        assert self.libc.inotify_add_watch(self.fd, path.encode(), IN_OPEN | IN_ACCESS) >= 0

    def touches(self):
        count = 0
        while True:
            try:
                data = os.read(self.fd, 4096)
            except BlockingIOError:
                return count
            offset = 0
            while offset < len(data):
                _wd, _mask, _cookie, length = struct.unpack_from("iIII", data, offset)
                offset += 16 + length
                count += 1


class SandboxTests(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.TemporaryDirectory()
        self.netrc = os.path.join(self.home.name, ".netrc")
        with open(self.netrc, "w") as f:
            f.write("machine catalogue.example.org login student password kernel-canary-2718\n")
        with open(os.path.join(self.home.name, "helper.rhai"), "w") as f:
            f.write("fn secret() { 1 }\n")
        self.watch = Watch(self.netrc)
        self.km = KernelManager(kernel_name=KERNEL)
        self.km.start_kernel(cwd=self.home.name)
        self.kc = self.km.client()
        self.kc.start_channels()
        self.kc.wait_for_ready(timeout=60)
        self.pid = self.km.provisioner.process.pid

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)
        self.home.cleanup()

    def run_cell(self, code):
        outputs = []

        def keep(message):
            if message["msg_type"] in ("stream", "error"):
                outputs.append(str(message["content"]))

        reply = self.kc.execute_interactive(code, timeout=60, output_hook=keep)
        return reply["content"], "".join(outputs)

    def test_the_notebook_folder_stays_closed_and_the_kernel_lives(self):
        reply, _ = self.run_cell("let kept = 42;")
        self.assertEqual(reply["status"], "ok")
        reply, shown = self.run_cell(f'read_text("{self.netrc}")')
        self.assertEqual((reply["status"], reply["ename"]), ("error", "PathNotAllowed"))
        reply, shown = self.run_cell('import "helper" as h;')
        self.assertEqual(reply["status"], "error")
        self.assertIn("not granted", shown)
        reply, shown = self.run_cell("print(kept); print(quota().wall);")
        self.assertEqual(reply["status"], "ok", shown)
        self.assertIn("42", shown)
        self.assertIn("Landlock ABI", shown)
        self.assertNotIn("kernel-canary-2718", shown)
        self.assertEqual(self.watch.touches(), 0, "a cell opened the notebook folder's .netrc")

    def test_the_kernel_process_is_confined_by_seccomp(self):
        with open(f"/proc/{self.pid}/status") as status:
            fields = dict(line.split(":", 1) for line in status if ":" in line)
        self.assertEqual(fields["Seccomp"].strip(), "2", "seccomp filter mode")
        self.assertEqual(fields["NoNewPrivs"].strip(), "1")


if __name__ == "__main__":
    unittest.main()
