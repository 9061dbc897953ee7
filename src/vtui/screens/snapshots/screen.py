"""One guest's snapshots as a tree (the current one marked), with create, revert and
delete. Revert and delete say first what the guest is like afterwards and what is
lost; what the host cannot do is refused with the reason before anything is asked."""

from __future__ import annotations

import time

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.widgets import Static

from vtui.core.errors import VtuiError
from vtui.core.guests import (
    Snapshot,
    SnapshotOutcome,
    SnapshotRequest,
    create_snapshot,
    delete_outcome_of,
    delete_snapshot,
    list_snapshots,
    plan_snapshot,
    revert_outcome,
    revert_snapshot,
)
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.core.states import BLOCKED, PAUSED, RUNNING
from vtui.core.units import size
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.dialogs.frame import Dialog
from vtui.screens.snapshots.form import SnapshotFormScreen
from vtui.widgets.row_table import RowTable, TableColumn

CURRENT = "●"
COLUMNS = (
    TableColumn("name", "Snapshot", 26),
    TableColumn("created", "Created", 16),
    TableColumn("state", "State", 13),
    TableColumn("kind", "Kind", 21),
    TableColumn("size", "Size", 6, right=True),
    TableColumn("description", "Description", 20),
)


def snapshot_cells(snap: Snapshot) -> list[str]:
    indent = "  " * snap.depth + ("└ " if snap.depth else "")
    mark = f"{CURRENT} " if snap.current else "  "
    created = "-"
    if snap.created_at is not None:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(snap.created_at))
    description = " ".join(snap.description.split())
    shown_size = size(snap.size) if snap.size is not None else "-"
    return [mark + indent + snap.name, created, snap.state, snap.kind, shown_size, description]


def details(snap: Snapshot) -> Content:
    lines = [f"{snap.name}: {snap.kind}, taken while {snap.state}"]
    if snap.current:
        lines[0] += " (current)"
    if snap.description:
        lines.append(snap.description)
    files = [f"{d.target}: {d.file}" for d in snap.disks if d.file]
    if snap.memory_file:
        files.append(f"memory: {snap.memory_file}")
    if files:
        lines.append("files: " + ", ".join(files))
    return Content("\n".join(lines))


