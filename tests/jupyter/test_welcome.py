"""JEP 65: iopub is an XPUB socket, and every client that subscribes is
greeted with a signed `iopub_welcome` carrying its subscription topic, so a
client knows when it can no longer miss output."""

import os
import time
import unittest

import zmq
from jupyter_client.manager import start_new_kernel
from jupyter_client.session import Session

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]


class WelcomeTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)
        self.context = zmq.Context()

    def tearDown(self):
        self.context.destroy(linger=0)
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def subscriber(self, topic):
        socket = self.context.socket(zmq.SUB)
        socket.setsockopt(zmq.SUBSCRIBE, topic)
        socket.connect(self.km._make_url("iopub"))
        return socket

    def first_message(self, socket, timeout=10.0):
        session = Session(key=self.km.session.key)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if socket.poll(100):
                _, parts = session.feed_identities(socket.recv_multipart())
                return session.deserialize(parts)  # checks the signature
        self.fail("no message on iopub after subscribing")

    def test_each_new_subscriber_is_welcomed_with_its_topic(self):
        for topic in (b"", b"kernel."):
            with self.subTest(topic=topic):
                message = self.first_message(self.subscriber(topic))
                self.assertEqual(message["header"]["msg_type"], "iopub_welcome")
                self.assertEqual(message["content"], {"subscription": topic.decode()})

    def test_the_kernel_still_publishes_cell_output(self):
        reply = self.kc.execute_interactive('print("after welcome")', timeout=20,
                                            output_hook=lambda m: None)
        self.assertEqual(reply["content"]["status"], "ok")


if __name__ == "__main__":
    unittest.main()
