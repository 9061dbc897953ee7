"""The main screen as it looks at 80x24 (a phone over SSH) and 160x50."""

from __future__ import annotations

import pytest

from .helpers import demo_app, wait_loaded


@pytest.mark.parametrize("size", [(80, 24), (160, 50)], ids=["80x24", "160x50"])
def test_main_screen(snap_compare, size):
    app = demo_app()

    async def loaded(pilot):
        await wait_loaded(app, pilot)
        for host in app.fleet.hosts.values():  # no live refresh while the picture is taken
            host.paused = True
        await pilot.pause(0.2)

    assert snap_compare(app, terminal_size=size, run_before=loaded)
