"""Kernel latency, side by side: cleope's kernel and ipykernel, driven by the
same jupyter_client code. For each: start to the first
kernel_info_reply (median of STARTS fresh processes), execute round trips for a trivial cell (p50, p99), and
the kernel process's resident memory when idle.

    python bench/kernel.py KERNEL_NAME [KERNEL_NAME ...]
"""
import statistics
import sys
import time

import zmq
from jupyter_client.manager import KernelManager

ROUND_TRIPS = 200
STARTS = 5


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def quick_reconnecting_context():
    """A ZeroMQ context whose sockets retry a refused connection every 5 ms.
    The client connects before the kernel has bound its ports, and with
    ZeroMQ's default 100 ms retry the measured start would be rounded up to
    the next retry, for either kernel."""
    context = zmq.Context()
    context.setsockopt(zmq.RECONNECT_IVL, 5)
    return context


def first_kernel_info_reply(client, started):
    """Seconds from `started` to the first kernel_info_reply. Requests are
    sent every 20 ms until one is answered (a request sent before the
    kernel's sockets exist is lost, as with any ZeroMQ peer)."""
    pending = set()
    while time.perf_counter() - started < 60:
        pending.add(client.kernel_info())
        deadline = time.perf_counter() + 0.02
        while time.perf_counter() < deadline:
            try:
                reply = client.get_shell_msg(timeout=0.005)
            except Exception:
                continue
            if reply["parent_header"].get("msg_id") in pending:
                return time.perf_counter() - started
    raise TimeoutError("no kernel_info_reply within 60 s")


def start(name):
    """A started kernel, its client, and the seconds to its first reply."""
    manager = KernelManager(kernel_name=name)
    started = time.perf_counter()
    manager.start_kernel()
    client = manager.client(context=quick_reconnecting_context())
    client.start_channels()
    return manager, client, first_kernel_info_reply(client, started)


def stop(manager, client):
    client.stop_channels()
    manager.shutdown_kernel(now=True)


def median_starts(names):
    """Each kernel's median start over STARTS launches, interleaved. The
    first start_kernel of a process also pays for jupyter_client's own
    warm-up (imports, provisioner lookup: about 40 ms here), which would
    otherwise land on whichever kernel is measured first."""
    starts = {name: [] for name in names}
    for _ in range(STARTS):
        for name in names:
            manager, client, seconds = start(name)
            starts[name].append(seconds)
            stop(manager, client)
    return {name: statistics.median(times) for name, times in starts.items()}


def round_trips_and_idle_rss(name):
    manager, client, _ = start(name)
    client.wait_for_ready(timeout=60)  # settles the channels before the round trips
    times = []
    for _ in range(ROUND_TRIPS):
        before = time.perf_counter()
        client.execute_interactive("1", timeout=30, output_hook=lambda msg: None)
        times.append(time.perf_counter() - before)
    time.sleep(0.5)
    rss = rss_mib(manager.provisioner.process.pid)
    stop(manager, client)
    times.sort()
    p99 = times[int(len(times) * 0.99) - 1]
    return statistics.median(times), p99, rss


names = sys.argv[1:]
starts = median_starts(names)
print(f"| kernel | start to kernel_info_reply ms (median of {STARTS}) | round trip p50 ms | p99 ms | idle RSS MiB |")
print("| --- | ---: | ---: | ---: | ---: |")
results = {}
for name in names:
    p50, p99, rss = round_trips_and_idle_rss(name)
    results[name] = (starts[name], p50, p99, rss)
    print(f"| {name} | {starts[name] * 1000:.0f} | {p50 * 1000:.2f} | {p99 * 1000:.2f} | {rss:.1f} |")
if len(results) == 2:
    (a, ra), (b, rb) = results.items()
    print(f"| {a} / {b} | {ra[0] / rb[0]:.2f} | {ra[1] / rb[1]:.2f} | {ra[2] / rb[2]:.2f} | {ra[3] / rb[3]:.2f} |")
