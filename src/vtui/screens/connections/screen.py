"""Saved hosts: list, add, edit, remove, connect. The list lives in hosts.toml
(core.config); connecting goes through core.targets.add_target like the CLI."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.fleet.targets import add_target
from vtui.core.host import Host, HostStatus
from vtui.core.settings import saved_hosts as config
from vtui.core.settings.saved_hosts import SavedHost
from vtui.core.ssh.target import Asker
from vtui.failures import ReportsWorkerFailures
from vtui.screens.connections.form import HostForm
from vtui.screens.dialogs import AppAsker, ConfirmScreen
from vtui.widgets.row_table import RowTable, TableColumn

BUSY = (HostStatus.CONNECTED, HostStatus.CONNECTING, HostStatus.DISCONNECTED)
COLUMNS = (
    TableColumn("name", "Name", 18),
    TableColumn("target", "Target", 24),
    TableColumn("libvirt", "libvirt", 7),
    TableColumn("ro", "RO", 3),
    TableColumn("auto", "Auto", 4),
    TableColumn("status", "Status", 10),  # and the rest of the line
)


class ConnectionsScreen(ReportsWorkerFailures, Screen):
    """The saved hosts and whether each is in the fleet right now."""

    CSS_PATH = "connections.tcss"
    BINDINGS = [
        Binding("a", "add", "Add", id="connections.add"),
        Binding("e", "edit", "Edit", id="connections.edit"),
        Binding("d,delete", "remove", "Remove", id="connections.remove"),
        Binding("c", "connect", "Connect", id="connections.connect"),
        Binding("escape", "close", "Back", id="connections.back"),
    ]

    def __init__(
        self, fleet: Fleet, *, asker: Asker | None = None, ssh_config: str | Path | None = None
    ):
        super().__init__()
        self.fleet = fleet
        self.asker = asker
        self.ssh_config = ssh_config
        self.saved: list[SavedHost] = []
        self.error: VtuiError | None = None

    def compose(self) -> ComposeResult:
        yield Static("Saved hosts", id="connections-title")
        yield RowTable(COLUMNS, id="saved-hosts")
        yield Static("", id="connections-status")
        yield Footer()

    def on_mount(self) -> None:
        self.reload()
        self.set_interval(1.0, self.refresh_status)
        self.query_one(RowTable).focus()

    # -- the list -------------------------------------------------------------------------
    def cells(self, h: SavedHost) -> list[str]:
        """One row, taken literally; each column has a fixed width, so a 300-character
        name cannot push the other columns off the screen."""
        return [
            h.name,
            h.target,
            h.libvirt,
            "yes" if h.readonly else "",
            "yes" if h.autoconnect else "",
            self.status_of(h.name),
        ]

    def reload(self, select: str | None = None) -> None:
        self.saved, self.error = config.load()
        table = self.query_one(RowTable)
        current = select or self.selected_name()
        table.set_rows((h.name, self.cells(h)) for h in self.saved)
        self._select(current)
        if self.error is not None:
            self.say(str(self.error), error=True)
        elif not self.saved:
            self.say(f"No saved hosts yet: press a to add one ({config.hosts_path()})")
        else:
            self.say("")

    def _select(self, name: str | None) -> None:
        if name is not None:
            self.query_one(RowTable).select(name)

    def status_of(self, name: str) -> str:
        host = self.fleet.hosts.get(name)
        if host is None:
            return ""
        return host.status.value + (f": {host.error}" if host.error else "")

    def refresh_status(self) -> None:
        """Only hosts in the fleet have a status: thousands of saved ones cost nothing."""
        table = self.query_one(RowTable)
        saved = {h.name for h in self.saved}
        for name in self.fleet.hosts:
            if name in saved:
                table.set_cell(name, "status", self.status_of(name))

    def selected_name(self) -> str | None:
        return self.query_one(RowTable).cursor_key

    def selected(self) -> SavedHost | None:
        return config.find(self.selected_name() or "", self.saved)

    def say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#connections-status", Static)
        status.update(Content(message))
        status.set_class(error, "error")

    # -- add / edit / remove ---------------------------------------------------------------
    def action_add(self) -> None:
        self.app.push_screen(HostForm(self.saved), lambda host: self._store(None, host))

    def action_edit(self) -> None:
        current = self.selected()
        if current is not None:
            self.app.push_screen(
                HostForm(self.saved, current), lambda host: self._store(current.name, host)
            )

    def _store(self, old_name: str | None, host: SavedHost | None) -> None:
        if host is None:
            return
        table = self.query_one(RowTable)
        try:
            if old_name is None:
                self.saved = config.add(host)
            else:
                self.saved = config.edit(old_name, host)
        except VtuiError as exc:
            self.say(exc.message, error=True)
            return
        if old_name is not None and old_name != host.name:
            table.set_rows((h.name, self.cells(h)) for h in self.saved)  # renamed in place
        else:
            table.set_row(host.name, self.cells(host))
        self._forget_from_fleet(old_name if old_name != host.name else None)
        self._select(host.name)
        self.say(f"saved {host.name}")

    def action_remove(self) -> None:
        current = self.selected()
        if current is None:
            return

        def answered(result: tuple[bool, bool] | None) -> None:
            if not result or not result[0]:
                return
            try:
                self.saved = config.remove(current.name)
            except VtuiError as exc:
                self.say(exc.message, error=True)
                return
            self.query_one(RowTable).remove_row(current.name)
            self._forget_from_fleet(current.name)
            self.say(f"removed {current.name}")

        self.app.push_screen(
            ConfirmScreen(
                f"Remove saved host {current.name}?",
                f"Forgets {current.name} ({current.target}) in {config.hosts_path()}. "
                "If it is connected it stays connected until vtui exits; if it failed, it "
                "leaves the host list.",
                yes="Remove",
            ),
            answered,
        )

    def _forget_from_fleet(self, name: str | None) -> None:
        """A host whose saved entry is gone leaves the fleet unless it is in use."""
        host = self.fleet.hosts.get(name) if name else None
        if host is not None and host.status not in BUSY:
            self.app.run_worker(
                self.fleet.remove(host.name),
                description=f"forget {host.name}",
                exit_on_error=False,
            )

    # -- connect ----------------------------------------------------------------------------
    def on_row_table_selected(self, event: RowTable.Selected) -> None:
        event.stop()  # Enter on a row
        self.action_connect()

    def action_connect(self) -> None:
        current = self.selected()
        if current is None:
            return
        host = self.fleet.hosts.get(current.name)
        if host is not None and host.status in BUSY:
            self.say(f"{current.name} is already {host.status.value}")
            return
        try:
            if host is None:
                host = add_target(
                    self.fleet,
                    current.name,
                    asker=self.asker or AppAsker(self.app),
                    ssh_config=self.ssh_config,
                    saved=self.saved,
                )
        except VtuiError as exc:
            self.say(exc.message, error=True)
            return
        self.say(f"connecting to {current.name}...")
        # An app worker: the connection goes on when this screen is closed.
        self.app.run_worker(
            self._connect(host),
            group="connect",
            description=f"connect to {host.name}",
            exit_on_error=False,
        )

    async def _connect(self, host: Host) -> None:
        try:
            await host.connect()
        except VtuiError as exc:
            self.app.notify(str(exc), severity="error", timeout=15)
            if self.is_mounted:
                self.say(str(exc), error=True)
            return
        host.start()
        message = f"{host.name}: connected, {len(host.guests)} guests"
        self.app.notify(message)
        if self.is_mounted:
            self.say(message)

    def action_close(self) -> None:
        self.app.pop_screen()
