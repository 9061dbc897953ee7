"""The migrate form: destination and options, the pre-flight checks line by line, then
the job's live progress in place. The work is the core's (vtui.core.migration)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import (
    Button,
    Checkbox,
    ContentSwitcher,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.host import HostStatus
from vtui.core.migration import (
    COPY_STORAGE,
    WARN,
    Check,
    MigrationJob,
    MigrationJobs,
    MigrationOptions,
    MigrationRefused,
    default_jobs,
    failures,
    preflight,
)
from vtui.core.model import Guest
from vtui.screens.dialogs.frame import Dialog
from vtui.screens.migration.jobs import MigrationProgressView, ask_cancel

MARKS = {"pass": ("✓", "green"), "warn": ("!", "yellow"), "fail": ("✗", "red")}


def check_lines(checks: list[Check]) -> Content:
    """One line per check; the messages (names, paths, libvirt's words) taken literally."""
    lines = []
    for check in checks:
        mark, style = MARKS.get(check.status, ("?", ""))
        lines.append(Content.assemble((mark, style), f" {check.name}: {check.message}"))
    return Content("\n").join(lines)


def _positive(text: str, what: str, errors: list[str]) -> int | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value <= 0:
        errors.append(f"{what} must be a positive whole number")
        return None
    return value


class MigrateScreen(Dialog[MigrationJob | None]):
    """Pick a destination and options, run the checks, start; then show the progress.
    Dismisses with the job (or None if nothing was started)."""

    CSS_PATH = "migration.tcss"
    BINDINGS = [
        Binding("escape", "close", "Close", id="migrate.close"),
        Binding("ctrl+t", "check", "Check", id="migrate.check"),
        Binding("c", "cancel_job", "Cancel migration", id="migrate.cancel", show=False),
    ]

    def __init__(self, fleet: Fleet, guest: Guest, jobs: MigrationJobs | None = None):
        super().__init__()
        self.fleet, self.guest = fleet, guest
        self.jobs = jobs if jobs is not None else default_jobs()
        self.src_host = fleet.hosts[guest.host]
        self.checks: list[Check] | None = None  # the last pre-flight, for the current form
        self.job: MigrationJob | None = None

    def destinations(self) -> list[str]:
        return [
            h.name
            for h in self.fleet.hosts.values()
            if h is not self.src_host and h.status is HostStatus.CONNECTED
        ]

    def compose(self) -> ComposeResult:
        targets = self.destinations()
        live = self.guest.active
        with Vertical(id="dialog", classes="dialog"):
            yield Static(
                Content.assemble(
                    "Migrate ", (self.guest.name, "bold"), f" from {self.src_host.name}"
                ),
                id="title",
                classes="dialog-title",
            )
            with ContentSwitcher(initial="form", id="switcher"), Vertical(id="form"):
                with Horizontal(classes="row"):
                    yield Label("Destination", classes="field")
                    yield Select(
                        [(Content(t), t) for t in targets],
                        allow_blank=not targets,
                        prompt="none connected",
                        compact=True,
                        id="dest",
                    )
                    yield Label("Mode", classes="field")
                    with RadioSet(compact=True, id="mode"):
                        yield RadioButton("live", value=live, compact=True, id="live")
                        yield RadioButton("offline", value=not live, compact=True, id="offline")
                with Horizontal(classes="row"):
                    yield Label("Copy storage", classes="field")
                    yield Select(
                        [(c, c) for c in COPY_STORAGE],
                        allow_blank=False,
                        value="none",
                        compact=True,
                        id="copy",
                    )
                    yield Label("Bandwidth", classes="field")
                    yield Input(placeholder="MiB/s (unlimited)", compact=True, id="bandwidth")
                with Horizontal(classes="row"):
                    yield Label("Max downtime", classes="field")
                    yield Input(placeholder="ms (default)", compact=True, id="downtime")
                    yield Label("Mig. address", classes="field")
                    yield Input(placeholder="e.g. 10.0.0.2", compact=True, id="address")
                with Horizontal(classes="row"):
                    yield Label("Dest. URI", classes="field")
                    yield Input(
                        placeholder="peer-to-peer only; default qemu+ssh://<its hostname>/system",
                        compact=True,
                        id="dest-uri",
                    )
                with Horizontal(classes="row"):
                    yield Checkbox("persistent on dest", True, compact=True, id="persist")
                    yield Checkbox("undefine on source", True, compact=True, id="undefine")
                    yield Checkbox("peer-to-peer", compact=True, id="p2p")
                with Horizontal(classes="row"):
                    yield Checkbox("tunnelled", compact=True, id="tunnelled")
                    yield Checkbox("auto-converge", compact=True, id="autoconverge")
                    yield Checkbox("post-copy", compact=True, id="postcopy")
                yield Static("", id="errors")
                with VerticalScroll(id="checks-box"):
                    yield Static("Tab: next field · ctrl+t: run the checks", id="checks")
                with Horizontal(classes="buttons"):
                    yield Button("Check", variant="primary", compact=True, id="check")
                    yield Button(
                        "Migrate", variant="success", compact=True, id="migrate", disabled=True
                    )
                    yield Button("Close", compact=True, id="close")

    def on_mount(self) -> None:
        self.query_one("#dest", Select).focus()
        self.show_errors([])
        if not self.destinations():
            self.show_errors(["no other connected host to migrate to"])
            self.query_one("#check", Button).disabled = True

    # -- the form ------------------------------------------------------------------------
    def read_options(self) -> tuple[MigrationOptions | None, list[str]]:
        """The options the form says, or None and what is wrong with them."""
        errors: list[str] = []
        q = self.query_one
        options = MigrationOptions(
            live=q("#live", RadioButton).value,
            persist=q("#persist", Checkbox).value,
            undefine_source=q("#undefine", Checkbox).value,
            copy_storage=str(q("#copy", Select).value),
            bandwidth_mib=_positive(q("#bandwidth", Input).value, "bandwidth", errors),
            max_downtime_ms=_positive(q("#downtime", Input).value, "maximum downtime", errors),
            peer_to_peer=q("#p2p", Checkbox).value,
            tunnelled=q("#tunnelled", Checkbox).value,
            auto_converge=q("#autoconverge", Checkbox).value,
            post_copy=q("#postcopy", Checkbox).value,
            migration_uri=q("#address", Input).value.strip(),
            dest_uri=q("#dest-uri", Input).value.strip(),
        )
        errors += options.problems()
        return (None if errors else options), errors

    def destination(self):
        value = self.query_one("#dest", Select).value
        return self.fleet.hosts.get(value) if isinstance(value, str) else None

    def _form_changed(self) -> None:
        if self.job is None and self.checks is not None:
            self.checks = None
            self.query_one("#migrate", Button).disabled = True
            self.query_one("#checks", Static).update("[dim]options changed: check again[/]")

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._form_changed()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._form_changed()

    def on_select_changed(self, _event: Select.Changed) -> None:
        self._form_changed()

    def on_radio_set_changed(self, _event: RadioSet.Changed) -> None:
        self._form_changed()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_check()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "check":
            self.action_check()
        elif event.button.id == "migrate":
            self.run_worker(
                self._start(),
                group="migrate",
                description=f"migrate {self.guest.name}",
                exclusive=True,
                exit_on_error=False,
            )
        elif event.button.id in ("close", "close-view"):
            self.action_close()

    # -- checking and starting -------------------------------------------------------------
    def action_check(self) -> None:
        if self.job is not None:
            return
        options, errors = self.read_options()
        dst = self.destination()
        if dst is None:
            errors.append(
                "pick a destination host"
                if self.destinations()
                else "no other connected host to migrate to"
            )
        self.show_errors(errors)
        if errors:
            self.checks = None
            self.query_one("#migrate", Button).disabled = True
            return
        self.query_one("#checks", Static).update("[dim]checking...[/]")
        self.run_worker(
            self._check(options, dst),
            group="check",
            description=f"check the migration of {self.guest.name}",
            exclusive=True,
            exit_on_error=False,
        )

    def show_errors(self, errors: list[str]) -> None:
        box = self.query_one("#errors", Static)
        box.update(Content("\n").join(Content.styled(e, "red") for e in errors))
        box.display = bool(errors)

    async def _check(self, options: MigrationOptions, dst) -> None:
        checks = await preflight(self.src_host, self.guest, dst, options)
        if self.read_options()[0] != options or self.destination() is not dst:
            return  # the form changed while we checked
        self.show_checks(checks)

    def show_checks(self, checks: list[Check]) -> None:
        self.checks = checks
        self.query_one("#checks", Static).update(check_lines(checks))
        button = self.query_one("#migrate", Button)
        button.disabled = bool(failures(checks))
        warned = any(c.status == WARN for c in checks)
        button.label = "Migrate anyway" if warned and not button.disabled else "Migrate"
        if not button.disabled:
            button.focus()

    async def _start(self) -> None:
        options, _errors = self.read_options()
        dst = self.destination()
        if options is None or dst is None or self.checks is None or failures(self.checks):
            return
        self.query_one("#migrate", Button).disabled = True
        try:
            job = await self.jobs.start(self.src_host, self.guest, dst, options)
        except MigrationRefused as exc:  # something changed since the checks
            self.show_checks(exc.checks)
            self.show_errors([str(exc)])
            return
        except VtuiError as exc:
            self.show_errors([str(exc)])
            return
        self.job = job
        switcher = self.query_one("#switcher", ContentSwitcher)
        await switcher.mount(MigrationProgressView(job, id="progress"))
        switcher.current = "progress"
        self.query_one("#cancel-job", Button).focus()

    def action_cancel_job(self) -> None:
        if self.job is not None:
            ask_cancel(self.app, self.job)

    def action_close(self) -> None:
        """Closing never stops a started migration: it goes on in the jobs list."""
        self.dismiss(self.job)
