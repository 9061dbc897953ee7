"""The main screen's keys: which ones it has, and which apply now (the footer shows
those; each gated key keeps a hidden twin that says why it does not apply)."""

from __future__ import annotations

from textual.actions import parse as parse_action
from textual.binding import Binding

from vtui.core.guests.clone import CLONE
from vtui.core.guests.lifecycle import ACTIONS, refusal
from vtui.core.guests.rename import state_refusal
from vtui.core.host import HostStatus

# Actions whose binding shows only when it applies to the selected guest.
GATED = {"guest", "delete", "toggle_autostart", "console", "peek", "migrate", "create"}
GATED |= {"snapshots", "clone", "rename"}
# What a destructive action loses, said in the confirmation.
LOSSES = {
    "reset": "Like pressing the reset button: anything the guest has not written to disk is lost.",
    "destroy": "Like pulling the power cord: anything the guest has not written to disk is "
    "lost and its filesystems may need a check.",
}

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


# The main screen's keys. Guest actions are gated: the footer shows those that apply
# to the selected guest (see FleetKeys.check_action), each with its hidden twin.
FLEET_BINDINGS = [
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


class FleetKeys:
    """Mixin of FleetScreen: its bindings and the rules that hide the ones that do not
    apply to the selected guest (or to the marked ones)."""

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
