"""A guest's serial console, full screen: every key goes to the guest but two.

    Ctrl+]   back to vtui (the console stays attached in the background, like a tab)
    Ctrl+\\   console menu: log to file, take over / reattach, close, send Ctrl+] or
             Ctrl+\\ to the guest

Each open console is an installed screen named after its guest, so `open_console`
switches back to it and several consoles can run at once. The console follows its
guest: when the guest stops it says so and stays; when the guest starts again, here
or on another host of the fleet (after a migration), it reattaches by itself and says
so. While detached, Enter tries again.
"""

from __future__ import annotations

import re
import time
import weakref
from collections.abc import Callable
from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Static

from vtui.core.errors import VtuiError
from vtui.core.guests.console import (
    GUEST_STOPPED,
    ConsoleBusy,
    GuestConsole,
    GuestNotRunning,
    NoConsole,
    devices,
)
from vtui.core.host import Change, Host, HostStatus
from vtui.core.model import Guest
from vtui.core.settings import paths
from vtui.failures import ReportsWorkerFailures
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.widgets.keys import bound_keys, key_label
from vtui.widgets.terminal import ESCAPE_KEY, Terminal

MENU_KEY = "ctrl+backslash"
_consoles: weakref.WeakKeyDictionary[App, dict[str, ConsoleScreen]] = weakref.WeakKeyDictionary()


def screen_name(uuid: str) -> str:
    return f"console-{uuid}"


def open_consoles(app: App) -> list[ConsoleScreen]:
    """The console screens of this app, attached or not, oldest first (for a switcher)."""
    return list(_consoles.get(app, {}).values())


def open_console(app: App, host: Host, guest: Guest, *, device: str | None = None) -> ConsoleScreen:
    """Show the console of `guest`, reusing its screen if it is already open.
    Raises VtuiError for a read-only connection (no console without write access)."""
    screens = _consoles.setdefault(app, {})
    screen = screens.get(guest.uuid)
    if screen is None:
        if host.readonly:
            raise VtuiError(
                "cannot open the console: the connection is read-only",
                host=host.name,
                guest=guest.name,
            )
        screen = ConsoleScreen(host, guest, device=device)
        app.install_screen(screen, screen_name(guest.uuid))
        screens[guest.uuid] = screen
    if screen not in app.screen_stack:
        app.push_screen(screen)
    return screen


async def close_console(app: App, screen: ConsoleScreen) -> None:
    """Detach for good: close the stream, leave and forget the screen."""
    await screen.detach()
    _consoles.get(app, {}).pop(screen.uuid, None)
    if app.screen is screen:
        await app.pop_screen()
    if screen not in app.screen_stack:
        app.uninstall_screen(screen)
        await screen.remove()  # an installed screen outlives its pop: remove it now


def default_log_path(host: str, guest: str) -> Path:
    """<state dir>/console/HOST_GUEST_DATE.log (~/.local/state/vtui/console on Linux)"""
    safe = re.sub(r"[^A-Za-z0-9._-]+", "-", f"{host}_{guest}")
    return paths.console_log_dir() / f"{safe}_{time.strftime('%Y%m%d-%H%M%S')}.log"


