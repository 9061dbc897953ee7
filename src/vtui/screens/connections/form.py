"""The add/edit form of one saved host; errors show on one line under the fields."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Select, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet.targets import validate_saved
from vtui.core.settings import saved_hosts as config
from vtui.core.settings.saved_hosts import SavedHost
from vtui.screens.dialogs.frame import Dialog


class HostForm(Dialog[SavedHost | None]):
    """Add or edit one saved host; errors show on one line under the fields."""

    DEFAULT_CSS = """
    HostForm > .dialog { border: thick $accent; }
    HostForm .label { color: $text-muted; }
    HostForm #form-options { height: auto; }
    HostForm #form-options Select { width: 16; }
    HostForm #form-options Checkbox { width: auto; }
    HostForm #form-error { height: 1; color: $error; text-wrap: nowrap; text-overflow: ellipsis; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="hostform.cancel"),
        Binding("ctrl+s", "save", "Save", id="hostform.save"),
    ]

    def __init__(self, existing: list[SavedHost], host: SavedHost | None = None):
        super().__init__()
        self.existing = existing
        self.original = host

    def compose(self) -> ComposeResult:
        h = self.original or SavedHost(name="", target="")
        with Vertical(id="form", classes="dialog"):
            yield Static(
                "Edit host" if self.original else "Add host",
                id="form-title",
                classes="dialog-title",
            )
            yield Static("Name", classes="label")
            yield Input(h.name, placeholder="web1", id="name")
            yield Static("SSH target", classes="label")
            yield Input(h.target, placeholder="root@server", id="target")
            yield Static(
                "user@host[:port], an alias from ~/.ssh/config, or a libvirt URI",
                classes="dialog-hint",
            )
            yield Static("libvirt", classes="label")
            with Horizontal(id="form-options"):
                yield Select(
                    [(p, p) for p in config.LIBVIRT_PATHS],
                    value=h.libvirt,
                    allow_blank=False,
                    id="libvirt",
                )
                yield Checkbox("Read-only", h.readonly, id="readonly")
                yield Checkbox("Connect at start", h.autoconnect, id="autoconnect")
            yield Static("", id="form-error")
            with Horizontal(id="form-buttons", classes="dialog-buttons"):
                yield Button("Save (ctrl+s)", variant="primary", id="save")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()

    def collect(self) -> SavedHost:
        return SavedHost(
            name=self.query_one("#name", Input).value.strip(),
            target=self.query_one("#target", Input).value.strip(),
            libvirt=str(self.query_one("#libvirt", Select).value),
            readonly=self.query_one("#readonly", Checkbox).value,
            autoconnect=self.query_one("#autoconnect", Checkbox).value,
        )

    def action_save(self) -> None:
        host = self.collect()
        old_name = self.original.name if self.original else None
        try:
            validate_saved(host, self.existing, old_name=old_name)
        except VtuiError as exc:
            self.show_error(exc.message)
            return
        self.dismiss(host)

    def show_error(self, message: str) -> None:
        self.query_one("#form-error", Static).update(Content(message))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_save()

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.show_error("")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)
