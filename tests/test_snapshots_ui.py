"""Pilot tests of the snapshots screen on the demo host (libvirt's test driver keeps
snapshots too): the tree with the current one marked, create through the form,
revert and delete with confirmations naming what is lost; and their pictures."""

from __future__ import annotations

import time

import pytest

from tests.ui.helpers import demo_app, notifications, select, wait_for, wait_loaded
from tests.ui.test_snapshots import PHONE, loaded, settled
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.snapshots import SnapshotFormScreen, SnapshotsScreen


@pytest.fixture(autouse=True)
def utc(monkeypatch, tmp_path):
    """Snapshot times are shown in local time: the pictures are taken in UTC."""
    monkeypatch.setenv("TZ", "UTC")
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def rows(screen: SnapshotsScreen) -> list[list[str]]:
    table = screen.query_one("RowTable")
    return [table.cells(k) for k in table.keys]


async def open_snapshots(app, pilot, name: str) -> SnapshotsScreen:
    select(app, name)
    await pilot.press("S")
    await wait_for(lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.loaded, pilot)
    return app.screen


async def test_tree_create_revert_delete():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        screen = await open_snapshots(app, pilot, "db-primary")
        assert [r[:4] for r in rows(screen)] == [
            ["  pre-pg16-upgrade", "2024-06-03 09:00", "shut off", "internal"],
            ["●   └ post-pg16-upgrade", "2024-06-03 11:00", "running", "internal, with memory"],
        ]
        assert screen.query_one("RowTable").cursor_key == "post-pg16-upgrade"  # the current

        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, SnapshotFormScreen), pilot)
        await pilot.press(*"before-tuning")
        await wait_for(
            lambda: (
                "before-tuning: internal, with memory"
                in str(app.screen.query_one("#plan").render())
            ),
            pilot,
        )
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen and len(screen.snapshots) == 3, pilot)
        assert screen.snapshots["before-tuning"].current
        assert screen.snapshots["before-tuning"].parent == "post-pg16-upgrade"

        screen.query_one("RowTable").select("pre-pg16-upgrade")
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        confirm = app.screen
        assert confirm.title_text == "Revert db-primary to pre-pg16-upgrade"
        assert "db-primary is shut off, its disks as they were at 2024-06-03 09:00" in confirm.body
        assert confirm.items == [
            "everything written to its disks since 2024-06-03 09:00",
            "the running guest: it is stopped at once, like pulling the plug",
        ]
        await pilot.press("n")  # no: nothing happens
        await pilot.pause(0.2)
        assert app.fleet.hosts["demo"].find("db-primary").state == "running"
        await pilot.press("r")
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: screen.snapshots["pre-pg16-upgrade"].current, pilot)
        assert "db-primary: reverted to pre-pg16-upgrade; now shut off" in notifications(app)
        await wait_for(
            lambda: app.fleet.hosts["demo"].find("db-primary").state == "shut off", pilot
        )

        await pilot.press("D")  # delete with its children
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        assert app.screen.title_text == "Delete snapshot pre-pg16-upgrade and 2 below it"
        assert [i.split(" (")[0] for i in app.screen.items] == [
            "pre-pg16-upgrade",
            "post-pg16-upgrade",
            "before-tuning",
        ]
        await pilot.press("y")
        await wait_for(lambda: screen.snapshots == {}, pilot)
        assert "no snapshots yet" in str(screen.query_one("#details").render())


async def test_form_says_why_not_before_trying():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        await open_snapshots(app, pilot, "legacy-app-centos7")  # crashed
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, SnapshotFormScreen), pilot)
        await wait_for(lambda: app.screen.query_one("#create").disabled, pilot)
        assert "it is crashed" in str(app.screen.query_one("#plan").render())
        await pilot.press("escape", "escape")

        await open_snapshots(app, pilot, "gpu-lab")  # shut off: no memory to save
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, SnapshotFormScreen), pilot)
        assert app.screen.query_one("#memory").disabled
        await pilot.press(*"a/b")
        await wait_for(lambda: "contains /" in str(app.screen.query_one("#plan").render()), pilot)


async def test_readonly_shows_snapshots_and_refuses_changes():
    app = demo_app(readonly=True)
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        screen = await open_snapshots(app, pilot, "db-primary")
        assert len(rows(screen)) == 2
        await pilot.press("r")
        await wait_for(lambda: any("read-only" in n for n in notifications(app)), pilot)
        assert app.screen is screen


def test_snapshots_screen(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        select(app, "db-primary")
        await pilot.press("S")
        await wait_for(lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.loaded, pilot)
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)


def test_snapshot_form(snap_compare):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("S")
        await wait_for(lambda: isinstance(app.screen, SnapshotsScreen) and app.screen.loaded, pilot)
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, SnapshotFormScreen), pilot)
        app.screen.query_one("#name").value = "pre-upgrade"
        await wait_for(
            lambda: "pre-upgrade: internal" in str(app.screen.query_one("#plan").render()), pilot
        )
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)
