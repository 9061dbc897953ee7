"""Regression tests of issue 17 (vtui fed hostile input), the TUI side: each test is
named after the issue's item it guards and asserts what the user sees on the demo host
(libvirt's test driver), test:///default or a test-driver file of its own."""

from __future__ import annotations

import asyncio
import re
import shutil
from xml.sax.saxutils import escape

import libvirt
import pytest
import textual.app
from rich.cells import cell_len
from textual import events
from textual.keys import _character_to_key
from textual.widgets import Button, Input, Static

from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.guests.console import GuestConsole
from vtui.core.host import HostStatus
from vtui.core.settings import saved_hosts
from vtui.core.settings.saved_hosts import HEADER, SavedHost
from vtui.core.uri import demo_host_path, demo_uri
from vtui.screens.connections import ConnectionsScreen, HostForm
from vtui.screens.console import ConsoleScreen, open_console
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.help import HelpScreen
from vtui.screens.migration.form import MigrateScreen
from vtui.widgets.guest_table import GuestTable
from vtui.widgets.host_list import HostList
from vtui.widgets.row_table import RowTable

from .helpers import demo_app, notifications, select, shown_names, wait_for, wait_loaded


@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))


def screen_lines(app: VtuiApp) -> list[str]:
    """The text of the screen on top, line by line, as the next paint shows it."""
    return [strip.text for strip in app.screen._compositor.render_strips()]


def painted_lines(widget) -> list[str]:
    """A widget's lines as last painted (its line cache), never rendered afresh here."""
    cache = widget._styles_cache._cache
    return [cache[y].text if y in cache else "" for y in range(widget.size.height)]


def table_line(table: GuestTable, name: str) -> str:
    """The drawn line of the shown guest called `name`."""
    row = next(i for i, key in enumerate(table.order) if table.guests[key].name == name)
    return table.render_line(row - round(table.scroll_y) + 1).text


def cell_at(text: str, index: int) -> int:
    """The terminal cell where text[index] is drawn."""
    return cell_len(text[:index])


def burst(app: VtuiApp, keys: list[str]) -> None:
    """Keys queued all at once, as a paste without bracketed paste delivers them (Pilot's
    press waits for the app to go idle after each key)."""
    for key in keys:
        char = {"tab": "\t"}.get(key, key if len(key) == 1 else None)
        name = _character_to_key(key) if len(key) == 1 and not key.isalnum() else key
        event = events.Key(name, char)
        event.set_sender(app)
        app.post_message(event)  # queued now: the app reads them all in one go


# -- 6: refusal reasons --------------------------------------------------------------------
async def test_6_start_on_a_paused_guest_offers_resume():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        guest = next(g for g in app.fleet.hosts["demo"].guests.values() if g.state == "paused")
        select(app, guest.name)
        await pilot.press("s")
        said = f"cannot start {guest.name}: "
        await wait_for(lambda: any(said in m for m in notifications(app)), pilot)
        message = next(m for m in notifications(app) if said in m)
        assert "paused" in message and "resume" in message, message
        assert "running" not in message and "shut it down" not in message, message
        assert guest.state == "paused"


async def test_6_a_saved_read_only_host_is_not_blamed_on_the_command_line():
    saved_hosts.add(SavedHost("ro-demo", demo_uri(), readonly=True))
    fleet = Fleet(interval=0.5)
    add_target(fleet, "ro-demo")  # as `vtui ro-demo` does, no --readonly anywhere
    app = VtuiApp(fleet)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 25, pilot)
        assert fleet.hosts["ro-demo"].readonly
        select(app, "gpu-lab")  # shut off
        await pilot.press("s")
        select(app, "web-01")  # running
        await pilot.press("p", "m", "c")
        wanted = ("cannot start gpu-lab", "cannot pause web-01", "cannot migrate web-01")
        wanted += ("cannot open the console",)
        await wait_for(lambda: all(any(w in m for m in notifications(app)) for w in wanted), pilot)
        refusals = [m for m in notifications(app) if any(w in m for w in wanted)]
        assert len(refusals) >= len(wanted)
        for message in refusals:
            assert "read-only" in message, message
            assert "--readonly" not in message, message


