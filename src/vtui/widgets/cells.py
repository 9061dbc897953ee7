"""Text measured in terminal cells, not characters: a CJK character or an emoji takes
two cells, a combining mark none. Padding or cutting by len() shifts every column after
a wide name."""

from __future__ import annotations

from rich.cells import cell_len, set_cell_size

ELLIPSIS = "…"


def fit(text: str, width: int, *, right: bool = False) -> str:
    """`text` in exactly `width` cells: cut with an ellipsis, or padded."""
    if width <= 0:
        return ""
    length = cell_len(text)
    if length > width:
        return set_cell_size(text, width - 1) + ELLIPSIS
    padding = " " * (width - length)
    return padding + text if right else text + padding


def clip(text: str, width: int) -> str:
    """`text` cut to at most `width` cells (with an ellipsis), never padded."""
    return text if cell_len(text) <= width else fit(text, width)
