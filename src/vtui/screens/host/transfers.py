"""Volume transfers (upload, download, copy) on screen: one transfer's live progress
with cancel (asked first), and the list of every transfer of the session. Closing the
progress dialog does not stop a transfer; its end is told wherever the user is."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, ProgressBar, Static

from vtui.core.errors import VtuiError
from vtui.core.storage import (
    COMPLETED,
    DOWNLOAD,
    UPLOAD,
    Transfer,
    Transfers,
    default_transfers,
)
from vtui.core.units import size
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.dialogs.frame import Dialog
from vtui.widgets.row_table import RowTable, TableColumn

VERBS = {UPLOAD: "Upload", DOWNLOAD: "Download"}  # else Copy


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    whole = int(seconds)
    return (
        f"{whole // 3600}:{whole // 60 % 60:02d}:{whole % 60:02d}"
        if whole >= 3600
        else (f"{whole // 60}:{whole % 60:02d}")
    )


def status_line(transfer: Transfer) -> str:
    p = transfer.progress
    if transfer.state == COMPLETED and transfer.summary is not None:
        return f"done: {transfer.summary.line()}"
    if transfer.done:
        return transfer.error
    percent = f"{p.fraction * 100:.0f}%" if p.fraction is not None else "-"
    return "cancelling..." if transfer.cancelling else percent


def numbers(transfer: Transfer) -> str:
    p = transfer.progress
    rate = "-" if p.rate_bps is None else size(p.rate_bps, suffix="/s")
    sparse = {None: "", True: " · holes skipped", False: " · every byte sent"}[p.sparse]
    eta = clock(p.eta) if not transfer.done else "-"
    return (
        f"{size(p.done)} of {size(p.total)}  ({size(p.data_bytes)} of data){sparse}\n"
        f"rate {rate}   elapsed {clock(p.elapsed)}   ETA {eta}"
    )


def ask_cancel(app: App, transfer: Transfer) -> None:
    """Confirm, then cancel; what the transfer half made is removed."""
    if transfer.done:
        return
    leftover = (
        "the partial file is removed"
        if transfer.kind == DOWNLOAD
        else "the half-made volume is deleted"
    )

    async def cancel() -> None:
        try:
            await transfer.cancel()
        except VtuiError as exc:
            app.notify(str(exc), severity="error", timeout=10, markup=False)

    def answered(answer: tuple[bool, bool] | None) -> None:
        if answer and answer[0]:
            app.run_worker(cancel(), description=f"cancel {transfer.title}", exit_on_error=False)

    app.push_screen(
        ConfirmScreen(
            f"Cancel this {transfer.kind}?",
            f"{transfer.source} -> {transfer.target} stops and {leftover}.",
            yes=f"Cancel {transfer.kind}",
        ),
        answered,
    )


def show_transfer(
    app: App, transfer: Transfer, on_end: Callable[[Transfer], None] | None = None
) -> None:
    """Open the progress dialog of a transfer just started, and tell its end."""
    told = False

    def watch(t: Transfer) -> None:
        nonlocal told
        if not t.done or told:
            return
        told = True
        transfer.unsubscribe(watch)
        verb = VERBS.get(t.kind, "Copy")
        if t.state == COMPLETED and t.summary is not None:
            app.notify(
                f"{t.source} -> {t.target}: {t.summary.line()}",
                title=f"{verb} done",
                timeout=10,
                markup=False,
            )
        else:
            app.notify(
                f"{t.source} -> {t.target}: {t.error}",
                title=f"{verb} {t.state}",
                severity="error" if t.state == "failed" else "warning",
                timeout=15,
                markup=False,
            )
        if on_end is not None:
            app.call_later(on_end, t)  # in the app's context: it may start a worker

    transfer.subscribe(watch)
    watch(transfer)  # it may have ended already (a refusal right at the start)
    app.push_screen(TransferProgressScreen(transfer))


class TransferProgressScreen(Dialog[None]):
    """A transfer, live: a bar, bytes, rate, ETA; c cancels (asked), Esc closes."""

    DEFAULT_CSS = """
    TransferProgressScreen > .dialog { width: 76; }
    TransferProgressScreen #transfer-title, TransferProgressScreen #numbers,
    TransferProgressScreen #state { height: auto; }
    TransferProgressScreen ProgressBar { margin: 1 0 0 0; }
    TransferProgressScreen ProgressBar Bar { width: 1fr; }
    TransferProgressScreen #numbers { margin: 1 0 0 0; }
    TransferProgressScreen .dialog-buttons { margin: 1 0 0 0; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="transfer.close"),
        Binding("c", "cancel_transfer", "Cancel transfer", id="transfer.cancel"),
    ]

    def __init__(self, transfer: Transfer):
        super().__init__()
        self.transfer = transfer

    def compose(self) -> ComposeResult:
        t = self.transfer
        with Vertical(classes="dialog"):
            yield Static(Content(f"{VERBS.get(t.kind, 'Copy')} #{t.id}"), classes="dialog-title")
            yield Static(Content(f"{t.source}\n  -> {t.target}"), id="transfer-title")
            yield ProgressBar(total=100, show_eta=False, id="bar")
            yield Static("", id="numbers")
            yield Static("", id="state")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel transfer (c)", variant="error", id="cancel", compact=True)
                yield Button("Close (esc)", id="close", compact=True)

    def on_mount(self) -> None:
        self.transfer.subscribe(self._changed)
        self.show()

    def on_unmount(self) -> None:
        self.transfer.unsubscribe(self._changed)

    def _changed(self, _transfer: Transfer) -> None:
        if self.is_mounted:
            self.show()

    def show(self) -> None:
        t = self.transfer
        fraction = t.progress.fraction
        if t.state == COMPLETED:
            fraction = 1.0
        self.query_one(ProgressBar).update(progress=(fraction or 0) * 100)
        self.query_one("#numbers", Static).update(Content(numbers(t)))
        style = "green" if t.state == COMPLETED else ("red" if t.done else "")
        self.query_one("#state", Static).update(Content.styled(status_line(t), style))
        self.query_one("#cancel", Button).disabled = t.done or t.cancelling

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel":
            self.action_cancel_transfer()
        else:
            self.dismiss(None)

    def action_cancel_transfer(self) -> None:
        ask_cancel(self.app, self.transfer)