class ConsoleScreen(ReportsWorkerFailures, Screen):
    CSS_PATH = "console.tcss"
    BINDINGS = [
        Binding(ESCAPE_KEY, "leave", "Back to vtui", id="console.leave"),
        Binding(MENU_KEY, "menu", "Console menu", id="console.menu"),
    ]

    def __init__(self, host: Host, guest: Guest, *, device: str | None = None):
        super().__init__()
        self.host = host
        self.uuid = guest.uuid
        self.guest_name = guest.name
        self.device = device
        self.console: GuestConsole | None = None
        self.status = "connecting"
        self.log_path: str | None = None
        self.attaching = False
        self._reattach_when_running = False  # set when the guest (or its host) went away
        self._seen_stopped = False  # ...and only once it was seen gone (stale data)
        self._source = None  # what we subscribed to, for unsubscribing

    def compose(self) -> ComposeResult:
        with Horizontal(id="console-header"):
            yield Static(id="console-title")
            yield Static(id="console-keys")
        yield Terminal(self._typed, reserved_keys=(ESCAPE_KEY, MENU_KEY), id="terminal")

    @property
    def terminal(self) -> Terminal:
        return self.query_one(Terminal)

    def on_mount(self) -> None:
        # The keys that leave the guest's screen follow the user's keymap (settings.toml).
        self.terminal.reserved_keys = {
            *bound_keys(self.app, "console.leave", ESCAPE_KEY),
            *bound_keys(self.app, "console.menu", MENU_KEY),
            *bound_keys(self.app, "console.scroll_back", "shift+pageup"),
            *bound_keys(self.app, "console.scroll_forward", "shift+pagedown"),
        }
        keys = " · ".join(
            f"{key_label(bound_keys(self.app, binding, default)[0])} {what}"
            for binding, default, what in (
                ("console.leave", ESCAPE_KEY, "back"),
                ("console.menu", MENU_KEY, "menu"),
            )
        )
        self.query_one("#console-keys", Static).update(Content(keys))
        self._source = getattr(self.app, "fleet", None) or self.host
        self._source.subscribe(self._guest_changed)
        self._show_status("connecting")
        self.terminal.focus()
        self.attach()

    async def on_unmount(self) -> None:
        await self.detach()

    # -- attaching --------------------------------------------------------------------
    def attach(self) -> None:
        """(Re)attach in a worker; it may ask which device, or whether to take over."""
        if not self.attaching and (self.console is None or not self.console.is_open):
            self.attaching = True
            self.run_worker(
                self._attach_console(),
                group="attach",
                description=f"attach the console of {self.guest_name}",
                exit_on_error=False,
            )

    async def _attach_console(self) -> None:
        try:
            self._show_status("connecting")
            if self.device is None and not await self._choose_device():
                return
            console = GuestConsole(self.host, self.uuid, self.device)
            console.on_output = self.terminal.feed
            console.on_closed = self._stream_closed
            if await self._open(console):
                if self.log_path:
                    try:
                        console.log_to(self.log_path)
                    except VtuiError as exc:
                        self.notify(str(exc), severity="error")
                        self.log_path = None
                self.console = console
                self._reattach_when_running = False
                self.terminal.feed(b"\x1b[?25h")
                self._show_status("attached")
        finally:
            self.attaching = False

    async def _choose_device(self) -> bool:
        try:
            found = await devices(self.host, self.uuid)
        except VtuiError as exc:
            return self._detached(str(exc))
        if not found:
            return self._detached(
                str(
                    NoConsole(
                        "has no serial console; add a serial device in its configuration",
                        host=self.host.name,
                        guest=self.guest_name,
                    )
                ),
                "no console",
            )
        if len(found) == 1:
            self.device = found[0].name
            return True
        if not self.is_active:
            return self._detached("it has several consoles: press Enter to choose one")
        choice = await self.app.push_screen_wait(
            ChoiceScreen(f"Which console of {self.guest_name}?", [(d.name, d.label) for d in found])
        )
        if choice is None:
            return self._detached("no console chosen: press Enter to choose one")
        self.device = choice
        return True

    async def _open(self, console: GuestConsole, force: bool = False) -> bool:
        try:
            await console.open(force=force)
            return True
        except ConsoleBusy as exc:
            if force or not self.is_active:
                return self._detached(f"{exc}; press Enter to take it over", "busy")
            answer = await self.app.push_screen_wait(
                ConfirmScreen(
                    "Take over the console?",
                    f"Another client (virsh console, another vtui) is using the console of "
                    f"{self.guest_name} on {self.host.name}. Taking it over disconnects it.",
                    yes="Take over",
                )
            )
            if not answer or not answer[0]:
                return self._detached(
                    "the console stays with the other client; press Enter to ask again", "busy"
                )
            return await self._open(console, force=True)
        except GuestNotRunning:
            self._reattach_when_running = self._seen_stopped = True
            return self._detached(
                "guest is not running; the console attaches when it starts", "not running"
            )
        except VtuiError as exc:
            return self._detached(f"{exc}; press Enter to retry")

    def _detached(self, note: str, status: str = "detached") -> bool:
        self.terminal.write_note(note)
        self.terminal.feed(b"\x1b[?25l")  # no cursor: typing goes nowhere now
        self._show_status(status)
        return False

    # -- the guest and its host -----------------------------------------------------------
    def _stream_closed(self, reason: str) -> None:
        host_lost = self.host.status is not HostStatus.CONNECTED
        if reason == GUEST_STOPPED:
            self._reattach_when_running, self._seen_stopped = True, False
            self._detached(
                "guest stopped; the console reattaches when it starts (Enter: try now)",
                "guest stopped",
            )
        elif host_lost:
            self._reattach_when_running = self._seen_stopped = True
            self._detached(
                f"connection to {self.host.name} lost; the console reattaches when it is back",
                "host lost",
            )
        else:
            self._detached(
                f"{reason} (another client may have taken it over); press Enter to take it back",
                "detached",
            )

    def _guest_changed(self, change: Change) -> None:
        if self._source is None or self.attaching:
            return
        if (
            change.host is self.host
            and self.host.status is not HostStatus.CONNECTED
            and self.status == "detached"
        ):
            # the stream broke just before the host was seen lost: that was the cause
            self._reattach_when_running = self._seen_stopped = True
            self._show_status("host lost")
        if not self._reattach_when_running:
            return
        touched = self.uuid in change.guests or self.uuid in change.removed
        if not (touched or change.host_changed):
            return
        if not self._seen_stopped and not (touched and change.event.endswith(" started")):
            # The stream ended before the host's inventory caught up: wait until it shows
            # the guest stopped (or gone), else a stale "running" would retry at once.
            guest = self.host.guests.get(self.uuid)
            self._seen_stopped = guest is None or not guest.active
            if not self._seen_stopped:
                return
        running_on = self._running_on()
        if running_on is None:
            return
        moved = running_on is not self.host
        self.host = running_on
        self.terminal.write_note(
            f"guest is running{' on ' + running_on.name if moved else ''}: reattaching"
        )
        self.attach()

    def _running_on(self) -> Host | None:
        """The connected host where the guest runs now (its own first)."""
        fleet = getattr(self.app, "fleet", None)
        hosts = [self.host] + [
            h for h in (fleet.hosts.values() if fleet else ()) if h is not self.host
        ]
        for host in hosts:
            guest = host.guests.get(self.uuid)
            if host.status is HostStatus.CONNECTED and guest is not None and guest.active:
                return host
        return None

    # -- keys -----------------------------------------------------------------------------
    def _typed(self, data: bytes) -> None:
        if self.console is not None and self.console.is_open:
            self.console.send(data)
        elif data == b"\r" and not self.attaching:
            self.attach()  # a busy console asks before taking over

    def action_leave(self) -> None:
        if self.app.screen is self:
            self.app.pop_screen()

    def action_menu(self) -> None:
        attached = self.console is not None and self.console.is_open
        items: list[tuple[str, str]] = [("leave", "Back to vtui (Ctrl+])")]
        items.append(
            (
                "log",
                f"Stop logging to {self.log_path}"
                if self.log_path
                else "Log the console to a file",
            )
        )
        if not attached:
            items.append(("attach", "Reattach (asks before taking over a busy console)"))
        items += [
            ("send_escape", "Send Ctrl+] to the guest"),
            ("send_menu", "Send Ctrl+\\ to the guest"),
            ("close", "Close this console"),
        ]
        actions: dict[str, Callable[[], object]] = {
            "leave": self.action_leave,
            "log": self.action_toggle_log,
            "attach": self.attach,
            "send_escape": lambda: self._typed(b"\x1d"),
            "send_menu": lambda: self._typed(b"\x1c"),
            "close": lambda: self.app.run_worker(
                close_console(self.app, self),
                description=f"close the console of {self.guest_name}",
                exit_on_error=False,
            ),
        }

        def chosen(item: str | None) -> None:
            if item is not None:
                actions[item]()

        self.app.push_screen(ChoiceScreen(f"Console of {self.guest_name}", items), chosen)

    def action_toggle_log(self) -> None:
        if self.log_path:
            if self.console is not None:
                self.console.log_to(None)
            self.notify(f"stopped logging to {self.log_path}")
            self.log_path = None
        else:
            path = default_log_path(self.host.name, self.guest_name)
            try:
                path.parent.mkdir(parents=True, exist_ok=True)
                if self.console is not None:
                    self.console.log_to(path)
            except (OSError, VtuiError) as exc:
                self.notify(str(exc), severity="error")
                return
            self.log_path = str(path)
            self.notify(f"logging the console to {path}")
        self._show_status(self.status)

    # -- showing ----------------------------------------------------------------------------
    def _show_status(self, status: str) -> None:
        self.status = status
        device = f" · {self.device}" if self.device else ""
        log = " · logging" if self.log_path else ""
        title = self.query_one("#console-title", Static)
        title.update(Content(f"{self.guest_name} on {self.host.name}{device} · {status}{log}"))
        title.set_class(status != "attached", "-detached")

    async def detach(self) -> None:
        """Close the stream and stop following the guest (the screen keeps its text)."""
        if self._source is not None:
            unsubscribe = getattr(self._source, "unsubscribe", None)
            if unsubscribe is not None:
                unsubscribe(self._guest_changed)
            self._source = None
        self._reattach_when_running = False
        console, self.console = self.console, None
        if console is not None:
            console.on_closed = None
            await console.close()
            console.log_to(None)
