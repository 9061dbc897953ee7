"""libvirt's lifecycle events of storage pools, virtual networks and node devices, so
lists of them can refresh the moment something changes (also when done by virsh or
another client).

Registered on a host's connection when it opens (and reopens after a loss), dropped
before it closes. A driver without some of these events simply does not get them:
`ResourceEvents.kinds` says which kinds are live, the others need polling. Callbacks
run on libvirt's event thread and only hand the news to the host's asyncio loop,
which publishes a Change with `resources={(kind, name)}`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import libvirt

from vtui.core.host.state import Change, HostStatus

if TYPE_CHECKING:
    from vtui.core.host.connection import Host

POOL, NETWORK, NODEDEV = "pool", "network", "nodedev"

_NETWORK_EVENTS = {0: "defined", 1: "undefined", 2: "started", 3: "stopped"}
_POOL_EVENTS = {
    0: "defined",
    1: "undefined",
    2: "started",
    3: "stopped",
    4: "created",
    5: "deleted",
}
_NODEDEV_EVENTS = {0: "added", 1: "removed", 2: "defined", 3: "undefined"}

# kind -> (register method, deregister method, event id, event names); pools also
# report a refresh (their volumes may have changed): event None, no message
_SOURCES: list[tuple[str, str, str, int, dict[int, str] | None]] = [
    (
        NETWORK,
        "networkEventRegisterAny",
        "networkEventDeregisterAny",
        libvirt.VIR_NETWORK_EVENT_ID_LIFECYCLE,
        _NETWORK_EVENTS,
    ),
    (
        POOL,
        "storagePoolEventRegisterAny",
        "storagePoolEventDeregisterAny",
        libvirt.VIR_STORAGE_POOL_EVENT_ID_LIFECYCLE,
        _POOL_EVENTS,
    ),
    (
        POOL,
        "storagePoolEventRegisterAny",
        "storagePoolEventDeregisterAny",
        libvirt.VIR_STORAGE_POOL_EVENT_ID_REFRESH,
        None,
    ),
    (
        NODEDEV,
        "nodeDeviceEventRegisterAny",
        "nodeDeviceEventDeregisterAny",
        libvirt.VIR_NODE_DEVICE_EVENT_ID_LIFECYCLE,
        _NODEDEV_EVENTS,
    ),
]


class ResourceEvents:
    """The resource event callbacks of one Host's connections."""

    def __init__(self, host: Host) -> None:
        self._host = host
        self._ids: dict[libvirt.virConnect, list[tuple[str, int]]] = {}
        self.kinds: frozenset[str] = frozenset()  # live on the current connection

    @property
    def registered(self) -> int:
        """Callbacks registered now, over every connection not yet closed."""
        return sum(len(ids) for ids in self._ids.values())

    def register(self, conn: libvirt.virConnect) -> None:
        """On a worker thread, as the connection opens."""
        ids, kinds = [], set()
        for kind, register, deregister, event_id, names in _SOURCES:
            callback = self._callback(conn, kind, names)
            try:
                ids.append((deregister, getattr(conn, register)(None, event_id, callback, None)))
            except libvirt.libvirtError:
                continue  # this driver has no such events: lists of this kind poll
            kinds.add(kind)
        self._ids[conn] = ids
        self.kinds = frozenset(kinds)

    def deregister(self, conn: libvirt.virConnect) -> None:
        """On a worker thread, before the connection closes (a dead one too)."""
        for deregister, callback_id in self._ids.pop(conn, []):
            try:
                getattr(conn, deregister)(callback_id)
            except libvirt.libvirtError:
                pass  # the link is gone: so are its callbacks

    def _callback(
        self, conn: libvirt.virConnect, kind: str, names: dict[int, str] | None
    ) -> Callable[..., None]:
        def on_event(_conn, obj, event: int = -1, _detail: int = 0, _opaque=None) -> None:
            # libvirt's event thread: no RPC here (name() is local), only hand over
            loop = self._host._loop
            if loop is not None:
                what = names.get(event, str(event)) if names is not None else ""
                loop.call_soon_threadsafe(self._publish, conn, kind, obj.name(), what)

        if names is None:  # refresh callbacks get (conn, pool, opaque)
            return lambda c, obj, opaque: on_event(c, obj)
        return on_event

    def _publish(self, conn: libvirt.virConnect, kind: str, name: str, what: str) -> None:
        host = self._host
        if host.status is not HostStatus.CONNECTED or conn is not host.conn:
            return  # a connection already replaced or closed
        event = f"{'device' if kind == NODEDEV else kind} {name} {what}" if what else ""
        host.publish(Change(host, resources={(kind, name)}, event=event))
