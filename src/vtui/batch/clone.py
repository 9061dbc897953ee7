"""`vtui clone GUEST NEW_NAME` and `vtui rename GUEST NEW_NAME`: the core's clone and
rename (vtui.core.guests) of one shut-off guest. Clone progress goes to stderr, a disk
at a time; the result is one line on stdout. A failed clone leaves nothing behind."""

from __future__ import annotations

import argparse

from vtui.core import units
from vtui.core.guests import DiskCopy, clone_guest, rename_guest

from .lifecycle import add_guest_options, open_guest_session
from .output import error_line
from .parsing import new_parser
from .progress import StatusLine


def clone_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "clone",
        "Clone a shut-off guest: a new definition with a new UUID and new MAC addresses, "
        "each disk copied in its own pool. The original is not changed.",
    )
    add_guest_options(parser)
    parser.add_argument("new_name", metavar="NEW_NAME", help="the clone's name")
    parser.add_argument(
        "--overlay",
        action="store_true",
        help="instead of copying, give the clone qcow2 overlays backed by the original's "
        "disks (instant; the original must stay shut off and unchanged, like a template)",
    )
    return parser


def rename_parser() -> argparse.ArgumentParser:
    parser = new_parser("rename", "Rename a shut-off guest; its snapshots keep belonging to it.")
    add_guest_options(parser)
    parser.add_argument("new_name", metavar="NEW_NAME", help="the new name")
    return parser


class CopyProgress(StatusLine):
    """The disk being copied, on stderr."""

    def __call__(self, copies: list[DiskCopy]) -> None:
        copying = next((c for c in copies if c.state == "copying"), None)
        if copying is None or not self.due():
            return
        number = copies.index(copying) + 1
        text = f"disk {number}/{len(copies)} {copying.target} -> {copying.volume}"
        if copying.overlay:
            text += ": making the overlay"
        elif copying.fraction is not None:
            text += (
                f": {copying.fraction * 100:.0f}% ({units.size(copying.done)} of "
                f"{units.size(copying.total)})"
            )
        self.show(text)


async def run_clone(args: argparse.Namespace) -> int:
    session, host, guest = await open_guest_session(args)
    progress = CopyProgress()
    try:
        result = await clone_guest(
            host, guest, args.new_name, overlay=args.overlay, on_progress=progress
        )
    finally:
        progress.finish()
        await session.close()
    for note in result.notes:
        error_line(f"warning: {note}")
    how = "overlays on its disks" if args.overlay else f"{len(result.copies)} disk(s) copied"
    macs = f", MAC {', '.join(result.macs)}" if result.macs else ""
    print(
        f"{guest.name} on {host.name}: cloned as {result.name} ({how}; UUID {result.uuid}{macs})",
        flush=True,
    )
    return 0


async def run_rename(args: argparse.Namespace) -> int:
    session, host, guest = await open_guest_session(args)
    try:
        result = await rename_guest(host, guest, args.new_name)
    finally:
        await session.close()
    for note in result.notes:
        error_line(f"warning: {note}")
    kept = f" ({result.snapshots} snapshot(s) kept)" if result.snapshots else ""
    print(f"{result.old_name} on {host.name}: renamed to {result.new_name}{kept}", flush=True)
    return 0