class SnapshotsScreen(Dialog[None]):
    DEFAULT_CSS = """
    SnapshotsScreen > .dialog { width: 120; height: 90%; }
    SnapshotsScreen RowTable { height: 1fr; }
    SnapshotsScreen #details { height: auto; max-height: 4; margin: 1 0 0 0; }
    SnapshotsScreen #hint { height: 1; color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape,q", "dismiss(None)", "Close", id="snapshots.close"),
        Binding("c", "create", "Create", id="snapshots.create"),
        Binding("r", "revert", "Revert", id="snapshots.revert"),
        Binding("d,delete", "delete(False)", "Delete", id="snapshots.delete"),
        Binding("D", "delete(True)", "Delete with children", id="snapshots.delete_children"),
    ]

    def __init__(self, host: Host, guest: Guest):
        super().__init__()
        self.host, self.guest = host, guest
        self.snapshots: dict[str, Snapshot] = {}
        self.loaded = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content(f"Snapshots of {self.guest.name} on {self.host.name}"),
                classes="dialog-title",
            )
            yield RowTable(COLUMNS, id="snapshots")
            yield Static("reading…", id="details")
            yield Static(
                f"{CURRENT} current · c create · r revert · d delete · D with children · esc",
                id="hint",
            )

    def on_mount(self) -> None:
        self.query_one(RowTable).focus()
        self.reload()

    # -- the tree ---------------------------------------------------------------------------
    def reload(self) -> None:
        self.run_worker(
            self._load(),
            group="load",
            exclusive=True,
            description=f"list the snapshots of {self.guest.name}",
            exit_on_error=False,
        )

    async def _load(self) -> None:
        try:
            tree = await list_snapshots(self.host, self.guest)
        except VtuiError as exc:
            self.query_one("#details", Static).update(Content.styled(str(exc), "red"))
            return
        self.show(tree)

    def show(self, tree: list[Snapshot]) -> None:
        self.snapshots = {s.name: s for s in tree}
        self.loaded = True
        table = self.query_one(RowTable)
        table.set_rows((s.name, snapshot_cells(s)) for s in tree)
        for snap in tree:
            table.set_style(snap.name, "bold" if snap.current else "")
        current = next((s.name for s in tree if s.current), None)
        if current is not None:
            table.select(current)
        self._show_details(table.cursor_key)

    def _show_details(self, key: str | None) -> None:
        box = self.query_one("#details", Static)
        snap = self.snapshots.get(key) if key else None
        if snap is None:
            box.update("no snapshots yet (c takes one)" if self.loaded else "reading…")
        else:
            box.update(details(snap))

    def on_row_table_highlighted(self, event: RowTable.Highlighted) -> None:
        self._show_details(event.key)

    def selected(self) -> Snapshot | None:
        key = self.query_one(RowTable).cursor_key
        return self.snapshots.get(key) if key else None

    # -- create -------------------------------------------------------------------------------
    def action_create(self) -> None:
        running = self.guest.state in (RUNNING, BLOCKED, PAUSED)

        async def planner(request: SnapshotRequest):
            return await plan_snapshot(self.host, self.guest, request)

        def chosen(request: SnapshotRequest | None) -> None:
            if request is not None:
                self._work(self._create(request), f"snapshot {self.guest.name}")

        form = SnapshotFormScreen(
            f"Snapshot of {self.guest.name}", running=running, planner=planner
        )
        self.app.push_screen(form, chosen)

    async def _create(self, request: SnapshotRequest) -> None:
        try:
            snap = await create_snapshot(self.host, self.guest, request)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify(f"{self.guest.name}: snapshot {snap.name} taken ({snap.kind})", timeout=5)
        await self._load()

    # -- revert and delete ----------------------------------------------------------------------
    def action_revert(self) -> None:
        snap = self.selected()
        if snap is not None:
            self._work(self._revert(snap), f"revert {self.guest.name}")

    async def _revert(self, snap: Snapshot) -> None:
        try:
            outcome = await revert_outcome(self.host, self.guest, snap.name)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        if not await self._confirm(
            outcome, f"Revert {self.guest.name} to {snap.name}", "Revert", "After the revert"
        ):
            return
        try:
            await revert_snapshot(self.host, self.guest, snap.name)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify(
            f"{self.guest.name}: reverted to {snap.name}; now {outcome.state_after}", timeout=5
        )
        await self._load()

    def action_delete(self, children: bool) -> None:
        snap = self.selected()
        if snap is not None:
            self._work(self._delete(snap, children), f"delete snapshot {snap.name}")

    async def _delete(self, snap: Snapshot, children: bool) -> None:
        try:
            outcome = await delete_outcome_of(self.host, self.guest, snap.name, children=children)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        count = len(outcome.removed)
        title = f"Delete snapshot {snap.name}" + (f" and {count - 1} below it" if count > 1 else "")
        if not await self._confirm(outcome, title, "Delete", "After deleting"):
            return
        try:
            await delete_snapshot(self.host, self.guest, snap.name, children=children)
        except VtuiError as exc:
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.notify(f"{self.guest.name}: deleted {', '.join(outcome.removed)}", timeout=5)
        await self._load()

    async def _confirm(self, outcome: SnapshotOutcome, title: str, yes: str, after: str) -> bool:
        if outcome.refusal:
            self.notify(outcome.refusal, severity="warning", timeout=10)
            return False
        body = f"{after}: {outcome.effect}.\nLost, and not to be had back:"
        answer = await self.app.push_screen_wait(
            ConfirmScreen(title, body, yes=yes, items=list(outcome.lost))
        )
        return bool(answer and answer[0])

    def _work(self, coro, description: str) -> None:
        self.run_worker(coro, group="act", description=description, exit_on_error=False)
