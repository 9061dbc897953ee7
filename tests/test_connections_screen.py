"""Pilot tests of the saved-hosts screen and the SSH prompts (host key, secret)."""

from __future__ import annotations

import asyncio
import contextvars
from pathlib import Path

import pytest
from textual.app import App
from textual.widgets import Input, Static

from vtui.core.fleet import Fleet
from vtui.core.host import HostStatus
from vtui.core.settings import saved_hosts as config
from vtui.core.settings.saved_hosts import SavedHost
from vtui.screens.connections import ConnectionsScreen, HostForm
from vtui.screens.dialogs import AppAsker, ConfirmScreen, HostKeyScreen, SecretScreen
from vtui.widgets.row_table import RowTable


@pytest.fixture(autouse=True)
def xdg(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))


class Harness(App):
    def __init__(self, fleet: Fleet):
        super().__init__()
        self.fleet = fleet

    def on_mount(self) -> None:
        self.push_screen(ConnectionsScreen(self.fleet))


async def until(predicate, pilot, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while not predicate():
        assert loop.time() < end, "condition not met in time"
        await pilot.pause(0.05)


def rows(app: App) -> list[list[str]]:
    table = app.screen.query_one(RowTable)
    return [table.cells(key) for key in table.keys]


def form_error(app: App) -> str:
    return str(app.screen.query_one("#form-error", Static).render())


async def fill(pilot, field: str, text: str) -> None:
    widget = pilot.app.screen.query_one(f"#{field}", Input)
    widget.focus()
    widget.value = text  # (typing each key through Pilot is slow; the first field is typed)
    await pilot.pause()


async def test_add_edit_remove_with_validation():
    fleet = Fleet()
    app = Harness(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert rows(app) == []
        assert "No saved hosts" in str(app.screen.query_one("#connections-status").render())

        await pilot.press("a")
        assert isinstance(app.screen, HostForm)
        await pilot.press("enter")  # everything empty
        assert form_error(app) == "the name is empty"
        await pilot.press(*"web1")
        await fill(pilot, "target", "root@web1:22x")
        await pilot.press("enter")
        assert "not a host" in form_error(app)
        await fill(pilot, "target", "root@web1:2222")
        assert form_error(app) == ""  # typing clears the error
        await pilot.click("#readonly")
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, ConnectionsScreen)
        assert rows(app) == [["web1", "root@web1:2222", "system", "yes", "", ""]]
        assert config.load()[0] == [SavedHost("web1", "root@web1:2222", readonly=True)]

        await pilot.press("a")  # a duplicate name is refused
        await fill(pilot, "name", "web1")
        await fill(pilot, "target", "db1")
        await pilot.press("enter")
        assert form_error(app) == "a host called 'web1' already exists"
        await fill(pilot, "name", "db")
        await pilot.press("enter")
        assert [r[0] for r in rows(app)] == ["web1", "db"]

        await pilot.press("up", "e")  # edit web1: rename, keep its place
        assert isinstance(app.screen, HostForm)
        assert app.screen.query_one("#target", Input).value == "root@web1:2222"
        await fill(pilot, "name", "db")  # clash with the other one
        await pilot.press("enter")
        assert "already exists" in form_error(app)
        await fill(pilot, "name", "web")
        await pilot.press("enter")
        assert [r[0] for r in rows(app)] == ["web", "db"]
        assert config.load()[0][0] == SavedHost("web", "root@web1:2222", readonly=True)

        await pilot.press("escape") if isinstance(app.screen, HostForm) else None
        await pilot.press("e", "escape")  # cancel changes nothing
        assert [r[0] for r in rows(app)] == ["web", "db"]

        await pilot.press("d")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        assert len(rows(app)) == 2
        await pilot.press("d", "y")
        await pilot.pause()
        assert [r[0] for r in rows(app)] == ["db"]
        assert [h.name for h in config.load()[0]] == ["db"]


async def test_bad_file_is_shown_and_kept():
    path = config.hosts_path()
    path.parent.mkdir(parents=True)
    path.write_text("[[host]\n")
    app = Harness(Fleet())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        status = app.screen.query_one("#connections-status", Static)
        assert "line 1" in str(status.render()) and status.has_class("error")
        await pilot.press("a")
        await fill(pilot, "name", "x")
        await fill(pilot, "target", "y")
        await pilot.press("enter")
        await pilot.pause()
        assert "fix it first" in str(status.render())
    assert path.read_text() == "[[host]\n"


async def test_connect_a_saved_host():
    config.add(SavedHost("demo", "test:///default"))
    fleet = Fleet()
    app = Harness(fleet)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await until(
            lambda: "demo" in fleet.hosts and fleet.hosts["demo"].status is HostStatus.CONNECTED,
            pilot,
        )
        assert fleet.hosts["demo"].guests
        await until(lambda: rows(app)[0][5] == "connected", pilot)
        await pilot.press("enter")  # once is enough
        await pilot.pause()
        assert list(fleet.hosts) == ["demo"]
        assert "already connected" in str(app.screen.query_one("#connections-status").render())
    await fleet.close()


async def test_asker_modals_from_a_bare_task():
    """The tunnel asks from tasks that are neither workers nor in the app's context
    (a reconnect, asyncssh's passphrase callback): the modals must still work."""
    app = Harness(Fleet())
    asker = AppAsker(app)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        bare = contextvars.Context()
        ask_key = bare.run(
            asyncio.ensure_future,
            asker.confirm_host_key("lab-a (10.77.0.1)", "SHA256:abc", "ssh-ed25519"),
        )
        await until(lambda: isinstance(app.screen, HostKeyScreen), pilot)
        text = " ".join(str(s.render()) for s in app.screen.query(Static))
        assert "SHA256:abc" in text and "ssh-ed25519" in text and "lab-a" in text
        await pilot.press("y")
        assert await ask_key is True

        ask_key = asyncio.ensure_future(asker.confirm_host_key("h", "SHA256:x", "ssh-rsa"))
        await until(lambda: isinstance(app.screen, HostKeyScreen), pilot)
        await pilot.press("enter")  # the focused default is Refuse
        assert await ask_key is False

        ask_secret = bare.run(asyncio.ensure_future, asker.secret("passphrase for key /k"))
        await until(lambda: isinstance(app.screen, SecretScreen), pilot)
        assert app.screen.query_one(Input).password
        await pilot.press(*"s3cret", "enter")
        assert await ask_secret == "s3cret"

        ask_secret = asyncio.ensure_future(asker.secret("password for root@h"))
        await until(lambda: isinstance(app.screen, SecretScreen), pilot)
        await pilot.press("escape")
        assert await ask_secret is None
        assert isinstance(app.screen, ConnectionsScreen)

        abandoned = asyncio.ensure_future(asker.secret("password for root@h"))
        await until(lambda: isinstance(app.screen, SecretScreen), pilot)
        abandoned.cancel()  # e.g. the host was closed while asking: the modal goes away
        await until(lambda: isinstance(app.screen, ConnectionsScreen), pilot)

    assert await AppAsker().confirm_host_key("h", "SHA256:x", "ssh-rsa") is False  # no app yet


async def test_connect_over_ssh_asks_for_the_unknown_host_key(lab, tmp_path, monkeypatch):
    """The whole way: saved lab host -> SSH with an unknown key -> the modal -> y."""
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))  # never the machine's ~/.ssh
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    known = tmp_path / "known_hosts"
    config_text = Path(lab.ssh_config).read_text().replace(lab.known_hosts, str(known))
    ssh_config = tmp_path / "ssh_config"
    ssh_config.write_text(config_text)
    config.add(SavedHost("b", "root@lab-b", readonly=True))
    fleet = Fleet()

    class SshHarness(App):
        def on_mount(self) -> None:
            self.push_screen(ConnectionsScreen(fleet, ssh_config=ssh_config))

    app = SshHarness()
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("c")
        await until(lambda: isinstance(app.screen, HostKeyScreen), pilot)
        assert "ssh-ed25519" in " ".join(str(s.render()) for s in app.screen.query(Static))
        await pilot.press("y")
        await until(lambda: fleet.hosts["b"].status is HostStatus.CONNECTED, pilot)
        assert fleet.hosts["b"].readonly
        assert "10.77.0.2 ssh-ed25519" in known.read_text()
    await fleet.close()
