"""Benchmarks 3 and 4: first paint, idle CPU and peak memory of the running app.

Each measurement runs in a fresh Python process (so start-up and peak RSS are the
app's own): the headless app (App.run_test) opens a generated test-driver host with
N guests and refreshes every 2 s, started as the vtui command starts it (vtui.cli.
run_app: the host connects while the app's modules load). First paint is from process start to the first frame
that draws guest rows of a full table; "settled" is when the app is idle after it (the
host's facts and the guests' details read in the background, the panel redrawn).
Beside it, in the same rounds: `virsh list --all` of the same host (the peer's way to
see the guests, printed as a ratio) and `virsh uri` (opening the host alone: libvirtd
reading the generated file, which a real host has done long before).

By default the generated host is served by a libvirtd of its own (the lab's host "a",
tests/lab; needs root), as a real host is: over a socket, from another process. With
--in-process it is opened by libvirt inside the app's process, as before; libvirt's
test driver then keeps its own copy of every guest there (about 155 MB of the peak at
10,000 guests, measured by --driver-only), which no real host puts in vtui's memory.

    .venv/bin/python bench/app_cost.py [--idle-seconds 60] [--rounds 3] [--in-process]
                                       [--driver-only]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).parent
CHILD = r"""
import asyncio, json, os, resource, sys, time
t_start = float(sys.argv[3])
from vtui import cli
from vtui.core import eventloop, gctune
from vtui.core.fleet import Fleet
from vtui.core.ssh.later_asker import LaterAsker
gctune.tune()   # as the vtui command does at start

expected = int(sys.argv[4])
out = {}

async def measure(app, idle):
    # Notes the first frame (headless: the update is composed, then not written) in
    # which the guest table drew a row of a full table. (_display is Textual's own.)
    state = {"drew": False, "shown": None}
    display = app._display

    def timed_display(screen, renderable):
        display(screen, renderable)
        if renderable is not None and state["drew"] and state["shown"] is None:
            state["shown"] = time.time()

    app._display = timed_display
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.fleet_screen.table
        draw_line = table.render_line

        def render_line(y):
            if y >= 1 and table.row_count >= expected:
                state["drew"] = True
            return draw_line(y)

        table.render_line = render_line
        while state["shown"] is None:
            await asyncio.sleep(0.005)
        out["first_paint_s"] = state["shown"] - t_start
        await pilot.pause()
        out["settled_s"] = time.time() - t_start
        if idle:
            await asyncio.sleep(4)                     # let start-up settle
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            w0 = time.monotonic()
            await asyncio.sleep(idle)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
            out["cpu_s_per_min"] = cpu * 60 / (time.monotonic() - w0)

async def main(uri, idle):
    fleet = Fleet(interval=2.0, readonly=True)
    fleet.add(uri)
    # as the vtui command starts: the host connects while the app's modules load
    await cli.run_app(fleet, LaterAsker(), [], run=lambda app: measure(app, idle))
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))

eventloop.run(main(sys.argv[1], float(sys.argv[2])))  # the app's loop
"""


def run(uri: str, idle: float, expected: int) -> dict:
    started = time.time()
    proc = subprocess.run(
        [sys.executable, "-c", CHILD, uri, str(idle), str(started), str(expected)],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])


DRIVER_ONLY = r"""
import json, resource, sys
import libvirt
conn = libvirt.openReadOnly(sys.argv[1])
conn.getAllDomainStats(0, 0)
print(json.dumps({"peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def driver_only(uri: str) -> float:
    """Peak RSS of a process that only opens the test-driver host and reads it once."""
    proc = subprocess.run(
        [sys.executable, "-c", DRIVER_ONLY, uri], capture_output=True, text=True, check=True
    )
    return json.loads(proc.stdout.strip().splitlines()[-1])["peak_rss_mb"]


def virsh_seconds(uri: str, *command: str) -> float:
    began = time.time()
    subprocess.run(["virsh", "-r", "-c", uri, *command], capture_output=True, check=True)
    return time.time() - began


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    parser.add_argument("--rounds", type=int, default=3, help="first paints per size")
    parser.add_argument(
        "--in-process", action="store_true", help="open the test driver inside the app"
    )
    parser.add_argument(
        "--driver-only", action="store_true", help="also: the in-process test driver alone"
    )
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    sys.path.insert(0, str(HERE.parent))
    from fleetgen import write_host

    with contextlib.ExitStack() as stack:
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="vtui-bench-"))
        socket = None
        if not args.in_process:
            from tests.lab.hosts import Lab

            socket = stack.enter_context(Lab())["a"].socket
        for n, idle in ((1000, args.idle_seconds), (10000, 20.0)):
            path = write_host(Path(tmp), n)
            uri = f"test+unix://{path}?socket={socket}"
            if socket is None:
                uri = f"test://{path}"
            if args.driver_only:
                print(
                    f"N={n:>6}: the in-process test driver alone: peak RSS "
                    f"{driver_only(f'test://{path}'):.0f} MB",
                    flush=True,
                )
            paints, settled, virsh, opening, ratios = [], [], [], [], []
            result: dict = {}
            for i in range(args.rounds):
                # the first round also measures idle CPU and peak RSS
                one = run(uri, idle if i == 0 else 0.0, n)
                result = result or one
                paints.append(one["first_paint_s"])
                settled.append(one["settled_s"])
                if socket is not None:  # (virsh cannot reach the in-process driver)
                    virsh.append(virsh_seconds(uri, "list", "--all"))
                    opening.append(virsh_seconds(uri, "uri"))
                    ratios.append(paints[-1] / virsh[-1])
            where = "in the app's process" if socket is None else "served by a libvirtd"
            med = statistics.median
            line = (
                f"N={n:>6} ({where}): first paint {med(paints):.2f} s (process start to "
                f"the first frame with rows; rounds {min(paints):.2f}-{max(paints):.2f}), "
                f"settled {med(settled):.2f} s"
            )
            if ratios:
                line += (
                    f"; virsh list --all {med(virsh):.2f} s: {med(ratios):.2f}x "
                    f"({min(ratios):.2f}-{max(ratios):.2f}x); opening the host alone "
                    f"(virsh uri) {med(opening):.2f} s"
                )
            line += f"; peak RSS {result['peak_rss_mb']:.0f} MB"
            if "cpu_s_per_min" in result:
                line += f", idle {result['cpu_s_per_min']:.2f} CPU-s/min at a 2 s refresh"
            print(line, flush=True)
    os.sys.stdout.flush()


if __name__ == "__main__":
    main()
