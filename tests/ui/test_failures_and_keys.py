"""Failures are seen (one line on screen, the traceback in the log) and keys can be
remapped in settings.toml, on the demo host (libvirt's test driver)."""

from __future__ import annotations

import logging
import subprocess
import sys

import pytest

from vtui.app import VtuiApp
from vtui.core import logs
from vtui.core.fleet import Fleet
from vtui.core.settings import preferences
from vtui.core.uri import demo_uri
from vtui.keymap import load_keymap
from vtui.screens.console import ConsoleScreen, open_console
from vtui.screens.fleet import guest_actions as fleet_screen_module

from .helpers import demo_app, notifications, select, wait_for, wait_loaded


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / "state" / "vtui.log"
    assert logs.configure("info", path) is None
    yield path
    logs.configure("warning", tmp_path / "after.log")  # let go of the test's file
    logging.getLogger().handlers.clear()


async def test_an_unexpected_error_in_an_action_is_shown_and_logged(log_file, monkeypatch):
    async def broken(host, guest, action_id):
        raise RuntimeError("the flux capacitor is empty")

    monkeypatch.setattr(fleet_screen_module, "run_action", broken)  # a bug, injected
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        await pilot.press("p")  # pause: the worker raises
        await wait_for(lambda: any("internal error" in m for m in notifications(app)), pilot)
        shown = next(m for m in notifications(app) if "internal error" in m)
        assert "RuntimeError: the flux capacitor is empty" in shown and str(log_file) in shown
        assert "\n" not in shown
        await pilot.press("u")  # the app keeps running and answering keys
        assert app.is_running
    text = log_file.read_text()
    assert "ERROR vtui.ui: pause web-01 on demo failed" in text
    assert "Traceback (most recent call last)" in text and "flux capacitor" in text


async def test_a_failing_listener_does_not_stop_sampling_and_is_reported(log_file):
    app = demo_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        host = app.fleet.hosts["demo"]

        def broken(_change):
            raise ValueError("listener bug")

        host.subscribe(broken)
        before = host.last_sample_at
        await wait_for(lambda: host.last_sample_at != before, pilot)  # still sampling
        await wait_for(lambda: any("listener bug" in m for m in notifications(app)), pilot)
        host.unsubscribe(broken)
    assert "ValueError: listener bug" in log_file.read_text()


def write_settings(tmp_path, monkeypatch, text: str) -> preferences.Preferences:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "xdg" / "vtui" / "settings.toml"
    path.parent.mkdir(parents=True)
    path.write_text(text)
    return preferences.load()


def test_keymap_problems_name_the_file_and_line_and_the_rest_applies(tmp_path, monkeypatch):
    prefs = write_settings(
        tmp_path,
        monkeypatch,
        "# my keys\n"
        "[keys]\n"
        'start = "ctrl+s"\n'
        'guest.delete = "x"\n'
        'strat = "ctrl+t"\n'
        '"console.leave" = "ctrl+q+"\n'
        'suspend = "hyperctrl+p"\n'
        "\n"
        "[colours]\n",
    )
    keymap = load_keymap(prefs)
    assert keymap == {"guest.start": "ctrl+s", "guest.delete": "x"}
    path = str(prefs.path)
    assert f"{path}:5: [keys] no binding called 'strat'" in prefs.problems[1]
    assert prefs.problems[2].startswith(f"{path}:6: [keys] console.leave: a key is missing")
    assert prefs.problems[3].startswith(f"{path}:7: [keys] suspend: unknown modifier 'hyperctrl'")
    assert prefs.problems[0] == f"{path}:9: unknown table or key 'colours'"
    assert len(prefs.problems) == 4


def test_a_broken_settings_file_is_one_line_and_nothing_applies(tmp_path, monkeypatch):
    prefs = write_settings(tmp_path, monkeypatch, "[keys]\nstart = ctrl+s\n")
    assert load_keymap(prefs) == {}
    assert len(prefs.problems) == 1 and "line 2" in prefs.problems[0]


async def test_remapped_keys_work_and_the_old_key_is_free():
    fleet = Fleet(interval=0.5)
    fleet.add(demo_uri())
    app = VtuiApp(fleet, keymap={"guest.suspend": "z", "console.leave": "f9"})
    async with app.run_test(size=(120, 40)) as pilot:
        await wait_loaded(app, pilot)
        select(app, "web-01")
        guest = app.fleet_screen.table.selected_guest
        await pilot.press("p")  # no longer pause
        await pilot.pause(0.3)
        assert guest.state == "running"
        await pilot.press("z")
        await wait_for(lambda: guest.state == "paused", pilot)
        screen = open_console(app, app.fleet.hosts["demo"], guest)  # test driver: detached
        await wait_for(lambda: app.screen is screen and screen.status != "connecting", pilot)
        assert "F9 back" in str(screen.query_one("#console-keys").render())
        await pilot.press("f9")
        await wait_for(lambda: not isinstance(app.screen, ConsoleScreen), pilot)


def test_tui_and_batch_share_their_options():
    tui = subprocess.run(
        [sys.executable, "-m", "vtui", "--help"], capture_output=True, text=True, check=True
    ).stdout
    batch = subprocess.run(
        [sys.executable, "-m", "vtui", "list", "--help"], capture_output=True, text=True, check=True
    ).stdout
    for option in (
        "--connect",
        "--demo",
        "--readonly",
        "--ssh-config",
        "--timeout",
        "--log-level",
        "--log-file",
    ):
        assert option in tui and option in batch
    help_line = "give up connecting to a host after this long (default 15; settings.toml"
    assert help_line in " ".join(tui.split()) and help_line in " ".join(batch.split())


def test_the_connect_timeout_comes_from_settings(tmp_path, monkeypatch):
    from vtui.batch.parsing import default_timeout

    prefs = write_settings(tmp_path, monkeypatch, "[connection]\ntimeout = 4\n")
    assert prefs.connect_timeout == 4.0 and default_timeout() == 4.0
    (tmp_path / "xdg" / "vtui" / "settings.toml").write_text("[connection]\ntimeout = 0\n")
    prefs = preferences.load()
    assert prefs.connect_timeout is None and "line 2" not in prefs.problems[0]
    assert ":2: connection.timeout must be a number of seconds from 1 to 600" in prefs.problems[0]
