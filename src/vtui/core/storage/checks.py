"""Input checks done before anything on the host changes: each failure is one line
saying what is wrong. Plus reading sizes as people write them ("20G", "512MiB")."""

from __future__ import annotations

import re
from collections.abc import Collection

from vtui.core.errors import VtuiError
from vtui.core.units import size

# '/' would leave the pool's directory; the others break the XML of tools that
# (unlike vtui) build it from strings, and make names that shells mangle.
FORBIDDEN_CHARS = "/<&'\""

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)\s*$")
_BINARY = {"": 1, "b": 1, "k": 1, "kib": 1, "m": 2, "mib": 2, "g": 3, "gib": 3}
_BINARY |= {"t": 4, "tib": 4, "p": 5, "pib": 5}
_DECIMAL = {"kb": 1, "mb": 2, "gb": 3, "tb": 4, "pb": 5}


class BadInput(VtuiError):
    """One line saying what is wrong with a value the user gave (the storage functions
    add the host's name)."""


def check_name(name: str, what: str = "volume") -> str:
    """A pool or volume name libvirt and every tool can use; returned unchanged."""
    if not name or not name.strip():
        raise BadInput(f"a {what} name cannot be empty")
    bad = "".join(c for c in FORBIDDEN_CHARS if c in name)
    if bad:
        shown = " ".join(bad)
        raise BadInput(
            f"{what} name {name!r} contains {shown}: a {what} name cannot contain any of / < & ' \""
        )
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        raise BadInput(f"{what} name {name!r} contains a control character")
    if name in (".", ".."):
        raise BadInput(f"{name!r} cannot be a {what} name")
    if name != name.strip():
        raise BadInput(f"{what} name {name!r} starts or ends with a space")
    return name


def check_new_name(name: str, existing: Collection[str], pool: str) -> str:
    check_name(name)
    if name in existing:
        raise BadInput(f"pool {pool!r} already has a volume called {name!r}")
    return name


def check_capacity(capacity: int | None, what: str = "volume size") -> int:
    if capacity is None or capacity <= 0:
        raise BadInput(f"a {what} of {capacity or 0} bytes is not possible: give a size above 0")
    return capacity


def check_space(needed: int, available: int | None, pool: str, what: str) -> None:
    """Refuse when what must be allocated now does not fit in the pool."""
    if available is not None and needed > available:
        raise BadInput(
            f"{what} needs {needed} bytes ({size(needed)}) now, but pool {pool!r} has only "
            f"{available} bytes ({size(available)}) available"
        )


def parse_size(text: str) -> int:
    """'20G' or '20GiB' (binary, as virsh reads them), '20GB' (decimal), '4096' (bytes)."""
    match = _SIZE.match(text)
    unit = match.group(2).lower() if match else ""
    if match is None or (unit not in _BINARY and unit not in _DECIMAL):
        raise BadInput(f"not a size: {text!r} (e.g. 20G, 512M, 1.5T, or bytes)")
    number = float(match.group(1))
    factor = 1024 ** _BINARY[unit] if unit in _BINARY else 1000 ** _DECIMAL[unit]
    return int(number * factor)
