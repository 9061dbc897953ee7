"""`vtui migrate GUEST --to HOST`: the core's migration job (vtui.core.migration: the
same pre-flight checks and job as the TUI), with progress on stderr and the summary
on stdout. Ctrl-C cancels the migration; the guest keeps running on the source."""

from __future__ import annotations

import argparse
import asyncio
import sys
import time

from vtui.core import units
from vtui.core.errors import VtuiError
from vtui.core.fleet import Fleet
from vtui.core.guests import run_bulk
from vtui.core.host import Host
from vtui.core.migration import (
    WARN,
    MigrationJob,
    MigrationJobs,
    MigrationOptions,
    MigrationRefused,
    failures,
    migrate_action,
    start_migration,
)
from vtui.core.migration.bulk import AT_MOST
from vtui.core.model import Guest
from vtui.core.uri import default_uri

from .many import add_guests_options, report, select, single_guest
from .output import error_line
from .parsing import (
    EXIT_UNREACHABLE,
    new_parser,
    positive_int,
)
from .session import Session, add_host_text, build_fleet, finish_fleet, raise_not_found

PROGRESS_EVERY = 1.0  # seconds between progress lines when stderr is not a terminal


def migrate_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "migrate",
        "Move a guest to another host, with progress on stderr.\n\nSeveral guests and "
        "patterns may be given ('web-*' db1): they go at most --parallel at a time, each "
        "failure is a line on stderr and the status is 1.",
    )
    add_guests_options(parser)
    parser.add_argument(
        "--to",
        required=True,
        metavar="HOST",
        help="destination: the name of a -c host, a saved host, ssh target or ~/.ssh/config alias",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--live",
        action="store_true",
        help="move a running (or paused) guest without stopping it "
        "(the default for a running guest)",
    )
    mode.add_argument(
        "--offline",
        action="store_true",
        help="move only the definition of a shut-off guest (the default for a shut-off guest)",
    )
    parser.add_argument(
        "--copy-storage",
        action="store_true",
        help="copy the disks too, for hosts without shared storage (live only)",
    )
    parser.add_argument(
        "--bandwidth",
        type=positive_int,
        metavar="MiB/s",
        help="limit the migration stream to this many MiB/s",
    )
    parser.add_argument(
        "--parallel",
        type=positive_int,
        default=AT_MOST,
        metavar="N",
        help=f"several guests: at most N migrations at once (default {AT_MOST})",
    )
    return parser


def migration_fleet(args: argparse.Namespace) -> tuple[Fleet, Host | None, Host]:
    """Source candidates and the destination. --host/--to name a -c/--demo host or
    are resolved as saved hosts / ssh targets; no source named: search every -c host,
    or the default URI if none was given."""
    fleet = build_fleet(args, default=False)
    named = dict(fleet.hosts)
    src = named.get(args.host) if args.host else None
    dst = named.get(args.to)
    if args.host and src is None:
        src = add_host_text(fleet, args.host, args)
    if dst is None:
        dst = add_host_text(fleet, args.to, args)
    if src is not None:
        fleet.hosts = {h.name: h for h in (src, dst)}
    elif list(fleet.hosts.values()) == [dst]:
        fleet.add(default_uri())
    finish_fleet(fleet, args)
    return fleet, src, dst


