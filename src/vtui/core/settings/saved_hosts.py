"""Saved hosts, kept in a small TOML file under the XDG config dir.

    $XDG_CONFIG_HOME/vtui/hosts.toml   (default ~/.config/vtui/hosts.toml)

    [[host]]
    name = "web1"
    target = "root@web1.example.com"
    libvirt = "system"
    readonly = false
    autoconnect = true

A broken file never stops the app: `load` returns no hosts plus a VtuiError naming
the file and line, and every write refuses to replace a file it could not read.
"""

from __future__ import annotations

import os
import tempfile
import tomllib
from dataclasses import dataclass
from pathlib import Path

from vtui.core.errors import VtuiError

LIBVIRT_PATHS = ("system", "session")


@dataclass(frozen=True, slots=True)
class SavedHost:
    name: str
    target: str  # user@host, an ssh config alias, or a libvirt URI
    libvirt: str = "system"  # which libvirt of the remote user: system or session
    readonly: bool = False
    autoconnect: bool = False


def config_dir() -> Path:
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "vtui"


def hosts_path() -> Path:
    return config_dir() / "hosts.toml"


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
def save(hosts: list[SavedHost], path: Path | None = None) -> None:
    """Replace the file atomically (a crash never leaves half a file)."""
    path = path or hosts_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = render(hosts)
    fd, tmp = tempfile.mkstemp(prefix=".hosts-", suffix=".toml", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise


def render(hosts: list[SavedHost]) -> str:
    lines = ["# vtui saved hosts: edit here or with the connections screen (key C)", ""]
    for host in hosts:
        lines += [
            "[[host]]",
            f"name = {_toml_string(host.name)}",
            f"target = {_toml_string(host.target)}",
            f"libvirt = {_toml_string(host.libvirt)}",
            f"readonly = {_toml_bool(host.readonly)}",
            f"autoconnect = {_toml_bool(host.autoconnect)}",
            "",
        ]
    return "\n".join(lines)


def _toml_bool(value: bool) -> str:
    return "true" if value else "false"


def _toml_string(value: str) -> str:
    """A TOML basic string: quotes, backslashes and control characters escaped."""
    out = []
    for ch in value:
        if ch in ('"', "\\"):
            out.append("\\" + ch)
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def _load_for_change(path: Path | None) -> list[SavedHost]:
    hosts, error = load(path)
    if error is not None:
        raise VtuiError(f"not changing a file that has errors; fix it first: {error.message}")
    return hosts


def add(host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    hosts = _load_for_change(path)
    validate(host, hosts)
    hosts.append(host)
    save(hosts, path)
    return hosts


def edit(old_name: str, host: SavedHost, path: Path | None = None) -> list[SavedHost]:
    hosts = _load_for_change(path)
    index = _index_of(hosts, old_name)
    validate(host, hosts, old_name=old_name)
    hosts[index] = host
    save(hosts, path)
    return hosts


def remove(name: str, path: Path | None = None) -> list[SavedHost]:
    hosts = _load_for_change(path)
    del hosts[_index_of(hosts, name)]
    save(hosts, path)
    return hosts


def find(name: str, hosts: list[SavedHost]) -> SavedHost | None:
    return next((h for h in hosts if h.name == name), None)


def _index_of(hosts: list[SavedHost], name: str) -> int:
    for i, h in enumerate(hosts):
        if h.name == name:
            return i
    raise VtuiError(f"no saved host called {name!r}")
