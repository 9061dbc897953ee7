"""A small form in a dialog: labelled fields, checked as the user types, and an action
that runs with the answers. A refusal (the form's own check, or the core's) is shown
in the form, naming the field, and the form stays open with everything typed.

Used for every question of the host screen that is not a plain yes/no: a new volume,
a network, KSM tunables, a file path, a size...
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import DescendantFocus
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from vtui.core.errors import VtuiError
from vtui.screens.dialogs.frame import Dialog

Values = dict[str, str | bool]
# what is wrong, and with which field ("" when with none in particular)
Problem = tuple[str, str]


@dataclass(frozen=True, slots=True)
class FormField:
    """One answer. A bool value makes a checkbox; choices make a drop-down."""

    id: str
    label: str
    value: str | bool = ""
    placeholder: str = ""
    hint: str = ""  # shown under the form while the field has focus
    choices: Sequence[tuple[str, str]] = field(default_factory=tuple)  # (value, label)


class FormScreen(Dialog[object]):
    """Dismisses with what `submit` returned (True if that was None), or None when
    cancelled."""

    DEFAULT_CSS = """
    FormScreen > .dialog { width: 76; }
    FormScreen #intro { margin: 0 0 1 0; }
    FormScreen .row { height: 1; }
    FormScreen .row Label { width: 17; color: $text-muted; }
    FormScreen .row Input, FormScreen .row Select { width: 1fr; }
    FormScreen .row Input.-invalid { color: $error; }
    FormScreen .row Checkbox { width: 1fr; }
    FormScreen #problem { color: $error; height: auto; margin: 1 0 0 0; }
    FormScreen #hint { height: auto; }
    FormScreen .dialog-buttons { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(
        self,
        title: str,
        fields: Sequence[FormField],
        submit: Callable[[Values], Awaitable[object]],
        *,
        check: Callable[[Values], Problem | None] | None = None,
        yes: str = "Create (enter)",
        intro: str = "",
        danger: bool = False,
    ):
        super().__init__(classes="-danger" if danger else "")
        self.title_text, self.fields, self.intro = title, list(fields), intro
        self.submit, self.check, self.yes = submit, check, yes
        self.busy = False
        self.touched: set[str] = set()  # fields the user changed: the only ones judged

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            if self.intro:
                yield Static(Content(self.intro), id="intro")
            for spec in self.fields:
                yield self._row(spec)
            yield Static("", id="problem")
            yield Static("", id="hint", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button(self.yes, variant="primary", id="yes", compact=True)
                yield Button("Cancel (esc)", id="no", compact=True)

    def _row(self, spec: FormField) -> Widget:
        if isinstance(spec.value, bool):
            return Horizontal(
                Label(""),
                Checkbox(Content(spec.label), spec.value, id=spec.id, compact=True),
                classes="row",
            )
        widget: Widget
        if spec.choices:
            widget = Select(
                [(Content(label), value) for value, label in spec.choices],
                value=spec.value if spec.value in {v for v, _ in spec.choices} else Select.NULL,
                allow_blank=False,
                compact=True,
                id=spec.id,
            )
        else:
            widget = Input(
                spec.value,
                placeholder=spec.placeholder,
                compact=True,
                id=spec.id,
                select_on_focus=False,
            )
        return Horizontal(Label(Content(spec.label)), widget, classes="row")

    def on_mount(self) -> None:
        self.query_one("#problem", Static).display = False
        if self.fields:
            self.query_one(f"#{self.fields[0].id}").focus()

    # -- reading and checking ------------------------------------------------------------
    def values(self) -> Values:
        out: Values = {}
        for spec in self.fields:
            widget = self.query_one(f"#{spec.id}")
            if isinstance(widget, Checkbox):
                out[spec.id] = widget.value
            elif isinstance(widget, Select):
                out[spec.id] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                out[spec.id] = widget.value
        return out

    def show_problem(self, problem: Problem | None) -> None:
        box = self.query_one("#problem", Static)
        bad = problem[1] if problem else ""
        for spec in self.fields:
            self.query_one(f"#{spec.id}").set_class(spec.id == bad, "-invalid")
        if problem is None:
            box.display = False
            return
        message, field_id = problem
        label = next((s.label for s in self.fields if s.id == field_id), "")
        box.update(Content(f"{label}: {message}" if label else message))
        box.display = True

    def recheck(self, everything: bool = False) -> Problem | None:
        """The first problem; shown only if it is about a field the user changed
        (not yet: about one further down), unless `everything` (answering)."""
        problem = self.check(self.values()) if self.check else None
        judged = everything or problem is None or not problem[1] or problem[1] in self.touched
        self.show_problem(problem if judged else None)
        return problem

    def changed(self, widget: Widget) -> None:
        spec = next((s for s in self.fields if s.id == widget.id), None)
        if spec is not None and self.values().get(spec.id) != spec.value:
            self.touched.add(spec.id)  # (a drop-down reports its first value as a change)
        self.recheck()

    def on_input_changed(self, event: Input.Changed) -> None:
        self.changed(event.input)

    def on_checkbox_changed(self, event: Checkbox.Changed) -> None:
        self.changed(event.checkbox)

    def on_select_changed(self, event: Select.Changed) -> None:
        self.changed(event.select)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        spec = next((s for s in self.fields if s.id == event.widget.id), None)
        self.query_one("#hint", Static).update(Content(spec.hint if spec else ""))

    # -- answering -------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_submit()
        else:
            self.action_cancel()

    def action_submit(self) -> None:
        if self.busy:
            return
        problem = self.recheck(everything=True)
        if problem is not None:
            if problem[1]:
                self.query_one(f"#{problem[1]}").focus()
            return
        self.busy = True
        self.query_one("#yes", Button).disabled = True
        self.run_worker(
            self._submit(self.values()), description=self.title_text, exit_on_error=False
        )

    async def _submit(self, values: Values) -> None:
        try:
            result = await self.submit(values)
        except VtuiError as exc:
            field_id = getattr(exc, "field", "")
            known = any(s.id == field_id for s in self.fields)
            self.show_problem((str(exc), field_id if known else ""))
            return
        finally:
            self.busy = False
            if self.is_mounted:
                self.query_one("#yes", Button).disabled = False
        self.dismiss(True if result is None else result)

    def action_cancel(self) -> None:
        self.dismiss(None)
