"""The main screen: host panel, live guest table, CPU history, status line."""

from __future__ import annotations

from textual.actions import parse as parse_action
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Sparkline, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.clone import CLONE
from vtui.core.guests.lifecycle import ACTIONS, delete_guest, refusal, run_action, storage_of
from vtui.core.guests.rename import state_refusal
from vtui.core.host import Change, Host, HostStatus
from vtui.core.model import Guest
from vtui.core.states import FILTER_STATES
from vtui.failures import ReportsWorkerFailures
from vtui.screens.bulk.marked import (
    bulk_autostart,
    bulk_delete,
    bulk_lifecycle,
    bulk_migrate,
    bulk_snapshot,
    mark_by_pattern,
)
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.host import HostScreen
from vtui.widgets.cells import clip
from vtui.widgets.guest_columns import COLUMNS
from vtui.widgets.guest_table import GuestTable
from vtui.widgets.host_list import HostList
from vtui.widgets.host_panel import HostPanel

# Actions whose binding shows only when it applies to the selected guest.
GATED = {"guest", "delete", "toggle_autostart", "console", "peek", "migrate", "create"}
# What a destructive action loses, said in the confirmation.
LOSSES = {
    "reset": "Like pressing the reset button: anything the guest has not written to disk is lost.",
    "destroy": "Like pulling the power cord: anything the guest has not written to disk is "
    "lost and its filesystems may need a check.",
}

GATED |= {"snapshots", "clone", "rename"}
# Actions that go to every marked guest while any is marked (screens/bulk/marked.py).
ON_MARKED = {"guest", "delete", "toggle_autostart", "migrate", "snapshots"}


def gated(key: str, action: str, label: str, binding_id: str, show: bool = True) -> list[Binding]:
    """A guest action's binding, and its hidden twin on the same key: when check_action
    hides the first (it does not apply to the selected guest), the twin runs the action
    anyway, which refuses with the reason instead of the key doing nothing."""
    return [
        Binding(key, action, label, id=binding_id, show=show),
        Binding(key, f"anyway({action!r})", label, id=binding_id, show=False),
    ]


