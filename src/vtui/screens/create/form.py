"""The create form (`n`): one scrolling screen of sections, keyboard first (Tab moves,
Enter reviews), every choice read from the host in a worker. The name is checked as
it is typed; the rest when the review is asked for, by the core (plan_guest), which
lists every problem. The review screen shows the XML and the virt-install line."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.suggester import SuggestFromList
from textual.widgets import Button, Checkbox, Footer, Input, Label, Select, Static

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests.create import (
    CLOUD_IMAGE,
    DEFAULT_OS,
    EXISTING_DISK,
    IMPORT,
    ISO,
    KERNEL,
    NEW_DISK,
    NO_NETWORK,
    URL,
    CreateRefused,
    GuestAnswers,
    HostChoices,
    answer_problems,
    device_models,
    local_public_keys,
    name_problem,
    plan_guest,
    read_choices,
)
from vtui.core.host import Host, HostStatus
from vtui.failures import ReportsWorkerFailures
from vtui.screens.create import fields
from vtui.screens.create.fields import options, row, value
from vtui.screens.create.reading import read_answers
from vtui.screens.create.sections import (
    cloud_init_rows,
    install_rows,
    network_rows,
    platform_rows,
    storage_rows,
)

# which rows each install source shows
SOURCE_ROWS = {
    CLOUD_IMAGE: {"volume", "local-file", "cloud"},
    ISO: {"volume", "local-file"},
    URL: {"url", "cmdline"},
    IMPORT: {"volume"},
    KERNEL: {"kernel", "initrd", "cmdline"},
}


class CreateScreen(ReportsWorkerFailures, Screen):
    BINDINGS = [
        Binding("escape", "close", "Cancel", id="create.close"),
        Binding("ctrl+r", "review", "Review", id="create.review"),
    ]
    DEFAULT_CSS = """
    CreateScreen #form { height: 1fr; padding: 0 1; }
    CreateScreen .section { text-style: bold; color: $accent; margin: 1 0 0 0; }
    CreateScreen #row-cloud { height: auto; }
    CreateScreen .row { height: 1; }
    CreateScreen .field { width: 14; color: $text-muted; }
    CreateScreen .row Input, CreateScreen .row Select { width: 1fr; }
    CreateScreen .hint { width: auto; color: $text-muted; margin: 0 0 0 1; }
    CreateScreen .row Checkbox { width: 1fr; }
    CreateScreen #title-line, CreateScreen #name-problem, CreateScreen #os-hint,
    CreateScreen #loading, CreateScreen #problems { height: auto; }
    CreateScreen #name-problem, CreateScreen #problems { color: $error; }
    CreateScreen #os-hint, CreateScreen #loading { color: $text-muted; }
    CreateScreen .buttons { height: 1; align-horizontal: right; margin: 1 0 0 0; }
    CreateScreen .buttons Button { margin: 0 0 0 2; }
    """

    def __init__(self, fleet: Fleet, host: Host):
        super().__init__()
        self.fleet, self.host = fleet, host
        self.choices: HostChoices | None = None

    def hosts(self) -> list[Host]:
        return [
            h
            for h in self.fleet.hosts.values()
            if h.status is HostStatus.CONNECTED and not h.readonly
        ]

    def compose(self) -> ComposeResult:
        keys = ", ".join(local_public_keys()[:1])
        with VerticalScroll(id="form"):
            yield Static(Content.assemble(("New guest", "bold")), id="title-line")
            if len(self.hosts()) > 1:
                hosts = [(h.name, h.name) for h in self.hosts()]
                yield row(
                    "Host",
                    Select(
                        options(hosts),
                        value=self.host.name,
                        allow_blank=False,
                        compact=True,
                        id="host",
                    ),
                )
            yield Static("reading what the host offers...", id="loading")
            yield Label("Guest", classes="section")
            yield row("Name", Input(placeholder="e.g. web-01", compact=True, id="name"))
            yield Static("", id="name-problem")
            yield row("Title", Input(placeholder="optional one line", compact=True, id="title"))
            yield row(
                "Memory",
                Input("1G", compact=True, id="memory"),
                Label("", classes="hint", id="memory-hint"),
            )
            yield row(
                "vCPUs",
                Input("1", compact=True, id="vcpus"),
                Label("", classes="hint", id="vcpus-hint"),
            )
            yield row("OS", Input(DEFAULT_OS, compact=True, id="os"))
            yield Static("", id="os-hint")
            yield from install_rows()
            yield from cloud_init_rows(keys)
            yield from storage_rows()
            yield from network_rows()
            yield from platform_rows()
            yield Static("", id="problems")
            with Horizontal(classes="buttons"):
                yield Button(
                    "Review (ctrl+r)", variant="primary", compact=True, id="review", disabled=True
                )
                yield Button("Cancel (esc)", compact=True, id="cancel")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.query_one("#problems", Static).display = False
        self.query_one("#cpu-model").display = False
        self._show_source()
        self._show_disk()
        self._show_network()
        self.query_one("#name", Input).focus()
        self.load()

    # -- reading the host ------------------------------------------------------------------
    def load(self) -> None:
        self.query_one("#review", Button).disabled = True
        self.query_one("#loading", Static).update(
            Content(f"reading what {self.host.name} offers...")
        )
        self.query_one("#loading").display = True
        self.run_worker(
            self._load(self.host),
            group="choices",
            exclusive=True,
            description=f"read what {self.host.name} offers",
            exit_on_error=False,
        )

    async def _load(self, host: Host) -> None:
        try:
            choices = await read_choices(host)
        except VtuiError as exc:
            self.query_one("#loading", Static).update(Content.styled(str(exc), "red"))
            return
        if host is not self.host:
            return
        self.choices = choices
        self._fill(choices)

    def _fill(self, choices: HostChoices) -> None:
        q = self.query_one
        title = Content.assemble(("New guest on ", "bold"), (choices.host, "bold"))
        q("#title-line", Static).update(title)
        q("#memory-hint", Label).update(fields.memory_hint(choices))
        q("#vcpus-hint", Label).update(fields.cpu_hint(choices))
        q("#os", Input).suggester = SuggestFromList(
            sorted(choices.os_db.entries), case_sensitive=False
        )
        pools = fields.pool_options(choices)
        q("#pool", Select).set_options(pools)
        if choices.default_pool():
            q("#pool", Select).value = choices.default_pool()
        for select_id, found in (
            ("#firmware", fields.firmware_options(choices)),
            ("#domain-type", fields.domain_type_options(choices)),
            ("#machine", fields.machine_options(choices)),
            ("#cpu", fields.cpu_options(choices)),
            ("#graphics", fields.graphics_options(choices)),
        ):
            select = q(select_id, Select)
            current = select.value
            select.set_options(found)
            select.value = current if any(v == current for _l, v in found) else found[0][1]
        if choices.default_network() and q("#net-kind", Select).value == "none":
            q("#net-kind", Select).value = "network"
        self._show_network()
        self._show_os()
        notes = [f"{choices.os_db.source}"] + [f"not read: {p}" for p in choices.problems]
        q("#loading", Static).update(Content(" · ".join(notes)))
        q("#review", Button).disabled = False

    # -- what shows -----------------------------------------------------------------------
    def _show_source(self) -> None:
        kind = value(self.query_one("#source", Select))
        shown = SOURCE_ROWS.get(kind, set())
        for name in ("volume", "local-file", "url", "kernel", "initrd", "cmdline", "cloud"):
            self.query_one(f"#row-{name}").display = name in shown

    def _show_disk(self) -> None:
        mode = value(self.query_one("#disk-mode", Select))
        for name in ("pool", "size"):
            self.query_one(f"#row-{name}").display = mode == NEW_DISK
        self.query_one("#row-disk-volume").display = mode == EXISTING_DISK
        self.query_one("#row-bus").display = mode != "none"

    def _show_network(self) -> None:
        kind = value(self.query_one("#net-kind", Select))
        self.query_one("#row-net-source").display = kind != NO_NETWORK
        self.query_one("#row-net-model").display = kind != NO_NETWORK
        if self.choices is not None and kind != NO_NETWORK:
            select = self.query_one("#net-source", Select)
            found = fields.network_source_options(self.choices, kind)
            select.set_options(found)
            wanted = self.choices.default_network() if kind == "network" else ""
            if found:
                select.value = wanted if any(v == wanted for _l, v in found) else found[0][1]

    def _show_os(self) -> None:
        hint = self.query_one("#os-hint", Static)
        if self.choices is None:
            return
        text = self.query_one("#os", Input).value
        found = self.choices.os_db.find(text)
        if found is None:
            hint.update(Content.styled(f"unknown OS {text!r} (Tab completes an osinfo id)", "red"))
            return
        models = device_models(found, "q35" if found.q35 else "pc")
        hint.update(Content(models.reason))

    def on_select_changed(self, event: Select.Changed) -> None:
        select_id = event.select.id
        if select_id == "source":
            self._show_source()
        elif select_id == "disk-mode":
            self._show_disk()
        elif select_id == "net-kind":
            self._show_network()
        elif select_id == "cpu":
            self.query_one("#cpu-model").display = event.value == "custom"
        elif select_id == "host" and isinstance(event.value, str):
            host = self.fleet.hosts.get(event.value)
            if host is not None and host is not self.host:
                self.host, self.choices = host, None
                self.load()

    def on_input_changed(self, event: Input.Changed) -> None:
        if event.input.id == "name":
            self.query_one("#name-problem", Static).update(Content(self._name_problem(event.value)))
        elif event.input.id == "os":
            self._show_os()

    def _name_problem(self, name: str) -> str:
        if not name:
            return ""
        problem = name_problem(name)
        if not problem and self.host.find(name) is not None:
            problem = f"{self.host.name} already has a guest called {name!r}"
        return problem

    def on_input_submitted(self, _event: Input.Submitted) -> None:
        self.action_review()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "review":
            self.action_review()
        elif event.button.id == "cancel":
            self.action_close()

    def action_close(self) -> None:
        self.dismiss(None)

    # -- the answers ----------------------------------------------------------------------
    def read_answers(self) -> tuple[GuestAnswers, list[str]]:
        return read_answers(self)

    def show_problems(self, problems: list[str]) -> None:
        box = self.query_one("#problems", Static)
        box.update(Content("\n").join(Content(f"✗ {p}") for p in problems))
        box.display = bool(problems)
        if problems:
            self.query_one("#form", VerticalScroll).scroll_to_widget(box)

    def action_review(self) -> None:
        if self.choices is None:
            self.notify("still reading what the host offers", severity="warning")
            return
        answers, problems = self.read_answers()
        problems += answer_problems(answers, self.choices) if not problems else []
        self.show_problems(problems)
        if not problems:
            self.run_worker(
                self._review(answers),
                group="review",
                exclusive=True,
                description=f"check the new guest {answers.name}",
                exit_on_error=False,
            )

    async def _review(self, answers: GuestAnswers) -> None:
        from vtui.screens.create.review import CreatingScreen, ReviewScreen

        assert self.choices is not None
        try:
            plan = await plan_guest(self.host, answers, self.choices)
        except CreateRefused as exc:
            self.show_problems(exc.problems)
            return
        except VtuiError as exc:
            self.show_problems([str(exc)])
            return
        if not await self.app.push_screen_wait(ReviewScreen(plan)):
            return  # back to the form, answers as they were
        console = self.query_one("#console", Checkbox).value and answers.start

        def finished(created: bool | None) -> None:
            if created:
                self.dismiss(None)  # made: the form is done too; else back to it

        self.app.push_screen(CreatingScreen(self.host, plan, open_console=console), finished)
