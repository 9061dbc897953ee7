"""Starting: the hosts connect while the app's modules load (vtui.cli.run_app), and a
login that asks before the app is up waits for it (LaterAsker)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest

from tests.support import until
from vtui import cli
from vtui.core.fleet import Fleet
from vtui.core.host import HostStatus
from vtui.core.ssh.later_asker import LaterAsker
from vtui.core.uri import demo_uri


async def test_the_hosts_connect_while_the_apps_modules_load(monkeypatch):
    fleet = Fleet(interval=2.0, readonly=True)
    host = fleet.add(demo_uri())
    seen: dict[str, object] = {}
    real_load = cli._load_app

    def slow_load():  # (in its thread: the loop goes on connecting meanwhile)
        deadline = time.monotonic() + 10
        while not host.guests and time.monotonic() < deadline:  # its rows are in
            time.sleep(0.01)
        seen["status while loading"] = host.status
        seen["rows while loading"] = len(host.guests)
        return real_load()

    monkeypatch.setattr(cli, "_load_app", slow_load)
    monkeypatch.setattr("vtui.screens.peek.terminal.detect_graphics", lambda: "halfblock")

    async def run(app) -> None:
        async with app.run_test(size=(100, 30)) as pilot:
            table = app.fleet_screen.table
            for _ in range(200):
                if table.row_count == len(host.guests) > 0:
                    break
                await pilot.pause(0.02)
            seen["table rows"] = table.row_count
            seen["asker"] = type(app.asker._asker).__name__

    await cli.run_app(fleet, LaterAsker(), [], run=run)
    assert seen["status while loading"] is HostStatus.CONNECTED
    assert seen["rows while loading"] == 33  # the demo host's guests, before the app ran
    assert seen["table rows"] == 33  # drawn by the screen's mount, none missed
    assert seen["asker"] == "AppAsker"  # questions from now on are modals
    assert host.status is HostStatus.CLOSED  # and quitting closed the fleet


class Answers:
    async def confirm_host_key(self, host, fingerprint, key_type):
        return host == "known"

    async def secret(self, prompt):
        return f"secret for {prompt}"


async def test_a_question_before_the_app_is_up_waits_for_its_asker():
    asker = LaterAsker()
    question = asyncio.ensure_future(asker.secret("key"))
    await asyncio.sleep(0.05)
    assert not question.done()
    asker.give(Answers())
    assert await asyncio.wait_for(question, 1) == "secret for key"
    assert await asker.confirm_host_key("known", "SHA256:x", "ssh-ed25519") is True


async def test_no_app_coming_refuses_the_waiting_questions():
    asker = LaterAsker()
    waiting = asyncio.ensure_future(asker.confirm_host_key("h", "SHA256:x", "ssh-ed25519"))
    await asyncio.sleep(0)
    asker.give(None)
    assert await asyncio.wait_for(waiting, 1) is False
    assert await asker.secret("passphrase") is None


# Loaded when first used, not while the app starts (each costs tens of milliseconds
# of import on the way to the first frame; the keymap once imported all of them).
LATER = [
    "vtui.screens.bulk.marked",
    "vtui.screens.console",
    "vtui.screens.create",
    "vtui.screens.host",
    "vtui.screens.migration",
]


@pytest.mark.parametrize("keys", ["", '[keys]\n"console.leave" = "ctrl+b"\n'])
def test_starting_the_app_loads_only_the_first_screens_modules(tmp_path, keys):
    """Also with a [keys] section: its ids are checked against keymap_ids.py."""
    (tmp_path / "config" / "vtui").mkdir(parents=True)
    (tmp_path / "config" / "vtui" / "settings.toml").write_text(keys)
    code = (
        "import sys\n"
        "from vtui.cli import _load_app\n"
        "_app, keymap, problems = _load_app()\n"
        "assert not problems, problems\n"
        f"print(keymap, [m for m in {LATER!r} if m in sys.modules])\n"
    )
    env = {**os.environ, "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config")}
    env.pop("VTUI_GRAPHICS", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    ).stdout
    expected = "{'console.leave': 'ctrl+b'}" if keys else "{}"
    assert out.strip() == f"{expected} []", out


def test_a_keymap_in_the_settings_still_finds_every_screens_bindings(tmp_path):
    from vtui.core.settings import preferences
    from vtui.keymap import load_keymap

    settings = tmp_path / "settings.toml"
    settings.write_text('[keys]\n"console.leave" = "ctrl+b"\n')
    prefs = preferences.load(settings)
    assert load_keymap(prefs) == {"console.leave": "ctrl+b"}, prefs.problems


async def test_a_host_key_asked_before_the_app_is_up_is_asked_in_the_app(
    lab, tmp_path, monkeypatch
):
    """The whole way at start-up: `vtui root@lab-b` with lab-b's key unknown. The login
    starts before the app's modules have loaded; its question waits for the app, comes
    up as the host-key modal, and once answered the host connects."""
    from pathlib import Path

    from textual.widgets import Static

    from vtui.core.fleet.targets import add_target
    from vtui.screens.dialogs import HostKeyScreen

    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # never the machine's ~/.ssh
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    monkeypatch.setattr("vtui.screens.peek.terminal.detect_graphics", lambda: "halfblock")
    known = tmp_path / "known_hosts"
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(Path(lab.ssh_config).read_text().replace(lab.known_hosts, str(known)))
    fleet = Fleet(interval=2.0, readonly=True)
    asker = LaterAsker()
    host = add_target(fleet, "root@lab-b", readonly=True, asker=asker, ssh_config=str(ssh_config))
    seen: dict[str, object] = {}

    async def run(app) -> None:
        async with app.run_test(size=(100, 30)) as pilot:

            def modal_text() -> str:
                return " ".join(str(s.render()) for s in app.screen.query(Static))

            # (its lines are filled in after the screen is pushed: under load a look
            # right after the push once found them empty)
            await until(
                lambda: isinstance(app.screen, HostKeyScreen) and "ssh-ed25519" in modal_text(),
                what="the host-key modal naming the key's type",
            )
            seen["asked"] = "ssh-ed25519" in modal_text()
            await pilot.press("y")
            await until(lambda: host.status is HostStatus.CONNECTED, what="connected")
            await until(lambda: host.last_sample_at is not None, what="a first sample")
            await pilot.pause()
            seen["rows"] = (app.fleet_screen.table.row_count, len(host.guests))

    await cli.run_app(fleet, asker, [], run=run)
    assert seen["asked"]
    rows, guests = seen["rows"]
    assert rows == guests, seen  # (however many guests lab-b has now)
    assert "10.77.0.2 ssh-ed25519" in known.read_text()