class FleetScreen(ReportsWorkerFailures, Screen):
    CSS_PATH = "fleet.tcss"
    BINDINGS = [
        # Guest actions: the footer shows those that apply to the selected guest (see
        # check_action); each has a hidden twin on the same key that says why not.
        *gated("s", "guest('start')", "Start", "guest.start"),
        *gated("d", "guest('shutdown')", "Shutdown", "guest.shutdown"),
        *gated("r", "guest('reboot')", "Reboot", "guest.reboot", show=False),
        *gated("R", "guest('reset')", "Reset", "guest.reset", show=False),
        *gated("F", "guest('destroy')", "Force off", "guest.destroy", show=False),
        *gated("p", "guest('suspend')", "Pause", "guest.suspend"),
        *gated("u", "guest('resume')", "Resume", "guest.resume"),
        *gated("w", "guest('managedsave')", "Save", "guest.managedsave", show=False),
        *gated("a", "toggle_autostart", "Autostart", "guest.autostart", show=False),
        *gated("D,delete", "delete", "Delete", "guest.delete", show=False),
        *gated("c", "console", "Console", "guest.console"),
        *gated("g", "peek", "Screen", "guest.peek", show=False),
        *gated("m", "migrate", "Migrate", "guest.migrate"),
        *gated("n", "create", "New", "guest.create"),
        *gated("S", "snapshots", "Snapshots", "guest.snapshots", show=False),
        *gated("K", "clone", "Clone", "guest.clone", show=False),
        *gated("E", "rename", "Rename", "guest.rename", show=False),
        Binding("space", "toggle_mark", "Mark", id="marks.toggle", show=False),
        Binding("asterisk", "mark_shown", "Mark shown", id="marks.shown", show=False),
        Binding("plus", "mark_pattern", "Mark by pattern", id="marks.pattern", show=False),
        Binding("minus", "clear_marks", "Clear marks", id="marks.clear", show=False),
        Binding("P", "sort('cpu')", "Sort CPU", id="sort.cpu", show=False),
        Binding("M", "sort('mem')", "Sort mem", id="sort.mem", show=False),
        Binding("N", "sort('name')", "Sort name", id="sort.name", show=False),
        Binding("o", "sort_menu", "Sort", id="sort.menu", show=False),
        Binding("slash", "filter", "Filter", id="filter.text"),
        Binding("f", "state_menu", "State", id="filter.state", show=False),
        Binding("i", "host_details", "Host", id="host.details", show=False),
        Binding("J", "jobs", "Jobs", id="app.jobs", show=False),
        Binding("O", "consoles", "Consoles", id="app.consoles", show=False),
        Binding("escape", "clear_filter", "Clear filter", id="filter.clear", show=False),
    ]

    def __init__(self, fleet: Fleet):
        super().__init__()
        self.fleet = fleet
        self.last_event = ""
        self._pending: dict[str, tuple[set[str], set[str]]] = {}  # while hidden
        self._keys_for: tuple | None = None  # what the footer's keys were computed for

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
        yield Footer(compact=True)

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
        self._refresh_keys()

    def _refresh_keys(self) -> None:
        """Redraw the footer when what applies to the selected guest may have changed
        (its state, its host's link), not on every sample."""
        guest = self.table.selected_guest
        connected = sum(h.status is HostStatus.CONNECTED for h in self.fleet.hosts.values())
        now = None
        if guest is not None:
            host = self.fleet.hosts.get(guest.host)
            link = (host.status, host.readonly) if host is not None else None
            now = (guest.host, guest.uuid, guest.state, guest.persistent, guest.autostart, link)
        marks = bool(self.table.marked)
        if (now, connected, marks) != self._keys_for:
            self._keys_for = (now, connected, marks)
            self.refresh_bindings()

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
        # a host dropped from the fleet meanwhile takes its rows with it
        gone = [key for key in self.table.guests if key[0] not in self.fleet.hosts]
        if gone:
            self.table.sync([], gone)
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

    def action_host_details(self, tab: str = "overview") -> None:
        host_list = self.query_one(HostList)
        host = host_list.selected if host_list.has_focus else self.selected_host()
        if host is not None:
            self.app.push_screen(HostScreen(host, tab))

    def on_host_list_selected(self, event: HostList.Selected) -> None:
        self.app.push_screen(HostScreen(event.host))

    def on_host_list_retry(self, event: HostList.Retry) -> None:
        host = event.host

        async def retry() -> None:
            self.notify(f"{host.name}: connecting...", timeout=3)
            try:
                await host.connect()
            except VtuiError as exc:
                self.notify(str(exc), severity="error", timeout=10)
                return
            host.start()
            self.notify(f"{host.name}: connected, {len(host.guests)} guests", timeout=4)

        self.run_worker(retry(), description=f"connect to {host.name}", exit_on_error=False)

    def on_host_list_remove(self, event: HostList.Remove) -> None:
        host = event.host

        def remove() -> None:
            self.run_worker(
                self.fleet.remove(host.name),
                description=f"remove {host.name}",
                exit_on_error=False,
            )

        if host.status is not HostStatus.CONNECTED:
            remove()
            return
        self.app.push_screen(
            ConfirmScreen(
                f"Remove {host.name} from this session?",
                f"vtui disconnects from {host.name} and stops showing its guests (they keep "
                "running). A saved host stays saved: C connects it again.",
                yes="Remove",
            ),
            lambda answer: remove() if answer and answer[0] else None,
        )

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
        label = f"{clip(guest.name, 14)} CPU" if guest else "guest CPU"
        self.query_one("#guest-cpu-label", Static).update(Content(label))

    def _show_status(self) -> None:
        table = self.table
        parts = [
            f"{table.row_count}/{len(table.guests)} guests",
            f"sort {table.sort_description()}",
        ]
        if table.marked:
            parts.insert(1, f"{len(table.marked)} marked")
        if table.text_filter:
            parts.append(f"filter '{table.text_filter}'")
        if table.state_filter:
            parts.append(f"state {table.state_filter}")
        if table.hidden_hosts:
            parts.append(f"{len(table.hidden_hosts)} host(s) collapsed")
        if self.last_event:
            parts.append(self.last_event)
        self.query_one("#status", Static).update(Content("  ·  ".join(parts)))

    def on_guest_table_selected(self, _event: GuestTable.Selected) -> None:
        self.action_details()

    def action_details(self) -> None:
        from vtui.screens.guest import GuestScreen

        target = self._target()
        if target is not None:
            self.app.push_screen(GuestScreen(*target))

    def on_guest_table_highlighted(self, _event: GuestTable.Highlighted) -> None:
        self._show_host()
        self._show_history()
        self._refresh_keys()

    # -- which keys apply now (the footer shows those) ---------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action not in GATED:
            return True
        if action == "create":  # somewhere to create it
            return any(
                h.status is HostStatus.CONNECTED and not h.readonly
                for h in self.fleet.hosts.values()
            )
        if action in ON_MARKED and self.table.marked:
            return True  # the confirmation says which marked guests are skipped, and why
        guest = self.table.selected_guest
        host = self.fleet.hosts.get(guest.host) if guest is not None else None
        if guest is None or host is None:
            return False
        readonly = host.readonly
        if action == "guest":
            return refusal(ACTIONS[str(parameters[0])], guest, readonly) is None
        if action == "delete":
            return refusal(ACTIONS["undefine"], guest, readonly) is None
        if action == "toggle_autostart":
            return guest.persistent and not readonly
        if action in ("console", "peek"):
            return guest.active and not readonly
        if action == "snapshots":
            return True  # a read-only host still shows them
        if action == "clone":
            return refusal(CLONE, guest, readonly) is None
        if action == "rename":
            return state_refusal(host, guest) is None
        # migrate: somewhere to go, and a connection allowed to act
        return not readonly and any(
            h is not host and h.status is HostStatus.CONNECTED for h in self.fleet.hosts.values()
        )

    def action_anyway(self, action: str) -> None:
        """A gated action's key pressed where it does not apply: run it, to hear why not."""
        _namespace, name, parameters = parse_action(action)
        getattr(self, f"action_{name}")(*parameters)

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
        if self.table.marked:
            bulk_lifecycle(self, action_id, LOSSES.get(action_id, ""))
            return
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

        if self.table.marked:
            bulk_migrate(self)
            return
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

    def action_create(self) -> None:
        from vtui.screens.create import CreateScreen

        host = self.selected_host()
        usable = [h for h in self.fleet.hosts.values() if h.status is HostStatus.CONNECTED]
        if host not in usable:
            host = usable[0] if usable else None
        if host is None or host.readonly:
            why = (
                "no connected host"
                if host is None
                else f"the connection to {host.name} is read-only"
            )
            self.notify(f"cannot create a guest: {why}", severity="warning")
            return
        self.app.push_screen(CreateScreen(self.fleet, host))

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
        if self.table.marked:
            bulk_autostart(self)
            return
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

        self.run_worker(
            work(),
            group="actions",
            description=f"{ACTIONS[action_id].label} {guest.name} on {host.name}",
            exit_on_error=False,
        )

    def action_delete(self) -> None:
        if self.table.marked:
            bulk_delete(self)
            return
        target = self._target()
        if target is None:
            return
        host, guest = target
        why = refusal(ACTIONS["undefine"], guest, host.readonly)
        if why:
            self.notify(why, severity="warning")
            return
        self.run_worker(
            self._delete(host, guest),
            group="actions",
            description=f"delete {guest.name} on {host.name}",
            exit_on_error=False,
        )

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
            body += f"\nIts storage volumes ({len(volumes)}):"
            option = f"Also delete these {len(volumes)} volume(s) and the data on them"
        answer = await self.app.push_screen_wait(
            ConfirmScreen(f"Delete {guest.name}", body, yes="Delete", option=option, items=volumes)
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
        wanted = volumes if answer[1] else []
        gone = [v for v in wanted if not any(f.startswith(f"{v}: ") for f in failures)]
        volumes_note = f" and its volume(s) {', '.join(gone)}" if gone else ""
        self.notify(f"{host.name}: deleted {guest.name}{volumes_note}", timeout=6)

    # -- marks, snapshots, clone, rename ---------------------------------------------------
    def on_guest_table_marks_changed(self, _event: GuestTable.MarksChanged) -> None:
        self._show_status()
        self._refresh_keys()

    def action_toggle_mark(self) -> None:
        self.table.toggle_mark()
        self.table.action_move(1)  # on to the next: marking a run of guests is Space, Space...

    def action_mark_shown(self) -> None:
        added = self.table.mark_shown()
        self.notify(f"marked {added} more guest(s); {len(self.table.marked)} marked", timeout=3)

    def action_mark_pattern(self) -> None:
        mark_by_pattern(self)

    def action_clear_marks(self) -> None:
        cleared = self.table.clear_marks()
        if cleared:
            self.notify(f"{cleared} mark(s) cleared", timeout=3)

    def action_snapshots(self) -> None:
        if self.table.marked:
            bulk_snapshot(self)
        else:
            self.open_snapshots()

    def open_snapshots(self) -> None:
        """The selected guest's snapshots, marks or not."""
        from vtui.screens.snapshots import SnapshotsScreen

        target = self._target()
        if target is not None:
            self.app.push_screen(SnapshotsScreen(*target))

    def action_clone(self) -> None:
        from vtui.screens.clone import CloneScreen

        target = self._target()
        if target is None:
            return
        why = refusal(CLONE, target[1], target[0].readonly)
        if why:
            self.notify(why, severity="warning")
            return
        self.app.push_screen(CloneScreen(*target))

    def action_rename(self) -> None:
        from vtui.screens.rename import RenameScreen

        target = self._target()
        if target is None:
            return
        why = state_refusal(*target)
        if why:
            self.notify(why, severity="warning")
            return
        self.app.push_screen(RenameScreen(*target))
