"""Messages whose HMAC signature does not match the connection key are
dropped (and logged), and the kernel keeps answering properly signed ones."""

import os
import unittest
from queue import Empty

from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


class SignatureTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def send_signed_with(self, key, code):
        """Sends an execute_request on the client's own shell socket, signed with `key`."""
        forger = Session(key=key, session=self.kc.session.session, username=self.kc.session.username)
        msg = forger.msg("execute_request", {
            "code": code, "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
        })
        forger.send(self.kc.shell_channel.socket, msg)
        return msg["header"]["msg_id"]

    def test_a_bad_signature_is_ignored_and_the_kernel_keeps_answering(self):
        forged = self.send_signed_with(b"not-the-key", 'print("forged");')
        with self.assertRaises(Empty):
            reply = self.kc.get_shell_msg(timeout=1.5)
            self.fail(f"the forged request was answered: {reply}")

        tampered = self.kc.session.msg("execute_request", {
            "code": 'print("tampered");', "silent": False, "store_history": True,
            "user_expressions": {}, "allow_stdin": False, "stop_on_error": True,
        })
        parts = self.kc.session.serialize(tampered)
        # Change the content after signing: the signature no longer matches.
        parts[-1] = parts[-1].replace(b"tampered", b"TAMPERED")
        self.kc.shell_channel.socket.send_multipart(parts)
        with self.assertRaises(Empty):
            self.kc.get_shell_msg(timeout=1.5)

        reply = self.kc.execute_interactive('print("still here");', timeout=20, output_hook=lambda m: None)
        self.assertEqual(reply["content"]["status"], "ok")
        self.assertNotEqual(reply["parent_header"]["msg_id"], forged)
        self.assertTrue(self.km.is_alive())


if __name__ == "__main__":
    unittest.main()
