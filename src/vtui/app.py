"""The Textual app: owns the fleet, routes core changes to the screen, reports errors."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable
from typing import Any

from textual import events, on
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.notifications import SeverityLevel
from textual.screen import Screen

from vtui.commands import screen_commands
from vtui.core import logs
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.host import Change, HostStatus
from vtui.failures import ReportsWorkerFailures, report
from vtui.screens.fleet import FleetScreen

NOTIFY_MAX = 400  # characters of one notification


def shorten(text: str, limit: int = NOTIFY_MAX) -> str:
    """At most `limit` characters: the start and the end, the middle left out."""
    if len(text) <= limit:
        return text
    half = (limit - 3) // 2
    return f"{text[:half]} … {text[-half:]}"


NOTHING_ANSWERED = "No host answered. Check that libvirtd runs and the URI, or try: vtui --demo"
log = logs.logger("vtui.app")
_LOG_LEVEL = {"error": logging.ERROR, "warning": logging.WARNING}


class VtuiApp(ReportsWorkerFailures, App):
    TITLE = "vtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        # Priority: focus moves before the next key of a burst (a paste without bracketed
        # paste) is handed to a field; else "abc<Tab>root@x" all lands in the first one.
        # A widget that takes Tab itself (the console) still gets it.
        Binding("tab", "focus_next", "Next field", show=False, priority=True, id="app.next"),
        Binding(
            "shift+tab",
            "focus_previous",
            "Previous field",
            show=False,
            priority=True,
            id="app.previous",
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("C", "connections", "Hosts", id="app.connections", show=False),
    ]

    def __init__(
        self,
        fleet: Fleet,
        *,
        connect: bool = True,
        connecting: asyncio.Future[list[VtuiError]] | None = None,
        asker=None,
        notes: list[str] | None = None,
        keymap: dict[str, str] | None = None,
    ):
        super().__init__()
        self.fleet = fleet
        self.asker = asker
        self.user_keymap = dict(keymap or {})  # binding id -> keys, from settings.toml
        self._notes = notes or []
        self._connect_on_mount = connect
        self._connecting = connecting  # fleet.connect_all() already under way (the cli)
        self._previous_loop_handler: Any = None
        self.fleet_screen = FleetScreen(fleet)
        fleet.subscribe(self._on_change)

    def on_mount(self) -> None:
        loop = asyncio.get_running_loop()
        self._previous_loop_handler = loop.get_exception_handler()
        loop.set_exception_handler(self._loop_error)
        if self.user_keymap:
            self.set_keymap(self.user_keymap)
        self.push_screen(self.fleet_screen)
        from vtui.screens.migration.jobs import notify_job_endings

        notify_job_endings(self)
        for note in self._notes:  # e.g. a broken saved-hosts file: said, not fatal
            self.notify(note, severity="warning", timeout=15, markup=False)
        give = getattr(self.asker, "give", None)
        if give is not None:  # a LaterAsker: logins under way ask through modals now
            from vtui.screens.dialogs import AppAsker

            give(AppAsker(self))
        if self._connecting is not None or self._connect_on_mount:
            self.run_worker(
                self.connect_hosts(self._connecting),
                group="connect",
                description="connecting the hosts",
                exit_on_error=False,
            )

    async def connect_hosts(self, connecting: asyncio.Future | None = None) -> None:
        failures = await (connecting if connecting is not None else self.fleet.connect_all())
        for failure in failures:
            self.notify(str(failure), severity="error", timeout=15, markup=False)
        if failures and len(failures) == len(self.fleet.hosts):
            self.notify(NOTHING_ANSWERED, title="Nothing to show", severity="warning", timeout=30)

    def action_connections(self) -> None:
        from vtui.screens.connections import ConnectionsScreen

        if not isinstance(self.screen, ConnectionsScreen):
            self.push_screen(ConnectionsScreen(self.fleet, asker=self.asker))

    async def action_quit(self) -> None:
        """Quit; with consoles attached, ask first (each is a session someone may be in)."""
        from vtui.screens.console import open_consoles
        from vtui.screens.dialogs import ConfirmScreen

        attached = [c for c in open_consoles(self) if c.console is not None and c.console.is_open]
        if not attached:
            self.exit()
            return
        names = [f"{c.guest_name} on {c.host.name}" for c in attached]

        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0]:
                self.exit()

        self.push_screen(
            ConfirmScreen(
                "Quit vtui?",
                f"{len(attached)} console(s) are attached; quitting closes them "
                "(the guests keep running):",
                yes="Quit",
                items=names,
            ),
            answered,
        )

    def action_help(self) -> None:
        from vtui.screens.help import HelpScreen

        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen(self.screen))

    async def on_unmount(self) -> None:
        await self.fleet.close()
        asyncio.get_running_loop().set_exception_handler(self._previous_loop_handler)

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        # What the user was told went wrong is in the log too (with its host: the
        # messages name it), for after the notification has gone.
        if severity in _LOG_LEVEL:
            log.log(_LOG_LEVEL[severity], "%s%s", f"{title}: " if title else "", message)
        # vtui's messages are plain text (names and libvirt's words are never markup),
        # and one that would fill the screen (a 10,000-character URI) keeps both ends.
        super().notify(
            shorten(message), title=title, severity=severity, timeout=timeout, markup=False
        )

    @on(events.DeliveryFailed)
    def _on_delivery_failed(self, event: events.DeliveryFailed) -> None:
        """A screenshot (from the palette) that could not be saved says why (and only
        this: Textual's own handler would add a bare "Failed to save screenshot")."""
        if event.name == "screenshot":
            event.prevent_default()
            self.notify(
                f"cannot save the screenshot: {event.exception}",
                title="Screenshot",
                severity="error",
            )

    @on(events.DeliveryComplete)
    def _on_delivery_complete(self, event: events.DeliveryComplete) -> None:
        if event.name == "screenshot":
            event.prevent_default()  # one message, with the path shown literally
            where = f" to {event.path}" if event.path is not None else ""
            self.notify(f"saved the screenshot{where}", title="Screenshot")

    def _loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict) -> None:
        """A failure outside any worker (a listener, a forgotten task): reported and
        logged like a failed worker, and the app keeps running."""
        exc = context.get("exception")
        if isinstance(exc, asyncio.CancelledError):
            return
        what = context.get("message") or "a background task"
        if exc is None:
            log.error("%s", what)
            return
        report(self, exc, what)

    def _on_change(self, change: Change) -> None:
        # Host changes are emitted on this app's asyncio loop, so it is safe to touch widgets.
        if not self.is_running:  # hosts connect while the app starts: the screen's mount
            return  # draws what they have by then
        if change.error and change.host.status is not HostStatus.FAILED:
            self.notify(
                str(VtuiError(change.error, host=change.host.name)),
                severity="error",
                timeout=8,
                markup=False,
            )
        if self.fleet_screen.is_mounted:
            self.fleet_screen.apply_change(change)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield from screen_commands(self, screen)
