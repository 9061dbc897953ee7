"""Saved hosts, kept in a small TOML file in vtui's config dir (settings/paths.py):

    ~/.config/vtui/hosts.toml   (Linux; $XDG_CONFIG_HOME is honoured)

    [[host]]
    name = "web1"
    target = "root@web1.example.com"
    libvirt = "system"
    readonly = false
    autoconnect = true

A broken file never stops vtui. A bad entry (a duplicate name, an unknown key, a wrong
type) is named with its line and skipped; the good ones are used. A file that is not
TOML at all gives no hosts and an error naming the line, and is never overwritten.
Writes change only the entry concerned (settings/toml_edit.py): the user's comments,
order and spacing survive an add, edit or remove from the connections screen.
"""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from vtui.core.errors import VtuiError
from vtui.core.settings import paths

if TYPE_CHECKING:
    from tomllib import TOMLDecodeError

    from tomlkit.items import Table

# (tomlkit and toml_edit are imported where the file is changed: every batch command
# reads the file, and tomlkit alone costs it 30 ms)

LIBVIRT_PATHS = ("system", "session")


class SavedHost(NamedTuple):
    name: str
    target: str  # user@host, an ssh config alias, or a libvirt URI
    libvirt: str = "system"  # which libvirt of the remote user: system or session
    readonly: bool = False
    autoconnect: bool = False


DEFAULTS = SavedHost(name="", target="")


FIELDS = SavedHost._fields  # (also the order a host's keys are written in)
HEADER = "# vtui saved hosts: edit here or with the connections screen (key C)\n"


def hosts_path() -> Path:
    return paths.hosts_file()


# -- reading -----------------------------------------------------------------------------
class SavedHostsProblems(VtuiError):
    """The entries of hosts.toml that were skipped, each 'FILE:LINE: what is wrong'."""

    def __init__(self, problems: list[str]):
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more)
        self.problems = problems


class _Entry(NamedTuple):
    position: int  # its place among the file's [[host]] tables
    host: SavedHost | None  # None: skipped
    problem: str = ""


def load(path: Path | None = None) -> tuple[list[SavedHost], VtuiError | None]:
    """The good saved hosts, and what is wrong with the file (None if nothing). A
    missing file is simply no saved hosts."""
    entries, error = _read(path or hosts_path())
    hosts = [e.host for e in entries if e.host is not None]
    problems = [e.problem for e in entries if e.problem]
    if error is None and problems:
        error = SavedHostsProblems(problems)
    return hosts, error