# -- 7: wide characters in the guest table -------------------------------------------------
WIDE_NAMES = [
    "数据库服务器-主-01",
    "🚀launch-🐳-02",
    "cafe\u0301-re\u0301sume\u0301",
    "plain-ascii-03",
]


async def test_7_wide_and_combining_names_do_not_shift_the_columns():
    app = demo_app(uris=["test:///default"])
    async with app.run_test(size=(120, 40)) as pilot:
        host = app.fleet.hosts["test"]
        await wait_for(lambda: host.guests, pilot)
        for name in WIDE_NAMES:
            xml = (
                f"<domain type='test'><name>{escape(name)}</name>"
                "<memory unit='MiB'>64</memory><os><type>hvm</type></os></domain>"
            )
            await host.call(lambda xml=xml: host.conn.defineXML(xml))
        await wait_for(lambda: set(WIDE_NAMES) <= set(shown_names(app)), pilot)
        await pilot.pause(0.2)
        table = app.fleet_screen.table
        header = table.render_line(0).text
        state_at = cell_at(header, header.index("State"))
        host_at = cell_at(header, header.index("Host"))
        for name in [*WIDE_NAMES, "test"]:
            line = table_line(table, name)
            found = re.search(r"running|shut off", line)
            assert found is not None, line
            assert cell_at(line, found.start()) == state_at, (name, line)
            assert cell_at(line, line.rindex(" test") + 1) == host_at, (name, line)
            assert line.startswith(name), line  # the whole name, not cut


# -- 8: help, and a footer that fits 80 columns --------------------------------------------
def help_texts(app: VtuiApp) -> list[str]:
    return [str(s.render()) for s in app.screen.query(Static)]


async def test_8_question_mark_and_f1_open_the_keys_and_the_footer_fits_80_columns():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        # the footer recomposes its keys for the selected guest: wait for it to be drawn
        # (on a loaded machine a fixed 0.2 s once caught it empty)
        await wait_for(lambda: screen_lines(app)[-1].strip(), pilot)
        footer = screen_lines(app)[-1]
        for key in ("/ Filter", "? Help", "q Quit"):
            assert key in footer, footer
        for key in ("question_mark", "f1"):
            await pilot.press(key)
            await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
            texts = help_texts(app)
            for keys, what, ident in (
                ("s", "Start", "guest.start"),
                ("/", "Filter", "filter.text"),
                ("f", "State", "filter.state"),
                ("m", "Migrate", "migrate"),
                ("q", "Quit", "app.quit"),
                ("C", "Hosts", "app.connections"),
            ):
                assert any(
                    t.split()[0] == keys and what in t and ident in t for t in texts if t.strip()
                ), (keys, what, texts)
            await pilot.press("escape")
            await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        assert app.is_running


async def test_8_the_help_hint_names_the_keys_table_literally():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("f1")
        await wait_for(lambda: isinstance(app.screen, HelpScreen), pilot)
        hint = str(app.screen.query_one(".dialog-hint", Static).render())
        assert "settings.toml ([keys], by the id shown)" in hint, hint


# -- 9: the footer shows what applies to the selected guest ----------------------------------
async def test_9_the_footer_follows_the_selected_guests_state():
    app = demo_app()
    async with app.run_test(size=(120, 30)) as pilot:
        await wait_loaded(app, pilot)

        async def footer_for(name: str, shows: str) -> str:
            """The footer once it shows `shows`: it recomposes its keys for the selected
            guest (on a loaded machine a fixed 0.2 s once caught it empty)."""
            select(app, name)
            try:
                await wait_for(lambda: shows in screen_lines(app)[-1], pilot)
            except AssertionError:
                pass  # the assertions below say what it shows instead
            return screen_lines(app)[-1]

        running = await footer_for("web-01", "p Pause")
        assert "s Start" not in running and "p Pause" in running, running
        stopped = await footer_for("gpu-lab", "s Start")  # shut off
        assert "s Start" in stopped, stopped
        assert "p Pause" not in stopped and "d Shutdown" not in stopped, stopped
        paused = next(g.name for g in app.fleet_screen.table.guests.values() if g.state == "paused")
        held = await footer_for(paused, "u Resume")
        assert "u Resume" in held and "p Pause" not in held, held


