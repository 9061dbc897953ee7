"""Pilot tests of marking guests and acting on the marked ones, on the demo host:
Space, all shown, by pattern, clear; marks through sorting, filtering, refreshes and a
guest that goes away; one confirmation listing every guest; the results list. Plus
the pictures of the marked table and of the results list."""

from __future__ import annotations

import pytest
from rich.cells import cell_len

from tests.ui.helpers import demo_app, notifications, select, shown_names, wait_for, wait_loaded
from tests.ui.test_snapshots import PHONE, loaded, settled
from vtui.core.uri import demo_uri
from vtui.screens.bulk import BulkMigrateScreen, BulkResultsScreen, MarkPatternScreen
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.widgets.guest_table import MARK


def marked_names(app) -> list[str]:
    return sorted(g.name for g in app.fleet_screen.table.marked_guests())


def status(app) -> str:
    return str(app.fleet_screen.query_one("#status").render())


def line_of(app, name: str) -> str:
    """The row of `name` as drawn now (it must be on screen)."""
    table = app.fleet_screen.table
    row = table.order.index(next(k for k in table.order if table.guests[k].name == name))
    return table.render_line(row - round(table.scroll_y) + 1).text


async def test_marks_survive_sorting_filtering_and_refreshes():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        table = app.fleet_screen.table
        select(app, "web-01")
        await pilot.press("space", "space")  # Space marks and moves on: web-01, web-02
        assert marked_names(app) == ["web-01", "web-02"]
        assert table.selected_guest.name == "web-03"
        assert "2 marked" in status(app)

        # drawn: a gutter with the mark, the columns after it still aligned
        marked_line, plain_line = line_of(app, "web-01"), line_of(app, "web-03")
        assert marked_line.startswith(f"{MARK} web-01") and plain_line.startswith("  web-03")
        assert cell_len(marked_line) == cell_len(plain_line) == table.size.width
        assert marked_line.index("running") == plain_line.index("running")
        header = table.render_line(0).text
        assert header.startswith("  Name")

        await pilot.press("M")  # sorted by memory
        assert marked_names(app) == ["web-01", "web-02"]
        await pilot.press("slash", *"db", "enter")  # the marked guests are filtered out...
        assert "web-01" not in shown_names(app) and len(table.marked) == 2
        await pilot.press("asterisk")  # ...and the shown ones are marked too
        assert marked_names(app) == ["db-primary", "db-replica-01", "db-restore-test"] + [
            "web-01",
            "web-02",
        ]
        await pilot.press("escape")
        host = app.fleet.hosts["demo"]
        await host.sample()  # a refresh keeps them
        assert len(table.marked) == 5

        # a marked guest that goes away takes its mark along
        def undefine() -> None:
            dom = host.require_conn().lookupByName("db-restore-test")
            if dom.isActive():
                dom.destroy()
            dom.undefine()

        await host.call(undefine)
        await wait_for(lambda: len(table.marked) == 4, pilot)
        assert "4 marked" in status(app)

        await pilot.press("minus")
        assert table.marked == set() and "marked" not in status(app)
        assert table.render_line(0).text.startswith("Name")  # the gutter is gone


async def test_mark_by_pattern_says_how_many_match():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        await pilot.press("plus")
        assert isinstance(app.screen, MarkPatternScreen)
        await pilot.press(*"re:^k8s")
        await pilot.pause(0.1)
        assert str(app.screen.query_one("#count").render()) == "5 guest(s) match"
        await pilot.press("space", *"state=running")
        await pilot.pause(0.1)
        count = str(app.screen.query_one("#count").render())
        await pilot.press("enter")
        assert f"{len(app.fleet_screen.table.marked)} guest(s) match" == count
        assert all(
            g.name.startswith("k8s") and g.state == "running"
            for g in app.fleet_screen.table.marked_guests()
        )
        await pilot.press("plus", *"/[/")
        await pilot.pause(0.1)
        assert "not a regular expression" in str(app.screen.query_one("#count").render())
        assert app.screen.query_one("#mark").disabled


