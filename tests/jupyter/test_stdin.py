"""input() and input_password() ask the notebook through the stdin channel."""

import os
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


class StdinTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def reply_to(self, msg_id):
        while True:
            reply = self.kc.get_shell_msg(timeout=20)
            if reply["parent_header"]["msg_id"] == msg_id:
                return reply["content"]

    def stdout_of(self, msg_id):
        text = ""
        while True:
            msg = self.kc.get_iopub_msg(timeout=10)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            if msg["msg_type"] == "stream":
                text += msg["content"]["text"]
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return text

    def test_input_asks_the_notebook_and_returns_the_answer(self):
        msg_id = self.kc.execute('let name = input("Your name: ");\nprint(`Hello, ${name}!`);', allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=20)
        self.assertEqual(request["msg_type"], "input_request")
        self.assertEqual(request["parent_header"]["msg_id"], msg_id)
        self.assertEqual(request["content"], {"prompt": "Your name: ", "password": False})
        self.kc.input("Ada")
        self.assertEqual(self.reply_to(msg_id)["status"], "ok")
        self.assertEqual(self.stdout_of(msg_id), "Hello, Ada!\n")

    def test_input_password_asks_for_a_hidden_answer(self):
        msg_id = self.kc.execute('let p = input_password("Password: ");\np.len()', allow_stdin=True)
        request = self.kc.get_stdin_msg(timeout=20)
        self.assertTrue(request["content"]["password"])
        self.kc.input("s3cret")
        self.assertEqual(self.reply_to(msg_id)["status"], "ok")

    def test_without_allow_stdin_input_fails_with_no_input(self):
        msg_id = self.kc.execute('input("x? ")', allow_stdin=False)
        reply = self.reply_to(msg_id)
        self.assertEqual((reply["status"], reply["ename"]), ("error", "NoInput"))

    def test_an_interrupt_ends_the_wait_and_keeps_the_session(self):
        self.kc.execute_interactive("let kept = 1;", timeout=20, output_hook=lambda m: None)
        msg_id = self.kc.execute('let v = input("waiting: ");', allow_stdin=True)
        self.kc.get_stdin_msg(timeout=20)
        self.km.interrupt_kernel()
        reply = self.reply_to(msg_id)
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "Interrupted")
        after = self.kc.execute_interactive("kept + 1", timeout=20, output_hook=lambda m: None)
        self.assertEqual(after["content"]["status"], "ok")


if __name__ == "__main__":
    unittest.main()
