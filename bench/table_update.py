"""Benchmark 2 (and 6): applying one refresh to the guest table in a headless app.

For 1,000 and 10,000 rows, 10% of the guests change CPU % (and so one or two cells
each); we time GuestTable.sync() plus the repaint that follows, sorted by name
(order unchanged) and by CPU (order changes every refresh). Then key latency: a
cursor-down press while a 10,000-guest refresh is being applied.

    .venv/bin/python bench/table_update.py
"""

from __future__ import annotations

import asyncio
import random
import statistics
import time

from textual.app import App

from vtui.core import eventloop
from vtui.core.model import Guest
from vtui.widgets.guest_table import GuestTable

ROUNDS = 8


def make_guests(n: int) -> list[Guest]:
    return [
        Guest(
            uuid=f"{i:08d}-0000-0000-0000-000000000000",
            name=f"vm-{i:05d}",
            host="h1",
            state="running",
            vcpus=2,
            memory_kib=2 << 20,
            memory_used_kib=1 << 20,
            cpu_pct=1.0,
            disk_rd_bps=0.0,
            disk_wr_bps=0.0,
            net_rx_bps=0.0,
            net_tx_bps=0.0,
            started_at=time.time() - 3600,
        )
        for i in range(n)
    ]


class TableApp(App):
    def compose(self):
        yield GuestTable()


async def one_size(n: int) -> None:
    guests = make_guests(n)
    app = TableApp()
    async with app.run_test(size=(120, 40)) as pilot:
        table = app.query_one(GuestTable)
        t0 = time.perf_counter()
        table.sync(guests)
        await pilot.pause()
        fill = time.perf_counter() - t0
        rng = random.Random(1)
        idle = []
        for _ in range(ROUNDS):  # what a repaint cycle costs with no change
            t = time.perf_counter()
            table.refresh()
            await pilot.pause()
            idle.append(time.perf_counter() - t)
        print(
            f"rows={n:>6}: repaint with nothing changed (pilot.pause baseline) "
            f"median {statistics.median(idle) * 1000:6.1f} ms"
        )
        for sort in ("name", "cpu"):
            table.set_sort(sort, reverse=sort == "cpu")
            times, syncs = [], []
            for _ in range(ROUNDS):
                changed = rng.sample(guests, n // 10)
                for g in changed:
                    g.cpu_pct = rng.uniform(0, 100)
                t = time.perf_counter()
                table.sync(changed)
                syncs.append(time.perf_counter() - t)
                await pilot.pause()  # let the repaint happen
                times.append(time.perf_counter() - t)
            print(
                f"rows={n:>6} sort={sort:<4}: update 10% of guests: sync "
                f"{statistics.median(syncs) * 1000:5.1f} ms, sync+repaint median "
                f"{statistics.median(times) * 1000:6.1f} ms, max {max(times) * 1000:6.1f} ms "
                f"(initial fill {fill * 1000:.0f} ms)"
            )
        if n >= 10000:
            await key_latency(app, pilot, table, guests, rng)


async def key_latency(app, pilot, table, guests, rng) -> None:
    """A key arrives while a 10,000-guest refresh is queued: time from the key being
    posted to the cursor having moved (the repaint follows within a frame)."""

    async def one(with_refresh: bool) -> float:
        if with_refresh:
            changed = rng.sample(guests, len(guests) // 10)
            for g in changed:
                g.cpu_pct = rng.uniform(0, 100)
            app.call_later(table.sync, changed)  # the refresh is applied on the loop...
        row = table.cursor_row
        t = time.perf_counter()
        app.simulate_key("down")  # ...while the key arrives
        while table.cursor_row == row:
            await asyncio.sleep(0.0005)
        took = time.perf_counter() - t
        await pilot.pause()
        return took

    base = [await one(False) for _ in range(ROUNDS)]
    for sort in ("name", "cpu"):
        table.set_sort(sort, reverse=sort == "cpu")
        lat = [await one(True) for _ in range(ROUNDS)]
        print(
            f"key latency, 10,000 guests sorted by {sort}, refresh queued ahead of the key: "
            f"median {statistics.median(lat) * 1000:.1f} ms, max {max(lat) * 1000:.1f} ms "
            f"(no refresh: median {statistics.median(base) * 1000:.1f} ms)"
        )


async def main() -> None:
    for n in (1000, 10000):
        await one_size(n)


if __name__ == "__main__":
    from vtui.core import gctune

    gctune.tune()  # as the vtui command does at start
    eventloop.run(main())