# -- 10: a failed host can be retried and removed ------------------------------------------
async def test_10_a_failed_host_is_retried_with_r_and_removed_with_x(tmp_path):
    late = tmp_path / "late-host.xml"  # not there yet: this host fails
    app = demo_app(uris=[demo_uri(), f"test://{late}", "test:///nonexistent/file.xml"])
    async with app.run_test(size=(120, 40)) as pilot:
        hosts = app.fleet.hosts
        assert list(hosts) == ["demo", "test", "test#2"]
        await wait_for(
            lambda: (
                hosts["test"].status is HostStatus.FAILED
                and hosts["test#2"].status is HostStatus.FAILED
            ),
            pilot,
        )
        await wait_for(lambda: app.fleet_screen.table.row_count >= 25, pilot)
        host_list = app.fleet_screen.query_one(HostList)
        await pilot.press("tab")
        assert app.focused is host_list
        await pilot.press("down")
        assert host_list.selected is hosts["test"]
        await pilot.pause(0.2)
        footer = screen_lines(app)[-1]
        assert "r Retry" in footer and "x Remove" in footer, footer

        def failures() -> int:
            return sum(str(late) in m and "cannot" in m for m in notifications(app))

        await wait_for(lambda: failures() >= 1, pilot)
        before = failures()
        await pilot.press("r")  # still missing: tried again, and says so
        await wait_for(lambda: failures() > before, pilot)
        assert hosts["test"].status is not HostStatus.CONNECTED

        shutil.copy(demo_host_path(), late)
        await pilot.press("r")
        await wait_for(lambda: hosts["test"].status is HostStatus.CONNECTED, pilot)
        await wait_for(
            lambda: sum(g.host == "test" for g in app.fleet_screen.table.guests.values()) >= 25,
            pilot,
        )
        assert any(m.startswith("test: connected,") for m in notifications(app))

        await pilot.press("down")
        assert host_list.selected is hosts["test#2"]
        await pilot.press("x")  # failed: removed at once, nothing to disconnect
        await wait_for(lambda: "test#2" not in app.fleet.hosts, pilot)
        await pilot.pause(0.2)
        assert [h.name for h in host_list.hosts] == ["demo", "test"]
        assert not any(line.lstrip("▾▸✖●◌· ").startswith("test#2") for line in screen_lines(app))


# -- 13: messages are short and say why -----------------------------------------------------
async def test_13_a_huge_uri_gives_a_short_one_line_notification():
    uri = "test:///" + "x" * 10_000
    app = demo_app(uris=[uri])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: any("xxxxxxxxxx" in m for m in notifications(app)), pilot)
        await wait_for(lambda: any("No host answered" in m for m in notifications(app)), pilot)
        for message in notifications(app):
            assert len(message) <= 400, len(message)
            assert "\n" not in message, message
        assert app.is_running


async def test_13_a_screenshot_that_cannot_be_saved_says_why(tmp_path, monkeypatch):
    missing = tmp_path / "no-such-folder"
    monkeypatch.setattr(textual.app, "user_downloads_path", lambda: missing)
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        command = next(
            c for c in app.get_system_commands(app.screen) if "screenshot" in c.title.lower()
        )
        command.callback()  # what choosing it in the palette (Ctrl+P) runs
        await wait_for(lambda: any("screenshot" in m for m in notifications(app)), pilot)
        await pilot.pause(0.2)
        said = [m for m in notifications(app) if "screenshot" in m.lower()]
        assert said
        for message in said:  # every word about it says why, none a bare "Failed to..."
            assert "No such file or directory" in message and str(missing) in message, said
        assert not missing.exists()