def find_source_guest(session: Session, name: str, src: Host | None, dst: Host) -> Guest:
    hosts = [src] if src is not None else [h for h in session.connected if h is not dst]
    matches = [g for h in hosts for g in h.guests.values() if name in (g.name, g.uuid)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        where = ", ".join(sorted(g.host for g in matches))
        raise VtuiError(f"guest {name!r} exists on several hosts ({where}); say which with --host")
    raise_not_found(
        session, f"no guest called {name!r}" + (f" on {src.name}" if src is not None else "")
    )


def options_of(args: argparse.Namespace, guest: Guest) -> MigrationOptions:
    live = args.live or (not args.offline and guest.active)
    return MigrationOptions(
        live=live,
        copy_storage="full" if args.copy_storage else "none",
        bandwidth_mib=args.bandwidth,
    )


class ProgressLines:
    """Progress on stderr: redrawn in place on a terminal, else a line a second."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self._last = 0.0
        self._drawn = False

    def __call__(self, job: MigrationJob) -> None:
        now = time.monotonic()
        if job.done or (not self.tty and now - self._last < PROGRESS_EVERY):
            return
        self._last = now
        p = job.progress
        text = f"{job.title}: {p.phase}"
        if p.fraction is not None:
            text += (
                f" {p.fraction * 100:.0f}% ({units.size(p.data_processed)} of "
                f"{units.size(p.data_total)})"
            )
        if p.transfer_bps:
            text += f" at {units.size(p.transfer_bps)}/s"
        if p.eta is not None:
            text += f", {p.eta:.0f} s left"
        if self.tty:
            sys.stderr.write("\r\033[K" + text)
            self._drawn = True
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def finish(self) -> None:
        if self._drawn:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


async def run_migrate(args: argparse.Namespace) -> int:
    if not single_guest(args):
        return await _migrate_many(args)
    args.guest = args.guests[0]
    fleet, src, dst = migration_fleet(args)
    session = Session(fleet)
    try:
        await session.connect()
        if dst.name in session.failures:
            return EXIT_UNREACHABLE  # already reported
        guest = find_source_guest(session, args.guest, src, dst)
        src_host = fleet.host_of(guest)
        options = options_of(args, guest)
        try:
            job = await start_migration(src_host, guest, dst, options, jobs=MigrationJobs())
        except MigrationRefused as exc:
            reasons = "; ".join(c.line for c in failures(exc.checks))
            raise VtuiError(
                f"cannot migrate to {dst.name}: {reasons}", host=src_host.name, guest=guest.name
            ) from None
        for check in job.checks:
            if check.status == WARN:
                error_line(f"warning: {check.line}")
        return await _follow(job, guest, src_host, dst)
    finally:
        await session.close()


async def _follow(job: MigrationJob, guest: Guest, src: Host, dst: Host) -> int:
    progress = ProgressLines()
    job.subscribe(progress)
    try:
        summary = await job.wait()
    except asyncio.CancelledError:  # Ctrl-C: stop the migration, not just our view of it
        progress.finish()
        error_line(f"{job.title}: cancelling")
        try:
            await job.cancel()
            await job.wait()
        except VtuiError as exc:
            error_line(str(exc))
        raise
    finally:
        progress.finish()
    # an offline migration moves only the definition: no data, no downtime to speak of
    result = summary.line() if job.options.live else "definition moved"
    print(
        f"{guest.name} migrated from {src.name} to {dst.name} ({job.options.describe()}): {result}",
        flush=True,
    )
    return 0


async def _migrate_many(args: argparse.Namespace) -> int:
    fleet, src, dst = migration_fleet(args)
    session = Session(fleet)
    jobs = MigrationJobs()
    try:
        await session.connect()
        if dst.name in session.failures:
            return EXIT_UNREACHABLE  # already reported
        selection = select(session, args.guests)
        if src is not None:
            selection.targets = [t for t in selection.targets if t.host is src or t.host is dst]
        action = migrate_action(
            dst, at_most=args.parallel, options_for=lambda g: options_of(args, g), jobs=jobs
        )
        try:
            results = await run_bulk(action, selection.targets)
        except asyncio.CancelledError:  # Ctrl-C: stop the migrations, not just our view
            for job in jobs.running():
                error_line(f"{job.title}: cancelling")
                try:
                    await job.cancel()
                    await job.wait()
                except VtuiError as exc:
                    error_line(str(exc))
            raise
        return report(session, selection, results, args, "migrate")
    finally:
        await session.close()