class TransfersScreen(Dialog[None]):
    """Every volume transfer of this session; Enter opens one, c cancels it."""

    DEFAULT_CSS = """
    TransfersScreen > .dialog { width: 100%; max-width: 110; height: 20; }
    TransfersScreen RowTable { height: 1fr; }
    """
    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="transfers.close"),
        Binding("c", "cancel_transfer", "Cancel transfer", id="transfers.cancel"),
        Binding("x", "forget", "Clear finished", id="transfers.forget_transfers"),
    ]
    COLUMNS = (
        TableColumn("id", "#", 3, right=True),
        TableColumn("kind", "kind", 8),
        TableColumn("source", "from", 22),
        TableColumn("target", "to", 22),
        TableColumn("state", "progress / result", 20),
    )

    def __init__(self, transfers: Transfers | None = None):
        super().__init__()
        self.transfers = transfers if transfers is not None else default_transfers()

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                "Volume transfers  enter: progress · c: cancel · x: clear finished · esc: close",
                classes="dialog-title",
            )
            yield RowTable(self.COLUMNS)

    def on_mount(self) -> None:
        self.transfers.subscribe(self._changed)
        self.refill()
        self.query_one(RowTable).focus()

    def on_unmount(self) -> None:
        self.transfers.unsubscribe(self._changed)

    def _changed(self, _transfer: Transfer) -> None:
        if self.is_mounted:
            self.refill()

    def refill(self) -> None:
        table = self.query_one(RowTable)
        table.set_rows(
            (
                str(t.id),
                [str(t.id), t.kind, t.source, t.target, status_line(t)],
            )
            for t in self.transfers.transfers
        )
        if not self.transfers.transfers:
            table.set_row("none", ["", "", "no volume transfer yet", "", ""], style="dim")

    def selected(self) -> Transfer | None:
        key = self.query_one(RowTable).cursor_key
        return next((t for t in self.transfers.transfers if str(t.id) == key), None)

    def on_row_table_selected(self, _event: RowTable.Selected) -> None:
        transfer = self.selected()
        if transfer is not None:
            self.app.push_screen(TransferProgressScreen(transfer))

    def action_cancel_transfer(self) -> None:
        transfer = self.selected()
        if transfer is not None:
            ask_cancel(self.app, transfer)

    def action_forget(self) -> None:
        self.transfers.forget_finished()
        self.refill()
