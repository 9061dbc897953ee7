"""The one frame every modal dialog of vtui shares: a box centred over the screen it
was opened from, a bold title, a row of buttons on the right.

Styles live here once. DEFAULT_CSS is scoped to its class (and so to its subclasses),
unlike a screen's CSS_PATH, which applies to the whole app from the moment the screen is
first shown: that is how one screen's bare `#title` rule used to restyle another's.
A dialog composes `Vertical(classes="dialog")` holding `.dialog-title`, its body and a
`Horizontal(classes="dialog-buttons")`; it sets its width with its own scoped rule and
its mood with a class on the screen: `-danger` (destructive), `-warning` (trust).
"""

from __future__ import annotations

from typing import TypeVar

from textual.binding import Binding
from textual.screen import ModalScreen

from vtui.failures import ReportsWorkerFailures

ResultType = TypeVar("ResultType")


class Dialog(ReportsWorkerFailures, ModalScreen[ResultType]):
    # A modal cuts the app's bindings off, so the dialog repeats the app's priority Tab:
    # focus must move before the next key of a burst (a paste) reaches a field.
    BINDINGS = [
        Binding("tab", "app.focus_next", "Next field", show=False, priority=True, id="dialog.next"),
        Binding(
            "shift+tab",
            "app.focus_previous",
            "Previous field",
            show=False,
            priority=True,
            id="dialog.previous",
        ),
    ]
    DEFAULT_CSS = """
    Dialog { align: center middle; }
    Dialog > .dialog {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: round $accent; background: $surface; padding: 0 1;
    }
    Dialog.-danger > .dialog { border: thick $error; }
    Dialog.-warning > .dialog { border: thick $warning; }
    Dialog .dialog-title { text-style: bold; }
    Dialog.-danger .dialog-title { color: $error; }
    Dialog.-warning .dialog-title { color: $warning; }
    Dialog .dialog-hint { color: $text-muted; }
    Dialog .dialog-buttons { height: auto; align-horizontal: right; }
    Dialog .dialog-buttons Button { margin: 0 0 0 1; min-width: 10; }
    """
