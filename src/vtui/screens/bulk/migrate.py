"""Where to migrate the marked guests, and how many at once. Each guest then goes
through the same pre-flight checks as a single migration (live when it runs, offline
when it is shut off); the confirmation lists them, the results say how each went."""

from __future__ import annotations

from dataclasses import dataclass

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from vtui.core.fleet import Fleet
from vtui.core.host import HostStatus
from vtui.core.migration import MigrationOptions
from vtui.core.migration.bulk import AT_MOST
from vtui.screens.dialogs.frame import Dialog


@dataclass(frozen=True, slots=True)
class BulkMigration:
    destination: str
    at_most: int
    options: MigrationOptions


class BulkMigrateScreen(Dialog[BulkMigration | None]):
    DEFAULT_CSS = """
    BulkMigrateScreen > .dialog { width: 72; }
    BulkMigrateScreen .row { height: 1; margin: 1 0 0 0; }
    BulkMigrateScreen .field { width: 16; color: $text-muted; }
    BulkMigrateScreen .row Select, BulkMigrateScreen .row Input { width: 1fr; }
    BulkMigrateScreen #errors { height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="bulk_migrate.cancel")]

    def __init__(self, fleet: Fleet, count: int):
        super().__init__()
        self.fleet, self.count = fleet, count

    def destinations(self) -> list[str]:
        return [h.name for h in self.fleet.hosts.values() if h.status is HostStatus.CONNECTED]

    def compose(self) -> ComposeResult:
        targets = self.destinations()
        with Vertical(classes="dialog"):
            yield Static(f"Migrate {self.count} marked guest(s)", classes="dialog-title")
            yield Static(
                "Running guests move live, shut-off ones as definitions; those already "
                "there are skipped.",
                classes="dialog-hint",
            )
            with Horizontal(classes="row"):
                yield Label("Destination", classes="field")
                yield Select(
                    [(Content(t), t) for t in targets],
                    allow_blank=not targets,
                    prompt="none connected",
                    compact=True,
                    id="dest",
                )
            with Horizontal(classes="row"):
                yield Label("At most at once", classes="field")
                yield Input(str(AT_MOST), compact=True, id="at-most")
            with Horizontal(classes="row"):
                yield Label("Bandwidth", classes="field")
                yield Input(placeholder="MiB/s each (unlimited)", compact=True, id="bandwidth")
            with Horizontal(classes="row"):
                yield Checkbox("copy storage (hosts without shared disks)", compact=True, id="copy")
            yield Static("", id="errors")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Next", variant="primary", id="next")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#dest", Select).focus()

    def _number(self, selector: str, what: str, errors: list[str]) -> int | None:
        text = self.query_one(selector, Input).value.strip()
        if not text:
            return None
        if not text.isdigit() or int(text) < 1:
            errors.append(f"{what} must be a whole number of at least 1")
            return None
        return int(text)

    def read(self) -> tuple[BulkMigration | None, list[str]]:
        errors: list[str] = []
        dest = self.query_one("#dest", Select).value
        if not isinstance(dest, str):
            errors.append("pick a destination host")
        at_most = self._number("#at-most", "at most", errors) or AT_MOST
        bandwidth = self._number("#bandwidth", "bandwidth", errors)
        copy = self.query_one("#copy", Checkbox).value
        options = MigrationOptions(bandwidth_mib=bandwidth, copy_storage="full" if copy else "none")
        if errors or not isinstance(dest, str):
            return None, errors
        return BulkMigration(dest, at_most, options), []

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "next":
            self.dismiss(None)
            return
        chosen, errors = self.read()
        box = self.query_one("#errors", Static)
        box.update(Content("\n").join(Content.styled(e, "red") for e in errors))
        if chosen is not None:
            self.dismiss(chosen)
