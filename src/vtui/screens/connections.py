"""Saved hosts: list, add, edit, remove, connect. The list lives in hosts.toml
(core.config); connecting goes through core.targets.add_target like the CLI."""

from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Checkbox, DataTable, Footer, Input, Select, Static

from vtui.core import config
from vtui.core.config import SavedHost
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.host import Host, HostStatus
from vtui.core.ssh_target import Asker
from vtui.core.targets import add_target, validate_saved
from vtui.screens.confirm import ConfirmScreen
from vtui.screens.hostkey import AppAsker

BUSY = (HostStatus.CONNECTED, HostStatus.CONNECTING, HostStatus.DISCONNECTED)


class HostForm(ModalScreen[SavedHost | None]):
    """Add or edit one saved host; errors show on one line under the fields."""

    CSS_PATH = "connections.tcss"
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="hostform.cancel"),
        Binding("ctrl+s", "save", "Save", id="hostform.save"),
    ]

    def __init__(self, existing: list[SavedHost], host: SavedHost | None = None):
        super().__init__()
        self.existing = existing
        self.original = host

    def compose(self) -> ComposeResult:
        h = self.original or SavedHost(name="", target="")
        with Vertical(id="form"):
            yield Static("Edit host" if self.original else "Add host", id="form-title")
            yield Static("Name", classes="label")
            yield Input(h.name, placeholder="web1", id="name")
            yield Static("SSH target", classes="label")
            yield Input(h.target, placeholder="user@host[:port], ssh alias, or libvirt URI",
                        id="target")
            yield Static("libvirt", classes="label")
            with Horizontal(id="form-options"):
                yield Select([(p, p) for p in config.LIBVIRT_PATHS], value=h.libvirt,
                             allow_blank=False, id="libvirt")
                yield Checkbox("Read-only", h.readonly, id="readonly")
                yield Checkbox("Connect at start", h.autoconnect, id="autoconnect")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def collect(self) -> SavedHost:
        return SavedHost(
            name=self.query_one("#name", Input).value.strip(),
            target=self.query_one("#target", Input).value.strip(),
            libvirt=str(self.query_one("#libvirt", Select).value),
            readonly=self.query_one("#readonly", Checkbox).value,
            autoconnect=self.query_one("#autoconnect", Checkbox).value)

    def action_save(self) -> None:
        host = self.collect()
        old_name = self.original.name if self.original else None
        try:
            validate_saved(host, self.existing, old_name=old_name)
        except VtuiError as exc:
            self.show_error(exc.message)
            return
        self.dismiss(host)

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(message)

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.show_error("")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConnectionsScreen(Screen):
    """The saved hosts and whether each is in the fleet right now."""

    CSS_PATH = "connections.tcss"
    BINDINGS = [
        Binding("a", "add", "Add", id="connections.add"),
        Binding("e", "edit", "Edit", id="connections.edit"),
        Binding("d,delete", "remove", "Remove", id="connections.remove"),
        Binding("c", "connect", "Connect", id="connections.connect"),
        Binding("escape", "close", "Back", id="connections.back"),
    ]

    def __init__(self, fleet: Fleet, *, asker: Asker | None = None,
                 ssh_config: str | Path | None = None):
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
        for label, key in (("Name", "name"), ("Target", "target"), ("libvirt", "libvirt"),
                           ("RO", "ro"), ("Auto", "auto"), ("Status", "status")):
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
            table.add_row(h.name, h.target, h.libvirt, "yes" if h.readonly else "",
                          "yes" if h.autoconnect else "", self.status_of(h.name), key=h.name)
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
            self.app.push_screen(HostForm(self.saved, current),
                                 lambda host: self._store(current.name, host))

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

        self.app.push_screen(ConfirmScreen(
            f"Remove saved host {current.name}?",
            f"Forgets {current.name} ({current.target}) in {config.hosts_path()}. "
            "A connected host stays connected until vtui exits.", yes="Remove"), answered)

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
                host = add_target(self.fleet, current.name, asker=self.asker or AppAsker(self.app),
                                  ssh_config=self.ssh_config, saved=self.saved)
        except VtuiError as exc:
            self.say(exc.message, error=True)
            return
        self.say(f"connecting to {current.name}...")
        # An app worker: the connection goes on when this screen is closed.
        self.app.run_worker(self._connect(host), group="connect", exit_on_error=False)

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
