"""`vtui migrate GUEST --to HOST`: the core's migration job (vtui.core.migration: the
same pre-flight checks and job as the TUI), with progress on stderr and the summary
on stdout. Ctrl-C cancels the migration; the guest keeps running on the source.
`--dry-run` runs the checks only; `--json` prints the checks (and the outcome) as one
JSON document (docs/json.md). Several guests or patterns go through the core's bulk
runner, at most --parallel at a time."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING

from vtui.core import units
from vtui.core.errors import VtuiError

from .lifecycle import find_guest
from .many import add_guests_options
from .output import error_line, print_json
from .parsing import EXIT_FAILED, EXIT_UNREACHABLE, UsageError, new_parser, positive_int
from .progress import StatusLine

if TYPE_CHECKING:  # (a command's parser loads no host machinery: see batch/__init__.py)
    from vtui.core.fleet import Fleet
    from vtui.core.host import Host
    from vtui.core.migration import Check, MigrationJob, MigrationOptions
    from vtui.core.model import Guest

    from .session import Session

AT_MOST = 2  # migrations at once by default (core/migration/bulk.py's; not imported here:
# that module loads libvirt, which a command's parser must not)


def migrate_parser() -> argparse.ArgumentParser:
    parser = new_parser(
        "migrate",
        "Move a guest to another host, with progress on stderr.\n\nSeveral guests and "
        "patterns may be given ('web-*' db1): they go at most --parallel at a time, each "
        "failure is a line on stderr and the status is 1.",
    )
    add_guests_options(parser, json=False)
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
        "--dry-run",
        action="store_true",
        help="run the pre-flight checks only and print them (pass/warn/fail, each with "
        "its fix); exit 0 if none fails, 1 otherwise. Nothing is changed",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print the checks and the outcome as one JSON document; with several "
        "guests, their results (see docs/json.md)",
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
    from vtui.core.uri import default_uri

    from .session import add_host_text, build_fleet, finish_fleet

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
    elif not named and list(fleet.hosts.values()) == [dst]:
        fleet.add(default_uri())  # `vtui migrate web --to b`: from here, like virsh
    finish_fleet(fleet, args)
    return fleet, src, dst


async def find_source_guest(
    session: Session, name: str, src: Host | None, dst: Host
) -> tuple[Host, Guest]:
    """The guest on --host, or on every connected host but the destination."""
    from .session import raise_not_found

    hosts = [src] if src is not None else [h for h in session.connected if h is not dst]
    if src is dst or not hosts:
        # the only host given is the destination: the guest cannot come from there
        if dst in session.connected and await dst.lookup(name) is not None:
            raise VtuiError(
                f"{name!r} is already on {dst.name}: name another destination with --to "
                "(and its source with -c or --host)"
            )
        raise_not_found(
            session, f"no guest called {name!r} on a host other than the destination {dst.name}"
        )
    return await find_guest(session, name, hosts)


def options_of(args: argparse.Namespace, guest: Guest) -> MigrationOptions:
    from vtui.core.migration import MigrationOptions

    live = args.live or (not args.offline and guest.active)
    return MigrationOptions(
        live=live,
        copy_storage="full" if args.copy_storage else "none",
        bandwidth_mib=args.bandwidth,
    )


class ProgressLines(StatusLine):
    """A migration's progress on stderr."""

    def __call__(self, job: MigrationJob) -> None:
        if job.done or not self.due():
            return
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
        self.show(text)


def check_lines(checks: list[Check]) -> list[str]:
    """`pass  name: what was found` (and `      fix: what to do` under a warn/fail)."""
    lines = []
    for check in checks:
        lines.append(f"{check.status:<4}  {check.line}")
        if check.fix and check.status != "pass":
            lines.append(f"      fix: {check.fix}")
    return lines


def check_record(check: Check) -> dict:
    return {
        "name": check.name,
        "status": check.status,
        "message": check.message,
        "fix": check.fix or None,
    }


