"""The connections screen with thousands of saved hosts: time to read hosts.toml, to
open the screen, and to remove one host (confirmation included).

    .venv/bin/python bench/connections.py [COUNT]     (default 8000)
"""

from __future__ import annotations

import os
import sys
import tempfile
import time


def write_hosts(directory: str, count: int) -> None:
    os.makedirs(f"{directory}/vtui")
    with open(f"{directory}/vtui/hosts.toml", "w") as f:
        f.write("# a big fleet\n\n")
        for i in range(count):
            f.write(f'[[host]]\nname = "host-{i:05d}"\ntarget = "root@h{i}.example"\n\n')


async def main(count: int) -> None:
    from textual.app import App

    from vtui.core.fleet import Fleet
    from vtui.core.settings import saved_hosts
    from vtui.screens.connections import ConnectionsScreen
    from vtui.widgets.row_table import RowTable

    began = time.perf_counter()
    hosts, _error = saved_hosts.load()
    print(f"read {len(hosts)} saved hosts: {time.perf_counter() - began:.3f} s")

    class Harness(App):
        def __init__(self):
            super().__init__()
            self.fleet = Fleet()

    app = Harness()
    async with app.run_test(size=(100, 30)) as pilot:
        began = time.perf_counter()
        await app.push_screen(ConnectionsScreen(app.fleet))
        await pilot.pause()
        print(f"open the screen: {time.perf_counter() - began:.3f} s")
        table = app.screen.query_one(RowTable)
        table.select_row(count // 2)
        began = time.perf_counter()
        await pilot.press("d")
        await pilot.pause()
        await pilot.press("y")
        await pilot.pause()
        assert table.row_count == count - 1
        print(f"remove one (confirm, write, redraw): {time.perf_counter() - began:.3f} s")


if __name__ == "__main__":
    hosts = int(sys.argv[1]) if len(sys.argv) > 1 else 8000
    os.environ["XDG_CONFIG_HOME"] = tempfile.mkdtemp(prefix="vtui-bench-")
    write_hosts(os.environ["XDG_CONFIG_HOME"], hosts)
    from vtui.core import eventloop  # (after XDG_CONFIG_HOME is set, as main's imports)

    eventloop.run(main(hosts))
