"""`vtui start|shutdown|reboot|reset|destroy|suspend|resume GUEST...`: one action, through
the same core.actions.run_action the TUI uses, on one guest or on several (names and
patterns, through the core's bulk runner: see many.py).

Like virsh, batch mode asks no confirmation (not even for destroy): the command line
is the confirmation. It says on stdout what it did.
"""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from vtui.core.errors import VtuiError

from .many import add_guests_options, single_guest
from .parsing import add_connection_options, new_parser, positive_float

if TYPE_CHECKING:
    from vtui.core.guests import BulkResult
    from vtui.core.host import Host
    from vtui.core.model import Guest

    from .session import Session

# vtui.core.states' names (that module loads libvirt, which a command's parser must not:
# the SSH login starts once the arguments are parsed, before libvirt is loaded)
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
    "start": "Start shut-off guests.",
    "shutdown": "Ask guests to shut down (ACPI); returns at once unless --wait.",
    "reboot": "Ask guests to reboot.",
    "reset": "Reset guests at once, like the reset button (no clean shutdown).",
    "destroy": "Force guests off at once, like pulling the plug. No confirmation.",
    "suspend": "Pause running guests (their vCPUs stop; memory stays allocated).",
    "resume": "Resume paused guests.",
}
_MANY = (
    "\n\nSeveral guests and patterns may be given ('web-*' db1): each is done on its own, "
    "a few at a time per host; each failure is a line on stderr and the status is 1."
)


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
    parser = new_parser(command, _DESCRIPTIONS[command] + _MANY)
    parser.set_defaults(command_name=command)
    add_guests_options(parser)
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

    if not single_guest(args):
        return await _run_on_many(args)
    args.guest = args.guests[0]
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


async def _run_on_many(args: argparse.Namespace) -> int:
    import asyncio
    from dataclasses import replace

    from vtui.core.guests import lifecycle_action, run_bulk

    from .many import open_many, report, select

    command = args.command_name
    action_id, done, final_state = ACTION_COMMANDS[command]
    session = await open_many(args)
    try:
        selection = select(session, args.guests)
        action = lifecycle_action(action_id)
        results = await run_bulk(replace(action, run=_saying(action.run, done)), selection.targets)
        wait = getattr(args, "wait", None)
        if wait and final_state is not None:  # all at once: waiting holds no host's threads
            where = {(t.host.name, t.guest.uuid): t for t in selection.targets}

            async def waited(result: BulkResult) -> BulkResult:
                if not result.ok:
                    return result
                target = where[(result.host, result.uuid)]
                try:
                    await wait_for_state(target.host, target.guest, final_state, wait)
                except VtuiError as exc:
                    return replace(result, ok=False, message=f"{done}, but {exc.message}")
                return replace(result, message=f"{done}; now {final_state}")

            results = list(await asyncio.gather(*(waited(r) for r in results)))
        return report(session, selection, results, args, command)
    finally:
        await session.close()


def _saying(run, done: str):
    """The action, answering with the words this command has always printed."""

    async def saying(host: Host, guest: Guest) -> str:
        await run(host, guest)
        return done

    return saying
