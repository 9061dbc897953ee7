"""Clone a shut-off guest: the new name, full copies or qcow2 overlays, what will be
made (checked while typing), then a progress bar per disk and the result. The work is
the core's (vtui.core.guests.clone): a failure removes what it made."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, Static

from vtui.core.errors import VtuiError
from vtui.core.guests import ClonePlan, DiskCopy, clone_guest, plan_clone
from vtui.core.host import Host
from vtui.core.model import Guest
from vtui.core.units import size
from vtui.screens.dialogs.frame import Dialog


def plan_lines(plan: ClonePlan) -> Content:
    lines = []
    for copy in plan.copies:
        how = "overlay on" if copy.overlay else f"copy ({size(copy.total)}) of"
        lines.append(f"{copy.target}: {copy.pool}/{copy.volume}, {how} {copy.source_volume}")
    lines += plan.kept + plan.notes
    return Content("\n".join(lines) or "no disks to copy")


class CloneScreen(Dialog[str | None]):
    """Dismisses with the clone's name once made, or None."""

    DEFAULT_CSS = """
    CloneScreen > .dialog { width: 80; }
    CloneScreen .row { height: 1; margin: 1 0 0 0; }
    CloneScreen .field { width: 10; color: $text-muted; }
    CloneScreen .row Input { width: 1fr; }
    CloneScreen Checkbox { margin: 1 0 0 0; }
    CloneScreen #plan { height: auto; max-height: 8; margin: 1 0 0 0; }
    CloneScreen #refusal, CloneScreen #result, CloneScreen #progress { height: auto; }
    CloneScreen .disk { height: 1; }
    CloneScreen .disk Label { width: 28; }
    CloneScreen .disk ProgressBar { width: 1fr; }
    """
    BINDINGS = [Binding("escape", "close", "Close", id="clone.close")]

    def __init__(self, host: Host, guest: Guest):
        super().__init__()
        self.host, self.guest = host, guest
        self.plan: ClonePlan | None = None
        self.made: str | None = None
        self.running = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(
                Content(f"Clone {self.guest.name} on {self.host.name}"), classes="dialog-title"
            )
            with Horizontal(classes="row"):
                yield Label("New name", classes="field")
                yield Input(f"{self.guest.name}-clone", compact=True, id="name")
            yield Checkbox(
                "overlays on the original's disks (instant; keep the original unchanged)",
                compact=True,
                id="overlay",
            )
            with VerticalScroll(id="plan"):
                yield Static("checking…", id="plan-lines")
            yield Static("", id="refusal")
            yield Vertical(id="progress")
            yield Static("", id="result")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Clone", variant="primary", id="clone", disabled=True)
                yield Button("Close", id="close")

    def on_mount(self) -> None:
        self.query_one("#name", Input).focus()
        self._check()

    def wanted(self) -> tuple[str, bool]:
        return self.query_one("#name", Input).value.strip(), self.query_one(
            "#overlay", Checkbox
        ).value

    def _check(self) -> None:
        if self.running or self.made:
            return
        self.query_one("#clone", Button).disabled = True
        name, overlay = self.wanted()
        self.run_worker(
            self._plan(name, overlay),
            group="plan",
            exclusive=True,
            description=f"check the clone of {self.guest.name}",
            exit_on_error=False,
        )

    async def _plan(self, name: str, overlay: bool) -> None:
        try:
            plan = await plan_clone(self.host, self.guest, name, overlay=overlay)
        except VtuiError as exc:
            plan = ClonePlan(name, refusal=str(exc))
        if self.wanted() != (name, overlay):
            return  # typed on meanwhile
        self.plan = plan
        self.query_one("#plan-lines", Static).update(plan_lines(plan))
        self.query_one("#refusal", Static).update(Content.styled(plan.refusal or "", "red"))
        self.query_one("#clone", Button).disabled = plan.refusal is not None

    def on_input_changed(self, _event: Input.Changed) -> None:
        self._check()

    def on_checkbox_changed(self, _event: Checkbox.Changed) -> None:
        self._check()

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        if not self.query_one("#clone", Button).disabled:
            self._start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "clone":
            self._start()
        else:
            self.action_close()

    def _start(self) -> None:
        if self.plan is None or self.plan.refusal or self.running:
            return
        self.running = True
        self.query_one("#clone", Button).disabled = True
        self.query_one("#name", Input).disabled = True
        self.query_one("#overlay", Checkbox).disabled = True
        box = self.query_one("#progress", Vertical)
        for i, copy in enumerate(self.plan.copies):
            box.mount(
                Horizontal(
                    Label(Content(f"{copy.target} → {copy.volume}")),
                    ProgressBar(total=100, show_eta=False, id=f"disk-{i}"),
                    classes="disk",
                )
            )
        name, overlay = self.wanted()
        self.run_worker(
            self._clone(name, overlay),
            group="clone",
            description=f"clone {self.guest.name} as {name}",
            exit_on_error=False,
        )

    def show_progress(self, copies: list[DiskCopy]) -> None:
        if not self.is_mounted:
            return
        for i, copy in enumerate(copies):
            bars = self.query(f"#disk-{i}")
            if bars:
                fraction = copy.fraction
                bars.first(ProgressBar).update(
                    progress=(fraction or 0) * 100, total=100 if fraction is not None else None
                )

    async def _clone(self, name: str, overlay: bool) -> None:
        result_box = self.query_one("#result", Static)
        try:
            result = await clone_guest(
                self.host, self.guest, name, overlay=overlay, on_progress=self.show_progress
            )
        except VtuiError as exc:
            self.running = False
            result_box.update(Content.styled(str(exc), "red"))
            self.notify(str(exc), severity="error", timeout=10)
            return
        self.running, self.made = False, result.name
        lines = [f"done: {result.name}, UUID {result.uuid}"]
        if result.macs:
            lines.append(f"MAC {', '.join(result.macs)}")
        lines += list(result.notes)
        result_box.update(Content.styled("\n".join(lines), "green"))
        self.query_one("#close", Button).focus()
        self.notify(f"{self.host.name}: cloned {self.guest.name} as {result.name}", timeout=5)

    def action_close(self) -> None:
        if self.running:
            self.notify("the copy goes on until it ends (libvirt cannot stop it halfway)")
            return
        self.dismiss(self.made)
