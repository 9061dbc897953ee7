"""Human-readable numbers for tables and batch output (binary units, short)."""

from __future__ import annotations

import time

_UNITS = ("B", "K", "M", "G", "T", "P")


def size(num_bytes: float | None, *, suffix: str = "") -> str:
    """1536 -> '1.5K'; None -> '-'. Short enough for a narrow column."""
    if num_bytes is None:
        return "-"
    value = float(num_bytes)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            if unit == "B":
                return f"{value:.0f}{unit}{suffix}"
            return f"{value:.1f}{unit}{suffix}" if abs(value) < 10 else f"{value:.0f}{unit}{suffix}"
        value /= 1024
    return "-"


def kib(value_kib: int | None) -> str:
    return size(None if value_kib is None else value_kib * 1024)


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


def duration(seconds: float | None) -> str:
    """Coarse on purpose (minutes at best) so a live table does not redraw every second."""
    if seconds is None or seconds < 0:
        return "-"
    minutes = int(seconds // 60)
    days, minutes = divmod(minutes, 1440)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d {hours}h"
    if hours:
        return f"{hours}h {minutes:02d}m"
    return f"{minutes}m"


def uptime(started_at: float | None, now: float | None = None) -> str:
    if started_at is None:
        return "-"
    return duration((now or time.time()) - started_at)
