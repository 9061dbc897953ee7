"""Saved hosts: list, add, edit, remove, connect. The list lives in hosts.toml
(core.config); connecting goes through core.targets.add_target like the CLI."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

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

BUSY = (HostStatus.CONNECTED, HostStatus.CONNECTING, HostStatus.DISCONNECTED)


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
        yield DataTable(cursor_type="row", zebra_stripes=True, id="saved-hosts")
        yield Static("", id="connections-status")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label, key in (
            ("Name", "name"),
            ("Target", "target"),
            ("libvirt", "libvirt"),
            ("RO", "ro"),
            ("Auto", "auto"),
            ("Status", "status"),
        ):
            table.add_column(label, key=key)
        self.reload()
        self.set_interval(1.0, self.refresh_status)
        table.focus()

    # -- the list -------------------------------------------------------------------------
    def reload(self, select: str | None = None) -> None:
        self.saved, self.error = config.load()
        table = self.query_one(DataTable)
        current = select or self.selected_name()
        table.clear()
        for h in self.saved:
            table.add_row(
                h.name,
                h.target,
                h.libvirt,
                "yes" if h.readonly else "",
                "yes" if h.autoconnect else "",
                self.status_of(h.name),
                key=h.name,
            )
        names = [h.name for h in self.saved]
        if current in names:
            table.move_cursor(row=names.index(current))
        if self.error is not None:
            self.say(str(self.error), error=True)
        elif not self.saved:
            self.say(f"No saved hosts yet: press a to add one ({config.hosts_path()})")
        else:
            self.say("")

    def status_of(self, name: str) -> str:
        host = self.fleet.hosts.get(name)
        if host is None:
            return ""
        return host.status.value + (f": {host.error}" if host.error else "")

    def refresh_status(self) -> None:
        table = self.query_one(DataTable)
        for h in self.saved:
            status = self.status_of(h.name)
            if table.get_cell(h.name, "status") != status:
                table.update_cell(h.name, "status", status)

    def selected_name(self) -> str | None:
        table = self.query_one(DataTable)
        if not self.saved or table.cursor_row is None or table.cursor_row >= len(self.saved):
            return None
        return self.saved[table.cursor_row].name

    def selected(self) -> SavedHost | None:
        return config.find(self.selected_name() or "", self.saved)

    def say(self, message: str, *, error: bool = False) -> None:
        status = self.query_one("#connections-status", Static)
        status.update(message)
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
        try:
            if old_name is None:
                config.add(host)
            else:
                config.edit(old_name, host)
        except VtuiError as exc:
            self.say(exc.message, error=True)
            return
        self.reload(select=host.name)

    def action_remove(self) -> None:
        current = self.selected()
        if current is None:
            return

        def answered(result: tuple[bool, bool] | None) -> None:
            if not result or not result[0]:
                return
            try:
                config.remove(current.name)
            except VtuiError as exc:
                self.say(exc.message, error=True)
                return
            self.reload()

        self.app.push_screen(
            ConfirmScreen(
                f"Remove saved host {current.name}?",
                f"Forgets {current.name} ({current.target}) in {config.hosts_path()}. "
                "A connected host stays connected until vtui exits.",
                yes="Remove",
            ),
            answered,
        )

    # -- connect ----------------------------------------------------------------------------
    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
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
