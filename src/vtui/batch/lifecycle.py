"""`vtui start|shutdown|reboot|reset|destroy|suspend|resume GUEST`: one action, through
the same core.actions.run_action the TUI uses.

Like virsh, batch mode asks no confirmation (not even for destroy): the command line
is the confirmation. It says on stdout what it did.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from vtui.core.errors import VtuiError

from .parsing import add_connection_options, new_parser, positive_float

if TYPE_CHECKING:
    from vtui.core.host import Host
    from vtui.core.model import Guest

    from .session import Session

# vtui.core.states' names (that module loads libvirt, which a command's parser must not)
RUNNING, PAUSED, SHUTOFF = "running", "paused", "shut off"

# command -> (core action id, what was done, state it leads to (None: cannot be awaited))
ACTION_COMMANDS: dict[str, tuple[str, str, str | None]] = {
    "start": ("start", "started", RUNNING),
    "shutdown": ("shutdown", "asked to shut down", SHUTOFF),
    "reboot": ("reboot", "asked to reboot", None),
    "reset": ("reset", "reset (hard)", None),
    "destroy": ("destroy", "forced off (destroyed)", SHUTOFF),
    "suspend": ("suspend", "paused", PAUSED),
    "resume": ("resume", "resumed", RUNNING),
}

_DESCRIPTIONS = {
    "start": "Start a shut-off guest.",
    "shutdown": "Ask a guest to shut down (ACPI); returns at once unless --wait.",
    "reboot": "Ask a guest to reboot.",
    "reset": "Reset a guest at once, like the reset button (no clean shutdown).",
    "destroy": "Force a guest off at once, like pulling the plug. No confirmation.",
    "suspend": "Pause a running guest (its vCPUs stop; memory stays allocated).",
    "resume": "Resume a paused guest.",
}


def add_guest_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("guest", metavar="GUEST", help="guest name or UUID")
    parser.add_argument(
        "--host",
        metavar="HOST",
        help="the host the guest is on: the name of a -c/--demo host, a "
        "saved host, ssh target or ~/.ssh/config alias",
    )
    add_connection_options(parser, positional_hosts=False)


def action_parser(command: str) -> argparse.ArgumentParser:
    parser = new_parser(command, _DESCRIPTIONS[command])
    parser.set_defaults(command_name=command)
    add_guest_options(parser)
    if ACTION_COMMANDS[command][2] is not None:
        parser.add_argument(
            "--wait",
            type=positive_float,
            metavar="SECONDS",
            help="wait up to SECONDS until the guest is "
            f"{ACTION_COMMANDS[command][2]} (exit 1 if it is not)",
        )
    return parser


async def open_guest_session(args: argparse.Namespace) -> tuple[Session, Host, Guest]:
    """Connect the hosts the options name and look GUEST up on them (or on --host):
    one lookup per host, not their whole inventory."""
    from .session import Session, add_host_text, build_fleet, finish_fleet

    fleet = build_fleet(args, default=False)
    if args.host is not None:
        if args.host in fleet.hosts:
            # only the named one of the -c hosts is needed
            fleet.hosts = {args.host: fleet.hosts[args.host]}
        else:
            fleet.hosts.clear()
            add_host_text(fleet, args.host, args)
    finish_fleet(fleet, args)
    session = Session(fleet)  # closed by the caller, or by main if this raises
    await session.connect(inventory=False, follow_events=getattr(args, "wait", None) is not None)
    host, guest = await find_guest(session, args.guest, session.connected)
    return session, host, guest


async def find_guest(session: Session, name: str, hosts: list[Host]) -> tuple[Host, Guest]:
    """The one guest called `name` (or with that UUID) on `hosts`, looked up on each at
    once; a clear error if none or several."""
    import asyncio

    from .session import raise_not_found

    found = await asyncio.gather(*(h.lookup(name) for h in hosts), return_exceptions=True)
    matches = []
    for host, result in zip(hosts, found):
        if isinstance(result, VtuiError):
            session.fail(host, result.message)
        elif isinstance(result, BaseException):
            session.fail(host, f"cannot look up {name!r}: {_reason(result)}")
        elif result is not None:
            matches.append((host, result))
    if len(matches) > 1:
        where = ", ".join(sorted(h.name for h, _ in matches))
        raise VtuiError(f"guest {name!r} exists on several hosts ({where}); say which with --host")
    if not matches:
        where = f" on {hosts[0].name}" if len(hosts) == 1 else ""
        raise_not_found(session, f"no guest called {name!r}{where}")
    return matches[0]


def _reason(exc: BaseException) -> str:
    from vtui.core.errors import libvirt_message

    return libvirt_message(exc)


async def wait_for_state(host: Host, guest: Guest, state: str, seconds: float) -> None:
    import asyncio

    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while guest.state != state:
        if guest.uuid not in host.guests:
            if state == SHUTOFF:
                return  # a transient guest is gone once it stops
            raise VtuiError("disappeared", host=host.name, guest=guest.name)
        if loop.time() >= deadline:
            raise VtuiError(
                f"still {guest.state} after {seconds:g} s (wanted {state})",
                host=host.name,
                guest=guest.name,
            )
        await asyncio.sleep(0.2)
        await host.refresh_guest(guest.uuid)  # events update it too; this makes sure


async def run_action_command(args: argparse.Namespace) -> int:
    from vtui.core.guests.lifecycle import run_action

    command = args.command_name
    action_id, done, final_state = ACTION_COMMANDS[command]
    session, host, guest = await open_guest_session(args)
    try:
        await run_action(host, guest, action_id)
        wait = getattr(args, "wait", None)
        if wait and final_state is not None:
            await wait_for_state(host, guest, final_state, wait)
            done += f"; now {final_state}"
        print(f"{guest.name} on {host.name}: {done}", flush=True)
        return 0
    finally:
        await session.close()
