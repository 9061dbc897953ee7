"""Writing results: aligned tables for people, CSV and JSON for scripts."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Sequence
from typing import IO, Any, NamedTuple

from vtui.core import units
from vtui.core.cells import cell_width, pad


class Column(NamedTuple):
    header: str
    right: bool = False  # numbers line up on the right


def table(columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> list[str]:
    """Rows as lines under a header, each column as wide as its widest cell."""
    rows = [list(r) for r in rows]
    widths = [cell_width(c.header) for c in columns]  # terminal cells, not characters
    for row in rows:
        for i, cell in enumerate(row):
            widths[i] = max(widths[i], cell_width(cell))
    lines = []
    for row in [[c.header for c in columns], *rows]:
        cells = [pad(cell, w, right=c.right) for c, cell, w in zip(columns, row, widths)]
        lines.append("  ".join(cells).rstrip())
    return lines


def print_lines(lines: Iterable[str], out: IO[str] | None = None) -> None:
    out = out or sys.stdout
    for line in lines:
        out.write(line + "\n")


def print_json(document: Any, out: IO[str] | None = None) -> None:
    import json  # (csv and json only for the commands that write them)

    out = out or sys.stdout
    json.dump(document, out, indent=2, ensure_ascii=False)
    out.write("\n")


def csv_cell(value: Any) -> str:
    """CSV has no null: unknown is an empty cell, booleans are true/false like JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def csv_writer(out: IO[str]) -> Any:
    import csv

    return csv.writer(out, lineterminator="\n")


def write_csv(
    fields: Sequence[str],
    records: Iterable[dict],
    out: IO[str] | None = None,
    *,
    header: bool = True,
) -> None:
    writer = csv_writer(out or sys.stdout)
    if header:
        writer.writerow(fields)
    for record in records:
        writer.writerow([csv_cell(record.get(f)) for f in fields])


def error_line(message: str) -> None:
    """Every failure reaches the user as one line on stderr."""
    sys.stderr.write(f"vtui: {' '.join(str(message).split())}\n")
    sys.stderr.flush()


def pair(first: str, second: str) -> str:
    return f"{first}/{second}"


def rate(bytes_per_sec: float | None) -> str:
    """Bytes per second, short: '0', '512', '1.5K', '30M' (the column header says /s)."""
    text = units.size(bytes_per_sec)
    return text[:-1] if text.endswith("B") else text
