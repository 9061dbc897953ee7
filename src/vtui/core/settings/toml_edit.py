"""Editing one entry of a TOML array of tables (`[[host]]`) in place, in the text.

The user's file is theirs: comments, order, spacing and the other entries stay byte for
byte. Only the entry concerned is cut out, replaced (re-rendered by tomlkit from its own
few lines, so a comment on one of its lines survives an edit) or appended. Working on
the text keeps this fast with thousands of entries, where parsing the whole document
with tomlkit takes seconds.

An entry's lines run from the comments written right above its header to the line
before the next entry's own comments (or the next header, or the end of the file).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import tomlkit
from tomlkit.items import Table

_ANY_HEADER = re.compile(r"^\s*\[")


def _header(name: str) -> re.Pattern[str]:
    quoted = re.escape(name)
    return re.compile(rf"^\s*\[\[\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*\]\]\s*(?:#.*)?$")


@dataclass(frozen=True, slots=True)
class Span:
    start: int  # first line (its leading comments included)
    end: int  # one past its last line


class ArrayOfTables:
    """The `[[name]]` entries of a TOML text, for one edit."""

    def __init__(self, text: str, name: str):
        self.name = name
        self.lines = text.splitlines(keepends=True)
        if self.lines and not self.lines[-1].endswith("\n"):
            self.lines[-1] += "\n"
        self.spans = self._spans()

    def _spans(self) -> list[Span]:
        header = _header(self.name)
        headers = [i for i, line in enumerate(self.lines) if _ANY_HEADER.match(line)]
        spans = []
        for n, i in enumerate(headers):
            if header.match(self.lines[i]):
                end = self._leading_comments(headers[n + 1]) if n + 1 < len(headers) else None
                spans.append(
                    Span(self._leading_comments(i), len(self.lines) if end is None else end)
                )
        return spans

    def _leading_comments(self, header: int) -> int:
        start = header
        while start > 0 and self.lines[start - 1].lstrip().startswith("#"):
            start -= 1
        return start

    def text(self) -> str:
        return "".join(self.lines)

    def remove(self, index: int) -> None:
        span = self.spans[index]
        ended_the_file = span.end >= len(self.lines)
        del self.lines[span.start : span.end]
        while ended_the_file and self.lines and not self.lines[-1].strip():
            del self.lines[-1]  # the blank lines that separated it go with it
        self.spans = self._spans()

    def append(self, table: Table) -> None:
        document = tomlkit.document()
        array = tomlkit.aot()
        array.append(table)
        document.append(self.name, array)
        block = tomlkit.dumps(document)
        if self.lines and self.lines[-1].strip():
            block = "\n" + block  # a blank line between the last entry and ours
        self.lines.append(block)
        self.spans = self._spans()

    def edit(self, index: int, change: Callable[[Table], None]) -> None:
        """Re-render one entry after `change` edits its table (parsed on its own)."""
        span = self.spans[index]
        document = tomlkit.parse("".join(self.lines[span.start : span.end]))
        change(document[self.name][0])
        self.lines[span.start : span.end] = [tomlkit.dumps(document)]
        self.spans = self._spans()
