"""The live guest table, drawn line by line: only the rows on screen are rendered.

It keeps every known guest, the filtered and sorted order of the shown ones, and the
selected guest's UUID (the selection follows the guest when rows move). A refresh
costs a re-sort only when the order can change, and a repaint of the visible lines,
so 10,000 guests cost about what 40 do on screen.

Guests can be marked (for an action on many at once). Marks are kept by (host, UUID):
they survive sorting, filtering and refreshes, and go with a guest that disappears.
While anything is marked, a two-cell gutter before the name shows which rows are.
"""

from __future__ import annotations

import time
from collections.abc import Iterable

from rich.cells import cell_len
from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click, Resize
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vtui.core.model import Guest

from .cells import fit
from .guest_columns import COLUMN_BY_KEY, COLUMNS, DESCENDING_FIRST, HOST_MAX, NAME_MAX

GAP = 1
MARK = "●"
GUTTER = 2  # cells before the name while anything is marked


class GuestTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    GuestTable { background: $surface; }
    GuestTable > .guest-table--header { text-style: bold; background: $panel; }
    GuestTable > .guest-table--cursor { background: $accent 60%; text-style: bold; }
    GuestTable:blur > .guest-table--cursor { background: $accent 30%; }
    GuestTable > .guest-table--marked { color: $warning; text-style: bold; }
    """
    COMPONENT_CLASSES = {"guest-table--header", "guest-table--cursor", "guest-table--marked"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="table.up"),
        Binding("down", "move(1)", "Down", show=False, id="table.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="table.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="table.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="table.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="table.last"),
        Binding("left", "scroll_left", "Left", show=False, id="table.left"),
        Binding("right", "scroll_right", "Right", show=False, id="table.right"),
        Binding("enter", "choose", "Details", show=False, id="table.choose"),
    ]

    class Highlighted(Message):
        """The selected guest changed (or None: nothing shown)."""

        def __init__(self, uuid: str | None):
            super().__init__()
            self.uuid = uuid

    class Selected(Message):
        """Enter (or a double click) on a guest: open its details."""

        def __init__(self, key: tuple[str, str]):
            super().__init__()
            self.host, self.uuid = key

    class MarksChanged(Message):
        """Guests were marked or unmarked (or a marked one went away)."""

        def __init__(self, count: int):
            super().__init__()
            self.count = count

    # Rows are redrawn when their guest changes; cells that follow the clock (uptime)
    # must move even when nothing else does, so the visible lines are redrawn this often.
    CLOCK_REDRAW = 20.0

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        # Rows are keyed by (host, UUID): a UUID can exist on two hosts (a migration in
        # flight, a cloned template).
        self.guests: dict[tuple[str, str], Guest] = {}  # every known guest
        self.order: list[tuple[str, str]] = []  # keys shown, in display order
        self._index: dict[tuple[str, str], int] = {}
        self.selected_key: tuple[str, str] | None = None
        self.sort_key = "name"
        self.sort_reverse = False
        self.text_filter = ""
        self.state_filter: str | None = None
        self.hidden_hosts: set[str] = set()  # collapsed in the host list
        self.offline_hosts: set[str] = set()  # disconnected: rows drawn dimmed
        self.marked: set[tuple[str, str]] = set()  # (host, UUID) of the marked guests
        self._widths = [c.width for c in COLUMNS]

    def on_mount(self) -> None:
        self.set_interval(self.CLOCK_REDRAW, self.refresh)  # only the visible lines

    # -- what is shown ---------------------------------------------------------------------
    def matches(self, guest: Guest) -> bool:
        if guest.host in self.hidden_hosts:
            return False
        if self.state_filter and guest.state != self.state_filter:
            return False
        if self.text_filter:
            needle = self.text_filter.lower()
            return needle in guest.name.lower() or needle in guest.host.lower()
        return True

    @property
    def row_count(self) -> int:
        return len(self.order)

    def sync(self, changed: Iterable[Guest], removed: Iterable[tuple[str, str]] = ()) -> None:
        """Apply one refresh: changed or new guests, and removed (host, UUID) keys."""
        guests = self.guests
        regroup = False
        for key in removed:
            if guests.pop(key, None) is not None:
                regroup = True
            if key in self.marked:
                self.marked.discard(key)
                self.post_message(self.MarksChanged(len(self.marked)))
        for guest in changed:
            key = (guest.host, guest.uuid)
            known = guests.get(key)
            guests[key] = guest
            shown = key in self._index
            # a new guest, or one that now enters or leaves the filter, changes the rows
            if known is None or shown != self.matches(guest):
                regroup = True
        if regroup:
            self.rebuild()
        elif self.sort_key not in ("name", "host"):
            self._resort()  # the numbers moved, so may the order
        else:
            self.refresh()

    def rebuild(self) -> None:
        """Re-apply filters and order to every guest (after a filter change)."""
        gone = self.marked - self.guests.keys()
        if gone:  # a host removed with its guests takes their marks along
            self.marked -= gone
            self.post_message(self.MarksChanged(len(self.marked)))
        self.order = [k for k, g in self.guests.items() if self.matches(g)]
        self._fit_columns()
        self._resort()

    def _fit_columns(self) -> None:
        shown = [self.guests[u] for u in self.order]
        for i, column in enumerate(COLUMNS):
            if column.key == "name":
                longest = max((cell_len(g.name) for g in shown), default=0)
                self._widths[i] = max(column.width, min(longest, NAME_MAX))
            elif column.key == "host":
                longest = max((cell_len(g.host) for g in shown), default=0)
                self._widths[i] = max(4, min(longest, HOST_MAX))

    def _resort(self) -> None:
        column = COLUMN_BY_KEY[self.sort_key]
        guests = self.guests

        # Ties stay in name order whichever way the column sorts: numbers are negated
        # for a descending sort (one pass, the hot case: by CPU every refresh); text
        # columns sorted descending take two stable passes.
        sort, order = column.sort, self.order
        if not self.sort_reverse:
            order.sort(key=lambda k: (sort(guests[k]), guests[k].name.lower(), k))
        elif column.numeric:
            order.sort(key=lambda k: (-sort(guests[k]), guests[k].name.lower(), k))
        else:
            order.sort(key=lambda k: (guests[k].name.lower(), k))
            order.sort(key=lambda k: sort(guests[k]), reverse=True)
        self._index = {key: i for i, key in enumerate(self.order)}
        self._resize()
        previous = self.selected_key
        if previous not in self._index:
            self.selected_key = self.order[0] if self.order else None
        self._scroll_to_cursor()
        self.refresh()
        if self.selected_key != previous:
            self.post_message(self.Highlighted(self.selected_uuid))

    def _resize(self) -> None:
        width = self._gutter() + sum(self._widths) + GAP * len(self._widths)
        self.virtual_size = Size(width, len(self.order) + 1)

    # -- marks -----------------------------------------------------------------------------
    def _gutter(self) -> int:
        return GUTTER if self.marked else 0

    def _marks_changed(self, before: int) -> None:
        if (before == 0) != (not self.marked):
            self._resize()  # the gutter came or went
        self.refresh()
        self.post_message(self.MarksChanged(len(self.marked)))

    def toggle_mark(self, key: tuple[str, str] | None = None) -> None:
        """Mark or unmark a guest (the selected one by default)."""
        key = key or self.selected_key
        if key is None or key not in self.guests:
            return
        before = len(self.marked)
        self.marked ^= {key}
        self._marks_changed(before)

    def mark(self, keys: Iterable[tuple[str, str]]) -> int:
        """Mark these guests; returns how many were not marked yet."""
        before = len(self.marked)
        self.marked |= {k for k in keys if k in self.guests}
        if len(self.marked) != before:
            self._marks_changed(before)
        return len(self.marked) - before

    def unmark(self, keys: Iterable[tuple[str, str]]) -> None:
        before = len(self.marked)
        self.marked.difference_update(keys)
        if len(self.marked) != before:
            self._marks_changed(before)

    def mark_shown(self) -> int:
        """Mark every guest shown now (what the filters let through)."""
        return self.mark(self.order)

    def clear_marks(self) -> int:
        before = len(self.marked)
        if before:
            self.marked.clear()
            self._marks_changed(before)
        return before

    def marked_guests(self) -> list[Guest]:
        """The marked guests, shown ones first in display order, then hidden ones."""
        shown = [self.guests[k] for k in self.order if k in self.marked]
        hidden = [self.guests[k] for k in self.marked if k not in self._index]
        return shown + sorted(hidden, key=lambda g: (g.host, g.name.lower()))

    # -- order and selection ---------------------------------------------------------------
    def set_sort(self, key: str, reverse: bool | None = None) -> None:
        if reverse is None:
            reverse = not self.sort_reverse if key == self.sort_key else key in DESCENDING_FIRST
        self.sort_key, self.sort_reverse = key, reverse
        self._resort()

    def sort_description(self) -> str:
        return f"{COLUMN_BY_KEY[self.sort_key].label}{'↓' if self.sort_reverse else '↑'}"

    @property
    def cursor_row(self) -> int:
        return self._index.get(self.selected_key, 0) if self.selected_key else 0

    @property
    def selected_uuid(self) -> str | None:
        return self.selected_key[1] if self.selected_key else None

    @property
    def selected_guest(self) -> Guest | None:
        return self.guests.get(self.selected_key) if self.selected_key else None

    def select(self, key: tuple[str, str]) -> None:
        if key in self._index and key != self.selected_key:
            self.selected_key = key
            self._scroll_to_cursor()
            self.refresh()
            self.post_message(self.Highlighted(key[1]))

    def select_row(self, row: int) -> None:
        if self.order:
            self.select(self.order[max(0, min(row, len(self.order) - 1))])

    def action_move(self, delta: int) -> None:
        self.select_row(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.select_row(self.cursor_row + direction * max(self.size.height - 2, 1))

    def action_jump(self, row: int) -> None:
        self.select_row(row if row >= 0 else len(self.order) - 1)

    def _scroll_to_cursor(self) -> None:
        # the header line is always shown; a horizontal scrollbar hides the last line
        visible = max(self.scrollable_content_region.height - 1, 1)
        row, top = self.cursor_row, round(self.scroll_y)
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def action_choose(self) -> None:
        if self.selected_key is not None:
            self.post_message(self.Selected(self.selected_key))

    def on_resize(self, _event: Resize) -> None:
        # the table shrinks when the host panel above it grows (facts arrive) or the
        # terminal does: the selected guest must stay in view all the same
        self._scroll_to_cursor()

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self.select_row(round(self.scroll_y) + event.y - 1)
            if event.chain > 1:
                self.action_choose()

    # -- drawing ---------------------------------------------------------------------------
    def _line(self, cells: list[tuple[str, str]], base: Style, gutter: str = "") -> Strip:
        """One line: the name column (and the marks' gutter) stays put, the others
        scroll sideways (a phone's 80 columns cannot show them all, and a row without
        its name means nothing). Widths are terminal cells: wide characters do not
        shift the columns after."""
        scroll_x, width = self.scroll_offset.x, self.size.width
        segments = []
        if self.marked:
            segments.append(Segment(fit(gutter, GUTTER), base))
        for (text, style), cells_wide, column in zip(cells, self._widths, COLUMNS):
            text = fit(text, cells_wide, right=column.right) + " " * GAP
            segments.append(Segment(text, base + Style.parse(style) if style else base))
        fixed = 2 if self.marked else 1
        name, rest = Strip(segments[:fixed]), Strip(segments[fixed:])
        rest = rest.crop(scroll_x, scroll_x + max(width - name.cell_length, 0))
        return Strip.join([name, rest]).crop(0, width).extend_cell_length(width, base)

    def render_line(self, y: int) -> Strip:
        scroll_y = self.scroll_offset.y
        width = self.size.width
        if y == 0:
            style = self.get_component_rich_style("guest-table--header")
            return self._line([(c.label, "") for c in COLUMNS], style)
        row = scroll_y + y - 1
        if row >= len(self.order):
            return Strip.blank(width, self.rich_style)
        key = self.order[row]
        guest = self.guests[key]
        base = self.rich_style
        if guest.host in self.offline_hosts:
            base = base + Style(dim=True, italic=True)
        marked = key in self.marked
        if marked:
            base = base + self.get_component_rich_style("guest-table--marked")
        if key == self.selected_key:
            base = base + self.get_component_rich_style("guest-table--cursor")
        now = time.time()
        return self._line([c.cell(guest, now) for c in COLUMNS], base, MARK if marked else "")

    def row_text(self, row: int) -> list[str]:
        """The plain cells of a shown row, as drawn (for tests and copy)."""
        guest = self.guests[self.order[row]]
        now = time.time()
        return [c.cell(guest, now)[0] for c in COLUMNS]
