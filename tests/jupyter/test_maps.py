"""A map through jupyter-leaflet's protocol, driven the way the widget manager and the
jupyter-leaflet bundle (0.20.0) drive it: the kernel opens the map's models as comms, a
rectangle drawn with the DrawControl arrives as a `draw:created` custom message plus a
`data` update, and the next cell's `m.drawn_aoi()` is that rectangle."""

import os
import unittest

from jupyter_client.manager import start_new_kernel

KERNEL = os.environ["CLEOPE_KERNEL_NAME"]

# A rectangle as Leaflet.draw's toGeoJSON() gives it, with the path options the view adds.
RECTANGLE = {
    "type": "Feature",
    "properties": {"style": {"stroke": True, "color": "#e4572e", "weight": 4, "opacity": 0.5,
                             "fill": True, "clickable": True}},
    "geometry": {"type": "Polygon", "coordinates": [[
        [12.75, 45.25], [12.75, 45.75], [13.5, 45.75], [13.5, 45.25], [12.75, 45.25]]]},
}


class MapTests(unittest.TestCase):
    def setUp(self):
        self.km, self.kc = start_new_kernel(kernel_name=KERNEL, startup_timeout=60)

    def tearDown(self):
        self.kc.stop_channels()
        self.km.shutdown_kernel(now=False)

    def run_cell(self, code):
        """Runs `code`; returns its reply and every iopub message it caused."""
        msg_id = self.kc.execute(code)
        messages = self.wait_idle_after(msg_id)
        while True:
            reply = self.kc.get_shell_msg(timeout=30)
            if reply["parent_header"]["msg_id"] == msg_id:
                return reply["content"], messages

    def send_comm_msg(self, comm_id, data):
        msg = self.kc.session.msg("comm_msg", {"comm_id": comm_id, "data": data})
        self.kc.shell_channel.send(msg)
        return msg["header"]["msg_id"]

    def wait_idle_after(self, msg_id):
        """Waits until the kernel handled `msg_id`; returns the iopub messages it caused."""
        messages = []
        while True:
            msg = self.kc.get_iopub_msg(timeout=30)
            if msg["parent_header"].get("msg_id") != msg_id:
                continue
            messages.append(msg)
            if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
                return messages

    def show_map(self):
        reply, messages = self.run_cell(
            'let m = map(#{ center: [13.5, 45.5], zoom: 7 });\n'
            'm.add(aoi_bbox(12.5, 45.0, 14.5, 46.0));\n'
            'display(m);')
        self.assertEqual(reply["status"], "ok", reply)
        models = {}
        for msg in messages:
            if msg["msg_type"] == "comm_open":
                content = msg["content"]
                self.assertEqual(content["target_name"], "jupyter.widget")
                self.assertEqual(msg["metadata"].get("version"), "2.1.0")
                models[content["comm_id"]] = content["data"]["state"]
            elif msg["msg_type"] == "comm_msg" and msg["content"]["data"].get("method") == "update":
                # A layer added after the map was opened arrives as an update of its `layers`,
                # which the widget manager applies to the model it holds.
                content = msg["content"]
                models[content["comm_id"]].update(content["data"]["state"])
        displays = [m["content"]["data"] for m in messages if m["msg_type"] == "display_data"]
        return models, displays

    def test_a_map_opens_its_leaflet_models_and_shows_as_a_widget_view(self):
        models, displays = self.show_map()
        by_name = {}
        for comm_id, state in models.items():
            by_name.setdefault(state["_model_name"], []).append((comm_id, state))
        (map_id, state), = by_name["LeafletMapModel"]
        self.assertEqual(state["_model_module"], "jupyter-leaflet")
        self.assertEqual(state["_model_module_version"], "^0.20")
        self.assertEqual(state["center"], [45.5, 13.5])
        self.assertEqual(state["zoom"], 7)
        # Every referenced child was opened before the map, as the manager needs.
        for reference in state["layers"] + state["controls"]:
            self.assertIn(reference.removeprefix("IPY_MODEL_"), models)
        layer_models = [models[r.removeprefix("IPY_MODEL_")]["_model_name"] for r in state["layers"]]
        self.assertEqual(layer_models, ["LeafletGeoJSONModel", "LeafletGeoJSONModel"])
        control_models = {models[r.removeprefix("IPY_MODEL_")]["_model_name"] for r in state["controls"]}
        self.assertEqual(control_models, {"LeafletZoomControlModel", "LeafletAttributionControlModel",
                                          "LeafletDrawControlModel"})
        self.assertEqual(len(by_name["LeafletMapStyleModel"]), 3)
        land = models[state["layers"][0].removeprefix("IPY_MODEL_")]
        self.assertEqual(land["data"]["features"][0]["geometry"]["type"], "MultiPolygon")
        view = [d for d in displays if "application/vnd.jupyter.widget-view+json" in d]
        self.assertEqual(len(view), 1, displays)
        self.assertEqual(view[0]["application/vnd.jupyter.widget-view+json"]["model_id"], map_id)
        self.assertIn("Map centred on 13.5000° E, 45.5000° N", view[0]["text/plain"])

    def test_a_drawn_rectangle_becomes_the_sessions_aoi(self):
        models, _ = self.show_map()
        draw_id = next(i for i, s in models.items() if s["_model_name"] == "LeafletDrawControlModel")
        reply, _ = self.run_cell("m.drawn_aoi()")
        self.assertEqual(reply["status"], "error")
        self.assertEqual(reply["ename"], "NothingDrawn")
        self.assertIn("draw a rectangle first", "\n".join(reply["traceback"]))
        # What the bundle sends on draw:created: the custom message, then `data` as an update.
        self.wait_idle_after(self.send_comm_msg(
            draw_id, {"method": "custom", "content": {"event": "draw:created", "geo_json": RECTANGLE}}))
        self.wait_idle_after(self.send_comm_msg(
            draw_id, {"method": "update", "state": {"data": [RECTANGLE]}, "buffer_paths": []}))
        reply, messages = self.run_cell(
            "let aoi = m.drawn_aoi();\nprint(aoi.bbox);\nprint(m.drawn_aois().len());")
        self.assertEqual(reply["status"], "ok", reply)
        out = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(out, "[12.75, 45.25, 13.5, 45.75]\n1\n")

    def test_on_draw_runs_the_callback_in_the_session(self):
        models, _ = self.show_map()
        draw_id = next(i for i, s in models.items() if s["_model_name"] == "LeafletDrawControlModel")
        reply, _ = self.run_cell(
            "let areas = [];\non_draw(m, |aoi| { areas.push(aoi.area_km2); print(`drawn: ${aoi.vertices} vertices`); });")
        self.assertEqual(reply["status"], "ok", reply)
        messages = self.wait_idle_after(self.send_comm_msg(
            draw_id, {"method": "custom", "content": {"event": "draw:created", "geo_json": RECTANGLE}}))
        # The callback's output belongs to the comm message that triggered it.
        out = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(out, "drawn: 4 vertices\n")
        reply, messages = self.run_cell("print(m.drawn_aoi().vertices);\nprint(areas.len());")
        self.assertEqual(reply["status"], "ok", reply)
        out = "".join(m["content"]["text"] for m in messages if m["msg_type"] == "stream")
        self.assertEqual(out, "4\n1\n")

    def test_a_drawn_line_is_refused_and_the_session_survives(self):
        models, _ = self.show_map()
        draw_id = next(i for i, s in models.items() if s["_model_name"] == "LeafletDrawControlModel")
        line = {"type": "Feature", "properties": {"style": {}},
                "geometry": {"type": "LineString", "coordinates": [[12.0, 45.0], [13.0, 45.5]]}}
        self.wait_idle_after(self.send_comm_msg(
            draw_id, {"method": "custom", "content": {"event": "draw:created", "geo_json": line}}))
        reply, _ = self.run_cell("m.drawn_aoi()")
        self.assertEqual(reply["ename"], "NothingDrawn")
        reply, _ = self.run_cell("m.layers.len()")
        self.assertEqual(reply["status"], "ok")


if __name__ == "__main__":
    unittest.main()
