"""A keyed table drawn line by line, for lists that may hold thousands of rows (saved
hosts, volumes, networks, devices): only the lines on screen are rendered, so adding,
changing or removing a row costs the same with 10 rows or 10,000.

Cells are plain text, shown literally (names and paths are never markup) and measured
in terminal cells. Columns have fixed widths; the last one takes what is left. A row may
carry a Rich style (dim for something unavailable, red for a failure).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from .cells import fit

GAP = 2


@dataclass(frozen=True, slots=True)
class TableColumn:
    key: str
    label: str
    width: int  # cells
    right: bool = False  # numbers align right


class RowTable(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    RowTable { background: $surface; }
    RowTable > .row-table--header { text-style: bold; background: $panel; }
    RowTable > .row-table--cursor { background: $accent 60%; }
    RowTable:blur > .row-table--cursor { background: $accent 30%; }
    """
    COMPONENT_CLASSES = {"row-table--header", "row-table--cursor"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="rows.up"),
        Binding("down", "move(1)", "Down", show=False, id="rows.down"),
        Binding("pageup", "page(-1)", "Page up", show=False, id="rows.page_up"),
        Binding("pagedown", "page(1)", "Page down", show=False, id="rows.page_down"),
        Binding("home", "jump(0)", "First", show=False, id="rows.first"),
        Binding("end", "jump(-1)", "Last", show=False, id="rows.last"),
        Binding("enter", "choose", "Open", show=False, id="rows.choose"),
    ]

    class Highlighted(Message):
        """The cursor moved to another row (key None: the table is empty)."""

        def __init__(self, table: RowTable, key: str | None):
            super().__init__()
            self.table, self.key = table, key

    class Selected(Message):
        """Enter (or a double click) on a row."""

        def __init__(self, table: RowTable, key: str):
            super().__init__()
            self.table, self.key = table, key

    def __init__(self, columns: Sequence[TableColumn], **kwargs):
        super().__init__(**kwargs)
        self.columns = list(columns)
        self._cells: dict[str, list[str]] = {}
        self._styles: dict[str, str] = {}
        self._order: list[str] = []
        self._index: dict[str, int] = {}
        self.cursor_key: str | None = None

    # -- content -----------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self._order)

    @property
    def keys(self) -> list[str]:
        return list(self._order)

    def cells(self, key: str) -> list[str]:
        return list(self._cells[key])

    def set_rows(self, rows: Iterable[tuple[str, Sequence[str]]]) -> None:
        """Replace every row (in this order), keeping the cursor on its key if it stays."""
        self._cells = {key: [str(c) for c in cells] for key, cells in rows}
        self._styles = {k: v for k, v in self._styles.items() if k in self._cells}
        self._order = list(self._cells)
        self._reindex()

    def set_row(self, key: str, cells: Sequence[str], *, style: str | None = None) -> None:
        """Add a row at the end, or change one in place."""
        if key not in self._cells:
            self._order.append(key)
            self._index[key] = len(self._order) - 1
            self._cells[key] = [str(c) for c in cells]
            self._resize()
        else:
            self._cells[key] = [str(c) for c in cells]
        if style is not None:
            self._styles[key] = style
        self.refresh()

    def set_cell(self, key: str, column: str, value: str) -> None:
        index = next(i for i, c in enumerate(self.columns) if c.key == column)
        if self._cells[key][index] != value:
            self._cells[key][index] = value
            self.refresh()

    def set_style(self, key: str, style: str) -> None:
        if self._styles.get(key, "") != style:
            self._styles[key] = style
            self.refresh()

    def remove_row(self, key: str) -> None:
        if key not in self._cells:
            return
        row = self._index[key]
        del self._cells[key]
        self._styles.pop(key, None)
        self._order.pop(row)
        if self.cursor_key == key:
            self.cursor_key = self._order[min(row, len(self._order) - 1)] if self._order else None
            self.post_message(self.Highlighted(self, self.cursor_key))
        self._reindex()

    def _reindex(self) -> None:
        self._index = {key: i for i, key in enumerate(self._order)}
        if self.cursor_key not in self._index:
            self.cursor_key = self._order[0] if self._order else None
            self.post_message(self.Highlighted(self, self.cursor_key))
        self._resize()
        self._scroll_to_cursor()
        self.refresh()

    def _resize(self) -> None:
        width = sum(c.width + GAP for c in self.columns)
        self.virtual_size = Size(width, len(self._order) + 1)

    # -- cursor --------------------------------------------------------------------------
    @property
    def cursor_row(self) -> int:
        return self._index.get(self.cursor_key, 0) if self.cursor_key is not None else 0

    def select(self, key: str) -> None:
        if key in self._index and key != self.cursor_key:
            self.cursor_key = key
            self._scroll_to_cursor()
            self.refresh()
            self.post_message(self.Highlighted(self, key))

    def select_row(self, row: int) -> None:
        if self._order:
            self.select(self._order[max(0, min(row, len(self._order) - 1))])

    def action_move(self, delta: int) -> None:
        self.select_row(self.cursor_row + delta)

    def action_page(self, direction: int) -> None:
        self.select_row(self.cursor_row + direction * max(self._visible_rows() - 1, 1))

    def action_jump(self, row: int) -> None:
        self.select_row(row if row >= 0 else len(self._order) - 1)

    def action_choose(self) -> None:
        if self.cursor_key is not None:
            self.post_message(self.Selected(self, self.cursor_key))

    def _visible_rows(self) -> int:
        return max(self.scrollable_content_region.height - 1, 1)  # minus the header

    def _scroll_to_cursor(self) -> None:
        row, top, visible = self.cursor_row, round(self.scroll_y), self._visible_rows()
        if row < top:
            self.scroll_to(y=row, animate=False, immediate=True)
        elif row >= top + visible:
            self.scroll_to(y=row - visible + 1, animate=False, immediate=True)

    def on_click(self, event: Click) -> None:
        if event.y >= 1:
            self.select_row(round(self.scroll_y) + event.y - 1)
            if event.chain > 1:
                self.action_choose()

    # -- drawing -------------------------------------------------------------------------
    def _line(self, cells: Sequence[str], style: Style) -> Strip:
        width = self.size.width
        segments = []
        used = 0
        for i, (column, text) in enumerate(zip(self.columns, cells)):
            last = i == len(self.columns) - 1
            cell_width = max(width - used, column.width) if last else column.width
            segments.append(Segment(fit(text, cell_width, right=column.right), style))
            if not last:
                segments.append(Segment(" " * GAP, style))
            used += cell_width + GAP
        scroll_x = self.scroll_offset.x
        return Strip(segments).crop(scroll_x, scroll_x + width).extend_cell_length(width, style)

    def render_line(self, y: int) -> Strip:
        if y == 0:
            header = self.get_component_rich_style("row-table--header")
            return self._line([c.label for c in self.columns], header)
        row = round(self.scroll_y) + y - 1
        if row >= len(self._order):
            return Strip.blank(self.size.width, self.rich_style)
        key = self._order[row]
        style = self.rich_style
        if key in self._styles:
            style = style + Style.parse(self._styles[key])
        if key == self.cursor_key:
            style = style + self.get_component_rich_style("row-table--cursor")
        return self._line(self._cells[key], style)
