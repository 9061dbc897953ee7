"""What every section (tab) of the host screen shares: reading its list in a worker,
staying live, saying why an action is refused, and running actions.

Live: a section re-reads when the host publishes a Change naming a resource of its
kind (libvirt's pool, network and node-device events), when a guest event may have
changed who uses what, and every POLL_SECONDS while it is shown for what has no event
(volumes, KSM; pools on a driver without pool events...). A hidden section only notes
that it is stale and reads again when shown.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, ClassVar

from textual.containers import Vertical
from textual.content import Content
from textual.screen import Screen
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static, Tabs

from vtui.core.errors import VtuiError
from vtui.core.host import Change, Host, HostStatus
from vtui.failures import ReportsWorkerFailures
from vtui.widgets.row_table import RowTable

POLL_SECONDS = 5.0
RELOAD_DELAY = 0.3  # a burst of events (a pool with 50 volumes deleted) reads once


class Section(ReportsWorkerFailures, Vertical):
    TAB: ClassVar[str] = ""  # the tab's id, also used in binding ids
    LABEL: ClassVar[str] = ""  # what it lists, for messages ("storage pools")
    EVENTS: ClassVar[frozenset[str]] = frozenset()  # resource kinds that change it
    GUESTS_MATTER: ClassVar[bool] = False  # shows which guests use what
    POLLED: ClassVar[bool] = False  # nothing tells when it changes: read while shown

    DEFAULT_CSS = """
    Section { height: 1fr; }
    Section > .status, Section > .detail { text-wrap: nowrap; text-overflow: ellipsis; }
    Section > .status { height: 1; color: $text-muted; padding: 0 1; }
    Section > .status.-error { color: $error; }
    Section > .detail { height: auto; padding: 0 1; }
    Section > RowTable { height: 1fr; }
    """

    def __init__(self, host: Host):
        super().__init__(id=f"section-{self.TAB}")
        self.host = host
        self.active = False  # its tab is the one shown
        self.stale = True  # changed since it was last read
        self.loading = False
        self._timer: Timer | None = None

    # -- what a section defines ------------------------------------------------------------
    async def load(self) -> None:
        """Read what the section shows (core calls only) and show it."""

    def refusal(self, action: str) -> str | None:
        """Why `action` cannot be done now (None: it can)."""
        return f"nothing called {action} here"

    def focus_target(self) -> Widget | None:
        tables = self.query(RowTable)
        return tables.first() if tables else None

    # -- being shown and staying live -----------------------------------------------------
    def on_mount(self) -> None:
        if self.active:  # mounted by the screen as its tab is first shown
            self.show()
            self.take_focus()

    def show(self) -> None:
        self.active = True
        if self.stale:
            self.reload()

    def take_focus(self) -> None:
        """Focus the list, unless the user is walking the tab bar with the arrows."""
        if isinstance(self.screen.focused, Tabs):
            return
        target = self.focus_target()
        if target is not None:
            target.focus()

    def hide(self) -> None:
        self.active = False

    def changed(self, change: Change) -> None:
        """A Change of the host: re-read if it may concern this section."""
        hit = any(kind in self.EVENTS for kind, _name in change.resources)
        if self.GUESTS_MATTER and change.event and not change.resources:
            hit = True  # a guest was defined, started, stopped...
        if hit:
            self.mark_stale()

    def mark_stale(self) -> None:
        self.stale = True
        if self.active and self.is_mounted:
            self.reload_soon()

    def poll(self) -> None:
        """Every POLL_SECONDS while shown: re-read what no event reports."""
        if self.loading:
            return
        if self.POLLED or self.EVENTS - self.host.resource_events.kinds:
            self.reload()

    def reload_soon(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(RELOAD_DELAY, self.reload)

    def reload(self) -> None:
        self.stale = False
        if self.host.status is not HostStatus.CONNECTED:
            self.say(f"{self.host.name} is {self.host.status.value}", error=True)
            return
        self.run_worker(
            self._load,  # (a function: an exclusive worker may be cancelled unstarted)
            group="load",
            exclusive=True,
            description=f"read the {self.LABEL} of {self.host.name}",
            exit_on_error=False,
        )

    async def _load(self) -> None:
        self.loading = True
        try:
            await self.load()
        except VtuiError as exc:
            self.say(str(exc), error=True)
        finally:
            self.loading = False
        self.keys_changed()

    # -- telling the user ----------------------------------------------------------------------
    def say(self, text: str | Content, error: bool = False) -> None:
        """The section's status line (what it shows, or why it cannot)."""
        status = self.query(".status")
        if status:
            line = status.first(Static)
            line.update(Content(text) if isinstance(text, str) else text)
            line.set_class(error, "-error")

    def tell(self, text: str, severity: str = "information", timeout: float = 5) -> None:
        self.app.notify(text, severity=severity, timeout=timeout, markup=False)  # type: ignore[arg-type]

    def keys_changed(self) -> None:
        """What applies may have changed: let the footer ask check_action again."""
        screen = self.screen if self.is_attached else None
        if isinstance(screen, Screen):
            screen.refresh_bindings()

    # -- actions ------------------------------------------------------------------------------
    def act(self, action: str) -> None:
        why = self.refusal(action)
        if why:
            self.tell(why, severity="warning")
            return
        getattr(self, f"do_{action}")()

    def writable(self, what: str) -> str | None:
        """The refusal every change shares: the link is down, or read-only."""
        host = self.host
        if host.status is not HostStatus.CONNECTED:
            return f"cannot {what}: {host.name} is {host.status.value}"
        if host.readonly:
            return f"cannot {what}: the connection to {host.name} is read-only"
        return None

    def run_action(
        self,
        work: Callable[[], Awaitable[Any]],
        what: str,
        done: str = "",
        after: Callable[[Any], None] | None = None,
    ) -> None:
        """work() in a worker; a refusal is one line to the user, success `done`."""

        async def run() -> None:
            try:
                result = await work()
            except VtuiError as exc:
                self.tell(str(exc), severity="error", timeout=10)
                self.reload_soon()
                return
            if done:
                self.tell(done)
            if after is not None:
                after(result)
            self.reload_soon()

        self.run_worker(run(), group="actions", description=what, exit_on_error=False)