async def test_one_confirmation_lists_every_guest_then_the_results():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        for name in ("web-01", "web-02", "gpu-lab"):
            select(app, name)
            await pilot.press("space")
        await pilot.press("p")  # pause: the key applies to the marked guests
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert confirm.title_text == "Pause: 2 guest(s)"
        assert confirm.items == [
            "web-01 on demo",
            "web-02 on demo",
            "skip gpu-lab on demo: cannot pause gpu-lab: it is not running (shut off: start "
            "it first)",
        ]
        assert "1 will be skipped" in confirm.body
        await pilot.press("y")
        await wait_for(
            lambda: isinstance(app.screen, BulkResultsScreen) and app.screen.finished, pilot
        )
        rows = app.screen.query_one("RowTable")
        assert [rows.cells(k) for k in rows.keys] == [
            ["web-01", "demo", "paused"],
            ["web-02", "demo", "paused"],
            [
                "gpu-lab",
                "demo",
                "skipped: cannot pause gpu-lab: it is not running (shut off: start it first)",
            ],
        ]
        assert str(app.screen.query_one("#summary").render()) == "done · 2 ok, 0 failed, 1 skipped"
        await pilot.press("u")  # the guests done are unmarked; the skipped one stays
        assert marked_names(app) == ["gpu-lab"]
        await pilot.press("escape")
        await wait_for(lambda: app.fleet.hosts["demo"].find("web-01").state == "paused", pilot)

        # nothing applies: no confirmation, the reasons at once
        await pilot.press("u")  # resume gpu-lab: not paused
        await wait_for(lambda: isinstance(app.screen, BulkResultsScreen), pilot)
        assert app.screen.title_text == "Resume: nothing to do"


async def test_bulk_delete_asks_with_the_storage_option_and_no_keeps_them():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        for name in ("gpu-lab", "rhel9-template"):
            select(app, name)
            await pilot.press("space")
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert app.screen.has_class("-danger") and "cannot be undone" in app.screen.body
        assert app.screen.option.startswith("Also delete their storage volumes")
        await pilot.press("n")
        await pilot.pause(0.2)
        assert app.fleet.hosts["demo"].find("gpu-lab") is not None
        await pilot.press("D")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(
            lambda: isinstance(app.screen, BulkResultsScreen) and app.screen.finished, pilot
        )
        assert app.screen.counts() == {"ok": 2, "failed": 0, "skipped": 0}
        await pilot.press("escape")
        await wait_for(lambda: app.fleet.hosts["demo"].find("gpu-lab") is None, pilot)
        assert app.fleet_screen.table.marked == set()  # deleted guests take their marks


async def test_bulk_autostart_and_migrate_ask_first():
    app = demo_app(uris=[demo_uri(), "test:///default"])
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("space")
        await pilot.press("a")
        assert isinstance(app.screen, ChoiceScreen)
        await pilot.press("escape")
        await pilot.press("m")
        await wait_for(lambda: isinstance(app.screen, BulkMigrateScreen), pilot)
        assert app.screen.destinations() == ["demo", "test"]
        await pilot.press("escape")
        assert not notifications(app) or "error" not in notifications(app)[-1]


# -- pictures -----------------------------------------------------------------------------------
@pytest.fixture(autouse=True)
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_marked_table(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        table = app.fleet_screen.table
        table.mark(k for k in table.order[1:4])
        table.select_row(2)
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_results_list(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        for name in ("web-01", "web-02", "gpu-lab"):
            select(app, name)
            await pilot.press("space")
        await pilot.press("p")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(
            lambda: isinstance(app.screen, BulkResultsScreen) and app.screen.finished, pilot
        )
        for host in app.fleet.hosts.values():
            host.paused = True
        app.fleet_screen.last_event = ""  # which pause event came last is up to libvirt
        app.fleet_screen._show_status()
        app.screen.query_one("RowTable").select_row(2)  # the skipped one: its whole reason
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_bulk_confirmation(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        for name in ("web-01", "web-02", "gpu-lab"):
            select(app, name)
            await pilot.press("space")
        await pilot.press("F")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


async def test_palette_offers_marks_and_the_new_screens():
    from vtui.commands import screen_commands

    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "gpu-lab")

        def titles() -> list[str]:
            return [c.title for c in screen_commands(app, app.fleet_screen)]

        assert {"Snapshots of gpu-lab", "Clone gpu-lab", "Rename gpu-lab"} <= set(titles())
        assert "Mark guests by pattern" in titles()
        assert not any("marked guests" in t for t in titles())
        await pilot.press("space")
        select(app, "web-01")
        await pilot.press("space")
        assert {"Start the 2 marked guests", "Migrate the 2 marked guests"} <= set(titles())
        selected = app.fleet_screen.table.selected_guest
        assert selected.state == "running" and f"Clone {selected.name}" not in titles()
        assert "Clear the 2 marks" in titles()
