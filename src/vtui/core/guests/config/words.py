"""Sizes as people read them in a definition: exact where they are round."""

from __future__ import annotations

_UNITS = ("KiB", "MiB", "GiB", "TiB", "PiB")


def human_kib(kib: int | None) -> str:
    """2097152 -> '2 GiB', 1572864 -> '1.5 GiB', 196608 -> '192 MiB'; None -> '-'."""
    if kib is None:
        return "-"
    value = float(kib)
    for unit in _UNITS:
        if abs(value) < 1024 or unit == _UNITS[-1]:
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
        value /= 1024
    return "-"


def human_bytes(count: int | None) -> str:
    if count is None:
        return "-"
    if count < 1024:
        return f"{count} B"
    return human_kib(count // 1024) if count % 1024 == 0 else human_kib(round(count / 1024))
