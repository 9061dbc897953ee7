"""Benchmarks 3 and 4: first paint, idle CPU and peak memory of the running app.

Each measurement runs in a fresh Python process (so start-up and peak RSS are the
app's own): the headless app (App.run_test) opens a generated test-driver host with
N guests and refreshes every 2 s.

    .venv/bin/python bench/app_cost.py [--idle-seconds 60]
"""

from __future__ import annotations

import argparse
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
from vtui.core import gctune
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

asyncio.run(main(sys.argv[1], float(sys.argv[2])))
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--idle-seconds", type=float, default=60.0)
    args = parser.parse_args()
    sys.path.insert(0, str(HERE))
    from fleetgen import write_host

    with tempfile.TemporaryDirectory(prefix="vtui-bench-") as tmp:
        for n, idle in ((1000, args.idle_seconds), (10000, 20.0)):
            uri = f"test://{write_host(Path(tmp), n)}"
            result = run(uri, idle, n)
            line = (
                f"N={n:>6}: first paint {result['first_paint_s']:.2f} s (process start to "
                f"a full table), peak RSS {result['peak_rss_mb']:.0f} MB"
            )
            if "cpu_s_per_min" in result:
                line += f", idle {result['cpu_s_per_min']:.2f} CPU-s/min at a 2 s refresh"
            print(line, flush=True)
    os.sys.stdout.flush()


if __name__ == "__main__":
    main()
