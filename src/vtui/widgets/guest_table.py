"""The live guest table: rows keyed by UUID, updated cell by cell.

Each refresh renders a row's cells and compares them with what the table shows;
only cells that differ are updated (inside one batch_update), rows are added and
removed by key, and the selection follows the guest, not the row number.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rich.text import Text
from textual.widgets import DataTable

from vtui.core import units
from vtui.core.model import Guest
from vtui.core.states import CRASHED, PAUSED, RUNNING, SHUTOFF

STATE_STYLE = {RUNNING: "green", PAUSED: "yellow", CRASHED: "bold red", SHUTOFF: "dim"}


class NameCell(Text):
    """The name cell carries its guest's UUID so the public sort() can find the guest."""

    uuid: str


def _io(a: float | None, b: float | None) -> str:
    if a is None and b is None:
        return "-"
    return f"{units.size(a)}/{units.size(b)}"


def _memory(g: Guest) -> str:
    assigned = units.kib(g.memory_kib)
    if g.memory_used_kib is None or not g.active:
        return assigned
    return f"{units.kib(g.memory_used_kib)}/{assigned}"


def _uptime(g: Guest, now: float) -> Text:
    if g.active:
        return Text(units.uptime(g.started_at, now))
    return Text(g.reason or "-", style="dim")


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    render: Callable[[Guest, float], object]
    sort: Callable[[Guest], object]


def _num(value):
    return -1.0 if value is None else value


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", lambda g, _: g.name, lambda g: g.name.lower()),
    Column("state", "State", lambda g, _: Text(g.state, style=STATE_STYLE.get(g.state, "")),
           lambda g: g.state),
    Column("cpu", "CPU%", lambda g, _: Text(units.percent(g.cpu_pct), justify="right"),
           lambda g: _num(g.cpu_pct)),
    Column("mem", "Mem used/set", lambda g, _: Text(_memory(g), justify="right"),
           lambda g: g.memory_kib),
    Column("vcpus", "vCPU", lambda g, _: Text(str(g.vcpus or "-"), justify="right"),
           lambda g: g.vcpus),
    Column("disk", "Disk R/W", lambda g, _: _io(g.disk_rd_bps, g.disk_wr_bps),
           lambda g: _num(g.disk_rd_bps) + _num(g.disk_wr_bps)),
    Column("net", "Net RX/TX", lambda g, _: _io(g.net_rx_bps, g.net_tx_bps),
           lambda g: _num(g.net_rx_bps) + _num(g.net_tx_bps)),
    Column("uptime", "Uptime/why", _uptime, lambda g: -(g.started_at or 0) if g.active else 1),
    Column("host", "Host", lambda g, _: g.host, lambda g: g.host.lower()),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Columns where bigger is more interesting sort descending first, as in top.
DESCENDING_FIRST = {"cpu", "mem", "vcpus", "disk", "net"}


class GuestTable(DataTable):
    """A DataTable of guests. Feed it with sync(); ask it for the selected guest."""

    def __init__(self, **kwargs):
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)
        self.guests: dict[str, Guest] = {}        # every known guest, shown or filtered out
        self._shown: dict[str, tuple] = {}        # uuid -> cells currently in the table
        self.sort_key = "name"
        self.sort_reverse = False
        self.text_filter = ""
        self.state_filter: str | None = None

    def on_mount(self) -> None:
        for column in COLUMNS:
            self.add_column(column.label, key=column.key)

    # -- what is shown ---------------------------------------------------------------------
    def matches(self, guest: Guest) -> bool:
        if self.state_filter and guest.state != self.state_filter:
            return False
        if self.text_filter:
            needle = self.text_filter.lower()
            return needle in guest.name.lower() or needle in guest.host.lower()
        return True

    def _cells(self, guest: Guest, now: float) -> tuple:
        cells = [c.render(guest, now) for c in COLUMNS]
        name = NameCell(guest.name)
        name.uuid = guest.uuid
        cells[0] = name
        return tuple(cells)

    @staticmethod
    def _same(a, b) -> bool:
        if isinstance(a, Text) and isinstance(b, Text):
            return a.plain == b.plain and a.style == b.style
        return a == b

    def sync(self, changed: Iterable[Guest], removed: Iterable[str] = ()) -> None:
        """Apply one refresh: changed/new guests and removed UUIDs."""
        now = time.time()
        structure = False
        was_empty = not self.row_count
        with self.app.batch_update():
            for uuid in removed:
                self.guests.pop(uuid, None)
                if self._shown.pop(uuid, None) is not None:
                    self.remove_row(uuid)
                    structure = True
            for guest in changed:
                self.guests[guest.uuid] = guest
                structure |= self._sync_row(guest, now)
            if structure or self.sort_key not in ("name", "host"):
                self._resort()
            if was_empty and self.row_count:
                self.move_cursor(row=0, animate=False)

    def _sync_row(self, guest: Guest, now: float) -> bool:
        uuid = guest.uuid
        old = self._shown.get(uuid)
        if not self.matches(guest):
            if old is not None:
                del self._shown[uuid]
                self.remove_row(uuid)
                return True
            return False
        cells = self._cells(guest, now)
        if old is None:
            self.add_row(*cells, key=uuid)
            self._shown[uuid] = cells
            return True
        for column, new, was in zip(COLUMNS, cells, old):
            if not self._same(new, was):
                self.update_cell(uuid, column.key, new)
        self._shown[uuid] = cells
        return False

    def rebuild(self) -> None:
        """Re-evaluate the filters for every guest (after the filter changed)."""
        selected = self.selected_uuid
        self.clear()
        self._shown.clear()
        now = time.time()
        with self.app.batch_update():
            for guest in self.guests.values():
                if self.matches(guest):
                    cells = self._cells(guest, now)
                    self.add_row(*cells, key=guest.uuid)
                    self._shown[guest.uuid] = cells
            self._resort(selected)

    # -- order and selection ---------------------------------------------------------------
    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        if reverse is None:
            if key == self.sort_key:
                reverse = not self.sort_reverse
            else:
                reverse = key in DESCENDING_FIRST
        self.sort_key, self.sort_reverse = key, reverse
        self._resort()

    def _resort(self, selected: str | None = None) -> None:
        selected = selected or self.selected_uuid
        column = COLUMN_BY_KEY[self.sort_key]
        guests = self.guests

        def sort_value(cell: NameCell):
            guest = guests[cell.uuid]
            return (column.sort(guest), guest.name.lower())

        if self.row_count:
            self.sort("name", key=sort_value, reverse=self.sort_reverse)
        if selected is not None and selected in self._shown:
            self.move_cursor(row=self.get_row_index(selected), animate=False)

    @property
    def selected_uuid(self) -> str | None:
        if not self.row_count:
            return None
        try:
            row_key, _ = self.coordinate_to_cell_key(self.cursor_coordinate)
        except Exception:  # cursor outside the table while rows change
            return None
        return row_key.value

    @property
    def selected_guest(self) -> Guest | None:
        uuid = self.selected_uuid
        return self.guests.get(uuid) if uuid else None

    def sort_description(self) -> str:
        arrow = "↓" if self.sort_reverse else "↑"
        return f"{COLUMN_BY_KEY[self.sort_key].label}{arrow}"
