"""A migration job on screen: its live progress (with cancel, asked first) and the
list of every migration of the session. The core (vtui.core.migration) does the work."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Button, DataTable, Label, ProgressBar, Static

from vtui.core.errors import VtuiError
from vtui.core.migration import MigrationJob, MigrationJobs, default_jobs
from vtui.core.units import size
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.dialogs.frame import Dialog


def clock(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(seconds)
    return (
        f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"
        if seconds >= 3600
        else f"{seconds // 60}:{seconds % 60:02d}"
    )


def job_status(job: MigrationJob) -> str:
    p = job.progress
    if job.state == "completed" and job.summary:
        return job.summary.line()
    if job.done:
        return job.error.partition(": ")[2]  # the state column already says what ended it
    percent = f" {p.fraction * 100:.0f}%" if p.fraction is not None else ""
    return f"{p.phase}{percent}"


class MigrationProgressView(Widget):
    """One job, live: phase, bars, numbers, elapsed/ETA, result; cancel asks first."""

    DEFAULT_CSS = """
    MigrationProgressView { height: auto; }
    MigrationProgressView #job-title, MigrationProgressView #phase,
    MigrationProgressView #numbers, MigrationProgressView #result { height: auto; }
    MigrationProgressView #numbers, MigrationProgressView #result { margin: 1 0 0 0; }
    MigrationProgressView .bar { height: 1; margin: 1 0 0 0; }
    MigrationProgressView .bar-label { width: 9; color: $text-muted; }
    MigrationProgressView .bar ProgressBar, MigrationProgressView .bar ProgressBar Bar {
        width: 1fr;
    }
    MigrationProgressView .buttons { height: 1; align-horizontal: right; margin: 1 0 0 0; }
    MigrationProgressView .buttons Button { margin: 0 0 0 2; }
    """

    def __init__(self, job: MigrationJob, **kwargs):
        super().__init__(**kwargs)
        self.job = job

    def compose(self) -> ComposeResult:
        yield Static(Content(self.job.title), id="job-title")
        yield Static("", id="phase")
        with Horizontal(classes="bar"):
            yield Label("memory ", classes="bar-label")
            yield ProgressBar(total=100, show_eta=False, id="memory-bar")
        with Horizontal(classes="bar", id="disk-row"):
            yield Label("storage", classes="bar-label")
            yield ProgressBar(total=100, show_eta=False, id="disk-bar")
        yield Static("", id="numbers")
        yield Static("", id="result")
        with Horizontal(classes="buttons"):
            yield Button("Cancel migration (c)", variant="error", compact=True, id="cancel-job")
            yield Button("Close (esc)", compact=True, id="close-view")

    def on_mount(self) -> None:
        self.job.subscribe(self._on_job)
        self.show()

    def on_unmount(self) -> None:
        self.job.unsubscribe(self._on_job)

    def _on_job(self, _job: MigrationJob) -> None:
        if self.is_mounted:  # job listeners run on the app's loop: widgets are safe here
            self.show()

    def show(self) -> None:
        job, p = self.job, self.job.progress
        iteration = f" · pass {p.iteration}" if p.iteration else ""
        self.query_one("#phase", Static).update(f"[b]{p.phase}[/]{iteration}")
        memory = 1 - p.memory_remaining / p.memory_total if p.memory_total else None
        if job.state == "completed":
            memory = 1.0
        self.query_one("#memory-bar", ProgressBar).update(
            progress=(memory or 0) * 100, total=100 if memory is not None or job.done else None
        )
        self.query_one("#disk-row").display = bool(p.disk_total)
        if p.disk_total:
            self.query_one("#disk-bar", ProgressBar).update(
                progress=100 * (1 - p.disk_remaining / p.disk_total)
            )
        rate = "-" if p.transfer_bps is None else size(p.transfer_bps, suffix="/s")
        dirty = "-" if p.dirty_bps is None else size(p.dirty_bps, suffix="/s")
        downtime = "-" if p.expected_downtime_ms is None else f"{p.expected_downtime_ms} ms"
        downtime = f"downtime {downtime}" if job.done else f"expected downtime {downtime}"
        self.query_one("#numbers", Static).update(
            f"sent {size(p.data_processed)}   remaining {size(p.data_remaining)}   "
            f"of {size(p.data_total)}\n"
            f"rate {rate}   dirty {dirty}   {downtime}\n"
            f"elapsed {clock(p.elapsed)}   ETA {clock(p.eta) if not job.done else '-'}"
        )
        result = self.query_one("#result", Static)
        if job.state == "completed" and job.summary:
            outcome = (
                f"{job.summary.line()}; {job.guest_name} now runs on {job.dst_host.name}"
                if job.options.live
                else f"{job.guest_name} is now defined on {job.dst_host.name}"
            )
            result.update(Content.assemble(("done:", "green"), f" {outcome}"))
        elif job.done:
            result.update(Content.styled(job.error, "red"))
        self.query_one("#cancel-job", Button).disabled = job.done

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel-job":  # "close-view" bubbles up to the screen
            event.stop()
            ask_cancel(self.app, self.job)


def ask_cancel(app, job: MigrationJob) -> None:
    """Confirm, then cancel; the guest stays on the source either way."""
    if job.done:
        return

    async def cancel() -> None:
        try:
            await job.cancel()
        except VtuiError as exc:
            app.notify(str(exc), severity="error", timeout=10)

    def answered(answer: tuple[bool, bool] | None) -> None:
        if answer and answer[0]:
            app.run_worker(
                cancel(),
                description=f"cancel the migration of {job.guest_name}",
                exit_on_error=False,
            )

    app.push_screen(
        ConfirmScreen(
            f"Cancel the migration of {job.guest_name}?",
            f"The copy to {job.dst_host.name} stops and is thrown away; {job.guest_name} "
            f"keeps running on {job.src_host.name}.",
            yes="Cancel migration",
        ),
        answered,
    )


class MigrationProgressScreen(Dialog[None]):
    """A running or finished job, opened from the jobs list."""

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="migration.close"),
        Binding("c", "cancel_job", "Cancel migration", id="migration.cancel"),
    ]

    def __init__(self, job: MigrationJob):
        super().__init__()
        self.job = job

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield MigrationProgressView(self.job, id="progress")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "close-view":
            self.dismiss(None)

    def action_cancel_job(self) -> None:
        ask_cancel(self.app, self.job)


class JobsScreen(Dialog[None]):
    """Every migration of this session with its state; Enter opens one."""

    CSS_PATH = "migration.tcss"

    BINDINGS = [
        Binding("escape", "dismiss(None)", "Close", id="jobs.close"),
        Binding("enter", "open_job", "Progress", id="jobs.open"),
        Binding("c", "cancel_job", "Cancel migration", id="jobs.cancel"),
        Binding("x", "forget", "Clear finished", id="jobs.forget"),
    ]
    COLUMNS = ("#", "guest", "from", "to", "state", "progress / result", "elapsed")

    def __init__(self, jobs: MigrationJobs | None = None):
        super().__init__()
        self.jobs = jobs if jobs is not None else default_jobs()

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog", classes="dialog"):
            yield Static(
                "[b]Migration jobs[/]  enter: progress · c: cancel · x: clear "
                "finished · esc: close",
                id="title",
            )
            yield DataTable(cursor_type="row", zebra_stripes=True, id="jobs")
            yield Static("", id="empty")

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for name in self.COLUMNS:
            table.add_column(name, key=name)
        self.jobs.subscribe(self._on_job)
        self.refill()
        table.focus()

    def on_unmount(self) -> None:
        self.jobs.unsubscribe(self._on_job)

    def _on_job(self, _job: MigrationJob) -> None:
        if self.is_mounted:
            self.refill()

    def refill(self) -> None:
        table = self.query_one(DataTable)
        known = {str(row.value) for row in table.rows}
        present = {str(job.id) for job in self.jobs.jobs}
        for key in known - present:
            table.remove_row(key)
        for job in self.jobs.jobs:
            cells = tuple(
                Text(cell)  # names and libvirt's words, never markup
                for cell in (
                    str(job.id),
                    job.guest_name,
                    job.src_host.name,
                    job.dst_host.name,
                    job.state,
                    job_status(job),
                    clock(job.progress.elapsed),
                )
            )
            if str(job.id) in known:
                for column, value in zip(self.COLUMNS, cells):
                    table.update_cell(str(job.id), column, value)
            else:
                table.add_row(*cells, key=str(job.id))
        self.query_one("#empty", Static).update(
            "" if self.jobs.jobs else "no migrations yet (m on a guest starts one)"
        )

    def selected(self) -> MigrationJob | None:
        table = self.query_one(DataTable)
        if not table.row_count:
            return None
        key = table.coordinate_to_cell_key(table.cursor_coordinate).row_key.value
        return next((j for j in self.jobs.jobs if str(j.id) == key), None)

    def on_data_table_row_selected(self, _event: DataTable.RowSelected) -> None:
        self.action_open_job()

    def action_open_job(self) -> None:
        job = self.selected()
        if job is not None:
            self.app.push_screen(MigrationProgressScreen(job))

    def action_cancel_job(self) -> None:
        job = self.selected()
        if job is not None:
            ask_cancel(self.app, job)

    def action_forget(self) -> None:
        self.jobs.forget_finished()
        self.refill()


def notify_job_endings(app, jobs: MigrationJobs | None = None) -> None:
    """Tell the user, wherever they are in the app, when a migration ends."""
    registry = jobs if jobs is not None else default_jobs()
    told: set[int] = set()

    def on_job(job: MigrationJob) -> None:
        if not job.done or job.id in told:
            return
        told.add(job.id)
        if job.state == "completed" and job.summary:
            app.notify(f"{job.title}: {job.summary.line()}", title="Migrated", timeout=10)
        else:
            app.notify(
                f"{job.title}: {job.error}",
                title=f"Migration {job.state}",
                severity="error" if job.state == "failed" else "warning",
                timeout=15,
            )

    registry.subscribe(on_job)
