"""The host screen against the lab's real libvirtd: a dir pool, a volume and an
isolated network made from the forms and deleted again, an overlapping subnet refused
in the form, a read-only host that refuses every change, a KSM tunable changed from
its form (and put back), and an upload through the dialog to the remote lab host
over vtui's SSH tunnel, with its progress, a cancel that leaves nothing, and a
download back.

Nothing here detaches a device: the lab's libvirtd sees this machine's real ones."""

from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import libvirt
import pytest

from tests.lab.pools import make_pool, pool_names, pool_path, remove_pool, unique_name, volumes_in
from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.host import HostStatus
from vtui.core.storage import CANCELLED, COMPLETED
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.host import HostScreen
from vtui.screens.host.form import FormScreen
from vtui.screens.host.pool_form import PoolForm
from vtui.screens.host.transfers import TransferProgressScreen
from vtui.widgets.row_table import RowTable

from .helpers import demo_app, notifications, put_text, wait_for

pytestmark = pytest.mark.lab
MiB = 1024 * 1024
KSM_SYSFS = Path("/sys/kernel/mm/ksm")


def rows(screen: HostScreen, tab: str) -> list[str]:
    tables = screen.sections[tab].query(RowTable)
    return tables.first().keys if tables else []


async def host_screen(app, pilot, tab: str) -> HostScreen:
    host = next(iter(app.fleet.hosts.values()))
    await wait_for(lambda: host.status is HostStatus.CONNECTED, pilot, timeout=30)
    screen = HostScreen(host, tab)
    await app.push_screen(screen)
    await wait_for(
        lambda: not screen.sections[tab].stale and not screen.sections[tab].loading, pilot
    )
    return screen


async def until_shown(app, pilot, kind: type) -> None:
    await wait_for(lambda: isinstance(app.screen, kind), pilot)


def libvirt_networks(uri: str) -> dict[str, bool]:
    conn = libvirt.open(uri)
    try:
        return {n.name(): bool(n.isActive()) for n in conn.listAllNetworks(0)}
    finally:
        conn.close()


async def test_dir_pool_and_volume_from_the_forms_then_deleted(local_host):
    name = unique_name("vtui-ui")
    directory = local_host.dir / "var-lib-libvirt" / name
    app = demo_app(uris=[local_host.uri])
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await host_screen(app, pilot, "pools")
            await pilot.press("n")
            await until_shown(app, pilot, PoolForm)  # dir first; build (mkdir) ticked
            await pilot.press(*name, "tab", *pool_path(name), "enter")
            await wait_for(lambda: name in rows(screen, "pools"), pilot)
            assert app.screen is screen and name in pool_names(local_host.uri)
            assert directory.is_dir()

            screen.sections["pools"].query_one(RowTable).select(name)
            await pilot.press("enter")  # its volumes
            volumes = screen.sections["volumes"]
            await wait_for(lambda: volumes.pool == name and volumes.pool_info is not None, pilot)
            await pilot.press("n")
            await until_shown(app, pilot, FormScreen)
            await pilot.press(*"disk1.qcow2", "tab", "tab", *"64M", "enter")
            await wait_for(lambda: "disk1.qcow2" in volumes.volumes, pilot)
            table = volumes.query_one(RowTable)
            assert table.cells("disk1.qcow2")[1:3] == ["qcow2", "64M"]
            assert volumes_in(local_host.uri, name) == ["disk1.qcow2"]

            await pilot.press("D")
            await until_shown(app, pilot, ConfirmScreen)
            await pilot.press("y")
            await wait_for(lambda: not rows(screen, "volumes"), pilot)
            assert volumes_in(local_host.uri, name) == []

            await pilot.press("3")
            screen.sections["pools"].query_one(RowTable).select(name)
            await pilot.press("D")
            await until_shown(app, pilot, ConfirmScreen)
            option = str(app.screen.query_one("#option").label)
            assert f"its directory {pool_path(name)}" in option
            await pilot.press("shift+tab", "shift+tab", "space", "y")  # tick: with its storage
            await wait_for(lambda: name not in rows(screen, "pools"), pilot)
            assert name not in pool_names(local_host.uri) and not directory.exists()
    finally:
        remove_pool(local_host.uri, name)


async def test_isolated_network_from_the_form_overlap_refused_then_deleted(
    local_host, lab_networks
):
    first, second = unique_name("vtui-n"), unique_name("vtui-n")
    lab_networks += [first, second]
    app = demo_app(uris=[local_host.uri])
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await host_screen(app, pilot, "networks")
        await pilot.press("n")
        await until_shown(app, pilot, FormScreen)
        # name; mode: nat -> route -> isolated; subnet
        await pilot.press(*first, "tab", "enter", "down", "down", "enter", "tab", *"10.78.231.0/24")
        await pilot.press("enter")
        section = screen.sections["networks"]
        # (its row may come first from the listing alone, with "…" until its XML is read)
        await wait_for(
            lambda: first in section.networks and section.networks[first].described, pilot
        )
        assert libvirt_networks(local_host.uri)[first] is True
        cells = screen.sections["networks"].query_one(RowTable).cells(first)
        assert (cells[1], cells[4], cells[5]) == ("active", "isolated", "10.78.231.1/24")

        await pilot.press("n")
        await until_shown(app, pilot, FormScreen)
        form = app.screen
        await pilot.press(*second, "tab", "tab", *"10.78.231.128/25", "enter")
        await pilot.pause(0.3)
        problem = str(form.query_one("#problem").render())
        assert f"overlaps 10.78.231.0/24 of network '{first}'" in problem
        assert app.screen is form and second not in libvirt_networks(local_host.uri)
        await pilot.press("escape")

        screen.sections["networks"].query_one(RowTable).select(first)
        await pilot.press("D")
        await until_shown(app, pilot, ConfirmScreen)
        await pilot.press("y")
        await wait_for(lambda: first not in rows(screen, "networks"), pilot)
        assert first not in libvirt_networks(local_host.uri)