# -- 16: delete names every volume, before and after -----------------------------------------
async def test_16_delete_lists_every_volume_and_says_which_went():
    volumes = [
        "/var/lib/libvirt/images/db-restore-test.qcow2",
        "/var/lib/libvirt/images/db-restore-test-data.qcow2",
    ]
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "db-restore-test")  # shut off, two disk volumes
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.pause(0.2)
        items = [str(s.render()) for s in app.screen.query(".item")]
        assert sorted(items) == sorted(volumes)
        shown = screen_lines(app)
        for volume in volumes:  # each whole path on screen, none cut
            assert any(volume in line for line in shown), (volume, shown)
        assert "2 volume(s)" in str(app.screen.query_one("#option").render())
        await pilot.click("#option")
        await pilot.press("y")
        said = "demo: deleted db-restore-test"
        await wait_for(lambda: any(m.startswith(said) for m in notifications(app)), pilot)
        message = next(m for m in notifications(app) if m.startswith(said))
        for volume in volumes:
            assert volume in message, message


# -- 17: the name stays when the table scrolls sideways -------------------------------------
async def test_17_scrolling_right_at_80_columns_keeps_the_name_column():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        table = app.fleet_screen.table
        assert "Host" not in table.render_line(0).text  # off the right edge at first
        for _ in range(30):
            if "Host" in table.render_line(0).text:
                break
            await pilot.press("right")
        await pilot.pause(0.2)
        assert table.scroll_offset.x > 0
        assert "Host" in table.render_line(0).text
        assert table.render_line(0).text.startswith("Name")
        assert table_line(table, "web-01").startswith("web-01 ")
        assert table_line(table, "web-01").rstrip().endswith("demo")
        await wait_for(lambda: any(ln.startswith("web-01 ") for ln in screen_lines(app)), pilot)


# -- 18: the connections screen with many, and long, saved hosts ----------------------------
async def test_18_eight_thousand_saved_hosts_open_and_go_quickly():
    path = saved_hosts.hosts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        HEADER
        + "".join(
            f'\n[[host]]\nname = "h{i:04d}"\ntarget = "root@h{i:04d}.example"\n'
            for i in range(8000)
        )
    )
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        loop = asyncio.get_running_loop()
        began = loop.time()
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConnectionsScreen), pilot)
        table = app.screen.query_one(RowTable)
        await wait_for(lambda: table.row_count == 8000, pilot)
        await pilot.pause()
        assert any("root@h0000.example" in line for line in screen_lines(app))
        assert loop.time() - began < 5.0
        await pilot.press("end")
        await pilot.pause()
        assert any(line.startswith("h7999 ") for line in screen_lines(app))

        began = loop.time()
        await pilot.press("up", "d", "y")  # remove h7998
        await wait_for(lambda: table.row_count == 7999, pilot)
        await pilot.pause()
        assert loop.time() - began < 5.0
        assert not any(line.startswith("h7998 ") for line in screen_lines(app))
        assert len(saved_hosts.load()[0]) == 7999


async def test_18_a_300_character_name_leaves_the_other_columns_visible():
    long_name = "n" * 300
    saved_hosts.add(SavedHost("short", "root@short.example"))
    saved_hosts.add(SavedHost(long_name, "root@long.example", readonly=True))
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConnectionsScreen), pilot)
        await pilot.pause(0.2)
        lines = painted_lines(app.screen.query_one(RowTable))
        assert "Target" in lines[0] and "RO" in lines[0], lines[0]
        assert "root@short.example" in lines[1], lines[1]
        assert lines[2].startswith("nnnn") and "root@long.example" in lines[2], lines[2]
        assert " yes " in lines[2], lines[2]  # its RO column too


# -- 19: the migrate form's address and its message with one host ---------------------------
async def test_19_a_bad_migration_address_is_refused_naming_the_field():
    app = demo_app(uris=[demo_uri(), demo_uri()])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: all(len(h.guests) >= 25 for h in app.fleet.hosts.values()), pilot)
        select(app, "web-01")  # running
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, MigrateScreen), pilot)
        screen = app.screen
        screen.query_one("#address", Input).focus()
        await pilot.press(*"not an address;rm -rf")
        assert screen.query_one("#address", Input).value == "not an address;rm -rf"
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        errors = str(screen.query_one("#errors", Static).render())
        assert screen.query_one("#errors").display
        assert errors.startswith("the migration address must be"), errors
        assert "\n" not in errors, errors  # one message, on one line of text
        assert "pick a destination host" not in errors
        assert screen.checks is None and screen.query_one("#migrate", Button).disabled