def _read(path: Path) -> tuple[list[_Entry], VtuiError | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return [], None
    except (OSError, UnicodeDecodeError) as exc:
        return [], VtuiError(f"cannot read {path}: {exc}")
    import tomllib  # (only when there is a file: its import delays a command's SSH login)

    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        return [], VtuiError(f"{path}:{_line_of(exc)}: {exc}")
    tables = data.get("host", [])
    if not isinstance(tables, list):
        return [], VtuiError(f"{path}: 'host' must be a list of [[host]] tables")
    lines = _header_lines(text)
    entries: list[_Entry] = []
    names: set[str] = set()
    for index, table in enumerate(tables):
        line = lines[index] if index < len(lines) else 0
        where = (
            f"{path}:{line}: [[host]] #{index + 1}" if line else f"{path}: [[host]] #{index + 1}"
        )
        try:
            host = _host_of(table)
            _check_fields(host)
            if host.name in names:
                raise VtuiError(f"a host called {host.name!r} already exists")
        except VtuiError as exc:
            entries.append(_Entry(index, None, f"{where}: {exc.message}"))
            continue
        names.add(host.name)
        entries.append(_Entry(index, host))
    return entries, None


def _line_of(exc: TOMLDecodeError) -> int:
    found = re.search(r"at line (\d+)", str(exc))
    return int(found[1]) if found else 0


def _header_lines(text: str) -> list[int]:
    """Line numbers of the [[host]] headers, for messages."""
    header = re.compile(r"^\s*\[\[\s*[\"']?host[\"']?\s*\]\]")
    return [n for n, line in enumerate(text.splitlines(), 1) if header.match(line)]


def _host_of(table: object) -> SavedHost:
    if not isinstance(table, dict):
        raise VtuiError("not a table")
    unknown = set(table) - set(FIELDS)
    if unknown:
        raise VtuiError(f"unknown key {sorted(unknown)[0]!r}")
    values = {}
    for name in FIELDS:
        if name in table:
            kind = type(SavedHost._field_defaults.get(name, ""))  # (all are str or bool)
            if not isinstance(table[name], kind):
                raise VtuiError(f"{name!r} must be a {kind.__name__}")
            values[name] = table[name]
    if "name" not in values or "target" not in values:
        raise VtuiError("needs both 'name' and 'target'")
    return SavedHost(**values)


def _check_fields(host: SavedHost) -> None:
    if not host.name.strip():
        raise VtuiError("the name is empty")
    if host.name != host.name.strip():
        raise VtuiError("the name starts or ends with a space")
    if not host.target.strip():
        raise VtuiError("the target is empty")
    if host.libvirt not in LIBVIRT_PATHS:
        raise VtuiError(f"libvirt must be 'system' or 'session', not {host.libvirt!r}")


def validate(host: SavedHost, existing: list[SavedHost], *, old_name: str | None = None) -> None:
    """Check one saved host against the others; one-line VtuiError if wrong.
    (The target's syntax is checked by targets.validate_saved, which calls this.)"""
    _check_fields(host)
    if any(h.name == host.name for h in existing if h.name != old_name):
        raise VtuiError(f"a host called {host.name!r} already exists")


# -- writing -------------------------------------------------------------------------------
def _write_atomically(path: Path, text: str) -> None:
    """Replace the file atomically (a crash never leaves half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".hosts-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def _table(host: SavedHost) -> Table:
    import tomlkit

    table = tomlkit.table()
    for key in FIELDS:
        table.add(key, getattr(host, key))
    return table


class _Editing:
    """The file open for one change: its good hosts, where each is in the file."""

    def __init__(self, path: Path | None):
        self.path = path or hosts_path()
        entries, error = _read(self.path)
        if error is not None:
            raise VtuiError(f"not changing a file that has errors; fix it first: {error.message}")
        self.entries = entries
        self.hosts = [e.host for e in entries if e.host is not None]
        from vtui.core.settings.toml_edit import ArrayOfTables

        text = self.path.read_text(encoding="utf-8") if self.path.exists() else HEADER
        self.tables = ArrayOfTables(text, "host")

    def index_of(self, name: str) -> int:
        for entry in self.entries:
            if entry.host is not None and entry.host.name == name:
                return entry.position
        raise VtuiError(f"no saved host called {name!r}")

    def write(self) -> None:
        _write_atomically(self.path, self.tables.text())


def save(hosts: list[SavedHost], path: Path | None = None) -> None:
    """Make the file hold exactly `hosts`, in order, keeping its comments at the top."""
    editing = _Editing(path)
    for index in reversed(range(len(editing.tables.spans))):
        editing.tables.remove(index)
    for host in hosts:
        editing.tables.append(_table(host))
    editing.write()


def add(host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    editing = _Editing(path)
    validate(host, editing.hosts)
    editing.tables.append(_table(host))
    editing.write()
    return [*editing.hosts, host]


def edit(old_name: str, host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    editing = _Editing(path)
    index = editing.index_of(old_name)
    validate(host, editing.hosts, old_name=old_name)

    def change(table: Table) -> None:
        for key in FIELDS:
            value = getattr(host, key)
            if key in table or value != getattr(DEFAULTS, key):
                table[key] = value  # replaced in place: a comment on the line stays

    editing.tables.edit(index, change)
    editing.write()
    return [host if h.name == old_name else h for h in editing.hosts]


def remove(name: str, path: Path | None = None) -> list[SavedHost]:
    editing = _Editing(path)
    editing.tables.remove(editing.index_of(name))
    editing.write()
    return [h for h in editing.hosts if h.name != name]


def find(name: str, hosts: list[SavedHost]) -> SavedHost | None:
    return next((h for h in hosts if h.name == name), None)
