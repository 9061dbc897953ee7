"""Pilot tests of the host screen on libvirt's test driver: the demo host (pools,
volumes used by guests, networks) and a host file of made-up devices. Nothing here
touches a real device or a real host; tests/ui/test_host_screen_lab.py does the rest
against the lab's libvirtd."""

from __future__ import annotations

from pathlib import Path

from lxml import etree

from vtui.commands import screen_commands
from vtui.core.storage import volume_names
from vtui.core.uri import demo_uri
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.host import HostScreen
from vtui.screens.host.copy_form import CopyForm
from vtui.screens.host.form import FormScreen
from vtui.screens.host.transfers import TransferProgressScreen, TransfersScreen
from vtui.widgets.row_table import RowTable

from .helpers import demo_app, notifications, wait_for, wait_loaded

DEVICES_HOST = Path(__file__).parent.parent / "data" / "devices-host.xml"


async def open_host(app, pilot, tab: str = "overview") -> HostScreen:
    await wait_loaded(app, pilot)
    screen = HostScreen(app.fleet.hosts["demo"], tab)
    await app.push_screen(screen)
    await pilot.pause()
    return screen


def rows(screen: HostScreen, tab: str) -> list[str]:
    tables = screen.sections[tab].query(RowTable)  # (none until mounted)
    return tables.first().keys if tables else []


def shown_keys(screen: HostScreen) -> set[str]:
    """The descriptions the footer shows now."""
    return {b.binding.description for b in screen.active_bindings.values() if b.binding.show}


async def loaded(screen: HostScreen, pilot, tab: str, count: int) -> None:
    await wait_for(
        lambda: len(rows(screen, tab)) == count and not screen.sections[tab].loading, pilot
    )


async def test_opened_from_the_main_screen_and_the_palette():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("i")  # the selected guest's host
        await wait_for(lambda: isinstance(app.screen, HostScreen), pilot)
        assert app.screen.host is app.fleet.hosts["demo"]
        assert app.screen.active.TAB == "overview"
        await pilot.press("escape")
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        commands = {c.title: c for c in screen_commands(app, app.fleet_screen)}
        assert {
            "Host details",
            "Host pools",
            "Host volumes",
            "Host networks",
            "Host devices",
        } <= set(commands)
        commands["Host networks"].callback()
        await wait_for(lambda: isinstance(app.screen, HostScreen), pilot)
        screen = app.screen
        assert screen.active.TAB == "networks"
        await loaded(screen, pilot, "networks", 4)
        here = {c.title for c in screen_commands(app, screen)}
        assert {"Pools of demo", "Devices of demo", "Volume transfers", "New", "Stop"} <= here
        assert "Start" not in here  # the selected network is active already


async def test_each_tab_by_its_number_lists_the_hosts_resources():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot)
        caps = screen.sections["overview"].query_one("#caps").render()
        await wait_for(lambda: "What it can run" in str(screen.query_one("#caps").render()), pilot)
        assert "TCG only" in str(screen.query_one("#caps").render()), caps
        await pilot.press("2")
        await wait_for(
            lambda: "not available" in str(screen.query_one("#ksm-numbers").render()), pilot
        )
        await pilot.press("3")
        await loaded(screen, pilot, "pools", 2)
        assert rows(screen, "pools") == ["default", "iso"]
        await pilot.press("4")  # the pool highlighted in the pools tab
        await loaded(screen, pilot, "volumes", 38)
        volumes = screen.sections["volumes"]
        cells = volumes.query_one(RowTable).cells("ci-runner-01.qcow2")
        assert cells[1:] == ["qcow2", "60G", "2.3G", "", "ci-runner-01 (running)"]
        await pilot.press("3", "down", "enter")  # Enter on a pool: its volumes
        await wait_for(lambda: screen.active.TAB == "volumes", pilot)
        await loaded(screen, pilot, "volumes", 6)
        assert volumes.pool == "iso"
        await pilot.press("5")
        await loaded(screen, pilot, "networks", 4)
        detail = str(screen.query_one("#network-detail").render())
        assert "DHCP 192.168.122.2-192.168.122.254" in detail and "web-01 (running)" in detail
        await pilot.press("6")
        await wait_for(
            lambda: "0 PCI" in str(screen.sections["devices"].query_one(".status").render()), pilot
        )
        assert shown_keys(screen) >= {"Back", "Filter"} and "Detach" not in shown_keys(screen)


