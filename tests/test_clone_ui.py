"""Pilot tests of the clone and rename dialogs on the demo host: what will be made or
why not (said while typing), a progress bar per disk, the new guest in the table."""

from __future__ import annotations

import pytest

from tests.ui.helpers import demo_app, notifications, select, wait_for, wait_loaded
from tests.ui.test_snapshots import PHONE, loaded, settled
from vtui.screens.clone import CloneScreen
from vtui.screens.rename import RenameScreen


def text(screen, selector: str) -> str:
    return str(screen.query_one(selector).render())


async def test_clone_dialog_checks_then_copies():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("K")  # running: refused with the reason, no dialog
        assert not isinstance(app.screen, CloneScreen)
        assert "cannot clone web-01: it is running (shut it down first)" in notifications(app)

        select(app, "gpu-lab")
        await pilot.press("K")
        await wait_for(lambda: isinstance(app.screen, CloneScreen), pilot)
        screen = app.screen
        await wait_for(lambda: "default/gpu-lab-clone.qcow2" in text(screen, "#plan-lines"), pilot)
        assert not screen.query_one("#clone").disabled
        screen.query_one("#name").value = "web-01"  # taken
        await wait_for(
            lambda: "already has a guest called 'web-01'" in text(screen, "#refusal"), pilot
        )
        assert screen.query_one("#clone").disabled
        screen.query_one("#name").value = "gpu-lab-2"
        await wait_for(lambda: not screen.query_one("#clone").disabled, pilot)
        await pilot.click("#clone")
        await wait_for(lambda: screen.made == "gpu-lab-2", pilot)
        assert screen.query_one("#disk-0").percentage == 1.0
        assert text(screen, "#result").startswith("done: gpu-lab-2, UUID ")
        await pilot.press("escape")
        await wait_for(lambda: app.fleet.hosts["demo"].find("gpu-lab-2") is not None, pilot)
        assert app.fleet.hosts["demo"].find("gpu-lab").state == "shut off"


async def test_rename_dialog():
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "win2019-build")  # a managed save image: libvirt cannot rename it
        await pilot.press("E")
        assert not isinstance(app.screen, RenameScreen)
        assert any("saved memory image" in n for n in notifications(app))

        select(app, "gpu-lab")
        await pilot.press("E")
        await wait_for(lambda: isinstance(app.screen, RenameScreen), pilot)
        screen = app.screen
        assert "that is already its name" in text(screen, "#why")
        screen.query_one("#name").value = "db-primary"
        await pilot.pause(0.1)
        assert "already has a guest called 'db-primary'" in text(screen, "#why")
        screen.query_one("#name").value = "gpu-lab-old"
        await pilot.pause(0.1)
        assert text(screen, "#why") == ""
        await pilot.press("enter")
        await wait_for(lambda: not isinstance(app.screen, RenameScreen), pilot)
        await wait_for(lambda: app.fleet.hosts["demo"].find("gpu-lab-old") is not None, pilot)
        assert app.fleet.hosts["demo"].find("gpu-lab") is None


@pytest.fixture
def private_config(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


def test_clone_dialog_picture(snap_compare, private_config):
    app = demo_app()

    async def run_before(pilot):
        await loaded(app, pilot)
        select(app, "gpu-lab")
        await pilot.press("K")
        await wait_for(lambda: isinstance(app.screen, CloneScreen), pilot)
        await wait_for(
            lambda: "gpu-lab-clone.qcow2" in str(app.screen.query_one("#plan-lines").render()),
            pilot,
        )
        await settled(pilot)

    assert snap_compare(app, terminal_size=PHONE, run_before=run_before)
