"""Benchmarks 3 and 4: first paint, idle CPU and peak memory of the running app.

Each measurement runs in a fresh Python process (so start-up and peak RSS are the
app's own): the headless app (App.run_test) opens a generated test-driver host with
N guests and refreshes every 2 s.

By default the generated host is served by a libvirtd of its own (the lab's host "a",
tests/lab; needs root), as a real host is: over a socket, from another process. With
--in-process it is opened by libvirt inside the app's process, as before; libvirt's
test driver then keeps its own copy of every guest there (about 155 MB of the peak at
10,000 guests, measured by --driver-only), which no real host puts in vtui's memory.

    .venv/bin/python bench/app_cost.py [--idle-seconds 60] [--in-process] [--driver-only]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).parent
CHILD = r"""
import asyncio, json, os, resource, sys, time
t_start = float(sys.argv[3])
from vtui.app import VtuiApp
from vtui.core import eventloop, gctune
from vtui.core.fleet import Fleet
gctune.tune()   # as the vtui command does at start

async def main(uri, idle):
    fleet = Fleet(interval=2.0, readonly=True)
    fleet.add(uri)
    app = VtuiApp(fleet)
    out = {}
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.fleet_screen.table
        expected = int(sys.argv[4])
        while table.row_count < expected:
            await asyncio.sleep(0.005)
        await pilot.pause()
        out["first_paint_s"] = time.time() - t_start
        if idle:
            await asyncio.sleep(4)                     # let start-up settle
            r0 = resource.getrusage(resource.RUSAGE_SELF)
            w0 = time.monotonic()
            await asyncio.sleep(idle)
            r1 = resource.getrusage(resource.RUSAGE_SELF)
            cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
            out["cpu_s_per_min"] = cpu * 60 / (time.monotonic() - w0)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(out))

eventloop.run(main(sys.argv[1], float(sys.argv[2])))  # the app's loop
"""


def run(uri: str, idle: float, expected: int) -> dict:
    started = __import__("time").time()
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60.0)
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
            uri = f"test://{path}" if socket is None else f"test+unix://{path}?socket={socket}"
            if args.driver_only:
                print(
                    f"N={n:>6}: the in-process test driver alone: peak RSS "
                    f"{driver_only(f'test://{path}'):.0f} MB",
                    flush=True,
                )
            result = run(uri, idle, n)
            where = "in the app's process" if socket is None else "served by a libvirtd"
            line = (
                f"N={n:>6} ({where}): first paint {result['first_paint_s']:.2f} s (process "
                f"start to a full table), peak RSS {result['peak_rss_mb']:.0f} MB"
            )
            if "cpu_s_per_min" in result:
                line += f", idle {result['cpu_s_per_min']:.2f} CPU-s/min at a 2 s refresh"
            print(line, flush=True)
    os.sys.stdout.flush()


if __name__ == "__main__":
    main()
