"""Confirmation for destructive actions: names what will be lost, defaults to No.

Everything shown is taken literally (guest and volume names are not markup), and a list
of what will be touched (`items`: volumes, guests) is shown whole, scrolling if long."""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Static

from vtui.screens.dialogs.frame import Dialog


class ConfirmScreen(Dialog[tuple[bool, bool]]):
    """Dismisses with (confirmed, option_checked)."""

    BINDINGS = [
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    DEFAULT_CSS = """
    ConfirmScreen #items { height: auto; max-height: 10; margin: 1 0 0 2; }
    """

    def __init__(
        self,
        title: str,
        body: str,
        *,
        yes: str = "Yes",
        option: str | None = None,
        items: Sequence[str] = (),
    ):
        super().__init__(classes="-danger")
        self.title_text, self.body, self.yes, self.option = title, body, yes, option
        self.items = list(items)

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), id="title", classes="dialog-title")
            yield Static(Content(self.body), id="body")
            if self.items:
                with VerticalScroll(id="items"):
                    for item in self.items:
                        yield Static(Content(item), classes="item")
            if self.option:
                yield Checkbox(Content(self.option), value=False, id="option")
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
