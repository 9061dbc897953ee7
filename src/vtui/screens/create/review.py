"""Before creating: the review (what was decided and why, the domain XML, the
equivalent virt-install line); back changes answers, `c` creates. Then the creation
itself, step by step, with an upload's progress; on success the serial console
opens if asked (the guest starts paused until it is attached: no boot line lost)."""

from __future__ import annotations

import asyncio

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Button, Footer, Label, ProgressBar, Static

from vtui.core.errors import VtuiError
from vtui.core.guests.create import GuestPlan, Made, create_guest, domain_xml, virt_install_line
from vtui.core.guests.lifecycle import run_action
from vtui.core.host import Host
from vtui.core.storage import Transfer
from vtui.core.units import size
from vtui.failures import ReportsWorkerFailures
from vtui.screens.dialogs import ConfirmScreen

ATTACH_WAIT = 10.0  # seconds a console gets to attach before the guest is resumed anyway


class ReviewScreen(ReportsWorkerFailures, Screen[bool]):
    """Dismisses True to create, False to go back to the form."""

    BINDINGS = [
        Binding("c", "create", "Create", id="create.confirm"),
        Binding("escape,b", "back", "Back to the form", id="create.back"),
    ]
    DEFAULT_CSS = """
    ReviewScreen #review { height: 1fr; padding: 0 1; }
    ReviewScreen .section { text-style: bold; color: $accent; margin: 1 0 0 0; }
    ReviewScreen #heading, ReviewScreen #notes, ReviewScreen #xml, ReviewScreen #line { height: auto; }
    ReviewScreen #xml, ReviewScreen #line { color: $text-muted; }
    ReviewScreen .buttons { height: 1; align-horizontal: right; margin: 1 0 0 0; }
    ReviewScreen .buttons Button { margin: 0 0 0 2; }
    """

    def __init__(self, plan: GuestPlan):
        super().__init__()
        self.plan = plan

    def compose(self) -> ComposeResult:
        plan, answers = self.plan, self.plan.answers
        lines = [Content.assemble(("✓", "green"), f" {n}") for n in plan.notes]
        lines += [Content.assemble(("!", "yellow"), f" {w}") for w in plan.warnings]
        then = "then start it" if answers.start else "not started"
        heading = Content.assemble(
            ("Create ", "bold"), (plan.name, "bold"), f" on {plan.host}: {size(answers.memory)}, "
            f"{answers.vcpus} vCPU{'s' if answers.vcpus > 1 else ''}, {plan.os.name}; {then}",
        )  # fmt: skip
        with VerticalScroll(id="review"):
            yield Static(heading, id="heading")
            yield Static(Content("\n").join(lines), id="notes")
            yield Label("Domain XML", classes="section")
            yield Static(Content(domain_xml(plan).rstrip()), id="xml")
            yield Label("The same with virt-install", classes="section")
            yield Static(Content(virt_install_line(plan)), id="line")
            with Horizontal(classes="buttons"):
                yield Button("Create (c)", variant="success", compact=True, id="create")
                yield Button("Back (esc)", compact=True, id="back")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#create", Button).focus(scroll_visible=False)  # the top shows first

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "create")

    def action_create(self) -> None:
        self.dismiss(True)

    def action_back(self) -> None:
        self.dismiss(False)


