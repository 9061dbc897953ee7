"""How many terminal cells a string takes, without a UI library (the batch commands'
tables use it; the TUI measures with Rich, which agrees on these cases): East Asian
wide and fullwidth characters and emoji take two cells, combining marks and other
zero-width characters none, everything else one."""

from __future__ import annotations

import unicodedata
from functools import lru_cache


@lru_cache(maxsize=4096)
def _char_width(char: str) -> int:
    if unicodedata.combining(char) or unicodedata.category(char) in ("Mn", "Me", "Cf"):
        return 0
    if unicodedata.east_asian_width(char) in ("W", "F"):
        return 2
    return 1


def cell_width(text: str) -> int:
    if text.isascii():
        return len(text)
    return sum(_char_width(c) for c in text)


def pad(text: str, width: int, *, right: bool = False) -> str:
    """`text` padded with spaces to `width` cells (never cut)."""
    gap = " " * max(width - cell_width(text), 0)
    return gap + text if right else text + gap
