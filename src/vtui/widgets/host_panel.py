"""A few dense lines about one host: what it is, how loaded, how committed."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from vtui.core import units
from vtui.core.host import Host, HostStatus
from vtui.core.states import FILTER_STATES


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _counts(host: Host) -> str:
    counts = host.counts_by_state()
    order = [s for s in FILTER_STATES if counts.get(s)]
    order += [s for s in counts if s not in FILTER_STATES]
    return ", ".join(f"{counts[s]} {s}" for s in order) or "none"


def host_lines(host: Host) -> Text:
    """Plain-data rendering, kept separate from the widget so it is easy to test."""
    text = Text()
    facts = host.facts
    status = host.status
    text.append(host.name, style="bold")
    if host.readonly:
        text.append(" [read-only]", style="yellow")
    if status is not HostStatus.CONNECTED:
        bad = status is not HostStatus.CONNECTING
        text.append(f"  {status.value}", style="bold red" if bad else "yellow")
        if host.error:
            text.append(f": {host.error}", style="red")
        if host.last_sample_at:
            text.append(f"  (last sample {units.uptime(host.last_sample_at)} ago)", style="dim")
    if facts is None:
        return text
    hv = f"{facts.driver} {facts.hypervisor_version}".strip()
    text.append(f" ({facts.hostname})  libvirt {facts.libvirt_version}  {hv}  ")
    text.append(
        "KVM" if facts.kvm else "no KVM: TCG only", style="green" if facts.kvm else "yellow"
    )
    text.append("\nCPU ")
    text.append(f"{units.percent(facts.cpu_pct)}%", style="bold")
    text.append("  mem ")
    text.append(
        f"{units.kib(facts.memory_used_kib)}/{units.kib(facts.memory_total_kib)}", style="bold"
    )
    vcpu, mem = host.commitment()
    text.append(f"  vCPU:pCPU {_ratio(vcpu)}  mem commit {_ratio(mem)}")
    text.append(
        f"\n{facts.cpu_model} {facts.sockets}s×{facts.cores}c×{facts.threads}t="
        f"{facts.cpus} cpus {facts.mhz}MHz"
    )
    if facts.numa:
        cells = " ".join(
            f"{c.id}:{units.kib(c.free_kib)}/{units.kib(c.total_kib)}" for c in facts.numa
        )
        text.append(f"  NUMA free {cells}")
    text.append("\nKSM ")
    if facts.ksm is not None:
        ksm = facts.ksm
        text.append(
            f"{'running' if ksm.running else 'idle'}, saves {units.size(ksm.saved_bytes)} "
            f"({ksm.pages_shared} shared/{ksm.pages_sharing} sharing pages)"
        )
    else:
        text.append("not available", style="dim")
    text.append(f"  guests: {_counts(host)}")
    return text


class HostPanel(Static):
    """Shows one host; the fleet screen points it at the selected guest's host."""

    def __init__(self, **kwargs):
        super().__init__("", **kwargs)
        self.host: Host | None = None

    def show(self, host: Host | None) -> None:
        self.host = host
        self.update(host_lines(host) if host is not None else Text("no host", style="dim"))
