"""The "type text" dialog: a line (a password, a command) typed on the guest's
keyboard as key presses. Hidden by default; Ctrl+T shows it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Checkbox, Input, Static


class TypeTextScreen(ModalScreen[tuple[str, bool] | None]):
    """Returns (text, press Enter after it), or None when cancelled."""

    DEFAULT_CSS = """
    TypeTextScreen { align: center middle; }
    TypeTextScreen > Vertical { width: 70; max-width: 100%; height: auto;
        border: thick $accent; background: $surface; padding: 0 1; }
    TypeTextScreen Input { margin: 1 0 0 0; }
    TypeTextScreen .hint { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="peek.type_text.cancel"),
        Binding("ctrl+t", "toggle_hidden", "Show/hide", id="peek.type_text.show"),
    ]

    def __init__(self, guest: str):
        super().__init__()
        self.guest = guest

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"Type on the keyboard of {self.guest}"))
            yield Input(password=True, id="text")
            yield Checkbox("Press Enter after it", value=False, id="enter")
            yield Static(
                "US keyboard layout · Enter types it · Ctrl+T shows/hides · Esc cancels",
                classes="hint",
            )

    def on_mount(self) -> None:
        self.query_one(Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss((event.value, self.query_one("#enter", Checkbox).value))

    def action_toggle_hidden(self) -> None:
        box = self.query_one(Input)
        box.password = not box.password

    def action_cancel(self) -> None:
        self.dismiss(None)
