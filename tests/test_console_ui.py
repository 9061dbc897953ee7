"""The console screen and terminal widget, with Pilot; the lab's libvirtd for real guests."""

from __future__ import annotations

import asyncio
import secrets
from pathlib import Path

import libvirt
import pytest
from textual.app import App, ComposeResult

from tests.ui.helpers import wait_for
from vtui.app import VtuiApp
from vtui.core.fleet import Fleet
from vtui.core.guests.console import GuestConsole
from vtui.screens.console import ConsoleScreen, open_console, open_consoles
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.widgets.terminal import Terminal, key_to_bytes

ESCAPE = "ctrl+right_square_bracket"
BOOT = 30.0  # seconds a TCG guest may take to boot on a busy 2-core machine


# -- the terminal widget alone ------------------------------------------------------------
@pytest.mark.parametrize(
    ("key", "char", "app_cursor", "sent"),
    [
        ("a", "a", False, b"a"),
        ("A", "A", False, b"A"),
        ("space", " ", False, b" "),
        ("minus", "-", False, b"-"),
        ("enter", "\r", False, b"\r"),
        ("backspace", "\x7f", False, b"\x7f"),
        ("tab", "\t", False, b"\t"),
        ("shift+tab", None, False, b"\x1b[Z"),
        ("escape", "\x1b", False, b"\x1b"),
        ("ctrl+c", "\x03", False, b"\x03"),
        ("ctrl+d", "\x04", False, b"\x04"),
        ("ctrl+backslash", "\x1c", False, b"\x1c"),
        ("ctrl+@", "\x00", False, b"\x00"),
        ("alt+x", "x", False, b"\x1bx"),
        ("up", None, False, b"\x1b[A"),
        ("up", None, True, b"\x1bOA"),
        ("ctrl+left", None, False, b"\x1b[1;5D"),
        ("home", None, False, b"\x1b[H"),
        ("end", None, False, b"\x1b[F"),
        ("pageup", None, False, b"\x1b[5~"),
        ("delete", None, False, b"\x1b[3~"),
        ("shift+delete", None, False, b"\x1b[3;2~"),
        ("insert", None, False, b"\x1b[2~"),
        ("f1", None, False, b"\x1bOP"),
        ("f5", None, False, b"\x1b[15~"),
        ("f12", None, False, b"\x1b[24~"),
        ("é", "é", False, "é".encode()),
    ],
)
def test_keys_become_xterm_bytes(key, char, app_cursor, sent):
    assert key_to_bytes(key, char, app_cursor) == sent


class TerminalApp(App):
    def __init__(self):
        super().__init__()
        self.sent: list[bytes] = []

    def compose(self) -> ComposeResult:
        yield Terminal(self.sent.append)


async def test_terminal_draws_a_vt100_screen_and_sends_every_key_but_escape():
    app = TerminalApp()
    async with app.run_test(size=(40, 10)) as pilot:
        term = app.query_one(Terminal)
        term.focus()
        await pilot.pause()
        assert (term.pyte_screen.columns, term.pyte_screen.lines) == (40, 10)  # follows size
        term.feed(b"\x1b[2J\x1b[Hplain \x1b[1;31mbold red\x1b[0m\r\n\x1b[7mrev\x1b[0m\x1b[5;3Hxy")
        await pilot.pause()
        assert term.display_lines()[:2] == ["plain bold red", "rev"]
        assert term.display_lines()[4] == "  xy"
        red = next(s for s in term.render_line(0) if s.text.startswith("bold"))
        assert red.style.bold and red.style.color.name == "red"
        assert next(s for s in term.render_line(1) if s.text.strip()).style.reverse
        cursor = [s for s in term.render_line(4) if s.style and s.style.reverse]
        assert cursor and cursor[0].text == " "  # the cursor after "xy"
        term.feed(b"\x1b[6n")  # where is the cursor?
        assert app.sent[-1] == b"\x1b[5;5R"
        app.sent.clear()
        await pilot.press("l", "s", "enter", "ctrl+c", "ctrl+q", "ctrl+p", "tab", "up")
        assert b"".join(app.sent) == b"ls\r\x03\x11\x10\t\x1b[A"
        assert app.is_running  # ctrl+q went to the "guest"
        app.sent.clear()
        await pilot.press(ESCAPE)
        assert app.sent == []
        # scrollback: lines that left the screen come back with shift+pageup
        term.feed(b"\r\n" + b"".join(b"line %d\r\n" % i for i in range(40)))
        await pilot.pause()
        assert "line 0" not in term.display_lines()
        await pilot.press("shift+pageup", "shift+pageup", "shift+pageup", "shift+pageup")
        assert "line 0" in term.display_lines() and term.scrolled_back
        term.feed(b"more\r\n" * 5)  # the view stays where it is...
        assert "line 0" in term.display_lines()
        await pilot.press("x")  # ...until one types
        assert not term.scrolled_back and term.display_lines()[-2:] == ["more", ""]
        # a flood is parsed in slices, the middle of a huge backlog skipped, nothing hangs
        term.feed(b"".join(b"flood %06d\r\n" % i for i in range(100_000)))
        assert term.skipped > 0
        await wait_for(lambda: "flood 099999" in term.display_lines(), pilot)
        assert any(
            line.startswith("[vtui] output too fast: skipped")
            for line in term.display_lines(scrollback=True)
        )


