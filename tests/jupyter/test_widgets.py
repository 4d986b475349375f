"""Widgets over comms, driven with jupyter_client as JupyterLab's widget
manager (jupyterlab-widgets 3.0.17) drives them: models opened by the
kernel, comm_info, the control comm's request_states, updates from the
front-end reaching observe callbacks, button clicks, callback errors."""

import os
import unittest
import uuid

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]
VIEW_MIME = "application/vnd.jupyter.widget-view+json"


class WidgetTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    # -- helpers ---------------------------------------------------------

    def iopub_until_idle(self, msg_id, timeout=20):
        """The iopub messages about request `msg_id`, up to its idle status."""
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=timeout)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages

    def reply_to(self, msg_id):
        while True:
            reply = self.kc.get_shell_msg(timeout=20)
            if reply["parent_header"]["msg_id"] == msg_id:
                return reply

    def run_cell(self, code):
        """Runs a cell; returns its reply content and its iopub messages."""
        msg_id = self.kc.execute(code)
        reply = self.reply_to(msg_id)["content"]
        return reply, self.iopub_until_idle(msg_id)

    def value_of(self, expression):
        reply, messages = self.run_cell(expression)
        self.assertEqual(reply["status"], "ok", reply)
        results = [m for m in messages if m["msg_type"] == "execute_result"]
        return results[-1]["content"]["data"]["text/plain"]

    def send(self, msg_type, content, buffers=None):
        """Sends a shell message as the widget manager does; returns its id."""
        msg = self.kc.session.msg(msg_type, content)
        self.kc.session.send(self.kc.shell_channel.socket, msg, buffers=buffers or [])
        return msg["header"]["msg_id"]

    def comm_msg(self, comm_id, data, buffers=None, timeout=20):
        msg_id = self.send("comm_msg", {"comm_id": comm_id, "data": data}, buffers)
        return self.iopub_until_idle(msg_id, timeout)

    def opened_models(self, messages):
        return {
            m["content"]["comm_id"]: m
            for m in messages
            if m["msg_type"] == "comm_open"
        }

    def slider(self, code='let s = slider(#{ min: 0, max: 10, value: 3, description: "threshold" });\ns'):
        reply, messages = self.run_cell(code)
        self.assertEqual(reply["status"], "ok", reply)
        models = self.opened_models(messages)
        sliders = [i for i, m in models.items() if m["content"]["data"]["state"]["_model_name"] == "IntSliderModel"]
        self.assertEqual(len(sliders), 1, models)
        return sliders[0], models, messages

    # -- tests -----------------------------------------------------------

    def test_a_slider_opens_its_models_and_displays_as_a_widget_view(self):
        slider_id, models, messages = self.slider()
        self.assertEqual(len(models), 3, "layout, style and slider")
        order = list(models)
        slider = models[slider_id]
        self.assertEqual(order[-1], slider_id, "children are opened before the slider")
        content = slider["content"]
        self.assertEqual(content["target_name"], "jupyter.widget")
        self.assertEqual(slider["metadata"], {"version": "2.1.0"})
        state = content["data"]["state"]
        self.assertEqual(state["_model_module"], "@jupyter-widgets/controls")
        self.assertEqual(state["_model_module_version"], "2.0.0")
        self.assertEqual(state["_view_name"], "IntSliderView")
        self.assertEqual((state["min"], state["max"], state["value"]), (0, 10, 3))
        self.assertEqual(state["description"], "threshold")
        layout = state["layout"].removeprefix("IPY_MODEL_")
        style = state["style"].removeprefix("IPY_MODEL_")
        self.assertEqual(models[layout]["content"]["data"]["state"]["_model_name"], "LayoutModel")
        self.assertEqual(models[style]["content"]["data"]["state"]["_model_name"], "SliderStyleModel")
        result = [m for m in messages if m["msg_type"] == "execute_result"][0]["content"]["data"]
        self.assertEqual(result[VIEW_MIME], {"model_id": slider_id, "version_major": 2, "version_minor": 0})
        self.assertEqual(result["text/plain"], "[IntSlider threshold: 3]")

    def test_comm_info_lists_the_models_by_target(self):
        self.assertEqual(self.kc.comm_info(reply=True)["content"]["comms"], {})
        slider_id, models, _ = self.slider()
        listed = self.kc.comm_info(target_name="jupyter.widget", reply=True)["content"]["comms"]
        self.assertEqual(set(listed), set(models))
        self.assertEqual(listed[slider_id], {"target_name": "jupyter.widget"})
        other = self.kc.comm_info(target_name="no.such.target", reply=True)["content"]["comms"]
        self.assertEqual(other, {})

    def test_the_control_comm_answers_request_states_with_every_model(self):
        slider_id, models, _ = self.slider()
        control = str(uuid.uuid4())
        opened = self.send("comm_open", {"comm_id": control, "target_name": "jupyter.widget.control", "data": {}})
        closes = [m for m in self.iopub_until_idle(opened) if m["msg_type"] == "comm_close"]
        self.assertEqual(closes, [], "the control comm is accepted")
        messages = self.comm_msg(control, {"method": "request_states"})
        answers = [m for m in messages if m["msg_type"] == "comm_msg"]
        self.assertEqual(len(answers), 1)
        self.assertEqual(answers[0]["content"]["comm_id"], control)
        data = answers[0]["content"]["data"]
        self.assertEqual(data["method"], "update_states")
        self.assertEqual(set(data["states"]), set(models))
        entry = data["states"][slider_id]
        self.assertEqual(entry["model_name"], "IntSliderModel")
        self.assertEqual(entry["model_module"], "@jupyter-widgets/controls")
        self.assertEqual(entry["model_module_version"], "2.0.0")
        self.assertEqual(entry["state"]["value"], 3)
        self.assertEqual(data["buffer_paths"], [])

    def test_a_comm_for_an_unknown_target_is_closed_at_once(self):
        comm_id = str(uuid.uuid4())
        opened = self.send("comm_open", {"comm_id": comm_id, "target_name": "someone.else", "data": {}})
        closes = [m for m in self.iopub_until_idle(opened) if m["msg_type"] == "comm_close"]
        self.assertEqual(len(closes), 1)
        self.assertEqual(closes[0]["content"]["comm_id"], comm_id)

    def test_an_update_from_the_front_end_reaches_observe_and_changes_a_variable(self):
        slider_id, _, _ = self.slider(
            "let seen = 0;\nlet s = slider(#{ max: 10, value: 3 });\n"
            "observe(s, |v| { seen = v * 10; print(`moved to ${v}`); });\ns"
        )
        messages = self.comm_msg(slider_id, {"method": "update", "state": {"value": 7}, "buffer_paths": []})
        echoes = [m for m in messages if m["msg_type"] == "comm_msg"]
        self.assertEqual(echoes[0]["content"]["data"]["method"], "echo_update")
        self.assertEqual(echoes[0]["content"]["data"]["state"], {"value": 7})
        printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(printed, "moved to 7\n", "the callback's output is parented to the comm_msg")
        self.assertEqual(self.value_of("seen"), "70")
        self.assertEqual(self.value_of("s.value"), "7")

    def test_a_value_set_by_the_script_is_sent_to_the_front_end(self):
        slider_id, _, _ = self.slider()
        reply, messages = self.run_cell("s.value = 9;")
        self.assertEqual(reply["status"], "ok", reply)
        updates = [m["content"] for m in messages if m["msg_type"] == "comm_msg"]
        self.assertEqual(updates, [{"comm_id": slider_id, "data": {"method": "update", "state": {"value": 9}, "buffer_paths": []}}])
        reply, _ = self.run_cell('s.value = "high";')
        self.assertEqual((reply["status"], reply["ename"]), ("error", "BadWidgetValue"))

    def test_request_state_answers_the_whole_state(self):
        slider_id, _, _ = self.slider()
        messages = self.comm_msg(slider_id, {"method": "request_state"})
        updates = [m["content"]["data"] for m in messages if m["msg_type"] == "comm_msg"]
        self.assertEqual(updates[0]["method"], "update")
        self.assertEqual(updates[0]["state"]["value"], 3)
        self.assertEqual(updates[0]["state"]["_model_name"], "IntSliderModel")

    def test_a_button_click_runs_on_click(self):
        reply, messages = self.run_cell('let clicks = 0;\nlet b = button("Count");\non_click(b, |w| { clicks += 1; print(w.description); });\nb')
        self.assertEqual(reply["status"], "ok", reply)
        models = self.opened_models(messages)
        button = [i for i, m in models.items() if m["content"]["data"]["state"]["_model_name"] == "ButtonModel"][0]
        for _ in range(2):
            messages = self.comm_msg(button, {"method": "custom", "content": {"event": "click"}})
        printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(printed, "Count\n")
        self.assertEqual(self.value_of("clicks"), "2")

    def test_a_callback_error_is_reported_and_the_session_survives(self):
        slider_id, _, _ = self.slider(
            "let kept = 42;\nlet s = slider(#{ max: 10 });\nobserve(s, |v| v.no_such_method());\ns"
        )
        messages = self.comm_msg(slider_id, {"method": "update", "state": {"value": 5}, "buffer_paths": []})
        errors = [m["content"] for m in messages if m["msg_type"] == "error"]
        self.assertEqual(len(errors), 1, messages)
        self.assertEqual(errors[0]["ename"], "FunctionNotFound")
        self.assertIn("no_such_method", errors[0]["evalue"])
        self.assertEqual(self.value_of("kept"), "42")
        self.assertEqual(self.value_of("s.value"), "5")

    def test_a_callback_stops_at_the_time_limit_and_the_session_survives(self):
        slider_id, _, _ = self.slider("let kept = 1;\nlet s = slider(#{ max: 10 });\nobserve(s, |v| { loop {} });\ns")
        # tests/it/kernel.rs installs the kernel with a 60 s time limit per run.
        messages = self.comm_msg(slider_id, {"method": "update", "state": {"value": 2}, "buffer_paths": []},
                                 timeout=120)
        errors = [m["content"]["ename"] for m in messages if m["msg_type"] == "error"]
        self.assertEqual(errors, ["TimeQuotaExceeded"])
        self.assertEqual(self.value_of("kept"), "1")

    def test_interact_reruns_the_function_in_its_output_widget(self):
        reply, messages = self.run_cell("interact(|n| print(`n is ${n}`), #{ n: [0, 10] });")
        self.assertEqual(reply["status"], "ok", reply)
        models = self.opened_models(messages)
        by_name = {m["content"]["data"]["state"]["_model_name"]: i for i, m in models.items()}
        output = by_name["OutputModel"]
        slider = by_name["IntSliderModel"]
        box = models[by_name["VBoxModel"]]["content"]["data"]["state"]
        self.assertEqual(box["children"], [f"IPY_MODEL_{slider}", f"IPY_MODEL_{output}"])
        displays = [m["content"]["data"] for m in messages if m["msg_type"] == "display_data"]
        self.assertEqual(displays[0][VIEW_MIME]["model_id"], by_name["VBoxModel"])
        printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(printed, "n is 0\n")
        msg_id = self.send("comm_msg", {"comm_id": slider, "data": {"method": "update", "state": {"value": 4}, "buffer_paths": []}})
        messages = self.iopub_until_idle(msg_id)
        captures = [
            m["content"]["data"]["state"]["msg_id"]
            for m in messages
            if m["msg_type"] == "comm_msg" and m["content"]["comm_id"] == output
        ]
        self.assertEqual(captures, [msg_id, ""], "the output widget captures the re-run's output")
        kinds = [m["msg_type"] for m in messages if m["msg_type"] in ("clear_output", "stream")]
        self.assertEqual(kinds, ["clear_output", "stream"])
        printed = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(printed, "n is 4\n")

    def test_a_comm_closed_by_the_front_end_is_forgotten(self):
        slider_id, models, _ = self.slider()
        closed = self.send("comm_close", {"comm_id": slider_id, "data": {}})
        self.iopub_until_idle(closed)
        listed = self.kc.comm_info(target_name="jupyter.widget", reply=True)["content"]["comms"]
        self.assertNotIn(slider_id, listed)
        reply, _ = self.run_cell("s.value")
        self.assertEqual((reply["status"], reply["ename"]), ("error", "WidgetClosed"))


if __name__ == "__main__":
    unittest.main()
