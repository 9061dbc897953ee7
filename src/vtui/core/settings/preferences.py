"""settings.toml, next to hosts.toml: what the user changed about vtui itself.

    [keys]                     # binding id (or its unique last part) = key(s)
    start = "ctrl+s"
    "console.leave" = "ctrl+q"
    guest.delete = "D,delete"  # a dotted key is the same as the quoted id

    [connection]
    timeout = 15               # seconds a host gets to answer (the TUI and batch; --timeout)

A broken file never stops vtui: whatever can be read is used, and each problem comes
back as one line naming the file and line. Whether a binding id or a key exists is
for the UI to say (the core knows no keys); entries keep their line for that.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

from vtui.core.settings import paths

KNOWN_TABLES = ("keys", "connection")


class KeyEntry(NamedTuple):
    binding: str  # as written: "start", "guest.start"
    keys: str  # "ctrl+s", or several: "D,delete"
    line: int  # where it is written (0 when not found)


class Preferences:
    __slots__ = ("path", "keys", "connect_timeout", "problems")

    def __init__(self, path: Path):
        self.path = path
        self.keys: list[KeyEntry] = []
        self.connect_timeout: float | None = None  # None: vtui's default
        self.problems: list[str] = []  # one line each: "FILE:LINE: what"

    def problem(self, line: int, message: str) -> None:
        where = f"{self.path}:{line}" if line else str(self.path)
        self.problems.append(f"{where}: {message}")


def load(path: Path | None = None) -> Preferences:
    prefs = Preferences(path or paths.settings_file())
    try:
        text = prefs.path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return prefs
    except (OSError, UnicodeDecodeError) as exc:
        prefs.problem(0, f"cannot read: {exc}")
        return prefs
    import tomllib  # (only when there is a file: its import delays a command's SSH login)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # its message says "(at line N, column M)"
        prefs.problem(0, str(exc))
        return prefs
    lines = _key_lines(text)
    for table in sorted(set(data) - set(KNOWN_TABLES)):
        prefs.problem(lines.get(table, 0), f"unknown table or key {table!r}")
    _connection(prefs, data.get("connection", {}), lines)
    keys = data.get("keys", {})
    if not isinstance(keys, dict):
        prefs.problem(lines.get("keys", 0), "'keys' must be a table: [keys]")
        return prefs
    for binding, value in _flatten(keys):
        line = lines.get(f"keys.{binding}", 0)
        if not isinstance(value, str) or not value.strip():
            prefs.problem(line, f'keys.{binding}: a key must be a string such as "ctrl+s"')
            continue
        prefs.keys.append(KeyEntry(binding, value.strip(), line))
    return prefs


def _connection(prefs: Preferences, table: object, lines: dict[str, int]) -> None:
    if not isinstance(table, dict):
        prefs.problem(lines.get("connection", 0), "'connection' must be a table: [connection]")
        return
    for key in sorted(set(table) - {"timeout"}):
        prefs.problem(lines.get(f"connection.{key}", 0), f"unknown key connection.{key}")
    if "timeout" in table:
        value = table["timeout"]
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or not 1 <= value <= 600:
            prefs.problem(
                lines.get("connection.timeout", 0),
                "connection.timeout must be a number of seconds from 1 to 600",
            )
        else:
            prefs.connect_timeout = float(value)


def _flatten(table: dict, prefix: str = "") -> list[tuple[str, object]]:
    """{"guest": {"start": "x"}} -> [("guest.start", "x")] (dotted keys, sub-tables)."""
    out: list[tuple[str, object]] = []
    for key, value in table.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            out += _flatten(value, name + ".")
        else:
            out.append((name, value))
    return out


_HEADER = re.compile(r"^\s*\[\s*([^\]\[]+?)\s*\]\s*(#.*)?$")
_ASSIGN = re.compile(
    r"^\s*((?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|\"[^\"]*\"|'[^']*'))*)\s*="
)


def _parts(dotted: str) -> list[str]:
    return [p.strip().strip("\"'") for p in re.findall(r"\"[^\"]*\"|'[^']*'|[^.]+", dotted)]


def _key_lines(text: str) -> dict[str, int]:
    """Full dotted key -> the line it is written on (for messages only: a best effort
    over the simple layouts people write; tomllib has already checked the syntax)."""
    found: dict[str, int] = {}
    table: list[str] = []
    for number, line in enumerate(text.splitlines(), 1):
        header = _HEADER.match(line)
        if header:
            table = _parts(header[1])
            found.setdefault(".".join(table), number)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            found.setdefault(".".join([*table, *_parts(assign[1])]), number)
    return found
