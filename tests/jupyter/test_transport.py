"""The kernel listens exactly where the connection file says: over ipc
(Unix sockets) as well as tcp, and on tcp only on the given address."""

import os
import signal
import subprocess
import sys
import time
import unittest

from jupyter_client.manager import KernelManager, start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


def listening_tcp_addresses(ports):
    """(address, port) of the listening tcp sockets on `ports`, from /proc/net/tcp."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as lines:
            next(lines)
            for line in lines:
                fields = line.split()
                address, port = fields[1].split(":")
                if fields[3] == "0A" and int(port, 16) in ports:  # 0A: LISTEN
                    found.add((address, int(port, 16)))
    return found


class TransportTests(unittest.TestCase):
    def test_ipc_transport_runs_cells(self):
        km = KernelManager(kernel_name=KERNEL, transport="ipc")
        runtime_dir = os.environ["JUPYTER_RUNTIME_DIR"]
        os.makedirs(runtime_dir, exist_ok=True)
        km.ip = os.path.join(runtime_dir, "cleope-ipc")
        km.start_kernel()
        kc = km.client()
        kc.start_channels()
        try:
            kc.wait_for_ready(timeout=60)
            reply = kc.execute_interactive("let x = 6 * 7;\nx", timeout=20, output_hook=lambda m: None)
            self.assertEqual(reply["content"]["status"], "ok")
            self.assertTrue(os.path.exists(f"{km.ip}-{km.shell_port}"), "an ipc socket file")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)

    @unittest.skipUnless(os.path.exists("/proc/net/tcp"), "reads /proc/net/tcp")
    def test_tcp_listens_on_the_loopback_address_only(self):
        km, kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        try:
            ports = {km.shell_port, km.iopub_port, km.stdin_port, km.control_port, km.hb_port}
            addresses = listening_tcp_addresses(ports)
            self.assertEqual({port for _, port in addresses}, ports)
            self.assertEqual({address for address, _ in addresses}, {"0100007F"}, "127.0.0.1 only")
        finally:
            kc.stop_channels()
            km.shutdown_kernel(now=False)


    def test_a_kernel_whose_jupyter_dies_stops(self):
        """A crashed Jupyter server leaves no kernel running (JPY_PARENT_PID)."""
        launcher = subprocess.Popen(
            [sys.executable, "-c", (
                "import sys, time\n"
                "from jupyter_client.manager import start_new_kernel\n"
                f"km, kc = start_new_kernel(kernel_name={KERNEL!r}, startup_timeout=60)\n"
                "print(km.provisioner.process.pid, flush=True)\n"
                "time.sleep(120)\n"
            )],
            stdout=subprocess.PIPE, text=True,
        )
        with launcher.stdout:
            kernel_pid = int(launcher.stdout.readline())
        self.assertTrue(running(kernel_pid))
        launcher.send_signal(signal.SIGKILL)
        launcher.wait()
        deadline = time.monotonic() + 15
        while running(kernel_pid) and time.monotonic() < deadline:
            time.sleep(0.2)
        self.assertFalse(running(kernel_pid), "the orphaned kernel stopped")


def running(pid):
    """True while `pid` is a live process (a zombie waiting for its reaper is not)."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


if __name__ == "__main__":
    unittest.main()
