"""Pilot tests of the migration form, the progress view and the jobs list.

The form's validation and pre-flight lines run against libvirt's test driver (two
connections to the demo host); the progress view, cancel and a real move run in the
app against the lab's two libvirtd hosts.
"""

from __future__ import annotations

import re

import pytest
from textual.widgets import Button, DataTable, Select, Static

from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.host import HostStatus
from vtui.core.migration import MigrationJobs
from vtui.core.uri import demo_uri
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.migration.form import MigrateScreen
from vtui.screens.migration.jobs import JobsScreen, MigrationProgressView

from .ui.helpers import demo_app, wait_for


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_form_validates_options_then_shows_each_check():
    app = demo_app(uris=[demo_uri(), demo_uri()])  # hosts "demo" and "demo#2"
    async with app.run_test(size=(80, 24)) as pilot:
        await wait_for(lambda: all(len(h.guests) >= 25 for h in app.fleet.hosts.values()), pilot)
        guest = app.fleet.find_guest("web-01", host="demo")
        screen = MigrateScreen(app.fleet, guest, jobs=MigrationJobs())
        app.push_screen(screen)
        await pilot.pause()
        assert [str(label) for label, _ in screen.query_one("#dest", Select)._options] == [
            "demo#2"
        ]  # never the source itself

        screen.query_one("#bandwidth").focus()
        await pilot.press("a", "b", "c")
        screen.query_one("#tunnelled").toggle()
        await pilot.press("ctrl+t")
        errors = text(screen, "#errors")
        assert "bandwidth must be a positive whole number" in errors
        assert "tunnelled migration needs peer-to-peer" in errors
        assert screen.query_one("#migrate", Button).disabled

        screen.query_one("#bandwidth").value = "20"
        screen.query_one("#tunnelled").toggle()
        await pilot.press("ctrl+t")
        await wait_for(lambda: screen.checks is not None, pilot)
        lines = text(screen, "#checks").splitlines()
        assert "✓ options: live, 20 MiB/s" in lines
        assert "✓ destination: demo#2 answers (TEST libvirt 9.0)" in lines
        assert "✗ name: demo#2 already has a guest called web-01 (running)" in lines
        assert any(
            line.startswith("! memory: demo#2 does not report its free memory; memory commitment")
            for line in lines
        ), lines
        assert screen.query_one("#migrate", Button).disabled  # a failure: no going on
        assert not screen.query_one("#errors").display

        await pilot.press("tab")  # any change makes the checks stale
        screen.query_one("#postcopy").toggle()
        await pilot.pause()
        assert "check again" in text(screen, "#checks")
        await pilot.press("escape")
        assert not isinstance(app.screen, MigrateScreen)


def lab_app(lab) -> VtuiApp:
    fleet = Fleet(interval=0.5)
    fleet.add(lab["a"].uri, name="lab-a")
    fleet.add(lab["b"].uri, name="lab-b")
    return VtuiApp(fleet)


async def open_form(app: VtuiApp, pilot, name: str, jobs: MigrationJobs) -> MigrateScreen:
    await wait_for(
        lambda: all(h.status is HostStatus.CONNECTED for h in app.fleet.hosts.values()), pilot
    )
    await wait_for(lambda: app.fleet.hosts["lab-a"].find(name) is not None, pilot)
    screen = MigrateScreen(app.fleet, app.fleet.find_guest(name, host="lab-a"), jobs=jobs)
    app.push_screen(screen)
    await pilot.pause()
    return screen


async def check_and_start(screen: MigrateScreen, pilot) -> None:
    await pilot.press("ctrl+t")
    await wait_for(lambda: screen.checks is not None, pilot)
    assert "✗" not in text(screen, "#checks"), text(screen, "#checks")
    assert screen.focused is screen.query_one("#migrate", Button)
    await pilot.press("enter")
    await wait_for(lambda: screen.job is not None, pilot)


@pytest.mark.lab
async def test_progress_view_then_cancel_with_confirmation(lab, make_guest):
    name = make_guest("a")
    jobs = MigrationJobs()
    app = lab_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, name, jobs)
        screen.query_one("#bandwidth").value = "1"  # 1 MiB/s: slow enough to watch
        await check_and_start(screen, pilot)
        job = screen.job
        view = screen.query_one(MigrationProgressView)
        await wait_for(lambda: job.progress.data_processed > 0, pilot)
        await pilot.pause()
        assert text(view, "#phase").startswith("copying memory")
        assert re.search(r"sent \d.*\nrate \d", text(view, "#numbers"))

        await pilot.press("c")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(lambda: job.done, pilot)
        await pilot.pause()
        assert job.state == "cancelled"
        assert f"{name} is running on lab-a" in text(view, "#result")
        assert view.query_one("#cancel-job", Button).disabled

        await pilot.press("escape")  # closing keeps the job listed
        app.push_screen(JobsScreen(jobs))
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        assert [str(c) for c in table.get_row_at(0)][:5] == [
            "1",
            name,
            "lab-a",
            "lab-b",
            "cancelled",
        ]


@pytest.mark.lab
async def test_migrated_guest_moves_to_the_destination_in_the_fleet_table(lab, make_guest):
    name = make_guest("a")
    jobs = MigrationJobs()
    app = lab_app(lab)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await open_form(app, pilot, name, jobs)
        await check_and_start(screen, pilot)
        await wait_for(lambda: screen.job.done, pilot, timeout=30)
        await pilot.pause()
        result = text(screen.query_one(MigrationProgressView), "#result")
        assert result.startswith("done: ") and f"{name} now runs on lab-b" in result

        await pilot.press("escape")
        table = app.fleet_screen.table
        await wait_for(
            lambda: any(g.name == name and g.host == "lab-b" for g in table.guests.values()), pilot
        )
        assert not any(g.name == name and g.host == "lab-a" for g in table.guests.values())