async def test_footer_shows_what_applies_and_the_hidden_key_says_why():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "pools")
        await loaded(screen, pilot, "pools", 2)
        keys = shown_keys(screen)
        assert {"Stop", "Autostart", "New", "Delete"} <= keys and "Start" not in keys
        await pilot.press("s")  # active already: hidden, but not silent
        await wait_for(lambda: any("already active" in m for m in notifications(app)), pilot)
        await pilot.press("u")  # a volumes key does nothing here
        await pilot.press("5")
        await loaded(screen, pilot, "networks", 4)
        assert {"Stop", "New", "Delete"} <= shown_keys(screen)
        assert "Upload" not in shown_keys(screen)


async def test_read_only_host_shows_everything_and_refuses_every_change():
    app = demo_app(readonly=True)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "pools")
        await loaded(screen, pilot, "pools", 2)
        for tab, count, key in (("pools", 2, "n"), ("volumes", 38, "u"), ("networks", 4, "D")):
            await pilot.press(str(list(screen.sections).index(tab) + 1))
            await loaded(screen, pilot, tab, count)
            assert shown_keys(screen) <= {"Back", "Help", "Pool", "Volumes"}, tab
            before = len(notifications(app))
            await pilot.press(key)
            await wait_for(lambda n=before: len(notifications(app)) > n, pilot)
            assert "read-only" in notifications(app)[-1]
            assert not isinstance(app.screen, (FormScreen, ConfirmScreen))
        await pilot.press("2", "e")
        await wait_for(lambda: "change KSM tunables" in notifications(app)[-1], pilot)


async def test_deleting_a_volume_in_use_names_the_guest_and_asks_first():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "volumes")
        await loaded(screen, pilot, "volumes", 38)
        await pilot.press("D")  # ci-runner-01.qcow2, used by the running ci-runner-01
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        body = str(app.screen.query_one("#body").render())
        assert "in use by ci-runner-01 (running)" in body
        await pilot.press("n")
        await pilot.pause(0.3)
        assert "ci-runner-01.qcow2" in rows(screen, "volumes")
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")  # confirmed, naming that guest: deleted
        await loaded(screen, pilot, "volumes", 37)
        assert "ci-runner-01.qcow2" not in rows(screen, "volumes")


async def test_network_form_names_the_wrong_field_as_typed_then_creates():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "networks")
        await loaded(screen, pilot, "networks", 4)
        await pilot.press("n")
        await wait_for(lambda: isinstance(app.screen, FormScreen), pilot)
        form = app.screen
        await pilot.press(*"backend", "tab", "tab", *"192.168.122.128/25")
        problem = str(form.query_one("#problem").render())
        assert (
            "IPv4 subnet: subnet 192.168.122.128/25 overlaps 192.168.122.0/24 of network 'default'"
            in problem
        )
        assert form.query_one("#ipv4").has_class("-invalid")
        await pilot.press("enter")  # refused in the form: nothing is sent
        await pilot.pause(0.2)
        assert app.screen is form and "backend" not in rows(screen, "networks")
        for _ in "192.168.122.128/25":
            await pilot.press("backspace")
        await pilot.press(*"10.99.0.0/24")
        assert not form.query_one("#problem").display
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen, pilot)
        await loaded(screen, pilot, "networks", 5)  # the network event brought it in
        cells = screen.sections["networks"].query_one(RowTable).cells("backend")
        assert (cells[1], cells[2], cells[4], cells[5]) == ("active", "yes", "nat", "10.99.0.1/24")


async def test_a_pool_defined_elsewhere_appears_by_its_event():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "pools")
        await loaded(screen, pilot, "pools", 2)
        root = etree.Element("pool", type="dir")
        etree.SubElement(root, "name").text = "elsewhere"
        etree.SubElement(etree.SubElement(root, "target"), "path").text = "/srv/elsewhere"
        xml = etree.tostring(root, encoding="unicode")
        host = screen.host
        await host.call(lambda: host.require_conn().storagePoolDefineXML(xml, 0))
        await loaded(screen, pilot, "pools", 3)
        assert screen.sections["pools"].query_one(RowTable).cells("elsewhere")[2] == "inactive"


