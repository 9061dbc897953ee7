"""The results of an action on many guests: a line per guest (waiting, ok, or
libvirt's one-line reason), filled in as each ends; the summary on top."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from vtui.core.guests import BulkResult, BulkTarget
from vtui.screens.dialogs.frame import Dialog
from vtui.widgets.row_table import RowTable, TableColumn

COLUMNS = (
    TableColumn("guest", "Guest", 20),
    TableColumn("host", "Host", 10),
    TableColumn("result", "Result", 30),
)
STYLES = {"ok": "green", "failed": "red", "skipped": "yellow"}


def row_key(host: str, uuid: str) -> str:
    return f"{host}\0{uuid}"


class BulkResultsScreen(Dialog[None]):
    """Closing it does not stop the action: the rest goes on and ends in a notification."""

    DEFAULT_CSS = """
    BulkResultsScreen > .dialog { width: 110; height: 90%; }
    BulkResultsScreen #summary { height: auto; margin: 0 0 1 0; }
    BulkResultsScreen RowTable { height: 1fr; }
    BulkResultsScreen #detail { height: auto; max-height: 4; margin: 1 0 0 0; }
    BulkResultsScreen #hint { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close", id="results.close"),
        Binding("u", "unmark_done", "Unmark done", id="results.unmark"),
    ]

    def __init__(
        self,
        title: str,
        ready: list[BulkTarget],
        skipped: list[BulkResult],
        *,
        unmark: Callable[[list[tuple[str, str]]], None] | None = None,
    ):
        super().__init__()
        self.title_text = title
        self.ready = ready
        self.results: dict[str, BulkResult] = {}
        self.unmark = unmark
        self.finished = not ready
        for result in skipped:
            self.results[row_key(result.host, result.uuid)] = result

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            yield Static("", id="summary")
            yield RowTable(COLUMNS, id="results")
            yield Static("", id="detail")
            yield Static(
                "u: unmark the guests done (the failed stay marked) · esc: close", id="hint"
            )

    def on_mount(self) -> None:
        table = self.query_one(RowTable)
        for target in self.ready:
            key = row_key(target.host.name, target.guest.uuid)
            table.set_row(key, [target.guest.name, target.host.name, "waiting…"], style="dim")
        for key, result in self.results.items():
            self._show(table, key, result)
        table.focus()
        self._summarize()

    def add_result(self, result: BulkResult) -> None:
        key = row_key(result.host, result.uuid)
        self.results[key] = result
        if self.is_mounted:
            table = self.query_one(RowTable)
            self._show(table, key, result)
            self._summarize()
            if table.cursor_key == key:
                self._show_detail(key)

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        self._show_detail(event.key)

    def _show_detail(self, key: str | None) -> None:
        """The highlighted guest's whole line: a narrow screen cuts the column short."""
        result = self.results.get(key) if key else None
        text = Content("")
        if result is not None:
            text = Content.assemble(
                (f"{result.guest} on {result.host}: ", "bold"),
                (result.message, STYLES[result.status]),
            )
        self.query_one("#detail", Static).update(text)

    def finish(self) -> None:
        self.finished = True
        if self.is_mounted:
            self._summarize()

    @staticmethod
    def _show(table: RowTable, key: str, result: BulkResult) -> None:
        text = result.message if result.ok else f"{result.status}: {result.message}"
        table.set_row(key, [result.guest, result.host, text], style=STYLES[result.status])

    def counts(self) -> dict[str, int]:
        counts = {"ok": 0, "failed": 0, "skipped": 0}
        for result in self.results.values():
            counts[result.status] += 1
        return counts

    def _summarize(self) -> None:
        counts = self.counts()
        done = counts["ok"] + counts["failed"]
        parts = [f"{counts['ok']} ok", f"{counts['failed']} failed", f"{counts['skipped']} skipped"]
        head = "done" if self.finished else f"running: {done} of {len(self.ready)} ended"
        self.query_one("#summary", Static).update(Content(f"{head} · {', '.join(parts)}"))

    def action_unmark_done(self) -> None:
        done = [(r.host, r.uuid) for r in self.results.values() if r.ok]
        if self.unmark is not None and done:
            self.unmark(done)
            self.notify(f"unmarked {len(done)} guest(s); the others stay marked", timeout=4)
