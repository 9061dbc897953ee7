"""The form for a new storage pool: only the types this host's libvirt supports, and for
the chosen type only the fields it needs (pool_types says which), checked as typed."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.events import DescendantFocus
from textual.widget import Widget
from textual.widgets import Button, Checkbox, Input, Label, Select, Static

from vtui.core.errors import VtuiError
from vtui.core.host import Host
from vtui.core.storage import BadInput, Pool, PoolType, check_name, create_pool
from vtui.screens.dialogs import ConfirmScreen
from vtui.screens.dialogs.frame import Dialog


class PoolForm(Dialog[Pool | None]):
    """Dismisses with the pool made, or None."""

    DEFAULT_CSS = """
    PoolForm > .dialog { width: 76; }
    PoolForm .row { height: 1; }
    PoolForm .row Label { width: 17; color: $text-muted; }
    PoolForm .row Input, PoolForm .row Select { width: 1fr; }
    PoolForm .row Input.-invalid { color: $error; }
    PoolForm #kind-fields { height: auto; }
    PoolForm Checkbox { width: 1fr; }
    PoolForm #problem { color: $error; height: auto; margin: 1 0 0 0; }
    PoolForm #hint { height: auto; margin: 1 0 0 0; }
    PoolForm .dialog-buttons { margin: 1 0 0 0; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="form.cancel")]

    def __init__(self, host: Host, kinds: list[PoolType], taken: set[str]):
        super().__init__()
        self.host, self.taken = host, taken
        self.kinds = {k.type: k for k in kinds}
        self.kind = self.kinds.get("dir") or kinds[0]
        self.answers: dict[str, str] = {}  # kept while the type changes
        self.busy = False

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Static(Content(f"New storage pool on {self.host.name}"), classes="dialog-title")
            yield Horizontal(
                Label("Type"),
                Select(
                    [(Content(f"{k.type}: {k.label}"), k.type) for k in self.kinds.values()],
                    value=self.kind.type,
                    allow_blank=False,
                    compact=True,
                    id="kind",
                ),
                classes="row",
            )
            with Vertical(id="kind-fields"):
                yield from self.kind_rows()
            yield Checkbox("Start it now", True, compact=True, id="start")
            yield Checkbox("Start it when the host boots (autostart)", compact=True, id="autostart")
            yield Static("", id="problem")
            yield Static("", id="hint", classes="dialog-hint")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Create (enter)", variant="primary", id="yes", compact=True)
                yield Button("Cancel (esc)", id="no", compact=True)

    def kind_rows(self) -> list[Widget]:
        rows: list[Widget] = []
        for spec in self.kind.fields:
            value = self.answers.get(spec.name, spec.default)
            label = spec.label + ("" if spec.required else " (optional)")
            widget: Widget
            if spec.choices:
                widget = Select(
                    [(Content(c), c) for c in spec.choices],
                    value=value if value in spec.choices else spec.choices[0],
                    allow_blank=False,
                    compact=True,
                    id=f"field-{spec.name}",
                )
            else:
                widget = Input(value, compact=True, id=f"field-{spec.name}")
            rows.append(Horizontal(Label(Content(label)), widget, classes="row"))
        if self.kind.can_build:
            rows.append(
                Checkbox(
                    Content(f"Build: {self.kind.build_note}"),
                    not self.kind.build_destroys,  # making a directory is harmless
                    compact=True,
                    id="build",
                )
            )
        return rows

    def on_mount(self) -> None:
        self.query_one("#problem", Static).display = False
        self.focus_first_field()

    def focus_first_field(self) -> None:
        fields = self.query("#kind-fields Input")
        if fields:
            fields.first().focus()

    # -- reading and checking --------------------------------------------------------------
    def values(self) -> dict[str, str]:
        out = {}
        for spec in self.kind.fields:
            widget = self.query_one(f"#field-{spec.name}")
            if isinstance(widget, Select):
                out[spec.name] = "" if widget.value is Select.NULL else str(widget.value)
            elif isinstance(widget, Input):
                out[spec.name] = widget.value
        return out

    def building(self) -> bool:
        build = self.query("#build")
        return bool(build) and build.first(Checkbox).value

    def problem(self) -> tuple[str, str] | None:
        """What is wrong, and the field it is about."""
        values = self.values()
        try:
            name = check_name(values.get("name", "").strip(), "pool")
        except BadInput as exc:
            return exc.message, "name"
        if name in self.taken:
            return f"there already is a pool called {name!r}", "name"
        for spec in self.kind.fields:
            value = values.get(spec.name, "").strip()
            if spec.required and not value:
                return f"a {self.kind.type} pool needs {spec.label.lower()}", spec.name
        target = values.get("target_path", "").strip()
        if target and not target.startswith("/"):
            return f"{target!r} is not an absolute path (it starts with /)", "target_path"
        return None

    def show_problem(self, problem: tuple[str, str] | None) -> None:
        box = self.query_one("#problem", Static)
        for widget in self.query("#kind-fields Input"):
            widget.set_class(problem is not None and widget.id == f"field-{problem[1]}", "-invalid")
        box.display = problem is not None
        if problem is not None:
            box.update(Content(problem[0]))

    def on_input_changed(self, event: Input.Changed) -> None:
        self.answers[(event.input.id or "").removeprefix("field-")] = event.value
        self.show_problem(self.problem())

    async def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id != "kind" or event.value == self.kind.type:
            return
        self.answers.update(self.values())
        self.kind = self.kinds[str(event.value)]
        box = self.query_one("#kind-fields")
        await box.remove_children()
        await box.mount_all(self.kind_rows())
        self.show_problem(None)

    def on_descendant_focus(self, event: DescendantFocus) -> None:
        name = (event.widget.id or "").removeprefix("field-")
        spec = self.kind.field(name)
        hint = spec.hint if spec else ""
        if event.widget.id == "build" and self.kind.build_destroys:
            hint = f"building {self.kind.build_note}"
        self.query_one("#hint", Static).update(Content(hint))

    # -- creating -----------------------------------------------------------------------------
    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_create()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "yes":
            self.action_create()
        else:
            self.action_cancel()

    def action_create(self) -> None:
        problem = self.problem()
        self.show_problem(problem)
        if problem is not None:
            self.query_one(f"#field-{problem[1]}").focus()
            return
        if not self.busy:
            self.busy = True
            self.run_worker(
                self._create(), description="create a storage pool", exit_on_error=False
            )

    async def _create(self) -> None:
        values = {k: v.strip() for k, v in self.values().items() if v.strip()}
        build = self.building()
        try:
            if build and self.kind.build_destroys:
                device = values.get("source_device", "the device")
                answer = await self.app.push_screen_wait(
                    ConfirmScreen(
                        f"Build pool {values['name']}?",
                        f"Building {self.kind.build_note}: {device}. This cannot be undone.",
                        yes="Build",
                    )
                )
                if not answer or not answer[0]:
                    return
            pool = await create_pool(
                self.host,
                self.kind.type,
                values,
                build=build,
                start=self.query_one("#start", Checkbox).value,
                autostart=self.query_one("#autostart", Checkbox).value,
            )
        except VtuiError as exc:
            self.show_problem((str(exc), ""))
            return
        finally:
            self.busy = False
        self.dismiss(pool)

    def action_cancel(self) -> None:
        self.dismiss(None)
