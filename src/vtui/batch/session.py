"""Picking and connecting the hosts a batch command works on.

Hosts are connected concurrently, each with its own timeout. A host that fails is
reported on stderr (one line) and remembered: the command carries on with the
others and ends with exit status 3. If no host could be connected at all, the
command stops at once with status 3.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import NoReturn

from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.host import Host, HostStatus
from vtui.core.uri import default_uri, demo_uri

from .output import error_line
from .parsing import EXIT_UNREACHABLE, UsageError
from .records import error_record

# The batch commands sample when they want to; the fleet's own sampler stays idle.
IDLE_INTERVAL = 3600.0


class Unreachable(Exception):
    """No host could be connected (already reported): exit status 3."""


def add_host_text(fleet: Fleet, text: str, args: argparse.Namespace) -> Host:
    """A HOST argument (saved name, ssh target, alias) added to the fleet. SSH hosts are
    reached with OpenSSH, as virsh reaches them (core/fleet/openssh.py): unknown host
    keys are refused and no password is asked, batch mode never prompts."""
    from vtui.core.fleet.targets import add_target

    try:
        return add_target(
            fleet,
            text,
            readonly=args.readonly or None,
            ssh_config=args.ssh_config,
            openssh=True,
        )
    except VtuiError as exc:
        raise UsageError(str(exc)) from None


def build_fleet(
    args: argparse.Namespace, hosts: Sequence[str] = (), *, default: bool = True
) -> Fleet:
    """The fleet the options name: -c URIs, --demo, then HOST arguments; else (with
    `default`) the default URI. Unknown host names raise UsageError."""
    fleet = Fleet(interval=IDLE_INTERVAL, readonly=args.readonly)
    for uri in args.connect:
        # SSH URIs: OpenSSH with our options (never a prompt); an empty one is refused
        # there ("no host given") instead of meaning libvirt's default URI
        if "+ssh://" in uri or not uri.strip():
            add_host_text(fleet, uri, args)
        else:
            fleet.add(uri)
    if args.demo:
        fleet.add(demo_uri())
    for text in hosts:
        add_host_text(fleet, text, args)
    if default:
        finish_fleet(fleet, args)
    return fleet


def finish_fleet(fleet: Fleet, args: argparse.Namespace) -> None:
    """The default URI if no host was named; every host gets the --timeout."""
    if not fleet.hosts:
        fleet.add(default_uri())
    for host in fleet.hosts.values():
        host.connect_timeout = args.timeout
        if host.tunnel is not None and hasattr(host.tunnel, "timeout"):
            host.tunnel.timeout = args.timeout  # an SSH tunnel bounds its own network time


@dataclass(eq=False)
class Session:
    fleet: Fleet
    failures: dict[str, str] = field(default_factory=dict)  # host name -> message
    down: set[str] = field(default_factory=set)  # failed and not back yet

    def __post_init__(self) -> None:
        _open_sessions.add(self)

    @property
    def connected(self) -> list[Host]:
        return [
            h
            for h in self.fleet.hosts.values()
            if h.status is HostStatus.CONNECTED and h.name not in self.failures
        ]

    @property
    def live(self) -> list[Host]:
        """Hosts connected now, including any that failed before and came back."""
        return [h for h in self.fleet.hosts.values() if h.status is HostStatus.CONNECTED]

    def fail(self, host: Host, message: str) -> None:
        """Report a host's failure once; the command goes on with the others."""
        self.failures.setdefault(host.name, message)
        if host.name not in self.down:
            self.down.add(host.name)
            error_line(f"{host.name}: {message}")

    def errors(self) -> list[dict]:
        return [
            error_record(self.fleet.hosts[name], message) for name, message in self.failures.items()
        ]

    def exit_code(self, code: int = 0) -> int:
        return code or (EXIT_UNREACHABLE if self.failures else 0)

    async def connect(
        self, *, inventory: bool = True, facts: bool = False, follow_events: bool = False
    ) -> None:
        """Connect every host, reading only what the command needs: the guests
        (`inventory`, one sample), what the host is (`facts`), and lifecycle events
        (`follow_events`: for a command that waits for a state)."""
        for host in self.fleet.hosts.values():
            host.paused = True  # samples are taken by the command, not on a timer
            host.follow_events = follow_events  # (a refresh after each would delay its end)
            host.watch_resources = False  # (no command lists pools or networks live)
        failures = await self.fleet.connect_all(inventory=inventory, facts=facts, start=False)
        for exc in failures:
            failed = self.fleet.hosts.get(exc.host or "")
            if failed is not None:
                self.fail(failed, exc.message)
            else:
                error_line(str(exc))
        if not self.connected:
            raise Unreachable

    async def sample(self) -> None:
        """One fresh sample of every connected host, concurrently."""
        await self._sample(self.connected)
        if not self.connected:
            raise Unreachable

    async def sample_live(self) -> None:
        """Sample every host that is up now (top): hosts that drop are reported once,
        hosts that come back (the core reconnects them) are used again."""
        for host in self.fleet.hosts.values():
            if host.status is HostStatus.CONNECTED and host.name in self.down:
                self.down.discard(host.name)
                error_line(f"{host.name}: reconnected")
            elif host.status is not HostStatus.CONNECTED:
                self.fail(host, host.error or host.status.value)
        await self._sample(self.live)

    async def _sample(self, hosts: list[Host]) -> None:
        results = await asyncio.gather(*(h.sample() for h in hosts), return_exceptions=True)
        for host, result in zip(hosts, results):
            if isinstance(result, VtuiError):
                self.fail(host, result.message)
            elif isinstance(result, BaseException):
                raise result

    async def sample_rates(self, wait: float) -> None:
        """Rates need two samples: connecting took the first, take the second."""
        await asyncio.sleep(wait)
        await self.sample()

    async def details(self) -> None:
        """What hosts fill in after their rows (start times, test-driver vCPUs)."""
        await asyncio.gather(*(h.details_known() for h in self.connected))

    def guest_known(self, name: str) -> bool:
        return any(name in (g.name, g.uuid) for g in self.fleet.guests())

    async def close(self) -> None:
        _open_sessions.discard(self)
        await self.fleet.close()


_open_sessions: set[Session] = set()


def raise_not_found(session: Session, message: str) -> NoReturn:
    """A guest lookup failed. If some hosts could not be searched it may be on one of
    them: that is a connection failure (exit 3), not an answer (exit 1)."""
    if session.failures and "several hosts" not in message:
        error_line(f"{message}; not searched: {', '.join(session.failures)}")
        raise Unreachable
    raise VtuiError(message)


async def close_leftover_sessions() -> None:
    """Whatever way a command ended, close its hosts (threads, connections, tunnels)."""
    for session in list(_open_sessions):
        await session.close()


async def open_session(
    args: argparse.Namespace,
    hosts: Sequence[str] = (),
    *,
    facts: bool = False,
    follow_events: bool = False,
) -> Session:
    session = Session(build_fleet(args, hosts))
    await session.connect(facts=facts, follow_events=follow_events)
    return session
