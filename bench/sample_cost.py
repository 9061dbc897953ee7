"""Benchmark 1: cost of one refresh of N guests on one host, vtui's core against a
bare getAllDomainStats call in the same run (libvirt's test driver, generated host).

    .venv/bin/python bench/sample_cost.py [N ...]      (default 1000 10000)
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

import libvirt

sys.path.insert(0, str(Path(__file__).parent))
from fleetgen import write_host  # noqa: E402

from vtui.core import eventloop, gctune  # noqa: E402
from vtui.core.host import Host  # noqa: E402
from vtui.core.host.stats import STATS_FLAGS, STATS_GROUPS  # noqa: E402

ROUNDS = 10


def timed(fn) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - wall, time.process_time() - cpu


async def measure(n: int, workdir: Path) -> None:
    uri = f"test://{write_host(workdir, n)}"
    bare = libvirt.openReadOnly(uri)
    host = Host(uri, readonly=True)
    t0 = time.perf_counter()
    await host.connect()  # includes the first (inventory) sample
    await host.details_known()  # (the test driver's vCPUs and memory, read after the rows)
    first = time.perf_counter() - t0
    for _ in range(2):  # steady state: a running app has sampled these guests before
        await host.sample()

    def identified():  # the floor for any consumer: the call plus naming each domain
        for dom, _rec in bare.getAllDomainStats(STATS_GROUPS, STATS_FLAGS):
            dom.UUIDString()

    # Interleaved, so that both see the same process state (threads, heap, caches).
    bare_times, ident_times, core_times = [], [], []
    for _ in range(ROUNDS):
        bare_times.append(timed(lambda: bare.getAllDomainStats(STATS_GROUPS, STATS_FLAGS)))
        ident_times.append(timed(identified))
        wall = time.perf_counter()
        await host.sample()
        core_times.append(time.perf_counter() - wall)
    await host.close()
    bare.close()
    b_wall = statistics.median(t[0] for t in bare_times)
    i_wall = statistics.median(t[0] for t in ident_times)
    c_wall = statistics.median(core_times)
    print(
        f"N={n:>6}: bare getAllDomainStats {b_wall * 1000:7.1f} ms | vtui refresh "
        f"{c_wall * 1000:7.1f} ms | ratio {c_wall / b_wall:4.2f}x | bare call + UUIDString "
        f"per guest {i_wall * 1000:6.1f} ms (vtui {c_wall / i_wall:4.2f}x that) | "
        f"first connect + inventory {first * 1000:.0f} ms"
    )


async def main(sizes: list[int]) -> None:
    with tempfile.TemporaryDirectory(prefix="vtui-bench-") as tmp:
        for n in sizes:
            await measure(n, Path(tmp))


if __name__ == "__main__":
    gctune.tune()  # as the vtui command does at start
    eventloop.run(main([int(a) for a in sys.argv[1:]] or [1000, 10000]))
