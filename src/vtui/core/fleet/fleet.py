"""All the hosts vtui watches. Each connects, samples and fails on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

from vtui.core.errors import VtuiError
from vtui.core.host import CONNECT_TIMEOUT, Change, Host, Tunnel
from vtui.core.listeners import Publisher
from vtui.core.model import Guest
from vtui.core.uri import display_name


class Fleet(Publisher[Change]):
    """Publishes every Change of every host."""

    def __init__(
        self,
        *,
        interval: float = 2.0,
        readonly: bool = False,
        connect_timeout: float = CONNECT_TIMEOUT,
    ):
        super().__init__()
        self.interval = interval
        self.readonly = readonly
        self.connect_timeout = connect_timeout  # for each host, and its SSH tunnel
        self.hosts: dict[str, Host] = {}

    def add(
        self,
        uri: str,
        *,
        name: str | None = None,
        readonly: bool | None = None,
        tunnel: Tunnel | None = None,
    ) -> Host:
        base = name or display_name(uri)
        label, n = base, 2
        while label in self.hosts:  # two URIs on one machine still get distinct labels
            label = f"{base}#{n}"
            n += 1
        # named before it exists: its guests and worker threads carry the final label
        host = Host(
            uri,
            name=label,
            interval=self.interval,
            connect_timeout=self.connect_timeout,
            tunnel=tunnel,
            readonly=self.readonly if readonly is None else readonly,
        )
        host.subscribe(self.publish)
        self.hosts[host.name] = host
        return host

    async def connect_all(self) -> list[VtuiError]:
        """Connect every host concurrently and start their samplers; returns failures."""
        results = await asyncio.gather(*(self._connect(h) for h in self.hosts.values()))
        return [r for r in results if r is not None]

    async def _connect(self, host: Host) -> VtuiError | None:
        try:
            await host.connect()
        except VtuiError as exc:
            return exc
        host.start()
        return None

    async def remove(self, name: str) -> None:
        """Forget a host: close it and drop it (and its guests) from the fleet."""
        host = self.hosts.pop(name, None)
        if host is None:
            return
        host.unsubscribe(self.publish)
        await host.close()
        self.publish(Change(host, removed=set(host.guests), host_changed=True))

    async def close(self) -> None:
        await asyncio.gather(*(h.close() for h in self.hosts.values()), return_exceptions=True)

    def guests(self) -> Iterator[Guest]:
        for host in self.hosts.values():
            yield from host.guests.values()

    def host_of(self, guest: Guest) -> Host:
        return self.hosts[guest.host]

    def find_guest(self, name: str, host: str | None = None) -> Guest:
        """The guest called `name` (on `host` if given); a clear error if none or several."""
        hosts = [self.hosts[host]] if host in self.hosts else list(self.hosts.values())
        if host is not None and host not in self.hosts:
            raise VtuiError(f"no host called {host!r}")
        matches = [g for h in hosts for g in h.guests.values() if g.name == name or g.uuid == name]
        if not matches:
            raise VtuiError(f"no guest called {name!r}")
        if len(matches) > 1:
            where = ", ".join(sorted(g.host for g in matches))
            raise VtuiError(
                f"guest {name!r} exists on several hosts ({where}); say which with --host"
            )
        return matches[0]
