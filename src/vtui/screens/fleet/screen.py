"""The main screen: host panel or host list, live guest table, CPU history, status line.
Its keys live in keys.py, what they do to guests in guest_actions.py."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Input, Sparkline, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.host import Change, Host, HostStatus
from vtui.core.states import FILTER_STATES
from vtui.failures import ReportsWorkerFailures
from vtui.screens.dialogs import ChoiceScreen, ConfirmScreen
from vtui.screens.fleet.guest_actions import GuestActions
from vtui.screens.fleet.keys import FLEET_BINDINGS, FleetKeys
from vtui.widgets.cells import clip
from vtui.widgets.guest_columns import COLUMNS
from vtui.widgets.guest_table import GuestTable
from vtui.widgets.host_list import HostList
from vtui.widgets.host_panel import HostPanel


class FleetScreen(ReportsWorkerFailures, FleetKeys, GuestActions, Screen):
    CSS_PATH = "fleet.tcss"
    BINDINGS = FLEET_BINDINGS

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

    def _sync_host(self, host: Host, changed: set[str], removed: set[str]) -> None:
        """Hand one host's changed and removed UUIDs to the table."""
        self.table.sync(
            [host.guests[u] for u in changed if u in host.guests], [(host.name, u) for u in removed]
        )

    def on_screen_suspend(self) -> None:
        # Nobody sees the numbers now: stop sampling (lifecycle events still arrive),
        # except for a host whose details screen is what replaced us.
        shown = getattr(self.app.screen, "host", None)
        self._focus_host()
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
            from vtui.screens.host import HostScreen  # (loaded on first use)

            self.app.push_screen(HostScreen(host, tab))

    def on_host_list_selected(self, event: HostList.Selected) -> None:
        from vtui.screens.host import HostScreen

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

    def _focus_host(self) -> None:
        """The host the user looks at reads its own numbers every sample: the one whose
        details screen is on top, else the selected guest's (its CPU graph is shown)."""
        shown = getattr(self.app.screen, "host", None)
        self.fleet.focus(shown if isinstance(shown, Host) else self.selected_host())

    def _show_history(self) -> None:
        host = self.selected_host()
        self._focus_host()
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

    def on_guest_table_highlighted(self, _event: GuestTable.Highlighted) -> None:
        self._show_host()
        self._show_history()
        self._refresh_keys()

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
