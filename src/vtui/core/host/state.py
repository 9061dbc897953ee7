"""The small types a Host shares with its listeners and its link keeping."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from vtui.core.host import Host


class Tunnel(Protocol):
    """A transport that makes a remote libvirt reachable through a local URI
    (e.g. an SSH connection forwarding a local unix socket)."""

    async def open(self) -> str:
        """(Re)open the transport; return the libvirt URI to open through it."""

    async def close(self) -> None: ...

    def on_lost(self, callback: Callable[[str], None]) -> None:
        """Call callback(reason) on the loop when the transport dies."""


class HostStatus(enum.Enum):
    CONNECTING = "connecting"
    CONNECTED = "connected"
    DISCONNECTED = "disconnected"
    FAILED = "failed"
    CLOSED = "closed"


@dataclass(slots=True)
class Change:
    """What one sample or event changed on a host, handed to listeners on the loop."""

    host: Host
    guests: set[str] = field(default_factory=set)  # uuids added or changed
    removed: set[str] = field(default_factory=set)
    host_changed: bool = False
    event: str = ""  # e.g. "web-01 started"
    error: str = ""  # one line, for the user
    # (kind, name) of pools, networks and node devices that changed: kind is "pool",
    # "network" or "nodedev" (see core/host/resource_events.py)
    resources: set[tuple[str, str]] = field(default_factory=set)
