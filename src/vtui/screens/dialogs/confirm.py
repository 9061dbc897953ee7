"""Confirmation for destructive actions: names what will be lost, defaults to No."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.widgets import Button, Checkbox, Static

from vtui.screens.dialogs.frame import Dialog


class ConfirmScreen(Dialog[tuple[bool, bool]]):
    """Dismisses with (confirmed, option_checked)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: str, *, yes: str = "Yes", option: str | None = None):
        super().__init__(classes="-danger")
        self.title_text, self.body, self.yes, self.option = title, body, yes, option

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(self.title_text, id="title", classes="dialog-title")
            yield Static(self.body, id="body")
            if self.option:
                yield Checkbox(self.option, value=False, id="option")
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.yes} (y)", variant="error", id="yes")
                yield Button("No (n)", variant="primary", id="no")

    def on_mount(self) -> None:
        self.query_one("#no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.action_answer(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        option = self.query("#option")
        checked = bool(option and option.first(Checkbox).value)
        self.dismiss((yes, checked and yes))
