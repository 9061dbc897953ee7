"""`vtui snapshot create|list|revert|delete GUEST...`: the core's snapshots
(vtui.core.guests) on one guest or many (names and patterns, see many.py).

    vtui snapshot create 'web-*' --name pre-upgrade [--description TEXT] [--disk-only]
    vtui snapshot list db1 [--json]
    vtui snapshot revert 'web-*' --name pre-upgrade      (or --current)
    vtui snapshot delete 'web-*' --name pre-upgrade [--children]

What a host cannot do (an internal snapshot of a raw disk, reverting an external
snapshot on libvirt before 9.7...) is refused for that guest with the reason; the
others go on. No confirmation, like virsh: the command line is the confirmation.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from vtui.core import units
from vtui.core.guests import (
    EXTERNAL,
    INTERNAL,
    BulkAction,
    BulkResult,
    Snapshot,
    SnapshotRequest,
    list_snapshots,
    revert_outcome,
    revert_snapshot,
    run_bulk,
    snapshot_action,
)
from vtui.core.guests.snapshots import delete_outcome_of, delete_snapshot
from vtui.core.host import Host
from vtui.core.model import Guest

from .many import Selection, add_guests_options, open_many, report, select
from .output import Column, print_json, print_lines, table
from .parsing import EXIT_CODES_HELP, BatchParser, UsageError, new_parser
from .records import FORMAT_VERSION, iso_time
from .session import Session

VERBS = {
    "create": "Take a snapshot of each guest (running ones with their memory, unless --disk-only).",
    "list": "List each guest's snapshots as a tree, the current one marked.",
    "revert": "Revert each guest to a snapshot: what it did since is lost. No confirmation.",
    "delete": "Delete a snapshot of each guest (with its children if asked).",
}
SNAPSHOT_FIELDS = (
    "host",
    "guest",
    "guest_uuid",
    "name",
    "parent",
    "current",
    "created_at",
    "state",
    "kind",
    "location",
    "memory",
    "size_bytes",
    "description",
    "children",
)


class SnapshotParser(BatchParser):
    """`vtui snapshot VERB ...`: the verb picks the parser of the rest."""

    def parse_intermixed_args(self, args=None, namespace=None):
        args = list(args or [])
        if not args:
            raise UsageError(
                f"snapshot: say what to do: {', '.join(VERBS)} (see '{self.prog} --help')"
            )
        if args[0] in ("-h", "--help"):
            self.print_help()
            raise SystemExit(0)
        verb = args[0]
        if verb not in VERBS:
            raise UsageError(f"snapshot: unknown action {verb!r}; one of: {', '.join(VERBS)}")
        parsed = verb_parser(verb).parse_intermixed_args(args[1:])
        parsed.verb = verb
        return parsed


def snapshot_parser() -> argparse.ArgumentParser:
    return SnapshotParser(
        prog="vtui snapshot",
        usage="vtui snapshot {create,list,revert,delete} GUEST... (see 'vtui snapshot VERB --help')",
        description="Snapshots of one guest or many (names, UUIDs, 'web-*' patterns).\n\n"
        + "\n".join(f"  {verb:<7} {text}" for verb, text in VERBS.items()),
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def verb_parser(verb: str) -> argparse.ArgumentParser:
    parser = new_parser(f"snapshot {verb}", VERBS[verb])
    add_guests_options(parser)
    if verb == "create":
        parser.add_argument("--name", metavar="NAME", help="default: the time, e.g. 20250131-1200")
        parser.add_argument("--description", metavar="TEXT", default="")
        memory = parser.add_mutually_exclusive_group()
        memory.add_argument(
            "--disk-only",
            action="store_true",
            help="disks only, no memory (an external snapshot of a running guest)",
        )
        memory.add_argument(
            "--memory", action="store_true", help="with memory (running guests only)"
        )
        where = parser.add_mutually_exclusive_group()
        where.add_argument(
            "--internal", action="store_true", help="inside the qcow2 files (qcow2 disks only)"
        )
        where.add_argument(
            "--external", action="store_true", help="in new overlay files beside the disks"
        )
        parser.add_argument(
            "--quiesce",
            action="store_true",
            help="freeze the guest's filesystems through its agent (with --disk-only)",
        )
    elif verb in ("revert", "delete"):
        which = parser.add_mutually_exclusive_group(required=True)
        which.add_argument("--name", metavar="NAME", help="the snapshot")
        which.add_argument("--current", action="store_true", help="the current snapshot")
        if verb == "delete":
            parser.add_argument(
                "--children", action="store_true", help="and every snapshot below it"
            )
    return parser


def request_of(args: argparse.Namespace) -> SnapshotRequest:
    memory = False if args.disk_only else (True if args.memory else None)
    location = INTERNAL if args.internal else (EXTERNAL if args.external else None)
    return SnapshotRequest(
        name=args.name or "",
        description=args.description,
        memory=memory,
        location=location,
        quiesce=args.quiesce,
    )


def _writable(verb: str) -> Callable[[Host, Guest], str | None]:
    def refuse(host: Host, guest: Guest) -> str | None:
        if host.readonly:
            return f"cannot {verb} {guest.name}: the connection to {host.name} is read-only"
        return None

    return refuse


def revert_action(name: str | None) -> BulkAction:
    async def check(host: Host, guest: Guest) -> str | None:
        return (await revert_outcome(host, guest, name)).refusal

    async def run(host: Host, guest: Guest) -> str:
        outcome = await revert_snapshot(host, guest, name)
        return f"reverted to {outcome.snapshot.name}; now {outcome.state_after}"

    return BulkAction("revert", "revert", True, _writable("revert"), run, check=check)


def delete_snapshot_action(name: str | None, children: bool) -> BulkAction:
    async def check(host: Host, guest: Guest) -> str | None:
        return (await delete_outcome_of(host, guest, name, children=children)).refusal

    async def run(host: Host, guest: Guest) -> str:
        outcome = await delete_snapshot(host, guest, name, children=children)
        first, *below = outcome.removed
        more = f" and {len(below)} below it ({', '.join(below)})" if below else ""
        return f"deleted snapshot {first}{more}"

    refuse = _writable("delete snapshots of")
    return BulkAction("delete-snapshot", "delete snapshot", True, refuse, run, check=check)


async def run_snapshot(args: argparse.Namespace) -> int:
    session = await open_many(args)
    try:
        selection = select(session, args.guests)
        command = f"snapshot {args.verb}"
        if args.verb == "list":
            return await _list(session, selection, args, command)
        if args.verb == "create":
            action = snapshot_action(request_of(args))
        elif args.verb == "revert":
            action = revert_action(None if args.current else args.name)
        else:
            action = delete_snapshot_action(None if args.current else args.name, args.children)
        results = await run_bulk(action, selection.targets)
        return report(session, selection, results, args, command)
    finally:
        await session.close()


async def _list(
    session: Session, selection: Selection, args: argparse.Namespace, command: str
) -> int:
    found: dict[tuple[str, str], list[Snapshot]] = {}

    async def read(host: Host, guest: Guest) -> str:
        found[(host.name, guest.uuid)] = await list_snapshots(host, guest)
        return f"{len(found[(host.name, guest.uuid)])} snapshot(s)"

    reader = BulkAction("list", "list snapshots", False, lambda _h, _g: None, read)
    results: list[BulkResult] = await run_bulk(reader, selection.targets)
    rows = [
        (t.host.name, t.guest, snap)
        for t in selection.targets
        for snap in found.get((t.host.name, t.guest.uuid), [])
    ]
    if args.json:
        failed = [r for r in results if not r.ok]
        print_json(
            {
                "format_version": FORMAT_VERSION,
                "snapshots": [snapshot_record(h, g, s) for h, g, s in rows],
                "errors": session.errors()
                + [{"host": r.host, "uri": None, "message": r.message} for r in failed]
                + [{"host": None, "uri": None, "message": p} for p in selection.problems],
            }
        )
        args.json = False  # the document is out: report() only says the failures
        return report(session, selection, failed, args, command)
    columns = [Column("GUEST"), Column("HOST"), Column("SNAPSHOT"), Column("CREATED")]
    columns += [Column("STATE"), Column("KIND"), Column("SIZE", right=True), Column("DESCRIPTION")]
    print_lines(table(columns, (_row(h, g, s) for h, g, s in rows)))
    return report(session, selection, [r for r in results if not r.ok], args, command)


def _row(host: str, guest: Guest, snap: Snapshot) -> list[str]:
    created = "-"
    if snap.created_at is not None:
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(snap.created_at))
    name = "  " * snap.depth + snap.name + (" *" if snap.current else "")
    size = units.size(snap.size) if snap.size is not None else "-"
    description = " ".join(snap.description.split())
    return [guest.name, host, name, created, snap.state, snap.kind, size, description]


def snapshot_record(host: str, guest: Guest, snap: Snapshot) -> dict:
    return {
        "host": host,
        "guest": guest.name,
        "guest_uuid": guest.uuid,
        "name": snap.name,
        "parent": snap.parent,
        "current": snap.current,
        "created_at": iso_time(snap.created_at),
        "state": snap.state,
        "kind": snap.kind,
        "location": snap.location,
        "memory": snap.memory,
        "size_bytes": snap.size,
        "description": snap.description,
        "children": list(snap.children),
    }
