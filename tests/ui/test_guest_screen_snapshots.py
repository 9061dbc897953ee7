"""Each section of the guest details screen at 80x24, and the review of a change, on
the demo host (stable content; sampling paused; the graphs get a made-up history)."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot

from vtui.core.host.history import GuestHistory
from vtui.core.model import Guest
from vtui.screens.guest import GuestScreen
from vtui.screens.guest.sections import SECTIONS

from .helpers import demo_app, select, wait_for, wait_loaded

PHONE = (80, 24)


def fill_history(app, name: str) -> None:
    """Ten minutes of a guest working in waves (a fake, for the picture only)."""
    host = app.fleet.hosts["demo"]
    guest = host.find(name)
    history = GuestHistory(300)
    for i in range(300):
        wave = (i % 60) / 60
        history.append(
            Guest(
                uuid=guest.uuid,
                name=name,
                host="demo",
                state="running",
                cpu_pct=80 * wave,
                memory_kib=4 << 20,
                memory_used_kib=(2 << 20) + int(wave * (1 << 20)),
                disk_rd_bps=5e6 * wave,
                disk_wr_bps=1e6 * (1 - wave),
                net_rx_bps=2e5 * wave,
                net_tx_bps=8e4,
            )
        )
    host._sampler.history[guest.uuid] = history


async def details(app, pilot: Pilot, section: str, name: str = "win2022-ad") -> None:
    await wait_for(lambda: all(len(h.guests) >= 25 for h in app.fleet.hosts.values()), pilot)
    await wait_loaded(app, pilot)
    for host in app.fleet.hosts.values():
        host.paused = True
        host.uri = "test:///usr/share/vtui/demo-host.xml"  # virsh lines not naming the checkout
    select(app, name)
    await pilot.press("enter")
    await wait_for(
        lambda: isinstance(app.screen, GuestScreen) and app.screen.agent is not None, pilot
    )
    fill_history(app, name)
    index = next(i for i, (key, _label) in enumerate(SECTIONS) if key == section)
    await pilot.press(str((index + 1) % 10))
    await pilot.wait_for_scheduled_animations()
    await pilot.pause(0.3)


@pytest.mark.parametrize("section", [key for key, _label in SECTIONS])
def test_guest_section(snap_compare, section):
    app = demo_app()

    async def run_before(pilot):
        await details(app, pilot, section)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_review_of_a_change(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await details(app, pilot, "memory")
        await pilot.press("e")
        await pilot.pause(0.2)
        app.screen.query_one("#f-current").value = "3072"
        await pilot.press("ctrl+s")
        await pilot.wait_for_scheduled_animations()
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)