def migrate_document(
    guest: Guest, src: Host, dst: Host, options: MigrationOptions, checks: list[Check]
) -> dict:
    from .records import FORMAT_VERSION

    return {
        "format_version": FORMAT_VERSION,
        "guest": guest.name,
        "uuid": guest.uuid,
        "source": src.name,
        "destination": dst.name,
        "options": options.describe(),
        "checks": [check_record(c) for c in checks],
        "ok": not any(c.status == "fail" for c in checks),
        "migration": None,
        "error": None,
    }


def _one_guest(args: argparse.Namespace) -> bool:
    from vtui.core.guests.selection import is_pattern

    return len(args.guests) == 1 and not is_pattern(args.guests[0])


async def run_migrate(args: argparse.Namespace) -> int:
    from vtui.core.migration import MigrationJobs, MigrationRefused, failures, preflight

    from .session import Session

    if not _one_guest(args):
        if args.dry_run:
            raise UsageError("--dry-run checks one guest: name a single guest")
        return await _migrate_many(args)
    args.guest = args.guests[0]
    fleet, src, dst = migration_fleet(args)
    session = Session(fleet)
    try:
        await session.connect(inventory=False)
        if dst.name in session.failures:
            return EXIT_UNREACHABLE  # already reported
        src_host, guest = await find_source_guest(session, args.guest, src, dst)
        options = options_of(args, guest)
        if args.dry_run:
            checks = await preflight(src_host, guest, dst, options)
            return _report_checks(args, guest, src_host, dst, options, checks)
        try:
            job = await MigrationJobs().start(src_host, guest, dst, options)
        except MigrationRefused as exc:
            if args.json:
                _report_checks(args, guest, src_host, dst, options, exc.checks)
            reasons = "; ".join(c.line for c in failures(exc.checks))
            raise VtuiError(
                f"cannot migrate to {dst.name}: {reasons}", host=src_host.name, guest=guest.name
            ) from None
        if not args.json:
            for check in job.checks:
                if check.status == "warn":
                    error_line(f"warning: {check.line}")
        return await _follow(args, job, guest, src_host, dst)
    finally:
        await session.close()


def _report_checks(
    args: argparse.Namespace,
    guest: Guest,
    src: Host,
    dst: Host,
    options: MigrationOptions,
    checks: list[Check],
) -> int:
    failed = any(c.status == "fail" for c in checks)
    if args.json:
        print_json(migrate_document(guest, src, dst, options, checks))
    else:
        print(f"{guest.name}: {src.name} -> {dst.name} ({options.describe()})")
        for line in check_lines(checks):
            print(line)
        sys.stdout.flush()
    return EXIT_FAILED if failed else 0


async def _follow(
    args: argparse.Namespace, job: MigrationJob, guest: Guest, src: Host, dst: Host
) -> int:
    import asyncio

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
    except VtuiError as exc:
        if args.json:
            document = migrate_document(guest, src, dst, job.options, job.checks)
            document["error"] = job.error
            print_json(document)
        raise exc from None
    finally:
        progress.finish()
    if args.json:
        document = migrate_document(guest, src, dst, job.options, job.checks)
        document["migration"] = {
            "seconds": round(summary.total_seconds, 3),
            "downtime_ms": summary.downtime_ms,
            "data_bytes": summary.data_bytes,
            "memory_bytes": summary.memory_bytes,
            "disk_bytes": summary.disk_bytes,
            "iterations": summary.iterations,
        }
        print_json(document)
        return 0
    # an offline migration moves only the definition: no data, no downtime to speak of
    result = summary.line() if job.options.live else "definition moved"
    print(
        f"{guest.name} migrated from {src.name} to {dst.name} ({job.options.describe()}): {result}",
        flush=True,
    )
    return 0


async def _migrate_many(args: argparse.Namespace) -> int:
    import asyncio

    from vtui.core.guests import run_bulk
    from vtui.core.migration import MigrationJobs, migrate_action

    from .many import report, select
    from .session import Session

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
