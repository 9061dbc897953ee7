"""The set of hosts vtui watches, and turning what the user typed into hosts.

`Fleet` is loaded on first use: parsing a host argument (core/fleet/targets.py) must not
pay for the hosts' machinery, so a batch command can start its SSH logins first.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from vtui.core.fleet.fleet import Fleet

__all__ = ["Fleet"]


def __getattr__(name: str) -> Any:
    if name == "Fleet":
        from vtui.core.fleet.fleet import Fleet

        return Fleet
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
