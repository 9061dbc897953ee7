"""The create-a-snapshot form: name (a timestamp by default), description, with memory
or disks only, quiesce. For one guest it says, while you type, what kind of snapshot
it becomes or why the host cannot take it; for many guests each is checked later."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, Static

from vtui.core.errors import VtuiError
from vtui.core.guests import SnapshotPlan, SnapshotRequest, default_name
from vtui.screens.dialogs.frame import Dialog

Planner = Callable[[SnapshotRequest], Awaitable[SnapshotPlan]]


class SnapshotFormScreen(Dialog[SnapshotRequest | None]):
    """Dismisses with the request, or None. `running`: the guest runs (None: many
    guests, some may); `planner`: checks a request against the host (one guest)."""

    DEFAULT_CSS = """
    SnapshotFormScreen > .dialog { width: 72; }
    SnapshotFormScreen .row { height: 1; margin: 1 0 0 0; }
    SnapshotFormScreen .field { width: 13; color: $text-muted; }
    SnapshotFormScreen .row Input { width: 1fr; }
    SnapshotFormScreen Checkbox { margin: 1 0 0 0; }
    SnapshotFormScreen #plan { height: auto; margin: 1 0; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="snapshot_form.cancel")]

    def __init__(self, title: str, *, running: bool | None, planner: Planner | None = None):
        super().__init__()
        self.title_text, self.running, self.planner = title, running, planner
        self.placeholder = default_name()

    def compose(self) -> ComposeResult:
        many = self.running is None
        with Vertical(classes="dialog"):
            yield Static(Content(self.title_text), classes="dialog-title")
            with Horizontal(classes="row"):
                yield Label("Name", classes="field")
                yield Input(placeholder=self.placeholder, compact=True, id="name")
            with Horizontal(classes="row"):
                yield Label("Description", classes="field")
                yield Input(placeholder="(optional)", compact=True, id="description")
            yield Checkbox(
                "with memory (running guests resume where they were)"
                if many
                else "with memory (reverting resumes the guest where it was)",
                value=bool(self.running) or many,
                disabled=self.running is False,
                compact=True,
                id="memory",
            )
            yield Checkbox(
                "quiesce: freeze filesystems through the guest agent (disks only)",
                compact=True,
                id="quiesce",
                disabled=self.running is False,
            )
            yield Static("", id="plan")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create", variant="primary", id="create")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._changed()

    def request(self) -> SnapshotRequest:
        q = self.query_one
        memory_box = q("#memory", Checkbox)
        quiesce = q("#quiesce", Checkbox).value and not q("#quiesce", Checkbox).disabled
        if self.running is None:
            memory = None if memory_box.value else False  # each running guest decides
        else:
            memory = memory_box.value if self.running else False
        return SnapshotRequest(
            name=q("#name", Input).value.strip() or self.placeholder,
            description=q("#description", Input).value.strip(),
            memory=memory,
            quiesce=quiesce,
        )

    def _changed(self) -> None:
        if self.planner is None:
            self.query_one("#plan", Static).update(
                Content.styled(
                    "Each guest is checked: those that cannot take it are skipped, with the "
                    "reason, before anything is done.",
                    "dim",
                )
            )
            return
        self.run_worker(
            self._preview(self.request()),
            group="plan",
            exclusive=True,
            description="check the snapshot",
            exit_on_error=False,
        )

    async def _preview(self, request: SnapshotRequest) -> None:
        assert self.planner is not None
        try:
            plan = await self.planner(request)
        except VtuiError as exc:
            plan_text, ok = str(exc), False
        else:
            ok = plan.refusal is None
            plan_text = f"{plan.name}: {plan.kind}" if ok else (plan.refusal or "")
        if self.request() != request:
            return  # the form changed meanwhile: a newer check is on its way
        self.query_one("#plan", Static).update(Content.styled(plan_text, "green" if ok else "red"))
        self.query_one("#create", Button).disabled = not ok

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._changed()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._changed()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        if not self.query_one("#create", Button).disabled:
            self.dismiss(self.request())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.request() if event.button.id == "create" else None)
