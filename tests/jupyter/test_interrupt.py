"""The control side of the kernel: interrupting a long loop through
KernelManager.interrupt_kernel() (an interrupt_request on the control
channel) or SIGINT stops the cell, keeps the kernel and its variables, and
leaves the heartbeat answering throughout; a restart is a fresh session."""

import os
import signal
import time
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


class InterruptTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def execute(self, code, timeout=30):
        outputs = []
        reply = self.kc.execute_interactive(code, timeout=timeout, output_hook=outputs.append)
        return reply["content"], outputs

    def test_interrupt_stops_a_long_loop_and_keeps_the_variables(self):
        content, _ = self.execute("let kept = 42;")
        self.assertEqual(content["status"], "ok")

        msg_id = self.kc.execute('print("looping");\nlet i = 0;\nloop { i += 1; }')
        self.wait_for_stream(msg_id, "looping")
        time.sleep(0.3)
        self.assertTrue(self.km.is_alive())
        self.assertTrue(self.kc.hb_channel.is_beating(), "heartbeat answers during the loop")
        started = time.monotonic()
        self.km.interrupt_kernel()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertLess(time.monotonic() - started, 5)
        self.assertEqual(reply["parent_header"]["msg_id"], msg_id)
        self.assertEqual(reply["content"]["status"], "error")
        self.assertEqual(reply["content"]["ename"], "Interrupted")

        content, outputs = self.execute("print(kept); i > 0")
        self.assertEqual(content["status"], "ok")
        texts = [o["content"].get("text", "") for o in outputs if o["msg_type"] == "stream"]
        self.assertEqual("".join(texts), "42\n")
        results = [o for o in outputs if o["msg_type"] == "execute_result"]
        self.assertEqual(results[0]["content"]["data"]["text/plain"], "true")

    def test_an_interrupt_while_idle_does_not_stop_the_next_cell(self):
        self.km.interrupt_kernel()
        time.sleep(0.2)
        content, _ = self.execute("let total = 0;\nfor i in 0..1000 { total += i; }\ntotal")
        self.assertEqual(content["status"], "ok")

    def test_sigint_interrupts_like_an_interrupt_request(self):
        self.execute("let kept = 1;")
        msg_id = self.kc.execute('print("looping");\nloop { kept += 1; }')
        self.wait_for_stream(msg_id, "looping")
        self.km.signal_kernel(signal.SIGINT)
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["content"]["ename"], "Interrupted")
        content, _ = self.execute("kept > 1")
        self.assertEqual(content["status"], "ok")

    def test_restart_gives_a_fresh_session(self):
        self.execute("let before_restart = 1;")
        self.km.restart_kernel(now=False)
        self.kc.wait_for_ready(timeout=60)
        content, _ = self.execute("before_restart")
        self.assertEqual((content["status"], content["ename"]), ("error", "VariableNotFound"))

    def test_comm_info_is_empty_and_control_answers_kernel_info(self):
        self.kc.comm_info()
        reply = self.kc.get_shell_msg(timeout=10)
        self.assertEqual(reply["msg_type"], "comm_info_reply")
        self.assertEqual((reply["content"]["status"], reply["content"]["comms"]), ("ok", {}))
        request = self.kc.session.msg("kernel_info_request", {})
        self.kc.control_channel.send(request)
        reply = self.kc.control_channel.get_msg(timeout=10)
        self.assertEqual(reply["content"]["language_info"]["name"], "rhai")

    def wait_for_stream(self, msg_id, text, timeout=20):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            msg = self.kc.get_iopub_msg(timeout=deadline - time.monotonic())
            if (
                msg["parent_header"].get("msg_id") == msg_id
                and msg["msg_type"] == "stream"
                and text in msg["content"]["text"]
            ):
                return
        self.fail(f"no {text!r} on iopub")


if __name__ == "__main__":
    unittest.main()
