"""A class on a real JupyterHub: starts the hub of jupyterhub_config.py
(configurable-http-proxy, one local Jupyter server per student), then, all
at the same time, N students each start their server through the hub's
REST API and run a notebook cell by cell through their server's kernel
API (REST /api/kernels and the websocket channels, through the hub's
proxy); one more student crosses the memory quota and carries on; one
more starts a server and leaves it idle. Writes a JSON report of what
happened and what it cost (tests/it/hub.rs checks it).

Usage: python class_run.py --notebook NB.ipynb --kernel NAME --proxy CHP
       --state DIR --report OUT.json [--students N]
"""

import argparse
import asyncio
import json
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path

import aiohttp

HERE = Path(__file__).resolve().parent

# Seconds an idle, disconnected kernel lives, and an idle server.
KERNEL_CULL = 6
SERVER_CULL = 20

# The quota student's cells: a variable, a cell that keeps allocating
# 32 MiB matrices until the memory quota stops it, and a cell that shows
# the variable survived.
QUOTA_CELLS = [
    "let kept = 41;",
    "let grown = [];\nloop { grown.push(matrix(2048, 2048)); }",
    "grown = [];\nprint(kept + 1);",
]


def free_ports(count):
    """Ports nobody listens on now (bound to 0 and released)."""
    sockets = [socket.socket() for _ in range(count)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


def code_cells(notebook_path):
    notebook = json.loads(Path(notebook_path).read_text())
    return ["".join(cell["source"]) for cell in notebook["cells"] if cell["cell_type"] == "code"]


def kernel_peak_rss_kib(kernel_id):
    """The peak resident set (VmHWM) of the kernel process whose connection
    file names `kernel_id`, or None when no such process is alive."""
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
            if f"kernel-{kernel_id}.json" not in cmdline or "jupyter" in cmdline.split("\0")[0]:
                continue
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
        except OSError:
            continue
    return None


class Hub:
    """The hub process and the URLs and token to reach it."""

    def __init__(self, args):
        self.token = secrets.token_hex(32)
        port, api_port, proxy_api_port = free_ports(3)
        self.url = f"http://127.0.0.1:{port}"
        self.api = f"{self.url}/hub/api"
        self.state = Path(args.state)
        self.state.mkdir(parents=True, exist_ok=True)
        self.log_path = self.state / "jupyterhub.log"
        env = dict(os.environ)
        env.update(
            CLEOPE_HUB_STATE=str(self.state),
            CLEOPE_HUB_PORT=str(port),
            CLEOPE_HUB_API_PORT=str(api_port),
            CLEOPE_HUB_PROXY_API_PORT=str(proxy_api_port),
            CLEOPE_HUB_PROXY=args.proxy,
            CLEOPE_HUB_TOKEN=self.token,
            CLEOPE_HUB_KERNEL_CULL=str(KERNEL_CULL),
            CLEOPE_HUB_SERVER_CULL=str(SERVER_CULL),
        )
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(
            # `python -m`: the venv's scripts name the folder it was built in
            # (tests/common/venv.rs builds it beside its place, then renames it).
            [sys.executable, "-m", "jupyterhub", "-f", str(HERE / "jupyterhub_config.py")],
            cwd=self.state,
            env=env,
            stdout=self.log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def headers(self):
        return {"Authorization": f"token {self.token}"}

    async def wait_ready(self, http, timeout=90):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"jupyterhub exited with {self.process.returncode}; see {self.log_path}")
            try:
                async with http.get(f"{self.api}/users") as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the hub did not answer within {timeout} s; see {self.log_path}")

    def stop(self):
        """SIGTERM lets the hub stop the servers it spawned and the proxy."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.log.close()


async def start_server(hub, http, name, timeout=120):
    """Creates the user, asks the hub for their server and waits until it
    is ready; returns the seconds it took."""
    started = time.monotonic()
    async with http.post(f"{hub.api}/users/{name}") as response:
        if response.status not in (201, 409):
            raise RuntimeError(f"creating {name}: HTTP {response.status} {await response.text()}")
    async with http.post(f"{hub.api}/users/{name}/server") as response:
        if response.status not in (201, 202):
            raise RuntimeError(f"starting {name}'s server: HTTP {response.status} {await response.text()}")
    while time.monotonic() - started < timeout:
        server = (await user_model(hub, http, name))["servers"].get("")
        if server and server.get("ready"):
            return time.monotonic() - started
        await asyncio.sleep(0.5)
    raise RuntimeError(f"{name}'s server was not ready within {timeout} s")


async def user_model(hub, http, name):
    async with http.get(f"{hub.api}/users/{name}") as response:
        response.raise_for_status()
        return await response.json()


class Kernel:
    """One kernel on a student's server, driven over its websocket."""

    def __init__(self, hub, http, name, kernel_name):
        self.hub, self.http, self.name, self.kernel_name = hub, http, name, kernel_name
        self.base = f"{hub.url}/user/{name}/api/kernels"
        self.session = uuid.uuid4().hex
        self.id = None
        self.socket = None

    async def start(self):
        async with self.http.post(self.base, json={"name": self.kernel_name}) as response:
            if response.status != 201:
                raise RuntimeError(f"{self.name}: starting a kernel: HTTP {response.status} {await response.text()}")
            self.id = (await response.json())["id"]
        url = f"{self.base}/{self.id}/channels?session_id={self.session}".replace("http://", "ws://", 1)
        self.socket = await self.http.ws_connect(url, max_msg_size=0)

    async def execute(self, code, timeout=120):
        """Runs one cell; returns (status, outputs, error) where outputs are
        the iopub messages' (type, content) in order."""
        msg_id = uuid.uuid4().hex
        await self.socket.send_json(
            {
                "header": {
                    "msg_id": msg_id,
                    "msg_type": "execute_request",
                    "username": self.name,
                    "session": self.session,
                    "date": datetime.now(timezone.utc).isoformat(),
                    "version": "5.3",
                },
                "parent_header": {},
                "metadata": {},
                "content": {
                    "code": code,
                    "silent": False,
                    "store_history": True,
                    "user_expressions": {},
                    "allow_stdin": False,
                    "stop_on_error": True,
                },
                "channel": "shell",
                "buffers": [],
            }
        )
        outputs, reply, idle = [], None, False
        deadline = time.monotonic() + timeout
        while reply is None or not idle:
            message = await self.socket.receive_json(timeout=max(0.1, deadline - time.monotonic()))
            if message.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            kind = message["header"]["msg_type"]
            if message["channel"] == "shell" and kind == "execute_reply":
                reply = message["content"]
            elif kind == "status":
                idle = message["content"]["execution_state"] == "idle"
            elif kind in ("stream", "display_data", "execute_result", "error"):
                outputs.append((kind, message["content"]))
        return reply, outputs

    def peak_rss_kib(self):
        return kernel_peak_rss_kib(self.id)

    async def disconnect(self):
        await self.socket.close()

    async def alive(self):
        async with self.http.get(self.base) as response:
            response.raise_for_status()
            return any(k["id"] == self.id for k in await response.json())


def text_of(outputs):
    parts = []
    for kind, content in outputs:
        if kind == "stream":
            parts.append(content["text"])
        elif kind in ("display_data", "execute_result"):
            parts.append(content["data"].get("text/plain", ""))
    return "".join(parts)


async def student(hub, http, name, kernel_name, cells):
    """Starts the server and a kernel, runs every cell, measures the
    kernel's peak RSS and disconnects (the kernel is left for the culler)."""
    record = {"name": name, "ok": False, "cells_run": 0}
    started = time.monotonic()
    try:
        record["spawn_seconds"] = round(await start_server(hub, http, name), 2)
        kernel = Kernel(hub, http, name, kernel_name)
        await kernel.start()
        record["kernel_id"] = kernel.id
        images, printed = 0, []
        for code in cells:
            reply, outputs = await kernel.execute(code)
            if reply["status"] != "ok":
                record["error"] = f"cell {record['cells_run'] + 1}: {reply.get('ename')}: {reply.get('evalue')}"
                break
            record["cells_run"] += 1
            images += sum(1 for kind, content in outputs if kind == "display_data" and "image/png" in content["data"])
            printed.append(text_of(outputs))
        else:
            record["ok"] = True
        record["images"] = images
        record["last_output"] = printed[-1][-300:] if printed else ""
        record["peak_rss_kib"] = kernel.peak_rss_kib()
        record["notebook_done_at"] = time.monotonic()
        await kernel.disconnect()
        record["kernel_culled_after_seconds"] = await seconds_until_culled(kernel)
    except Exception as error:  # noqa: BLE001 (a failure is reported, not raised)
        record["error"] = f"{type(error).__name__}: {error}"
    record["seconds"] = round(time.monotonic() - started, 2)
    return record


async def quota_student(hub, http, name, kernel_name):
    """Crosses the memory quota in the middle cell; the kernel must answer
    with the named error and run the next cell with its variables."""
    record = {"name": name}
    try:
        await start_server(hub, http, name)
        kernel = Kernel(hub, http, name, kernel_name)
        await kernel.start()
        replies = []
        for code in QUOTA_CELLS:
            reply, outputs = await kernel.execute(code)
            replies.append((reply, outputs))
        crossing, crossing_outputs = replies[1]
        record["crossing_status"] = crossing["status"]
        record["ename"] = crossing.get("ename")
        record["evalue"] = crossing.get("evalue")
        errors = [content for kind, content in crossing_outputs if kind == "error"]
        record["traceback"] = "\n".join(errors[0]["traceback"]) if errors else ""
        record["next_status"] = replies[2][0]["status"]
        record["next_output"] = text_of(replies[2][1])
        record["peak_rss_kib"] = kernel.peak_rss_kib()
        record["kernel_alive"] = await kernel.alive() and record["peak_rss_kib"] is not None
        await kernel.disconnect()
        record["kernel_culled_after_seconds"] = await seconds_until_culled(kernel)
    except Exception as error:  # noqa: BLE001
        record["error"] = f"{type(error).__name__}: {error}"
    return record


async def idle_student(hub, http, name):
    """Starts a server and never uses it: the idle culler must stop it."""
    record = {"name": name, "culled": False}
    try:
        await start_server(hub, http, name)
        started = time.monotonic()
        record["started"] = True
        # The culler runs every SERVER_CULL/4 s and stops servers idle
        # longer than SERVER_CULL s.
        while time.monotonic() - started < SERVER_CULL * 4:
            if not (await user_model(hub, http, name))["servers"]:
                record["culled"] = True
                record["culled_after_seconds"] = round(time.monotonic() - started, 1)
                break
            await asyncio.sleep(1)
    except Exception as error:  # noqa: BLE001
        record["error"] = f"{type(error).__name__}: {error}"
    return record


async def seconds_until_culled(kernel, timeout=KERNEL_CULL * 5):
    """Seconds until the server's kernel culler shut the disconnected,
    idle kernel down, or None when it was still running at `timeout`."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if not await kernel.alive():
            return round(time.monotonic() - started, 1)
        await asyncio.sleep(0.5)
    return None


def mib(kib):
    return round(kib / 1024, 1)


async def run_class(args):
    cells = code_cells(args.notebook)
    hub = Hub(args)
    report = {"students": args.students, "notebook": Path(args.notebook).name, "cells": len(cells)}
    try:
        async with aiohttp.ClientSession(headers=hub.headers(), timeout=aiohttp.ClientTimeout(total=300)) as http:
            hub_started = time.monotonic()
            await hub.wait_ready(http)
            report["hub_start_seconds"] = round(time.monotonic() - hub_started, 2)
            started = time.monotonic()
            names = [f"student{i:02d}" for i in range(1, args.students + 1)]
            idle = asyncio.create_task(idle_student(hub, http, "idle"))
            records, quota = await asyncio.gather(
                asyncio.gather(*(student(hub, http, name, args.kernel, cells) for name in names)),
                quota_student(hub, http, "overreacher", args.kernel),
            )
            # Until the last notebook finished (the culling waits come after).
            finished = [r.pop("notebook_done_at") for r in records if "notebook_done_at" in r]
            report["wall_seconds"] = round(max(finished, default=time.monotonic()) - started, 2)
            report["runs"] = records
            report["quota_student"] = quota
            report["idle_server"] = await idle
            report["failures"] = [r for r in records if not r["ok"]]
            rss = [r["peak_rss_kib"] for r in records if r.get("peak_rss_kib")]
            if rss:
                report["peak_rss_mib"] = {
                    "median": mib(statistics.median(rss)),
                    "max": mib(max(rss)),
                    "min": mib(min(rss)),
                    "measured": len(rss),
                }
            spawns = [r["spawn_seconds"] for r in records if "spawn_seconds" in r]
            if spawns:
                report["spawn_seconds"] = {"median": statistics.median(spawns), "max": max(spawns)}
    finally:
        hub.stop()
    report["hub_log_tail"] = hub.log_path.read_text(errors="replace")[-4000:]
    return report


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--notebook", required=True)
    parser.add_argument("--kernel", required=True, help="the kernelspec's name")
    parser.add_argument("--proxy", required=True, help="the configurable-http-proxy program")
    parser.add_argument("--state", required=True, help="a folder for the hub's state and the homes")
    parser.add_argument("--report", required=True)
    parser.add_argument("--students", type=int, default=int(os.environ.get("CLEOPE_HUB_STUDENTS", "12")))
    args = parser.parse_args()
    report = asyncio.run(run_class(args))
    Path(args.report).write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
