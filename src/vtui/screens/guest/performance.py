"""The guest's last ten minutes as graphs: CPU, memory, disk read/write, network
receive/send, from the history the host's sampler keeps for each running guest."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Grid, Vertical
from textual.content import Content
from textual.widgets import Sparkline, Static

from vtui.core.host import Host
from vtui.core.units import kib, size

GRAPHS = (
    ("cpu", "CPU"),
    ("memory", "Memory"),
    ("disk_read", "Disk read"),
    ("disk_write", "Disk write"),
    ("net_rx", "Net receive"),
    ("net_tx", "Net send"),
)


def _value(name: str, value: float) -> str:
    if name == "cpu":
        return f"{value:.0f}%"
    if name == "memory":
        return kib(int(value))
    return size(value, suffix="/s")


class PerformanceView(Vertical):
    DEFAULT_CSS = """
    PerformanceView { height: 1fr; }
    PerformanceView #graphs { grid-size: 2; grid-gutter: 0 2; height: 1fr; }
    PerformanceView .graph { height: 1fr; }
    PerformanceView .graph-label { height: 1; color: $text-muted; }
    PerformanceView Sparkline { height: 1fr; min-height: 2; }
    PerformanceView #span { height: 1; color: $text-muted; }
    """

    def __init__(self, host: Host, uuid: str, **kwargs):
        super().__init__(**kwargs)
        self.host, self.uuid = host, uuid

    def compose(self) -> ComposeResult:
        yield Static(id="span")
        with Grid(id="graphs"):
            for name, _label in GRAPHS:
                with Vertical(classes="graph"):
                    yield Static(id=f"label-{name}", classes="graph-label")
                    yield Sparkline([], id=f"graph-{name}", summary_function=max)

    def on_mount(self) -> None:
        self.refresh_graphs()

    def refresh_graphs(self) -> None:
        history = self.host.guest_history(self.uuid)
        samples = len(history) if history else 0
        seconds = samples * self.host.interval
        span = f"last {seconds / 60:.0f} min" if seconds >= 60 else f"last {seconds:.0f} s"
        self.query_one("#span", Static).update(
            Content(f"{span} · a sample every {self.host.interval:g} s · peak in brackets")
            if samples
            else Content("no history: the guest is not running (or was just started)")
        )
        for name, label in GRAPHS:
            values = history.series(name) if history else []
            now = _value(name, values[-1]) if values else "-"
            peak = _value(name, max(values)) if values else "-"
            self.query_one(f"#label-{name}", Static).update(Content(f"{label} {now} ({peak})"))
            self.query_one(f"#graph-{name}", Sparkline).data = values
