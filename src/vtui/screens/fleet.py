"""The main screen: host panel, live guest table, CPU history, status line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Input, Sparkline, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.lifecycle import ACTIONS, delete_guest, refusal, run_action, storage_of
from vtui.core.host import Change, Host, HostStatus
from vtui.core.model import Guest
from vtui.core.states import FILTER_STATES
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.host import HostScreen
from vtui.widgets.guest_columns import COLUMNS
from vtui.widgets.guest_table import GuestTable
from vtui.widgets.host_list import HostList
from vtui.widgets.host_panel import HostPanel

# What a destructive action loses, said in the confirmation.
LOSSES = {
    "reset": "Like pressing the reset button: anything the guest has not written to disk is lost.",
    "destroy": "Like pulling the power cord: anything the guest has not written to disk is "
    "lost and its filesystems may need a check.",
}


class FleetScreen(Screen):
    CSS_PATH = "fleet.tcss"
    BINDINGS = [
        Binding("s", "guest('start')", "Start", id="guest.start"),
        Binding("d", "guest('shutdown')", "Shut down", id="guest.shutdown"),
        Binding("r", "guest('reboot')", "Reboot", id="guest.reboot"),
        Binding("R", "guest('reset')", "Reset", id="guest.reset", show=False),
        Binding("F", "guest('destroy')", "Force off", id="guest.destroy"),
        Binding("p", "guest('suspend')", "Pause", id="guest.suspend"),
        Binding("u", "guest('resume')", "Resume", id="guest.resume"),
        Binding("w", "guest('managedsave')", "Save", id="guest.managedsave", show=False),
        Binding("a", "toggle_autostart", "Autostart", id="guest.autostart", show=False),
        Binding("D,delete", "delete", "Delete", id="guest.delete", show=False),
        Binding("P", "sort('cpu')", "Sort CPU", id="sort.cpu", show=False),
        Binding("M", "sort('mem')", "Sort mem", id="sort.mem", show=False),
        Binding("N", "sort('name')", "Sort name", id="sort.name", show=False),
        Binding("o", "sort_menu", "Sort", id="sort.menu"),
        Binding("slash", "filter", "Filter", id="filter.text"),
        Binding("f", "state_menu", "State", id="filter.state"),
        Binding("i", "host_details", "Host", id="host.details"),
        Binding("c", "console", "Console", id="guest.console"),
        Binding("g", "peek", "Screen", id="guest.peek", show=False),
        Binding("m", "migrate", "Migrate", id="guest.migrate"),
        Binding("J", "jobs", "Jobs", id="app.jobs", show=False),
        Binding("O", "consoles", "Consoles", id="app.consoles", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear", show=False),
    ]

    def __init__(self, fleet: Fleet):
        super().__init__()
        self.fleet = fleet
        self.last_event = ""
        self._pending: dict[str, tuple[set[str], set[str]]] = {}  # while hidden

    def compose(self) -> ComposeResult:
        yield HostPanel(id="host-panel")
        yield HostList(id="host-list")
        yield GuestTable(id="guests")
        with Horizontal(id="history"):
            yield Static("guest CPU", id="guest-cpu-label", classes="label")
            yield Sparkline([], id="guest-cpu", summary_function=max)
            yield Static("host CPU", id="host-cpu-label", classes="label")
            yield Sparkline([], id="host-cpu", summary_function=max)
        yield Input(
            placeholder="filter by name or host (Enter to apply, Esc to clear)", id="filter"
        )
        yield Static("", id="status")
        yield Footer()

    @property
    def table(self) -> GuestTable:
        return self.query_one(GuestTable)

    def on_mount(self) -> None:
        self.query_one("#filter").display = False
        self.table.focus()
        self.refresh_all()

    # -- feeding from the core ---------------------------------------------------------------
    def refresh_all(self) -> None:
        self.table.sync(list(self.fleet.guests()))
        self._show_hosts()
        self._show_status()

    def apply_change(self, change: Change) -> None:
        host = change.host
        if change.event:
            self.last_event = f"{host.name}: {change.event}"
        if not self.is_current:
            # Hidden behind another screen: remember what changed, draw nothing.
            changed, removed = self._pending.setdefault(host.name, (set(), set()))
            changed |= change.guests
            removed |= change.removed
            return
        if change.guests or change.removed:
            self._sync_host(host, change.guests, change.removed)
        if change.host_changed:
            self._show_hosts()
        self._show_history()
        self._show_status()

    def _sync_host(self, host: Host, changed: set[str], removed: set[str]) -> None:
        """Hand one host's changed and removed UUIDs to the table."""
        self.table.sync(
            [host.guests[u] for u in changed if u in host.guests], [(host.name, u) for u in removed]
        )

    def on_screen_suspend(self) -> None:
        # Nobody sees the numbers now: stop sampling (lifecycle events still arrive),
        # except for a host whose details screen is what replaced us.
        shown = getattr(self.app.screen, "host", None)
        for host in self.fleet.hosts.values():
            if host is not shown:
                host.paused = True

    def on_screen_resume(self) -> None:
        collapsed = self.table.hidden_hosts
        for host in self.fleet.hosts.values():
            host.paused = host.name in collapsed
        pending, self._pending = self._pending, {}
        for name, (changed, removed) in pending.items():
            host = self.fleet.hosts.get(name)
            if host is not None:
                self._sync_host(host, changed, removed)
        self._show_hosts()
        self._show_history()
        self._show_status()

    def _show_hosts(self) -> None:
        hosts = list(self.fleet.hosts.values())
        many = len(hosts) > 1
        host_list = self.query_one(HostList)
        host_list.display = many
        self.query_one(HostPanel).display = not many
        if many:
            host_list.show(hosts)
        else:
            self._show_host()
        offline = {h.name for h in hosts if h.status is not HostStatus.CONNECTED}
        if offline != self.table.offline_hosts:
            self.table.offline_hosts = offline
            self.table.refresh()

    def action_host_details(self) -> None:
        host_list = self.query_one(HostList)
        host = host_list.selected if host_list.has_focus else self.selected_host()
        if host is not None:
            self.app.push_screen(HostScreen(host))

    def on_host_list_selected(self, event: HostList.Selected) -> None:
        self.app.push_screen(HostScreen(event.host))

    def on_host_list_collapsed(self, event: HostList.Collapsed) -> None:
        event.host.paused = event.collapsed  # a collapsed host is not sampled
        self.table.hidden_hosts = set(self.query_one(HostList).collapsed)
        self.table.rebuild()
        self._show_status()

    def selected_host(self) -> Host | None:
        guest = self.table.selected_guest
        if guest is not None and guest.host in self.fleet.hosts:
            return self.fleet.hosts[guest.host]
        return next(iter(self.fleet.hosts.values()), None)

    def _show_host(self) -> None:
        panel = self.query_one(HostPanel)
        if panel.display:
            panel.show(self.selected_host())

    def _show_history(self) -> None:
        host = self.selected_host()
        guest = self.table.selected_guest
        guest_history = []
        if host is not None and guest is not None:
            guest_history = list(host.guest_cpu_history.get(guest.uuid, ()))
        self.query_one("#guest-cpu", Sparkline).data = guest_history
        self.query_one("#host-cpu", Sparkline).data = list(host.cpu_history) if host else []
        label = f"{guest.name[:14]} CPU" if guest else "guest CPU"
        self.query_one("#guest-cpu-label", Static).update(label)

    def _show_status(self) -> None:
        table = self.table
        parts = [
            f"{table.row_count}/{len(table.guests)} guests",
            f"sort {table.sort_description()}",
        ]
        if table.text_filter:
            parts.append(f"filter '{table.text_filter}'")
        if table.state_filter:
            parts.append(f"state {table.state_filter}")
        if table.hidden_hosts:
            parts.append(f"{len(table.hidden_hosts)} host(s) collapsed")
        if self.last_event:
            parts.append(self.last_event)
        self.query_one("#status", Static).update("  ·  ".join(parts))

    def on_guest_table_highlighted(self, _event: GuestTable.Highlighted) -> None:
        self._show_host()
        self._show_history()

    # -- sorting and filtering -----------------------------------------------------------------
    def action_sort(self, key: str) -> None:
        self.table.set_sort(key)
        self._show_status()

    def action_sort_menu(self) -> None:
        choices = [(c.key, c.label) for c in COLUMNS]

        def chosen(key: str | None) -> None:
            if key:
                self.action_sort(key)

        self.app.push_screen(
            ChoiceScreen("Sort by (again to reverse)", choices, self.table.sort_key), chosen
        )

    def action_state_menu(self) -> None:
        choices = [("all", "all states")] + [(s, s) for s in FILTER_STATES]

        def chosen(state: str | None) -> None:
            if state is not None:
                self.table.state_filter = None if state == "all" else state
                self.table.rebuild()
                self._show_status()

        self.app.push_screen(
            ChoiceScreen("Show guests in state", choices, self.table.state_filter or "all"), chosen
        )

    def action_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = True
        box.value = self.table.text_filter
        box.focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "filter":
            self.table.text_filter = event.value.strip()
            self.table.rebuild()
            self._show_status()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id == "filter":
            event.input.display = False
            self.table.focus()

    def action_clear_filter(self) -> None:
        box = self.query_one("#filter", Input)
        box.display = False
        if self.table.text_filter or self.table.state_filter:
            box.value = ""
            self.table.text_filter, self.table.state_filter = "", None
            self.table.rebuild()
            self._show_status()
        self.table.focus()

    # -- actions on the selected guest ---------------------------------------------------------
    def _target(self) -> tuple[Host, Guest] | None:
        guest = self.table.selected_guest
        if guest is None:
            self.notify("no guest selected", severity="warning")
            return None
        host = self.fleet.hosts.get(guest.host)
        if host is None:
            self.notify(f"{guest.host}: host is gone", severity="error")
            return None
        return host, guest

    def action_guest(self, action_id: str) -> None:
        target = self._target()
        if target is None:
            return
        host, guest = target
        action = ACTIONS[action_id]
        why = refusal(action, guest, host.readonly)
        if why:
            self.notify(why, severity="warning")
            return
        if not action.destructive:
            self._run(host, guest, action_id)
            return
        body = f"{action.label.capitalize()} {guest.name} on {host.name}?\n{LOSSES[action_id]}"

        def answered(result: tuple[bool, bool] | None) -> None:
            if result and result[0]:
                self._run(host, guest, action_id)

        self.app.push_screen(
            ConfirmScreen(
                f"{action.label.capitalize()} {guest.name}", body, yes=action.label.capitalize()
            ),
            answered,
        )

    def action_console(self) -> None:
        from vtui.screens.console import open_console

        target = self._target()
        if target is None:
            return
        try:
            open_console(self.app, *target)
        except VtuiError as exc:
            self.notify(str(exc), severity="warning")

    def action_peek(self) -> None:
        from vtui.screens.peek import open_peek

        target = self._target()
        if target is not None:
            try:
                open_peek(self.app, *target)
            except VtuiError as exc:
                self.notify(str(exc), severity="warning", markup=False)

    def action_migrate(self) -> None:
        from vtui.screens.migration.form import MigrateScreen

        target = self._target()
        if target is None:
            return
        host, guest = target
        if host.readonly:
            self.notify(
                f"cannot migrate {guest.name}: the connection to {host.name} is "
                "read-only (started with --readonly)",
                severity="warning",
            )
            return
        self.app.push_screen(MigrateScreen(self.fleet, guest))

    def action_jobs(self) -> None:
        from vtui.screens.migration.jobs import JobsScreen

        self.app.push_screen(JobsScreen())

    def action_consoles(self) -> None:
        from vtui.screens.console import open_consoles

        screens = {s.uuid: s for s in open_consoles(self.app)}
        if not screens:
            self.notify("no console is open (c opens the selected guest's)")
            return
        choices = [(uuid, f"{s.guest_name} on {s.host.name}") for uuid, s in screens.items()]

        def chosen(uuid: str | None) -> None:
            if uuid in screens:
                self.app.push_screen(screens[uuid])

        self.app.push_screen(ChoiceScreen("Open consoles", choices), chosen)

    def action_toggle_autostart(self) -> None:
        target = self._target()
        if target is not None:
            action_id = "autostart_off" if target[1].autostart else "autostart_on"
            self.action_guest(action_id)

    def _run(self, host: Host, guest: Guest, action_id: str) -> None:
        async def work():
            try:
                await run_action(host, guest, action_id)
            except VtuiError as exc:
                self.notify(str(exc), severity="error", timeout=8)
                return
            self.notify(f"{host.name}: {ACTIONS[action_id].label}: {guest.name}", timeout=3)
            if action_id.startswith("autostart"):
                self.table.sync([guest])

        self.run_worker(work(), group="actions", exit_on_error=False)

    def action_delete(self) -> None:
        target = self._target()
        if target is None:
            return
        host, guest = target
        why = refusal(ACTIONS["undefine"], guest, host.readonly)
        if why:
            self.notify(why, severity="warning")
            return
        self.run_worker(self._delete(host, guest), group="actions", exit_on_error=False)

    async def _delete(self, host: Host, guest: Guest) -> None:
        try:
            volumes = await storage_of(host, guest)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        body = (
            f"Delete guest {guest.name} from {host.name}?\nIts definition, snapshot "
            "metadata and managed save image are removed. This cannot be undone."
        )
        option = None
        if volumes:
            option = f"Also delete its {len(volumes)} storage volume(s): " + ", ".join(volumes)
        answer = await self.app.push_screen_wait(
            ConfirmScreen(f"Delete {guest.name}", body, yes="Delete", option=option)
        )
        if not answer or not answer[0]:
            return
        try:
            failures = await delete_guest(host, guest, volumes if answer[1] else [])
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=8)
            return
        for failure in failures:
            self.notify(f"{host.name}: volume not deleted: {failure}", severity="error")
        self.notify(f"{host.name}: deleted {guest.name}", timeout=3)
