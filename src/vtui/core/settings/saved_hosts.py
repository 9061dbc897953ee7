"""Saved hosts, kept in a small TOML file in vtui's config dir (settings/paths.py):

    ~/.config/vtui/hosts.toml   (Linux; $XDG_CONFIG_HOME is honoured)

    [[host]]
    name = "web1"
    target = "root@web1.example.com"
    libvirt = "system"
    readonly = false
    autoconnect = true

A broken file never stops the app: `load` returns no hosts plus a VtuiError naming
the file and line, and every write refuses to replace a file it could not read.
Writes edit the file in place with tomlkit: the user's comments, order and spacing
survive an add, edit or remove from the connections screen.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import tomlkit
from tomlkit.items import AoT, Table
from tomlkit.toml_document import TOMLDocument

from vtui.core.errors import VtuiError
from vtui.core.settings import paths

LIBVIRT_PATHS = ("system", "session")


@dataclass(frozen=True, slots=True)
class SavedHost:
    name: str
    target: str  # user@host, an ssh config alias, or a libvirt URI
    libvirt: str = "system"  # which libvirt of the remote user: system or session
    readonly: bool = False
    autoconnect: bool = False


DEFAULTS = SavedHost(name="", target="")


FIELDS = ("name", "target", "libvirt", "readonly", "autoconnect")
HEADER = "# vtui saved hosts: edit here or with the connections screen (key C)\n"


def hosts_path() -> Path:
    return paths.hosts_file()


# -- reading -----------------------------------------------------------------------------
def load(path: Path | None = None) -> tuple[list[SavedHost], VtuiError | None]:
    """The saved hosts, or ([], error) when the file is unreadable or malformed.
    A missing file is simply no saved hosts."""
    path = path or hosts_path()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except FileNotFoundError:
        return [], None
    except tomllib.TOMLDecodeError as exc:  # its message says "(at line N, column M)"
        return [], VtuiError(f"{path}: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        return [], VtuiError(f"cannot read {path}: {exc}")
    try:
        return _hosts_from(data, path), None
    except VtuiError as exc:
        return [], exc


def _hosts_from(data: dict, path: Path) -> list[SavedHost]:
    entries = data.get("host", [])
    if not isinstance(entries, list):
        raise VtuiError(f"{path}: 'host' must be a list of [[host]] tables")
    hosts: list[SavedHost] = []
    for number, entry in enumerate(entries, 1):
        where = f"{path}: [[host]] #{number}"
        if not isinstance(entry, dict):
            raise VtuiError(f"{where}: not a table")
        unknown = set(entry) - {"name", "target", "libvirt", "readonly", "autoconnect"}
        if unknown:
            raise VtuiError(f"{where}: unknown key {sorted(unknown)[0]!r}")
        values = {}
        for key, kind in (
            ("name", str),
            ("target", str),
            ("libvirt", str),
            ("readonly", bool),
            ("autoconnect", bool),
        ):
            if key in entry:
                if not isinstance(entry[key], kind):
                    raise VtuiError(f"{where}: {key!r} must be a {kind.__name__}")
                values[key] = entry[key]
        if "name" not in values or "target" not in values:
            raise VtuiError(f"{where}: needs both 'name' and 'target'")
        host = SavedHost(**values)
        try:
            validate(host, hosts)
        except VtuiError as exc:
            raise VtuiError(f"{where}: {exc.message}") from None
        hosts.append(host)
    return hosts


def validate(host: SavedHost, existing: list[SavedHost], *, old_name: str | None = None) -> None:
    """Check one saved host against the others; one-line VtuiError if wrong.
    (The target's syntax is checked by targets.validate_saved, which calls this.)"""
    if not host.name.strip():
        raise VtuiError("the name is empty")
    if host.name != host.name.strip():
        raise VtuiError("the name starts or ends with a space")
    if not host.target.strip():
        raise VtuiError("the target is empty")
    if host.libvirt not in LIBVIRT_PATHS:
        raise VtuiError(f"libvirt must be 'system' or 'session', not {host.libvirt!r}")
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
    table = tomlkit.table()
    for key in FIELDS:
        table.add(key, getattr(host, key))
    return table


def _edit(path: Path | None, change: Callable[[TOMLDocument, list[SavedHost]], None]) -> None:
    """Load (refusing a file with errors), let `change` edit the document, write it back."""
    path = path or hosts_path()
    hosts, error = load(path)
    if error is not None:
        raise VtuiError(f"not changing a file that has errors; fix it first: {error.message}")
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    document = tomlkit.parse(text)
    change(document, hosts)
    _write_atomically(path, tomlkit.dumps(document))


def _host_tables(document: TOMLDocument) -> AoT:
    tables = document.get("host")
    if tables is None:
        tables = tomlkit.aot()
        document.append("host", tables)
    return tables


def save(hosts: list[SavedHost], path: Path | None = None) -> None:
    """Make the file hold exactly `hosts` (in order), keeping its other contents."""

    def change(document: TOMLDocument, _old: list[SavedHost]) -> None:
        if "host" in document:
            del document["host"]
        if hosts:
            tables = _host_tables(document)
            for host in hosts:
                tables.append(_table(host))

    _edit(path, change)


def add(host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    def change(document: TOMLDocument, hosts: list[SavedHost]) -> None:
        validate(host, hosts)
        tables = _host_tables(document)
        table = _table(host)
        if len(tables):
            table.trivia.indent = "\n"  # a blank line between the last entry and ours
        tables.append(table)

    _edit(path, change)
    return load(path)[0]


def edit(old_name: str, host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    def change(document: TOMLDocument, hosts: list[SavedHost]) -> None:
        index = _index_of(hosts, old_name)
        validate(host, hosts, old_name=old_name)
        table = _host_tables(document)[index]
        for key in FIELDS:
            value = getattr(host, key)
            if key in table or value != getattr(DEFAULTS, key, None):
                table[key] = value  # replaced in place: a comment on the line stays

    _edit(path, change)
    return load(path)[0]


def remove(name: str, path: Path | None = None) -> list[SavedHost]:
    def change(document: TOMLDocument, hosts: list[SavedHost]) -> None:
        tables = _host_tables(document)
        del tables[_index_of(hosts, name)]
        if not len(tables):
            del document["host"]  # else tomlkit writes `host = []` at the top

    _edit(path, change)
    return load(path)[0]


def find(name: str, hosts: list[SavedHost]) -> SavedHost | None:
    return next((h for h in hosts if h.name == name), None)


def _index_of(hosts: list[SavedHost], name: str) -> int:
    for i, h in enumerate(hosts):
        if h.name == name:
            return i
    raise VtuiError(f"no saved host called {name!r}")