# -- the console screen on real guests -----------------------------------------------------
def lab_app(local_host) -> VtuiApp:
    fleet = Fleet(interval=2.0)
    fleet.add(local_host.uri, name="lab-a")
    return VtuiApp(fleet)


async def loaded_guest(app: VtuiApp, pilot, name: str, host_name: str = "lab-a"):
    await wait_for(lambda: host_name in app.fleet.hosts, pilot)
    host = app.fleet.hosts[host_name]
    await wait_for(lambda: host.find(name) is not None and host.find(name).state, pilot)
    return host, host.find(name)


def screen_text(screen: ConsoleScreen) -> str:
    return "\n".join(screen.terminal.display_lines())


async def type_line(pilot, text: str) -> None:
    await pilot.press(*text, "enter")


async def shell_prompt(pilot, screen: ConsoleScreen, timeout: float = BOOT) -> None:
    """Press Enter until the guest's shell answers with its prompt (it may still boot,
    or have printed its prompt before we attached)."""
    loop = asyncio.get_running_loop()
    end = loop.time() + timeout
    while loop.time() < end:
        await pilot.press("enter")
        try:
            await wait_for(lambda: screen_text(screen).rstrip().endswith("/ #"), pilot, 1.0)
            return
        except AssertionError:
            continue
    raise AssertionError(f"no shell prompt; screen:\n{screen_text(screen)}")


async def test_console_screen_echo_and_back_to_the_table(
    make_guest, local_host, tmp_path, monkeypatch
):
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    name = make_guest(local_host, paused=True)
    app = lab_app(local_host)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "attached", pilot)
        assert app.screen is screen
        await host.call(lambda: host.conn.lookupByUUIDString(guest.uuid).resume())
        # opened before the guest ran: its first lines are there
        await wait_for(lambda: "vtui-guest ready" in screen_text(screen), pilot, timeout=BOOT)
        await wait_for(lambda: screen_text(screen).rstrip().endswith("/ #"), pilot, timeout=BOOT)
        assert name in str(screen.query_one("#console-title").render())

        await pilot.press("ctrl+backslash")  # the console menu...
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("down", "enter")  # ...second entry: log to a file
        await wait_for(lambda: screen.log_path is not None, pilot)
        assert screen.log_path.startswith(str(tmp_path / "vtui" / "console"))

        token = f"vtui-q{secrets.token_hex(4)}"  # "q" quits vtui, not here
        await type_line(pilot, f"echo {token}")
        await wait_for(lambda: token in screen.terminal.display_lines(), pilot, timeout=BOOT)
        assert app.is_running
        await wait_for(lambda: token.encode() in Path(screen.log_path).read_bytes(), pilot)

        await pilot.press(ESCAPE)
        assert app.screen is app.fleet_screen
        assert open_consoles(app) == [screen] and screen.console.is_open  # still attached
        assert open_console(app, host, guest) is screen  # switch back
        assert app.screen is screen


async def test_busy_console_is_taken_over_after_confirmation(make_guest, local_host):
    name = make_guest(local_host)
    app = lab_app(local_host)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        other = GuestConsole(host, guest.uuid)  # e.g. virsh console elsewhere
        lost: list[str] = []
        other.on_closed = lost.append
        await other.open()
        screen = open_console(app, host, guest)
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("n")  # not now...
        await wait_for(lambda: screen.status == "busy", pilot)
        assert "the console stays with the other client" in screen_text(screen)
        await pilot.press("enter")  # ...Enter asks again
        await wait_for(lambda: isinstance(app.screen, ConfirmScreen), pilot)
        await pilot.press("y")
        await wait_for(lambda: screen.status == "attached", pilot)
        await wait_for(lambda: lost, pilot)
        assert app.screen is screen
        token = f"vtui-{secrets.token_hex(4)}"
        await shell_prompt(pilot, screen)
        await type_line(pilot, f"echo {token}")
        await wait_for(lambda: token in screen.terminal.display_lines(), pilot, timeout=BOOT)
        await other.close()


