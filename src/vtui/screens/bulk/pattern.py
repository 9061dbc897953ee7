"""Mark guests by a pattern over name, host and state: what it is, and how many guests
it takes, said while typing."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Static

from vtui.core.guests import BadPattern, guest_matcher
from vtui.core.model import Guest
from vtui.screens.dialogs.frame import Dialog

HINT = (
    "web-*  ·  db?  ·  re:^k8s-node-0[1-3]$  ·  host=lab-b  ·  state=running\n"
    "globs ignore case; every word must match; a bare word tries name, host and state"
)


class MarkPatternScreen(Dialog[str | None]):
    """Dismisses with the pattern to mark by, or None."""

    DEFAULT_CSS = """
    MarkPatternScreen > .dialog { width: 76; }
    MarkPatternScreen #pattern { margin: 1 0 0 0; }
    MarkPatternScreen #count { height: 1; margin: 0 0 1 0; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="pattern.cancel")]

    def __init__(self, guests: Callable[[], list[Guest]]):
        super().__init__()
        self.guests = guests

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static("Mark guests matching", classes="dialog-title")
            yield Static(HINT, classes="dialog-hint")
            yield Input(placeholder="pattern", id="pattern")
            yield Static("", id="count")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Mark", variant="primary", id="mark", disabled=True)
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def matching(self, pattern: str) -> tuple[int | None, str]:
        """(how many guests match, what is wrong with the pattern)."""
        try:
            match = guest_matcher(pattern)
        except BadPattern as exc:
            return None, exc.message
        return sum(1 for g in self.guests() if match(g)), ""

    def on_input_changed(self, event: Input.Changed) -> None:
        count, problem = self.matching(event.value) if event.value.strip() else (None, "")
        line = self.query_one("#count", Static)
        if problem:
            line.update(Content.styled(problem, "red"))
        elif count is not None:
            line.update(Content(f"{count} guest(s) match"))
        else:
            line.update("")
        self.query_one("#mark", Button).disabled = not count

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if self.matching(event.value)[0]:
            self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "mark":
            self.dismiss(self.query_one(Input).value)
        else:
            self.dismiss(None)
