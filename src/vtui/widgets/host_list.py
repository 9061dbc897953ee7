"""One line per host, for fleets: status, load, memory, guests; select to see more.

Space collapses a host: its guests leave the table and its sampler pauses (events
still arrive), so a collapsed host costs next to nothing.
"""

from __future__ import annotations

from rich.segment import Segment
from rich.style import Style
from textual.binding import Binding
from textual.events import Click
from textual.geometry import Size
from textual.message import Message
from textual.scroll_view import ScrollView
from textual.strip import Strip

from vtui.core import units
from vtui.core.host import Host, HostStatus

STATUS_MARK = {
    HostStatus.CONNECTED: ("●", "green"),
    HostStatus.CONNECTING: ("◌", "yellow"),
    HostStatus.DISCONNECTED: ("✖", "bold red"),
    HostStatus.FAILED: ("✖", "red"),
    HostStatus.CLOSED: ("·", "dim"),
}


def host_summary(host: Host) -> str:
    """The numbers that fit on one line."""
    facts = host.facts
    if host.status is not HostStatus.CONNECTED:
        text = host.status.value
        if host.last_sample_at:
            text += f", last sample {units.uptime(host.last_sample_at)} ago"
        return f"{text}: {host.error}" if host.error else text
    counts = host.counts_by_state()
    running = counts.get("running", 0)
    others = sum(counts.values()) - running
    cpu = units.percent(facts.cpu_pct) if facts else "-"
    mem = (
        f"{units.kib(facts.memory_used_kib)}/{units.kib(facts.memory_total_kib)}" if facts else "-"
    )
    vcpu, memc = host.commitment()
    ratio = "-" if vcpu is None else f"{vcpu:.1f}"
    return (
        f"CPU {cpu:>5}%  mem {mem:>11}  guests {running:>3} up {others:>3} other  vCPU:pCPU {ratio}"
    )


class HostList(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    HostList { height: auto; max-height: 6; background: $boost; }
    HostList > .host-list--cursor { background: $accent 40%; }
    """
    COMPONENT_CLASSES = {"host-list--cursor"}
    BINDINGS = [
        Binding("up", "move(-1)", "Up", show=False, id="hosts.up"),
        Binding("down", "move(1)", "Down", show=False, id="hosts.down"),
        Binding("space", "collapse", "Collapse host", id="hosts.collapse"),
        Binding("enter", "open", "Host details", id="hosts.open"),
        Binding("r", "retry", "Retry", id="hosts.retry"),
        Binding("x,delete", "remove", "Remove", id="hosts.remove"),
    ]

    class Selected(Message):
        def __init__(self, host: Host):
            super().__init__()
            self.host = host

    class Retry(Message):
        """Connect a failed or disconnected host again, now."""

        def __init__(self, host: Host):
            super().__init__()
            self.host = host

    class Remove(Message):
        """Drop a host from this session (its saved entry, if any, stays)."""

        def __init__(self, host: Host):
            super().__init__()
            self.host = host

    class Collapsed(Message):
        def __init__(self, host: Host, collapsed: bool):
            super().__init__()
            self.host, self.collapsed = host, collapsed

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hosts: list[Host] = []
        self.collapsed: set[str] = set()
        self.cursor = 0

    def show(self, hosts: list[Host]) -> None:
        self.hosts = hosts
        self.cursor = min(self.cursor, max(len(hosts) - 1, 0))
        self.virtual_size = Size(self.size.width, len(hosts))
        self.styles.height = min(len(hosts), 6)
        self.refresh()

    @property
    def selected(self) -> Host | None:
        return self.hosts[self.cursor] if self.hosts else None

    def action_move(self, delta: int) -> None:
        if self.hosts:
            self.cursor = max(0, min(self.cursor + delta, len(self.hosts) - 1))
            self.refresh_bindings()
            if self.cursor < self.scroll_y:
                self.scroll_to(y=self.cursor, animate=False)
            elif self.cursor >= self.scroll_y + self.size.height:
                self.scroll_to(y=self.cursor - self.size.height + 1, animate=False)
            self.refresh()

    def action_collapse(self) -> None:
        host = self.selected
        if host is None:
            return
        collapsed = host.name not in self.collapsed
        (self.collapsed.add if collapsed else self.collapsed.discard)(host.name)
        self.post_message(self.Collapsed(host, collapsed))
        self.refresh()
        self.refresh_bindings()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry":  # only where it can help: shown otherwise it is noise
            host = self.selected
            return host is not None and host.status in (HostStatus.FAILED, HostStatus.DISCONNECTED)
        return True

    def action_retry(self) -> None:
        if self.selected is not None:
            self.post_message(self.Retry(self.selected))

    def action_remove(self) -> None:
        if self.selected is not None:
            self.post_message(self.Remove(self.selected))

    def action_open(self) -> None:
        if self.selected is not None:
            self.post_message(self.Selected(self.selected))

    def on_click(self, event: Click) -> None:
        row = round(self.scroll_y) + event.y
        if 0 <= row < len(self.hosts):
            self.cursor = row
            self.refresh()
            if event.chain > 1:
                self.action_open()

    def render_line(self, y: int) -> Strip:
        width = self.size.width
        row = round(self.scroll_y) + y
        base = self.rich_style
        if row >= len(self.hosts):
            return Strip.blank(width, base)
        host = self.hosts[row]
        if row == self.cursor and self.has_focus:
            base = base + self.get_component_rich_style("host-list--cursor")
        mark, style = STATUS_MARK[host.status]
        fold = "▸" if host.name in self.collapsed else "▾"
        dim = Style(dim=True) if host.status is not HostStatus.CONNECTED else Style()
        segments = [
            Segment(f"{fold}{mark} ", base + Style.parse(style)),
            Segment(f"{host.name[:18]:<18} ", base + Style(bold=True)),
            Segment(host_summary(host), base + dim),
        ]
        return Strip(segments).crop(0, width).extend_cell_length(width, base)
