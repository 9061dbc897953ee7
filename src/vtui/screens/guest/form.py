"""A small form dialog drawn from a list of fields: what every guest edit asks first.
Dismisses with {name: value} (text for inputs and selects, bool for checkboxes), or
None when cancelled."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from vtui.screens.dialogs.frame import Dialog


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    label: str
    value: Any = ""  # str for text and select, bool for a checkbox
    choices: Sequence[str] = ()  # a select when given
    check: bool = False  # a checkbox
    hint: str = ""  # shown under the form while the field has focus... and in the placeholder


class FormScreen(Dialog[dict[str, Any] | None]):
    DEFAULT_CSS = """
    FormScreen > .dialog { width: 76; }
    FormScreen #fields { height: auto; max-height: 16; }
    FormScreen .row { height: 1; margin: 0 0 1 0; }
    FormScreen .row Label { width: 16; color: $text-muted; }
    FormScreen .row Input, FormScreen .row Select { width: 1fr; }
    FormScreen .check { height: 1; margin: 0 0 1 16; }
    FormScreen #note { color: $text-muted; }
    """
    BINDINGS = [
        Binding("escape", "cancel", "Cancel", id="form.cancel"),
        Binding("ctrl+s", "submit", "OK", id="form.ok", priority=True),
    ]

    def __init__(self, title: str, fields: Sequence[Field], *, note: str = "", ok: str = "Next"):
        super().__init__()
        self.title_text, self.fields, self.note, self.ok = title, list(fields), note, ok

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            if self.note:
                yield Static(Content(self.note), id="note")
            with VerticalScroll(id="fields"):
                for field in self.fields:
                    if field.check:
                        yield Checkbox(
                            Content(field.label),
                            bool(field.value),
                            id=f"f-{field.name}",
                            compact=True,
                            classes="check",
                        )
                        continue
                    with Horizontal(classes="row"):
                        yield Label(Content(field.label))
                        if field.choices:
                            options = [(Content(c), c) for c in field.choices]
                            value = field.value if field.value in field.choices else Select.BLANK
                            yield Select(
                                options,
                                value=value,
                                allow_blank=value is Select.BLANK,
                                compact=True,
                                id=f"f-{field.name}",
                            )
                        else:
                            yield Input(
                                str(field.value),
                                placeholder=field.hint,
                                compact=True,
                                id=f"f-{field.name}",
                            )
            with Horizontal(classes="dialog-buttons"):
                yield Button(f"{self.ok} (ctrl+s)", variant="primary", id="ok")
                yield Button("Cancel (esc)", id="cancel")

    def on_mount(self) -> None:
        first = self.query("#fields Input, #fields Select, #fields Checkbox").first()
        first.focus()

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for field in self.fields:
            widget = self.query_one(f"#f-{field.name}")
            if isinstance(widget, Checkbox):
                out[field.name] = widget.value
            elif isinstance(widget, Select):
                out[field.name] = "" if widget.value is Select.BLANK else str(widget.value)
            elif isinstance(widget, Input):
                out[field.name] = widget.value.strip()
        return out

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "ok":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        self.dismiss(self.values())

    def action_cancel(self) -> None:
        self.dismiss(None)