async def test_devices_show_who_uses_what_and_refuse_with_the_reason():
    app = demo_app(uris=[f"test://{DEVICES_HOST}"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 1, pilot)
        host = next(iter(app.fleet.hosts.values()))
        screen = HostScreen(host, "devices")
        await app.push_screen(screen)
        await loaded(screen, pilot, "devices", 5)
        table = screen.sections["devices"].query_one(RowTable)
        assert table.cells("pci_0000_04_10_1")[0] == "vf"
        assert table.cells("pci_0000_04_10_1")[5] == "guest passthru (running)"
        assert table.cells("pci_0000_03_00_0")[5] == "host: interface enp3s0"
        table.select("pci_0000_00_1f_2")
        await pilot.pause()
        assert "Detach" not in shown_keys(screen)
        await pilot.press("d")  # the host's own disk controller: refused, with the reason
        await wait_for(
            lambda: "the host itself uses it (disk sda)" in notifications(app)[-1], pilot
        )
        assert "IOMMU group" in str(screen.query_one("#device-detail").render())
        await pilot.press("f")  # PCI only
        await wait_for(lambda: len(table.keys) == 3, pilot)
        await pilot.press("f", "f")  # net
        await wait_for(lambda: table.keys == ["net_enp3s0_52_54_00_aa_bb_cc"], pilot)


async def test_transfers_list_opens_with_its_key():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_host(app, pilot)
        await pilot.press("T")
        await wait_for(lambda: isinstance(app.screen, TransfersScreen), pilot)
        await pilot.press("escape")
        await wait_for(lambda: isinstance(app.screen, HostScreen), pilot)


async def test_tab_to_the_tab_bar_then_arrows_walk_the_sections():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_host(app, pilot, "pools")
        await loaded(screen, pilot, "pools", 2)
        await pilot.press("shift+tab")  # from the pools list back to the tab bar
        assert type(screen.focused).__name__ == "ContentTabs"
        await pilot.press("right", "right")  # volumes, networks: the bar keeps the focus
        await wait_for(lambda: screen.tab == "networks", pilot)
        await loaded(screen, pilot, "networks", 4)
        assert type(screen.focused).__name__ == "ContentTabs"
        await pilot.press("tab")  # into the list
        assert screen.focused is screen.sections["networks"].query_one(RowTable)


async def test_copy_to_another_host_says_how_it_failed_and_leaves_nothing():
    """The test driver has no volume streams: the copy starts, fails on the stream, and
    the dialog and a notification say so; the half-made volume is gone again."""
    app = demo_app(uris=[demo_uri(), demo_uri()])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 60, pilot)
        source, target = app.fleet.hosts["demo"], app.fleet.hosts["demo#2"]
        screen = HostScreen(source, "pools")
        await app.push_screen(screen)
        await loaded(screen, pilot, "pools", 2)
        await pilot.press("down", "enter")  # the iso pool's volumes
        await loaded(screen, pilot, "volumes", 6)
        await pilot.press("t")
        await wait_for(lambda: isinstance(app.screen, CopyForm), pilot)
        form = app.screen
        await wait_for(lambda: form.query_one("#dest-pool").value == "default", pilot)
        assert form.query_one("#dest-host").value == "demo#2"
        await pilot.press("tab", "tab", "enter")  # to the name, keep it, go
        await wait_for(lambda: isinstance(app.screen, TransferProgressScreen), pilot)
        transfer = app.screen.transfer
        await wait_for(lambda: transfer.done, pilot)
        await pilot.pause(0.2)
        state = str(app.screen.query_one("#state").render())
        assert "not supported" in state and "no volume left behind" in state
        assert any("no volume left behind" in m for m in notifications(app))
        names = await volume_names(target, "default")
        assert "Windows_Server_2022_EVAL_x64FRE_en-us.iso" not in names and len(names) == 38


async def test_help_lists_every_section_key_by_id_and_dims_the_other_tabs():
    app = demo_app()
    async with app.run_test(size=(100, 40)) as pilot:
        screen = await open_host(app, pilot, "volumes")
        await loaded(screen, pilot, "volumes", 38)
        await pilot.press("question_mark")
        await wait_for(lambda: type(app.screen).__name__ == "HelpScreen", pilot)
        lines = {str(s.render()): s.has_class("off") for s in app.screen.query(".off, Static")}
        upload = next(text for text in lines if "(volumes.upload_volume)" in text)
        detach = next(text for text in lines if "(devices.detach_device)" in text)
        assert upload.startswith("u ") and not lines[upload]  # applies here
        assert lines[detach]  # another tab's: dimmed


async def test_a_host_that_is_not_connected_says_so_in_every_tab():
    app = demo_app(uris=["test:///nonexistent/host.xml"])
    async with app.run_test(size=(80, 24)) as pilot:
        host = next(iter(app.fleet.hosts.values()))
        await wait_for(lambda: host.error != "", pilot)
        screen = HostScreen(host, "pools")
        await app.push_screen(screen)
        status = screen.sections["pools"]
        await wait_for(lambda: status.is_mounted, pilot)
        await wait_for(lambda: "failed" in str(status.query_one(".status").render()), pilot)
        assert "failed" in str(screen.query_one("#host-title").render())
        await pilot.press("n")
        await wait_for(lambda: "cannot create a storage pool" in notifications(app)[-1], pilot)
        await pilot.press("4")
        await wait_for(lambda: screen.sections["volumes"].is_mounted, pilot)
        text = str(screen.sections["volumes"].query_one(".status").render())
        assert "failed" in text