class CreatingScreen(ReportsWorkerFailures, Screen):
    """Runs the creation; closing it afterwards closes the form too."""

    BINDINGS = [
        Binding("escape", "close", "Close", id="create.progress_close"),
        Binding("o", "console", "Console", id="create.open_console"),
    ]
    DEFAULT_CSS = """
    CreatingScreen #creating { height: 1fr; padding: 0 1; }
    CreatingScreen #steps, CreatingScreen #result { height: auto; }
    CreatingScreen #upload { height: 1; margin: 1 0 0 0; }
    CreatingScreen #upload ProgressBar, CreatingScreen #upload Bar { width: 1fr; }
    CreatingScreen #upload-label { width: auto; margin: 0 1 0 0; }
    CreatingScreen #result { margin: 1 0 0 0; }
    CreatingScreen .buttons { height: 1; align-horizontal: right; margin: 1 0 0 0; }
    CreatingScreen .buttons Button { margin: 0 0 0 2; }
    """

    def __init__(self, host: Host, plan: GuestPlan, *, open_console: bool = False):
        super().__init__()
        self.host, self.plan, self.open_console = host, plan, open_console
        self.steps: list[str] = []
        self.done = False
        self.failed = ""
        self.uuid = ""
        self.made: list[Made] = []
        self._transfer: Transfer | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="creating"):
            yield Static(
                Content.assemble(
                    ("Creating ", "bold"), (self.plan.name, "bold"), f" on {self.host.name}"
                )
            )
            yield Static("", id="steps")
            with Horizontal(id="upload"):
                yield Label("", id="upload-label")
                yield ProgressBar(total=100, show_eta=True, id="upload-bar")
            yield Static("", id="result")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Open console (o)", variant="primary", compact=True, id="console", disabled=True
                )
                yield Button("Close (esc)", compact=True, id="close")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#upload").display = False
        self.worker = self.run_worker(
            self._create(),
            group="create",
            description=f"create guest {self.plan.name}",
            exit_on_error=False,
        )

    def _step(self, text: str, transfer: Transfer | None) -> None:
        if not self.steps or self.steps[-1] != text:
            self.steps.append(text)
        self.query_one("#steps", Static).update(
            Content("\n").join(Content(f"· {s}") for s in self.steps)
        )
        if transfer is not None and transfer is not self._transfer:
            self._transfer = transfer
            transfer.subscribe(self._on_transfer)
            self.query_one("#upload-label", Label).update(
                Content(transfer.source.rsplit("/", 1)[-1])
            )
            self.query_one("#upload").display = True

    def _on_transfer(self, transfer: Transfer) -> None:
        if not self.is_mounted:
            return
        fraction = transfer.progress.fraction
        self.query_one("#upload-bar", ProgressBar).update(progress=(fraction or 0) * 100)
        if transfer.done:
            self.query_one("#upload").display = False

    async def _create(self) -> None:
        result = self.query_one("#result", Static)
        try:
            created = await create_guest(
                self.host, self.plan, progress=self._step, paused=self.open_console
            )
        except asyncio.CancelledError:
            self.failed = "stopped"
            if self.is_mounted:
                result.update(Content("stopped: what was made is removed · esc: back to the form"))
            raise
        except VtuiError as exc:
            self.failed = str(exc)
            result.update(Content.assemble(("✗ ", "red"), str(exc), "\nesc: back to the form"))
            return
        self.done, self.uuid, self.made = True, created.uuid, created.made
        volumes = [m.describe() for m in created.made if m.kind == "volume"]
        state = "started" if created.started else "defined (not started)"
        text = f"{created.name} is {state}" + (f"; made {', '.join(volumes)}" if volumes else "")
        result.update(Content.assemble(("✓ ", "green"), text))
        self.query_one("#console", Button).disabled = not created.started
        self.query_one("#close", Button).focus()
        if self.open_console and created.started:
            await self._console(resume=True)

    async def _console(self, resume: bool = False) -> None:
        from vtui.screens.console import open_console

        await self.host.refresh_guest(self.uuid)
        guest = self.host.guests.get(self.uuid)
        if guest is None:
            self.notify(f"{self.plan.name} is gone from {self.host.name}", severity="error")
            return
        try:
            screen = open_console(self.app, self.host, guest)
        except VtuiError as exc:
            self.notify(str(exc), severity="error")
            return
        if not resume:
            return
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ATTACH_WAIT
        while loop.time() < deadline and not (
            screen.console is not None and screen.console.is_open
        ):
            await asyncio.sleep(0.05)
        try:
            await run_action(self.host, guest, "resume")
        except VtuiError as exc:
            self.notify(str(exc), severity="error")

    def action_console(self) -> None:
        if self.done:
            self.run_worker(
                self._console(),
                description=f"open the console of {self.plan.name}",
                exit_on_error=False,
            )

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "console":
            self.action_console()
        else:
            self.action_close()

    def action_close(self) -> None:
        if self.done or self.failed:
            self.dismiss(self.done)
            return

        def answered(answer: tuple[bool, bool] | None) -> None:
            if answer and answer[0] and not (self.done or self.failed):
                self.worker.cancel()  # the creation removes what it made, then says so

        self.app.push_screen(
            ConfirmScreen(
                f"Stop creating {self.plan.name}?",
                "What was made so far (volumes, uploads, the definition) is removed.",
                yes="Stop",
            ),
            answered,
        )