async def test_19_with_one_host_connected_the_form_keeps_saying_why():
    app = demo_app(uris=[demo_uri(), "test:///nonexistent/file.xml"])
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: app.fleet_screen.table.row_count >= 25, pilot)
        await wait_for(lambda: app.fleet.hosts["test"].status is HostStatus.FAILED, pilot)
        select(app, "web-01")
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, MigrateScreen), pilot)
        screen = app.screen
        await pilot.pause(0.1)

        def errors() -> str:
            return str(screen.query_one("#errors", Static).render())

        assert errors() == "no other connected host to migrate to"
        await pilot.press("ctrl+t")
        await pilot.pause(0.2)
        assert errors() == "no other connected host to migrate to"
        assert "pick a destination host" not in errors()


# -- 20: a burst of keys in the add-host form ------------------------------------------------
async def test_20_a_burst_of_keys_keeps_its_tab_in_the_host_form():
    app = demo_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("C")
        await wait_for(lambda: isinstance(app.screen, ConnectionsScreen), pilot)
        await pilot.press("a")
        await wait_for(lambda: isinstance(app.screen, HostForm), pilot)
        form = app.screen
        await pilot.pause(0.1)
        burst(app, [*"abc", "tab", *"root@def"])
        target = form.query_one("#target", Input)
        await wait_for(lambda: target.value == "root@def", pilot)
        assert form.query_one("#name", Input).value == "abc"


# -- 21: quitting with a console attached asks first -----------------------------------------
async def test_21_quitting_with_a_console_attached_asks_and_no_keeps_running(monkeypatch):
    # The test driver has no console streams: a plain stream stands in for the guest's
    # serial line, everything else (the screen, attaching, quitting) is vtui's own.
    def open_blocking(self, conn, force, generation):
        return conn.newStream(libvirt.VIR_STREAM_NONBLOCK)

    monkeypatch.setattr(GuestConsole, "_open_blocking", open_blocking)
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        host, guest = app.fleet.hosts["demo"], app.fleet_screen.table.selected_guest
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "attached", pilot)
        await pilot.press("ctrl+right_square_bracket")  # back to the table, still attached
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        assert screen.console is not None and screen.console.is_open
        await pilot.press("q")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert "web-01 on demo" in app.screen.items
        assert "console" in app.screen.body
        await pilot.press("n")
        await wait_for(lambda: app.screen is app.fleet_screen, pilot)
        await pilot.pause(0.2)
        assert app.is_running
        assert screen.console is not None and screen.console.is_open
        assert isinstance(app.get_screen(f"console-{guest.uuid}"), ConsoleScreen)


# -- 23: the Up cell follows the clock --------------------------------------------------------
async def test_23_the_up_cell_advances_without_a_new_sample(monkeypatch):
    # The visible lines are redrawn on a clock; at most once a minute keeps the minutes
    # right. A second here, so the test does not wait for the real period.
    assert GuestTable.CLOCK_REDRAW <= 60
    monkeypatch.setattr(GuestTable, "CLOCK_REDRAW", 1.0)
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        host = app.fleet.hosts["demo"]
        select(app, "staging-web-01")  # shut off
        guest = app.fleet_screen.table.selected_guest
        await pilot.press("s")
        await wait_for(lambda: guest.state == "running" and guest.started_at, pilot)
        table = app.fleet_screen.table
        await wait_for(lambda: "0m" in table_line(table, "staging-web-01").split(), pilot)
        host.paused = True  # no more samples: nothing in the guest's record changes
        await pilot.pause(host.interval * 3)
        sampled = host.last_sample_at

        def up_cell() -> str:
            row = table.order.index((host.name, guest.uuid)) - round(table.scroll_y) + 1
            return painted_lines(table)[row]

        # (waits: a repaint in flight can leave the painted line empty for a moment)
        await wait_for(lambda: "0m" in up_cell().split(), pilot)
        guest.started_at -= 125  # as if started two minutes ago: only a redraw shows it
        await wait_for(lambda: "2m" in up_cell().split(), pilot, timeout=10)
        assert host.last_sample_at == sampled
