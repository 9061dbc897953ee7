"""What the guest table shows in each column, and how each column sorts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from vtui.core import units
from vtui.core.model import Guest
from vtui.core.states import CRASHED, PAUSED, RUNNING, SHUTOFF

STATE_STYLE = {RUNNING: "green", PAUSED: "yellow", CRASHED: "bold red", SHUTOFF: "dim"}


def _io(a: float | None, b: float | None) -> str:
    if a is None and b is None:
        return "-"
    return f"{units.size(a)}/{units.size(b)}"


def _memory(g: Guest) -> str:
    assigned = units.kib(g.memory_kib)
    if g.memory_used_kib is None or not g.active:
        return assigned
    return f"{units.kib(g.memory_used_kib)}/{assigned}"


def _uptime(g: Guest, now: float) -> tuple[str, str]:
    if g.active:
        return units.uptime(g.started_at, now), ""
    return g.reason or "-", "dim"


def _num(value):
    return -1.0 if value is None else value


@dataclass(frozen=True, slots=True)
class Column:
    key: str
    label: str
    width: int  # cells; the name column grows
    cell: Callable[[Guest, float], tuple[str, str]]  # (text, rich style)
    sort: Callable[[Guest], object]
    right: bool = False  # numbers align right
    numeric: bool = False  # sort key is a number


COLUMNS: tuple[Column, ...] = (
    Column("name", "Name", 12, lambda g, _: (g.name, ""), lambda g: g.name.lower()),
    Column(
        "state",
        "State",
        11,
        lambda g, _: (g.state, STATE_STYLE.get(g.state, "")),
        lambda g: g.state,
    ),
    Column(
        "cpu",
        "CPU%",
        5,
        lambda g, _: (units.percent(g.cpu_pct), ""),
        lambda g: _num(g.cpu_pct),
        right=True,
        numeric=True,
    ),
    Column(
        "mem",
        "Mem used/set",
        12,
        lambda g, _: (_memory(g), ""),
        lambda g: g.memory_kib,
        right=True,
        numeric=True,
    ),
    Column(
        "vcpus",
        "vCPU",
        4,
        lambda g, _: (str(g.vcpus or "-"), ""),
        lambda g: g.vcpus,
        right=True,
        numeric=True,
    ),
    Column(
        "disk",
        "Disk R/W",
        11,
        lambda g, _: (_io(g.disk_rd_bps, g.disk_wr_bps), ""),
        lambda g: _num(g.disk_rd_bps) + _num(g.disk_wr_bps),
        right=True,
        numeric=True,
    ),
    Column(
        "net",
        "Net RX/TX",
        11,
        lambda g, _: (_io(g.net_rx_bps, g.net_tx_bps), ""),
        lambda g: _num(g.net_rx_bps) + _num(g.net_tx_bps),
        right=True,
        numeric=True,
    ),
    Column(
        "uptime",
        "Up/why",
        11,
        _uptime,
        lambda g: -(g.started_at or 0) if g.active else 1,
        numeric=True,
    ),
    Column("host", "Host", 8, lambda g, _: (g.host, ""), lambda g: g.host.lower()),
)
COLUMN_BY_KEY = {c.key: c for c in COLUMNS}
# Columns where bigger is more interesting sort descending first, as in top.
DESCENDING_FIRST = {"cpu", "mem", "vcpus", "disk", "net"}
NAME_MAX, HOST_MAX = 28, 16
