"""The host at a glance: what the host panel says, CPU and memory history, NUMA cells,
and what it can run (guest architectures, machine types, KVM or TCG, firmware)."""

from __future__ import annotations

from collections.abc import Iterable

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.widget import Widget
from textual.widgets import Sparkline, Static

from vtui.core import units
from vtui.core.host import Change, GuestArch, HostCapabilities, capabilities
from vtui.core.host.sampler import HISTORY
from vtui.screens.host.section import Section
from vtui.widgets.host_panel import host_lines

SHOWN_MACHINES = 3  # machine types named per architecture (the rest are counted)


def cpu_ranges(cpus: Iterable[int]) -> str:
    """(0, 1, 2, 3, 8, 9) -> '0-3,8-9'."""
    ranges: list[list[int]] = []
    for cpu in sorted(cpus):
        if ranges and cpu == ranges[-1][1] + 1:
            ranges[-1][1] = cpu
        else:
            ranges.append([cpu, cpu])
    return ",".join(str(a) if a == b else f"{a}-{b}" for a, b in ranges) or "-"


def history_label(what: str, values: list[float]) -> Content:
    if not values:
        return Content.assemble((what, "bold"), "  no samples yet")
    return Content.assemble((what, "bold"), f" now {values[-1]:.1f}%, max {max(values):.1f}%")


def arch_line(guest: GuestArch) -> Text:
    """x86_64 hvm 64-bit: qemu, kvm; 60 machine types, q35 = pc-q35-7.2, pc = ..."""
    bits = f" {guest.wordsize}-bit" if guest.wordsize else ""
    line = Text()
    line.append(f"  {guest.arch} {guest.os_type}{bits}: ", style="bold")
    line.append(", ".join(guest.domain_types) or "no domain types")
    if guest.machines:
        aliases = [f"{m.name} = {m.canonical}" for m in guest.machines if m.canonical]
        named = aliases or [m.name for m in guest.machines if not m.deprecated]
        line.append(f"; {len(guest.machines)} machine types")
        if named:
            line.append(", " + ", ".join(named[:SHOWN_MACHINES]))
    return line


def capability_lines(caps: HostCapabilities) -> Text:
    text = Text()
    text.append("What it can run\n", style="bold")
    for guest in caps.guests:
        text.append_text(arch_line(guest))
        text.append("\n")
    text.append("  acceleration: ")
    if caps.kvm:
        text.append("KVM (hardware virtualisation)", style="green")
    else:
        text.append("TCG only: no KVM here, guests are emulated (slow)", style="yellow")
    text.append("\n  firmware: ")
    fw = caps.firmware
    if fw is None:
        text.append(f"not known ({caps.firmware_error or 'not reported'})", style="dim")
    else:
        kinds = [k.upper() for k in fw.autoselect]  # bios, efi
        if fw.efi and "EFI" not in kinds:
            kinds.append("EFI")
        text.append(", ".join(kinds) or "BIOS")
        if fw.secure_boot:
            text.append(" (secure boot)")
        text.append(f" for {fw.arch} {fw.machine} {fw.domain_type} guests")
        for path in fw.loader_paths:
            text.append(f"\n    {path}", style="dim")
    iommu = {True: "yes", False: "no", None: "not reported"}[caps.iommu]
    text.append(f"\n  IOMMU (device assignment): {iommu}")
    return text


class OverviewSection(Section):
    TAB = "overview"
    LABEL = "capabilities"

    DEFAULT_CSS = """
    OverviewSection #overview-scroll { height: 1fr; padding: 0 1; }
    OverviewSection #graphs { height: 4; margin: 1 0 0 0; }
    OverviewSection #graphs > Vertical { width: 1fr; margin: 0 1 0 0; }
    OverviewSection #graphs Static { height: 1; text-wrap: nowrap; text-overflow: ellipsis; }
    OverviewSection Sparkline { height: 3; }
    OverviewSection #numa, OverviewSection #caps { height: auto; margin: 1 0 0 0; }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="overview-scroll", can_focus=True):
            yield Static("", id="facts")
            with Horizontal(id="graphs"):
                with Vertical():
                    yield Static("", id="cpu-label")
                    yield Sparkline([], id="cpu-graph", summary_function=max)
                with Vertical():
                    yield Static("", id="memory-label")
                    yield Sparkline([], id="memory-graph", summary_function=max)
            yield Static("", id="numa")
            yield Static("", id="caps")
        yield Static("", classes="status")

    def focus_target(self) -> Widget | None:
        return self.query_one("#overview-scroll")

    def on_mount(self) -> None:
        self.show_facts()

    def changed(self, change: Change) -> None:
        if change.host_changed:
            self.show_facts()

    def show_facts(self) -> None:
        host = self.host
        self.query_one("#facts", Static).update(host_lines(host))
        cpu, memory = list(host.cpu_history), list(host.memory_history)
        # (one sample would fill the graph: a line needs two)
        self.query_one("#cpu-graph", Sparkline).data = cpu if len(cpu) > 1 else []
        self.query_one("#memory-graph", Sparkline).data = memory if len(memory) > 1 else []
        self.query_one("#cpu-label", Static).update(history_label("CPU", cpu))
        self.query_one("#memory-label", Static).update(history_label("memory", memory))
        self.query_one("#numa", Static).update(self.numa_lines())

    def numa_lines(self) -> Text:
        facts = self.host.facts
        cells = facts.numa if facts is not None else []
        text = Text()
        text.append("NUMA cells\n", style="bold")
        if not cells:
            text.append("  none reported (one memory node)", style="dim")
            return text
        for cell in cells:
            free = units.kib(cell.free_kib) if cell.free_kib is not None else "-"
            text.append(
                f"  cell {cell.id}: CPUs {cpu_ranges(cell.cpus)}  memory "
                f"{units.kib(cell.total_kib)}  free {free}\n"
            )
        text.rstrip()
        return text

    async def load(self) -> None:
        caps = await capabilities(self.host)
        self.query_one("#caps", Static).update(capability_lines(caps))
        self.say(f"history: the last {HISTORY} samples, {self.host.interval:g} s apart")