async def test_guest_stop_is_shown_and_the_console_reattaches(make_guest, local_host):
    name = make_guest(local_host)
    app = lab_app(local_host)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "attached", pilot)
        dom = await host.call(host.conn.lookupByUUIDString, guest.uuid)
        await host.call(dom.destroy)
        await wait_for(lambda: screen.status == "guest stopped", pilot, timeout=5)
        assert "[vtui] guest stopped" in screen_text(screen)
        assert app.screen is screen  # the screen stays
        await host.call(dom.create)
        await wait_for(lambda: screen.status == "attached", pilot)
        assert "reattaching" in screen_text(screen)
        await wait_for(lambda: "vtui-guest ready" in screen_text(screen), pilot, timeout=BOOT)

        await pilot.press("ctrl+backslash", "end", "enter")  # menu: close this console
        await wait_for(lambda: app.screen is app.fleet_screen and not open_consoles(app), pilot)
        assert screen.console is None and not screen.is_attached
        free = GuestConsole(host, guest.uuid)  # the console was given back
        await free.open()
        await free.close()


async def test_guest_without_serial_gets_a_clear_line(make_guest, local_host):
    name = make_guest(local_host, serial=False)
    app = lab_app(local_host)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "no console", pilot)
        assert "has no serial console; add a serial device" in screen_text(screen)
        await pilot.press(ESCAPE)
        assert app.screen is app.fleet_screen


async def test_console_over_an_ssh_tunnel(lab, make_guest, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # only the lab's ssh config is read
    monkeypatch.delenv("SSH_AUTH_SOCK", raising=False)
    targets = pytest.importorskip("vtui.core.fleet.targets")  # vtui's own SSH tunnels
    name = make_guest(lab["b"], paused=True)
    fleet = Fleet(interval=2.0)
    remote = targets.add_target(fleet, "lab-b", ssh_config=lab.ssh_config)
    assert remote.tunnel is not None
    app = VtuiApp(fleet)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name, remote.name)
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "attached", pilot)
        await host.call(lambda: host.conn.lookupByUUIDString(guest.uuid).resume())
        await wait_for(lambda: "vtui-guest ready" in screen_text(screen), pilot, timeout=BOOT)
        await shell_prompt(pilot, screen)
        token = f"vtui-{secrets.token_hex(4)}"
        await type_line(pilot, f"echo {token}")
        await wait_for(lambda: token in screen.terminal.display_lines(), pilot, timeout=BOOT)
        await pilot.press(ESCAPE)
        assert app.screen is app.fleet_screen


async def test_console_follows_its_guest_to_another_host(lab, make_guest):
    name = make_guest(lab["a"], paused=True)  # never ran: its boot shows up on b
    fleet = Fleet(interval=2.0)
    fleet.add(lab["a"].uri, name="lab-a")
    fleet.add(lab["b"].uri, name="lab-b")
    app = VtuiApp(fleet)

    def migrate_to_b(uuid: str) -> None:
        src, dst = libvirt.open(lab["a"].uri), libvirt.open(lab["b"].uri)
        try:
            src.lookupByUUIDString(uuid).migrate3(
                dst,
                {libvirt.VIR_MIGRATE_PARAM_URI: f"tcp://{lab['b'].ip}"},
                libvirt.VIR_MIGRATE_PERSIST_DEST | libvirt.VIR_MIGRATE_UNDEFINE_SOURCE,
            )
        finally:
            src.close()
            dst.close()

    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        screen = open_console(app, host, guest)
        await wait_for(lambda: screen.status == "attached", pilot)
        await asyncio.to_thread(migrate_to_b, guest.uuid)
        b = fleet.hosts["lab-b"]
        await wait_for(lambda: screen.host is b and screen.status == "attached", pilot)
        assert "guest is running on lab-b: reattaching" in screen_text(screen)
        await b.call(lambda: b.conn.lookupByUUIDString(guest.uuid).resume())
        await wait_for(lambda: "vtui-guest ready" in screen_text(screen), pilot, timeout=BOOT)


async def test_console_key_and_switcher_from_the_guest_table(make_guest, local_host):
    name = make_guest(local_host)
    app = lab_app(local_host)
    async with app.run_test(size=(100, 30)) as pilot:
        host, guest = await loaded_guest(app, pilot, name)
        table = app.fleet_screen.table
        await wait_for(lambda: (host.name, guest.uuid) in table.order, pilot)
        table.select((host.name, guest.uuid))
        await pilot.press("c")
        await wait_for(lambda: isinstance(app.screen, ConsoleScreen), pilot)
        screen = app.screen
        await shell_prompt(pilot, screen)
        await pilot.press(ESCAPE)
        assert app.screen is app.fleet_screen
        await pilot.press("O")  # the open consoles
        await wait_for(lambda: isinstance(app.screen, ChoiceScreen), pilot)
        await pilot.press("enter")
        await wait_for(lambda: app.screen is screen, pilot)
