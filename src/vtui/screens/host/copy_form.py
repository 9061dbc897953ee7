"""Copy a volume to another connected host: which host, which of its pools, under
what name. The data streams through this machine (a download feeding an upload)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Button, Input, Label, Select, Static

from vtui.core.errors import VtuiError
from vtui.core.host import Host, HostStatus
from vtui.core.storage import (
    BadInput,
    Transfer,
    Volume,
    check_name,
    list_pools,
    parse_size,
    start_copy,
)
from vtui.core.units import size
from vtui.screens.dialogs.frame import Dialog


def copy_targets(app: App, source: Host) -> list[Host]:
    """The other hosts a volume can be copied to now: connected, writable."""
    fleet = getattr(app, "fleet", None)
    hosts = fleet.hosts.values() if fleet is not None else ()
    return [
        h for h in hosts if h is not source and h.status is HostStatus.CONNECTED and not h.readonly
    ]


class CopyForm(Dialog[Transfer | None]):
    DEFAULT_CSS = """
    CopyForm > .dialog { width: 76; }
    CopyForm .row { height: 1; }
    CopyForm .row Label { width: 17; color: $text-muted; }
    CopyForm .row Input, CopyForm .row Select { width: 1fr; }
    CopyForm #problem { color: $error; height: auto; margin: 1 0 0 0; }
    CopyForm .dialog-buttons { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "dismiss(None)", "Cancel", id="form.cancel")]

    def __init__(self, host: Host, volume: Volume):
        super().__init__()
        self.host, self.volume = host, volume
        self.busy = False

    def compose(self) -> ComposeResult:
        v = self.volume
        targets = copy_targets(self.app, self.host)
        with Vertical(classes="dialog"):
            yield Static(
                Content(f"Copy volume {v.name} ({size(v.stream_length)}) from {self.host.name}"),
                classes="dialog-title",
            )
            yield Horizontal(
                Label("To host"),
                Select(
                    [(Content(h.name), h.name) for h in targets],
                    value=targets[0].name if targets else Select.NULL,
                    allow_blank=not targets,
                    prompt="no other connected host",
                    compact=True,
                    id="dest-host",
                ),
                classes="row",
            )
            yield Horizontal(
                Label("Pool"),
                Select([], prompt="reading its pools...", compact=True, id="dest-pool"),
                classes="row",
            )
            yield Horizontal(
                Label("Volume name"), Input(v.name, compact=True, id="name"), classes="row"
            )
            yield Horizontal(
                Label("Rate limit"),
                Input(placeholder="none (e.g. 50M per second)", compact=True, id="limit"),
                classes="row",
            )
            yield Static("", id="problem")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Copy (enter)", variant="primary", id="yes", compact=True)
                yield Button("Cancel (esc)", id="no", compact=True)

    def on_mount(self) -> None:
        self.say("")
        self.read_pools()
        self.query_one("#dest-host").focus()

    def say(self, problem: str) -> None:
        box = self.query_one("#problem", Static)
        box.update(Content(problem))
        box.display = bool(problem)

    def destination(self) -> Host | None:
        value = self.query_one("#dest-host", Select).value
        return next((h for h in copy_targets(self.app, self.host) if h.name == value), None)

    def read_pools(self) -> None:
        dest = self.destination()
        if dest is None:
            self.say("no other connected host that can be written to")
            return

        async def read() -> None:
            try:
                pools = [p for p in await list_pools(dest) if p.active]
            except VtuiError as exc:
                self.say(str(exc))
                return
            if dest is not self.destination():
                return
            select = self.query_one("#dest-pool", Select)
            select.set_options(
                (Content(f"{p.name} ({size(p.available)} free)"), p.name) for p in pools
            )
            if pools:
                select.value = pools[0].name
            else:
                self.say(f"{dest.name} has no active storage pool")

        self.run_worker(read, group="pools", exclusive=True, exit_on_error=False)

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "dest-host":
            self.say("")
            self.read_pools()

    def problem(self) -> str:
        name = self.query_one("#name", Input).value
        try:
            check_name(name)
        except BadInput as exc:
            return exc.message
        if self.destination() is None:
            return "choose a host to copy to"
        if self.query_one("#dest-pool", Select).value is Select.NULL:
            return "choose a pool on that host"
        limit = self.query_one("#limit", Input).value.strip()
        if limit:
            try:
                parse_size(limit)
            except BadInput as exc:
                return exc.message
        return ""

    def on_input_changed(self, _event: Input.Changed) -> None:
        self.say(self.problem())

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.start()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.start()
        else:
            self.dismiss(None)

    def start(self) -> None:
        problem = self.problem()
        self.say(problem)
        if problem or self.busy:
            return
        self.busy = True
        self.run_worker(
            self._start(), description=f"copy volume {self.volume.name}", exit_on_error=False
        )

    async def _start(self) -> None:
        dest = self.destination()
        assert dest is not None
        pool = str(self.query_one("#dest-pool", Select).value)
        limit = self.query_one("#limit", Input).value.strip()
        try:
            transfer = await start_copy(
                self.host,
                self.volume.pool,
                self.volume.name,
                dest,
                pool,
                name=self.query_one("#name", Input).value,
                limit_bps=float(parse_size(limit)) if limit else None,
            )
        except VtuiError as exc:
            self.say(str(exc))
            return
        finally:
            self.busy = False
        self.dismiss(transfer)
