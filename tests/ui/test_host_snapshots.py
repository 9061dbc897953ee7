"""Each section of the host screen, and its forms and progress dialog, as they look at
80x24 (a phone over SSH), on libvirt's test driver: the demo host for pools, volumes
and networks, a host file of made-up devices for the devices tab. Sampling is paused
and the history is fixed before the picture, so nothing moves."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from vtui.core.storage import UPLOAD, Transfer, TransferProgress
from vtui.screens.host import HostScreen
from vtui.screens.host.form import FormScreen
from vtui.screens.host.transfers import TransferProgressScreen

from .helpers import demo_app, wait_for
from .test_snapshots import PHONE, loaded, settled

DEVICES_HOST = Path(__file__).parent.parent / "data" / "devices-host.xml"
# a day's worth of load, the same each time
CPU = [30 + 25 * math.sin(i / 6) for i in range(60)]
MEMORY = [40 + i / 3 for i in range(60)]


async def show(app, pilot, tab: str, host_name: str = "demo") -> HostScreen:
    host = app.fleet.hosts[host_name]
    if host_name == "demo":
        await loaded(app, pilot)
    else:  # a host with one guest
        await wait_for(lambda: len(host.guests) == 1, pilot)
        host.paused = True
    host.cpu_history.clear()
    host.cpu_history.extend(CPU)
    host.memory_history.clear()
    host.memory_history.extend(MEMORY)
    screen = HostScreen(host, tab)
    await app.push_screen(screen)
    section = screen.sections[tab]
    await wait_for(lambda: not section.stale and not section.loading, pilot)
    await settled(pilot)
    return screen


@pytest.mark.parametrize("tab", ["overview", "ksm", "pools", "volumes", "networks"])
def test_host_section(snap_compare, tab):
    app = demo_app()

    async def run_before(pilot):
        await show(app, pilot, tab)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_host_devices(snap_compare):
    app = demo_app(uris=[f"test://{DEVICES_HOST}"])

    async def run_before(pilot):
        screen = await show(app, pilot, "devices", next(iter(app.fleet.hosts)))
        screen.sections["devices"].table.select("pci_0000_03_00_0")  # a PF the host uses
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_pool_form(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await show(app, pilot, "pools")
        await pilot.press("n")
        await wait_for(lambda: type(app.screen).__name__ == "PoolForm", pilot)
        await pilot.press(*"images2", "tab", *"var/lib/images2")  # not absolute: said
        form = app.screen
        await wait_for(
            lambda: (
                "not an absolute path" in str(form.query_one("#problem").content)
                and "directory on the host" in str(form.query_one("#hint").content)
            ),
            pilot,
        )
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_network_form_with_an_overlap(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await show(app, pilot, "networks")
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        await pilot.press(*"backend", "tab", "tab", *"10.20.0.0/16")
        form = app.screen
        # the check and the hint follow the keys as messages: under load they can come
        # after a fixed pause, so the picture waits for what it shows
        await wait_for(
            lambda: (
                form.values()["ipv4"] == "10.20.0.0/16"
                and "overlaps" in str(form.query_one("#problem").content)
                and "CIDR" in str(form.query_one("#hint").content)
            ),
            pilot,
        )
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_transfer_progress(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        screen = await show(app, pilot, "volumes")
        host = screen.host
        transfer = Transfer(
            7,
            UPLOAD,
            "/srv/images/debian-12.qcow2",
            "demo:default/debian-12.qcow2",
            [host],
            2 << 30,
            None,
        )  # never launched: the numbers stay where they are put
        transfer.progress = TransferProgress(
            total=2 << 30,
            done=1 << 30,
            data_bytes=600 << 20,
            elapsed=9.0,
            rate_bps=110 << 20,
            eta=9.5,
            sparse=True,
        )
        await app.push_screen(TransferProgressScreen(transfer))
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)
