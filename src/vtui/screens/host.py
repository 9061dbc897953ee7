"""Everything about one host on one screen: facts, load history, guests by state."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer, Sparkline, Static

from vtui.core.host import Change, Host
from vtui.failures import ReportsWorkerFailures
from vtui.widgets.host_panel import HostPanel


class HostScreen(ReportsWorkerFailures, Screen):
    DEFAULT_CSS = """
    HostScreen HostPanel { height: auto; padding: 1 2; }
    HostScreen Sparkline { height: 4; margin: 0 2; }
    HostScreen .label { padding: 0 2; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q", "app.pop_screen", "Back", id="host.back")]

    def __init__(self, host: Host):
        super().__init__()
        self.host = host

    def compose(self) -> ComposeResult:
        yield HostPanel()
        yield Static("host CPU %, last samples", classes="label")
        yield Sparkline([], summary_function=max)
        yield Footer()

    def on_mount(self) -> None:
        self.refresh_host()
        self.host.subscribe(self._on_change)

    def on_unmount(self) -> None:
        self.host.unsubscribe(self._on_change)

    def _on_change(self, change: Change) -> None:
        if change.host_changed and self.is_mounted:
            self.refresh_host()

    def refresh_host(self) -> None:
        self.query_one(HostPanel).show(self.host)
        self.query_one(Sparkline).data = list(self.host.cpu_history)
