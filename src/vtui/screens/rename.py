"""Rename a shut-off guest: the new name, why it cannot be done (said while typing),
and what came along (its snapshots) or stayed behind (its NVRAM file's name)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Static

from vtui.core.errors import VtuiError
from vtui.core.guests import rename_guest, rename_refusal
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.screens.dialogs.frame import Dialog


class RenameScreen(Dialog[str | None]):
    """Dismisses with the new name once renamed, or None."""

    DEFAULT_CSS = """
    RenameScreen > .dialog { width: 64; }
    RenameScreen .row { height: 1; margin: 1 0 0 0; }
    RenameScreen .field { width: 10; color: $text-muted; }
    RenameScreen .row Input { width: 1fr; }
    RenameScreen #why { height: auto; margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="rename.cancel")]

    def __init__(self, host: Host, guest: Guest):
        super().__init__()
        self.host, self.guest = host, guest

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content(f"Rename {self.guest.name} on {self.host.name}"), classes="dialog-title"
            )
            with Horizontal(classes="row"):
                yield Label("New name", classes="field")
                yield Input(self.guest.name, compact=True, id="name")
            yield Static("", id="why")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Rename", variant="primary", id="rename", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()
        self._check(self.guest.name)

    def refusal(self, name: str) -> str | None:
        why = rename_refusal(self.host, self.guest, name)
        if why is None and any(g.name == name for g in self.host.guests.values()):
            why = f"cannot rename {self.guest.name}: {self.host.name} already has a guest called {name!r}"
        return why

    def _check(self, name: str) -> None:
        why = self.refusal(name.strip())
        self.query_one("#why", Static).update(Content.styled(why or "", "red"))
        self.query_one("#rename", Button).disabled = why is not None

    def on_input_changed(self, event: Input.Changed) -> None:
        self._check(event.value)

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "rename":
            self._start()
        else:
            self.dismiss(None)

    def _start(self) -> None:
        name = self.query_one(Input).value.strip()
        if self.refusal(name) is None:
            self.query_one("#rename", Button).disabled = True
            self.run_worker(
                self._rename(name),
                description=f"rename {self.guest.name} to {name}",
                exit_on_error=False,
            )

    async def _rename(self, name: str) -> None:
        old = self.guest.name
        try:
            result = await rename_guest(self.host, self.guest, name)
        except VtuiError as exc:
            self.query_one("#why", Static).update(Content.styled(str(exc), "red"))
            self.query_one("#rename", Button).disabled = False
            return
        kept = f" ({result.snapshots} snapshot(s) came along)" if result.snapshots else ""
        self.notify(f"{self.host.name}: renamed {old} to {name}{kept}", timeout=6)
        for note in result.notes:
            self.notify(note, severity="warning", timeout=12)
        self.dismiss(name)