async def test_read_only_host_lists_and_refuses_every_change(local_host):
    pool = make_pool(local_host.uri)
    try:
        app = demo_app(readonly=True, uris=[local_host.uri])
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await host_screen(app, pilot, "pools")
            assert pool in rows(screen, "pools")
            refused = [("3", "n"), ("3", "x"), ("3", "D"), ("4", "u"), ("5", "n"), ("2", "e")]
            for tab, key in refused:
                before = len(notifications(app))
                await pilot.press(tab, key)
                await wait_for(lambda n=before: len(notifications(app)) > n, pilot)
                assert "read-only" in notifications(app)[-1], (tab, key)
                assert app.screen is screen
        assert pool in pool_names(local_host.uri)
    finally:
        remove_pool(local_host.uri, pool)


async def test_ksm_tunable_changed_from_its_form_and_put_back(local_host):
    original = int((KSM_SYSFS / "pages_to_scan").read_text())
    try:
        app = demo_app(uris=[local_host.uri])
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await host_screen(app, pilot, "ksm")
            await pilot.press("e")
            await until_shown(app, pilot, FormScreen)
            await pilot.press("ctrl+u", *str(original + 3), "enter")
            await wait_for(lambda: app.screen is screen, pilot)
            assert int((KSM_SYSFS / "pages_to_scan").read_text()) == original + 3
            text = str(screen.query_one("#ksm-numbers").render())
            assert f"{original + 3}" in text
    finally:

        def restore() -> None:
            conn = libvirt.open(local_host.uri)
            try:
                conn.setMemoryParameters({"shm_pages_to_scan": original}, 0)
            finally:
                conn.close()

        await asyncio.to_thread(restore)
    assert int((KSM_SYSFS / "pages_to_scan").read_text()) == original


@pytest.mark.usefixtures("private_home")
async def test_upload_to_the_remote_host_shows_progress_cancels_clean_and_downloads(lab, tmp_path):
    pool = make_pool(lab["b"].uri)
    big, small = tmp_path / "big.img", tmp_path / "small.img"
    big.write_bytes(os.urandom(16 * MiB))
    small.write_bytes(os.urandom(4 * MiB))
    fleet = Fleet(interval=3600)
    remote = add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    app = VtuiApp(fleet)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            screen = await host_screen(app, pilot, "pools")
            assert remote.tunnel is not None  # through vtui's SSH tunnel
            screen.sections["pools"].query_one(RowTable).select(pool)
            await pilot.press("enter")
            volumes = screen.sections["volumes"]
            await wait_for(lambda: volumes.pool == pool and volumes.pool_info is not None, pilot)

            await pilot.press("u")  # 16 MiB at 4 MiB/s: the cancel lands half-way
            await until_shown(app, pilot, FormScreen)
            await put_text(app, pilot, str(big))
            await pilot.press("tab", "tab", *"4M", "enter")
            await until_shown(app, pilot, TransferProgressScreen)
            progress = app.screen
            transfer = progress.transfer
            await wait_for(lambda: transfer.progress.done >= 2 * MiB, pilot, timeout=20)
            await pilot.pause(0.3)
            numbers = str(progress.query_one("#numbers").render())
            assert "M of 16M" in numbers and re.search(r"rate [\d.]+M/s .* ETA 0:\d\d", numbers)
            await pilot.press("c")
            await until_shown(app, pilot, ConfirmScreen)
            await pilot.press("y")
            await wait_for(lambda: transfer.state == CANCELLED, pilot, timeout=20)
            assert "no volume left behind" in transfer.error
            await wait_for(
                lambda: any("no volume left behind" in m for m in notifications(app)), pilot
            )
            assert volumes_in(lab["b"].uri, pool) == []

            await pilot.press("escape")  # the progress dialog; the next one is closed early
            await pilot.press("u")
            await until_shown(app, pilot, FormScreen)
            await put_text(app, pilot, str(small))
            await pilot.press("tab", "tab", *"2M", "enter")
            await until_shown(app, pilot, TransferProgressScreen)
            running = app.screen.transfer
            await pilot.press("escape")
            assert app.screen is screen and not running.done  # it goes on
            await wait_for(lambda: running.state == COMPLETED, pilot, timeout=20)
            await wait_for(lambda: "small.img" in volumes.volumes, pilot)

            volumes.query_one(RowTable).select("small.img")
            await pilot.press("d")
            await until_shown(app, pilot, FormScreen)
            back = tmp_path / "back.img"
            await put_text(app, pilot, str(back))
            await pilot.press("enter")
            await until_shown(app, pilot, TransferProgressScreen)
            download = app.screen.transfer
            await wait_for(lambda: download.state == COMPLETED, pilot, timeout=20)
            assert back.read_bytes() == small.read_bytes()
    finally:
        remove_pool(lab["b"].uri, pool)
