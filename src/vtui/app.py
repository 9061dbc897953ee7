"""The Textual app: owns the fleet, routes core changes to the screen, reports errors."""

from __future__ import annotations

from collections.abc import Iterable

from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.lifecycle import ACTIONS, refusal
from vtui.core.host import Change, HostStatus
from vtui.screens.fleet import FleetScreen

NOTHING_ANSWERED = "No host answered. Check that libvirtd runs and the URI, or try: vtui --demo"


class VtuiApp(App):
    TITLE = "vtui"
    ENABLE_COMMAND_PALETTE = True
    BINDINGS = [
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("C", "connections", "Hosts", id="app.connections"),
    ]

    def __init__(
        self, fleet: Fleet, *, connect: bool = True, asker=None, notes: list[str] | None = None
    ):
        super().__init__()
        self.fleet = fleet
        self.asker = asker
        self._notes = notes or []
        self._connect_on_mount = connect
        self.fleet_screen = FleetScreen(fleet)
        fleet.subscribe(self._on_change)

    def on_mount(self) -> None:
        self.push_screen(self.fleet_screen)
        from vtui.screens.migration.jobs import notify_job_endings

        notify_job_endings(self)
        for note in self._notes:  # e.g. a broken saved-hosts file: said, not fatal
            self.notify(note, severity="warning", timeout=15)
        if self._connect_on_mount:
            self.run_worker(self.connect_hosts(), group="connect", exit_on_error=False)

    async def connect_hosts(self) -> None:
        failures = await self.fleet.connect_all()
        for failure in failures:
            self.notify(str(failure), severity="error", timeout=15)
        if failures and len(failures) == len(self.fleet.hosts):
            self.notify(NOTHING_ANSWERED, title="Nothing to show", severity="warning", timeout=30)

    def action_connections(self) -> None:
        from vtui.screens.connections import ConnectionsScreen

        if not isinstance(self.screen, ConnectionsScreen):
            self.push_screen(ConnectionsScreen(self.fleet, asker=self.asker))

    async def on_unmount(self) -> None:
        await self.fleet.close()

    def _on_change(self, change: Change) -> None:
        # Host changes are emitted on this app's asyncio loop, so it is safe to touch widgets.
        if change.error and change.host.status is not HostStatus.FAILED:
            self.notify(
                str(VtuiError(change.error, host=change.host.name)), severity="error", timeout=8
            )
        if self.fleet_screen.is_mounted:
            self.fleet_screen.apply_change(change)

    # -- command palette: the actions that apply to the selected guest --------------------------
    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if screen is not self.fleet_screen:
            return
        fs = self.fleet_screen
        guest = fs.table.selected_guest
        if guest is not None:
            host = self.fleet.hosts.get(guest.host)
            readonly = host.readonly if host else True
            for action in ACTIONS.values():
                if action.id == "undefine":
                    if refusal(action, guest, readonly) is None:
                        yield SystemCommand(
                            f"Delete {guest.name}",
                            "undefine the guest, optionally with its storage",
                            fs.action_delete,
                        )
                    continue
                if refusal(action, guest, readonly) is None:
                    yield SystemCommand(
                        f"{action.label.capitalize()} {guest.name}",
                        f"on {guest.host}",
                        lambda a=action.id: fs.action_guest(a),
                    )
        if guest is not None:
            yield SystemCommand(
                f"Migrate {guest.name}", "to another connected host", fs.action_migrate
            )
            yield SystemCommand(
                f"Console of {guest.name}", "serial console (Ctrl+] returns)", fs.action_console
            )
            yield SystemCommand(
                f"Screen of {guest.name}",
                "its display, and type on it (Ctrl+] returns)",
                fs.action_peek,
            )
        from vtui.screens.console import open_consoles

        for console in open_consoles(self):
            yield SystemCommand(
                f"Switch to console of {console.guest_name}",
                f"on {console.host.name}",
                lambda c=console: self.push_screen(c),
            )
        for key, label in (("cpu", "CPU"), ("mem", "memory"), ("name", "name")):
            yield SystemCommand(
                f"Sort by {label}", "in the guest table", lambda k=key: fs.action_sort(k)
            )
        yield SystemCommand(
            "Filter guests by state", "running, paused, shut off...", fs.action_state_menu
        )
        yield SystemCommand("Migration jobs", "progress, cancel, results", fs.action_jobs)
        yield SystemCommand(
            "Hosts and connections",
            "add, edit, remove, connect saved hosts",
            self.action_connections,
        )
        yield SystemCommand(
            "Host details", "facts and load of the selected guest's host", fs.action_host_details
        )
