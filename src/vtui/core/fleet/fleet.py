"""All the hosts vtui watches. Each connects, samples and fails on its own."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import libvirt

from vtui.core.errors import VtuiError, libvirt_message
from vtui.core.host import CONNECT_TIMEOUT, Change, Host, Tunnel
from vtui.core.listeners import Publisher
from vtui.core.model import Guest
from vtui.core.uri import display_name

DETAILS_WAIT = 3.0  # seconds a host's details wait for the other hosts' rows
# Each host's own CPU and memory cost two round trips per sample, about 40 % of a big
# fleet's CPU (bench/fleet.py): past this many hosts, only the one the user looks at
# reads them every sample, the others every BACKGROUND_NUMBERS_EVERY samples (their CPU
# % is then the average since the last read, never a stale spike).
FOCUS_ALL_UP_TO = 8
BACKGROUND_NUMBERS_EVERY = 5


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
        self._focus: str | None = None
        self._focusing = False  # nobody said which host is looked at: all at full rate

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
        self._apply_focus()
        return host

    def focus(self, host: Host | None) -> None:
        """`host` is the one the user looks at (its details, its CPU graph): it reads
        its own numbers every sample; in a fleet of more than FOCUS_ALL_UP_TO hosts
        the others read theirs every BACKGROUND_NUMBERS_EVERY samples. A fleet nobody
        calls this on (a batch command) reads every host's numbers every sample."""
        name = host.name if host is not None else None
        if self._focusing and name == self._focus:
            return
        self._focus, self._focusing = name, True
        self._apply_focus()

    def _apply_focus(self) -> None:
        big = self._focusing and len(self.hosts) > FOCUS_ALL_UP_TO
        for name, host in self.hosts.items():
            host.numbers_every = BACKGROUND_NUMBERS_EVERY if big and name != self._focus else 1

    async def connect_all(
        self, *, inventory: bool = True, facts: bool = True, start: bool = True
    ) -> list[VtuiError]:
        """Connect every host concurrently (each publishes its guests as soon as it
        answers) and start their samplers; returns failures. `inventory`/`facts` as for
        Host.connect; start=False leaves the samplers off (commands sample themselves).
        Returns once every host's details are known too (Host.details_known)."""
        hosts = list(self.hosts.values())
        # Every host's rows first: what each one fills in afterwards (facts, vCPUs of
        # test-driver guests, start times) waits until all have answered (or failed),
        # at most DETAILS_WAIT, so fifty hosts show their guests as fast as one.
        gate = asyncio.get_running_loop().create_future()
        waiting = {h.name for h in hosts}

        def answered(host: Host) -> None:
            waiting.discard(host.name)
            if not waiting:
                open_gate()

        def open_gate() -> None:
            if not gate.done():
                gate.set_result(None)

        for host in hosts:
            host.details_after = gate
        timer = asyncio.get_running_loop().call_later(DETAILS_WAIT, open_gate)
        try:
            results = await asyncio.gather(
                *(
                    self._connect(h, inventory, facts, start, gate, answered, i / len(hosts))
                    for i, h in enumerate(hosts)
                )
            )
        finally:
            timer.cancel()
            open_gate()
            for host in hosts:
                host.details_after = None
        return [r for r in results if r is not None]

    async def _connect(
        self, host: Host, inventory: bool, facts: bool, start: bool, gate, answered, phase
    ) -> VtuiError | None:
        try:
            if not (start and inventory):
                answered(host)  # (a command reads only what it prints: no waiting)
                await host.connect(inventory=inventory, facts=facts)
            else:
                # The rows first; once every host has shown its own, a second sample
                # (the rates) and the sampler; what the host is after that, in turn
                # with the samples.
                try:
                    await host.connect(facts=False)
                finally:
                    answered(host)
                await asyncio.shield(gate)
                await host.sample()
                # its samples a share of the interval apart from the other hosts': fifty
                # hosts sampling at the same instant would fight over the CPU every time
                host.start(first_in=self.interval * (1 + phase))
                if facts:
                    await host.read_facts()
            if inventory:
                await host.details_known()
        except VtuiError as exc:
            return exc
        except libvirt.libvirtError as exc:
            host.error = f"cannot read the host's facts: {libvirt_message(exc)}"
            host.publish(Change(host, host_changed=True, error=host.error))
        return None

    async def remove(self, name: str) -> None:
        """Forget a host: close it and drop it (and its guests) from the fleet."""
        host = self.hosts.pop(name, None)
        if host is None:
            return
        host.unsubscribe(self.publish)
        self._apply_focus()
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
