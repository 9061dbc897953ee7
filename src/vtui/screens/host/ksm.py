"""KSM (kernel same-page merging): running or not, its page counters, what it saves,
and its tunables, changed through a small form where the host allows it."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widget import Widget
from textual.widgets import Static

from vtui.core import units
from vtui.core.errors import VtuiError
from vtui.core.host import KsmStatus, ksm_status, set_ksm_tunables
from vtui.core.host.ksm import check_tunables
from vtui.screens.host.form import FormField, FormScreen, Problem, Values
from vtui.screens.host.section import Section

NUMBER_TUNABLES = {
    "pages_to_scan": ("Pages to scan", "pages KSM looks at each time it wakes up"),
    "sleep_millisecs": ("Sleep (ms)", "milliseconds KSM sleeps between two batches"),
}
MERGE = "merge_across_nodes"


def _text(value: int | None) -> str:
    return "" if value is None else str(value)


def _row(text: Text, label: str, value: object, note: str = "") -> None:
    text.append(f"  {label:<22}")
    text.append(f"{value if value is not None else '-':>12}", style="bold")
    text.append(f"  {note}\n" if note else "\n", style="dim")


def ksm_lines(status: KsmStatus) -> Text:
    text = Text()
    text.append("KSM (kernel same-page merging): ", style="bold")
    ksm = status.ksm
    if ksm is None:
        text.append(status.unavailable or "not available", style="yellow")
        return text
    text.append("running" if ksm.running else "stopped", style="green" if ksm.running else "")
    text.append(
        "  (read from the host)\n" if ksm.running_known else "  (guessed from its progress)\n",
        style="dim",
    )
    _row(text, "pages shared", ksm.pages_shared, "distinct pages kept for several users")
    _row(
        text,
        "pages sharing",
        ksm.pages_sharing,
        f"pages pointing at a shared one: {units.size(ksm.saved_bytes)} saved",
    )
    _row(text, "pages unshared", ksm.pages_unshared, "scanned, but unique")
    _row(text, "pages volatile", ksm.pages_volatile, "change too often to merge")
    _row(text, "full scans", ksm.full_scans)
    text.append("Tunables\n", style="bold")
    _row(text, "pages to scan", ksm.pages_to_scan, "per wake-up")
    _row(text, "sleep between batches", ksm.sleep_millisecs, "ms")
    merge = None if ksm.merge_across_nodes is None else ("yes" if ksm.merge_across_nodes else "no")
    _row(text, "merge across NUMA nodes", merge)
    if status.cannot_tune:
        text.append(f"The tunables cannot be changed: {status.cannot_tune}.", style="dim")
    else:
        text.append("e changes the tunables (for the whole host).", style="dim")
    return text


class KsmSection(Section):
    TAB = "ksm"
    LABEL = "KSM numbers"
    POLLED = True  # libvirt has no event for KSM

    DEFAULT_CSS = """
    KsmSection #ksm-scroll { height: 1fr; padding: 0 1; }
    """

    def __init__(self, host):
        super().__init__(host)
        self.status: KsmStatus | None = None

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="ksm-scroll", can_focus=True):
            yield Static("reading KSM's numbers...", id="ksm-numbers")
        yield Static("", classes="status")

    def focus_target(self) -> Widget | None:
        return self.query_one("#ksm-scroll")

    async def load(self) -> None:
        self.status = await ksm_status(self.host)
        self.query_one("#ksm-numbers", Static).update(ksm_lines(self.status))
        self.say(f"read every few seconds while shown · {self.host.name}")

    def refusal(self, action: str) -> str | None:
        what = "change KSM tunables"
        why = self.writable(what)
        if why:
            return why
        status = self.status
        if status is None:
            return f"cannot {what}: KSM's numbers are not read yet"
        if status.ksm is None:
            return f"cannot {what}: KSM is {status.unavailable}"
        if status.cannot_tune:
            return f"cannot {what}: {status.cannot_tune}"
        return None

    def do_tune(self) -> None:
        status = self.status
        assert status is not None and status.ksm is not None
        ksm = status.ksm
        fields = [
            FormField(name, label, _text(getattr(ksm, name)), hint=hint)
            for name, (label, hint) in NUMBER_TUNABLES.items()
            if name in status.tunables
        ]
        if MERGE in status.tunables:
            fields.append(
                FormField(
                    MERGE,
                    "merge pages of different NUMA nodes",
                    bool(ksm.merge_across_nodes),
                    hint="only changes while no page is shared",
                )
            )

        def wanted(values: Values) -> dict[str, int | bool]:
            out: dict[str, int | bool] = {}
            for name, value in values.items():
                if isinstance(value, bool):
                    if value != ksm.merge_across_nodes:
                        out[name] = value
                    continue
                number = int(value.strip())
                if number != getattr(ksm, name):
                    out[name] = number
            return out

        def check(values: Values) -> Problem | None:
            for name, value in values.items():
                if isinstance(value, str) and not value.strip().isdigit():
                    return ("give a whole number", name)
            for name, value in wanted(values).items():
                try:
                    check_tunables(status, {name: value})
                except VtuiError as exc:
                    return (exc.message, name)
            return None

        async def submit(values: Values) -> KsmStatus:
            changes = wanted(values)
            if not changes:
                return status
            return await set_ksm_tunables(self.host, **changes)  # type: ignore[arg-type]

        def done(result: object) -> None:
            if isinstance(result, KsmStatus):
                self.tell(f"{self.host.name}: KSM tunables set")
                self.reload()

        self.app.push_screen(
            FormScreen(
                f"KSM tunables of {self.host.name}",
                fields,
                submit,
                check=check,
                yes="Set (enter)",
                intro="These apply to the whole host, like writing /sys/kernel/mm/ksm/.",
            ),
            done,
        )
